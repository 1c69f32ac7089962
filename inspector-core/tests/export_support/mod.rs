//! Captures shared by the export tests: one with secrets planted everywhere a capture can
//! hold them.
#![allow(dead_code)]

use inspector_core::event::{
    CaptureEvent, Direction, EventBody, HttpFailureKind, Payload, SCHEMA_VERSION,
};

pub const T0: u64 = 1_795_676_709_000_000;

pub fn event(connection_id: &str, time_micros: u64, body: EventBody) -> CaptureEvent {
    CaptureEvent {
        v: SCHEMA_VERSION,
        session_id: "page-1".into(),
        connection_id: connection_id.into(),
        time_micros,
        body,
    }
}

pub fn http_request(
    connection_id: &str,
    time_micros: u64,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Payload>,
) -> CaptureEvent {
    event(
        connection_id,
        time_micros,
        EventBody::HttpRequest {
            api: "fetch".into(),
            method: "POST".into(),
            url: url.into(),
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            body,
            body_kind: Some("text".into()),
            mode: Some("cors".into()),
            credentials: Some("include".into()),
            redirect: Some("follow".into()),
            upload_listeners: false,
        },
    )
}

pub fn http_response(
    connection_id: &str,
    time_micros: u64,
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
) -> CaptureEvent {
    event(
        connection_id,
        time_micros,
        EventBody::HttpResponse {
            status,
            status_text: "OK".into(),
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            body: Some(Payload::text(body)),
            response_type: Some("basic".into()),
            url: None,
            redirected: false,
        },
    )
}

pub fn ws_message(time_micros: u64, direction: Direction, payload: Payload) -> CaptureEvent {
    event(
        "ws-1",
        time_micros,
        EventBody::WsMessage { direction, payload },
    )
}

/// Every secret planted in [`capture_with_secrets`], each in a different place.
pub const SECRETS: &[&str] = &[
    "sk-auth-0001",
    "ck-0002",
    "sc-0003",
    "pa-0004",
    "ak-0005",
    "pw-0006",
    "cs-0007",
    "at-0008",
    "rt-0009",
    "qk-0010",
    "wt-0011",
    "ws-0012",
    "ws-0013",
    "wb-0014",
    "sse-0015",
    "fp-0016",
    "ed-0017",
    "ui-0018",
    "pf-0019",
    "pre-0020",
    "pu-0021",
];

/// A capture with secrets in headers, cookies, JSON bodies, JSON-RPC params, results and
/// error data, WebSocket text and binary messages, SSE data, a form body and URLs.
pub fn capture_with_secrets() -> Vec<CaptureEvent> {
    let json = "application/json";
    vec![
        event(
            "page",
            T0,
            EventBody::Page {
                url: "http://127.0.0.1:9/app#access_token=pf-0019".into(),
                title: "app".into(),
                origin: "http://127.0.0.1:9".into(),
                hook_version: "1".into(),
            },
        ),
        http_request(
            "h-1",
            T0 + 1_000,
            "http://127.0.0.1:9/rpc?api_key=qk-0010&page=1",
            &[
                ("Content-Type", json),
                ("Authorization", "Bearer sk-auth-0001"),
                ("Cookie", "sid=ck-0002; theme=dark"),
                ("Proxy-Authorization", "Basic pa-0004"),
                ("X-Api-Key", "ak-0005"),
            ],
            Some(Payload::text(
                r#"{"jsonrpc":"2.0","method":"User.Login","params":{"user":"ada","password":"pw-0006","client_secret":"cs-0007"},"id":1}"#,
            )),
        ),
        http_response(
            "h-1",
            T0 + 13_345,
            200,
            &[
                ("Content-Type", json),
                ("Set-Cookie", "refresh=sc-0003; Path=/; HttpOnly"),
            ],
            r#"{"jsonrpc":"2.0","result":{"access_token":"at-0008","refresh_token":"rt-0009","expires_in":3600},"id":1}"#,
        ),
        http_request(
            "h-2",
            T0 + 20_000,
            "http://ada:ui-0018@127.0.0.1:9/rpc",
            &[("Content-Type", json)],
            Some(Payload::text(
                r#"{"jsonrpc":"2.0","method":"Arith.Divide","params":{"A":1,"B":0},"id":2}"#,
            )),
        ),
        http_response(
            "h-2",
            T0 + 25_500,
            200,
            &[("Content-Type", json)],
            r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"divide by zero","data":{"token":"ed-0017"}},"id":2}"#,
        ),
        http_request(
            "h-3",
            T0 + 30_000,
            "http://127.0.0.1:9/login",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(Payload::text("user=ada&password=fp-0016")),
        ),
        event(
            "h-3",
            T0 + 31_000,
            EventBody::HttpFailure {
                failure: HttpFailureKind::Network,
                error_name: "TypeError".into(),
                error_message: "Failed to fetch".into(),
            },
        ),
        event(
            "ws-1",
            T0 + 40_000,
            EventBody::WsConnect {
                url: "ws://127.0.0.1:9/ws?token=wt-0011".into(),
                protocols: vec!["jsonrpc".into()],
            },
        ),
        event(
            "ws-1",
            T0 + 41_000,
            EventBody::WsOpen {
                protocol: "jsonrpc".into(),
                extensions: String::new(),
            },
        ),
        ws_message(
            T0 + 42_000,
            Direction::Sent,
            Payload::text(
                r#"{"jsonrpc":"2.0","method":"Session.Resume","params":{"sessionToken":"ws-0012"},"id":7}"#,
            ),
        ),
        ws_message(
            T0 + 43_001,
            Direction::Received,
            Payload::text(r#"{"jsonrpc":"2.0","result":{"secret":"ws-0013"},"id":7}"#),
        ),
        ws_message(
            T0 + 44_000,
            Direction::Sent,
            Payload::binary(br#"{"apiKey":"wb-0014"}"#),
        ),
        ws_message(
            T0 + 45_000,
            Direction::Received,
            Payload::binary(&[0xca, 0xfe, 1, 2, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 0]),
        ),
        event(
            "ws-1",
            T0 + 50_000,
            EventBody::WsClose {
                code: 1000,
                reason: "bye".into(),
                was_clean: true,
            },
        ),
        event(
            "preflight-1",
            T0 + 55_000,
            EventBody::CorsPreflight {
                url: "http://127.0.0.1:9/rpc?token=pu-0021".into(),
                initiator: Some("http://127.0.0.1:8".into()),
                request_headers: vec![
                    ("Origin".into(), "http://127.0.0.1:8".into()),
                    ("Access-Control-Request-Method".into(), "POST".into()),
                ],
                status: Some(204),
                response_headers: vec![("Set-Cookie".into(), "pre=pre-0020; Path=/".into())],
                error: None,
                ended_micros: Some(T0 + 56_500),
            },
        ),
        event(
            "sse-1",
            T0 + 60_000,
            EventBody::SseConnect {
                url: "http://127.0.0.1:9/events".into(),
                with_credentials: false,
            },
        ),
        event("sse-1", T0 + 61_000, EventBody::SseOpen {}),
        event(
            "sse-1",
            T0 + 62_000,
            EventBody::SseMessage {
                event_type: "message".into(),
                data: r#"{"token":"sse-0015"}"#.into(),
                last_event_id: "1".into(),
            },
        ),
    ]
}
