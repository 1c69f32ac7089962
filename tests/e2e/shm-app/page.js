/*
 * Page side of the shared-memory tests and benchmark: scenarios that start workers, post
 * them buffers, and run calls over mailboxes and rings. Each returns what the app saw, so a
 * run with the hook can be compared with a run without it.
 */
(function (global) {
  'use strict';
  var L = global.ShmLib;
  var hooked = !!global.framescope;

  function register(buffer, options) {
    if (hooked) global.framescope.registerSharedChannel(buffer, options);
  }

  function startWorker(kind) {
    return kind === 'module'
      ? new Worker('/shm-app/worker-module.mjs', { type: 'module', name: 'module-worker' })
      : new Worker('/shm-app/worker-classic.js', { name: 'classic-worker' });
  }

  function job(worker, message, transfer) {
    return new Promise(function (resolve, reject) {
      worker.addEventListener('message', function onMessage(event) {
        if (event.data && event.data.job === message.op) {
          worker.removeEventListener('message', onMessage);
          if (event.data.error) reject(new Error(event.data.error));
          else resolve(event.data);
        }
      });
      worker.addEventListener('error', function (event) { reject(new Error('worker error: ' + event.message)); });
      worker.postMessage(message, transfer || []);
    });
  }

  function requests(count, method) {
    var list = [];
    for (var i = 1; i <= count; i++) {
      list.push({ jsonrpc: '2.0', method: method || (i % 3 === 0 ? 'math.mul' : 'math.add'), params: [i, i + 1], id: i });
    }
    return list;
  }

  /** Page asks, worker answers over a mailbox. `registerFirst` registers before the worker starts. */
  async function mailboxToWorker(options) {
    var sab = new SharedArrayBuffer(4096);
    if (options.registerFirst) register(sab, { name: 'bus', layout: 'mailbox' });
    var worker = startWorker(options.workerKind);
    var served = job(worker, { op: 'serve-mailbox', buffer: sab, count: options.count });
    // The worker is running (and blocked in Atomics.wait) before a late registration.
    await new Promise(function (resolve) { setTimeout(resolve, 100); });
    if (!options.registerFirst) register(sab, { name: 'bus', layout: 'mailbox' });
    var mailbox = L.views(sab);
    var results = [];
    var list = requests(options.count);
    for (var i = 0; i < list.length; i++) results.push(L.parse(await L.mailboxCallAsync(mailbox, L.json(list[i]))));
    await served;
    worker.terminate();
    return { results: results };
  }

  /** Worker asks, page answers over a mailbox. */
  async function mailboxToPage(options) {
    var sab = new SharedArrayBuffer(4096);
    if (options.registerFirst) register(sab, { name: 'callback', layout: 'mailbox' });
    var worker = startWorker(options.workerKind);
    if (!options.registerFirst) register(sab, { name: 'callback', layout: 'mailbox' });
    var mailbox = L.views(sab);
    var serving = L.mailboxServeAsync(mailbox, options.count, L.answer);
    var done = await job(worker, { op: 'call-mailbox', buffer: sab, requests: requests(options.count, 'math.mul') });
    await serving;
    worker.terminate();
    return { results: done.results };
  }

  /** Page sends requests on one ring, worker answers on another: both wrap around. */
  async function ringRoundTrips(options) {
    var capacity = options.capacity || 96;
    var requestBuffer = new SharedArrayBuffer(8 + capacity);
    var responseBuffer = new SharedArrayBuffer(8 + capacity);
    var worker = startWorker(options.workerKind);
    register(requestBuffer, { name: 'requests', layout: 'ring', connection: 'ring-rpc' });
    register(responseBuffer, { name: 'responses', layout: 'ring', connection: 'ring-rpc' });
    var served = job(worker, { op: 'serve-ring', requests: requestBuffer, responses: responseBuffer, dataOffset: 8, capacity: capacity, count: options.count });
    var out = L.ring(requestBuffer, 8, capacity);
    var back = L.ring(responseBuffer, 8, capacity);
    var results = [];
    var list = requests(options.count);
    var inFlight = options.pipeline || 1;
    var sent = 0;
    while (results.length < list.length) {
      while (sent < list.length && sent - results.length < inFlight) await L.ringWriteAsync(out, L.json(list[sent++]));
      results.push(L.parse(await L.ringReadAsync(back)));
    }
    await served;
    worker.terminate();
    return { results: results };
  }

  /** An unregistered buffer: only Atomics activity is visible. */
  async function rawCounter(options) {
    var sab = new SharedArrayBuffer(64);
    var worker = startWorker(options.workerKind);
    var counter = new Int32Array(sab);
    for (var i = 0; i < options.count; i++) Atomics.add(counter, 0, 1);
    var done = await job(worker, { op: 'raw', buffer: sab, count: options.count });
    worker.terminate();
    return { value: done.value };
  }

  async function relativeFetch(options) {
    var worker = startWorker(options.workerKind);
    var done = await job(worker, { op: 'fetch-relative', path: 'data.json' });
    worker.terminate();
    return { text: done.text, location: done.location, origin: done.origin };
  }

  async function fetchThenTerminate(options) {
    var worker = startWorker(options.workerKind);
    var done = await job(worker, { op: 'fetch-and-answer', path: 'data.json' });
    worker.terminate();
    return { started: done.started };
  }

  /** Exceptions and results of edge-case Atomics calls, for the transparency test. */
  function atomicsEdges() {
    var out = [];
    function attempt(label, fn) {
      try {
        out.push([label, 'ok', String(fn())]);
      } catch (error) {
        out.push([label, error.name, error.message]);
      }
    }
    var shared = new Int32Array(new SharedArrayBuffer(16));
    var plain = new Int32Array(4);
    attempt('store', function () { return Atomics.store(shared, 1, 7.9); });
    attempt('store-range', function () { return Atomics.store(shared, 9, 1); });
    attempt('store-float', function () { return Atomics.store(new Float64Array(new SharedArrayBuffer(8)), 0, 1); });
    attempt('store-dataview', function () { return Atomics.store(new DataView(new SharedArrayBuffer(8)), 0, 1); });
    attempt('store-plain', function () { return Atomics.store(plain, 0, 3); });
    attempt('exchange', function () { return Atomics.exchange(shared, 1, 11); });
    attempt('cmpxchg', function () { return Atomics.compareExchange(shared, 1, 11, 12); });
    attempt('add', function () { return Atomics.add(shared, 2, 5); });
    attempt('sub', function () { return Atomics.sub(shared, 2, 1); });
    attempt('and-or-xor', function () { return [Atomics.and(shared, 2, 6), Atomics.or(shared, 2, 1), Atomics.xor(shared, 2, 3)].join(','); });
    attempt('load', function () { return Atomics.load(shared, 2); });
    attempt('notify', function () { return Atomics.notify(shared, 0, 1); });
    attempt('wait-main', function () { return Atomics.wait(shared, 0, 0, 1); });
    attempt('waitAsync-not-equal', function () { var r = Atomics.waitAsync(shared, 1, 99); return r.async + ':' + r.value; });
    attempt('waitAsync-timeout0', function () { var r = Atomics.waitAsync(shared, 1, 12, 0); return r.async + ':' + r.value; });
    attempt('names', function () { return [Atomics.store.name, Atomics.store.length, Atomics.wait.length, Atomics.waitAsync.name, String(Atomics.notify).replace(/\s+/g, ' ')].join('|'); });
    attempt('worker-ctor', function () { return [Worker.name, Worker.length, typeof Worker.prototype.postMessage, Worker.prototype.constructor === Worker].join('|'); });
    attempt('worker-no-new', function () { return Worker('/x.js'); });
    attempt('worker-bad-url', function () { return new Worker('http://[bad'); });
    return out;
  }

  /**
   * Benchmark: `count` mailbox round trips page -> worker (store + notify, the worker wakes
   * from Atomics.wait, answers, store + notify, the page wakes from waitAsync), timed by the
   * app itself around each call. Times in milliseconds.
   */
  async function benchRoundTrips(options) {
    var sab = new SharedArrayBuffer(4096);
    if (options.register) register(sab, { name: 'bench', layout: 'mailbox' });
    var worker = startWorker(options.workerKind);
    var total = options.warmup + options.count;
    var served = job(worker, { op: 'serve-mailbox', buffer: sab, count: total });
    var mailbox = L.views(sab);
    var times = [];
    var started = performance.now();
    for (var i = 0; i < total; i++) {
      var request = L.json({ jsonrpc: '2.0', method: 'math.add', params: [i, 1], id: i + 1 });
      var before = performance.now();
      await L.mailboxCallAsync(mailbox, request);
      var after = performance.now();
      if (i >= options.warmup) times.push(after - before);
    }
    var elapsed = performance.now() - started;
    await served;
    worker.terminate();
    return { times: times, elapsed_ms: elapsed };
  }

  global.ShmScenarios = {
    benchRoundTrips: benchRoundTrips,
    mailboxToWorker: mailboxToWorker,
    mailboxToPage: mailboxToPage,
    ringRoundTrips: ringRoundTrips,
    rawCounter: rawCounter,
    relativeFetch: relativeFetch,
    fetchThenTerminate: fetchThenTerminate,
    atomicsEdges: atomicsEdges,
  };
})(globalThis);
