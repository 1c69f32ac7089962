//! Chromium's `Network.CorsError` taxonomy, spelled exactly as the DevTools protocol reports
//! it in `Network.loadingFailed.corsErrorStatus.corsError`.
//!
//! Names enter as strings read from CDP events, HAR files or JSON (current values and the
//! legacy private-network values of older Chrome builds) and leave as the same strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One value of the CDP `Network.CorsError` enum.
///
/// The current values (Chromium 156's protocol) come first; the legacy private-network
/// values are accepted when reading captures from older Chrome builds and are never produced
/// by the analyzer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CorsError {
    /// Cross-origin URL requested with `mode: "same-origin"`.
    DisallowedByMode,
    /// A preflight failed with a non-CORS network error (reported as a warning only).
    InvalidResponse,
    /// `Access-Control-Allow-Origin: *` on a credentialed request.
    WildcardOriginNotAllowed,
    /// No `Access-Control-Allow-Origin` on the response.
    MissingAllowOriginHeader,
    /// `Access-Control-Allow-Origin` holds several values (a space or a comma).
    MultipleAllowOriginValues,
    /// `Access-Control-Allow-Origin` is not `*`, not `null` and not a URL.
    InvalidAllowOriginValue,
    /// `Access-Control-Allow-Origin` is a single value that is not the request's origin.
    AllowOriginMismatch,
    /// Credentialed request and `Access-Control-Allow-Credentials` is not exactly `true`.
    InvalidAllowCredentials,
    /// The URL's scheme does not support CORS.
    CorsDisabledScheme,
    /// The preflight passed the CORS check but its status is not 2xx.
    PreflightInvalidStatus,
    /// The preflight was answered with a redirect.
    PreflightDisallowedRedirect,
    /// As [`CorsError::WildcardOriginNotAllowed`], on the preflight.
    PreflightWildcardOriginNotAllowed,
    /// As [`CorsError::MissingAllowOriginHeader`], on the preflight.
    PreflightMissingAllowOriginHeader,
    /// As [`CorsError::MultipleAllowOriginValues`], on the preflight.
    PreflightMultipleAllowOriginValues,
    /// As [`CorsError::InvalidAllowOriginValue`], on the preflight.
    PreflightInvalidAllowOriginValue,
    /// As [`CorsError::AllowOriginMismatch`], on the preflight.
    PreflightAllowOriginMismatch,
    /// As [`CorsError::InvalidAllowCredentials`], on the preflight.
    PreflightInvalidAllowCredentials,
    /// Legacy CORS-RFC1918: the preflight lacked `Access-Control-Allow-External`.
    PreflightMissingAllowExternal,
    /// Legacy CORS-RFC1918: `Access-Control-Allow-External` was not `true`.
    PreflightInvalidAllowExternal,
    /// `Access-Control-Allow-Methods` could not be parsed.
    InvalidAllowMethodsPreflightResponse,
    /// `Access-Control-Allow-Headers` could not be parsed.
    InvalidAllowHeadersPreflightResponse,
    /// The method is not allowed by `Access-Control-Allow-Methods`.
    MethodDisallowedByPreflightResponse,
    /// A request header is not allowed by `Access-Control-Allow-Headers`.
    HeaderDisallowedByPreflightResponse,
    /// A redirect's `Location` carries `user:password@`.
    RedirectContainsCredentials,
    /// Request to a more private address space from a non-secure context.
    InsecureLocalNetwork,
    /// The target address space differs from the resource's actual address space.
    InvalidLocalNetworkAccess,
    /// `mode: "no-cors"` with `redirect` other than `"follow"`.
    NoCorsRedirectModeNotFollow,
    /// The Local Network Access permission was denied.
    LocalNetworkAccessPermissionDenied,
    /// Legacy (removed from the protocol in 2026): PNA preflight lacked
    /// `Access-Control-Allow-Private-Network`.
    PreflightMissingAllowPrivateNetwork,
    /// Legacy: `Access-Control-Allow-Private-Network` was not `true`.
    PreflightInvalidAllowPrivateNetwork,
    /// Legacy: private-network request without a target address space.
    UnexpectedPrivateNetworkAccess,
    /// Legacy: PNA preflight lacked `Private-Network-Access-ID`.
    PreflightMissingPrivateNetworkAccessId,
    /// Legacy: PNA preflight lacked `Private-Network-Access-Name`.
    PreflightMissingPrivateNetworkAccessName,
    /// Legacy: the private-network permission was unavailable.
    PrivateNetworkAccessPermissionUnavailable,
    /// Legacy: the private-network permission was denied.
    PrivateNetworkAccessPermissionDenied,
    /// Legacy name of [`CorsError::InsecureLocalNetwork`].
    InsecurePrivateNetwork,
    /// Legacy name of [`CorsError::InvalidLocalNetworkAccess`].
    InvalidPrivateNetworkAccess,
}

/// Every value with its CDP spelling, current values first.
const NAMES: &[(CorsError, &str)] = &[
    (CorsError::DisallowedByMode, "DisallowedByMode"),
    (CorsError::InvalidResponse, "InvalidResponse"),
    (
        CorsError::WildcardOriginNotAllowed,
        "WildcardOriginNotAllowed",
    ),
    (
        CorsError::MissingAllowOriginHeader,
        "MissingAllowOriginHeader",
    ),
    (
        CorsError::MultipleAllowOriginValues,
        "MultipleAllowOriginValues",
    ),
    (
        CorsError::InvalidAllowOriginValue,
        "InvalidAllowOriginValue",
    ),
    (CorsError::AllowOriginMismatch, "AllowOriginMismatch"),
    (
        CorsError::InvalidAllowCredentials,
        "InvalidAllowCredentials",
    ),
    (CorsError::CorsDisabledScheme, "CorsDisabledScheme"),
    (CorsError::PreflightInvalidStatus, "PreflightInvalidStatus"),
    (
        CorsError::PreflightDisallowedRedirect,
        "PreflightDisallowedRedirect",
    ),
    (
        CorsError::PreflightWildcardOriginNotAllowed,
        "PreflightWildcardOriginNotAllowed",
    ),
    (
        CorsError::PreflightMissingAllowOriginHeader,
        "PreflightMissingAllowOriginHeader",
    ),
    (
        CorsError::PreflightMultipleAllowOriginValues,
        "PreflightMultipleAllowOriginValues",
    ),
    (
        CorsError::PreflightInvalidAllowOriginValue,
        "PreflightInvalidAllowOriginValue",
    ),
    (
        CorsError::PreflightAllowOriginMismatch,
        "PreflightAllowOriginMismatch",
    ),
    (
        CorsError::PreflightInvalidAllowCredentials,
        "PreflightInvalidAllowCredentials",
    ),
    (
        CorsError::PreflightMissingAllowExternal,
        "PreflightMissingAllowExternal",
    ),
    (
        CorsError::PreflightInvalidAllowExternal,
        "PreflightInvalidAllowExternal",
    ),
    (
        CorsError::InvalidAllowMethodsPreflightResponse,
        "InvalidAllowMethodsPreflightResponse",
    ),
    (
        CorsError::InvalidAllowHeadersPreflightResponse,
        "InvalidAllowHeadersPreflightResponse",
    ),
    (
        CorsError::MethodDisallowedByPreflightResponse,
        "MethodDisallowedByPreflightResponse",
    ),
    (
        CorsError::HeaderDisallowedByPreflightResponse,
        "HeaderDisallowedByPreflightResponse",
    ),
    (
        CorsError::RedirectContainsCredentials,
        "RedirectContainsCredentials",
    ),
    (CorsError::InsecureLocalNetwork, "InsecureLocalNetwork"),
    (
        CorsError::InvalidLocalNetworkAccess,
        "InvalidLocalNetworkAccess",
    ),
    (
        CorsError::NoCorsRedirectModeNotFollow,
        "NoCorsRedirectModeNotFollow",
    ),
    (
        CorsError::LocalNetworkAccessPermissionDenied,
        "LocalNetworkAccessPermissionDenied",
    ),
    (
        CorsError::PreflightMissingAllowPrivateNetwork,
        "PreflightMissingAllowPrivateNetwork",
    ),
    (
        CorsError::PreflightInvalidAllowPrivateNetwork,
        "PreflightInvalidAllowPrivateNetwork",
    ),
    (
        CorsError::UnexpectedPrivateNetworkAccess,
        "UnexpectedPrivateNetworkAccess",
    ),
    (
        CorsError::PreflightMissingPrivateNetworkAccessId,
        "PreflightMissingPrivateNetworkAccessId",
    ),
    (
        CorsError::PreflightMissingPrivateNetworkAccessName,
        "PreflightMissingPrivateNetworkAccessName",
    ),
    (
        CorsError::PrivateNetworkAccessPermissionUnavailable,
        "PrivateNetworkAccessPermissionUnavailable",
    ),
    (
        CorsError::PrivateNetworkAccessPermissionDenied,
        "PrivateNetworkAccessPermissionDenied",
    ),
    (CorsError::InsecurePrivateNetwork, "InsecurePrivateNetwork"),
    (
        CorsError::InvalidPrivateNetworkAccess,
        "InvalidPrivateNetworkAccess",
    ),
];

/// How many values of [`NAMES`] are part of the current protocol.
const CURRENT_COUNT: usize = 28;

/// Error returned when a string is not a `Network.CorsError` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not a Network.CorsError value")]
pub struct UnknownCorsError {
    /// The string that was read.
    pub name: String,
}

impl CorsError {
    /// The CDP spelling, e.g. `PreflightMissingAllowOriginHeader`.
    pub fn as_str(self) -> &'static str {
        NAMES
            .iter()
            .find(|(value, _)| *value == self)
            .map_or("InvalidResponse", |(_, name)| name)
    }

    /// The values of the current protocol, in its order.
    pub fn current() -> impl Iterator<Item = CorsError> {
        NAMES.iter().take(CURRENT_COUNT).map(|(value, _)| *value)
    }

    /// True for values that only older Chrome builds report.
    pub fn is_legacy(self) -> bool {
        NAMES
            .iter()
            .position(|(value, _)| *value == self)
            .is_some_and(|index| index >= CURRENT_COUNT)
    }

    /// The current value a legacy one was renamed to, if it was renamed.
    pub fn current_name(self) -> CorsError {
        match self {
            CorsError::InsecurePrivateNetwork => CorsError::InsecureLocalNetwork,
            CorsError::InvalidPrivateNetworkAccess => CorsError::InvalidLocalNetworkAccess,
            other => other,
        }
    }

    /// True for errors raised on the preflight response.
    pub fn is_preflight(self) -> bool {
        self.as_str().starts_with("Preflight")
            || matches!(
                self,
                CorsError::InvalidAllowMethodsPreflightResponse
                    | CorsError::InvalidAllowHeadersPreflightResponse
                    | CorsError::MethodDisallowedByPreflightResponse
                    | CorsError::HeaderDisallowedByPreflightResponse
            )
    }

    /// The `Preflight*` twin of an access-check error, as Chromium maps it when the check
    /// fails on a preflight response. Other values are returned unchanged.
    pub fn on_preflight(self) -> CorsError {
        match self {
            CorsError::WildcardOriginNotAllowed => CorsError::PreflightWildcardOriginNotAllowed,
            CorsError::MissingAllowOriginHeader => CorsError::PreflightMissingAllowOriginHeader,
            CorsError::MultipleAllowOriginValues => CorsError::PreflightMultipleAllowOriginValues,
            CorsError::InvalidAllowOriginValue => CorsError::PreflightInvalidAllowOriginValue,
            CorsError::AllowOriginMismatch => CorsError::PreflightAllowOriginMismatch,
            CorsError::InvalidAllowCredentials => CorsError::PreflightInvalidAllowCredentials,
            other => other,
        }
    }
}

impl fmt::Display for CorsError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for CorsError {
    type Err = UnknownCorsError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        NAMES
            .iter()
            .find(|(_, spelled)| *spelled == name)
            .map(|(value, _)| *value)
            .ok_or_else(|| UnknownCorsError {
                name: name.to_string(),
            })
    }
}

impl Serialize for CorsError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CorsError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for (value, name) in NAMES {
            assert_eq!(value.as_str(), *name);
            assert_eq!(name.parse::<CorsError>().unwrap(), *value);
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(json, format!("\"{name}\""));
        }
    }

    #[test]
    fn current_protocol_has_28_values_and_legacy_ones_are_flagged() {
        assert_eq!(CorsError::current().count(), 28);
        assert!(CorsError::current().all(|value| !value.is_legacy()));
        assert!(CorsError::InsecurePrivateNetwork.is_legacy());
        assert!(CorsError::PrivateNetworkAccessPermissionDenied.is_legacy());
        assert_eq!(
            "InvalidPrivateNetworkAccess"
                .parse::<CorsError>()
                .unwrap()
                .current_name(),
            CorsError::InvalidLocalNetworkAccess
        );
    }

    #[test]
    fn unknown_names_are_an_error_not_a_guess() {
        let error = "MissingAllowOrigin".parse::<CorsError>().unwrap_err();
        assert_eq!(error.name, "MissingAllowOrigin");
    }

    #[test]
    fn preflight_twins() {
        assert_eq!(
            CorsError::MissingAllowOriginHeader.on_preflight(),
            CorsError::PreflightMissingAllowOriginHeader
        );
        assert!(CorsError::HeaderDisallowedByPreflightResponse.is_preflight());
        assert!(!CorsError::AllowOriginMismatch.is_preflight());
    }
}
