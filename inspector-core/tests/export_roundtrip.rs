//! Exported captures come back to the same analysis: session files (decode-as layouts and
//! the finish time included), with and without redaction.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod export_support;

use export_support::{T0, capture_with_secrets, event, ws_message};
use inspector_core::decode::binary::{BinaryLayout, ByteOrder};
use inspector_core::event::{CaptureEvent, Direction, EventBody, Payload};
use inspector_core::export::redact::RedactionConfig;
use inspector_core::export::session::{export_session, import_session, replay};
use inspector_core::model::{Call, Frame, Outcome};
use inspector_core::session::{Session, SessionConfig};

/// 0xCAFE frames written little-endian: only a decode-as override with the switched byte
/// order decodes them.
fn little_endian_cafe(message_type: u8, request_id: u64, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0xfe, 0xca, 1, message_type];
    frame.extend_from_slice(&request_id.to_le_bytes());
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(payload);
    frame
}

fn capture() -> Vec<CaptureEvent> {
    let mut events = capture_with_secrets();
    let socket = |time, body| CaptureEvent {
        connection_id: "ws-le".into(),
        ..event("", time, body)
    };
    events.push(socket(
        T0 + 70_000,
        EventBody::WsConnect {
            url: "ws://127.0.0.1:9/bus".into(),
            protocols: Vec::new(),
        },
    ));
    events.push(socket(
        T0 + 70_500,
        EventBody::WsOpen {
            protocol: String::new(),
            extensions: String::new(),
        },
    ));
    // Method name in protobuf field 1 ("Bus.Ping"), as the 0xCAFE preset expects.
    let request = [&[0x0a, 8][..], b"Bus.Ping"].concat();
    let mut message = |time, direction, bytes: Vec<u8>| {
        let mut event = ws_message(time, direction, Payload::binary(&bytes));
        event.connection_id = "ws-le".into();
        events.push(event);
    };
    message(
        T0 + 71_000,
        Direction::Sent,
        little_endian_cafe(1, 5, &request),
    );
    message(
        T0 + 72_250,
        Direction::Received,
        little_endian_cafe(2, 5, &[0x08, 1]),
    );
    // Never answered: pending at the end, timed out only with the short timeout below.
    message(
        T0 + 73_000,
        Direction::Sent,
        little_endian_cafe(1, 6, &request),
    );
    events
}

fn live_session(events: &[CaptureEvent], finished_micros: u64) -> Session {
    let config = SessionConfig {
        call_timeout_micros: Some(20_000),
        ..SessionConfig::default()
    };
    let mut session = Session::new(config);
    session.ingest_all(events);
    session
        .set_layout(
            "ws-le",
            BinaryLayout::cafe().with_byte_order(ByteOrder::LittleEndian),
        )
        .unwrap();
    session.finish(finished_micros);
    session
}

struct Analysis {
    frames: Vec<Frame>,
    calls: Vec<Call>,
    malformed: Vec<Frame>,
    dropped_by_producer: u64,
}

fn analysis(session: &Session) -> Analysis {
    Analysis {
        frames: session.frames().cloned().collect(),
        calls: session.calls().cloned().collect(),
        malformed: session.malformed().cloned().collect(),
        dropped_by_producer: session.dropped_by_producer(),
    }
}

fn assert_same(left: &Analysis, right: &Analysis) {
    assert_eq!(left.calls, right.calls);
    assert_eq!(left.frames, right.frames);
    assert_eq!(left.malformed, right.malformed);
    assert_eq!(left.dropped_by_producer, right.dropped_by_producer);
}

#[test]
fn session_file_reimports_to_an_identical_analysis() {
    let events = capture();
    let finished_micros = T0 + 100_000;
    let live = live_session(&events, finished_micros);
    let before = analysis(&live);
    // The decode-as choice and the timeout matter: without them the analysis differs.
    let bus_calls = |analysis: &Analysis| -> Vec<(String, Outcome)> {
        analysis
            .calls
            .iter()
            .filter(|call| call.connection_id == "ws-le")
            .map(|call| (call.method.clone(), call.outcome))
            .collect()
    };
    assert_eq!(
        bus_calls(&before),
        vec![
            ("Bus.Ping".to_owned(), Outcome::Ok),
            ("Bus.Ping".to_owned(), Outcome::Timeout)
        ]
    );
    let plain = replay(&events, &SessionConfig::default(), None);
    assert_ne!(bus_calls(&analysis(&plain)), bus_calls(&before));

    let text = export_session(
        &events,
        live.config(),
        Some(finished_micros),
        &RedactionConfig::disabled(),
        "framescope test",
    )
    .unwrap();
    let file = import_session(&text).unwrap();
    assert_eq!(file.events, events);
    assert_eq!(&file.config, live.config());
    assert_same(&analysis(&file.replay()), &before);
}

#[test]
fn redacted_session_file_keeps_the_analysis() {
    let events = capture();
    let finished_micros = T0 + 100_000;
    let live = live_session(&events, finished_micros);
    let text = export_session(
        &events,
        live.config(),
        Some(finished_micros),
        &RedactionConfig::default(),
        "framescope test",
    )
    .unwrap();
    let file = import_session(&text).unwrap();
    assert!(file.redacted);
    assert_ne!(file.events, events, "secrets were redacted");
    let before = analysis(&live);
    let after = analysis(&file.replay());
    // Calls (methods, ids, outcomes, error codes and messages, times, latencies) are
    // untouched by redaction; so are the frames' ids, times and protocols. Only the sizes
    // of messages that held secrets change with the replaced text.
    let without_sizes = |calls: &[Call]| -> Vec<Call> {
        calls
            .iter()
            .map(|call| Call {
                request_size_bytes: 0,
                response_size_bytes: 0,
                ..call.clone()
            })
            .collect()
    };
    assert_eq!(without_sizes(&after.calls), without_sizes(&before.calls));
    let changed_sizes = after
        .calls
        .iter()
        .zip(&before.calls)
        .filter(|(after, before)| after.request_size_bytes != before.request_size_bytes)
        .count();
    assert!(changed_sizes > 0 && changed_sizes < before.calls.len());
    let shape = |frames: &[Frame]| -> Vec<(u64, String, u64)> {
        frames
            .iter()
            .map(|frame| {
                (
                    frame.frame_id,
                    frame.protocol.as_str().to_owned(),
                    frame.time_micros,
                )
            })
            .collect()
    };
    assert_eq!(shape(&after.frames), shape(&before.frames));
    assert_eq!(after.malformed.len(), before.malformed.len());
}

/// A seed-style mailbox channel between the page and a worker, as the hook reports it.
fn shared_memory_events() -> Vec<CaptureEvent> {
    let lines = [
        r#"{"type":"shm_channel","session_id":"page-1","connection_id":"shm-1","time_micros":1795676709080000,"name":"bus","layout":"mailbox","byte_length":4096,"thread":"page","command_offset_bytes":0,"length_offset_bytes":4,"payload_offset_bytes":8,"capacity_bytes":4088}"#,
        r#"{"type":"shm_message","session_id":"page-1","connection_id":"shm-1","time_micros":1795676709081000,"direction":"sent","channel":"bus","role":"request","thread":"page","payload":{"encoding":"text","data":"{\"jsonrpc\":\"2.0\",\"method\":\"Vault.Open\",\"params\":{\"password\":\"shm-0001\"},\"id\":1}","size_bytes":73}}"#,
        r#"{"type":"shm_state","session_id":"page-1","connection_id":"shm-1","time_micros":1795676709081010,"channel":"bus","thread":"worker-1","command":1}"#,
        r#"{"type":"shm_message","session_id":"page-1","connection_id":"shm-1","time_micros":1795676709081400,"direction":"received","channel":"bus","role":"response","thread":"worker-1","payload":{"encoding":"text","data":"{\"jsonrpc\":\"2.0\",\"result\":{\"session_token\":\"shm-0002\"},\"id\":1}","size_bytes":60}}"#,
        r#"{"type":"shm_activity","session_id":"page-1","connection_id":"shm-1","time_micros":1795676709090000,"channel":"bus","thread":"page","byte_length":4096,"window_micros":10000,"operations":{"store":2,"load":4},"notify_calls":2,"woken":1,"waits":1,"wait_micros":380,"wait_woken":1}"#,
    ];
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| inspector_core::event::parse_event_line(line, index + 1).unwrap())
        .collect()
}

#[test]
fn shared_memory_traffic_survives_session_files_and_loses_its_secrets() {
    let mut events = capture();
    events.extend(shared_memory_events());
    let finished_micros = T0 + 100_000;
    let live = live_session(&events, finished_micros);
    let before = analysis(&live);
    let vault: Vec<&Call> = before
        .calls
        .iter()
        .filter(|call| call.method == "Vault.Open")
        .collect();
    assert_eq!(vault.len(), 1, "{:#?}", before.calls);
    assert_eq!(
        vault[0].transport,
        inspector_core::model::Transport::SharedMemory
    );
    assert_eq!(vault[0].outcome, Outcome::Ok);
    assert_eq!(vault[0].latency_micros, Some(400));

    let lossless = export_session(
        &events,
        live.config(),
        Some(finished_micros),
        &RedactionConfig::disabled(),
        "t",
    )
    .unwrap();
    let file = import_session(&lossless).unwrap();
    assert_eq!(file.events, events);
    assert_same(&analysis(&file.replay()), &before);

    let redacted = export_session(
        &events,
        live.config(),
        Some(finished_micros),
        &RedactionConfig::default(),
        "t",
    )
    .unwrap();
    assert!(lossless.contains("shm-0001") && lossless.contains("shm-0002"));
    assert!(!redacted.contains("shm-0001") && !redacted.contains("shm-0002"));
    let after = analysis(&import_session(&redacted).unwrap().replay());
    let methods = |analysis: &Analysis| -> Vec<(String, Outcome, Option<u64>)> {
        analysis
            .calls
            .iter()
            .map(|call| (call.method.clone(), call.outcome, call.latency_micros))
            .collect()
    };
    assert_eq!(methods(&after), methods(&before));

    // HAR has no place for shared memory: the export says what it left out.
    let har =
        inspector_core::export::har::export_har(&events, &RedactionConfig::default(), "t").unwrap();
    assert_eq!(har.skipped_events.get("shm_message"), Some(&2));
    assert_eq!(har.skipped_total(), 5);
    assert!(!har.text.contains("shm-0001"));
}

/// Events of types this core does not know (a newer hook, an app's `framescope.emit`), as
/// NDJSON lines.
const UNKNOWN_EVENT_LINES: [&str; 2] = [
    r#"{"v":2,"session_id":"p1","connection_id":"app","time_micros":1700000000000100,"type":"app_mark","name":"checkout","detail":{"step":3,"items":[{"sku":"A-1","qty":2}],"ratio":0.25,"big":18446744073709551615,"none":null}}"#,
    r#"{"v":1,"session_id":"p1","connection_id":"ws-9","time_micros":1700000000000200,"type":"ws_ping","payload":{"encoding":"text","data":"{\"token\":\"tk-unknown-secret\"}","size_bytes":30},"url":"ws://127.0.0.1:9/x?api_key=k-unknown-secret","headers":[["Authorization","Bearer unknown-bearer-secret"]]}"#,
];

#[test]
fn unknown_event_types_survive_session_files_whole() {
    let mut events = capture();
    for line in UNKNOWN_EVENT_LINES {
        events.push(inspector_core::event::parse_event_line(line, 1).unwrap());
    }
    let text = export_session(
        &events,
        &SessionConfig::default(),
        None,
        &RedactionConfig::disabled(),
        "framescope test",
    )
    .unwrap();
    let file = import_session(&text).unwrap();
    assert_eq!(file.events, events);
    // Every member of the unknown events is in the file, as the same JSON.
    let document: serde_json::Value = serde_json::from_str(&text).unwrap();
    let written = document["events"].as_array().unwrap();
    for line in UNKNOWN_EVENT_LINES {
        let original: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            written.contains(&original),
            "{original} is not in the session file"
        );
    }
    assert_eq!(file.replay().unknown_events(), 2);
}

#[test]
fn unknown_event_types_lose_their_secrets_but_nothing_else() {
    let events: Vec<CaptureEvent> = UNKNOWN_EVENT_LINES
        .iter()
        .map(|line| inspector_core::event::parse_event_line(line, 1).unwrap())
        .collect();
    let text = export_session(
        &events,
        &SessionConfig::default(),
        None,
        &RedactionConfig::default(),
        "framescope test",
    )
    .unwrap();
    for secret in [
        "tk-unknown-secret",
        "k-unknown-secret",
        "unknown-bearer-secret",
    ] {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
    let file = import_session(&text).unwrap();
    // The event without secrets is unchanged; the other keeps its shape.
    assert_eq!(file.events[0], events[0]);
    let EventBody::Unknown { type_name, members } = &file.events[1].body else {
        panic!("{:?}", file.events[1].body)
    };
    assert_eq!(type_name, "ws_ping");
    assert_eq!(members["headers"][0][1], "Bearer [REDACTED]");
    assert_eq!(members["payload"]["size_bytes"], 30);
}

#[test]
fn session_file_records_what_the_live_view_had_evicted() {
    use inspector_core::export::{
        EventLog, ExportFormat, ExportRequest, export_capture, session::looks_like_session,
    };
    let events = capture();
    let mut log = EventLog::with_caps(events.len() - 3, u64::MAX);
    for event in &events {
        log.push(event);
    }
    let evicted = log.evicted();
    assert_eq!(evicted.events, 3);
    let config = SessionConfig::default();
    let redaction = RedactionConfig::default();
    let request = ExportRequest {
        events: log.events(),
        config: &config,
        finished_micros: None,
        redaction: &redaction,
        producer_version: "test",
        service_name: "test",
        evicted,
    };
    let output = export_capture(ExportFormat::Session, &request).unwrap();
    assert!(looks_like_session(&output.text));
    assert!(
        output.notes.contains(
            &"3 event(s) older than the retention limit are not in this export".to_owned()
        ),
        "{:?}",
        output.notes
    );
    let file = import_session(&output.text).unwrap();
    assert_eq!(file.evicted, evicted);
    assert_eq!(file.events.len(), events.len() - 3);
    // Nothing evicted: no member, as before.
    let full = export_session(&events, &config, None, &redaction, "t").unwrap();
    assert!(!full.contains("\"evicted\""));
    assert_eq!(import_session(&full).unwrap().evicted.events, 0);
}
