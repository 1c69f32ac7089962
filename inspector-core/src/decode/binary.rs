//! Length-prefixed binary frames described by a declarative [`BinaryLayout`] ("decode as").
//!
//! A layout names where the magic, version, message type, request id and length fields sit
//! in a fixed-size header, their widths and the byte order. The 0xCAFE protocol of the light
//! RPC bridge is the preset [`BinaryLayout::cafe`]; gRPC-web's 5-byte prefix is
//! [`BinaryLayout::grpc_web`]. A user describes their own protocol with the same struct (it
//! is serde-serializable, see `docs/binary-layouts.md`).
//!
//! Data enters a [`BinaryDecoder`] with `push(&[u8])` (one WebSocket message at a time, or
//! any split of the stream) and leaves through `next_frame()`: `Ok(Some(frame))` borrows a
//! whole frame from the decoder's buffer, `Ok(None)` means more bytes are needed (nothing is
//! consumed), and `Err` hands back bytes that could not be a frame (bad magic, impossible
//! length) after the decoder has resynchronised on the next magic. Without a magic there is
//! nothing to resynchronise on, so the rest of the stream is returned as malformed.

use serde::{Deserialize, Serialize};

/// Byte order of the header's integer fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ByteOrder {
    /// Most significant byte first (network order, Go's `binary.BigEndian`).
    #[default]
    BigEndian,
    /// Least significant byte first.
    LittleEndian,
}

/// Position and width of an unsigned integer field in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FieldSpec {
    /// Offset from the start of the frame, in bytes.
    pub offset: usize,
    /// Width in bytes: 1, 2, 4 or 8.
    pub width_bytes: u8,
}

/// The magic number a frame starts with (at `offset`), used to detect the protocol and to
/// resynchronise after garbage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MagicSpec {
    /// Offset from the start of the frame, in bytes.
    pub offset: usize,
    /// Width in bytes: 1, 2, 4 or 8.
    pub width_bytes: u8,
    /// Expected value, read in the layout's byte order.
    pub value: u64,
}

/// How to show a frame's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PayloadCodec {
    /// Protocol Buffers without a schema (field numbers and wire types).
    #[default]
    Protobuf,
    /// JSON text.
    Json,
    /// Bytes, shown as hex.
    Raw,
}

/// A declarative description of a length-prefixed binary protocol.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BinaryLayout {
    /// Name shown to users (`0xCAFE`, `gRPC-web`, or the user's).
    pub name: String,
    /// Byte order of every header field.
    #[serde(default)]
    pub byte_order: ByteOrder,
    /// Size of the fixed header in bytes; the payload follows it.
    pub header_size_bytes: usize,
    /// Magic number, if the protocol has one.
    #[serde(default)]
    pub magic: Option<MagicSpec>,
    /// Protocol version field.
    #[serde(default)]
    pub version: Option<FieldSpec>,
    /// Message type field.
    #[serde(default)]
    pub message_type: Option<FieldSpec>,
    /// Request id field, used to pair responses with requests.
    #[serde(default)]
    pub request_id: Option<FieldSpec>,
    /// Length field.
    pub length: FieldSpec,
    /// Added to the length field's value to get the payload length (for example minus the
    /// header size when the length counts the whole frame).
    #[serde(default)]
    pub length_adjust_bytes: i64,
    /// Lengths above this are impossible and trigger resynchronisation.
    pub max_payload_bytes: u64,
    /// Message type values that are requests.
    #[serde(default)]
    pub request_types: Vec<u64>,
    /// Message type values that are responses.
    #[serde(default)]
    pub response_types: Vec<u64>,
    /// How the payload is encoded.
    #[serde(default)]
    pub payload_codec: PayloadCodec,
    /// Protobuf field number of the payload that holds the method name, if any.
    #[serde(default)]
    pub method_field: Option<u32>,
}

/// A layout that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// A width other than 1, 2, 4 or 8.
    #[error("field `{field}` has width {width_bytes} bytes; widths must be 1, 2, 4 or 8")]
    BadWidth {
        /// Field name.
        field: &'static str,
        /// The width given.
        width_bytes: u8,
    },
    /// A field that does not fit in the header.
    #[error("field `{field}` ends at byte {end_offset}, past the {header_size_bytes}-byte header")]
    OutsideHeader {
        /// Field name.
        field: &'static str,
        /// Offset just past the field.
        end_offset: usize,
        /// The header size.
        header_size_bytes: usize,
    },
    /// A magic value that does not fit its width.
    #[error("magic value {value:#x} does not fit in {width_bytes} bytes")]
    MagicTooWide {
        /// The value.
        value: u64,
        /// The width.
        width_bytes: u8,
    },
    /// A header of zero bytes.
    #[error("the header must be at least one byte")]
    EmptyHeader,
}

/// What a frame's message type says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameRole {
    /// A request expecting a response with the same request id.
    Request,
    /// A response to the request with the same id.
    Response,
    /// Anything else (server push, unknown type).
    Other,
}

/// Header field of a decoded frame, for highlighting in a hex view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderField {
    /// `magic`, `version`, `message_type`, `request_id` or `length`.
    pub name: &'static str,
    /// Offset in the frame.
    pub offset: usize,
    /// Width in bytes.
    pub width_bytes: u8,
    /// Value read in the layout's byte order.
    pub value: u64,
}

impl BinaryLayout {
    /// The 0xCAFE light RPC bridge: magic 0xCAFE (2 bytes), version (1), message type (1:
    /// 0x01 request, 0x02 response), ReqID (8), payload length (4), then a protobuf payload.
    /// Big-endian unless the user switches it with [`BinaryLayout::with_byte_order`].
    pub fn cafe() -> Self {
        BinaryLayout {
            name: "0xCAFE".to_owned(),
            byte_order: ByteOrder::BigEndian,
            header_size_bytes: 16,
            magic: Some(MagicSpec {
                offset: 0,
                width_bytes: 2,
                value: 0xCAFE,
            }),
            version: Some(FieldSpec {
                offset: 2,
                width_bytes: 1,
            }),
            message_type: Some(FieldSpec {
                offset: 3,
                width_bytes: 1,
            }),
            request_id: Some(FieldSpec {
                offset: 4,
                width_bytes: 8,
            }),
            length: FieldSpec {
                offset: 12,
                width_bytes: 4,
            },
            length_adjust_bytes: 0,
            max_payload_bytes: 16 * 1024 * 1024,
            request_types: vec![1],
            response_types: vec![2],
            payload_codec: PayloadCodec::Protobuf,
            method_field: Some(1),
        }
    }

    /// gRPC-web's message prefix: flags (1 byte, 0x80 = trailers, 0x01 = compressed) and a
    /// big-endian 4-byte length.
    pub fn grpc_web() -> Self {
        BinaryLayout {
            name: "gRPC-web".to_owned(),
            byte_order: ByteOrder::BigEndian,
            header_size_bytes: 5,
            magic: None,
            version: None,
            message_type: Some(FieldSpec {
                offset: 0,
                width_bytes: 1,
            }),
            request_id: None,
            length: FieldSpec {
                offset: 1,
                width_bytes: 4,
            },
            length_adjust_bytes: 0,
            max_payload_bytes: 64 * 1024 * 1024,
            request_types: Vec::new(),
            response_types: Vec::new(),
            payload_codec: PayloadCodec::Protobuf,
            method_field: None,
        }
    }

    /// The same layout with another byte order.
    pub fn with_byte_order(mut self, byte_order: ByteOrder) -> Self {
        self.byte_order = byte_order;
        self
    }

    /// Checks widths and offsets.
    pub fn validate(&self) -> Result<(), LayoutError> {
        if self.header_size_bytes == 0 {
            return Err(LayoutError::EmptyHeader);
        }
        let mut fields: Vec<(&'static str, FieldSpec)> = vec![("length", self.length)];
        if let Some(magic) = self.magic {
            fields.push((
                "magic",
                FieldSpec {
                    offset: magic.offset,
                    width_bytes: magic.width_bytes,
                },
            ));
            if magic.width_bytes < 8 && magic.value >> (u32::from(magic.width_bytes) * 8) != 0 {
                return Err(LayoutError::MagicTooWide {
                    value: magic.value,
                    width_bytes: magic.width_bytes,
                });
            }
        }
        for (name, field) in [
            ("version", self.version),
            ("message_type", self.message_type),
            ("request_id", self.request_id),
        ] {
            if let Some(field) = field {
                fields.push((name, field));
            }
        }
        for (field, spec) in fields {
            if !matches!(spec.width_bytes, 1 | 2 | 4 | 8) {
                return Err(LayoutError::BadWidth {
                    field,
                    width_bytes: spec.width_bytes,
                });
            }
            let end_offset = spec.offset.saturating_add(usize::from(spec.width_bytes));
            if end_offset > self.header_size_bytes {
                return Err(LayoutError::OutsideHeader {
                    field,
                    end_offset,
                    header_size_bytes: self.header_size_bytes,
                });
            }
        }
        Ok(())
    }

    /// Reads a field from a header. `header` must be at least `header_size_bytes` long and
    /// the layout valid; otherwise 0 is returned.
    #[inline]
    pub fn read_field(&self, header: &[u8], field: FieldSpec) -> u64 {
        let Some(bytes) = header.get(field.offset..field.offset + usize::from(field.width_bytes))
        else {
            return 0;
        };
        match self.byte_order {
            ByteOrder::BigEndian => bytes
                .iter()
                .fold(0u64, |value, byte| (value << 8) | u64::from(*byte)),
            ByteOrder::LittleEndian => bytes
                .iter()
                .rev()
                .fold(0u64, |value, byte| (value << 8) | u64::from(*byte)),
        }
    }

    /// The magic as bytes in the layout's byte order.
    fn magic_bytes(&self) -> Option<(usize, Vec<u8>)> {
        let magic = self.magic?;
        let width = usize::from(magic.width_bytes);
        let big = magic.value.to_be_bytes();
        let mut bytes = big[8 - width.min(8)..].to_vec();
        if self.byte_order == ByteOrder::LittleEndian {
            bytes.reverse();
        }
        Some((magic.offset, bytes))
    }

    /// True when `bytes` start with this layout's magic (false when it has none or the bytes
    /// are too short). Used for protocol detection.
    pub fn matches_magic(&self, bytes: &[u8]) -> bool {
        match self.magic_bytes() {
            Some((offset, magic)) => bytes.get(offset..offset + magic.len()) == Some(&magic[..]),
            None => false,
        }
    }

    /// Role of a frame with this message type (sent or received as given).
    pub fn role(&self, message_type: Option<u64>, sent: bool) -> FrameRole {
        match message_type {
            Some(value) if self.request_types.contains(&value) => FrameRole::Request,
            Some(value) if self.response_types.contains(&value) => FrameRole::Response,
            Some(_) => FrameRole::Other,
            None if self.request_id.is_none() => FrameRole::Other,
            None if sent => FrameRole::Request,
            None => FrameRole::Response,
        }
    }

    /// The header fields of a frame with their offsets and values.
    pub fn header_fields(&self, frame: &[u8]) -> Vec<HeaderField> {
        let mut fields = Vec::new();
        if let Some(magic) = self.magic {
            let spec = FieldSpec {
                offset: magic.offset,
                width_bytes: magic.width_bytes,
            };
            fields.push(("magic", spec));
        }
        for (name, spec) in [
            ("version", self.version),
            ("message_type", self.message_type),
            ("request_id", self.request_id),
            ("length", Some(self.length)),
        ] {
            if let Some(spec) = spec {
                fields.push((name, spec));
            }
        }
        fields.sort_by_key(|(_, spec)| spec.offset);
        fields
            .into_iter()
            .filter(|(_, spec)| spec.offset + usize::from(spec.width_bytes) <= frame.len())
            .map(|(name, spec)| HeaderField {
                name,
                offset: spec.offset,
                width_bytes: spec.width_bytes,
                value: self.read_field(frame, spec),
            })
            .collect()
    }
}

/// One frame cut from the stream; borrows the decoder's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BinaryFrame<'a> {
    /// Offset of the frame's first byte since the stream began.
    pub stream_offset: u64,
    /// Version field, if the layout has one.
    pub version: Option<u64>,
    /// Message type field, if the layout has one.
    pub message_type: Option<u64>,
    /// Request id field, if the layout has one.
    pub request_id: Option<u64>,
    /// The whole frame: header and payload.
    pub bytes: &'a [u8],
    /// Header size (the payload starts here).
    pub header_size_bytes: usize,
}

impl<'a> BinaryFrame<'a> {
    /// The payload after the header.
    pub fn payload(&self) -> &'a [u8] {
        self.bytes.get(self.header_size_bytes..).unwrap_or_default()
    }
}

/// What was wrong with bytes the decoder had to skip.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinaryErrorKind {
    /// The bytes at a frame start are not the magic.
    #[error("bad magic {found:#x}")]
    BadMagic {
        /// The value found where the magic should be.
        found: u64,
    },
    /// The length field is beyond the layout's maximum (or negative after adjustment).
    #[error("impossible payload length {length_bytes} (maximum {max_payload_bytes})")]
    ImpossibleLength {
        /// The payload length read (after adjustment).
        length_bytes: i128,
        /// The layout's maximum.
        max_payload_bytes: u64,
    },
    /// The layout has no magic, so after an impossible length there is no way back into
    /// the stream: everything from here on is malformed.
    #[error("stream desynchronised and the layout has no magic to resynchronise on")]
    Desynchronised,
    /// The stream ended inside a frame.
    #[error("stream ended {missing_bytes} bytes short of a complete frame")]
    Truncated {
        /// Bytes that were still expected.
        missing_bytes: u64,
    },
}

/// Bytes that could not be decoded as a frame, handed back so they can be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at stream offset {stream_offset} ({} bytes skipped)", skipped.len())]
pub struct BinaryError {
    /// What was wrong.
    pub kind: BinaryErrorKind,
    /// Offset of the first skipped byte since the stream began.
    pub stream_offset: u64,
    /// The skipped bytes.
    pub skipped: Vec<u8>,
}

/// While resynchronising, at most this many bytes are held back waiting for the next magic
/// before they are reported anyway.
pub const MAX_RESYNC_BYTES: usize = 1024 * 1024;

/// Push decoder for one direction of one connection.
#[derive(Debug, Clone)]
pub struct BinaryDecoder {
    layout: BinaryLayout,
    magic: Option<(usize, Vec<u8>)>,
    buffer: Vec<u8>,
    start: usize,
    consumed_before_buffer: u64,
    desynchronised: bool,
}

impl BinaryDecoder {
    /// A decoder for `layout`, at the start of a stream.
    pub fn new(layout: BinaryLayout) -> Result<Self, LayoutError> {
        layout.validate()?;
        Ok(BinaryDecoder {
            magic: layout.magic_bytes(),
            layout,
            buffer: Vec::new(),
            start: 0,
            consumed_before_buffer: 0,
            desynchronised: false,
        })
    }

    /// The layout in use.
    pub fn layout(&self) -> &BinaryLayout {
        &self.layout
    }

    /// Bytes pushed but not yet returned as frames or errors.
    pub fn buffered_len(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// Appends bytes from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            if self.start == self.buffer.len() {
                self.buffer.clear();
            } else if self.start >= 4096 || self.start * 2 >= self.buffer.len() {
                self.buffer.drain(..self.start);
            } else {
                self.buffer.extend_from_slice(bytes);
                return;
            }
            self.consumed_before_buffer += self.start as u64;
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// Takes the next frame; see the module docs for the meaning of each result.
    #[inline]
    pub fn next_frame(&mut self) -> Result<Option<BinaryFrame<'_>>, BinaryError> {
        let available = self.buffer.len() - self.start;
        if available == 0 {
            return Ok(None);
        }
        if self.desynchronised {
            return Err(self.skip_to(self.buffer.len(), BinaryErrorKind::Desynchronised));
        }
        let start = self.start;
        if let Some((magic_offset, magic)) = &self.magic {
            let seen_end = (magic_offset + magic.len()).min(available);
            if *magic_offset < seen_end {
                let seen = &self.buffer[start + magic_offset..start + seen_end];
                if seen != &magic[..seen.len()] {
                    let found = self.read_magic_value(start);
                    return self.resync(BinaryErrorKind::BadMagic { found });
                }
            }
        }
        let header_size = self.layout.header_size_bytes;
        if available < header_size {
            return Ok(None);
        }
        let header = &self.buffer[start..start + header_size];
        let length_field = self.layout.read_field(header, self.layout.length);
        let payload_len = i128::from(length_field) + i128::from(self.layout.length_adjust_bytes);
        if payload_len < 0 || payload_len > i128::from(self.layout.max_payload_bytes) {
            let kind = BinaryErrorKind::ImpossibleLength {
                length_bytes: payload_len,
                max_payload_bytes: self.layout.max_payload_bytes,
            };
            if self.magic.is_some() {
                return self.resync(kind);
            }
            self.desynchronised = true;
            return Err(self.skip_to(self.buffer.len(), kind));
        }
        // Bounded by max_payload_bytes, which fits in memory terms checked above.
        let total = header_size + payload_len as usize;
        if available < total {
            return Ok(None);
        }
        let layout = &self.layout;
        let version = layout.version.map(|field| layout.read_field(header, field));
        let message_type = layout
            .message_type
            .map(|field| layout.read_field(header, field));
        let request_id = layout
            .request_id
            .map(|field| layout.read_field(header, field));
        self.start = start + total;
        Ok(Some(BinaryFrame {
            stream_offset: self.consumed_before_buffer + start as u64,
            version,
            message_type,
            request_id,
            bytes: &self.buffer[start..start + total],
            header_size_bytes: header_size,
        }))
    }

    fn read_magic_value(&self, start: usize) -> u64 {
        match self.layout.magic {
            Some(magic) => {
                let end =
                    (start + magic.offset + usize::from(magic.width_bytes)).min(self.buffer.len());
                let bytes = self
                    .buffer
                    .get(start + magic.offset..end)
                    .unwrap_or_default();
                let mut padded = [0u8; 8];
                let width = bytes.len().min(8);
                padded[..width].copy_from_slice(&bytes[..width]);
                let spec = FieldSpec {
                    offset: 0,
                    width_bytes: magic.width_bytes,
                };
                if width == usize::from(magic.width_bytes) {
                    self.layout.read_field(&padded, spec)
                } else {
                    0
                }
            }
            None => 0,
        }
    }

    /// Skips from the current start to the next position where a complete magic is seen.
    /// When none is buffered yet, waits (consuming nothing) so that the skipped stretch is
    /// reported as one unit however the stream was split, up to [`MAX_RESYNC_BYTES`].
    fn resync(&mut self, kind: BinaryErrorKind) -> Result<Option<BinaryFrame<'_>>, BinaryError> {
        let Some((magic_offset, magic)) = &self.magic else {
            return Err(self.skip_to(self.buffer.len(), kind));
        };
        let search_from = self.start + 1 + magic_offset;
        let found = self
            .buffer
            .get(search_from..)
            .and_then(|rest| {
                rest.windows(magic.len())
                    .position(|window| window == &magic[..])
            })
            .map(|position| search_from + position - magic_offset);
        match found {
            Some(next_start) => Err(self.skip_to(next_start, kind)),
            None if self.buffer.len() - self.start > MAX_RESYNC_BYTES => {
                let keep = magic_offset + magic.len() - 1;
                let end = self.buffer.len().saturating_sub(keep).max(self.start + 1);
                Err(self.skip_to(end, kind))
            }
            None => Ok(None),
        }
    }

    fn skip_to(&mut self, end: usize, kind: BinaryErrorKind) -> BinaryError {
        let skipped = self.buffer[self.start..end].to_vec();
        let stream_offset = self.consumed_before_buffer + self.start as u64;
        self.start = end;
        BinaryError {
            kind,
            stream_offset,
            skipped,
        }
    }

    /// Ends the stream: bytes still buffered (a partial frame, or garbage waiting for a
    /// magic) are returned as an error so they are never dropped silently.
    pub fn finish(&mut self) -> Option<BinaryError> {
        let available = self.buffer.len() - self.start;
        if available == 0 {
            return None;
        }
        let kind = if self.desynchronised {
            BinaryErrorKind::Desynchronised
        } else if self.magic.as_ref().is_some_and(|(offset, magic)| {
            let end = (offset + magic.len()).min(available);
            *offset < end
                && self.buffer[self.start + offset..self.start + end] != magic[..end - offset]
        }) {
            BinaryErrorKind::BadMagic {
                found: self.read_magic_value(self.start),
            }
        } else {
            let header_size = self.layout.header_size_bytes;
            let length = (available >= header_size).then(|| {
                let header = &self.buffer[self.start..self.start + header_size];
                i128::from(self.layout.read_field(header, self.layout.length))
                    + i128::from(self.layout.length_adjust_bytes)
            });
            match length {
                Some(length)
                    if length < 0 || length > i128::from(self.layout.max_payload_bytes) =>
                {
                    BinaryErrorKind::ImpossibleLength {
                        length_bytes: length,
                        max_payload_bytes: self.layout.max_payload_bytes,
                    }
                }
                Some(length) => BinaryErrorKind::Truncated {
                    missing_bytes: (header_size as u64 + u64::try_from(length).unwrap_or(0))
                        .saturating_sub(available as u64),
                },
                None => BinaryErrorKind::Truncated {
                    missing_bytes: (header_size - available) as u64,
                },
            }
        };
        let error = self.skip_to(self.buffer.len(), kind);
        self.desynchronised = false;
        Some(error)
    }
}
