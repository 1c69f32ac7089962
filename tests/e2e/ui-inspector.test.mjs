// The inspector UI against `framescope serve --demo` in headless Chromium: live rows for every
// transport, filters, details, charts, the CORS panel (checked against Chromium's own CORS
// verdict over CDP), import, keyboard shortcuts, pause/clear and the loss counter.
// Screenshots of each main view go to target/screenshots/ui-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, startServe, launchBrowser, screenshotPath, waitInPage as waitInPageOf } from './support.mjs';

let server;
let browser;
let page;
let chromiumCorsErrors;
const pageErrors = [];

const row = '[data-testid="frame-row"]';

async function setFilter(text) {
  await page.fill('[data-testid="filter-input"]', text);
}

/** The `data-transport` of every row currently in the DOM. */
async function rowTransports() {
  return page.$$eval(row, (rows) => rows.map((element) => element.dataset.transport));
}

/** Waits until `predicate` (run in the page) is true, with a readable failure. */
function waitInPage(predicate, argument, what, timeout = 30_000) {
  return waitInPageOf(page, predicate, argument, what, { failureScreenshot: 'ui-failure', timeout });
}

before(async () => {
  server = await startServe(['--demo']);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  // Chromium's own verdict on every CORS failure of the page, to compare with ours.
  chromiumCorsErrors = [];
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.loadingFailed', (event) => {
    if (event.corsErrorStatus) chromiumCorsErrors.push(event.corsErrorStatus);
  });
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="app-shell"]', { timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('demo traffic is on by default and rows appear live for every transport', async () => {
  await waitInPage(() => document.querySelector('[data-testid="demo-toggle"]')?.getAttribute('aria-pressed') === 'true',
    undefined, 'the demo traffic toggle to be on');
  await waitInPage(() => document.querySelectorAll('[data-testid="frame-row"]').length > 5, undefined, 'live rows');
  for (const [query, transport] of [
    ['transport:http', 'http'],
    ['transport:ws', 'websocket'],
    ['transport:sse', 'eventsource'],
    ['transport:shm', 'shared-memory'],
  ]) {
    await setFilter(query);
    await waitInPage((name) => {
      const rows = [...document.querySelectorAll('[data-testid="frame-row"]')];
      return rows.length > 0 && rows.every((element) => element.dataset.transport === name);
    }, transport, `${transport} rows for ${query}`);
  }
  await setFilter('');
  // Live: the count keeps growing while the demo runs.
  const countOf = async () => Number((await page.textContent('[data-testid="row-count"]')).match(/(\d+) calls/)[1]);
  const first = await countOf();
  await waitInPage((before) => {
    const text = document.querySelector('[data-testid="row-count"]').textContent;
    return Number(text.match(/(\d+) calls/)[1]) > before;
  }, first, 'the call count to grow');
  // The page indicator counts this dashboard's own hook.
  assert.match(await page.textContent('[data-testid="pages-indicator"]'), /\d+ pages?/);
  await page.screenshot({ path: screenshotPath('ui-table'), fullPage: true });
});

test('the table follows new rows until the user scrolls up', async () => {
  const list = page.locator('[data-testid="frame-list"]');
  await waitInPage(() => {
    const list = document.querySelector('[data-testid="frame-list"]');
    return list.scrollHeight > list.clientHeight * 1.5;
  }, undefined, 'more rows than fit', 60_000);
  const atBottom = () => list.evaluate((element) => element.scrollTop + element.clientHeight >= element.scrollHeight - 45);
  await waitInPage(() => {
    const list = document.querySelector('[data-testid="frame-list"]');
    return list.scrollTop + list.clientHeight >= list.scrollHeight - 45;
  }, undefined, 'the table to stick to the bottom');
  await list.hover();
  await page.mouse.wheel(0, -400);
  await page.waitForTimeout(1500);
  assert.equal(await atBottom(), false, 'scrolling up stops following');
  // Only the rows in view are in the DOM.
  const total = Number((await page.textContent('[data-testid="row-count"]')).match(/(\d+) calls/)[1]);
  assert.ok((await page.locator(row).count()) < Math.max(total, 80), 'the table is windowed');
  await list.evaluate((element) => { element.scrollTop = element.scrollHeight; });
  await page.waitForTimeout(1500);
  assert.equal(await atBottom(), true, 'back at the bottom it follows again');
});

test('filters: query language, inline errors and quick toggles', async () => {
  await setFilter('foo:bar');
  await page.waitForSelector('[data-testid="filter-error"]');
  assert.equal(await page.getAttribute('[data-testid="filter-input"]', 'aria-invalid'), 'true');
  assert.match(await page.textContent('[data-testid="filter-error"]'), /unknown filter/);
  await setFilter('transport:ws -method:ticker.*');
  await waitInPage(() => {
    const rows = [...document.querySelectorAll('[data-testid="frame-row"]')];
    return rows.length > 0
      && rows.every((element) => element.dataset.transport === 'websocket'
        && !element.querySelector('.col-method').textContent.startsWith('ticker.'));
  }, undefined, 'websocket rows without ticker.*');
  assert.equal(await page.getAttribute('[data-testid="filter-input"]', 'aria-invalid'), 'false');
  await setFilter('status:error');
  await waitInPage(() => {
    const rows = [...document.querySelectorAll('[data-testid="frame-row"]')];
    return rows.length > 0 && rows.every((element) => ['error', 'timeout', 'invalid'].includes(element.dataset.outcome));
  }, undefined, 'only error rows', 60_000);
  await setFilter('');
  await page.click('[data-testid="toggle-http"]');
  await page.waitForTimeout(400);
  assert.ok(!(await rowTransports()).includes('http'), 'the HTTP toggle hides HTTP rows');
  await page.click('[data-testid="toggle-http"]');
  await page.click('[data-testid="toggle-errors"]');
  await waitInPage(() => [...document.querySelectorAll('[data-testid="frame-row"]')]
    .every((element) => ['error', 'timeout', 'invalid'].includes(element.dataset.outcome)), undefined, 'errors-only toggle');
  await page.click('[data-testid="toggle-errors"]');
  await page.click('[data-testid="toggle-noise"]');
  await page.waitForTimeout(400);
  const methods = await page.$$eval(`${row} .col-method`, (cells) => cells.map((cell) => cell.textContent));
  assert.ok(!methods.some((method) => /(^|\.)(ping|heartbeat)$/i.test(method)), 'no keep-alive calls');
  await page.click('[data-testid="toggle-noise"]');
});

test('details: JSON tree, hex with decoded fields and protobuf, timing, connection', async () => {
  await setFilter('transport:http protocol:jsonrpc2 kind:call');
  await page.waitForSelector(row);
  await page.locator(row).last().click();
  await page.waitForSelector('[data-testid="call-detail"] [data-testid="json-tree"]');
  assert.equal(await page.locator('[data-testid="copy-curl"]').count(), 1);
  assert.equal(await page.locator('[data-testid="copy-fetch"]').count(), 1);
  await page.screenshot({ path: screenshotPath('ui-detail-json'), fullPage: true });
  await page.click('[data-testid="detail-tab-headers"]');
  assert.match(await page.textContent('[data-testid="call-detail"]'), /Content-Type/i);
  await page.click('[data-testid="detail-tab-timing"]');
  // The newest call may still be pending (report.generate takes about a second): the detail
  // updates live when its response arrives. Notifications (log.write) never get a latency,
  // hence kind:call in the filter above.
  await waitInPage(() => /Latency/.test(document.querySelector('[data-testid="call-detail"]').textContent),
    undefined, 'the call\'s latency in the timing tab');
  await page.click('[data-testid="detail-tab-payload"]');

  await setFilter('protocol:cafe kind:call');
  await waitInPage(() => document.querySelectorAll('[data-testid="frame-row"]').length > 0, undefined, '0xCAFE calls');
  await page.locator(row).last().click();
  await page.waitForSelector('[data-testid="call-detail"] [data-testid="hex-dump"]');
  const detail = await page.textContent('[data-testid="call-detail"]');
  assert.match(detail, /0xCAFE/);
  assert.match(detail, /request_id/);
  assert.ok(await page.locator('[data-testid="hex-dump"] .f0').count() >= 2, 'the magic bytes are highlighted');
  await page.waitForSelector('[data-testid="protobuf-tree"]');
  await page.click('[data-testid="detail-tab-connection"]');
  await page.waitForSelector('[data-testid="connection-messages"] tr');
  assert.match(await page.textContent('[data-testid="call-detail"]'), /First event/);
  await page.screenshot({ path: screenshotPath('ui-detail-binary'), fullPage: true });
  await page.click('[data-testid="detail-tab-payload"]');
  await setFilter('');
});

test('the preflight failure shows with the CorsError Chromium reported', async () => {
  await page.click('[data-testid="tab-cors"]');
  await page.waitForSelector('[data-testid="cors-failure"]', { timeout: 60_000 });
  const failure = page.locator('[data-testid="cors-failure"]').first();
  assert.match(await failure.textContent(), /gorpc/);
  assert.match(await failure.textContent(), /preflight/i);
  await failure.locator('[data-testid="cors-probe"]').click();
  await failure.locator('[data-testid="cors-error"]').waitFor({ timeout: 30_000 });
  const shown = (await failure.locator('[data-testid="cors-error"]').textContent()).trim();
  assert.ok(chromiumCorsErrors.length > 0, 'Chromium reported the CORS failure over CDP');
  assert.equal(shown, chromiumCorsErrors[0].corsError);
  assert.match(await failure.locator('[data-testid="cors-fix"]').textContent(), /Access-Control-Allow-Origin/);
  await page.screenshot({ path: screenshotPath('ui-cors'), fullPage: true });
});

test('charts are drawn, show values on hover, and the method table sorts', async () => {
  await page.click('[data-testid="tab-charts"]');
  for (const id of ['latency-chart', 'throughput-chart', 'latency-time-chart', 'waterfall-chart']) {
    await waitInPage((testId) => {
      const canvas = document.querySelector(`[data-testid="${testId}"] canvas`);
      if (!canvas || !canvas.dataset.drawn || canvas.width < 10) return false;
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      const colours = new Set();
      for (let index = 0; index < pixels.length; index += 4 * 7) {
        colours.add((pixels[index] << 16) | (pixels[index + 1] << 8) | pixels[index + 2]);
        if (colours.size > 3) return true;
      }
      return false;
    }, id, `${id} to be drawn`);
  }
  const canvas = page.locator('[data-testid="throughput-chart"] canvas');
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2);
  await page.waitForSelector('[data-testid="throughput-chart"] [data-testid="chart-tooltip"]');
  assert.match(await page.textContent('[data-testid="throughput-chart"] [data-testid="chart-tooltip"]'), /\/s/);
  await page.screenshot({ path: screenshotPath('ui-charts'), fullPage: true });

  await page.click('[data-testid="tab-methods"]');
  await page.waitForSelector('[data-testid="method-stats"] [data-testid="method-row"]');
  const counts = await page.$$eval('[data-testid="method-row"] td:nth-child(2)', (cells) => cells.map((cell) => Number(cell.textContent)));
  assert.deepEqual(counts, [...counts].sort((a, b) => b - a), 'sorted by count, largest first');
  await page.click('[data-testid="method-stats"] th[data-column="Method"]');
  const names = await page.$$eval('[data-testid="method-row"] td:first-child', (cells) => cells.map((cell) => cell.textContent));
  assert.deepEqual(names, [...names].sort(), 'sorted by method name');
  assert.match(await page.textContent('[data-testid="method-stats"] thead'), /p50.*p95.*p99.*Max/);
  await page.screenshot({ path: screenshotPath('ui-methods'), fullPage: true });
  await page.click('[data-testid="tab-charts"]');
});

test('keyboard shortcuts, pause, clear and the loss counter', async () => {
  await page.click('[data-testid="detail-pane"]');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'filter-input');
  await page.keyboard.press('Escape');
  await page.keyboard.press('ArrowDown');
  await page.waitForSelector(`${row}[aria-selected="true"]`);
  await page.waitForSelector('[data-testid="call-detail"]');

  await page.keyboard.press('Control+e');
  assert.equal(await page.getAttribute('[data-testid="pause-button"]', 'aria-pressed'), 'true');
  await page.keyboard.press('Control+l');
  await page.waitForTimeout(1500);
  assert.match(await page.textContent('[data-testid="row-count"]'), /^0 calls/);
  await waitInPage(() => /skipped \(paused\)/.test(document.querySelector('[data-testid="dropped-count"]')?.textContent ?? ''),
    undefined, 'events skipped while paused to be counted');
  await page.click('[data-testid="pause-button"]');
  assert.equal(await page.getAttribute('[data-testid="pause-button"]', 'aria-pressed'), 'false');
  await waitInPage(() => !/^0 calls/.test(document.querySelector('[data-testid="row-count"]').textContent), undefined, 'rows after resuming');

  // A producer reporting drops (here through the hook's public emit API) shows in the counter.
  await page.evaluate(() => globalThis.framescope.emit({ type: 'dropped', count: 7, reason: 'test' }));
  await waitInPage(() => /7 dropped/.test(document.querySelector('[data-testid="dropped-count"]')?.textContent ?? ''),
    undefined, 'the dropped counter');

  await page.click('[data-testid="theme-button"]');
  await page.click('[data-testid="theme-button"]');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.screenshot({ path: screenshotPath('ui-dark'), fullPage: true });
  await page.click('[data-testid="theme-button"]');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), undefined);
});

test('import: NDJSON and HAR files by file picker, with a clear message for a bad file', async () => {
  await page.click('[data-testid="demo-toggle"]');
  assert.equal(await page.getAttribute('[data-testid="demo-toggle"]', 'aria-pressed'), 'false');
  await page.keyboard.press('Control+l');
  const dir = mkdtempSync(path.join(tmpdir(), 'framescope-ui-import-'));
  const capture = path.join(ROOT, 'inspector-core/tests/data/golden/demo-capture.ndjson');
  const lines = readFileSync(capture, 'utf8').split('\n').filter((line) => line.trim()).length;
  await page.setInputFiles('[data-testid="import-input"]', capture);
  await page.waitForSelector('[data-testid="import-done"]');
  assert.match(await page.textContent('[data-testid="import-done"]'), new RegExp(`Imported ${lines} events`));
  await waitInPage(() => document.querySelectorAll('[data-testid="frame-row"]').length > 0, undefined, 'imported rows');

  const bad = path.join(dir, 'bad.ndjson');
  writeFileSync(bad, `${readFileSync(capture, 'utf8').split('\n')[0]}\n{"type": "ws_message", "time_micros": \n`);
  await page.setInputFiles('[data-testid="import-input"]', bad);
  await page.waitForSelector('[data-testid="import-error"]');
  assert.match(await page.textContent('[data-testid="import-error"]'), /bad\.ndjson: line 2, column \d+/);

  await page.keyboard.press('Control+l');
  await page.setInputFiles('[data-testid="import-input"]', path.join(ROOT, 'inspector-core/tests/data/har/chrome-devtools-export.har'));
  await page.waitForSelector('[data-testid="import-done"]');
  await waitInPage(() => document.querySelectorAll('[data-testid="frame-row"]').length > 0, undefined, 'rows from the HAR');
  await page.screenshot({ path: screenshotPath('ui-import'), fullPage: true });

  const junk = path.join(dir, 'notes.txt');
  writeFileSync(junk, 'hello, this is not a capture\n');
  await page.setInputFiles('[data-testid="import-input"]', junk);
  await page.waitForSelector('[data-testid="import-error"]');
  assert.match(await page.textContent('[data-testid="import-error"]'), /not a capture/);
  assert.deepEqual(pageErrors, []);
});
