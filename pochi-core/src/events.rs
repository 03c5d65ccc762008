//! Events the shop publishes after a change is stored: for notifications, webhooks, metrics.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    ids::OrderNumber,
    order::{Order, OrderStatus},
    payment::{Payment, PaymentReview},
};

/// Something that happened in the shop.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShopEvent {
    /// A new order was placed (not on idempotent replays).
    OrderPlaced {
        /// The order.
        order: Box<Order>,
    },
    /// A payment succeeded.
    PaymentSucceeded {
        /// The payment.
        payment: Box<Payment>,
        /// Its order afterwards (paid, or flagged).
        order: Box<Order>,
    },
    /// A payment failed, was cancelled or timed out.
    PaymentFailed {
        /// The payment.
        payment: Box<Payment>,
    },
    /// An order changed status.
    OrderStatusChanged {
        /// The order.
        number: OrderNumber,
        /// Its old status.
        from: OrderStatus,
        /// Its new status.
        to: OrderStatus,
        /// When.
        at: OffsetDateTime,
    },
    /// A payment notice was kept for review.
    PaymentNeedsReview {
        /// The notice.
        review: Box<PaymentReview>,
    },
    /// A notification came to a callback URL with a wrong token and was refused (only a
    /// bounded sample of them is kept for review: see
    /// [`ShopConfig::refused_callbacks_kept_per_hour`](crate::ShopConfig)).
    CallbackRefused {
        /// The provider whose callback URL it came to.
        provider: String,
        /// Whether it was kept for review.
        kept: bool,
    },
}

/// Receives the shop's events. Publishing is best effort and must not fail the use case: a
/// sink handles its own errors.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventSink: std::fmt::Debug + Send + Sync + 'static {
    /// Handles one event.
    async fn publish(&self, event: &ShopEvent);
}

/// A sink that drops every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

#[async_trait]
impl EventSink for NoEvents {
    async fn publish(&self, _event: &ShopEvent) {}
}
