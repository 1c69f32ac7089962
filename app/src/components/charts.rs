use std::ops::Range;

use inspector_core::model::{Call, Outcome};
use inspector_core::session::Session;
use inspector_core::stats::HistogramBucket;
use inspector_core::view::format::{format_latency, format_rate};
use inspector_core::view::table::{Column, GroupedRow, RowSource, SortOrder, transport_index};
use inspector_core::view::timeline::{
    TimelineBucket, WaterfallBar, active_transports, timeline, waterfall,
};
use leptos::html;
use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;

use crate::bridge;
use crate::rows::{self, RowSettings};
use crate::state::{Lines, ViewMode, use_inspector};
use crate::store::Store;

/// Seconds shown by the time charts.
const TIMELINE_SECONDS: usize = 60;
/// Fewest seconds shown, so a capture of a few seconds still has an x axis to read.
const MIN_TIMELINE_SECONDS: usize = 10;
/// Calls shown by the waterfall.
const WATERFALL_CALLS: usize = 40;

/// What a pointer position over a chart shows: the plotting area's pixel range on one axis,
/// split evenly into one slot per label.
#[derive(Debug, Clone, Default)]
struct HoverIndex {
    vertical: bool,
    pixels: Range<i32>,
    labels: Vec<String>,
}

impl HoverIndex {
    fn label_at(&self, x: i32, y: i32) -> Option<&str> {
        let position = if self.vertical { y } else { x };
        if self.labels.is_empty() || !self.pixels.contains(&position) {
            return None;
        }
        let width = (self.pixels.end - self.pixels.start).max(1) as usize;
        let index = (position - self.pixels.start) as usize * self.labels.len() / width;
        self.labels.get(index).map(String::as_str)
    }
}

/// Colours read from the page's CSS variables, so charts follow the theme.
#[derive(Debug, Clone, Copy)]
struct Palette {
    background: RGBColor,
    foreground: RGBColor,
    muted: RGBColor,
    grid: RGBColor,
    error: RGBColor,
    ok: RGBColor,
    warn: RGBColor,
}

fn css_color(style: &web_sys::CssStyleDeclaration, name: &str, fallback: RGBColor) -> RGBColor {
    let value = style.get_property_value(name).unwrap_or_default();
    let hex = value.trim().trim_start_matches('#');
    if hex.len() != 6 {
        return fallback;
    }
    let channel = |range: Range<usize>| u8::from_str_radix(&hex[range], 16).ok();
    match (channel(0..2), channel(2..4), channel(4..6)) {
        (Some(r), Some(g), Some(b)) => RGBColor(r, g, b),
        _ => fallback,
    }
}

fn palette() -> Palette {
    let style = web_sys::window().and_then(|window| {
        let root = window.document()?.document_element()?;
        window.get_computed_style(&root).ok().flatten()
    });
    let Some(style) = style else {
        return Palette {
            background: WHITE,
            foreground: BLACK,
            muted: RGBColor(110, 110, 110),
            grid: RGBColor(220, 220, 220),
            error: RGBColor(207, 34, 46),
            ok: RGBColor(26, 127, 55),
            warn: RGBColor(154, 103, 0),
        };
    };
    Palette {
        background: css_color(&style, "--bg", WHITE),
        foreground: css_color(&style, "--fg", BLACK),
        muted: css_color(&style, "--muted", RGBColor(110, 110, 110)),
        grid: css_color(&style, "--bg-alt", RGBColor(230, 230, 230)),
        error: css_color(&style, "--error", RGBColor(207, 34, 46)),
        ok: css_color(&style, "--ok", RGBColor(26, 127, 55)),
        warn: css_color(&style, "--warn", RGBColor(154, 103, 0)),
    }
}

fn transport_color(index: usize) -> RGBColor {
    [
        RGBColor(9, 105, 218),
        RGBColor(130, 80, 223),
        RGBColor(26, 127, 55),
        RGBColor(207, 105, 0),
    ][index % 4]
}

type DrawResult = Result<HoverIndex, String>;

fn prepare(
    canvas: &web_sys::HtmlCanvasElement,
) -> Result<DrawingArea<CanvasBackend, Shift>, String> {
    // Match the drawing buffer to the element's size so text is not stretched.
    let width = canvas.client_width().max(1) as u32;
    let height = canvas.client_height().max(1) as u32;
    if canvas.width() != width {
        canvas.set_width(width);
    }
    if canvas.height() != height {
        canvas.set_height(height);
    }
    let backend = CanvasBackend::with_canvas_object(canvas.clone())
        .ok_or_else(|| "the canvas has no 2D context".to_owned())?;
    Ok(backend.into_drawing_area())
}

fn text_style(palette: &Palette) -> TextStyle<'static> {
    ("sans-serif", 10).into_font().color(&palette.muted)
}

fn draw_histogram(
    canvas: &web_sys::HtmlCanvasElement,
    palette: &Palette,
    buckets: &[HistogramBucket],
) -> DrawResult {
    let root = prepare(canvas)?;
    root.fill(&palette.background)
        .map_err(|error| error.to_string())?;
    let max_count = buckets
        .iter()
        .map(|bucket| bucket.count)
        .max()
        .unwrap_or(0)
        .max(1);
    let count = buckets.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .margin(6)
        .x_label_area_size(20)
        .y_label_area_size(40)
        .build_cartesian_2d(0f64..count as f64, 0f64..max_count as f64 * 1.1)
        .map_err(|error| error.to_string())?;
    let label = |index: &f64| -> String {
        buckets
            .get(*index as usize)
            .map(|bucket| format_latency(bucket.upper_micros))
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(palette.grid)
        .bold_line_style(palette.grid)
        .axis_style(palette.muted)
        .label_style(text_style(palette))
        .x_labels(6)
        .x_label_formatter(&label)
        .y_labels(4)
        .y_label_formatter(&|value| format!("{value:.0}"))
        .draw()
        .map_err(|error| error.to_string())?;
    chart
        .draw_series(buckets.iter().enumerate().map(|(index, bucket)| {
            Rectangle::new(
                [
                    (index as f64 + 0.1, 0.0),
                    (index as f64 + 0.9, bucket.count as f64),
                ],
                transport_color(0).filled(),
            )
        }))
        .map_err(|error| error.to_string())?;
    let (pixels, _) = chart.plotting_area().get_pixel_range();
    root.present().map_err(|error| error.to_string())?;
    Ok(HoverIndex {
        vertical: false,
        pixels,
        labels: buckets
            .iter()
            .map(|bucket| {
                format!(
                    "{} – {}\n{} calls",
                    format_latency(bucket.lower_micros),
                    format_latency(bucket.upper_micros),
                    bucket.count
                )
            })
            .collect(),
    })
}

fn time_label(buckets: &[TimelineBucket], index: usize) -> String {
    let (Some(bucket), Some(last)) = (buckets.get(index), buckets.last()) else {
        return String::new();
    };
    let seconds_ago = (last.start_micros - bucket.start_micros) / 1_000_000;
    if seconds_ago == 0 {
        "now".to_owned()
    } else {
        format!("-{seconds_ago}s")
    }
}

/// Draws `series` (one `Option<f64>` per bucket each) as lines, splitting a line where a
/// value is missing.
#[allow(clippy::too_many_arguments)]
fn draw_lines(
    canvas: &web_sys::HtmlCanvasElement,
    palette: &Palette,
    buckets: &[TimelineBucket],
    series: &[(String, RGBColor, Vec<Option<f64>>)],
    y_format: &dyn Fn(f64) -> String,
    y_floor: f64,
) -> DrawResult {
    let root = prepare(canvas)?;
    root.fill(&palette.background)
        .map_err(|error| error.to_string())?;
    let count = buckets.len().max(2);
    let max_value = series
        .iter()
        .flat_map(|(_, _, values)| values.iter().flatten())
        .fold(y_floor, |max, value| max.max(*value));
    let mut chart = ChartBuilder::on(&root)
        .margin(6)
        .x_label_area_size(20)
        .y_label_area_size(48)
        .build_cartesian_2d(0f64..(count - 1) as f64, 0f64..max_value * 1.1)
        .map_err(|error| error.to_string())?;
    let x_label = |index: &f64| time_label(buckets, index.round() as usize);
    let y_label = |value: &f64| y_format(*value);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(palette.grid)
        .bold_line_style(palette.grid)
        .axis_style(palette.muted)
        .label_style(text_style(palette))
        .x_labels(7)
        .x_label_formatter(&x_label)
        .y_labels(4)
        .y_label_formatter(&y_label)
        .draw()
        .map_err(|error| error.to_string())?;
    for (name, color, values) in series {
        let mut segment: Vec<(f64, f64)> = Vec::new();
        let mut segments: Vec<Vec<(f64, f64)>> = Vec::new();
        for (index, value) in values.iter().enumerate() {
            match value {
                Some(value) => segment.push((index as f64, *value)),
                None if !segment.is_empty() => segments.push(std::mem::take(&mut segment)),
                None => {}
            }
        }
        if !segment.is_empty() {
            segments.push(segment);
        }
        let style = color.stroke_width(2);
        let mut first = true;
        for points in segments {
            let drawn = if points.len() == 1 {
                chart
                    .draw_series(
                        points
                            .iter()
                            .map(|point| Circle::new(*point, 2, style.filled())),
                    )
                    .map_err(|error| error.to_string())?
            } else {
                chart
                    .draw_series(LineSeries::new(points, style))
                    .map_err(|error| error.to_string())?
            };
            if first {
                let color = *color;
                drawn.label(name.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 12, y)], color.stroke_width(2))
                });
                first = false;
            }
        }
    }
    if !series.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(palette.background.mix(0.8))
            .border_style(palette.grid)
            .label_font(("sans-serif", 10).into_font().color(&palette.foreground))
            .draw()
            .map_err(|error| error.to_string())?;
    }
    let (pixels, _) = chart.plotting_area().get_pixel_range();
    root.present().map_err(|error| error.to_string())?;
    // Points sit on bucket indexes; each hover slot is centred on one.
    let slot = (pixels.end - pixels.start) / (2 * (count as i32 - 1)).max(1);
    let labels = (0..buckets.len())
        .map(|index| {
            let mut text = time_label(buckets, index);
            for (name, _, values) in series {
                let value = values
                    .get(index)
                    .copied()
                    .flatten()
                    .map(y_format)
                    .unwrap_or_else(|| "–".to_owned());
                text.push_str(&format!("\n{name}: {value}"));
            }
            text
        })
        .collect();
    Ok(HoverIndex {
        vertical: false,
        pixels: (pixels.start - slot)..(pixels.end + slot),
        labels,
    })
}

fn draw_latency_over_time(
    canvas: &web_sys::HtmlCanvasElement,
    palette: &Palette,
    buckets: &[TimelineBucket],
) -> DrawResult {
    let millis = |value: Option<u64>| value.map(|micros| micros as f64 / 1_000.0);
    let series = vec![
        (
            "p50".to_owned(),
            palette.ok,
            buckets.iter().map(|b| millis(b.p50_micros)).collect(),
        ),
        (
            "p95".to_owned(),
            palette.warn,
            buckets.iter().map(|b| millis(b.p95_micros)).collect(),
        ),
        (
            "p99".to_owned(),
            palette.error,
            buckets.iter().map(|b| millis(b.p99_micros)).collect(),
        ),
    ];
    draw_lines(
        canvas,
        palette,
        buckets,
        &series,
        &|value| format_latency((value * 1_000.0).max(0.0) as u64),
        1.0,
    )
}

fn draw_throughput(
    canvas: &web_sys::HtmlCanvasElement,
    palette: &Palette,
    buckets: &[TimelineBucket],
) -> DrawResult {
    let series: Vec<(String, RGBColor, Vec<Option<f64>>)> = active_transports(buckets)
        .into_iter()
        .map(|transport| {
            let index = transport_index(transport);
            (
                transport.as_str().to_owned(),
                transport_color(index),
                buckets
                    .iter()
                    .map(|bucket| Some(bucket.transport(transport).calls as f64))
                    .collect(),
            )
        })
        .collect();
    draw_lines(
        canvas,
        palette,
        buckets,
        &series,
        &|value| format!("{value:.0}/s"),
        1.0,
    )
}

fn draw_error_rate(
    canvas: &web_sys::HtmlCanvasElement,
    palette: &Palette,
    buckets: &[TimelineBucket],
) -> DrawResult {
    let series: Vec<(String, RGBColor, Vec<Option<f64>>)> = active_transports(buckets)
        .into_iter()
        .map(|transport| {
            let index = transport_index(transport);
            (
                transport.as_str().to_owned(),
                transport_color(index),
                buckets
                    .iter()
                    .map(|bucket| bucket.transport(transport).error_rate())
                    .collect(),
            )
        })
        .collect();
    draw_lines(canvas, palette, buckets, &series, &format_rate, 0.05)
}

fn outcome_color(palette: &Palette, outcome: Outcome) -> RGBColor {
    match outcome {
        Outcome::Ok => palette.ok,
        Outcome::Pending => palette.muted,
        Outcome::Orphan | Outcome::Duplicate => palette.warn,
        Outcome::Error | Outcome::Timeout | Outcome::Invalid => palette.error,
    }
}

fn draw_waterfall(
    canvas: &web_sys::HtmlCanvasElement,
    palette: &Palette,
    bars: &[WaterfallBar],
) -> DrawResult {
    let root = prepare(canvas)?;
    root.fill(&palette.background)
        .map_err(|error| error.to_string())?;
    let span = bars
        .iter()
        .map(|bar| bar.start_offset_micros + bar.duration_micros)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let rows = bars.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .margin(6)
        .x_label_area_size(20)
        .y_label_area_size(110)
        .build_cartesian_2d(0f64..span * 1.02, rows..0f64)
        .map_err(|error| error.to_string())?;
    let y_label = |row: &f64| -> String {
        let index = row.floor() as usize;
        bars.get(index)
            .map(|bar| bar.label.chars().take(18).collect())
            .unwrap_or_default()
    };
    let x_label = |micros: &f64| format_latency(micros.max(0.0) as u64);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(palette.grid)
        .bold_line_style(palette.grid)
        .axis_style(palette.muted)
        .label_style(text_style(palette))
        .x_labels(6)
        .x_label_formatter(&x_label)
        .y_labels(bars.len().min(12))
        .y_label_formatter(&y_label)
        .draw()
        .map_err(|error| error.to_string())?;
    // At least a pixel wide, so instant calls stay visible.
    let min_width = span / 400.0;
    chart
        .draw_series(bars.iter().enumerate().map(|(index, bar)| {
            let start = bar.start_offset_micros as f64;
            let end = start + (bar.duration_micros as f64).max(min_width);
            let color = outcome_color(palette, bar.outcome);
            Rectangle::new(
                [(start, index as f64 + 0.15), (end, index as f64 + 0.85)],
                if bar.open {
                    color.mix(0.5).filled()
                } else {
                    color.filled()
                },
            )
        }))
        .map_err(|error| error.to_string())?;
    let (_, pixels) = chart.plotting_area().get_pixel_range();
    root.present().map_err(|error| error.to_string())?;
    Ok(HoverIndex {
        vertical: true,
        pixels,
        labels: bars
            .iter()
            .map(|bar| {
                format!(
                    "{}\n{} {}{}\nstarts {}",
                    bar.label,
                    bar.outcome.as_str(),
                    format_latency(bar.duration_micros),
                    if bar.open { " so far" } else { "" },
                    format_latency(bar.start_offset_micros)
                )
            })
            .collect(),
    })
}

/// One chart: a canvas redrawn at most once per animation frame when its data changes,
/// never while the chart or the page is hidden; hovering shows the values under the pointer.
#[component]
fn Chart<E>(
    title: &'static str,
    test_id: &'static str,
    data: Memo<Vec<E>>,
    draw: fn(&web_sys::HtmlCanvasElement, &Palette, &[E]) -> DrawResult,
    visible: Signal<bool>,
    #[prop(optional)] empty: Option<Signal<bool>>,
    #[prop(optional)] controls: Option<AnyView>,
) -> impl IntoView
where
    E: Clone + PartialEq + Send + Sync + 'static,
{
    let inspector = use_inspector();
    let canvas = NodeRef::<html::Canvas>::new();
    let hover_index = StoredValue::new_local(HoverIndex::default());
    let tooltip = RwSignal::new(None::<(i32, i32, String)>);
    let draw_error = RwSignal::new(None::<String>);
    let frame_pending = StoredValue::new(false);
    let redraws = RwSignal::new(0u64);
    let page_visible = RwSignal::new(!bridge::document_hidden());
    let visibility =
        leptos::prelude::window_event_listener_untyped("visibilitychange", move |_| {
            page_visible.set(!bridge::document_hidden());
        });
    let resize = window_event_listener(leptos::ev::resize, move |_| redraws.update(|n| *n += 1));
    on_cleanup(move || {
        visibility.remove();
        resize.remove();
    });

    // Runs in a task of its own: the chart may have been unmounted since it was scheduled.
    let draw_now = move || {
        if frame_pending.try_set_value(false).is_some()
            || !visible.try_get_untracked().unwrap_or(false)
            || bridge::document_hidden()
        {
            return;
        }
        let Some(element) = canvas.try_get_untracked().flatten() else {
            return;
        };
        let element: &web_sys::HtmlCanvasElement = element.unchecked_ref();
        let palette = palette();
        let Some(result) = data.try_with_untracked(|value| draw(element, &palette, value)) else {
            return;
        };
        match result {
            Ok(index) => {
                hover_index.set_value(index);
                if draw_error.get_untracked().is_some() {
                    draw_error.set(None);
                }
            }
            Err(message) => draw_error.set(Some(message)),
        }
        element
            .set_attribute("data-drawn", &bridge::monotonic_millis().to_string())
            .ok();
    };

    Effect::new(move |_| {
        // Visibility first: while hidden the data is not even tracked, so nothing is
        // computed for a chart nobody sees.
        if !visible.get() || !page_visible.get() {
            return;
        }
        data.with(|_| ());
        inspector.theme.track();
        redraws.track();
        if frame_pending.get_value() {
            return;
        }
        frame_pending.set_value(true);
        // At most once per frame, and each chart in a task of its own so that five charts
        // never add up to one long task.
        request_animation_frame(move || {
            set_timeout(draw_now, std::time::Duration::ZERO);
        });
    });

    let on_move = move |event: web_sys::MouseEvent| {
        let (x, y) = (event.offset_x(), event.offset_y());
        let label = hover_index.with_value(|index| index.label_at(x, y).map(str::to_owned));
        tooltip.set(label.map(|label| (x, y, label)));
    };
    let is_empty = move || empty.is_some_and(|empty| empty.get());

    view! {
        <figure class="fs-chart" data-testid=test_id>
            <h3>{title} {controls}</h3>
            <canvas
                node_ref=canvas
                role="img"
                aria-label=title
                on:mousemove=on_move
                on:mouseleave=move |_| tooltip.set(None)
            ></canvas>
            <Show when=is_empty>
                <div class="fs-empty fs-chart-empty">"No calls to chart yet"</div>
            </Show>
            {move || {
                tooltip
                    .get()
                    .map(|(x, y, text)| {
                        view! {
                            <div
                                class="fs-tooltip"
                                data-testid="chart-tooltip"
                                style=format!("left:{}px;top:{}px", x + 14, y + 24)
                            >
                                {text}
                            </div>
                        }
                    })
            }}
            {move || draw_error.get().map(|message| view! { <div class="fs-error-text">{message}</div> })}
        </figure>
    }
}

/// The calls at `positions` (sorted by position, so by start time) of a session.
struct MatchedCalls<'a> {
    session: &'a Session,
    positions: &'a [u32],
}

impl RowSource<Call> for MatchedCalls<'_> {
    fn row_count(&self) -> usize {
        self.positions.len()
    }

    fn row(&self, index: usize) -> Option<&Call> {
        let position = *self.positions.get(index)?;
        self.session.call_at(position as usize)
    }
}

/// Latency and throughput charts, live.
#[component]
pub fn ChartsArea(visible: Signal<bool>) -> impl IntoView {
    let inspector = use_inspector();
    let histogram_method = RwSignal::new(String::new());

    // Charts follow the table's filter and quick toggles, refreshed with the statistics
    // (the state schedules a refresh when the filter changes), never in the ingest task.
    let timeline_data = Memo::new(move |_| {
        inspector.stats_version.track();
        let settings = RowSettings {
            query: inspector.valid_query.get_untracked(),
            quick: inspector.quick.get_untracked(),
            mode: ViewMode::Calls,
            column: Column::Time,
            order: SortOrder::Ascending,
        };
        let chart = |store: &Store, matched: Option<&[u32]>| {
            let session = store.session();
            let (Some(first), Some(last)) = (session.calls().next(), session.calls().next_back())
            else {
                return Vec::new();
            };
            // A short capture fills the chart instead of sitting in its last seconds.
            let span_seconds = (last.started_micros / 1_000_000)
                .saturating_sub(first.started_micros / 1_000_000)
                as usize
                + 1;
            let seconds = span_seconds.clamp(MIN_TIMELINE_SECONDS, TIMELINE_SECONDS);
            match matched {
                // The table already filtered the calls: no payload is searched again.
                Some(positions) => timeline(
                    &MatchedCalls { session, positions },
                    last.started_micros,
                    1_000_000,
                    seconds,
                    |_| true,
                ),
                None => timeline(
                    &store.calls(),
                    last.started_micros,
                    1_000_000,
                    seconds,
                    |call| rows::call_matches(session, &settings, call),
                ),
            }
        };
        inspector
            .with_matched_calls_by_time(|store, positions| chart(store, Some(positions)))
            .unwrap_or_else(|| inspector.store.with_value(|store| chart(store, None)))
    });
    let methods = Memo::new(move |_| {
        inspector.stats_version.track();
        inspector.store.with_value(|store| {
            store
                .stats()
                .methods()
                .into_iter()
                .map(|(method, _)| method.to_owned())
                .collect::<Vec<_>>()
        })
    });
    let histogram_data = Memo::new(move |_| {
        inspector.stats_version.track();
        let method = histogram_method.get();
        inspector.store.with_value(|store| {
            let stats = store.stats();
            let group = if method.is_empty() {
                Some(stats.total())
            } else {
                stats.method(&method)
            };
            group
                .map(|group| group.latency().log_buckets(100, 2.0))
                .unwrap_or_default()
        })
    });
    let waterfall_data = Memo::new(move |_| {
        inspector.stats_version.track();
        inspector.sort.track();
        inspector.grouped.track();
        inspector.mode.track();
        inspector.rows.with_untracked(|rows| {
            inspector.store.with_value(|store| {
                let session = store.session();
                let positions: Vec<u32> = match (&rows.lines, inspector.mode.get_untracked()) {
                    (Lines::Flat(positions), ViewMode::Calls) => positions
                        .iter()
                        .rev()
                        .take(WATERFALL_CALLS)
                        .rev()
                        .copied()
                        .collect(),
                    (Lines::Grouped(lines), ViewMode::Calls) => {
                        let mut positions: Vec<u32> = lines
                            .iter()
                            .rev()
                            .filter_map(|line| match line {
                                GroupedRow::Row(position) => Some(*position),
                                GroupedRow::Group(_) => None,
                            })
                            .take(WATERFALL_CALLS)
                            .collect();
                        positions.reverse();
                        positions
                    }
                    // In frame view, the latest calls.
                    _ => {
                        let count = session.call_count();
                        (count.saturating_sub(WATERFALL_CALLS)..count)
                            .map(|position| position as u32)
                            .collect()
                    }
                };
                let calls = positions
                    .into_iter()
                    .filter_map(|position| session.call_at(position as usize));
                // Pending calls grow until the latest activity in the capture (not the wall
                // clock, so an imported capture draws the same as it did live).
                let end = session
                    .calls()
                    .rev()
                    .take(256)
                    .map(|call| call.ended_micros.unwrap_or(call.started_micros))
                    .max()
                    .unwrap_or(0);
                waterfall(calls, end)
            })
        })
    });

    let no_timeline = Signal::derive(move || {
        timeline_data.with(|buckets| buckets.iter().all(|b| b.calls() == 0))
    });
    let no_histogram = Signal::derive(move || histogram_data.with(Vec::is_empty));
    let no_waterfall = Signal::derive(move || waterfall_data.with(Vec::is_empty));

    let method_select = view! {
        <select
            data-testid="histogram-method"
            aria-label="Method"
            on:change=move |event| histogram_method.set(event_target_value(&event))
        >
            <option value="">"All methods"</option>
            <For
                each=move || methods.get()
                key=|method| method.clone()
                children=move |method| {
                    let label = method.clone();
                    view! { <option value=method>{label}</option> }
                }
            />
        </select>
    }
    .into_any();

    view! {
        <section class="fs-charts" aria-label="Charts" data-testid="charts-area" hidden=move || !visible.get()>
            <Chart
                title="Latency histogram"
                test_id="latency-chart"
                data=histogram_data
                draw=draw_histogram
                visible=visible
                empty=no_histogram
                controls=method_select
            />
            <Chart
                title="Latency over time (p50 / p95 / p99)"
                test_id="latency-time-chart"
                data=timeline_data
                draw=draw_latency_over_time
                visible=visible
                empty=no_timeline
            />
            <Chart
                title="Throughput per transport (calls/s)"
                test_id="throughput-chart"
                data=timeline_data
                draw=draw_throughput
                visible=visible
                empty=no_timeline
            />
            <Chart
                title="Error rate per transport"
                test_id="error-rate-chart"
                data=timeline_data
                draw=draw_error_rate
                visible=visible
                empty=no_timeline
            />
            <Chart
                title="Waterfall (latest calls shown in the table)"
                test_id="waterfall-chart"
                data=waterfall_data
                draw=draw_waterfall
                visible=visible
                empty=no_waterfall
            />
        </section>
    }
}
