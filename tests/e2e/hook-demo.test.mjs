// `framescope serve --demo`: the demo traffic generator drives every demo backend through
// real transports and the hook captures all of it, including a live preflight failure. Also
// checks that the built dashboard loads the hook first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, launchBrowser, startServe } from './support.mjs';

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

function cafeFrames(base64) {
  const bytes = Buffer.from(base64, 'base64');
  return bytes.length >= 4 && bytes[0] === 0xca && bytes[1] === 0xfe ? bytes : null;
}

test('demo traffic reaches every demo backend over real transports and the hook captures it', async () => {
  const dist = mkdtempSync(path.join(tmpdir(), 'framescope-demo-dist-'));
  writeFileSync(path.join(dist, 'index.html'),
    '<!DOCTYPE html><html><head><script src="/hook.js"></script><script src="/demo-traffic.js"></script></head><body>demo</body></html>');
  const serve = await startServe(['--demo', '--dist', dist]);
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  try {
    await page.goto(serve.url);
    const info = await page.evaluate(async () => (await fetch('/__framescope/info')).json());
    assert.equal(info.demo, true);
    assert.notEqual(new URL(info.demo_endpoints.cors_ok).origin, new URL(serve.url).origin);
    await page.evaluate(() => {
      window.captured = [];
      framescope.subscribe((batch) => window.captured.push(...batch));
    });
    assert.equal(await page.evaluate(() => framescopeDemo.running), false);
    assert.equal(await page.evaluate(() => framescopeDemo.start()), true);
    assert.equal(await page.evaluate(() => framescopeDemo.running), true);

    const wanted = {
      jsonrpcHttp: (e, ep) => e.type === 'http_request' && e.url === ep.jsonrpc_http && e.api === 'fetch',
      jsonrpcBatch: (e, ep) => e.type === 'http_request' && e.url === ep.jsonrpc_http && e.body?.data.startsWith('['),
      goXhr: (e, ep) => e.type === 'http_request' && e.url === ep.go_jsonrpc_http && e.api === 'xhr',
      wsNotification: (e) => e.type === 'ws_message' && e.direction === 'received' && e.payload.data.includes('"ticker.update"'),
      wsResponse: (e) => e.type === 'ws_message' && e.direction === 'received' && e.payload.data.includes('"result"'),
      cafeSent: (e) => e.type === 'ws_message' && e.direction === 'sent' && e.payload.encoding === 'base64' && cafeFrames(e.payload.data)?.[3] === 0x01,
      cafeResponse: (e) => e.type === 'ws_message' && e.direction === 'received' && e.payload.encoding === 'base64' && cafeFrames(e.payload.data)?.[3] === 0x02,
      cafePush: (e) => e.type === 'ws_message' && e.direction === 'received' && e.payload.encoding === 'base64' && cafeFrames(e.payload.data)?.[3] === 0x03,
      sse: (e) => e.type === 'sse_message',
      sseNamed: (e) => e.type === 'sse_message' && e.event_type === 'deploy',
      corsOk: (e, ep, all) => e.type === 'http_response' && e.status === 200
        && all.some((r) => r.type === 'http_request' && r.connection_id === e.connection_id && r.url === ep.cors_ok),
      preflightFails: (e, ep, all) => e.type === 'http_failure' && e.error_name === 'TypeError'
        && all.some((r) => r.type === 'http_request' && r.connection_id === e.connection_id && r.url === ep.cors_preflight_fails
          && r.headers.some(([name, value]) => name.toLowerCase() === 'content-type' && value === 'application/json')),
      rpcError: (e) => e.type === 'http_response' && /"code":-32\d{3}/.test(e.body?.data || ''),
    };
    const seen = new Set();
    const deadline = Date.now() + 45_000;
    let events = [];
    while (seen.size < Object.keys(wanted).length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      events = await page.evaluate(() => window.captured);
      for (const [name, matches] of Object.entries(wanted)) {
        if (!seen.has(name) && events.some((e) => matches(e, info.demo_endpoints, events))) seen.add(name);
      }
    }
    assert.deepEqual(Object.keys(wanted).filter((name) => !seen.has(name)), [], 'every kind of demo traffic was captured');
    assert.ok(!events.some((e) => (e.url || '').includes('/__framescope/')));
    const stats = await page.evaluate(() => framescope.stats());
    assert.equal(stats.dropped, 0);
    assert.equal(stats.internal_errors, 0, stats.last_internal_error);

    await page.evaluate(() => framescopeDemo.stop());
    assert.equal(await page.evaluate(() => framescopeDemo.running), false);
    const countAfterStop = await page.evaluate(async () => {
      // Calls in flight at stop() (report.generate takes up to 1.2 s) still complete.
      await new Promise((resolve) => setTimeout(resolve, 1600));
      const settled = window.captured.length;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      return [settled, window.captured.length];
    });
    assert.equal(countAfterStop[1], countAfterStop[0], 'no traffic after stop()');
    assert.deepEqual(pageErrors, []);
  } finally {
    await page.close();
    await serve.stop();
  }
});

test('without --demo, demo traffic does not start and the demo routes do not exist', async () => {
  const dist = mkdtempSync(path.join(tmpdir(), 'framescope-nodemo-dist-'));
  writeFileSync(path.join(dist, 'index.html'),
    '<!DOCTYPE html><html><head><script src="/hook.js"></script><script src="/demo-traffic.js"></script></head><body></body></html>');
  const serve = await startServe(['--dist', dist]);
  const page = await browser.newPage();
  try {
    await page.goto(serve.url);
    assert.equal(await page.evaluate(() => framescopeDemo.start()), false);
    assert.equal(await page.evaluate(() => framescopeDemo.running), false);
    const status = await page.evaluate(async () => (await fetch('/demo/rpc', { method: 'POST', body: '{}' })).status);
    assert.notEqual(status, 200);
  } finally {
    await page.close();
    await serve.stop();
  }
});

test('the built dashboard loads the hook as its first script and keeps its own WASM download out of the capture', async () => {
  const index = path.join(ROOT, 'dist/dashboard/index.html');
  assert.ok(existsSync(index), 'dist/dashboard is built by `./dev build` before the e2e suite');
  const html = readFileSync(index, 'utf8');
  const firstScript = html.match(/<script[^>]*>/)[0];
  assert.match(firstScript, /src="\/hook\.js"/);
  const serve = await startServe(['--demo']);
  const page = await browser.newPage();
  try {
    await page.goto(serve.url);
    await page.waitForFunction(() => typeof globalThis.framescope === 'object');
    // Wait for the app's WASM to be fetched and started.
    await page.waitForFunction(() => performance.getEntriesByType('resource').some((r) => r.name.endsWith('_bg.wasm')), null, { timeout: 30_000 });
    const events = await page.evaluate(async () => {
      const list = [];
      const stop = framescope.subscribe((batch) => list.push(...batch));
      await new Promise((resolve) => setTimeout(resolve, 300));
      stop();
      return list;
    });
    assert.ok(!events.some((e) => (e.url || '').endsWith('_bg.wasm')), 'the dashboard WASM fetch is excluded');
    assert.equal(await page.evaluate(() => typeof globalThis.framescopeDemo.start), 'function');
  } finally {
    await page.close();
    await serve.stop();
  }
});
