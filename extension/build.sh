#!/usr/bin/env bash
# Builds the Framescope browser extension (`./dev extension` runs this after the dashboard):
#
#   extension/dist/chromium/                      load unpacked in Chromium / Chrome / Edge
#   extension/dist/firefox/                       load as a temporary add-on in Firefox
#   extension/dist/framescope-<browser>-<version>.zip   the same folders, zipped for stores
#
# The panel is the dashboard's Leptos app built by Trunk with extension/Trunk.toml; the hook
# is static/hook.js, shared with `framescope serve`. Needs what `./dev setup` installs.
set -euo pipefail

EXT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$EXT")"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"

fail() { echo "extension/build.sh: $*" >&2; exit 1; }

command -v trunk >/dev/null || fail "trunk not found (run ./dev setup)"
command -v node >/dev/null || fail "node not found"
[ -f static/hook.js ] || fail "static/hook.js is missing (the in-page hook the extension injects)"

# The two Trunk configs must pin the same tools, or one build would download another.
pins() { grep -E '^(wasm_bindgen|wasm_opt) *=' "$1" | tr -d ' '; }
[ "$(pins Trunk.toml)" = "$(pins extension/Trunk.toml)" ] ||
  fail "[tools] in extension/Trunk.toml differs from Trunk.toml"

VERSION="$(awk -F'"' '/^\[workspace.package\]/ { in_package = 1 } in_package && /^version *=/ { print $2; exit }' Cargo.toml)"
[ -n "$VERSION" ] || fail "cannot read [workspace.package] version from Cargo.toml"

echo "extension: building the panel (trunk build --release --config extension/Trunk.toml)"
trunk build --release --config extension/Trunk.toml

PANEL="$EXT/dist/panel"
# Trunk always writes index.html; the manifest and devtools.js name the page panel.html.
# With inject_scripts off, Trunk leaves its `rel="rust"` marker link behind: drop it.
[ -f "$PANEL/index.html" ] || fail "the panel build did not produce index.html"
grep -v 'data-trunk' "$PANEL/index.html" > "$PANEL/panel.html"
rm "$PANEL/index.html"
for required in panel.html boot.js panel-port.js framescope-app.js framescope-app_bg.wasm; do
  [ -s "$PANEL/$required" ] || fail "the panel build did not produce $required (or it is empty)"
done
if grep -qiE '<script>|<script type="module">' "$PANEL/panel.html"; then
  fail "panel.html contains an inline script, which extension pages forbid"
fi

for browser in chromium firefox; do
  out="$EXT/dist/$browser"
  rm -rf "$out"
  mkdir -p "$out/icons"
  cp -R "$PANEL/." "$out/"
  cp "$EXT"/src/{background.js,relay.js,hook-transport.js,devtools.html,devtools.js} "$out/"
  cp "$EXT"/icons/*.png "$out/icons/"
  cp static/hook.js "$out/hook.js"
  node "$EXT/manifest.mjs" "$browser" "$VERSION" > "$out/manifest.json"
  zip_file="$EXT/dist/framescope-$browser-$VERSION.zip"
  rm -f "$zip_file"
  node "$EXT/zip.mjs" "$out" "$zip_file"
  echo "extension: $browser -> ${out#"$ROOT"/} and ${zip_file#"$ROOT"/}"
done
