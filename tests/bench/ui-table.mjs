// The inspector UI under load, in headless Chromium against the release dashboard
// (dist/dashboard, built by `./dev build`) served by `framescope serve`:
//
//   node tests/bench/ui-table.mjs [--calls 100000] [--rate 2000] [--seconds 10] [--dist DIR]
//
// `--dist` measures another build of the dashboard (e.g. a copy of dist/dashboard made
// before a change), so before/after figures come from the same benchmark and machine.
//
// 1. Imports a generated capture of N calls (JSON-RPC over three WebSockets, 2 frames per
//    call) through the file picker.
// 2. Streams new frames at R frames/s through the in-page hook's `emit` API for S seconds
//    while scrolling the table, and records every long task (PerformanceObserver).
// 3. Times filtering the N calls from the filter box to the updated table, against a
//    baseline measured in the same run: the same predicate over the same N calls as plain
//    JavaScript objects.
// 4. Reports the WebAssembly memory against the store's cap, and the release wasm size raw
//    and gzipped.
//
// Targets (issue 7): no long task over 50 ms while scrolling/updating, filtering under
// 100 ms, memory within the store's cap.
//
// Long tasks are counted twice: by wall time (the PerformanceObserver, what a user feels)
// and by the main thread's CPU time from a Chrome trace of the same phase. On a loaded
// machine a task waits for a core and its wall time grows; its CPU time does not, so the CPU
// figure is the one to compare between runs (the load average is in the report).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FRAMESCOPE = process.env.FRAMESCOPE_BIN || path.join(ROOT, 'target/debug/framescope');
function textArgument(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : fallback;
}
const DIST = path.resolve(textArgument('dist', path.join(ROOT, 'dist/dashboard')));
/** `SessionConfig::default().max_bytes`: the store's cap. */
const STORE_CAP_BYTES = 256 * 1024 * 1024;

function argument(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
}
const CALLS = argument('calls', 100_000);
const RATE = argument('rate', 2_000);
const SECONDS = argument('seconds', 10);

/** The page renderer's main-thread tasks from a trace: wall and CPU milliseconds each. */
function mainThreadTasks(events) {
  const mainThreads = new Set(events
    .filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
    .map((e) => `${e.pid}:${e.tid}`));
  const byThread = new Map();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.ph !== 'X' || e.name !== 'ThreadControllerImpl::RunTask' || !mainThreads.has(key)) continue;
    if (!byThread.has(key)) byThread.set(key, []);
    byThread.get(key).push({ wall: e.dur / 1000, cpu: (e.tdur ?? e.dur) / 1000 });
  }
  // The page's renderer is the busiest main thread in the trace.
  return [...byThread.values()].sort((a, b) => b.length - a.length)[0] || [];
}

function generateCapture(calls) {
  const start = 1_790_000_000_000_000;
  const lines = [];
  const event = (connection, time, type, body) => lines.push(JSON.stringify({
    v: 1, session_id: 'bench', connection_id: connection, time_micros: time, type, ...body,
  }));
  event('page', start, 'page', { url: 'http://127.0.0.1/bench', origin: 'http://127.0.0.1', title: 'bench' });
  const sockets = ['ws-1', 'ws-2', 'ws-3'];
  for (const socket of sockets) {
    event(socket, start + 1, 'ws_connect', { url: `ws://127.0.0.1/${socket}` });
    event(socket, start + 2, 'ws_open', {});
  }
  const methods = ['user.get', 'user.list', 'order.create', 'order.get', 'math.add', 'report.generate', 'System.Ping'];
  for (let id = 1; id <= calls; id += 1) {
    const socket = sockets[id % sockets.length];
    const time = start + 1_000 + id * 500;
    const method = methods[id % methods.length];
    const text = (value) => ({ encoding: 'text', data: value, size_bytes: value.length });
    event(socket, time, 'ws_message', {
      direction: 'sent', payload: text(JSON.stringify({ jsonrpc: '2.0', method, params: { id, page: id % 17 }, id })),
    });
    const response = id % 50 === 0
      ? { jsonrpc: '2.0', error: { code: -32000, message: 'busy' }, id }
      : { jsonrpc: '2.0', result: { ok: true, n: id }, id };
    event(socket, time + 200 + (id % 97) * 30, 'ws_message', { direction: 'received', payload: text(JSON.stringify(response)) });
  }
  return lines.join('\n') + '\n';
}

async function startServe() {
  const child = spawn(FRAMESCOPE, ['serve', '--port', '0', '--dist', DIST], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const match = output.match(/Framescope dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (match) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`framescope serve exited ${code}: ${output}`)));
  });
  return { url, stop: () => child.kill('SIGINT') };
}

const wasmFile = readdirSync(DIST).find((name) => name.endsWith('_bg.wasm'));
if (!wasmFile) throw new Error('dist/dashboard has no wasm: run ./dev build first');
const wasmBytes = readFileSync(path.join(DIST, wasmFile));

const dir = mkdtempSync(path.join(tmpdir(), 'framescope-ui-bench-'));
const capturePath = path.join(dir, `bench-${CALLS}.ndjson`);
writeFileSync(capturePath, generateCapture(CALLS));

const server = await startServe();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.addInitScript(() => {
    globalThis.__longTasks = [];
    globalThis.__measuring = false;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (globalThis.__measuring) globalThis.__longTasks.push(entry.duration);
      }
    }).observe({ type: 'longtask', buffered: false });
    addEventListener('TrunkApplicationStarted', (event) => { globalThis.__wasm = event.detail.wasm; });
  });
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="app-shell"]');
  await page.waitForFunction(() => globalThis.framescope && globalThis.__wasm);

  // 1. Import.
  const importStart = Date.now();
  await page.setInputFiles('[data-testid="import-input"]', capturePath);
  await page.waitForSelector('[data-testid="import-done"]', { timeout: 600_000 });
  const importSeconds = (Date.now() - importStart) / 1000;
  const callsShown = await page.textContent('[data-testid="row-count"]');

  // 2. Live frames while scrolling.
  await browser.startTracing(page, { categories: ['devtools.timeline', 'toplevel'] });
  const live = await page.evaluate(async ({ rate, seconds }) => {
    const list = document.querySelector('[data-testid="frame-list"]');
    globalThis.__longTasks = [];
    globalThis.__measuring = true;
    let id = 10_000_000;
    let frames = 0;
    const started = performance.now();
    const text = (value) => ({ encoding: 'text', data: value, size_bytes: value.length });
    const emitter = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * rate) - frames;
      for (let i = 0; i < due; i += 2) {
        id += 1;
        globalThis.framescope.emit({ type: 'ws_message', connection_id: 'live-ws', direction: 'sent',
          payload: text(JSON.stringify({ jsonrpc: '2.0', method: 'live.tick', params: [id], id })) });
        globalThis.framescope.emit({ type: 'ws_message', connection_id: 'live-ws', direction: 'received',
          payload: text(JSON.stringify({ jsonrpc: '2.0', result: id, id })) });
        frames += 2;
      }
    }, 10);
    // Frame times (requestAnimationFrame to requestAnimationFrame) while scrolling.
    const frameTimes = [];
    let lastFrame = performance.now();
    let animating = true;
    const onFrame = (now) => {
      frameTimes.push(now - lastFrame);
      lastFrame = now;
      if (animating) requestAnimationFrame(onFrame);
    };
    requestAnimationFrame(onFrame);
    // Scroll around: up from the bottom, jumps, and back down. A wheel turn first, as a user
    // would, so the table stops following the newest rows.
    list.dispatchEvent(new WheelEvent('wheel', { deltaY: -120, bubbles: true }));
    let step = 0;
    const scroller = setInterval(() => {
      step += 1;
      if (step % 40 === 0) list.scrollTop = Math.random() * list.scrollHeight;
      else list.scrollTop += step % 80 < 40 ? -120 : 120;
    }, 16);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    clearInterval(emitter);
    clearInterval(scroller);
    animating = false;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    globalThis.__measuring = false;
    const elapsed = (performance.now() - started) / 1000;
    return { frames, elapsed, frameTimes, longTasks: globalThis.__longTasks.slice(),
      rowCount: document.querySelector('[data-testid="row-count"]').textContent, rowsInDom: document.querySelectorAll('[data-testid="frame-row"]').length };
  }, { rate: RATE, seconds: SECONDS });

  const trace = JSON.parse((await browser.stopTracing()).toString('utf8'));
  const tasks = mainThreadTasks(trace.traceEvents || trace);

  // 3. Filtering, from the input event to the updated table, against plain JavaScript.
  const filtering = await page.evaluate(async (calls) => {
    const input = document.querySelector('[data-testid="filter-input"]');
    const setFilter = async (value) => {
      const start = performance.now();
      input.value = value;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      // The table re-derives and re-renders in the microtasks after the input event.
      await new Promise((resolve) => setTimeout(resolve, 0));
      return performance.now() - start;
    };
    const queries = ['method:order.*', 'status:error', 'latency>2ms transport:ws', '-method:System.Ping user'];
    const results = {};
    for (const query of queries) {
      const times = [];
      for (let i = 0; i < 5; i += 1) {
        times.push(await setFilter(query));
        times.push(await setFilter(''));
      }
      const filtered = times.filter((_, index) => index % 2 === 0).sort((a, b) => a - b);
      results[query] = { ms: filtered[2], shown: document.querySelector('[data-testid="row-count"]').textContent };
    }
    // Baseline: the same kind of predicate over the same number of plain JS call objects.
    const objects = Array.from({ length: calls }, (_, id) => ({ method: ['user.get', 'order.create', 'System.Ping'][id % 3], outcome: id % 50 ? 'ok' : 'error', latency: id % 4000 }));
    const pattern = /^order\..*$/i;
    const baselineTimes = [];
    let kept = 0;
    for (let i = 0; i < 5; i += 1) {
      const start = performance.now();
      kept += objects.filter((call) => pattern.test(call.method)).length;
      baselineTimes.push(performance.now() - start);
    }
    baselineTimes.sort((a, b) => a - b);
    return { results, baselineMs: baselineTimes[2], baselineKept: kept };
  }, CALLS);

  const memory = await page.evaluate(() => ({
    wasmBytes: globalThis.__wasm.memory.buffer.byteLength,
    jsHeapBytes: performance.memory?.usedJSHeapSize ?? null,
  }));

  const longTasks = live.longTasks;
  const maxLongTask = longTasks.length ? Math.max(...longTasks) : 0;
  const sortedFrames = live.frameTimes.slice().sort((a, b) => a - b);
  const frameQuantile = (q) => sortedFrames.length
    ? Math.round(sortedFrames[Math.min(sortedFrames.length - 1, Math.floor(q * sortedFrames.length))] * 10) / 10
    : null;
  const report = {
    dist: DIST,
    calls_imported: CALLS,
    import_seconds: importSeconds,
    row_count_after_import: callsShown,
    live_frames_per_second: Math.round(live.frames / live.elapsed),
    long_tasks_over_50ms: longTasks.filter((duration) => duration > 50).length,
    longest_task_ms: Math.round(maxLongTask),
    cpu_long_tasks_over_50ms: tasks.filter((task) => task.cpu > 50).length,
    longest_task_cpu_ms: Math.round(Math.max(0, ...tasks.map((task) => task.cpu))),
    main_thread_cpu_share: Math.round((tasks.reduce((sum, task) => sum + task.cpu, 0) / (live.elapsed * 1000)) * 100) / 100,
    load_average_1m: Math.round(loadavg()[0] * 10) / 10,
    rows_in_dom: live.rowsInDom,
    row_count_after_live: live.rowCount,
    frame_ms_p50: frameQuantile(0.5),
    frame_ms_p95: frameQuantile(0.95),
    frame_ms_max: frameQuantile(1),
    frames_painted: sortedFrames.length,
    filter_ms: Object.fromEntries(Object.entries(filtering.results).map(([query, result]) => [query, Math.round(result.ms * 10) / 10])),
    filter_baseline_js_ms: Math.round(filtering.baselineMs * 10) / 10,
    filter_ratio_to_baseline: Object.fromEntries(Object.entries(filtering.results).map(([query, result]) => [query, Math.round((result.ms / filtering.baselineMs) * 10) / 10])),
    wasm_memory_bytes: memory.wasmBytes,
    js_heap_bytes: memory.jsHeapBytes,
    store_cap_bytes: STORE_CAP_BYTES,
    wasm_file: wasmFile,
    wasm_raw_bytes: wasmBytes.length,
    wasm_gzip_bytes: gzipSync(wasmBytes, { level: 9 }).length,
    page_errors: errors,
  };
  console.log(JSON.stringify(report, null, 2));
  const failures = [];
  if (report.long_tasks_over_50ms > 0) failures.push(`${report.long_tasks_over_50ms} long tasks over 50 ms of wall time (longest ${report.longest_task_ms} ms)`);
  if (report.cpu_long_tasks_over_50ms > 0) failures.push(`${report.cpu_long_tasks_over_50ms} tasks over 50 ms of CPU time (longest ${report.longest_task_cpu_ms} ms)`);
  for (const [query, ms] of Object.entries(report.filter_ms)) if (ms >= 100) failures.push(`filter ${query} took ${ms} ms`);
  if (report.wasm_memory_bytes > STORE_CAP_BYTES) failures.push('wasm memory above the store cap');
  if (errors.length) failures.push(`page errors: ${errors.join('; ')}`);
  console.log(failures.length ? `targets missed: ${failures.join('; ')}` : 'all targets met');
} finally {
  await browser.close();
  server.stop();
}
