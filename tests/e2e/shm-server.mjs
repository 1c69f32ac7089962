// A loopback, cross-origin isolated (COOP + COEP) server for the shared-memory tests and
// benchmark: /hook.js straight from static/, the test app under /shm-app/, and /page, which
// loads the app with (?hook=1) or without the hook. Not a test file itself.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './support.mjs';

const APP_DIR = path.join(ROOT, 'tests/e2e/shm-app');
const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json' };

function page(hooked) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>shm test</title>
${hooked ? '<script src="/hook.js"></script>' : ''}
<script>
  window.__events = [];
  if (window.framescope) window.framescope.subscribe(function (batch) { window.__events.push.apply(window.__events, batch); });
</script>
<script src="/shm-app/shm-lib.js"></script>
<script src="/shm-app/page.js"></script>
</head><body>shm</body></html>`;
}

/** Starts the server on a free loopback port; resolves { url, close }. */
export async function startShmServer() {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url, 'http://127.0.0.1');
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    let body = null;
    let type = 'text/plain';
    try {
      if (url.pathname === '/page') {
        body = page(url.searchParams.get('hook') === '1');
        type = 'text/html';
      } else if (url.pathname === '/hook.js') {
        body = readFileSync(path.join(ROOT, 'static/hook.js'));
        type = 'text/javascript';
      } else if (url.pathname.startsWith('/shm-app/')) {
        const name = path.basename(url.pathname);
        body = readFileSync(path.join(APP_DIR, name));
        type = TYPES[path.extname(name)] || 'application/octet-stream';
      }
    } catch {
      body = null;
    }
    if (body === null) {
      response.writeHead(404, headers);
      response.end('not found');
      return;
    }
    response.writeHead(200, { ...headers, 'Content-Type': type });
    response.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}
