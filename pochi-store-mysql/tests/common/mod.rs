//! A fresh MySQL database for each test, on the server at `POCHI_TEST_MYSQL_URL` (default
//! [`DEFAULT_URL`]).
//!
//! Databases are named `pochi_t_<unix seconds>_<pid>_<n>`; the first test of a run drops the
//! ones a run left behind more than an hour ago. Without a reachable server a test is skipped
//! with the reason printed, unless `CI` is set: then it fails.

#![allow(dead_code, unreachable_pub)]

use std::{
    sync::{
        OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use pochi_store_mysql::{
    MySqlDialect, MySqlStore,
    sqlx::{
        self, MySqlPool,
        mysql::{MySqlConnectOptions, MySqlPoolOptions},
    },
};
use pochi_store_sql::testing;

/// Where the tests look for MySQL when `POCHI_TEST_MYSQL_URL` is not set: the user
/// `scripts/ensure-databases` creates (it may create databases named `pochi*`).
pub const DEFAULT_URL: &str = "mysql://pochi:pochi@127.0.0.1:3306/pochi";
/// Connections per test store: enough for the concurrency scenarios to really race.
pub const POOL_SIZE: u32 = 8;

static SWEPT: AtomicBool = AtomicBool::new(false);
/// Why the server could not be reached, once one test found out (the others skip at once).
static UNREACHABLE: OnceLock<String> = OnceLock::new();

/// A migrated store on its own database, and a pool on the same database for raw SQL.
pub type TestDb = testing::TestDb<MySqlDialect>;

/// A fresh test database, or `None` (after saying why) when MySQL is not reachable on a
/// developer's machine. Panics when `CI` is set and there is no database.
pub async fn test_db() -> Option<TestDb> {
    let url = std::env::var("POCHI_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_URL.into());
    testing::reachable_or_skip("MySQL", &UNREACHABLE, open(&url)).await
}

/// Connects to the server (`Err`: unreachable, the tests skip), then prepares a fresh schema
/// (any failure from here on fails the test).
async fn open(url: &str) -> Result<TestDb, String> {
    let base: MySqlConnectOptions = url
        .parse()
        .map_err(|e| format!("POCHI_TEST_MYSQL_URL is not a MySQL URL: {e}"))?;
    let place = format!("{}:{}", base.get_host(), base.get_port());
    let admin = MySqlPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(base.clone())
        .await
        .map_err(|e| format!("cannot connect to {place}: {e}"))?;
    if !SWEPT.swap(true, Ordering::SeqCst) {
        sweep_stale_databases(&admin).await;
    }
    let database = testing::fresh_name();
    sqlx::query(&format!(
        "CREATE DATABASE {database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    ))
    .execute(&admin)
    .await
    .unwrap_or_else(|e| panic!("cannot create database {database}: {e}"));
    admin.close().await;

    let pool = MySqlPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(base.database(&database))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let store = MySqlStore::from_pool(pool.clone());
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrations failed: {e:?}"));
    Ok(TestDb { store, pool })
}

/// Drops the databases of runs that ended more than an hour ago.
async fn sweep_stale_databases(pool: &MySqlPool) {
    let names: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT CAST(schema_name AS BINARY) FROM information_schema.schemata \
         WHERE schema_name LIKE 'pochi\\_t\\_%'",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    for name in names {
        let name = String::from_utf8_lossy(&name);
        if testing::is_stale(&name) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS `{name}`"))
                .execute(pool)
                .await;
        }
    }
}
