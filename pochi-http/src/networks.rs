//! The networks payment callbacks may come from ([`CallbackNetworks`]).
//!
//! Daraja does not sign its callbacks; the secret path token is the main defence. A list of
//! source networks is a second one, for operators who know their provider's addresses
//! (Safaricom publishes the ranges its callbacks come from; the operator supplies them, as
//! they change). The address checked is the one the rate limits use: the socket peer, or the
//! [`TrustedProxy`](crate::TrustedProxy) header's entry when a proxy is trusted.
//!
//! CIDR parsing is the `ipnet` crate's (already in the tree through the HTTP client).

use std::{fmt, net::IpAddr};

use ipnet::IpNet;
use pochi_core::Error;

/// The networks (CIDR blocks, or single addresses) payment callbacks are accepted from.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackNetworks(Vec<IpNet>);

impl CallbackNetworks {
    /// Parses a list separated by commas or white space: `196.201.214.0/24, 196.201.213.44`
    /// (an address alone is a network of one). At least one is needed.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut networks = Vec::new();
        for (i, entry) in text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let network = entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    Error::invalid(
                        format!("callbackNetworks[{i}]"),
                        format!(
                            "{entry:?} is not a network such as 196.201.214.0/24, 2001:db8::/32 \
                             or an address"
                        ),
                    )
                })?;
            networks.push(network.trunc());
        }
        if networks.is_empty() {
            return Err(Error::invalid(
                "callbackNetworks",
                "must name at least one network",
            ));
        }
        Ok(CallbackNetworks(networks))
    }

    /// Whether `ip` is in one of the networks (an IPv4 address written as IPv6, `::ffff:a.b.c.d`,
    /// as a dual-stack socket reports it, counts as the IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|network| network.contains(&ip))
    }
}

impl fmt::Debug for CallbackNetworks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(ToString::to_string))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_and_single_addresses_are_matched() {
        let list =
            CallbackNetworks::parse("196.201.214.0/24, 196.201.213.44\n2001:db8::/32").unwrap();
        assert!(list.contains(ip("196.201.214.200")));
        assert!(list.contains(ip("196.201.213.44")));
        assert!(!list.contains(ip("196.201.213.45")));
        assert!(list.contains(ip("2001:db8::7")));
        assert!(!list.contains(ip("2001:db9::7")));
        assert!(list.contains(ip("::ffff:196.201.214.9")));
        assert!(!list.contains(ip("203.0.113.7")));
        assert_eq!(
            format!("{list:?}"),
            r#"["196.201.214.0/24", "196.201.213.44/32", "2001:db8::/32"]"#
        );
    }

    #[test]
    fn a_bad_entry_or_an_empty_list_is_refused_naming_the_entry() {
        let err = CallbackNetworks::parse("196.201.214.0/24, 196.201.214/24").unwrap_err();
        assert_eq!(err.field(), Some("callbackNetworks[1]"));
        let err = CallbackNetworks::parse(" , ").unwrap_err();
        assert_eq!(err.field(), Some("callbackNetworks"));
        assert!(CallbackNetworks::parse("10.0.0.0/33").is_err());
    }
}
