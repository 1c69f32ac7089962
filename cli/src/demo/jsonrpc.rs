//! The demo's JSON-RPC services: JSON-RPC 2.0 (over HTTP POST and over WebSocket) and the
//! JSON-RPC 1.0 dialect of Go's `net/rpc/jsonrpc` (over HTTP POST).
//!
//! Data enters as request text (one request or a batch) and leaves as response text, or
//! nothing for notifications. The services are real computations over their parameters;
//! `report.generate` takes its time on purpose, `inventory.reserve` always fails.

use std::time::Duration;

use serde_json::{Value, json};

/// Methods served over JSON-RPC 2.0, for the info endpoint and the demo traffic generator.
pub const METHODS: &[&str] = &[
    "math.add",
    "math.divide",
    "user.get",
    "order.get",
    "clock.now",
    "report.generate",
    "inventory.reserve",
    "log.write",
];

/// JSON-RPC 2.0 error codes used by the demo.
mod code {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const DIVISION_BY_ZERO: i64 = -32000;
    pub const OUT_OF_STOCK: i64 = -32010;
}

/// The reply to a piece of JSON-RPC 2.0 request text.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A response object or a batch array, serialized.
    Body(String),
    /// Only notifications: the specification says nothing is returned.
    Nothing,
}

fn error_object(id: Value, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut error = json!({ "code": code, "message": message });
    if let Some(data) = data {
        error["data"] = data;
    }
    json!({ "jsonrpc": "2.0", "error": error, "id": id })
}

/// Named or positional parameter `index`/`name`.
fn param<'a>(params: &'a Value, index: usize, name: &str) -> Option<&'a Value> {
    match params {
        Value::Array(items) => items.get(index),
        Value::Object(members) => members.get(name),
        _ => None,
    }
}

fn number_param(params: &Value, index: usize, name: &str) -> Result<f64, String> {
    param(params, index, name)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("parameter `{name}` (position {index}) must be a number"))
}

/// A slow method's delay: between 300 and 1,200 ms, varying with the request.
fn report_delay(params: &Value) -> Duration {
    let seed = params.to_string().bytes().fold(17u64, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(u64::from(byte))
    });
    Duration::from_millis(300 + seed % 900)
}

/// Runs one method. `Err((code, message, data))` is a JSON-RPC error.
async fn call_method(method: &str, params: &Value) -> Result<Value, (i64, String, Option<Value>)> {
    let invalid = |message: String| (code::INVALID_PARAMS, message, None);
    match method {
        "math.add" => {
            let a = number_param(params, 0, "a").map_err(invalid)?;
            let b = number_param(params, 1, "b").map_err(invalid)?;
            Ok(json!(a + b))
        }
        "math.divide" => {
            let a = number_param(params, 0, "a").map_err(invalid)?;
            let b = number_param(params, 1, "b").map_err(invalid)?;
            if b == 0.0 {
                return Err((
                    code::DIVISION_BY_ZERO,
                    "division by zero".into(),
                    Some(json!({ "dividend": a })),
                ));
            }
            Ok(json!(a / b))
        }
        "user.get" => {
            let user_id = param(params, 0, "id")
                .and_then(Value::as_u64)
                .ok_or_else(|| invalid("parameter `id` must be a positive integer".into()))?;
            let names = ["Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara"];
            let name = names[(user_id % names.len() as u64) as usize];
            Ok(json!({
                "id": user_id,
                "name": name,
                "email": format!("{}@example.test", name.to_lowercase()),
                "roles": if user_id % 3 == 0 { json!(["admin", "dev"]) } else { json!(["dev"]) },
                "last_login": null,
            }))
        }
        "order.get" => {
            // An int64 id above 2^53: JavaScript's JSON.parse rounds it (the seed's trap).
            let order_number = param(params, 0, "n").and_then(Value::as_u64).unwrap_or(1);
            let order_id = 9_007_199_254_740_993u64.wrapping_add(order_number * 2);
            Ok(
                json!({ "order_id": order_id, "order_id_text": order_id.to_string(), "items": order_number % 5 + 1 }),
            )
        }
        "clock.now" => {
            let micros = crate::relay::now_micros();
            Ok(json!({ "unix_micros": micros }))
        }
        "report.generate" => {
            let delay = report_delay(params);
            tokio::time::sleep(delay).await;
            Ok(
                json!({ "rows": delay.as_millis() as u64 * 7, "took_millis": delay.as_millis() as u64 }),
            )
        }
        "inventory.reserve" => {
            let sku = param(params, 0, "sku")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            Err((
                code::OUT_OF_STOCK,
                "insufficient stock".into(),
                Some(json!({ "sku": sku, "available": 0 })),
            ))
        }
        "log.write" => Ok(Value::Null),
        other => Err((
            code::METHOD_NOT_FOUND,
            "Method not found".into(),
            Some(json!({ "method": other })),
        )),
    }
}

/// Handles one request object; `None` for a notification.
async fn handle_one(request: &Value) -> Option<Value> {
    let Some(members) = request.as_object() else {
        return Some(error_object(
            Value::Null,
            code::INVALID_REQUEST,
            "Invalid Request",
            None,
        ));
    };
    let id = members.get("id").cloned();
    let valid_id = matches!(
        id,
        None | Some(Value::Null | Value::String(_) | Value::Number(_))
    );
    let method = members.get("method").and_then(Value::as_str);
    let params = members.get("params").cloned().unwrap_or(Value::Null);
    let params_ok = matches!(params, Value::Array(_) | Value::Object(_) | Value::Null);
    if members.get("jsonrpc") != Some(&json!("2.0")) || method.is_none() || !valid_id || !params_ok
    {
        let reply_id = if valid_id {
            id.unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        return Some(error_object(
            reply_id,
            code::INVALID_REQUEST,
            "Invalid Request",
            None,
        ));
    }
    let method = method.unwrap_or_default();
    let outcome = call_method(method, &params).await;
    let id = id?;
    Some(match outcome {
        Ok(result) => json!({ "jsonrpc": "2.0", "result": result, "id": id }),
        Err((code, message, data)) => error_object(id, code, &message, data),
    })
}

/// Handles JSON-RPC 2.0 request text: one request or a batch (members run concurrently).
pub async fn handle_jsonrpc2(text: &str) -> Reply {
    let request: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(_) => {
            return Reply::Body(
                error_object(Value::Null, code::PARSE_ERROR, "Parse error", None).to_string(),
            );
        }
    };
    match request {
        Value::Array(items) if items.is_empty() => Reply::Body(
            error_object(Value::Null, code::INVALID_REQUEST, "Invalid Request", None).to_string(),
        ),
        Value::Array(items) => {
            let replies = futures_util::future::join_all(items.iter().map(handle_one)).await;
            let replies: Vec<Value> = replies.into_iter().flatten().collect();
            if replies.is_empty() {
                Reply::Nothing
            } else {
                Reply::Body(Value::Array(replies).to_string())
            }
        }
        single => match handle_one(&single).await {
            Some(reply) => Reply::Body(reply.to_string()),
            None => Reply::Nothing,
        },
    }
}

/// Handles one JSON-RPC 1.0 request the way Go's `net/rpc/jsonrpc` server codec answers it:
/// `{"id":..,"result":..,"error":null}` or `{"id":..,"result":null,"error":"text"}`.
/// `Err` is for text that is not a request at all (Go closes the connection; HTTP says 400).
pub fn handle_go_jsonrpc1(text: &str) -> Result<String, String> {
    let request: Value =
        serde_json::from_str(text).map_err(|error| format!("invalid JSON: {error}"))?;
    let members = request
        .as_object()
        .ok_or_else(|| "a request must be a JSON object".to_string())?;
    let id = members.get("id").cloned().unwrap_or(Value::Null);
    let method = members
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(|| "a request needs a string `method`".to_string())?;
    // Members in the order Go's encoder writes them: id, result, error.
    let reply = |result: Value, error: Option<String>| {
        format!(
            r#"{{"id":{id},"result":{result},"error":{}}}"#,
            error.map_or(Value::Null, Value::String)
        )
    };
    let Some((service, method_name)) = method.split_once('.') else {
        return Ok(reply(
            Value::Null,
            Some(format!("rpc: service/method request ill-formed: {method}")),
        ));
    };
    if service != "Arith" {
        return Ok(reply(
            Value::Null,
            Some(format!("rpc: can't find service {method}")),
        ));
    }
    // Go's codec takes exactly one parameter, sent as a one-element array.
    let args = match members.get("params") {
        Some(Value::Array(items)) if items.len() == 1 => &items[0],
        _ => {
            return Ok(reply(
                Value::Null,
                Some("jsonrpc: request body missing params".into()),
            ));
        }
    };
    let operand = |name: &str| args.get(name).and_then(Value::as_i64).unwrap_or(0);
    let (a, b) = (operand("A"), operand("B"));
    Ok(match method_name {
        "Multiply" => reply(json!(a.wrapping_mul(b)), None),
        "Divide" if b == 0 => reply(Value::Null, Some("divide by zero".into())),
        "Divide" => reply(json!({ "Quo": a / b, "Rem": a % b }), None),
        _ => reply(
            Value::Null,
            Some(format!("rpc: can't find method {method}")),
        ),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn body(reply: Reply) -> Value {
        match reply {
            Reply::Body(text) => serde_json::from_str(&text).unwrap(),
            Reply::Nothing => panic!("expected a body"),
        }
    }

    #[tokio::test]
    async fn single_call_batch_notification_and_errors() {
        let reply = body(
            handle_jsonrpc2(r#"{"jsonrpc":"2.0","method":"math.add","params":[2,3],"id":1}"#).await,
        );
        assert_eq!(reply, json!({"jsonrpc":"2.0","result":5.0,"id":1}));

        let batch = body(
            handle_jsonrpc2(
                r#"[{"jsonrpc":"2.0","method":"math.divide","params":{"a":1,"b":0},"id":"x"},
                    {"jsonrpc":"2.0","method":"log.write","params":["hi"]},
                    {"jsonrpc":"2.0","method":"nope","id":3},
                    1]"#,
            )
            .await,
        );
        let batch = batch.as_array().unwrap();
        assert_eq!(batch.len(), 3, "the notification gets no reply");
        assert_eq!(batch[0]["error"]["code"], -32000);
        assert_eq!(batch[0]["id"], "x");
        assert_eq!(batch[1]["error"]["code"], -32601);
        assert_eq!(batch[2]["error"]["code"], -32600);

        assert_eq!(
            handle_jsonrpc2(r#"{"jsonrpc":"2.0","method":"log.write"}"#).await,
            Reply::Nothing
        );
        assert_eq!(body(handle_jsonrpc2("{").await)["error"]["code"], -32700);
        assert_eq!(body(handle_jsonrpc2("[]").await)["error"]["code"], -32600);
        let failing = body(
            handle_jsonrpc2(
                r#"{"jsonrpc":"2.0","method":"inventory.reserve","params":{"sku":"A1"},"id":9}"#,
            )
            .await,
        );
        assert_eq!(failing["error"]["code"], -32010);
        assert_eq!(failing["error"]["data"]["sku"], "A1");
    }

    #[tokio::test]
    async fn order_ids_exceed_javascript_safe_integers() {
        let reply = body(
            handle_jsonrpc2(r#"{"jsonrpc":"2.0","method":"order.get","params":{"n":1},"id":1}"#)
                .await,
        );
        assert!(reply["result"]["order_id"].as_u64().unwrap() > (1u64 << 53));
    }

    #[test]
    fn go_dialect_matches_net_rpc_jsonrpc() {
        assert_eq!(
            handle_go_jsonrpc1(r#"{"method":"Arith.Multiply","params":[{"A":7,"B":8}],"id":0}"#)
                .unwrap(),
            r#"{"id":0,"result":56,"error":null}"#
        );
        let divide: Value = serde_json::from_str(
            &handle_go_jsonrpc1(r#"{"method":"Arith.Divide","params":[{"A":7,"B":0}],"id":4}"#)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(divide["error"], "divide by zero");
        assert_eq!(divide["result"], Value::Null);
        let missing: Value = serde_json::from_str(
            &handle_go_jsonrpc1(r#"{"method":"Arith.Pow","params":[{}],"id":5}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(missing["error"], "rpc: can't find method Arith.Pow");
        assert!(handle_go_jsonrpc1("[1]").is_err());
    }
}
