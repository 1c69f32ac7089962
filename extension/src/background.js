// Framescope service worker (Chromium) / background script (Firefox).
//
// Data enters from two sides:
//   - relays (src/relay.js, one per frame) send numbered batches of capture events on
//     `framescope-relay` ports; each batch is stored, then acknowledged;
//   - chrome.webRequest reports CORS preflights (OPTIONS) with their real request and
//     response headers (`extraHeaders`), which the page itself can never see; they become
//     `cors_preflight` capture events (docs/capture-events.md).
// Data leaves to panels (src/panel-port.js) on `framescope-panel` ports: a panel says which
// tab it inspects and the last record it has; it gets every later record of that tab, then
// live ones. Records are kept per tab in storage.session, bounded, so events that arrive
// before the panel opens are not lost (or, past the bound, are counted as dropped and shown),
// a navigation does not clear them (the panel decides whether to preserve the log), and a
// service-worker restart loses nothing that was acknowledged.
'use strict';

const api = globalThis.browser ?? globalThis.chrome;

const RELAY_PORT = 'framescope-relay';
const PANEL_PORT = 'framescope-panel';
/** Serialized bytes kept per tab; the oldest records go first past this. */
const MAX_TAB_BYTES = 3 * 1024 * 1024;
/** Records kept per tab. */
const MAX_TAB_RECORDS = 4_000;
/** Serialized bytes kept over all tabs, under storage.session's 10 MiB quota. */
const MAX_TOTAL_BYTES = 8 * 1024 * 1024;
/** Relay ids remembered per tab for de-duplicating resent batches. */
const MAX_RELAYS_PER_TAB = 64;
/** How long a preflight waits for its document's session id before it is stored without. */
const PREFLIGHT_SESSION_WAIT_MILLIS = 3_000;

/**
 * One tab's log. `records` are `{seq, kind: 'events' | 'navigated', events?, url?, bytes}`,
 * in seq order. `deliveredSeq` is the highest seq a panel acknowledged: records evicted
 * above it were never shown, so their events count as dropped.
 */
function newTab() {
  return {
    nextSeq: 1,
    records: [],
    bytes: 0,
    deliveredSeq: 0,
    droppedTotal: 0,
    relays: {},
    documentSessions: {},
  };
}

/** @type {Map<number, ReturnType<typeof newTab>>} */
const tabs = new Map();
/** @type {Map<number, Set<object>>} panel ports by inspected tab id */
const panels = new Map();

const metaKey = (tabId) => `tab:${tabId}`;
const recordKey = (tabId, seq) => `rec:${tabId}:${seq}`;

// Every state change runs through this one queue, so stores and acknowledgements keep order.
let queue = Promise.resolve();
function serial(task) {
  queue = queue.then(task).catch((error) => console.error('framescope: background task failed', error));
  return queue;
}

// A restarted worker reloads what the previous one stored before handling anything.
serial(async () => {
  const stored = await api.storage.session.get(null);
  for (const [key, value] of Object.entries(stored)) {
    if (!key.startsWith('tab:')) continue;
    const tabId = Number(key.slice(4));
    const tab = { ...newTab(), ...value, records: [], bytes: 0 };
    for (const seq of value.seqs ?? []) {
      const record = stored[recordKey(tabId, seq)];
      if (!record) continue;
      tab.records.push(record);
      tab.bytes += record.bytes;
    }
    tabs.set(tabId, tab);
  }
});

function tabFor(tabId) {
  let tab = tabs.get(tabId);
  if (!tab) {
    tab = newTab();
    tabs.set(tabId, tab);
  }
  return tab;
}

function meta(tab) {
  return {
    nextSeq: tab.nextSeq,
    seqs: tab.records.map((record) => record.seq),
    deliveredSeq: tab.deliveredSeq,
    droppedTotal: tab.droppedTotal,
    relays: tab.relays,
    documentSessions: tab.documentSessions,
  };
}

function nowMicros() {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

function droppedEvent(count, reason) {
  return { v: 1, session_id: '', connection_id: '', time_micros: nowMicros(), type: 'dropped', count, reason };
}

/**
 * Events a record stands for when it is evicted unseen: its own events, plus the counts its
 * `dropped` events carry (those move on to the new `dropped` event, so none is lost).
 * `fresh` counts only the record's own events.
 */
function eventCount(record) {
  if (record.kind !== 'events') return { total: 0, fresh: 0 };
  let total = 0;
  let fresh = 0;
  for (const event of record.events) {
    if (event?.type === 'dropped') total += Number(event.count) || 0;
    else {
      total += 1;
      fresh += 1;
    }
  }
  return { total, fresh };
}

/**
 * Appends records to a tab, evicts past the bounds, stores the change and forwards the new
 * records to the tab's panels. Resolves once storage accepted the change.
 */
async function append(tabId, newRecords) {
  const tab = tabFor(tabId);
  const added = [];
  for (const record of newRecords) {
    const full = { ...record, seq: tab.nextSeq++ };
    full.bytes = JSON.stringify(full).length;
    tab.records.push(full);
    tab.bytes += full.bytes;
    added.push(full);
  }
  const removedKeys = evict(tabId, tab);
  const changes = { [metaKey(tabId)]: meta(tab) };
  const kept = added.filter((record) => tab.records.includes(record));
  for (const record of kept) changes[recordKey(tabId, record.seq)] = record;
  try {
    await store(changes, removedKeys);
  } catch (error) {
    // storage.session refused the change (its quota is shared with nothing else, but the
    // byte estimate is JSON length): the new records are not kept, and say so visibly.
    let lost = 0;
    let fresh = 0;
    for (const record of kept) {
      const index = tab.records.indexOf(record);
      if (index >= 0) tab.records.splice(index, 1);
      tab.bytes -= record.bytes;
      lost += eventCount(record).total;
      fresh += eventCount(record).fresh;
    }
    if (lost > 0) noteDropped(tabId, tab, lost, `extension storage refused them (${error?.message ?? error})`, fresh);
    await store({ [metaKey(tabId)]: meta(tab) }, []).catch((again) => console.error('framescope: storage failed', again));
    return;
  }
  forward(tabId, kept);
}

/** Evicts the oldest records of `tab` (and of the largest tabs, for the global bound). */
function evict(tabId, tab) {
  const removedKeys = [];
  /** @type {Map<number, number>} events evicted before any panel saw them, by tab */
  const unseen = new Map();
  const dropOldest = (id, from) => {
    const oldest = from.records.shift();
    from.bytes -= oldest.bytes;
    removedKeys.push(recordKey(id, oldest.seq));
    if (oldest.seq > from.deliveredSeq) {
      const counts = eventCount(oldest);
      const sum = unseen.get(id) ?? { total: 0, fresh: 0 };
      unseen.set(id, { total: sum.total + counts.total, fresh: sum.fresh + counts.fresh });
    }
    return oldest.bytes;
  };
  while (tab.records.length > 1 && (tab.bytes > MAX_TAB_BYTES || tab.records.length > MAX_TAB_RECORDS)) {
    dropOldest(tabId, tab);
  }
  let total = 0;
  for (const other of tabs.values()) total += other.bytes;
  while (total > MAX_TOTAL_BYTES) {
    let largestId = tabId;
    for (const [id, other] of tabs) if (other.bytes > tabs.get(largestId).bytes) largestId = id;
    const largest = tabs.get(largestId);
    if (largest.records.length <= 1) break;
    total -= dropOldest(largestId, largest);
  }
  for (const [id, count] of unseen) {
    if (count.total > 0) noteDropped(id, tabs.get(id), count.total, undefined, count.fresh);
  }
  return removedKeys;
}

// The count becomes a `dropped` event at the end of the log, so any panel, now or later,
// shows it; the record is small, so the eviction that caused it does not remove it again.
function noteDropped(
  tabId,
  tab,
  count,
  reason = 'extension buffer full before the panel read these events',
  fresh = count,
) {
  tab.droppedTotal += fresh;
  const record = {
    kind: 'events',
    events: [droppedEvent(count, reason)],
    seq: tab.nextSeq++,
  };
  record.bytes = JSON.stringify(record).length;
  tab.records.push(record);
  tab.bytes += record.bytes;
  droppedRecords.push([tabId, record]);
}
/** Drop records made by `evict`, stored and forwarded with the next change. */
const droppedRecords = [];

async function store(changes, removedKeys) {
  const dropped = droppedRecords.splice(0);
  for (const [tabId, record] of dropped) {
    changes[recordKey(tabId, record.seq)] = record;
    changes[metaKey(tabId)] = meta(tabs.get(tabId));
  }
  if (removedKeys.length > 0) await api.storage.session.remove(removedKeys);
  await api.storage.session.set(changes);
  for (const [tabId, record] of dropped) forward(tabId, [record]);
}

function forward(tabId, records) {
  if (records.length === 0) return;
  for (const port of panels.get(tabId) ?? []) send(port, { type: 'records', records: records.map(wire) });
}

function wire(record) {
  return record.kind === 'navigated'
    ? { seq: record.seq, kind: 'navigated', url: record.url }
    : { seq: record.seq, kind: 'events', events: record.events };
}

function send(port, message) {
  try {
    port.postMessage(message);
  } catch {
    // The panel closed; its onDisconnect cleans up.
  }
}

// ---- relays ----------------------------------------------------------------------------

/** Preflights waiting for their document's session id, by `tabId:documentId`. */
const waitingPreflights = new Map();

function onRelayMessage(port, message) {
  const tabId = port.sender?.tab?.id;
  if (typeof tabId !== 'number' || tabId < 0 || typeof message !== 'object' || message === null) return;
  if (typeof message.relayId !== 'string') return;
  serial(async () => {
    const tab = tabFor(tabId);
    if (message.type === 'hello') {
      const known = message.relayId in tab.relays;
      if (!known) rememberRelay(tab, message.relayId);
      if (!known && message.top === true && port.sender.frameId === 0 && typeof message.url === 'string') {
        await append(tabId, [{ kind: 'navigated', url: message.url }]);
      } else {
        await store({ [metaKey(tabId)]: meta(tab) }, []);
      }
      return;
    }
    if (message.type !== 'batch' || !Number.isSafeInteger(message.seq)) return;
    const last = tab.relays[message.relayId] ?? 0;
    if (message.seq > last) {
      const events = Array.isArray(message.events)
        ? message.events.filter((event) => typeof event === 'object' && event !== null)
        : [];
      const dropped = Number.isSafeInteger(message.dropped) && message.dropped > 0 ? message.dropped : 0;
      if (dropped > 0) events.unshift(droppedEvent(dropped, 'extension relay queue full'));
      rememberRelay(tab, message.relayId, message.seq);
      const documentKey = documentKeyOf(port.sender);
      const session = events.find((event) => typeof event.session_id === 'string' && event.session_id)?.session_id;
      if (session && documentKey) tab.documentSessions[documentKey] = session;
      const records = events.length > 0 ? [{ kind: 'events', events }] : [];
      const preflights = session && documentKey ? takeWaitingPreflights(tabId, documentKey, session) : [];
      if (preflights.length > 0) records.push({ kind: 'events', events: preflights });
      await append(tabId, records);
    }
    // Stored (or a resend of something stored): the relay may forget the batch.
    try {
      port.postMessage({ type: 'ack', seq: message.seq });
    } catch {
      // The relay's document is gone; nothing waits for this acknowledgement.
    }
  });
}

function rememberRelay(tab, relayId, seq = 0) {
  delete tab.relays[relayId];
  tab.relays[relayId] = seq;
  const ids = Object.keys(tab.relays);
  for (const id of ids.slice(0, Math.max(0, ids.length - MAX_RELAYS_PER_TAB))) delete tab.relays[id];
  const documents = Object.keys(tab.documentSessions);
  for (const key of documents.slice(0, Math.max(0, documents.length - MAX_RELAYS_PER_TAB))) {
    delete tab.documentSessions[key];
  }
}

/** Chromium names each document; Firefox has only frame ids, which we fall back to. */
function documentKeyOf(source) {
  if (typeof source?.documentId === 'string') return `doc:${source.documentId}`;
  if (typeof source?.frameId === 'number') return `frame:${source.frameId}`;
  return null;
}

function takeWaitingPreflights(tabId, documentKey, session) {
  const key = `${tabId}|${documentKey}`;
  const waiting = waitingPreflights.get(key);
  if (!waiting) return [];
  waitingPreflights.delete(key);
  clearTimeout(waiting.timer);
  return waiting.events.map((event) => ({ ...event, session_id: session }));
}

// ---- panels ----------------------------------------------------------------------------

function onPanelMessage(port, message) {
  if (typeof message !== 'object' || message === null) return;
  serial(async () => {
    if (message.type === 'hello' && Number.isSafeInteger(message.tabId)) {
      port.framescopeTabId = message.tabId;
      let set = panels.get(message.tabId);
      if (!set) panels.set(message.tabId, (set = new Set()));
      set.add(port);
      const tab = tabFor(message.tabId);
      const afterSeq = Number.isSafeInteger(message.afterSeq) ? message.afterSeq : 0;
      const records = tab.records.filter((record) => record.seq > afterSeq).map(wire);
      send(port, {
        type: 'records',
        records,
        replay: true,
        oldestSeq: tab.records[0]?.seq ?? tab.nextSeq,
      });
      return;
    }
    if (message.type === 'ack' && Number.isSafeInteger(message.seq)) {
      const tab = tabs.get(port.framescopeTabId);
      if (tab && message.seq > tab.deliveredSeq) {
        tab.deliveredSeq = message.seq;
        await store({ [metaKey(port.framescopeTabId)]: meta(tab) }, []);
      }
    }
  });
}

api.runtime.onConnect.addListener((port) => {
  if (port.name === RELAY_PORT) {
    port.onMessage.addListener((message) => onRelayMessage(port, message));
  } else if (port.name === PANEL_PORT) {
    port.onMessage.addListener((message) => onPanelMessage(port, message));
    port.onDisconnect.addListener(() => panels.get(port.framescopeTabId)?.delete(port));
  }
});

api.tabs.onRemoved.addListener((tabId) => {
  serial(async () => {
    const tab = tabs.get(tabId);
    if (!tab) return;
    tabs.delete(tabId);
    await api.storage.session.remove([metaKey(tabId), ...tab.records.map((record) => recordKey(tabId, record.seq))]);
  });
});

// ---- CORS preflights seen by the browser -----------------------------------------------

/** Preflights between their request and their response, by webRequest request id. */
const preflights = new Map();

function headerList(headers) {
  return (headers ?? []).map((header) => [
    header.name,
    header.value ?? new TextDecoder().decode(new Uint8Array(header.binaryValue ?? [])),
  ]);
}

function hasHeader(list, name) {
  return list.some(([headerName]) => headerName.toLowerCase() === name);
}

function specWith(base) {
  // `extraHeaders` exposes Origin and the Access-Control-* headers in Chromium; Firefox shows
  // them without it and rejects the unknown option.
  const extra = api.webRequest.OnSendHeadersOptions?.EXTRA_HEADERS;
  return extra ? [...base, extra] : base;
}

function onPreflightSent(details) {
  if (details.method !== 'OPTIONS' || details.tabId < 0) return;
  const requestHeaders = headerList(details.requestHeaders);
  if (!hasHeader(requestHeaders, 'access-control-request-method')) return;
  preflights.set(details.requestId, {
    tabId: details.tabId,
    documentId: details.documentId,
    frameId: details.frameId,
    url: details.url,
    initiator: details.initiator ?? details.originUrl ?? null,
    time_micros: Math.round(details.timeStamp * 1000),
    request_headers: requestHeaders,
  });
}

function onPreflightEnded(details, outcome) {
  const started = preflights.get(details.requestId);
  if (!started) return;
  preflights.delete(details.requestId);
  const event = {
    v: 1,
    session_id: '',
    connection_id: `webrequest-${details.requestId}`,
    time_micros: started.time_micros,
    type: 'cors_preflight',
    url: started.url,
    initiator: started.initiator,
    request_headers: started.request_headers,
    status: outcome.status ?? null,
    response_headers: outcome.responseHeaders ?? [],
    error: outcome.error ?? null,
    ended_micros: Math.round(details.timeStamp * 1000),
  };
  serial(() => storePreflight(started, event));
}

async function storePreflight(started, event) {
  const tab = tabFor(started.tabId);
  const documentKey = documentKeyOf(started);
  const session = documentKey ? tab.documentSessions[documentKey] : undefined;
  if (session) {
    await append(started.tabId, [{ kind: 'events', events: [{ ...event, session_id: session }] }]);
    return;
  }
  // The preflight can beat the hook's first batch of a new document: wait for its session.
  const key = `${started.tabId}|${documentKey}`;
  let waiting = waitingPreflights.get(key);
  if (!waiting) {
    waiting = { events: [], timer: null };
    waitingPreflights.set(key, waiting);
    waiting.timer = setTimeout(() => {
      waitingPreflights.delete(key);
      serial(() => append(started.tabId, [{ kind: 'events', events: waiting.events }]));
    }, PREFLIGHT_SESSION_WAIT_MILLIS);
  }
  waiting.events.push(event);
}

const everyUrl = { urls: ['<all_urls>'] };
api.webRequest.onSendHeaders.addListener(onPreflightSent, everyUrl, specWith(['requestHeaders']));
api.webRequest.onHeadersReceived.addListener(
  (details) => {
    if (!preflights.has(details.requestId)) return;
    onPreflightEnded(details, {
      status: details.statusCode,
      responseHeaders: headerList(details.responseHeaders),
    });
  },
  everyUrl,
  specWith(['responseHeaders']),
);
api.webRequest.onErrorOccurred.addListener(
  (details) => onPreflightEnded(details, { error: details.error }),
  everyUrl,
);
