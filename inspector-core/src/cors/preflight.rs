//! Does a request need a CORS preflight, and why? Chromium's rules: the Fetch Standard's
//! safelists plus Chromium's extra safelisted client-hint headers, the 128-byte value limit
//! and the 1024-byte total for safelisted values.
//!
//! A [`CorsRequest`] enters; a [`PreflightDecision`] leaves, holding every reason and the
//! exact `Access-Control-Request-Method` / `-Headers` values the browser sends.

use serde::Serialize;

use super::request::{BodyKind, CorsRequest};

/// Longest value a safelisted header may have, in bytes.
pub const SAFELISTED_VALUE_LIMIT_BYTES: usize = 128;
/// Largest total of safelisted header values before they all count as unsafe, in bytes.
pub const SAFELISTED_TOTAL_LIMIT_BYTES: usize = 1024;

/// One reason a request is preflighted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum PreflightReason {
    /// The method is not `GET`, `HEAD` or `POST`.
    MethodNotSafelisted {
        /// The method as sent.
        method: String,
    },
    /// The header's name is not on the safelist (`Authorization`, `X-Anything`, ...).
    HeaderNameNotSafelisted {
        /// Lower-cased header name.
        header: String,
    },
    /// The value is longer than 128 bytes.
    HeaderValueTooLong {
        /// Lower-cased header name.
        header: String,
        /// Length of the value.
        length_bytes: usize,
        /// The limit (128).
        limit_bytes: usize,
    },
    /// The value contains a byte the safelist forbids (`"():<>?@[\]{}`, DEL, controls).
    HeaderValueUnsafeByte {
        /// Lower-cased header name.
        header: String,
        /// The offending byte.
        byte: u8,
    },
    /// `Content-Type` is not `text/plain`, `multipart/form-data` or
    /// `application/x-www-form-urlencoded`.
    ContentTypeNotSafelisted {
        /// Lower-cased header name (`content-type`).
        header: String,
        /// The parsed MIME essence, or `None` when the value is not a MIME type.
        essence: Option<String>,
    },
    /// `Accept-Language`/`Content-Language` uses characters outside `0-9A-Za-z *,-.;=`.
    LanguageValueCharacters {
        /// Lower-cased header name.
        header: String,
    },
    /// `Range` is not a single `bytes=N-[M]` range.
    RangeNotSimple {
        /// Lower-cased header name (`range`).
        header: String,
    },
    /// A client-hint header Chromium safelists has a value of the wrong shape.
    ClientHintValueShape {
        /// Lower-cased header name.
        header: String,
        /// What the value must look like.
        expected: &'static str,
    },
    /// The safelisted headers' values add up to more than 1024 bytes.
    SafelistedValuesTooLarge {
        /// The safelisted headers that become unsafe.
        headers: Vec<String>,
        /// Their total value length.
        total_bytes: usize,
        /// The limit (1024).
        limit_bytes: usize,
    },
    /// The body is a `ReadableStream`.
    ReadableStreamBody,
    /// Listeners were registered on `XMLHttpRequest.upload`.
    UploadListeners,
}

impl PreflightReason {
    /// One sentence a developer understands.
    pub fn describe(&self) -> String {
        match self {
            PreflightReason::MethodNotSafelisted { method } => format!(
                "method {method} is not GET, HEAD or POST (methods are case-sensitive: fetch only upper-cases delete/get/head/options/post/put)"
            ),
            PreflightReason::HeaderNameNotSafelisted { header } if header == "authorization" => {
                "header authorization is never safelisted".to_string()
            }
            PreflightReason::HeaderNameNotSafelisted { header } => {
                format!("header {header} is not a CORS-safelisted request header")
            }
            PreflightReason::HeaderValueTooLong {
                header,
                length_bytes,
                limit_bytes,
            } => format!(
                "header {header} has a {length_bytes}-byte value, over the {limit_bytes}-byte limit for safelisted headers"
            ),
            PreflightReason::HeaderValueUnsafeByte { header, byte } => format!(
                "header {header} contains the byte {} which safelisted values may not contain",
                describe_byte(*byte)
            ),
            PreflightReason::ContentTypeNotSafelisted { header, essence } => match essence {
                Some(essence) => format!(
                    "{header} {essence} is not text/plain, multipart/form-data or application/x-www-form-urlencoded"
                ),
                None => format!("{header} is not a valid MIME type"),
            },
            PreflightReason::LanguageValueCharacters { header } => format!(
                "header {header} uses characters other than letters, digits, space and *,-.;="
            ),
            PreflightReason::RangeNotSimple { header } => format!(
                "header {header} is not a single bytes=N- or bytes=N-M range (suffix ranges, several ranges and spaces are not safelisted)"
            ),
            PreflightReason::ClientHintValueShape { header, expected } => {
                format!(
                    "header {header} is safelisted by Chromium only when its value is {expected}"
                )
            }
            PreflightReason::SafelistedValuesTooLarge {
                headers,
                total_bytes,
                limit_bytes,
            } => format!(
                "the safelisted headers {} add up to {total_bytes} bytes, over the {limit_bytes}-byte total",
                headers.join(", ")
            ),
            PreflightReason::ReadableStreamBody => {
                "the body is a ReadableStream, which is always preflighted".to_string()
            }
            PreflightReason::UploadListeners => {
                "listeners on XMLHttpRequest.upload force a preflight".to_string()
            }
        }
    }
}

fn describe_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("'{}'", byte as char)
    } else {
        format!("0x{byte:02X}")
    }
}

/// The verdict on whether a preflight is sent, with the headers it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreflightDecision {
    /// True when the browser sends an `OPTIONS` preflight first (before any cache lookup).
    pub required: bool,
    /// Every reason, in request order.
    pub reasons: Vec<PreflightReason>,
    /// `Access-Control-Request-Method` as the browser sends it.
    pub access_control_request_method: String,
    /// `Access-Control-Request-Headers` (sorted, lower-cased, comma-joined), if any.
    pub access_control_request_headers: Option<String>,
    /// The CORS-unsafe header names in the order Chromium checks them against
    /// `Access-Control-Allow-Headers`.
    pub unsafe_header_names: Vec<String>,
}

/// fetch's method normalisation: only these six are upper-cased.
pub fn normalize_method(method: &str) -> String {
    let upper = method.to_ascii_uppercase();
    match upper.as_str() {
        "DELETE" | "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT" => upper,
        _ => method.to_string(),
    }
}

/// Methods no page can send (`fetch` throws a TypeError).
pub fn is_forbidden_method(method: &str) -> bool {
    matches!(
        method.to_ascii_uppercase().as_str(),
        "CONNECT" | "TRACE" | "TRACK"
    )
}

/// `GET`, `HEAD`, `POST` (Chromium compares case-insensitively).
pub fn is_safelisted_method(method: &str) -> bool {
    matches!(
        method.to_ascii_uppercase().as_str(),
        "GET" | "HEAD" | "POST"
    )
}

/// Request headers a page cannot set: the browser drops them, so they never reach
/// `Access-Control-Request-Headers`.
pub fn is_forbidden_request_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("proxy-")
        || lower.starts_with("sec-")
        || matches!(
            lower.as_str(),
            "accept-charset"
                | "accept-encoding"
                | "access-control-request-headers"
                | "access-control-request-method"
                | "access-control-request-private-network"
                | "connection"
                | "content-length"
                | "cookie"
                | "cookie2"
                | "date"
                | "dnt"
                | "expect"
                | "host"
                | "keep-alive"
                | "origin"
                | "referer"
                | "set-cookie"
                | "te"
                | "trailer"
                | "transfer-encoding"
                | "upgrade"
                | "via"
        )
}

/// Fetch's CORS-unsafe request-header byte.
pub fn is_cors_unsafe_byte(byte: u8) -> bool {
    (byte < 0x20 && byte != 0x09)
        || matches!(
            byte,
            b'"' | b'('
                | b')'
                | b':'
                | b'<'
                | b'>'
                | b'?'
                | b'@'
                | b'['
                | b'\\'
                | b']'
                | b'{'
                | b'}'
                | 0x7f
        )
}

/// True for an RFC 9110 token.
pub fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|byte| {
            byte.is_ascii_alphanumeric()
                || matches!(
                    byte,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// The MIME essence of a `Content-Type` value as Chromium extracts it
/// (`ExtractMimeTypeFromMediaType` without comma splitting), lower-cased.
pub fn mime_essence(value: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    let before_parameters = lower.split(';').next().unwrap_or("");
    let mut parts = before_parameters.split('/');
    let top = parts.next()?.trim_matches([' ', '\t']);
    let sub = parts.next()?.trim_matches([' ', '\t']);
    if parts.next().is_some() || !is_token(top) || !is_token(sub) {
        return None;
    }
    Some(format!("{top}/{sub}"))
}

fn is_simple_range(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if lower
        .bytes()
        .any(|byte| matches!(byte, b' ' | b'\t' | b','))
        || !lower.is_ascii()
    {
        return false;
    }
    let Some(range) = lower.strip_prefix("bytes=") else {
        return false;
    };
    let Some((first, last)) = range.split_once('-') else {
        return false;
    };
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits(first) {
        return false; // suffix ranges (`bytes=-500`) are not safelisted
    }
    let Ok(first) = first.parse::<u64>() else {
        return false;
    };
    if last.is_empty() {
        return true;
    }
    if !digits(last) {
        return false;
    }
    last.parse::<u64>().is_ok_and(|last| first <= last)
}

fn is_double_like(value: &str) -> bool {
    let mut parts = value.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && parts.next().is_none_or(digits)
}

fn is_int_like(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit())
}

/// Why a single header is not CORS-safelisted in Chromium, or `None` when it is.
pub fn header_unsafe_reason(name: &str, value: &str) -> Option<PreflightReason> {
    let header = name.to_ascii_lowercase();
    if value.len() > SAFELISTED_VALUE_LIMIT_BYTES {
        return Some(PreflightReason::HeaderValueTooLong {
            header,
            length_bytes: value.len(),
            limit_bytes: SAFELISTED_VALUE_LIMIT_BYTES,
        });
    }
    let unsafe_byte = || value.bytes().find(|byte| is_cors_unsafe_byte(*byte));
    let shape = |expected| {
        Some(PreflightReason::ClientHintValueShape {
            header: header.clone(),
            expected,
        })
    };
    match header.as_str() {
        "accept" => unsafe_byte().map(|byte| PreflightReason::HeaderValueUnsafeByte {
            header: header.clone(),
            byte,
        }),
        "accept-language" | "content-language" => {
            let allowed = |byte: u8| {
                byte.is_ascii_alphanumeric()
                    || matches!(byte, b' ' | b'*' | b',' | b'-' | b'.' | b';' | b'=')
            };
            (!value.bytes().all(allowed)).then(|| PreflightReason::LanguageValueCharacters {
                header: header.clone(),
            })
        }
        "content-type" => {
            if let Some(byte) = unsafe_byte() {
                return Some(PreflightReason::HeaderValueUnsafeByte { header, byte });
            }
            let essence = mime_essence(value);
            match essence.as_deref() {
                Some(
                    "text/plain" | "multipart/form-data" | "application/x-www-form-urlencoded",
                ) => None,
                _ => Some(PreflightReason::ContentTypeNotSafelisted { header, essence }),
            }
        }
        "range" => (!is_simple_range(value)).then(|| PreflightReason::RangeNotSimple {
            header: header.clone(),
        }),
        "intervention" => None,
        "device-memory" | "dpr" | "downlink" => {
            if is_double_like(value) {
                None
            } else {
                shape("a number such as 2 or 1.5")
            }
        }
        "width" | "viewport-width" | "rtt" => {
            if is_int_like(value) {
                None
            } else {
                shape("an integer")
            }
        }
        "ect" => {
            if matches!(value, "slow-2g" | "2g" | "3g" | "4g") {
                None
            } else {
                shape("one of slow-2g, 2g, 3g, 4g")
            }
        }
        "save-data" => {
            if value.eq_ignore_ascii_case("on") {
                None
            } else {
                shape("on")
            }
        }
        _ => Some(PreflightReason::HeaderNameNotSafelisted { header }),
    }
}

/// Strips HTTP whitespace around a header value, as `Headers` does.
pub fn normalize_header_value(value: &str) -> &str {
    value.trim_matches([' ', '\t', '\r', '\n'])
}

/// The CORS-unsafe, non-forbidden header names of a header list, lower-cased, in the order
/// Chromium checks them, with the reasons. Blink keeps a request's headers sorted by name, so
/// the order is: unsafe names sorted, then (over the 1024-byte total) the safelisted names
/// sorted. The oracle test confirms Chromium reports the first missing name in that order.
pub fn unsafe_headers(headers: &[(String, String)]) -> (Vec<String>, Vec<PreflightReason>) {
    let mut names = Vec::new();
    let mut reasons = Vec::new();
    let mut safelisted = Vec::new();
    let mut safelisted_total_bytes = 0;
    let mut sorted: Vec<&(String, String)> = headers.iter().collect();
    sorted.sort_by_key(|(name, _)| name.to_ascii_lowercase());
    for (name, value) in sorted {
        if is_forbidden_request_header(name) {
            continue;
        }
        let value = normalize_header_value(value);
        let lower = name.to_ascii_lowercase();
        match header_unsafe_reason(name, value) {
            Some(reason) => {
                names.push(lower);
                reasons.push(reason);
            }
            None => {
                safelisted.push(lower);
                safelisted_total_bytes += value.len();
            }
        }
    }
    if safelisted_total_bytes > SAFELISTED_TOTAL_LIMIT_BYTES {
        reasons.push(PreflightReason::SafelistedValuesTooLarge {
            headers: safelisted.clone(),
            total_bytes: safelisted_total_bytes,
            limit_bytes: SAFELISTED_TOTAL_LIMIT_BYTES,
        });
        names.extend(safelisted);
    }
    (names, reasons)
}

/// `Access-Control-Request-Headers` for a set of unsafe names: sorted, de-duplicated,
/// lower-cased, joined with `,` (no space).
pub fn access_control_request_headers(unsafe_names: &[String]) -> Option<String> {
    let mut sorted: Vec<String> = unsafe_names
        .iter()
        .map(|name| name.to_ascii_lowercase())
        .collect();
    sorted.sort();
    sorted.dedup();
    (!sorted.is_empty()).then(|| sorted.join(","))
}

/// Decides whether `request` is preflighted (ignoring the preflight cache) and why.
pub fn decide(request: &CorsRequest) -> PreflightDecision {
    let method = normalize_method(&request.method);
    let mut reasons = Vec::new();
    if !is_safelisted_method(&method) {
        reasons.push(PreflightReason::MethodNotSafelisted {
            method: method.clone(),
        });
    }
    let (unsafe_header_names, header_reasons) = unsafe_headers(&request.headers);
    reasons.extend(header_reasons);
    if request.body_kind == BodyKind::Stream {
        reasons.push(PreflightReason::ReadableStreamBody);
    }
    if request.upload_listeners {
        reasons.push(PreflightReason::UploadListeners);
    }
    PreflightDecision {
        required: !reasons.is_empty(),
        reasons,
        access_control_request_method: method,
        access_control_request_headers: access_control_request_headers(&unsafe_header_names),
        unsafe_header_names,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn reason(name: &str, value: &str) -> Option<PreflightReason> {
        header_unsafe_reason(name, value)
    }

    #[test]
    fn safelist_table() {
        let safelisted = [
            ("Accept", "application/json"),
            ("Accept", "*/*"),
            ("Accept-Language", "en-US,en;q=0.9"),
            ("Content-Language", "de-DE"),
            ("Content-Type", "text/plain"),
            ("Content-Type", "text/plain;charset=UTF-8"),
            ("Content-Type", "Multipart/Form-Data; boundary=x"),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Range", "bytes=0-10"),
            ("Range", "bytes=5-"),
            ("DPR", "2"),
            ("DPR", "1.5"),
            ("Device-Memory", "8"),
            ("Width", "1024"),
            ("Viewport-Width", "800"),
            ("RTT", "50"),
            ("Downlink", "10.0"),
            ("ECT", "4g"),
            ("Save-Data", "on"),
            ("Intervention", "<anything goes>"),
        ];
        for (name, value) in safelisted {
            assert_eq!(reason(name, value), None, "{name}: {value}");
        }
        let unsafe_cases = [
            ("Authorization", "Bearer x", "header_name_not_safelisted"),
            (
                "X-RPC-Method",
                "Arith.Multiply",
                "header_name_not_safelisted",
            ),
            (
                "Content-Type",
                "application/json",
                "content_type_not_safelisted",
            ),
            (
                "Content-Type",
                "text/plain, application/json",
                "content_type_not_safelisted",
            ),
            (
                "Content-Type",
                "text/plain; a=\"b\"",
                "header_value_unsafe_byte",
            ),
            ("Content-Type", "text", "content_type_not_safelisted"),
            ("Accept", "application/json(", "header_value_unsafe_byte"),
            ("Accept-Language", "en_US", "language_value_characters"),
            ("Range", "bytes=-500", "range_not_simple"),
            ("Range", "bytes=0-1,5-6", "range_not_simple"),
            ("Range", "bytes=10-5", "range_not_simple"),
            ("DPR", "2x", "client_hint_value_shape"),
            ("DPR", "1.", "client_hint_value_shape"),
            ("Width", "1.5", "client_hint_value_shape"),
            ("ECT", "5g", "client_hint_value_shape"),
            ("Save-Data", "off", "client_hint_value_shape"),
        ];
        for (name, value, rule) in unsafe_cases {
            let found = reason(name, value).unwrap_or_else(|| panic!("{name}: {value} safelisted"));
            let json = serde_json::to_value(&found).unwrap();
            assert_eq!(json["rule"], rule, "{name}: {value}");
        }
    }

    #[test]
    fn value_of_129_bytes_is_too_long_but_128_is_fine() {
        let ok = format!("text/plain;x={}", "a".repeat(128 - 13));
        assert_eq!(ok.len(), 128);
        assert_eq!(reason("Content-Type", &ok), None);
        let long = format!("{ok}a");
        assert_eq!(
            reason("Content-Type", &long),
            Some(PreflightReason::HeaderValueTooLong {
                header: "content-type".into(),
                length_bytes: 129,
                limit_bytes: 128
            })
        );
    }

    #[test]
    fn safelisted_total_over_1024_bytes_makes_all_of_them_unsafe() {
        let value = "1".repeat(128);
        let headers: Vec<(String, String)> = [
            "dpr",
            "width",
            "viewport-width",
            "rtt",
            "device-memory",
            "downlink",
            "intervention",
            "accept",
            "accept-language",
        ]
        .iter()
        .map(|name| (name.to_string(), value.clone()))
        .collect();
        let (names, reasons) = unsafe_headers(&headers);
        assert_eq!(names.len(), 9);
        assert!(matches!(
            reasons.as_slice(),
            [PreflightReason::SafelistedValuesTooLarge {
                total_bytes: 1152,
                ..
            }]
        ));
        let (names, _) = unsafe_headers(&headers[..8]);
        assert!(names.is_empty(), "8 x 128 = 1024 is not over the limit");
    }

    #[test]
    fn request_headers_value_is_sorted_lowercase_without_spaces() {
        let request = CorsRequest::new("http://a.test", "http://b.test/rpc")
            .with_method("patch")
            .with_header("X-Trace", "1")
            .with_header("Content-Type", "application/json")
            .with_header("Authorization", "Bearer t")
            .with_header("Cookie", "dropped=1")
            .with_header("Accept", "*/*");
        let decision = decide(&request);
        assert!(decision.required);
        assert_eq!(decision.access_control_request_method, "patch");
        assert_eq!(
            decision.access_control_request_headers.as_deref(),
            Some("authorization,content-type,x-trace")
        );
        assert_eq!(decision.reasons.len(), 4);
        let normalized = decide(&request.clone().with_method("delete"));
        assert_eq!(normalized.access_control_request_method, "DELETE");
    }

    #[test]
    fn simple_requests_need_no_preflight() {
        let request = CorsRequest::new("http://a.test", "http://b.test/rpc")
            .with_method("post")
            .with_header("Content-Type", "text/plain;charset=UTF-8");
        let decision = decide(&request);
        assert!(!decision.required, "{:?}", decision.reasons);
        assert_eq!(decision.access_control_request_headers, None);
    }

    #[test]
    fn streams_and_upload_listeners_force_a_preflight() {
        let mut request = CorsRequest::new("http://a.test", "http://b.test/");
        request.body_kind = BodyKind::Stream;
        request.upload_listeners = true;
        request.method = "POST".into();
        let decision = decide(&request);
        assert_eq!(
            decision.reasons,
            vec![
                PreflightReason::ReadableStreamBody,
                PreflightReason::UploadListeners
            ]
        );
        assert!(decision.reasons.iter().all(|r| !r.describe().is_empty()));
    }
}
