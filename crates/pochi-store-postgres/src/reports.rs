//! Settings, statistics and customer summaries: SQL aggregates with the in-memory store's
//! semantics (amounts added exactly, in the query's currency).

use pochi_core::{
    Error, Money, Msisdn, OrderStatus, ProductId, Result,
    settings::StoreSettings,
    stats::{CustomerQuery, CustomerSummary, StatsFigures, StatsQuery, TopProduct},
};
use rust_decimal::Decimal;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

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

pub(crate) async fn stats(pool: &PgPool, query: &StatsQuery) -> Result<StatsFigures> {
    let revenue_statuses = statuses(&query.revenue_statuses);
    let mut tx = pool.begin_with(READ_SNAPSHOT).await.map_err(from_sqlx)?;

    let by_status = sqlx::query("SELECT status, COUNT(*) AS n FROM orders GROUP BY status")
        .fetch_all(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    let mut orders_by_status = Vec::with_capacity(by_status.len());
    for row in &by_status {
        let status: String = row.try_get("status").map_err(from_sqlx)?;
        let status = OrderStatus::parse(&status).map_err(|e| Error::from(corrupt("status", e)))?;
        let n: i64 = row.try_get("n").map_err(from_sqlx)?;
        orders_by_status.push((status, u64::try_from(n).unwrap_or(0)));
    }
    orders_by_status.sort();

    // Revenue per currency, all time and since each window start.
    let mut revenue_query =
        QueryBuilder::<Postgres>::new("SELECT currency, COUNT(*) AS n, SUM(total) AS total_all");
    for (i, since) in query.windows.iter().enumerate() {
        revenue_query
            .push(", COALESCE(SUM(total) FILTER (WHERE paid_at >= ")
            .push_bind(*since)
            .push(format!("), 0) AS since_{i}"));
    }
    revenue_query
        .push(" FROM orders WHERE status = ANY(")
        .push_bind(&revenue_statuses)
        .push(") GROUP BY currency");
    let revenue_rows = revenue_query
        .build()
        .fetch_all(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    let mut revenue_orders = 0u64;
    let mut all: Vec<(String, Decimal)> = Vec::new();
    let mut since: Vec<Vec<(String, Decimal)>> = vec![Vec::new(); query.windows.len()];
    for row in &revenue_rows {
        let code: String = row.try_get("currency").map_err(from_sqlx)?;
        let n: i64 = row.try_get("n").map_err(from_sqlx)?;
        revenue_orders += u64::try_from(n).unwrap_or(0);
        all.push((code.clone(), row.try_get("total_all").map_err(from_sqlx)?));
        for (i, sums) in since.iter_mut().enumerate() {
            let amount: Decimal = row.try_get(&*format!("since_{i}")).map_err(from_sqlx)?;
            sums.push((code.clone(), amount));
        }
    }
    let revenue = sum_in(query.currency, &all)?;
    let revenue_since = since
        .iter()
        .map(|sums| sum_in(query.currency, sums))
        .collect::<Result<Vec<_>>>()?;

    // Best sellers among revenue orders: most units, then product id. The name is the
    // product's current one (a product that was ever ordered is archived, never deleted).
    let top = sqlx::query(
        "SELECT l.product_id, COALESCE(MIN(p.name), MIN(l.name)) AS name, \
         SUM(l.quantity)::BIGINT AS quantity, SUM(l.line_total) AS revenue, \
         MIN(l.currency) AS currency, MAX(l.currency) AS last_currency \
         FROM order_lines l JOIN orders o ON o.number = l.order_number \
         LEFT JOIN products p ON p.id = l.product_id \
         WHERE o.status = ANY($1) GROUP BY l.product_id \
         ORDER BY quantity DESC, l.product_id LIMIT $2",
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
