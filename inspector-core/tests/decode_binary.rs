//! Binary layouts (0xCAFE preset and user layouts), gRPC-web framing and the schema-less
//! protobuf decoder: named table cases, "every prefix is incomplete", "one byte at a time
//! equals all at once", resynchronisation after garbage.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use inspector_core::decode::binary::{
    BinaryDecoder, BinaryErrorKind, BinaryLayout, ByteOrder, FieldSpec, FrameRole, LayoutError,
    MagicSpec, PayloadCodec,
};
use inspector_core::decode::grpc_web::{self, GrpcWebDecoder};
use inspector_core::decode::protobuf::{
    self, ProtoError, ProtoValue, decode_raw, encode_bytes_field, encode_varint_field,
};

fn cafe_frame(message_type: u8, request_id: u64, payload: &[u8], order: ByteOrder) -> Vec<u8> {
    let mut frame = Vec::new();
    match order {
        ByteOrder::BigEndian => {
            frame.extend_from_slice(&0xCAFEu16.to_be_bytes());
            frame.extend_from_slice(&[1, message_type]);
            frame.extend_from_slice(&request_id.to_be_bytes());
            frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        }
        ByteOrder::LittleEndian => {
            frame.extend_from_slice(&0xCAFEu16.to_le_bytes());
            frame.extend_from_slice(&[1, message_type]);
            frame.extend_from_slice(&request_id.to_le_bytes());
            frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        }
    }
    frame.extend_from_slice(payload);
    frame
}

fn method_payload(method: &str, value: u64) -> Vec<u8> {
    let mut payload = Vec::new();
    encode_bytes_field(1, method.as_bytes(), &mut payload);
    encode_varint_field(2, value, &mut payload);
    payload
}

/// What a decoder produced, owned.
#[derive(Debug, PartialEq, Eq, Clone)]
enum Item {
    Frame {
        offset: u64,
        message_type: Option<u64>,
        request_id: Option<u64>,
        payload: Vec<u8>,
    },
    Skipped {
        offset: u64,
        kind: BinaryErrorKind,
        bytes: Vec<u8>,
    },
}

fn drain(decoder: &mut BinaryDecoder, items: &mut Vec<Item>) {
    loop {
        match decoder.next_frame() {
            Ok(Some(frame)) => items.push(Item::Frame {
                offset: frame.stream_offset,
                message_type: frame.message_type,
                request_id: frame.request_id,
                payload: frame.payload().to_vec(),
            }),
            Ok(None) => break,
            Err(error) => items.push(Item::Skipped {
                offset: error.stream_offset,
                kind: error.kind,
                bytes: error.skipped,
            }),
        }
    }
}

fn decode_in_chunks(layout: &BinaryLayout, stream: &[u8], chunk: usize) -> Vec<Item> {
    let mut decoder = BinaryDecoder::new(layout.clone()).unwrap();
    let mut items = Vec::new();
    for piece in stream.chunks(chunk.max(1)) {
        decoder.push(piece);
        drain(&mut decoder, &mut items);
    }
    if let Some(error) = decoder.finish() {
        items.push(Item::Skipped {
            offset: error.stream_offset,
            kind: error.kind,
            bytes: error.skipped,
        });
    }
    items
}

fn frame_item(offset: u64, message_type: u64, request_id: u64, payload: &[u8]) -> Item {
    Item::Frame {
        offset,
        message_type: Some(message_type),
        request_id: Some(request_id),
        payload: payload.to_vec(),
    }
}

#[test]
fn cafe_table_cases() {
    let big = ByteOrder::BigEndian;
    let p1 = method_payload("User.Get", 7);
    let f1 = cafe_frame(1, 42, &p1, big);
    let f2 = cafe_frame(2, 42, b"", big);
    let max_id = cafe_frame(1, u64::MAX, b"x", big);
    let garbage: &[u8] = b"\x00\x01junk";
    let cases: Vec<(&str, BinaryLayout, Vec<u8>, Vec<Item>)> = vec![
        (
            "one request",
            BinaryLayout::cafe(),
            f1.clone(),
            vec![frame_item(0, 1, 42, &p1)],
        ),
        (
            "empty payload",
            BinaryLayout::cafe(),
            f2.clone(),
            vec![frame_item(0, 2, 42, b"")],
        ),
        (
            "two frames coalesced in one message",
            BinaryLayout::cafe(),
            [f1.clone(), f2.clone()].concat(),
            vec![
                frame_item(0, 1, 42, &p1),
                frame_item(f1.len() as u64, 2, 42, b""),
            ],
        ),
        (
            "ReqID 2^64-1 kept exactly",
            BinaryLayout::cafe(),
            max_id.clone(),
            vec![frame_item(0, 1, u64::MAX, b"x")],
        ),
        (
            "little-endian frame with the little-endian preset",
            BinaryLayout::cafe().with_byte_order(ByteOrder::LittleEndian),
            cafe_frame(1, 0x0102030405060708, b"abc", ByteOrder::LittleEndian),
            vec![frame_item(0, 1, 0x0102030405060708, b"abc")],
        ),
        (
            "garbage before a frame resynchronises on the magic",
            BinaryLayout::cafe(),
            [garbage, &f1].concat(),
            vec![
                Item::Skipped {
                    offset: 0,
                    kind: BinaryErrorKind::BadMagic { found: 0x0001 },
                    bytes: garbage.to_vec(),
                },
                frame_item(garbage.len() as u64, 1, 42, &p1),
            ],
        ),
        (
            "impossible length resynchronises on the next magic",
            BinaryLayout {
                max_payload_bytes: 1024,
                ..BinaryLayout::cafe()
            },
            [
                &[
                    0xCA, 0xFE, 1, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0x7F, 0xFF, 0xFF, 0xFF,
                ][..],
                &f2,
            ]
            .concat(),
            vec![
                Item::Skipped {
                    offset: 0,
                    kind: BinaryErrorKind::ImpossibleLength {
                        length_bytes: 0x7FFF_FFFF,
                        max_payload_bytes: 1024,
                    },
                    bytes: vec![
                        0xCA, 0xFE, 1, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0x7F, 0xFF, 0xFF, 0xFF,
                    ],
                },
                frame_item(16, 2, 42, b""),
            ],
        ),
        (
            "truncated last frame is reported at the end",
            BinaryLayout::cafe(),
            f1[..f1.len() - 3].to_vec(),
            vec![Item::Skipped {
                offset: 0,
                kind: BinaryErrorKind::Truncated { missing_bytes: 3 },
                bytes: f1[..f1.len() - 3].to_vec(),
            }],
        ),
        (
            "trailing garbage with no magic is reported at the end",
            BinaryLayout::cafe(),
            [&f2[..], b"zz"].concat(),
            vec![
                frame_item(0, 2, 42, b""),
                Item::Skipped {
                    offset: 16,
                    kind: BinaryErrorKind::BadMagic { found: 0x7a7a },
                    bytes: b"zz".to_vec(),
                },
            ],
        ),
        (
            "big-endian frame read little-endian is garbage, not a crash",
            BinaryLayout::cafe().with_byte_order(ByteOrder::LittleEndian),
            f2.clone(),
            vec![Item::Skipped {
                offset: 0,
                kind: BinaryErrorKind::BadMagic { found: 0xFECA },
                bytes: f2.clone(),
            }],
        ),
    ];
    let mut failures = Vec::new();
    for (name, layout, stream, expected) in cases {
        for chunk in [stream.len().max(1), 1, 5] {
            let got = decode_in_chunks(&layout, &stream, chunk);
            if got != expected {
                failures.push(format!(
                    "{name} (chunks of {chunk}):\n  got      {got:?}\n  expected {expected:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_prefix_of_a_frame_is_incomplete() {
    let frame = cafe_frame(
        1,
        9,
        &method_payload("Arith.Multiply", 56),
        ByteOrder::BigEndian,
    );
    for end in 0..frame.len() {
        let mut decoder = BinaryDecoder::new(BinaryLayout::cafe()).unwrap();
        decoder.push(&frame[..end]);
        assert_eq!(decoder.next_frame().unwrap(), None, "prefix of {end} bytes");
        assert_eq!(
            decoder.buffered_len(),
            end,
            "prefix of {end} bytes consumed something"
        );
    }
}

#[test]
fn one_byte_at_a_time_equals_all_at_once() {
    let big = ByteOrder::BigEndian;
    let mut stream = Vec::new();
    for id in 0..20u64 {
        stream.extend(cafe_frame(
            1,
            id,
            &method_payload("Svc.Method", id * 1000),
            big,
        ));
        if id % 7 == 3 {
            stream.extend_from_slice(b"\xCA\x00garbage\xCA");
        }
        stream.extend(cafe_frame(2, id, &method_payload("", id), big));
    }
    let all = decode_in_chunks(&BinaryLayout::cafe(), &stream, stream.len());
    assert_eq!(
        all.iter()
            .filter(|item| matches!(item, Item::Frame { .. }))
            .count(),
        40
    );
    assert_eq!(
        all.iter()
            .filter(|item| matches!(item, Item::Skipped { .. }))
            .count(),
        3
    );
    for chunk in [1, 2, 3, 7, 16, 17, 100] {
        assert_eq!(
            decode_in_chunks(&BinaryLayout::cafe(), &stream, chunk),
            all,
            "chunks of {chunk}"
        );
    }
    let skipped: usize = all
        .iter()
        .map(|item| match item {
            Item::Skipped { bytes, .. } => bytes.len(),
            Item::Frame { payload, .. } => payload.len() + 16,
        })
        .sum();
    assert_eq!(skipped, stream.len(), "every byte is accounted for");
}

#[test]
fn user_layout_with_length_counting_the_header() {
    // A little-endian protocol: magic 0x5A (1 byte), type (1), id (4), total length (2).
    let layout = BinaryLayout {
        name: "acme".to_owned(),
        byte_order: ByteOrder::LittleEndian,
        header_size_bytes: 8,
        magic: Some(MagicSpec {
            offset: 0,
            width_bytes: 1,
            value: 0x5A,
        }),
        version: None,
        message_type: Some(FieldSpec {
            offset: 1,
            width_bytes: 1,
        }),
        request_id: Some(FieldSpec {
            offset: 2,
            width_bytes: 4,
        }),
        length: FieldSpec {
            offset: 6,
            width_bytes: 2,
        },
        length_adjust_bytes: -8,
        max_payload_bytes: 4096,
        request_types: vec![0x10],
        response_types: vec![0x11],
        payload_codec: PayloadCodec::Json,
        method_field: None,
    };
    let json = br#"{"ok":true}"#;
    let mut stream = vec![0x5A, 0x10, 0x78, 0x56, 0x34, 0x12];
    stream.extend_from_slice(&((json.len() + 8) as u16).to_le_bytes());
    stream.extend_from_slice(json);
    let items = decode_in_chunks(&layout, &stream, 1);
    assert_eq!(items, vec![frame_item(0, 0x10, 0x12345678, json)]);
    assert_eq!(layout.role(Some(0x10), true), FrameRole::Request);
    assert_eq!(layout.role(Some(0x11), false), FrameRole::Response);
    assert_eq!(layout.role(Some(0x12), false), FrameRole::Other);
    // The layout survives a JSON round trip (it is what the UI stores for "decode as").
    let text = serde_json::to_string(&layout).unwrap();
    let back: BinaryLayout = serde_json::from_str(&text).unwrap();
    assert_eq!(back, layout);
}

#[test]
fn layout_without_magic_marks_the_rest_malformed_after_an_impossible_length() {
    let layout = BinaryLayout::grpc_web();
    let mut stream = vec![0, 0, 0, 0, 2, 8, 1];
    stream.extend_from_slice(&[0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3]);
    let mut decoder = BinaryDecoder::new(layout).unwrap();
    decoder.push(&stream);
    let mut items = Vec::new();
    drain(&mut decoder, &mut items);
    decoder.push(b"more");
    drain(&mut decoder, &mut items);
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(
        matches!(&items[1], Item::Skipped { kind: BinaryErrorKind::ImpossibleLength { .. }, bytes, .. } if bytes.len() == 8)
    );
    assert!(
        matches!(&items[2], Item::Skipped { kind: BinaryErrorKind::Desynchronised, bytes, .. } if bytes == b"more")
    );
}

#[test]
fn invalid_layouts_are_refused_with_the_field_named() {
    let mut layout = BinaryLayout::cafe();
    layout.request_id = Some(FieldSpec {
        offset: 4,
        width_bytes: 3,
    });
    assert_eq!(
        BinaryDecoder::new(layout).unwrap_err(),
        LayoutError::BadWidth {
            field: "request_id",
            width_bytes: 3
        }
    );
    let mut layout = BinaryLayout::cafe();
    layout.length.offset = 14;
    assert_eq!(
        layout.validate().unwrap_err(),
        LayoutError::OutsideHeader {
            field: "length",
            end_offset: 18,
            header_size_bytes: 16
        }
    );
    let mut layout = BinaryLayout::cafe();
    layout.magic = Some(MagicSpec {
        offset: 0,
        width_bytes: 1,
        value: 0xCAFE,
    });
    assert!(matches!(
        layout.validate(),
        Err(LayoutError::MagicTooWide { .. })
    ));
}

#[test]
fn header_fields_give_offsets_for_highlighting() {
    let frame = cafe_frame(2, 77, b"", ByteOrder::BigEndian);
    let fields = BinaryLayout::cafe().header_fields(&frame);
    let names: Vec<(&str, usize, u8, u64)> = fields
        .iter()
        .map(|field| (field.name, field.offset, field.width_bytes, field.value))
        .collect();
    assert_eq!(
        names,
        vec![
            ("magic", 0, 2, 0xCAFE),
            ("version", 2, 1, 1),
            ("message_type", 3, 1, 2),
            ("request_id", 4, 8, 77),
            ("length", 12, 4, 0)
        ]
    );
}

#[test]
fn protobuf_table_cases() {
    // protoc's canonical example: field 1 varint 150.
    assert_eq!(
        decode_raw(&[0x08, 0x96, 0x01]).unwrap()[0].value,
        ProtoValue::Varint(150)
    );
    let mut nested = Vec::new();
    encode_varint_field(1, 7, &mut nested);
    encode_bytes_field(2, b"seven", &mut nested);
    let mut outer = Vec::new();
    encode_bytes_field(1, b"Arith.Multiply", &mut outer);
    encode_bytes_field(3, &nested, &mut outer);
    encode_bytes_field(4, &[0xff, 0x00, 0x80], &mut outer);
    outer.extend_from_slice(&[0x2d, 1, 0, 0, 0]); // field 5 fixed32 = 1
    outer.extend_from_slice(&[0x31, 2, 0, 0, 0, 0, 0, 0, 0]); // field 6 fixed64 = 2
    outer.extend_from_slice(&[0x3b, 0x08, 0x01, 0x3c]); // field 7 group { 1: 1 }
    let fields = decode_raw(&outer).unwrap();
    assert_eq!(
        protobuf::to_text(&fields),
        concat!(
            "1: \"Arith.Multiply\"\n",
            "3 {\n",
            "  1: 7\n",
            "  2: \"seven\"\n",
            "}\n",
            "4: \"\\377\\000\\200\"\n",
            "5: 0x00000001\n",
            "6: 0x0000000000000002\n",
            "7 {\n",
            "  1: 1\n",
            "}\n",
        )
    );
    assert_eq!(
        protobuf::find_string_field(&outer, 1),
        Some("Arith.Multiply")
    );
    assert_eq!(protobuf::find_string_field(&outer, 9), None);
    let bad: Vec<(&str, &[u8], ProtoError)> = vec![
        (
            "wire type 7",
            &[0x0f],
            ProtoError::BadWireType {
                offset: 0,
                wire_type: 7,
            },
        ),
        (
            "field number 0",
            &[0x00, 0x01],
            ProtoError::BadFieldNumber {
                offset: 0,
                number: 0,
            },
        ),
        (
            "truncated length",
            &[0x0a, 0x05, b'a'],
            ProtoError::Truncated { offset: 0 },
        ),
        (
            "unmatched end group",
            &[0x0c],
            ProtoError::UnmatchedEndGroup { offset: 0 },
        ),
        (
            "open group",
            &[0x0b, 0x08, 0x01],
            ProtoError::UnterminatedGroup { number: 1 },
        ),
        (
            "varint too long",
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ],
            ProtoError::VarintTooLong { offset: 1 },
        ),
    ];
    for (name, input, expected) in bad {
        assert_eq!(decode_raw(input).unwrap_err(), expected, "{name}");
    }
}

#[test]
fn protobuf_never_panics_on_prefixes_or_deep_nesting() {
    let mut payload = Vec::new();
    encode_bytes_field(1, b"User.Get", &mut payload);
    let mut message = payload.clone();
    for _ in 0..100 {
        let mut wrapped = Vec::new();
        encode_bytes_field(2, &message, &mut wrapped);
        message = wrapped;
    }
    // Deep nesting is decoded up to the limit and shown as bytes below it.
    assert!(decode_raw(&message).is_ok());
    for end in 0..message.len() {
        let _ = decode_raw(&message[..end]);
    }
}

#[test]
fn grpc_web_body_with_trailers() {
    let mut body = Vec::new();
    let message = method_payload("hello", 1);
    body.push(0);
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(&message);
    let trailer = b"grpc-status: 5\r\ngrpc-message: not%20found\r\n";
    body.push(0x80);
    body.extend_from_slice(&(trailer.len() as u32).to_be_bytes());
    body.extend_from_slice(trailer);
    let decoded = grpc_web::decode_body(&body);
    assert_eq!(decoded.messages.len(), 2);
    assert!(decoded.messages[1].is_trailers());
    let trailers = decoded.trailers.unwrap();
    assert_eq!(trailers.status, Some(5));
    assert_eq!(trailers.message.as_deref(), Some("not found"));
    assert_eq!(decoded.error, None);
    // grpc-web-text: the same bytes as base64, in two padded chunks.
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let text = format!("{}{}", engine.encode(&body[..7]), engine.encode(&body[7..]));
    assert_eq!(grpc_web::decode_text_body(text.as_bytes()).unwrap(), body);
    // Pushed one byte at a time, the decoder gives the same frames.
    let mut decoder = GrpcWebDecoder::new();
    let mut flags = Vec::new();
    for byte in &body {
        decoder.push(std::slice::from_ref(byte));
        while let Some(frame) = decoder.next_frame().unwrap() {
            flags.push((frame.flags, frame.data.to_vec()));
        }
    }
    assert_eq!(flags, vec![(0, message.clone()), (0x80, trailer.to_vec())]);
    assert_eq!(decoder.finish(), None);
    // Every prefix is incomplete for the decoder, and a truncated body is reported.
    for end in 0..5 + message.len() {
        let mut decoder = GrpcWebDecoder::new();
        decoder.push(&body[..end]);
        assert_eq!(decoder.next_frame().unwrap(), None);
    }
    let truncated = grpc_web::decode_body(&body[..body.len() - 1]);
    assert!(matches!(
        truncated.error.unwrap().kind,
        BinaryErrorKind::Truncated { missing_bytes: 1 }
    ));
}

#[test]
fn grpc_status_in_headers_for_trailers_only_responses() {
    let headers = vec![
        (
            "content-type".to_owned(),
            "application/grpc-web+proto".to_owned(),
        ),
        ("Grpc-Status".to_owned(), "16".to_owned()),
        ("grpc-message".to_owned(), "token%20expired".to_owned()),
    ];
    let trailers = grpc_web::trailers_from_headers(&headers).unwrap();
    assert_eq!(trailers.status, Some(16));
    assert_eq!(trailers.message.as_deref(), Some("token expired"));
    assert_eq!(grpc_web::trailers_from_headers(&headers[..1]), None);
}

#[test]
fn layouts_in_the_docs_are_valid_and_the_preset_matches() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/binary-layouts.md"
    ))
    .unwrap();
    let blocks: Vec<&str> = doc
        .split("```json\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 2);
    let cafe: BinaryLayout = serde_json::from_str(blocks[0]).unwrap();
    assert_eq!(cafe, BinaryLayout::cafe());
    let acme: BinaryLayout = serde_json::from_str(blocks[1]).unwrap();
    acme.validate().unwrap();
    assert_eq!(acme.length_adjust_bytes, -8);
    assert_eq!(acme.payload_codec, PayloadCodec::Json);
}
