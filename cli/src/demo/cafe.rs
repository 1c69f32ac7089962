//! The 0xCAFE "light RPC bridge" demo service over WebSocket (binary messages).
//!
//! One frame: magic `0xCAFE` (2 bytes), version 1 (1), message type (1: `0x01` request,
//! `0x02` response, `0x03` server push), ReqID (8), payload length (4), then a protobuf
//! payload; all integers big-endian (network order). Data enters as WebSocket messages that
//! may hold several frames or part of one (reassembled per connection) and leaves as
//! response frames, coalesced per incoming message and sometimes split across two
//! messages, plus server-push frames on a timer (some pushes coalesced two to a message).
//!
//! Payload schemas (proto3 field numbers; documented in `docs/hook-api.md`):
//! `Request { string method = 1; repeated int64 values = 2 [packed]; string text = 3; }`,
//! `Response { int64 result = 1; string text = 2; Status status = 3; fixed64
//! server_time_micros = 4; double mean = 5; }`, `Status { int32 code = 1; string message = 2; }`,
//! `Tick { uint64 seq = 1; string topic = 2; sint64 delta = 3; fixed32 checksum = 4;
//! Quote quote = 5; }`, `Quote { string symbol = 1; double price = 2; }`.

use std::time::Duration;

use axum::extract::WebSocketUpgrade;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::response::Response;

use super::protobuf::{Encoder, Field, read_fields, read_packed_ints};

/// The frame magic.
pub const MAGIC: u16 = 0xCAFE;
/// The protocol version the demo speaks.
pub const VERSION: u8 = 1;
/// Message type of a request frame.
pub const MSG_REQUEST: u8 = 0x01;
/// Message type of a response frame.
pub const MSG_RESPONSE: u8 = 0x02;
/// Message type of a server-push frame (ReqID holds the push sequence number).
pub const MSG_PUSH: u8 = 0x03;
/// Bytes before the payload.
pub const HEADER_BYTES: usize = 16;
/// Largest payload the demo accepts.
pub const MAX_PAYLOAD_BYTES: u32 = 1 << 20;
/// Interval between server pushes.
const PUSH_INTERVAL: Duration = Duration::from_millis(1_200);

/// One 0xCAFE frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CafeFrame {
    /// Message type.
    pub msg_type: u8,
    /// Request id.
    pub request_id: u64,
    /// Protobuf payload.
    pub payload: Vec<u8>,
}

impl CafeFrame {
    /// The frame's wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_BYTES + self.payload.len());
        bytes.extend_from_slice(&MAGIC.to_be_bytes());
        bytes.push(VERSION);
        bytes.push(self.msg_type);
        bytes.extend_from_slice(&self.request_id.to_be_bytes());
        bytes.extend_from_slice(&(self.payload.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&self.payload);
        bytes
    }
}

/// Why the byte stream is not 0xCAFE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CafeError {
    /// The first two bytes of a frame are not `CA FE`.
    #[error("bad magic {found:#06x} (expected 0xcafe)")]
    BadMagic {
        /// What was there.
        found: u16,
    },
    /// A version the demo does not speak.
    #[error("unsupported version {found}")]
    BadVersion {
        /// What was there.
        found: u8,
    },
    /// A payload length above [`MAX_PAYLOAD_BYTES`].
    #[error("payload of {length_bytes} bytes is larger than the {MAX_PAYLOAD_BYTES}-byte limit")]
    TooLong {
        /// The declared length.
        length_bytes: u32,
    },
}

/// Push-based reassembly of frames from WebSocket messages.
#[derive(Debug, Default)]
pub struct FrameReader {
    buffer: Vec<u8>,
}

impl FrameReader {
    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete frame; `Ok(None)` when more bytes are needed (nothing consumed).
    pub fn next_frame(&mut self) -> Result<Option<CafeFrame>, CafeError> {
        if self.buffer.len() < HEADER_BYTES {
            return Ok(None);
        }
        let header = &self.buffer[..HEADER_BYTES];
        let magic = u16::from_be_bytes([header[0], header[1]]);
        if magic != MAGIC {
            return Err(CafeError::BadMagic { found: magic });
        }
        if header[2] != VERSION {
            return Err(CafeError::BadVersion { found: header[2] });
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&header[4..12]);
        let length_bytes = u32::from_be_bytes([header[12], header[13], header[14], header[15]]);
        if length_bytes > MAX_PAYLOAD_BYTES {
            return Err(CafeError::TooLong { length_bytes });
        }
        let total = HEADER_BYTES + length_bytes as usize;
        if self.buffer.len() < total {
            return Ok(None);
        }
        let frame = CafeFrame {
            msg_type: header[3],
            request_id: u64::from_be_bytes(id),
            payload: self.buffer[HEADER_BYTES..total].to_vec(),
        };
        self.buffer.drain(..total);
        Ok(Some(frame))
    }
}

/// A decoded demo request.
#[derive(Debug, Default, PartialEq)]
struct Request {
    method: String,
    values: Vec<i64>,
    text: String,
}

fn decode_request(payload: &[u8]) -> Result<Request, String> {
    let mut request = Request::default();
    for (field_number, field) in read_fields(payload).map_err(|error| error.to_string())? {
        match (field_number, field) {
            (1, Field::Bytes(bytes)) => request.method = String::from_utf8_lossy(bytes).into(),
            (2, Field::Bytes(bytes)) => request
                .values
                .extend(read_packed_ints(bytes).map_err(|error| error.to_string())?),
            (2, Field::Varint(value)) => request.values.push(value as i64),
            (3, Field::Bytes(bytes)) => request.text = String::from_utf8_lossy(bytes).into(),
            _ => {} // Unknown fields are skipped, as protobuf readers do.
        }
    }
    Ok(request)
}

fn status(code: u64, message: &str) -> Encoder {
    Encoder::new().uint(1, code).string(2, message)
}

/// The response payload for a request payload.
pub fn respond(payload: &[u8]) -> Vec<u8> {
    let now = crate::relay::now_micros();
    let request = match decode_request(payload) {
        Ok(request) => request,
        Err(reason) => {
            return Encoder::new()
                .message(3, status(3, &format!("invalid request payload: {reason}")))
                .fixed64(4, now)
                .finish();
        }
    };
    let base = Encoder::new();
    match request.method.as_str() {
        "sum" => {
            let sum = request
                .values
                .iter()
                .fold(0i64, |total, value| total.wrapping_add(*value));
            let mean = if request.values.is_empty() {
                0.0
            } else {
                sum as f64 / request.values.len() as f64
            };
            base.int(1, sum).fixed64(4, now).double(5, mean).finish()
        }
        "echo" => base.string(2, &request.text).fixed64(4, now).finish(),
        "upper" => base
            .string(2, &request.text.to_uppercase())
            .fixed64(4, now)
            .finish(),
        "quota" => base
            .message(3, status(8, "quota exceeded for this connection"))
            .fixed64(4, now)
            .finish(),
        other => base
            .message(
                3,
                status(12, &format!("method {other:?} is not implemented")),
            )
            .fixed64(4, now)
            .finish(),
    }
}

/// The push frame number `seq`.
pub fn push_frame(seq: u64) -> CafeFrame {
    let symbols = ["CAFE", "BEEF", "F00D"];
    let symbol = symbols[(seq % symbols.len() as u64) as usize];
    // A deterministic walk so consecutive pushes differ.
    let delta = ((seq.wrapping_mul(2_654_435_761) >> 7) % 201) as i64 - 100;
    let price = 100.0 + (seq % 50) as f64 * 0.25 + delta as f64 / 100.0;
    let checksum = (seq as u32).wrapping_mul(0x9E37_79B9);
    let payload = Encoder::new()
        .uint(1, seq)
        .string(2, "quotes")
        .sint(3, delta)
        .fixed32(4, checksum)
        .message(5, Encoder::new().string(1, symbol).double(2, price))
        .finish();
    CafeFrame {
        msg_type: MSG_PUSH,
        request_id: seq,
        payload,
    }
}

/// `GET /demo/ws/cafe`.
pub async fn socket(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(run)
}

async fn run(mut socket: WebSocket) {
    let mut reader = FrameReader::default();
    let mut responses_sent = 0u64;
    let mut push_seq = 0u64;
    let mut pushes = tokio::time::interval(PUSH_INTERVAL);
    pushes.tick().await; // The first tick is immediate; start pushing one interval later.
    loop {
        tokio::select! {
            received = socket.recv() => {
                let Some(Ok(message)) = received else { return };
                let bytes = match message {
                    Message::Binary(bytes) => bytes,
                    Message::Close(_) => return,
                    Message::Text(_) => {
                        let _ = socket.send(close(1003, "0xCAFE frames are binary")).await;
                        return;
                    }
                    Message::Ping(_) | Message::Pong(_) => continue,
                };
                reader.push(&bytes);
                let mut outgoing = Vec::new();
                loop {
                    match reader.next_frame() {
                        Ok(Some(frame)) if frame.msg_type == MSG_REQUEST => {
                            outgoing.extend(CafeFrame {
                                msg_type: MSG_RESPONSE,
                                request_id: frame.request_id,
                                payload: respond(&frame.payload),
                            }.encode());
                        }
                        Ok(Some(_)) => {} // Clients send requests only; others are ignored.
                        Ok(None) => break,
                        Err(error) => {
                            let _ = socket.send(close(1002, &error.to_string())).await;
                            return;
                        }
                    }
                }
                if outgoing.is_empty() {
                    continue;
                }
                responses_sent += 1;
                // Every fourth reply is split inside its header, as a stream-oriented server
                // writing to a small buffer would do.
                let messages = if responses_sent.is_multiple_of(4) && outgoing.len() > 7 {
                    let rest = outgoing.split_off(7);
                    vec![outgoing, rest]
                } else {
                    vec![outgoing]
                };
                for message in messages {
                    if socket.send(Message::Binary(message.into())).await.is_err() {
                        return;
                    }
                }
            }
            _ = pushes.tick() => {
                push_seq += 1;
                let mut message = push_frame(push_seq).encode();
                // Every third push carries two frames in one message.
                if push_seq.is_multiple_of(3) {
                    push_seq += 1;
                    message.extend(push_frame(push_seq).encode());
                }
                if socket.send(Message::Binary(message.into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.chars().take(100).collect::<String>().into(),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn request(method: &str, values: &[i64]) -> Vec<u8> {
        Encoder::new()
            .string(1, method)
            .packed_ints(2, values)
            .finish()
    }

    #[test]
    fn frames_split_and_coalesced_reassemble() {
        let first = CafeFrame {
            msg_type: MSG_REQUEST,
            request_id: u64::MAX - 1,
            payload: request("sum", &[1, 2]),
        };
        let second = CafeFrame {
            msg_type: MSG_REQUEST,
            request_id: 7,
            payload: vec![],
        };
        let mut bytes = first.encode();
        bytes.extend(second.encode());
        assert_eq!(&bytes[..4], &[0xca, 0xfe, 1, 1]);
        let mut reader = FrameReader::default();
        let mut frames = Vec::new();
        for byte in &bytes {
            reader.push(std::slice::from_ref(byte));
            while let Some(frame) = reader.next_frame().unwrap() {
                frames.push(frame);
            }
        }
        assert_eq!(frames, vec![first, second]);
    }

    #[test]
    fn bad_magic_and_oversized_lengths_are_errors() {
        let mut reader = FrameReader::default();
        reader.push(&[0xbe, 0xef, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(
            reader.next_frame(),
            Err(CafeError::BadMagic { found: 0xbeef })
        );
        let mut reader = FrameReader::default();
        reader.push(&[
            0xca, 0xfe, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff,
        ]);
        assert!(matches!(
            reader.next_frame(),
            Err(CafeError::TooLong { .. })
        ));
    }

    #[test]
    fn sum_and_unknown_methods_answer_in_protobuf() {
        let reply = respond(&request("sum", &[40, 2, -12]));
        let fields = read_fields(&reply).unwrap();
        assert_eq!(fields[0], (1, Field::Varint(30)));
        assert!(matches!(fields[2], (5, Field::Fixed64(bits)) if f64::from_bits(bits) == 10.0));
        let reply = respond(&request("nope", &[]));
        let fields = read_fields(&reply).unwrap();
        let (3, Field::Bytes(status)) = fields[0] else {
            panic!("status first: {fields:?}")
        };
        assert_eq!(read_fields(status).unwrap()[0], (1, Field::Varint(12)));
    }

    #[test]
    fn push_frames_are_valid_protobuf() {
        let frame = push_frame(5);
        assert_eq!(frame.msg_type, MSG_PUSH);
        let fields = read_fields(&frame.payload).unwrap();
        assert_eq!(fields.len(), 5);
        assert_eq!(fields[0], (1, Field::Varint(5)));
    }
}
