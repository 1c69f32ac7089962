// Framescope's DevTools page: creates the "Framescope" panel. The panel finds the inspected
// tab itself (chrome.devtools.inspectedWindow.tabId), so nothing else happens here.
'use strict';

(globalThis.browser ?? globalThis.chrome).devtools.panels.create('Framescope', 'icons/icon-32.png', 'panel.html');
