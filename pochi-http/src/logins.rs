//! Admin logins already verified, so the password hash is not recomputed on every request.
//!
//! HTTP Basic sends the password with every request, and an argon2 check costs tens of
//! milliseconds of CPU and 19 MiB of memory (which the allocator tends to keep). A dashboard
//! page makes several requests: without this cache each one pays it, and a few concurrent
//! admin requests leave the server hundreds of megabytes larger.
//!
//! Only successful checks are kept, for [`RouterConfig::admin_login_ttl`](crate::RouterConfig)
//! (a failed one is always checked again and counts towards the lockout). Entries are keyed
//! by a SHA-256 of a random per-process key, the user name and the password: the cache holds
//! no password, and a changed password is a different key. Checks that do run are limited to
//! [`CONCURRENT_CHECKS`] at a time, which bounds the memory a burst of logins can take.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use pochi_core::AdminUser;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// Password checks that may run at once.
pub(crate) const CONCURRENT_CHECKS: usize = 2;
/// Beyond this many verified logins the cache starts over.
const MAX_LOGINS: usize = 256;

#[derive(Debug)]
pub(crate) struct VerifiedLogins {
    ttl: Duration,
    key: [u8; 32],
    logins: Mutex<HashMap<[u8; 32], (Instant, AdminUser)>>,
    /// Permits for the password checks that do run.
    pub(crate) checks: Semaphore,
}

impl VerifiedLogins {
    pub(crate) fn new(ttl: Duration) -> Self {
        VerifiedLogins {
            ttl,
            key: rand::random(),
            logins: Mutex::new(HashMap::new()),
            checks: Semaphore::new(CONCURRENT_CHECKS),
        }
    }

    fn digest(&self, username: &str, password: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.key);
        hasher.update(username.len().to_le_bytes());
        hasher.update(username.as_bytes());
        hasher.update(password.as_bytes());
        hasher.finalize().into()
    }

    /// The admin these credentials were verified for, if that was less than the TTL ago.
    pub(crate) fn get(&self, username: &str, password: &str, now: Instant) -> Option<AdminUser> {
        if self.ttl.is_zero() {
            return None;
        }
        let digest = self.digest(username, password);
        let logins = self.logins.lock().unwrap_or_else(PoisonError::into_inner);
        logins
            .get(&digest)
            .filter(|(at, _)| now.saturating_duration_since(*at) < self.ttl)
            .map(|(_, admin)| admin.clone())
    }

    /// Remembers that these credentials were verified (at `at`) for `admin`.
    pub(crate) fn put(&self, username: &str, password: &str, admin: &AdminUser, at: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let digest = self.digest(username, password);
        let mut logins = self.logins.lock().unwrap_or_else(PoisonError::into_inner);
        if logins.len() >= MAX_LOGINS {
            let ttl = self.ttl;
            logins.retain(|_, (verified, _)| at.saturating_duration_since(*verified) < ttl);
            if logins.len() >= MAX_LOGINS {
                logins.clear();
            }
        }
        logins.insert(digest, (at, admin.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> AdminUser {
        AdminUser {
            username: "owner".to_owned(),
        }
    }

    #[test]
    fn a_verified_login_is_remembered_until_its_ttl() {
        let logins = VerifiedLogins::new(Duration::from_secs(60));
        let t0 = Instant::now();
        logins.put("owner", "s3cret", &owner(), t0);

        assert_eq!(logins.get("owner", "s3cret", t0), Some(owner()));
        assert_eq!(
            logins.get("owner", "s3cret", t0 + Duration::from_secs(59)),
            Some(owner())
        );
        assert_eq!(
            logins.get("owner", "s3cret", t0 + Duration::from_secs(60)),
            None
        );
    }

    #[test]
    fn another_password_or_user_is_not_the_remembered_login() {
        let logins = VerifiedLogins::new(Duration::from_secs(60));
        let t0 = Instant::now();
        logins.put("owner", "s3cret", &owner(), t0);

        assert_eq!(logins.get("owner", "s3cret!", t0), None);
        assert_eq!(logins.get("owne", "rs3cret", t0), None);
        assert_eq!(logins.get("other", "s3cret", t0), None);
    }

    #[test]
    fn a_zero_ttl_remembers_nothing() {
        let logins = VerifiedLogins::new(Duration::ZERO);
        let t0 = Instant::now();
        logins.put("owner", "s3cret", &owner(), t0);
        assert_eq!(logins.get("owner", "s3cret", t0), None);
    }
}
