/*
 * Framescope demo traffic: a steady, realistic mix of real requests against the demo
 * backends of `framescope serve --demo`, for the dashboard to capture through the hook.
 *
 * Load it after /hook.js. It does nothing until started:
 *   globalThis.framescopeDemo.start()   -> Promise<boolean> (false when demo mode is off)
 *   globalThis.framescopeDemo.stop()
 *   globalThis.framescopeDemo.running   -> boolean
 *   globalThis.framescopeDemo.counts    -> { requests, messages_sent, ... } (a copy)
 *
 * Every request crosses a real transport: fetch and XHR JSON-RPC over HTTP, JSON-RPC and
 * 0xCAFE binary frames over WebSocket, server-sent events, and cross-origin calls of which
 * one kind fails its CORS preflight the way a Go net/rpc handler makes it fail.
 */
(function framescopeDemoTraffic(global) {
  'use strict';

  var HTTP_INTERVAL_MILLIS = 650;
  var WS_INTERVAL_MILLIS = 1100;
  var CAFE_INTERVAL_MILLIS = 900;
  var PREFLIGHT_FAILURE_EVERY = 12; // HTTP ticks between two failing preflights.
  var RECONNECT_MILLIS = 2000;
  // A made-up API token the demo app sends on its same-origin JSON-RPC calls.
  var DEMO_BEARER_TOKEN = 'demo-bearer-4f9c2e71d8a3';

  var state = {
    running: false,
    generation: 0,
    timers: [],
    sockets: [],
    jsonRpcSocket: null,
    cafeSocket: null,
    source: null,
    endpoints: null,
    httpTicks: 0,
    nextRpcId: 1,
    // 0xCAFE request ids start just below 2^53 so the inspector shows ids JavaScript numbers cannot hold.
    nextCafeId: 9007199254740990n,
    cafeSends: 0,
  };
  var counts = {
    requests: 0,
    failures: 0,
    messages_sent: 0,
    messages_received: 0,
    sse_events: 0,
    shm_calls: 0,
  };

  function pick(items) {
    return items[Math.floor(Math.random() * items.length)];
  }

  function integer(low, high) {
    return low + Math.floor(Math.random() * (high - low + 1));
  }

  function later(callback, millis) {
    var generation = state.generation;
    var timer = setTimeout(function () {
      var index = state.timers.indexOf(timer);
      if (index !== -1) state.timers.splice(index, 1);
      if (state.running && generation === state.generation) callback();
    }, millis);
    state.timers.push(timer);
  }

  function every(callback, millis) {
    var generation = state.generation;
    var timer = setInterval(function () {
      if (state.running && generation === state.generation) callback();
    }, millis);
    state.timers.push(timer);
  }

  function rpc(method, params, notification) {
    var request = { jsonrpc: '2.0', method: method };
    if (params !== undefined) request.params = params;
    if (!notification) request.id = state.nextRpcId++;
    return request;
  }

  function note(promise) {
    counts.requests += 1;
    return promise.then(function (response) {
      // Read the body as an app would; the hook reads its own copy.
      return response.text();
    }).catch(function () {
      counts.failures += 1;
    });
  }

  // --- JSON-RPC 2.0 over HTTP (fetch) and Go JSON-RPC 1.0 (XHR) -------------------------

  function postJson(url, body, extraHeaders) {
    var headers = { 'Content-Type': 'application/json' };
    for (var name in extraHeaders || {}) headers[name] = extraHeaders[name];
    return note(fetch(url, { method: 'POST', headers: headers, body: JSON.stringify(body) }));
  }

  function goRpcXhr(url) {
    var calls = [
      { method: 'Arith.Multiply', params: [{ A: integer(2, 99), B: integer(2, 99) }] },
      { method: 'Arith.Divide', params: [{ A: integer(10, 999), B: integer(1, 9) }] },
      { method: 'Arith.Divide', params: [{ A: integer(10, 999), B: 0 }] },
      { method: 'Arith.Pow', params: [{ A: 2, B: 8 }] },
    ];
    var call = pick(calls);
    call.id = state.nextRpcId++;
    var xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('Content-Type', 'application/json');
    xhr.onloadend = function () {
      if (xhr.status !== 200) counts.failures += 1;
    };
    counts.requests += 1;
    xhr.send(JSON.stringify(call));
  }

  function httpTick() {
    var endpoints = state.endpoints;
    state.httpTicks += 1;
    if (state.httpTicks % PREFLIGHT_FAILURE_EVERY === 0) {
      // Content-Type: application/json is not CORS-safelisted: the browser sends OPTIONS
      // first, the Go-style handler answers 405 without Access-Control headers, and the
      // call fails with an opaque TypeError.
      postJson(endpoints.cors_preflight_fails, { method: 'Arith.Multiply', params: [{ A: 6, B: 7 }], id: state.nextRpcId++ });
      return;
    }
    var roll = Math.random();
    if (roll < 0.36) {
      // Signed in as an app would be: exports and copies must not carry this token.
      postJson(endpoints.jsonrpc_http, pick([
        rpc('math.add', [integer(1, 500), integer(1, 500)]),
        rpc('user.get', { id: integer(1, 40) }),
        rpc('order.get', { n: integer(1, 9) }),
        rpc('clock.now'),
      ]), { Authorization: 'Bearer ' + DEMO_BEARER_TOKEN });
    } else if (roll < 0.46) {
      postJson(endpoints.jsonrpc_http, pick([
        rpc('inventory.reserve', { sku: 'SKU-' + integer(100, 999), quantity: integer(1, 5) }),
        rpc('math.divide', { a: integer(1, 100), b: 0 }),
        rpc('math.sqrt', [integer(1, 100)]),
      ]));
    } else if (roll < 0.54) {
      postJson(endpoints.jsonrpc_http, rpc('report.generate', { month: pick(['2026-09', '2026-10', '2026-11']) }));
    } else if (roll < 0.66) {
      postJson(endpoints.jsonrpc_http, [
        rpc('math.add', { a: integer(1, 9), b: integer(1, 9) }),
        rpc('user.get', [integer(1, 40)]),
        rpc('log.write', ['batch sent'], true),
      ]);
    } else if (roll < 0.86) {
      goRpcXhr(endpoints.go_jsonrpc_http);
    } else {
      postJson(endpoints.cors_ok, rpc('math.divide', [integer(10, 99), integer(1, 9)]), {
        'X-Request-Id': 'demo-' + state.nextRpcId,
      });
    }
  }

  // --- JSON-RPC 2.0 over WebSocket --------------------------------------------------------

  function track(socket) {
    state.sockets.push(socket);
    socket.addEventListener('close', function () {
      var index = state.sockets.indexOf(socket);
      if (index !== -1) state.sockets.splice(index, 1);
    });
  }

  function openJsonRpcSocket() {
    var socket = new WebSocket(state.endpoints.jsonrpc_ws);
    state.jsonRpcSocket = socket;
    track(socket);
    socket.addEventListener('open', function () {
      socket.send(JSON.stringify(rpc('ticker.subscribe', { symbol: pick(['CAFE', 'GOPHER', 'WASM']) })));
      counts.messages_sent += 1;
    });
    socket.addEventListener('message', function () {
      counts.messages_received += 1;
    });
    socket.addEventListener('close', function () {
      later(openJsonRpcSocket, RECONNECT_MILLIS);
    });
  }

  function jsonRpcSocketTick() {
    var socket = state.jsonRpcSocket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    var message = Math.random() < 0.2
      ? [rpc('clock.now'), rpc('math.add', [integer(1, 9), integer(1, 9)])]
      : pick([
        rpc('math.add', [integer(1, 99), integer(1, 99)]),
        rpc('user.get', { id: integer(1, 40) }),
        rpc('report.generate', { month: '2026-11' }),
        rpc('inventory.reserve', { sku: 'SKU-' + integer(100, 999) }),
        rpc('log.write', ['heartbeat from page'], true),
      ]);
    socket.send(JSON.stringify(message));
    counts.messages_sent += 1;
  }

  // --- 0xCAFE binary frames over WebSocket --------------------------------------------------

  function varint(bytes, value) {
    var big = BigInt.asUintN(64, BigInt(value));
    while (big >= 0x80n) {
      bytes.push(Number(big & 0x7fn) | 0x80);
      big >>= 7n;
    }
    bytes.push(Number(big));
  }

  function lengthDelimited(bytes, fieldNumber, content) {
    varint(bytes, (fieldNumber << 3) | 2);
    varint(bytes, content.length);
    for (var i = 0; i < content.length; i++) bytes.push(content[i]);
  }

  /** Request { string method = 1; repeated int64 values = 2 [packed]; string text = 3; } */
  function cafeRequestPayload(method, values, text) {
    var bytes = [];
    var encoder = new TextEncoder();
    lengthDelimited(bytes, 1, encoder.encode(method));
    if (values.length) {
      var packed = [];
      values.forEach(function (value) { varint(packed, value); });
      lengthDelimited(bytes, 2, packed);
    }
    if (text) lengthDelimited(bytes, 3, encoder.encode(text));
    return new Uint8Array(bytes);
  }

  function cafeFrame(requestId, payload) {
    var frame = new Uint8Array(16 + payload.length);
    var view = new DataView(frame.buffer);
    view.setUint16(0, 0xcafe);
    view.setUint8(2, 1);
    view.setUint8(3, 0x01);
    view.setBigUint64(4, requestId);
    view.setUint32(12, payload.length);
    frame.set(payload, 16);
    return frame;
  }

  function nextCafeFrame() {
    var call = pick([
      ['sum', [integer(1, 1000), integer(-50, 50), integer(1, 9)], ''],
      ['sum', [integer(1, 9)], ''],
      ['echo', [], 'ping ' + integer(1, 999)],
      ['upper', [], 'gopher says hi'],
      ['quota', [], ''],
      ['resize', [640, 480], ''],
    ]);
    var requestId = state.nextCafeId;
    state.nextCafeId += 1n;
    return cafeFrame(requestId, cafeRequestPayload(call[0], call[1], call[2]));
  }

  function openCafeSocket() {
    var socket = new WebSocket(state.endpoints.cafe_ws);
    socket.binaryType = 'arraybuffer';
    state.cafeSocket = socket;
    track(socket);
    socket.addEventListener('message', function () {
      counts.messages_received += 1;
    });
    socket.addEventListener('close', function () {
      later(openCafeSocket, RECONNECT_MILLIS);
    });
  }

  function cafeTick() {
    var socket = state.cafeSocket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    state.cafeSends += 1;
    if (state.cafeSends % 3 === 0) {
      // Two frames coalesced in one message.
      var first = nextCafeFrame();
      var second = nextCafeFrame();
      var both = new Uint8Array(first.length + second.length);
      both.set(first, 0);
      both.set(second, first.length);
      socket.send(both);
      counts.messages_sent += 1;
    } else if (state.cafeSends % 5 === 0) {
      // One frame split across two messages, cut inside the header.
      var frame = nextCafeFrame();
      socket.send(frame.slice(0, 6));
      socket.send(frame.slice(6));
      counts.messages_sent += 2;
    } else {
      socket.send(nextCafeFrame());
      counts.messages_sent += 1;
    }
  }

  // --- Server-sent events ----------------------------------------------------------------

  function openEventSource() {
    var source = new EventSource(state.endpoints.sse);
    var onEvent = function () {
      counts.sse_events += 1;
    };
    source.addEventListener('message', onEvent);
    source.addEventListener('deploy', onEvent);
    state.source = source;
  }

  // --- Shared memory: a worker service over a mailbox and two rings (static/demo-shm-worker.js) --

  var SHM_MAILBOX_INTERVAL_MILLIS = 800;
  var SHM_RING_INTERVAL_MILLIS = 450;
  var SHM_RING_CAPACITY_BYTES = 512;
  var shm = null;

  function shmViews(buffer) {
    return { i32: new Int32Array(buffer), u8: new Uint8Array(buffer) };
  }

  function shmAvailable() {
    return global.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function' &&
      typeof Atomics.waitAsync === 'function' && typeof Worker === 'function';
  }

  async function shmMailboxCall(mailbox, request) {
    var bytes = new TextEncoder().encode(JSON.stringify(request));
    mailbox.u8.set(bytes, 8);
    Atomics.store(mailbox.i32, 1, bytes.length);
    Atomics.store(mailbox.i32, 0, 1);
    Atomics.notify(mailbox.i32, 0);
    while (Atomics.load(mailbox.i32, 0) === 1) {
      var waited = Atomics.waitAsync(mailbox.i32, 0, 1, 10000);
      if (waited.async) await waited.value;
      if (!shm || shm.stopped) return;
    }
    Atomics.store(mailbox.i32, 0, 0);
    Atomics.notify(mailbox.i32, 0);
    counts.shm_calls += 1;
  }

  function shmMailboxTick() {
    if (!shm || shm.mailboxBusy) return;
    shm.mailboxBusy = true;
    var request = Math.random() < 0.02
      ? rpc('cache.flush')
      : pick([
        rpc('image.thumbnail', [integer(320, 4096), integer(240, 2160)]),
        rpc('crypto.hash', ['payload-' + integer(1, 99999)]),
        rpc('index.search', ['gopher ' + pick(['wasm', 'rpc', 'atomics'])]),
        rpc('index.search', ['shared memory']),
        rpc('image.crop', [10, 10]),
      ]);
    shmMailboxCall(shm.bus, request).then(function () {
      if (shm) shm.mailboxBusy = false;
    });
  }

  function shmRingWrite(ring, bytes) {
    var head = Atomics.load(ring.i32, 0);
    var tail = Atomics.load(ring.i32, 1);
    var capacity = SHM_RING_CAPACITY_BYTES;
    if (capacity - 1 - ((head - tail + capacity) % capacity) < 4 + bytes.length) return false;
    var n = bytes.length;
    var prefixed = new Uint8Array(4 + n);
    prefixed.set([n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255], 0);
    prefixed.set(bytes, 4);
    for (var i = 0; i < prefixed.length; i++) ring.u8[8 + ((head + i) % capacity)] = prefixed[i];
    Atomics.store(ring.i32, 0, (head + prefixed.length) % capacity);
    Atomics.notify(ring.i32, 0);
    return true;
  }

  function shmRingDrain(ring) {
    var capacity = SHM_RING_CAPACITY_BYTES;
    for (;;) {
      var head = Atomics.load(ring.i32, 0);
      var tail = Atomics.load(ring.i32, 1);
      if (head === tail) return;
      var n = 0;
      for (var i = 3; i >= 0; i--) n = n * 256 + ring.u8[8 + ((tail + i) % capacity)];
      Atomics.store(ring.i32, 1, (tail + 4 + n) % capacity);
      Atomics.notify(ring.i32, 1);
      counts.shm_calls += 1;
    }
  }

  function shmRingTick() {
    if (!shm) return;
    shmRingDrain(shm.ringResponses);
    var burst = integer(1, 4);
    for (var i = 0; i < burst; i++) {
      if (!shmRingWrite(shm.ringRequests, nextCafeFrame())) break;
    }
  }

  /** The page answers the worker's questions on the callback mailbox, never blocking. */
  async function shmServeCallbacks(mailbox) {
    while (shm && !shm.stopped) {
      var state = Atomics.load(mailbox.i32, 0);
      if (state !== 1) {
        var waited = Atomics.waitAsync(mailbox.i32, 0, state, 1000);
        if (waited.async) await waited.value;
        continue;
      }
      var length = Atomics.load(mailbox.i32, 1);
      var request = JSON.parse(new TextDecoder().decode(mailbox.u8.slice(8, 8 + length)));
      var bytes = new TextEncoder().encode(JSON.stringify({ jsonrpc: '2.0', result: { shown: true }, id: request.id }));
      mailbox.u8.set(bytes, 8);
      Atomics.store(mailbox.i32, 1, bytes.length);
      Atomics.store(mailbox.i32, 0, 2);
      Atomics.notify(mailbox.i32, 0);
    }
  }

  function startSharedMemory() {
    if (!shmAvailable()) return;
    var buffers = {
      bus: new SharedArrayBuffer(4096),
      callback: new SharedArrayBuffer(1024),
      ringRequests: new SharedArrayBuffer(8 + SHM_RING_CAPACITY_BYTES),
      ringResponses: new SharedArrayBuffer(8 + SHM_RING_CAPACITY_BYTES),
      control: new SharedArrayBuffer(4),
    };
    var api = global.framescope;
    if (api && typeof api.registerSharedChannel === 'function') {
      api.registerSharedChannel(buffers.bus, { name: 'demo-bus', layout: 'mailbox' });
      api.registerSharedChannel(buffers.callback, { name: 'demo-callback', layout: 'mailbox' });
      api.registerSharedChannel(buffers.ringRequests, { name: 'demo-ring-requests', layout: 'ring', connection: 'demo-ring' });
      api.registerSharedChannel(buffers.ringResponses, { name: 'demo-ring-responses', layout: 'ring', connection: 'demo-ring' });
    }
    var worker = new Worker('/demo-shm-worker.js', { name: 'framescope-demo-shm' });
    shm = {
      worker: worker,
      stopped: false,
      mailboxBusy: false,
      bus: shmViews(buffers.bus),
      callback: shmViews(buffers.callback),
      ringRequests: shmViews(buffers.ringRequests),
      ringResponses: shmViews(buffers.ringResponses),
      control: new Int32Array(buffers.control),
    };
    worker.postMessage(Object.assign({ op: 'start' }, buffers));
    shmServeCallbacks(shm.callback);
    every(shmMailboxTick, SHM_MAILBOX_INTERVAL_MILLIS);
    every(shmRingTick, SHM_RING_INTERVAL_MILLIS);
  }

  function stopSharedMemory() {
    if (!shm) return;
    shm.stopped = true;
    Atomics.store(shm.control, 0, 1);
    Atomics.notify(shm.bus.i32, 0);
    var worker = shm.worker;
    shm = null;
    setTimeout(function () { worker.terminate(); }, 200);
  }

  // --- Control --------------------------------------------------------------------------------

  function start() {
    if (state.running) return Promise.resolve(true);
    state.running = true;
    state.generation += 1;
    var generation = state.generation;
    return fetch('/__framescope/info').then(function (response) {
      if (!response.ok) throw new Error('info endpoint answered ' + response.status);
      return response.json();
    }).then(function (info) {
      if (!state.running || generation !== state.generation) return false;
      if (!info.demo || !info.demo_endpoints) {
        state.running = false;
        return false;
      }
      state.endpoints = info.demo_endpoints;
      openJsonRpcSocket();
      openCafeSocket();
      openEventSource();
      every(httpTick, HTTP_INTERVAL_MILLIS);
      every(jsonRpcSocketTick, WS_INTERVAL_MILLIS);
      every(cafeTick, CAFE_INTERVAL_MILLIS);
      startSharedMemory();
      return true;
    }).catch(function (error) {
      state.running = false;
      if (global.console) global.console.warn('framescope demo traffic could not start: ' + error.message);
      return false;
    });
  }

  function stop() {
    if (!state.running) return;
    state.running = false;
    state.generation += 1;
    state.timers.forEach(function (timer) {
      clearTimeout(timer);
      clearInterval(timer);
    });
    state.timers = [];
    state.sockets.slice().forEach(function (socket) {
      socket.close(1000, 'demo traffic stopped');
    });
    state.sockets = [];
    state.jsonRpcSocket = null;
    state.cafeSocket = null;
    if (state.source) state.source.close();
    state.source = null;
    stopSharedMemory();
  }

  global.framescopeDemo = {
    start: start,
    stop: stop,
    get running() {
      return state.running;
    },
    get counts() {
      return Object.assign({}, counts);
    },
  };
})(globalThis);
