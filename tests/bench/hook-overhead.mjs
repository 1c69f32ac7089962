// Benchmark: what the in-page hook costs a page, measured against the same page without the
// hook in the same run (headless Chromium, loopback server).
//
//   node tests/bench/hook-overhead.mjs [--rounds N] [--compare-rev GIT_REV]... [--compare FILE]...
//
// Each round opens one fresh page per variant (no hook, the hook in static/hook.js, and with
// --compare other hook builds, e.g. `--compare-rev HEAD~3`) and runs on each, in a rotating
// order (the round trips and fetches in ten blocks that alternate between the variants):
// 1. The server pushes 5,000 WebSocket messages/s for 3 s while a Chromium trace records the
//    renderer's main thread: the longest task, and the longest task that is a hook batch
//    (a task running the hook's flush), by thread CPU time and by wall time; and every
//    garbage collection on that thread (V8 MinorGC = scavenge, MajorGC = mark-compact
//    pause), for the no-hook page too, with the task that hosted it. A collection runs in
//    whichever task allocates when the heap is full, so it is reported both ways: hook
//    batches with the collection inside them (the figure the target counts) and without.
// 2. The same push without tracing, five pushes of 0.6 s per page interleaved between the
//    variants: main-thread CPU time per received message,
//    from the renderer's own counter (CDP Performance.getMetrics ThreadTime). Tracing adds
//    its own cost to every JavaScript call, which inflates a listener's share; both are
//    reported. Also the time in script per message (ScriptDuration): much less noisy on a
//    loaded machine, but it includes the instrumentation's own cost per listener call.
//    A hook's added cost is the median over the pushes of (hook - no hook) for pushes run
//    back to back, so a change of the machine's load between pushes cancels out.
// 3. 10,000 WebSocket round trips (send, await the echo) one after another.
// 4. 10,000 synchronous socket.send() calls (the send path), in ten blocks of 1,000 that
//    alternate between the variants; the added cost is the median over the blocks of
//    (hook - no hook) for blocks run back to back (a block that a collection or another
//    process hit is an outlier, trimmed the same way for either page).
// 5. 1,000 fetches (request, read the body) one after another.
// The hooked pages have a subscriber that receives every batch, as the extension and the
// dashboard have. Every figure is computed per round against the no-hook page of the same
// round (ratio or difference), then summarised as the median and the range over the rounds.
// Targets (issue 5): at most 10% throughput loss, at most 5 us added per message, capture
// never blocks the main thread for more than 1 ms at a time at 5,000 messages/s.
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { launchBrowser, ROOT } from '../e2e/support.mjs';
import { startHookTestServer } from '../e2e/hook-server.mjs';

const argument = (name) => {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
};
const ROUNDS = Number(argument('--rounds')) || 5;
const ROUND_TRIPS = 10_000;
const WARM_UP_ROUND_TRIPS = 200;
const SENDS = 10_000;
const SEND_BLOCKS = 10;
const WARM_UP_SENDS = 500;
const UNTRACED_PUSHES = 5;
const UNTRACED_PUSH_MILLIS = 600;
const FETCHES = 1_000;
const PUSH_RATE = 5_000;
const PUSH_MILLIS = 3_000;
const PUSHED = Math.round((PUSH_RATE * PUSH_MILLIS) / 1000);

/** Other hook builds to compare: every `--compare FILE` and `--compare-rev GIT_REV`. */
function comparedVariants() {
  const variants = [];
  process.argv.forEach((flag, index) => {
    const value = process.argv[index + 1];
    if (flag === '--compare') variants.push({ file: path.resolve(value), label: value });
    if (flag === '--compare-rev') {
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'framescope-hook-')), 'hook.js');
      writeFileSync(file, execFileSync('git', ['show', `${value}:static/hook.js`], { cwd: ROOT }));
      variants.push({ file, label: `git ${value}` });
    }
  });
  return variants.map((variant, index) => ({ ...variant, name: `compared${index + 1}` }));
}

const sorted = (values) => [...values].sort((a, b) => a - b);
const median = (values) => {
  const s = sorted(values);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** "median (min to max)" with `digits` decimals. */
const spread = (values, digits) => {
  const s = sorted(values);
  return `${median(s).toFixed(digits)} (${s[0].toFixed(digits)} to ${s.at(-1).toFixed(digits)})`;
};

async function openPage(browser, server, variant) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const query = variant.name === 'plain' ? 'hook=0' : `hook=1${variant.file ? `&hookfile=${variant.name}` : ''}`;
  await page.goto(`${server.origin}/page?${query}`);
  if (variant.name !== 'plain') {
    await page.evaluate(() => {
      window.capturedMessages = 0;
      framescope.subscribe((batch) => {
        for (const event of batch) if (event.type === 'ws_message') window.capturedMessages += 1;
      });
    });
  }
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  return { page, context, cdp };
}

async function openPushSocket(page, origin) {
  await page.evaluate(async ({ origin }) => {
    window.pushSocket = new WebSocket(origin.replace('http', 'ws') + '/ws/echo');
    await new Promise((resolve) => { window.pushSocket.onopen = resolve; });
  }, { origin });
}

/**
 * Runs one 5,000 msg/s push on the open push socket; resolves the count received. With
 * `appAllocates` the page's listener also splits each message (a few dozen bytes of garbage
 * per message, as any app that parses its messages makes).
 */
function push(page, millis = PUSH_MILLIS, appAllocates = false) {
  return page.evaluate(async ({ rate, millis, appAllocates }) => {
    let count = 0;
    await new Promise((resolve) => {
      window.pushSocket.onmessage = (event) => {
        if (appAllocates) window.lastParts = event.data.split('-');
        if (event.data === 'rate-done') resolve(); else count += 1;
      };
      window.pushSocket.send(`rate:${rate}:${millis}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    return count;
  }, { rate: PUSH_RATE, millis, appAllocates });
}

/** Main-thread tasks of the page's renderer from a trace: longest overall and longest hook batch. */
function traceTasks(events) {
  const mainThreads = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
    .map((e) => `${e.pid}:${e.tid}`));
  // A hook batch is a task that runs one of the hook's flush functions.
  const flushCalls = events.filter((e) => e.name === 'FunctionCall' && mainThreads.has(`${e.pid}:${e.tid}`)
    && /\/hook\.js/.test(e.args?.data?.url || '') && /^flush/.test(e.args?.data?.functionName || ''));
  // Garbage collections run inside whichever task allocates when the young generation is
  // full; a hook batch allocates the events it hands out, so it sometimes hosts one.
  const collections = events.filter((e) => e.ph === 'X' && (e.name === 'MinorGC' || e.name === 'MajorGC')
    && mainThreads.has(`${e.pid}:${e.tid}`));
  const gcMillis = (g) => (g.tdur ?? g.dur) / 1000;
  const byThread = new Map();
  for (const e of events) {
    if (e.ph !== 'X' || e.name !== 'ThreadControllerImpl::RunTask' || !mainThreads.has(`${e.pid}:${e.tid}`)) continue;
    const key = `${e.pid}:${e.tid}`;
    if (!byThread.has(key)) byThread.set(key, []);
    const inside = (f) => `${f.pid}:${f.tid}` === key && f.ts >= e.ts && f.ts <= e.ts + e.dur;
    const hook = flushCalls.some(inside);
    const gcCpu = collections.filter(inside).reduce((sum, g) => sum + gcMillis(g), 0);
    byThread.get(key).push({ wall: e.dur / 1000, cpu: (e.tdur ?? e.dur) / 1000, gcCpu, hook, task: e });
  }
  // The page's renderer is the busiest main thread in the trace.
  const tasks = [...byThread.values()].sort((a, b) => b.length - a.length)[0] || [];
  const pageThread = tasks.length ? `${tasks[0].task.pid}:${tasks[0].task.tid}` : '';
  const pageCollections = collections.filter((g) => `${g.pid}:${g.tid}` === pageThread);
  const minor = pageCollections.filter((g) => g.name === 'MinorGC');
  const major = pageCollections.filter((g) => g.name === 'MajorGC');
  const hookTasks = tasks.filter((t) => t.hook);
  const max = (values) => values.reduce((a, b) => Math.max(a, b), 0);
  // What the longest hook batch spent its time in: its longest nested trace events.
  const longestHook = hookTasks.reduce((a, b) => (a === null || b.cpu > a.cpu ? b : a), null);
  const longestHookInside = longestHook === null ? '' : events
    .filter((e) => e.ph === 'X' && e !== longestHook.task && e.pid === longestHook.task.pid && e.tid === longestHook.task.tid
      && e.ts >= longestHook.task.ts && e.ts + e.dur <= longestHook.task.ts + longestHook.task.dur && e.dur > 100
      && !['v8.callFunction', 'FunctionCall', 'TimerFire', 'SimpleWatcher::OnHandleReady'].includes(e.name))
    .map((e) => `${e.name} ${((e.tdur ?? e.dur) / 1000).toFixed(2)}`).slice(0, 3).join(', ');
  return {
    longestWallMillis: max(tasks.map((t) => t.wall)),
    longestCpuMillis: max(tasks.map((t) => t.cpu)),
    longestCpuWithoutGcMillis: max(tasks.map((t) => t.cpu - t.gcCpu)),
    minorGcs: minor.length,
    majorGcs: major.length,
    longestMinorGcMillis: max(minor.map(gcMillis)),
    longestMajorGcMillis: max(major.map(gcMillis)),
    gcTotalMillis: pageCollections.reduce((sum, g) => sum + gcMillis(g), 0),
    cpuTotalMillis: tasks.reduce((sum, t) => sum + t.cpu, 0),
    hookTasks: hookTasks.length,
    longestHookCpuMillis: max(hookTasks.map((t) => t.cpu)),
    longestHookWallMillis: max(hookTasks.map((t) => t.wall)),
    longestHookCpuWithoutGcMillis: max(hookTasks.map((t) => t.cpu - t.gcCpu)),
    hookTasksWithGc: hookTasks.filter((t) => t.gcCpu > 0).length,
    longestHookInside,
    medianHookCpuMillis: hookTasks.length ? median(hookTasks.map((t) => t.cpu)) : 0,
  };
}

async function tracedPush(browser, page, appAllocates = false) {
  await browser.startTracing(page, { categories: ['devtools.timeline', 'toplevel', 'v8'] });
  const received = await push(page, PUSH_MILLIS, appAllocates);
  const trace = JSON.parse((await browser.stopTracing()).toString('utf8'));
  return { received, ...traceTasks(trace.traceEvents || trace) };
}

/** The renderer's main-thread CPU time and its time in script, in milliseconds. */
async function mainThreadMillis(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const value = (name) => metrics.find((m) => m.name === name).value * 1000;
  return { cpu: value('ThreadTime'), script: value('ScriptDuration') };
}

/** Main-thread CPU and script microseconds per received message over an untraced push. */
async function untracedPush(page, cdp) {
  const before = await mainThreadMillis(cdp);
  const received = await push(page, UNTRACED_PUSH_MILLIS);
  const after = await mainThreadMillis(cdp);
  return {
    received,
    cpuMicrosPerMessage: ((after.cpu - before.cpu) * 1000) / received,
    scriptMicrosPerMessage: ((after.script - before.script) * 1000) / received,
  };
}

/** Opens the socket for the round-trip and send runs and warms it up. */
async function openEchoSocket(page, origin) {
  await page.evaluate(async ({ origin, warmUp }) => {
    const socket = new WebSocket(origin.replace('http', 'ws') + '/ws/echo');
    await new Promise((resolve) => { socket.onopen = resolve; });
    window.echoPayload = JSON.stringify({ jsonrpc: '2.0', method: 'math.add', params: [1, 2], id: 0 });
    for (let i = 0; i < warmUp; i++) {
      await new Promise((resolve) => { socket.onmessage = resolve; socket.send(window.echoPayload); });
    }
    window.echoSocket = socket;
  }, { origin, warmUp: WARM_UP_ROUND_TRIPS });
}

/** Milliseconds for `count` WebSocket round trips one after another. */
async function roundTrips(page, count) {
  return page.evaluate(async (count) => {
    const socket = window.echoSocket;
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      await new Promise((resolve) => { socket.onmessage = resolve; socket.send(window.echoPayload); });
    }
    return performance.now() - started;
  }, count);
}

/** Milliseconds for `count` synchronous socket.send calls (the hook's send-path cost). */
async function sends(page, count, warmUp) {
  return page.evaluate(async ({ count, warmUp }) => {
    const socket = window.echoSocket;
    let echoes = 0;
    const allEchoed = new Promise((resolve) => {
      socket.onmessage = () => { echoes += 1; if (echoes === count + warmUp) resolve(); };
    });
    for (let i = 0; i < warmUp; i++) socket.send(window.echoPayload);
    const started = performance.now();
    for (let i = 0; i < count; i++) socket.send(window.echoPayload);
    const millis = performance.now() - started;
    await allEchoed;
    return millis;
  }, { count, warmUp });
}

/** Milliseconds for `count` fetches one after another (after a warm-up when asked). */
async function fetches(page, count, warmUp) {
  return page.evaluate(async ({ count, warmUp }) => {
    for (let i = 0; i < warmUp; i++) await (await fetch('/rt')).text();
    const started = performance.now();
    for (let i = 0; i < count; i++) await (await fetch('/rt', { method: 'POST', body: `{"n":${i}}` })).text();
    return performance.now() - started;
  }, { count, warmUp });
}

/**
 * One round: a fresh page per variant, all open at once; each measurement runs on every
 * variant in turn, and the long ones (round trips, fetches) in blocks of a tenth that
 * alternate between the variants, so a change in the machine's load hits all of them alike.
 */
async function runRound(browser, server, order) {
  const opened = [];
  for (const variant of order) opened.push({ variant, ...(await openPage(browser, server, variant)) });
  const results = Object.fromEntries(order.map((v) => [v.name, { ws: 0, fetch: 0 }]));
  try {
    // The pushes come first so that the hook's batches are measured at a steady 5,000
    // messages/s, not after the synchronous 10,000-send burst below.
    for (const { page } of opened) await openPushSocket(page, server.origin);
    for (const { variant, page } of opened) results[variant.name].traced = await tracedPush(browser, page);
    // Context for the collections: the no-hook page once more, its app allocating per message.
    for (const { variant, page } of opened) {
      if (variant.name === 'plain') results.plain.tracedAppAllocating = await tracedPush(browser, page, true);
    }
    const untraced = Object.fromEntries(order.map((v) => [v.name, []]));
    for (let push = 0; push < UNTRACED_PUSHES; push++) {
      for (const { variant, page, cdp } of opened) untraced[variant.name].push(await untracedPush(page, cdp));
    }
    for (const { variant } of opened) {
      const runs = untraced[variant.name];
      results[variant.name].untraced = {
        runs,
        received: runs.reduce((sum, r) => sum + r.received, 0),
        cpuMicrosPerMessage: median(runs.map((r) => r.cpuMicrosPerMessage)),
        scriptMicrosPerMessage: median(runs.map((r) => r.scriptMicrosPerMessage)),
      };
    }
    for (const { variant, page } of opened) {
      results[variant.name].flushDuringPush = variant.name === 'plain' ? 0 : await page.evaluate(() => framescope.stats().longest_flush_micros);
      await page.evaluate(() => window.pushSocket.close());
      await openEchoSocket(page, server.origin);
    }
    const BLOCKS = 10;
    for (let block = 0; block < BLOCKS; block++) {
      for (const { variant, page } of opened) results[variant.name].ws += await roundTrips(page, ROUND_TRIPS / BLOCKS);
    }
    const sendBlocks = Object.fromEntries(order.map((v) => [v.name, []]));
    for (let block = 0; block < SEND_BLOCKS; block++) {
      for (const { variant, page } of opened) {
        sendBlocks[variant.name].push(await sends(page, SENDS / SEND_BLOCKS, block === 0 ? WARM_UP_SENDS : 0));
      }
    }
    for (const { variant } of opened) {
      results[variant.name].send = median(sendBlocks[variant.name]) * SEND_BLOCKS;
      results[variant.name].sendBlocks = sendBlocks[variant.name];
    }
    for (let block = 0; block < BLOCKS; block++) {
      for (const { variant, page } of opened) results[variant.name].fetch += await fetches(page, FETCHES / BLOCKS, block === 0 ? 50 : 0);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const { variant, page } of opened) {
      if (variant.name !== 'plain') {
        results[variant.name].captured = await page.evaluate(() => ({ messages: window.capturedMessages, stats: framescope.stats() }));
      }
    }
    return results;
  } finally {
    for (const { context } of opened) await context.close();
  }
}

async function main() {
  const variants = [{ name: 'plain' }, { name: 'hook' }, ...comparedVariants()];
  const hookFiles = Object.fromEntries(variants.filter((v) => v.file).map((v) => [v.name, v.file]));
  const server = await startHookTestServer({ hookFiles });
  const browser = await launchBrowser();
  const rounds = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = variants.map((_, i) => variants[(i + round) % variants.length]);
      rounds.push(await runRound(browser, server, order));
      process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
    }
  } finally {
    await browser.close();
    await server.close();
  }

  // Round trips (with warm-up), the send loops and their echoes, the pushes, each with its
  // "rate:..." command and its "rate-done" answer.
  const untracedPushed = Math.round((PUSH_RATE * UNTRACED_PUSH_MILLIS) / 1000);
  const expectedMessages = (ROUND_TRIPS + WARM_UP_ROUND_TRIPS) * 2 + (SENDS + WARM_UP_SENDS) * 2 + (PUSHED + 2)
    + UNTRACED_PUSHES * (untracedPushed + 2);
  const line = (label, value) => console.log(`${label.padEnd(58)} ${value}`);
  const per = (name, f) => rounds.map((r) => f(r[name], r.plain));
  /** Median over paired runs (the same index ran back to back) of f(hook run, no-hook run). */
  const paired = (hookRuns, plainRuns, f) => median(hookRuns.map((run, i) => f(run, plainRuns[i])));
  console.log(`\nFramescope hook overhead (headless Chromium, loopback; ${ROUNDS} rounds, variants in rotating order; `
    + `median (min to max) over rounds of per-round figures; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)\n`);
  line('no hook: 10,000 WebSocket round trips', `${spread(per('plain', (p) => p.ws), 0)} ms`);
  line('no hook: 10,000 send() calls (median block of 1,000, x 10)', `${spread(per('plain', (p) => p.send), 1)} ms`);
  line('no hook: 1,000 fetches', `${spread(per('plain', (p) => p.fetch), 0)} ms`);
  line('no hook: main-thread CPU per received message, untraced', `${spread(per('plain', (p) => p.untraced.cpuMicrosPerMessage), 2)} us`);
  line('no hook: script time per received message, untraced', `${spread(per('plain', (p) => p.untraced.scriptMicrosPerMessage), 2)} us`);
  line('no hook: main-thread CPU per received message, traced', `${spread(per('plain', (p) => (p.traced.cpuTotalMillis * 1000) / p.traced.received), 2)} us`);
  line('no hook: longest main-thread task at 5,000 msg/s, CPU', `${spread(per('plain', (p) => p.traced.longestCpuMillis), 3)} ms`);
  line('no hook: the same without the GC inside it', `${spread(per('plain', (p) => p.traced.longestCpuWithoutGcMillis), 3)} ms`);
  line('no hook: scavenges (MinorGC) per 3 s push', spread(per('plain', (p) => p.traced.minorGcs), 0));
  line('no hook: longest scavenge', `${spread(per('plain', (p) => p.traced.longestMinorGcMillis), 3)} ms`);
  line('no hook: mark-compact pauses (MajorGC) per push', spread(per('plain', (p) => p.traced.majorGcs), 0));
  line('no hook: longest mark-compact pause', `${spread(per('plain', (p) => p.traced.longestMajorGcMillis), 3)} ms`);
  line('no hook, app splitting each message: scavenges per push', spread(per('plain', (p) => p.tracedAppAllocating.minorGcs), 0));
  line('no hook, app splitting each message: longest scavenge', `${spread(per('plain', (p) => p.tracedAppAllocating.longestMinorGcMillis), 3)} ms`);
  line('no hook, app splitting each message: longest task, CPU', `${spread(per('plain', (p) => p.tracedAppAllocating.longestCpuMillis), 3)} ms`);
  for (const variant of variants.slice(1)) {
    const name = variant.name;
    console.log(`\n${name === 'hook' ? 'hook (static/hook.js)' : `hook from ${variant.label}`}:`);
    line('  WebSocket round-trip throughput ratio (target >= 0.90)', spread(per(name, (h, p) => p.ws / h.ws), 3));
    line('  added wall time per message (2 per round trip)', `${spread(per(name, (h, p) => ((h.ws - p.ws) * 1000) / (ROUND_TRIPS * 2)), 2)} us`);
    line('  added time per sent message (target <= 5 us)', `${spread(per(name, (h, p) => paired(h.sendBlocks, p.sendBlocks, (a, b) => ((a - b) * 1000 * SEND_BLOCKS) / SENDS)), 2)} us`);
    line('  added CPU per received message, untraced (target <= 5 us)', `${spread(per(name, (h, p) => paired(h.untraced.runs, p.untraced.runs, (a, b) => a.cpuMicrosPerMessage - b.cpuMicrosPerMessage)), 2)} us`);
    line('  added script time per received message, untraced', `${spread(per(name, (h, p) => paired(h.untraced.runs, p.untraced.runs, (a, b) => a.scriptMicrosPerMessage - b.scriptMicrosPerMessage)), 2)} us`);
    line('  added CPU per received message, traced', `${spread(per(name, (h, p) => ((h.traced.cpuTotalMillis - p.traced.cpuTotalMillis) * 1000) / PUSHED), 2)} us`);
    line('  fetch throughput ratio (target >= 0.90)', spread(per(name, (h, p) => p.fetch / h.fetch), 3));
    line('  fetch added time per request', `${spread(per(name, (h, p) => ((h.fetch - p.fetch) * 1000) / FETCHES), 0)} us`);
    line('  longest main-thread task at 5,000 msg/s, CPU', `${spread(per(name, (h) => h.traced.longestCpuMillis), 3)} ms`);
    line('  the same without the GC inside it', `${spread(per(name, (h) => h.traced.longestCpuWithoutGcMillis), 3)} ms`);
    line('  scavenges (MinorGC) per 3 s push', spread(per(name, (h) => h.traced.minorGcs), 0));
    line('  longest scavenge', `${spread(per(name, (h) => h.traced.longestMinorGcMillis), 3)} ms`);
    line('  mark-compact pauses (MajorGC) per push', spread(per(name, (h) => h.traced.majorGcs), 0));
    line('  GC time per push (all tasks)', `${spread(per(name, (h) => h.traced.gcTotalMillis), 2)} ms`);
    line('  hook batch tasks per push (from the trace)', spread(per(name, (h) => h.traced.hookTasks), 0));
    line('  hook batch task CPU: median per push', `${spread(per(name, (h) => h.traced.medianHookCpuMillis), 3)} ms`);
    line('  longest hook batch task, CPU (target <= 1 ms)', `${spread(per(name, (h) => h.traced.longestHookCpuMillis), 3)} ms`);
    line('  longest hook batch task, CPU without the GC inside it', `${spread(per(name, (h) => h.traced.longestHookCpuWithoutGcMillis), 3)} ms`);
    line('  hook batch tasks that hosted a GC, per push', spread(per(name, (h) => h.traced.hookTasksWithGc), 0));
    line('  inside the longest hook batch of each round (ms CPU)', per(name, (h) => `[${h.traced.longestHookInside || 'own work'}]`).join(' '));
    line('  longest hook batch task, wall', `${spread(per(name, (h) => h.traced.longestHookWallMillis), 3)} ms`);
    line('  longest hook batch, wall, from the hook (the pushes)', `${spread(per(name, (h) => h.flushDuringPush), 0)} us`);
    line('  longest hook batch over the whole page, bursts included', `${spread(per(name, (h) => h.captured.stats.longest_flush_micros), 0)} us`);
    line('  ws_message events delivered per page', `${per(name, (h) => h.captured.messages).join(', ')} (expected ${expectedMessages})`);
    line('  events dropped by the hook', per(name, (h) => h.captured.stats.dropped).join(', '));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
