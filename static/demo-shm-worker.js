/*
 * Framescope demo: a worker service over shared memory, started by static/demo-traffic.js in
 * the (cross-origin isolated) dashboard. Three channels, all registered by the page with
 * framescope.registerSharedChannel, so the dashboard shows their calls live:
 *
 * - `demo-bus`, a seed-style mailbox (command word IDLE=0/REQUEST=1/RESPONSE=2 at Int32
 *   index 0, payload length at index 1, payload from byte 8): the page asks JSON-RPC 2.0,
 *   this worker answers. One method sometimes hangs for seconds, so the channel shows as
 *   stuck for a while.
 * - `demo-ring-requests` / `demo-ring-responses`, two single-producer single-consumer rings
 *   of length-prefixed frames (head at index 0, tail at index 1, data from byte 8) carrying
 *   0xCAFE binary frames with protobuf payloads, small enough to wrap around often.
 * - `demo-callback`, a mailbox in the other direction: this worker asks the page.
 *
 * The worker blocks in Atomics.wait (with short timeouts) the way such services do; the page
 * never blocks (Atomics.waitAsync).
 */
'use strict';

var IDLE = 0;
var REQUEST = 1;
var RESPONSE = 2;
var encoder = new TextEncoder();
var decoder = new TextDecoder();

function views(buffer) {
  return { i32: new Int32Array(buffer), u8: new Uint8Array(buffer) };
}

function readPayload(mailbox) {
  var length = Atomics.load(mailbox.i32, 1);
  return mailbox.u8.slice(8, 8 + length);
}

function writePayload(mailbox, bytes) {
  mailbox.u8.set(bytes, 8);
  Atomics.store(mailbox.i32, 1, bytes.length);
}

function sleepMillis(millis) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, millis);
}

// --- JSON-RPC over the mailbox ------------------------------------------------------------
function answerJson(bytes) {
  var request;
  try {
    request = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    return { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null };
  }
  var params = request.params || [];
  switch (request.method) {
    case 'image.thumbnail':
      sleepMillis(2 + Math.floor(Math.random() * 6));
      return { jsonrpc: '2.0', result: { width: 160, height: Math.round(160 * params[1] / params[0]) }, id: request.id };
    case 'crypto.hash':
      return { jsonrpc: '2.0', result: 'sha256:' + (params[0] || '').length.toString(16).padStart(8, '0'), id: request.id };
    case 'index.search':
      sleepMillis(Math.floor(Math.random() * 3));
      return { jsonrpc: '2.0', result: { hits: Math.floor(Math.random() * 40), query: params[0] }, id: request.id };
    case 'cache.flush':
      // Hangs long enough for the channel to show as stuck.
      sleepMillis(7000);
      return { jsonrpc: '2.0', result: { flushed: true }, id: request.id };
    default:
      return { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found: ' + request.method }, id: request.id };
  }
}

function serveMailbox(mailbox) {
  if (Atomics.load(mailbox.i32, 0) !== REQUEST) return false;
  writePayload(mailbox, encoder.encode(JSON.stringify(answerJson(readPayload(mailbox)))));
  Atomics.store(mailbox.i32, 0, RESPONSE);
  Atomics.notify(mailbox.i32, 0);
  return true;
}

// --- 0xCAFE frames over the rings -----------------------------------------------------------
function ring(buffer) {
  var v = views(buffer);
  v.data = 8;
  v.capacity = buffer.byteLength - 8;
  return v;
}

function ringGet(r, position, length) {
  var out = new Uint8Array(length);
  for (var i = 0; i < length; i++) out[i] = r.u8[r.data + ((position + i) % r.capacity)];
  return out;
}

function ringPut(r, position, bytes) {
  for (var i = 0; i < bytes.length; i++) r.u8[r.data + ((position + i) % r.capacity)] = bytes[i];
}

function ringRead(r) {
  var head = Atomics.load(r.i32, 0);
  var tail = Atomics.load(r.i32, 1);
  if (head === tail) return null;
  var prefix = ringGet(r, tail, 4);
  var length = prefix[0] | (prefix[1] << 8) | (prefix[2] << 16) | (prefix[3] << 24);
  var frame = ringGet(r, (tail + 4) % r.capacity, length);
  Atomics.store(r.i32, 1, (tail + 4 + length) % r.capacity);
  Atomics.notify(r.i32, 1);
  return frame;
}

function ringWrite(r, bytes) {
  for (var attempt = 0; attempt < 200; attempt++) {
    var head = Atomics.load(r.i32, 0);
    var tail = Atomics.load(r.i32, 1);
    var free = r.capacity - 1 - ((head - tail + r.capacity) % r.capacity);
    if (free >= 4 + bytes.length) {
      var n = bytes.length;
      ringPut(r, head, new Uint8Array([n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255]));
      ringPut(r, (head + 4) % r.capacity, bytes);
      Atomics.store(r.i32, 0, (head + 4 + n) % r.capacity);
      Atomics.notify(r.i32, 0);
      return true;
    }
    Atomics.wait(r.i32, 1, tail, 5);
  }
  return false; // The page stopped reading: drop the answer.
}

function varint(out, value) {
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

/** Answers a 0xCAFE request frame: Response { int64 value = 1; string text = 2; }. */
function answerCafe(frame) {
  if (frame.length < 16 || frame[0] !== 0xca || frame[1] !== 0xfe) return null;
  var view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  var requestId = view.getBigUint64(4);
  var payload = [];
  varint(payload, 8);
  varint(payload, Math.floor(Math.random() * 1000));
  var text = encoder.encode('ok');
  payload.push(0x12, text.length);
  for (var i = 0; i < text.length; i++) payload.push(text[i]);
  var out = new Uint8Array(16 + payload.length);
  var outView = new DataView(out.buffer);
  outView.setUint16(0, 0xcafe);
  outView.setUint8(2, 1);
  outView.setUint8(3, 0x02);
  outView.setBigUint64(4, requestId);
  outView.setUint32(12, payload.length);
  out.set(payload, 16);
  return out;
}

// --- The worker asks the page ---------------------------------------------------------------
var nextCallbackId = 1;
function askPage(mailbox) {
  if (Atomics.load(mailbox.i32, 0) !== IDLE) return;
  var request = { jsonrpc: '2.0', method: 'ui.progress', params: { done: Math.floor(Math.random() * 100) }, id: 'w' + nextCallbackId++ };
  writePayload(mailbox, encoder.encode(JSON.stringify(request)));
  Atomics.store(mailbox.i32, 0, REQUEST);
  Atomics.notify(mailbox.i32, 0);
  var deadline = Date.now() + 1000;
  while (Atomics.load(mailbox.i32, 0) === REQUEST && Date.now() < deadline) Atomics.wait(mailbox.i32, 0, REQUEST, 50);
  if (Atomics.load(mailbox.i32, 0) === RESPONSE) {
    readPayload(mailbox);
    Atomics.store(mailbox.i32, 0, IDLE);
    Atomics.notify(mailbox.i32, 0);
  }
}

self.addEventListener('message', function (event) {
  var data = event.data;
  if (!data || data.op !== 'start') return;
  var bus = views(data.bus);
  var callback = views(data.callback);
  var requests = ring(data.ringRequests);
  var responses = ring(data.ringResponses);
  var stop = new Int32Array(data.control);
  var lastCallback = Date.now();
  self.postMessage({ op: 'started' });
  while (Atomics.load(stop, 0) === 0) {
    var busy = serveMailbox(bus);
    var frame;
    while ((frame = ringRead(requests)) !== null) {
      var answer = answerCafe(frame);
      if (answer) ringWrite(responses, answer);
      busy = true;
    }
    if (Date.now() - lastCallback > 2500) {
      askPage(callback);
      lastCallback = Date.now();
    }
    if (!busy) Atomics.wait(bus.i32, 0, Atomics.load(bus.i32, 0), 20);
  }
  self.postMessage({ op: 'stopped' });
});
