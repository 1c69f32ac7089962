//! `docs/capture-events.md` is the schema other producers write to: every example line in it
//! must parse as the event type it documents, every event type must have an example, and the
//! examples must decode as described.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use inspector_core::event::{EventBody, KNOWN_EVENT_TYPES, parse_event_line};
use inspector_core::model::Protocol;
use inspector_core::session::Session;

/// The `type` of every event body. Exhaustive on purpose: a new event type does not compile
/// here until it is documented.
fn type_name(body: &EventBody) -> &'static str {
    match body {
        EventBody::Page { .. } => "page",
        EventBody::HttpRequest { .. } => "http_request",
        EventBody::HttpResponse { .. } => "http_response",
        EventBody::HttpResponseChunk { .. } => "http_response_chunk",
        EventBody::HttpFailure { .. } => "http_failure",
        EventBody::CorsPreflight { .. } => "cors_preflight",
        EventBody::WsConnect { .. } => "ws_connect",
        EventBody::WsOpen { .. } => "ws_open",
        EventBody::WsMessage { .. } => "ws_message",
        EventBody::WsClose { .. } => "ws_close",
        EventBody::WsError {} => "ws_error",
        EventBody::SseConnect { .. } => "sse_connect",
        EventBody::SseOpen {} => "sse_open",
        EventBody::SseMessage { .. } => "sse_message",
        EventBody::SseError { .. } => "sse_error",
        EventBody::ShmChannel { .. } => "shm_channel",
        EventBody::ShmMessage { .. } => "shm_message",
        EventBody::ShmState { .. } => "shm_state",
        EventBody::ShmActivity { .. } => "shm_activity",
        EventBody::Dropped { .. } => "dropped",
        EventBody::Unknown { .. } => "unknown",
    }
}

#[test]
fn every_example_parses_and_every_type_has_one() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/capture-events.md"
    ))
    .unwrap();
    let mut documented = BTreeSet::new();
    let mut events = Vec::new();
    for (index, line) in doc.lines().enumerate() {
        if !line.starts_with('{') {
            continue;
        }
        let event = parse_event_line(line, index + 1)
            .unwrap_or_else(|error| panic!("docs/capture-events.md: {error}"));
        let name = type_name(&event.body);
        assert_ne!(name, "unknown", "line {}: {line}", index + 1);
        let declared = serde_json::from_str::<serde_json::Value>(line).unwrap()["type"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(declared, name, "line {}", index + 1);
        documented.insert(name);
        events.push(event);
    }
    let expected: BTreeSet<&str> = KNOWN_EVENT_TYPES.iter().copied().collect();
    assert_eq!(documented, expected);

    // The examples mean what the text says.
    let mut session = Session::default();
    session.ingest_all(&events);
    let cafe = session
        .calls()
        .find(|call| call.protocol == Protocol::Cafe)
        .expect("the 0xCAFE example makes a call");
    assert_eq!(cafe.request_id.as_deref(), Some("9007199254740990"));
    assert_eq!(cafe.method, "upper");
    assert_eq!(session.dropped_by_producer(), 17);
    assert_eq!(session.unknown_events(), 0);
    assert_eq!(session.malformed().count(), 0);
    let order = session
        .calls()
        .find(|call| call.method == "order.get")
        .unwrap();
    assert_eq!(order.latency_micros, Some(10_700));
}
