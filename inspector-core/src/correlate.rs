//! Correlation: pairs requests with responses by (connection, direction of the request, id)
//! and keeps the resulting [`Call`]s in a deterministic order.
//!
//! Data enters from the session's decoding step as [`CallStart`] (a request, notification,
//! invalid message or lone response) and [`CallEnd`] (a response, a failure, a close); it
//! leaves as [`Call`]s sorted by `(started_micros, call_id)`. Ids are compared by their
//! exact wire text ([`IdKey`]), so `1` and `"1"` differ and ids beyond 2^53 stay exact.
//!
//! Rules: a response whose request is not (or no longer) known is an orphan call; a request
//! reusing an id still in flight on the same connection is a duplicate (the first keeps the
//! id and gets the response); [`Correlator::mark_timeouts`] turns pending calls older than a
//! timeout into timed-out calls (a late response still records its latency).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use crate::event::Direction;
use crate::model::{Call, CallKind, Outcome, Protocol, Transport};

/// A small, fast, non-cryptographic hasher (the multiply-rotate scheme of rustc's FxHasher)
/// for the core's lookup tables, whose keys are ids and connection names from captures.
/// Hash flooding is not a concern here: the tables are bounded by the session's caps and
/// the input comes from the user's own app.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
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

    #[inline]
    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    #[inline]
    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A request id reduced to a comparable key: small integers without allocation, anything
/// else by its exact JSON text (or decimal text for binary ids).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdKey {
    /// `null`, or "the one call of this exchange" for plain HTTP and gRPC-web.
    Null,
    /// An integer written canonically (`-3`, `0`, `42`).
    Int(i64),
    /// A 64-bit unsigned id from a binary header.
    Unsigned(u64),
    /// Any other id, by its exact text (`"abc"` with quotes, `1.5`, `12345678901234567890`).
    Text(Box<str>),
}

impl IdKey {
    /// The key of a JSON id given as its JSON text.
    pub fn from_json(text: &str) -> IdKey {
        if text == "null" {
            return IdKey::Null;
        }
        let digits = text.strip_prefix('-').unwrap_or(text);
        let canonical = !digits.is_empty()
            && digits.bytes().all(|byte| byte.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'))
            && text != "-0";
        if canonical && let Ok(value) = text.parse::<i64>() {
            return IdKey::Int(value);
        }
        IdKey::Text(text.into())
    }
}

/// Where a call is pending: (connection serial, side that sent the request, id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PendingKey {
    /// The session's serial number of the connection.
    pub connection_serial: u64,
    /// True when the page sent the request (false for server-initiated requests).
    pub sent_by_page: bool,
    /// The id.
    pub id: IdKey,
}

/// Position of a call in the ordered list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct CallKey {
    started_micros: u64,
    call_id: u64,
    /// Where the call was put (counting calls ever evicted from the front), checked before
    /// falling back to a binary search: calls are rarely inserted out of order.
    position_hint: u64,
}

/// A call with the bookkeeping correlation needs.
#[derive(Debug, Clone)]
pub struct CallRecord {
    /// The call.
    pub call: Call,
    /// Frame that started the call (for eviction).
    pub first_frame_id: u64,
    /// Index of the request within its frame (batch element, gRPC message), if any.
    pub request_part: u32,
    /// Index of the response within its frame, if any.
    pub response_part: u32,
    pending: Option<PendingKey>,
}

/// The first half of a call.
#[derive(Debug, Clone)]
pub struct CallStart<'a> {
    /// Session of the connection.
    pub session_id: &'a str,
    /// Connection id.
    pub connection_id: &'a str,
    /// The connection's serial number in the session.
    pub connection_serial: u64,
    /// Transport.
    pub transport: Transport,
    /// Protocol.
    pub protocol: Protocol,
    /// Method (empty when unknown).
    pub method: &'a str,
    /// Id as written on the wire, for display.
    pub request_id: Option<&'a str>,
    /// Key to pair the response with; `None` for calls that expect no response.
    pub pending_id: Option<IdKey>,
    /// Direction of the request frame.
    pub direction: Direction,
    /// Call or notification.
    pub kind: CallKind,
    /// Initial outcome: `Pending` for requests, `Ok` for notifications, `Invalid`...
    pub outcome: Outcome,
    /// Error code known from the request itself (-32600 for invalid requests).
    pub error_code: Option<i64>,
    /// Error text known from the request itself.
    pub error_message: Option<String>,
    /// Time of the request frame.
    pub time_micros: u64,
    /// Request frame.
    pub frame_id: u64,
    /// Index within the frame.
    pub part: u32,
    /// Size of the request (or message) in bytes.
    pub size_bytes: u64,
}

/// The second half of a call.
#[derive(Debug, Clone)]
pub struct CallEnd {
    /// Time of the response (or failure).
    pub time_micros: u64,
    /// Response frame, if there is one.
    pub frame_id: Option<u64>,
    /// Index within the frame.
    pub part: u32,
    /// Size of the response in bytes.
    pub size_bytes: u64,
    /// `Ok`, `Error` or `Timeout` (an `Invalid` call stays invalid).
    pub outcome: Outcome,
    /// Error code, if any.
    pub error_code: Option<i64>,
    /// Error text, if any.
    pub error_message: Option<String>,
}

/// Bytes a heap allocation of `len` bytes really takes: glibc-style malloc rounds requests
/// up to 16 bytes with an 8-byte header and a 32-byte minimum. Used so that the session's
/// byte cap tracks resident memory rather than string lengths.
pub fn heap_bytes(len: usize) -> u64 {
    if len == 0 {
        0
    } else {
        (len + 8).div_ceil(16).max(2) as u64 * 16
    }
}

/// Heap and inline bytes a call costs, for the session's byte cap.
pub fn call_cost_bytes(call: &Call) -> u64 {
    std::mem::size_of::<CallRecord>() as u64
        + heap_bytes(call.session_id.len())
        + heap_bytes(call.connection_id.len())
        + heap_bytes(call.method.len())
        + call
            .request_id
            .as_ref()
            .map_or(0, |text| heap_bytes(text.len()))
        + call
            .error_message
            .as_ref()
            .map_or(0, |text| heap_bytes(text.len()))
}

/// The correlation table and the ordered call list.
#[derive(Debug, Default)]
pub struct Correlator {
    calls: VecDeque<CallRecord>,
    pending: FastMap<PendingKey, CallKey>,
    /// Number of pending entries per connection serial (absent when zero).
    pending_per_connection: FastMap<u64, u32>,
    /// Calls ever removed from the front of `calls`.
    evicted_front: u64,
    next_call_id: u64,
    retained_bytes: u64,
}

impl Correlator {
    /// An empty table whose first call gets id `first_call_id`.
    pub fn new(first_call_id: u64) -> Self {
        Correlator {
            next_call_id: first_call_id,
            ..Correlator::default()
        }
    }

    /// Calls in `(started_micros, call_id)` order.
    pub fn calls(&self) -> &VecDeque<CallRecord> {
        &self.calls
    }

    /// The id the next call will get.
    pub fn next_call_id(&self) -> u64 {
        self.next_call_id
    }

    /// Bytes retained by the calls (see [`call_cost_bytes`]).
    pub fn retained_bytes(&self) -> u64 {
        self.retained_bytes
    }

    /// Number of calls waiting for a response.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    fn index_of(&self, key: CallKey) -> Option<usize> {
        if let Some(index) = key.position_hint.checked_sub(self.evicted_front)
            && let Ok(index) = usize::try_from(index)
            && self
                .calls
                .get(index)
                .is_some_and(|record| record.call.call_id == key.call_id)
        {
            return Some(index);
        }
        self.calls
            .binary_search_by(|record| {
                (record.call.started_micros, record.call.call_id)
                    .cmp(&(key.started_micros, key.call_id))
            })
            .ok()
    }

    /// Position of a call by id (linear from the back; calls are mostly looked up soon
    /// after they were made).
    pub fn position(&self, call_id: u64) -> Option<usize> {
        self.calls
            .iter()
            .rposition(|record| record.call.call_id == call_id)
    }

    /// Index at which a call with this key belongs.
    fn insertion_index(&self, started_micros: u64, call_id: u64) -> usize {
        let key = (started_micros, call_id);
        let in_order = self
            .calls
            .back()
            .is_none_or(|last| (last.call.started_micros, last.call.call_id) < key);
        if in_order {
            self.calls.len()
        } else {
            self.calls.partition_point(|existing| {
                (existing.call.started_micros, existing.call.call_id) < key
            })
        }
    }

    fn insert(&mut self, index: usize, record: CallRecord) -> u64 {
        let call_id = record.call.call_id;
        self.retained_bytes += call_cost_bytes(&record.call);
        if index == self.calls.len() {
            self.calls.push_back(record);
        } else {
            self.calls.insert(index, record);
        }
        call_id
    }

    /// Records the first half of a call and returns its id. A request whose id is already
    /// pending on the same connection becomes a [`Outcome::Duplicate`] call.
    pub fn open(&mut self, start: CallStart<'_>) -> u64 {
        let call_id = self.next_call_id;
        self.next_call_id += 1;
        let mut outcome = start.outcome;
        let mut pending = None;
        let index = self.insertion_index(start.time_micros, call_id);
        if let Some(id) = start.pending_id {
            let key = PendingKey {
                connection_serial: start.connection_serial,
                sent_by_page: start.direction == Direction::Sent,
                id,
            };
            if self.pending.contains_key(&key) {
                if outcome == Outcome::Pending {
                    outcome = Outcome::Duplicate;
                }
            } else {
                *self
                    .pending_per_connection
                    .entry(start.connection_serial)
                    .or_default() += 1;
                self.pending.insert(
                    key.clone(),
                    CallKey {
                        started_micros: start.time_micros,
                        call_id,
                        position_hint: self.evicted_front + index as u64,
                    },
                );
                pending = Some(key);
            }
        }
        let call = Call {
            call_id,
            session_id: start.session_id.to_owned(),
            connection_id: start.connection_id.to_owned(),
            transport: start.transport,
            protocol: start.protocol,
            method: start.method.to_owned(),
            request_id: start.request_id.map(str::to_owned),
            kind: start.kind,
            outcome,
            error_code: start.error_code,
            error_message: start.error_message,
            started_micros: start.time_micros,
            ended_micros: None,
            latency_micros: None,
            request_frame_id: Some(start.frame_id),
            response_frame_id: None,
            request_size_bytes: start.size_bytes,
            response_size_bytes: 0,
        };
        self.insert(
            index,
            CallRecord {
                call,
                first_frame_id: start.frame_id,
                request_part: start.part,
                response_part: 0,
                pending,
            },
        )
    }

    fn forget_pending(&mut self, key: &PendingKey) -> Option<CallKey> {
        let call_key = self.pending.remove(key)?;
        if let Some(count) = self.pending_per_connection.get_mut(&key.connection_serial) {
            *count -= 1;
            if *count == 0 {
                self.pending_per_connection.remove(&key.connection_serial);
            }
        }
        Some(call_key)
    }

    /// Completes the call pending under `key`. Returns false when there is none (the caller
    /// then records an orphan with [`Correlator::orphan`]).
    pub fn close(&mut self, key: &PendingKey, end: CallEnd) -> bool {
        let Some(call_key) = self.forget_pending(key) else {
            return false;
        };
        let Some(index) = self.index_of(call_key) else {
            return false;
        };
        self.complete_at(index, end);
        true
    }

    fn complete_at(&mut self, index: usize, end: CallEnd) {
        let Some(record) = self.calls.get_mut(index) else {
            return;
        };
        let before = call_cost_bytes(&record.call);
        record.pending = None;
        let call = &mut record.call;
        call.ended_micros = Some(end.time_micros);
        call.latency_micros = Some(end.time_micros.saturating_sub(call.started_micros));
        call.response_frame_id = end.frame_id;
        call.response_size_bytes = end.size_bytes;
        record.response_part = end.part;
        match call.outcome {
            Outcome::Pending => {
                call.outcome = end.outcome;
                call.error_code = end.error_code;
                call.error_message = end.error_message;
            }
            // Timed out or invalid calls keep their outcome; the response adds details.
            _ => {
                if call.error_code.is_none() {
                    call.error_code = end.error_code;
                }
                if call.error_message.is_none() {
                    call.error_message = end.error_message;
                }
            }
        }
        let after = call_cost_bytes(call);
        self.retained_bytes = self.retained_bytes + after - before;
    }

    /// Records a response whose request is unknown.
    pub fn orphan(&mut self, start: CallStart<'_>) -> u64 {
        self.open(CallStart {
            pending_id: None,
            outcome: Outcome::Orphan,
            ..start
        })
    }

    /// Completes every call still pending on a connection (an HTTP exchange that ended, a
    /// socket that closed). Returns how many were completed.
    pub fn close_all(&mut self, connection_serial: u64, end: &CallEnd) -> usize {
        if !self.has_pending(connection_serial) {
            return 0;
        }
        let mut keys: Vec<PendingKey> = self
            .pending
            .keys()
            .filter(|key| key.connection_serial == connection_serial)
            .cloned()
            .collect();
        // Deterministic order (the map's iteration order is not).
        keys.sort();
        for key in &keys {
            self.close(key, end.clone());
        }
        keys.len()
    }

    /// True when the connection has calls waiting for a response.
    pub fn has_pending(&self, connection_serial: u64) -> bool {
        self.pending_per_connection.contains_key(&connection_serial)
    }

    /// Marks pending calls started `timeout_micros` or more before `now_micros` as timed out.
    /// They stay in the table so a late response still records its latency.
    pub fn mark_timeouts(&mut self, now_micros: u64, timeout_micros: u64) -> usize {
        let mut marked = 0;
        let keys: Vec<CallKey> = self
            .pending
            .values()
            .filter(|key| key.started_micros.saturating_add(timeout_micros) <= now_micros)
            .copied()
            .collect();
        for key in keys {
            if let Some(index) = self.index_of(key)
                && let Some(record) = self.calls.get_mut(index)
                && record.call.outcome == Outcome::Pending
            {
                record.call.outcome = Outcome::Timeout;
                marked += 1;
            }
        }
        marked
    }

    /// Evicts calls from the front (oldest first) while their first frame is older than
    /// `oldest_frame_id`. Returns (calls, bytes) evicted. A pending call that is evicted is
    /// forgotten: its response, if it still comes, shows as an orphan.
    pub fn evict_before_frame(&mut self, oldest_frame_id: u64) -> (u64, u64) {
        let mut calls = 0;
        let mut bytes = 0;
        while let Some(front) = self.calls.front() {
            if front.first_frame_id >= oldest_frame_id {
                break;
            }
            if let Some(record) = self.calls.pop_front() {
                self.evicted_front += 1;
                if let Some(key) = &record.pending {
                    self.forget_pending(key);
                }
                let cost = call_cost_bytes(&record.call);
                self.retained_bytes -= cost;
                bytes += cost;
                calls += 1;
            }
        }
        (calls, bytes)
    }

    /// Evicts the oldest call regardless of frames. Returns its cost in bytes.
    pub fn evict_front(&mut self) -> Option<u64> {
        let record = self.calls.pop_front()?;
        self.evicted_front += 1;
        if let Some(key) = &record.pending {
            self.forget_pending(key);
        }
        let cost = call_cost_bytes(&record.call);
        self.retained_bytes -= cost;
        Some(cost)
    }
}
