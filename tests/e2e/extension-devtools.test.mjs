// Smoke test of the real DevTools panel: Chromium opens DevTools for the tab
// (--auto-open-devtools-for-tabs works in new headless), the devtools page registers the
// "Framescope" panel, the test shows it through the DevTools frontend, and the panel
// (inside DevTools, tab id from chrome.devtools.inspectedWindow) shows the page's first
// request with the DevTools theme.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, freshProfileDir } from './support.mjs';
import { EXTENSION_DIR, requireBuiltExtension, startOrigins, tabIdOf } from './extension-support.mjs';

let origins;
let context;
let extensionId;

before(async () => {
  requireBuiltExtension();
  origins = await startOrigins({
    '/devtools': `<!DOCTYPE html><title>devtools smoke</title><script>
      fetch('/rpc', { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'devtools.first', id: 1 }) });
    </script>`,
  });
  context = await chromium.launchPersistentContext(freshProfileDir('framescope-devtools-'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      ...CHROMIUM_ARGS,
      `--disable-extensions-except=${EXTENSION_DIR}`,
      `--load-extension=${EXTENSION_DIR}`,
      '--auto-open-devtools-for-tabs',
    ],
  });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  extensionId = new URL(worker.url()).host;
});

after(async () => {
  await context?.close();
  await origins?.close();
});

/** Runs `expression` in another target (DevTools frontend, extension iframe) over CDP. */
function targetEvaluator(session) {
  let nextId = 1;
  const waiting = new Map();
  session.on('Target.receivedMessageFromTarget', ({ message }) => {
    const reply = JSON.parse(message);
    waiting.get(reply.id)?.(reply);
    waiting.delete(reply.id);
  });
  const attached = new Map();
  return async (targetId, expression) => {
    if (!attached.has(targetId)) {
      const { sessionId } = await session.send('Target.attachToTarget', { targetId, flatten: false });
      attached.set(targetId, sessionId);
    }
    const id = nextId++;
    const reply = new Promise((resolve) => waiting.set(id, resolve));
    await session.send('Target.sendMessageToTarget', {
      sessionId: attached.get(targetId),
      message: JSON.stringify({ id, method: 'Runtime.evaluate', params: { expression, awaitPromise: true, returnByValue: true } }),
    });
    const { result, error } = await reply;
    if (error || result.exceptionDetails) throw new Error(JSON.stringify(error ?? result.exceptionDetails).slice(0, 300));
    return result.result.value;
  };
}

async function eventually(what, probe, timeoutMillis = 30_000) {
  const deadline = Date.now() + timeoutMillis;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test('the Framescope panel inside real DevTools shows the inspected page from its first request', async () => {
  const page = await context.newPage();
  await page.goto(`${origins.pageOrigin}/devtools`);
  const tabId = await tabIdOf(context, extensionId, page);
  const session = await context.newCDPSession(page);
  const evaluate = targetEvaluator(session);
  const targets = async () => (await session.send('Target.getTargets')).targetInfos;

  // Each DevTools window (one per open tab, opening at their own pace) registers the panel;
  // show it wherever it is registered, until the one for our tab shows our page.
  const panelId = `chrome-extension://${extensionId}Framescope`;
  const panelUrl = `chrome-extension://${extensionId}/panel.html`;
  const seen = await eventually('the panel to show the first request', async () => {
    const all = await targets();
    for (const frontend of all.filter((info) => info.url.startsWith('devtools://devtools/'))) {
      await evaluate(frontend.targetId, `(async () => {
        const UI = await import('./ui/legacy/legacy.js');
        const view = UI.InspectorView.InspectorView.instance();
        if (!view.tabbedPane.tabs.some((tab) => tab.id === ${JSON.stringify(panelId)})) return false;
        await view.showPanel(${JSON.stringify(panelId)});
        return true;
      })()`);
    }
    // The panel that inspects our tab found its tab id itself and received the page's events.
    for (const target of all.filter((info) => info.url === panelUrl)) {
      const state = await evaluate(target.targetId, `(() => ({
        stats: globalThis.framescopeExtension?.stats(),
        theme: document.documentElement.dataset.theme ?? null,
        inDevtools: typeof chrome.devtools?.inspectedWindow?.tabId === 'number',
        rows: [...document.querySelectorAll('[data-testid="frame-row"]')].map((row) => row.innerText),
      }))()`);
      if (state.stats?.tabId === tabId && state.rows.some((row) => row.includes('devtools.first'))) return state;
    }
    return null;
  }, 60_000);
  assert.equal(seen.inDevtools, true);
  assert.equal(seen.stats.connected, true);
  assert.ok(seen.stats.receivedEvents >= 3, JSON.stringify(seen.stats));
  // DevTools' default theme is light; the panel follows it.
  assert.equal(seen.theme, 'light');
  await session.detach();
  await page.close();
});
