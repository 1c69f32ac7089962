//! `framescope cors-check`: probe a server the way Chromium would, then explain the verdict;
//! `framescope cors-explain`: analyse a request and observed responses given as JSON.
//!
//! `cors-check` sends the exact preflight a browser sends (`OPTIONS` with
//! `Access-Control-Request-Method`, `Access-Control-Request-Headers` as a sorted lower-case
//! list, and `Origin`; redirects are not followed), then, if it passes, the request itself
//! (following redirects like fetch, with a new preflight where the browser would send one).
//! The responses feed the core's [`CorsFlow`]; the verdict, reasons, explanation and fix are
//! printed as text or one JSON object. Exit codes: 0 allowed, 1 blocked, 2 could not check.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use inspector_core::cors::url::ParsedUrl;
use inspector_core::cors::{
    AnalyzerOptions, CorsAnalysis, CorsFlow, CorsRequest, CredentialsMode, NextStep, Observations,
    ObservedResponse, OutgoingRequest, PreflightCache, Verdict, analyze, analyze_with_cache,
};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};

/// Arguments of `framescope cors-check`.
#[derive(clap::Args, Debug)]
pub struct CorsCheckArgs {
    /// The URL the page calls.
    pub url: String,
    /// The page's origin, e.g. http://localhost:5173.
    #[arg(long)]
    pub origin: String,
    /// The method the page uses (fetch upper-cases only delete/get/head/options/post/put).
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// A request header the page sets, as 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The page sends credentials (credentials: "include" / withCredentials).
    #[arg(long)]
    pub credentials: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Give up on a request after this many seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout_secs: u64,
    /// Also trust the CA certificates in this PEM file for https URLs (e.g. a development CA).
    #[arg(long, value_name = "PEM")]
    pub cacert: Option<PathBuf>,
}

/// Arguments of `framescope cors-explain`.
#[derive(clap::Args, Debug)]
pub struct CorsExplainArgs {
    /// JSON file with `request` and `observations`, or a `sequence` of them (`-` reads
    /// standard input).
    #[arg(required_unless_present = "message", conflicts_with = "message")]
    pub file: Option<PathBuf>,
    /// A CORS error message copied from Chrome's console instead of a file.
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The input of `cors-explain`: one request, or a sequence replayed through one preflight
/// cache (each step at its own time), to tell which calls were preflighted.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ExplainInput {
    Sequence { sequence: Vec<ExplainStep> },
    Single(ExplainStep),
}

/// One request of `cors-explain`'s input.
#[derive(Debug, Deserialize)]
struct ExplainStep {
    request: CorsRequest,
    #[serde(default)]
    observations: Observations,
    /// When the request was made, microseconds since the Unix epoch (sequences only).
    #[serde(default)]
    time_micros: u64,
}

/// One request the probe sent and what came back.
#[derive(Debug, Serialize)]
struct Exchange {
    kind: &'static str,
    method: String,
    url: String,
    request_headers: Vec<(String, String)>,
    status: Option<u16>,
    response_headers: Vec<(String, String)>,
}

#[derive(Debug, Serialize)]
struct CheckReport<'a> {
    url: &'a str,
    origin: &'a str,
    method: &'a str,
    #[serde(flatten)]
    analysis: &'a CorsAnalysis,
    exchanges: &'a [Exchange],
}

/// Why a probe request got no response.
#[derive(Debug, thiserror::Error)]
enum ProbeError {
    #[error("cannot resolve host {host}: {source}")]
    Dns {
        host: String,
        source: std::io::Error,
    },
    #[error("connection refused by {address}")]
    Refused { address: String },
    #[error("timed out after {seconds} s")]
    Timeout { seconds: u64 },
    #[error("cannot connect to {address}: {source}")]
    Connect {
        address: String,
        source: std::io::Error,
    },
    #[error("TLS handshake with {host} failed: {source}")]
    Tls {
        host: String,
        source: std::io::Error,
    },
    #[error("HTTP error: {0}")]
    Http(#[from] hyper::Error),
    #[error("invalid request: {0}")]
    Request(String),
}

fn parse_header(text: &str) -> anyhow::Result<(String, String)> {
    let Some((name, value)) = text.split_once(':') else {
        bail!("header `{text}` is not in the form 'Name: value'");
    };
    let name = name.trim();
    if name.is_empty() {
        bail!("header `{text}` has an empty name");
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// Runs `framescope cors-check`.
pub fn run_check(args: CorsCheckArgs) -> anyhow::Result<ExitCode> {
    let headers = args
        .headers
        .iter()
        .map(|header| parse_header(header))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut request =
        CorsRequest::new(args.origin.clone(), args.url.clone()).with_method(&args.method);
    request.headers = headers;
    if args.credentials {
        request.credentials = CredentialsMode::Include;
    }
    // The probe is about the server's headers: assume the user grants Local Network Access
    // (the analysis warns when the page will need that permission).
    request.local_network_access_granted = true;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let prober = Prober {
        timeout: Duration::from_secs(args.timeout_secs.max(1)),
        tls: Arc::new(tls_config(args.cacert.as_deref())?),
    };
    let (flow, exchanges) = match runtime.block_on(probe(&request, &prober)) {
        Ok(result) => result,
        Err((exchange_url, error)) => {
            eprintln!("framescope: could not check {exchange_url}: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    let analysis = CorsAnalysis::from_flow(&flow);
    if args.json {
        let report = CheckReport {
            url: &args.url,
            origin: &args.origin,
            method: &analysis.access_control_request_method,
            analysis: &analysis,
            exchanges: &exchanges,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_text(&request, &analysis, &exchanges));
    }
    Ok(exit_code(&analysis))
}

/// The dashboard's probe route: `POST /__framescope/cors-probe` with a [`CorsRequest`] as
/// JSON runs the same probe as `cors-check` and answers its JSON report (502 with one line
/// when the server could not be reached). Only the dashboard's own page may call it: a
/// request whose `Origin` is not the server's own origin is refused, and the body must be
/// `application/json` (so no other page can send it without a preflight this route never
/// answers).
pub fn routes() -> axum::Router {
    axum::Router::new().route(
        "/__framescope/cors-probe",
        axum::routing::post(probe_handler),
    )
}

async fn probe_handler(headers: axum::http::HeaderMap, body: Bytes) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let same = origin
            .to_str()
            .ok()
            .and_then(|origin| ParsedUrl::parse(origin).ok())
            .is_some_and(|origin| {
                let authority = match origin.port {
                    Some(port) => format!("{}:{port}", origin.host),
                    None => origin.host.clone(),
                };
                authority.eq_ignore_ascii_case(host)
            });
        if !same {
            return (
                StatusCode::FORBIDDEN,
                "the CORS probe answers the dashboard's own page only\n",
            )
                .into_response();
        }
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !is_json {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as application/json\n",
        )
            .into_response();
    }
    let mut request: CorsRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("not a CORS request description: {error}\n"),
            )
                .into_response();
        }
    };
    request.local_network_access_granted = true;
    let tls = match tls_config(None) {
        Ok(tls) => tls,
        Err(error) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, format!("{error:#}\n")).into_response();
        }
    };
    let prober = Prober {
        timeout: Duration::from_secs(10),
        tls: Arc::new(tls),
    };
    match probe(&request, &prober).await {
        Ok((flow, exchanges)) => {
            let analysis = CorsAnalysis::from_flow(&flow);
            let report = CheckReport {
                url: &request.url,
                origin: &request.page_origin,
                method: &analysis.access_control_request_method,
                analysis: &analysis,
                exchanges: &exchanges,
            };
            axum::Json(report).into_response()
        }
        Err((url, error)) => (
            StatusCode::BAD_GATEWAY,
            format!("could not check {url}: {error}\n"),
        )
            .into_response(),
    }
}

/// Runs `framescope cors-explain`.
pub fn run_explain(args: CorsExplainArgs) -> anyhow::Result<ExitCode> {
    if let Some(message) = &args.message {
        return explain_message(message, args.json);
    }
    let file = args.file.unwrap_or_else(|| PathBuf::from("-"));
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
    } else {
        std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let input: ExplainInput = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a cors-explain input", file.display()))?;
    let options = AnalyzerOptions::default();
    let steps = match input {
        ExplainInput::Single(step) => {
            let analysis = analyze(&step.request, &step.observations, options);
            if args.json {
                println!("{}", serde_json::to_string_pretty(&analysis)?);
            } else {
                print!("{}", render_text(&step.request, &analysis, &[]));
            }
            return Ok(exit_code(&analysis));
        }
        ExplainInput::Sequence { sequence } => sequence,
    };
    let mut cache = PreflightCache::new();
    let mut analyses = Vec::with_capacity(steps.len());
    for step in &steps {
        analyses.push(analyze_with_cache(
            &step.request,
            &step.observations,
            options,
            &mut cache,
            step.time_micros,
        ));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&analyses)?);
    } else {
        for (step, analysis) in steps.iter().zip(&analyses) {
            if analysis
                .hops
                .first()
                .is_some_and(|hop| hop.preflight_cached)
            {
                println!("(preflight skipped: the preflight cache covered this request)");
            }
            print!("{}", render_text(&step.request, analysis, &[]));
            println!();
        }
    }
    Ok(analyses.last().map_or(ExitCode::SUCCESS, exit_code))
}

/// `cors-explain --message`: a console message read back to Chromium's error, explained.
fn explain_message(text: &str, json: bool) -> anyhow::Result<ExitCode> {
    use inspector_core::cors::console::{explain_console_message, parse_console_message};
    let message = parse_console_message(text)?;
    let explained = explain_console_message(&message);
    if json {
        println!("{}", serde_json::to_string_pretty(&explained)?);
        return Ok(ExitCode::from(1));
    }
    let mut out = format!(
        "Verdict: BLOCKED: {}{}\nWhy: {}\n",
        message.cors_error,
        if message.failed_parameter.is_empty() {
            String::new()
        } else {
            format!(" (failedParameter: {})", message.failed_parameter)
        },
        explained.explanation
    );
    if let Some(fix) = &explained.fix {
        out.push_str(&format!("Fix: {}\n", fix.summary));
        if !fix.preflight_response_headers.is_empty() {
            out.push_str("  OPTIONS response (status 204):\n");
            for (name, value) in &fix.preflight_response_headers {
                out.push_str(&format!("    {name}: {value}\n"));
            }
        }
        out.push_str("  Every response:\n");
        for (name, value) in &fix.response_headers {
            out.push_str(&format!("    {name}: {value}\n"));
        }
    }
    if let Some(probe) = &explained.probe_command {
        out.push_str(&format!("Probe the server: {probe}\n"));
    }
    print!("{out}");
    Ok(ExitCode::from(1))
}

fn exit_code(analysis: &CorsAnalysis) -> ExitCode {
    match analysis.verdict {
        Verdict::Allowed => ExitCode::SUCCESS,
        Verdict::Blocked => ExitCode::from(1),
        Verdict::Unknown => ExitCode::from(2),
    }
}

/// How probe requests are sent.
struct Prober {
    timeout: Duration,
    tls: Arc<tokio_rustls::rustls::ClientConfig>,
}

/// TLS with the webpki roots, plus the certificates of `cacert` when given.
fn tls_config(
    cacert: Option<&std::path::Path>,
) -> anyhow::Result<tokio_rustls::rustls::ClientConfig> {
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = cacert {
        let mut added = 0;
        for certificate in CertificateDer::pem_file_iter(path)
            .with_context(|| format!("cannot read {}", path.display()))?
        {
            let certificate =
                certificate.with_context(|| format!("{} is not a PEM file", path.display()))?;
            roots
                .add(certificate)
                .with_context(|| format!("{} holds an unusable certificate", path.display()))?;
            added += 1;
        }
        if added == 0 {
            bail!("{} holds no certificate", path.display());
        }
    }
    Ok(
        tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS")?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

/// Drives the engine with real requests. On a network failure returns the URL and error.
async fn probe(
    request: &CorsRequest,
    prober: &Prober,
) -> Result<(CorsFlow, Vec<Exchange>), (String, ProbeError)> {
    let mut flow = CorsFlow::new(request, AnalyzerOptions::default());
    let mut exchanges = Vec::new();
    loop {
        let (kind, outgoing) = match flow.next_step() {
            NextStep::Done => break,
            NextStep::Preflight(outgoing) => ("preflight", outgoing),
            NextStep::Request(outgoing) => ("request", outgoing),
        };
        let response = match send(&outgoing, prober).await {
            Ok(response) => response,
            Err(error) => return Err((outgoing.url.clone(), error)),
        };
        exchanges.push(Exchange {
            kind,
            method: outgoing.method.clone(),
            url: outgoing.url.clone(),
            request_headers: outgoing.headers.clone(),
            status: Some(response.status),
            response_headers: response.headers.clone(),
        });
        if kind == "preflight" {
            flow.record_preflight(&response);
        } else {
            flow.record_response(&response);
        }
    }
    Ok((flow, exchanges))
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

async fn connect(url: &ParsedUrl, prober: &Prober) -> Result<Box<dyn Stream>, ProbeError> {
    let host = url
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url
        .port
        .unwrap_or(if url.scheme == "https" { 443 } else { 80 });
    let addresses: Vec<_> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|source| ProbeError::Dns {
            host: host.clone(),
            source,
        })?
        .collect();
    let Some(address) = addresses.first().copied() else {
        return Err(ProbeError::Dns {
            host: host.clone(),
            source: std::io::Error::other("no address"),
        });
    };
    let tcp = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::ConnectionRefused => ProbeError::Refused {
                address: address.to_string(),
            },
            _ => ProbeError::Connect {
                address: address.to_string(),
                source,
            },
        })?;
    if url.scheme != "https" {
        return Ok(Box::new(tcp));
    }
    let server_name =
        tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone()).map_err(|error| {
            ProbeError::Tls {
                host: host.clone(),
                source: std::io::Error::other(error),
            }
        })?;
    let tls = tokio_rustls::TlsConnector::from(Arc::clone(&prober.tls))
        .connect(server_name, tcp)
        .await
        .map_err(|source| ProbeError::Tls { host, source })?;
    Ok(Box::new(tls))
}

async fn send(outgoing: &OutgoingRequest, prober: &Prober) -> Result<ObservedResponse, ProbeError> {
    let seconds = prober.timeout.as_secs();
    tokio::time::timeout(prober.timeout, send_inner(outgoing, prober))
        .await
        .map_err(|_| ProbeError::Timeout { seconds })?
}

async fn send_inner(
    outgoing: &OutgoingRequest,
    prober: &Prober,
) -> Result<ObservedResponse, ProbeError> {
    let url =
        ParsedUrl::parse(&outgoing.url).map_err(|error| ProbeError::Request(error.to_string()))?;
    let stream = connect(&url, prober).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // The connection ends when the response is dropped; its error is not ours to report.
        let _ = connection.await;
    });
    let authority = match url.port {
        Some(port) => format!("{}:{port}", url.host),
        None => url.host.clone(),
    };
    let mut builder = hyper::Request::builder()
        .method(outgoing.method.as_str())
        .uri(url.path_and_query.split('#').next().unwrap_or("/"))
        .header("Host", authority)
        .header(
            "User-Agent",
            concat!("framescope-cors-check/", env!("CARGO_PKG_VERSION")),
        )
        .header("Connection", "close");
    for (name, value) in &outgoing.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if !matches!(outgoing.method.as_str(), "GET" | "HEAD" | "OPTIONS") {
        builder = builder.header("Content-Length", "0");
    }
    let request = builder
        .body(Empty::<Bytes>::new())
        .map_err(|error| ProbeError::Request(error.to_string()))?;
    let response = sender.send_request(request).await?;
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    Ok(ObservedResponse {
        status: response.status().as_u16(),
        headers,
        network_error: None,
    })
}

fn render_text(request: &CorsRequest, analysis: &CorsAnalysis, exchanges: &[Exchange]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} {} from origin {}\n",
        analysis.access_control_request_method, request.url, request.page_origin
    ));
    if analysis.preflight_required {
        out.push_str("Preflight: required, because\n");
        for reason in &analysis.preflight_reasons {
            out.push_str(&format!("  - {}\n", reason.description));
        }
        if let Some(headers) = &analysis.access_control_request_headers {
            out.push_str(&format!("  Access-Control-Request-Headers: {headers}\n"));
        }
    } else if analysis.cross_origin {
        out.push_str("Preflight: not needed (simple request)\n");
    }
    for exchange in exchanges {
        out.push_str(&format!(
            "  {} {} {} -> {}\n",
            exchange.kind,
            exchange.method,
            exchange.url,
            exchange
                .status
                .map_or_else(|| "no response".to_string(), |status| status.to_string())
        ));
    }
    let verdict = match analysis.verdict {
        Verdict::Allowed => "ALLOWED".to_string(),
        Verdict::Unknown => "UNKNOWN".to_string(),
        Verdict::Blocked => match (&analysis.cors_error, &analysis.failed_parameter) {
            (Some(error), Some(parameter)) if !parameter.is_empty() => {
                format!("BLOCKED: {error} (failedParameter: {parameter})")
            }
            (Some(error), _) => format!("BLOCKED: {error}"),
            (None, _) => format!(
                "BLOCKED: {}",
                analysis
                    .error
                    .clone()
                    .unwrap_or_else(|| "error".to_string())
            ),
        },
    };
    out.push_str(&format!("Verdict: {verdict}\n"));
    out.push_str(&format!("Why: {}\n", analysis.explanation));
    for warning in &analysis.warnings {
        out.push_str(&format!("Warning: {}\n", warning.description));
    }
    if let Some(fix) = &analysis.fix {
        out.push_str(&format!("Fix: {}\n", fix.summary));
        if !fix.preflight_response_headers.is_empty() {
            out.push_str("  OPTIONS response (status 204):\n");
            for (name, value) in &fix.preflight_response_headers {
                out.push_str(&format!("    {name}: {value}\n"));
            }
        }
        out.push_str("  Every response:\n");
        for (name, value) in &fix.response_headers {
            out.push_str(&format!("    {name}: {value}\n"));
        }
        for (title, snippet) in [
            ("Go net/http", &fix.go_net_http),
            ("axum + tower-http", &fix.axum_tower_http),
            ("nginx", &fix.nginx),
        ] {
            out.push_str(&format!("\n  {title}:\n"));
            for line in snippet.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn headers_parse_at_the_first_colon() {
        assert_eq!(
            parse_header("X-Trace:  a:b ").unwrap(),
            ("X-Trace".to_string(), "a:b".to_string())
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header(": value").is_err());
    }
}
