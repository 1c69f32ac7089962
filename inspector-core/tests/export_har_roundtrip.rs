//! HAR export -> HAR import -> the same analysis, for a Framescope capture and for a HAR
//! that headless Chromium recorded (tests/data/chromium-recorded.har, written by
//! tests/e2e/har-recorder.mjs through Playwright's `recordHar`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod export_support;

use export_support::capture_with_secrets;
use inspector_core::event::CaptureEvent;
use inspector_core::export::har::export_har;
use inspector_core::export::redact::RedactionConfig;
use inspector_core::export::session::replay;
use inspector_core::har::parse_har;
use inspector_core::model::{CallKind, Outcome, Protocol, Transport};
use inspector_core::session::SessionConfig;

/// What an analysis says about each call, without the ids a re-import renumbers
/// (connection ids are the importer's own).
#[derive(Debug, Clone, PartialEq, Eq)]
struct CallView {
    transport: Transport,
    protocol: Protocol,
    method: String,
    request_id: Option<String>,
    kind: CallKind,
    outcome: Outcome,
    error_code: Option<i64>,
    started_micros: u64,
    latency_micros: Option<u64>,
    request_size_bytes: u64,
    response_size_bytes: u64,
}

fn analyse(events: &[CaptureEvent]) -> Vec<CallView> {
    replay(events, &SessionConfig::default(), None)
        .calls()
        .map(|call| CallView {
            transport: call.transport,
            protocol: call.protocol,
            method: call.method.clone(),
            request_id: call.request_id.clone(),
            kind: call.kind,
            outcome: call.outcome,
            error_code: call.error_code,
            started_micros: call.started_micros,
            latency_micros: call.latency_micros,
            request_size_bytes: call.request_size_bytes,
            response_size_bytes: call.response_size_bytes,
        })
        .collect()
}

fn through_har(events: &[CaptureEvent], redaction: &RedactionConfig) -> Vec<CaptureEvent> {
    let export = export_har(events, redaction, "test").unwrap();
    parse_har(&export.text).unwrap()
}

#[test]
fn framescope_capture_survives_har_export_and_import() {
    // HAR has no standard place for EventSource messages or extension-observed preflights:
    // those stay in session files.
    let events: Vec<CaptureEvent> = capture_with_secrets()
        .into_iter()
        .filter(|event| !matches!(event.connection_id.as_str(), "sse-1" | "preflight-1"))
        .collect();
    let before = analyse(&events);
    assert!(before.len() >= 5, "{before:#?}");
    assert!(before.iter().any(|call| call.outcome == Outcome::Error));
    assert!(
        before
            .iter()
            .any(|call| call.transport == Transport::Websocket && call.protocol == Protocol::Cafe)
    );
    assert_eq!(
        analyse(&through_har(&events, &RedactionConfig::disabled())),
        before
    );
}

/// (transport, protocol, method, request id, outcome, error code)
type Summary<'a> = (
    Transport,
    Protocol,
    &'a str,
    Option<&'a str>,
    Outcome,
    Option<i64>,
);

fn chromium_har() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/chromium-recorded.har"
    ))
    .unwrap()
}

#[test]
fn chromium_recorded_har_is_analysed() {
    let events = parse_har(&chromium_har()).unwrap();
    let calls = analyse(&events);
    let summary: Vec<Summary<'_>> = calls
        .iter()
        .map(|call| {
            (
                call.transport,
                call.protocol,
                call.method.as_str(),
                call.request_id.as_deref(),
                call.outcome,
                call.error_code,
            )
        })
        .collect();
    let rpc = |method, id, outcome, code| {
        (
            Transport::Http,
            Protocol::JsonRpc2,
            method,
            Some(id),
            outcome,
            code,
        )
    };
    for expected in [
        rpc("Arith.Multiply", "1", Outcome::Ok, None),
        rpc("Arith.Divide", "2", Outcome::Error, Some(-32000)),
        rpc("User.Login", "3", Outcome::Ok, None),
        (
            Transport::Websocket,
            Protocol::JsonRpc2,
            "Chat.Send",
            Some("10"),
            Outcome::Ok,
            None,
        ),
    ] {
        assert!(
            summary.contains(&expected),
            "{expected:?} not in {summary:#?}"
        );
    }
    let typing = calls
        .iter()
        .find(|call| call.method == "Chat.Typing")
        .unwrap();
    assert_eq!(typing.kind, CallKind::Notification);
    let cafe = calls
        .iter()
        .find(|call| call.protocol == Protocol::Cafe)
        .unwrap();
    assert_eq!(cafe.outcome, Outcome::Ok);
    assert!(cafe.latency_micros.is_some());
}

#[test]
fn chromium_recorded_har_survives_our_export_and_import() {
    let events = parse_har(&chromium_har()).unwrap();
    let before = analyse(&events);
    assert_eq!(
        analyse(&through_har(&events, &RedactionConfig::disabled())),
        before
    );
    // Redaction keeps every call, method, id, outcome and latency.
    let redacted = analyse(&through_har(&events, &RedactionConfig::default()));
    let key = |call: &CallView| {
        (
            call.method.clone(),
            call.request_id.clone(),
            call.outcome,
            call.latency_micros,
        )
    };
    assert_eq!(
        redacted.iter().map(key).collect::<Vec<_>>(),
        before.iter().map(key).collect::<Vec<_>>()
    );
}

#[test]
fn chromium_recorded_har_secrets_do_not_survive_export() {
    let events = parse_har(&chromium_har()).unwrap();
    let export = export_har(&events, &RedactionConfig::default(), "test").unwrap();
    for secret in [
        "har-fetch-secret",
        "har-body-secret",
        "har-url-secret",
        "har-cookie-secret",
        "har-response-secret",
    ] {
        assert!(
            chromium_har().contains(secret),
            "the recording holds {secret}"
        );
        assert!(!export.text.contains(secret), "{secret} leaked");
    }
}

/// Everything an analysis says about a call, the ids it groups by included: only `call_id`
/// and frame ids (numbering) are left out.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FullCallView {
    session_id: String,
    connection_id: String,
    view: CallView,
    error_message: Option<String>,
    ended_micros: Option<u64>,
}

fn analyse_fully(events: &[CaptureEvent]) -> Vec<FullCallView> {
    let session = replay(events, &SessionConfig::default(), None);
    let views = analyse(events);
    session
        .calls()
        .zip(views)
        .map(|(call, view)| FullCallView {
            session_id: call.session_id.clone(),
            connection_id: call.connection_id.clone(),
            view,
            error_message: call.error_message.clone(),
            ended_micros: call.ended_micros,
        })
        .collect()
}

/// (session, connection, transport, url, close) of every connection, sorted.
fn connections(events: &[CaptureEvent]) -> Vec<(String, String, String, String, String)> {
    let session = replay(events, &SessionConfig::default(), None);
    let mut list: Vec<_> = session
        .connections()
        .into_iter()
        .map(|info| {
            (
                info.session_id.clone(),
                info.connection_id.clone(),
                format!("{:?}", info.transport),
                info.url.clone(),
                format!("{:?} {:?}", info.close, info.failure),
            )
        })
        .collect();
    list.sort();
    list
}

#[test]
fn har_round_trip_keeps_connection_identity_and_microsecond_timing() {
    // The whole capture this time: EventSource messages and the observed preflight travel
    // in Framescope's own HAR members.
    let events = capture_with_secrets();
    let before = analyse_fully(&events);
    assert!(before.len() >= 5, "{before:#?}");
    // Latencies that are not whole milliseconds: HAR's `time` alone would round them.
    assert!(
        before.iter().any(|call| call
            .view
            .latency_micros
            .is_some_and(|micros| micros % 1_000 != 0)),
        "{before:#?}"
    );
    let imported = through_har(&events, &RedactionConfig::disabled());
    let after = analyse_fully(&imported);
    assert_eq!(after, before);
    assert_eq!(connections(&imported), connections(&events));
    // The same events per connection, in the same order (the importer may interleave
    // connections differently at equal times).
    let per_connection = |events: &[CaptureEvent]| {
        let mut grouped: std::collections::BTreeMap<(String, String), Vec<String>> =
            Default::default();
        for event in events {
            grouped
                .entry((event.session_id.clone(), event.connection_id.clone()))
                .or_default()
                .push(format!("{} {}", event.time_micros, event.body.type_name()));
        }
        grouped
    };
    let expected = per_connection(
        &events
            .iter()
            .filter(|event| {
                // HAR holds no `dropped` counts per event and no EventSource `open`
                // when the response is not known; those are the only differences.
                !matches!(event.body, inspector_core::event::EventBody::Dropped { .. })
            })
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_eq!(per_connection(&imported), expected);
}

#[test]
fn har_import_keeps_connection_ids_unique() {
    let events = capture_with_secrets();
    let export = export_har(&events, &RedactionConfig::disabled(), "test").unwrap();
    // Two entries claiming the same connection: the second gets its own id and a note.
    let mut har: serde_json::Value = serde_json::from_str(&export.text).unwrap();
    let entries = har["log"]["entries"].as_array_mut().unwrap();
    let first_id = entries[0]["_connectionId"].clone();
    let first_session = entries[0]["_sessionId"].clone();
    entries[1]["_connectionId"] = first_id.clone();
    entries[1]["_sessionId"] = first_session;
    let imported = inspector_core::har::import_har(&har.to_string()).unwrap();
    assert!(
        imported
            .notes
            .iter()
            .any(|note| note.path == "log.entries[1]._connectionId"),
        "{:?}",
        imported.notes
    );
    let ids: std::collections::BTreeSet<&str> = imported
        .events
        .iter()
        .map(|event| event.connection_id.as_str())
        .collect();
    assert!(ids.contains(first_id.as_str().unwrap()));
    assert!(ids.contains("har-1"), "{ids:?}");
}
