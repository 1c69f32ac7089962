// Validates the built extension's manifests against the WebExtension rules we can encode
// here. Firefox cannot be automated on this machine (no geckodriver), so this is its check:
// required keys, the gecko id, event-page background scripts, no Chromium-only keys or
// permissions, MAIN-world content scripts only with a Firefox that supports them, a CSP
// that allows WASM and nothing remote, and every file the manifest names present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { ROOT } from './support.mjs';
import { EXTENSION_DIR, FIREFOX_DIR, requireBuiltExtension } from './extension-support.mjs';

const CHROMIUM_ONLY_KEYS = [
  'minimum_chrome_version', 'side_panel', 'offline_enabled', 'key', 'update_url',
  'export', 'import', 'storage', 'event_rules', 'oauth2', 'differential_fingerprint',
  'file_browser_handlers', 'input_components', 'nacl_modules', 'platforms', 'requirements',
  'system_indicator', 'tts_engine', 'automation', 'externally_connectable', 'sandbox',
];
// Permissions Firefox does not know: it warns on them and the feature silently is missing.
const CHROMIUM_ONLY_PERMISSIONS = [
  'debugger', 'offscreen', 'sidePanel', 'tabGroups', 'declarativeNetRequestWithHostAccess',
  'documentScan', 'enterprise.deviceAttributes', 'fontSettings', 'gcm', 'loginState',
  'power', 'printerProvider', 'printing', 'processes', 'readingList', 'system.cpu',
  'system.display', 'system.memory', 'system.storage', 'tabCapture', 'ttsEngine',
  'vpnProvider', 'wallpaper', 'webAuthenticationProxy',
];
// Every permission Framescope may ask for, in both browsers; anything else needs a README
// justification first.
const JUSTIFIED_PERMISSIONS = ['storage', 'webRequest'];
const RUN_AT = ['document_start', 'document_end', 'document_idle'];

function readManifest(dir) {
  requireBuiltExtension(dir);
  return JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
}

function filesNamedBy(manifest) {
  const files = [manifest.devtools_page, ...Object.values(manifest.icons ?? {})];
  for (const script of manifest.content_scripts ?? []) files.push(...(script.js ?? []), ...(script.css ?? []));
  files.push(...(manifest.background?.scripts ?? []));
  if (manifest.background?.service_worker) files.push(manifest.background.service_worker);
  return files.filter(Boolean);
}

/** The match-pattern grammar of the WebExtension spec (plus `<all_urls>`). */
function validMatchPattern(pattern) {
  if (pattern === '<all_urls>') return true;
  return /^(\*|https?|wss?|file|ftp|data):\/\/(\*|\*\.[^/*]+|[^/*]+)?\/.*$/.test(pattern);
}

function checkCommon(manifest, dir) {
  assert.equal(manifest.manifest_version, 3);
  assert.equal(typeof manifest.name, 'string');
  assert.ok(manifest.name.length > 0 && manifest.name.length <= 75, 'name length');
  assert.match(manifest.version, /^(0|[1-9]\d{0,8})(\.(0|[1-9]\d{0,8})){0,3}$/, 'version must be 1-4 dot-separated integers');
  assert.ok(typeof manifest.description === 'string' && manifest.description.length <= 132, 'description of at most 132 characters');
  for (const file of filesNamedBy(manifest)) {
    assert.ok(existsSync(path.join(dir, file)) && statSync(path.join(dir, file)).size > 0, `${file} is missing`);
  }
  for (const permission of manifest.permissions ?? []) {
    assert.ok(JUSTIFIED_PERMISSIONS.includes(permission), `permission ${permission} is not justified in the README`);
  }
  for (const pattern of manifest.host_permissions ?? []) assert.ok(validMatchPattern(pattern), pattern);
  assert.ok(manifest.content_scripts.length > 0);
  for (const script of manifest.content_scripts) {
    assert.ok(Array.isArray(script.matches) && script.matches.length > 0);
    for (const pattern of script.matches) assert.ok(validMatchPattern(pattern), pattern);
    assert.ok(RUN_AT.includes(script.run_at), `run_at ${script.run_at}`);
    assert.ok(script.world === undefined || ['ISOLATED', 'MAIN'].includes(script.world), `world ${script.world}`);
  }
  // The hook runs in the page before the relay that hands it its port (src/relay.js).
  const hookIndex = manifest.content_scripts.findIndex((script) => script.js.includes('hook.js'));
  const relayIndex = manifest.content_scripts.findIndex((script) => script.js.includes('relay.js'));
  assert.ok(hookIndex >= 0 && relayIndex > hookIndex, 'hook.js must be listed before relay.js');
  assert.equal(manifest.content_scripts[hookIndex].world, 'MAIN');
  assert.equal(manifest.content_scripts[hookIndex].run_at, 'document_start');
  assert.equal(manifest.content_scripts[relayIndex].run_at, 'document_start');
  assert.equal(manifest.content_scripts[relayIndex].world, undefined);

  const csp = manifest.content_security_policy?.extension_pages;
  assert.equal(typeof csp, 'string', 'content_security_policy.extension_pages');
  const directives = Object.fromEntries(
    csp.split(';').map((part) => part.trim().split(/\s+/)).filter((parts) => parts[0]).map(([name, ...values]) => [name, values]),
  );
  assert.deepEqual(directives['script-src'], ["'self'", "'wasm-unsafe-eval'"]);
  assert.deepEqual(directives['object-src'], ["'none'"]);
  for (const [name, values] of Object.entries(directives)) {
    for (const value of values) {
      assert.ok(!/^(https?:|\*|'unsafe-eval'|data:$)/.test(value) || (value === 'data:' && name === 'img-src'), `${name} allows ${value}`);
    }
  }
  assert.ok(!('web_accessible_resources' in manifest), 'no file needs to be reachable from pages');
}

test('the Firefox manifest follows the WebExtension rules Firefox applies', () => {
  const manifest = readManifest(FIREFOX_DIR);
  checkCommon(manifest, FIREFOX_DIR);
  const gecko = manifest.browser_specific_settings?.gecko;
  assert.ok(gecko, 'browser_specific_settings.gecko is required for MV3 in Firefox');
  assert.match(gecko.id, /^([a-zA-Z0-9-._]*@[a-zA-Z0-9-._]+|\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\})$/);
  assert.ok(gecko.id.length <= 80);
  // world: "MAIN" in manifest content scripts needs Firefox 128.
  assert.ok(Number.parseFloat(gecko.strict_min_version) >= 128, `strict_min_version ${gecko.strict_min_version}`);
  assert.ok(Array.isArray(manifest.background?.scripts) && manifest.background.scripts.length > 0, 'background.scripts');
  assert.ok(!('service_worker' in manifest.background), 'Firefox runs background scripts, not a service worker');
  for (const key of CHROMIUM_ONLY_KEYS) assert.ok(!(key in manifest), `Chromium-only key ${key}`);
  for (const permission of manifest.permissions ?? []) {
    assert.ok(!CHROMIUM_ONLY_PERMISSIONS.includes(permission), `Chromium-only permission ${permission}`);
  }
  // The background script must not need `extraHeaders` in Firefox (it rejects the option).
  const background = readFileSync(path.join(FIREFOX_DIR, manifest.background.scripts[0]), 'utf8');
  assert.doesNotMatch(background, /['"]extraHeaders['"]/, 'extraHeaders must be feature-detected, not hard-coded');
});

test('the Chromium manifest uses a service worker and names only files it ships', () => {
  const manifest = readManifest(EXTENSION_DIR);
  checkCommon(manifest, EXTENSION_DIR);
  assert.equal(typeof manifest.background?.service_worker, 'string');
  assert.ok(!('scripts' in manifest.background), 'Chromium MV3 rejects background.scripts');
  assert.ok(!('browser_specific_settings' in manifest));
  const panel = readFileSync(path.join(EXTENSION_DIR, 'panel.html'), 'utf8');
  assert.doesNotMatch(panel, /<script(?![^>]*\bsrc=)[^>]*>/, 'extension pages forbid inline scripts');
  assert.match(panel, /<script type="module" src="\.?\/?boot\.js"><\/script>/);
});

/** Names of the files in a zip archive, and the bytes of one of them. */
function readZip(file, wanted) {
  const bytes = readFileSync(file);
  const end = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'no end of central directory');
  const count = bytes.readUInt16LE(end + 10);
  let offset = bytes.readUInt32LE(end + 16);
  const names = [];
  let content = null;
  for (let i = 0; i < count; i += 1) {
    assert.equal(bytes.readUInt32LE(offset), 0x02014b50);
    const method = bytes.readUInt16LE(offset + 10);
    const compressed = bytes.readUInt32LE(offset + 20);
    const nameLength = bytes.readUInt16LE(offset + 28);
    const extraLength = bytes.readUInt16LE(offset + 30);
    const commentLength = bytes.readUInt16LE(offset + 32);
    const local = bytes.readUInt32LE(offset + 42);
    const name = bytes.subarray(offset + 46, offset + 46 + nameLength).toString('utf8');
    names.push(name);
    if (name === wanted) {
      const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
      const data = bytes.subarray(start, start + compressed);
      content = method === 8 ? inflateRawSync(data) : data;
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return { names, content };
}

test('each browser has a zip holding exactly its folder, manifest at the root', () => {
  const version = JSON.parse(readFileSync(path.join(FIREFOX_DIR, 'manifest.json'), 'utf8')).version;
  for (const [browser, dir] of [['chromium', EXTENSION_DIR], ['firefox', FIREFOX_DIR]]) {
    const zip = path.join(ROOT, `extension/dist/framescope-${browser}-${version}.zip`);
    assert.ok(existsSync(zip), `${zip} is missing`);
    const { names, content } = readZip(zip, 'manifest.json');
    assert.ok(names.includes('manifest.json'));
    assert.deepEqual(JSON.parse(content.toString('utf8')), JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')));
    for (const name of ['panel.html', 'boot.js', 'hook.js', 'relay.js', 'framescope-app_bg.wasm']) {
      assert.ok(names.includes(name), `${browser} zip lacks ${name}`);
    }
  }
});
