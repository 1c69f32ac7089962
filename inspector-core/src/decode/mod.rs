//! Protocol decoders: bytes in, frames out. Transport-level meaning only ("what the bytes
//! say"); pairing requests with responses is [`crate::correlate`]'s job.
//!
//! Every decoder is sans-IO. Stream decoders ([`binary::BinaryDecoder`],
//! [`jsonrpc::JsonRpcDecoder`], [`grpc_web::GrpcWebDecoder`]) take `push(&[u8])` and give
//! `next_frame() -> Result<Option<_>, _>`, where `Ok(None)` means "incomplete, nothing
//! consumed". Message decoders ([`jsonrpc::parse_payload`], [`protobuf::decode_raw`],
//! [`grpc_web::decode_body`]) take one whole message. Unknown values are kept, and bad input
//! comes back as a value describing it (with its bytes), never as a panic.
//!
//! [`detect`] picks a protocol for a payload; [`ProtocolChoice`] is the user's override
//! ("decode as") for a connection or an endpoint.

pub mod binary;
pub mod grpc_web;
pub mod jsonrpc;
pub mod protobuf;

use serde::{Deserialize, Serialize};

use self::binary::BinaryLayout;

/// How to decode a connection's (or endpoint's) payloads: detected automatically, or forced
/// by the user.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
// Choices are few (one per overridden connection); boxing the layout would only add noise.
#[allow(clippy::large_enum_variant)]
pub enum ProtocolChoice {
    /// Detect from the content (and, for HTTP, the content type).
    #[default]
    Auto,
    /// JSON-RPC (2.0 or 1.0, decided per message).
    JsonRpc,
    /// Length-prefixed binary frames with this layout (WebSocket binary messages, HTTP
    /// bodies, shared-memory payloads).
    Binary {
        /// The layout.
        layout: BinaryLayout,
    },
    /// gRPC-web (HTTP only).
    GrpcWeb,
    /// No RPC decoding: show the payloads as they are.
    Raw,
}

/// What [`detect`] concluded about one payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Detected {
    /// JSON that has the shape of JSON-RPC.
    JsonRpc,
    /// Starts with the magic of the given built-in layout.
    Cafe,
    /// gRPC-web (by content type).
    GrpcWeb,
    /// Nothing recognised.
    Unknown,
}

/// Guesses the protocol of one payload. `content_type` is the HTTP `Content-Type`, if any.
/// JSON is parsed only when the first non-space byte is `{` or `[`.
pub fn detect(payload: &[u8], content_type: Option<&str>) -> Detected {
    if let Some(content_type) = content_type
        && content_type
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/grpc-web")
    {
        return Detected::GrpcWeb;
    }
    if payload.len() >= 2 && payload[0] == 0xCA && payload[1] == 0xFE {
        return Detected::Cafe;
    }
    if payload.len() >= 2 && payload[0] == 0xFE && payload[1] == 0xCA {
        // The 0xCAFE magic written little-endian.
        return Detected::Cafe;
    }
    match payload.iter().find(|byte| !byte.is_ascii_whitespace()) {
        Some(b'{' | b'[') if jsonrpc::parse_payload(payload).looks_like_jsonrpc() => {
            Detected::JsonRpc
        }
        _ => Detected::Unknown,
    }
}
