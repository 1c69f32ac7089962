//! "Copy as cURL" and "Copy as fetch" for captured HTTP requests.
//!
//! Data enters as the parts of a captured request ([`RequestParts`]) and leaves as a shell
//! command or a JavaScript statement that sends the same request again. Headers the browser
//! sets itself and a script may not set (`Host`, `Content-Length`, `Cookie`...) are left out
//! of the fetch snippet, as the browser would refuse them.
//!
//! Copies are redacted by default like every export: [`redact_request`] applies a
//! [`RedactionConfig`] (URL tokens, `Authorization`, cookies, secret body members) to the parts
//! before a snippet is built.

use std::fmt::Write as _;

use crate::export::redact::{
    RedactionConfig, redact_header, redact_json_text, redact_text, redact_url,
};

/// A request body as captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestBody {
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Binary(Vec<u8>),
}

/// What is needed to send a captured request again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestParts {
    /// HTTP method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers in capture order.
    pub headers: Vec<(String, String)>,
    /// Body, if any.
    pub body: Option<RequestBody>,
    /// Fetch credentials mode, if the capture knew it (`include`, `same-origin`, `omit`).
    pub credentials: Option<String>,
    /// Fetch request mode, if the capture knew it.
    pub mode: Option<String>,
}

/// The request with its secrets redacted per `config` (unchanged when it is disabled).
pub fn redact_request(request: &RequestParts, config: &RedactionConfig) -> RequestParts {
    if !config.enabled {
        return request.clone();
    }
    let form_body = request.headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("content-type")
            && value
                .to_ascii_lowercase()
                .contains("application/x-www-form-urlencoded")
    });
    RequestParts {
        method: request.method.clone(),
        url: redact_url(&request.url, config),
        headers: request
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), redact_header(name, value, config)))
            .collect(),
        body: request.body.as_ref().map(|body| match body {
            RequestBody::Text(text) => RequestBody::Text(redact_text(text, form_body, config)),
            RequestBody::Binary(bytes) => {
                match std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|text| redact_json_text(text, config))
                {
                    Some(redacted) => RequestBody::Binary(redacted.into_bytes()),
                    None => RequestBody::Binary(bytes.clone()),
                }
            }
        }),
        credentials: request.credentials.clone(),
        mode: request.mode.clone(),
    }
}

/// Quotes `text` for a POSIX shell: single quotes, with embedded single quotes closed,
/// escaped and reopened.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A `curl` command that sends the request. A binary body is piped in through `printf` with
/// octal escapes, which every POSIX shell understands and which keeps NUL bytes.
pub fn curl_command(request: &RequestParts) -> String {
    let mut command = String::new();
    if let Some(RequestBody::Binary(bytes)) = &request.body {
        command.push_str("printf '");
        for byte in bytes {
            let _ = write!(command, "\\{byte:03o}");
        }
        command.push_str("' | ");
    }
    command.push_str("curl ");
    command.push_str(&shell_quote(&request.url));
    let method = request.method.to_ascii_uppercase();
    let default_method = if request.body.is_some() {
        "POST"
    } else {
        "GET"
    };
    if method != default_method {
        let _ = write!(command, " \\\n  -X {}", shell_quote(&method));
    }
    for (name, value) in &request.headers {
        let _ = write!(
            command,
            " \\\n  -H {}",
            shell_quote(&format!("{name}: {value}"))
        );
    }
    match &request.body {
        Some(RequestBody::Text(text)) => {
            let _ = write!(command, " \\\n  --data-raw {}", shell_quote(text));
        }
        Some(RequestBody::Binary(_)) => command.push_str(" \\\n  --data-binary @-"),
        None => {}
    }
    command
}

/// Headers a page script cannot set (the Fetch standard's forbidden request headers, by
/// exact name or prefix).
fn is_forbidden_for_scripts(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    const EXACT: [&str; 21] = [
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    ];
    EXACT.contains(&name.as_str()) || name.starts_with("proxy-") || name.starts_with("sec-")
}

/// A JavaScript string literal for `text` (JSON string syntax is valid JavaScript).
fn js_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A `fetch(...)` statement that sends the request from a page's console.
pub fn fetch_snippet(request: &RequestParts) -> String {
    let mut options: Vec<String> = Vec::new();
    options.push(format!(
        "  method: {}",
        js_string(&request.method.to_ascii_uppercase())
    ));
    let headers: Vec<String> = request
        .headers
        .iter()
        .filter(|(name, _)| !is_forbidden_for_scripts(name))
        .map(|(name, value)| format!("    {}: {}", js_string(name), js_string(value)))
        .collect();
    if !headers.is_empty() {
        options.push(format!("  headers: {{\n{}\n  }}", headers.join(",\n")));
    }
    match &request.body {
        Some(RequestBody::Text(text)) => options.push(format!("  body: {}", js_string(text))),
        Some(RequestBody::Binary(bytes)) => {
            let list: Vec<String> = bytes.iter().map(u8::to_string).collect();
            options.push(format!("  body: new Uint8Array([{}])", list.join(", ")));
        }
        None => {}
    }
    if let Some(mode) = &request.mode {
        options.push(format!("  mode: {}", js_string(mode)));
    }
    if let Some(credentials) = &request.credentials {
        options.push(format!("  credentials: {}", js_string(credentials)));
    }
    format!(
        "await fetch({}, {{\n{}\n}});",
        js_string(&request.url),
        options.join(",\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: Option<RequestBody>) -> RequestParts {
        RequestParts {
            method: "post".into(),
            url: "http://127.0.0.1:8737/rpc?a='b'".into(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Cookie".into(), "session=1".into()),
                ("X-RPC-Method".into(), "Arith.Multiply".into()),
            ],
            body,
            credentials: Some("include".into()),
            mode: None,
        }
    }

    #[test]
    fn curl_quotes_everything_and_keeps_text_bodies() {
        let body = r#"{"method":"it's"}"#;
        let command = curl_command(&request(Some(RequestBody::Text(body.into()))));
        assert_eq!(
            command,
            "curl 'http://127.0.0.1:8737/rpc?a='\\''b'\\''' \\\n  \
             -H 'Content-Type: application/json' \\\n  -H 'Cookie: session=1' \\\n  \
             -H 'X-RPC-Method: Arith.Multiply' \\\n  \
             --data-raw '{\"method\":\"it'\\''s\"}'"
        );
    }

    #[test]
    fn redacted_copies_hide_tokens_headers_cookies_and_body_secrets() {
        let mut parts = request(Some(RequestBody::Text(
            r#"{"method":"User.Login","params":{"password":"pw-1"}}"#.into(),
        )));
        parts.url = "http://127.0.0.1:1/rpc?access_token=tk-1&page=2".into();
        parts
            .headers
            .push(("Authorization".into(), "Bearer bearer-1".into()));
        let redacted = redact_request(&parts, &RedactionConfig::default());
        let command = curl_command(&redacted);
        for secret in ["pw-1", "tk-1", "bearer-1", "session=1"] {
            assert!(!command.contains(secret), "{secret} in {command}");
        }
        assert!(command.contains("Bearer [REDACTED]"), "{command}");
        assert!(command.contains("page=2"), "{command}");
        assert_eq!(redact_request(&parts, &RedactionConfig::disabled()), parts);
    }

    #[test]
    fn curl_pipes_binary_bodies_with_octal_escapes() {
        let mut parts = request(Some(RequestBody::Binary(vec![0xca, 0xfe, 0])));
        parts.method = "PUT".into();
        let command = curl_command(&parts);
        assert!(
            command.starts_with(r"printf '\312\376\000' | curl "),
            "{command}"
        );
        assert!(command.contains("-X 'PUT'"));
        assert!(command.ends_with("--data-binary @-"));
    }

    #[test]
    fn fetch_leaves_out_forbidden_headers_and_escapes_strings() {
        let snippet = fetch_snippet(&request(Some(RequestBody::Text("a\"b\n".into()))));
        assert_eq!(
            snippet,
            "await fetch(\"http://127.0.0.1:8737/rpc?a='b'\", {\n  method: \"POST\",\n  \
             headers: {\n    \"Content-Type\": \"application/json\",\n    \
             \"X-RPC-Method\": \"Arith.Multiply\"\n  },\n  body: \"a\\\"b\\n\",\n  \
             credentials: \"include\"\n});"
        );
        let binary = fetch_snippet(&request(Some(RequestBody::Binary(vec![1, 255]))));
        assert!(binary.contains("body: new Uint8Array([1, 255])"));
    }
}
