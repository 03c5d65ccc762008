//! The background jobs: payment reconciliation and unpaid-order expiry, each on its own
//! interval, stopping between runs when the server shuts down.

use std::time::Duration;

use pochi_core::Shop;
use tokio::{
    sync::watch,
    task::JoinHandle,
    time::{MissedTickBehavior, interval},
};

/// How many times the jobs ran since start, for tests and status pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobRuns {
    /// Reconciliation runs that finished (with or without errors).
    pub reconcile: u64,
    /// Expiry runs that finished.
    pub expiry: u64,
    /// Orders cancelled by expiry, in all.
    pub orders_expired: u64,
    /// Runs that failed (logged).
    pub failures: u64,
}

/// Starts both jobs; they run at once, then every interval, until `stop` turns true. A run in
/// progress is finished first.
pub(crate) fn spawn(
    shop: Shop,
    reconcile_every: Duration,
    expire_every: Duration,
    mut stop: watch::Receiver<bool>,
) -> (JoinHandle<()>, watch::Receiver<JobRuns>) {
    let (runs_tx, runs) = watch::channel(JobRuns::default());
    let task = tokio::spawn(async move {
        let mut reconcile = interval(reconcile_every);
        let mut expire = interval(expire_every);
        reconcile.set_missed_tick_behavior(MissedTickBehavior::Delay);
        expire.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                // Stop when asked, or when the server is gone.
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                _ = reconcile.tick() => {
                    let failed = match shop.reconcile_payments().await {
                        Ok(report) => {
                            if report.checked > 0 {
                                tracing::info!(?report, "payments reconciled");
                            }
                            false
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "payment reconciliation failed");
                            true
                        }
                    };
                    runs_tx.send_modify(|r| {
                        r.reconcile += 1;
                        r.failures += u64::from(failed);
                    });
                }
                _ = expire.tick() => {
                    let (expired, failed) = match shop.expire_unpaid_orders().await {
                        Ok(orders) => {
                            if !orders.is_empty() {
                                tracing::info!(count = orders.len(), "unpaid orders expired");
                            }
                            (u64::try_from(orders.len()).unwrap_or(u64::MAX), false)
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "order expiry failed");
                            (0, true)
                        }
                    };
                    runs_tx.send_modify(|r| {
                        r.expiry += 1;
                        r.orders_expired += expired;
                        r.failures += u64::from(failed);
                    });
                }
            }
        }
        tracing::debug!("background jobs stopped");
    });
    (task, runs)
}
