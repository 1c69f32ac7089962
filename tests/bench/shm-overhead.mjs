// What the in-page hook costs a shared-memory round trip between a page and its worker, in
// headless Chromium on a cross-origin isolated loopback page (tests/e2e/shm-server.mjs):
//
//   node tests/bench/shm-overhead.mjs [--calls 3000] [--rounds 3]
//
// Each round runs the same app code (tests/e2e/shm-app: a seed-style mailbox, the page asks
// with Atomics.store + notify and waits with waitAsync, the worker blocks in Atomics.wait,
// answers, store + notify) in three fresh pages, interleaved so machine load hits them alike:
//   plain       no hook (the baseline);
//   hooked-raw  hook loaded, buffer not registered (Atomics counted per buffer only);
//   hooked      hook loaded, mailbox registered (every request and response read out of
//               the buffer, sent to the page's event stream, decoded by the core).
// It prints the app's own per-call round-trip time (median, p95, mean) per configuration
// and the ratio to the baseline, then the round-trip latency Framescope reports for the
// same calls (`framescope analyze`, REQUEST store to RESPONSE store) next to the one the app
// measured (before its REQUEST store to after it saw RESPONSE).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchBrowser, FRAMESCOPE } from '../e2e/support.mjs';
import { startShmServer } from '../e2e/shm-server.mjs';

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}

const CALLS = option('calls', 3000);
const ROUNDS = option('rounds', 3);
const WARMUP = 300;

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { n: sorted.length, p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), mean };
}

const micros = (ms) => `${(ms * 1000).toFixed(1).padStart(7)} µs`;

const server = await startShmServer();
const browser = await launchBrowser();

async function run(config) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/page?hook=${config === 'plain' ? 0 : 1}`);
  if (!(await page.evaluate(() => globalThis.crossOriginIsolated))) throw new Error('page not cross-origin isolated');
  const outcome = await page.evaluate(async (options) => {
    const result = await globalThis.ShmScenarios.benchRoundTrips(options);
    await new Promise((resolve) => setTimeout(resolve, 500));
    return { ...result, events: options.keepEvents ? globalThis.__events : [], stats: globalThis.framescope ? globalThis.framescope.stats() : null };
  }, { count: CALLS, warmup: WARMUP, register: config === 'hooked', workerKind: 'classic', keepEvents: config === 'hooked' });
  await context.close();
  if (outcome.stats && outcome.stats.dropped > 0) throw new Error(`the hook dropped ${outcome.stats.dropped} events`);
  return outcome;
}

const configs = ['plain', 'hooked-raw', 'hooked'];
const times = Object.fromEntries(configs.map((config) => [config, []]));
let lastHooked = null;
for (let round = 0; round < ROUNDS; round += 1) {
  for (const config of configs) {
    const outcome = await run(config);
    times[config].push(...outcome.times);
    if (config === 'hooked') lastHooked = outcome;
  }
}

console.log(`shared-memory round trips page <-> worker (mailbox, store + notify both ways), ${ROUNDS} rounds x ${CALLS} calls per configuration`);
const base = summary(times.plain);
for (const config of configs) {
  const s = summary(times[config]);
  console.log(`  ${config.padEnd(11)} p50 ${micros(s.p50)}  p95 ${micros(s.p95)}  mean ${micros(s.mean)}  ratio p50 ${(s.p50 / base.p50).toFixed(2)}x  mean ${(s.mean / base.mean).toFixed(2)}x`);
}

// The latency Framescope reports for the last hooked run, from its own capture.
const dir = mkdtempSync(path.join(tmpdir(), 'framescope-shm-bench-'));
const file = path.join(dir, 'capture.ndjson');
writeFileSync(file, lastHooked.events.map((event) => JSON.stringify(event)).join('\n') + '\n');
const report = JSON.parse(execFileSync(FRAMESCOPE, ['analyze', file, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 }));
const calls = report.calls.filter((call) => call.transport === 'shared-memory' && call.method === 'math.add');
const measured = calls.slice(WARMUP).map((call) => call.latency_ms);
const reported = summary(measured);
const own = summary(lastHooked.times);
console.log(`latency of the same ${CALLS} calls (last hooked run): calls captured ${calls.length} of ${CALLS + WARMUP} made`);
console.log(`  app-measured         p50 ${micros(own.p50)}  p95 ${micros(own.p95)}  mean ${micros(own.mean)}`);
console.log(`  Framescope-reported  p50 ${micros(reported.p50)}  p95 ${micros(reported.p95)}  mean ${micros(reported.mean)}  (REQUEST store to RESPONSE store)`);

await browser.close();
await server.close();
