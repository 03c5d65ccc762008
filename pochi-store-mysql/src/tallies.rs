//! The pre-aggregated figures behind the statistics (`order_tallies`, `product_tallies`,
//! `paid_tallies`; see `migrations/0002_tallies.sql`), changed in the transaction that places
//! or moves an order.
//!
//! A transaction collects its changes in a [`TallyChanges`] (pochi-core's bookkeeping) and
//! writes them last, after its order, payment and product rows, one statement per table with
//! the rows in key order: every transaction takes tally row locks in the same order (and after
//! the product locks), so none deadlocks on them.

use pochi_core::tally::TallyChanges;
use sqlx::{MySql, MySqlConnection, QueryBuilder, query_builder::Separated};

use crate::error::DbResult;

/// Writes `changes`: at most one statement per table, rows in key order.
pub(crate) async fn write(conn: &mut MySqlConnection, changes: &TallyChanges) -> DbResult<()> {
    upsert(
        conn,
        "INSERT INTO order_tallies (status, currency, slot, orders, total) ",
        changes.order_rows(),
        |mut row, (key, delta)| {
            row.push_bind(key.status.as_str())
                .push_bind(key.currency.code())
                .push_bind(key.slot)
                .push_bind(delta.count)
                .push_bind(delta.amount);
        },
        "orders = orders + VALUES(orders), total = total + VALUES(total)",
    )
    .await?;
    upsert(
        conn,
        "INSERT INTO product_tallies (product_id, status, currency, quantity, revenue) ",
        changes.product_rows(),
        |mut row, (key, delta)| {
            row.push_bind(key.product.as_uuid())
                .push_bind(key.status.as_str())
                .push_bind(key.currency.code())
                .push_bind(delta.count)
                .push_bind(delta.amount);
        },
        "quantity = quantity + VALUES(quantity), revenue = revenue + VALUES(revenue)",
    )
    .await?;
    upsert(
        conn,
        "INSERT INTO paid_tallies (day, status, currency, slot, orders, total) ",
        changes.paid_rows(),
        |mut row, (key, delta)| {
            row.push_bind(key.day)
                .push_bind(key.status.as_str())
                .push_bind(key.currency.code())
                .push_bind(key.slot)
                .push_bind(delta.count)
                .push_bind(delta.amount);
        },
        "orders = orders + VALUES(orders), total = total + VALUES(total)",
    )
    .await
}

/// Runs `insert`, one `VALUES` tuple per row (bound by `bind`), `ON DUPLICATE KEY UPDATE
/// update`; nothing when there are no rows.
async fn upsert<'args, T>(
    conn: &mut MySqlConnection,
    insert: &str,
    rows: impl Iterator<Item = T>,
    bind: impl FnMut(Separated<'_, 'args, MySql, &'static str>, T),
    update: &str,
) -> DbResult<()> {
    let mut rows = rows.peekable();
    if rows.peek().is_none() {
        return Ok(());
    }
    let mut query = QueryBuilder::<MySql>::new(insert);
    query.push_values(rows, bind);
    query.push(" ON DUPLICATE KEY UPDATE ").push(update);
    query.build().execute(&mut *conn).await?;
    Ok(())
}
