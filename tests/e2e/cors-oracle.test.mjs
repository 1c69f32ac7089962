// The CORS oracle: headless Chromium makes cross-origin requests against a loopback server
// serving many combinations of CORS response headers; Chromium's own verdict is read over
// CDP (`Network.loadingFailed.corsErrorStatus`, or the `Audits` CorsIssue for checks done
// in the renderer). For every case the analyzer (through `framescope cors-explain`, given
// the same request and the responses the server sent) must predict the same error and
// failedParameter, and whether a preflight was sent; `framescope cors-check` run against the
// same server must reach the same verdict. A summary with the agreement rate is printed and
// written to target/cors-oracle-report.json.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CHROMIUM_ARGS, FRAMESCOPE, ROOT, launchBrowser } from './support.mjs';
import { startOracleServer } from './cors-oracle-server.mjs';

const PAGE = '{PAGE}'; // replaced by the page's origin
const PAGE_UPPER = '{PAGE_UPPER}'; // replaced by the page's origin in upper case
const acao = (value) => ['Access-Control-Allow-Origin', value];
const acac = (value) => ['Access-Control-Allow-Credentials', value];
const acam = (value) => ['Access-Control-Allow-Methods', value];
const acah = (value) => ['Access-Control-Allow-Headers', value];
const ok = (...headers) => ({ status: 200, headers });
const pre = (status, ...headers) => ({ status, headers });
const JSON_CT = ['Content-Type', 'application/json'];
const LONG_128 = `text/plain;x=${'a'.repeat(128 - 13)}`;
const LONG_129 = `${LONG_128}a`;
const big = '1'.repeat(128);
const OVER_1024 = ['dpr', 'width', 'viewport-width', 'rtt', 'device-memory', 'downlink', 'intervention', 'accept', 'accept-language']
  .map((name) => [name, big]);
const AT_1024 = OVER_1024.slice(0, 8);

// name, fetch init (method, headers, credentials, mode, redirect, body), target origin, hops.
const CASES = [
  // Simple requests: the access check on the response.
  { name: 'GET, exact origin', hops: [{ response: ok(acao(PAGE)) }] },
  { name: 'GET, wildcard origin', hops: [{ response: ok(acao('*')) }] },
  { name: 'GET, no ACAO', hops: [{ response: ok() }] },
  { name: 'GET 404 without ACAO', hops: [{ response: pre(404) }] },
  { name: 'GET 500 with ACAO', hops: [{ response: pre(500, acao('*')) }] },
  { name: 'GET, other origin', hops: [{ response: ok(acao('http://example.com')) }] },
  { name: 'GET, origin with trailing slash', hops: [{ response: ok(acao(`${PAGE}/`)) }] },
  { name: 'GET, origin in upper case', hops: [{ response: ok(acao(PAGE_UPPER)) }] },
  { name: 'GET, ACAO null', hops: [{ response: ok(acao('null')) }] },
  { name: 'GET, ACAO not a URL', hops: [{ response: ok(acao('1')) }] },
  { name: 'GET, ACAO empty', hops: [{ response: ok(acao('')) }] },
  { name: 'GET, ACAO host only', hops: [{ response: ok(acao('127.0.0.1')) }] },
  { name: 'GET, two ACAO lines', hops: [{ response: ok(acao(PAGE), acao(PAGE)) }] },
  { name: 'GET, two wildcard lines', hops: [{ response: ok(acao('*'), acao('*')) }] },
  { name: 'GET, comma-separated origins', hops: [{ response: ok(acao(`${PAGE},http://example.com`)) }] },
  { name: 'GET, space-separated origins', hops: [{ response: ok(acao(`${PAGE} http://example.com`)) }] },
  { name: 'GET, echo origin', hops: [{ response: ok(acao('$origin')) }] },
  // Credentials.
  { name: 'credentials, wildcard origin', fetch: { credentials: 'include' }, hops: [{ response: ok(acao('*'), acac('true')) }] },
  { name: 'credentials, exact origin, no ACAC', fetch: { credentials: 'include' }, hops: [{ response: ok(acao(PAGE)) }] },
  { name: 'credentials, ACAC True', fetch: { credentials: 'include' }, hops: [{ response: ok(acao(PAGE), acac('True')) }] },
  { name: 'credentials, ACAC empty', fetch: { credentials: 'include' }, hops: [{ response: ok(acao(PAGE), acac('')) }] },
  { name: 'credentials, exact origin and ACAC true', fetch: { credentials: 'include' }, hops: [{ response: ok(acao(PAGE), acac('true')) }] },
  { name: 'omit credentials, wildcard and ACAC true', fetch: { credentials: 'omit' }, hops: [{ response: ok(acao('*'), acac('true')) }] },
  // Simple POSTs: no preflight.
  { name: 'POST text body', fetch: { method: 'POST', body: 'text' }, hops: [{ response: ok(acao('*')) }] },
  { name: 'POST form-urlencoded', fetch: { method: 'POST', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'text' }, hops: [{ response: ok(acao('*')) }] },
  { name: 'POST multipart without ACAO', fetch: { method: 'POST', headers: [['Content-Type', 'multipart/form-data; boundary=x']], body: 'text' }, hops: [{ response: ok() }] },
  { name: 'POST text/plain 128-byte value', fetch: { method: 'POST', headers: [['Content-Type', LONG_128]], body: 'text' }, hops: [{ response: ok(acao('*')) }] },
  { name: 'lower-case post is normalised', fetch: { method: 'post', body: 'text' }, hops: [{ response: ok(acao('*')) }] },
  // Preflight: access check before status, then status.
  { name: 'JSON POST, preflight 204 without ACAO', fetch: { method: 'POST', headers: [JSON_CT], body: 'text' }, hops: [{ preflight: pre(204) }] },
  { name: 'JSON POST, preflight 405 without ACAO', fetch: { method: 'POST', headers: [JSON_CT], body: 'text' }, hops: [{ preflight: pre(405) }] },
  { name: 'JSON POST, preflight 405 with ACAO', fetch: { method: 'POST', headers: [JSON_CT], body: 'text' }, hops: [{ preflight: pre(405, acao('*'), acah('content-type')) }] },
  { name: 'JSON POST, preflight 500 with exact ACAO', fetch: { method: 'POST', headers: [JSON_CT], body: 'text' }, hops: [{ preflight: pre(500, acao(PAGE)) }] },
  { name: 'JSON POST, preflight 300 without Location', fetch: { method: 'POST', headers: [JSON_CT], body: 'text' }, hops: [{ preflight: pre(300, acao('*'), acah('*')) }] },
  { name: 'JSON POST, preflight 299', fetch: { method: 'POST', headers: [JSON_CT], body: 'text' }, hops: [{ preflight: pre(299, acao('*'), acah('content-type')), response: ok(acao('*')) }] },
  { name: 'JSON POST, preflight without ACAH', fetch: { method: 'POST', headers: [JSON_CT], body: 'text' }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'JSON POST, preflight ok, response without ACAO', fetch: { method: 'POST', headers: [JSON_CT], body: 'text' }, hops: [{ preflight: pre(204, acao('*'), acah('content-type')), response: ok() }] },
  { name: 'JSON POST, preflight ok, response ok', fetch: { method: 'POST', headers: [JSON_CT], body: 'text' }, hops: [{ preflight: pre(204, acao('*'), acah('Content-Type')), response: ok(acao('*')) }] },
  { name: 'JSON POST, preflight 301 redirect', fetch: { method: 'POST', headers: [JSON_CT], body: 'text' }, hops: [{ preflight: { status: 301, headers: [acao('*'), acah('*')], redirect: { origin: 'api', hop: 1 } } }] },
  { name: 'JSON POST, preflight 307 without ACAO', fetch: { method: 'POST', headers: [JSON_CT], body: 'text' }, hops: [{ preflight: { status: 307, headers: [], redirect: { origin: 'localhost', hop: 1 } } }] },
  { name: 'preflight ACAO mismatch', fetch: { method: 'PUT' }, hops: [{ preflight: pre(204, acao('http://example.com'), acam('PUT')) }] },
  { name: 'preflight ACAO not a URL', fetch: { method: 'PUT' }, hops: [{ preflight: pre(204, acao('1'), acam('PUT')) }] },
  { name: 'preflight ACAO null', fetch: { method: 'PUT' }, hops: [{ preflight: pre(204, acao('null'), acam('PUT')) }] },
  { name: 'preflight two ACAO lines', fetch: { method: 'PUT' }, hops: [{ preflight: pre(204, acao(PAGE), acao('*'), acam('PUT')) }] },
  { name: 'credentials, preflight wildcard origin', fetch: { method: 'PUT', credentials: 'include' }, hops: [{ preflight: pre(204, acao('*'), acac('true'), acam('PUT')) }] },
  { name: 'credentials, preflight without ACAC', fetch: { method: 'PUT', credentials: 'include' }, hops: [{ preflight: pre(204, acao(PAGE), acam('PUT')) }] },
  { name: 'credentials, preflight ACAC TRUE', fetch: { method: 'PUT', credentials: 'include' }, hops: [{ preflight: pre(204, acao(PAGE), acac('TRUE'), acam('PUT')) }] },
  { name: 'credentials, preflight and response ok', fetch: { method: 'PUT', credentials: 'include' }, hops: [{ preflight: pre(204, acao(PAGE), acac('true'), acam('PUT')), response: ok(acao(PAGE), acac('true')) }] },
  { name: 'credentials, preflight ok, response without ACAC', fetch: { method: 'PUT', credentials: 'include' }, hops: [{ preflight: pre(204, acao(PAGE), acac('true'), acam('PUT')), response: ok(acao(PAGE)) }] },
  // Methods.
  { name: 'PUT not in ACAM', fetch: { method: 'PUT' }, hops: [{ preflight: pre(204, acao('*'), acam('GET, POST')) }] },
  { name: 'PUT without ACAM', fetch: { method: 'PUT' }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'PUT in ACAM', fetch: { method: 'PUT' }, hops: [{ preflight: pre(204, acao('*'), acam('GET, PUT')), response: ok(acao('*')) }] },
  { name: 'PUT, ACAM wildcard', fetch: { method: 'PUT' }, hops: [{ preflight: pre(204, acao('*'), acam('*')), response: ok(acao('*')) }] },
  { name: 'credentials, PUT, ACAM wildcard is literal', fetch: { method: 'PUT', credentials: 'include' }, hops: [{ preflight: pre(204, acao(PAGE), acac('true'), acam('*')) }] },
  { name: 'ACAM not a list of tokens', fetch: { method: 'PUT' }, hops: [{ preflight: pre(204, acao('*'), acam('PUT DELETE')) }] },
  { name: 'ACAM with empty items', fetch: { method: 'PUT' }, hops: [{ preflight: pre(204, acao('*'), acam(',PUT,,')), response: ok(acao('*')) }] },
  { name: 'DELETE, ACAM lower-case delete', fetch: { method: 'DELETE' }, hops: [{ preflight: pre(204, acao('*'), acam('delete')) }] },
  { name: 'patch stays lower-case, ACAM PATCH', fetch: { method: 'patch' }, hops: [{ preflight: pre(204, acao('*'), acam('PATCH')), response: ok(acao('*')) }] },
  { name: 'patch, ACAM patch', fetch: { method: 'patch' }, hops: [{ preflight: pre(204, acao('*'), acam('patch')), response: ok(acao('*')) }] },
  { name: 'custom method FOO allowed', fetch: { method: 'FOO' }, hops: [{ preflight: pre(204, acao('*'), acam('FOO')), response: ok(acao('*')) }] },
  { name: 'two ACAM lines', fetch: { method: 'DELETE' }, hops: [{ preflight: pre(204, acao('*'), acam('PUT'), acam('DELETE')), response: ok(acao('*')) }] },
  // Headers.
  { name: 'custom header listed', fetch: { headers: [['X-RPC-Method', 'Arith.Multiply']] }, hops: [{ preflight: pre(204, acao('*'), acah('x-rpc-method')), response: ok(acao('*')) }] },
  { name: 'custom header listed in upper case', fetch: { headers: [['X-RPC-Method', 'a']] }, hops: [{ preflight: pre(204, acao('*'), acah('X-RPC-METHOD')), response: ok(acao('*')) }] },
  { name: 'custom header not listed', fetch: { headers: [['X-RPC-Method', 'a']] }, hops: [{ preflight: pre(204, acao('*'), acah('x-other')) }] },
  { name: 'one of two custom headers listed', fetch: { headers: [['X-A', '1'], ['X-B', '2']] }, hops: [{ preflight: pre(204, acao('*'), acah('x-a')) }] },
  { name: 'two custom headers, none listed', fetch: { headers: [['X-B', '1'], ['X-A', '2']] }, hops: [{ preflight: pre(204, acao('*'), acah('x-c')) }] },
  { name: 'ACAH not a list of tokens', fetch: { headers: [['X-A', '1']] }, hops: [{ preflight: pre(204, acao('*'), acah('x-a;x-b')) }] },
  { name: 'ACAH wildcard covers custom header', fetch: { headers: [['X-A', '1']] }, hops: [{ preflight: pre(204, acao('*'), acah('*')), response: ok(acao('*')) }] },
  { name: 'Authorization, ACAH wildcard', fetch: { headers: [['Authorization', 'Bearer t']] }, hops: [{ preflight: pre(204, acao('*'), acah('*')), response: ok(acao('*')) }] },
  { name: 'Authorization, ACAH authorization', fetch: { headers: [['Authorization', 'Bearer t']] }, hops: [{ preflight: pre(204, acao('*'), acah('authorization')), response: ok(acao('*')) }] },
  { name: 'Authorization, ACAH content-type only', fetch: { headers: [['Authorization', 'Bearer t']] }, hops: [{ preflight: pre(204, acao('*'), acah('content-type')) }] },
  { name: 'credentials, Authorization, ACAH wildcard is literal', fetch: { credentials: 'include', headers: [['Authorization', 'Bearer t']] }, hops: [{ preflight: pre(204, acao(PAGE), acac('true'), acah('*')) }] },
  { name: 'Content-Type application/json; charset', fetch: { method: 'POST', headers: [['Content-Type', 'application/json; charset=utf-8']], body: 'text' }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'Content-Type text/html', fetch: { method: 'POST', headers: [['Content-Type', 'text/html']], body: 'text' }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'Content-Type list of two types', fetch: { method: 'POST', headers: [['Content-Type', 'text/plain, application/json']], body: 'text' }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'Content-Type with quoted parameter', fetch: { method: 'POST', headers: [['Content-Type', 'text/plain; charset="utf-8"']], body: 'text' }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'Content-Type 129 bytes', fetch: { method: 'POST', headers: [['Content-Type', LONG_129]], body: 'text' }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'Content-Type 129 bytes allowed by ACAH', fetch: { method: 'POST', headers: [['Content-Type', LONG_129]], body: 'text' }, hops: [{ preflight: pre(204, acao('*'), acah('content-type')), response: ok(acao('*')) }] },
  { name: 'two Accept values combine over 128 bytes', fetch: { headers: [['Accept', 'a'.repeat(100)], ['Accept', 'b'.repeat(100)]] }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'two Content-Type values combine to a list', fetch: { method: 'POST', headers: [['Content-Type', 'text/plain'], ['Content-Type', 'application/json']], body: 'text' }, hops: [{ preflight: pre(204, acao('*'), acah('content-type')), response: ok(acao('*')) }] },
  { name: 'fetch with method OPTIONS is preflighted', fetch: { method: 'OPTIONS' }, hops: [{ preflight: pre(204, acao('*'), acam('GET')) }] },
  { name: 'HEAD is a simple request', fetch: { method: 'HEAD' }, hops: [{ response: ok() }] },
  { name: 'Blob body of type application/json', fetch: { method: 'POST', body: 'json-blob' }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'URLSearchParams body', fetch: { method: 'POST', body: 'params' }, hops: [{ response: ok(acao('*')) }] },
  { name: 'Accept-Language with underscore', fetch: { headers: [['Accept-Language', 'en_US']] }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'Accept with parenthesis', fetch: { headers: [['Accept', 'text/html(']] }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'Accept-Language 129 bytes', fetch: { headers: [['Accept-Language', 'a'.repeat(129)]] }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'DPR 2 is safelisted by Chromium', fetch: { headers: [['DPR', '2']] }, hops: [{ response: ok(acao('*')) }] },
  { name: 'DPR 2x is not', fetch: { headers: [['DPR', '2x']] }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'Save-Data on is safelisted', fetch: { headers: [['Save-Data', 'on']] }, hops: [{ response: ok(acao('*')) }] },
  { name: 'ECT 4g is safelisted', fetch: { headers: [['ECT', '4g']] }, hops: [{ response: ok(acao('*')) }] },
  { name: 'Intervention is safelisted', fetch: { headers: [['Intervention', '<x>']] }, hops: [{ response: ok(acao('*')) }] },
  { name: 'Range bytes=0-10 is safelisted', fetch: { headers: [['Range', 'bytes=0-10']] }, hops: [{ response: ok(acao('*')) }] },
  { name: 'Range suffix is not', fetch: { headers: [['Range', 'bytes=-5']] }, hops: [{ preflight: pre(204, acao('*')) }] },
  { name: 'safelisted values total 1024 bytes', fetch: { headers: AT_1024 }, hops: [{ response: ok(acao('*')) }] },
  { name: 'safelisted values over 1024 bytes', fetch: { headers: OVER_1024 }, hops: [{ preflight: pre(204, acao('*'), acah('accept,accept-language,device-memory,downlink,dpr,intervention,rtt,viewport-width')) }] },
  // Redirects of the request itself.
  { name: 'redirect to localhost, both wildcard', hops: [{ response: { status: 302, headers: [acao('*')], redirect: { origin: 'localhost', hop: 1 } } }, { response: ok(acao('*')) }] },
  { name: 'redirect hop without ACAO', hops: [{ response: { status: 302, headers: [], redirect: { origin: 'api', hop: 1 } } }, { response: ok(acao('*')) }] },
  { name: 'redirect to localhost taints the origin', hops: [{ response: { status: 302, headers: [acao('*')], redirect: { origin: 'localhost', hop: 1 } } }, { response: ok(acao(PAGE)) }] },
  { name: 'redirect to localhost, final ACAO null', hops: [{ response: { status: 302, headers: [acao('*')], redirect: { origin: 'localhost', hop: 1 } } }, { response: ok(acao('null')) }] },
  { name: 'redirect to localhost, echo origin', hops: [{ response: { status: 301, headers: [acao('*')], redirect: { origin: 'localhost', hop: 1 } } }, { response: ok(acao('$origin')) }] },
  { name: 'same-origin redirect keeps the origin', hops: [{ response: { status: 307, headers: [acao(PAGE)], redirect: { origin: 'api', hop: 1 } } }, { response: ok(acao(PAGE)) }] },
  { name: 'redirect with credentials in Location', hops: [{ response: { status: 302, headers: [acao('*')], redirect: { origin: 'api', hop: 1, credentials: true } } }, { response: ok(acao('*')) }] },
  { name: 'redirect back to the page origin, wildcard', hops: [{ response: { status: 302, headers: [acao('*')], redirect: { origin: 'page', hop: 1 } } }, { response: ok(acao('*')) }] },
  { name: 'redirect back to the page origin, no ACAO', hops: [{ response: { status: 302, headers: [acao('*')], redirect: { origin: 'page', hop: 1 } } }, { response: ok() }] },
  { name: 'credentials, redirect to localhost, ACAO null', fetch: { credentials: 'include' }, hops: [{ response: { status: 302, headers: [acao(PAGE), acac('true')], redirect: { origin: 'localhost', hop: 1 } } }, { response: ok(acao('null'), acac('true')) }] },
  { name: 'PUT, 307 to localhost, second preflight needs null', fetch: { method: 'PUT' }, hops: [{ preflight: pre(204, acao(PAGE), acam('PUT')), response: { status: 307, headers: [acao(PAGE)], redirect: { origin: 'localhost', hop: 1 } } }, { preflight: pre(204, acao(PAGE), acam('PUT')), response: ok(acao('*')) }] },
  { name: 'PUT, 307 to localhost, second preflight ok', fetch: { method: 'PUT' }, hops: [{ preflight: pre(204, acao(PAGE), acam('PUT')), response: { status: 307, headers: [acao(PAGE)], redirect: { origin: 'localhost', hop: 1 } } }, { preflight: pre(204, acao('null'), acam('PUT')), response: ok(acao('*')) }] },
  { name: 'JSON POST, 303 to localhost becomes GET', fetch: { method: 'POST', headers: [JSON_CT], body: 'text' }, hops: [{ preflight: pre(204, acao('*'), acah('content-type')), response: { status: 303, headers: [acao('*')], redirect: { origin: 'localhost', hop: 1 } } }, { response: ok(acao('*')) }] },
  { name: 'Authorization dropped on cross-origin redirect', fetch: { headers: [['Authorization', 'Bearer t']] }, hops: [{ preflight: pre(204, acao('*'), acah('authorization')), response: { status: 302, headers: [acao('*')], redirect: { origin: 'localhost', hop: 1 } } }, { response: ok(acao('*')) }] },
  // Modes, schemes, body kinds and XHR.
  { name: 'mode same-origin to another origin', fetch: { mode: 'same-origin' }, hops: [{ response: ok(acao('*')) }] },
  { name: 'mode no-cors, redirect error', fetch: { mode: 'no-cors', redirect: 'error' }, hops: [{ response: ok() }] },
  { name: 'mode no-cors, no ACAO', fetch: { mode: 'no-cors' }, hops: [{ response: ok() }] },
  { name: 'non-http scheme', target: 'ftp', hops: [] },
  { name: 'mode no-cors with PUT throws in the page', fetch: { mode: 'no-cors', method: 'PUT' }, hops: [{ response: ok() }] },
  { name: 'forbidden method TRACE throws in the page', fetch: { method: 'TRACE' }, hops: [{ response: ok() }] },
  { name: 'ReadableStream body, preflight without ACAO', fetch: { method: 'POST', body: 'stream' }, hops: [{ preflight: pre(204) }] },
  { name: 'XHR upload listener, preflight without ACAO', xhr: { method: 'POST', uploadListener: true }, hops: [{ preflight: pre(204) }] },
  { name: 'XHR upload listener, preflight ok', xhr: { method: 'POST', uploadListener: true }, hops: [{ preflight: pre(204, acao('*')), response: ok(acao('*')) }] },
  { name: 'XHR withCredentials, wildcard', xhr: { method: 'GET', withCredentials: true }, hops: [{ response: ok(acao('*')) }] },
  // Exposure: headers the app reads (soft warning when CORS hides them).
  { name: 'reads an unexposed header', reads: ['X-Request-Id', 'Content-Type'], hops: [{ response: ok(acao('*'), ['X-Request-Id', '42'], ['Content-Type', 'text/plain']) }] },
  { name: 'reads an exposed header', reads: ['X-Request-Id'], hops: [{ response: ok(acao('*'), ['X-Request-Id', '42'], ['Access-Control-Expose-Headers', 'x-request-id']) }] },
  { name: 'expose wildcard without credentials', reads: ['X-Request-Id'], hops: [{ response: ok(acao('*'), ['X-Request-Id', '42'], ['Access-Control-Expose-Headers', '*']) }] },
  { name: 'expose wildcard with credentials is literal', fetch: { credentials: 'include' }, reads: ['X-Request-Id'], hops: [{ response: ok(acao(PAGE), acac('true'), ['X-Request-Id', '42'], ['Access-Control-Expose-Headers', '*']) }] },
  { name: 'Set-Cookie is never exposed', fetch: { credentials: 'include' }, reads: ['Set-Cookie'], hops: [{ response: ok(acao(PAGE), acac('true'), ['Set-Cookie', 'a=1'], ['Access-Control-Expose-Headers', 'set-cookie']) }] },
  // Local Network Access: a page served as public (CSP treat-as-public-address) calling
  // loopback; `page.test` is a loopback page that is not a secure context.
  { name: 'public page to loopback', page: 'public', hops: [{ response: ok(acao('*')) }] },
  { name: 'public page to loopback, PUT', page: 'public', fetch: { method: 'PUT' }, hops: [{ preflight: pre(204, acao('*'), acam('PUT')), response: ok(acao('*')) }] },
  { name: 'public page, targetAddressSpace local', page: 'public', fetch: { targetAddressSpace: 'local' }, hops: [{ response: ok(acao('*')) }] },
  { name: 'public page, targetAddressSpace loopback', page: 'public', fetch: { targetAddressSpace: 'loopback' }, hops: [{ response: ok(acao('*')) }] },
  { name: 'insecure public page to loopback', page: 'insecure-public', hops: [{ response: ok(acao('*')) }] },
  { name: 'insecure loopback page to loopback', page: 'insecure', hops: [{ response: ok(acao('*')) }] },
  { name: 'insecure loopback page, no ACAO', page: 'insecure', hops: [{ response: ok() }] },
];

// The page each case runs in, and what a capture knows about it.
const PAGES = {
  normal: { origin: 'page', query: '', facts: {} },
  public: { origin: 'page', query: '?public', facts: { initiator_address_space: 'public' } },
  'insecure-public': { origin: 'insecure', query: '?public', facts: { initiator_address_space: 'public', initiator_secure_context: false } },
  insecure: { origin: 'insecure', query: '', facts: { initiator_address_space: 'loopback', initiator_secure_context: false } },
};

let server;
let browser;
let page;
let cdp;
const events = { requests: new Map(), failed: new Map(), issues: [], deprecations: [], console: [] };
const results = [];
const workDir = mkdtempSync(path.join(tmpdir(), 'cors-oracle-'));

before(async () => {
  server = await startOracleServer();
  browser = await launchBrowser({ args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP page.test 127.0.0.1'] });
  const context = await browser.newContext();
  page = await context.newPage();
  await page.goto(`${server.pageOrigin}/page`);
  cdp = await context.newCDPSession(page);
  page.on('console', (message) => {
    if (message.type() === 'error') events.console.push(message.text());
  });
  cdp.on('Network.requestWillBeSent', (event) => {
    events.requests.set(event.requestId, {
      url: event.request.url,
      method: event.request.method,
      initiator: event.initiator?.type,
      type: event.type,
    });
  });
  cdp.on('Network.loadingFailed', (event) => events.failed.set(event.requestId, event));
  cdp.on('Audits.issueAdded', (event) => {
    if (event.issue.code === 'CorsIssue') events.issues.push(event.issue.details.corsIssueDetails);
    if (event.issue.code === 'DeprecationIssue') events.deprecations.push(event.issue.details.deprecationIssueDetails.type);
  });
  await cdp.send('Network.enable');
  await cdp.send('Audits.enable');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function caseIdOf(url) {
  try { return new URL(url).searchParams.get('case'); } catch { return null; }
}

function resolvePlaceholders(value) {
  return typeof value === 'string'
    ? value.replaceAll(PAGE_UPPER, server.pageOrigin.toUpperCase()).replaceAll(PAGE, server.pageOrigin)
    : value;
}

function resolveHop(hop) {
  const out = {};
  for (const part of ['preflight', 'response']) {
    if (!hop[part]) continue;
    out[part] = { ...hop[part], headers: hop[part].headers.map(([n, v]) => [n, resolvePlaceholders(v)]) };
  }
  return out;
}

function registerCase(caseId, spec) {
  server.register(caseId, { hops: spec.hops.map(resolveHop) });
}

function urlFor(caseId, spec) {
  if (spec.target === 'ftp') return `ftp://127.0.0.1:${server.ports.api}/cors?case=${caseId}&hop=0`;
  return `${server.originFor(spec.target ?? 'api')}/cors?case=${caseId}&hop=0`;
}

async function runInPage(url, spec) {
  return page.evaluate(async ({ url, fetchInit, xhr, reads }) => {
    if (xhr) {
      return new Promise((resolve) => {
        const request = new XMLHttpRequest();
        request.open(xhr.method, url);
        request.withCredentials = Boolean(xhr.withCredentials);
        if (xhr.uploadListener) request.upload.addEventListener('progress', () => {});
        request.onload = () => resolve({ ok: true, status: request.status });
        request.onerror = () => resolve({ ok: false, error: 'xhr error' });
        request.timeout = 10_000;
        request.ontimeout = () => resolve({ ok: false, error: 'no answer within 10 s' });
        request.send(xhr.method === 'POST' ? 'payload' : null);
      });
    }
    const init = {
      method: fetchInit.method ?? 'GET',
      headers: fetchInit.headers ?? [],
      credentials: fetchInit.credentials ?? 'same-origin',
      mode: fetchInit.mode ?? 'cors',
      redirect: fetchInit.redirect ?? 'follow',
    };
    if (fetchInit.targetAddressSpace) init.targetAddressSpace = fetchInit.targetAddressSpace;
    if (fetchInit.body === 'text') init.body = 'payload';
    if (fetchInit.body === 'json-blob') init.body = new Blob(['{"jsonrpc":"2.0"}'], { type: 'application/json' });
    if (fetchInit.body === 'params') init.body = new URLSearchParams({ a: '1' });
    if (fetchInit.body === 'stream') {
      init.body = new ReadableStream({ start(controller) { controller.enqueue(new TextEncoder().encode('x')); controller.close(); } });
      init.duplex = 'half';
    }
    try {
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 10 s')), 10_000));
      const response = await Promise.race([fetch(url, init), timeout]);
      const visible = Object.fromEntries((reads ?? []).map((name) => [name, response.headers.get(name)]));
      return { ok: true, status: response.status, type: response.type, visible };
    } catch (error) {
      return { ok: false, error: String(error) };
    }
  }, { url, fetchInit: spec.fetch ?? {}, xhr: spec.xhr ?? null, reads: spec.reads ?? [] });
}

// The verdict of the newest call of a case (`skip` earlier calls to the same URL).
async function chromiumVerdictSince(caseId, result, skip) {
  const deadline = Date.now() + 3000;
  for (;;) {
    const actualIds = [...events.requests].filter(([, r]) => caseIdOf(r.url) === caseId && r.initiator !== 'preflight').map(([id]) => id);
    const id = actualIds[skip];
    const failure = id === undefined ? undefined : events.failed.get(id);
    if (failure?.corsErrorStatus) {
      return { kind: 'cors', error: failure.corsErrorStatus.corsError, parameter: failure.corsErrorStatus.failedParameter, source: 'loadingFailed' };
    }
    if (result.ok) return { kind: 'allowed' };
    if (failure) return { kind: 'network', errorText: failure.errorText, source: 'loadingFailed' };
    if (Date.now() > deadline) return { kind: 'none-reported', error: result.error };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// Chromium's verdict: `Network.loadingFailed.corsErrorStatus` of the request itself; for
// checks done in the renderer before any request exists (request mode, scheme), the
// `Audits` CorsIssue, which carries the same CorsErrorStatus.
async function chromiumVerdict(caseId, result) {
  const deadline = Date.now() + 3000;
  for (;;) {
    const actualIds = [...events.requests].filter(([, r]) => caseIdOf(r.url) === caseId && r.initiator !== 'preflight').map(([id]) => id);
    const failure = actualIds.map((id) => events.failed.get(id)).find(Boolean);
    const issues = events.issues.filter((i) => !i.isWarning && caseIdOf(i.request?.url ?? '') === caseId);
    const issue = issues[0];
    if (failure?.corsErrorStatus) {
      if (issues.length > 0) {
        assert.ok(
          issues.some((i) => i.corsErrorStatus.corsError === failure.corsErrorStatus.corsError),
          `an Audits CorsIssue repeats loadingFailed's ${failure.corsErrorStatus.corsError}`,
        );
      }
      return { kind: 'cors', error: failure.corsErrorStatus.corsError, parameter: failure.corsErrorStatus.failedParameter, source: 'loadingFailed' };
    }
    if (result.ok) return { kind: 'allowed' };
    if (failure) return { kind: 'network', errorText: failure.errorText, source: 'loadingFailed' };
    if (issue && actualIds.length === 0 && Date.now() > deadline - 2500) {
      return { kind: 'cors', error: issue.corsErrorStatus.corsError, parameter: issue.corsErrorStatus.failedParameter, source: 'Audits.issueAdded' };
    }
    if (Date.now() > deadline) {
      // No request was ever made and no CORS issue filed: the page threw before fetching.
      if (actualIds.length === 0 && !issue && /TypeError/.test(result.error ?? '')) {
        return { kind: 'rejected-in-page', error: result.error };
      }
      return { kind: 'none-reported', error: result.error };
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function requestFor(url, spec, pageOrigin) {
  const pageKind = PAGES[spec.page ?? 'normal'];
  if (spec.xhr) {
    return {
      page_origin: pageOrigin, url, method: spec.xhr.method, headers: [],
      credentials: spec.xhr.withCredentials ? 'include' : 'same-origin', mode: 'cors', redirect: 'follow',
      body_kind: spec.xhr.method === 'POST' ? 'text' : 'none', upload_listeners: Boolean(spec.xhr.uploadListener),
    };
  }
  const init = spec.fetch ?? {};
  return {
    ...pageKind.facts,
    page_origin: pageOrigin,
    url,
    method: init.method ?? 'GET',
    headers: init.headers ?? [],
    credentials: init.credentials ?? 'same-origin',
    mode: init.mode ?? 'cors',
    redirect: init.redirect ?? 'follow',
    body_kind: { stream: 'stream', text: 'text', 'json-blob': 'blob', params: 'url_search_params' }[init.body] ?? 'none',
    ...(init.body === 'json-blob' ? { body_content_type: 'application/json' } : {}),
    upload_listeners: false,
    reads_response_headers: spec.reads ?? [],
    ...(init.targetAddressSpace ? { target_address_space: init.targetAddressSpace } : {}),
  };
}

function observationsFrom(log) {
  const hops = [];
  for (const entry of log) {
    hops[entry.hop] ??= {};
    const observed = { status: entry.status, headers: entry.responseHeaders };
    if (entry.kind === 'preflight') hops[entry.hop].preflight ??= observed;
    else hops[entry.hop].response ??= observed;
  }
  return { hops: Array.from(hops, (hop) => hop ?? {}) };
}

function run(args) {
  return new Promise((resolve) => {
    execFile(FRAMESCOPE, args, { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

function kindOf(analysis) {
  if (analysis.verdict === 'allowed') return { kind: 'allowed' };
  if (analysis.verdict === 'unknown') return { kind: 'unknown' };
  if (analysis.cors_error) return { kind: 'cors', error: analysis.cors_error, parameter: analysis.failed_parameter };
  if (analysis.stage === 'before_sending') return { kind: 'rejected-in-page', error: analysis.error };
  return { kind: 'network', errorText: analysis.error };
}

function agrees(chromium, predicted) {
  if (chromium.kind !== predicted.kind) return false;
  if (chromium.kind === 'cors') return chromium.error === predicted.error && chromium.parameter === predicted.parameter;
  return true;
}

function cliArgs(url, spec) {
  const init = spec.fetch ?? {};
  const args = ['cors-check', url, '--origin', server.pageOrigin, '--json', '--timeout-secs', '10'];
  if (init.method) args.push('--method', init.method);
  for (const [name, value] of init.headers ?? []) args.push('-H', `${name}: ${value}`);
  if (init.credentials === 'include') args.push('--credentials');
  return args;
}

function cliApplies(spec) {
  const init = spec.fetch ?? {};
  return !spec.xhr && !spec.page && (init.mode ?? 'cors') === 'cors' && !['stream', 'json-blob'].includes(init.body)
    && (init.redirect ?? 'follow') === 'follow' && init.credentials !== 'omit';
}

CASES.forEach((spec, index) => {
  test(`oracle: ${spec.name}`, { timeout: 60_000 }, async () => {
    const caseId = `c${index}n${Date.now().toString(36)}`;
    registerCase(caseId, spec);
    const deprecationsBefore = events.deprecations.length;
    const url = urlFor(caseId, spec);
    const pageKind = PAGES[spec.page ?? 'normal'];
    const pageOrigin = server.originFor(pageKind.origin);
    if (spec.page) await page.goto(`${pageOrigin}/page${pageKind.query}`);
    const result = await runInPage(url, spec);
    if (spec.page) await page.goto(`${server.pageOrigin}/page`);
    const chromium = await chromiumVerdict(caseId, result);
    const browserLog = server.logFor(caseId);
    const sawPreflight = browserLog.some((entry) => entry.hop === 0 && entry.kind === 'preflight');
    const reachedNetwork = browserLog.some((entry) => entry.hop === 0);

    const input = { request: requestFor(url, spec, pageOrigin), observations: observationsFrom(browserLog) };
    const file = path.join(workDir, `${caseId}.json`);
    writeFileSync(file, JSON.stringify(input, null, 2));
    const explained = await run(['cors-explain', file, '--json']);
    assert.ok(explained.stdout.trim().startsWith('{'), `cors-explain printed no JSON: ${explained.stderr}`);
    const analysis = JSON.parse(explained.stdout);
    const predicted = kindOf(analysis);
    const analyzerAgrees = agrees(chromium, predicted);
    const preflightAgrees = !reachedNetwork || analysis.preflight_required === sawPreflight;

    let cli = null;
    if (cliApplies(spec)) {
      server.clearLog(caseId);
      const checked = await run(cliArgs(url, spec));
      const report = checked.stdout.trim().startsWith('{') ? JSON.parse(checked.stdout) : null;
      const cliKind = report ? kindOf(report) : { kind: 'no-output', stderr: checked.stderr };
      const expectedCode = cliKind.kind === 'allowed' ? 0 : cliKind.kind === 'unknown' ? 2 : 1;
      // The preflight must be the one Chromium sent: same Access-Control-Request-Method,
      // Access-Control-Request-Headers and Origin, hop by hop.
      const preflightHeaders = (log) => log.filter((entry) => entry.kind === 'preflight').map((entry) => {
        const pick = (name) => {
          const index = entry.requestHeaders.findIndex((header, i) => i % 2 === 0 && header.toLowerCase() === name);
          return index < 0 ? null : entry.requestHeaders[index + 1];
        };
        return [entry.hop, pick('access-control-request-method'), pick('access-control-request-headers'), pick('origin')];
      });
      const browserPreflights = preflightHeaders(browserLog);
      const cliPreflights = preflightHeaders(server.logFor(caseId));
      cli = {
        verdict: cliKind,
        agrees: agrees(chromium, cliKind) && checked.code === expectedCode,
        exitCode: checked.code,
        sawPreflight: server.logFor(caseId).some((entry) => entry.hop === 0 && entry.kind === 'preflight'),
        samePreflight: JSON.stringify(browserPreflights) === JSON.stringify(cliPreflights),
        browserPreflights,
        cliPreflights,
      };
    }
    // Soft warnings against what Chromium shows: headers the page could not read, and
    // Chromium's AuthorizationCoveredByWildcard deprecation issue.
    const warnings = analysis.warnings.map((warning) => warning.warning);
    const hidden = Object.entries(result.visible ?? {}).filter(([, value]) => value === null).map(([name]) => name.toLowerCase()).sort();
    const warnedHidden = analysis.warnings.filter((w) => w.warning === 'unexposed_response_header').map((w) => w.header).sort();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const deprecated = events.deprecations.slice(deprecationsBefore).includes('AuthorizationCoveredByWildcard');
    const warningsAgree = JSON.stringify(hidden) === JSON.stringify(warnedHidden)
      && deprecated === warnings.includes('authorization_covered_by_wildcard');
    const consoleMessages = events.console.filter((text) => text.includes(`case=${caseId}&`));
    // Chromium's console message, pasted into `cors-explain --message`, reads back to the
    // same error and parameter.
    let consoleAgrees;
    if (chromium.kind === 'cors' && consoleMessages.length > 0) {
      const parsed = [];
      for (const text of consoleMessages) {
        const explained = await run(['cors-explain', '--message', text, '--json']);
        assert.ok(explained.stdout.trim().startsWith('{'), `cors-explain --message failed on ${text}: ${explained.stderr}`);
        const message = JSON.parse(explained.stdout);
        parsed.push([message.cors_error, message.failed_parameter]);
      }
      consoleAgrees = parsed.some(([error, parameter]) => error === chromium.error && parameter === chromium.parameter);
    }
    results.push({ name: spec.name, consoleMessages, consoleAgrees, chromium, analyzer: predicted, analyzerAgrees, sawPreflight, preflightRequired: analysis.preflight_required, preflightAgrees, cli, warningsAgree, hidden, warnedHidden, deprecated, warnings });
    assert.notEqual(consoleAgrees, false, `console messages ${JSON.stringify(consoleMessages)} do not read back to ${JSON.stringify(chromium)}`);
    assert.ok(warningsAgree, `warnings ${JSON.stringify(warnings)} / hidden ${JSON.stringify(warnedHidden)} vs page saw null for ${JSON.stringify(hidden)}, Chromium deprecation AuthorizationCoveredByWildcard: ${deprecated}`);
    assert.notEqual(chromium.kind, 'none-reported', `Chromium reported nothing for ${spec.name}: ${JSON.stringify(result)}`);
    assert.ok(analyzerAgrees, `analyzer ${JSON.stringify(predicted)} vs Chromium ${JSON.stringify(chromium)}\n${analysis.explanation}`);
    assert.ok(preflightAgrees, `preflight_required=${analysis.preflight_required} but Chromium ${sawPreflight ? 'sent' : 'did not send'} one`);
    // The fix must work: serve exactly the headers it names and Chromium must allow the call.
    const fixable = analysis.fix && chromium.kind === 'cors' && spec.hops.length <= 1 && !spec.page
      && spec.fetch?.body !== 'stream'
      && !['DisallowedByMode', 'NoCorsRedirectModeNotFollow', 'CorsDisabledScheme', 'RedirectContainsCredentials'].includes(chromium.error);
    if (fixable) {
      const fixedId = `${caseId}fixed`;
      server.register(fixedId, {
        hops: [{
          preflight: { status: 204, headers: analysis.fix.preflight_response_headers },
          response: { status: 200, headers: analysis.fix.response_headers },
        }],
      });
      const fixedResult = await runInPage(urlFor(fixedId, spec), spec);
      const fixedVerdict = await chromiumVerdict(fixedId, fixedResult);
      results[results.length - 1].fixWorks = fixedVerdict.kind === 'allowed';
      assert.equal(fixedVerdict.kind, 'allowed', `after the fix Chromium says ${JSON.stringify(fixedVerdict)}; fix: ${JSON.stringify(analysis.fix.preflight_response_headers)} / ${JSON.stringify(analysis.fix.response_headers)}`);
    }
    if (cli) {
      assert.ok(cli.agrees, `cors-check ${JSON.stringify(cli.verdict)} (exit ${cli.exitCode}) vs Chromium ${JSON.stringify(chromium)}`);
      assert.equal(cli.sawPreflight, sawPreflight, 'cors-check preflights exactly when the browser does');
      assert.ok(cli.samePreflight, `cors-check sent preflights ${JSON.stringify(cli.cliPreflights)}, Chromium ${JSON.stringify(cli.browserPreflights)}`);
    }
  });
});

// The preflight cache: the same URL requested several times; whether Chromium sent a
// preflight for each call (seen by the server) must match the analyzer's cache model, fed
// with the same calls and their times through `framescope cors-explain` (sequence input).
const PUT_OK = (maxAge) => [acao('*'), acam('PUT'), ...(maxAge === undefined ? [] : [['Access-Control-Max-Age', maxAge]])];
const CACHE_SEQUENCES = [
  { name: 'no max-age: cached for 5 s, then preflighted again', steps: [
    { fetch: { method: 'PUT' }, hop: { preflight: pre(204, ...PUT_OK()), response: ok(acao('*')) } },
    { fetch: { method: 'PUT' } },
    { fetch: { method: 'PUT' }, waitMillis: 5600 },
  ] },
  { name: 'max-age 0 is never cached', steps: [
    { fetch: { method: 'PUT' }, hop: { preflight: pre(204, ...PUT_OK('0')), response: ok(acao('*')) } },
    { fetch: { method: 'PUT' } },
  ] },
  { name: 'negative max-age is never cached', steps: [
    { fetch: { method: 'PUT' }, hop: { preflight: pre(204, ...PUT_OK('-1')), response: ok(acao('*')) } },
    { fetch: { method: 'PUT' } },
  ] },
  { name: 'unparseable max-age means 5 s', steps: [
    { fetch: { method: 'PUT' }, hop: { preflight: pre(204, ...PUT_OK('soon')), response: ok(acao('*')) } },
    { fetch: { method: 'PUT' } },
  ] },
  { name: 'two max-age lines mean 5 s', steps: [
    { fetch: { method: 'PUT' }, hop: { preflight: pre(204, ...PUT_OK('600'), ['Access-Control-Max-Age', '600']), response: ok(acao('*')) } },
    { fetch: { method: 'PUT' } },
  ] },
  { name: 'cached methods: a method not listed is preflighted', steps: [
    { fetch: { method: 'PUT' }, hop: { preflight: pre(204, ...PUT_OK('600')), response: ok(acao('*')) } },
    { fetch: { method: 'DELETE' } },
    { fetch: { method: 'PUT' } },
  ] },
  { name: 'an entry without credentials does not cover a credentialed call', steps: [
    { fetch: { method: 'PUT' }, hop: { preflight: pre(204, acao('$origin'), acac('true'), acam('PUT'), ['Access-Control-Max-Age', '600']), response: ok(acao('$origin'), acac('true')) } },
    { fetch: { method: 'PUT', credentials: 'include' } },
    { fetch: { method: 'PUT', credentials: 'include' } },
    { fetch: { method: 'PUT' } },
  ] },
  { name: 'cached header wildcard and Authorization', steps: [
    { fetch: { headers: [['X-A', '1']] }, hop: { preflight: pre(204, acao('*'), acah('*'), ['Access-Control-Max-Age', '600']), response: ok(acao('*')) } },
    { fetch: { headers: [['Authorization', 'Bearer t']] } },
  ] },
  { name: 'a failed call clears the entry', steps: [
    { fetch: { method: 'PUT' }, hop: { preflight: pre(204, ...PUT_OK('600')), response: ok() } },
    { fetch: { method: 'PUT' }, hop: { preflight: pre(204, ...PUT_OK('600')), response: ok(acao('*')) } },
  ] },
];

CACHE_SEQUENCES.forEach((sequence, index) => {
  test(`oracle cache: ${sequence.name}`, { timeout: 60_000 }, async () => {
    const caseId = `s${index}n${Date.now().toString(36)}`;
    const url = `${server.originFor('api')}/cors?case=${caseId}&hop=0`;
    const steps = [];
    let hop = null;
    for (const step of sequence.steps) {
      if (step.waitMillis) await new Promise((resolve) => setTimeout(resolve, step.waitMillis));
      if (step.hop) {
        hop = step.hop;
        const spec = { hops: [hop] };
        if (steps.length === 0) registerCase(caseId, spec);
        else server.update(caseId, { hops: [resolveHop(hop)] });
      }
      const before = server.logFor(caseId).length;
      const timeMicros = Date.now() * 1000;
      const result = await runInPage(url, step);
      const chromium = await chromiumVerdictSince(caseId, result, steps.length);
      const stepLog = server.logFor(caseId).slice(before);
      steps.push({ step, chromium, stepLog, timeMicros });
    }
    const input = {
      sequence: steps.map(({ step, stepLog, timeMicros }) => ({
        request: requestFor(url, step, server.pageOrigin), observations: observationsFrom(stepLog), time_micros: timeMicros,
      })),
    };
    const file = path.join(workDir, `${caseId}.json`);
    writeFileSync(file, JSON.stringify(input, null, 2));
    const explained = await run(['cors-explain', file, '--json']);
    const analyses = JSON.parse(explained.stdout);
    assert.equal(analyses.length, steps.length);
    steps.forEach(({ chromium, stepLog }, stepIndex) => {
      const analysis = analyses[stepIndex];
      const sawPreflight = stepLog.some((entry) => entry.kind === 'preflight');
      const predictedPreflight = Boolean(analysis.hops[0]?.preflight_required && !analysis.hops[0]?.preflight_cached);
      const predicted = kindOf(analysis);
      const analyzerAgrees = agrees(chromium, predicted);
      results.push({
        name: `${sequence.name} (call ${stepIndex + 1})`, chromium, analyzer: predicted, analyzerAgrees,
        sawPreflight, preflightRequired: predictedPreflight, preflightAgrees: sawPreflight === predictedPreflight, cli: null, cache: true,
      });
      assert.equal(predictedPreflight, sawPreflight, `call ${stepIndex + 1}: analyzer ${predictedPreflight ? 'expects' : 'does not expect'} a preflight, Chromium ${sawPreflight ? 'sent' : 'did not send'} one`);
      assert.ok(analyzerAgrees, `call ${stepIndex + 1}: analyzer ${JSON.stringify(predicted)} vs Chromium ${JSON.stringify(chromium)}`);
    });
  });
});

test('cors-check says why it could not check, in one line, with exit code 2', async () => {
  const refused = await run(['cors-check', 'http://127.0.0.1:1/x', '--origin', server.pageOrigin]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr.trim(), /^framescope: could not check .*connection refused/);
  assert.equal(refused.stderr.trim().split('\n').length, 1);
  const hang = await run(['cors-check', `http://127.0.0.1:${server.ports.api}/hang`, '--origin', server.pageOrigin, '--timeout-secs', '1']);
  assert.equal(hang.code, 2);
  assert.match(hang.stderr, /timed out after 1 s/);
  const dns = await run(['cors-check', 'http://no-such-host.invalid/x', '--origin', server.pageOrigin, '--timeout-secs', '3']);
  assert.equal(dns.code, 2);
  assert.match(dns.stderr, /cannot resolve host no-such-host\.invalid|timed out/);
});

test('summary: agreement with Chromium and coverage of CorsError values', () => {
  const total = results.length;
  const analyzerAgree = results.filter((r) => r.analyzerAgrees && r.preflightAgrees).length;
  const cliCases = results.filter((r) => r.cli);
  const cliAgree = cliCases.filter((r) => r.cli.agrees).length;
  const seen = new Set(results.filter((r) => r.chromium.kind === 'cors').map((r) => r.chromium.error));
  const report = {
    chromium: 'headless /usr/bin/chromium',
    cases: total,
    analyzer_agreement: `${analyzerAgree}/${total}`,
    analyzer_agreement_rate: total ? analyzerAgree / total : 0,
    cli_cases: cliCases.length,
    cli_agreement: `${cliAgree}/${cliCases.length}`,
    cors_errors_seen: [...seen].sort(),
    identical_preflights: results.filter((r) => r.cli?.samePreflight && r.cli.browserPreflights.length > 0).length,
    console_messages_checked: results.filter((r) => r.consoleAgrees !== undefined).length,
    console_messages_agreeing: results.filter((r) => r.consoleAgrees === true).length,
    fixes_checked: results.filter((r) => r.fixWorks !== undefined).length,
    fixes_working: results.filter((r) => r.fixWorks === true).length,
    warning_checks: results.filter((r) => r.warningsAgree !== undefined).length,
    warning_disagreements: results.filter((r) => r.warningsAgree === false).map((r) => r.name),
    disagreements: results.filter((r) => !(r.analyzerAgrees && r.preflightAgrees) || (r.cli && !r.cli.agrees) || r.warningsAgree === false),
    results,
  };
  mkdirSync(path.join(ROOT, 'target'), { recursive: true });
  writeFileSync(path.join(ROOT, 'target/cors-oracle-report.json'), JSON.stringify(report, null, 2));
  report.cache_calls = results.filter((r) => r.cache).length;
  console.log(`CORS oracle: ${total} cases (${report.cache_calls} of them calls in preflight-cache sequences), analyzer agrees on ${analyzerAgree} (${(100 * report.analyzer_agreement_rate).toFixed(1)}%), cors-check agrees on ${cliAgree}/${cliCases.length}; fixes that made Chromium allow the call: ${report.fixes_working}/${report.fixes_checked}; console messages read back: ${report.console_messages_agreeing}/${report.console_messages_checked}; cases where cors-check sent byte-identical preflight headers (method, headers, origin): ${report.identical_preflights}; CorsError values seen: ${report.cors_errors_seen.join(', ')}`);
  assert.equal(results.filter((r) => !r.cache).length, CASES.length, 'every case ran');
  assert.equal(results.filter((r) => r.cache).length, CACHE_SEQUENCES.reduce((n, s) => n + s.steps.length, 0), 'every cached call ran');
  const required = [
    'DisallowedByMode', 'WildcardOriginNotAllowed', 'MissingAllowOriginHeader', 'MultipleAllowOriginValues',
    'InvalidAllowOriginValue', 'AllowOriginMismatch', 'InvalidAllowCredentials', 'PreflightInvalidStatus',
    'PreflightDisallowedRedirect', 'PreflightWildcardOriginNotAllowed', 'PreflightMissingAllowOriginHeader',
    'PreflightMultipleAllowOriginValues', 'PreflightInvalidAllowOriginValue', 'PreflightAllowOriginMismatch',
    'PreflightInvalidAllowCredentials', 'InvalidAllowMethodsPreflightResponse', 'InvalidAllowHeadersPreflightResponse',
    'MethodDisallowedByPreflightResponse', 'HeaderDisallowedByPreflightResponse', 'RedirectContainsCredentials',
    'NoCorsRedirectModeNotFollow', 'CorsDisabledScheme', 'InsecureLocalNetwork', 'InvalidLocalNetworkAccess',
    'LocalNetworkAccessPermissionDenied',
  ];
  assert.deepEqual(required.filter((error) => !seen.has(error)), [], 'CorsError values the oracle never produced');
  assert.equal(report.disagreements.length, 0, JSON.stringify(report.disagreements, null, 2));
});
