//! `framescope analyze FILE [--json]`: the calls in a capture and per-method statistics.
//!
//! Data enters as a file: an NDJSON capture (one capture event per line), a HAR 1.2 file
//! (Chrome's `_webSocketMessages` included) or a Framescope session file, told apart by
//! content. The events run through a core [`Session`] (decode, correlate), which is finished
//! at the last event's time so that the result does not depend on when the command runs;
//! statistics come from [`StatsAccumulator`]. It leaves on standard output as readable
//! tables, or with `--json` as one JSON object (`calls`, `methods`, `malformed`, and
//! `transports`, `notes`, `evicted`, `dropped_by_producer`).
//!
//! A file that cannot be read or parsed is one line on standard error naming the file and
//! the position (`line L, column C` or a JSON path), and exit code 2.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use inspector_core::event::{CaptureEvent, parse_ndjson};
use inspector_core::export::session::{import_session, looks_like_session};
use inspector_core::har::{HarError, import_har, looks_like_har};
use inspector_core::model::Call;
use inspector_core::session::{Session, SessionConfig};
use inspector_core::stats::{GroupStats, StatsAccumulator, StatsConfig};
use serde::Serialize;

/// Arguments of `framescope analyze`.
#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// Capture to analyse: NDJSON capture events, a HAR 1.2 file, or a Framescope session file.
    pub file: PathBuf,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// The input formats `analyze` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum InputFormat {
    Ndjson,
    Har,
    Session,
}

/// A capture read from a file.
struct Loaded {
    format: InputFormat,
    events: Vec<CaptureEvent>,
    config: SessionConfig,
    finished_micros: Option<u64>,
    notes: Vec<Note>,
}

/// Something the importer met but could not represent.
#[derive(Debug, Clone, Serialize)]
struct Note {
    path: String,
    message: String,
}

fn load(path: &Path) -> anyhow::Result<Loaded> {
    let name = path.display();
    let bytes = std::fs::read(path).with_context(|| format!("{name}: cannot read"))?;
    let text = String::from_utf8(bytes).map_err(|error| {
        anyhow::anyhow!(
            "{name}: byte {}: not UTF-8 text",
            error.utf8_error().valid_up_to()
        )
    })?;
    let text = text.trim_start_matches('\u{feff}');
    if looks_like_session(text) {
        let file = import_session(text).map_err(|error| anyhow::anyhow!("{name}: {error}"))?;
        return Ok(Loaded {
            format: InputFormat::Session,
            events: file.events,
            config: file.config,
            finished_micros: file.finished_micros,
            notes: Vec::new(),
        });
    }
    if looks_like_har(text) {
        let import = import_har(text).map_err(|error| match error {
            HarError::Syntax {
                line,
                column,
                message,
            } => anyhow::anyhow!(
                "{name}: line {line}, column {column}: {}",
                without_serde_position(&message)
            ),
            other => anyhow::anyhow!("{name}: {other}"),
        })?;
        return Ok(Loaded {
            format: InputFormat::Har,
            events: import.events,
            config: SessionConfig::default(),
            finished_micros: None,
            notes: import
                .notes
                .into_iter()
                .map(|note| Note {
                    path: note.path,
                    message: note.message,
                })
                .collect(),
        });
    }
    let events = parse_ndjson(text).map_err(|error| {
        anyhow::anyhow!(
            "{name}: line {}, column {}: {}",
            error.line,
            error.column,
            without_serde_position(&error.message)
        )
    })?;
    Ok(Loaded {
        format: InputFormat::Ndjson,
        events,
        config: SessionConfig::default(),
        finished_micros: None,
        notes: Vec::new(),
    })
}

/// serde_json ends its messages with ` at line L column C`, counted within what it was given
/// (one NDJSON line); the caller states the position in the file instead.
fn without_serde_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(index) if message[index..].contains(" column ") => &message[..index],
        _ => message,
    }
}

/// One call in the JSON output.
#[derive(Debug, Serialize)]
struct CallRow<'a> {
    call_id: u64,
    transport: &'static str,
    protocol: &'static str,
    method: &'a str,
    request_id: Option<&'a str>,
    kind: &'static str,
    outcome: &'static str,
    error_code: Option<i64>,
    error_message: Option<&'a str>,
    connection_id: &'a str,
    started_micros: u64,
    latency_ms: Option<f64>,
}

impl<'a> CallRow<'a> {
    fn new(call: &'a Call) -> Self {
        CallRow {
            call_id: call.call_id,
            transport: call.transport.as_str(),
            protocol: call.protocol.as_str(),
            method: &call.method,
            request_id: call.request_id.as_deref(),
            kind: match call.kind {
                inspector_core::model::CallKind::Call => "call",
                inspector_core::model::CallKind::Notification => "notification",
            },
            outcome: call.outcome.as_str(),
            error_code: call.error_code,
            error_message: call.error_message.as_deref(),
            connection_id: &call.connection_id,
            started_micros: call.started_micros,
            latency_ms: call.latency_micros.map(micros_to_millis),
        }
    }
}

/// Per-method (or per-transport) figures in the JSON output.
#[derive(Debug, Serialize)]
struct GroupRow<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transport: Option<&'static str>,
    count: u64,
    errors: u64,
    pending: u64,
    error_rate: Option<f64>,
    p50_ms: Option<f64>,
    p90_ms: Option<f64>,
    p95_ms: Option<f64>,
    p99_ms: Option<f64>,
    max_ms: Option<f64>,
}

impl<'a> GroupRow<'a> {
    fn new(method: Option<&'a str>, transport: Option<&'static str>, stats: &GroupStats) -> Self {
        let latency = stats.latency().summary();
        GroupRow {
            method,
            transport,
            count: stats.count(),
            errors: stats.errors(),
            pending: stats.pending(),
            error_rate: stats.error_rate(),
            p50_ms: latency.p50_micros.map(micros_to_millis),
            p90_ms: latency.p90_micros.map(micros_to_millis),
            p95_ms: latency.p95_micros.map(micros_to_millis),
            p99_ms: latency.p99_micros.map(micros_to_millis),
            max_ms: latency.max_micros.map(micros_to_millis),
        }
    }
}

/// A malformed frame in the JSON output.
#[derive(Debug, Serialize)]
struct MalformedRow<'a> {
    frame_id: u64,
    connection_id: &'a str,
    transport: &'static str,
    time_micros: u64,
    summary: &'a str,
    reason: &'a str,
}

#[derive(Debug, Serialize)]
struct EvictedRow {
    frames: u64,
    bytes: u64,
    calls: u64,
}

/// The whole `--json` document.
#[derive(Debug, Serialize)]
struct Report<'a> {
    file: String,
    format: InputFormat,
    events: usize,
    calls: Vec<CallRow<'a>>,
    methods: Vec<GroupRow<'a>>,
    transports: Vec<GroupRow<'a>>,
    malformed: Vec<MalformedRow<'a>>,
    notes: &'a [Note],
    evicted: EvictedRow,
    dropped_by_producer: u64,
}

fn micros_to_millis(micros: u64) -> f64 {
    micros as f64 / 1_000.0
}

/// Runs `framescope analyze`.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let loaded = load(&args.file)?;
    let mut session = Session::new(loaded.config.clone());
    session.ingest_all(&loaded.events);
    let end_micros = loaded.finished_micros.unwrap_or_else(|| {
        loaded
            .events
            .iter()
            .map(|event| event.time_micros)
            .max()
            .unwrap_or(0)
    });
    session.finish(end_micros);

    let calls: Vec<&Call> = session.calls().collect();
    let stats = StatsAccumulator::from_calls(calls.iter().copied(), StatsConfig::default());
    let evicted = session.evicted();
    let report = Report {
        file: args.file.display().to_string(),
        format: loaded.format,
        events: loaded.events.len(),
        calls: calls.iter().map(|call| CallRow::new(call)).collect(),
        methods: stats
            .methods()
            .into_iter()
            .map(|(method, group)| GroupRow::new(Some(method), None, group))
            .collect(),
        transports: stats
            .transports()
            .into_iter()
            .map(|(transport, group)| GroupRow::new(None, Some(transport.as_str()), group))
            .collect(),
        malformed: session
            .malformed()
            .map(|frame| MalformedRow {
                frame_id: frame.frame_id,
                connection_id: &frame.connection_id,
                transport: frame.transport.as_str(),
                time_micros: frame.time_micros,
                summary: &frame.summary,
                reason: frame.malformed.as_deref().unwrap_or_default(),
            })
            .collect(),
        notes: &loaded.notes,
        evicted: EvictedRow {
            frames: evicted.frames,
            bytes: evicted.bytes,
            calls: evicted.calls,
        },
        dropped_by_producer: session.dropped_by_producer(),
    };
    let output = if args.json {
        let mut json = serde_json::to_string_pretty(&report).context("cannot write JSON")?;
        json.push('\n');
        json
    } else {
        render_tables(&report)
    };
    print!("{output}");
    Ok(ExitCode::SUCCESS)
}

/// Text safe for a terminal: control characters (escape sequences included) are escaped.
fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|character| {
            if character.is_control() {
                character.escape_default().collect::<Vec<char>>()
            } else {
                vec![character]
            }
        })
        .collect()
}

/// Shortens `text` to `width` characters, marking the cut with `…`.
fn fit(text: &str, width: usize) -> String {
    let text = printable(text);
    if text.chars().count() <= width {
        return text;
    }
    let mut short: String = text.chars().take(width.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// The method as shown in tables: a response whose request was never seen has none.
fn display_method(method: &str) -> &str {
    if method.is_empty() {
        "(unknown)"
    } else {
        method
    }
}

fn millis(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |ms| format!("{ms:.3}"))
}

/// Lays out rows as left-aligned columns (right-aligned where `numeric`).
fn table(headers: &[&str], numeric: &[bool], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers
        .iter()
        .map(|header| header.chars().count())
        .collect();
    for row in rows {
        for (index, cell) in row.iter().enumerate() {
            widths[index] = widths[index].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut text = String::new();
        for (index, cell) in cells.iter().enumerate() {
            let pad = widths[index].saturating_sub(cell.chars().count());
            if index > 0 {
                text.push_str("  ");
            }
            if numeric[index] {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&headers.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    for row in rows {
        line(row);
    }
    out
}

fn render_tables(report: &Report<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}, {} events): {} calls, {} methods, {} malformed frames",
        printable(&report.file),
        match report.format {
            InputFormat::Ndjson => "NDJSON capture",
            InputFormat::Har => "HAR",
            InputFormat::Session => "session file",
        },
        report.events,
        report.calls.len(),
        report.methods.len(),
        report.malformed.len()
    );

    out.push_str("\nCalls\n");
    if report.calls.is_empty() {
        out.push_str("(none)\n");
    } else {
        let first_micros = report
            .calls
            .iter()
            .map(|call| call.started_micros)
            .min()
            .unwrap_or(0);
        let rows: Vec<Vec<String>> = report
            .calls
            .iter()
            .map(|call| {
                vec![
                    format!(
                        "{:.3}",
                        micros_to_millis(call.started_micros.saturating_sub(first_micros))
                    ),
                    call.transport.to_owned(),
                    call.protocol.to_owned(),
                    fit(display_method(call.method), 40),
                    fit(call.request_id.unwrap_or("-"), 20),
                    call.kind.to_owned(),
                    call.outcome.to_owned(),
                    call.error_code
                        .map_or_else(|| "-".to_owned(), |code| code.to_string()),
                    millis(call.latency_ms),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "at_ms",
                "transport",
                "protocol",
                "method",
                "id",
                "kind",
                "outcome",
                "code",
                "latency_ms",
            ],
            &[true, false, false, false, false, false, false, true, true],
            &rows,
        ));
    }

    let group_rows = |groups: &[GroupRow<'_>]| -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|group| {
                vec![
                    fit(
                        group
                            .method
                            .map(display_method)
                            .or(group.transport)
                            .unwrap_or("-"),
                        40,
                    ),
                    group.count.to_string(),
                    group.errors.to_string(),
                    group
                        .error_rate
                        .map_or_else(|| "-".to_owned(), |rate| format!("{:.1}%", rate * 100.0)),
                    millis(group.p50_ms),
                    millis(group.p90_ms),
                    millis(group.p95_ms),
                    millis(group.p99_ms),
                    millis(group.max_ms),
                ]
            })
            .collect()
    };
    let numeric = [false, true, true, true, true, true, true, true, true];
    for (title, first, groups) in [
        ("Methods", "method", &report.methods),
        ("Transports", "transport", &report.transports),
    ] {
        let _ = writeln!(out, "\n{title}");
        if groups.is_empty() {
            out.push_str("(none)\n");
            continue;
        }
        out.push_str(&table(
            &[
                first, "count", "errors", "err_rate", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
                "max_ms",
            ],
            &numeric,
            &group_rows(groups),
        ));
    }

    if !report.malformed.is_empty() {
        out.push_str("\nMalformed frames\n");
        let rows: Vec<Vec<String>> = report
            .malformed
            .iter()
            .map(|frame| {
                vec![
                    frame.frame_id.to_string(),
                    fit(frame.connection_id, 24),
                    fit(frame.reason, 100),
                ]
            })
            .collect();
        out.push_str(&table(
            &["frame", "connection", "reason"],
            &[true, false, false],
            &rows,
        ));
    }
    if !report.notes.is_empty() {
        out.push_str("\nImport notes\n");
        for note in report.notes {
            let _ = writeln!(
                out,
                "{}: {}",
                printable(&note.path),
                printable(&note.message)
            );
        }
    }
    let evicted = &report.evicted;
    if evicted.frames > 0 || evicted.calls > 0 {
        let _ = writeln!(
            out,
            "\nEvicted to stay within the session cap: {} frames, {} calls, {} bytes",
            evicted.frames, evicted.calls, evicted.bytes
        );
    }
    if report.dropped_by_producer > 0 {
        let _ = writeln!(
            out,
            "\nThe producer dropped {} events before they reached the capture",
            report.dropped_by_producer
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_for_the_terminal() {
        assert_eq!(printable("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }

    #[test]
    fn serde_positions_are_stripped_from_messages() {
        assert_eq!(
            without_serde_position("EOF while parsing a value at line 1 column 8"),
            "EOF while parsing a value"
        );
        assert_eq!(
            without_serde_position("missing field `log`"),
            "missing field `log`"
        );
    }

    #[test]
    fn tables_align_columns() {
        let text = table(
            &["name", "n"],
            &[false, true],
            &[
                vec!["a".to_owned(), "100".to_owned()],
                vec!["long".to_owned(), "2".to_owned()],
            ],
        );
        assert_eq!(text, "name    n\na     100\nlong    2\n");
    }
}
