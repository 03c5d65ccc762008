//! The raw ceiling: the transaction a hand-written sqlx handler would run to place an order,
//! on the adapter's own migrated schema. A conditional stock update of the tracked product,
//! the order insert and one insert per line (two), and nothing else: no idempotency or
//! order-number check, no update of the untracked product, no timeline entry, no mapping back
//! to domain errors. What the adapter does beyond that is the price of its contract.
//!
//! Each placer binds the same values as the adapter (taken from the same [`NewOrder`]) in the
//! column encodings of its schema, with a fresh order number per call.

use std::sync::Arc;

use async_trait::async_trait;
use pochi_core::ProductId;
use pochi_core::store::NewOrder;
use pochi_store_mysql::sqlx::MySqlPool;
use pochi_store_postgres::sqlx::PgPool;
use pochi_store_sqlite::sqlx::SqlitePool;
use pochi_testkit::fixtures::order_number;
use tokio::sync::Mutex;

use crate::{BenchError, throughput::Placer};

/// The product whose stock the order takes, and how many units.
#[derive(Debug, Clone, Copy)]
pub struct Reservation {
    /// The tracked product.
    pub product: ProductId,
    /// Units taken per order.
    pub quantity: u32,
}

fn out_of_stock() -> BenchError {
    "the conditional stock update took nothing (stock ran out?)".into()
}

/// The raw transaction on PostgreSQL.
#[derive(Debug)]
pub struct RawPostgres {
    pool: PgPool,
    template: NewOrder,
    reservation: Reservation,
}

impl RawPostgres {
    /// Places copies of `template` on `pool`, taking `reservation` each time.
    pub fn new(pool: PgPool, template: NewOrder, reservation: Reservation) -> Self {
        RawPostgres {
            pool,
            template,
            reservation,
        }
    }
}

#[async_trait]
impl Placer for RawPostgres {
    async fn place(&self) -> Result<(), BenchError> {
        use pochi_store_postgres::sqlx;
        let number = order_number();
        let order = &self.template.order;
        let currency = order.total.currency().code();
        let mut tx = self.pool.begin().await?;
        let taken =
            sqlx::query("UPDATE products SET stock = stock - $2 WHERE id = $1 AND stock >= $2")
                .bind(self.reservation.product.as_uuid())
                .bind(i64::from(self.reservation.quantity))
                .execute(&mut *tx)
                .await?;
        if taken.rows_affected() != 1 {
            return Err(out_of_stock());
        }
        sqlx::query(
            "INSERT INTO orders (number, status, customer_name, phone, county, area, address, \
             notes, currency, subtotal, delivery_fee, total, fingerprint, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(number.as_str())
        .bind(order.status.as_str())
        .bind(&order.customer.name)
        .bind(order.customer.phone.as_str())
        .bind(order.delivery.county.name())
        .bind(&order.delivery.area)
        .bind(&order.delivery.address)
        .bind(order.delivery.notes.as_deref())
        .bind(currency)
        .bind(order.subtotal.amount())
        .bind(order.delivery_fee.amount())
        .bind(order.total.amount())
        .bind(&self.template.fingerprint)
        .bind(order.created_at)
        .bind(order.updated_at)
        .execute(&mut *tx)
        .await?;
        for (position, line) in (0i32..).zip(&order.lines) {
            sqlx::query(
                "INSERT INTO order_lines (order_number, position, product_id, name, currency, \
                 unit_price, quantity, line_total) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(number.as_str())
            .bind(position)
            .bind(line.product_id.as_uuid())
            .bind(&line.name)
            .bind(currency)
            .bind(line.unit_price.amount())
            .bind(i64::from(line.quantity))
            .bind(line.line_total.amount())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The raw transaction on MySQL or MariaDB (the server's default isolation level).
#[derive(Debug)]
pub struct RawMySql {
    pool: MySqlPool,
    template: NewOrder,
    reservation: Reservation,
}

impl RawMySql {
    /// Places copies of `template` on `pool`, taking `reservation` each time.
    pub fn new(pool: MySqlPool, template: NewOrder, reservation: Reservation) -> Self {
        RawMySql {
            pool,
            template,
            reservation,
        }
    }
}

#[async_trait]
impl Placer for RawMySql {
    async fn place(&self) -> Result<(), BenchError> {
        use pochi_store_mysql::sqlx;
        let number = order_number();
        let order = &self.template.order;
        let currency = order.total.currency().code();
        let quantity = i64::from(self.reservation.quantity);
        let mut tx = self.pool.begin().await?;
        let taken =
            sqlx::query("UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?")
                .bind(quantity)
                .bind(self.reservation.product.as_uuid())
                .bind(quantity)
                .execute(&mut *tx)
                .await?;
        if taken.rows_affected() != 1 {
            return Err(out_of_stock());
        }
        sqlx::query(
            "INSERT INTO orders (number, status, customer_name, phone, county, area, address, \
             notes, currency, subtotal, delivery_fee, total, fingerprint, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(number.as_str())
        .bind(order.status.as_str())
        .bind(&order.customer.name)
        .bind(order.customer.phone.as_str())
        .bind(order.delivery.county.name())
        .bind(&order.delivery.area)
        .bind(&order.delivery.address)
        .bind(order.delivery.notes.as_deref())
        .bind(currency)
        .bind(order.subtotal.amount())
        .bind(order.delivery_fee.amount())
        .bind(order.total.amount())
        .bind(&self.template.fingerprint)
        .bind(order.created_at)
        .bind(order.updated_at)
        .execute(&mut *tx)
        .await?;
        for (position, line) in (0i32..).zip(&order.lines) {
            sqlx::query(
                "INSERT INTO order_lines (order_number, position, product_id, name, currency, \
                 unit_price, quantity, line_total) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(number.as_str())
            .bind(position)
            .bind(line.product_id.as_uuid())
            .bind(&line.name)
            .bind(currency)
            .bind(line.unit_price.amount())
            .bind(i64::from(line.quantity))
            .bind(line.line_total.amount())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The raw transaction on a SQLite file. SQLite has one writer at a time, so, as the adapter
/// does, writers of this process take turns on a mutex and begin with `BEGIN IMMEDIATE`;
/// without it they would fight over the file lock through `busy_timeout` sleeps, and the
/// "ceiling" would be a straw man.
#[derive(Debug)]
pub struct RawSqlite {
    pool: SqlitePool,
    writers: Arc<Mutex<()>>,
    template: NewOrder,
    reservation: Reservation,
}

impl RawSqlite {
    /// Places copies of `template` on `pool`, taking `reservation` each time.
    pub fn new(pool: SqlitePool, template: NewOrder, reservation: Reservation) -> Self {
        RawSqlite {
            pool,
            writers: Arc::new(Mutex::new(())),
            template,
            reservation,
        }
    }
}

#[async_trait]
impl Placer for RawSqlite {
    async fn place(&self) -> Result<(), BenchError> {
        use pochi_store_sqlite::sqlx;
        let number = order_number();
        let order = &self.template.order;
        let currency = order.total.currency().code();
        let _turn = self.writers.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let taken =
            sqlx::query("UPDATE products SET stock = stock - ?1 WHERE id = ?2 AND stock >= ?1")
                .bind(i64::from(self.reservation.quantity))
                .bind(self.reservation.product.to_string())
                .execute(&mut *tx)
                .await?;
        if taken.rows_affected() != 1 {
            return Err(out_of_stock());
        }
        sqlx::query(
            "INSERT INTO orders (number, status, customer_name, phone, county, area, address, \
             notes, currency, subtotal, delivery_fee, total, \
             fingerprint, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(number.as_str())
        .bind(order.status.as_str())
        .bind(&order.customer.name)
        .bind(order.customer.phone.as_str())
        .bind(order.delivery.county.name())
        .bind(&order.delivery.area)
        .bind(&order.delivery.address)
        .bind(order.delivery.notes.as_deref())
        .bind(currency)
        .bind(order.subtotal.to_minor())
        .bind(order.delivery_fee.to_minor())
        .bind(order.total.to_minor())
        .bind(&self.template.fingerprint)
        .bind(unix_micros(order.created_at))
        .bind(unix_micros(order.updated_at))
        .execute(&mut *tx)
        .await?;
        for (position, line) in (0i64..).zip(&order.lines) {
            sqlx::query(
                "INSERT INTO order_lines (order_number, position, product_id, name, currency, \
                 unit_price, quantity, line_total) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(number.as_str())
            .bind(position)
            .bind(line.product_id.to_string())
            .bind(&line.name)
            .bind(currency)
            .bind(line.unit_price.to_minor())
            .bind(i64::from(line.quantity))
            .bind(line.line_total.to_minor())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Times as the SQLite store keeps them: microseconds since the Unix epoch.
fn unix_micros(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000)).unwrap_or(i64::MAX)
}
