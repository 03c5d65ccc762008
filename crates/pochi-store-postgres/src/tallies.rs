//! The pre-aggregated figures behind the statistics (`order_tallies`, `product_tallies`,
//! `paid_tallies`; see `migrations/0002_tallies.sql`), changed in the transaction that places
//! or moves an order.
//!
//! A transaction collects its changes in a [`Tallies`] and writes them last, after its order,
//! payment and product rows, one statement per table with the rows in key order: every
//! transaction takes tally row locks in the same order (and after the product locks), so none
//! deadlocks on them.

use std::collections::BTreeMap;

use pochi_core::{Order, OrderStatus};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::error::DbResult;

/// The slots order tallies are spread over (`CHECK (slot < 16)` in the schema).
const SLOTS: u8 = 16;

/// An order's slot: its number's last byte modulo [`SLOTS`], as the migration computes it with
/// `ascii(right(number, 1)) % 16`.
fn slot(order: &Order) -> i16 {
    let last = order.number.as_str().bytes().last().unwrap_or(0);
    i16::from(last % SLOTS)
}

/// The UTC day of a payment time.
pub(crate) fn utc_day(at: OffsetDateTime) -> Date {
    at.to_offset(UtcOffset::UTC).date()
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Delta {
    count: i64,
    amount: Decimal,
}

impl Delta {
    fn add(&mut self, count: i64, amount: Decimal) {
        self.count += count;
        self.amount += amount;
    }

    fn is_zero(&self) -> bool {
        self.count == 0 && self.amount.is_zero()
    }
}

/// Changes to the tallies, by row key.
#[derive(Debug, Default)]
pub(crate) struct Tallies {
    orders: BTreeMap<(&'static str, &'static str, i16), Delta>,
    products: BTreeMap<(Uuid, &'static str, &'static str), Delta>,
    paid: BTreeMap<(Date, &'static str, &'static str, i16), Delta>,
}

impl Tallies {
    /// Counts a new order in its status.
    pub(crate) fn placed(&mut self, order: &Order) {
        self.count(order, order.status, order.paid_at, 1);
    }

    /// Moves an order's figures from the status and payment time it had to the ones it has.
    pub(crate) fn moved(
        &mut self,
        from: OrderStatus,
        paid_at_before: Option<OffsetDateTime>,
        order: &Order,
    ) {
        if from == order.status && paid_at_before == order.paid_at {
            return;
        }
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
        let currency = order.total.currency().code();
        let status = status.as_str();
        let signed = |amount: Decimal| amount * Decimal::from(sign);
        let slot = slot(order);
        self.orders
            .entry((status, currency, slot))
            .or_default()
            .add(sign, signed(order.total.amount()));
        for line in &order.lines {
            self.products
                .entry((line.product_id.as_uuid(), status, currency))
                .or_default()
                .add(
                    sign * i64::from(line.quantity),
                    signed(line.line_total.amount()),
                );
        }
        if let Some(paid_at) = paid_at {
            self.paid
                .entry((utc_day(paid_at), status, currency, slot))
                .or_default()
                .add(sign, signed(order.total.amount()));
        }
    }

    /// Writes the changes: at most one statement per table, rows in key order.
    pub(crate) async fn write(mut self, conn: &mut PgConnection) -> DbResult<()> {
        self.orders.retain(|_, delta| !delta.is_zero());
        self.products.retain(|_, delta| !delta.is_zero());
        self.paid.retain(|_, delta| !delta.is_zero());
        if !self.orders.is_empty() {
            let mut query = QueryBuilder::<Postgres>::new(
                "INSERT INTO order_tallies AS t (status, currency, slot, orders, total) ",
            );
            query.push_values(
                &self.orders,
                |mut row, ((status, currency, slot), delta)| {
                    row.push_bind(*status)
                        .push_bind(*currency)
                        .push_bind(*slot)
                        .push_bind(delta.count)
                        .push_bind(delta.amount);
                },
            );
            query.push(
                " ON CONFLICT (status, currency, slot) DO UPDATE SET \
                 orders = t.orders + EXCLUDED.orders, total = t.total + EXCLUDED.total",
            );
            query.build().execute(&mut *conn).await?;
        }
        if !self.products.is_empty() {
            let mut query = QueryBuilder::<Postgres>::new(
                "INSERT INTO product_tallies AS t (product_id, status, currency, quantity, \
                 revenue) ",
            );
            query.push_values(
                &self.products,
                |mut row, ((product, status, currency), delta)| {
                    row.push_bind(*product)
                        .push_bind(*status)
                        .push_bind(*currency)
                        .push_bind(delta.count)
                        .push_bind(delta.amount);
                },
            );
            query.push(
                " ON CONFLICT (product_id, status, currency) DO UPDATE SET \
                 quantity = t.quantity + EXCLUDED.quantity, \
                 revenue = t.revenue + EXCLUDED.revenue",
            );
            query.build().execute(&mut *conn).await?;
        }
        if !self.paid.is_empty() {
            let mut query = QueryBuilder::<Postgres>::new(
                "INSERT INTO paid_tallies AS t (day, status, currency, slot, orders, total) ",
            );
            query.push_values(
                &self.paid,
                |mut row, ((day, status, currency, slot), delta)| {
                    row.push_bind(*day)
                        .push_bind(*status)
                        .push_bind(*currency)
                        .push_bind(*slot)
                        .push_bind(delta.count)
                        .push_bind(delta.amount);
                },
            );
            query.push(
                " ON CONFLICT (day, status, currency, slot) DO UPDATE SET \
                 orders = t.orders + EXCLUDED.orders, total = t.total + EXCLUDED.total",
            );
            query.build().execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// Recomputes every tally from the orders, with writes to orders held off meanwhile: for a
/// database whose orders were changed by hand. The same statements as the migration's.
pub(crate) async fn recount(conn: &mut PgConnection) -> DbResult<()> {
    const STATEMENTS: [&str; 7] = [
        // Placing and moving orders waits until the recount commits.
        "LOCK TABLE orders, order_lines IN SHARE MODE",
        "DELETE FROM order_tallies",
        "DELETE FROM product_tallies",
        "DELETE FROM paid_tallies",
        "INSERT INTO order_tallies (status, currency, slot, orders, total) \
         SELECT status, currency, ascii(right(number, 1)) % 16, COUNT(*), SUM(total) \
         FROM orders GROUP BY status, currency, ascii(right(number, 1)) % 16",
        "INSERT INTO product_tallies (product_id, status, currency, quantity, revenue) \
         SELECT l.product_id, o.status, l.currency, SUM(l.quantity), SUM(l.line_total) \
         FROM order_lines l JOIN orders o ON o.number = l.order_number \
         GROUP BY l.product_id, o.status, l.currency",
        "INSERT INTO paid_tallies (day, status, currency, slot, orders, total) \
         SELECT (paid_at AT TIME ZONE 'UTC')::date, status, currency, \
         ascii(right(number, 1)) % 16, COUNT(*), SUM(total) \
         FROM orders WHERE paid_at IS NOT NULL \
         GROUP BY (paid_at AT TIME ZONE 'UTC')::date, status, currency, \
         ascii(right(number, 1)) % 16",
    ];
    for statement in STATEMENTS {
        sqlx::query(statement).execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use pochi_core::{OrderStatus, Trigger};
    use pochi_testkit::fixtures::{T0, checkout, move_by, new_order, order_number, product};

    use super::*;

    fn order() -> Order {
        let a = product("A", "100", None);
        let b = product("B", "250.50", Some(4));
        new_order(
            order_number(),
            &checkout(&[(&a, 2), (&b, 1)]),
            &[a.clone(), b.clone()],
            T0,
        )
        .order
    }

    #[test]
    fn a_placed_order_counts_once_in_its_status_and_each_product() {
        let order = order();
        let mut tallies = Tallies::default();
        tallies.placed(&order);

        let slot = slot(&order);
        assert_eq!(
            tallies.orders.get(&("pending_payment", "KES", slot)),
            Some(&Delta {
                count: 1,
                amount: order.total.amount()
            })
        );
        assert_eq!(tallies.products.len(), 2);
        let first = &order.lines[0];
        assert_eq!(
            tallies
                .products
                .get(&(first.product_id.as_uuid(), "pending_payment", "KES")),
            Some(&Delta {
                count: 2,
                amount: first.line_total.amount()
            })
        );
        assert!(tallies.paid.is_empty());
    }

    #[test]
    fn paying_moves_the_figures_and_counts_the_payment_day() {
        let mut order = order();
        let paid_at = T0 + time::Duration::hours(30);
        let update = order
            .plan_move(&move_by(OrderStatus::Paid, Trigger::Payment, paid_at))
            .unwrap();
        order.apply(&update);

        let mut tallies = Tallies::default();
        tallies.moved(OrderStatus::PendingPayment, None, &order);

        let slot = slot(&order);
        let total = order.total.amount();
        assert_eq!(
            tallies.orders.get(&("pending_payment", "KES", slot)),
            Some(&Delta {
                count: -1,
                amount: -total
            })
        );
        assert_eq!(
            tallies.orders.get(&("paid", "KES", slot)),
            Some(&Delta {
                count: 1,
                amount: total
            })
        );
        assert_eq!(
            tallies.paid.get(&(utc_day(paid_at), "paid", "KES", slot)),
            Some(&Delta {
                count: 1,
                amount: total
            })
        );
        assert_eq!(tallies.paid.len(), 1);
    }

    #[test]
    fn a_move_that_changes_neither_status_nor_payment_time_changes_nothing() {
        let order = order();
        let mut tallies = Tallies::default();
        tallies.moved(order.status, order.paid_at, &order);
        assert!(tallies.orders.is_empty() && tallies.products.is_empty());
    }

    #[test]
    fn the_slot_is_the_last_byte_of_the_number_modulo_16() {
        let order = order();
        let last = *order.number.as_str().as_bytes().last().unwrap();
        assert_eq!(slot(&order), i16::from(last % 16));
        assert!((0..16).contains(&slot(&order)));
    }
}
