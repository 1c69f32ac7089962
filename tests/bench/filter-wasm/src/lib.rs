//! Filtering 100,000 calls inside WebAssembly, for `tests/bench/filter-wasm.mjs`.
//!
//! The exports take no pointers: `setup` builds the call population and parses the queries
//! in wasm memory, each `run_*` filters all calls once and returns how many matched, so the
//! host times only the loop. Raw exports need `no_mangle`, which is why this crate sits
//! outside the workspace (whose crates forbid unsafe attributes).

use std::cell::RefCell;

use inspector_core::filter::Query;
use inspector_core::model::{Call, CallKind, Outcome, Protocol, Transport};

struct State {
    calls: Vec<Call>,
    structured: Query,
    complex: Query,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// The same population as `inspector-core/benches/filter.rs`.
fn population(count: u64) -> Vec<Call> {
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
    (0..count)
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

/// Builds `count` calls and parses the queries; returns 0, or 1 if a query did not parse.
#[unsafe(no_mangle)]
pub extern "C" fn setup(count: u32) -> u32 {
    let structured = Query::parse("method:User.* transport:ws latency>100ms");
    let complex = Query::parse(
        "(method:User.* OR method:*Divide) -status:pending \"server\" OR latency>=350ms conn:conn-4?",
    );
    let (Ok(structured), Ok(complex)) = (structured, complex) else {
        return 1;
    };
    STATE.with(|state| {
        *state.borrow_mut() = Some(State {
            calls: population(u64::from(count)),
            structured,
            complex,
        });
    });
    0
}

fn with_state(run: impl FnOnce(&State) -> usize) -> u32 {
    STATE.with(|state| {
        state
            .borrow()
            .as_ref()
            .map_or(u32::MAX, |state| run(state) as u32)
    })
}

/// The hand-written predicate equivalent to the structured query (the baseline).
#[unsafe(no_mangle)]
pub extern "C" fn run_baseline() -> u32 {
    with_state(|state| {
        state
            .calls
            .iter()
            .filter(|call| {
                call.method.len() >= 5
                    && call.method.as_bytes()[..5].eq_ignore_ascii_case(b"user.")
                    && call.transport == Transport::Websocket
                    && call.latency_micros.is_some_and(|latency| latency > 100_000)
            })
            .count()
    })
}

/// `method:User.* transport:ws latency>100ms`.
#[unsafe(no_mangle)]
pub extern "C" fn run_structured() -> u32 {
    with_state(|state| {
        state
            .calls
            .iter()
            .filter(|call| state.structured.matches_call(call))
            .count()
    })
}

/// Groups, OR, negation, free text and a glob.
#[unsafe(no_mangle)]
pub extern "C" fn run_complex() -> u32 {
    with_state(|state| {
        state
            .calls
            .iter()
            .filter(|call| state.complex.matches_call(call))
            .count()
    })
}

/// Parses the complex query `times` times; returns how many parsed.
#[unsafe(no_mangle)]
pub extern "C" fn run_parse(times: u32) -> u32 {
    (0..times)
        .filter(|_| {
            Query::parse(
                "(method:User.* OR method:*Divide) -status:pending \"server\" OR latency>=350ms conn:conn-4?",
            )
            .is_ok()
        })
        .count() as u32
}
