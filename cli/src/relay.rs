//! The live relay of `framescope serve`: in-page hooks push capture events in, dashboards
//! receive them.
//!
//! Data enters through the hook socket (`/__framescope/relay/hook?token=T`): each text
//! message is a JSON array of capture events in the schema of `inspector_core::event`. Every
//! event is validated against that schema; valid events are forwarded byte for byte, invalid
//! ones are counted on the page's row and answered with an `{"type":"error",...}` message to
//! the hook, never silently dropped. Data leaves through the dashboard socket
//! (`/__framescope/relay/dashboard`) as `{"type":"events","events":[...]}` and
//! `{"type":"pages","pages":[...]}` messages, and through [`Relay::pages`] for the info
//! endpoint.
//!
//! Access: both sockets accept loopback peers only. Hooks must present the per-run token;
//! dashboards must come from the server's own origin (or from no browser at all) and name the
//! server in their `Host` header, so a web page on another origin cannot read the stream.
//!
//! Memory is bounded: the relay keeps the last [`HISTORY_EVENTS`] events so that a dashboard
//! opened after the page still sees them, and each dashboard has a bounded queue; anything
//! that does not fit is counted and reported to that dashboard as a `dropped` event.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use inspector_core::event::{EventBody, parse_event_line};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::mpsc;

/// How many recent events the relay keeps for dashboards that connect later.
pub const HISTORY_EVENTS: usize = 20_000;
/// Messages queued per dashboard before further events are counted as dropped.
pub const DASHBOARD_QUEUE_MESSAGES: usize = 1_024;
/// Largest message a hook may send.
pub const MAX_HOOK_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// Events per message when replaying the history to a new dashboard.
const REPLAY_CHUNK_EVENTS: usize = 500;

/// One page (or worker) whose hook is connected to the relay, as dashboards see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PageStatus {
    /// Relay-assigned id of the hook connection, unique for this run.
    pub page_id: u64,
    /// The hook's session id (from its `page` event; empty until that arrives).
    pub session_id: String,
    /// Document URL from the `page` event.
    pub url: String,
    /// Document title from the `page` event.
    pub title: String,
    /// Page origin from the `page` event.
    pub origin: String,
    /// Hook version from the `page` event.
    pub hook_version: String,
    /// The peer's socket address (always loopback).
    pub peer: String,
    /// When the hook connected, microseconds since the Unix epoch.
    pub connected_micros: u64,
    /// Valid events received from this hook and forwarded.
    pub events_relayed: u64,
    /// Events from this hook that did not match the capture schema.
    pub events_rejected: u64,
    /// Sum of the `count` of `dropped` events this hook reported.
    pub dropped_by_hook: u64,
}

struct DashboardSink {
    sender: mpsc::Sender<Utf8Bytes>,
    /// Events that did not fit in this dashboard's queue since the last successful send.
    dropped_events: u64,
}

#[derive(Default)]
struct RelayInner {
    pages: BTreeMap<u64, PageStatus>,
    dashboards: HashMap<u64, DashboardSink>,
    /// Serialized events, oldest first.
    history: VecDeque<Box<RawValue>>,
    /// Events pushed out of `history` since the start.
    history_evicted: u64,
}

/// The relay's shared state. One per `framescope serve` run.
pub struct Relay {
    token: String,
    allowed_hosts: Vec<String>,
    allowed_origins: Vec<String>,
    next_connection_id: AtomicU64,
    inner: Mutex<RelayInner>,
}

/// Error creating the relay.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The operating system gave no randomness for the token.
    #[error("cannot generate the relay token: {message}")]
    Randomness {
        /// The system's message.
        message: String,
    },
}

/// Query string of the hook socket.
#[derive(Debug, Deserialize)]
pub struct HookQuery {
    /// The per-run token.
    #[serde(default)]
    pub token: String,
}

/// Microseconds since the Unix epoch, by the system clock.
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A fresh 128-bit token as 32 lowercase hex digits.
pub fn generate_token() -> Result<String, RelayError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| RelayError::Randomness {
        message: error.to_string(),
    })?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Compares two strings in time that depends only on their lengths.
fn same_secret(given: &str, expected: &str) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    given
        .bytes()
        .zip(expected.bytes())
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

impl Relay {
    /// A relay for a server listening on `local` that accepts hooks presenting `token`.
    pub fn new(local: SocketAddr, token: String) -> Self {
        let port = local.port();
        let allowed_hosts = vec![format!("127.0.0.1:{port}"), format!("localhost:{port}")];
        let allowed_origins = allowed_hosts
            .iter()
            .map(|host| format!("http://{host}"))
            .collect();
        Self {
            token,
            allowed_hosts,
            allowed_origins,
            next_connection_id: AtomicU64::new(1),
            inner: Mutex::new(RelayInner::default()),
        }
    }

    /// The per-run token hooks must present.
    pub fn token(&self) -> &str {
        &self.token
    }

    fn lock(&self) -> MutexGuard<'_, RelayInner> {
        // A panic while holding the lock leaves plain counters behind; keep serving them.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The connected pages, in connection order.
    pub fn pages(&self) -> Vec<PageStatus> {
        self.lock().pages.values().cloned().collect()
    }

    /// True when a request's `Host` header names this server (guards against DNS rebinding).
    pub fn host_is_own(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|host| self.allowed_hosts.iter().any(|own| own == host))
    }

    /// True when a request carries no `Origin` (not from a web page) or this server's own.
    pub fn origin_is_own_or_absent(&self, headers: &HeaderMap) -> bool {
        match headers.get(header::ORIGIN) {
            None => true,
            Some(value) => value
                .to_str()
                .is_ok_and(|origin| self.allowed_origins.iter().any(|own| own == origin)),
        }
    }

    fn pages_message(inner: &RelayInner) -> Utf8Bytes {
        let pages: Vec<&PageStatus> = inner.pages.values().collect();
        let text = serde_json::json!({ "type": "pages", "pages": pages }).to_string();
        Utf8Bytes::from(text)
    }

    /// Sends the current page list to every dashboard (best effort: a full queue skips it,
    /// the next change or the info endpoint carries the list again).
    fn broadcast_pages(inner: &mut RelayInner) {
        let message = Self::pages_message(inner);
        for sink in inner.dashboards.values() {
            let _ = sink.sender.try_send(message.clone());
        }
    }

    fn register_page(&self, peer: SocketAddr) -> u64 {
        let page_id = self.next_connection_id.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.lock();
        inner.pages.insert(
            page_id,
            PageStatus {
                page_id,
                session_id: String::new(),
                url: String::new(),
                title: String::new(),
                origin: String::new(),
                hook_version: String::new(),
                peer: peer.to_string(),
                connected_micros: now_micros(),
                events_relayed: 0,
                events_rejected: 0,
                dropped_by_hook: 0,
            },
        );
        Self::broadcast_pages(&mut inner);
        page_id
    }

    fn unregister_page(&self, page_id: u64) {
        let mut inner = self.lock();
        inner.pages.remove(&page_id);
        Self::broadcast_pages(&mut inner);
    }

    /// Validates and forwards one message from a hook. Returns the error reply for the hook,
    /// if any event was rejected.
    pub fn ingest_hook_message(&self, page_id: u64, text: &str) -> Option<String> {
        let raw_events: Vec<Box<RawValue>> = match serde_json::from_str(text) {
            Ok(events) => events,
            Err(error) => {
                let mut inner = self.lock();
                if let Some(page) = inner.pages.get_mut(&page_id) {
                    page.events_rejected += 1;
                }
                Self::broadcast_pages(&mut inner);
                return Some(error_reply(&format!(
                    "message is not a JSON array of capture events: {error}"
                )));
            }
        };
        let mut accepted = Vec::with_capacity(raw_events.len());
        let mut page_update: Option<(String, EventBody)> = None;
        let mut dropped_reported = 0u64;
        let mut rejections = Vec::new();
        for (index, raw) in raw_events.into_iter().enumerate() {
            match parse_event_line(raw.get(), index + 1) {
                Ok(event) => {
                    match &event.body {
                        EventBody::Page { .. } => {
                            page_update = Some((event.session_id.clone(), event.body.clone()));
                        }
                        EventBody::Dropped { count, .. } => dropped_reported += count,
                        _ => {}
                    }
                    accepted.push(raw);
                }
                Err(error) => rejections.push(format!("event {index}: {}", error.message)),
            }
        }
        let mut inner = self.lock();
        let mut pages_changed = false;
        if let Some(page) = inner.pages.get_mut(&page_id) {
            page.events_relayed += accepted.len() as u64;
            page.events_rejected += rejections.len() as u64;
            page.dropped_by_hook += dropped_reported;
            if let Some((
                session_id,
                EventBody::Page {
                    url,
                    title,
                    origin,
                    hook_version,
                },
            )) = page_update
            {
                page.session_id = session_id;
                page.url = url;
                page.title = title;
                page.origin = origin;
                page.hook_version = hook_version;
                pages_changed = true;
            }
            pages_changed |= !rejections.is_empty();
        }
        if pages_changed {
            Self::broadcast_pages(&mut inner);
        }
        if !accepted.is_empty() {
            Self::fan_out(&mut inner, &accepted);
            for raw in accepted {
                if inner.history.len() == HISTORY_EVENTS {
                    inner.history.pop_front();
                    inner.history_evicted += 1;
                }
                inner.history.push_back(raw);
            }
        }
        if rejections.is_empty() {
            None
        } else {
            Some(error_reply(&format!(
                "{} event(s) rejected: {}",
                rejections.len(),
                rejections.join("; ")
            )))
        }
    }

    fn fan_out(inner: &mut RelayInner, events: &[Box<RawValue>]) {
        let batch_size = events.len() as u64;
        for sink in inner.dashboards.values_mut() {
            let message = if sink.dropped_events > 0 {
                let notice = dropped_event(
                    sink.dropped_events,
                    "relay: dashboard connection too slow, events skipped",
                );
                events_message(
                    std::iter::once(notice.as_str()).chain(events.iter().map(|raw| raw.get())),
                )
            } else {
                events_message(events.iter().map(|raw| raw.get()))
            };
            match sink.sender.try_send(message) {
                Ok(()) => sink.dropped_events = 0,
                Err(mpsc::error::TrySendError::Full(_)) => sink.dropped_events += batch_size,
                // The dashboard is gone; its task removes it.
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
    }

    /// Runs one hook connection until it closes.
    async fn run_hook(self: Arc<Self>, mut socket: WebSocket, peer: SocketAddr) {
        let page_id = self.register_page(peer);
        while let Some(Ok(message)) = socket.recv().await {
            let reply = match message {
                Message::Text(text) => self.ingest_hook_message(page_id, text.as_str()),
                Message::Binary(_) => Some(error_reply(
                    "binary messages are not accepted: send JSON arrays of capture events as text",
                )),
                Message::Close(_) => break,
                Message::Ping(_) | Message::Pong(_) => None,
            };
            if let Some(reply) = reply
                && socket.send(Message::Text(reply.into())).await.is_err()
            {
                break;
            }
        }
        self.unregister_page(page_id);
    }

    /// Runs one dashboard connection until it closes.
    async fn run_dashboard(self: Arc<Self>, socket: WebSocket) {
        let dashboard_id = self.next_connection_id.fetch_add(1, Ordering::Relaxed);
        let (sender, mut receiver) = mpsc::channel::<Utf8Bytes>(DASHBOARD_QUEUE_MESSAGES);
        // Snapshot and register under one lock so no event falls between replay and live.
        let replay = {
            let mut inner = self.lock();
            let mut replay = vec![Self::pages_message(&inner)];
            if inner.history_evicted > 0 {
                let notice = dropped_event(
                    inner.history_evicted,
                    "relay: older events are beyond the relay's history limit",
                );
                replay.push(events_message(std::iter::once(notice.as_str())));
            }
            let history: Vec<&RawValue> = inner.history.iter().map(AsRef::as_ref).collect();
            for chunk in history.chunks(REPLAY_CHUNK_EVENTS) {
                replay.push(events_message(chunk.iter().map(|raw| raw.get())));
            }
            inner.dashboards.insert(
                dashboard_id,
                DashboardSink {
                    sender,
                    dropped_events: 0,
                },
            );
            replay
        };
        let (mut socket_sender, mut socket_receiver) = socket.split();
        let writer = async {
            for message in replay {
                if socket_sender.send(Message::Text(message)).await.is_err() {
                    return;
                }
            }
            while let Some(message) = receiver.recv().await {
                if socket_sender.send(Message::Text(message)).await.is_err() {
                    return;
                }
            }
        };
        let reader = async {
            // Dashboards send nothing the relay needs; read to notice the close.
            while let Some(Ok(message)) = socket_receiver.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        };
        tokio::select! {
            () = writer => {}
            () = reader => {}
        }
        self.lock().dashboards.remove(&dashboard_id);
    }
}

fn error_reply(message: &str) -> String {
    serde_json::json!({ "type": "error", "message": message }).to_string()
}

/// A `dropped` capture event produced by the relay itself.
fn dropped_event(count: u64, reason: &str) -> String {
    serde_json::json!({
        "v": inspector_core::event::SCHEMA_VERSION,
        "session_id": "framescope-relay",
        "connection_id": "framescope-relay",
        "time_micros": now_micros(),
        "type": "dropped",
        "count": count,
        "reason": reason,
    })
    .to_string()
}

/// `{"type":"events","events":[...]}` around already-serialized events.
fn events_message<'a>(events: impl Iterator<Item = &'a str>) -> Utf8Bytes {
    let mut text = String::from(r#"{"type":"events","events":["#);
    for (index, event) in events.enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push_str(event);
    }
    text.push_str("]}");
    Utf8Bytes::from(text)
}

/// `GET /__framescope/relay/hook?token=T`: a hook's connection. Loopback peers with the
/// per-run token only.
pub async fn hook_socket(
    State(relay): State<Arc<Relay>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<HookQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !peer.ip().is_loopback() {
        return (
            StatusCode::FORBIDDEN,
            "the relay accepts loopback peers only\n",
        )
            .into_response();
    }
    if !same_secret(&query.token, relay.token()) {
        return (
            StatusCode::UNAUTHORIZED,
            "missing or wrong relay token: use the hook URL that `framescope serve` printed\n",
        )
            .into_response();
    }
    upgrade
        .max_message_size(MAX_HOOK_MESSAGE_BYTES)
        .on_upgrade(move |socket| relay.run_hook(socket, peer))
}

/// `GET /__framescope/relay/dashboard`: a dashboard's connection. Loopback peers from this
/// server's own origin (or from outside any browser) only.
pub async fn dashboard_socket(
    State(relay): State<Arc<Relay>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !peer.ip().is_loopback() {
        return (
            StatusCode::FORBIDDEN,
            "the relay accepts loopback peers only\n",
        )
            .into_response();
    }
    if !relay.host_is_own(&headers) || !relay.origin_is_own_or_absent(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "dashboards must be served by this framescope server\n",
        )
            .into_response();
    }
    upgrade.on_upgrade(move |socket| relay.run_dashboard(socket))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn relay() -> Relay {
        Relay::new(SocketAddr::from(([127, 0, 0, 1], 9000)), "t".repeat(32))
    }

    #[test]
    fn token_is_32_hex_digits_and_fresh() {
        let first = generate_token().unwrap();
        let second = generate_token().unwrap();
        assert_eq!(first.len(), 32);
        assert!(first.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_ne!(first, second);
    }

    #[test]
    fn secret_comparison_needs_exact_match() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("", "abc"));
    }

    #[test]
    fn page_event_fills_the_page_row_and_bad_events_are_counted() {
        let relay = relay();
        let page_id = relay.register_page(SocketAddr::from(([127, 0, 0, 1], 5555)));
        let reply = relay.ingest_hook_message(
            page_id,
            r#"[{"v":1,"session_id":"s1","connection_id":"page","time_micros":1,"type":"page","url":"http://127.0.0.1:1/a","title":"A","origin":"http://127.0.0.1:1","hook_version":"9"},
                {"v":1,"session_id":"s1","connection_id":"ws-1","time_micros":2,"type":"ws_close","code":"not a number"},
                {"v":1,"session_id":"s1","connection_id":"x","time_micros":3,"type":"dropped","count":4}]"#,
        );
        let reply = reply.expect("one event is invalid");
        assert!(reply.contains("event 1"), "{reply}");
        let pages = relay.pages();
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].session_id, "s1");
        assert_eq!(pages[0].url, "http://127.0.0.1:1/a");
        assert_eq!(pages[0].events_relayed, 2);
        assert_eq!(pages[0].events_rejected, 1);
        assert_eq!(pages[0].dropped_by_hook, 4);
        assert_eq!(relay.lock().history.len(), 2);
    }

    #[test]
    fn a_message_that_is_not_an_array_is_rejected_with_a_reason() {
        let relay = relay();
        let page_id = relay.register_page(SocketAddr::from(([127, 0, 0, 1], 5555)));
        let reply = relay.ingest_hook_message(page_id, "{}").unwrap();
        assert!(reply.contains("not a JSON array"), "{reply}");
        assert_eq!(relay.pages()[0].events_rejected, 1);
    }

    #[test]
    fn full_dashboard_queue_counts_events_and_reports_them_on_the_next_send() {
        let relay = relay();
        let page_id = relay.register_page(SocketAddr::from(([127, 0, 0, 1], 5555)));
        let (sender, mut receiver) = mpsc::channel(1);
        relay.lock().dashboards.insert(
            99,
            DashboardSink {
                sender,
                dropped_events: 0,
            },
        );
        let event =
            r#"{"v":1,"session_id":"s","connection_id":"c","time_micros":1,"type":"ws_error"}"#;
        relay.ingest_hook_message(page_id, &format!("[{event}]"));
        relay.ingest_hook_message(page_id, &format!("[{event},{event}]"));
        assert_eq!(relay.lock().dashboards[&99].dropped_events, 2);
        let first = receiver.try_recv().unwrap();
        assert!(!first.as_str().contains("dropped"));
        relay.ingest_hook_message(page_id, &format!("[{event}]"));
        let third = receiver.try_recv().unwrap();
        let parsed: serde_json::Value = serde_json::from_str(third.as_str()).unwrap();
        assert_eq!(parsed["events"][0]["type"], "dropped");
        assert_eq!(parsed["events"][0]["count"], 2);
        assert_eq!(parsed["events"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn host_and_origin_checks() {
        let relay = relay();
        let mut headers = HeaderMap::new();
        assert!(!relay.host_is_own(&headers));
        headers.insert(header::HOST, "127.0.0.1:9000".parse().unwrap());
        assert!(relay.host_is_own(&headers));
        assert!(relay.origin_is_own_or_absent(&headers));
        headers.insert(header::ORIGIN, "http://localhost:9000".parse().unwrap());
        assert!(relay.origin_is_own_or_absent(&headers));
        headers.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!relay.origin_is_own_or_absent(&headers));
        headers.insert(header::HOST, "evil.example:9000".parse().unwrap());
        assert!(!relay.host_is_own(&headers));
    }
}
