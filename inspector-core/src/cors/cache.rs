//! Chromium's CORS preflight cache: what a successful preflight allows, for how long, and
//! whether a later request may skip its preflight.
//!
//! [`PreflightGrant`]s enter (from [`super::CorsFlow::grants`]) with the time they were
//! received; [`CacheLookup`]s leave for later requests. Time is passed in
//! (`now_micros`), so the model is deterministic.

use serde::Serialize;

use super::check::CorsFailure;
use super::error::CorsError;
use super::flow::AnalyzerOptions;
use super::preflight::{decide, is_safelisted_method};
use super::request::CorsRequest;

/// What one successful preflight allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreflightGrant {
    /// The `Origin` the preflight was sent with (`null` when tainted).
    pub origin: String,
    /// The URL it was sent for.
    pub url: String,
    /// True when the actual request's credentials mode was `include`.
    pub credentials: bool,
    /// Parsed `Access-Control-Allow-Methods` (case kept).
    pub methods: Vec<String>,
    /// Parsed `Access-Control-Allow-Headers` (lower-cased).
    pub headers: Vec<String>,
    /// How long Chromium keeps it: `Access-Control-Max-Age`, 5 s when absent or
    /// unparseable, 0 when negative, at most 7200 s.
    pub max_age_seconds: u64,
    /// The `Access-Control-Max-Age` value as sent, if any.
    pub requested_max_age: Option<String>,
}

impl PreflightGrant {
    /// Chromium's `EnsureAllowedCrossOriginMethod`.
    pub fn check_method(&self, method: &str, options: AnalyzerOptions) -> Result<(), CorsFailure> {
        let lookup = if options.uppercase_method_for_allow_methods {
            method.to_ascii_uppercase()
        } else {
            method.to_string()
        };
        if self.methods.contains(&lookup) || is_safelisted_method(&lookup) {
            return Ok(());
        }
        if !self.credentials && self.methods.iter().any(|allowed| allowed == "*") {
            return Ok(());
        }
        Err(CorsFailure::new(
            CorsError::MethodDisallowedByPreflightResponse,
            method,
        ))
    }

    /// Chromium's `EnsureAllowedCrossOriginHeaders`, for the unsafe names in checking order.
    pub fn check_headers(
        &self,
        unsafe_names: &[String],
        options: AnalyzerOptions,
    ) -> Result<(), CorsFailure> {
        let wildcard = !self.credentials && self.headers.iter().any(|name| name == "*");
        if wildcard {
            let authorization_listed = self.headers.iter().any(|name| name == "authorization");
            if !options.wildcard_covers_authorization
                && !authorization_listed
                && unsafe_names.iter().any(|name| name == "authorization")
            {
                return Err(CorsFailure::new(
                    CorsError::HeaderDisallowedByPreflightResponse,
                    "authorization",
                ));
            }
            return Ok(());
        }
        for name in unsafe_names {
            if !self.headers.iter().any(|allowed| allowed == name) {
                return Err(CorsFailure::new(
                    CorsError::HeaderDisallowedByPreflightResponse,
                    name.clone(),
                ));
            }
        }
        Ok(())
    }
}

/// The answer of a cache lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CacheLookup {
    /// A live entry covers the request: no preflight is sent.
    Hit {
        /// Seconds the entry still lives.
        remaining_seconds: u64,
    },
    /// A preflight is sent.
    Miss {
        /// Why no entry covered it.
        reason: String,
    },
}

impl CacheLookup {
    /// True for [`CacheLookup::Hit`].
    pub fn is_hit(&self) -> bool {
        matches!(self, CacheLookup::Hit { .. })
    }
}

#[derive(Debug, Clone)]
struct CacheEntry {
    grant: PreflightGrant,
    expires_micros: u64,
}

/// The preflight cache of one browser profile (Chromium keeps one result per origin and URL;
/// a newer preflight replaces the older one).
#[derive(Debug, Clone, Default)]
pub struct PreflightCache {
    entries: Vec<CacheEntry>,
}

const MICROS_PER_SECOND: u64 = 1_000_000;

impl PreflightCache {
    /// An empty cache.
    pub fn new() -> PreflightCache {
        PreflightCache::default()
    }

    /// Stores a grant received at `now_micros`. Grants with a max-age of 0 are not kept.
    pub fn store(&mut self, grant: &PreflightGrant, now_micros: u64) {
        self.entries
            .retain(|entry| !(entry.grant.origin == grant.origin && entry.grant.url == grant.url));
        if grant.max_age_seconds == 0 {
            return;
        }
        self.entries.push(CacheEntry {
            grant: grant.clone(),
            expires_micros: now_micros
                .saturating_add(grant.max_age_seconds.saturating_mul(MICROS_PER_SECOND)),
        });
    }

    /// Forgets the entry for `origin` and `url`. Chromium does so when a lookup finds an entry
    /// that does not cover the request (expired, other method, other headers, credentials);
    /// unlike the Fetch standard it keeps the entry when the request then fails.
    pub fn clear(&mut self, origin: &str, url: &str) {
        self.entries
            .retain(|entry| !(entry.grant.origin == origin && entry.grant.url == url));
    }

    /// Number of entries (expired ones included until replaced or cleared).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no entry is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Would `request`, sent with `origin` at `now_micros`, skip its preflight?
    pub fn lookup(
        &self,
        origin: &str,
        request: &CorsRequest,
        options: AnalyzerOptions,
        now_micros: u64,
    ) -> CacheLookup {
        let Some(entry) = self
            .entries
            .iter()
            .find(|entry| entry.grant.origin == origin && entry.grant.url == request.url)
        else {
            return CacheLookup::Miss {
                reason: "no earlier preflight for this origin and URL".to_string(),
            };
        };
        if now_micros >= entry.expires_micros {
            return CacheLookup::Miss {
                reason: format!(
                    "the earlier preflight expired (max-age {} s)",
                    entry.grant.max_age_seconds
                ),
            };
        }
        if request.includes_credentials() && !entry.grant.credentials {
            return CacheLookup::Miss {
                reason: "the earlier preflight was for a request without credentials".to_string(),
            };
        }
        let decision = decide(request);
        if let Err(failure) = entry
            .grant
            .check_method(&decision.access_control_request_method, options)
        {
            return CacheLookup::Miss {
                reason: format!(
                    "the cached entry does not allow method {}",
                    failure.failed_parameter
                ),
            };
        }
        // Chromium's cache never lets a cached `*` stand for Authorization, although a fresh
        // preflight with `*` still lets it through (checked by the oracle test).
        let cache_options = AnalyzerOptions {
            wildcard_covers_authorization: false,
            ..options
        };
        if let Err(failure) = entry
            .grant
            .check_headers(&decision.unsafe_header_names, cache_options)
        {
            return CacheLookup::Miss {
                reason: format!(
                    "the cached entry does not allow header {}",
                    failure.failed_parameter
                ),
            };
        }
        CacheLookup::Hit {
            remaining_seconds: (entry.expires_micros - now_micros) / MICROS_PER_SECOND,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ORIGIN: &str = "http://127.0.0.1:4000";
    const URL: &str = "http://127.0.0.1:5000/rpc";

    fn grant(
        methods: &[&str],
        headers: &[&str],
        credentials: bool,
        max_age: u64,
    ) -> PreflightGrant {
        PreflightGrant {
            origin: ORIGIN.into(),
            url: URL.into(),
            credentials,
            methods: methods.iter().map(|m| m.to_string()).collect(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            max_age_seconds: max_age,
            requested_max_age: None,
        }
    }

    fn put() -> CorsRequest {
        CorsRequest::new(ORIGIN, URL).with_method("PUT")
    }

    #[test]
    fn entries_live_for_max_age_then_expire() {
        let mut cache = PreflightCache::new();
        cache.store(&grant(&["PUT"], &[], false, 5), 1_000_000);
        let options = AnalyzerOptions::default();
        assert_eq!(
            cache.lookup(ORIGIN, &put(), options, 5_999_999),
            CacheLookup::Hit {
                remaining_seconds: 0
            }
        );
        assert!(!cache.lookup(ORIGIN, &put(), options, 6_000_000).is_hit());
        assert!(
            !cache
                .lookup("http://other.test", &put(), options, 2_000_000)
                .is_hit()
        );
    }

    #[test]
    fn zero_max_age_is_not_cached_and_clear_forgets() {
        let mut cache = PreflightCache::new();
        cache.store(&grant(&["PUT"], &[], false, 0), 0);
        assert!(cache.is_empty());
        cache.store(&grant(&["PUT"], &[], false, 600), 0);
        assert_eq!(cache.len(), 1);
        cache.clear(ORIGIN, URL);
        assert!(cache.is_empty());
    }

    #[test]
    fn credentials_wildcards_and_authorization() {
        let options = AnalyzerOptions::default();
        let mut cache = PreflightCache::new();
        cache.store(&grant(&["*"], &["*"], false, 600), 0);
        let with_custom = put().with_header("X-A", "1");
        assert!(cache.lookup(ORIGIN, &with_custom, options, 1).is_hit());
        let with_auth = put().with_header("Authorization", "Bearer t");
        assert!(
            !cache.lookup(ORIGIN, &with_auth, options, 1).is_hit(),
            "a cached * never covers Authorization"
        );
        let credentialed = put().with_credentials(super::super::request::CredentialsMode::Include);
        assert!(!cache.lookup(ORIGIN, &credentialed, options, 1).is_hit());
        cache.store(&grant(&["*"], &[], true, 600), 0);
        assert!(
            !cache.lookup(ORIGIN, &credentialed, options, 1).is_hit(),
            "with credentials * is a literal method name"
        );
    }

    #[test]
    fn method_case_is_exact_unless_chromium_uppercases() {
        let g = grant(&["PATCH"], &[], false, 600);
        let lower = g.check_method("patch", AnalyzerOptions::default());
        assert_eq!(lower.unwrap_err().failed_parameter, "patch");
        let upper = AnalyzerOptions {
            uppercase_method_for_allow_methods: true,
            ..AnalyzerOptions::default()
        };
        assert!(g.check_method("patch", upper).is_ok());
    }
}
