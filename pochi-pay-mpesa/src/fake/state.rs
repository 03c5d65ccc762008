//! The fake's memory: tokens, pushes and registered URLs, behind one mutex that is never held
//! across an `.await`.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
};

use pochi_core::Clock;
use rand::{Rng, distributions::Alphanumeric};
use time::OffsetDateTime;
use tokio::sync::watch;

use super::{
    FakeOptions, InitiatorDelivery, InitiatorRecord, InitiatorScript, KnownPayment, PushRecord,
    PushState, RegisteredUrls,
};
use crate::timestamp::{EAST_AFRICA_TIME, Timestamp};

/// Everything the server and the controls share.
pub(crate) struct Shared {
    pub(crate) options: FakeOptions,
    /// Safaricom's side of the initiator certificate (the test fixture's key).
    pub(crate) initiator_key: rsa::RsaPrivateKey,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) http: reqwest::Client,
    state: Mutex<State>,
    /// Bumped on every change, so controls can wait for one.
    changed: watch::Sender<u64>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) token: Option<IssuedToken>,
    pub(crate) token_fetches: u64,
    pub(crate) fail_token_fetches: u32,
    pub(crate) refuse_all_tokens: bool,
    pub(crate) pushes: Vec<PushRecord>,
    pub(crate) registered: Option<RegisteredUrls>,
    pub(crate) auto: Option<super::AutoResolve>,
    pub(crate) callbacks_delivered: u64,
    pub(crate) payments: HashMap<String, KnownPayment>,
    pub(crate) initiator_scripts: VecDeque<InitiatorScript>,
    pub(crate) initiator_requests: Vec<InitiatorRecord>,
    pub(crate) initiator_deliveries: Vec<InitiatorDelivery>,
    counter: u64,
}

pub(crate) struct IssuedToken {
    pub(crate) value: String,
    pub(crate) expires_at: OffsetDateTime,
}

impl Shared {
    pub(crate) fn new(
        options: FakeOptions,
        clock: Arc<dyn Clock>,
        http: reqwest::Client,
        initiator_key: rsa::RsaPrivateKey,
    ) -> Self {
        Shared {
            options,
            initiator_key,
            clock,
            http,
            state: Mutex::new(State::default()),
            changed: watch::Sender::new(0),
        }
    }

    /// Reads or changes the state; every call counts as a change for waiters.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let result = f(&mut self.lock());
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
        result
    }

    /// Reads the state.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `ready` returns something.
    pub(crate) async fn wait_for<T>(&self, ready: impl Fn(&State) -> Option<T>) -> T {
        let mut changes = self.changed.subscribe();
        loop {
            if let Some(value) = self.read(&ready) {
                return value;
            }
            // The sender lives as long as `self`, so this only fails if it was dropped.
            if changes.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

impl State {
    /// A fresh sequence number.
    pub(crate) fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// Issues a token, invalidating the previous one (as Safaricom documents).
    pub(crate) fn issue_token(&mut self, now: OffsetDateTime, lifetime_secs: u64) -> String {
        let value: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(28)
            .map(char::from)
            .collect();
        let lifetime = time::Duration::seconds(i64::try_from(lifetime_secs).unwrap_or(3599));
        self.token = Some(IssuedToken {
            value: value.clone(),
            expires_at: now.checked_add(lifetime).unwrap_or(now),
        });
        value
    }

    /// Whether `bearer` is the current, unexpired token.
    pub(crate) fn token_valid(&self, bearer: &str, now: OffsetDateTime) -> bool {
        !self.refuse_all_tokens
            && self
                .token
                .as_ref()
                .is_some_and(|t| t.value == bearer && now < t.expires_at)
    }

    /// Remembers a payment the fake made, so Transaction Status and Reversal know it.
    pub(crate) fn remember_payment(
        &mut self,
        receipt: &str,
        amount: u32,
        phone: &str,
        at: OffsetDateTime,
    ) {
        self.payments.insert(
            receipt.to_owned(),
            KnownPayment {
                receipt: receipt.to_owned(),
                amount,
                phone: phone.to_owned(),
                at,
                reversed: false,
            },
        );
    }

    pub(crate) fn push(&self, checkout_request_id: &str) -> Option<&PushRecord> {
        self.pushes
            .iter()
            .find(|p| p.checkout_request_id == checkout_request_id)
    }

    pub(crate) fn push_mut(&mut self, checkout_request_id: &str) -> Option<&mut PushRecord> {
        self.pushes
            .iter_mut()
            .find(|p| p.checkout_request_id == checkout_request_id)
    }

    /// Whether a push to `phone` is still waiting for the customer.
    pub(crate) fn phone_busy(&self, phone: &str) -> bool {
        self.pushes
            .iter()
            .any(|p| p.phone == phone && !matches!(p.state, PushState::Resolved { .. }))
    }

    /// A `CheckoutRequestID` in Daraja's shape: `ws_CO_` + local date and time + digits.
    pub(crate) fn checkout_request_id(&mut self, now: OffsetDateTime) -> String {
        let local = Timestamp::at(now, EAST_AFRICA_TIME);
        let digits = local.as_str();
        // Daraja writes DDMMYYYYHHmmss.
        let ddmmyyyy = format!("{}{}{}", &digits[6..8], &digits[4..6], &digits[..4]);
        format!("ws_CO_{ddmmyyyy}{}{:06}", &digits[8..], self.next())
    }

    /// An M-Pesa receipt: ten letters and digits, `FKE` and seven random ones. Random, not a
    /// sequence: a simulated shop restarted with the same database would otherwise issue the
    /// receipts of its first run again, and the shop would put every payment after the restart
    /// in review as `receipt_already_used`.
    pub(crate) fn receipt(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut rng = rand::thread_rng();
        let tail: String = (0..7)
            .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
            .collect();
        format!("FKE{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restarted_fake_issues_receipts_the_first_run_did_not() {
        // given: the receipts of a first run
        let mut first = State::default();
        let issued: std::collections::HashSet<String> =
            (0..1000).map(|_| first.receipt()).collect();

        // when: a new process (a fresh state) issues its own
        let mut second = State::default();
        let again: Vec<String> = (0..1000).map(|_| second.receipt()).collect();

        // then: none repeats, and each looks like an M-Pesa receipt
        assert_eq!(issued.len(), 1000);
        assert!(
            again.iter().all(|r| !issued.contains(r)),
            "a receipt came again"
        );
        assert!(again.iter().all(|r| {
            r.len() == 10
                && r.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        }));
    }
}
