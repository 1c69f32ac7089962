/*
 * Framescope in-page hook.
 *
 * Captures what a page says over fetch, XMLHttpRequest, WebSocket and EventSource and hands
 * it out as capture events (the schema of inspector-core/src/event.rs, documented in
 * docs/capture-events.md) to in-page subscribers and, when loaded with a relay token, to the
 * live relay of `framescope serve`. The API is documented in docs/hook-api.md.
 *
 * Install it synchronously before any page script: as the first <script> of the page, or as
 * a MAIN-world, document_start content script. No dependencies, no build step.
 *
 * Rules this file keeps:
 * - Transparent: the app sees the same results, errors, event order, prototypes, instanceof
 *   answers and constants as without the hook. Bodies are read from clones only.
 * - Never throws into the app: every capture step runs inside `guard`.
 * - Bounded: bodies are capped (truncation marked), the queue and the relay buffer are
 *   bounded, and everything dropped is counted and reported as a `dropped` event.
 * - Never captures its own traffic (any URL containing `/__framescope/`).
 *
 * Layout: 1 install guard, 2 natives, 3 configuration and state, 4 clock and ids,
 * 5 payloads, 6 the event stream, 7 the relay, 8 fetch, 9 XMLHttpRequest, 10 WebSocket,
 * 11 EventSource, 12 shared memory and workers (extension point), 13 public API and install.
 */
(function framescopeHook(global) {
  'use strict';

  var VERSION = '0.1.0';
  var SCHEMA_VERSION = 1;
  var MARK = typeof Symbol === 'function' ? Symbol.for('framescope.hook') : '__framescopeHook';
  var OWN_TRAFFIC = '/__framescope/';

  // ---------------------------------------------------------------------------------------
  // 1. Install guard: a second copy (double install) only hands over its relay URL.
  // ---------------------------------------------------------------------------------------
  function relayUrlFromScript() {
    try {
      var script = global.document && global.document.currentScript;
      if (!script || !script.src) return null;
      var src = new URL(script.src, global.location && global.location.href);
      var token = src.searchParams.get('token');
      if (!token) return null;
      var scheme = src.protocol === 'https:' ? 'wss:' : 'ws:';
      return scheme + '//' + src.host + OWN_TRAFFIC + 'relay/hook?token=' + encodeURIComponent(token);
    } catch (error) {
      return null;
    }
  }

  function exclusionsFromScript() {
    try {
      var script = global.document && global.document.currentScript;
      var attribute = script && script.getAttribute && script.getAttribute('data-exclude-urls');
      return attribute ? attribute.split(/\s+/).filter(Boolean) : [];
    } catch (error) {
      return [];
    }
  }

  var existing = global.framescope;
  if (existing && existing[MARK]) {
    try {
      existing[MARK].noteInstall(relayUrlFromScript(), exclusionsFromScript());
    } catch (error) {
      // An older or damaged copy: leave it alone.
    }
    return;
  }

  // ---------------------------------------------------------------------------------------
  // 2. Natives, saved before the page can replace them.
  // ---------------------------------------------------------------------------------------
  var N = {
    fetch: typeof global.fetch === 'function' ? global.fetch : null,
    Request: global.Request,
    Response: global.Response,
    Headers: global.Headers,
    XMLHttpRequest: global.XMLHttpRequest,
    XMLHttpRequestUpload: global.XMLHttpRequestUpload,
    XMLHttpRequestEventTarget: global.XMLHttpRequestEventTarget,
    WebSocket: global.WebSocket,
    EventSource: global.EventSource,
    Blob: global.Blob,
    FormData: global.FormData,
    URLSearchParams: global.URLSearchParams,
    ReadableStream: global.ReadableStream,
    Document: global.Document,
    XMLSerializer: global.XMLSerializer,
    URL: global.URL,
    TextEncoder: global.TextEncoder,
    TextDecoder: global.TextDecoder,
    setTimeout: global.setTimeout,
    clearTimeout: global.clearTimeout,
    MessageChannel: global.MessageChannel,
    addEventListener: global.EventTarget && global.EventTarget.prototype.addEventListener,
    removeEventListener: global.EventTarget && global.EventTarget.prototype.removeEventListener,
    stringify: JSON.stringify,
    parse: JSON.parse,
    btoa: global.btoa,
    fromCharCode: String.fromCharCode,
    functionToString: Function.prototype.toString,
    performance: global.performance,
    performanceNow: global.performance && global.performance.now,
    console: global.console,
    consoleError: global.console && global.console.error,
  };
  var textEncoder = N.TextEncoder ? new N.TextEncoder() : null;
  var strictDecoder = N.TextDecoder ? new N.TextDecoder('utf-8', { fatal: true }) : null;
  var isArrayBufferView = ArrayBuffer.isView;

  // ---------------------------------------------------------------------------------------
  // 3. Configuration and state.
  // ---------------------------------------------------------------------------------------
  var config = {
    /** Largest body or message payload kept, in bytes; longer ones are truncated and marked. */
    maxBodyBytes: 64 * 1024,
    /** URL substrings (strings) or RegExps never captured. `/__framescope/` always is. */
    excludeUrls: exclusionsFromScript(),
    /** Delay between batches, in milliseconds. */
    batchMillis: 16,
    /** Events kept while waiting for delivery (no subscriber yet); more are dropped. */
    maxQueuedEvents: 50000,
    /** Events the relay buffers while disconnected; more are dropped. */
    maxRelayBufferedEvents: 20000,
    /** Responses whose body has not ended after this long are kept truncated. */
    bodyTimeoutMillis: 30000,
    /** False pauses capture (the app is untouched either way). */
    enabled: true,
  };

  var counters = {
    captured: 0,
    dropped: 0,
    delivered: 0,
    internalErrors: 0,
    installs: 1,
    longestFlushMicros: 0,
    flushSlices: 0,
  };
  var pendingDrops = { count: 0, reasons: {} };
  var lastInternalError = '';

  // ---------------------------------------------------------------------------------------
  // 4. Clock, ids and small helpers.
  // ---------------------------------------------------------------------------------------
  var timeOrigin = N.performance && N.performance.timeOrigin;
  var highResolution = typeof timeOrigin === 'number' && typeof N.performanceNow === 'function';
  /** Milliseconds on the hook's clock: add `clockOrigin` for milliseconds since the epoch. */
  var clockOrigin = highResolution ? timeOrigin : 0;
  function nowMillis() {
    return highResolution ? N.performanceNow.call(N.performance) : Date.now();
  }

  function nowMicros() {
    return Math.round((clockOrigin + nowMillis()) * 1000);
  }

  function randomHex(byteCount) {
    var bytes = new Uint8Array(byteCount);
    try {
      global.crypto.getRandomValues(bytes);
    } catch (error) {
      for (var i = 0; i < byteCount; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    var text = '';
    for (var j = 0; j < byteCount; j++) text += (bytes[j] < 16 ? '0' : '') + bytes[j].toString(16);
    return text;
  }

  var sessionId = 's-' + randomHex(8);
  var nextConnection = 0;
  function newConnectionId(kind) {
    nextConnection += 1;
    return kind + '-' + nextConnection;
  }

  function noteInternalError(error) {
    counters.internalErrors += 1;
    try {
      lastInternalError = String(error && error.stack ? error.stack : error);
    } catch (ignored) {
      lastInternalError = 'unprintable error';
    }
  }

  /** Runs a capture step; whatever it throws stays inside the hook. */
  function guard(step) {
    try {
      return step();
    } catch (error) {
      noteInternalError(error);
      return undefined;
    }
  }

  function baseUrl() {
    try {
      if (global.document && global.document.baseURI) return global.document.baseURI;
      return global.location ? global.location.href : undefined;
    } catch (error) {
      return undefined;
    }
  }

  /** Absolute URL of `input` as the browser would resolve it, or null. */
  function resolveUrl(input) {
    try {
      return new N.URL(String(input), baseUrl()).href;
    } catch (error) {
      return null;
    }
  }

  function shouldCapture(url) {
    if (!config.enabled || typeof url !== 'string') return false;
    if (url.indexOf(OWN_TRAFFIC) !== -1) return false;
    var exclusions = config.excludeUrls;
    for (var i = 0; i < exclusions.length; i++) {
      var rule = exclusions[i];
      if (typeof rule === 'string' ? url.indexOf(rule) !== -1 : rule.test(url)) return false;
    }
    return true;
  }

  var FORBIDDEN_CASE_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
  /** Method normalisation of the Fetch standard (only these six are upper-cased). */
  function normalizeMethod(method) {
    var upper = String(method).toUpperCase();
    return FORBIDDEN_CASE_METHODS.indexOf(upper) !== -1 ? upper : String(method);
  }

  function headerList(source) {
    var list = [];
    if (source === undefined || source === null) return list;
    var headers = source instanceof N.Headers ? source : new N.Headers(source);
    headers.forEach(function (value, name) {
      list.push([name, value]);
    });
    return list;
  }

  function findHeader(list, name) {
    for (var i = 0; i < list.length; i++) {
      if (String(list[i][0]).toLowerCase() === name) return list[i][1];
    }
    return null;
  }

  /** Makes a replacement function look like the one it replaces (name, length, toString). */
  // Replacements print as the functions they replace. Function.prototype.toString is
  // wrapped once (and prints as itself) instead of giving each replacement an own
  // `toString` property, which the app could see in getOwnPropertyNames.
  var disguised = typeof WeakMap === 'function' ? new WeakMap() : null;
  function installToString() {
    if (!disguised) return;
    var nativeToString = N.functionToString;
    var toString = function toString() {
      var original = typeof this === 'function' ? disguised.get(this) : undefined;
      return nativeToString.call(original !== undefined ? original : this);
    };
    disguise(toString, nativeToString);
    replaceProperty(Function.prototype, 'toString', toString);
  }

  function disguise(replacement, original) {
    try {
      Object.defineProperty(replacement, 'name', { value: original.name, configurable: true });
      Object.defineProperty(replacement, 'length', { value: original.length, configurable: true });
      if (disguised) disguised.set(replacement, original);
    } catch (error) {
      noteInternalError(error);
    }
    return replacement;
  }

  /** Replaces `target[name]` keeping its property attributes. */
  function replaceProperty(target, name, value) {
    var descriptor = Object.getOwnPropertyDescriptor(target, name) || {
      writable: true,
      enumerable: false,
      configurable: true,
    };
    Object.defineProperty(target, name, {
      value: value,
      writable: descriptor.writable !== false,
      enumerable: !!descriptor.enumerable,
      configurable: descriptor.configurable !== false,
    });
  }

  // ---------------------------------------------------------------------------------------
  // 5. Payloads: text kept as text, bytes as base64 (encoded at flush time, off the hot path).
  // ---------------------------------------------------------------------------------------
  function utf8Length(text) {
    var length = 0;
    for (var i = 0; i < text.length; i++) {
      var code = text.charCodeAt(i);
      if (code < 0x80) length += 1;
      else if (code < 0x800) length += 2;
      else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
        var next = text.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          length += 4;
          i += 1;
        } else length += 3;
      } else length += 3;
    }
    return length;
  }

  /** A text payload, capped at `config.maxBodyBytes` UTF-8 bytes. */
  function textPayload(text) {
    var cap = config.maxBodyBytes;
    var size = utf8Length(text);
    if (size <= cap) return { encoding: 'text', data: text, size_bytes: size, truncated: false };
    var kept = text.slice(0, cap);
    if (textEncoder && textEncoder.encodeInto) {
      var read = textEncoder.encodeInto(text, new Uint8Array(cap)).read;
      kept = text.slice(0, read);
    }
    return { encoding: 'text', data: kept, size_bytes: size, truncated: true };
  }

  function bytesOf(view) {
    if (view instanceof ArrayBuffer) return new Uint8Array(view);
    if (isArrayBufferView(view)) return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    return new Uint8Array(view);
  }

  var TEXT_TYPES = /^text\/|^multipart\/form-data|[/+](json|xml|javascript|ecmascript|x-www-form-urlencoded|graphql|yaml|csv)\b|ndjson|event-stream/i;
  function isTextType(contentType) {
    return typeof contentType === 'string' && TEXT_TYPES.test(contentType);
  }

  /**
   * A payload from bytes. With `asText`, valid UTF-8 is kept as text; everything else is
   * base64. `totalBytes` is the original size when `bytes` holds only a prefix.
   * Returns a stream entry part: { payload, pendingBytes } (base64 done at flush time).
   */
  function bytesPayload(bytes, asText, totalBytes) {
    var cap = config.maxBodyBytes;
    var size = typeof totalBytes === 'number' ? totalBytes : bytes.byteLength;
    var truncated = size > cap || bytes.byteLength > cap;
    var kept = bytes.byteLength > cap ? bytes.subarray(0, cap) : bytes;
    if (asText && strictDecoder) {
      try {
        var text = strictDecoder.decode(kept);
        return {
          payload: { encoding: 'text', data: text, size_bytes: size, truncated: truncated },
          pendingBytes: null,
        };
      } catch (notUtf8) {
        // A cut inside a multi-byte sequence or real binary: fall through to base64.
      }
    }
    return {
      payload: { encoding: 'base64', data: '', size_bytes: size, truncated: truncated },
      // Copied now: the app may reuse or transfer its buffer after this returns.
      pendingBytes: kept.slice(),
    };
  }

  function base64(bytes) {
    var chunks = [];
    for (var i = 0; i < bytes.length; i += 0x8000) {
      chunks.push(N.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)));
    }
    return N.btoa.call(global, chunks.join(''));
  }

  /**
   * Reads a stream to its end or to `cap + 1` bytes, whichever comes first, then releases
   * it. Resolves { bytes, sizeBytes, truncated } and never rejects.
   */
  function readStreamCapped(stream, cap, timeoutMillis) {
    return new Promise(function (resolve) {
      var reader;
      try {
        reader = stream.getReader();
      } catch (error) {
        resolve({ bytes: new Uint8Array(0), sizeBytes: 0, truncated: true });
        return;
      }
      var parts = [];
      var kept = 0;
      var seen = 0;
      var finished = false;
      var timer = null;
      function finish(truncated) {
        if (finished) return;
        finished = true;
        if (timer !== null) N.clearTimeout.call(global, timer);
        var bytes = new Uint8Array(kept);
        var offset = 0;
        for (var i = 0; i < parts.length; i++) {
          bytes.set(parts[i], offset);
          offset += parts[i].length;
        }
        if (truncated) guard(function () { reader.cancel().catch(function () {}); });
        resolve({ bytes: bytes, sizeBytes: seen, truncated: truncated });
      }
      timer = N.setTimeout.call(global, function () {
        finish(true);
      }, timeoutMillis);
      function pump() {
        reader.read().then(function (step) {
          if (finished) return;
          if (step.done) return finish(false);
          var chunk = step.value instanceof Uint8Array ? step.value : bytesOf(step.value);
          seen += chunk.byteLength;
          if (kept <= cap) {
            var room = cap + 1 - kept;
            var part = chunk.byteLength > room ? chunk.slice(0, room) : chunk;
            parts.push(part);
            kept += part.byteLength;
          }
          if (kept > cap) return finish(true);
          pump();
        }, function () {
          finish(true);
        });
      }
      pump();
    });
  }

  // ---------------------------------------------------------------------------------------
  // 6. The event stream: a bounded queue, flushed in batches to subscribers and the relay.
  //    Entries waiting for an asynchronous body keep later events of the same connection
  //    behind them, so each connection's events stay in order.
  //
  //    The message path only queues: WebSocket messages enter as a bare entry (connection,
  //    direction, time, a reference to the string or a copy of the bytes) and become capture
  //    events at flush time. A flush runs in slices of about SLICE_BUDGET_MILLIS (building
  //    the events plus handing them to the subscribers and the relay, whose cost per event
  //    is learned as it goes) and at most MAX_ENTRIES_PER_SLICE events; a backlog continues
  //    in the next task, so no hook task holds the main thread for long and the page's own
  //    tasks run in between.
  //
  //    Garbage: at thousands of messages per second every allocated byte per message brings
  //    the next young-generation collection (scavenge) closer. A scavenge pauses whichever
  //    task allocates when the young generation is full, for a time set mostly by what the
  //    browser keeps per received message (the message event's wrapper and its `data`), so
  //    the hook can only make them rarer. The message path allocates at most the number of
  //    its clock reading: message entries come from a pool and go back to it once built,
  //    the queue array keeps its storage (slots are cleared, not the array replaced), and a
  //    slice collects its events in a kept scratch array, so the garbage per message is the
  //    capture event handed out (event, payload and its timestamp).
  // ---------------------------------------------------------------------------------------
  var queue = []; // Entries in capture order in [queueHead, queueTail); delivered slots are null.
  var queueHead = 0; // First slot of `queue` that may still hold an entry.
  var queueTail = 0; // One past the last used slot; `queue.length` may be larger (kept storage).
  var queuedCount = 0; // Entries not yet delivered.
  // Message entries ready for reuse (see `enqueueMessage`): a stack in the first
  // `entryPoolSize` slots, indexed rather than pushed and popped, because pop() trims the
  // array's storage and the next push() allocates it again.
  var entryPool = [];
  var entryPoolSize = 0;
  var ENTRY_POOL_MAX = 1024;
  var sliceEvents = []; // Scratch array a slice collects its events in (kept storage).
  var subscribers = [];
  var flushTimer = null;
  var continuationPending = false;
  // Checked with a clock of 0.1 ms resolution (pages that are not cross-origin isolated), so
  // a slice can run up to about 0.1 ms over before it notices.
  var SLICE_BUDGET_MILLIS = 0.3;
  // Moving estimate of what delivering one event costs (subscribers, relay serialisation).
  var deliverMillisPerEvent = 0;
  var MAX_ENTRIES_PER_SLICE = 500;
  // Work units (one per entry plus one per 4 KiB of payload) between two clock readings.
  var WORK_PER_CLOCK_CHECK = 8;

  /**
   * One queued capture. Most carry a ready `event`; WebSocket messages carry `event: null`
   * and the raw message (`direction`, `timeMillis`, `data`, `sizeBytes`) until flush time.
   */
  function Entry(connectionId, event, pendingBytes, payload, waiting, direction, timeMillis, data, sizeBytes) {
    this.connectionId = connectionId;
    this.event = event;
    this.pendingBytes = pendingBytes;
    this.payload = payload;
    this.waiting = waiting;
    this.direction = direction;
    this.timeMillis = timeMillis;
    this.data = data;
    this.sizeBytes = sizeBytes;
  }

  function makeEvent(connectionId, type, fields, timeMicros) {
    var event = {
      v: SCHEMA_VERSION,
      session_id: sessionId,
      connection_id: connectionId,
      time_micros: typeof timeMicros === 'number' ? timeMicros : nowMicros(),
      type: type,
    };
    for (var key in fields) {
      if (Object.prototype.hasOwnProperty.call(fields, key)) event[key] = fields[key];
    }
    return event;
  }

  function countDrop(count, reason) {
    counters.dropped += count;
    pendingDrops.count += count;
    pendingDrops.reasons[reason] = (pendingDrops.reasons[reason] || 0) + count;
  }

  /** Adds an entry to the queue. Returns the entry, or null when it was dropped. */
  function enqueue(entry) {
    if (queuedCount >= config.maxQueuedEvents) {
      countDrop(1, 'queue full (' + config.maxQueuedEvents + ' events waiting for a subscriber)');
      return null;
    }
    counters.captured += 1;
    queuedCount += 1;
    queue[queueTail] = entry;
    queueTail += 1;
    if (flushTimer === null) scheduleFlush();
    return entry;
  }

  /** Captures a ready event. */
  function record(event, pendingBytes, payload) {
    return enqueue(new Entry(event.connection_id, event, pendingBytes || null, payload || null, false, null, 0, null, 0));
  }

  /**
   * Captures an event whose content arrives later: the producer fills `entry.payload` /
   * `entry.pendingBytes` and calls `settle(entry)` when ready.
   */
  function recordLater(event) {
    return enqueue(new Entry(event.connection_id, event, null, null, true, null, 0, null, 0));
  }

  /**
   * Queues a WebSocket message without building its event: a string is kept by reference
   * (strings are immutable), bytes are copied up to the cap (the app may reuse, change or
   * transfer its buffer after this returns).
   */
  function enqueueMessage(connectionId, direction, timeMillis, data, sizeBytes) {
    var entry;
    if (entryPoolSize > 0) {
      entryPoolSize -= 1;
      entry = entryPool[entryPoolSize];
      entryPool[entryPoolSize] = null;
      entry.connectionId = connectionId;
      entry.direction = direction;
      entry.data = data;
      entry.sizeBytes = sizeBytes;
      entry.timeMillis = timeMillis;
    } else {
      entry = new Entry(connectionId, null, null, null, false, direction, timeMillis, data, sizeBytes);
    }
    if (enqueue(entry) !== null) return entry;
    releaseMessageEntry(entry);
    return null;
  }

  /** Gives a built message entry back to the pool (it is referenced nowhere else). */
  function releaseMessageEntry(entry) {
    entry.connectionId = null;
    entry.data = null;
    if (entryPoolSize < ENTRY_POOL_MAX) {
      entryPool[entryPoolSize] = entry;
      entryPoolSize += 1;
    }
  }

  function settle(entry) {
    if (!entry) return;
    entry.waiting = false;
    scheduleFlush();
  }

  function hasSinks() {
    return subscribers.length > 0 || relay.url !== null;
  }

  function scheduleFlush() {
    if (flushTimer !== null || continuationPending || queuedCount === 0 || !hasSinks()) return;
    flushTimer = N.setTimeout.call(global, flushOnTimer, config.batchMillis);
  }

  function flushOnTimer() {
    flushTimer = null;
    flushSlice();
  }

  // A backlog continues in a new task as soon as possible: a MessageChannel message (not
  // clamped like nested zero timeouts), or a zero timeout where there is none.
  var sliceChannel = null;
  try {
    if (N.MessageChannel) {
      sliceChannel = new N.MessageChannel();
      sliceChannel.port1.onmessage = flushOnContinuation;
    }
  } catch (error) {
    sliceChannel = null;
  }

  function flushOnContinuation() {
    continuationPending = false;
    flushSlice();
  }

  function continueFlush() {
    if (continuationPending) return;
    continuationPending = true;
    if (flushTimer !== null) {
      N.clearTimeout.call(global, flushTimer);
      flushTimer = null;
    }
    if (sliceChannel !== null) {
      try {
        sliceChannel.port2.postMessage(null);
        return;
      } catch (error) {
        sliceChannel = null;
      }
    }
    N.setTimeout.call(global, flushOnContinuation, 0);
  }

  function droppedNotice() {
    var reasons = [];
    for (var reason in pendingDrops.reasons) {
      if (Object.prototype.hasOwnProperty.call(pendingDrops.reasons, reason)) {
        reasons.push(pendingDrops.reasons[reason] + ': ' + reason);
      }
    }
    var event = makeEvent('framescope-hook', 'dropped', { count: pendingDrops.count, reason: reasons.join('; ') });
    pendingDrops = { count: 0, reasons: {} };
    return event;
  }

  function finishBytes(entry) {
    guard(function () {
      entry.payload.data = base64(entry.pendingBytes);
    });
    entry.pendingBytes = null;
  }

  /** The capture event of a queued WebSocket message (see `enqueueMessage`). */
  function messageEvent(entry) {
    var data = entry.data;
    entry.data = null;
    var payload;
    if (typeof data === 'string') {
      payload = textPayload(data);
    } else {
      payload = { encoding: 'base64', data: base64(data), size_bytes: entry.sizeBytes, truncated: entry.sizeBytes > data.byteLength };
    }
    return {
      v: SCHEMA_VERSION,
      session_id: sessionId,
      connection_id: entry.connectionId,
      time_micros: Math.round((clockOrigin + entry.timeMillis) * 1000),
      type: 'ws_message',
      direction: entry.direction,
      payload: payload,
    };
  }

  /** Work units of an entry for the slice budget (large payloads cost more to finish). */
  function entryWork(entry) {
    var data = entry.event === null ? entry.data : entry.pendingBytes;
    if (data === null) return 1;
    return 1 + ((typeof data === 'string' ? data.length : data.byteLength) >> 12);
  }

  /** Drops delivered slots: the head past leading nulls, the rest once they outnumber entries. */
  function compactQueue() {
    while (queueHead < queueTail && queue[queueHead] === null) queueHead += 1;
    if (queueHead === queueTail) {
      queueHead = 0;
      queueTail = 0;
    } else if (queueTail - queueHead > 2 * queuedCount + 64 || (queueHead > 4096 && queueHead > queuedCount)) {
      // Moves the live entries to the front, in order, in place: when delivered slots
      // outnumber them behind a waiting entry, or ahead of them (a backlog never fully
      // drained), so the work is at most the slots delivered since the last move.
      var to = 0;
      for (var i = queueHead; i < queueTail; i++) {
        if (queue[i] !== null) {
          queue[to] = queue[i];
          to += 1;
        }
      }
      for (var j = to; j < queueTail; j++) queue[j] = null;
      queueHead = 0;
      queueTail = to;
    }
    // A burst may have grown the storage far beyond what is queued now: let it go.
    if (queue.length > 65536 && queueTail < queue.length >> 2) queue = queue.slice(0, queueTail);
  }

  /** One slice of a flush: finishes and delivers up to a slice budget of ready entries. */
  function flushSlice() {
    if (!hasSinks()) return;
    var started = nowMillis();
    var count = 0; // events collected in `sliceEvents`
    var blocked = null;
    var work = 0;
    var more = false;
    for (var i = queueHead; i < queueTail; i++) {
      var entry = queue[i];
      if (entry === null) continue;
      if (entry.waiting || (blocked !== null && blocked[entry.connectionId] === true)) {
        if (blocked === null) blocked = Object.create(null);
        blocked[entry.connectionId] = true;
        continue;
      }
      if (count >= MAX_ENTRIES_PER_SLICE) {
        more = true;
        break;
      }
      if (work >= WORK_PER_CLOCK_CHECK) {
        work = 0;
        if (nowMillis() - started + count * deliverMillisPerEvent >= SLICE_BUDGET_MILLIS) {
          more = true;
          break;
        }
      }
      work += entryWork(entry);
      queue[i] = null;
      queuedCount -= 1;
      try {
        if (entry.event === null) {
          sliceEvents[count] = messageEvent(entry);
          releaseMessageEntry(entry);
        } else {
          if (entry.pendingBytes !== null) finishBytes(entry);
          sliceEvents[count] = entry.event;
        }
        count += 1;
      } catch (error) {
        noteInternalError(error);
        countDrop(1, 'internal error while building an event');
      }
    }
    compactQueue();
    if (pendingDrops.count > 0) {
      sliceEvents[count] = droppedNotice();
      count += 1;
    }
    if (count > 0) {
      // The subscribers get an array of their own (they may keep it); the scratch array
      // keeps its storage but no references.
      var batch = sliceEvents.slice(0, count);
      for (var k = 0; k < count; k++) sliceEvents[k] = null;
      var delivering = nowMillis();
      deliver(batch);
      var perEvent = (nowMillis() - delivering) / batch.length;
      deliverMillisPerEvent = 0.75 * deliverMillisPerEvent + 0.25 * perEvent;
    }
    if (more) continueFlush();
    var sliceMicros = Math.round((nowMillis() - started) * 1000);
    if (sliceMicros > counters.longestFlushMicros) counters.longestFlushMicros = sliceMicros;
    counters.flushSlices += 1;
  }

  /** Delivers every ready entry now, slice after slice. A worker does this before the app's
   *  own postMessage, so the page holds this thread's events before it can act on the
   *  message (for example by terminating the worker). */
  function flushReadyNow() {
    while (queuedCount > 0) {
      var before = queuedCount;
      flushSlice();
      if (queuedCount === before) return;
    }
  }

  function deliver(batch) {
    counters.delivered += batch.length;
    var current = subscribers.slice();
    for (var i = 0; i < current.length; i++) {
      try {
        current[i](batch);
      } catch (error) {
        // A failing subscriber must not stop the others or reach the app.
        noteInternalError(error);
        try {
          N.consoleError.call(N.console, 'framescope: a subscriber threw', error);
        } catch (ignored) {
          // No console.
        }
      }
    }
    if (relay.url !== null) guard(function () { relaySend(batch); });
  }

  // ---------------------------------------------------------------------------------------
  // 7. The relay: a WebSocket to `framescope serve`, reconnecting with backoff, buffering
  //    boundedly while down, counting what it has to drop.
  // ---------------------------------------------------------------------------------------
  var relay = {
    url: null,
    socket: null,
    state: 'disabled',
    buffer: [],
    sent: 0,
    dropped: 0,
    pendingDropped: 0,
    reconnects: 0,
    attempt: 0,
    timer: null,
    serverErrors: 0,
    lastServerError: '',
  };
  var RELAY_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
  var RELAY_CHUNK_EVENTS = 1000;

  function pageEvent() {
    var document = global.document;
    return makeEvent('page', 'page', {
      url: guard(function () { return String(global.location.href); }) || '',
      title: guard(function () { return document ? String(document.title) : ''; }) || '',
      origin: guard(function () { return String(global.origin); }) || '',
      hook_version: VERSION,
    });
  }

  function relayDroppedNotice() {
    var event = makeEvent('framescope-hook', 'dropped', {
      count: relay.pendingDropped,
      reason: 'relay buffer full while disconnected (' + config.maxRelayBufferedEvents + ' events)',
    });
    relay.pendingDropped = 0;
    return event;
  }

  function relayWrite(events) {
    relay.socket.send(N.stringify(events));
    relay.sent += events.length;
  }

  function relayCanWrite() {
    return relay.state === 'open' && relay.socket.bufferedAmount < RELAY_MAX_BUFFERED_BYTES;
  }

  function relayDrain() {
    while (relay.buffer.length > 0 && relayCanWrite()) {
      var chunk = relay.buffer.splice(0, RELAY_CHUNK_EVENTS);
      if (relay.pendingDropped > 0) chunk.push(relayDroppedNotice());
      relayWrite(chunk);
    }
  }

  function relaySend(batch) {
    if (relay.buffer.length === 0 && relayCanWrite()) {
      if (relay.pendingDropped > 0) batch = batch.concat([relayDroppedNotice()]);
      relayWrite(batch);
      return;
    }
    var room = config.maxRelayBufferedEvents - relay.buffer.length;
    if (room >= batch.length) {
      for (var i = 0; i < batch.length; i++) relay.buffer.push(batch[i]);
    } else {
      for (var j = 0; j < room; j++) relay.buffer.push(batch[j]);
      var lost = batch.length - Math.max(room, 0);
      relay.dropped += lost;
      relay.pendingDropped += lost;
    }
    relayDrain();
  }

  function relayConnect() {
    relay.timer = null;
    if (relay.url === null || !N.WebSocket) return;
    var socket;
    try {
      socket = new N.WebSocket(relay.url);
    } catch (error) {
      relay.state = 'failed';
      relay.lastServerError = String(error && error.message);
      return;
    }
    relay.socket = socket;
    relay.state = 'connecting';
    N.addEventListener.call(socket, 'open', function () {
      if (relay.socket !== socket) return;
      relay.state = 'open';
      relay.attempt = 0;
      guard(function () {
        // The relay learns which page this is from a `page` event at the start of each
        // connection; the first connection usually has the install-time one buffered.
        var first = relay.buffer[0];
        if (!first || first.type !== 'page') relayWrite([pageEvent()]);
        relayDrain();
      });
    });
    N.addEventListener.call(socket, 'message', function (message) {
      relay.serverErrors += 1;
      relay.lastServerError = String(message.data).slice(0, 500);
    });
    N.addEventListener.call(socket, 'close', function () {
      if (relay.socket !== socket) return;
      relay.socket = null;
      if (relay.url === null) {
        relay.state = 'disabled';
        return;
      }
      relay.state = 'closed';
      relay.attempt += 1;
      relay.reconnects += 1;
      var delay = Math.min(10000, 250 * Math.pow(2, Math.min(relay.attempt - 1, 6)));
      relay.timer = N.setTimeout.call(global, relayConnect, delay * (0.5 + Math.random() / 2));
    });
    // Check the bounded buffer again when the socket drains.
    N.addEventListener.call(socket, 'open', function () {
      scheduleFlush();
    });
  }

  function setRelayUrl(url) {
    if (url === relay.url) return;
    if (relay.timer !== null) N.clearTimeout.call(global, relay.timer);
    relay.timer = null;
    var old = relay.socket;
    relay.socket = null;
    relay.url = url;
    relay.attempt = 0;
    if (old) guard(function () { old.close(1000, 'relay changed'); });
    if (url === null) {
      relay.state = 'disabled';
      relay.buffer = [];
      return;
    }
    relayConnect();
    scheduleFlush();
  }

  // ---------------------------------------------------------------------------------------
  // 8. fetch.
  // ---------------------------------------------------------------------------------------
  var STREAMING_TYPES = /event-stream|ndjson|jsonl|json-seq/i;

  /** Describes a request body: { kind, contentType, payload | read(): Promise<{bytes}> }. */
  function describeBody(body) {
    if (body === undefined || body === null) return { kind: 'none' };
    if (typeof body === 'string') return { kind: 'text', contentType: 'text/plain;charset=UTF-8', text: body };
    if (N.URLSearchParams && body instanceof N.URLSearchParams) {
      return {
        kind: 'url_search_params',
        contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
        text: body.toString(),
      };
    }
    if (N.Blob && body instanceof N.Blob) {
      return {
        kind: 'blob',
        contentType: body.type || null,
        read: function () { return body.arrayBuffer(); },
      };
    }
    if (body instanceof ArrayBuffer || isArrayBufferView(body)) {
      return { kind: 'array_buffer', contentType: null, bytes: bytesOf(body) };
    }
    if (N.FormData && body instanceof N.FormData) {
      return {
        kind: 'form_data',
        contentType: 'multipart/form-data',
        // The same multipart encoding the browser sends (its boundary differs).
        read: function () { return new N.Response(body).arrayBuffer(); },
      };
    }
    if (N.ReadableStream && body instanceof N.ReadableStream) return { kind: 'stream', contentType: null };
    if (N.Document && body instanceof N.Document) {
      return {
        kind: 'document',
        contentType: 'application/xml;charset=UTF-8',
        text: N.XMLSerializer ? new N.XMLSerializer().serializeToString(body) : '',
      };
    }
    return { kind: 'text', contentType: 'text/plain;charset=UTF-8', text: String(body) };
  }

  /**
   * Records an http_request event for a described body. Bytes read asynchronously fill the
   * entry later; the request is in the queue (in order) immediately.
   */
  function recordRequest(connectionId, fields, described, headers, readLater) {
    var timeMicros = nowMicros();
    var hasContentType = findHeader(headers, 'content-type') !== null;
    if (!hasContentType && described.contentType) headers.push(['content-type', described.contentType]);
    var contentType = findHeader(headers, 'content-type');
    fields.headers = headers;
    fields.body = null;
    var event = makeEvent(connectionId, 'http_request', fields, timeMicros);
    if (described.text !== undefined) {
      event.body = textPayload(described.text);
      return record(event);
    }
    if (described.bytes !== undefined) {
      var part = bytesPayload(described.bytes, isTextType(contentType));
      event.body = part.payload;
      return record(event, part.pendingBytes, part.payload);
    }
    var reader = readLater || described.read;
    if (!reader) return record(event);
    var entry = recordLater(event);
    if (!entry) return null;
    var reading;
    try {
      reading = Promise.resolve(reader());
    } catch (error) {
      reading = Promise.reject(error);
    }
    reading.then(function (buffer) {
      guard(function () {
        var part = bytesPayload(buffer instanceof Uint8Array ? buffer : bytesOf(buffer), isTextType(contentType), buffer.totalBytes);
        event.body = part.payload;
        entry.payload = part.payload;
        entry.pendingBytes = part.pendingBytes;
      });
      settle(entry);
    }, function () {
      settle(entry);
    });
    return entry;
  }

  function fetchBegin(input, init) {
    var isRequest = N.Request && input instanceof N.Request;
    var url;
    var method = 'GET';
    var mode = 'cors';
    var credentials = 'same-origin';
    var redirect = 'follow';
    var headerSource = null;
    var body;
    var bodyFromRequest = null;
    var signal = null;
    if (isRequest) {
      url = input.url;
      method = input.method;
      mode = input.mode;
      credentials = input.credentials;
      redirect = input.redirect;
      headerSource = input.headers;
      signal = input.signal;
      if (input.body !== null && !input.bodyUsed) bodyFromRequest = input.clone();
    } else {
      url = resolveUrl(input);
    }
    if (init !== undefined && init !== null && typeof init === 'object') {
      if (init.method !== undefined) method = normalizeMethod(init.method);
      if (init.mode !== undefined) mode = String(init.mode);
      if (init.credentials !== undefined) credentials = String(init.credentials);
      if (init.redirect !== undefined) redirect = String(init.redirect);
      if (init.headers !== undefined) headerSource = init.headers;
      if (init.signal !== undefined) signal = init.signal;
      if (init.body !== undefined) {
        body = init.body;
        bodyFromRequest = null;
      }
    }
    if (!shouldCapture(url)) return null;
    var connectionId = newConnectionId('fetch');
    var headers = [];
    try {
      headers = headerList(headerSource);
    } catch (invalidHeaders) {
      // fetch itself rejects these; the request is still shown.
    }
    var fields = {
      api: 'fetch',
      method: method,
      url: url,
      mode: mode,
      credentials: credentials,
      redirect: redirect,
      upload_listeners: false,
    };
    if (bodyFromRequest !== null) {
      fields.body_kind = null; // A Request object's body: its original kind is not visible.
      recordRequest(connectionId, fields, { kind: null }, headers, function () {
        return readStreamCapped(bodyFromRequest.body, config.maxBodyBytes, config.bodyTimeoutMillis).then(function (read) {
          read.bytes.totalBytes = read.truncated ? Math.max(read.sizeBytes, config.maxBodyBytes + 1) : read.sizeBytes;
          return read.bytes;
        });
      });
    } else {
      var described = describeBody(body);
      fields.body_kind = described.kind;
      recordRequest(connectionId, fields, described, headers);
    }
    return { connectionId: connectionId, signal: signal };
  }

  function fetchResponse(state, response) {
    var timeMicros = nowMicros();
    var headers = headerList(response.headers);
    var event = makeEvent(state.connectionId, 'http_response', {
      status: response.status,
      status_text: response.statusText,
      headers: headers,
      body: null,
      response_type: response.type,
      url: response.url,
      redirected: response.redirected,
    }, timeMicros);
    var contentType = findHeader(headers, 'content-type') || '';
    if (response.body === null || response.type === 'opaque' || response.type === 'opaqueredirect') {
      record(event);
      return;
    }
    var clone = response.clone();
    if (STREAMING_TYPES.test(contentType)) {
      // A stream that may never end: show the response now and each chunk as it arrives.
      record(event);
      streamChunks(state.connectionId, clone.body, isTextType(contentType));
      return;
    }
    var entry = recordLater(event);
    if (!entry) {
      guard(function () { clone.body.cancel().catch(function () {}); });
      return;
    }
    var declaredBytes = parseInt(findHeader(headers, 'content-length') || '', 10);
    var fill = function (bytes, asText, sizeBytes, truncated) {
      guard(function () {
        var part = bytesPayload(bytes, asText, sizeBytes);
        if (truncated) part.payload.truncated = true;
        event.body = part.payload;
        entry.payload = part.payload;
        entry.pendingBytes = part.pendingBytes;
      });
      settle(entry);
    };
    if (declaredBytes >= 0 && declaredBytes <= config.maxBodyBytes) {
      // A small body of known length: one native read, no stream loop, no timer.
      clone.arrayBuffer().then(function (buffer) {
        var bytes = new Uint8Array(buffer);
        fill(bytes, isTextType(contentType), bytes.byteLength, false);
      }, function () {
        fill(new Uint8Array(0), false, 0, true);
      });
      return;
    }
    readStreamCapped(clone.body, config.maxBodyBytes, config.bodyTimeoutMillis).then(function (read) {
      guard(function () {
        var sizeBytes = read.sizeBytes;
        if (read.truncated && declaredBytes > sizeBytes) sizeBytes = declaredBytes;
        var part = bytesPayload(read.bytes, isTextType(contentType), sizeBytes);
        if (read.truncated) part.payload.truncated = true;
        event.body = part.payload;
        entry.payload = part.payload;
        entry.pendingBytes = part.pendingBytes;
      });
      settle(entry);
    });
  }

  /** Streams a response body as http_response_chunk events (last one has end_of_body). */
  function streamChunks(connectionId, stream, asText) {
    var reader = stream.getReader();
    var decoder = asText && N.TextDecoder ? new N.TextDecoder('utf-8') : null;
    function emitChunk(bytes, end) {
      var event = makeEvent(connectionId, 'http_response_chunk', { payload: null, end_of_body: end });
      if (decoder) {
        event.payload = textPayload(decoder.decode(bytes, { stream: !end }));
        record(event);
      } else {
        var part = bytesPayload(bytes, false);
        event.payload = part.payload;
        record(event, part.pendingBytes, part.payload);
      }
    }
    function pump() {
      reader.read().then(function (step) {
        guard(function () {
          if (step.done) emitChunk(new Uint8Array(0), true);
          else emitChunk(step.value instanceof Uint8Array ? step.value : bytesOf(step.value), false);
        });
        if (!step.done) pump();
      }, function () {
        guard(function () { emitChunk(new Uint8Array(0), true); });
      });
    }
    pump();
  }

  function errorName(error) {
    try {
      if (error && typeof error === 'object' && 'name' in error) return String(error.name);
      return typeof error;
    } catch (ignored) {
      return '';
    }
  }

  function errorMessage(error) {
    try {
      if (error && typeof error === 'object' && 'message' in error) return String(error.message);
      return String(error);
    } catch (ignored) {
      return '';
    }
  }

  function fetchFailure(state, error) {
    var name = errorName(error);
    var failure = 'network';
    if (name === 'AbortError') failure = 'abort';
    else if (name === 'TimeoutError') failure = 'timeout';
    else if (state.signal && state.signal.aborted && state.signal.reason === error) failure = 'abort';
    record(makeEvent(state.connectionId, 'http_failure', {
      failure: failure,
      error_name: name,
      error_message: errorMessage(error),
    }));
  }

  function installFetch() {
    if (!N.fetch) return;
    var nativeFetch = N.fetch;
    var wrapper = function fetch(input, init) {
      var state = null;
      if (config.enabled) {
        state = guard(function () { return fetchBegin(input, init); }) || null;
      }
      var promise = nativeFetch.apply(this, arguments);
      if (state === null) return promise;
      return promise.then(function (response) {
        guard(function () { fetchResponse(state, response); });
        return response;
      }, function (error) {
        guard(function () { fetchFailure(state, error); });
        throw error;
      });
    };
    replaceProperty(global, 'fetch', disguise(wrapper, nativeFetch));
  }

  // ---------------------------------------------------------------------------------------
  // 9. XMLHttpRequest: prototype methods are wrapped, the constructor is left alone, so
  //    instanceof, constants and sync requests behave exactly as before.
  // ---------------------------------------------------------------------------------------
  var xhrStates = typeof WeakMap === 'function' ? new WeakMap() : null;
  var uploadsWithListeners = typeof WeakSet === 'function' ? new WeakSet() : null;

  function xhrResponseBody(xhr, contentType, done) {
    var type = xhr.responseType;
    if (type === '' || type === 'text') return done(textPayload(xhr.responseText), null);
    if (type === 'json') {
      // The raw text is not readable for this type: the parsed value is re-serialized.
      var value = xhr.response;
      return done(value === null ? null : textPayload(N.stringify(value)), null);
    }
    if (type === 'arraybuffer') {
      if (!xhr.response) return done(null, null);
      var part = bytesPayload(bytesOf(xhr.response), isTextType(contentType));
      return done(part.payload, part.pendingBytes);
    }
    if (type === 'document') {
      var document = xhr.response;
      return done(document && N.XMLSerializer ? textPayload(new N.XMLSerializer().serializeToString(document)) : null, null);
    }
    if (type === 'blob') {
      var blob = xhr.response;
      if (!blob) return done(null, null);
      return blob.arrayBuffer().then(function (buffer) {
        var blobPart = bytesPayload(new Uint8Array(buffer), isTextType(contentType));
        done(blobPart.payload, blobPart.pendingBytes);
      }, function () {
        done(null, null);
      });
    }
    return done(null, null);
  }

  function xhrFinish(xhr, state, outcome, error) {
    if (state.finished) return;
    state.finished = true;
    if (state.stopListening) state.stopListening();
    if (outcome !== 'load') {
      record(makeEvent(state.connectionId, 'http_failure', {
        failure: outcome === 'timeout' ? 'timeout' : outcome === 'abort' ? 'abort' : 'network',
        error_name: error ? errorName(error) : outcome,
        error_message: error ? errorMessage(error) : '',
      }));
      return;
    }
    var headers = [];
    var rawHeaders = xhr.getAllResponseHeaders();
    rawHeaders.split('\r\n').forEach(function (line) {
      var colon = line.indexOf(':');
      if (colon > 0) headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
    });
    var finalUrl = xhr.responseURL;
    var event = makeEvent(state.connectionId, 'http_response', {
      status: xhr.status,
      status_text: xhr.statusText,
      headers: headers,
      body: null,
      response_type: null,
      url: finalUrl || state.url,
      redirected: !!finalUrl && finalUrl !== state.url,
    });
    var entry = recordLater(event);
    if (!entry) return;
    xhrResponseBody(xhr, findHeader(headers, 'content-type'), function (payload, pendingBytes) {
      event.body = payload;
      entry.payload = payload;
      entry.pendingBytes = pendingBytes;
      settle(entry);
    });
  }

  var XHR_END_EVENTS = ['load', 'error', 'abort', 'timeout'];
  var removeListener = global.EventTarget && global.EventTarget.prototype.removeEventListener;

  /** Listens for the end of the request `state` (one set of listeners per send). */
  function xhrListen(xhr, state) {
    var onEnd = function (event) {
      guard(function () { xhrFinish(xhr, state, event.type, null); });
    };
    state.stopListening = function () {
      XHR_END_EVENTS.forEach(function (type) { removeListener.call(xhr, type, onEnd); });
    };
    XHR_END_EVENTS.forEach(function (type) { N.addEventListener.call(xhr, type, onEnd); });
  }

  function wrapMethod(prototype, name, makeWrapper) {
    var original = prototype[name];
    if (typeof original !== 'function') return;
    replaceProperty(prototype, name, disguise(makeWrapper(original), original));
  }

  function installXhr() {
    if (!N.XMLHttpRequest || !xhrStates) return;
    var prototype = N.XMLHttpRequest.prototype;
    wrapMethod(prototype, 'open', function (nativeOpen) {
      return function open(method, url) {
        var args = arguments;
        var state = guard(function () {
          return {
            method: normalizeMethod(method),
            url: resolveUrl(url),
            async: args.length < 3 ? true : !!args[2],
            headers: [],
            connectionId: null,
            finished: false,
            sent: false,
            stopListening: null,
          };
        }) || null;
        var xhr = this;
        guard(function () {
          // Reopening ends the previous request. An app that reopens from its own load (or
          // error) handler runs before our listener, so the response is read here, while
          // it is still there; reopening mid-flight aborts silently.
          var previous = xhrStates.get(xhr);
          if (previous && previous.sent && !previous.finished && previous.async) {
            var done = xhr.readyState === 4;
            xhrFinish(xhr, previous, done ? (xhr.status === 0 ? 'error' : 'load') : 'abort', null);
          }
        });
        var result = nativeOpen.apply(this, arguments);
        guard(function () {
          if (state === null) xhrStates.delete(xhr);
          else xhrStates.set(xhr, state);
        });
        return result;
      };
    });
    wrapMethod(prototype, 'setRequestHeader', function (nativeSetRequestHeader) {
      return function setRequestHeader(name, value) {
        var result = nativeSetRequestHeader.apply(this, arguments);
        var state = xhrStates.get(this);
        if (state) {
          guard(function () {
            state.headers.push([String(name), String(value)]);
          });
        }
        return result;
      };
    });
    wrapMethod(prototype, 'send', function (nativeSend) {
      return function send(body) {
        var xhr = this;
        var state = xhrStates.get(xhr);
        var capture = !!state && !state.sent && guard(function () {
          return xhr.readyState === 1 && shouldCapture(state.url);
        });
        if (!capture) return nativeSend.apply(this, arguments);
        guard(function () {
          state.sent = true;
          state.connectionId = newConnectionId('xhr');
          var upload = xhr.upload;
          var bodyless = state.method === 'GET' || state.method === 'HEAD';
          var described = bodyless ? { kind: 'none' } : describeBody(body);
          if (described.kind === 'stream') described = { kind: 'text', contentType: 'text/plain;charset=UTF-8', text: String(body) };
          recordRequest(state.connectionId, {
            api: 'xhr',
            method: state.method,
            url: state.url,
            body_kind: described.kind,
            mode: 'cors',
            credentials: xhr.withCredentials ? 'include' : 'same-origin',
            redirect: 'follow',
            upload_listeners: !!upload && uploadsWithListeners.has(upload),
          }, described, state.headers.slice());
          if (state.async) xhrListen(xhr, state);
        });
        if (state.async) return nativeSend.apply(this, arguments);
        var result;
        try {
          result = nativeSend.apply(this, arguments);
        } catch (error) {
          guard(function () { xhrFinish(xhr, state, 'error', error); });
          throw error;
        }
        guard(function () { xhrFinish(xhr, state, 'load', null); });
        return result;
      };
    });
    // Listeners on xhr.upload make a cross-origin request preflighted; the CORS analyzer
    // needs to know about them.
    var uploadPrototype = N.XMLHttpRequestUpload && N.XMLHttpRequestUpload.prototype;
    var targetPrototype = N.XMLHttpRequestEventTarget && N.XMLHttpRequestEventTarget.prototype;
    if (uploadPrototype && N.addEventListener && uploadsWithListeners) {
      var nativeAdd = N.addEventListener;
      Object.defineProperty(uploadPrototype, 'addEventListener', {
        value: disguise(function addEventListener(type, listener) {
          var upload = this;
          guard(function () { if (listener) uploadsWithListeners.add(upload); });
          return nativeAdd.apply(this, arguments);
        }, nativeAdd),
        writable: true,
        enumerable: true,
        configurable: true,
      });
      ['onloadstart', 'onprogress', 'onabort', 'onerror', 'onload', 'ontimeout', 'onloadend'].forEach(function (name) {
        var descriptor = targetPrototype && Object.getOwnPropertyDescriptor(targetPrototype, name);
        if (!descriptor || !descriptor.set || !descriptor.get) return;
        Object.defineProperty(uploadPrototype, name, {
          get: descriptor.get,
          set: disguise(function (value) {
            var upload = this;
            guard(function () { if (value) uploadsWithListeners.add(upload); });
            return descriptor.set.call(this, value);
          }, descriptor.set),
          enumerable: descriptor.enumerable,
          configurable: true,
        });
      });
    }
  }

  // ---------------------------------------------------------------------------------------
  // 10. WebSocket: the constructor is replaced by a function sharing the native prototype
  //     and constants; `send` is wrapped on the prototype; received messages, open, close
  //     and error are observed with listeners added before the app's.
  // ---------------------------------------------------------------------------------------
  var socketStates = typeof WeakMap === 'function' ? new WeakMap() : null;

  /**
   * Captures one sent or received message. The message path only queues (see
   * `enqueueMessage`); the event is built, sized, capped and encoded at flush time.
   * `timeMillis` is on the hook's clock (`nowMillis`).
   */
  function recordMessage(connectionId, direction, data, timeMillis) {
    if (typeof data === 'string') {
      enqueueMessage(connectionId, direction, timeMillis, data, 0);
      return;
    }
    if (data instanceof ArrayBuffer || isArrayBufferView(data)) {
      var bytes = bytesOf(data);
      var cap = config.maxBodyBytes;
      var sizeBytes = bytes.byteLength;
      enqueueMessage(connectionId, direction, timeMillis, sizeBytes > cap ? bytes.slice(0, cap) : bytes.slice(), sizeBytes);
      return;
    }
    var timeMicros = Math.round((clockOrigin + timeMillis) * 1000);
    if (N.Blob && data instanceof N.Blob) {
      var event = makeEvent(connectionId, 'ws_message', { direction: direction, payload: null }, timeMicros);
      var entry = recordLater(event);
      if (!entry) return;
      data.arrayBuffer().then(function (buffer) {
        guard(function () {
          var blobPart = bytesPayload(new Uint8Array(buffer), false);
          event.payload = blobPart.payload;
          entry.payload = blobPart.payload;
          entry.pendingBytes = blobPart.pendingBytes;
        });
        settle(entry);
      }, function () {
        event.payload = { encoding: 'base64', data: '', size_bytes: data.size, truncated: true };
        settle(entry);
      });
      return;
    }
    enqueueMessage(connectionId, direction, timeMillis, String(data), 0);
  }

  // Received messages are captured inside the app's own `message` listeners: `onmessage` and
  // `addEventListener('message', ...)` hand the browser a wrapper that records the event and
  // then calls the app's function, so a message costs no extra listener call. While the app
  // has no message listener the hook listens itself (`onSocketMessage`), so nothing is lost.
  // Each event is recorded once (`lastEvent`), whichever of these sees it first.

  /** Per captured socket: its connection id and what the hook knows of its message listeners. */
  function SocketState(connectionId) {
    this.connectionId = connectionId;
    this.lastEvent = null;
    this.listeners = null; // Map: app listener -> [wrapper without capture, wrapper with capture]
    this.listenerCount = 0; // app message listeners registered through the wrappers
    this.handler = null; // the app's `onmessage` function while the browser holds its wrapper
    this.ownListener = false; // whether `onSocketMessage` is registered
  }

  function captureReceived(state, message) {
    if (message === state.lastEvent || !config.enabled) return;
    state.lastEvent = message;
    try {
      recordMessage(state.connectionId, 'received', message.data, nowMillis());
    } catch (error) {
      noteInternalError(error);
    }
  }

  /** The hook's own `message` listener, registered while the app has none (`this` is the socket). */
  function onSocketMessage(message) {
    var state = socketStates.get(this);
    if (state !== undefined) captureReceived(state, message);
  }

  /** Registers or removes `onSocketMessage` so that it listens exactly while the app does not. */
  function updateOwnListener(socket, state) {
    var wanted = state.listenerCount === 0;
    if (wanted === state.ownListener) return;
    state.ownListener = wanted;
    if (wanted) N.addEventListener.call(socket, 'message', onSocketMessage);
    else N.removeEventListener.call(socket, 'message', onSocketMessage);
  }

  function forgetListener(socket, state, listener, capture, wrapper) {
    var slots = state.listeners && state.listeners.get(listener);
    if (!slots || slots[capture ? 1 : 0] !== wrapper) return;
    slots[capture ? 1 : 0] = null;
    if (slots[0] === null && slots[1] === null) state.listeners.delete(listener);
    state.listenerCount -= 1;
    updateOwnListener(socket, state);
  }

  /** Options of add/removeEventListener as the browser reads them: { capture, once, signal }. */
  function listenerOptions(options) {
    if (options !== null && (typeof options === 'object' || typeof options === 'function')) {
      return { capture: !!options.capture, once: !!options.once, signal: options.signal === undefined ? null : options.signal };
    }
    return { capture: !!options, once: false, signal: null };
  }

  /** The arguments of an add/removeEventListener call with the listener replaced. */
  function withListener(args, listener) {
    var copy = [];
    for (var i = 0; i < args.length; i++) copy[i] = args[i];
    copy[1] = listener;
    return copy;
  }

  function wrapListener(socket, state, listener, options) {
    var wrapper = function (event) {
      if (options.once) guard(function () { forgetListener(socket, state, listener, options.capture, wrapper); });
      captureReceived(state, event);
      if (typeof listener === 'function') return listener.call(this, event);
      return listener.handleEvent(event);
    };
    return wrapper;
  }

  /** addEventListener for every EventTarget: wraps `message` listeners of captured sockets. */
  function installListenerWrappers(Native) {
    var nativeAdd = N.addEventListener;
    var nativeRemove = N.removeEventListener;
    var target = global.EventTarget && global.EventTarget.prototype;
    var handler = Object.getOwnPropertyDescriptor(Native.prototype, 'onmessage');
    if (!target || !nativeAdd || !nativeRemove || typeof Map !== 'function' || !handler || !handler.get || !handler.set || !handler.configurable) {
      return false;
    }
    var add = function addEventListener(type, listener) {
      var state = socketStates.get(this);
      if (state === undefined || type !== 'message' || listener === null || (typeof listener !== 'function' && typeof listener !== 'object')) {
        return nativeAdd.apply(this, arguments);
      }
      var options = listenerOptions(arguments[2]);
      var slots = state.listeners === null ? undefined : state.listeners.get(listener);
      var wrapper = slots ? slots[options.capture ? 1 : 0] : null;
      var added = !wrapper;
      if (added) wrapper = wrapListener(this, state, listener, options);
      var result = nativeAdd.apply(this, withListener(arguments, wrapper));
      if (added && !(options.signal && options.signal.aborted)) {
        var socket = this;
        guard(function () {
          if (state.listeners === null) state.listeners = new Map();
          if (!slots) {
            slots = [null, null];
            state.listeners.set(listener, slots);
          }
          slots[options.capture ? 1 : 0] = wrapper;
          state.listenerCount += 1;
          if (options.signal) {
            nativeAdd.call(options.signal, 'abort', function () {
              guard(function () { forgetListener(socket, state, listener, options.capture, wrapper); });
            });
          }
          updateOwnListener(socket, state);
        });
      }
      return result;
    };
    var remove = function removeEventListener(type, listener) {
      var state = socketStates.get(this);
      var slots = state === undefined || type !== 'message' || state.listeners === null ? undefined : state.listeners.get(listener);
      if (!slots) return nativeRemove.apply(this, arguments);
      var capture = listenerOptions(arguments[2]).capture;
      var wrapper = slots[capture ? 1 : 0];
      if (!wrapper) return nativeRemove.apply(this, arguments);
      var result = nativeRemove.apply(this, withListener(arguments, wrapper));
      var socket = this;
      guard(function () { forgetListener(socket, state, listener, capture, wrapper); });
      return result;
    };
    var nativeGet = handler.get;
    var nativeSet = handler.set;
    var get = function () {
      var state = socketStates.get(this);
      return state !== undefined && state.handler !== null ? state.handler : nativeGet.call(this);
    };
    var set = function (value) {
      var state = socketStates.get(this);
      if (state === undefined) return nativeSet.call(this, value);
      if (typeof value !== 'function') {
        nativeSet.call(this, value);
        if (state.handler !== null) {
          state.handler = null;
          state.listenerCount -= 1;
          updateOwnListener(this, state);
        }
        return undefined;
      }
      // The browser calls a handler with the event only; `call` (not `apply(this,
      // arguments)`) spares an arguments object per message.
      nativeSet.call(this, function (event) {
        captureReceived(state, event);
        return value.call(this, event);
      });
      if (state.handler === null) state.listenerCount += 1;
      state.handler = value;
      updateOwnListener(this, state);
      return undefined;
    };
    Object.defineProperty(Native.prototype, 'onmessage', {
      get: disguise(get, nativeGet),
      set: disguise(set, nativeSet),
      enumerable: handler.enumerable,
      configurable: true,
    });
    replaceProperty(target, 'addEventListener', disguise(add, nativeAdd));
    replaceProperty(target, 'removeEventListener', disguise(remove, nativeRemove));
    return true;
  }
  var wrapsListeners = false;

  function observeSocket(socket, protocols) {
    var url = socket.url;
    if (!shouldCapture(url)) return;
    var connectionId = newConnectionId('ws');
    var state = new SocketState(connectionId);
    socketStates.set(socket, state);
    var requested = [];
    if (typeof protocols === 'string') requested = [protocols];
    else if (protocols && typeof protocols === 'object' && typeof protocols.length === 'number') {
      requested = Array.prototype.map.call(protocols, String);
    }
    record(makeEvent(connectionId, 'ws_connect', { url: url, protocols: requested }));
    var listen = N.addEventListener;
    listen.call(socket, 'open', function () {
      guard(function () {
        record(makeEvent(connectionId, 'ws_open', { protocol: socket.protocol, extensions: socket.extensions }));
      });
    });
    if (wrapsListeners) updateOwnListener(socket, state);
    else listen.call(socket, 'message', onSocketMessage);
    listen.call(socket, 'error', function () {
      guard(function () { record(makeEvent(connectionId, 'ws_error', {})); });
    });
    listen.call(socket, 'close', function (close) {
      guard(function () {
        record(makeEvent(connectionId, 'ws_close', { code: close.code, reason: close.reason, was_clean: close.wasClean }));
      });
    });
  }

  /** A constructor that behaves as `Native` and calls `observe(instance, args)` after it. */
  function wrapConstructor(Native, observe) {
    var Wrapped = function () {
      if (new.target === undefined) {
        // Let the native constructor produce its own "Please use the 'new' operator" error.
        return Native.apply(this, arguments);
      }
      var instance = Reflect.construct(Native, arguments, new.target);
      var args = arguments;
      guard(function () { observe(instance, args); });
      return instance;
    };
    disguise(Wrapped, Native);
    Object.defineProperty(Wrapped, 'prototype', { value: Native.prototype, writable: false });
    Object.setPrototypeOf(Wrapped, Object.getPrototypeOf(Native));
    Object.getOwnPropertyNames(Native).forEach(function (key) {
      if (key === 'prototype' || key === 'name' || key === 'length' || key === 'arguments' || key === 'caller') return;
      var descriptor = Object.getOwnPropertyDescriptor(Native, key);
      if (descriptor) guard(function () { Object.defineProperty(Wrapped, key, descriptor); });
    });
    var constructorDescriptor = Object.getOwnPropertyDescriptor(Native.prototype, 'constructor');
    Object.defineProperty(Native.prototype, 'constructor', {
      value: Wrapped,
      writable: constructorDescriptor ? constructorDescriptor.writable : true,
      enumerable: constructorDescriptor ? constructorDescriptor.enumerable : false,
      configurable: true,
    });
    return Wrapped;
  }

  function installWebSocket() {
    if (!N.WebSocket || !socketStates || typeof Reflect !== 'object') return;
    var Native = N.WebSocket;
    var Wrapped = wrapConstructor(Native, function (socket, args) {
      observeSocket(socket, args[1]);
    });
    wrapMethod(Native.prototype, 'send', function (nativeSend) {
      return function send(data) {
        var state = socketStates.get(this);
        if (state === undefined || !config.enabled) return nativeSend.apply(this, arguments);
        var connectionId = state.connectionId;
        var timeMillis = nowMillis();
        var open = this.readyState === 1;
        var result = nativeSend.apply(this, arguments);
        // Data sent while closing or closed is discarded by the browser, so not captured.
        if (open) {
          try {
            recordMessage(connectionId, 'sent', data, timeMillis);
          } catch (error) {
            noteInternalError(error);
          }
        }
        return result;
      };
    });
    replaceProperty(global, 'WebSocket', Wrapped);
    wrapsListeners = guard(function () { return installListenerWrappers(Native); }) === true;
  }

  // ---------------------------------------------------------------------------------------
  // 11. EventSource: open, error and every event type the app listens for (plus `message`).
  // ---------------------------------------------------------------------------------------
  var sourceStates = typeof WeakMap === 'function' ? new WeakMap() : null;

  function observeSource(source) {
    var url = source.url;
    if (!shouldCapture(url)) return;
    var connectionId = newConnectionId('sse');
    var state = {
      connectionId: connectionId,
      types: Object.create(null),
      onEvent: function (message) {
        if (!config.enabled) return;
        guard(function () {
          var payload = textPayload(String(message.data));
          var fields = { event_type: message.type, data: payload.data, last_event_id: message.lastEventId };
          if (payload.truncated) {
            fields.truncated = true;
            fields.size_bytes = payload.size_bytes;
          }
          record(makeEvent(connectionId, 'sse_message', fields));
        });
      },
    };
    sourceStates.set(source, state);
    record(makeEvent(connectionId, 'sse_connect', { url: url, with_credentials: !!source.withCredentials }));
    N.addEventListener.call(source, 'open', function () {
      guard(function () { record(makeEvent(connectionId, 'sse_open', {})); });
    });
    N.addEventListener.call(source, 'error', function () {
      guard(function () { record(makeEvent(connectionId, 'sse_error', { ready_state: source.readyState })); });
    });
    listenForType(source, state, 'message');
  }

  function listenForType(source, state, type) {
    if (state.types[type]) return;
    state.types[type] = true;
    if (type === 'open' || type === 'error') return;
    N.addEventListener.call(source, type, state.onEvent);
  }

  function installEventSource() {
    if (!N.EventSource || !sourceStates || typeof Reflect !== 'object') return;
    var Native = N.EventSource;
    var Wrapped = wrapConstructor(Native, function (source) {
      observeSource(source);
    });
    // Named events are only dispatched to listeners of their type: observe each type the
    // app listens for, registering ours first so the app's order is unchanged.
    var nativeAdd = N.addEventListener;
    Object.defineProperty(Native.prototype, 'addEventListener', {
      value: disguise(function addEventListener(type) {
        var source = this;
        var state = sourceStates.get(source);
        if (state) guard(function () { if (typeof type === 'string') listenForType(source, state, type); });
        return nativeAdd.apply(this, arguments);
      }, nativeAdd),
      writable: true,
      enumerable: true,
      configurable: true,
    });
    replaceProperty(global, 'EventSource', Wrapped);
  }

  // ---------------------------------------------------------------------------------------
  // 12. Shared memory and workers: extension point.
  //
  //     SharedArrayBuffer/Atomics observation and Worker wrapping go here, as functions
  //     pushed onto `installers` (they run in order at install, after the transports above).
  //     They receive `internals` (section 13): `record`, `makeEvent`, `newConnectionId`,
  //     `nowMicros`, `textPayload`, `bytesPayload`, `guard`, `config`, `natives`, and
  //     `hookSource` (this whole file as a string, to run first inside a worker). New event
  //     types belong in inspector-core/src/event.rs first.
  // ---------------------------------------------------------------------------------------
  // ---------------------------------------------------------------------------------------
  // 12a. Shared memory: Atomics on views of SharedArrayBuffers, registered channels
  //      (mailbox and ring layouts, docs/shared-memory.md), and workers started with the
  //      hook first. Events: shm_channel, shm_message, shm_state, shm_activity.
  //
  //      - Every Atomics call keeps its native result, exceptions and blocking behaviour:
  //        the native function runs with the app's own arguments; capture work happens
  //        around it inside `guard`.
  //      - Payloads are copied out of the buffer just before the store that publishes them
  //        (the peer cannot touch them before it sees that store) and turned into text or
  //        base64 later, off the hot path.
  //      - Threads share one registry (a small SharedArrayBuffer of the hook's own) so a
  //        worker blocked in Atomics.wait still learns channels registered after it started.
  //      - A worker's events go to the page over its own message port, marked with
  //        SHM_MARKER and never delivered to the app's listeners; the page rewrites their
  //        session id and merges them in time order.
  // ---------------------------------------------------------------------------------------
  var SHM_MARKER = '__framescope__';
  var COMMAND_IDLE = 0;
  var COMMAND_REQUEST = 1;
  var COMMAND_RESPONSE = 2;
  var RING_PREFIX_BYTES = 4;
  var ACTIVITY_WINDOW_MILLIS = 250;
  var REORDER_MICROS = 40000;
  var WORKER_FLUSH_MILLIS = 20;
  var WORKER_MAX_PENDING = 10000;
  var REGISTRY_BYTES = 64 * 1024;
  var REGISTRY_HEADER_BYTES = 64;
  var REGISTRY_SLOT_BYTES = 1024;
  var REGISTRY_SLOTS = Math.floor((REGISTRY_BYTES - REGISTRY_HEADER_BYTES) / REGISTRY_SLOT_BYTES);
  var SCAN_MAX_NODES = 256;
  var SCAN_MAX_DEPTH = 4;

  var S = {
    SharedArrayBuffer: global.SharedArrayBuffer,
    Atomics: global.Atomics,
    Worker: global.Worker,
    DataView: global.DataView,
    Int32Array: global.Int32Array,
    Uint8Array: global.Uint8Array,
    createObjectURL: global.URL && global.URL.createObjectURL,
    revokeObjectURL: global.URL && global.URL.revokeObjectURL,
    promiseThen: Promise.prototype.then,
    stopImmediatePropagation: global.Event && global.Event.prototype.stopImmediatePropagation,
    importScripts: global.importScripts,
    workerPostMessage: global.Worker && global.Worker.prototype.postMessage,
    selfPostMessage: typeof global.postMessage === 'function' ? global.postMessage : null,
  };
  var atomicsNative = {};
  if (S.Atomics) {
    ['add', 'and', 'compareExchange', 'exchange', 'load', 'notify', 'or', 'store', 'sub', 'wait', 'waitAsync', 'xor'].forEach(function (name) {
      if (typeof S.Atomics[name] === 'function') atomicsNative[name] = S.Atomics[name];
    });
  }
  var typedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype);
  function getter(name) {
    var descriptor = Object.getOwnPropertyDescriptor(typedArrayPrototype, name);
    return descriptor && descriptor.get;
  }
  var typedBuffer = getter('buffer');
  var typedByteOffset = getter('byteOffset');
  var isWorkerScope = typeof global.WorkerGlobalScope === 'function' && global instanceof global.WorkerGlobalScope && !global.document;
  var boot = null;
  if (isWorkerScope) {
    boot = guard(function () {
      var value = global.__framescopeBoot;
      delete global.__framescopeBoot;
      return value && typeof value === 'object' ? value : null;
    }) || null;
  }

  var shm = {
    thread: boot ? String(boot.thread) : isWorkerScope ? 'worker' : 'page',
    infos: typeof WeakMap === 'function' ? new WeakMap() : null,
    byId: Object.create(null),
    registry: null,
    registryBytes: null,
    registryVersionSeen: -1,
    registrySlotsSeen: 0,
    nextLocalId: 0,
    dirty: [],
    activityTimer: null,
    lastActivityFlush: 0,
    reorder: [],
    reorderTimer: null,
    outbox: [],
    outboxSince: 0,
    outboxTimer: null,
    outboxDropped: 0,
    nextWorker: 0,
    workers: [],
    incomingAnnotations: null,
    outboxRing: null,
    drainTimer: null,
    asyncWaits: [],
    deferred: [],
    configVersion: 0,
  };

  function directionOfThread() {
    return shm.thread === 'page' ? 'sent' : 'received';
  }

  function nativeLoad(view, index) {
    return atomicsNative.load.call(S.Atomics, view, index);
  }

  // --- The registry: [0] version, [1] next buffer id, [2] slots used; then slots of
  //     [ready, json length, json bytes...] written once each.
  function createRegistry() {
    if (!S.SharedArrayBuffer || !atomicsNative.load || global.crossOriginIsolated === false) return;
    try {
      useRegistry(new S.SharedArrayBuffer(REGISTRY_BYTES));
    } catch (error) {
      shm.registry = null;
    }
  }

  function useRegistry(buffer) {
    shm.registry = new S.Int32Array(buffer);
    shm.registryBytes = new S.Uint8Array(buffer);
  }

  function allocateId() {
    if (shm.registry) return 'shm-' + (atomicsNative.add.call(S.Atomics, shm.registry, 1, 1) + 1);
    shm.nextLocalId += 1;
    return 'shm-' + shm.thread.replace(/[^a-z0-9]+/gi, '') + '-' + shm.nextLocalId;
  }

  function publishRegistration(entry) {
    var registry = shm.registry;
    if (!registry) return;
    var json = textEncoder.encode(N.stringify(entry));
    if (json.length > REGISTRY_SLOT_BYTES - 8) {
      warn('registerSharedChannel: channel description too long to share with workers');
      return;
    }
    var slot = atomicsNative.add.call(S.Atomics, registry, 2, 1);
    if (slot >= REGISTRY_SLOTS) {
      warn('registerSharedChannel: more than ' + REGISTRY_SLOTS + ' channels; workers will not see this one');
      return;
    }
    var base = REGISTRY_HEADER_BYTES + slot * REGISTRY_SLOT_BYTES;
    shm.registryBytes.set(json, base + 8);
    atomicsNative.store.call(S.Atomics, registry, (base >> 2) + 1, json.length);
    atomicsNative.store.call(S.Atomics, registry, base >> 2, 1);
    atomicsNative.add.call(S.Atomics, registry, 0, 1);
  }

  /** Reads registrations published since the last look (one Atomics.load when none). */
  function readRegistry() {
    var registry = shm.registry;
    if (!registry) return;
    var version = nativeLoad(registry, 0);
    if (version === shm.registryVersionSeen) return;
    var used = Math.min(nativeLoad(registry, 2), REGISTRY_SLOTS);
    var slot = shm.registrySlotsSeen;
    for (; slot < used; slot++) {
      var base = REGISTRY_HEADER_BYTES + slot * REGISTRY_SLOT_BYTES;
      if (nativeLoad(registry, base >> 2) !== 1) break; // Being written: read it next time.
      var length = nativeLoad(registry, (base >> 2) + 1);
      var copy = shm.registryBytes.slice(base + 8, base + 8 + length);
      var entry = guard(function () { return N.parse(new N.TextDecoder().decode(copy)); });
      if (entry) addChannelConfig(entry);
    }
    shm.registrySlotsSeen = slot;
    shm.registryVersionSeen = slot === used ? version : -1;
  }

  function addChannelConfig(entry) {
    shm.configVersion += 1;
    var list = shm.byId[entry.id] || (shm.byId[entry.id] = []);
    for (var i = 0; i < list.length; i++) {
      if (list[i].name === entry.name) {
        list[i] = entry;
        return;
      }
    }
    list.push(entry);
  }

  // --- Buffers and channels known to this thread.
  function newCounters(channelName, connectionId, byteLength) {
    return {
      channel: channelName,
      connectionId: connectionId,
      byteLength: byteLength,
      dirty: false,
      since: 0,
      operations: {},
      notify_calls: 0,
      woken: 0,
      waits: 0,
      wait_micros: 0,
      wait_woken: 0,
      wait_timeouts: 0,
      wait_not_equal: 0,
    };
  }

  function infoFor(buffer, id) {
    var info = shm.infos.get(buffer);
    if (info !== undefined) return info;
    var fresh = id === undefined || id === null;
    info = {
      id: fresh ? allocateId() : id,
      buffer: buffer,
      byteLength: buffer.byteLength,
      i32: null,
      u8: null,
      channels: [],
      configsSeen: null,
      activity: null,
    };
    info.activity = newCounters('', info.id, info.byteLength);
    shm.infos.set(buffer, info);
    if (fresh) {
      emitShm(makeEvent(info.id, 'shm_channel', {
        name: '',
        layout: 'raw',
        byte_length: info.byteLength,
        thread: shm.thread,
      }), null);
    }
    return info;
  }

  function channelFromConfig(info, config) {
    var channel = {
      config: config,
      name: config.name,
      layout: config.layout,
      connectionId: config.connection ? 'shm:' + config.connection : info.id,
      command: config.command_offset_bytes,
      length: config.length_offset_bytes,
      payload: config.payload_offset_bytes,
      head: config.head_offset_bytes,
      tail: config.tail_offset_bytes,
      data: config.data_offset_bytes,
      capacity: config.capacity_bytes,
      activity: null,
    };
    channel.activity = newCounters(channel.name, channel.connectionId, info.byteLength);
    return channel;
  }

  /** Brings `info.channels` up to date with the registrations of its buffer id. */
  function refreshChannels(info) {
    readRegistry();
    var configs = shm.byId[info.id];
    if (configs === undefined || info.configsSeen === shm.configVersion) return;
    info.configsSeen = shm.configVersion;
    var channels = [];
    for (var i = 0; i < configs.length; i++) {
      var existing = null;
      for (var j = 0; j < info.channels.length; j++) {
        if (info.channels[j].name === configs[i].name) existing = info.channels[j];
      }
      channels.push(existing && existing.config === configs[i] ? existing : channelFromConfig(info, configs[i]));
    }
    info.channels = channels;
  }

  /** The channel whose control word is at `byte`, if any. */
  function channelAt(info, byte) {
    for (var i = 0; i < info.channels.length; i++) {
      var channel = info.channels[i];
      if (channel.layout === 'mailbox' ? byte === channel.command || byte === channel.length : byte === channel.head || byte === channel.tail) {
        return channel;
      }
    }
    return null;
  }

  var here = { info: null, channel: null, byte: -1, int32: false };

  /**
   * Finds the buffer (and channel) an Atomics call touches and counts the call. Returns
   * null for anything that is not a typed array on a SharedArrayBuffer; never throws.
   */
  function locate(typedArray, index, operation) {
    if (!config.enabled || !shm.infos || !isArrayBufferView(typedArray)) return null;
    var buffer;
    try {
      buffer = typedBuffer.call(typedArray);
    } catch (notTyped) {
      return null; // A DataView: the native call throws its own TypeError.
    }
    var info = shm.infos.get(buffer);
    if (info === undefined) {
      if (!S.SharedArrayBuffer || !(buffer instanceof S.SharedArrayBuffer)) return null;
      info = infoFor(buffer);
    }
    if (shm.asyncWaits.length > 0) settleAsyncWaits(info);
    refreshChannels(info);
    var channel = null;
    var byte = -1;
    var bytesPerElement = typedArray.BYTES_PER_ELEMENT;
    if (info.channels.length > 0 && typeof index === 'number' && index >= 0 && index % 1 === 0) {
      byte = typedByteOffset.call(typedArray) + index * bytesPerElement;
      channel = channelAt(info, byte);
    }
    var counters = channel !== null ? channel.activity : info.activity;
    counters.operations[operation] = (counters.operations[operation] || 0) + 1;
    markDirty(counters);
    here.info = info;
    here.channel = channel;
    here.byte = byte;
    here.int32 = bytesPerElement === 4 && !(typedArray instanceof Float32Array);
    return here;
  }

  function markDirty(counters) {
    if (counters.dirty) return;
    counters.dirty = true;
    counters.since = nowMicros();
    shm.dirty.push(counters);
    if (shm.activityTimer === null && N.setTimeout) {
      shm.activityTimer = N.setTimeout.call(global, function () {
        shm.activityTimer = null;
        guard(flushActivity);
      }, ACTIVITY_WINDOW_MILLIS);
    }
  }

  function flushActivity() {
    if (shm.deferred.length > 0) flushDeferred();
    var list = shm.dirty;
    shm.dirty = [];
    var now = nowMicros();
    shm.lastActivityFlush = now;
    for (var i = 0; i < list.length; i++) {
      var c = list[i];
      emitShm(makeEvent(c.connectionId, 'shm_activity', {
        channel: c.channel,
        thread: shm.thread,
        byte_length: c.byteLength,
        window_micros: Math.max(0, now - c.since),
        operations: c.operations,
        notify_calls: c.notify_calls,
        woken: c.woken,
        waits: c.waits,
        wait_micros: c.wait_micros,
        wait_woken: c.wait_woken,
        wait_timeouts: c.wait_timeouts,
        wait_not_equal: c.wait_not_equal,
      }, now), null);
      c.dirty = false;
      c.operations = {};
      c.notify_calls = 0;
      c.woken = 0;
      c.waits = 0;
      c.wait_micros = 0;
      c.wait_woken = 0;
      c.wait_timeouts = 0;
      c.wait_not_equal = 0;
    }
  }

  // --- Reading payloads out of the buffer (copies; the buffer keeps changing).
  function int32View(info) {
    return info.i32 || (info.i32 = new S.Int32Array(info.buffer, 0, info.byteLength >> 2));
  }

  function byteView(info) {
    return info.u8 || (info.u8 = new S.Uint8Array(info.buffer));
  }

  function readMailboxPayload(info, channel) {
    var declared = nativeLoad(int32View(info), channel.length >> 2);
    var size = declared > 0 ? declared : 0;
    var room = Math.max(0, Math.min(channel.capacity, info.byteLength - channel.payload));
    var take = Math.min(size, room, config.maxBodyBytes);
    return { bytes: byteView(info).slice(channel.payload, channel.payload + take), size: size };
  }

  function ringCopy(u8, base, capacity, position, count) {
    var out = new S.Uint8Array(count);
    var first = Math.min(count, capacity - position);
    out.set(u8.subarray(base + position, base + position + first), 0);
    if (first < count) out.set(u8.subarray(base, base + count - first), first);
    return out;
  }

  /** Frames published between ring positions `from` and `to` (exclusive of `to`). */
  function readRingFrames(info, channel, from, to) {
    var capacity = channel.capacity;
    var u8 = byteView(info);
    var frames = [];
    var position = ((from % capacity) + capacity) % capacity;
    var end = ((to % capacity) + capacity) % capacity;
    while (position !== end && frames.length < 4096) {
      var available = (end - position + capacity) % capacity;
      var prefix = available >= RING_PREFIX_BYTES ? ringCopy(u8, channel.data, capacity, position, RING_PREFIX_BYTES) : null;
      var length = prefix ? (prefix[0] | (prefix[1] << 8) | (prefix[2] << 16)) + prefix[3] * 16777216 : -1;
      if (length < 0 || length > available - RING_PREFIX_BYTES) {
        // Not a whole frame: show the bytes as they are.
        frames.push({ bytes: ringCopy(u8, channel.data, capacity, position, Math.min(available, config.maxBodyBytes)), size: available, end: end });
        break;
      }
      var start = (position + RING_PREFIX_BYTES) % capacity;
      frames.push({ bytes: ringCopy(u8, channel.data, capacity, start, Math.min(length, config.maxBodyBytes)), size: length, end: (start + length) % capacity });
      position = (start + length) % capacity;
    }
    return frames;
  }

  function shmMessage(channel, role, read, timeMicros, extra) {
    var fields = {
      channel: channel.name,
      direction: directionOfThread(),
      role: role,
      payload: null,
      thread: shm.thread,
    };
    if (extra) {
      fields.head = extra.head;
      fields.tail = extra.tail;
      fields.frame_end = extra.frameEnd;
    }
    var event = makeEvent(channel.connectionId, 'shm_message', fields, timeMicros);
    emitShm(event, { bytes: read.bytes, size: read.size });
  }

  /** Payload of raw bytes: JSON-looking UTF-8 stays text, the rest is base64 (at flush). */
  function finishShmPayload(event, raw) {
    var bytes = raw.bytes;
    var truncated = raw.size > bytes.length;
    var first = 0;
    while (first < bytes.length && (bytes[first] === 32 || bytes[first] === 9 || bytes[first] === 10 || bytes[first] === 13)) first++;
    if (strictDecoder && first < bytes.length && (bytes[first] === 123 || bytes[first] === 91)) {
      try {
        event.payload = { encoding: 'text', data: strictDecoder.decode(bytes), size_bytes: raw.size, truncated: truncated };
        return null;
      } catch (notUtf8) {
        // Fall through to base64.
      }
    }
    event.payload = { encoding: 'base64', data: '', size_bytes: raw.size, truncated: truncated };
    return bytes;
  }

  // --- Where this thread's shared-memory events go: the page merges them in time order;
  //     a worker posts them to its parent (before blocking, and at least every 20 ms).
  function emitShm(event, raw) {
    if (isWorkerScope) {
      if (shm.outboxRing !== null && shm.outbox.length === 0) {
        if (writeOutboxRecord(shm.outboxRing, event, raw)) return;
        shm.outboxDropped += 1;
        scheduleOutboxFlush();
        return;
      }
      if (shm.outbox.length >= WORKER_MAX_PENDING) {
        shm.outboxDropped += 1;
        return;
      }
      if (shm.outbox.length === 0) shm.outboxSince = nowMicros();
      shm.outbox.push({ event: event, raw: raw });
      if (nowMicros() - shm.outboxSince > WORKER_FLUSH_MILLIS * 1000) flushOutbox();
      else scheduleOutboxFlush();
      return;
    }
    shm.reorder.push({ event: event, raw: raw });
    if (shm.reorderTimer === null) {
      shm.reorderTimer = N.setTimeout.call(global, releaseReordered, REORDER_MICROS / 1000);
    }
  }

  function scheduleOutboxFlush() {
    if (shm.outboxTimer !== null) return;
    shm.outboxTimer = N.setTimeout.call(global, function () {
      shm.outboxTimer = null;
      guard(flushOutbox);
    }, WORKER_FLUSH_MILLIS);
  }

  // A worker's shared-memory events travel through a ring in a SharedArrayBuffer of the
  // hook's own (one per worker, created by the parent): a worker spinning on Atomics never
  // pays for a postMessage, and the parent drains the ring on a timer. Records: Uint32 JSON
  // length, Uint32 raw length, the JSON of { event, size }, the raw payload bytes.
  var OUTBOX_BYTES = 256 * 1024;
  var OUTBOX_DATA = 8;

  function outboxViews(buffer) {
    return { i32: new S.Int32Array(buffer, 0, 2), u8: new S.Uint8Array(buffer), capacity: buffer.byteLength - OUTBOX_DATA };
  }

  function outboxPut(ring, position, bytes) {
    var first = Math.min(bytes.length, ring.capacity - position);
    ring.u8.set(first === bytes.length ? bytes : bytes.subarray(0, first), OUTBOX_DATA + position);
    if (first < bytes.length) ring.u8.set(bytes.subarray(first), OUTBOX_DATA);
  }

  function outboxGet(ring, position, length) {
    var out = new S.Uint8Array(length);
    var first = Math.min(length, ring.capacity - position);
    out.set(ring.u8.subarray(OUTBOX_DATA + position, OUTBOX_DATA + position + first), 0);
    if (first < length) out.set(ring.u8.subarray(OUTBOX_DATA, OUTBOX_DATA + length - first), first);
    return out;
  }

  var outboxHeader = new Uint8Array(8);
  var outboxHeaderView = new DataView(outboxHeader.buffer);

  function writeOutboxRecord(ring, event, raw) {
    var json = textEncoder.encode(N.stringify({ event: event, size: raw ? raw.size : -1 }));
    var rawLength = raw ? raw.bytes.length : 0;
    var total = 8 + json.length + rawLength;
    var head = nativeLoad(ring.i32, 0);
    var tail = nativeLoad(ring.i32, 1);
    var used = (head - tail + ring.capacity) % ring.capacity;
    if (ring.capacity - 1 - used < total) return false;
    outboxHeaderView.setUint32(0, json.length, true);
    outboxHeaderView.setUint32(4, rawLength, true);
    outboxPut(ring, head, outboxHeader);
    outboxPut(ring, (head + 8) % ring.capacity, json);
    if (raw) outboxPut(ring, (head + 8 + json.length) % ring.capacity, raw.bytes);
    atomicsNative.store.call(S.Atomics, ring.i32, 0, (head + total) % ring.capacity);
    return true;
  }

  /** Parent side: takes every complete record out of a worker's outbox ring. */
  function drainOutbox(ring) {
    var head = nativeLoad(ring.i32, 0);
    var tail = nativeLoad(ring.i32, 1);
    var decoder = new N.TextDecoder();
    while (tail !== head) {
      var header = outboxGet(ring, tail, 8);
      var view = new DataView(header.buffer);
      var jsonLength = view.getUint32(0, true);
      var rawLength = view.getUint32(4, true);
      var record = N.parse(decoder.decode(outboxGet(ring, (tail + 8) % ring.capacity, jsonLength)));
      var raw = null;
      if (record.size >= 0) raw = { bytes: outboxGet(ring, (tail + 8 + jsonLength) % ring.capacity, rawLength), size: record.size };
      tail = (tail + 8 + jsonLength + rawLength) % ring.capacity;
      record.event.session_id = sessionId;
      emitShm(record.event, raw);
    }
    atomicsNative.store.call(S.Atomics, ring.i32, 1, tail);
  }

  function drainWorkers() {
    shm.drainTimer = null;
    var kept = [];
    for (var i = 0; i < shm.workers.length; i++) {
      var state = shm.workers[i];
      guard(function () { drainOutbox(state.outbox); });
      if (!state.closed) kept.push(state);
    }
    shm.workers = kept;
    if (kept.length > 0) shm.drainTimer = N.setTimeout.call(global, drainWorkers, WORKER_FLUSH_MILLIS);
  }

  function flushOutbox() {
    if (shm.outbox.length === 0 && shm.outboxDropped === 0) return;
    var entries = shm.outbox;
    shm.outbox = [];
    var message = { shm: entries, dropped: shm.outboxDropped };
    message[SHM_MARKER] = 'events';
    shm.outboxDropped = 0;
    postToParent(message);
  }

  function releaseReordered() {
    shm.reorderTimer = null;
    guard(function () {
      var cutoff = nowMicros() - REORDER_MICROS;
      // Workers write their events to their outboxes as they happen: take them now, so that
      // nothing older than the cutoff is still on its way, however late the timers run.
      for (var w = 0; w < shm.workers.length; w++) {
        var state = shm.workers[w];
        guard(function () { drainOutbox(state.outbox); });
      }
      var list = shm.reorder;
      list.sort(function (a, b) { return a.event.time_micros - b.event.time_micros; });
      var keep = [];
      for (var i = 0; i < list.length; i++) {
        var entry = list[i];
        if (entry.event.time_micros > cutoff) {
          keep.push(entry);
          continue;
        }
        if (entry.raw) {
          var pending = finishShmPayload(entry.event, entry.raw);
          record(entry.event, pending, entry.event.payload);
        } else {
          record(entry.event);
        }
      }
      shm.reorder = keep;
    });
    if (shm.reorder.length > 0 && shm.reorderTimer === null) {
      shm.reorderTimer = N.setTimeout.call(global, releaseReordered, REORDER_MICROS / 2000);
    }
  }

  // --- The Atomics wrappers.
  function publishMailbox(where, value, timeMicros) {
    var channel = where.channel;
    if (value === COMMAND_REQUEST || value === COMMAND_RESPONSE) {
      return { role: value === COMMAND_REQUEST ? 'request' : 'response', read: readMailboxPayload(where.info, channel), time: timeMicros };
    }
    return { role: null, value: value, time: timeMicros };
  }

  function announceMailbox(channel, plan) {
    if (plan.role !== null) shmMessage(channel, plan.role, plan.read, plan.time, null);
    else {
      emitShm(makeEvent(channel.connectionId, 'shm_state', {
        channel: channel.name,
        thread: shm.thread,
        command: plan.value,
      }, plan.time), null);
    }
  }

  /** Before a store of `value` at a control word: what it will publish. */
  function planStore(where, value) {
    var channel = where.channel;
    if (channel === null || !where.int32 || typeof value !== 'number') return null;
    var timeMicros = nowMicros();
    var stored = value | 0;
    if (channel.layout === 'mailbox') {
      return where.byte === channel.command ? { kind: 'mailbox', plan: publishMailbox(where, stored, timeMicros) } : null;
    }
    if (where.byte === channel.head) {
      var oldHead = nativeLoad(int32View(where.info), channel.head >> 2);
      return { kind: 'head', frames: readRingFrames(where.info, channel, oldHead, stored), head: stored, time: timeMicros };
    }
    if (where.byte === channel.tail) return { kind: 'tail', tail: stored, time: timeMicros };
    return null;
  }

  function announceStore(where, plan) {
    var channel = where.channel;
    if (plan.kind === 'mailbox') {
      announceMailbox(channel, plan.plan);
      return;
    }
    var view = int32View(where.info);
    if (plan.kind === 'head') {
      var tail = nativeLoad(view, channel.tail >> 2);
      for (var i = 0; i < plan.frames.length; i++) {
        shmMessage(channel, 'frame', plan.frames[i], plan.time, { head: plan.head, tail: tail, frameEnd: plan.frames[i].end });
      }
      return;
    }
    emitShm(makeEvent(channel.connectionId, 'shm_state', {
      channel: channel.name,
      thread: shm.thread,
      head: nativeLoad(view, channel.head >> 2),
      tail: plan.tail,
    }, plan.time), null);
  }

  function wrapAtomic(name, makeWrapper) {
    var native = atomicsNative[name];
    if (!native) return;
    replaceProperty(S.Atomics, name, disguise(makeWrapper(native), native));
  }

  function noteWait(counters, startMicros, outcome) {
    try {
      countWait(counters, startMicros, outcome);
    } catch (error) {
      noteInternalError(error);
    }
  }

  function countWait(counters, startMicros, outcome) {
    counters.waits += 1;
    counters.wait_micros += Math.max(0, nowMicros() - startMicros);
    if (outcome === 'ok') counters.wait_woken += 1;
    else if (outcome === 'timed-out') counters.wait_timeouts += 1;
    else if (outcome === 'not-equal') counters.wait_not_equal += 1;
    markDirty(counters);
  }

  /** `locate` without throwing; null on any internal error (counted). */
  function locateSafely(typedArray, index, operation) {
    try {
      return locate(typedArray, index, operation);
    } catch (error) {
      noteInternalError(error);
      return null;
    }
  }

  /** What a store at a channel's control word publishes (with where it happened), or null. */
  function planSafely(where, value) {
    if (where === null || where.channel === null) return null;
    try {
      var plan = planStore(where, value);
      if (plan !== null) {
        plan.where = { info: where.info, channel: where.channel, byte: where.byte };
      }
      return plan;
    } catch (error) {
      noteInternalError(error);
      return null;
    }
  }

  // What a store published is turned into events only after the app's next Atomics call
  // returns (usually its notify), so the peer is not woken later than without the hook.
  // The time and the payload were taken before the store.
  function announceSafely(plan) {
    shm.deferred.push(plan);
  }

  function flushDeferred() {
    var plans = shm.deferred;
    shm.deferred = [];
    for (var i = 0; i < plans.length; i++) {
      try {
        announceStore(plans[i].where, plans[i]);
      } catch (error) {
        noteInternalError(error);
      }
    }
  }

  // The wrappers sit on the app's hottest path: no closures per call, no allocation unless a
  // registered channel publishes something.
  function installAtomics() {
    if (!S.Atomics || !S.SharedArrayBuffer || !shm.infos || !typedBuffer) return;
    ['add', 'and', 'load', 'or', 'sub', 'xor'].forEach(function (name) {
      wrapAtomic(name, function (native) {
        return function (typedArray, index) {
          locateSafely(typedArray, index, name);
          if (shm.deferred.length === 0) return native.apply(this, arguments);
          var result = native.apply(this, arguments);
          flushDeferred();
          return result;
        };
      });
    });
    ['store', 'exchange'].forEach(function (name) {
      wrapAtomic(name, function (native) {
        return function (typedArray, index, value) {
          var plan = planSafely(locateSafely(typedArray, index, name), value);
          if (plan === null && shm.deferred.length === 0) return native.apply(this, arguments);
          var result = native.apply(this, arguments);
          if (shm.deferred.length > 0) flushDeferred();
          if (plan !== null) announceSafely(plan);
          return result;
        };
      });
    });
    wrapAtomic('compareExchange', function (native) {
      return function (typedArray, index, expected, replacement) {
        var plan = planSafely(locateSafely(typedArray, index, 'compareExchange'), replacement);
        if (plan === null && shm.deferred.length === 0) return native.apply(this, arguments);
        var result = native.apply(this, arguments);
        if (shm.deferred.length > 0) flushDeferred();
        // Published only when the exchange happened (the old value was the expected one).
        if (plan !== null && result === (expected | 0)) announceSafely(plan);
        return result;
      };
    });
    wrapAtomic('notify', function (native) {
      return function notify(typedArray, index) {
        var where = locateSafely(typedArray, index, 'notify');
        var counters = where === null ? null : where.channel !== null ? where.channel.activity : where.info.activity;
        var result = native.apply(this, arguments);
        if (counters !== null) {
          counters.notify_calls += 1;
          if (typeof result === 'number') counters.woken += result;
        }
        if (shm.deferred.length > 0) flushDeferred();
        return result;
      };
    });
    wrapAtomic('wait', function (native) {
      return function wait(typedArray, index) {
        var where = locateSafely(typedArray, index, 'wait');
        if (shm.deferred.length > 0) flushDeferred();
        if (where === null) return native.apply(this, arguments);
        var counters = where.channel !== null ? where.channel.activity : where.info.activity;
        // About to block: let this thread's pending events out first.
        if (isWorkerScope && (shm.outbox.length > 0 || shm.dirty.length > 0)) {
          guard(function () {
            if (shm.dirty.length > 0 && nowMicros() - shm.lastActivityFlush > ACTIVITY_WINDOW_MILLIS * 1000) flushActivity();
            flushOutbox();
          });
        }
        var startMicros = nowMicros();
        var result = native.apply(this, arguments);
        noteWait(counters, startMicros, result);
        return result;
      };
    });
    wrapAtomic('waitAsync', function (native) {
      return function waitAsync(typedArray, index) {
        var where = locateSafely(typedArray, index, 'waitAsync');
        var startMicros = where === null ? 0 : nowMicros();
        var result = native.apply(this, arguments);
        if (shm.deferred.length > 0) flushDeferred();
        if (where === null || !result) return result;
        var counters = where.channel !== null ? where.channel.activity : where.info.activity;
        if (result.async) {
          // No reaction on the app's promise (one costs the app's await tens of
          // microseconds): the wait ends, for our books, at this thread's next Atomics call
          // on the same buffer, which is what a loop around waitAsync does first.
          var timeout = arguments.length > 3 ? Number(arguments[3]) : Infinity;
          if (shm.asyncWaits.length >= 1024) shm.asyncWaits.shift(); // Never settled: forgotten.
          shm.asyncWaits.push({ info: where.info, counters: counters, start: startMicros, timeoutMicros: timeout * 1000 });
        } else {
          noteWait(counters, startMicros, result.value);
        }
        return result;
      };
    });
  }

  /** Ends the waitAsync waits on `info` (see the waitAsync wrapper). */
  function settleAsyncWaits(info) {
    var now = nowMicros();
    var kept = [];
    for (var i = 0; i < shm.asyncWaits.length; i++) {
      var wait = shm.asyncWaits[i];
      if (wait.info !== info) {
        kept.push(wait);
        continue;
      }
      var waited = now - wait.start;
      noteWait(wait.counters, wait.start, waited >= wait.timeoutMicros ? 'timed-out' : 'ok');
    }
    shm.asyncWaits = kept;
  }

  // --- registerSharedChannel.
  function nonNegativeInteger(value, fallback, name) {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !isFinite(value) || value < 0 || value % 1 !== 0) {
      throw new TypeError('framescope.registerSharedChannel: ' + name + ' must be a non-negative integer');
    }
    return value;
  }

  /** Validated channel description, offsets in bytes. Throws TypeError on bad options. */
  function describeChannel(buffer, options) {
    var byteLength = buffer.byteLength;
    var layout = options.layout;
    if (layout !== 'mailbox' && layout !== 'ring') {
      throw new TypeError("framescope.registerSharedChannel: layout must be 'mailbox' or 'ring'");
    }
    var entry = { name: '', layout: layout, byte_length: byteLength };
    if (options.name !== undefined && typeof options.name !== 'string') {
      throw new TypeError('framescope.registerSharedChannel: name must be a string');
    }
    if (options.connection !== undefined && (typeof options.connection !== 'string' || options.connection === '')) {
      throw new TypeError('framescope.registerSharedChannel: connection must be a non-empty string');
    }
    if (options.name) entry.name = options.name;
    if (options.connection) entry.connection = options.connection;
    function word(index, name) {
      var offset = index * 4;
      if (offset + 4 > byteLength) {
        throw new RangeError('framescope.registerSharedChannel: ' + name + ' ' + index + ' is outside the buffer (' + byteLength + ' bytes)');
      }
      return offset;
    }
    function region(offset, capacity, offsetName) {
      if (offset > byteLength || capacity > byteLength - offset) {
        throw new RangeError('framescope.registerSharedChannel: ' + offsetName + ' ' + offset + ' + capacity ' + capacity + ' is outside the buffer (' + byteLength + ' bytes)');
      }
    }
    if (layout === 'mailbox') {
      entry.command_offset_bytes = word(nonNegativeInteger(options.commandIndex, 0, 'commandIndex'), 'commandIndex');
      entry.length_offset_bytes = word(nonNegativeInteger(options.lengthIndex, 1, 'lengthIndex'), 'lengthIndex');
      entry.payload_offset_bytes = nonNegativeInteger(options.payloadOffset, 8, 'payloadOffset');
      entry.capacity_bytes = nonNegativeInteger(options.payloadCapacity, Math.max(0, byteLength - entry.payload_offset_bytes), 'payloadCapacity');
      region(entry.payload_offset_bytes, entry.capacity_bytes, 'payloadOffset');
    } else {
      entry.head_offset_bytes = word(nonNegativeInteger(options.headIndex, 0, 'headIndex'), 'headIndex');
      entry.tail_offset_bytes = word(nonNegativeInteger(options.tailIndex, 1, 'tailIndex'), 'tailIndex');
      entry.data_offset_bytes = nonNegativeInteger(options.dataOffset, 8, 'dataOffset');
      entry.capacity_bytes = nonNegativeInteger(options.capacity, Math.max(0, byteLength - entry.data_offset_bytes), 'capacity');
      region(entry.data_offset_bytes, entry.capacity_bytes, 'dataOffset');
      if (entry.capacity_bytes < RING_PREFIX_BYTES + 1) {
        throw new RangeError('framescope.registerSharedChannel: a ring needs a capacity of at least 5 bytes');
      }
    }
    return entry;
  }

  /**
   * Names a channel in a SharedArrayBuffer and its layout, for this thread and every worker
   * of the page. Returns a frozen description (id, offsets in bytes).
   */
  function registerSharedChannel(buffer, options) {
    if (!S.SharedArrayBuffer || !(buffer instanceof S.SharedArrayBuffer)) {
      throw new TypeError('framescope.registerSharedChannel: the first argument must be a SharedArrayBuffer');
    }
    if (!options || typeof options !== 'object') {
      throw new TypeError("framescope.registerSharedChannel: options must be an object such as { name: 'bus', layout: 'mailbox' }");
    }
    var entry = describeChannel(buffer, options);
    if (!shm.infos) return Object.freeze(entry);
    var info = infoFor(buffer);
    entry.id = info.id;
    if (!entry.name) entry.name = info.id + (entry.layout === 'ring' ? '-ring' : '-mailbox');
    addChannelConfig(entry);
    publishRegistration(entry);
    refreshChannels(info);
    var event = makeEvent(entry.connection ? 'shm:' + entry.connection : info.id, 'shm_channel', {
      name: entry.name,
      layout: entry.layout,
      byte_length: entry.byte_length,
      thread: shm.thread,
      command_offset_bytes: entry.command_offset_bytes,
      length_offset_bytes: entry.length_offset_bytes,
      payload_offset_bytes: entry.payload_offset_bytes,
      head_offset_bytes: entry.head_offset_bytes,
      tail_offset_bytes: entry.tail_offset_bytes,
      data_offset_bytes: entry.data_offset_bytes,
      capacity_bytes: entry.capacity_bytes,
    });
    emitShm(event, null);
    return Object.freeze(entry);
  }

  // --- Buffers in messages between threads: the sender names them (ids), in a marked
  //     message just before the app's own, and the receiver attaches the ids to the copies.
  function findBuffers(data) {
    var found = [];
    var visited = 0;
    function visit(value, path, depth) {
      if (value === null || typeof value !== 'object' || visited >= SCAN_MAX_NODES) return;
      visited += 1;
      if (value instanceof S.SharedArrayBuffer) {
        found.push({ path: path, buffer: value, view: false });
        return;
      }
      if (isArrayBufferView(value)) {
        var buffer = null;
        try {
          buffer = value instanceof S.DataView ? value.buffer : typedBuffer.call(value);
        } catch (ignored) {
          buffer = null;
        }
        if (buffer instanceof S.SharedArrayBuffer) found.push({ path: path, buffer: buffer, view: true });
        return;
      }
      if (depth >= SCAN_MAX_DEPTH) return;
      var prototype = Object.getPrototypeOf(value);
      if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return;
      var keys = Object.keys(value);
      for (var i = 0; i < keys.length && visited < SCAN_MAX_NODES; i++) {
        var descriptor = Object.getOwnPropertyDescriptor(value, keys[i]);
        if (descriptor && 'value' in descriptor) visit(descriptor.value, path.concat([keys[i]]), depth + 1);
      }
    }
    visit(data, [], 0);
    return found;
  }

  function annotationFor(data) {
    if (!shm.infos || !S.SharedArrayBuffer || data === null || typeof data !== 'object') return null;
    var found = findBuffers(data);
    if (found.length === 0) return null;
    var entries = found.map(function (item) {
      return { path: item.path, view: item.view, id: infoFor(item.buffer, undefined).id };
    });
    var message = { entries: entries };
    message[SHM_MARKER] = 'buffers';
    return message;
  }

  function applyAnnotations(entries, data) {
    for (var i = 0; i < entries.length; i++) {
      var value = data;
      var path = entries[i].path;
      for (var j = 0; j < path.length && value !== null && typeof value === 'object'; j++) {
        var descriptor = Object.getOwnPropertyDescriptor(value, path[j]);
        value = descriptor && 'value' in descriptor ? descriptor.value : null;
      }
      var buffer = value;
      if (entries[i].view && value && isArrayBufferView(value)) {
        buffer = value instanceof S.DataView ? value.buffer : typedBuffer.call(value);
      }
      if (buffer instanceof S.SharedArrayBuffer && !shm.infos.has(buffer)) infoFor(buffer, entries[i].id);
    }
  }

  /** Handles a marked message; returns true when the event was the hook's own. */
  function receiveMarked(event, fromWorker) {
    var data = event.data;
    var kind = data !== null && typeof data === 'object' ? guard(function () {
      var descriptor = Object.getOwnPropertyDescriptor(data, SHM_MARKER);
      return descriptor && descriptor.value;
    }) : undefined;
    if (typeof kind !== 'string') {
      if (shm.incomingAnnotations !== null) {
        var entries = shm.incomingAnnotations;
        shm.incomingAnnotations = null;
        guard(function () { applyAnnotations(entries, data); });
      }
      return false;
    }
    S.stopImmediatePropagation.call(event);
    guard(function () {
      if (kind === 'buffers') shm.incomingAnnotations = data.entries;
      else if (kind === 'init' && !fromWorker) {
        if (data.registry && !shm.registry) useRegistry(data.registry);
        if (data.outbox && shm.outboxRing === null) {
          shm.outboxRing = outboxViews(data.outbox);
          flushOutbox(); // What was recorded before the ring arrived goes by message.
        }
      } else if (kind === 'events' && fromWorker) {
        mergeWorkerEvents(fromWorker, data);
      }
    });
    return true;
  }

  function mergeWorkerEvents(worker, data) {
    var i;
    if (data.events) {
      for (i = 0; i < data.events.length; i++) {
        var event = data.events[i];
        if (!event || event.type === 'page') continue;
        event.session_id = sessionId;
        event.connection_id = worker.tag + ':' + event.connection_id;
        if (isWorkerScope) emitShm(event, null);
        else record(event);
      }
    }
    if (data.shm) {
      for (i = 0; i < data.shm.length; i++) {
        var entry = data.shm[i];
        entry.event.session_id = sessionId;
        emitShm(entry.event, entry.raw);
      }
    }
    if (data.dropped > 0) countDrop(data.dropped, 'worker ' + worker.thread + ' outbox full');
  }

  function postToParent(message) {
    if (S.selfPostMessage) S.selfPostMessage.call(global, message);
  }

  // --- Workers: the constructor loads a bootstrap that runs this hook, then the original
  //     script (importScripts for classic workers, a static import for module workers).
  var hookBlobText = null;
  function bootstrapFor(scriptURL, options) {
    if (!N.Blob || !S.createObjectURL || !config.enabled) return null;
    var protocol = global.location && global.location.protocol;
    // Extension pages forbid blob: workers in their CSP; their workers run unwrapped.
    if (protocol === 'chrome-extension:' || protocol === 'moz-extension:') return null;
    var url = new N.URL(String(scriptURL), baseUrl());
    var own = global.location && global.location.origin;
    var sameOrigin = url.origin === own;
    var ownBlob = url.protocol === 'blob:' && url.href.indexOf('blob:' + own + '/') === 0;
    if (!sameOrigin && !ownBlob) return null; // The browser's own verdict (errors) stays as is.
    var module = options && typeof options === 'object' && options.type === 'module';
    shm.nextWorker += 1;
    var thread = (shm.thread === 'page' ? '' : shm.thread + '/') + 'worker-' + shm.nextWorker;
    var bootValue = N.stringify({ thread: thread, url: url.href });
    if (hookBlobText === null) hookBlobText = internals.hookSource;
    var hookText = 'self.__framescopeBoot = ' + bootValue + ';\n' + hookBlobText + '\n';
    var urls = [];
    var text;
    if (module) {
      var hookUrl = S.createObjectURL(new N.Blob([hookText], { type: 'text/javascript' }));
      urls.push(hookUrl);
      text = 'import ' + N.stringify(hookUrl) + ';\nimport ' + N.stringify(url.href) + ';\n';
    } else {
      text = hookText + 'importScripts(' + N.stringify(url.href) + ');\n';
    }
    var bootstrapUrl = S.createObjectURL(new N.Blob([text], { type: 'text/javascript' }));
    urls.push(bootstrapUrl);
    return { url: bootstrapUrl, blobUrls: urls, thread: thread, tag: thread.replace(/[^a-z0-9]+/gi, '') };
  }

  function attachWorker(worker, plan) {
    var state = { thread: plan.thread, tag: plan.tag, blobUrls: plan.blobUrls };
    N.addEventListener.call(worker, 'message', function (event) {
      if (receiveMarked(event, state) && state.blobUrls) {
        // The worker has loaded its scripts: the bootstrap URLs are no longer needed.
        var urls = state.blobUrls;
        state.blobUrls = null;
        urls.forEach(function (blobUrl) { guard(function () { S.revokeObjectURL.call(N.URL, blobUrl); }); });
      }
    });
    var init = { registry: shm.registry ? shm.registry.buffer : null, outbox: null };
    if (shm.registry) {
      init.outbox = new S.SharedArrayBuffer(OUTBOX_BYTES);
      state.outbox = outboxViews(init.outbox);
      state.closed = false;
      shm.workers.push(state);
      workerStates.set(worker, state);
      if (shm.drainTimer === null) shm.drainTimer = N.setTimeout.call(global, drainWorkers, WORKER_FLUSH_MILLIS);
    }
    init[SHM_MARKER] = 'init';
    S.workerPostMessage.call(worker, init);
  }

  var workerStates = typeof WeakMap === 'function' ? new WeakMap() : null;

  function installWorkers() {
    if (!S.Worker || !S.workerPostMessage || typeof Reflect !== 'object') return;
    var Native = S.Worker;
    var Wrapped = function Worker(scriptURL) {
      if (new.target === undefined) return Native.apply(this, arguments);
      var plan = null;
      try {
        plan = bootstrapFor(scriptURL, arguments[1]);
      } catch (error) {
        plan = null; // Let the native constructor report a bad URL itself.
      }
      if (plan === null) return Reflect.construct(Native, arguments, new.target);
      var args = Array.prototype.slice.call(arguments);
      args[0] = plan.url;
      var worker = Reflect.construct(Native, args, new.target);
      guard(function () { attachWorker(worker, plan); });
      return worker;
    };
    disguise(Wrapped, Native);
    Object.defineProperty(Wrapped, 'prototype', { value: Native.prototype, writable: false });
    Object.setPrototypeOf(Wrapped, Object.getPrototypeOf(Native));
    var constructorDescriptor = Object.getOwnPropertyDescriptor(Native.prototype, 'constructor');
    Object.defineProperty(Native.prototype, 'constructor', {
      value: Wrapped,
      writable: constructorDescriptor ? constructorDescriptor.writable : true,
      enumerable: constructorDescriptor ? constructorDescriptor.enumerable : false,
      configurable: true,
    });
    wrapMethod(Native.prototype, 'postMessage', function (nativePost) {
      return function postMessage(message) {
        var annotation = guard(function () { return annotationFor(message); }) || null;
        if (annotation !== null) nativePost.call(this, annotation);
        return nativePost.apply(this, arguments);
      };
    });
    wrapMethod(Native.prototype, 'terminate', function (nativeTerminate) {
      return function terminate() {
        var result = nativeTerminate.apply(this, arguments);
        // Its outbox stays readable: drained once more by the timer, then forgotten.
        var state = workerStates && workerStates.get(this);
        if (state) state.closed = true;
        return result;
      };
    });
    replaceProperty(global, 'Worker', Wrapped);
  }

  /** Inside a worker started by the bootstrap: talk to the parent, keep URLs relative to
   *  the original script. */
  function installWorkerScope() {
    if (!isWorkerScope || boot === null) return;
    N.addEventListener.call(global, 'message', function (event) {
      receiveMarked(event, null);
    });
    subscribe(function (batch) {
      var message = { events: batch };
      message[SHM_MARKER] = 'events';
      postToParent(message);
    });
    // Operations of a global object's interface are own properties of the global.
    var scopeOwner = Object.prototype.hasOwnProperty.call(global, 'postMessage') ? global
      : global.DedicatedWorkerGlobalScope && global.DedicatedWorkerGlobalScope.prototype;
    if (scopeOwner && S.selfPostMessage) {
      wrapMethod(scopeOwner, 'postMessage', function (nativePost) {
        return function postMessage(message) {
          // This thread's events first, so the page sees them before the app's message.
          guard(function () {
            if (shm.deferred.length > 0) flushDeferred();
            if (shm.dirty.length > 0) flushActivity();
            flushOutbox();
            flushReadyNow();
          });
          var annotation = guard(function () { return annotationFor(message); }) || null;
          if (annotation !== null) nativePost.call(this, annotation);
          return nativePost.apply(this, arguments);
        };
      });
    }
    // The worker runs from a blob: URL; relative URLs resolve against the original script.
    var base = String(boot.url);
    var absolute = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;
    function rebase(value) {
      return typeof value === 'string' && !absolute.test(value) ? new N.URL(value, base).href : value;
    }
    guard(function () { presentLocation(base); });
    if (typeof S.importScripts === 'function') {
      replaceProperty(global, 'importScripts', disguise(function importScripts() {
        var args = Array.prototype.map.call(arguments, function (value) { return guard(function () { return rebase(value); }) || value; });
        return S.importScripts.apply(this, args);
      }, S.importScripts));
    }
    if (typeof global.fetch === 'function') {
      var hookedFetch = global.fetch;
      replaceProperty(global, 'fetch', disguise(function fetch(input) {
        var args = Array.prototype.slice.call(arguments);
        if (typeof input === 'string') args[0] = guard(function () { return rebase(input); }) || input;
        return hookedFetch.apply(this, args);
      }, N.fetch || hookedFetch));
    }
    if (N.XMLHttpRequest) {
      wrapMethod(N.XMLHttpRequest.prototype, 'open', function (open) {
        return function (method, url) {
          var args = Array.prototype.slice.call(arguments);
          if (typeof url === 'string') args[1] = guard(function () { return rebase(url); }) || url;
          return open.apply(this, args);
        };
      });
    }
    ['WebSocket', 'EventSource', 'Worker'].forEach(function (name) {
      var Current = global[name];
      if (typeof Current !== 'function') return;
      var Rebased = function (url) {
        var args = Array.prototype.slice.call(arguments);
        if (typeof url === 'string') {
          var resolved = guard(function () { return name === 'WebSocket' ? new N.URL(url, base).href.replace(/^http/, 'ws') : rebase(url); });
          if (resolved) args[0] = resolved;
        }
        return new.target === undefined ? Current.apply(this, args) : Reflect.construct(Current, args, new.target);
      };
      disguise(Rebased, Current);
      Object.defineProperty(Rebased, 'prototype', { value: Current.prototype, writable: false });
      Object.setPrototypeOf(Rebased, Object.getPrototypeOf(Current));
      Object.getOwnPropertyNames(Current).forEach(function (key) {
        if (key === 'prototype' || key === 'name' || key === 'length' || key === 'arguments' || key === 'caller') return;
        var descriptor = Object.getOwnPropertyDescriptor(Current, key);
        if (descriptor) guard(function () { Object.defineProperty(Rebased, key, descriptor); });
      });
      replaceProperty(global, name, Rebased);
    });
  }

  /** `self.location` shows the original script's URL, as it would without the bootstrap. */
  function presentLocation(base) {
    var owner = global;
    var descriptor = null;
    while (owner && !(descriptor = Object.getOwnPropertyDescriptor(owner, 'location'))) owner = Object.getPrototypeOf(owner);
    if (!descriptor || !descriptor.get || !descriptor.configurable) return;
    var url = new N.URL(base);
    var Location = global.WorkerLocation;
    var shown = Object.create(Location ? Location.prototype : Object.prototype);
    ['href', 'origin', 'protocol', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'].forEach(function (key) {
      Object.defineProperty(shown, key, { value: url[key], enumerable: false });
    });
    var nativeToString = Location && Location.prototype.toString;
    Object.defineProperty(shown, 'toString', {
      value: nativeToString ? disguise(function toString() { return url.href; }, nativeToString) : function toString() { return url.href; },
      enumerable: false,
    });
    Object.defineProperty(owner, 'location', {
      get: disguise(function () { return shown; }, descriptor.get),
      set: descriptor.set,
      enumerable: descriptor.enumerable,
      configurable: true,
    });
  }

  function installSharedMemory() {
    if (!isWorkerScope) createRegistry();
    installAtomics();
    installWorkers();
    installWorkerScope();
  }

  var installers = [installToString, installFetch, installXhr, installWebSocket, installEventSource, installSharedMemory];

  // ---------------------------------------------------------------------------------------
  // 13. Public API and install.
  // ---------------------------------------------------------------------------------------
  function warn(message) {
    try {
      N.console.warn('framescope: ' + message);
    } catch (ignored) {
      // No console.
    }
  }

  function subscribe(callback) {
    if (typeof callback !== 'function') {
      warn('subscribe(callback) needs a function; nothing subscribed');
      return function unsubscribe() {};
    }
    subscribers.push(callback);
    scheduleFlush();
    var active = true;
    return function unsubscribe() {
      if (!active) return;
      active = false;
      var index = subscribers.indexOf(callback);
      if (index !== -1) subscribers.splice(index, 1);
    };
  }

  function stats() {
    return {
      version: VERSION,
      session_id: sessionId,
      captured: counters.captured,
      dropped: counters.dropped,
      delivered: counters.delivered,
      queued: queuedCount,
      subscribers: subscribers.length,
      installs: counters.installs,
      internal_errors: counters.internalErrors,
      longest_flush_micros: counters.longestFlushMicros,
      flush_slices: counters.flushSlices,
      last_internal_error: lastInternalError,
      relay: {
        state: relay.state,
        sent: relay.sent,
        buffered: relay.buffer.length,
        dropped: relay.dropped,
        reconnects: relay.reconnects,
        server_errors: relay.serverErrors,
        last_server_error: relay.lastServerError,
      },
    };
  }

  function positiveInteger(value, name) {
    if (typeof value === 'number' && isFinite(value) && value >= 0) return Math.floor(value);
    warn('configure: ' + name + ' must be a non-negative number; kept ' + config[name]);
    return config[name];
  }

  function configure(options) {
    if (options && typeof options === 'object') {
      guard(function () {
        var known = {
          maxBodyBytes: 1, excludeUrls: 1, batchMillis: 1, maxQueuedEvents: 1,
          maxRelayBufferedEvents: 1, bodyTimeoutMillis: 1, enabled: 1, relayUrl: 1,
        };
        Object.keys(options).forEach(function (key) {
          if (!known[key]) warn('configure: unknown option ' + key + ' ignored');
        });
        ['maxBodyBytes', 'batchMillis', 'maxQueuedEvents', 'maxRelayBufferedEvents', 'bodyTimeoutMillis'].forEach(function (name) {
          if (options[name] !== undefined) config[name] = positiveInteger(options[name], name);
        });
        if (options.enabled !== undefined) config.enabled = !!options.enabled;
        if (options.excludeUrls !== undefined) {
          var rules = Array.isArray(options.excludeUrls) ? options.excludeUrls : [options.excludeUrls];
          config.excludeUrls = rules.filter(function (rule) {
            var valid = typeof rule === 'string' || rule instanceof RegExp;
            if (!valid) warn('configure: excludeUrls entries must be strings or RegExps');
            return valid;
          });
        }
        if (options.relayUrl !== undefined) {
          setRelayUrl(typeof options.relayUrl === 'string' && options.relayUrl ? options.relayUrl : null);
        }
      });
    }
    return {
      maxBodyBytes: config.maxBodyBytes,
      excludeUrls: config.excludeUrls.slice(),
      batchMillis: config.batchMillis,
      maxQueuedEvents: config.maxQueuedEvents,
      maxRelayBufferedEvents: config.maxRelayBufferedEvents,
      bodyTimeoutMillis: config.bodyTimeoutMillis,
      enabled: config.enabled,
      relayUrl: relay.url === null ? null : relay.url.replace(/token=[^&]*/, 'token=…'),
    };
  }

  /** Lets other producers (a Go WASM app through syscall/js, app code) add events. */
  function emit(event) {
    return guard(function () {
      if (!event || typeof event !== 'object' || typeof event.type !== 'string' || event.type === '') {
        warn('emit(event) needs an object with a string `type`; event ignored');
        return false;
      }
      var copy = N.parse(N.stringify(event));
      if (typeof copy.v !== 'number') copy.v = SCHEMA_VERSION;
      if (typeof copy.session_id !== 'string' || copy.session_id === '') copy.session_id = sessionId;
      if (typeof copy.connection_id !== 'string' || copy.connection_id === '') copy.connection_id = 'app';
      copy.time_micros = typeof copy.time_micros === 'number' && isFinite(copy.time_micros) ? Math.round(copy.time_micros) : nowMicros();
      return record(copy) !== null;
    }) || false;
  }

  var internals = {
    record: record,
    recordLater: recordLater,
    settle: settle,
    makeEvent: makeEvent,
    newConnectionId: newConnectionId,
    nowMicros: nowMicros,
    textPayload: textPayload,
    bytesPayload: bytesPayload,
    guard: guard,
    config: config,
    natives: N,
    hookSource: '(' + framescopeHook.toString() + ')(typeof globalThis !== "undefined" ? globalThis : self);',
    noteInstall: function (relayUrl, exclusions) {
      counters.installs += 1;
      if (relayUrl && relay.url === null) setRelayUrl(relayUrl);
      if (exclusions && exclusions.length) config.excludeUrls = config.excludeUrls.concat(exclusions);
    },
  };

  var api = {
    version: VERSION,
    subscribe: subscribe,
    stats: stats,
    configure: configure,
    emit: emit,
    registerSharedChannel: registerSharedChannel,
  };
  Object.defineProperty(api, MARK, { value: internals, enumerable: false });

  record(pageEvent());
  for (var i = 0; i < installers.length; i++) guard(installers[i]);
  Object.defineProperty(global, 'framescope', {
    value: Object.freeze(api),
    writable: false,
    enumerable: false,
    configurable: true,
  });
  var relayUrl = relayUrlFromScript();
  if (relayUrl) setRelayUrl(relayUrl);
})(typeof globalThis !== 'undefined' ? globalThis : self);
