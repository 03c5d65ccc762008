//! The shop's background jobs, owned by the library: payment reconciliation
//! ([`Shop::reconcile_payments`]), unpaid-order expiry ([`Shop::expire_unpaid_orders`]) and
//! the notification dispatcher ([`Shop::dispatch_notifications`]).
//!
//! Every application serving a shop runs them, whether it is the reference server or a host
//! that nests [`router`](crate::router) in its own service: without expiry, stock held by
//! unpaid orders never comes back; without reconciliation, a payment whose callback was lost
//! is never settled.
//!
//! ```no_run
//! use std::sync::Arc;
//! use pochi_core::{ManualCodeProvider, MemoryStore, Shop};
//! use pochi_http::{JobIntervals, jobs};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let shop = Shop::builder(Arc::new(MemoryStore::new()))
//!     .provider(Arc::new(ManualCodeProvider::new()))
//!     .build()?;
//! let running = jobs(shop, JobIntervals::default(), async {
//!     let _ = tokio::signal::ctrl_c().await;
//! });
//! // … serve the router; on shutdown:
//! running.stopped().await;
//! # Ok(())
//! # }
//! ```
//!
//! Each job runs in a loop of its own (a task each), so a payment provider that answers slowly
//! holds up reconciliation only, never expiry. A job runs at once, then every interval; runs
//! that fall behind are delayed, not bunched. Shutdown lets a run in progress finish within
//! [`JobIntervals::shutdown_grace`], then stops the loops (a run still going then is dropped:
//! every store change is one transaction, so nothing is left half done).
//!
//! Several processes may run the jobs on one database. Expiry applies each change once (the
//! SQL stores take due orders with `FOR UPDATE SKIP LOCKED`). Reconciliation is not claimed:
//! two processes may both ask the provider about the same pending payment; its answer is
//! applied once, since settling the same result twice changes nothing. The dispatcher expands
//! each outbox event once and claims each message under a lease (`FOR UPDATE SKIP LOCKED`),
//! so processes sharing a database never send a message twice; a run dropped at shutdown
//! leaves its claimed messages to be taken again when their lease ends.

use std::{future::Future, time::Duration};

use pochi_core::Shop;
use tokio::{
    sync::watch,
    task::JoinHandle,
    time::{MissedTickBehavior, interval},
};

/// How often each job runs, and how long shutdown waits for a run in progress. Intervals
/// shorter than [`MIN_INTERVAL`] are taken as that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobIntervals {
    /// Between two payment reconciliation runs (default 30 s).
    pub reconcile: Duration,
    /// Between two unpaid-order expiry runs (default 60 s).
    pub expiry: Duration,
    /// Between two notification dispatcher runs (default 2 s): at most this long passes
    /// between an order's change and its message leaving.
    pub notify: Duration,
    /// How long shutdown lets a run in progress finish before dropping it (default 10 s).
    pub shutdown_grace: Duration,
}

/// The shortest interval a job runs at (a zero interval would be a busy loop).
pub const MIN_INTERVAL: Duration = Duration::from_millis(1);

impl Default for JobIntervals {
    fn default() -> Self {
        JobIntervals {
            reconcile: Duration::from_secs(30),
            expiry: Duration::from_secs(60),
            notify: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl JobIntervals {
    /// With another reconciliation interval.
    pub fn with_reconcile(mut self, every: Duration) -> Self {
        self.reconcile = every;
        self
    }

    /// With another expiry interval.
    pub fn with_expiry(mut self, every: Duration) -> Self {
        self.expiry = every;
        self
    }

    /// With another notification dispatcher interval.
    pub fn with_notify(mut self, every: Duration) -> Self {
        self.notify = every;
        self
    }

    /// With another grace period for a run in progress at shutdown.
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

/// How many times the jobs ran since they started, for tests and status pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobRuns {
    /// Reconciliation runs that finished (with or without errors).
    pub reconcile: u64,
    /// Expiry runs that finished.
    pub expiry: u64,
    /// Orders cancelled by expiry, in all.
    pub orders_expired: u64,
    /// Notification dispatcher runs that finished.
    pub notify: u64,
    /// Messages the dispatcher sent, in all.
    pub messages_sent: u64,
    /// Runs that failed (logged).
    pub failures: u64,
}

/// The running jobs: [`jobs`] started them. Dropping this detaches them (they still stop at
/// shutdown); await [`Jobs::stopped`] to know they have.
#[derive(Debug)]
#[must_use = "await `stopped()` after shutdown to let the job runs in progress finish"]
pub struct Jobs {
    tasks: Vec<JoinHandle<()>>,
    runs: watch::Receiver<JobRuns>,
}

impl Jobs {
    /// A receiver of the run counts, updated after every run. Once the jobs have stopped it
    /// reports the channel closed (`has_changed` is an error).
    pub fn runs(&self) -> watch::Receiver<JobRuns> {
        self.runs.clone()
    }

    /// Waits until every loop has stopped: after the shutdown future completed and any run in
    /// progress finished or was dropped at the end of its grace period.
    pub async fn stopped(self) {
        for task in self.tasks {
            if let Err(err) = task.await {
                tracing::error!(error = %err, "a background job ended abnormally");
            }
        }
    }
}

/// Starts the shop's jobs on the current tokio runtime; they run until `shutdown` completes.
pub fn jobs<F>(shop: Shop, intervals: JobIntervals, shutdown: F) -> Jobs
where
    F: Future<Output = ()> + Send + 'static,
{
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        tokio::select! {
            () = shutdown => {
                let _ = stop_tx.send(true);
            }
            // Every loop has ended (their receivers dropped): nothing left to stop.
            () = stop_tx.closed() => {}
        }
    });
    let (runs_tx, runs) = watch::channel(JobRuns::default());
    let reconcile = {
        let (shop, runs_tx) = (shop.clone(), runs_tx.clone());
        every(
            intervals.reconcile,
            intervals.shutdown_grace,
            stop.clone(),
            move || {
                let (shop, runs_tx) = (shop.clone(), runs_tx.clone());
                async move {
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
            },
        )
    };
    let notify = {
        let (shop, runs_tx) = (shop.clone(), runs_tx.clone());
        every(
            intervals.notify,
            intervals.shutdown_grace,
            stop.clone(),
            move || {
                let (shop, runs_tx) = (shop.clone(), runs_tx.clone());
                async move {
                    // A full batch means a backlog (a burst of orders): run again at once, so
                    // messages leave as fast as they are made, not a batch per interval.
                    let (mut sent, mut failed) = (0, false);
                    for _ in 0..MAX_DISPATCH_RUNS {
                        match shop.dispatch_notifications().await {
                            Ok(report) => {
                                if report != pochi_core::notify::DispatchReport::default() {
                                    tracing::info!(?report, "notifications dispatched");
                                }
                                sent += u64::from(report.sent);
                                if !report.more {
                                    break;
                                }
                            }
                            Err(err) => {
                                tracing::warn!(error = %err, "notification dispatch failed");
                                failed = true;
                                break;
                            }
                        }
                    }
                    runs_tx.send_modify(|r| {
                        r.notify += 1;
                        r.messages_sent += sent;
                        r.failures += u64::from(failed);
                    });
                }
            },
        )
    };
    let expiry = every(
        intervals.expiry,
        intervals.shutdown_grace,
        stop,
        move || {
            let (shop, runs_tx) = (shop.clone(), runs_tx.clone());
            async move {
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
        },
    );
    Jobs {
        tasks: vec![reconcile, expiry, notify],
        runs,
    }
}

/// Dispatcher runs, each of a full batch, one tick may chain before it waits for the next:
/// bounds a tick's length while a backlog drains.
const MAX_DISPATCH_RUNS: usize = 20;

/// One job's loop: `run` at once, then every `period`, until `stop` turns true (or its sender
/// is gone). A run in progress when it does gets `grace` to finish, then is dropped.
fn every<R, Fut>(
    period: Duration,
    grace: Duration,
    mut stop: watch::Receiver<bool>,
    run: R,
) -> JoinHandle<()>
where
    R: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut ticks = interval(period.max(MIN_INTERVAL));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                _ = ticks.tick() => {
                    let run = run();
                    tokio::pin!(run);
                    tokio::select! {
                        () = &mut run => {}
                        () = stopping(&mut stop) => {
                            if tokio::time::timeout(grace, run).await.is_err() {
                                tracing::warn!("a background job run was dropped at shutdown");
                            }
                            break;
                        }
                    }
                }
            }
        }
        tracing::debug!("background job stopped");
    })
}

/// Completes when `stop` turns true or its sender is gone.
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
