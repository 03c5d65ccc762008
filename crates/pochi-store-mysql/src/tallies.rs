//! The pre-aggregated figures behind the statistics (`order_tallies`, `product_tallies`,
//! `paid_tallies`; see `migrations/0002_tallies.sql`), changed in the transaction that places
//! or moves an order.
//!
//! A transaction collects its changes in a [`TallyChanges`] (pochi-core's bookkeeping) and
//! writes them last, after its order, payment and product rows, one statement per table with
//! the rows in key order: every transaction takes tally row locks in the same order (and after
//! the product locks), so none deadlocks on them.

use pochi_core::tally::TallyChanges;
use sqlx::{MySql, MySqlConnection, QueryBuilder};

use crate::error::DbResult;

/// Writes `changes`: at most one statement per table, rows in key order.
pub(crate) async fn write(conn: &mut MySqlConnection, changes: &TallyChanges) -> DbResult<()> {
    let orders: Vec<_> = changes.order_rows().collect();
    if !orders.is_empty() {
        let mut query = QueryBuilder::<MySql>::new(
            "INSERT INTO order_tallies (status, currency, slot, orders, total) ",
        );
        query.push_values(&orders, |mut row, (key, delta)| {
            row.push_bind(key.status.as_str())
                .push_bind(key.currency.code())
                .push_bind(key.slot)
                .push_bind(delta.count)
                .push_bind(delta.amount);
        });
        query.push(
            " ON DUPLICATE KEY UPDATE orders = orders + VALUES(orders), \
             total = total + VALUES(total)",
        );
        query.build().execute(&mut *conn).await?;
    }
    let products: Vec<_> = changes.product_rows().collect();
    if !products.is_empty() {
        let mut query = QueryBuilder::<MySql>::new(
            "INSERT INTO product_tallies (product_id, status, currency, quantity, revenue) ",
        );
        query.push_values(&products, |mut row, (key, delta)| {
            row.push_bind(key.product.as_uuid())
                .push_bind(key.status.as_str())
                .push_bind(key.currency.code())
                .push_bind(delta.count)
                .push_bind(delta.amount);
        });
        query.push(
            " ON DUPLICATE KEY UPDATE quantity = quantity + VALUES(quantity), \
             revenue = revenue + VALUES(revenue)",
        );
        query.build().execute(&mut *conn).await?;
    }
    let paid: Vec<_> = changes.paid_rows().collect();
    if !paid.is_empty() {
        let mut query = QueryBuilder::<MySql>::new(
            "INSERT INTO paid_tallies (day, status, currency, slot, orders, total) ",
        );
        query.push_values(&paid, |mut row, (key, delta)| {
            row.push_bind(key.day)
                .push_bind(key.status.as_str())
                .push_bind(key.currency.code())
                .push_bind(key.slot)
                .push_bind(delta.count)
                .push_bind(delta.amount);
        });
        query.push(
            " ON DUPLICATE KEY UPDATE orders = orders + VALUES(orders), \
             total = total + VALUES(total)",
        );
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}
