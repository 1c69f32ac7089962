use inspector_core::decode::protobuf::{ProtoField, ProtoValue};
use inspector_core::event::Direction;
use inspector_core::model::Protocol;
use inspector_core::model::{Call, Frame, Transport};
use inspector_core::session::{DecodedPayload, FrameDetail, Session};
use inspector_core::view::format::{format_clock, format_latency, format_offset, format_size};
use inspector_core::view::hex::{FieldSpan, HexLine, hex_dump_is_cut, hex_lines};
use inspector_core::view::json::{JsonNode, LeafKind, parse_json_tree};
use inspector_core::view::snippet::{
    RequestBody, RequestParts, curl_command, fetch_snippet, redact_request,
};
use inspector_core::view::table::direction_arrow;
use inspector_core::view::websocat::{WebSocketMessage, WebSocketParts, websocat_command};
use leptos::prelude::*;

use crate::bridge;
use crate::components::decode_as::DecodeAs;
use crate::components::export_menu::copy_redaction;
use crate::state::{Inspector, Selection, use_inspector};
use crate::store::Store;

const HEX_BYTES_PER_LINE: usize = 16;
const HEX_MAX_LINES: usize = 256;
const MESSAGE_LIST_LIMIT: usize = 300;

/// A protobuf field, owned, for display.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ProtoNode {
    label: String,
    value: String,
    children: Vec<ProtoNode>,
}

fn proto_nodes(fields: &[ProtoField<'_>]) -> Vec<ProtoNode> {
    fields
        .iter()
        .map(|field| {
            let label = format!("{} (wire {})", field.number, field.wire_type);
            match &field.value {
                ProtoValue::Varint(value) => leaf_node(label, format!("varint {value}")),
                ProtoValue::Fixed64(value) => leaf_node(label, format!("fixed64 {value}")),
                ProtoValue::Fixed32(value) => leaf_node(label, format!("fixed32 {value}")),
                ProtoValue::String(text) => leaf_node(label, format!("{text:?}")),
                ProtoValue::Bytes(bytes) => leaf_node(
                    label,
                    format!(
                        "bytes[{}] {}",
                        bytes.len(),
                        bytes
                            .iter()
                            .take(32)
                            .map(|b| format!("{b:02x}"))
                            .collect::<String>()
                    ),
                ),
                ProtoValue::Message(children) => ProtoNode {
                    label,
                    value: "message".to_owned(),
                    children: proto_nodes(children),
                },
                ProtoValue::Group(children) => ProtoNode {
                    label,
                    value: "group".to_owned(),
                    children: proto_nodes(children),
                },
            }
        })
        .collect()
}

fn leaf_node(label: String, value: String) -> ProtoNode {
    ProtoNode {
        label,
        value,
        children: Vec::new(),
    }
}

/// A payload, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BodyView {
    Json(JsonNode),
    /// Text that is not JSON (or JSON that failed to parse, with the reason).
    Text {
        text: String,
        note: Option<String>,
    },
    Binary {
        lines: Vec<HexLine>,
        spans: Vec<FieldSpan>,
        fields: Vec<(String, String)>,
        protobuf: Option<Result<Vec<ProtoNode>, String>>,
        cut: bool,
    },
    Grpc {
        messages: Vec<(String, Vec<HexLine>)>,
        note: Option<String>,
    },
    Empty,
}

/// One side (request or response) of the detail view.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SideView {
    frame_id: u64,
    heading: String,
    summary: String,
    malformed: Option<String>,
    truncated: bool,
    body: BodyView,
}

fn binary_body(bytes: &[u8], spans: Vec<FieldSpan>, fields: Vec<(String, String)>) -> BodyView {
    BodyView::Binary {
        lines: hex_lines(bytes, &spans, HEX_BYTES_PER_LINE, HEX_MAX_LINES),
        cut: hex_dump_is_cut(bytes.len(), HEX_BYTES_PER_LINE, HEX_MAX_LINES),
        spans,
        fields,
        protobuf: None,
    }
}

fn text_or_hex(bytes: &[u8]) -> BodyView {
    if bytes.is_empty() {
        return BodyView::Empty;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => match parse_json_tree(text) {
            Ok(node) => BodyView::Json(node),
            Err(_) => BodyView::Text {
                text: text.to_owned(),
                note: None,
            },
        },
        Err(_) => binary_body(bytes, Vec::new(), Vec::new()),
    }
}

/// The body of `detail`; for a JSON-RPC batch, only element `part` (the call's own).
fn body_view(detail: &FrameDetail<'_>, part: Option<u32>) -> BodyView {
    match &detail.decoded {
        DecodedPayload::JsonRpc(payload) => {
            let messages = payload.messages();
            let message = match part {
                Some(index) if messages.len() > 1 => messages.get(index as usize),
                _ => messages.first(),
            };
            match message {
                Some(message) => match parse_json_tree(message.raw) {
                    Ok(node) => BodyView::Json(node),
                    Err(error) => BodyView::Text {
                        text: message.raw.to_owned(),
                        note: Some(error.to_string()),
                    },
                },
                None => BodyView::Text {
                    text: String::from_utf8_lossy(detail.bytes).into_owned(),
                    note: Some("not valid JSON".to_owned()),
                },
            }
        }
        DecodedPayload::Binary {
            layout_name,
            fields,
            payload_offset,
            protobuf,
        } => {
            let mut spans: Vec<FieldSpan> = fields
                .iter()
                .map(|field| {
                    FieldSpan::new(field.name, field.offset, usize::from(field.width_bytes))
                })
                .collect();
            spans.push(FieldSpan::new(
                "payload",
                *payload_offset,
                detail.bytes.len().saturating_sub(*payload_offset),
            ));
            let mut described: Vec<(String, String)> =
                vec![("layout".to_owned(), layout_name.clone())];
            described.extend(fields.iter().map(|field| {
                let value = if field.name == "magic" {
                    format!(
                        "0x{:0width$X}",
                        field.value,
                        width = usize::from(field.width_bytes) * 2
                    )
                } else {
                    field.value.to_string()
                };
                (field.name.to_owned(), value)
            }));
            let mut view = binary_body(detail.bytes, spans, described);
            if let BodyView::Binary { protobuf: slot, .. } = &mut view {
                *slot = protobuf.as_ref().map(|result| match result {
                    Ok(fields) => Ok(proto_nodes(fields)),
                    Err(error) => Err(error.to_string()),
                });
            }
            view
        }
        DecodedPayload::GrpcWeb(body) => BodyView::Grpc {
            messages: body
                .messages
                .iter()
                .map(|message| {
                    let title = if message.is_trailers() {
                        format!("trailers ({} bytes)", message.data.len())
                    } else {
                        format!(
                            "message flags 0x{:02x} ({} bytes)",
                            message.flags,
                            message.data.len()
                        )
                    };
                    (title, hex_lines(message.data, &[], HEX_BYTES_PER_LINE, 32))
                })
                .collect(),
            note: body.error.as_ref().map(ToString::to_string),
        },
        DecodedPayload::Raw => match &detail.decoded_bytes {
            Some(decoded) => text_or_hex(decoded),
            None => text_or_hex(detail.bytes),
        },
    }
}

fn side_view(
    session: &Session,
    frame_id: u64,
    part: Option<u32>,
    heading: &str,
    utc_offset: i32,
) -> Option<SideView> {
    let detail = session.frame_detail(frame_id)?;
    let frame = detail.frame;
    Some(SideView {
        frame_id,
        heading: format!(
            "{heading} {} {} · {}",
            direction_arrow(frame.direction),
            format_clock(frame.time_micros, utc_offset),
            format_size(frame.size_bytes)
        ),
        summary: frame.summary.clone(),
        malformed: frame.malformed.clone(),
        truncated: detail.truncated,
        body: body_view(&detail, part),
    })
}

/// A message of a connection's list.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MessageRow {
    frame_id: u64,
    time: String,
    sent: bool,
    summary: String,
    size: String,
    malformed: bool,
}

/// Everything the detail pane shows for the selection.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DetailView {
    title: String,
    subtitle: String,
    outcome: String,
    error: Option<String>,
    transport: Transport,
    connection_id: String,
    request: Option<SideView>,
    response: Option<SideView>,
    request_headers: Vec<(String, String)>,
    response_headers: Vec<(String, String)>,
    status: Option<String>,
    timings: Vec<(String, String)>,
    /// `(session, connection)` of a WebSocket, event stream or shared-memory channel.
    connection: Option<(String, String)>,
    curl: Option<String>,
    fetch: Option<String>,
    binary_connection: bool,
}

/// Lifecycle lines, HTTP status, request headers and response headers of a connection.
type ConnectionFacts = (
    Vec<(String, String)>,
    Option<String>,
    Vec<(String, String)>,
    Vec<(String, String)>,
);

fn connection_facts(session: &Session, connection_id: &str, utc_offset: i32) -> ConnectionFacts {
    let Some(info) = session.connection(connection_id) else {
        return (Vec::new(), None, Vec::new(), Vec::new());
    };
    let mut lifecycle = Vec::new();
    if !info.url.is_empty() {
        lifecycle.push(("URL".to_owned(), info.url.clone()));
    }
    if let Some(transport) = info.transport {
        lifecycle.push(("Transport".to_owned(), transport.as_str().to_owned()));
    }
    lifecycle.push(("Connection".to_owned(), info.connection_id.clone()));
    lifecycle.push(("Page session".to_owned(), info.session_id.clone()));
    if !info.ws_protocol.is_empty() {
        lifecycle.push(("Subprotocol".to_owned(), info.ws_protocol.clone()));
    }
    lifecycle.push((
        "First event".to_owned(),
        format_clock(info.first_event_micros, utc_offset),
    ));
    lifecycle.push((
        "Last event".to_owned(),
        format_clock(info.last_event_micros, utc_offset),
    ));
    if let Some((code, reason, clean)) = &info.close {
        lifecycle.push((
            "Closed".to_owned(),
            format!(
                "code {code}{}{}",
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(" “{reason}”")
                },
                if *clean { ", clean" } else { ", not clean" }
            ),
        ));
    }
    if info.error_events > 0 {
        lifecycle.push(("Errors".to_owned(), info.error_events.to_string()));
    }
    if let Some((kind, message)) = &info.failure {
        lifecycle.push(("Failure".to_owned(), format!("{kind:?}: {message}")));
    }
    if let Some(layout) = &info.layout {
        lifecycle.push(("Binary layout".to_owned(), layout.name.clone()));
    }
    if info.buffered_bytes > 0 {
        lifecycle.push((
            "Bytes waiting for a frame".to_owned(),
            info.buffered_bytes.to_string(),
        ));
    }
    let status = info
        .status
        .map(|status| format!("{status} {}", info.status_text).trim().to_owned());
    (
        lifecycle,
        status,
        info.request_headers.clone(),
        info.response_headers.clone(),
    )
}

fn message_rows(
    session: &Session,
    session_id: &str,
    connection_id: &str,
    utc_offset: i32,
) -> (Vec<MessageRow>, usize) {
    let all: Vec<&Frame> = session
        .frames()
        .filter(|other| other.connection_id == connection_id && other.session_id == session_id)
        .collect();
    let total = all.len();
    let rows = all
        .into_iter()
        .rev()
        .take(MESSAGE_LIST_LIMIT)
        .rev()
        .map(|other| MessageRow {
            frame_id: other.frame_id,
            time: format_clock(other.time_micros, utc_offset),
            sent: other.direction == Direction::Sent,
            summary: other.summary.clone(),
            size: format_size(other.size_bytes),
            malformed: other.malformed.is_some(),
        })
        .collect();
    (rows, total)
}

fn http_snippets(session: &Session, call: &Call) -> (Option<String>, Option<String>) {
    if call.transport != Transport::Http {
        return (None, None);
    }
    let Some(info) = session.connection(&call.connection_id) else {
        return (None, None);
    };
    if info.url.is_empty() {
        return (None, None);
    }
    let body = call
        .request_frame_id
        .and_then(|frame_id| session.frame_payload(frame_id))
        .filter(|bytes| !bytes.is_empty())
        .map(|bytes| match std::str::from_utf8(bytes) {
            Ok(text) => RequestBody::Text(text.to_owned()),
            Err(_) => RequestBody::Binary(bytes.to_vec()),
        });
    let parts = RequestParts {
        method: if info.http_method.is_empty() {
            "GET".to_owned()
        } else {
            info.http_method.clone()
        },
        url: info.url.clone(),
        headers: info.request_headers.clone(),
        body,
        credentials: None,
        mode: None,
    };
    let parts = redact_request(&parts, &copy_redaction());
    (Some(curl_command(&parts)), Some(fetch_snippet(&parts)))
}

fn detail_view(session: &Session, selection: Selection, utc_offset: i32) -> Option<DetailView> {
    match selection {
        Selection::Call(call_id) => {
            let call = session.call(call_id)?;
            let parts = session.call_parts(call_id);
            let request = parts.and_then(|parts| parts.request).and_then(|part| {
                side_view(
                    session,
                    part.frame_id,
                    Some(part.part),
                    "Request",
                    utc_offset,
                )
            });
            let response = parts.and_then(|parts| parts.response).and_then(|part| {
                side_view(
                    session,
                    part.frame_id,
                    Some(part.part),
                    "Response",
                    utc_offset,
                )
            });
            let (_, status, request_headers, response_headers) =
                connection_facts(session, &call.connection_id, utc_offset);
            let mut timings = vec![(
                "Started".to_owned(),
                format_clock(call.started_micros, utc_offset),
            )];
            if let Some(ended) = call.ended_micros {
                timings.push(("Ended".to_owned(), format_clock(ended, utc_offset)));
                timings.push((
                    "Response after".to_owned(),
                    format_offset(ended as i64 - call.started_micros as i64),
                ));
            }
            if let Some(latency) = call.latency_micros {
                timings.push(("Latency".to_owned(), format_latency(latency)));
            }
            if let Some(info) = session.connection(&call.connection_id)
                && call.transport != Transport::Http
            {
                timings.push((
                    "Into the connection".to_owned(),
                    format_offset(call.started_micros as i64 - info.first_event_micros as i64),
                ));
            }
            let first_frame = call
                .request_frame_id
                .or(call.response_frame_id)
                .and_then(|frame_id| session.frame(frame_id));
            let connection = first_frame
                .filter(|_| call.transport != Transport::Http)
                .map(|frame| (frame.session_id.clone(), frame.connection_id.clone()));
            let (curl, fetch) = http_snippets(session, call);
            let binary_connection = request
                .iter()
                .chain(response.iter())
                .any(|side| matches!(side.body, BodyView::Binary { .. }));
            Some(DetailView {
                title: call.method.clone(),
                subtitle: format!(
                    "{} · {} · {}{}",
                    call.transport.as_str(),
                    call.protocol.as_str(),
                    match call.kind {
                        inspector_core::model::CallKind::Call => "call",
                        inspector_core::model::CallKind::Notification => "notification",
                    },
                    call.request_id
                        .as_ref()
                        .map(|id| format!(" · id {id}"))
                        .unwrap_or_default()
                ),
                outcome: call.outcome.as_str().to_owned(),
                error: match (&call.error_code, &call.error_message) {
                    (Some(code), Some(message)) => Some(format!("{code}: {message}")),
                    (Some(code), None) => Some(code.to_string()),
                    (None, Some(message)) => Some(message.clone()),
                    (None, None) => None,
                },
                transport: call.transport,
                connection_id: call.connection_id.clone(),
                request,
                response,
                request_headers,
                response_headers,
                status,
                timings,
                connection,
                curl,
                fetch,
                binary_connection,
            })
        }
        Selection::Frame(frame_id) => {
            let frame = session.frame(frame_id)?;
            let side = side_view(session, frame_id, None, "Frame", utc_offset);
            let (_, status, request_headers, response_headers) =
                connection_facts(session, &frame.connection_id, utc_offset);
            let connection = (frame.transport != Transport::Http)
                .then(|| (frame.session_id.clone(), frame.connection_id.clone()));
            let binary_connection = side
                .as_ref()
                .is_some_and(|side| matches!(side.body, BodyView::Binary { .. }));
            let (request, response) = match frame.direction {
                Direction::Sent => (side, None),
                Direction::Received => (None, side),
            };
            Some(DetailView {
                title: frame.summary.clone(),
                subtitle: format!(
                    "{} · {} · frame {}",
                    frame.transport.as_str(),
                    frame.protocol.as_str(),
                    frame.frame_id
                ),
                outcome: if frame.malformed.is_some() {
                    "malformed".to_owned()
                } else {
                    "decoded".to_owned()
                },
                error: frame.malformed.clone(),
                transport: frame.transport,
                connection_id: frame.connection_id.clone(),
                request,
                response,
                request_headers,
                response_headers,
                status,
                timings: vec![(
                    "Captured".to_owned(),
                    format_clock(frame.time_micros, utc_offset),
                )],
                connection,
                curl: None,
                fetch: None,
                binary_connection,
            })
        }
    }
}

/// A websocat command for the selected WebSocket message (a frame, or the message that
/// started a call) when the page sent it, or for its connection when the server did.
fn websocat_for(store: &Store, selection: Selection) -> Option<String> {
    let session = store.session();
    let frame_id = match selection {
        Selection::Frame(frame_id) => Some(frame_id),
        Selection::Call(call_id) => {
            let call = session.call(call_id)?;
            call.request_frame_id.or(call.response_frame_id)
        }
    }?;
    let frame = session.frame(frame_id)?;
    if frame.transport != Transport::Websocket {
        return None;
    }
    let info = session.connection(&frame.connection_id)?;
    let protocols = store
        .ws_requested_protocols(&frame.session_id, &frame.connection_id)
        .unwrap_or_else(|| {
            Some(info.ws_protocol.clone())
                .filter(|protocol| !protocol.is_empty())
                .into_iter()
                .collect()
        });
    let parts = WebSocketParts {
        url: info.url.clone(),
        protocols,
    };
    if frame.direction == Direction::Received {
        // The server sent it: the page never did, so the copy only reopens the connection.
        return Some(format!(
            "# The selected message came from the server; this opens the same connection.\n{}",
            websocat_command(&parts, None, &copy_redaction())
        ));
    }
    let bytes = session.frame_payload(frame_id).unwrap_or_default();
    let binary_protocol = matches!(frame.protocol, Protocol::Cafe | Protocol::GrpcWeb);
    let message = match std::str::from_utf8(bytes) {
        Ok(text) if !binary_protocol => WebSocketMessage::Text(text.to_owned()),
        _ => WebSocketMessage::Binary(bytes.to_vec()),
    };
    Some(websocat_command(&parts, Some(&message), &copy_redaction()))
}

fn copy_websocat(inspector: Inspector) {
    let Some(selection) = inspector.selected.get_untracked() else {
        return;
    };
    match inspector
        .store
        .with_value(|store| websocat_for(store, selection))
    {
        Some(command) => copy(inspector, command, "websocat command"),
        None => inspector.notify("Cannot copy: the message is no longer in the store"),
    }
}

fn copy(inspector: Inspector, text: String, what: &'static str) {
    bridge::copy_to_clipboard(text, move |result| match result {
        Ok(()) => inspector.notify(format!("Copied {what}")),
        Err(error) => inspector.notify(format!("Cannot copy {what}: {error}")),
    });
}

fn json_view(node: JsonNode, name: Option<String>, depth: usize) -> AnyView {
    let inspector = use_inspector();
    let key = name.map(|name| view! { <span class="k">{format!("{name:?}")}</span>": " });
    match node {
        JsonNode::Leaf { raw, kind } => {
            let class = match kind {
                LeafKind::String => "s",
                LeafKind::Number => "n",
                LeafKind::Bool | LeafKind::Null => "b",
            };
            let copy_text = raw.clone();
            view! {
                <div class="leaf">
                    {key}
                    <span class=class>{raw}</span>
                    <button class="copy" title="Copy value" on:click=move |_| copy(inspector, copy_text.clone(), "value")>"copy"</button>
                </div>
            }
            .into_any()
        }
        node => {
            let pretty = node.pretty();
            let (open, close, count) = match &node {
                JsonNode::Object { members, .. } => ("{", "}", members.len()),
                JsonNode::Array { items, .. } => ("[", "]", items.len()),
                JsonNode::Leaf { .. } => ("", "", 0),
            };
            let children: Vec<(Option<String>, JsonNode)> = match node {
                JsonNode::Object { members, .. } => members
                    .into_iter()
                    .map(|(name, node)| (Some(name), node))
                    .collect(),
                JsonNode::Array { items, .. } => {
                    items.into_iter().map(|node| (None, node)).collect()
                }
                JsonNode::Leaf { .. } => Vec::new(),
            };
            let noun = if open == "{" { "keys" } else { "items" };
            view! {
                <details open=depth < 3>
                    <summary>
                        {key}
                        {format!("{open} {count} {noun} {close}")}
                        <button class="copy" title="Copy as JSON" on:click=move |event| {
                            event.prevent_default();
                            copy(inspector, pretty.clone(), "JSON");
                        }>"copy"</button>
                    </summary>
                    {children
                        .into_iter()
                        .map(|(name, child)| json_view(child, name, depth + 1))
                        .collect_view()}
                </details>
            }
            .into_any()
        }
    }
}

fn hex_view(lines: Vec<HexLine>) -> impl IntoView {
    lines
        .into_iter()
        .map(|line| {
            let offset = line.offset_label();
            let cells = line.cells.clone();
            let hex = cells
                .iter()
                .map(|cell| {
                    let class = cell
                        .field
                        .map(|field| format!("f{}", field % 6))
                        .unwrap_or_default();
                    view! { <span class=class>{cell.hex()}</span>" " }
                })
                .collect_view();
            let padding = " ".repeat((HEX_BYTES_PER_LINE - cells.len()) * 3);
            let ascii = cells
                .iter()
                .map(|cell| {
                    let class = cell
                        .field
                        .map(|field| format!("f{}", field % 6))
                        .unwrap_or_default();
                    view! { <span class=class>{cell.ascii().to_string()}</span> }
                })
                .collect_view();
            view! {
                <div><span class="off">{offset}</span>"  "{hex}{padding}" "{ascii}</div>
            }
        })
        .collect_view()
}

fn proto_view(nodes: Vec<ProtoNode>) -> AnyView {
    view! {
        <ul>
            {nodes
                .into_iter()
                .map(|node| {
                    let children = (!node.children.is_empty()).then(|| proto_view(node.children));
                    view! { <li><span class="k">{node.label}</span>": "{node.value}{children}</li> }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

fn body_section(body: BodyView) -> AnyView {
    match body {
        BodyView::Empty => view! { <div class="fs-empty">"No body"</div> }.into_any(),
        BodyView::Json(node) => {
            view! { <div class="fs-json" data-testid="json-tree">{json_view(node, None, 0)}</div> }
                .into_any()
        }
        BodyView::Text { text, note } => view! {
            <div>
                {note.map(|note| view! { <div class="fs-warn-text">{note}</div> })}
                <pre>{text}</pre>
            </div>
        }
        .into_any(),
        BodyView::Binary {
            lines,
            spans,
            fields,
            protobuf,
            cut,
        } => {
            let legend = spans
                .iter()
                .enumerate()
                .map(|(index, span)| view! { <span class=format!("f{}", index % 6)>{span.name.clone()}</span> })
                .collect_view();
            view! {
                <div>
                    <dl class="fs-kv">
                        {fields.into_iter().map(|(name, value)| view! { <dt>{name}</dt><dd>{value}</dd> }).collect_view()}
                    </dl>
                    <div class="fs-legend fs-hex">{legend}</div>
                    <div class="fs-hex" data-testid="hex-dump">{hex_view(lines)}</div>
                    {cut.then(|| view! { <div class="fs-warn-text">"Dump cut; copy the payload to see all of it."</div> })}
                    {protobuf.map(|result| match result {
                        Ok(nodes) => view! {
                            <h4>"Protobuf (schema-less)"</h4>
                            <div class="fs-proto" data-testid="protobuf-tree">{proto_view(nodes)}</div>
                        }.into_any(),
                        Err(error) => view! { <div class="fs-warn-text">{format!("Not protobuf: {error}")}</div> }.into_any(),
                    })}
                </div>
            }
            .into_any()
        }
        BodyView::Grpc { messages, note } => view! {
            <div>
                {note.map(|note| view! { <div class="fs-warn-text">{note}</div> })}
                {messages.into_iter().map(|(title, lines)| view! {
                    <h4>{title}</h4>
                    <div class="fs-hex">{hex_view(lines)}</div>
                }).collect_view()}
            </div>
        }
        .into_any(),
    }
}

fn side_section(side: Option<SideView>, empty: &'static str) -> AnyView {
    match side {
        None => view! { <div class="fs-side"><div class="fs-empty">{empty}</div></div> }.into_any(),
        Some(side) => view! {
            <div class="fs-side" data-frame-id=side.frame_id.to_string()>
                <h4>{side.heading}</h4>
                <div class="fs-summary">{side.summary}</div>
                {side.malformed.map(|reason| view! { <div class="fs-error-text" data-testid="malformed-reason">{format!("Malformed: {reason}")}</div> })}
                {side.truncated.then(|| view! { <div class="fs-warn-text">"Payload truncated by the capture"</div> })}
                {body_section(side.body)}
            </div>
        }
        .into_any(),
    }
}

fn key_values(pairs: Vec<(String, String)>) -> impl IntoView {
    view! {
        <dl class="fs-kv">
            {pairs.into_iter().map(|(name, value)| view! { <dt>{name}</dt><dd>{value}</dd> }).collect_view()}
        </dl>
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DetailTab {
    Payload,
    Headers,
    Timing,
    Connection,
    DecodeAs,
}

/// Details of the selected call or frame.
#[component]
pub fn DetailPane() -> impl IntoView {
    let inspector = use_inspector();
    let utc_offset = bridge::utc_offset_minutes();
    let tab = RwSignal::new(DetailTab::Payload);
    let detail = Memo::new(move |_| {
        inspector.version.track();
        let selection = inspector.selected.get()?;
        inspector
            .store
            .with_value(|store| detail_view(store.session(), selection, utc_offset))
    });
    // The connection's lifecycle and messages change with every message on it: kept apart
    // from the payload view so that live traffic does not re-render (and collapse) it.
    let connection_view = Memo::new(move |_| {
        if tab.get() != DetailTab::Connection {
            return None;
        }
        inspector.version.track();
        let (session_id, connection_id) =
            detail.with(|detail| detail.as_ref().and_then(|view| view.connection.clone()))?;
        inspector.store.with_value(|store| {
            let session = store.session();
            let lifecycle = connection_facts(session, &connection_id, utc_offset).0;
            let (rows, total) = message_rows(session, &session_id, &connection_id, utc_offset);
            Some((lifecycle, rows, total))
        })
    });
    let tab_button = move |which: DetailTab, label: &'static str| {
        view! {
            <button
                role="tab"
                data-testid=format!("detail-tab-{}", label.to_ascii_lowercase().replace(' ', "-"))
                aria-selected=move || if tab.get() == which { "true" } else { "false" }
                on:click=move |_| tab.set(which)
            >
                {label}
            </button>
        }
    };
    let body = move || {
        let Some(view) = detail.get() else {
            let missing = inspector.selected.get().is_some();
            return view! {
                <div class="fs-empty">
                    {if missing {
                        "The selected row is no longer in the store"
                    } else {
                        "Select a frame to see its details"
                    }}
                </div>
            }
            .into_any();
        };
        let curl = view.curl.clone();
        let fetch = view.fetch.clone();
        let connection_id = view.connection_id.clone();
        let content = match tab.get() {
            DetailTab::Payload => view! {
                <div class="fs-sides">
                    {side_section(view.request.clone(), "No request frame")}
                    {side_section(view.response.clone(), "No response yet")}
                </div>
            }
            .into_any(),
            DetailTab::Headers => view! {
                <div>
                    {view.status.clone().map(|status| view! { <p>"Status: "<b>{status}</b></p> })}
                    <h3>"Request headers"</h3>
                    {key_values(view.request_headers.clone())}
                    <h3>"Response headers"</h3>
                    {key_values(view.response_headers.clone())}
                </div>
            }
            .into_any(),
            DetailTab::Timing => key_values(view.timings.clone()).into_any(),
            DetailTab::Connection => {
                let (lifecycle, messages, total) = connection_view.get().unwrap_or_default();
                let shown = messages.len();
                view! {
                    <div>
                        <h3>"Lifecycle"</h3>
                        {key_values(lifecycle)}
                        <h3>{format!("Messages ({total}{})", if shown < total { format!(", last {shown} shown") } else { String::new() })}</h3>
                        <table class="fs-table fs-msgs" data-testid="connection-messages">
                            <tbody>
                                {messages.into_iter().map(|row| {
                                    let selection = Selection::Frame(row.frame_id);
                                    view! {
                                        <tr
                                            class=if row.sent { "sent" } else { "received" }
                                            class:error=row.malformed
                                            on:click=move |_| inspector.selected.set(Some(selection))
                                        >
                                            <td>{row.time}</td>
                                            <td>{if row.sent { "↑" } else { "↓" }}</td>
                                            <td>{row.summary}</td>
                                            <td>{row.size}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            }
            DetailTab::DecodeAs => {
                view! { <DecodeAs connection_id=connection_id.clone()/> }.into_any()
            }
        };
        let has_connection = view.transport != Transport::Http;
        view! {
            <div class="fs-detail-head">
                <span class="fs-title">{view.title.clone()}</span>
                <span class=format!("fs-badge outcome-{}", view.outcome)>{view.outcome.clone()}</span>
            </div>
            <div class="fs-muted">{view.subtitle.clone()}</div>
            {view.error.clone().map(|error| view! { <div class="fs-error-text" data-testid="call-error">{error}</div> })}
            <div class="fs-detail-actions">
                {curl.map(|text| view! {
                    <button data-testid="copy-curl" on:click=move |_| copy(inspector, text.clone(), "cURL command")>"Copy as cURL"</button>
                })}
                {fetch.map(|text| view! {
                    <button data-testid="copy-fetch" on:click=move |_| copy(inspector, text.clone(), "fetch call")>"Copy as fetch"</button>
                })}
                {(view.transport == Transport::Websocket).then(|| view! {
                    <button data-testid="copy-websocat" on:click=move |_| copy_websocat(inspector)>"Copy as websocat"</button>
                })}
                <button on:click=move |_| inspector.selected.set(None) title="Close (Escape)">"✕"</button>
            </div>
            <nav class="fs-detail-tabs" role="tablist">
                {tab_button(DetailTab::Payload, "Payload")}
                {tab_button(DetailTab::Headers, "Headers")}
                {tab_button(DetailTab::Timing, "Timing")}
                {has_connection.then(|| tab_button(DetailTab::Connection, "Connection"))}
                {(has_connection || view.binary_connection).then(|| tab_button(DetailTab::DecodeAs, "Decode as"))}
            </nav>
            {content}
        }
        .into_any()
    };
    view! {
        <aside class="fs-detail" aria-label="Details" data-testid="detail-pane">
            <Show when=move || detail.with(Option::is_some) fallback=move || body()>
                <div data-testid="call-detail">{body}</div>
            </Show>
        </aside>
    }
}
