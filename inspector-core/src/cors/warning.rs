//! Soft problems: things that do not block the request today but lose data, are deprecated,
//! or behave differently across browsers.
//!
//! Preflight grants and final responses enter; [`SoftWarning`]s leave, each with a sentence.

use serde::Serialize;

use super::cache::PreflightGrant;
use super::lna::AddressSpace;
use super::preflight::decide;
use super::request::{CorsRequest, ObservedResponse};

/// A problem that is not a failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum SoftWarning {
    /// The app reads a response header that CORS hides (not in `Access-Control-Expose-Headers`).
    UnexposedResponseHeader {
        /// Lower-cased header name.
        header: String,
    },
    /// `Access-Control-Allow-Headers: *` is what lets `Authorization` through; Chromium plans
    /// to stop that (DevTools deprecation `AuthorizationCoveredByWildcard`) and the spec and
    /// other browsers already refuse it.
    AuthorizationCoveredByWildcard,
    /// `Access-Control-Allow-Methods` lists the method only in another letter case; the
    /// match is case-sensitive, so it works in some Chromium configurations only.
    AllowMethodsCaseMismatch {
        /// The method the request uses.
        method: String,
        /// The spelling the server listed.
        listed: String,
    },
    /// `Access-Control-Max-Age` is above Chromium's 2-hour cap.
    MaxAgeCapped {
        /// The value sent.
        requested: String,
        /// What Chromium uses.
        effective_seconds: u64,
    },
    /// `*` in `Access-Control-Allow-Methods`/`-Headers` is not a wildcard for credentialed
    /// requests.
    WildcardIgnoredWithCredentials {
        /// The header holding the `*`.
        header: String,
    },
    /// The call goes to a more private address space: it works only after the user grants
    /// the page the Local Network Access permission.
    LocalNetworkAccessPermissionNeeded {
        /// The page's address space.
        initiator: AddressSpace,
        /// The server's address space.
        resource: AddressSpace,
    },
}

fn space_name(space: AddressSpace) -> &'static str {
    match space {
        AddressSpace::Loopback => "loopback",
        AddressSpace::Local => "local",
        AddressSpace::Public => "public",
    }
}

impl SoftWarning {
    /// One sentence a developer understands.
    pub fn describe(&self) -> String {
        match self {
            SoftWarning::UnexposedResponseHeader { header } => format!(
                "the app reads response header {header}, but it is not listed in Access-Control-Expose-Headers, so response.headers.get() returns null"
            ),
            SoftWarning::AuthorizationCoveredByWildcard => "Authorization is allowed only through Access-Control-Allow-Headers: * (deprecated in Chromium, refused by the spec and other browsers): list authorization explicitly".to_string(),
            SoftWarning::AllowMethodsCaseMismatch { method, listed } => format!(
                "Access-Control-Allow-Methods lists {listed} but the request uses {method}; method matching is case-sensitive, so send the method in the case the server lists (or list both)"
            ),
            SoftWarning::MaxAgeCapped {
                requested,
                effective_seconds,
            } => format!(
                "Access-Control-Max-Age {requested} is above Chromium's cap; the preflight is cached for {effective_seconds} s only"
            ),
            SoftWarning::WildcardIgnoredWithCredentials { header } => format!(
                "{header}: * is not a wildcard for requests with credentials; list the names explicitly"
            ),
            SoftWarning::LocalNetworkAccessPermissionNeeded {
                initiator,
                resource,
            } => format!(
                "the page ({}) calls a more private address space ({}): Chromium asks the user for the Local Network Access permission and blocks the call (LocalNetworkAccessPermissionDenied) unless it is granted",
                space_name(*initiator),
                space_name(*resource)
            ),
        }
    }

    /// Warnings about a preflight response that let the request through (or not).
    pub fn for_preflight(grant: &PreflightGrant, request: &CorsRequest) -> Vec<SoftWarning> {
        let mut warnings = Vec::new();
        let decision = decide(request);
        let uses_authorization = decision
            .unsafe_header_names
            .iter()
            .any(|name| name == "authorization");
        if uses_authorization
            && !grant.credentials
            && grant.headers.iter().any(|name| name == "*")
            && !grant.headers.iter().any(|name| name == "authorization")
        {
            warnings.push(SoftWarning::AuthorizationCoveredByWildcard);
        }
        let method = &decision.access_control_request_method;
        if !grant.methods.iter().any(|listed| listed == method)
            && let Some(listed) = grant
                .methods
                .iter()
                .find(|listed| listed.eq_ignore_ascii_case(method))
        {
            warnings.push(SoftWarning::AllowMethodsCaseMismatch {
                method: method.clone(),
                listed: listed.clone(),
            });
        }
        if let Some(requested) = &grant.requested_max_age
            && requested.trim().parse::<i64>().is_ok_and(|seconds| {
                seconds > grant.max_age_seconds as i64 && grant.max_age_seconds > 0
            })
        {
            warnings.push(SoftWarning::MaxAgeCapped {
                requested: requested.clone(),
                effective_seconds: grant.max_age_seconds,
            });
        }
        if grant.credentials {
            if grant.methods.iter().any(|m| m == "*") {
                warnings.push(SoftWarning::WildcardIgnoredWithCredentials {
                    header: "Access-Control-Allow-Methods".to_string(),
                });
            }
            if grant.headers.iter().any(|h| h == "*") {
                warnings.push(SoftWarning::WildcardIgnoredWithCredentials {
                    header: "Access-Control-Allow-Headers".to_string(),
                });
            }
        }
        warnings
    }

    /// Warnings about the final response: headers the app reads but cannot see.
    pub fn for_exposure(
        response: &ObservedResponse,
        reads: &[String],
        include_credentials: bool,
    ) -> Vec<SoftWarning> {
        let exposed: Vec<String> = response
            .header("access-control-expose-headers")
            .unwrap_or_default()
            .split(',')
            .map(|name| name.trim().to_ascii_lowercase())
            .filter(|name| !name.is_empty())
            .collect();
        let wildcard = !include_credentials && exposed.iter().any(|name| name == "*");
        reads
            .iter()
            .map(|name| name.trim().to_ascii_lowercase())
            .filter(|name| {
                let safelisted = matches!(
                    name.as_str(),
                    "cache-control"
                        | "content-language"
                        | "content-length"
                        | "content-type"
                        | "expires"
                        | "last-modified"
                        | "pragma"
                );
                let forbidden = matches!(name.as_str(), "set-cookie" | "set-cookie2");
                forbidden || !(safelisted || wildcard || exposed.contains(name))
            })
            .map(|header| SoftWarning::UnexposedResponseHeader { header })
            .collect()
    }
}
