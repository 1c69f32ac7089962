//! Framescope's own session file: lossless and versioned.
//!
//! A session file holds everything the core needs to rebuild an analysis exactly: every
//! capture event as ingested (HTTP, WebSocket, EventSource, shared-memory, drop counts), the
//! [`SessionConfig`] (caps, call timeout, decode-as layouts and protocol overrides) and the
//! time the analysis was finished at. Data enters as events plus configuration and leaves as
//! JSON text; [`import_session`] turns the text back into the same events and configuration,
//! and [`SessionFile::replay`] feeds them to a new [`Session`] for an identical analysis.
//!
//! The text is one JSON object whose header members come first and whose events are written
//! one per line, so files diff well and stream through line tools:
//!
//! ```text
//! {"format":"framescope-session","version":1,"producer":"framescope 0.1.0","redacted":true,"finished_micros":...,"config":{...},
//! "events":[
//! {"v":1,"session_id":"p1",...},
//! ...
//! ]}
//! ```
//!
//! `version` changes whenever a reader of the previous version could misread a file; a file
//! of another version is refused with [`SessionImportError::UnsupportedVersion`], which says
//! which versions are involved and what to do.

use serde::{Deserialize, Serialize};

use super::ExportError;
use super::redact::{RedactionConfig, redact_events};
use super::retention::EvictedEvents;
use crate::event::CaptureEvent;
use crate::session::{Session, SessionConfig};

/// The value of the `format` member of every session file.
pub const SESSION_FORMAT_NAME: &str = "framescope-session";

/// The session-file version this crate writes and reads.
pub const SESSION_FORMAT_VERSION: u32 = 1;

/// A parsed session file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionFile {
    /// Always [`SESSION_FORMAT_NAME`].
    pub format: String,
    /// Always [`SESSION_FORMAT_VERSION`] for files this crate accepts.
    pub version: u32,
    /// Program and version that wrote the file (`framescope 0.1.0`).
    #[serde(default)]
    pub producer: String,
    /// Whether secrets were redacted when the file was written.
    #[serde(default)]
    pub redacted: bool,
    /// When the analysis was finished (timeouts marked), microseconds since the epoch;
    /// `None` means "at the last event".
    #[serde(default)]
    pub finished_micros: Option<u64>,
    /// Analysis settings in effect when the session was exported, decode-as choices
    /// included.
    #[serde(default)]
    pub config: SessionConfig,
    /// Events the exporting view had already evicted (its retention limit): the file lacks
    /// them. Absent when nothing was evicted.
    #[serde(default, skip_serializing_if = "EvictedEvents::is_empty")]
    pub evicted: EvictedEvents,
    /// Every capture event, in ingest order.
    pub events: Vec<CaptureEvent>,
}

/// Everything a session file records besides its events, for [`export_session_file`].
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings<'a> {
    /// Analysis settings (decode-as choices included).
    pub config: &'a SessionConfig,
    /// When the analysis was finished; `None`: at the last event.
    pub finished_micros: Option<u64>,
    /// What to redact.
    pub redaction: &'a RedactionConfig,
    /// Program and version writing the file.
    pub producer: &'a str,
    /// Events the exporting view no longer had.
    pub evicted: EvictedEvents,
}

/// Error reading a session file.
#[derive(Debug, thiserror::Error)]
pub enum SessionImportError {
    /// The text is not JSON.
    #[error(
        "not a Framescope session file: invalid JSON at line {line}, column {column}: {message}"
    )]
    NotJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// JSON, but not a session file (no or another `format` member).
    #[error(
        "not a Framescope session file: expected \"format\": \"{SESSION_FORMAT_NAME}\", found {found}"
    )]
    NotASession {
        /// What the `format` member held, or `no format member`.
        found: String,
    },
    /// A session file of a version this crate does not read.
    #[error(
        "session file version {found} is not supported: this framescope reads version {supported}; {advice}"
    )]
    UnsupportedVersion {
        /// Version in the file.
        found: u64,
        /// Version this crate reads.
        supported: u32,
        /// What the user can do.
        advice: &'static str,
    },
    /// The right format and version, but a member does not have the expected shape.
    #[error("session file is damaged at line {line}, column {column}: {message}")]
    Invalid {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

impl SessionFile {
    /// Rebuilds the analysis: a new [`Session`] with the file's configuration, every event
    /// ingested in order, finished at [`SessionFile::finished_micros`] (or at the last event).
    pub fn replay(&self) -> Session {
        replay(&self.events, &self.config, self.finished_micros)
    }
}

/// Analyses `events` the way a session file is re-imported: a new [`Session`] with
/// `config`, every event ingested in order, finished at `finished_micros` or, when `None`,
/// at the latest event time.
pub fn replay(
    events: &[CaptureEvent],
    config: &SessionConfig,
    finished_micros: Option<u64>,
) -> Session {
    let mut session = Session::new(config.clone());
    session.ingest_all(events);
    let last_event_micros = events
        .iter()
        .map(|event| event.time_micros)
        .max()
        .unwrap_or_default();
    session.finish(finished_micros.unwrap_or(last_event_micros));
    session
}

/// Writes a session file: the events (redacted per `redaction`), the analysis `config` and
/// the time the analysis was finished at (`None`: at the last event), so that
/// [`SessionFile::replay`] rebuilds the same analysis.
pub fn export_session(
    events: &[CaptureEvent],
    config: &SessionConfig,
    finished_micros: Option<u64>,
    redaction: &RedactionConfig,
    producer: &str,
) -> Result<String, ExportError> {
    export_session_file(
        events,
        &SessionSettings {
            config,
            finished_micros,
            redaction,
            producer,
            evicted: EvictedEvents::default(),
        },
    )
}

/// [`export_session`] with every setting, including what the exporting view had evicted
/// (written as `"evicted":{"events":N,"bytes":B}` when anything was).
pub fn export_session_file(
    events: &[CaptureEvent],
    settings: &SessionSettings<'_>,
) -> Result<String, ExportError> {
    let SessionSettings {
        config,
        finished_micros,
        redaction,
        producer,
        evicted,
    } = *settings;
    let events = redact_events(events, redaction)?;
    let serialize_error = |error: serde_json::Error| ExportError::Serialize {
        format: "session",
        message: error.to_string(),
    };
    // A struct, not a map, so that `format` and `version` come first (see
    // `looks_like_session`).
    #[derive(Serialize)]
    struct Header<'a> {
        format: &'a str,
        version: u32,
        producer: &'a str,
        redacted: bool,
        finished_micros: Option<u64>,
        config: &'a SessionConfig,
        #[serde(skip_serializing_if = "EvictedEvents::is_empty")]
        evicted: EvictedEvents,
    }
    let header = Header {
        format: SESSION_FORMAT_NAME,
        version: SESSION_FORMAT_VERSION,
        producer,
        redacted: redaction.enabled,
        finished_micros,
        config,
        evicted,
    };
    let header = serde_json::to_string(&header).map_err(serialize_error)?;
    // `header` is an object: drop its closing brace and append the events one per line.
    let mut text = String::with_capacity(header.len() + events.len() * 200);
    text.push_str(header.strip_suffix('}').unwrap_or(&header));
    text.push_str(",\n\"events\":[");
    for (index, event) in events.iter().enumerate() {
        text.push_str(if index == 0 { "\n" } else { ",\n" });
        text.push_str(&serde_json::to_string(event).map_err(serialize_error)?);
    }
    text.push_str("\n]}\n");
    Ok(text)
}

/// True when the text looks like a session file (a cheap check of its first member, which
/// this crate always writes first), so that loaders can tell it from NDJSON and HAR before
/// parsing.
pub fn looks_like_session(text: &str) -> bool {
    let head: String = text.chars().take(200).collect();
    let compact: String = head
        .chars()
        .filter(|character| !character.is_whitespace())
        .collect();
    compact.starts_with(&format!("{{\"format\":\"{SESSION_FORMAT_NAME}\""))
}

/// Reads a session file, checking its format and version before anything else.
pub fn import_session(text: &str) -> Result<SessionFile, SessionImportError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| SessionImportError::NotJson {
            line: error.line(),
            column: error.column(),
            message: error.to_string(),
        })?;
    let format = value.get("format");
    if format.and_then(serde_json::Value::as_str) != Some(SESSION_FORMAT_NAME) {
        return Err(SessionImportError::NotASession {
            found: format.map_or_else(|| "no format member".to_owned(), ToString::to_string),
        });
    }
    let found = value
        .get("version")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if found != u64::from(SESSION_FORMAT_VERSION) {
        return Err(SessionImportError::UnsupportedVersion {
            found,
            supported: SESSION_FORMAT_VERSION,
            advice: if found > u64::from(SESSION_FORMAT_VERSION) {
                "it was written by a newer framescope: upgrade framescope to read it"
            } else {
                "it was written by an older framescope: export it again with this version"
            },
        });
    }
    // Parse again from the text (not the Value) so that errors carry line and column.
    serde_json::from_str(text).map_err(|error| SessionImportError::Invalid {
        line: error.line(),
        column: error.column(),
        message: error.to_string(),
    })
}
