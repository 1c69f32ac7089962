// The extension's manifests, one source for both browsers.
//
//   node extension/manifest.mjs chromium|firefox VERSION > manifest.json
//
// `extension/build.sh` writes the result into extension/dist/<browser>/manifest.json, and
// tests/e2e/extension-manifest.test.mjs validates the Firefox variant. Every permission is
// justified in the README ("The browser extension"); keep the two in step.

/** Content security policy of extension pages: only our own files, plus WASM compilation. */
export const EXTENSION_PAGES_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  // Leptos writes `style` attributes (virtualised rows, chart sizes); no stylesheet or script
  // ever comes from elsewhere.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** The Firefox add-on id (also the key Firefox stores the add-on's data under). */
export const GECKO_ID = 'framescope@framescope.dev';

/** Firefox 128 is the first to run manifest content scripts in `world: "MAIN"`. */
export const GECKO_MIN_VERSION = '128.0';

/** Chromium 116: open extension ports keep the service worker alive. */
export const CHROMIUM_MIN_VERSION = '116';

/**
 * Content scripts: the hook and its transport in the page (MAIN world), then the relay in the
 * isolated world. Browsers inject them in this order, which the relay's port handover relies
 * on (see src/relay.js).
 */
function contentScripts() {
  return [
    {
      matches: ['<all_urls>'],
      js: ['hook.js', 'hook-transport.js'],
      run_at: 'document_start',
      all_frames: true,
      world: 'MAIN',
    },
    {
      matches: ['<all_urls>'],
      js: ['relay.js'],
      run_at: 'document_start',
      all_frames: true,
    },
  ];
}

/**
 * The manifest for `browser` (`chromium` or `firefox`) at `version` (x.y.z).
 * @param {'chromium'|'firefox'} browser
 * @param {string} version
 */
export function manifestFor(browser, version) {
  const common = {
    manifest_version: 3,
    name: 'Framescope',
    version,
    description:
      'See what a web app says over the wire: fetch, WebSocket, SSE and shared-memory RPC, ' +
      'decoded, timed and CORS-checked.',
    icons: { 16: 'icons/icon-16.png', 32: 'icons/icon-32.png', 48: 'icons/icon-48.png', 128: 'icons/icon-128.png' },
    devtools_page: 'devtools.html',
    permissions: ['storage', 'webRequest'],
    host_permissions: ['<all_urls>'],
    content_scripts: contentScripts(),
    content_security_policy: { extension_pages: EXTENSION_PAGES_CSP },
  };
  if (browser === 'chromium') {
    return {
      ...common,
      minimum_chrome_version: CHROMIUM_MIN_VERSION,
      background: { service_worker: 'background.js' },
    };
  }
  if (browser === 'firefox') {
    return {
      ...common,
      background: { scripts: ['background.js'] },
      browser_specific_settings: {
        gecko: { id: GECKO_ID, strict_min_version: GECKO_MIN_VERSION },
      },
    };
  }
  throw new Error(`unknown browser "${browser}" (expected chromium or firefox)`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [browser, version] = process.argv.slice(2);
  if (!browser || !/^\d+(\.\d+){0,3}$/.test(version ?? '')) {
    console.error('usage: node extension/manifest.mjs chromium|firefox VERSION');
    process.exit(2);
  }
  try {
    process.stdout.write(`${JSON.stringify(manifestFor(browser, version), null, 2)}\n`);
  } catch (error) {
    console.error(`manifest.mjs: ${error.message}`);
    process.exit(2);
  }
}
