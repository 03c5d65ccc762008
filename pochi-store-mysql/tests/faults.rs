//! Faults: a database that is not there, unique keys taken behind the store's back,
//! connections the database ends (the scenarios are `pochi_store_sql::testing`'s).

#![allow(clippy::unwrap_used)]

mod common;

use async_trait::async_trait;
use pochi_store_mysql::{
    MySqlDialect, MySqlStore,
    sqlx::{self, MySqlPool},
};
use pochi_store_sql::testing::{Harness, TestDb};

struct MySql;

#[async_trait]
impl Harness for MySql {
    type Dialect = MySqlDialect;

    const FOREIGN_URL: &'static str = "postgres://nope";

    async fn test_db() -> Option<TestDb<MySqlDialect>> {
        common::test_db().await
    }

    async fn kill_lock_waiter(pool: &MySqlPool) -> bool {
        // Without the PROCESS privilege a user sees (and may kill) only its own connections.
        let waiting: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM information_schema.processlist WHERE db = DATABASE() \
             AND id <> CONNECTION_ID() AND info LIKE 'SELECT%FROM orders%FOR UPDATE'",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let Some(id) = waiting.first() else {
            return false;
        };
        sqlx::query(&format!("KILL {id}"))
            .execute(pool)
            .await
            .unwrap();
        true
    }

    async fn connect_own(db: &TestDb<MySqlDialect>) -> pochi_core::Result<MySqlStore> {
        // On the test's own database, so that `end_connections` finds its connections there.
        let database: String = sqlx::query_scalar("SELECT DATABASE()")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        let url =
            std::env::var("POCHI_TEST_MYSQL_URL").unwrap_or_else(|_| common::DEFAULT_URL.into());
        let (url, query) = url.split_once('?').unwrap_or((&url, ""));
        let (server, _) = url.rsplit_once('/').unwrap();
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        MySqlStore::connect(&format!("{server}/{database}{query}")).await
    }

    async fn end_connections(db: &TestDb<MySqlDialect>) {
        // Its connections and the test pool's others, from one connection of the test pool.
        let mut admin = db.pool.acquire().await.unwrap();
        let idle: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM information_schema.processlist WHERE db = DATABASE() \
             AND id <> CONNECTION_ID()",
        )
        .fetch_all(&mut *admin)
        .await
        .unwrap();
        assert!(!idle.is_empty());
        for id in idle {
            sqlx::query(&format!("KILL {id}"))
                .execute(&mut *admin)
                .await
                .unwrap();
        }
    }
}

pochi_store_sql::fault_tests!(MySql);
