//! Per-address rate limits and login lockouts, kept in this process's memory (one copy per
//! process is enough), and the client address they are keyed by.
//!
//! Why not `governor`: its keyed limiter would replace the token buckets (about 40 lines),
//! but the routes need two things its API does not give: looking at an address's bucket
//! without taking a token (the refused-callback budget is spent only when a callback is
//! refused) and the whole seconds until the next token for `Retry-After`; and the map must stay
//! bounded under a flood of addresses (full buckets are dropped past `MAX_TRACKED`). The
//! lockout is not a rate limit at all.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, connect_info::MockConnectInfo},
    http::request::Parts,
};

use crate::config::{LockoutPolicy, RateLimit, TrustedProxy};

/// Beyond this many tracked addresses, idle ones are dropped (a flood of addresses cannot
/// grow memory without bound).
const MAX_TRACKED: usize = 100_000;

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
}

/// `203.0.113.7`, `203.0.113.7:5000`, `2001:db8::1` or `[2001:db8::1]:5000`.
fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// Token buckets per address.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds until the next token)` when `ip` has none left; takes nothing.
    pub(crate) fn peek(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let per_sec = f64::from(self.limit.per_minute) / 60.0;
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let Some(bucket) = buckets.get(&ip) else {
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

    /// Takes one token for `ip`: `Ok` to go on, or `Err(seconds until the next token)`.
    pub(crate) fn check(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let burst = f64::from(self.limit.burst);
        let per_sec = f64::from(self.limit.per_minute) / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED {
            // Full buckets carry no information: forget them.
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * per_sec < burst);
        }
        let bucket = buckets.entry(ip).or_insert(Bucket {
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

/// Failed admin logins per address, and the addresses locked out.
#[derive(Debug)]
pub(crate) struct Lockout {
    policy: LockoutPolicy,
    entries: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first_at: Instant,
    locked_until: Option<Instant>,
}

impl Lockout {
    pub(crate) fn new(policy: LockoutPolicy) -> Self {
        Lockout {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds left)` while `ip` is locked out.
    pub(crate) fn check(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(&ip).and_then(|f| f.locked_until) {
            Some(until) if until > now => Err(whole_seconds(until.duration_since(now))),
            _ => Ok(()),
        }
    }

    /// Counts a failure; `Err(seconds)` when it locks the address out.
    pub(crate) fn fail(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_TRACKED {
            let window = self.policy.window;
            entries.retain(|_, f| {
                f.locked_until.is_some_and(|t| t > now) || now.duration_since(f.first_at) < window
            });
        }
        let entry = entries.entry(ip).or_insert(Failures {
            count: 0,
            first_at: now,
            locked_until: None,
        });
        let expired = now.duration_since(entry.first_at) >= self.policy.window
            || entry.locked_until.is_some_and(|t| t <= now);
        if expired {
            *entry = Failures {
                count: 0,
                first_at: now,
                locked_until: None,
            };
        }
        entry.count += 1;
        if entry.count >= self.policy.max_failures {
            entry.locked_until = Some(now + self.policy.duration);
            return Err(self.policy.duration.as_secs().max(1));
        }
        Ok(())
    }

    /// Forgets the failures of `ip` after a successful login.
    pub(crate) fn succeed(&self, ip: IpAddr) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&ip);
    }
}

/// Seconds, rounded up: a client told to wait that long will not be refused again.
fn whole_seconds(duration: Duration) -> u64 {
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

    #[test]
    fn a_bucket_allows_its_burst_then_refills_over_time() {
        let limiter = RateLimiter::new(RateLimit::new(60, 2));
        let ip = IpAddr::from([1, 2, 3, 4]);
        let t0 = Instant::now();
        assert_eq!(limiter.check(ip, t0), Ok(()));
        assert_eq!(limiter.check(ip, t0), Ok(()));
        assert_eq!(limiter.check(ip, t0), Err(1));
        assert_eq!(limiter.check(IpAddr::from([5, 6, 7, 8]), t0), Ok(()));
        assert_eq!(limiter.check(ip, t0 + Duration::from_secs(1)), Ok(()));
    }

    #[test]
    fn repeated_failures_lock_an_address_out_until_the_time_passes() {
        let lockout = Lockout::new(LockoutPolicy::new(
            3,
            Duration::from_secs(60),
            Duration::from_secs(300),
        ));
        let ip = IpAddr::from([1, 2, 3, 4]);
        let t0 = Instant::now();
        assert_eq!(lockout.fail(ip, t0), Ok(()));
        assert_eq!(lockout.fail(ip, t0), Ok(()));
        assert_eq!(lockout.fail(ip, t0), Err(300));
        assert_eq!(lockout.check(ip, t0 + Duration::from_secs(100)), Err(200));
        assert_eq!(lockout.check(ip, t0 + Duration::from_secs(301)), Ok(()));
        assert_eq!(lockout.fail(ip, t0 + Duration::from_secs(301)), Ok(()));
    }

    #[test]
    fn a_success_forgets_earlier_failures() {
        let lockout = Lockout::new(LockoutPolicy::new(
            2,
            Duration::from_secs(60),
            Duration::from_secs(300),
        ));
        let ip = IpAddr::from([1, 2, 3, 4]);
        let t0 = Instant::now();
        assert_eq!(lockout.fail(ip, t0), Ok(()));
        lockout.succeed(ip);
        assert_eq!(lockout.fail(ip, t0), Ok(()));
    }
}
