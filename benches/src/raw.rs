//! The raw ceiling: the transaction a hand-written sqlx handler would run to place an order,
//! on the adapter's own migrated schema. A conditional stock update of each tracked product
//! (in product-id order, so concurrent orders cannot deadlock), the order insert and one insert
//! per line (two), and nothing else: no idempotency or order-number check, no update of an
//! untracked product, no timeline entry, no mapping back to domain errors. What the adapter
//! does beyond that is the price of its contract.
//!
//! Each placer binds the same values as the adapter (the same [`Basket`] makes both sides'
//! orders) in the column encodings of its schema, with a fresh order number per call.

use std::sync::Arc;

use async_trait::async_trait;
use pochi_core::{Product, ProductId, store::NewOrder};
use pochi_store_mysql::sqlx::MySqlPool;
use pochi_store_postgres::sqlx::PgPool;
use pochi_store_sqlite::sqlx::SqlitePool;
use pochi_testkit::fixtures::{T0, checkout, new_order, order_number};
use rand::Rng;
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

/// What each order of a contest is for.
#[derive(Debug, Clone)]
pub enum Basket {
    /// The same order every time (the flash sale): two units of one tracked product and one of
    /// an untracked one, so every order meets on the tracked product's row lock.
    Hot {
        /// The order to place again, under a fresh number each time.
        template: Box<NewOrder>,
        /// The tracked product's stock it takes.
        reservation: Reservation,
    },
    /// Two distinct products picked at random out of `products` (every one tracked), two
    /// units of the first and one of the second: orders spread over a catalogue as customers
    /// spread them, and rarely meet on a row.
    Random {
        /// The catalogue to pick from (at least two products).
        products: Vec<Product>,
    },
}

impl Basket {
    /// The next order, with a fresh number, and the stock it takes in product-id order.
    pub fn next(&self) -> (NewOrder, Vec<Reservation>) {
        match self {
            Basket::Hot {
                template,
                reservation,
            } => {
                let mut order = NewOrder::clone(template);
                order.order.number = order_number();
                (order, vec![*reservation])
            }
            Basket::Random { products } => {
                let mut rng = rand::thread_rng();
                let first = rng.gen_range(0..products.len());
                // Another product: never the first (a catalogue of one repeats it).
                let second = (first + rng.gen_range(1..products.len().max(2))) % products.len();
                let (a, b) = (&products[first], &products[second]);
                let order = new_order(
                    order_number(),
                    &checkout(&[(a, 2), (b, 1)]),
                    &[a.clone(), b.clone()],
                    T0,
                );
                let mut reservations = vec![
                    Reservation {
                        product: a.id,
                        quantity: 2,
                    },
                    Reservation {
                        product: b.id,
                        quantity: 1,
                    },
                ];
                reservations.sort_by_key(|r| r.product.as_uuid());
                (order, reservations)
            }
        }
    }
}

fn out_of_stock() -> BenchError {
    "the conditional stock update took nothing (stock ran out?)".into()
}

/// The raw transaction on PostgreSQL.
#[derive(Debug)]
pub struct RawPostgres {
    pool: PgPool,
    basket: Basket,
}

impl RawPostgres {
    /// Places the orders of `basket` on `pool`.
    pub fn new(pool: PgPool, basket: Basket) -> Self {
        RawPostgres { pool, basket }
    }
}

#[async_trait]
impl Placer for RawPostgres {
    async fn place(&self) -> Result<(), BenchError> {
        use pochi_store_postgres::sqlx;
        let (new, reservations) = self.basket.next();
        let (number, order) = (&new.order.number, &new.order);
        let currency = order.total.currency().code();
        let mut tx = self.pool.begin().await?;
        for reservation in &reservations {
            let taken =
                sqlx::query("UPDATE products SET stock = stock - $2 WHERE id = $1 AND stock >= $2")
                    .bind(reservation.product.as_uuid())
                    .bind(i64::from(reservation.quantity))
                    .execute(&mut *tx)
                    .await?;
            if taken.rows_affected() != 1 {
                return Err(out_of_stock());
            }
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
        .bind(&new.fingerprint)
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
    basket: Basket,
}

impl RawMySql {
    /// Places the orders of `basket` on `pool`.
    pub fn new(pool: MySqlPool, basket: Basket) -> Self {
        RawMySql { pool, basket }
    }
}

#[async_trait]
impl Placer for RawMySql {
    async fn place(&self) -> Result<(), BenchError> {
        use pochi_store_mysql::sqlx;
        let (new, reservations) = self.basket.next();
        let (number, order) = (&new.order.number, &new.order);
        let currency = order.total.currency().code();
        let mut tx = self.pool.begin().await?;
        for reservation in &reservations {
            let quantity = i64::from(reservation.quantity);
            let taken =
                sqlx::query("UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?")
                    .bind(quantity)
                    .bind(reservation.product.as_uuid())
                    .bind(quantity)
                    .execute(&mut *tx)
                    .await?;
            if taken.rows_affected() != 1 {
                return Err(out_of_stock());
            }
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
        .bind(&new.fingerprint)
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
    basket: Basket,
}

impl RawSqlite {
    /// Places the orders of `basket` on `pool`.
    pub fn new(pool: SqlitePool, basket: Basket) -> Self {
        RawSqlite {
            pool,
            writers: Arc::new(Mutex::new(())),
            basket,
        }
    }
}

#[async_trait]
impl Placer for RawSqlite {
    async fn place(&self) -> Result<(), BenchError> {
        use pochi_store_sqlite::sqlx;
        let (new, reservations) = self.basket.next();
        let (number, order) = (&new.order.number, &new.order);
        let currency = order.total.currency().code();
        let _turn = self.writers.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for reservation in &reservations {
            let taken =
                sqlx::query("UPDATE products SET stock = stock - ?1 WHERE id = ?2 AND stock >= ?1")
                    .bind(i64::from(reservation.quantity))
                    .bind(reservation.product.to_string())
                    .execute(&mut *tx)
                    .await?;
            if taken.rows_affected() != 1 {
                return Err(out_of_stock());
            }
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
        .bind(&new.fingerprint)
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

#[cfg(test)]
mod tests {
    use pochi_core::product::MAX_STOCK;
    use pochi_testkit::fixtures::product;

    use super::*;

    #[test]
    fn a_random_basket_orders_two_different_products_and_reserves_them_in_id_order() {
        let products: Vec<Product> = (0..3)
            .map(|i| product(&format!("Kikoi {i}"), "1500", Some(MAX_STOCK)))
            .collect();
        let basket = Basket::Random {
            products: products.clone(),
        };
        let mut seen = std::collections::HashSet::new();

        for _ in 0..300 {
            let (new, reservations) = basket.next();

            let lines: Vec<ProductId> = new.order.lines.iter().map(|l| l.product_id).collect();
            assert_eq!(lines.len(), 2);
            assert_ne!(lines[0], lines[1]);
            assert_eq!(reservations.len(), 2);
            assert!(reservations[0].product.as_uuid() < reservations[1].product.as_uuid());
            let mut taken: Vec<(ProductId, u32)> = new
                .order
                .lines
                .iter()
                .map(|l| (l.product_id, l.quantity))
                .collect();
            taken.sort_by_key(|(id, _)| id.as_uuid());
            let reserved: Vec<(ProductId, u32)> = reservations
                .iter()
                .map(|r| (r.product, r.quantity))
                .collect();
            assert_eq!(reserved, taken);
            seen.extend(lines);
        }
        assert_eq!(seen.len(), products.len(), "every product gets picked");
    }
}
