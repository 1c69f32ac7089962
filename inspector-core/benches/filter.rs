//! Filtering 100,000 calls: the compiled query against a hand-written Rust predicate that
//! checks the same conditions (the baseline, measured in the same run), plus parse time.
//!
//! Run with `cargo bench -p inspector-core --bench filter`. The figure that matters is the
//! ratio `query / baseline` and the absolute time per 100,000 calls (target: well under
//! 100 ms in WASM, which runs such loops at roughly half native speed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use inspector_core::filter::Query;
use inspector_core::model::{Call, CallKind, Outcome, Protocol, Transport};

const CALLS: usize = 100_000;

/// A varied, deterministic population of calls (methods, transports, outcomes, latencies).
fn population() -> Vec<Call> {
    let methods = [
        "User.Get",
        "User.List",
        "Arith.Multiply",
        "Arith.Divide",
        "Session.Refresh",
        "GET /api/users",
        "POST /rpc",
    ];
    let transports = [
        Transport::Http,
        Transport::Websocket,
        Transport::SharedMemory,
    ];
    let outcomes = [
        Outcome::Ok,
        Outcome::Ok,
        Outcome::Ok,
        Outcome::Error,
        Outcome::Pending,
    ];
    (0..CALLS as u64)
        .map(|index| {
            let outcome = outcomes[(index % 5) as usize];
            let latency_micros = (outcome != Outcome::Pending).then_some((index * 7919) % 400_000);
            Call {
                call_id: index,
                session_id: "page-1".into(),
                connection_id: format!("conn-{}", index % 50),
                transport: transports[(index % 3) as usize],
                protocol: Protocol::JsonRpc2,
                method: methods[(index % 7) as usize].into(),
                request_id: Some(index.to_string()),
                kind: CallKind::Call,
                outcome,
                error_code: (outcome == Outcome::Error).then_some(-32000),
                error_message: (outcome == Outcome::Error).then(|| "server error".to_owned()),
                started_micros: index * 100,
                ended_micros: latency_micros.map(|l| index * 100 + l),
                latency_micros,
                request_frame_id: Some(index * 2),
                response_frame_id: Some(index * 2 + 1),
                request_size_bytes: 80,
                response_size_bytes: 200,
            }
        })
        .collect()
}

fn baseline_count(calls: &[Call]) -> usize {
    calls
        .iter()
        .filter(|call| {
            call.method.len() >= 5
                && call.method.as_bytes()[..5].eq_ignore_ascii_case(b"user.")
                && call.transport == Transport::Websocket
                && call.latency_micros.is_some_and(|latency| latency > 100_000)
        })
        .count()
}

fn bench_filter(criterion: &mut Criterion) {
    let calls = population();
    let structured = Query::parse("method:User.* transport:ws latency>100ms").unwrap();
    assert_eq!(
        calls.iter().filter(|c| structured.matches_call(c)).count(),
        baseline_count(&calls),
        "the query and the baseline must select the same calls"
    );
    let complex = Query::parse(
        "(method:User.* OR method:*Divide) -status:pending \"server\" OR latency>=350ms conn:conn-4?",
    )
    .unwrap();

    let mut group = criterion.benchmark_group("filter_100k_calls");
    group.bench_function("baseline_handwritten_predicate", |b| {
        b.iter(|| baseline_count(black_box(&calls)))
    });
    group.bench_function("query_method_transport_latency", |b| {
        b.iter(|| {
            black_box(&calls)
                .iter()
                .filter(|call| structured.matches_call(call))
                .count()
        })
    });
    group.bench_function("query_groups_or_negation_free_text", |b| {
        b.iter(|| {
            black_box(&calls)
                .iter()
                .filter(|call| complex.matches_call(call))
                .count()
        })
    });
    group.finish();

    criterion.bench_function("filter_parse_complex_query", |b| {
        b.iter(|| {
            Query::parse(black_box(
                "(method:User.* OR method:*Divide) -status:pending \"server\" OR latency>=350ms conn:conn-4?",
            ))
        })
    });
}

criterion_group!(benches, bench_filter);
criterion_main!(benches);
