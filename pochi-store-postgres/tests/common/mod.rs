//! A fresh PostgreSQL schema for each test, in the database `pochi_test` of the server at
//! `POCHI_TEST_POSTGRES_URL` (default [`DEFAULT_URL`]).
//!
//! Schemas are named `pochi_t_<unix seconds>_<pid>_<n>`; the first test of a run drops the
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

use pochi_store_postgres::{
    PostgresDialect, PostgresStore,
    sqlx::{
        self, PgPool,
        postgres::{PgConnectOptions, PgPoolOptions},
    },
};
use pochi_store_sql::testing::{self, PREFIX};

/// Where the tests look for PostgreSQL when `POCHI_TEST_POSTGRES_URL` is not set: the user
/// `scripts/ensure-databases` creates.
pub const DEFAULT_URL: &str = "postgres://pochi:pochi@127.0.0.1:5432/postgres";
const DATABASE: &str = "pochi_test";
/// Connections per test store: enough for the concurrency scenarios to really race.
pub const POOL_SIZE: u32 = 8;

static SWEPT: AtomicBool = AtomicBool::new(false);
/// Why the server could not be reached, once one test found out (the others skip at once).
static UNREACHABLE: OnceLock<String> = OnceLock::new();

/// A migrated store on its own schema, and a pool on the same schema for raw SQL.
pub type TestDb = testing::TestDb<PostgresDialect>;

/// A fresh test database, or `None` (after saying why) when PostgreSQL is not reachable on a
/// developer's machine. Panics when `CI` is set and there is no database.
pub async fn test_db() -> Option<TestDb> {
    let url = std::env::var("POCHI_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.into());
    testing::reachable_or_skip("PostgreSQL", &UNREACHABLE, open(&url)).await
}

/// Connects to the server (`Err`: unreachable, the tests skip), then prepares a fresh schema
/// (any failure from here on fails the test).
async fn open(url: &str) -> Result<TestDb, String> {
    let base: PgConnectOptions = url
        .parse()
        .map_err(|e| format!("POCHI_TEST_POSTGRES_URL is not a PostgreSQL URL: {e}"))?;
    let place = format!("{}:{}", base.get_host(), base.get_port());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(base.clone())
        .await
        .map_err(|e| format!("cannot connect to {place}: {e}"))?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(DATABASE)
            .fetch_one(&admin)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    if !exists {
        // Parallel tests may race to create it: losing that race is fine.
        let _ = sqlx::query(&format!("CREATE DATABASE {DATABASE}"))
            .execute(&admin)
            .await;
    }
    admin.close().await;

    let in_database = base.database(DATABASE);
    let setup = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(in_database.clone())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {place}/{DATABASE}: {e}"));
    if !SWEPT.swap(true, Ordering::SeqCst) {
        sweep_stale_schemas(&setup).await;
    }
    let schema = testing::fresh_name();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&setup)
        .await
        .unwrap_or_else(|e| panic!("cannot create schema {schema}: {e}"));
    setup.close().await;

    let pool = PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(in_database.options([("search_path", schema.as_str())]))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let store = PostgresStore::from_pool(pool.clone());
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrations failed: {e:?}"));
    Ok(TestDb { store, pool })
}

/// Drops the schemas of runs that ended more than an hour ago.
async fn sweep_stale_schemas(pool: &PgPool) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)")
            .bind(PREFIX)
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    for name in names {
        if testing::is_stale(&name) {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .execute(pool)
                .await;
        }
    }
}
