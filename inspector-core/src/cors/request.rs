//! The request being analysed, as the page issued it, and the responses observed for it.
//!
//! Both enter as JSON (`framescope cors-check --analyze-json`, the oracle test) or are built
//! from capture events ([`super::capture`]); they leave unchanged, as inputs of
//! [`super::analyze`].

use serde::{Deserialize, Serialize};

use super::lna::AddressSpace;

/// `Request.credentials`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialsMode {
    /// Never send cookies or HTTP auth.
    Omit,
    /// Send them to the page's own origin only (the fetch default).
    #[default]
    SameOrigin,
    /// Send them cross-origin too (`credentials: "include"`, `xhr.withCredentials`).
    Include,
}

/// `Request.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestMode {
    /// The CORS protocol applies (the fetch and XHR default).
    #[default]
    Cors,
    /// Opaque response, no CORS checks; only safelisted methods and headers.
    NoCors,
    /// Cross-origin URLs are refused.
    SameOrigin,
    /// A document navigation: no CORS.
    Navigate,
}

/// `Request.redirect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectMode {
    /// Follow redirects (default).
    #[default]
    Follow,
    /// A redirect is a network error.
    Error,
    /// Return the redirect as an opaque-redirect response.
    Manual,
}

/// What the request body was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// No body.
    #[default]
    None,
    /// A string (implies `Content-Type: text/plain;charset=UTF-8`).
    Text,
    /// A `Blob` (its type becomes the `Content-Type`).
    Blob,
    /// An `ArrayBuffer` or typed array (no implied `Content-Type`).
    ArrayBuffer,
    /// `FormData` (implies `multipart/form-data`).
    FormData,
    /// `URLSearchParams` (implies `application/x-www-form-urlencoded`).
    UrlSearchParams,
    /// A `ReadableStream`: always preflighted.
    Stream,
    /// Anything else the capture could not classify.
    #[serde(other)]
    Other,
}

impl BodyKind {
    /// The `Content-Type` fetch adds for this body when the app sets none.
    pub fn implied_content_type(self, blob_type: Option<&str>) -> Option<String> {
        match self {
            BodyKind::Text => Some("text/plain;charset=UTF-8".to_string()),
            BodyKind::UrlSearchParams => {
                Some("application/x-www-form-urlencoded;charset=UTF-8".to_string())
            }
            BodyKind::FormData => {
                Some("multipart/form-data; boundary=----FramescopeFormBoundary".to_string())
            }
            BodyKind::Blob => blob_type
                .map(str::trim)
                .filter(|kind| !kind.is_empty())
                .map(str::to_string),
            BodyKind::None | BodyKind::ArrayBuffer | BodyKind::Stream | BodyKind::Other => None,
        }
    }

    /// Reads the `body_kind` string of a capture event.
    pub fn from_capture(kind: Option<&str>) -> BodyKind {
        match kind.unwrap_or("none") {
            "none" | "" => BodyKind::None,
            "text" | "string" => BodyKind::Text,
            "blob" => BodyKind::Blob,
            "array_buffer" | "arraybuffer" => BodyKind::ArrayBuffer,
            "form_data" | "formdata" => BodyKind::FormData,
            "url_search_params" | "urlsearchparams" => BodyKind::UrlSearchParams,
            "stream" | "readable_stream" => BodyKind::Stream,
            _ => BodyKind::Other,
        }
    }
}

fn default_method() -> String {
    "GET".to_string()
}

/// A request as the page issued it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsRequest {
    /// The page's serialized origin, e.g. `http://127.0.0.1:5173`.
    pub page_origin: String,
    /// Absolute request URL.
    pub url: String,
    /// Method after fetch's normalisation (`patch` stays lower-case, `post` becomes `POST`).
    #[serde(default = "default_method")]
    pub method: String,
    /// Headers set by the app, in order, as `[name, value]` pairs.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Credentials mode.
    #[serde(default)]
    pub credentials: CredentialsMode,
    /// Request mode.
    #[serde(default)]
    pub mode: RequestMode,
    /// Redirect mode.
    #[serde(default)]
    pub redirect: RedirectMode,
    /// Kind of body.
    #[serde(default)]
    pub body_kind: BodyKind,
    /// The `Content-Type` the body implies when the app sets none (a `Blob`'s `type`); the
    /// other body kinds imply theirs (`text/plain;charset=UTF-8` for strings, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_content_type: Option<String>,
    /// XHR only: listeners were registered on `xhr.upload` (forces a preflight).
    #[serde(default)]
    pub upload_listeners: bool,
    /// Response headers the app reads (`response.headers.get(...)`), for the exposure check.
    #[serde(default)]
    pub reads_response_headers: Vec<String>,
    /// The page's IP address space (CDP `clientSecurityState.initiatorIPAddressSpace`);
    /// derived from the page origin's host when absent. A page served with
    /// `Content-Security-Policy: treat-as-public-address` is `public`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiator_address_space: Option<AddressSpace>,
    /// Whether the page is a secure context; derived from the page origin when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiator_secure_context: Option<bool>,
    /// The fetch option `targetAddressSpace`, if the page set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_address_space: Option<AddressSpace>,
    /// Whether the user granted the Local Network Access permission to the page.
    #[serde(default)]
    pub local_network_access_granted: bool,
}

impl CorsRequest {
    /// A `GET` in `cors` mode with default credentials and no headers.
    pub fn new(page_origin: impl Into<String>, url: impl Into<String>) -> CorsRequest {
        CorsRequest {
            page_origin: page_origin.into(),
            url: url.into(),
            method: default_method(),
            headers: Vec::new(),
            credentials: CredentialsMode::default(),
            mode: RequestMode::default(),
            redirect: RedirectMode::default(),
            body_kind: BodyKind::default(),
            body_content_type: None,
            upload_listeners: false,
            reads_response_headers: Vec::new(),
            initiator_address_space: None,
            initiator_secure_context: None,
            target_address_space: None,
            local_network_access_granted: false,
        }
    }

    /// Builder: sets the method.
    pub fn with_method(mut self, method: impl Into<String>) -> CorsRequest {
        self.method = method.into();
        self
    }

    /// Builder: appends a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> CorsRequest {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Builder: sets the credentials mode.
    pub fn with_credentials(mut self, credentials: CredentialsMode) -> CorsRequest {
        self.credentials = credentials;
        self
    }

    /// True when cookies go with the request cross-origin.
    pub fn includes_credentials(&self) -> bool {
        self.credentials == CredentialsMode::Include
    }
}

/// One HTTP response as observed (by the browser, an extension, a probe or a test server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ObservedResponse {
    /// HTTP status code. Ignored when `network_error` is set.
    #[serde(default)]
    pub status: u16,
    /// Raw response headers, in order, duplicates kept.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Set when no response arrived: the net error (`net::ERR_CONNECTION_REFUSED`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_error: Option<String>,
}

impl ObservedResponse {
    /// A response with a status and headers.
    pub fn new(status: u16, headers: &[(&str, &str)]) -> ObservedResponse {
        ObservedResponse {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            network_error: None,
        }
    }

    /// A failure at the network layer.
    pub fn failed(net_error: impl Into<String>) -> ObservedResponse {
        ObservedResponse {
            network_error: Some(net_error.into()),
            ..ObservedResponse::default()
        }
    }

    /// The header's value as Chromium reads it: all lines with that name (case-insensitive)
    /// joined with `", "`, or `None` when absent.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim_matches([' ', '\t']))
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// True for 3xx responses that carry a `Location` (followed by fetch).
    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308) && self.header("location").is_some()
    }
}

/// What is known about one URL of the chain: its preflight (if one was sent) and its
/// response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ObservedHop {
    /// The response to the `OPTIONS` preflight, if one was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight: Option<ObservedResponse>,
    /// The response to the request itself, if observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ObservedResponse>,
    /// The address space the server was reached in (CDP `resourceIPAddressSpace`); derived
    /// from the URL's host when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_address_space: Option<AddressSpace>,
}

/// The responses observed for a request, one hop per URL of the redirect chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Observations {
    /// Hops in order: the request URL first, then each redirect target.
    #[serde(default)]
    pub hops: Vec<ObservedHop>,
}
