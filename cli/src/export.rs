//! `framescope export INPUT --format har|session|otlp [-o FILE] [--endpoint URL] [--no-redact]`:
//! converts a capture into a format other tools read.
//!
//! Data enters as a capture file (NDJSON capture events, a HAR file, or a Framescope session
//! file), is redacted unless `--no-redact` is given, and leaves on standard output, in the
//! `-o` file, and with `--endpoint` as an OTLP/HTTP JSON `POST` to `BASE/v1/traces`.
//! Formats and redaction rules are documented in `docs/export.md`.

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use inspector_core::event::{CaptureEvent, parse_ndjson};
use inspector_core::export::redact::RedactionConfig;
use inspector_core::export::session::{import_session, looks_like_session};
use inspector_core::export::{ExportFormat, ExportRequest, export_capture};
use inspector_core::session::SessionConfig;

/// Arguments of `framescope export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Capture to export: NDJSON capture events, a HAR file, or a Framescope session file.
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: FormatArg,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// With `--format otlp`: post the spans to the OTLP/HTTP collector at this base URL
    /// (`BASE/v1/traces`), e.g. http://127.0.0.1:4318.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Export secrets as captured (Authorization, cookies, tokens, passwords...).
    #[arg(long)]
    pub no_redact: bool,
    /// `service.name` of the exported OTLP resource.
    #[arg(long, default_value = "framescope")]
    pub service_name: String,
}

/// `--format` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    /// HAR 1.2 with Chrome's `_webSocketMessages`.
    Har,
    /// Framescope's lossless session file.
    Session,
    /// OTLP/JSON trace spans.
    Otlp,
}

/// A capture loaded from any supported file.
pub struct LoadedCapture {
    /// Events in capture order.
    pub events: Vec<CaptureEvent>,
    /// Analysis settings: restored from a session file, the defaults for other inputs.
    pub config: SessionConfig,
    /// When a session file's analysis was finished; `None` means at the last event.
    pub finished_micros: Option<u64>,
}

/// Reads NDJSON, HAR or a session file, telling them apart by content: a document that is
/// one JSON object with a `format` member is a session file, with a `log` member a HAR file;
/// anything else is read as NDJSON.
pub fn load_capture(path: &Path) -> anyhow::Result<LoadedCapture> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path.display();
    let text = text.trim_start_matches('\u{feff}');
    let document = if text.trim_start().starts_with('{') {
        serde_json::from_str::<serde_json::Value>(text).ok()
    } else {
        None
    };
    let member = |key: &str| document.as_ref().and_then(|value| value.get(key)).is_some();
    if looks_like_session(text) || member("format") {
        let file = import_session(text).with_context(|| format!("{name}"))?;
        return Ok(LoadedCapture {
            events: file.events,
            config: file.config,
            finished_micros: file.finished_micros,
        });
    }
    let events = if member("log") {
        import_har_events(text).with_context(|| format!("{name}"))?
    } else {
        parse_ndjson(text).with_context(|| format!("{name}"))?
    };
    Ok(LoadedCapture {
        events,
        config: SessionConfig::default(),
        finished_micros: None,
    })
}

/// Imports a HAR file; what the importer could not represent is said on standard error.
fn import_har_events(text: &str) -> anyhow::Result<Vec<CaptureEvent>> {
    let import = inspector_core::har::import_har(text)?;
    for note in &import.notes {
        eprintln!("framescope: note: {}: {}", note.path, note.message);
    }
    Ok(import.events)
}

/// Runs `framescope export`.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    if args.endpoint.is_some() && args.format != FormatArg::Otlp {
        bail!("--endpoint only applies to --format otlp");
    }
    // Check the endpoint before reading a possibly large capture.
    if let Some(endpoint) = &args.endpoint {
        parse_endpoint(endpoint)?;
    }
    let capture = load_capture(&args.input)?;
    let redaction = if args.no_redact {
        RedactionConfig::disabled()
    } else {
        RedactionConfig::default()
    };
    let format = match args.format {
        FormatArg::Har => ExportFormat::Har,
        FormatArg::Session => ExportFormat::Session,
        FormatArg::Otlp => ExportFormat::Otlp,
    };
    let request = ExportRequest {
        events: &capture.events,
        config: &capture.config,
        finished_micros: capture.finished_micros,
        redaction: &redaction,
        producer_version: env!("CARGO_PKG_VERSION"),
        service_name: &args.service_name,
    };
    let output = export_capture(format, &request)?;
    for note in &output.notes {
        eprintln!("framescope: {note}");
    }
    if let Some(endpoint) = &args.endpoint {
        let url = post_otlp(endpoint, &output.text)?;
        eprintln!(
            "framescope: posted {} span(s) in {} trace(s) to {url}",
            output.span_count, output.trace_count
        );
    }
    let text = output.text;
    match (&args.output, &args.endpoint) {
        (Some(path), _) => std::fs::write(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        // Posting is the output; printing the same spans as well would only be noise.
        (None, Some(_)) => {}
        (None, None) => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| {
                    if text.ends_with('\n') {
                        Ok(())
                    } else {
                        stdout.write_all(b"\n")
                    }
                })
                .and_then(|()| stdout.flush())
                .context("cannot write to standard output")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The parts of an `http://` URL.
struct HttpTarget {
    host: String,
    port: u16,
    path: String,
}

fn parse_endpoint(endpoint: &str) -> anyhow::Result<HttpTarget> {
    let Some(rest) = endpoint.strip_prefix("http://") else {
        if endpoint.starts_with("https://") {
            bail!(
                "--endpoint {endpoint}: https is not supported by this build; point it at an \
                 http:// collector (an OpenTelemetry Collector listens on http://127.0.0.1:4318)"
            );
        }
        bail!("--endpoint {endpoint}: expected an http:// base URL such as http://127.0.0.1:4318");
    };
    let (authority, base_path) = match rest.find('/') {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, ""),
    };
    if base_path.contains(['?', '#']) {
        bail!("--endpoint {endpoint}: a base URL has no query or fragment");
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            let port = port
                .parse::<u16>()
                .with_context(|| format!("--endpoint {endpoint}: bad port {port:?}"))?;
            (host, port)
        }
        _ => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        bail!("--endpoint {endpoint}: no host");
    }
    Ok(HttpTarget {
        host: host.to_owned(),
        port,
        path: format!("{}/v1/traces", base_path.trim_end_matches('/')),
    })
}

/// Posts an OTLP/JSON body to `BASE/v1/traces`; returns the URL posted to.
fn post_otlp(endpoint: &str, body: &str) -> anyhow::Result<String> {
    let target = parse_endpoint(endpoint)?;
    let url = format!(
        "http://{}:{}{}",
        if target.host.contains(':') {
            format!("[{}]", target.host)
        } else {
            target.host.clone()
        },
        target.port,
        target.path
    );
    let address = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {}", target.host))?
        .next()
        .with_context(|| format!("{} has no address", target.host))?;
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(10))
        .with_context(|| format!("cannot connect to the collector at {url}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         User-Agent: framescope/{}\r\nConnection: close\r\n\r\n",
        target.path,
        target.host,
        target.port,
        body.len(),
        env!("CARGO_PKG_VERSION")
    );
    stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .with_context(|| format!("cannot send the spans to {url}"))?;
    let mut response = Vec::new();
    stream
        .take(1 << 20)
        .read_to_end(&mut response)
        .with_context(|| format!("no answer from the collector at {url}"))?;
    let response = String::from_utf8_lossy(&response);
    let status_line = response.lines().next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("the collector at {url} sent no HTTP status: {status_line:?}"))?;
    let response_body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .trim();
    if !(200..300).contains(&status) {
        let excerpt: String = response_body.chars().take(200).collect();
        bail!("the collector at {url} answered {status_line}: {excerpt}");
    }
    if let Ok(answer) = serde_json::from_str::<serde_json::Value>(response_body)
        && let Some(rejected) = answer
            .pointer("/partialSuccess/rejectedSpans")
            .and_then(|value| {
                value
                    .as_str()
                    .and_then(|text| text.parse().ok())
                    .or(value.as_u64())
            })
        && rejected > 0
    {
        let message = answer
            .pointer("/partialSuccess/errorMessage")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        bail!("the collector at {url} rejected {rejected} span(s): {message}");
    }
    Ok(url)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_base_urls_get_v1_traces() {
        let target = parse_endpoint("http://127.0.0.1:4318").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("127.0.0.1", 4318));
        assert_eq!(target.path, "/v1/traces");
        let target = parse_endpoint("http://collector/otlp/").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("collector", 80));
        assert_eq!(target.path, "/otlp/v1/traces");
        let target = parse_endpoint("http://[::1]:9000").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("::1", 9000));
        for bad in [
            "https://x",
            "ftp://x",
            "http://:1",
            "http://h:99999",
            "http://h/?a=1",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }
}
