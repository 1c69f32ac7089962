//! The one module that talks to the world outside the app: the in-page hook
//! (`globalThis.framescope`), the relay's dashboard socket, the server's info endpoint, the
//! demo traffic generator, files the user drops, the clipboard and local storage.
//!
//! Data enters here as JSON text or JS values and leaves as core types
//! ([`CaptureEvent`]) or plain Rust values handed to callbacks. Nothing here derives or
//! decides anything about the captured traffic: that is the core's job.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use inspector_core::event::{CaptureEvent, NdjsonError, parse_event_line};
use js_sys::{Function, Reflect};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use serde::Deserialize;
use serde_json::value::RawValue;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Events read from one message, and the ones that did not match the capture schema.
#[derive(Debug, Default)]
pub struct EventBatch {
    /// Events that parsed.
    pub events: Vec<CaptureEvent>,
    /// One error per event that did not parse (position = index in the message).
    pub rejected: Vec<NdjsonError>,
}

/// Splits a JSON array of capture events into events, keeping every bad element as an
/// error instead of losing the whole batch.
pub fn parse_event_array(json: &str) -> Result<EventBatch, String> {
    let elements: Vec<&RawValue> = serde_json::from_str(json)
        .map_err(|error| format!("not a JSON array of events: {error}"))?;
    let mut batch = EventBatch::default();
    for (index, element) in elements.into_iter().enumerate() {
        match parse_event_line(element.get(), index + 1) {
            Ok(event) => batch.events.push(event),
            Err(error) => batch.rejected.push(error),
        }
    }
    Ok(batch)
}

fn global_property(name: &str) -> Option<JsValue> {
    let value = Reflect::get(&js_sys::global(), &JsValue::from_str(name)).ok()?;
    (!value.is_undefined() && !value.is_null()).then_some(value)
}

fn method(target: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(target, &JsValue::from_str(name))
        .ok()?
        .dyn_into::<Function>()
        .ok()
}

/// The closure handed to the hook's `subscribe`.
type HookCallback = Closure<dyn FnMut(JsValue)>;

/// Options of [`use_hook_events`].
pub struct UseHookEventsOptions {
    /// How often to look for the hook while it is not installed yet.
    pub poll_interval: Duration,
}

impl Default for UseHookEventsOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(250),
        }
    }
}

/// What [`use_hook_events`] gives back.
#[derive(Clone, Copy)]
pub struct UseHookEventsReturn {
    /// True once subscribed to an in-page hook.
    pub connected: ReadSignal<bool>,
}

/// Subscribes to the in-page hook (`globalThis.framescope.subscribe`) of this document,
/// waiting for it if it is installed after the app. `on_batch` receives every array of
/// events the hook delivers. Unsubscribes when the calling owner is cleaned up.
pub fn use_hook_events(on_batch: impl Fn(EventBatch) + 'static) -> UseHookEventsReturn {
    use_hook_events_with_options(on_batch, UseHookEventsOptions::default())
}

/// [`use_hook_events`] with options.
pub fn use_hook_events_with_options(
    on_batch: impl Fn(EventBatch) + 'static,
    options: UseHookEventsOptions,
) -> UseHookEventsReturn {
    let (connected, set_connected) = signal(false);
    let on_batch = Rc::new(on_batch);
    let unsubscribe: Rc<RefCell<Option<Function>>> = Rc::new(RefCell::new(None));
    let callback: Rc<RefCell<Option<HookCallback>>> = Rc::new(RefCell::new(None));
    let try_subscribe = {
        let unsubscribe = Rc::clone(&unsubscribe);
        let callback = Rc::clone(&callback);
        move || -> bool {
            if unsubscribe.borrow().is_some() {
                return true;
            }
            let Some(hook) = global_property("framescope") else {
                return false;
            };
            let Some(subscribe) = method(&hook, "subscribe") else {
                return false;
            };
            let on_batch = Rc::clone(&on_batch);
            let closure = Closure::<dyn FnMut(JsValue)>::new(move |events: JsValue| {
                let Ok(text) = js_sys::JSON::stringify(&events) else {
                    return;
                };
                let text = String::from(text);
                match parse_event_array(&text) {
                    Ok(batch) => on_batch(batch),
                    Err(message) => on_batch(EventBatch {
                        events: Vec::new(),
                        rejected: vec![NdjsonError {
                            line: 1,
                            column: 1,
                            message,
                        }],
                    }),
                }
            });
            let Ok(result) = subscribe.call1(&hook, closure.as_ref()) else {
                return false;
            };
            *unsubscribe.borrow_mut() = result.dyn_into::<Function>().ok();
            *callback.borrow_mut() = Some(closure);
            set_connected.set(true);
            true
        }
    };
    if !try_subscribe() {
        let handle: Rc<RefCell<Option<IntervalHandle>>> = Rc::new(RefCell::new(None));
        let handle_inner = Rc::clone(&handle);
        let try_subscribe = Rc::new(try_subscribe);
        if let Ok(interval) = set_interval_with_handle(
            move || {
                if try_subscribe()
                    && let Some(interval) = handle_inner.borrow_mut().take()
                {
                    interval.clear();
                }
            },
            options.poll_interval,
        ) {
            *handle.borrow_mut() = Some(interval);
        }
        let handle = SendWrapper::new(handle);
        on_cleanup(move || {
            if let Some(interval) = handle.borrow_mut().take() {
                interval.clear();
            }
        });
    }
    let unsubscribe = SendWrapper::new(unsubscribe);
    let callback = SendWrapper::new(callback);
    on_cleanup(move || {
        if let Some(unsubscribe) = unsubscribe.borrow_mut().take() {
            let _ = unsubscribe.call0(&JsValue::NULL);
        }
        callback.borrow_mut().take();
    });
    UseHookEventsReturn { connected }
}

/// A page connected to the relay, as the relay reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RelayPage {
    /// Relay-assigned id of the hook connection.
    pub page_id: u64,
    /// The hook's session id.
    #[serde(default)]
    pub session_id: String,
    /// Document URL.
    #[serde(default)]
    pub url: String,
    /// Document title.
    #[serde(default)]
    pub title: String,
    /// Events relayed from this page.
    #[serde(default)]
    pub events_relayed: u64,
    /// Events from this page that did not match the schema.
    #[serde(default)]
    pub events_rejected: u64,
    /// Events the page's hook reported as dropped.
    #[serde(default)]
    pub dropped_by_hook: u64,
}

/// State of the relay socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayState {
    /// No relay for this page (opened from a file, or in the extension).
    Unavailable,
    /// Connecting or reconnecting.
    Connecting,
    /// Receiving.
    Open,
}

/// What [`use_relay`] gives back.
#[derive(Clone, Copy)]
pub struct UseRelayReturn {
    /// Socket state.
    pub state: ReadSignal<RelayState>,
    /// Pages connected to the relay (from its latest `pages` message).
    pub pages: ReadSignal<Vec<RelayPage>>,
}

enum RelayMessage {
    Events { events: Box<RawValue> },
    Pages { pages: Vec<RelayPage> },
    Navigated { url: String },
    ExtensionStatus(ExtensionStatus),
    Other,
}

/// Reads a relay or panel-port message. serde cannot hand a `RawValue` through an internally
/// tagged enum (it buffers the content first: "invalid type: newtype struct"), and the
/// events must stay raw so one bad event does not cost the batch; so the `type` is read
/// first and the rest by a plain struct.
fn read_relay_message(text: &str) -> Result<RelayMessage, serde_json::Error> {
    #[derive(Deserialize)]
    struct Kind {
        #[serde(rename = "type")]
        kind: String,
    }
    #[derive(Deserialize)]
    struct Events {
        events: Box<RawValue>,
    }
    #[derive(Deserialize)]
    struct Pages {
        pages: Vec<RelayPage>,
    }
    #[derive(Deserialize)]
    struct Navigated {
        #[serde(default)]
        url: String,
    }
    Ok(match serde_json::from_str::<Kind>(text)?.kind.as_str() {
        "events" => RelayMessage::Events {
            events: serde_json::from_str::<Events>(text)?.events,
        },
        "pages" => RelayMessage::Pages {
            pages: serde_json::from_str::<Pages>(text)?.pages,
        },
        "navigated" => RelayMessage::Navigated {
            url: serde_json::from_str::<Navigated>(text)?.url,
        },
        "extension_status" => RelayMessage::ExtensionStatus(serde_json::from_str(text)?),
        _ => RelayMessage::Other,
    })
}

/// The extension panel's connection to its service worker, as the panel port reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct ExtensionStatus {
    /// Connected to the service worker.
    #[serde(default)]
    pub connected: bool,
    /// The inspected tab.
    #[serde(default)]
    pub tab_id: Option<u64>,
    /// Events the service worker could not keep for this tab (its buffer is bounded).
    #[serde(default)]
    pub dropped_total: u64,
    /// Reconnections after service-worker restarts.
    #[serde(default)]
    pub reconnects: u64,
    /// Why the panel cannot reach the extension, if it cannot.
    #[serde(default)]
    pub error: Option<String>,
}

/// What [`use_extension_port`] gives back.
#[derive(Clone, Copy)]
pub struct UseExtensionPortReturn {
    /// True when this page is the extension panel (`globalThis.framescopeExtension` exists).
    pub present: bool,
    /// The port's latest status.
    pub status: ReadSignal<Option<ExtensionStatus>>,
}

/// In the extension panel, subscribes to the panel port
/// (`globalThis.framescopeExtension.subscribe`), which delivers the relay's message shapes
/// plus `navigated` and `extension_status`. `on_batch` receives events, `on_navigated` the
/// inspected tab's top-level navigations. Does nothing outside the extension.
pub fn use_extension_port(
    on_batch: impl Fn(EventBatch) + 'static,
    on_navigated: impl Fn(String) + 'static,
) -> UseExtensionPortReturn {
    let (status, set_status) = signal(None::<ExtensionStatus>);
    let subscribe = global_property("framescopeExtension")
        .and_then(|port| method(&port, "subscribe").map(|subscribe| (port, subscribe)));
    let Some((port, subscribe)) = subscribe else {
        return UseExtensionPortReturn {
            present: false,
            status,
        };
    };
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |message: JsValue| {
        let Some(text) = message.as_string() else {
            return;
        };
        match read_relay_message(&text) {
            Ok(RelayMessage::Events { events }) => match parse_event_array(events.get()) {
                Ok(batch) => on_batch(batch),
                Err(message) => on_batch(rejected_message(message)),
            },
            Ok(RelayMessage::Navigated { url }) => on_navigated(url),
            Ok(RelayMessage::ExtensionStatus(status)) => set_status.set(Some(status)),
            Ok(RelayMessage::Pages { .. } | RelayMessage::Other) => {}
            Err(error) => on_batch(rejected_message(format!(
                "unreadable message from the extension: {error}"
            ))),
        }
    });
    let unsubscribe = subscribe
        .call1(&port, closure.as_ref())
        .ok()
        .and_then(|value| value.dyn_into::<Function>().ok());
    let holder = SendWrapper::new((closure, unsubscribe));
    on_cleanup(move || {
        let (closure, unsubscribe) = holder.take();
        if let Some(unsubscribe) = unsubscribe {
            let _ = unsubscribe.call0(&JsValue::NULL);
        }
        drop(closure);
    });
    UseExtensionPortReturn {
        present: true,
        status,
    }
}

/// Connects to the relay's dashboard socket at `url` (reconnecting with back-off while the
/// owner lives) and hands every `events` message to `on_batch`.
pub fn use_relay(url: String, on_batch: impl Fn(EventBatch) + 'static) -> UseRelayReturn {
    let (state, set_state) = signal(RelayState::Connecting);
    let (pages, set_pages) = signal(Vec::<RelayPage>::new());
    let on_batch: Rc<dyn Fn(EventBatch)> = Rc::new(on_batch);
    let alive = Rc::new(std::cell::Cell::new(true));
    let socket: Rc<RefCell<Option<web_sys::WebSocket>>> = Rc::new(RefCell::new(None));
    connect_relay(
        url,
        on_batch,
        set_state,
        set_pages,
        Rc::clone(&alive),
        Rc::clone(&socket),
        0,
    );
    let alive = SendWrapper::new(alive);
    let socket = SendWrapper::new(socket);
    on_cleanup(move || {
        alive.set(false);
        if let Some(socket) = socket.borrow_mut().take() {
            let _ = socket.close();
        }
    });
    UseRelayReturn { state, pages }
}

fn connect_relay(
    url: String,
    on_batch: Rc<dyn Fn(EventBatch)>,
    set_state: WriteSignal<RelayState>,
    set_pages: WriteSignal<Vec<RelayPage>>,
    alive: Rc<std::cell::Cell<bool>>,
    slot: Rc<RefCell<Option<web_sys::WebSocket>>>,
    attempt: u32,
) {
    if !alive.get() {
        return;
    }
    set_state.set(RelayState::Connecting);
    let Ok(socket) = web_sys::WebSocket::new(&url) else {
        set_state.set(RelayState::Unavailable);
        return;
    };
    let on_open = Closure::<dyn FnMut()>::new(move || set_state.set(RelayState::Open));
    let on_message = {
        let on_batch = Rc::clone(&on_batch);
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            match read_relay_message(&text) {
                Ok(RelayMessage::Events { events }) => match parse_event_array(events.get()) {
                    Ok(batch) => on_batch(batch),
                    Err(message) => on_batch(rejected_message(message)),
                },
                Ok(RelayMessage::Pages { pages }) => set_pages.set(pages),
                Ok(
                    RelayMessage::Other
                    | RelayMessage::Navigated { .. }
                    | RelayMessage::ExtensionStatus(_),
                ) => {}
                Err(error) => on_batch(rejected_message(format!(
                    "unreadable relay message: {error}"
                ))),
            }
        })
    };
    let on_close = {
        let alive = Rc::clone(&alive);
        let slot = Rc::clone(&slot);
        Closure::<dyn FnMut()>::new(move || {
            set_state.set(RelayState::Connecting);
            slot.borrow_mut().take();
            let (url, on_batch, alive, slot) = (
                url.clone(),
                Rc::clone(&on_batch),
                Rc::clone(&alive),
                Rc::clone(&slot),
            );
            let delay = Duration::from_millis(500 * u64::from(attempt.min(8) + 1));
            set_timeout(
                move || {
                    connect_relay(
                        url,
                        on_batch,
                        set_state,
                        set_pages,
                        alive,
                        slot,
                        attempt + 1,
                    )
                },
                delay,
            );
        })
    };
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    // The socket owns its handlers for its lifetime; they are freed by the JS GC with it.
    on_open.forget();
    on_message.forget();
    on_close.forget();
    *slot.borrow_mut() = Some(socket);
}

fn rejected_message(message: String) -> EventBatch {
    EventBatch {
        events: Vec::new(),
        rejected: vec![NdjsonError {
            line: 1,
            column: 1,
            message,
        }],
    }
}

/// What `/__framescope/info` says about the server this dashboard came from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct ServerInfo {
    /// Server version.
    #[serde(default)]
    pub version: String,
    /// True when the server runs with `--demo`.
    #[serde(default)]
    pub demo: bool,
    /// URL of the hook script, with the relay token, for users' own pages.
    #[serde(default)]
    pub hook_url: String,
    /// WebSocket URLs of the relay.
    #[serde(default)]
    pub relay: RelayUrls,
}

/// The relay's socket URLs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct RelayUrls {
    /// Where dashboards connect.
    #[serde(default)]
    pub dashboard: String,
}

/// Reads `/__framescope/info` from the server that served this page. `None` when there is no
/// such server (the extension panel, a page opened from disk).
pub async fn fetch_server_info() -> Option<ServerInfo> {
    let window = web_sys::window()?;
    let response = JsFuture::from(window.fetch_with_str("/__framescope/info"))
        .await
        .ok()?
        .dyn_into::<web_sys::Response>()
        .ok()?;
    if !response.ok() {
        return None;
    }
    let text = JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()?;
    serde_json::from_str(&text).ok()
}

/// The demo traffic generator (`globalThis.framescopeDemo`), when the page loaded it.
pub fn demo_available() -> bool {
    global_property("framescopeDemo").is_some()
}

/// Whether the demo traffic generator is running.
pub fn demo_running() -> bool {
    global_property("framescopeDemo")
        .and_then(|demo| Reflect::get(&demo, &JsValue::from_str("running")).ok())
        .and_then(|running| running.as_bool())
        .unwrap_or(false)
}

/// Starts or stops the demo traffic generator. Returns an error message when it is missing.
pub fn set_demo_running(on: bool) -> Result<(), String> {
    let demo = global_property("framescopeDemo")
        .ok_or_else(|| "the demo traffic generator is not loaded on this page".to_owned())?;
    let name = if on { "start" } else { "stop" };
    let function =
        method(&demo, name).ok_or_else(|| format!("framescopeDemo.{name} is missing"))?;
    function
        .call0(&demo)
        .map(|_| ())
        .map_err(|error| format!("framescopeDemo.{name} failed: {error:?}"))
}

/// Copies `text` to the clipboard (asynchronously; failures are reported to `on_done`).
pub fn copy_to_clipboard(text: String, on_done: impl FnOnce(Result<(), String>) + 'static) {
    let Some(window) = web_sys::window() else {
        on_done(Err("no window".to_owned()));
        return;
    };
    let promise = window.navigator().clipboard().write_text(&text);
    leptos::task::spawn_local(async move {
        let result = JsFuture::from(promise)
            .await
            .map(|_| ())
            .map_err(|error| format!("{error:?}"));
        on_done(result);
    });
}

/// Offers `text` as a file download named `file_name` (a Blob, an object URL and a
/// clicked `<a download>`); the URL is revoked a minute later, once the browser has read it.
pub fn download_text(file_name: &str, mime_type: &str, text: &str) -> Result<(), String> {
    let fail = |what: &str, error: JsValue| format!("cannot {what}: {error:?}");
    let document = web_sys::window()
        .and_then(|window| window.document())
        .ok_or_else(|| "no document".to_owned())?;
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime_type);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|error| fail("create the file", error))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|error| fail("create a download URL", error))?;
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|error| fail("create a link", error))?
        .unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(file_name);
    anchor.set_hidden(true);
    let body = document
        .body()
        .ok_or_else(|| "no document body".to_owned())?;
    body.append_child(&anchor)
        .map_err(|error| fail("add the link", error))?;
    anchor.click();
    anchor.remove();
    set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        Duration::from_secs(60),
    );
    Ok(())
}

/// A value remembered in `localStorage` (`None` when storage is unavailable or empty).
pub fn load_setting(key: &str) -> Option<String> {
    web_sys::window()?
        .local_storage()
        .ok()??
        .get_item(&format!("framescope.{key}"))
        .ok()?
}

/// Remembers `value` in `localStorage` (silently skipped when storage is unavailable, e.g. in
/// a sandboxed frame: settings then last for the session only).
pub fn save_setting(key: &str, value: &str) {
    if let Some(storage) =
        web_sys::window().and_then(|window| window.local_storage().ok().flatten())
    {
        let _ = storage.set_item(&format!("framescope.{key}"), value);
    }
}

/// Reads `file` as text in chunks of `chunk_bytes`, calling `on_chunk(text, bytes_read,
/// total_bytes)` after each and yielding to the browser in between so that a progress bar can
/// paint. A chunk boundary may split a line (never a UTF-8 character).
pub async fn read_file_in_chunks(
    file: &web_sys::File,
    chunk_bytes: u32,
    on_chunk: impl FnMut(&str, u64, u64),
) -> Result<(), String> {
    read_file_in_chunks_paced(file, chunk_bytes, on_chunk, || false).await
}

/// As [`read_file_in_chunks`], waiting before the next chunk while `busy()` is true (the
/// consumer has not caught up), so a large file never piles up in memory.
pub async fn read_file_in_chunks_paced(
    file: &web_sys::File,
    chunk_bytes: u32,
    mut on_chunk: impl FnMut(&str, u64, u64),
    busy: impl Fn() -> bool,
) -> Result<(), String> {
    let total_bytes = file.size() as u64;
    let chunk_bytes = u64::from(chunk_bytes.max(1024));
    let mut offset = 0u64;
    let mut carry: Vec<u8> = Vec::new();
    while offset < total_bytes {
        let end = (offset + chunk_bytes).min(total_bytes);
        let blob = file
            .slice_with_f64_and_f64(offset as f64, end as f64)
            .map_err(|error| format!("cannot read the file: {error:?}"))?;
        let buffer = JsFuture::from(blob.array_buffer())
            .await
            .map_err(|error| format!("cannot read the file: {error:?}"))?;
        let mut bytes = std::mem::take(&mut carry);
        bytes.extend(js_sys::Uint8Array::new(&buffer).to_vec());
        // Keep an incomplete UTF-8 sequence at the end for the next chunk.
        let valid_up_to = match std::str::from_utf8(&bytes) {
            Ok(_) => bytes.len(),
            Err(error) if error.error_len().is_none() && end < total_bytes => error.valid_up_to(),
            Err(error) => {
                return Err(format!(
                    "the file is not UTF-8 text (byte {})",
                    offset as usize - carry.len() + error.valid_up_to()
                ));
            }
        };
        carry = bytes.split_off(valid_up_to);
        let text = String::from_utf8(bytes).map_err(|error| format!("not UTF-8: {error}"))?;
        offset = end;
        on_chunk(&text, offset, total_bytes);
        yield_to_browser().await;
        while busy() {
            sleep_millis(16).await;
        }
    }
    Ok(())
}

/// Lets the browser paint and handle input before continuing.
pub async fn yield_to_browser() {
    sleep_millis(0).await;
}

/// Waits `millis` milliseconds without blocking the page.
pub async fn sleep_millis(millis: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Current wall-clock time in microseconds since the Unix epoch, the same clock the hook
/// uses (`performance.timeOrigin + performance.now()`).
pub fn now_micros() -> u64 {
    let Some(performance) = web_sys::window().and_then(|window| window.performance()) else {
        return (js_sys::Date::now() * 1_000.0) as u64;
    };
    ((performance.time_origin() + performance.now()) * 1_000.0) as u64
}

/// Milliseconds from a monotonic clock, for measuring how long work takes.
pub fn monotonic_millis() -> f64 {
    web_sys::window()
        .and_then(|window| window.performance())
        .map(|performance| performance.now())
        .unwrap_or_else(js_sys::Date::now)
}

/// The browser's offset from UTC in minutes (east positive), for clock columns.
pub fn utc_offset_minutes() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}

/// True while the document is hidden (background tab, minimised window).
pub fn document_hidden() -> bool {
    web_sys::window()
        .and_then(|window| window.document())
        .map(|document| document.hidden())
        .unwrap_or(false)
}

/// Sets `data-theme` on the root element (`None` follows the system).
pub fn apply_theme(theme: Option<&str>) {
    let Some(root) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.document_element())
    else {
        return;
    };
    let _ = match theme {
        Some(theme) => root.set_attribute("data-theme", theme),
        None => root.remove_attribute("data-theme"),
    };
}

/// The fix the analyzer proposes, as shown in the CORS panel (mirrors the core's `Fix`, which
/// reaches the app both directly and as the probe endpoint's JSON).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FixView {
    /// One sentence.
    pub summary: String,
    /// Headers for the preflight response.
    #[serde(default)]
    pub preflight_response_headers: Vec<(String, String)>,
    /// Headers for every response.
    #[serde(default)]
    pub response_headers: Vec<(String, String)>,
    /// Go net/http snippet.
    #[serde(default)]
    pub go_net_http: String,
    /// axum + tower-http snippet.
    #[serde(default)]
    pub axum_tower_http: String,
    /// nginx snippet.
    #[serde(default)]
    pub nginx: String,
}

impl From<&inspector_core::cors::Fix> for FixView {
    fn from(fix: &inspector_core::cors::Fix) -> Self {
        Self {
            summary: fix.summary.clone(),
            preflight_response_headers: fix.preflight_response_headers.clone(),
            response_headers: fix.response_headers.clone(),
            go_net_http: fix.go_net_http.clone(),
            axum_tower_http: fix.axum_tower_http.clone(),
            nginx: fix.nginx.clone(),
        }
    }
}

/// What the server's CORS probe (`POST /__framescope/cors-probe`) answers: the analyzer's
/// verdict for the same preflight and request the browser sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProbeReport {
    /// `allowed`, `blocked` or `unknown`.
    pub verdict: String,
    /// Chromium's `Network.CorsError` name.
    #[serde(default)]
    pub cors_error: Option<String>,
    /// `failedParameter`.
    #[serde(default)]
    pub failed_parameter: Option<String>,
    /// Network error, when not a CORS error.
    #[serde(default)]
    pub error: Option<String>,
    /// One sentence.
    #[serde(default)]
    pub explanation: String,
    /// The fix.
    #[serde(default)]
    pub fix: Option<FixView>,
    /// Soft problems, described.
    #[serde(default, deserialize_with = "described_list")]
    pub warnings: Vec<String>,
}

fn described_list<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    struct Described {
        #[serde(default)]
        description: String,
    }
    let items: Vec<Described> = Vec::deserialize(deserializer)?;
    Ok(items.into_iter().map(|item| item.description).collect())
}

/// Asks the server that served this page to probe `request`'s server like Chromium would
/// (the same preflight; the request itself only if the preflight passes) and explain it.
pub async fn probe_cors(
    request: &inspector_core::cors::CorsRequest,
) -> Result<ProbeReport, String> {
    let window = web_sys::window().ok_or_else(|| "no window".to_owned())?;
    let body = serde_json::to_string(request).map_err(|error| error.to_string())?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&body));
    let headers = web_sys::Headers::new().map_err(|error| format!("{error:?}"))?;
    headers
        .set("Content-Type", "application/json")
        .map_err(|error| format!("{error:?}"))?;
    init.set_headers(&headers);
    let response =
        JsFuture::from(window.fetch_with_str_and_init("/__framescope/cors-probe", &init))
            .await
            .map_err(|_| "the framescope server cannot be reached".to_owned())?
            .dyn_into::<web_sys::Response>()
            .map_err(|_| "unexpected answer from the server".to_owned())?;
    let text = JsFuture::from(response.text().map_err(|error| format!("{error:?}"))?)
        .await
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default();
    if response.status() == 404 {
        return Err("this server has no CORS probe; run the command shown".to_owned());
    }
    if !response.ok() {
        return Err(format!("probe failed: {}", text.trim()));
    }
    serde_json::from_str(&text).map_err(|error| format!("unreadable probe answer: {error}"))
}
