//! The header checks Chromium runs on responses: the access check (`CheckAccess`), the
//! preflight access check (access check, then status), and the parsing of
//! `Access-Control-Allow-Methods`, `-Headers` and `-Max-Age` (`PreflightResult::Parse`).
//!
//! [`ObservedResponse`]s enter; a `Result` with Chromium's error and failed parameter leaves.

use super::error::CorsError;
use super::preflight::is_token;
use super::request::ObservedResponse;
use super::url::is_valid_gurl;

/// A CORS failure as CDP reports it: the error and its `failedParameter` (empty when the
/// error has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsFailure {
    /// The `Network.CorsError` value.
    pub error: CorsError,
    /// `failedParameter` exactly as CDP reports it.
    pub failed_parameter: String,
}

impl CorsFailure {
    /// A failure with a parameter.
    pub fn new(error: CorsError, failed_parameter: impl Into<String>) -> CorsFailure {
        CorsFailure {
            error,
            failed_parameter: failed_parameter.into(),
        }
    }
}

/// Chromium's `CheckAccess`: `Access-Control-Allow-Origin` against the request's serialized
/// origin (`null` once tainted), then `Access-Control-Allow-Credentials` for credentialed
/// requests.
pub fn check_access(
    response: &ObservedResponse,
    request_origin: &str,
    include_credentials: bool,
) -> Result<(), CorsFailure> {
    let allow_origin = response.header("access-control-allow-origin");
    match allow_origin.as_deref() {
        Some("*") => {
            if include_credentials {
                return Err(CorsFailure::new(CorsError::WildcardOriginNotAllowed, ""));
            }
            return Ok(());
        }
        None => return Err(CorsFailure::new(CorsError::MissingAllowOriginHeader, "")),
        Some(value) if value != request_origin => {
            let error = if value.contains([' ', ',']) {
                CorsError::MultipleAllowOriginValues
            } else if value == "null" {
                CorsError::AllowOriginMismatch
            } else if !is_valid_gurl(value) {
                CorsError::InvalidAllowOriginValue
            } else {
                CorsError::AllowOriginMismatch
            };
            return Err(CorsFailure::new(error, value));
        }
        Some(_) => {}
    }
    if include_credentials {
        let allow_credentials = response.header("access-control-allow-credentials");
        if allow_credentials.as_deref() != Some("true") {
            return Err(CorsFailure::new(
                CorsError::InvalidAllowCredentials,
                allow_credentials.unwrap_or_default(),
            ));
        }
    }
    Ok(())
}

/// Chromium's `CheckPreflightAccess`: the access check first (mapped to its `Preflight*`
/// twin), then the status, so a 405 without `Access-Control-Allow-Origin` reports the
/// missing header, not the status.
pub fn check_preflight_access(
    response: &ObservedResponse,
    request_origin: &str,
    include_credentials: bool,
) -> Result<(), CorsFailure> {
    check_access(response, request_origin, include_credentials).map_err(|failure| CorsFailure {
        error: failure.error.on_preflight(),
        failed_parameter: failure.failed_parameter,
    })?;
    if !(200..300).contains(&response.status) {
        return Err(CorsFailure::new(CorsError::PreflightInvalidStatus, ""));
    }
    Ok(())
}

/// Parses an `Access-Control-Allow-Methods`/`-Headers` value: comma-separated, empty items
/// ignored, every item a token. `None` (absent) is an empty list.
pub fn parse_allow_list(value: Option<&str>) -> Result<Vec<String>, String> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let mut items = Vec::new();
    for item in value.split(',') {
        let item = item.trim_matches([' ', '\t']);
        if item.is_empty() {
            continue;
        }
        if !is_token(item) {
            return Err(item.to_string());
        }
        items.push(item.to_string());
    }
    Ok(items)
}

/// Chromium's cap on `Access-Control-Max-Age`: two hours.
pub const MAX_AGE_CAP_SECONDS: u64 = 7200;
/// The max-age used when the header is absent or unparseable.
pub const DEFAULT_MAX_AGE_SECONDS: u64 = 5;

/// The effective cache lifetime of a preflight: absent or unparseable → 5 s, negative → 0,
/// capped at 7200 s.
pub fn effective_max_age_seconds(value: Option<&str>) -> u64 {
    let Some(value) = value else {
        return DEFAULT_MAX_AGE_SECONDS;
    };
    let text = value.trim();
    let parsed = text
        .strip_prefix('+')
        .unwrap_or(text)
        .parse::<i64>()
        .ok()
        .filter(|_| !text.starts_with("+-"));
    match parsed {
        None => DEFAULT_MAX_AGE_SECONDS,
        Some(seconds) if seconds < 0 => 0,
        Some(seconds) => (seconds as u64).min(MAX_AGE_CAP_SECONDS),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ORIGIN: &str = "http://127.0.0.1:4000";

    fn with_acao(values: &[&str], acac: Option<&str>) -> ObservedResponse {
        let mut headers: Vec<(&str, &str)> = values
            .iter()
            .map(|value| ("Access-Control-Allow-Origin", *value))
            .collect();
        if let Some(acac) = acac {
            headers.push(("Access-Control-Allow-Credentials", acac));
        }
        ObservedResponse::new(200, &headers)
    }

    #[test]
    fn access_check_table() {
        use CorsError::*;
        type Row<'a> = (
            &'a [&'a str],
            Option<&'a str>,
            bool,
            Option<(CorsError, &'a str)>,
        );
        let cases: &[Row] = &[
            (&["*"], None, false, None),
            (
                &["*"],
                Some("true"),
                true,
                Some((WildcardOriginNotAllowed, "")),
            ),
            (&[], None, false, Some((MissingAllowOriginHeader, ""))),
            (&[ORIGIN], None, false, None),
            (&[ORIGIN], None, true, Some((InvalidAllowCredentials, ""))),
            (
                &[ORIGIN],
                Some("True"),
                true,
                Some((InvalidAllowCredentials, "True")),
            ),
            (&[ORIGIN], Some("true"), true, None),
            (
                &[ORIGIN, ORIGIN],
                None,
                false,
                Some((
                    MultipleAllowOriginValues,
                    "http://127.0.0.1:4000, http://127.0.0.1:4000",
                )),
            ),
            (
                &["http://127.0.0.1:4000/"],
                None,
                false,
                Some((AllowOriginMismatch, "http://127.0.0.1:4000/")),
            ),
            (&["null"], None, false, Some((AllowOriginMismatch, "null"))),
            (&["1"], None, false, Some((InvalidAllowOriginValue, "1"))),
            (&[""], None, false, Some((InvalidAllowOriginValue, ""))),
            (
                &["a.test b.test"],
                None,
                false,
                Some((MultipleAllowOriginValues, "a.test b.test")),
            ),
        ];
        for (acao, acac, include, expected) in cases {
            let result = check_access(&with_acao(acao, *acac), ORIGIN, *include);
            let expected = expected.map(|(error, parameter)| CorsFailure::new(error, parameter));
            assert_eq!(result.err(), expected, "{acao:?} {acac:?} {include}");
        }
    }

    #[test]
    fn preflight_checks_headers_before_status() {
        let no_acao = ObservedResponse::new(405, &[]);
        assert_eq!(
            check_preflight_access(&no_acao, ORIGIN, false)
                .unwrap_err()
                .error,
            CorsError::PreflightMissingAllowOriginHeader
        );
        let acao_405 = ObservedResponse::new(405, &[("Access-Control-Allow-Origin", "*")]);
        assert_eq!(
            check_preflight_access(&acao_405, ORIGIN, false).unwrap_err(),
            CorsFailure::new(CorsError::PreflightInvalidStatus, "")
        );
    }

    #[test]
    fn allow_lists_and_max_age() {
        assert_eq!(
            parse_allow_list(Some("GET, ,PUT,")).unwrap(),
            vec!["GET", "PUT"]
        );
        assert_eq!(
            parse_allow_list(Some("PUT DELETE")).unwrap_err(),
            "PUT DELETE"
        );
        assert_eq!(parse_allow_list(None).unwrap(), Vec::<String>::new());
        assert_eq!(effective_max_age_seconds(None), 5);
        assert_eq!(effective_max_age_seconds(Some("abc")), 5);
        assert_eq!(effective_max_age_seconds(Some("-1")), 0);
        assert_eq!(effective_max_age_seconds(Some("600")), 600);
        assert_eq!(effective_max_age_seconds(Some("86400")), 7200);
    }
}
