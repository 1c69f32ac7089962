//! "Copy as websocat" for captured WebSocket connections and messages.
//!
//! Data enters as the parts of a captured connection ([`WebSocketParts`]: URL and requested
//! subprotocols) and, for a message, its content ([`WebSocketMessage`]); it leaves as a POSIX
//! shell command line for [websocat](https://github.com/vi/websocat) 1.x that opens the same
//! connection and, for a message, sends exactly that message again:
//!
//! - a text message without line breaks goes through websocat's line mode with
//!   `--linemode-strip-newlines`, so the message holds the text and nothing else;
//! - a text message with line breaks is sent with `--no-line` (one read of standard input is
//!   one message), because line mode would cut it into several messages;
//! - a binary message needs `--binary` (websocat sends text messages by default); its bytes
//!   are written as hex and turned back into bytes by `xxd -r -p`.
//!
//! Secrets are redacted by default, as in every export (see [`crate::export::redact`]):
//! tokens in the URL query, passwords in the URL's user info, and secret JSON members or
//! `name=value` pairs in text messages (and in binary messages that hold UTF-8 JSON). The
//! redacted text is marked `[REDACTED]`, so a command with redactions will not authenticate:
//! the caller can pass [`RedactionConfig::disabled`] when the user asks for the raw command.

use std::fmt::Write as _;

use crate::export::redact::{RedactionConfig, redact_json_text, redact_text, redact_url};
use crate::view::snippet::shell_quote;

/// websocat's default largest message (`--buffer-size`), in bytes.
const WEBSOCAT_DEFAULT_BUFFER_BYTES: usize = 65_536;

/// Writes to a pipe up to this size are atomic (POSIX `PIPE_BUF` on Linux), so `--no-line`
/// reads them in one piece.
const ATOMIC_PIPE_WRITE_BYTES: usize = 4_096;

/// A captured WebSocket connection, as far as reconnecting needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketParts {
    /// `ws:` or `wss:` URL as the page opened it.
    pub url: String,
    /// Subprotocols the page asked for (`new WebSocket(url, protocols)`), in order; when only
    /// the negotiated one is known, that one.
    pub protocols: Vec<String>,
}

/// One captured WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebSocketMessage {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

/// A `websocat` command that opens the connection and, when `message` is given, sends it.
/// Everything user-controlled is shell-quoted.
pub fn websocat_command(
    connection: &WebSocketParts,
    message: Option<&WebSocketMessage>,
    redaction: &RedactionConfig,
) -> String {
    let url = redact_url(&connection.url, redaction);
    let mut options: Vec<String> = Vec::new();
    let mut command = String::new();
    match message {
        None => {}
        Some(WebSocketMessage::Text(text)) => {
            let text = redact_text(text, false, redaction);
            if text.contains(['\n', '\r']) {
                if text.len() > ATOMIC_PIPE_WRITE_BYTES {
                    command.push_str(
                        "# A message of more than 4 KiB may reach websocat in several reads \
                         (and go out as several messages).\n",
                    );
                }
                let _ = write!(command, "printf '%s' {} | ", shell_quote(&text));
                options.push("--no-line".to_owned());
            } else {
                let _ = write!(command, "printf '%s\\n' {} | ", shell_quote(&text));
                options.push("--linemode-strip-newlines".to_owned());
            }
            if text.len() >= WEBSOCAT_DEFAULT_BUFFER_BYTES {
                options.push(format!("--buffer-size {}", text.len() + 1));
            }
        }
        Some(WebSocketMessage::Binary(bytes)) => {
            let redacted = std::str::from_utf8(bytes)
                .ok()
                .and_then(|text| redact_json_text(text, redaction));
            let bytes = redacted.as_ref().map_or(bytes.as_slice(), String::as_bytes);
            command.push_str(
                "# A binary message: websocat needs --binary (it sends text otherwise); \
                 xxd -r -p turns the hex back into bytes.\n",
            );
            if bytes.len() > ATOMIC_PIPE_WRITE_BYTES {
                command.push_str(
                    "# A message of more than 4 KiB may reach websocat in several reads \
                     (and go out as several messages).\n",
                );
            }
            let mut hex = String::with_capacity(bytes.len() * 2);
            for byte in bytes {
                let _ = write!(hex, "{byte:02x}");
            }
            let _ = write!(command, "printf '%s' {} | xxd -r -p | ", shell_quote(&hex));
            options.push("--binary".to_owned());
            options.push("--no-line".to_owned());
            if bytes.len() >= WEBSOCAT_DEFAULT_BUFFER_BYTES {
                options.push(format!("--buffer-size {}", bytes.len() + 1));
            }
        }
    }
    let protocols: Vec<&str> = connection
        .protocols
        .iter()
        .map(|protocol| protocol.trim())
        .filter(|protocol| !protocol.is_empty())
        .collect();
    if !protocols.is_empty() {
        options.push(format!("--protocol {}", shell_quote(&protocols.join(", "))));
    }
    command.push_str("websocat");
    for option in options {
        command.push(' ');
        command.push_str(&option);
    }
    command.push(' ');
    command.push_str(&shell_quote(&url));
    command
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn connection() -> WebSocketParts {
        WebSocketParts {
            url: "ws://127.0.0.1:8737/demo/ws?room=it's&token=tk-secret-1".into(),
            protocols: vec!["jsonrpc".into(), "chat.v2".into()],
        }
    }

    #[test]
    fn connection_alone_gets_protocols_and_a_redacted_quoted_url() {
        let command = websocat_command(&connection(), None, &RedactionConfig::default());
        assert_eq!(
            command,
            "websocat --protocol 'jsonrpc, chat.v2' \
             'ws://127.0.0.1:8737/demo/ws?room=it'\\''s&token=%5BREDACTED%5D'"
        );
        let raw = websocat_command(&connection(), None, &RedactionConfig::disabled());
        assert!(raw.contains("token=tk-secret-1"), "{raw}");
    }

    #[test]
    fn text_message_is_sent_exactly_once_with_its_secrets_redacted() {
        let message = WebSocketMessage::Text(
            r#"{"jsonrpc":"2.0","method":"Session.Resume","params":{"sessionToken":"st-9","note":"it's"},"id":7}"#
                .into(),
        );
        let command = websocat_command(&connection(), Some(&message), &RedactionConfig::default());
        assert_eq!(
            command,
            "printf '%s\\n' '{\"jsonrpc\":\"2.0\",\"method\":\"Session.Resume\",\"params\":\
             {\"sessionToken\":\"[REDACTED]\",\"note\":\"it'\\''s\"},\"id\":7}' | \
             websocat --linemode-strip-newlines --protocol 'jsonrpc, chat.v2' \
             'ws://127.0.0.1:8737/demo/ws?room=it'\\''s&token=%5BREDACTED%5D'"
        );
    }

    #[test]
    fn multi_line_text_avoids_line_mode() {
        let message = WebSocketMessage::Text("line one\nline two".into());
        let command = websocat_command(
            &WebSocketParts {
                url: "ws://127.0.0.1:1/".into(),
                protocols: Vec::new(),
            },
            Some(&message),
            &RedactionConfig::default(),
        );
        assert_eq!(
            command,
            "printf '%s' 'line one\nline two' | websocat --no-line 'ws://127.0.0.1:1/'"
        );
    }

    #[test]
    fn binary_message_needs_binary_and_goes_through_xxd() {
        let message = WebSocketMessage::Binary(vec![0xca, 0xfe, 0x01, 0x00, 0x0a, 0xff]);
        let command = websocat_command(&connection(), Some(&message), &RedactionConfig::default());
        let last_line = command.lines().last().unwrap();
        assert!(command.contains("websocat needs --binary"), "{command}");
        assert!(
            last_line.starts_with("printf '%s' 'cafe01000aff' | xxd -r -p | websocat --binary --no-line --protocol 'jsonrpc, chat.v2' "),
            "{command}"
        );
    }

    #[test]
    fn binary_json_is_redacted_too() {
        let message = WebSocketMessage::Binary(br#"{"password":"pw-7"}"#.to_vec());
        let command = websocat_command(&connection(), Some(&message), &RedactionConfig::default());
        let hex_of = |text: &str| -> String { text.bytes().map(|b| format!("{b:02x}")).collect() };
        assert!(!command.contains(&hex_of("pw-7")), "{command}");
        assert!(command.contains(&hex_of("[REDACTED]")), "{command}");
    }

    #[test]
    fn large_messages_raise_the_buffer_size() {
        let message = WebSocketMessage::Text("x".repeat(70_000));
        let command = websocat_command(&connection(), Some(&message), &RedactionConfig::default());
        assert!(
            command.contains("--buffer-size 70001"),
            "{}",
            &command[..200]
        );
    }
}
