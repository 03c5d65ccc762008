//! Refunds: money the shop owes back to a customer, and the one function that decides when it
//! is owed ([`refunds_due`]).
//!
//! A refund is written by the store in the same transaction as the change that causes it,
//! never after it:
//! - cancelling an order (by an admin, or expiry) owes back everything paid on it that is
//!   not refunded yet, one refund per payment (an M-Pesa reversal undoes one transaction);
//! - a payment that brings a paid order above its total owes back the excess (an unpaid order
//!   that receives too much stays unpaid and flagged, and owes it all back when cancelled);
//! - a payment that arrives for a cancelled order owes itself back.
//!
//! A short payment owes nothing while the order waits for the rest: the customer may still pay
//! it. When the order is cancelled or expires, it is owed back like any other payment.
//!
//! A refund starts `owed`. An admin marks it `refunded` with the M-Pesa reference of the money
//! sent back, or the shop sends it through the provider (`sending`, then `refunded` or
//! `failed` when the provider's asynchronous result arrives); a failed refund may be sent
//! again or marked refunded by hand. Every move is planned by [`Refund::plan`], which refuses
//! a refund already paid: a refund is never paid twice.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::{ConflictReason, Error, InvalidValue, Result},
    ids::{OrderNumber, PaymentId},
    money::Money,
    order::{Actor, Order, OrderStatus, TimelineEntry},
    payment::{Payment, PaymentStatus},
};

/// The longest reference or note an admin may write on a refund, in characters.
pub const MAX_REFUND_TEXT: usize = 500;

pub use crate::ids::RefundId;

impl RefundId {
    /// The id of the `ordinal`-th refund (from 0) of `payment`: a refund's id follows from the
    /// payment it pays back and the refunds that payment had before (a UUID v5), so a store
    /// writes the same id whichever process plans it.
    pub fn of_payment(payment: PaymentId, ordinal: usize) -> Self {
        RefundId::from_uuid(Uuid::new_v5(
            &payment.as_uuid(),
            format!("refund-{ordinal}").as_bytes(),
        ))
    }
}

/// Why money is owed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    /// The order was cancelled (or expired) after money was paid on it.
    OrderCancelled,
    /// The payments added up to more than the order's total: the excess.
    OverPayment,
    /// The payment arrived after the order was cancelled.
    PaidAfterCancellation,
}

impl RefundReason {
    /// Every reason.
    pub const ALL: [RefundReason; 3] = [
        RefundReason::OrderCancelled,
        RefundReason::OverPayment,
        RefundReason::PaidAfterCancellation,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundReason::OrderCancelled => "order_cancelled",
            RefundReason::OverPayment => "over_payment",
            RefundReason::PaidAfterCancellation => "paid_after_cancellation",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        RefundReason::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or(InvalidValue::new("must be a refund reason"))
    }
}

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Owed; nobody has sent it yet.
    Owed,
    /// Asked of the provider (a reversal); waiting for its result.
    Sending,
    /// Paid back.
    Refunded,
    /// The provider could not send it; it is still owed.
    Failed,
}

impl RefundStatus {
    /// Every status.
    pub const ALL: [RefundStatus; 4] = [
        RefundStatus::Owed,
        RefundStatus::Sending,
        RefundStatus::Refunded,
        RefundStatus::Failed,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Owed => "owed",
            RefundStatus::Sending => "sending",
            RefundStatus::Refunded => "refunded",
            RefundStatus::Failed => "failed",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        RefundStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or(InvalidValue::new(
                "must be owed, sending, refunded or failed",
            ))
    }

    /// The status as the customer's tracking page shows it: a failed send is still owed (why
    /// it failed is the shop's business).
    pub fn as_customer_sees(self) -> Self {
        match self {
            RefundStatus::Failed => RefundStatus::Owed,
            status => status,
        }
    }

    /// Whether the money is still the customer's to get back (owed, or its sending failed).
    pub fn is_open(self) -> bool {
        matches!(self, RefundStatus::Owed | RefundStatus::Failed)
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Money owed back to a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    /// Its id.
    pub id: RefundId,
    /// The order it belongs to.
    pub order_number: OrderNumber,
    /// The payment it pays back (a reversal undoes that transaction).
    pub payment_id: PaymentId,
    /// Why it is owed.
    pub reason: RefundReason,
    /// How much.
    pub amount: Money,
    /// Where it stands.
    pub status: RefundStatus,
    /// The provider's reference of the money sent back (the M-Pesa transaction code of the
    /// reversal or transfer), once refunded; never on two refunds.
    pub reference: Option<String>,
    /// The provider's id of a request to send it (a reversal's `ConversationID`) while it is
    /// sent; never on two refunds.
    pub provider_request: Option<String>,
    /// An admin's note, or the provider's words on a failure.
    pub note: Option<String>,
    /// Who last moved it (an admin, the provider).
    pub actor: Option<Actor>,
    /// When it became owed.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A change to a refund, planned by [`Refund::plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundChange {
    /// An admin sent the money back by hand: `reference` is the M-Pesa code of that transfer.
    MarkRefunded {
        /// The M-Pesa code of the money sent back.
        reference: String,
        /// An optional note.
        note: Option<String>,
        /// Who.
        actor: Actor,
        /// When.
        at: OffsetDateTime,
    },
    /// The provider accepted a request to send it back (a reversal).
    Sending {
        /// The provider's id of the request (`ConversationID`).
        request: String,
        /// Who asked.
        actor: Actor,
        /// When.
        at: OffsetDateTime,
    },
    /// The provider took the request reserved as `reservation` (see [`RefundChange::Sending`])
    /// and gave it its own id, `request`, which its result will carry.
    Requested {
        /// The id the refund was reserved under before the provider was asked.
        reservation: String,
        /// The provider's id of the request.
        request: String,
        /// When.
        at: OffsetDateTime,
    },
    /// An admin gives up waiting for a refund that has been `sending` for
    /// [`SENDING_PATIENCE`] without a result (the request timed out, or its result was lost):
    /// it becomes `failed`, so it can be sent again or marked refunded by hand. A success for
    /// the abandoned request that arrives before either still makes it `refunded`. M-Pesa refuses
    /// a second reversal of a reversed transaction and a second B2C under the same refund, so
    /// sending it again never pays twice.
    GiveUp {
        /// Who.
        actor: Actor,
        /// When.
        at: OffsetDateTime,
    },
    /// The provider's result for the request the refund is `sending` under.
    Result {
        /// The request it answers.
        request: String,
        /// `Ok(reference)`: sent, with the code of the transaction; `Err(words)`: not sent.
        outcome: std::result::Result<String, String>,
        /// The provider.
        actor: Actor,
        /// When.
        at: OffsetDateTime,
    },
}

/// How long a refund stays `sending` before an admin may give up on its result
/// ([`RefundChange::GiveUp`]) or mark it refunded by hand: longer than M-Pesa keeps a request in
/// its queue before it answers with a timeout.
pub const SENDING_PATIENCE: time::Duration = time::Duration::minutes(15);

/// Which refund a change is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundTarget {
    /// By id.
    Id(RefundId),
    /// By the provider's id of the request it is sent under.
    ProviderRequest(String),
}

/// What planning a change decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundPlan {
    /// Write the refund as given.
    Write(Box<Refund>),
    /// Nothing changes: the refund already has this outcome (a duplicate result).
    Unchanged,
}

impl Refund {
    /// The entry an order's timeline gets when this refund (as planned, `next` of `self`) is
    /// paid back: who sent how much, with which code. `None` for any other change. The entry
    /// is for the shop (the tracking page lists refunds on its own); its status is the
    /// order's, unchanged.
    pub fn timeline_entry(
        &self,
        next: &Refund,
        order_status: OrderStatus,
    ) -> Option<TimelineEntry> {
        if self.status == RefundStatus::Refunded || next.status != RefundStatus::Refunded {
            return None;
        }
        let how = match next.actor {
            Some(Actor::Provider(_)) => "by M-Pesa",
            _ => "by hand",
        };
        let code = next
            .reference
            .as_deref()
            .map(|code| format!(" (M-Pesa {code})"))
            .unwrap_or_default();
        Some(TimelineEntry {
            at: next.updated_at,
            status: order_status,
            note: format!("Refund of {} sent back {how}{code}", next.amount),
            actor: next.actor.clone().unwrap_or(Actor::System),
            for_customer: false,
        })
    }

    /// Plans `change` on this refund as the store found it (locked): a refund already paid is
    /// a `Conflict` with [`ConflictReason::RefundNotOwed`], so it is never paid twice; a result
    /// for a request the refund is no longer sent under changes nothing.
    pub fn plan(&self, change: &RefundChange) -> Result<RefundPlan> {
        let mut next = self.clone();
        match change {
            RefundChange::MarkRefunded {
                reference,
                note,
                actor,
                at,
            } => {
                if !self.status.is_open() && !self.stuck_sending(*at) {
                    return Err(self.not_owed());
                }
                next.status = RefundStatus::Refunded;
                next.reference = Some(reference.clone());
                next.provider_request = None;
                next.note.clone_from(note);
                next.actor = Some(actor.clone());
                next.updated_at = *at;
            }
            RefundChange::Sending { request, actor, at } => {
                if !self.status.is_open() {
                    return Err(self.not_owed());
                }
                next.status = RefundStatus::Sending;
                next.provider_request = Some(request.clone());
                next.actor = Some(actor.clone());
                next.updated_at = *at;
            }
            RefundChange::Requested {
                reservation,
                request,
                at,
            } => {
                if self.status != RefundStatus::Sending
                    || self.provider_request.as_deref() != Some(reservation.as_str())
                {
                    return Ok(RefundPlan::Unchanged);
                }
                next.provider_request = Some(request.clone());
                next.updated_at = *at;
            }
            RefundChange::GiveUp { actor, at } => {
                if !self.stuck_sending(*at) {
                    return Err(Error::conflict(
                        ConflictReason::RefundNotStuck,
                        format!(
                            "refund {} is {}: only a refund sending for {} minutes without an \
                             answer can be given up on",
                            self.id,
                            self.status,
                            SENDING_PATIENCE.whole_minutes()
                        ),
                    ));
                }
                // The request stays recorded: a success that arrives after all still applies.
                next.status = RefundStatus::Failed;
                next.note = Some(format!(
                    "No answer from M-Pesa within {} minutes: check the shop's M-Pesa statement \
                     before sending it again",
                    SENDING_PATIENCE.whole_minutes()
                ));
                next.actor = Some(actor.clone());
                next.updated_at = *at;
            }
            RefundChange::Result {
                request,
                outcome,
                actor,
                at,
            } => {
                // A success for a request an admin gave up on still counts: the money went
                // back. (A refund fails by an admin's hand only by giving up; a provider's own
                // failure is final for its request.)
                let late_success = self.status == RefundStatus::Failed
                    && matches!(self.actor, Some(Actor::Admin(_)))
                    && outcome.is_ok();
                if !(self.status == RefundStatus::Sending || late_success)
                    || self.provider_request.as_deref() != Some(request.as_str())
                {
                    return Ok(RefundPlan::Unchanged);
                }
                match outcome {
                    Ok(reference) => {
                        next.status = RefundStatus::Refunded;
                        next.reference = Some(reference.clone());
                    }
                    Err(words) => {
                        next.status = RefundStatus::Failed;
                        next.note = Some(words.clone());
                    }
                }
                next.actor = Some(actor.clone());
                next.updated_at = *at;
            }
        }
        Ok(RefundPlan::Write(Box::new(next)))
    }

    /// Whether the refund has been `sending` for [`SENDING_PATIENCE`] at `at`.
    fn stuck_sending(&self, at: OffsetDateTime) -> bool {
        self.status == RefundStatus::Sending && at - self.updated_at >= SENDING_PATIENCE
    }

    fn not_owed(&self) -> Error {
        Error::conflict(
            ConflictReason::RefundNotOwed,
            format!("refund {} is {}, not owed", self.id, self.status),
        )
    }
}

/// Checks what an admin typed when marking a refund paid: the reference is the M-Pesa code of
/// the money sent back (4 to 40 letters and digits, upper-cased), the note at most
/// [`MAX_REFUND_TEXT`] characters (blank: none).
pub fn refund_reference(reference: &str, note: Option<&str>) -> Result<(String, Option<String>)> {
    let reference = reference.trim().to_ascii_uppercase();
    if !(4..=40).contains(&reference.len()) || !reference.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(Error::invalid(
            "reference",
            "must be the M-Pesa code of the money sent back (4 to 40 letters and digits)",
        ));
    }
    let note = crate::text::optional_text(note, MAX_REFUND_TEXT, true).map_err(|e| e.at("note"))?;
    Ok((reference, note))
}

/// The refunds an order owes now that are not written yet, given the order as it is after the
/// change the store is writing (`order`), all its payments as they are after it (`payments`),
/// its refunds so far (`refunds`), and the payment whose settlement is the change, if it is one
/// (`settled`).
///
/// What the shop keeps is nothing for a cancelled order, and at most its total otherwise; the
/// rest of what succeeded payments brought is owed back, less what refunds already cover
/// (whatever their status: a failed refund is still owed, by that refund). A cancelled order
/// owes each payment's uncovered part back; a live one owes its excess from the payments
/// received last. Empty when nothing more is owed. Stores call it inside the transaction that
/// holds the order locked and write the refunds it returns.
pub fn refunds_due(
    order: &Order,
    payments: &[Payment],
    refunds: &[Refund],
    settled: Option<PaymentId>,
    at: OffsetDateTime,
) -> Vec<Refund> {
    let currency = order.total.currency();
    let mut paid: Vec<&Payment> = payments
        .iter()
        .filter(|p| p.status == PaymentStatus::Succeeded && p.amount.currency() == currency)
        .collect();
    paid.sort_by_key(|p| (p.created_at, p.id));
    let covered = |payment: &Payment| {
        Money::sum(
            currency,
            refunds
                .iter()
                .filter(|r| r.payment_id == payment.id)
                .map(|r| r.amount),
        )
        .unwrap_or(payment.amount)
    };
    let refund = |payment: &Payment, amount: Money, reason: RefundReason| Refund {
        id: RefundId::of_payment(
            payment.id,
            refunds
                .iter()
                .filter(|r| r.payment_id == payment.id)
                .count(),
        ),
        order_number: order.number.clone(),
        payment_id: payment.id,
        reason,
        amount,
        status: RefundStatus::Owed,
        reference: None,
        provider_request: None,
        note: None,
        actor: None,
        created_at: at,
        updated_at: at,
    };

    if order.status == OrderStatus::Cancelled {
        // A settlement never cancels: a payment settled now on a cancelled order came after
        // the cancellation.
        let late = settled;
        return paid
            .into_iter()
            .filter_map(|payment| {
                let left = payment.amount.checked_sub(covered(payment)).ok()?;
                if left.is_zero() {
                    return None;
                }
                let reason = if late == Some(payment.id) {
                    RefundReason::PaidAfterCancellation
                } else {
                    RefundReason::OrderCancelled
                };
                Some(refund(payment, left, reason))
            })
            .collect();
    }

    // An unpaid order keeps what it received until it is paid or cancelled: an over payment
    // leaves it unpaid and flagged (see `settle`), and cancelling it owes everything back, a
    // whole payment at a time (which M-Pesa can reverse). An order paid on delivery is unpaid
    // on its way too.
    if order.awaits_payment() {
        return Vec::new();
    }
    let received = Money::sum(currency, paid.iter().map(|p| p.amount)).unwrap_or(order.total);
    let already = Money::sum(currency, refunds.iter().map(|r| r.amount)).unwrap_or(received);
    let Ok(kept) = received.checked_sub(already) else {
        return Vec::new();
    };
    let Ok(mut excess) = kept.checked_sub(order.total) else {
        return Vec::new();
    };
    // The excess comes from the payment being settled, then from the payments received last.
    let mut owed = Vec::new();
    paid.reverse();
    if let Some(at) = settled.and_then(|id| paid.iter().position(|p| p.id == id)) {
        let payment = paid.remove(at);
        paid.insert(0, payment);
    }
    for payment in paid {
        if excess.is_zero() {
            break;
        }
        let Ok(left) = payment.amount.checked_sub(covered(payment)) else {
            continue;
        };
        let amount = if left < excess { left } else { excess };
        if amount.is_zero() {
            continue;
        }
        excess = excess.checked_sub(amount).unwrap_or(Money::zero(currency));
        owed.push(refund(payment, amount, RefundReason::OverPayment));
    }
    owed
}

#[cfg(test)]
mod tests;
