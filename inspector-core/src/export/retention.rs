//! Bounded retention of raw capture events, so that a live view can export what it shows.
//!
//! A [`Session`](crate::session::Session) keeps decoded frames and calls, not the events it
//! was fed, while every exporter needs the events. An [`EventLog`] keeps them, oldest first,
//! under the same caps as the session ([`SessionConfig::max_frames`] events and
//! [`SessionConfig::max_bytes`] bytes), and counts what it had to evict so that an export can
//! say what it lacks. Data enters with [`EventLog::push`] in ingest order and leaves through
//! [`EventLog::events`] (a slice, ready for [`super::ExportRequest`]) and
//! [`EventLog::evicted`].
//!
//! The byte figure is an estimate of the heap an event holds (its strings and payload text)
//! plus the size of the event itself, the same kind of estimate the session uses for its own
//! cap.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::event::{CaptureEvent, EventBody, Payload};
use crate::session::SessionConfig;

/// What an [`EventLog`] evicted to stay within its caps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvictedEvents {
    /// Events evicted, oldest first.
    pub events: u64,
    /// Their estimated size in bytes.
    pub bytes: u64,
}

impl EvictedEvents {
    /// True when nothing was evicted.
    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// The sentence an export shows when events are missing; `None` when none are.
    pub fn note(&self) -> Option<String> {
        (!self.is_empty()).then(|| {
            format!(
                "{} event(s) older than the retention limit are not in this export",
                self.events
            )
        })
    }
}

/// Raw capture events, oldest first, within a count and a byte cap.
#[derive(Debug, Clone)]
pub struct EventLog {
    events: VecDeque<CaptureEvent>,
    costs_bytes: VecDeque<u64>,
    retained_bytes: u64,
    max_events: usize,
    max_bytes: u64,
    evicted: EvictedEvents,
}

const EVENT_COST_BYTES: u64 = std::mem::size_of::<CaptureEvent>() as u64 + 8;

fn payload_bytes(payload: &Payload) -> u64 {
    payload.data.len() as u64
}

fn headers_bytes(headers: &[(String, String)]) -> u64 {
    headers
        .iter()
        .map(|(name, value)| (name.len() + value.len() + 48) as u64)
        .sum()
}

/// Estimated bytes held by `event` (its own size plus the text it owns).
pub fn event_cost_bytes(event: &CaptureEvent) -> u64 {
    let strings = (event.session_id.len() + event.connection_id.len()) as u64;
    let body = match &event.body {
        EventBody::Page {
            url,
            title,
            origin,
            hook_version,
        } => (url.len() + title.len() + origin.len() + hook_version.len()) as u64,
        EventBody::HttpRequest {
            api,
            method,
            url,
            headers,
            body,
            ..
        } => {
            (api.len() + method.len() + url.len()) as u64
                + headers_bytes(headers)
                + body.as_ref().map_or(0, payload_bytes)
        }
        EventBody::HttpResponse {
            status_text,
            headers,
            body,
            url,
            ..
        } => {
            status_text.len() as u64
                + headers_bytes(headers)
                + body.as_ref().map_or(0, payload_bytes)
                + url.as_ref().map_or(0, |url| url.len() as u64)
        }
        EventBody::HttpResponseChunk { payload, .. }
        | EventBody::WsMessage { payload, .. }
        | EventBody::ShmMessage { payload, .. } => payload_bytes(payload),
        EventBody::HttpFailure {
            error_name,
            error_message,
            ..
        } => (error_name.len() + error_message.len()) as u64,
        EventBody::WsConnect { url, protocols } => {
            url.len() as u64 + protocols.iter().map(|p| p.len() as u64 + 24).sum::<u64>()
        }
        EventBody::SseConnect { url, .. } => url.len() as u64,
        EventBody::SseMessage {
            event_type,
            data,
            last_event_id,
        } => (event_type.len() + data.len() + last_event_id.len()) as u64,
        EventBody::CorsPreflight {
            url,
            request_headers,
            response_headers,
            ..
        } => url.len() as u64 + headers_bytes(request_headers) + headers_bytes(response_headers),
        EventBody::Unknown { type_name, members } => {
            type_name.len() as u64
                + members
                    .iter()
                    .map(|(name, value)| name.len() as u64 + value.to_string().len() as u64)
                    .sum::<u64>()
        }
        _ => 64,
    };
    EVENT_COST_BYTES + strings + body
}

impl EventLog {
    /// An empty log with the caps of `config`.
    pub fn new(config: &SessionConfig) -> Self {
        Self::with_caps(config.max_frames, config.max_bytes)
    }

    /// An empty log that keeps at most `max_events` events and `max_bytes` estimated bytes.
    pub fn with_caps(max_events: usize, max_bytes: u64) -> Self {
        Self {
            events: VecDeque::new(),
            costs_bytes: VecDeque::new(),
            retained_bytes: 0,
            max_events,
            max_bytes,
            evicted: EvictedEvents::default(),
        }
    }

    /// Keeps a copy of `event`, evicting the oldest events beyond the caps.
    pub fn push(&mut self, event: &CaptureEvent) {
        let cost_bytes = event_cost_bytes(event);
        self.events.push_back(event.clone());
        self.costs_bytes.push_back(cost_bytes);
        self.retained_bytes += cost_bytes;
        while self.events.len() > self.max_events || self.retained_bytes > self.max_bytes {
            let (Some(_), Some(cost_bytes)) =
                (self.events.pop_front(), self.costs_bytes.pop_front())
            else {
                break;
            };
            self.retained_bytes -= cost_bytes;
            self.evicted.events += 1;
            self.evicted.bytes += cost_bytes;
        }
    }

    /// The retained events, oldest first, as one slice.
    pub fn events(&mut self) -> &[CaptureEvent] {
        self.events.make_contiguous()
    }

    /// Number of retained events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when no event is retained.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Estimated bytes retained.
    pub fn retained_bytes(&self) -> u64 {
        self.retained_bytes
    }

    /// What was evicted so far.
    pub fn evicted(&self) -> EvictedEvents {
        self.evicted
    }

    /// Retained events of one connection, oldest first.
    pub fn connection_events<'a>(
        &'a self,
        session_id: &'a str,
        connection_id: &'a str,
    ) -> impl Iterator<Item = &'a CaptureEvent> + 'a {
        self.events.iter().filter(move |event| {
            event.connection_id == connection_id && event.session_id == session_id
        })
    }
}

/// The events of the given connections (`(session_id, connection_id)` pairs), with the
/// `page` events of their sessions, in their original order: the part of a capture that a
/// filtered view shows, ready for an export. Other events (and producer drop counts, which
/// belong to no connection) are left out.
pub fn connections_subset(
    events: &[CaptureEvent],
    connections: &std::collections::HashSet<(String, String)>,
) -> Vec<CaptureEvent> {
    let sessions: std::collections::HashSet<&str> = connections
        .iter()
        .map(|(session_id, _)| session_id.as_str())
        .collect();
    events
        .iter()
        .filter(|event| {
            if matches!(event.body, EventBody::Page { .. }) {
                return sessions.contains(event.session_id.as_str());
            }
            connections.contains(&(event.session_id.clone(), event.connection_id.clone()))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::event::{Direction, SCHEMA_VERSION};

    fn message(time_micros: u64, size_bytes: usize) -> CaptureEvent {
        CaptureEvent {
            v: SCHEMA_VERSION,
            session_id: "p".into(),
            connection_id: "ws".into(),
            time_micros,
            body: EventBody::WsMessage {
                direction: Direction::Sent,
                payload: Payload::text("x".repeat(size_bytes)),
            },
        }
    }

    #[test]
    fn count_cap_evicts_the_oldest_and_counts_them() {
        let mut log = EventLog::with_caps(3, u64::MAX);
        for time in 0..5 {
            log.push(&message(time, 10));
        }
        let times: Vec<u64> = log.events().iter().map(|event| event.time_micros).collect();
        assert_eq!(times, vec![2, 3, 4]);
        assert_eq!(log.evicted().events, 2);
        assert_eq!(log.evicted().bytes, 2 * event_cost_bytes(&message(0, 10)));
        assert_eq!(
            log.evicted().note().unwrap(),
            "2 event(s) older than the retention limit are not in this export"
        );
    }

    #[test]
    fn byte_cap_counts_payloads() {
        let one = event_cost_bytes(&message(0, 1_000));
        assert!(one > 1_000);
        let mut log = EventLog::with_caps(usize::MAX, one * 2 + one / 2);
        for time in 0..4 {
            log.push(&message(time, 1_000));
        }
        assert_eq!(log.len(), 2);
        assert_eq!(log.retained_bytes(), 2 * one);
        assert_eq!(log.evicted().events, 2);
        // An event larger than the whole cap is evicted at once, and counted.
        log.push(&message(9, 10_000));
        assert!(log.retained_bytes() <= one * 2 + one / 2);
        assert_eq!(log.evicted().events, 5);
    }

    #[test]
    fn subset_keeps_the_chosen_connections_and_their_pages_in_order() {
        let page = |session: &str, time_micros| CaptureEvent {
            v: SCHEMA_VERSION,
            session_id: session.into(),
            connection_id: "page".into(),
            time_micros,
            body: EventBody::Page {
                url: "http://127.0.0.1/".into(),
                title: String::new(),
                origin: String::new(),
                hook_version: String::new(),
            },
        };
        let on = |session: &str, connection: &str, time_micros| CaptureEvent {
            session_id: session.into(),
            connection_id: connection.into(),
            ..message(time_micros, 1)
        };
        let events = vec![
            page("a", 1),
            page("b", 2),
            on("a", "ws-1", 3),
            on("a", "ws-2", 4),
            on("b", "ws-1", 5),
            on("a", "ws-1", 6),
        ];
        let chosen = [("a".to_owned(), "ws-1".to_owned())].into_iter().collect();
        let times: Vec<u64> = connections_subset(&events, &chosen)
            .iter()
            .map(|event| event.time_micros)
            .collect();
        assert_eq!(times, vec![1, 3, 6]);
        assert!(connections_subset(&events, &Default::default()).is_empty());
    }

    #[test]
    fn follows_the_session_caps() {
        let config = SessionConfig {
            max_frames: 1,
            ..SessionConfig::default()
        };
        let mut log = EventLog::new(&config);
        log.push(&message(1, 1));
        log.push(&message(2, 1));
        assert_eq!(log.len(), 1);
        assert!(EvictedEvents::default().note().is_none());
        assert_eq!(log.connection_events("p", "ws").count(), 1);
        assert_eq!(log.connection_events("p", "other").count(), 0);
    }
}
