//! Exporting a capture of 10,000 JSON-RPC calls (5,000 over fetch, 5,000 over one
//! WebSocket, 30,000 events with secrets in headers and bodies): redaction, HAR, session file
//! and OTLP, against the baseline of merely serialising the same events as NDJSON with
//! serde_json, measured in the same run.
//!
//! A second group reads the same events back from NDJSON lines (`parse_event_line`, which
//! keeps unknown event types whole) against the baseline of parsing each line into a
//! `serde_json::Value`, and retains them in an `EventLog` (what the dashboard does for
//! export).
//!
//! Run with `cargo bench -p inspector-core --bench export`. The figures that matter are the
//! ratios `format / baseline`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use inspector_core::event::{
    CaptureEvent, Direction, EventBody, Payload, SCHEMA_VERSION, parse_event_line,
};
use inspector_core::export::redact::{RedactionConfig, redact_events};
use inspector_core::export::{EventLog, ExportFormat, ExportRequest, export_capture};
use inspector_core::session::SessionConfig;

const CALLS: u64 = 10_000;
const T0: u64 = 1_795_676_709_000_000;

fn event(connection_id: String, time_micros: u64, body: EventBody) -> CaptureEvent {
    CaptureEvent {
        v: SCHEMA_VERSION,
        session_id: "page-1".into(),
        connection_id,
        time_micros,
        body,
    }
}

fn capture() -> Vec<CaptureEvent> {
    let mut events = vec![event(
        "ws".into(),
        T0,
        EventBody::WsConnect {
            url: "ws://127.0.0.1:9/ws?token=abc".into(),
            protocols: Vec::new(),
        },
    )];
    for index in 0..CALLS {
        let time = T0 + 1_000 + index * 500;
        let request = format!(
            r#"{{"jsonrpc":"2.0","method":"User.Get","params":{{"id":{index},"access_token":"t-{index}","filter":{{"name":"ada","limit":10}}}},"id":{index}}}"#
        );
        let response = format!(
            r#"{{"jsonrpc":"2.0","result":{{"id":{index},"name":"Ada","email":"ada@example.test","roles":["admin","dev"]}},"id":{index}}}"#
        );
        if index % 2 == 0 {
            let connection = format!("h-{index}");
            events.push(event(
                connection.clone(),
                time,
                EventBody::HttpRequest {
                    api: "fetch".into(),
                    method: "POST".into(),
                    url: "http://127.0.0.1:9/rpc?api_key=k".into(),
                    headers: vec![
                        ("Content-Type".into(), "application/json".into()),
                        ("Authorization".into(), "Bearer secret".into()),
                    ],
                    body: Some(Payload::text(request)),
                    body_kind: Some("text".into()),
                    mode: Some("cors".into()),
                    credentials: None,
                    redirect: None,
                    upload_listeners: false,
                },
            ));
            events.push(event(
                connection,
                time + 300,
                EventBody::HttpResponse {
                    status: 200,
                    status_text: "OK".into(),
                    headers: vec![
                        ("Content-Type".into(), "application/json".into()),
                        ("Set-Cookie".into(), "sid=abc; Path=/".into()),
                    ],
                    body: Some(Payload::text(response)),
                    response_type: Some("basic".into()),
                    url: None,
                    redirected: false,
                },
            ));
        } else {
            for (offset, direction, text) in [
                (0, Direction::Sent, request),
                (300, Direction::Received, response),
            ] {
                events.push(event(
                    "ws".into(),
                    time + offset,
                    EventBody::WsMessage {
                        direction,
                        payload: Payload::text(text),
                    },
                ));
            }
        }
    }
    events
}

fn bench_export(criterion: &mut Criterion) {
    let events = capture();
    let config = SessionConfig::default();
    let redaction = RedactionConfig::default();
    let mut group = criterion.benchmark_group("export_10k_calls");
    group.sample_size(10);
    group.bench_function("baseline_serde_ndjson", |bencher| {
        bencher.iter(|| {
            let mut text = String::new();
            for event in &events {
                text.push_str(&serde_json::to_string(event).unwrap());
                text.push('\n');
            }
            black_box(text)
        });
    });
    group.bench_function("redact_only", |bencher| {
        bencher.iter(|| black_box(redact_events(&events, &redaction).unwrap()));
    });
    for format in [ExportFormat::Har, ExportFormat::Session, ExportFormat::Otlp] {
        let request = ExportRequest {
            events: &events,
            config: &config,
            finished_micros: None,
            redaction: &redaction,
            producer_version: "bench",
            service_name: "bench",
            evicted: Default::default(),
        };
        group.bench_function(format.as_str(), |bencher| {
            bencher.iter(|| black_box(export_capture(format, &request).unwrap()));
        });
    }
    group.finish();
}

fn bench_read(criterion: &mut Criterion) {
    let lines: Vec<String> = capture()
        .iter()
        .map(|event| serde_json::to_string(event).unwrap())
        .collect();
    let mut group = criterion.benchmark_group("read_30k_events");
    group.sample_size(10);
    group.bench_function("baseline_serde_value", |bencher| {
        bencher.iter(|| {
            for line in &lines {
                black_box(serde_json::from_str::<serde_json::Value>(line).unwrap());
            }
        });
    });
    group.bench_function("parse_event_line", |bencher| {
        bencher.iter(|| {
            for (index, line) in lines.iter().enumerate() {
                black_box(parse_event_line(line, index + 1).unwrap());
            }
        });
    });
    let events = capture();
    let config = SessionConfig::default();
    group.bench_function("event_log_push", |bencher| {
        bencher.iter(|| {
            let mut log = EventLog::new(&config);
            for event in &events {
                log.push(event);
            }
            black_box(log.len())
        });
    });
    group.finish();
}

criterion_group!(benches, bench_export, bench_read);
criterion_main!(benches);
