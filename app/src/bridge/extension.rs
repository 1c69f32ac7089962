//! The extension panel's transport: the port to the extension's service worker.
//!
//! `extension/src/panel-port.js` (loaded by the panel's `boot.js` before the app) owns the
//! runtime port, its reconnects after service-worker restarts and the acknowledgements; it
//! exposes `globalThis.framescopeExtension.subscribe(callback)`. Data enters here as the JSON
//! text that callback receives, in the shapes the dashboard relay uses (`events`) plus
//! `navigated` and `extension_status`, and leaves as [`EventBatch`]es, navigation URLs and
//! the connection state.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Function;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use serde::Deserialize;
use serde_json::value::RawValue;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::{EventBatch, global_property, method, parse_event_array, rejected_message};

/// The global that `panel-port.js` installs in the extension panel.
const PORT_GLOBAL: &str = "framescopeExtension";

/// True when this page is the extension panel (its port script ran before the app).
pub fn in_extension_panel() -> bool {
    global_property(PORT_GLOBAL).is_some()
}

/// The panel's connection to the service worker, as its last status message said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtensionStatus {
    /// True while the port to the service worker is open.
    pub connected: bool,
    /// The inspected tab.
    pub tab_id: Option<u64>,
    /// Events the service worker had to evict before any panel read them.
    pub dropped_total: u64,
    /// How often the port reconnected (service-worker restarts).
    pub reconnects: u64,
    /// Why the panel cannot receive anything, if it cannot.
    pub error: Option<String>,
}

/// What [`use_extension_port`] gives back.
#[derive(Clone, Copy)]
pub struct UseExtensionPortReturn {
    /// The latest status of the port.
    pub status: ReadSignal<ExtensionStatus>,
}

/// The callback handed to the port script, and the function that unsubscribes it.
type Subscription = (Closure<dyn FnMut(JsValue)>, Option<Function>);

// Read in two steps: serde cannot hand a `RawValue` through an internally tagged enum (it
// buffers the content first), and the events must stay raw so one bad event does not cost
// the batch.
#[derive(Deserialize)]
struct MessageType {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct EventsMessage {
    events: Box<RawValue>,
}

#[derive(Deserialize)]
struct NavigatedMessage {
    url: String,
}

#[derive(Deserialize)]
struct StatusMessage {
    #[serde(default)]
    connected: bool,
    #[serde(default)]
    tab_id: Option<u64>,
    #[serde(default)]
    dropped_total: u64,
    #[serde(default)]
    reconnects: u64,
    #[serde(default)]
    error: Option<String>,
}

/// Subscribes to the extension port when this page is the extension panel (`None`
/// otherwise). `on_batch` receives every batch of the inspected tab's events, the ones
/// buffered before the panel opened first; `on_navigated` receives the URL of each
/// top-level navigation of the tab, in order with the events. Unsubscribes on cleanup.
pub fn use_extension_port(
    on_batch: impl Fn(EventBatch) + 'static,
    on_navigated: impl Fn(String) + 'static,
) -> Option<UseExtensionPortReturn> {
    let port = global_property(PORT_GLOBAL)?;
    let subscribe = method(&port, "subscribe")?;
    let (status, set_status) = signal(ExtensionStatus::default());
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |message: JsValue| {
        let Some(text) = message.as_string() else {
            on_batch(rejected_message(
                "the extension port sent a message that is not text".to_owned(),
            ));
            return;
        };
        let kind = match serde_json::from_str::<MessageType>(&text) {
            Ok(message) => message.kind,
            Err(error) => {
                on_batch(rejected_message(format!(
                    "unreadable extension message: {error}"
                )));
                return;
            }
        };
        let result =
            match kind.as_str() {
                "events" => serde_json::from_str::<EventsMessage>(&text).map(|message| {
                    match parse_event_array(message.events.get()) {
                        Ok(batch) => on_batch(batch),
                        Err(problem) => on_batch(rejected_message(problem)),
                    }
                }),
                "navigated" => serde_json::from_str::<NavigatedMessage>(&text)
                    .map(|message| on_navigated(message.url)),
                "extension_status" => serde_json::from_str::<StatusMessage>(&text).map(|message| {
                    set_status.set(ExtensionStatus {
                        connected: message.connected,
                        tab_id: message.tab_id,
                        dropped_total: message.dropped_total,
                        reconnects: message.reconnects,
                        error: message.error,
                    })
                }),
                // A newer port script may say more; nothing here needs it.
                _ => Ok(()),
            };
        if let Err(error) = result {
            on_batch(rejected_message(format!(
                "unreadable extension {kind} message: {error}"
            )));
        }
    });
    let unsubscribe = subscribe
        .call1(&port, closure.as_ref())
        .ok()
        .and_then(|result| result.dyn_into::<Function>().ok());
    let held: Rc<RefCell<Option<Subscription>>> =
        Rc::new(RefCell::new(Some((closure, unsubscribe))));
    let held = SendWrapper::new(held);
    on_cleanup(move || {
        if let Some((_closure, Some(unsubscribe))) = held.borrow_mut().take() {
            let _ = unsubscribe.call0(&JsValue::NULL);
        }
    });
    Some(UseExtensionPortReturn { status })
}
