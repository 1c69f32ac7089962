//! Hex + ASCII dumps with decoded fields marked, the layout of a binary payload view.
//!
//! Data enters as payload bytes and the byte ranges a decoder recognised ([`FieldSpan`]s:
//! magic, request id, length...). It leaves as [`HexLine`]s, each cell knowing which field (if
//! any) it belongs to, so a front end can colour the hex and the ASCII columns alike.

/// A named byte range of a payload, as a decoder understood it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpan {
    /// Field name shown to users (`magic`, `req_id`, `payload_len`, `payload`).
    pub name: String,
    /// Offset of the first byte.
    pub start: usize,
    /// Number of bytes.
    pub len: usize,
}

impl FieldSpan {
    /// A span.
    pub fn new(name: impl Into<String>, start: usize, len: usize) -> Self {
        Self {
            name: name.into(),
            start,
            len,
        }
    }

    fn contains(&self, offset: usize) -> bool {
        offset >= self.start && offset - self.start < self.len
    }
}

/// One byte of a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HexCell {
    /// The byte.
    pub byte: u8,
    /// Index into the spans passed to [`hex_lines`] of the first span covering this byte.
    pub field: Option<usize>,
}

impl HexCell {
    /// The byte as two lowercase hex digits.
    pub fn hex(&self) -> String {
        format!("{:02x}", self.byte)
    }

    /// The byte as a printable ASCII character, `.` otherwise.
    pub fn ascii(&self) -> char {
        if self.byte.is_ascii_graphic() || self.byte == b' ' {
            char::from(self.byte)
        } else {
            '.'
        }
    }
}

/// One line of a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexLine {
    /// Offset of the first byte of the line.
    pub offset: usize,
    /// The line's bytes (fewer than the line width on the last line).
    pub cells: Vec<HexCell>,
}

impl HexLine {
    /// The offset as eight hex digits.
    pub fn offset_label(&self) -> String {
        format!("{:08x}", self.offset)
    }
}

/// Splits `bytes` into lines of `bytes_per_line` (at least 1), marking each byte with the
/// first of `spans` that covers it. At most `max_lines` lines are returned, so a huge payload
/// cannot flood a view; [`hex_dump_is_cut`] tells whether lines were left out.
pub fn hex_lines(
    bytes: &[u8],
    spans: &[FieldSpan],
    bytes_per_line: usize,
    max_lines: usize,
) -> Vec<HexLine> {
    let width = bytes_per_line.max(1);
    bytes
        .chunks(width)
        .take(max_lines)
        .enumerate()
        .map(|(line_index, chunk)| {
            let offset = line_index * width;
            HexLine {
                offset,
                cells: chunk
                    .iter()
                    .enumerate()
                    .map(|(index, byte)| HexCell {
                        byte: *byte,
                        field: spans.iter().position(|span| span.contains(offset + index)),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// True when [`hex_lines`] with these arguments leaves bytes out.
pub fn hex_dump_is_cut(byte_count: usize, bytes_per_line: usize, max_lines: usize) -> bool {
    byte_count.div_ceil(bytes_per_line.max(1)) > max_lines
}

/// The whole dump as text (`offset  hex  |ascii|`), for copying.
pub fn hex_dump_text(bytes: &[u8], bytes_per_line: usize) -> String {
    let width = bytes_per_line.max(1);
    let mut text = String::new();
    for line in hex_lines(bytes, &[], width, usize::MAX) {
        let hex: Vec<String> = line.cells.iter().map(HexCell::hex).collect();
        let ascii: String = line.cells.iter().map(HexCell::ascii).collect();
        text.push_str(&format!(
            "{}  {:<pad$}  |{}|\n",
            line.offset_label(),
            hex.join(" "),
            ascii,
            pad = width * 3 - 1
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_know_their_field() {
        let bytes = [
            0xca, 0xfe, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 2, b'h', b'i',
        ];
        let spans = [
            FieldSpan::new("magic", 0, 2),
            FieldSpan::new("req_id", 4, 8),
            FieldSpan::new("payload", 16, 2),
        ];
        let lines = hex_lines(&bytes, &spans, 16, 10);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].cells[0].field, Some(0));
        assert_eq!(lines[0].cells[2].field, None);
        assert_eq!(lines[0].cells[11].field, Some(1));
        assert_eq!(lines[1].offset_label(), "00000010");
        assert_eq!(lines[1].cells[1].ascii(), 'i');
        assert_eq!(lines[1].cells[1].field, Some(2));
        assert_eq!(lines[0].cells[0].hex(), "ca");
        assert_eq!(lines[0].cells[0].ascii(), '.');
    }

    #[test]
    fn long_payloads_are_cut_visibly() {
        let bytes = vec![0u8; 100];
        assert_eq!(hex_lines(&bytes, &[], 16, 2).len(), 2);
        assert!(hex_dump_is_cut(100, 16, 2));
        assert!(!hex_dump_is_cut(32, 16, 2));
    }

    #[test]
    fn text_dump_pads_the_last_line() {
        let text = hex_dump_text(b"ABCDEFGHIJKLMNOPQ", 16);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "00000000  41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50  |ABCDEFGHIJKLMNOP|"
        );
        assert_eq!(lines[1].len(), lines[0].len() - 15);
        assert!(lines[1].ends_with("|Q|"));
    }
}
