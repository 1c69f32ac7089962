//! Shared-memory channels: one row per channel (or unregistered buffer) with its
//! request-to-response latency, waiting, notifies and wakes, ring occupancy and consumer lag
//! over time, and whether a mailbox is stuck in REQUEST. All figures come from the core's
//! [`inspector_core::shm`] tracker; this view only lays them out.

use inspector_core::shm::{ShmChannelStats, ShmLayout, sparkline};
use inspector_core::view::format::format_latency;
use leptos::prelude::*;

use crate::state::use_inspector;

/// A mailbox whose request has waited longer than this is shown as stuck.
const STUCK_AFTER_MICROS: u64 = 5_000_000;
/// Points of the occupancy and lag sparklines.
const SPARKLINE_POINTS: usize = 24;

/// One row, computed from the core's statistics.
#[derive(Debug, Clone, PartialEq)]
struct ChannelRow {
    key: String,
    name: String,
    connection_id: String,
    layout: &'static str,
    threads: String,
    messages: u64,
    latency: String,
    waiting: String,
    notifies: String,
    atomics_calls: u64,
    occupancy: String,
    lag: String,
    status: String,
    stuck: bool,
}

fn row(stats: &ShmChannelStats, now_micros: u64) -> ChannelRow {
    let summary = stats.summary();
    let latency = summary.latency;
    let lag = summary.consumer_lag;
    let stuck_since = stats.stuck_since(now_micros, STUCK_AFTER_MICROS);
    let status = match (stuck_since, stats.pending_request_since_micros) {
        (Some(since), _) => format!(
            "stuck in REQUEST for {}",
            format_latency(now_micros.saturating_sub(since))
        ),
        (None, Some(_)) => "request pending".to_owned(),
        (None, None) if stats.layout == ShmLayout::Raw => "raw Atomics only".to_owned(),
        (None, None) => "ok".to_owned(),
    };
    ChannelRow {
        key: format!(
            "{}\u{1f}{}\u{1f}{}",
            stats.session_id, stats.connection_id, stats.name
        ),
        name: if stats.name.is_empty() {
            "(unregistered)".to_owned()
        } else {
            stats.name.clone()
        },
        connection_id: stats.connection_id.clone(),
        layout: stats.layout.as_str(),
        threads: summary.threads,
        messages: summary.messages,
        latency: if latency.count == 0 {
            "–".to_owned()
        } else {
            format!(
                "{} / {}",
                format_latency(latency.p50_micros),
                format_latency(latency.p95_micros)
            )
        },
        waiting: format!(
            "{} in {} waits",
            format_latency(summary.wait_micros),
            summary.waits
        ),
        notifies: format!("{} / {}", summary.notify_calls, summary.woken),
        atomics_calls: summary.atomics_calls,
        occupancy: match summary.occupancy_bytes {
            Some(now) => format!(
                "{} {now} B (max {} B)",
                sparkline(&stats.occupancy, SPARKLINE_POINTS),
                summary.max_occupancy_bytes
            ),
            None => "–".to_owned(),
        },
        lag: if lag.count == 0 {
            "–".to_owned()
        } else {
            format!(
                "{} p50 {}",
                sparkline(&stats.consumer_lag, SPARKLINE_POINTS),
                format_latency(lag.p50_micros)
            )
        },
        status,
        stuck: stuck_since.is_some(),
    }
}

/// The per-channel table; hidden until a shared-memory channel has been seen.
#[component]
pub fn ShmChannels() -> impl IntoView {
    let inspector = use_inspector();
    let rows = Memo::new(move |_| {
        inspector.stats_version.track();
        let now_micros = (js_sys::Date::now() * 1000.0) as u64;
        inspector.store.with_value(|store| {
            store
                .session()
                .shm_channels()
                .channels()
                .into_iter()
                .map(|stats| row(stats, now_micros))
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Show when=move || rows.with(|rows| !rows.is_empty())>
            <section class="fs-methods" aria-label="Shared-memory channels" data-testid="shm-channels">
                <h3>"Shared-memory channels"</h3>
                <table class="fs-table fs-stats-table">
                    <thead>
                        <tr>
                            <th>"Channel"</th>
                            <th>"Layout"</th>
                            <th>"Threads"</th>
                            <th>"Messages"</th>
                            <th title="request to response, p50 / p95">"Latency"</th>
                            <th>"Waiting"</th>
                            <th title="notify calls / waiters woken">"Notify / woken"</th>
                            <th>"Atomics calls"</th>
                            <th>"Ring occupancy"</th>
                            <th>"Consumer lag"</th>
                            <th>"Status"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || rows.get()
                            key=|row| format!("{row:?}")
                            children=move |row| {
                                view! {
                                    <tr
                                        data-testid="shm-channel-row"
                                        data-channel=row.name.clone()
                                        data-stuck=if row.stuck { "true" } else { "false" }
                                        title=row.connection_id.clone()
                                    >
                                        <td class="col-method">{row.name.clone()}</td>
                                        <td>{row.layout}</td>
                                        <td>{row.threads.clone()}</td>
                                        <td class="num">{row.messages}</td>
                                        <td class="num">{row.latency.clone()}</td>
                                        <td class="num">{row.waiting.clone()}</td>
                                        <td class="num">{row.notifies.clone()}</td>
                                        <td class="num">{row.atomics_calls}</td>
                                        <td>{row.occupancy.clone()}</td>
                                        <td>{row.lag.clone()}</td>
                                        <td class=if row.stuck { "error" } else { "" }>{row.status.clone()}</td>
                                    </tr>
                                }
                            }
                        />
                    </tbody>
                </table>
            </section>
        </Show>
    }
}
