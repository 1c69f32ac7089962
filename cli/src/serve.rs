//! `framescope serve`: the dashboard over HTTP on loopback, cross-origin isolated so that
//! SharedArrayBuffer works in the page, plus the in-page hook (`/hook.js`), the live relay
//! (`/__framescope/relay/...`, see `relay.rs`), the info endpoint (`/__framescope/info`) and,
//! with `--demo`, the demo backends (`/demo/...` and a second origin, see `demo/`).

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;

use crate::demo::DemoEndpoints;
use crate::relay::{self, Relay};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// Arguments of `framescope serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8737)]
    pub port: u16,
    /// Also start the demo backends and generate demo traffic.
    #[arg(long)]
    pub demo: bool,
    /// Directory holding the built dashboard (default: the one `./dev build` writes).
    #[arg(long)]
    pub dist: Option<PathBuf>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let dist = args.dist.clone().unwrap_or_else(crate::default_dist_dir);
    if !dist.join("index.html").is_file() {
        bail!(
            "dashboard not built: {} has no index.html (build it with `./dev build`)",
            dist.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args, dist))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ServeArgs, dist: PathBuf) -> anyhow::Result<()> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            bail!(
                "port {} on 127.0.0.1 is already in use (choose another with --port N)",
                args.port
            )
        }
        Err(error) => return Err(error).context(format!("cannot listen on {address}")),
    };
    let local = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let token = crate::relay::generate_token()?;
    let relay = Arc::new(Relay::new(local, token));
    let demo = if args.demo {
        let cross_origin = crate::demo::start_cross_origin().await?;
        Some(DemoEndpoints::new(local, cross_origin))
    } else {
        None
    };
    let live = Arc::new(LiveState { relay, demo, local });
    let app = router(dist, live.clone());
    println!("Framescope dashboard: http://{local}/");
    // Written without println!: a reader that stopped after the first line (a test, `head`)
    // must not bring the server down with a broken pipe.
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "Live capture: add <script src=\"{}\"></script> as the first script of your page",
        live.hook_url()
    );
    if let Some(demo) = &live.demo {
        let _ = writeln!(
            stdout,
            "Demo mode: on (second origin for CORS demos: {})",
            demo.cross_origin
        );
    }
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("server failed")
}

/// What the live routes (relay, info, demo) share.
pub struct LiveState {
    /// The relay between hooks and dashboards.
    pub relay: Arc<Relay>,
    /// The demo backends, when `--demo` is on.
    pub demo: Option<DemoEndpoints>,
    /// The address the dashboard is served on.
    pub local: SocketAddr,
}

impl LiveState {
    /// The hook URL with this run's relay token.
    pub fn hook_url(&self) -> String {
        format!("http://{}/hook.js?token={}", self.local, self.relay.token())
    }
}

/// The in-page hook, embedded so the binary always serves the hook it was built with.
const HOOK_JS: &str = include_str!("../../static/hook.js");
/// The demo traffic generator the dashboard loads after the hook.
const DEMO_TRAFFIC_JS: &str = include_str!("../../static/demo-traffic.js");
/// The demo's shared-memory worker service, started by the demo traffic.
const DEMO_SHM_WORKER_JS: &str = include_str!("../../static/demo-shm-worker.js");

/// `GET /hook.js`: loadable from any origin, including cross-origin isolated pages.
async fn hook_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (
                HeaderName::from_static("cross-origin-resource-policy"),
                "cross-origin",
            ),
        ],
        HOOK_JS,
    )
        .into_response()
}

/// `GET /demo-shm-worker.js` (same origin as the dashboard, which starts it as a worker).
async fn demo_shm_worker_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        DEMO_SHM_WORKER_JS,
    )
        .into_response()
}

/// `GET /demo-traffic.js`.
async fn demo_traffic_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        DEMO_TRAFFIC_JS,
    )
        .into_response()
}

/// `GET /__framescope/info`: what the dashboard needs to know about this run. Same-origin
/// (or non-browser) loopback requests only, since it carries the relay token.
async fn info(
    State(live): State<Arc<LiveState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !peer.ip().is_loopback()
        || !live.relay.host_is_own(&headers)
        || !live.relay.origin_is_own_or_absent(&headers)
    {
        return (
            StatusCode::FORBIDDEN,
            "only pages served by this framescope server may read its info\n",
        )
            .into_response();
    }
    let local = live.local;
    Json(serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "demo": live.demo.is_some(),
        "demo_endpoints": live.demo,
        "relay_token": live.relay.token(),
        "hook_url": live.hook_url(),
        "relay": {
            "hook": format!("ws://{local}/__framescope/relay/hook"),
            "dashboard": format!("ws://{local}/__framescope/relay/dashboard"),
        },
        "pages": live.relay.pages(),
    }))
    .into_response()
}

/// The dashboard's routes: the built dashboard, the hook, the relay, the info endpoint and
/// (in demo mode) the demo backends. Every response is cross-origin isolated (COOP + COEP).
pub fn router(dist: PathBuf, live: Arc<LiveState>) -> Router {
    let relay_routes = Router::new()
        .route("/__framescope/relay/hook", get(relay::hook_socket))
        .route(
            "/__framescope/relay/dashboard",
            get(relay::dashboard_socket),
        )
        .with_state(live.relay.clone());
    let mut routes = Router::new()
        .route("/hook.js", get(hook_js))
        .route("/demo-traffic.js", get(demo_traffic_js))
        .route("/demo-shm-worker.js", get(demo_shm_worker_js))
        .route("/__framescope/info", get(info))
        .with_state(live.clone())
        .merge(relay_routes)
        .merge(crate::cors_check::routes());
    if live.demo.is_some() {
        routes = routes.merge(crate::demo::routes());
    }
    routes
        .fallback_service(ServeDir::new(dist))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-embedder-policy"),
            HeaderValue::from_static("require-corp"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cache-control"),
            HeaderValue::from_static("no-cache"),
        ))
}
