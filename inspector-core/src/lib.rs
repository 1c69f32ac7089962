//! Framescope's model layer.
//!
//! Everything that would stay the same if the UI were a command-line tool lives here:
//! the capture-event schema ([`event`]), protocol decoders, request/response correlation,
//! statistics, filtering, CORS analysis and import/export.
//!
//! Data enters as [`event::CaptureEvent`]s (from the in-page hook, a relay, or a file) and
//! leaves as derived rows and statistics. The crate has no clock and no I/O: timestamps are
//! part of the events, so every analysis is deterministic.
#![forbid(unsafe_code)]

pub mod correlate;
pub mod cors;
pub mod decode;
pub mod event;
pub mod export;
pub mod filter;
pub mod har;
pub mod model;
pub mod session;
pub mod shm;
pub mod stats;
pub mod view;
