// The live relay end to end: a page on another origin loads the hook from `framescope serve`
// with the printed token, its capture flows through the relay to a dashboard socket on the
// server's own origin. Also: who is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchBrowser, startServe } from './support.mjs';
import { startHookTestServer } from './hook-server.mjs';

let serve;
let hookUrl;
let pagesServer;
let browser;

before(async () => {
  const dist = mkdtempSync(path.join(tmpdir(), 'framescope-relay-dist-'));
  writeFileSync(path.join(dist, 'index.html'), '<!DOCTYPE html><title>relay test dashboard</title><p>dashboard</p>');
  serve = await startServe(['--dist', dist]);
  // The hook line comes right after the dashboard line.
  for (let i = 0; i < 50 && !/Live capture: .*src="([^"]+)"/.test(serve.output()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  hookUrl = serve.output().match(/Live capture: .*src="([^"]+)"/)[1];
  pagesServer = await startHookTestServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pagesServer?.close();
  await serve?.stop();
});

/** Opens the dashboard origin and a relay dashboard socket that records every message. */
async function openDashboard(context) {
  const page = await context.newPage();
  await page.goto(serve.url);
  await page.evaluate(() => new Promise((resolve, reject) => {
    window.relayMessages = [];
    const socket = new WebSocket(`ws://${location.host}/__framescope/relay/dashboard`);
    socket.onmessage = (message) => window.relayMessages.push(JSON.parse(message.data));
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error('dashboard socket refused'));
    window.relaySocket = socket;
  }));
  return page;
}

async function waitFor(page, predicate, arg, timeoutMillis = 10_000) {
  await page.waitForFunction(predicate, arg, { timeout: timeoutMillis, polling: 50 });
}

test('the printed hook URL carries a 32-hex-digit token and a loopback address', () => {
  assert.match(hookUrl, /^http:\/\/127\.0\.0\.1:\d+\/hook\.js\?token=[0-9a-f]{32}$/);
});

test('hook page -> relay -> dashboard: pages and events arrive, valid and complete; replay for late dashboards', async () => {
  const context = await browser.newContext();
  const dashboard = await openDashboard(context);
  const hookPage = await context.newPage();
  await hookPage.goto(`${pagesServer.origin}/page?relayhook=${encodeURIComponent(hookUrl)}`);
  const app = await hookPage.evaluate(async ({ origin }) => {
    const text = await (await fetch('/text')).text();
    const socket = new WebSocket(origin.replace('http', 'ws') + '/ws/echo');
    socket.binaryType = 'arraybuffer';
    await new Promise((resolve) => { socket.onopen = resolve; });
    const echoes = new Promise((resolve) => {
      let count = 0;
      socket.onmessage = () => { count += 1; if (count === 50) resolve(); };
    });
    for (let i = 0; i < 25; i++) socket.send(`relay-${i}`);
    for (let i = 0; i < 25; i++) socket.send(new Uint8Array([0xca, 0xfe, i]));
    await echoes;
    socket.close(1000, 'test done');
    return { text };
  }, { origin: pagesServer.origin });
  assert.equal(app.text, 'hello text');

  await waitFor(dashboard, () => window.relayMessages.filter((m) => m.type === 'events')
    .flatMap((m) => m.events).filter((e) => e.type === 'ws_close').length === 1);
  const messages = await dashboard.evaluate(() => window.relayMessages);
  const events = messages.filter((m) => m.type === 'events').flatMap((m) => m.events);
  const hookStats = await hookPage.evaluate(() => framescope.stats());

  assert.equal(hookStats.relay.state, 'open');
  assert.equal(hookStats.relay.server_errors, 0, hookStats.relay.last_server_error);
  assert.equal(hookStats.relay.dropped, 0);
  const page = events.find((e) => e.type === 'page');
  assert.equal(page.url, `${pagesServer.origin}/page?relayhook=${encodeURIComponent(hookUrl)}`);
  assert.equal(page.session_id, hookStats.session_id);
  const wsMessages = events.filter((e) => e.type === 'ws_message');
  assert.equal(wsMessages.filter((e) => e.direction === 'sent').length, 50);
  assert.equal(wsMessages.filter((e) => e.direction === 'received').length, 50);
  assert.equal(wsMessages.filter((e) => e.payload.encoding === 'base64').length, 50);
  assert.ok(events.some((e) => e.type === 'http_response' && e.body?.data === 'hello text'));
  assert.ok(!events.some((e) => (e.url || '').includes('/__framescope/')), 'the hook never captures its own relay traffic');

  const pagesMessages = messages.filter((m) => m.type === 'pages');
  assert.ok(pagesMessages.length >= 2, 'a pages list on connect and when the page connected');
  const info = await dashboard.evaluate(async () => (await fetch('/__framescope/info')).json());
  assert.equal(info.pages.length, 1);
  assert.equal(info.pages[0].session_id, hookStats.session_id);
  assert.equal(info.pages[0].events_rejected, 0, 'every event the hook sent matches the Rust schema');
  assert.equal(info.pages[0].events_relayed, hookStats.relay.sent);
  assert.equal(info.demo, false);
  assert.equal(info.demo_endpoints, null);
  assert.match(info.relay.hook, /^ws:\/\/127\.0\.0\.1:\d+\/__framescope\/relay\/hook$/);

  // A dashboard opened later gets the history.
  const late = await openDashboard(context);
  await waitFor(late, (count) => window.relayMessages.filter((m) => m.type === 'events').flatMap((m) => m.events)
    .filter((e) => e.type === 'ws_message').length === count, 100);

  // Closing the page empties the page list.
  await hookPage.close();
  await waitFor(dashboard, () => {
    const lists = window.relayMessages.filter((m) => m.type === 'pages');
    return lists.length > 0 && lists[lists.length - 1].pages.length === 0;
  });
  await context.close();
});

test('refused: hooks without the token, dashboards and info readers from another origin', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${pagesServer.origin}/page`);
  const base = new URL(serve.url);
  const result = await page.evaluate(async ({ host }) => {
    const attempt = (url) => new Promise((resolve) => {
      const socket = new WebSocket(url);
      socket.onopen = () => { socket.close(); resolve('open'); };
      socket.onclose = (event) => resolve(`closed ${event.code}`);
    });
    let info;
    try { info = `read ${(await fetch(`http://${host}/__framescope/info`)).status}`; } catch (error) { info = error.name; }
    return {
      noToken: await attempt(`ws://${host}/__framescope/relay/hook`),
      wrongToken: await attempt(`ws://${host}/__framescope/relay/hook?token=${'0'.repeat(32)}`),
      foreignDashboard: await attempt(`ws://${host}/__framescope/relay/dashboard`),
      info,
    };
  }, { host: base.host });
  assert.deepEqual(result, { noToken: 'closed 1006', wrongToken: 'closed 1006', foreignDashboard: 'closed 1006', info: 'TypeError' });

  const noToken = await new Promise((resolve, reject) => {
    const request = http.request(new URL('/__framescope/relay/hook', serve.url), {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    request.on('response', (response) => { response.resume(); resolve(response.statusCode); });
    request.on('upgrade', () => reject(new Error('upgraded without a token')));
    request.on('error', reject);
    request.end();
  });
  assert.equal(noToken, 401);
  const foreign = await fetch(new URL('/__framescope/info', serve.url), { headers: { origin: 'http://evil.example' } });
  assert.equal(foreign.status, 403);
  const hook = await fetch(new URL('/hook.js', serve.url));
  assert.equal(hook.headers.get('cross-origin-resource-policy'), 'cross-origin');
  assert.equal(hook.headers.get('access-control-allow-origin'), '*');
  assert.match(await hook.text(), /Framescope in-page hook/);
  await context.close();
});

test('without the token the hook captures locally and does not try the relay', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${pagesServer.origin}/page?relayhook=${encodeURIComponent(hookUrl.replace(/\?token=.*/, ''))}`);
  const result = await page.evaluate(async () => {
    const events = [];
    framescope.subscribe((batch) => events.push(...batch));
    await (await fetch('/text')).text();
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { types: events.map((e) => e.type), relay: framescope.stats().relay.state };
  });
  assert.deepEqual(result, { types: ['page', 'http_request', 'http_response'], relay: 'disabled' });
  await context.close();
});

test('relay down: the hook buffers boundedly, retries with backoff, counts drops, and delivers on reconnect', async () => {
  const dist = mkdtempSync(path.join(tmpdir(), 'framescope-relay-dist2-'));
  writeFileSync(path.join(dist, 'index.html'), '<!DOCTYPE html><title>second relay</title>');
  const first = await startServe(['--dist', dist]);
  for (let i = 0; i < 50 && !/Live capture: .*src="([^"]+)"/.test(first.output()); i++) await new Promise((r) => setTimeout(r, 100));
  const firstHook = first.output().match(/Live capture: .*src="([^"]+)"/)[1];
  const context = await browser.newContext();
  const hookPage = await context.newPage();
  await hookPage.goto(`${pagesServer.origin}/page?relayhook=${encodeURIComponent(firstHook)}`);
  await hookPage.waitForFunction(() => framescope.stats().relay.state === 'open');
  await first.stop();
  await hookPage.waitForFunction(() => framescope.stats().relay.reconnects >= 2, null, { timeout: 15_000 });
  const whileDown = await hookPage.evaluate(async () => {
    framescope.configure({ maxRelayBufferedEvents: 20 });
    for (let i = 0; i < 15; i++) await (await fetch(`/text?n=${i}`)).text();
    await new Promise((resolve) => setTimeout(resolve, 100));
    return framescope.stats().relay;
  });
  assert.notEqual(whileDown.state, 'open');
  assert.equal(whileDown.buffered, 20);
  assert.equal(whileDown.dropped, 30 - 20);

  const second = await startServe(['--dist', dist]);
  try {
    for (let i = 0; i < 50 && !/Live capture: .*src="([^"]+)"/.test(second.output()); i++) await new Promise((r) => setTimeout(r, 100));
    const secondHook = second.output().match(/Live capture: .*src="([^"]+)"/)[1];
    const relayUrl = secondHook.replace('http://', 'ws://').replace('/hook.js?', '/__framescope/relay/hook?');
    const dashboardContext = await browser.newContext();
    const dashboard = await dashboardContext.newPage();
    await dashboard.goto(second.url);
    await dashboard.evaluate(() => new Promise((resolve) => {
      window.relayEvents = [];
      const socket = new WebSocket(`ws://${location.host}/__framescope/relay/dashboard`);
      socket.onmessage = (message) => { const data = JSON.parse(message.data); if (data.type === 'events') window.relayEvents.push(...data.events); };
      socket.onopen = resolve;
    }));
    await hookPage.evaluate((url) => framescope.configure({ relayUrl: url }), relayUrl);
    await dashboard.waitForFunction(() => window.relayEvents.some((e) => e.type === 'dropped'), null, { timeout: 10_000 });
    const events = await dashboard.evaluate(() => window.relayEvents);
    assert.equal(events[0].type, 'page', 'the page is announced first on the new connection');
    assert.equal(events.filter((e) => e.type === 'http_request' || e.type === 'http_response').length, 20);
    const dropped = events.find((e) => e.type === 'dropped');
    assert.equal(dropped.count, 10);
    assert.match(dropped.reason, /relay buffer full/);
    await dashboardContext.close();
  } finally {
    await context.close();
    await second.stop();
  }
});
