//! Demo backends of `framescope serve --demo`: real servers on loopback, one per transport
//! the seed's users rely on, for the dashboard's demo traffic (`static/demo-traffic.js`) to
//! talk to.
//!
//! On the dashboard's own origin, under `/demo/`:
//! - `POST /demo/rpc`: JSON-RPC 2.0 over HTTP (several methods, a slow one, a failing one,
//!   batches, notifications);
//! - `POST /demo/gorpc`: the JSON-RPC 1.0 dialect of Go's `net/rpc/jsonrpc`;
//! - `GET /demo/ws/jsonrpc`: JSON-RPC 2.0 over WebSocket with server notifications;
//! - `GET /demo/ws/cafe`: the 0xCAFE binary protocol with protobuf payloads;
//! - `GET /demo/sse`: server-sent events.
//!
//! On a second port (a different origin), [`start_cross_origin`]:
//! - `/rpc`: JSON-RPC 2.0 with correct CORS headers for loopback origins (preflight answered);
//! - `/gorpc`: answers every method, OPTIONS included, with `405 must CONNECT` and no
//!   `Access-Control-*` headers, as Go's `net/rpc` HTTP handler does, so a preflight fails live.
//!
//! Data enters as HTTP requests and WebSocket messages and leaves as their answers; nothing is
//! stored between connections.

pub mod cafe;
pub mod jsonrpc;
pub mod protobuf;
pub mod sse;
pub mod ws_jsonrpc;

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde::Serialize;

use jsonrpc::{Reply, handle_go_jsonrpc1, handle_jsonrpc2};

/// Where each demo backend listens, as the info endpoint reports it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DemoEndpoints {
    /// JSON-RPC 2.0 over HTTP POST.
    pub jsonrpc_http: String,
    /// Go-style JSON-RPC 1.0 over HTTP POST.
    pub go_jsonrpc_http: String,
    /// JSON-RPC 2.0 over WebSocket.
    pub jsonrpc_ws: String,
    /// 0xCAFE binary frames over WebSocket.
    pub cafe_ws: String,
    /// Server-sent events.
    pub sse: String,
    /// The second origin.
    pub cross_origin: String,
    /// JSON-RPC 2.0 on the second origin, with correct CORS headers.
    pub cors_ok: String,
    /// The second origin's Go `net/rpc`-style handler: its preflight fails.
    pub cors_preflight_fails: String,
    /// Methods of the JSON-RPC 2.0 services.
    pub jsonrpc_methods: Vec<String>,
}

impl DemoEndpoints {
    /// The endpoints for a dashboard on `main` and the second origin on `cross`.
    pub fn new(main: SocketAddr, cross: SocketAddr) -> Self {
        Self {
            jsonrpc_http: format!("http://{main}/demo/rpc"),
            go_jsonrpc_http: format!("http://{main}/demo/gorpc"),
            jsonrpc_ws: format!("ws://{main}/demo/ws/jsonrpc"),
            cafe_ws: format!("ws://{main}/demo/ws/cafe"),
            sse: format!("http://{main}/demo/sse"),
            cross_origin: format!("http://{cross}"),
            cors_ok: format!("http://{cross}/rpc"),
            cors_preflight_fails: format!("http://{cross}/gorpc"),
            jsonrpc_methods: jsonrpc::METHODS.iter().map(|m| m.to_string()).collect(),
        }
    }
}

/// The demo routes on the dashboard's origin (merge into the main router).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/demo/rpc", post(jsonrpc_http))
        .route("/demo/gorpc", post(go_jsonrpc_http))
        .route("/demo/ws/jsonrpc", get(ws_jsonrpc::socket))
        .route("/demo/ws/cafe", get(cafe::socket))
        .route("/demo/sse", get(sse::stream))
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn body_text(body: &Bytes) -> Result<&str, NotUtf8> {
    std::str::from_utf8(body).map_err(|_| NotUtf8)
}

/// A request body that is not UTF-8 text (answered with 400).
struct NotUtf8;

impl IntoResponse for NotUtf8 {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, "request body is not UTF-8 text\n").into_response()
    }
}

async fn jsonrpc_http(body: Bytes) -> Response {
    let text = match body_text(&body) {
        Ok(text) => text,
        Err(not_utf8) => return not_utf8.into_response(),
    };
    match handle_jsonrpc2(text).await {
        Reply::Body(body) => json_response(StatusCode::OK, body),
        Reply::Nothing => StatusCode::NO_CONTENT.into_response(),
    }
}

async fn go_jsonrpc_http(body: Bytes) -> Response {
    let text = match body_text(&body) {
        Ok(text) => text,
        Err(not_utf8) => return not_utf8.into_response(),
    };
    match handle_go_jsonrpc1(text) {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(reason) => (StatusCode::BAD_REQUEST, format!("{reason}\n")).into_response(),
    }
}

/// True for `http://127.0.0.1:N`, `http://localhost:N` and `http://[::1]:N` origins.
fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    let host = rest.rsplit_once(':').map_or(rest, |(host, port)| {
        if port.bytes().all(|byte| byte.is_ascii_digit()) {
            host
        } else {
            rest
        }
    });
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

/// The second origin's `/rpc`: preflight and actual responses with correct CORS headers.
async fn cors_ok(method: Method, headers: HeaderMap, body: Bytes) -> Response {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .filter(|origin| is_loopback_origin(origin))
        .and_then(|origin| HeaderValue::from_str(origin).ok());
    let mut response = if method == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let response_headers = response.headers_mut();
        response_headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, OPTIONS"),
        );
        response_headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, x-rpc-method, x-request-id"),
        );
        // Short, so the demo shows a preflight every few seconds rather than once.
        response_headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("5"),
        );
        response
    } else if method == Method::POST {
        match body_text(&body) {
            Ok(text) => match handle_jsonrpc2(text).await {
                Reply::Body(body) => json_response(StatusCode::OK, body),
                Reply::Nothing => StatusCode::NO_CONTENT.into_response(),
            },
            Err(not_utf8) => not_utf8.into_response(),
        }
    } else {
        StatusCode::METHOD_NOT_ALLOWED.into_response()
    };
    let response_headers = response.headers_mut();
    response_headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        response_headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        response_headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-request-id"),
        );
    }
    if let Some(request_id) = headers.get("x-request-id") {
        response_headers.insert("x-request-id", request_id.clone());
    }
    response
}

/// The second origin's `/gorpc`: exactly what Go's `rpc.Server.ServeHTTP` writes for any
/// method other than CONNECT.
async fn go_net_rpc_handler(method: Method) -> Response {
    if method == Method::CONNECT {
        // Hijacking the connection for gob is what Go does here; browsers cannot send CONNECT.
        return (StatusCode::NOT_IMPLEMENTED, "the demo does not speak gob\n").into_response();
    }
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "405 must CONNECT\n",
    )
        .into_response()
}

/// The second origin's routes.
pub fn cross_origin_router() -> Router {
    Router::new()
        .route("/rpc", any(cors_ok))
        .route("/gorpc", any(go_net_rpc_handler))
}

/// Binds the second origin on a free loopback port and serves it in the background.
pub async fn start_cross_origin() -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .context("cannot listen for the cross-origin demo backend")?;
    let address = listener
        .local_addr()
        .context("cannot read the cross-origin demo address")?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, cross_origin_router()).await {
            eprintln!("framescope: cross-origin demo backend stopped: {error}");
        }
    });
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins() {
        assert!(is_loopback_origin("http://127.0.0.1:8080"));
        assert!(is_loopback_origin("http://localhost:1"));
        assert!(is_loopback_origin("http://[::1]:3000"));
        assert!(is_loopback_origin("http://localhost"));
        assert!(!is_loopback_origin("https://127.0.0.1:8080"));
        assert!(!is_loopback_origin("http://127.0.0.1.evil.test:80"));
        assert!(!is_loopback_origin("null"));
    }
}
