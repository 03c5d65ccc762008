//! Notifications: what the shop tells its customers and its owner, and how it gets there
//! without losing or repeating a message.
//!
//! # How a message travels
//!
//! 1. **Outbox.** A store writes an [`OutboxEvent`] in the same transaction as the change that
//!    causes it (an order placed, a payment that succeeded or failed, a status move, money
//!    sent back), built by the constructors here ([`OutboxEvent::placed`],
//!    [`OutboxEvent::moved`], [`OutboxEvent::settled`], [`OutboxEvent::refund_sent`]), so an
//!    event exists exactly when its change does, even if the process dies right after the
//!    commit.
//! 2. **Expansion.** The dispatcher reads pending events ([`Store::pending_outbox_events`]),
//!    renders the messages each one makes (templates, the customer's language, the channels
//!    configured, SMS opt-outs) and hands them to [`Store::expand_outbox_event`], which marks the
//!    event done and inserts its [`NewDelivery`] rows in one transaction, once: a second
//!    process expanding the same event changes nothing.
//! 3. **Delivery.** The dispatcher claims due deliveries ([`Store::claim_deliveries`]: a lease
//!    per delivery, taken with `FOR UPDATE SKIP LOCKED` where the database has it), sends each
//!    through its [`Channel`] with the delivery's id as the idempotency key, and records the
//!    outcome ([`Store::finish_delivery`]): sent, retried later with backoff, or dead (the
//!    dashboard lists dead messages and can [retry][`Store::retry_delivery`] them).
//!
//! A message is sent at least once; twice only if a process dies after the channel accepted it
//! and before the outcome was recorded, and then with the same idempotency key.
//!
//! [`Store::pending_outbox_events`]: crate::Store::pending_outbox_events
//! [`Store::expand_outbox_event`]: crate::Store::expand_outbox_event
//! [`Store::claim_deliveries`]: crate::Store::claim_deliveries
//! [`Store::finish_delivery`]: crate::Store::finish_delivery
//! [`Store::retry_delivery`]: crate::Store::retry_delivery

use std::{fmt, str::FromStr, time::Duration};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::InvalidValue,
    ids::OrderNumber,
    language::Language,
    money::Money,
    order::{Order, OrderStatus, OrderUpdate},
    payment::{Payment, PaymentStatus},
    phone::Msisdn,
    refund::{Refund, RefundStatus},
};

macro_rules! notify_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id, ordered by creation time (UUID v7).
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }

            /// Wraps a UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                $name(uuid)
            }

            /// The UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// Parses the hyphenated UUID form.
            pub fn parse(text: &str) -> Result<Self, InvalidValue> {
                Uuid::try_parse(text.trim())
                    .map($name)
                    .map_err(|_| InvalidValue::new(concat!("must be a ", $what, " id (a UUID)")))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }
    };
}

notify_id!(
    /// Identifies an event in the outbox.
    OutboxId,
    "outbox event"
);
notify_id!(
    /// Identifies one message to one recipient; channels that accept an idempotency key get it.
    DeliveryId,
    "message"
);

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Its name, as stored and sent.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(InvalidValue::new(concat!("must be a known ", $what))),
                }
            }
        }
    };
}

mod dispatch;
mod plan;
mod sms;
mod templates;

pub use self::{
    dispatch::{DispatchPolicy, DispatchReport, Notifications},
    plan::{
        NotifySetup, OPTED_OUT, OwnerContact, order_link, plan_deliveries, sample_messages,
        sample_vars, webhook_body,
    },
    sms::{SmsEncoding, SmsLength, split_segments},
    templates::{
        MAX_TEMPLATE_CHARS, PLACEHOLDERS, TemplateName, TemplateOverride, TemplateVars, Templates,
        check_template, parse_overrides,
    },
};

string_enum!(
    /// What happened, as far as a notification is concerned.
    NoticeKind, "event kind" {
        /// An order was placed (never on an idempotent replay).
        OrderPlaced = "order_placed",
        /// A payment succeeded (the order is paid, or flagged for a short or over payment).
        PaymentSucceeded = "payment_succeeded",
        /// A payment failed, was cancelled or timed out.
        PaymentFailed = "payment_failed",
        /// An order's status moved (by an admin, or by expiry), other than to paid.
        StatusChanged = "status_changed",
        /// Money owed back to the customer was sent back (by hand, or by the provider).
        RefundSent = "refund_sent",
    }
);

string_enum!(
    /// Who a message is for.
    Audience, "audience" {
        /// The customer who placed the order.
        Customer = "customer",
        /// The shop's owner (alerts).
        Owner = "owner",
    }
);

string_enum!(
    /// How a message travels.
    ChannelKind, "channel" {
        /// A text message (Africa's Talking).
        Sms = "sms",
        /// A WhatsApp template message (Meta's WhatsApp Cloud API).
        WhatsApp = "whatsapp",
        /// An e-mail (SMTP).
        Email = "email",
        /// A signed HTTP POST to the shop's own endpoint.
        Webhook = "webhook",
        /// Kept in the shop only, for a demo: the dashboard shows what would have been sent.
        Log = "log",
    }
);

string_enum!(
    /// Where a delivery stands.
    DeliveryState, "message state" {
        /// Waiting to be sent (again), at `next_attempt_at`.
        Pending = "pending",
        /// The channel accepted it.
        Sent = "sent",
        /// It kept failing, or failed for good: an admin may retry it.
        Dead = "dead",
        /// Not sent on purpose (the customer opted out of the channel).
        Skipped = "skipped",
    }
);

/// What a notification needs to know about the change that caused it: a snapshot of the
/// order as the change left it, so messages rendered later say what was true then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDetails {
    /// What happened.
    pub kind: NoticeKind,
    /// The order's number.
    pub order_number: OrderNumber,
    /// The customer's name as given.
    pub customer_name: String,
    /// The customer's phone.
    pub phone: Msisdn,
    /// The language the customer checked out in.
    pub language: Language,
    /// The order's total.
    pub total: Money,
    /// The order's status after the change.
    pub status: OrderStatus,
    /// Its status before, for a status move.
    pub previous_status: Option<OrderStatus>,
    /// The M-Pesa receipt (or other provider's transaction code), for a payment.
    pub receipt: Option<String>,
    /// The amount paid, for a payment.
    pub amount: Option<Money>,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl EventDetails {
    fn of(kind: NoticeKind, order: &Order, at: OffsetDateTime) -> Self {
        EventDetails {
            kind,
            order_number: order.number.clone(),
            customer_name: order.customer.name.clone(),
            phone: order.customer.phone.clone(),
            language: order.language,
            total: order.total,
            status: order.status,
            previous_status: None,
            receipt: None,
            amount: None,
            at,
        }
    }
}

/// One event in the outbox, as a store writes it inside the transaction of its change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// Its id.
    pub id: OutboxId,
    /// What it says.
    pub details: EventDetails,
}

impl OutboxEvent {
    /// The event of a newly placed order (`order` as placed). Not for a replay.
    pub fn placed(order: &Order) -> Self {
        OutboxEvent {
            id: OutboxId::new(),
            details: EventDetails::of(NoticeKind::OrderPlaced, order, order.created_at),
        }
    }

    /// The event of a status move (by an admin, or expiry), given the order after it and the
    /// update written; `None` for a move to paid (a payment's event tells that) or an update
    /// that keeps the status (a payment flag).
    pub fn moved(order: &Order, update: &OrderUpdate) -> Option<Self> {
        if update.from == update.to || update.to == OrderStatus::Paid {
            return None;
        }
        let mut details = EventDetails::of(NoticeKind::StatusChanged, order, update.entry.at);
        details.previous_status = Some(update.from);
        Some(OutboxEvent {
            id: OutboxId::new(),
            details,
        })
    }

    /// The event of a payment result that was applied, given the payment and the order after
    /// it: succeeded or failed; `None` while the payment is still in flight.
    pub fn settled(order: &Order, payment: &Payment) -> Option<Self> {
        let kind = match payment.status {
            PaymentStatus::Succeeded => NoticeKind::PaymentSucceeded,
            PaymentStatus::Failed | PaymentStatus::Cancelled | PaymentStatus::TimedOut => {
                NoticeKind::PaymentFailed
            }
            _ => return None,
        };
        let mut details = EventDetails::of(kind, order, payment.updated_at);
        details.receipt = payment.receipt.as_ref().map(|r| r.as_str().to_owned());
        details.amount = Some(payment.amount);
        Some(OutboxEvent {
            id: OutboxId::new(),
            details,
        })
    }
}

impl OutboxEvent {
    /// The event of a refund change, given the order, the refund before it and after it: the
    /// money was sent back (by an admin's hand or the provider's result), with its reference as
    /// the receipt and its amount; `None` for any other change (owed, sending, failed, or a
    /// refund that was already refunded).
    pub fn refund_sent(order: &Order, before: &Refund, after: &Refund) -> Option<Self> {
        if before.status == RefundStatus::Refunded || after.status != RefundStatus::Refunded {
            return None;
        }
        let mut details = EventDetails::of(NoticeKind::RefundSent, order, after.updated_at);
        details.receipt = after.reference.clone();
        details.amount = Some(after.amount);
        Some(OutboxEvent {
            id: OutboxId::new(),
            details,
        })
    }
}

/// A message the dispatcher made from an event, for a store to insert (see
/// [`Store::expand_outbox_event`](crate::Store::expand_outbox_event)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// Its id, the idempotency key channels receive.
    pub id: DeliveryId,
    /// The channel it goes by.
    pub channel: ChannelKind,
    /// Who it is for.
    pub audience: Audience,
    /// The message.
    pub message: MessageContent,
    /// `Pending`, or `Skipped` (kept to show the owner it was not sent, and why).
    pub state: DeliveryState,
    /// Why it was skipped, when it was.
    pub skipped_because: Option<String>,
}

/// What a message says and to whom: everything a channel needs to send it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageContent {
    /// The address: a phone in international form (`+254712345678`) for SMS and WhatsApp, its
    /// digits for the log channel, an e-mail address, or a webhook URL.
    pub to: String,
    /// The language it is written in.
    pub language: Language,
    /// The template it was rendered from (`order_placed`, `owner_payment_succeeded`, …): the
    /// WhatsApp template name.
    pub template: String,
    /// The template's parameters in order (WhatsApp fills its approved template with them).
    pub params: Vec<String>,
    /// A subject line (e-mail).
    pub subject: Option<String>,
    /// The text (for a webhook: the JSON document to POST).
    pub body: String,
}

/// A message as stored, with where it stands (as the admin's API shows it: camelCase JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Its id.
    pub id: DeliveryId,
    /// The event it was made from.
    pub event: OutboxId,
    /// The order it is about.
    pub order_number: OrderNumber,
    /// What the event was.
    pub kind: NoticeKind,
    /// The channel.
    pub channel: ChannelKind,
    /// Who it is for.
    pub audience: Audience,
    /// The message.
    pub message: MessageContent,
    /// Where it stands.
    pub state: DeliveryState,
    /// Send attempts so far (a claim counts as one).
    pub attempts: u32,
    /// When it may be sent (again), while pending.
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    /// The last error's stable code (`rate_limited`, `invalid_recipient`, …) and its
    /// description, free of personal data; or why it was skipped.
    pub last_error: Option<String>,
    /// The channel's own id for the sent message.
    pub provider_ref: Option<String>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the channel accepted it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
}

impl Delivery {
    /// The key lists of deliveries are ordered by (newest first).
    pub fn key(&self) -> DeliveryKey {
        DeliveryKey {
            created_at: self.created_at,
            id: self.id,
        }
    }

    /// What a channel is handed to send it.
    pub fn outgoing(&self) -> OutgoingMessage {
        OutgoingMessage {
            id: self.id,
            kind: self.kind,
            order_number: self.order_number.clone(),
            audience: self.audience,
            content: self.message.clone(),
        }
    }
}

/// Where a page of deliveries continues: `(created_at, id)` descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryKey {
    /// The last row's creation time.
    pub created_at: OffsetDateTime,
    /// The last row's id.
    pub id: DeliveryId,
}

/// Which deliveries a list shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryFilter {
    /// Only those in this state.
    pub state: Option<DeliveryState>,
    /// Only those about this order.
    pub order: Option<OrderNumber>,
}

/// A claim on due deliveries by one dispatcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryClaim {
    /// Who claims (unique per dispatcher: a process id and a random part).
    pub worker: String,
    /// Now: pending deliveries with `next_attempt_at <= now` and no live lease are due.
    pub now: OffsetDateTime,
    /// Until when the claim holds; after it another dispatcher may take the delivery.
    pub lease_until: OffsetDateTime,
    /// At most this many.
    pub limit: usize,
}

/// What came of sending a claimed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The channel accepted it.
    Sent {
        /// When.
        at: OffsetDateTime,
        /// The channel's own id for it.
        provider_ref: Option<String>,
    },
    /// It failed; try again at `next_attempt_at`.
    Retry {
        /// When to try again.
        next_attempt_at: OffsetDateTime,
        /// The error's code and description (no personal data).
        error: String,
    },
    /// It failed for good (or too often): keep it for an admin.
    Dead {
        /// The error's code and description (no personal data).
        error: String,
    },
}

/// A message handed to a [`Channel`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The delivery's id: the idempotency key, where the channel accepts one.
    pub id: DeliveryId,
    /// What happened.
    pub kind: NoticeKind,
    /// The order it is about.
    pub order_number: OrderNumber,
    /// Who it is for.
    pub audience: Audience,
    /// What it says, and to whom.
    pub content: MessageContent,
}

/// What a channel answers when it accepted a message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SentMessage {
    /// The service's id for the message, if it gives one.
    pub provider_ref: Option<String>,
}

/// Why a channel could not send a message. Its text never holds the recipient or the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The service refused this message and will refuse it again (an invalid number, a
    /// template it does not know, a recipient who blocked the sender): not retried.
    #[error("{code}: {detail}")]
    Permanent {
        /// A stable code (`invalid_recipient`, `rejected`, `unauthorized`, …).
        code: &'static str,
        /// What the service said, without personal data.
        detail: String,
    },
    /// It may work later (a timeout, the service down, rate limited, the account's balance
    /// too low): retried with backoff, sooner than `retry_after` never.
    #[error("{code}: {detail}")]
    Transient {
        /// A stable code (`timeout`, `unavailable`, `rate_limited`, `insufficient_balance`, …).
        code: &'static str,
        /// What the service said, without personal data.
        detail: String,
        /// What the service asked to wait, if it said.
        retry_after: Option<Duration>,
    },
}

impl SendError {
    /// Its stable code.
    pub fn code(&self) -> &'static str {
        match self {
            SendError::Permanent { code, .. } | SendError::Transient { code, .. } => code,
        }
    }

    /// What the service asked to wait before trying again, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendError::Transient { retry_after, .. } => *retry_after,
            SendError::Permanent { .. } => None,
        }
    }

    /// Whether trying again later may work.
    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Transient { .. })
    }
}

/// A way of sending messages: SMS, WhatsApp, e-mail, a webhook. Adapters implement it; the
/// dispatcher calls it once per claimed delivery.
///
/// An implementation sends exactly what it is given, to `content.to`; passes `id` as the
/// idempotency key where the service accepts one; bounds its own time (a timeout is a
/// [`SendError::Transient`] `timeout`); and never logs the recipient or the text.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Channel: fmt::Debug + Send + Sync + 'static {
    /// The kind of channel it is.
    fn kind(&self) -> ChannelKind;

    /// Sends one message.
    async fn send(&self, message: &OutgoingMessage) -> Result<SentMessage, SendError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in NoticeKind::ALL {
            assert_eq!(kind.as_str().parse::<NoticeKind>().ok(), Some(*kind));
        }
        for channel in ChannelKind::ALL {
            assert_eq!(channel.as_str().parse::<ChannelKind>().ok(), Some(*channel));
        }
        for state in DeliveryState::ALL {
            assert_eq!(state.as_str().parse::<DeliveryState>().ok(), Some(*state));
        }
        assert!("sms ".parse::<ChannelKind>().is_err());
    }
}
