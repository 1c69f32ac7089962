//! Presentation helpers shared by every front end (the inspector UI and the CLI).
//!
//! Data enters as core types ([`Call`](crate::model::Call), [`Frame`](crate::model::Frame),
//! payload bytes, captured headers, statistics) and leaves as display strings, ordered index
//! lists, fixed-size row windows, hex-dump lines, chart series and copy-paste snippets. Nothing
//! here knows about a DOM or a terminal: the Leptos app and the CLI show the results as they
//! are, so both agree on what a latency or a size looks like and on how rows are ordered.

pub mod format;
pub mod hex;
pub mod json;
pub mod snippet;
pub mod table;
pub mod timeline;
pub mod websocat;
