use inspector_core::stats::MethodSummary;
use inspector_core::view::format::{format_latency, format_rate};
use inspector_core::view::table::SortOrder;
use leptos::prelude::*;

use crate::state::use_inspector;

/// Columns of the per-method table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatColumn {
    Method,
    Count,
    Errors,
    P50,
    P95,
    P99,
    Max,
}

const COLUMNS: [(StatColumn, &str); 7] = [
    (StatColumn::Method, "Method"),
    (StatColumn::Count, "Count"),
    (StatColumn::Errors, "Errors"),
    (StatColumn::P50, "p50"),
    (StatColumn::P95, "p95"),
    (StatColumn::P99, "p99"),
    (StatColumn::Max, "Max"),
];

fn sort_summaries(rows: &mut [MethodSummary], column: StatColumn, order: SortOrder) {
    rows.sort_by(|a, b| {
        let ordering = match column {
            StatColumn::Method => a.method.cmp(&b.method),
            StatColumn::Count => a.stats.count.cmp(&b.stats.count),
            StatColumn::Errors => a.stats.errors.cmp(&b.stats.errors),
            StatColumn::P50 => a.stats.latency.p50_micros.cmp(&b.stats.latency.p50_micros),
            StatColumn::P95 => a.stats.latency.p95_micros.cmp(&b.stats.latency.p95_micros),
            StatColumn::P99 => a.stats.latency.p99_micros.cmp(&b.stats.latency.p99_micros),
            StatColumn::Max => a.stats.latency.max_micros.cmp(&b.stats.latency.max_micros),
        }
        .then_with(|| a.method.cmp(&b.method));
        match order {
            SortOrder::Ascending => ordering,
            SortOrder::Descending => ordering.reverse(),
        }
    });
}

/// Per-method statistics: count, errors, p50/p95/p99, max; sortable.
#[component]
pub fn MethodStats() -> impl IntoView {
    let inspector = use_inspector();
    let sort = RwSignal::new((StatColumn::Count, SortOrder::Descending));
    let rows = Memo::new(move |_| {
        inspector.stats_version.track();
        let (column, order) = sort.get();
        let mut rows = inspector
            .store
            .with_value(|store| store.stats().method_summaries());
        sort_summaries(&mut rows, column, order);
        rows
    });
    let header = move || {
        let (current, order) = sort.get();
        COLUMNS
            .into_iter()
            .map(|(column, title)| {
                let arrow = match (column == current, order) {
                    (false, _) => "",
                    (true, SortOrder::Ascending) => " ▲",
                    (true, SortOrder::Descending) => " ▼",
                };
                view! {
                    <th
                        data-column=title
                        on:click=move |_| {
                            sort.update(|(current, order)| {
                                if *current == column {
                                    *order = order.flipped();
                                } else {
                                    *current = column;
                                    *order = if column == StatColumn::Method {
                                        SortOrder::Ascending
                                    } else {
                                        SortOrder::Descending
                                    };
                                }
                            })
                        }
                    >
                        {title}
                        {arrow}
                    </th>
                }
            })
            .collect_view()
    };
    let latency = |value: Option<u64>| value.map(format_latency).unwrap_or_else(|| "–".into());
    view! {
        <section class="fs-methods" aria-label="Per-method statistics" data-testid="method-stats">
            <Show
                when=move || rows.with(|rows| !rows.is_empty())
                fallback=|| view! { <div class="fs-empty">"No calls yet"</div> }
            >
                <table class="fs-table fs-stats-table">
                    <thead>
                        <tr>{header}</tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || rows.get()
                            key=|row| format!("{row:?}")
                            children=move |row| {
                                let error_rate = row
                                    .stats
                                    .error_rate
                                    .map(|rate| format!(" ({})", format_rate(rate)))
                                    .unwrap_or_default();
                                let error_class = if row.stats.errors > 0 { "num error" } else { "num" };
                                view! {
                                    <tr data-testid="method-row" data-method=row.method.clone()>
                                        <td class="col-method">{row.method.clone()}</td>
                                        <td class="num">{row.stats.count}</td>
                                        <td class=error_class>
                                            {format!("{}{error_rate}", row.stats.errors)}
                                        </td>
                                        <td class="num">{latency(row.stats.latency.p50_micros)}</td>
                                        <td class="num">{latency(row.stats.latency.p95_micros)}</td>
                                        <td class="num">{latency(row.stats.latency.p99_micros)}</td>
                                        <td class="num">{latency(row.stats.latency.max_micros)}</td>
                                    </tr>
                                }
                            }
                        />
                    </tbody>
                </table>
            </Show>
        </section>
    }
}
