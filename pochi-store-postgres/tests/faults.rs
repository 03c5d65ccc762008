//! Faults: a database that is not there, unique keys taken behind the store's back,
//! connections the database ends (the scenarios are `pochi_store_sql::testing`'s).

#![allow(clippy::unwrap_used)]

mod common;

use async_trait::async_trait;
use pochi_store_postgres::{
    PostgresDialect, PostgresStore,
    sqlx::{self, PgPool},
};
use pochi_store_sql::testing::{Harness, TestDb};

/// The name the connections of `connect_own`'s store carry.
fn application_name() -> String {
    format!("pochi-idle-{}", std::process::id())
}

struct Postgres;

#[async_trait]
impl Harness for Postgres {
    type Dialect = PostgresDialect;

    const FOREIGN_URL: &'static str = "mysql://nope";

    async fn test_db() -> Option<TestDb<PostgresDialect>> {
        common::test_db().await
    }

    async fn kill_lock_waiter(pool: &PgPool) -> bool {
        let waiting: Vec<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let Some(pid) = waiting.first() else {
            return false;
        };
        sqlx::query("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .execute(pool)
            .await
            .unwrap();
        true
    }

    async fn connect_own(_: &TestDb<PostgresDialect>) -> pochi_core::Result<PostgresStore> {
        let url =
            std::env::var("POCHI_TEST_POSTGRES_URL").unwrap_or_else(|_| common::DEFAULT_URL.into());
        let joiner = if url.contains('?') { '&' } else { '?' };
        PostgresStore::connect(&format!(
            "{url}{joiner}application_name={}",
            application_name()
        ))
        .await
    }

    async fn end_connections(db: &TestDb<PostgresDialect>) {
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind(application_name())
        .fetch_all(&db.pool)
        .await
        .unwrap();
        assert!(!ended.is_empty() && ended.iter().all(|e| *e), "{ended:?}");
    }
}

pochi_store_sql::fault_tests!(Postgres);
