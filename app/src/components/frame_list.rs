//! The live call/frame table, virtualized: only the rows in view (plus a few above and
//! below) are in the DOM.
//!
//! Data enters as the inspector's derived rows ([`crate::state::Inspector::rows`]) and the
//! scroll position; it leaves as `<tr>` elements kept by key in [`RenderedRows`]. A row's
//! element is built once and reused while the row stays in the window; scrolling by a few
//! rows inserts and removes only those few, in either direction, so the browser restyles
//! and lays out only what changed. Clicks are handled once for the whole body (delegation)
//! rather than by a listener per row. Captured text is only ever set as text content.

use std::collections::HashMap;

use inspector_core::view::format::{format_clock, format_latency, format_size};
use inspector_core::view::table::{
    Column, GroupedRow, SortOrder, call_direction, direction_arrow, row_window,
};
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use crate::bridge;
use crate::state::{Selection, ViewMode, use_inspector};
use crate::store::Store;

/// Height of one table row in pixels (fixed, so the window can be computed without
/// measuring rows).
pub const ROW_HEIGHT_PX: u32 = 20;
const OVERSCAN_ROWS: usize = 6;

/// One rendered line of the table, fully formatted. Used as the row's key in
/// [`RenderedRows`], so a row's DOM is rebuilt only when something it shows changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RowView {
    /// A call or frame.
    Row {
        /// What clicking the row selects.
        selection: Selection,
        /// Time, transport, direction, method, request id, outcome, latency, size.
        cells: [String; 8],
        /// The `outcome-…` class of the outcome cell and the row's `data-outcome`.
        outcome_class: &'static str,
        /// Drawn as an error.
        error: bool,
    },
    /// A connection's group header.
    Group {
        /// The group's key (what collapsing remembers).
        key: String,
        /// The header text.
        label: String,
        /// Collapsed or not.
        collapsed: bool,
    },
}

fn row_view(
    store: &Store,
    mode: ViewMode,
    line: GroupedRow,
    utc_offset_minutes: i32,
) -> Option<RowView> {
    match line {
        GroupedRow::Group(group) => Some(RowView::Group {
            key: group.key(),
            label: format!(
                "{} {}  ·  {} rows{}",
                group.transport.as_str(),
                if group.connection_id.is_empty() {
                    "requests"
                } else {
                    group.connection_id.as_str()
                },
                group.rows,
                if group.errors > 0 {
                    format!(", {} errors", group.errors)
                } else {
                    String::new()
                }
            ),
            collapsed: group.collapsed,
        }),
        GroupedRow::Row(position) => match mode {
            ViewMode::Calls => {
                let call = store.session().call_at(position as usize)?;
                let direction = call_direction(call, store.call_request_direction(call));
                Some(RowView::Row {
                    selection: Selection::Call(call.call_id),
                    cells: [
                        format_clock(call.started_micros, utc_offset_minutes),
                        call.transport.as_str().to_owned(),
                        direction.arrow().to_owned(),
                        call.method.clone(),
                        call.request_id.clone().unwrap_or_default(),
                        match call.error_code {
                            Some(code) if call.outcome.is_error() => {
                                format!("{} {code}", call.outcome.as_str())
                            }
                            _ => call.outcome.as_str().to_owned(),
                        },
                        call.latency_micros.map(format_latency).unwrap_or_default(),
                        format_size(call.request_size_bytes + call.response_size_bytes),
                    ],
                    outcome_class: call.outcome.as_str(),
                    error: call.outcome.is_error(),
                })
            }
            ViewMode::Frames => {
                let frame = store.session().frame_at(position as usize)?;
                Some(RowView::Row {
                    selection: Selection::Frame(frame.frame_id),
                    cells: [
                        format_clock(frame.time_micros, utc_offset_minutes),
                        frame.transport.as_str().to_owned(),
                        direction_arrow(frame.direction).to_owned(),
                        frame.summary.clone(),
                        String::new(),
                        if frame.malformed.is_some() {
                            "malformed".to_owned()
                        } else {
                            frame.protocol.as_str().to_owned()
                        },
                        String::new(),
                        format_size(frame.size_bytes),
                    ],
                    outcome_class: if frame.malformed.is_some() {
                        "malformed"
                    } else {
                        "ok"
                    },
                    error: frame.malformed.is_some(),
                })
            }
        },
    }
}

/// The live call/frame table: only the rows in view are in the DOM.
#[component]
pub fn FrameList() -> impl IntoView {
    let inspector = use_inspector();
    let container = NodeRef::<html::Section>::new();
    let scroll_top = RwSignal::new(0.0f64);
    let viewport_height = RwSignal::new(600.0f64);
    let utc_offset_minutes = bridge::utc_offset_minutes();

    let line_count = Memo::new(move |_| inspector.rows.with(|rows| rows.lines.len()));
    let programmatic_scroll = StoredValue::new(false);
    // Rows built above and below the view. A jump (nothing in common with the rows shown)
    // builds only the rows in view in its frame and the others in the next one, so no
    // single frame builds them all.
    let overscan_rows = RwSignal::new(OVERSCAN_ROWS);
    let anchored_version = StoredValue::new(0u64);
    // A scroll position the table already shows but the element gets only in the next
    // animation frame (writing it at once would force a layout in the middle of the update).
    let pending_top = StoredValue::new(None::<f64>);
    let window = Memo::new(move |_| {
        let (version, dropped_front) = inspector
            .rows
            .with(|rows| (rows.version, rows.dropped_front));
        let current = scroll_top.get();
        let mut top = pending_top.get_value().unwrap_or(current);
        // Rows evicted above the view: scroll up by as much, so the rows being read stay
        // in place (and their DOM is reused) instead of sliding up under the reader.
        if dropped_front > 0
            && anchored_version.get_value() != version
            && !inspector.follow.get_untracked()
        {
            anchored_version.set_value(version);
            top = (top - f64::from(ROW_HEIGHT_PX) * dropped_front as f64).max(0.0);
            let first_request = pending_top.get_value().is_none();
            pending_top.set_value(Some(top));
            if first_request {
                request_animation_frame(move || {
                    let Some(Some(top)) = pending_top.try_get_value() else {
                        return;
                    };
                    pending_top.set_value(None);
                    if let Some(element) = container.get_untracked() {
                        programmatic_scroll.set_value(true);
                        element.set_scroll_top(top as i32);
                    }
                    scroll_top.set(top);
                });
            }
        }
        row_window(
            top,
            viewport_height.get(),
            ROW_HEIGHT_PX,
            line_count.get(),
            overscan_rows.get(),
        )
    });
    let visible = Memo::new(move |_| {
        let window = window.get();
        let mode = inspector.mode.get();
        inspector.rows.with(|rows| {
            inspector.store.with_value(|store| {
                (window.first..window.end)
                    .filter_map(|index| rows.lines.get(index))
                    .filter_map(|line| row_view(store, mode, line, utc_offset_minutes))
                    .collect::<Vec<_>>()
            })
        })
    });

    // The rows in view, kept in the DOM by key between the two spacers.
    let body = NodeRef::<html::Tbody>::new();
    let top_spacer = NodeRef::<html::Tr>::new();
    let bottom_spacer = NodeRef::<html::Tr>::new();
    let rendered = StoredValue::new_local(RenderedRows::default());
    Effect::new(move |_| {
        let (Some(body), Some(top_spacer), Some(bottom_spacer)) =
            (body.get(), top_spacer.get(), bottom_spacer.get())
        else {
            return;
        };
        let selected = inspector.selected.get_untracked();
        visible.with(|views| {
            rendered.update_value(|rendered| {
                if let Err(error) =
                    rendered.show(&body, [&top_spacer, &bottom_spacer], views, selected)
                {
                    leptos::logging::warn!("table rows not updated: {error:?}");
                }
            });
        });
    });
    Effect::new(move |_| {
        let selected = inspector.selected.get();
        rendered.update_value(|rendered| rendered.mark_selected(selected));
    });
    let on_row_click = move |event: web_sys::MouseEvent| {
        let Some(row) = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .and_then(|element| element.closest("tr").ok().flatten())
        else {
            return;
        };
        if let Some(selection) = row
            .get_attribute(SELECTION_ATTRIBUTE)
            .as_deref()
            .and_then(parse_selection)
        {
            inspector.selected.set(Some(selection));
        } else if let Some(key) = row.get_attribute("data-group") {
            inspector.collapsed.update(|collapsed| {
                if !collapsed.remove(&key) {
                    collapsed.insert(key);
                }
            });
        }
    };

    let measure = move || {
        if let Some(element) = container.get_untracked() {
            viewport_height.set(f64::from(element.client_height()));
        }
    };
    Effect::new(move |_| {
        if container.get().is_some() {
            measure();
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    let user_scrolling = StoredValue::new(false);
    // Sticky auto-scroll: follow new rows while the user is at the bottom.
    Effect::new(move |_| {
        let count = line_count.get();
        let sorted_by_time = inspector.sort.get() == (Column::Time, SortOrder::Ascending);
        if !inspector.follow.get() || !sorted_by_time || count == 0 {
            return;
        }
        // After the frame's DOM update, so the new rows' height is already there.
        request_animation_frame(move || {
            if !inspector.follow.get_untracked() {
                return;
            }
            if let Some(element) = container.get_untracked() {
                programmatic_scroll.set_value(true);
                element.set_scroll_top(element.scroll_height());
                scroll_top.set(f64::from(element.scroll_top()));
            }
        });
    });
    // Keyboard navigation asks for a line to be revealed.
    Effect::new(move |_| {
        let Some(line) = inspector.reveal.get() else {
            return;
        };
        let Some(element) = container.get_untracked() else {
            return;
        };
        let header = ROW_HEIGHT_PX as i32 + 4;
        let row_top = line as i32 * ROW_HEIGHT_PX as i32;
        let top = element.scroll_top();
        let height = element.client_height() - header;
        if row_top < top {
            element.set_scroll_top(row_top);
        } else if row_top + ROW_HEIGHT_PX as i32 > top + height {
            element.set_scroll_top(row_top + ROW_HEIGHT_PX as i32 - height);
        }
        scroll_top.set(f64::from(element.scroll_top()));
    });

    let on_scroll = move |_| {
        let Some(element) = container.get_untracked() else {
            return;
        };
        let top = f64::from(element.scroll_top());
        let previous = scroll_top.get_untracked();
        if programmatic_scroll.get_value() {
            programmatic_scroll.set_value(false);
            scroll_top.set(top);
            return;
        }
        // The user's own scrolling wins over a pending anchor adjustment.
        pending_top.set_value(None);
        let jump = (top - previous).abs() > viewport_height.get_untracked();
        if jump && overscan_rows.get_untracked() > 0 {
            overscan_rows.set(0);
            // A task of its own: an animation frame callback asked for from a scroll event
            // would still run in this frame.
            set_timeout(
                move || {
                    if overscan_rows.try_get_untracked() == Some(0) {
                        overscan_rows.set(OVERSCAN_ROWS);
                    }
                },
                std::time::Duration::ZERO,
            );
        }
        scroll_top.set(top);
        let at_bottom = element.scroll_top() + element.client_height()
            >= element.scroll_height() - 2 * ROW_HEIGHT_PX as i32;
        if at_bottom {
            if !inspector.follow.get_untracked() {
                inspector.follow.set(true);
            }
        } else if top < previous - 1.0
            && user_scrolling.get_value()
            && inspector.follow.get_untracked()
        {
            // Only the user's own scrolling stops following: a resize that clamps the
            // scroll position must not.
            inspector.follow.set(false);
        }
    };
    let on_pointer_down = move |_| user_scrolling.set_value(true);
    let pointer_up = window_event_listener(leptos::ev::pointerup, move |_| {
        user_scrolling.set_value(false);
    });
    on_cleanup(move || pointer_up.remove());
    let on_key_down = move |event: web_sys::KeyboardEvent| {
        if matches!(event.key().as_str(), "PageUp" | "Home" | "ArrowUp")
            && inspector.follow.get_untracked()
        {
            inspector.follow.set(false);
        }
    };
    let on_wheel = move |event: web_sys::WheelEvent| {
        if event.delta_y() < 0.0 && inspector.follow.get_untracked() {
            inspector.follow.set(false);
        }
    };

    let header = move || {
        let (sorted_column, order) = inspector.sort.get();
        let frames = inspector.mode.get() == ViewMode::Frames;
        Column::ALL
            .into_iter()
            .map(|column| {
                let title = match (column, frames) {
                    (Column::Method, true) => "Summary",
                    (Column::Outcome, true) => "Decoded as",
                    _ => column.title(),
                };
                let aria_sort = if column == sorted_column {
                    match order {
                        SortOrder::Ascending => "ascending",
                        SortOrder::Descending => "descending",
                    }
                } else {
                    "none"
                };
                let arrow = if column == sorted_column {
                    match order {
                        SortOrder::Ascending => " ▲",
                        SortOrder::Descending => " ▼",
                    }
                } else {
                    ""
                };
                view! {
                    <th
                        class=format!("col-{}", column.title().to_ascii_lowercase())
                        aria-sort=aria_sort
                        data-column=column.title()
                        on:click=move |_| inspector.sort_by(column)
                    >
                        {title}
                        {arrow}
                    </th>
                }
            })
            .collect_view()
    };

    // Set as a style property, not the whole style attribute (no re-parse per scroll).
    let space_above = move || format!("{}px", window.get().space_above_px);
    let space_below = move || format!("{}px", window.get().space_below_px);
    let empty = move || inspector.rows.with(|rows| rows.total == 0);
    let nothing_matches = move || {
        inspector
            .rows
            .with(|rows| rows.total > 0 && rows.lines.is_empty())
    };

    view! {
        <section
            class="fs-frames"
            aria-label="Frames"
            data-testid="frame-list"
            node_ref=container
            on:scroll=on_scroll
            on:wheel=on_wheel
            on:pointerdown=on_pointer_down
            on:keydown=on_key_down
        >
            <table class="fs-table" role="grid">
                <thead>
                    <tr>{header}</tr>
                </thead>
                <tbody node_ref=body on:click=on_row_click>
                    <tr class="fs-spacer" style:height=space_above aria-hidden="true" node_ref=top_spacer></tr>
                    <tr class="fs-spacer" style:height=space_below aria-hidden="true" node_ref=bottom_spacer></tr>
                </tbody>
            </table>
            <Show when=empty>
                <div class="fs-empty" data-testid="frames-empty">
                    "No frames captured yet"
                </div>
            </Show>
            <Show when=nothing_matches>
                <div class="fs-empty" data-testid="frames-no-match">
                    "No rows match the filter"
                </div>
            </Show>
        </section>
    }
}

/// The attribute of a row's `<tr>` that names what clicking it selects.
const SELECTION_ATTRIBUTE: &str = "data-selection";

fn selection_attribute(selection: Selection) -> String {
    match selection {
        Selection::Call(call_id) => format!("c{call_id}"),
        Selection::Frame(frame_id) => format!("f{frame_id}"),
    }
}

fn parse_selection(text: &str) -> Option<Selection> {
    match text.split_at_checked(1)? {
        ("c", id) => id.parse().ok().map(Selection::Call),
        ("f", id) => id.parse().ok().map(Selection::Frame),
        _ => None,
    }
}

fn row_class(error: bool, selected: bool) -> &'static str {
    match (error, selected) {
        (false, false) => "",
        (true, false) => "error",
        (false, true) => "selected",
        (true, true) => "error selected",
    }
}

/// The `<tr>` elements of the rows in view, in table order, each under its [`RowView`].
#[derive(Default)]
struct RenderedRows {
    rows: Vec<(RowView, web_sys::Element)>,
    selected: Option<Selection>,
    templates: RowTemplates,
    /// Row elements that left the view, refilled for rows entering it.
    spare_rows: Vec<web_sys::Element>,
}

/// Row elements kept for reuse (more than a screenful is never needed at once).
const SPARE_ROWS: usize = 128;

impl RenderedRows {
    /// Makes the rows between the `spacers` in `body` show `views`, in order: rows already
    /// shown keep their element (moved only when their order changed), the others are
    /// built, and rows no longer in view are removed. When most rows go (a jump), the body's
    /// children are replaced at once: removing table rows one by one costs the browser a
    /// table-structure update each.
    fn show(
        &mut self,
        body: &web_sys::HtmlTableSectionElement,
        spacers: [&web_sys::HtmlTableRowElement; 2],
        views: &[RowView],
        selected: Option<Selection>,
    ) -> Result<(), JsValue> {
        let document = body
            .owner_document()
            .ok_or("the table is not in a document")?;
        let mut previous: HashMap<RowView, web_sys::Element> = self.rows.drain(..).collect();
        let mut slots: Vec<Option<web_sys::Element>> =
            views.iter().map(|view| previous.remove(view)).collect();
        let kept = slots.iter().filter(|slot| slot.is_some()).count();
        let replace_all = previous.len() > kept;
        for (view, element) in previous {
            if !replace_all {
                element.remove();
            }
            // Rows that left the view are refilled for the rows entering it: no new DOM
            // (and no garbage for the collector) while scrolling.
            if matches!(view, RowView::Row { .. }) && self.spare_rows.len() < SPARE_ROWS {
                self.spare_rows.push(element);
            }
        }
        let mut next = Vec::with_capacity(views.len());
        for (view, slot) in views.iter().zip(&mut slots) {
            let element = match slot.take() {
                Some(element) => element,
                None => match (view, self.spare_rows.pop()) {
                    (RowView::Row { .. }, Some(spare)) => {
                        fill_row(&spare, view, selected)?;
                        spare
                    }
                    _ => self.templates.build(&document, view, selected)?,
                },
            };
            next.push((view.clone(), element));
        }
        if replace_all {
            let children = js_sys::Array::new_with_length(next.len() as u32 + 2);
            children.set(0, spacers[0].into());
            for (index, (_, element)) in next.iter().enumerate() {
                children.set(index as u32 + 1, element.into());
            }
            children.set(next.len() as u32 + 1, spacers[1].into());
            body.replace_children_with_node(&children);
        } else {
            // Walk the DOM after the top spacer: a row already in its place stays, any
            // other is inserted (or moved) before the first row not yet in place.
            let mut cursor: Option<web_sys::Node> = spacers[0].next_sibling();
            for (_, element) in &next {
                let in_place = cursor
                    .as_ref()
                    .is_some_and(|node| node.is_same_node(Some(element)));
                if in_place {
                    cursor = element.next_sibling();
                } else {
                    body.insert_before(element, cursor.as_ref())?;
                }
            }
        }
        self.rows = next;
        self.selected = selected;
        Ok(())
    }

    /// Highlights the row of `selected` (and no other).
    fn mark_selected(&mut self, selected: Option<Selection>) {
        if self.selected == selected {
            return;
        }
        for (view, element) in &self.rows {
            let RowView::Row {
                selection, error, ..
            } = view
            else {
                continue;
            };
            let was = self.selected == Some(*selection);
            let is = selected == Some(*selection);
            if was != is {
                element.set_class_name(row_class(*error, is));
                // Setting an attribute on a live element cannot fail.
                let _ = element.set_attribute("aria-selected", if is { "true" } else { "false" });
            }
        }
        self.selected = selected;
    }
}

/// Empty rows cloned for each new row: one clone instead of creating and classing every
/// cell through its own calls.
#[derive(Default)]
struct RowTemplates {
    row: Option<web_sys::Element>,
    group: Option<web_sys::Element>,
}

/// Classes of a row's cells, in column order (the outcome cell gets its outcome class too).
const CELL_CLASSES: [&str; 8] = [
    "col-time",
    "col-transport",
    "col-dir",
    "col-method",
    "col-id",
    "col-outcome",
    "col-latency",
    "col-size",
];

impl RowTemplates {
    fn row_template(&mut self, document: &web_sys::Document) -> Result<web_sys::Element, JsValue> {
        if let Some(row) = &self.row {
            return Ok(row.clone());
        }
        let row = document.create_element("tr")?;
        row.set_attribute("data-testid", "frame-row")?;
        for class in CELL_CLASSES {
            let cell = document.create_element("td")?;
            cell.set_class_name(class);
            cell.append_child(&document.create_text_node(""))?;
            row.append_child(&cell)?;
        }
        self.row = Some(row.clone());
        Ok(row)
    }

    fn group_template(
        &mut self,
        document: &web_sys::Document,
    ) -> Result<web_sys::Element, JsValue> {
        if let Some(row) = &self.group {
            return Ok(row.clone());
        }
        let row = document.create_element("tr")?;
        row.set_class_name("fs-group");
        row.set_attribute("data-testid", "group-row")?;
        let cell = document.create_element("td")?;
        cell.set_attribute("colspan", "8")?;
        let twisty = document.create_element("span")?;
        twisty.set_class_name("fs-twisty");
        twisty.append_child(&document.create_text_node(""))?;
        cell.append_child(&twisty)?;
        cell.append_child(&document.create_text_node(""))?;
        row.append_child(&cell)?;
        self.group = Some(row.clone());
        Ok(row)
    }

    /// Builds the `<tr>` of `view` (text only through text nodes, never as HTML).
    fn build(
        &mut self,
        document: &web_sys::Document,
        view: &RowView,
        selected: Option<Selection>,
    ) -> Result<web_sys::Element, JsValue> {
        match view {
            RowView::Group {
                key,
                label,
                collapsed,
            } => {
                let row: web_sys::Element = self
                    .group_template(document)?
                    .clone_node_with_deep(true)?
                    .unchecked_into();
                row.set_attribute("data-group", key)?;
                let cell = row.first_child().ok_or("group template without a cell")?;
                let twisty = cell
                    .first_child()
                    .ok_or("group template without a twisty")?;
                if let Some(text) = twisty.first_child() {
                    text.set_node_value(Some(if *collapsed { "▸ " } else { "▾ " }));
                }
                if let Some(text) = cell.last_child() {
                    text.set_node_value(Some(label));
                }
                Ok(row)
            }
            RowView::Row { .. } => {
                let row: web_sys::Element = self
                    .row_template(document)?
                    .clone_node_with_deep(true)?
                    .unchecked_into();
                fill_row(&row, view, selected)?;
                Ok(row)
            }
        }
    }
}

/// Writes everything `view` shows into a row element made from the row template (a fresh
/// clone or a row that left the view): classes, attributes and the text of every cell.
fn fill_row(
    row: &web_sys::Element,
    view: &RowView,
    selected: Option<Selection>,
) -> Result<(), JsValue> {
    let RowView::Row {
        selection,
        cells,
        outcome_class,
        error,
    } = view
    else {
        return Err("a group header is not a row".into());
    };
    let is_selected = selected == Some(*selection);
    row.set_class_name(row_class(*error, is_selected));
    row.set_attribute("data-transport", &cells[1])?;
    row.set_attribute("data-outcome", outcome_class)?;
    row.set_attribute(SELECTION_ATTRIBUTE, &selection_attribute(*selection))?;
    row.set_attribute("aria-selected", if is_selected { "true" } else { "false" })?;
    let mut cell = row.first_child();
    for (index, text) in cells.iter().enumerate() {
        let Some(node) = cell else {
            return Err("row template with too few cells".into());
        };
        if let Some(text_node) = node.first_child() {
            text_node.set_node_value(Some(text));
        }
        let element: &web_sys::Element = node.unchecked_ref();
        match index {
            3 => element.set_attribute("title", text)?,
            5 => element.set_class_name(&format!("col-outcome outcome-{outcome_class}")),
            _ => {}
        }
        cell = node.next_sibling();
    }
    Ok(())
}
