use leptos::prelude::*;

/// Latency and throughput charts.
#[component]
pub fn ChartsArea(visible: Signal<bool>) -> impl IntoView {
    view! {
        <section class="fs-charts" aria-label="Charts" data-testid="charts-area" hidden=move || !visible.get()>
            <div class="fs-empty">"No calls to chart yet"</div>
        </section>
    }
}
