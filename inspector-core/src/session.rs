//! The session store: capture events in, frames and calls out, within a memory cap.
//!
//! Data enters with [`Session::ingest`] (one [`CaptureEvent`] at a time, in arrival order).
//! Each event that carries bytes becomes a *unit* (an HTTP body, a WebSocket message, an SSE
//! event) whose bytes are kept once in an append-only arena. Units are decoded per connection
//! (JSON-RPC, a binary layout such as 0xCAFE, gRPC-web, or raw) into [`Frame`]s, whose
//! payloads are ranges of the arena (no copy), and correlated into [`Call`]s.
//!
//! Data leaves through [`Session::frames`] (in `frame_id` order), [`Session::calls`] (in
//! `(started_micros, call_id)` order), [`Session::malformed`], [`Session::frame_detail`]
//! (the frame's bytes decoded for a detail view), [`Session::connection`] (URL, headers,
//! status, lifecycle) and the counters [`Session::evicted`] and
//! [`Session::dropped_by_producer`].
//!
//! The store keeps at most [`SessionConfig::max_frames`] frames and about
//! [`SessionConfig::max_bytes`] bytes (payload bytes plus the bookkeeping of frames, calls
//! and connections); the oldest frames, then the calls and units that only they referenced,
//! are evicted first, and every eviction is counted.
//!
//! Decode-as ([`Session::set_layout`], [`Session::set_protocol`],
//! [`Session::set_endpoint_protocol`]) re-decodes the retained units from scratch with the
//! new choice. Frame and call ids are then renumbered from the first retained ones, and
//! [`Session::generation`] changes so views know to refresh.
//!
//! The session has no clock: [`Session::mark_timeouts`] (live) and [`Session::finish`] (end
//! of a capture) take the current time from the caller. Everything is deterministic: the
//! same events and settings give the same frames and calls.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::correlate::{
    CallEnd, CallRecord, CallStart, Correlator, FastMap, IdKey, PendingKey, heap_bytes,
};
use crate::decode::binary::{BinaryDecoder, BinaryError, BinaryLayout, ByteOrder, FrameRole};
use crate::decode::grpc_web::{self, GrpcWebBody};
use crate::decode::jsonrpc::{
    self, JsonRpcDecoder, JsonRpcMessage, JsonRpcPayload, JsonRpcVersion, MessageKind,
    PARSE_ERROR_CODE,
};
use crate::decode::protobuf::{self, ProtoError, ProtoField};
use crate::decode::{ProtocolChoice, binary};
use crate::event::{
    CaptureEvent, Direction, EventBody, HeaderList, HttpFailureKind, Payload, PayloadEncoding,
};
use crate::model::{Call, CallKind, Frame, Outcome, Protocol, Transport};

// Shared-memory channels (crate::shm) enter the session here.
mod shm_ingest;

/// Settings of a session. Serializable so that a saved session re-imports with the same
/// caps and decode-as choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionConfig {
    /// Most frames kept; older ones are evicted.
    pub max_frames: usize,
    /// Most bytes kept (payloads plus bookkeeping); older frames are evicted.
    pub max_bytes: u64,
    /// Pending calls older than this are marked timed out by [`Session::mark_timeouts`] and
    /// [`Session::finish`]; `None` never times out.
    pub call_timeout_micros: Option<u64>,
    /// Payloads longer than this are stored (and decoded) only up to this length.
    pub max_payload_bytes: usize,
    /// Decode-as choices per connection id.
    pub protocol_overrides: BTreeMap<String, ProtocolChoice>,
    /// Decode-as choices per endpoint (URL without query or fragment), for HTTP exchanges
    /// and WebSockets opened to that URL.
    pub endpoint_overrides: BTreeMap<String, ProtocolChoice>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            max_frames: 200_000,
            max_bytes: 256 * 1024 * 1024,
            call_timeout_micros: Some(30_000_000),
            max_payload_bytes: 4 * 1024 * 1024,
            protocol_overrides: BTreeMap::new(),
            endpoint_overrides: BTreeMap::new(),
        }
    }
}

/// What the store has evicted to stay within its caps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvictionCounts {
    /// Frames evicted.
    pub frames: u64,
    /// Bytes of storage freed by eviction (payloads and bookkeeping).
    pub bytes: u64,
    /// Calls evicted.
    pub calls: u64,
}

/// Error of a decode-as request.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The layout cannot be used.
    #[error("invalid layout: {source}")]
    Layout {
        /// Why.
        #[from]
        source: binary::LayoutError,
    },
}

/// What the session knows about one connection (exchange, socket, event stream).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConnectionInfo {
    /// Page/session.
    pub session_id: String,
    /// Connection id.
    pub connection_id: String,
    /// Transport (`None` until an event says which).
    pub transport: Option<Transport>,
    /// URL (request URL, socket URL, event-stream URL).
    pub url: String,
    /// HTTP method.
    pub http_method: String,
    /// Request headers.
    pub request_headers: HeaderList,
    /// HTTP status, once known.
    pub status: Option<u16>,
    /// HTTP status text.
    pub status_text: String,
    /// Response headers.
    pub response_headers: HeaderList,
    /// Failure of an HTTP exchange: kind and the error the page saw.
    pub failure: Option<(HttpFailureKind, String)>,
    /// WebSocket subprotocol.
    pub ws_protocol: String,
    /// WebSocket close: code, reason, clean.
    pub close: Option<(u16, String, bool)>,
    /// Number of `ws_error` / `sse_error` events.
    pub error_events: u64,
    /// Time of the first event, microseconds since epoch.
    pub first_event_micros: u64,
    /// Time of the last event.
    pub last_event_micros: u64,
    /// Binary layout in use for binary payloads (detected or chosen), if any.
    pub layout: Option<BinaryLayout>,
    /// Bytes waiting in the binary decoders for the rest of a frame.
    pub buffered_bytes: u64,
}

/// A frame's bytes decoded for a detail view.
#[derive(Debug, Clone)]
pub enum DecodedPayload<'a> {
    /// JSON-RPC (or JSON that failed to parse).
    JsonRpc(JsonRpcPayload<'a>),
    /// A binary frame: header fields with offsets, and the payload decoded as protobuf.
    Binary {
        /// Layout name.
        layout_name: String,
        /// Header fields.
        fields: Vec<binary::HeaderField>,
        /// Offset where the payload starts.
        payload_offset: usize,
        /// The payload as protobuf (when the layout says protobuf).
        protobuf: Option<Result<Vec<ProtoField<'a>>, ProtoError>>,
    },
    /// A gRPC-web body cut into messages.
    GrpcWeb(GrpcWebBody<'a>),
    /// Not decoded (plain HTTP body, raw message, malformed bytes).
    Raw,
}

/// A place in a frame: the frame and the index of the message within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FramePart {
    /// The frame.
    pub frame_id: u64,
    /// Index of the message in the frame (batch element); 0 for single messages.
    pub part: u32,
}

/// Where a call's request and response are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CallParts {
    /// The request (or the lone message).
    pub request: Option<FramePart>,
    /// The response.
    pub response: Option<FramePart>,
}

/// A frame with its bytes and their decoding.
#[derive(Debug, Clone)]
pub struct FrameDetail<'a> {
    /// The frame.
    pub frame: &'a Frame,
    /// The stored bytes (the payload, possibly cut at [`SessionConfig::max_payload_bytes`]).
    pub bytes: &'a [u8],
    /// True when `bytes` is shorter than the frame's `size_bytes`.
    pub truncated: bool,
    /// For `bytes` of gRPC-web text bodies: the base64-decoded bytes.
    pub decoded_bytes: Option<Vec<u8>>,
    /// The decoding.
    pub decoded: DecodedPayload<'a>,
}

/// Bytes appended once and referenced by ranges of absolute offsets.
#[derive(Debug, Default)]
struct Arena {
    bytes: Vec<u8>,
    base: u64,
    released: u64,
}

impl Arena {
    fn end(&self) -> u64 {
        self.base + self.bytes.len() as u64
    }

    fn get(&self, range: &Range<u64>) -> &[u8] {
        let start = range.start.saturating_sub(self.base) as usize;
        let end = range.end.saturating_sub(self.base) as usize;
        self.bytes.get(start..end).unwrap_or_default()
    }

    fn push(&mut self, data: &[u8]) -> Range<u64> {
        let start = self.end();
        self.bytes.extend_from_slice(data);
        start..self.end()
    }

    /// Bytes held: the live bytes and the released prefix not yet compacted away.
    fn held_bytes(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn release_before(&mut self, offset: u64) {
        self.released = self.released.max(offset.min(self.end()));
        let dead = (self.released - self.base) as usize;
        if dead > 0 && (dead == self.bytes.len() || (dead >= 4096 && dead * 4 >= self.bytes.len()))
        {
            self.bytes.drain(..dead);
            self.base = self.released;
            if self.bytes.capacity() > 4 * self.bytes.len().max(1 << 20) {
                self.bytes.shrink_to(2 * self.bytes.len());
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitKind {
    HttpRequest,
    HttpResponse {
        status: u16,
    },
    HttpChunk {
        end_of_body: bool,
    },
    HttpFailure {
        failure: HttpFailureKind,
    },
    WsMessage {
        direction: Direction,
        binary: bool,
    },
    WsClose {
        code: u16,
    },
    SseMessage {
        event_type_len: u32,
    },
    ShmMessage {
        direction: Direction,
        binary: bool,
        role: crate::event::ShmRole,
    },
}

#[derive(Debug, Clone)]
struct Unit {
    seq: u64,
    connection_serial: u64,
    time_micros: u64,
    kind: UnitKind,
    payload: Range<u64>,
    original_size_bytes: u64,
    truncated: bool,
    bad_base64: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameDecoding {
    Json,
    Binary,
    GrpcWeb { text: bool },
    Raw,
}

#[derive(Debug, Clone)]
struct FrameMeta {
    payload: Range<u64>,
    unit_seq: u64,
    decoding: FrameDecoding,
    truncated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    JsonRpc,
    Binary,
    Raw,
}

/// Per-connection decoding state, rebuilt on decode-as.
#[derive(Debug, Default)]
struct DecodeState {
    http_protocol: Option<Protocol>,
    http_binary: Option<BinaryLayout>,
    text_mode: Option<Mode>,
    binary_mode: Option<Mode>,
    layout: Option<BinaryLayout>,
    decoders: [Option<BinaryDecoder>; 2],
    stream_positions: [u64; 2],
    /// Splits a streamed JSON-RPC response body (NDJSON) into values.
    json_stream: Option<JsonRpcDecoder>,
    json_stream_position: u64,
}

#[derive(Debug)]
struct Connection {
    serial: u64,
    info: ConnectionInfo,
    request_content_type: Option<String>,
    response_content_type: Option<String>,
    /// The response body arrives as `http_response_chunk` events.
    response_streaming: bool,
    ended: bool,
    retained_units: u64,
    state: DecodeState,
}

#[derive(Debug, Default)]
struct FrameStore {
    frames: VecDeque<Frame>,
    meta: VecDeque<FrameMeta>,
    next_frame_id: u64,
    bytes: u64,
}

fn frame_cost_bytes(frame: &Frame) -> u64 {
    (std::mem::size_of::<Frame>() + std::mem::size_of::<FrameMeta>()) as u64
        + heap_bytes(frame.session_id.len())
        + heap_bytes(frame.connection_id.len())
        + heap_bytes(frame.summary.len())
        + frame
            .malformed
            .as_ref()
            .map_or(0, |text| heap_bytes(text.len()))
}

struct NewFrame {
    direction: Direction,
    time_micros: u64,
    protocol: Protocol,
    size_bytes: u64,
    summary: String,
    malformed: Option<String>,
    payload: Range<u64>,
    unit_seq: u64,
    decoding: FrameDecoding,
    truncated: bool,
}

impl FrameStore {
    fn push(&mut self, info: &ConnectionInfo, new: NewFrame) -> u64 {
        let frame_id = self.next_frame_id;
        self.next_frame_id += 1;
        let frame = Frame {
            frame_id,
            session_id: info.session_id.clone(),
            connection_id: info.connection_id.clone(),
            transport: info.transport.unwrap_or(Transport::Http),
            direction: new.direction,
            time_micros: new.time_micros,
            protocol: new.protocol,
            size_bytes: new.size_bytes,
            summary: new.summary,
            malformed: new.malformed,
        };
        self.bytes += frame_cost_bytes(&frame);
        self.frames.push_back(frame);
        self.meta.push_back(FrameMeta {
            payload: new.payload,
            unit_seq: new.unit_seq,
            decoding: new.decoding,
            truncated: new.truncated,
        });
        frame_id
    }

    fn index_of(&self, frame_id: u64) -> Option<usize> {
        // Ids are handed out one by one and frames leave only from the front, so the offset
        // from the first retained id is the index; the search is the fallback.
        let front_id = self.frames.front()?.frame_id;
        if let Some(index) = frame_id
            .checked_sub(front_id)
            .and_then(|offset| usize::try_from(offset).ok())
            && self
                .frames
                .get(index)
                .is_some_and(|frame| frame.frame_id == frame_id)
        {
            return Some(index);
        }
        self.frames
            .binary_search_by_key(&frame_id, |frame| frame.frame_id)
            .ok()
    }
}

/// The store and pipeline of one inspection session. See the module docs.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    arena: Arena,
    units: VecDeque<Unit>,
    next_unit_seq: u64,
    frames: FrameStore,
    correlator: Correlator,
    connections: FastMap<u64, Connection>,
    connection_ids: FastMap<String, FastMap<String, u64>>,
    next_connection_serial: u64,
    evicted: EvictionCounts,
    dropped_by_producer: u64,
    unknown_events: u64,
    generation: u64,
    timeouts_checked_at: Option<u64>,
    finished_at: Option<u64>,
    shm: crate::shm::ShmTracker,
    /// The connection of the previous event (a lookup shortcut).
    last_connection: Option<u64>,
}

impl Default for Session {
    fn default() -> Self {
        Session::new(SessionConfig::default())
    }
}

const UNIT_COST_BYTES: u64 = std::mem::size_of::<Unit>() as u64;
const CONNECTION_COST_BYTES: u64 = std::mem::size_of::<Connection>() as u64 + 64;

impl Session {
    /// An empty session.
    pub fn new(config: SessionConfig) -> Self {
        Session {
            config,
            arena: Arena::default(),
            units: VecDeque::new(),
            next_unit_seq: 0,
            frames: FrameStore {
                next_frame_id: 1,
                ..FrameStore::default()
            },
            correlator: Correlator::new(1),
            connections: FastMap::default(),
            connection_ids: FastMap::default(),
            next_connection_serial: 1,
            evicted: EvictionCounts::default(),
            dropped_by_producer: 0,
            unknown_events: 0,
            generation: 0,
            timeouts_checked_at: None,
            finished_at: None,
            shm: crate::shm::ShmTracker::new(),
            last_connection: None,
        }
    }

    /// The settings, including the current decode-as choices.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Ingests one event. Never fails: bad payloads become malformed frames.
    pub fn ingest(&mut self, event: &CaptureEvent) {
        if let Some(unit) = self.record(event) {
            self.process_unit(&unit);
            self.units.push_back(unit);
            self.enforce_caps();
        }
    }

    /// Ingests events in order.
    pub fn ingest_all<'a>(&mut self, events: impl IntoIterator<Item = &'a CaptureEvent>) {
        for event in events {
            self.ingest(event);
        }
    }

    /// Marks calls pending for longer than the configured timeout as timed out, as of
    /// `now_micros`. Call it periodically in a live view.
    pub fn mark_timeouts(&mut self, now_micros: u64) -> usize {
        self.timeouts_checked_at = Some(self.timeouts_checked_at.unwrap_or(0).max(now_micros));
        match self.config.call_timeout_micros {
            Some(timeout) => self.correlator.mark_timeouts(now_micros, timeout),
            None => 0,
        }
    }

    /// Ends the capture at `now_micros`: marks timeouts and turns bytes still waiting in
    /// binary decoders (a partial last frame) into malformed frames, so nothing is dropped
    /// silently. Ingesting more events afterwards is allowed.
    pub fn finish(&mut self, now_micros: u64) {
        self.finished_at = Some(now_micros);
        let mut serials: Vec<u64> = self.connections.keys().copied().collect();
        serials.sort_unstable();
        for serial in serials {
            self.flush_decoders(serial, now_micros, None);
        }
        self.mark_timeouts(now_micros);
        self.enforce_caps();
    }

    /// Retained frames in `frame_id` (ingest) order.
    pub fn frames(
        &self,
    ) -> impl ExactSizeIterator<Item = &Frame> + DoubleEndedIterator + Clone + '_ {
        self.frames.frames.iter()
    }

    /// Number of retained frames.
    pub fn frame_count(&self) -> usize {
        self.frames.frames.len()
    }

    /// The retained frame at `index` in `frame_id` order (for windowed views).
    pub fn frame_at(&self, index: usize) -> Option<&Frame> {
        self.frames.frames.get(index)
    }

    /// A retained frame by id.
    pub fn frame(&self, frame_id: u64) -> Option<&Frame> {
        let index = self.frames.index_of(frame_id)?;
        self.frames.frames.get(index)
    }

    /// Retained calls in `(started_micros, call_id)` order.
    pub fn calls(&self) -> impl ExactSizeIterator<Item = &Call> + DoubleEndedIterator + Clone + '_ {
        self.correlator.calls().iter().map(|record| &record.call)
    }

    /// Number of retained calls.
    pub fn call_count(&self) -> usize {
        self.correlator.calls().len()
    }

    /// The retained call at `index` in `(started_micros, call_id)` order.
    pub fn call_at(&self, index: usize) -> Option<&Call> {
        self.correlator
            .calls()
            .get(index)
            .map(|record| &record.call)
    }

    /// A retained call by id.
    pub fn call(&self, call_id: u64) -> Option<&Call> {
        let index = self.correlator.position(call_id)?;
        self.correlator
            .calls()
            .get(index)
            .map(|record| &record.call)
    }

    /// Retained frames that could not be decoded, in `frame_id` order.
    pub fn malformed(&self) -> impl Iterator<Item = &Frame> + '_ {
        self.frames
            .frames
            .iter()
            .filter(|frame| frame.malformed.is_some())
    }

    /// What was evicted to stay within the caps.
    pub fn evicted(&self) -> EvictionCounts {
        self.evicted
    }

    /// Events the producer reported as dropped (`dropped` events).
    pub fn dropped_by_producer(&self) -> u64 {
        self.dropped_by_producer
    }

    /// Events of a type this core does not know (kept as counts).
    pub fn unknown_events(&self) -> u64 {
        self.unknown_events
    }

    /// Bytes currently retained (payloads plus bookkeeping), the quantity capped by
    /// [`SessionConfig::max_bytes`].
    pub fn retained_bytes(&self) -> u64 {
        self.arena.held_bytes()
            + self.frames.bytes
            + self.units.len() as u64 * UNIT_COST_BYTES
            + self.correlator.retained_bytes()
            + self.connections.len() as u64 * CONNECTION_COST_BYTES
    }

    /// Changes whenever decode-as renumbered frames and calls.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The stored bytes of a frame's payload (an HTTP body, a WebSocket message, one binary
    /// frame with its header, or the bytes a decoder had to skip).
    pub fn frame_payload(&self, frame_id: u64) -> Option<&[u8]> {
        let index = self.frames.index_of(frame_id)?;
        let meta = self.frames.meta.get(index)?;
        Some(self.arena.get(&meta.payload))
    }

    /// A frame's bytes, decoded for a detail view.
    pub fn frame_detail(&self, frame_id: u64) -> Option<FrameDetail<'_>> {
        let index = self.frames.index_of(frame_id)?;
        let frame = self.frames.frames.get(index)?;
        let meta = self.frames.meta.get(index)?;
        let bytes = self.arena.get(&meta.payload);
        let mut decoded_bytes = None;
        let decoded = if frame.malformed.is_some() && meta.decoding != FrameDecoding::Json {
            DecodedPayload::Raw
        } else {
            match meta.decoding {
                FrameDecoding::Json => DecodedPayload::JsonRpc(jsonrpc::parse_payload(bytes)),
                FrameDecoding::Binary => {
                    let layout = self
                        .find_connection(&frame.session_id, &frame.connection_id)
                        .and_then(|connection| connection.info.layout.clone())
                        .unwrap_or_else(BinaryLayout::cafe);
                    let payload_offset = layout.header_size_bytes.min(bytes.len());
                    let payload = &bytes[payload_offset..];
                    DecodedPayload::Binary {
                        layout_name: layout.name.clone(),
                        fields: layout.header_fields(bytes),
                        payload_offset,
                        protobuf: (layout.payload_codec == binary::PayloadCodec::Protobuf)
                            .then(|| protobuf::decode_raw(payload)),
                    }
                }
                FrameDecoding::GrpcWeb { text: false } => {
                    DecodedPayload::GrpcWeb(grpc_web::decode_body(bytes))
                }
                FrameDecoding::GrpcWeb { text: true } => {
                    decoded_bytes = grpc_web::decode_text_body(bytes).ok();
                    DecodedPayload::Raw
                }
                FrameDecoding::Raw => DecodedPayload::Raw,
            }
        };
        Some(FrameDetail {
            frame,
            bytes,
            truncated: meta.truncated,
            decoded_bytes,
            decoded,
        })
    }

    /// Which frames hold a call's request and response, and where in them (batch element,
    /// gRPC message), so a detail view can show the one element that belongs to the call.
    pub fn call_parts(&self, call_id: u64) -> Option<CallParts> {
        let index = self.correlator.position(call_id)?;
        let record: &CallRecord = self.correlator.calls().get(index)?;
        Some(CallParts {
            request: record.call.request_frame_id.map(|frame_id| FramePart {
                frame_id,
                part: record.request_part,
            }),
            response: record.call.response_frame_id.map(|frame_id| FramePart {
                frame_id,
                part: record.response_part,
            }),
        })
    }

    /// What is known about a connection. Connections are looked up by id across pages;
    /// when two pages used the same id, the earliest connection is returned.
    pub fn connection(&self, connection_id: &str) -> Option<&ConnectionInfo> {
        let mut best: Option<&Connection> = None;
        for by_id in self.connection_ids.values() {
            if let Some(serial) = by_id.get(connection_id)
                && let Some(connection) = self.connections.get(serial)
                && best.is_none_or(|current| connection.serial < current.serial)
            {
                best = Some(connection);
            }
        }
        best.map(|connection| &connection.info)
    }

    /// Retained connections in order of first appearance.
    pub fn connections(&self) -> Vec<&ConnectionInfo> {
        let mut list: Vec<&Connection> = self.connections.values().collect();
        list.sort_by_key(|connection| connection.serial);
        list.into_iter()
            .map(|connection| &connection.info)
            .collect()
    }

    /// Decode-as: decode binary payloads of `connection_id` with `layout` and re-decode what
    /// is retained.
    pub fn set_layout(
        &mut self,
        connection_id: &str,
        layout: BinaryLayout,
    ) -> Result<(), SessionError> {
        layout.validate()?;
        self.set_protocol(connection_id, ProtocolChoice::Binary { layout })
    }

    /// Decode-as: force (or with [`ProtocolChoice::Auto`], stop forcing) how a connection is
    /// decoded, then re-decode what is retained.
    pub fn set_protocol(
        &mut self,
        connection_id: &str,
        choice: ProtocolChoice,
    ) -> Result<(), SessionError> {
        if let ProtocolChoice::Binary { layout } = &choice {
            layout.validate()?;
        }
        if choice == ProtocolChoice::Auto {
            self.config.protocol_overrides.remove(connection_id);
        } else {
            self.config
                .protocol_overrides
                .insert(connection_id.to_owned(), choice);
        }
        self.redecode();
        Ok(())
    }

    /// Decode-as for every exchange or socket to `endpoint` (a URL without query), then
    /// re-decode what is retained.
    pub fn set_endpoint_protocol(
        &mut self,
        endpoint: &str,
        choice: ProtocolChoice,
    ) -> Result<(), SessionError> {
        if let ProtocolChoice::Binary { layout } = &choice {
            layout.validate()?;
        }
        let endpoint = endpoint_of(endpoint).to_owned();
        if choice == ProtocolChoice::Auto {
            self.config.endpoint_overrides.remove(&endpoint);
        } else {
            self.config.endpoint_overrides.insert(endpoint, choice);
        }
        self.redecode();
        Ok(())
    }

    /// Changes the byte order of the binary layout of a connection (the 0xCAFE preset unless
    /// another layout was chosen) and re-decodes.
    pub fn set_byte_order(
        &mut self,
        connection_id: &str,
        byte_order: ByteOrder,
    ) -> Result<(), SessionError> {
        let layout = self
            .connection(connection_id)
            .and_then(|info| info.layout.clone())
            .unwrap_or_else(BinaryLayout::cafe);
        self.set_layout(connection_id, layout.with_byte_order(byte_order))
    }

    fn find_connection(&self, session_id: &str, connection_id: &str) -> Option<&Connection> {
        let serial = self.connection_ids.get(session_id)?.get(connection_id)?;
        self.connections.get(serial)
    }

    fn connection_serial(&mut self, event: &CaptureEvent, transport: Transport) -> u64 {
        // Consecutive events mostly belong to the same connection: check it first.
        if let Some(serial) = self.last_connection
            && let Some(connection) = self.connections.get_mut(&serial)
            && connection.info.connection_id == event.connection_id
            && connection.info.session_id == event.session_id
        {
            let info = &mut connection.info;
            info.transport.get_or_insert(transport);
            info.last_event_micros = info.last_event_micros.max(event.time_micros);
            return serial;
        }
        if let Some(serial) = self
            .connection_ids
            .get(event.session_id.as_str())
            .and_then(|by_id| by_id.get(event.connection_id.as_str()))
            && let Some(connection) = self.connections.get_mut(serial)
        {
            let info = &mut connection.info;
            info.transport.get_or_insert(transport);
            info.last_event_micros = info.last_event_micros.max(event.time_micros);
            self.last_connection = Some(*serial);
            return *serial;
        }
        let serial = self.next_connection_serial;
        self.next_connection_serial += 1;
        self.connection_ids
            .entry(event.session_id.clone())
            .or_default()
            .insert(event.connection_id.clone(), serial);
        self.connections.insert(
            serial,
            Connection {
                serial,
                info: ConnectionInfo {
                    session_id: event.session_id.clone(),
                    connection_id: event.connection_id.clone(),
                    transport: Some(transport),
                    first_event_micros: event.time_micros,
                    last_event_micros: event.time_micros,
                    ..ConnectionInfo::default()
                },
                request_content_type: None,
                response_content_type: None,
                response_streaming: false,
                ended: false,
                retained_units: 0,
                state: DecodeState::default(),
            },
        );
        self.last_connection = Some(serial);
        serial
    }

    /// Stores the payload bytes of an event in the arena.
    fn store_payload(&mut self, payload: Option<&Payload>, prefix: &[u8]) -> StoredPayload {
        let start = self.arena.end();
        self.arena.bytes.extend_from_slice(prefix);
        let Some(payload) = payload else {
            return StoredPayload {
                range: start..self.arena.end(),
                original_size_bytes: 0,
                truncated: false,
                bad_base64: false,
            };
        };
        let limit = self.config.max_payload_bytes;
        let mut bad_base64 = false;
        match payload.encoding {
            PayloadEncoding::Text => {
                let data = payload.data.as_bytes();
                self.arena
                    .bytes
                    .extend_from_slice(&data[..data.len().min(limit)]);
            }
            PayloadEncoding::Base64 => {
                let before = self.arena.bytes.len();
                if base64::engine::general_purpose::STANDARD
                    .decode_vec(payload.data.as_bytes(), &mut self.arena.bytes)
                    .is_err()
                {
                    self.arena.bytes.truncate(before);
                    self.arena.bytes.extend_from_slice(
                        &payload.data.as_bytes()[..payload.data.len().min(limit)],
                    );
                    bad_base64 = true;
                }
                let end = (before + limit + prefix.len()).min(self.arena.bytes.len());
                self.arena.bytes.truncate(end);
            }
        }
        let stored = self.arena.end() - start - prefix.len() as u64;
        let original_size_bytes = payload.size_bytes.max(stored);
        StoredPayload {
            range: start..self.arena.end(),
            original_size_bytes,
            truncated: payload.truncated || stored < original_size_bytes,
            bad_base64,
        }
    }

    /// Updates connection metadata for an event and turns it into a unit when it matters to
    /// decoding.
    fn record(&mut self, event: &CaptureEvent) -> Option<Unit> {
        let time_micros = event.time_micros;
        let (serial, kind, payload, prefix): (u64, UnitKind, Option<&Payload>, &[u8]) =
            match &event.body {
                EventBody::Page { .. } => return None,
                EventBody::Dropped { count, .. } => {
                    self.dropped_by_producer += count;
                    return None;
                }
                EventBody::HttpRequest {
                    method,
                    url,
                    headers,
                    body,
                    ..
                } => {
                    let serial = self.connection_serial(event, Transport::Http);
                    let connection = self.connections.get_mut(&serial)?;
                    connection.info.http_method = method.clone();
                    connection.info.url = url.clone();
                    connection.info.request_headers = headers.clone();
                    connection.request_content_type = header(headers, "content-type");
                    (serial, UnitKind::HttpRequest, body.as_ref(), &[])
                }
                EventBody::HttpResponse {
                    status,
                    status_text,
                    headers,
                    body,
                    url,
                    ..
                } => {
                    let serial = self.connection_serial(event, Transport::Http);
                    let connection = self.connections.get_mut(&serial)?;
                    connection.info.status = Some(*status);
                    connection.info.status_text = status_text.clone();
                    connection.info.response_headers = headers.clone();
                    if connection.info.url.is_empty()
                        && let Some(url) = url
                    {
                        connection.info.url = url.clone();
                    }
                    connection.response_content_type = header(headers, "content-type");
                    connection.response_streaming = body.is_none()
                        && connection
                            .response_content_type
                            .as_deref()
                            .is_some_and(is_streaming_content_type);
                    connection.ended = !connection.response_streaming;
                    (
                        serial,
                        UnitKind::HttpResponse { status: *status },
                        body.as_ref(),
                        &[],
                    )
                }
                EventBody::HttpResponseChunk {
                    payload,
                    end_of_body,
                } => {
                    let serial = self.connection_serial(event, Transport::Http);
                    let connection = self.connections.get_mut(&serial)?;
                    connection.response_streaming = true;
                    if *end_of_body {
                        connection.ended = true;
                    }
                    (
                        serial,
                        UnitKind::HttpChunk {
                            end_of_body: *end_of_body,
                        },
                        Some(payload),
                        &[],
                    )
                }
                EventBody::CorsPreflight { .. } => return None,
                EventBody::HttpFailure {
                    failure,
                    error_name,
                    error_message,
                } => {
                    let serial = self.connection_serial(event, Transport::Http);
                    let connection = self.connections.get_mut(&serial)?;
                    let described = match (error_name.is_empty(), error_message.is_empty()) {
                        (true, true) => String::new(),
                        (false, true) => error_name.clone(),
                        (true, false) => error_message.clone(),
                        (false, false) => format!("{error_name}: {error_message}"),
                    };
                    connection.info.failure = Some((*failure, described));
                    connection.ended = true;
                    (
                        serial,
                        UnitKind::HttpFailure { failure: *failure },
                        None,
                        &[],
                    )
                }
                EventBody::WsConnect { url, .. } => {
                    let serial = self.connection_serial(event, Transport::Websocket);
                    if let Some(connection) = self.connections.get_mut(&serial) {
                        connection.info.url = url.clone();
                    }
                    return None;
                }
                EventBody::WsOpen { protocol, .. } => {
                    let serial = self.connection_serial(event, Transport::Websocket);
                    if let Some(connection) = self.connections.get_mut(&serial) {
                        connection.info.ws_protocol = protocol.clone();
                    }
                    return None;
                }
                EventBody::WsMessage { direction, payload } => {
                    let serial = self.connection_serial(event, Transport::Websocket);
                    (
                        serial,
                        UnitKind::WsMessage {
                            direction: *direction,
                            binary: payload.is_binary(),
                        },
                        Some(payload),
                        &[],
                    )
                }
                EventBody::WsClose {
                    code,
                    reason,
                    was_clean,
                } => {
                    let serial = self.connection_serial(event, Transport::Websocket);
                    let connection = self.connections.get_mut(&serial)?;
                    connection.info.close = Some((*code, reason.clone(), *was_clean));
                    connection.ended = true;
                    (serial, UnitKind::WsClose { code: *code }, None, &[])
                }
                EventBody::WsError {} => {
                    let serial = self.connection_serial(event, Transport::Websocket);
                    if let Some(connection) = self.connections.get_mut(&serial) {
                        connection.info.error_events += 1;
                    }
                    return None;
                }
                EventBody::SseConnect { url, .. } => {
                    let serial = self.connection_serial(event, Transport::Eventsource);
                    if let Some(connection) = self.connections.get_mut(&serial) {
                        connection.info.url = url.clone();
                    }
                    return None;
                }
                EventBody::SseOpen {} => {
                    self.connection_serial(event, Transport::Eventsource);
                    return None;
                }
                EventBody::SseMessage {
                    event_type, data, ..
                } => {
                    let serial = self.connection_serial(event, Transport::Eventsource);
                    let payload = Payload::text(data.clone());
                    let stored = self.store_payload(Some(&payload), event_type.as_bytes());
                    let connection = self.connections.get_mut(&serial)?;
                    connection.retained_units += 1;
                    let seq = self.next_unit_seq;
                    self.next_unit_seq += 1;
                    return Some(Unit {
                        seq,
                        connection_serial: serial,
                        time_micros,
                        kind: UnitKind::SseMessage {
                            event_type_len: event_type.len() as u32,
                        },
                        payload: stored.range,
                        original_size_bytes: stored.original_size_bytes,
                        truncated: stored.truncated,
                        bad_base64: false,
                    });
                }
                EventBody::SseError { ready_state } => {
                    let serial = self.connection_serial(event, Transport::Eventsource);
                    if let Some(connection) = self.connections.get_mut(&serial) {
                        connection.info.error_events += 1;
                        if *ready_state == 2 {
                            connection.ended = true;
                        }
                    }
                    return None;
                }
                EventBody::ShmChannel { .. }
                | EventBody::ShmMessage { .. }
                | EventBody::ShmState { .. }
                | EventBody::ShmActivity { .. } => return self.shm_record(event),
                EventBody::Unknown { .. } => {
                    self.unknown_events += 1;
                    return None;
                }
                #[allow(unreachable_patterns)]
                _ => {
                    self.unknown_events += 1;
                    return None;
                }
            };
        let stored = self.store_payload(payload, prefix);
        let connection = self.connections.get_mut(&serial)?;
        connection.retained_units += 1;
        let seq = self.next_unit_seq;
        self.next_unit_seq += 1;
        Some(Unit {
            seq,
            connection_serial: serial,
            time_micros,
            kind,
            payload: stored.range,
            original_size_bytes: stored.original_size_bytes,
            truncated: stored.truncated,
            bad_base64: stored.bad_base64,
        })
    }

    fn choice_for(&self, connection: &Connection) -> ProtocolChoice {
        if let Some(choice) = self
            .config
            .protocol_overrides
            .get(&connection.info.connection_id)
        {
            return choice.clone();
        }
        if !self.config.endpoint_overrides.is_empty()
            && let Some(choice) = self
                .config
                .endpoint_overrides
                .get(endpoint_of(&connection.info.url))
        {
            return choice.clone();
        }
        ProtocolChoice::Auto
    }

    fn process_unit(&mut self, unit: &Unit) {
        let Some(connection) = self.connections.get(&unit.connection_serial) else {
            return;
        };
        let choice = self.choice_for(connection);
        if unit.bad_base64 {
            let (direction, request_side) = match unit.kind {
                UnitKind::HttpRequest => (Direction::Sent, true),
                UnitKind::WsMessage { direction, .. } | UnitKind::ShmMessage { direction, .. } => {
                    (direction, false)
                }
                _ => (Direction::Received, false),
            };
            let _ = request_side;
            self.push_raw_frame(
                unit,
                direction,
                Protocol::Raw,
                Some("payload is not valid base64".to_owned()),
            );
            return;
        }
        match unit.kind {
            UnitKind::HttpRequest => self.http_request(unit, choice),
            UnitKind::HttpResponse { status } => self.http_response(unit, status),
            UnitKind::HttpChunk { end_of_body } => self.http_chunk(unit, end_of_body),
            UnitKind::HttpFailure { failure } => self.http_failure(unit, failure),
            UnitKind::WsMessage { direction, binary } => {
                self.ws_message(unit, direction, binary, choice)
            }
            UnitKind::WsClose { code } => {
                let end = CallEnd {
                    time_micros: unit.time_micros,
                    frame_id: None,
                    part: 0,
                    size_bytes: 0,
                    outcome: Outcome::Error,
                    error_code: None,
                    error_message: Some(format!(
                        "WebSocket closed (code {code}) before a response"
                    )),
                };
                self.flush_decoders(unit.connection_serial, unit.time_micros, Some(unit.seq));
                self.correlator.close_all(unit.connection_serial, &end);
            }
            UnitKind::SseMessage { event_type_len } => self.sse_message(unit, event_type_len),
            UnitKind::ShmMessage {
                direction,
                binary,
                role,
            } => self.shm_message(unit, direction, binary, role, choice),
        }
    }

    fn push_raw_frame(
        &mut self,
        unit: &Unit,
        direction: Direction,
        protocol: Protocol,
        malformed: Option<String>,
    ) -> Option<u64> {
        let connection = self.connections.get(&unit.connection_serial)?;
        let bytes = self.arena.get(&unit.payload);
        let summary = raw_summary(bytes, unit.original_size_bytes);
        Some(self.frames.push(
            &connection.info,
            NewFrame {
                direction,
                time_micros: unit.time_micros,
                protocol,
                size_bytes: unit.original_size_bytes,
                summary,
                malformed,
                payload: unit.payload.clone(),
                unit_seq: unit.seq,
                decoding: FrameDecoding::Raw,
                truncated: unit.truncated,
            },
        ))
    }

    fn http_request(&mut self, unit: &Unit, choice: ProtocolChoice) {
        let Some(connection) = self.connections.get(&unit.connection_serial) else {
            return;
        };
        let bytes = self.arena.get(&unit.payload);
        let grpc_content = connection
            .request_content_type
            .as_deref()
            .is_some_and(|value| {
                value
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/grpc-web")
            });
        let protocol = match &choice {
            ProtocolChoice::GrpcWeb => Protocol::GrpcWeb,
            ProtocolChoice::JsonRpc => Protocol::JsonRpc2,
            ProtocolChoice::Binary { .. } => Protocol::Cafe,
            ProtocolChoice::Raw => Protocol::Http,
            ProtocolChoice::Auto if grpc_content => Protocol::GrpcWeb,
            ProtocolChoice::Auto => {
                if is_jsonrpc(bytes, unit.truncated) {
                    Protocol::JsonRpc2
                } else {
                    Protocol::Http
                }
            }
        };
        let method_path = format!(
            "{} {}",
            connection.info.http_method,
            path_of(&connection.info.url)
        );
        match protocol {
            Protocol::JsonRpc2 | Protocol::JsonRpc1 => {
                if let Some(connection) = self.connections.get_mut(&unit.connection_serial) {
                    connection.state.http_protocol = Some(Protocol::JsonRpc2);
                }
                self.jsonrpc_unit(unit, Direction::Sent, true);
            }
            Protocol::Cafe => {
                let ProtocolChoice::Binary { layout } = choice else {
                    return;
                };
                if let Some(connection) = self.connections.get_mut(&unit.connection_serial) {
                    connection.state.http_protocol = Some(Protocol::Cafe);
                    connection.state.http_binary = Some(layout.clone());
                    connection.info.layout = Some(layout.clone());
                }
                self.binary_unit(unit, Direction::Sent, &layout, true);
            }
            Protocol::GrpcWeb => {
                let text = connection
                    .request_content_type
                    .as_deref()
                    .is_some_and(|value| value.contains("grpc-web-text"));
                let method = path_of(&connection.info.url)
                    .trim_start_matches('/')
                    .to_owned();
                let owned_text;
                let data: &[u8] = if text {
                    owned_text = grpc_web::decode_text_body(bytes).unwrap_or_default();
                    &owned_text
                } else {
                    bytes
                };
                let body = grpc_web::decode_body(data);
                let malformed = body
                    .error
                    .as_ref()
                    .map(|error| truncation_note(unit, format!("gRPC-web framing: {error}")));
                let summary = format!(
                    "gRPC-web {method} ({} message{})",
                    body.messages.len(),
                    plural(body.messages.len())
                );
                let frame_id = self.frames.push(
                    &connection.info,
                    NewFrame {
                        direction: Direction::Sent,
                        time_micros: unit.time_micros,
                        protocol: Protocol::GrpcWeb,
                        size_bytes: unit.original_size_bytes,
                        summary,
                        malformed,
                        payload: unit.payload.clone(),
                        unit_seq: unit.seq,
                        decoding: FrameDecoding::GrpcWeb { text },
                        truncated: unit.truncated,
                    },
                );
                self.correlator.open(http_exchange_call(
                    &connection.info,
                    unit,
                    Protocol::GrpcWeb,
                    &method,
                    frame_id,
                ));
                if let Some(connection) = self.connections.get_mut(&unit.connection_serial) {
                    connection.state.http_protocol = Some(Protocol::GrpcWeb);
                }
            }
            Protocol::Http | Protocol::Raw => {
                let summary = method_path.clone();
                let frame_id = self.frames.push(
                    &connection.info,
                    NewFrame {
                        direction: Direction::Sent,
                        time_micros: unit.time_micros,
                        protocol: Protocol::Http,
                        size_bytes: unit.original_size_bytes,
                        summary,
                        malformed: None,
                        payload: unit.payload.clone(),
                        unit_seq: unit.seq,
                        decoding: FrameDecoding::Raw,
                        truncated: unit.truncated,
                    },
                );
                self.correlator.open(http_exchange_call(
                    &connection.info,
                    unit,
                    Protocol::Http,
                    &method_path,
                    frame_id,
                ));
                if let Some(connection) = self.connections.get_mut(&unit.connection_serial) {
                    connection.state.http_protocol = Some(Protocol::Http);
                }
            }
        }
    }

    fn http_response(&mut self, unit: &Unit, status: u16) {
        let Some(connection) = self.connections.get(&unit.connection_serial) else {
            return;
        };
        let bytes = self.arena.get(&unit.payload);
        let protocol = match connection.state.http_protocol {
            Some(protocol) => protocol,
            None => {
                // The request was not seen: decide from the response.
                if is_jsonrpc(bytes, unit.truncated) {
                    Protocol::JsonRpc2
                } else {
                    Protocol::Http
                }
            }
        };
        let status_error = (status >= 400).then(|| i64::from(status));
        let status_text = connection.info.status_text.clone();
        let mut response_frame = None;
        if connection.response_streaming
            && matches!(protocol, Protocol::JsonRpc2 | Protocol::JsonRpc1)
        {
            // The body follows in chunks; the exchange ends with the last one.
            self.push_raw_frame(unit, Direction::Received, Protocol::JsonRpc2, None);
            return;
        }
        match protocol {
            Protocol::JsonRpc2 | Protocol::JsonRpc1 => {
                let empty = bytes.iter().all(u8::is_ascii_whitespace);
                let json = matches!(
                    bytes.iter().find(|byte| !byte.is_ascii_whitespace()),
                    Some(b'{' | b'[')
                );
                if empty || (status_error.is_some() && !json) {
                    // No body, or an HTTP error page: the status says it all.
                    let info = &connection.info;
                    let summary = if empty {
                        format!("{status} {status_text} (no body)")
                    } else {
                        format!("{status} {status_text}")
                    };
                    response_frame = Some(self.frames.push(
                        info,
                        NewFrame {
                            direction: Direction::Received,
                            time_micros: unit.time_micros,
                            protocol: Protocol::Http,
                            size_bytes: unit.original_size_bytes,
                            summary,
                            malformed: None,
                            payload: unit.payload.clone(),
                            unit_seq: unit.seq,
                            decoding: FrameDecoding::Raw,
                            truncated: unit.truncated,
                        },
                    ));
                } else {
                    response_frame = self.jsonrpc_unit(unit, Direction::Received, false);
                }
            }
            Protocol::Cafe => {
                let layout = connection
                    .state
                    .http_binary
                    .clone()
                    .unwrap_or_else(BinaryLayout::cafe);
                self.binary_unit(unit, Direction::Received, &layout, true);
            }
            Protocol::GrpcWeb => {
                let text = connection
                    .response_content_type
                    .as_deref()
                    .is_some_and(|value| value.contains("grpc-web-text"));
                let owned_text;
                let data: &[u8] = if text {
                    owned_text = grpc_web::decode_text_body(bytes).unwrap_or_default();
                    &owned_text
                } else {
                    bytes
                };
                let body = grpc_web::decode_body(data);
                let trailers = body
                    .trailers
                    .clone()
                    .or_else(|| grpc_web::trailers_from_headers(&connection.info.response_headers));
                let malformed = body
                    .error
                    .as_ref()
                    .map(|error| truncation_note(unit, format!("gRPC-web framing: {error}")));
                let grpc_status = trailers.as_ref().and_then(|trailers| trailers.status);
                let summary = match grpc_status {
                    Some(code) => format!(
                        "{status} grpc-status {code} ({} message{})",
                        body.messages.len(),
                        plural(body.messages.len())
                    ),
                    None => format!("{status} {status_text}"),
                };
                let frame_id = self.frames.push(
                    &connection.info,
                    NewFrame {
                        direction: Direction::Received,
                        time_micros: unit.time_micros,
                        protocol: Protocol::GrpcWeb,
                        size_bytes: unit.original_size_bytes,
                        summary,
                        malformed,
                        payload: unit.payload.clone(),
                        unit_seq: unit.seq,
                        decoding: FrameDecoding::GrpcWeb { text },
                        truncated: unit.truncated,
                    },
                );
                let (outcome, error_code, error_message) = match (grpc_status, status_error) {
                    (Some(0), None) => (Outcome::Ok, None, None),
                    (Some(code), _) => (
                        Outcome::Error,
                        Some(code),
                        trailers.and_then(|trailers| trailers.message),
                    ),
                    (None, Some(code)) => (Outcome::Error, Some(code), Some(status_text.clone())),
                    (None, None) => (
                        Outcome::Error,
                        None,
                        Some("gRPC-web response without grpc-status".to_owned()),
                    ),
                };
                let end = CallEnd {
                    time_micros: unit.time_micros,
                    frame_id: Some(frame_id),
                    part: 0,
                    size_bytes: unit.original_size_bytes,
                    outcome,
                    error_code,
                    error_message,
                };
                self.close_or_orphan(unit, frame_id, Protocol::GrpcWeb, IdKey::Null, end, "");
                response_frame = Some(frame_id);
            }
            Protocol::Http | Protocol::Raw => {
                let connection_info = &connection.info;
                let summary = if status_text.is_empty() {
                    status.to_string()
                } else {
                    format!("{status} {status_text}")
                };
                let method_path = format!(
                    "{} {}",
                    connection_info.http_method,
                    path_of(&connection_info.url)
                );
                let frame_id = self.frames.push(
                    connection_info,
                    NewFrame {
                        direction: Direction::Received,
                        time_micros: unit.time_micros,
                        protocol: Protocol::Http,
                        size_bytes: unit.original_size_bytes,
                        summary,
                        malformed: None,
                        payload: unit.payload.clone(),
                        unit_seq: unit.seq,
                        decoding: FrameDecoding::Raw,
                        truncated: unit.truncated,
                    },
                );
                let end = CallEnd {
                    time_micros: unit.time_micros,
                    frame_id: Some(frame_id),
                    part: 0,
                    size_bytes: unit.original_size_bytes,
                    outcome: if status_error.is_some() {
                        Outcome::Error
                    } else {
                        Outcome::Ok
                    },
                    error_code: status_error,
                    error_message: status_error.map(|_| status_text.clone()),
                };
                self.close_or_orphan(
                    unit,
                    frame_id,
                    Protocol::Http,
                    IdKey::Null,
                    end,
                    &method_path,
                );
                response_frame = Some(frame_id);
            }
        }
        // The exchange is over: whatever is still pending got no answer in this response.
        if self.correlator.has_pending(unit.connection_serial) {
            let message = match status_error {
                Some(_) => format!("HTTP {status} {status_text}"),
                None => {
                    format!("the HTTP response (status {status}) has no response for this request")
                }
            };
            let end = CallEnd {
                time_micros: unit.time_micros,
                frame_id: response_frame,
                part: 0,
                size_bytes: unit.original_size_bytes,
                outcome: Outcome::Error,
                error_code: status_error,
                error_message: Some(message),
            };
            self.correlator.close_all(unit.connection_serial, &end);
        }
    }

    fn http_chunk(&mut self, unit: &Unit, end_of_body: bool) {
        let Some(connection) = self.connections.get_mut(&unit.connection_serial) else {
            return;
        };
        let jsonrpc = matches!(
            connection.state.http_protocol,
            Some(Protocol::JsonRpc2 | Protocol::JsonRpc1)
        );
        if !jsonrpc {
            if unit.payload.end > unit.payload.start {
                let protocol = connection.state.http_protocol.unwrap_or(Protocol::Http);
                self.push_raw_frame(unit, Direction::Received, protocol, None);
            }
        } else {
            let bytes = self.arena.get(&unit.payload);
            let state = &mut connection.state;
            let decoder = state.json_stream.get_or_insert_with(JsonRpcDecoder::new);
            let unit_stream_start = state.json_stream_position;
            state.json_stream_position += bytes.len() as u64;
            decoder.push(bytes);
            let mut pieces = Vec::new();
            loop {
                match decoder.next_frame() {
                    Ok(Some(value)) => {
                        // Offset of the value: what was buffered minus what remains after it.
                        let value_len = value.len() as u64;
                        let value = value.to_vec();
                        let remaining = decoder.buffered_len() as u64;
                        let stream_end = state.json_stream_position - remaining;
                        let stream_start = stream_end - value_len;
                        pieces.push((stream_start, value, None));
                    }
                    Ok(None) => break,
                    Err(error) => pieces.push((
                        error.stream_offset,
                        error.skipped.clone(),
                        Some(error.to_string()),
                    )),
                }
            }
            if end_of_body && let Some(error) = decoder.finish() {
                pieces.push((
                    error.stream_offset,
                    error.skipped.clone(),
                    Some(error.to_string()),
                ));
            }
            for (stream_offset, bytes, problem) in pieces {
                let range = locate(
                    &mut self.arena,
                    unit,
                    unit_stream_start,
                    stream_offset,
                    &bytes,
                );
                let piece_unit = Unit {
                    payload: range,
                    original_size_bytes: bytes.len() as u64,
                    truncated: false,
                    ..unit.clone()
                };
                match problem {
                    None => {
                        self.jsonrpc_unit(&piece_unit, Direction::Received, false);
                    }
                    Some(reason) => {
                        self.push_raw_frame(
                            &piece_unit,
                            Direction::Received,
                            Protocol::JsonRpc2,
                            Some(reason),
                        );
                    }
                }
            }
        }
        if end_of_body && self.correlator.has_pending(unit.connection_serial) {
            let end = CallEnd {
                time_micros: unit.time_micros,
                frame_id: None,
                part: 0,
                size_bytes: 0,
                outcome: Outcome::Error,
                error_code: None,
                error_message: Some(
                    "the streamed HTTP response ended without a response for this request"
                        .to_owned(),
                ),
            };
            self.correlator.close_all(unit.connection_serial, &end);
        }
    }

    fn close_or_orphan(
        &mut self,
        unit: &Unit,
        frame_id: u64,
        protocol: Protocol,
        id: IdKey,
        end: CallEnd,
        method: &str,
    ) {
        let key = PendingKey {
            connection_serial: unit.connection_serial,
            sent_by_page: true,
            id,
        };
        let orphan_fields = (end.error_code, end.error_message.clone(), end.size_bytes);
        if self.correlator.close(&key, end) {
            return;
        }
        let Some(connection) = self.connections.get(&unit.connection_serial) else {
            return;
        };
        self.correlator.orphan(CallStart {
            session_id: &connection.info.session_id,
            connection_id: &connection.info.connection_id,
            connection_serial: unit.connection_serial,
            transport: connection.info.transport.unwrap_or(Transport::Http),
            protocol,
            method,
            request_id: None,
            pending_id: None,
            direction: Direction::Received,
            kind: CallKind::Call,
            outcome: Outcome::Orphan,
            error_code: orphan_fields.0,
            error_message: orphan_fields.1,
            time_micros: unit.time_micros,
            frame_id,
            part: 0,
            size_bytes: orphan_fields.2,
        });
    }

    fn http_failure(&mut self, unit: &Unit, failure: HttpFailureKind) {
        let described = self
            .connections
            .get(&unit.connection_serial)
            .and_then(|connection| connection.info.failure.as_ref())
            .map(|(_, text)| text.clone())
            .unwrap_or_default();
        let (outcome, prefix) = match failure {
            HttpFailureKind::Network => (Outcome::Error, "network error"),
            HttpFailureKind::Abort => (Outcome::Error, "aborted"),
            HttpFailureKind::Timeout => (Outcome::Timeout, "timed out"),
        };
        let message = if described.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}: {described}")
        };
        let end = CallEnd {
            time_micros: unit.time_micros,
            frame_id: None,
            part: 0,
            size_bytes: 0,
            outcome,
            error_code: None,
            error_message: Some(message),
        };
        self.correlator.close_all(unit.connection_serial, &end);
    }

    fn ws_message(
        &mut self,
        unit: &Unit,
        direction: Direction,
        binary: bool,
        choice: ProtocolChoice,
    ) {
        let Some(connection) = self.connections.get(&unit.connection_serial) else {
            return;
        };
        let bytes = self.arena.get(&unit.payload);
        let sticky = if binary {
            connection.state.binary_mode
        } else {
            connection.state.text_mode
        };
        let (mode, layout) = match (&choice, sticky) {
            (ProtocolChoice::Raw, _) => (Mode::Raw, None),
            (ProtocolChoice::JsonRpc, _) => (Mode::JsonRpc, None),
            (ProtocolChoice::GrpcWeb, _) if binary => {
                (Mode::Binary, Some(BinaryLayout::grpc_web()))
            }
            (ProtocolChoice::Binary { layout }, _) if binary => {
                (Mode::Binary, Some(layout.clone()))
            }
            (_, Some(Mode::Binary)) => (Mode::Binary, connection.state.layout.clone()),
            (_, Some(mode)) => (mode, None),
            _ => {
                if binary && bytes.len() >= 2 && bytes[0] == 0xCA && bytes[1] == 0xFE {
                    (Mode::Binary, Some(BinaryLayout::cafe()))
                } else if binary && bytes.len() >= 2 && bytes[0] == 0xFE && bytes[1] == 0xCA {
                    (
                        Mode::Binary,
                        Some(BinaryLayout::cafe().with_byte_order(ByteOrder::LittleEndian)),
                    )
                } else if is_jsonrpc(bytes, unit.truncated) {
                    (Mode::JsonRpc, None)
                } else {
                    // Not recognised (yet): shown raw, detection tries again next message.
                    self.push_raw_frame(unit, direction, Protocol::Raw, None);
                    return;
                }
            }
        };
        if let Some(connection) = self.connections.get_mut(&unit.connection_serial) {
            if binary {
                connection.state.binary_mode = Some(mode);
            } else {
                connection.state.text_mode = Some(mode);
            }
            if let Some(layout) = &layout {
                connection.state.layout = Some(layout.clone());
                connection.info.layout = Some(layout.clone());
            }
        }
        match mode {
            Mode::Raw => {
                self.push_raw_frame(unit, direction, Protocol::Raw, None);
            }
            Mode::JsonRpc => {
                self.jsonrpc_unit(unit, direction, direction == Direction::Sent);
            }
            Mode::Binary => {
                let layout = layout.unwrap_or_else(BinaryLayout::cafe);
                self.binary_unit(unit, direction, &layout, false);
            }
        }
    }

    fn sse_message(&mut self, unit: &Unit, event_type_len: u32) {
        let Some(connection) = self.connections.get(&unit.connection_serial) else {
            return;
        };
        let all = self.arena.get(&unit.payload);
        let split = (event_type_len as usize).min(all.len());
        let (event_type, data) = all.split_at(split);
        let data_range = unit.payload.start + split as u64..unit.payload.end;
        if matches!(
            data.iter().find(|byte| !byte.is_ascii_whitespace()),
            Some(b'{' | b'[')
        ) && jsonrpc::parse_payload(data).looks_like_jsonrpc()
        {
            let data_unit = Unit {
                payload: data_range,
                ..unit.clone()
            };
            self.jsonrpc_unit(&data_unit, Direction::Received, false);
            return;
        }
        let method = String::from_utf8_lossy(event_type).into_owned();
        let method = if method.is_empty() {
            "message".to_owned()
        } else {
            method
        };
        let summary = format!("{method}: {}", raw_summary(data, unit.original_size_bytes));
        let frame_id = self.frames.push(
            &connection.info,
            NewFrame {
                direction: Direction::Received,
                time_micros: unit.time_micros,
                protocol: Protocol::Raw,
                size_bytes: unit.original_size_bytes,
                summary,
                malformed: None,
                payload: data_range,
                unit_seq: unit.seq,
                decoding: FrameDecoding::Raw,
                truncated: unit.truncated,
            },
        );
        self.correlator.open(CallStart {
            session_id: &connection.info.session_id,
            connection_id: &connection.info.connection_id,
            connection_serial: unit.connection_serial,
            transport: Transport::Eventsource,
            protocol: Protocol::Raw,
            method: &method,
            request_id: None,
            pending_id: None,
            direction: Direction::Received,
            kind: CallKind::Notification,
            outcome: Outcome::Ok,
            error_code: None,
            error_message: None,
            time_micros: unit.time_micros,
            frame_id,
            part: 0,
            size_bytes: unit.original_size_bytes,
        });
    }

    /// Decodes a unit as JSON-RPC: one frame, one call per message. Returns the frame id.
    fn jsonrpc_unit(
        &mut self,
        unit: &Unit,
        direction: Direction,
        request_side: bool,
    ) -> Option<u64> {
        let connection = self.connections.get(&unit.connection_serial)?;
        let info = &connection.info;
        let bytes = self.arena.get(&unit.payload);
        let payload = jsonrpc::parse_payload(bytes);
        let (protocol, summary, malformed) = summarize_jsonrpc(&payload, bytes, unit);
        let frame_id = self.frames.push(
            info,
            NewFrame {
                direction,
                time_micros: unit.time_micros,
                protocol,
                size_bytes: unit.original_size_bytes,
                summary,
                malformed,
                payload: unit.payload.clone(),
                unit_seq: unit.seq,
                decoding: FrameDecoding::Json,
                truncated: unit.truncated,
            },
        );
        let transport = info.transport.unwrap_or(Transport::Http);
        match &payload {
            JsonRpcPayload::ParseError(failure) if unit.truncated && failure.unexpected_end => {
                // Cut off by the capture, not invalid on the wire: keep what can be read.
                let found = jsonrpc::scan_truncated(bytes).unwrap_or_default();
                let id = found.id.as_deref();
                let start = CallStart {
                    session_id: &info.session_id,
                    connection_id: &info.connection_id,
                    connection_serial: unit.connection_serial,
                    transport,
                    protocol,
                    method: found.method.as_deref().unwrap_or(""),
                    request_id: id,
                    pending_id: None,
                    direction,
                    kind: CallKind::Call,
                    outcome: Outcome::Pending,
                    error_code: None,
                    error_message: None,
                    time_micros: unit.time_micros,
                    frame_id,
                    part: 0,
                    size_bytes: unit.original_size_bytes,
                };
                let id_key = IdKey::from_json(id.unwrap_or("null"));
                if found.method.is_some() || (request_side && !found.has_result && !found.has_error)
                {
                    self.correlator.open(CallStart {
                        pending_id: Some(id_key),
                        ..start
                    });
                } else {
                    let (outcome, error_message) = if found.has_error {
                        (
                            Outcome::Error,
                            Some("error response (truncated by the capture)".to_owned()),
                        )
                    } else {
                        (Outcome::Ok, None)
                    };
                    let key = PendingKey {
                        connection_serial: unit.connection_serial,
                        sent_by_page: direction == Direction::Received,
                        id: id_key,
                    };
                    let end = CallEnd {
                        time_micros: unit.time_micros,
                        frame_id: Some(frame_id),
                        part: 0,
                        size_bytes: unit.original_size_bytes,
                        outcome,
                        error_code: None,
                        error_message: error_message.clone(),
                    };
                    if !self.correlator.close(&key, end) {
                        self.correlator.orphan(CallStart {
                            error_message,
                            ..start
                        });
                    }
                }
            }
            JsonRpcPayload::ParseError(failure) => {
                if request_side {
                    let message = truncation_note(unit, failure.to_string());
                    self.correlator.open(CallStart {
                        session_id: &info.session_id,
                        connection_id: &info.connection_id,
                        connection_serial: unit.connection_serial,
                        transport,
                        protocol,
                        method: "",
                        request_id: None,
                        pending_id: Some(IdKey::Null),
                        direction,
                        kind: CallKind::Call,
                        outcome: Outcome::Invalid,
                        error_code: Some(PARSE_ERROR_CODE),
                        error_message: Some(message),
                        time_micros: unit.time_micros,
                        frame_id,
                        part: 0,
                        size_bytes: unit.original_size_bytes,
                    });
                }
            }
            JsonRpcPayload::Single(_) | JsonRpcPayload::Batch(_) => {
                let batch = matches!(payload, JsonRpcPayload::Batch(_));
                for (part, message) in payload.messages().iter().enumerate() {
                    let size_bytes = if batch {
                        message.raw.len() as u64
                    } else {
                        unit.original_size_bytes
                    };
                    correlate_message(
                        &mut self.correlator,
                        info,
                        unit,
                        MessageContext {
                            frame_id,
                            part: part as u32,
                            direction,
                            transport,
                            size_bytes,
                        },
                        message,
                    );
                }
            }
        }
        Some(frame_id)
    }

    /// Pushes a unit's bytes into the connection's binary decoder for `direction` and turns
    /// every complete frame (or skipped stretch) into a frame and a call. With
    /// `whole_body`, the unit is a complete stream (an HTTP body) and leftovers are flushed.
    fn binary_unit(
        &mut self,
        unit: &Unit,
        direction: Direction,
        layout: &BinaryLayout,
        whole_body: bool,
    ) {
        let side = direction_index(direction);
        let unit_stream_start;
        {
            let Some(connection) = self.connections.get_mut(&unit.connection_serial) else {
                return;
            };
            let state = &mut connection.state;
            if whole_body || state.decoders[side].is_none() {
                state.decoders[side] = BinaryDecoder::new(layout.clone()).ok();
                state.stream_positions[side] = 0;
            }
            let Some(decoder) = state.decoders[side].as_mut() else {
                return;
            };
            let bytes = self.arena.get(&unit.payload);
            decoder.push(bytes);
            unit_stream_start = state.stream_positions[side];
            state.stream_positions[side] += bytes.len() as u64;
        }
        loop {
            let Some(connection) = self.connections.get_mut(&unit.connection_serial) else {
                return;
            };
            let Some(decoder) = connection.state.decoders[side].as_mut() else {
                return;
            };
            let item = match decoder.next_frame() {
                Ok(None) => break,
                Ok(Some(frame)) => {
                    let range = locate(
                        &mut self.arena,
                        unit,
                        unit_stream_start,
                        frame.stream_offset,
                        frame.bytes,
                    );
                    BinaryItem::Frame {
                        range,
                        message_type: frame.message_type,
                        request_id: frame.request_id,
                        len: frame.bytes.len(),
                        payload_len: frame.payload().len(),
                    }
                }
                Err(error) => {
                    let range = locate(
                        &mut self.arena,
                        unit,
                        unit_stream_start,
                        error.stream_offset,
                        &error.skipped,
                    );
                    BinaryItem::Malformed { range, error }
                }
            };
            self.emit_binary_item(unit, direction, layout, item);
        }
        if whole_body {
            self.flush_side(unit.connection_serial, side, unit, unit.time_micros);
        }
        self.update_buffered(unit.connection_serial);
    }

    fn update_buffered(&mut self, serial: u64) {
        if let Some(connection) = self.connections.get_mut(&serial) {
            connection.info.buffered_bytes = connection
                .state
                .decoders
                .iter()
                .flatten()
                .map(|decoder| decoder.buffered_len() as u64)
                .sum();
        }
    }

    fn flush_side(&mut self, serial: u64, side: usize, unit: &Unit, time_micros: u64) {
        let Some(connection) = self.connections.get_mut(&serial) else {
            return;
        };
        let Some(decoder) = connection.state.decoders[side].as_mut() else {
            return;
        };
        let layout = decoder.layout().clone();
        if let Some(error) = decoder.finish() {
            let range = self.arena.push(&error.skipped);
            let direction = if side == 0 {
                Direction::Sent
            } else {
                Direction::Received
            };
            let flush_unit = Unit {
                time_micros,
                ..unit.clone()
            };
            self.emit_binary_item(
                &flush_unit,
                direction,
                &layout,
                BinaryItem::Malformed { range, error },
            );
        }
    }

    /// Flushes both binary decoders of a connection (at close or end of capture).
    fn flush_decoders(&mut self, serial: u64, time_micros: u64, unit_seq: Option<u64>) {
        let Some(connection) = self.connections.get(&serial) else {
            return;
        };
        if connection.state.decoders.iter().all(|decoder| {
            decoder
                .as_ref()
                .is_none_or(|decoder| decoder.buffered_len() == 0)
        }) {
            return;
        }
        let unit = Unit {
            seq: unit_seq.unwrap_or(self.next_unit_seq.saturating_sub(1)),
            connection_serial: serial,
            time_micros,
            kind: UnitKind::WsClose { code: 0 },
            payload: 0..0,
            original_size_bytes: 0,
            truncated: false,
            bad_base64: false,
        };
        for side in 0..2 {
            self.flush_side(serial, side, &unit, time_micros);
        }
        self.update_buffered(serial);
    }

    fn emit_binary_item(
        &mut self,
        unit: &Unit,
        direction: Direction,
        layout: &BinaryLayout,
        item: BinaryItem,
    ) {
        let Some(connection) = self.connections.get(&unit.connection_serial) else {
            return;
        };
        let info = &connection.info;
        let transport = info.transport.unwrap_or(Transport::Websocket);
        let protocol = if layout.name == "gRPC-web" {
            Protocol::GrpcWeb
        } else {
            Protocol::Cafe
        };
        match item {
            BinaryItem::Malformed { range, error } => {
                let size_bytes = error.skipped.len() as u64;
                self.frames.push(
                    info,
                    NewFrame {
                        direction,
                        time_micros: unit.time_micros,
                        protocol,
                        size_bytes,
                        summary: format!("{} bytes not decodable as {}", size_bytes, layout.name),
                        malformed: Some(format!("{}: {}", layout.name, error)),
                        payload: range,
                        unit_seq: unit.seq,
                        decoding: FrameDecoding::Raw,
                        truncated: false,
                    },
                );
            }
            BinaryItem::Frame {
                range,
                message_type,
                request_id,
                len,
                payload_len,
            } => {
                let sent = direction == Direction::Sent;
                let role = layout.role(message_type, sent);
                let frame_bytes = self.arena.get(&range);
                let payload = frame_bytes
                    .get(layout.header_size_bytes..)
                    .unwrap_or_default();
                let guessed = layout
                    .method_field
                    .filter(|_| layout.payload_codec == binary::PayloadCodec::Protobuf)
                    .and_then(|field| protobuf::find_string_field(payload, field));
                let type_text = match (role, guessed) {
                    (FrameRole::Other, _) | (_, None) => {
                        message_type.map(|value| format!("type 0x{value:02x}"))
                    }
                    _ => None,
                };
                let method: Cow<'_, str> = match (guessed, &type_text) {
                    (Some(name), _) => Cow::Borrowed(name),
                    (None, Some(text)) => Cow::Owned(format!("{} {}", layout.name, text)),
                    (None, None) => Cow::Borrowed(layout.name.as_str()),
                };
                let request_text = request_id.map(|value| value.to_string());
                let role_text = match role {
                    FrameRole::Request => "request",
                    FrameRole::Response => "response",
                    FrameRole::Other => type_text.as_deref().unwrap_or("frame"),
                };
                let summary = match (&request_text, guessed) {
                    (Some(id), Some(name)) => {
                        format!("{} {role_text} #{id} {name} ({payload_len} B)", layout.name)
                    }
                    (Some(id), None) => {
                        format!("{} {role_text} #{id} ({payload_len} B)", layout.name)
                    }
                    (None, _) => format!("{} {role_text} ({payload_len} B)", layout.name),
                };
                let frame_id = self.frames.push(
                    info,
                    NewFrame {
                        direction,
                        time_micros: unit.time_micros,
                        protocol,
                        size_bytes: len as u64,
                        summary,
                        malformed: None,
                        payload: range,
                        unit_seq: unit.seq,
                        decoding: FrameDecoding::Binary,
                        truncated: false,
                    },
                );
                let id_key = request_id.map_or(IdKey::Null, IdKey::Unsigned);
                let start = CallStart {
                    session_id: &info.session_id,
                    connection_id: &info.connection_id,
                    connection_serial: unit.connection_serial,
                    transport,
                    protocol,
                    method: &method,
                    request_id: request_text.as_deref(),
                    pending_id: None,
                    direction,
                    kind: CallKind::Call,
                    outcome: Outcome::Pending,
                    error_code: None,
                    error_message: None,
                    time_micros: unit.time_micros,
                    frame_id,
                    part: 0,
                    size_bytes: len as u64,
                };
                match role {
                    FrameRole::Request => {
                        self.correlator.open(CallStart {
                            pending_id: Some(id_key),
                            ..start
                        });
                    }
                    FrameRole::Response => {
                        let key = PendingKey {
                            connection_serial: unit.connection_serial,
                            sent_by_page: !sent,
                            id: id_key,
                        };
                        let end = CallEnd {
                            time_micros: unit.time_micros,
                            frame_id: Some(frame_id),
                            part: 0,
                            size_bytes: len as u64,
                            outcome: Outcome::Ok,
                            error_code: None,
                            error_message: None,
                        };
                        if !self.correlator.close(&key, end) {
                            self.correlator.orphan(CallStart {
                                method: "",
                                ..start
                            });
                        }
                    }
                    FrameRole::Other => {
                        self.correlator.open(CallStart {
                            kind: CallKind::Notification,
                            outcome: Outcome::Ok,
                            ..start
                        });
                    }
                }
            }
        }
    }

    /// Evicts the oldest frames (and what only they referenced) until within the caps.
    fn enforce_caps(&mut self) {
        let max_frames = self.config.max_frames.max(1);
        if self.frames.frames.len() <= max_frames && self.retained_bytes() <= self.config.max_bytes
        {
            return;
        }
        let before = self.retained_bytes();
        loop {
            let over_frames = self.frames.frames.len() > max_frames;
            let over_bytes = self.retained_bytes() > self.config.max_bytes;
            if !over_frames && !over_bytes {
                break;
            }
            // Evict in batches so that the bookkeeping below runs rarely.
            let batch = if over_frames {
                self.frames.frames.len() - max_frames
            } else {
                (self.frames.frames.len() / 64).max(1)
            };
            let mut evicted_any = false;
            for _ in 0..batch {
                let Some(frame) = self.frames.frames.pop_front() else {
                    break;
                };
                self.frames.meta.pop_front();
                self.frames.bytes -= frame_cost_bytes(&frame);
                self.evicted.frames += 1;
                evicted_any = true;
            }
            let oldest_frame_id = self
                .frames
                .frames
                .front()
                .map_or(self.frames.next_frame_id, |frame| frame.frame_id);
            let (calls, _) = self.correlator.evict_before_frame(oldest_frame_id);
            self.evicted.calls += calls;
            if !evicted_any {
                // No frames left: drop calls and units that remain.
                while self.correlator.evict_front().is_some() {
                    self.evicted.calls += 1;
                }
                if !self.evict_units(u64::MAX) {
                    break;
                }
                continue;
            }
            let oldest_unit = self
                .frames
                .meta
                .front()
                .map_or(self.next_unit_seq, |meta| meta.unit_seq);
            self.evict_units(oldest_unit);
        }
        self.evicted.bytes += before.saturating_sub(self.retained_bytes());
    }

    /// Evicts units older than `oldest_seq`; returns whether any was evicted.
    fn evict_units(&mut self, oldest_seq: u64) -> bool {
        let mut any = false;
        while let Some(unit) = self.units.front() {
            if unit.seq >= oldest_seq {
                break;
            }
            let serial = unit.connection_serial;
            self.units.pop_front();
            any = true;
            let remove = match self.connections.get_mut(&serial) {
                Some(connection) => {
                    connection.retained_units = connection.retained_units.saturating_sub(1);
                    connection.retained_units == 0
                        && connection.ended
                        && !self.correlator.has_pending(serial)
                }
                None => false,
            };
            if remove
                && let Some(connection) = self.connections.remove(&serial)
                && let Some(by_id) = self.connection_ids.get_mut(&connection.info.session_id)
            {
                by_id.remove(&connection.info.connection_id);
                if by_id.is_empty() {
                    self.connection_ids.remove(&connection.info.session_id);
                }
            }
        }
        let unit_front = self.units.front().map(|unit| unit.payload.start);
        let frame_front = self.frames.meta.front().map(|meta| meta.payload.start);
        let release = match (unit_front, frame_front) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => self.arena.end(),
        };
        self.arena.release_before(release);
        any
    }

    /// Rebuilds frames and calls from the retained units with the current choices.
    fn redecode(&mut self) {
        let first_frame_id = self
            .frames
            .frames
            .front()
            .map_or(self.frames.next_frame_id, |frame| frame.frame_id);
        let first_call_id = self
            .correlator
            .calls()
            .iter()
            .map(|record| record.call.call_id)
            .min()
            .unwrap_or(self.correlator.next_call_id());
        self.frames = FrameStore {
            next_frame_id: first_frame_id,
            ..FrameStore::default()
        };
        self.correlator = Correlator::new(first_call_id);
        for connection in self.connections.values_mut() {
            connection.state = DecodeState::default();
            connection.info.layout = None;
            connection.info.buffered_bytes = 0;
        }
        let units: Vec<Unit> = self.units.iter().cloned().collect();
        for unit in &units {
            self.process_unit(unit);
        }
        if let Some(now) = self.finished_at {
            let mut serials: Vec<u64> = self.connections.keys().copied().collect();
            serials.sort_unstable();
            for serial in serials {
                self.flush_decoders(serial, now, None);
            }
        }
        if let (Some(now), Some(timeout)) =
            (self.timeouts_checked_at, self.config.call_timeout_micros)
        {
            self.correlator.mark_timeouts(now, timeout);
        }
        self.generation += 1;
        self.enforce_caps();
    }
}

struct StoredPayload {
    range: Range<u64>,
    original_size_bytes: u64,
    truncated: bool,
    bad_base64: bool,
}

enum BinaryItem {
    Frame {
        range: Range<u64>,
        message_type: Option<u64>,
        request_id: Option<u64>,
        len: usize,
        payload_len: usize,
    },
    Malformed {
        range: Range<u64>,
        error: BinaryError,
    },
}

/// Where a decoded stretch's bytes live: inside the unit's stored bytes when it began in
/// this unit, otherwise (split across messages) copied once into the arena.
fn locate(
    arena: &mut Arena,
    unit: &Unit,
    unit_stream_start: u64,
    stream_offset: u64,
    bytes: &[u8],
) -> Range<u64> {
    if stream_offset >= unit_stream_start {
        let start = unit.payload.start + (stream_offset - unit_stream_start);
        let end = start + bytes.len() as u64;
        if end <= unit.payload.end {
            return start..end;
        }
    }
    arena.push(bytes)
}

fn direction_index(direction: Direction) -> usize {
    match direction {
        Direction::Sent => 0,
        Direction::Received => 1,
    }
}

struct MessageContext {
    frame_id: u64,
    part: u32,
    direction: Direction,
    transport: Transport,
    size_bytes: u64,
}

fn protocol_of(message: &JsonRpcMessage<'_>) -> Protocol {
    match message.version {
        JsonRpcVersion::V1 => Protocol::JsonRpc1,
        JsonRpcVersion::V2 => Protocol::JsonRpc2,
    }
}

fn correlate_message(
    correlator: &mut Correlator,
    info: &ConnectionInfo,
    unit: &Unit,
    context: MessageContext,
    message: &JsonRpcMessage<'_>,
) {
    let protocol = protocol_of(message);
    let id_text = message.id_text();
    let start = CallStart {
        session_id: &info.session_id,
        connection_id: &info.connection_id,
        connection_serial: unit.connection_serial,
        transport: context.transport,
        protocol,
        method: message.method.as_deref().unwrap_or(""),
        request_id: id_text,
        pending_id: None,
        direction: context.direction,
        kind: CallKind::Call,
        outcome: Outcome::Pending,
        error_code: None,
        error_message: None,
        time_micros: unit.time_micros,
        frame_id: context.frame_id,
        part: context.part,
        size_bytes: context.size_bytes,
    };
    let respond = |correlator: &mut Correlator, start: CallStart<'_>, outcome: Outcome| {
        let error_code = message.error_code();
        let error_message = match &message.violation {
            Some(violation) => Some(violation.to_string()),
            None => message
                .error
                .as_ref()
                .map(|error| error.message.to_string()),
        };
        let key = PendingKey {
            connection_serial: unit.connection_serial,
            sent_by_page: context.direction == Direction::Received,
            id: IdKey::from_json(id_text.unwrap_or("null")),
        };
        let end = CallEnd {
            time_micros: unit.time_micros,
            frame_id: Some(context.frame_id),
            part: context.part,
            size_bytes: context.size_bytes,
            outcome,
            error_code,
            error_message: error_message.clone(),
        };
        if !correlator.close(&key, end) {
            correlator.orphan(CallStart {
                error_code,
                error_message,
                ..start
            });
        }
    };
    match (message.kind, message.intended) {
        (MessageKind::Request, _) => {
            correlator.open(CallStart {
                pending_id: Some(IdKey::from_json(id_text.unwrap_or("null"))),
                ..start
            });
        }
        (MessageKind::Notification, _) => {
            correlator.open(CallStart {
                kind: CallKind::Notification,
                outcome: Outcome::Ok,
                ..start
            });
        }
        (MessageKind::Response, _) => {
            let outcome = if message.error.is_some() {
                Outcome::Error
            } else {
                Outcome::Ok
            };
            respond(correlator, start, outcome);
        }
        (MessageKind::Invalid, MessageKind::Response) => {
            respond(correlator, start, Outcome::Invalid);
        }
        (MessageKind::Invalid, intended) => {
            let notification = intended == MessageKind::Notification;
            let id = match message.id {
                Some(id)
                    if matches!(
                        message.violation,
                        Some(jsonrpc::Violation::BadIdType { .. })
                    ) =>
                {
                    let _ = id;
                    IdKey::Null
                }
                Some(id) => IdKey::from_json(id.get()),
                None => IdKey::Null,
            };
            correlator.open(CallStart {
                kind: if notification {
                    CallKind::Notification
                } else {
                    CallKind::Call
                },
                outcome: Outcome::Invalid,
                pending_id: (!notification).then_some(id),
                error_code: message.error_code(),
                error_message: message.violation.as_ref().map(ToString::to_string),
                ..start
            });
        }
    }
}

fn summarize_jsonrpc(
    payload: &JsonRpcPayload<'_>,
    bytes: &[u8],
    unit: &Unit,
) -> (Protocol, String, Option<String>) {
    match payload {
        JsonRpcPayload::ParseError(failure) if unit.truncated && failure.unexpected_end => {
            let found = jsonrpc::scan_truncated(bytes).unwrap_or_default();
            let kept = unit.payload.end - unit.payload.start;
            let what = match (&found.method, &found.id) {
                (Some(method), Some(id)) => format!("{method} #{id}"),
                (Some(method), None) => method.clone(),
                (None, Some(id)) if found.has_error => format!("#{id} error"),
                (None, Some(id)) => format!("#{id} result"),
                (None, None) => "JSON".to_owned(),
            };
            let protocol = if found.has_version {
                Protocol::JsonRpc2
            } else {
                Protocol::JsonRpc1
            };
            (
                protocol,
                format!(
                    "{what} (truncated by the capture: {kept} of {} bytes)",
                    unit.original_size_bytes
                ),
                None,
            )
        }
        JsonRpcPayload::ParseError(failure) => (
            Protocol::JsonRpc2,
            format!("invalid JSON ({} bytes)", unit.original_size_bytes),
            Some(truncation_note(unit, failure.to_string())),
        ),
        JsonRpcPayload::Single(message) => (protocol_of(message), message_summary(message), None),
        JsonRpcPayload::Batch(messages) => {
            let protocol = messages.first().map_or(Protocol::JsonRpc2, protocol_of);
            let mut summary = format!("batch of {}", messages.len());
            for (index, message) in messages.iter().take(3).enumerate() {
                summary.push_str(if index == 0 { ": " } else { ", " });
                summary.push_str(&message_summary(message));
            }
            if messages.len() > 3 {
                summary.push_str(", …");
            }
            (protocol, summary, None)
        }
    }
}

fn message_summary(message: &JsonRpcMessage<'_>) -> String {
    let id = message.id_text().unwrap_or("");
    match message.kind {
        MessageKind::Request => format!("{} #{id}", message.method.as_deref().unwrap_or("")),
        MessageKind::Notification => {
            format!("{} (notification)", message.method.as_deref().unwrap_or(""))
        }
        MessageKind::Response => match &message.error {
            Some(error) => match error.code {
                Some(code) => format!("#{id} error {code} {}", error.message),
                None => format!("#{id} error {}", error.message),
            },
            None => format!("#{id} result"),
        },
        MessageKind::Invalid => format!(
            "invalid {}: {}",
            if message.intended == MessageKind::Response {
                "response"
            } else {
                "request"
            },
            message
                .violation
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
    }
}

fn truncation_note(unit: &Unit, reason: String) -> String {
    if unit.truncated {
        format!(
            "{reason} (payload truncated by the capture: {} bytes kept of {})",
            unit.payload.end - unit.payload.start,
            unit.original_size_bytes
        )
    } else {
        reason
    }
}

fn raw_summary(bytes: &[u8], size_bytes: u64) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text)
            if !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            let mut summary: String = text
                .chars()
                .take(80)
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            if text.chars().nth(80).is_some() {
                summary.push('…');
            }
            summary
        }
        _ => format!("{size_bytes} bytes binary"),
    }
}

/// True when the bytes are JSON-RPC, or (for a payload the capture truncated) start like it.
fn is_jsonrpc(bytes: &[u8], truncated: bool) -> bool {
    if !matches!(
        bytes.iter().find(|byte| !byte.is_ascii_whitespace()),
        Some(b'{' | b'[')
    ) {
        return false;
    }
    match jsonrpc::parse_payload(bytes) {
        JsonRpcPayload::ParseError(failure) if truncated && failure.unexpected_end => {
            jsonrpc::scan_truncated(bytes).is_some_and(|found| found.looks_like_jsonrpc())
        }
        payload => payload.looks_like_jsonrpc(),
    }
}

/// Response content types the hook streams as chunks.
fn is_streaming_content_type(value: &str) -> bool {
    let value = value.to_ascii_lowercase();
    ["event-stream", "ndjson", "jsonl", "json-seq"]
        .iter()
        .any(|kind| value.contains(kind))
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn header(headers: &HeaderList, name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.clone())
}

/// The URL without query and fragment.
fn endpoint_of(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// The path of a URL (without scheme, host, query and fragment).
fn path_of(url: &str) -> &str {
    let endpoint = endpoint_of(url);
    let after_scheme = match endpoint.find("://") {
        Some(index) => &endpoint[index + 3..],
        None => return if endpoint.is_empty() { "/" } else { endpoint },
    };
    match after_scheme.find('/') {
        Some(index) => &after_scheme[index..],
        None => "/",
    }
}
/// The call an HTTP exchange opens when its body carries no request id of its own (gRPC-web,
/// plain HTTP): one pending call per exchange, answered by the exchange's response.
fn http_exchange_call<'a>(
    info: &'a ConnectionInfo,
    unit: &Unit,
    protocol: Protocol,
    method: &'a str,
    frame_id: u64,
) -> CallStart<'a> {
    CallStart {
        session_id: &info.session_id,
        connection_id: &info.connection_id,
        connection_serial: unit.connection_serial,
        transport: Transport::Http,
        protocol,
        method,
        request_id: None,
        pending_id: Some(IdKey::Null),
        direction: Direction::Sent,
        kind: CallKind::Call,
        outcome: Outcome::Pending,
        error_code: None,
        error_message: None,
        time_micros: unit.time_micros,
        frame_id,
        part: 0,
        size_bytes: unit.original_size_bytes,
    }
}
