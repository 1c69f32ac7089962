// Records a HAR from a real headless-Chromium run: a local page makes JSON-RPC calls over
// fetch (one of them failing) and over a WebSocket (text JSON-RPC and binary 0xCAFE frames),
// and Playwright's `recordHar` writes what Chromium saw.
//
// Used by tests/e2e/har-record.test.mjs, and run by hand to refresh the checked-in copy:
//   node tests/e2e/har-recorder.mjs inspector-core/tests/data/chromium-recorded.har
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './support.mjs';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>har recording</title></head><body>
<script>
async function rpc(method, params, id) {
  const response = await fetch('/rpc', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer har-fetch-secret' },
    body: JSON.stringify({ jsonrpc: '2.0', method, params, id }),
  });
  return response.json();
}
function cafeFrame(type, requestId, payload) {
  const frame = new Uint8Array(16 + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint16(0, 0xcafe);
  frame[2] = 1;
  frame[3] = type;
  view.setBigUint64(4, BigInt(requestId));
  view.setUint32(12, payload.length);
  frame.set(payload, 16);
  return frame;
}
async function run() {
  await rpc('Arith.Multiply', { A: 7, B: 8 }, 1);
  await rpc('Arith.Divide', { A: 1, B: 0 }, 2);
  await rpc('User.Login', { user: 'ada', password: 'har-body-secret' }, 3);
  const socket = new WebSocket('ws://' + location.host + '/ws?token=har-url-secret');
  socket.binaryType = 'arraybuffer';
  const answers = [];
  await new Promise((resolve, reject) => {
    socket.onerror = () => reject(new Error('websocket error'));
    socket.onopen = () => {
      socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'Chat.Send', params: { text: 'hi' }, id: 10 }));
      socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'Chat.Typing', params: {} }));
      socket.send(cafeFrame(1, 42, new Uint8Array([0x08, 0x96, 0x01])));
    };
    socket.onmessage = (message) => {
      answers.push(message.data);
      if (answers.length === 2) resolve();
    };
  });
  socket.close(1000, 'done');
  await new Promise((resolve) => { socket.onclose = resolve; });
  document.title = 'done';
}
run().catch((error) => { document.title = 'failed: ' + error; });
</script></body></html>`;

function rpcAnswer(request) {
  if (request.method === 'Arith.Multiply') {
    return { jsonrpc: '2.0', result: request.params.A * request.params.B, id: request.id };
  }
  if (request.method === 'Arith.Divide' && request.params.B === 0) {
    return { jsonrpc: '2.0', error: { code: -32000, message: 'divide by zero' }, id: request.id };
  }
  if (request.method === 'User.Login') {
    return { jsonrpc: '2.0', result: { access_token: 'har-response-secret' }, id: request.id };
  }
  return { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: request.id };
}

// Minimal RFC 6455 server side: unfragmented frames, client frames masked.
function wsFrame(opcode, payload) {
  const length = payload.length;
  const header = length < 126
    ? Buffer.from([0x80 | opcode, length])
    : Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff]);
  return Buffer.concat([header, payload]);
}

function handleSocket(socket) {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (buffered.length < 2) return;
      const opcode = buffered[0] & 0x0f;
      let length = buffered[1] & 0x7f;
      let offset = 2;
      if (length === 126) { if (buffered.length < 4) return; length = buffered.readUInt16BE(2); offset = 4; }
      if (length === 127) { socket.destroy(); return; }
      if (buffered.length < offset + 4 + length) return;
      const mask = buffered.subarray(offset, offset + 4);
      const payload = Buffer.from(buffered.subarray(offset + 4, offset + 4 + length));
      for (let index = 0; index < payload.length; index += 1) payload[index] ^= mask[index % 4];
      buffered = buffered.subarray(offset + 4 + length);
      if (opcode === 0x8) { socket.end(wsFrame(0x8, payload.subarray(0, 2))); return; }
      if (opcode === 0x1) {
        const request = JSON.parse(payload.toString('utf8'));
        if (request.id !== undefined) {
          socket.write(wsFrame(0x1, Buffer.from(JSON.stringify({ jsonrpc: '2.0', result: 'ok', id: request.id }))));
        }
      } else if (opcode === 0x2 && payload.length >= 16 && payload.readUInt16BE(0) === 0xcafe) {
        const response = Buffer.from(payload);
        response[3] = 2;
        socket.write(wsFrame(0x2, response));
      }
    }
  });
}

/** Starts the page + JSON-RPC + WebSocket server on 127.0.0.1 (free port). */
export async function startRecordingServer() {
  const server = createServer((request, response) => {
    if (request.method === 'POST' && request.url === '/rpc') {
      let body = '';
      request.on('data', (chunk) => { body += chunk; });
      request.on('end', () => {
        const answer = JSON.stringify(rpcAnswer(JSON.parse(body)));
        response.writeHead(200, { 'Content-Type': 'application/json', 'Set-Cookie': 'sid=har-cookie-secret; Path=/; HttpOnly' });
        response.end(answer);
      });
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(PAGE);
  });
  server.on('upgrade', (request, socket) => {
    const accept = createHash('sha1')
      .update(request.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
      .digest('base64');
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
      + `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
    handleSocket(socket);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

/** Records one run of the page into `harPath` (Playwright `recordHar`, content embedded). */
export async function recordHar(harPath) {
  const server = await startRecordingServer();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ recordHar: { path: harPath, content: 'embed' } });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => document.title === 'done' || document.title.startsWith('failed'), null, { timeout: 30_000 });
    const title = await page.title();
    if (title !== 'done') throw new Error(`recording page ${title}`);
    await context.close();
  } finally {
    await browser.close();
    await server.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = path.resolve(process.argv[2] ?? 'target/chromium-recorded.har');
  await recordHar(target);
  console.log(`recorded ${target}`);
}
