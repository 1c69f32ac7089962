// What every hook test file needs around its tests: one hook test server (hook-server.mjs)
// and one headless Chromium, started before the file's first test and stopped after its last.
import { before, after } from 'node:test';
import { launchBrowser } from './support.mjs';
import { startHookTestServer } from './hook-server.mjs';

/**
 * Registers the file's `before`/`after` hooks and returns the fixture: `server` and `browser`
 * (set once `before` has run) and `openPage(query)`, which opens `/page?query` in a fresh
 * context and collects the page's uncaught errors.
 */
export function useHookServerAndBrowser() {
  const fixture = {
    server: undefined,
    browser: undefined,
    async openPage(query) {
      const context = await fixture.browser.newContext();
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.goto(`${fixture.server.origin}/page?${query}`);
      return { page, errors, close: () => context.close() };
    },
  };
  before(async () => {
    fixture.server = await startHookTestServer();
    fixture.browser = await launchBrowser();
  });
  after(async () => {
    await fixture.browser?.close();
    await fixture.server?.close();
  });
  return fixture;
}
