// A HAR recorded fresh from headless Chromium (Playwright `recordHar`) goes through
// `framescope analyze` and `framescope export`, and the HAR we export is read by other
// tools: Chrome DevTools' own HAR importer (from the DevTools front end bundled with
// Chromium) sees the requests and WebSocket frames, and Playwright's `routeFromHAR` replays
// the page and its JSON-RPC answers from our file after the real server is gone.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, FRAMESCOPE, launchBrowser } from './support.mjs';
import { recordHar } from './har-recorder.mjs';

const run = promisify(execFile);
const WORK = path.join(ROOT, 'target/e2e/har-record');
const RECORDED = path.join(WORK, 'recorded.har');
const SECRETS = ['har-fetch-secret', 'har-body-secret', 'har-url-secret', 'har-cookie-secret', 'har-response-secret'];

async function framescope(...args) {
  const { stdout, stderr } = await run(FRAMESCOPE, args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return { stdout, stderr };
}

before(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  await recordHar(RECORDED);
});

test('the fresh recording holds fetch and WebSocket traffic with secrets', () => {
  const har = JSON.parse(readFileSync(RECORDED, 'utf8'));
  const socket = har.log.entries.find((entry) => entry._resourceType === 'websocket');
  assert.ok(socket, 'a websocket entry');
  assert.equal(socket._webSocketMessages.length, 5);
  const text = readFileSync(RECORDED, 'utf8');
  for (const secret of SECRETS) assert.ok(text.includes(secret), `recording holds ${secret}`);
});

test('framescope analyze reads the recording', { skip: !analyzeAvailable() && 'framescope analyze is not built' }, async () => {
  const { stdout } = await framescope('analyze', RECORDED, '--json');
  const analysis = JSON.parse(stdout);
  const methods = analysis.calls.map((call) => call.method);
  for (const method of ['Arith.Multiply', 'Arith.Divide', 'User.Login', 'Chat.Send', 'Chat.Typing']) {
    assert.ok(methods.includes(method), `${method} in ${methods}`);
  }
  const divide = analysis.calls.find((call) => call.method === 'Arith.Divide');
  assert.equal(divide.outcome, 'error');
  assert.equal(divide.error_code, -32000);
  assert.ok(analysis.calls.some((call) => call.protocol === 'cafe' && call.outcome === 'ok'));
});

function analyzeAvailable() {
  if (!existsSync(FRAMESCOPE)) return false;
  return /^\s+analyze\b/m.test(execFileSync(FRAMESCOPE, ['help'], { encoding: 'utf8' }));
}

test('HAR export keeps Chrome-style WebSocket messages and drops the secrets', async () => {
  const out = path.join(WORK, 'exported.har');
  await framescope('export', RECORDED, '--format', 'har', '-o', out);
  const text = readFileSync(out, 'utf8');
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} leaked`);
  const recorded = JSON.parse(readFileSync(RECORDED, 'utf8'));
  const exported = JSON.parse(text);
  assert.equal(exported.log.version, '1.2');
  assert.equal(exported.log.creator.name, 'Framescope');
  const recordedSocket = recorded.log.entries.find((entry) => entry._resourceType === 'websocket');
  const socket = exported.log.entries.find((entry) => entry._resourceType === 'websocket');
  assert.equal(socket.response.status, 101);
  assert.equal(socket._webSocketMessages.length, recordedSocket._webSocketMessages.length);
  socket._webSocketMessages.forEach((message, index) => {
    const original = recordedSocket._webSocketMessages[index];
    assert.equal(message.type, original.type);
    assert.equal(message.opcode, original.opcode);
    // Chrome's unit is seconds; Playwright recorded milliseconds.
    assert.ok(Math.abs(message.time - original.time / 1000) < 1e-5, `${message.time} vs ${original.time}`);
    if (message.opcode === 2) assert.equal(message.data, original.data, 'binary frames are base64, unchanged');
  });
  const posts = exported.log.entries.filter((entry) => entry.request.method === 'POST');
  assert.equal(posts.length, 3);
  assert.ok(posts.every((entry) => entry.request.headers.some((header) => header.name.toLowerCase() === 'authorization' && header.value === 'Bearer [REDACTED]')));
});

test('OTLP export of the recording has RPC spans and an ERROR status for the failed call', async () => {
  const { stdout } = await framescope('export', RECORDED, '--format', 'otlp');
  const spans = JSON.parse(stdout).resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));
  const byName = Object.fromEntries(spans.map((span) => [span.name, span]));
  for (const name of ['Arith/Multiply', 'Arith/Divide', 'User/Login', 'Chat/Send']) assert.ok(byName[name], `${name} span`);
  assert.equal(byName['Arith/Divide'].status.code, 2);
  assert.match(byName['Arith/Multiply'].traceId, /^[0-9a-f]{32}$/);
  assert.match(byName['Arith/Multiply'].spanId, /^[0-9a-f]{16}$/);
  const attribute = (span, key) => span.attributes.find((item) => item.key === key)?.value;
  assert.deepEqual(attribute(byName['Chat/Send'], 'rpc.system'), { stringValue: 'jsonrpc' });
  assert.deepEqual(attribute(byName['Chat/Send'], 'network.protocol.name'), { stringValue: 'websocket' });
  for (const secret of SECRETS) assert.ok(!stdout.includes(secret), `${secret} leaked`);
});

test('a session file of the recording exports the same HAR as the recording', async () => {
  const session = path.join(WORK, 'recorded.framescope.json');
  await framescope('export', RECORDED, '--format', 'session', '--no-redact', '-o', session);
  const fromSession = await framescope('export', session, '--format', 'har');
  const fromRecording = await framescope('export', RECORDED, '--format', 'har');
  assert.equal(fromSession.stdout, fromRecording.stdout);
});

test("Chrome DevTools' own HAR importer reads our export, WebSocket frames included", async () => {
  const out = path.join(WORK, 'for-devtools.har');
  await framescope('export', RECORDED, '--format', 'har', '-o', out);
  const recorded = JSON.parse(readFileSync(RECORDED, 'utf8'));
  const recordedSocket = recorded.log.entries.find((entry) => entry._resourceType === 'websocket');
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    // The DevTools front end bundled with this Chromium, and its HAR importer module (the
    // code behind the Network panel's "Import HAR file").
    await page.goto('devtools://devtools/bundled/devtools_app.html');
    const requests = await page.evaluate(async (text) => {
      const HAR = await import('./models/har/har.js');
      const root = new HAR.HARFormat.HARRoot(JSON.parse(text));
      return HAR.Importer.Importer.requestsFromHARLog(root.log).map((request) => ({
        url: request.url(),
        method: request.requestMethod,
        status: request.statusCode,
        type: request.resourceType().name(),
        frames: request.frames().map((frame) => ({ type: frame.type, time: frame.time, opcode: frame.opCode, text: frame.text })),
      }));
    }, readFileSync(out, 'utf8'));
    assert.equal(requests.length, recorded.log.entries.length);
    const posts = requests.filter((request) => request.method === 'POST');
    assert.equal(posts.length, 3);
    assert.ok(posts.every((request) => request.status === 200));
    const socket = requests.find((request) => request.type === 'websocket');
    assert.ok(socket, 'DevTools sees a websocket request');
    assert.equal(socket.status, 101);
    assert.equal(socket.frames.length, recordedSocket._webSocketMessages.length);
    socket.frames.forEach((frame, index) => {
      const original = recordedSocket._webSocketMessages[index];
      assert.equal(frame.type, original.type);
      assert.equal(frame.opcode, original.opcode);
      assert.ok(Math.abs(frame.time - original.time / 1000) < 1e-5, `${frame.time} s vs ${original.time} ms`);
      if (frame.opcode === 2) assert.equal(frame.text, original.data);
    });
  } finally {
    await browser.close();
  }
});

test('Playwright routeFromHAR replays the page and its answers from our exported HAR', async () => {
  // Record against a live server, export without redaction (request bodies must match for
  // replay), stop the server, and let a third-party HAR reader serve everything.
  const out = path.join(WORK, 'replayable.har');
  await framescope('export', RECORDED, '--format', 'har', '--no-redact', '-o', out);
  const recorded = JSON.parse(readFileSync(RECORDED, 'utf8'));
  const pageUrl = recorded.log.entries[0].request.url;
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext();
    await context.routeFromHAR(out, { notFound: 'abort' });
    const page = await context.newPage();
    await page.goto(pageUrl);
    assert.equal(await page.title(), 'har recording');
    const answer = await page.evaluate(() => rpc('Arith.Multiply', { A: 7, B: 8 }, 1));
    assert.deepEqual(answer, { jsonrpc: '2.0', result: 56, id: 1 });
    const failure = await page.evaluate(() => rpc('Arith.Divide', { A: 1, B: 0 }, 2));
    assert.equal(failure.error.code, -32000);
  } finally {
    await browser.close();
  }
});
