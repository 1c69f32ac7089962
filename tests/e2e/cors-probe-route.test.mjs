// `POST /__framescope/cors-probe` on `framescope serve`: the dashboard's way to run the
// cors-check probe for a captured request. Checked against a loopback server that refuses
// PUT in its preflight, plus the guards (other origins, non-JSON bodies, unreachable hosts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServe } from './support.mjs';

let serve;
let api;
let apiPort;

before(async () => {
  serve = await startServe();
  api = http.createServer((req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, ['Access-Control-Allow-Origin', '*', 'Access-Control-Allow-Methods', 'GET, POST']);
    } else {
      res.writeHead(200, ['Access-Control-Allow-Origin', '*']);
    }
    res.end();
  });
  await new Promise((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiPort = api.address().port;
});

after(async () => {
  await serve?.stop();
  api?.closeAllConnections();
  await new Promise((resolve) => api?.close(resolve) ?? resolve());
});

const probeUrl = () => new URL('/__framescope/cors-probe', serve.url).href;
const request = (url, method = 'PUT') => ({ page_origin: 'http://127.0.0.1:5173', url, method, headers: [['X-Trace', '1']] });

test('the probe answers the analysis of the real preflight', async () => {
  const response = await fetch(probeUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request(`http://127.0.0.1:${apiPort}/rpc`)),
  });
  assert.equal(response.status, 200);
  const report = await response.json();
  assert.equal(report.verdict, 'blocked');
  assert.equal(report.cors_error, 'MethodDisallowedByPreflightResponse');
  assert.equal(report.failed_parameter, 'PUT');
  assert.equal(report.access_control_request_headers, 'x-trace');
  assert.equal(report.exchanges.length, 1);
  assert.ok(report.fix.go_net_http.includes('"Access-Control-Allow-Methods", "PUT"'));
});

test('other origins, non-JSON bodies and unreachable servers are refused clearly', async () => {
  const foreign = await fetch(probeUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'http://evil.test' },
    body: JSON.stringify(request(`http://127.0.0.1:${apiPort}/rpc`)),
  });
  assert.equal(foreign.status, 403);
  const plain = await fetch(probeUrl(), {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(request(`http://127.0.0.1:${apiPort}/rpc`)),
  });
  assert.equal(plain.status, 415);
  const garbage = await fetch(probeUrl(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"url": 3}' });
  assert.equal(garbage.status, 400);
  const unreachable = await fetch(probeUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request('http://127.0.0.1:1/rpc')),
  });
  assert.equal(unreachable.status, 502);
  assert.match(await unreachable.text(), /^could not check http:\/\/127\.0\.0\.1:1\/rpc: connection refused/);
});
