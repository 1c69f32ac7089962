//! Filtering 100,000 calls inside WebAssembly, for `tests/bench/filter-wasm.mjs`.
//!
//! The exports take no pointers: `setup` builds the call population and parses the queries
//! in wasm memory, each `run_*` filters all calls once and returns how many matched, so the
//! host times only the loop. Raw exports need `no_mangle`, which is why this crate sits
//! outside the workspace (whose crates forbid unsafe attributes).

use std::cell::RefCell;

use inspector_core::filter::{Query, contains_text};
use inspector_core::model::{Call, CallKind, Outcome, Protocol, Transport};

struct State {
    calls: Vec<Call>,
    /// Request and response payload text of each call (JSON-RPC, as the wire carried it).
    payloads: Vec<(String, String)>,
    structured: Query,
    complex: Query,
    payload_text: Query,
}

/// Free text found only in request payloads (the `name` parameter), for one call in 1,000.
const PAYLOAD_QUERY: &str = "-method:Session.* \"user-42\"";

fn payloads(calls: &[Call]) -> Vec<(String, String)> {
    calls
        .iter()
        .map(|call| {
            let id = call.call_id;
            (
                format!(
                    r#"{{"jsonrpc":"2.0","method":"{}","params":{{"name":"user-{}","page":{}}},"id":{id}}}"#,
                    call.method,
                    id % 1_000,
                    id % 17
                ),
                format!(r#"{{"jsonrpc":"2.0","result":{{"ok":true,"n":{id}}},"id":{id}}}"#),
            )
        })
        .collect()
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
    let (Ok(structured), Ok(complex), Ok(payload_text)) =
        (structured, complex, Query::parse(PAYLOAD_QUERY))
    else {
        return 1;
    };
    let calls = population(u64::from(count));
    STATE.with(|state| {
        *state.borrow_mut() = Some(State {
            payloads: payloads(&calls),
            calls,
            structured,
            complex,
            payload_text,
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

/// The payload query's hand-written equivalent (case-sensitive `str::contains` on text
/// that is lower case where it matters): the baseline of the payload path.
#[unsafe(no_mangle)]
pub extern "C" fn run_payload_baseline() -> u32 {
    with_state(|state| {
        state
            .calls
            .iter()
            .zip(&state.payloads)
            .filter(|(call, (request, response))| {
                !call.method.starts_with("Session.")
                    && (call.method.contains("user-42")
                        || call.connection_id.contains("user-42")
                        || request.contains("user-42")
                        || response.contains("user-42"))
            })
            .count()
    })
}

/// `-method:Session.* "user-42"`, free text answered from the payloads through
/// `matches_call_with_payloads`, as the dashboard does.
#[unsafe(no_mangle)]
pub extern "C" fn run_payload() -> u32 {
    with_state(|state| {
        state
            .calls
            .iter()
            .zip(&state.payloads)
            .filter(|(call, (request, response))| {
                state.payload_text.matches_call_with_payloads(call, |needle| {
                    contains_text(request.as_bytes(), needle)
                        || contains_text(response.as_bytes(), needle)
                })
            })
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
