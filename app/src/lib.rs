//! Framescope's inspector UI. Every view lives under [`components`]; all data shown comes
//! from `inspector-core` through [`state::Inspector`], and [`bridge`] is the only module
//! that talks to the outside world (hook, relay, server, files, clipboard).
#![forbid(unsafe_code)]

pub mod bridge;
pub mod components;
pub mod rows;
pub mod state;
pub mod store;

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use inspector_core::view::table::{GroupedRow, step_selection};
use leptos::html;
use leptos::prelude::*;

use components::{
    charts::ChartsArea,
    cors_panel::CorsPanel,
    detail::DetailPane,
    frame_list::FrameList,
    import::import_file,
    method_stats::MethodStats,
    toolbar::{Connections, Toolbar},
};
use state::{Inspector, LowerTab, Selection, ViewMode};

/// The whole inspector: toolbar, frame list, detail pane, and the charts / statistics / CORS
/// tabs.
#[component]
pub fn App() -> impl IntoView {
    let inspector = Inspector::new();
    provide_context(inspector);
    let connections = Connections::new();
    provide_context(connections);
    let filter_input = NodeRef::<html::Input>::new();

    connect_sources(inspector, connections);
    install_shortcuts(inspector, filter_input);

    let dragging = RwSignal::new(false);
    let on_drop = move |event: web_sys::DragEvent| {
        event.prevent_default();
        dragging.set(false);
        if let Some(file) = event
            .data_transfer()
            .and_then(|transfer| transfer.files())
            .and_then(|files| files.get(0))
        {
            import_file(inspector, file);
        }
    };

    let tab = move |which: LowerTab, label: &'static str, test_id: &'static str| {
        view! {
            <button
                role="tab"
                data-testid=test_id
                aria-selected=move || if inspector.lower_tab.get() == which { "true" } else { "false" }
                on:click=move |_| inspector.lower_tab.set(which)
            >
                {label}
            </button>
        }
    };
    let cors_count = Memo::new(move |_| {
        inspector.stats_version.track();
        inspector
            .store
            .with_value(components::cors_panel::failure_count)
    });

    view! {
        <div
            class="fs-app"
            data-testid="app-shell"
            class:dragging=move || dragging.get()
            on:dragover=move |event: web_sys::DragEvent| {
                event.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <Toolbar filter_input=filter_input/>
            <main class="fs-main">
                <FrameList/>
                <DetailPane/>
            </main>
            <section class="fs-lower">
                <nav class="fs-tabs" role="tablist">
                    {tab(LowerTab::Charts, "Charts", "tab-charts")}
                    {tab(LowerTab::Methods, "Methods", "tab-methods")}
                    {move || {
                        let count = cors_count.get();
                        let label = if count > 0 { "CORS ⚠" } else { "CORS" };
                        tab(LowerTab::Cors, label, "tab-cors")
                    }}
                </nav>
                <div class="fs-tab-body">
                    // Every tab stays mounted (hidden when not chosen) so that users' scripts
                    // and tests find each panel by its data-testid.
                    <ChartsArea visible=Signal::derive(move || inspector.lower_tab.get() == LowerTab::Charts)/>
                    <div class="fs-tab-panel" hidden=move || inspector.lower_tab.get() != LowerTab::Methods>
                        <MethodStats/>
                        <components::shm_channels::ShmChannels/>
                    </div>
                    <div class="fs-tab-panel" hidden=move || inspector.lower_tab.get() != LowerTab::Cors>
                        <CorsPanel/>
                    </div>
                </div>
            </section>
            <Show when=move || dragging.get()>
                <div class="fs-drop-hint" aria-hidden="true">"Drop a capture to import it"</div>
            </Show>
        </div>
    }
}

/// Wires the bridge to the state: the extension port in the extension panel; elsewhere this
/// page's hook, the relay (when the server has one), and the demo generator.
fn connect_sources(inspector: Inspector, connections: Connections) {
    // In the extension panel everything comes through the panel port.
    let extension = bridge::use_extension_port(
        move |batch| inspector.receive(batch),
        move |_url| inspector.navigated(),
    );
    if extension.present {
        Effect::new(move |_| connections.extension.set(extension.status.get()));
        return;
    }
    // Events of this page's own hook also reach the relay when the hook relays them; the
    // sessions seen locally are skipped when they come back through the relay.
    let local_sessions: Rc<RefCell<HashSet<String>>> = Rc::new(RefCell::new(HashSet::new()));
    let local = Rc::clone(&local_sessions);
    let hook = bridge::use_hook_events(move |batch| {
        {
            let mut local = local.borrow_mut();
            for event in &batch.events {
                if !local.contains(&event.session_id) {
                    local.insert(event.session_id.clone());
                }
            }
        }
        inspector.receive(batch);
    });
    Effect::new(move |_| connections.hook.set(hook.connected.get()));

    let owner = Owner::current();
    let local_sessions = send_wrapper::SendWrapper::new(local_sessions);
    leptos::task::spawn_local(async move {
        let Some(info) = bridge::fetch_server_info().await else {
            return;
        };
        connections.demo_mode.set(info.demo);
        if !info.relay.dashboard.is_empty()
            && let Some(owner) = owner
        {
            let local_sessions = local_sessions.take();
            owner.with(|| {
                let relay = bridge::use_relay(info.relay.dashboard.clone(), move |mut batch| {
                    {
                        let local = local_sessions.borrow();
                        if !local.is_empty() {
                            batch
                                .events
                                .retain(|event| !local.contains(&event.session_id));
                        }
                    }
                    inspector.receive(batch);
                });
                Effect::new(move |_| connections.relay.set(relay.state.get()));
                Effect::new(move |_| connections.pages.set(relay.pages.get()));
            });
        }
        // The demo generator may load after the app; start it once when the server is in
        // demo mode (the user can stop it with the toolbar button).
        for _ in 0..100 {
            if bridge::demo_available() {
                connections.demo_available.set(true);
                if info.demo
                    && !bridge::demo_running()
                    && let Err(message) = bridge::set_demo_running(true)
                {
                    inspector.notify(message);
                }
                connections.demo_running.set(bridge::demo_running());
                break;
            }
            bridge::sleep_millis(100).await;
        }
    });
}

/// Keyboard shortcuts: `/` or Ctrl+F focus the filter, Ctrl+L clears, Ctrl+E pauses or
/// resumes, ↓/j and ↑/k move the selection, Escape closes the details.
fn install_shortcuts(inspector: Inspector, filter_input: NodeRef<html::Input>) {
    let handle = window_event_listener(leptos::ev::keydown, move |event| {
        let key = event.key();
        let ctrl = event.ctrl_key() || event.meta_key();
        let in_text_field = event
            .target()
            .and_then(|target| {
                use wasm_bindgen::JsCast;
                target.dyn_into::<web_sys::HtmlElement>().ok()
            })
            .is_some_and(|element| {
                matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            });
        match key.as_str() {
            "f" | "F" if ctrl => {
                event.prevent_default();
                focus(filter_input);
            }
            "/" if !in_text_field => {
                event.prevent_default();
                focus(filter_input);
            }
            "l" | "L" if ctrl => {
                event.prevent_default();
                inspector.clear();
            }
            "e" | "E" if ctrl => {
                event.prevent_default();
                inspector.toggle_paused();
            }
            "Escape" if in_text_field => {
                if let Some(input) = filter_input.get_untracked() {
                    let _ = input.blur();
                }
            }
            "Escape" => inspector.selected.set(None),
            "ArrowDown" | "j" if !in_text_field && !ctrl => {
                event.prevent_default();
                move_selection(inspector, 1);
            }
            "ArrowUp" | "k" if !in_text_field && !ctrl => {
                event.prevent_default();
                move_selection(inspector, -1);
            }
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());
}

fn focus(input: NodeRef<html::Input>) {
    if let Some(input) = input.get_untracked() {
        let _ = input.focus();
        input.select();
    }
}

fn move_selection(inspector: Inspector, step: isize) {
    let mode = inspector.mode.get_untracked();
    let selected = inspector.selected.get_untracked();
    let target = inspector.rows.with_untracked(|rows| {
        inspector.store.with_value(|store| {
            let selections: Vec<Option<Selection>> = (0..rows.lines.len())
                .map(|index| match rows.lines.get(index) {
                    Some(GroupedRow::Row(position)) => match mode {
                        ViewMode::Calls => store
                            .session()
                            .call_at(position as usize)
                            .map(|call| Selection::Call(call.call_id)),
                        ViewMode::Frames => store
                            .session()
                            .frame_at(position as usize)
                            .map(|frame| Selection::Frame(frame.frame_id)),
                    },
                    _ => None,
                })
                .collect();
            let current = selected.map(Some);
            let mut index = step_selection(&selections, current.as_ref(), step)?;
            // Skip group headers.
            while selections.get(index).is_some_and(Option::is_none) {
                let next = index.checked_add_signed(step)?;
                if next >= selections.len() {
                    return None;
                }
                index = next;
            }
            selections[index].map(|selection| (index, selection))
        })
    });
    if let Some((index, selection)) = target {
        inspector.follow.set(false);
        inspector.selected.set(Some(selection));
        inspector.reveal.set(Some(index));
    }
}
