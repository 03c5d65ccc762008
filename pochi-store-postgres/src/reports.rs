//! Settings, statistics and customer summaries: SQL aggregates with the in-memory store's
//! semantics (amounts added exactly, in the query's currency). The statistics read the
//! pre-aggregated tallies, so they cost the same at a thousand orders and at a million.

use pochi_core::{
    Error, Money, Msisdn, OrderStatus, ProductId, Result,
    settings::StoreSettings,
    stats::{CustomerQuery, CustomerSummary, StatsFigures, StatsQuery, TopProduct},
    tally::window_split,
};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
use time::OffsetDateTime;

use crate::{
    error::{CONTEXT, DbResult, corrupt, from_sqlx},
    orders::READ_SNAPSHOT,
    rows,
};

pub(crate) async fn settings(pool: &PgPool) -> Result<Option<StoreSettings>> {
    let body: Option<String> = sqlx::query_scalar("SELECT body FROM settings WHERE id = 1")
        .fetch_optional(pool)
        .await
        .map_err(from_sqlx)?;
    body.map(|body| serde_json::from_str(&body).map_err(|e| Error::from(corrupt("settings", e))))
        .transpose()
}

pub(crate) async fn save_settings(pool: &PgPool, settings: &StoreSettings) -> Result<()> {
    let body = serde_json::to_string(settings).map_err(|e| Error::backend(CONTEXT, e))?;
    sqlx::query(
        "INSERT INTO settings (id, body) VALUES (1, $1) \
         ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
    )
    .bind(body)
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

fn statuses(list: &[OrderStatus]) -> Vec<String> {
    list.iter().map(|s| s.as_str().to_owned()).collect()
}

/// Adds amounts per currency (as SQL returned them) in `currency`: an amount in another currency
/// is an error, as in the in-memory store.
fn sum_in(currency: pochi_core::Currency, sums: &[(String, Decimal)]) -> Result<Money> {
    let amounts = sums
        .iter()
        .map(|(code, amount)| rows::money(*amount, rows::currency(code)?))
        .collect::<DbResult<Vec<_>>>()?;
    Money::sum(currency, amounts).map_err(|e| Error::backend(CONTEXT, e))
}

/// Reads the tallies (see `tallies`): the counts and all-time revenue from `order_tallies`,
/// the best sellers from `product_tallies`, and each revenue window from `paid_tallies` for
/// its whole UTC days plus the orders paid in its first, partial day. A few hundred rows,
/// however many orders there are.
pub(crate) async fn stats(pool: &PgPool, query: &StatsQuery) -> Result<StatsFigures> {
    let revenue_statuses = statuses(&query.revenue_statuses);
    let mut tx = pool.begin_with(READ_SNAPSHOT).await.map_err(from_sqlx)?;

    let by_status = sqlx::query(
        "SELECT status, currency, SUM(orders)::BIGINT AS n, SUM(total) AS total \
         FROM order_tallies GROUP BY status, currency HAVING SUM(orders) <> 0 \
         ORDER BY status, currency",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let mut orders_by_status: Vec<(OrderStatus, u64)> = Vec::new();
    let mut revenue_orders = 0u64;
    let mut all: Vec<(String, Decimal)> = Vec::new();
    for row in &by_status {
        let name: String = row.try_get("status").map_err(from_sqlx)?;
        let status = OrderStatus::parse(&name).map_err(|e| Error::from(corrupt("status", e)))?;
        let n: i64 = row.try_get("n").map_err(from_sqlx)?;
        let n = u64::try_from(n).map_err(|e| Error::from(corrupt("order tally", e)))?;
        match orders_by_status.last_mut() {
            Some((last, count)) if *last == status => *count += n,
            _ => orders_by_status.push((status, n)),
        }
        if revenue_statuses.contains(&name) {
            revenue_orders += n;
            all.push((
                row.try_get("currency").map_err(from_sqlx)?,
                row.try_get("total").map_err(from_sqlx)?,
            ));
        }
    }
    orders_by_status.sort();
    let revenue = sum_in(query.currency, &all)?;

    let mut revenue_since = Vec::with_capacity(query.windows.len());
    for since in &query.windows {
        let sums = window_revenue(&mut tx, &revenue_statuses, *since).await?;
        revenue_since.push(sum_in(query.currency, &sums)?);
    }

    // Best sellers among revenue orders: most units, then product id, under the product's
    // current name (a product that was ever ordered is archived, never deleted).
    let top = sqlx::query(
        "SELECT t.product_id, p.name, SUM(t.quantity)::BIGINT AS quantity, \
         SUM(t.revenue) AS revenue, \
         MIN(t.currency) FILTER (WHERE t.quantity <> 0) AS currency, \
         MAX(t.currency) FILTER (WHERE t.quantity <> 0) AS last_currency \
         FROM product_tallies t JOIN products p ON p.id = t.product_id \
         WHERE t.status = ANY($1) GROUP BY t.product_id, p.name HAVING SUM(t.quantity) > 0 \
         ORDER BY quantity DESC, t.product_id LIMIT $2",
    )
    .bind(&revenue_statuses)
    .bind(rows::limit(query.top_products))
    .fetch_all(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let mut top_products = Vec::with_capacity(top.len());
    for row in &top {
        let code: String = row.try_get("currency").map_err(from_sqlx)?;
        let last: String = row.try_get("last_currency").map_err(from_sqlx)?;
        if code != last {
            return Err(Error::backend(
                CONTEXT,
                format!("a product was sold in both {code} and {last}"),
            ));
        }
        let quantity: i64 = row.try_get("quantity").map_err(from_sqlx)?;
        top_products.push(TopProduct {
            product_id: ProductId::from_uuid(row.try_get("product_id").map_err(from_sqlx)?),
            name: row.try_get("name").map_err(from_sqlx)?,
            quantity: u64::try_from(quantity).map_err(|e| Error::from(corrupt("quantity", e)))?,
            revenue: rows::money(
                row.try_get("revenue").map_err(from_sqlx)?,
                rows::currency(&code)?,
            )?,
        });
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(StatsFigures {
        orders_by_status,
        revenue,
        revenue_orders,
        revenue_since,
        top_products,
    })
}

/// The revenue per currency of orders in `statuses` paid at or after `since`: the whole UTC
/// days from the first midnight at or after `since` from `paid_tallies`, and the orders paid
/// before that midnight from `orders` (at most one day of them, through `orders_by_paid`).
async fn window_revenue(
    conn: &mut PgConnection,
    statuses: &[String],
    since: OffsetDateTime,
) -> Result<Vec<(String, Decimal)>> {
    let (whole_from, edge_until) =
        window_split(since).ok_or_else(|| Error::invalid("since", "is past the last date"))?;
    let found = sqlx::query(
        "SELECT currency, SUM(total) AS total FROM ( \
           SELECT currency, total FROM paid_tallies WHERE day >= $2 AND status = ANY($1) \
           UNION ALL \
           SELECT currency, total FROM orders \
           WHERE paid_at >= $3 AND paid_at < $4 AND status = ANY($1) \
         ) w GROUP BY currency HAVING SUM(total) <> 0 ORDER BY currency",
    )
    .bind(statuses)
    .bind(whole_from)
    .bind(since)
    .bind(edge_until)
    .fetch_all(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    found
        .iter()
        .map(|row| {
            Ok((
                row.try_get("currency").map_err(from_sqlx)?,
                row.try_get("total").map_err(from_sqlx)?,
            ))
        })
        .collect()
}

pub(crate) async fn customers(
    pool: &PgPool,
    query: &CustomerQuery,
) -> Result<Vec<CustomerSummary>> {
    // One group per phone for the page, then the name of each one's latest order (ties broken
    // by number, as the in-memory store sorts).
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT c.phone, c.orders, c.first_at, c.last_at, c.spent, c.spent_currency, \
         c.spent_last_currency, \
         (SELECT o.customer_name FROM orders o WHERE o.phone = c.phone \
          ORDER BY o.created_at DESC, o.number DESC LIMIT 1) AS name \
         FROM (SELECT phone, COUNT(*) AS orders, MIN(created_at) AS first_at, \
         MAX(created_at) AS last_at, \
         SUM(total) FILTER (WHERE status = ANY(",
    );
    let revenue_statuses = statuses(&query.revenue_statuses);
    sql.push_bind(&revenue_statuses)
        .push(")) AS spent, MIN(currency) FILTER (WHERE status = ANY(")
        .push_bind(&revenue_statuses)
        .push(")) AS spent_currency, MAX(currency) FILTER (WHERE status = ANY(")
        .push_bind(&revenue_statuses)
        .push(")) AS spent_last_currency FROM orders");
    if let Some(after) = &query.after {
        sql.push(" WHERE phone > ")
            .push_bind(after.as_str().to_owned());
    }
    sql.push(" GROUP BY phone ORDER BY phone LIMIT ")
        .push_bind(rows::limit(query.limit))
        .push(") c ORDER BY c.phone");

    let mut tx = pool.begin_with(READ_SNAPSHOT).await.map_err(from_sqlx)?;
    let found = sql.build().fetch_all(&mut *tx).await.map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    found
        .iter()
        .map(|row| {
            let phone: String = row.try_get("phone").map_err(from_sqlx)?;
            let spent: Option<Decimal> = row.try_get("spent").map_err(from_sqlx)?;
            let first: Option<String> = row.try_get("spent_currency").map_err(from_sqlx)?;
            let last: Option<String> = row.try_get("spent_last_currency").map_err(from_sqlx)?;
            let sums: Vec<(String, Decimal)> = match (spent, first, last) {
                (Some(amount), Some(first), Some(last)) if first == last => vec![(first, amount)],
                (Some(_), Some(first), Some(last)) => {
                    return Err(Error::backend(
                        CONTEXT,
                        format!("a customer paid in both {first} and {last}"),
                    ));
                }
                _ => Vec::new(),
            };
            let orders: i64 = row.try_get("orders").map_err(from_sqlx)?;
            Ok(CustomerSummary {
                phone: Msisdn::parse(&phone).map_err(|e| Error::from(corrupt("phone", e)))?,
                name: row.try_get("name").map_err(from_sqlx)?,
                orders: u64::try_from(orders).unwrap_or(0),
                total_spent: sum_in(query.currency, &sums)?,
                first_order_at: row.try_get("first_at").map_err(from_sqlx)?,
                last_order_at: row.try_get("last_at").map_err(from_sqlx)?,
            })
        })
        .collect()
}
