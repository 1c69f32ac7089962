// Loopback server for the CORS oracle test: one handler listening on two ports of
// 127.0.0.1 (the page's origin and the API's origin; `localhost:PORT` gives a third origin).
// Each request names a registered case and a hop in its query string
// (`?case=ID&hop=N`); the case says which status and which CORS response headers that
// hop's preflight and response carry (duplicates and empty values included), and where a
// redirect points. Every request received and every response sent is logged per case.
import http from 'node:http';

export const PAGE_HTML = '<!doctype html><meta charset="utf-8"><title>cors oracle page</title><p>page</p>';

/**
 * Starts the server. `cases` maps a case id to
 *   { hops: [ { preflight?: {status, headers}, response?: {status, headers, redirect?} } ] }
 * where headers are [name, value] pairs (`$origin` in a value is replaced by the request's
 * Origin header) and redirect is { origin: 'api'|'localhost'|'page', hop, credentials?: bool,
 * location?: string }.
 */
export async function startOracleServer() {
  const cases = new Map();
  const log = new Map();
  const ports = {};

  const originFor = (name) => ({
    api: `http://127.0.0.1:${ports.api}`,
    // `page.test` resolves to 127.0.0.1 in the browser (--host-resolver-rules) but is not a
    // potentially trustworthy origin, so a page there is not a secure context.
    insecure: `http://page.test:${ports.page}`,
    localhost: `http://localhost:${ports.api}`,
    page: `http://127.0.0.1:${ports.page}`,
  })[name];

  // Decides the answer for one request: a pure function of method, URL and headers, so the
  // same answer goes to Chromium and to `framescope cors-check`.
  const answer = (method, rawUrl, headers) => {
    const url = new URL(rawUrl, 'http://placeholder');
    const caseId = url.searchParams.get('case');
    const hopIndex = Number(url.searchParams.get('hop') ?? '0');
    const spec = cases.get(caseId);
    const isPreflight = method === 'OPTIONS' && headers['access-control-request-method'] !== undefined;
    const hop = spec?.hops?.[hopIndex];
    const part = hop ? (isPreflight ? hop.preflight : hop.response) : undefined;
    const status = part?.status ?? (isPreflight ? 204 : 200);
    const raw = [];
    for (const [name, value] of part?.headers ?? []) {
      raw.push(name, String(value).replaceAll('$origin', headers.origin ?? ''));
    }
    if (part?.redirect) {
      const base = new URL(originFor(part.redirect.origin));
      if (part.redirect.credentials) { base.username = 'user'; base.password = 'secret'; }
      raw.push('Location', `${base.href.replace(/\/$/, '')}/cors?case=${encodeURIComponent(caseId)}&hop=${part.redirect.hop}`);
    }
    return { caseId, hopIndex, isPreflight, status, raw, body: isPreflight ? '' : 'oracle body' };
  };

  const record = (method, headers, rawHeaders, result) => {
    const entries = log.get(result.caseId) ?? [];
    log.set(result.caseId, entries);
    entries.push({
      hop: result.hopIndex,
      kind: result.isPreflight ? 'preflight' : 'request',
      method,
      host: headers.host,
      requestHeaders: rawHeaders,
      status: result.status,
      responseHeaders: pairs(result.raw),
    });
  };

  const handler = (req, res) => {
    const url = new URL(req.url, 'http://placeholder');
    if (url.pathname === '/page') {
      // `?public` serves the page as if it came from a public address (Local Network Access).
      const csp = url.searchParams.has('public') ? { 'content-security-policy': 'treat-as-public-address' } : {};
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...csp });
      res.end(PAGE_HTML);
      return;
    }
    if (url.pathname === '/hang') {
      return; // accepts and never answers (timeout test)
    }
    req.resume();
    const result = answer(req.method, req.url, req.headers);
    record(req.method, req.headers, req.rawHeaders, result);
    res.writeHead(result.status, result.raw);
    res.end(result.body);
  };

  // Node's parser refuses methods it does not know (`patch`, `FOO`); browsers may send them.
  // Answer those from the raw request so that every method gets the case's response.
  const onClientError = (error, socket) => {
    const packet = error.rawPacket?.toString('latin1') ?? '';
    const [head] = packet.split('\r\n\r\n');
    const [requestLine, ...headerLines] = head.split('\r\n');
    const [method, target] = requestLine.split(' ');
    if (!method || !target || !target.startsWith('/')) {
      socket.destroy();
      return;
    }
    const headers = {};
    const rawHeaders = [];
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      headers[name.toLowerCase()] = value;
      rawHeaders.push(name, value);
    }
    const result = answer(method, target, headers);
    record(method, headers, rawHeaders, result);
    let response = `HTTP/1.1 ${result.status} Oracle\r\n`;
    for (const [name, value] of pairs(result.raw)) response += `${name}: ${value}\r\n`;
    response += `Content-Length: ${Buffer.byteLength(result.body)}\r\nConnection: close\r\n\r\n${result.body}`;
    socket.end(response, 'latin1');
  };

  const servers = [http.createServer(handler), http.createServer(handler)];
  const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
  ports.page = await listen(servers[0]);
  ports.api = await listen(servers[1]);
  for (const server of servers) {
    server.keepAliveTimeout = 1000;
    server.on('clientError', onClientError);
  }

  return {
    ports,
    pageOrigin: originFor('page'),
    originFor,
    register(caseId, spec) { cases.set(caseId, spec); log.delete(caseId); },
    /** Changes a case's answers without forgetting what it logged. */
    update(caseId, spec) { cases.set(caseId, spec); },
    logFor(caseId) { return log.get(caseId) ?? []; },
    clearLog(caseId) { log.delete(caseId); },
    async stop() {
      for (const server of servers) server.closeAllConnections();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
}

function pairs(flat) {
  const out = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}
