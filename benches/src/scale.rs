//! The data-scale bench: the admin's order lists, statistics and customer list on PostgreSQL
//! with 1,000, 100,000 and 1,000,000 orders, through the store, in one database that grows
//! from one size to the next.
//!
//! Orders are written directly in SQL (a million through `place_order` would take most of an
//! hour here), shaped as the store writes them: one order a minute going back from now (the
//! newest first, so growing the shop adds history), two lines each from a 50-product
//! catalogue, a phone number out of 200,000, statuses from pending (the last half hour) to
//! delivered (older than a week), a tenth cancelled, and a timeline of one or two entries.
//! After each growth the store's tallies are recounted
//! ([`PostgresStore::recount_statistics`]) and the tables vacuumed and analysed, as
//! autovacuum would have done on a shop that grew by itself.

use std::{fmt::Write as _, sync::Arc, time::Duration};

use pochi_core::{
    ManualCodeProvider, Msisdn, OrderFilter, OrderKey, OrderNumber, OrderStatus, Shop, Store,
    stats::CustomerQuery,
};
use pochi_store_postgres::{
    PostgresStore,
    sqlx::{self, PgPool},
};
use pochi_testkit::fixtures::product;
use time::OffsetDateTime;

use crate::{BenchError, databases::BenchDatabase, machine::LoadAverage};

/// Products in the catalogue.
const PRODUCTS: usize = 50;
/// Distinct customers (phone numbers) the orders are spread over.
const CUSTOMERS: u64 = 200_000;
/// Orders written per transaction while growing.
const CHUNK: u64 = 100_000;
/// The page size of every list.
pub const PAGE: usize = 50;

/// What is measured at each size.
pub const QUERIES: [&str; 7] = [
    "orders, first page",
    "orders, deep page",
    "orders, first page of one status",
    "orders of one phone",
    "stats",
    "customers, first page",
    "customers, deep page",
];

/// A database of orders that grows, with the store and shop over it.
#[derive(Debug)]
pub struct ScaleShop {
    database: Option<BenchDatabase>,
    store: PostgresStore,
    pool: PgPool,
    shop: Shop,
    orders: u64,
    now: OffsetDateTime,
}

/// The order code of the `i`th order, as SQL writes it: `i` in base 32 over the order-code
/// alphabet, ten digits.
fn order_code_sql(i: &str) -> String {
    let digits: Vec<String> = (0..10)
        .rev()
        .map(|k| {
            format!(
                "substr('23456789ABCDEFGHJKLMNPQRSTUVWXYZ', (({i} >> {}) & 31)::int + 1, 1)",
                5 * k
            )
        })
        .collect();
    format!("('POCHI-' || {})", digits.join(" || "))
}

/// The same code in Rust, for the deep page's key.
fn order_number(i: u64) -> Result<OrderNumber, BenchError> {
    const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let code: String = (0..10u64)
        .rev()
        .map(|k| char::from(ALPHABET[usize::try_from((i >> (5 * k)) & 31).unwrap_or(0)]))
        .collect();
    Ok(OrderNumber::parse(&format!("POCHI-{code}"))?)
}

/// The phone number of the `i`th order's customer.
fn phone_of(i: u64) -> Result<Msisdn, BenchError> {
    Ok(Msisdn::parse(&format!(
        "2547{:08}",
        (i * 7919) % CUSTOMERS
    ))?)
}

/// Now, to the microsecond (what PostgreSQL keeps), so the bench's keys match the rows.
fn now_in_microseconds() -> Result<OffsetDateTime, BenchError> {
    let now = OffsetDateTime::now_utc();
    Ok(now.replace_microsecond(now.microsecond())?)
}

impl ScaleShop {
    /// A fresh database on the PostgreSQL server, migrated, with the catalogue. `Ok(None)`:
    /// the server cannot be reached (already reported).
    pub async fn create() -> Result<Option<Self>, BenchError> {
        let Some(database) = BenchDatabase::postgres().await? else {
            return Ok(None);
        };
        let store = PostgresStore::connect(&database.url).await?;
        store.migrate().await?;
        let pool = PgPool::connect(&database.url).await?;
        for i in 0..PRODUCTS {
            let item = product(&format!("Kikoi {i}"), &format!("{}", 500 + i * 50), None);
            store.insert_product(&item).await?;
        }
        sqlx::query(
            "CREATE TABLE bench_products AS SELECT (row_number() OVER (ORDER BY id) - 1)::int \
             AS idx, id, name, price FROM products",
        )
        .execute(&pool)
        .await?;
        let shop = Shop::builder(Arc::new(store.clone()))
            .provider(Arc::new(ManualCodeProvider::new()))
            .build()?;
        Ok(Some(ScaleShop {
            database: Some(database),
            store,
            pool,
            shop,
            orders: 0,
            now: now_in_microseconds()?,
        }))
    }

    /// Orders in the database.
    pub fn orders(&self) -> u64 {
        self.orders
    }

    /// Writes orders until there are `total`, then recounts the tallies and vacuums.
    pub async fn grow_to(&mut self, total: u64) -> Result<(), BenchError> {
        let mut from = self.orders;
        while from < total {
            let to = (from + CHUNK).min(total);
            self.write_orders(from, to).await?;
            from = to;
        }
        self.orders = self.orders.max(total);
        self.store.recount_statistics().await?;
        for table in [
            "orders",
            "order_lines",
            "order_timeline",
            "order_tallies",
            "product_tallies",
            "paid_tallies",
        ] {
            sqlx::query(&format!("VACUUM (ANALYZE) {table}"))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Orders `from..to` (the `i`th placed `i` minutes before the bench began).
    async fn write_orders(&self, from: u64, to: u64) -> Result<(), BenchError> {
        let generated = format!(
            "FROM (SELECT i, {number} AS number, \
               $3::timestamptz - i * interval '1 minute' AS created_at, \
               CASE WHEN i < 30 AND i % 2 = 0 THEN 'pending_payment' \
                    WHEN i % 20 IN (0, 1) THEN 'cancelled' \
                    WHEN i < 1440 THEN 'paid' WHEN i < 4320 THEN 'processing' \
                    WHEN i < 10080 THEN 'dispatched' ELSE 'delivered' END AS status, \
               (i < 30 AND i % 2 = 0) OR i % 20 = 0 AS unpaid, \
               '2547' || lpad(((i * 7919) % {CUSTOMERS})::text, 8, '0') AS phone, \
               1 + i % 3 AS q1, \
               p1.id AS id1, p1.name AS name1, p1.price AS price1, \
               p2.id AS id2, p2.name AS name2, p2.price AS price2 \
             FROM generate_series($1::bigint, $2::bigint - 1) AS g(i) \
             JOIN bench_products p1 ON p1.idx = i % {PRODUCTS} \
             JOIN bench_products p2 ON p2.idx = (7 * i + 3) % {PRODUCTS}) o",
            number = order_code_sql("i"),
        );
        let statements = [
            format!(
                "INSERT INTO orders (number, status, customer_name, phone, county, area, \
                 address, notes, currency, subtotal, delivery_fee, total, idempotency_key, \
                 fingerprint, created_at, updated_at, paid_at) \
                 SELECT number, status, 'Customer ' || phone, phone, 'Nairobi', 'Westlands', \
                 'House ' || i, NULL, 'KES', price1 * q1 + price2, 200, price1 * q1 + price2 + 200, \
                 NULL, 'bench', created_at, \
                 CASE WHEN unpaid THEN created_at ELSE created_at + interval '5 minutes' END, \
                 CASE WHEN unpaid THEN NULL ELSE created_at + interval '5 minutes' END \
                 {generated}"
            ),
            format!(
                "INSERT INTO order_lines (order_number, position, product_id, name, currency, \
                 unit_price, quantity, line_total) \
                 SELECT number, 0, id1, name1, 'KES', price1, q1, price1 * q1 {generated} \
                 UNION ALL \
                 SELECT number, 1, id2, name2, 'KES', price2, 1, price2 {generated}"
            ),
            format!(
                "INSERT INTO order_timeline (order_number, position, at, status, note, \
                 actor_kind, actor_name) \
                 SELECT number, 0, created_at, 'pending_payment', \
                 'Order placed, waiting for payment', 'customer', NULL {generated} \
                 UNION ALL \
                 SELECT number, 1, created_at + interval '5 minutes', 'paid', \
                 'Paid by M-Pesa', 'provider', 'mpesa' {generated} WHERE NOT unpaid"
            ),
        ];
        let from = i64::try_from(from)?;
        let to = i64::try_from(to)?;
        let mut tx = self.pool.begin().await?;
        for statement in &statements {
            sqlx::query(statement)
                .bind(from)
                .bind(to)
                .bind(self.now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Runs `query` (one of [`QUERIES`]) once; returns how many items it gave, so the bench
    /// can tell an empty answer (a query that measured nothing) from a real one.
    pub async fn run(&self, query: &str) -> Result<usize, BenchError> {
        let all = OrderFilter::default();
        let oldest = self.orders.saturating_sub(1);
        match query {
            "orders, first page" => Ok(self.store.list_orders(&all, None, PAGE).await?.len()),
            "orders, deep page" => {
                // The page before the oldest one: as deep as the data goes.
                let i = oldest.saturating_sub(u64::try_from(PAGE)?);
                let key = OrderKey {
                    created_at: self.now - Duration::from_secs(60 * i),
                    number: order_number(i)?,
                };
                Ok(self.store.list_orders(&all, Some(key), PAGE).await?.len())
            }
            "orders, first page of one status" => {
                let filter = OrderFilter {
                    status: Some(OrderStatus::Cancelled),
                    ..OrderFilter::default()
                };
                Ok(self.store.list_orders(&filter, None, PAGE).await?.len())
            }
            "orders of one phone" => {
                let filter = OrderFilter {
                    phone: Some(phone_of(0)?),
                    ..OrderFilter::default()
                };
                Ok(self.store.list_orders(&filter, None, PAGE).await?.len())
            }
            "stats" => Ok(usize::try_from(self.shop.stats().await?.total_orders)?),
            "customers, first page" => Ok(self.customers(None).await?),
            "customers, deep page" => {
                // After nine tenths of the phone numbers' range (which the orders of every
                // size spread over).
                let after = Msisdn::parse(&format!("2547{:08}", CUSTOMERS * 9 / 10))?;
                Ok(self.customers(Some(after)).await?)
            }
            other => Err(format!("no such scale query: {other}").into()),
        }
    }

    async fn customers(&self, after: Option<Msisdn>) -> Result<usize, BenchError> {
        let page = self
            .store
            .customers(&CustomerQuery {
                currency: pochi_core::Currency::Kes,
                revenue_statuses: OrderStatus::REVENUE.to_vec(),
                after,
                limit: PAGE,
            })
            .await?;
        Ok(page.len())
    }

    /// Closes the pools and drops the database.
    pub async fn drop_database(mut self) -> Result<(), BenchError> {
        self.pool.close().await;
        drop(self.shop);
        drop(self.store);
        match self.database.take() {
            Some(database) => database.drop_database().await,
            None => Ok(()),
        }
    }
}

/// One query's latencies at each size.
#[derive(Debug, Clone)]
pub struct ScaleRow {
    /// The query (one of [`QUERIES`]).
    pub query: &'static str,
    /// Per size: orders, median, 95th percentile and the items the query returned.
    pub at: Vec<ScaleFigure>,
}

/// A query's latency at one size.
#[derive(Debug, Clone)]
pub struct ScaleFigure {
    /// Orders in the database.
    pub orders: u64,
    /// Median latency.
    pub median: Duration,
    /// 95th percentile latency.
    pub p95: Duration,
    /// Items the query returned.
    pub items: usize,
    /// The load average when it was measured.
    pub load: LoadAverage,
}

/// Median and 95th percentile of `samples` (nearest rank below).
pub fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |percent: usize| {
        samples
            .get(samples.len().saturating_sub(1) * percent / 100)
            .copied()
            .unwrap_or_default()
    };
    (at(50), at(95))
}

fn millis(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// The Markdown table: one row per query, median / p95 per size, and the largest size's
/// median as a multiple of the smallest's.
pub fn scale_table(rows: &[ScaleRow]) -> String {
    let sizes: Vec<u64> = rows
        .first()
        .map(|r| r.at.iter().map(|f| f.orders).collect())
        .unwrap_or_default();
    let mut table = String::from("| query |");
    for size in &sizes {
        let _ = write!(table, " {size} orders: median / p95 ms (items) |");
    }
    table.push_str(" largest ÷ smallest (median) |\n|---|");
    for _ in &sizes {
        table.push_str("---:|");
    }
    table.push_str("---:|\n");
    for row in rows {
        let _ = write!(table, "| {} |", row.query);
        for figure in &row.at {
            let _ = write!(
                table,
                " {} / {} ({}) |",
                millis(figure.median),
                millis(figure.p95),
                figure.items
            );
        }
        let ratio = match (row.at.first(), row.at.last()) {
            (Some(first), Some(last)) if !first.median.is_zero() => {
                last.median.as_secs_f64() / first.median.as_secs_f64()
            }
            _ => 0.0,
        };
        let _ = writeln!(table, " {ratio:.1}× |");
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_order_code_and_the_rust_one_spell_the_same_number() {
        // The Rust side, for the number the deep page starts after.
        assert_eq!(order_number(0).unwrap().as_str(), "POCHI-2222222222");
        assert_eq!(order_number(33).unwrap().as_str(), "POCHI-2222222233");
        // The SQL side reads the same digits, most significant first.
        let sql = order_code_sql("i");
        assert!(sql.starts_with("('POCHI-' || substr("));
        assert!(sql.contains("((i >> 45) & 31)"));
        assert!(sql.ends_with("((i >> 0) & 31)::int + 1, 1))"));
    }

    #[test]
    fn the_table_shows_each_size_and_the_growth_of_the_median() {
        let figure = |orders, ms| ScaleFigure {
            orders,
            median: Duration::from_millis(ms),
            p95: Duration::from_millis(ms * 2),
            items: 50,
            load: LoadAverage("0.00 0.00 0.00".to_owned()),
        };
        let rows = [ScaleRow {
            query: "stats",
            at: vec![figure(1_000, 2), figure(1_000_000, 3)],
        }];

        let table = scale_table(&rows);

        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "| query | 1000 orders: median / p95 ms (items) | 1000000 orders: median / p95 ms (items) | largest ÷ smallest (median) |"
        );
        assert_eq!(
            lines[2],
            "| stats | 2.00 / 4.00 (50) | 3.00 / 6.00 (50) | 1.5× |"
        );
    }
}
