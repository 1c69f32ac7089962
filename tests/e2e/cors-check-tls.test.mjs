// `framescope cors-check` over https: a loopback https server with a certificate from a CA
// made for this test (openssl). Trusted with --cacert the probe completes; without it the
// command says in one line that the TLS handshake failed and exits with 2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FRAMESCOPE, ROOT } from './support.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'cors-tls-'));
let server;
let port;
const seen = [];

function openssl(...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

before(async () => {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=framescope test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(path.join(dir, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'leaf.pem', '-days', '2', '-extfile', 'leaf.ext');
  server = https.createServer({
    key: readFileSync(path.join(dir, 'leaf.key')),
    cert: readFileSync(path.join(dir, 'leaf.pem')),
  }, (req, res) => {
    seen.push(`${req.method} ${req.headers['access-control-request-method'] ?? ''}`.trim());
    if (req.method === 'OPTIONS') {
      res.writeHead(204, ['Access-Control-Allow-Origin', '*', 'Access-Control-Allow-Methods', 'PUT']);
    } else {
      res.writeHead(200, ['Access-Control-Allow-Origin', '*']);
    }
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
});

after(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve());
});

function run(args) {
  return new Promise((resolve) => {
    execFile(FRAMESCOPE, args, { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

test('cors-check probes an https server trusted through --cacert', async () => {
  const result = await run(['cors-check', `https://127.0.0.1:${port}/rpc`, '--origin', 'http://127.0.0.1:5173',
    '--method', 'PUT', '--cacert', path.join(dir, 'ca.pem'), '--json']);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.verdict, 'allowed');
  assert.equal(report.preflight_required, true);
  assert.deepEqual(report.exchanges.map((e) => [e.kind, e.method, e.status]), [['preflight', 'OPTIONS', 204], ['request', 'PUT', 200]]);
  assert.deepEqual(seen, ['OPTIONS PUT', 'PUT']);
});

test('an untrusted certificate is a one-line error with exit code 2', async () => {
  const result = await run(['cors-check', `https://127.0.0.1:${port}/rpc`, '--origin', 'http://127.0.0.1:5173']);
  assert.equal(result.code, 2);
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  assert.match(result.stderr, /^framescope: could not check https:\/\/127\.0\.0\.1:\d+\/rpc: TLS handshake with 127\.0\.0\.1 failed/);
  assert.equal(result.stdout, '');
});

test('a --cacert file that is not PEM is a clear error', async () => {
  const bogus = path.join(dir, 'bogus.pem');
  writeFileSync(bogus, 'not a certificate\n');
  const result = await run(['cors-check', `https://127.0.0.1:${port}/rpc`, '--origin', 'http://127.0.0.1:5173', '--cacert', bogus]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /holds no certificate|not a PEM file/);
});
