//! Per-client rate limits, kept in this process's memory (one copy per process is enough),
//! and the client address they are keyed by.
//!
//! Every per-address limit counts by [`ClientNetwork`]: an IPv4 address, or an IPv6 address's
//! /64 (one subscriber's prefix), so a client rotating addresses within its /64 is one client.
//! Limits keyed by text a client sends (a phone number, a user name) count by a [`Blinded`]
//! salted hash of it, so the maps hold no personal data.
//!
//! Why not `governor`: its keyed limiter would replace the token buckets (about 40 lines),
//! but the routes need two things its API does not give: looking at a client's bucket
//! without taking a token (the refused-callback and login-failure budgets are spent only when
//! a request is refused) and the whole seconds until the next token for `Retry-After`; and the
//! map must stay bounded under a flood of addresses (full buckets are dropped past
//! `MAX_TRACKED`).

use std::{
    collections::HashMap,
    fmt,
    hash::Hash,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, connect_info::MockConnectInfo},
    http::request::Parts,
};

use pochi_core::ClientNetwork;
use sha2::{Digest as _, Sha256};

use crate::config::{RateLimit, TrustedProxy};

/// Beyond this many tracked clients, idle ones are dropped (a flood of addresses cannot
/// grow memory without bound).
pub(crate) const MAX_TRACKED: usize = 100_000;

/// The address a request came from, as the limits see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ClientIp(pub(crate) IpAddr);

impl ClientIp {
    /// The socket peer, or the trusted proxy's header when configured and readable.
    pub(crate) fn of(parts: &Parts, proxy: Option<&TrustedProxy>) -> ClientIp {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            // What axum's own `ConnectInfo` extractor falls back to (tests, custom servers).
            .or_else(|| {
                parts
                    .extensions
                    .get::<MockConnectInfo<SocketAddr>>()
                    .map(|MockConnectInfo(addr)| addr.ip())
            })
            // Served without connect info (a host that did not ask for it): one shared bucket.
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let forwarded = proxy.and_then(|proxy| {
            let entries: Vec<&str> = parts
                .headers
                .get_all(&proxy.header)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .collect();
            let index = entries.len().checked_sub(proxy.hops)?;
            parse_ip(entries[index])
        });
        ClientIp(forwarded.unwrap_or(peer))
    }

    /// The network the limits count this address in (an IPv4 address, an IPv6 /64).
    pub(crate) fn network(self) -> ClientNetwork {
        ClientNetwork::of(self.0)
    }
}

/// A salted hash of a text a client sends (a phone number, a user name), for limits that
/// count by it: the same text gives the same key in this process, and the key cannot be
/// turned back into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Blinded([u8; 16]);

/// Makes [`Blinded`] keys with a random per-process salt.
pub(crate) struct Blinder([u8; 32]);

impl Blinder {
    pub(crate) fn new() -> Self {
        Blinder(rand::random())
    }

    pub(crate) fn blind(&self, text: &str) -> Blinded {
        let digest = Sha256::new()
            .chain_update(self.0)
            .chain_update(text.as_bytes())
            .finalize();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        Blinded(key)
    }
}

impl fmt::Debug for Blinder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Blinder(redacted)")
    }
}

/// `203.0.113.7`, `203.0.113.7:5000`, `2001:db8::1` or `[2001:db8::1]:5000`.
fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// Token buckets per key: a [`ClientNetwork`] unless said otherwise.
pub(crate) struct RateLimiter<K = ClientNetwork> {
    limit: RateLimit,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K> fmt::Debug for RateLimiter<K> {
    // The keys are addresses or hashes of personal data: only their number is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tracked = self
            .buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("RateLimiter")
            .field("limit", &self.limit)
            .field("tracked", &tracked)
            .finish()
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub(crate) fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds until the next token)` when `key` has none left; takes nothing.
    pub(crate) fn peek(&self, key: &K, now: Instant) -> Result<(), u64> {
        let per_sec = f64::from(self.limit.per_minute) / 60.0;
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let Some(bucket) = buckets.get(key) else {
            return Ok(());
        };
        let refilled = bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_sec;
        if refilled >= 1.0 {
            Ok(())
        } else {
            let wait = ((1.0 - refilled) / per_sec).ceil();
            Err(Duration::try_from_secs_f64(wait).map_or(60, |d| d.as_secs().max(1)))
        }
    }

    /// Takes one token for `key`: `Ok` to go on, or `Err(seconds until the next token)`.
    pub(crate) fn check(&self, key: &K, now: Instant) -> Result<(), u64> {
        let burst = f64::from(self.limit.burst);
        let per_sec = f64::from(self.limit.per_minute) / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED {
            // Full buckets carry no information: forget them.
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * per_sec < burst);
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refilled =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_sec).min(burst);
        if refilled >= 1.0 {
            *bucket = Bucket {
                tokens: refilled - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket {
                tokens: refilled,
                at: now,
            };
            let wait = ((1.0 - refilled) / per_sec).ceil();
            // `wait` is a small positive whole number of seconds.
            Err(Duration::try_from_secs_f64(wait).map_or(60, |d| d.as_secs().max(1)))
        }
    }
}

/// Seconds, rounded up: a client told to wait that long will not be refused again.
pub(crate) fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn parts(forwarded: Option<&str>) -> Parts {
        let mut builder = Request::builder();
        if let Some(value) = forwarded {
            builder = builder.header("x-forwarded-for", value);
        }
        let (mut parts, ()) = builder.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 4000))));
        parts
    }

    #[test]
    fn the_proxy_header_is_believed_only_when_configured_and_only_for_trusted_hops() {
        let one = TrustedProxy::x_forwarded_for(1);
        let two = TrustedProxy::x_forwarded_for(2);
        let spoofed = parts(Some("6.6.6.6, 203.0.113.7"));
        assert_eq!(ClientIp::of(&spoofed, None).0.to_string(), "10.0.0.1");
        assert_eq!(
            ClientIp::of(&spoofed, Some(&one)).0.to_string(),
            "203.0.113.7"
        );
        assert_eq!(ClientIp::of(&spoofed, Some(&two)).0.to_string(), "6.6.6.6");
        let short = parts(Some("203.0.113.7"));
        assert_eq!(ClientIp::of(&short, Some(&two)).0.to_string(), "10.0.0.1");
        let garbage = parts(Some("not-an-ip"));
        assert_eq!(ClientIp::of(&garbage, Some(&one)).0.to_string(), "10.0.0.1");
        assert_eq!(
            ClientIp::of(&parts(None), Some(&one)).0.to_string(),
            "10.0.0.1"
        );
    }

    fn network(text: &str) -> ClientNetwork {
        ClientNetwork::of(text.parse().unwrap())
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refills_over_time() {
        let limiter = RateLimiter::new(RateLimit::new(60, 2));
        let client = network("1.2.3.4");
        let t0 = Instant::now();
        assert_eq!(limiter.check(&client, t0), Ok(()));
        assert_eq!(limiter.check(&client, t0), Ok(()));
        assert_eq!(limiter.check(&client, t0), Err(1));
        assert_eq!(limiter.check(&network("5.6.7.8"), t0), Ok(()));
        assert_eq!(limiter.check(&client, t0 + Duration::from_secs(1)), Ok(()));
    }

    #[test]
    fn addresses_in_one_ipv6_64_share_a_bucket() {
        let limiter = RateLimiter::new(RateLimit::new(60, 1));
        let t0 = Instant::now();
        assert_eq!(limiter.check(&network("2001:db8:1:2::1"), t0), Ok(()));
        assert_eq!(limiter.check(&network("2001:db8:1:2:ffff::9"), t0), Err(1));
        assert_eq!(limiter.check(&network("2001:db8:1:3::1"), t0), Ok(()));
    }

    #[test]
    fn blinded_keys_are_stable_per_process_and_hold_no_text() {
        let blinder = Blinder::new();
        assert_eq!(blinder.blind("254712345678"), blinder.blind("254712345678"));
        assert_ne!(blinder.blind("254712345678"), blinder.blind("254712345679"));
        assert_ne!(Blinder::new().blind("owner"), blinder.blind("owner"));
        assert_eq!(format!("{blinder:?}"), "Blinder(redacted)");
    }
}
