//! Refunds as an admin meets them: the list of money owed back, and marking a refund paid with
//! the M-Pesa code of the money sent back.

use serde::Deserialize;

use super::Shop;
use crate::{
    auth::AdminUser,
    error::{Entity, Error, Result},
    ids::OrderNumber,
    order::Actor,
    page::{CursorKey, Limit, Page, RefundKey},
    refund::{Refund, RefundChange, RefundId, RefundStatus, RefundTarget, refund_reference},
    store::StoreExt,
};

/// What an admin types when they sent a refund by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundedInput {
    /// The M-Pesa code of the money sent back (from the shop's own M-Pesa message).
    pub reference: String,
    /// An optional note for the shop's records (never shown to the customer).
    #[serde(default)]
    pub note: Option<String>,
}

impl Shop {
    /// Refunds, newest first, a page at a time; only those in `status` when given (`owed`,
    /// `sending`, `refunded`, `failed`).
    pub async fn refunds(
        &self,
        status: Option<&str>,
        cursor: Option<&str>,
        limit: Limit,
    ) -> Result<Page<Refund>> {
        let status = status
            .map(RefundStatus::parse)
            .transpose()
            .map_err(|e| e.at("status"))?;
        let after = cursor
            .map(RefundKey::decode)
            .transpose()
            .map_err(|e| e.at("cursor"))?;
        let items = self
            .inner
            .store
            .list_refunds(status, after, limit.get() + 1)
            .await?;
        Ok(Page::from_overfetch(items, limit, RefundKey::of))
    }

    /// The refunds of an order, oldest first. `NotFound` for an unknown order.
    pub async fn order_refunds(&self, number: &str) -> Result<Vec<Refund>> {
        let number = OrderNumber::parse(number).map_err(|e| e.at("number"))?;
        self.inner.store.order_required(&number).await?;
        self.inner.store.refunds_for_order(&number).await
    }

    /// An admin sent refund `id` back by hand (M-Pesa to the customer's phone, or a reversal
    /// at Safaricom): records the code of that transfer. A refund that is not owed (already
    /// refunded, or being sent by the provider) is a `Conflict` with `refund_not_owed`; a code
    /// another refund has is a `Conflict` with `already_exists`; the code of the customer's own
    /// payment is refused at `reference` (it is not the money sent back).
    pub async fn mark_refunded(
        &self,
        id: &str,
        input: &RefundedInput,
        admin: &AdminUser,
    ) -> Result<Refund> {
        let id = RefundId::parse(id).map_err(|e| e.at("id"))?;
        let (reference, note) = refund_reference(&input.reference, input.note.as_deref())?;
        let refund = self
            .inner
            .store
            .refund(id)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Refund, id))?;
        let refunded = self.inner.store.payment_required(refund.payment_id).await?;
        if refunded
            .receipt
            .as_ref()
            .is_some_and(|receipt| receipt.as_str() == reference)
        {
            return Err(Error::invalid(
                "reference",
                "this is the code of the customer's payment; type the code of the money sent back",
            ));
        }
        self.inner
            .store
            .change_refund(
                &RefundTarget::Id(id),
                &RefundChange::MarkRefunded {
                    reference,
                    note,
                    actor: Actor::Admin(admin.username.clone()),
                    at: self.now(),
                },
            )
            .await
    }
}
