//! The production PostgreSQL store of Pochi: [`pochi_core::Store`] over a pool of sqlx
//! connections, with its schema embedded as migrations.
//!
//! ```no_run
//! # async fn run() -> Result<(), pochi_core::Error> {
//! use std::sync::Arc;
//! use pochi_core::{ManualCodeProvider, Shop};
//! use pochi_store_postgres::PostgresStore;
//!
//! let store = PostgresStore::connect("postgres://pochi:secret@127.0.0.1:5432/shop").await?;
//! store.migrate().await?;
//! let shop = Shop::builder(Arc::new(store))
//!     .provider(Arc::new(ManualCodeProvider::new()))
//!     .build()?;
//! # let _ = shop;
//! # Ok(())
//! # }
//! ```
//!
//! # How it keeps the contract
//!
//! [`PostgresStore`] is `pochi-store-sql`'s [`SqlStore`] with this crate's [`PostgresDialect`]:
//! the transactions, their locks and retries are described there. Every method is one
//! transaction at READ COMMITTED (PostgreSQL's default); reads of several statements run in one
//! `REPEATABLE READ READ ONLY` transaction. Deadlocks (`40P01`) and serialization failures
//! (`40001`) are retried; connection exceptions (`08…`), operator intervention (`57P…`) and
//! insufficient resources (`53…`) are `Error::Unavailable`. Unique violations name their
//! constraint here, so a racing order that took an order number is told apart at once.
//!
//! What this dialect does its own way: `$n` placeholders; row-value keyset conditions
//! (`(created_at, number) < ($1, $2)`, read from the index); lists as one array parameter
//! (`= ANY($1)`, one cached statement whatever their length); `INSERT … ON CONFLICT … DO
//! UPDATE`; and a new order's lines, timeline and tallies written in one statement of
//! data-modifying CTEs, one round trip while the order holds its products' stock locks.
//!
//! # Statistics
//!
//! [`Store::stats`](pochi_core::Store::stats) reads pre-aggregated tallies (see
//! `pochi_store_sql::tally`), kept by the transactions that place and move orders. Order
//! tallies are spread over 16 rows per status so concurrent orders seldom wait on one; tally
//! rows are locked last, in key order, so they add no deadlocks. Orders edited by hand in SQL
//! put the tallies off until [`SqlStore::recount_statistics`] runs.
//!
//! Money is `NUMERIC(20,2)` with the currency code beside it, times are `TIMESTAMPTZ`, and
//! identifiers are compared and ordered byte for byte (`COLLATE "C"`).
//!
//! Distributed PostgreSQL-compatible engines: the SQL is plain PostgreSQL (row-value
//! comparisons, `= ANY($1)`, `FOR UPDATE SKIP LOCKED`, `COLLATE "C"`, a partial index), all of
//! which CockroachDB and YugabyteDB document as supported; neither is tested here. They run at
//! SERIALIZABLE, where the retries of serialization failures above do the work.
//!
//! # Connections
//!
//! [`SqlStore::connect`] opens a pool of [`DEFAULT_POOL_SIZE`] connections that waits at most
//! [`DEFAULT_ACQUIRE_TIMEOUT`] for a connection: a database that is down gives
//! `Error::Unavailable` after that long, never a hang, and pings a connection before use only
//! when it has been idle for [`PING_AFTER_IDLE`]. Use [`SqlStore::from_pool`] to choose other
//! pool settings (or TLS options) yourself.

use std::{fmt, str::FromStr};

pub use pochi_store_sql::{DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_POOL_SIZE, PING_AFTER_IDLE, SqlStore};
use pochi_store_sql::{Dialect, Failure, Placeholders, Recount, Set};
pub use sqlx;
use sqlx::{
    PgPool, Postgres, QueryBuilder, Row,
    error::DatabaseError,
    migrate::MigrateError,
    postgres::{PgConnectOptions, PgRow},
};
use uuid::Uuid;

/// A [`Store`](pochi_core::Store) on PostgreSQL 15 or later. Cloning shares the pool.
pub type PostgresStore = SqlStore<PostgresDialect>;

/// How PostgreSQL writes what the SQL core leaves to its dialect.
#[derive(Debug, Clone, Copy)]
pub struct PostgresDialect;

/// SQLSTATEs of a lost race: `deadlock_detected`, `serialization_failure`.
const RACE_STATES: [&str; 2] = ["40P01", "40001"];

impl Dialect for PostgresDialect {
    type Db = Postgres;
    pochi_store_sql::built_statements!();
    pochi_store_sql::native_columns!();

    const DATABASE: &'static str = "PostgreSQL";
    const CONTEXT: &'static str = "postgres store";
    const STORE: &'static str = "PostgresStore";
    const URL_SCHEMES: &'static [&'static str] = &["postgres://", "postgresql://"];
    const PLACEHOLDERS: Placeholders = Placeholders::Numbered;
    const ROW_VALUES: bool = true;
    const DATA_MODIFYING_CTES: bool = true;
    const BEGIN_WRITE: Option<&'static str> = None;
    const BEGIN_READ_SNAPSHOT: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    const BIGINT: &'static str = "BIGINT";
    const JSON_PARAMETER: &'static str = "::jsonb";
    const JSON_AS_TEXT: &'static str = "::text";

    fn failure(error: &dyn DatabaseError) -> Option<Failure> {
        let code = error.code()?;
        if RACE_STATES.contains(&code.as_ref()) {
            Some(Failure::LostRace)
        } else if code == "53100" {
            // disk_full
            Some(Failure::StorageFull)
        } else if ["08", "57P", "53"]
            .iter()
            .any(|class| code.starts_with(class))
        {
            // Connection exceptions, operator intervention (57P01-57P03), insufficient
            // resources (53xxx, too many connections among them).
            Some(Failure::Unreachable)
        } else {
            None
        }
    }

    fn get<'r, T>(row: &'r PgRow, column: &str) -> Result<T, sqlx::Error>
    where
        T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
    {
        row.try_get(column)
    }

    fn push_one_of_texts(
        query: &mut QueryBuilder<'_, Postgres>,
        column: &str,
        values: Vec<String>,
    ) {
        query
            .push(column)
            .push(" = ANY(")
            .push_bind(values)
            .push(")");
    }

    fn push_one_of_ids(query: &mut QueryBuilder<'_, Postgres>, column: &str, values: Vec<Uuid>) {
        query
            .push(column)
            .push(" = ANY(")
            .push_bind(values)
            .push(")");
    }

    fn upsert(table: &str, key: &[&str], set: &[Set<'_>]) -> String {
        pochi_store_sql::on_conflict_update(table, key, set)
    }

    fn connect_options(url: &str) -> Option<PgConnectOptions> {
        PgConnectOptions::from_str(url).ok()
    }

    async fn migrate(pool: &PgPool) -> Result<(), MigrateError> {
        sqlx::migrate!("./migrations").run(pool).await
    }

    fn describe(options: &PgConnectOptions, out: &mut fmt::DebugStruct<'_, '_>) {
        out.field("host", &options.get_host())
            .field("port", &options.get_port())
            .field("database", &options.get_database())
            .field("user", &options.get_username());
    }
}

impl Recount for PostgresDialect {
    const RECOUNT: &'static [&'static str] = &[
        // Placing and moving orders waits until the recount commits.
        "LOCK TABLE orders, order_lines IN SHARE MODE",
        "DELETE FROM order_tallies",
        "DELETE FROM product_tallies",
        "DELETE FROM paid_tallies",
        "INSERT INTO order_tallies (status, currency, slot, orders, total) \
         SELECT status, currency, ascii(right(number, 1)) % 16, COUNT(*), SUM(total) \
         FROM orders GROUP BY status, currency, ascii(right(number, 1)) % 16",
        "INSERT INTO product_tallies (product_id, status, currency, quantity, revenue) \
         SELECT l.product_id, o.status, l.currency, SUM(l.quantity), SUM(l.line_total) \
         FROM order_lines l JOIN orders o ON o.number = l.order_number \
         GROUP BY l.product_id, o.status, l.currency",
        "INSERT INTO paid_tallies (day, status, currency, slot, orders, total) \
         SELECT (paid_at AT TIME ZONE 'UTC')::date, status, currency, \
         ascii(right(number, 1)) % 16, COUNT(*), SUM(total) \
         FROM orders WHERE paid_at IS NOT NULL \
         GROUP BY (paid_at AT TIME ZONE 'UTC')::date, status, currency, \
         ascii(right(number, 1)) % 16",
    ];
}
