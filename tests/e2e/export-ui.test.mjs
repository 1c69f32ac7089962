// The dashboard's Export menu and "Copy as websocat" against `framescope serve --demo` in
// headless Chromium: demo traffic flows (one of its JSON-RPC calls carries a bearer token),
// capture is paused, then HAR, session and OTLP exports are downloaded through the menu and
// checked with the real CLI (`framescope analyze --json`): the same calls as the dashboard
// counted, and no secret in any file unless the user unticked "Redact secrets". The websocat
// copy is run through a real shell (with a recording stand-in for websocat, which the machine
// does not have) to check that the message arrives byte for byte.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FRAMESCOPE, startServe, launchBrowser, screenshotPath, waitInPage as waitInPageOf } from './support.mjs';

/** The token static/demo-traffic.js sends as `Authorization: Bearer ...`. */
const DEMO_SECRET = 'demo-bearer-4f9c2e71d8a3';

let server;
let browser;
let context;
let page;
let downloads;
const pageErrors = [];

function waitInPage(predicate, argument, what, timeout = 30_000) {
  return waitInPageOf(page, predicate, argument, what, { failureScreenshot: 'export-ui-failure', timeout });
}

/** Opens the Export menu, clicks `testId`, and saves the download; returns its path and name. */
async function exportVia(testId) {
  await page.click('[data-testid="export-menu"]');
  await page.waitForSelector(`[data-testid="${testId}"]`);
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 30_000 }),
    page.click(`[data-testid="${testId}"]`),
  ]);
  const name = download.suggestedFilename();
  const file = path.join(downloads, `${testId}-${name}`);
  await download.saveAs(file);
  return { file, name, text: readFileSync(file, 'utf8') };
}

function analyze(file) {
  return JSON.parse(execFileSync(FRAMESCOPE, ['analyze', file, '--json'], { encoding: 'utf8' }));
}

async function shownCallCount() {
  const text = await page.textContent('[data-testid="row-count"]');
  const match = text.match(/(\d+) calls/);
  assert.ok(match, `row count text: ${text}`);
  return Number(match[1]);
}

before(async () => {
  downloads = mkdtempSync(path.join(tmpdir(), 'framescope-export-ui-'));
  server = await startServe(['--demo']);
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="app-shell"]', { timeout: 30_000 });
  // Enough traffic for every transport, including the calls that carry the bearer token.
  await waitInPage(() => {
    const text = document.querySelector('[data-testid="row-count"]')?.textContent ?? '';
    const match = text.match(/(\d+) calls/);
    return match && Number(match[1]) >= 40;
  }, undefined, '40 calls of demo traffic', 60_000);
  // The demo picks its calls at random: wait for an `order.get`, which it only sends as a
  // single call with the bearer token.
  await page.fill('[data-testid="filter-input"]', 'transport:http method:order.get');
  await waitInPage(() => /^[1-9]\d* \/ \d+ calls$/.test(document.querySelector('[data-testid="row-count"]')?.textContent ?? ''),
    undefined, 'an order.get call with the bearer token', 120_000);
  await page.fill('[data-testid="filter-input"]', '');
  await page.click('[data-testid="pause-button"]');
  await waitInPage(() => document.querySelector('[data-testid="pause-button"]')?.getAttribute('aria-pressed') === 'true',
    undefined, 'capture to pause');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the menu offers the three formats with redaction on by default', async () => {
  await page.click('[data-testid="export-menu"]');
  for (const id of ['export-har', 'export-session', 'export-otlp']) {
    assert.equal(await page.locator(`[data-testid="${id}"]`).count(), 1, id);
  }
  assert.equal(await page.isChecked('[data-testid="export-redact"]'), true);
  const retention = await page.textContent('[data-testid="export-retention"]');
  assert.match(retention, /^\d+ events retained$/);
  await page.screenshot({ path: screenshotPath('export-ui-menu') });
  await page.click('[data-testid="export-menu"]');
  assert.equal(await page.locator('[data-testid="export-har"]').count(), 0, 'the menu closes');
});

test('a session file holds every call the dashboard shows, and no secret', async () => {
  const shown = await shownCallCount();
  const { file, name, text } = await exportVia('export-session');
  assert.match(name, /^framescope-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.framescope\.json$/);
  assert.ok(text.startsWith('{"format":"framescope-session"'), text.slice(0, 80));
  assert.ok(!text.includes(DEMO_SECRET), 'the bearer token leaked into the session file');
  assert.ok(text.includes('Bearer [REDACTED]'), 'the demo traffic carried an Authorization header');
  const report = analyze(file);
  assert.equal(report.format, 'session');
  assert.equal(report.calls.length, shown, 'calls in the session file vs. the dashboard');
  const notice = await page.textContent('[data-testid="notice"]');
  assert.match(notice, /Exported framescope-.*\.framescope\.json \(secrets redacted\)/);
});

test('HAR and OTLP exports hold the calls their formats can carry, and no secret', async () => {
  const session = analyze((await exportVia('export-session')).file);
  const byTransport = (calls) => {
    const counts = {};
    for (const call of calls) counts[call.transport] = (counts[call.transport] ?? 0) + 1;
    return counts;
  };
  const all = byTransport(session.calls);
  assert.ok(all.http > 0 && all.websocket > 0, JSON.stringify(all));

  const har = await exportVia('export-har');
  assert.match(har.name, /^framescope-.*\.har$/);
  assert.ok(!har.text.includes(DEMO_SECRET), 'the bearer token leaked into the HAR file');
  const harLog = JSON.parse(har.text).log;
  assert.equal(harLog.creator.name, 'Framescope');
  const harReport = analyze(har.file);
  assert.equal(harReport.format, 'har');
  // HAR has no place for shared-memory channels (the export says so); everything else is
  // the same, per transport.
  const expected = { ...all };
  delete expected['shared-memory'];
  assert.deepEqual(byTransport(harReport.calls), expected);
  const notice = await page.textContent('[data-testid="notice"]');
  assert.match(notice, /HAR cannot hold/);

  const otlp = await exportVia('export-otlp');
  assert.match(otlp.name, /^framescope-.*\.otlp\.json$/);
  assert.ok(!otlp.text.includes(DEMO_SECRET), 'the bearer token leaked into the OTLP file');
  const spans = JSON.parse(otlp.text).resourceSpans
    .flatMap((resource) => resource.scopeSpans)
    .flatMap((scope) => scope.spans);
  // One INTERNAL root span per page session, one CLIENT span (kind 3) per call.
  const clientSpans = spans.filter((span) => span.kind === 3);
  assert.equal(clientSpans.length, session.calls.length, 'one CLIENT span per call');
  assert.ok(spans.some((span) => span.name === 'framescope session'), 'a root span per session');
  // Failed calls (and only they) are ERROR spans.
  const failed = session.calls.filter((call) => ['error', 'timeout', 'invalid'].includes(call.outcome)).length;
  assert.equal(clientSpans.filter((span) => span.status?.code === 2).length, failed, 'ERROR spans');
});

test('unticking "Redact secrets" exports the token as captured (so the checks above can fail)', async () => {
  await page.click('[data-testid="export-menu"]');
  await page.uncheck('[data-testid="export-redact"]');
  await page.click('[data-testid="export-menu"]');
  try {
    const raw = await exportVia('export-session');
    assert.ok(raw.text.includes(`Bearer ${DEMO_SECRET}`), 'the unredacted file holds the token');
  } finally {
    await page.click('[data-testid="export-menu"]');
    await page.check('[data-testid="export-redact"]');
    await page.click('[data-testid="export-menu"]');
  }
  assert.equal(await page.evaluate(() => localStorage.getItem('framescope.redact')), 'on');
});

test('"only the connections of the rows shown" exports what the filter shows', async () => {
  await page.click('[data-testid="mode-calls"]');
  await page.fill('[data-testid="filter-input"]', 'transport:http method:order.get');
  await waitInPage(() => /^\d+ \/ \d+ calls$/.test(document.querySelector('[data-testid="row-count"]')?.textContent ?? ''),
    undefined, 'a filtered row count');
  const [shown] = (await page.textContent('[data-testid="row-count"]')).match(/\d+/).map(Number);
  assert.ok(shown > 0, 'order.get calls were captured');
  await page.click('[data-testid="export-menu"]');
  await page.check('[data-testid="export-filtered"]');
  await page.click('[data-testid="export-menu"]');
  const subset = analyze((await exportVia('export-session')).file);
  // HTTP exchanges are one connection each, and the demo never batches order.get: exactly
  // the calls shown.
  assert.equal(subset.calls.length, shown, JSON.stringify(subset.methods));
  assert.ok(subset.calls.every((call) => call.method === 'order.get' && call.transport === 'http'));
  const notice = await page.textContent('[data-testid="notice"]');
  assert.match(notice, /connection\(s\) of the rows shown/);
  await page.click('[data-testid="export-menu"]');
  await page.uncheck('[data-testid="export-filtered"]');
  await page.click('[data-testid="export-menu"]');
  await page.fill('[data-testid="filter-input"]', '');
});

test('copy as websocat sends the selected WebSocket message byte for byte', async () => {
  await page.fill('[data-testid="filter-input"]', 'transport:ws protocol:jsonrpc2');
  await page.click('[data-testid="mode-frames"]');
  await waitInPage(() => document.querySelectorAll('[data-testid="frame-row"]').length > 0, undefined, 'WebSocket frames');
  // A frame the page sent: its text is what websocat must send again.
  const sentRow = page.locator('[data-testid="frame-row"]').filter({ hasText: '↑' }).first();
  await sentRow.click();
  await page.waitForSelector('[data-testid="copy-websocat"]');
  await page.click('[data-testid="copy-websocat"]');
  await waitInPage(() => /Copied websocat command/.test(document.querySelector('[data-testid="notice"]')?.textContent ?? ''),
    undefined, 'the copy notice');
  const command = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(command, /^printf '%s\\n' '.*' \| websocat --linemode-strip-newlines .*'ws:\/\/127\.0\.0\.1:\d+\/[^']*'$/s, command);

  // Run it in a real shell with a websocat that records its arguments and standard input.
  const bin = mkdtempSync(path.join(tmpdir(), 'framescope-websocat-'));
  const recorded = path.join(bin, 'stdin');
  const argv = path.join(bin, 'argv');
  writeFileSync(path.join(bin, 'websocat'),
    `#!/bin/sh\nprintf '%s\\n' "$@" > '${argv}'\ncat > '${recorded}'\n`);
  chmodSync(path.join(bin, 'websocat'), 0o755);
  execFileSync('sh', ['-c', command], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  const args = readFileSync(argv, 'utf8').trimEnd().split('\n');
  assert.equal(args[0], '--linemode-strip-newlines');
  assert.match(args.at(-1), /^ws:\/\/127\.0\.0\.1:\d+\//);
  // Line mode with stripped newlines: the message is the line without its newline.
  const message = readFileSync(recorded, 'utf8').replace(/\n$/, '');
  const shownPayload = JSON.parse(message);
  assert.equal(shownPayload.jsonrpc ?? shownPayload[0]?.jsonrpc, '2.0', message);
  // The same bytes the page sent, as the (unredacted) session file holds them.
  await page.click('[data-testid="export-menu"]');
  await page.uncheck('[data-testid="export-redact"]');
  await page.click('[data-testid="export-menu"]');
  let raw;
  try {
    raw = await exportVia('export-session');
  } finally {
    await page.click('[data-testid="export-menu"]');
    await page.check('[data-testid="export-redact"]');
    await page.click('[data-testid="export-menu"]');
  }
  const sentTexts = raw.text.split('\n')
    .filter((line) => line.includes('"type":"ws_message"') && line.includes('"direction":"sent"'))
    .map((line) => JSON.parse(line.replace(/,$/, '')).payload.data);
  assert.ok(sentTexts.includes(message), `${message} is not a message the page sent`);
  assert.deepEqual(pageErrors, []);
});

test('copy as websocat of a message the server sent only reopens the connection', async () => {
  await page.fill('[data-testid="filter-input"]', 'transport:ws protocol:jsonrpc2');
  await waitInPage(() => document.querySelectorAll('[data-testid="frame-row"]').length > 0, undefined, 'WebSocket frames');
  await page.locator('[data-testid="frame-row"]').filter({ hasText: '↓' }).first().click();
  await page.click('[data-testid="copy-websocat"]');
  await waitInPage(() => /Copied websocat command/.test(document.querySelector('[data-testid="notice"]')?.textContent ?? ''),
    undefined, 'the copy notice');
  const command = await page.evaluate(() => navigator.clipboard.readText());
  const lines = command.split('\n');
  assert.match(lines[0], /^# The selected message came from the server/);
  assert.match(lines[1], /^websocat 'ws:\/\/127\.0\.0\.1:\d+\/[^']*'$/, command);
});

test('Clear empties what an export holds', async () => {
  await page.fill('[data-testid="filter-input"]', '');
  await page.click('[data-testid="clear-button"]');
  await waitInPage(() => /^0 (calls|frames)$/.test(document.querySelector('[data-testid="row-count"]')?.textContent ?? ''),
    undefined, 'an empty table after Clear');
  await page.click('[data-testid="export-menu"]');
  assert.equal(await page.textContent('[data-testid="export-retention"]'), '0 events retained');
  await page.click('[data-testid="export-menu"]');
  const { file, text } = await exportVia('export-session');
  assert.ok(!text.includes('"type":"http_request"'), 'no event survived Clear');
  assert.equal(analyze(file).calls.length, 0);
});
