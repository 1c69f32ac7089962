//! JSON-RPC 2.0 over WebSocket, with server notifications.
//!
//! Data enters as text messages (a request or a batch) and leaves as responses, possibly out
//! of order (each message is handled concurrently, so a slow `report.generate` does not hold
//! up the others), plus `ticker.update` notifications after a `ticker.subscribe` call and a
//! `server.heartbeat` notification every few seconds. All methods of the HTTP service work
//! here too.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::WebSocketUpgrade;
use axum::extract::ws::{Message, WebSocket};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::jsonrpc::{Reply, handle_jsonrpc2};

const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
const TICKER_INTERVAL: Duration = Duration::from_millis(450);
const MAX_SUBSCRIPTIONS: usize = 16;

/// `GET /demo/ws/jsonrpc`.
pub async fn socket(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(run)
}

struct Subscription {
    symbol: String,
    seq: u64,
    price_cents: i64,
}

/// Handles the subscription methods locally; `None` when `request` is not one of them.
fn subscription_call(
    request: &Value,
    subscriptions: &mut HashMap<u64, Subscription>,
    next_subscription: &mut u64,
) -> Option<Value> {
    let method = request.get("method")?.as_str()?;
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    match method {
        "ticker.subscribe" => {
            if subscriptions.len() >= MAX_SUBSCRIPTIONS {
                return Some(
                    json!({"jsonrpc":"2.0","id":id,"error":{"code":-32005,"message":"too many subscriptions"}}),
                );
            }
            let symbol = params
                .get("symbol")
                .or_else(|| params.get(0))
                .and_then(Value::as_str)
                .unwrap_or("CAFE")
                .to_string();
            *next_subscription += 1;
            let subscription_id = *next_subscription;
            let price_cents = 10_000 + symbol.bytes().map(i64::from).sum::<i64>();
            subscriptions.insert(
                subscription_id,
                Subscription {
                    symbol,
                    seq: 0,
                    price_cents,
                },
            );
            Some(json!({"jsonrpc":"2.0","id":id,"result":{"subscription":subscription_id}}))
        }
        "ticker.unsubscribe" => {
            let subscription_id = params
                .get("subscription")
                .or_else(|| params.get(0))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let removed = subscriptions.remove(&subscription_id).is_some();
            Some(json!({"jsonrpc":"2.0","id":id,"result":removed}))
        }
        _ => None,
    }
}

async fn run(mut socket: WebSocket) {
    let (reply_sender, mut replies) = mpsc::channel::<String>(256);
    let mut subscriptions: HashMap<u64, Subscription> = HashMap::new();
    let mut next_subscription = 0u64;
    let mut heartbeat = tokio::time::interval(HEARTBEAT_INTERVAL);
    heartbeat.tick().await;
    let mut ticker = tokio::time::interval(TICKER_INTERVAL);
    let mut heartbeat_seq = 0u64;
    loop {
        let outgoing = tokio::select! {
            received = socket.recv() => {
                let Some(Ok(message)) = received else { return };
                let text = match message {
                    Message::Text(text) => text.to_string(),
                    Message::Binary(_) => {
                        let reply = json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error","data":"binary messages are not JSON-RPC"}});
                        let _ = reply_sender.try_send(reply.to_string());
                        continue;
                    }
                    Message::Close(_) => return,
                    Message::Ping(_) | Message::Pong(_) => continue,
                };
                let parsed: Option<Value> = serde_json::from_str(&text).ok();
                if let Some(reply) = parsed
                    .as_ref()
                    .and_then(|request| subscription_call(request, &mut subscriptions, &mut next_subscription))
                {
                    reply.to_string()
                } else {
                    let sender = reply_sender.clone();
                    tokio::spawn(async move {
                        if let Reply::Body(body) = handle_jsonrpc2(&text).await {
                            let _ = sender.send(body).await;
                        }
                    });
                    continue;
                }
            }
            Some(reply) = replies.recv() => reply,
            _ = ticker.tick(), if !subscriptions.is_empty() => {
                let mut batch = Vec::new();
                for (subscription_id, subscription) in &mut subscriptions {
                    subscription.seq += 1;
                    let step = ((subscription.seq.wrapping_mul(2_654_435_761) >> 5) % 41) as i64 - 20;
                    subscription.price_cents = (subscription.price_cents + step).max(1);
                    batch.push(json!({
                        "jsonrpc": "2.0",
                        "method": "ticker.update",
                        "params": {
                            "subscription": subscription_id,
                            "symbol": subscription.symbol,
                            "seq": subscription.seq,
                            "price": subscription.price_cents as f64 / 100.0,
                        }
                    }).to_string());
                }
                for notification in batch {
                    if socket.send(Message::Text(notification.into())).await.is_err() {
                        return;
                    }
                }
                continue;
            }
            _ = heartbeat.tick() => {
                heartbeat_seq += 1;
                json!({"jsonrpc":"2.0","method":"server.heartbeat","params":{"seq":heartbeat_seq,"unix_micros":crate::relay::now_micros()}}).to_string()
            }
        };
        if socket.send(Message::Text(outgoing.into())).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn subscribe_and_unsubscribe() {
        let mut subscriptions = HashMap::new();
        let mut next = 0;
        let reply = subscription_call(
            &json!({"jsonrpc":"2.0","method":"ticker.subscribe","params":{"symbol":"GO"},"id":1}),
            &mut subscriptions,
            &mut next,
        )
        .unwrap();
        assert_eq!(reply["result"]["subscription"], 1);
        assert_eq!(subscriptions[&1].symbol, "GO");
        let reply = subscription_call(
            &json!({"jsonrpc":"2.0","method":"ticker.unsubscribe","params":[1],"id":2}),
            &mut subscriptions,
            &mut next,
        )
        .unwrap();
        assert_eq!(reply["result"], true);
        assert!(subscriptions.is_empty());
        assert!(
            subscription_call(
                &json!({"jsonrpc":"2.0","method":"math.add","params":[1,2],"id":3}),
                &mut subscriptions,
                &mut next
            )
            .is_none()
        );
    }
}
