// Framescope relay: the isolated-world content script between the in-page hook and the
// extension's service worker.
//
// Data enters from the hook (MAIN world) through a MessageChannel port that this script
// creates and hands over synchronously at document_start, before any page script runs (the
// manifest lists the hook first, and browsers inject content scripts in that order): the hook
// keeps the port in a closure, so page script can neither read it nor write into it,
// and this script never listens to window messages at all (forged ones have nowhere to go).
// Data leaves as numbered batches on a runtime port to the service worker, which
// acknowledges each batch once it is stored; unacknowledged batches are kept (bounded) and
// sent again when the port reconnects after a service-worker restart.
(() => {
  'use strict';

  const api = globalThis.browser ?? globalThis.chrome;
  // A second injection of this script into the same document must not hand out a port.
  if (globalThis.__framescopeRelayInstalled) return;
  globalThis.__framescopeRelayInstalled = true;

  /** Events kept unacknowledged at most; older batches are dropped and counted past that. */
  const MAX_PENDING_EVENTS = 20_000;
  const PORT_NAME = 'framescope-relay';
  const HANDOFF_EVENT = 'framescope:relay-port';
  const HANDOFF_MARKER = 'framescope-relay-port-v1';

  const relayId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const channel = new MessageChannel();
  let port = null;
  let nextSeq = 1;
  let pendingEvents = 0;
  let contextGone = false;
  let connections = 0;
  /** @type {{seq: number, events: object[], dropped: number}[]} */
  const pending = [];

  // The hook and its transport are listed before this script in the manifest, so browsers
  // inject them first; they are listening already. The handover is one synchronous event
  // during the document_start injection: no page script has run yet, and a page cannot ask
  // for the port later because it is offered exactly once.
  const handoff = new MessageEvent(HANDOFF_EVENT, {
    data: HANDOFF_MARKER,
    ports: [channel.port2],
    cancelable: true,
  });
  window.dispatchEvent(handoff);
  // The hook calls preventDefault() once it has taken the port; otherwise there is no hook in
  // this frame (not injected, or it failed) and this relay stays idle.
  if (!handoff.defaultPrevented) {
    channel.port1.close();
    return;
  }

  channel.port1.onmessage = (message) => {
    const events = message.data;
    if (!Array.isArray(events) || events.length === 0) return;
    enqueue(events);
  };

  function enqueue(events) {
    const batch = { seq: nextSeq++, events, dropped: 0 };
    pending.push(batch);
    pendingEvents += events.length;
    while (pendingEvents > MAX_PENDING_EVENTS && pending.length > 1) {
      const oldest = pending.shift();
      pendingEvents -= oldest.events.length;
      // Carried by the batch about to be sent (older ones may be stored already, and a
      // resend of a stored batch is ignored), so the panel shows the count.
      batch.dropped += oldest.events.length + oldest.dropped;
    }
    send(batch);
  }

  function send(batch) {
    // Without a port, reconnecting sends every pending batch, this one included, in order.
    if (!port) {
      reconnect();
      return;
    }
    try {
      port.postMessage({ type: 'batch', relayId, seq: batch.seq, events: batch.events, dropped: batch.dropped });
    } catch {
      // The port died between the disconnect event and now; the reconnect resends.
      port = null;
    }
  }

  function connect() {
    if (contextGone) return false;
    try {
      port = api.runtime.connect({ name: PORT_NAME });
    } catch {
      // The extension was reloaded or removed: this document's relay is orphaned for good.
      contextGone = true;
      port = null;
      return false;
    }
    port.onMessage.addListener((message) => {
      if (message?.type !== 'ack' || typeof message.seq !== 'number') return;
      while (pending.length > 0 && pending[0].seq <= message.seq) {
        pendingEvents -= pending.shift().events.length;
      }
    });
    port.onDisconnect.addListener(() => {
      port = null;
      // A service-worker restart closes every port; reconnecting wakes a fresh worker.
      setTimeout(reconnect, 50);
    });
    port.postMessage({
      type: 'hello',
      relayId,
      url: location.href,
      top: window === window.top,
      resumed: connections > 0,
    });
    connections += 1;
    return true;
  }

  function reconnect() {
    if (port || contextGone) return;
    if (!connect()) return;
    for (const batch of pending) {
      if (!port) return;
      send(batch);
    }
  }

  // The port opens with the first batch: frames that capture nothing cost nothing.

  // A page restored from the back/forward cache had its ports closed while frozen.
  window.addEventListener('pageshow', (event) => {
    if (event.persisted && !port) reconnect();
  });
})();
