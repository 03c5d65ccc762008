//! Payment notices an admin decides on: money assigned to an order, sent back, or ignored.

use serde::Deserialize;

use super::Shop;
use crate::{
    auth::AdminUser,
    error::{ConflictReason, Entity, Error, Result},
    ids::{OrderNumber, PaymentId, ReviewId},
    order::Actor,
    payment::{
        Payment, PaymentKind, PaymentResult, PaymentReview, PaymentStatus, ProviderResult, Receipt,
        ReviewOutcome, ReviewReason, ReviewResolution, Settled,
    },
    refund::{MAX_REFUND_TEXT, refund_reference},
    store::StoreExt,
};

/// An admin's decision on a payment notice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewDecision {
    /// `assign` (apply the money to `orderNumber`), `refunded` (sent back by hand, with the
    /// M-Pesa code in `reference`) or `ignored` (with a `note` saying why).
    pub action: String,
    /// For `assign`: the order the money pays.
    #[serde(default)]
    pub order_number: Option<String>,
    /// For `refunded`: the M-Pesa code of the money sent back.
    #[serde(default)]
    pub reference: Option<String>,
    /// A note (required to ignore a notice).
    #[serde(default)]
    pub note: Option<String>,
}

impl Shop {
    /// Decides what happens to a payment notice, once: `assign` applies the money it carries
    /// to an order as a direct payment of that order (which may pay it, or owe a refund, as
    /// any payment would; the order's timeline records the admin), `refunded` records the code
    /// of the money sent back, `ignored` records why nothing is done. A notice already decided
    /// is a `Conflict` with `review_resolved`.
    pub async fn resolve_review(
        &self,
        id: &str,
        decision: &ReviewDecision,
        admin: &AdminUser,
    ) -> Result<PaymentReview> {
        let id = ReviewId::parse(id).map_err(|e| e.at("id"))?;
        let outcome = ReviewOutcome::parse(decision.action.trim()).map_err(|e| e.at("action"))?;
        let note = crate::text::optional_text(decision.note.as_deref(), MAX_REFUND_TEXT, true)
            .map_err(|e| e.at("note"))?;
        let review = self
            .inner
            .store
            .review(id)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Review, id))?;
        let actor = Actor::Admin(admin.username.clone());
        let mut resolution = ReviewResolution {
            outcome,
            order_number: None,
            reference: None,
            note,
            actor: actor.clone(),
            at: self.now(),
        };
        match outcome {
            ReviewOutcome::Assigned => {
                let number = decision
                    .order_number
                    .as_deref()
                    .ok_or_else(|| Error::invalid("orderNumber", "name the order the money pays"))
                    .and_then(|n| OrderNumber::parse(n).map_err(|e| e.at("orderNumber")))?;
                let order = self.inner.store.order_required(&number).await?;
                let money = assignable(&review)?;
                // The decision is written first (one conditional write: of two admins, one
                // decides), then the money applied; an assignment to the same order may be
                // asked again and applies the money if an earlier try did not (a payment is
                // known by its M-Pesa code, so it is never applied twice).
                let decided = match &review.resolution {
                    Some(done)
                        if done.outcome == ReviewOutcome::Assigned
                            && done.order_number.as_ref() == Some(&number) =>
                    {
                        review.clone()
                    }
                    Some(_) => return Err(crate::store::verdict::review_resolved(id)),
                    None => {
                        resolution.order_number = Some(number.clone());
                        match self.inner.store.resolve_review(id, &resolution).await {
                            Ok(decided) => decided,
                            // Another admin decided first: the same assignment goes on (and
                            // applies nothing twice), any other decision stands.
                            Err(err)
                                if err.conflict_reason()
                                    == Some(ConflictReason::ReviewResolved) =>
                            {
                                let now = self
                                    .inner
                                    .store
                                    .review(id)
                                    .await?
                                    .ok_or_else(|| Error::not_found(Entity::Review, id))?;
                                let same = now.resolution.as_ref().is_some_and(|done| {
                                    done.outcome == ReviewOutcome::Assigned
                                        && done.order_number.as_ref() == Some(&number)
                                });
                                if !same {
                                    return Err(err);
                                }
                                now
                            }
                            Err(err) => return Err(err),
                        }
                    }
                };
                self.assign_money(&review, &order, money, actor).await?;
                Ok(decided)
            }
            ReviewOutcome::Refunded | ReviewOutcome::Ignored => {
                if review.resolution.is_some() {
                    return Err(crate::store::verdict::review_resolved(id));
                }
                if outcome == ReviewOutcome::Refunded {
                    let (reference, _) =
                        refund_reference(decision.reference.as_deref().unwrap_or_default(), None)?;
                    resolution.reference = Some(reference);
                } else if resolution.note.is_none() {
                    return Err(Error::invalid("note", "say why nothing is done"));
                }
                self.inner.store.resolve_review(id, &resolution).await
            }
        }
    }

    /// Applies the money a notice carries to `order`, as a direct payment of it known by the
    /// M-Pesa code (so applying it again changes nothing).
    async fn assign_money(
        &self,
        review: &PaymentReview,
        order: &crate::order::Order,
        (amount, receipt): (crate::money::Money, Receipt),
        actor: Actor,
    ) -> Result<()> {
        let now = self.now();
        let payment = Payment {
            id: PaymentId::from_uuid(self.inner.ids.uuid()),
            order_number: order.number.clone(),
            provider: review.provider.clone(),
            kind: PaymentKind::C2b,
            amount,
            phone: None,
            status: PaymentStatus::Pending,
            provider_reference: Some(receipt.as_str().to_owned()),
            receipt: None,
            payer: None,
            result_code: None,
            result_description: None,
            raw_payload: None,
            idempotency_key: None,
            checks: 0,
            next_check_at: None,
            needs_review: false,
            created_at: now,
            updated_at: now,
        };
        let result = PaymentResult {
            result: ProviderResult {
                amount: Some(amount),
                receipt: Some(receipt.clone()),
                result_description: Some("Assigned by an admin from a payment notice".to_owned()),
                ..ProviderResult::with_status(PaymentStatus::Succeeded)
            },
            actor,
            at: now,
        };
        let settled = match self
            .inner
            .store
            .record_direct_payment(&payment, &result)
            .await
        {
            // Another admin's same assignment won the race for the code: fine if it is this
            // order's payment (checked below).
            Err(err) if err.conflict_reason() == Some(ConflictReason::ReceiptAlreadyUsed) => {
                let holder = self
                    .inner
                    .store
                    .payment_by_reference(&review.provider, receipt.as_str())
                    .await?;
                match holder {
                    Some(existing) => Settled::Unchanged {
                        payment: Box::new(existing),
                        reason: crate::payment::Unchanged::Duplicate,
                    },
                    None => return Err(err),
                }
            }
            other => other?,
        };
        match settled {
            Settled::Applied { payment, order } => {
                self.announce(&payment, &order).await;
                Ok(())
            }
            // Applied by an earlier try: only if it is this order's.
            Settled::Unchanged { payment, .. }
                if payment.order_number == order.number
                    && payment.status == PaymentStatus::Succeeded
                    && payment.receipt.as_ref() == Some(&receipt) =>
            {
                Ok(())
            }
            Settled::Unchanged { payment, .. } => Err(Error::conflict(
                ConflictReason::ReceiptAlreadyUsed,
                format!(
                    "this M-Pesa code is already on a payment of order {}",
                    payment.order_number
                ),
            )),
            Settled::Quarantined { .. } => Err(Error::invalid(
                "orderNumber",
                "this money does not fit that order (another currency)",
            )),
        }
    }
}

/// The money a notice carries, if an admin may assign it to an order: an M-Pesa code and an
/// amount, from money that arrived on its own (not the result of a payment request the shop
/// made, which belongs to that request, and not a payment to another business's account).
fn assignable(review: &PaymentReview) -> Result<(crate::money::Money, Receipt)> {
    let refuse = |why: &str| Err(Error::invalid("action", why));
    if matches!(review.reason, ReviewReason::OtherShortcode { .. }) {
        return refuse("this money was paid to another business's M-Pesa account, not this shop's");
    }
    if review.payment_id.is_some() {
        return refuse(
            "this notice is about a payment request the shop made: check it on M-Pesa, then record it sent back or ignore it",
        );
    }
    let (Some(amount), Some(code)) = (review.amount, review.receipt.as_deref()) else {
        return refuse("this notice carries no payment (an M-Pesa code and an amount) to assign");
    };
    let receipt = Receipt::parse(code).map_err(|e| e.at("action"))?;
    Ok((amount, receipt))
}
