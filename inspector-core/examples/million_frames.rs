//! A native run over one million frames that must stay within the configured store cap,
//! and the memory each retained frame costs.
//!
//! Run with `cargo run --release -p inspector-core --example million_frames`. It feeds a
//! session small JSON-RPC WebSocket messages and 0xCAFE binary frames (generated one at a
//! time, so the input itself takes no memory), checks after every event that the session's
//! accounted bytes stay within `max_bytes` and its frames within `max_frames`, and reports:
//!
//! - accounted bytes per retained frame (what the cap counts: payloads plus bookkeeping);
//! - resident memory (RSS, from /proc/self/status) per retained frame, measured on a run
//!   that evicts nothing;
//! - peak RSS growth during the capped run against the cap.
//!
//! Exits with status 1 if the cap was exceeded at any point.

use std::process::ExitCode;

use inspector_core::decode::protobuf::{encode_bytes_field, encode_varint_field};
use inspector_core::event::{CaptureEvent, Direction, EventBody, Payload, SCHEMA_VERSION};
use inspector_core::session::{Session, SessionConfig};

const TOTAL_FRAMES: u64 = 1_000_000;

/// Resident set size in bytes, if the platform reports it.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The `index`-th event of a deterministic mix: JSON-RPC requests and responses on one
/// socket, 0xCAFE requests and responses on another. Each event is one frame.
fn event(index: u64) -> CaptureEvent {
    let time_micros = 1_700_000_000_000_000 + index * 100;
    let id = index / 2;
    let (connection_id, direction, payload) = match index % 4 {
        0 => (
            "ws-json",
            Direction::Sent,
            Payload::text(format!(
                r#"{{"jsonrpc":"2.0","method":"User.Get","params":{{"id":{id}}},"id":{id}}}"#
            )),
        ),
        1 => (
            "ws-json",
            Direction::Received,
            Payload::text(format!(
                r#"{{"jsonrpc":"2.0","result":{{"name":"ada"}},"id":{id}}}"#
            )),
        ),
        phase => {
            let mut body = Vec::new();
            encode_bytes_field(1, b"Feed.Poll", &mut body);
            encode_varint_field(2, id, &mut body);
            let mut frame = vec![0xCA, 0xFE, 1, if phase == 2 { 1 } else { 2 }];
            frame.extend_from_slice(&id.to_be_bytes());
            frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
            frame.extend_from_slice(&body);
            let direction = if phase == 2 {
                Direction::Sent
            } else {
                Direction::Received
            };
            ("ws-cafe", direction, Payload::binary(&frame))
        }
    };
    CaptureEvent {
        v: SCHEMA_VERSION,
        session_id: "million".to_owned(),
        connection_id: connection_id.to_owned(),
        time_micros,
        body: EventBody::WsMessage { direction, payload },
    }
}

fn main() -> ExitCode {
    // 1. Memory per retained frame, with caps high enough that nothing is evicted.
    let uncapped_frames = 200_000u64;
    let rss_before = rss_bytes();
    let mut session = Session::new(SessionConfig {
        max_frames: usize::MAX,
        max_bytes: u64::MAX,
        ..SessionConfig::default()
    });
    for index in 0..uncapped_frames {
        session.ingest(&event(index));
    }
    let rss_after = rss_bytes();
    let frames = session.frame_count() as u64;
    println!(
        "uncapped: {frames} frames, {} calls, {} accounted bytes = {:.0} bytes/frame",
        session.call_count(),
        session.retained_bytes(),
        session.retained_bytes() as f64 / frames as f64
    );
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        println!(
            "uncapped: resident memory grew {:.1} MiB = {:.0} bytes/frame (allocator overhead and spare capacity included)",
            (after.saturating_sub(before)) as f64 / 1048576.0,
            after.saturating_sub(before) as f64 / frames as f64
        );
    }
    drop(session);

    // 2. One million frames through a capped store.
    let config = SessionConfig {
        max_frames: 100_000,
        max_bytes: 32 * 1024 * 1024,
        ..SessionConfig::default()
    };
    let rss_start = rss_bytes().unwrap_or(0);
    let mut peak_rss = rss_start;
    let mut peak_accounted = 0u64;
    let mut violations = 0u64;
    let mut session = Session::new(config.clone());
    let started = std::time::Instant::now();
    for index in 0..TOTAL_FRAMES {
        session.ingest(&event(index));
        let accounted = session.retained_bytes();
        peak_accounted = peak_accounted.max(accounted);
        if accounted > config.max_bytes || session.frame_count() > config.max_frames {
            violations += 1;
        }
        if index % 50_000 == 0
            && let Some(rss) = rss_bytes()
        {
            peak_rss = peak_rss.max(rss);
        }
    }
    session.finish(1_700_000_000_000_000 + TOTAL_FRAMES * 100 + 1);
    let elapsed = started.elapsed();
    let evicted = session.evicted();
    println!(
        "capped: {TOTAL_FRAMES} frames ingested in {:.2} s ({:.0} frames/s), {} retained, {} evicted ({} calls, {:.1} MiB)",
        elapsed.as_secs_f64(),
        TOTAL_FRAMES as f64 / elapsed.as_secs_f64(),
        session.frame_count(),
        evicted.frames,
        evicted.calls,
        evicted.bytes as f64 / 1048576.0
    );
    println!(
        "capped: peak accounted {:.1} MiB of a {:.1} MiB cap; peak resident growth {:.1} MiB; cap exceeded {violations} times",
        peak_accounted as f64 / 1048576.0,
        config.max_bytes as f64 / 1048576.0,
        peak_rss.saturating_sub(rss_start) as f64 / 1048576.0
    );
    if violations > 0 {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
