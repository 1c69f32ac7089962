//! Just enough of the Protocol Buffers wire format for the 0xCAFE demo: an encoder that
//! writes real wire bytes (varint, zigzag, 64-bit, length-delimited, 32-bit fields) and a
//! reader that walks the fields of a message the demo client sent.
//!
//! Data enters as field values (encoder) or bytes (reader) and leaves as bytes or
//! [`Field`]s. The schemas of the demo messages are documented in `docs/hook-api.md`.

/// Builds one protobuf message.
#[derive(Debug, Default, Clone)]
pub struct Encoder {
    bytes: Vec<u8>,
}

fn put_varint(bytes: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        bytes.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
}

impl Encoder {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    fn key(&mut self, field_number: u32, wire_type: u8) {
        put_varint(
            &mut self.bytes,
            (u64::from(field_number) << 3) | u64::from(wire_type),
        );
    }

    /// `uint64`/`uint32`/`bool`/enum field (wire type 0).
    pub fn uint(mut self, field_number: u32, value: u64) -> Self {
        self.key(field_number, 0);
        put_varint(&mut self.bytes, value);
        self
    }

    /// `int64`/`int32` field (wire type 0, two's complement).
    pub fn int(self, field_number: u32, value: i64) -> Self {
        self.uint(field_number, value as u64)
    }

    /// `sint64` field (wire type 0, zigzag).
    pub fn sint(self, field_number: u32, value: i64) -> Self {
        self.uint(field_number, ((value << 1) ^ (value >> 63)) as u64)
    }

    /// `fixed64` field (wire type 1, little-endian).
    pub fn fixed64(mut self, field_number: u32, value: u64) -> Self {
        self.key(field_number, 1);
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// `double` field (wire type 1).
    pub fn double(self, field_number: u32, value: f64) -> Self {
        self.fixed64(field_number, value.to_bits())
    }

    /// `fixed32` field (wire type 5, little-endian).
    pub fn fixed32(mut self, field_number: u32, value: u32) -> Self {
        self.key(field_number, 5);
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// `bytes` field or embedded message (wire type 2).
    pub fn bytes(mut self, field_number: u32, value: &[u8]) -> Self {
        self.key(field_number, 2);
        put_varint(&mut self.bytes, value.len() as u64);
        self.bytes.extend_from_slice(value);
        self
    }

    /// `string` field (wire type 2).
    pub fn string(self, field_number: u32, value: &str) -> Self {
        self.bytes(field_number, value.as_bytes())
    }

    /// Embedded message (wire type 2).
    pub fn message(self, field_number: u32, message: Encoder) -> Self {
        self.bytes(field_number, &message.bytes)
    }

    /// `repeated int64` written packed (wire type 2). Clients send these; the server only
    /// reads them, so only the tests write them.
    #[cfg(test)]
    pub fn packed_ints(self, field_number: u32, values: &[i64]) -> Self {
        let mut packed = Vec::new();
        for value in values {
            put_varint(&mut packed, *value as u64);
        }
        self.bytes(field_number, &packed)
    }

    /// The encoded message.
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// One field read from a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2.
    Bytes(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtobufError {
    /// The message ends inside a field.
    #[error("message ends inside field at byte {offset}")]
    Truncated {
        /// Byte offset of the field.
        offset: usize,
    },
    /// A varint longer than 10 bytes.
    #[error("varint at byte {offset} is longer than 10 bytes")]
    VarintTooLong {
        /// Byte offset of the varint.
        offset: usize,
    },
    /// Wire types 3, 4 (groups), 6 and 7 are not used by the demo.
    #[error("unsupported wire type {wire_type} at byte {offset}")]
    UnsupportedWireType {
        /// The wire type.
        wire_type: u8,
        /// Byte offset of the key.
        offset: usize,
    },
}

fn read_varint(bytes: &[u8], offset: &mut usize) -> Result<u64, ProtobufError> {
    let start = *offset;
    let mut value = 0u64;
    for shift in 0..10 {
        let byte = *bytes
            .get(*offset)
            .ok_or(ProtobufError::Truncated { offset: start })?;
        *offset += 1;
        value |= u64::from(byte & 0x7f) << (shift * 7);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ProtobufError::VarintTooLong { offset: start })
}

fn take<'a>(bytes: &'a [u8], offset: &mut usize, len: usize) -> Result<&'a [u8], ProtobufError> {
    let start = *offset;
    let end = start
        .checked_add(len)
        .filter(|end| *end <= bytes.len())
        .ok_or(ProtobufError::Truncated { offset: start })?;
    *offset = end;
    Ok(&bytes[start..end])
}

/// Reads every field of a message, in order: `(field_number, value)`.
pub fn read_fields(bytes: &[u8]) -> Result<Vec<(u32, Field<'_>)>, ProtobufError> {
    let mut fields = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let key_offset = offset;
        let key = read_varint(bytes, &mut offset)?;
        let field_number = (key >> 3) as u32;
        let wire_type = (key & 7) as u8;
        let field = match wire_type {
            0 => Field::Varint(read_varint(bytes, &mut offset)?),
            1 => {
                let raw = take(bytes, &mut offset, 8)?;
                let mut array = [0u8; 8];
                array.copy_from_slice(raw);
                Field::Fixed64(u64::from_le_bytes(array))
            }
            2 => {
                let len = read_varint(bytes, &mut offset)?;
                let len = usize::try_from(len)
                    .map_err(|_| ProtobufError::Truncated { offset: key_offset })?;
                Field::Bytes(take(bytes, &mut offset, len)?)
            }
            5 => {
                let raw = take(bytes, &mut offset, 4)?;
                let mut array = [0u8; 4];
                array.copy_from_slice(raw);
                Field::Fixed32(u32::from_le_bytes(array))
            }
            other => {
                return Err(ProtobufError::UnsupportedWireType {
                    wire_type: other,
                    offset: key_offset,
                });
            }
        };
        fields.push((field_number, field));
    }
    Ok(fields)
}

/// Reads a packed `repeated int64` field's content.
pub fn read_packed_ints(bytes: &[u8]) -> Result<Vec<i64>, ProtobufError> {
    let mut values = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        values.push(read_varint(bytes, &mut offset)? as i64);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn encodes_the_documented_example_bytes() {
        // From the Protocol Buffers encoding guide: field 1 = 150 is 08 96 01.
        assert_eq!(Encoder::new().uint(1, 150).finish(), vec![0x08, 0x96, 0x01]);
        // Field 2 = "testing" is 12 07 74 65 73 74 69 6e 67.
        assert_eq!(
            Encoder::new().string(2, "testing").finish(),
            vec![0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67]
        );
        // sint64 -2 zigzags to 3.
        assert_eq!(Encoder::new().sint(1, -2).finish(), vec![0x08, 0x03]);
        // int64 -1 takes ten bytes.
        assert_eq!(Encoder::new().int(1, -1).finish().len(), 11);
    }

    #[test]
    fn reader_round_trips_every_wire_type() {
        let bytes = Encoder::new()
            .uint(1, 300)
            .fixed64(2, 7)
            .string(3, "add")
            .fixed32(4, 9)
            .packed_ints(5, &[1, -2, 300])
            .finish();
        let fields = read_fields(&bytes).unwrap();
        assert_eq!(fields[0], (1, Field::Varint(300)));
        assert_eq!(fields[1], (2, Field::Fixed64(7)));
        assert_eq!(fields[2], (3, Field::Bytes(b"add")));
        assert_eq!(fields[3], (4, Field::Fixed32(9)));
        let Field::Bytes(packed) = fields[4].1 else {
            panic!("packed field is length-delimited")
        };
        assert_eq!(read_packed_ints(packed).unwrap(), vec![1, -2, 300]);
    }

    #[test]
    fn every_prefix_inside_a_field_is_an_error_not_a_panic() {
        let bytes = Encoder::new().string(3, "hello").fixed64(2, 1).finish();
        // The only field boundary inside the message is after "hello" (1 + 1 + 5 bytes).
        for len in 1..bytes.len() {
            let result = read_fields(&bytes[..len]);
            if len == 7 {
                assert_eq!(result.unwrap().len(), 1);
            } else {
                assert!(result.is_err(), "prefix of {len} bytes read as {result:?}");
            }
        }
        assert_eq!(
            read_fields(&bytes[..3]),
            Err(ProtobufError::Truncated { offset: 2 })
        );
        assert!(matches!(
            read_fields(&[0x0b]),
            Err(ProtobufError::UnsupportedWireType { wire_type: 3, .. })
        ));
    }
}
