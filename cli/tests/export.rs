//! `framescope export` end to end: the real binary on real files, OTLP decoded with the
//! OpenTelemetry protobuf types and posted to a receiver on 127.0.0.1, no secret in any
//! format, session files re-exported unchanged, one-line errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../inspector-core/tests/export_support/mod.rs"]
mod export_support;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::mpsc;
use std::thread;

use base64::Engine as _;
use export_support::{SECRETS, T0, capture_with_secrets};
use inspector_core::event::CaptureEvent;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;

const APP_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const APP_SPAN_ID: &str = "00f067aa0ba902b7";

fn framescope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_framescope"))
        .args(args)
        .output()
        .expect("run framescope")
}

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "framescope failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The shared capture with secrets, plus a `traceparent` on the login request, as NDJSON.
fn write_capture(name: &str) -> PathBuf {
    let mut events = capture_with_secrets();
    for event in &mut events {
        if event.connection_id == "h-1"
            && let inspector_core::event::EventBody::HttpRequest { headers, .. } = &mut event.body
        {
            headers.push((
                "traceparent".into(),
                format!("00-{APP_TRACE_ID}-{APP_SPAN_ID}-01"),
            ));
        }
    }
    let path = scratch(name);
    let text: String = events
        .iter()
        .map(|event| serde_json::to_string(event).unwrap() + "\n")
        .collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn attributes(span: &Span) -> HashMap<String, String> {
    span.attributes
        .iter()
        .map(|attribute| {
            let value = match attribute
                .value
                .as_ref()
                .and_then(|value| value.value.as_ref())
            {
                Some(AnyValue::StringValue(text)) => text.clone(),
                Some(AnyValue::IntValue(number)) => number.to_string(),
                other => format!("{other:?}"),
            };
            (attribute.key.clone(), value)
        })
        .collect()
}

fn decode(text: &str) -> ExportTraceServiceRequest {
    serde_json::from_str(text).expect("OTLP/JSON that opentelemetry-proto decodes")
}

fn spans(request: &ExportTraceServiceRequest) -> Vec<Span> {
    request
        .resource_spans
        .iter()
        .flat_map(|resource| &resource.scope_spans)
        .flat_map(|scope| scope.spans.clone())
        .collect()
}

fn check_spans(request: &ExportTraceServiceRequest) {
    assert_eq!(request.resource_spans.len(), 1);
    let resource = request.resource_spans[0].resource.as_ref().unwrap();
    let service = resource
        .attributes
        .iter()
        .find(|attribute| attribute.key == "service.name")
        .unwrap();
    assert_eq!(
        service.value.as_ref().unwrap().value,
        Some(AnyValue::StringValue("framescope".into()))
    );
    let spans = spans(request);
    let by_name = |name: &str| -> &Span {
        spans
            .iter()
            .find(|span| span.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "no span {name} in {:?}",
                    spans.iter().map(|s| &s.name).collect::<Vec<_>>()
                )
            })
    };
    let root = by_name("framescope session");
    assert_eq!(root.kind, SpanKind::Internal as i32);
    assert!(root.parent_span_id.is_empty());
    assert_eq!(root.trace_id.len(), 16);
    assert_eq!(root.span_id.len(), 8);

    // Joined to the app's trace through its traceparent header.
    let login = by_name("User/Login");
    assert_eq!(hex(&login.trace_id), APP_TRACE_ID);
    assert_eq!(hex(&login.parent_span_id), APP_SPAN_ID);
    assert_eq!(login.kind, SpanKind::Client as i32);
    assert_eq!(login.start_time_unix_nano, (T0 + 1_000) * 1_000);
    assert_eq!(login.end_time_unix_nano, (T0 + 13_345) * 1_000);
    let login_attributes = attributes(login);
    for (key, value) in [
        ("rpc.system", "jsonrpc"),
        ("rpc.service", "User"),
        ("rpc.method", "Login"),
        ("rpc.jsonrpc.version", "2.0"),
        ("rpc.jsonrpc.request_id", "1"),
        ("server.address", "127.0.0.1"),
        ("server.port", "9"),
        ("network.transport", "tcp"),
        ("http.request.method", "POST"),
        ("http.response.status_code", "200"),
        (
            "url.full",
            "http://127.0.0.1:9/rpc?api_key=%5BREDACTED%5D&page=1",
        ),
    ] {
        assert_eq!(
            login_attributes.get(key).map(String::as_str),
            Some(value),
            "{key}"
        );
    }
    assert_ne!(
        login.status.as_ref().map_or(0, |status| status.code),
        StatusCode::Error as i32
    );

    // Not joined: one trace per session, below the session's root span.
    let divide = by_name("Arith/Divide");
    assert_eq!(divide.trace_id, root.trace_id);
    assert_eq!(divide.parent_span_id, root.span_id);
    let status = divide.status.as_ref().unwrap();
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "divide by zero");
    let divide_attributes = attributes(divide);
    assert_eq!(divide_attributes["rpc.jsonrpc.error_code"], "-32000");
    assert_eq!(
        divide_attributes["rpc.jsonrpc.error_message"],
        "divide by zero"
    );

    let failed = by_name("POST");
    assert_eq!(
        failed.status.as_ref().unwrap().code,
        StatusCode::Error as i32
    );

    let resume = by_name("Session/Resume");
    let resume_attributes = attributes(resume);
    assert_eq!(resume_attributes["network.protocol.name"], "websocket");
    assert_eq!(resume_attributes["rpc.jsonrpc.request_id"], "7");
    assert_eq!(
        resume.end_time_unix_nano - resume.start_time_unix_nano,
        1_001_000
    );

    let span_ids: std::collections::HashSet<_> =
        spans.iter().map(|span| span.span_id.clone()).collect();
    assert_eq!(span_ids.len(), spans.len(), "span ids are unique");
}

#[test]
fn otlp_export_decodes_with_opentelemetry_proto() {
    let capture = write_capture("otlp.ndjson");
    let text = stdout_of(&framescope(&[
        "export",
        capture.to_str().unwrap(),
        "--format",
        "otlp",
    ]));
    check_spans(&decode(&text));
    // Deterministic: the same capture gives the same spans.
    let again = stdout_of(&framescope(&[
        "export",
        capture.to_str().unwrap(),
        "--format",
        "otlp",
    ]));
    assert_eq!(again, text);
}

/// What the receiver saw: request line, headers (lower-case names), body.
type Received = (String, HashMap<String, String>, Vec<u8>);

/// Reads one HTTP/1.1 request and answers it.
fn serve_one(
    stream: impl std::io::Read + std::io::Write,
    status_line: &str,
    body: &str,
) -> Received {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers["content-length"].parse().unwrap();
    let mut request_body = vec![0; length];
    reader.read_exact(&mut request_body).unwrap();
    let stream = reader.get_mut();
    write!(
        stream,
        "HTTP/1.1 {status_line}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    (request_line.trim_end().to_owned(), headers, request_body)
}

/// A one-shot OTLP/HTTP receiver on 127.0.0.1: answers `status_line` and hands back what
/// it received.
fn receiver(status_line: &'static str, body: &'static str) -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (sender, received) = mpsc::channel();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        sender.send(serve_one(stream, status_line, body)).unwrap();
    });
    (base, received)
}

/// A one-shot OTLP/HTTPS receiver on 127.0.0.1 with a certificate from a fresh test CA.
/// Returns the base URL, the CA's PEM file, and what it received (or the TLS error).
fn tls_receiver(name: &str) -> (String, PathBuf, mpsc::Receiver<Result<Received, String>>) {
    use tokio_rustls::rustls;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let ca_file = scratch(&format!("{name}-ca.pem"));
    std::fs::write(&ca_file, ca.as_ref().pem()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    let (sender, received) = mpsc::channel();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let connection = rustls::ServerConnection::new(std::sync::Arc::new(config)).unwrap();
        let mut tls = rustls::StreamOwned::new(connection, stream);
        // Finish the handshake first so that a refused certificate is reported, not a panic.
        let result = match tls.conn.complete_io(&mut tls.sock) {
            Ok(_) => Ok(serve_one(tls, "200 OK", "{}")),
            Err(error) => Err(error.to_string()),
        };
        sender.send(result).unwrap();
    });
    (base, ca_file, received)
}

#[test]
fn otlp_export_posts_to_v1_traces_of_the_endpoint() {
    let capture = write_capture("otlp-post.ndjson");
    let (base, received) = receiver("200 OK", "{}");
    let output = framescope(&[
        "export",
        capture.to_str().unwrap(),
        "--format",
        "otlp",
        "--endpoint",
        &format!("{base}/"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(output.stdout.is_empty(), "posting replaces printing");
    assert!(stderr.contains(&format!("to {base}/v1/traces")), "{stderr}");
    let (request_line, headers, body) = received.recv().unwrap();
    assert_eq!(request_line, "POST /v1/traces HTTP/1.1");
    assert_eq!(headers["content-type"], "application/json");
    check_spans(&decode(std::str::from_utf8(&body).unwrap()));
}

#[test]
fn otlp_export_posts_over_https_with_headers() {
    let capture = write_capture("otlp-https.ndjson");
    let (base, ca_file, received) = tls_receiver("otlp-https");
    let output = Command::new(env!("CARGO_BIN_EXE_framescope"))
        .args([
            "export",
            capture.to_str().unwrap(),
            "--format",
            "otlp",
            "--endpoint",
            &base,
            "--endpoint-ca",
            ca_file.to_str().unwrap(),
            "--endpoint-header",
            "x-api-key=k-123",
        ])
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-scope-orgid=team%20a")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let (request_line, headers, body) = received.recv().unwrap().unwrap();
    assert_eq!(request_line, "POST /v1/traces HTTP/1.1");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-api-key"], "k-123");
    assert_eq!(headers["x-scope-orgid"], "team a");
    check_spans(&decode(std::str::from_utf8(&body).unwrap()));

    // Without the CA the certificate is refused, in one line.
    let (base, _ca_file, received) = tls_receiver("otlp-https-untrusted");
    let output = framescope(&[
        "export",
        capture.to_str().unwrap(),
        "--format",
        "otlp",
        "--endpoint",
        &base,
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("framescope: TLS handshake with 127.0.0.1 failed"),
        "{stderr}"
    );
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(received.recv().unwrap().is_err());
}

#[test]
fn otlp_endpoint_failures_are_one_line_errors() {
    let capture = write_capture("otlp-fail.ndjson");
    let capture = capture.to_str().unwrap();
    let (base, _received) = receiver("400 Bad Request", r#"{"message":"bad spans"}"#);
    let output = framescope(&["export", capture, "--format", "otlp", "--endpoint", &base]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("400 Bad Request") && stderr.contains("bad spans"),
        "{stderr}"
    );

    let (base, _received) = receiver(
        "200 OK",
        r#"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"too old"}}"#,
    );
    let output = framescope(&["export", capture, "--format", "otlp", "--endpoint", &base]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("rejected 2 span(s): too old"), "{stderr}");

    // Nothing listens on a port we just closed.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let output = framescope(&[
        "export",
        capture,
        "--format",
        "otlp",
        "--endpoint",
        &format!("http://{closed}"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("framescope: cannot connect to the collector"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

/// Every string of a JSON document, plus the text of strings that are base64 of UTF-8.
fn secrets_in(text: &str) -> Vec<&'static str> {
    fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(text) => {
                out.push(text.clone());
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text)
                    && let Ok(decoded) = String::from_utf8(bytes)
                {
                    out.push(decoded);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
            serde_json::Value::Object(members) => members.values().for_each(|item| walk(item, out)),
            _ => {}
        }
    }
    let mut haystacks = vec![text.to_owned()];
    walk(&serde_json::from_str(text).unwrap(), &mut haystacks);
    SECRETS
        .iter()
        .copied()
        .filter(|secret| haystacks.iter().any(|hay| hay.contains(secret)))
        .collect()
}

#[test]
fn no_secret_appears_in_any_export_format() {
    let capture = write_capture("secrets.ndjson");
    let capture = capture.to_str().unwrap();
    for format in ["har", "session", "otlp"] {
        let text = stdout_of(&framescope(&["export", capture, "--format", format]));
        assert_eq!(secrets_in(&text), Vec::<&str>::new(), "--format {format}");
        // Written to a file the same way.
        let path = scratch(&format!("secrets.{format}"));
        stdout_of(&framescope(&[
            "export",
            capture,
            "--format",
            format,
            "-o",
            path.to_str().unwrap(),
        ]));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().trim_end(),
            text.trim_end()
        );
    }
    // The check can fail: without redaction the secrets are there.
    for format in ["har", "session"] {
        let text = stdout_of(&framescope(&[
            "export",
            capture,
            "--format",
            format,
            "--no-redact",
        ]));
        assert_eq!(
            secrets_in(&text),
            SECRETS.to_vec(),
            "--format {format} --no-redact"
        );
    }
    // Extra names are configurable: `user` is not a secret by default.
    let session = stdout_of(&framescope(&["export", capture, "--format", "session"]));
    assert!(
        session.contains(r#"\"user\":\"ada\""#),
        "user names are kept by default"
    );
    let session = stdout_of(&framescope(&[
        "export",
        capture,
        "--format",
        "session",
        "--redact-name",
        "User",
    ]));
    assert!(!session.contains(r#"\"user\":\"ada\""#));
    assert!(session.contains(r#"\"user\":\"[REDACTED]\""#));
    assert!(session.contains("user=[REDACTED]&password=[REDACTED]"));
    let otlp = stdout_of(&framescope(&[
        "export",
        capture,
        "--format",
        "otlp",
        "--no-redact",
    ]));
    assert!(
        secrets_in(&otlp).contains(&"qk-0010"),
        "URL query secret in url.full"
    );
}

#[test]
fn session_files_are_read_back_losslessly() {
    let capture = write_capture("lossless.ndjson");
    let session = scratch("lossless.framescope.json");
    stdout_of(&framescope(&[
        "export",
        capture.to_str().unwrap(),
        "--format",
        "session",
        "--no-redact",
        "-o",
        session.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&session).unwrap();
    let events: Vec<CaptureEvent> = inspector_core::export::session::import_session(&text)
        .unwrap()
        .events;
    let original =
        inspector_core::event::parse_ndjson(&std::fs::read_to_string(&capture).unwrap()).unwrap();
    assert_eq!(events, original);
    // Re-exporting the session file gives the same file, and every other format agrees
    // with the export of the original capture.
    let again = stdout_of(&framescope(&[
        "export",
        session.to_str().unwrap(),
        "--format",
        "session",
        "--no-redact",
    ]));
    assert_eq!(again, text);
    for format in ["har", "otlp"] {
        assert_eq!(
            stdout_of(&framescope(&[
                "export",
                session.to_str().unwrap(),
                "--format",
                format
            ])),
            stdout_of(&framescope(&[
                "export",
                capture.to_str().unwrap(),
                "--format",
                format
            ])),
            "--format {format}"
        );
    }
}

#[test]
fn bad_input_gives_one_line_errors() {
    let missing = scratch("does-not-exist.ndjson");
    let output = framescope(&["export", missing.to_str().unwrap(), "--format", "har"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("framescope: cannot read") && stderr.contains("does-not-exist"),
        "{stderr}"
    );

    let broken = scratch("broken.ndjson");
    std::fs::write(
        &broken,
        "{\"type\":\"ws_error\",\"time_micros\":1}\n{\"type\":\n",
    )
    .unwrap();
    let output = framescope(&["export", broken.to_str().unwrap(), "--format", "session"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("broken.ndjson") && stderr.contains("line 2"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");

    let newer = scratch("newer.framescope.json");
    std::fs::write(
        &newer,
        "{\"format\":\"framescope-session\",\"version\":2,\"events\":[]}\n",
    )
    .unwrap();
    let output = framescope(&["export", newer.to_str().unwrap(), "--format", "har"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("version 2 is not supported") && stderr.contains("upgrade"),
        "{stderr}"
    );

    let capture = write_capture("endpoint-misuse.ndjson");
    let output = framescope(&[
        "export",
        capture.to_str().unwrap(),
        "--format",
        "har",
        "--endpoint",
        "http://127.0.0.1:4318",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("--endpoint only applies to --format otlp")
    );
}

/// `framescope analyze --json` of a file, without what names the file and the ids a HAR
/// import assigns itself (connection ids).
fn analysis_of(path: &Path) -> serde_json::Value {
    let text = stdout_of(&framescope(&["analyze", path.to_str().unwrap(), "--json"]));
    let mut analysis: serde_json::Value = serde_json::from_str(&text).unwrap();
    let members = analysis.as_object_mut().unwrap();
    members.remove("file");
    members.remove("format");
    members.remove("notes");
    members.remove("events");
    for call in members["calls"].as_array_mut().unwrap() {
        call.as_object_mut().unwrap().remove("connection_id");
    }
    analysis
}

#[test]
fn har_and_session_exports_analyse_like_the_capture() {
    // HAR has no standard place for EventSource messages or extension-observed preflights.
    let events: Vec<CaptureEvent> = capture_with_secrets()
        .into_iter()
        .filter(|event| !matches!(event.connection_id.as_str(), "sse-1" | "preflight-1"))
        .collect();
    let capture = scratch("analyse-like.ndjson");
    let text: String = events
        .iter()
        .map(|event| serde_json::to_string(event).unwrap() + "\n")
        .collect();
    std::fs::write(&capture, text).unwrap();
    let original = analysis_of(&capture);
    assert!(original["calls"].as_array().unwrap().len() >= 5);
    for (format, file) in [
        ("har", "analyse-like.har"),
        ("session", "analyse-like.framescope.json"),
    ] {
        let exported = scratch(file);
        for redaction in [&["--no-redact"][..], &[][..]] {
            let mut args = vec![
                "export",
                capture.to_str().unwrap(),
                "--format",
                format,
                "-o",
                exported.to_str().unwrap(),
            ];
            args.extend_from_slice(redaction);
            stdout_of(&framescope(&args));
            assert_eq!(
                analysis_of(&exported),
                original,
                "--format {format} {redaction:?}"
            );
        }
    }
}
