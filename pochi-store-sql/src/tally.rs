//! Changes to pre-aggregated order figures, for stores that keep them so that
//! [`Store::stats`](pochi_core::Store::stats) costs the same at a thousand orders and at a million.
//!
//! Bookkeeping only, no rule: which tally rows placing or moving an order changes, and by how
//! much. Three kinds of rows, each keyed by the order's status so any set of revenue statuses
//! can be added up:
//!
//! - **order rows** `(status, currency, slot)`: orders and their totals. Spread over [`SLOTS`]
//!   slots (an order's [`slot`] comes from its random number) so that concurrent orders rarely
//!   wait on one row; readers add the slots up;
//! - **product rows** `(product, status, currency)`: units and line totals sold;
//! - **paid rows** `(UTC day of payment, status, currency, slot)`: paid orders and their totals,
//!   for revenue windows (whole days from here, the first partial day from the orders).
//!
//! [`TallyChanges`] iterates each kind in key order: a store that writes them in that order, and
//! after its other row locks, never deadlocks on them.
//!
//! ```
//! use pochi_store_sql::tally::TallyChanges;
//! # fn demo(order: &pochi_core::Order) {
//! let mut changes = TallyChanges::default();
//! changes.placed(order);
//! for (key, delta) in changes.order_rows() {
//!     // UPDATE order_tallies SET orders = orders + delta.count, total = total + delta.amount
//!     // WHERE status = key.status AND currency = key.currency AND slot = key.slot
//!     # let _ = (key, delta);
//! }
//! # }
//! ```

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use time::{Date, OffsetDateTime, UtcOffset};

use pochi_core::{Currency, Order, OrderNumber, OrderStatus, ProductId};

/// How many slots order and paid rows are spread over.
pub const SLOTS: u8 = 16;

/// An order's slot: its number's last byte modulo [`SLOTS`] (in SQL,
/// `ascii(right(number, 1)) % 16`). Every change to one order's figures touches the same slot.
pub fn slot(number: &OrderNumber) -> u8 {
    number.as_str().bytes().last().unwrap_or(0) % SLOTS
}

/// The UTC day of `at`, which paid rows are kept by.
pub fn utc_day(at: OffsetDateTime) -> Date {
    at.to_offset(UtcOffset::UTC).date()
}

/// How a revenue window from `since` splits: whole UTC days from the returned date on (read
/// from paid rows), and the orders paid from `since` up to the returned instant (the window's
/// first, partial day: empty when `since` is a UTC midnight). `None` on the last day the
/// calendar can represent.
pub fn window_split(since: OffsetDateTime) -> Option<(Date, OffsetDateTime)> {
    let since = since.to_offset(UtcOffset::UTC);
    let day = since.date();
    if since.time() == time::Time::MIDNIGHT {
        return Some((day, since));
    }
    let next = day.next_day()?;
    Some((next, next.midnight().assume_utc()))
}

/// What to add to one row: a count (orders, or units for product rows) and an amount. Either
/// may be negative.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TallyDelta {
    /// Orders (order and paid rows) or units (product rows).
    pub count: i64,
    /// Order totals (order and paid rows) or line totals (product rows).
    pub amount: Decimal,
}

impl TallyDelta {
    fn add(&mut self, count: i64, amount: Decimal) {
        self.count += count;
        self.amount += amount;
    }

    fn is_zero(&self) -> bool {
        self.count == 0 && self.amount.is_zero()
    }
}

/// The key of an order row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OrderTallyKey {
    /// The orders' status.
    pub status: OrderStatus,
    /// Their currency.
    pub currency: Currency,
    /// The slot, below [`SLOTS`].
    pub slot: u8,
}

/// The key of a product row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProductTallyKey {
    /// The product sold.
    pub product: ProductId,
    /// The status of the orders it was sold in.
    pub status: OrderStatus,
    /// The currency it was sold in.
    pub currency: Currency,
}

/// The key of a paid row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PaidTallyKey {
    /// The UTC day the orders were paid.
    pub day: Date,
    /// Their status now.
    pub status: OrderStatus,
    /// Their currency.
    pub currency: Currency,
    /// The slot, below [`SLOTS`].
    pub slot: u8,
}

/// The tally changes of one transaction.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TallyChanges {
    orders: BTreeMap<OrderTallyKey, TallyDelta>,
    products: BTreeMap<ProductTallyKey, TallyDelta>,
    paid: BTreeMap<PaidTallyKey, TallyDelta>,
}

impl TallyChanges {
    /// Counts a new order in its status.
    pub fn placed(&mut self, order: &Order) {
        self.count(order, order.status, order.paid_at, 1);
    }

    /// Moves `order`'s figures from the status and payment time it had (`from`,
    /// `paid_at_before`) to the ones it has now.
    pub fn moved(
        &mut self,
        from: OrderStatus,
        paid_at_before: Option<OffsetDateTime>,
        order: &Order,
    ) {
        self.count(order, from, paid_at_before, -1);
        self.count(order, order.status, order.paid_at, 1);
    }

    fn count(
        &mut self,
        order: &Order,
        status: OrderStatus,
        paid_at: Option<OffsetDateTime>,
        sign: i64,
    ) {
        let currency = order.total.currency();
        let slot = slot(&order.number);
        let signed = |amount: Decimal| amount * Decimal::from(sign);
        self.orders
            .entry(OrderTallyKey {
                status,
                currency,
                slot,
            })
            .or_default()
            .add(sign, signed(order.total.amount()));
        for line in &order.lines {
            self.products
                .entry(ProductTallyKey {
                    product: line.product_id,
                    status,
                    currency: line.line_total.currency(),
                })
                .or_default()
                .add(
                    sign * i64::from(line.quantity),
                    signed(line.line_total.amount()),
                );
        }
        if let Some(paid_at) = paid_at {
            self.paid
                .entry(PaidTallyKey {
                    day: utc_day(paid_at),
                    status,
                    currency,
                    slot,
                })
                .or_default()
                .add(sign, signed(order.total.amount()));
        }
    }

    /// The order rows that change, in key order.
    pub fn order_rows(&self) -> impl Iterator<Item = (OrderTallyKey, TallyDelta)> + '_ {
        non_zero(&self.orders)
    }

    /// The product rows that change, in key order.
    pub fn product_rows(&self) -> impl Iterator<Item = (ProductTallyKey, TallyDelta)> + '_ {
        non_zero(&self.products)
    }

    /// The paid rows that change, in key order.
    pub fn paid_rows(&self) -> impl Iterator<Item = (PaidTallyKey, TallyDelta)> + '_ {
        non_zero(&self.paid)
    }
}

fn non_zero<K: Copy>(rows: &BTreeMap<K, TallyDelta>) -> impl Iterator<Item = (K, TallyDelta)> + '_ {
    rows.iter()
        .filter(|(_, delta)| !delta.is_zero())
        .map(|(key, delta)| (*key, *delta))
}

#[cfg(test)]
mod tests {
    use pochi_core::{Actor, StatusChange, Trigger};
    use pochi_testkit::fixtures::{T0, checkout, new_order, order_number, product};
    use time::macros::datetime;

    use super::*;

    /// An unpaid order: 1 × a product at 1500, 3 × another at 200.
    fn order_of_two_lines() -> Order {
        let kikoi = product("Kikoi", "1500", None);
        let kiondo = product("Kiondo", "200", None);
        let catalogue = [kikoi.clone(), kiondo.clone()];
        new_order(
            order_number(),
            &checkout(&[(&kikoi, 1), (&kiondo, 3)]),
            &catalogue,
            T0,
        )
        .order
    }

    fn paid(order: &mut Order, at: OffsetDateTime) {
        let update = order
            .plan_move(&StatusChange {
                to: OrderStatus::Paid,
                trigger: Trigger::Payment,
                actor: Actor::System,
                note: None,
                note_for_customer: true,
                at,
            })
            .unwrap();
        order.apply(&update);
    }

    #[test]
    fn a_placed_order_counts_once_in_its_status_and_each_product() {
        let order = order_of_two_lines();
        let mut changes = TallyChanges::default();
        changes.placed(&order);

        let rows: Vec<_> = changes.order_rows().collect();
        assert_eq!(
            rows,
            vec![(
                OrderTallyKey {
                    status: OrderStatus::PendingPayment,
                    currency: Currency::Kes,
                    slot: slot(&order.number)
                },
                TallyDelta {
                    count: 1,
                    amount: order.total.amount()
                }
            )]
        );
        let products: Vec<_> = changes
            .product_rows()
            .map(|(key, delta)| (key.product, key.status, delta.count))
            .collect();
        let mut expected: Vec<_> = order
            .lines
            .iter()
            .map(|l| {
                (
                    l.product_id,
                    OrderStatus::PendingPayment,
                    i64::from(l.quantity),
                )
            })
            .collect();
        expected.sort();
        assert_eq!(products, expected);
        assert_eq!(changes.paid_rows().count(), 0);
    }

    #[test]
    fn paying_moves_the_figures_and_counts_the_utc_day_of_payment() {
        let mut order = order_of_two_lines();
        // 23:30 in Nairobi is 20:30 UTC, the same day.
        let at = datetime!(2026-03-02 23:30 +03:00);
        paid(&mut order, at);
        let mut changes = TallyChanges::default();
        changes.moved(OrderStatus::PendingPayment, None, &order);

        let total = order.total.amount();
        let rows: Vec<_> = changes
            .order_rows()
            .map(|(key, delta)| (key.status, delta.count, delta.amount))
            .collect();
        assert_eq!(
            rows,
            vec![
                (OrderStatus::PendingPayment, -1, -total),
                (OrderStatus::Paid, 1, total)
            ]
        );
        let paid_rows: Vec<_> = changes
            .paid_rows()
            .map(|(key, delta)| (key.day, key.status, delta.count))
            .collect();
        assert_eq!(
            paid_rows,
            vec![(datetime!(2026-03-02 20:30 UTC).date(), OrderStatus::Paid, 1)]
        );
    }

    #[test]
    fn a_move_to_the_same_status_and_payment_time_changes_nothing() {
        let order = order_of_two_lines();
        let mut changes = TallyChanges::default();
        changes.moved(order.status, order.paid_at, &order);
        assert_eq!(changes.order_rows().count(), 0);
        assert_eq!(changes.product_rows().count(), 0);
    }

    #[test]
    fn a_window_splits_into_its_partial_first_day_and_whole_days_after() {
        // Since midnight in Nairobi: 21:00 UTC the day before, then whole days from the 2nd.
        let since = datetime!(2026-03-02 00:00 +03:00);
        assert_eq!(
            window_split(since),
            Some((
                datetime!(2026-03-02 00:00 UTC).date(),
                datetime!(2026-03-02 00:00 UTC)
            ))
        );
        // A UTC midnight has no partial day.
        let midnight = datetime!(2026-03-02 00:00 UTC);
        assert_eq!(window_split(midnight), Some((midnight.date(), midnight)));
    }

    #[test]
    fn the_slot_is_the_last_byte_of_the_number_modulo_16() {
        let order = order_of_two_lines();
        let last = *order.number.as_str().as_bytes().last().unwrap();
        assert_eq!(slot(&order.number), last % 16);
        assert!(slot(&order.number) < SLOTS);
    }
}
