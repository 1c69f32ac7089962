//! Server-sent events demo: a metrics stream with ids, a named event type, a `retry`
//! directive and keep-alive comments.
//!
//! Data enters as a GET (with `Last-Event-ID` when the browser reconnects) and leaves as an
//! `text/event-stream` body. Each connection sends [`EVENTS_PER_CONNECTION`] events and ends,
//! so the browser's reconnect with `Last-Event-ID` happens live and resumes the sequence.

use std::convert::Infallible;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};

/// Events sent before the server ends the stream.
pub const EVENTS_PER_CONNECTION: u64 = 40;
const EVENT_INTERVAL: Duration = Duration::from_millis(600);
/// What the server asks the browser to wait before reconnecting.
const RETRY: Duration = Duration::from_millis(1_500);

/// The `n`th event of the stream.
pub fn event_for(seq: u64) -> Event {
    let event = Event::default().id(seq.to_string());
    if seq.is_multiple_of(5) {
        let services = ["api", "worker", "gateway"];
        let service = services[(seq / 5 % 3) as usize];
        event.event("deploy").data(format!(
            r#"{{"service":"{service}","version":"1.{seq}.0"}}"#
        ))
    } else {
        let load = (seq.wrapping_mul(2_654_435_761) >> 8) % 100;
        event.data(format!(
            r#"{{"seq":{seq},"cpu_percent":{load},"queue_depth":{}}}"#,
            (seq * 7) % 13
        ))
    }
}

fn events(first_seq: u64) -> impl Stream<Item = Result<Event, Infallible>> {
    let last_seq = first_seq + EVENTS_PER_CONNECTION - 1;
    stream::unfold(first_seq, move |seq| async move {
        if seq > last_seq {
            return None;
        }
        if seq != first_seq {
            tokio::time::sleep(EVENT_INTERVAL).await;
        }
        let mut event = event_for(seq);
        if seq == first_seq {
            event = event.retry(RETRY);
        }
        Some((Ok(event), seq + 1))
    })
}

/// `GET /demo/sse`.
pub async fn stream(headers: HeaderMap) -> Response {
    let resume_after = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .unwrap_or(0);
    Sse::new(events(resume_after + 1))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        .into_response()
}
