//! `framescope analyze` end to end: the real binary on real files (an NDJSON capture, HAR
//! files shaped like Chrome's and Firefox's exports, a HAR recorded by headless Chromium),
//! its JSON checked call by call, quantiles checked against an exact computation, and
//! unreadable files answered with one line naming the file and position, exit code 2.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn framescope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_framescope"))
        .args(args)
        .output()
        .expect("run framescope")
}

fn cli_data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn core_data(name: &str) -> String {
    format!(
        "{}/../inspector-core/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn analyze_json(path: &str) -> Value {
    let output = framescope(&["analyze", path, "--json"]);
    assert!(
        output.status.success(),
        "framescope analyze {path} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

/// A file in a fresh directory under the system temp dir, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "framescope-analyze-{}-{}",
            std::process::id(),
            name.replace('.', "-")
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `(method, request_id, outcome, error_code, latency_ms)` of every call.
fn call_rows(report: &Value) -> Vec<(String, Value, String, Value, Value)> {
    report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|call| {
            (
                call["method"].as_str().unwrap().to_owned(),
                call["request_id"].clone(),
                call["outcome"].as_str().unwrap().to_owned(),
                call["error_code"].clone(),
                call["latency_ms"].clone(),
            )
        })
        .collect()
}

fn method<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["method"] == name)
        .unwrap_or_else(|| panic!("no method {name} in {}", report["methods"]))
}

#[test]
fn ndjson_capture_reports_every_outcome_malformed_frames_and_drops() {
    let report = analyze_json(&cli_data("ws-jsonrpc-capture.ndjson"));
    assert_eq!(report["format"], "ndjson");
    assert_eq!(report["events"], 14);
    let null = Value::Null;
    assert_eq!(
        call_rows(&report),
        vec![
            (
                "User.Get".into(),
                "1".into(),
                "ok".into(),
                null.clone(),
                2.5.into()
            ),
            (
                "User.Get".into(),
                "2".into(),
                "error".into(),
                (-32602).into(),
                5.0.into()
            ),
            // No answer within the default 30 s before the capture's last event.
            (
                "Arith.Multiply".into(),
                "3".into(),
                "timeout".into(),
                null.clone(),
                null.clone()
            ),
            (
                "".into(),
                "99".into(),
                "orphan".into(),
                null.clone(),
                null.clone()
            ),
            (
                "Arith.Multiply".into(),
                "4".into(),
                "pending".into(),
                null.clone(),
                null.clone()
            ),
            (
                "Arith.Divide".into(),
                "0".into(),
                "error".into(),
                null.clone(),
                6.0.into()
            ),
        ]
    );
    let calls = report["calls"].as_array().unwrap();
    assert!(calls.iter().all(|call| call["kind"] == "call"));
    assert_eq!(calls[0]["transport"], "websocket");
    assert_eq!(calls[0]["protocol"], "jsonrpc2");
    assert_eq!(calls[5]["transport"], "http");
    assert_eq!(
        calls[5]["protocol"], "jsonrpc1",
        "Go's net/rpc/jsonrpc shape"
    );

    let user = method(&report, "User.Get");
    assert_eq!(
        (user["count"].as_u64(), user["errors"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(user["p99_ms"], 5.0);
    let multiply = method(&report, "Arith.Multiply");
    assert_eq!(multiply["count"], 2);
    assert_eq!(multiply["errors"], 1, "the timeout counts as an error");
    assert_eq!(multiply["p50_ms"], Value::Null, "no call has a latency");

    let malformed = report["malformed"].as_array().unwrap();
    assert_eq!(malformed.len(), 1);
    assert!(
        malformed[0]["reason"].as_str().unwrap().contains("-32700"),
        "{}",
        malformed[0]
    );
    assert_eq!(report["dropped_by_producer"], 5);
}

#[test]
fn chrome_har_with_websocket_messages_and_binary_cafe_frames() {
    let report = analyze_json(&core_data("har/chrome-devtools-export.har"));
    assert_eq!(report["format"], "har");
    let rows = call_rows(&report);
    let find = |name: &str| {
        rows.iter()
            .find(|row| row.0 == name)
            .unwrap_or_else(|| panic!("no call {name}: {rows:?}"))
    };
    assert_eq!(find("Arith.Multiply").2, "ok");
    assert_eq!(find("Arith.Multiply").4, 5.57);
    assert_eq!(find("User.Delete").3, -32601);
    assert_eq!(find("User.Delete").2, "error");
    // The cross-origin call Chrome saved with status 0 and `_error: net::ERR_FAILED`.
    assert_eq!(find("Arith.Add").2, "error");
    // Over the WebSocket: text JSON-RPC and a binary 0xCAFE request answered 12.243 ms later.
    let chat = find("Chat.Send");
    assert_eq!((chat.1.as_str(), chat.2.as_str()), (Some("10"), "ok"));
    let calls = report["calls"].as_array().unwrap();
    let cafe = calls
        .iter()
        .find(|call| call["protocol"] == "cafe")
        .expect("a 0xCAFE call");
    assert_eq!(cafe["transport"], "websocket");
    assert_eq!(cafe["request_id"], "42");
    assert_eq!(cafe["outcome"], "ok");
    assert_eq!(cafe["latency_ms"], 12.243);
    let notifications: Vec<&str> = calls
        .iter()
        .filter(|call| call["kind"] == "notification")
        .map(|call| call["method"].as_str().unwrap())
        .collect();
    assert_eq!(notifications, ["Log.Write", "Chat.Typing"]);
    // The binary message with a bad magic is a visible malformed row.
    let malformed = report["malformed"].as_array().unwrap();
    assert_eq!(malformed.len(), 1);
    assert!(
        malformed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("bad magic")
    );
    let transports: Vec<&str> = report["transports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["transport"].as_str().unwrap())
        .collect();
    assert_eq!(transports, ["http", "websocket"]);
}

#[test]
fn chromium_recorded_har_is_analysed() {
    let report = analyze_json(&core_data("chromium-recorded.har"));
    let methods: Vec<&str> = report["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["method"].as_str().unwrap())
        .collect();
    for expected in ["Arith.Multiply", "Arith.Divide", "User.Login", "Chat.Send"] {
        assert!(methods.contains(&expected), "{expected} in {methods:?}");
    }
    let calls = report["calls"].as_array().unwrap();
    let cafe: Vec<&Value> = calls.iter().filter(|c| c["protocol"] == "cafe").collect();
    assert_eq!(cafe.len(), 1, "{calls:?}");
    assert_eq!(cafe[0]["request_id"], "42");
    assert_eq!(cafe[0]["outcome"], "ok");
    // Playwright writes message times in milliseconds: the latency must be milliseconds,
    // not a thousand times more.
    let latency_ms = cafe[0]["latency_ms"].as_f64().unwrap();
    assert!(latency_ms > 0.0 && latency_ms < 1_000.0, "{latency_ms}");
}

#[test]
fn firefox_har_prints_readable_tables() {
    let path = core_data("har/firefox-export.har");
    let output = framescope(&["analyze", &path]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with(&format!(
            "{path} (HAR, 11 events): 5 calls, 4 methods, 0 malformed frames"
        )),
        "{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .find(|line| line.starts_with("method "))
        .expect("methods table");
    for column in [
        "count", "errors", "err_rate", "p50_ms", "p95_ms", "p99_ms", "max_ms",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let multiply: Vec<&str> = lines
        .iter()
        .find(|line| line.starts_with("Arith.Multiply "))
        .expect("Arith.Multiply row")
        .split_whitespace()
        .collect();
    // method, count, errors, err_rate, p50, p90, p95, p99, max
    assert_eq!(&multiply[..4], ["Arith.Multiply", "2", "0", "0.0%"]);
    assert_eq!(multiply[8], "17.000");
    assert!(
        lines
            .iter()
            .any(|line| line.contains("POST /api/report") && line.contains("500")),
        "{text}"
    );
}

/// Nearest-rank quantile in milliseconds of sorted microsecond samples.
fn exact_quantile_ms(sorted_micros: &[u64], quantile: f64) -> f64 {
    let rank = ((quantile * sorted_micros.len() as f64).ceil() as usize).max(1);
    sorted_micros[rank - 1] as f64 / 1_000.0
}

#[test]
fn per_method_quantiles_match_an_exact_computation() {
    // 500 fetch exchanges of one method with latencies spread from 0.2 ms to ~2.7 s.
    let t0: u64 = 1_795_680_000_000_000;
    let mut lines = Vec::new();
    let mut latencies = Vec::new();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for index in 0..500u64 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let latency_micros = 200
            + if index % 20 == 0 {
                state % 2_700_000
            } else {
                state % 40_000
            };
        latencies.push(latency_micros);
        let start = t0 + index * 10_000;
        let connection = format!("http-{index}");
        let request = serde_json::json!({
            "v": 1, "session_id": "p", "connection_id": connection, "time_micros": start,
            "type": "http_request", "api": "fetch", "method": "POST", "url": "http://127.0.0.1:8737/rpc",
            "headers": [["Content-Type", "application/json"]],
            "body": {"encoding": "text", "data": format!(r#"{{"jsonrpc":"2.0","method":"Report.Build","id":{index}}}"#)}
        });
        let response = serde_json::json!({
            "v": 1, "session_id": "p", "connection_id": connection, "time_micros": start + latency_micros,
            "type": "http_response", "status": 200,
            "body": {"encoding": "text", "data": format!(r#"{{"jsonrpc":"2.0","result":true,"id":{index}}}"#)}
        });
        lines.push(request.to_string());
        lines.push(response.to_string());
    }
    let file = TempFile::new("quantiles.ndjson", (lines.join("\n") + "\n").as_bytes());
    let report = analyze_json(file.path());
    let row = method(&report, "Report.Build");
    assert_eq!(row["count"], 500);
    assert_eq!(row["errors"], 0);
    latencies.sort_unstable();
    for (field, quantile) in [("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)] {
        let exact = exact_quantile_ms(&latencies, quantile);
        let reported = row[field].as_f64().unwrap();
        // HdrHistogram with 3 significant digits: never below, at most 0.1% (+1 µs) above.
        assert!(
            reported >= exact && reported - exact <= exact * 0.001 + 0.001,
            "{field}: exact {exact} reported {reported}"
        );
    }
}

fn expect_failure(path: &str, expected_fragments: &[&str]) {
    let output = framescope(&["analyze", path, "--json"]);
    assert_eq!(output.status.code(), Some(2), "exit code for {path}");
    assert!(output.stdout.is_empty(), "nothing on stdout");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.contains(path), "names the file: {stderr}");
    for fragment in expected_fragments {
        assert!(stderr.contains(fragment), "{fragment:?} in {stderr}");
    }
}

#[test]
fn unreadable_and_unparsable_files_exit_2_with_one_line_naming_file_and_position() {
    let missing = std::env::temp_dir().join("framescope-analyze-no-such-file.ndjson");
    expect_failure(missing.to_str().unwrap(), &["cannot read"]);

    // A pretty-printed HAR cut short: the position is in the HAR, not "line 1".
    let chrome = std::fs::read_to_string(core_data("har/chrome-devtools-export.har")).unwrap();
    let cut: String = chrome.lines().take(40).collect::<Vec<_>>().join("\n");
    let truncated = TempFile::new("truncated.har", cut.as_bytes());
    expect_failure(truncated.path(), &["line 40, column"]);

    let bad_date = TempFile::new(
        "bad-date.har",
        br#"{"log":{"version":"1.2","entries":[{"startedDateTime":"soon","request":{"method":"GET","url":"http://a/"},"response":{"status":200}}]}}"#,
    );
    expect_failure(
        bad_date.path(),
        &["log.entries[0].startedDateTime", "`soon`"],
    );

    let capture = std::fs::read_to_string(cli_data("ws-jsonrpc-capture.ndjson")).unwrap();
    let mut broken: Vec<&str> = capture.lines().collect();
    broken[2] = r#"{"type":"ws_message","time_micros":"#;
    let bad_line = TempFile::new("bad-line.ndjson", broken.join("\n").as_bytes());
    expect_failure(bad_line.path(), &["line 3, column"]);

    let binary = TempFile::new("binary.ndjson", &[0x7b, 0xff, 0xfe, 0x00]);
    expect_failure(binary.path(), &["byte 1", "not UTF-8"]);
}

#[test]
fn empty_capture_is_not_an_error() {
    let empty = TempFile::new("empty.ndjson", b"\n");
    let report = analyze_json(empty.path());
    assert_eq!(report["calls"], Value::Array(Vec::new()));
    assert_eq!(report["methods"], Value::Array(Vec::new()));
    assert_eq!(report["malformed"], Value::Array(Vec::new()));
    assert!(Path::new(empty.path()).exists());
}

/// The `calls` and `methods` of a report, which must not depend on the input format.
fn analysis(report: &Value) -> (Value, Value) {
    (report["calls"].clone(), report["methods"].clone())
}

#[test]
fn session_file_and_re_exported_har_analyse_like_the_original() {
    let original_path = core_data("har/chrome-devtools-export.har");
    let original = analyze_json(&original_path);
    for (format, name) in [
        ("session", "capture.framescope.json"),
        ("har", "re-export.har"),
    ] {
        let out = TempFile::new(name, b"");
        let output = framescope(&[
            "export",
            &original_path,
            "--format",
            format,
            "--no-redact",
            "-o",
            out.path(),
        ]);
        assert!(
            output.status.success(),
            "export --format {format}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report = analyze_json(out.path());
        assert_eq!(report["format"], format);
        assert_eq!(analysis(&report), analysis(&original), "via {format}");
        assert_eq!(report["malformed"].as_array().unwrap().len(), 1);
    }
}
