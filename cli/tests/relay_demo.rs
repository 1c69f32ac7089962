//! The relay and the demo backends of `framescope serve --demo`, driven over real loopback
//! sockets with a real WebSocket client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const BIN: &str = env!("CARGO_BIN_EXE_framescope");

struct Server {
    child: Child,
    port: u16,
    hook_url: String,
    cross_origin: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_demo() -> Server {
    let dist = std::env::temp_dir().join(format!("framescope-relay-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!DOCTYPE html><title>t</title>").unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--demo", "--dist"])
        .arg(&dist)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let port = first
        .trim()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let hook_line = lines.next().unwrap().unwrap();
    let hook_url = hook_line.split('"').nth(1).unwrap().to_string();
    let demo_line = lines.next().unwrap().unwrap();
    let cross_origin = demo_line
        .rsplit(": ")
        .next()
        .unwrap()
        .trim_end_matches(')')
        .to_string();
    Server {
        child,
        port,
        hook_url,
        cross_origin,
    }
}

/// One HTTP/1.1 exchange over a fresh connection; returns (status line + headers, body).
fn http(port: u16, request: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.to_ascii_lowercase(), body.to_string())
}

fn post(port: u16, path: &str, body: &str) -> (String, String) {
    http(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn token(server: &Server) -> String {
    server.hook_url.split("token=").nth(1).unwrap().to_string()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_text(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
}

#[tokio::test]
async fn hook_events_reach_dashboards_validated_and_unchanged() {
    let server = start_demo();
    assert!(
        server
            .hook_url
            .starts_with(&format!("http://127.0.0.1:{}/hook.js?token=", server.port))
    );
    let base = format!("ws://127.0.0.1:{}/__framescope/relay", server.port);
    let (mut dashboard, _) = tokio_tungstenite::connect_async(format!("{base}/dashboard"))
        .await
        .unwrap();
    let pages = next_text(&mut dashboard).await;
    assert_eq!(pages["type"], "pages");
    assert_eq!(pages["pages"], serde_json::json!([]));

    let (mut hook, _) =
        tokio_tungstenite::connect_async(format!("{base}/hook?token={}", token(&server)))
            .await
            .unwrap();
    let page = r#"{"v":1,"session_id":"s-1","connection_id":"page","time_micros":1,"type":"page","url":"http://127.0.0.1:1/app","title":"App","origin":"http://127.0.0.1:1","hook_version":"0.1.0"}"#;
    let message = r#"{"v":1,"session_id":"s-1","connection_id":"ws-2","time_micros":2,"type":"ws_message","direction":"sent","payload":{"encoding":"base64","data":"yv4BAQ==","size_bytes":4,"truncated":false},"extra_member":true}"#;
    let invalid = r#"{"v":1,"session_id":"s-1","connection_id":"ws-2","time_micros":"soon","type":"ws_error"}"#;
    hook.send(Message::text(format!("[{page},{message},{invalid}]")))
        .await
        .unwrap();
    let reply = next_text(&mut hook).await;
    assert_eq!(reply["type"], "error");
    assert!(
        reply["message"].as_str().unwrap().contains("event 2"),
        "{reply}"
    );

    // The connect and the page event each update the page list; then come the events.
    let mut events = None;
    let mut last_pages = Value::Null;
    while events.is_none() {
        let received = next_text(&mut dashboard).await;
        match received["type"].as_str() {
            Some("pages") => last_pages = received,
            Some("events") => events = Some(received),
            other => panic!("unexpected message type {other:?}"),
        }
    }
    let events = events.unwrap();
    let list = events["events"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[1]["extra_member"], true,
        "events are forwarded byte for byte"
    );
    assert_eq!(last_pages["pages"][0]["url"], "http://127.0.0.1:1/app");
    assert_eq!(last_pages["pages"][0]["events_rejected"], 1);

    hook.close(None).await.unwrap();
    loop {
        let received = next_text(&mut dashboard).await;
        if received["type"] == "pages" && received["pages"].as_array().unwrap().is_empty() {
            break;
        }
    }
}

#[tokio::test]
async fn relay_refuses_missing_tokens_and_foreign_origins() {
    let server = start_demo();
    let base = format!("ws://127.0.0.1:{}/__framescope/relay", server.port);
    let error = tokio_tungstenite::connect_async(format!("{base}/hook"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("401"), "{error}");
    let mut request = format!("{base}/dashboard").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    let error = tokio_tungstenite::connect_async(request).await.unwrap_err();
    assert!(error.to_string().contains("403"), "{error}");

    let (head, body) = http(
        server.port,
        &format!(
            "GET /__framescope/info HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            server.port
        ),
    );
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let info: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["demo"], true);
    assert_eq!(info["relay_token"], token(&server));
    assert_eq!(
        info["demo_endpoints"]["cors_ok"],
        format!("{}/rpc", server.cross_origin)
    );
    let (head, _) = http(
        server.port,
        "GET /__framescope/info HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n",
    );
    assert!(
        head.starts_with("http/1.1 403"),
        "DNS rebinding guard: {head}"
    );
}

#[test]
fn json_rpc_over_http_in_both_dialects() {
    let server = start_demo();
    let (head, body) = post(
        server.port,
        "/demo/rpc",
        r#"[{"jsonrpc":"2.0","method":"math.add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"log.write","params":["x"]},{"jsonrpc":"2.0","method":"inventory.reserve","params":{"sku":"A"},"id":2}]"#,
    );
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: application/json"));
    let batch: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(batch.as_array().unwrap().len(), 2);
    assert_eq!(batch[0]["result"], 3.0);
    assert_eq!(batch[1]["error"]["code"], -32010);
    let (head, body) = post(
        server.port,
        "/demo/rpc",
        r#"{"jsonrpc":"2.0","method":"log.write"}"#,
    );
    assert!(head.starts_with("http/1.1 204"), "{head}");
    assert_eq!(body, "");
    let (_, body) = post(
        server.port,
        "/demo/gorpc",
        r#"{"method":"Arith.Multiply","params":[{"A":7,"B":8}],"id":0}"#,
    );
    assert_eq!(body, r#"{"id":0,"result":56,"error":null}"#);
}

#[test]
fn second_origin_answers_preflights_correctly_and_like_go_net_rpc() {
    let server = start_demo();
    let cross_port: u16 = server
        .cross_origin
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(cross_port, server.port);
    let origin = format!("http://127.0.0.1:{}", server.port);
    let preflight = |path: &str| {
        http(
            cross_port,
            &format!(
                "OPTIONS {path} HTTP/1.1\r\nHost: 127.0.0.1:{cross_port}\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n"
            ),
        )
    };
    let (head, _) = preflight("/rpc");
    assert!(head.starts_with("http/1.1 204"), "{head}");
    assert!(
        head.contains(&format!("access-control-allow-origin: {origin}")),
        "{head}"
    );
    assert!(
        head.contains("access-control-allow-headers: content-type"),
        "{head}"
    );
    let (head, body) = preflight("/gorpc");
    assert!(head.starts_with("http/1.1 405"), "{head}");
    assert!(!head.contains("access-control-"), "{head}");
    assert_eq!(body, "405 must CONNECT\n");
}

/// Splits 0xCAFE frames out of `buffer`: (msg_type, req_id, payload).
fn take_frames(buffer: &mut Vec<u8>) -> Vec<(u8, u64, Vec<u8>)> {
    let mut frames = Vec::new();
    while buffer.len() >= 16 {
        assert_eq!(&buffer[..3], &[0xca, 0xfe, 1]);
        let len = u32::from_be_bytes(buffer[12..16].try_into().unwrap()) as usize;
        if buffer.len() < 16 + len {
            break;
        }
        let id = u64::from_be_bytes(buffer[4..12].try_into().unwrap());
        frames.push((buffer[3], id, buffer[16..16 + len].to_vec()));
        buffer.drain(..16 + len);
    }
    frames
}

fn cafe_request(id: u64, method: &str) -> Vec<u8> {
    // Request { string method = 1; repeated int64 values = 2 [packed] } with values [5, 6].
    let mut payload = vec![0x0a, method.len() as u8];
    payload.extend_from_slice(method.as_bytes());
    payload.extend_from_slice(&[0x12, 0x02, 0x05, 0x06]);
    let mut frame = vec![0xca, 0xfe, 1, 1];
    frame.extend_from_slice(&id.to_be_bytes());
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend(payload);
    frame
}

#[tokio::test]
async fn cafe_service_reassembles_requests_coalesces_replies_and_pushes() {
    let server = start_demo();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/demo/ws/cafe", server.port))
            .await
            .unwrap();
    // Two requests coalesced in one message, then one split inside its header.
    let mut coalesced = cafe_request(u64::MAX, "sum");
    coalesced.extend(cafe_request(7, "echo"));
    socket.send(Message::binary(coalesced)).await.unwrap();
    let split = cafe_request(8, "sum");
    socket
        .send(Message::binary(split[..5].to_vec()))
        .await
        .unwrap();
    socket
        .send(Message::binary(split[5..].to_vec()))
        .await
        .unwrap();
    let mut buffer = Vec::new();
    let mut responses = Vec::new();
    let mut pushes = 0;
    let mut messages = 0;
    while responses.len() < 3 || pushes == 0 {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("replies and a push within 10 s")
            .unwrap()
            .unwrap();
        if let Message::Binary(bytes) = message {
            messages += 1;
            buffer.extend_from_slice(&bytes);
            for (msg_type, id, payload) in take_frames(&mut buffer) {
                match msg_type {
                    0x02 => responses.push((id, payload)),
                    0x03 => pushes += 1,
                    other => panic!("unexpected message type {other}"),
                }
            }
        }
    }
    assert_eq!(
        responses.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        vec![u64::MAX, 7, 8]
    );
    // Response.result (field 1, varint) = 5 + 6.
    assert_eq!(&responses[0].1[..2], &[0x08, 11]);
    assert!(messages >= 2);
}

#[tokio::test]
async fn json_rpc_over_websocket_with_notifications() {
    let server = start_demo();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/demo/ws/jsonrpc", server.port))
            .await
            .unwrap();
    socket
        .send(Message::text(
            r#"{"jsonrpc":"2.0","method":"ticker.subscribe","params":{"symbol":"GO"},"id":1}"#,
        ))
        .await
        .unwrap();
    socket
        .send(Message::text(
            r#"{"jsonrpc":"2.0","method":"math.add","params":[2,2],"id":2}"#,
        ))
        .await
        .unwrap();
    let mut subscribed = false;
    let mut added = false;
    let mut updates = 0;
    while !(subscribed && added && updates >= 2) {
        let message = next_text(&mut socket).await;
        if message["id"] == 1 {
            subscribed = message["result"]["subscription"].is_u64();
        } else if message["id"] == 2 {
            added = message["result"] == 4.0;
        } else if message["method"] == "ticker.update" {
            assert_eq!(message["params"]["symbol"], "GO");
            updates += 1;
        }
    }
}

#[test]
fn server_sent_events_with_ids_names_and_retry() {
    let server = start_demo();
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /demo/sse HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nLast-Event-ID: 4\r\n\r\n",
        server.port
    )
    .unwrap();
    let mut received = String::new();
    let mut chunk = [0u8; 4096];
    while !received.contains("id: 6") {
        let read = stream.read(&mut chunk).unwrap();
        assert!(read > 0, "stream ended early: {received}");
        received.push_str(&String::from_utf8_lossy(&chunk[..read]));
    }
    assert!(
        received
            .to_ascii_lowercase()
            .contains("content-type: text/event-stream")
    );
    assert!(received.contains("retry: 1500"));
    assert!(
        received.contains("event: deploy\ndata: {\"service\":\"worker\""),
        "{received}"
    );
    assert!(
        received.contains("id: 5"),
        "resumed after Last-Event-ID 4: {received}"
    );
}
