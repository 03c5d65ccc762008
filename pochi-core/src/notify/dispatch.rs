//! How the dispatcher paces itself: batches, leases, retries with backoff, and when a
//! message is given up on. The dispatcher itself is [`Shop::dispatch_notifications`].
//!
//! [`Shop::dispatch_notifications`]: crate::Shop::dispatch_notifications

use std::{fmt, sync::Arc, time::Duration};

use super::{Channel, ChannelKind, NotifySetup, SendError};

/// How the dispatcher paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DispatchPolicy {
    /// Events expanded, and deliveries claimed, per run (default 50).
    pub batch: usize,
    /// How long a claim holds (default 2 minutes). It must outlast a channel's own timeout,
    /// so a delivery still being sent is never claimed by another dispatcher.
    pub lease: Duration,
    /// Attempts after which a message that keeps failing is dead (default 8).
    pub max_attempts: u32,
    /// The pause after the first failure (default 30 s); it doubles after each failure.
    pub first_retry: Duration,
    /// The longest pause between attempts (default 1 hour).
    pub max_retry: Duration,
}

impl Default for DispatchPolicy {
    fn default() -> Self {
        DispatchPolicy {
            batch: 50,
            lease: Duration::from_secs(120),
            max_attempts: 8,
            first_retry: Duration::from_secs(30),
            max_retry: Duration::from_secs(3600),
        }
    }
}

impl DispatchPolicy {
    /// With another first pause between attempts (the pause still doubles).
    pub fn with_first_retry(mut self, pause: Duration) -> Self {
        self.first_retry = pause;
        self
    }

    /// With another number of attempts before a message is dead (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// With another batch: events expanded, and messages claimed, per run (at least 1).
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// With another lease.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The pause before attempt `attempts + 1`, after `attempts` failed ones (1-based): the
    /// first pause doubled per earlier failure, capped at [`max_retry`](Self::max_retry), and
    /// never shorter than what the service asked (`retry_after`).
    pub fn backoff(&self, attempts: u32, retry_after: Option<Duration>) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        let pause = self
            .first_retry
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max_retry)
            .min(self.max_retry);
        retry_after.map_or(pause, |asked| pause.max(asked.min(self.max_retry)))
    }

    /// Whether a failed attempt (the `attempts`-th) ends the message: a permanent error
    /// always does; a transient one once the attempts are used up.
    pub fn gives_up(&self, attempts: u32, error: &SendError) -> bool {
        !error.is_transient() || attempts >= self.max_attempts
    }
}

/// What a shop sends its messages with, and to whom (see
/// [`ShopBuilder::notifications`](crate::ShopBuilder::notifications)).
#[derive(Clone)]
pub struct Notifications {
    /// Who gets which message, by which channel, and the links in them. Its shop name and
    /// templates are refreshed from the shop's settings on every run.
    pub setup: NotifySetup,
    /// The channels, one per kind (the first of a kind is used). [`ChannelKind::Log`] needs
    /// none: a log message is kept in the shop, for the dashboard.
    pub channels: Vec<Arc<dyn Channel>>,
    /// Pacing.
    pub policy: DispatchPolicy,
    /// This dispatcher's name in leases: unique per process (the default is random).
    pub worker: String,
}

impl Notifications {
    /// Sends nothing: events are marked done as they come.
    pub fn none() -> Self {
        Notifications::new(NotifySetup::default(), Vec::new())
    }

    /// These channels for this setup, with the default policy and a random worker name.
    pub fn new(setup: NotifySetup, channels: Vec<Arc<dyn Channel>>) -> Self {
        Notifications {
            setup,
            channels,
            policy: DispatchPolicy::default(),
            worker: format!("dispatcher-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// With another policy.
    pub fn with_policy(mut self, policy: DispatchPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The channel of a kind, if one was given.
    pub fn channel(&self, kind: ChannelKind) -> Option<&Arc<dyn Channel>> {
        self.channels.iter().find(|c| c.kind() == kind)
    }
}

impl fmt::Debug for Notifications {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifications")
            .field("channels", &self.channels)
            .field("policy", &self.policy)
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

/// What one dispatcher run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Events turned into messages by this run.
    pub expanded: u32,
    /// Messages the channels accepted (log messages included).
    pub sent: u32,
    /// Messages that failed and will be tried again.
    pub retried: u32,
    /// Messages given up on (kept for an admin).
    pub dead: u32,
    /// Messages whose lease ran out before the outcome was recorded (another dispatcher may
    /// have taken them).
    pub lost_leases: u32,
    /// Whether the run found a full batch of events or of messages: more are probably
    /// waiting, and the next run should follow at once rather than after the interval.
    pub more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_honours_the_services_wait() {
        let policy = DispatchPolicy::default();
        assert_eq!(policy.backoff(1, None), Duration::from_secs(30));
        assert_eq!(policy.backoff(2, None), Duration::from_secs(60));
        assert_eq!(policy.backoff(4, None), Duration::from_secs(240));
        assert_eq!(policy.backoff(40, None), Duration::from_secs(3600));
        assert_eq!(
            policy.backoff(1, Some(Duration::from_secs(90))),
            Duration::from_secs(90)
        );
        assert_eq!(
            policy.backoff(1, Some(Duration::from_secs(86_400))),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn permanent_errors_end_a_message_at_once_transient_ones_when_attempts_run_out() {
        let policy = DispatchPolicy::default().with_max_attempts(3);
        let permanent = SendError::Permanent {
            code: "invalid_recipient",
            detail: String::new(),
        };
        let transient = SendError::Transient {
            code: "timeout",
            detail: String::new(),
            retry_after: None,
        };
        assert!(policy.gives_up(1, &permanent));
        assert!(!policy.gives_up(2, &transient));
        assert!(policy.gives_up(3, &transient));
    }
}
