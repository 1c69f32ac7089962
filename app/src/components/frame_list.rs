use leptos::prelude::*;

/// The live call/frame table.
#[component]
pub fn FrameList() -> impl IntoView {
    view! {
        <section class="fs-frames" aria-label="Frames" data-testid="frame-list">
            <div class="fs-empty" data-testid="frames-empty">"No frames captured yet"</div>
        </section>
    }
}
