//! The step-by-step CORS engine: it says which request the browser sends next (a preflight
//! or the request itself, for each URL of the redirect chain), takes the response that came
//! back, and stops at the first check that fails, in Chromium's order.
//!
//! A [`CorsRequest`] enters through [`CorsFlow::new`]; [`NextStep`]s leave for the caller to
//! send (the CLI probe does real I/O, [`super::analyze`] replays recorded responses); the
//! [`Outcome`] leaves through [`CorsFlow::outcome`].

use serde::Serialize;

use super::cache::{PreflightCache, PreflightGrant};
use super::check::{
    CorsFailure, check_access, check_preflight_access, effective_max_age_seconds, parse_allow_list,
};
use super::error::CorsError;
use super::lna::{
    AddressSpace, LocalNetworkFacts, check_local_network_access, is_potentially_trustworthy,
};
use super::preflight::{
    PreflightDecision, decide, is_forbidden_method, is_forbidden_request_header,
    is_safelisted_method, normalize_header_value, normalize_method,
};
use super::request::{CorsRequest, ObservedResponse, RedirectMode, RequestMode};
use super::url::{ParsedUrl, normalize_origin};
use super::warning::SoftWarning;

/// Choices where Chromium builds differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AnalyzerOptions {
    /// Upper-case the request method before looking it up in `Access-Control-Allow-Methods`
    /// (Chromium's behaviour while `AccessControlAllowMethodsInCORSPreflightSpecConformant`
    /// is off).
    pub uppercase_method_for_allow_methods: bool,
    /// `*` in `Access-Control-Allow-Headers` also covers `Authorization` (Chromium while
    /// `CorsNonWildcardRequestHeadersSupport` is off; the spec says it must not).
    pub wildcard_covers_authorization: bool,
    /// Most redirects followed before `net::ERR_TOO_MANY_REDIRECTS`.
    pub max_redirects: usize,
}

impl Default for AnalyzerOptions {
    /// What Chromium 156 does (checked by the oracle test).
    fn default() -> Self {
        AnalyzerOptions {
            uppercase_method_for_allow_methods: false,
            wildcard_covers_authorization: true,
            max_redirects: 20,
        }
    }
}

/// A request the browser sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutgoingRequest {
    /// `OPTIONS` for a preflight, else the request's method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers the browser puts on it that matter for CORS, in order.
    pub headers: Vec<(String, String)>,
}

/// What the browser does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// Send this preflight and report its response with [`CorsFlow::record_preflight`].
    Preflight(OutgoingRequest),
    /// Send the request and report its response with [`CorsFlow::record_response`].
    Request(OutgoingRequest),
    /// Finished: read [`CorsFlow::outcome`].
    Done,
}

/// Where a request stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// In the page, before anything was sent (request mode, scheme, forbidden method).
    BeforeSending,
    /// When connecting: Local Network Access refused the address space.
    Connection,
    /// On the preflight response.
    Preflight,
    /// On the response to the request itself.
    Response,
    /// While following a redirect.
    Redirect,
}

/// How the request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The page gets the response.
    Allowed {
        /// True when the response is opaque (no-cors): the page cannot read it.
        opaque: bool,
        /// True when CORS did not apply (same-origin URL, navigation).
        cors_applied: bool,
    },
    /// Chromium blocks it with a CORS error.
    CorsBlocked {
        /// The `Network.CorsError` value.
        cors_error: CorsError,
        /// `failedParameter` as CDP reports it.
        failed_parameter: String,
        /// Where.
        stage: Stage,
        /// Index of the URL in the redirect chain (0 = the request URL).
        hop: usize,
    },
    /// The request failed outside CORS (network error, or the page threw before sending).
    Failed {
        /// `net::ERR_...` as CDP's `errorText` has it, or a TypeError message.
        error: String,
        /// Where.
        stage: Stage,
        /// Index of the URL in the redirect chain.
        hop: usize,
    },
    /// A response the analysis needs was not observed.
    Incomplete {
        /// What is missing.
        missing: String,
        /// Index of the URL in the redirect chain.
        hop: usize,
    },
}

/// One URL of the chain as the engine saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HopTrace {
    /// URL requested.
    pub url: String,
    /// Method used (changes to GET after some redirects).
    pub method: String,
    /// `Origin` header sent (`null` once tainted), or `None` when CORS did not apply.
    pub origin_header: Option<String>,
    /// Whether this hop needed a preflight (before the cache).
    pub preflight_required: bool,
    /// True when a preflight was skipped because the preflight cache covered it.
    pub preflight_cached: bool,
    /// Status of the preflight response, if one was received.
    pub preflight_status: Option<u16>,
    /// Status of the response, if one was received.
    pub response_status: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    Preflight,
    Response,
    Done,
}

/// The engine. See the module documentation.
#[derive(Debug, Clone)]
pub struct CorsFlow {
    request: CorsRequest,
    options: AnalyzerOptions,
    page_origin: String,
    url: Option<ParsedUrl>,
    method: String,
    headers: Vec<(String, String)>,
    tainted: bool,
    cors_flag: bool,
    hop: usize,
    waiting: Waiting,
    decision: PreflightDecision,
    initial_decision: PreflightDecision,
    outcome: Option<Outcome>,
    trace: Vec<HopTrace>,
    warnings: Vec<SoftWarning>,
    grants: Vec<PreflightGrant>,
    last_preflight: Option<ObservedResponse>,
    final_response: Option<ObservedResponse>,
    resource_spaces: Vec<Option<AddressSpace>>,
}

impl CorsFlow {
    /// Starts the engine for `request`, without a preflight cache.
    pub fn new(request: &CorsRequest, options: AnalyzerOptions) -> CorsFlow {
        CorsFlow::with_cache(request, options, None, 0)
    }

    /// Starts the engine; when `cache` covers the first hop at `now_micros`, its preflight
    /// is skipped as Chromium would.
    pub fn with_cache(
        request: &CorsRequest,
        options: AnalyzerOptions,
        cache: Option<&PreflightCache>,
        now_micros: u64,
    ) -> CorsFlow {
        CorsFlow::with_inputs(request, options, cache, now_micros, &[])
    }

    /// Starts the engine with everything known up front: the preflight cache at
    /// `now_micros`, and the address space each URL of the chain was reached in (index = hop;
    /// `None` or missing = derived from the URL's host).
    pub fn with_inputs(
        request: &CorsRequest,
        options: AnalyzerOptions,
        cache: Option<&PreflightCache>,
        now_micros: u64,
        resource_spaces: &[Option<AddressSpace>],
    ) -> CorsFlow {
        let mut request = request.clone();
        request.method = normalize_method(&request.method);
        // `Headers` combines repeated names into one value joined with ", " (so two
        // 100-byte Accept values make one 202-byte value), keeping the first position.
        let mut headers: Vec<(String, String)> = Vec::new();
        for (name, value) in request
            .headers
            .iter()
            .filter(|(name, _)| !is_forbidden_request_header(name))
        {
            let value = normalize_header_value(value);
            match headers
                .iter_mut()
                .find(|(existing, _)| existing.eq_ignore_ascii_case(name))
            {
                Some((_, combined)) => {
                    combined.push_str(", ");
                    combined.push_str(value);
                }
                None => headers.push((name.clone(), value.to_string())),
            }
        }
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            && let Some(implied) = request
                .body_kind
                .implied_content_type(request.body_content_type.as_deref())
        {
            headers.push(("Content-Type".to_string(), implied));
        }
        request.headers = headers.clone();
        let decision = decide(&CorsRequest {
            headers: headers.clone(),
            ..request.clone()
        });
        let mut flow = CorsFlow {
            page_origin: normalize_origin(&request.page_origin),
            url: None,
            method: request.method.clone(),
            headers,
            tainted: false,
            cors_flag: false,
            hop: 0,
            waiting: Waiting::Done,
            initial_decision: decision.clone(),
            decision,
            outcome: None,
            trace: Vec::new(),
            warnings: Vec::new(),
            grants: Vec::new(),
            last_preflight: None,
            final_response: None,
            resource_spaces: resource_spaces.to_vec(),
            request,
            options,
        };
        flow.start(cache, now_micros);
        flow
    }

    fn finish(&mut self, outcome: Outcome) {
        self.outcome = Some(outcome);
        self.waiting = Waiting::Done;
    }

    fn fail_before_sending(&mut self, error: impl Into<String>) {
        self.finish(Outcome::Failed {
            error: error.into(),
            stage: Stage::BeforeSending,
            hop: 0,
        });
    }

    fn block(&mut self, failure: CorsFailure, stage: Stage) {
        self.finish(Outcome::CorsBlocked {
            cors_error: failure.error,
            failed_parameter: failure.failed_parameter,
            stage,
            hop: self.hop,
        });
    }

    fn start(&mut self, cache: Option<&PreflightCache>, now_micros: u64) {
        let url = match ParsedUrl::parse(&self.request.url) {
            Ok(url) => url,
            Err(error) => {
                self.fail_before_sending(format!("TypeError: Failed to parse URL ({error})"));
                return;
            }
        };
        if is_forbidden_method(&self.method) {
            self.fail_before_sending(format!(
                "TypeError: '{}' HTTP method is unsupported (forbidden method)",
                self.method
            ));
            return;
        }
        let same_origin = url.origin() == self.page_origin && self.page_origin != "null";
        self.url = Some(url.clone());
        match self.request.mode {
            RequestMode::Navigate => {
                self.finish(Outcome::Allowed {
                    opaque: false,
                    cors_applied: false,
                });
                return;
            }
            _ if same_origin => {}
            RequestMode::SameOrigin => {
                self.block(
                    CorsFailure::new(CorsError::DisallowedByMode, ""),
                    Stage::BeforeSending,
                );
                return;
            }
            RequestMode::NoCors => {
                if self.request.redirect != RedirectMode::Follow {
                    self.block(
                        CorsFailure::new(CorsError::NoCorsRedirectModeNotFollow, ""),
                        Stage::BeforeSending,
                    );
                    return;
                }
                if !is_safelisted_method(&self.method) {
                    self.fail_before_sending(format!(
                        "TypeError: '{}' is unsupported in no-cors mode",
                        self.method
                    ));
                    return;
                }
                self.finish(Outcome::Allowed {
                    opaque: true,
                    cors_applied: false,
                });
                return;
            }
            RequestMode::Cors => {}
        }
        if !same_origin && !url.is_http() {
            self.block(
                CorsFailure::new(CorsError::CorsDisabledScheme, url.scheme.clone()),
                Stage::BeforeSending,
            );
            return;
        }
        self.cors_flag = !same_origin;
        self.begin_hop(cache, now_micros);
    }

    fn origin_header(&self) -> String {
        if self.tainted {
            "null".to_string()
        } else {
            self.page_origin.clone()
        }
    }

    fn hop_request(&self) -> CorsRequest {
        CorsRequest {
            method: self.method.clone(),
            headers: self.headers.clone(),
            url: self
                .url
                .as_ref()
                .map_or_else(String::new, ParsedUrl::to_url_string),
            ..self.request.clone()
        }
    }

    fn local_network_facts(&self) -> Option<LocalNetworkFacts> {
        let url = self.url.as_ref()?;
        let resource = self
            .resource_spaces
            .get(self.hop)
            .copied()
            .flatten()
            .unwrap_or_else(|| AddressSpace::of_host(&url.host));
        let page_host = ParsedUrl::parse(&self.page_origin)
            .map(|page| page.host)
            .unwrap_or_default();
        Some(LocalNetworkFacts {
            initiator: self
                .request
                .initiator_address_space
                .unwrap_or_else(|| AddressSpace::of_host(&page_host)),
            initiator_secure_context: self
                .request
                .initiator_secure_context
                .unwrap_or_else(|| is_potentially_trustworthy(&self.page_origin)),
            declared_target: self.request.target_address_space,
            resource,
            permission_granted: self.request.local_network_access_granted,
        })
    }

    fn begin_hop(&mut self, cache: Option<&PreflightCache>, now_micros: u64) {
        let request = self.hop_request();
        self.decision = decide(&request);
        let cached = self.cors_flag
            && self.decision.required
            && cache.is_some_and(|cache| {
                cache
                    .lookup(&self.origin_header(), &request, self.options, now_micros)
                    .is_hit()
            });
        self.trace.push(HopTrace {
            url: request.url.clone(),
            method: self.method.clone(),
            origin_header: self.cors_flag.then(|| self.origin_header()),
            preflight_required: self.cors_flag && self.decision.required,
            preflight_cached: cached,
            preflight_status: None,
            response_status: None,
        });
        self.waiting = if self.cors_flag && self.decision.required && !cached {
            Waiting::Preflight
        } else {
            Waiting::Response
        };
        // Local Network Access is checked when connecting, before the preflight's or the
        // request's response; Chromium exempts requests to the page's own origin.
        if self.cors_flag
            && let Some(facts) = self.local_network_facts()
        {
            match check_local_network_access(facts) {
                Err(failure) => self.block(failure, Stage::Connection),
                Ok(()) if facts.resource.is_more_private_than(facts.initiator) => {
                    self.warnings
                        .push(SoftWarning::LocalNetworkAccessPermissionNeeded {
                            initiator: facts.initiator,
                            resource: facts.resource,
                        });
                }
                Ok(()) => {}
            }
        }
    }

    /// The preflight decision for the request URL (before the cache).
    pub fn initial_decision(&self) -> &PreflightDecision {
        &self.initial_decision
    }

    /// What the browser sends next.
    pub fn next_step(&self) -> NextStep {
        let url = self
            .url
            .as_ref()
            .map_or_else(String::new, ParsedUrl::to_url_string);
        match self.waiting {
            Waiting::Done => NextStep::Done,
            Waiting::Preflight => {
                let mut headers = vec![
                    ("Accept".to_string(), "*/*".to_string()),
                    (
                        "Access-Control-Request-Method".to_string(),
                        self.decision.access_control_request_method.clone(),
                    ),
                ];
                if let Some(names) = &self.decision.access_control_request_headers {
                    headers.push(("Access-Control-Request-Headers".to_string(), names.clone()));
                }
                headers.push(("Origin".to_string(), self.origin_header()));
                headers.push(("Sec-Fetch-Mode".to_string(), "cors".to_string()));
                NextStep::Preflight(OutgoingRequest {
                    method: "OPTIONS".to_string(),
                    url,
                    headers,
                })
            }
            Waiting::Response => {
                let mut headers = self.headers.clone();
                if self.cors_flag || !is_safelisted_method(&self.method) || self.method == "POST" {
                    headers.push(("Origin".to_string(), self.origin_header()));
                }
                NextStep::Request(OutgoingRequest {
                    method: self.method.clone(),
                    url,
                    headers,
                })
            }
        }
    }

    /// Reports the preflight's response (or network failure).
    pub fn record_preflight(&mut self, response: &ObservedResponse) {
        if self.waiting != Waiting::Preflight {
            return;
        }
        if let Some(trace) = self.trace.last_mut() {
            trace.preflight_status = response.network_error.is_none().then_some(response.status);
        }
        self.last_preflight = Some(response.clone());
        if let Some(error) = &response.network_error {
            self.finish(Outcome::Failed {
                error: error.clone(),
                stage: Stage::Preflight,
                hop: self.hop,
            });
            return;
        }
        if response.is_redirect() {
            self.block(
                CorsFailure::new(CorsError::PreflightDisallowedRedirect, ""),
                Stage::Preflight,
            );
            return;
        }
        let include = self.request.includes_credentials();
        if let Err(failure) = check_preflight_access(response, &self.origin_header(), include) {
            self.block(failure, Stage::Preflight);
            return;
        }
        let methods =
            match parse_allow_list(response.header("access-control-allow-methods").as_deref()) {
                Ok(methods) => methods,
                Err(_) => {
                    self.block(
                        CorsFailure::new(CorsError::InvalidAllowMethodsPreflightResponse, ""),
                        Stage::Preflight,
                    );
                    return;
                }
            };
        let allowed_headers: Vec<String> =
            match parse_allow_list(response.header("access-control-allow-headers").as_deref()) {
                Ok(names) => names.iter().map(|name| name.to_ascii_lowercase()).collect(),
                Err(_) => {
                    self.block(
                        CorsFailure::new(CorsError::InvalidAllowHeadersPreflightResponse, ""),
                        Stage::Preflight,
                    );
                    return;
                }
            };
        let grant = PreflightGrant {
            origin: self.origin_header(),
            url: self.hop_request().url,
            credentials: include,
            methods,
            headers: allowed_headers,
            max_age_seconds: effective_max_age_seconds(
                response.header("access-control-max-age").as_deref(),
            ),
            requested_max_age: response.header("access-control-max-age"),
        };
        self.warnings
            .extend(SoftWarning::for_preflight(&grant, &self.hop_request()));
        if let Err(failure) = grant.check_method(&self.method, self.options) {
            self.block(failure, Stage::Preflight);
            return;
        }
        if let Err(failure) = grant.check_headers(&self.decision.unsafe_header_names, self.options)
        {
            self.block(failure, Stage::Preflight);
            return;
        }
        self.grants.push(grant);
        self.waiting = Waiting::Response;
    }

    /// Reports the response to the request itself (or its network failure).
    pub fn record_response(&mut self, response: &ObservedResponse) {
        if self.waiting != Waiting::Response {
            return;
        }
        if let Some(trace) = self.trace.last_mut() {
            trace.response_status = response.network_error.is_none().then_some(response.status);
        }
        if let Some(error) = &response.network_error {
            self.finish(Outcome::Failed {
                error: error.clone(),
                stage: Stage::Response,
                hop: self.hop,
            });
            return;
        }
        let include = self.request.includes_credentials();
        if self.cors_flag
            && response.status != 304
            && let Err(failure) = check_access(response, &self.origin_header(), include)
        {
            self.block(failure, Stage::Response);
            return;
        }
        if !response.is_redirect() {
            self.final_response = Some(response.clone());
            if self.cors_flag {
                self.warnings.extend(SoftWarning::for_exposure(
                    response,
                    &self.request.reads_response_headers,
                    include,
                ));
            }
            self.finish(Outcome::Allowed {
                opaque: false,
                cors_applied: self.cors_flag,
            });
            return;
        }
        self.follow_redirect(response);
    }

    fn follow_redirect(&mut self, response: &ObservedResponse) {
        match self.request.redirect {
            RedirectMode::Follow => {}
            RedirectMode::Error => {
                self.finish(Outcome::Failed {
                    error: "net::ERR_FAILED (redirect: \"error\")".to_string(),
                    stage: Stage::Redirect,
                    hop: self.hop,
                });
                return;
            }
            RedirectMode::Manual => {
                self.finish(Outcome::Allowed {
                    opaque: true,
                    cors_applied: self.cors_flag,
                });
                return;
            }
        }
        if self.hop + 1 > self.options.max_redirects {
            self.finish(Outcome::Failed {
                error: "net::ERR_TOO_MANY_REDIRECTS".to_string(),
                stage: Stage::Redirect,
                hop: self.hop,
            });
            return;
        }
        let Some(current) = self.url.clone() else {
            return;
        };
        let location = response.header("location").unwrap_or_default();
        let next = match current.join(&location) {
            Ok(next) if next.is_http() => next,
            _ => {
                self.finish(Outcome::Failed {
                    error: "net::ERR_INVALID_REDIRECT".to_string(),
                    stage: Stage::Redirect,
                    hop: self.hop,
                });
                return;
            }
        };
        let next_origin = next.origin();
        let current_origin = current.origin();
        if next.has_credentials
            && (self.cors_flag || self.tainted || next_origin != self.page_origin)
        {
            self.block(
                CorsFailure::new(CorsError::RedirectContainsCredentials, ""),
                Stage::Redirect,
            );
            return;
        }
        if next_origin != current_origin && self.page_origin != current_origin {
            self.tainted = true;
        }
        if next_origin != current_origin {
            self.headers
                .retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
        }
        let rewrite_to_get = match response.status {
            301 | 302 => self.method == "POST",
            303 => self.method != "GET" && self.method != "HEAD",
            _ => false,
        };
        if rewrite_to_get {
            self.method = "GET".to_string();
            self.request.body_kind = super::request::BodyKind::None;
            self.headers.retain(|(name, _)| {
                !matches!(
                    name.to_ascii_lowercase().as_str(),
                    "content-type" | "content-language" | "content-encoding" | "content-location"
                )
            });
        }
        if next_origin != self.page_origin || self.tainted {
            self.cors_flag = true;
        }
        self.url = Some(next);
        self.hop += 1;
        self.begin_hop(None, 0);
    }

    /// Stops with [`Outcome::Incomplete`] because the response for the next step is unknown.
    pub fn give_up(&mut self, missing: impl Into<String>) {
        if self.waiting == Waiting::Done {
            return;
        }
        let hop = self.hop;
        self.finish(Outcome::Incomplete {
            missing: missing.into(),
            hop,
        });
    }

    /// How the request ended, once [`CorsFlow::next_step`] says [`NextStep::Done`].
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// The URLs visited.
    pub fn trace(&self) -> &[HopTrace] {
        &self.trace
    }

    /// Soft problems found so far.
    pub fn warnings(&self) -> &[SoftWarning] {
        &self.warnings
    }

    /// What each successful preflight allows (for the preflight cache).
    pub fn grants(&self) -> &[PreflightGrant] {
        &self.grants
    }

    /// The request after normalisation.
    pub fn request(&self) -> &CorsRequest {
        &self.request
    }

    /// The most recent preflight response.
    pub fn last_preflight(&self) -> Option<&ObservedResponse> {
        self.last_preflight.as_ref()
    }

    /// The final (non-redirect) response, once the request was allowed.
    pub fn final_response(&self) -> Option<&ObservedResponse> {
        self.final_response.as_ref()
    }

    /// True once the request was tainted by a cross-origin redirect (`Origin: null`).
    pub fn is_tainted(&self) -> bool {
        self.tainted
    }

    /// The `Origin` value used for the current hop.
    pub fn current_origin_header(&self) -> String {
        self.origin_header()
    }

    /// The preflight decision of the current hop.
    pub fn current_decision(&self) -> &PreflightDecision {
        &self.decision
    }
}
