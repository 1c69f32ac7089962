//! Local Network Access (formerly Private Network Access): Chromium blocks a page from
//! reaching a more private address space (public → local → loopback) unless the page is a
//! secure context and the user granted the permission, and it checks the `targetAddressSpace`
//! a page may declare.
//!
//! Address spaces enter from the request (explicitly, or derived from the page origin's and
//! the URL's host); a [`CorsFailure`] with Chromium's error leaves when the connection would
//! be refused.

use serde::{Deserialize, Serialize};

use super::check::CorsFailure;
use super::error::CorsError;
use super::url::ParsedUrl;

/// An IP address space, as CDP's `Network.IPAddressSpace` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressSpace {
    /// 127.0.0.0/8, ::1, `localhost`.
    #[serde(alias = "Loopback")]
    Loopback,
    /// Private networks (10/8, 172.16/12, 192.168/16, 169.254/16, fc00::/7, fe80::/10).
    #[serde(alias = "Local", alias = "private", alias = "Private")]
    Local,
    /// Everything else.
    #[serde(alias = "Public", alias = "unknown", alias = "Unknown")]
    Public,
}

impl AddressSpace {
    fn privacy_rank(self) -> u8 {
        match self {
            AddressSpace::Public => 0,
            AddressSpace::Local => 1,
            AddressSpace::Loopback => 2,
        }
    }

    /// True when `self` is more private than `other` (loopback > local > public).
    pub fn is_more_private_than(self, other: AddressSpace) -> bool {
        self.privacy_rank() > other.privacy_rank()
    }

    /// The address space of a host as written in a URL. Names other than `localhost` are
    /// taken as public (their IP address is not known here).
    pub fn of_host(host: &str) -> AddressSpace {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if host == "localhost" || host.ends_with(".localhost") {
            return AddressSpace::Loopback;
        }
        if let Ok(v4) = host.parse::<std::net::Ipv4Addr>() {
            let [a, b, ..] = v4.octets();
            return if a == 127 {
                AddressSpace::Loopback
            } else if a == 10
                || (a == 172 && (16..32).contains(&b))
                || (a == 192 && b == 168)
                || (a == 169 && b == 254)
                || a == 0
            {
                AddressSpace::Local
            } else {
                AddressSpace::Public
            };
        }
        if let Ok(v6) = host.parse::<std::net::Ipv6Addr>() {
            if v6.is_loopback() {
                return AddressSpace::Loopback;
            }
            let first = v6.segments()[0];
            if (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80 {
                return AddressSpace::Local;
            }
            if let Some(mapped) = v6.to_ipv4_mapped() {
                return AddressSpace::of_host(&mapped.to_string());
            }
        }
        AddressSpace::Public
    }
}

/// Whether a page at `origin` is a secure context: https, or http on a loopback host.
pub fn is_potentially_trustworthy(origin: &str) -> bool {
    match ParsedUrl::parse(origin) {
        Ok(url) => {
            matches!(url.scheme.as_str(), "https" | "wss")
                || AddressSpace::of_host(&url.host) == AddressSpace::Loopback
        }
        Err(_) => false,
    }
}

/// The facts Chromium's Local Network Access check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalNetworkFacts {
    /// The page's address space.
    pub initiator: AddressSpace,
    /// Whether the page is a secure context.
    pub initiator_secure_context: bool,
    /// The `targetAddressSpace` the page declared, if any.
    pub declared_target: Option<AddressSpace>,
    /// The address space the resource actually lives in.
    pub resource: AddressSpace,
    /// Whether the user granted the Local Network Access permission.
    pub permission_granted: bool,
}

/// Chromium's check when the connection is made: declared target first, then whether the
/// request goes somewhere more private, then secure context, then the permission.
pub fn check_local_network_access(facts: LocalNetworkFacts) -> Result<(), CorsFailure> {
    if let Some(declared) = facts.declared_target
        && declared != facts.resource
    {
        return Err(CorsFailure::new(CorsError::InvalidLocalNetworkAccess, ""));
    }
    if !facts.resource.is_more_private_than(facts.initiator) {
        return Ok(());
    }
    if !facts.initiator_secure_context {
        return Err(CorsFailure::new(CorsError::InsecureLocalNetwork, ""));
    }
    if !facts.permission_granted {
        return Err(CorsFailure::new(
            CorsError::LocalNetworkAccessPermissionDenied,
            "",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_map_to_address_spaces() {
        for (host, space) in [
            ("127.0.0.1", AddressSpace::Loopback),
            ("localhost", AddressSpace::Loopback),
            ("app.localhost", AddressSpace::Loopback),
            ("[::1]", AddressSpace::Loopback),
            ("192.168.1.20", AddressSpace::Local),
            ("10.0.0.1", AddressSpace::Local),
            ("172.20.0.1", AddressSpace::Local),
            ("[fd00::1]", AddressSpace::Local),
            ("8.8.8.8", AddressSpace::Public),
            ("example.com", AddressSpace::Public),
        ] {
            assert_eq!(AddressSpace::of_host(host), space, "{host}");
        }
        assert!(is_potentially_trustworthy("http://127.0.0.1:8080"));
        assert!(is_potentially_trustworthy("https://example.com"));
        assert!(!is_potentially_trustworthy("http://page.test:8080"));
    }

    #[test]
    fn check_order() {
        let base = LocalNetworkFacts {
            initiator: AddressSpace::Public,
            initiator_secure_context: true,
            declared_target: None,
            resource: AddressSpace::Loopback,
            permission_granted: false,
        };
        let error = |facts| check_local_network_access(facts).err().map(|f| f.error);
        assert_eq!(
            error(base),
            Some(CorsError::LocalNetworkAccessPermissionDenied)
        );
        assert_eq!(
            error(LocalNetworkFacts {
                initiator_secure_context: false,
                ..base
            }),
            Some(CorsError::InsecureLocalNetwork)
        );
        assert_eq!(
            error(LocalNetworkFacts {
                declared_target: Some(AddressSpace::Local),
                ..base
            }),
            Some(CorsError::InvalidLocalNetworkAccess)
        );
        assert_eq!(
            error(LocalNetworkFacts {
                permission_granted: true,
                ..base
            }),
            None
        );
        assert_eq!(
            error(LocalNetworkFacts {
                initiator: AddressSpace::Loopback,
                ..base
            }),
            None
        );
    }
}
