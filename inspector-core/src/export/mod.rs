//! Export: how captured sessions leave Framescope in formats other tools read.
//!
//! Data enters as the capture events of a session (and, for traces, the calls the core
//! derived from them) and leaves as text in one of three formats:
//!
//! - [`har`]: HAR 1.2 with Chrome's `_webSocketMessages` extension, for browser DevTools and
//!   HAR viewers;
//! - [`session`]: Framescope's own lossless, versioned session file, which re-imports to an
//!   identical analysis;
//! - [`otlp`]: OTLP/JSON trace spans following the OpenTelemetry RPC semantic conventions,
//!   for Jaeger, Tempo and any OpenTelemetry backend.
//!
//! Every exporter applies [`redact`] first; redaction is on unless the caller passes
//! [`redact::RedactionConfig::disabled`]. The formats are documented in `docs/export.md`.
//! Nothing here does I/O: callers write the returned text where they want it.

pub mod har;
pub mod otlp;
pub mod redact;
pub mod retention;
pub mod session;

use serde::{Deserialize, Serialize};

pub use redact::RedactionConfig;
pub use retention::{EventLog, EvictedEvents};

use crate::event::CaptureEvent;
use crate::model::Call;
use crate::session::SessionConfig;

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// HAR 1.2 (JSON).
    Har,
    /// Framescope session file (JSON).
    Session,
    /// OTLP/JSON traces.
    Otlp,
}

impl ExportFormat {
    /// The name used on the command line and in the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Har => "har",
            ExportFormat::Session => "session",
            ExportFormat::Otlp => "otlp",
        }
    }

    /// The usual file extension, without the dot.
    pub fn file_extension(self) -> &'static str {
        match self {
            ExportFormat::Har => "har",
            ExportFormat::Session => "framescope.json",
            ExportFormat::Otlp => "otlp.json",
        }
    }
}

/// Error of any exporter.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Redaction failed for an event.
    #[error(transparent)]
    Redact(#[from] redact::RedactError),
    /// The output could not be serialised.
    #[error("cannot write {format} output: {message}")]
    Serialize {
        /// Format being written.
        format: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// Everything an export needs, for [`export_capture`].
#[derive(Debug, Clone)]
pub struct ExportRequest<'a> {
    /// The capture, in ingest order.
    pub events: &'a [CaptureEvent],
    /// The analysis settings (decode-as choices included) in effect.
    pub config: &'a SessionConfig,
    /// When the analysis was finished (timeouts marked); `None` means at the last event.
    pub finished_micros: Option<u64>,
    /// What to redact.
    pub redaction: &'a RedactionConfig,
    /// Version of the program writing the export (`env!("CARGO_PKG_VERSION")`).
    pub producer_version: &'a str,
    /// `service.name` for OTLP.
    pub service_name: &'a str,
    /// Events the producer of `events` no longer had (a live view's [`EventLog`] evicted
    /// them): recorded in session files and told in the notes.
    pub evicted: EvictedEvents,
}

/// The text of an export and what the user should be told about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOutput {
    /// The exported document.
    pub text: String,
    /// Things left out or worth knowing (e.g. events HAR cannot hold), one sentence each.
    pub notes: Vec<String>,
    /// For OTLP: spans and traces written.
    pub span_count: usize,
    /// See `span_count`.
    pub trace_count: usize,
}

/// Exports a capture in `format`: the one entry point for the CLI and the UI's export
/// menu. OTLP analyses the events with `config` (see [`session::replay`]) to get the calls.
pub fn export_capture(
    format: ExportFormat,
    request: &ExportRequest<'_>,
) -> Result<ExportOutput, ExportError> {
    let mut output = ExportOutput {
        text: String::new(),
        notes: Vec::new(),
        span_count: 0,
        trace_count: 0,
    };
    match format {
        ExportFormat::Har => {
            let export =
                har::export_har(request.events, request.redaction, request.producer_version)?;
            if export.skipped_total() > 0 {
                let kinds: Vec<String> = export
                    .skipped_events
                    .iter()
                    .map(|(kind, count)| format!("{count} {kind}"))
                    .collect();
                output.notes.push(format!(
                    "HAR cannot hold {} event(s) ({}); export a session file to keep everything",
                    export.skipped_total(),
                    kinds.join(", ")
                ));
            }
            output.text = export.text;
        }
        ExportFormat::Session => {
            output.text = session::export_session_file(
                request.events,
                &session::SessionSettings {
                    config: request.config,
                    finished_micros: request.finished_micros,
                    redaction: request.redaction,
                    producer: &format!("framescope {}", request.producer_version),
                    evicted: request.evicted,
                },
            )?;
        }
        ExportFormat::Otlp => {
            let analysis = session::replay(request.events, request.config, request.finished_micros);
            let calls: Vec<Call> = analysis.calls().cloned().collect();
            let options = otlp::OtlpOptions {
                service_name: request.service_name.to_owned(),
                scope_version: request.producer_version.to_owned(),
            };
            let export = otlp::export_otlp(&calls, request.events, request.redaction, &options)?;
            output.span_count = export.span_count;
            output.trace_count = export.trace_count;
            output.text = export.text;
        }
    }
    if let Some(note) = request.evicted.note() {
        output.notes.push(note);
    }
    Ok(output)
}

/// Formats microseconds since the Unix epoch as an ISO 8601 UTC timestamp with microsecond
/// precision (`2026-11-26T07:05:09.123456Z`), as HAR's `startedDateTime` wants.
pub fn iso8601_from_micros(time_micros: u64) -> String {
    let seconds_total = time_micros / 1_000_000;
    let micros = time_micros % 1_000_000;
    let days = seconds_total / 86_400;
    let seconds_of_day = seconds_total % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        seconds_of_day / 3_600,
        (seconds_of_day / 60) % 60,
        seconds_of_day % 60
    )
}

/// Days since 1970-01-01 to a (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`, restricted to dates after the epoch).
fn civil_from_days(days_since_epoch: u64) -> (u64, u64, u64) {
    let shifted = days_since_epoch + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_matches_known_dates() {
        assert_eq!(iso8601_from_micros(0), "1970-01-01T00:00:00.000000Z");
        // 2000-02-29 (leap day) 12:34:56.789012
        assert_eq!(
            iso8601_from_micros(951_827_696_789_012),
            "2000-02-29T12:34:56.789012Z"
        );
        assert_eq!(
            iso8601_from_micros(1_795_676_709_000_001),
            "2026-11-26T07:05:09.000001Z"
        );
        // 2100-03-01: 2100 is not a leap year.
        assert_eq!(
            iso8601_from_micros(4_107_542_400_000_000),
            "2100-03-01T00:00:00.000000Z"
        );
    }
}
