// Boots the Framescope panel: theme, the port to the service worker, then the Leptos app.
// Extension pages forbid inline scripts, so this file replaces the loader Trunk would inline.
import './panel-port.js';
import init from './framescope-app.js';

const api = globalThis.browser ?? globalThis.chrome;

/** DevTools' theme (Chromium: "default" or "dark"; Firefox: "light" or "dark"). */
function applyTheme(themeName) {
  if (themeName === 'dark') document.documentElement.dataset.theme = 'dark';
  else if (themeName === 'default' || themeName === 'light') document.documentElement.dataset.theme = 'light';
}

const devtoolsTheme = api?.devtools?.panels?.themeName;
if (devtoolsTheme) {
  applyTheme(devtoolsTheme);
  api.devtools.panels.onThemeChanged?.addListener(applyTheme);
} else {
  // Outside DevTools (panel.html?tabId=N) the system theme applies unless ?theme= says.
  applyTheme(new URLSearchParams(location.search).get('theme'));
}

await init({ module_or_path: new URL('./framescope-app_bg.wasm', import.meta.url) });
