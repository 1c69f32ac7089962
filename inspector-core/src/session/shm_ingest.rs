//! The session's hook point for shared-memory channels (see [`crate::shm`]).
//!
//! Data enters from [`Session::ingest`]: every shared-memory event updates the session's
//! [`ShmTracker`] (per-channel statistics), and each `shm_message` becomes a unit of the
//! channel's connection (transport [`Transport::SharedMemory`]). Message units go through the
//! same detection and decoders as WebSocket messages (JSON-RPC, binary layouts such as
//! 0xCAFE with protobuf payloads, raw). A mailbox payload that no decoder recognises still
//! makes a call: the mailbox's REQUEST/RESPONSE structure pairs it, one exchange at a time.
//!
//! Data leaves as frames and calls of the session, and through [`Session::shm_channels`].

use super::{Session, Unit, UnitKind};
use crate::correlate::{CallEnd, CallStart, IdKey, PendingKey};
use crate::decode::ProtocolChoice;
use crate::decode::protobuf;
use crate::event::{CaptureEvent, Direction, EventBody, ShmRole};
use crate::model::{CallKind, Outcome, Protocol, Transport};
use crate::shm::ShmTracker;

impl Session {
    /// Per-channel statistics of the shared-memory channels seen.
    pub fn shm_channels(&self) -> &ShmTracker {
        &self.shm
    }

    /// Marks mailbox channels whose request has waited more than `timeout_micros` at
    /// `now_micros` as stuck; returns how many are.
    pub fn mark_stuck_shm_channels(&mut self, now_micros: u64, timeout_micros: u64) -> usize {
        self.shm.mark_stuck(now_micros, timeout_micros)
    }

    /// `record` for shared-memory events: statistics, connection metadata, and a unit for
    /// each message.
    pub(super) fn shm_record(&mut self, event: &CaptureEvent) -> Option<Unit> {
        self.shm.ingest(event);
        let serial = self.connection_serial(event, Transport::SharedMemory);
        match &event.body {
            EventBody::ShmChannel { name, layout, .. } => {
                let connection = self.connections.get_mut(&serial)?;
                if !name.is_empty() || connection.info.url.is_empty() {
                    connection.info.url = if name.is_empty() {
                        format!("shm://{}", event.connection_id)
                    } else {
                        format!("shm://{name}")
                    };
                    connection.info.http_method = layout.clone();
                }
                None
            }
            EventBody::ShmMessage {
                direction,
                role,
                payload,
                ..
            } => {
                let stored = self.store_payload(Some(payload), &[]);
                let connection = self.connections.get_mut(&serial)?;
                connection.retained_units += 1;
                let seq = self.next_unit_seq;
                self.next_unit_seq += 1;
                Some(Unit {
                    seq,
                    connection_serial: serial,
                    time_micros: event.time_micros,
                    kind: UnitKind::ShmMessage {
                        direction: *direction,
                        binary: payload.is_binary(),
                        role: *role,
                    },
                    payload: stored.range,
                    original_size_bytes: stored.original_size_bytes,
                    truncated: stored.truncated,
                    bad_base64: stored.bad_base64,
                })
            }
            _ => None,
        }
    }

    /// Decodes a shared-memory message; see the module docs.
    pub(super) fn shm_message(
        &mut self,
        unit: &Unit,
        direction: Direction,
        binary: bool,
        role: ShmRole,
        choice: ProtocolChoice,
    ) {
        let first_new_frame = self.frames.next_frame_id;
        self.ws_message(unit, direction, binary, choice);
        if role == ShmRole::Frame {
            return;
        }
        let Some(frame) = self.frames.frames.back() else {
            return;
        };
        if frame.frame_id < first_new_frame
            || frame.protocol != Protocol::Raw
            || frame.malformed.is_some()
        {
            return;
        }
        let frame_id = frame.frame_id;
        let Some(connection) = self.connections.get(&unit.connection_serial) else {
            return;
        };
        let info = &connection.info;
        let bytes = self.arena.get(&unit.payload);
        let channel_name = info.url.strip_prefix("shm://").unwrap_or(&info.url);
        let method = protobuf::find_string_field(bytes, 1)
            .map(str::to_owned)
            .unwrap_or_else(|| channel_name.to_owned());
        let start = CallStart {
            session_id: &info.session_id,
            connection_id: &info.connection_id,
            connection_serial: unit.connection_serial,
            transport: Transport::SharedMemory,
            protocol: Protocol::Raw,
            method: &method,
            request_id: None,
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
        match role {
            ShmRole::Request => {
                // One exchange at a time: the mailbox itself is the request id.
                self.correlator.open(CallStart {
                    pending_id: Some(IdKey::Null),
                    ..start
                });
            }
            ShmRole::Response => {
                let key = PendingKey {
                    connection_serial: unit.connection_serial,
                    sent_by_page: direction == Direction::Received,
                    id: IdKey::Null,
                };
                let end = CallEnd {
                    time_micros: unit.time_micros,
                    frame_id: Some(frame_id),
                    part: 0,
                    size_bytes: unit.original_size_bytes,
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
            ShmRole::Frame => {}
        }
    }
}
