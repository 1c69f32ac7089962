//! The call/frame table: which rows are visible, in which order, under which group.
//!
//! Rows are referred to by their position in a [`RowSource`] (the session's calls or frames
//! at one moment, or a plain slice), as `u32` to keep 100,000-row index lists small. Every
//! function returns a deterministic order: ties are broken by the rows' ids.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use crate::event::Direction;
use crate::model::{Call, CallKind, Frame, Outcome, Transport};

/// Rows addressable by position: a slice, a `VecDeque`, or a store that keeps its rows in
/// another shape (implement it on a newtype around the store).
pub trait RowSource<T> {
    /// Number of rows.
    fn row_count(&self) -> usize;
    /// The row at `position`.
    fn row(&self, position: usize) -> Option<&T>;
}

impl<T> RowSource<T> for [T] {
    fn row_count(&self) -> usize {
        self.len()
    }

    fn row(&self, position: usize) -> Option<&T> {
        self.get(position)
    }
}

impl<T> RowSource<T> for Vec<T> {
    fn row_count(&self) -> usize {
        self.len()
    }

    fn row(&self, position: usize) -> Option<&T> {
        self.get(position)
    }
}

impl<T> RowSource<T> for std::collections::VecDeque<T> {
    fn row_count(&self) -> usize {
        self.len()
    }

    fn row(&self, position: usize) -> Option<&T> {
        self.get(position)
    }
}

/// The slice of rows a scrolled viewport shows, for a table whose rows all have the same
/// height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RowWindow {
    /// First row to render.
    pub first: usize,
    /// One past the last row to render.
    pub end: usize,
    /// Height of the empty space above the first rendered row, in pixels.
    pub space_above_px: u32,
    /// Height of the empty space below the last rendered row, in pixels.
    pub space_below_px: u32,
}

impl RowWindow {
    /// Rows rendered.
    pub fn len(&self) -> usize {
        self.end - self.first
    }

    /// True when nothing is rendered.
    pub fn is_empty(&self) -> bool {
        self.end == self.first
    }
}

/// The rows visible when the viewport (`viewport_height_px` tall) is scrolled down by
/// `scroll_top_px`, plus `overscan` rows on each side so that fast scrolling does not show
/// blank space. A `row_height_px` of 0 is taken as 1.
pub fn row_window(
    scroll_top_px: f64,
    viewport_height_px: f64,
    row_height_px: u32,
    row_count: usize,
    overscan: usize,
) -> RowWindow {
    let row_height = f64::from(row_height_px.max(1));
    let scroll_top = if scroll_top_px.is_finite() {
        scroll_top_px.max(0.0)
    } else {
        0.0
    };
    let viewport = if viewport_height_px.is_finite() {
        viewport_height_px.max(0.0)
    } else {
        0.0
    };
    let first_visible = ((scroll_top / row_height).floor() as usize).min(row_count);
    let visible = (viewport / row_height).ceil() as usize + 1;
    let first = first_visible.saturating_sub(overscan);
    let end = first_visible
        .saturating_add(visible)
        .saturating_add(overscan)
        .min(row_count);
    let row_height = row_height_px.max(1);
    RowWindow {
        first,
        end,
        space_above_px: (first as u32).saturating_mul(row_height),
        space_below_px: ((row_count - end) as u32).saturating_mul(row_height),
    }
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortOrder {
    /// Smallest first.
    #[default]
    Ascending,
    /// Largest first.
    Descending,
}

impl SortOrder {
    /// The other order.
    pub fn flipped(self) -> SortOrder {
        match self {
            SortOrder::Ascending => SortOrder::Descending,
            SortOrder::Descending => SortOrder::Ascending,
        }
    }

    fn apply(self, ordering: Ordering) -> Ordering {
        match self {
            SortOrder::Ascending => ordering,
            SortOrder::Descending => ordering.reverse(),
        }
    }
}

/// A column of the table, shared by the call and frame views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Column {
    /// Start time (calls) or capture time (frames).
    #[default]
    Time,
    /// Transport.
    Transport,
    /// Direction.
    Direction,
    /// Method (calls) or summary (frames).
    Method,
    /// Request id.
    RequestId,
    /// Outcome (calls) or malformed flag (frames).
    Outcome,
    /// Latency (calls only; frames sort by time).
    Latency,
    /// Request + response size (calls) or payload size (frames).
    Size,
}

impl Column {
    /// Every column in display order.
    pub const ALL: [Column; 8] = [
        Column::Time,
        Column::Transport,
        Column::Direction,
        Column::Method,
        Column::RequestId,
        Column::Outcome,
        Column::Latency,
        Column::Size,
    ];

    /// The column's header text.
    pub fn title(self) -> &'static str {
        match self {
            Column::Time => "Time",
            Column::Transport => "Transport",
            Column::Direction => "Dir",
            Column::Method => "Method",
            Column::RequestId => "ID",
            Column::Outcome => "Outcome",
            Column::Latency => "Latency",
            Column::Size => "Size",
        }
    }
}

/// Direction of a call as a whole: a round trip the page started, or a message one side sent
/// without expecting an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallDirection {
    /// Request sent by the page (and its response, if any).
    RoundTrip,
    /// A notification the page sent.
    Sent,
    /// A notification or push the page received (or a response whose request was not seen).
    Received,
}

impl CallDirection {
    /// The arrow shown in the table.
    pub fn arrow(self) -> &'static str {
        match self {
            CallDirection::RoundTrip => "⇅",
            CallDirection::Sent => "↑",
            CallDirection::Received => "↓",
        }
    }
}

/// The arrow of a frame's direction.
pub fn direction_arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Sent => "↑",
        Direction::Received => "↓",
    }
}

/// A call's direction. A call with a request frame is a round trip (or a sent notification);
/// an orphan response or a received notification has only a frame from the peer.
/// `request_direction` is the direction of the call's first frame when the caller knows it.
pub fn call_direction(call: &Call, request_direction: Option<Direction>) -> CallDirection {
    if call.outcome == Outcome::Orphan {
        return CallDirection::Received;
    }
    match (call.kind, request_direction) {
        (CallKind::Notification, Some(Direction::Received)) => CallDirection::Received,
        (CallKind::Notification, Some(Direction::Sent)) => CallDirection::Sent,
        (CallKind::Notification, None) if call.request_frame_id.is_none() => {
            CallDirection::Received
        }
        (CallKind::Notification, None) => CallDirection::Sent,
        (CallKind::Call, _) => CallDirection::RoundTrip,
    }
}

/// Sort key for the request id column: numeric ids in numeric order before other ids.
fn compare_request_ids(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => match (a.parse::<u128>(), b.parse::<u128>()) {
            (Ok(a), Ok(b)) => a.cmp(&b),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => a.cmp(b),
        },
    }
}

fn compare_calls(a: &Call, b: &Call, column: Column) -> Ordering {
    match column {
        Column::Time => Ordering::Equal,
        Column::Transport => a.transport.cmp(&b.transport),
        Column::Direction => call_direction(a, None).cmp(&call_direction(b, None)),
        Column::Method => a.method.cmp(&b.method),
        Column::RequestId => compare_request_ids(a.request_id.as_deref(), b.request_id.as_deref()),
        Column::Outcome => a.outcome.cmp(&b.outcome),
        // Unknown latencies (pending, notifications) sort after every known one.
        Column::Latency => match (a.latency_micros, b.latency_micros) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
        Column::Size => (a.request_size_bytes + a.response_size_bytes)
            .cmp(&(b.request_size_bytes + b.response_size_bytes)),
    }
    .then(a.started_micros.cmp(&b.started_micros))
    .then(a.call_id.cmp(&b.call_id))
}

fn compare_frames(a: &Frame, b: &Frame, column: Column) -> Ordering {
    match column {
        Column::Time | Column::Latency | Column::RequestId => Ordering::Equal,
        Column::Transport => a.transport.cmp(&b.transport),
        Column::Direction => (a.direction as u8).cmp(&(b.direction as u8)),
        Column::Method => a.summary.cmp(&b.summary),
        Column::Outcome => a.malformed.is_some().cmp(&b.malformed.is_some()),
        Column::Size => a.size_bytes.cmp(&b.size_bytes),
    }
    .then(a.time_micros.cmp(&b.time_micros))
    .then(a.frame_id.cmp(&b.frame_id))
}

/// The order [`sort_calls`] puts two calls in, so that a sorted list can be kept sorted
/// as rows arrive (binary-search insertion, merging) without sorting it again.
pub fn compare_calls_for_sort(a: &Call, b: &Call, column: Column, order: SortOrder) -> Ordering {
    order.apply(compare_calls(a, b, column))
}

/// The order [`sort_frames`] puts two frames in (see [`compare_calls_for_sort`]).
pub fn compare_frames_for_sort(a: &Frame, b: &Frame, column: Column, order: SortOrder) -> Ordering {
    order.apply(compare_frames(a, b, column))
}

/// Orders `positions` (indexes into `calls`) by `column`, ties broken by `(started_micros,
/// call_id)`. Positions outside `calls` are removed. Rows are looked up once each, so a
/// source with slower lookups than a slice costs no more per comparison.
pub fn sort_calls<S: RowSource<Call> + ?Sized>(
    calls: &S,
    positions: &mut Vec<u32>,
    column: Column,
    order: SortOrder,
) {
    let mut keyed: Vec<(&Call, u32)> = positions
        .iter()
        .filter_map(|position| calls.row(*position as usize).map(|call| (call, *position)))
        .collect();
    keyed.sort_unstable_by(|(a, _), (b, _)| order.apply(compare_calls(a, b, column)));
    positions.clear();
    positions.extend(keyed.into_iter().map(|(_, position)| position));
}

/// Orders `positions` (indexes into `frames`) by `column`, ties broken by `(time_micros,
/// frame_id)`. Positions outside `frames` are removed.
pub fn sort_frames<S: RowSource<Frame> + ?Sized>(
    frames: &S,
    positions: &mut Vec<u32>,
    column: Column,
    order: SortOrder,
) {
    let mut keyed: Vec<(&Frame, u32)> = positions
        .iter()
        .filter_map(|position| {
            frames
                .row(*position as usize)
                .map(|frame| (frame, *position))
        })
        .collect();
    keyed.sort_unstable_by(|(a, _), (b, _)| order.apply(compare_frames(a, b, column)));
    positions.clear();
    positions.extend(keyed.into_iter().map(|(_, position)| position));
}

/// The toggles next to the filter box. They combine with the query (both must match).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuickFilter {
    /// Transports to hide (indexed by [`transport_index`]).
    pub hidden_transports: [bool; 4],
    /// Show only calls counted as errors (and malformed frames).
    pub errors_only: bool,
    /// Hide notifications and keep-alive calls ([`is_keepalive_method`]).
    pub hide_notifications_and_pings: bool,
}

/// Every transport in the order the quick toggles show them.
pub const TRANSPORTS: [Transport; 4] = [
    Transport::Http,
    Transport::Websocket,
    Transport::Eventsource,
    Transport::SharedMemory,
];

/// Position of `transport` in [`TRANSPORTS`].
pub fn transport_index(transport: Transport) -> usize {
    match transport {
        Transport::Http => 0,
        Transport::Websocket => 1,
        Transport::Eventsource => 2,
        Transport::SharedMemory => 3,
    }
}

/// True for method names that keep a connection alive rather than do work: `ping`, `pong`,
/// `heartbeat`, `keepalive` (any case, alone or as the last dotted/slashed segment, such as
/// `System.Ping` or `rpc/heartbeat`).
pub fn is_keepalive_method(method: &str) -> bool {
    let last = method
        .rsplit(['.', '/', ' ', ':'])
        .next()
        .unwrap_or(method)
        .to_ascii_lowercase();
    matches!(
        last.as_str(),
        "ping" | "pong" | "heartbeat" | "keepalive" | "keep-alive" | "keep_alive"
    )
}

impl QuickFilter {
    /// True when nothing is hidden.
    pub fn is_inactive(&self) -> bool {
        *self == QuickFilter::default()
    }

    /// Whether `call` passes the toggles.
    pub fn matches_call(&self, call: &Call) -> bool {
        if self.hidden_transports[transport_index(call.transport)] {
            return false;
        }
        if self.errors_only && !call.outcome.is_error() {
            return false;
        }
        if self.hide_notifications_and_pings
            && (call.kind == CallKind::Notification || is_keepalive_method(&call.method))
        {
            return false;
        }
        true
    }

    /// Whether `frame` passes the toggles (errors only keeps malformed frames; the
    /// notification toggle does not apply to frames).
    pub fn matches_frame(&self, frame: &Frame) -> bool {
        if self.hidden_transports[transport_index(frame.transport)] {
            return false;
        }
        if self.errors_only && frame.malformed.is_none() {
            return false;
        }
        true
    }
}

/// One line of a table grouped by connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupedRow {
    /// A connection's header line.
    Group(ConnectionGroup),
    /// A row (index into the slice that was grouped).
    Row(u32),
}

/// Summary of the rows of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionGroup {
    /// Connection id; empty for the group of all one-shot HTTP exchanges.
    pub connection_id: String,
    /// Transport of the connection.
    pub transport: Transport,
    /// Rows in the group (after filtering).
    pub rows: usize,
    /// Rows counted as errors.
    pub errors: usize,
    /// True when the group's rows are hidden.
    pub collapsed: bool,
}

impl ConnectionGroup {
    /// Key under which a collapsed group is remembered.
    pub fn key(&self) -> String {
        format!("{}:{}", self.transport.as_str(), self.connection_id)
    }
}

/// Groups `positions` (already filtered and sorted) by connection, in order of each group's
/// first row. WebSockets, event streams and shared-memory channels get one group each; HTTP
/// exchanges (one connection id per request) share one group. Groups whose
/// [`ConnectionGroup::key`] is in `collapsed` keep their header but not their rows.
pub fn group_calls_by_connection<S: RowSource<Call> + ?Sized>(
    calls: &S,
    positions: &[u32],
    collapsed: &HashSet<String>,
) -> Vec<GroupedRow> {
    group_by(
        positions,
        |position| {
            calls.row(position as usize).map(|call| {
                (
                    call.transport,
                    call.connection_id.as_str(),
                    call.outcome.is_error(),
                )
            })
        },
        collapsed,
    )
}

/// [`group_calls_by_connection`] for frames (malformed frames count as errors).
pub fn group_frames_by_connection<S: RowSource<Frame> + ?Sized>(
    frames: &S,
    positions: &[u32],
    collapsed: &HashSet<String>,
) -> Vec<GroupedRow> {
    group_by(
        positions,
        |position| {
            frames.row(position as usize).map(|frame| {
                (
                    frame.transport,
                    frame.connection_id.as_str(),
                    frame.malformed.is_some(),
                )
            })
        },
        collapsed,
    )
}

fn group_by<'a>(
    positions: &[u32],
    describe: impl Fn(u32) -> Option<(Transport, &'a str, bool)>,
    collapsed: &HashSet<String>,
) -> Vec<GroupedRow> {
    let mut groups: Vec<(ConnectionGroup, Vec<u32>)> = Vec::new();
    let mut group_of: HashMap<(Transport, &str), usize> = HashMap::new();
    for &position in positions {
        let Some((transport, connection_id, is_error)) = describe(position) else {
            continue;
        };
        let connection_id = if transport == Transport::Http {
            ""
        } else {
            connection_id
        };
        let index = *group_of
            .entry((transport, connection_id))
            .or_insert_with(|| {
                groups.push((
                    ConnectionGroup {
                        connection_id: connection_id.to_owned(),
                        transport,
                        rows: 0,
                        errors: 0,
                        collapsed: false,
                    },
                    Vec::new(),
                ));
                groups.len() - 1
            });
        let (group, rows) = &mut groups[index];
        group.rows += 1;
        group.errors += usize::from(is_error);
        rows.push(position);
    }
    let mut lines = Vec::with_capacity(positions.len() + groups.len());
    for (mut group, rows) in groups {
        group.collapsed = collapsed.contains(&group.key());
        let hide = group.collapsed;
        lines.push(GroupedRow::Group(group));
        if !hide {
            lines.extend(rows.into_iter().map(GroupedRow::Row));
        }
    }
    lines
}

/// Position of the row after (`step` = 1) or before (`step` = -1) `current` in `rows`, for
/// keyboard navigation; the first (or last) row when nothing is selected; `None` when
/// `rows` is empty. Stops at the ends.
pub fn step_selection<T: PartialEq>(rows: &[T], current: Option<&T>, step: isize) -> Option<usize> {
    if rows.is_empty() {
        return None;
    }
    let last = rows.len() - 1;
    let Some(index) = current.and_then(|current| rows.iter().position(|row| row == current)) else {
        return Some(if step < 0 { last } else { 0 });
    };
    Some(index.saturating_add_signed(step).min(last))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::model::Protocol;

    fn call(call_id: u64, method: &str, transport: Transport, outcome: Outcome) -> Call {
        Call {
            call_id,
            session_id: "s".into(),
            connection_id: format!("{}-{}", transport.as_str(), call_id % 2),
            transport,
            protocol: Protocol::JsonRpc2,
            method: method.into(),
            request_id: Some(call_id.to_string()),
            kind: CallKind::Call,
            outcome,
            error_code: None,
            error_message: None,
            started_micros: 1_000 + call_id,
            ended_micros: None,
            latency_micros: Some(100 * (10 - call_id)),
            request_frame_id: Some(call_id),
            response_frame_id: None,
            request_size_bytes: call_id,
            response_size_bytes: 0,
        }
    }

    #[test]
    fn window_covers_the_viewport_plus_overscan() {
        let window = row_window(200.0, 100.0, 20, 1_000, 5);
        assert_eq!(window.first, 5);
        assert_eq!(window.end, 10 + 6 + 5);
        assert_eq!(window.space_above_px, 100);
        assert_eq!(window.space_below_px, (1_000 - 21) * 20);
        assert_eq!(window.len(), 16);
    }

    #[test]
    fn window_is_clamped_at_both_ends() {
        assert_eq!(row_window(0.0, 100.0, 20, 3, 5).end, 3);
        let past_end = row_window(1e9, 100.0, 20, 3, 5);
        assert!(past_end.first <= past_end.end && past_end.end == 3);
        assert!(row_window(f64::NAN, f64::INFINITY, 0, 0, 2).is_empty());
    }

    #[test]
    fn sorting_by_latency_puts_unknown_last_and_breaks_ties_by_id() {
        let mut calls: Vec<Call> = (0..4)
            .map(|id| call(id, "A", Transport::Http, Outcome::Ok))
            .collect();
        calls[1].latency_micros = None;
        calls[3].latency_micros = calls[2].latency_micros;
        let mut positions = vec![0, 1, 2, 3, 99];
        sort_calls(
            &calls,
            &mut positions,
            Column::Latency,
            SortOrder::Ascending,
        );
        assert_eq!(positions, vec![2, 3, 0, 1]);
        sort_calls(
            &calls,
            &mut positions,
            Column::Latency,
            SortOrder::Descending,
        );
        assert_eq!(positions, vec![1, 0, 3, 2]);
    }

    #[test]
    fn request_ids_sort_numerically() {
        let mut calls: Vec<Call> = (0..3)
            .map(|id| call(id, "A", Transport::Http, Outcome::Ok))
            .collect();
        calls[0].request_id = Some("10".into());
        calls[1].request_id = Some("9".into());
        calls[2].request_id = Some("\"abc\"".into());
        let mut positions = vec![0, 1, 2];
        sort_calls(
            &calls,
            &mut positions,
            Column::RequestId,
            SortOrder::Ascending,
        );
        assert_eq!(positions, vec![1, 0, 2]);
    }

    #[test]
    fn quick_filter_hides_transports_errors_and_keepalives() {
        let ok = call(1, "Arith.Multiply", Transport::Websocket, Outcome::Ok);
        let failed = call(2, "Arith.Divide", Transport::Http, Outcome::Error);
        let ping = call(3, "System.Ping", Transport::Websocket, Outcome::Ok);
        let mut filter = QuickFilter::default();
        assert!(filter.is_inactive());
        assert!([&ok, &failed, &ping].iter().all(|c| filter.matches_call(c)));
        filter.hide_notifications_and_pings = true;
        assert!(!filter.matches_call(&ping));
        assert!(filter.matches_call(&ok));
        filter.errors_only = true;
        assert!(!filter.matches_call(&ok) && filter.matches_call(&failed));
        filter.hidden_transports[transport_index(Transport::Http)] = true;
        assert!(!filter.matches_call(&failed));
        assert!(is_keepalive_method("rpc/heartbeat") && is_keepalive_method("PING"));
        assert!(!is_keepalive_method("Shipping.Quote"));
    }

    #[test]
    fn grouping_keeps_first_appearance_order_and_honours_collapse() {
        let calls = vec![
            call(0, "A", Transport::Websocket, Outcome::Ok),
            call(1, "B", Transport::Http, Outcome::Error),
            call(2, "C", Transport::Websocket, Outcome::Ok),
            call(3, "D", Transport::Http, Outcome::Ok),
            call(4, "E", Transport::Websocket, Outcome::Error),
        ];
        let lines = group_calls_by_connection(&calls, &[0, 1, 2, 3, 4], &HashSet::new());
        let shape: Vec<String> = lines
            .iter()
            .map(|line| match line {
                GroupedRow::Group(group) => {
                    format!(
                        "[{} {} {}/{}]",
                        group.key(),
                        group.rows,
                        group.errors,
                        group.rows
                    )
                }
                GroupedRow::Row(position) => position.to_string(),
            })
            .collect();
        assert_eq!(
            shape,
            [
                "[websocket:websocket-0 3 1/3]",
                "0",
                "2",
                "4",
                "[http: 2 1/2]",
                "1",
                "3"
            ]
        );
        let collapsed: HashSet<String> = ["websocket:websocket-0".to_owned()].into();
        let lines = group_calls_by_connection(&calls, &[0, 1, 2, 3, 4], &collapsed);
        assert_eq!(lines.len(), 4);
        assert!(matches!(&lines[0], GroupedRow::Group(group) if group.collapsed));
    }

    #[test]
    fn selection_steps_and_stops_at_the_ends() {
        let rows = [10, 20, 30];
        assert_eq!(step_selection(&rows, None, 1), Some(0));
        assert_eq!(step_selection(&rows, None, -1), Some(2));
        assert_eq!(step_selection(&rows, Some(&20), 1), Some(2));
        assert_eq!(step_selection(&rows, Some(&30), 1), Some(2));
        assert_eq!(step_selection(&rows, Some(&10), -1), Some(0));
        assert_eq!(step_selection::<u32>(&[], None, 1), None);
    }

    #[test]
    fn directions() {
        let mut notification = call(1, "Push", Transport::Websocket, Outcome::Ok);
        notification.kind = CallKind::Notification;
        assert_eq!(
            call_direction(&notification, Some(Direction::Received)),
            CallDirection::Received
        );
        assert_eq!(
            call_direction(&notification, Some(Direction::Sent)).arrow(),
            "↑"
        );
        let orphan = call(2, "X", Transport::Websocket, Outcome::Orphan);
        assert_eq!(call_direction(&orphan, None), CallDirection::Received);
    }
}
