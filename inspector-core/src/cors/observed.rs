//! CORS ground truth from outside the page: the preflights the browser extension observed
//! (`cors_preflight` capture events, written from `chrome.webRequest`), joined to the
//! captured requests they guarded and replayed through the analyzer.
//!
//! Data enters as capture events: the same slice [`diagnose_capture`] reads, with
//! `cors_preflight` events among them. One [`ObservedDiagnosis`] per captured HTTP exchange
//! leaves: the page-side diagnosis, the preflight observed for it (if one was), and, when
//! one was, the analyzer's verdict over the real preflight response, so that a blocked call
//! shows Chromium's exact `CorsError` instead of "likely blocked".

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::capture::{CaptureDiagnosis, diagnose_capture};
use super::{
    AnalyzerOptions, CorsAnalysis, Observations, ObservedHop, ObservedResponse, RequestMode,
    analyze,
};
use crate::event::{CaptureEvent, EventBody, HeaderList};

/// How much earlier than the captured request an observed preflight may be stamped: the
/// page and the extension read the same wall clock through different APIs.
pub const CLOCK_SLACK_MICROS: u64 = 50_000;

/// How long after the captured request its preflight may start.
pub const PREFLIGHT_WINDOW_MICROS: u64 = 30_000_000;

/// A preflight as the browser sent it and what came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObservedPreflight {
    /// The observer's id of the preflight (not the hook's connection id).
    pub connection_id: String,
    /// URL of the preflight.
    pub url: String,
    /// When it was sent, microseconds since the Unix epoch.
    pub time_micros: u64,
    /// `Access-Control-Request-Method` as sent.
    pub access_control_request_method: Option<String>,
    /// `Access-Control-Request-Headers` as sent.
    pub access_control_request_headers: Option<String>,
    /// Response status, when a response arrived.
    pub status: Option<u16>,
    /// Response headers, all of them.
    pub response_headers: HeaderList,
    /// The network error instead of a response.
    pub error: Option<String>,
}

impl ObservedPreflight {
    /// Reads a `cors_preflight` event (`None` for any other event).
    pub fn from_event(event: &CaptureEvent) -> Option<ObservedPreflight> {
        let EventBody::CorsPreflight {
            url,
            request_headers,
            status,
            response_headers,
            error,
            ..
        } = &event.body
        else {
            return None;
        };
        let header = |name: &str| {
            request_headers
                .iter()
                .find(|(header, _)| header.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.clone())
        };
        Some(ObservedPreflight {
            connection_id: event.connection_id.clone(),
            url: url.clone(),
            time_micros: event.time_micros,
            access_control_request_method: header("access-control-request-method"),
            access_control_request_headers: header("access-control-request-headers"),
            status: *status,
            response_headers: response_headers.clone(),
            error: error.clone(),
        })
    }

    /// The preflight's response as the analyzer reads it.
    pub fn response(&self) -> ObservedResponse {
        match (&self.error, self.status) {
            (_, Some(status)) => ObservedResponse {
                status,
                headers: self.response_headers.clone(),
                network_error: None,
            },
            (Some(error), None) => ObservedResponse::failed(error.clone()),
            (None, None) => ObservedResponse::failed("net::ERR_FAILED"),
        }
    }
}

/// One captured exchange with what was observed outside the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObservedDiagnosis {
    /// What the page-side capture says (request, reasons, "likely" headline, probe).
    pub diagnosis: CaptureDiagnosis,
    /// The preflight observed for this exchange, if any.
    pub preflight: Option<ObservedPreflight>,
    /// The analyzer's verdict over the observed preflight. `None` without one; `Unknown`
    /// verdict when the preflight passed (the actual response is not observed).
    pub analysis: Option<CorsAnalysis>,
}

impl ObservedDiagnosis {
    /// True when the observed preflight proves the call was blocked by CORS.
    pub fn blocked_by_observed_preflight(&self) -> bool {
        self.analysis
            .as_ref()
            .is_some_and(|analysis| analysis.cors_error.is_some())
    }
}

/// Diagnoses every captured HTTP exchange like [`diagnose_capture`], and joins each
/// preflighted cross-origin one to the observed preflight with the same session, URL and
/// `Access-Control-Request-Method`, sent between [`CLOCK_SLACK_MICROS`] before and
/// [`PREFLIGHT_WINDOW_MICROS`] after the request (the earliest unused one). Each observed
/// preflight is used at most once. Results are in the order of the request events.
pub fn diagnose_with_observed_preflights(events: &[CaptureEvent]) -> Vec<ObservedDiagnosis> {
    let mut preflights: Vec<(&str, ObservedPreflight)> = events
        .iter()
        .filter_map(|event| {
            ObservedPreflight::from_event(event).map(|found| (event.session_id.as_str(), found))
        })
        .collect();
    preflights.sort_by(|a, b| {
        (a.1.time_micros, &a.1.connection_id).cmp(&(b.1.time_micros, &b.1.connection_id))
    });
    let request_times: BTreeMap<(&str, &str), u64> = events
        .iter()
        .filter(|event| matches!(event.body, EventBody::HttpRequest { .. }))
        .map(|event| {
            (
                (event.session_id.as_str(), event.connection_id.as_str()),
                event.time_micros,
            )
        })
        .collect();
    let mut used: HashSet<usize> = HashSet::new();
    diagnose_capture(events)
        .into_iter()
        .map(|diagnosis| {
            let request = &diagnosis.request;
            let wants_preflight = diagnosis.cross_origin && request.mode == RequestMode::Cors;
            let requested_micros = request_times
                .get(&(
                    diagnosis.session_id.as_str(),
                    diagnosis.connection_id.as_str(),
                ))
                .copied();
            let found = match (wants_preflight, requested_micros) {
                (true, Some(requested_micros)) => preflights
                    .iter()
                    .enumerate()
                    .find(|(index, (session_id, preflight))| {
                        !used.contains(index)
                            && (session_id.is_empty() || *session_id == diagnosis.session_id)
                            && preflight.url == request.url
                            && preflight
                                .access_control_request_method
                                .as_deref()
                                .is_none_or(|method| method == request.method)
                            && preflight.time_micros + CLOCK_SLACK_MICROS >= requested_micros
                            && preflight.time_micros
                                <= requested_micros.saturating_add(PREFLIGHT_WINDOW_MICROS)
                    })
                    .map(|(index, _)| index),
                _ => None,
            };
            let preflight = found.map(|index| {
                used.insert(index);
                preflights[index].1.clone()
            });
            let analysis = preflight.as_ref().map(|preflight| {
                let observations = Observations {
                    hops: vec![ObservedHop {
                        preflight: Some(preflight.response()),
                        ..ObservedHop::default()
                    }],
                };
                analyze(request, &observations, AnalyzerOptions::default())
            });
            ObservedDiagnosis {
                diagnosis,
                preflight,
                analysis,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::cors::{CorsError, Verdict};
    use crate::event::parse_ndjson;

    const PAGE_EVENT: &str = r#"{"session_id":"s1","connection_id":"page","time_micros":1000000,"type":"page","url":"http://127.0.0.1:4000/app","origin":"http://127.0.0.1:4000"}"#;

    fn request(connection: &str, time_micros: u64, path: &str) -> String {
        format!(
            r#"{{"session_id":"s1","connection_id":"{connection}","time_micros":{time_micros},"type":"http_request","api":"fetch","method":"POST","url":"http://127.0.0.1:5000{path}","headers":[["content-type","application/json"]],"mode":"cors","credentials":"same-origin"}}"#
        )
    }

    fn failure(connection: &str, time_micros: u64) -> String {
        format!(
            r#"{{"session_id":"s1","connection_id":"{connection}","time_micros":{time_micros},"type":"http_failure","failure":"network","error_name":"TypeError","error_message":"Failed to fetch"}}"#
        )
    }

    fn preflight(id: u32, session: &str, time_micros: u64, path: &str, headers: &str) -> String {
        format!(
            r#"{{"session_id":"{session}","connection_id":"webrequest-{id}","time_micros":{time_micros},"type":"cors_preflight","url":"http://127.0.0.1:5000{path}","initiator":"http://127.0.0.1:4000","request_headers":[["Origin","http://127.0.0.1:4000"],["Access-Control-Request-Method","POST"],["Access-Control-Request-Headers","content-type"]],"status":200,"response_headers":{headers},"error":null}}"#
        )
    }

    fn run(lines: &[String]) -> Vec<ObservedDiagnosis> {
        diagnose_with_observed_preflights(&parse_ndjson(&lines.join("\n")).unwrap())
    }

    #[test]
    fn refused_preflight_gives_the_exact_cors_error() {
        let results = run(&[
            PAGE_EVENT.to_string(),
            request("c1", 2_000_000, "/refused"),
            preflight(
                7,
                "s1",
                2_001_000,
                "/refused",
                r#"[["Content-Length","0"]]"#,
            ),
            failure("c1", 2_003_000),
        ]);
        assert_eq!(results.len(), 1);
        let result = &results[0];
        assert_eq!(
            result.preflight.as_ref().unwrap().connection_id,
            "webrequest-7"
        );
        let analysis = result.analysis.as_ref().unwrap();
        assert_eq!(analysis.verdict, Verdict::Blocked);
        assert_eq!(
            analysis.cors_error,
            Some(CorsError::PreflightMissingAllowOriginHeader)
        );
        assert!(result.blocked_by_observed_preflight());
    }

    #[test]
    fn passed_preflight_is_not_a_cors_error() {
        let allowed = r#"[["Access-Control-Allow-Origin","http://127.0.0.1:4000"],["Access-Control-Allow-Headers","content-type"]]"#;
        let results = run(&[
            PAGE_EVENT.to_string(),
            request("c1", 2_000_000, "/ok"),
            preflight(1, "s1", 2_000_500, "/ok", allowed),
        ]);
        let analysis = results[0].analysis.as_ref().unwrap();
        assert_eq!(analysis.cors_error, None);
        assert!(!results[0].blocked_by_observed_preflight());
    }

    #[test]
    fn each_preflight_joins_one_request_by_url_time_and_session() {
        let refused = r#"[]"#;
        let results = run(&[
            PAGE_EVENT.to_string(),
            request("c1", 2_000_000, "/a"),
            request("c2", 3_000_000, "/a"),
            request("c3", 3_000_000, "/b"),
            // Another page's preflight to the same URL, and one far too late.
            preflight(1, "other-session", 2_000_100, "/a", refused),
            preflight(2, "s1", 2_000_200, "/a", refused),
            preflight(3, "s1", 3_000_200, "/a", refused),
            preflight(
                4,
                "s1",
                3_000_000 + PREFLIGHT_WINDOW_MICROS + 1,
                "/b",
                refused,
            ),
        ]);
        let joined: Vec<Option<&str>> = results
            .iter()
            .map(|result| result.preflight.as_ref().map(|p| p.connection_id.as_str()))
            .collect();
        assert_eq!(
            joined,
            vec![Some("webrequest-2"), Some("webrequest-3"), None]
        );
        assert!(results[2].analysis.is_none());
    }

    #[test]
    fn same_origin_requests_never_take_a_preflight() {
        let results = run(&[
            PAGE_EVENT.to_string(),
            r#"{"session_id":"s1","connection_id":"c1","time_micros":2000000,"type":"http_request","api":"fetch","method":"POST","url":"http://127.0.0.1:4000/rpc","headers":[["content-type","application/json"]]}"#.to_string(),
            r#"{"session_id":"s1","connection_id":"webrequest-1","time_micros":2000100,"type":"cors_preflight","url":"http://127.0.0.1:4000/rpc","status":200}"#.to_string(),
        ]);
        assert!(results[0].preflight.is_none());
    }

    #[test]
    fn a_preflight_without_a_response_is_a_network_failure() {
        let results = run(&[
            PAGE_EVENT.to_string(),
            request("c1", 2_000_000, "/down"),
            r#"{"session_id":"s1","connection_id":"webrequest-9","time_micros":2000100,"type":"cors_preflight","url":"http://127.0.0.1:5000/down","request_headers":[["Access-Control-Request-Method","POST"]],"error":"net::ERR_CONNECTION_REFUSED"}"#.to_string(),
            failure("c1", 2_000_300),
        ]);
        let analysis = results[0].analysis.as_ref().unwrap();
        assert_eq!(analysis.verdict, Verdict::Blocked);
        assert_eq!(analysis.cors_error, None);
        assert_eq!(
            analysis.error.as_deref(),
            Some("net::ERR_CONNECTION_REFUSED")
        );
    }
}
