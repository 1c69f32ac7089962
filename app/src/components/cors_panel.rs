use leptos::prelude::*;

use crate::store::Store;

/// Number of blocked or likely-blocked calls.
pub fn failure_count(_store: &Store) -> usize {
    0
}

/// Blocked and likely-blocked cross-origin calls, explained.
#[component]
pub fn CorsPanel() -> impl IntoView {
    view! {
        <section class="fs-cors" aria-label="CORS" data-testid="cors-panel">
            <div class="fs-empty">"No CORS failures"</div>
        </section>
    }
}
