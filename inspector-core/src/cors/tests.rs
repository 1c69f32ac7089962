//! Table tests of the whole analyzer: request + observed responses → Chromium's verdict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::event::{CaptureEvent, EventBody, HttpFailureKind};

const PAGE: &str = "http://127.0.0.1:4000";
const API: &str = "http://127.0.0.1:5000/rpc";

fn ok(headers: &[(&str, &str)]) -> ObservedResponse {
    ObservedResponse::new(200, headers)
}

fn hop(preflight: Option<ObservedResponse>, response: Option<ObservedResponse>) -> ObservedHop {
    ObservedHop {
        preflight,
        response,
        resource_address_space: None,
    }
}

fn run(request: &CorsRequest, hops: Vec<ObservedHop>) -> CorsAnalysis {
    analyze(request, &Observations { hops }, AnalyzerOptions::default())
}

fn expect_blocked(analysis: &CorsAnalysis, error: CorsError, parameter: &str) {
    assert_eq!(analysis.verdict, Verdict::Blocked, "{analysis:#?}");
    assert_eq!(analysis.cors_error, Some(error), "{analysis:#?}");
    assert_eq!(analysis.failed_parameter.as_deref(), Some(parameter));
    assert!(!analysis.explanation.is_empty());
}

struct Case {
    name: &'static str,
    request: CorsRequest,
    hops: Vec<ObservedHop>,
    expected: Option<(CorsError, &'static str)>,
}

fn json_post() -> CorsRequest {
    CorsRequest::new(PAGE, API)
        .with_method("POST")
        .with_header("Content-Type", "application/json")
}

#[test]
fn verdict_table() {
    let acao = ("Access-Control-Allow-Origin", PAGE);
    let star = ("Access-Control-Allow-Origin", "*");
    let include = CredentialsMode::Include;
    let cases = vec![
        Case {
            name: "simple GET with matching origin",
            request: CorsRequest::new(PAGE, API),
            hops: vec![hop(None, Some(ok(&[acao])))],
            expected: None,
        },
        Case {
            name: "simple GET without ACAO",
            request: CorsRequest::new(PAGE, API),
            hops: vec![hop(None, Some(ok(&[])))],
            expected: Some((CorsError::MissingAllowOriginHeader, "")),
        },
        Case {
            name: "preflight 405 without ACAO reports the header, not the status",
            request: json_post(),
            hops: vec![hop(Some(ObservedResponse::new(405, &[])), None)],
            expected: Some((CorsError::PreflightMissingAllowOriginHeader, "")),
        },
        Case {
            name: "preflight 405 with ACAO",
            request: json_post(),
            hops: vec![hop(Some(ObservedResponse::new(405, &[star])), None)],
            expected: Some((CorsError::PreflightInvalidStatus, "")),
        },
        Case {
            name: "preflight without ACAH",
            request: json_post(),
            hops: vec![hop(Some(ok(&[acao])), None)],
            expected: Some((
                CorsError::HeaderDisallowedByPreflightResponse,
                "content-type",
            )),
        },
        Case {
            name: "preflight redirect",
            request: json_post(),
            hops: vec![hop(
                Some(ObservedResponse::new(
                    307,
                    &[star, ("Location", "/elsewhere")],
                )),
                None,
            )],
            expected: Some((CorsError::PreflightDisallowedRedirect, "")),
        },
        Case {
            name: "PUT not in ACAM",
            request: CorsRequest::new(PAGE, API).with_method("PUT"),
            hops: vec![hop(
                Some(ok(&[star, ("Access-Control-Allow-Methods", "GET, POST")])),
                None,
            )],
            expected: Some((CorsError::MethodDisallowedByPreflightResponse, "PUT")),
        },
        Case {
            name: "ACAM not tokens",
            request: CorsRequest::new(PAGE, API).with_method("PUT"),
            hops: vec![hop(
                Some(ok(&[star, ("Access-Control-Allow-Methods", "PUT DELETE")])),
                None,
            )],
            expected: Some((CorsError::InvalidAllowMethodsPreflightResponse, "")),
        },
        Case {
            name: "ACAH not tokens",
            request: json_post(),
            hops: vec![hop(
                Some(ok(&[
                    star,
                    ("Access-Control-Allow-Headers", "content-type;x"),
                ])),
                None,
            )],
            expected: Some((CorsError::InvalidAllowHeadersPreflightResponse, "")),
        },
        Case {
            name: "wildcard with credentials on the preflight",
            request: json_post().with_credentials(include),
            hops: vec![hop(Some(ok(&[star])), None)],
            expected: Some((CorsError::PreflightWildcardOriginNotAllowed, "")),
        },
        Case {
            name: "credentials need ACAC true on the response",
            request: CorsRequest::new(PAGE, API).with_credentials(include),
            hops: vec![hop(
                None,
                Some(ok(&[acao, ("Access-Control-Allow-Credentials", "True")])),
            )],
            expected: Some((CorsError::InvalidAllowCredentials, "True")),
        },
        Case {
            name: "wildcard methods and headers pass without credentials, Authorization included",
            request: CorsRequest::new(PAGE, API)
                .with_method("DELETE")
                .with_header("Authorization", "Bearer t"),
            hops: vec![hop(
                Some(ok(&[
                    star,
                    ("Access-Control-Allow-Methods", "*"),
                    ("Access-Control-Allow-Headers", "*"),
                ])),
                Some(ok(&[star])),
            )],
            expected: None,
        },
        Case {
            name: "wildcard methods are literal with credentials",
            request: CorsRequest::new(PAGE, API)
                .with_method("DELETE")
                .with_credentials(include),
            hops: vec![hop(
                Some(ok(&[
                    acao,
                    ("Access-Control-Allow-Credentials", "true"),
                    ("Access-Control-Allow-Methods", "*"),
                ])),
                None,
            )],
            expected: Some((CorsError::MethodDisallowedByPreflightResponse, "DELETE")),
        },
        Case {
            name: "redirect with credentials in the location",
            request: CorsRequest::new(PAGE, API),
            hops: vec![hop(
                None,
                Some(ObservedResponse::new(
                    302,
                    &[star, ("Location", "http://user:pw@127.0.0.1:5000/next")],
                )),
            )],
            expected: Some((CorsError::RedirectContainsCredentials, "")),
        },
        Case {
            name: "redirect hop without ACAO",
            request: CorsRequest::new(PAGE, API),
            hops: vec![hop(
                None,
                Some(ObservedResponse::new(302, &[("Location", "/next")])),
            )],
            expected: Some((CorsError::MissingAllowOriginHeader, "")),
        },
        Case {
            name: "cross-origin redirect taints the origin to null",
            request: CorsRequest::new(PAGE, API),
            hops: vec![
                hop(
                    None,
                    Some(ObservedResponse::new(
                        302,
                        &[star, ("Location", "http://localhost:5000/final")],
                    )),
                ),
                hop(None, Some(ok(&[acao]))),
            ],
            expected: Some((CorsError::AllowOriginMismatch, PAGE)),
        },
        Case {
            name: "tainted origin accepts null",
            request: CorsRequest::new(PAGE, API),
            hops: vec![
                hop(
                    None,
                    Some(ObservedResponse::new(
                        302,
                        &[star, ("Location", "http://localhost:5000/final")],
                    )),
                ),
                hop(None, Some(ok(&[("Access-Control-Allow-Origin", "null")]))),
            ],
            expected: None,
        },
        Case {
            name: "same-origin mode",
            request: CorsRequest {
                mode: RequestMode::SameOrigin,
                ..CorsRequest::new(PAGE, API)
            },
            hops: vec![],
            expected: Some((CorsError::DisallowedByMode, "")),
        },
        Case {
            name: "no-cors with redirect error",
            request: CorsRequest {
                mode: RequestMode::NoCors,
                redirect: RedirectMode::Error,
                ..CorsRequest::new(PAGE, API)
            },
            hops: vec![],
            expected: Some((CorsError::NoCorsRedirectModeNotFollow, "")),
        },
        Case {
            name: "non-http scheme",
            request: CorsRequest::new(PAGE, "ftp://127.0.0.1:5000/file"),
            hops: vec![],
            expected: Some((CorsError::CorsDisabledScheme, "ftp")),
        },
        Case {
            name: "multiple ACAO lines",
            request: CorsRequest::new(PAGE, API),
            hops: vec![hop(None, Some(ok(&[acao, acao])))],
            expected: Some((
                CorsError::MultipleAllowOriginValues,
                "http://127.0.0.1:4000, http://127.0.0.1:4000",
            )),
        },
    ];
    for case in cases {
        let analysis = run(&case.request, case.hops);
        match case.expected {
            None => assert_eq!(
                analysis.verdict,
                Verdict::Allowed,
                "{}: {analysis:#?}",
                case.name
            ),
            Some((error, parameter)) => {
                assert_eq!(
                    analysis.cors_error,
                    Some(error),
                    "{}: {analysis:#?}",
                    case.name
                );
                expect_blocked(&analysis, error, parameter);
                assert!(analysis.fix.is_some(), "{}", case.name);
            }
        }
    }
}

#[test]
fn local_network_access_is_checked_before_the_preflight() {
    let public_page = CorsRequest {
        initiator_address_space: Some(AddressSpace::Public),
        ..CorsRequest::new(PAGE, API).with_method("PUT")
    };
    let analysis = run(&public_page, vec![]);
    expect_blocked(&analysis, CorsError::LocalNetworkAccessPermissionDenied, "");
    assert_eq!(analysis.stage, Some(Stage::Connection));
    let insecure = CorsRequest {
        initiator_secure_context: Some(false),
        ..public_page.clone()
    };
    expect_blocked(&run(&insecure, vec![]), CorsError::InsecureLocalNetwork, "");
    let declared = CorsRequest {
        target_address_space: Some(AddressSpace::Local),
        ..public_page.clone()
    };
    expect_blocked(
        &run(&declared, vec![]),
        CorsError::InvalidLocalNetworkAccess,
        "",
    );
    let granted = CorsRequest {
        local_network_access_granted: true,
        ..public_page.clone()
    };
    let analysis = run(
        &granted,
        vec![hop(Some(ObservedResponse::new(204, &[])), None)],
    );
    expect_blocked(&analysis, CorsError::PreflightMissingAllowOriginHeader, "");
    assert!(
        analysis.warnings.iter().any(|w| matches!(
            w.item,
            SoftWarning::LocalNetworkAccessPermissionNeeded {
                initiator: AddressSpace::Public,
                resource: AddressSpace::Loopback
            }
        )),
        "{:?}",
        analysis.warnings
    );
    let same_origin = CorsRequest {
        url: format!("{PAGE}/api"),
        ..public_page
    };
    assert_eq!(
        run(&same_origin, vec![hop(None, Some(ok(&[])))]).verdict,
        Verdict::Allowed
    );
    let public_api = CorsRequest::new("https://app.example.com", "https://api.example.com/rpc");
    let analysis = run(
        &public_api,
        vec![hop(None, Some(ok(&[("Access-Control-Allow-Origin", "*")])))],
    );
    assert_eq!(analysis.verdict, Verdict::Allowed);
    let dev_page_to_localhost =
        CorsRequest::new("https://app.example.com", "http://localhost:8080/rpc");
    expect_blocked(
        &run(&dev_page_to_localhost, vec![]),
        CorsError::LocalNetworkAccessPermissionDenied,
        "",
    );
}

#[test]
fn a_json_blob_body_implies_a_preflight() {
    let mut request = CorsRequest::new(PAGE, API).with_method("POST");
    request.body_kind = BodyKind::Blob;
    request.body_content_type = Some("application/json".into());
    let analysis = run(
        &request,
        vec![hop(Some(ok(&[("Access-Control-Allow-Origin", "*")])), None)],
    );
    expect_blocked(
        &analysis,
        CorsError::HeaderDisallowedByPreflightResponse,
        "content-type",
    );
    request.body_kind = BodyKind::Text;
    request.body_content_type = None;
    let analysis = run(
        &request,
        vec![hop(None, Some(ok(&[("Access-Control-Allow-Origin", "*")])))],
    );
    assert_eq!(
        analysis.verdict,
        Verdict::Allowed,
        "a string body implies text/plain"
    );
}

#[test]
fn same_origin_requests_skip_cors() {
    let analysis = run(
        &CorsRequest::new(PAGE, "http://127.0.0.1:4000/api").with_method("PUT"),
        vec![hop(None, Some(ok(&[])))],
    );
    assert_eq!(analysis.verdict, Verdict::Allowed);
    assert!(!analysis.cross_origin);
    assert!(!analysis.preflight_required);
}

#[test]
fn missing_observations_give_unknown_not_a_guess() {
    let two_headers = CorsRequest::new(PAGE, API)
        .with_header("X-B", "1")
        .with_header("X-A", "2");
    let analysis = run(
        &two_headers,
        vec![hop(Some(ok(&[("Access-Control-Allow-Origin", "*")])), None)],
    );
    expect_blocked(
        &analysis,
        CorsError::HeaderDisallowedByPreflightResponse,
        "x-a",
    );
    let analysis = run(&json_post(), vec![]);
    assert_eq!(analysis.verdict, Verdict::Unknown);
    assert!(
        analysis.explanation.contains("preflight"),
        "{}",
        analysis.explanation
    );
}

#[test]
fn network_error_on_preflight_has_no_cors_error() {
    let analysis = run(
        &json_post(),
        vec![hop(
            Some(ObservedResponse::failed("net::ERR_CONNECTION_REFUSED")),
            None,
        )],
    );
    assert_eq!(analysis.verdict, Verdict::Blocked);
    assert_eq!(analysis.cors_error, None);
    assert_eq!(
        analysis.error.as_deref(),
        Some("net::ERR_CONNECTION_REFUSED")
    );
}

#[test]
fn soft_warnings_and_fix_snippets() {
    let mut request = CorsRequest::new(PAGE, API)
        .with_method("PUT")
        .with_header("Authorization", "Bearer t");
    request.reads_response_headers = vec!["X-Request-Id".into(), "Content-Type".into()];
    let analysis = run(
        &request,
        vec![hop(
            Some(ok(&[
                ("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Allow-Methods", "put, PUT"),
                ("Access-Control-Allow-Headers", "*"),
                ("Access-Control-Max-Age", "86400"),
            ])),
            Some(ok(&[("Access-Control-Allow-Origin", "*")])),
        )],
    );
    assert_eq!(analysis.verdict, Verdict::Allowed);
    let kinds: Vec<String> = analysis
        .warnings
        .iter()
        .map(|w| {
            serde_json::to_value(w).unwrap()["warning"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        kinds.contains(&"authorization_covered_by_wildcard".to_string()),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"unexposed_response_header".to_string()),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"max_age_capped".to_string()), "{kinds:?}");
    assert_eq!(analysis.preflight_cache[0].max_age_seconds, 7200);
    let fix = analysis.fix.expect("warnings come with a fix");
    assert!(
        fix.go_net_http
            .contains("\"Access-Control-Allow-Headers\", \"authorization\""),
        "{}",
        fix.go_net_http
    );
    assert!(fix.axum_tower_http.contains("Method::PUT"));
    assert!(fix.nginx.contains("location /rpc {"));
    assert!(
        fix.nginx
            .contains("Access-Control-Expose-Headers \"x-request-id\""),
        "{}",
        fix.nginx
    );
}

#[test]
fn method_case_mismatch_is_flagged_and_blocked_in_spec_mode() {
    let request = CorsRequest::new(PAGE, API).with_method("patch");
    let preflight = ok(&[
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", "PATCH"),
    ]);
    let analysis = run(&request, vec![hop(Some(preflight.clone()), None)]);
    expect_blocked(
        &analysis,
        CorsError::MethodDisallowedByPreflightResponse,
        "patch",
    );
    assert!(
        analysis
            .warnings
            .iter()
            .any(|w| matches!(w.item, SoftWarning::AllowMethodsCaseMismatch { .. }))
    );
    let lenient = AnalyzerOptions {
        uppercase_method_for_allow_methods: true,
        ..AnalyzerOptions::default()
    };
    let analysis = analyze(
        &request,
        &Observations {
            hops: vec![hop(
                Some(preflight),
                Some(ok(&[("Access-Control-Allow-Origin", "*")])),
            )],
        },
        lenient,
    );
    assert_eq!(analysis.verdict, Verdict::Allowed);
}

#[test]
fn cache_skips_the_second_preflight_until_max_age() {
    let request = CorsRequest::new(PAGE, API).with_method("PUT");
    let observed = Observations {
        hops: vec![hop(
            Some(ok(&[
                ("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Allow-Methods", "PUT"),
            ])),
            Some(ok(&[("Access-Control-Allow-Origin", "*")])),
        )],
    };
    let mut cache = PreflightCache::new();
    let options = AnalyzerOptions::default();
    let first = analyze_with_cache(&request, &observed, options, &mut cache, 0);
    assert!(!first.hops[0].preflight_cached);
    let second = analyze_with_cache(&request, &observed, options, &mut cache, 4_000_000);
    assert!(second.hops[0].preflight_cached, "within the 5 s default");
    assert_eq!(second.verdict, Verdict::Allowed);
    let third = analyze_with_cache(&request, &observed, options, &mut cache, 10_000_000);
    assert!(!third.hops[0].preflight_cached, "expired after 5 s");
}

#[test]
fn analysis_json_has_the_documented_fields() {
    let analysis = run(
        &json_post(),
        vec![hop(Some(ObservedResponse::new(404, &[])), None)],
    );
    let json = serde_json::to_value(&analysis).unwrap();
    for field in [
        "preflight_required",
        "preflight_reasons",
        "verdict",
        "cors_error",
        "failed_parameter",
        "explanation",
        "fix",
    ] {
        assert!(json.get(field).is_some(), "missing {field}");
    }
    assert_eq!(json["verdict"], "blocked");
    assert_eq!(json["cors_error"], "PreflightMissingAllowOriginHeader");
    assert_eq!(
        json["preflight_reasons"][0]["rule"],
        "content_type_not_safelisted"
    );
    assert!(
        json["preflight_reasons"][0]["description"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
}

fn event(connection_id: &str, body: EventBody) -> CaptureEvent {
    CaptureEvent {
        v: 1,
        session_id: "page-1".into(),
        connection_id: connection_id.into(),
        time_micros: 1,
        body,
    }
}

#[test]
fn capture_helper_says_likely_blocked_by_the_preflight() {
    let events = vec![
        event(
            "",
            EventBody::Page {
                url: "http://127.0.0.1:4000/app".into(),
                title: String::new(),
                origin: String::new(),
                hook_version: String::new(),
            },
        ),
        event(
            "fetch-1",
            EventBody::HttpRequest {
                api: "fetch".into(),
                method: "POST".into(),
                url: API.into(),
                headers: vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("X-RPC-Method".into(), "Arith.Multiply".into()),
                ],
                body: None,
                body_kind: Some("text".into()),
                mode: Some("cors".into()),
                credentials: Some("include".into()),
                redirect: None,
                upload_listeners: false,
            },
        ),
        event(
            "fetch-1",
            EventBody::HttpFailure {
                failure: HttpFailureKind::Network,
                error_name: "TypeError".into(),
                error_message: "Failed to fetch".into(),
            },
        ),
        event(
            "fetch-2",
            EventBody::HttpRequest {
                api: "fetch".into(),
                method: "GET".into(),
                url: API.into(),
                headers: vec![],
                body: None,
                body_kind: None,
                mode: None,
                credentials: None,
                redirect: None,
                upload_listeners: false,
            },
        ),
        event(
            "fetch-2",
            EventBody::HttpFailure {
                failure: HttpFailureKind::Network,
                error_name: "TypeError".into(),
                error_message: "Failed to fetch".into(),
            },
        ),
    ];
    let diagnoses = capture::diagnose_capture(&events);
    assert_eq!(diagnoses.len(), 2);
    let first = &diagnoses[0];
    assert_eq!(first.likely, capture::LikelyCause::LikelyBlockedByPreflight);
    assert!(
        first
            .headline
            .starts_with("Likely blocked by the preflight"),
        "{}",
        first.headline
    );
    assert!(
        first.headline.contains("x-rpc-method"),
        "{}",
        first.headline
    );
    assert_eq!(first.preflight_reasons.len(), 2);
    assert_eq!(
        first.probe_command,
        "framescope cors-check http://127.0.0.1:5000/rpc --origin http://127.0.0.1:4000 --method POST -H 'Content-Type: application/json' -H 'X-RPC-Method: Arith.Multiply' --credentials"
    );
    assert_eq!(
        diagnoses[1].likely,
        capture::LikelyCause::LikelyBlockedByResponseHeaders
    );
    let missing = capture::request_from_events(&events[1..], "fetch-1").unwrap_err();
    assert!(matches!(
        missing,
        capture::CaptureError::NoPageOrigin { .. }
    ));
}

#[test]
fn capture_helper_uses_the_preflight_the_extension_observed() {
    let page = event(
        "",
        EventBody::Page {
            url: "http://127.0.0.1:4000/".into(),
            title: String::new(),
            origin: "http://127.0.0.1:4000".into(),
            hook_version: String::new(),
        },
    );
    let request = |id: &str, method: &str| {
        event(
            id,
            EventBody::HttpRequest {
                api: "fetch".into(),
                method: method.into(),
                url: API.into(),
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: None,
                body_kind: Some("text".into()),
                mode: None,
                credentials: None,
                redirect: None,
                upload_listeners: false,
            },
        )
    };
    let failed = |id: &str| {
        event(
            id,
            EventBody::HttpFailure {
                failure: HttpFailureKind::Network,
                error_name: "TypeError".into(),
                error_message: "Failed to fetch".into(),
            },
        )
    };
    let preflight = |status: u16, headers: Vec<(String, String)>| {
        event(
            "webrequest-7",
            EventBody::CorsPreflight {
                url: API.into(),
                initiator: Some("http://127.0.0.1:4000".into()),
                request_headers: vec![
                    ("Access-Control-Request-Method".into(), "POST".into()),
                    (
                        "Access-Control-Request-Headers".into(),
                        "content-type".into(),
                    ),
                ],
                status: Some(status),
                response_headers: headers,
                error: None,
                ended_micros: Some(2),
            },
        )
    };
    let refused = vec![
        page.clone(),
        request("fetch-1", "POST"),
        preflight(405, vec![]),
        failed("fetch-1"),
    ];
    let diagnosis = &capture::diagnose_capture(&refused)[0];
    assert_eq!(diagnosis.likely, capture::LikelyCause::BlockedByPreflight);
    assert!(
        diagnosis
            .headline
            .contains("PreflightMissingAllowOriginHeader"),
        "{}",
        diagnosis.headline
    );
    let analysis = diagnosis.analysis.as_ref().unwrap();
    assert_eq!(
        analysis.cors_error,
        Some(CorsError::PreflightMissingAllowOriginHeader)
    );

    let passed = vec![
        page,
        request("fetch-2", "POST"),
        preflight(
            204,
            vec![
                ("Access-Control-Allow-Origin".into(), "*".into()),
                ("Access-Control-Allow-Headers".into(), "content-type".into()),
            ],
        ),
        failed("fetch-2"),
        request("fetch-3", "PUT"),
        failed("fetch-3"),
    ];
    let diagnoses = capture::diagnose_capture(&passed);
    assert_eq!(
        diagnoses[0].likely,
        capture::LikelyCause::LikelyBlockedAfterPreflight
    );
    assert_eq!(
        diagnoses[1].likely,
        capture::LikelyCause::LikelyBlockedByPreflight,
        "a preflight for POST is not the preflight of a PUT"
    );
}

/// A small deterministic generator (no extra dependency) for the robustness test.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

#[test]
fn odd_inputs_never_panic_and_verdicts_are_consistent() {
    let urls = [
        API,
        "http://localhost:5000/x",
        "ftp://127.0.0.1/x",
        "not a url",
        "http://",
        "https://[::1]:8443/é?q=ü",
        "http://user:pw@127.0.0.1:5000/",
        "data:text/plain,hi",
    ];
    let origins = [
        PAGE,
        "null",
        "",
        "http://[::1]",
        "https://app.example.com",
        "garbage",
    ];
    let methods = ["GET", "post", "PUT", "patch", "TRACE", "", "Ω", "FOO BAR"];
    let values = [
        "", "*", "null", PAGE, "1", "a, b", "true", "GET,PUT", "x-a;y", "\u{7f}", "é",
    ];
    let names = [
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Credentials",
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
        "Access-Control-Max-Age",
        "Location",
        "Content-Type",
    ];
    let mut random = Lcg(7);
    for _ in 0..3000 {
        let mut request = CorsRequest::new(random.pick(&origins), random.pick(&urls))
            .with_method(random.pick(&methods));
        for _ in 0..(random.next() % 4) {
            request = request.with_header(random.pick(&names), random.pick(&values));
        }
        if random.next().is_multiple_of(3) {
            request.credentials = CredentialsMode::Include;
        }
        let mut response = || {
            let headers: Vec<(String, String)> = (0..(random.next() % 5))
                .map(|_| {
                    (
                        random.pick(&names).to_string(),
                        random.pick(&values).to_string(),
                    )
                })
                .collect();
            ObservedResponse {
                status: [200, 204, 302, 307, 404, 500][(random.next() % 6) as usize],
                headers,
                network_error: None,
            }
        };
        let hop_count = (request.headers.len() + request.method.len()) % 3;
        let hops = (0..hop_count)
            .map(|_| hop(Some(response()), Some(response())))
            .collect();
        let analysis = run(&request, hops);
        assert!(!analysis.explanation.is_empty());
        assert_eq!(
            analysis.cors_error.is_some(),
            analysis.failed_parameter.is_some()
        );
        if analysis.verdict == Verdict::Blocked {
            assert!(
                analysis.cors_error.is_some() || analysis.error.is_some(),
                "{analysis:#?}"
            );
        }
        serde_json::to_string(&analysis).unwrap();
    }
}
