//! The raw ceiling of `GET /api/track/:id`: the statement the store issues to track an order
//! ([`pochi_store_sql::tracking_statement`], one `UNION ALL` of the order, its lines and its
//! timeline), issued directly with sqlx on the reference server's own database (the seeded
//! orders and whatever the load has added since), by as many concurrent callers as `wrk` has
//! connections, through a pool sized like the server's (`pochi-store-sqlite`'s file pool, 8;
//! `DEFAULT_POOL_SIZE` of the SQL stores, 10). Like the store, it runs the statement on the
//! pool with no transaction around it and fetches every row; unlike the store, it decodes
//! nothing and builds no view.
//!
//! Each call tracks a random seeded order and fails unless the statement finds it, so the
//! ceiling can never quietly measure misses.

use std::{path::Path, str::FromStr, sync::Arc, time::Duration};

use async_trait::async_trait;
use pochi_store_mysql::{
    MySqlDialect,
    sqlx::{
        MySqlPool,
        mysql::{MySqlConnectOptions, MySqlPoolOptions},
    },
};
use pochi_store_postgres::{
    PostgresDialect,
    sqlx::{PgPool, postgres::PgPoolOptions},
};
use pochi_store_sql::{TRACKING_STATEMENT_BINDS, tracking_statement};
use pochi_store_sqlite::{
    SqliteDialect,
    sqlx::{
        SqlitePool,
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
    },
};
use rand::Rng;

use crate::{BenchError, stores::Backend, throughput::Placer};

/// Connections of the SQLite store's file pool (`pochi-store-sqlite`'s `FILE_POOL_SIZE`).
pub const SQLITE_POOL_SIZE: u32 = 8;
/// The SQLite store's `busy_timeout`.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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
            (Backend::Sqlite, Location::File(path)) => {
                let options = SqliteConnectOptions::new()
                    .filename(Path::new(path))
                    .journal_mode(SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT);
                Pool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(SQLITE_POOL_SIZE)
                        .connect_with(options)
                        .await?,
                )
            }
            (Backend::Postgres, Location::Database(name)) => Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(pochi_store_postgres::DEFAULT_POOL_SIZE)
                    .acquire_timeout(pochi_store_postgres::DEFAULT_ACQUIRE_TIMEOUT)
                    .connect(&crate::databases::postgres_url(name)?)
                    .await?,
            ),
            (Backend::MySql, Location::Database(name)) => {
                let options = MySqlConnectOptions::from_str(&crate::databases::mysql_url(name)?)?
                    .timezone(Some(String::from("+00:00")))
                    .charset("utf8mb4");
                Pool::MySql(
                    MySqlPoolOptions::new()
                        .max_connections(pochi_store_mysql::DEFAULT_POOL_SIZE)
                        .acquire_timeout(pochi_store_mysql::DEFAULT_ACQUIRE_TIMEOUT)
                        .connect_with(options)
                        .await?,
                )
            }
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
