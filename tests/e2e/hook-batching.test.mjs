// How the in-page hook hands out what it captured: a backlog is delivered in bounded slices
// with the page's own tasks running in between, WebSocket messages (queued raw and built at
// flush time) keep their content even when the app changes or transfers its buffers, the
// body cap applies to them, their timestamps are taken on the message path, and the arrays
// and events handed out stay as they were while the hook reuses its message entries and
// queue storage for later messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useHookServerAndBrowser } from './hook-fixture.mjs';

const fixture = useHookServerAndBrowser();

test('a 20,000-message backlog is delivered complete and in order, in slices of at most 500 events, with page tasks running between them', async () => {
  const { page, errors, close } = await fixture.openPage('hook=1');
  const result = await page.evaluate(async ({ origin }) => {
    const socket = new WebSocket(origin.replace('http', 'ws') + '/ws/echo');
    await new Promise((resolve) => { socket.onopen = resolve; });
    let received = 0;
    const allEchoed = new Promise((resolve) => {
      socket.onmessage = () => { received += 1; if (received === 20000) resolve(); };
    });
    // The page's own work: a zero-delay timer chain counting how often it got to run.
    let pageTicks = 0;
    let ticking = true;
    const tick = () => { pageTicks += 1; if (ticking) setTimeout(tick, 0); };
    setTimeout(tick, 0);
    const batches = [];
    const sent = [];
    const slicesBefore = framescope.stats().flush_slices;
    framescope.subscribe((batch) => {
      batches.push({ size: batch.length, pageTicks });
      for (const event of batch) if (event.type === 'ws_message' && event.direction === 'sent') sent.push(event.payload.data);
    });
    // Everything is queued synchronously before the first batch can run.
    for (let i = 0; i < 20000; i++) socket.send(`n-${i}`);
    await allEchoed;
    await new Promise((resolve) => setTimeout(resolve, 300));
    ticking = false;
    socket.close();
    return { batches, sent, received, stats: framescope.stats(), slices: framescope.stats().flush_slices - slicesBefore };
  }, { origin: fixture.server.origin });
  assert.equal(result.received, 20000);
  assert.equal(result.stats.dropped, 0);
  assert.equal(result.sent.length, 20000);
  assert.deepEqual(result.sent, Array.from({ length: 20000 }, (_, i) => `n-${i}`));
  // 40,000 messages (plus connect/open) cannot fit fewer than 80 slices of 500.
  assert.ok(result.batches.length >= 80, `${result.batches.length} batches`);
  assert.ok(result.slices >= result.batches.length, `${result.slices} slices for ${result.batches.length} batches`);
  assert.ok(result.batches.every((batch) => batch.size <= 500), `largest batch ${Math.max(...result.batches.map((b) => b.size))}`);
  // The page's zero-delay timers ran while the backlog was being delivered.
  const firstSentBatch = result.batches[0];
  const lastBatch = result.batches.at(-1);
  assert.ok(lastBatch.pageTicks > firstSentBatch.pageTicks, `page ticks ${firstSentBatch.pageTicks} -> ${lastBatch.pageTicks}`);
  assert.deepEqual(errors, []);
  await close();
});

test('binary messages keep the bytes they had when sent or received, even when the app overwrites or transfers the buffer', async () => {
  const { page, errors, close } = await fixture.openPage('hook=1');
  const result = await page.evaluate(async ({ origin }) => {
    const events = [];
    framescope.subscribe((batch) => events.push(...batch));
    const socket = new WebSocket(origin.replace('http', 'ws') + '/ws/echo');
    socket.binaryType = 'arraybuffer';
    await new Promise((resolve) => { socket.onopen = resolve; });
    const seen = [];
    const echoed = new Promise((resolve) => {
      socket.onmessage = (message) => {
        const view = new Uint8Array(message.data);
        seen.push(Array.from(view));
        view.fill(0xff); // The app reuses the received buffer...
        if (seen.length === 1) structuredClone(message.data, { transfer: [message.data] }); // ...or hands it away.
        if (seen.length === 2) resolve();
      };
    });
    const first = new Uint8Array([1, 2, 3, 4]);
    socket.send(first);
    first.fill(0); // The app reuses its send buffer at once.
    const second = new Uint8Array([9, 8, 7, 6, 5]);
    socket.send(second.subarray(1, 4));
    second.fill(0);
    await echoed;
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.close();
    return { seen, messages: events.filter((event) => event.type === 'ws_message') };
  }, { origin: fixture.server.origin });
  assert.deepEqual(result.seen, [[1, 2, 3, 4], [8, 7, 6]]);
  const bytes = (event) => Array.from(Buffer.from(event.payload.data, 'base64'));
  assert.deepEqual(result.messages.map((event) => [event.direction, event.payload.encoding, event.payload.size_bytes, bytes(event)]), [
    ['sent', 'base64', 4, [1, 2, 3, 4]],
    ['sent', 'base64', 3, [8, 7, 6]],
    ['received', 'base64', 4, [1, 2, 3, 4]],
    ['received', 'base64', 3, [8, 7, 6]],
  ]);
  assert.deepEqual(errors, []);
  await close();
});

test('the body cap applies to WebSocket messages in UTF-8 bytes, and message times fall between the page clock readings around them', async () => {
  const { page, errors, close } = await fixture.openPage('hook=1');
  const result = await page.evaluate(async ({ origin }) => {
    const events = [];
    framescope.subscribe((batch) => events.push(...batch));
    framescope.configure({ maxBodyBytes: 10 });
    const socket = new WebSocket(origin.replace('http', 'ws') + '/ws/echo');
    socket.binaryType = 'arraybuffer';
    await new Promise((resolve) => { socket.onopen = resolve; });
    const echoed = new Promise((resolve) => {
      let count = 0;
      socket.onmessage = () => { count += 1; if (count === 3) resolve(); };
    });
    const clock = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
    const before = clock();
    socket.send('héllo wörld ✓✓'); // 20 UTF-8 bytes
    socket.send('short');
    socket.send(new Uint8Array(Array.from({ length: 25 }, (_, i) => i)));
    const afterSend = clock();
    await echoed;
    const afterEcho = clock();
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.close();
    framescope.configure({ maxBodyBytes: 65536 });
    return { before, afterSend, afterEcho, messages: events.filter((event) => event.type === 'ws_message') };
  }, { origin: fixture.server.origin });
  const summary = result.messages.map((event) => [event.direction, event.payload.data, event.payload.size_bytes, event.payload.truncated]);
  const bytes = Buffer.from(Array.from({ length: 10 }, (_, i) => i)).toString('base64');
  assert.deepEqual(summary, [
    ['sent', 'héllo wö', 20, true],
    ['sent', 'short', 5, false],
    ['sent', bytes, 25, true],
    ['received', 'héllo wö', 20, true],
    ['received', 'short', 5, false],
    ['received', bytes, 25, true],
  ]);
  // Clock readings are coarsened to 100 us in a page that is not cross-origin isolated.
  const slack = 200;
  for (const event of result.messages.filter((e) => e.direction === 'sent')) {
    assert.ok(event.time_micros >= result.before - slack && event.time_micros <= result.afterSend + slack, `sent at ${event.time_micros}`);
  }
  for (const event of result.messages.filter((e) => e.direction === 'received')) {
    assert.ok(event.time_micros >= result.before - slack && event.time_micros <= result.afterEcho + slack, `received at ${event.time_micros}`);
  }
  assert.deepEqual(errors, []);
  await close();
});

test('batches a subscriber keeps stay intact while later messages reuse the hook entries and queue storage; each event names its own socket', async () => {
  const { page, errors, close } = await fixture.openPage('hook=1');
  const result = await page.evaluate(async ({ origin }) => {
    const kept = [];
    framescope.subscribe((batch) => kept.push({ batch, atDelivery: JSON.stringify(batch) }));
    const open = async () => {
      const socket = new WebSocket(origin.replace('http', 'ws') + '/ws/echo');
      await new Promise((resolve) => { socket.onopen = resolve; });
      return socket;
    };
    const sockets = [await open(), await open()];
    // Rounds of interleaved sends on two sockets: small rounds that the entry pool covers
    // and one of 3,000 that outgrows it, each echoed back (received messages too).
    let echoes = 0;
    let expected = 0;
    let wake = () => {};
    for (const socket of sockets) socket.onmessage = () => { echoes += 1; if (echoes === expected) wake(); };
    for (const [round, perSocket] of [[0, 50], [1, 50], [2, 3000], [3, 50], [4, 50]]) {
      expected += perSocket * 2;
      const echoed = new Promise((resolve) => { wake = resolve; });
      for (let i = 0; i < perSocket; i++) {
        sockets[0].send(`a-${round}-${i}`);
        sockets[1].send(`b-${round}-${i}`);
      }
      await echoed;
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    for (const socket of sockets) socket.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const batches = kept.map((k) => k.batch);
    const events = batches.flat();
    const messages = events.filter((event) => event.type === 'ws_message');
    const ids = events.filter((event) => event.type === 'ws_connect').map((event) => event.connection_id);
    return {
      changedAfterDelivery: kept.filter((k) => JSON.stringify(k.batch) !== k.atDelivery).length,
      distinctArrays: new Set(batches).size,
      arrays: batches.length,
      distinctEvents: new Set(events).size,
      events: events.length,
      wrongSocket: messages.filter((event) => event.connection_id !== ids[event.payload.data.startsWith('a-') ? 0 : 1]).length,
      perSocket: ids.map((id) => messages.filter((event) => event.connection_id === id)
        .map((event) => [event.direction, event.payload.data, event.time_micros])),
      stats: framescope.stats(),
    };
  }, { origin: fixture.server.origin });
  assert.equal(result.changedAfterDelivery, 0, 'a delivered batch changed afterwards');
  assert.equal(result.distinctArrays, result.arrays, 'two deliveries shared one array');
  assert.equal(result.distinctEvents, result.events, 'an event object was handed out twice');
  assert.equal(result.wrongSocket, 0);
  assert.equal(result.stats.dropped, 0);
  for (const [index, prefix] of ['a', 'b'].entries()) {
    const texts = [];
    for (const [round, perSocket] of [[0, 50], [1, 50], [2, 3000], [3, 50], [4, 50]]) {
      for (let i = 0; i < perSocket; i++) texts.push(`${prefix}-${round}-${i}`);
    }
    const list = result.perSocket[index];
    assert.deepEqual(list.filter(([direction]) => direction === 'sent').map(([, data]) => data), texts);
    assert.deepEqual(list.filter(([direction]) => direction === 'received').map(([, data]) => data), texts);
    // In capture order, the times of one connection never go backwards.
    const times = list.map(([, , time]) => time);
    assert.ok(times.every((time, i) => i === 0 || time >= times[i - 1]), `${prefix}: times go backwards`);
  }
  assert.deepEqual(errors, []);
  await close();
});
