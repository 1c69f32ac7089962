//! JSON-RPC 2.0 (per the specification) and JSON-RPC 1.0 as Go's `net/rpc/jsonrpc` writes it.
//!
//! Data enters as the bytes of one message (an HTTP body, a WebSocket text message) through
//! [`parse_payload`], or as a byte stream of concatenated JSON values (Go's codec over a
//! stream) through the push decoder [`JsonRpcDecoder`]. It leaves as [`JsonRpcMessage`]s that
//! borrow from the input: ids, params, results and unknown members are kept as their exact
//! JSON text ([`RawValue`]), so integer ids beyond 2^53 survive unchanged.
//!
//! Nothing here rejects input: invalid JSON becomes [`JsonRpcPayload::ParseError`] (the
//! spec's -32700) and an invalid request object becomes a message of kind
//! [`MessageKind::Invalid`] whose [`Violation`] carries the spec's -32600.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The spec's error code for invalid JSON.
pub const PARSE_ERROR_CODE: i64 = -32700;
/// The spec's error code for a JSON value that is not a valid request object.
pub const INVALID_REQUEST_CODE: i64 = -32600;

/// Which JSON-RPC dialect a message is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonRpcVersion {
    /// JSON-RPC 1.0 (no `jsonrpc` member), as Go's `net/rpc/jsonrpc` speaks it.
    V1,
    /// JSON-RPC 2.0 (`"jsonrpc": "2.0"`).
    V2,
}

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A request that expects a response (has an id; for 1.0 a non-null id).
    Request,
    /// A request without an id (2.0) or with a null id (1.0).
    Notification,
    /// A success or error response.
    Response,
    /// Not a valid request or response object; see [`JsonRpcMessage::violation`].
    Invalid,
}

/// Why a message is not valid JSON-RPC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// The element of a batch (or the payload) is valid JSON but not an object.
    #[error("not a JSON object")]
    NotAnObject,
    /// A batch with no elements.
    #[error("empty batch")]
    EmptyBatch,
    /// `jsonrpc` present but not exactly `"2.0"`.
    #[error("`jsonrpc` must be \"2.0\", found {found}")]
    BadVersion {
        /// The member's JSON text.
        found: String,
    },
    /// Neither `method` nor `result`/`error`.
    #[error("no `method`, `result` or `error` member")]
    MissingMethod,
    /// `method` is not a string.
    #[error("`method` must be a string, found {found}")]
    MethodNotString {
        /// The member's JSON text.
        found: String,
    },
    /// `params` is not an array or object.
    #[error("`params` must be an array or an object, found {found}")]
    ParamsNotStructured {
        /// The member's JSON text.
        found: String,
    },
    /// JSON-RPC 1.0 `params` that is not an array.
    #[error("JSON-RPC 1.0 `params` must be an array, found {found}")]
    ParamsNotArray {
        /// The member's JSON text.
        found: String,
    },
    /// `id` is not a string, number or null.
    #[error("`id` must be a string, a number or null, found {found}")]
    BadIdType {
        /// The member's JSON text.
        found: String,
    },
    /// A 2.0 response with both `result` and `error`.
    #[error("response has both `result` and `error`")]
    ResultAndError,
    /// A 2.0 response without `id`.
    #[error("response has no `id`")]
    ResponseWithoutId,
    /// A 2.0 `error` member that is not an object with an integer `code` and string `message`.
    #[error("`error` must be an object with an integer `code` and a string `message`")]
    BadErrorObject,
}

impl Violation {
    /// The error code the specification assigns, if any: -32600 for invalid request objects.
    /// Invalid responses have no code in the specification.
    pub fn code(&self, kind_if_valid: MessageKind) -> Option<i64> {
        match kind_if_valid {
            MessageKind::Response => None,
            _ => Some(INVALID_REQUEST_CODE),
        }
    }
}

/// The `error` member of a response.
#[derive(Debug, Clone)]
pub struct JsonRpcError<'a> {
    /// `code` (2.0, or a 1.0 error object that has one).
    pub code: Option<i64>,
    /// `message` (2.0), or the error string (1.0).
    pub message: Cow<'a, str>,
    /// `data`, as JSON text.
    pub data: Option<&'a RawValue>,
}

/// One JSON-RPC message (one object, or one element of a batch).
#[derive(Debug, Clone)]
pub struct JsonRpcMessage<'a> {
    /// Dialect.
    pub version: JsonRpcVersion,
    /// Request, notification, response or invalid.
    pub kind: MessageKind,
    /// For invalid messages: what they would have been (request or response), used to pick
    /// the error code and to correlate.
    pub intended: MessageKind,
    /// `method`, when it is a string.
    pub method: Option<Cow<'a, str>>,
    /// `id` as exact JSON text (`7`, `"abc"`, `null`, `12345678901234567890`).
    pub id: Option<&'a RawValue>,
    /// `params` as JSON text.
    pub params: Option<&'a RawValue>,
    /// `result` as JSON text (for 1.0 also when null).
    pub result: Option<&'a RawValue>,
    /// The error of an error response.
    pub error: Option<JsonRpcError<'a>>,
    /// Why the message is invalid, when it is.
    pub violation: Option<Violation>,
    /// Members the specification does not define, kept with their JSON text.
    pub unknown_members: Vec<(Cow<'a, str>, &'a RawValue)>,
    /// The message's JSON text.
    pub raw: &'a str,
}

impl JsonRpcMessage<'_> {
    /// The id's JSON text, if the message has one.
    pub fn id_text(&self) -> Option<&str> {
        self.id.map(RawValue::get)
    }

    /// The error code to show for this message: the spec's -32600 for an invalid request,
    /// or the response's error code.
    pub fn error_code(&self) -> Option<i64> {
        match &self.violation {
            Some(violation) => violation.code(self.intended),
            None => self.error.as_ref().and_then(|error| error.code),
        }
    }
}

/// A whole payload: one message, a batch, or JSON that could not be parsed.
#[derive(Debug, Clone)]
pub enum JsonRpcPayload<'a> {
    /// A single object (or a single non-object value, which is an invalid message).
    Single(JsonRpcMessage<'a>),
    /// A batch; an empty batch holds one invalid message ([`Violation::EmptyBatch`]).
    Batch(Vec<JsonRpcMessage<'a>>),
    /// Not valid JSON (the spec's -32700).
    ParseError(ParseFailure),
}

impl<'a> JsonRpcPayload<'a> {
    /// The messages of the payload (none for a parse error).
    pub fn messages(&self) -> &[JsonRpcMessage<'a>] {
        match self {
            JsonRpcPayload::Single(message) => std::slice::from_ref(message),
            JsonRpcPayload::Batch(messages) => messages,
            JsonRpcPayload::ParseError(_) => &[],
        }
    }

    /// True when at least one message has the shape of JSON-RPC (a `jsonrpc` member, a
    /// string `method`, or an `id` with `result`/`error`). Used for protocol detection.
    pub fn looks_like_jsonrpc(&self) -> bool {
        self.messages().iter().any(|message| {
            message.version == JsonRpcVersion::V2
                || message.method.is_some()
                || (message.id.is_some() && (message.result.is_some() || message.error.is_some()))
        })
    }
}

/// Invalid JSON, with where the parser stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parse error ({PARSE_ERROR_CODE}) at line {line}, column {column}: {message}")]
pub struct ParseFailure {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The parser's message.
    pub message: String,
    /// True when the input ended early (a prefix of valid JSON).
    pub unexpected_end: bool,
}

impl From<serde_json::Error> for ParseFailure {
    fn from(error: serde_json::Error) -> Self {
        ParseFailure {
            line: error.line(),
            column: error.column(),
            unexpected_end: error.is_eof(),
            message: error.to_string(),
        }
    }
}

/// Parses one payload (an HTTP body, a WebSocket message) as JSON-RPC.
pub fn parse_payload(bytes: &[u8]) -> JsonRpcPayload<'_> {
    // Validate UTF-8 once: serde_json's slice reader would re-validate every raw member.
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => return JsonRpcPayload::ParseError(utf8_failure(bytes, &error)),
    };
    let first = bytes
        .iter()
        .copied()
        .find(|byte| !byte.is_ascii_whitespace());
    match first {
        Some(b'{') => match serde_json::from_str::<Members<'_>>(text) {
            Ok(members) => JsonRpcPayload::Single(classify(members, text.trim())),
            Err(error) => JsonRpcPayload::ParseError(error.into()),
        },
        Some(b'[') => match serde_json::from_str::<Vec<&RawValue>>(text) {
            Ok(elements) if elements.is_empty() => {
                JsonRpcPayload::Batch(vec![invalid(text.trim(), Violation::EmptyBatch)])
            }
            Ok(elements) => {
                JsonRpcPayload::Batch(elements.into_iter().map(parse_element).collect())
            }
            Err(error) => JsonRpcPayload::ParseError(error.into()),
        },
        _ => match serde_json::from_str::<&RawValue>(text) {
            Ok(raw) => JsonRpcPayload::Single(invalid(raw.get(), Violation::NotAnObject)),
            Err(error) => JsonRpcPayload::ParseError(error.into()),
        },
    }
}

fn utf8_failure(bytes: &[u8], error: &std::str::Utf8Error) -> ParseFailure {
    let before = &bytes[..error.valid_up_to()];
    let line_start = before
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |index| index + 1);
    ParseFailure {
        line: before.iter().filter(|byte| **byte == b'\n').count() + 1,
        column: before.len() - line_start + 1,
        message: format!("invalid UTF-8 at byte {}", error.valid_up_to()),
        unexpected_end: error.error_len().is_none(),
    }
}

fn parse_element(raw: &RawValue) -> JsonRpcMessage<'_> {
    let text = raw.get();
    if !text.starts_with('{') {
        return invalid(text, Violation::NotAnObject);
    }
    match serde_json::from_str::<Members<'_>>(text) {
        Ok(members) => classify(members, text),
        // Cannot happen for a value serde_json already validated, but never panic.
        Err(_) => invalid(text, Violation::NotAnObject),
    }
}

fn invalid(raw: &str, violation: Violation) -> JsonRpcMessage<'_> {
    JsonRpcMessage {
        version: JsonRpcVersion::V2,
        kind: MessageKind::Invalid,
        intended: MessageKind::Request,
        method: None,
        id: None,
        params: None,
        result: None,
        error: None,
        violation: Some(violation),
        unknown_members: Vec::new(),
        raw,
    }
}

fn classify<'a>(members: Members<'a>, raw: &'a str) -> JsonRpcMessage<'a> {
    let version = if members.jsonrpc.is_some() {
        JsonRpcVersion::V2
    } else {
        JsonRpcVersion::V1
    };
    let is_response =
        members.method.is_none() && (members.result.is_some() || members.error.is_some());
    let mut violation = None;
    if let Some(jsonrpc) = members.jsonrpc
        && jsonrpc.get() != "\"2.0\""
        && parse_str(jsonrpc).as_deref() != Some("2.0")
    {
        violation = Some(Violation::BadVersion {
            found: jsonrpc.get().to_owned(),
        });
    }
    let mut method = None;
    let mut error = None;
    let intended;
    if is_response {
        intended = MessageKind::Response;
        if version == JsonRpcVersion::V2 {
            if members.result.is_some() && members.error.is_some() {
                violation.get_or_insert(Violation::ResultAndError);
            }
            if members.id.is_none() {
                violation.get_or_insert(Violation::ResponseWithoutId);
            }
            if let Some(raw_error) = members.error {
                match parse_error_object(raw_error) {
                    Some(parsed) => error = Some(parsed),
                    None => {
                        violation.get_or_insert(Violation::BadErrorObject);
                    }
                }
            }
        } else if let Some(raw_error) = members.error
            && raw_error.get() != "null"
        {
            // Go writes the error as a string; accept an object with code/message too.
            error = Some(
                parse_str(raw_error)
                    .map(|message| JsonRpcError {
                        code: None,
                        message,
                        data: None,
                    })
                    .or_else(|| parse_error_object(raw_error))
                    .unwrap_or(JsonRpcError {
                        code: None,
                        message: Cow::Borrowed(raw_error.get()),
                        data: None,
                    }),
            );
        }
    } else {
        match members.method {
            None => {
                violation.get_or_insert(Violation::MissingMethod);
                intended = MessageKind::Request;
            }
            Some(raw_method) => {
                method = parse_str(raw_method);
                if method.is_none() {
                    violation.get_or_insert(Violation::MethodNotString {
                        found: raw_method.get().to_owned(),
                    });
                }
                intended = match (version, members.id.map(RawValue::get)) {
                    (JsonRpcVersion::V2, None) => MessageKind::Notification,
                    (JsonRpcVersion::V1, None | Some("null")) => MessageKind::Notification,
                    _ => MessageKind::Request,
                };
            }
        }
        if let Some(params) = members.params {
            let text = params.get();
            let structured = text.starts_with('[') || text.starts_with('{');
            if !structured {
                violation.get_or_insert(Violation::ParamsNotStructured {
                    found: text.to_owned(),
                });
            } else if version == JsonRpcVersion::V1 && !text.starts_with('[') {
                violation.get_or_insert(Violation::ParamsNotArray {
                    found: text.to_owned(),
                });
            }
        }
    }
    if let Some(id) = members.id
        && !valid_id(id.get())
    {
        violation.get_or_insert(Violation::BadIdType {
            found: id.get().to_owned(),
        });
    }
    let kind = if violation.is_some() {
        MessageKind::Invalid
    } else {
        intended
    };
    JsonRpcMessage {
        version,
        kind,
        intended,
        method,
        id: members.id,
        params: members.params,
        result: members.result,
        error,
        violation,
        unknown_members: members.unknown,
        raw,
    }
}

fn valid_id(text: &str) -> bool {
    matches!(text.as_bytes().first(), Some(b'"' | b'-' | b'0'..=b'9')) || text == "null"
}

fn parse_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    if !raw.get().starts_with('"') {
        return None;
    }
    serde_json::from_str::<CowStr<'_>>(raw.get())
        .ok()
        .map(|value| value.0)
}

fn parse_error_object(raw: &RawValue) -> Option<JsonRpcError<'_>> {
    #[derive(serde::Deserialize)]
    struct ErrorObject<'a> {
        #[serde(borrow)]
        code: Option<&'a RawValue>,
        #[serde(borrow)]
        message: Option<&'a RawValue>,
        #[serde(borrow)]
        data: Option<&'a RawValue>,
    }
    if !raw.get().starts_with('{') {
        return None;
    }
    let object: ErrorObject<'_> = serde_json::from_str(raw.get()).ok()?;
    let code = object.code?.get().parse::<i64>().ok()?;
    let message = parse_str(object.message?)?;
    Some(JsonRpcError {
        code: Some(code),
        message,
        data: object.data,
    })
}

/// A string that borrows from the input when it has no escapes.
struct CowStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CowStrVisitor;
        impl<'de> Visitor<'de> for CowStrVisitor {
            type Value = CowStr<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(value)))
            }
            fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(value.to_owned())))
            }
            fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(value)))
            }
        }
        deserializer.deserialize_str(CowStrVisitor)
    }
}

/// The members of one object, each kept as JSON text.
#[derive(Default)]
struct Members<'a> {
    jsonrpc: Option<&'a RawValue>,
    method: Option<&'a RawValue>,
    params: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
    result: Option<&'a RawValue>,
    error: Option<&'a RawValue>,
    unknown: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Members::default();
                while let Some(CowStr(key)) = map.next_key::<CowStr<'de>>()? {
                    let value: &'de RawValue = map.next_value()?;
                    let slot = match key.as_ref() {
                        "jsonrpc" => &mut members.jsonrpc,
                        "method" => &mut members.method,
                        "params" => &mut members.params,
                        "id" => &mut members.id,
                        "result" => &mut members.result,
                        "error" => &mut members.error,
                        _ => {
                            members.unknown.push((key, value));
                            continue;
                        }
                    };
                    // A repeated member: keep the first, show the repeat as unknown.
                    if slot.is_some() {
                        members.unknown.push((key, value));
                    } else {
                        *slot = Some(value);
                    }
                }
                Ok(members)
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// What can still be read from the start of a JSON-RPC object whose end was cut off (a body
/// truncated by the capture): top-level members seen completely before the cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TruncatedMessage {
    /// `method`, if its string was complete.
    pub method: Option<String>,
    /// `id` as JSON text, if complete.
    pub id: Option<String>,
    /// A top-level `jsonrpc` member was seen.
    pub has_version: bool,
    /// A top-level `result` member started.
    pub has_result: bool,
    /// A top-level `error` member started.
    pub has_error: bool,
}

impl TruncatedMessage {
    /// True when the prefix has the shape of JSON-RPC.
    pub fn looks_like_jsonrpc(&self) -> bool {
        self.has_version
            || self.method.is_some()
            || (self.id.is_some() && (self.has_result || self.has_error))
    }
}

/// Reads the top-level members of a cut-off JSON object (see [`TruncatedMessage`]). Returns
/// `None` when the bytes do not start with `{`.
pub fn scan_truncated(bytes: &[u8]) -> Option<TruncatedMessage> {
    let start = bytes.iter().position(|byte| !byte.is_ascii_whitespace())?;
    if bytes[start] != b'{' {
        return None;
    }
    let mut found = TruncatedMessage::default();
    let mut index = start + 1;
    let mut depth = 1usize;
    // At depth 1 the scanner alternates: key, colon, value, comma.
    let mut expecting_key = true;
    let mut current_key: Option<&[u8]> = None;
    while index < bytes.len() && depth > 0 {
        let byte = bytes[index];
        match byte {
            b'"' => {
                let Some(end) = string_end(bytes, index) else {
                    break;
                };
                let text = &bytes[index + 1..end];
                if depth == 1 && expecting_key {
                    current_key = Some(text);
                    expecting_key = false;
                } else if depth == 1
                    && let Some(key) = current_key.take()
                {
                    let value = std::str::from_utf8(&bytes[index..=end]).unwrap_or_default();
                    match key {
                        b"method" => {
                            found.method = serde_json::from_str::<String>(value).ok();
                        }
                        b"id" => found.id = Some(value.to_owned()),
                        b"jsonrpc" => found.has_version = true,
                        b"error" => found.has_error = true,
                        b"result" => found.has_result = true,
                        _ => {}
                    }
                }
                index = end + 1;
                continue;
            }
            b'{' | b'[' => {
                if depth == 1
                    && let Some(key) = current_key.take()
                {
                    match key {
                        b"error" => found.has_error = true,
                        b"result" => found.has_result = true,
                        _ => {}
                    }
                }
                depth += 1;
            }
            b'}' | b']' => depth -= 1,
            b',' if depth == 1 => {
                expecting_key = true;
                current_key = None;
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' if depth == 1 => {
                let Some(end) = bytes[index..]
                    .iter()
                    .position(|byte| matches!(byte, b',' | b'}' | b' ' | b'\n' | b'\r' | b'\t'))
                    .map(|offset| index + offset)
                else {
                    break;
                };
                if let Some(key) = current_key.take() {
                    let value = std::str::from_utf8(&bytes[index..end]).unwrap_or_default();
                    match key {
                        b"id" => found.id = Some(value.to_owned()),
                        b"result" => found.has_result = true,
                        b"error" if value != "null" => found.has_error = true,
                        b"jsonrpc" => found.has_version = true,
                        _ => {}
                    }
                }
                index = end;
                continue;
            }
            _ => {}
        }
        index += 1;
    }
    Some(found)
}

/// Index of the closing quote of the string starting at `start`, if it is complete.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut index = start + 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return Some(index),
            _ => index += 1,
        }
    }
    None
}

/// Error of the stream decoder: bytes between JSON values that are not JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} bytes that are not a JSON object or array at stream offset {stream_offset}", skipped.len())]
pub struct JsonStreamError {
    /// Offset of the first skipped byte since the stream began.
    pub stream_offset: u64,
    /// The skipped bytes.
    pub skipped: Vec<u8>,
}

/// Push decoder for a stream of concatenated JSON values (objects or arrays), separated by
/// optional whitespace, as Go's `net/rpc/jsonrpc` codec writes them over a connection.
///
/// `push` appends bytes; `next_frame` returns the next complete value's bytes, `Ok(None)`
/// when the buffered bytes end inside a value (nothing is consumed), or an error holding
/// bytes that cannot start a value (which are consumed, so decoding continues after them).
/// Scanning is incremental: feeding one byte at a time costs the same as feeding all at once.
#[derive(Debug, Default)]
pub struct JsonRpcDecoder {
    buffer: Vec<u8>,
    start: usize,
    scan: usize,
    depth: u32,
    in_string: bool,
    escaped: bool,
    consumed_before_buffer: u64,
}

impl JsonRpcDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes received from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buffer.len() {
            self.consumed_before_buffer += self.start as u64;
            self.buffer.clear();
            self.scan = 0;
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes pushed but not yet returned.
    pub fn buffered_len(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// Returns the next complete JSON value, `Ok(None)` if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, JsonStreamError> {
        // Drop the consumed prefix once it dominates, so the buffer stays bounded by the
        // largest value rather than growing with the stream.
        if self.start > 4096 && self.start * 2 > self.buffer.len() {
            self.buffer.drain(..self.start);
            self.consumed_before_buffer += self.start as u64;
            self.scan -= self.start;
            self.start = 0;
        }
        if self.depth == 0 {
            // Between values: skip whitespace, collect junk up to the next `{` or `[`.
            let mut index = self.start;
            while index < self.buffer.len() && self.buffer[index].is_ascii_whitespace() {
                index += 1;
            }
            let first_non_space = index;
            while index < self.buffer.len() && !matches!(self.buffer[index], b'{' | b'[') {
                index += 1;
            }
            if index > first_non_space {
                if index == self.buffer.len() {
                    // Junk so far; wait until a value starts (or `finish`) so that the
                    // error is one unit however the bytes were split.
                    return Ok(None);
                }
                let skipped = self.buffer[first_non_space..index].to_vec();
                let stream_offset = self.consumed_before_buffer + first_non_space as u64;
                self.start = index;
                self.scan = index;
                return Err(JsonStreamError {
                    stream_offset,
                    skipped,
                });
            }
            self.start = first_non_space;
            self.scan = first_non_space;
            if self.scan == self.buffer.len() {
                return Ok(None);
            }
        }
        while self.scan < self.buffer.len() {
            let byte = self.buffer[self.scan];
            self.scan += 1;
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if byte == b'\\' {
                    self.escaped = true;
                } else if byte == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        let value = self.start..self.scan;
                        self.start = self.scan;
                        return Ok(Some(&self.buffer[value]));
                    }
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// Ends the stream: returns the bytes of an unfinished value or trailing junk as an error,
    /// or `None` when the stream ended cleanly.
    pub fn finish(&mut self) -> Option<JsonStreamError> {
        let rest = &self.buffer[self.start..];
        let result = if rest.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(JsonStreamError {
                stream_offset: self.consumed_before_buffer + self.start as u64,
                skipped: rest.to_vec(),
            })
        };
        self.consumed_before_buffer += self.buffer.len() as u64;
        self.buffer.clear();
        self.start = 0;
        self.scan = 0;
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
        result
    }
}
