//! Reading Chromium's CORS console messages, the text developers paste into bug reports
//! ("Access to fetch at '…' from origin '…' has been blocked by CORS policy: …"), back into
//! the `Network.CorsError` value and `failedParameter` DevTools reports for the same failure.
//!
//! A message enters as text; a [`ConsoleCorsMessage`] leaves, or a [`ConsoleParseError`]
//! saying why the text is not one of Chromium's CORS messages. The templates are the ones
//! Chromium 156 prints (checked by the oracle test against the real console).

use serde::Serialize;

use super::error::CorsError;

/// What a CORS console message says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsoleCorsMessage {
    /// `fetch`, `XMLHttpRequest`, `script`, ... (`fetch` for "Fetch API cannot load").
    pub resource_kind: String,
    /// The URL that was blocked (after redirects).
    pub url: String,
    /// The URL first requested, when the message says "(redirected from …)".
    pub redirected_from: Option<String>,
    /// The page's origin, when the message names it.
    pub origin: Option<String>,
    /// The `Network.CorsError` value.
    pub cors_error: CorsError,
    /// `failedParameter` as CDP reports it.
    pub failed_parameter: String,
}

/// Why a text could not be read as a CORS console message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsoleParseError {
    /// The text is not a CORS message at all.
    #[error(
        "not a CORS console message (expected \"Access to … has been blocked by CORS policy: …\" or \"Fetch API cannot load …\")"
    )]
    NotCors,
    /// The prefix is a CORS message, but the reason is not one this version knows.
    #[error("unknown CORS reason: {reason}")]
    UnknownReason {
        /// The text after "blocked by CORS policy: ".
        reason: String,
    },
}

const BLOCKED: &str = " has been blocked by CORS policy: ";
const PREFLIGHT: &str = "Response to preflight request doesn't pass access control check: ";

/// Text between `start` and the last `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(start)?;
    let stop = rest.rfind(end)?;
    Some(&rest[..stop])
}

fn reason_to_error(reason: &str, preflight: bool) -> Option<(CorsError, String)> {
    let twin = |error: CorsError| {
        if preflight {
            error.on_preflight()
        } else {
            error
        }
    };
    let reason = reason.trim();
    if reason
        .starts_with("No 'Access-Control-Allow-Origin' header is present on the requested resource")
    {
        return Some((twin(CorsError::MissingAllowOriginHeader), String::new()));
    }
    if let Some(value) = between(
        reason,
        "The 'Access-Control-Allow-Origin' header has a value '",
        "' that is not equal to the supplied origin.",
    ) {
        return Some((twin(CorsError::AllowOriginMismatch), value.to_string()));
    }
    if let Some(value) = between(
        reason,
        "The 'Access-Control-Allow-Origin' header contains the invalid value '",
        "'.",
    ) {
        return Some((twin(CorsError::InvalidAllowOriginValue), value.to_string()));
    }
    if let Some(value) = between(
        reason,
        "The 'Access-Control-Allow-Origin' header contains multiple values '",
        "', but only one is allowed.",
    ) {
        return Some((
            twin(CorsError::MultipleAllowOriginValues),
            value.to_string(),
        ));
    }
    if reason.starts_with(
        "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*'",
    ) {
        return Some((twin(CorsError::WildcardOriginNotAllowed), String::new()));
    }
    if let Some(value) = between(
        reason,
        "The value of the 'Access-Control-Allow-Credentials' header in the response is '",
        "' which must be 'true'",
    ) {
        return Some((twin(CorsError::InvalidAllowCredentials), value.to_string()));
    }
    if reason.starts_with("It does not have HTTP ok status") {
        return Some((CorsError::PreflightInvalidStatus, String::new()));
    }
    if reason.starts_with("Redirect is not allowed for a preflight request") {
        return Some((CorsError::PreflightDisallowedRedirect, String::new()));
    }
    if let Some(name) = between(
        reason,
        "Request header field ",
        " is not allowed by Access-Control-Allow-Headers in preflight response.",
    ) {
        return Some((
            CorsError::HeaderDisallowedByPreflightResponse,
            name.to_string(),
        ));
    }
    if let Some(method) = between(
        reason,
        "Method ",
        " is not allowed by Access-Control-Allow-Methods in preflight response.",
    ) {
        return Some((
            CorsError::MethodDisallowedByPreflightResponse,
            method.to_string(),
        ));
    }
    if reason.starts_with("Cannot parse Access-Control-Allow-Methods response header field") {
        return Some((
            CorsError::InvalidAllowMethodsPreflightResponse,
            String::new(),
        ));
    }
    if reason.starts_with("Cannot parse Access-Control-Allow-Headers response header field") {
        return Some((
            CorsError::InvalidAllowHeadersPreflightResponse,
            String::new(),
        ));
    }
    if let Some(location) = between(
        reason,
        "Redirect location '",
        "' contains a username and password",
    ) {
        return Some((CorsError::RedirectContainsCredentials, location.to_string()));
    }
    if reason.starts_with("Permission was denied for this request to access the ") {
        return Some((CorsError::LocalNetworkAccessPermissionDenied, String::new()));
    }
    if reason.starts_with("Request had a target IP address space of ") {
        return Some((CorsError::InvalidLocalNetworkAccess, String::new()));
    }
    if reason.starts_with("The request client is not a secure context and the resource is in more-private address space") {
        return Some((CorsError::InsecureLocalNetwork, String::new()));
    }
    None
}

/// Reads one console message. Leading text such as a console prefix or a timestamp before
/// "Access to" / "Fetch API cannot load" is ignored.
pub fn parse_console_message(text: &str) -> Result<ConsoleCorsMessage, ConsoleParseError> {
    let text = text.trim();
    if let Some(start) = text.find("Fetch API cannot load ") {
        let rest = &text[start + "Fetch API cannot load ".len()..];
        let (url, reason) = rest.split_once(". ").ok_or(ConsoleParseError::NotCors)?;
        let (cors_error, failed_parameter, origin) = if let Some(origin) = reason
            .strip_prefix("Request mode is \"same-origin\" but the URL's origin is not same as the request origin ")
        {
            (
                CorsError::DisallowedByMode,
                String::new(),
                Some(origin.trim_end_matches('.').to_string()),
            )
        } else if reason.starts_with("Request mode is \"no-cors\" but the redirect mode is not \"follow\"") {
            (CorsError::NoCorsRedirectModeNotFollow, String::new(), None)
        } else if let Some(scheme) = between(reason, "URL scheme \"", "\" is not supported.") {
            (CorsError::CorsDisabledScheme, scheme.to_string(), None)
        } else {
            return Err(ConsoleParseError::UnknownReason {
                reason: reason.to_string(),
            });
        };
        return Ok(ConsoleCorsMessage {
            resource_kind: "fetch".to_string(),
            url: url.to_string(),
            redirected_from: None,
            origin,
            cors_error,
            failed_parameter,
        });
    }
    let start = text.find("Access to ").ok_or(ConsoleParseError::NotCors)?;
    let text = &text[start + "Access to ".len()..];
    let (head, reason) = text.split_once(BLOCKED).ok_or(ConsoleParseError::NotCors)?;
    let (kind, rest) = head.split_once(" at '").ok_or(ConsoleParseError::NotCors)?;
    let (url, rest) = rest.split_once('\'').ok_or(ConsoleParseError::NotCors)?;
    let rest = rest.trim_start();
    let (redirected_from, rest) = match rest.strip_prefix("(redirected from '") {
        Some(after) => {
            let (initial, rest) = after.split_once("')").ok_or(ConsoleParseError::NotCors)?;
            (Some(initial.to_string()), rest.trim_start())
        }
        None => (None, rest),
    };
    let origin = between(rest, "from origin '", "'").map(str::to_string);
    let (preflight, reason) = match reason.strip_prefix(PREFLIGHT) {
        Some(reason) => (true, reason),
        None => (false, reason),
    };
    let (cors_error, failed_parameter) =
        reason_to_error(reason, preflight).ok_or_else(|| ConsoleParseError::UnknownReason {
            reason: reason.to_string(),
        })?;
    Ok(ConsoleCorsMessage {
        resource_kind: kind.to_string(),
        url: url.to_string(),
        redirected_from,
        origin,
        cors_error,
        failed_parameter,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const HEAD: &str = "Access to fetch at 'http://127.0.0.1:5000/rpc' from origin 'http://127.0.0.1:4000' has been blocked by CORS policy: ";

    #[test]
    fn chromium_messages_read_back_to_cors_errors() {
        let cases = [
            (
                "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
                CorsError::MissingAllowOriginHeader,
                "",
            ),
            (
                "Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.",
                CorsError::PreflightMissingAllowOriginHeader,
                "",
            ),
            (
                "The 'Access-Control-Allow-Origin' header has a value 'http://a.test' that is not equal to the supplied origin. Have the server send the header with a valid value.",
                CorsError::AllowOriginMismatch,
                "http://a.test",
            ),
            (
                "The 'Access-Control-Allow-Origin' header contains multiple values 'a, b', but only one is allowed. Have the server send the header with a valid value.",
                CorsError::MultipleAllowOriginValues,
                "a, b",
            ),
            (
                "The 'Access-Control-Allow-Origin' header contains the invalid value ''. Have the server send the header with a valid value.",
                CorsError::InvalidAllowOriginValue,
                "",
            ),
            (
                "Response to preflight request doesn't pass access control check: It does not have HTTP ok status.",
                CorsError::PreflightInvalidStatus,
                "",
            ),
            (
                "Request header field x-rpc-method is not allowed by Access-Control-Allow-Headers in preflight response.",
                CorsError::HeaderDisallowedByPreflightResponse,
                "x-rpc-method",
            ),
            (
                "Method patch is not allowed by Access-Control-Allow-Methods in preflight response.",
                CorsError::MethodDisallowedByPreflightResponse,
                "patch",
            ),
            (
                "The value of the 'Access-Control-Allow-Credentials' header in the response is 'True' which must be 'true' when the request's credentials mode is 'include'.",
                CorsError::InvalidAllowCredentials,
                "True",
            ),
            (
                "Response to preflight request doesn't pass access control check: The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.",
                CorsError::PreflightWildcardOriginNotAllowed,
                "",
            ),
            (
                "Permission was denied for this request to access the `loopback` address space.",
                CorsError::LocalNetworkAccessPermissionDenied,
                "",
            ),
        ];
        for (reason, error, parameter) in cases {
            let parsed = parse_console_message(&format!("{HEAD}{reason}")).unwrap();
            assert_eq!(
                (parsed.cors_error, parsed.failed_parameter.as_str()),
                (error, parameter),
                "{reason}"
            );
            assert_eq!(parsed.url, "http://127.0.0.1:5000/rpc");
            assert_eq!(parsed.origin.as_deref(), Some("http://127.0.0.1:4000"));
        }
    }

    #[test]
    fn redirects_renderer_messages_and_garbage() {
        let redirected = parse_console_message("Access to XMLHttpRequest at 'http://b.test/x' (redirected from 'http://a.test/x') from origin 'http://o.test' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource.").unwrap();
        assert_eq!(redirected.resource_kind, "XMLHttpRequest");
        assert_eq!(
            redirected.redirected_from.as_deref(),
            Some("http://a.test/x")
        );
        let scheme = parse_console_message(
            "Fetch API cannot load ftp://127.0.0.1:1/x. URL scheme \"ftp\" is not supported.",
        )
        .unwrap();
        assert_eq!(
            (scheme.cors_error, scheme.failed_parameter.as_str()),
            (CorsError::CorsDisabledScheme, "ftp")
        );
        let mode = parse_console_message("Fetch API cannot load http://b.test/x. Request mode is \"same-origin\" but the URL's origin is not same as the request origin http://a.test.").unwrap();
        assert_eq!(mode.origin.as_deref(), Some("http://a.test"));
        assert_eq!(
            parse_console_message("TypeError: Failed to fetch"),
            Err(ConsoleParseError::NotCors)
        );
        assert!(matches!(
            parse_console_message(&format!("{HEAD}Something new.")),
            Err(ConsoleParseError::UnknownReason { .. })
        ));
    }
}

/// A console message explained: the sentence, the fix with what the message tells (method,
/// header, credentials), and the `framescope cors-check` command that finds out the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsoleExplanation {
    /// What the message says.
    #[serde(flatten)]
    pub message: ConsoleCorsMessage,
    /// One sentence for the developer.
    pub explanation: String,
    /// The server headers that fix it, as far as the message tells.
    pub fix: Option<super::Fix>,
    /// A probe of the server with what the message tells.
    pub probe_command: Option<String>,
}

/// Explains a parsed console message.
pub fn explain_console_message(message: &ConsoleCorsMessage) -> ConsoleExplanation {
    use super::flow::{HopTrace, Outcome, Stage};
    use super::preflight::{PreflightDecision, access_control_request_headers};
    use super::request::{CorsRequest, CredentialsMode};
    let error = message.cors_error;
    let origin = message.origin.clone().unwrap_or_else(|| "null".to_string());
    let mut request = CorsRequest::new(origin.clone(), message.url.clone());
    if error == CorsError::MethodDisallowedByPreflightResponse {
        request.method = message.failed_parameter.clone();
    }
    if error == CorsError::HeaderDisallowedByPreflightResponse {
        request
            .headers
            .push((message.failed_parameter.clone(), String::new()));
    }
    if matches!(
        error,
        CorsError::WildcardOriginNotAllowed
            | CorsError::InvalidAllowCredentials
            | CorsError::PreflightWildcardOriginNotAllowed
            | CorsError::PreflightInvalidAllowCredentials
    ) {
        request.credentials = CredentialsMode::Include;
    }
    let unsafe_names: Vec<String> = request
        .headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    let decision = PreflightDecision {
        required: error.is_preflight(),
        reasons: Vec::new(),
        access_control_request_method: request.method.clone(),
        access_control_request_headers: access_control_request_headers(&unsafe_names),
        unsafe_header_names: unsafe_names,
    };
    let hop = usize::from(message.redirected_from.is_some());
    let stage = if error.is_preflight() {
        Stage::Preflight
    } else {
        Stage::Response
    };
    let outcome = Outcome::CorsBlocked {
        cors_error: error,
        failed_parameter: message.failed_parameter.clone(),
        stage,
        hop,
    };
    let mut trace = Vec::new();
    if let Some(first) = &message.redirected_from {
        trace.push(HopTrace {
            url: first.clone(),
            method: request.method.clone(),
            origin_header: Some(origin.clone()),
            preflight_required: decision.required,
            preflight_cached: false,
            preflight_status: None,
            response_status: None,
        });
    }
    trace.push(HopTrace {
        url: message.url.clone(),
        method: request.method.clone(),
        origin_header: Some(origin),
        preflight_required: decision.required,
        preflight_cached: false,
        preflight_status: None,
        response_status: None,
    });
    let explanation = super::fix::explain(&request, &decision, &outcome, &trace);
    let fix = super::fix::build_fix(&request, &decision, &outcome, &[]);
    let probe_command = message.origin.as_ref().map(|_| {
        let probe_request = CorsRequest {
            url: message
                .redirected_from
                .clone()
                .unwrap_or_else(|| message.url.clone()),
            headers: request
                .headers
                .iter()
                .map(|(name, _)| (name.clone(), "1".to_string()))
                .collect(),
            ..request.clone()
        };
        super::capture::probe_command(&probe_request)
    });
    ConsoleExplanation {
        message: message.clone(),
        explanation,
        fix,
        probe_command,
    }
}

#[cfg(test)]
mod explain_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_pasted_message_gets_a_sentence_a_fix_and_a_probe() {
        let message = parse_console_message("Access to fetch at 'http://127.0.0.1:5000/rpc' from origin 'http://127.0.0.1:4000' has been blocked by CORS policy: Request header field x-rpc-method is not allowed by Access-Control-Allow-Headers in preflight response.").unwrap();
        let explained = explain_console_message(&message);
        assert!(
            explained.explanation.contains("x-rpc-method"),
            "{}",
            explained.explanation
        );
        let fix = explained.fix.unwrap();
        assert!(fix.preflight_response_headers.contains(&(
            "Access-Control-Allow-Headers".to_string(),
            "x-rpc-method".to_string()
        )));
        assert_eq!(
            explained.probe_command.as_deref(),
            Some(
                "framescope cors-check http://127.0.0.1:5000/rpc --origin http://127.0.0.1:4000 -H 'x-rpc-method: 1'"
            )
        );
    }
}
