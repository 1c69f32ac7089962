//! HAR 1.2 export, with WebSocket messages in Chrome's `_webSocketMessages` extension so that
//! Chrome DevTools (Network panel, "Import HAR file") shows the frames.
//!
//! Data enters as capture events (redacted here according to the [`RedactionConfig`]) and
//! leaves as HAR JSON text. Each connection becomes one entry: a fetch/XHR exchange, a
//! WebSocket (`_resourceType: "websocket"`, messages with `type` `send`/`receive`, `time` in
//! seconds since the epoch, `opcode` 1 for text and 2 for binary with base64 `data`), or an
//! EventSource (`_resourceType: "eventsource"`, messages in `_eventSourceMessages`), or a
//! CORS preflight seen by the extension (`OPTIONS`, `_resourceType: "preflight"`). Page
//! events become `pages`. Events HAR cannot carry (shared-memory traffic, events of unknown
//! types, responses whose request was never captured) are counted in
//! [`HarExport::skipped_events`] so the caller can say so; the session format keeps them.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::redact::{RedactionConfig, redact_events};
use super::{ExportError, iso8601_from_micros};
use crate::event::{CaptureEvent, Direction, EventBody, HeaderList, HttpFailureKind, Payload};

/// The result of a HAR export.
#[derive(Debug, Clone, PartialEq)]
pub struct HarExport {
    /// The HAR document, pretty-printed JSON.
    pub text: String,
    /// Number of entries written.
    pub entry_count: usize,
    /// Events that HAR cannot represent, by event type (`shared_memory...`, `unknown`,
    /// `http_response` without its request...). Empty when nothing was left out.
    pub skipped_events: BTreeMap<String, usize>,
}

impl HarExport {
    /// Total number of events left out.
    pub fn skipped_total(&self) -> usize {
        self.skipped_events.values().sum()
    }
}

/// Exports capture events as HAR 1.2. `creator_version` goes into `log.creator.version`.
pub fn export_har(
    events: &[CaptureEvent],
    redaction: &RedactionConfig,
    creator_version: &str,
) -> Result<HarExport, ExportError> {
    let events = redact_events(events, redaction)?;
    let mut builder = Builder::default();
    for event in &events {
        builder.push(event);
    }
    let (log, skipped_events) = builder.finish(creator_version);
    let entry_count = log.entries.len();
    let text =
        serde_json::to_string_pretty(&Har { log }).map_err(|error| ExportError::Serialize {
            format: "har",
            message: error.to_string(),
        })?;
    Ok(HarExport {
        text,
        entry_count,
        skipped_events,
    })
}

#[derive(Serialize)]
struct Har {
    log: Log,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Log {
    version: &'static str,
    creator: Creator,
    pages: Vec<Page>,
    entries: Vec<Entry>,
    /// Events the page's hook had to drop (memory bounds); HAR has no place for them.
    #[serde(rename = "_droppedByProducer", skip_serializing_if = "is_zero")]
    dropped_by_producer: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

#[derive(Serialize)]
struct Creator {
    name: &'static str,
    version: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    started_date_time: String,
    id: String,
    title: String,
    page_timings: PageTimings,
    /// The page's URL (HAR 1.2 only has a title).
    #[serde(rename = "_url")]
    url: String,
    /// The `page` event's connection id.
    #[serde(rename = "_connectionId")]
    connection_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageTimings {
    on_content_load: i64,
    on_load: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pageref: Option<String>,
    started_date_time: String,
    /// Total time in milliseconds.
    time: f64,
    request: Request,
    response: Response,
    cache: Empty,
    timings: Timings,
    #[serde(rename = "_resourceType")]
    resource_type: &'static str,
    #[serde(rename = "_webSocketMessages", skip_serializing_if = "Option::is_none")]
    web_socket_messages: Option<Vec<WebSocketMessage>>,
    #[serde(rename = "_webSocketClose", skip_serializing_if = "Option::is_none")]
    web_socket_close: Option<WebSocketClose>,
    #[serde(
        rename = "_eventSourceMessages",
        skip_serializing_if = "Option::is_none"
    )]
    event_source_messages: Option<Vec<EventSourceMessage>>,
    #[serde(rename = "_sessionId")]
    session_id: String,
    #[serde(rename = "_connectionId")]
    connection_id: String,
    #[serde(rename = "_startedMicros")]
    started_micros: u64,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    method: String,
    url: String,
    http_version: String,
    cookies: Vec<Cookie>,
    headers: Vec<NameValue>,
    query_string: Vec<NameValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_data: Option<PostData>,
    headers_size: i64,
    body_size: i64,
    /// `fetch` or `xhr`.
    #[serde(rename = "_api", skip_serializing_if = "Option::is_none")]
    api: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    status: u16,
    status_text: String,
    http_version: String,
    cookies: Vec<Cookie>,
    headers: Vec<NameValue>,
    content: Content,
    #[serde(rename = "redirectURL")]
    redirect_url: String,
    headers_size: i64,
    body_size: i64,
    /// Why the exchange failed, as the page saw it (`TypeError: Failed to fetch`).
    #[serde(rename = "_error", skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// `network`, `abort` or `timeout`.
    #[serde(rename = "_failureKind", skip_serializing_if = "Option::is_none")]
    failure_kind: Option<&'static str>,
    /// Micro-precise time of the response (or failure), since the epoch.
    #[serde(rename = "_endedMicros", skip_serializing_if = "Option::is_none")]
    ended_micros: Option<u64>,
}

#[derive(Serialize)]
struct NameValue {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Cookie {
    name: String,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secure: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostData {
    mime_type: String,
    text: String,
    /// `base64` when `text` holds base64 of a binary body (as `content.encoding` does).
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<&'static str>,
    #[serde(rename = "_truncated", skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Content {
    size: i64,
    mime_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<&'static str>,
    #[serde(rename = "_truncated", skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

#[derive(Serialize)]
struct Timings {
    blocked: f64,
    dns: f64,
    connect: f64,
    send: f64,
    wait: f64,
    receive: f64,
    ssl: f64,
}

impl Timings {
    fn waited(wait_millis: f64) -> Self {
        Self {
            blocked: -1.0,
            dns: -1.0,
            connect: -1.0,
            send: 0.0,
            wait: wait_millis,
            receive: 0.0,
            ssl: -1.0,
        }
    }
}

/// One entry of Chrome's `_webSocketMessages`.
#[derive(Serialize)]
struct WebSocketMessage {
    /// `send` or `receive`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// Seconds since the epoch, microsecond precision.
    time: f64,
    /// 1 text, 2 binary.
    opcode: u8,
    /// Text, or base64 for binary messages.
    data: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebSocketClose {
    code: u16,
    reason: String,
    was_clean: bool,
    time: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventSourceMessage {
    time: f64,
    event_name: String,
    event_id: String,
    data: String,
}

fn seconds(time_micros: u64) -> f64 {
    time_micros as f64 / 1_000_000.0
}

fn millis_between(start_micros: u64, end_micros: u64) -> f64 {
    end_micros.saturating_sub(start_micros) as f64 / 1_000.0
}

#[derive(Default)]
struct Builder {
    entries: Vec<Entry>,
    /// (session, connection) -> index in `entries`.
    open: HashMap<(String, String), usize>,
    pages: Vec<Page>,
    page_ids: HashMap<String, usize>,
    skipped: BTreeMap<String, usize>,
    dropped_by_producer: u64,
}

impl Builder {
    fn skip(&mut self, kind: &str) {
        *self.skipped.entry(kind.to_owned()).or_default() += 1;
    }

    fn entry_mut(&mut self, event: &CaptureEvent) -> Option<&mut Entry> {
        let key = (event.session_id.clone(), event.connection_id.clone());
        let index = *self.open.get(&key)?;
        self.entries.get_mut(index)
    }

    fn push(&mut self, event: &CaptureEvent) {
        match &event.body {
            EventBody::Page { url, title, .. } => {
                if !self.page_ids.contains_key(&event.session_id) {
                    self.page_ids
                        .insert(event.session_id.clone(), self.pages.len());
                    self.pages.push(Page {
                        started_date_time: iso8601_from_micros(event.time_micros),
                        id: event.session_id.clone(),
                        title: if title.is_empty() {
                            url.clone()
                        } else {
                            title.clone()
                        },
                        page_timings: PageTimings {
                            on_content_load: -1,
                            on_load: -1,
                        },
                        url: url.clone(),
                        connection_id: event.connection_id.clone(),
                    });
                }
            }
            EventBody::HttpRequest {
                api,
                method,
                url,
                headers,
                body,
                ..
            } => {
                let entry = new_entry(
                    event,
                    if api == "xhr" { "xhr" } else { "fetch" },
                    Request {
                        method: method.clone(),
                        url: url.clone(),
                        http_version: String::new(),
                        cookies: request_cookies(headers),
                        headers: name_values(headers),
                        query_string: query_string(url),
                        post_data: body.as_ref().map(|payload| PostData {
                            mime_type: header_value(headers, "content-type").unwrap_or_default(),
                            text: payload.data.clone(),
                            encoding: payload.is_binary().then_some("base64"),
                            truncated: payload.truncated,
                        }),
                        headers_size: -1,
                        body_size: body
                            .as_ref()
                            .map_or(0, |payload| size_as_i64(payload.size_bytes)),
                        api: Some(api.clone()),
                    },
                    pending_response(),
                );
                self.insert(event, entry);
            }
            EventBody::HttpResponse {
                status,
                status_text,
                headers,
                body,
                url,
                redirected,
                ..
            } => {
                let Some(entry) = self.entry_mut(event) else {
                    self.skip("http_response without its request");
                    return;
                };
                let wait_millis = millis_between(entry.started_micros, event.time_micros);
                entry.time = wait_millis;
                entry.timings = Timings::waited(wait_millis);
                entry.response = Response {
                    status: *status,
                    status_text: status_text.clone(),
                    http_version: String::new(),
                    cookies: response_cookies(headers),
                    headers: name_values(headers),
                    content: content(body.as_ref(), header_value(headers, "content-type")),
                    redirect_url: if *redirected {
                        url.clone().unwrap_or_default()
                    } else {
                        String::new()
                    },
                    headers_size: -1,
                    body_size: body
                        .as_ref()
                        .map_or(-1, |payload| size_as_i64(payload.size_bytes)),
                    error: None,
                    failure_kind: None,
                    ended_micros: Some(event.time_micros),
                };
            }
            EventBody::HttpFailure {
                failure,
                error_name,
                error_message,
            } => {
                let Some(entry) = self.entry_mut(event) else {
                    self.skip("http_failure without its request");
                    return;
                };
                let wait_millis = millis_between(entry.started_micros, event.time_micros);
                entry.time = wait_millis;
                entry.timings = Timings::waited(wait_millis);
                entry.response.error =
                    Some(match (error_name.is_empty(), error_message.is_empty()) {
                        (false, false) => format!("{error_name}: {error_message}"),
                        (false, true) => error_name.clone(),
                        (true, false) => error_message.clone(),
                        (true, true) => "failed".to_owned(),
                    });
                entry.response.failure_kind = Some(match failure {
                    HttpFailureKind::Network => "network",
                    HttpFailureKind::Abort => "abort",
                    HttpFailureKind::Timeout => "timeout",
                });
                entry.response.ended_micros = Some(event.time_micros);
            }
            EventBody::WsConnect { url, protocols } => {
                let mut headers = Vec::new();
                if !protocols.is_empty() {
                    headers.push(NameValue {
                        name: "Sec-WebSocket-Protocol".to_owned(),
                        value: protocols.join(", "),
                    });
                }
                let mut entry = new_entry(
                    event,
                    "websocket",
                    get_request(url, headers),
                    pending_response(),
                );
                entry.web_socket_messages = Some(Vec::new());
                self.insert(event, entry);
            }
            EventBody::WsOpen {
                protocol,
                extensions,
            } => {
                let Some(entry) = self.entry_mut(event) else {
                    self.skip("ws_open without its ws_connect");
                    return;
                };
                let wait_millis = millis_between(entry.started_micros, event.time_micros);
                entry.time = wait_millis;
                entry.timings = Timings::waited(wait_millis);
                entry.response.status = 101;
                entry.response.status_text = "Switching Protocols".to_owned();
                entry.response.ended_micros = Some(event.time_micros);
                for (name, value) in [
                    ("Sec-WebSocket-Protocol", protocol),
                    ("Sec-WebSocket-Extensions", extensions),
                ] {
                    if !value.is_empty() {
                        entry.response.headers.push(NameValue {
                            name: name.to_owned(),
                            value: value.clone(),
                        });
                    }
                }
            }
            EventBody::WsMessage { direction, payload } => {
                let Some(entry) = self.entry_mut(event) else {
                    self.skip("ws_message without its ws_connect");
                    return;
                };
                entry
                    .web_socket_messages
                    .get_or_insert_with(Vec::new)
                    .push(WebSocketMessage {
                        kind: match direction {
                            Direction::Sent => "send",
                            Direction::Received => "receive",
                        },
                        time: seconds(event.time_micros),
                        opcode: if payload.is_binary() { 2 } else { 1 },
                        data: payload.data.clone(),
                    });
            }
            EventBody::WsClose {
                code,
                reason,
                was_clean,
            } => {
                let Some(entry) = self.entry_mut(event) else {
                    self.skip("ws_close without its ws_connect");
                    return;
                };
                entry.web_socket_close = Some(WebSocketClose {
                    code: *code,
                    reason: reason.clone(),
                    was_clean: *was_clean,
                    time: seconds(event.time_micros),
                });
            }
            EventBody::WsError {} => {
                let Some(entry) = self.entry_mut(event) else {
                    self.skip("ws_error without its ws_connect");
                    return;
                };
                entry.response.error = Some("WebSocket error".to_owned());
            }
            EventBody::SseConnect { url, .. } => {
                let mut entry = new_entry(
                    event,
                    "eventsource",
                    get_request(url, Vec::new()),
                    pending_response(),
                );
                entry.event_source_messages = Some(Vec::new());
                self.insert(event, entry);
            }
            EventBody::SseOpen {} => {
                let Some(entry) = self.entry_mut(event) else {
                    self.skip("sse_open without its sse_connect");
                    return;
                };
                let wait_millis = millis_between(entry.started_micros, event.time_micros);
                entry.time = wait_millis;
                entry.timings = Timings::waited(wait_millis);
                // EventSource only opens on a 200 text/event-stream response.
                entry.response.status = 200;
                entry.response.status_text = "OK".to_owned();
                entry.response.content.mime_type = "text/event-stream".to_owned();
                entry.response.ended_micros = Some(event.time_micros);
            }
            EventBody::SseMessage {
                event_type,
                data,
                last_event_id,
            } => {
                let Some(entry) = self.entry_mut(event) else {
                    self.skip("sse_message without its sse_connect");
                    return;
                };
                entry
                    .event_source_messages
                    .get_or_insert_with(Vec::new)
                    .push(EventSourceMessage {
                        time: seconds(event.time_micros),
                        event_name: event_type.clone(),
                        event_id: last_event_id.clone(),
                        data: data.clone(),
                    });
            }
            EventBody::SseError { ready_state } => {
                let Some(entry) = self.entry_mut(event) else {
                    self.skip("sse_error without its sse_connect");
                    return;
                };
                entry.response.error =
                    Some(format!("EventSource error (readyState {ready_state})"));
            }
            EventBody::CorsPreflight {
                url,
                request_headers,
                status,
                response_headers,
                error,
                ended_micros,
                ..
            } => {
                let mut request = get_request(url, name_values(request_headers));
                request.method = "OPTIONS".to_owned();
                let mut entry = new_entry(event, "preflight", request, pending_response());
                if let Some(status) = status {
                    entry.response.status = *status;
                    entry.response.headers = name_values(response_headers);
                }
                entry.response.error = error.clone();
                if let Some(ended_micros) = ended_micros {
                    let wait_millis = millis_between(event.time_micros, *ended_micros);
                    entry.time = wait_millis;
                    entry.timings = Timings::waited(wait_millis);
                    entry.response.ended_micros = Some(*ended_micros);
                }
                // Preflights are observed outside the page with their own ids: never the
                // target of later events.
                self.entries.push(entry);
            }
            EventBody::Dropped { count, .. } => {
                self.dropped_by_producer = self.dropped_by_producer.saturating_add(*count);
            }
            other => self.skip(&other.type_name()),
        }
    }

    fn insert(&mut self, event: &CaptureEvent, entry: Entry) {
        self.open.insert(
            (event.session_id.clone(), event.connection_id.clone()),
            self.entries.len(),
        );
        self.entries.push(entry);
    }

    fn finish(mut self, creator_version: &str) -> (Log, BTreeMap<String, usize>) {
        for entry in &mut self.entries {
            if self.page_ids.contains_key(&entry.session_id) {
                entry.pageref = Some(entry.session_id.clone());
            }
        }
        // Stable sort: ties keep capture order.
        self.entries.sort_by_key(|entry| entry.started_micros);
        let log = Log {
            version: "1.2",
            creator: Creator {
                name: "Framescope",
                version: creator_version.to_owned(),
            },
            pages: self.pages,
            entries: self.entries,
            dropped_by_producer: self.dropped_by_producer,
        };
        (log, self.skipped)
    }
}

fn size_as_i64(size_bytes: u64) -> i64 {
    i64::try_from(size_bytes).unwrap_or(i64::MAX)
}

fn new_entry(
    event: &CaptureEvent,
    resource_type: &'static str,
    request: Request,
    response: Response,
) -> Entry {
    Entry {
        pageref: None,
        started_date_time: iso8601_from_micros(event.time_micros),
        time: 0.0,
        request,
        response,
        cache: Empty {},
        timings: Timings::waited(0.0),
        resource_type,
        web_socket_messages: None,
        web_socket_close: None,
        event_source_messages: None,
        session_id: event.session_id.clone(),
        connection_id: event.connection_id.clone(),
        started_micros: event.time_micros,
    }
}

fn get_request(url: &str, headers: Vec<NameValue>) -> Request {
    Request {
        method: "GET".to_owned(),
        url: url.to_owned(),
        http_version: String::new(),
        cookies: Vec::new(),
        headers,
        query_string: query_string(url),
        post_data: None,
        headers_size: -1,
        body_size: 0,
        api: None,
    }
}

/// The response of an exchange that has not (yet) answered: status 0, as Chrome writes it.
fn pending_response() -> Response {
    Response {
        status: 0,
        status_text: String::new(),
        http_version: String::new(),
        cookies: Vec::new(),
        headers: Vec::new(),
        content: Content {
            size: 0,
            mime_type: String::new(),
            text: None,
            encoding: None,
            truncated: false,
        },
        redirect_url: String::new(),
        headers_size: -1,
        body_size: -1,
        error: None,
        failure_kind: None,
        ended_micros: None,
    }
}

fn content(body: Option<&Payload>, mime_type: Option<String>) -> Content {
    Content {
        size: body.map_or(0, |payload| size_as_i64(payload.size_bytes)),
        mime_type: mime_type.unwrap_or_default(),
        text: body.map(|payload| payload.data.clone()),
        encoding: body.filter(|payload| payload.is_binary()).map(|_| "base64"),
        truncated: body.is_some_and(|payload| payload.truncated),
    }
}

fn name_values(headers: &HeaderList) -> Vec<NameValue> {
    headers
        .iter()
        .map(|(name, value)| NameValue {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

fn header_value(headers: &HeaderList, name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(header, _)| header.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.clone())
}

fn query_string(url: &str) -> Vec<NameValue> {
    let without_fragment = url.split('#').next().unwrap_or_default();
    let Some((_, query)) = without_fragment.split_once('?') else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            NameValue {
                name: super::redact::percent_decode(name),
                value: super::redact::percent_decode(value),
            }
        })
        .collect()
}

fn request_cookies(headers: &HeaderList) -> Vec<Cookie> {
    headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, value)| value.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            Some(Cookie {
                name: name.trim().to_owned(),
                value: value.trim().to_owned(),
                path: None,
                domain: None,
                http_only: None,
                secure: None,
            })
        })
        .collect()
}

fn response_cookies(headers: &HeaderList) -> Vec<Cookie> {
    headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, value)| {
            let mut parts = value.split(';');
            let (name, cookie_value) = parts.next()?.split_once('=')?;
            let mut cookie = Cookie {
                name: name.trim().to_owned(),
                value: cookie_value.trim().to_owned(),
                path: None,
                domain: None,
                http_only: None,
                secure: None,
            };
            for attribute in parts {
                let (key, attribute_value) = attribute
                    .split_once('=')
                    .map_or((attribute.trim(), ""), |(key, value)| {
                        (key.trim(), value.trim())
                    });
                match key.to_ascii_lowercase().as_str() {
                    "path" => cookie.path = Some(attribute_value.to_owned()),
                    "domain" => cookie.domain = Some(attribute_value.to_owned()),
                    "httponly" => cookie.http_only = Some(true),
                    "secure" => cookie.secure = Some(true),
                    _ => {}
                }
            }
            Some(cookie)
        })
        .collect()
}
