//! The guard in front of admin password checks: a backoff per user name, failure budgets per
//! client network and overall, and one check in flight per network (see [`LockoutPolicy`] for
//! what each does and why it fits networks where many people share one address).
//!
//! User names are kept as [`Blinded`] hashes (a user name field sometimes holds a mistyped
//! password), networks as [`ClientNetwork`]s (whose `Debug` hides the address). Everything is
//! in this process's memory, bounded: a name's failures are forgotten
//! [`LockoutPolicy::forget_after`] after its last one, and past `MAX_TRACKED` names a new one is
//! not tracked (the overall budget still counts its failures).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use pochi_core::{ClientNetwork, Error, LimitKind};

use crate::{
    config::LockoutPolicy,
    limits::{Blinded, Blinder, MAX_TRACKED, RateLimiter, whole_seconds},
};

/// Failed admin logins, and the password checks running.
#[derive(Debug)]
pub(crate) struct LoginGuard {
    policy: LockoutPolicy,
    blinder: Blinder,
    users: Mutex<HashMap<Blinded, UserFailures>>,
    per_client: Option<RateLimiter>,
    overall: Option<RateLimiter<()>>,
    in_flight: Arc<Mutex<HashSet<ClientNetwork>>>,
}

/// A user name's failures in a row, and when the last one was.
#[derive(Debug, Clone, Copy)]
struct UserFailures {
    count: u32,
    last: Instant,
}

/// The right to check a password for a client network; the network may start another check
/// once this is dropped.
#[derive(Debug)]
pub(crate) struct CheckSlot {
    in_flight: Arc<Mutex<HashSet<ClientNetwork>>>,
    network: ClientNetwork,
}

impl Drop for CheckSlot {
    fn drop(&mut self) {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.network);
    }
}

impl LoginGuard {
    pub(crate) fn new(policy: LockoutPolicy) -> Self {
        LoginGuard {
            policy,
            blinder: Blinder::new(),
            users: Mutex::new(HashMap::new()),
            per_client: policy.failures_per_client.map(RateLimiter::new),
            overall: policy.failures_overall.map(RateLimiter::new),
            in_flight: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// Whether `username`'s password may be checked now for a client in `network`: the slot to
    /// hold while checking it, or the limit that refuses it (with its `Retry-After`). Takes no
    /// budget: only a failure spends it.
    pub(crate) fn admit(
        &self,
        network: &ClientNetwork,
        username: &str,
        now: Instant,
    ) -> Result<CheckSlot, Error> {
        let user = self.blinder.blind(username);
        if let Some(wait) = self.user_wait(user, now) {
            return Err(refusal(
                LimitKind::LoginFailuresForUser,
                "too many failed logins for this user name",
                whole_seconds(wait),
            ));
        }
        if let Some(limiter) = &self.per_client {
            limiter.peek(network, now).map_err(|secs| {
                refusal(
                    LimitKind::LoginFailuresFromClient,
                    "too many failed logins from this network",
                    secs,
                )
            })?;
        }
        if let Some(limiter) = &self.overall {
            limiter.peek(&(), now).map_err(|secs| {
                refusal(
                    LimitKind::LoginFailures,
                    "too many failed logins to this shop",
                    secs,
                )
            })?;
        }
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !in_flight.insert(network.clone()) {
            return Err(refusal(
                LimitKind::LoginInProgress,
                "a login from this network is being checked",
                1,
            ));
        }
        Ok(CheckSlot {
            in_flight: Arc::clone(&self.in_flight),
            network: network.clone(),
        })
    }

    /// Counts a failed login for `username` from `network`.
    pub(crate) fn fail(&self, network: &ClientNetwork, username: &str, now: Instant) {
        if let Some(limiter) = &self.per_client {
            let _ = limiter.check(network, now);
        }
        if let Some(limiter) = &self.overall {
            let _ = limiter.check(&(), now);
        }
        let user = self.blinder.blind(username);
        let forget_after = self.policy.forget_after;
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        if users.len() >= MAX_TRACKED && !users.contains_key(&user) {
            users.retain(|_, f| now.saturating_duration_since(f.last) < forget_after);
            if users.len() >= MAX_TRACKED {
                return;
            }
        }
        let entry = users.entry(user).or_insert(UserFailures {
            count: 0,
            last: now,
        });
        if now.saturating_duration_since(entry.last) >= forget_after {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
    }

    /// Forgets `username`'s failures after a successful login.
    pub(crate) fn succeed(&self, username: &str) {
        let user = self.blinder.blind(username);
        self.users
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&user);
    }

    /// How long `user` must still wait, if at all.
    fn user_wait(&self, user: Blinded, now: Instant) -> Option<Duration> {
        let users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        let failures = users.get(&user)?;
        let since = now.saturating_duration_since(failures.last);
        if since >= self.policy.forget_after {
            return None;
        }
        self.backoff(failures.count)
            .checked_sub(since)
            .filter(|wait| !wait.is_zero())
    }

    /// The wait after `count` failures in a row: none for the free ones, then the first
    /// backoff doubling with each failure, up to the longest.
    fn backoff(&self, count: u32) -> Duration {
        let Some(extra) = count.checked_sub(self.policy.free_failures) else {
            return Duration::ZERO;
        };
        let factor = 1u32 << extra.min(20);
        self.policy
            .first_backoff
            .saturating_mul(factor)
            .min(self.policy.max_backoff)
    }
}

fn refusal(limit: LimitKind, message: &str, retry_after_secs: u64) -> Error {
    Error::LimitReached {
        limit,
        message: format!("{message}; try again in {retry_after_secs} s"),
        retry_after_secs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RateLimit;

    fn network(text: &str) -> ClientNetwork {
        ClientNetwork::of(text.parse().unwrap())
    }

    fn limit_of(result: Result<CheckSlot, Error>) -> Option<(LimitKind, u64)> {
        match result {
            Ok(_) => None,
            Err(Error::LimitReached {
                limit,
                retry_after_secs,
                ..
            }) => Some((limit, retry_after_secs)),
            Err(other) => panic!("unexpected {other}"),
        }
    }

    fn backoff_only(free: u32) -> LockoutPolicy {
        LockoutPolicy::default()
            .with_user_backoff(free, Duration::from_secs(2), Duration::from_secs(10))
            .with_failures_per_client(None)
            .with_failures_overall(None)
    }

    #[test]
    fn a_user_name_waits_twice_as_long_after_each_failure_past_the_free_ones() {
        let guard = LoginGuard::new(backoff_only(2));
        let (here, t0) = (network("203.0.113.7"), Instant::now());
        for _ in 0..2 {
            assert_eq!(limit_of(guard.admit(&here, "owner", t0)), None);
            guard.fail(&here, "owner", t0);
        }
        let refused = Some((LimitKind::LoginFailuresForUser, 2));
        assert_eq!(limit_of(guard.admit(&here, "owner", t0)), refused);
        // another name, and the same name from elsewhere after the wait
        assert_eq!(limit_of(guard.admit(&here, "other", t0)), None);
        let t2 = t0 + Duration::from_secs(2);
        assert_eq!(
            limit_of(guard.admit(&network("198.51.100.1"), "owner", t2)),
            None
        );
        guard.fail(&here, "owner", t2);
        let waits = limit_of(guard.admit(&here, "owner", t2));
        assert_eq!(waits, Some((LimitKind::LoginFailuresForUser, 4)));
        // the longest wait bounds it
        let mut t = t2;
        for _ in 0..10 {
            t += Duration::from_secs(10);
            guard.fail(&here, "owner", t);
        }
        let longest = limit_of(guard.admit(&here, "owner", t));
        assert_eq!(longest, Some((LimitKind::LoginFailuresForUser, 10)));
    }

    #[test]
    fn a_success_or_a_quiet_hour_forgets_a_user_names_failures() {
        let guard = LoginGuard::new(backoff_only(1));
        let (here, t0) = (network("203.0.113.7"), Instant::now());
        guard.fail(&here, "owner", t0);
        assert!(limit_of(guard.admit(&here, "owner", t0)).is_some());
        guard.succeed("owner");
        assert_eq!(limit_of(guard.admit(&here, "owner", t0)), None);
        guard.fail(&here, "owner", t0);
        let later = t0 + LockoutPolicy::default().forget_after;
        assert_eq!(limit_of(guard.admit(&here, "owner", later)), None);
    }

    #[test]
    fn failures_spend_the_networks_budget_and_the_overall_one() {
        let policy = backoff_only(1000)
            .with_failures_per_client(Some(RateLimit::new(60, 2)))
            .with_failures_overall(Some(RateLimit::new(60, 3)));
        let guard = LoginGuard::new(policy);
        let t0 = Instant::now();
        let (a, b) = (network("2001:db8:1:2::1"), network("2001:db8:1:2::2"));
        guard.fail(&a, "x", t0);
        guard.fail(&b, "y", t0);
        let refused = limit_of(guard.admit(&network("2001:db8:1:2::3"), "z", t0));
        assert_eq!(refused, Some((LimitKind::LoginFailuresFromClient, 1)));
        let elsewhere = network("2001:db8:9::1");
        assert_eq!(limit_of(guard.admit(&elsewhere, "z", t0)), None);
        guard.fail(&elsewhere, "z", t0);
        let everyone = limit_of(guard.admit(&network("192.0.2.1"), "owner", t0));
        assert_eq!(everyone, Some((LimitKind::LoginFailures, 1)));
    }

    #[test]
    fn one_check_at_a_time_per_network() {
        let guard = LoginGuard::new(LockoutPolicy::default());
        let t0 = Instant::now();
        let slot = guard
            .admit(&network("2001:db8:1:2::1"), "owner", t0)
            .unwrap();
        let second = limit_of(guard.admit(&network("2001:db8:1:2::9"), "owner", t0));
        assert_eq!(second, Some((LimitKind::LoginInProgress, 1)));
        assert_eq!(
            limit_of(guard.admit(&network("192.0.2.1"), "owner", t0)),
            None
        );
        drop(slot);
        assert_eq!(
            limit_of(guard.admit(&network("2001:db8:1:2::9"), "owner", t0)),
            None
        );
    }
}
