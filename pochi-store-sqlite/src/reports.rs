//! Settings, statistics and customers: aggregates computed by SQLite in exact integers.

use pochi_core::{
    Currency, Money, Msisdn, OrderStatus, ProductId, StoreSettings,
    stats::{CustomerQuery, CustomerSummary, StatsFigures, StatsQuery, TopProduct},
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::{
    codec::{Columns, count, json, micros},
    error::Failure,
};

pub(crate) async fn settings(
    conn: &mut SqliteConnection,
) -> Result<Option<StoreSettings>, Failure> {
    let row = sqlx::query("SELECT body FROM settings WHERE id = 1")
        .fetch_optional(conn)
        .await?;
    row.as_ref()
        .map(|row| Columns(row).json("body"))
        .transpose()
}

pub(crate) async fn save_settings(
    conn: &mut SqliteConnection,
    settings: &StoreSettings,
) -> Result<(), Failure> {
    sqlx::query(
        "INSERT INTO settings (id, body) VALUES (1, ?) \
         ON CONFLICT (id) DO UPDATE SET body = excluded.body",
    )
    .bind(json(settings)?)
    .execute(conn)
    .await?;
    Ok(())
}

/// `status IN (…)` for the statuses that count as revenue (`IN (NULL)`, true for no row, when
/// none do).
fn push_statuses(query: &mut QueryBuilder<'_, Sqlite>, statuses: &[OrderStatus]) {
    query.push("status IN (");
    if statuses.is_empty() {
        query.push("NULL");
    }
    let mut list = query.separated(", ");
    for status in statuses {
        list.push_bind(status.as_str());
    }
    query.push(")");
}

/// Amounts in minor units summed by SQLite, as money of the shop's currency.
fn money(column: &'static str, minor: i64, currency: Currency) -> Result<Money, Failure> {
    Money::from_minor(minor, currency).map_err(|e| Failure::corrupt(column, e))
}

fn mixed_currencies() -> Failure {
    Failure::corrupt(
        "currency",
        "orders counted together are in different currencies",
    )
}

pub(crate) async fn stats(
    conn: &mut SqliteConnection,
    query: &StatsQuery,
) -> Result<StatsFigures, Failure> {
    let mut orders_by_status = Vec::new();
    let rows = sqlx::query("SELECT status, COUNT(*) AS orders FROM orders GROUP BY status")
        .fetch_all(&mut *conn)
        .await?;
    for row in &rows {
        let c = Columns(row);
        orders_by_status.push((c.parsed("status", OrderStatus::parse)?, c.u64("orders")?));
    }
    orders_by_status.sort();

    // Revenue, all time and per window, per currency: anything but the shop's currency among
    // revenue orders cannot be added up.
    let mut revenue_query = QueryBuilder::<Sqlite>::new(
        "SELECT currency, COUNT(*) AS orders, SUM(total_minor) AS revenue",
    );
    for (i, since) in query.windows.iter().enumerate() {
        revenue_query
            .push(", SUM(CASE WHEN paid_at >= ")
            .push_bind(micros(*since))
            .push(format_args!(" THEN total_minor ELSE 0 END) AS since_{i}"));
    }
    revenue_query.push(" FROM orders WHERE ");
    push_statuses(&mut revenue_query, &query.revenue_statuses);
    revenue_query.push(" GROUP BY currency");
    let rows = revenue_query.build().fetch_all(&mut *conn).await?;
    let zero = Money::zero(query.currency);
    let (mut revenue, mut revenue_orders) = (zero, 0);
    let mut revenue_since = vec![zero; query.windows.len()];
    if let Some(row) = rows.first() {
        let c = Columns(row);
        if rows.len() > 1 || c.currency("currency")? != query.currency {
            return Err(mixed_currencies());
        }
        revenue = money("revenue", c.int("revenue")?, query.currency)?;
        revenue_orders = c.u64("orders")?;
        for (i, since) in revenue_since.iter_mut().enumerate() {
            let minor: i64 = sqlx::Row::try_get(row, i + 3)?;
            *since = money("revenue_since", minor, query.currency)?;
        }
    }

    // Best sellers among revenue orders; lines of an order are in its currency, checked above.
    let mut top_query = QueryBuilder::<Sqlite>::new(
        "SELECT l.product_id, COALESCE(MAX(p.name), MAX(l.name)) AS name, \
         SUM(l.quantity) AS quantity, SUM(l.line_total_minor) AS revenue \
         FROM order_lines l JOIN orders o ON o.number = l.order_number \
         LEFT JOIN products p ON p.id = l.product_id WHERE o.",
    );
    push_statuses(&mut top_query, &query.revenue_statuses);
    top_query
        .push(" GROUP BY l.product_id ORDER BY quantity DESC, l.product_id LIMIT ")
        .push_bind(count(query.top_products));
    let rows = top_query.build().fetch_all(&mut *conn).await?;
    let mut top_products = Vec::with_capacity(rows.len());
    for row in &rows {
        let c = Columns(row);
        top_products.push(TopProduct {
            product_id: ProductId::from_uuid(c.uuid("product_id")?),
            name: c.text("name")?,
            quantity: c.u64("quantity")?,
            revenue: money("revenue", c.int("revenue")?, query.currency)?,
        });
    }

    Ok(StatsFigures {
        orders_by_status,
        revenue,
        revenue_orders,
        revenue_since,
        top_products,
    })
}

pub(crate) async fn customers(
    conn: &mut SqliteConnection,
    query: &CustomerQuery,
) -> Result<Vec<CustomerSummary>, Failure> {
    let mut sql = QueryBuilder::<Sqlite>::new(
        "SELECT o.phone, COUNT(*) AS orders, MIN(o.created_at) AS first_order_at, \
         MAX(o.created_at) AS last_order_at, \
         (SELECT n.customer_name FROM orders n WHERE n.phone = o.phone \
          ORDER BY n.created_at DESC, n.number DESC LIMIT 1) AS name, \
         COALESCE(SUM(CASE WHEN o.",
    );
    push_statuses(&mut sql, &query.revenue_statuses);
    sql.push(" THEN o.total_minor END), 0) AS spent, COUNT(CASE WHEN o.");
    push_statuses(&mut sql, &query.revenue_statuses);
    sql.push(" AND o.currency <> ")
        .push_bind(query.currency.code())
        .push(" THEN 1 END) AS foreign_orders FROM orders o");
    if let Some(after) = &query.after {
        sql.push(" WHERE o.phone > ")
            .push_bind(after.as_str().to_owned());
    }
    sql.push(" GROUP BY o.phone ORDER BY o.phone LIMIT ")
        .push_bind(count(query.limit));
    let rows = sql.build().fetch_all(conn).await?;
    let mut customers = Vec::with_capacity(rows.len());
    for row in &rows {
        let c = Columns(row);
        if c.int("foreign_orders")? > 0 {
            return Err(mixed_currencies());
        }
        customers.push(CustomerSummary {
            phone: c.parsed("phone", Msisdn::parse)?,
            name: c.text("name")?,
            orders: c.u64("orders")?,
            total_spent: money("spent", c.int("spent")?, query.currency)?,
            first_order_at: c.time("first_order_at")?,
            last_order_at: c.time("last_order_at")?,
        });
    }
    Ok(customers)
}
