// Where the hook's cost per WebSocket message goes (headless Chromium, loopback server).
//
//   node tests/bench/hook-profile.mjs [--compare-rev GIT_REV]
//
// 1. In-page, without any DevTools instrumentation: 20,000 message events are dispatched on a
//    real open socket whose app listens with `onmessage`, with and without the hook, then the
//    hook's batches deliver them to a subscriber. Reported per message: the dispatch (the
//    browser's listener calls plus the hook's message path) and the delivery (building the
//    events in the hook's batches and handing them out). Repeated, interleaved; medians.
//    The browser does the same work for a real received message, minus the network side.
// 2. A CDP sampling profile (50 us) of the hooked page while the server pushes 5,000 messages
//    per second for 3 s: self time per hook function, per received message.
// 3. Garbage per message: the V8 sampling heap profiler (every 512 bytes, collected objects
//    included) while 20,000 message events are dispatched in steps of 100 with a pause of
//    20 ms after each, so the hook's batches run in between as in a steady stream; after a
//    warm-up of the same, so the code runs optimized. Bytes per message and the functions
//    that allocated them. Garbage per message decides how often the page's young generation
//    is collected (a scavenge pauses whichever task is allocating at that moment).
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { launchBrowser, ROOT } from '../e2e/support.mjs';
import { startHookTestServer } from '../e2e/hook-server.mjs';

const DISPATCHES = 20_000;
const REPETITIONS = 7;
const revIndex = process.argv.indexOf('--compare-rev');
const compareRev = revIndex === -1 ? null : process.argv[revIndex + 1];

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function openPage(browser, server, query) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.origin}/page?${query}`);
  await page.evaluate(async (origin) => {
    window.delivered = 0;
    if (window.framescope) framescope.subscribe((batch) => { window.delivered += batch.length; });
    window.socket = new WebSocket(origin.replace('http', 'ws') + '/ws/echo');
    await new Promise((resolve) => { window.socket.onopen = resolve; });
    let sink = 0;
    window.socket.onmessage = (event) => { sink += event.data.length; };
    window.sink = () => sink;
  }, server.origin);
  return { page, context };
}

/** Microseconds per message: dispatch loop, then the wait until the hook delivered them all. */
function dispatchRun(page, count) {
  return page.evaluate(async (count) => {
    const socket = window.socket;
    const deliveredBefore = window.delivered;
    const started = performance.now();
    for (let i = 0; i < count; i++) socket.dispatchEvent(new MessageEvent('message', { data: `m-${i}` }));
    const dispatched = performance.now();
    if (window.framescope) {
      while (window.delivered - deliveredBefore < count) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const delivered = performance.now();
    return { dispatchMicros: ((dispatched - started) * 1000) / count, deliverMicros: ((delivered - dispatched) * 1000) / count };
  }, count);
}

/** Bytes allocated per dispatched message (dispatch and the hook's batches), by function. */
async function garbagePerMessage(page, count) {
  const stream = () => page.evaluate(async (count) => {
    const events = Array.from({ length: count }, (_, i) => new MessageEvent('message', { data: `g-${i}` }));
    const deliveredBefore = window.delivered;
    for (let i = 0; i < count; i++) {
      window.socket.dispatchEvent(events[i]);
      if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (window.framescope) {
      while (window.delivered - deliveredBefore < count) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }, count);
  await stream(); // warm-up
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.startSampling', {
    samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
  });
  await stream();
  const { profile } = await cdp.send('HeapProfiler.getSamplingProfile');
  await cdp.send('HeapProfiler.stopSampling');
  await cdp.detach();
  const byFunction = new Map();
  const walk = (node) => {
    const frame = node.callFrame;
    const key = frame.url.includes('/hook.js') ? `hook.js ${frame.functionName || '(anonymous)'}` : frame.functionName || `(${frame.url ? 'page' : 'browser'})`;
    if (node.selfSize) byFunction.set(key, (byFunction.get(key) || 0) + node.selfSize);
    node.children.forEach(walk);
  };
  walk(profile.head);
  const total = [...byFunction.values()].reduce((sum, bytes) => sum + bytes, 0);
  return { bytesPerMessage: total / count, byFunction };
}

async function profilePush(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
  await cdp.send('Profiler.start');
  const received = await page.evaluate(async () => {
    let count = 0;
    await new Promise((resolve) => {
      window.socket.onmessage = (event) => { if (event.data === 'rate-done') resolve(); else count += 1; };
      window.socket.send('rate:5000:3000');
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    return count;
  });
  const { profile } = await cdp.send('Profiler.stop');
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  profile.samples.forEach((id, index) => {
    const frame = nodes.get(id).callFrame;
    if (!frame.url.includes('/hook.js')) return;
    const key = frame.functionName || '(anonymous)';
    self.set(key, (self.get(key) || 0) + (profile.timeDeltas[index + 1] || 0));
  });
  return { received, self };
}

async function main() {
  const hookFiles = {};
  if (compareRev) {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'framescope-hook-')), 'hook.js');
    writeFileSync(file, execFileSync('git', ['show', `${compareRev}:static/hook.js`], { cwd: ROOT }));
    hookFiles.compared = file;
  }
  const variants = [['no hook', 'hook=0'], ['hook', 'hook=1']];
  if (compareRev) variants.push([`hook from git ${compareRev}`, 'hook=1&hookfile=compared']);
  const server = await startHookTestServer({ hookFiles });
  const browser = await launchBrowser();
  try {
    const pages = [];
    for (const [label, query] of variants) pages.push({ label, ...(await openPage(browser, server, query)) });
    const runs = new Map(pages.map((p) => [p.label, []]));
    for (const p of pages) await dispatchRun(p.page, 2000); // warm-up
    for (let repetition = 0; repetition < REPETITIONS; repetition++) {
      for (const p of repetition % 2 ? [...pages].reverse() : pages) runs.get(p.label).push(await dispatchRun(p.page, DISPATCHES));
    }
    console.log(`\nHook cost per message (headless Chromium; ${REPETITIONS} interleaved runs of ${DISPATCHES.toLocaleString('en')} dispatched messages, medians; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)\n`);
    const plainDispatch = median(runs.get('no hook').map((r) => r.dispatchMicros));
    console.log(`${'no hook: dispatch to the app listener'.padEnd(52)} ${plainDispatch.toFixed(2)} us`);
    for (const [label] of variants.slice(1)) {
      const dispatch = median(runs.get(label).map((r) => r.dispatchMicros));
      const deliver = median(runs.get(label).map((r) => r.deliverMicros));
      console.log(`${label}:`);
      console.log(`${'  added on the message path (dispatch)'.padEnd(52)} ${(dispatch - plainDispatch).toFixed(2)} us`);
      console.log(`${'  batches: build and deliver, incl. task switches'.padEnd(52)} ${deliver.toFixed(2)} us`);
      console.log(`${'  total added per received message'.padEnd(52)} ${(dispatch - plainDispatch + deliver).toFixed(2)} us`);
    }
    console.log(`\nGarbage per message (sampled heap allocations, 20,000 messages dispatched in steps of 100 between batches, warm)`);
    for (const p of pages) {
      const { bytesPerMessage, byFunction } = await garbagePerMessage(p.page, DISPATCHES);
      const top = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4)
        .map(([name, bytes]) => `${name} ${(bytes / DISPATCHES).toFixed(1)}`).join(', ');
      console.log(`${`  ${p.label}`.padEnd(52)} ${bytesPerMessage.toFixed(1)} B  [${top}]`);
    }
    for (const p of pages.slice(1)) {
      const { received, self } = await profilePush(p.page);
      console.log(`\n${p.label}: sampled self time in hook.js per received message (5,000 msg/s for 3 s, ${received} messages)`);
      let total = 0;
      for (const [name, micros] of [...self.entries()].sort((a, b) => b[1] - a[1])) {
        total += micros;
        if (micros / received >= 0.01) console.log(`  ${name.padEnd(30)} ${(micros / received).toFixed(3)} us`);
      }
      console.log(`  ${'all hook.js functions'.padEnd(30)} ${(total / received).toFixed(3)} us`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
