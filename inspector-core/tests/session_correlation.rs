//! The session pipeline end to end: capture events in, frames and calls out. Covers every
//! outcome, out-of-order arrival, batches, Go's JSON-RPC 1.0, 0xCAFE over WebSocket with
//! coalesced and split frames, gRPC-web, SSE, failures, caps and eviction, decode-as.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use inspector_core::decode::ProtocolChoice;
use inspector_core::decode::binary::{BinaryLayout, ByteOrder};
use inspector_core::decode::protobuf::{encode_bytes_field, encode_varint_field};
use inspector_core::event::{
    CaptureEvent, Direction, EventBody, HttpFailureKind, Payload, SCHEMA_VERSION,
};
use inspector_core::model::{Call, CallKind, Outcome, Protocol, Transport};
use inspector_core::session::{DecodedPayload, Session, SessionConfig};

fn event(connection_id: &str, time_micros: u64, body: EventBody) -> CaptureEvent {
    CaptureEvent {
        v: SCHEMA_VERSION,
        session_id: "page-1".to_owned(),
        connection_id: connection_id.to_owned(),
        time_micros,
        body,
    }
}

fn http_request(connection_id: &str, time: u64, url: &str, body: &str) -> CaptureEvent {
    event(
        connection_id,
        time,
        EventBody::HttpRequest {
            api: "fetch".to_owned(),
            method: "POST".to_owned(),
            url: url.to_owned(),
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: Some(Payload::text(body)),
            body_kind: Some("text".to_owned()),
            mode: Some("cors".to_owned()),
            credentials: None,
            redirect: None,
            upload_listeners: false,
        },
    )
}

fn http_response(connection_id: &str, time: u64, status: u16, body: &str) -> CaptureEvent {
    event(
        connection_id,
        time,
        EventBody::HttpResponse {
            status,
            status_text: if status == 200 {
                "OK"
            } else {
                "Internal Server Error"
            }
            .to_owned(),
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: Some(Payload::text(body)),
            response_type: Some("basic".to_owned()),
            url: None,
            redirected: false,
        },
    )
}

fn ws_text(connection_id: &str, time: u64, direction: Direction, text: &str) -> CaptureEvent {
    event(
        connection_id,
        time,
        EventBody::WsMessage {
            direction,
            payload: Payload::text(text),
        },
    )
}

fn ws_binary(connection_id: &str, time: u64, direction: Direction, bytes: &[u8]) -> CaptureEvent {
    event(
        connection_id,
        time,
        EventBody::WsMessage {
            direction,
            payload: Payload::binary(bytes),
        },
    )
}

fn cafe(message_type: u8, request_id: u64, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0xCA, 0xFE, 1, message_type];
    frame.extend_from_slice(&request_id.to_be_bytes());
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

fn method_payload(method: &str) -> Vec<u8> {
    let mut payload = Vec::new();
    encode_bytes_field(1, method.as_bytes(), &mut payload);
    encode_varint_field(2, 7, &mut payload);
    payload
}

fn run(events: &[CaptureEvent]) -> Session {
    let mut session = Session::new(SessionConfig::default());
    session.ingest_all(events);
    session
}

/// Method, id, kind, outcome, error code, latency.
type Brief = (
    String,
    Option<String>,
    CallKind,
    Outcome,
    Option<i64>,
    Option<u64>,
);

fn brief(call: &Call) -> Brief {
    (
        call.method.clone(),
        call.request_id.clone(),
        call.kind,
        call.outcome,
        call.error_code,
        call.latency_micros,
    )
}

fn briefs(session: &Session) -> Vec<Brief> {
    session.calls().map(brief).collect()
}

fn b(
    method: &str,
    id: Option<&str>,
    kind: CallKind,
    outcome: Outcome,
    code: Option<i64>,
    latency: Option<u64>,
) -> Brief {
    (
        method.to_owned(),
        id.map(str::to_owned),
        kind,
        outcome,
        code,
        latency,
    )
}

use CallKind::{Call as C, Notification as N};

#[test]
fn http_jsonrpc_batch_with_every_kind_of_element() {
    let session = run(&[
        http_request(
            "x1",
            1_000,
            "https://api.test/rpc",
            r#"[{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":"1"},
                {"jsonrpc":"2.0","method":"notify_hello","params":[7]},
                {"foo":"boo"},
                {"jsonrpc":"2.0","method":"get_data","id":9},
                {"jsonrpc":"2.0","method":"lost","id":10}]"#,
        ),
        http_response(
            "x1",
            4_000,
            200,
            r#"[{"jsonrpc":"2.0","result":3,"id":"1"},
                {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null},
                {"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":9},
                {"jsonrpc":"2.0","result":1,"id":77}]"#,
        ),
    ]);
    assert_eq!(
        briefs(&session),
        vec![
            b("sum", Some("\"1\""), C, Outcome::Ok, None, Some(3_000)),
            b("notify_hello", None, N, Outcome::Ok, None, None),
            b("", None, C, Outcome::Invalid, Some(-32600), Some(3_000)),
            b(
                "get_data",
                Some("9"),
                C,
                Outcome::Error,
                Some(-32601),
                Some(3_000)
            ),
            b("lost", Some("10"), C, Outcome::Error, None, Some(3_000)),
            b("", Some("77"), C, Outcome::Orphan, None, None),
        ]
    );
    let frames: Vec<_> = session.frames().collect();
    assert_eq!(frames.len(), 2);
    assert!(
        frames[0].summary.starts_with("batch of 5: sum #\"1\""),
        "{}",
        frames[0].summary
    );
    let parts = session
        .call_parts(session.call_at(3).unwrap().call_id)
        .unwrap();
    assert_eq!(parts.request.unwrap().part, 3);
    assert_eq!(parts.response.unwrap().part, 2);
}

#[test]
fn http_error_status_and_failures() {
    let session = run(&[
        http_request(
            "a",
            10,
            "https://api.test/rpc",
            r#"{"jsonrpc":"2.0","method":"A","id":1}"#,
        ),
        http_response("a", 30, 500, "upstream exploded"),
        http_request(
            "b",
            40,
            "https://api.test/rpc",
            r#"{"jsonrpc":"2.0","method":"B","id":1}"#,
        ),
        event(
            "b",
            90,
            EventBody::HttpFailure {
                failure: HttpFailureKind::Network,
                error_name: "TypeError".to_owned(),
                error_message: "Failed to fetch".to_owned(),
            },
        ),
        http_request(
            "c",
            100,
            "https://api.test/rpc",
            r#"{"jsonrpc":"2.0","method":"C","id":1}"#,
        ),
        event(
            "c",
            5_100,
            EventBody::HttpFailure {
                failure: HttpFailureKind::Timeout,
                error_name: "TimeoutError".to_owned(),
                error_message: String::new(),
            },
        ),
        http_request("d", 200, "https://api.test/users?page=2", "not json"),
        http_response("d", 260, 200, "[]"),
    ]);
    let calls: Vec<_> = session.calls().collect();
    assert_eq!(
        briefs(&session),
        vec![
            b("A", Some("1"), C, Outcome::Error, Some(500), Some(20)),
            b("B", Some("1"), C, Outcome::Error, None, Some(50)),
            b("C", Some("1"), C, Outcome::Timeout, None, Some(5_000)),
            b("POST /users", None, C, Outcome::Ok, None, Some(60)),
        ]
    );
    assert_eq!(
        calls[1].error_message.as_deref(),
        Some("network error: TypeError: Failed to fetch")
    );
    assert_eq!(calls[3].protocol, Protocol::Http);
    assert_eq!(calls[3].transport, Transport::Http);
    // The 500 body is an error page, not JSON-RPC: a plain HTTP frame with its bytes, not
    // a parse error.
    assert_eq!(session.malformed().count(), 0);
    let page = session.frame_at(1).unwrap();
    assert_eq!(page.summary, "500 Internal Server Error");
    assert_eq!(page.protocol, Protocol::Http);
    assert_eq!(
        session.frame_payload(page.frame_id).unwrap(),
        b"upstream exploded"
    );
    // A 200 whose body is not JSON is a parse error, flagged with the spec's code.
    let broken = run(&[
        http_request(
            "z",
            1,
            "https://api.test/rpc",
            r#"{"jsonrpc":"2.0","method":"Z","id":1}"#,
        ),
        http_response("z", 2, 200, "{not json"),
    ]);
    let malformed: Vec<_> = broken.malformed().collect();
    assert_eq!(malformed.len(), 1);
    assert!(malformed[0].malformed.as_ref().unwrap().contains("-32700"));
    assert_eq!(
        broken.frame_payload(malformed[0].frame_id).unwrap(),
        b"{not json"
    );
    assert_eq!(broken.call_at(0).unwrap().outcome, Outcome::Error);
}

#[test]
fn websocket_jsonrpc_out_of_order_duplicates_and_server_requests() {
    let sent = Direction::Sent;
    let received = Direction::Received;
    let session = run(&[
        event(
            "w",
            1,
            EventBody::WsConnect {
                url: "wss://api.test/ws".to_owned(),
                protocols: vec![],
            },
        ),
        ws_text("w", 10, sent, r#"{"jsonrpc":"2.0","method":"A","id":1}"#),
        ws_text("w", 20, sent, r#"{"jsonrpc":"2.0","method":"B","id":2}"#),
        ws_text("w", 25, sent, r#"{"jsonrpc":"2.0","method":"B2","id":2}"#),
        ws_text(
            "w",
            30,
            received,
            r#"{"jsonrpc":"2.0","result":"b","id":2}"#,
        ),
        ws_text(
            "w",
            40,
            received,
            r#"{"jsonrpc":"2.0","result":"a","id":1}"#,
        ),
        // The server asks the page something, with an id the page also uses.
        ws_text(
            "w",
            50,
            received,
            r#"{"jsonrpc":"2.0","method":"Client.Ping","id":1}"#,
        ),
        ws_text("w", 55, sent, r#"{"jsonrpc":"2.0","method":"C","id":1}"#),
        ws_text("w", 60, sent, r#"{"jsonrpc":"2.0","result":"pong","id":1}"#),
        ws_text(
            "w",
            70,
            received,
            r#"{"jsonrpc":"2.0","method":"Push.Tick","params":{}}"#,
        ),
        ws_text(
            "w",
            80,
            received,
            r#"{"jsonrpc":"2.0","result":"c","id":1}"#,
        ),
        ws_text(
            "w",
            90,
            received,
            r#"{"jsonrpc":"2.0","result":"again","id":1}"#,
        ),
        ws_text(
            "w",
            95,
            sent,
            r#"{"jsonrpc":"2.0","method":"Never","id":3}"#,
        ),
    ]);
    assert_eq!(
        briefs(&session),
        vec![
            b("A", Some("1"), C, Outcome::Ok, None, Some(30)),
            b("B", Some("2"), C, Outcome::Ok, None, Some(10)),
            b("B2", Some("2"), C, Outcome::Duplicate, None, None),
            b("Client.Ping", Some("1"), C, Outcome::Ok, None, Some(10)),
            b("C", Some("1"), C, Outcome::Ok, None, Some(25)),
            b("Push.Tick", None, N, Outcome::Ok, None, None),
            b("", Some("1"), C, Outcome::Orphan, None, None),
            b("Never", Some("3"), C, Outcome::Pending, None, None),
        ]
    );
}

#[test]
fn timeouts_and_close_and_late_responses() {
    let mut session = Session::new(SessionConfig {
        call_timeout_micros: Some(1_000),
        ..SessionConfig::default()
    });
    session.ingest_all(&[
        ws_text(
            "w",
            0,
            Direction::Sent,
            r#"{"jsonrpc":"2.0","method":"Slow","id":1}"#,
        ),
        ws_text(
            "w",
            100,
            Direction::Sent,
            r#"{"jsonrpc":"2.0","method":"Fast","id":2}"#,
        ),
        ws_text(
            "w",
            200,
            Direction::Received,
            r#"{"jsonrpc":"2.0","result":0,"id":2}"#,
        ),
        ws_text(
            "w",
            300,
            Direction::Sent,
            r#"{"jsonrpc":"2.0","method":"Cut","id":3}"#,
        ),
    ]);
    assert_eq!(session.mark_timeouts(999), 0);
    assert_eq!(session.mark_timeouts(1_000), 1);
    session.ingest(&ws_text(
        "w",
        1_500,
        Direction::Received,
        r#"{"jsonrpc":"2.0","result":1,"id":1}"#,
    ));
    session.ingest(&event(
        "w",
        1_600,
        EventBody::WsClose {
            code: 1006,
            reason: String::new(),
            was_clean: false,
        },
    ));
    assert_eq!(
        briefs(&session),
        vec![
            b("Slow", Some("1"), C, Outcome::Timeout, None, Some(1_500)),
            b("Fast", Some("2"), C, Outcome::Ok, None, Some(100)),
            b("Cut", Some("3"), C, Outcome::Error, None, Some(1_300)),
        ]
    );
    assert_eq!(
        session.call_at(2).unwrap().error_message.as_deref(),
        Some("WebSocket closed (code 1006) before a response")
    );
}

#[test]
fn go_jsonrpc1_over_websocket() {
    let session = run(&[
        ws_text(
            "g",
            0,
            Direction::Sent,
            r#"{"method":"Arith.Multiply","params":[{"A":7,"B":8}],"id":0}"#,
        ),
        ws_text(
            "g",
            5,
            Direction::Sent,
            r#"{"method":"Arith.Divide","params":[{"A":1,"B":0}],"id":1}"#,
        ),
        ws_text(
            "g",
            9,
            Direction::Received,
            r#"{"id":0,"result":56,"error":null}"#,
        ),
        ws_text(
            "g",
            12,
            Direction::Received,
            r#"{"id":1,"result":null,"error":"divide by zero"}"#,
        ),
    ]);
    let calls: Vec<_> = session.calls().collect();
    assert_eq!(
        briefs(&session),
        vec![
            b("Arith.Multiply", Some("0"), C, Outcome::Ok, None, Some(9)),
            b("Arith.Divide", Some("1"), C, Outcome::Error, None, Some(7)),
        ]
    );
    assert_eq!(calls[0].protocol, Protocol::JsonRpc1);
    assert_eq!(calls[1].error_message.as_deref(), Some("divide by zero"));
}

#[test]
fn cafe_frames_coalesced_and_split_across_messages() {
    let request_a = cafe(1, 1, &method_payload("User.Get"));
    let request_b = cafe(1, 2, &method_payload("User.List"));
    let response_a = cafe(2, 1, b"");
    let response_b = cafe(2, 2, b"\x08\x01");
    let push = cafe(3, 0, &method_payload("Feed.Update"));
    let coalesced = [request_a.clone(), request_b.clone()].concat();
    let received = [response_b.clone(), push.clone(), response_a.clone()].concat();
    let (first, second) = received.split_at(5);
    let (second, third) = second.split_at(20);
    let session = run(&[
        ws_binary("c", 100, Direction::Sent, &coalesced),
        ws_binary("c", 150, Direction::Received, first),
        ws_binary("c", 160, Direction::Received, second),
        ws_binary("c", 170, Direction::Received, third),
    ]);
    assert_eq!(
        briefs(&session),
        vec![
            b("User.Get", Some("1"), C, Outcome::Ok, None, Some(70)),
            b("User.List", Some("2"), C, Outcome::Ok, None, Some(60)),
            b("Feed.Update", Some("0"), N, Outcome::Ok, None, None),
        ]
    );
    let frames: Vec<_> = session.frames().collect();
    assert_eq!(frames.len(), 5);
    assert!(
        frames
            .iter()
            .all(|frame| frame.protocol == Protocol::Cafe && frame.malformed.is_none())
    );
    // Every frame's stored bytes are exactly that frame, whether it was split or not.
    assert_eq!(
        session.frame_payload(frames[0].frame_id).unwrap(),
        &request_a[..]
    );
    assert_eq!(
        session.frame_payload(frames[2].frame_id).unwrap(),
        &response_b[..]
    );
    assert_eq!(
        session.frame_payload(frames[4].frame_id).unwrap(),
        &response_a[..]
    );
    let detail = session.frame_detail(frames[0].frame_id).unwrap();
    let DecodedPayload::Binary {
        fields,
        protobuf,
        payload_offset,
        ..
    } = detail.decoded
    else {
        panic!("expected a binary detail");
    };
    assert_eq!(payload_offset, 16);
    assert_eq!(
        fields
            .iter()
            .find(|field| field.name == "request_id")
            .unwrap()
            .value,
        1
    );
    assert_eq!(protobuf.unwrap().unwrap().len(), 2);
}

#[test]
fn one_byte_per_message_equals_one_message() {
    let mut stream = Vec::new();
    for id in 0..10u64 {
        stream.extend(cafe(1, id, &method_payload("Svc.Call")));
        if id == 4 {
            stream.extend_from_slice(b"\x00\x00noise");
        }
    }
    let whole = run(&[ws_binary("c", 1, Direction::Sent, &stream)]);
    let bytewise_events: Vec<_> = stream
        .iter()
        .map(|byte| ws_binary("c", 1, Direction::Sent, std::slice::from_ref(byte)))
        .collect();
    let summarize = |session: &Session| {
        session
            .frames()
            .map(|frame| {
                (
                    frame.summary.clone(),
                    frame.malformed.clone(),
                    session.frame_payload(frame.frame_id).unwrap().to_vec(),
                )
            })
            .collect::<Vec<_>>()
    };
    // Detection needs the two magic bytes in the first message, so a one-byte first
    // message is shown raw until the layout is chosen: choose it, as a user would.
    let mut whole_forced = Session::default();
    whole_forced.set_layout("c", BinaryLayout::cafe()).unwrap();
    whole_forced.ingest(&ws_binary("c", 1, Direction::Sent, &stream));
    let mut bytewise_forced = Session::default();
    bytewise_forced
        .set_layout("c", BinaryLayout::cafe())
        .unwrap();
    bytewise_forced.ingest_all(&bytewise_events);
    assert_eq!(summarize(&whole_forced), summarize(&bytewise_forced));
    assert_eq!(summarize(&whole_forced), summarize(&whole));
    assert_eq!(whole_forced.malformed().count(), 1);
    assert_eq!(briefs(&whole_forced), briefs(&bytewise_forced));
    assert_eq!(briefs(&whole_forced).len(), 10);
}

#[test]
fn decode_as_switches_byte_order_and_renumbers() {
    // Little-endian frames on a socket: auto-detection sees the swapped magic and decodes
    // them little-endian; forcing big-endian turns them into malformed rows, and back.
    let mut frame = vec![0xFE, 0xCA, 1, 1];
    frame.extend_from_slice(&5u64.to_le_bytes());
    let payload = method_payload("Le.Call");
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&payload);
    let mut session = run(&[ws_binary("le", 1, Direction::Sent, &frame)]);
    assert_eq!(
        briefs(&session),
        vec![b("Le.Call", Some("5"), C, Outcome::Pending, None, None)]
    );
    let generation = session.generation();
    session.set_byte_order("le", ByteOrder::BigEndian).unwrap();
    assert!(session.generation() > generation);
    assert_eq!(session.call_count(), 0);
    session.finish(10);
    assert_eq!(session.malformed().count(), 1);
    session
        .set_byte_order("le", ByteOrder::LittleEndian)
        .unwrap();
    assert_eq!(
        briefs(&session),
        vec![b("Le.Call", Some("5"), C, Outcome::Pending, None, None)]
    );
    assert_eq!(session.frame_at(0).unwrap().frame_id, 1);
    assert_eq!(
        session.config().protocol_overrides.get("le"),
        Some(&ProtocolChoice::Binary {
            layout: BinaryLayout::cafe().with_byte_order(ByteOrder::LittleEndian)
        })
    );
    session.set_protocol("le", ProtocolChoice::Raw).unwrap();
    assert_eq!(session.call_count(), 0);
    assert_eq!(session.frame_at(0).unwrap().protocol, Protocol::Raw);
}

#[test]
fn endpoint_override_applies_to_every_exchange() {
    let events = [
        http_request(
            "e1",
            1,
            "https://api.test/custom?x=1",
            r#"{"op":"a","id":1}"#,
        ),
        http_response("e1", 2, 200, r#"{"id":1,"result":2,"error":null}"#),
    ];
    let mut session = run(&events);
    assert_eq!(session.call_at(0).unwrap().protocol, Protocol::Http);
    session
        .set_endpoint_protocol("https://api.test/custom", ProtocolChoice::JsonRpc)
        .unwrap();
    let call = session.call_at(0).unwrap();
    assert_eq!(call.protocol, Protocol::JsonRpc1);
    assert_eq!(call.outcome, Outcome::Invalid);
    assert_eq!(call.error_code, Some(-32600));
}

#[test]
fn grpc_web_exchange_and_sse_events() {
    let mut body = vec![0];
    let message = method_payload("x");
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(&message);
    let trailer = b"grpc-status: 7\r\ngrpc-message: denied\r\n";
    let mut response = vec![0x80];
    response.extend_from_slice(&(trailer.len() as u32).to_be_bytes());
    response.extend_from_slice(trailer);
    let session = run(&[
        event(
            "g",
            0,
            EventBody::HttpRequest {
                api: "fetch".to_owned(),
                method: "POST".to_owned(),
                url: "https://api.test/pkg.Greeter/SayHello".to_owned(),
                headers: vec![(
                    "content-type".to_owned(),
                    "application/grpc-web+proto".to_owned(),
                )],
                body: Some(Payload::binary(&body)),
                body_kind: None,
                mode: None,
                credentials: None,
                redirect: None,
                upload_listeners: false,
            },
        ),
        event(
            "g",
            40,
            EventBody::HttpResponse {
                status: 200,
                status_text: "OK".to_owned(),
                headers: vec![(
                    "content-type".to_owned(),
                    "application/grpc-web+proto".to_owned(),
                )],
                body: Some(Payload::binary(&response)),
                response_type: None,
                url: None,
                redirected: false,
            },
        ),
        event(
            "s",
            50,
            EventBody::SseConnect {
                url: "https://api.test/events".to_owned(),
                with_credentials: false,
            },
        ),
        event(
            "s",
            60,
            EventBody::SseMessage {
                event_type: "tick".to_owned(),
                data: "42".to_owned(),
                last_event_id: String::new(),
            },
        ),
        event(
            "s",
            70,
            EventBody::SseMessage {
                event_type: "message".to_owned(),
                data: r#"{"jsonrpc":"2.0","method":"Feed.Push","params":[1]}"#.to_owned(),
                last_event_id: "9".to_owned(),
            },
        ),
    ]);
    let calls: Vec<_> = session.calls().collect();
    assert_eq!(
        briefs(&session),
        vec![
            b(
                "pkg.Greeter/SayHello",
                None,
                C,
                Outcome::Error,
                Some(7),
                Some(40)
            ),
            b("tick", None, N, Outcome::Ok, None, None),
            b("Feed.Push", None, N, Outcome::Ok, None, None),
        ]
    );
    assert_eq!(calls[0].protocol, Protocol::GrpcWeb);
    assert_eq!(calls[0].error_message.as_deref(), Some("denied"));
    assert_eq!(calls[1].transport, Transport::Eventsource);
    assert_eq!(calls[2].protocol, Protocol::JsonRpc2);
}

#[test]
fn caps_evict_oldest_and_count() {
    let mut session = Session::new(SessionConfig {
        max_frames: 100,
        ..SessionConfig::default()
    });
    for id in 0..1_000u64 {
        session.ingest(&ws_text(
            "w",
            id * 10,
            Direction::Sent,
            &format!(r#"{{"jsonrpc":"2.0","method":"M","id":{id}}}"#),
        ));
        session.ingest(&ws_text(
            "w",
            id * 10 + 5,
            Direction::Received,
            &format!(r#"{{"jsonrpc":"2.0","result":{id},"id":{id}}}"#),
        ));
    }
    assert_eq!(session.frame_count(), 100);
    let evicted = session.evicted();
    assert_eq!(evicted.frames, 1_900);
    assert_eq!(evicted.calls, 950);
    assert!(evicted.bytes > 0);
    assert_eq!(session.call_count(), 50);
    assert!(session.calls().all(|call| call.outcome == Outcome::Ok));
    // Byte cap: frames of 1 KiB each, cap of 64 KiB.
    let cap = 64 * 1024;
    let mut session = Session::new(SessionConfig {
        max_bytes: cap,
        ..SessionConfig::default()
    });
    let filler = "x".repeat(1024);
    for id in 0..1_000u64 {
        session.ingest(&ws_text("w", id, Direction::Received, &filler));
        assert!(
            session.retained_bytes() <= cap,
            "after {id}: {}",
            session.retained_bytes()
        );
    }
    assert!(session.frame_count() > 10 && session.frame_count() < 64);
    assert_eq!(
        session.evicted().frames as usize + session.frame_count(),
        1_000
    );
}

#[test]
fn producer_drops_unknown_events_and_bad_base64_are_visible() {
    let mut session = Session::default();
    session.ingest(&event(
        "",
        1,
        EventBody::Dropped {
            count: 17,
            reason: "buffer full".to_owned(),
        },
    ));
    session.ingest(&event(
        "",
        2,
        EventBody::Dropped {
            count: 3,
            reason: String::new(),
        },
    ));
    session.ingest(&event(
        "",
        3,
        EventBody::Unknown {
            type_name: "from_the_future".to_owned(),
            members: serde_json::Map::new(),
        },
    ));
    let mut bad = ws_binary("w", 4, Direction::Received, b"");
    if let EventBody::WsMessage { payload, .. } = &mut bad.body {
        payload.data = "!!not base64!!".to_owned();
    }
    session.ingest(&bad);
    assert_eq!(session.dropped_by_producer(), 20);
    assert_eq!(session.unknown_events(), 1);
    let malformed: Vec<_> = session.malformed().collect();
    assert_eq!(malformed.len(), 1);
    assert_eq!(
        malformed[0].malformed.as_deref(),
        Some("payload is not valid base64")
    );
}

#[test]
fn output_order_is_by_start_time_then_call_id() {
    // Events from two connections whose clocks interleave out of order.
    let session = run(&[
        ws_text(
            "a",
            500,
            Direction::Sent,
            r#"{"jsonrpc":"2.0","method":"Late","id":1}"#,
        ),
        ws_text(
            "b",
            100,
            Direction::Sent,
            r#"{"jsonrpc":"2.0","method":"Early","id":1}"#,
        ),
        ws_text(
            "c",
            500,
            Direction::Sent,
            r#"{"jsonrpc":"2.0","method":"Tie","id":1}"#,
        ),
    ]);
    let order: Vec<(String, u64)> = session
        .calls()
        .map(|call| (call.method.clone(), call.call_id))
        .collect();
    assert_eq!(
        order,
        vec![
            ("Early".to_owned(), 2),
            ("Late".to_owned(), 1),
            ("Tie".to_owned(), 3)
        ]
    );
    // Same input, same output.
    let again = run(&[
        ws_text(
            "a",
            500,
            Direction::Sent,
            r#"{"jsonrpc":"2.0","method":"Late","id":1}"#,
        ),
        ws_text(
            "b",
            100,
            Direction::Sent,
            r#"{"jsonrpc":"2.0","method":"Early","id":1}"#,
        ),
        ws_text(
            "c",
            500,
            Direction::Sent,
            r#"{"jsonrpc":"2.0","method":"Tie","id":1}"#,
        ),
    ]);
    assert_eq!(
        session.calls().cloned().collect::<Vec<_>>(),
        again.calls().cloned().collect::<Vec<_>>()
    );
}

#[test]
fn streamed_ndjson_responses_split_across_chunks() {
    let chunk = |time: u64, text: &str, end_of_body: bool| {
        event(
            "s1",
            time,
            EventBody::HttpResponseChunk {
                payload: Payload::text(text),
                end_of_body,
            },
        )
    };
    let session = run(&[
        http_request(
            "s1",
            0,
            "https://api.test/stream",
            r#"[{"jsonrpc":"2.0","method":"A","id":1},{"jsonrpc":"2.0","method":"B","id":2},{"jsonrpc":"2.0","method":"C","id":3}]"#,
        ),
        event(
            "s1",
            10,
            EventBody::HttpResponse {
                status: 200,
                status_text: "OK".to_owned(),
                headers: vec![("content-type".to_owned(), "application/x-ndjson".to_owned())],
                body: None,
                response_type: None,
                url: None,
                redirected: false,
            },
        ),
        chunk(
            20,
            "{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":1}\n{\"jsonrpc\":\"2.0\",",
            false,
        ),
        chunk(30, "\"result\":2,\"id\":2}\n", false),
        chunk(40, "", true),
    ]);
    assert_eq!(
        briefs(&session),
        vec![
            b("A", Some("1"), C, Outcome::Ok, None, Some(20)),
            b("B", Some("2"), C, Outcome::Ok, None, Some(30)),
            b("C", Some("3"), C, Outcome::Error, None, Some(40)),
        ]
    );
    let frames: Vec<_> = session.frames().collect();
    assert_eq!(frames.len(), 4, "{frames:?}");
    assert_eq!(
        session.frame_payload(frames[3].frame_id).unwrap(),
        br#"{"jsonrpc":"2.0","result":2,"id":2}"#
    );
}

#[test]
fn bodies_truncated_by_the_capture_still_make_calls() {
    let mut request = http_request("t", 0, "https://api.test/rpc", "");
    if let EventBody::HttpRequest { body, .. } = &mut request.body {
        *body = Some(Payload {
            data: r#"{"jsonrpc":"2.0","method":"Upload","id":41,"params":["aaaa"#.to_owned(),
            size_bytes: 2_000_000,
            truncated: true,
            ..Payload::default()
        });
    }
    let mut response = http_response("t", 900, 200, "");
    if let EventBody::HttpResponse { body, .. } = &mut response.body {
        *body = Some(Payload {
            data: r#"{"jsonrpc":"2.0","id":41,"result":{"stored":[1,2,"#.to_owned(),
            size_bytes: 70_000,
            truncated: true,
            ..Payload::default()
        });
    }
    let session = run(&[request, response]);
    assert_eq!(
        briefs(&session),
        vec![b("Upload", Some("41"), C, Outcome::Ok, None, Some(900))]
    );
    let frames: Vec<_> = session.frames().collect();
    assert_eq!(
        frames[0].summary,
        "Upload #41 (truncated by the capture: 58 of 2000000 bytes)"
    );
    assert_eq!(frames[0].size_bytes, 2_000_000);
    assert!(frames.iter().all(|frame| frame.malformed.is_none()));
}
