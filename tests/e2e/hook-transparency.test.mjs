// Transparency of the in-page hook: the same page code runs without and with the hook, and
// everything the app can observe must be identical. The hooked run's capture is checked too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useHookServerAndBrowser } from './hook-fixture.mjs';
import { fetchScenario, xhrScenario, webSocketScenario, eventSourceScenario } from './hook-scenarios.mjs';

const fixture = useHookServerAndBrowser();

function env() {
  return { origin: fixture.server.origin, crossOrigin: fixture.server.crossOrigin, closedPort: fixture.server.closedPort };
}

/** Runs `scenario` in a fresh page built with `query`; returns its observations and capture. */
async function run(scenario, query) {
  const context = await fixture.browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(`${fixture.server.origin}/page?${query}`);
  const observed = await page.evaluate(scenario, env());
  let capture = null;
  if (await page.evaluate(() => typeof globalThis.framescope === 'object')) {
    capture = await page.evaluate(async () => {
      const events = [];
      const unsubscribe = globalThis.framescope.subscribe((batch) => events.push(...batch));
      // Wait for pending body reads and the batch timer (bounded: a loaded machine is slow).
      const deadline = Date.now() + 10_000;
      do {
        await new Promise((resolve) => setTimeout(resolve, 300));
      } while (globalThis.framescope.stats().queued > 0 && Date.now() < deadline);
      unsubscribe();
      return { events, stats: globalThis.framescope.stats() };
    });
  }
  await context.close();
  return { observed, capture, pageErrors };
}

async function compare(scenario) {
  const plain = await run(scenario, 'hook=0');
  const hooked = await run(scenario, 'hook=1');
  assert.deepEqual(hooked.observed, plain.observed);
  assert.deepEqual(hooked.pageErrors, plain.pageErrors);
  assert.equal(plain.capture, null);
  assert.ok(hooked.capture, 'the hooked page has globalThis.framescope');
  assert.equal(hooked.capture.stats.internal_errors, 0, hooked.capture.stats.last_internal_error);
  assert.equal(hooked.capture.stats.dropped, 0);
  return { observed: hooked.observed, events: hooked.capture.events };
}

function byConnection(events) {
  const map = new Map();
  for (const event of events) {
    if (!map.has(event.connection_id)) map.set(event.connection_id, []);
    map.get(event.connection_id).push(event);
  }
  return [...map.values()];
}

function requestTo(events, urlPart, method) {
  return byConnection(events).filter((list) => list[0].type === 'http_request'
    && list[0].url.includes(urlPart) && (!method || list[0].method === method));
}

function decode(payload) {
  if (!payload) return null;
  return payload.encoding === 'base64' ? [...Buffer.from(payload.data, 'base64')] : payload.data;
}

test('fetch: identical results, errors, order and shape with the hook; every exchange captured', async () => {
  const { observed, events } = await compare(fetchScenario);
  // The scenario itself must have exercised what it claims to.
  assert.equal(observed.json.ok.body.big, 9007199254740992);
  assert.equal(observed.abortBefore.error.name, 'AbortError');
  assert.equal(observed.timeout.error.name, 'TimeoutError');
  assert.equal(observed.abortReason.error.value, 'custom reason');
  assert.equal(observed.corsBlocked.error.isTypeError, true);
  assert.deepEqual(observed.order, ['sync', 'microtask', 'fetch resolved']);

  for (const event of events) {
    assert.equal(event.v, 1);
    assert.equal(typeof event.time_micros, 'number');
    assert.ok(Number.isInteger(event.time_micros));
  }
  const pageEvents = events.filter((event) => event.type === 'page');
  assert.equal(pageEvents.length, 1);
  assert.equal(pageEvents[0].hook_version, '0.1.0');

  const json = requestTo(events, '/json')[0];
  assert.deepEqual(json.map((e) => e.type), ['http_request', 'http_response']);
  assert.equal(json[0].api, 'fetch');
  assert.equal(json[0].mode, 'cors');
  assert.equal(json[0].credentials, 'same-origin');
  assert.equal(json[0].redirect, 'follow');
  assert.equal(json[0].body_kind, 'none');
  assert.equal(json[1].status, 200);
  // The raw bytes, not the app's parsed value: the int64 is intact.
  assert.match(json[1].body.data, /9007199254740993/);

  const posts = requestTo(events, '/echo', 'POST');
  const kinds = posts.map((list) => list[0].body_kind);
  for (const kind of ['text', 'blob', 'array_buffer', 'form_data', 'url_search_params', 'stream']) {
    assert.ok(kinds.includes(kind), `body kind ${kind} captured (got ${kinds})`);
  }
  const requestObject = posts.find((list) => list[0].body_kind === null);
  assert.equal(requestObject[0].body.data, 'request body');
  assert.deepEqual(requestObject[0].headers.find(([name]) => name === 'x-a'), ['x-a', '1']);
  const bytes = posts.find((list) => list[0].body_kind === 'array_buffer' && list[0].body.size_bytes === 4);
  assert.deepEqual(decode(bytes[0].body), [1, 2, 3, 250]);
  const form = posts.find((list) => list[0].body_kind === 'form_data');
  assert.match(form[0].body.data, /name="a"\r\n\r\n1/);
  const stringBody = posts.find((list) => list[0].body_kind === 'text');
  assert.deepEqual(stringBody[0].headers, [['content-type', 'text/plain;charset=UTF-8']]);
  const stream = posts.find((list) => list[0].body_kind === 'stream');
  assert.equal(stream[0].body, null);

  const big = requestTo(events, '/big?size=70000')[0];
  assert.equal(big[1].body.truncated, true);
  assert.equal(big[1].body.data.length, 64 * 1024);
  assert.ok(big[1].body.size_bytes >= 64 * 1024 + 1);

  const binary = requestTo(events, '/bytes')[0];
  assert.equal(binary[1].body.encoding, 'base64');
  assert.deepEqual(decode(binary[1].body).slice(0, 4), [0, 1, 2, 3]);

  const failures = events.filter((event) => event.type === 'http_failure');
  const failure = (urlPart) => {
    const list = requestTo(events, urlPart);
    return list.map((l) => l.find((event) => event.type === 'http_failure')).filter(Boolean);
  };
  assert.equal(failure(`:${fixture.server.closedPort}/x`)[0].failure, 'network');
  assert.equal(failure(`:${fixture.server.closedPort}/x`)[0].error_name, 'TypeError');
  assert.equal(failure('/nocors')[0].error_message, 'Failed to fetch');
  assert.deepEqual(failure('/slow?ms=500').map((f) => [f.failure, f.error_name]), [['timeout', 'TimeoutError']]);
  assert.deepEqual(failure('/slow?ms=400').map((f) => f.failure).sort(), ['abort', 'abort']);
  assert.ok(failures.length >= 8, `failures captured: ${failures.length}`);

  const redirect = requestTo(events, '/redirect').map((l) => l[1]);
  assert.ok(redirect.some((r) => r.redirected === true && r.url.endsWith('/text') && r.status === 200));
  assert.ok(redirect.some((r) => r.response_type === 'opaqueredirect' && r.status === 0));

  const streaming = requestTo(events, '/stream').find((list) => list.some((e) => e.type === 'http_response_chunk' && e.end_of_body)
    && list.filter((e) => e.type === 'http_response_chunk').length >= 3);
  assert.ok(streaming, 'streamed chunks captured');
  const text = streaming.filter((e) => e.type === 'http_response_chunk').map((e) => e.payload.data).join('');
  assert.equal(text, 'data: chunk 1\n\ndata: chunk 2\n\ndata: chunk 3\n\n');
});

test('XMLHttpRequest: identical events, response types, sync and failing requests with the hook', async () => {
  const { observed, events } = await compare(xhrScenario);
  assert.equal(observed.syncOk.text, 'hello text');
  assert.equal(observed.syncFail.error[0], 'NetworkError');
  assert.ok(observed.abort.log.includes('abort:4'));
  assert.ok(observed.timeout.log.includes('timeout:4'));

  const xhrConnections = byConnection(events).filter((list) => list[0].api === 'xhr');
  // 18 async requests (the reused object makes two) + 2 sync.
  assert.equal(xhrConnections.length, 20, xhrConnections.map((l) => `${l[0].method} ${l[0].url} ${l.map((e) => e.type)}`).join('\n'));
  const outcome = (list) => list.slice(1).map((e) => (e.type === 'http_failure' ? e.failure : e.status));
  const find = (urlPart, method = 'GET') => xhrConnections.filter((l) => l[0].url.includes(urlPart) && l[0].method === method);
  assert.deepEqual(find('/json').map(outcome), [[200], [200]]);
  assert.equal(find('/json')[0][1].body.data, '{"a":1,"big":9007199254740992,"s":"héllo ✓"}');
  assert.deepEqual(decode(find('/bytes')[0][1].body).slice(0, 3), [0, 1, 2]);
  assert.deepEqual(decode(find('/bytes')[1][1].body).slice(0, 3), [0, 1, 2]);
  assert.match(find('/xml')[0][1].body.data, /<item n="1">one<\/item>/);
  assert.deepEqual(find('/slow?ms=400').map(outcome).sort(), [['abort'], ['timeout']]);
  assert.deepEqual(find(`:${fixture.server.closedPort}/x`).map(outcome), [['network'], ['network']]);
  const syncFailure = find(`:${fixture.server.closedPort}/x`)[1][1];
  assert.equal(syncFailure.error_name, 'NetworkError');
  const post = find('/echo', 'POST').find((l) => l[0].body_kind === 'text');
  assert.deepEqual(post[0].headers, [['Content-Type', 'application/json']]);
  assert.equal(post[0].body.data, '{"a":1}');
  const upload = find('/cors', 'POST')[0];
  assert.equal(upload[0].upload_listeners, true);
  assert.equal(post[0].upload_listeners, false);
  assert.equal(find('/echo', 'POST').find((l) => l[0].body_kind === 'blob')[0].body.data, 'blob body');
});

test('WebSocket: identical constructor, prototype, constants and event order; every message captured', async () => {
  const { observed, events } = await compare(webSocketScenario);
  assert.deepEqual(observed.shape.constants, [0, 1, 2, 3]);
  assert.deepEqual(observed.text.log.at(-1).slice(0, 3), ['close', 4001, 'done here']);
  assert.equal(observed.refused.log.at(-1)[1], 1006);

  const sockets = byConnection(events).filter((list) => list[0].type === 'ws_connect');
  const text = sockets.find((list) => list.some((e) => e.type === 'ws_message' && e.payload.data === 'hello'));
  assert.deepEqual(text.map((e) => e.type), ['ws_connect', 'ws_open', 'ws_message', 'ws_message', 'ws_message',
    'ws_message', 'ws_message', 'ws_close']);
  assert.deepEqual(text.filter((e) => e.type === 'ws_message').map((e) => [e.direction, e.payload.data]), [
    ['sent', 'hello'], ['sent', 'wörld ✓'], ['sent', 'close:4001:done here'], ['received', 'hello'], ['received', 'wörld ✓'],
  ]);
  const close = text.at(-1);
  assert.deepEqual([close.code, close.reason, close.was_clean], [4001, 'done here', true]);
  assert.equal(text.find((e) => e.payload?.data === 'wörld ✓').payload.size_bytes, 10);

  const binary = sockets.find((list) => list.some((e) => e.type === 'ws_message' && e.payload.encoding === 'base64' && e.payload.size_bytes === 4));
  const binaryMessages = binary.filter((e) => e.type === 'ws_message' && e.payload.encoding === 'base64');
  const sentBinary = binaryMessages.filter((e) => e.direction === 'sent').map((e) => decode(e.payload));
  const receivedBinary = binaryMessages.filter((e) => e.direction === 'received').map((e) => decode(e.payload));
  assert.deepEqual(sentBinary, [[0xca, 0xfe, 1, 2], [9, 9], [4, 5, 6]]);
  assert.deepEqual(receivedBinary, [[0xca, 0xfe, 1, 2], [9, 9], [4, 5, 6]]);

  const blob = sockets.find((list) => list.some((e) => e.type === 'ws_message' && e.payload.data === 'text after blob'));
  const blobMessages = blob.filter((e) => e.type === 'ws_message');
  // Blob payloads are read asynchronously but stay in order on their connection.
  assert.deepEqual(blobMessages.filter((e) => e.direction === 'received').map((e) => decode(e.payload)), [[1, 2, 3], 'text after blob']);
  assert.deepEqual(blobMessages.filter((e) => e.direction === 'sent').map((e) => decode(e.payload)), [[1, 2, 3], 'text after blob', 'close:1000:bye']);

  const protocols = sockets.find((list) => list[0].protocols.length === 2);
  assert.deepEqual(protocols[0].protocols, ['proto-a', 'proto-b']);
  assert.equal(protocols.find((e) => e.type === 'ws_open').protocol, 'proto-a');

  const clientClose = sockets.find((list) => list.some((e) => e.type === 'ws_close' && e.code === 3000));
  assert.ok(!clientClose.some((e) => e.payload?.data === 'after close is discarded'), 'discarded sends are not captured');

  const refused = sockets.find((list) => list[0].url.includes(`:${fixture.server.closedPort}/`));
  assert.deepEqual(refused.map((e) => e.type), ['ws_connect', 'ws_error', 'ws_close']);
  assert.equal(refused.at(-1).code, 1006);
});

test('EventSource: identical events with the hook; open, events, ids and errors captured', async () => {
  const { observed, events } = await compare(eventSourceScenario);
  assert.deepEqual(observed.stream.map((entry) => entry[0]), ['initial', 'open', 'message', 'tick', 'message', 'error', 'error']);
  const sse = byConnection(events).find((list) => list[0].type === 'sse_connect');
  assert.deepEqual(sse.map((e) => e.type), ['sse_connect', 'sse_open', 'sse_message', 'sse_message', 'sse_message', 'sse_error', 'sse_error']);
  const messages = sse.filter((e) => e.type === 'sse_message').map((e) => [e.event_type, e.data, e.last_event_id]);
  assert.deepEqual(messages, [['message', 'first', '1'], ['tick', '{"n":2}', '2'], ['message', 'line one\nline two', '3']]);
  assert.deepEqual(sse.filter((e) => e.type === 'sse_error').map((e) => e.ready_state), [0, 2]);
});
