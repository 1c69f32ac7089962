//! The inspector's state: the core session (the store of frames and calls), the user's
//! choices (filter, sort, view, selection...), and the derived rows the table shows.
//!
//! Data enters through [`Inspector::receive`] (batches from the bridge) and
//! [`Inspector::import_events`] (files). Events wait in an inbox and are ingested into the
//! core in batches, at most once per animation frame and less often when deriving the rows
//! gets expensive, so 2,000 frames/s never cause 2,000 renders/s. Every batch bumps
//! [`Inspector::version`], which is what derived [`Memo`]s track. Data leaves as memos of
//! core results ([`Inspector::rows`]) read by the components.

use std::collections::HashSet;
use std::time::Duration;

use inspector_core::event::{CaptureEvent, EventBody};
use inspector_core::filter::{FilterError, Query};
use inspector_core::session::SessionConfig;
use inspector_core::view::table::{
    Column, GroupedRow, QuickFilter, SortOrder, group_calls_by_connection,
    group_frames_by_connection, sort_calls, sort_frames,
};
use leptos::prelude::*;

use crate::bridge::{self, EventBatch};
use crate::store::Store;

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
    events: Vec<CaptureEvent>,
    scheduled: bool,
    last_flush_millis: f64,
    derive_cost_millis: f64,
}

/// Every piece of state the panels share; `Copy`, handed around through context.
#[derive(Clone, Copy)]
pub struct Inspector {
    /// The core session and statistics.
    pub store: StoredValue<Store, LocalStorage>,
    /// Bumped whenever the store changes.
    pub version: RwSignal<u64>,
    inbox: StoredValue<Inbox, LocalStorage>,
    /// Filter text as typed.
    pub filter_text: RwSignal<String>,
    /// The parsed filter (or where it is wrong).
    pub query: Memo<Result<Query, FilterError>>,
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
        let inbox = StoredValue::new_local(Inbox {
            events: Vec::new(),
            scheduled: false,
            last_flush_millis: f64::NEG_INFINITY,
            derive_cost_millis: 0.0,
        });
        let filter_text = RwSignal::new(String::new());
        let query = Memo::new(move |_| filter_text.with(|text| Query::parse(text)));
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
        let rows = Memo::new(move |previous: Option<&TableRows>| {
            let version = version.get();
            let started = bridge::monotonic_millis();
            let rows = query.with(|query| {
                // While the text does not parse, keep showing what the last valid query showed.
                let fallback = Query::default();
                let query = query.as_ref().unwrap_or(&fallback);
                let quick = quick.get();
                let (column, order) = sort.get();
                let grouped = grouped.get();
                let mode = mode.get();
                collapsed.with(|collapsed| {
                    store.with_value(|store| {
                        derive_rows(
                            store, query, quick, mode, column, order, grouped, collapsed, version,
                        )
                    })
                })
            });
            let cost = bridge::monotonic_millis() - started;
            inbox.update_value(|inbox| inbox.derive_cost_millis = cost);
            let _ = previous;
            rows
        });
        let inspector = Self {
            store,
            version,
            inbox,
            filter_text,
            query,
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

    /// Ingests imported events right away (the import shows its own progress).
    pub fn import_events(self, events: Vec<CaptureEvent>) {
        self.flush_now();
        self.store
            .update_value(|store| store.ingest(&events, bridge::now_micros()));
        self.version.update(|version| *version += 1);
    }

    fn schedule_flush(self) {
        let (scheduled, delay_millis) = self.inbox.with_value(|inbox| {
            let since = bridge::monotonic_millis() - inbox.last_flush_millis;
            // Derivation costs grow with the store; flush less often so the page stays
            // responsive (at most a third of the time goes to re-deriving rows).
            let interval = (inbox.derive_cost_millis * 3.0).clamp(16.0, 1_000.0);
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

    fn flush_now(self) {
        let events = self.inbox.try_update_value(|inbox| {
            inbox.scheduled = false;
            inbox.last_flush_millis = bridge::monotonic_millis();
            std::mem::take(&mut inbox.events)
        });
        let Some(events) = events else {
            return;
        };
        let preserve = self.preserve_log.get_untracked();
        let now_micros = bridge::now_micros();
        self.store.update_value(|store| {
            for event in &events {
                if !preserve
                    && matches!(event.body, EventBody::Page { .. })
                    && store.is_reload(event)
                {
                    store.clear();
                }
            }
            store.ingest(&events, now_micros);
        });
        self.version.update(|version| *version += 1);
    }

    /// Clears everything captured so far (pages stay connected).
    pub fn clear(self) {
        self.inbox.update_value(|inbox| inbox.events.clear());
        self.store.update_value(Store::clear);
        self.skipped_while_paused.set(0);
        self.selected.set(None);
        self.follow.set(true);
        self.version.update(|version| *version += 1);
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

#[allow(clippy::too_many_arguments)]
fn derive_rows(
    store: &Store,
    query: &Query,
    quick: QuickFilter,
    mode: ViewMode,
    column: Column,
    order: SortOrder,
    grouped: bool,
    collapsed: &HashSet<String>,
    version: u64,
) -> TableRows {
    match mode {
        ViewMode::Calls => {
            let calls = store.calls();
            let mut positions: Vec<u32> = store
                .session()
                .calls()
                .enumerate()
                .filter(|(_, call)| quick.matches_call(call) && query.matches_call(call))
                .map(|(position, _)| position as u32)
                .collect();
            if (column, order) != (Column::Time, SortOrder::Ascending) {
                sort_calls(&calls, &mut positions, column, order);
            }
            let matched = positions.len();
            let lines = if grouped {
                Lines::Grouped(group_calls_by_connection(&calls, &positions, collapsed))
            } else {
                Lines::Flat(positions)
            };
            TableRows {
                lines,
                matched,
                total: store.session().call_count(),
                version,
            }
        }
        ViewMode::Frames => {
            let frames = store.frames();
            let mut positions: Vec<u32> = store
                .session()
                .frames()
                .enumerate()
                .filter(|(_, frame)| quick.matches_frame(frame) && query.matches_frame(frame))
                .map(|(position, _)| position as u32)
                .collect();
            if (column, order) != (Column::Time, SortOrder::Ascending) {
                sort_frames(&frames, &mut positions, column, order);
            }
            let matched = positions.len();
            let lines = if grouped {
                Lines::Grouped(group_frames_by_connection(&frames, &positions, collapsed))
            } else {
                Lines::Flat(positions)
            };
            TableRows {
                lines,
                matched,
                total: store.session().frame_count(),
                version,
            }
        }
    }
}

/// The inspector state from context.
pub fn use_inspector() -> Inspector {
    expect_context::<Inspector>()
}
