//! Export formats from the core's side: HAR structure (Chrome's `_webSocketMessages`),
//! session files (lossless, versioned) and redaction across every format.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod export_support;

use base64::Engine as _;
use export_support::{SECRETS, T0, capture_with_secrets, event};
use inspector_core::event::EventBody;
use inspector_core::export::har::export_har;
use inspector_core::export::redact::RedactionConfig;
use inspector_core::export::session::{
    SESSION_FORMAT_VERSION, SessionImportError, export_session, import_session,
};
use inspector_core::session::SessionConfig;
use serde_json::Value;

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
    let config = SessionConfig::default();
    let redacted =
        export_session(&events, &config, None, &RedactionConfig::default(), "t").unwrap();
    assert_eq!(secrets_found(&redacted), Vec::<&str>::new());
    let open = export_session(&events, &config, None, &RedactionConfig::disabled(), "t").unwrap();
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
    assert_eq!(entries.len(), 6);
    assert_eq!(export.entry_count, 6);
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

    let preflight = &entries[4];
    assert_eq!(preflight["_resourceType"], "preflight");
    assert_eq!(preflight["request"]["method"], "OPTIONS");
    assert_eq!(preflight["response"]["status"], 204);
    assert_eq!(preflight["time"], 1.5);

    let sse = &entries[5];
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
    assert_eq!(export.skipped_events.get("from_the_future"), Some(&1));
    let har: Value = serde_json::from_str(&export.text).unwrap();
    assert_eq!(har["log"]["_droppedByProducer"], 12);
}

#[test]
fn session_file_round_trips_events_and_settings_exactly() {
    let events = capture_with_secrets();
    let config = SessionConfig {
        call_timeout_micros: Some(5_000_000),
        ..SessionConfig::default()
    };
    let text = export_session(
        &events,
        &config,
        Some(T0 + 99_000),
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
    assert_eq!(file.config, config);
    assert_eq!(file.finished_micros, Some(T0 + 99_000));
    assert_eq!(file.events, events);
}

#[test]
fn session_import_names_version_and_format_problems() {
    let events = capture_with_secrets();
    let text = export_session(
        &events,
        &SessionConfig::default(),
        None,
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
