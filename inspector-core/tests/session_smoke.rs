#![allow(clippy::unwrap_used, clippy::expect_used)]
use inspector_core::event::parse_ndjson;
use inspector_core::session::{Session, SessionConfig};

#[test]
fn http_jsonrpc_and_ws_cafe_smoke() {
    let text = r#"
{"session_id":"p","connection_id":"h1","time_micros":1000,"type":"http_request","api":"fetch","method":"POST","url":"http://x/rpc","headers":[["Content-Type","application/json"]],"body":{"encoding":"text","data":"{\"jsonrpc\":\"2.0\",\"method\":\"User.Get\",\"params\":{\"id\":1},\"id\":12345678901234567891}"}}
{"session_id":"p","connection_id":"h1","time_micros":3500,"type":"http_response","status":200,"body":{"encoding":"text","data":"{\"jsonrpc\":\"2.0\",\"result\":{\"name\":\"a\"},\"id\":12345678901234567891}"}}
{"session_id":"p","connection_id":"w1","time_micros":4000,"type":"ws_connect","url":"ws://x/bridge"}
{"session_id":"p","connection_id":"w1","time_micros":5000,"type":"ws_message","direction":"sent","payload":{"encoding":"base64","data":"yv4BAQAAAAAAAAAqAAAACgoIVXNlci5HZXQ="}}
{"session_id":"p","connection_id":"w1","time_micros":9000,"type":"ws_message","direction":"received","payload":{"encoding":"base64","data":"yv4BAgAAAAAAAAAqAAAAAA=="}}
"#;
    let events = parse_ndjson(text).unwrap();
    let mut session = Session::new(SessionConfig::default());
    session.ingest_all(&events);
    let calls: Vec<_> = session.calls().collect();
    for call in &calls {
        eprintln!("{call:?}");
    }
    for frame in session.frames() {
        eprintln!("{frame:?}");
    }
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].request_id.as_deref(), Some("12345678901234567891"));
    assert_eq!(calls[0].latency_micros, Some(2500));
    assert_eq!(calls[1].method, "User.Get");
    assert_eq!(calls[1].latency_micros, Some(4000));
}
