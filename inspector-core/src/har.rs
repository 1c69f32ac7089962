//! HAR 1.2 import: a browser's saved network log turned into capture events.
//!
//! Data enters as the text of a `.har` file ([`import_har`]) and leaves as
//! [`CaptureEvent`]s in time order, ready for a session, plus [`HarNote`]s for the things the
//! importer met but could not represent (a ping frame, an undecodable base64 body). Nothing
//! is dropped silently: what does not fit is either an error naming its position or a note.
//!
//! - Each entry becomes an HTTP exchange on its own connection (`har-<index>`): an
//!   `http_request` at `startedDateTime` and an `http_response` at `startedDateTime + time`.
//!   A response with status 0 (no response reached the browser) becomes an `http_failure`
//!   whose message is Chrome's `response._error` (`net::ERR_...`) when present.
//! - An entry with Chrome's `_webSocketMessages` extension (or a `ws:`/`wss:` URL, or
//!   `_resourceType: "websocket"`) becomes a WebSocket (`har-ws-<index>`): `ws_connect`,
//!   `ws_open` when the handshake succeeded (101, or 200 for an HTTP/2 extended CONNECT),
//!   one `ws_message` per text (opcode 1) or binary (opcode 2, base64 in `data`) message and
//!   a `ws_close`. Message times are seconds since the Unix epoch in DevTools' export and
//!   milliseconds in Playwright's; the unit that puts the messages nearest the entry's start is
//!   used. HAR does not record how a socket closed (unless a tool writes opcode 8 frames), so
//!   the close is placed after the last message with code 1005, the code RFC 6455 §7.4.1
//!   reserves for "no status code was present", and `was_clean: false`.
//! - `log.pages` become `page` events. Times are microseconds since the Unix epoch.
//! - Framescope's own members, written by [`crate::export::har`], are read back so that a
//!   HAR round trip keeps what the capture knew: `_sessionId` and `_connectionId` (the
//!   page session and connection of each entry, instead of `pageref` and `har-<index>`;
//!   `_connectionId` only in files whose `log.creator.name` is `Framescope`, because Chrome
//!   uses the same name for its TCP connection, shared by many requests),
//!   `_startedMicros` and `response._endedMicros` (microsecond start and end), `request._api`,
//!   `response._failureKind`, `_webSocketClose` (the real close code, reason and time),
//!   `_eventSourceMessages` (an EventSource: `sse_connect`, `sse_open`, `sse_message`s,
//!   `sse_error`), `_resourceType: "preflight"` (a `cors_preflight`), `_truncated` bodies and
//!   `log.pages[]._url`. Files of other tools do not have them and import as before.
//!
//! Errors carry a position: the line and column for JSON that is malformed or not shaped
//! like HAR, and the JSON path (`log.entries[3].startedDateTime`) for values that are.

use base64::Engine as _;
use serde::Deserialize;

use crate::event::{
    CaptureEvent, Direction, EventBody, HeaderList, HttpFailureKind, Payload, PayloadEncoding,
    SCHEMA_VERSION,
};

/// Why a HAR file could not be imported.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HarError {
    /// Not JSON, or JSON that is not shaped like a HAR log (a missing or mistyped member).
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde_json reported.
        message: String,
    },
    /// A date-time that is not ISO 8601 / RFC 3339.
    #[error("{path}: `{value}` is not an ISO 8601 date-time")]
    InvalidDateTime {
        /// JSON path of the value.
        path: String,
        /// The value.
        value: String,
    },
    /// A number that cannot be a time or duration (negative, not finite, out of range).
    #[error("{path}: {value} is not a valid {what}")]
    InvalidNumber {
        /// JSON path of the value.
        path: String,
        /// The value as read.
        value: f64,
        /// What it should have been.
        what: &'static str,
    },
}

/// Something in the file that the importer kept differently or could not represent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarNote {
    /// JSON path of the value concerned.
    pub path: String,
    /// What happened to it.
    pub message: String,
}

/// The result of [`import_har`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HarImport {
    /// Capture events sorted by time (ties keep file order).
    pub events: Vec<CaptureEvent>,
    /// Things met but not represented as events, in file order.
    pub notes: Vec<HarNote>,
}

/// The session id given to events of entries that name no page.
pub const DEFAULT_SESSION_ID: &str = "har";

/// Messages further than this from their entry's start are reported in a note.
const MAX_MESSAGE_DISTANCE_MICROS: u64 = 86_400 * 1_000_000;

/// RFC 6455 §7.4.1: "no status code was actually present".
const CLOSE_CODE_NO_STATUS: u16 = 1005;

#[derive(Deserialize)]
struct HarFile {
    log: HarLog,
}

#[derive(Deserialize)]
struct HarLog {
    #[serde(default)]
    creator: Option<HarCreator>,
    #[serde(default)]
    pages: Vec<HarPage>,
    entries: Vec<HarEntry>,
}

#[derive(Deserialize)]
struct HarCreator {
    #[serde(default)]
    name: String,
}

/// `log.creator.name` of files written by [`crate::export::har`].
const FRAMESCOPE_CREATOR: &str = "Framescope";

#[derive(Deserialize)]
struct HarPage {
    #[serde(rename = "startedDateTime")]
    started_date_time: String,
    id: String,
    #[serde(default)]
    title: String,
    /// Framescope: the page's URL (HAR 1.2 only has a title).
    #[serde(rename = "_url", default)]
    url: Option<String>,
    /// Framescope: the `page` event's connection id.
    #[serde(rename = "_connectionId", default)]
    connection_id: Option<String>,
}

#[derive(Deserialize)]
struct HarEntry {
    #[serde(default)]
    pageref: Option<String>,
    #[serde(rename = "startedDateTime")]
    started_date_time: String,
    #[serde(default)]
    time: Option<f64>,
    request: HarRequest,
    response: HarResponse,
    #[serde(default)]
    timings: Option<HarTimings>,
    #[serde(rename = "_resourceType", default)]
    resource_type: Option<String>,
    #[serde(rename = "_webSocketMessages", default)]
    web_socket_messages: Option<Vec<HarWebSocketMessage>>,
    /// Framescope: how the WebSocket closed.
    #[serde(rename = "_webSocketClose", default)]
    web_socket_close: Option<HarWebSocketClose>,
    /// Framescope: the messages of an EventSource.
    #[serde(rename = "_eventSourceMessages", default)]
    event_source_messages: Option<Vec<HarEventSourceMessage>>,
    /// Framescope: the page session (capture `session_id`) of the entry.
    #[serde(rename = "_sessionId", default)]
    capture_session_id: Option<String>,
    /// Framescope: the connection (capture `connection_id`) of the entry.
    #[serde(rename = "_connectionId", default)]
    capture_connection_id: Option<String>,
    /// Framescope: `startedDateTime` in microseconds since the Unix epoch.
    #[serde(rename = "_startedMicros", default)]
    started_micros: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HarWebSocketClose {
    code: u16,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    was_clean: bool,
    /// Seconds since the Unix epoch, as `_webSocketMessages[].time`.
    time: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HarEventSourceMessage {
    /// Seconds since the Unix epoch, as `_webSocketMessages[].time`.
    time: f64,
    #[serde(default)]
    event_name: String,
    #[serde(default)]
    event_id: String,
    #[serde(default)]
    data: String,
}

#[derive(Deserialize)]
struct HarHeader {
    name: String,
    value: String,
}

#[derive(Deserialize)]
struct HarRequest {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<HarHeader>,
    #[serde(rename = "postData", default)]
    post_data: Option<HarPostData>,
    /// Framescope: `fetch` or `xhr`.
    #[serde(rename = "_api", default)]
    api: Option<String>,
    #[serde(rename = "bodySize", default)]
    body_size: Option<f64>,
}

#[derive(Deserialize)]
struct HarParam {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
struct HarPostData {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    params: Vec<HarParam>,
    /// Not in HAR 1.2, but some tools write base64 request bodies this way.
    #[serde(default)]
    encoding: Option<String>,
    /// Framescope: the body was captured only in part.
    #[serde(rename = "_truncated", default)]
    truncated: bool,
}

#[derive(Deserialize)]
struct HarResponse {
    status: i64,
    #[serde(rename = "statusText", default)]
    status_text: String,
    #[serde(default)]
    headers: Vec<HarHeader>,
    #[serde(default)]
    content: Option<HarContent>,
    #[serde(rename = "_error", default)]
    error: Option<String>,
    /// Framescope: `network`, `abort` or `timeout`.
    #[serde(rename = "_failureKind", default)]
    failure_kind: Option<String>,
    /// Framescope: when the response (or failure, or WebSocket open) arrived, microseconds
    /// since the Unix epoch.
    #[serde(rename = "_endedMicros", default)]
    ended_micros: Option<u64>,
}

#[derive(Deserialize)]
struct HarContent {
    #[serde(default)]
    size: Option<f64>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
    /// Framescope: the body was captured only in part.
    #[serde(rename = "_truncated", default)]
    truncated: bool,
}

#[derive(Deserialize, Default)]
struct HarTimings {
    #[serde(default)]
    blocked: Option<f64>,
    #[serde(default)]
    dns: Option<f64>,
    #[serde(default)]
    connect: Option<f64>,
    #[serde(default)]
    send: Option<f64>,
    #[serde(default)]
    wait: Option<f64>,
}

#[derive(Deserialize)]
struct HarWebSocketMessage {
    #[serde(rename = "type")]
    kind: String,
    time: f64,
    opcode: i64,
    #[serde(default)]
    data: String,
    /// Written by some tools on close frames.
    #[serde(default)]
    code: Option<u16>,
}

/// True when `text` looks like a HAR file rather than an NDJSON capture: its first line is
/// not a complete JSON object (a pretty-printed file), or it is one with a `log` member.
pub fn looks_like_har(text: &str) -> bool {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let first_line = trimmed.lines().next().unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(first_line) {
        Ok(serde_json::Value::Object(object)) => object.contains_key("log"),
        Ok(_) => false,
        Err(_) => trimmed.starts_with('{'),
    }
}

/// Imports a HAR file, returning its events and any notes.
pub fn import_har(text: &str) -> Result<HarImport, HarError> {
    let text = text.trim_start_matches('\u{feff}');
    let file: HarFile = serde_json::from_str(text).map_err(|error| HarError::Syntax {
        line: error.line(),
        column: error.column(),
        message: error.to_string(),
    })?;
    let mut builder = Builder {
        // Chrome writes `_connectionId` too, for its TCP connection (shared by requests):
        // only Framescope's own files name capture connections with it.
        own_connection_ids: file
            .log
            .creator
            .as_ref()
            .is_some_and(|creator| creator.name == FRAMESCOPE_CREATOR),
        ..Builder::default()
    };
    for (index, page) in file.log.pages.iter().enumerate() {
        let path = format!("log.pages[{index}].startedDateTime");
        let time_micros = parse_date_time_micros(&page.started_date_time).ok_or_else(|| {
            HarError::InvalidDateTime {
                path,
                value: page.started_date_time.clone(),
            }
        })?;
        builder.push(
            &page.id,
            &page
                .connection_id
                .clone()
                .filter(|_| builder.own_connection_ids)
                .unwrap_or_else(|| format!("har-page-{index}")),
            time_micros,
            EventBody::Page {
                url: page.url.clone().unwrap_or_else(|| page.title.clone()),
                title: page.title.clone(),
                origin: String::new(),
                hook_version: String::new(),
            },
        );
    }
    for (index, entry) in file.log.entries.iter().enumerate() {
        builder.entry(index, entry)?;
    }
    let Builder {
        mut events, notes, ..
    } = builder;
    // Stable: events at the same microsecond keep file order (request before response).
    events.sort_by_key(|event| event.time_micros);
    Ok(HarImport { events, notes })
}

/// Imports a HAR file and returns only its events (see [`import_har`] for the notes).
pub fn parse_har(text: &str) -> Result<Vec<CaptureEvent>, HarError> {
    import_har(text).map(|import| import.events)
}

#[derive(Default)]
struct Builder {
    events: Vec<CaptureEvent>,
    notes: Vec<HarNote>,
    /// (session, connection) pairs given to entries so far.
    used_connections: std::collections::HashSet<(String, String)>,
    /// The file is Framescope's: `_connectionId` names capture connections.
    own_connection_ids: bool,
}

/// Where an entry's events go and when it started and ended.
struct EntryPlace<'a> {
    path: &'a str,
    index: usize,
    session_id: &'a str,
    /// The entry's own connection id (`_connectionId`), when it has a usable one.
    connection_id: Option<&'a str>,
    started_micros: u64,
    duration_micros: u64,
    /// `response._endedMicros`, when present and not before the start.
    ended_micros: Option<u64>,
}

impl EntryPlace<'_> {
    fn connection_id(&self, default_prefix: &str) -> String {
        self.connection_id
            .map_or_else(|| format!("{default_prefix}{}", self.index), str::to_owned)
    }

    fn ended_micros(&self) -> u64 {
        self.ended_micros
            .unwrap_or_else(|| self.started_micros.saturating_add(self.duration_micros))
    }
}

/// Splits `Name: message` as the exporter joined a failure's error name and message; a
/// first part that is not a single word stays in the message.
fn split_error(text: &str) -> (String, String) {
    match text.split_once(": ") {
        Some((name, message))
            if !name.is_empty()
                && name
                    .chars()
                    .all(|character| character.is_ascii_alphanumeric() || character == '_') =>
        {
            (name.to_owned(), message.to_owned())
        }
        _ => (String::new(), text.to_owned()),
    }
}

fn headers(list: &[HarHeader]) -> HeaderList {
    list.iter()
        .map(|header| (header.name.clone(), header.value.clone()))
        .collect()
}

fn header_value<'a>(list: &'a [HarHeader], name: &str) -> Option<&'a str> {
    list.iter()
        .find(|header| header.name.eq_ignore_ascii_case(name))
        .map(|header| header.value.as_str())
}

/// Milliseconds (as HAR writes durations) to whole microseconds.
fn millis_to_micros(path: &str, millis: f64, what: &'static str) -> Result<u64, HarError> {
    let micros = (millis * 1_000.0).round();
    if millis.is_finite() && micros >= 0.0 && micros < u64::MAX as f64 {
        Ok(micros as u64)
    } else {
        Err(HarError::InvalidNumber {
            path: path.to_owned(),
            value: millis,
            what,
        })
    }
}

impl Builder {
    fn push(&mut self, session_id: &str, connection_id: &str, time_micros: u64, body: EventBody) {
        self.events.push(CaptureEvent {
            v: SCHEMA_VERSION,
            session_id: session_id.to_owned(),
            connection_id: connection_id.to_owned(),
            time_micros,
            body,
        });
    }

    fn note(&mut self, path: String, message: impl Into<String>) {
        self.notes.push(HarNote {
            path,
            message: message.into(),
        });
    }

    fn entry(&mut self, index: usize, entry: &HarEntry) -> Result<(), HarError> {
        let path = format!("log.entries[{index}]");
        let started_micros = parse_date_time_micros(&entry.started_date_time).ok_or_else(|| {
            HarError::InvalidDateTime {
                path: format!("{path}.startedDateTime"),
                value: entry.started_date_time.clone(),
            }
        })?;
        // HAR uses -1 for "not known"; treat it (and a missing time) as zero duration.
        let duration_micros = match entry.time {
            Some(millis) if millis >= 0.0 => {
                millis_to_micros(&format!("{path}.time"), millis, "duration in milliseconds")?
            }
            Some(millis) if millis.is_nan() || millis.is_infinite() => {
                return Err(HarError::InvalidNumber {
                    path: format!("{path}.time"),
                    value: millis,
                    what: "duration in milliseconds",
                });
            }
            _ => 0,
        };
        // Framescope's microsecond start, unless it contradicts `startedDateTime`.
        let started_micros = match entry.started_micros {
            Some(micros) if micros.abs_diff(started_micros) < 1_000 => micros,
            Some(micros) => {
                self.note(
                    format!("{path}._startedMicros"),
                    format!(
                        "{micros} disagrees with startedDateTime by more than a millisecond; \
                         startedDateTime used"
                    ),
                );
                started_micros
            }
            None => started_micros,
        };
        let session_id = entry
            .capture_session_id
            .as_deref()
            .filter(|session| !session.is_empty())
            .or(entry.pageref.as_deref().filter(|page| !page.is_empty()))
            .unwrap_or(DEFAULT_SESSION_ID);
        let own_connection_id = entry
            .capture_connection_id
            .as_deref()
            .filter(|_| self.own_connection_ids);
        let connection_id = match own_connection_id {
            Some(connection) if !connection.is_empty() => {
                if self
                    .used_connections
                    .insert((session_id.to_owned(), connection.to_owned()))
                {
                    Some(connection)
                } else {
                    self.note(
                        format!("{path}._connectionId"),
                        format!(
                            "connection `{connection}` already names an earlier entry; this \
                             entry gets its own"
                        ),
                    );
                    None
                }
            }
            _ => None,
        };
        let ended_micros = entry
            .response
            .ended_micros
            .filter(|ended| *ended >= started_micros);
        let place = EntryPlace {
            path: &path,
            index,
            session_id,
            connection_id,
            started_micros,
            duration_micros,
            ended_micros,
        };
        let resource_type = entry.resource_type.as_deref().unwrap_or_default();
        if resource_type.eq_ignore_ascii_case("preflight") {
            self.preflight(&place, entry);
            return Ok(());
        }
        if entry.event_source_messages.is_some()
            || resource_type.eq_ignore_ascii_case("eventsource")
        {
            return self.event_source(&place, entry);
        }
        let url = &entry.request.url;
        let is_websocket = entry.web_socket_messages.is_some()
            || entry
                .resource_type
                .as_deref()
                .is_some_and(|kind| kind.eq_ignore_ascii_case("websocket"))
            || url.starts_with("ws:")
            || url.starts_with("wss:");
        if is_websocket {
            self.websocket(&place, entry)
        } else {
            self.http(&place, entry);
            Ok(())
        }
    }

    fn preflight(&mut self, place: &EntryPlace<'_>, entry: &HarEntry) {
        let response = &entry.response;
        let status = u16::try_from(response.status)
            .ok()
            .filter(|status| *status > 0);
        let connection_id = place.connection_id("har-preflight-");
        self.push(
            place.session_id,
            &connection_id,
            place.started_micros,
            EventBody::CorsPreflight {
                url: entry.request.url.clone(),
                initiator: None,
                request_headers: headers(&entry.request.headers),
                status,
                response_headers: if status.is_some() {
                    headers(&response.headers)
                } else {
                    Vec::new()
                },
                error: response.error.clone(),
                ended_micros: Some(place.ended_micros()),
            },
        );
    }

    fn event_source(&mut self, place: &EntryPlace<'_>, entry: &HarEntry) -> Result<(), HarError> {
        let connection_id = place.connection_id("har-sse-");
        let session_id = place.session_id;
        self.push(
            session_id,
            &connection_id,
            place.started_micros,
            EventBody::SseConnect {
                url: entry.request.url.clone(),
                with_credentials: false,
            },
        );
        let mut last_micros = place.started_micros;
        if entry.response.status == 200 {
            last_micros = place.ended_micros();
            self.push(
                session_id,
                &connection_id,
                last_micros,
                EventBody::SseOpen {},
            );
        }
        let messages = entry.event_source_messages.as_deref().unwrap_or_default();
        let times: Vec<f64> = messages.iter().map(|message| message.time).collect();
        let unit = message_time_unit(&times, place.started_micros);
        for (message_index, message) in messages.iter().enumerate() {
            let time_micros = unit.micros_at(
                message.time,
                || format!("{}._eventSourceMessages[{message_index}].time", place.path),
                "message time",
            )?;
            last_micros = last_micros.max(time_micros);
            self.push(
                session_id,
                &connection_id,
                last_micros,
                EventBody::SseMessage {
                    event_type: if message.event_name.is_empty() {
                        "message".to_owned()
                    } else {
                        message.event_name.clone()
                    },
                    data: message.data.clone(),
                    last_event_id: message.event_id.clone(),
                },
            );
        }
        if let Some(error) = &entry.response.error {
            // The exporter writes `EventSource error (readyState N)`.
            let ready_state = error
                .rsplit_once("readyState ")
                .and_then(|(_, rest)| rest.trim_end_matches(')').parse().ok())
                .unwrap_or(2);
            self.push(
                session_id,
                &connection_id,
                last_micros,
                EventBody::SseError { ready_state },
            );
        }
        Ok(())
    }

    fn http(&mut self, place: &EntryPlace<'_>, entry: &HarEntry) {
        let path = place.path;
        let session_id = place.session_id;
        let started_micros = place.started_micros;
        let connection_id = place.connection_id("har-");
        let request = &entry.request;
        let body = request.post_data.as_ref().and_then(|post| {
            let declared = request
                .body_size
                .filter(|size| size.is_finite() && *size >= 0.0)
                .map(|size| size as u64);
            self.request_body(&format!("{path}.request.postData"), post, declared)
        });
        let api = request
            .api
            .clone()
            .or_else(|| entry.resource_type.clone())
            .filter(|kind| !kind.is_empty())
            .unwrap_or_else(|| "har".to_owned());
        self.push(
            session_id,
            &connection_id,
            started_micros,
            EventBody::HttpRequest {
                api,
                method: request.method.clone(),
                url: request.url.clone(),
                headers: headers(&request.headers),
                body_kind: Some(if body.is_some() { "text" } else { "none" }.to_owned()),
                body,
                mode: None,
                credentials: None,
                redirect: None,
                upload_listeners: false,
            },
        );
        let ended_micros = place.ended_micros();
        let response = &entry.response;
        if response.status <= 0 || response.status > i64::from(u16::MAX) {
            let error = response.error.clone().unwrap_or_default();
            let own_kind = match response.failure_kind.as_deref() {
                Some("network") => Some(HttpFailureKind::Network),
                Some("abort") => Some(HttpFailureKind::Abort),
                Some("timeout") => Some(HttpFailureKind::Timeout),
                _ => None,
            };
            // Our own files say which failure it was and keep the error's name; other
            // browsers' files only have the error text to go by.
            let (failure, error_name, error_message) = if let Some(failure) = own_kind {
                let (error_name, error_message) = split_error(&error);
                (failure, error_name, error_message)
            } else if error.is_empty() {
                (
                    HttpFailureKind::Network,
                    String::new(),
                    format!("no response recorded (status {})", response.status),
                )
            } else if error.contains("ERR_ABORTED") || error.contains("NS_BINDING_ABORTED") {
                (HttpFailureKind::Abort, String::new(), error)
            } else if error.contains("TIMED_OUT") || error.contains("NS_ERROR_NET_TIMEOUT") {
                (HttpFailureKind::Timeout, String::new(), error)
            } else {
                (HttpFailureKind::Network, String::new(), error)
            };
            self.push(
                session_id,
                &connection_id,
                ended_micros,
                EventBody::HttpFailure {
                    failure,
                    error_name,
                    error_message,
                },
            );
            return;
        }
        let body = response
            .content
            .as_ref()
            .and_then(|content| self.response_body(&format!("{path}.response.content"), content));
        self.push(
            session_id,
            &connection_id,
            ended_micros,
            EventBody::HttpResponse {
                status: response.status as u16,
                status_text: response.status_text.clone(),
                headers: headers(&response.headers),
                body,
                response_type: None,
                url: None,
                redirected: false,
            },
        );
    }

    fn request_body(
        &mut self,
        path: &str,
        post: &HarPostData,
        declared_body_size_bytes: Option<u64>,
    ) -> Option<Payload> {
        let text = match (&post.text, post.params.is_empty()) {
            (Some(text), _) => text.clone(),
            (None, false) => post
                .params
                .iter()
                .map(|param| format!("{}={}", param.name, param.value.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("&"),
            (None, true) => return None,
        };
        let base64 = post
            .encoding
            .as_deref()
            .is_some_and(|encoding| encoding.eq_ignore_ascii_case("base64"));
        let declared_size_bytes = declared_body_size_bytes.filter(|_| post.truncated);
        let mut payload = self.payload(path, text, base64, declared_size_bytes);
        payload.truncated |= post.truncated;
        Some(payload)
    }

    fn response_body(&mut self, path: &str, content: &HarContent) -> Option<Payload> {
        let size_bytes = content
            .size
            .filter(|size| size.is_finite() && *size >= 0.0)
            .map(|size| size as u64);
        let base64 = content
            .encoding
            .as_deref()
            .is_some_and(|encoding| encoding.eq_ignore_ascii_case("base64"));
        match &content.text {
            Some(text) => {
                let mut payload = self.payload(path, text.clone(), base64, size_bytes);
                payload.truncated |= content.truncated;
                Some(payload)
            }
            // The browser saw a body but the file does not hold it (a sanitized export).
            None => size_bytes.filter(|size| *size > 0).map(|size| Payload {
                encoding: PayloadEncoding::Text,
                data: String::new(),
                size_bytes: size,
                truncated: true,
            }),
        }
    }

    /// A payload from HAR text; base64 that does not decode is kept as text with a note.
    fn payload(
        &mut self,
        path: &str,
        data: String,
        base64: bool,
        declared_size_bytes: Option<u64>,
    ) -> Payload {
        let actual_size_bytes = if base64 {
            match base64::engine::general_purpose::STANDARD.decode(data.as_bytes()) {
                Ok(bytes) => Some(bytes.len() as u64),
                Err(error) => {
                    self.note(
                        path.to_owned(),
                        format!("body marked base64 does not decode ({error}); kept as text"),
                    );
                    None
                }
            }
        } else {
            Some(data.len() as u64)
        };
        let (encoding, size_bytes) = match actual_size_bytes {
            Some(size) if base64 => (PayloadEncoding::Base64, size),
            Some(size) => (PayloadEncoding::Text, size),
            None => (PayloadEncoding::Text, data.len() as u64),
        };
        let declared = declared_size_bytes.unwrap_or(size_bytes);
        Payload {
            encoding,
            data,
            size_bytes: declared.max(size_bytes),
            truncated: declared > size_bytes,
        }
    }

    fn websocket(&mut self, place: &EntryPlace<'_>, entry: &HarEntry) -> Result<(), HarError> {
        let path = place.path;
        let session_id = place.session_id;
        let started_micros = place.started_micros;
        let duration_micros = place.duration_micros;
        let connection_id = place.connection_id("har-ws-");
        let request = &entry.request;
        let protocols = header_value(&request.headers, "Sec-WebSocket-Protocol")
            .map(|value| {
                value
                    .split(',')
                    .map(|protocol| protocol.trim().to_owned())
                    .filter(|protocol| !protocol.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        self.push(
            session_id,
            &connection_id,
            started_micros,
            EventBody::WsConnect {
                url: request.url.clone(),
                protocols,
            },
        );
        let messages = entry.web_socket_messages.as_deref().unwrap_or_default();
        let times: Vec<f64> = messages.iter().map(|message| message.time).collect();
        let unit = message_time_unit(&times, started_micros);
        // The handshake is over once the browser has sent it and waited for the answer.
        let timings = entry.timings.as_ref();
        let handshake_micros = timings.map_or(0.0, |timings| {
            [
                timings.blocked,
                timings.dns,
                timings.connect,
                timings.send,
                timings.wait,
            ]
            .iter()
            .flatten()
            .filter(|millis| millis.is_finite() && **millis > 0.0)
            .sum::<f64>()
                * 1_000.0
        });
        let mut last_micros = started_micros;
        let mut message_times = Vec::with_capacity(messages.len());
        for (message_index, message) in messages.iter().enumerate() {
            let message_path = format!("{path}._webSocketMessages[{message_index}]");
            let time_micros = unit.micros_at(
                message.time,
                || format!("{message_path}.time"),
                "message time",
            )?;
            message_times.push(time_micros);
        }
        let mut sorted_times = message_times.clone();
        sorted_times.sort_unstable();
        if let Some(median) = sorted_times.get(sorted_times.len() / 2)
            && median.abs_diff(started_micros) > MAX_MESSAGE_DISTANCE_MICROS
        {
            self.note(
                format!("{path}._webSocketMessages"),
                "message times are more than a day away from the entry's start; messages are \
                 placed at the connection's open time",
            );
        }
        let first_message_micros = sorted_times.first().copied();
        let status = entry.response.status;
        let opened = status == 101 || status == 200;
        if opened {
            let open_micros = started_micros.saturating_add(handshake_micros.round() as u64);
            let open_micros =
                first_message_micros.map_or(open_micros, |first| first.min(open_micros));
            // Framescope writes the open time itself.
            let open_micros = place.ended_micros.unwrap_or(open_micros);
            last_micros = last_micros.max(open_micros);
            self.push(
                session_id,
                &connection_id,
                last_micros,
                EventBody::WsOpen {
                    protocol: header_value(&entry.response.headers, "Sec-WebSocket-Protocol")
                        .unwrap_or_default()
                        .to_owned(),
                    extensions: header_value(&entry.response.headers, "Sec-WebSocket-Extensions")
                        .unwrap_or_default()
                        .to_owned(),
                },
            );
        } else {
            self.push(
                session_id,
                &connection_id,
                last_micros,
                EventBody::WsError {},
            );
        }
        let mut closed = false;
        for (message_index, (message, time_micros)) in
            messages.iter().zip(message_times).enumerate()
        {
            let message_path = format!("{path}._webSocketMessages[{message_index}]");
            // Keep the connection's events in order even if the file's times are not.
            last_micros = last_micros.max(time_micros);
            let direction = match message.kind.as_str() {
                "send" | "sent" => Direction::Sent,
                "receive" | "received" => Direction::Received,
                other => {
                    self.note(
                        format!("{message_path}.type"),
                        format!("unknown message type `{other}`; message skipped"),
                    );
                    continue;
                }
            };
            let payload = match message.opcode {
                1 => Payload::text(message.data.clone()),
                2 => self.payload(
                    &format!("{message_path}.data"),
                    message.data.clone(),
                    true,
                    None,
                ),
                8 => {
                    self.push(
                        session_id,
                        &connection_id,
                        last_micros,
                        EventBody::WsClose {
                            code: message.code.unwrap_or(CLOSE_CODE_NO_STATUS),
                            reason: message.data.clone(),
                            was_clean: true,
                        },
                    );
                    closed = true;
                    continue;
                }
                9 | 10 => {
                    self.note(
                        message_path,
                        format!(
                            "{} control frame has no capture event; skipped",
                            if message.opcode == 9 { "ping" } else { "pong" }
                        ),
                    );
                    continue;
                }
                other => {
                    self.note(
                        format!("{message_path}.opcode"),
                        format!("opcode {other} is not a WebSocket data frame; message skipped"),
                    );
                    continue;
                }
            };
            self.push(
                session_id,
                &connection_id,
                last_micros,
                EventBody::WsMessage { direction, payload },
            );
        }
        if opened && entry.response.error.is_some() {
            self.push(
                session_id,
                &connection_id,
                last_micros,
                EventBody::WsError {},
            );
        }
        if !closed && let Some(close) = &entry.web_socket_close {
            let time_micros = unit.micros_at(
                close.time,
                || format!("{path}._webSocketClose.time"),
                "close time",
            )?;
            self.push(
                session_id,
                &connection_id,
                last_micros.max(time_micros),
                EventBody::WsClose {
                    code: close.code,
                    reason: close.reason.clone(),
                    was_clean: close.was_clean,
                },
            );
            closed = true;
        }
        if !closed {
            let end_micros = last_micros.max(started_micros.saturating_add(duration_micros));
            let (code, was_clean) = if opened {
                (CLOSE_CODE_NO_STATUS, false)
            } else {
                // RFC 6455 §7.4.1: 1006, closed abnormally (the handshake failed).
                (1006, false)
            };
            self.push(
                session_id,
                &connection_id,
                end_micros,
                EventBody::WsClose {
                    code,
                    reason: String::new(),
                    was_clean,
                },
            );
        }
        Ok(())
    }
}

/// The unit of `_webSocketMessages[].time` in a file, counted from the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MessageTimeUnit {
    /// Seconds since the Unix epoch (Chrome DevTools).
    Seconds,
    /// Milliseconds since the Unix epoch (Playwright).
    Millis,
    /// Microseconds since the Unix epoch.
    Micros,
}

impl MessageTimeUnit {
    fn factor(self) -> f64 {
        match self {
            MessageTimeUnit::Seconds => 1_000_000.0,
            MessageTimeUnit::Millis => 1_000.0,
            MessageTimeUnit::Micros => 1.0,
        }
    }

    fn to_micros(self, time: f64) -> Option<u64> {
        let micros = (time * self.factor()).round();
        (time.is_finite() && micros >= 0.0 && micros < u64::MAX as f64).then_some(micros as u64)
    }

    /// [`Self::to_micros`], or the error naming the member at `path` when `time` has no
    /// place on the clock.
    fn micros_at(
        self,
        time: f64,
        path: impl FnOnce() -> String,
        what: &'static str,
    ) -> Result<u64, HarError> {
        self.to_micros(time).ok_or_else(|| HarError::InvalidNumber {
            path: path(),
            value: time,
            what,
        })
    }
}

/// Picks the unit that puts the median message nearest the entry's start.
fn message_time_unit(times: &[f64], started_micros: u64) -> MessageTimeUnit {
    let mut times: Vec<f64> = times
        .iter()
        .copied()
        .filter(|time| time.is_finite())
        .collect();
    if times.is_empty() {
        return MessageTimeUnit::Seconds;
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let started = started_micros as f64;
    [
        MessageTimeUnit::Seconds,
        MessageTimeUnit::Millis,
        MessageTimeUnit::Micros,
    ]
    .into_iter()
    .min_by(|a, b| {
        let distance = |unit: &MessageTimeUnit| (median * unit.factor() - started).abs();
        distance(a).total_cmp(&distance(b))
    })
    .unwrap_or(MessageTimeUnit::Seconds)
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian), Howard Hinnant's
/// `days_from_civil`.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Parses an ISO 8601 / RFC 3339 date-time (`2026-11-26T07:04:26.805Z`,
/// `2024-03-11T10:20:30.123+01:00`, `...+0100`; no offset means UTC) into microseconds
/// since the Unix epoch. Fractions beyond microseconds are truncated. `None` for anything
/// else or a time before 1970.
pub fn parse_date_time_micros(text: &str) -> Option<u64> {
    let bytes = text.trim().as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = bytes.get(range)?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    if bytes.len() < 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b'T' | b't' | b' ')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => return None,
    };
    // 60 admits a leap second, counted as the next second's start.
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut index = 19;
    let mut fraction_micros = 0i64;
    if bytes.get(index) == Some(&b'.') || bytes.get(index) == Some(&b',') {
        index += 1;
        let start = index;
        while index < bytes.len() && bytes[index].is_ascii_digit() {
            index += 1;
        }
        if index == start {
            return None;
        }
        let mut scale = 100_000;
        for digit in &bytes[start..index] {
            fraction_micros += i64::from(digit - b'0') * scale;
            scale /= 10;
        }
    }
    let offset_seconds = match bytes.get(index) {
        None => 0,
        Some(b'Z' | b'z') if index + 1 == bytes.len() => 0,
        Some(sign @ (b'+' | b'-')) => {
            let rest = &bytes[index + 1..];
            let (hours, minutes) = match rest.len() {
                5 if rest[2] == b':' => {
                    (number(index + 1..index + 3)?, number(index + 4..index + 6)?)
                }
                4 => (number(index + 1..index + 3)?, number(index + 3..index + 5)?),
                2 => (number(index + 1..index + 3)?, 0),
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3_600 + minutes * 60;
            if *sign == b'-' { -offset } else { offset }
        }
        Some(_) => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second
        - offset_seconds;
    let micros = seconds
        .checked_mul(1_000_000)?
        .checked_add(fraction_micros)?;
    u64::try_from(micros).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn date_times_parse_to_epoch_micros() {
        let cases: &[(&str, Option<u64>)] = &[
            ("1970-01-01T00:00:00Z", Some(0)),
            ("1970-01-01T00:00:00.000001Z", Some(1)),
            ("2026-11-26T07:04:26.805Z", Some(1_795_676_666_805_000)),
            ("2026-11-26T08:04:26.805+01:00", Some(1_795_676_666_805_000)),
            ("2026-11-26T02:04:26.805-0500", Some(1_795_676_666_805_000)),
            ("2026-11-26T07:04:26.8051239Z", Some(1_795_676_666_805_123)),
            ("2026-11-26T07:04:26Z", Some(1_795_676_666_000_000)),
            ("2026-11-26T07:04:26", Some(1_795_676_666_000_000)),
            ("2024-02-29T00:00:00Z", Some(1_709_164_800_000_000)),
            ("2023-02-29T00:00:00Z", None),
            ("2026-13-01T00:00:00Z", None),
            ("2026-11-26T24:00:00Z", None),
            ("2026-11-26", None),
            ("yesterday", None),
            ("2026-11-26T07:04:26.Z", None),
            ("2026-11-26T07:04:26Zjunk", None),
            ("1969-12-31T23:59:59Z", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_date_time_micros(text), *expected, "{text}");
        }
    }

    #[test]
    fn detects_har_and_ndjson() {
        assert!(looks_like_har("{\n  \"log\": {\n"));
        assert!(looks_like_har("\u{feff}{\"log\":{\"entries\":[]}}"));
        assert!(!looks_like_har(
            "{\"type\":\"ws_error\",\"time_micros\":1}\n{\"type\":\"ws_error\",\"time_micros\":2}"
        ));
        assert!(!looks_like_har("not json at all"));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let error = import_har("{\n  \"log\": {\n    \"entries\": [\n      {,}\n").unwrap_err();
        let HarError::Syntax { line, column, .. } = error else {
            panic!("{error:?}")
        };
        assert_eq!((line, column), (4, 8));
        let missing = import_har("{\"log\": {}}").unwrap_err();
        assert!(
            missing.to_string().contains("missing field `entries`"),
            "{missing}"
        );
    }

    #[test]
    fn message_time_unit_follows_the_entry_start() {
        let message = |time: f64| time;
        let started = 1_795_676_667_137_000;
        assert_eq!(
            message_time_unit(&[message(1_795_676_667.283)], started),
            MessageTimeUnit::Seconds
        );
        assert_eq!(
            message_time_unit(&[message(1_795_676_667_283.414)], started),
            MessageTimeUnit::Millis
        );
        assert_eq!(
            message_time_unit(&[message(1_795_676_667_283_414.0)], started),
            MessageTimeUnit::Micros
        );
    }
}
