//! App tests that run in headless Chromium through wasm-bindgen-test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn shell_mounts_every_region_with_its_empty_state() {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone().dyn_into().unwrap(), framescope_app::App);
    for test_id in [
        "app-shell",
        "frame-list",
        "detail-pane",
        "charts-area",
        "cors-panel",
        "filter-input",
    ] {
        let selector = format!("[data-testid='{test_id}']");
        assert!(
            host.query_selector(&selector).unwrap().is_some(),
            "missing {test_id}"
        );
    }
    let empty = host
        .query_selector("[data-testid='frames-empty']")
        .unwrap()
        .unwrap();
    assert_eq!(empty.text_content().unwrap(), "No frames captured yet");
    drop(handle);
}

use wasm_bindgen::JsCast;
