//! The dashboard's export path in headless Chromium (wasm-bindgen-test): the store's raw-event
//! retention under small caps, what an export says about evicted events, and the Export menu
//! showing it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use framescope_app::components::export_menu::ExportMenu;
use framescope_app::state::Inspector;
use framescope_app::store::Store;
use inspector_core::event::{CaptureEvent, parse_event_line};
use inspector_core::export::ExportFormat;
use inspector_core::export::session::import_session;
use inspector_core::session::SessionConfig;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A page, a WebSocket and `calls` JSON-RPC request/response pairs.
fn events(calls: usize) -> Vec<CaptureEvent> {
    let mut lines = vec![
        r#"{"session_id":"t","connection_id":"page","time_micros":1000,"type":"page","url":"http://127.0.0.1/"}"#.to_owned(),
        r#"{"session_id":"t","connection_id":"ws-1","time_micros":1001,"type":"ws_connect","url":"ws://127.0.0.1/rpc","protocols":["jsonrpc"]}"#.to_owned(),
        r#"{"session_id":"t","connection_id":"ws-1","time_micros":1002,"type":"ws_open","protocol":"jsonrpc"}"#.to_owned(),
    ];
    for id in 1..=calls {
        let time = 2_000 + id as u64 * 100;
        for (direction, body, at) in [
            (
                "sent",
                format!(
                    r#"{{"jsonrpc":"2.0","method":"user.get","params":{{"token":"tk-{id}"}},"id":{id}}}"#
                ),
                time,
            ),
            (
                "received",
                format!(r#"{{"jsonrpc":"2.0","result":{{}},"id":{id}}}"#),
                time + 40,
            ),
        ] {
            lines.push(format!(
                r#"{{"session_id":"t","connection_id":"ws-1","time_micros":{at},"type":"ws_message","direction":"{direction}","payload":{{"encoding":"text","data":{},"size_bytes":{}}}}}"#,
                serde_json::to_string(&body).unwrap(),
                body.len()
            ));
        }
    }
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| parse_event_line(line, index + 1).unwrap())
        .collect()
}

fn small_store(max_frames: usize) -> Store {
    Store::with_config(SessionConfig {
        max_frames,
        ..SessionConfig::default()
    })
}

#[wasm_bindgen_test]
fn store_keeps_raw_events_under_the_session_caps_and_says_what_it_evicted() {
    let mut store = small_store(6);
    store.ingest(&events(5), 10_000);
    // 3 + 10 events, at most 6 kept.
    assert_eq!(store.retained_events(), 6);
    assert_eq!(store.evicted_events().events, 7);
    let output = store
        .export(ExportFormat::Session, true, 10_000, None)
        .unwrap();
    assert!(
        output.notes.contains(
            &"7 event(s) older than the retention limit are not in this export".to_owned()
        ),
        "{:?}",
        output.notes
    );
    let file = import_session(&output.text).unwrap();
    assert_eq!(file.evicted.events, 7);
    assert_eq!(file.events.len(), 6);
    assert_eq!(file.finished_micros, Some(10_000));
    assert!(!output.text.contains("tk-5"), "redacted by default");
    let raw = store
        .export(ExportFormat::Session, false, 10_000, None)
        .unwrap();
    assert!(raw.text.contains("tk-5"));
    // The subprotocols the socket asked for are known while its ws_connect is retained.
    let mut roomy = small_store(1_000);
    roomy.ingest(&events(2), 10_000);
    assert_eq!(
        roomy.ws_requested_protocols("t", "ws-1"),
        Some(vec!["jsonrpc".to_owned()])
    );
    roomy.clear();
    assert_eq!(roomy.retained_events(), 0);
    assert_eq!(roomy.ws_requested_protocols("t", "ws-1"), None);
}

#[wasm_bindgen_test]
async fn export_menu_says_how_many_events_an_export_lacks() {
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let slot = std::rc::Rc::new(std::cell::Cell::new(None::<Inspector>));
    let inner = std::rc::Rc::clone(&slot);
    let _handle = leptos::mount::mount_to(host.clone(), move || {
        let inspector = Inspector::new();
        provide_context(inspector);
        inner.set(Some(inspector));
        view! { <ExportMenu/> }
    });
    let inspector = slot.get().unwrap();
    let mut store = small_store(4);
    store.ingest(&events(3), 10_000);
    inspector.store.set_value(store);
    inspector.version.update(|version| *version += 1);
    let toggle: web_sys::HtmlElement = host
        .query_selector("[data-testid='export-menu']")
        .unwrap()
        .unwrap()
        .unchecked_into();
    toggle.click();
    framescope_app::bridge::sleep_millis(50).await;
    let retention = host
        .query_selector("[data-testid='export-retention']")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap();
    assert_eq!(
        retention,
        "4 events retained; 5 event(s) older than the retention limit are not in this export"
    );
    for test_id in [
        "export-har",
        "export-session",
        "export-otlp",
        "export-redact",
    ] {
        assert!(
            host.query_selector(&format!("[data-testid='{test_id}']"))
                .unwrap()
                .is_some(),
            "missing {test_id}"
        );
    }
}
