// Shared-memory channels in headless Chromium on a cross-origin isolated page: mailbox and
// ring in both directions, wrap-around, workers started before and after registration,
// classic and module workers, raw Atomics activity, worker URLs that stay relative to the
// worker script. Every call made is captured once, and the core turns them into calls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './support.mjs';
import { startShmServer } from './shm-server.mjs';
import { runScenario, analyze, ofType } from './shm-support.mjs';

let server;
let browser;

before(async () => {
  server = await startShmServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

function expectedResult(request) {
  return request.method === 'math.mul' ? request.params[0] * request.params[1] : request.params[0] + request.params[1];
}

function assertClean(run) {
  assert.deepEqual(run.pageErrors, []);
  assert.equal(run.stats.internal_errors, 0, run.stats.last_internal_error);
  assert.equal(run.stats.dropped, 0);
}

/** Checks the captured requests/responses of a mailbox run and the calls the core made. */
function checkMailbox(run, { count, requesterThread, channel }) {
  assertClean(run);
  assert.equal(run.result.results.length, count);
  const messages = ofType(run.events, 'shm_message').filter((event) => event.channel === channel);
  const requests = messages.filter((event) => event.role === 'request');
  const responses = messages.filter((event) => event.role === 'response');
  assert.equal(requests.length, count, 'one request event per call made');
  assert.equal(responses.length, count, 'one response event per call made');
  const responderThread = requesterThread === 'page' ? 'worker-1' : 'page';
  for (const [index, request] of requests.entries()) {
    assert.equal(request.thread, requesterThread);
    assert.equal(request.direction, requesterThread === 'page' ? 'sent' : 'received');
    const body = JSON.parse(request.payload.data);
    assert.equal(body.id, index + 1);
    const response = responses.find((event) => JSON.parse(event.payload.data).id === body.id);
    assert.ok(response, `response to ${body.id}`);
    assert.equal(response.thread, responderThread);
    assert.equal(JSON.parse(response.payload.data).result, expectedResult(body));
    // Clocks line up across threads: the response is never published before its request.
    assert.ok(response.time_micros >= request.time_micros, `response ${body.id} after its request`);
    assert.ok(response.time_micros - request.time_micros < 5_000_000);
  }
  const registered = ofType(run.events, 'shm_channel').filter((event) => event.name === channel);
  assert.equal(registered.length, 1);
  assert.equal(registered[0].layout, 'mailbox');
  assert.equal(registered[0].command_offset_bytes, 0);
  assert.equal(registered[0].length_offset_bytes, 4);
  assert.equal(registered[0].payload_offset_bytes, 8);
  const report = analyze(run.events);
  const calls = report.calls.filter((call) => call.transport === 'shared-memory');
  assert.equal(calls.length, count, 'calls captured equal calls made');
  for (const call of calls) {
    assert.equal(call.outcome, 'ok', JSON.stringify(call));
    assert.equal(call.protocol, 'jsonrpc2');
    assert.match(call.method, /^math\.(add|mul)$/);
    assert.ok(call.latency_ms >= 0);
  }
  assert.deepEqual(calls.map((call) => Number(call.request_id)).sort((a, b) => a - b), Array.from({ length: count }, (_, i) => i + 1));
  return calls;
}

test('mailbox, page to a classic worker started before registration', async () => {
  const run = await runScenario(browser, server.url, 'mailboxToWorker', { count: 20, workerKind: 'classic', registerFirst: false });
  checkMailbox(run, { count: 20, requesterThread: 'page', channel: 'bus' });
  // The worker blocked in Atomics.wait before the registration still saw it (the registry):
  // its own activity on the command word is counted for the channel.
  const workerActivity = ofType(run.events, 'shm_activity').filter((event) => event.thread === 'worker-1' && event.channel === 'bus');
  assert.ok(workerActivity.length > 0);
  const stores = workerActivity.reduce((sum, event) => sum + (event.operations.store || 0), 0);
  assert.ok(stores >= 20, `worker stores on the channel: ${stores}`);
  const notifies = workerActivity.reduce((sum, event) => sum + event.notify_calls, 0);
  assert.equal(notifies, 20);
  // The page waits with waitAsync: those waits are timed too.
  const pageActivity = ofType(run.events, 'shm_activity').filter((event) => event.thread === 'page' && event.channel === 'bus');
  const pageWaits = pageActivity.reduce((sum, event) => sum + event.waits, 0);
  const pageWaitOperations = pageActivity.reduce((sum, event) => sum + (event.operations.waitAsync || 0), 0);
  assert.ok(pageWaitOperations > 0);
  assert.equal(pageWaits, pageWaitOperations, 'every waitAsync of the page ended and was timed');
  assert.ok(pageActivity.reduce((sum, event) => sum + event.wait_micros, 0) > 0);
  assert.equal(pageActivity.reduce((sum, event) => sum + event.wait_timeouts, 0), 0);
});

test('mailbox, page to a module worker started after registration', async () => {
  const run = await runScenario(browser, server.url, 'mailboxToWorker', { count: 15, workerKind: 'module', registerFirst: true });
  checkMailbox(run, { count: 15, requesterThread: 'page', channel: 'bus' });
});

test('mailbox, classic worker to the page (the worker asks, blocking)', async () => {
  const run = await runScenario(browser, server.url, 'mailboxToPage', { count: 12, workerKind: 'classic', registerFirst: true });
  checkMailbox(run, { count: 12, requesterThread: 'worker-1', channel: 'callback' });
  const waits = ofType(run.events, 'shm_activity').filter((event) => event.thread === 'worker-1' && event.channel === 'callback');
  assert.ok(waits.reduce((sum, event) => sum + event.waits, 0) > 0, 'the blocking worker waited');
});

test('mailbox, module worker to the page, registered after the worker started', async () => {
  const run = await runScenario(browser, server.url, 'mailboxToPage', { count: 12, workerKind: 'module', registerFirst: false });
  checkMailbox(run, { count: 12, requesterThread: 'worker-1', channel: 'callback' });
});

async function ringRun(workerKind) {
  const count = 40;
  const capacity = 96;
  const run = await runScenario(browser, server.url, 'ringRoundTrips', { count, capacity, pipeline: 2, workerKind });
  assertClean(run);
  assert.equal(run.result.results.length, count);
  const frames = ofType(run.events, 'shm_message').filter((event) => event.role === 'frame');
  const requests = frames.filter((event) => event.channel === 'requests');
  const responses = frames.filter((event) => event.channel === 'responses');
  assert.equal(requests.length, count);
  assert.equal(responses.length, count);
  assert.ok(requests.every((event) => event.thread === 'page' && event.direction === 'sent' && event.connection_id === 'shm:ring-rpc'));
  assert.ok(responses.every((event) => event.thread === 'worker-1' && event.direction === 'received'));
  // Every frame comes out whole and in order, including those that straddle the end.
  assert.deepEqual(requests.map((event) => JSON.parse(event.payload.data).id), Array.from({ length: count }, (_, i) => i + 1));
  const published = requests.reduce((sum, event) => sum + 4 + event.payload.size_bytes, 0);
  assert.ok(published > 10 * capacity, `wrapped around ${Math.floor(published / capacity)} times`);
  let wraps = 0;
  for (let i = 1; i < requests.length; i++) if (requests[i].frame_end < requests[i - 1].frame_end) wraps += 1;
  assert.ok(wraps >= 10);
  for (const event of frames) assert.ok(event.head >= 0 && event.head < capacity && event.tail >= 0 && event.tail < capacity);
  const consumed = ofType(run.events, 'shm_state').filter((event) => event.channel === 'requests' && typeof event.tail === 'number');
  assert.equal(consumed.length, count, 'one tail advance per request consumed by the worker');
  const report = analyze(run.events);
  const calls = report.calls.filter((call) => call.transport === 'shared-memory');
  assert.equal(calls.length, count);
  assert.ok(calls.every((call) => call.outcome === 'ok' && call.connection_id === 'shm:ring-rpc'), JSON.stringify(calls.find((call) => call.outcome !== 'ok')));
}

test('ring round trips both directions with wrap-around, classic worker', async () => {
  await ringRun('classic');
});

test('ring round trips both directions with wrap-around, module worker', async () => {
  await ringRun('module');
});

test('an unregistered buffer still shows its Atomics activity from both threads', async () => {
  const run = await runScenario(browser, server.url, 'rawCounter', { count: 250, workerKind: 'classic' });
  assertClean(run);
  assert.equal(run.result.value, 500);
  const activity = ofType(run.events, 'shm_activity').filter((event) => event.channel === '');
  const adds = (thread) => activity.filter((event) => event.thread === thread).reduce((sum, event) => sum + (event.operations.add || 0), 0);
  assert.equal(adds('page'), 250);
  assert.equal(adds('worker-1'), 250);
  const ids = new Set(activity.map((event) => event.connection_id));
  assert.equal(ids.size, 1, 'both threads name the buffer the same');
  assert.equal(ofType(run.events, 'shm_message').length, 0);
});

test('a bootstrapped worker resolves relative URLs against its script and its fetch is captured', async () => {
  const run = await runScenario(browser, server.url, 'relativeFetch', { workerKind: 'classic' });
  assertClean(run);
  assert.equal(JSON.parse(run.result.text).from, 'shm-app');
  assert.equal(run.result.location, `${server.url}/shm-app/worker-classic.js`);
  assert.equal(run.result.origin, server.url);
  const requests = ofType(run.events, 'http_request');
  assert.equal(requests.length, 1);
  assert.equal(requests[0].url, `${server.url}/shm-app/data.json`);
  assert.match(requests[0].connection_id, /^worker1:/);
  assert.equal(requests[0].session_id, run.stats.session_id);
  const module = await runScenario(browser, server.url, 'relativeFetch', { workerKind: 'module' });
  assert.equal(JSON.parse(module.result.text).from, 'shm-app');
  assert.equal(module.result.location, `${server.url}/shm-app/worker-module.mjs`);
});

test("a worker's captured requests reach the page before its own message, even if the page then terminates it", async () => {
  for (const workerKind of ['classic', 'module']) {
    const run = await runScenario(browser, server.url, 'fetchThenTerminate', { workerKind });
    assertClean(run);
    assert.equal(run.result.started, true);
    const requests = ofType(run.events, 'http_request').filter((event) => event.url === `${server.url}/shm-app/data.json`);
    assert.equal(requests.length, 1, `${workerKind} worker: the request made just before its answer`);
    assert.match(requests[0].connection_id, /^worker1:/);
  }
});

test('registerSharedChannel returns the layout with the seed defaults and rejects bad input clearly', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/page?hook=1`);
  const outcome = await page.evaluate(() => {
    const attempt = (fn) => {
      try {
        return { value: fn() };
      } catch (error) {
        return { error: error.name, message: error.message };
      }
    };
    const sab = new SharedArrayBuffer(1024);
    const mailbox = framescope.registerSharedChannel(sab, { name: 'bus', layout: 'mailbox' });
    return {
      mailbox: { ...mailbox, frozen: Object.isFrozen(mailbox) },
      ring: framescope.registerSharedChannel(new SharedArrayBuffer(72), { layout: 'ring' }),
      plain: attempt(() => framescope.registerSharedChannel(new ArrayBuffer(16), { name: 'x', layout: 'mailbox' })),
      layout: attempt(() => framescope.registerSharedChannel(sab, { name: 'x', layout: 'queue' })),
      outside: attempt(() => framescope.registerSharedChannel(sab, { name: 'x', layout: 'mailbox', commandIndex: 256 })),
      region: attempt(() => framescope.registerSharedChannel(sab, { name: 'x', layout: 'ring', capacity: 2000 })),
      options: attempt(() => framescope.registerSharedChannel(sab)),
    };
  });
  await context.close();
  assert.deepEqual(
    { ...outcome.mailbox, id: undefined },
    { id: undefined, name: 'bus', layout: 'mailbox', byte_length: 1024, command_offset_bytes: 0, length_offset_bytes: 4, payload_offset_bytes: 8, capacity_bytes: 1016, frozen: true },
  );
  assert.match(outcome.mailbox.id, /^shm-\d+$/);
  assert.equal(outcome.ring.layout, 'ring');
  assert.equal(outcome.ring.head_offset_bytes, 0);
  assert.equal(outcome.ring.tail_offset_bytes, 4);
  assert.equal(outcome.ring.data_offset_bytes, 8);
  assert.equal(outcome.ring.capacity_bytes, 64);
  assert.match(outcome.ring.name, /^shm-\d+-ring$/);
  assert.equal(outcome.plain.error, 'TypeError');
  assert.match(outcome.plain.message, /SharedArrayBuffer/);
  assert.equal(outcome.layout.error, 'TypeError');
  assert.match(outcome.layout.message, /'mailbox' or 'ring'/);
  assert.equal(outcome.outside.error, 'RangeError');
  assert.match(outcome.outside.message, /commandIndex 256 is outside the buffer \(1024 bytes\)/);
  assert.equal(outcome.region.error, 'RangeError');
  assert.equal(outcome.options.error, 'TypeError');
});

test('a worker may register a channel itself; the page sees its frames', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/page?hook=1`);
  const events = await page.evaluate(async () => {
    const L = globalThis.ShmLib;
    const sab = new SharedArrayBuffer(8 + 512);
    const worker = new Worker('/shm-app/worker-classic.js');
    await new Promise((resolve) => {
      worker.addEventListener('message', resolve, { once: true });
      worker.postMessage({ op: 'register-ring', buffer: sab, name: 'from-worker', capacity: 512 });
    });
    const ring = L.ring(sab, 8, 512);
    for (let i = 0; i < 5; i++) await L.ringWriteAsync(ring, L.json({ jsonrpc: '2.0', method: 'log.write', params: [i] }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    worker.terminate();
    return globalThis.__events;
  });
  await context.close();
  const registration = events.find((event) => event.type === 'shm_channel' && event.name === 'from-worker');
  assert.ok(registration, 'the worker registration reached the page');
  assert.equal(registration.thread, 'worker-1');
  const frames = events.filter((event) => event.type === 'shm_message' && event.channel === 'from-worker');
  assert.equal(frames.length, 5);
  assert.ok(frames.every((event) => event.thread === 'page' && event.connection_id === registration.connection_id));
});
