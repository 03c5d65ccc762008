//! Payment notices an admin decides on: money assigned to an order, sent back, or ignored.

use serde::Deserialize;

use super::Shop;
use crate::{
    auth::AdminUser,
    error::{Entity, Error, Result},
    ids::{OrderNumber, PaymentId, ReviewId},
    order::Actor,
    payment::{
        Payment, PaymentKind, PaymentResult, PaymentReview, PaymentStatus, ProviderResult, Receipt,
        ReviewOutcome, ReviewResolution, Settled,
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
        if review.resolution.is_some() {
            return Err(crate::store::verdict::review_resolved(id));
        }
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
                self.assign_review(&review, &number, actor).await?;
                resolution.order_number = Some(number);
            }
            ReviewOutcome::Refunded => {
                let (reference, _) =
                    refund_reference(decision.reference.as_deref().unwrap_or_default(), None)?;
                resolution.reference = Some(reference);
            }
            ReviewOutcome::Ignored => {
                if resolution.note.is_none() {
                    return Err(Error::invalid("note", "say why nothing is done"));
                }
            }
        }
        self.inner.store.resolve_review(id, &resolution).await
    }

    /// Applies the money `review` carries to order `number`, as a direct payment of it.
    async fn assign_review(
        &self,
        review: &PaymentReview,
        number: &OrderNumber,
        actor: Actor,
    ) -> Result<()> {
        let (Some(amount), Some(code)) = (review.amount, review.receipt.as_deref()) else {
            return Err(Error::invalid(
                "action",
                "this notice carries no payment (no M-Pesa code and amount) to assign",
            ));
        };
        let receipt = Receipt::parse(code).map_err(|e| e.at("action"))?;
        let order = self.inner.store.order_required(number).await?;
        let now = self.now();
        let payment = Payment {
            id: PaymentId::from_uuid(self.inner.ids.uuid()),
            order_number: order.number.clone(),
            provider: review.provider.clone(),
            kind: PaymentKind::C2b,
            amount,
            phone: None,
            status: PaymentStatus::Pending,
            provider_reference: Some(review.reference.clone().unwrap_or_else(|| code.to_owned())),
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
                receipt: Some(receipt),
                result_description: Some("Assigned by an admin from a payment notice".to_owned()),
                ..ProviderResult::with_status(PaymentStatus::Succeeded)
            },
            actor,
            at: now,
        };
        match self
            .inner
            .store
            .record_direct_payment(&payment, &result)
            .await?
        {
            Settled::Applied { payment, order } => {
                self.announce(&payment, &order).await;
                Ok(())
            }
            // Assigned by an earlier try whose decision was not recorded: record it now.
            Settled::Unchanged { .. } => Ok(()),
            Settled::Quarantined { .. } => Err(Error::invalid(
                "orderNumber",
                "this money does not fit that order (another currency)",
            )),
        }
    }
}
