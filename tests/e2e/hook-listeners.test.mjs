// The hook captures received WebSocket messages inside the app's own message listeners (it
// wraps `onmessage` and `addEventListener`), and listens itself only while the app does not.
// This runs one app through every way of listening and not listening, with and without the
// hook: what the app observes must be identical, and every received message must be
// captured exactly once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useHookServerAndBrowser } from './hook-fixture.mjs';

const fixture = useHookServerAndBrowser();

/** Page code: listens in every supported way in turn; returns the app's log and the labels sent. */
async function listenerScenario({ origin }) {
  const log = [];
  const sent = [];
  const socket = new WebSocket(origin.replace('http', 'ws') + '/ws/echo');
  await new Promise((resolve) => socket.addEventListener('open', resolve, { once: true }));
  const pause = () => new Promise((resolve) => setTimeout(resolve, 150));
  const send = (label) => { sent.push(label); socket.send(label); };
  /** Sends `label` and resolves when `count` listener calls have logged it. */
  let waiting = null;
  const expect = (label, count = 1) => new Promise((resolve) => { waiting = { label, count, resolve }; send(label); });
  const note = (entry) => {
    log.push(entry);
    if (waiting && entry[1] === waiting.label && --waiting.count === 0) { const done = waiting.resolve; waiting = null; done(); }
  };

  const handlerDescriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
  log.push(['shape',
    typeof handlerDescriptor.get, handlerDescriptor.get.name, handlerDescriptor.get.length, String(handlerDescriptor.get),
    typeof handlerDescriptor.set, handlerDescriptor.set.name, handlerDescriptor.set.length, handlerDescriptor.enumerable, handlerDescriptor.configurable,
    EventTarget.prototype.addEventListener.name, EventTarget.prototype.addEventListener.length, String(EventTarget.prototype.addEventListener),
    EventTarget.prototype.removeEventListener.name, EventTarget.prototype.removeEventListener.length,
    Object.getOwnPropertyNames(WebSocket.prototype).sort().join(','), Object.getOwnPropertyNames(EventTarget.prototype).sort().join(','),
    socket.onmessage]);

  send('nobody-1'); // no listener at all
  await pause();

  const handler = function (event) { note(['onmessage', event.data, this === socket, event instanceof MessageEvent]); };
  socket.onmessage = handler;
  log.push(['getter', socket.onmessage === handler]);
  await expect('handler-1');
  socket.onmessage = null;
  log.push(['getter after null', socket.onmessage]);
  send('nobody-2');
  await pause();

  const notCallable = { not: 'callable' };
  socket.onmessage = notCallable;
  log.push(['non-callable handler', socket.onmessage === notCallable]);
  socket.onmessage = 'a string';
  log.push(['string handler', socket.onmessage]);
  send('nobody-3');
  await pause();

  socket.addEventListener('message', (event) => note(['once', event.data]), { once: true });
  await expect('once-1');
  send('nobody-4'); // the once listener is gone
  await pause();

  const controller = new AbortController();
  socket.addEventListener('message', (event) => note(['signal', event.data]), { signal: controller.signal });
  await expect('signal-1');
  controller.abort();
  send('nobody-5');
  await pause();
  const aborted = new AbortController();
  aborted.abort();
  socket.addEventListener('message', (event) => note(['pre-aborted', event.data]), { signal: aborted.signal });
  send('nobody-6');
  await pause();

  const object = { handleEvent(event) { note(['handleEvent', event.data, this === object]); } };
  socket.addEventListener('message', object);
  await expect('object-1');
  socket.removeEventListener('message', object);
  send('nobody-7');
  await pause();

  const twice = (event) => note(['twice', event.data, event.eventPhase]);
  socket.addEventListener('message', twice);
  socket.addEventListener('message', twice); // a duplicate: still one call
  socket.addEventListener('message', twice, true); // capture: a second registration
  await expect('twice-1', 2);
  socket.removeEventListener('message', twice, { capture: true });
  await expect('twice-2', 1);
  socket.removeEventListener('message', twice);
  send('nobody-8');
  await pause();

  const stopper = (event) => { event.stopImmediatePropagation(); note(['stopper', event.data]); };
  const silenced = (event) => note(['silenced', event.data]);
  socket.addEventListener('message', stopper);
  socket.addEventListener('message', silenced);
  socket.onmessage = (event) => note(['handler after stopper', event.data]);
  await expect('stopped-1');
  socket.removeEventListener('message', stopper);
  await expect('stopped-2', 2);
  socket.removeEventListener('message', silenced);
  socket.onmessage = null;

  EventTarget.prototype.addEventListener.call(socket, 'message', (event) => note(['through EventTarget', event.data]));
  await expect('generic-1');
  socket.onmessage = (event) => { note(['thrower', event.data]); throw new Error('app listener failed'); };
  await expect('thrower-1', 2);
  socket.onmessage = function () { return false; };
  socket.addEventListener('message', (event) => note(['after false', event.data, event.defaultPrevented]));
  await expect('false-1', 2);

  socket.close();
  await new Promise((resolve) => socket.addEventListener('close', resolve));
  return { log, sent };
}

async function run(query) {
  const context = await fixture.browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${fixture.server.origin}/page?${query}`);
  if (query.includes('hook=1')) {
    await page.evaluate(() => {
      window.capturedReceived = [];
      framescope.subscribe((batch) => {
        for (const event of batch) if (event.type === 'ws_message' && event.direction === 'received') window.capturedReceived.push(event.payload.data);
      });
    });
  }
  const observed = await page.evaluate(listenerScenario, { origin: fixture.server.origin });
  let capture = null;
  if (query.includes('hook=1')) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    capture = await page.evaluate(() => ({ received: window.capturedReceived, stats: framescope.stats() }));
  }
  await context.close();
  return { observed, pageErrors, capture };
}

test('every way of listening for messages behaves as without the hook, and each received message is captured exactly once, in order', async () => {
  const plain = await run('hook=0');
  const hooked = await run('hook=1');
  assert.deepEqual(hooked.observed, plain.observed);
  assert.deepEqual(hooked.pageErrors, plain.pageErrors);
  assert.deepEqual(plain.pageErrors, ['app listener failed']);
  // The app saw what it listened for (a spot check that the scenario really ran).
  const entries = plain.observed.log.map((entry) => entry.slice(0, 2).join(' '));
  for (const expected of ['onmessage handler-1', 'once once-1', 'signal signal-1', 'handleEvent object-1', 'twice twice-1',
    'stopper stopped-1', 'silenced stopped-2', 'through EventTarget generic-1', 'thrower thrower-1', 'after false false-1']) {
    assert.ok(entries.includes(expected), `${expected} in ${entries.join(' | ')}`);
  }
  assert.ok(!entries.includes('silenced stopped-1') && !entries.includes('pre-aborted nobody-6'));
  assert.equal(hooked.capture.stats.dropped, 0);
  assert.equal(hooked.capture.stats.internal_errors, 0, hooked.capture.stats.last_internal_error);
  assert.deepEqual(hooked.capture.received, hooked.observed.sent);
});

test('a socket nobody listens to still has every message captured, also when the app stops listening midway', async () => {
  const context = await fixture.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${fixture.server.origin}/page?hook=1`);
  const result = await page.evaluate(async ({ origin }) => {
    const received = [];
    framescope.subscribe((batch) => {
      for (const event of batch) if (event.type === 'ws_message' && event.direction === 'received') received.push(event.payload.data);
    });
    const socket = new WebSocket(origin.replace('http', 'ws') + '/ws/echo');
    await new Promise((resolve) => { socket.onopen = resolve; });
    socket.onopen = null;
    socket.send('burst:300'); // 300 messages with no listener at all
    let heard = 0;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const listener = () => { heard += 1; if (heard === 100) socket.removeEventListener('message', listener); };
    socket.addEventListener('message', listener);
    socket.send('burst:300'); // the app listens to the first 100, then stops
    await new Promise((resolve) => setTimeout(resolve, 600));
    socket.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { received, heard };
  }, { origin: fixture.server.origin });
  await context.close();
  assert.equal(result.heard, 100);
  const burst = Array.from({ length: 300 }, (_, i) => `m-${i}`);
  assert.deepEqual(result.received, [...burst, ...burst]);
});
