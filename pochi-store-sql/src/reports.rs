//! Settings, statistics and customer summaries: SQL aggregates with the in-memory store's
//! semantics (amounts added exactly, in the query's currency). The statistics read the
//! pre-aggregated tallies, so they cost the same at a thousand orders and at a million.

use pochi_core::{
    Currency, Error, Money, Msisdn, OrderStatus, ProductId, Result,
    settings::StoreSettings,
    stats::{CustomerQuery, CustomerSummary, DayFigures, StatsFigures, StatsQuery, TopProduct},
};
use rust_decimal::Decimal;
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};
use time::{Date, OffsetDateTime};

use crate::{
    SqlStore,
    dialect::{Dialect, Row, Set, sql},
    error::{DbResult, corrupt, from_sqlx},
    orders::Conn,
    rows,
    tally::window_split,
};

fn statuses(list: &[OrderStatus]) -> Vec<String> {
    list.iter().map(|s| s.as_str().to_owned()).collect()
}

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut <D::Db as Database>::Connection: Executor<'c, Database = D::Db>,
    for<'q> <D::Db as Database>::Arguments<'q>: IntoArguments<'q, D::Db>,
    for<'q> &'q str: Encode<'q, D::Db> + Type<D::Db>,
    String: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    i64: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    i32: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    i16: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    bool: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    Date: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    for<'q> Option<&'q str>: Encode<'q, D::Db>,
    Option<i64>: for<'q> Encode<'q, D::Db>,
    Option<D::Amount>: for<'q> Encode<'q, D::Db>,
    Option<D::Time>: for<'q> Encode<'q, D::Db>,
    Option<D::Id>: for<'q> Encode<'q, D::Db>,
{
    /// Adds amounts per currency (as SQL returned them) in `currency`: an amount in another
    /// currency is an error, as in the in-memory store.
    fn sum_in(currency: Currency, sums: &[(String, Decimal)]) -> Result<Money> {
        let amounts = sums
            .iter()
            .map(|(code, amount)| Self::money(*amount, Self::currency(code)?))
            .collect::<DbResult<Vec<_>, D>>()?;
        Money::sum(currency, amounts).map_err(|e| Error::backend(D::CONTEXT, e))
    }

    /// A row's `currency` and its amount in `column`, as [`Self::sum_in`] adds them.
    fn currency_sum(row: &Row<D>, column: &str) -> DbResult<(String, Decimal), D> {
        let code: String = Self::get(row, "currency")?;
        let amount = Self::decimal_at(row, column, Self::currency(&code)?)?;
        Ok((code, amount))
    }

    pub(crate) async fn settings(&self) -> Result<Option<StoreSettings>> {
        let row = sqlx::query("SELECT body FROM settings WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx::<D>)?;
        let body: Option<String> = row.as_ref().map(|row| Self::get(row, "body")).transpose()?;
        body.map(|body| {
            serde_json::from_str(&body).map_err(|e| Error::from(corrupt::<D>("settings", e)))
        })
        .transpose()
    }

    pub(crate) async fn save_settings(&self, settings: &StoreSettings) -> Result<()> {
        let body = serde_json::to_string(settings).map_err(|e| Error::backend(D::CONTEXT, e))?;
        let statement = format!(
            "{}{}",
            sql::<D>("INSERT INTO settings (id, body) VALUES (1, ?)"),
            D::upsert("settings", &["id"], &[Set::Replace("body")])
        );
        sqlx::query(&statement)
            .bind(body)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(())
    }

    /// Reads the tallies (see `tallies`): the counts and all-time revenue from
    /// `order_tallies`, the best sellers from `product_tallies`, and each revenue window from
    /// `paid_tallies` for its whole UTC days plus the orders paid in its first, partial day.
    /// A few hundred rows, however many orders there are.
    pub(crate) async fn stats(&self, query: &StatsQuery) -> Result<StatsFigures> {
        let revenue_statuses = statuses(&query.revenue_statuses);
        let mut tx = self.begin_read().await?;

        let by_status = sqlx::query(&format!(
            "SELECT status, currency, CAST(SUM(orders) AS {}) AS n, SUM(total) AS total \
             FROM order_tallies GROUP BY status, currency HAVING SUM(orders) <> 0 \
             ORDER BY status, currency",
            D::BIGINT
        ))
        .fetch_all(&mut *tx)
        .await
        .map_err(from_sqlx::<D>)?;
        let mut orders_by_status: Vec<(OrderStatus, u64)> = Vec::new();
        let mut revenue_orders = 0u64;
        let mut all: Vec<(String, Decimal)> = Vec::new();
        for row in &by_status {
            let name: String = Self::get(row, "status")?;
            let status =
                OrderStatus::parse(&name).map_err(|e| Error::from(corrupt::<D>("status", e)))?;
            let n: i64 = Self::get(row, "n")?;
            let n = u64::try_from(n).map_err(|e| Error::from(corrupt::<D>("order tally", e)))?;
            match orders_by_status.last_mut() {
                Some((last, count)) if *last == status => *count += n,
                _ => orders_by_status.push((status, n)),
            }
            if revenue_statuses.contains(&name) {
                revenue_orders += n;
                all.push(Self::currency_sum(row, "total")?);
            }
        }
        orders_by_status.sort();
        let revenue = Self::sum_in(query.currency, &all)?;

        let mut revenue_since = Vec::with_capacity(query.windows.len());
        for since in &query.windows {
            let sums = Self::window_revenue(&mut tx, &revenue_statuses, *since).await?;
            revenue_since.push(Self::sum_in(query.currency, &sums)?);
        }

        let daily = Self::daily_revenue(&mut tx, &revenue_statuses, query).await?;

        // Best sellers among revenue orders: most units, then product id, under the product's
        // current name (a product that was ever ordered is archived, never deleted).
        let mut top_query = QueryBuilder::<D::Db>::new(format!(
            "SELECT t.product_id, MIN(p.name) AS name, \
             CAST(SUM(t.quantity) AS {}) AS quantity, SUM(t.revenue) AS revenue, \
             MIN(CASE WHEN t.quantity <> 0 THEN t.currency END) AS currency, \
             MAX(CASE WHEN t.quantity <> 0 THEN t.currency END) AS last_currency \
             FROM product_tallies t JOIN products p ON p.id = t.product_id WHERE ",
            D::BIGINT
        ));
        D::push_one_of_texts(&mut top_query, "t.status", revenue_statuses.clone());
        top_query
            .push(
                " GROUP BY t.product_id HAVING SUM(t.quantity) > 0 \
                 ORDER BY quantity DESC, t.product_id LIMIT ",
            )
            .push_bind(rows::limit(query.top_products));
        let top = D::fetch_all(&mut top_query, &mut *tx)
            .await
            .map_err(from_sqlx::<D>)?;
        let mut top_products = Vec::with_capacity(top.len());
        for row in &top {
            let code: String = Self::get(row, "currency")?;
            let last: String = Self::get(row, "last_currency")?;
            if code != last {
                return Err(Error::backend(
                    D::CONTEXT,
                    format!("a product was sold in both {code} and {last}"),
                ));
            }
            let quantity: i64 = Self::get(row, "quantity")?;
            top_products.push(TopProduct {
                product_id: ProductId::from_uuid(Self::uuid_at(row, "product_id")?),
                name: Self::get(row, "name")?,
                quantity: u64::try_from(quantity)
                    .map_err(|e| Error::from(corrupt::<D>("quantity", e)))?,
                revenue: Self::money_at(row, "revenue", Self::currency(&code)?)?,
            });
        }
        tx.commit().await.map_err(from_sqlx::<D>)?;
        Ok(StatsFigures {
            orders_by_status,
            revenue,
            revenue_orders,
            revenue_since,
            top_products,
            daily,
        })
    }

    /// Revenue and orders per day of `query.days`. Days in the shop's time zone do not line up
    /// with `paid_tallies`' UTC days, so this reads the revenue orders paid in the period
    /// (through `orders_by_paid`) and puts each in its day: a month of a small shop's orders.
    async fn daily_revenue(
        conn: &mut Conn<D>,
        statuses: &[String],
        query: &StatsQuery,
    ) -> Result<Vec<DayFigures>> {
        let (Some(first), Some(end)) = (query.days.first(), query.days.last()) else {
            return Ok(Vec::new());
        };
        let mut select = QueryBuilder::<D::Db>::new(
            "SELECT paid_at, currency, total FROM orders WHERE paid_at >= ",
        );
        select
            .push_bind(D::time(*first))
            .push(" AND paid_at < ")
            .push_bind(D::time(*end))
            .push(" AND ");
        D::push_one_of_texts(&mut select, "status", statuses.to_vec());
        let found = D::fetch_all(&mut select, &mut *conn)
            .await
            .map_err(from_sqlx::<D>)?;
        let mut sums: Vec<(Vec<(String, Decimal)>, u64)> = vec![(Vec::new(), 0); query.day_count()];
        for row in &found {
            let paid_at = Self::time_at(row, "paid_at")?;
            if let Some((amounts, orders)) = query.day_of(paid_at).and_then(|i| sums.get_mut(i)) {
                amounts.push(Self::currency_sum(row, "total")?);
                *orders += 1;
            }
        }
        sums.iter()
            .map(|(amounts, orders)| {
                Ok(DayFigures {
                    revenue: Self::sum_in(query.currency, amounts)?,
                    orders: *orders,
                })
            })
            .collect()
    }

    /// The revenue per currency of orders in `statuses` paid at or after `since`: the whole
    /// UTC days from the first midnight at or after `since` from `paid_tallies`, and the
    /// orders paid before that midnight from `orders` (at most one day of them, through
    /// `orders_by_paid`).
    async fn window_revenue(
        conn: &mut Conn<D>,
        statuses: &[String],
        since: OffsetDateTime,
    ) -> Result<Vec<(String, Decimal)>> {
        let (whole_from, edge_until) =
            window_split(since).ok_or_else(|| Error::invalid("since", "is past the last date"))?;
        let mut query = QueryBuilder::<D::Db>::new(
            "SELECT currency, SUM(total) AS total FROM ( \
             SELECT currency, total FROM paid_tallies WHERE day >= ",
        );
        query.push_bind(whole_from).push(" AND ");
        D::push_one_of_texts(&mut query, "status", statuses.to_vec());
        query
            .push(" UNION ALL SELECT currency, total FROM orders WHERE paid_at >= ")
            .push_bind(D::time(since))
            .push(" AND paid_at < ")
            .push_bind(D::time(edge_until))
            .push(" AND ");
        D::push_one_of_texts(&mut query, "status", statuses.to_vec());
        query.push(") w GROUP BY currency HAVING SUM(total) <> 0 ORDER BY currency");
        let found = D::fetch_all(&mut query, &mut *conn)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(found
            .iter()
            .map(|row| Self::currency_sum(row, "total"))
            .collect::<DbResult<_, D>>()?)
    }

    pub(crate) async fn customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerSummary>> {
        // One group per phone for the page, then the name of each one's latest order (ties
        // broken by number, as the in-memory store sorts).
        let mut sql = QueryBuilder::<D::Db>::new(
            "SELECT c.phone, c.orders, c.first_at, c.last_at, c.spent, c.spent_currency, \
             c.spent_last_currency, \
             (SELECT o.customer_name FROM orders o WHERE o.phone = c.phone \
              ORDER BY o.created_at DESC, o.number DESC LIMIT 1) AS name \
             FROM (SELECT phone, COUNT(*) AS orders, MIN(created_at) AS first_at, \
             MAX(created_at) AS last_at",
        );
        let revenue_statuses = statuses(&query.revenue_statuses);
        for (aggregate, column, alias) in [
            ("SUM", "total", "spent"),
            ("MIN", "currency", "spent_currency"),
            ("MAX", "currency", "spent_last_currency"),
        ] {
            sql.push(format!(", {aggregate}(CASE WHEN "));
            D::push_one_of_texts(&mut sql, "status", revenue_statuses.clone());
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

        let mut tx = self.begin_read().await?;
        let found = D::fetch_all(&mut sql, &mut *tx)
            .await
            .map_err(from_sqlx::<D>)?;
        tx.commit().await.map_err(from_sqlx::<D>)?;
        found
            .iter()
            .map(|row| {
                let phone: String = Self::get(row, "phone")?;
                let spent: Option<D::Amount> = Self::get(row, "spent")?;
                let first: Option<String> = Self::get(row, "spent_currency")?;
                let last: Option<String> = Self::get(row, "spent_last_currency")?;
                let sums: Vec<(String, Decimal)> = match (spent, first, last) {
                    (Some(amount), Some(first), Some(last)) if first == last => {
                        let amount = D::decimal(amount, Self::currency(&first)?)
                            .map_err(|e| Error::from(corrupt::<D>("amount", e)))?;
                        vec![(first, amount)]
                    }
                    (Some(_), Some(first), Some(last)) => {
                        return Err(Error::backend(
                            D::CONTEXT,
                            format!("a customer paid in both {first} and {last}"),
                        ));
                    }
                    _ => Vec::new(),
                };
                let orders: i64 = Self::get(row, "orders")?;
                Ok(CustomerSummary {
                    phone: Msisdn::parse(&phone)
                        .map_err(|e| Error::from(corrupt::<D>("phone", e)))?,
                    name: Self::get(row, "name")?,
                    orders: u64::try_from(orders).unwrap_or(0),
                    total_spent: Self::sum_in(query.currency, &sums)?,
                    first_order_at: Self::time_at(row, "first_at")?,
                    last_order_at: Self::time_at(row, "last_at")?,
                })
            })
            .collect()
    }
}
