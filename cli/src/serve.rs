//! `framescope serve`: the dashboard over HTTP on loopback, cross-origin isolated so that
//! SharedArrayBuffer works in the page.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use axum::Router;
use axum::http::{HeaderName, HeaderValue};
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
    let app = router(dist);
    println!("Framescope dashboard: http://{local}/");
    if args.demo {
        println!("Demo mode: on");
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server failed")
}

/// The dashboard's routes. Every response is cross-origin isolated (COOP + COEP).
pub fn router(dist: PathBuf) -> Router {
    Router::new()
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
