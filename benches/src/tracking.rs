//! The raw ceiling of `GET /api/track/:id`: the statement the store issues to track an order
//! ([`pochi_store_sql::tracking_statement`], one `UNION ALL` of the order, its lines and its
//! timeline), issued directly with sqlx on the reference server's own database (the seeded
//! orders and whatever the load has added since), by as many concurrent callers as `wrk` has
//! connections, through the pool of a store opened by the store's own constructor
//! ([`pochi_store_sql::SqlStore::pool`]), so its size (8 on SQLite, 10 on the servers),
//! connection options, pragmas and ping-after-idle are the server's by construction. Like the store, it runs the statement on the
//! pool with no transaction around it and fetches every row; unlike the store, it decodes
//! nothing and builds no view.
//!
//! Each call tracks a random seeded order and fails unless the statement finds it, so the
//! ceiling can never quietly measure misses.

use std::{path::Path, sync::Arc};

use async_trait::async_trait;
use pochi_store_mysql::{MySqlDialect, MySqlStore, sqlx::MySqlPool};
use pochi_store_postgres::{PostgresDialect, PostgresStore, sqlx::PgPool};
use pochi_store_sql::{TRACKING_STATEMENT_BINDS, tracking_statement};
use pochi_store_sqlite::{SqliteDialect, SqliteStore, sqlx::SqlitePool};
use rand::Rng;

use crate::{BenchError, stores::Backend, throughput::Placer};

/// What the ceiling is called in the report.
pub const CEILING_NAME: &str =
    "the store's single tracking statement (`pochi_store_sql::tracking_statement`)";

/// The statement the store issues to track an order on `backend`; bind the order number
/// [`TRACKING_STATEMENT_BINDS`] times.
pub fn tracking_sql(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => tracking_statement::<SqliteDialect>(),
        Backend::Postgres => tracking_statement::<PostgresDialect>(),
        Backend::MySql => tracking_statement::<MySqlDialect>(),
    }
}

/// Where the server's database is, as `pochi-bench-shop` wrote it to its data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The SQLite file.
    File(String),
    /// The name of the bench database on the `POCHI_TEST_*_URL` server.
    Database(String),
}

/// The tracking read of random orders of `numbers`, on one backend's pool.
#[derive(Debug)]
pub struct RawTrack {
    pool: Pool,
    statement: String,
    numbers: Arc<Vec<String>>,
}

#[derive(Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

impl RawTrack {
    /// Opens a pool like the server's on the database at `location` and reads `numbers`.
    pub async fn connect(
        backend: Backend,
        location: &Location,
        numbers: Vec<String>,
    ) -> Result<RawTrack, BenchError> {
        if numbers.is_empty() {
            return Err("no order numbers to track".into());
        }
        let pool = match (backend, location) {
            // The store's own pool: `test_before_acquire(false)` with a ping only after
            // `PING_AFTER_IDLE`, and (SQLite) its pragmas, exactly as the server has them.
            (Backend::Sqlite, Location::File(path)) => {
                Pool::Sqlite(SqliteStore::open(Path::new(path)).await?.pool().clone())
            }
            (Backend::Postgres, Location::Database(name)) => Pool::Postgres(
                PostgresStore::connect(&crate::databases::postgres_url(name)?)
                    .await?
                    .pool()
                    .clone(),
            ),
            (Backend::MySql, Location::Database(name)) => Pool::MySql(
                MySqlStore::connect(&crate::databases::mysql_url(name)?)
                    .await?
                    .pool()
                    .clone(),
            ),
            (backend, location) => {
                return Err(format!("{backend} cannot be found at {location:?}").into());
            }
        };
        Ok(RawTrack {
            pool,
            statement: tracking_sql(backend),
            numbers: Arc::new(numbers),
        })
    }

    /// Closes the pool.
    pub async fn close(self) {
        match self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
            Pool::MySql(pool) => pool.close().await,
        }
    }

    fn pick(&self) -> &str {
        let index = rand::thread_rng().gen_range(0..self.numbers.len());
        &self.numbers[index]
    }
}

fn not_found(number: &str) -> BenchError {
    format!("the tracking statement found no order {number}").into()
}

/// Runs `$statement` on `$pool` with `$number` bound to each placeholder, fetching every row;
/// fails when it finds nothing.
macro_rules! track {
    ($query:path, $pool:expr, $statement:expr, $number:expr) => {{
        let mut query = $query($statement);
        for _ in 0..TRACKING_STATEMENT_BINDS {
            query = query.bind($number);
        }
        if query.fetch_all($pool).await?.is_empty() {
            return Err(not_found($number));
        }
    }};
}

#[async_trait]
impl Placer for RawTrack {
    async fn place(&self) -> Result<(), BenchError> {
        let number = self.pick();
        let statement = self.statement.as_str();
        match &self.pool {
            Pool::Sqlite(pool) => track!(pochi_store_sqlite::sqlx::query, pool, statement, number),
            Pool::Postgres(pool) => {
                track!(pochi_store_postgres::sqlx::query, pool, statement, number)
            }
            Pool::MySql(pool) => track!(pochi_store_mysql::sqlx::query, pool, statement, number),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_issues_one_statement_with_the_number_bound_to_each_placeholder() {
        for backend in Backend::ALL {
            let statement = tracking_sql(backend);
            let placeholders = match backend {
                Backend::Postgres => (1..=TRACKING_STATEMENT_BINDS)
                    .filter(|n| statement.contains(&format!("${n}")))
                    .count(),
                Backend::Sqlite | Backend::MySql => statement.matches('?').count(),
            };
            assert_eq!(
                placeholders, TRACKING_STATEMENT_BINDS,
                "{backend}: {statement}"
            );
            assert!(!statement.contains(';'), "{backend}: one statement");
        }
    }
}
