//! The capture-event schema: what the hook (or any other producer) sends to the core.
//!
//! One event is one JSON object; a capture file is NDJSON (one event per line). The schema is
//! documented for other producers in `docs/capture-events.md`. Unknown members of known
//! event types are ignored when reading so that newer producers stay readable by older cores;
//! an event of an unknown `type` is kept whole as [`EventBody::Unknown`] (every member), so that
//! a session file written from it holds the same JSON.

use base64::Engine as _;
use serde::de::Error as _;
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The schema version written by this crate in every event's `v` member.
pub const SCHEMA_VERSION: u32 = 1;

/// One captured event with the members that every event carries.
///
/// Read by hand (see the [`Deserialize`] impl) rather than with `#[serde(flatten)]`: the
/// object is buffered once, as a JSON map, and an unknown `type` keeps all of its members.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaptureEvent {
    /// Schema version of the producer.
    #[serde(default = "default_version")]
    pub v: u32,
    /// Page (or worker, or process) that produced the event; stable for its lifetime.
    #[serde(default)]
    pub session_id: String,
    /// Transport instance: one fetch/XHR exchange, one WebSocket, one EventSource, one
    /// shared-memory channel. Stable for the lifetime of that instance, unique in a session.
    #[serde(default)]
    pub connection_id: String,
    /// Wall-clock time in microseconds since the Unix epoch (`performance.timeOrigin +
    /// performance.now()` in a page), so that events from workers line up with the page.
    pub time_micros: u64,
    /// What happened.
    #[serde(flatten)]
    pub body: EventBody,
}

fn default_version() -> u32 {
    SCHEMA_VERSION
}

/// Removes member `name` from `members` and reads it as a `T`; `None` when it is absent.
fn take_member<T: serde::de::DeserializeOwned, E: serde::de::Error>(
    members: &mut serde_json::Map<String, serde_json::Value>,
    name: &'static str,
) -> Result<Option<T>, E> {
    members
        .remove(name)
        .map(|value| {
            T::deserialize(value).map_err(|error| E::custom(format_args!("`{name}`: {error}")))
        })
        .transpose()
}

impl<'de> Deserialize<'de> for CaptureEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut members = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let v = take_member(&mut members, "v")?.unwrap_or_else(default_version);
        let session_id = take_member(&mut members, "session_id")?.unwrap_or_default();
        let connection_id = take_member(&mut members, "connection_id")?.unwrap_or_default();
        let time_micros = take_member(&mut members, "time_micros")?
            .ok_or_else(|| D::Error::missing_field("time_micros"))?;
        let body = EventBody::from_members(members).map_err(D::Error::custom)?;
        Ok(CaptureEvent {
            v,
            session_id,
            connection_id,
            time_micros,
            body,
        })
    }
}

/// A captured payload: text, or bytes carried as base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Payload {
    /// `text` or `base64`.
    pub encoding: PayloadEncoding,
    /// The (possibly truncated) content.
    pub data: String,
    /// Size of the original payload in bytes, before any truncation.
    #[serde(default)]
    pub size_bytes: u64,
    /// True when `data` holds only the first part of the payload.
    #[serde(default)]
    pub truncated: bool,
}

/// How [`Payload::data`] is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PayloadEncoding {
    /// UTF-8 text as is.
    #[default]
    Text,
    /// Binary data, standard base64 with padding.
    Base64,
}

/// Error returned when a payload's base64 cannot be decoded.
#[derive(Debug, thiserror::Error)]
#[error("payload is not valid base64: {source}")]
pub struct PayloadDecodeError {
    #[from]
    source: base64::DecodeError,
}

impl Payload {
    /// A text payload.
    pub fn text(text: impl Into<String>) -> Self {
        let data = text.into();
        Self {
            encoding: PayloadEncoding::Text,
            size_bytes: data.len() as u64,
            data,
            truncated: false,
        }
    }

    /// A binary payload, stored as base64.
    pub fn binary(bytes: &[u8]) -> Self {
        Self {
            encoding: PayloadEncoding::Base64,
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
            size_bytes: bytes.len() as u64,
            truncated: false,
        }
    }

    /// True for binary payloads.
    pub fn is_binary(&self) -> bool {
        self.encoding == PayloadEncoding::Base64
    }

    /// The payload's bytes (UTF-8 bytes for text).
    pub fn to_bytes(&self) -> Result<Vec<u8>, PayloadDecodeError> {
        match self.encoding {
            PayloadEncoding::Text => Ok(self.data.as_bytes().to_vec()),
            PayloadEncoding::Base64 => {
                Ok(base64::engine::general_purpose::STANDARD.decode(self.data.as_bytes())?)
            }
        }
    }
}

/// Direction of a message relative to the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the page (or main thread) to the peer.
    Sent,
    /// From the peer to the page.
    Received,
}

/// A header as captured: name and value, in order, duplicates kept.
pub type HeaderList = Vec<(String, String)>;

/// Why an HTTP exchange ended without a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HttpFailureKind {
    /// `TypeError: Failed to fetch` or an XHR `error` event: network error, DNS, refused
    /// connection, or a CORS block (indistinguishable from the page).
    Network,
    /// Aborted by the app (`AbortController`, `xhr.abort()`).
    Abort,
    /// Timed out (`xhr.timeout`, `AbortSignal.timeout`).
    Timeout,
}

/// What a shared-memory message is, according to its channel's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShmRole {
    /// A mailbox payload published with the REQUEST command.
    Request,
    /// A mailbox payload published with the RESPONSE command.
    Response,
    /// A ring frame (its content says whether it is a request or a response).
    Frame,
}

/// The `type` names of the event types this core knows (every [`EventBody`] variant except
/// [`EventBody::Unknown`]).
pub const KNOWN_EVENT_TYPES: &[&str] = &[
    "page",
    "http_request",
    "http_response",
    "http_response_chunk",
    "http_failure",
    "ws_connect",
    "ws_open",
    "ws_message",
    "ws_close",
    "ws_error",
    "sse_connect",
    "sse_open",
    "sse_message",
    "sse_error",
    "cors_preflight",
    "shm_channel",
    "shm_message",
    "shm_state",
    "shm_activity",
    "dropped",
];

/// The members every event carries, read by [`CaptureEvent`] itself; never part of
/// [`EventBody::Unknown::members`].
const ENVELOPE_MEMBERS: [&str; 4] = ["v", "session_id", "connection_id", "time_micros"];

/// The payload of a [`CaptureEvent`], tagged by its `type` member.
///
/// Serde's derived code (through `remote = "Self"`) reads and writes the known types; the
/// hand-written [`Serialize`] and [`Deserialize`] impls below route every other `type` to
/// [`EventBody::Unknown`] with all of its members, which `#[serde(other)]` cannot do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// A page (or worker) started capturing.
    Page {
        /// Document URL.
        url: String,
        /// Document title, if any.
        #[serde(default)]
        title: String,
        /// `self.origin` of the page.
        #[serde(default)]
        origin: String,
        /// Hook version.
        #[serde(default)]
        hook_version: String,
    },
    /// A fetch or XHR request was issued.
    HttpRequest {
        /// `fetch` or `xhr`.
        api: String,
        /// Method after normalisation.
        method: String,
        /// Absolute request URL.
        url: String,
        /// Request headers set by the app.
        #[serde(default)]
        headers: HeaderList,
        /// Request body, if any.
        #[serde(default)]
        body: Option<Payload>,
        /// Kind of body source: `none`, `text`, `blob`, `array_buffer`, `form_data`,
        /// `url_search_params`, `stream`.
        #[serde(default)]
        body_kind: Option<String>,
        /// Request mode (`cors`, `no-cors`, `same-origin`, `navigate`).
        #[serde(default)]
        mode: Option<String>,
        /// Credentials mode (`omit`, `same-origin`, `include`).
        #[serde(default)]
        credentials: Option<String>,
        /// Redirect mode (`follow`, `error`, `manual`).
        #[serde(default)]
        redirect: Option<String>,
        /// XHR only: listeners were registered on `xhr.upload`.
        #[serde(default)]
        upload_listeners: bool,
    },
    /// The response headers (and, when complete, the body) of an HTTP exchange.
    HttpResponse {
        /// HTTP status (0 for opaque responses).
        status: u16,
        /// Status text.
        #[serde(default)]
        status_text: String,
        /// Response headers visible to the page.
        #[serde(default)]
        headers: HeaderList,
        /// Response body, if read.
        #[serde(default)]
        body: Option<Payload>,
        /// `Response.type` (`basic`, `cors`, `opaque`, ...).
        #[serde(default)]
        response_type: Option<String>,
        /// Final URL after redirects.
        #[serde(default)]
        url: Option<String>,
        /// Whether redirects were followed.
        #[serde(default)]
        redirected: bool,
    },
    /// A piece of a streaming response body (`text/event-stream`, NDJSON over fetch), sent
    /// after the [`EventBody::HttpResponse`] of the same connection, whose `body` is then
    /// absent. Each chunk is capped on its own.
    HttpResponseChunk {
        /// The chunk's content.
        payload: Payload,
        /// True for the last event of the body (its payload may be empty).
        #[serde(default)]
        end_of_body: bool,
    },
    /// An HTTP exchange ended without a response.
    HttpFailure {
        /// Why.
        failure: HttpFailureKind,
        /// The error's name as the page saw it (`TypeError`, `AbortError`, ...).
        #[serde(default)]
        error_name: String,
        /// The error's message as the page saw it.
        #[serde(default)]
        error_message: String,
    },
    /// A WebSocket was constructed.
    WsConnect {
        /// URL.
        url: String,
        /// Requested subprotocols.
        #[serde(default)]
        protocols: Vec<String>,
    },
    /// A WebSocket opened.
    WsOpen {
        /// Negotiated subprotocol.
        #[serde(default)]
        protocol: String,
        /// Negotiated extensions.
        #[serde(default)]
        extensions: String,
    },
    /// A WebSocket message was sent or received.
    WsMessage {
        /// Direction.
        direction: Direction,
        /// Content (text or binary).
        payload: Payload,
    },
    /// A WebSocket closed.
    WsClose {
        /// Close code.
        code: u16,
        /// Close reason.
        #[serde(default)]
        reason: String,
        /// `wasClean`.
        was_clean: bool,
    },
    /// A WebSocket reported an error.
    WsError {},
    /// An EventSource was constructed.
    SseConnect {
        /// URL.
        url: String,
        /// `withCredentials`.
        #[serde(default)]
        with_credentials: bool,
    },
    /// An EventSource opened.
    SseOpen {},
    /// An EventSource delivered an event.
    SseMessage {
        /// Event type (`message` unless the server named it).
        event_type: String,
        /// Data.
        data: String,
        /// `lastEventId`.
        #[serde(default)]
        last_event_id: String,
    },
    /// An EventSource reported an error.
    SseError {
        /// `readyState` after the error (0 reconnecting, 2 closed).
        #[serde(default)]
        ready_state: u8,
    },
    /// A CORS preflight (`OPTIONS`) as the browser sent it, and what came back, observed
    /// outside the page (the browser extension's `chrome.webRequest` with `extraHeaders`):
    /// the page itself never sees preflights. `connection_id` is the observer's own request
    /// id, not the hook's; consumers pair a preflight with the `http_request` it guarded by
    /// session, URL, the `Access-Control-Request-Method` header and time.
    CorsPreflight {
        /// URL of the preflight, which is the URL of the request it guarded.
        url: String,
        /// Origin that initiated the request, as the browser reports it.
        #[serde(default)]
        initiator: Option<String>,
        /// The preflight's request headers as sent (`Origin`, `Access-Control-Request-*`).
        #[serde(default)]
        request_headers: HeaderList,
        /// HTTP status of the preflight response; absent when no response arrived.
        #[serde(default)]
        status: Option<u16>,
        /// The preflight response's headers, all of them, in order.
        #[serde(default)]
        response_headers: HeaderList,
        /// The network error reported instead of a response (`net::ERR_CONNECTION_REFUSED`).
        #[serde(default)]
        error: Option<String>,
        /// When the response (or the error) arrived, microseconds since the Unix epoch.
        #[serde(default)]
        ended_micros: Option<u64>,
    },
    /// A shared-memory buffer was named as a channel (`registerSharedChannel`), or seen for
    /// the first time without registration (`layout` is `raw`). `connection_id` is the
    /// buffer's id (`shm-N`), the same in every thread that touches it, unless the
    /// registration grouped channels of several buffers under one connection so that requests
    /// on one pair with responses on another. Offsets are in bytes from the
    /// start of the `SharedArrayBuffer`; see `docs/shared-memory.md`.
    ShmChannel {
        /// Channel name given at registration (empty for an unregistered buffer).
        #[serde(default)]
        name: String,
        /// `mailbox`, `ring` or `raw`.
        layout: String,
        /// `byteLength` of the buffer.
        #[serde(default)]
        byte_length: u64,
        /// Thread that produced the event: `page` or `worker-N`.
        #[serde(default)]
        thread: String,
        /// Mailbox: the Int32 command word (IDLE=0, REQUEST=1, RESPONSE=2).
        #[serde(default)]
        command_offset_bytes: Option<u64>,
        /// Mailbox: the Int32 payload length word.
        #[serde(default)]
        length_offset_bytes: Option<u64>,
        /// Mailbox: where payload bytes start.
        #[serde(default)]
        payload_offset_bytes: Option<u64>,
        /// Ring: the Int32 head (write position) word.
        #[serde(default)]
        head_offset_bytes: Option<u64>,
        /// Ring: the Int32 tail (read position) word.
        #[serde(default)]
        tail_offset_bytes: Option<u64>,
        /// Ring: where the data region starts.
        #[serde(default)]
        data_offset_bytes: Option<u64>,
        /// Mailbox payload region or ring data region size.
        #[serde(default)]
        capacity_bytes: Option<u64>,
    },
    /// A message read out of a shared-memory channel at the moment it was published: a
    /// mailbox request or response (on the store of REQUEST or RESPONSE), or a ring frame (on
    /// the head advance that published it).
    ShmMessage {
        /// `sent` when the page's main thread published it, `received` when a worker did.
        direction: Direction,
        /// Name of the channel within the buffer (see [`EventBody::ShmChannel`]).
        #[serde(default)]
        channel: String,
        /// What the channel's layout says the message is.
        role: ShmRole,
        /// The message bytes (the mailbox payload or the ring frame without its prefix).
        payload: Payload,
        /// Thread that published it.
        #[serde(default)]
        thread: String,
        /// Ring: head position after the publish.
        #[serde(default)]
        head: Option<u64>,
        /// Ring: tail position seen at the publish.
        #[serde(default)]
        tail: Option<u64>,
        /// Ring: end position of this frame (bytes, modulo the capacity).
        #[serde(default)]
        frame_end: Option<u64>,
    },
    /// A control word of a registered channel changed without a message: a mailbox command
    /// word set to IDLE (or an unknown value), a ring tail advance (consumption).
    ShmState {
        /// Name of the channel.
        #[serde(default)]
        channel: String,
        /// Thread that stored it.
        #[serde(default)]
        thread: String,
        /// Mailbox: the value stored in the command word.
        #[serde(default)]
        command: Option<i64>,
        /// Ring: head position at the time.
        #[serde(default)]
        head: Option<u64>,
        /// Ring: tail position after the store.
        #[serde(default)]
        tail: Option<u64>,
    },
    /// Atomics activity on one buffer in one thread, summed over a window that ends at
    /// `time_micros`. Reported for every buffer, registered or not.
    ShmActivity {
        /// Channel whose control words the operations touched; empty for other places in
        /// the buffer (and for unregistered buffers).
        #[serde(default)]
        channel: String,
        /// Thread.
        #[serde(default)]
        thread: String,
        /// `byteLength` of the buffer.
        #[serde(default)]
        byte_length: u64,
        /// Length of the window in microseconds.
        #[serde(default)]
        window_micros: u64,
        /// Calls per Atomics operation name (`store`, `load`, `add`, `wait`, ...).
        #[serde(default)]
        operations: std::collections::BTreeMap<String, u64>,
        /// `Atomics.notify` calls.
        #[serde(default)]
        notify_calls: u64,
        /// Waiters woken, as `Atomics.notify` returned them.
        #[serde(default)]
        woken: u64,
        /// `Atomics.wait` and `Atomics.waitAsync` waits that ended in the window.
        #[serde(default)]
        waits: u64,
        /// Time spent in those waits, in microseconds.
        #[serde(default)]
        wait_micros: u64,
        /// Waits that ended `ok` (woken by a notify).
        #[serde(default)]
        wait_woken: u64,
        /// Waits that ended `timed-out`.
        #[serde(default)]
        wait_timeouts: u64,
        /// Waits that returned `not-equal` at once.
        #[serde(default)]
        wait_not_equal: u64,
    },
    /// The producer dropped events it could not keep (memory bounds, back-pressure).
    Dropped {
        /// How many events were dropped since the last `dropped` event.
        count: u64,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// An event type this version of the core does not know (from a newer hook, or emitted by
    /// an app through `framescope.emit`). Kept whole, counted, never dropped: written back, it
    /// gives the same JSON object it was read from.
    #[serde(skip)]
    Unknown {
        /// Its `type` member.
        type_name: String,
        /// Every other member except the envelope (`v`, `session_id`, `connection_id`,
        /// `time_micros`), which [`CaptureEvent`] holds.
        members: serde_json::Map<String, serde_json::Value>,
    },
}

impl EventBody {
    /// The event's `type` member (`http_request`, or the unknown type's own name).
    pub fn type_name(&self) -> String {
        match self {
            EventBody::Unknown { type_name, .. } => type_name.clone(),
            known => match EventBody::serialize(known, serde_json::value::Serializer) {
                Ok(serde_json::Value::Object(members)) => members
                    .get("type")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                _ => String::new(),
            },
        }
    }
}

impl Serialize for EventBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            EventBody::Unknown { type_name, members } => {
                let kept = members.iter().filter(|(name, _)| {
                    *name != "type" && !ENVELOPE_MEMBERS.contains(&name.as_str())
                });
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("type", type_name)?;
                for (name, value) in kept {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
            known => EventBody::serialize(known, serializer),
        }
    }
}

fn type_name_of(members: &serde_json::Map<String, serde_json::Value>) -> &str {
    members
        .get("type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
}

impl EventBody {
    /// Reads a body from the members of its JSON object: serde's derived code for a known
    /// `type`, [`EventBody::Unknown`] with every member for any other.
    fn from_members(
        mut members: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, serde_json::Error> {
        let type_name = match members.remove("type") {
            Some(serde_json::Value::String(type_name)) => type_name,
            Some(other) => {
                return Err(serde_json::Error::custom(format_args!(
                    "`type` must be a string, found {other}"
                )));
            }
            None => return Err(serde_json::Error::missing_field("type")),
        };
        members.insert("type".to_owned(), serde_json::Value::String(type_name));
        if KNOWN_EVENT_TYPES.contains(&type_name_of(&members)) {
            // A known type with a bad member is an error that names it.
            return EventBody::deserialize(serde_json::Value::Object(members));
        }
        // Not in the list: serde's derived code still decides, in case the list lags behind
        // the variants (a test keeps them in step).
        if let Ok(body) = EventBody::deserialize(&serde_json::Value::Object(members.clone())) {
            return Ok(body);
        }
        let type_name = match members.remove("type") {
            Some(serde_json::Value::String(type_name)) => type_name,
            _ => String::new(),
        };
        Ok(EventBody::Unknown { type_name, members })
    }
}

impl<'de> Deserialize<'de> for EventBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let members = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        EventBody::from_members(members).map_err(D::Error::custom)
    }
}

/// Error reading one line of an NDJSON capture.
#[derive(Debug, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct NdjsonError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column within the line.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// The shape of a [`CaptureEvent`] as serde's derived code reads it: known event types only,
/// without the JSON map that keeping an unknown type whole needs. [`parse_event_line`] tries
/// it first (it is the faster way for the events nearly every line holds) and falls back to
/// [`CaptureEvent`]'s own [`Deserialize`] for anything it refuses.
#[derive(Deserialize)]
struct KnownEvent {
    #[serde(default = "default_version")]
    v: u32,
    #[serde(default)]
    session_id: String,
    #[serde(default)]
    connection_id: String,
    time_micros: u64,
    #[serde(flatten, deserialize_with = "EventBody::deserialize")]
    body: EventBody,
}

/// Parses one NDJSON line into an event. `line_number` is used only for the error.
pub fn parse_event_line(line: &str, line_number: usize) -> Result<CaptureEvent, NdjsonError> {
    if let Ok(KnownEvent {
        v,
        session_id,
        connection_id,
        time_micros,
        body,
    }) = serde_json::from_str::<KnownEvent>(line)
    {
        return Ok(CaptureEvent {
            v,
            session_id,
            connection_id,
            time_micros,
            body,
        });
    }
    // An unknown type, or an error: the lossless reader says which, with its position.
    serde_json::from_str(line).map_err(|error| NdjsonError {
        line: line_number,
        column: error.column(),
        message: error.to_string(),
    })
}

/// Parses a whole NDJSON capture. Blank lines are skipped; the first bad line is an error.
pub fn parse_ndjson(text: &str) -> Result<Vec<CaptureEvent>, NdjsonError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| parse_event_line(line, index + 1))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn ws_message_round_trips_through_json() {
        let event = CaptureEvent {
            v: SCHEMA_VERSION,
            session_id: "p1".into(),
            connection_id: "ws-1".into(),
            time_micros: 1_700_000_000_000_000,
            body: EventBody::WsMessage {
                direction: Direction::Sent,
                payload: Payload::binary(&[0xca, 0xfe, 1, 1]),
            },
        };
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.contains(r#""type":"ws_message""#), "{json}");
        let back: CaptureEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
        let EventBody::WsMessage { payload, .. } = back.body else {
            panic!("wrong variant")
        };
        assert_eq!(payload.to_bytes().unwrap(), vec![0xca, 0xfe, 1, 1]);
    }

    #[test]
    fn cors_preflight_reads_what_the_extension_writes() {
        // The shape extension/src/background.js writes for a refused preflight.
        let line = r#"{"v":1,"session_id":"s1","connection_id":"webrequest-42","time_micros":7,
            "type":"cors_preflight","url":"http://127.0.0.1:9/rpc","initiator":"http://127.0.0.1:8",
            "request_headers":[["Access-Control-Request-Method","POST"]],"status":200,
            "response_headers":[["Content-Length","0"]],"error":null,"ended_micros":9}"#
            .replace('\n', "");
        let event = parse_event_line(&line, 1).unwrap();
        let EventBody::CorsPreflight {
            url,
            status,
            request_headers,
            error,
            ended_micros,
            ..
        } = &event.body
        else {
            panic!("wrong variant: {:?}", event.body)
        };
        assert_eq!(url, "http://127.0.0.1:9/rpc");
        assert_eq!(*status, Some(200));
        assert_eq!(request_headers[0].1, "POST");
        assert_eq!(*error, None);
        assert_eq!(*ended_micros, Some(9));
        let back: CaptureEvent =
            serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn unknown_event_type_is_kept_not_rejected() {
        let event =
            parse_event_line(r#"{"type":"quantum_tunnel","time_micros":5,"x":1}"#, 1).unwrap();
        let EventBody::Unknown { type_name, members } = &event.body else {
            panic!("wrong variant: {:?}", event.body)
        };
        assert_eq!(type_name, "quantum_tunnel");
        assert_eq!(members.get("x"), Some(&serde_json::json!(1)));
        assert_eq!(event.time_micros, 5);
        assert_eq!(event.body.type_name(), "quantum_tunnel");
    }

    #[test]
    fn unknown_event_round_trips_with_every_member() {
        let line = r#"{"v":3,"session_id":"p1","connection_id":"c9","time_micros":1700000000000001,
            "type":"app_metric","name":"frame","values":[1,2.5,-3,18446744073709551615],
            "nested":{"deep":{"flag":true,"none":null,"text":"é\u0000\"q"}},"empty":{}}"#
            .replace('\n', "");
        let event = parse_event_line(&line, 1).unwrap();
        let written = serde_json::to_string(&event).unwrap();
        let original: serde_json::Value = serde_json::from_str(&line).unwrap();
        let rewritten: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert_eq!(rewritten, original, "{written}");
        // And again: reading what was written gives the same event.
        assert_eq!(parse_event_line(&written, 1).unwrap(), event);
    }

    #[test]
    fn fast_and_lossless_readers_agree() {
        let lines = [
            r#"{"v":1,"session_id":"p","connection_id":"h","time_micros":1,"type":"http_request","api":"fetch","method":"POST","url":"http://127.0.0.1/rpc","headers":[["a","b"]],"body":{"encoding":"text","data":"{}","size_bytes":2}}"#,
            r#"{"time_micros":2,"type":"ws_message","direction":"received","payload":{"encoding":"base64","data":"yv4=","size_bytes":2,"truncated":true},"extra":[1]}"#,
            r#"{"session_id":"p","time_micros":3,"type":"shm_activity","operations":{"wait":2},"waits":2}"#,
            r#"{"time_micros":4,"type":"ws_error"}"#,
            r#"{"time_micros":5,"type":"brand_new","payload":{"encoding":"text","data":"x"}}"#,
        ];
        for (index, line) in lines.iter().enumerate() {
            let lossless: CaptureEvent = serde_json::from_str(line).unwrap();
            assert_eq!(
                parse_event_line(line, index + 1).unwrap(),
                lossless,
                "{line}"
            );
        }
    }

    #[test]
    fn known_type_list_covers_every_documented_type() {
        // docs/capture-events.md has an example of every event type (checked by
        // tests/capture_events_doc.rs); each must be in the list and read the same by both
        // readers.
        let doc = include_str!("../../docs/capture-events.md");
        let mut examples = 0;
        for (index, line) in doc.lines().enumerate() {
            if !line.starts_with('{') {
                continue;
            }
            examples += 1;
            let fast = parse_event_line(line, index + 1).unwrap();
            let lossless: CaptureEvent = serde_json::from_str(line).unwrap();
            assert_eq!(fast, lossless, "line {}", index + 1);
            let type_name = fast.body.type_name();
            assert!(
                KNOWN_EVENT_TYPES.contains(&type_name.as_str()),
                "{type_name} is missing from KNOWN_EVENT_TYPES"
            );
            assert!(!matches!(fast.body, EventBody::Unknown { .. }), "{line}");
        }
        assert!(examples >= KNOWN_EVENT_TYPES.len(), "{examples} examples");
    }

    #[test]
    fn known_types_keep_their_precise_errors() {
        let error = parse_event_line(r#"{"type":"ws_connect","time_micros":1}"#, 1).unwrap_err();
        assert!(error.message.contains("missing field `url`"), "{error}");
        let error = parse_event_line(r#"{"time_micros":1,"url":"x"}"#, 1).unwrap_err();
        assert!(error.message.contains("missing field `type`"), "{error}");
        let error = parse_event_line(r#"{"type":7,"time_micros":1}"#, 1).unwrap_err();
        assert!(error.message.contains("`type` must be a string"), "{error}");
    }

    #[test]
    fn known_type_names_match_the_variants() {
        let event = parse_event_line(r#"{"type":"ws_error","time_micros":1}"#, 1).unwrap();
        assert_eq!(event.body, EventBody::WsError {});
        assert_eq!(event.body.type_name(), "ws_error");
        for name in KNOWN_EVENT_TYPES {
            // Every known name reaches serde's derived code: at worst a missing field.
            let result = parse_event_line(&format!(r#"{{"type":"{name}","time_micros":1}}"#), 1);
            if let Ok(event) = result {
                assert_eq!(event.body.type_name(), *name);
            }
        }
    }

    #[test]
    fn bad_line_reports_line_and_column() {
        let error =
            parse_ndjson("{\"type\":\"ws_error\",\"time_micros\":1}\n{\"type\":").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.column > 0);
    }
}
