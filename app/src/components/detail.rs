use leptos::prelude::*;

/// Details of the selected call or frame.
#[component]
pub fn DetailPane() -> impl IntoView {
    view! {
        <aside class="fs-detail" aria-label="Details" data-testid="detail-pane">
            <div class="fs-empty">"Select a frame to see its details"</div>
        </aside>
    }
}
