// `framescope serve --demo` includes a worker service over shared memory: the dashboard
// (cross-origin isolated) starts it with the demo traffic, the hook captures its mailbox and
// ring channels from the page and the worker, and the Methods tab lists the channels with
// their statistics. Needs the dashboard built (`./dev build`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startServe, screenshotPath } from './support.mjs';

let serve;
let browser;

before(async () => {
  serve = await startServe(['--demo']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await serve?.stop();
});

test('the demo shared-memory service is captured live and shown per channel', async () => {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(serve.url);
  await page.waitForSelector('[data-testid="app-shell"]', { timeout: 30_000 });
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true);
  await page.evaluate(() => {
    window.shmCaptured = [];
    framescope.subscribe((batch) => window.shmCaptured.push(...batch.filter((event) => event.type.startsWith('shm_'))));
  });
  // The dashboard starts the demo itself in demo mode.
  await page.waitForFunction(() => globalThis.framescopeDemo && globalThis.framescopeDemo.running, null, { timeout: 30_000 });
  const wanted = ['demo-bus', 'demo-callback', 'demo-ring-requests', 'demo-ring-responses'];
  const deadline = Date.now() + 40_000;
  let messages = [];
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    messages = await page.evaluate(() => window.shmCaptured.filter((event) => event.type === 'shm_message'));
    if (wanted.every((name) => messages.some((event) => event.channel === name))) break;
  }
  for (const name of wanted) assert.ok(messages.some((event) => event.channel === name), `messages on ${name}`);
  assert.ok(messages.some((event) => event.channel === 'demo-bus' && event.role === 'response' && event.thread === 'worker-1'));
  assert.ok(messages.some((event) => event.channel === 'demo-callback' && event.role === 'request' && event.thread === 'worker-1'));
  const cafe = messages.find((event) => event.channel === 'demo-ring-responses');
  assert.equal(cafe.payload.encoding, 'base64');
  assert.equal(Buffer.from(cafe.payload.data, 'base64')[0], 0xca);

  await page.click('[data-testid="tab-methods"]');
  await page.waitForSelector('[data-testid="shm-channel-row"][data-channel="demo-bus"]', { timeout: 20_000 });
  const rows = await page.$$eval('[data-testid="shm-channel-row"]', (elements) => elements.map((row) => ({
    channel: row.dataset.channel,
    cells: [...row.querySelectorAll('td')].map((cell) => cell.textContent),
  })));
  for (const name of wanted) assert.ok(rows.some((row) => row.channel === name), `row for ${name}: ${JSON.stringify(rows)}`);
  const bus = rows.find((row) => row.channel === 'demo-bus');
  assert.equal(bus.cells[1], 'mailbox');
  assert.match(bus.cells[2], /page/);
  assert.match(bus.cells[2], /worker-1/);
  assert.ok(Number(bus.cells[3]) > 0);
  assert.match(bus.cells[4], /µs|ms/, 'request-to-response latency');
  const ring = rows.find((row) => row.channel === 'demo-ring-requests');
  assert.equal(ring.cells[1], 'ring');
  assert.match(ring.cells[8], /B \(max \d+ B\)/, 'ring occupancy');
  await page.screenshot({ path: screenshotPath('shm-demo'), fullPage: true });
  assert.deepEqual(pageErrors, []);
});
