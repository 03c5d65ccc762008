//! Payments: attempts, their states, and the one function that decides what a provider's result
//! does to an attempt and its order ([`settle`]).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    error::{Error, InvalidValue, Result},
    ids::{OrderNumber, PaymentId, ReviewId},
    money::Money,
    order::{
        Actor, IdempotencyKey, Order, OrderStatus, OrderUpdate, PaymentFlag, PaymentFlagKind,
        TimelineEntry,
    },
    phone::Msisdn,
};

/// The most bytes of a provider payload kept for audit.
pub const MAX_RAW_PAYLOAD: usize = 64 * 1024;

/// How the money is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentKind {
    /// A push prompt on the customer's phone (M-Pesa Express).
    StkPush,
    /// The customer paid the shop's paybill or till directly.
    C2b,
    /// The customer paid by hand and submitted the confirmation code.
    Manual,
}

impl PaymentKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentKind::StkPush => "stk_push",
            PaymentKind::C2b => "c2b",
            PaymentKind::Manual => "manual",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        match text {
            "stk_push" => Ok(PaymentKind::StkPush),
            "c2b" => Ok(PaymentKind::C2b),
            "manual" => Ok(PaymentKind::Manual),
            _ => Err(InvalidValue::new("must be stk_push, c2b or manual")),
        }
    }
}

/// Where a payment attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Asked for; waiting for the provider's result.
    Pending,
    /// A manual code waits for an admin (or a matching C2B confirmation).
    PendingVerification,
    /// Money received.
    Succeeded,
    /// Refused (insufficient funds, wrong PIN, rejected code …).
    Failed,
    /// The customer dismissed the prompt.
    Cancelled,
    /// The customer could not be reached or did not answer in time.
    TimedOut,
}

impl PaymentStatus {
    /// Every status.
    pub const ALL: [PaymentStatus; 6] = [
        PaymentStatus::Pending,
        PaymentStatus::PendingVerification,
        PaymentStatus::Succeeded,
        PaymentStatus::Failed,
        PaymentStatus::Cancelled,
        PaymentStatus::TimedOut,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::PendingVerification => "pending_verification",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Cancelled => "cancelled",
            PaymentStatus::TimedOut => "timed_out",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        PaymentStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or(InvalidValue::new("must be a payment status"))
    }

    /// Whether the attempt has a result.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            PaymentStatus::Pending | PaymentStatus::PendingVerification
        )
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A provider's transaction code (M-Pesa receipt such as `NLJ7RT61SV`): 4 to 40 ASCII letters
/// and digits, upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Receipt(String);

impl Receipt {
    /// Parses a code as typed or reported; case and surrounding spaces are ignored.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let text = text.trim();
        if (4..=40).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(Receipt(text.to_ascii_uppercase()))
        } else {
            Err(InvalidValue::new(
                "must be a transaction code such as NLJ7RT61SV",
            ))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Receipt {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Receipt::parse(&value)
    }
}

impl From<Receipt> for String {
    fn from(value: Receipt) -> Self {
        value.0
    }
}

/// One attempt to collect money for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// Its id.
    pub id: PaymentId,
    /// The order it pays.
    pub order_number: OrderNumber,
    /// The provider's name (`mpesa`, `manual`).
    pub provider: String,
    /// How the money is asked for.
    pub kind: PaymentKind,
    /// The amount asked for (for direct payments: the amount received).
    pub amount: Money,
    /// The phone asked to pay, when known and dialable.
    pub phone: Option<Msisdn>,
    /// Where it stands.
    pub status: PaymentStatus,
    /// The provider's reference for the attempt (M-Pesa `CheckoutRequestID`, a manual code,
    /// a C2B `TransID`); unique per provider.
    pub provider_reference: Option<String>,
    /// The provider's transaction code once paid; never on two payments.
    pub receipt: Option<Receipt>,
    /// The payer as the provider reported it (may be masked or hashed; never assumed dialable).
    pub payer: Option<String>,
    /// The provider's result code, verbatim.
    pub result_code: Option<String>,
    /// The provider's result description, verbatim.
    pub result_description: Option<String>,
    /// The last provider payload, kept for audit (at most [`MAX_RAW_PAYLOAD`] bytes).
    pub raw_payload: Option<String>,
    /// The client's idempotency key for starting it.
    pub idempotency_key: Option<IdempotencyKey>,
    /// How many times reconciliation asked the provider about it.
    pub checks: u32,
    /// When reconciliation should next ask the provider, while pending.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_check_at: Option<OffsetDateTime>,
    /// Whether an admin must look at it.
    pub needs_review: bool,
    /// When it was started.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What a provider says happened to an attempt (or a direct payment).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderResult {
    /// The final status; `Pending` and `PendingVerification` are not results.
    pub status: Option<PaymentStatus>,
    /// The amount the provider reports, if it reports one.
    pub amount: Option<Money>,
    /// The transaction code, on success.
    pub receipt: Option<Receipt>,
    /// The payer as reported.
    pub payer: Option<String>,
    /// The provider's code, verbatim.
    pub result_code: Option<String>,
    /// The provider's description, verbatim.
    pub result_description: Option<String>,
    /// The payload, for audit.
    pub raw_payload: Option<String>,
}

impl ProviderResult {
    /// A result with `status` and nothing else.
    pub fn with_status(status: PaymentStatus) -> Self {
        ProviderResult {
            status: Some(status),
            ..ProviderResult::default()
        }
    }
}

/// A provider result with who delivered it and when, ready for [`settle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentResult {
    /// What the provider says.
    pub result: ProviderResult,
    /// Who delivered it (the provider, an admin verifying a code, reconciliation).
    pub actor: Actor,
    /// When it was received.
    pub at: OffsetDateTime,
}

/// Which attempt a result is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentTarget {
    /// By id.
    Id(PaymentId),
    /// By the provider's reference (`CheckoutRequestID`).
    Reference {
        /// The provider's name.
        provider: String,
        /// Its reference.
        reference: String,
    },
}

impl fmt::Display for PaymentTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaymentTarget::Id(id) => write!(f, "{id}"),
            PaymentTarget::Reference {
                provider,
                reference,
            } => write!(f, "{provider}:{reference}"),
        }
    }
}

/// Why a result changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unchanged {
    /// The attempt already has this result (a duplicate callback).
    Duplicate,
    /// The attempt already has a final result that this one must not overwrite.
    Stale,
    /// The attempt had succeeded without a receipt (settled by a status query, which carries
    /// none); the result's receipt was recorded on it. Nothing else changed and nothing is
    /// announced again.
    ReceiptAdded,
}

/// Why a payment notice was kept for an admin instead of being applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReviewReason {
    /// No attempt of the shop has this reference.
    UnknownAttempt,
    /// The reported amount differs from the amount asked for.
    AmountMismatch {
        /// Asked for.
        expected: Money,
        /// Reported.
        received: Money,
    },
    /// The reported currency differs from the order's.
    CurrencyMismatch,
    /// A success with a different receipt arrived for an attempt that already succeeded.
    ConflictingResult,
    /// The receipt is already recorded on another payment.
    ReceiptAlreadyUsed,
    /// Money arrived that matches no order.
    UnmatchedPayment,
    /// A notification arrived on a callback URL with the wrong secret token.
    InvalidCallbackToken,
    /// Money was reported paid to a business account (M-Pesa shortcode) that is not the
    /// shop's: a confirmation meant for another shop, or a forged one. Never applied.
    OtherShortcode {
        /// The account the notice named (empty when it named none).
        shortcode: String,
    },
    /// A notification could not be read.
    UnreadableNotification,
    /// Reconciliation asked the provider too often without a final answer.
    ReconcileLimitReached,
    /// The provider could not confirm a payment it was asked about (a manual code M-Pesa does
    /// not know, or paid to another account); the payment waits for an admin. The provider's
    /// words are in the notice's payload.
    NotConfirmed,
}

/// A payment notice kept for an admin: forged, unmatched or inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentReview {
    /// Its id.
    pub id: ReviewId,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The provider it came from.
    pub provider: String,
    /// Why it is here.
    pub reason: ReviewReason,
    /// The attempt it names, if the shop knows it.
    pub payment_id: Option<PaymentId>,
    /// The order involved, if known.
    pub order_number: Option<OrderNumber>,
    /// The provider reference it carried.
    pub reference: Option<String>,
    /// The receipt it carried.
    pub receipt: Option<String>,
    /// The amount it carried.
    pub amount: Option<Money>,
    /// The account reference the payer typed (C2B).
    pub account_reference: Option<String>,
    /// The payload, for audit.
    pub raw_payload: Option<String>,
    /// What an admin decided about it, once decided (never twice).
    #[serde(default)]
    pub resolution: Option<ReviewResolution>,
}

/// What an admin did with a kept payment notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// The money was applied to an order (as a direct payment to it).
    Assigned,
    /// The money was sent back to the payer by hand.
    Refunded,
    /// Nothing to do (a forged callback, a duplicate, money already handled elsewhere).
    Ignored,
}

impl ReviewOutcome {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewOutcome::Assigned => "assigned",
            ReviewOutcome::Refunded => "refunded",
            ReviewOutcome::Ignored => "ignored",
        }
    }

    /// Parses the snake_case name, or the action that leads to it (`assign`, `refund`,
    /// `ignore`).
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        match text {
            "assigned" | "assign" => Ok(ReviewOutcome::Assigned),
            "refunded" | "refund" => Ok(ReviewOutcome::Refunded),
            "ignored" | "ignore" => Ok(ReviewOutcome::Ignored),
            _ => Err(InvalidValue::new("must be assign, refunded or ignored")),
        }
    }
}

/// An admin's decision on a payment notice: what, who, when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewResolution {
    /// What was done.
    pub outcome: ReviewOutcome,
    /// The order the money was assigned to.
    pub order_number: Option<OrderNumber>,
    /// The M-Pesa code of the money sent back, when refunded.
    pub reference: Option<String>,
    /// The admin's note.
    pub note: Option<String>,
    /// Who decided.
    pub actor: Actor,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl ReviewResolution {
    /// The entry the timeline of the order `review` names gets when this decision is written:
    /// who decided what, with their note (for the shop only). `None` when the notice names no
    /// order, and for `assigned` (the payment it applies writes its own entry).
    pub fn timeline_entry(
        &self,
        review: &PaymentReview,
        order_status: OrderStatus,
    ) -> Option<TimelineEntry> {
        review.order_number.as_ref()?;
        let what = match self.outcome {
            ReviewOutcome::Assigned => return None,
            ReviewOutcome::Refunded => format!(
                "sent back{}",
                self.reference
                    .as_deref()
                    .map(|code| format!(" (M-Pesa {code})"))
                    .unwrap_or_default()
            ),
            ReviewOutcome::Ignored => "ignored".to_owned(),
        };
        let money = review
            .receipt
            .as_deref()
            .or(review.reference.as_deref())
            .map(|code| format!(" {code}"))
            .unwrap_or_default();
        let note = self
            .note
            .as_deref()
            .map(|note| format!(": {note}"))
            .unwrap_or_default();
        Some(TimelineEntry {
            at: self.at,
            status: order_status,
            note: format!("Payment notice{money} {what}{note}"),
            actor: self.actor.clone(),
            for_customer: false,
        })
    }
}

/// What [`settle`] decided a store must write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// Nothing changes (and nothing is recorded).
    Unchanged(Unchanged),
    /// Nothing changes; keep the notice for review.
    Quarantine(ReviewReason),
    /// Write the receipt on a succeeded attempt that had none (nothing else changes, nothing
    /// is announced): the store answers [`Settled::Unchanged`] with
    /// [`Unchanged::ReceiptAdded`].
    AddReceipt(Box<Payment>),
    /// Write the payment as given and apply the order update, if any.
    Apply {
        /// The attempt after the result.
        payment: Box<Payment>,
        /// What happens to the order (a move to paid, or a payment flag with a timeline note).
        order: Option<OrderUpdate>,
    },
}

/// What a store did with a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The result was applied; these are the attempt and the order afterwards.
    Applied {
        /// The attempt.
        payment: Box<Payment>,
        /// Its order.
        order: Box<Order>,
    },
    /// Nothing changed.
    Unchanged {
        /// The attempt as it is.
        payment: Box<Payment>,
        /// Why.
        reason: Unchanged,
    },
    /// Nothing changed; the caller keeps the notice for review.
    Quarantined {
        /// The attempt as it is.
        payment: Box<Payment>,
        /// Why the result was not applied.
        reason: ReviewReason,
    },
}

impl Settled {
    /// Whether the store wrote something (the result was applied, or a receipt added): a
    /// store commits then, and rolls back otherwise.
    pub fn wrote(&self) -> bool {
        matches!(
            self,
            Settled::Applied { .. }
                | Settled::Unchanged {
                    reason: Unchanged::ReceiptAdded,
                    ..
                }
        )
    }
}

/// Decides what `result` does to attempt `payment` of `order`, given all of the order's
/// payments (`payments`, which may include `payment` itself in any state).
///
/// Stores call it inside the transaction that holds the attempt and the order locked, then
/// persist the [`Settlement`] exactly. The rules:
/// - a result for an attempt that already has it changes nothing ([`Unchanged::Duplicate`]),
///   except that a success with a receipt adds it to a success that had none
///   ([`Settlement::AddReceipt`]);
///   a failure never overwrites a final result, and a success never overwrites a success
///   ([`Unchanged::Stale`], or review if the receipts differ); a late success after a
///   failure or timeout is applied;
/// - a reported amount or currency that differs from the attempt's is quarantined;
/// - the order becomes `paid` only when its succeeded payments add up to its total exactly;
///   a short or over payment, or money for a cancelled order, is flagged on the order.
pub fn settle(
    order: &Order,
    payments: &[Payment],
    payment: &Payment,
    result: &PaymentResult,
) -> Result<Settlement> {
    let report = &result.result;
    let status = match report.status {
        Some(status) if status.is_final() => status,
        _ => {
            return Err(Error::invalid(
                "status",
                "a payment result must be succeeded, failed, cancelled or timed_out",
            ));
        }
    };

    match (payment.status, status) {
        (PaymentStatus::Succeeded, PaymentStatus::Succeeded) => {
            return Ok(match (&payment.receipt, &report.receipt) {
                (Some(have), Some(got)) if have != got => {
                    Settlement::Quarantine(ReviewReason::ConflictingResult)
                }
                (None, Some(got)) => match report.amount {
                    Some(received) if received != payment.amount => {
                        Settlement::Quarantine(ReviewReason::AmountMismatch {
                            expected: payment.amount,
                            received,
                        })
                    }
                    _ => {
                        let mut updated = payment.clone();
                        updated.receipt = Some(got.clone());
                        updated.updated_at = result.at;
                        if report.payer.is_some() {
                            updated.payer.clone_from(&report.payer);
                        }
                        Settlement::AddReceipt(Box::new(updated))
                    }
                },
                _ => Settlement::Unchanged(Unchanged::Duplicate),
            });
        }
        (current, new) if current == new => {
            return Ok(Settlement::Unchanged(Unchanged::Duplicate));
        }
        (current, new) if current.is_final() && new != PaymentStatus::Succeeded => {
            return Ok(Settlement::Unchanged(Unchanged::Stale));
        }
        _ => {}
    }

    let mut updated = payment.clone();
    updated.status = status;
    updated.updated_at = result.at;
    updated.next_check_at = None;
    if report.result_code.is_some() {
        updated.result_code.clone_from(&report.result_code);
    }
    if report.result_description.is_some() {
        updated
            .result_description
            .clone_from(&report.result_description);
    }
    if report.raw_payload.is_some() {
        updated.raw_payload = report.raw_payload.as_deref().map(truncate_payload);
    }
    if report.payer.is_some() {
        updated.payer.clone_from(&report.payer);
    }

    if status != PaymentStatus::Succeeded {
        return Ok(Settlement::Apply {
            payment: Box::new(updated),
            order: None,
        });
    }

    if let Some(received) = report.amount {
        if received.currency() != payment.amount.currency() {
            return Ok(Settlement::Quarantine(ReviewReason::CurrencyMismatch));
        }
        if received != payment.amount {
            return Ok(Settlement::Quarantine(ReviewReason::AmountMismatch {
                expected: payment.amount,
                received,
            }));
        }
    }
    if payment.amount.currency() != order.total.currency() {
        return Ok(Settlement::Quarantine(ReviewReason::CurrencyMismatch));
    }
    if report.receipt.is_some() {
        updated.receipt.clone_from(&report.receipt);
    }

    let received = Money::sum(
        order.total.currency(),
        payments
            .iter()
            .filter(|p| p.id != payment.id && p.status == PaymentStatus::Succeeded)
            .map(|p| p.amount)
            .chain(std::iter::once(payment.amount)),
    )
    .map_err(|e| Error::invalid("amount", e.to_string()))?;

    let flag = |kind| PaymentFlag {
        kind,
        expected: order.total,
        received,
    };
    // An order paid on delivery waits for its money while it is on its way, too.
    let order_update = match order.status {
        _ if order.awaits_payment() && received == order.total => order.plan_paid(
            result.actor.clone(),
            match &updated.receipt {
                Some(receipt) => format!("Payment received ({receipt})"),
                None => "Payment received".to_owned(),
            },
            result.at,
        )?,
        _ if order.awaits_payment() && received < order.total => flag_update(
            order,
            flag(PaymentFlagKind::ShortPayment),
            format!("Part payment: received {} of {}", received, order.total),
            result,
        ),
        _ if order.awaits_payment() => flag_update(
            order,
            flag(PaymentFlagKind::OverPayment),
            format!("Overpayment: received {} for {}", received, order.total),
            result,
        ),
        OrderStatus::Cancelled => flag_update(
            order,
            flag(PaymentFlagKind::PaidAfterCancellation),
            format!("Payment of {} received after cancellation", payment.amount),
            result,
        ),
        _ => flag_update(
            order,
            flag(PaymentFlagKind::OverPayment),
            format!("Further payment of {} received", payment.amount),
            result,
        ),
    };
    Ok(Settlement::Apply {
        payment: Box::new(updated),
        order: Some(order_update),
    })
}

fn flag_update(
    order: &Order,
    flag: PaymentFlag,
    note: String,
    result: &PaymentResult,
) -> OrderUpdate {
    OrderUpdate {
        from: order.status,
        to: order.status,
        entry: TimelineEntry {
            at: result.at,
            status: order.status,
            note,
            actor: result.actor.clone(),
            for_customer: true,
        },
        releases: Vec::new(),
        paid_at: None,
        payment_flag: Some(flag),
    }
}

/// Cuts a payload to at most [`MAX_RAW_PAYLOAD`] bytes on a character boundary.
pub fn truncate_payload(raw: &str) -> String {
    if raw.len() <= MAX_RAW_PAYLOAD {
        return raw.to_owned();
    }
    let mut end = MAX_RAW_PAYLOAD;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    raw[..end].to_owned()
}

/// What the payment page may show about an attempt (no phone, no payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    /// Its id.
    pub id: PaymentId,
    /// The order.
    pub order_number: OrderNumber,
    /// Provider name.
    pub provider: String,
    /// How it is paid.
    pub kind: PaymentKind,
    /// The amount.
    pub amount: Money,
    /// Where it stands.
    pub status: PaymentStatus,
    /// The receipt, once paid.
    pub receipt: Option<Receipt>,
    /// A message for the customer about the result.
    pub message: Option<String>,
    /// When it was started.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<&Payment> for PaymentView {
    fn from(p: &Payment) -> Self {
        PaymentView {
            id: p.id,
            order_number: p.order_number.clone(),
            provider: p.provider.clone(),
            kind: p.kind,
            amount: p.amount,
            status: p.status,
            receipt: p.receipt.clone(),
            message: p.result_description.clone(),
            created_at: p.created_at,
        }
    }
}

/// When reconciliation should next look at a pending attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentCheck {
    /// Checks made so far.
    pub checks: u32,
    /// The next check, or `None` to stop checking.
    pub next_check_at: Option<OffsetDateTime>,
    /// Whether to mark the attempt for review.
    pub needs_review: bool,
    /// When this was decided.
    pub at: OffsetDateTime,
}

#[cfg(test)]
mod tests;
