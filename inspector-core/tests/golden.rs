//! Golden captures: every `tests/data/golden/*.ndjson` is ingested and the resulting frames,
//! calls and counters are compared with the checked-in `*.expected.json` next to it.
//!
//! `demo-capture.ndjson` was recorded from headless Chromium running the in-page hook
//! against `framescope serve --demo` (see `tests/e2e/golden-recorder.mjs`); the other files
//! are written by hand for edge cases. To accept a deliberate change in the output, run
//! `FRAMESCOPE_UPDATE_GOLDEN=1 cargo test -p inspector-core --test golden` and review the
//! diff of the `.expected.json` files before committing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use inspector_core::event::parse_ndjson;
use inspector_core::session::{Session, SessionConfig};
use serde_json::json;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden")
}

/// The analysis of one capture as stable, reviewable JSON.
fn analyse(text: &str) -> serde_json::Value {
    let events = parse_ndjson(text).unwrap();
    let mut session = Session::new(SessionConfig::default());
    session.ingest_all(&events);
    let end = events
        .iter()
        .map(|event| event.time_micros)
        .max()
        .unwrap_or(0)
        + 1;
    session.finish(end);
    let frames: Vec<_> = session
        .frames()
        .map(|frame| {
            json!({
                "frame_id": frame.frame_id,
                "connection_id": frame.connection_id,
                "transport": frame.transport,
                "direction": frame.direction,
                "protocol": frame.protocol,
                "size_bytes": frame.size_bytes,
                "summary": frame.summary,
                "malformed": frame.malformed,
            })
        })
        .collect();
    let calls: Vec<_> = session
        .calls()
        .map(|call| {
            json!({
                "call_id": call.call_id,
                "connection_id": call.connection_id,
                "transport": call.transport,
                "protocol": call.protocol,
                "method": call.method,
                "request_id": call.request_id,
                "kind": call.kind,
                "outcome": call.outcome,
                "error_code": call.error_code,
                "error_message": call.error_message,
                "latency_micros": call.latency_micros,
                "request_frame_id": call.request_frame_id,
                "response_frame_id": call.response_frame_id,
            })
        })
        .collect();
    json!({
        "frames": frames,
        "calls": calls,
        "malformed": session.malformed().count(),
        "evicted": session.evicted(),
        "dropped_by_producer": session.dropped_by_producer(),
        "unknown_events": session.unknown_events(),
    })
}

#[test]
fn golden_captures_match_expected_output() {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ndjson"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 2, "golden captures missing: {inputs:?}");
    let update = std::env::var_os("FRAMESCOPE_UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for input in &inputs {
        let text = std::fs::read_to_string(input).unwrap();
        let got = analyse(&text);
        let expected_path = input.with_extension("expected.json");
        let rendered = serde_json::to_string_pretty(&got).unwrap() + "\n";
        if update {
            std::fs::write(&expected_path, &rendered).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|error| panic!("{}: {error}", expected_path.display()));
        if expected != rendered {
            let first_difference = expected
                .lines()
                .zip(rendered.lines())
                .position(|(a, b)| a != b)
                .map_or(
                    expected.lines().count().min(rendered.lines().count()),
                    |line| line,
                );
            mismatches.push(format!(
                "{}: differs from {} at line {}:\n  expected: {}\n  got:      {}",
                input.display(),
                expected_path.display(),
                first_difference + 1,
                expected.lines().nth(first_difference).unwrap_or("<end>"),
                rendered.lines().nth(first_difference).unwrap_or("<end>"),
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn recorded_cafe_traffic_split_into_three_byte_messages_gives_the_same_calls() {
    use base64::Engine as _;
    use inspector_core::event::{EventBody, Payload};
    let text = std::fs::read_to_string(golden_dir().join("demo-capture.ndjson")).unwrap();
    let events = parse_ndjson(&text).unwrap();
    let mut split = Vec::new();
    let mut binary_messages = 0;
    for event in &events {
        match &event.body {
            EventBody::WsMessage { direction, payload } if payload.is_binary() => {
                binary_messages += 1;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(&payload.data)
                    .unwrap();
                for piece in bytes.chunks(3) {
                    let mut piece_event = event.clone();
                    piece_event.body = EventBody::WsMessage {
                        direction: *direction,
                        payload: Payload::binary(piece),
                    };
                    split.push(piece_event);
                }
            }
            _ => split.push(event.clone()),
        }
    }
    assert!(
        binary_messages >= 4,
        "the recording has too little 0xCAFE traffic"
    );
    let key = |session: &Session| {
        session
            .calls()
            .map(|call| {
                (
                    call.method.clone(),
                    call.request_id.clone(),
                    call.kind,
                    call.outcome,
                    call.protocol,
                )
            })
            .collect::<Vec<_>>()
    };
    let mut whole = Session::default();
    whole.ingest_all(&events);
    let mut pieces = Session::default();
    pieces.ingest_all(&split);
    assert_eq!(key(&whole), key(&pieces));
    assert_eq!(whole.malformed().count(), pieces.malformed().count());
}
