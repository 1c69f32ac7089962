//! The core pipeline against its baselines, measured in the same run:
//!
//! - `jsonrpc/pipeline`: ingest + decode + correlate + per-method statistics of small
//!   JSON-RPC frames (10,000 WebSocket messages: requests, responses, notifications), against
//!   `jsonrpc/serde_json_value`: merely parsing the same payload bytes with
//!   `serde_json::from_str::<serde_json::Value>`. Target: ratio <= 2.
//! - `cafe/framing`: cutting 0xCAFE frames out of a stream (100,000 frames, pushed as 64 KiB
//!   chunks) with the push decoder. Target: >= 5 million frames/s.
//! - `cafe/pipeline`: the same frames through the whole session (frames, calls).
//!
//! Run with `cargo bench -p inspector-core --bench pipeline`; the ratio and frames/s are
//! printed at the end from criterion's own estimates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group};
use inspector_core::decode::binary::{BinaryDecoder, BinaryLayout};
use inspector_core::decode::protobuf::{encode_bytes_field, encode_varint_field};
use inspector_core::event::{CaptureEvent, Direction, EventBody, Payload, SCHEMA_VERSION};
use inspector_core::session::{Session, SessionConfig};
use inspector_core::stats::{StatsAccumulator, StatsConfig};

const JSONRPC_MESSAGES: usize = 10_000;
const CAFE_FRAMES: usize = 100_000;

fn ws_text(time_micros: u64, direction: Direction, text: String) -> CaptureEvent {
    CaptureEvent {
        v: SCHEMA_VERSION,
        session_id: "bench-page".to_owned(),
        connection_id: "ws-1".to_owned(),
        time_micros,
        body: EventBody::WsMessage {
            direction,
            payload: Payload::text(text),
        },
    }
}

/// Small JSON-RPC 2.0 messages as a page exchanges them: a request, its response, and a
/// server notification now and then.
fn jsonrpc_events() -> Vec<CaptureEvent> {
    let methods = ["User.Get", "User.List", "Arith.Multiply", "Session.Refresh"];
    let mut events = Vec::with_capacity(JSONRPC_MESSAGES);
    let mut id = 0u64;
    let mut time = 1_700_000_000_000_000u64;
    while events.len() < JSONRPC_MESSAGES {
        id += 1;
        time += 250;
        let method = methods[(id % 4) as usize];
        events.push(ws_text(
            time,
            Direction::Sent,
            format!(r#"{{"jsonrpc":"2.0","method":"{method}","params":{{"id":{id},"page":2}},"id":{id}}}"#),
        ));
        if id.is_multiple_of(5) {
            events.push(ws_text(
                time + 50,
                Direction::Received,
                r#"{"jsonrpc":"2.0","method":"Feed.Tick","params":{"seq":1}}"#.to_owned(),
            ));
        }
        let response = if id.is_multiple_of(17) {
            format!(r#"{{"jsonrpc":"2.0","error":{{"code":-32000,"message":"busy"}},"id":{id}}}"#)
        } else {
            format!(r#"{{"jsonrpc":"2.0","result":{{"name":"ada","n":{id}}},"id":{id}}}"#)
        };
        events.push(ws_text(time + 40 + id % 300, Direction::Received, response));
    }
    events.truncate(JSONRPC_MESSAGES);
    events
}

fn payload_text(event: &CaptureEvent) -> &str {
    match &event.body {
        EventBody::WsMessage { payload, .. } => &payload.data,
        _ => "",
    }
}

fn cafe_stream() -> Vec<u8> {
    let mut stream = Vec::new();
    for id in 0..CAFE_FRAMES as u64 {
        let mut payload = Vec::new();
        encode_bytes_field(1, b"User.Get", &mut payload);
        encode_varint_field(2, id, &mut payload);
        stream.extend_from_slice(&[0xCA, 0xFE, 1, 1 + (id % 2) as u8]);
        stream.extend_from_slice(&(id / 2).to_be_bytes());
        stream.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        stream.extend_from_slice(&payload);
    }
    stream
}

fn benches(criterion: &mut Criterion) {
    let events = jsonrpc_events();
    let mut group = criterion.benchmark_group("jsonrpc");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("serde_json_value", |bencher| {
        bencher.iter(|| {
            for event in &events {
                let value: serde_json::Value = serde_json::from_str(payload_text(event)).unwrap();
                black_box(value);
            }
        });
    });
    group.bench_function("pipeline", |bencher| {
        bencher.iter(|| {
            let mut session = Session::new(SessionConfig::default());
            session.ingest_all(&events);
            let stats = StatsAccumulator::from_calls(session.calls(), StatsConfig::default());
            black_box(stats.methods().len());
            black_box(session.frame_count());
        });
    });
    group.finish();

    let stream = cafe_stream();
    let mut group = criterion.benchmark_group("cafe");
    group.throughput(Throughput::Elements(CAFE_FRAMES as u64));
    group.bench_function("framing", |bencher| {
        bencher.iter(|| {
            let mut decoder = BinaryDecoder::new(BinaryLayout::cafe()).unwrap();
            let mut frames = 0usize;
            for chunk in stream.chunks(64 * 1024) {
                decoder.push(chunk);
                while let Some(frame) = decoder.next_frame().unwrap() {
                    frames += 1;
                    black_box(frame.request_id);
                }
            }
            assert_eq!(frames, CAFE_FRAMES);
        });
    });
    let chunks: Vec<CaptureEvent> = stream
        .chunks(64 * 1024)
        .enumerate()
        .map(|(index, chunk)| CaptureEvent {
            v: SCHEMA_VERSION,
            session_id: "bench-page".to_owned(),
            connection_id: "cafe-1".to_owned(),
            time_micros: 1_700_000_000_000_000 + index as u64 * 1000,
            body: EventBody::WsMessage {
                direction: Direction::Sent,
                payload: Payload::binary(chunk),
            },
        })
        .collect();
    group.bench_function("pipeline", |bencher| {
        bencher.iter(|| {
            let mut session = Session::new(SessionConfig::default());
            session.ingest_all(&chunks);
            black_box(session.frame_count());
        });
    });
    group.finish();
}

criterion_group!(pipeline, benches);

/// Mean time in nanoseconds of a benchmark, from criterion's estimates of this run.
fn mean_nanos(group: &str, function: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target
        .join("criterion")
        .join(group)
        .join(function)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["mean"]["point_estimate"].as_f64()
}

fn main() {
    pipeline();
    Criterion::default().configure_from_args().final_summary();
    if let (Some(pipeline), Some(baseline)) = (
        mean_nanos("jsonrpc", "pipeline"),
        mean_nanos("jsonrpc", "serde_json_value"),
    ) {
        println!(
            "jsonrpc: pipeline {:.0} ns/message, serde_json::Value {:.0} ns/message, ratio {:.2} (target <= 2)",
            pipeline / JSONRPC_MESSAGES as f64,
            baseline / JSONRPC_MESSAGES as f64,
            pipeline / baseline
        );
    }
    if let Some(framing) = mean_nanos("cafe", "framing") {
        println!(
            "cafe framing: {:.2} million frames/s (target >= 5)",
            CAFE_FRAMES as f64 / framing * 1e3
        );
    }
    if let Some(pipeline) = mean_nanos("cafe", "pipeline") {
        println!(
            "cafe pipeline (frames + calls): {:.2} million frames/s",
            CAFE_FRAMES as f64 / pipeline * 1e3
        );
    }
}
