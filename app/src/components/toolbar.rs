use leptos::prelude::*;

/// Capture controls and the filter box.
#[component]
pub fn Toolbar() -> impl IntoView {
    view! {
        <header class="fs-toolbar" role="toolbar" aria-label="Capture controls">
            <span class="fs-brand">"Framescope"</span>
            <input
                class="fs-filter"
                type="search"
                data-testid="filter-input"
                placeholder="Filter  (method:User.*  transport:ws  status:error  latency>100ms)"
                aria-label="Filter"
            />
        </header>
    }
}
