//! The production MySQL store of Pochi: [`pochi_core::Store`] over a pool of sqlx connections,
//! with its schema embedded as migrations. Runs on MySQL 8 and MariaDB 10.11 or later (the SQL
//! is the subset both accept: no `RETURNING`, no MariaDB-only syntax).
//!
//! ```no_run
//! # async fn run() -> Result<(), pochi_core::Error> {
//! use std::sync::Arc;
//! use pochi_core::{ManualCodeProvider, Shop};
//! use pochi_store_mysql::MySqlStore;
//!
//! let store = MySqlStore::connect("mysql://pochi:secret@127.0.0.1:3306/shop").await?;
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
//! [`MySqlStore`] is `pochi-store-sql`'s [`SqlStore`] with this crate's [`MySqlDialect`]: the
//! transactions, their locks and retries are described there. Every method is one InnoDB
//! transaction at READ COMMITTED, set for each transaction whatever the server's default (at
//! InnoDB's default, REPEATABLE READ, plain reads after a lock would see the snapshot of the
//! first read and miss what a transaction we waited for wrote; READ COMMITTED also takes no
//! gap locks). Reads of several statements run in one `REPEATABLE READ` read-only transaction
//! with a consistent snapshot. MySQL does not reliably say which key a duplicate hit, so a
//! duplicate-key error runs the transaction again, which then sees the winner. Deadlocks
//! (1213) and lock wait timeouts (1205) are retried the same way; too many connections (1040),
//! shutdown in progress (1053) and a killed connection (1927, MariaDB) are
//! `Error::Unavailable`. Expiry takes due orders with `FOR UPDATE SKIP LOCKED` (MySQL 8.0.1+,
//! MariaDB 10.6+).
//!
//! What this dialect does its own way: `?` placeholders; keyset conditions in their expanded
//! form (`a > x OR (a = x AND b > y)`, which uses the indexes on every version); lists as `IN
//! (?, ?, …)`; `INSERT … ON DUPLICATE KEY UPDATE`; no data-modifying CTEs, so a new order's
//! lines, timeline and each tally table are statements of their own; and columns decoded
//! without sqlx's type check (see [`MySqlDialect`]).
//!
//! # Statistics
//!
//! [`Store::stats`](pochi_core::Store::stats) reads pre-aggregated tallies (see
//! `pochi_store_sql::tally`): orders and totals per status (`order_tallies`, 16 slots per
//! status so concurrent orders seldom wait on one row), units and revenue per product and
//! status (`product_tallies`) and paid orders per UTC day and status (`paid_tallies`), changed
//! in the same transaction that places or moves an order, last and in key order. Migration
//! 0002 computes them for the orders already there; orders edited by hand in SQL put them off
//! (the PostgreSQL store has a recount; this one does not yet).
//!
//! Money is `DECIMAL(20,2)` with the currency code beside it; times are `DATETIME(6)` in UTC
//! (the session's `time_zone` is `+00:00`); text is `utf8mb4` with the binary collation, so
//! any Unicode round-trips and identifiers compare byte for byte. (`utf8mb4_bin` pads: `'A'`
//! equals `'A '`. No identifier Pochi stores ends with a space.)
//!
//! Tested on: CI (`.ci/run`, through `scripts/ensure-databases`) runs the conformance suite on
//! MariaDB 10.11. MySQL 8 is expected to work but is not tested in CI, including the column
//! types MySQL infers for the tracking statement's `UNION ALL` (see
//! `pochi_store_sql::tracking_statement`); run the suite against it before relying on it.
//!
//! Distributed MySQL-compatible engines (TiDB, Vitess) are not tested here. Where they differ
//! from MySQL 8 (CHECK constraints, `SKIP LOCKED`, foreign keys across shards), the store
//! still relies only on unique keys, row locks and the transaction for correctness.
//!
//! # Connections
//!
//! [`SqlStore::connect`] opens a pool of [`DEFAULT_POOL_SIZE`] connections that waits at most
//! [`DEFAULT_ACQUIRE_TIMEOUT`] for a connection: a database that is down gives
//! `Error::Unavailable` after that long, never a hang, and pings a connection before use only
//! when it has been idle for [`PING_AFTER_IDLE`]. [`SqlStore::from_pool`] takes a pool you
//! configured; keep sqlx's defaults of `time_zone = '+00:00'` and the `utf8mb4` charset.

use std::{fmt, str::FromStr};

pub use pochi_store_sql::{DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_POOL_SIZE, PING_AFTER_IDLE, SqlStore};
use pochi_store_sql::{Dialect, Failure, Placeholders, Set};
pub use sqlx;
use sqlx::{
    MySql, MySqlPool, QueryBuilder, Row,
    error::DatabaseError,
    migrate::MigrateError,
    mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlRow},
};
use uuid::Uuid;

/// A [`Store`](pochi_core::Store) on MySQL 8 or MariaDB 10.11 or later. Cloning shares the pool.
pub type MySqlStore = SqlStore<MySqlDialect>;

/// How MySQL writes what the SQL core leaves to its dialect.
///
/// Columns are decoded unchecked, because the server flags every column of a binary collation
/// (all text here) as binary, which sqlx's type check refuses for `String`; each value's
/// decoding still checks it (UTF-8, number and date formats).
#[derive(Debug, Clone, Copy)]
pub struct MySqlDialect;

/// Server errors of a lost race: `ER_LOCK_DEADLOCK`, `ER_LOCK_WAIT_TIMEOUT`.
const RACE_ERRORS: [u16; 2] = [1213, 1205];

/// Server errors that mean it is going away or refusing connections: too many connections,
/// shutdown in progress, connection killed (MariaDB).
const UNREACHABLE_ERRORS: [u16; 3] = [1040, 1053, 1927];

/// Server errors that mean its disk is full: disk full, table full.
const STORAGE_FULL_ERRORS: [u16; 2] = [1021, 1114];

/// Appends `column IN (…values…)`; `FALSE` for none.
impl Dialect for MySqlDialect {
    type Db = MySql;
    pochi_store_sql::built_statements!();
    pochi_store_sql::native_columns!();

    const DATABASE: &'static str = "MySQL";
    const CONTEXT: &'static str = "mysql store";
    const STORE: &'static str = "MySqlStore";
    const URL_SCHEMES: &'static [&'static str] = &["mysql://", "mariadb://"];
    const PLACEHOLDERS: Placeholders = Placeholders::Question;
    const ROW_VALUES: bool = false;
    const DATA_MODIFYING_CTES: bool = false;
    const BEGIN_WRITE: Option<&'static str> =
        Some("SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION");
    const BEGIN_READ_SNAPSHOT: &'static str = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; \
         START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY";
    const BIGINT: &'static str = "SIGNED";
    const JSON_PARAMETER: &'static str = "";
    const JSON_AS_TEXT: &'static str = "";

    fn failure(error: &dyn DatabaseError) -> Option<Failure> {
        let number = error
            .try_downcast_ref::<MySqlDatabaseError>()
            .map(MySqlDatabaseError::number)?;
        if RACE_ERRORS.contains(&number) {
            Some(Failure::LostRace)
        } else if STORAGE_FULL_ERRORS.contains(&number) {
            Some(Failure::StorageFull)
        } else if UNREACHABLE_ERRORS.contains(&number) {
            Some(Failure::Unreachable)
        } else {
            None
        }
    }

    fn get<'r, T>(row: &'r MySqlRow, column: &str) -> Result<T, sqlx::Error>
    where
        T: sqlx::Decode<'r, MySql> + sqlx::Type<MySql>,
    {
        row.try_get_unchecked(column)
    }

    fn push_one_of_texts(query: &mut QueryBuilder<'_, MySql>, column: &str, values: Vec<String>) {
        pochi_store_sql::push_in(query, column, values);
    }

    fn push_one_of_ids(query: &mut QueryBuilder<'_, MySql>, column: &str, values: Vec<Uuid>) {
        pochi_store_sql::push_in(query, column, values);
    }

    fn upsert(_table: &str, _key: &[&str], set: &[Set<'_>]) -> String {
        let set: Vec<String> = set
            .iter()
            .map(|set| match set {
                Set::Replace(column) => format!("{column} = VALUES({column})"),
                Set::Add(column) => format!("{column} = {column} + VALUES({column})"),
            })
            .collect();
        format!(" ON DUPLICATE KEY UPDATE {}", set.join(", "))
    }

    fn connect_options(url: &str) -> Option<MySqlConnectOptions> {
        let options = MySqlConnectOptions::from_str(url).ok()?;
        // UTC in and out, and every character Unicode has (sqlx's defaults, made explicit).
        Some(
            options
                .timezone(Some(String::from("+00:00")))
                .charset("utf8mb4"),
        )
    }

    async fn migrate(pool: &MySqlPool) -> Result<(), MigrateError> {
        // sqlx takes a named lock (`GET_LOCK`) first.
        sqlx::migrate!("./migrations").run(pool).await
    }

    fn describe(options: &MySqlConnectOptions, out: &mut fmt::DebugStruct<'_, '_>) {
        out.field("host", &options.get_host())
            .field("port", &options.get_port())
            .field("database", &options.get_database())
            .field("user", &options.get_username());
    }
}
