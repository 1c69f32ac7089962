// A loopback HTTP + WebSocket server for the hook's end-to-end tests and benchmark: the
// pages under test, /hook.js straight from static/, and deterministic endpoints for every
// transport and body type. Not a test file itself (no `.test.` in the name).
import http from 'node:http';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './support.mjs';

const HOOK_PATH = path.join(ROOT, 'static/hook.js');

/** Minimal RFC 6455 server side: handshake, framing, fragmentation, ping, close. */
export class WsConnection {
  constructor(socket, onMessage, onClose) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.fragments = null;
    this.fragmentOpcode = 0;
    this.closed = false;
    this.onMessage = onMessage;
    this.onClose = onClose;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('close', () => { if (!this.closed) { this.closed = true; this.onClose?.(1006); } });
    socket.on('error', () => {});
  }

  receive(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const frame = this.parse();
      if (!frame) return;
      this.handle(frame);
    }
  }

  parse() {
    const b = this.buffer;
    if (b.length < 2) return null;
    const fin = (b[0] & 0x80) !== 0;
    const opcode = b[0] & 0x0f;
    const masked = (b[1] & 0x80) !== 0;
    let length = b[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return null;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return null;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    const maskOffset = offset;
    if (masked) offset += 4;
    if (b.length < offset + length) return null;
    const payload = Buffer.from(b.subarray(offset, offset + length));
    if (masked) {
      for (let i = 0; i < payload.length; i++) payload[i] ^= b[maskOffset + (i & 3)];
    }
    this.buffer = b.subarray(offset + length);
    return { fin, opcode, payload };
  }

  handle({ fin, opcode, payload }) {
    if (opcode === 0x8) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      if (this.closing) {
        // The peer answered our close: the handshake is complete.
        this.closed = true;
        this.socket.end();
        this.onClose?.(code);
        return;
      }
      if (!this.closed) {
        this.closed = true;
        this.writeFrame(0x8, payload.length >= 2 ? payload.subarray(0, 2) : Buffer.alloc(0));
        this.socket.end();
        this.onClose?.(code);
      }
      return;
    }
    if (opcode === 0x9) { this.writeFrame(0xa, payload); return; }
    if (opcode === 0xa) return;
    if (opcode === 0x0) {
      this.fragments.push(payload);
      if (!fin) return;
      const whole = Buffer.concat(this.fragments);
      this.fragments = null;
      this.deliver(this.fragmentOpcode, whole);
      return;
    }
    if (!fin) { this.fragments = [payload]; this.fragmentOpcode = opcode; return; }
    this.deliver(opcode, payload);
  }

  deliver(opcode, payload) {
    this.onMessage?.(opcode === 0x1 ? payload.toString('utf8') : payload, opcode === 0x2);
  }

  writeFrame(opcode, payload) {
    if (this.socket.destroyed) return;
    let header;
    if (payload.length < 126) {
      header = Buffer.from([0x80 | opcode, payload.length]);
    } else if (payload.length < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode; header[1] = 126; header.writeUInt16BE(payload.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode; header[1] = 127; header.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    this.socket.write(Buffer.concat([header, payload]));
  }

  sendText(text) { this.writeFrame(0x1, Buffer.from(text, 'utf8')); }
  sendBinary(bytes) { this.writeFrame(0x2, Buffer.from(bytes)); }
  close(code, reason = '') {
    if (this.closed || this.closing) return;
    this.closing = true;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.writeFrame(0x8, payload);
  }
}

/** Accepts a WebSocket upgrade; returns the connection, or null if the request is not one. */
export function acceptWebSocket(request, socket, handlers) {
  const key = request.headers['sec-websocket-key'];
  if (!key) { socket.destroy(); return null; }
  const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  const requested = (request.headers['sec-websocket-protocol'] || '').split(',').map((p) => p.trim()).filter(Boolean);
  const lines = [
    'HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${accept}`,
  ];
  if (requested.length) lines.push(`Sec-WebSocket-Protocol: ${requested[0]}`);
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  return new WsConnection(socket, handlers.onMessage, handlers.onClose);
}

function pageHtml(query) {
  const scripts = [];
  if (query.get('prewrap') === 'fetch') {
    // The seed's in-page proxy: /api/ calls are answered from a cache after the first time.
    scripts.push(`<script>
      (function () {
        const original = window.fetch;
        const cache = new Map();
        window.fetch = async function proxiedFetch(input, init) {
          const url = String(input instanceof Request ? input.url : input);
          if (url.includes('/api/') && cache.has(url)) return new Response(cache.get(url), { headers: { 'x-from-cache': '1' } });
          const response = await original.call(this, input, init);
          if (url.includes('/api/')) cache.set(url, await response.clone().text());
          return response;
        };
        window.__proxyCacheSize = () => cache.size;
      })();
    </script>`);
  }
  if (query.get('prewrap') === 'websocket') {
    scripts.push(`<script>
      (function () {
        const Original = window.WebSocket;
        window.__wrappedSends = 0;
        class CountingWebSocket extends Original {
          send(data) { window.__wrappedSends += 1; return super.send(data); }
        }
        window.WebSocket = CountingWebSocket;
      })();
    </script>`);
  }
  const hooks = Number(query.get('hook') || 0);
  // `hookfile=NAME` loads another hook build given to startHookTestServer (benchmarks).
  const hookSrc = query.get('hookfile') ? `/hook.js?file=${encodeURIComponent(query.get('hookfile'))}` : '/hook.js';
  for (let i = 0; i < hooks; i++) scripts.push(`<script src="${hookSrc}"></script>`);
  const relayHook = query.get('relayhook');
  if (relayHook) scripts.push(`<script src="${relayHook.replace(/"/g, '')}"></script>`);
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>hook test page</title>${scripts.join('\n')}</head><body><p>hook test page</p></body></html>`;
}

function sseBody(response, request) {
  if (request.headers['last-event-id']) {
    // The reconnect after the stream ended: 204 tells EventSource to stop.
    response.writeHead(204);
    response.end();
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const events = [
    'retry: 200\nid: 1\ndata: first\n\n',
    ': a comment line\n\n',
    'event: tick\nid: 2\ndata: {"n":2}\n\n',
    'event: unheard\ndata: nobody listens\n\n',
    'id: 3\ndata: line one\ndata: line two\n\n',
  ];
  let index = 0;
  const timer = setInterval(() => {
    if (index < events.length) { response.write(events[index++]); return; }
    clearInterval(timer);
    response.end();
  }, 20);
  response.on('close', () => clearInterval(timer));
}

function streamBody(response) {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  let n = 0;
  const timer = setInterval(() => {
    n += 1;
    response.write(`data: chunk ${n}\n\n`);
    if (n === 3) { clearInterval(timer); response.end(); }
  }, 30);
}

const BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

function handle(request, response, options) {
  const url = new URL(request.url, 'http://127.0.0.1');
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks);
    const p = url.pathname;
    if (options.cross) {
      if (p === '/cors') {
        response.writeHead(200, { 'access-control-allow-origin': '*', 'content-type': 'text/plain' });
        response.end('cors ok');
      } else {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('no cors headers');
      }
      return;
    }
    if (p === '/hook.js') {
      response.writeHead(200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cross-origin-resource-policy': 'cross-origin', 'access-control-allow-origin': '*', 'cache-control': 'no-store',
      });
      response.end(readFileSync(options.hookFiles?.[url.searchParams.get('file')] ?? HOOK_PATH));
    } else if (p === '/page') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(pageHtml(url.searchParams));
    } else if (p === '/text' || p.startsWith('/api/')) {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-custom': 'yes' });
      response.end(p === '/text' ? 'hello text' : `api answer for ${p}`);
    } else if (p === '/json') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"a":1,"big":9007199254740993,"s":"héllo ✓"}');
    } else if (p === '/echo') {
      response.writeHead(200, {
        'content-type': request.headers['content-type'] || 'application/octet-stream',
        'x-method': request.method, 'x-body-length': String(body.length),
      });
      response.end(body);
    } else if (p === '/bytes') {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(BYTES);
    } else if (p === '/big') {
      const size = Number(url.searchParams.get('size') || 200000);
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('x'.repeat(size));
    } else if (p === '/xml') {
      response.writeHead(200, { 'content-type': 'application/xml' });
      response.end('<root><item n="1">one</item></root>');
    } else if (p === '/status/404') {
      response.writeHead(404, 'Not Found', { 'content-type': 'text/plain' });
      response.end('missing');
    } else if (p === '/redirect') {
      response.writeHead(302, { location: '/text' });
      response.end();
    } else if (p === '/slow') {
      setTimeout(() => { response.writeHead(200, { 'content-type': 'text/plain' }); response.end('slow done'); },
        Number(url.searchParams.get('ms') || 500));
    } else if (p === '/stream') {
      streamBody(response);
    } else if (p === '/sse') {
      sseBody(response, request);
    } else if (p === '/rt') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(body.length ? body : 'pong');
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('no such test route');
    }
  });
}

function handleUpgrade(request, socket, upgraded) {
  upgraded.add(socket);
  socket.on('close', () => upgraded.delete(socket));
  const url = new URL(request.url, 'http://127.0.0.1');
  if (url.pathname !== '/ws/echo') { socket.destroy(); return; }
  const connection = acceptWebSocket(request, socket, {
    onMessage(data, binary) {
      if (!binary && data.startsWith('close:')) {
        const [, code, reason] = data.split(':');
        connection.close(Number(code), reason || '');
        return;
      }
      if (!binary && data.startsWith('rate:')) {
        // rate:MESSAGES_PER_SECOND:MILLIS, sent in 5 ms ticks, then "rate-done".
        const [, rate, millis] = data.split(':').map(Number);
        const perTick = Math.max(1, Math.round((rate * 5) / 1000));
        const started = Date.now();
        let sent = 0;
        const timer = setInterval(() => {
          const due = Math.min(Math.round(((Date.now() - started) * rate) / 1000), Math.round((rate * millis) / 1000));
          for (let i = 0; sent < due && i < perTick * 4; i++) connection.sendText(`r-${sent++}`);
          if (Date.now() - started >= millis && sent >= Math.round((rate * millis) / 1000)) {
            clearInterval(timer);
            connection.sendText('rate-done');
          }
        }, 5);
        return;
      }
      if (!binary && data.startsWith('burst:')) {
        const count = Number(data.slice(6));
        for (let i = 0; i < count; i++) connection.sendText(`m-${i}`);
        return;
      }
      if (binary) connection.sendBinary(data); else connection.sendText(data);
    },
  });
}

async function listen(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server.address().port;
}

/**
 * Starts the main test server, a second origin, and reserves a closed port.
 * `hookFiles` maps names to other hook files, served for pages opened with `hookfile=NAME`.
 */
export async function startHookTestServer({ hookFiles = {} } = {}) {
  const main = http.createServer((q, r) => handle(q, r, { hookFiles }));
  const upgraded = new Set();
  main.on('upgrade', (request, socket) => handleUpgrade(request, socket, upgraded));
  main.keepAliveTimeout = 1000;
  const cross = http.createServer((q, r) => handle(q, r, { cross: true }));
  const port = await listen(main);
  const crossPort = await listen(cross);
  const closed = http.createServer();
  const closedPort = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    crossOrigin: `http://127.0.0.1:${crossPort}`,
    closedPort,
    async close() {
      for (const socket of upgraded) socket.destroy();
      main.closeAllConnections?.();
      cross.closeAllConnections?.();
      await Promise.all([new Promise((r) => main.close(r)), new Promise((r) => cross.close(r))]);
    },
  };
}
