//! Shared-memory channels through the session: mailbox and ring messages become frames and
//! calls with the usual decoders, and the tracker's per-channel statistics (latency, waits,
//! notifies, occupancy, consumer lag, stuck channels) follow the events, in whatever order
//! the threads' events arrive.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use inspector_core::decode::protobuf;

fn encode_bytes_field(number: u32, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    protobuf::encode_bytes_field(number, data, &mut out);
    out
}

fn encode_varint_field(number: u32, value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    protobuf::encode_varint_field(number, value, &mut out);
    out
}
use inspector_core::event::{
    CaptureEvent, Direction, EventBody, Payload, SCHEMA_VERSION, ShmRole, parse_ndjson,
};
use inspector_core::model::{CallKind, Outcome, Protocol, Transport};
use inspector_core::session::Session;
use inspector_core::shm::{Sample, ShmLayout, ShmTracker, sparkline};

fn event(connection_id: &str, time_micros: u64, body: EventBody) -> CaptureEvent {
    CaptureEvent {
        v: SCHEMA_VERSION,
        session_id: "page-1".to_owned(),
        connection_id: connection_id.to_owned(),
        time_micros,
        body,
    }
}

fn mailbox(connection_id: &str, name: &str, time: u64) -> CaptureEvent {
    event(
        connection_id,
        time,
        EventBody::ShmChannel {
            name: name.to_owned(),
            layout: "mailbox".to_owned(),
            byte_length: 4096,
            thread: "page".to_owned(),
            command_offset_bytes: Some(0),
            length_offset_bytes: Some(4),
            payload_offset_bytes: Some(8),
            head_offset_bytes: None,
            tail_offset_bytes: None,
            data_offset_bytes: None,
            capacity_bytes: Some(4088),
        },
    )
}

fn ring(connection_id: &str, name: &str, capacity: u64, time: u64) -> CaptureEvent {
    event(
        connection_id,
        time,
        EventBody::ShmChannel {
            name: name.to_owned(),
            layout: "ring".to_owned(),
            byte_length: capacity + 8,
            thread: "page".to_owned(),
            command_offset_bytes: None,
            length_offset_bytes: None,
            payload_offset_bytes: None,
            head_offset_bytes: Some(0),
            tail_offset_bytes: Some(4),
            data_offset_bytes: Some(8),
            capacity_bytes: Some(capacity),
        },
    )
}

fn thread_of(direction: Direction) -> String {
    match direction {
        Direction::Sent => "page".to_owned(),
        Direction::Received => "worker-1".to_owned(),
    }
}

fn message(
    connection_id: &str,
    channel: &str,
    time: u64,
    direction: Direction,
    role: ShmRole,
    payload: Payload,
) -> CaptureEvent {
    event(
        connection_id,
        time,
        EventBody::ShmMessage {
            channel: channel.to_owned(),
            direction,
            role,
            payload,
            thread: thread_of(direction),
            head: None,
            tail: None,
            frame_end: None,
        },
    )
}

#[allow(clippy::too_many_arguments)]
fn ring_frame(
    connection_id: &str,
    channel: &str,
    time: u64,
    direction: Direction,
    payload: Payload,
    frame_end: u64,
    head: u64,
    tail: u64,
) -> CaptureEvent {
    event(
        connection_id,
        time,
        EventBody::ShmMessage {
            channel: channel.to_owned(),
            direction,
            role: ShmRole::Frame,
            payload,
            thread: thread_of(direction),
            head: Some(head),
            tail: Some(tail),
            frame_end: Some(frame_end),
        },
    )
}

fn state(
    connection_id: &str,
    channel: &str,
    time: u64,
    body: (Option<i64>, Option<u64>, Option<u64>),
) -> CaptureEvent {
    event(
        connection_id,
        time,
        EventBody::ShmState {
            channel: channel.to_owned(),
            thread: "worker-1".to_owned(),
            command: body.0,
            head: body.1,
            tail: body.2,
        },
    )
}

fn cafe(message_type: u8, request_id: u64, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0xCA, 0xFE, 1, message_type];
    frame.extend_from_slice(&request_id.to_be_bytes());
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

#[test]
fn mailbox_json_rpc_calls_in_both_directions() {
    let mut session = Session::default();
    session.ingest(&mailbox("shm-1", "bus", 1_000));
    // Page asks the worker.
    session.ingest(&message(
        "shm-1",
        "bus",
        1_100,
        Direction::Sent,
        ShmRole::Request,
        Payload::text(r#"{"jsonrpc":"2.0","method":"math.add","params":[2,3],"id":7}"#),
    ));
    session.ingest(&message(
        "shm-1",
        "bus",
        1_142,
        Direction::Received,
        ShmRole::Response,
        Payload::text(r#"{"jsonrpc":"2.0","result":5,"id":7}"#),
    ));
    session.ingest(&state("shm-1", "bus", 1_150, (Some(0), None, None)));
    // The worker asks the page.
    session.ingest(&message(
        "shm-1",
        "bus",
        2_000,
        Direction::Received,
        ShmRole::Request,
        Payload::text(r#"{"jsonrpc":"2.0","method":"ui.confirm","params":["delete?"],"id":"w1"}"#),
    ));
    session.ingest(&message(
        "shm-1",
        "bus",
        2_300,
        Direction::Sent,
        ShmRole::Response,
        Payload::text(
            r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"declined"},"id":"w1"}"#,
        ),
    ));

    let calls: Vec<_> = session.calls().collect();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert_eq!(calls[0].transport, Transport::SharedMemory);
    assert_eq!(calls[0].protocol, Protocol::JsonRpc2);
    assert_eq!(calls[0].method, "math.add");
    assert_eq!(calls[0].request_id.as_deref(), Some("7"));
    assert_eq!(calls[0].outcome, Outcome::Ok);
    assert_eq!(calls[0].latency_micros, Some(42));
    assert_eq!(calls[1].method, "ui.confirm");
    assert_eq!(calls[1].outcome, Outcome::Error);
    assert_eq!(calls[1].error_code, Some(-32000));
    assert_eq!(calls[1].latency_micros, Some(300));
    let frames: Vec<_> = session.frames().collect();
    assert_eq!(frames.len(), 4);
    assert!(
        frames
            .iter()
            .all(|frame| frame.transport == Transport::SharedMemory)
    );
    assert_eq!(session.connection("shm-1").unwrap().url, "shm://bus");

    let channel = session
        .shm_channels()
        .channel("page-1", "shm-1", "bus")
        .unwrap();
    assert_eq!(channel.layout, ShmLayout::Mailbox);
    assert_eq!((channel.requests, channel.responses), (2, 2));
    let latency = channel.latency();
    assert_eq!(latency.count, 2);
    assert_eq!(latency.min_micros, 42);
    assert_eq!(latency.max_micros, 300);
    assert_eq!(channel.pending_request_since_micros, None);
    assert_eq!(
        channel.threads.iter().cloned().collect::<Vec<_>>(),
        vec!["page".to_owned(), "worker-1".to_owned()]
    );
}

#[test]
fn raw_protobuf_mailbox_payloads_pair_by_the_mailbox_structure() {
    let mut session = Session::default();
    session.ingest(&mailbox("shm-2", "codec", 10));
    for round in 0..3u64 {
        let mut request = encode_bytes_field(1, b"Image.Resize");
        request.extend(encode_varint_field(2, 640 + round));
        let response = encode_varint_field(1, 1 + round);
        let start = 100 + round * 1_000;
        session.ingest(&message(
            "shm-2",
            "codec",
            start,
            Direction::Sent,
            ShmRole::Request,
            Payload::binary(&request),
        ));
        session.ingest(&message(
            "shm-2",
            "codec",
            start + 10 + round,
            Direction::Received,
            ShmRole::Response,
            Payload::binary(&response),
        ));
    }
    let calls: Vec<_> = session.calls().collect();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    for (round, call) in calls.iter().enumerate() {
        assert_eq!(call.method, "Image.Resize");
        assert_eq!(call.protocol, Protocol::Raw);
        assert_eq!(call.kind, CallKind::Call);
        assert_eq!(call.outcome, Outcome::Ok);
        assert_eq!(call.latency_micros, Some(10 + round as u64));
    }
}

#[test]
fn a_response_without_request_is_an_orphan_and_a_lone_request_times_out() {
    let mut session = Session::default();
    session.ingest(&mailbox("shm-3", "bus", 0));
    session.ingest(&message(
        "shm-3",
        "bus",
        5,
        Direction::Received,
        ShmRole::Response,
        Payload::binary(&[1, 2, 3]),
    ));
    session.ingest(&message(
        "shm-3",
        "bus",
        10,
        Direction::Sent,
        ShmRole::Request,
        Payload::binary(&[9, 9]),
    ));
    session.finish(60_000_000);
    let outcomes: Vec<_> = session.calls().map(|call| call.outcome).collect();
    assert_eq!(outcomes, vec![Outcome::Orphan, Outcome::Timeout]);
}

#[test]
fn stuck_mailbox_is_marked_after_the_timeout_and_cleared_by_the_response() {
    let mut session = Session::default();
    session.ingest(&mailbox("shm-4", "bus", 0));
    session.ingest(&message(
        "shm-4",
        "bus",
        1_000,
        Direction::Sent,
        ShmRole::Request,
        Payload::text(r#"{"jsonrpc":"2.0","method":"slow","id":1}"#),
    ));
    assert_eq!(session.mark_stuck_shm_channels(1_500, 1_000), 0);
    assert_eq!(session.mark_stuck_shm_channels(2_001, 1_000), 1);
    let channel = session
        .shm_channels()
        .channel("page-1", "shm-4", "bus")
        .unwrap();
    assert_eq!(channel.stuck_since_micros, Some(1_000));
    assert_eq!(channel.summary().stuck_since_micros, Some(1_000));
    session.ingest(&message(
        "shm-4",
        "bus",
        2_500,
        Direction::Received,
        ShmRole::Response,
        Payload::text(r#"{"jsonrpc":"2.0","result":null,"id":1}"#),
    ));
    assert_eq!(session.mark_stuck_shm_channels(9_000, 1_000), 0);
    let channel = session
        .shm_channels()
        .channel("page-1", "shm-4", "bus")
        .unwrap();
    assert_eq!(channel.stuck_since_micros, None);
}

#[test]
fn responses_reported_before_their_requests_still_pair_by_time() {
    // A worker's batch (the request) can reach the page after the page's own response.
    let mut tracker = ShmTracker::new();
    tracker.ingest(&mailbox("shm-5", "bus", 0));
    tracker.ingest(&message(
        "shm-5",
        "bus",
        900,
        Direction::Sent,
        ShmRole::Response,
        Payload::text("r"),
    ));
    tracker.ingest(&state("shm-5", "bus", 950, (Some(0), None, None)));
    tracker.ingest(&message(
        "shm-5",
        "bus",
        700,
        Direction::Received,
        ShmRole::Request,
        Payload::text("q"),
    ));
    let channel = tracker.channel("page-1", "shm-5", "bus").unwrap();
    assert_eq!(channel.latency().count, 1);
    assert_eq!(channel.latency().max_micros, 200);
    assert_eq!(channel.unmatched_responses, 0);
    assert_eq!(channel.pending_request_since_micros, None);
    // An IDLE reported after a request ends it even without a response event.
    tracker.ingest(&message(
        "shm-5",
        "bus",
        2_000,
        Direction::Received,
        ShmRole::Request,
        Payload::text("q"),
    ));
    tracker.ingest(&state("shm-5", "bus", 2_100, (Some(0), None, None)));
    assert_eq!(tracker.mark_stuck(100_000, 1_000), 0);
}

#[test]
fn ring_frames_decode_as_cafe_and_pair_across_two_rings_of_one_connection() {
    // Two rings grouped under one connection: requests page -> worker, responses back.
    let mut session = Session::default();
    let capacity = 64;
    session.ingest(&ring("shm:rpc", "to-worker", capacity, 0));
    session.ingest(&ring("shm:rpc", "to-page", capacity, 0));
    let mut head_out = 0u64;
    let mut head_back = 0u64;
    let mut time = 100;
    for request_id in 1..=6u64 {
        let request = cafe(0x01, request_id, &encode_bytes_field(1, b"sum"));
        head_out = (head_out + 4 + request.len() as u64) % capacity;
        session.ingest(&ring_frame(
            "shm:rpc",
            "to-worker",
            time,
            Direction::Sent,
            Payload::binary(&request),
            head_out,
            head_out,
            (head_out + capacity - 4 - request.len() as u64) % capacity,
        ));
        session.ingest(&state(
            "shm:rpc",
            "to-worker",
            time + 5,
            (None, Some(head_out), Some(head_out)),
        ));
        let response = cafe(0x02, request_id, &encode_varint_field(1, request_id * 10));
        head_back = (head_back + 4 + response.len() as u64) % capacity;
        session.ingest(&ring_frame(
            "shm:rpc",
            "to-page",
            time + 20,
            Direction::Received,
            Payload::binary(&response),
            head_back,
            head_back,
            (head_back + capacity - 4 - response.len() as u64) % capacity,
        ));
        session.ingest(&state(
            "shm:rpc",
            "to-page",
            time + 30,
            (None, Some(head_back), Some(head_back)),
        ));
        time += 1_000;
    }
    let calls: Vec<_> = session.calls().collect();
    assert_eq!(calls.len(), 6, "{calls:#?}");
    for (index, call) in calls.iter().enumerate() {
        assert_eq!(call.protocol, Protocol::Cafe);
        assert_eq!(call.method, "sum");
        assert_eq!(call.request_id, Some((index as u64 + 1).to_string()));
        assert_eq!(call.outcome, Outcome::Ok);
        assert_eq!(call.latency_micros, Some(20));
    }
    // 6 frames of 4 + 21 bytes in a 64-byte ring: the positions wrapped around twice.
    let channel = session
        .shm_channels()
        .channel("page-1", "shm:rpc", "to-worker")
        .unwrap();
    assert_eq!(channel.layout, ShmLayout::Ring);
    assert_eq!(channel.messages, 6);
    let lag = channel.lag();
    assert_eq!(lag.count, 6, "{channel:#?}");
    assert_eq!((lag.min_micros, lag.max_micros), (5, 5));
    assert_eq!(channel.max_occupancy_bytes, 25);
    assert_eq!(channel.occupancy.back().unwrap().value, 0);
}

#[test]
fn ring_lag_is_found_when_the_consumer_reports_first() {
    let mut tracker = ShmTracker::new();
    tracker.ingest(&ring("shm-6", "log", 100, 0));
    // The consumer's tail advances (worker batch) arrive before the producer's frames.
    tracker.ingest(&state("shm-6", "log", 0, (None, Some(0), Some(0))));
    tracker.ingest(&state("shm-6", "log", 400, (None, Some(30), Some(30))));
    tracker.ingest(&state("shm-6", "log", 900, (None, Some(90), Some(90))));
    tracker.ingest(&ring_frame(
        "shm-6",
        "log",
        100,
        Direction::Sent,
        Payload::text("a"),
        30,
        30,
        0,
    ));
    tracker.ingest(&ring_frame(
        "shm-6",
        "log",
        200,
        Direction::Sent,
        Payload::text("b"),
        60,
        60,
        0,
    ));
    tracker.ingest(&ring_frame(
        "shm-6",
        "log",
        300,
        Direction::Sent,
        Payload::text("c"),
        90,
        90,
        30,
    ));
    let channel = tracker.channel("page-1", "shm-6", "log").unwrap();
    let lags: Vec<u64> = channel
        .consumer_lag
        .iter()
        .map(|sample| sample.value)
        .collect();
    assert_eq!(lags, vec![300, 700, 600]);
}

#[test]
fn activity_sums_per_channel_and_raw_buffers_get_their_own_row() {
    let mut tracker = ShmTracker::new();
    let activity =
        |channel: &str, stores: u64, waits: u64, wait_micros: u64| EventBody::ShmActivity {
            channel: channel.to_owned(),
            thread: "worker-1".to_owned(),
            byte_length: 1024,
            window_micros: 250_000,
            operations: BTreeMap::from([("store".to_owned(), stores), ("wait".to_owned(), waits)]),
            notify_calls: stores,
            woken: stores - 1,
            waits,
            wait_micros,
            wait_woken: waits,
            wait_timeouts: 0,
            wait_not_equal: 0,
        };
    tracker.ingest(&event("shm-7", 10, activity("bus", 4, 4, 1_000)));
    tracker.ingest(&event("shm-7", 20, activity("bus", 6, 5, 2_500)));
    tracker.ingest(&event("shm-7", 30, activity("", 100, 0, 0)));
    let bus = tracker.channel("page-1", "shm-7", "bus").unwrap();
    assert_eq!(bus.operations["store"], 10);
    assert_eq!(bus.operations["wait"], 9);
    assert_eq!((bus.notify_calls, bus.woken), (10, 8));
    assert_eq!((bus.waits, bus.wait_micros), (9, 3_500));
    let raw = tracker.channel("page-1", "shm-7", "").unwrap();
    assert_eq!(raw.layout, ShmLayout::Raw);
    assert_eq!(raw.summary().atomics_calls, 100);
    assert_eq!(tracker.len(), 2);
    assert!(!tracker.ingest(&event("x", 1, EventBody::WsError {})));
}

#[test]
fn shared_memory_events_read_what_the_hook_writes() {
    let text = [
        r#"{"v":1,"session_id":"s","connection_id":"shm-1","time_micros":1,"type":"shm_channel","name":"bus","layout":"mailbox","byte_length":1024,"thread":"page","command_offset_bytes":0,"length_offset_bytes":4,"payload_offset_bytes":8,"capacity_bytes":1016}"#,
        r#"{"v":1,"session_id":"s","connection_id":"shm-1","time_micros":2,"type":"shm_message","channel":"bus","direction":"sent","role":"request","payload":{"encoding":"text","data":"{}","size_bytes":2,"truncated":false},"thread":"page"}"#,
        r#"{"v":1,"session_id":"s","connection_id":"shm-1","time_micros":3,"type":"shm_state","channel":"bus","thread":"worker-1","command":0}"#,
        r#"{"v":1,"session_id":"s","connection_id":"shm-1","time_micros":4,"type":"shm_activity","channel":"bus","thread":"page","byte_length":1024,"window_micros":250000,"operations":{"store":2,"notify":1},"notify_calls":1,"woken":1,"waits":0,"wait_micros":0,"wait_woken":0,"wait_timeouts":0,"wait_not_equal":0}"#,
    ]
    .join("\n");
    let events = parse_ndjson(&text).unwrap();
    assert!(matches!(
        events[1].body,
        EventBody::ShmMessage {
            role: ShmRole::Request,
            direction: Direction::Sent,
            ..
        }
    ));
    for event in &events {
        let back: CaptureEvent =
            serde_json::from_str(&serde_json::to_string(event).unwrap()).unwrap();
        assert_eq!(&back, event);
    }
    let mut session = Session::default();
    session.ingest_all(&events);
    assert_eq!(session.unknown_events(), 0);
    assert_eq!(session.shm_channels().len(), 1);
}

#[test]
fn sparkline_scales_to_the_largest_value_shown() {
    let samples: std::collections::VecDeque<Sample> = [0u64, 10, 70, 35, 70, 5]
        .iter()
        .enumerate()
        .map(|(index, &value)| Sample {
            time_micros: index as u64,
            value,
        })
        .collect();
    assert_eq!(sparkline(&samples, 10), "▁▂█▅█▂");
    assert_eq!(sparkline(&samples, 3), "▅█▂");
    assert_eq!(sparkline(&std::collections::VecDeque::new(), 4), "");
    let flat: std::collections::VecDeque<Sample> = (0..3)
        .map(|time_micros| Sample {
            time_micros,
            value: 0,
        })
        .collect();
    assert_eq!(sparkline(&flat, 4), "▁▁▁");
}

#[test]
fn stuck_since_reads_without_marking() {
    let mut tracker = ShmTracker::new();
    tracker.ingest(&mailbox("shm-8", "bus", 0));
    tracker.ingest(&message(
        "shm-8",
        "bus",
        100,
        Direction::Sent,
        ShmRole::Request,
        Payload::text("{}"),
    ));
    let channel = tracker.channel("page-1", "shm-8", "bus").unwrap();
    assert_eq!(channel.stuck_since(5_000, 10_000), None);
    assert_eq!(channel.stuck_since(10_101, 10_000), Some(100));
    assert_eq!(channel.stuck_since_micros, None);
}
