//! Shared-memory channels: what each `SharedArrayBuffer` channel between a page and its
//! workers is doing, channel by channel.
//!
//! Data enters as the shared-memory capture events of [`crate::event`]
//! ([`EventBody::ShmChannel`], [`EventBody::ShmMessage`], [`EventBody::ShmState`],
//! [`EventBody::ShmActivity`]) through [`ShmTracker::ingest`]; [`crate::session::Session`]
//! feeds its tracker with every event it ingests, and turns the messages themselves into
//! frames and calls with the usual decoders. Data leaves as [`ShmChannelStats`] rows
//! ([`ShmTracker::channels`], sorted by first appearance then connection and channel name)
//! and their [`ShmChannelSummary`]: request-to-response latency (mailbox), time spent
//! waiting, notify and wake counts, ring occupancy and consumer lag over time, and whether a
//! mailbox is stuck in REQUEST ([`ShmTracker::mark_stuck`], given the time by the caller).
//!
//! Events from different threads reach the core in arrival order, which is not always
//! their time order (a worker forwards its events in batches). Pairing is therefore done by
//! time: a response pairs with the latest unanswered request published before it, and a ring
//! frame's consumption is found from the tail positions whenever they arrive.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::event::{CaptureEvent, EventBody, ShmRole};

/// Mailbox command values of the seed's layout.
pub mod command {
    /// Nothing in flight.
    pub const IDLE: i64 = 0;
    /// A request payload is in the buffer.
    pub const REQUEST: i64 = 1;
    /// A response payload is in the buffer.
    pub const RESPONSE: i64 = 2;
}

/// Bytes of the length prefix in front of each ring frame.
pub const RING_PREFIX_BYTES: u64 = 4;

/// Most samples kept per series (occupancy, lag) per channel; older ones are dropped and
/// counted in [`ShmChannelStats::samples_dropped`].
pub const MAX_SAMPLES_PER_SERIES: usize = 2048;
/// Most unanswered mailbox requests remembered per channel.
const MAX_OPEN_REQUESTS: usize = 256;
/// Most ring frames awaiting consumption remembered per channel.
const MAX_UNCONSUMED_FRAMES: usize = 4096;
/// Most tail advances remembered for frames that are reported after their consumption.
const MAX_TAIL_HISTORY: usize = 1024;

/// The layout of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShmLayout {
    /// Command word, length word, payload region (the seed's "local service bus").
    Mailbox,
    /// Single-producer single-consumer ring of length-prefixed frames.
    Ring,
    /// No registered layout: only Atomics activity is known.
    Raw,
}

impl ShmLayout {
    fn parse(text: &str) -> Self {
        match text {
            "mailbox" => ShmLayout::Mailbox,
            "ring" => ShmLayout::Ring,
            _ => ShmLayout::Raw,
        }
    }

    /// The name used in events and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ShmLayout::Mailbox => "mailbox",
            ShmLayout::Ring => "ring",
            ShmLayout::Raw => "raw",
        }
    }
}

/// One point of a series over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// When, microseconds since the Unix epoch.
    pub time_micros: u64,
    /// The value (bytes for occupancy, microseconds for lag).
    pub value: u64,
}

/// Quantiles of a latency distribution, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LatencySummary {
    /// Samples.
    pub count: u64,
    /// Smallest.
    pub min_micros: u64,
    /// Median.
    pub p50_micros: u64,
    /// 95th percentile.
    pub p95_micros: u64,
    /// 99th percentile.
    pub p99_micros: u64,
    /// Largest.
    pub max_micros: u64,
}

fn summarize(histogram: &Histogram<u64>) -> LatencySummary {
    if histogram.is_empty() {
        return LatencySummary::default();
    }
    LatencySummary {
        count: histogram.len(),
        min_micros: histogram.min(),
        p50_micros: histogram.value_at_quantile(0.5),
        p95_micros: histogram.value_at_quantile(0.95),
        p99_micros: histogram.value_at_quantile(0.99),
        max_micros: histogram.max(),
    }
}

fn new_histogram() -> Option<Histogram<u64>> {
    // Three significant digits, auto-resizing: microsecond latencies of any size.
    Histogram::new(3).ok()
}

/// Everything known about one channel (or one unregistered buffer).
#[derive(Debug, Clone)]
pub struct ShmChannelStats {
    /// Page/session.
    pub session_id: String,
    /// Connection id (the buffer id, or the group given at registration).
    pub connection_id: String,
    /// Channel name; empty for a buffer without registration (or for activity outside any
    /// registered channel's control words).
    pub name: String,
    /// Layout.
    pub layout: ShmLayout,
    /// `byteLength` of the buffer, when reported.
    pub byte_length: u64,
    /// Mailbox payload region or ring data region size, when registered.
    pub capacity_bytes: Option<u64>,
    /// Threads seen using it (`page`, `worker-1`, ...), sorted.
    pub threads: BTreeSet<String>,
    /// First event.
    pub first_event_micros: u64,
    /// Last event.
    pub last_event_micros: u64,
    /// Messages published (mailbox requests and responses, ring frames).
    pub messages: u64,
    /// Mailbox requests published.
    pub requests: u64,
    /// Mailbox responses published.
    pub responses: u64,
    /// Responses with no unanswered request before them.
    pub unmatched_responses: u64,
    /// Bytes of payload published.
    pub payload_bytes: u64,
    /// Atomics calls per operation name, all threads.
    pub operations: BTreeMap<String, u64>,
    /// `Atomics.notify` calls.
    pub notify_calls: u64,
    /// Waiters woken according to `Atomics.notify`'s return values.
    pub woken: u64,
    /// Waits (`Atomics.wait`/`waitAsync`) that ended.
    pub waits: u64,
    /// Waits woken by a notify (`ok`).
    pub wait_woken: u64,
    /// Waits that timed out.
    pub wait_timeouts: u64,
    /// Waits that returned `not-equal` at once.
    pub wait_not_equal: u64,
    /// Time spent waiting, microseconds, all threads.
    pub wait_micros: u64,
    /// Mailbox: last command value stored, and when.
    pub command: Option<(i64, u64)>,
    /// Mailbox: since when a request has been waiting for its response, if one is.
    pub pending_request_since_micros: Option<u64>,
    /// Mailbox: set by [`ShmTracker::mark_stuck`] when the pending request is older than
    /// the timeout; the time the request was published.
    pub stuck_since_micros: Option<u64>,
    /// Ring: occupancy in bytes over time (from every publish and consume).
    pub occupancy: VecDeque<Sample>,
    /// Ring: highest occupancy seen, bytes.
    pub max_occupancy_bytes: u64,
    /// Ring: consumer lag (publish to consumption) over time, microseconds.
    pub consumer_lag: VecDeque<Sample>,
    /// Samples dropped from the two series above to stay within
    /// [`MAX_SAMPLES_PER_SERIES`].
    pub samples_dropped: u64,
    latency: Option<Histogram<u64>>,
    lag: Option<Histogram<u64>>,
    open_requests: VecDeque<u64>,
    /// Responses that arrived before any request published earlier (other thread's batch).
    early_responses: VecDeque<u64>,
    ring: RingProgress,
}

#[derive(Debug, Clone, Default)]
struct RingProgress {
    capacity: u64,
    /// First position seen; linear positions count bytes from it.
    origin: Option<u64>,
    /// End of the last published frame (ring position) and its linear position.
    published_end: Option<u64>,
    published_total: u64,
    /// Last tail stored by the consumer and its linear position.
    tail: Option<u64>,
    consumed_total: u64,
    unconsumed: VecDeque<(u64, u64)>,
    tail_history: VecDeque<(u64, u64)>,
}

/// A serializable digest of a channel for views and exports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShmChannelSummary {
    /// Page/session.
    pub session_id: String,
    /// Connection id.
    pub connection_id: String,
    /// Channel name (empty for raw buffer activity).
    pub name: String,
    /// Layout.
    pub layout: ShmLayout,
    /// Threads seen, comma separated.
    pub threads: String,
    /// Messages published.
    pub messages: u64,
    /// Mailbox request-to-response latency.
    pub latency: LatencySummary,
    /// Time spent waiting, microseconds.
    pub wait_micros: u64,
    /// Waits that ended.
    pub waits: u64,
    /// `Atomics.notify` calls.
    pub notify_calls: u64,
    /// Waiters woken by notifies.
    pub woken: u64,
    /// Atomics calls of all kinds.
    pub atomics_calls: u64,
    /// Ring: last occupancy, bytes.
    pub occupancy_bytes: Option<u64>,
    /// Ring: highest occupancy, bytes.
    pub max_occupancy_bytes: u64,
    /// Ring: consumer lag.
    pub consumer_lag: LatencySummary,
    /// Mailbox stuck in REQUEST since (microseconds since epoch), if it is.
    pub stuck_since_micros: Option<u64>,
}

impl ShmChannelStats {
    fn new(session_id: &str, connection_id: &str, name: &str, time_micros: u64) -> Self {
        ShmChannelStats {
            session_id: session_id.to_owned(),
            connection_id: connection_id.to_owned(),
            name: name.to_owned(),
            layout: ShmLayout::Raw,
            byte_length: 0,
            capacity_bytes: None,
            threads: BTreeSet::new(),
            first_event_micros: time_micros,
            last_event_micros: time_micros,
            messages: 0,
            requests: 0,
            responses: 0,
            unmatched_responses: 0,
            payload_bytes: 0,
            operations: BTreeMap::new(),
            notify_calls: 0,
            woken: 0,
            waits: 0,
            wait_woken: 0,
            wait_timeouts: 0,
            wait_not_equal: 0,
            wait_micros: 0,
            command: None,
            pending_request_since_micros: None,
            stuck_since_micros: None,
            occupancy: VecDeque::new(),
            max_occupancy_bytes: 0,
            consumer_lag: VecDeque::new(),
            samples_dropped: 0,
            latency: new_histogram(),
            lag: new_histogram(),
            open_requests: VecDeque::new(),
            early_responses: VecDeque::new(),
            ring: RingProgress::default(),
        }
    }

    /// Mailbox request-to-response latency.
    pub fn latency(&self) -> LatencySummary {
        self.latency.as_ref().map(summarize).unwrap_or_default()
    }

    /// Ring consumer lag (publish to consumption).
    pub fn lag(&self) -> LatencySummary {
        self.lag.as_ref().map(summarize).unwrap_or_default()
    }

    /// The digest of this channel.
    pub fn summary(&self) -> ShmChannelSummary {
        ShmChannelSummary {
            session_id: self.session_id.clone(),
            connection_id: self.connection_id.clone(),
            name: self.name.clone(),
            layout: self.layout,
            threads: self
                .threads
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            messages: self.messages,
            latency: self.latency(),
            wait_micros: self.wait_micros,
            waits: self.waits,
            notify_calls: self.notify_calls,
            woken: self.woken,
            atomics_calls: self.operations.values().sum(),
            occupancy_bytes: self.occupancy.back().map(|sample| sample.value),
            max_occupancy_bytes: self.max_occupancy_bytes,
            consumer_lag: self.lag(),
            stuck_since_micros: self.stuck_since_micros,
        }
    }

    /// When the pending mailbox request started, if it has waited more than
    /// `timeout_micros` at `now_micros` (a read-only [`ShmTracker::mark_stuck`]).
    pub fn stuck_since(&self, now_micros: u64, timeout_micros: u64) -> Option<u64> {
        self.pending_request_since_micros
            .filter(|&since| now_micros.saturating_sub(since) > timeout_micros)
    }

    fn push_sample(series: &mut VecDeque<Sample>, dropped: &mut u64, sample: Sample) {
        if series.len() >= MAX_SAMPLES_PER_SERIES {
            series.pop_front();
            *dropped += 1;
        }
        series.push_back(sample);
    }

    fn record_latency(&mut self, micros: u64) {
        if let Some(histogram) = self.latency.as_mut() {
            histogram.saturating_record(micros);
        }
    }

    fn refresh_pending(&mut self) {
        self.pending_request_since_micros = self.open_requests.front().copied();
        if self.pending_request_since_micros.is_none() {
            self.stuck_since_micros = None;
        }
    }

    fn mailbox_request(&mut self, time_micros: u64) {
        self.requests += 1;
        if self.open_requests.len() >= MAX_OPEN_REQUESTS {
            self.open_requests.pop_front();
        }
        // A response already reported with a later time answers this request.
        if let Some(position) = self
            .early_responses
            .iter()
            .position(|&response| response >= time_micros)
            && let Some(response) = self.early_responses.remove(position)
        {
            self.unmatched_responses = self.unmatched_responses.saturating_sub(1);
            self.record_latency(response.saturating_sub(time_micros));
            return;
        }
        let index = self
            .open_requests
            .iter()
            .position(|&open| open > time_micros)
            .unwrap_or(self.open_requests.len());
        self.open_requests.insert(index, time_micros);
        self.refresh_pending();
    }

    fn mailbox_response(&mut self, time_micros: u64) {
        self.responses += 1;
        // The latest unanswered request published before this response.
        let position = self
            .open_requests
            .iter()
            .rposition(|&open| open <= time_micros);
        match position.and_then(|index| self.open_requests.remove(index)) {
            Some(request) => {
                // Requests older than the one answered were abandoned by the app.
                self.record_latency(time_micros.saturating_sub(request));
            }
            None => {
                self.unmatched_responses += 1;
                if self.early_responses.len() >= MAX_OPEN_REQUESTS {
                    self.early_responses.pop_front();
                }
                self.early_responses.push_back(time_micros);
            }
        }
        self.refresh_pending();
    }

    fn mailbox_idle(&mut self, time_micros: u64) {
        // IDLE after a request means the exchange is over, whatever the order of arrival.
        self.open_requests.retain(|&open| open > time_micros);
        self.refresh_pending();
    }

    /// Occupancy sample from the head and tail seen together by one thread.
    fn ring_occupancy(&mut self, time_micros: u64, head: Option<u64>, tail: Option<u64>) {
        let capacity = self.ring.capacity;
        if let (Some(head), Some(tail)) = (head, tail)
            && capacity > 0
        {
            let occupancy = (head % capacity + capacity - tail % capacity) % capacity;
            self.max_occupancy_bytes = self.max_occupancy_bytes.max(occupancy);
            Self::push_sample(
                &mut self.occupancy,
                &mut self.samples_dropped,
                Sample {
                    time_micros,
                    value: occupancy,
                },
            );
        }
    }

    /// Distance of a ring position from the first position seen, the origin of the linear
    /// (never wrapping) positions.
    fn ring_offset(&mut self, position: u64) -> u64 {
        let capacity = self.ring.capacity;
        let origin = *self.ring.origin.get_or_insert(position % capacity);
        (position % capacity + capacity - origin) % capacity
    }

    /// A tail store by the consumer: frames up to the new tail are consumed.
    fn ring_tail(&mut self, time_micros: u64, tail: u64) {
        let capacity = self.ring.capacity;
        if capacity == 0 {
            return;
        }
        match self.ring.tail {
            None => self.ring.consumed_total = self.ring_offset(tail),
            Some(previous) => {
                self.ring.consumed_total +=
                    (tail % capacity + capacity - previous % capacity) % capacity;
            }
        }
        self.ring.tail = Some(tail);
        if self.ring.tail_history.len() >= MAX_TAIL_HISTORY {
            self.ring.tail_history.pop_front();
        }
        self.ring
            .tail_history
            .push_back((self.ring.consumed_total, time_micros));
        self.consume_frames(time_micros);
    }

    fn record_lag(&mut self, time_micros: u64, lag_micros: u64) {
        if let Some(histogram) = self.lag.as_mut() {
            histogram.saturating_record(lag_micros);
        }
        Self::push_sample(
            &mut self.consumer_lag,
            &mut self.samples_dropped,
            Sample {
                time_micros,
                value: lag_micros,
            },
        );
    }

    fn consume_frames(&mut self, time_micros: u64) {
        while let Some(&(end, published)) = self.ring.unconsumed.front() {
            if end > self.ring.consumed_total {
                break;
            }
            self.ring.unconsumed.pop_front();
            self.record_lag(time_micros, time_micros.saturating_sub(published));
        }
    }

    fn ring_frame(&mut self, time_micros: u64, frame_end: Option<u64>, frame_bytes: u64) {
        let capacity = self.ring.capacity;
        let Some(frame_end) = frame_end.filter(|_| capacity > 0) else {
            return;
        };
        let end_total = match self.ring.published_end {
            Some(previous) => {
                self.ring.published_total
                    + (frame_end % capacity + capacity - previous % capacity) % capacity
            }
            None => {
                let start = (frame_end % capacity + capacity - frame_bytes % capacity) % capacity;
                self.ring_offset(start) + frame_bytes
            }
        };
        self.ring.published_total = end_total;
        self.ring.published_end = Some(frame_end);
        if end_total <= self.ring.consumed_total && self.ring.tail.is_some() {
            // Consumed before its publication reached us (another thread's batch).
            let consumed_at = self
                .ring
                .tail_history
                .iter()
                .find(|&&(consumed, _)| consumed >= end_total)
                .map(|&(_, time)| time);
            if let Some(consumed_at) = consumed_at {
                self.record_lag(consumed_at, consumed_at.saturating_sub(time_micros));
            }
            return;
        }
        if self.ring.unconsumed.len() >= MAX_UNCONSUMED_FRAMES {
            self.ring.unconsumed.pop_front();
        }
        self.ring.unconsumed.push_back((end_total, time_micros));
    }
}

/// Per-channel statistics of every shared-memory channel seen. See the module docs.
#[derive(Debug, Clone, Default)]
pub struct ShmTracker {
    channels: BTreeMap<(String, String, String), ShmChannelStats>,
}

impl ShmTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        ShmTracker::default()
    }

    /// Takes one event; returns false (and changes nothing) for events that are not about
    /// shared memory.
    pub fn ingest(&mut self, event: &CaptureEvent) -> bool {
        let time_micros = event.time_micros;
        let (name, thread) = match &event.body {
            EventBody::ShmChannel { name, thread, .. } => (name, thread),
            EventBody::ShmMessage {
                channel, thread, ..
            }
            | EventBody::ShmState {
                channel, thread, ..
            }
            | EventBody::ShmActivity {
                channel, thread, ..
            } => (channel, thread),
            _ => return false,
        };
        let key = (
            event.session_id.clone(),
            event.connection_id.clone(),
            name.clone(),
        );
        let stats = self.channels.entry(key).or_insert_with(|| {
            ShmChannelStats::new(&event.session_id, &event.connection_id, name, time_micros)
        });
        stats.first_event_micros = stats.first_event_micros.min(time_micros);
        stats.last_event_micros = stats.last_event_micros.max(time_micros);
        if !thread.is_empty() && !stats.threads.contains(thread) {
            stats.threads.insert(thread.clone());
        }
        match &event.body {
            EventBody::ShmChannel {
                layout,
                byte_length,
                capacity_bytes,
                ..
            } => {
                let layout = ShmLayout::parse(layout);
                if layout != ShmLayout::Raw || stats.layout == ShmLayout::Raw {
                    stats.layout = layout;
                }
                if *byte_length > 0 {
                    stats.byte_length = *byte_length;
                }
                if capacity_bytes.is_some() {
                    stats.capacity_bytes = *capacity_bytes;
                    stats.ring.capacity = capacity_bytes.unwrap_or(0);
                }
            }
            EventBody::ShmMessage {
                role,
                payload,
                head,
                tail,
                frame_end,
                ..
            } => {
                stats.messages += 1;
                stats.payload_bytes += payload.size_bytes;
                match role {
                    ShmRole::Request => {
                        stats.layout = ShmLayout::Mailbox;
                        stats.command = Some((command::REQUEST, time_micros));
                        stats.mailbox_request(time_micros);
                    }
                    ShmRole::Response => {
                        stats.layout = ShmLayout::Mailbox;
                        stats.command = Some((command::RESPONSE, time_micros));
                        stats.mailbox_response(time_micros);
                    }
                    ShmRole::Frame => {
                        stats.layout = ShmLayout::Ring;
                        let frame_bytes = payload.size_bytes + RING_PREFIX_BYTES;
                        stats.ring_frame(time_micros, *frame_end, frame_bytes);
                        stats.ring_occupancy(time_micros, *head, *tail);
                    }
                }
            }
            EventBody::ShmState {
                command: stored,
                head,
                tail,
                ..
            } => {
                if let Some(value) = stored {
                    stats.command = Some((*value, time_micros));
                    if *value == command::IDLE {
                        stats.mailbox_idle(time_micros);
                    }
                }
                if let Some(tail) = tail {
                    stats.ring_tail(time_micros, *tail);
                }
                stats.ring_occupancy(time_micros, *head, *tail);
            }
            EventBody::ShmActivity {
                byte_length,
                operations,
                notify_calls,
                woken,
                waits,
                wait_micros,
                wait_woken,
                wait_timeouts,
                wait_not_equal,
                ..
            } => {
                if *byte_length > 0 && stats.byte_length == 0 {
                    stats.byte_length = *byte_length;
                }
                for (operation, count) in operations {
                    *stats.operations.entry(operation.clone()).or_insert(0) += count;
                }
                stats.notify_calls += notify_calls;
                stats.woken += woken;
                stats.waits += waits;
                stats.wait_micros += wait_micros;
                stats.wait_woken += wait_woken;
                stats.wait_timeouts += wait_timeouts;
                stats.wait_not_equal += wait_not_equal;
            }
            _ => {}
        }
        true
    }

    /// Marks mailbox channels whose pending request is older than `timeout_micros` at
    /// `now_micros` as stuck (and clears the mark of those that are not any more). Returns
    /// how many channels are stuck.
    pub fn mark_stuck(&mut self, now_micros: u64, timeout_micros: u64) -> usize {
        let mut stuck = 0;
        for stats in self.channels.values_mut() {
            stats.stuck_since_micros = stats
                .pending_request_since_micros
                .filter(|&since| now_micros.saturating_sub(since) > timeout_micros);
            if stats.stuck_since_micros.is_some() {
                stuck += 1;
            }
        }
        stuck
    }

    /// Channels in order of first appearance, ties broken by connection id and name.
    pub fn channels(&self) -> Vec<&ShmChannelStats> {
        let mut list: Vec<&ShmChannelStats> = self.channels.values().collect();
        list.sort_by(|a, b| {
            (a.first_event_micros, &a.connection_id, &a.name).cmp(&(
                b.first_event_micros,
                &b.connection_id,
                &b.name,
            ))
        });
        list
    }

    /// One channel.
    pub fn channel(
        &self,
        session_id: &str,
        connection_id: &str,
        name: &str,
    ) -> Option<&ShmChannelStats> {
        self.channels.get(&(
            session_id.to_owned(),
            connection_id.to_owned(),
            name.to_owned(),
        ))
    }

    /// Number of channels (and raw buffers) tracked.
    pub fn len(&self) -> usize {
        self.channels.len()
    }

    /// True when no shared-memory event was seen.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }
}

/// The last `width` values of a series as a text sparkline (`▁` lowest to `█` highest,
/// scaled to the largest shown), for compact "over time" cells. Empty for an empty series.
pub fn sparkline(samples: &VecDeque<Sample>, width: usize) -> String {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let skip = samples.len().saturating_sub(width);
    let shown: Vec<u64> = samples
        .iter()
        .skip(skip)
        .map(|sample| sample.value)
        .collect();
    let highest = shown.iter().copied().max().unwrap_or(0);
    shown
        .iter()
        .map(|&value| {
            let level = if highest == 0 {
                0
            } else {
                ((value as u128 * 7 + highest as u128 / 2) / highest as u128) as usize
            };
            LEVELS[level.min(7)]
        })
        .collect()
}
