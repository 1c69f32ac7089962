// Helpers of the shared-memory end-to-end tests: run a scenario of shm-app/page.js in a
// fresh cross-origin isolated page, collect what the hook captured, and analyse it with the
// core (`framescope analyze --json`). Not a test file itself.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FRAMESCOPE } from './support.mjs';

/** Runs `ShmScenarios[name](options)`; returns { result, events, stats, pageErrors }. */
export async function runScenario(browser, serverUrl, name, options, { hooked = true } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(`${serverUrl}/page?hook=${hooked ? 1 : 0}`);
  const isolated = await page.evaluate(() => globalThis.crossOriginIsolated);
  if (!isolated) throw new Error('the test page is not cross-origin isolated');
  const outcome = await page.evaluate(async ({ name, options }) => {
    const result = await globalThis.ShmScenarios[name](options);
    // Worker batches, the page's time-order merge (40 ms) and the hook's batch timer: wait
    // until no event has arrived for 300 ms (at least 400 ms, at most 5 s), since a loaded
    // machine can delay a worker's batch past any fixed pause.
    const sleep = (millis) => new Promise((resolve) => setTimeout(resolve, millis));
    await sleep(400);
    for (let waited = 400, seen = -1; waited < 5000 && seen !== globalThis.__events.length; waited += 300) {
      seen = globalThis.__events.length;
      await sleep(300);
    }
    return {
      result,
      events: globalThis.__events,
      stats: globalThis.framescope ? globalThis.framescope.stats() : null,
    };
  }, { name, options });
  await context.close();
  return { ...outcome, pageErrors };
}

/** The core's view of a capture: `framescope analyze --json` over the events as NDJSON. */
export function analyze(events) {
  const dir = mkdtempSync(path.join(tmpdir(), 'framescope-shm-'));
  const file = path.join(dir, 'capture.ndjson');
  writeFileSync(file, events.map((event) => JSON.stringify(event)).join('\n') + '\n');
  return JSON.parse(execFileSync(FRAMESCOPE, ['analyze', file, '--json'], { encoding: 'utf8' }));
}

export function ofType(events, type) {
  return events.filter((event) => event.type === type);
}
