//! OpenTelemetry export: correlated calls as OTLP/JSON trace spans.
//!
//! Data enters as the calls the core correlated from a capture plus that capture's events
//! (for URLs, HTTP statuses and `traceparent` headers), and leaves as the JSON body of an
//! OTLP/HTTP `ExportTraceServiceRequest` (`POST /v1/traces`, `Content-Type:
//! application/json`), following the OpenTelemetry RPC semantic conventions:
//!
//! - one `resourceSpans` per captured page/session (`service.name`, `session.id`), holding
//!   one trace per session: an INTERNAL root span covering the session and one CLIENT span
//!   per call beneath it;
//! - when an HTTP request carried a W3C `traceparent` header, the call's span joins the
//!   app's trace instead: same trace id, the header's span as parent;
//! - attributes `rpc.system` (`jsonrpc`, `grpc`, `cafe`), `rpc.service`, `rpc.method`,
//!   `rpc.jsonrpc.version`, `rpc.jsonrpc.request_id`, `rpc.jsonrpc.error_code`,
//!   `rpc.jsonrpc.error_message`, `rpc.grpc.status_code`, `server.address`, `server.port`,
//!   `network.transport`, `network.protocol.name`, `url.full`, `http.request.method`,
//!   `http.response.status_code`, plus `framescope.*` members for what the conventions do not
//!   name (outcome, transport, connection, sizes);
//! - span status ERROR (code 2) for failed calls (error, timeout, invalid), unset otherwise;
//! - trace and span ids as lowercase hex, times as decimal strings of Unix nanoseconds and
//!   enums as integers, as OTLP/JSON requires.
//!
//! Ids are derived deterministically from the session and call ids (the core has no random
//! source), so exporting the same capture twice gives the same spans.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::ExportError;
use super::redact::{RedactionConfig, redact_events};
use crate::event::{CaptureEvent, EventBody};
use crate::model::{Call, CallKind, Protocol, Transport};

/// Options of the OTLP export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpOptions {
    /// `service.name` of the exported resource.
    pub service_name: String,
    /// Version written as the instrumentation scope's version.
    pub scope_version: String,
}

impl Default for OtlpOptions {
    fn default() -> Self {
        Self {
            service_name: "framescope".to_owned(),
            scope_version: String::new(),
        }
    }
}

/// The result of an OTLP export.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpExport {
    /// The `ExportTraceServiceRequest` as compact JSON.
    pub text: String,
    /// Spans written (calls plus one root span per session).
    pub span_count: usize,
    /// Distinct trace ids used.
    pub trace_count: usize,
}

/// OTLP span kinds (`SpanKind` enum values).
const SPAN_KIND_INTERNAL: u8 = 1;
const SPAN_KIND_CLIENT: u8 = 3;
/// OTLP status code ERROR.
const STATUS_CODE_ERROR: u8 = 2;

/// Exports calls as OTLP/JSON. `events` must be the capture the calls were derived from;
/// they are redacted with `redaction` before URLs and headers are read, and the calls'
/// error messages are redacted as text.
pub fn export_otlp(
    calls: &[Call],
    events: &[CaptureEvent],
    redaction: &RedactionConfig,
    options: &OtlpOptions,
) -> Result<OtlpExport, ExportError> {
    let events = redact_events(events, redaction)?;
    let connections = ConnectionIndex::new(&events);

    // Sessions in order of first appearance (events first, then calls without events).
    let mut session_order: Vec<String> = Vec::new();
    let mut session_start: HashMap<String, u64> = HashMap::new();
    let mut session_end: HashMap<String, u64> = HashMap::new();
    let mut note_time = |session: &str, start: u64, end: u64, order: &mut Vec<String>| {
        if !session_start.contains_key(session) {
            order.push(session.to_owned());
        }
        let first = session_start.entry(session.to_owned()).or_insert(start);
        *first = (*first).min(start);
        let last = session_end.entry(session.to_owned()).or_insert(end);
        *last = (*last).max(end);
    };
    for event in &events {
        note_time(
            &event.session_id,
            event.time_micros,
            event.time_micros,
            &mut session_order,
        );
    }
    for call in calls {
        let end = call.ended_micros.unwrap_or(call.started_micros);
        note_time(
            &call.session_id,
            call.started_micros,
            end,
            &mut session_order,
        );
    }

    let mut calls_by_session: BTreeMap<&str, Vec<&Call>> = BTreeMap::new();
    for call in calls {
        calls_by_session
            .entry(call.session_id.as_str())
            .or_default()
            .push(call);
    }

    let mut resource_spans = Vec::new();
    let mut trace_ids = std::collections::BTreeSet::new();
    let mut span_count = 0;
    for session in &session_order {
        let Some(session_calls) = calls_by_session.get(session.as_str()) else {
            continue;
        };
        let start_micros = session_start.get(session).copied().unwrap_or_default();
        let end_micros = session_end.get(session).copied().unwrap_or(start_micros);
        let session_key = format!("{session}\u{0}{start_micros}");
        let trace_id = trace_id_hex(&session_key);
        let root_span_id = span_id_hex(&format!("{session_key}\u{0}root"));
        trace_ids.insert(trace_id.clone());

        let page_url = connections.page_urls.get(session.as_str()).cloned();
        let mut spans = vec![Span {
            trace_id: trace_id.clone(),
            span_id: root_span_id.clone(),
            parent_span_id: String::new(),
            name: "framescope session".to_owned(),
            kind: SPAN_KIND_INTERNAL,
            start_time_unix_nano: nanos(start_micros),
            end_time_unix_nano: nanos(end_micros),
            attributes: {
                let mut attributes = Attributes::default();
                attributes.string("session.id", session);
                // HAR imports may only know a page's title.
                if let Some(url) = page_url.as_ref().filter(|url| url.contains("://")) {
                    attributes.string("url.full", url);
                }
                attributes.int("framescope.call_count", session_calls.len() as i64);
                attributes.0
            },
            status: Status::default(),
        }];
        for call in session_calls {
            let span = call_span(
                call,
                &connections,
                &trace_id,
                &root_span_id,
                &session_key,
                redaction,
            );
            trace_ids.insert(span.trace_id.clone());
            spans.push(span);
        }
        span_count += spans.len();

        let mut resource = Attributes::default();
        resource.string("service.name", &options.service_name);
        resource.string("session.id", session);
        if let Some(origin) = connections.page_origins.get(session.as_str()) {
            resource.string("framescope.page_origin", origin);
        }
        resource_spans.push(ResourceSpans {
            resource: Resource {
                attributes: resource.0,
            },
            scope_spans: vec![ScopeSpans {
                scope: Scope {
                    name: "framescope",
                    version: options.scope_version.clone(),
                },
                spans,
            }],
        });
    }

    let request = ExportTraceServiceRequest { resource_spans };
    let text = serde_json::to_string(&request).map_err(|error| ExportError::Serialize {
        format: "otlp",
        message: error.to_string(),
    })?;
    Ok(OtlpExport {
        text,
        span_count,
        trace_count: trace_ids.len(),
    })
}

fn call_span(
    call: &Call,
    connections: &ConnectionIndex,
    session_trace_id: &str,
    root_span_id: &str,
    session_key: &str,
    redaction: &RedactionConfig,
) -> Span {
    let key = (call.session_id.as_str(), call.connection_id.as_str());
    let connection = connections.by_connection.get(&key);
    let span_id = span_id_hex(&format!("{session_key}\u{0}call\u{0}{}", call.call_id));
    let (trace_id, parent_span_id) = match connection.and_then(|info| info.traceparent.as_ref()) {
        Some(parent) => (parent.trace_id.clone(), parent.parent_span_id.clone()),
        None => (session_trace_id.to_owned(), root_span_id.to_owned()),
    };

    let mut attributes = Attributes::default();
    let (service, method) = split_service_method(call.protocol, &call.method);
    let rpc_system = match call.protocol {
        Protocol::JsonRpc2 | Protocol::JsonRpc1 => Some("jsonrpc"),
        Protocol::GrpcWeb => Some("grpc"),
        Protocol::Cafe => Some("cafe"),
        Protocol::Http | Protocol::Raw => None,
    };
    let http_method = connection
        .map(|info| info.http_method.as_str())
        .unwrap_or_default();
    let name = match (rpc_system, &service) {
        (Some(_), Some(service)) => format!("{service}/{method}"),
        (Some(_), None) => method.clone(),
        (None, _) if !http_method.is_empty() => http_method.to_owned(),
        (None, _) => call.method.clone(),
    };
    if let Some(system) = rpc_system {
        attributes.string("rpc.system", system);
        attributes.string("rpc.method", &method);
        if let Some(service) = &service {
            attributes.string("rpc.service", service);
        }
    }
    match call.protocol {
        Protocol::JsonRpc2 | Protocol::JsonRpc1 => {
            attributes.string(
                "rpc.jsonrpc.version",
                if call.protocol == Protocol::JsonRpc2 {
                    "2.0"
                } else {
                    "1.0"
                },
            );
            if let Some(request_id) = &call.request_id {
                attributes.string("rpc.jsonrpc.request_id", request_id);
            }
            if let Some(code) = call.error_code {
                attributes.int("rpc.jsonrpc.error_code", code);
            }
            if let Some(message) = &call.error_message {
                attributes.string(
                    "rpc.jsonrpc.error_message",
                    &super::redact::redact_text(message, false, redaction),
                );
            }
        }
        Protocol::GrpcWeb => {
            if let Some(code) = call.error_code {
                attributes.int("rpc.grpc.status_code", code);
            }
        }
        Protocol::Cafe => {
            if let Some(request_id) = &call.request_id {
                attributes.string("framescope.request_id", request_id);
            }
        }
        Protocol::Http | Protocol::Raw => {}
    }
    if let Some(info) = connection {
        if let Some((host, port)) = server_address(&info.url) {
            attributes.string("server.address", &host);
            if let Some(port) = port {
                attributes.int("server.port", i64::from(port));
            }
        }
        if call.transport == Transport::Http {
            attributes.string("url.full", &info.url);
            if !info.http_method.is_empty() {
                attributes.string("http.request.method", &info.http_method);
            }
            if let Some(status) = info.http_status {
                attributes.int("http.response.status_code", i64::from(status));
            }
        }
    }
    match call.transport {
        Transport::Http | Transport::Eventsource => {
            attributes.string("network.transport", "tcp");
            attributes.string("network.protocol.name", "http");
        }
        Transport::Websocket => {
            attributes.string("network.transport", "tcp");
            attributes.string("network.protocol.name", "websocket");
        }
        Transport::SharedMemory => {}
    }
    attributes.string("framescope.transport", call.transport.as_str());
    attributes.string("framescope.protocol", call.protocol.as_str());
    attributes.string("framescope.outcome", call.outcome.as_str());
    attributes.string(
        "framescope.kind",
        match call.kind {
            CallKind::Call => "call",
            CallKind::Notification => "notification",
        },
    );
    attributes.string("framescope.connection_id", &call.connection_id);
    attributes.int(
        "framescope.call_id",
        i64::try_from(call.call_id).unwrap_or(i64::MAX),
    );
    attributes.int(
        "framescope.request_size_bytes",
        i64::try_from(call.request_size_bytes).unwrap_or(i64::MAX),
    );
    attributes.int(
        "framescope.response_size_bytes",
        i64::try_from(call.response_size_bytes).unwrap_or(i64::MAX),
    );

    let status = if call.outcome.is_error() {
        let message = call
            .error_message
            .as_deref()
            .map(|message| super::redact::redact_text(message, false, redaction))
            .unwrap_or_else(|| call.outcome.as_str().to_owned());
        Status {
            code: Some(STATUS_CODE_ERROR),
            message: Some(message),
        }
    } else {
        Status::default()
    };

    Span {
        trace_id,
        span_id,
        parent_span_id,
        name,
        kind: SPAN_KIND_CLIENT,
        start_time_unix_nano: nanos(call.started_micros),
        end_time_unix_nano: nanos(call.ended_micros.unwrap_or(call.started_micros)),
        attributes: attributes.0,
        status,
    }
}

/// `Arith.Multiply` -> (`Arith`, `Multiply`); `/pkg.Service/Method` -> (`pkg.Service`,
/// `Method`); `eth_call` -> (none, `eth_call`).
fn split_service_method(protocol: Protocol, method: &str) -> (Option<String>, String) {
    let trimmed = method.trim_start_matches('/');
    let split = if protocol == Protocol::GrpcWeb {
        trimmed.rsplit_once('/')
    } else {
        trimmed
            .rsplit_once('/')
            .or_else(|| trimmed.rsplit_once('.'))
    };
    match split {
        Some((service, name)) if !service.is_empty() && !name.is_empty() => {
            (Some(service.to_owned()), name.to_owned())
        }
        _ => (None, method.to_owned()),
    }
}

/// Host and explicit-or-default port of a URL (`http`, `https`, `ws`, `wss`).
fn server_address(url: &str) -> Option<(String, Option<u16>)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    };
    if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        let port = after.strip_prefix(':').and_then(|port| port.parse().ok());
        return Some((host.to_owned(), port.or(default_port)));
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) => Some((host.to_owned(), port.parse().ok().or(default_port))),
        None if !host_port.is_empty() => Some((host_port.to_owned(), default_port)),
        None => None,
    }
}

/// A parsed W3C `traceparent` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits: the app's span that issued the request.
    pub parent_span_id: String,
}

/// Parses a `traceparent` header (`00-<trace id>-<parent id>-<flags>`). Invalid values
/// (wrong lengths, non-hex, all-zero ids, version `ff`) give `None`.
pub fn parse_traceparent(value: &str) -> Option<TraceParent> {
    let mut parts = value.trim().split('-');
    let version = parts.next()?;
    let trace_id = parts.next()?;
    let parent_span_id = parts.next()?;
    let flags = parts.next()?;
    let is_hex = |text: &str, length: usize| {
        text.len() == length && text.bytes().all(|byte| byte.is_ascii_hexdigit())
    };
    let all_zero = |text: &str| text.bytes().all(|byte| byte == b'0');
    if !is_hex(version, 2)
        || version.eq_ignore_ascii_case("ff")
        || !is_hex(trace_id, 32)
        || !is_hex(parent_span_id, 16)
        || !is_hex(flags, 2)
        || all_zero(trace_id)
        || all_zero(parent_span_id)
        || (version == "00" && parts.next().is_some())
    {
        return None;
    }
    Some(TraceParent {
        trace_id: trace_id.to_ascii_lowercase(),
        parent_span_id: parent_span_id.to_ascii_lowercase(),
    })
}

#[derive(Default)]
struct ConnectionInfo {
    url: String,
    http_method: String,
    http_status: Option<u16>,
    traceparent: Option<TraceParent>,
}

#[derive(Default)]
struct ConnectionIndex<'a> {
    by_connection: HashMap<(&'a str, &'a str), ConnectionInfo>,
    page_urls: HashMap<&'a str, String>,
    page_origins: HashMap<&'a str, String>,
}

impl<'a> ConnectionIndex<'a> {
    fn new(events: &'a [CaptureEvent]) -> Self {
        let mut index = Self::default();
        for event in events {
            let key = (event.session_id.as_str(), event.connection_id.as_str());
            match &event.body {
                EventBody::Page { url, origin, .. } => {
                    index
                        .page_urls
                        .entry(event.session_id.as_str())
                        .or_insert_with(|| url.clone());
                    if !origin.is_empty() {
                        index
                            .page_origins
                            .entry(event.session_id.as_str())
                            .or_insert_with(|| origin.clone());
                    }
                }
                EventBody::HttpRequest {
                    method,
                    url,
                    headers,
                    ..
                } => {
                    let traceparent = headers
                        .iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case("traceparent"))
                        .and_then(|(_, value)| parse_traceparent(value));
                    index.by_connection.insert(
                        key,
                        ConnectionInfo {
                            url: url.clone(),
                            http_method: method.clone(),
                            http_status: None,
                            traceparent,
                        },
                    );
                }
                EventBody::HttpResponse { status, .. } => {
                    if let Some(info) = index.by_connection.get_mut(&key) {
                        info.http_status = Some(*status);
                    }
                }
                EventBody::WsConnect { url, .. } | EventBody::SseConnect { url, .. } => {
                    index.by_connection.insert(
                        key,
                        ConnectionInfo {
                            url: url.clone(),
                            ..ConnectionInfo::default()
                        },
                    );
                }
                _ => {}
            }
        }
        index
    }
}

fn nanos(time_micros: u64) -> String {
    (u128::from(time_micros) * 1_000).to_string()
}

/// FNV-1a over `text`, starting from `seed`.
fn fnv1a(seed: u64, text: &str) -> u64 {
    text.bytes().fold(seed, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// A non-zero 64-bit id from `text`, mixed so that similar inputs differ in every digit.
fn id64(seed: u64, text: &str) -> u64 {
    let mut value = fnv1a(seed, text);
    // splitmix64 finaliser.
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^= value >> 31;
    if value == 0 { 1 } else { value }
}

fn trace_id_hex(key: &str) -> String {
    format!(
        "{:016x}{:016x}",
        id64(FNV_OFFSET, key),
        id64(FNV_OFFSET ^ 0x5bd1_e995, key)
    )
}

fn span_id_hex(key: &str) -> String {
    format!("{:016x}", id64(FNV_OFFSET ^ 0x2545_f491, key))
}

#[derive(Default)]
struct Attributes(Vec<KeyValue>);

impl Attributes {
    fn string(&mut self, key: &'static str, value: &str) {
        self.0.push(KeyValue {
            key,
            value: AnyValue::String {
                string_value: value.to_owned(),
            },
        });
    }

    fn int(&mut self, key: &'static str, value: i64) {
        self.0.push(KeyValue {
            key,
            value: AnyValue::Int {
                int_value: value.to_string(),
            },
        });
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportTraceServiceRequest {
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans {
    resource: Resource,
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Serialize)]
struct Resource {
    attributes: Vec<KeyValue>,
}

#[derive(Serialize)]
struct ScopeSpans {
    scope: Scope,
    spans: Vec<Span>,
}

#[derive(Serialize)]
struct Scope {
    name: &'static str,
    version: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Span {
    trace_id: String,
    span_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    parent_span_id: String,
    name: String,
    kind: u8,
    start_time_unix_nano: String,
    end_time_unix_nano: String,
    attributes: Vec<KeyValue>,
    status: Status,
}

#[derive(Serialize)]
struct KeyValue {
    key: &'static str,
    value: AnyValue,
}

#[derive(Serialize)]
#[serde(untagged)]
enum AnyValue {
    String {
        #[serde(rename = "stringValue")]
        string_value: String,
    },
    Int {
        /// int64 as a decimal string, per the protobuf JSON mapping.
        #[serde(rename = "intValue")]
        int_value: String,
    },
}

#[derive(Serialize, Default)]
struct Status {
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_parsing_follows_w3c() {
        let parsed =
            parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01").unwrap();
        assert_eq!(parsed.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(parsed.parent_span_id, "00f067aa0ba902b7");
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-xbf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
        // Future versions may append fields.
        assert!(
            parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-ab")
                .is_some()
        );
    }

    #[test]
    fn service_and_method_split_per_protocol() {
        assert_eq!(
            split_service_method(Protocol::JsonRpc1, "Arith.Multiply"),
            (Some("Arith".to_owned()), "Multiply".to_owned())
        );
        assert_eq!(
            split_service_method(Protocol::GrpcWeb, "/pkg.v1.Users/Get"),
            (Some("pkg.v1.Users".to_owned()), "Get".to_owned())
        );
        assert_eq!(
            split_service_method(Protocol::JsonRpc2, "eth_call"),
            (None, "eth_call".to_owned())
        );
    }

    #[test]
    fn server_address_takes_explicit_or_default_port() {
        assert_eq!(
            server_address("http://127.0.0.1:8080/rpc?x=1"),
            Some(("127.0.0.1".to_owned(), Some(8080)))
        );
        assert_eq!(
            server_address("wss://user:p@example.test/ws"),
            Some(("example.test".to_owned(), Some(443)))
        );
        assert_eq!(
            server_address("ws://[::1]:9000/"),
            Some(("::1".to_owned(), Some(9000)))
        );
        assert_eq!(server_address("not a url"), None);
    }

    #[test]
    fn ids_are_hex_of_the_right_length_and_distinct() {
        let trace = trace_id_hex("p1\u{0}1");
        assert_eq!(trace.len(), 32);
        assert!(trace.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_ne!(trace, trace_id_hex("p2\u{0}1"));
        assert_eq!(span_id_hex("a").len(), 16);
        assert_ne!(span_id_hex("a"), span_id_hex("b"));
    }
}
