//! Application-level types shared by every part of the core: transports, protocols, decoded
//! frames and correlated calls. Decoders produce [`Frame`]s, correlation turns them into
//! [`Call`]s, statistics and filters read both.

use serde::{Deserialize, Serialize};

use crate::event::Direction;

/// The transport a frame or call travelled over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// fetch or XMLHttpRequest.
    Http,
    /// WebSocket.
    Websocket,
    /// EventSource (server-sent events).
    Eventsource,
    /// SharedArrayBuffer + Atomics channel between threads.
    SharedMemory,
}

impl Transport {
    /// The name used in JSON output and in filters (`http`, `websocket`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Websocket => "websocket",
            Transport::Eventsource => "eventsource",
            Transport::SharedMemory => "shared-memory",
        }
    }
}

/// The application protocol carried by a frame or call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Protocol {
    /// JSON-RPC 2.0.
    #[serde(rename = "jsonrpc2")]
    JsonRpc2,
    /// JSON-RPC 1.0 as Go's `net/rpc/jsonrpc` speaks it.
    #[serde(rename = "jsonrpc1")]
    JsonRpc1,
    /// Length-prefixed binary frames described by a layout (the 0xCAFE preset or a user's).
    #[serde(rename = "cafe")]
    Cafe,
    /// gRPC-web.
    #[serde(rename = "grpc-web")]
    GrpcWeb,
    /// Plain HTTP request/response with no RPC framing recognised.
    #[serde(rename = "http")]
    Http,
    /// Server-sent events or other messages with no RPC framing recognised.
    #[serde(rename = "raw")]
    Raw,
}

impl Protocol {
    /// The name used in JSON output and in filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::JsonRpc2 => "jsonrpc2",
            Protocol::JsonRpc1 => "jsonrpc1",
            Protocol::Cafe => "cafe",
            Protocol::GrpcWeb => "grpc-web",
            Protocol::Http => "http",
            Protocol::Raw => "raw",
        }
    }
}

/// Whether a call expects an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallKind {
    /// A request that expects a response.
    Call,
    /// A message that expects none (JSON-RPC notification, server push).
    Notification,
}

/// How a call ended (or has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Answered with a result.
    Ok,
    /// Answered with an error (RPC error, HTTP status >= 400, network failure).
    Error,
    /// No answer yet.
    Pending,
    /// No answer within the configured timeout.
    Timeout,
    /// A response whose request was never seen.
    Orphan,
    /// A request reusing an id that is still in flight on the same connection.
    Duplicate,
    /// Not a valid message of its protocol (e.g. JSON-RPC "Invalid Request").
    Invalid,
}

impl Outcome {
    /// The name used in JSON output and in filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Pending => "pending",
            Outcome::Timeout => "timeout",
            Outcome::Orphan => "orphan",
            Outcome::Duplicate => "duplicate",
            Outcome::Invalid => "invalid",
        }
    }

    /// True for outcomes counted as errors in statistics.
    pub fn is_error(self) -> bool {
        matches!(self, Outcome::Error | Outcome::Timeout | Outcome::Invalid)
    }
}

/// A request/response pair (or a lone notification), the unit the inspector shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Unique, increasing in order of the call's first frame.
    pub call_id: u64,
    /// Page/session that produced it.
    pub session_id: String,
    /// Connection (exchange, socket, channel) it travelled over.
    pub connection_id: String,
    /// Transport.
    pub transport: Transport,
    /// Protocol.
    pub protocol: Protocol,
    /// RPC method, or `METHOD path` for plain HTTP.
    pub method: String,
    /// Request id as written on the wire (JSON text of the id, decimal ReqID), if any.
    pub request_id: Option<String>,
    /// Call or notification.
    pub kind: CallKind,
    /// Outcome.
    pub outcome: Outcome,
    /// RPC error code or HTTP status of an error, if any.
    pub error_code: Option<i64>,
    /// RPC error message or failure description, if any.
    pub error_message: Option<String>,
    /// Time of the request frame (or of the response for orphans), microseconds since epoch.
    pub started_micros: u64,
    /// Time of the response frame, if any.
    pub ended_micros: Option<u64>,
    /// `ended_micros - started_micros` when both are known.
    pub latency_micros: Option<u64>,
    /// Frame ids of the request and response, when known.
    pub request_frame_id: Option<u64>,
    /// See `request_frame_id`.
    pub response_frame_id: Option<u64>,
    /// Bytes of the request and response payloads.
    pub request_size_bytes: u64,
    /// See `request_size_bytes`.
    pub response_size_bytes: u64,
}

/// One decoded unit on the wire: an HTTP request or response, a WebSocket message (or one
/// binary frame out of it), an SSE event, a shared-memory message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// Unique, increasing in ingest order.
    pub frame_id: u64,
    /// Page/session.
    pub session_id: String,
    /// Connection.
    pub connection_id: String,
    /// Transport.
    pub transport: Transport,
    /// Direction relative to the page.
    pub direction: Direction,
    /// Capture time, microseconds since epoch.
    pub time_micros: u64,
    /// Protocol the frame was decoded as.
    pub protocol: Protocol,
    /// Size of the payload in bytes.
    pub size_bytes: u64,
    /// One-line human summary (method, id, status...).
    pub summary: String,
    /// Set when the frame could not be decoded as its protocol; the reason is shown to users.
    pub malformed: Option<String>,
}
