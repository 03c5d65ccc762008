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
use sqlx::{MySql, MySqlConnection, MySqlPool, QueryBuilder, mysql::MySqlRow};
use time::OffsetDateTime;

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

/// Reads the tallies (see `tallies`): the counts and all-time revenue from `order_tallies`,
/// the best sellers from `product_tallies`, and each revenue window from `paid_tallies` for
/// its whole UTC days plus the orders paid in its first, partial day. A few hundred rows,
/// however many orders there are.
pub(crate) async fn stats(pool: &MySqlPool, query: &StatsQuery) -> Result<StatsFigures> {
    let revenue_statuses: Vec<&str> = query.revenue_statuses.iter().map(|s| s.as_str()).collect();
    let mut tx = pool.begin_with(READ_SNAPSHOT).await.map_err(from_sqlx)?;

    let by_status = sqlx::query(
        "SELECT status, currency, CAST(SUM(orders) AS SIGNED) AS n, SUM(total) AS total \
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
        let name: String = get(row, "status")?;
        let status = OrderStatus::parse(&name).map_err(|e| Error::from(corrupt("status", e)))?;
        let n: i64 = get(row, "n")?;
        let n = u64::try_from(n).map_err(|e| Error::from(corrupt("order tally", e)))?;
        match orders_by_status.last_mut() {
            Some((last, count)) if *last == status => *count += n,
            _ => orders_by_status.push((status, n)),
        }
        if revenue_statuses.contains(&name.as_str()) {
            revenue_orders += n;
            all.push((get(row, "currency")?, get(row, "total")?));
        }
    }
    orders_by_status.sort();
    let revenue = sum_in(query.currency, &all)?;

    let mut revenue_since = Vec::with_capacity(query.windows.len());
    for since in &query.windows {
        let sums = window_revenue(&mut tx, &query.revenue_statuses, *since).await?;
        revenue_since.push(sum_in(query.currency, &sums)?);
    }

    // Best sellers among revenue orders: most units, then product id, under the product's
    // current name (a product that was ever ordered is archived, never deleted).
    let mut top_query = QueryBuilder::<MySql>::new(
        "SELECT t.product_id, MIN(p.name) AS name, CAST(SUM(t.quantity) AS SIGNED) AS quantity, \
         SUM(t.revenue) AS revenue, \
         MIN(CASE WHEN t.quantity <> 0 THEN t.currency END) AS currency, \
         MAX(CASE WHEN t.quantity <> 0 THEN t.currency END) AS last_currency \
         FROM product_tallies t JOIN products p ON p.id = t.product_id WHERE ",
    );
    push_in_statuses(&mut top_query, "t.status", &query.revenue_statuses);
    top_query
        .push(
            " GROUP BY t.product_id HAVING SUM(t.quantity) > 0 \
             ORDER BY quantity DESC, t.product_id LIMIT ",
        )
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

/// The revenue per currency of orders in `statuses` paid at or after `since`: the whole UTC
/// days from the first midnight at or after `since` from `paid_tallies`, and the orders paid
/// before that midnight from `orders` (at most one day of them, through `orders_by_paid`).
async fn window_revenue(
    conn: &mut MySqlConnection,
    statuses: &[OrderStatus],
    since: OffsetDateTime,
) -> Result<Vec<(String, Decimal)>> {
    let (whole_from, edge_until) =
        window_split(since).ok_or_else(|| Error::invalid("since", "is past the last date"))?;
    let mut sql = QueryBuilder::<MySql>::new(
        "SELECT currency, SUM(total) AS total FROM ( \
         SELECT currency, total FROM paid_tallies WHERE day >= ",
    );
    sql.push_bind(whole_from).push(" AND ");
    push_in_statuses(&mut sql, "status", statuses);
    sql.push(" UNION ALL SELECT currency, total FROM orders WHERE paid_at >= ")
        .push_bind(since)
        .push(" AND paid_at < ")
        .push_bind(edge_until)
        .push(" AND ");
    push_in_statuses(&mut sql, "status", statuses);
    sql.push(") w GROUP BY currency HAVING SUM(total) <> 0 ORDER BY currency");
    let found = sql.build().fetch_all(&mut *conn).await.map_err(from_sqlx)?;
    found
        .iter()
        .map(|row| Ok((get(row, "currency")?, get(row, "total")?)))
        .collect()
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
