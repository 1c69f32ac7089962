//! Statistics over 100,000 calls: the `StatsAccumulator` (per method, per transport, time
//! buckets, HdrHistogram quantiles) against the baseline of collecting every latency and
//! sorting it for exact quantiles, measured in the same run. Also the live path: observing
//! a call again after it changed (pending -> ok).
//!
//! Run with `cargo bench -p inspector-core --bench stats`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use inspector_core::model::{Call, CallKind, Outcome, Protocol, Transport};
use inspector_core::stats::{StatsAccumulator, StatsConfig};

const CALLS: u64 = 100_000;

fn population() -> Vec<Call> {
    let methods = [
        "User.Get",
        "User.List",
        "Arith.Multiply",
        "Arith.Divide",
        "Session.Refresh",
    ];
    let transports = [
        Transport::Http,
        Transport::Websocket,
        Transport::SharedMemory,
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..CALLS)
        .map(|index| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let latency_micros = 100 + state % 250_000;
            Call {
                call_id: index,
                session_id: "page-1".into(),
                connection_id: format!("conn-{}", index % 50),
                transport: transports[(index % 3) as usize],
                protocol: Protocol::JsonRpc2,
                method: methods[(index % 5) as usize].into(),
                request_id: Some(index.to_string()),
                kind: CallKind::Call,
                outcome: if index % 17 == 0 {
                    Outcome::Error
                } else {
                    Outcome::Ok
                },
                error_code: None,
                error_message: None,
                started_micros: 1_795_680_000_000_000 + index * 1_000,
                ended_micros: Some(1_795_680_000_000_000 + index * 1_000 + latency_micros),
                latency_micros: Some(latency_micros),
                request_frame_id: Some(index * 2),
                response_frame_id: Some(index * 2 + 1),
                request_size_bytes: 80,
                response_size_bytes: 200,
            }
        })
        .collect()
}

/// Exact overall p50/p99 by sorting every latency: the baseline.
fn sorted_quantiles(calls: &[Call]) -> (u64, u64) {
    let mut latencies: Vec<u64> = calls
        .iter()
        .filter_map(|call| call.latency_micros)
        .collect();
    latencies.sort_unstable();
    let rank = |q: f64| ((q * latencies.len() as f64).ceil() as usize).max(1) - 1;
    (latencies[rank(0.5)], latencies[rank(0.99)])
}

fn bench_stats(criterion: &mut Criterion) {
    let calls = population();
    let mut pending = calls.clone();
    for call in &mut pending {
        call.outcome = Outcome::Pending;
        call.latency_micros = None;
        call.ended_micros = None;
    }

    let mut group = criterion.benchmark_group("stats_100k_calls");
    group.bench_function("baseline_sort_all_latencies_for_exact_p50_p99", |b| {
        b.iter(|| sorted_quantiles(black_box(&calls)))
    });
    group.bench_function("accumulator_from_calls_then_summaries", |b| {
        b.iter(|| {
            let stats = StatsAccumulator::from_calls(black_box(&calls), StatsConfig::default());
            (
                stats.method_summaries(),
                stats.total().summary(),
                stats.time_buckets().len(),
            )
        })
    });
    group.bench_function("live_observe_pending_then_settled", |b| {
        b.iter(|| {
            let mut stats = StatsAccumulator::default();
            for call in black_box(&pending) {
                stats.observe(call);
            }
            for call in black_box(&calls) {
                stats.observe(call);
            }
            stats.total().count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_stats);
criterion_main!(benches);
