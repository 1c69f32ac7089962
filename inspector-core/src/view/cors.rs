//! Pairing what the page saw of a failed cross-origin call with a preflight observed
//! outside the page, so the CORS panel can give Chromium's exact verdict.
//!
//! Data enters as the call's `http_request` event, the time it failed, and the
//! `cors_preflight` events an observer (the browser extension) reported. It leaves as the
//! matching preflight, turned into the analyzer's [`Observations`]. The page never sees
//! preflights, so without an observer there is nothing to pair and the panel keeps the
//! capture-only diagnosis ("likely blocked by the preflight").

use crate::cors::{Observations, ObservedHop, ObservedResponse};
use crate::event::{CaptureEvent, EventBody};

/// How far before the request or after the failure a preflight may be and still belong to
/// it (the hook's and the observer's clocks are the same browser's, but events are batched).
pub const PREFLIGHT_PAIRING_SLACK_MICROS: u64 = 2_000_000;

/// The preflight among `preflights` that guarded `request` (an `http_request` event) which
/// failed at `failed_micros`: same URL, `Access-Control-Request-Method` equal to the
/// request's method, sent between the request (minus slack) and the failure (plus slack).
/// The latest such preflight wins. `None` when `request` is not an `http_request`.
pub fn matching_preflight<'a>(
    request: &CaptureEvent,
    failed_micros: u64,
    preflights: impl IntoIterator<Item = &'a CaptureEvent>,
) -> Option<&'a CaptureEvent> {
    let EventBody::HttpRequest { method, url, .. } = &request.body else {
        return None;
    };
    let earliest = request
        .time_micros
        .saturating_sub(PREFLIGHT_PAIRING_SLACK_MICROS);
    let latest = failed_micros.saturating_add(PREFLIGHT_PAIRING_SLACK_MICROS);
    preflights
        .into_iter()
        .filter(|event| {
            let EventBody::CorsPreflight {
                url: preflight_url,
                request_headers,
                ..
            } = &event.body
            else {
                return false;
            };
            let requested_method = request_headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("access-control-request-method"))
                .map(|(_, value)| value.as_str());
            preflight_url == url
                && requested_method.is_none_or(|value| value.eq_ignore_ascii_case(method))
                && (earliest..=latest).contains(&event.time_micros)
        })
        .max_by_key(|event| event.time_micros)
}

/// The analyzer's observations for a request whose only observed exchange is `preflight`
/// (a `cors_preflight` event): one hop with that preflight's response or network error.
pub fn observations_from_preflight(preflight: &CaptureEvent) -> Option<Observations> {
    let EventBody::CorsPreflight {
        status,
        response_headers,
        error,
        ..
    } = &preflight.body
    else {
        return None;
    };
    let response = match (status, error) {
        (_, Some(error)) if !error.is_empty() => ObservedResponse::failed(error.clone()),
        (Some(status), _) => ObservedResponse {
            status: *status,
            headers: response_headers.clone(),
            network_error: None,
        },
        (None, _) => return None,
    };
    Some(Observations {
        hops: vec![ObservedHop {
            preflight: Some(response),
            response: None,
            resource_address_space: None,
        }],
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::cors::{AnalyzerOptions, CorsError, CorsRequest, Verdict, analyze};
    use crate::event::parse_event_line;

    fn event(json: &str) -> CaptureEvent {
        parse_event_line(json, 1).unwrap()
    }

    fn request() -> CaptureEvent {
        event(
            r#"{"session_id":"p","connection_id":"f1","time_micros":10000000,"type":"http_request","api":"fetch","method":"POST","url":"http://127.0.0.1:9/gorpc","headers":[["Content-Type","application/json"]]}"#,
        )
    }

    fn preflight(time_micros: u64, url: &str, method: &str, status: u16) -> CaptureEvent {
        event(&format!(
            r#"{{"session_id":"p","connection_id":"wr-1","time_micros":{time_micros},"type":"cors_preflight","url":"{url}","request_headers":[["Access-Control-Request-Method","{method}"]],"status":{status},"response_headers":[["Content-Length","0"]]}}"#
        ))
    }

    #[test]
    fn pairs_by_url_method_and_time_and_prefers_the_latest() {
        let preflights = [
            preflight(10_100_000, "http://127.0.0.1:9/gorpc", "POST", 200),
            preflight(10_200_000, "http://127.0.0.1:9/gorpc", "POST", 405),
            preflight(10_150_000, "http://127.0.0.1:9/other", "POST", 200),
            preflight(10_150_000, "http://127.0.0.1:9/gorpc", "PUT", 200),
            preflight(99_000_000, "http://127.0.0.1:9/gorpc", "POST", 200),
        ];
        let found = matching_preflight(&request(), 10_300_000, &preflights).unwrap();
        assert_eq!(found.time_micros, 10_200_000);
        assert!(matching_preflight(&request(), 10_300_000, &preflights[2..4]).is_none());
        assert!(matching_preflight(&preflights[0], 10_300_000, &preflights).is_none());
    }

    #[test]
    fn a_preflight_without_allow_origin_gives_chromiums_error() {
        let preflight = preflight(10_100_000, "http://127.0.0.1:9/gorpc", "POST", 200);
        let observations = observations_from_preflight(&preflight).unwrap();
        let request = CorsRequest::new("http://127.0.0.1:8", "http://127.0.0.1:9/gorpc")
            .with_method("POST")
            .with_header("Content-Type", "application/json");
        let analysis = analyze(&request, &observations, AnalyzerOptions::default());
        assert_eq!(analysis.verdict, Verdict::Blocked);
        assert_eq!(
            analysis.cors_error,
            Some(CorsError::PreflightMissingAllowOriginHeader)
        );
    }

    #[test]
    fn network_errors_become_failed_responses() {
        let failed = event(
            r#"{"connection_id":"w","time_micros":1,"type":"cors_preflight","url":"http://x/","error":"net::ERR_CONNECTION_REFUSED"}"#,
        );
        let observations = observations_from_preflight(&failed).unwrap();
        let preflight = observations.hops[0].preflight.as_ref().unwrap();
        assert_eq!(
            preflight.network_error.as_deref(),
            Some("net::ERR_CONNECTION_REFUSED")
        );
        let no_answer = event(
            r#"{"connection_id":"w","time_micros":1,"type":"cors_preflight","url":"http://x/"}"#,
        );
        assert!(observations_from_preflight(&no_answer).is_none());
    }
}
