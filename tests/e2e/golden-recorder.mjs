// Records a real capture for inspector-core's golden tests: headless Chromium loads the
// in-page hook and the demo traffic from `framescope serve --demo`, the page subscribes to
// the hook, and every capture event it delivers is written as NDJSON. The traffic is real:
// fetch/XHR JSON-RPC 2.0, Go's JSON-RPC 1.0, JSON-RPC and 0xCAFE over WebSocket, SSE and a
// failing cross-origin preflight, all against the demo backends on 127.0.0.1.
//
// Run by hand (after `cargo build -p framescope-cli`) to refresh the checked-in capture,
// then regenerate and review the expected output:
//   node tests/e2e/golden-recorder.mjs inspector-core/tests/data/golden/demo-capture.ndjson 6000
//   FRAMESCOPE_UPDATE_GOLDEN=1 cargo test -p inspector-core --test golden
import { writeFileSync } from 'node:fs';
import { launchBrowser, startServe } from './support.mjs';

export async function recordGolden(durationMillis = 6000) {
  const serve = await startServe(['--demo']);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    // A document the server itself serves (Chromium's local-network checks block sockets
    // from documents that Playwright fulfils), then the hook and the demo traffic in it.
    await page.goto(new URL('__framescope/info', serve.url).toString());
    await page.addScriptTag({ url: '/hook.js' });
    await page.evaluate(() => {
      globalThis.__captured = [];
      globalThis.framescope.subscribe((events) => { globalThis.__captured.push(...events); });
    });
    await page.addScriptTag({ url: '/demo-traffic.js' });
    const started = await page.evaluate(() => globalThis.framescopeDemo.start());
    if (!started) throw new Error('demo traffic did not start (is --demo on?)');
    await page.waitForTimeout(durationMillis);
    await page.evaluate(() => globalThis.framescopeDemo.stop());
    // Let answers in flight arrive and the hook flush its queue.
    await page.waitForTimeout(1500);
    const events = await page.evaluate(() => globalThis.__captured);
    return events;
  } finally {
    await browser.close();
    await serve.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const output = process.argv[2];
  const duration = Number(process.argv[3] || 6000);
  if (!output) {
    console.error('usage: node tests/e2e/golden-recorder.mjs OUTPUT.ndjson [DURATION_MILLIS]');
    process.exit(2);
  }
  const events = await recordGolden(duration);
  writeFileSync(output, events.map((event) => JSON.stringify(event)).join('\n') + '\n');
  console.log(`wrote ${events.length} events to ${output}`);
}
