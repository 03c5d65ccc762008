//! Payment use cases: starting a payment, hearing back from providers, manual codes.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use super::Shop;
use crate::{
    auth::AdminUser,
    error::{ConflictReason, Entity, Error, Result},
    events::ShopEvent,
    ids::{OrderNumber, PaymentId, ReviewId},
    language::Language,
    money::Money,
    mpesa_sms::{CodeOrSms, read_code_or_sms},
    order::{Actor, IdempotencyKey, Order, OrderStatus},
    page::{CursorKey, Limit, Page, ReviewKey},
    payment::{
        Payment, PaymentKind, PaymentResult, PaymentReview, PaymentStatus, PaymentTarget,
        PaymentView, ProviderResult, Receipt, ReviewReason, Settled, truncate_payload,
    },
    phone::Msisdn,
    provider::{
        DirectPayment, Notice, NoticeReply, Notification, PaymentProvider, PaymentRequest,
        ProviderReply, RejectReason,
    },
    store::{PaymentInsert, PushLimit, StoreExt},
};

/// The description sent with a payment request (M-Pesa allows 13 characters).
const PAYMENT_DESCRIPTION: &str = "Order payment";
/// The most bytes of a refused notification kept for review.
const MAX_REFUSED_PAYLOAD: usize = 4 * 1024;
/// The most characters of a pasted M-Pesa message (one is about 250).
const MAX_PASTED_SMS: usize = 2_000;

/// A request to pay for an order, as the client sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentInput {
    /// The order number (the seed shop calls it `orderId`).
    #[serde(alias = "orderId")]
    pub order_number: String,
    /// The payment provider's name; the shop's default when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// The phone to ask (push payments); the order's phone when absent.
    #[serde(default)]
    pub phone: Option<String>,
    /// The confirmation code (manual payments), or the whole M-Pesa confirmation SMS pasted.
    #[serde(default)]
    pub code: Option<String>,
}

/// What starting a payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentStart {
    /// A new attempt was made.
    Started(Payment),
    /// The idempotency key was seen before: this is that attempt, and nothing was asked again.
    Replayed(Payment),
}

impl PaymentStart {
    /// The attempt, new or replayed.
    pub fn payment(&self) -> &Payment {
        match self {
            PaymentStart::Started(payment) | PaymentStart::Replayed(payment) => payment,
        }
    }

    /// The attempt, new or replayed.
    pub fn into_payment(self) -> Payment {
        match self {
            PaymentStart::Started(payment) | PaymentStart::Replayed(payment) => payment,
        }
    }
}

/// An admin's decision on a manual confirmation code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManualVerdict {
    /// Whether the code is a real payment of the right amount.
    pub approve: bool,
    /// A note for the record.
    #[serde(default)]
    pub note: Option<String>,
}

/// What is known about a notice kept for review.
#[derive(Debug, Default)]
pub(crate) struct ReviewDraft {
    pub(super) payment_id: Option<PaymentId>,
    pub(super) order_number: Option<OrderNumber>,
    pub(super) reference: Option<String>,
    pub(super) receipt: Option<String>,
    pub(super) amount: Option<Money>,
    pub(super) account_reference: Option<String>,
    pub(super) raw_payload: Option<String>,
}

impl Shop {
    /// Starts a payment for an order: a push to the customer's phone, or a manual code.
    ///
    /// The attempt is stored before the provider is called, so a crash in between leaves a
    /// pending attempt that reconciliation looks at, never a payment the shop does not know.
    /// With an idempotency key, a retry returns the same attempt ([`PaymentStart::Replayed`])
    /// and asks for no money again.
    pub async fn start_payment(
        &self,
        input: &PaymentInput,
        idempotency_key: Option<&str>,
    ) -> Result<PaymentStart> {
        let key = idempotency_key
            .map(IdempotencyKey::parse)
            .transpose()
            .map_err(|e| e.at("Idempotency-Key"))?;
        let number = OrderNumber::parse(&input.order_number).map_err(|e| e.at("orderNumber"))?;
        if input
            .code
            .as_deref()
            .is_some_and(|c| c.chars().count() > MAX_PASTED_SMS)
        {
            return Err(Error::invalid(
                "code",
                format!("must be at most {MAX_PASTED_SMS} characters: paste one M-Pesa message"),
            ));
        }
        let provider = self.provider(input.method.as_deref())?.clone();
        let phone = input
            .phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(Msisdn::parse)
            .transpose()
            .map_err(|e| e.at("phone"))?;
        let order = self.inner.store.order_required(&number).await?;
        let payments = self.inner.store.payments_for_order(&number).await?;
        if let Some(existing) = key.as_ref().and_then(|key| {
            payments
                .iter()
                .find(|p| p.idempotency_key.as_ref() == Some(key))
        }) {
            return Ok(PaymentStart::Replayed(existing.clone()));
        }
        // One pay-on-delivery attempt per order: asking again answers the one that waits, so
        // the cash is never recorded twice.
        if provider.name() == crate::on_delivery::PayOnDelivery::NAME {
            if let Some(waiting) = crate::on_delivery::waiting_attempt(&payments) {
                return Ok(PaymentStart::Replayed(waiting.clone()));
            }
        }
        let amount = self.amount_due(&order, &payments)?;
        if !amount.fits_precision(provider.precision()) {
            return Err(Error::conflict(
                ConflictReason::AmountNotChargeable,
                format!(
                    "{amount} cannot be charged exactly by {}, which takes amounts with at most {} decimal places",
                    provider.name(),
                    provider.precision()
                ),
            ));
        }
        // A manual payment names its code, typed alone or inside the pasted SMS; a message is
        // checked against the shop's M-Pesa account and the order before anything is stored.
        let code = if provider.reads_mpesa_messages() {
            Some(
                self.manual_code(input, amount, &number, order.created_at)
                    .await?,
            )
        } else {
            input.code.clone()
        };
        let now = self.now();
        if provider.kind() == PaymentKind::StkPush {
            // The order must outlive the push: a customer who pays after expiry pays for a
            // cancelled order.
            // Its attempt, once stored, holds the order for the whole `unpaid_order_ttl` (an
            // order nobody started to pay is held only briefly until then).
            let config = &self.inner.config;
            let ttl = Duration::try_from(config.unpaid_order_ttl).unwrap_or(Duration::MAX);
            let margin = Duration::try_from(config.payment_start_margin).unwrap_or(Duration::MAX);
            let expires_at = order.created_at.checked_add(ttl);
            if order.status == OrderStatus::PendingPayment
                && expires_at.is_some_and(|at| at - now < margin)
            {
                return Err(Error::conflict(
                    ConflictReason::OrderExpiring,
                    "this order is about to expire; place it again to pay",
                ));
            }
            let resend =
                Duration::try_from(self.inner.config.resend_interval).unwrap_or(Duration::MAX);
            let in_progress = payments.iter().any(|p| {
                p.kind == PaymentKind::StkPush
                    && p.status == PaymentStatus::Pending
                    && now - p.created_at < resend
            });
            if in_progress {
                return Err(Error::conflict(
                    ConflictReason::PaymentInProgress,
                    "a payment request was just sent to your phone; answer it, or try again in two minutes",
                ));
            }
        }
        let check_after = Duration::try_from(self.inner.config.first_payment_check_after)
            .unwrap_or(Duration::MAX);
        let attempt = Payment {
            id: PaymentId::from_uuid(self.inner.ids.uuid()),
            order_number: number.clone(),
            provider: provider.name().to_owned(),
            kind: provider.kind(),
            amount,
            phone: phone.clone().or_else(|| Some(order.customer.phone.clone())),
            status: PaymentStatus::Pending,
            provider_reference: None,
            receipt: None,
            payer: None,
            result_code: None,
            result_description: None,
            raw_payload: None,
            idempotency_key: key,
            checks: 0,
            next_check_at: (provider.kind() != PaymentKind::Manual)
                .then(|| now.checked_add(check_after))
                .flatten(),
            needs_review: false,
            created_at: now,
            updated_at: now,
        };
        let limit = self.push_limit(&attempt, now);
        let attempt = match self.inner.store.insert_payment(&attempt, limit).await? {
            PaymentInsert::Inserted(attempt) => attempt,
            PaymentInsert::Existing(existing) => return Ok(PaymentStart::Replayed(existing)),
        };
        let request = PaymentRequest {
            payment_id: attempt.id,
            order_number: number.clone(),
            account_reference: number.code().to_owned(),
            description: PAYMENT_DESCRIPTION.to_owned(),
            amount,
            phone: attempt.phone.clone(),
            code,
        };
        match provider.start(&request).await {
            Ok(started) => {
                match self
                    .inner
                    .store
                    .mark_payment_started(attempt.id, started.reference, started.status, self.now())
                    .await
                {
                    Ok(payment) => {
                        // A code waiting for verification is checked with the provider when
                        // it can (M-Pesa's Transaction Status); the answer comes later.
                        self.check_if_possible(provider.as_ref(), &payment).await;
                        Ok(PaymentStart::Started(payment))
                    }
                    Err(err) if err.conflict_reason() == Some(ConflictReason::AlreadyExists) => {
                        self.fail_attempt(&attempt, "This code was already submitted")
                            .await?;
                        Err(Error::conflict(
                            ConflictReason::ReceiptAlreadyUsed,
                            "this confirmation code was already submitted",
                        ))
                    }
                    Err(err) => Err(err),
                }
            }
            // Retryable errors leave the outcome unknown (the request may have reached the
            // provider): the attempt stays pending for reconciliation. Others are final.
            Err(err) if err.is_retryable() => Err(err),
            Err(err) => {
                self.fail_attempt(&attempt, &err.to_string()).await?;
                Err(err)
            }
        }
    }

    /// The confirmation code of a manual payment: typed alone, or read from the pasted M-Pesa
    /// SMS, which must name the shop's account, the amount due and (on a paybill) the order.
    async fn manual_code(
        &self,
        input: &PaymentInput,
        due: Money,
        number: &OrderNumber,
        placed_at: OffsetDateTime,
    ) -> Result<String> {
        let text = input
            .code
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| {
                Error::invalid(
                    "code",
                    "enter the M-Pesa confirmation code, or paste the whole M-Pesa SMS",
                )
            })?;
        match read_code_or_sms(text).map_err(|e| e.at("code"))? {
            CodeOrSms::Code(code) => Ok(code.as_str().to_owned()),
            CodeOrSms::Sms(sms) => {
                let settings = self.settings().await?;
                sms.check(settings.mpesa_account.as_ref(), due, number)?;
                // M-Pesa dates its messages in the shop's time (East Africa Time).
                let placed = placed_at.to_offset(self.inner.config.utc_offset);
                if sms.predates(PrimitiveDateTime::new(placed.date(), placed.time())) {
                    return Err(Error::conflict(
                        ConflictReason::PaymentBeforeOrder,
                        "this M-Pesa message is from more than a day before the order was \
                         placed: paste the message of the payment for this order",
                    ));
                }
                Ok(sms.code.as_str().to_owned())
            }
        }
    }

    /// The limit of pushes to one phone, for a push attempt that has a phone.
    fn push_limit(&self, attempt: &Payment, now: OffsetDateTime) -> Option<PushLimit> {
        let config = &self.inner.config;
        let max = config.payment_requests_per_phone?;
        if attempt.kind != PaymentKind::StkPush || attempt.phone.is_none() {
            return None;
        }
        let window = Duration::try_from(config.payment_request_window).unwrap_or(Duration::MAX);
        Some(PushLimit {
            max,
            since: now
                .checked_sub(window)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            window: config.payment_request_window,
            now,
        })
    }

    /// What is left to pay on an order: its total less its succeeded payments.
    fn amount_due(&self, order: &Order, payments: &[Payment]) -> Result<Money> {
        if order.status != OrderStatus::PendingPayment {
            return Err(Error::conflict(
                ConflictReason::OrderNotPayable,
                format!(
                    "order {} is {}, not waiting for payment",
                    order.number, order.status
                ),
            ));
        }
        let paid = Money::sum(
            order.total.currency(),
            payments
                .iter()
                .filter(|p| p.status == PaymentStatus::Succeeded)
                .map(|p| p.amount),
        )
        .map_err(|e| Error::backend("payments", e))?;
        match order.total.checked_sub(paid) {
            Ok(due) if !due.is_zero() => Ok(due),
            _ => Err(Error::conflict(
                ConflictReason::OrderNotPayable,
                format!(
                    "order {} has received its total; an admin will check it",
                    order.number
                ),
            )),
        }
    }

    async fn fail_attempt(&self, attempt: &Payment, why: &str) -> Result<()> {
        let result = PaymentResult {
            result: ProviderResult {
                result_description: Some(why.chars().take(500).collect()),
                ..ProviderResult::with_status(PaymentStatus::Failed)
            },
            actor: Actor::System,
            at: self.now(),
        };
        self.inner
            .store
            .settle_payment(&PaymentTarget::Id(attempt.id), &result)
            .await?;
        Ok(())
    }

    /// The status of an attempt, for the payment page to poll.
    pub async fn payment_status(&self, id: &str) -> Result<PaymentView> {
        self.payment_status_in(id, Language::English).await
    }

    /// [`payment_status`](Self::payment_status), with the message for an attempt that did not
    /// go through in `language`: the provider's catalogue text for its result code (wrong PIN,
    /// cancelled, insufficient funds, phone unreachable, expired), not the provider's raw text.
    pub async fn payment_status_in(&self, id: &str, language: Language) -> Result<PaymentView> {
        let id = PaymentId::parse(id).map_err(|e| e.at("paymentId"))?;
        let payment = self.inner.store.payment_required(id).await?;
        let mut view = PaymentView::from(&payment);
        if payment.kind == PaymentKind::Manual && payment.status == PaymentStatus::Failed {
            // The admin's reason for rejecting a code is theirs, not the customer's to read.
            view.message = Some(
                match language {
                    Language::Kiswahili => {
                        "Duka halikuweza kuthibitisha malipo haya. Hakikisha msimbo wa M-Pesa, \
                         au wasiliana na duka."
                    }
                    _ => {
                        "The shop could not confirm this payment. Check the M-Pesa code, or \
                         contact the shop."
                    }
                }
                .to_owned(),
            );
            return Ok(view);
        }
        let ended = matches!(
            payment.status,
            PaymentStatus::Failed | PaymentStatus::Cancelled | PaymentStatus::TimedOut
        );
        if let (true, Some(code)) = (ended, payment.result_code.as_deref()) {
            let provider = self
                .inner
                .providers
                .iter()
                .find(|p| p.name() == payment.provider);
            if let Some(message) = provider.and_then(|p| p.customer_message(code, language)) {
                view.message = Some(message);
            }
        }
        Ok(view)
    }

    /// The attempts of an order, for the admin.
    pub async fn payments_of_order(&self, number: &str) -> Result<Vec<Payment>> {
        let number = OrderNumber::parse(number).map_err(|e| e.at("orderId"))?;
        self.inner.store.order_required(&number).await?;
        self.inner.store.payments_for_order(&number).await
    }

    /// Payment notices kept for review, newest first.
    pub async fn reviews(&self, cursor: Option<&str>, limit: Limit) -> Result<Page<PaymentReview>> {
        let after = cursor
            .map(ReviewKey::decode)
            .transpose()
            .map_err(|e| e.at("cursor"))?;
        let items = self
            .inner
            .store
            .list_reviews(after, limit.get() + 1)
            .await?;
        Ok(Page::from_overfetch(items, limit, ReviewKey::of))
    }

    /// An admin verifies (or rejects) a manual confirmation code.
    pub async fn verify_manual_payment(
        &self,
        payment_id: &str,
        verdict: &ManualVerdict,
        admin: &AdminUser,
    ) -> Result<Payment> {
        let id = PaymentId::parse(payment_id).map_err(|e| e.at("paymentId"))?;
        let payment = self.inner.store.payment_required(id).await?;
        if payment.status != PaymentStatus::PendingVerification {
            return Err(Error::conflict(
                ConflictReason::PaymentNotVerifiable,
                format!(
                    "payment {id} is {}, not waiting for verification",
                    payment.status
                ),
            ));
        }
        let note = crate::text::optional_text(verdict.note.as_deref(), 500, true)
            .map_err(|e| e.at("note"))?;
        let result = if verdict.approve {
            ProviderResult {
                receipt: payment
                    .provider_reference
                    .as_deref()
                    .and_then(|code| Receipt::parse(code).ok()),
                result_description: Some(note.unwrap_or_else(|| "Verified by admin".to_owned())),
                ..ProviderResult::with_status(PaymentStatus::Succeeded)
            }
        } else {
            ProviderResult {
                result_description: Some(note.unwrap_or_else(|| "Rejected by admin".to_owned())),
                ..ProviderResult::with_status(PaymentStatus::Failed)
            }
        };
        let result = PaymentResult {
            result,
            actor: Actor::Admin(admin.username.clone()),
            at: self.now(),
        };
        match self
            .inner
            .store
            .settle_payment(&PaymentTarget::Id(id), &result)
            .await?
        {
            Settled::Applied { payment, order } => {
                self.announce(&payment, &order).await;
                Ok(*payment)
            }
            Settled::Unchanged { payment, .. } => Ok(*payment),
            Settled::Quarantined { payment, reason } => {
                self.keep_for_review(
                    &payment.provider,
                    reason,
                    ReviewDraft {
                        payment_id: Some(payment.id),
                        order_number: Some(payment.order_number.clone()),
                        reference: payment.provider_reference.clone(),
                        ..ReviewDraft::default()
                    },
                )
                .await?;
                Ok(*payment)
            }
        }
    }

    /// Whether one of the shop's providers reads notifications on callback channel `channel`
    /// (M-Pesa's C2B channels only when C2B is configured). Other channels are answered as an
    /// unknown path.
    pub fn handles_channel(&self, channel: &str) -> bool {
        self.inner
            .providers
            .iter()
            .any(|p| p.handles_channel(channel))
    }

    /// Handles a notification a provider sent to a callback URL and returns the reply to send.
    ///
    /// Callbacks are not trusted on their own: the URL's secret token must match, the attempt
    /// must be one the shop started, and the amount must match. Anything else changes no order
    /// and is kept for review.
    pub async fn receive_notification(&self, notification: &Notification) -> Result<ProviderReply> {
        let provider = self
            .inner
            .providers
            .iter()
            .find(|p| p.handles_channel(&notification.channel))
            .ok_or_else(|| Error::not_found(Entity::PaymentProvider, &notification.channel))?
            .clone();
        let token_ok = self
            .inner
            .config
            .accepts_callback_token(&notification.token);
        if !token_ok {
            let kept = self.sample_refused_callback();
            if kept {
                self.keep_for_review(
                    provider.name(),
                    ReviewReason::InvalidCallbackToken,
                    ReviewDraft {
                        raw_payload: Some(refused_payload(&notification.body)),
                        ..ReviewDraft::default()
                    },
                )
                .await?;
            }
            self.publish(ShopEvent::CallbackRefused {
                provider: provider.name().to_owned(),
                kept,
            })
            .await;
            return Err(Error::Unauthorized("unknown callback URL".to_owned()));
        }
        let notices = match provider.interpret(notification) {
            Ok(notices) => notices,
            Err(err) => {
                self.keep_for_review(
                    provider.name(),
                    ReviewReason::UnreadableNotification,
                    ReviewDraft {
                        raw_payload: Some(refused_payload(&notification.body)),
                        ..ReviewDraft::default()
                    },
                )
                .await?;
                return Err(err);
            }
        };
        let mut reply = NoticeReply::Ack;
        for notice in notices {
            match notice {
                Notice::AttemptResult { reference, result } => {
                    self.apply_attempt_result(provider.as_ref(), reference, result)
                        .await?;
                }
                Notice::DirectPayment(payment) => {
                    self.apply_direct_payment(provider.as_ref(), payment)
                        .await?;
                }
                Notice::Validation(payment) => {
                    reply = self.validate_direct_payment(&payment).await?;
                }
                Notice::RefundResult { request, outcome } => {
                    self.apply_refund_result(provider.name(), &request, outcome)
                        .await?;
                }
                Notice::TransactionStatus {
                    payment_id,
                    outcome,
                    ..
                } => {
                    self.apply_transaction_status(provider.as_ref(), payment_id, outcome)
                        .await?;
                }
            }
        }
        Ok(provider.reply(&notification.channel, reply))
    }

    async fn apply_attempt_result(
        &self,
        provider: &dyn PaymentProvider,
        reference: String,
        result: ProviderResult,
    ) -> Result<()> {
        let target = PaymentTarget::Reference {
            provider: provider.name().to_owned(),
            reference: reference.clone(),
        };
        let draft = || ReviewDraft {
            reference: Some(reference.clone()),
            receipt: result.receipt.as_ref().map(|r| r.as_str().to_owned()),
            amount: result.amount,
            raw_payload: result.raw_payload.clone(),
            ..ReviewDraft::default()
        };
        let applied = self
            .inner
            .store
            .settle_payment(
                &target,
                &PaymentResult {
                    result: result.clone(),
                    actor: Actor::Provider(provider.name().to_owned()),
                    at: self.now(),
                },
            )
            .await;
        self.after_settlement(provider.name(), applied, draft).await
    }

    async fn apply_direct_payment(
        &self,
        provider: &dyn PaymentProvider,
        direct: DirectPayment,
    ) -> Result<()> {
        let draft = || ReviewDraft {
            reference: Some(direct.receipt.as_str().to_owned()),
            receipt: Some(direct.receipt.as_str().to_owned()),
            amount: Some(direct.amount),
            account_reference: Some(direct.account_reference.clone()),
            raw_payload: direct.raw_payload.clone(),
            ..ReviewDraft::default()
        };
        // Money paid to another business account is not the shop's to count, whatever order
        // its account reference names: checked before anything else reads it.
        if let Some(shortcode) = &direct.other_shortcode {
            return self
                .keep_for_review(
                    provider.name(),
                    ReviewReason::OtherShortcode {
                        shortcode: shortcode.clone(),
                    },
                    draft(),
                )
                .await;
        }
        let result = PaymentResult {
            result: ProviderResult {
                amount: Some(direct.amount),
                receipt: Some(direct.receipt.clone()),
                payer: direct.payer.clone(),
                result_description: Some("Paid directly".to_owned()),
                raw_payload: direct.raw_payload.clone(),
                ..ProviderResult::with_status(PaymentStatus::Succeeded)
            },
            actor: Actor::Provider(provider.name().to_owned()),
            at: self.now(),
        };

        // A manual code waiting for verification is confirmed by the same transaction code.
        for manual in self
            .inner
            .providers
            .iter()
            .filter(|p| p.kind() == PaymentKind::Manual)
        {
            let claimed = self
                .inner
                .store
                .payment_by_reference(manual.name(), direct.receipt.as_str())
                .await?;
            if let Some(claimed) =
                claimed.filter(|p| p.status == PaymentStatus::PendingVerification)
            {
                let applied = self
                    .inner
                    .store
                    .settle_payment(&PaymentTarget::Id(claimed.id), &result)
                    .await;
                return self.after_settlement(provider.name(), applied, draft).await;
            }
        }

        let number = OrderNumber::from_account_reference(
            &direct.account_reference,
            &self.inner.config.order_prefix,
        );
        let order = match number {
            Some(number) => self.inner.store.order(&number).await?,
            None => None,
        };
        let Some(order) = order else {
            return self
                .keep_for_review(provider.name(), ReviewReason::UnmatchedPayment, draft())
                .await;
        };
        let now = self.now();
        let payment = Payment {
            id: PaymentId::from_uuid(self.inner.ids.uuid()),
            order_number: order.number.clone(),
            provider: provider.name().to_owned(),
            kind: PaymentKind::C2b,
            amount: direct.amount,
            phone: None,
            status: PaymentStatus::Pending,
            provider_reference: Some(direct.receipt.as_str().to_owned()),
            receipt: None,
            payer: direct.payer.clone(),
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
        // Held until the provider confirms the transaction, when the shop asks for that: the
        // payment waits like a manual code, and the answer settles it.
        if self.inner.config.confirm_direct_payments && provider.checks_transactions() {
            let held = Payment {
                status: PaymentStatus::PendingVerification,
                result_description: Some("Waiting for M-Pesa to confirm it".to_owned()),
                raw_payload: direct
                    .raw_payload
                    .as_deref()
                    .map(crate::payment::truncate_payload),
                ..payment.clone()
            };
            match self.inner.store.insert_payment(&held, None).await {
                Ok(PaymentInsert::Inserted(held)) => {
                    self.check_if_possible(provider, &held).await;
                    return Ok(());
                }
                // The same confirmation again.
                Ok(PaymentInsert::Existing(_)) => return Ok(()),
                Err(err) if err.conflict_reason() == Some(ConflictReason::AlreadyExists) => {
                    return Ok(());
                }
                // Not waiting for payment (paid, cancelled): recorded below, where it is
                // flagged or owed back.
                Err(err) if err.conflict_reason() == Some(ConflictReason::OrderNotPayable) => {}
                Err(err) => return Err(err),
            }
        }
        let applied = self
            .inner
            .store
            .record_direct_payment(&payment, &result)
            .await;
        let draft = || ReviewDraft {
            order_number: Some(order.number.clone()),
            ..draft()
        };
        self.after_settlement(provider.name(), applied, draft).await
    }

    /// Whether to accept a direct payment before it happens (C2B validation).
    async fn validate_direct_payment(&self, direct: &DirectPayment) -> Result<NoticeReply> {
        if direct.other_shortcode.is_some() {
            return Ok(NoticeReply::Reject(RejectReason::OtherShortcode));
        }
        let number = OrderNumber::from_account_reference(
            &direct.account_reference,
            &self.inner.config.order_prefix,
        );
        let Some(order) = (match number {
            Some(number) => self.inner.store.order(&number).await?,
            None => None,
        }) else {
            return Ok(NoticeReply::Reject(RejectReason::UnknownAccount));
        };
        let payments = self.inner.store.payments_for_order(&order.number).await?;
        Ok(match self.amount_due(&order, &payments) {
            Ok(due) if due == direct.amount => NoticeReply::Accept,
            Ok(_) => NoticeReply::Reject(RejectReason::WrongAmount),
            Err(_) => NoticeReply::Reject(RejectReason::UnknownAccount),
        })
    }

    /// Publishes what a settlement did, or keeps the notice for review when it was refused.
    pub(super) async fn after_settlement(
        &self,
        provider: &str,
        applied: Result<Settled>,
        draft: impl Fn() -> ReviewDraft,
    ) -> Result<()> {
        match applied {
            Ok(Settled::Applied { payment, order }) => {
                self.announce(&payment, &order).await;
                Ok(())
            }
            Ok(Settled::Unchanged { .. }) => Ok(()),
            Ok(Settled::Quarantined { payment, reason }) => {
                let draft = ReviewDraft {
                    payment_id: Some(payment.id),
                    order_number: Some(payment.order_number.clone()),
                    ..draft()
                };
                self.keep_for_review(provider, reason, draft).await
            }
            Err(Error::NotFound {
                entity: Entity::Payment,
                ..
            }) => {
                self.keep_for_review(provider, ReviewReason::UnknownAttempt, draft())
                    .await
            }
            Err(err) if err.conflict_reason() == Some(ConflictReason::ReceiptAlreadyUsed) => {
                self.keep_for_review(provider, ReviewReason::ReceiptAlreadyUsed, draft())
                    .await
            }
            Err(err) => Err(err),
        }
    }

    pub(super) async fn announce(&self, payment: &Payment, order: &Order) {
        let event = if payment.status == PaymentStatus::Succeeded {
            ShopEvent::PaymentSucceeded {
                payment: Box::new(payment.clone()),
                order: Box::new(order.clone()),
            }
        } else {
            ShopEvent::PaymentFailed {
                payment: Box::new(payment.clone()),
            }
        };
        self.publish(event).await;
        if order.status == OrderStatus::Paid
            && order.status_before_last_entry() != OrderStatus::Paid
        {
            self.publish(ShopEvent::OrderStatusChanged {
                number: order.number.clone(),
                from: order.status_before_last_entry(),
                to: order.status,
                at: order.updated_at,
            })
            .await;
        }
    }

    /// Whether a notification refused for its token is kept for review: the first
    /// `refused_callbacks_kept_per_hour` of each hour are.
    fn sample_refused_callback(&self) -> bool {
        let now = self.now();
        let mut sample = self
            .inner
            .refused_sample
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if now - sample.0 >= time::Duration::HOUR || now < sample.0 {
            *sample = (now, 0);
        }
        if sample.1 < self.inner.config.refused_callbacks_kept_per_hour {
            sample.1 += 1;
            true
        } else {
            false
        }
    }

    pub(super) async fn keep_for_review(
        &self,
        provider: &str,
        reason: ReviewReason,
        draft: ReviewDraft,
    ) -> Result<()> {
        let review = PaymentReview {
            id: ReviewId::from_uuid(self.inner.ids.uuid()),
            at: self.now(),
            provider: provider.to_owned(),
            reason,
            payment_id: draft.payment_id,
            order_number: draft.order_number,
            reference: draft.reference,
            receipt: draft.receipt,
            amount: draft.amount,
            account_reference: draft.account_reference,
            raw_payload: draft.raw_payload.as_deref().map(truncate_payload),
            resolution: None,
        };
        self.inner.store.record_review(&review).await?;
        self.publish(ShopEvent::PaymentNeedsReview {
            review: Box::new(review),
        })
        .await;
        Ok(())
    }
}

/// A refused notification's body, cut short so forged requests cannot fill the store.
fn refused_payload(body: &[u8]) -> String {
    let end = body.len().min(MAX_REFUSED_PAYLOAD);
    String::from_utf8_lossy(&body[..end]).into_owned()
}
