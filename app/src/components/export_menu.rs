use std::collections::HashSet;

use inspector_core::export::{ExportFormat, RedactionConfig, iso8601_from_micros};
use inspector_core::view::table::GroupedRow;
use leptos::prelude::*;

use crate::bridge;
use crate::state::{Inspector, Lines, ViewMode, use_inspector};

/// `framescope-2026-11-26T10-40-05.har`: the UTC time of the export, with
/// characters that file systems dislike replaced.
fn file_name(format: ExportFormat, now_micros: u64) -> String {
    let stamp: String = iso8601_from_micros(now_micros)
        .chars()
        .take(19)
        .map(|character| if character == ':' { '-' } else { character })
        .collect();
    format!("framescope-{stamp}.{}", format.file_extension())
}

/// The setting that remembers the "Redact secrets" box.
const REDACT_SETTING: &str = "redact";

/// Whether exports and copies (cURL, fetch, websocat) redact secrets: on unless the user
/// unticked "Redact secrets" in the export menu.
pub fn redact_enabled() -> bool {
    bridge::load_setting(REDACT_SETTING).as_deref() != Some("off")
}

/// The redaction that copies use, following [`redact_enabled`].
pub fn copy_redaction() -> RedactionConfig {
    if redact_enabled() {
        RedactionConfig::default()
    } else {
        RedactionConfig::disabled()
    }
}

/// Every export format is JSON.
const MIME_TYPE: &str = "application/json";

/// The `(session_id, connection_id)` of every row the table shows.
fn shown_connections(inspector: Inspector) -> HashSet<(String, String)> {
    let mode = inspector.mode.get_untracked();
    let positions: Vec<u32> = inspector.rows.with_untracked(|rows| match &rows.lines {
        Lines::Flat(positions) => positions.clone(),
        Lines::Grouped(lines) => lines
            .iter()
            .filter_map(|line| match line {
                GroupedRow::Row(position) => Some(*position),
                GroupedRow::Group(_) => None,
            })
            .collect(),
    });
    inspector.store.with_value(|store| {
        let session = store.session();
        positions
            .iter()
            .filter_map(|&position| match mode {
                ViewMode::Calls => session
                    .call_at(position as usize)
                    .map(|call| (call.session_id.clone(), call.connection_id.clone())),
                ViewMode::Frames => session
                    .frame_at(position as usize)
                    .map(|frame| (frame.session_id.clone(), frame.connection_id.clone())),
            })
            .collect()
    })
}

fn export(inspector: Inspector, format: ExportFormat, redact: bool, only_shown: bool) {
    let now_micros = bridge::now_micros();
    let connections = only_shown.then(|| shown_connections(inspector));
    let result = inspector
        .store
        .try_update_value(|store| store.export(format, redact, now_micros, connections.as_ref()))
        .unwrap_or_else(|| Err("the store is gone".to_owned()));
    let output = match result {
        Ok(output) => output,
        Err(error) => {
            inspector.notify(format!("Export failed: {error}"));
            return;
        }
    };
    let name = file_name(format, now_micros);
    if let Err(error) = bridge::download_text(&name, MIME_TYPE, &output.text) {
        inspector.notify(format!("Export failed: {error}"));
        return;
    }
    let mut message = format!(
        "Exported {name}{}{}",
        connections
            .as_ref()
            .map(|connections| format!(" ({} connection(s) of the rows shown)", connections.len()))
            .unwrap_or_default(),
        if redact {
            " (secrets redacted)"
        } else {
            " (not redacted)"
        }
    );
    for note in &output.notes {
        message.push_str(". ");
        message.push_str(note);
    }
    inspector.notify(message);
}

/// The toolbar's "Export" menu: HAR, session file or OpenTelemetry traces of everything the
/// store holds, downloaded as a file; secrets are redacted unless the user unticks the box.
#[component]
pub fn ExportMenu() -> impl IntoView {
    let inspector = use_inspector();
    let open = RwSignal::new(false);
    let redact = RwSignal::new(redact_enabled());
    let only_shown = RwSignal::new(false);
    let filtered = move || inspector.rows.with(|rows| rows.matched < rows.total);
    // Read when the menu opens, not on every store change.
    let retention = move || {
        if !open.get() {
            return String::new();
        }
        inspector.version.track();
        inspector.store.with_value(|store| {
            let evicted = store.evicted_events();
            let mut text = format!("{} events retained", store.retained_events());
            if let Some(note) = evicted.note() {
                text = format!("{text}; {note}");
            }
            text
        })
    };
    let item = move |format: ExportFormat, test_id: &'static str, label: &'static str| {
        view! {
            <button
                role="menuitem"
                data-testid=test_id
                on:click=move |_| {
                    open.set(false);
                    let only_shown = only_shown.get_untracked()
                        && inspector.rows.with_untracked(|rows| rows.matched < rows.total);
                    export(inspector, format, redact.get_untracked(), only_shown);
                }
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="fs-export">
            <button
                data-testid="export-menu"
                aria-haspopup="menu"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                title="Export the capture"
                on:click=move |_| open.update(|open| *open = !*open)
            >
                "Export ▾"
            </button>
            <Show when=move || open.get()>
                <div class="fs-export-menu" role="menu" aria-label="Export formats">
                    {item(ExportFormat::Har, "export-har", "HAR (browser DevTools)")}
                    {item(ExportFormat::Session, "export-session", "Session file (lossless)")}
                    {item(ExportFormat::Otlp, "export-otlp", "OpenTelemetry traces (OTLP JSON)")}
                    <label class="fs-export-redact">
                        <input
                            type="checkbox"
                            data-testid="export-redact"
                            prop:checked=move || redact.get()
                            on:change=move |event| {
                                let on = event_target_checked(&event);
                                redact.set(on);
                                bridge::save_setting(REDACT_SETTING, if on { "on" } else { "off" });
                            }
                        />
                        "Redact secrets (exports and copies)"
                    </label>
                    <Show when=filtered>
                        <label class="fs-export-redact" title="Everything of the connections the filtered rows belong to (a WebSocket's other messages included)">
                            <input
                                type="checkbox"
                                data-testid="export-filtered"
                                prop:checked=move || only_shown.get()
                                on:change=move |event| only_shown.set(event_target_checked(&event))
                            />
                            "Only the connections of the rows shown"
                        </label>
                    </Show>
                    <div class="fs-muted" data-testid="export-retention">{retention}</div>
                </div>
            </Show>
        </div>
    }
}
