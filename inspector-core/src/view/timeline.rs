//! Chart series over time: throughput and errors per transport, latency quantiles per time
//! bucket, and the bars of a waterfall.
//!
//! Data enters as calls in the session's `(started_micros, call_id)` order and a time window
//! chosen by the caller (the core has no clock: "now" is passed in). It leaves as one
//! [`TimelineBucket`] per fixed-width interval (empty ones included, so a chart's x axis is
//! continuous) and as [`WaterfallBar`]s. Quantiles are exact (nearest rank on the sorted
//! latencies of the bucket), which is affordable because a chart covers a bounded window.

use crate::model::{Call, Outcome, Transport};
use crate::view::table::{RowSource, TRANSPORTS, transport_index};

/// Calls and errors of one transport in one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransportCounts {
    /// Calls started in the bucket.
    pub calls: u64,
    /// Those counted as errors.
    pub errors: u64,
}

impl TransportCounts {
    /// `errors / calls` in [0, 1], `None` without calls.
    pub fn error_rate(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.errors as f64 / self.calls as f64)
    }
}

/// One interval of a timeline.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimelineBucket {
    /// Start of the interval, microseconds since the Unix epoch.
    pub start_micros: u64,
    /// Counts per transport, indexed like [`TRANSPORTS`].
    pub per_transport: [TransportCounts; 4],
    /// Latency quantiles of the calls started in the interval that have a latency.
    pub p50_micros: Option<u64>,
    /// See `p50_micros`.
    pub p95_micros: Option<u64>,
    /// See `p50_micros`.
    pub p99_micros: Option<u64>,
}

impl TimelineBucket {
    /// Calls of every transport.
    pub fn calls(&self) -> u64 {
        self.per_transport.iter().map(|counts| counts.calls).sum()
    }

    /// Counts of one transport.
    pub fn transport(&self, transport: Transport) -> TransportCounts {
        self.per_transport[transport_index(transport)]
    }
}

/// The value at `quantile` (in [0, 1]) of `sorted` by nearest rank.
pub fn exact_quantile(sorted: &[u64], quantile: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let quantile = quantile.clamp(0.0, 1.0);
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1).min(sorted.len() - 1))
        .copied()
}

/// `bucket_count` buckets of `bucket_width_micros` ending with the one that holds
/// `end_micros`, filled from `calls` (sorted by `started_micros`). Calls started before the
/// window or after `end_micros` are ignored. `include` chooses the calls (for a filtered
/// chart); pass `|_| true` for all.
pub fn timeline<S: RowSource<Call> + ?Sized>(
    calls: &S,
    end_micros: u64,
    bucket_width_micros: u64,
    bucket_count: usize,
    include: impl Fn(&Call) -> bool,
) -> Vec<TimelineBucket> {
    let width = bucket_width_micros.max(1);
    if bucket_count == 0 {
        return Vec::new();
    }
    let last_start = end_micros / width * width;
    let first_start = last_start.saturating_sub(width * (bucket_count as u64 - 1));
    let mut buckets: Vec<TimelineBucket> = (0..bucket_count as u64)
        .map(|index| TimelineBucket {
            start_micros: first_start + index * width,
            ..TimelineBucket::default()
        })
        .take_while(|bucket| bucket.start_micros <= last_start)
        .collect();
    let mut latencies: Vec<Vec<u64>> = vec![Vec::new(); buckets.len()];
    // Binary search for the first call in the window (calls are sorted by start).
    let (mut low, mut high) = (0, calls.row_count());
    while low < high {
        let middle = low + (high - low) / 2;
        match calls.row(middle) {
            Some(call) if call.started_micros < first_start => low = middle + 1,
            _ => high = middle,
        }
    }
    for call in (low..calls.row_count()).filter_map(|position| calls.row(position)) {
        if call.started_micros > end_micros {
            break;
        }
        if !include(call) {
            continue;
        }
        let index = ((call.started_micros - first_start) / width) as usize;
        let Some(bucket) = buckets.get_mut(index) else {
            continue;
        };
        let counts = &mut bucket.per_transport[transport_index(call.transport)];
        counts.calls += 1;
        counts.errors += u64::from(call.outcome.is_error());
        if let Some(latency_micros) = call.latency_micros {
            latencies[index].push(latency_micros);
        }
    }
    for (bucket, mut samples) in buckets.iter_mut().zip(latencies) {
        samples.sort_unstable();
        bucket.p50_micros = exact_quantile(&samples, 0.50);
        bucket.p95_micros = exact_quantile(&samples, 0.95);
        bucket.p99_micros = exact_quantile(&samples, 0.99);
    }
    buckets
}

/// Transports that have at least one call in `buckets`, in [`TRANSPORTS`] order.
pub fn active_transports(buckets: &[TimelineBucket]) -> Vec<Transport> {
    TRANSPORTS
        .iter()
        .copied()
        .filter(|transport| {
            buckets
                .iter()
                .any(|bucket| bucket.transport(*transport).calls > 0)
        })
        .collect()
}

/// Index of the bucket that holds `time_micros`, if any.
pub fn bucket_at(buckets: &[TimelineBucket], time_micros: u64) -> Option<usize> {
    let first = buckets.first()?;
    let width = match buckets.get(1) {
        Some(second) => second.start_micros - first.start_micros,
        None => return (time_micros >= first.start_micros).then_some(0),
    };
    if time_micros < first.start_micros || width == 0 {
        return None;
    }
    let index = ((time_micros - first.start_micros) / width) as usize;
    (index < buckets.len()).then_some(index)
}

/// One bar of a waterfall: when a call started and how long it took, relative to the first
/// call shown.
#[derive(Debug, Clone, PartialEq)]
pub struct WaterfallBar {
    /// The call.
    pub call_id: u64,
    /// Label (the method).
    pub label: String,
    /// Transport.
    pub transport: Transport,
    /// Outcome.
    pub outcome: Outcome,
    /// Start relative to the earliest start among the bars.
    pub start_offset_micros: u64,
    /// Length of the bar: the latency, or for a pending call the time until `now_micros`.
    pub duration_micros: u64,
    /// True when the bar is still growing (pending call).
    pub open: bool,
}

/// Bars for `calls` (any order; shown in the order given). A pending call without a latency
/// extends to `now_micros`; a notification is a zero-length bar.
pub fn waterfall<'a>(
    calls: impl IntoIterator<Item = &'a Call>,
    now_micros: u64,
) -> Vec<WaterfallBar> {
    let calls: Vec<&Call> = calls.into_iter().collect();
    let Some(origin_micros) = calls.iter().map(|call| call.started_micros).min() else {
        return Vec::new();
    };
    calls
        .into_iter()
        .map(|call| {
            let open = call.latency_micros.is_none() && call.outcome == Outcome::Pending;
            let duration_micros = match call.latency_micros {
                Some(latency_micros) => latency_micros,
                None if open => now_micros.saturating_sub(call.started_micros),
                None => 0,
            };
            WaterfallBar {
                call_id: call.call_id,
                label: call.method.clone(),
                transport: call.transport,
                outcome: call.outcome,
                start_offset_micros: call.started_micros - origin_micros,
                duration_micros,
                open,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::model::{CallKind, Protocol};

    fn call(
        call_id: u64,
        started_micros: u64,
        latency_micros: Option<u64>,
        transport: Transport,
    ) -> Call {
        Call {
            call_id,
            session_id: "s".into(),
            connection_id: "c".into(),
            transport,
            protocol: Protocol::JsonRpc2,
            method: format!("M{call_id}"),
            request_id: None,
            kind: CallKind::Call,
            outcome: if latency_micros.is_some() {
                Outcome::Ok
            } else {
                Outcome::Pending
            },
            error_code: None,
            error_message: None,
            started_micros,
            ended_micros: latency_micros.map(|latency| started_micros + latency),
            latency_micros,
            request_frame_id: None,
            response_frame_id: None,
            request_size_bytes: 0,
            response_size_bytes: 0,
        }
    }

    #[test]
    fn exact_quantiles_by_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).collect();
        assert_eq!(exact_quantile(&sorted, 0.5), Some(50));
        assert_eq!(exact_quantile(&sorted, 0.95), Some(95));
        assert_eq!(exact_quantile(&sorted, 0.99), Some(99));
        assert_eq!(exact_quantile(&sorted, 1.0), Some(100));
        assert_eq!(exact_quantile(&sorted, 0.0), Some(1));
        assert_eq!(exact_quantile(&[], 0.5), None);
    }

    #[test]
    fn timeline_buckets_calls_per_transport_with_empty_buckets() {
        let second = 1_000_000;
        let mut calls = vec![
            call(1, 10 * second, Some(100), Transport::Http),
            call(2, 10 * second + 5, Some(300), Transport::Websocket),
            call(3, 12 * second, None, Transport::Http),
            call(4, 13 * second + 1, Some(50), Transport::Http),
        ];
        calls[2].outcome = Outcome::Error;
        let buckets = timeline(&calls, 13 * second + 10, second, 4, |_| true);
        assert_eq!(buckets.len(), 4);
        assert_eq!(buckets[0].start_micros, 10 * second);
        assert_eq!(buckets[0].calls(), 2);
        assert_eq!(buckets[0].transport(Transport::Websocket).calls, 1);
        assert_eq!(buckets[0].p50_micros, Some(100));
        assert_eq!(buckets[0].p99_micros, Some(300));
        assert_eq!(buckets[1].calls(), 0);
        assert_eq!(buckets[2].transport(Transport::Http).errors, 1);
        assert_eq!(
            buckets[2].transport(Transport::Http).error_rate(),
            Some(1.0)
        );
        assert_eq!(buckets[2].p50_micros, None);
        assert_eq!(buckets[3].calls(), 1);
        assert_eq!(
            active_transports(&buckets),
            vec![Transport::Http, Transport::Websocket]
        );
        assert_eq!(bucket_at(&buckets, 12 * second + 3), Some(2));
        assert_eq!(bucket_at(&buckets, 9 * second), None);
        assert_eq!(bucket_at(&buckets, 20 * second), None);
    }

    #[test]
    fn timeline_ignores_calls_outside_the_window_and_filters() {
        let calls = vec![
            call(1, 5, Some(1), Transport::Http),
            call(2, 2_000_000, Some(1), Transport::Http),
            call(3, 2_000_001, Some(1), Transport::SharedMemory),
            call(4, 9_000_000, Some(1), Transport::Http),
        ];
        let buckets = timeline(&calls, 2_500_000, 1_000_000, 2, |call| {
            call.transport != Transport::SharedMemory
        });
        assert_eq!(buckets.len(), 2);
        assert_eq!(buckets.iter().map(TimelineBucket::calls).sum::<u64>(), 1);
        // A window reaching back before the epoch is cut at zero.
        assert_eq!(timeline(&calls, 1, 1_000_000, 5, |_| true).len(), 1);
    }

    #[test]
    fn waterfall_is_relative_to_the_first_start_and_open_bars_grow() {
        let calls = [
            call(1, 1_000, Some(500), Transport::Http),
            call(2, 1_200, None, Transport::Websocket),
        ];
        let bars = waterfall(calls.iter(), 2_000);
        assert_eq!(bars[0].start_offset_micros, 0);
        assert_eq!(bars[0].duration_micros, 500);
        assert!(!bars[0].open);
        assert_eq!(bars[1].start_offset_micros, 200);
        assert_eq!(bars[1].duration_micros, 800);
        assert!(bars[1].open);
        assert!(waterfall([].iter(), 0).is_empty());
    }
}
