use std::collections::HashMap;

use inspector_core::cors::capture::{CaptureDiagnosis, LikelyCause, diagnose_capture};
use inspector_core::cors::{CorsAnalysis, CorsRequest, Verdict};
use inspector_core::event::{CaptureEvent, EventBody};
use inspector_core::view::format::format_clock;
use leptos::prelude::*;

use crate::bridge::{self, FixView, ProbeReport};
use crate::state::{Inspector, use_inspector};
use crate::store::{CorsCase, Store};

/// The analyzer's verdict in a shape the panel shows (from an observed preflight or from a
/// server probe).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdicts {
    source: &'static str,
    blocked: bool,
    cors_error: Option<String>,
    failed_parameter: Option<String>,
    error: Option<String>,
    explanation: String,
    fix: Option<FixView>,
    warnings: Vec<String>,
}

impl Verdicts {
    fn from_analysis(analysis: &CorsAnalysis, source: &'static str) -> Self {
        Self {
            source,
            blocked: analysis.verdict == Verdict::Blocked,
            cors_error: analysis.cors_error.map(|error| error.as_str().to_owned()),
            failed_parameter: analysis.failed_parameter.clone(),
            error: analysis.error.clone(),
            explanation: analysis.explanation.clone(),
            fix: analysis.fix.as_ref().map(FixView::from),
            warnings: analysis
                .warnings
                .iter()
                .map(|warning| warning.description.clone())
                .collect(),
        }
    }

    fn from_probe(report: ProbeReport) -> Self {
        Self {
            source: "probe of the server (the same preflight the browser sends)",
            blocked: report.verdict == "blocked",
            cors_error: report.cors_error,
            failed_parameter: report.failed_parameter,
            error: report.error,
            explanation: report.explanation,
            fix: report.fix,
            warnings: report.warnings,
        }
    }
}

/// One failed cross-origin call.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CorsItem {
    key: String,
    method: String,
    url: String,
    time: String,
    page_error: Option<String>,
    likely: LikelyCause,
    headline: String,
    reasons: Vec<String>,
    probe_command: String,
    request: CorsRequest,
    observed: Option<Verdicts>,
}

fn is_cors_related(diagnosis: &CaptureDiagnosis) -> bool {
    matches!(
        diagnosis.likely,
        LikelyCause::LikelyBlockedByPreflight
            | LikelyCause::BlockedByPreflight
            | LikelyCause::LikelyBlockedAfterPreflight
            | LikelyCause::LikelyBlockedByResponseHeaders
            | LikelyCause::RejectedInPage
    )
}

/// The core's diagnosis of a failed exchange, given the preflights observed for its URL.
fn diagnose(store: &Store, case: &CorsCase) -> Option<CaptureDiagnosis> {
    let url = match &case.request.body {
        EventBody::HttpRequest { url, .. } => url.as_str(),
        _ => return None,
    };
    let mut events: Vec<CaptureEvent> = case.events.clone();
    events.extend(
        store
            .preflights()
            .filter(|event| matches!(&event.body, EventBody::CorsPreflight { url: preflight_url, .. } if preflight_url == url))
            .cloned(),
    );
    diagnose_capture(&events)
        .into_iter()
        .next()
        .filter(is_cors_related)
}

fn items(store: &Store, utc_offset: i32) -> Vec<CorsItem> {
    store
        .cors_cases()
        .rev()
        .filter_map(|case| {
            let diagnosis = diagnose(store, case)?;
            let observed = diagnosis.analysis.as_ref().map(|analysis| {
                Verdicts::from_analysis(analysis, "preflight observed by the browser extension")
            });
            let (method, url) = match &case.request.body {
                EventBody::HttpRequest { method, url, .. } => (method.clone(), url.clone()),
                _ => (String::new(), String::new()),
            };
            Some(CorsItem {
                key: format!("{}/{}", diagnosis.session_id, diagnosis.connection_id),
                method,
                url,
                time: format_clock(case.failed_micros, utc_offset),
                page_error: diagnosis.page_error.clone(),
                likely: diagnosis.likely,
                headline: diagnosis.headline.clone(),
                reasons: diagnosis
                    .preflight_reasons
                    .iter()
                    .map(|reason| reason.description.clone())
                    .collect(),
                probe_command: diagnosis.probe_command.clone(),
                request: diagnosis.request.clone(),
                observed,
            })
        })
        .collect()
}

/// Number of blocked or likely-blocked calls.
pub fn failure_count(store: &Store) -> usize {
    store
        .cors_cases()
        .filter(|case| diagnose(store, case).is_some())
        .count()
}

fn likely_label(likely: LikelyCause) -> &'static str {
    match likely {
        LikelyCause::LikelyBlockedByPreflight => "likely blocked by the preflight",
        LikelyCause::BlockedByPreflight => "blocked by the preflight",
        LikelyCause::LikelyBlockedAfterPreflight => {
            "preflight passed; likely blocked by the response"
        }
        LikelyCause::LikelyBlockedByResponseHeaders => "likely blocked by the response headers",
        LikelyCause::RejectedInPage => "rejected in the page",
        LikelyCause::NotCors => "not CORS",
        LikelyCause::Passed => "passed",
        LikelyCause::Pending => "pending",
        LikelyCause::AbortedOrTimedOut => "aborted or timed out",
    }
}

fn header_lines(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn verdict_view(inspector: Inspector, verdicts: Verdicts) -> impl IntoView {
    let fix = verdicts.fix.clone();
    view! {
        <div class="fs-verdict" data-testid="cors-verdict">
            <div>
                {if verdicts.blocked { "Blocked" } else { "Allowed" }}
                {verdicts.cors_error.clone().map(|error| view! {
                    ": "<span class="fs-cors-error" data-testid="cors-error">{error}</span>
                })}
                {verdicts
                    .failed_parameter
                    .clone()
                    .filter(|parameter| !parameter.is_empty())
                    .map(|parameter| view! {
                        " (failedParameter "<code data-testid="cors-failed-parameter">{parameter}</code>")"
                    })}
                {verdicts.error.clone().map(|error| view! { " — "<code>{error}</code> })}
            </div>
            <p data-testid="cors-explanation">{verdicts.explanation.clone()}</p>
            <div class="fs-muted">{format!("Source: {}", verdicts.source)}</div>
            {(!verdicts.warnings.is_empty()).then(|| view! {
                <ul>{verdicts.warnings.iter().map(|warning| view! { <li class="fs-warn-text">{warning.clone()}</li> }).collect_view()}</ul>
            })}
            {fix.map(|fix| {
                let go = fix.go_net_http.clone();
                let axum = fix.axum_tower_http.clone();
                let nginx = fix.nginx.clone();
                view! {
                    <div data-testid="cors-fix">
                        <p><b>"Fix: "</b>{fix.summary.clone()}</p>
                        {(!fix.preflight_response_headers.is_empty()).then(|| view! {
                            <h5>"Preflight (OPTIONS) response headers"</h5>
                            <pre>{header_lines(&fix.preflight_response_headers)}</pre>
                        })}
                        {(!fix.response_headers.is_empty()).then(|| view! {
                            <h5>"Response headers"</h5>
                            <pre>{header_lines(&fix.response_headers)}</pre>
                        })}
                        {snippet(inspector, "Go net/http", go)}
                        {snippet(inspector, "axum + tower-http", axum)}
                        {snippet(inspector, "nginx", nginx)}
                    </div>
                }
            })}
        </div>
    }
}

fn snippet(inspector: Inspector, title: &'static str, code: String) -> impl IntoView {
    let copy_code = code.clone();
    view! {
        <details>
            <summary>
                {title}
                " "
                <button class="fs-link" on:click=move |event| {
                    event.prevent_default();
                    let what = title;
                    bridge::copy_to_clipboard(copy_code.clone(), move |result| match result {
                        Ok(()) => inspector.notify(format!("Copied the {what} snippet")),
                        Err(error) => inspector.notify(format!("Cannot copy: {error}")),
                    });
                }>"copy"</button>
            </summary>
            <pre>{code}</pre>
        </details>
    }
}

/// Blocked and likely-blocked cross-origin calls, explained.
#[component]
pub fn CorsPanel() -> impl IntoView {
    let inspector = use_inspector();
    let utc_offset = bridge::utc_offset_minutes();
    let cors_version = Memo::new(move |_| {
        inspector.stats_version.track();
        inspector.store.with_value(Store::cors_version)
    });
    let list = Memo::new(move |_| {
        let _ = cors_version.get();
        inspector.store.with_value(|store| items(store, utc_offset))
    });
    let probes = RwSignal::new(HashMap::<String, Result<Verdicts, String>>::new());
    let probing = RwSignal::new(None::<String>);

    let probe = move |key: String, request: CorsRequest| {
        probing.set(Some(key.clone()));
        leptos::task::spawn_local(async move {
            let result = bridge::probe_cors(&request).await.map(Verdicts::from_probe);
            probes.update(|probes| {
                probes.insert(key, result);
            });
            probing.set(None);
        });
    };

    view! {
        <section class="fs-cors" aria-label="CORS" data-testid="cors-panel">
            <Show
                when=move || list.with(|list| !list.is_empty())
                fallback=|| view! { <div class="fs-empty">"No CORS failures"</div> }
            >
                <For
                    each=move || list.get()
                    key=|item| format!("{item:?}")
                    children=move |item| {
                        let key = item.key.clone();
                        let probe_key = key.clone();
                        let request = item.request.clone();
                        let probe_result = move || probes.with(|probes| probes.get(&probe_key).cloned());
                        let busy_key = key.clone();
                        let busy_key = StoredValue::new(busy_key);
                        let busy = move || {
                            probing.with(|probing| {
                                busy_key.with_value(|key| probing.as_deref() == Some(key.as_str()))
                            })
                        };
                        let observed = item.observed.clone();
                        let exact = observed.is_some();
                        view! {
                            <article
                                class="fs-cors-item"
                                class:likely=!exact
                                data-testid="cors-failure"
                                data-connection=key.clone()
                            >
                                <h4>{format!("{} {}", item.method, item.url)}</h4>
                                <div class="fs-muted">
                                    {format!("{} · {}", item.time, likely_label(item.likely))}
                                    {item.page_error.clone().map(|error| format!(" · page saw: {error}"))}
                                </div>
                                <p data-testid="cors-headline">{item.headline.clone()}</p>
                                {(!item.reasons.is_empty()).then(|| view! {
                                    <div>"Preflight because:"</div>
                                    <ul>{item.reasons.iter().map(|reason| view! { <li>{reason.clone()}</li> }).collect_view()}</ul>
                                })}
                                {observed.map(|verdicts| verdict_view(inspector, verdicts))}
                                {move || probe_result().map(|result| match result {
                                    Ok(verdicts) => verdict_view(inspector, verdicts).into_any(),
                                    Err(message) => view! { <div class="fs-error-text">{message}</div> }.into_any(),
                                })}
                                <div class="fs-decode-as">
                                    <button
                                        data-testid="cors-probe"
                                        disabled=busy
                                        title="Ask the framescope server to send the same preflight the browser sent and explain the answer"
                                        on:click={
                                            let key = key.clone();
                                            let request = request.clone();
                                            move |_| probe(key.clone(), request.clone())
                                        }
                                    >
                                        {move || if busy() { "Probing…" } else { "Probe the server" }}
                                    </button>
                                    <code class="fs-muted">{item.probe_command.clone()}</code>
                                </div>
                            </article>
                        }
                    }
                />
            </Show>
        </section>
    }
}
