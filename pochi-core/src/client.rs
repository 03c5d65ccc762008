//! Where a request came from, as the shop's limits count it.

use std::{
    fmt,
    net::{IpAddr, Ipv6Addr},
};

use serde::{Deserialize, Serialize};

/// The network a client's address belongs to, as limits count it: an IPv4 address itself, an
/// IPv6 address's /64 (one subscriber's prefix: a client that rotates addresses within it is
/// still one client). IPv4-mapped IPv6 addresses count as their IPv4 address.
///
/// An address is personal data: `Debug` does not print it, and a store keeps it only on
/// unpaid orders, to count them.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientNetwork(String);

impl ClientNetwork {
    /// The network of `ip`.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientNetwork(v4.to_string()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientNetwork(v4.to_string()),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    ClientNetwork(format!("{}/64", Ipv6Addr::from(prefix)))
                }
            },
        }
    }

    /// The network as text (`203.0.113.7`, `2001:db8:1:2::/64`), as a store keeps it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientNetwork(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_counts_by_address_and_ipv6_by_its_64() {
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(ClientNetwork::of(v4).as_str(), "203.0.113.7");
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ClientNetwork::of(a).as_str(), "2001:db8:1:2::/64");
        assert_eq!(ClientNetwork::of(a), ClientNetwork::of(b));
        assert_ne!(ClientNetwork::of(a), ClientNetwork::of(other));
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(ClientNetwork::of(mapped), ClientNetwork::of(v4));
    }

    #[test]
    fn debug_does_not_print_the_address() {
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(
            format!("{:?}", ClientNetwork::of(ip)),
            "ClientNetwork(redacted)"
        );
    }
}
