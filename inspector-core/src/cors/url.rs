//! The small part of URL handling that CORS needs: origins, userinfo, resolving a redirect's
//! `Location`, and Chromium's "is this a valid URL" test on `Access-Control-Allow-Origin`.
//!
//! Strings enter (request URLs, page origins, `Location` values) and leave as
//! [`ParsedUrl`]s or serialized origins. This is not a general URL parser: it handles
//! absolute hierarchical URLs and the relative forms a `Location` header uses.

/// A parsed absolute URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    /// Lower-cased scheme without the colon.
    pub scheme: String,
    /// True when the URL carries a user name or password (`user:pass@host`).
    pub has_credentials: bool,
    /// Lower-cased host (IPv6 addresses keep their brackets). Empty for non-hierarchical URLs.
    pub host: String,
    /// Explicit port, if any and not the scheme's default.
    pub port: Option<u16>,
    /// Path, query and fragment as written (starts with `/` for hierarchical URLs).
    pub path_and_query: String,
}

/// Error returned when a URL cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{url}` is not an absolute URL: {reason}")]
pub struct UrlError {
    /// The text that was read.
    pub url: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// True for the schemes the URL standard calls special (they have hosts).
fn is_special(scheme: &str) -> bool {
    matches!(scheme, "http" | "https" | "ws" | "wss" | "ftp" | "file")
}

fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let colon = text.find(':')?;
    let scheme = &text[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic()
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    Some((scheme, &text[colon + 1..]))
}

fn is_forbidden_host_char(c: char) -> bool {
    matches!(
        c,
        '\0' | '\t'
            | '\n'
            | '\r'
            | ' '
            | '#'
            | '/'
            | ':'
            | '<'
            | '>'
            | '?'
            | '@'
            | '['
            | '\\'
            | ']'
            | '^'
            | '|'
            | '%'
    )
}

impl ParsedUrl {
    /// Parses an absolute URL such as `https://api.example.com:8443/rpc?x=1`.
    pub fn parse(text: &str) -> Result<ParsedUrl, UrlError> {
        let error = |reason| UrlError {
            url: text.to_string(),
            reason,
        };
        let trimmed = text.trim();
        let (scheme, rest) = split_scheme(trimmed).ok_or_else(|| error("no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        if !is_special(&scheme) && !rest.starts_with("//") {
            // Opaque URL such as `data:...` or `mailto:...`: no host, no origin.
            return Ok(ParsedUrl {
                scheme,
                has_credentials: false,
                host: String::new(),
                port: None,
                path_and_query: rest.to_string(),
            });
        }
        let after_slashes = rest.trim_start_matches(['/', '\\']);
        let authority_end = after_slashes
            .find(['/', '\\', '?', '#'])
            .unwrap_or(after_slashes.len());
        let authority = &after_slashes[..authority_end];
        let mut path_and_query = after_slashes[authority_end..].replace('\\', "/");
        if !path_and_query.starts_with('/') {
            path_and_query.insert(0, '/');
        }
        let (has_credentials, host_port) = match authority.rfind('@') {
            Some(at) => (true, &authority[at + 1..]),
            None => (false, authority),
        };
        let (host, port_text) = if host_port.starts_with('[') {
            let close = host_port
                .find(']')
                .ok_or_else(|| error("unterminated IPv6 address"))?;
            let after = &host_port[close + 1..];
            let port = match after.strip_prefix(':') {
                Some(port) => Some(port),
                None if after.is_empty() => None,
                None => return Err(error("junk after IPv6 address")),
            };
            (&host_port[..=close], port)
        } else {
            match host_port.rfind(':') {
                Some(colon) => (&host_port[..colon], Some(&host_port[colon + 1..])),
                None => (host_port, None),
            }
        };
        if host.is_empty() && scheme != "file" {
            return Err(error("empty host"));
        }
        if !host.starts_with('[') && host.chars().any(is_forbidden_host_char) {
            return Err(error("forbidden character in host"));
        }
        let port = match port_text {
            None | Some("") => None,
            Some(digits) => {
                let number: u16 = digits.parse().map_err(|_| error("invalid port"))?;
                (Some(number) != default_port(&scheme)).then_some(number)
            }
        };
        Ok(ParsedUrl {
            scheme,
            has_credentials,
            host: host.to_ascii_lowercase(),
            port,
            path_and_query,
        })
    }

    /// The serialized origin (`scheme://host[:port]`), or `null` for schemes without one.
    pub fn origin(&self) -> String {
        if !matches!(
            self.scheme.as_str(),
            "http" | "https" | "ws" | "wss" | "ftp"
        ) {
            return "null".to_string();
        }
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    /// True for `http` and `https`.
    pub fn is_http(&self) -> bool {
        matches!(self.scheme.as_str(), "http" | "https")
    }

    /// The URL as text, without credentials.
    pub fn to_url_string(&self) -> String {
        if self.host.is_empty() && !is_special(&self.scheme) {
            return format!("{}:{}", self.scheme, self.path_and_query);
        }
        format!("{}{}", self.origin_with_scheme(), self.path_and_query)
    }

    fn origin_with_scheme(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    /// Resolves a `Location` value against this URL. Credentials in the location are kept
    /// in [`ParsedUrl::has_credentials`].
    pub fn join(&self, location: &str) -> Result<ParsedUrl, UrlError> {
        let location = location.trim();
        if split_scheme(location).is_some() {
            return ParsedUrl::parse(location);
        }
        if location.starts_with("//") || location.starts_with("\\\\") {
            return ParsedUrl::parse(&format!("{}:{location}", self.scheme));
        }
        let base = self.origin_with_scheme();
        if location.starts_with('/') {
            return ParsedUrl::parse(&format!("{base}{location}"));
        }
        let path_only = self.path_and_query.split(['?', '#']).next().unwrap_or("/");
        if location.is_empty() {
            return ParsedUrl::parse(&format!(
                "{base}{}",
                self.path_and_query.split('#').next().unwrap_or("/")
            ));
        }
        if location.starts_with('?') || location.starts_with('#') {
            return ParsedUrl::parse(&format!("{base}{path_only}{location}"));
        }
        let directory = match path_only.rfind('/') {
            Some(slash) => &path_only[..=slash],
            None => "/",
        };
        ParsedUrl::parse(&format!("{base}{directory}{location}"))
    }
}

/// Serializes the origin of `url`, or returns the text unchanged when it does not parse
/// (a page origin given as `null`, for example).
pub fn origin_of(url: &str) -> String {
    ParsedUrl::parse(url).map_or_else(|_| url.trim().to_string(), |parsed| parsed.origin())
}

/// Normalises a page origin the way browsers serialize it (`HTTP://Example.COM:80/` →
/// `http://example.com`). `null` stays `null`.
pub fn normalize_origin(origin: &str) -> String {
    let trimmed = origin.trim();
    if trimmed == "null" {
        return "null".to_string();
    }
    origin_of(trimmed)
}

/// Chromium's `GURL(value).is_valid()` as applied to `Access-Control-Allow-Origin`
/// (approximation: a scheme, and for special schemes a non-empty, well-formed host).
pub fn is_valid_gurl(value: &str) -> bool {
    if value.is_empty() || value.chars().any(|c| c.is_control() || c == ' ') {
        return false;
    }
    let Some((scheme, rest)) = split_scheme(value) else {
        return false;
    };
    let scheme = scheme.to_ascii_lowercase();
    if !is_special(&scheme) {
        return true;
    }
    if scheme == "file" {
        return true;
    }
    let _ = rest;
    ParsedUrl::parse(value).is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn origins_serialize_like_browsers() {
        let cases = [
            ("http://127.0.0.1:8080/a?b", "http://127.0.0.1:8080"),
            ("HTTP://Example.COM:80/", "http://example.com"),
            ("https://example.com:443", "https://example.com"),
            ("https://u:p@example.com:8443/x", "https://example.com:8443"),
            ("http://[::1]:9000/", "http://[::1]:9000"),
            ("data:text/plain,hi", "null"),
        ];
        for (url, origin) in cases {
            assert_eq!(ParsedUrl::parse(url).unwrap().origin(), origin, "{url}");
        }
        assert!(
            ParsedUrl::parse("https://u:p@example.com/")
                .unwrap()
                .has_credentials
        );
    }

    #[test]
    fn locations_resolve_against_the_current_url() {
        let base = ParsedUrl::parse("http://127.0.0.1:9000/dir/page?x=1").unwrap();
        let cases = [
            ("/root", "http://127.0.0.1:9000/root"),
            ("other", "http://127.0.0.1:9000/dir/other"),
            ("?q=2", "http://127.0.0.1:9000/dir/page?q=2"),
            ("//localhost:9000/p", "http://localhost:9000/p"),
            ("https://example.com/", "https://example.com/"),
        ];
        for (location, expected) in cases {
            assert_eq!(
                base.join(location).unwrap().to_url_string(),
                expected,
                "{location}"
            );
        }
        assert!(
            base.join("http://a:b@localhost:9000/")
                .unwrap()
                .has_credentials
        );
    }

    #[test]
    fn gurl_validity_of_allow_origin_values() {
        for valid in [
            "http://example.com",
            "https://example.com/",
            "HTTP://127.0.0.1:1",
            "foo:bar",
        ] {
            assert!(is_valid_gurl(valid), "{valid}");
        }
        for invalid in [
            "",
            "1",
            "example.com",
            "http://",
            "http://exa mple.com",
            "*x",
        ] {
            assert!(!is_valid_gurl(invalid), "{invalid}");
        }
    }

    #[test]
    fn bad_urls_are_errors() {
        assert!(ParsedUrl::parse("no-scheme").is_err());
        assert!(ParsedUrl::parse("http://host:99999/").is_err());
        assert!(ParsedUrl::parse("http:///").is_err());
    }
}
