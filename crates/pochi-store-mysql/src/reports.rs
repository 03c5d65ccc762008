//! Settings, statistics and customer summaries: SQL aggregates with the in-memory store's
//! semantics (amounts added exactly, in the query's currency).

use pochi_core::{
    Error, Money, Msisdn, OrderStatus, ProductId, Result,
    settings::StoreSettings,
    stats::{CustomerQuery, CustomerSummary, StatsFigures, StatsQuery, TopProduct},
};
use rust_decimal::Decimal;
use sqlx::{MySql, MySqlPool, QueryBuilder, mysql::MySqlRow};

use crate::{
    error::{CONTEXT, DbResult, corrupt, from_sqlx},
    orders::READ_SNAPSHOT,
    rows,
};

pub(crate) async fn settings(pool: &MySqlPool) -> Result<Option<StoreSettings>> {
    let row = sqlx::query("SELECT body FROM settings WHERE id = 1")
        .fetch_optional(pool)
        .await
        .map_err(from_sqlx)?;
    let body: Option<String> = row.as_ref().map(|row| get(row, "body")).transpose()?;
    body.map(|body| serde_json::from_str(&body).map_err(|e| Error::from(corrupt("settings", e))))
        .transpose()
}

pub(crate) async fn save_settings(pool: &MySqlPool, settings: &StoreSettings) -> Result<()> {
    let body = serde_json::to_string(settings).map_err(|e| Error::backend(CONTEXT, e))?;
    sqlx::query("INSERT INTO settings (id, body) VALUES (1, ?) ON DUPLICATE KEY UPDATE body = ?")
        .bind(&body)
        .bind(&body)
        .execute(pool)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}

/// Appends `column IN (…statuses…)`; `FALSE` for none.
fn push_in_statuses(query: &mut QueryBuilder<'_, MySql>, column: &str, list: &[OrderStatus]) {
    if list.is_empty() {
        query.push("FALSE");
        return;
    }
    query.push(column).push(" IN (");
    let mut values = query.separated(", ");
    for status in list {
        values.push_bind(status.as_str());
    }
    query.push(")");
}

fn get<'r, T>(row: &'r MySqlRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, MySql> + sqlx::Type<MySql>,
{
    rows::get(row, column).map_err(Error::from)
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

pub(crate) async fn stats(pool: &MySqlPool, query: &StatsQuery) -> Result<StatsFigures> {
    let mut tx = pool.begin_with(READ_SNAPSHOT).await.map_err(from_sqlx)?;

    let by_status = sqlx::query("SELECT status, COUNT(*) AS n FROM orders GROUP BY status")
        .fetch_all(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    let mut orders_by_status = Vec::with_capacity(by_status.len());
    for row in &by_status {
        let status: String = get(row, "status")?;
        let status = OrderStatus::parse(&status).map_err(|e| Error::from(corrupt("status", e)))?;
        let n: i64 = get(row, "n")?;
        orders_by_status.push((status, u64::try_from(n).unwrap_or(0)));
    }
    orders_by_status.sort();

    // Revenue per currency, all time and since each window start.
    let mut revenue_query =
        QueryBuilder::<MySql>::new("SELECT currency, COUNT(*) AS n, SUM(total) AS total_all");
    for (i, since) in query.windows.iter().enumerate() {
        revenue_query
            .push(", COALESCE(SUM(CASE WHEN paid_at >= ")
            .push_bind(*since)
            .push(format!(" THEN total END), 0) AS since_{i}"));
    }
    revenue_query.push(" FROM orders WHERE ");
    push_in_statuses(&mut revenue_query, "status", &query.revenue_statuses);
    revenue_query.push(" GROUP BY currency");
    let revenue_rows = revenue_query
        .build()
        .fetch_all(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    let mut revenue_orders = 0u64;
    let mut all: Vec<(String, Decimal)> = Vec::new();
    let mut since: Vec<Vec<(String, Decimal)>> = vec![Vec::new(); query.windows.len()];
    for row in &revenue_rows {
        let code: String = get(row, "currency")?;
        let n: i64 = get(row, "n")?;
        revenue_orders += u64::try_from(n).unwrap_or(0);
        all.push((code.clone(), get(row, "total_all")?));
        for (i, sums) in since.iter_mut().enumerate() {
            let amount: Decimal = get(row, &format!("since_{i}"))?;
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
    let mut top_query = QueryBuilder::<MySql>::new(
        "SELECT l.product_id, COALESCE(MIN(p.name), MIN(l.name)) AS name, \
         CAST(SUM(l.quantity) AS SIGNED) AS quantity, SUM(l.line_total) AS revenue, \
         MIN(l.currency) AS currency, MAX(l.currency) AS last_currency \
         FROM order_lines l JOIN orders o ON o.number = l.order_number \
         LEFT JOIN products p ON p.id = l.product_id WHERE ",
    );
    push_in_statuses(&mut top_query, "o.status", &query.revenue_statuses);
    top_query
        .push(" GROUP BY l.product_id ORDER BY quantity DESC, l.product_id LIMIT ")
        .push_bind(rows::limit(query.top_products));
    let top = top_query
        .build()
        .fetch_all(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    let mut top_products = Vec::with_capacity(top.len());
    for row in &top {
        let code: String = get(row, "currency")?;
        let last: String = get(row, "last_currency")?;
        if code != last {
            return Err(Error::backend(
                CONTEXT,
                format!("a product was sold in both {code} and {last}"),
            ));
        }
        let quantity: i64 = get(row, "quantity")?;
        top_products.push(TopProduct {
            product_id: ProductId::from_uuid(get(row, "product_id")?),
            name: get(row, "name")?,
            quantity: u64::try_from(quantity).map_err(|e| Error::from(corrupt("quantity", e)))?,
            revenue: rows::money(get(row, "revenue")?, rows::currency(&code)?)?,
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
    pool: &MySqlPool,
    query: &CustomerQuery,
) -> Result<Vec<CustomerSummary>> {
    // One group per phone for the page, then the name of each one's latest order (ties broken
    // by number, as the in-memory store sorts).
    let mut sql = QueryBuilder::<MySql>::new(
        "SELECT c.phone, c.orders, c.first_at, c.last_at, c.spent, c.spent_currency, \
         c.spent_last_currency, \
         (SELECT o.customer_name FROM orders o WHERE o.phone = c.phone \
          ORDER BY o.created_at DESC, o.number DESC LIMIT 1) AS name \
         FROM (SELECT phone, COUNT(*) AS orders, MIN(created_at) AS first_at, \
         MAX(created_at) AS last_at",
    );
    for (aggregate, column, alias) in [
        ("SUM", "total", "spent"),
        ("MIN", "currency", "spent_currency"),
        ("MAX", "currency", "spent_last_currency"),
    ] {
        sql.push(format!(", {aggregate}(CASE WHEN "));
        push_in_statuses(&mut sql, "status", &query.revenue_statuses);
        sql.push(format!(" THEN {column} END) AS {alias}"));
    }
    sql.push(" FROM orders");
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
            let phone: String = get(row, "phone")?;
            let spent: Option<Decimal> = get(row, "spent")?;
            let first: Option<String> = get(row, "spent_currency")?;
            let last: Option<String> = get(row, "spent_last_currency")?;
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
            let orders: i64 = get(row, "orders")?;
            Ok(CustomerSummary {
                phone: Msisdn::parse(&phone).map_err(|e| Error::from(corrupt("phone", e)))?,
                name: get(row, "name")?,
                orders: u64::try_from(orders).unwrap_or(0),
                total_spent: sum_in(query.currency, &sums)?,
                first_order_at: get(row, "first_at")?,
                last_order_at: get(row, "last_at")?,
            })
        })
        .collect()
}
