use std::collections::BTreeMap;

use inspector_core::decode::ProtocolChoice;
use inspector_core::decode::binary::{BinaryLayout, ByteOrder};
use leptos::prelude::*;

use crate::bridge;
use crate::state::{Inspector, Selection, use_inspector};

const SETTING_KEY: &str = "decode_as";

/// Decode-as choices remembered per endpoint (URL without query), applied at start-up.
pub fn remembered_choices() -> BTreeMap<String, ProtocolChoice> {
    bridge::load_setting(SETTING_KEY)
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn remember(endpoint: &str, choice: &ProtocolChoice) {
    let mut choices = remembered_choices();
    if *choice == ProtocolChoice::Auto {
        choices.remove(endpoint);
    } else {
        choices.insert(endpoint.to_owned(), choice.clone());
    }
    if let Ok(text) = serde_json::to_string(&choices) {
        bridge::save_setting(SETTING_KEY, &text);
    }
}

fn preset(name: &str) -> Option<ProtocolChoice> {
    Some(match name {
        "auto" => ProtocolChoice::Auto,
        "jsonrpc" => ProtocolChoice::JsonRpc,
        "cafe" => ProtocolChoice::Binary {
            layout: BinaryLayout::cafe(),
        },
        "cafe-le" => ProtocolChoice::Binary {
            layout: BinaryLayout::cafe().with_byte_order(ByteOrder::LittleEndian),
        },
        "grpc-web" => ProtocolChoice::GrpcWeb,
        "grpc-web-frames" => ProtocolChoice::Binary {
            layout: BinaryLayout::grpc_web(),
        },
        "raw" => ProtocolChoice::Raw,
        _ => return None,
    })
}

fn apply(inspector: Inspector, connection_id: &str, choice: ProtocolChoice) -> Result<(), String> {
    let endpoint = inspector.store.with_value(|store| {
        store
            .session()
            .connection(connection_id)
            .map(|info| info.url.clone())
            .filter(|url| !url.is_empty())
    });
    let mut result = Ok(());
    inspector.store.update_value(|store| {
        let session = store.session_mut();
        result = match &endpoint {
            // Per endpoint, so the choice also holds for the next socket to the same URL and
            // survives a reload.
            Some(url) => session.set_endpoint_protocol(url, choice.clone()),
            None => session.set_protocol(connection_id, choice.clone()),
        }
        .map_err(|error| error.to_string());
        store.refresh_stats();
    });
    result?;
    if let Some(url) = endpoint {
        remember(url.split(['?', '#']).next().unwrap_or(&url), &choice);
    }
    inspector.store_changed();
    // Decoding again renumbers calls and frames: keep the details on this connection (its
    // first call, or frame) instead of whatever now has the old id.
    let reselect = inspector.store.with_value(|store| {
        let session = store.session();
        session
            .calls()
            .find(|call| call.connection_id == connection_id)
            .map(|call| Selection::Call(call.call_id))
            .or_else(|| {
                session
                    .frames()
                    .find(|frame| frame.connection_id == connection_id)
                    .map(|frame| Selection::Frame(frame.frame_id))
            })
    });
    inspector.selected.set(reselect);
    Ok(())
}

/// Choose or edit how a connection's payloads are decoded; applied to everything retained
/// and to what arrives next, and remembered for the endpoint.
#[component]
pub fn DecodeAs(connection_id: String) -> impl IntoView {
    let inspector = use_inspector();
    let current = inspector.store.with_value(|store| {
        let session = store.session();
        let url = session
            .connection(&connection_id)
            .map(|info| info.url.clone())
            .unwrap_or_default();
        let config = session.config();
        config
            .protocol_overrides
            .get(&connection_id)
            .or_else(|| {
                config
                    .endpoint_overrides
                    .get(url.split(['?', '#']).next().unwrap_or(""))
            })
            .cloned()
            .or_else(|| {
                session
                    .connection(&connection_id)
                    .and_then(|info| info.layout.clone())
                    .map(|layout| ProtocolChoice::Binary { layout })
            })
            .unwrap_or_default()
    });
    let layout_text = RwSignal::new(match &current {
        ProtocolChoice::Binary { layout } => {
            serde_json::to_string_pretty(layout).unwrap_or_default()
        }
        _ => serde_json::to_string_pretty(&BinaryLayout::cafe()).unwrap_or_default(),
    });
    let message = RwSignal::new(None::<Result<String, String>>);
    let connection = StoredValue::new(connection_id);
    let choose = move |name: String| {
        let Some(choice) = preset(&name) else {
            return;
        };
        if let ProtocolChoice::Binary { layout } = &choice {
            layout_text.set(serde_json::to_string_pretty(layout).unwrap_or_default());
        }
        let connection_id = connection.get_value();
        let result = apply(inspector, &connection_id, choice);
        if result.is_ok() {
            // The details may show another row of the connection now: say it in the status
            // line too.
            inspector.notify(format!("Decoding {connection_id} as {name}"));
        }
        message.set(Some(result.map(|()| format!("Decoding as {name}"))));
    };
    let apply_custom = move |_| {
        let text = layout_text.get_untracked();
        let result = serde_json::from_str::<BinaryLayout>(&text)
            .map_err(|error| {
                format!(
                    "layout JSON, line {}, column {}: {error}",
                    error.line(),
                    error.column()
                )
            })
            .and_then(|layout| {
                apply(
                    inspector,
                    &connection.get_value(),
                    ProtocolChoice::Binary { layout },
                )
                .map(|()| "Custom layout applied".to_owned())
            });
        message.set(Some(result));
    };
    let current_label = match &current {
        ProtocolChoice::Auto => "auto-detected".to_owned(),
        ProtocolChoice::JsonRpc => "JSON-RPC".to_owned(),
        ProtocolChoice::Binary { layout } => {
            format!("binary layout “{}” ({:?})", layout.name, layout.byte_order)
        }
        ProtocolChoice::GrpcWeb => "gRPC-web".to_owned(),
        ProtocolChoice::Raw => "raw".to_owned(),
    };
    view! {
        <div class="fs-decode-as" data-testid="decode-as">
            <span>{format!("Now: {current_label}. Decode as:")}</span>
            <select
                data-testid="decode-as-preset"
                on:change=move |event| choose(event_target_value(&event))
            >
                <option value="" selected>"Choose…"</option>
                <option value="auto">"Auto-detect"</option>
                <option value="jsonrpc">"JSON-RPC"</option>
                <option value="cafe">"0xCAFE (big-endian)"</option>
                <option value="cafe-le">"0xCAFE (little-endian)"</option>
                <option value="grpc-web">"gRPC-web"</option>
                <option value="grpc-web-frames">"gRPC-web framing (binary layout)"</option>
                <option value="raw">"Raw"</option>
            </select>
            <details>
                <summary>"Edit a binary layout"</summary>
                <textarea
                    data-testid="decode-as-layout"
                    spellcheck="false"
                    prop:value=move || layout_text.get()
                    on:input=move |event| layout_text.set(event_target_value(&event))
                ></textarea>
                <button data-testid="decode-as-apply" on:click=apply_custom>"Apply layout"</button>
            </details>
            {move || message.get().map(|result| match result {
                Ok(text) => view! { <span class="fs-ok-text">{text}</span> }.into_any(),
                Err(text) => view! { <span class="fs-error-text" role="alert">{text}</span> }.into_any(),
            })}
        </div>
    }
}
