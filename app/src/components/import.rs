use inspector_core::event::{CaptureEvent, parse_event_line};
use inspector_core::export::session::{import_session, looks_like_session};
use inspector_core::har::looks_like_har;
use leptos::html;
use leptos::prelude::*;

use crate::bridge;
use crate::state::{ImportState, Inspector, use_inspector};

const CHUNK_BYTES: u32 = 1 << 20;
/// Imported events are handed to the store in batches of this size, so a large NDJSON file
/// shows rows while it is still being read.
const INGEST_BATCH_EVENTS: usize = 20_000;
/// Reading the file pauses while more events than this wait to be ingested.
const MAX_BACKLOG_EVENTS: usize = 40_000;

/// The file picker button (and the import progress / result next to it).
#[component]
pub fn ImportButton() -> impl IntoView {
    let inspector = use_inspector();
    let input = NodeRef::<html::Input>::new();
    let on_change = move |_| {
        let Some(element) = input.get_untracked() else {
            return;
        };
        if let Some(file) = element.files().and_then(|files| files.get(0)) {
            import_file(inspector, file);
        }
        element.set_value("");
    };
    let status = move || match inspector.import.get() {
        ImportState::Idle => None,
        ImportState::Reading {
            file_name,
            read_bytes,
            total_bytes,
        } => {
            let max = total_bytes.max(1) as f64;
            Some(
                view! {
                    <span class="fs-import" data-testid="import-progress">
                        {format!("Importing {file_name}… ")}
                        <progress max=max value=read_bytes as f64></progress>
                    </span>
                }
                .into_any(),
            )
        }
        ImportState::Done { file_name, events } => Some(
            view! {
                <span class="fs-import ok" data-testid="import-done">
                    {format!("Imported {events} events from {file_name}")}
                </span>
            }
            .into_any(),
        ),
        ImportState::Failed { file_name, message } => Some(
            view! {
                <span class="fs-import failed" data-testid="import-error" role="alert">
                    {format!("Cannot import {file_name}: {message}")}
                    <button
                        class="fs-link"
                        aria-label="Dismiss"
                        on:click=move |_| inspector.import.set(ImportState::Idle)
                    >
                        "×"
                    </button>
                </span>
            }
            .into_any(),
        ),
    };
    view! {
        <label class="fs-button" title="Import a capture (NDJSON, HAR or session file); or drop it here">
            "Import…"
            <input
                type="file"
                class="fs-hidden-input"
                data-testid="import-input"
                accept=".ndjson,.jsonl,.json,.har,application/json"
                node_ref=input
                on:change=on_change
            />
        </label>
        {status}
    }
}

/// Reads `file` and feeds its events to the store, showing progress; a bad file gets a
/// message naming the position of the problem and nothing half-imported is hidden: rows
/// read before an NDJSON error stay, and the message says how many there were.
pub fn import_file(inspector: Inspector, file: web_sys::File) {
    let file_name = file.name();
    inspector.import.set(ImportState::Reading {
        file_name: file_name.clone(),
        read_bytes: 0,
        total_bytes: file.size() as u64,
    });
    leptos::task::spawn_local(async move {
        let result = read_capture(inspector, &file, &file_name).await;
        inspector.import.set(match result {
            Ok(events) => ImportState::Done { file_name, events },
            Err(message) => ImportState::Failed { file_name, message },
        });
    });
}

enum Format {
    Undecided,
    Ndjson,
    Document,
}

async fn read_capture(
    inspector: Inspector,
    file: &web_sys::File,
    file_name: &str,
) -> Result<usize, String> {
    if file.size() == 0.0 {
        return Err("the file is empty".to_owned());
    }
    let mut format = Format::Undecided;
    let mut pending = String::new();
    let mut document = String::new();
    let mut line_number = 0usize;
    let mut batch: Vec<CaptureEvent> = Vec::new();
    let mut imported = 0usize;
    let mut failure: Option<String> = None;
    // Reading waits while the store has a backlog, so a large file is never all in memory
    // as parsed events at once.
    let busy = move || inspector.backlog() > MAX_BACKLOG_EVENTS;
    bridge::read_file_in_chunks_paced(
        file,
        CHUNK_BYTES,
        |text, read_bytes, total_bytes| {
            if failure.is_some() {
                return;
            }
            inspector.import.set(ImportState::Reading {
                file_name: file_name.to_owned(),
                read_bytes,
                total_bytes,
            });
            if let Format::Undecided = format {
                pending.push_str(text);
                let trimmed = pending.trim_start();
                if trimmed.is_empty() {
                    return;
                }
                let Some(first_line) = trimmed
                    .lines()
                    .next()
                    .filter(|_| trimmed.contains('\n') || read_bytes == total_bytes)
                else {
                    return;
                };
                format = if !looks_like_session(trimmed)
                    && parse_event_line(first_line.trim(), 1).is_ok()
                {
                    Format::Ndjson
                } else if trimmed.starts_with('{') {
                    Format::Document
                } else {
                    failure = Some(describe_unknown(first_line));
                    return;
                };
                let text = std::mem::take(&mut pending);
                match format {
                    Format::Document => document.push_str(&text),
                    _ => pending = text,
                }
            } else {
                match format {
                    Format::Document => document.push_str(text),
                    _ => pending.push_str(text),
                }
            }
            if let Format::Ndjson = format {
                // Parse every complete line; keep the unfinished last one for the next chunk.
                let last_newline = if read_bytes == total_bytes {
                    pending.len()
                } else {
                    match pending.rfind('\n') {
                        Some(index) => index + 1,
                        None => return,
                    }
                };
                let rest = pending.split_off(last_newline);
                for line in pending.lines() {
                    line_number += 1;
                    if line.trim().is_empty() {
                        continue;
                    }
                    match parse_event_line(line, line_number) {
                        Ok(event) => batch.push(event),
                        Err(error) => {
                            failure = Some(format!(
                                "{error} ({} events before it were imported)",
                                imported + batch.len()
                            ));
                            break;
                        }
                    }
                }
                pending = rest;
                if batch.len() >= INGEST_BATCH_EVENTS || failure.is_some() {
                    imported += batch.len();
                    inspector.import_events(std::mem::take(&mut batch));
                }
            }
        },
        busy,
    )
    .await?;
    if let Some(message) = failure {
        inspector.ingested().await;
        return Err(message);
    }
    let result = match format {
        Format::Ndjson => {
            imported += batch.len();
            inspector.import_events(batch);
            Ok(imported)
        }
        Format::Document => {
            let events = parse_document(&document)?;
            let count = events.len();
            inspector.import_events(events);
            Ok(count)
        }
        Format::Undecided => Err("the file holds only whitespace".to_owned()),
    };
    // Done means the rows are in the table.
    inspector.ingested().await;
    result
}

fn describe_unknown(first_line: &str) -> String {
    match parse_event_line(first_line.trim(), 1) {
        Err(error) => format!(
            "not a capture: expected NDJSON capture events, a HAR file or a session file ({error})"
        ),
        Ok(_) => "not a capture".to_owned(),
    }
}

/// A whole JSON document: a session file or a HAR file.
fn parse_document(text: &str) -> Result<Vec<CaptureEvent>, String> {
    if looks_like_session(text) {
        return import_session(text)
            .map(|session| session.events)
            .map_err(|error| error.to_string());
    }
    if looks_like_har(text) {
        return crate::store::import_har(text).map(|(events, _notes)| events);
    }
    Err("not a capture: a JSON document that is neither a HAR file (no \"log\" with \"entries\") nor a Framescope session file".to_owned())
}
