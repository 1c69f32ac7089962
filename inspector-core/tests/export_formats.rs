//! Export formats from the core's side: HAR structure (Chrome's `_webSocketMessages`),
//! session files (lossless, versioned) and redaction across every format.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use inspector_core::event::{
    CaptureEvent, Direction, EventBody, HttpFailureKind, Payload, SCHEMA_VERSION,
};
use inspector_core::export::har::export_har;
use inspector_core::export::redact::RedactionConfig;
use inspector_core::export::session::{
    SESSION_FORMAT_VERSION, SessionImportError, export_session, import_session,
};
use serde_json::Value;

const T0: u64 = 1_795_676_709_000_000;

fn event(connection_id: &str, time_micros: u64, body: EventBody) -> CaptureEvent {
    CaptureEvent {
        v: SCHEMA_VERSION,
        session_id: "page-1".into(),
        connection_id: connection_id.into(),
        time_micros,
        body,
    }
}

fn http_request(
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

fn http_response(
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

fn ws_message(time_micros: u64, direction: Direction, payload: Payload) -> CaptureEvent {
    event(
        "ws-1",
        time_micros,
        EventBody::WsMessage { direction, payload },
    )
}

/// Every secret planted in [`capture_with_secrets`], each in a different place.
const SECRETS: &[&str] = &[
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

/// Every string in a JSON document, plus the UTF-8 text of strings that are base64.
fn strings_and_decoded(text: &str) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(text) => {
                out.push(text.clone());
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text)
                    && let Ok(decoded) = String::from_utf8(bytes)
                {
                    out.push(decoded);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
            Value::Object(members) => members.iter().for_each(|(key, item)| {
                out.push(key.clone());
                walk(item, out);
            }),
            _ => {}
        }
    }
    let mut out = vec![text.to_owned()];
    walk(&serde_json::from_str(text).unwrap(), &mut out);
    out
}

fn secrets_found(text: &str) -> Vec<&'static str> {
    let haystacks = strings_and_decoded(text);
    SECRETS
        .iter()
        .copied()
        .filter(|secret| haystacks.iter().any(|hay| hay.contains(secret)))
        .collect()
}

#[test]
fn har_export_has_no_secret_by_default_and_all_of_them_without_redaction() {
    let events = capture_with_secrets();
    let redacted = export_har(&events, &RedactionConfig::default(), "test").unwrap();
    assert_eq!(secrets_found(&redacted.text), Vec::<&str>::new());
    let open = export_har(&events, &RedactionConfig::disabled(), "test").unwrap();
    assert_eq!(secrets_found(&open.text), SECRETS.to_vec());
}

#[test]
fn session_export_has_no_secret_by_default_and_all_of_them_without_redaction() {
    let events = capture_with_secrets();
    let settings = serde_json::Map::new();
    let redacted = export_session(&events, &settings, &RedactionConfig::default(), "t").unwrap();
    assert_eq!(secrets_found(&redacted), Vec::<&str>::new());
    let open = export_session(&events, &settings, &RedactionConfig::disabled(), "t").unwrap();
    assert_eq!(secrets_found(&open), SECRETS.to_vec());
}

#[test]
fn har_export_follows_har_1_2_and_chrome_websocket_messages() {
    let events = capture_with_secrets();
    let export = export_har(&events, &RedactionConfig::default(), "9.9").unwrap();
    assert!(
        export.skipped_events.is_empty(),
        "{:?}",
        export.skipped_events
    );
    let har: Value = serde_json::from_str(&export.text).unwrap();
    let log = &har["log"];
    assert_eq!(log["version"], "1.2");
    assert_eq!(log["creator"]["name"], "Framescope");
    assert_eq!(log["creator"]["version"], "9.9");
    assert_eq!(log["pages"][0]["id"], "page-1");
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(export.entry_count, 5);
    for entry in entries {
        // Members HAR 1.2 requires on every entry.
        for member in [
            "startedDateTime",
            "time",
            "request",
            "response",
            "cache",
            "timings",
        ] {
            assert!(entry.get(member).is_some(), "entry lacks {member}: {entry}");
        }
        for member in [
            "method",
            "url",
            "httpVersion",
            "cookies",
            "headers",
            "queryString",
        ] {
            assert!(
                entry["request"].get(member).is_some(),
                "request lacks {member}"
            );
        }
        for member in [
            "status",
            "statusText",
            "content",
            "redirectURL",
            "headers",
            "cookies",
        ] {
            assert!(
                entry["response"].get(member).is_some(),
                "response lacks {member}"
            );
        }
        assert_eq!(entry["pageref"], "page-1");
        let timings = &entry["timings"];
        let sum: f64 = ["send", "wait", "receive"]
            .iter()
            .map(|name| timings[name].as_f64().unwrap())
            .sum();
        assert!((sum - entry["time"].as_f64().unwrap()).abs() < 1e-9);
    }

    let login = &entries[0];
    assert_eq!(login["startedDateTime"], "2026-11-26T07:05:09.001000Z");
    assert_eq!(login["time"], 12.345);
    assert_eq!(login["_resourceType"], "fetch");
    assert_eq!(login["request"]["method"], "POST");
    assert_eq!(
        login["request"]["url"],
        "http://127.0.0.1:9/rpc?api_key=%5BREDACTED%5D&page=1"
    );
    assert_eq!(login["request"]["queryString"][1]["name"], "page");
    assert_eq!(login["request"]["postData"]["mimeType"], "application/json");
    assert_eq!(login["request"]["cookies"][0]["name"], "sid");
    assert_eq!(login["response"]["status"], 200);
    assert_eq!(login["response"]["cookies"][0]["name"], "refresh");
    assert_eq!(login["response"]["cookies"][0]["httpOnly"], true);
    let body: Value =
        serde_json::from_str(login["response"]["content"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(body["result"]["expires_in"], 3600);
    assert_eq!(body["result"]["access_token"], "[REDACTED]");

    let failed = &entries[2];
    assert_eq!(failed["response"]["status"], 0);
    assert_eq!(failed["response"]["_error"], "TypeError: Failed to fetch");
    assert_eq!(failed["response"]["_failureKind"], "network");

    let socket = &entries[3];
    assert_eq!(socket["_resourceType"], "websocket");
    assert_eq!(socket["response"]["status"], 101);
    assert_eq!(socket["request"]["method"], "GET");
    let messages = socket["_webSocketMessages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[0]["type"], "send");
    assert_eq!(messages[0]["opcode"], 1);
    assert_eq!(messages[1]["type"], "receive");
    // Seconds since the epoch, exact to the microsecond.
    let time = messages[1]["time"].as_f64().unwrap();
    assert_eq!((time * 1e6).round() as u64, T0 + 43_001);
    assert_eq!(messages[3]["opcode"], 2);
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(messages[3]["data"].as_str().unwrap())
            .unwrap()[..4],
        [0xca, 0xfe, 1, 2]
    );
    assert_eq!(socket["_webSocketClose"]["code"], 1000);

    let sse = &entries[4];
    assert_eq!(sse["_resourceType"], "eventsource");
    assert_eq!(sse["response"]["status"], 200);
    assert_eq!(sse["_eventSourceMessages"][0]["eventId"], "1");
}

#[test]
fn har_export_counts_what_it_cannot_represent() {
    let mut events = capture_with_secrets();
    events.push(event(
        "h-404",
        T0 + 70_000,
        EventBody::HttpResponse {
            status: 200,
            status_text: String::new(),
            headers: Vec::new(),
            body: None,
            response_type: None,
            url: None,
            redirected: false,
        },
    ));
    events.push(
        inspector_core::event::parse_event_line(
            r#"{"type":"from_the_future","time_micros":5,"session_id":"page-1"}"#,
            1,
        )
        .unwrap(),
    );
    events.push(event(
        "",
        T0 + 80_000,
        EventBody::Dropped {
            count: 12,
            reason: "memory".into(),
        },
    ));
    let export = export_har(&events, &RedactionConfig::default(), "t").unwrap();
    assert_eq!(export.skipped_total(), 2, "{:?}", export.skipped_events);
    assert_eq!(export.skipped_events.get("unknown"), Some(&1));
    let har: Value = serde_json::from_str(&export.text).unwrap();
    assert_eq!(har["log"]["_droppedByProducer"], 12);
}

#[test]
fn session_file_round_trips_events_and_settings_exactly() {
    let events = capture_with_secrets();
    let mut settings = serde_json::Map::new();
    settings.insert("call_timeout_micros".into(), Value::from(5_000_000u64));
    let text = export_session(
        &events,
        &settings,
        &RedactionConfig::disabled(),
        "framescope t",
    )
    .unwrap();
    // One event per line after the header.
    assert_eq!(text.lines().count(), events.len() + 3);
    let file = import_session(&text).unwrap();
    assert_eq!(file.version, SESSION_FORMAT_VERSION);
    assert_eq!(file.producer, "framescope t");
    assert!(!file.redacted);
    assert_eq!(file.settings, settings);
    assert_eq!(file.events, events);
}

#[test]
fn session_import_names_version_and_format_problems() {
    let events = capture_with_secrets();
    let text = export_session(
        &events,
        &serde_json::Map::new(),
        &RedactionConfig::default(),
        "t",
    )
    .unwrap();
    let newer = text.replacen("\"version\":1", "\"version\":7", 1);
    let error = import_session(&newer).unwrap_err();
    assert!(
        matches!(
            error,
            SessionImportError::UnsupportedVersion {
                found: 7,
                supported: 1,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("version 7") && message.contains("upgrade"),
        "{message}"
    );

    let error = import_session(r#"{"log":{"version":"1.2"}}"#).unwrap_err();
    assert!(
        matches!(error, SessionImportError::NotASession { .. }),
        "{error:?}"
    );
    let error = import_session("{\"format\":").unwrap_err();
    assert!(
        matches!(error, SessionImportError::NotJson { line: 1, .. }),
        "{error:?}"
    );
    let damaged = text.replacen("\"time_micros\":", "\"time_micros\":\"x\",\"_\":", 1);
    let error = import_session(&damaged).unwrap_err();
    assert!(
        matches!(error, SessionImportError::Invalid { line, .. } if line > 1),
        "{error:?}"
    );
}
