//! gRPC-web framing: each message is a 5-byte prefix (flags, big-endian 32-bit length) and
//! the message; a frame with flag 0x80 carries the trailers (`grpc-status`, `grpc-message`)
//! as HTTP/1 header lines. `application/grpc-web-text` bodies are base64 of the same bytes.
//!
//! Data enters as a whole HTTP body ([`decode_body`]) or pushed piecewise into a
//! [`GrpcWebDecoder`] (the binary framing decoder with the gRPC-web layout); it leaves as
//! [`GrpcWebMessage`]s borrowing from the input, plus parsed [`GrpcTrailers`]. Messages are
//! protobuf; show them with [`crate::decode::protobuf`].

use base64::Engine as _;

use super::binary::{BinaryDecoder, BinaryError, BinaryLayout};

/// Flag bit of a trailer frame.
pub const TRAILER_FLAG: u8 = 0x80;
/// Flag bit of a compressed message.
pub const COMPRESSED_FLAG: u8 = 0x01;

/// One gRPC-web frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrpcWebMessage<'a> {
    /// The flags byte (unknown bits kept).
    pub flags: u8,
    /// The message (or trailer block) bytes.
    pub data: &'a [u8],
}

impl GrpcWebMessage<'_> {
    /// True for the trailer frame.
    pub fn is_trailers(&self) -> bool {
        self.flags & TRAILER_FLAG != 0
    }

    /// True when the message is compressed (its bytes are not protobuf as is).
    pub fn is_compressed(&self) -> bool {
        self.flags & COMPRESSED_FLAG != 0
    }
}

/// Parsed trailers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GrpcTrailers {
    /// `grpc-status` (0 is OK).
    pub status: Option<i64>,
    /// `grpc-message`, percent-decoded.
    pub message: Option<String>,
    /// Every trailer line as (lower-cased name, value), in order.
    pub entries: Vec<(String, String)>,
}

/// Parses a trailer block (`name: value` lines separated by CRLF).
pub fn parse_trailers(data: &[u8]) -> GrpcTrailers {
    let text = String::from_utf8_lossy(data);
    let mut trailers = GrpcTrailers::default();
    for line in text
        .split(['\r', '\n'])
        .filter(|line| !line.trim().is_empty())
    {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_owned();
        match name.as_str() {
            "grpc-status" => trailers.status = value.parse().ok(),
            "grpc-message" => trailers.message = Some(percent_decode(&value)),
            _ => {}
        }
        trailers.entries.push((name, value));
    }
    trailers
}

/// Reads `grpc-status`/`grpc-message` from HTTP headers (a "trailers-only" response).
pub fn trailers_from_headers(headers: &[(String, String)]) -> Option<GrpcTrailers> {
    let mut found = false;
    let mut trailers = GrpcTrailers::default();
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("grpc-status") {
            trailers.status = value.trim().parse().ok();
            found = true;
        } else if name.eq_ignore_ascii_case("grpc-message") {
            trailers.message = Some(percent_decode(value.trim()));
        } else {
            continue;
        }
        trailers
            .entries
            .push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    found.then_some(trailers)
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(hex) = bytes.get(index + 1..index + 3)
            && let Ok(text) = std::str::from_utf8(hex)
            && let Ok(byte) = u8::from_str_radix(text, 16)
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Error decoding a `grpc-web-text` body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("grpc-web-text body is not base64 at character {position}")]
pub struct TextDecodeError {
    /// Offset of the first bad 4-character group.
    pub position: usize,
}

/// Decodes a `application/grpc-web-text` body: base64, possibly several padded chunks
/// concatenated (one per message, as streaming servers write them).
pub fn decode_text_body(body: &[u8]) -> Result<Vec<u8>, TextDecodeError> {
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|byte| !byte.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(compact.len() / 4 * 3);
    for (index, group) in compact.chunks(4).enumerate() {
        base64::engine::general_purpose::STANDARD
            .decode_vec(group, &mut out)
            .map_err(|_| TextDecodeError {
                position: index * 4,
            })?;
    }
    Ok(out)
}

/// A whole body cut into frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcWebBody<'a> {
    /// Data and trailer frames in order.
    pub messages: Vec<GrpcWebMessage<'a>>,
    /// The first trailer frame, parsed.
    pub trailers: Option<GrpcTrailers>,
    /// Bytes that did not form a frame (a truncated last frame, an impossible length).
    pub error: Option<BinaryError>,
}

/// Cuts a whole (binary) body into frames.
pub fn decode_body(body: &[u8]) -> GrpcWebBody<'_> {
    let mut messages = Vec::new();
    let mut trailers = None;
    let mut position = 0usize;
    let mut error = None;
    let max = BinaryLayout::grpc_web().max_payload_bytes;
    while position < body.len() {
        let Some(header) = body.get(position..position + 5) else {
            error = Some(truncated(
                body,
                position,
                5 - (body.len() - position) as u64,
            ));
            break;
        };
        let flags = header[0];
        let length = u64::from(u32::from_be_bytes([
            header[1], header[2], header[3], header[4],
        ]));
        if length > max {
            error = Some(BinaryError {
                kind: super::binary::BinaryErrorKind::ImpossibleLength {
                    length_bytes: i128::from(length),
                    max_payload_bytes: max,
                },
                stream_offset: position as u64,
                skipped: body[position..].to_vec(),
            });
            break;
        }
        let end = position + 5 + length as usize;
        let Some(data) = body.get(position + 5..end) else {
            error = Some(truncated(body, position, (end - body.len()) as u64));
            break;
        };
        let message = GrpcWebMessage { flags, data };
        if message.is_trailers() && trailers.is_none() {
            trailers = Some(parse_trailers(data));
        }
        messages.push(message);
        position = end;
    }
    GrpcWebBody {
        messages,
        trailers,
        error,
    }
}

fn truncated(body: &[u8], position: usize, missing_bytes: u64) -> BinaryError {
    BinaryError {
        kind: super::binary::BinaryErrorKind::Truncated { missing_bytes },
        stream_offset: position as u64,
        skipped: body[position..].to_vec(),
    }
}

/// Push decoder for a gRPC-web stream (a response body read in chunks).
#[derive(Debug, Clone)]
pub struct GrpcWebDecoder {
    inner: BinaryDecoder,
}

impl Default for GrpcWebDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl GrpcWebDecoder {
    /// A decoder at the start of a body.
    pub fn new() -> Self {
        // The preset is valid by construction; fall back to an equivalent literal never.
        let inner = match BinaryDecoder::new(BinaryLayout::grpc_web()) {
            Ok(decoder) => decoder,
            Err(error) => unreachable!("the gRPC-web preset is valid: {error}"),
        };
        GrpcWebDecoder { inner }
    }

    /// Appends body bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.inner.push(bytes);
    }

    /// The next frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<GrpcWebMessage<'_>>, BinaryError> {
        Ok(self.inner.next_frame()?.map(|frame| GrpcWebMessage {
            flags: frame.message_type.unwrap_or(0) as u8,
            data: frame.payload(),
        }))
    }

    /// Ends the body; a partial frame is returned as an error.
    pub fn finish(&mut self) -> Option<BinaryError> {
        self.inner.finish()
    }
}
