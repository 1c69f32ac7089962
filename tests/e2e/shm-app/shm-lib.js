/*
 * A small app-side library for shared-memory RPC between a page and its workers, written
 * the way the seed's users write it: a mailbox (command word IDLE=0 / REQUEST=1 /
 * RESPONSE=2 at Int32 index 0, payload length at index 1, payload from byte 8) and a
 * single-producer single-consumer ring of length-prefixed frames (head at index 0, tail at
 * index 1, data from byte 8, 4-byte little-endian length prefix, wrap-around). Used by the
 * shared-memory end-to-end tests and the benchmark, with and without the Framescope hook.
 * Classic script: loads with <script>, importScripts() and (for its globals) import.
 */
(function (global) {
  'use strict';
  var IDLE = 0;
  var REQUEST = 1;
  var RESPONSE = 2;
  var encoder = new TextEncoder();
  var decoder = new TextDecoder();

  function views(buffer) {
    return { i32: new Int32Array(buffer), u8: new Uint8Array(buffer) };
  }

  function writePayload(mailbox, bytes) {
    mailbox.u8.set(bytes, 8);
    Atomics.store(mailbox.i32, 1, bytes.length);
  }

  function readPayload(mailbox) {
    var length = Atomics.load(mailbox.i32, 1);
    // Copy out of shared memory (TextDecoder refuses shared views).
    return mailbox.u8.slice(8, 8 + length);
  }

  /** Requester on the page: never blocks (waitAsync). Resolves the response bytes. */
  async function mailboxCallAsync(mailbox, bytes) {
    writePayload(mailbox, bytes);
    Atomics.store(mailbox.i32, 0, REQUEST);
    Atomics.notify(mailbox.i32, 0);
    while (Atomics.load(mailbox.i32, 0) === REQUEST) {
      var waited = Atomics.waitAsync(mailbox.i32, 0, REQUEST, 5000);
      if (waited.async) await waited.value;
    }
    var response = readPayload(mailbox);
    Atomics.store(mailbox.i32, 0, IDLE);
    Atomics.notify(mailbox.i32, 0);
    return response;
  }

  /** Requester in a worker: blocks in Atomics.wait. */
  function mailboxCallBlocking(mailbox, bytes) {
    writePayload(mailbox, bytes);
    Atomics.store(mailbox.i32, 0, REQUEST);
    Atomics.notify(mailbox.i32, 0);
    while (Atomics.load(mailbox.i32, 0) === REQUEST) Atomics.wait(mailbox.i32, 0, REQUEST, 5000);
    var response = readPayload(mailbox);
    Atomics.store(mailbox.i32, 0, IDLE);
    Atomics.notify(mailbox.i32, 0);
    return response;
  }

  /** Responder in a worker: serves `count` requests, blocking between them. */
  function mailboxServeBlocking(mailbox, count, handle) {
    for (var served = 0; served < count; served++) {
      var state;
      while ((state = Atomics.load(mailbox.i32, 0)) !== REQUEST) Atomics.wait(mailbox.i32, 0, state, 5000);
      writePayload(mailbox, handle(readPayload(mailbox)));
      Atomics.store(mailbox.i32, 0, RESPONSE);
      Atomics.notify(mailbox.i32, 0);
    }
  }

  /** Responder on the page: serves `count` requests with waitAsync. */
  async function mailboxServeAsync(mailbox, count, handle) {
    for (var served = 0; served < count; served++) {
      var state;
      while ((state = Atomics.load(mailbox.i32, 0)) !== REQUEST) {
        var waited = Atomics.waitAsync(mailbox.i32, 0, state, 5000);
        if (waited.async) await waited.value;
      }
      writePayload(mailbox, handle(readPayload(mailbox)));
      Atomics.store(mailbox.i32, 0, RESPONSE);
      Atomics.notify(mailbox.i32, 0);
    }
  }

  function ring(buffer, dataOffset, capacity) {
    var v = views(buffer);
    v.data = dataOffset;
    v.capacity = capacity;
    return v;
  }

  function ringUsed(r, head, tail) {
    return (head - tail + r.capacity) % r.capacity;
  }

  function ringPut(r, position, bytes) {
    for (var i = 0; i < bytes.length; i++) r.u8[r.data + ((position + i) % r.capacity)] = bytes[i];
  }

  function ringGet(r, position, length) {
    var out = new Uint8Array(length);
    for (var i = 0; i < length; i++) out[i] = r.u8[r.data + ((position + i) % r.capacity)];
    return out;
  }

  /** Producer: false when the frame does not fit now. One byte always stays free. */
  function ringTryWrite(r, bytes) {
    var head = Atomics.load(r.i32, 0);
    var tail = Atomics.load(r.i32, 1);
    if (r.capacity - 1 - ringUsed(r, head, tail) < 4 + bytes.length) return false;
    var n = bytes.length;
    ringPut(r, head, new Uint8Array([n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255]));
    ringPut(r, (head + 4) % r.capacity, bytes);
    Atomics.store(r.i32, 0, (head + 4 + n) % r.capacity);
    Atomics.notify(r.i32, 0);
    return true;
  }

  /** Consumer: the next frame, or null when the ring is empty. */
  function ringTryRead(r) {
    var head = Atomics.load(r.i32, 0);
    var tail = Atomics.load(r.i32, 1);
    if (head === tail) return null;
    var prefix = ringGet(r, tail, 4);
    var n = prefix[0] | (prefix[1] << 8) | (prefix[2] << 16) | (prefix[3] << 24);
    var bytes = ringGet(r, (tail + 4) % r.capacity, n);
    Atomics.store(r.i32, 1, (tail + 4 + n) % r.capacity);
    Atomics.notify(r.i32, 1);
    return bytes;
  }

  function ringWriteBlocking(r, bytes) {
    while (!ringTryWrite(r, bytes)) Atomics.wait(r.i32, 1, Atomics.load(r.i32, 1), 50);
  }

  function ringReadBlocking(r) {
    for (;;) {
      var frame = ringTryRead(r);
      if (frame) return frame;
      Atomics.wait(r.i32, 0, Atomics.load(r.i32, 0), 5000);
    }
  }

  async function ringWriteAsync(r, bytes) {
    while (!ringTryWrite(r, bytes)) {
      var waited = Atomics.waitAsync(r.i32, 1, Atomics.load(r.i32, 1), 50);
      if (waited.async) await waited.value;
    }
  }

  async function ringReadAsync(r) {
    for (;;) {
      var frame = ringTryRead(r);
      if (frame) return frame;
      var waited = Atomics.waitAsync(r.i32, 0, Atomics.load(r.i32, 0), 5000);
      if (waited.async) await waited.value;
    }
  }

  function json(value) {
    return encoder.encode(JSON.stringify(value));
  }

  function parse(bytes) {
    return JSON.parse(decoder.decode(bytes));
  }

  /** The service both sides answer: JSON-RPC 2.0 math. */
  function answer(bytes) {
    var request = parse(bytes);
    var result;
    if (request.method === 'math.add') result = request.params[0] + request.params[1];
    else if (request.method === 'math.mul') result = request.params[0] * request.params[1];
    else if (request.method === 'text.repeat') result = String(request.params[0]).repeat(request.params[1]);
    else return json({ jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: request.id });
    return json({ jsonrpc: '2.0', result: result, id: request.id });
  }

  global.ShmLib = {
    IDLE: IDLE, REQUEST: REQUEST, RESPONSE: RESPONSE,
    views: views, ring: ring,
    mailboxCallAsync: mailboxCallAsync, mailboxCallBlocking: mailboxCallBlocking,
    mailboxServeBlocking: mailboxServeBlocking, mailboxServeAsync: mailboxServeAsync,
    ringTryWrite: ringTryWrite, ringTryRead: ringTryRead,
    ringWriteBlocking: ringWriteBlocking, ringReadBlocking: ringReadBlocking,
    ringWriteAsync: ringWriteAsync, ringReadAsync: ringReadAsync,
    json: json, parse: parse, answer: answer,
  };
})(typeof globalThis !== 'undefined' ? globalThis : self);
