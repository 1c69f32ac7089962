//! Redaction of secrets before anything leaves Framescope.
//!
//! Every exporter runs its capture events through [`redact_events`] first (unless the user
//! turned redaction off), so the rules live in one place:
//!
//! - headers named in [`RedactionConfig::header_names`] (Authorization, Cookie, Set-Cookie,
//!   Proxy-Authorization by default) and headers whose name marks a secret (`X-Api-Key`,
//!   `X-Auth-Token`); cookie and set-cookie values keep their cookie names and attributes,
//!   authorization values keep their scheme (`Bearer [REDACTED]`);
//! - JSON members whose names mark a secret, at any depth, in HTTP bodies, WebSocket text
//!   messages, SSE data and binary payloads that hold UTF-8 JSON (JSON-RPC params and results
//!   included); the JSON is edited in place as text, so everything else (member order,
//!   numbers beyond 2^53, whitespace) stays byte for byte the same and the analysis does not
//!   change; truncated JSON is redacted up to its end;
//! - `name=value` pairs with secret names in non-JSON text (form bodies, text protocols);
//! - URL query parameters with secret names and passwords in URL user info.
//!
//! A name "marks a secret" when, lower-cased and with `-`, `_`, `.` and spaces removed, it
//! contains one of [`RedactionConfig::secret_name_fragments`] or equals one of
//! [`RedactionConfig::secret_names_exact`]. Sizes (`size_bytes`) are left as captured, so
//! statistics computed from a redacted capture equal those of the original.
//!
//! Data enters as capture events and leaves as new capture events; nothing is modified in
//! place. Binary payloads that are not UTF-8 JSON (protobuf, 0xCAFE frames) cannot be
//! searched for secrets and are exported as captured: `docs/export.md` says so.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::{CaptureEvent, EventBody, HeaderList, Payload};

/// The text that replaces a redacted value.
pub const REDACTED: &str = "[REDACTED]";

/// What to redact. [`Default`] gives the rules every export uses unless told otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactionConfig {
    /// When false, nothing is redacted (`--no-redact`).
    pub enabled: bool,
    /// Header names (case-insensitive) whose values are always redacted.
    pub header_names: Vec<String>,
    /// A JSON member, header, query parameter or form field whose normalised name (lower
    /// case, without `-`, `_`, `.` and spaces) contains one of these is redacted.
    pub secret_name_fragments: Vec<String>,
    /// Short names that mark a secret only when the normalised name equals them exactly
    /// (`pwd`, `auth`), because as fragments they would match harmless names.
    pub secret_names_exact: Vec<String>,
}

impl Default for RedactionConfig {
    fn default() -> Self {
        let strings = |list: &[&str]| list.iter().map(|item| (*item).to_owned()).collect();
        Self {
            enabled: true,
            header_names: strings(&[
                "authorization",
                "proxy-authorization",
                "cookie",
                "set-cookie",
            ]),
            secret_name_fragments: strings(&[
                "token",
                "password",
                "passwd",
                "passphrase",
                "secret",
                "apikey",
                "accesskey",
                "privatekey",
                "credential",
                "authorization",
                "cookie",
                "sessionid",
            ]),
            secret_names_exact: strings(&["pwd", "pass", "auth", "jwt", "sid", "otp", "pin"]),
        }
    }
}

impl RedactionConfig {
    /// A configuration that redacts nothing.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// True when a JSON member, query parameter or form field of this name holds a secret.
    pub fn is_secret_name(&self, name: &str) -> bool {
        if !self.enabled {
            return false;
        }
        // Fast path (called for every JSON member name): normalise ASCII names on the stack.
        let mut buffer = [0u8; 64];
        let mut length = 0;
        for byte in name.bytes() {
            if matches!(byte, b'-' | b'_' | b'.' | b' ') {
                continue;
            }
            if !byte.is_ascii() || length == buffer.len() {
                return self.is_secret_name_unicode(name);
            }
            buffer[length] = byte.to_ascii_lowercase();
            length += 1;
        }
        let normalised = &buffer[..length];
        if normalised.is_empty() {
            return false;
        }
        self.secret_names_exact
            .iter()
            .any(|exact| exact.as_bytes().eq_ignore_ascii_case(normalised))
            || self.secret_name_fragments.iter().any(|fragment| {
                let fragment = fragment.as_bytes();
                !fragment.is_empty()
                    && fragment.len() <= normalised.len()
                    && normalised
                        .windows(fragment.len())
                        .any(|window| window.eq_ignore_ascii_case(fragment))
            })
    }

    /// [`RedactionConfig::is_secret_name`] for names with non-ASCII characters or longer
    /// than the fast path's buffer.
    fn is_secret_name_unicode(&self, name: &str) -> bool {
        let normalised: String = name
            .chars()
            .filter(|character| !matches!(character, '-' | '_' | '.' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        !normalised.is_empty()
            && (self
                .secret_names_exact
                .iter()
                .any(|exact| normalised == exact.to_lowercase())
                || self.secret_name_fragments.iter().any(|fragment| {
                    !fragment.is_empty() && normalised.contains(&fragment.to_lowercase())
                }))
    }

    /// True when the value of a header of this name must be redacted.
    pub fn is_secret_header(&self, name: &str) -> bool {
        self.enabled
            && (self
                .header_names
                .iter()
                .any(|header| header.eq_ignore_ascii_case(name))
                || self.is_secret_name(name))
    }
}

/// Error redacting an event.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// The event could not be rebuilt after redaction (a schema the core cannot write).
    #[error("event {index} (type {event_type}) could not be redacted: {message}")]
    Rebuild {
        /// Position of the event in its capture.
        index: usize,
        /// The event's `type`.
        event_type: String,
        /// What went wrong.
        message: String,
    },
}

/// Redacts every event of a capture. With redaction disabled the events are returned as
/// they are.
pub fn redact_events(
    events: &[CaptureEvent],
    config: &RedactionConfig,
) -> Result<Vec<CaptureEvent>, RedactError> {
    events
        .iter()
        .enumerate()
        .map(|(index, event)| redact_event(event, config, index))
        .collect()
}

/// Redacts one event. `index` is used only in the error.
///
/// The event is walked as JSON so that event types added later (and carrying headers, URLs
/// or payloads in the shared shapes) are redacted without changes here.
pub fn redact_event(
    event: &CaptureEvent,
    config: &RedactionConfig,
    index: usize,
) -> Result<CaptureEvent, RedactError> {
    if !config.enabled {
        return Ok(event.clone());
    }
    let mut out = event.clone();
    // The event types known here are edited in place; others go through the JSON walk.
    match &mut out.body {
        EventBody::Page { url, .. }
        | EventBody::WsConnect { url, .. }
        | EventBody::SseConnect { url, .. } => *url = redact_url(url, config),
        EventBody::HttpRequest {
            url,
            headers,
            body,
            body_kind,
            ..
        } => {
            let form_body =
                body_kind.as_deref() == Some("url_search_params") || is_form_content_type(headers);
            *url = redact_url(url, config);
            redact_header_list(headers, config);
            if let Some(payload) = body {
                redact_payload_typed(payload, form_body, config);
            }
        }
        EventBody::HttpResponse {
            headers, body, url, ..
        } => {
            let form_body = is_form_content_type(headers);
            redact_header_list(headers, config);
            if let Some(payload) = body {
                redact_payload_typed(payload, form_body, config);
            }
            if let Some(url) = url {
                *url = redact_url(url, config);
            }
        }
        EventBody::WsMessage { payload, .. } => redact_payload_typed(payload, false, config),
        EventBody::SseMessage { data, .. } => *data = redact_text(data, false, config),
        EventBody::CorsPreflight {
            url,
            request_headers,
            response_headers,
            ..
        } => {
            *url = redact_url(url, config);
            redact_header_list(request_headers, config);
            redact_header_list(response_headers, config);
        }
        EventBody::HttpFailure { .. }
        | EventBody::WsOpen { .. }
        | EventBody::WsClose { .. }
        | EventBody::WsError {}
        | EventBody::SseOpen {}
        | EventBody::SseError { .. }
        | EventBody::Dropped { .. } => {}
        // Unknown types carry whatever their producer put in them: walked as JSON.
        EventBody::Unknown { .. } => return redact_event_as_json(event, config, index),
        #[allow(unreachable_patterns)]
        _ => return redact_event_as_json(event, config, index),
    }
    Ok(out)
}

fn is_form_content_type(headers: &HeaderList) -> bool {
    headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("content-type")
            && value
                .to_ascii_lowercase()
                .contains("application/x-www-form-urlencoded")
    })
}

fn redact_header_list(headers: &mut HeaderList, config: &RedactionConfig) {
    for (name, value) in headers.iter_mut() {
        if config.is_secret_header(name) {
            *value = redact_header(name, value, config);
        }
    }
}

fn redact_payload_typed(payload: &mut Payload, form_body: bool, config: &RedactionConfig) {
    if payload.is_binary() {
        let engine = base64::engine::general_purpose::STANDARD;
        if let Ok(bytes) = engine.decode(payload.data.as_bytes())
            && let Ok(text) = String::from_utf8(bytes)
            && let Some(redacted) = redact_json_text(&text, config)
            && redacted != text
        {
            payload.data = engine.encode(redacted.as_bytes());
        }
    } else {
        payload.data = redact_text(&payload.data, form_body, config);
    }
}

/// Redacts an event of a type this module does not list, by walking its JSON: members named
/// `headers` or `*_headers`, `url` or `*_url`, and payload-shaped objects (`encoding` +
/// `data`), so that event types added later are covered without changes here.
fn redact_event_as_json(
    event: &CaptureEvent,
    config: &RedactionConfig,
    index: usize,
) -> Result<CaptureEvent, RedactError> {
    let rebuild_error = |message: String| RedactError::Rebuild {
        index,
        event_type: event_type_name(event),
        message,
    };
    let mut value =
        serde_json::to_value(event).map_err(|error| rebuild_error(error.to_string()))?;
    if let Value::Object(members) = &mut value {
        let event_type = members
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let form_body = looks_form_encoded(members);
        for (name, member) in members.iter_mut() {
            if event_type == "sse_message" && name == "data" {
                if let Value::String(text) = member {
                    *text = redact_text(text, false, config);
                }
                continue;
            }
            redact_value(name, member, form_body, config);
        }
    }
    serde_json::from_value(value).map_err(|error| rebuild_error(error.to_string()))
}

fn event_type_name(event: &CaptureEvent) -> String {
    event.body.type_name()
}

/// True when the event's own headers or body kind say its body is a URL-encoded form.
fn looks_form_encoded(members: &serde_json::Map<String, Value>) -> bool {
    let by_kind = members.get("body_kind").and_then(Value::as_str) == Some("url_search_params");
    let by_header = members
        .get("headers")
        .and_then(Value::as_array)
        .is_some_and(|headers| {
            headers.iter().any(|header| {
                header.as_array().is_some_and(|pair| {
                    pair.first()
                        .and_then(Value::as_str)
                        .is_some_and(|name| name.eq_ignore_ascii_case("content-type"))
                        && pair.get(1).and_then(Value::as_str).is_some_and(|value| {
                            value
                                .to_ascii_lowercase()
                                .contains("application/x-www-form-urlencoded")
                        })
                })
            })
        });
    by_kind || by_header
}

fn redact_value(name: &str, value: &mut Value, form_body: bool, config: &RedactionConfig) {
    if name == "headers" || name.ends_with("_headers") {
        redact_header_value(value, config);
        return;
    }
    if name == "url" || name.ends_with("_url") {
        if let Value::String(url) = value {
            *url = redact_url(url, config);
        }
        return;
    }
    match value {
        Value::Object(members) => {
            if is_payload(members) {
                redact_payload(members, form_body, config);
            } else {
                for (inner_name, inner) in members.iter_mut() {
                    redact_value(inner_name, inner, form_body, config);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                redact_value("", item, form_body, config);
            }
        }
        _ => {}
    }
}

fn is_payload(members: &serde_json::Map<String, Value>) -> bool {
    matches!(
        members.get("encoding").and_then(Value::as_str),
        Some("text" | "base64")
    ) && members.get("data").is_some_and(Value::is_string)
}

fn redact_payload(
    members: &mut serde_json::Map<String, Value>,
    form_body: bool,
    config: &RedactionConfig,
) {
    let is_base64 = members.get("encoding").and_then(Value::as_str) == Some("base64");
    let Some(Value::String(data)) = members.get_mut("data") else {
        return;
    };
    if is_base64 {
        let engine = base64::engine::general_purpose::STANDARD;
        // Only binary payloads that hold UTF-8 JSON can be searched; others stay as captured.
        if let Ok(bytes) = engine.decode(data.as_bytes())
            && let Ok(text) = String::from_utf8(bytes)
            && let Some(redacted) = redact_json_text(&text, config)
            && redacted != text
        {
            *data = engine.encode(redacted.as_bytes());
        }
    } else {
        *data = redact_text(data, form_body, config);
    }
}

fn redact_header_value(headers: &mut Value, config: &RedactionConfig) {
    match headers {
        Value::Array(pairs) => {
            for pair in pairs {
                if let Value::Array(items) = pair
                    && let [Value::String(name), Value::String(value)] = items.as_mut_slice()
                {
                    *value = redact_header(name, value, config);
                }
            }
        }
        Value::Object(map) => {
            for (name, value) in map.iter_mut() {
                if let Value::String(text) = value {
                    *text = redact_header(name, text, config);
                }
            }
        }
        _ => {}
    }
}

/// Redacts one header value; the name decides how. Cookies keep their names and attributes,
/// authorization values keep their scheme.
pub fn redact_header(name: &str, value: &str, config: &RedactionConfig) -> String {
    if !config.is_secret_header(name) {
        return value.to_owned();
    }
    let lower = name.to_ascii_lowercase();
    if lower == "cookie" {
        return value
            .split(';')
            .map(|pair| match pair.split_once('=') {
                Some((cookie_name, _)) => format!("{}={REDACTED}", cookie_name.trim()),
                None => REDACTED.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    if lower == "set-cookie" {
        // Cookie attributes (Path, Expires, HttpOnly...) are not secret and help debugging.
        let mut parts = value.split(';');
        let first = match parts.next().and_then(|pair| pair.split_once('=')) {
            Some((cookie_name, _)) => format!("{}={REDACTED}", cookie_name.trim()),
            None => REDACTED.to_owned(),
        };
        return std::iter::once(first)
            .chain(parts.map(|attribute| attribute.trim().to_owned()))
            .collect::<Vec<_>>()
            .join("; ");
    }
    if lower.ends_with("authorization")
        && let Some((scheme, _)) = value.trim().split_once(' ')
    {
        return format!("{scheme} {REDACTED}");
    }
    REDACTED.to_owned()
}

/// Redacts a text body or message: as JSON when it is JSON (or truncated JSON), otherwise
/// as `name=value` pairs. `form_body` only affects `+`-encoded names in forms.
pub fn redact_text(text: &str, form_body: bool, config: &RedactionConfig) -> String {
    if !config.enabled {
        return text.to_owned();
    }
    if let Some(redacted) = redact_json_text(text, config) {
        return redacted;
    }
    redact_key_value_text(text, form_body, config)
}

/// Redacts query parameters with secret names and the password of URL user info. The rest
/// of the URL is kept byte for byte.
pub fn redact_url(url: &str, config: &RedactionConfig) -> String {
    if !config.enabled {
        return url.to_owned();
    }
    let (without_fragment, fragment) = match url.split_once('#') {
        Some((head, tail)) => (head, Some(tail)),
        None => (url, None),
    };
    let (base, query) = match without_fragment.split_once('?') {
        Some((head, tail)) => (head, Some(tail)),
        None => (without_fragment, None),
    };
    let mut out = redact_user_info(base);
    if let Some(query) = query {
        out.push('?');
        out.push_str(&redact_pairs(query, '&', true, config));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        // Fragments often carry OAuth implicit-flow tokens (`#access_token=...`).
        out.push_str(&redact_pairs(fragment, '&', true, config));
    }
    out
}

fn redact_user_info(base: &str) -> String {
    let Some(scheme_end) = base.find("://") else {
        return base.to_owned();
    };
    let authority_start = scheme_end + 3;
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |offset| authority_start + offset);
    let authority = &base[authority_start..authority_end];
    let Some((user_info, host)) = authority.rsplit_once('@') else {
        return base.to_owned();
    };
    let Some((user, _password)) = user_info.split_once(':') else {
        return base.to_owned();
    };
    format!(
        "{}{user}:{}@{host}{}",
        &base[..authority_start],
        percent_encode_marker(),
        &base[authority_end..]
    )
}

/// The redaction marker as it may appear inside a URL without breaking it.
fn percent_encode_marker() -> &'static str {
    "%5BREDACTED%5D"
}

fn redact_pairs(text: &str, separator: char, in_url: bool, config: &RedactionConfig) -> String {
    text.split(separator)
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if config.is_secret_name(&percent_decode(name)) => {
                let marker = if in_url {
                    percent_encode_marker()
                } else {
                    REDACTED
                };
                format!("{name}={marker}")
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(&separator.to_string())
}

/// Decodes `%XX` escapes and `+` (as a space); invalid escapes are kept as written.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => {
                out.push(b' ');
                index += 1;
            }
            b'%' if index + 2 < bytes.len() => {
                let high = (bytes[index + 1] as char).to_digit(16);
                let low = (bytes[index + 2] as char).to_digit(16);
                match (high, low) {
                    (Some(high), Some(low)) => {
                        out.push((high * 16 + low) as u8);
                        index += 3;
                    }
                    _ => {
                        out.push(b'%');
                        index += 1;
                    }
                }
            }
            byte => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Redacts `name=value` and `name: value` pairs with secret names in free text (form bodies,
/// line protocols). The value ends at `&`, `;`, `,`, whitespace or the end of the text.
fn redact_key_value_text(text: &str, form_body: bool, config: &RedactionConfig) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied_up_to = 0;
    let mut index = 0;
    while index < bytes.len() {
        let is_name_byte = |byte: u8| {
            byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.' | b'%' | b'+')
        };
        if !is_name_byte(bytes[index]) {
            index += 1;
            continue;
        }
        let name_start = index;
        while index < bytes.len() && is_name_byte(bytes[index]) {
            index += 1;
        }
        let name_end = index;
        let mut cursor = index;
        // A quoted name (`'Authorization': ...`, `"token" = ...`) ends at its closing quote.
        if !form_body
            && name_start > 0
            && matches!(bytes[name_start - 1], b'"' | b'\'')
            && bytes.get(cursor) == Some(&bytes[name_start - 1])
        {
            cursor += 1;
        }
        while cursor < bytes.len() && bytes[cursor] == b' ' && !form_body {
            cursor += 1;
        }
        if cursor >= bytes.len() || !matches!(bytes[cursor], b'=' | b':') {
            continue;
        }
        cursor += 1;
        while cursor < bytes.len() && bytes[cursor] == b' ' && !form_body {
            cursor += 1;
        }
        let value_start = cursor;
        let quote = bytes
            .get(cursor)
            .copied()
            .filter(|byte| matches!(byte, b'"' | b'\''));
        let value_end = match quote {
            Some(quote) => {
                let mut end = cursor + 1;
                while end < bytes.len() && bytes[end] != quote {
                    end += 1;
                }
                (end + 1).min(bytes.len())
            }
            None => {
                let mut end = cursor;
                while end < bytes.len()
                    && !matches!(
                        bytes[end],
                        b'&' | b';'
                            | b','
                            | b' '
                            | b'\n'
                            | b'\r'
                            | b'\t'
                            | b'\''
                            | b'"'
                            | b')'
                            | b'}'
                            | b']'
                            | b'<'
                    )
                {
                    end += 1;
                }
                end
            }
        };
        let name = percent_decode(&text[name_start..name_end]);
        if config.is_secret_name(&name) && value_end > value_start {
            out.push_str(&text[copied_up_to..value_start]);
            out.push_str(REDACTED);
            copied_up_to = value_end;
        }
        index = value_end.max(name_end + 1);
    }
    out.push_str(&text[copied_up_to..]);
    out
}

/// Redacts the values of secret-named members in JSON text, at any depth, editing the text
/// in place. Returns `None` when the text is not JSON (does not start with `{` or `[`).
/// Truncated JSON is redacted up to its end; after a syntax error the text already scanned
/// is redacted and the rest is redacted as `name=value` text.
pub fn redact_json_text(text: &str, config: &RedactionConfig) -> Option<String> {
    let start = text.find(|character: char| !character.is_whitespace())?;
    if !matches!(text.as_bytes()[start], b'{' | b'[') {
        return None;
    }
    let mut scanner = JsonScanner {
        bytes: text.as_bytes(),
        position: start,
        spans: Vec::new(),
        config,
    };
    // Several JSON texts may follow each other (NDJSON in one message); anything that is
    // not JSON after them is redacted as `name=value` text.
    let tail_start = loop {
        match scanner.value(false, 0) {
            Ok(()) => {
                scanner.skip_whitespace();
                match scanner.bytes.get(scanner.position) {
                    None => break None,
                    Some(b'{' | b'[') => continue,
                    Some(_) => break Some(scanner.position),
                }
            }
            Err(ScanStop::EndOfInput) => break None,
            Err(ScanStop::Syntax) => break Some(scanner.position),
        }
    };
    let mut spans = scanner.spans;
    let mut out = String::with_capacity(text.len());
    let mut copied_up_to = 0;
    spans.sort_unstable();
    for (span_start, span_end) in spans {
        if span_start < copied_up_to {
            continue;
        }
        out.push_str(&text[copied_up_to..span_start]);
        out.push('"');
        out.push_str(REDACTED);
        out.push('"');
        copied_up_to = span_end;
    }
    match tail_start {
        None => out.push_str(&text[copied_up_to..]),
        Some(stopped_at) => {
            let resume = stopped_at.max(copied_up_to).min(text.len());
            let resume = (resume..=text.len())
                .find(|index| text.is_char_boundary(*index))
                .unwrap_or(text.len());
            out.push_str(&text[copied_up_to..resume]);
            out.push_str(&redact_key_value_text(&text[resume..], false, config));
        }
    }
    Some(out)
}

enum ScanStop {
    /// The text ended inside a value (truncated capture).
    EndOfInput,
    /// Not JSON from here on.
    Syntax,
}

/// Deep enough for any real payload; deeper input is treated as not JSON instead of
/// overflowing the stack.
const MAX_JSON_DEPTH: usize = 256;

struct JsonScanner<'a> {
    bytes: &'a [u8],
    position: usize,
    /// Byte ranges of values to replace.
    spans: Vec<(usize, usize)>,
    config: &'a RedactionConfig,
}

impl JsonScanner<'_> {
    fn skip_whitespace(&mut self) {
        while self.position < self.bytes.len() && self.bytes[self.position].is_ascii_whitespace() {
            self.position += 1;
        }
    }

    fn peek(&mut self) -> Result<u8, ScanStop> {
        self.skip_whitespace();
        self.bytes
            .get(self.position)
            .copied()
            .ok_or(ScanStop::EndOfInput)
    }

    /// Scans one value. When `secret` is true the value's span is recorded (to the end of
    /// the input if it is cut off).
    fn value(&mut self, secret: bool, depth: usize) -> Result<(), ScanStop> {
        if depth > MAX_JSON_DEPTH {
            return Err(ScanStop::Syntax);
        }
        let first = self.peek()?;
        let start = self.position;
        let result = match first {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.skip_string(),
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                self.scalar();
                Ok(())
            }
            _ => Err(ScanStop::Syntax),
        };
        if secret {
            match result {
                Ok(()) => self.spans.push((start, self.position)),
                Err(ScanStop::EndOfInput) => self.spans.push((start, self.bytes.len())),
                Err(ScanStop::Syntax) => {}
            }
        }
        result
    }

    fn scalar(&mut self) {
        while self.position < self.bytes.len()
            && !matches!(self.bytes[self.position], b',' | b'}' | b']')
            && !self.bytes[self.position].is_ascii_whitespace()
        {
            self.position += 1;
        }
    }

    /// Scans past a string without decoding it.
    fn skip_string(&mut self) -> Result<(), ScanStop> {
        self.position += 1;
        while let Some(&byte) = self.bytes.get(self.position) {
            self.position += 1;
            match byte {
                b'"' => return Ok(()),
                b'\\' => self.position += 1,
                _ => {}
            }
        }
        Err(ScanStop::EndOfInput)
    }

    /// Scans a string and returns its decoded text (escapes resolved well enough to match
    /// member names).
    fn string(&mut self) -> Result<String, ScanStop> {
        self.position += 1;
        let mut decoded = Vec::new();
        while let Some(&byte) = self.bytes.get(self.position) {
            self.position += 1;
            match byte {
                b'"' => return Ok(String::from_utf8_lossy(&decoded).into_owned()),
                b'\\' => {
                    let escaped = *self.bytes.get(self.position).ok_or(ScanStop::EndOfInput)?;
                    self.position += 1;
                    match escaped {
                        b'u' => {
                            let hex = self
                                .bytes
                                .get(self.position..self.position + 4)
                                .ok_or(ScanStop::EndOfInput)?;
                            self.position += 4;
                            let code = std::str::from_utf8(hex)
                                .ok()
                                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                                .ok_or(ScanStop::Syntax)?;
                            let character = char::from_u32(code).unwrap_or('\u{fffd}');
                            let mut buffer = [0u8; 4];
                            decoded
                                .extend_from_slice(character.encode_utf8(&mut buffer).as_bytes());
                        }
                        b'n' => decoded.push(b'\n'),
                        b't' => decoded.push(b'\t'),
                        b'r' => decoded.push(b'\r'),
                        b'b' => decoded.push(8),
                        b'f' => decoded.push(12),
                        other => decoded.push(other),
                    }
                }
                other => decoded.push(other),
            }
        }
        Err(ScanStop::EndOfInput)
    }

    fn object(&mut self, depth: usize) -> Result<(), ScanStop> {
        self.position += 1;
        if self.peek()? == b'}' {
            self.position += 1;
            return Ok(());
        }
        loop {
            if self.peek()? != b'"' {
                return Err(ScanStop::Syntax);
            }
            let name = self.string()?;
            if self.peek()? != b':' {
                return Err(ScanStop::Syntax);
            }
            self.position += 1;
            let secret = self.config.is_secret_name(&name);
            self.value(secret, depth + 1)?;
            match self.peek()? {
                b',' => self.position += 1,
                b'}' => {
                    self.position += 1;
                    return Ok(());
                }
                _ => return Err(ScanStop::Syntax),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), ScanStop> {
        self.position += 1;
        if self.peek()? == b']' {
            self.position += 1;
            return Ok(());
        }
        loop {
            self.value(false, depth + 1)?;
            match self.peek()? {
                b',' => self.position += 1,
                b']' => {
                    self.position += 1;
                    return Ok(());
                }
                _ => return Err(ScanStop::Syntax),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::event::Direction;

    fn config() -> RedactionConfig {
        RedactionConfig::default()
    }

    #[test]
    fn secret_names_are_matched_case_and_separator_insensitively() {
        let config = config();
        for name in [
            "token",
            "Access_Token",
            "refreshToken",
            "client-secret",
            "API_KEY",
            "apiKey",
            "Password",
            "x-api-key",
            "X-Auth-Token",
            "pwd",
            "session_id",
        ] {
            assert!(config.is_secret_name(name), "{name} should be secret");
        }
        for name in [
            "method", "params", "id", "author", "passage", "user", "", "--",
        ] {
            assert!(!config.is_secret_name(name), "{name} should not be secret");
        }
        // Non-ASCII and very long names take the slow path with the same rules.
        assert!(config.is_secret_name("Benutzer_Passwörter_TOKEN"));
        assert!(!config.is_secret_name("Größe"));
        assert!(config.is_secret_name(&format!("{}_api_key", "x".repeat(100))));
        assert!(!config.is_secret_name(&"x".repeat(100)));
        let custom = RedactionConfig {
            secret_name_fragments: vec!["UserId".into()],
            ..RedactionConfig::default()
        };
        assert!(custom.is_secret_name("user_id"));
        assert!(!RedactionConfig::disabled().is_secret_name("password"));
    }

    #[test]
    fn json_members_are_redacted_at_any_depth_and_the_rest_is_unchanged() {
        let text = r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"Auth.Login","params":[{"user":"bob","Password":"hunter2","nested":{"api_key":"k-123","list":[{"refresh_token":"r-9"}]}}],"secret":{"a":1}}"#;
        let out = redact_json_text(text, &config()).unwrap();
        assert_eq!(
            out,
            r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"Auth.Login","params":[{"user":"bob","Password":"[REDACTED]","nested":{"api_key":"[REDACTED]","list":[{"refresh_token":"[REDACTED]"}]}}],"secret":"[REDACTED]"}"#
        );
        serde_json::from_str::<Value>(&out).unwrap();
    }

    #[test]
    fn escaped_member_names_are_decoded_before_matching() {
        let out = redact_json_text(r#"{"pass\u0077ord": "x", "to\"ken": 1}"#, &config()).unwrap();
        assert_eq!(out, r#"{"pass\u0077ord": "[REDACTED]", "to\"ken": 1}"#);
    }

    #[test]
    fn truncated_json_is_redacted_to_its_end() {
        let out = redact_json_text(r#"{"user":"a","token":"abcdef"#, &config()).unwrap();
        assert_eq!(out, r#"{"user":"a","token":"[REDACTED]""#);
        assert!(!out.contains("abcdef"));
    }

    #[test]
    fn non_json_text_gets_key_value_redaction() {
        let config = config();
        assert_eq!(redact_json_text("hello", &config), None);
        assert_eq!(
            redact_text("user=bob&password=hunter2&x=1", true, &config),
            "user=bob&password=[REDACTED]&x=1"
        );
        assert_eq!(
            redact_text("AUTH token: abc123 now", false, &config),
            "AUTH token: [REDACTED] now"
        );
        // Quoted names and values, as in scripts and config text.
        assert_eq!(
            redact_text(
                "{ 'Authorization': 'Bearer s3', \"api_key\" = s4); x('ws?token=s5')",
                false,
                &config
            ),
            "{ 'Authorization': [REDACTED], \"api_key\" = [REDACTED]); x('ws?token=[REDACTED]')"
        );
        // JSON followed by garbage: the JSON part is still redacted.
        let out = redact_text(r#"{"token":"s1"} }} token=s2"#, false, &config);
        assert!(!out.contains("s1") && !out.contains("s2"), "{out}");
    }

    #[test]
    fn urls_lose_secret_query_parameters_and_passwords_only() {
        let config = config();
        assert_eq!(
            redact_url(
                "https://user:pa55@api.test:8443/v1/x?access_token=abc&q=1&api%5Fkey=k#id_token=z&s=2",
                &config
            ),
            "https://user:%5BREDACTED%5D@api.test:8443/v1/x?access_token=%5BREDACTED%5D&q=1&api%5Fkey=%5BREDACTED%5D#id_token=%5BREDACTED%5D&s=2"
        );
        assert_eq!(redact_url("ws://h/ws?room=1", &config), "ws://h/ws?room=1");
    }

    #[test]
    fn headers_keep_cookie_names_and_auth_scheme() {
        let config = config();
        assert_eq!(
            redact_header("Authorization", "Bearer eyJabc", &config),
            "Bearer [REDACTED]"
        );
        assert_eq!(
            redact_header("cookie", "sid=1; theme=dark", &config),
            "sid=[REDACTED]; theme=[REDACTED]"
        );
        assert_eq!(
            redact_header("Set-Cookie", "sid=abc; Path=/; HttpOnly", &config),
            "sid=[REDACTED]; Path=/; HttpOnly"
        );
        assert_eq!(redact_header("X-Api-Key", "k", &config), REDACTED);
        assert_eq!(
            redact_header("Content-Type", "application/json", &config),
            "application/json"
        );
    }

    #[test]
    fn binary_payloads_holding_json_are_redacted_and_others_kept() {
        let json_bytes = Payload::binary(br#"{"token":"bin-secret"}"#);
        let protobuf = Payload::binary(&[0x0a, 0x03, b'a', b'b', b'c']);
        for (payload, expect_changed) in [(json_bytes, true), (protobuf, false)] {
            let event = CaptureEvent {
                v: 1,
                session_id: "p".into(),
                connection_id: "w".into(),
                time_micros: 1,
                body: EventBody::WsMessage {
                    direction: Direction::Sent,
                    payload: payload.clone(),
                },
            };
            let out = redact_event(&event, &config(), 0).unwrap();
            let EventBody::WsMessage { payload: after, .. } = &out.body else {
                panic!("variant changed")
            };
            assert_eq!(after.size_bytes, payload.size_bytes);
            assert_eq!(after != &payload, expect_changed);
            if expect_changed {
                let text = String::from_utf8(after.to_bytes().unwrap()).unwrap();
                assert_eq!(text, r#"{"token":"[REDACTED]"}"#);
            }
        }
    }

    #[test]
    fn deeply_nested_json_does_not_overflow() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        // Too deep to be real: scanned up to the limit, never a stack overflow.
        assert!(redact_json_text(&text, &config()).is_some());
    }

    #[test]
    fn typed_and_json_walk_paths_agree() {
        let event = |connection: &str, body| CaptureEvent {
            v: 1,
            session_id: "p".into(),
            connection_id: connection.into(),
            time_micros: 1,
            body,
        };
        let events = [
            event(
                "h",
                EventBody::HttpRequest {
                    api: "fetch".into(),
                    method: "POST".into(),
                    url: "http://u:pw@h/?token=1&a=2".into(),
                    headers: vec![
                        ("Cookie".into(), "a=1; b=2".into()),
                        (
                            "Content-Type".into(),
                            "application/x-www-form-urlencoded".into(),
                        ),
                    ],
                    body: Some(Payload::text("user=a&password=p")),
                    body_kind: None,
                    mode: None,
                    credentials: None,
                    redirect: None,
                    upload_listeners: false,
                },
            ),
            event(
                "h",
                EventBody::HttpResponse {
                    status: 200,
                    status_text: String::new(),
                    headers: vec![("Set-Cookie".into(), "s=1; Path=/".into())],
                    body: Some(Payload::binary(br#"{"secret":"x","n":1}"#)),
                    response_type: None,
                    url: Some("http://h/?code=1&state=2&api_key=3".into()),
                    redirected: true,
                },
            ),
            event(
                "w",
                EventBody::WsMessage {
                    direction: Direction::Received,
                    payload: Payload::text(r#"[{"refresh_token":"r"},{"ok":true}]"#),
                },
            ),
            event(
                "s",
                EventBody::SseMessage {
                    event_type: "message".into(),
                    data: r#"{"token":"t"}"#.into(),
                    last_event_id: String::new(),
                },
            ),
            event(
                "c",
                EventBody::CorsPreflight {
                    url: "http://h/?token=1".into(),
                    initiator: None,
                    request_headers: vec![("Authorization".into(), "Bearer b".into())],
                    status: Some(204),
                    response_headers: vec![("Set-Cookie".into(), "x=1".into())],
                    error: None,
                    ended_micros: None,
                },
            ),
        ];
        for event in &events {
            let typed = redact_event(event, &config(), 0).unwrap();
            assert_ne!(&typed, event, "something was redacted");
            assert_eq!(redact_event_as_json(event, &config(), 0).unwrap(), typed);
        }
    }

    #[test]
    fn disabled_config_changes_nothing() {
        let event = CaptureEvent {
            v: 1,
            session_id: "p".into(),
            connection_id: "h".into(),
            time_micros: 1,
            body: EventBody::HttpRequest {
                api: "fetch".into(),
                method: "POST".into(),
                url: "http://h/?token=1".into(),
                headers: vec![("Authorization".into(), "Bearer x".into())],
                body: Some(Payload::text(r#"{"password":"p"}"#)),
                body_kind: None,
                mode: None,
                credentials: Some("include".into()),
                redirect: None,
                upload_listeners: false,
            },
        };
        assert_eq!(
            redact_event(&event, &RedactionConfig::disabled(), 0).unwrap(),
            event
        );
        let redacted = redact_event(&event, &config(), 0).unwrap();
        let EventBody::HttpRequest {
            credentials, url, ..
        } = &redacted.body
        else {
            panic!("variant changed")
        };
        // Event fields themselves are never treated as secret names.
        assert_eq!(credentials.as_deref(), Some("include"));
        assert_eq!(url, "http://h/?token=%5BREDACTED%5D");
    }
}
