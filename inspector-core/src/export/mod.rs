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
pub mod session;

use serde::{Deserialize, Serialize};

pub use redact::RedactionConfig;

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
