//! The table's incremental rows against a derivation from scratch, batch after batch, over a
//! live-like stream: calls answered late or never, timeouts, errors, out-of-order start
//! times (new calls landing between retained ones) and evictions from a small store cap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use framescope_app::rows::{RowDeriver, RowSettings};
use framescope_app::state::ViewMode;
use framescope_app::store::Store;
use inspector_core::event::{CaptureEvent, parse_event_line};
use inspector_core::filter::Query;
use inspector_core::session::SessionConfig;
use inspector_core::view::table::{Column, QuickFilter, SortOrder};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A small deterministic generator (no dependency needed for a test stream).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

fn event(line: String) -> CaptureEvent {
    parse_event_line(&line, 1).unwrap()
}

fn message(socket: &str, time_micros: u64, direction: &str, payload: &str) -> CaptureEvent {
    let payload = serde_json::to_string(payload).unwrap();
    event(format!(
        r#"{{"v":1,"session_id":"s","connection_id":"{socket}","time_micros":{time_micros},"type":"ws_message","direction":"{direction}","payload":{{"encoding":"text","data":{payload},"size_bytes":{}}}}}"#,
        payload.len()
    ))
}

/// Batches of a live-like stream of `calls` JSON-RPC calls over three sockets.
fn stream(calls: u64, seed: u64) -> Vec<Vec<CaptureEvent>> {
    let mut random = Lcg(seed);
    let sockets = ["ws-1", "ws-2", "ws-3"];
    let mut batches = Vec::new();
    let mut batch = vec![event(
        r#"{"v":1,"session_id":"s","connection_id":"page","time_micros":1000,"type":"page","url":"http://127.0.0.1/","origin":"http://127.0.0.1"}"#.to_owned(),
    )];
    for socket in sockets {
        batch.push(event(format!(
            r#"{{"v":1,"session_id":"s","connection_id":"{socket}","time_micros":1001,"type":"ws_connect","url":"ws://127.0.0.1/{socket}"}}"#
        )));
        batch.push(event(format!(
            r#"{{"v":1,"session_id":"s","connection_id":"{socket}","time_micros":1002,"type":"ws_open"}}"#
        )));
    }
    let methods = ["user.get", "order.create", "System.Ping", "report.generate"];
    let mut unanswered: Vec<(&str, u64, u64)> = Vec::new();
    let mut time = 10_000u64;
    for id in 1..=calls {
        time += 100 + random.next(400);
        let socket = sockets[random.next(3) as usize];
        let method = methods[random.next(4) as usize];
        // Now and then a request stamped in the past (another clock, a late batch).
        let started = if random.next(8) == 0 {
            time.saturating_sub(random.next(20_000))
        } else {
            time
        };
        batch.push(message(
            socket,
            started,
            "sent",
            &format!(
                r#"{{"jsonrpc":"2.0","method":"{method}","params":{{"name":"user-{}"}},"id":{id}}}"#,
                id % 7
            ),
        ));
        match random.next(4) {
            0 => unanswered.push((socket, id, started)),
            _ => {
                let answer = if random.next(5) == 0 {
                    format!(
                        r#"{{"jsonrpc":"2.0","error":{{"code":-32000,"message":"busy"}},"id":{id}}}"#
                    )
                } else {
                    format!(r#"{{"jsonrpc":"2.0","result":{{"ok":true}},"id":{id}}}"#)
                };
                batch.push(message(socket, time + 50, "received", &answer));
            }
        }
        // Late answers to earlier calls (some after their timeout), some never.
        if !unanswered.is_empty() && random.next(3) == 0 {
            let index = random.next(unanswered.len() as u64) as usize;
            let (socket, late_id, _) = unanswered.swap_remove(index);
            if random.next(4) != 0 {
                batch.push(message(
                    socket,
                    time + 60,
                    "received",
                    &format!(r#"{{"jsonrpc":"2.0","result":"late","id":{late_id}}}"#),
                ));
            }
        }
        if random.next(6) == 0 {
            batches.push(std::mem::take(&mut batch));
        }
    }
    batches.push(batch);
    batches
}

/// The clock after `batch`: its latest event time, never earlier than `now_micros`.
fn latest_time(batch: &[CaptureEvent], now_micros: u64) -> u64 {
    batch
        .iter()
        .map(|event| event.time_micros)
        .max()
        .map_or(now_micros, |latest| latest.max(now_micros))
}

fn settings(query: &str, mode: ViewMode, column: Column, order: SortOrder) -> RowSettings {
    RowSettings {
        query: Query::parse(query).unwrap(),
        quick: QuickFilter::default(),
        mode,
        column,
        order,
    }
}

#[wasm_bindgen_test]
fn incremental_rows_equal_rows_derived_from_scratch_after_every_batch() {
    let cases = [
        settings("", ViewMode::Calls, Column::Time, SortOrder::Ascending),
        settings("", ViewMode::Calls, Column::Time, SortOrder::Descending),
        settings(
            "status:error OR status:pending",
            ViewMode::Calls,
            Column::Time,
            SortOrder::Ascending,
        ),
        settings(
            "latency>1ms",
            ViewMode::Calls,
            Column::Latency,
            SortOrder::Descending,
        ),
        settings(
            "-method:System.*",
            ViewMode::Calls,
            Column::Outcome,
            SortOrder::Ascending,
        ),
        // Free text found only in payloads ("user-3" is in the params, "late" in results).
        settings(
            "user-3 OR late",
            ViewMode::Calls,
            Column::Method,
            SortOrder::Ascending,
        ),
        settings("", ViewMode::Frames, Column::Time, SortOrder::Ascending),
        settings(
            "user-3",
            ViewMode::Frames,
            Column::Size,
            SortOrder::Descending,
        ),
    ];
    for (seed, max_frames) in [(1u64, 400usize), (7, 100_000)] {
        for case in &cases {
            let mut store = Store::with_config(SessionConfig {
                max_frames,
                call_timeout_micros: Some(3_000),
                ..SessionConfig::default()
            });
            let mut incremental = RowDeriver::new();
            let mut now_micros = 0;
            for (index, batch) in stream(1_500, seed).into_iter().enumerate() {
                now_micros = latest_time(&batch, now_micros);
                store.ingest(&batch, now_micros);
                incremental.update(&store, case);
                let mut fresh = RowDeriver::new();
                fresh.update(&store, case);
                if case.mode == ViewMode::Calls
                    && case.query.has_free_text()
                    && store.session().evicted().frames > 0
                {
                    // A call can outlive its frames (eviction stops at an out-of-order call
                    // whose frames are newer); its payload text was matched while it was
                    // there, and a derivation from scratch no longer sees it. Every row that
                    // differs must be such a call.
                    let session = store.session();
                    let differing = incremental
                        .positions()
                        .iter()
                        .filter(|position| !fresh.positions().contains(position))
                        .chain(
                            fresh
                                .positions()
                                .iter()
                                .filter(|position| !incremental.positions().contains(position)),
                        );
                    for position in differing {
                        let call = session.call_at(*position as usize).unwrap();
                        let frames_gone = [call.request_frame_id, call.response_frame_id]
                            .into_iter()
                            .flatten()
                            .any(|frame_id| session.frame(frame_id).is_none());
                        assert!(
                            frames_gone,
                            "batch {index}: {call:?} differs with its frames retained"
                        );
                    }
                    continue;
                }
                assert_eq!(
                    incremental.positions(),
                    fresh.positions(),
                    "batch {index}, seed {seed}, cap {max_frames}, {case:?}"
                );
            }
            let counts = incremental.counts();
            assert_eq!(
                counts.full, 1,
                "only the first update derives everything: {counts:?}"
            );
            assert!(counts.appended > 10, "{counts:?}");
            if case.mode == ViewMode::Calls {
                assert!(
                    counts.remapped > 0,
                    "out-of-order calls were remapped: {counts:?}"
                );
            }
            if max_frames < 100_000 {
                assert!(store.session().evicted().calls > 0, "the cap evicted calls");
            }
            assert!(
                !incremental.positions().is_empty(),
                "{case:?} matched something"
            );
        }
    }
}

#[wasm_bindgen_test]
fn payload_text_matches_and_settings_changes_derive_again() {
    let mut store = Store::new();
    for batch in stream(200, 3) {
        store.ingest(&batch, 0);
    }
    let mut deriver = RowDeriver::new();
    let by_method = settings(
        "method:user.get",
        ViewMode::Calls,
        Column::Time,
        SortOrder::Ascending,
    );
    deriver.update(&store, &by_method);
    let method_rows = deriver.positions().len();
    // "user-" appears only in the request params, never in a method, id or error.
    let by_payload = settings(
        "\"user-\"",
        ViewMode::Calls,
        Column::Time,
        SortOrder::Ascending,
    );
    deriver.update(&store, &by_payload);
    assert_eq!(deriver.counts().full, 2, "a new query derives from scratch");
    assert_eq!(
        deriver.positions().len(),
        store.session().call_count(),
        "every call's request carries a name"
    );
    assert!(method_rows > 0 && method_rows < deriver.positions().len());
    let nowhere = settings(
        "\"no such text\"",
        ViewMode::Calls,
        Column::Time,
        SortOrder::Ascending,
    );
    deriver.update(&store, &nowhere);
    assert!(deriver.positions().is_empty());
    deriver.reset();
    deriver.update(&store, &nowhere);
    assert_eq!(deriver.counts().full, 4, "reset derives from scratch");
}

/// The calls at sorted `positions` of a session, as the charts read the table's rows.
struct AtPositions<'a> {
    session: &'a inspector_core::session::Session,
    positions: &'a [u32],
}

impl inspector_core::view::table::RowSource<inspector_core::model::Call> for AtPositions<'_> {
    fn row_count(&self) -> usize {
        self.positions.len()
    }

    fn row(&self, index: usize) -> Option<&inspector_core::model::Call> {
        self.session.call_at(*self.positions.get(index)? as usize)
    }
}

#[wasm_bindgen_test]
fn the_charts_reuse_the_rows_only_while_they_match_the_store_and_filter() {
    use framescope_app::rows::call_matches;
    use inspector_core::view::timeline::timeline;

    let by_payload = settings(
        "-method:System.Ping user-3",
        ViewMode::Calls,
        Column::Time,
        SortOrder::Ascending,
    );
    let other = settings(
        "user-4",
        ViewMode::Calls,
        Column::Time,
        SortOrder::Ascending,
    );
    let mut store = Store::with_config(SessionConfig {
        max_frames: 600,
        call_timeout_micros: Some(3_000),
        ..SessionConfig::default()
    });
    let mut deriver = RowDeriver::new();
    let mut checked = 0;
    for (index, batch) in stream(1_200, 11).into_iter().enumerate() {
        let now_micros = latest_time(&batch, 0);
        store.ingest(&batch, now_micros);
        assert_eq!(
            deriver.positions_for(&store, &by_payload),
            None,
            "batch {index}: rows derived before the batch must not be reused"
        );
        deriver.update(&store, &by_payload);
        assert_eq!(deriver.positions_for(&store, &other), None);
        let positions = deriver.positions_for(&store, &by_payload).unwrap();
        let session = store.session();
        if session.evicted().frames > 0 {
            // Payload text matched while the frames were there (see above): the charts
            // follow the table, not a derivation from scratch.
            continue;
        }
        let Some(last) = session.calls().next_back() else {
            continue;
        };
        let from_rows = timeline(
            &AtPositions { session, positions },
            last.started_micros,
            1_000,
            40,
            |_| true,
        );
        let from_scratch = timeline(&store.calls(), last.started_micros, 1_000, 40, |call| {
            call_matches(session, &by_payload, call)
        });
        assert_eq!(from_rows, from_scratch, "batch {index}");
        checked += 1;
        assert!(from_rows.iter().any(|bucket| bucket.calls() > 0) || index < 3);
    }
    assert!(checked > 5, "{checked} batches compared");
    assert!(store.session().evicted().calls > 0, "the cap evicted calls");
}

#[wasm_bindgen_test]
fn live_statistics_equal_statistics_computed_from_scratch_after_every_batch() {
    use inspector_core::stats::{StatsAccumulator, StatsConfig};

    let summaries = |stats: &StatsAccumulator| {
        let mut methods: Vec<(String, _)> = stats
            .methods()
            .into_iter()
            .map(|(method, group)| (method.to_owned(), group.summary()))
            .filter(|(_, summary)| summary.count > 0)
            .collect();
        methods.sort_by(|a, b| a.0.cmp(&b.0));
        (stats.total().summary(), methods)
    };
    // Late answers (some after the call timed out), errors and out-of-order starts; a small
    // cap in the second run evicts calls.
    for (seed, max_frames) in [(9u64, 100_000usize), (5, 300)] {
        let mut store = Store::with_config(SessionConfig {
            max_frames,
            call_timeout_micros: Some(3_000),
            ..SessionConfig::default()
        });
        let mut now_micros = 0;
        let mut compared = 0;
        for (index, batch) in stream(1_200, seed).into_iter().enumerate() {
            now_micros = latest_time(&batch, now_micros);
            store.ingest_deferring_stats(&batch, now_micros);
            // The live view refreshes on its own schedule, not after every batch.
            if index % 3 != 0 {
                continue;
            }
            store.refresh_stats();
            let session = store.session();
            if session.evicted().calls == 0 {
                let fresh = StatsAccumulator::from_calls(session.calls(), StatsConfig::default());
                assert_eq!(
                    summaries(store.stats()),
                    summaries(&fresh),
                    "batch {index}, seed {seed}"
                );
                compared += 1;
            } else {
                // Evicted calls stay counted (the statistics cover every call seen), but
                // only retained calls are still tracked for changes.
                assert_eq!(
                    store.stats().tracked_calls(),
                    session.call_count(),
                    "batch {index}, seed {seed}, cap {max_frames}"
                );
                assert!(store.stats().total().count() > session.call_count() as u64);
            }
        }
        if max_frames < 100_000 {
            assert!(store.session().evicted().calls > 0, "the cap evicted calls");
        } else {
            assert!(compared > 10, "{compared} refreshes compared");
        }
    }
}
