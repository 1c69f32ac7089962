use leptos::prelude::*;

/// Blocked and likely-blocked cross-origin calls, explained.
#[component]
pub fn CorsPanel() -> impl IntoView {
    view! {
        <section class="fs-cors" aria-label="CORS" data-testid="cors-panel">
            <div class="fs-empty">"No CORS failures"</div>
        </section>
    }
}
