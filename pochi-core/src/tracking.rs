//! The public tracking view of an order: status, timeline, items and totals, with personal data
//! masked (anyone who knows an order number can see it).

use serde::Serialize;
use time::OffsetDateTime;

use crate::{
    county::County,
    ids::OrderNumber,
    money::Money,
    order::{Order, OrderStatus, customer_note},
    payment::{Payment, PaymentStatus, Receipt},
    refund::{Refund, RefundStatus},
};

/// An order as the tracking page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackedOrder {
    /// The order number.
    pub number: OrderNumber,
    /// Its status.
    pub status: OrderStatus,
    /// The customer's first name and initials (`Wanjiru K.`).
    pub customer_name: String,
    /// The phone with its middle hidden (`2547*****678`).
    pub customer_phone: String,
    /// County of delivery.
    pub county: County,
    /// Area of delivery (the street address is not shown).
    pub area: String,
    /// What was bought.
    pub items: Vec<TrackedItem>,
    /// Subtotal.
    pub subtotal: Money,
    /// Delivery fee.
    pub delivery_fee: Money,
    /// Total.
    pub total: Money,
    /// What happened, oldest first (who did it is not shown).
    pub timeline: Vec<TrackedEvent>,
    /// When it was placed.
    #[serde(with = "time::serde::rfc3339")]
    pub placed_at: OffsetDateTime,
    /// The M-Pesa receipts of the payments that went through, oldest first (by when the
    /// attempt was made, then by receipt).
    pub receipts: Vec<Receipt>,
    /// Whether a payment waits for the shop to check it (a manual M-Pesa code).
    pub awaiting_verification: bool,
    /// Whether the customer pays when the order arrives (a pay-on-delivery attempt waits for
    /// its cash).
    pub paying_on_delivery: bool,
    /// Money the shop owes back or paid back, oldest first (by when it became owed, then by
    /// amount, status and reference: what the page shows, so every store orders them alike).
    pub refunds: Vec<TrackedRefund>,
}

/// A refund as the tracking page shows it (no admin note).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackedRefund {
    /// How much.
    pub amount: Money,
    /// Where it stands (`failed` shows as still owed: the shop still owes it).
    pub status: RefundStatus,
    /// The M-Pesa code of the money sent back, once refunded.
    pub reference: Option<String>,
    /// When it became owed.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl TrackedRefund {
    /// The order the tracking page lists refunds in (see [`TrackedOrder::refunds`]).
    pub fn order(a: &TrackedRefund, b: &TrackedRefund) -> std::cmp::Ordering {
        let key = |r: &TrackedRefund| {
            (
                r.created_at,
                r.amount.amount(),
                r.status,
                r.reference.clone(),
            )
        };
        key(a).cmp(&key(b))
    }
}

impl From<&Refund> for TrackedRefund {
    fn from(refund: &Refund) -> Self {
        TrackedRefund {
            amount: refund.amount,
            status: refund.status.as_customer_sees(),
            reference: refund.reference.clone(),
            created_at: refund.created_at,
        }
    }
}

impl TrackedOrder {
    /// The view of `order` with the receipts of its succeeded `payments` (oldest first) and
    /// its `refunds`: what [`Store::tracked_order`](crate::Store::tracked_order) returns.
    pub fn of(order: &Order, payments: &[Payment], refunds: &[Refund]) -> Self {
        let mut refunds: Vec<TrackedRefund> = refunds.iter().map(TrackedRefund::from).collect();
        refunds.sort_by(TrackedRefund::order);
        let mut paid: Vec<&Payment> = payments
            .iter()
            .filter(|p| p.status == PaymentStatus::Succeeded && p.receipt.is_some())
            .collect();
        paid.sort_by(|a, b| (a.created_at, &a.receipt).cmp(&(b.created_at, &b.receipt)));
        TrackedOrder {
            receipts: paid.into_iter().filter_map(|p| p.receipt.clone()).collect(),
            awaiting_verification: payments.iter().any(|p| {
                p.status == PaymentStatus::PendingVerification
                    && !crate::on_delivery::awaits_cash(p)
            }),
            paying_on_delivery: payments.iter().any(crate::on_delivery::awaits_cash),
            refunds,
            ..TrackedOrder::from(order)
        }
    }
}

/// One item on the tracking page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackedItem {
    /// Product name as sold.
    pub name: String,
    /// Units.
    pub quantity: u32,
    /// Unit price as sold.
    pub unit_price: Money,
    /// Line total.
    pub line_total: Money,
}

/// One timeline entry on the tracking page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackedEvent {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Status after it.
    pub status: OrderStatus,
    /// What happened.
    pub note: String,
}

/// `Wanjiru Njeri Kamau` → `Wanjiru N. K.`
pub fn mask_name(name: &str) -> String {
    let mut words = name.split_whitespace();
    let Some(first) = words.next() else {
        return String::new();
    };
    let mut masked = first.to_owned();
    for word in words {
        if let Some(initial) = word.chars().next() {
            masked.push(' ');
            masked.extend(initial.to_uppercase());
            masked.push('.');
        }
    }
    masked
}

/// The view of an order without its payments (no receipts): see [`TrackedOrder::of`].
impl From<&Order> for TrackedOrder {
    fn from(order: &Order) -> Self {
        TrackedOrder {
            number: order.number.clone(),
            status: order.status,
            customer_name: mask_name(&order.customer.name),
            customer_phone: order.customer.phone.masked(),
            county: order.delivery.county,
            area: order.delivery.area.clone(),
            items: order
                .lines
                .iter()
                .map(|line| TrackedItem {
                    name: line.name.clone(),
                    quantity: line.quantity,
                    unit_price: line.unit_price,
                    line_total: line.line_total,
                })
                .collect(),
            subtotal: order.subtotal,
            delivery_fee: order.delivery_fee,
            total: order.total,
            timeline: order
                .timeline
                .iter()
                .map(|entry| TrackedEvent {
                    at: entry.at,
                    status: entry.status,
                    note: if entry.for_customer {
                        entry.note.clone()
                    } else {
                        customer_note(entry.status).to_owned()
                    },
                })
                .collect(),
            placed_at: order.created_at,
            receipts: Vec::new(),
            awaiting_verification: false,
            paying_on_delivery: false,
            refunds: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_the_first_word_and_initials() {
        assert_eq!(mask_name("Wanjiru Njeri Kamau"), "Wanjiru N. K.");
        assert_eq!(mask_name("  Otieno  "), "Otieno");
        assert_eq!(mask_name("Ñandú élan"), "Ñandú É.");
        assert_eq!(mask_name(""), "");
    }
}
