//! Background jobs: reconciling pending payments and expiring unpaid orders.

use std::time::Duration as StdDuration;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::{Shop, payments::ReviewDraft};
use crate::{
    error::Result,
    events::ShopEvent,
    order::{Order, OrderStatus},
    payment::{Payment, PaymentCheck, PaymentResult, PaymentTarget, ReviewReason, Settled},
    provider::QueryAnswer,
    store::ExpiryCutoff,
};

/// How many records a job handles per store call.
const BATCH: usize = 100;

/// What a reconciliation run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileReport {
    /// Attempts looked at.
    pub checked: u32,
    /// Attempts that got a final result.
    pub settled: u32,
    /// Attempts still waiting.
    pub still_pending: u32,
    /// Attempts marked for review (too many checks, or the provider cannot be asked).
    pub marked_for_review: u32,
    /// Checks that failed (the provider or store could not be reached); tried again later.
    pub errors: u32,
}

impl Shop {
    /// Asks the providers about attempts that got no callback in time: a final answer is
    /// applied, "still processing" is checked again later with a growing pause, and after
    /// [`ShopConfig::max_payment_checks`](super::ShopConfig) the attempt is marked for review.
    /// Never starts a new payment.
    pub async fn reconcile_payments(&self) -> Result<ReconcileReport> {
        let mut report = ReconcileReport::default();
        let due = self
            .inner
            .store
            .payments_due_for_check(self.now(), BATCH)
            .await?;
        for payment in due {
            report.checked += 1;
            match self.reconcile_one(&payment).await {
                Ok(Outcome::Settled) => report.settled += 1,
                Ok(Outcome::Pending) => report.still_pending += 1,
                Ok(Outcome::Review) => report.marked_for_review += 1,
                Err(_) => {
                    report.errors += 1;
                    // Count the failed check too, so a provider that is down for long ends
                    // in review rather than being asked forever.
                    self.schedule_next_check(&payment).await.ok();
                }
            }
        }
        Ok(report)
    }

    async fn reconcile_one(&self, payment: &Payment) -> Result<Outcome> {
        let Ok(provider) = self.provider_named(&payment.provider).cloned() else {
            return self.give_up(payment).await;
        };
        let answer = if payment.provider_reference.is_some() {
            provider.query(payment).await?
        } else {
            // The provider never gave a reference (the process stopped, or the request timed
            // out): nothing can be asked; wait for a late callback, then review.
            QueryAnswer::Pending
        };
        match answer {
            QueryAnswer::Pending => self.schedule_next_check(payment).await,
            QueryAnswer::Unsupported => self.give_up(payment).await,
            QueryAnswer::Final(result) => {
                let settled = self
                    .inner
                    .store
                    .settle_payment(
                        &PaymentTarget::Id(payment.id),
                        &PaymentResult {
                            result,
                            actor: crate::order::Actor::System,
                            at: self.now(),
                        },
                    )
                    .await?;
                match settled {
                    Settled::Applied { payment, order } => {
                        self.announce(&payment, &order).await;
                        // A status query carries no receipt: ask for it.
                        self.check_if_possible(provider.as_ref(), &payment).await;
                        Ok(Outcome::Settled)
                    }
                    Settled::Unchanged { .. } => Ok(Outcome::Settled),
                    Settled::Quarantined { .. } => self.give_up(payment).await,
                }
            }
        }
    }

    async fn schedule_next_check(&self, payment: &Payment) -> Result<Outcome> {
        let checks = payment.checks.saturating_add(1);
        if checks >= self.inner.config.max_payment_checks {
            return self.give_up(payment).await;
        }
        let base = self.inner.config.payment_check_backoff;
        let pause = base
            .checked_mul(2u32.saturating_pow(checks.saturating_sub(1)))
            .unwrap_or(StdDuration::MAX)
            .min(self.inner.config.max_payment_check_interval);
        let now = self.now();
        let next = now.checked_add(Duration::try_from(pause).unwrap_or(Duration::MAX));
        self.inner
            .store
            .schedule_payment_check(
                payment.id,
                &PaymentCheck {
                    checks,
                    next_check_at: next,
                    needs_review: next.is_none(),
                    at: now,
                },
            )
            .await?;
        Ok(Outcome::Pending)
    }

    async fn give_up(&self, payment: &Payment) -> Result<Outcome> {
        let now = self.now();
        self.inner
            .store
            .schedule_payment_check(
                payment.id,
                &PaymentCheck {
                    checks: payment.checks.saturating_add(1),
                    next_check_at: None,
                    needs_review: true,
                    at: now,
                },
            )
            .await?;
        self.keep_for_review(
            &payment.provider,
            ReviewReason::ReconcileLimitReached,
            ReviewDraft {
                payment_id: Some(payment.id),
                order_number: Some(payment.order_number.clone()),
                reference: payment.provider_reference.clone(),
                amount: Some(payment.amount),
                ..ReviewDraft::default()
            },
        )
        .await?;
        Ok(Outcome::Review)
    }

    /// Cancels orders that stayed unpaid longer than
    /// [`ShopConfig::unpaid_order_ttl`](super::ShopConfig) (or
    /// [`unstarted_order_ttl`](super::ShopConfig::unstarted_order_ttl) when no payment was
    /// ever started for them) and releases their stock.
    pub async fn expire_unpaid_orders(&self) -> Result<Vec<Order>> {
        let now = self.now();
        let config = &self.inner.config;
        let ttl = Duration::try_from(config.unpaid_order_ttl).unwrap_or(Duration::MAX);
        let unstarted = Duration::try_from(config.unstarted_order_ttl).unwrap_or(Duration::MAX);
        let hold = Duration::try_from(config.in_flight_hold).unwrap_or(Duration::MAX);
        let Some(placed_before) = now.checked_sub(ttl) else {
            return Ok(Vec::new());
        };
        let cutoff = ExpiryCutoff {
            // Never held longer than an order with an attempt.
            unstarted_placed_before: now
                .checked_sub(unstarted)
                .map_or(placed_before, |at| at.max(placed_before)),
            placed_before,
            // Far in the past when the hold is too long to subtract: held orders never expire.
            in_flight_placed_before: placed_before
                .checked_sub(hold)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            at: now,
        };
        let mut expired = Vec::new();
        loop {
            let batch = self.inner.store.expire_orders(&cutoff, BATCH).await?;
            let done = batch.len() < BATCH;
            for order in &batch {
                self.publish(ShopEvent::OrderStatusChanged {
                    number: order.number.clone(),
                    from: OrderStatus::PendingPayment,
                    to: order.status,
                    at: now,
                })
                .await;
            }
            expired.extend(batch);
            if done {
                return Ok(expired);
            }
        }
    }
}

enum Outcome {
    Settled,
    Pending,
    Review,
}
