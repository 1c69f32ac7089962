// Framescope panel port: the extension panel's connection to the service worker.
//
// Data enters from the service worker (src/background.js) as numbered records of the
// inspected tab (`events` and `navigated`), first a replay of everything it kept, then live.
// Data leaves to the Leptos app through `globalThis.framescopeExtension.subscribe(callback)`:
// the callback receives JSON text in the shapes the dashboard relay uses,
//   {"type":"events","events":[...capture events...]}
//   {"type":"navigated","url":"..."}          (top-level navigation of the inspected tab)
//   {"type":"extension_status","connected":true,"tab_id":N,"reconnects":N,"error":null}
// so the app's bridge treats both sources alike. What the service worker had to drop
// arrives as `dropped` capture events in the stream (counted once, with their reason). Records are acknowledged once delivered to
// the app; when the service worker restarts, the port reconnects and asks only for the
// records after the last one it has, so nothing is shown twice or lost.

const api = globalThis.browser ?? globalThis.chrome;
const PORT_NAME = 'framescope-panel';
const MAX_BACKOFF_MILLIS = 2_000;

/** The tab this panel inspects: DevTools' inspected tab, or `?tabId=N` outside DevTools. */
function inspectedTabId() {
  const fromDevtools = api?.devtools?.inspectedWindow?.tabId;
  if (Number.isSafeInteger(fromDevtools)) return fromDevtools;
  const fromUrl = Number(new URLSearchParams(location.search).get('tabId'));
  return Number.isSafeInteger(fromUrl) && fromUrl >= 0 ? fromUrl : null;
}

const tabId = inspectedTabId();
const subscribers = new Set();
/** Messages received before the app subscribed; delivered, in order, on subscribe. */
const backlog = [];
let port = null;
let lastReceivedSeq = 0;
let lastDeliveredSeq = 0;
let receivedEvents = 0;
let reconnects = 0;
let backoffMillis = 50;
let stopped = false;
let error = tabId === null ? 'no tab to inspect: open this page from DevTools or with ?tabId=N' : null;

function deliver(text, seq) {
  if (subscribers.size === 0) {
    backlog.push([text, seq]);
    return;
  }
  for (const callback of subscribers) {
    try {
      callback(text);
    } catch (failure) {
      console.error('framescope: panel subscriber failed', failure);
    }
  }
  if (seq > lastDeliveredSeq) lastDeliveredSeq = seq;
}

function acknowledge() {
  if (port && lastDeliveredSeq > 0) port.postMessage({ type: 'ack', seq: lastDeliveredSeq });
}

function status() {
  deliver(
    JSON.stringify({
      type: 'extension_status',
      connected: port !== null,
      tab_id: tabId,
      reconnects,
      error,
    }),
    0,
  );
}

function onMessage(message) {
  if (message?.type !== 'records' || !Array.isArray(message.records)) return;
  backoffMillis = 50;
  let events = [];
  let eventsSeq = 0;
  const flush = () => {
    if (events.length === 0) return;
    receivedEvents += events.length;
    deliver(JSON.stringify({ type: 'events', events }), eventsSeq);
    events = [];
  };
  for (const record of message.records) {
    if (!Number.isSafeInteger(record?.seq) || record.seq <= lastReceivedSeq) continue;
    lastReceivedSeq = record.seq;
    if (record.kind === 'events' && Array.isArray(record.events)) {
      events.push(...record.events);
      eventsSeq = record.seq;
    } else if (record.kind === 'navigated') {
      flush();
      deliver(JSON.stringify({ type: 'navigated', url: String(record.url ?? '') }), record.seq);
    }
  }
  flush();
  if (message.replay) status();
  acknowledge();
}

function connect() {
  if (stopped || tabId === null) return;
  try {
    port = api.runtime.connect({ name: PORT_NAME });
  } catch (failure) {
    // The extension was reloaded or removed: this page can no longer reach it.
    stopped = true;
    port = null;
    error = `extension context gone: ${failure?.message ?? failure}`;
    status();
    return;
  }
  port.onMessage.addListener(onMessage);
  port.onDisconnect.addListener(() => {
    port = null;
    reconnects += 1;
    status();
    // The service worker restarted (or is restarting): ask again for what came after.
    setTimeout(connect, backoffMillis);
    backoffMillis = Math.min(backoffMillis * 2, MAX_BACKOFF_MILLIS);
  });
  port.postMessage({ type: 'hello', tabId, afterSeq: lastReceivedSeq });
}

globalThis.framescopeExtension = Object.freeze({
  /** The inspected tab's id, or null when there is none. */
  tabId,
  /** Calls `callback(jsonText)` for every message; returns a function that unsubscribes. */
  subscribe(callback) {
    subscribers.add(callback);
    for (const [text, seq] of backlog.splice(0)) deliver(text, seq);
    acknowledge();
    return () => subscribers.delete(callback);
  },
  /** Counters for people and tests: what this panel received and delivered. */
  stats() {
    return {
      tabId,
      connected: port !== null,
      lastReceivedSeq,
      lastDeliveredSeq,
      receivedEvents,
      reconnects,
      error,
    };
  },
});

connect();
if (tabId === null) status();
