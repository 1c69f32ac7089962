use inspector_core::view::table::TRANSPORTS;
use leptos::html;
use leptos::prelude::*;

use crate::bridge::{self, RelayState};
use crate::components::export_menu::ExportMenu;
use crate::components::import::ImportButton;
use crate::state::{ViewMode, use_inspector};

/// What the app knows about its connections (filled by the app's bridge wiring).
#[derive(Clone, Copy)]
pub struct Connections {
    /// Subscribed to this document's hook.
    pub hook: RwSignal<bool>,
    /// Relay socket state.
    pub relay: RwSignal<RelayState>,
    /// Pages connected through the relay.
    pub pages: RwSignal<Vec<bridge::RelayPage>>,
    /// The server runs in demo mode.
    pub demo_mode: RwSignal<bool>,
    /// The demo generator is loaded on this page.
    pub demo_available: RwSignal<bool>,
    /// The demo generator is running.
    pub demo_running: RwSignal<bool>,
    /// In the extension panel: the port's status.
    pub extension: RwSignal<Option<bridge::ExtensionStatus>>,
}

impl Connections {
    /// Everything unknown yet.
    pub fn new() -> Self {
        Self {
            hook: RwSignal::new(false),
            relay: RwSignal::new(RelayState::Unavailable),
            pages: RwSignal::new(Vec::new()),
            demo_mode: RwSignal::new(false),
            demo_available: RwSignal::new(false),
            demo_running: RwSignal::new(false),
            extension: RwSignal::new(None),
        }
    }
}

impl Default for Connections {
    fn default() -> Self {
        Self::new()
    }
}

fn short_transport(index: usize) -> &'static str {
    ["HTTP", "WS", "SSE", "SHM"][index]
}

/// Capture controls, the filter box and its quick toggles, and the status indicators.
#[component]
pub fn Toolbar(filter_input: NodeRef<html::Input>) -> impl IntoView {
    let inspector = use_inspector();
    let connections = expect_context::<Connections>();

    let filter_error = move || {
        inspector.query.with(|query| {
            query
                .as_ref()
                .err()
                .map(|error| (error.position, error.to_string()))
        })
    };
    let filter_invalid = move || {
        if filter_error().is_some() {
            "true"
        } else {
            "false"
        }
    };

    let quick_transport = move |index: usize| {
        let pressed = move || !inspector.quick.with(|quick| quick.hidden_transports[index]);
        view! {
            <button
                class="fs-chip"
                data-testid=format!("toggle-{}", TRANSPORTS[index].as_str())
                aria-pressed=move || if pressed() { "true" } else { "false" }
                title=format!("Show {} rows", TRANSPORTS[index].as_str())
                on:click=move |_| {
                    inspector.quick.update(|quick| {
                        quick.hidden_transports[index] = !quick.hidden_transports[index];
                    })
                }
            >
                {short_transport(index)}
            </button>
        }
    };

    let counts = move || {
        let (matched, total) = inspector.rows.with(|rows| (rows.matched, rows.total));
        let noun = match inspector.mode.get() {
            ViewMode::Calls => "calls",
            ViewMode::Frames => "frames",
        };
        if matched == total {
            format!("{total} {noun}")
        } else {
            format!("{matched} / {total} {noun}")
        }
    };

    let loss = Memo::new(move |_| {
        inspector.stats_version.track();
        let skipped = inspector.skipped_while_paused.get();
        {
            let extension_dropped = connections
                .extension
                .with(|status| status.as_ref().map_or(0, |status| status.dropped_total));
            inspector
                .store
                .with_value(|store| store.loss(skipped, extension_dropped))
        }
    });
    let loss_text = move || loss.with(|loss| loss.summary());
    let loss_title = move || loss.with(|loss| loss.details());
    let has_loss = move || loss.with(|loss| loss.total() > 0);

    let pages_text = move || {
        if let Some(status) = connections.extension.get() {
            return match (status.connected, status.tab_id) {
                (true, Some(tab)) => format!("tab {tab}"),
                _ => "extension disconnected".to_owned(),
            };
        }
        let relay_pages = connections.pages.with(Vec::len);
        let local = usize::from(connections.hook.get());
        let count = relay_pages + local;
        match count {
            1 => "1 page".to_owned(),
            count => format!("{count} pages"),
        }
    };
    let pages_title = move || {
        let mut lines = Vec::new();
        if connections.hook.get() {
            lines.push("this dashboard page (in-page hook)".to_owned());
        }
        connections.pages.with(|pages| {
            for page in pages {
                lines.push(if page.title.is_empty() {
                    page.url.clone()
                } else {
                    format!("{} — {}", page.title, page.url)
                });
            }
        });
        let relay = match connections.relay.get() {
            RelayState::Open => "relay connected",
            RelayState::Connecting => "relay connecting…",
            RelayState::Unavailable => "no relay",
        };
        lines.push(relay.to_owned());
        lines.join("\n")
    };
    let relay_class = move || match connections.relay.get() {
        _ if connections
            .extension
            .with(|status| status.as_ref().is_some_and(|status| status.connected)) =>
        {
            "fs-pages live"
        }
        RelayState::Open => "fs-pages live",
        RelayState::Connecting => "fs-pages connecting",
        RelayState::Unavailable => "fs-pages",
    };

    let toggle_demo = move |_| {
        let on = !connections.demo_running.get_untracked();
        match bridge::set_demo_running(on) {
            Ok(()) => connections.demo_running.set(bridge::demo_running()),
            Err(message) => inspector.notify(message),
        }
    };

    view! {
        <header class="fs-toolbar" role="toolbar" aria-label="Capture controls">
            <span class="fs-brand">"Framescope"</span>
            <button
                data-testid="pause-button"
                aria-pressed=move || if inspector.paused.get() { "true" } else { "false" }
                title="Pause or resume capture (Ctrl+E)"
                on:click=move |_| inspector.toggle_paused()
            >
                {move || if inspector.paused.get() { "Resume" } else { "Pause" }}
            </button>
            <button
                data-testid="clear-button"
                title="Clear (Ctrl+L)"
                on:click=move |_| inspector.clear()
            >
                "Clear"
            </button>
            <label class="fs-check" title="Keep rows when an inspected page reloads">
                <input
                    type="checkbox"
                    data-testid="preserve-log"
                    prop:checked=move || inspector.preserve_log.get()
                    on:change=move |event| {
                        let on = event_target_checked(&event);
                        bridge::save_setting("preserve_log", if on { "1" } else { "0" });
                        inspector.preserve_log.set(on);
                    }
                />
                "Preserve log"
            </label>
            <span class="fs-segmented" role="group" aria-label="Rows">
                <button
                    data-testid="mode-calls"
                    aria-pressed=move || if inspector.mode.get() == ViewMode::Calls { "true" } else { "false" }
                    on:click=move |_| inspector.mode.set(ViewMode::Calls)
                >
                    "Calls"
                </button>
                <button
                    data-testid="mode-frames"
                    aria-pressed=move || if inspector.mode.get() == ViewMode::Frames { "true" } else { "false" }
                    on:click=move |_| inspector.mode.set(ViewMode::Frames)
                >
                    "Frames"
                </button>
            </span>
            <label class="fs-check" title="Group rows by WebSocket, event stream or shared-memory channel">
                <input
                    type="checkbox"
                    data-testid="group-toggle"
                    prop:checked=move || inspector.grouped.get()
                    on:change=move |event| inspector.grouped.set(event_target_checked(&event))
                />
                "Group by connection"
            </label>
            <span class="fs-filter-box">
                <input
                    class="fs-filter"
                    type="search"
                    data-testid="filter-input"
                    node_ref=filter_input
                    placeholder="Filter  (method:User.*  transport:ws  status:error  latency>100ms)   /"
                    aria-label="Filter"
                    aria-invalid=filter_invalid
                    prop:value=move || inspector.filter_text.get()
                    on:input=move |event| inspector.filter_text.set(event_target_value(&event))
                />
                <Show when=move || filter_error().is_some()>
                    <span class="fs-filter-error" data-testid="filter-error" role="alert">
                        {move || {
                            filter_error()
                                .map(|(position, message)| {
                                    let text = inspector.filter_text.get();
                                    let pointer = format!("{}^", " ".repeat(position.min(text.len())));
                                    view! {
                                        <span class="fs-filter-message">{message}</span>
                                        <pre class="fs-filter-pointer" aria-hidden="true">{text}"\n"{pointer}</pre>
                                    }
                                })
                        }}
                    </span>
                </Show>
            </span>
            <span class="fs-quick" role="group" aria-label="Quick filters">
                {(0..TRANSPORTS.len()).map(quick_transport).collect_view()}
                <button
                    class="fs-chip"
                    data-testid="toggle-errors"
                    aria-pressed=move || if inspector.quick.with(|q| q.errors_only) { "true" } else { "false" }
                    on:click=move |_| inspector.quick.update(|quick| quick.errors_only = !quick.errors_only)
                >
                    "Errors only"
                </button>
                <button
                    class="fs-chip"
                    data-testid="toggle-noise"
                    title="Hide notifications and keep-alive calls (ping, heartbeat)"
                    aria-pressed=move || if inspector.quick.with(|q| q.hide_notifications_and_pings) { "true" } else { "false" }
                    on:click=move |_| {
                        inspector.quick.update(|quick| {
                            quick.hide_notifications_and_pings = !quick.hide_notifications_and_pings
                        })
                    }
                >
                    "Hide notifications & pings"
                </button>
            </span>
            <span class="fs-spacer-flex"></span>
            <span class="fs-count" data-testid="row-count">{counts}</span>
            <Show when=has_loss>
                <span class="fs-dropped" data-testid="dropped-count" title=loss_title>
                    {loss_text}
                </span>
            </Show>
            <Show when=move || connections.demo_available.get()>
                <button
                    data-testid="demo-toggle"
                    aria-pressed=move || if connections.demo_running.get() { "true" } else { "false" }
                    title="Generate real demo traffic against the demo backends"
                    on:click=toggle_demo
                >
                    "Demo traffic"
                </button>
            </Show>
            <span class=relay_class data-testid="pages-indicator" title=pages_title>
                {pages_text}
            </span>
            <ImportButton/>
            <ExportMenu/>
            <button
                data-testid="theme-button"
                title="Switch theme"
                on:click=move |_| inspector.cycle_theme()
            >
                {move || inspector.theme.get().label()}
            </button>
        </header>
        <Show when=move || inspector.notice.with(Option::is_some)>
            <div class="fs-notice" role="status" data-testid="notice">
                {move || inspector.notice.get()}
            </div>
        </Show>
    }
}
