//! The table's rows, kept up to date incrementally.
//!
//! Data enters as the store after each ingest batch plus the user's choices
//! ([`RowSettings`]) and leaves as positions into the session's calls or frames, filtered and
//! sorted ([`RowDeriver::positions`]). A change of the settings or a decode-as renumbering
//! derives everything again (a user action); otherwise only what the batch changed is looked
//! at: rows evicted from the front are dropped, new calls or frames are filtered and merged
//! in, and calls that were still open (pending, or timed out without an answer) are checked
//! again, since their outcome and latency can change. So a live stream costs in proportion
//! to the new rows, not to the 100,000 already in the table.
//!
//! Free text also searches the payloads of the frames that carried a call (the first
//! [`PAYLOAD_SEARCH_BYTES`] of each, as stored: JSON and other text as written, binary
//! payloads byte by byte, so text fields of protobuf messages are found too).

use std::cmp::Ordering;

use inspector_core::filter::{Query, contains_text};
use inspector_core::model::{Call, Frame, Outcome};
use inspector_core::session::Session;
use inspector_core::view::table::{
    Column, QuickFilter, SortOrder, compare_calls_for_sort, compare_frames_for_sort, sort_calls,
    sort_frames,
};

use crate::state::ViewMode;
use crate::store::Store;

/// How much of each payload free text searches.
pub const PAYLOAD_SEARCH_BYTES: usize = 64 * 1024;

/// Everything the rows depend on besides the store's content.
#[derive(Debug, Clone, PartialEq)]
pub struct RowSettings {
    /// The filter (the last one that parsed).
    pub query: Query,
    /// Quick toggles.
    pub quick: QuickFilter,
    /// Calls or frames.
    pub mode: ViewMode,
    /// Sort column.
    pub column: Column,
    /// Sort order.
    pub order: SortOrder,
}

impl RowSettings {
    fn time_ascending(&self) -> bool {
        (self.column, self.order) == (Column::Time, SortOrder::Ascending)
    }
}

/// How the last [`RowDeriver::update`] went, for benchmarks and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeriveCounts {
    /// Derivations from scratch.
    pub full: u64,
    /// Incremental updates where the new rows were all at the end.
    pub appended: u64,
    /// Incremental updates where new calls started before retained ones (positions
    /// remapped with one pass over the store, no filtering of old rows).
    pub remapped: u64,
}

/// A retained call that may still change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OpenCall {
    started_micros: u64,
    call_id: u64,
    matched: bool,
}

/// The filtered, sorted positions and what is needed to update them cheaply.
#[derive(Debug, Default)]
pub struct RowDeriver {
    settings: Option<RowSettings>,
    generation: u64,
    positions: Vec<u32>,
    /// Rows retained in the store at the last update.
    seen_len: usize,
    /// The store's eviction counter (calls or frames) at the last update.
    seen_evicted: u64,
    /// Ids from here on were created after the last update.
    next_id: u64,
    open_calls: Vec<OpenCall>,
    counts: DeriveCounts,
    dropped_front: usize,
}

/// True while a call's outcome or latency can still change (an answer may come).
fn may_change(call: &Call) -> bool {
    match call.outcome {
        Outcome::Pending => true,
        Outcome::Timeout => call.ended_micros.is_none(),
        _ => false,
    }
}

fn frame_holds(session: &Session, frame_id: u64, needle: &[u8]) -> bool {
    session
        .frame(frame_id)
        .is_some_and(|frame| contains_text(frame.summary.as_bytes(), needle))
        || session.frame_payload(frame_id).is_some_and(|bytes| {
            contains_text(&bytes[..bytes.len().min(PAYLOAD_SEARCH_BYTES)], needle)
        })
}

/// True when `call` passes the quick toggles and the query, free text looking into the
/// summaries and payloads of its request and response frames too.
pub fn call_matches(session: &Session, settings: &RowSettings, call: &Call) -> bool {
    settings.quick.matches_call(call)
        && settings.query.matches_call_with_payloads(call, |needle| {
            call.request_frame_id
                .into_iter()
                .chain(
                    call.response_frame_id
                        .filter(|id| Some(*id) != call.request_frame_id),
                )
                .any(|frame_id| frame_holds(session, frame_id, needle))
        })
}

/// True when `frame` passes the quick toggles and the query, free text looking into its
/// payload too.
pub fn frame_matches(session: &Session, settings: &RowSettings, frame: &Frame) -> bool {
    settings.quick.matches_frame(frame)
        && settings.query.matches_frame_with_payload(frame, |needle| {
            session.frame_payload(frame.frame_id).is_some_and(|bytes| {
                contains_text(&bytes[..bytes.len().min(PAYLOAD_SEARCH_BYTES)], needle)
            })
        })
}

/// Merges `new` (sorted by `compare`) into `positions` (sorted by `compare`).
fn merge_sorted(positions: &mut Vec<u32>, new: Vec<u32>, compare: impl Fn(u32, u32) -> Ordering) {
    let (Some(&first_new), Some(&last_old)) = (new.first(), positions.last()) else {
        positions.extend(new);
        return;
    };
    if compare(last_old, first_new) != Ordering::Greater {
        positions.extend(new);
        return;
    }
    let old = std::mem::take(positions);
    positions.reserve(old.len() + new.len());
    let (mut old, mut new) = (old.into_iter().peekable(), new.into_iter().peekable());
    loop {
        let next = match (old.peek(), new.peek()) {
            (Some(&a), Some(&b)) => {
                if compare(a, b) == Ordering::Greater {
                    new.next()
                } else {
                    old.next()
                }
            }
            (Some(_), None) => old.next(),
            (None, Some(_)) => new.next(),
            (None, None) => break,
        };
        positions.extend(next);
    }
}

impl RowDeriver {
    /// An empty deriver; the first update derives from scratch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets everything (the store was cleared or replaced): the next update derives from
    /// scratch.
    pub fn reset(&mut self) {
        let counts = self.counts;
        *self = Self {
            counts,
            ..Self::default()
        };
    }

    /// The filtered, sorted positions of the last update.
    pub fn positions(&self) -> &[u32] {
        &self.positions
    }

    /// Rows the last update removed from the start of the list because the store evicted
    /// them (sorted by time ascending; 0 otherwise), so a view scrolled up can keep the same
    /// rows in sight.
    pub fn dropped_front(&self) -> usize {
        self.dropped_front
    }

    /// The positions of the last update when they were derived with `settings` from the
    /// store's current content: what another view following the same filter can use instead
    /// of filtering every call again.
    pub fn positions_for(&self, store: &Store, settings: &RowSettings) -> Option<&[u32]> {
        let session = store.session();
        let (len, evicted) = match settings.mode {
            ViewMode::Calls => (session.call_count(), session.evicted().calls),
            ViewMode::Frames => (session.frame_count(), session.evicted().frames),
        };
        let current = self.settings.as_ref() == Some(settings)
            && self.generation == session.generation()
            && self.seen_len == len
            && self.seen_evicted == evicted;
        current.then_some(self.positions.as_slice())
    }

    /// How many updates were full, appended or remapped so far.
    pub fn counts(&self) -> DeriveCounts {
        self.counts
    }

    /// Brings the positions up to date with `store` and `settings`.
    pub fn update(&mut self, store: &Store, settings: &RowSettings) {
        let session = store.session();
        self.dropped_front = 0;
        let same_settings = self.settings.as_ref() == Some(settings);
        if same_settings && self.generation == session.generation() {
            let updated = match settings.mode {
                ViewMode::Calls => self.update_calls(session, settings),
                ViewMode::Frames => self.update_frames(session, settings),
            };
            if updated {
                return;
            }
        }
        self.derive_all(session, settings);
    }

    fn derive_all(&mut self, session: &Session, settings: &RowSettings) {
        self.counts.full += 1;
        self.settings = Some(settings.clone());
        self.generation = session.generation();
        self.open_calls.clear();
        self.positions.clear();
        match settings.mode {
            ViewMode::Calls => {
                let mut next_id = 0;
                for (position, call) in session.calls().enumerate() {
                    next_id = next_id.max(call.call_id + 1);
                    let matched = call_matches(session, settings, call);
                    if matched {
                        self.positions.push(position as u32);
                    }
                    if may_change(call) {
                        self.open_calls.push(OpenCall {
                            started_micros: call.started_micros,
                            call_id: call.call_id,
                            matched,
                        });
                    }
                }
                if !settings.time_ascending() {
                    sort_calls(
                        &crate::store::Calls(session),
                        &mut self.positions,
                        settings.column,
                        settings.order,
                    );
                }
                self.seen_len = session.call_count();
                self.seen_evicted = session.evicted().calls;
                self.next_id = next_id;
            }
            ViewMode::Frames => {
                self.positions.extend(
                    session
                        .frames()
                        .enumerate()
                        .filter(|(_, frame)| frame_matches(session, settings, frame))
                        .map(|(position, _)| position as u32),
                );
                if !settings.time_ascending() {
                    sort_frames(
                        &crate::store::Frames(session),
                        &mut self.positions,
                        settings.column,
                        settings.order,
                    );
                }
                self.seen_len = session.frame_count();
                self.seen_evicted = session.evicted().frames;
                self.next_id = session
                    .frames()
                    .next_back()
                    .map_or(0, |frame| frame.frame_id + 1);
            }
        }
    }

    /// Drops positions below `evicted` and shifts the rest down; `map`, when given, then
    /// takes an old (shifted) position to its current one.
    fn shift_positions(&mut self, evicted: usize, map: Option<&[u32]>) {
        let evicted = evicted as u32;
        let time_ascending = self
            .settings
            .as_ref()
            .is_some_and(RowSettings::time_ascending);
        if time_ascending {
            // Sorted by position: the evicted rows are a prefix.
            let dropped = self
                .positions
                .partition_point(|position| *position < evicted);
            self.positions.drain(..dropped);
            self.dropped_front = dropped;
        } else {
            self.positions.retain(|position| *position >= evicted);
        }
        match map {
            None if evicted > 0 => {
                for position in &mut self.positions {
                    *position -= evicted;
                }
            }
            None => {}
            Some(map) => {
                for position in &mut self.positions {
                    if let Some(&current) = map.get((*position - evicted) as usize) {
                        *position = current;
                    }
                }
            }
        }
    }

    /// The incremental path for calls; false when it cannot apply (the caller derives
    /// everything).
    fn update_calls(&mut self, session: &Session, settings: &RowSettings) -> bool {
        let len = session.call_count();
        let evicted_total = session.evicted().calls;
        let Some(evicted) = evicted_total.checked_sub(self.seen_evicted) else {
            return false;
        };
        let Ok(evicted) = usize::try_from(evicted) else {
            return false;
        };
        let next_id = self.next_id;
        let is_new = |call: &Call| call.call_id >= next_id;
        // Fast path: the retained old calls are the front, the new ones all at the end.
        let kept_old = self.seen_len.checked_sub(evicted);
        let appended = kept_old.filter(|&kept| {
            kept <= len && (kept..len).all(|position| session.call_at(position).is_some_and(is_new))
        });
        let new_positions: Vec<u32> = match appended {
            Some(kept_old) => {
                self.shift_positions(evicted, None);
                self.counts.appended += 1;
                (kept_old as u32..len as u32).collect()
            }
            None => {
                // New calls started before retained ones (or a new call was evicted): one
                // pass maps every old call to its current position. Evicted old calls are
                // a prefix of the old order, since eviction takes the front.
                let mut map: Vec<u32> = Vec::with_capacity(self.seen_len);
                let mut new_positions = Vec::new();
                for (position, call) in session.calls().enumerate() {
                    if is_new(call) {
                        new_positions.push(position as u32);
                    } else {
                        map.push(position as u32);
                    }
                }
                let Some(evicted_old) = self.seen_len.checked_sub(map.len()) else {
                    return false;
                };
                self.shift_positions(evicted_old, Some(&map));
                self.counts.remapped += 1;
                new_positions
            }
        };

        // Calls that were open: find them again (by their sort key), re-check them.
        let mut to_insert: Vec<u32> = Vec::new();
        let mut to_remove: Vec<u32> = Vec::new();
        let open_calls = std::mem::take(&mut self.open_calls);
        for open in open_calls {
            let key = (open.started_micros, open.call_id);
            let position = {
                let (mut low, mut high) = (0, len);
                while low < high {
                    let middle = low + (high - low) / 2;
                    match session.call_at(middle) {
                        Some(call) if (call.started_micros, call.call_id) < key => low = middle + 1,
                        _ => high = middle,
                    }
                }
                low
            };
            let Some(call) = session
                .call_at(position)
                .filter(|call| call.call_id == open.call_id)
            else {
                // Evicted: its row went with the shift.
                continue;
            };
            let matched = call_matches(session, settings, call);
            let sort_key_may_change = !matches!(settings.column, Column::Time);
            if open.matched && (!matched || sort_key_may_change) {
                to_remove.push(position as u32);
            }
            if matched && (!open.matched || sort_key_may_change) {
                to_insert.push(position as u32);
            }
            if may_change(call) {
                self.open_calls.push(OpenCall { matched, ..open });
            }
        }
        if !to_remove.is_empty() {
            to_remove.sort_unstable();
            self.positions
                .retain(|position| to_remove.binary_search(position).is_err());
        }

        for position in new_positions {
            let Some(call) = session.call_at(position as usize) else {
                continue;
            };
            let matched = call_matches(session, settings, call);
            if matched {
                to_insert.push(position);
            }
            if may_change(call) {
                self.open_calls.push(OpenCall {
                    started_micros: call.started_micros,
                    call_id: call.call_id,
                    matched,
                });
            }
            self.next_id = self.next_id.max(call.call_id + 1);
        }
        if !to_insert.is_empty() {
            if settings.time_ascending() {
                to_insert.sort_unstable();
                merge_sorted(&mut self.positions, to_insert, |a, b| a.cmp(&b));
            } else {
                let calls = crate::store::Calls(session);
                sort_calls(&calls, &mut to_insert, settings.column, settings.order);
                let compare = |a: u32, b: u32| match (
                    session.call_at(a as usize),
                    session.call_at(b as usize),
                ) {
                    (Some(a), Some(b)) => {
                        compare_calls_for_sort(a, b, settings.column, settings.order)
                    }
                    _ => a.cmp(&b),
                };
                merge_sorted(&mut self.positions, to_insert, compare);
            }
        }
        self.seen_len = len;
        self.seen_evicted = evicted_total;
        true
    }

    /// The incremental path for frames (frames never change and always arrive at the end).
    fn update_frames(&mut self, session: &Session, settings: &RowSettings) -> bool {
        let len = session.frame_count();
        let evicted_total = session.evicted().frames;
        let Some(evicted) = evicted_total
            .checked_sub(self.seen_evicted)
            .and_then(|evicted| usize::try_from(evicted).ok())
        else {
            return false;
        };
        let Some(kept_old) = self.seen_len.checked_sub(evicted) else {
            return false;
        };
        // Frames that arrived and were evicted again before this update leave a gap in
        // the ids; check the boundary instead of assuming.
        let next_id = self.next_id;
        let boundary_ok = kept_old <= len
            && (kept_old == 0
                || session
                    .frame_at(kept_old - 1)
                    .is_some_and(|frame| frame.frame_id < next_id))
            && session
                .frame_at(kept_old)
                .is_none_or(|frame| frame.frame_id >= next_id);
        if !boundary_ok {
            return false;
        }
        self.shift_positions(evicted, None);
        self.counts.appended += 1;
        let mut to_insert: Vec<u32> = (kept_old..len)
            .filter(|&position| {
                session
                    .frame_at(position)
                    .is_some_and(|frame| frame_matches(session, settings, frame))
            })
            .map(|position| position as u32)
            .collect();
        if let Some(last) = session.frames().next_back() {
            self.next_id = self.next_id.max(last.frame_id + 1);
        }
        if settings.time_ascending() {
            self.positions.append(&mut to_insert);
        } else if !to_insert.is_empty() {
            let frames = crate::store::Frames(session);
            sort_frames(&frames, &mut to_insert, settings.column, settings.order);
            let compare =
                |a: u32, b: u32| match (session.frame_at(a as usize), session.frame_at(b as usize))
                {
                    (Some(a), Some(b)) => {
                        compare_frames_for_sort(a, b, settings.column, settings.order)
                    }
                    _ => a.cmp(&b),
                };
            merge_sorted(&mut self.positions, to_insert, compare);
        }
        self.seen_len = len;
        self.seen_evicted = evicted_total;
        true
    }
}
