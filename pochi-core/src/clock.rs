//! Time, injected so tests and snapshots are deterministic.

use std::{fmt, sync::Mutex, time::Duration};

use time::OffsetDateTime;

/// Tells the time. `Shop` asks it instead of the system so tests can move time along.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// The current time, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until moved, for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        ManualClock {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: OffsetDateTime) {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Truncates a time to whole microseconds, the precision every store keeps, so a value read
/// back equals the value written.
pub fn to_micros(at: OffsetDateTime) -> OffsetDateTime {
    let nanos = at.nanosecond();
    at.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(datetime!(2026-01-01 08:00 UTC));
        assert_eq!(clock.now(), datetime!(2026-01-01 08:00 UTC));
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), datetime!(2026-01-01 08:01:30 UTC));
    }

    #[test]
    fn times_are_truncated_to_microseconds() {
        assert_eq!(
            to_micros(datetime!(2026-01-01 08:00:00.123456789 UTC)),
            datetime!(2026-01-01 08:00:00.123456 UTC)
        );
    }
}
