//! Payments checked with the provider (M-Pesa: Transaction Status): a manual code is confirmed
//! before its order is marked paid, and a payment settled by a status query (which carries no
//! receipt) gets its receipt.
//!
//! Asking is asynchronous: [`Shop::check_payment`] sends the question and the answer arrives
//! later as a [`Notice::TransactionStatus`](crate::Notice::TransactionStatus). An answer that
//! confirms the payment settles it exactly as an admin's verification would (once: the
//! settlement is conditional on the payment's state); one that cannot confirm it leaves the
//! payment as it was and keeps a notice ([`ReviewReason::NotConfirmed`]) so an admin sees why and
//! decides, or asks again.

use super::Shop;
use super::payments::ReviewDraft;
use crate::{
    error::{ConflictReason, Error, Result},
    ids::PaymentId,
    order::Actor,
    payment::{
        Payment, PaymentKind, PaymentResult, PaymentStatus, PaymentTarget, ProviderResult, Receipt,
        ReviewReason,
    },
    provider::{PaymentProvider, TransactionFacts, TransactionQuery, TransactionSubject},
    store::StoreExt,
};

/// How many of the newest notices are searched for one already kept for the same answer.
const RECENT_NOTICES: usize = 50;

/// What the provider is asked about a payment, or `None` when there is nothing to ask.
fn subject(payment: &Payment) -> Option<TransactionSubject> {
    let reference = payment.provider_reference.as_deref()?;
    match (payment.status, payment.kind) {
        (PaymentStatus::PendingVerification, _) => Receipt::parse(reference)
            .ok()
            .map(TransactionSubject::Receipt),
        (PaymentStatus::Succeeded, PaymentKind::StkPush) if payment.receipt.is_none() => {
            Some(TransactionSubject::Attempt(reference.to_owned()))
        }
        _ => None,
    }
}

impl Shop {
    /// Asks the payment's provider about it: a code waiting for verification is confirmed (or
    /// not), a succeeded push without a receipt gets its receipt. The answer arrives later; the
    /// payment is returned as it is now.
    ///
    /// `NotFound` for an unknown payment; `Conflict` `payment_not_checkable` when there is
    /// nothing to ask (the payment is settled with its receipt, or failed) or its provider
    /// cannot look transactions up.
    pub async fn check_payment(&self, payment_id: &str) -> Result<Payment> {
        let id = PaymentId::parse(payment_id).map_err(|e| e.at("paymentId"))?;
        let payment = self.inner.store.payment_required(id).await?;
        let provider = self
            .provider_named(&payment.provider)
            .ok()
            .filter(|p| p.checks_transactions())
            .cloned()
            .ok_or_else(|| {
                Error::conflict(
                    ConflictReason::PaymentNotCheckable,
                    format!(
                        "payment {id} was made with {}, which cannot look transactions up",
                        payment.provider
                    ),
                )
            })?;
        let subject = subject(&payment).ok_or_else(|| {
            Error::conflict(
                ConflictReason::PaymentNotCheckable,
                format!(
                    "payment {id} is {}{}: there is nothing to check",
                    payment.status,
                    if payment.receipt.is_some() {
                        " with its receipt"
                    } else {
                        ""
                    }
                ),
            )
        })?;
        provider
            .check_transaction(&TransactionQuery {
                payment_id: payment.id,
                subject,
            })
            .await?;
        Ok(payment)
    }

    /// Asks about `payment` when its provider can and there is something to ask; a question
    /// that cannot be sent is kept as a notice for an admin (who may ask again). Never fails
    /// the caller's use case for it.
    pub(super) async fn check_if_possible(
        &self,
        provider: &dyn PaymentProvider,
        payment: &Payment,
    ) {
        if !provider.checks_transactions() {
            return;
        }
        let Some(subject) = subject(payment) else {
            return;
        };
        let asked = provider
            .check_transaction(&TransactionQuery {
                payment_id: payment.id,
                subject,
            })
            .await;
        if let Err(err) = asked {
            // Best effort: the payment waits as it would without checks.
            let _ = self
                .keep_for_review(
                    provider.name(),
                    ReviewReason::NotConfirmed,
                    ReviewDraft {
                        payment_id: Some(payment.id),
                        order_number: Some(payment.order_number.clone()),
                        reference: payment.provider_reference.clone(),
                        amount: Some(payment.amount),
                        raw_payload: Some(format!("The check could not be sent: {err}")),
                        ..ReviewDraft::default()
                    },
                )
                .await;
        }
    }

    /// Applies a provider's answer about a payment it was asked about.
    pub(super) async fn apply_transaction_status(
        &self,
        provider: &dyn PaymentProvider,
        payment_id: Option<PaymentId>,
        outcome: std::result::Result<TransactionFacts, String>,
    ) -> Result<()> {
        let payment = match (payment_id, &outcome) {
            (Some(id), _) => self.inner.store.payment(id).await?,
            (None, Ok(facts)) => {
                self.inner
                    .store
                    .payment_by_reference(provider.name(), facts.receipt.as_str())
                    .await?
            }
            (None, Err(_)) => None,
        };
        let Some(payment) = payment else {
            let (receipt, raw_payload) = match &outcome {
                Ok(facts) => (
                    Some(facts.receipt.as_str().to_owned()),
                    facts.raw_payload.clone(),
                ),
                Err(words) => (None, Some(words.clone())),
            };
            return self
                .keep_for_review(
                    provider.name(),
                    ReviewReason::UnknownAttempt,
                    ReviewDraft {
                        receipt,
                        raw_payload,
                        ..ReviewDraft::default()
                    },
                )
                .await;
        };
        // Only a question still open is answered: an admin may have decided meanwhile. Money
        // M-Pesa confirms for a payment an admin rejected is not dropped: it is kept for them.
        let Some(subject) = subject(&payment) else {
            if let (Ok(facts), false) = (&outcome, payment.status == PaymentStatus::Succeeded) {
                return self
                    .keep_for_review(
                        provider.name(),
                        ReviewReason::ConflictingResult,
                        ReviewDraft {
                            payment_id: Some(payment.id),
                            order_number: Some(payment.order_number.clone()),
                            reference: payment.provider_reference.clone(),
                            receipt: Some(facts.receipt.as_str().to_owned()),
                            amount: facts.amount,
                            raw_payload: facts.raw_payload.clone(),
                            ..ReviewDraft::default()
                        },
                    )
                    .await;
            }
            return Ok(());
        };
        let draft = |raw_payload: Option<String>| ReviewDraft {
            payment_id: Some(payment.id),
            order_number: Some(payment.order_number.clone()),
            reference: payment.provider_reference.clone(),
            amount: Some(payment.amount),
            raw_payload,
            ..ReviewDraft::default()
        };
        let facts = match outcome {
            Ok(facts) => facts,
            Err(words) => {
                return self
                    .not_confirmed(provider.name(), draft(Some(words)))
                    .await;
            }
        };
        // A code is a payment for this order only if it was made around the order's time: a
        // customer may type the code of an earlier purchase at the same till for the same
        // amount (the rule a pasted SMS follows too).
        if let (TransactionSubject::Receipt(_), Some(completed)) = (&subject, facts.completed_at) {
            let order = self
                .inner
                .store
                .order_required(&payment.order_number)
                .await?;
            if completed < order.created_at - time::Duration::days(1) {
                return self
                    .not_confirmed(
                        provider.name(),
                        draft(Some(format!(
                            "M-Pesa says {} was paid on {}, more than a day before the order",
                            facts.receipt,
                            completed.date()
                        ))),
                    )
                    .await;
            }
        }
        // A code is confirmed only by a transaction with that very code.
        if let TransactionSubject::Receipt(code) = &subject
            && *code != facts.receipt
        {
            return self
                .not_confirmed(
                    provider.name(),
                    draft(Some(format!(
                        "M-Pesa answered about {} instead of {code}",
                        facts.receipt
                    ))),
                )
                .await;
        }
        let result = PaymentResult {
            result: ProviderResult {
                receipt: Some(facts.receipt.clone()),
                amount: facts.amount,
                payer: facts.payer.clone(),
                result_description: Some("Confirmed by M-Pesa".to_owned()),
                raw_payload: facts.raw_payload.clone(),
                ..ProviderResult::with_status(PaymentStatus::Succeeded)
            },
            actor: Actor::Provider(provider.name().to_owned()),
            at: self.now(),
        };
        let applied = self
            .inner
            .store
            .settle_payment(&PaymentTarget::Id(payment.id), &result)
            .await;
        let receipt = facts.receipt.as_str().to_owned();
        self.after_settlement(provider.name(), applied, || ReviewDraft {
            receipt: Some(receipt.clone()),
            amount: facts.amount,
            raw_payload: facts.raw_payload.clone(),
            reference: payment.provider_reference.clone(),
            ..ReviewDraft::default()
        })
        .await
    }

    /// Keeps a `NotConfirmed` notice, unless the same one (same payment, same words) is
    /// already open: Daraja may deliver an answer twice.
    async fn not_confirmed(&self, provider: &str, draft: ReviewDraft) -> Result<()> {
        let open = self
            .inner
            .store
            .list_reviews(None, RECENT_NOTICES)
            .await?
            .into_iter()
            .any(|r| {
                r.resolution.is_none()
                    && r.reason == ReviewReason::NotConfirmed
                    && r.payment_id == draft.payment_id
                    && r.raw_payload == draft.raw_payload
            });
        if open {
            return Ok(());
        }
        self.keep_for_review(provider, ReviewReason::NotConfirmed, draft)
            .await
    }
}
