//! From captured traffic to a CORS diagnosis, for the page where `fetch` only says
//! `TypeError: Failed to fetch`.
//!
//! Capture events enter (`page`, `http_request`, `http_failure`, `http_response`, and the
//! extension's `cors_preflight` observed through `chrome.webRequest`); for each HTTP exchange
//! a [`CaptureDiagnosis`] leaves: the request rebuilt as a [`CorsRequest`], whether it was
//! cross-origin and preflighted and why, a headline such as "likely blocked by the
//! preflight" (or, when the preflight itself was observed, Chromium's exact error), and the
//! `framescope cors-check` command that probes the server to say exactly why.

use std::collections::BTreeMap;

use serde::Serialize;

use super::preflight::{PreflightDecision, decide, normalize_method};
use super::request::{
    BodyKind, CorsRequest, CredentialsMode, Observations, ObservedHop, ObservedResponse,
    RedirectMode, RequestMode,
};
use super::url::{ParsedUrl, normalize_origin};
use super::{AnalyzerOptions, CorsAnalysis, Described, PreflightReason, Verdict, analyze};
use crate::event::{CaptureEvent, EventBody, HttpFailureKind};

/// What the capture says about one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LikelyCause {
    /// Failed, cross-origin and preflighted: most likely the preflight was refused.
    LikelyBlockedByPreflight,
    /// The observed preflight response refuses the request (exact Chromium error known).
    BlockedByPreflight,
    /// The observed preflight passed, so the response's headers (or the network) failed.
    LikelyBlockedAfterPreflight,
    /// Failed, cross-origin, no preflight: most likely the response lacked the CORS headers
    /// (or the server was unreachable; the page cannot tell).
    LikelyBlockedByResponseHeaders,
    /// Failed, but the URL is same-origin: not CORS (network, CSP, mixed content, ...).
    NotCors,
    /// Failed because the page threw before sending (forbidden method, no-cors rules).
    RejectedInPage,
    /// A response arrived: CORS let it through.
    Passed,
    /// No outcome captured yet.
    Pending,
    /// Aborted or timed out by the app.
    AbortedOrTimedOut,
}

/// The diagnosis of one captured HTTP exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaptureDiagnosis {
    /// Session of the page.
    pub session_id: String,
    /// Connection (exchange) id.
    pub connection_id: String,
    /// The request, rebuilt.
    pub request: CorsRequest,
    /// True when the URL is cross-origin to the page.
    pub cross_origin: bool,
    /// True when the browser sent (or would send, without a cache hit) a preflight.
    pub preflight_required: bool,
    /// Every reason for the preflight.
    pub preflight_reasons: Vec<Described<PreflightReason>>,
    /// What most likely happened.
    pub likely: LikelyCause,
    /// One sentence for the developer.
    pub headline: String,
    /// The error the page saw, if any (`TypeError: Failed to fetch`).
    pub page_error: Option<String>,
    /// A `framescope cors-check` command that probes the server like the browser did.
    pub probe_command: String,
    /// The analysis with the observed preflight, when the extension saw one.
    pub analysis: Option<CorsAnalysis>,
}

/// Error rebuilding a request from capture events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// No `http_request` event for the connection.
    #[error("no http_request event for connection {connection_id}")]
    NoRequest {
        /// The connection asked for.
        connection_id: String,
    },
    /// No `page` event tells the page's origin.
    #[error("no page event gives the origin of session {session_id}")]
    NoPageOrigin {
        /// The session of the request.
        session_id: String,
    },
}

fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The `framescope cors-check` command line that reproduces `request`.
pub fn probe_command(request: &CorsRequest) -> String {
    let mut command = format!(
        "framescope cors-check {} --origin {}",
        shell_quote(&request.url),
        shell_quote(&normalize_origin(&request.page_origin))
    );
    if request.method != "GET" {
        command.push_str(&format!(" --method {}", shell_quote(&request.method)));
    }
    for (name, value) in &request.headers {
        command.push_str(&format!(" -H {}", shell_quote(&format!("{name}: {value}"))));
    }
    if request.includes_credentials() {
        command.push_str(" --credentials");
    }
    command
}

fn page_origins(events: &[CaptureEvent]) -> BTreeMap<&str, String> {
    let mut origins = BTreeMap::new();
    for event in events {
        if let EventBody::Page { url, origin, .. } = &event.body {
            let origin = if origin.is_empty() {
                ParsedUrl::parse(url).map_or_else(|_| "null".to_string(), |u| u.origin())
            } else {
                normalize_origin(origin)
            };
            origins.insert(event.session_id.as_str(), origin);
        }
    }
    origins
}

fn parse_mode(mode: Option<&str>) -> RequestMode {
    match mode {
        Some("no-cors") => RequestMode::NoCors,
        Some("same-origin") => RequestMode::SameOrigin,
        Some("navigate") => RequestMode::Navigate,
        _ => RequestMode::Cors,
    }
}

fn parse_credentials(api: &str, credentials: Option<&str>) -> CredentialsMode {
    match credentials {
        Some("include") => CredentialsMode::Include,
        Some("omit") => CredentialsMode::Omit,
        // XHR without withCredentials behaves as same-origin.
        Some(_) | None => {
            let _ = api;
            CredentialsMode::SameOrigin
        }
    }
}

fn parse_redirect(redirect: Option<&str>) -> RedirectMode {
    match redirect {
        Some("error") => RedirectMode::Error,
        Some("manual") => RedirectMode::Manual,
        _ => RedirectMode::Follow,
    }
}

/// Rebuilds the request of `connection_id` from capture events.
pub fn request_from_events(
    events: &[CaptureEvent],
    connection_id: &str,
) -> Result<CorsRequest, CaptureError> {
    let origins = page_origins(events);
    let (session_id, body) = events
        .iter()
        .find(|event| {
            event.connection_id == connection_id
                && matches!(event.body, EventBody::HttpRequest { .. })
        })
        .map(|event| (event.session_id.as_str(), &event.body))
        .ok_or_else(|| CaptureError::NoRequest {
            connection_id: connection_id.to_string(),
        })?;
    let page_origin =
        origins
            .get(session_id)
            .cloned()
            .ok_or_else(|| CaptureError::NoPageOrigin {
                session_id: session_id.to_string(),
            })?;
    let EventBody::HttpRequest {
        api,
        method,
        url,
        headers,
        body_kind,
        mode,
        credentials,
        redirect,
        upload_listeners,
        ..
    } = body
    else {
        return Err(CaptureError::NoRequest {
            connection_id: connection_id.to_string(),
        });
    };
    Ok(CorsRequest {
        method: method.clone(),
        headers: headers.clone(),
        credentials: parse_credentials(api, credentials.as_deref()),
        mode: parse_mode(mode.as_deref()),
        redirect: parse_redirect(redirect.as_deref()),
        body_kind: BodyKind::from_capture(body_kind.as_deref()),
        upload_listeners: *upload_listeners,
        ..CorsRequest::new(page_origin, url.clone())
    })
}

fn describe_reasons(decision: &PreflightDecision) -> Vec<Described<PreflightReason>> {
    decision
        .reasons
        .iter()
        .map(|reason| Described {
            description: reason.describe(),
            item: reason.clone(),
        })
        .collect()
}

/// Diagnoses every captured HTTP exchange whose page origin is known, in order of the
/// request events. Exchanges without a page event are skipped (their origin is unknown);
/// use [`request_from_events`] to see why.
pub fn diagnose_capture(events: &[CaptureEvent]) -> Vec<CaptureDiagnosis> {
    let mut diagnoses = Vec::new();
    for event in events {
        if !matches!(event.body, EventBody::HttpRequest { .. }) {
            continue;
        }
        let Ok(request) = request_from_events(events, &event.connection_id) else {
            continue;
        };
        let later = events
            .iter()
            .filter(|other| other.connection_id == event.connection_id);
        let preflight = observed_preflight(events, event, &request);
        let mut failure = None;
        let mut responded = false;
        for other in later {
            match &other.body {
                EventBody::HttpFailure {
                    failure: kind,
                    error_name,
                    error_message,
                } => failure = Some((*kind, format!("{error_name}: {error_message}"))),
                EventBody::HttpResponse { .. } => responded = true,
                _ => {}
            }
        }
        diagnoses.push(diagnose(
            &event.session_id,
            &event.connection_id,
            request,
            failure,
            responded,
            preflight,
        ));
    }
    diagnoses
}

/// The preflight the extension observed for `request_event`: a `cors_preflight` with the
/// same URL and `Access-Control-Request-Method`, at or after the request (same session
/// preferred), the closest in time.
fn observed_preflight(
    events: &[CaptureEvent],
    request_event: &CaptureEvent,
    request: &CorsRequest,
) -> Option<ObservedResponse> {
    let method = normalize_method(&request.method);
    let slack_micros = 1_000_000;
    events
        .iter()
        .filter_map(|event| match &event.body {
            EventBody::CorsPreflight {
                url,
                request_headers,
                status,
                response_headers,
                error,
                ..
            } if *url == request.url
                && event.time_micros + slack_micros >= request_event.time_micros
                && request_headers.iter().any(|(name, value)| {
                    name.eq_ignore_ascii_case("access-control-request-method")
                        && value.trim() == method
                }) =>
            {
                let observed = match (error, status) {
                    (Some(error), _) => ObservedResponse::failed(error.clone()),
                    (None, Some(status)) => ObservedResponse {
                        status: *status,
                        headers: response_headers.clone(),
                        network_error: None,
                    },
                    (None, None) => return None,
                };
                let same_session = event.session_id == request_event.session_id;
                let distance = event.time_micros.abs_diff(request_event.time_micros);
                Some(((!same_session, distance), observed))
            }
            _ => None,
        })
        .min_by_key(|(key, _)| *key)
        .map(|(_, observed)| observed)
}

fn diagnose(
    session_id: &str,
    connection_id: &str,
    request: CorsRequest,
    failure: Option<(HttpFailureKind, String)>,
    responded: bool,
    preflight: Option<ObservedResponse>,
) -> CaptureDiagnosis {
    let decision = decide(&request);
    let cross_origin = ParsedUrl::parse(&request.url)
        .map(|url| url.origin() != request.page_origin)
        .unwrap_or(false);
    let preflight_required = cross_origin && request.mode == RequestMode::Cors && decision.required;
    let probe = probe_command(&request);
    let (likely, headline) = match (&failure, responded) {
        (_, true) => (
            LikelyCause::Passed,
            "A response arrived, so CORS let this request through.".to_string(),
        ),
        (None, false) => (LikelyCause::Pending, "No outcome captured yet.".to_string()),
        (Some((HttpFailureKind::Abort | HttpFailureKind::Timeout, _)), false) => (
            LikelyCause::AbortedOrTimedOut,
            "The app aborted the request or it timed out; not a CORS failure.".to_string(),
        ),
        (Some((HttpFailureKind::Network, message)), false) => {
            if message.contains("no-cors") || message.contains("unsupported") {
                (
                    LikelyCause::RejectedInPage,
                    format!("The page threw before sending the request: {message}."),
                )
            } else if !cross_origin {
                (
                    LikelyCause::NotCors,
                    "The request is same-origin, so this failure is not CORS (network error, CSP, mixed content or an extension).".to_string(),
                )
            } else if let Some(analysis) = preflight
                .as_ref()
                .filter(|_| preflight_required)
                .map(|observed| preflight_analysis(&request, observed))
            {
                match (analysis.verdict, analysis.cors_error) {
                    (Verdict::Blocked, Some(error)) => (
                        LikelyCause::BlockedByPreflight,
                        format!(
                            "Blocked by the preflight ({error}): {}",
                            analysis.explanation
                        ),
                    ),
                    (Verdict::Blocked, None) => (
                        LikelyCause::BlockedByPreflight,
                        analysis.explanation.clone(),
                    ),
                    _ => (
                        LikelyCause::LikelyBlockedAfterPreflight,
                        format!(
                            "The preflight passed, so the response itself most likely lacks a matching Access-Control-Allow-Origin (or the network failed); run `{probe}` to check."
                        ),
                    ),
                }
            } else if preflight_required {
                let reasons: Vec<String> = decision
                    .reasons
                    .iter()
                    .map(|reason| reason.describe())
                    .collect();
                (
                    LikelyCause::LikelyBlockedByPreflight,
                    format!(
                        "Likely blocked by the preflight: the browser sent OPTIONS first because {}; run `{probe}` to see the server's answer.",
                        reasons.join("; ")
                    ),
                )
            } else {
                (
                    LikelyCause::LikelyBlockedByResponseHeaders,
                    format!(
                        "Likely blocked because the response lacks a matching Access-Control-Allow-Origin{} (or the server is unreachable: the page cannot tell); run `{probe}` to check.",
                        if request.includes_credentials() {
                            " and Access-Control-Allow-Credentials: true"
                        } else {
                            ""
                        }
                    ),
                )
            }
        }
    };
    CaptureDiagnosis {
        session_id: session_id.to_string(),
        connection_id: connection_id.to_string(),
        cross_origin,
        preflight_required,
        preflight_reasons: describe_reasons(&decision),
        likely,
        headline,
        page_error: failure.map(|(_, message)| message),
        probe_command: probe,
        analysis: preflight
            .filter(|_| preflight_required)
            .map(|observed| preflight_analysis(&request, &observed)),
        request,
    }
}

fn preflight_analysis(request: &CorsRequest, preflight: &ObservedResponse) -> CorsAnalysis {
    let observations = Observations {
        hops: vec![ObservedHop {
            preflight: Some(preflight.clone()),
            response: None,
            resource_address_space: None,
        }],
    };
    analyze(request, &observations, AnalyzerOptions::default())
}
