//! The pre-aggregated figures behind the statistics (`order_tallies`, `product_tallies`,
//! `paid_tallies`; see `migrations/0002_tallies.sql`), changed in the transaction that places
//! or moves an order.
//!
//! A transaction collects its changes in a [`TallyChanges`] (pochi-core's bookkeeping) and
//! writes them last, after its order, payment and product rows, in one statement whose CTEs
//! take the tables and their rows in one fixed order: every transaction takes tally row locks
//! in the same order (and after the product locks), so none deadlocks on them. Placing an
//! order writes its lines and timeline in that same statement: one round trip while it holds
//! the lock on a product's stock, instead of four.

use pochi_core::tally::TallyChanges;
use sqlx::{PgConnection, Postgres, QueryBuilder, query_builder::Separated};

use crate::error::DbResult;

/// Writes `changes` in one statement (see [`push_ctes`]); nothing when there are none.
pub(crate) async fn write(conn: &mut PgConnection, changes: &TallyChanges) -> DbResult<()> {
    let mut query = QueryBuilder::<Postgres>::new("WITH ");
    if push_ctes(&mut query, changes, true) {
        query.push(" SELECT 1").build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Appends `changes` to a `WITH` list as data-modifying CTEs (`order_tally`, `product_tally`,
/// `paid_tally`, always in that order, each with its rows in key order), preceded by a comma
/// unless `first`. Every statement that changes tallies is built here, so all take their
/// tally row locks in the same order. Returns whether it appended anything.
pub(crate) fn push_ctes(
    query: &mut QueryBuilder<'_, Postgres>,
    changes: &TallyChanges,
    first: bool,
) -> bool {
    let mut cte = Cte { query, first };
    let orders = cte.push(
        "order_tally AS (INSERT INTO order_tallies AS t (status, currency, slot, orders, total) ",
        changes.order_rows(),
        |mut row, (key, delta)| {
            row.push_bind(key.status.as_str())
                .push_bind(key.currency.code())
                .push_bind(i16::from(key.slot))
                .push_bind(delta.count)
                .push_bind(delta.amount);
        },
        " ON CONFLICT (status, currency, slot) DO UPDATE SET \
         orders = t.orders + EXCLUDED.orders, total = t.total + EXCLUDED.total)",
    );
    let products = cte.push(
        "product_tally AS (INSERT INTO product_tallies AS t (product_id, status, currency, \
         quantity, revenue) ",
        changes.product_rows(),
        |mut row, (key, delta)| {
            row.push_bind(key.product.as_uuid())
                .push_bind(key.status.as_str())
                .push_bind(key.currency.code())
                .push_bind(delta.count)
                .push_bind(delta.amount);
        },
        " ON CONFLICT (product_id, status, currency) DO UPDATE SET \
         quantity = t.quantity + EXCLUDED.quantity, revenue = t.revenue + EXCLUDED.revenue)",
    );
    let paid = cte.push(
        "paid_tally AS (INSERT INTO paid_tallies AS t (day, status, currency, slot, orders, \
         total) ",
        changes.paid_rows(),
        |mut row, (key, delta)| {
            row.push_bind(key.day)
                .push_bind(key.status.as_str())
                .push_bind(key.currency.code())
                .push_bind(i16::from(key.slot))
                .push_bind(delta.count)
                .push_bind(delta.amount);
        },
        " ON CONFLICT (day, status, currency, slot) DO UPDATE SET \
         orders = t.orders + EXCLUDED.orders, total = t.total + EXCLUDED.total)",
    );
    orders || products || paid
}

/// A `WITH` list being appended to.
struct Cte<'q, 'args> {
    query: &'q mut QueryBuilder<'args, Postgres>,
    first: bool,
}

impl<'args> Cte<'_, 'args> {
    /// Appends `head`, one `VALUES` tuple per row (bound by `bind`) and `tail`, after a comma
    /// unless it is the list's first; nothing when there are no rows. Returns whether it
    /// appended.
    fn push<T>(
        &mut self,
        head: &str,
        rows: impl Iterator<Item = T>,
        bind: impl FnMut(Separated<'_, 'args, Postgres, &'static str>, T),
        tail: &str,
    ) -> bool {
        let mut rows = rows.peekable();
        if rows.peek().is_none() {
            return false;
        }
        if !std::mem::replace(&mut self.first, false) {
            self.query.push(", ");
        }
        self.query.push(head);
        self.query.push_values(rows, bind);
        self.query.push(tail);
        true
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
