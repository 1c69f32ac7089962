// Boots the Framescope panel: theme, the port to the service worker, then the Leptos app.
// Extension pages forbid inline scripts, so this file replaces the loader Trunk would inline.
import './panel-port.js';
import init from './framescope-app.js';

const api = globalThis.browser ?? globalThis.chrome;
const root = document.documentElement;

/** DevTools' theme as `data-theme` (Chromium names "default"/"dark", Firefox "light"/"dark"). */
function themeAttribute(themeName) {
  if (themeName === 'dark') return 'dark';
  if (themeName === 'default' || themeName === 'light') return 'light';
  return null;
}

// Inside DevTools the panel follows DevTools; outside (panel.html?tabId=N) `?theme=` may set
// it, else the system theme applies.
let followed = themeAttribute(api?.devtools?.panels?.themeName ?? new URLSearchParams(location.search).get('theme'));

function applyFollowed() {
  if (followed !== null && !root.hasAttribute('data-theme')) root.setAttribute('data-theme', followed);
}
applyFollowed();
api?.devtools?.panels?.onThemeChanged?.addListener((themeName) => {
  root.removeAttribute('data-theme');
  followed = themeAttribute(themeName);
  applyFollowed();
});
// The app's theme switch removes `data-theme` for "system"; in the panel "system" means the
// DevTools theme, so it is put back. An explicit light/dark choice stays as the app set it.
new MutationObserver(applyFollowed).observe(root, { attributes: true, attributeFilter: ['data-theme'] });

try {
  await init({ module_or_path: new URL('./framescope-app_bg.wasm', import.meta.url) });
} catch (error) {
  const message = document.createElement('p');
  message.setAttribute('role', 'alert');
  message.textContent = `Framescope could not start: ${error?.message ?? error}`;
  document.body.append(message);
  throw error;
}
