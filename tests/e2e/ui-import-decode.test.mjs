// Importing by drag and drop (a real DataTransfer drop with a File built from a checked-in
// capture), a bad file's message, and decode-as: choosing a preset for a connection
// re-decodes its rows, and the choice is remembered across a reload. Against
// `framescope serve` (no demo traffic, so the rows are exactly the file's) in headless
// Chromium. Screenshots go to target/screenshots/ui-drop-import.png and ui-decode-as-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startServe, launchBrowser, screenshotPath, waitInPage as waitInPageOf } from './support.mjs';

const GOLDEN = path.join(ROOT, 'inspector-core/tests/data/golden');
const CAPTURE_NAME = 'demo-capture.ndjson';
const CAPTURE_TEXT = readFileSync(path.join(GOLDEN, CAPTURE_NAME), 'utf8');
/** The core's checked-in expectation for the same capture. */
const EXPECTED = JSON.parse(readFileSync(path.join(GOLDEN, 'demo-capture.expected.json'), 'utf8'));
const EXPECTED_CALLS = EXPECTED.calls.length;
const CAFE_CALLS = EXPECTED.calls.filter((call) => call.protocol === 'cafe').length;
const CAFE_CONNECTION = EXPECTED.calls.find((call) => call.protocol === 'cafe').connection_id;
const EVENT_LINES = CAPTURE_TEXT.split('\n').filter((line) => line.trim()).length;

let server;
let browser;
let page;
const pageErrors = [];

function waitInPage(predicate, argument, what, timeout = 30_000) {
  return waitInPageOf(page, predicate, argument, what, { failureScreenshot: 'ui-decode-failure', timeout });
}

/** Drops a file named `name` holding `text` on the app, as a user dragging it from a file
 * manager would: dragover (the drop hint shows), then drop, with a real DataTransfer. */
async function dropFile(name, text) {
  await page.evaluate(({ name, text }) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], name, { type: 'application/x-ndjson' }));
    globalThis.__dropTransfer = transfer;
    const shell = document.querySelector('[data-testid="app-shell"]');
    shell.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, { name, text });
  await page.waitForSelector('.fs-drop-hint');
  await page.evaluate(() => {
    const shell = document.querySelector('[data-testid="app-shell"]');
    shell.dispatchEvent(new DragEvent('drop', { dataTransfer: globalThis.__dropTransfer, bubbles: true, cancelable: true }));
  });
}

async function setFilter(text) {
  await page.fill('[data-testid="filter-input"]', text);
}

async function rowCount() {
  return page.textContent('[data-testid="row-count"]');
}

/** Waits for the row count text to read `expected` (e.g. "15 / 63 calls"). */
async function waitForCount(expected, what) {
  await waitInPage((text) => document.querySelector('[data-testid="row-count"]')?.textContent === text,
    expected, `${what}: row count "${expected}"`);
}

/** Opens the decode-as tab of the first row in view and returns the "Now: ..." label. */
async function openDecodeAs() {
  await page.click('[data-testid="frame-row"]');
  await page.click('[data-testid="detail-tab-decode-as"]');
  await page.waitForSelector('[data-testid="decode-as-preset"]');
  return page.textContent('[data-testid="decode-as"] > span');
}

async function importByDrop() {
  await dropFile(CAPTURE_NAME, CAPTURE_TEXT);
  await page.waitForSelector('[data-testid="import-done"]');
  assert.equal(await page.textContent('[data-testid="import-done"]'),
    `Imported ${EVENT_LINES} events from ${CAPTURE_NAME}`);
}

before(async () => {
  server = await startServe();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="app-shell"]', { timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a capture dropped on the app is imported: every call of the file is a row', async () => {
  await waitForCount('0 calls', 'an empty table');
  await importByDrop();
  await waitForCount(`${EXPECTED_CALLS} calls`, 'the imported calls');
  assert.ok(await page.locator('[data-testid="frame-row"]').count() > 0);
  // The drop hint is gone once the file is dropped.
  assert.equal(await page.locator('.fs-drop-hint').count(), 0);
  await page.screenshot({ path: screenshotPath('ui-drop-import'), fullPage: true });
});

test('a bad file dropped on the app gets a message naming the line, and keeps the rows before it', async () => {
  const lines = CAPTURE_TEXT.split('\n');
  const broken = `${lines[0]}\n${lines[1]}\n{"v": 1, "type": "ws_message", "time_micros": \n`;
  await dropFile('broken.ndjson', broken);
  await page.waitForSelector('[data-testid="import-error"]');
  const message = await page.textContent('[data-testid="import-error"]');
  assert.match(message, /^Cannot import broken\.ndjson: line 3, column \d+/);
  assert.match(message, /\(2 events before it were imported\)/);
  await page.screenshot({ path: screenshotPath('ui-drop-bad-file'), fullPage: true });
  // Not a capture at all.
  await dropFile('notes.ndjson', 'these are meeting notes, not a capture\n');
  await waitInPage(() => /Cannot import notes\.ndjson: not a capture/.test(
    document.querySelector('[data-testid="import-error"]')?.textContent ?? ''), undefined, 'the not-a-capture message');
  assert.deepEqual(pageErrors, []);
});

test('decode-as: a preset re-decodes the connection\'s rows and is remembered after a reload', async () => {
  await page.keyboard.press('Control+l');
  await waitForCount('0 calls', 'a cleared table');
  await importByDrop();
  await setFilter(`conn:${CAFE_CONNECTION} protocol:cafe`);
  await waitForCount(`${CAFE_CALLS} / ${EXPECTED_CALLS} calls`, 'the 0xCAFE calls, auto-detected');
  // Auto-detection found the 0xCAFE layout.
  assert.match(await openDecodeAs(), /^Now: binary layout “0xCAFE” \(BigEndian\)\./);

  // Raw: the connection's frames are no longer 0xCAFE calls.
  await page.selectOption('[data-testid="decode-as-preset"]', 'raw');
  await waitInPage((connection) => document.querySelector('[data-testid="notice"]')?.textContent === `Decoding ${connection} as raw`,
    CAFE_CONNECTION, 'the decode-as confirmation');
  // The details stay on the connection, now decoded as raw.
  await waitInPage(() => /^Now: raw\./.test(document.querySelector('[data-testid="decode-as"] > span')?.textContent ?? ''),
    undefined, 'the connection\'s decode-as label');
  await waitInPage(() => /^0 \/ \d+ calls$/.test(document.querySelector('[data-testid="row-count"]').textContent),
    undefined, 'no 0xCAFE calls left on the connection');
  await setFilter(`conn:${CAFE_CONNECTION}`);
  await page.click('[data-testid="mode-frames"]');
  await waitInPage(() => {
    const rows = [...document.querySelectorAll('[data-testid="frame-row"]')];
    return rows.length > 0 && rows.every((row) => row.querySelector('.col-outcome').textContent === 'raw');
  }, undefined, 'the connection\'s frames decoded as raw');
  await page.screenshot({ path: screenshotPath('ui-decode-as-raw'), fullPage: true });

  // Remembered: after a reload the same capture imports with the raw choice applied.
  await page.reload();
  await page.waitForSelector('[data-testid="app-shell"]');
  await importByDrop();
  await setFilter(`conn:${CAFE_CONNECTION} protocol:cafe`);
  await waitInPage(() => /^0 \/ \d+ calls$/.test(document.querySelector('[data-testid="row-count"]').textContent),
    undefined, 'the raw choice applied after the reload');
  // Raw frames make no calls: the connection is reached through its frames.
  await setFilter(`conn:${CAFE_CONNECTION}`);
  await page.click('[data-testid="mode-frames"]');
  assert.match(await openDecodeAs(), /^Now: raw\./);

  // The 0xCAFE preset brings the calls back, request ids paired again.
  await page.selectOption('[data-testid="decode-as-preset"]', 'cafe');
  await page.click('[data-testid="mode-calls"]');
  await setFilter(`conn:${CAFE_CONNECTION} protocol:cafe`);
  await waitForCount(`${CAFE_CALLS} / ${EXPECTED_CALLS} calls`, 'the 0xCAFE calls after choosing the preset');
  await waitInPage(() => [...document.querySelectorAll('[data-testid="frame-row"]')]
    .every((row) => row.querySelector('.col-id').textContent !== ''), undefined, 'request ids on the 0xCAFE rows');
  await page.screenshot({ path: screenshotPath('ui-decode-as-cafe'), fullPage: true });

  await page.reload();
  await page.waitForSelector('[data-testid="app-shell"]');
  await importByDrop();
  await setFilter(`conn:${CAFE_CONNECTION} protocol:cafe`);
  await waitForCount(`${CAFE_CALLS} / ${EXPECTED_CALLS} calls`, 'the 0xCAFE calls after a second reload');
  assert.match(await openDecodeAs(), /^Now: binary layout “0xCAFE” \(BigEndian\)\./);
  assert.deepEqual(pageErrors, []);
});

test('free text in the filter box finds calls by their payloads', async () => {
  await setFilter('');
  await page.click('[data-testid="mode-calls"]');
  // "ken@example.test" is only in a user.get response body, not in any method or id.
  const needle = 'ken@example.test';
  const holders = EXPECTED.calls.length;
  assert.ok(CAPTURE_TEXT.includes(needle));
  await setFilter(`"${needle}"`);
  await waitInPage(() => /^[1-9]\d* \/ \d+ calls$/.test(document.querySelector('[data-testid="row-count"]').textContent),
    undefined, 'calls whose payload holds the text');
  const methods = await page.$$eval('[data-testid="frame-row"] .col-method', (cells) => cells.map((cell) => cell.textContent));
  assert.ok(methods.length > 0 && methods.every((method) => method === 'user.get'), `rows: ${methods}`);
  assert.ok(methods.length < holders);
});
