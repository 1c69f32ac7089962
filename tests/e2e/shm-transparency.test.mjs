// Transparency of the shared-memory capture: the same app code over mailboxes, rings and raw
// Atomics, in classic and module workers, gives identical results with and without the hook,
// and edge-case Atomics calls return and throw exactly as the native ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './support.mjs';
import { startShmServer } from './shm-server.mjs';
import { runScenario } from './shm-support.mjs';

let server;
let browser;

before(async () => {
  server = await startShmServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function compare(name, options) {
  const plain = await runScenario(browser, server.url, name, options, { hooked: false });
  const hooked = await runScenario(browser, server.url, name, options, { hooked: true });
  assert.equal(plain.stats, null, 'the plain page has no hook');
  assert.deepEqual(hooked.result, plain.result);
  assert.deepEqual(hooked.pageErrors, plain.pageErrors);
  assert.equal(hooked.stats.internal_errors, 0, hooked.stats.last_internal_error);
  return { plain, hooked };
}

test('mailbox results are identical with and without the hook', async () => {
  const { plain } = await compare('mailboxToWorker', { count: 10, workerKind: 'classic', registerFirst: false });
  assert.equal(plain.result.results.length, 10);
  await compare('mailboxToPage', { count: 8, workerKind: 'module', registerFirst: true });
});

test('ring results are identical with and without the hook', async () => {
  const { plain } = await compare('ringRoundTrips', { count: 25, capacity: 80, pipeline: 2, workerKind: 'classic' });
  assert.equal(plain.result.results[24].id, 25);
});

test('raw Atomics and worker URL resolution are identical with and without the hook', async () => {
  await compare('rawCounter', { count: 100, workerKind: 'module' });
  await compare('relativeFetch', { workerKind: 'classic' });
});

test('edge-case Atomics calls and the Worker constructor behave as the native ones', async () => {
  const { plain, hooked } = await compare('atomicsEdges', {});
  const labels = plain.result.map((row) => row[0]);
  assert.ok(labels.includes('wait-main'));
  // The main thread may not block: the native TypeError, unchanged.
  assert.equal(plain.result.find((row) => row[0] === 'wait-main')[1], 'TypeError');
  assert.equal(hooked.result.find((row) => row[0] === 'store-range')[1], 'RangeError');
});
