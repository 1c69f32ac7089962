//! JSON-RPC 2.0 and 1.0 decoding: named table cases (the specification's examples and Go's
//! `net/rpc/jsonrpc` shapes), and the stream decoder's prefix and byte-at-a-time properties.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use inspector_core::decode::jsonrpc::{
    INVALID_REQUEST_CODE, JsonRpcDecoder, JsonRpcPayload, JsonRpcVersion, MessageKind,
    PARSE_ERROR_CODE, parse_payload,
};

/// What a message decodes to, in a form that is easy to write in a table.
#[derive(Debug, PartialEq)]
struct Row {
    version: JsonRpcVersion,
    kind: MessageKind,
    method: Option<String>,
    id: Option<String>,
    error_code: Option<i64>,
    error_message: Option<String>,
}

fn rows(input: &str) -> Result<Vec<Row>, i64> {
    match parse_payload(input.as_bytes()) {
        JsonRpcPayload::ParseError(_) => Err(PARSE_ERROR_CODE),
        payload => Ok(payload
            .messages()
            .iter()
            .map(|message| Row {
                version: message.version,
                kind: message.kind,
                method: message.method.as_deref().map(str::to_owned),
                id: message.id_text().map(str::to_owned),
                error_code: message.error_code(),
                error_message: message
                    .error
                    .as_ref()
                    .map(|error| error.message.to_string()),
            })
            .collect()),
    }
}

fn row(
    version: JsonRpcVersion,
    kind: MessageKind,
    method: Option<&str>,
    id: Option<&str>,
    error_code: Option<i64>,
    error_message: Option<&str>,
) -> Row {
    Row {
        version,
        kind,
        method: method.map(str::to_owned),
        id: id.map(str::to_owned),
        error_code,
        error_message: error_message.map(str::to_owned),
    }
}

use JsonRpcVersion::{V1, V2};
use MessageKind::{Invalid, Notification, Request, Response};

#[test]
fn table_of_named_cases() {
    type Case = (&'static str, &'static str, Result<Vec<Row>, i64>);
    let cases: Vec<Case> = vec![
        (
            "spec: positional params",
            r#"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#,
            Ok(vec![row(
                V2,
                Request,
                Some("subtract"),
                Some("1"),
                None,
                None,
            )]),
        ),
        (
            "spec: named params",
            r#"{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}"#,
            Ok(vec![row(
                V2,
                Request,
                Some("subtract"),
                Some("3"),
                None,
                None,
            )]),
        ),
        (
            "spec: success response",
            r#"{"jsonrpc": "2.0", "result": 19, "id": 1}"#,
            Ok(vec![row(V2, Response, None, Some("1"), None, None)]),
        ),
        (
            "spec: notification",
            r#"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#,
            Ok(vec![row(
                V2,
                Notification,
                Some("update"),
                None,
                None,
                None,
            )]),
        ),
        (
            "spec: method not found",
            r#"{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}"#,
            Ok(vec![row(
                V2,
                Response,
                None,
                Some("\"1\""),
                Some(-32601),
                Some("Method not found"),
            )]),
        ),
        (
            "spec: invalid JSON",
            r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#,
            Err(PARSE_ERROR_CODE),
        ),
        (
            "spec: invalid request object (method not a string)",
            r#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#,
            Ok(vec![row(
                V2,
                Invalid,
                None,
                None,
                Some(INVALID_REQUEST_CODE),
                None,
            )]),
        ),
        (
            "spec: batch, invalid JSON",
            r#"[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method""#,
            Err(PARSE_ERROR_CODE),
        ),
        (
            "spec: empty batch",
            "[]",
            Ok(vec![row(
                V2,
                Invalid,
                None,
                None,
                Some(INVALID_REQUEST_CODE),
                None,
            )]),
        ),
        (
            "spec: invalid batch of one",
            "[1]",
            Ok(vec![row(
                V2,
                Invalid,
                None,
                None,
                Some(INVALID_REQUEST_CODE),
                None,
            )]),
        ),
        (
            "spec: invalid batch of three",
            "[1,2,3]",
            Ok(vec![
                row(V2, Invalid, None, None, Some(INVALID_REQUEST_CODE), None),
                row(V2, Invalid, None, None, Some(INVALID_REQUEST_CODE), None),
                row(V2, Invalid, None, None, Some(INVALID_REQUEST_CODE), None),
            ]),
        ),
        (
            "spec: mixed batch",
            r#"[
                {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
                {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
                {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
                {"foo": "boo"},
                {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
                {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
            ]"#,
            Ok(vec![
                row(V2, Request, Some("sum"), Some("\"1\""), None, None),
                row(V2, Notification, Some("notify_hello"), None, None, None),
                row(V2, Request, Some("subtract"), Some("\"2\""), None, None),
                row(V1, Invalid, None, None, Some(INVALID_REQUEST_CODE), None),
                row(V2, Request, Some("foo.get"), Some("\"5\""), None, None),
                row(V2, Request, Some("get_data"), Some("\"9\""), None, None),
            ]),
        ),
        (
            "spec: batch of notifications only",
            r#"[{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},{"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]"#,
            Ok(vec![
                row(V2, Notification, Some("notify_sum"), None, None, None),
                row(V2, Notification, Some("notify_hello"), None, None, None),
            ]),
        ),
        (
            "null id is a request, not a notification (2.0)",
            r#"{"jsonrpc":"2.0","method":"a","id":null}"#,
            Ok(vec![row(V2, Request, Some("a"), Some("null"), None, None)]),
        ),
        (
            "integer id beyond 2^53 kept exactly",
            r#"{"jsonrpc":"2.0","method":"a","id":18446744073709551615}"#,
            Ok(vec![row(
                V2,
                Request,
                Some("a"),
                Some("18446744073709551615"),
                None,
                None,
            )]),
        ),
        (
            "id beyond u64 kept exactly",
            r#"{"jsonrpc":"2.0","result":1,"id":123456789012345678901234567890}"#,
            Ok(vec![row(
                V2,
                Response,
                None,
                Some("123456789012345678901234567890"),
                None,
                None,
            )]),
        ),
        (
            "boolean id is invalid",
            r#"{"jsonrpc":"2.0","method":"a","id":true}"#,
            Ok(vec![row(
                V2,
                Invalid,
                Some("a"),
                Some("true"),
                Some(INVALID_REQUEST_CODE),
                None,
            )]),
        ),
        (
            "wrong version is invalid",
            r#"{"jsonrpc":"1.0","method":"a","id":1}"#,
            Ok(vec![row(
                V2,
                Invalid,
                Some("a"),
                Some("1"),
                Some(INVALID_REQUEST_CODE),
                None,
            )]),
        ),
        (
            "scalar params are invalid",
            r#"{"jsonrpc":"2.0","method":"a","params":3,"id":1}"#,
            Ok(vec![row(
                V2,
                Invalid,
                Some("a"),
                Some("1"),
                Some(INVALID_REQUEST_CODE),
                None,
            )]),
        ),
        (
            "escaped method name is decoded",
            r#"{"jsonrpc":"2.0","method":"User\u002eGet","id":1}"#,
            Ok(vec![row(
                V2,
                Request,
                Some("User.Get"),
                Some("1"),
                None,
                None,
            )]),
        ),
        (
            "response with result and error is invalid (no code: spec assigns none)",
            r#"{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"x"},"id":1}"#,
            Ok(vec![row(V2, Invalid, None, Some("1"), None, Some("x"))]),
        ),
        (
            "error without integer code is invalid",
            r#"{"jsonrpc":"2.0","error":{"code":"x","message":"y"},"id":1}"#,
            Ok(vec![row(V2, Invalid, None, Some("1"), None, None)]),
        ),
        (
            "scalar payload is an invalid request",
            "42",
            Ok(vec![row(
                V2,
                Invalid,
                None,
                None,
                Some(INVALID_REQUEST_CODE),
                None,
            )]),
        ),
        ("empty payload is a parse error", "", Err(PARSE_ERROR_CODE)),
        (
            "Go 1.0 request",
            r#"{"method":"Arith.Multiply","params":[{"A":7,"B":8}],"id":0}"#,
            Ok(vec![row(
                V1,
                Request,
                Some("Arith.Multiply"),
                Some("0"),
                None,
                None,
            )]),
        ),
        (
            "Go 1.0 success response",
            r#"{"id":0,"result":56,"error":null}"#,
            Ok(vec![row(V1, Response, None, Some("0"), None, None)]),
        ),
        (
            "Go 1.0 error response",
            r#"{"id":1,"result":null,"error":"divide by zero"}"#,
            Ok(vec![row(
                V1,
                Response,
                None,
                Some("1"),
                None,
                Some("divide by zero"),
            )]),
        ),
        (
            "Go 1.0 notification (null id)",
            r#"{"method":"Log.Write","params":["x"],"id":null}"#,
            Ok(vec![row(
                V1,
                Notification,
                Some("Log.Write"),
                Some("null"),
                None,
                None,
            )]),
        ),
        (
            "1.0 params object is invalid",
            r#"{"method":"Arith.Multiply","params":{"A":7},"id":0}"#,
            Ok(vec![row(
                V1,
                Invalid,
                Some("Arith.Multiply"),
                Some("0"),
                Some(INVALID_REQUEST_CODE),
                None,
            )]),
        ),
    ];
    let mut failures = Vec::new();
    for (name, input, expected) in cases {
        let got = rows(input);
        if got != expected {
            failures.push(format!(
                "{name}:\n  got      {got:?}\n  expected {expected:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unknown_members_are_kept_with_their_text() {
    let payload =
        parse_payload(br#"{"jsonrpc":"2.0","method":"a","id":1,"trace":{"span":"x"},"id2":5}"#);
    let message = &payload.messages()[0];
    let unknown: Vec<(String, String)> = message
        .unknown_members
        .iter()
        .map(|(name, value)| (name.to_string(), value.get().to_owned()))
        .collect();
    assert_eq!(
        unknown,
        vec![
            ("trace".to_owned(), r#"{"span":"x"}"#.to_owned()),
            ("id2".to_owned(), "5".to_owned())
        ]
    );
}

#[test]
fn batch_elements_keep_their_exact_text() {
    let input =
        br#"[ {"jsonrpc":"2.0","method":"a","id":1} , {"jsonrpc":"2.0","result":[1, 2],"id":2} ]"#;
    let payload = parse_payload(input);
    let raws: Vec<&str> = payload
        .messages()
        .iter()
        .map(|message| message.raw)
        .collect();
    assert_eq!(
        raws,
        vec![
            r#"{"jsonrpc":"2.0","method":"a","id":1}"#,
            r#"{"jsonrpc":"2.0","result":[1, 2],"id":2}"#
        ]
    );
    assert_eq!(payload.messages()[1].result.unwrap().get(), "[1, 2]");
}

#[test]
fn parse_error_reports_position_and_truncation() {
    let JsonRpcPayload::ParseError(failure) = parse_payload(br#"{"jsonrpc":"2.0","me"#) else {
        panic!("expected a parse error");
    };
    assert!(failure.unexpected_end);
    assert_eq!(failure.line, 1);
    assert!(failure.column >= 20, "{failure:?}");
    let JsonRpcPayload::ParseError(failure) = parse_payload(b"{\"a\":\n x}") else {
        panic!("expected a parse error");
    };
    assert!(!failure.unexpected_end);
    assert_eq!(failure.line, 2);
}

const STREAM: &str = concat!(
    r#"{"method":"Arith.Multiply","params":[{"A":7,"B":8}],"id":0}"#,
    "\n",
    r#"{"id":0,"result":56,"error":null}"#,
    "\n",
    r#"[{"jsonrpc":"2.0","method":"x\"}{[","id":"}"}]"#,
    "  ",
    r#"{"jsonrpc":"2.0","result":{"nested":{"deep":[1,{"a":"\\"}]}},"id":"}"}"#,
    "\n"
);

fn stream_values(decoder: &mut JsonRpcDecoder) -> Vec<Vec<u8>> {
    let mut values = Vec::new();
    while let Some(value) = decoder.next_frame().unwrap() {
        values.push(value.to_vec());
    }
    values
}

#[test]
fn stream_decoder_splits_concatenated_values() {
    let mut decoder = JsonRpcDecoder::new();
    decoder.push(STREAM.as_bytes());
    let values = stream_values(&mut decoder);
    assert_eq!(values.len(), 4);
    for value in &values {
        assert!(!matches!(
            parse_payload(value),
            JsonRpcPayload::ParseError(_)
        ));
    }
    assert_eq!(decoder.finish(), None);
}

#[test]
fn every_prefix_of_a_value_is_incomplete() {
    let value = r#"{"jsonrpc":"2.0","method":"x\"}","params":[{"a":"}]"}],"id":1}"#;
    for end in 0..value.len() {
        let mut decoder = JsonRpcDecoder::new();
        decoder.push(&value.as_bytes()[..end]);
        assert_eq!(decoder.next_frame().unwrap(), None, "prefix of {end} bytes");
        assert_eq!(
            decoder.buffered_len(),
            end - value.as_bytes()[..end]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count()
        );
    }
}

#[test]
fn one_byte_at_a_time_equals_all_at_once() {
    let mut whole = JsonRpcDecoder::new();
    whole.push(STREAM.as_bytes());
    let expected = stream_values(&mut whole);
    let mut bytewise = JsonRpcDecoder::new();
    let mut got = Vec::new();
    for byte in STREAM.as_bytes() {
        bytewise.push(std::slice::from_ref(byte));
        got.extend(stream_values(&mut bytewise));
    }
    assert_eq!(got, expected);
}

#[test]
fn junk_between_values_is_reported_once_however_split() {
    let input = b"{\"id\":1,\"result\":2}garbage!{\"id\":2,\"result\":3}";
    for chunk in [1, 3, input.len()] {
        let mut decoder = JsonRpcDecoder::new();
        let mut values = 0;
        let mut errors = Vec::new();
        for piece in input.chunks(chunk) {
            decoder.push(piece);
            loop {
                match decoder.next_frame() {
                    Ok(Some(_)) => values += 1,
                    Ok(None) => break,
                    Err(error) => errors.push(error),
                }
            }
        }
        assert_eq!(values, 2, "chunk {chunk}");
        assert_eq!(errors.len(), 1, "chunk {chunk}");
        assert_eq!(errors[0].skipped, b"garbage!");
        assert_eq!(errors[0].stream_offset, 19);
    }
}

#[test]
fn unfinished_value_is_returned_at_finish() {
    let mut decoder = JsonRpcDecoder::new();
    decoder.push(b"{\"id\":1,\"result\":2} {\"id\":");
    assert_eq!(stream_values(&mut decoder).len(), 1);
    let error = decoder.finish().unwrap();
    assert_eq!(error.skipped, b"{\"id\":");
    assert_eq!(error.stream_offset, 20);
}

#[test]
fn truncated_objects_keep_their_complete_top_level_members() {
    use inspector_core::decode::jsonrpc::scan_truncated;
    let found =
        scan_truncated(br#"{"jsonrpc":"2.0","method":"Upload","params":{"id":99,"data":"aaaa"#)
            .unwrap();
    assert_eq!(found.method.as_deref(), Some("Upload"));
    assert_eq!(found.id, None, "the id inside params is not the message id");
    assert!(found.looks_like_jsonrpc());
    let found = scan_truncated(br#"{"id":"a\"b","result":{"rows":[1,2"#).unwrap();
    assert_eq!(found.id.as_deref(), Some(r#""a\"b""#));
    assert!(found.has_result && !found.has_error);
    let found = scan_truncated(br#"{"id":12345678901234567890,"error":{"code":-1,"mess"#).unwrap();
    assert_eq!(found.id.as_deref(), Some("12345678901234567890"));
    assert!(found.has_error);
    // An id cut in the middle is not guessed.
    assert_eq!(
        scan_truncated(br#"{"method":"a","id":12"#).unwrap().id,
        None
    );
    assert_eq!(scan_truncated(b"[1,2"), None);
    for end in 0..60 {
        let text = br#"{"jsonrpc":"2.0","method":"M\u00e9","params":[{"x":"}"}],"id":7}"#;
        let _ = scan_truncated(&text[..end.min(text.len())]);
    }
}

#[test]
fn invalid_utf8_is_a_parse_error_with_its_position() {
    let JsonRpcPayload::ParseError(failure) = parse_payload(b"{\"method\":\n\"a\xff\"}") else {
        panic!("expected a parse error");
    };
    assert_eq!((failure.line, failure.column), (2, 3));
    assert!(failure.message.contains("UTF-8"), "{}", failure.message);
}
