//! Explanations and fixes: one sentence saying why, and the headers the server must send as
//! ready-to-paste snippets for Go `net/http`, axum with tower-http, and nginx.
//!
//! The request, its preflight decision and the engine's outcome enter; a sentence and a
//! [`Fix`] leave.

use serde::Serialize;

use super::error::CorsError;
use super::flow::{HopTrace, Outcome, Stage};
use super::preflight::{PreflightDecision, is_safelisted_method};
use super::request::{CorsRequest, RequestMode};
use super::url::ParsedUrl;
use super::warning::SoftWarning;

/// What the server must send, with snippets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// One sentence: what to change.
    pub summary: String,
    /// Headers for the `OPTIONS` preflight response (answered with 204), empty when the
    /// request is not preflighted.
    pub preflight_response_headers: Vec<(String, String)>,
    /// Headers for every actual response (redirects included).
    pub response_headers: Vec<(String, String)>,
    /// Go `net/http` middleware.
    pub go_net_http: String,
    /// axum + tower-http `CorsLayer`.
    pub axum_tower_http: String,
    /// nginx `location` block.
    pub nginx: String,
}

/// Header name/value pairs in order.
type HeaderPairs = Vec<(String, String)>;

/// The headers that make `request` pass, given the unsafe header names of every hop and the
/// response headers the app reads.
fn required_headers(
    request: &CorsRequest,
    decision: &PreflightDecision,
    exposed: &[String],
) -> (HeaderPairs, HeaderPairs) {
    let origin = request.page_origin.trim().to_string();
    let credentials = request.includes_credentials();
    let mut response = vec![("Access-Control-Allow-Origin".to_string(), origin)];
    if credentials {
        response.push((
            "Access-Control-Allow-Credentials".to_string(),
            "true".to_string(),
        ));
    }
    if !exposed.is_empty() {
        response.push((
            "Access-Control-Expose-Headers".to_string(),
            exposed.join(", "),
        ));
    }
    response.push(("Vary".to_string(), "Origin".to_string()));
    let mut preflight = Vec::new();
    if decision.required {
        preflight.extend(
            response
                .iter()
                .filter(|(name, _)| name != "Access-Control-Expose-Headers")
                .cloned(),
        );
        let method = &decision.access_control_request_method;
        let methods = if is_safelisted_method(method) {
            "GET, POST".to_string()
        } else {
            method.clone()
        };
        preflight.insert(
            preflight.len() - 1,
            ("Access-Control-Allow-Methods".to_string(), methods),
        );
        if !decision.unsafe_header_names.is_empty() {
            let mut names = decision.unsafe_header_names.clone();
            names.sort();
            names.dedup();
            preflight.insert(
                preflight.len() - 1,
                ("Access-Control-Allow-Headers".to_string(), names.join(", ")),
            );
        }
        preflight.insert(
            preflight.len() - 1,
            ("Access-Control-Max-Age".to_string(), "600".to_string()),
        );
    }
    (preflight, response)
}

fn go_snippet(
    origin: &str,
    preflight: &[(String, String)],
    response: &[(String, String)],
) -> String {
    let mut text = String::from(
        "func withCORS(next http.Handler) http.Handler {\n\treturn http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {\n\t\th := w.Header()\n",
    );
    text.push_str(&format!(
        "\t\tif r.Header.Get(\"Origin\") == {origin:?} {{\n"
    ));
    for (name, value) in response {
        let verb = if name == "Vary" { "Add" } else { "Set" };
        text.push_str(&format!("\t\t\th.{verb}({name:?}, {value:?})\n"));
    }
    text.push_str("\t\t}\n");
    if !preflight.is_empty() {
        text.push_str(
            "\t\tif r.Method == http.MethodOptions && r.Header.Get(\"Access-Control-Request-Method\") != \"\" {\n",
        );
        for (name, value) in preflight
            .iter()
            .filter(|(name, _)| !response.iter().any(|(other, _)| other == name))
        {
            text.push_str(&format!("\t\t\th.Set({name:?}, {value:?})\n"));
        }
        text.push_str("\t\t\tw.WriteHeader(http.StatusNoContent)\n\t\t\treturn\n\t\t}\n");
    }
    text.push_str("\t\tnext.ServeHTTP(w, r)\n\t})\n}\n");
    text
}

fn axum_snippet(
    origin: &str,
    preflight: &[(String, String)],
    response: &[(String, String)],
) -> String {
    let value = |name: &str| {
        preflight
            .iter()
            .chain(response)
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.clone())
    };
    let mut text = String::from(
        "use std::time::Duration;\nuse axum::http::{HeaderName, HeaderValue, Method};\nuse tower_http::cors::CorsLayer;\n\nlet cors = CorsLayer::new()\n",
    );
    text.push_str(&format!(
        "    .allow_origin(HeaderValue::from_static({origin:?}))\n"
    ));
    if let Some(methods) = value("Access-Control-Allow-Methods") {
        let list: Vec<String> = methods
            .split(", ")
            .map(|method| match method {
                "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS" => {
                    format!("Method::{method}")
                }
                other => format!("Method::from_bytes(b{other:?}).unwrap()"),
            })
            .collect();
        text.push_str(&format!("    .allow_methods([{}])\n", list.join(", ")));
    }
    if let Some(headers) = value("Access-Control-Allow-Headers") {
        let list: Vec<String> = headers
            .split(", ")
            .map(|name| format!("HeaderName::from_static({name:?})"))
            .collect();
        text.push_str(&format!("    .allow_headers([{}])\n", list.join(", ")));
    }
    if value("Access-Control-Allow-Credentials").is_some() {
        text.push_str("    .allow_credentials(true)\n");
    }
    if let Some(exposed) = value("Access-Control-Expose-Headers") {
        let list: Vec<String> = exposed
            .split(", ")
            .map(|name| format!("HeaderName::from_static({name:?})"))
            .collect();
        text.push_str(&format!("    .expose_headers([{}])\n", list.join(", ")));
    }
    if value("Access-Control-Max-Age").is_some() {
        text.push_str("    .max_age(Duration::from_secs(600))\n");
    }
    text.push_str(
        "    ;\nlet app = app.layer(cors); // CorsLayer answers the OPTIONS preflight itself\n",
    );
    text
}

fn nginx_snippet(
    path: &str,
    preflight: &[(String, String)],
    response: &[(String, String)],
) -> String {
    let mut text = format!("location {path} {{\n");
    if !preflight.is_empty() {
        text.push_str("    if ($request_method = OPTIONS) {\n");
        for (name, value) in preflight {
            text.push_str(&format!("        add_header {name} \"{value}\" always;\n"));
        }
        text.push_str("        return 204;\n    }\n");
    }
    for (name, value) in response {
        text.push_str(&format!("    add_header {name} \"{value}\" always;\n"));
    }
    text.push_str("    proxy_pass http://backend; # your upstream\n}\n");
    text
}

/// Builds the fix for `request`. `reads_unexposed` are response headers the app reads that
/// are not exposed yet.
pub fn build_fix(
    request: &CorsRequest,
    decision: &PreflightDecision,
    outcome: &Outcome,
    warnings: &[SoftWarning],
) -> Option<Fix> {
    let exposed: Vec<String> = warnings
        .iter()
        .filter_map(|warning| match warning {
            SoftWarning::UnexposedResponseHeader { header } => Some(header.clone()),
            _ => None,
        })
        .collect();
    let header_fixable_warning = warnings.iter().any(|warning| {
        !matches!(
            warning,
            SoftWarning::LocalNetworkAccessPermissionNeeded { .. }
        )
    });
    let needs_fix = matches!(outcome, Outcome::CorsBlocked { .. }) || header_fixable_warning;
    if !needs_fix {
        return None;
    }
    let summary = match outcome {
        Outcome::CorsBlocked { cors_error, .. } => match cors_error {
            CorsError::DisallowedByMode => {
                "Use mode: \"cors\" (the default) for cross-origin URLs, then send the headers below from the server.".to_string()
            }
            CorsError::NoCorsRedirectModeNotFollow => {
                "Use redirect: \"follow\" with mode: \"no-cors\", or switch to mode: \"cors\" and send the headers below.".to_string()
            }
            CorsError::CorsDisabledScheme => {
                "Serve the resource over http or https; other schemes cannot be fetched cross-origin.".to_string()
            }
            CorsError::RedirectContainsCredentials => {
                "Remove user:password@ from the redirect's Location (send credentials in a header instead).".to_string()
            }
            CorsError::PreflightDisallowedRedirect => {
                "Answer OPTIONS at this exact URL with 204 and the preflight headers below instead of redirecting (or call the final URL directly).".to_string()
            }
            CorsError::InsecureLocalNetwork => {
                "Serve the page over https (a secure context) or move the API to the page's own address space; insecure pages may not reach private or loopback addresses.".to_string()
            }
            CorsError::InvalidLocalNetworkAccess => {
                "Set fetch's targetAddressSpace to the address space the server really is in (\"loopback\" for 127.0.0.1/localhost, \"local\" for private networks), or leave it out.".to_string()
            }
            CorsError::LocalNetworkAccessPermissionDenied => {
                "The user must grant the page the Local Network Access permission (or serve the API from a public address); CORS headers alone cannot fix this.".to_string()
            }
            CorsError::PreflightInvalidStatus => {
                "Answer OPTIONS with 204 (any 2xx) before auth or routing rejects it, with the preflight headers below.".to_string()
            }
            CorsError::AllowOriginMismatch | CorsError::PreflightAllowOriginMismatch
                if request_origin_tainted(outcome) =>
            {
                "After a cross-origin redirect the browser sends Origin: null; call the final URL directly, or answer that hop with Access-Control-Allow-Origin: null (credentials) or * (no credentials).".to_string()
            }
            _ => "Send exactly these headers from the server (echo one allowed origin, never a list; 'true' in lower case).".to_string(),
        },
        _ => "The request works; these headers also fix the warnings below.".to_string(),
    };
    let (preflight, response) = required_headers(request, decision, &exposed);
    let path = ParsedUrl::parse(&request.url)
        .map(|url| {
            url.path_and_query
                .split(['?', '#'])
                .next()
                .unwrap_or("/")
                .to_string()
        })
        .unwrap_or_else(|_| "/".to_string());
    let origin = request.page_origin.trim();
    Some(Fix {
        summary,
        go_net_http: go_snippet(origin, &preflight, &response),
        axum_tower_http: axum_snippet(origin, &preflight, &response),
        nginx: nginx_snippet(&path, &preflight, &response),
        preflight_response_headers: preflight,
        response_headers: response,
    })
}

fn request_origin_tainted(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::CorsBlocked { hop, failed_parameter, .. } if *hop > 0 && failed_parameter != "null")
}

fn first_reason(decision: &PreflightDecision) -> String {
    decision
        .reasons
        .first()
        .map(|reason| reason.describe())
        .unwrap_or_else(|| "it is not a simple request".to_string())
}

/// One sentence explaining the outcome.
pub fn explain(
    request: &CorsRequest,
    decision: &PreflightDecision,
    outcome: &Outcome,
    trace: &[HopTrace],
) -> String {
    let origin = request.page_origin.trim();
    let hop_of = |hop: usize| trace.get(hop);
    let url_of = |hop: usize| hop_of(hop).map_or(request.url.clone(), |trace| trace.url.clone());
    let sent_origin = |hop: usize| {
        hop_of(hop)
            .and_then(|trace| trace.origin_header.clone())
            .unwrap_or_else(|| origin.to_string())
    };
    match outcome {
        Outcome::Allowed {
            opaque: true,
            cors_applied: _,
        } if request.mode == RequestMode::NoCors => format!(
            "Not blocked, but mode \"no-cors\" gives the page an opaque response from {}: it cannot read the status, headers or body.",
            request.url
        ),
        Outcome::Allowed { opaque: true, .. } => {
            "Not blocked; redirect: \"manual\" returns an opaque redirect the page cannot read."
                .to_string()
        }
        Outcome::Allowed {
            cors_applied: false,
            ..
        } => format!(
            "Allowed: {} is same-origin with {origin}, so CORS does not apply.",
            request.url
        ),
        Outcome::Allowed { .. } => {
            let preflighted = trace.iter().any(|hop| hop.preflight_status.is_some());
            format!(
                "Allowed: the server at {} lets {origin} read the response{}.",
                url_of(trace.len().saturating_sub(1)),
                if preflighted {
                    " after a successful preflight"
                } else {
                    " (no preflight was needed)"
                }
            )
        }
        Outcome::Failed { error, stage, hop } => match stage {
            Stage::BeforeSending => format!("The page threw before sending anything: {error}."),
            Stage::Preflight => format!(
                "The OPTIONS preflight to {} failed at the network level ({error}), so the request was never sent; this is not a CORS header problem: check that the server is reachable.",
                url_of(*hop)
            ),
            Stage::Connection | Stage::Response | Stage::Redirect => format!(
                "The request to {} failed at the network level ({error}); no CORS check ran.",
                url_of(*hop)
            ),
        },
        Outcome::Incomplete { missing, .. } => {
            if decision.required {
                format!(
                    "Cannot decide yet ({missing}); a preflight is required because {}.",
                    first_reason(decision)
                )
            } else {
                format!("Cannot decide yet ({missing}).")
            }
        }
        Outcome::CorsBlocked {
            cors_error,
            failed_parameter,
            hop,
            ..
        } => {
            let url = url_of(*hop);
            let sent = sent_origin(*hop);
            let status = hop_of(*hop).and_then(|trace| trace.preflight_status);
            let status_text =
                status.map_or_else(String::new, |status| format!(" (status {status})"));
            let why_preflight = first_reason(decision);
            let p = failed_parameter;
            match cors_error {
                CorsError::DisallowedByMode => format!(
                    "Blocked in the page: mode \"same-origin\" refuses the cross-origin URL {url}."
                ),
                CorsError::NoCorsRedirectModeNotFollow => {
                    "Blocked in the page: mode \"no-cors\" requires redirect: \"follow\"."
                        .to_string()
                }
                CorsError::CorsDisabledScheme => format!(
                    "Blocked in the page: the scheme of {url} does not support CORS (only http and https do)."
                ),
                CorsError::MissingAllowOriginHeader => format!(
                    "The response from {url} has no Access-Control-Allow-Origin header, so the browser hides it from {sent}."
                ),
                CorsError::WildcardOriginNotAllowed => format!(
                    "The response from {url} allows any origin (*), but the request includes credentials, which needs the exact origin {sent}."
                ),
                CorsError::MultipleAllowOriginValues => format!(
                    "The response from {url} sends several Access-Control-Allow-Origin values ('{p}'); exactly one origin is allowed."
                ),
                CorsError::InvalidAllowOriginValue => format!(
                    "The response from {url} has Access-Control-Allow-Origin '{p}', which is not an origin."
                ),
                CorsError::AllowOriginMismatch => format!(
                    "The response from {url} allows origin '{p}', not the request's origin '{sent}'."
                ),
                CorsError::InvalidAllowCredentials => format!(
                    "The request includes credentials, but the response from {url} has Access-Control-Allow-Credentials '{p}' instead of exactly 'true'."
                ),
                CorsError::PreflightInvalidStatus => format!(
                    "The OPTIONS preflight to {url} (sent because {why_preflight}) was answered with {}, not a 2xx status, so the request was never sent.",
                    status.map_or_else(
                        || "an error status".to_string(),
                        |status| format!("status {status}")
                    )
                ),
                CorsError::PreflightDisallowedRedirect => format!(
                    "The OPTIONS preflight to {url} was answered with a redirect{status_text}, which browsers never follow, so the request was never sent."
                ),
                CorsError::PreflightMissingAllowOriginHeader => format!(
                    "The OPTIONS preflight to {url} (sent because {why_preflight}) got a response{status_text} without Access-Control-Allow-Origin, so the request was never sent."
                ),
                CorsError::PreflightWildcardOriginNotAllowed => format!(
                    "The OPTIONS preflight to {url} allows any origin (*), but the request includes credentials, which needs the exact origin {sent}; the request was never sent."
                ),
                CorsError::PreflightMultipleAllowOriginValues => format!(
                    "The OPTIONS preflight to {url} sends several Access-Control-Allow-Origin values ('{p}'), so the request was never sent."
                ),
                CorsError::PreflightInvalidAllowOriginValue => format!(
                    "The OPTIONS preflight to {url} has Access-Control-Allow-Origin '{p}', which is not an origin, so the request was never sent."
                ),
                CorsError::PreflightAllowOriginMismatch => format!(
                    "The OPTIONS preflight to {url} allows origin '{p}', not '{sent}', so the request was never sent."
                ),
                CorsError::PreflightInvalidAllowCredentials => format!(
                    "The request includes credentials, but the OPTIONS preflight to {url} has Access-Control-Allow-Credentials '{p}' instead of 'true', so the request was never sent."
                ),
                CorsError::InvalidAllowMethodsPreflightResponse => format!(
                    "The OPTIONS preflight to {url} has an Access-Control-Allow-Methods value that is not a comma-separated list of method names."
                ),
                CorsError::InvalidAllowHeadersPreflightResponse => format!(
                    "The OPTIONS preflight to {url} has an Access-Control-Allow-Headers value that is not a comma-separated list of header names."
                ),
                CorsError::MethodDisallowedByPreflightResponse => format!(
                    "The OPTIONS preflight to {url} does not list method {p} in Access-Control-Allow-Methods (matching is case-sensitive), so the request was never sent."
                ),
                CorsError::HeaderDisallowedByPreflightResponse => format!(
                    "The OPTIONS preflight to {url} does not list request header {p} in Access-Control-Allow-Headers, so the request was never sent."
                ),
                CorsError::InsecureLocalNetwork => format!(
                    "Blocked when connecting: {url} is in a more private address space than the page, and the page {origin} is not a secure context (Local Network Access)."
                ),
                CorsError::InvalidLocalNetworkAccess => format!(
                    "Blocked when connecting: the page declared a targetAddressSpace for {url} that is not the address space the server was reached in."
                ),
                CorsError::LocalNetworkAccessPermissionDenied => format!(
                    "Blocked when connecting: {url} is in a more private address space than the page {origin} and the Local Network Access permission was not granted."
                ),
                CorsError::RedirectContainsCredentials => format!(
                    "The response from {url} redirects to a URL with user:password@, which CORS requests may not follow."
                ),
                other => format!("Blocked by Chromium with {other} ('{p}') on {url}."),
            }
        }
    }
}
