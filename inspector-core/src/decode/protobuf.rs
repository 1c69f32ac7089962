//! Schema-less Protocol Buffers wire decoder, in the spirit of `protoc --decode_raw`.
//!
//! Data enters as the bytes of one message ([`decode_raw`]) and leaves as a tree of
//! [`ProtoField`]s borrowing from the input: field numbers, wire types, and values. Without a
//! schema a length-delimited field could be a string, bytes or a nested message; the guess
//! is made safely: printable UTF-8 text is shown as a string (protoc would sometimes show
//! short words as nested messages), otherwise the bytes are shown as a nested message only
//! when they parse completely as one, otherwise as bytes. Nesting is limited to
//! [`MAX_DEPTH`] levels so hostile input cannot exhaust the stack.

use std::fmt::Write as _;

/// Deepest nesting of messages and groups that is decoded.
pub const MAX_DEPTH: usize = 32;

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum ProtoValue<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 5.
    Fixed32(u32),
    /// Wire type 2 holding printable UTF-8 text.
    String(&'a str),
    /// Wire type 2 holding bytes that parse as a message.
    Message(Vec<ProtoField<'a>>),
    /// Wire type 2 holding anything else.
    Bytes(&'a [u8]),
    /// Wire types 3..4 (deprecated groups).
    Group(Vec<ProtoField<'a>>),
}

/// One field of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtoField<'a> {
    /// Field number.
    pub number: u32,
    /// Wire type (0, 1, 2, 3 or 5).
    pub wire_type: u8,
    /// Offset of the field's tag in the decoded buffer.
    pub offset: usize,
    /// The value.
    pub value: ProtoValue<'a>,
}

/// Why bytes are not a protobuf message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    /// The input ended inside a field.
    #[error("truncated field at offset {offset}")]
    Truncated {
        /// Offset of the field's tag.
        offset: usize,
    },
    /// A varint longer than 10 bytes.
    #[error("varint longer than 10 bytes at offset {offset}")]
    VarintTooLong {
        /// Offset of the varint.
        offset: usize,
    },
    /// Wire type 6 or 7.
    #[error("invalid wire type {wire_type} at offset {offset}")]
    BadWireType {
        /// Offset of the tag.
        offset: usize,
        /// The wire type.
        wire_type: u8,
    },
    /// Field number 0 or above 2^29-1.
    #[error("invalid field number {number} at offset {offset}")]
    BadFieldNumber {
        /// Offset of the tag.
        offset: usize,
        /// The number.
        number: u64,
    },
    /// An end-group tag without a matching start.
    #[error("unmatched end of group at offset {offset}")]
    UnmatchedEndGroup {
        /// Offset of the tag.
        offset: usize,
    },
    /// A group that never ends.
    #[error("group {number} is never closed")]
    UnterminatedGroup {
        /// The group's field number.
        number: u32,
    },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// Decodes a whole message.
pub fn decode_raw(bytes: &[u8]) -> Result<Vec<ProtoField<'_>>, ProtoError> {
    let mut position = 0;
    let fields = decode_fields(bytes, &mut position, 0, None)?;
    Ok(fields)
}

fn read_varint(bytes: &[u8], position: &mut usize) -> Result<u64, ProtoError> {
    let offset = *position;
    let mut value = 0u64;
    for index in 0..10 {
        let Some(&byte) = bytes.get(*position) else {
            return Err(ProtoError::Truncated { offset });
        };
        *position += 1;
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ProtoError::VarintTooLong { offset })
}

fn take<'a>(
    bytes: &'a [u8],
    position: &mut usize,
    len: u64,
    offset: usize,
) -> Result<&'a [u8], ProtoError> {
    let len = usize::try_from(len).map_err(|_| ProtoError::Truncated { offset })?;
    let end = position
        .checked_add(len)
        .filter(|end| *end <= bytes.len())
        .ok_or(ProtoError::Truncated { offset })?;
    let slice = &bytes[*position..end];
    *position = end;
    Ok(slice)
}

fn decode_fields<'a>(
    bytes: &'a [u8],
    position: &mut usize,
    depth: usize,
    group: Option<u32>,
) -> Result<Vec<ProtoField<'a>>, ProtoError> {
    if depth > MAX_DEPTH {
        return Err(ProtoError::TooDeep);
    }
    let mut fields = Vec::new();
    while *position < bytes.len() {
        let offset = *position;
        let tag = read_varint(bytes, position)?;
        let wire_type = (tag & 7) as u8;
        let number_wide = tag >> 3;
        if number_wide == 0 || number_wide > (1 << 29) - 1 {
            return Err(ProtoError::BadFieldNumber {
                offset,
                number: number_wide,
            });
        }
        let number = number_wide as u32;
        let value = match wire_type {
            0 => ProtoValue::Varint(read_varint(bytes, position)?),
            1 => {
                let raw = take(bytes, position, 8, offset)?;
                let mut array = [0u8; 8];
                array.copy_from_slice(raw);
                ProtoValue::Fixed64(u64::from_le_bytes(array))
            }
            5 => {
                let raw = take(bytes, position, 4, offset)?;
                let mut array = [0u8; 4];
                array.copy_from_slice(raw);
                ProtoValue::Fixed32(u32::from_le_bytes(array))
            }
            2 => {
                let len = read_varint(bytes, position)?;
                let data = take(bytes, position, len, offset)?;
                guess_length_delimited(data, depth)
            }
            3 => ProtoValue::Group(decode_fields(bytes, position, depth + 1, Some(number))?),
            4 => {
                if group == Some(number) {
                    return Ok(fields);
                }
                return Err(ProtoError::UnmatchedEndGroup { offset });
            }
            _ => return Err(ProtoError::BadWireType { offset, wire_type }),
        };
        fields.push(ProtoField {
            number,
            wire_type,
            offset,
            value,
        });
    }
    match group {
        Some(number) => Err(ProtoError::UnterminatedGroup { number }),
        None => Ok(fields),
    }
}

fn guess_length_delimited(data: &[u8], depth: usize) -> ProtoValue<'_> {
    if let Ok(text) = std::str::from_utf8(data)
        && is_printable(text)
    {
        return ProtoValue::String(text);
    }
    let mut position = 0;
    match decode_fields(data, &mut position, depth + 1, None) {
        Ok(fields) if !fields.is_empty() => ProtoValue::Message(fields),
        _ => ProtoValue::Bytes(data),
    }
}

fn is_printable(text: &str) -> bool {
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
}

/// Finds the first top-level field `number` that is a printable string, without building a
/// tree. Used to read a method name out of a payload cheaply.
pub fn find_string_field(bytes: &[u8], number: u32) -> Option<&str> {
    let mut position = 0;
    while position < bytes.len() {
        let offset = position;
        let tag = read_varint(bytes, &mut position).ok()?;
        let field_number = tag >> 3;
        match tag & 7 {
            0 => {
                read_varint(bytes, &mut position).ok()?;
            }
            1 => {
                take(bytes, &mut position, 8, offset).ok()?;
            }
            5 => {
                take(bytes, &mut position, 4, offset).ok()?;
            }
            2 => {
                let len = read_varint(bytes, &mut position).ok()?;
                let data = take(bytes, &mut position, len, offset).ok()?;
                if field_number == u64::from(number) {
                    return std::str::from_utf8(data)
                        .ok()
                        .filter(|text| !text.is_empty() && is_printable(text));
                }
            }
            _ => return None,
        }
    }
    None
}

/// Renders fields as `protoc --decode_raw` does: `1: 150`, `2: "text"`, `3 { ... }`.
pub fn to_text(fields: &[ProtoField<'_>]) -> String {
    let mut out = String::new();
    write_fields(&mut out, fields, 0);
    out
}

fn write_fields(out: &mut String, fields: &[ProtoField<'_>], indent: usize) {
    for field in fields {
        for _ in 0..indent {
            out.push_str("  ");
        }
        let _ = write!(out, "{}", field.number);
        match &field.value {
            ProtoValue::Varint(value) => {
                let _ = writeln!(out, ": {value}");
            }
            ProtoValue::Fixed64(value) => {
                let _ = writeln!(out, ": 0x{value:016x}");
            }
            ProtoValue::Fixed32(value) => {
                let _ = writeln!(out, ": 0x{value:08x}");
            }
            ProtoValue::String(text) => {
                let _ = writeln!(out, ": {text:?}");
            }
            ProtoValue::Bytes(data) => {
                out.push_str(": \"");
                for byte in *data {
                    if byte.is_ascii_graphic() && *byte != b'"' && *byte != b'\\' || *byte == b' ' {
                        out.push(char::from(*byte));
                    } else {
                        let _ = write!(out, "\\{byte:03o}");
                    }
                }
                out.push_str("\"\n");
            }
            ProtoValue::Message(children) | ProtoValue::Group(children) => {
                out.push_str(" {\n");
                write_fields(out, children, indent + 1);
                for _ in 0..indent {
                    out.push_str("  ");
                }
                out.push_str("}\n");
            }
        }
    }
}

/// Encodes a varint (for building test payloads and demo traffic).
pub fn encode_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a length-delimited field (string, bytes or message) to `out`.
pub fn encode_bytes_field(number: u32, data: &[u8], out: &mut Vec<u8>) {
    encode_varint((u64::from(number) << 3) | 2, out);
    encode_varint(data.len() as u64, out);
    out.extend_from_slice(data);
}

/// Appends a varint field to `out`.
pub fn encode_varint_field(number: u32, value: u64, out: &mut Vec<u8>) {
    encode_varint(u64::from(number) << 3, out);
    encode_varint(value, out);
}
