//! Call statistics: counts, errors, error rates, latency quantiles and throughput over time.
//!
//! Data enters as [`Call`]s, either all at once ([`StatsAccumulator::from_calls`], what
//! `framescope analyze` uses) or one by one as a live session produces and updates them
//! ([`StatsAccumulator::observe`], what the dashboard uses). It leaves as plain numbers:
//! [`GroupStats`] per method, per transport and in total, [`LatencySummary`] quantiles,
//! [`HistogramBucket`]s for a latency chart and [`TimeBucket`]s for throughput/error charts.
//!
//! Latencies are kept in HdrHistograms with three significant decimal digits: a quantile is
//! reported as the highest value equivalent to the exact sample at that rank, so it is never
//! lower than the exact value and at most 0.1% (plus one microsecond) above it. Minimum,
//! maximum and mean are exact.
//!
//! A call is counted once per `call_id`. When a live call changes (pending -> ok, an orphan
//! response later matched to its request) observing it again replaces its old contribution,
//! so the totals always describe the latest state of every call observed. Statistics are
//! cumulative: a call evicted from the session store stays counted (use
//! [`StatsAccumulator::forget_call`] to stop tracking it for updates).

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::model::{Call, Outcome, Transport};

/// Significant decimal digits kept by every latency histogram (0.1% relative precision).
pub const LATENCY_SIGNIFICANT_FIGURES: u8 = 3;

/// Default width of a throughput bucket: one second.
pub const DEFAULT_BUCKET_WIDTH_MICROS: u64 = 1_000_000;

/// All outcomes in a fixed order; indexes into [`OutcomeCounts`].
pub const ALL_OUTCOMES: [Outcome; 7] = [
    Outcome::Ok,
    Outcome::Error,
    Outcome::Pending,
    Outcome::Timeout,
    Outcome::Orphan,
    Outcome::Duplicate,
    Outcome::Invalid,
];

fn outcome_index(outcome: Outcome) -> usize {
    match outcome {
        Outcome::Ok => 0,
        Outcome::Error => 1,
        Outcome::Pending => 2,
        Outcome::Timeout => 3,
        Outcome::Orphan => 4,
        Outcome::Duplicate => 5,
        Outcome::Invalid => 6,
    }
}

/// A latency histogram in microseconds with exact minimum, maximum and mean.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    histogram: Histogram<u64>,
    min_micros: u64,
    max_micros: u64,
    sum_micros: u128,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram that grows to whatever range it is given.
    pub fn new() -> Self {
        // Creation only fails for sigfig > 5 or bounds below 1, and both are constants here.
        #[allow(clippy::expect_used)]
        let histogram = Histogram::<u64>::new(LATENCY_SIGNIFICANT_FIGURES)
            .expect("a histogram with constant valid bounds can always be created");
        Self {
            histogram,
            min_micros: u64::MAX,
            max_micros: 0,
            sum_micros: 0,
        }
    }

    /// Records one latency.
    pub fn record(&mut self, latency_micros: u64) {
        // `record` grows the histogram; it only refuses values near u64::MAX, which then
        // saturate at the largest trackable value.
        if self.histogram.record(latency_micros).is_err() {
            self.histogram.saturating_record(latency_micros);
        }
        self.min_micros = self.min_micros.min(latency_micros);
        self.max_micros = self.max_micros.max(latency_micros);
        self.sum_micros += u128::from(latency_micros);
    }

    /// Removes one previously recorded latency. Returns false (and changes nothing) when no
    /// such value was recorded. The exact minimum and maximum become those of the histogram's
    /// remaining buckets when the removed value was the extreme.
    pub fn remove(&mut self, latency_micros: u64) -> bool {
        if self.histogram.count_at(latency_micros) == 0 {
            return false;
        }
        let Ok(mut single) = Histogram::<u64>::new_with_bounds(
            1,
            latency_micros.max(2),
            LATENCY_SIGNIFICANT_FIGURES,
        ) else {
            return false;
        };
        if single.record(latency_micros).is_err() || self.histogram.subtract(&single).is_err() {
            return false;
        }
        self.sum_micros = self.sum_micros.saturating_sub(u128::from(latency_micros));
        if self.histogram.is_empty() {
            self.min_micros = u64::MAX;
            self.max_micros = 0;
        } else {
            if latency_micros <= self.min_micros {
                self.min_micros = self.histogram.min();
            }
            if latency_micros >= self.max_micros {
                self.max_micros = self.histogram.max();
            }
        }
        true
    }

    /// Number of latencies recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    /// The latency at `quantile` (in [0, 1]) by nearest rank, or `None` when empty. Never below
    /// the exact sample at that rank and within 0.1% (+1 µs) above it.
    pub fn value_at_quantile(&self, quantile: f64) -> Option<u64> {
        if self.is_empty() {
            return None;
        }
        if quantile.is_nan() || quantile <= 0.0 {
            return Some(self.min_micros);
        }
        // The histogram reports the top of the bucket; it can exceed the exact maximum.
        Some(
            self.histogram
                .value_at_quantile(quantile.min(1.0))
                .min(self.max_micros),
        )
    }

    /// Exact smallest latency recorded.
    pub fn min_micros(&self) -> Option<u64> {
        (!self.is_empty()).then_some(self.min_micros)
    }

    /// Exact largest latency recorded.
    pub fn max_micros(&self) -> Option<u64> {
        (!self.is_empty()).then_some(self.max_micros)
    }

    /// Exact mean latency.
    pub fn mean_micros(&self) -> Option<f64> {
        let count = self.count();
        (count > 0).then(|| self.sum_micros as f64 / count as f64)
    }

    /// The usual quantiles in one value.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.count(),
            min_micros: self.min_micros(),
            p50_micros: self.value_at_quantile(0.50),
            p90_micros: self.value_at_quantile(0.90),
            p95_micros: self.value_at_quantile(0.95),
            p99_micros: self.value_at_quantile(0.99),
            max_micros: self.max_micros(),
            mean_micros: self.mean_micros(),
        }
    }

    /// Buckets for a chart on a logarithmic axis: the first bucket holds latencies below
    /// `first_bucket_micros`, each next bucket ends `log_base` times further, and the last
    /// one holds the maximum. Every recorded latency is in exactly one bucket; empty buckets
    /// between non-empty ones are included so that the axis is continuous. Bounds are those
    /// of the histogram's precision. `first_bucket_micros` below 1 is taken as 1 and a
    /// `log_base` at or below 1 as 2.
    pub fn log_buckets(&self, first_bucket_micros: u64, log_base: f64) -> Vec<HistogramBucket> {
        if self.is_empty() {
            return Vec::new();
        }
        let log_base = if log_base.is_finite() && log_base > 1.0 {
            log_base
        } else {
            2.0
        };
        let mut buckets = Vec::new();
        let mut lower_micros = 0;
        for step in self
            .histogram
            .iter_log(first_bucket_micros.max(1), log_base)
        {
            let upper_micros = step.value_iterated_to();
            buckets.push(HistogramBucket {
                lower_micros,
                upper_micros,
                count: step.count_since_last_iteration(),
            });
            lower_micros = upper_micros.saturating_add(1);
        }
        buckets
    }

    /// Buckets of equal width `width_micros` (at least 1) from zero up to the maximum: the
    /// first holds latencies below `width_micros`.
    pub fn linear_buckets(&self, width_micros: u64) -> Vec<HistogramBucket> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut buckets = Vec::new();
        let mut lower_micros = 0;
        for step in self.histogram.iter_linear(width_micros.max(1)) {
            let upper_micros = step.value_iterated_to();
            buckets.push(HistogramBucket {
                lower_micros,
                upper_micros,
                count: step.count_since_last_iteration(),
            });
            lower_micros = upper_micros.saturating_add(1);
        }
        buckets
    }
}

/// The usual latency figures of a group of calls, in microseconds. `None` when the group has
/// no call with a known latency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Calls with a known latency.
    pub count: u64,
    /// Exact minimum.
    pub min_micros: Option<u64>,
    /// Median.
    pub p50_micros: Option<u64>,
    /// 90th percentile.
    pub p90_micros: Option<u64>,
    /// 95th percentile.
    pub p95_micros: Option<u64>,
    /// 99th percentile.
    pub p99_micros: Option<u64>,
    /// Exact maximum.
    pub max_micros: Option<u64>,
    /// Exact mean.
    pub mean_micros: Option<f64>,
}

/// One bar of a latency chart: latencies in `[lower_micros, upper_micros]` (both inclusive,
/// at the histogram's precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HistogramBucket {
    /// Smallest latency in the bucket.
    pub lower_micros: u64,
    /// Largest latency in the bucket.
    pub upper_micros: u64,
    /// Calls in the bucket.
    pub count: u64,
}

/// Calls per outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutcomeCounts([u64; 7]);

impl OutcomeCounts {
    /// Calls with `outcome`.
    pub fn get(&self, outcome: Outcome) -> u64 {
        self.0[outcome_index(outcome)]
    }

    /// `(outcome, count)` for every outcome, in [`ALL_OUTCOMES`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Outcome, u64)> + '_ {
        ALL_OUTCOMES
            .iter()
            .map(|outcome| (*outcome, self.get(*outcome)))
    }

    fn add(&mut self, outcome: Outcome) {
        self.0[outcome_index(outcome)] += 1;
    }

    fn remove(&mut self, outcome: Outcome) {
        let slot = &mut self.0[outcome_index(outcome)];
        *slot = slot.saturating_sub(1);
    }
}

impl Serialize for OutcomeCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(ALL_OUTCOMES.len()))?;
        for (outcome, count) in self.iter() {
            map.serialize_entry(outcome.as_str(), &count)?;
        }
        map.end()
    }
}

/// Statistics of one group of calls (a method, a transport, or everything).
#[derive(Debug, Clone, Default)]
pub struct GroupStats {
    count: u64,
    errors: u64,
    outcomes: OutcomeCounts,
    latency: LatencyHistogram,
    request_bytes: u64,
    response_bytes: u64,
}

impl GroupStats {
    /// Calls in the group, whatever their outcome.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Calls whose outcome counts as an error ([`Outcome::is_error`]: error, timeout, invalid).
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Calls still waiting for an answer.
    pub fn pending(&self) -> u64 {
        self.outcomes.get(Outcome::Pending)
    }

    /// `errors / (count - pending)`: the share of settled calls that failed, in [0, 1].
    /// `None` while no call has settled.
    pub fn error_rate(&self) -> Option<f64> {
        let settled = self.count.saturating_sub(self.pending());
        (settled > 0).then(|| self.errors as f64 / settled as f64)
    }

    /// Calls per outcome.
    pub fn outcomes(&self) -> &OutcomeCounts {
        &self.outcomes
    }

    /// Latencies of the calls that have one.
    pub fn latency(&self) -> &LatencyHistogram {
        &self.latency
    }

    /// Sum of request payload sizes.
    pub fn request_bytes(&self) -> u64 {
        self.request_bytes
    }

    /// Sum of response payload sizes.
    pub fn response_bytes(&self) -> u64 {
        self.response_bytes
    }

    /// A serialisable snapshot of the group.
    pub fn summary(&self) -> GroupSummary {
        GroupSummary {
            count: self.count,
            errors: self.errors,
            error_rate: self.error_rate(),
            outcomes: self.outcomes,
            latency: self.latency.summary(),
            request_bytes: self.request_bytes,
            response_bytes: self.response_bytes,
        }
    }

    fn add(&mut self, contribution: &Contribution) {
        self.count += 1;
        if contribution.outcome.is_error() {
            self.errors += 1;
        }
        self.outcomes.add(contribution.outcome);
        if let Some(latency_micros) = contribution.latency_micros {
            self.latency.record(latency_micros);
        }
        self.request_bytes = self
            .request_bytes
            .saturating_add(contribution.request_size_bytes);
        self.response_bytes = self
            .response_bytes
            .saturating_add(contribution.response_size_bytes);
    }

    fn remove(&mut self, contribution: &Contribution) {
        self.count = self.count.saturating_sub(1);
        if contribution.outcome.is_error() {
            self.errors = self.errors.saturating_sub(1);
        }
        self.outcomes.remove(contribution.outcome);
        if let Some(latency_micros) = contribution.latency_micros {
            self.latency.remove(latency_micros);
        }
        self.request_bytes = self
            .request_bytes
            .saturating_sub(contribution.request_size_bytes);
        self.response_bytes = self
            .response_bytes
            .saturating_sub(contribution.response_size_bytes);
    }
}

/// A serialisable snapshot of a [`GroupStats`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSummary {
    /// Calls in the group.
    pub count: u64,
    /// Calls counted as errors.
    pub errors: u64,
    /// Errors among settled calls, in [0, 1].
    pub error_rate: Option<f64>,
    /// Calls per outcome.
    pub outcomes: OutcomeCounts,
    /// Latency figures.
    pub latency: LatencySummary,
    /// Sum of request payload sizes.
    pub request_bytes: u64,
    /// Sum of response payload sizes.
    pub response_bytes: u64,
}

/// Calls started within one fixed time window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeBucket {
    /// Start of the window, microseconds since the Unix epoch (a multiple of the width).
    pub start_micros: u64,
    /// Calls whose `started_micros` falls in the window.
    pub calls: u64,
    /// Those of them counted as errors.
    pub errors: u64,
}

/// Settings of a [`StatsAccumulator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsConfig {
    /// Width of a throughput bucket in microseconds (at least 1).
    pub bucket_width_micros: u64,
}

impl Default for StatsConfig {
    fn default() -> Self {
        Self {
            bucket_width_micros: DEFAULT_BUCKET_WIDTH_MICROS,
        }
    }
}

/// A fast multiplicative hasher (the rustc "Fx" scheme) for the accumulator's maps, whose
/// keys are session-assigned call ids and method names; SipHash was the largest single cost
/// of [`StatsAccumulator::observe`]. Not collision-resistant against chosen keys: a page
/// that sent many crafted method names could only slow its own inspection.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

const FAST_HASH_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FAST_HASH_SEED);
    }
}

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// What one call added to the statistics, kept so that it can be replaced when the call
/// changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Contribution {
    method_index: u32,
    transport: Transport,
    outcome: Outcome,
    latency_micros: Option<u64>,
    bucket_start_micros: u64,
    request_size_bytes: u64,
    response_size_bytes: u64,
}

/// Statistics over calls, per method, per transport, in total and over time; updated
/// incrementally.
#[derive(Debug, Clone)]
pub struct StatsAccumulator {
    config: StatsConfig,
    total: GroupStats,
    method_names: Vec<String>,
    method_indexes: FastMap<String, u32>,
    by_method: Vec<GroupStats>,
    /// Indexed by [`transport_index`].
    by_transport: [GroupStats; 4],
    buckets: BTreeMap<u64, TimeBucket>,
    contributions: FastMap<u64, Contribution>,
    /// Contributions counted by [`Self::from_calls`], sorted by call id and moved into
    /// `contributions` only when an update first needs them: the one-shot path never pays
    /// for the map.
    deferred: Vec<(u64, Contribution)>,
}

/// All transports in a fixed order; indexes into the per-transport array.
const ALL_TRANSPORTS: [Transport; 4] = [
    Transport::Http,
    Transport::Websocket,
    Transport::Eventsource,
    Transport::SharedMemory,
];

fn transport_index(transport: Transport) -> usize {
    match transport {
        Transport::Http => 0,
        Transport::Websocket => 1,
        Transport::Eventsource => 2,
        Transport::SharedMemory => 3,
    }
}

impl Default for StatsAccumulator {
    fn default() -> Self {
        Self::new(StatsConfig::default())
    }
}

impl StatsAccumulator {
    /// An empty accumulator.
    pub fn new(config: StatsConfig) -> Self {
        Self {
            config: StatsConfig {
                bucket_width_micros: config.bucket_width_micros.max(1),
            },
            total: GroupStats::default(),
            method_names: Vec::new(),
            method_indexes: FastMap::default(),
            by_method: Vec::new(),
            by_transport: Default::default(),
            buckets: BTreeMap::new(),
            contributions: FastMap::default(),
            deferred: Vec::new(),
        }
    }

    /// Statistics of `calls` (each `call_id` counted once, the last occurrence winning).
    pub fn from_calls<'a>(calls: impl IntoIterator<Item = &'a Call>, config: StatsConfig) -> Self {
        let mut accumulator = Self::new(config);
        let calls = calls.into_iter();
        let mut contributions = Vec::with_capacity(calls.size_hint().0);
        for call in calls {
            let contribution = accumulator.contribution(call);
            contributions.push((call.call_id, contribution));
        }
        // Stable, and linear on the nearly sorted ids a session produces; of equal ids the
        // last stays.
        contributions.sort_by_key(|(call_id, _)| *call_id);
        let mut unique: Vec<(u64, Contribution)> = Vec::with_capacity(contributions.len());
        for (call_id, contribution) in contributions {
            match unique.last_mut() {
                Some(last) if last.0 == call_id => last.1 = contribution,
                _ => unique.push((call_id, contribution)),
            }
        }
        for (_, contribution) in &unique {
            accumulator.apply(contribution);
        }
        accumulator.deferred = unique;
        accumulator
    }

    fn contribution(&mut self, call: &Call) -> Contribution {
        let method_index = self.intern_method(&call.method);
        let width = self.config.bucket_width_micros;
        Contribution {
            method_index,
            transport: call.transport,
            outcome: call.outcome,
            latency_micros: call.latency_micros,
            bucket_start_micros: call.started_micros / width * width,
            request_size_bytes: call.request_size_bytes,
            response_size_bytes: call.response_size_bytes,
        }
    }

    /// Moves the contributions deferred by [`Self::from_calls`] into the update map.
    fn undefer(&mut self) {
        if !self.deferred.is_empty() {
            let deferred = std::mem::take(&mut self.deferred);
            self.contributions.reserve(deferred.len());
            self.contributions.extend(deferred);
        }
    }

    /// The settings in use.
    pub fn config(&self) -> StatsConfig {
        self.config
    }

    /// Counts `call`, or, when a call with the same `call_id` was observed before, replaces
    /// what that earlier state contributed. Observing an unchanged call again is a no-op.
    pub fn observe(&mut self, call: &Call) {
        self.undefer();
        let contribution = self.contribution(call);
        match self.contributions.get(&call.call_id) {
            Some(previous) if *previous == contribution => return,
            Some(previous) => {
                let previous = previous.clone();
                self.retract(&previous);
            }
            None => {}
        }
        self.apply(&contribution);
        self.contributions.insert(call.call_id, contribution);
    }

    /// Stops tracking `call_id` for updates (after the session evicted it). Its contribution
    /// stays counted. Returns false when the call was not tracked.
    pub fn forget_call(&mut self, call_id: u64) -> bool {
        self.undefer();
        self.contributions.remove(&call_id).is_some()
    }

    /// Calls tracked for updates.
    pub fn tracked_calls(&self) -> usize {
        self.contributions.len() + self.deferred.len()
    }

    /// Every call counted.
    pub fn total(&self) -> &GroupStats {
        &self.total
    }

    /// Statistics of one method, if any call of it was counted.
    pub fn method(&self, method: &str) -> Option<&GroupStats> {
        let index = *self.method_indexes.get(method)?;
        self.by_method
            .get(index as usize)
            .filter(|stats| stats.count() > 0)
    }

    /// `(method, stats)` for every method with at least one call, sorted by method name.
    pub fn methods(&self) -> Vec<(&str, &GroupStats)> {
        let mut methods: Vec<(&str, &GroupStats)> = self
            .method_names
            .iter()
            .zip(&self.by_method)
            .filter(|(_, stats)| stats.count() > 0)
            .map(|(name, stats)| (name.as_str(), stats))
            .collect();
        methods.sort_unstable_by(|a, b| a.0.cmp(b.0));
        methods
    }

    /// Statistics of one transport, if any call over it was counted.
    pub fn transport(&self, transport: Transport) -> Option<&GroupStats> {
        Some(&self.by_transport[transport_index(transport)]).filter(|stats| stats.count() > 0)
    }

    /// `(transport, stats)` for every transport with at least one call, in [`Transport`]
    /// order.
    pub fn transports(&self) -> Vec<(Transport, &GroupStats)> {
        ALL_TRANSPORTS
            .iter()
            .zip(&self.by_transport)
            .filter(|(_, stats)| stats.count() > 0)
            .map(|(transport, stats)| (*transport, stats))
            .collect()
    }

    /// Serialisable per-method rows, sorted by method name.
    pub fn method_summaries(&self) -> Vec<MethodSummary> {
        self.methods()
            .into_iter()
            .map(|(method, stats)| MethodSummary {
                method: method.to_owned(),
                stats: stats.summary(),
            })
            .collect()
    }

    /// The non-empty time buckets in time order.
    pub fn time_buckets(&self) -> Vec<TimeBucket> {
        self.buckets
            .values()
            .filter(|bucket| bucket.calls > 0)
            .copied()
            .collect()
    }

    /// Every bucket from the first to the last non-empty one, empty ones included (for a
    /// chart), or `None` when that would take more than `max_buckets` buckets (a capture
    /// spanning days at a one-second width); then use [`Self::time_buckets`] or a wider
    /// [`StatsConfig::bucket_width_micros`].
    pub fn time_series(&self, max_buckets: usize) -> Option<Vec<TimeBucket>> {
        let non_empty = self.time_buckets();
        let (Some(first), Some(last)) = (non_empty.first(), non_empty.last()) else {
            return Some(Vec::new());
        };
        let width = self.config.bucket_width_micros;
        let span = (last.start_micros - first.start_micros) / width + 1;
        if span > max_buckets as u64 {
            return None;
        }
        let mut series = Vec::with_capacity(span as usize);
        let mut by_start = non_empty.iter().peekable();
        for step in 0..span {
            let start_micros = first.start_micros + step * width;
            match by_start.peek() {
                Some(bucket) if bucket.start_micros == start_micros => {
                    series.push(**bucket);
                    by_start.next();
                }
                _ => series.push(TimeBucket {
                    start_micros,
                    calls: 0,
                    errors: 0,
                }),
            }
        }
        Some(series)
    }

    fn intern_method(&mut self, method: &str) -> u32 {
        if let Some(index) = self.method_indexes.get(method) {
            return *index;
        }
        let index = self.method_names.len() as u32;
        self.method_names.push(method.to_owned());
        self.method_indexes.insert(method.to_owned(), index);
        self.by_method.push(GroupStats::default());
        index
    }

    fn apply(&mut self, contribution: &Contribution) {
        self.total.add(contribution);
        if let Some(stats) = self.by_method.get_mut(contribution.method_index as usize) {
            stats.add(contribution);
        }
        self.by_transport[transport_index(contribution.transport)].add(contribution);
        let bucket = self
            .buckets
            .entry(contribution.bucket_start_micros)
            .or_insert(TimeBucket {
                start_micros: contribution.bucket_start_micros,
                calls: 0,
                errors: 0,
            });
        bucket.calls += 1;
        if contribution.outcome.is_error() {
            bucket.errors += 1;
        }
    }

    fn retract(&mut self, contribution: &Contribution) {
        self.total.remove(contribution);
        if let Some(stats) = self.by_method.get_mut(contribution.method_index as usize) {
            stats.remove(contribution);
        }
        self.by_transport[transport_index(contribution.transport)].remove(contribution);
        if let Some(bucket) = self.buckets.get_mut(&contribution.bucket_start_micros) {
            bucket.calls = bucket.calls.saturating_sub(1);
            if contribution.outcome.is_error() {
                bucket.errors = bucket.errors.saturating_sub(1);
            }
            if bucket.calls == 0 {
                self.buckets.remove(&contribution.bucket_start_micros);
            }
        }
    }
}

/// One row of per-method statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodSummary {
    /// Method name.
    pub method: String,
    /// Its figures.
    #[serde(flatten)]
    pub stats: GroupSummary,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::model::{CallKind, Protocol};

    /// A small deterministic generator (xorshift64*) so that sample sets are reproducible.
    struct Samples(u64);

    impl Samples {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    /// Nearest-rank quantile of sorted samples: the value at rank ceil(q * n).
    fn exact_quantile(sorted: &[u64], quantile: f64) -> u64 {
        let rank = ((quantile * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1]
    }

    fn assert_quantiles_match(samples: &[u64], name: &str) {
        let mut histogram = LatencyHistogram::new();
        for sample in samples {
            histogram.record(*sample);
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        for quantile in [0.0, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            let exact = exact_quantile(&sorted, quantile);
            let reported = histogram.value_at_quantile(quantile).unwrap();
            // Never below the exact value, at most 0.1% (one part in 10^3) + 1 above it.
            let allowed = exact / 1000 + 1;
            assert!(
                reported >= exact && reported - exact <= allowed,
                "{name}: q={quantile} exact={exact} reported={reported} allowed=+{allowed}"
            );
        }
        assert_eq!(histogram.min_micros(), sorted.first().copied(), "{name}");
        assert_eq!(histogram.max_micros(), sorted.last().copied(), "{name}");
        let mean = samples.iter().map(|v| *v as f64).sum::<f64>() / samples.len() as f64;
        assert!((histogram.mean_micros().unwrap() - mean).abs() < 1e-6 * mean.max(1.0));
    }

    #[test]
    fn quantiles_match_exact_computation_on_uniform_samples() {
        let mut generator = Samples(0x9e37_79b9_7f4a_7c15);
        let samples: Vec<u64> = (0..10_000).map(|_| generator.next() % 1_000_000).collect();
        assert_quantiles_match(&samples, "uniform 0..1s");
    }

    #[test]
    fn quantiles_match_exact_computation_on_long_tailed_samples() {
        // Mostly fast calls, a few very slow ones: the shape RPC latency usually has.
        let mut generator = Samples(42);
        let samples: Vec<u64> = (0..20_000)
            .map(|index| {
                let base = 200 + generator.next() % 800;
                if index % 100 == 0 {
                    base * 1000 + generator.next() % 10_000_000
                } else {
                    base
                }
            })
            .collect();
        assert_quantiles_match(&samples, "long tail");
    }

    #[test]
    fn quantiles_match_exact_computation_on_tiny_and_constant_sets() {
        assert_quantiles_match(&[7], "single");
        assert_quantiles_match(&[0, 0, 0], "zeros");
        assert_quantiles_match(&[1, 2], "two");
        assert_quantiles_match(&[123_456_789; 17], "constant large");
        assert_quantiles_match(&[5, 1, 4, 2, 3], "unsorted small");
    }

    #[test]
    fn empty_histogram_has_no_figures() {
        let histogram = LatencyHistogram::new();
        assert_eq!(histogram.value_at_quantile(0.5), None);
        let summary = histogram.summary();
        assert_eq!(summary.count, 0);
        assert_eq!(summary.p99_micros, None);
        assert_eq!(summary.max_micros, None);
        assert!(histogram.log_buckets(10, 2.0).is_empty());
    }

    #[test]
    fn removing_a_latency_restores_previous_quantiles() {
        let mut histogram = LatencyHistogram::new();
        for value in [100, 200, 300, 400] {
            histogram.record(value);
        }
        let before = histogram.summary();
        histogram.record(9_000_000);
        assert_eq!(histogram.max_micros(), Some(9_000_000));
        assert!(histogram.remove(9_000_000));
        assert_eq!(histogram.summary(), before);
        assert!(
            !histogram.remove(55),
            "a value never recorded is not removed"
        );
        assert_eq!(histogram.count(), 4);
    }

    #[test]
    fn log_buckets_cover_every_sample_once() {
        let mut histogram = LatencyHistogram::new();
        let values = [0, 1, 5, 10, 11, 99, 1_000, 1_500, 250_000, 3_000_000];
        for value in values {
            histogram.record(value);
        }
        let buckets = histogram.log_buckets(10, 10.0);
        assert_eq!(
            buckets.iter().map(|b| b.count).sum::<u64>(),
            values.len() as u64
        );
        assert_eq!(buckets[0].lower_micros, 0);
        assert_eq!(buckets[0].upper_micros, 9);
        assert_eq!(buckets[0].count, 3, "0, 1, 5 are below 10: {buckets:?}");
        assert_eq!(buckets[1].count, 3, "10, 11, 99 are below 100: {buckets:?}");
        for pair in buckets.windows(2) {
            assert_eq!(pair[1].lower_micros, pair[0].upper_micros + 1);
        }
        for value in values {
            let holding: Vec<_> = buckets
                .iter()
                .filter(|b| b.lower_micros <= value && value <= b.upper_micros)
                .collect();
            assert_eq!(holding.len(), 1, "{value} in {buckets:?}");
        }
        let linear = histogram.linear_buckets(1_000_000);
        assert_eq!(linear.iter().map(|b| b.count).sum::<u64>(), 10);
        assert_eq!(linear[0].count, 9);
    }

    fn call(call_id: u64, method: &str, outcome: Outcome, latency_micros: Option<u64>) -> Call {
        Call {
            call_id,
            session_id: "s".into(),
            connection_id: "c".into(),
            transport: Transport::Websocket,
            protocol: Protocol::JsonRpc2,
            method: method.into(),
            request_id: Some(call_id.to_string()),
            kind: CallKind::Call,
            outcome,
            error_code: None,
            error_message: None,
            started_micros: 1_000_000 + call_id * 400_000,
            ended_micros: latency_micros.map(|l| 1_000_000 + call_id * 400_000 + l),
            latency_micros,
            request_frame_id: Some(call_id * 2),
            response_frame_id: latency_micros.map(|_| call_id * 2 + 1),
            request_size_bytes: 10,
            response_size_bytes: 20,
        }
    }

    #[test]
    fn groups_count_calls_errors_and_rates_per_method_and_transport() {
        let mut calls = vec![
            call(0, "User.Get", Outcome::Ok, Some(1_000)),
            call(1, "User.Get", Outcome::Error, Some(3_000)),
            call(2, "User.Get", Outcome::Pending, None),
            call(3, "Arith.Multiply", Outcome::Timeout, None),
            call(4, "Arith.Multiply", Outcome::Ok, Some(500)),
        ];
        calls[4].transport = Transport::Http;
        let stats = StatsAccumulator::from_calls(&calls, StatsConfig::default());

        let user = stats.method("User.Get").unwrap();
        assert_eq!((user.count(), user.errors(), user.pending()), (3, 1, 1));
        assert_eq!(user.error_rate(), Some(0.5), "1 error of 2 settled calls");
        assert_eq!(user.latency().count(), 2);
        assert_eq!(user.latency().max_micros(), Some(3_000));
        assert_eq!(user.request_bytes(), 30);

        let arith = stats.method("Arith.Multiply").unwrap();
        assert_eq!(
            (arith.count(), arith.errors()),
            (2, 1),
            "timeout is an error"
        );
        assert_eq!(arith.outcomes().get(Outcome::Timeout), 1);

        assert_eq!(stats.total().count(), 5);
        assert_eq!(stats.total().errors(), 2);
        assert_eq!(stats.transport(Transport::Http).unwrap().count(), 1);
        assert_eq!(stats.transport(Transport::Websocket).unwrap().count(), 4);
        assert!(stats.transport(Transport::SharedMemory).is_none());

        let names: Vec<&str> = stats.methods().iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["Arith.Multiply", "User.Get"]);
        assert!(stats.method("Nope").is_none());
    }

    #[test]
    fn time_buckets_hold_throughput_and_errors() {
        // Calls start every 400 ms from t = 1 s: buckets 1 s (0,1,2), 2 s (3,4), 3 s (5,6,7)...
        let calls: Vec<Call> = (0..8)
            .map(|id| {
                let outcome = if id % 3 == 0 {
                    Outcome::Error
                } else {
                    Outcome::Ok
                };
                call(id, "M", outcome, Some(10))
            })
            .collect();
        let stats = StatsAccumulator::from_calls(&calls, StatsConfig::default());
        let buckets = stats.time_buckets();
        let figures: Vec<(u64, u64, u64)> = buckets
            .iter()
            .map(|b| (b.start_micros, b.calls, b.errors))
            .collect();
        assert_eq!(
            figures,
            [(1_000_000, 3, 1), (2_000_000, 2, 1), (3_000_000, 3, 1)]
        );
        assert_eq!(stats.time_series(10).unwrap().len(), 3);

        let sparse = StatsAccumulator::from_calls(
            &[
                call(0, "M", Outcome::Ok, None),
                call(20, "M", Outcome::Ok, None),
            ],
            StatsConfig::default(),
        );
        let series = sparse.time_series(100).unwrap();
        assert_eq!(series.len(), 9, "1 s .. 9 s inclusive");
        assert_eq!(series[1].calls, 0);
        assert_eq!(series[8].calls, 1);
        assert!(sparse.time_series(5).is_none(), "too many buckets");
    }

    #[test]
    fn observing_an_updated_call_replaces_its_contribution() {
        let mut live = StatsAccumulator::default();
        live.observe(&call(1, "User.Get", Outcome::Pending, None));
        live.observe(&call(2, "User.Get", Outcome::Ok, Some(2_000)));
        assert_eq!(live.method("User.Get").unwrap().pending(), 1);

        live.observe(&call(1, "User.Get", Outcome::Error, Some(7_000)));
        live.observe(&call(1, "User.Get", Outcome::Error, Some(7_000)));
        let user = live.method("User.Get").unwrap();
        assert_eq!((user.count(), user.errors(), user.pending()), (2, 1, 0));
        assert_eq!(user.latency().max_micros(), Some(7_000));

        // An orphan response later matched to a request of another method moves over.
        live.observe(&call(3, "", Outcome::Orphan, None));
        assert_eq!(live.method("").unwrap().count(), 1);
        live.observe(&call(3, "Arith.Add", Outcome::Ok, Some(900)));
        assert!(live.method("").is_none());
        assert_eq!(live.method("Arith.Add").unwrap().count(), 1);

        let replayed = StatsAccumulator::from_calls(
            &[
                call(1, "User.Get", Outcome::Error, Some(7_000)),
                call(2, "User.Get", Outcome::Ok, Some(2_000)),
                call(3, "Arith.Add", Outcome::Ok, Some(900)),
            ],
            StatsConfig::default(),
        );
        assert_eq!(live.method_summaries(), replayed.method_summaries());
        assert_eq!(live.time_buckets(), replayed.time_buckets());
        assert_eq!(live.total().summary(), replayed.total().summary());

        assert!(live.forget_call(1));
        assert!(!live.forget_call(1));
        assert_eq!(live.tracked_calls(), 2);
        assert_eq!(live.total().count(), 3, "forgotten calls stay counted");
    }

    #[test]
    fn one_shot_counts_each_call_id_once_and_accepts_later_updates() {
        // Out of id order, with call 2 listed twice: its last state wins.
        let calls = [
            call(3, "A", Outcome::Ok, Some(300)),
            call(2, "A", Outcome::Pending, None),
            call(1, "B", Outcome::Ok, Some(100)),
            call(2, "A", Outcome::Error, Some(200)),
        ];
        let mut stats = StatsAccumulator::from_calls(&calls, StatsConfig::default());
        assert_eq!(stats.tracked_calls(), 3);
        let a = stats.method("A").unwrap();
        assert_eq!((a.count(), a.errors(), a.pending()), (2, 1, 0));
        assert_eq!(a.latency().count(), 2);

        // A one-shot accumulator keeps working live: call 2 settles again, call 4 arrives.
        stats.observe(&call(2, "A", Outcome::Ok, Some(200)));
        stats.observe(&call(4, "B", Outcome::Timeout, None));
        let expected = StatsAccumulator::from_calls(
            &[
                call(1, "B", Outcome::Ok, Some(100)),
                call(2, "A", Outcome::Ok, Some(200)),
                call(3, "A", Outcome::Ok, Some(300)),
                call(4, "B", Outcome::Timeout, None),
            ],
            StatsConfig::default(),
        );
        assert_eq!(stats.method_summaries(), expected.method_summaries());
        assert_eq!(stats.total().summary(), expected.total().summary());
        assert_eq!(stats.tracked_calls(), 4);
        assert!(stats.forget_call(3));
        assert_eq!(stats.tracked_calls(), 3);
    }

    #[test]
    fn method_summary_serialises_flat() {
        let stats = StatsAccumulator::from_calls(
            &[call(1, "A", Outcome::Ok, Some(1_500))],
            StatsConfig::default(),
        );
        let json = serde_json::to_value(stats.method_summaries()).unwrap();
        assert_eq!(json[0]["method"], "A");
        assert_eq!(json[0]["count"], 1);
        assert_eq!(json[0]["outcomes"]["ok"], 1);
        assert_eq!(json[0]["latency"]["p99_micros"], 1_500);
    }
}
