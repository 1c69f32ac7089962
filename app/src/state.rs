//! The inspector's state: the core session (the store of frames and calls), the user's
//! choices (filter, sort, view, selection...), and the derived rows the table shows.
//!
//! Data enters through [`Inspector::receive`] (batches from the bridge) and
//! [`Inspector::import_events`] (files). Events wait in an inbox and are ingested into the
//! core in chunks that each fit a time budget, at most once per animation frame for live
//! traffic, so 2,000 frames/s never cause 2,000 renders/s and a large import or burst never
//! blocks the page. Every chunk bumps [`Inspector::version`]; the table's rows follow it
//! incrementally ([`crate::rows::RowDeriver`]: only new and changed rows are filtered).
//! Statistics, charts, the CORS count and the loss counter follow
//! [`Inspector::stats_version`] instead, bumped at most every [`STATS_INTERVAL_MILLIS`] in
//! a task of its own. Data leaves as memos of core results ([`Inspector::rows`]) read by
//! the components.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use inspector_core::event::{CaptureEvent, EventBody};
use inspector_core::filter::{FilterError, Query};
use inspector_core::session::SessionConfig;
use inspector_core::view::table::{
    Column, GroupedRow, QuickFilter, SortOrder, group_calls_by_connection,
    group_frames_by_connection,
};
use leptos::prelude::*;

use crate::bridge::{self, EventBatch};
use crate::rows::{RowDeriver, RowSettings};
use crate::store::Store;

/// Statistics, charts and counters refresh at most this often while data arrives.
pub const STATS_INTERVAL_MILLIS: f64 = 300.0;
/// Charts follow a filter change after this pause (the table follows at once).
const FILTER_CHART_DELAY_MILLIS: f64 = 150.0;
/// Time one ingest task may take before it yields to the browser.
const INGEST_BUDGET_MILLIS: f64 = 12.0;
/// One animation frame, the polling period while waiting for an import to be ingested.
const FRAME_MILLIS: f64 = 16.0;
/// Live traffic is ingested (and the table updated) at most this often: a few larger
/// batches cost far less than one re-render of the visible rows per frame.
const LIVE_FLUSH_MILLIS: f64 = 50.0;

/// Calls or raw frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewMode {
    /// Correlated calls.
    #[default]
    Calls,
    /// Decoded frames as they crossed the wire.
    Frames,
}

/// The row the detail pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Selection {
    /// A call, by id.
    Call(u64),
    /// A frame, by id.
    Frame(u64),
}

/// Tabs of the lower area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LowerTab {
    /// Live charts.
    #[default]
    Charts,
    /// Per-method statistics.
    Methods,
    /// CORS failures.
    Cors,
}

/// Colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    /// Follow the system (or DevTools in the extension).
    #[default]
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

impl Theme {
    fn attribute(self) -> Option<&'static str> {
        match self {
            Theme::System => None,
            Theme::Light => Some("light"),
            Theme::Dark => Some("dark"),
        }
    }

    fn next(self) -> Theme {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }

    /// Label of the theme button.
    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "Theme: system",
            Theme::Light => "Theme: light",
            Theme::Dark => "Theme: dark",
        }
    }
}

/// The lines of the table after filtering, sorting and grouping.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableRows {
    /// What the table shows, line by line.
    pub lines: Lines,
    /// Rows that matched the filter.
    pub matched: usize,
    /// Rows in the store.
    pub total: usize,
    /// The store's content version these positions refer to.
    pub version: u64,
    /// Lines removed from the start since the previous version (rows evicted by the store's
    /// cap), so the table can keep the rows in view where they are.
    pub dropped_front: usize,
}

/// Table lines: positions into the store's calls or frames, possibly under group headers.
#[derive(Debug, Clone, PartialEq)]
pub enum Lines {
    /// One row per position.
    Flat(Vec<u32>),
    /// Group headers and rows.
    Grouped(Vec<GroupedRow>),
}

impl Default for Lines {
    fn default() -> Self {
        Lines::Flat(Vec::new())
    }
}

impl Lines {
    /// Number of lines.
    pub fn len(&self) -> usize {
        match self {
            Lines::Flat(positions) => positions.len(),
            Lines::Grouped(lines) => lines.len(),
        }
    }

    /// True without lines.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The line at `index`.
    pub fn get(&self, index: usize) -> Option<GroupedRow> {
        match self {
            Lines::Flat(positions) => positions.get(index).map(|p| GroupedRow::Row(*p)),
            Lines::Grouped(lines) => lines.get(index).cloned(),
        }
    }
}

/// Progress of a file import.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ImportState {
    /// Nothing being imported.
    #[default]
    Idle,
    /// Reading `file_name`.
    Reading {
        /// File name.
        file_name: String,
        /// Bytes read so far.
        read_bytes: u64,
        /// File size.
        total_bytes: u64,
    },
    /// Done.
    Done {
        /// File name.
        file_name: String,
        /// Events imported.
        events: usize,
    },
    /// The file could not be imported.
    Failed {
        /// File name.
        file_name: String,
        /// What is wrong, with the position when known.
        message: String,
    },
}

struct Inbox {
    /// Live events waiting to be ingested, oldest first.
    events: VecDeque<CaptureEvent>,
    /// Imported events waiting (a reload page event in a file clears nothing).
    imported: VecDeque<CaptureEvent>,
    scheduled: bool,
    last_flush_millis: f64,
    derive_cost_millis: f64,
    /// Measured ingest cost, for sizing the chunks of one task.
    micros_per_event: f64,
    stats_scheduled: bool,
    last_stats_millis: f64,
}

impl Inbox {
    fn pending(&self) -> usize {
        self.events.len() + self.imported.len()
    }

    /// Events one task can ingest within [`INGEST_BUDGET_MILLIS`], by the measured cost.
    fn chunk_events(&self) -> usize {
        (INGEST_BUDGET_MILLIS * 1_000.0 / self.micros_per_event.max(0.1)).clamp(64.0, 50_000.0)
            as usize
    }
}

/// Every piece of state the panels share; `Copy`, handed around through context.
#[derive(Clone, Copy)]
pub struct Inspector {
    /// The core session and statistics.
    pub store: StoredValue<Store, LocalStorage>,
    /// Bumped whenever the store changes.
    pub version: RwSignal<u64>,
    /// Bumped at most every [`STATS_INTERVAL_MILLIS`] after the store changed (or the filter
    /// did), in its own task: what statistics, charts and counters track.
    pub stats_version: RwSignal<u64>,
    inbox: StoredValue<Inbox, LocalStorage>,
    deriver: StoredValue<RowDeriver, LocalStorage>,
    /// Filter text as typed.
    pub filter_text: RwSignal<String>,
    /// The parsed filter (or where it is wrong).
    pub query: Memo<Result<Query, FilterError>>,
    /// The last filter that parsed (what the table shows while the text has an error).
    pub valid_query: Memo<Query>,
    /// Quick toggles.
    pub quick: RwSignal<QuickFilter>,
    /// Calls or frames.
    pub mode: RwSignal<ViewMode>,
    /// Sort column and order.
    pub sort: RwSignal<(Column, SortOrder)>,
    /// Group rows by connection.
    pub grouped: RwSignal<bool>,
    /// Keys of collapsed groups.
    pub collapsed: RwSignal<HashSet<String>>,
    /// Capture paused: incoming events are counted and skipped.
    pub paused: RwSignal<bool>,
    /// Keep rows when an inspected page reloads.
    pub preserve_log: RwSignal<bool>,
    /// Events skipped while paused.
    pub skipped_while_paused: RwSignal<u64>,
    /// The row shown in the detail pane.
    pub selected: RwSignal<Option<Selection>>,
    /// Lower area tab.
    pub lower_tab: RwSignal<LowerTab>,
    /// Theme.
    pub theme: RwSignal<Theme>,
    /// Keep the table scrolled to the newest row.
    pub follow: RwSignal<bool>,
    /// A table line to scroll into view (keyboard navigation).
    pub reveal: RwSignal<Option<usize>>,
    /// File import progress.
    pub import: RwSignal<ImportState>,
    /// A short message for the status line (copy done, errors).
    pub notice: RwSignal<Option<String>>,
    /// Filtered, sorted, grouped rows.
    pub rows: Memo<TableRows>,
}

impl Inspector {
    /// Creates the state (call inside the app's owner).
    pub fn new() -> Self {
        let store = StoredValue::new_local(Store::with_config(SessionConfig {
            endpoint_overrides: crate::components::decode_as::remembered_choices(),
            ..SessionConfig::default()
        }));
        let version = RwSignal::new(0u64);
        let stats_version = RwSignal::new(0u64);
        let inbox = StoredValue::new_local(Inbox {
            events: VecDeque::new(),
            imported: VecDeque::new(),
            scheduled: false,
            last_flush_millis: f64::NEG_INFINITY,
            derive_cost_millis: 0.0,
            micros_per_event: 20.0,
            stats_scheduled: false,
            last_stats_millis: f64::NEG_INFINITY,
        });
        let deriver = StoredValue::new_local(RowDeriver::new());
        let filter_text = RwSignal::new(String::new());
        let query = Memo::new(move |_| filter_text.with(|text| Query::parse(text)));
        // While the text does not parse, keep showing what the last valid query showed.
        let valid_query = Memo::new(move |previous: Option<&Query>| {
            query.with(|query| match query {
                Ok(query) => query.clone(),
                Err(_) => previous.cloned().unwrap_or_default(),
            })
        });
        let quick = RwSignal::new(QuickFilter::default());
        let mode = RwSignal::new(ViewMode::Calls);
        let sort = RwSignal::new((Column::Time, SortOrder::Ascending));
        let grouped = RwSignal::new(false);
        let collapsed = RwSignal::new(HashSet::new());
        let theme = RwSignal::new(match bridge::load_setting("theme").as_deref() {
            Some("light") => Theme::Light,
            Some("dark") => Theme::Dark,
            _ => Theme::System,
        });
        let rows = Memo::new(move |_| {
            let version = version.get();
            let started = bridge::monotonic_millis();
            let (column, order) = sort.get();
            let settings = RowSettings {
                query: valid_query.get(),
                quick: quick.get(),
                mode: mode.get(),
                column,
                order,
            };
            let grouped = grouped.get();
            let rows = collapsed.with(|collapsed| {
                store.with_value(|store| {
                    deriver.update_value(|deriver| deriver.update(store, &settings));
                    deriver.with_value(|deriver| {
                        let mut rows = table_rows(
                            store,
                            deriver.positions(),
                            settings.mode,
                            grouped,
                            collapsed,
                            version,
                        );
                        if !grouped {
                            rows.dropped_front = deriver.dropped_front();
                        }
                        rows
                    })
                })
            });
            let cost = bridge::monotonic_millis() - started;
            inbox.update_value(|inbox| inbox.derive_cost_millis = cost);
            rows
        });
        let inspector = Self {
            store,
            version,
            stats_version,
            inbox,
            deriver,
            filter_text,
            query,
            valid_query,
            quick,
            mode,
            sort,
            grouped,
            collapsed,
            paused: RwSignal::new(false),
            preserve_log: RwSignal::new(
                bridge::load_setting("preserve_log").as_deref() == Some("1"),
            ),
            skipped_while_paused: RwSignal::new(0),
            selected: RwSignal::new(None),
            lower_tab: RwSignal::new(LowerTab::Charts),
            theme,
            follow: RwSignal::new(true),
            reveal: RwSignal::new(None),
            import: RwSignal::new(ImportState::Idle),
            notice: RwSignal::new(None),
            rows,
        };
        Effect::new(move |_| bridge::apply_theme(theme.get().attribute()));
        // Charts follow the filter too: refreshed after the table has been painted, in
        // their own task, and once per pause in typing rather than per key.
        Effect::new(move |previous: Option<()>| {
            valid_query.track();
            quick.track();
            if previous.is_some() {
                inspector.schedule_stats_after(FILTER_CHART_DELAY_MILLIS);
            }
        });
        inspector
    }

    /// Takes a batch from the bridge: queued for the next flush, or counted and skipped while
    /// paused. Events that did not match the schema are counted where users can see them.
    pub fn receive(self, batch: EventBatch) {
        if !batch.rejected.is_empty() {
            let rejected = batch.rejected;
            self.store
                .update_value(|store| store.count_rejected(&rejected));
        }
        if batch.events.is_empty() {
            self.schedule_flush();
            return;
        }
        if self.paused.get_untracked() {
            self.skipped_while_paused
                .update(|skipped| *skipped += batch.events.len() as u64);
            return;
        }
        self.inbox
            .update_value(|inbox| inbox.events.extend(batch.events));
        self.schedule_flush();
    }

    /// Queues imported events (ingested in chunks like live ones, also while paused); await
    /// [`Inspector::ingested`] to know when they are in the store.
    pub fn import_events(self, events: Vec<CaptureEvent>) {
        if events.is_empty() {
            return;
        }
        self.inbox
            .update_value(|inbox| inbox.imported.extend(events));
        self.schedule_flush();
    }

    /// Events waiting to be ingested (live and imported).
    pub fn backlog(self) -> usize {
        self.inbox.try_with_value(Inbox::pending).unwrap_or(0)
    }

    /// Resolves once every queued event is in the store.
    pub async fn ingested(self) {
        while self
            .inbox
            .try_with_value(|inbox| inbox.pending() > 0)
            .unwrap_or(false)
        {
            bridge::sleep_millis(FRAME_MILLIS as i32).await;
        }
    }

    fn schedule_flush(self) {
        let (scheduled, delay_millis) = self.inbox.with_value(|inbox| {
            let since = bridge::monotonic_millis() - inbox.last_flush_millis;
            // A backlog (import, burst) continues right away, a chunk per task; live
            // traffic at most once per frame, less often if deriving rows got expensive.
            let interval = if !inbox.imported.is_empty() || inbox.pending() > inbox.chunk_events() {
                0.0
            } else {
                (inbox.derive_cost_millis * 3.0).clamp(LIVE_FLUSH_MILLIS, 1_000.0)
            };
            (inbox.scheduled, (interval - since).max(0.0))
        });
        if scheduled {
            return;
        }
        self.inbox.update_value(|inbox| inbox.scheduled = true);
        set_timeout(
            move || self.flush_now(),
            Duration::from_millis(delay_millis as u64),
        );
    }

    /// Ingests queued events for up to [`INGEST_BUDGET_MILLIS`], then lets the browser
    /// breathe and continues in a later task.
    fn flush_now(self) {
        let Some((events, imported)) = self.inbox.try_update_value(|inbox| {
            inbox.scheduled = false;
            inbox.last_flush_millis = bridge::monotonic_millis();
            let chunk = inbox.chunk_events();
            if inbox.imported.is_empty() {
                let end = chunk.min(inbox.events.len());
                (
                    inbox.events.drain(..end).collect::<Vec<CaptureEvent>>(),
                    false,
                )
            } else {
                let end = chunk.min(inbox.imported.len());
                (
                    inbox.imported.drain(..end).collect::<Vec<CaptureEvent>>(),
                    true,
                )
            }
        }) else {
            return;
        };
        if events.is_empty() {
            return;
        }
        let preserve = imported || self.preserve_log.get_untracked();
        let now_micros = bridge::now_micros();
        let started = bridge::monotonic_millis();
        let mut cleared = false;
        self.store.update_value(|store| {
            // A reload clears what came before it (unless the log is preserved), in order.
            let mut from = 0;
            for (index, event) in events.iter().enumerate() {
                if !preserve && matches!(event.body, EventBody::Page { .. }) {
                    store.ingest_deferring_stats(&events[from..index], now_micros);
                    from = index;
                    if store.is_reload(event) {
                        store.clear();
                        cleared = true;
                    }
                }
            }
            store.ingest_deferring_stats(&events[from..], now_micros);
        });
        let spent_millis = bridge::monotonic_millis() - started;
        self.inbox.update_value(|inbox| {
            let per_event = spent_millis * 1_000.0 / events.len() as f64;
            // Smoothed, so one slow chunk does not shrink the next ones too much.
            inbox.micros_per_event = inbox.micros_per_event * 0.7 + per_event * 0.3;
        });
        if cleared {
            self.deriver.update_value(RowDeriver::reset);
        }
        self.version.update(|version| *version += 1);
        self.schedule_stats();
        if self.inbox.with_value(|inbox| inbox.pending() > 0) {
            self.schedule_flush();
        }
    }

    /// Bumps [`Inspector::stats_version`] in a later task, at most every
    /// [`STATS_INTERVAL_MILLIS`].
    pub fn schedule_stats(self) {
        self.schedule_stats_after(0.0);
    }

    /// As [`Inspector::schedule_stats`], not sooner than `min_delay_millis` from now.
    fn schedule_stats_after(self, min_delay_millis: f64) {
        let Some((scheduled, delay_millis)) = self.inbox.try_with_value(|inbox| {
            let since = bridge::monotonic_millis() - inbox.last_stats_millis;
            (
                inbox.stats_scheduled,
                (STATS_INTERVAL_MILLIS - since).max(min_delay_millis),
            )
        }) else {
            return;
        };
        if scheduled {
            return;
        }
        self.inbox
            .update_value(|inbox| inbox.stats_scheduled = true);
        set_timeout(
            move || {
                let alive = self.inbox.try_update_value(|inbox| {
                    inbox.stats_scheduled = false;
                    inbox.last_stats_millis = bridge::monotonic_millis();
                });
                if alive.is_some() {
                    self.store.update_value(Store::refresh_stats);
                    // What follows the statistics (charts, tables) in a task of its own.
                    set_timeout(
                        move || {
                            if self.inbox.try_with_value(|_| ()).is_some() {
                                self.stats_version.update(|version| *version += 1);
                            }
                        },
                        Duration::ZERO,
                    );
                }
            },
            Duration::from_millis(delay_millis as u64),
        );
    }

    /// The store was changed outside ingestion (decode-as): rows are derived again and the
    /// statistics follow.
    pub fn store_changed(self) {
        self.deriver.update_value(RowDeriver::reset);
        self.version.update(|version| *version += 1);
        self.schedule_stats();
    }

    /// The table's filtered call positions in the store, in time order, when the table
    /// shows calls sorted by time ascending (the charts then follow the filter without
    /// filtering every call again); `None` otherwise.
    pub fn with_matched_calls_by_time<R>(
        self,
        read: impl FnOnce(&Store, &[u32]) -> R,
    ) -> Option<R> {
        if self.mode.get_untracked() != ViewMode::Calls
            || self.sort.get_untracked() != (Column::Time, SortOrder::Ascending)
        {
            return None;
        }
        // Brings the rows (and the deriver) up to date with the store first.
        self.rows.with_untracked(|_| ());
        let settings = RowSettings {
            query: self.valid_query.get_untracked(),
            quick: self.quick.get_untracked(),
            mode: ViewMode::Calls,
            column: Column::Time,
            order: SortOrder::Ascending,
        };
        let mut read = Some(read);
        self.store.with_value(|store| {
            self.deriver.with_value(|deriver| {
                let positions = deriver.positions_for(store, &settings)?;
                read.take().map(|read| read(store, positions))
            })
        })
    }

    /// How the table's rows were kept up to date so far (for tests and benchmarks).
    pub fn derive_counts(self) -> crate::rows::DeriveCounts {
        self.deriver.with_value(RowDeriver::counts)
    }

    /// Clears everything captured so far (pages stay connected).
    pub fn clear(self) {
        self.inbox.update_value(|inbox| {
            inbox.events.clear();
            inbox.imported.clear();
        });
        self.store.update_value(Store::clear);
        self.deriver.update_value(RowDeriver::reset);
        self.skipped_while_paused.set(0);
        self.selected.set(None);
        self.follow.set(true);
        self.version.update(|version| *version += 1);
        self.stats_version.update(|version| *version += 1);
    }

    /// The inspected page navigated (reported by the extension): clears unless the log is
    /// preserved.
    pub fn navigated(self) {
        if !self.preserve_log.get_untracked() {
            self.clear();
        }
    }

    /// Pauses or resumes capture.
    pub fn toggle_paused(self) {
        self.paused.update(|paused| *paused = !*paused);
    }

    /// Switches to the next theme and remembers it.
    pub fn cycle_theme(self) {
        let next = self.theme.get_untracked().next();
        bridge::save_setting("theme", next.attribute().unwrap_or("system"));
        self.theme.set(next);
    }

    /// Sorts by `column` (again: flips the order).
    pub fn sort_by(self, column: Column) {
        self.sort.update(|(current, order)| {
            if *current == column {
                *order = order.flipped();
            } else {
                *current = column;
                *order = SortOrder::Ascending;
            }
        });
    }

    /// Shows a short message in the status line for a few seconds.
    pub fn notify(self, message: impl Into<String>) {
        let message = message.into();
        self.notice.set(Some(message.clone()));
        set_timeout(
            move || {
                if self.notice.get_untracked().as_deref() == Some(message.as_str()) {
                    self.notice.set(None);
                }
            },
            Duration::from_secs(4),
        );
    }
}

impl Default for Inspector {
    fn default() -> Self {
        Self::new()
    }
}

/// The table's lines from the derived positions: flat, or under connection headers.
fn table_rows(
    store: &Store,
    positions: &[u32],
    mode: ViewMode,
    grouped: bool,
    collapsed: &HashSet<String>,
    version: u64,
) -> TableRows {
    let (lines, total) = match mode {
        ViewMode::Calls => (
            if grouped {
                Lines::Grouped(group_calls_by_connection(
                    &store.calls(),
                    positions,
                    collapsed,
                ))
            } else {
                Lines::Flat(positions.to_vec())
            },
            store.session().call_count(),
        ),
        ViewMode::Frames => (
            if grouped {
                Lines::Grouped(group_frames_by_connection(
                    &store.frames(),
                    positions,
                    collapsed,
                ))
            } else {
                Lines::Flat(positions.to_vec())
            },
            store.session().frame_count(),
        ),
    };
    TableRows {
        lines,
        matched: positions.len(),
        total,
        version,
        dropped_front: 0,
    }
}

/// The inspector state from context.
pub fn use_inspector() -> Inspector {
    expect_context::<Inspector>()
}
