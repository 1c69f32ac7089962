//! `framescope export INPUT --format har|session|otlp [-o FILE] [--endpoint URL] [--no-redact]`:
//! converts a capture into a format other tools read.
//!
//! Data enters as a capture file (NDJSON capture events, a HAR file, or a Framescope session
//! file), is redacted unless `--no-redact` is given, and leaves on standard output, in the
//! `-o` file, and with `--endpoint` as an OTLP/HTTP JSON `POST` to `BASE/v1/traces`.
//! Formats and redaction rules are documented in `docs/export.md`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use inspector_core::event::{CaptureEvent, parse_ndjson};
use inspector_core::export::redact::RedactionConfig;
use inspector_core::export::session::{import_session, looks_like_session};
use inspector_core::export::{EvictedEvents, ExportFormat, ExportRequest, export_capture};
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
    /// Extra HTTP header for the collector, `NAME=VALUE` (repeatable), e.g. an API key.
    /// `OTEL_EXPORTER_OTLP_HEADERS` is read too.
    #[arg(long = "endpoint-header", value_name = "NAME=VALUE")]
    pub endpoint_headers: Vec<String>,
    /// PEM file of certificate authorities to trust for an https endpoint, besides the
    /// public roots. `OTEL_EXPORTER_OTLP_CERTIFICATE` is read too.
    #[arg(long = "endpoint-ca", value_name = "PEM")]
    pub endpoint_ca: Option<PathBuf>,
    /// Export secrets as captured (Authorization, cookies, tokens, passwords...).
    #[arg(long)]
    pub no_redact: bool,
    /// Also redact JSON members, headers, form fields and query parameters whose names
    /// contain NAME (case-insensitive; `-`, `_`, `.` ignored). Repeatable.
    #[arg(long = "redact-name", value_name = "NAME")]
    pub redact_names: Vec<String>,
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
    /// Events a session file says its exporter had already evicted.
    pub evicted: EvictedEvents,
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
            evicted: file.evicted,
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
        evicted: EvictedEvents::default(),
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
    if args.endpoint.is_none() && (!args.endpoint_headers.is_empty() || args.endpoint_ca.is_some())
    {
        bail!("--endpoint-header and --endpoint-ca need --endpoint");
    }
    if args.no_redact && !args.redact_names.is_empty() {
        bail!("--redact-name and --no-redact contradict each other");
    }
    // Check the endpoint before reading a possibly large capture.
    let collector = args
        .endpoint
        .as_deref()
        .map(|endpoint| {
            Collector::from_args(
                endpoint,
                &args.endpoint_headers,
                args.endpoint_ca.as_deref(),
            )
        })
        .transpose()?;
    let capture = load_capture(&args.input)?;
    let mut redaction = if args.no_redact {
        RedactionConfig::disabled()
    } else {
        RedactionConfig::default()
    };
    redaction
        .secret_name_fragments
        .extend(args.redact_names.iter().map(|name| normalise_name(name)));
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
        evicted: capture.evicted,
    };
    let output = export_capture(format, &request)?;
    for note in &output.notes {
        eprintln!("framescope: {note}");
    }
    if let Some(collector) = &collector {
        let url = collector.post(&output.text)?;
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

/// `NAME` as the redactor compares names: lower case, without `-`, `_`, `.` and spaces.
fn normalise_name(name: &str) -> String {
    name.chars()
        .filter(|character| !matches!(character, '-' | '_' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The scheme, host, port and path of an endpoint.
#[derive(Debug)]
struct HttpTarget {
    tls: bool,
    host: String,
    port: u16,
    path: String,
}

impl HttpTarget {
    fn url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{host}:{}{}", self.port, self.path)
    }
}

/// Parses a base URL (`http://host:4318`, `https://otlp.example/otlp/`) into the target of
/// `BASE/v1/traces`.
fn parse_endpoint(endpoint: &str) -> anyhow::Result<HttpTarget> {
    let (tls, rest) = if let Some(rest) = endpoint.strip_prefix("http://") {
        (false, rest)
    } else if let Some(rest) = endpoint.strip_prefix("https://") {
        (true, rest)
    } else {
        bail!(
            "--endpoint {endpoint}: expected an http:// or https:// base URL such as http://127.0.0.1:4318"
        );
    };
    let (authority, base_path) = match rest.find('/') {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, ""),
    };
    if base_path.contains(['?', '#']) {
        bail!("--endpoint {endpoint}: a base URL has no query or fragment");
    }
    if authority.contains('@') {
        bail!("--endpoint {endpoint}: put credentials in --endpoint-header, not in the URL");
    }
    let default_port = if tls { 443 } else { 80 };
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .with_context(|| format!("--endpoint {endpoint}: unclosed [ in the host"))?;
        let port = match after.strip_prefix(':') {
            Some(port) => port
                .parse::<u16>()
                .with_context(|| format!("--endpoint {endpoint}: bad port {port:?}"))?,
            None => default_port,
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .with_context(|| format!("--endpoint {endpoint}: bad port {port:?}"))?,
            ),
            None => (authority, default_port),
        }
    };
    if host.is_empty() {
        bail!("--endpoint {endpoint}: no host");
    }
    Ok(HttpTarget {
        tls,
        host: host.to_owned(),
        port,
        path: format!("{}/v1/traces", base_path.trim_end_matches('/')),
    })
}

/// Parses `NAME=VALUE` pairs, comma-separated in `OTEL_EXPORTER_OTLP_HEADERS` style (values
/// percent-decoded) or one per `--endpoint-header`.
fn parse_header_pair(pair: &str, source: &str) -> anyhow::Result<(String, String)> {
    let (name, value) = pair
        .split_once('=')
        .with_context(|| format!("{source}: expected NAME=VALUE, got {pair:?}"))?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_".contains(&byte))
    {
        bail!("{source}: {name:?} is not a header name");
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// Decodes `%XX` escapes (OTLP exporter environment variables are percent-encoded).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%' && index + 2 < bytes.len())
            .then(|| {
                let high = (bytes[index + 1] as char).to_digit(16)?;
                let low = (bytes[index + 2] as char).to_digit(16)?;
                u8::try_from(high * 16 + low).ok()
            })
            .flatten();
        match escaped {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where and how to post spans: the target, extra headers, the trusted roots.
struct Collector {
    target: HttpTarget,
    headers: Vec<(String, String)>,
    extra_roots_pem: Option<(PathBuf, Vec<u8>)>,
}

/// How long one post may take, connection and TLS handshake included.
const POST_TIMEOUT: Duration = Duration::from_secs(30);

impl Collector {
    fn from_args(
        endpoint: &str,
        header_args: &[String],
        ca: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let target = parse_endpoint(endpoint)?;
        let mut headers = Vec::new();
        for variable in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ] {
            if let Ok(value) = std::env::var(variable) {
                for pair in value.split(',').filter(|pair| !pair.trim().is_empty()) {
                    let (name, value) = parse_header_pair(pair, variable)?;
                    headers.push((percent_decode(&name), percent_decode(&value)));
                }
            }
        }
        for pair in header_args {
            headers.push(parse_header_pair(pair, "--endpoint-header")?);
        }
        let ca_path = ca.map(Path::to_path_buf).or_else(|| {
            [
                "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
            ]
            .iter()
            .find_map(|variable| std::env::var_os(variable).map(PathBuf::from))
        });
        let extra_roots_pem = ca_path
            .map(|path| {
                std::fs::read(&path)
                    .with_context(|| format!("cannot read the CA file {}", path.display()))
                    .map(|pem| (path, pem))
            })
            .transpose()?;
        if extra_roots_pem.is_some() && !target.tls {
            bail!("--endpoint-ca only applies to an https:// endpoint");
        }
        Ok(Self {
            target,
            headers,
            extra_roots_pem,
        })
    }

    /// Posts an OTLP/JSON body to `BASE/v1/traces`; returns the URL posted to.
    fn post(&self, body: &str) -> anyhow::Result<String> {
        let url = self.target.url();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let (status, response_body) = runtime
            .block_on(async {
                tokio::time::timeout(POST_TIMEOUT, self.exchange(body.to_owned(), &url)).await
            })
            .map_err(|_| {
                anyhow::anyhow!(
                    "no answer from the collector at {url} within {} s",
                    POST_TIMEOUT.as_secs()
                )
            })??;
        let response_body = String::from_utf8_lossy(&response_body);
        let response_body = response_body.trim();
        if !status.is_success() {
            let excerpt: String = response_body
                .chars()
                .take(200)
                .collect::<String>()
                .replace(['\r', '\n'], " ");
            bail!("the collector at {url} answered {status}: {excerpt}");
        }
        if let Ok(answer) = serde_json::from_str::<serde_json::Value>(response_body)
            && let Some(rejected) =
                answer
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

    async fn exchange(
        &self,
        body: String,
        url: &str,
    ) -> anyhow::Result<(hyper::StatusCode, bytes_of::Bytes)> {
        let target = &self.target;
        let addresses: Vec<_> = tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .with_context(|| format!("cannot resolve {}", target.host))?
            .collect();
        let mut last_error = None;
        let mut connected = None;
        for address in addresses {
            match tokio::net::TcpStream::connect(address).await {
                Ok(stream) => {
                    connected = Some(stream);
                    break;
                }
                Err(error) => last_error = Some(error),
            }
        }
        let Some(tcp) = connected else {
            let reason =
                last_error.map_or_else(|| "no address".to_owned(), |error| error.to_string());
            bail!("cannot connect to the collector at {url}: {reason}");
        };
        let request = self.request(body)?;
        if !target.tls {
            return send(tcp, request, url).await;
        }
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some((path, pem)) = &self.extra_roots_pem {
            use tokio_rustls::rustls::pki_types::CertificateDer;
            use tokio_rustls::rustls::pki_types::pem::PemObject as _;
            let mut added = 0;
            for certificate in CertificateDer::pem_slice_iter(pem) {
                let certificate = certificate
                    .with_context(|| format!("{}: not a PEM certificate file", path.display()))?;
                roots
                    .add(certificate)
                    .with_context(|| format!("{}: unusable certificate", path.display()))?;
                added += 1;
            }
            if added == 0 {
                bail!("{}: no certificate in the file", path.display());
            }
        }
        let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .context("cannot configure TLS")?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let server_name =
            tokio_rustls::rustls::pki_types::ServerName::try_from(target.host.clone())
                .with_context(|| format!("{} is not a valid TLS server name", target.host))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(server_name, tcp)
            .await
            .with_context(|| format!("TLS handshake with {} failed", target.host))?;
        send(tls, request, url).await
    }

    fn request(
        &self,
        body: String,
    ) -> anyhow::Result<hyper::Request<http_body_util::Full<bytes_of::Bytes>>> {
        let target = &self.target;
        let default_port = if target.tls { 443 } else { 80 };
        let host = if target.host.contains(':') {
            format!("[{}]", target.host)
        } else {
            target.host.clone()
        };
        let authority = if target.port == default_port {
            host
        } else {
            format!("{host}:{}", target.port)
        };
        let mut builder = hyper::Request::builder()
            .method(hyper::Method::POST)
            .uri(target.path.as_str())
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::USER_AGENT,
                concat!("framescope/", env!("CARGO_PKG_VERSION")),
            );
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder
            .body(http_body_util::Full::new(bytes_of::Bytes::from(body)))
            .context("cannot build the request (check --endpoint-header values)")
    }
}

/// The byte buffer type hyper's bodies use.
mod bytes_of {
    pub use hyper::body::Bytes;
}

async fn send<S>(
    stream: S,
    request: hyper::Request<http_body_util::Full<bytes_of::Bytes>>,
    url: &str,
) -> anyhow::Result<(hyper::StatusCode, bytes_of::Bytes)>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use http_body_util::BodyExt as _;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .with_context(|| format!("cannot talk HTTP to the collector at {url}"))?;
    let driver = tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .with_context(|| format!("cannot send the spans to {url}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .with_context(|| format!("the collector at {url} broke off its answer"))?
        .to_bytes();
    driver.abort();
    Ok((status, body))
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
        assert_eq!(target.url(), "http://127.0.0.1:4318/v1/traces");
        let target = parse_endpoint("http://collector/otlp/").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("collector", 80));
        assert_eq!(target.path, "/otlp/v1/traces");
        let target = parse_endpoint("https://otlp.example").unwrap();
        assert!(target.tls);
        assert_eq!(target.port, 443);
        let target = parse_endpoint("http://[::1]:9000").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("::1", 9000));
        assert_eq!(target.url(), "http://[::1]:9000/v1/traces");
        for bad in [
            "ftp://x",
            "127.0.0.1:4318",
            "http://:1",
            "http://h:99999",
            "http://h/?a=1",
            "http://user:pw@h",
            "http://[::1",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn header_pairs_and_percent_escapes() {
        assert_eq!(
            parse_header_pair("api-key = abc", "t").unwrap(),
            ("api-key".to_owned(), "abc".to_owned())
        );
        assert!(parse_header_pair("novalue", "t").is_err());
        assert!(parse_header_pair("bad name=1", "t").is_err());
        assert_eq!(percent_decode("Basic%20abc%3D%ZZ%"), "Basic abc=%ZZ%");
        assert_eq!(normalise_name("X-Session_Key"), "xsessionkey");
    }
}
