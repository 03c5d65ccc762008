//! Refunds as an admin meets them: the list of money owed back, and marking a refund paid with
//! the M-Pesa code of the money sent back.

use serde::Deserialize;

use super::Shop;
use super::payments::ReviewDraft;
use crate::{
    auth::AdminUser,
    error::{ConflictReason, Entity, Error, Result},
    ids::OrderNumber,
    order::Actor,
    page::{CursorKey, Limit, Page, RefundKey},
    payment::{ReviewOutcome, ReviewReason, ReviewResolution},
    provider::RefundRequest,
    refund::{Refund, RefundChange, RefundId, RefundStatus, RefundTarget, refund_reference},
    store::StoreExt,
};

/// How many of the newest payment notices are searched for a refund result that arrived before
/// the provider's id of its request was written.
const EARLY_RESULTS_SEARCHED: usize = 50;

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

    /// Gives up waiting for the result of refund `id`, `sending` for
    /// [`SENDING_PATIENCE`](crate::refund::SENDING_PATIENCE) without one: it becomes `failed`
    /// (with a note to check the M-Pesa statement), so it can be sent again or marked refunded
    /// by hand. Otherwise `refund_not_stuck`.
    pub async fn give_up_refund(&self, id: &str, admin: &AdminUser) -> Result<Refund> {
        let id = RefundId::parse(id).map_err(|e| e.at("id"))?;
        self.inner
            .store
            .change_refund(
                &RefundTarget::Id(id),
                &RefundChange::GiveUp {
                    actor: Actor::Admin(admin.username.clone()),
                    at: self.now(),
                },
            )
            .await
    }

    /// Has the payment method send refund `id` back itself (M-Pesa with initiator credentials:
    /// a reversal of the whole payment, or a transfer of part of it to the payer's phone). The
    /// refund is reserved (`sending`) before the provider is asked, so two admins cannot send it
    /// twice; its result arrives later and makes it `refunded` or `failed` (a failed one may be
    /// sent again). Not owed: `refund_not_owed`; a method that cannot send it, or a payment
    /// without a transaction code: `refund_not_sendable`. A provider error that says nothing
    /// was sent makes it `failed` at once; one whose outcome is unknown leaves it `sending`.
    pub async fn send_refund(&self, id: &str, admin: &AdminUser) -> Result<Refund> {
        let id = RefundId::parse(id).map_err(|e| e.at("id"))?;
        let refund = self
            .inner
            .store
            .refund(id)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Refund, id))?;
        let payment = self.inner.store.payment_required(refund.payment_id).await?;
        let not_sendable = |why: &str| Error::conflict(ConflictReason::RefundNotSendable, why);
        let provider = self
            .provider_named(&payment.provider)
            .ok()
            .filter(|p| p.sends_refunds())
            .cloned()
            .ok_or_else(|| {
                not_sendable(
                    "this payment method cannot send refunds: send it by hand and record its code",
                )
            })?;
        let receipt = payment
            .receipt
            .clone()
            .ok_or_else(|| not_sendable("the payment has no M-Pesa code to pay back"))?;
        let reservation = format!("pochi-{}", self.inner.ids.uuid().simple());
        let actor = Actor::Admin(admin.username.clone());
        self.inner
            .store
            .change_refund(
                &RefundTarget::Id(id),
                &RefundChange::Sending {
                    request: reservation.clone(),
                    actor,
                    at: self.now(),
                },
            )
            .await?;
        let request = RefundRequest {
            refund_id: id,
            order_number: refund.order_number.clone(),
            amount: refund.amount,
            receipt,
            whole_payment: refund.amount == payment.amount,
            phone: payment.phone.clone(),
        };
        match provider.send_refund(&request).await {
            Ok(provider_request) => {
                self.inner
                    .store
                    .change_refund(
                        &RefundTarget::Id(id),
                        &RefundChange::Requested {
                            reservation,
                            request: provider_request.clone(),
                            at: self.now(),
                        },
                    )
                    .await?;
                self.apply_early_refund_result(provider.name(), &provider_request)
                    .await?;
                self.inner
                    .store
                    .refund(id)
                    .await?
                    .ok_or_else(|| Error::not_found(Entity::Refund, id))
            }
            Err(err) if !err.is_retryable() => {
                self.inner
                    .store
                    .change_refund(
                        &RefundTarget::Id(id),
                        &RefundChange::Result {
                            request: reservation,
                            outcome: Err(err.to_string()),
                            actor: Actor::Provider(provider.name().to_owned()),
                            at: self.now(),
                        },
                    )
                    .await?;
                Err(err)
            }
            Err(err) => Err(err),
        }
    }

    /// Applies a provider's result for a refund it was asked to send. A result for a request
    /// no refund is sent under is kept as a notice (`unknown_attempt`, the request in
    /// `reference`, the transaction code in `receipt`, the provider's words in
    /// `raw_payload`): it may have arrived before [`Shop::send_refund`] wrote the request's id,
    /// and then `send_refund` applies it.
    pub(super) async fn apply_refund_result(
        &self,
        provider: &str,
        request: &str,
        outcome: std::result::Result<String, String>,
    ) -> Result<()> {
        let change = RefundChange::Result {
            request: request.to_owned(),
            outcome: outcome.clone(),
            actor: Actor::Provider(provider.to_owned()),
            at: self.now(),
        };
        let target = RefundTarget::ProviderRequest(request.to_owned());
        match self.inner.store.change_refund(&target, &change).await {
            Ok(_) => Ok(()),
            Err(Error::NotFound { .. }) => {
                let (receipt, words) = match outcome {
                    Ok(code) => (Some(code), None),
                    Err(words) => (None, Some(words)),
                };
                self.keep_for_review(
                    provider,
                    ReviewReason::UnknownAttempt,
                    ReviewDraft {
                        reference: Some(request.to_owned()),
                        receipt,
                        raw_payload: words,
                        ..ReviewDraft::default()
                    },
                )
                .await?;
                // `send_refund` may have written the request's id and looked for an early
                // result between the look above and the notice: each side writes its part,
                // then looks for the other's, so one of them applies it.
                self.apply_early_refund_result(provider, request).await
            }
            Err(err) => Err(err),
        }
    }

    /// Applies a result for `request` that arrived (and was kept as a notice) before the
    /// refund was sent under that id, and marks the notice decided.
    async fn apply_early_refund_result(&self, provider: &str, request: &str) -> Result<()> {
        let notices = self
            .inner
            .store
            .list_reviews(None, EARLY_RESULTS_SEARCHED)
            .await?;
        let Some(early) = notices.into_iter().find(|r| {
            r.resolution.is_none()
                && r.reason == ReviewReason::UnknownAttempt
                && r.provider == provider
                && r.reference.as_deref() == Some(request)
        }) else {
            return Ok(());
        };
        let outcome = match (&early.receipt, &early.raw_payload) {
            (Some(code), _) => Ok(code.clone()),
            (None, words) => Err(words.clone().unwrap_or_default()),
        };
        let change = RefundChange::Result {
            request: request.to_owned(),
            outcome,
            actor: Actor::Provider(provider.to_owned()),
            at: self.now(),
        };
        let refund = match self
            .inner
            .store
            .change_refund(&RefundTarget::ProviderRequest(request.to_owned()), &change)
            .await
        {
            Ok(refund) => refund,
            // Not sent under that id (yet): `send_refund` applies it when it writes the id.
            Err(Error::NotFound { .. }) => return Ok(()),
            Err(err) => return Err(err),
        };
        let resolution = ReviewResolution {
            outcome: ReviewOutcome::Ignored,
            order_number: Some(refund.order_number.clone()),
            reference: None,
            note: Some(format!("The result of refund {}, applied to it", refund.id)),
            actor: Actor::System,
            at: self.now(),
        };
        match self.inner.store.resolve_review(early.id, &resolution).await {
            Err(err) if err.conflict_reason() != Some(ConflictReason::ReviewResolved) => Err(err),
            _ => Ok(()),
        }
    }
}
