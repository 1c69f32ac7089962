//! JSON as a tree for a collapsible view, keeping member order and exact number text.
//!
//! Data enters as JSON text (a payload, a `params` or `result` member) and leaves as a
//! [`JsonNode`] tree. Unlike `serde_json::Value`, members stay in the order they were
//! written and numbers keep their exact text, so an id beyond 2^53 or a float like `1.50`
//! is shown as it crossed the wire. Every node keeps its own JSON text for "copy".

use std::fmt;

use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// One node of a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonNode {
    /// An object with its members in written order.
    Object {
        /// `(name, value)` pairs.
        members: Vec<(String, JsonNode)>,
        /// The object's JSON text.
        raw: String,
    },
    /// An array.
    Array {
        /// Elements.
        items: Vec<JsonNode>,
        /// The array's JSON text.
        raw: String,
    },
    /// A string, number, boolean or null, as its JSON text (strings keep their quotes).
    Leaf {
        /// JSON text.
        raw: String,
        /// Kind of leaf, for colouring.
        kind: LeafKind,
    },
}

/// Kind of a [`JsonNode::Leaf`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafKind {
    /// A string.
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
}

impl JsonNode {
    /// The node's JSON text, exactly as written (whitespace inside excluded for leaves).
    pub fn raw(&self) -> &str {
        match self {
            JsonNode::Object { raw, .. }
            | JsonNode::Array { raw, .. }
            | JsonNode::Leaf { raw, .. } => raw,
        }
    }

    /// Number of direct children (0 for leaves).
    pub fn len(&self) -> usize {
        match self {
            JsonNode::Object { members, .. } => members.len(),
            JsonNode::Array { items, .. } => items.len(),
            JsonNode::Leaf { .. } => 0,
        }
    }

    /// True for leaves and empty containers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The node pretty-printed (for copying a subtree).
    pub fn pretty(&self) -> String {
        match serde_json::from_str::<serde_json::Value>(self.raw()) {
            // Pretty-printing through Value would round big numbers; keep the raw text then.
            Ok(value) if !contains_inexact_number(self) => {
                serde_json::to_string_pretty(&value).unwrap_or_else(|_| self.raw().to_owned())
            }
            _ => self.raw().to_owned(),
        }
    }
}

fn contains_inexact_number(node: &JsonNode) -> bool {
    match node {
        JsonNode::Object { members, .. } => members
            .iter()
            .any(|(_, value)| contains_inexact_number(value)),
        JsonNode::Array { items, .. } => items.iter().any(contains_inexact_number),
        JsonNode::Leaf { raw, kind } => {
            *kind == LeafKind::Number
                && raw.parse::<i64>().is_err()
                && raw.parse::<u64>().is_err()
                && raw
                    .parse::<f64>()
                    .map(|value| value.to_string() != *raw)
                    .unwrap_or(true)
        }
    }
}

/// Parses `text` into a tree, or the parser's error (line, column and message).
pub fn parse_json_tree(text: &str) -> Result<JsonNode, serde_json::Error> {
    let raw: &RawValue = serde_json::from_str(text.trim())?;
    node_from_raw(raw)
}

fn node_from_raw(raw: &RawValue) -> Result<JsonNode, serde_json::Error> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'{') => {
            let OrderedMembers(members) = serde_json::from_str(text)?;
            Ok(JsonNode::Object {
                members: members
                    .into_iter()
                    .map(|(name, value)| node_from_raw(value).map(|node| (name, node)))
                    .collect::<Result<_, _>>()?,
                raw: text.to_owned(),
            })
        }
        Some(b'[') => {
            let RawItems(items) = serde_json::from_str(text)?;
            Ok(JsonNode::Array {
                items: items
                    .into_iter()
                    .map(node_from_raw)
                    .collect::<Result<_, _>>()?,
                raw: text.to_owned(),
            })
        }
        Some(b'"') => Ok(leaf(text, LeafKind::String)),
        Some(b't' | b'f') => Ok(leaf(text, LeafKind::Bool)),
        Some(b'n') => Ok(leaf(text, LeafKind::Null)),
        _ => Ok(leaf(text, LeafKind::Number)),
    }
}

fn leaf(text: &str, kind: LeafKind) -> JsonNode {
    JsonNode::Leaf {
        raw: text.to_owned(),
        kind,
    }
}

struct OrderedMembers<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for OrderedMembers<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for MembersVisitor<'a> {
            type Value = OrderedMembers<'a>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, &'de RawValue>()? {
                    members.push((name, value));
                }
                Ok(OrderedMembers(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor(std::marker::PhantomData))
    }
}

struct RawItems<'a>(Vec<&'a RawValue>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for RawItems<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ItemsVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ItemsVisitor<'a> {
            type Value = RawItems<'a>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a JSON array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<&'de RawValue>()? {
                    items.push(item);
                }
                Ok(RawItems(items))
            }
        }
        deserializer.deserialize_seq(ItemsVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn members_keep_order_and_numbers_keep_their_text() {
        let tree =
            parse_json_tree(r#"{"z":1,"a":[12345678901234567890, 1.50, "x", null, true],"m":{}}"#)
                .unwrap();
        let JsonNode::Object { members, .. } = &tree else {
            panic!("not an object")
        };
        let names: Vec<&str> = members.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["z", "a", "m"]);
        let JsonNode::Array { items, raw } = &members[1].1 else {
            panic!("not an array")
        };
        assert_eq!(raw, r#"[12345678901234567890, 1.50, "x", null, true]"#);
        assert_eq!(items[0].raw(), "12345678901234567890");
        assert_eq!(items[1].raw(), "1.50");
        assert_eq!(
            items
                .iter()
                .map(|item| match item {
                    JsonNode::Leaf { kind, .. } => Some(*kind),
                    _ => None,
                })
                .collect::<Vec<_>>(),
            [
                Some(LeafKind::Number),
                Some(LeafKind::Number),
                Some(LeafKind::String),
                Some(LeafKind::Null),
                Some(LeafKind::Bool)
            ]
        );
        assert!(members[2].1.is_empty());
        assert_eq!(tree.len(), 3);
    }

    #[test]
    fn pretty_printing_never_rounds_numbers() {
        let exact = parse_json_tree(r#"{"id":12345678901234567890123}"#).unwrap();
        assert_eq!(exact.pretty(), r#"{"id":12345678901234567890123}"#);
        let plain = parse_json_tree(r#"{"a":[1,2]}"#).unwrap();
        assert_eq!(plain.pretty(), "{\n  \"a\": [\n    1,\n    2\n  ]\n}");
    }

    #[test]
    fn bad_json_is_an_error_with_a_position() {
        let error = parse_json_tree("{\"a\":").unwrap_err();
        assert_eq!(error.line(), 1);
        assert!(error.column() > 0);
    }
}
