// Filtering 100,000 calls in WebAssembly (V8, the engine of the dashboard and the devtools
// panel): inspector-core's filter compiled to wasm32 by tests/bench/filter-wasm/, timed
// against a hand-written predicate measured in the same run.
//
//   node tests/bench/filter-wasm.mjs
//
// Prints the median time per pass over 100,000 calls for each case and the ratio to the
// baseline. The payload case searches free text in each call's request and response payload
// text through `Query::matches_call_with_payloads`, as the dashboard's filter box does, against
// a hand-written `str::contains` baseline. Target: well under 100 ms per pass for any query.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const targetDir = join(root, 'target', 'filter-wasm');
execFileSync('cargo', [
  'build', '--release', '--target', 'wasm32-unknown-unknown',
  '--manifest-path', join(root, 'tests/bench/filter-wasm/Cargo.toml'),
  '--target-dir', targetDir,
], { stdio: 'inherit' });

const bytes = readFileSync(join(targetDir, 'wasm32-unknown-unknown/release/framescope_filter_wasm_bench.wasm'));
const module = await WebAssembly.compile(bytes);
const imports = WebAssembly.Module.imports(module);
if (imports.length > 0) {
  throw new Error(`the benchmark module must not import anything: ${JSON.stringify(imports)}`);
}
const { exports } = await WebAssembly.instantiate(module, {});

const CALLS = 100_000;
if (exports.setup(CALLS) !== 0) throw new Error('a benchmark query did not parse');

// The cases run interleaved, pass after pass, so that load from other processes on the
// machine affects them alike and the ratios stay meaningful.
function medians(cases, passes) {
  for (let i = 0; i < 3; i += 1) for (const run of Object.values(cases)) run(); // JIT warm-up
  const times = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  const results = {};
  for (let i = 0; i < passes; i += 1) {
    for (const [name, run] of Object.entries(cases)) {
      const start = performance.now();
      results[name] = run();
      times[name].push(performance.now() - start);
    }
  }
  return Object.fromEntries(Object.keys(cases).map((name) => {
    const sorted = times[name].sort((a, b) => a - b);
    return [name, { ms: sorted[Math.floor(sorted.length / 2)], result: results[name] }];
  }));
}

const passes = 31;
const { baseline, structured, complex, payloadBaseline, payload } = medians({
  baseline: () => exports.run_baseline(),
  structured: () => exports.run_structured(),
  complex: () => exports.run_complex(),
  payloadBaseline: () => exports.run_payload_baseline(),
  payload: () => exports.run_payload(),
}, passes);
if (baseline.result !== structured.result) {
  throw new Error(`query and baseline disagree: ${structured.result} vs ${baseline.result}`);
}
if (payloadBaseline.result !== payload.result || payload.result === 0) {
  throw new Error(`payload query and its baseline disagree: ${payload.result} vs ${payloadBaseline.result}`);
}
const parses = 1_000;
const { parse } = medians({ parse: () => exports.run_parse(parses) }, 5);

const row = (name, { ms, result }) =>
  `${name.padEnd(44)} ${ms.toFixed(2).padStart(8)} ms  ${(ms / baseline.ms).toFixed(2).padStart(6)}x baseline  (${result} matched)`;
console.log(`filter in wasm, ${CALLS} calls, median of ${passes} passes`);
console.log(row('baseline: hand-written predicate', baseline));
console.log(row('method:User.* transport:ws latency>100ms', structured));
console.log(row('groups, OR, negation, free text, glob', complex));
const payloadRow = (name, { ms, result }) =>
  `${name.padEnd(44)} ${ms.toFixed(2).padStart(8)} ms  ${(ms / payloadBaseline.ms).toFixed(2).padStart(6)}x payload baseline  (${result} matched)`;
console.log(payloadRow('payload baseline: str::contains by hand', payloadBaseline));
console.log(payloadRow('-method:Session.* "user-42" (payload text)', payload));
console.log(`parse the complex query                      ${(parse.ms * 1000 / parses).toFixed(2).padStart(8)} µs each`);
const worst = Math.max(structured.ms, complex.ms, payload.ms);
if (worst >= 100) {
  console.error(`FAIL: a query took ${worst.toFixed(1)} ms for ${CALLS} calls (target: well under 100 ms)`);
  process.exitCode = 1;
}
