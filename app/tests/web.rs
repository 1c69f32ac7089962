//! App tests that run in headless Chromium through wasm-bindgen-test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;
use std::rc::Rc;

use framescope_app::bridge::{EventBatch, parse_event_array};
use framescope_app::components::{
    detail::DetailPane,
    frame_list::FrameList,
    toolbar::{Connections, Toolbar},
};
use framescope_app::state::{Inspector, Selection, ViewMode};
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn host() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("div").unwrap();
    // A fixed-size viewport so the table's window is deterministic.
    host.set_attribute(
        "style",
        "height:600px;display:grid;grid-template-rows:auto 1fr",
    )
    .unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    host.dyn_into().unwrap()
}

async fn sleep(millis: i32) {
    framescope_app::bridge::sleep_millis(millis).await;
}

fn count(host: &web_sys::HtmlElement, selector: &str) -> u32 {
    host.query_selector_all(selector).unwrap().length()
}

/// Mounts the toolbar, table and detail pane around a fresh inspector and hands it back.
fn mount_inspector(host: &web_sys::HtmlElement) -> (Inspector, impl Drop) {
    let slot: Rc<Cell<Option<Inspector>>> = Rc::new(Cell::new(None));
    let inner = Rc::clone(&slot);
    let handle = leptos::mount::mount_to(host.clone(), move || {
        let inspector = Inspector::new();
        provide_context(inspector);
        provide_context(Connections::new());
        inner.set(Some(inspector));
        let filter = NodeRef::<html::Input>::new();
        view! {
            <Toolbar filter_input=filter/>
            <main style="display:grid;grid-template-columns:1fr 1fr;min-height:0">
                <FrameList/>
                <DetailPane/>
            </main>
        }
    });
    (slot.get().unwrap(), handle)
}

/// NDJSON-shaped events: a page, a WebSocket and `calls` JSON-RPC request/response pairs
/// (every 4th answered with an error).
fn websocket_calls(calls: usize) -> EventBatch {
    let mut events = vec![
        r#"{"session_id":"t","connection_id":"page","time_micros":1000,"type":"page","url":"http://127.0.0.1/","origin":"http://127.0.0.1"}"#.to_owned(),
        r#"{"session_id":"t","connection_id":"ws-1","time_micros":1001,"type":"ws_connect","url":"ws://127.0.0.1/rpc"}"#.to_owned(),
        r#"{"session_id":"t","connection_id":"ws-1","time_micros":1002,"type":"ws_open"}"#.to_owned(),
    ];
    for id in 1..=calls {
        let method = if id % 2 == 0 {
            "user.get"
        } else {
            "order.create"
        };
        let time = 2_000 + id as u64 * 100;
        let request =
            format!(r#"{{"jsonrpc":"2.0","method":"{method}","params":{{"id":{id}}},"id":{id}}}"#);
        let response = if id % 4 == 0 {
            format!(r#"{{"jsonrpc":"2.0","error":{{"code":-32000,"message":"busy"}},"id":{id}}}"#)
        } else {
            format!(r#"{{"jsonrpc":"2.0","result":{{"ok":true}},"id":{id}}}"#)
        };
        for (direction, body, at) in [("sent", request, time), ("received", response, time + 40)] {
            events.push(format!(
                r#"{{"session_id":"t","connection_id":"ws-1","time_micros":{at},"type":"ws_message","direction":"{direction}","payload":{{"encoding":"text","data":{},"size_bytes":{}}}}}"#,
                serde_json::to_string(&body).unwrap(),
                body.len()
            ));
        }
    }
    parse_event_array(&format!("[{}]", events.join(","))).unwrap()
}

#[wasm_bindgen_test]
fn shell_mounts_every_region_with_its_empty_state() {
    let host = host();
    let handle = leptos::mount::mount_to(host.clone(), framescope_app::App);
    for test_id in [
        "app-shell",
        "frame-list",
        "detail-pane",
        "charts-area",
        "cors-panel",
        "method-stats",
        "filter-input",
        "latency-chart",
        "throughput-chart",
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
    assert!(
        host.query_selector("[data-testid='dropped-count']")
            .unwrap()
            .is_none(),
        "the loss counter is hidden while nothing was lost"
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn received_events_become_rows_and_filters_apply() {
    let host = host();
    let (inspector, handle) = mount_inspector(&host);
    inspector.receive(websocket_calls(6));
    sleep(100).await;
    assert_eq!(count(&host, "[data-testid='frame-row']"), 6);
    assert_eq!(
        host.query_selector("[data-testid='row-count']")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap(),
        "6 calls"
    );
    inspector.filter_text.set("method:user.*".to_owned());
    sleep(50).await;
    assert_eq!(count(&host, "[data-testid='frame-row']"), 3);
    inspector.filter_text.set("status:error".to_owned());
    sleep(50).await;
    assert_eq!(
        count(&host, "[data-testid='frame-row'][data-outcome='error']"),
        1
    );
    assert_eq!(count(&host, "[data-testid='frame-row']"), 1);

    // A bad query shows where it is wrong and keeps the last valid query's rows.
    inspector.filter_text.set("latency>fast".to_owned());
    sleep(50).await;
    let error = host
        .query_selector("[data-testid='filter-error']")
        .unwrap()
        .expect("an inline filter error");
    assert!(error.text_content().unwrap().contains("position"));
    let input = host
        .query_selector("[data-testid='filter-input']")
        .unwrap()
        .unwrap();
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(count(&host, "[data-testid='frame-row']"), 1);

    inspector.filter_text.set(String::new());
    inspector.mode.set(ViewMode::Frames);
    sleep(50).await;
    assert_eq!(count(&host, "[data-testid='frame-row']"), 12);
    drop(handle);
}

#[wasm_bindgen_test]
async fn only_the_rows_in_view_are_in_the_dom() {
    let host = host();
    let (inspector, handle) = mount_inspector(&host);
    inspector.receive(websocket_calls(5_000));
    // Ingested in chunks that each fit a time budget: wait for all of them.
    for _ in 0..100 {
        if inspector.rows.with_untracked(|rows| rows.total) == 5_000 {
            break;
        }
        sleep(50).await;
    }
    sleep(100).await;
    let rows = count(&host, "[data-testid='frame-row']");
    assert!(
        rows > 10 && rows < 120,
        "{rows} rows rendered for 5,000 calls"
    );
    assert_eq!(inspector.rows.with_untracked(|rows| rows.total), 5_000);
    drop(handle);
}

#[wasm_bindgen_test]
async fn pause_skips_and_counts_and_clear_empties() {
    let host = host();
    let (inspector, handle) = mount_inspector(&host);
    inspector.paused.set(true);
    inspector.receive(websocket_calls(3));
    sleep(100).await;
    assert_eq!(count(&host, "[data-testid='frame-row']"), 0);
    let loss = host
        .query_selector("[data-testid='dropped-count']")
        .unwrap()
        .expect("skipped events are counted where users see them");
    assert!(loss.text_content().unwrap().contains("skipped (paused)"));
    inspector.paused.set(false);
    inspector.receive(websocket_calls(2));
    sleep(100).await;
    assert_eq!(count(&host, "[data-testid='frame-row']"), 2);
    inspector.clear();
    sleep(50).await;
    assert_eq!(count(&host, "[data-testid='frame-row']"), 0);
    drop(handle);
}

#[wasm_bindgen_test]
async fn selecting_a_call_opens_its_details_side_by_side() {
    let host = host();
    let (inspector, handle) = mount_inspector(&host);
    inspector.receive(websocket_calls(4));
    sleep(100).await;
    let call_id = inspector
        .store
        .with_value(|store| store.session().call_at(3).unwrap().call_id);
    inspector.selected.set(Some(Selection::Call(call_id)));
    sleep(50).await;
    let detail = host
        .query_selector("[data-testid='call-detail']")
        .unwrap()
        .expect("the detail pane shows the call");
    let text = detail.text_content().unwrap();
    assert!(text.contains("user.get"), "{text}");
    assert!(text.contains("-32000: busy"), "{text}");
    assert_eq!(count(&host, "[data-testid='json-tree']"), 2);
    drop(handle);
}

#[wasm_bindgen_test]
async fn a_failed_preflighted_cross_origin_call_is_listed_in_the_cors_panel() {
    let host = host();
    let slot: Rc<Cell<Option<Inspector>>> = Rc::new(Cell::new(None));
    let inner = Rc::clone(&slot);
    let handle = leptos::mount::mount_to(host.clone(), move || {
        let inspector = Inspector::new();
        provide_context(inspector);
        inner.set(Some(inspector));
        view! { <framescope_app::components::cors_panel::CorsPanel/> }
    });
    let inspector = slot.get().unwrap();
    let batch = parse_event_array(
        r#"[{"session_id":"s","connection_id":"page","time_micros":1,"type":"page","url":"http://127.0.0.1:8000/","origin":"http://127.0.0.1:8000"},
            {"session_id":"s","connection_id":"fetch-1","time_micros":10,"type":"http_request","api":"fetch","method":"POST","url":"http://127.0.0.1:9000/gorpc","mode":"cors","credentials":"same-origin","headers":[["content-type","application/json"]],"body":{"encoding":"text","data":"{}","size_bytes":2}},
            {"session_id":"s","connection_id":"fetch-1","time_micros":20,"type":"http_failure","failure":"network","error_name":"TypeError","error_message":"Failed to fetch"}]"#,
    )
    .unwrap();
    inspector.receive(batch);
    sleep(100).await;
    let (cases, failures) = inspector.store.with_value(|store| {
        (
            store.cors_cases().count(),
            framescope_app::components::cors_panel::failure_count(store),
        )
    });
    assert_eq!((cases, failures), (1, 1));
    let failure = host
        .query_selector("[data-testid='cors-failure']")
        .unwrap()
        .unwrap_or_else(|| panic!("the failed call is not listed: {}", host.inner_html()));
    let text = failure.text_content().unwrap();
    assert!(text.contains("http://127.0.0.1:9000/gorpc"), "{text}");
    assert!(text.contains("likely blocked by the preflight"), "{text}");
    assert!(text.to_ascii_lowercase().contains("content-type"), "{text}");
    drop(handle);
}

/// The `data-selection` of every table row in DOM order, with its element.
fn table_rows(host: &web_sys::HtmlElement) -> Vec<(String, web_sys::Element)> {
    let list = host
        .query_selector_all("[data-testid='frame-row']")
        .unwrap();
    (0..list.length())
        .map(|index| {
            let row: web_sys::Element = list.item(index).unwrap().dyn_into().unwrap();
            (row.get_attribute("data-selection").unwrap(), row)
        })
        .collect()
}

fn call_number(selection: &str) -> u64 {
    selection.strip_prefix('c').unwrap().parse().unwrap()
}

#[wasm_bindgen_test]
async fn scrolling_moves_only_the_rows_entering_and_leaving_the_view() {
    let host = host();
    let (inspector, handle) = mount_inspector(&host);
    inspector.receive(websocket_calls(2_000));
    for _ in 0..100 {
        if inspector.rows.with_untracked(|rows| rows.total) == 2_000 {
            break;
        }
        sleep(50).await;
    }
    let list: web_sys::HtmlElement = host
        .query_selector("[data-testid='frame-list']")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    // The stylesheet is not loaded here: make the table scroll as the dashboard's does
    // (without scroll anchoring, which would move the view when rows come and go above).
    list.set_attribute("style", "overflow:auto;min-height:0;overflow-anchor:none")
        .unwrap();
    inspector.follow.set(false);
    sleep(50).await;
    let mut previous = Vec::new();
    // Down, then up by three rows, then a jump: after each, the rows are the window's
    // calls in order, and rows that stayed in view kept their element.
    for (step, top) in [8_000, 8_060, 8_000, 20_000].into_iter().enumerate() {
        list.set_scroll_top(top);
        let first_shown = inspector
            .store
            .with_value(|store| store.session().call_at(top as usize / 20).unwrap().call_id);
        // The window follows on the next scroll event: wait for it (a loaded machine may
        // take several frames).
        let mut rows = table_rows(&host);
        for _ in 0..100 {
            let moved = rows.first().map(|(selection, _)| selection)
                != previous.first().map(|(selection, _)| selection);
            let shows_top = rows
                .iter()
                .any(|(selection, _)| call_number(selection) == first_shown);
            if moved && shows_top {
                break;
            }
            sleep(20).await;
            rows = table_rows(&host);
        }
        assert!(rows.len() > 10, "{} rows at {top}", rows.len());
        let numbers: Vec<u64> = rows
            .iter()
            .map(|(selection, _)| call_number(selection))
            .collect();
        assert!(
            numbers.windows(2).all(|pair| pair[1] == pair[0] + 1),
            "rows out of order at {top}: {numbers:?}"
        );
        assert!(
            numbers.contains(&first_shown),
            "call at the top of the view missing"
        );
        let rebuilt = rows
            .iter()
            .filter(|(selection, element)| {
                previous
                    .iter()
                    .find(|(before, _): &&(String, web_sys::Element)| before == selection)
                    .is_none_or(|(_, before)| !before.is_same_node(Some(element)))
            })
            .count();
        match step {
            0 => assert_eq!(rebuilt, rows.len()),
            1 | 2 => {
                assert_eq!(rebuilt, 3, "a three-row scroll rebuilt {rebuilt} rows");
                // The rows that left the view were refilled for the rows that entered it.
                let left: Vec<&web_sys::Element> = previous
                    .iter()
                    .filter(|(selection, _)| rows.iter().all(|(now, _)| now != selection))
                    .map(|(_, element)| element)
                    .collect();
                assert_eq!(left.len(), 3);
                for (selection, element) in &rows {
                    if previous.iter().all(|(before, _)| before != selection) {
                        assert!(
                            left.iter().any(|old| old.is_same_node(Some(element))),
                            "{selection} got a new element"
                        );
                    }
                }
            }
            _ => assert_eq!(rebuilt, rows.len(), "nothing in common after a jump"),
        }
        previous = rows;
    }
    // A jump builds the rows in view first; the rows just above it follow in a later task.
    let above = inspector
        .store
        .with_value(|store| store.session().call_at(20_000 / 20 - 3).unwrap().call_id);
    for _ in 0..100 {
        if table_rows(&host)
            .iter()
            .any(|(selection, _)| call_number(selection) == above)
        {
            break;
        }
        sleep(20).await;
    }
    previous = table_rows(&host);
    assert!(
        previous
            .iter()
            .any(|(selection, _)| call_number(selection) == above),
        "the rows above the view after a jump"
    );

    // One listener for the body: a click on a cell selects its row, and only that row is
    // drawn selected.
    let (first, second) = (previous[2].clone(), previous[5].clone());
    let cell: web_sys::HtmlElement = first
        .1
        .query_selector("td.col-method")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    cell.click();
    sleep(30).await;
    assert_eq!(
        inspector.selected.get_untracked(),
        Some(Selection::Call(call_number(&first.0)))
    );
    assert_eq!(
        first.1.get_attribute("aria-selected").as_deref(),
        Some("true")
    );
    assert!(first.1.class_list().contains("selected"));
    second.1.dyn_ref::<web_sys::HtmlElement>().unwrap().click();
    sleep(30).await;
    assert_eq!(
        inspector.selected.get_untracked(),
        Some(Selection::Call(call_number(&second.0)))
    );
    assert!(!first.1.class_list().contains("selected"));
    assert_eq!(
        first.1.get_attribute("aria-selected").as_deref(),
        Some("false")
    );
    assert!(second.1.class_list().contains("selected"));
    assert_eq!(count(&host, "[data-testid='frame-row'].selected"), 1);

    // Group headers toggle their group when clicked.
    inspector.grouped.set(true);
    list.set_scroll_top(0);
    sleep(80).await;
    let group: web_sys::HtmlElement = host
        .query_selector("[data-testid='group-row']")
        .unwrap()
        .expect("a group header")
        .dyn_into()
        .unwrap();
    let key = group.get_attribute("data-group").unwrap();
    group.click();
    sleep(50).await;
    assert!(
        inspector
            .collapsed
            .with_untracked(|collapsed| collapsed.contains(&key))
    );
    assert_eq!(
        count(&host, "[data-testid='frame-row']"),
        0,
        "the only group is collapsed"
    );
    drop(handle);
}
