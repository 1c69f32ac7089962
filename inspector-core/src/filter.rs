//! The filter query language, in the spirit of the DevTools network filter box.
//!
//! Data enters as the text the user typed ([`Query::parse`]) and leaves as a compiled
//! [`Query`] that answers [`Query::matches_call`] / [`Query::matches_frame`] without
//! allocating, or as a [`FilterError`] that names the byte position of the problem.
//!
//! # Syntax
//!
//! Terms are separated by whitespace and all must match (AND). `OR` (upper case) between
//! terms matches either side and binds looser than AND; parentheses group; a leading `-`
//! negates a term or a group. Values with spaces go in double quotes (`\"` and `\\` escape
//! inside them). Keys and enumerated values are case-insensitive.
//!
//! | term | matches |
//! |---|---|
//! | `method:User.*` | method, a glob (`*` any run, `?` one character), case-insensitive; without wildcards the whole method must match |
//! | `transport:ws` | `http`, `ws`/`websocket`, `sse`/`eventsource`, `shm`/`shared-memory` |
//! | `protocol:jsonrpc2` | `jsonrpc2` (`jsonrpc`), `jsonrpc1`, `cafe`, `grpc-web` (`grpc`), `http`, `raw` |
//! | `status:error` | calls counted as errors (outcome `error`, `timeout` or `invalid`) |
//! | `status:ok`, `outcome:timeout`, ... | that exact outcome (`outcome:error` is only `error`) |
//! | `status:404`, `status:5xx` | the call's error code (HTTP status or RPC code), `x` a digit wildcard |
//! | `code:-32601`, `code>=500` | the error code compared as a number |
//! | `latency>100ms` | latency compared (`>`, `>=`, `<`, `<=`, `=` or `:`), units `us`/`µs`, `ms`, `s`; calls without a latency never match |
//! | `size>1kb` | request + response bytes (frames: the frame's bytes); units `b`, `kb`, `mb` (1024-based) |
//! | `id:42` | the request id as written on the wire, string ids with or without quotes, a glob |
//! | `kind:notification` | `call` or `notification` |
//! | `dir:sent` | frames sent or received (calls never match) |
//! | `is:malformed` | frames that failed to decode; `is:error`, `is:pending`, `is:notification` for calls |
//! | `conn:ws-3`, `session:p1` | connection or session id, a glob |
//! | `word`, `"two words"` | free text, case-insensitive, in the method, request id, error message, connection id and payload summaries |
//!
//! A word `key:value` with an unknown key is an error (quote it to search for the text),
//! except when the value starts with `//`, so that URLs can be typed as free text.
//! Terms that do not apply to frames (`method`, `latency`, `status`, ...) never match a frame.

use std::fmt;

use crate::event::Direction;
use crate::model::{Call, CallKind, Frame, Outcome, Protocol, Transport};

/// Why a query could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterErrorKind {
    /// `key:` with a key the language does not know.
    #[error("unknown filter `{key}:` (known: {known}); put text containing `:` in quotes")]
    UnknownKey {
        /// The key as typed.
        key: String,
        /// The known keys, for the message.
        known: &'static str,
    },
    /// `key:` with nothing after it.
    #[error("`{key}` needs a value")]
    MissingValue {
        /// The key.
        key: String,
    },
    /// A value the key does not accept.
    #[error("`{value}` is not a valid {key} (expected {expected})")]
    InvalidValue {
        /// The key.
        key: String,
        /// The value as typed.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// A comparison operator on a key that does not compare.
    #[error("`{key}` does not support `{operator}`; use `{key}:value`")]
    OperatorNotAllowed {
        /// The key.
        key: String,
        /// The operator as typed.
        operator: String,
    },
    /// A `"` without its closing `"`.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// A `)` without a matching `(`.
    #[error("`)` without a matching `(`")]
    UnmatchedClose,
    /// A `(` without a matching `)`.
    #[error("`(` is never closed")]
    UnclosedGroup,
    /// `()` or a group with only operators in it.
    #[error("empty group")]
    EmptyGroup,
    /// A `-` not followed by a term.
    #[error("`-` must be followed by a term (quote it to search for `-`)")]
    DanglingNegation,
    /// `OR` without a term on one side.
    #[error("`OR` needs a term on both sides")]
    DanglingOr,
}

/// A query that could not be parsed, with the byte offset in the query text where the
/// problem starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at position {position}: {kind}")]
pub struct FilterError {
    /// Byte offset into the query text (0-based).
    pub position: usize,
    /// What is wrong.
    pub kind: FilterErrorKind,
}

const KNOWN_KEYS: &str = "method, transport, protocol, status, outcome, code, latency, size, id, kind, dir, is, conn, session";

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `=` or `:`.
    Equal,
    /// `>`.
    Greater,
    /// `>=`.
    GreaterOrEqual,
    /// `<`.
    Less,
    /// `<=`.
    LessOrEqual,
}

impl Comparison {
    fn holds<T: PartialOrd>(self, left: T, right: T) -> bool {
        match self {
            Comparison::Equal => left == right,
            Comparison::Greater => left > right,
            Comparison::GreaterOrEqual => left >= right,
            Comparison::Less => left < right,
            Comparison::LessOrEqual => left <= right,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Comparison::Equal => ":",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
        }
    }
}

/// A case-insensitive glob (`*` any run, `?` one character), compiled for fast matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    /// The pattern, ASCII-lowercased.
    pattern: String,
    shape: GlobShape,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum GlobShape {
    /// No wildcard: equality.
    Exact,
    /// `text*`.
    Prefix(String),
    /// `*text`.
    Suffix(String),
    /// `*text*`.
    Contains(String),
    /// Anything else.
    General,
}

impl Glob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Self {
        let pattern = pattern.to_ascii_lowercase();
        let inner_has_wildcard = |text: &str| text.contains(['*', '?']);
        let shape = if !inner_has_wildcard(&pattern) {
            GlobShape::Exact
        } else if let Some(inner) = pattern
            .strip_prefix('*')
            .and_then(|rest| rest.strip_suffix('*'))
            .filter(|inner| !inner_has_wildcard(inner))
        {
            GlobShape::Contains(inner.to_owned())
        } else if let Some(prefix) = pattern
            .strip_suffix('*')
            .filter(|prefix| !inner_has_wildcard(prefix))
        {
            GlobShape::Prefix(prefix.to_owned())
        } else if let Some(suffix) = pattern
            .strip_prefix('*')
            .filter(|suffix| !inner_has_wildcard(suffix))
        {
            GlobShape::Suffix(suffix.to_owned())
        } else {
            GlobShape::General
        };
        Self { pattern, shape }
    }

    /// True when `text` matches the whole pattern (ASCII case-insensitively).
    pub fn matches(&self, text: &str) -> bool {
        let haystack = text.as_bytes();
        match &self.shape {
            GlobShape::Exact => haystack.eq_ignore_ascii_case(self.pattern.as_bytes()),
            GlobShape::Prefix(prefix) => {
                haystack.len() >= prefix.len()
                    && haystack[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
            }
            GlobShape::Suffix(suffix) => {
                haystack.len() >= suffix.len()
                    && haystack[haystack.len() - suffix.len()..]
                        .eq_ignore_ascii_case(suffix.as_bytes())
            }
            GlobShape::Contains(needle) => contains_ignore_ascii_case(haystack, needle.as_bytes()),
            GlobShape::General => wildcard_match(self.pattern.as_bytes(), haystack),
        }
    }
}

/// Length of the UTF-8 character starting with `byte` (1 for continuation bytes, so that a
/// malformed position still advances).
fn utf8_len(byte: u8) -> usize {
    match byte {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

/// Iterative glob matching with single-star backtracking: linear in practice, never
/// exponential.
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(b'?') => {
                p += 1;
                t += utf8_len(text[t]);
            }
            Some(expected) if expected.eq_ignore_ascii_case(&text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    let resume = star_t + utf8_len(text[star_t]);
                    star = Some((star_p, resume));
                    p = star_p + 1;
                    t = resume;
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|b| *b == b'*')
}

/// True when `haystack` holds `needle` (ASCII-lowercase), ignoring ASCII case: the
/// comparison free-text terms use, for callers answering
/// [`Query::matches_call_with_payloads`].
pub fn contains_text(haystack: &[u8], needle: &[u8]) -> bool {
    contains_ignore_ascii_case(haystack, needle)
}

/// `0x01` in every byte of a word.
const EVERY_BYTE_ONE: u64 = u64::from_le_bytes([0x01; 8]);
/// `0x80` in every byte of a word.
const EVERY_BYTE_HIGH: u64 = u64::from_le_bytes([0x80; 8]);
/// `0x20`, the ASCII case bit, in every byte of a word.
const EVERY_BYTE_CASE: u64 = u64::from_le_bytes([0x20; 8]);

/// The high bit of every zero byte of `word` set (the lowest one exactly; one above a zero
/// byte may be set too, so candidates are always verified).
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(EVERY_BYTE_ONE) & !word & EVERY_BYTE_HIGH
}

/// ASCII case-insensitive substring search; `needle` must already be ASCII-lowercase.
///
/// Free text is searched in every retained payload when a filter is typed, so this is the
/// filter's hot loop. It reads the haystack eight bytes at a time: a position is a
/// candidate when its byte, and the byte after it, equal the needle's first two bytes once
/// the ASCII case bit is set in both (a superset of the real matches, found with word
/// arithmetic, no allocation and no lowered copy of the haystack); only candidates are
/// compared in full.
fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    let (first, second) = match needle {
        [] => return true,
        _ if haystack.len() < needle.len() => return false,
        [only] => return haystack.iter().any(|byte| byte.eq_ignore_ascii_case(only)),
        [first, second, ..] => (*first, *second),
    };
    let matches_at = |start: usize| {
        haystack
            .get(start..start + needle.len())
            .is_some_and(|window| window.eq_ignore_ascii_case(needle))
    };
    let last_start = haystack.len() - needle.len();
    let wanted_first = EVERY_BYTE_ONE * u64::from(first | 0x20);
    let wanted_second = EVERY_BYTE_ONE * u64::from(second | 0x20);
    // The last byte of a word has its successor in the next word: it stays a candidate on
    // its first byte alone.
    let last_lane = 0x80 << 56;
    let mut start = 0;
    for chunk in haystack.chunks_exact(8) {
        if start > last_start {
            return false;
        }
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let word = u64::from_le_bytes(bytes) | EVERY_BYTE_CASE;
        let first_matches = zero_bytes(word ^ wanted_first);
        if first_matches != 0 {
            let mut candidates =
                first_matches & ((zero_bytes(word ^ wanted_second) >> 8) | last_lane);
            while candidates != 0 {
                let candidate = start + (candidates.trailing_zeros() / 8) as usize;
                if candidate > last_start {
                    return false;
                }
                if matches_at(candidate) {
                    return true;
                }
                candidates &= candidates - 1;
            }
        }
        start += 8;
    }
    (start..=last_start).any(matches_at)
}

/// Matches on the error code: exact number or a pattern like `5xx`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CodePattern {
    Compare(Comparison, i64),
    /// Decimal digits with `x` wildcards, e.g. `4xx`.
    Digits(String),
}

impl CodePattern {
    fn matches(&self, code: Option<i64>) -> bool {
        let Some(code) = code else {
            return false;
        };
        match self {
            CodePattern::Compare(comparison, value) => comparison.holds(code, *value),
            CodePattern::Digits(pattern) => {
                let digits = code.to_string();
                digits.len() == pattern.len()
                    && digits
                        .bytes()
                        .zip(pattern.bytes())
                        .all(|(digit, wanted)| wanted == b'x' || digit == wanted)
            }
        }
    }
}

/// One compiled condition.
#[derive(Debug, Clone, PartialEq)]
enum Term {
    Method(Glob),
    Transport(Transport),
    Protocol(Protocol),
    /// Outcome counted as an error.
    AnyError,
    Outcome(Outcome),
    Code(CodePattern),
    Latency(Comparison, u64),
    Size(Comparison, u64),
    RequestId(Glob),
    Kind(CallKind),
    Direction(Direction),
    Malformed,
    Connection(Glob),
    Session(Glob),
    /// ASCII-lowercased needle.
    Text(String),
}

/// A node of the compiled query tree.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    Term(Term),
}

impl Term {
    /// `payload_contains` answers whether the call's payloads hold an (ASCII-lowercased)
    /// needle; it is asked only when the call's own fields do not hold it.
    fn matches_call<P: Fn(&[u8]) -> bool>(&self, call: &Call, payload_contains: &P) -> bool {
        match self {
            Term::Method(glob) => glob.matches(&call.method),
            Term::Transport(transport) => call.transport == *transport,
            Term::Protocol(protocol) => call.protocol == *protocol,
            Term::AnyError => call.outcome.is_error(),
            Term::Outcome(outcome) => call.outcome == *outcome,
            Term::Code(pattern) => pattern.matches(call.error_code),
            Term::Latency(comparison, micros) => call
                .latency_micros
                .is_some_and(|latency| comparison.holds(latency, *micros)),
            Term::Size(comparison, bytes) => comparison.holds(
                call.request_size_bytes
                    .saturating_add(call.response_size_bytes),
                *bytes,
            ),
            Term::RequestId(glob) => call.request_id.as_deref().is_some_and(|id| {
                glob.matches(id)
                    || id
                        .strip_prefix('"')
                        .and_then(|inner| inner.strip_suffix('"'))
                        .is_some_and(|inner| glob.matches(inner))
            }),
            Term::Kind(kind) => call.kind == *kind,
            Term::Direction(_) | Term::Malformed => false,
            Term::Connection(glob) => glob.matches(&call.connection_id),
            Term::Session(glob) => glob.matches(&call.session_id),
            Term::Text(needle) => {
                let needle = needle.as_bytes();
                let found = |text: &str| contains_ignore_ascii_case(text.as_bytes(), needle);
                found(&call.method)
                    || call.request_id.as_deref().is_some_and(found)
                    || call.error_message.as_deref().is_some_and(found)
                    || found(&call.connection_id)
                    || payload_contains(needle)
            }
        }
    }

    fn matches_frame<P: Fn(&[u8]) -> bool>(&self, frame: &Frame, payload_contains: &P) -> bool {
        match self {
            Term::Transport(transport) => frame.transport == *transport,
            Term::Protocol(protocol) => frame.protocol == *protocol,
            Term::Size(comparison, bytes) => comparison.holds(frame.size_bytes, *bytes),
            Term::Direction(direction) => frame.direction == *direction,
            Term::Malformed => frame.malformed.is_some(),
            Term::Connection(glob) => glob.matches(&frame.connection_id),
            Term::Session(glob) => glob.matches(&frame.session_id),
            Term::Text(needle) => {
                let needle = needle.as_bytes();
                let found = |text: &str| contains_ignore_ascii_case(text.as_bytes(), needle);
                found(&frame.summary)
                    || frame.malformed.as_deref().is_some_and(found)
                    || found(&frame.connection_id)
                    || payload_contains(needle)
            }
            Term::Method(_)
            | Term::AnyError
            | Term::Outcome(_)
            | Term::Code(_)
            | Term::Latency(..)
            | Term::RequestId(_)
            | Term::Kind(_) => false,
        }
    }
}

impl Term {
    /// Rough relative cost of evaluating the term: enum and number comparisons, then globs
    /// on short ids, then text searches.
    fn cost(&self) -> u32 {
        match self {
            Term::Transport(_)
            | Term::Protocol(_)
            | Term::AnyError
            | Term::Outcome(_)
            | Term::Kind(_)
            | Term::Direction(_)
            | Term::Malformed
            | Term::Latency(..)
            | Term::Size(..) => 1,
            Term::Code(CodePattern::Compare(..)) => 1,
            Term::Code(CodePattern::Digits(_)) => 3,
            Term::Method(glob)
            | Term::RequestId(glob)
            | Term::Connection(glob)
            | Term::Session(glob) => match glob.shape {
                GlobShape::Exact | GlobShape::Prefix(_) | GlobShape::Suffix(_) => 2,
                GlobShape::Contains(_) | GlobShape::General => 4,
            },
            Term::Text(_) => 8,
        }
    }
}

impl Node {
    fn cost(&self) -> u32 {
        match self {
            Node::Term(term) => term.cost(),
            Node::Not(node) => node.cost(),
            Node::All(nodes) | Node::Any(nodes) => nodes.iter().map(Node::cost).sum(),
        }
    }

    /// Evaluates the tree with `test` deciding each term; generic so that the term test is
    /// inlined for each kind of subject.
    fn matches<F: Fn(&Term) -> bool>(&self, test: &F) -> bool {
        match self {
            Node::Term(term) => test(term),
            Node::All(nodes) => nodes.iter().all(|node| node.matches(test)),
            Node::Any(nodes) => nodes.iter().any(|node| node.matches(test)),
            Node::Not(node) => !node.matches(test),
        }
    }
}

/// A parsed filter. The empty query (also [`Query::default`]) matches everything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    root: Option<Node>,
    source: String,
}

impl fmt::Display for Query {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.source)
    }
}

impl Query {
    /// Parses `text`. Blank text gives the query that matches everything.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        let tokens = tokenize(text)?;
        let mut parser = Parser {
            tokens: &tokens,
            index: 0,
            end: text.len(),
        };
        let root = if tokens.is_empty() {
            None
        } else {
            let node = parser.parse_or()?;
            if let Some(token) = parser.tokens.get(parser.index) {
                // parse_or stops only at `)` or the end.
                return Err(FilterError {
                    position: token.position,
                    kind: FilterErrorKind::UnmatchedClose,
                });
            }
            Some(node)
        };
        Ok(Self {
            root,
            source: text.to_owned(),
        })
    }

    /// True for the query that matches everything.
    pub fn is_empty(&self) -> bool {
        self.root.is_none()
    }

    /// The text the query was parsed from.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when `call` matches. Free text looks at the method, request id, error message
    /// and connection id.
    pub fn matches_call(&self, call: &Call) -> bool {
        self.matches_call_with_payloads(call, |_| false)
    }

    /// As [`Self::matches_call`], with free text also looking in `payload_texts` (the
    /// summaries or decoded payloads of the call's frames, as the caller has them).
    pub fn matches_call_with_text(&self, call: &Call, payload_texts: &[&str]) -> bool {
        self.matches_call_with_payloads(call, |needle| {
            payload_texts
                .iter()
                .any(|text| contains_ignore_ascii_case(text.as_bytes(), needle))
        })
    }

    /// As [`Self::matches_call`], with free text also looking in the call's payloads
    /// without gathering them first: `payload_contains(needle)` answers whether the payloads
    /// hold `needle` (ASCII-lowercased bytes; [`contains_text`] does the comparison). It is
    /// asked only for a free-text term the call's own fields do not satisfy, and only when
    /// the rest of the query leaves the answer open, so payloads are read for few calls.
    pub fn matches_call_with_payloads(
        &self,
        call: &Call,
        payload_contains: impl Fn(&[u8]) -> bool,
    ) -> bool {
        self.root.as_ref().is_none_or(|root| {
            root.matches(&|term: &Term| term.matches_call(call, &payload_contains))
        })
    }

    /// True when `frame` matches. Call-only terms (method, status, latency, ...) never
    /// match a frame.
    pub fn matches_frame(&self, frame: &Frame) -> bool {
        self.matches_frame_with_payload(frame, |_| false)
    }

    /// As [`Self::matches_frame`], with free text also looking in the frame's payload:
    /// `payload_contains(needle)` is asked as in [`Self::matches_call_with_payloads`].
    pub fn matches_frame_with_payload(
        &self,
        frame: &Frame,
        payload_contains: impl Fn(&[u8]) -> bool,
    ) -> bool {
        self.root.as_ref().is_none_or(|root| {
            root.matches(&|term: &Term| term.matches_frame(frame, &payload_contains))
        })
    }

    /// True when the query has a free-text term (one that may look into payloads).
    pub fn has_free_text(&self) -> bool {
        fn walk(node: &Node) -> bool {
            match node {
                Node::Term(term) => matches!(term, Term::Text(_)),
                Node::Not(node) => walk(node),
                Node::All(nodes) | Node::Any(nodes) => nodes.iter().any(walk),
            }
        }
        self.root.as_ref().is_some_and(walk)
    }

    /// The calls that match, in their original order.
    pub fn filter_calls<'a>(&'a self, calls: &'a [Call]) -> impl Iterator<Item = &'a Call> + 'a {
        calls.iter().filter(move |call| self.matches_call(call))
    }
}

/// A lexical token with the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
struct Token {
    position: usize,
    kind: TokenKind,
}

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    Open,
    Close,
    Or,
    Not,
    Term(Term),
}

fn is_separator(byte: u8) -> bool {
    byte.is_ascii_whitespace() || byte == b'(' || byte == b')'
}

/// Reads a bare or quoted value starting at `start`. Returns the value and the offset after
/// it.
fn read_value(text: &str, start: usize) -> Result<(String, usize), FilterError> {
    let bytes = text.as_bytes();
    if bytes.get(start) == Some(&b'"') {
        let mut value = String::new();
        let content_start = start + 1;
        let mut chars = text[content_start..].char_indices();
        while let Some((offset, character)) = chars.next() {
            match character {
                '"' => return Ok((value, content_start + offset + 1)),
                '\\' => match chars.next() {
                    Some((_, escaped)) => value.push(escaped),
                    None => break,
                },
                other => value.push(other),
            }
        }
        return Err(FilterError {
            position: start,
            kind: FilterErrorKind::UnterminatedQuote,
        });
    }
    let mut end = start;
    while end < bytes.len() && !is_separator(bytes[end]) {
        end += 1;
    }
    Ok((text[start..end].to_owned(), end))
}

fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte.is_ascii_whitespace() {
            index += 1;
            continue;
        }
        let position = index;
        let kind = match byte {
            b'(' => {
                index += 1;
                TokenKind::Open
            }
            b')' => {
                index += 1;
                TokenKind::Close
            }
            b'-' => {
                index += 1;
                if index >= bytes.len()
                    || bytes[index].is_ascii_whitespace()
                    || bytes[index] == b')'
                {
                    return Err(FilterError {
                        position,
                        kind: FilterErrorKind::DanglingNegation,
                    });
                }
                TokenKind::Not
            }
            _ => {
                let (term, end) = read_term(text, index)?;
                index = end;
                match term {
                    None => TokenKind::Or,
                    Some(term) => TokenKind::Term(term),
                }
            }
        };
        tokens.push(Token { position, kind });
    }
    Ok(tokens)
}

/// Reads one term at `start`; `Ok((None, end))` for the `OR` keyword.
fn read_term(text: &str, start: usize) -> Result<(Option<Term>, usize), FilterError> {
    let bytes = text.as_bytes();
    // A key is a run of ASCII letters directly followed by an operator.
    let mut key_end = start;
    while key_end < bytes.len() && bytes[key_end].is_ascii_alphabetic() {
        key_end += 1;
    }
    let operator = if key_end > start {
        match (bytes.get(key_end), bytes.get(key_end + 1)) {
            (Some(b'>'), Some(b'=')) => Some((Comparison::GreaterOrEqual, 2)),
            (Some(b'<'), Some(b'=')) => Some((Comparison::LessOrEqual, 2)),
            (Some(b'>'), _) => Some((Comparison::Greater, 1)),
            (Some(b'<'), _) => Some((Comparison::Less, 1)),
            (Some(b'='), _) => Some((Comparison::Equal, 1)),
            (Some(b':'), _) => Some((Comparison::Equal, 1)),
            _ => None,
        }
    } else {
        None
    };
    let Some((mut comparison, operator_len)) = operator else {
        let (value, end) = read_value(text, start)?;
        if bytes.get(start) != Some(&b'"') && value == "OR" {
            return Ok((None, end));
        }
        return Ok((Some(Term::Text(value.to_ascii_lowercase())), end));
    };
    let key = text[start..key_end].to_ascii_lowercase();
    let colon = bytes.get(key_end) == Some(&b':');
    let mut value_start = key_end + operator_len;
    // `latency:>100ms` is accepted as well as `latency>100ms`.
    if colon {
        match (bytes.get(value_start), bytes.get(value_start + 1)) {
            (Some(b'>'), Some(b'=')) => {
                (comparison, value_start) = (Comparison::GreaterOrEqual, value_start + 2)
            }
            (Some(b'<'), Some(b'=')) => {
                (comparison, value_start) = (Comparison::LessOrEqual, value_start + 2)
            }
            (Some(b'>'), _) => (comparison, value_start) = (Comparison::Greater, value_start + 1),
            (Some(b'<'), _) => (comparison, value_start) = (Comparison::Less, value_start + 1),
            (Some(b'='), _) => (comparison, value_start) = (Comparison::Equal, value_start + 1),
            _ => {}
        }
    }
    let (value, end) = read_value(text, value_start)?;
    if !is_known_key(&key) {
        if colon && value.starts_with("//") {
            // A URL typed as free text.
            let (whole, end) = read_value(text, start)?;
            return Ok((Some(Term::Text(whole.to_ascii_lowercase())), end));
        }
        return Err(FilterError {
            position: start,
            kind: FilterErrorKind::UnknownKey {
                key: text[start..key_end].to_owned(),
                known: KNOWN_KEYS,
            },
        });
    }
    if value.is_empty() {
        return Err(FilterError {
            position: start,
            kind: FilterErrorKind::MissingValue { key },
        });
    }
    let term = build_term(&key, comparison, &value).map_err(|kind| FilterError {
        position: value_start,
        kind,
    })?;
    if comparison != Comparison::Equal && !matches!(term, Term::Latency(..) | Term::Size(..)) {
        let is_code = matches!(term, Term::Code(CodePattern::Compare(..)));
        if !is_code {
            return Err(FilterError {
                position: key_end,
                kind: FilterErrorKind::OperatorNotAllowed {
                    key,
                    operator: comparison.as_str().to_owned(),
                },
            });
        }
    }
    Ok((Some(term), end))
}

fn is_known_key(key: &str) -> bool {
    matches!(
        key,
        "method"
            | "transport"
            | "protocol"
            | "status"
            | "outcome"
            | "code"
            | "latency"
            | "size"
            | "id"
            | "kind"
            | "dir"
            | "direction"
            | "is"
            | "conn"
            | "connection"
            | "session"
    )
}

fn invalid(key: &str, value: &str, expected: &'static str) -> FilterErrorKind {
    FilterErrorKind::InvalidValue {
        key: key.to_owned(),
        value: value.to_owned(),
        expected,
    }
}

fn parse_outcome(value: &str) -> Option<Outcome> {
    Some(match value {
        "ok" => Outcome::Ok,
        "error" => Outcome::Error,
        "pending" => Outcome::Pending,
        "timeout" => Outcome::Timeout,
        "orphan" => Outcome::Orphan,
        "duplicate" => Outcome::Duplicate,
        "invalid" => Outcome::Invalid,
        _ => return None,
    })
}

const OUTCOMES: &str = "ok, error, pending, timeout, orphan, duplicate or invalid";

fn build_term(key: &str, comparison: Comparison, value: &str) -> Result<Term, FilterErrorKind> {
    let lower = value.to_ascii_lowercase();
    Ok(match key {
        "method" => Term::Method(Glob::new(value)),
        "transport" => Term::Transport(match lower.as_str() {
            "http" | "fetch" | "xhr" => Transport::Http,
            "ws" | "websocket" => Transport::Websocket,
            "sse" | "eventsource" => Transport::Eventsource,
            "shm" | "shared-memory" | "sharedmemory" => Transport::SharedMemory,
            _ => {
                return Err(invalid(
                    key,
                    value,
                    "http, ws, websocket, sse, eventsource, shm or shared-memory",
                ));
            }
        }),
        "protocol" => Term::Protocol(match lower.as_str() {
            "jsonrpc2" | "jsonrpc" | "json-rpc" | "json-rpc2" => Protocol::JsonRpc2,
            "jsonrpc1" | "json-rpc1" => Protocol::JsonRpc1,
            "cafe" => Protocol::Cafe,
            "grpc-web" | "grpcweb" | "grpc" => Protocol::GrpcWeb,
            "http" => Protocol::Http,
            "raw" => Protocol::Raw,
            _ => {
                return Err(invalid(
                    key,
                    value,
                    "jsonrpc2, jsonrpc1, cafe, grpc-web, http or raw",
                ));
            }
        }),
        "status" => {
            if lower == "error" {
                Term::AnyError
            } else if let Some(outcome) = parse_outcome(&lower) {
                Term::Outcome(outcome)
            } else if let Some(pattern) = code_pattern(&lower, comparison) {
                Term::Code(pattern)
            } else {
                return Err(invalid(
                    key,
                    value,
                    "an outcome (ok, error, pending, timeout, orphan, duplicate, invalid) or a code like 404 or 5xx",
                ));
            }
        }
        "outcome" => match parse_outcome(&lower) {
            Some(outcome) => Term::Outcome(outcome),
            None => return Err(invalid(key, value, OUTCOMES)),
        },
        "code" => match code_pattern(&lower, comparison) {
            Some(pattern) => Term::Code(pattern),
            None => {
                return Err(invalid(
                    key,
                    value,
                    "an integer such as -32601 or 404, or 5xx",
                ));
            }
        },
        "latency" => Term::Latency(
            comparison,
            parse_duration_micros(&lower)
                .ok_or_else(|| invalid(key, value, "a duration with a unit: 250us, 100ms, 1.5s"))?,
        ),
        "size" => Term::Size(
            comparison,
            parse_size_bytes(&lower)
                .ok_or_else(|| invalid(key, value, "a size with a unit: 512b, 4kb, 1.5mb"))?,
        ),
        "id" => Term::RequestId(Glob::new(value)),
        "kind" => Term::Kind(match lower.as_str() {
            "call" | "request" => CallKind::Call,
            "notification" | "notify" => CallKind::Notification,
            _ => return Err(invalid(key, value, "call or notification")),
        }),
        "dir" | "direction" => Term::Direction(match lower.as_str() {
            "sent" | "send" | "out" | "up" => Direction::Sent,
            "received" | "receive" | "recv" | "in" | "down" => Direction::Received,
            _ => return Err(invalid(key, value, "sent or received")),
        }),
        "is" => match lower.as_str() {
            "malformed" => Term::Malformed,
            "error" => Term::AnyError,
            "notification" => Term::Kind(CallKind::Notification),
            other => match parse_outcome(other) {
                Some(outcome) => Term::Outcome(outcome),
                None => {
                    return Err(invalid(
                        key,
                        value,
                        "malformed, error, notification or an outcome",
                    ));
                }
            },
        },
        "conn" | "connection" => Term::Connection(Glob::new(value)),
        "session" => Term::Session(Glob::new(value)),
        _ => {
            return Err(FilterErrorKind::UnknownKey {
                key: key.to_owned(),
                known: KNOWN_KEYS,
            });
        }
    })
}

fn code_pattern(value: &str, comparison: Comparison) -> Option<CodePattern> {
    if let Ok(number) = value.parse::<i64>() {
        return Some(CodePattern::Compare(comparison, number));
    }
    let is_digit_pattern = !value.is_empty()
        && value.contains('x')
        && value
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte == b'x');
    (is_digit_pattern && comparison == Comparison::Equal)
        .then(|| CodePattern::Digits(value.to_owned()))
}

/// Splits `12.5ms` into `12.5` and `ms` and scales the number by the unit's factor.
fn parse_scaled(value: &str, units: &[(&str, f64)]) -> Option<u64> {
    let split = value
        .find(|character: char| !(character.is_ascii_digit() || character == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    if number.is_empty() {
        return None;
    }
    let factor = units
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, factor)| *factor)?;
    let amount: f64 = number.parse().ok()?;
    let scaled = (amount * factor).round();
    (scaled.is_finite() && scaled >= 0.0 && scaled <= u64::MAX as f64).then_some(scaled as u64)
}

/// `250us`, `100ms`, `1.5s` in microseconds.
fn parse_duration_micros(value: &str) -> Option<u64> {
    parse_scaled(
        value,
        &[
            ("us", 1.0),
            ("µs", 1.0),
            ("ms", 1_000.0),
            ("s", 1_000_000.0),
        ],
    )
}

/// `512b`, `4kb`, `1.5mb` in bytes (1024-based).
fn parse_size_bytes(value: &str) -> Option<u64> {
    parse_scaled(
        value,
        &[
            ("b", 1.0),
            ("k", 1024.0),
            ("kb", 1024.0),
            ("m", 1_048_576.0),
            ("mb", 1_048_576.0),
        ],
    )
}

struct Parser<'a> {
    tokens: &'a [Token],
    index: usize,
    end: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.index)
    }

    fn position(&self) -> usize {
        self.peek().map_or(self.end, |token| token.position)
    }

    /// `and (OR and)*`; stops before `)` or at the end.
    fn parse_or(&mut self) -> Result<Node, FilterError> {
        let mut alternatives = vec![self.parse_and()?];
        while let Some(token) = self.peek() {
            if token.kind != TokenKind::Or {
                break;
            }
            let or_position = token.position;
            self.index += 1;
            if matches!(
                self.peek().map(|t| &t.kind),
                None | Some(TokenKind::Close | TokenKind::Or)
            ) {
                return Err(FilterError {
                    position: or_position,
                    kind: FilterErrorKind::DanglingOr,
                });
            }
            alternatives.push(self.parse_and()?);
        }
        Ok(if alternatives.len() == 1 {
            alternatives.remove(0)
        } else {
            alternatives.sort_by_key(Node::cost);
            Node::Any(alternatives)
        })
    }

    /// One or more unary terms.
    fn parse_and(&mut self) -> Result<Node, FilterError> {
        let mut terms = Vec::new();
        while let Some(token) = self.peek() {
            if matches!(token.kind, TokenKind::Or | TokenKind::Close) {
                break;
            }
            terms.push(self.parse_unary()?);
        }
        match terms.len() {
            0 => {
                let position = self.position();
                let kind = match self.peek().map(|t| &t.kind) {
                    Some(TokenKind::Or) => FilterErrorKind::DanglingOr,
                    Some(TokenKind::Close) if self.index == 0 => FilterErrorKind::UnmatchedClose,
                    _ => FilterErrorKind::EmptyGroup,
                };
                Err(FilterError { position, kind })
            }
            1 => Ok(terms.remove(0)),
            _ => {
                // AND and OR do not depend on order: test the cheap conditions first.
                terms.sort_by_key(Node::cost);
                Ok(Node::All(terms))
            }
        }
    }

    fn parse_unary(&mut self) -> Result<Node, FilterError> {
        let Some(token) = self.peek() else {
            return Err(FilterError {
                position: self.end,
                kind: FilterErrorKind::EmptyGroup,
            });
        };
        let position = token.position;
        match &token.kind {
            TokenKind::Not => {
                self.index += 1;
                if matches!(
                    self.peek().map(|t| &t.kind),
                    None | Some(TokenKind::Or | TokenKind::Close)
                ) {
                    return Err(FilterError {
                        position,
                        kind: FilterErrorKind::DanglingNegation,
                    });
                }
                Ok(Node::Not(Box::new(self.parse_unary()?)))
            }
            TokenKind::Open => {
                self.index += 1;
                if matches!(self.peek().map(|t| &t.kind), Some(TokenKind::Close)) {
                    return Err(FilterError {
                        position,
                        kind: FilterErrorKind::EmptyGroup,
                    });
                }
                if self.peek().is_none() {
                    return Err(FilterError {
                        position,
                        kind: FilterErrorKind::UnclosedGroup,
                    });
                }
                let inner = self.parse_or()?;
                match self.peek() {
                    Some(Token {
                        kind: TokenKind::Close,
                        ..
                    }) => {
                        self.index += 1;
                        Ok(inner)
                    }
                    _ => Err(FilterError {
                        position,
                        kind: FilterErrorKind::UnclosedGroup,
                    }),
                }
            }
            TokenKind::Term(term) => {
                let term = term.clone();
                self.index += 1;
                Ok(Node::Term(term))
            }
            TokenKind::Close => Err(FilterError {
                position,
                kind: FilterErrorKind::UnmatchedClose,
            }),
            TokenKind::Or => Err(FilterError {
                position,
                kind: FilterErrorKind::DanglingOr,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn call(method: &str) -> Call {
        Call {
            call_id: 1,
            session_id: "page-1".into(),
            connection_id: "ws-3".into(),
            transport: Transport::Websocket,
            protocol: Protocol::JsonRpc2,
            method: method.into(),
            request_id: Some("42".into()),
            kind: CallKind::Call,
            outcome: Outcome::Ok,
            error_code: None,
            error_message: None,
            started_micros: 1_000,
            ended_micros: Some(151_000),
            latency_micros: Some(150_000),
            request_frame_id: Some(1),
            response_frame_id: Some(2),
            request_size_bytes: 100,
            response_size_bytes: 2_000,
        }
    }

    fn frame(summary: &str) -> Frame {
        Frame {
            frame_id: 7,
            session_id: "page-1".into(),
            connection_id: "ws-3".into(),
            transport: Transport::Websocket,
            direction: Direction::Received,
            time_micros: 5,
            protocol: Protocol::Cafe,
            size_bytes: 64,
            summary: summary.into(),
            malformed: None,
        }
    }

    fn matches(query: &str, call: &Call) -> bool {
        Query::parse(query)
            .unwrap_or_else(|error| panic!("{query:?}: {error}"))
            .matches_call(call)
    }

    #[test]
    fn table_of_call_matches() {
        let ok = call("User.Get");
        let mut failed = call("Arith.Divide");
        failed.outcome = Outcome::Error;
        failed.error_code = Some(-32000);
        failed.error_message = Some("division by zero".into());
        failed.transport = Transport::Http;
        failed.protocol = Protocol::JsonRpc1;
        failed.latency_micros = Some(900);
        failed.request_id = Some("\"abc\"".into());
        let mut pending = call("User.List");
        pending.outcome = Outcome::Pending;
        pending.latency_micros = None;
        pending.kind = CallKind::Notification;
        let mut http_error = call("GET /api/users");
        http_error.transport = Transport::Http;
        http_error.protocol = Protocol::Http;
        http_error.outcome = Outcome::Error;
        http_error.error_code = Some(503);

        // (name, query, [ok, failed, pending, http_error])
        let cases: &[(&str, &str, [bool; 4])] = &[
            ("empty matches all", "", [true, true, true, true]),
            ("blank matches all", "   ", [true, true, true, true]),
            ("method glob", "method:User.*", [true, false, true, false]),
            (
                "method exact",
                "method:user.get",
                [true, false, false, false],
            ),
            (
                "method question mark",
                "method:User.?et",
                [true, false, false, false],
            ),
            (
                "method suffix",
                "method:*Divide",
                [false, true, false, false],
            ),
            ("method contains", "method:*ser*", [true, false, true, true]),
            (
                "method general glob",
                "method:U*.L?st",
                [false, false, true, false],
            ),
            (
                "transport alias ws",
                "transport:ws",
                [true, false, true, false],
            ),
            (
                "transport websocket",
                "transport:WebSocket",
                [true, false, true, false],
            ),
            (
                "transport http",
                "transport:http",
                [false, true, false, true],
            ),
            (
                "transport sse",
                "transport:sse",
                [false, false, false, false],
            ),
            (
                "status error counts errors",
                "status:error",
                [false, true, false, true],
            ),
            ("status ok", "status:ok", [true, false, false, false]),
            (
                "outcome pending",
                "outcome:pending",
                [false, false, true, false],
            ),
            (
                "status code class",
                "status:5xx",
                [false, false, false, true],
            ),
            (
                "status exact code",
                "status:503",
                [false, false, false, true],
            ),
            ("rpc error code", "code:-32000", [false, true, false, false]),
            ("code comparison", "code>=500", [false, false, false, true]),
            (
                "latency greater",
                "latency>100ms",
                [true, false, false, true],
            ),
            (
                "latency colon operator",
                "latency:>=150ms",
                [true, false, false, true],
            ),
            (
                "latency micros",
                "latency<1000us",
                [false, true, false, false],
            ),
            ("latency seconds", "latency<0.2s", [true, true, false, true]),
            ("latency equal", "latency=150ms", [true, false, false, true]),
            ("size", "size>3kb", [false, false, false, false]),
            ("size bytes", "size>=2100b", [true, true, true, true]),
            ("id number", "id:42", [true, false, true, true]),
            ("id string unquoted", "id:abc", [false, true, false, false]),
            (
                "id string quoted",
                "id:\"\\\"abc\\\"\"",
                [false, true, false, false],
            ),
            ("protocol", "protocol:jsonrpc1", [false, true, false, false]),
            (
                "protocol alias",
                "protocol:JSONRPC",
                [true, false, true, false],
            ),
            ("kind", "kind:notification", [false, false, true, false]),
            ("is pending", "is:pending", [false, false, true, false]),
            ("free text method", "divide", [false, true, false, false]),
            (
                "free text error message",
                "\"by zero\"",
                [false, true, false, false],
            ),
            ("free text connection", "ws-3", [true, true, true, true]),
            ("negation", "-method:User.*", [false, true, false, true]),
            (
                "and",
                "transport:http status:error",
                [false, true, false, true],
            ),
            (
                "and with negation",
                "transport:http -protocol:http",
                [false, true, false, false],
            ),
            (
                "or",
                "method:User.Get OR code:503",
                [true, false, false, true],
            ),
            (
                "or binds looser than and",
                "transport:ws kind:call OR divide",
                [true, true, false, false],
            ),
            (
                "group",
                "transport:http (divide OR users)",
                [false, true, false, true],
            ),
            (
                "negated group",
                "-(status:error OR is:pending)",
                [true, false, false, false],
            ),
            ("conn glob", "conn:ws-*", [true, true, true, true]),
            ("session", "session:other", [false, false, false, false]),
            (
                "url as free text",
                "http://example",
                [false, false, false, false],
            ),
            (
                "dir never matches calls",
                "dir:sent",
                [false, false, false, false],
            ),
        ];
        let calls = [&ok, &failed, &pending, &http_error];
        for (name, query, expected) in cases {
            let got: Vec<bool> = calls.iter().map(|c| matches(query, c)).collect();
            assert_eq!(&got[..], &expected[..], "case {name:?}: {query:?}");
        }
    }

    #[test]
    fn free_text_also_searches_payload_texts() {
        let query = Query::parse("alice").unwrap();
        let user = call("User.Get");
        assert!(!query.matches_call(&user));
        assert!(query.matches_call_with_text(&user, &[r#"{"name":"Alice"}"#]));
    }

    #[test]
    fn payloads_are_asked_only_when_a_text_term_needs_them() {
        use std::cell::Cell;
        let user = call("User.Get");
        let payload = br#"{"name":"Alice"}"#;
        let cases: &[(&str, bool, usize)] = &[
            // (query, matches, times the payload was asked)
            ("alice", true, 1),
            ("ALICE", true, 1),
            ("bob", false, 1),
            ("-alice", false, 1),
            ("user", true, 0),
            ("method:Other.* alice", false, 0),
            ("method:User.* alice", true, 1),
            ("alice OR bob", true, 1),
            ("transport:ws", true, 0),
            ("", true, 0),
        ];
        for (text, expected, expected_asks) in cases {
            let query = Query::parse(text).unwrap();
            let asks = Cell::new(0);
            let got = query.matches_call_with_payloads(&user, |needle| {
                asks.set(asks.get() + 1);
                contains_text(payload, needle)
            });
            assert_eq!(got, *expected, "{text:?}");
            assert_eq!(asks.get(), *expected_asks, "payload asks for {text:?}");
        }
        let mut tick = frame("ws text 12 bytes");
        tick.malformed = None;
        let query = Query::parse("alice").unwrap();
        assert!(!query.matches_frame(&tick));
        assert!(query.matches_frame_with_payload(&tick, |needle| contains_text(payload, needle)));
        assert!(query.has_free_text());
        assert!(
            Query::parse("-(method:a OR \"two words\")")
                .unwrap()
                .has_free_text()
        );
        assert!(
            !Query::parse("method:a latency>1ms")
                .unwrap()
                .has_free_text()
        );
        assert!(!Query::default().has_free_text());
    }

    #[test]
    fn frames_match_frame_terms_only() {
        let mut bad = frame("cafe req 9");
        bad.malformed = Some("bad magic 0xBEEF".into());
        let good = frame("cafe resp 9");
        let cases: &[(&str, [bool; 2])] = &[
            ("is:malformed", [true, false]),
            ("-is:malformed", [false, true]),
            ("magic", [true, false]),
            ("resp", [false, true]),
            ("dir:received transport:ws protocol:cafe", [true, true]),
            ("dir:sent", [false, false]),
            ("size>=64b", [true, true]),
            ("method:*", [false, false]),
            ("-latency>1ms", [true, true]),
        ];
        for (query, expected) in cases {
            let query_parsed = Query::parse(query).unwrap();
            let got = [
                query_parsed.matches_frame(&bad),
                query_parsed.matches_frame(&good),
            ];
            assert_eq!(&got, expected, "{query:?}");
        }
    }

    #[test]
    fn parse_errors_point_at_the_problem() {
        let cases: &[(&str, usize, &str)] = &[
            ("method:User.* colour:red", 14, "unknown filter `colour:`"),
            ("latency>100", 8, "duration with a unit"),
            ("latency>fast", 8, "duration with a unit"),
            ("transport:carrier-pigeon", 10, "not a valid transport"),
            ("status:maybe", 7, "not a valid status"),
            ("method>3", 6, "does not support `>`"),
            ("method:", 0, "needs a value"),
            ("\"unterminated", 0, "unterminated"),
            ("method:\"User", 7, "unterminated"),
            ("a )", 2, "without a matching `(`"),
            ("(a b", 0, "never closed"),
            ("()", 0, "empty group"),
            ("a - b", 2, "`-` must be followed"),
            ("a -", 2, "`-` must be followed"),
            ("OR a", 0, "`OR` needs"),
            ("a OR", 2, "`OR` needs"),
            ("a OR OR b", 2, "`OR` needs"),
            ("size>1tb", 5, "size with a unit"),
            ("kind:maybe", 5, "call or notification"),
            ("x (a OR )", 5, "`OR` needs"),
        ];
        for (query, position, message) in cases {
            let error = Query::parse(query).expect_err(query);
            assert_eq!(error.position, *position, "{query:?}: {error}");
            let text = error.to_string();
            assert!(text.contains(message), "{query:?}: {text}");
            assert!(
                text.starts_with(&format!("at position {position}: ")),
                "{text}"
            );
        }
    }

    #[test]
    fn positions_are_byte_offsets_after_multibyte_text() {
        let error = Query::parse("héllo latency>fast").unwrap_err();
        assert_eq!(error.position, "héllo latency>".len());
    }

    #[test]
    fn durations_and_sizes_convert_units() {
        assert_eq!(parse_duration_micros("250us"), Some(250));
        assert_eq!(parse_duration_micros("250µs"), Some(250));
        assert_eq!(parse_duration_micros("1.5ms"), Some(1_500));
        assert_eq!(parse_duration_micros("2s"), Some(2_000_000));
        assert_eq!(parse_duration_micros("ms"), None);
        assert_eq!(parse_duration_micros("1.2.3ms"), None);
        assert_eq!(parse_duration_micros("5h"), None);
        assert_eq!(parse_size_bytes("1kb"), Some(1024));
        assert_eq!(parse_size_bytes("1.5mb"), Some(1_572_864));
        assert_eq!(parse_size_bytes("12"), None);
    }

    #[test]
    fn glob_matching_handles_backtracking_and_unicode() {
        let cases: &[(&str, &str, bool)] = &[
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("*", "", true),
            ("", "", true),
            ("", "x", false),
            ("?", "é", true),
            ("??", "é", false),
            ("*.get", "User.GET", true),
            ("u*r.*t", "User.Get", true),
            (
                "*a*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                Glob::new(pattern).matches(text),
                *expected,
                "{pattern:?} ~ {text:?}"
            );
        }
    }

    #[test]
    fn display_returns_the_source_text() {
        let query = Query::parse("method:User.* -status:ok").unwrap();
        assert_eq!(query.to_string(), "method:User.* -status:ok");
        assert!(!query.is_empty());
        assert!(Query::default().is_empty());
    }

    #[test]
    fn filter_calls_keeps_order() {
        let calls = vec![call("A.x"), call("B.y"), call("A.z")];
        let query = Query::parse("method:A.*").unwrap();
        let methods: Vec<&str> = query
            .filter_calls(&calls)
            .map(|c| c.method.as_str())
            .collect();
        assert_eq!(methods, ["A.x", "A.z"]);
    }

    /// The obvious search, as the reference for the word-at-a-time one.
    fn contains_reference(haystack: &[u8], needle: &[u8]) -> bool {
        needle.is_empty()
            || haystack
                .windows(needle.len())
                .any(|window| window.eq_ignore_ascii_case(needle))
    }

    #[test]
    fn text_search_agrees_with_the_obvious_search_at_every_position_and_length() {
        // Letters in both cases, bytes one case bit away from them ('@' and '`', '[' and
        // '{', control bytes), UTF-8 and zero bytes: everything the candidate test folds.
        let alphabet: &[u8] = b"aAbB@`[{_\x7f\x01!0 \"\xc3\xa9\x00uUsSeErR";
        let needles: [&[u8]; 10] = [
            b"user",
            b"ab",
            b"a",
            b"@`",
            b"_\x7f",
            b"\xc3\xa9",
            b"\x00u",
            b"\"a\"",
            b"zz",
            b"bab",
        ];
        let mut seed: u32 = 0x9e37_79b9;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        let mut found = 0;
        for length in 0..40 {
            for _ in 0..60 {
                let haystack: Vec<u8> = (0..length)
                    .map(|_| alphabet[next() as usize % alphabet.len()])
                    .collect();
                for needle in needles {
                    let expected = contains_reference(&haystack, needle);
                    found += usize::from(expected);
                    assert_eq!(
                        contains_ignore_ascii_case(&haystack, needle),
                        expected,
                        "{:?} in {:?}",
                        String::from_utf8_lossy(needle),
                        String::from_utf8_lossy(&haystack)
                    );
                }
            }
        }
        assert!(
            found > 1_000,
            "the generated cases must contain matches too ({found})"
        );
        // A match at every offset of a long haystack, the needle in any case.
        for offset in 0..70 {
            let mut haystack = vec![b'x'; 80];
            haystack[offset..offset + 4].copy_from_slice(b"UsEr");
            assert!(
                contains_ignore_ascii_case(&haystack, b"user"),
                "at {offset}"
            );
            haystack[offset + 3] = b'_';
            assert!(
                !contains_ignore_ascii_case(&haystack, b"user"),
                "near miss at {offset}"
            );
        }
    }
}
