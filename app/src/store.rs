//! The app's handle on the core: one [`Session`] (frames, calls, connections, decode-as)
//! plus a live [`StatsAccumulator`] kept in step with it.
//!
//! Data enters with [`Store::ingest`] (capture events, in arrival order) and leaves through
//! the session's own accessors and the statistics. The only bookkeeping done here is which
//! calls the accumulator still has to (re-)observe; every figure is computed by the core.
//!
//! The raw events are kept too (an [`EventLog`] under the session's caps), because the
//! exporters need them: [`Store::export`] writes what the store holds.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use inspector_core::event::{CaptureEvent, Direction, EventBody, NdjsonError};
use inspector_core::export::{
    EventLog, EvictedEvents, ExportFormat, ExportOutput, ExportRequest, RedactionConfig,
    export_capture, retention::connections_subset,
};
use inspector_core::model::{Call, Frame, Outcome};
use inspector_core::session::{EvictionCounts, Session, SessionConfig};
use inspector_core::stats::{StatsAccumulator, StatsConfig};
use inspector_core::view::table::RowSource;

/// The retained calls of a session, addressable by position.
pub struct Calls<'a>(pub &'a Session);

impl RowSource<Call> for Calls<'_> {
    fn row_count(&self) -> usize {
        self.0.call_count()
    }

    fn row(&self, position: usize) -> Option<&Call> {
        self.0.call_at(position)
    }
}

/// The retained frames of a session, addressable by position.
pub struct Frames<'a>(pub &'a Session);

impl RowSource<Frame> for Frames<'_> {
    fn row_count(&self) -> usize {
        self.0.frame_count()
    }

    fn row(&self, position: usize) -> Option<&Frame> {
        self.0.frame_at(position)
    }
}

/// HTTP requests kept (without bodies) until they answer or fail, for CORS diagnosis.
const CORS_OPEN_REQUESTS: usize = 4_096;
/// Failed exchanges kept for the CORS panel.
const CORS_CASES: usize = 256;
/// Observed preflights kept for pairing.
const CORS_PREFLIGHTS: usize = 512;

/// A failed HTTP exchange with what the CORS analysis needs: the page event (for the
/// origin), the request (body dropped) and the failure.
#[derive(Debug, Clone, PartialEq)]
pub struct CorsCase {
    /// `page`, `http_request` and `http_failure` events, in that order (page when known).
    pub events: Vec<CaptureEvent>,
    /// The request event (also in `events`).
    pub request: CaptureEvent,
    /// When the failure was captured.
    pub failed_micros: u64,
}

/// Pages seen through `page` events.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PageSeen {
    session_id: String,
    url: String,
}

/// Everything lost on the way, for the always-visible counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Loss {
    /// Events producers (hooks, the relay) reported as dropped.
    pub dropped_by_producer: u64,
    /// What the store evicted to stay within its caps.
    pub evicted: EvictionCounts,
    /// Events that did not match the capture schema.
    pub rejected_events: u64,
    /// Events skipped while capture was paused.
    pub skipped_while_paused: u64,
    /// Events the browser extension's service worker could not keep.
    pub dropped_by_extension: u64,
}

impl Loss {
    /// Frames and events lost in any way.
    pub fn total(&self) -> u64 {
        self.dropped_by_producer
            + self.dropped_by_extension
            + self.evicted.frames
            + self.rejected_events
            + self.skipped_while_paused
    }

    /// Short text for the toolbar.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let dropped = self.dropped_by_producer + self.dropped_by_extension;
        if dropped > 0 {
            parts.push(format!("{dropped} dropped"));
        }
        if self.evicted.frames > 0 {
            parts.push(format!("{} evicted", self.evicted.frames));
        }
        if self.rejected_events > 0 {
            parts.push(format!("{} unreadable", self.rejected_events));
        }
        if self.skipped_while_paused > 0 {
            parts.push(format!("{} skipped (paused)", self.skipped_while_paused));
        }
        format!("⚠ {}", parts.join(" · "))
    }

    /// Tooltip text.
    pub fn details(&self) -> String {
        format!(
            "Dropped by the capture before reaching Framescope: {}\n\
             Dropped by the extension's buffer: {}\n\
             Evicted to stay within the store's cap: {} frames, {} calls, {} bytes\n\
             Events that did not match the capture schema: {}\n\
             Events skipped while capture was paused: {}",
            self.dropped_by_producer,
            self.dropped_by_extension,
            self.evicted.frames,
            self.evicted.calls,
            self.evicted.bytes,
            self.rejected_events,
            self.skipped_while_paused
        )
    }
}

/// The core session and the statistics derived from it.
pub struct Store {
    session: Session,
    stats: StatsAccumulator,
    stats_generation: u64,
    /// Calls observed while they could still change (pending, or timed out unanswered).
    pending_calls: HashSet<u64>,
    /// Every call observed, by its `(started_micros, call_id)` key (the session's order),
    /// so the evicted ones can be found and forgotten.
    observed_calls: BTreeSet<(u64, u64)>,
    next_unobserved_call_id: u64,
    evicted_calls_seen: u64,
    rejected_events: u64,
    last_rejection: Option<String>,
    pages: Vec<PageSeen>,
    page_events: HashMap<String, CaptureEvent>,
    open_requests: HashMap<(String, String), CaptureEvent>,
    open_request_order: VecDeque<(String, String)>,
    cors_cases: VecDeque<CorsCase>,
    preflights: VecDeque<CaptureEvent>,
    cors_version: u64,
    /// The raw events, for export.
    events: EventLog,
}

impl Store {
    /// An empty store with the default caps.
    pub fn new() -> Self {
        Self::with_config(SessionConfig::default())
    }

    /// An empty store with `config`.
    pub fn with_config(config: SessionConfig) -> Self {
        Self {
            events: EventLog::new(&config),
            session: Session::new(config),
            stats: StatsAccumulator::new(StatsConfig::default()),
            stats_generation: 0,
            pending_calls: HashSet::new(),
            observed_calls: BTreeSet::new(),
            next_unobserved_call_id: 0,
            evicted_calls_seen: 0,
            rejected_events: 0,
            last_rejection: None,
            pages: Vec::new(),
            page_events: HashMap::new(),
            open_requests: HashMap::new(),
            open_request_order: VecDeque::new(),
            cors_cases: VecDeque::new(),
            preflights: VecDeque::new(),
            cors_version: 0,
        }
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, for decode-as changes (statistics follow on the next [`Store::ingest`]
    /// or [`Store::refresh_stats`]).
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Retained calls by position.
    pub fn calls(&self) -> Calls<'_> {
        Calls(&self.session)
    }

    /// Retained frames by position.
    pub fn frames(&self) -> Frames<'_> {
        Frames(&self.session)
    }

    /// Statistics of every call seen.
    pub fn stats(&self) -> &StatsAccumulator {
        &self.stats
    }

    /// Direction of the frame that started `call`, when it is retained.
    pub fn call_request_direction(&self, call: &Call) -> Option<Direction> {
        let frame_id = call.request_frame_id.or(call.response_frame_id)?;
        self.session.frame(frame_id).map(|frame| frame.direction)
    }

    /// Ingests `events` and brings the statistics up to date; `now_micros` marks timeouts.
    pub fn ingest(&mut self, events: &[CaptureEvent], now_micros: u64) {
        self.ingest_deferring_stats(events, now_micros);
        self.refresh_stats();
    }

    /// As [`Store::ingest`] without bringing the statistics up to date: the live view calls
    /// [`Store::refresh_stats`] on its own, slower schedule (it walks every retained call).
    pub fn ingest_deferring_stats(&mut self, events: &[CaptureEvent], now_micros: u64) {
        for event in events {
            if let EventBody::Page { url, .. } = &event.body
                && !self
                    .pages
                    .iter()
                    .any(|page| page.session_id == event.session_id)
            {
                self.pages.push(PageSeen {
                    session_id: event.session_id.clone(),
                    url: url.clone(),
                });
            }
            self.track_cors(event);
            self.session.ingest(event);
            self.events.push(event);
        }
        self.session.mark_timeouts(now_micros);
    }

    /// Exports every retained event in `format` (secrets redacted when `redact`), with the
    /// current decode-as choices and timeouts marked at `now_micros`, as the table shows them;
    /// with `only_connections`, only the events of those `(session_id, connection_id)`
    /// connections (and their pages). The output's notes say what the export lacks (events
    /// evicted before it, events HAR cannot hold).
    pub fn export(
        &mut self,
        format: ExportFormat,
        redact: bool,
        now_micros: u64,
        only_connections: Option<&HashSet<(String, String)>>,
    ) -> Result<ExportOutput, String> {
        let redaction = if redact {
            RedactionConfig::default()
        } else {
            RedactionConfig::disabled()
        };
        let config = self.session.config().clone();
        let evicted = self.events.evicted();
        let subset = only_connections
            .map(|connections| connections_subset(self.events.events(), connections));
        let request = ExportRequest {
            events: match &subset {
                Some(events) => events,
                None => self.events.events(),
            },
            config: &config,
            finished_micros: Some(now_micros),
            redaction: &redaction,
            producer_version: env!("CARGO_PKG_VERSION"),
            service_name: "framescope",
            evicted,
        };
        export_capture(format, &request).map_err(|error| error.to_string())
    }

    /// Raw events retained for export.
    pub fn retained_events(&self) -> usize {
        self.events.len()
    }

    /// Raw events evicted by the retention caps since the last clear.
    pub fn evicted_events(&self) -> EvictedEvents {
        self.events.evicted()
    }

    /// The subprotocols a WebSocket asked for (its retained `ws_connect`); `None` when that
    /// event is no longer retained.
    pub fn ws_requested_protocols(
        &self,
        session_id: &str,
        connection_id: &str,
    ) -> Option<Vec<String>> {
        self.events
            .connection_events(session_id, connection_id)
            .find_map(|event| match &event.body {
                EventBody::WsConnect { protocols, .. } => Some(protocols.clone()),
                _ => None,
            })
    }

    /// Failed exchanges, oldest first, for the CORS panel.
    pub fn cors_cases(&self) -> impl DoubleEndedIterator<Item = &CorsCase> + '_ {
        self.cors_cases.iter()
    }

    /// Preflights observed outside the page (the extension), oldest first.
    pub fn preflights(&self) -> impl Iterator<Item = &CaptureEvent> + '_ {
        self.preflights.iter()
    }

    /// Changes whenever a failed exchange or an observed preflight arrives.
    pub fn cors_version(&self) -> u64 {
        self.cors_version
    }

    fn track_cors(&mut self, event: &CaptureEvent) {
        let key = || (event.session_id.clone(), event.connection_id.clone());
        match &event.body {
            EventBody::Page { .. } => {
                self.page_events
                    .insert(event.session_id.clone(), event.clone());
            }
            EventBody::HttpRequest { .. } => {
                let mut request = event.clone();
                if let EventBody::HttpRequest { body, .. } = &mut request.body {
                    *body = None;
                }
                if self.open_requests.insert(key(), request).is_none() {
                    self.open_request_order.push_back(key());
                }
                while self.open_request_order.len() > CORS_OPEN_REQUESTS {
                    if let Some(oldest) = self.open_request_order.pop_front() {
                        self.open_requests.remove(&oldest);
                    }
                }
            }
            EventBody::HttpResponse { .. } => {
                self.open_requests.remove(&key());
            }
            EventBody::HttpFailure { .. } => {
                let Some(request) = self.open_requests.remove(&key()) else {
                    return;
                };
                let mut events = Vec::with_capacity(3);
                if let Some(page) = self.page_events.get(&event.session_id) {
                    events.push(page.clone());
                }
                events.push(request.clone());
                events.push(event.clone());
                self.cors_cases.push_back(CorsCase {
                    events,
                    request,
                    failed_micros: event.time_micros,
                });
                if self.cors_cases.len() > CORS_CASES {
                    self.cors_cases.pop_front();
                }
                self.cors_version += 1;
            }
            EventBody::CorsPreflight { .. } => {
                self.preflights.push_back(event.clone());
                if self.preflights.len() > CORS_PREFLIGHTS {
                    self.preflights.pop_front();
                }
                self.cors_version += 1;
            }
            _ => {}
        }
    }

    /// True when `event` is a `page` event for a URL already captured under another session
    /// id: the page reloaded or navigated back.
    pub fn is_reload(&self, event: &CaptureEvent) -> bool {
        let EventBody::Page { url, .. } = &event.body else {
            return false;
        };
        self.pages
            .iter()
            .any(|page| page.url == *url && page.session_id != event.session_id)
    }

    /// Counts events that did not match the schema.
    pub fn count_rejected(&mut self, errors: &[NdjsonError]) {
        self.rejected_events += errors.len() as u64;
        if let Some(error) = errors.last() {
            self.last_rejection = Some(error.to_string());
        }
    }

    /// The last schema error seen, for the tooltip.
    pub fn last_rejection(&self) -> Option<&str> {
        self.last_rejection.as_deref()
    }

    /// What was lost, with `skipped_while_paused` from the app.
    pub fn loss(&self, skipped_while_paused: u64, dropped_by_extension: u64) -> Loss {
        Loss {
            dropped_by_producer: self.session.dropped_by_producer(),
            evicted: self.session.evicted(),
            rejected_events: self.rejected_events,
            skipped_while_paused,
            dropped_by_extension,
        }
    }

    /// Forgets everything, keeping the caps and decode-as choices.
    pub fn clear(&mut self) {
        let config = self.session.config().clone();
        let page_events = std::mem::take(&mut self.page_events);
        let cors_version = self.cors_version + 1;
        *self = Self::with_config(config);
        // Pages stay connected: keep their origins for later CORS diagnoses.
        self.page_events = page_events;
        self.cors_version = cors_version;
    }

    /// Observes new and changed calls. After decode-as renumbered the calls, the statistics
    /// are rebuilt from the retained calls.
    pub fn refresh_stats(&mut self) {
        if self.session.generation() != self.stats_generation {
            self.stats_generation = self.session.generation();
            self.stats = StatsAccumulator::from_calls(self.session.calls(), StatsConfig::default());
            self.pending_calls = self
                .session
                .calls()
                .filter(|call| may_still_change(call))
                .map(|call| call.call_id)
                .collect();
            self.observed_calls = self
                .session
                .calls()
                .map(|call| (call.started_micros, call.call_id))
                .collect();
            self.next_unobserved_call_id = self
                .session
                .calls()
                .map(|call| call.call_id + 1)
                .max()
                .unwrap_or(0);
            return;
        }
        let watermark = self.next_unobserved_call_id;
        let check_pending = !self.pending_calls.is_empty();
        let mut next = watermark;
        for call in self.session.calls() {
            let is_new = call.call_id >= watermark;
            let was_pending = check_pending
                && call.call_id < watermark
                && self.pending_calls.contains(&call.call_id);
            if !is_new && !was_pending {
                continue;
            }
            self.stats.observe(call);
            if is_new {
                self.observed_calls
                    .insert((call.started_micros, call.call_id));
                next = next.max(call.call_id + 1);
            }
            if may_still_change(call) {
                self.pending_calls.insert(call.call_id);
            } else if was_pending {
                self.pending_calls.remove(&call.call_id);
            }
        }
        self.next_unobserved_call_id = next;
        let evicted_calls = self.session.evicted().calls;
        if evicted_calls != self.evicted_calls_seen {
            self.evicted_calls_seen = evicted_calls;
            self.forget_evicted_calls();
        }
    }

    /// Forgets the observed calls the session no longer retains. Every retained call is
    /// observed by now, so exactly `observed - retained` of them are gone; eviction takes
    /// the front of the session's order, so they are found among the smallest keys (a call
    /// stamped earlier than its neighbours may sit among them, retained: it is skipped).
    fn forget_evicted_calls(&mut self) {
        let mut stale = self
            .observed_calls
            .len()
            .saturating_sub(self.session.call_count());
        let mut gone = Vec::with_capacity(stale);
        for &(started_micros, call_id) in &self.observed_calls {
            if stale == 0 {
                break;
            }
            if !self.retains(started_micros, call_id) {
                gone.push((started_micros, call_id));
                stale -= 1;
            }
        }
        for key in gone {
            self.observed_calls.remove(&key);
            self.stats.forget_call(key.1);
            self.pending_calls.remove(&key.1);
        }
    }

    /// True when the session still holds the call with this key (a binary search in its
    /// `(started_micros, call_id)` order).
    fn retains(&self, started_micros: u64, call_id: u64) -> bool {
        let key = (started_micros, call_id);
        let (mut low, mut high) = (0, self.session.call_count());
        while low < high {
            let middle = low + (high - low) / 2;
            match self.session.call_at(middle) {
                Some(call) if (call.started_micros, call.call_id) < key => low = middle + 1,
                _ => high = middle,
            }
        }
        self.session
            .call_at(low)
            .is_some_and(|call| call.call_id == call_id)
    }
}

/// True while a call's outcome or latency can still change: pending, or timed out with
/// no answer yet (a late answer still sets its latency).
fn may_still_change(call: &Call) -> bool {
    match call.outcome {
        Outcome::Pending => true,
        Outcome::Timeout => call.ended_micros.is_none(),
        _ => false,
    }
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

/// Reads a HAR file into capture events (entries the core cannot represent are noted by
/// the importer and skipped; the count is returned with the events).
pub fn import_har(text: &str) -> Result<(Vec<CaptureEvent>, usize), String> {
    inspector_core::har::import_har(text)
        .map(|imported| (imported.events, imported.notes.len()))
        .map_err(|error| error.to_string())
}
