//! `framescope`: analyse captures, check CORS, and serve the dashboard.
#![forbid(unsafe_code)]

mod analyze;
mod cors_check;
mod demo;
mod export;
mod relay;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "framescope",
    version,
    about = "See what a web app says over the wire"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the dashboard (and with --demo, real demo backends) on 127.0.0.1.
    Serve(serve::ServeArgs),
    /// Print the calls and per-method latency statistics of a capture (NDJSON, HAR or session file).
    Analyze(analyze::AnalyzeArgs),
    /// Export a capture as HAR, a Framescope session file, or OpenTelemetry (OTLP/JSON) traces.
    Export(export::ExportArgs),
    /// Probe a server like Chromium (preflight, then the request) and explain the CORS verdict.
    CorsCheck(cors_check::CorsCheckArgs),
    /// Explain the CORS verdict for a request and observed responses given as JSON.
    CorsExplain(cors_check::CorsExplainArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Export(args) => export::run(args),
        Command::CorsCheck(args) => cors_check::run_check(args),
        Command::CorsExplain(args) => cors_check::run_explain(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("framescope: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Where `./dev build` puts the dashboard, relative to this crate.
pub(crate) fn default_dist_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../dist/dashboard"))
}
