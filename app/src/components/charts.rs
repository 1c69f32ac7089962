use leptos::prelude::*;

/// Latency and throughput charts.
#[component]
pub fn ChartsArea() -> impl IntoView {
    view! {
        <section class="fs-charts" aria-label="Charts" data-testid="charts-area">
            <div class="fs-empty">"No calls to chart yet"</div>
        </section>
    }
}
