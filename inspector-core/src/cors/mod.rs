//! CORS and preflight analysis that agrees with Chromium.
//!
//! Data enters as a [`CorsRequest`] (what the page asked for: origin, URL, method, headers,
//! credentials, mode, body kind, upload listeners) plus whatever [`Observations`] are known
//! (preflight and response of each URL of the redirect chain). It leaves as a
//! [`CorsAnalysis`]: whether a preflight is needed and every reason, the verdict with
//! Chromium's `Network.CorsError` name and `failedParameter` exactly as CDP reports them, a
//! one-sentence explanation, a fix with server snippets, soft warnings, and what the
//! preflight cache keeps.
//!
//! The checks run in Chromium's order (`CorsURLLoader`, `PreflightController`,
//! `cors.cc`): request mode and scheme in the page, then per URL: preflight (redirect,
//! access check, status, `Access-Control-Allow-Methods`/`-Headers` parsing, method,
//! headers), then the access check on the response, then redirect rules (credentials in the
//! `Location`, origin tainting, method rewriting). Nothing here does I/O: the CLI's
//! `cors-check` drives [`CorsFlow`] with real requests, [`analyze`] replays recorded ones,
//! and [`capture`] builds inputs from capture events.

pub mod cache;
pub mod capture;
pub mod check;
pub mod console;
pub mod error;
pub mod fix;
pub mod flow;
pub mod lna;
pub mod preflight;
pub mod request;
pub mod url;
pub mod warning;

use serde::Serialize;

pub use cache::{CacheLookup, PreflightCache, PreflightGrant};
pub use error::CorsError;
pub use fix::Fix;
pub use flow::{AnalyzerOptions, CorsFlow, HopTrace, NextStep, Outcome, OutgoingRequest, Stage};
pub use lna::AddressSpace;
pub use preflight::{PreflightDecision, PreflightReason};
pub use request::{
    BodyKind, CorsRequest, CredentialsMode, Observations, ObservedHop, ObservedResponse,
    RedirectMode, RequestMode,
};
pub use warning::SoftWarning;

/// `allowed`, `blocked` or `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The page gets the response (perhaps opaque).
    Allowed,
    /// Chromium blocks it (CORS error, network error, or a TypeError in the page).
    Blocked,
    /// Not enough was observed to decide.
    Unknown,
}

/// An item with its one-sentence description (for JSON output and the UI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Described<T: Serialize> {
    /// The item.
    #[serde(flatten)]
    pub item: T,
    /// What it means, in one sentence.
    pub description: String,
}

/// The result of [`analyze`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CorsAnalysis {
    /// True when the request URL is cross-origin to the page.
    pub cross_origin: bool,
    /// True when the first request needs an `OPTIONS` preflight (before the cache).
    pub preflight_required: bool,
    /// Every reason for the preflight.
    pub preflight_reasons: Vec<Described<PreflightReason>>,
    /// `Access-Control-Request-Method` the browser sends.
    pub access_control_request_method: String,
    /// `Access-Control-Request-Headers` the browser sends, if any.
    pub access_control_request_headers: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// Chromium's `Network.CorsError`, when blocked by CORS.
    pub cors_error: Option<CorsError>,
    /// `failedParameter` as CDP reports it (empty string when the error has none).
    pub failed_parameter: Option<String>,
    /// The net error or TypeError when blocked outside CORS.
    pub error: Option<String>,
    /// Where it stopped.
    pub stage: Option<Stage>,
    /// Index of the URL in the redirect chain where it stopped.
    pub hop: Option<usize>,
    /// One sentence for the developer.
    pub explanation: String,
    /// What the server must send (present when blocked by CORS or when there are warnings).
    pub fix: Option<Fix>,
    /// Soft problems.
    pub warnings: Vec<Described<SoftWarning>>,
    /// Each URL of the chain.
    pub hops: Vec<HopTrace>,
    /// What the successful preflights let Chromium cache.
    pub preflight_cache: Vec<PreflightGrant>,
}

impl CorsAnalysis {
    /// Builds the analysis from a finished (or abandoned) engine.
    pub fn from_flow(flow: &CorsFlow) -> CorsAnalysis {
        let decision = flow.initial_decision().clone();
        let outcome = flow.outcome().cloned().unwrap_or(Outcome::Incomplete {
            missing: "the analysis did not finish".to_string(),
            hop: 0,
        });
        let request = flow.request();
        let cross_origin = url::ParsedUrl::parse(&request.url)
            .map(|parsed| parsed.origin() != url::normalize_origin(&request.page_origin))
            .unwrap_or(true);
        let (verdict, cors_error, failed_parameter, error, stage, hop) = match &outcome {
            Outcome::Allowed { .. } => (Verdict::Allowed, None, None, None, None, None),
            Outcome::CorsBlocked {
                cors_error,
                failed_parameter,
                stage,
                hop,
            } => (
                Verdict::Blocked,
                Some(*cors_error),
                Some(failed_parameter.clone()),
                None,
                Some(*stage),
                Some(*hop),
            ),
            Outcome::Failed { error, stage, hop } => (
                Verdict::Blocked,
                None,
                None,
                Some(error.clone()),
                Some(*stage),
                Some(*hop),
            ),
            Outcome::Incomplete { hop, .. } => {
                (Verdict::Unknown, None, None, None, None, Some(*hop))
            }
        };
        let warnings = flow.warnings().to_vec();
        let fix = fix::build_fix(request, &decision, &outcome, &warnings);
        CorsAnalysis {
            cross_origin,
            preflight_required: cross_origin
                && request.mode == RequestMode::Cors
                && decision.required,
            preflight_reasons: decision
                .reasons
                .iter()
                .map(|reason| Described {
                    description: reason.describe(),
                    item: reason.clone(),
                })
                .collect(),
            access_control_request_method: decision.access_control_request_method.clone(),
            access_control_request_headers: decision.access_control_request_headers.clone(),
            verdict,
            cors_error,
            failed_parameter,
            error,
            stage,
            hop,
            explanation: fix::explain(request, &decision, &outcome, flow.trace()),
            fix,
            warnings: warnings
                .into_iter()
                .map(|warning| Described {
                    description: warning.describe(),
                    item: warning,
                })
                .collect(),
            hops: flow.trace().to_vec(),
            preflight_cache: flow.grants().to_vec(),
        }
    }
}

/// Replays `observations` through the engine and analyses the request.
pub fn analyze(
    request: &CorsRequest,
    observations: &Observations,
    options: AnalyzerOptions,
) -> CorsAnalysis {
    let mut flow = CorsFlow::with_inputs(request, options, None, 0, &address_spaces(observations));
    replay(&mut flow, observations);
    CorsAnalysis::from_flow(&flow)
}

/// Like [`analyze`], with a preflight cache: a preflight it covers at `now_micros` is
/// skipped, and a successful preflight is stored into it.
pub fn analyze_with_cache(
    request: &CorsRequest,
    observations: &Observations,
    options: AnalyzerOptions,
    cache: &mut PreflightCache,
    now_micros: u64,
) -> CorsAnalysis {
    let mut flow = CorsFlow::with_inputs(
        request,
        options,
        Some(cache),
        now_micros,
        &address_spaces(observations),
    );
    replay(&mut flow, observations);
    // A lookup that finds an entry not covering the request removes it (Chromium's
    // `PreflightCache::CheckIfRequestCanSkipPreflight`); a successful preflight stores anew.
    if let Some(first) = flow.trace().first()
        && first.preflight_required
        && !first.preflight_cached
    {
        let origin = first
            .origin_header
            .clone()
            .unwrap_or_else(|| url::normalize_origin(&request.page_origin));
        cache.clear(&origin, &first.url);
    }
    for grant in flow.grants() {
        cache.store(grant, now_micros);
    }
    // The Fetch standard clears the entry when a preflighted request then fails (main fetch
    // step 12.3); Chromium keeps it (checked by the oracle test), so nothing is cleared here.
    CorsAnalysis::from_flow(&flow)
}

fn address_spaces(observations: &Observations) -> Vec<Option<AddressSpace>> {
    observations
        .hops
        .iter()
        .map(|hop| hop.resource_address_space)
        .collect()
}

fn replay(flow: &mut CorsFlow, observations: &Observations) {
    let mut hop = 0;
    loop {
        match flow.next_step() {
            NextStep::Done => break,
            NextStep::Preflight(outgoing) => {
                match observations
                    .hops
                    .get(hop)
                    .and_then(|h| h.preflight.as_ref())
                {
                    Some(response) => flow.record_preflight(response),
                    None => flow.give_up(format!(
                        "the preflight response for {} was not observed",
                        outgoing.url
                    )),
                }
            }
            NextStep::Request(outgoing) => {
                match observations.hops.get(hop).and_then(|h| h.response.as_ref()) {
                    Some(response) => {
                        flow.record_response(response);
                        hop += 1;
                    }
                    None => flow.give_up(format!(
                        "the response for {} was not observed",
                        outgoing.url
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
