// Framescope hook transport: the extension's end of the in-page hook (MAIN world).
//
// Runs right after static/hook.js and before relay.js (manifest order), in the same
// document_start injection, before any page script. Data enters through the hook's own `subscribe` (taken at install time, so a page
// that later replaces `globalThis.framescope` changes nothing) and leaves through the
// MessagePort that the isolated-world relay (relay.js) hands over synchronously during the
// same injection. The port lives only in this closure: page script can never obtain it, and
// handoff events the page dispatches later are ignored because the port is taken once.
(() => {
  'use strict';

  const HANDOFF_EVENT = 'framescope:relay-port';
  const HANDOFF_MARKER = 'framescope-relay-port-v1';
  /** Events held while no port has arrived yet (a frame the relay cannot reach). */
  const MAX_WAITING_EVENTS = 5_000;

  const hook = globalThis.framescope;
  if (!hook || typeof hook.subscribe !== 'function') return;

  let port = null;
  let waiting = [];
  let waitingDropped = 0;

  function onHandoff(event) {
    if (port !== null) return;
    if (event.data !== HANDOFF_MARKER || !event.ports || event.ports.length !== 1) return;
    port = event.ports[0];
    // Tells the relay the port was taken, and keeps any later listener from seeing it.
    event.preventDefault();
    event.stopImmediatePropagation();
    window.removeEventListener(HANDOFF_EVENT, onHandoff, true);
    if (waitingDropped > 0) {
      waiting.unshift(droppedEvent(waitingDropped));
      waitingDropped = 0;
    }
    if (waiting.length > 0) post(waiting);
    waiting = [];
  }

  function droppedEvent(count) {
    const first = waiting[0];
    return {
      v: 1,
      session_id: first?.session_id ?? '',
      connection_id: '',
      time_micros: Math.round((performance.timeOrigin + performance.now()) * 1000),
      type: 'dropped',
      count,
      reason: 'extension relay not reachable from this frame',
    };
  }

  function post(events) {
    try {
      port.postMessage(events);
    } catch {
      // An event that cannot be cloned is the hook's bug, not the page's; never throw.
    }
  }

  window.addEventListener(HANDOFF_EVENT, onHandoff, { capture: true });

  hook.subscribe((events) => {
    if (!Array.isArray(events) || events.length === 0) return;
    if (port !== null) {
      post(events);
      return;
    }
    for (const event of events) {
      if (waiting.length < MAX_WAITING_EVENTS) waiting.push(event);
      else waitingDropped += 1;
    }
  });
})();
