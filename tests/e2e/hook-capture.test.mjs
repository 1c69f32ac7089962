// Completeness and coexistence of the in-page hook: N messages sent = N captured (or the drop
// counter explains the difference exactly), double install, pages that wrapped fetch or
// WebSocket before the hook, the in-page API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useHookServerAndBrowser } from './hook-fixture.mjs';

const fixture = useHookServerAndBrowser();

test('every WebSocket message of a 2,000 + 2,000 burst is captured, in order, with nothing dropped', async () => {
  const { page, errors, close } = await fixture.openPage('hook=1');
  const result = await page.evaluate(async ({ origin }) => {
    const events = [];
    framescope.subscribe((batch) => events.push(...batch));
    const socket = new WebSocket(origin.replace('http', 'ws') + '/ws/echo');
    socket.binaryType = 'arraybuffer';
    let received = 0;
    await new Promise((resolve) => { socket.onopen = resolve; });
    const done = new Promise((resolve) => {
      socket.onmessage = () => { received += 1; if (received === 2000) resolve(); };
    });
    for (let i = 0; i < 1000; i++) socket.send(`t-${i}`);
    for (let i = 0; i < 1000; i++) socket.send(new Uint32Array([i]).buffer);
    await done;
    socket.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { events, received, stats: framescope.stats() };
  }, { origin: fixture.server.origin });
  const messages = result.events.filter((event) => event.type === 'ws_message');
  const sent = messages.filter((event) => event.direction === 'sent');
  const received = messages.filter((event) => event.direction === 'received');
  assert.equal(result.received, 2000);
  assert.equal(sent.length, 2000);
  assert.equal(received.length, 2000);
  assert.equal(result.stats.dropped, 0);
  assert.deepEqual(sent.slice(0, 1000).map((event) => event.payload.data), Array.from({ length: 1000 }, (_, i) => `t-${i}`));
  const numbers = sent.slice(1000).map((event) => Buffer.from(event.payload.data, 'base64').readUInt32LE(0));
  assert.deepEqual(numbers, Array.from({ length: 1000 }, (_, i) => i));
  const times = messages.map((event) => event.time_micros);
  assert.ok(times.every((time, index) => index === 0 || time >= times[index - 1] || messages[index].direction !== messages[index - 1].direction));
  assert.deepEqual(errors, []);
  await close();
});

test('with a bounded queue and no subscriber, captured + dropped equals what was sent, and a dropped event says so', async () => {
  const { page, close } = await fixture.openPage('hook=1');
  const result = await page.evaluate(async ({ origin }) => {
    framescope.configure({ maxQueuedEvents: 50 });
    const before = framescope.stats();
    const socket = new WebSocket(origin.replace('http', 'ws') + '/ws/echo');
    await new Promise((resolve) => { socket.onopen = resolve; });
    let received = 0;
    const done = new Promise((resolve) => { socket.onmessage = () => { received += 1; if (received === 300) resolve(); }; });
    socket.send('burst:300');
    await done;
    const stats = framescope.stats();
    const events = [];
    framescope.subscribe((batch) => events.push(...batch));
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.close();
    return { before, stats, events };
  }, { origin: fixture.server.origin });
  // Observed: page (before), ws_connect, ws_open, 1 sent + 300 received messages.
  const observedAfterInstall = 2 + 1 + 300;
  const capturedNow = result.stats.captured - result.before.captured;
  assert.equal(capturedNow + result.stats.dropped, observedAfterInstall);
  assert.ok(result.stats.dropped > 0);
  const dropped = result.events.filter((event) => event.type === 'dropped');
  assert.equal(dropped.length, 1);
  assert.equal(dropped[0].count, result.stats.dropped);
  assert.match(dropped[0].reason, /queue full/);
  assert.equal(result.events.filter((event) => event.type !== 'dropped').length, 50);
  await close();
});

test('installed twice: one set of wrappers, every request captured once, installs counted', async () => {
  const { page, errors, close } = await fixture.openPage('hook=2');
  const result = await page.evaluate(async () => {
    const events = [];
    framescope.subscribe((batch) => events.push(...batch));
    const text = await (await fetch('/text')).text();
    const xhr = new XMLHttpRequest();
    xhr.open('GET', '/json', false);
    xhr.send();
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { text, xhr: xhr.status, events, stats: framescope.stats(), fetchText: fetch.toString() };
  });
  assert.equal(result.text, 'hello text');
  assert.equal(result.stats.installs, 2);
  assert.equal(result.events.filter((event) => event.type === 'http_request').length, 2);
  assert.equal(result.events.filter((event) => event.type === 'http_response').length, 2);
  assert.equal(result.events.filter((event) => event.type === 'page').length, 1);
  assert.equal(result.fetchText, 'function fetch() { [native code] }');
  assert.deepEqual(errors, []);
  await close();
});

test('a page that wrapped fetch first (in-page cache proxy) keeps working and is captured as the app calls it', async () => {
  const scenario = async () => {
    const first = await (await fetch('/api/items')).text();
    const second = await fetch('/api/items');
    return { first, second: await second.text(), fromCache: second.headers.get('x-from-cache'), cacheSize: window.__proxyCacheSize() };
  };
  const plain = await fixture.openPage('prewrap=fetch');
  const expected = await plain.page.evaluate(scenario);
  await plain.close();
  const hooked = await fixture.openPage('prewrap=fetch&hook=1');
  const observed = await hooked.page.evaluate(scenario);
  const events = await hooked.page.evaluate(async () => {
    const list = [];
    framescope.subscribe((batch) => list.push(...batch));
    await new Promise((resolve) => setTimeout(resolve, 100));
    return list;
  });
  await hooked.close();
  assert.deepEqual(observed, expected);
  assert.equal(expected.fromCache, '1');
  const responses = events.filter((event) => event.type === 'http_response');
  assert.equal(responses.length, 2);
  assert.equal(responses[0].body.data, 'api answer for /api/items');
  assert.deepEqual(responses[1].headers.find(([name]) => name === 'x-from-cache'), ['x-from-cache', '1']);
});

test('a page that replaced WebSocket with a subclass first keeps its behaviour; messages are captured once', async () => {
  const scenario = async ({ origin }) => {
    const socket = new WebSocket(origin.replace('http', 'ws') + '/ws/echo');
    await new Promise((resolve) => { socket.onopen = resolve; });
    const echoed = new Promise((resolve) => { socket.onmessage = (event) => resolve(event.data); });
    socket.send('through the wrapper');
    const data = await echoed;
    socket.close();
    return { data, wrappedSends: window.__wrappedSends, instance: socket instanceof WebSocket, name: WebSocket.name };
  };
  const plain = await fixture.openPage('prewrap=websocket');
  const expected = await plain.page.evaluate(scenario, { origin: fixture.server.origin });
  await plain.close();
  const hooked = await fixture.openPage('prewrap=websocket&hook=1');
  const observed = await hooked.page.evaluate(scenario, { origin: fixture.server.origin });
  const events = await hooked.page.evaluate(async () => {
    const list = [];
    framescope.subscribe((batch) => list.push(...batch));
    await new Promise((resolve) => setTimeout(resolve, 100));
    return list;
  });
  await hooked.close();
  assert.deepEqual(observed, expected);
  assert.equal(expected.wrappedSends, 1);
  const messages = events.filter((event) => event.type === 'ws_message');
  assert.deepEqual(messages.map((event) => [event.direction, event.payload.data]), [['sent', 'through the wrapper'], ['received', 'through the wrapper']]);
});

test('the in-page API: configure caps bodies and excludes URLs, emit adds events, a throwing subscriber harms nobody', async () => {
  const { page, errors, close } = await fixture.openPage('hook=1');
  const result = await page.evaluate(async () => {
    const events = [];
    const effective = framescope.configure({ maxBodyBytes: 10, excludeUrls: ['/json', /status\/\d+/] });
    framescope.subscribe(() => { throw new Error('subscriber bug'); });
    const unsubscribe = framescope.subscribe((batch) => events.push(...batch));
    await (await fetch('/text')).text();
    await (await fetch('/json')).text();
    await (await fetch('/status/404')).text();
    const accepted = framescope.emit({ type: 'app_note', connection_id: 'go-wasm', note: 'from syscall/js' });
    const rejected = framescope.emit({ note: 'no type' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    unsubscribe();
    await (await fetch('/text')).text();
    await new Promise((resolve) => setTimeout(resolve, 50));
    return {
      effective, accepted, rejected, events, stats: framescope.stats(),
      frozen: Object.isFrozen(framescope), version: framescope.version,
    };
  });
  assert.equal(result.effective.maxBodyBytes, 10);
  assert.equal(result.accepted, true);
  assert.equal(result.rejected, false);
  assert.equal(result.version, '0.1.0');
  assert.equal(result.frozen, true);
  const requests = result.events.filter((event) => event.type === 'http_request');
  assert.deepEqual(requests.map((event) => new URL(event.url).pathname), ['/text']);
  const response = result.events.find((event) => event.type === 'http_response');
  assert.deepEqual(response.body, { encoding: 'text', data: 'hello text', size_bytes: 10, truncated: false });
  const note = result.events.find((event) => event.type === 'app_note');
  assert.equal(note.connection_id, 'go-wasm');
  assert.equal(note.v, 1);
  assert.ok(Number.isInteger(note.time_micros));
  assert.equal(note.session_id, result.stats.session_id);
  assert.ok(result.stats.internal_errors >= 1, 'the throwing subscriber was counted');
  assert.equal(result.events.filter((event) => event.type === 'http_request').length, 1, 'no delivery after unsubscribe');
  assert.deepEqual(errors, []);
  await close();
});
