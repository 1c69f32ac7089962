// Helpers for the extension tests: Chromium with the unpacked extension, two loopback
// origins (a page origin with JSON-RPC over HTTP and WebSocket, and a second origin for CORS), the panel
// page, and a service-worker restart.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, ROOT, freshProfileDir } from './support.mjs';

export const EXTENSION_DIR = path.join(ROOT, 'extension/dist/chromium');
export const FIREFOX_DIR = path.join(ROOT, 'extension/dist/firefox');

/** Fails with the command to run when the extension has not been built. */
export function requireBuiltExtension(dir = EXTENSION_DIR) {
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    throw new Error(`${path.relative(ROOT, dir)} is not built: run ./dev extension (or extension/build.sh)`);
  }
}

/** Launches Chromium (new headless) with the unpacked extension; resolves once its worker runs. */
export async function launchWithExtension() {
  requireBuiltExtension();
  const context = await chromium.launchPersistentContext(freshProfileDir('framescope-ext-'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, `--disable-extensions-except=${EXTENSION_DIR}`, `--load-extension=${EXTENSION_DIR}`],
  });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 30_000 }));
  const extensionId = new URL(worker.url()).host;
  return { context, extensionId };
}

/** The extension's current service worker (a new one after a restart). */
export async function currentWorker(context, extensionId) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const worker = context.serviceWorkers().find((candidate) => new URL(candidate.url()).host === extensionId);
    if (worker) {
      try {
        await worker.evaluate(() => 1);
        return worker;
      } catch {
        // A worker that is stopping; wait for its successor.
      }
    }
    if (Date.now() > deadline) throw new Error('the extension service worker did not come back');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The tab id Chromium gave `page` (looked up by URL through the extension's own API). */
export async function tabIdOf(context, extensionId, page) {
  const worker = await currentWorker(context, extensionId);
  const url = page.url();
  const tabs = await worker.evaluate(() => chrome.tabs.query({}));
  const matches = tabs.filter((tab) => tab.url === url);
  if (matches.length !== 1) throw new Error(`expected one tab at ${url}, found ${matches.length}`);
  return matches[0].id;
}

/** Opens the panel for `tabId` outside DevTools, the way the README describes. */
export async function openPanel(context, extensionId, tabId, extraQuery = '') {
  const panel = await context.newPage();
  const errors = [];
  panel.on('pageerror', (error) => errors.push(String(error)));
  panel.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await panel.goto(`chrome-extension://${extensionId}/panel.html?tabId=${tabId}${extraQuery}`);
  await panel.waitForFunction(() => globalThis.framescopeExtension !== undefined, null, { timeout: 30_000 });
  return { panel, errors };
}

/**
 * Stops the extension's service worker the way Chromium does when it idles (CDP
 * `ServiceWorker.stopAllWorkers`) and waits until it is gone; the next message starts a
 * fresh one.
 */
export async function stopServiceWorker(context, anyPage) {
  const session = await context.newCDPSession(anyPage);
  const stopped = new Promise((resolve) => {
    session.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
      if (versions.some((version) => version.scriptURL.startsWith('chrome-extension://') && version.runningStatus === 'stopped')) {
        resolve();
      }
    });
  });
  await session.send('ServiceWorker.enable');
  await session.send('ServiceWorker.stopAllWorkers');
  await Promise.race([
    stopped,
    new Promise((_, reject) => setTimeout(() => reject(new Error('the service worker did not stop')), 10_000)),
  ]);
  await session.detach();
}

/** Capture events the service worker stored for `tabId` (what it acknowledged), in order. */
export async function storedEvents(context, extensionId, tabId) {
  const worker = await currentWorker(context, extensionId);
  return worker.evaluate(async (id) => {
    const stored = await chrome.storage.session.get(null);
    const meta = stored[`tab:${id}`];
    if (!meta) return [];
    return meta.seqs.flatMap((seq) => stored[`rec:${id}:${seq}`]?.events ?? []);
  }, tabId);
}

// ---- loopback servers ------------------------------------------------------------------

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

function readBody(request) {
  return new Promise((resolve) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** Answers a JSON-RPC 2.0 request body with `{result: {method}}` (or a parse error). */
function jsonRpcAnswer(body) {
  try {
    const request = JSON.parse(body);
    return JSON.stringify({ jsonrpc: '2.0', id: request.id ?? null, result: { method: request.method } });
  } catch {
    return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
  }
}

// A WebSocket server (RFC 6455, no extensions): text messages are answered as JSON-RPC,
// binary ones echoed. Enough for a real socket.
function acceptWebSocket(request, socket) {
  const key = request.headers['sec-websocket-key'];
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0] & 0x0f;
      let length = buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (buffer[1] & 0x80) !== 0;
      const maskOffset = offset;
      if (masked) offset += 4;
      if (buffer.length < offset + length) return;
      const payload = Buffer.from(buffer.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < payload.length; i += 1) payload[i] ^= buffer[maskOffset + (i % 4)];
      buffer = buffer.subarray(offset + length);
      if (opcode === 0x8) {
        socket.end(frame(0x8, payload.subarray(0, 2)));
        return;
      }
      if (opcode === 0x9) socket.write(frame(0xa, payload));
      else if (opcode === 0x1) socket.write(frame(0x1, Buffer.from(jsonRpcAnswer(payload.toString('utf8')))));
      else if (opcode === 0x2) socket.write(frame(0x2, payload));
    }
  });
  socket.on('error', () => {});
}

function frame(opcode, payload) {
  const header =
    payload.length < 126
      ? Buffer.from([0x80 | opcode, payload.length])
      : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

const ISOLATED = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/**
 * A worker serving the seed's shared-memory mailbox (command word at Int32 index 0: IDLE=0,
 * REQUEST=1, RESPONSE=2; payload length at index 1; payload from byte 8): it answers each
 * JSON-RPC request with `{result: {method}}`, blocking in Atomics.wait between requests.
 * The page sends it `{ buffer }` once.
 */
const SHM_WORKER = `
self.onmessage = (event) => {
  const i32 = new Int32Array(event.data.buffer);
  const u8 = new Uint8Array(event.data.buffer);
  for (;;) {
    while (Atomics.load(i32, 0) !== 1) Atomics.wait(i32, 0, Atomics.load(i32, 0));
    const request = JSON.parse(new TextDecoder().decode(u8.slice(8, 8 + Atomics.load(i32, 1))));
    const reply = new TextEncoder().encode(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: { method: request.method } }));
    u8.set(reply, 8);
    Atomics.store(i32, 1, reply.length);
    Atomics.store(i32, 0, 2);
    Atomics.notify(i32, 0);
  }
};`;

/**
 * Two loopback origins. `page` serves the HTML given per path (`pages`, cross-origin
 * isolated), the shared-memory worker at `/shm-worker.js`, JSON-RPC at
 * `/rpc` and over a WebSocket at `/ws`. `api` is another origin: `/cors-ok` sends correct
 * CORS headers; `/cors-refused` answers the preflight 200 without any Access-Control
 * header, the way Go's net/rpc handler does. Every request to `api` is recorded.
 */
export async function startOrigins(pages) {
  const apiRequests = [];
  const sockets = new Set();
  const page = http.createServer(async (request, response) => {
    const url = new URL(request.url, 'http://127.0.0.1');
    if (url.pathname === '/rpc') {
      const body = await readBody(request);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(jsonRpcAnswer(body));
      return;
    }
    if (url.pathname === '/shm-worker.js') {
      response.writeHead(200, { ...ISOLATED, 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      response.end(SHM_WORKER);
      return;
    }
    const html = pages[url.pathname];
    if (html === undefined) {
      response.writeHead(404).end();
      return;
    }
    // Cross-origin isolated, so the page can use SharedArrayBuffer.
    response.writeHead(200, { ...ISOLATED, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end(typeof html === 'function' ? html() : html);
  });
  page.on('upgrade', (request, socket) => {
    if (new URL(request.url, 'http://127.0.0.1').pathname !== '/ws') {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    acceptWebSocket(request, socket);
  });
  const api = http.createServer(async (request, response) => {
    const url = new URL(request.url, 'http://127.0.0.1');
    const body = await readBody(request);
    apiRequests.push({ method: request.method, path: url.pathname, headers: request.headers });
    if (url.pathname === '/cors-ok') {
      const headers = {
        'access-control-allow-origin': request.headers.origin ?? '*',
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': 'content-type, x-rpc-method',
        'access-control-max-age': '0',
        vary: 'origin',
      };
      if (request.method === 'OPTIONS') {
        response.writeHead(204, headers).end();
        return;
      }
      response.writeHead(200, { ...headers, 'content-type': 'application/json' });
      response.end(jsonRpcAnswer(body));
      return;
    }
    if (url.pathname === '/cors-refused') {
      // Go's net/rpc style: OPTIONS handled like any request, no Access-Control-* at all.
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(request.method === 'OPTIONS' ? '' : jsonRpcAnswer(body));
      return;
    }
    response.writeHead(404).end();
  });
  const pageOrigin = await listen(page);
  const apiOrigin = await listen(api);
  return {
    pageOrigin,
    apiOrigin,
    apiRequests,
    async close() {
      for (const socket of sockets) socket.destroy();
      page.closeAllConnections?.();
      api.closeAllConnections?.();
      await Promise.all([new Promise((resolve) => page.close(resolve)), new Promise((resolve) => api.close(resolve))]);
    },
  };
}
