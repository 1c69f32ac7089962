// The unpacked extension in headless Chromium: a page's fetch, WebSocket, shared-memory
// (SharedArrayBuffer + Atomics to a worker) and failing cross-origin calls, during load and later, reach the panel (opened as
// panel.html?tabId=N), the very first request of the load included; the refused call shows
// the CorsError from the preflight the extension observed; forged page messages go nowhere;
// a service-worker restart loses nothing that was acknowledged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { screenshotPath } from './support.mjs';
import {
  currentWorker,
  launchWithExtension,
  openPanel,
  startOrigins,
  stopServiceWorker,
  storedEvents,
  tabIdOf,
} from './extension-support.mjs';

let origins;
let browser;

/** The test page: calls in its very first inline script, and `later()` / `forge()` hooks. */
function testPage(apiOrigin, closedOrigin) {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>extension test page</title>
<script>
  // The very first thing the page does: one fetch. It must reach the panel.
  window.loadResults = {};
  fetch('/rpc', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'load.first', id: 1 }),
  }).then((response) => response.json()).then((json) => { loadResults.first = json.result.method; });

  // Whatever this page can see of the extension's handover.
  window.pageSaw = { handoffEvents: 0, handoffPorts: 0 };
  addEventListener('framescope:relay-port', (event) => {
    pageSaw.handoffEvents += 1;
    pageSaw.handoffPorts += event.ports ? event.ports.length : 0;
  }, true);

  const API = ${JSON.stringify(apiOrigin)};
  function rpc(url, method, id, extraHeaders) {
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...extraHeaders },
      body: JSON.stringify({ jsonrpc: '2.0', method, id }),
    }).then((response) => response.json()).then((json) => json.result.method, (error) => error.name + ': ' + error.message);
  }
  window.socket = new WebSocket('ws://' + location.host + '/ws');
  window.socketReplies = [];
  socket.onmessage = (event) => socketReplies.push(JSON.parse(event.data).result.method);
  socket.onopen = () => socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'load.ws', id: 2 }));
  // A seed-style shared-memory bus to a worker (mailbox layout), named for the inspector.
  const bus = new SharedArrayBuffer(4096);
  globalThis.framescope?.registerSharedChannel(bus, { name: 'bus', layout: 'mailbox' });
  const busWorker = new Worker('/shm-worker.js');
  busWorker.postMessage({ buffer: bus });
  window.shmCall = async (method, id) => {
    const i32 = new Int32Array(bus);
    const u8 = new Uint8Array(bus);
    const request = new TextEncoder().encode(JSON.stringify({ jsonrpc: '2.0', method, id }));
    u8.set(request, 8);
    Atomics.store(i32, 1, request.length);
    Atomics.store(i32, 0, 1);
    Atomics.notify(i32, 0);
    while (Atomics.load(i32, 0) === 1) {
      const waited = Atomics.waitAsync(i32, 0, 1, 5000);
      if (waited.async) await waited.value;
    }
    const reply = JSON.parse(new TextDecoder().decode(u8.slice(8, 8 + Atomics.load(i32, 1))));
    Atomics.store(i32, 0, 0);
    return reply.result.method;
  };
  shmCall('load.shm', 5).then((r) => { loadResults.shm = r; });
  rpc(API + '/cors-refused', 'load.refused', 3, { 'x-rpc-method': 'Load.Refused' }).then((r) => { loadResults.refused = r; });
  rpc(API + '/cors-ok', 'load.crossOk', 4, { 'x-rpc-method': 'Load.CrossOk' }).then((r) => { loadResults.crossOk = r; });
  // A server that is not there: the preflight itself fails at the network level.
  rpc(${JSON.stringify(closedOrigin)} + '/down', 'load.down', 6, { 'x-rpc-method': 'Load.Down' }).then((r) => { loadResults.down = r; });

  window.later = async () => {
    const results = {};
    results.same = await rpc('/rpc', 'later.same', 11, {});
    socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'later.ws', id: 12 }));
    results.refused = await rpc(API + '/cors-refused', 'later.refused', 13, { 'x-rpc-method': 'Later.Refused' });
    results.crossOk = await rpc(API + '/cors-ok', 'later.crossOk', 14, { 'x-rpc-method': 'Later.CrossOk' });
    results.shm = await shmCall('later.shm', 15);
    return results;
  };

  // Everything a page could try to push events into the extension without the hook.
  window.forge = () => {
    const forged = [{ v: 1, session_id: 'forged-session', connection_id: 'forged-1',
      time_micros: Date.now() * 1000, type: 'http_request', api: 'fetch', method: 'POST',
      url: 'http://forged.invalid/rpc', headers: [] }];
    const channel = new MessageChannel();
    const handoff = new MessageEvent('framescope:relay-port', {
      data: 'framescope-relay-port-v1', ports: [channel.port2], cancelable: true });
    dispatchEvent(handoff);
    channel.port1.postMessage(forged);
    postMessage(forged, '*');
    postMessage({ type: 'batch', relayId: 'forged', seq: 1, events: forged }, '*');
    document.dispatchEvent(new CustomEvent('framescope:relay-port', { detail: forged }));
    return handoff.defaultPrevented;
  };
</script></head>
<body><h1>extension test page</h1><iframe src="/frame"></iframe></body></html>`;
}

/** A page that sends 60 binary WebSocket messages of 60 KB, paced so each is its own batch. */
const floodPage = `<!DOCTYPE html><title>flood</title><script>
  window.flood = new Promise((resolve) => {
    const socket = new WebSocket('ws://' + location.host + '/ws');
    socket.binaryType = 'arraybuffer';
    let echoed = 0;
    socket.onmessage = () => { echoed += 1; if (echoed === 60) resolve(echoed); };
    socket.onopen = async () => {
      for (let i = 0; i < 60; i += 1) {
        const bytes = new Uint8Array(60 * 1024);
        for (let j = 0; j < bytes.length; j += 1) bytes[j] = (i * 31 + j * 7) & 0xff;
        socket.send(bytes);
        await new Promise((wait) => setTimeout(wait, 15));
      }
    };
  });
</script>`;

before(async () => {
  // startOrigins reads `pages` on every request, so the page can name the API's origin.
  const pages = {};
  origins = await startOrigins(pages);
  const closed = await closedPortOrigin();
  pages['/app'] = () => testPage(origins.apiOrigin, closed);
  pages['/flood'] = floodPage;
  // A same-origin frame: the hook and relay run in every frame.
  pages['/frame'] = `<!DOCTYPE html><script>
    fetch('/rpc', { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method: 'frame.first', id: 21 }) });
  </script>`;
  browser = await launchWithExtension();
});

after(async () => {
  await browser?.context.close();
  await origins?.close();
});

/** An origin on a loopback port where nothing listens (bound, then closed). */
async function closedPortOrigin() {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

function httpRequests(events, urlPart) {
  return events.filter((event) => event.type === 'http_request' && event.url.includes(urlPart));
}

function bodyOf(event) {
  return event.body?.encoding === 'text' ? event.body.data : '';
}

async function waitFor(what, probe, timeoutMillis = 20_000) {
  const deadline = Date.now() + timeoutMillis;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Text of the panel's rendered rows (the Leptos app's table). */
async function panelRowsText(panel) {
  return panel.locator('[data-testid="frame-row"]').allInnerTexts();
}

test('the panel shows every call of the page from its first request, and the observed preflights', async () => {
  const { context, extensionId } = browser;
  const page = await context.newPage();
  await page.goto(`${origins.pageOrigin}/app?test=load`);
  await page.waitForFunction(() => loadResults.first && loadResults.refused && loadResults.crossOk && loadResults.shm && loadResults.down && socketReplies.length === 1);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  const tabId = await tabIdOf(context, extensionId, page);

  // Before any panel exists, the worker already holds the load's events.
  const stored = await waitFor('the load events to be stored', async () => {
    const events = await storedEvents(context, extensionId, tabId);
    const preflights = events.filter((event) => event.type === 'cors_preflight');
    return preflights.length >= 3 ? events : null;
  });
  const firstRequest = stored.find((event) => event.type === 'http_request');
  assert.ok(firstRequest, 'no http_request stored');
  assert.match(bodyOf(firstRequest), /load\.first/, 'the first stored request is not the first of the load');
  assert.equal(stored[0].type, 'page', 'the page event comes first');

  const refusedPreflight = stored.find((event) => event.type === 'cors_preflight' && event.url.endsWith('/cors-refused'));
  assert.ok(refusedPreflight, 'the refused preflight was not observed');
  assert.equal(refusedPreflight.status, 200);
  assert.equal(refusedPreflight.session_id, firstRequest.session_id, 'the preflight is tied to the page session');
  const requestHeaderNames = refusedPreflight.request_headers.map(([name]) => name.toLowerCase());
  assert.ok(requestHeaderNames.includes('access-control-request-method'), `${requestHeaderNames}`);
  assert.ok(requestHeaderNames.includes('origin'), 'extraHeaders should expose Origin');
  assert.ok(!refusedPreflight.response_headers.some(([name]) => name.toLowerCase().startsWith('access-control-')));

  const downPreflight = stored.find((event) => event.type === 'cors_preflight' && event.url.endsWith('/down'));
  assert.ok(downPreflight, 'the failed preflight was not observed');
  assert.equal(downPreflight.status, null);
  // Chromium's webRequest reports the refused preflight as net::ERR_FAILED, not the socket
  // error; what matters is that it is a network error with no response.
  assert.match(downPreflight.error, /^net::ERR_[A-Z_]+$/);

  const { panel, errors } = await openPanel(context, extensionId, tabId);
  const later = await page.evaluate(() => later());
  assert.equal(later.same, 'later.same');
  assert.match(later.refused, /TypeError/);
  assert.equal(later.crossOk, 'later.crossOk');
  assert.equal(later.shm, 'later.shm');

  // Everything the worker stored reaches the panel.
  await waitFor('the panel to receive the later calls', async () => {
    const events = await storedEvents(context, extensionId, tabId);
    const stats = await panel.evaluate(() => framescopeExtension.stats());
    return stats.receivedEvents >= events.length && httpRequests(events, '/cors-ok').length >= 2 ? stats : null;
  });

  // The app shows them: the first request of the load, the socket, the cross-origin calls.
  await waitFor('rows for every call in the panel', async () => {
    const text = (await panelRowsText(panel)).join('\n');
    return ['load.first', 'load.ws', 'load.shm', 'load.refused', 'load.crossOk', 'frame.first',
      'later.same', 'later.ws', 'later.shm', 'later.refused', 'later.crossOk']
      .every((method) => text.includes(method));
  });

  const rows = await panelRowsText(panel);
  for (const [method, transport] of [['load.first', 'http'], ['load.ws', 'websocket'], ['load.shm', 'shared-mem'], ['later.shm', 'shared-mem']]) {
    assert.ok(rows.some((row) => row.includes(method) && row.includes(transport)), `${method} over ${transport}: ${rows}`);
  }

  await panel.screenshot({ path: screenshotPath('extension-panel'), fullPage: true });
  assert.deepEqual(errors, []);
  await panel.close();
  await page.close();
});

// The CORS tab of the panel must list the refused calls with the CorsError that the
// analyzer derives from the preflight the service worker observed.
test('the panel lists the refused calls with the CorsError from the observed preflight', async () => {
  const { context, extensionId } = browser;
  const page = await context.newPage();
  await page.goto(`${origins.pageOrigin}/app?test=cors`);
  await page.waitForFunction(() => loadResults.refused && loadResults.crossOk && loadResults.down);
  const tabId = await tabIdOf(context, extensionId, page);
  const { panel } = await openPanel(context, extensionId, tabId);
  try {
    await waitFor('the refused call in the panel', async () =>
      (await panelRowsText(panel)).some((row) => row.includes('load.refused')));
    await panel.locator('[data-testid="tab-cors"]').click();
    const corsFailures = panel.locator('[data-testid="cors-failure"]');
    await waitFor('the CORS failures in the panel', async () => (await corsFailures.count()) >= 1);
    const corsText = (await corsFailures.allInnerTexts()).join('\n');
    assert.match(corsText, /PreflightMissingAllowOriginHeader/);
    assert.doesNotMatch(corsText, /cors-ok/);
  } finally {
    await panel.close();
    await page.close();
  }
});

test('messages forged by page script never reach the extension', async () => {
  const { context, extensionId } = browser;
  const page = await context.newPage();
  await page.goto(`${origins.pageOrigin}/app?test=forge`);
  await page.waitForFunction(() => loadResults.first !== undefined);
  const tabId = await tabIdOf(context, extensionId, page);

  // The handover happened before the page's first script: the page saw none of it.
  assert.deepEqual(await page.evaluate(() => pageSaw), { handoffEvents: 0, handoffPorts: 0 });
  // Nobody takes a forged handover, and the forged batches have nowhere to go.
  assert.equal(await page.evaluate(() => forge()), false);
  const marker = await page.evaluate(() => later());
  assert.equal(marker.same, 'later.same');

  const events = await waitFor('the later calls to be stored', async () => {
    const stored = await storedEvents(context, extensionId, tabId);
    return httpRequests(stored, '/cors-ok').length >= 2 ? stored : null;
  });
  assert.equal(events.filter((event) => JSON.stringify(event).includes('forged')).length, 0);
  // The captured forge attempt is only the page's own window traffic, which the hook ignores.
  assert.ok(httpRequests(events, '/rpc').length >= 2);
  await page.close();
});

test('a service-worker restart loses nothing that was acknowledged', async () => {
  const { context, extensionId } = browser;
  const page = await context.newPage();
  await page.goto(`${origins.pageOrigin}/app?test=restart`);
  await page.waitForFunction(() => loadResults.crossOk !== undefined && socketReplies.length === 1);
  const tabId = await tabIdOf(context, extensionId, page);
  const { panel } = await openPanel(context, extensionId, tabId);

  const before = await waitFor('the load to be acknowledged and shown', async () => {
    const stored = await storedEvents(context, extensionId, tabId);
    const stats = await panel.evaluate(() => framescopeExtension.stats());
    return httpRequests(stored, '/cors-ok').length >= 1 && stats.receivedEvents >= stored.length ? stored : null;
  });

  // Restart with the panel open, then more traffic: the relay and the panel reconnect.
  await stopServiceWorker(context, page);
  const later = await page.evaluate(() => later());
  assert.equal(later.same, 'later.same');
  const after = await waitFor('the later calls after the restart', async () => {
    const stored = await storedEvents(context, extensionId, tabId);
    return httpRequests(stored, '/cors-ok').length >= 2 ? stored : null;
  });
  const key = (event) => `${event.session_id}|${event.connection_id}|${event.type}|${event.time_micros}`;
  const afterKeys = new Set(after.map(key));
  assert.deepEqual(before.map(key).filter((k) => !afterKeys.has(k)), [], 'acknowledged events were lost');
  assert.equal(afterKeys.size, after.length, 'events were stored twice');

  // The panel ends up with exactly what the worker stored: nothing twice, nothing missing.
  const stats = await waitFor('the panel to reconnect and catch up', async () => {
    const current = await panel.evaluate(() => framescopeExtension.stats());
    const stored = await storedEvents(context, extensionId, tabId);
    return current.connected && current.receivedEvents === stored.length ? current : null;
  });
  assert.ok(stats.reconnects >= 1, 'the panel never saw the worker go away');

  // Restart with no panel open: a panel opened afterwards still gets everything.
  await panel.close();
  await stopServiceWorker(context, page);
  const { panel: reopened } = await openPanel(context, extensionId, tabId);
  await waitFor('the reopened panel to replay the log', async () => {
    const current = await reopened.evaluate(() => framescopeExtension.stats());
    return current.receivedEvents >= after.length ? current : null;
  });
  await reopened.close();
  await page.close();
});

test('a flood before the panel opens stays bounded, and the panel shows exactly how much was dropped', async () => {
  const { context, extensionId } = browser;
  const page = await context.newPage();
  await page.goto(`${origins.pageOrigin}/flood`);
  assert.equal(await page.evaluate(() => flood), 60);
  const tabId = await tabIdOf(context, extensionId, page);
  const messages = (events) => events.filter((event) => event.type === 'ws_message').length;
  const droppedCount = (events) =>
    events.filter((event) => event.type === 'dropped').reduce((sum, event) => sum + event.count, 0);

  // Everything the hook delivered is either still stored or counted as dropped, exactly.
  const stored = await waitFor('the flood to be stored or counted', async () => {
    const hook = await page.evaluate(() => framescope.stats());
    const events = await storedEvents(context, extensionId, tabId);
    const kept = events.filter((event) => event.type !== 'dropped').length;
    const settled = hook.queued === 0 && hook.delivered >= 123;
    return settled && kept + droppedCount(events) === hook.delivered ? events : null;
  });
  const dropped = droppedCount(stored);
  assert.ok(dropped > 0, 'about 9 MB of messages should not fit the 3 MB tab buffer');
  assert.ok(messages(stored) < 120, 'some messages must have been evicted');
  const storedBytes = await (await currentWorker(context, extensionId)).evaluate(async (id) => {
    const all = await chrome.storage.session.get(null);
    return Object.entries(all)
      .filter(([key]) => key.startsWith(`rec:${id}:`))
      .reduce((sum, [, record]) => sum + JSON.stringify(record).length, 0);
  }, tabId);
  assert.ok(storedBytes <= 3.2 * 1024 * 1024, `stored ${storedBytes} bytes for one tab`);

  const { panel, errors } = await openPanel(context, extensionId, tabId);
  const shown = panel.locator('[data-testid="dropped-count"]');
  await waitFor('the dropped count in the panel', async () => (await shown.count()) === 1);
  assert.match(await shown.innerText(), new RegExp(`\\b${dropped} dropped`));
  assert.deepEqual(errors, []);
  await panel.close();
  await page.close();
});

test('across navigations the log is kept by the extension and cleared by the panel unless preserved', async () => {
  const { context, extensionId } = browser;
  const page = await context.newPage();
  await page.goto(`${origins.pageOrigin}/app?test=navigate`);
  await page.waitForFunction(() => loadResults.first !== undefined);
  const tabId = await tabIdOf(context, extensionId, page);
  const { panel, errors } = await openPanel(context, extensionId, tabId);
  const firstLoads = async () => (await panelRowsText(panel)).filter((row) => row.includes('load.first')).length;
  await waitFor('the first load in the panel', async () => (await firstLoads()) === 1);

  // Preserve log on: a reload adds the new load's calls to the old ones.
  await panel.locator('[data-testid="preserve-log"]').check();
  await page.reload();
  await page.waitForFunction(() => loadResults.first !== undefined);
  await waitFor('both loads in the panel', async () => (await firstLoads()) === 2);

  // Preserve log off: the next navigation starts the panel afresh.
  await panel.locator('[data-testid="preserve-log"]').uncheck();
  await page.goto(`${origins.pageOrigin}/app?test=navigate&again=1`);
  await page.waitForFunction(() => loadResults.first !== undefined);
  await waitFor('only the latest load in the panel', async () => (await firstLoads()) === 1);

  // The extension itself kept all three loads, so a panel opened now (preserve log is
  // remembered off) replays them and keeps the last one only.
  const stored = await storedEvents(context, extensionId, tabId);
  assert.equal(stored.filter((event) => event.type === 'page' && event.url.includes('/app?')).length, 3);
  const { panel: reopened } = await openPanel(context, extensionId, tabId, '&theme=dark');
  await waitFor('the reopened panel to show the latest load', async () =>
    (await panelRowsText(reopened)).filter((row) => row.includes('load.first')).length === 1);
  // Outside DevTools `?theme=` stands in for the DevTools theme, and the app's "system"
  // setting keeps it.
  assert.equal(await reopened.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.deepEqual(errors, []);
  await reopened.close();
  await panel.close();
  await page.close();
});

test('a service-worker restart in the middle of traffic loses and duplicates nothing', async () => {
  const { context, extensionId } = browser;
  const page = await context.newPage();
  await page.goto(`${origins.pageOrigin}/app?test=burst`);
  await page.waitForFunction(() => loadResults.crossOk !== undefined);
  const tabId = await tabIdOf(context, extensionId, page);

  // 150 sequential calls (a few milliseconds each) with the worker stopped early on.
  await page.evaluate(() => {
    window.burst = (async () => {
      for (let i = 0; i < 150; i += 1) await rpc('/rpc', `burst.${i}`, 1000 + i, {});
      return true;
    })();
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  await stopServiceWorker(context, page);
  assert.equal(await page.evaluate(() => burst), true);

  // Compared per session (the page's iframe has a hook and a session of its own), without
  // the preflights the extension itself observed.
  let last = {};
  const stored = await waitFor('every delivered event to be stored', async () => {
    const hook = await page.evaluate(() => framescope.stats());
    const events = (await storedEvents(context, extensionId, tabId)).filter(
      (event) => event.session_id === hook.session_id && event.type !== 'cors_preflight',
    );
    last = { delivered: hook.delivered, queued: hook.queued, stored: events.length };
    return hook.queued === 0 && events.length === hook.delivered ? events : null;
  }).catch((error) => {
    throw new Error(`${error.message}: ${JSON.stringify(last)}`);
  });
  const burstBodies = httpRequests(stored, '/rpc')
    .map(bodyOf)
    .filter((body) => body.includes('burst.'));
  assert.equal(burstBodies.length, 150);
  assert.equal(new Set(burstBodies).size, 150);
  assert.equal(stored.filter((event) => event.type === 'dropped').length, 0);
  await page.close();
});
