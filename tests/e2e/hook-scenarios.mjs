// Page code for the hook's transparency tests. Each scenario runs in a page (through
// Playwright's page.evaluate, so each is self-contained) and returns what the app observed:
// results, errors, event order, instanceof answers, constants. The same scenario runs in a
// page without the hook and in one with it; the observations must be identical.

export async function fetchScenario(env) {
  const out = {};
  const describe = (error) => ({
    name: error?.name, message: error?.message, type: typeof error,
    isTypeError: error instanceof TypeError, isDomException: error instanceof DOMException,
    value: typeof error === 'string' ? error : undefined,
  });
  const settle = async (run) => {
    try { return { ok: await run() }; } catch (error) { return { error: describe(error) }; }
  };
  const summary = async (response) => ({
    status: response.status, statusText: response.statusText, ok: response.ok, type: response.type,
    redirected: response.redirected, url: response.url.replace(env.origin, ''),
    contentType: response.headers.get('content-type'), custom: response.headers.get('x-custom'),
    isResponse: response instanceof Response, proto: Object.getPrototypeOf(response) === Response.prototype,
  });
  const normalize = (text) => text.replace(/----WebKitFormBoundary[A-Za-z0-9]+/g, 'BOUNDARY');

  out.shape = {
    name: fetch.name, length: fetch.length, type: typeof fetch, text: fetch.toString(),
    descriptor: (({ writable, enumerable, configurable }) => ({ writable, enumerable, configurable }))(
      Object.getOwnPropertyDescriptor(window, 'fetch')),
  };
  out.json = await settle(async () => {
    const response = await fetch('/json');
    const head = await summary(response);
    const body = await response.json();
    return { head, body, bodyUsed: response.bodyUsed };
  });
  out.urlObject = await settle(async () => (await fetch(new URL('/text', location.href))).text());
  out.requestObject = await settle(async () => {
    const request = new Request('/echo', { method: 'POST', body: 'request body', headers: { 'X-A': '1' } });
    const response = await fetch(request);
    return { text: await response.text(), bodyUsed: request.bodyUsed, method: response.headers.get('x-method') };
  });
  const bodies = {
    string: () => 'plain string',
    blob: () => new Blob(['blob ', 'parts'], { type: 'text/plain' }),
    arrayBuffer: () => new Uint8Array([1, 2, 3, 250]).buffer,
    uint8: () => new Uint8Array([9, 8, 7]),
    dataView: () => new DataView(new Uint8Array([5, 6, 7, 8]).buffer, 1, 2),
    formData: () => { const form = new FormData(); form.append('a', '1'); form.append('file', new Blob(['zz']), 'z.bin'); return form; },
    searchParams: () => new URLSearchParams({ q: 'x y', n: '2' }),
  };
  out.bodies = {};
  for (const [kind, make] of Object.entries(bodies)) {
    out.bodies[kind] = await settle(async () => {
      const response = await fetch('/echo', { method: 'POST', body: make() });
      const bytes = new Uint8Array(await response.arrayBuffer());
      return {
        contentType: normalize(response.headers.get('content-type') || ''),
        length: response.headers.get('x-body-length'),
        text: normalize(new TextDecoder().decode(bytes)),
      };
    });
  }
  out.streamBody = await settle(async () => {
    const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('streamed')); c.close(); } });
    const response = await fetch('/echo', { method: 'POST', body: stream, duplex: 'half' });
    return response.text();
  });
  out.readAs = {
    arrayBuffer: await settle(async () => Array.from(new Uint8Array(await (await fetch('/bytes')).arrayBuffer())).slice(0, 8)),
    blob: await settle(async () => { const blob = await (await fetch('/bytes')).blob(); return { size: blob.size, type: blob.type }; }),
    reader: await settle(async () => {
      const reader = (await fetch('/big?size=70000')).body.getReader();
      let total = 0;
      for (;;) { const step = await reader.read(); if (step.done) break; total += step.value.length; }
      return total;
    }),
    appClone: await settle(async () => {
      const response = await fetch('/text');
      const copy = response.clone();
      return [await response.text(), await copy.text(), response.bodyUsed, copy.bodyUsed];
    }),
    unread: await settle(async () => (await summary(await fetch('/text')))),
  };
  out.notFound = await settle(async () => { const r = await fetch('/status/404'); return [await summary(r), await r.text()]; });
  out.redirect = await settle(async () => { const r = await fetch('/redirect'); return [await summary(r), await r.text()]; });
  out.manualRedirect = await settle(async () => summary(await fetch('/redirect', { redirect: 'manual' })));
  out.refused = await settle(() => fetch(`http://127.0.0.1:${env.closedPort}/x`));
  out.corsBlocked = await settle(() => fetch(`${env.crossOrigin}/nocors`));
  out.corsAllowed = await settle(async () => (await fetch(`${env.crossOrigin}/cors`)).text());
  out.noCors = await settle(async () => summary(await fetch(`${env.crossOrigin}/nocors`, { mode: 'no-cors' })));
  out.invalidUrl = await settle(() => fetch('http://[invalid'));
  out.badHeader = await settle(() => fetch('/text', { headers: { 'bad header': 'x' } }));
  out.getWithBody = await settle(() => fetch('/text', { method: 'GET', body: 'x' }));
  out.abortBefore = await settle(() => { const c = new AbortController(); c.abort(); return fetch('/text', { signal: c.signal }); });
  out.abortDuring = await settle(() => { const c = new AbortController(); setTimeout(() => c.abort(), 50); return fetch('/slow?ms=400', { signal: c.signal }); });
  out.abortReason = await settle(() => { const c = new AbortController(); setTimeout(() => c.abort('custom reason'), 30); return fetch('/slow?ms=400', { signal: c.signal }); });
  out.timeout = await settle(() => fetch('/slow?ms=500', { signal: AbortSignal.timeout(50) }));
  out.abortBody = await settle(async () => {
    const c = new AbortController();
    const response = await fetch('/stream', { signal: c.signal });
    const reader = response.body.getReader();
    const first = await reader.read();
    c.abort();
    try { await reader.read(); return 'read after abort'; } catch (error) { return [new TextDecoder().decode(first.value), describe(error)]; }
  });
  out.streaming = await settle(async () => {
    const reader = (await fetch('/stream')).body.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    for (;;) { const step = await reader.read(); if (step.done) break; text += step.value; }
    return text;
  });
  // Microtask order around a fetch resolution.
  out.order = await (async () => {
    const log = [];
    const pending = fetch('/text').then(() => log.push('fetch resolved'));
    Promise.resolve().then(() => log.push('microtask'));
    log.push('sync');
    await pending;
    return log;
  })();
  return out;
}

export async function xhrScenario(env) {
  const out = {};
  const request = (setup) => new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    const log = [];
    const push = (entry) => { if (log[log.length - 1] !== entry) log.push(entry); };
    for (const type of ['loadstart', 'progress', 'abort', 'error', 'load', 'timeout', 'loadend']) {
      xhr.addEventListener(type, () => push(`${type}:${xhr.readyState}`));
    }
    xhr.onreadystatechange = () => push(`readystatechange:${xhr.readyState}`);
    xhr.addEventListener('loadend', () => {
      let body;
      try {
        if (xhr.responseType === 'arraybuffer') body = xhr.response && Array.from(new Uint8Array(xhr.response)).slice(0, 6);
        else if (xhr.responseType === 'blob') body = xhr.response && [xhr.response.size, xhr.response.type];
        else if (xhr.responseType === 'document') body = xhr.response && xhr.response.documentElement.outerHTML;
        else if (xhr.responseType === 'json') body = xhr.response;
        else body = xhr.responseText;
      } catch (error) { body = `threw ${error.name}`; }
      const boundary = /----WebKitFormBoundary[A-Za-z0-9]+/g;
      if (typeof body === 'string') body = body.replace(boundary, 'BOUNDARY');
      resolve({
        log, status: xhr.status, statusText: xhr.statusText, body,
        responseURL: xhr.responseURL.replace(env.origin, ''),
        contentType: xhr.getResponseHeader('content-type')?.replace(boundary, 'BOUNDARY') ?? null,
      });
    });
    setup(xhr);
  });
  out.shape = {
    constants: [XMLHttpRequest.UNSENT, XMLHttpRequest.OPENED, XMLHttpRequest.HEADERS_RECEIVED, XMLHttpRequest.LOADING, XMLHttpRequest.DONE],
    instance: new XMLHttpRequest() instanceof XMLHttpRequest,
    eventTarget: new XMLHttpRequest() instanceof EventTarget,
    protoNames: Object.getOwnPropertyNames(XMLHttpRequest.prototype).sort(),
    name: XMLHttpRequest.name, openLength: XMLHttpRequest.prototype.open.length,
    sendLength: XMLHttpRequest.prototype.send.length, openText: XMLHttpRequest.prototype.open.toString(),
  };
  out.text = await request((x) => { x.open('GET', '/text'); x.send(); });
  out.json = await request((x) => { x.open('GET', '/json'); x.responseType = 'json'; x.send(); });
  out.arraybuffer = await request((x) => { x.open('GET', '/bytes'); x.responseType = 'arraybuffer'; x.send(); });
  out.blob = await request((x) => { x.open('GET', '/bytes'); x.responseType = 'blob'; x.send(); });
  out.document = await request((x) => { x.open('GET', '/xml'); x.responseType = 'document'; x.send(); });
  out.post = await request((x) => { x.open('POST', '/echo'); x.setRequestHeader('Content-Type', 'application/json'); x.send('{"a":1}'); });
  out.postForm = await request((x) => { const f = new FormData(); f.append('k', 'v'); x.open('POST', '/echo'); x.send(f); });
  out.postBytes = await request((x) => { x.open('POST', '/echo'); x.send(new Uint8Array([1, 2, 3])); });
  out.postBlob = await request((x) => { x.open('POST', '/echo'); x.send(new Blob(['blob body'], { type: 'text/plain' })); });
  out.notFound = await request((x) => { x.open('GET', '/status/404'); x.send(); });
  out.redirect = await request((x) => { x.open('GET', '/redirect'); x.send(); });
  out.refused = await request((x) => { x.open('GET', `http://127.0.0.1:${env.closedPort}/x`); x.send(); });
  out.cors = await request((x) => { x.open('GET', `${env.crossOrigin}/nocors`); x.send(); });
  out.uploadListener = await request((x) => { x.open('POST', `${env.crossOrigin}/cors`); x.upload.onprogress = () => {}; x.send('data'); });
  out.abort = await request((x) => { x.open('GET', '/slow?ms=400'); x.send(); setTimeout(() => x.abort(), 50); });
  out.timeout = await request((x) => { x.open('GET', '/slow?ms=400'); x.timeout = 50; x.send(); });
  out.reuse = await request((x) => {
    x.open('GET', '/text');
    x.onload = () => { x.onload = null; x.open('GET', '/json'); x.send(); };
    x.send();
  });
  const sync = (url) => {
    const xhr = new XMLHttpRequest();
    const log = [];
    xhr.onreadystatechange = () => log.push(`rs:${xhr.readyState}`);
    xhr.onload = () => log.push('load');
    xhr.onloadend = () => log.push('loadend');
    xhr.onerror = () => log.push('error');
    xhr.open('GET', url, false);
    try { xhr.send(); return { log, status: xhr.status, text: xhr.responseText }; } catch (error) { return { log, error: [error.name, error.message] }; }
  };
  out.syncOk = sync('/text');
  out.syncFail = sync(`http://127.0.0.1:${env.closedPort}/x`);
  out.invalidState = (() => { try { new XMLHttpRequest().send(); return 'no error'; } catch (error) { return [error.name, error.message]; } })();
  out.badMethod = (() => { try { new XMLHttpRequest().open('CONNECT', '/text'); return 'no error'; } catch (error) { return [error.name, error.message]; } })();
  return out;
}

export async function webSocketScenario(env) {
  const out = {};
  const wsUrl = env.origin.replace('http', 'ws') + '/ws/echo';
  const descriptor = (object, key) => {
    const d = Object.getOwnPropertyDescriptor(object, key);
    return d && { writable: d.writable, enumerable: d.enumerable, configurable: d.configurable, value: typeof d.value === 'function' ? 'fn' : d.value };
  };
  out.shape = {
    name: WebSocket.name, length: WebSocket.length, text: WebSocket.toString(),
    constants: [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
    constantDescriptors: ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].map((k) => descriptor(WebSocket, k)),
    staticNames: Object.getOwnPropertyNames(WebSocket).sort(),
    protoNames: Object.getOwnPropertyNames(WebSocket.prototype).sort(),
    protoConstructor: WebSocket.prototype.constructor === WebSocket,
    protoOfConstructor: Object.getPrototypeOf(WebSocket) === EventTarget,
    prototypeDescriptor: descriptor(WebSocket, 'prototype'),
    globalDescriptor: descriptor(window, 'WebSocket'),
    sendLength: WebSocket.prototype.send.length,
  };
  const errorOf = (run) => { try { run(); return 'no error'; } catch (error) { return [error.name, error.message, error instanceof DOMException, error instanceof TypeError]; } };
  out.callWithoutNew = errorOf(() => WebSocket(wsUrl));
  out.badScheme = errorOf(() => new WebSocket('ftp://127.0.0.1/'));
  out.badProtocols = errorOf(() => new WebSocket(wsUrl, ['a', 'a']));
  out.sendWhileConnecting = errorOf(() => { const s = new WebSocket(wsUrl); try { s.send('x'); } finally { s.close(); } });

  const session = (url, protocols, binaryType, script) => new Promise((resolve) => {
    const socket = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
    const log = [];
    const initial = {
      instance: socket instanceof WebSocket, eventTarget: socket instanceof EventTarget,
      proto: Object.getPrototypeOf(socket) === WebSocket.prototype, ctor: socket.constructor === WebSocket,
      readyState: socket.readyState, binaryType: socket.binaryType, url: socket.url.replace(env.origin.replace('http', 'ws'), ''),
      bufferedAmount: socket.bufferedAmount, ownKeys: Object.keys(socket),
    };
    if (binaryType) socket.binaryType = binaryType;
    const pending = [];
    socket.onopen = (event) => { log.push(['onopen', event.type, socket.readyState, socket.protocol, socket.extensions]); script(socket, log); };
    socket.addEventListener('open', () => log.push(['listener open']));
    socket.onmessage = (event) => {
      const data = event.data;
      if (typeof data === 'string') log.push(['message', 'text', data]);
      else if (data instanceof ArrayBuffer) log.push(['message', 'arraybuffer', Array.from(new Uint8Array(data))]);
      else if (data instanceof Blob) {
        const entry = ['message', 'blob', data.size];
        log.push(entry);
        pending.push(data.arrayBuffer().then((b) => entry.push(Array.from(new Uint8Array(b)))));
      }
    };
    socket.addEventListener('message', () => log.push(['listener message']));
    socket.onerror = (event) => log.push(['error', event.type, socket.readyState]);
    socket.onclose = async (event) => {
      log.push(['close', event.code, event.reason, event.wasClean, socket.readyState, event instanceof CloseEvent]);
      await Promise.all(pending);
      resolve({ initial, log, bufferedAmountAfter: socket.bufferedAmount });
    };
  });
  out.text = await session(wsUrl, undefined, null, (s) => { s.send('hello'); s.send('wörld ✓'); s.send('close:4001:done here'); });
  out.arraybuffer = await session(wsUrl, undefined, 'arraybuffer', (s) => {
    s.send(new Uint8Array([0xca, 0xfe, 1, 2]).buffer);
    s.send(new Uint8Array([9, 9, 9, 9, 9]).subarray(1, 3));
    s.send(new DataView(new Uint8Array([4, 5, 6]).buffer));
    s.send('close:1000:');
  });
  out.blob = await session(wsUrl, undefined, 'blob', (s) => {
    s.send(new Blob([new Uint8Array([1, 2, 3])]));
    s.send('text after blob');
    s.send('close:1000:bye');
  });
  out.protocols = await session(wsUrl, ['proto-a', 'proto-b'], null, (s) => { s.send('close:1000:'); });
  out.clientClose = await session(wsUrl, undefined, null, (s) => { s.send('x'); s.close(3000, 'client says bye'); s.send('after close is discarded'); });
  out.refused = await session(`ws://127.0.0.1:${env.closedPort}/`, undefined, null, () => {});
  out.subclass = await new Promise((resolve) => {
    class Tagged extends WebSocket { tag() { return 'tagged'; } }
    const socket = new Tagged(wsUrl);
    socket.onopen = () => { socket.send('sub'); };
    socket.onmessage = (event) => { socket.close(); resolve([socket instanceof Tagged, socket instanceof WebSocket, socket.tag(), event.data, Object.getPrototypeOf(socket) === Tagged.prototype]); };
  });
  return out;
}

export async function eventSourceScenario(env) {
  const out = {};
  out.shape = {
    name: EventSource.name, length: EventSource.length,
    constants: [EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED],
    staticNames: Object.getOwnPropertyNames(EventSource).sort(),
    protoConstructor: EventSource.prototype.constructor === EventSource,
  };
  out.stream = await new Promise((resolve) => {
    const source = new EventSource('/sse');
    const log = [['initial', source.readyState, source instanceof EventSource, source.url.replace(env.origin, ''), source.withCredentials]];
    source.onopen = () => log.push(['open', source.readyState]);
    source.onmessage = (event) => log.push(['message', event.type, event.data, event.lastEventId, event instanceof MessageEvent]);
    source.addEventListener('tick', (event) => log.push(['tick', event.data, event.lastEventId]));
    source.onerror = () => {
      log.push(['error', source.readyState]);
      if (source.readyState === EventSource.CLOSED) resolve(log);
    };
  });
  out.callWithoutNew = (() => { try { EventSource('/sse'); return 'no error'; } catch (error) { return [error.name, error.message]; } })();
  out.badUrl = (() => { try { new EventSource('http://[bad'); return 'no error'; } catch (error) { return [error.name, error.message]; } })();
  return out;
}
