//! Framescope's inspector UI. Every view lives under [`components`]; all data shown comes
//! from `inspector-core`, and this crate only displays it and sends the user's intent.
#![forbid(unsafe_code)]

pub mod components;

use leptos::prelude::*;

use components::{
    charts::ChartsArea, cors_panel::CorsPanel, detail::DetailPane, frame_list::FrameList,
    toolbar::Toolbar,
};

/// The whole inspector: toolbar, frame list, detail pane, charts and the CORS panel.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <div class="fs-app" data-testid="app-shell">
            <Toolbar/>
            <main class="fs-main">
                <FrameList/>
                <DetailPane/>
            </main>
            <section class="fs-lower">
                <ChartsArea/>
                <CorsPanel/>
            </section>
        </div>
    }
}
