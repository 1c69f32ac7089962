// The dashboard shell renders in headless Chromium, cross-origin isolated.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServe, launchBrowser, screenshotPath } from './support.mjs';

let server;
let browser;

before(async () => {
  server = await startServe();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('dashboard shell renders every region and is cross-origin isolated', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="app-shell"]', { timeout: 30_000 });
  for (const testId of ['filter-input', 'frame-list', 'detail-pane', 'charts-area', 'cors-panel']) {
    assert.equal(await page.locator(`[data-testid="${testId}"]`).count(), 1, `missing ${testId}`);
  }
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true);
  assert.equal(await page.evaluate(() => typeof SharedArrayBuffer), 'function');
  await page.screenshot({ path: screenshotPath('shell'), fullPage: true });
  assert.deepEqual(errors, []);
});

test('served responses carry COOP and COEP', async () => {
  const response = await fetch(server.url);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(response.headers.get('cross-origin-embedder-policy'), 'require-corp');
});
