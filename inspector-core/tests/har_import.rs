//! HAR import against files shaped like Chrome DevTools' and Firefox's "Save all as HAR"
//! exports, and a HAR that headless Chromium recorded through Playwright.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use inspector_core::event::{CaptureEvent, Direction, EventBody, HttpFailureKind};
use inspector_core::har::{HarError, import_har, looks_like_har};

fn read(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn kinds(events: &[&CaptureEvent]) -> Vec<&'static str> {
    events
        .iter()
        .map(|event| match &event.body {
            EventBody::Page { .. } => "page",
            EventBody::HttpRequest { .. } => "http_request",
            EventBody::HttpResponse { .. } => "http_response",
            EventBody::HttpFailure { .. } => "http_failure",
            EventBody::WsConnect { .. } => "ws_connect",
            EventBody::WsOpen { .. } => "ws_open",
            EventBody::WsMessage { .. } => "ws_message",
            EventBody::WsClose { .. } => "ws_close",
            EventBody::WsError {} => "ws_error",
            _ => "other",
        })
        .collect()
}

fn connection<'a>(events: &'a [CaptureEvent], connection_id: &str) -> Vec<&'a CaptureEvent> {
    events
        .iter()
        .filter(|event| event.connection_id == connection_id)
        .collect()
}

/// 2026-11-26T07:30:00Z in microseconds.
const CHROME_T0: u64 = 1_795_678_200_000_000;

#[test]
fn chrome_devtools_export_becomes_http_exchanges_and_a_websocket() {
    let text = read("har/chrome-devtools-export.har");
    assert!(looks_like_har(&text));
    let import = import_har(&text).unwrap();
    assert!(import.notes.is_empty(), "{:?}", import.notes);
    let events = &import.events;
    assert!(
        events
            .windows(2)
            .all(|w| w[0].time_micros <= w[1].time_micros),
        "events are in time order"
    );
    assert_eq!(events[0].time_micros, CHROME_T0);
    assert!(
        matches!(&events[0].body, EventBody::Page { url, .. } if url == "http://127.0.0.1:8737/demo/")
    );
    assert!(events.iter().all(|event| event.session_id == "page_1"));

    // The JSON-RPC fetch: request at startedDateTime, response `time` ms later.
    let multiply = connection(events, "har-1");
    assert_eq!(kinds(&multiply), ["http_request", "http_response"]);
    assert_eq!(multiply[0].time_micros, CHROME_T0 + 150_000);
    assert_eq!(multiply[1].time_micros, CHROME_T0 + 150_000 + 5_570);
    let EventBody::HttpRequest {
        api,
        method,
        url,
        headers,
        body,
        ..
    } = &multiply[0].body
    else {
        panic!()
    };
    assert_eq!((api.as_str(), method.as_str()), ("fetch", "POST"));
    assert_eq!(url, "http://127.0.0.1:8737/rpc");
    assert!(
        headers
            .iter()
            .any(|(name, value)| name == "Content-Type" && value == "application/json")
    );
    assert!(body.as_ref().unwrap().data.contains("Arith.Multiply"));
    let EventBody::HttpResponse { status, body, .. } = &multiply[1].body else {
        panic!()
    };
    assert_eq!(*status, 200);
    let body = body.as_ref().unwrap();
    assert_eq!(body.data, r#"{"jsonrpc":"2.0","result":56,"id":1}"#);
    assert_eq!(body.size_bytes, 36);
    assert!(!body.truncated);

    // Status 0 with Chrome's `_error` is a failure, not a response.
    let blocked = connection(events, "har-4");
    assert_eq!(kinds(&blocked), ["http_request", "http_failure"]);
    let EventBody::HttpFailure {
        failure,
        error_message,
        ..
    } = &blocked[1].body
    else {
        panic!()
    };
    assert_eq!(*failure, HttpFailureKind::Network);
    assert_eq!(error_message, "net::ERR_FAILED");

    // The WebSocket: connect, open after the handshake timings, six messages, close.
    let socket = connection(events, "har-ws-5");
    assert_eq!(
        kinds(&socket),
        [
            "ws_connect",
            "ws_open",
            "ws_message",
            "ws_message",
            "ws_message",
            "ws_message",
            "ws_message",
            "ws_message",
            "ws_close"
        ]
    );
    let ws_start = CHROME_T0 + 300_000;
    let EventBody::WsConnect { url, protocols } = &socket[0].body else {
        panic!()
    };
    assert_eq!(url, "ws://127.0.0.1:8737/demo/ws");
    assert_eq!(protocols, &["jsonrpc", "cafe.v1"]);
    assert_eq!(socket[0].time_micros, ws_start);
    assert_eq!(
        socket[1].time_micros,
        ws_start + 5_720,
        "blocked 0.6 + wait 5.12 ms"
    );
    let EventBody::WsOpen { protocol, .. } = &socket[1].body else {
        panic!()
    };
    assert_eq!(protocol, "jsonrpc");
    // Message times are seconds since the epoch in DevTools' export.
    assert_eq!(socket[2].time_micros, ws_start + 20_103);
    assert_eq!(socket[6].time_micros, ws_start + 33_250);
    let EventBody::WsMessage { direction, payload } = &socket[4].body else {
        panic!()
    };
    assert_eq!(*direction, Direction::Sent);
    assert!(payload.is_binary());
    let bytes = payload.to_bytes().unwrap();
    assert_eq!(&bytes[..4], &[0xca, 0xfe, 0x01, 0x01]);
    assert_eq!(u64::from_be_bytes(bytes[4..12].try_into().unwrap()), 42);
    assert_eq!(payload.size_bytes, bytes.len() as u64);
    let EventBody::WsMessage { direction, payload } = &socket[5].body else {
        panic!()
    };
    assert_eq!(*direction, Direction::Received);
    assert!(!payload.is_binary());
    let EventBody::WsClose {
        code, was_clean, ..
    } = &socket[8].body
    else {
        panic!()
    };
    assert_eq!(
        (*code, *was_clean),
        (1005, false),
        "HAR does not record the close"
    );
    assert_eq!(socket[8].time_micros, socket[7].time_micros);
}

/// 2026-11-26T07:45:00Z in microseconds.
const FIREFOX_T0: u64 = 1_795_679_100_000_000;

#[test]
fn firefox_export_with_utc_offsets_and_json_rpc_1() {
    let text = read("har/firefox-export.har");
    assert!(looks_like_har(&text));
    let import = import_har(&text).unwrap();
    assert!(import.notes.is_empty(), "{:?}", import.notes);
    let events = &import.events;
    assert_eq!(events[0].time_micros, FIREFOX_T0, "08:45+01:00 is 07:45Z");
    let first = connection(events, "har-0");
    assert_eq!(kinds(&first), ["http_request", "http_response"]);
    assert_eq!(first[0].time_micros, FIREFOX_T0 + 40_000);
    assert_eq!(first[1].time_micros, FIREFOX_T0 + 43_000);
    let EventBody::HttpRequest { api, body, .. } = &first[0].body else {
        panic!()
    };
    assert_eq!(api, "har", "Firefox names no resource type");
    assert_eq!(
        body.as_ref().unwrap().data,
        r#"{"method":"Arith.Multiply","params":[{"A":7,"B":8}],"id":0}"#
    );
    let server_error = connection(events, "har-3");
    let EventBody::HttpResponse {
        status,
        status_text,
        ..
    } = &server_error[1].body
    else {
        panic!()
    };
    assert_eq!(
        (*status, status_text.as_str()),
        (500, "Internal Server Error")
    );

    // Firefox writes no `_error`: status 0 is still a failure, with an explicit message.
    let failed = connection(events, "har-4");
    assert_eq!(kinds(&failed), ["http_request", "http_failure"]);
    let EventBody::HttpFailure { error_message, .. } = &failed[1].body else {
        panic!()
    };
    assert_eq!(error_message, "no response recorded (status 0)");
}

#[test]
fn chromium_recording_with_millisecond_message_times() {
    // Recorded by headless Chromium through Playwright, which writes message times in
    // milliseconds since the epoch rather than DevTools' seconds.
    let text = read("chromium-recorded.har");
    assert!(looks_like_har(&text));
    let import = import_har(&text).unwrap();
    assert!(import.notes.is_empty(), "{:?}", import.notes);
    let socket: Vec<&CaptureEvent> = import
        .events
        .iter()
        .filter(|event| event.connection_id.starts_with("har-ws-"))
        .collect();
    assert_eq!(socket.len(), 1 + 1 + 5 + 1);
    // 2026-11-26T07:04:27.137Z, first message 1795676667283.414 ms.
    assert_eq!(socket[0].time_micros, 1_795_676_667_137_000);
    assert_eq!(socket[2].time_micros, 1_795_676_667_283_414);
    let binary: Vec<Vec<u8>> = socket
        .iter()
        .filter_map(|event| match &event.body {
            EventBody::WsMessage { payload, .. } if payload.is_binary() => payload.to_bytes().ok(),
            _ => None,
        })
        .collect();
    assert_eq!(binary.len(), 2);
    assert!(binary.iter().all(|frame| frame.starts_with(&[0xca, 0xfe])));
    let fetches = import
        .events
        .iter()
        .filter(|event| matches!(&event.body, EventBody::HttpRequest { api, .. } if api == "fetch"))
        .count();
    assert_eq!(fetches, 3);
}

#[test]
fn positions_of_bad_values_are_named() {
    let bad_date = r#"{"log":{"entries":[
        {"startedDateTime":"2026-11-26T07:30:00Z","time":1,"request":{"method":"GET","url":"http://a/"},"response":{"status":200}},
        {"startedDateTime":"last tuesday","time":1,"request":{"method":"GET","url":"http://a/"},"response":{"status":200}}
    ]}}"#;
    let error = import_har(bad_date).unwrap_err();
    assert_eq!(
        error,
        HarError::InvalidDateTime {
            path: "log.entries[1].startedDateTime".into(),
            value: "last tuesday".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "log.entries[1].startedDateTime: `last tuesday` is not an ISO 8601 date-time"
    );

    let bad_message_time = r#"{"log":{"entries":[
        {"startedDateTime":"2026-11-26T07:30:00Z","request":{"method":"GET","url":"ws://a/"},"response":{"status":101},
         "_webSocketMessages":[{"type":"send","time":-5,"opcode":1,"data":"x"}]}
    ]}}"#;
    let error = import_har(bad_message_time).unwrap_err();
    assert!(
        error.to_string().starts_with(
            "log.entries[0]._webSocketMessages[0].time: -5 is not a valid message time"
        ),
        "{error}"
    );

    let wrong_type = "{\"log\": {\"entries\": [\n {\"startedDateTime\": 5}]}}";
    let HarError::Syntax {
        line,
        column,
        message,
    } = import_har(wrong_type).unwrap_err()
    else {
        panic!()
    };
    assert_eq!(line, 2);
    assert!(column > 0);
    assert!(message.contains("invalid type"), "{message}");
}

#[test]
fn unrepresentable_frames_and_bodies_become_notes() {
    let text = r#"{"log":{"entries":[
        {"startedDateTime":"2026-11-26T07:30:00Z","time":2,"request":{"method":"GET","url":"wss://a/"},"response":{"status":101},
         "_webSocketMessages":[
            {"type":"send","time":1795678200.001,"opcode":9,"data":""},
            {"type":"receive","time":1795678200.002,"opcode":2,"data":"not base64!"},
            {"type":"receive","time":1795678200.003,"opcode":8,"data":"bye","code":1000}
         ]},
        {"startedDateTime":"2026-11-26T07:30:01Z","time":2,"request":{"method":"GET","url":"http://a/x"},
         "response":{"status":200,"content":{"size":5000,"mimeType":"image/png"}}}
    ]}}"#;
    let import = import_har(text).unwrap();
    let notes: Vec<(&str, &str)> = import
        .notes
        .iter()
        .map(|note| (note.path.as_str(), note.message.as_str()))
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(notes[0].0, "log.entries[0]._webSocketMessages[0]");
    assert!(notes[0].1.contains("ping"));
    assert_eq!(notes[1].0, "log.entries[0]._webSocketMessages[1].data");
    assert!(notes[1].1.contains("does not decode"));
    let socket = connection(&import.events, "har-ws-0");
    assert_eq!(
        kinds(&socket),
        ["ws_connect", "ws_open", "ws_message", "ws_close"]
    );
    let EventBody::WsClose {
        code,
        reason,
        was_clean,
    } = &socket[3].body
    else {
        panic!()
    };
    assert_eq!((*code, reason.as_str(), *was_clean), (1000, "bye", true));
    // A body the file does not hold is an empty, truncated payload of the recorded size.
    let image = connection(&import.events, "har-1");
    let EventBody::HttpResponse {
        body: Some(body), ..
    } = &image[1].body
    else {
        panic!()
    };
    assert_eq!(
        (body.data.as_str(), body.size_bytes, body.truncated),
        ("", 5000, true)
    );
}

#[test]
fn failed_websocket_handshake_closes_abnormally() {
    let text = r#"{"log":{"entries":[
        {"startedDateTime":"2026-11-26T07:30:00Z","time":3,"_resourceType":"websocket",
         "request":{"method":"GET","url":"ws://a/"},"response":{"status":403}}
    ]}}"#;
    let import = import_har(text).unwrap();
    let socket = connection(&import.events, "har-ws-0");
    assert_eq!(kinds(&socket), ["ws_connect", "ws_error", "ws_close"]);
    let EventBody::WsClose { code, .. } = &socket[2].body else {
        panic!()
    };
    assert_eq!(*code, 1006);
    assert_eq!(socket[2].time_micros - socket[0].time_micros, 3_000);
}
