//! Pochi's embedded default store: [`pochi_core::Store`] over SQLite, through sqlx.
//!
//! One file (or memory) holds the whole shop; nothing to install or run beside the program.
//! The schema comes with the crate and is applied by [`SqlStore::migrate`].
//!
//! ```no_run
//! # async fn run() -> Result<(), pochi_core::Error> {
//! use std::sync::Arc;
//! use pochi_core::{ManualCodeProvider, Shop};
//! use pochi_store_sqlite::SqliteStore;
//!
//! let store = SqliteStore::open("shop.db").await?;
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
//! [`SqliteStore`] is `pochi-store-sql`'s [`SqlStore`] with this crate's [`SqliteDialect`]:
//! the same transactions as the PostgreSQL and MySQL stores, calling the same `pochi-core`
//! decisions, described there. What SQLite does its own way:
//!
//! - SQLite lets one transaction write at a time. Writes begin with `BEGIN IMMEDIATE`, which
//!   takes the write lock up front: a deferred transaction that reads and then writes can find
//!   the lock taken and fail with `SQLITE_BUSY` instead of waiting. Because writers are
//!   serialized, a uniqueness check inside a write transaction is free of races (unique keys
//!   stay as a backstop) and rows need no `FOR UPDATE`.
//! - Within one process, writers queue on a lock of the store before they begin, so they wait
//!   their turn in order rather than in SQLite's sleeping busy handler. Writers in other
//!   processes are waited for by `busy_timeout` (5 s); a transaction still locked out after
//!   that is run again, [`SqliteDialect::ATTEMPTS`] times in all, then reported as
//!   `Error::Unavailable`.
//! - A full disk (`SQLITE_FULL`) is `Error::StorageFull`: the transaction is rolled back, and
//!   writes succeed again once space is freed.
//! - Reads of several statements run in a deferred read transaction: one snapshot, and in WAL
//!   mode they never wait for writers.
//! - No data-modifying CTEs: a new order's lines, timeline and tallies are one statement each,
//!   sent as one query (sqlx's SQLite driver runs `;`-separated statements in order), so the
//!   write lock is held for one round trip to the driver's thread, not four.
//!
//! # Modes
//!
//! - A file ([`SqlStore::open`], or [`SqlStore::connect`] with `sqlite://path`): WAL journal,
//!   `synchronous = FULL` (a transaction that committed survives a power cut as well as a
//!   process crash: the shop acknowledges a C2B payment to Safaricom only after its commit,
//!   and Safaricom does not send it again), foreign keys on, a pool of 8 connections. The cost
//!   is one more sync of the write-ahead log per commit (see `benches/stores.rs`).
//! - Memory ([`SqlStore::in_memory`], or `sqlite::memory:`): one private database held by a
//!   pool of exactly one connection that never expires, so every caller sees the same data and
//!   it lives as long as the store.
//! - [`SqlStore::from_pool`]: a pool the host configured itself; it should have foreign keys on
//!   and a busy timeout (sqlx's defaults do), and, for memory databases, one connection.
//!
//! # Storage
//!
//! The tables and columns are the SQL core's. Money is kept as INTEGER minor units beside its
//! currency code, times as INTEGER microseconds since the Unix epoch (UTC), ids as TEXT
//! (hyphenated lower-case UUIDs, which sort as their bytes do), statuses by their snake_case
//! names. Text is stored as given, so any Unicode round-trips exactly. Files written by the
//! first schema (money columns named `*_minor`, flags and actors as JSON) are brought to this
//! one by migration `0002_shared_core.sql`.
//!
//! # Limits
//!
//! SQLite serializes writers: one machine, one write at a time (see `benches/stores.rs`).
//! Several processes may share one file on a local disk (they wait for each other through
//! `busy_timeout`), but WAL mode does not work on network file systems. A shop that runs
//! several servers uses the PostgreSQL or MySQL store.

use std::{fmt, path::Path, str::FromStr, time::Duration};

use pochi_core::{Currency, Error};
use pochi_store_sql::{Dialect, Failure, Placeholders, Recount, Set};
pub use pochi_store_sql::{Embedded, SqlStore};
use rust_decimal::Decimal;
pub use sqlx;
use sqlx::{
    QueryBuilder, Row, Sqlite, SqlitePool,
    error::DatabaseError,
    migrate::MigrateError,
    pool::PoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteRow, SqliteSynchronous},
};
use time::OffsetDateTime;
use uuid::Uuid;

/// A [`Store`](pochi_core::Store) kept in a SQLite database. Cheap to clone: clones share the
/// pool.
pub type SqliteStore = SqlStore<SqliteDialect>;

/// How SQLite writes what the SQL core leaves to its dialect.
#[derive(Debug, Clone, Copy)]
pub struct SqliteDialect;

/// Connections in the pool of a file database.
const FILE_POOL_SIZE: u32 = 8;
/// How long SQLite waits for another connection's lock before it reports the database busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// SQLite's primary result codes for "someone else holds the lock" (extended codes keep these in
/// their low byte).
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
/// "Database or disk is full".
const SQLITE_FULL: i32 = 13;

impl Dialect for SqliteDialect {
    type Db = Sqlite;
    pochi_store_sql::built_statements!();
    /// Minor units of the row's currency.
    type Amount = i64;
    /// Microseconds since the Unix epoch, UTC.
    type Time = i64;
    /// The hyphenated lower-case UUID.
    type Id = String;

    const DATABASE: &'static str = "SQLite";
    const CONTEXT: &'static str = "sqlite store";
    const STORE: &'static str = "SqliteStore";
    const URL_SCHEMES: &'static [&'static str] = &["sqlite:"];
    const PLACEHOLDERS: Placeholders = Placeholders::Question;
    const ROW_VALUES: bool = true;
    const DATA_MODIFYING_CTES: bool = false;
    const STATEMENTS_IN_ONE_QUERY: bool = true;
    const BEGIN_WRITE: Option<&'static str> = Some("BEGIN IMMEDIATE");
    const BEGIN_READ_SNAPSHOT: &'static str = "BEGIN";
    const BIGINT: &'static str = "INTEGER";
    const JSON_PARAMETER: &'static str = "";
    const JSON_AS_TEXT: &'static str = "";
    const ONE_WRITER: bool = true;
    const LEAST: &'static str = "MIN";
    /// Each try already waited up to `busy_timeout` for the lock.
    const ATTEMPTS: u32 = 3;

    fn amount(amount: Decimal, currency: Currency) -> i64 {
        minor_units(amount, currency)
    }

    fn decimal(stored: i64, currency: Currency) -> Result<Decimal, String> {
        Ok(Decimal::new(stored, currency.minor_units()))
    }

    fn time(at: OffsetDateTime) -> i64 {
        micros(at)
    }

    fn offset_date_time(stored: i64) -> Result<OffsetDateTime, String> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(stored) * 1_000)
            .map_err(|e| e.to_string())
    }

    fn id(id: Uuid) -> String {
        id.hyphenated().to_string()
    }

    fn uuid(stored: String) -> Result<Uuid, String> {
        Uuid::try_parse(&stored).map_err(|e| e.to_string())
    }

    fn failure(error: &dyn DatabaseError) -> Option<Failure> {
        let code = error.code()?.parse::<i32>().ok()?;
        match code & 0xff {
            SQLITE_BUSY | SQLITE_LOCKED => Some(Failure::LostRace),
            SQLITE_FULL => Some(Failure::StorageFull),
            _ => None,
        }
    }

    fn get<'r, T>(row: &'r SqliteRow, column: &str) -> Result<T, sqlx::Error>
    where
        T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
    {
        row.try_get(column)
    }

    fn push_one_of_texts(query: &mut QueryBuilder<'_, Sqlite>, column: &str, values: Vec<String>) {
        pochi_store_sql::push_in(query, column, values);
    }

    fn push_one_of_ids(query: &mut QueryBuilder<'_, Sqlite>, column: &str, values: Vec<Uuid>) {
        let values: Vec<String> = values.into_iter().map(Self::id).collect();
        pochi_store_sql::push_in(query, column, values);
    }

    fn upsert(table: &str, key: &[&str], set: &[Set<'_>]) -> String {
        pochi_store_sql::on_conflict_update(table, key, set)
    }

    fn connect_options(url: &str) -> Option<SqliteConnectOptions> {
        if is_memory_url(url) {
            return Some(Self::memory());
        }
        // sqlx would take anything else for a file name.
        if !url.starts_with("sqlite:") {
            return None;
        }
        let options = SqliteConnectOptions::from_str(url).ok()?;
        Some(file_options(options))
    }

    fn pool_options(
        options: &SqliteConnectOptions,
        pool: PoolOptions<Sqlite>,
    ) -> PoolOptions<Sqlite> {
        if is_memory(options) {
            // One connection that never closes: with more (or a fresh one), callers would see
            // different, empty databases.
            pool.min_connections(1)
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            pool.max_connections(FILE_POOL_SIZE)
        }
    }

    fn connect_error(err: sqlx::Error) -> Error {
        match err {
            sqlx::Error::Configuration(_) => {
                Error::invalid("database_url", "is not a usable SQLite database location")
            }
            // A file that cannot be opened or created (a missing directory, no permission, a
            // lock held too long).
            sqlx::Error::Database(_) | sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => {
                Error::unavailable("the SQLite database cannot be opened", err)
            }
            other => Error::backend(Self::CONTEXT, other),
        }
    }

    async fn migrate(pool: &SqlitePool) -> Result<(), MigrateError> {
        sqlx::migrate!("./migrations").run(pool).await
    }

    fn describe(options: &SqliteConnectOptions, out: &mut fmt::DebugStruct<'_, '_>) {
        // The file name only: enough to tell databases apart in logs without showing where
        // they live.
        let name = if is_memory(options) {
            "memory".to_owned()
        } else {
            file_name(options.get_filename())
        };
        out.field("database", &name);
    }
}

impl Embedded for SqliteDialect {
    fn file(path: &Path) -> SqliteConnectOptions {
        file_options(SqliteConnectOptions::new().filename(path))
    }

    fn memory() -> SqliteConnectOptions {
        SqliteConnectOptions::new()
            .filename(":memory:")
            .foreign_keys(true)
    }
}

impl Recount for SqliteDialect {
    const RECOUNT: &'static [&'static str] = &[
        // The write transaction holds SQLite's write lock: no order moves until it commits.
        "DELETE FROM order_tallies",
        "DELETE FROM product_tallies",
        "DELETE FROM paid_tallies",
        "INSERT INTO order_tallies (status, currency, slot, orders, total) \
         SELECT status, currency, unicode(substr(number, -1)) % 16, COUNT(*), SUM(total) \
         FROM orders GROUP BY status, currency, unicode(substr(number, -1)) % 16",
        "INSERT INTO product_tallies (product_id, status, currency, quantity, revenue) \
         SELECT l.product_id, o.status, l.currency, SUM(l.quantity), SUM(l.line_total) \
         FROM order_lines l JOIN orders o ON o.number = l.order_number \
         GROUP BY l.product_id, o.status, l.currency",
        "INSERT INTO paid_tallies (day, status, currency, slot, orders, total) \
         SELECT date(paid_at / 1000000, 'unixepoch'), status, currency, \
         unicode(substr(number, -1)) % 16, COUNT(*), SUM(total) \
         FROM orders WHERE paid_at IS NOT NULL \
         GROUP BY date(paid_at / 1000000, 'unixepoch'), status, currency, \
         unicode(substr(number, -1)) % 16",
    ];
}

/// What a file database needs on top of `options`.
fn file_options(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
}

/// An amount at `currency`'s scale in minor units. Amounts the domain made are at that scale
/// and within `Money::MAX`, so this is exact.
fn minor_units(amount: Decimal, currency: Currency) -> i64 {
    let mut scaled = amount;
    scaled.rescale(currency.minor_units());
    i64::try_from(scaled.mantissa()).unwrap_or(if scaled.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// A time as stored: microseconds since the Unix epoch (UTC). Anything below a microsecond is
/// dropped, as `pochi_core::clock::to_micros` does.
fn micros(at: OffsetDateTime) -> i64 {
    // `time` covers ±9999 years, about ±3.2e17 µs: always within i64.
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000)).unwrap_or(i64::MAX)
}

fn is_memory(options: &SqliteConnectOptions) -> bool {
    options.get_filename() == Path::new(":memory:")
}

fn is_memory_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|p| p == "mode=memory")
}

/// The last part of a path.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || "database".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn memory_urls_are_recognised() {
        assert!(is_memory_url("sqlite::memory:"));
        assert!(is_memory_url("sqlite://:memory:"));
        assert!(is_memory_url("sqlite://shop?mode=memory&cache=shared"));
        assert!(!is_memory_url("sqlite://shop.db"));
        assert!(!is_memory_url("sqlite:memory.db"));
    }

    #[test]
    fn debug_shows_only_the_file_name() {
        assert_eq!(file_name(Path::new("/srv/secret/place/shop.db")), "shop.db");
    }

    #[test]
    fn times_are_kept_as_unix_microseconds() {
        let at = datetime!(2026-03-01 10:00:00.123456 UTC);
        assert_eq!(micros(at), 1_772_359_200_123_456);
        assert_eq!(SqliteDialect::offset_date_time(micros(at)).unwrap(), at);
        let before_epoch = datetime!(1969-12-31 23:59:59.999999 UTC);
        assert_eq!(micros(before_epoch), -1);
        assert_eq!(SqliteDialect::offset_date_time(-1).unwrap(), before_epoch);
    }

    #[test]
    fn amounts_are_kept_in_the_minor_units_of_their_currency() {
        assert_eq!(SqliteDialect::amount(dec!(1500.50), Currency::Kes), 150_050);
        assert_eq!(SqliteDialect::amount(dec!(1500), Currency::Kes), 150_000);
        assert_eq!(SqliteDialect::amount(dec!(-20.00), Currency::Kes), -2_000);
        assert_eq!(SqliteDialect::amount(dec!(25000), Currency::Ugx), 25_000);
        assert_eq!(
            SqliteDialect::decimal(150_050, Currency::Kes).unwrap(),
            dec!(1500.50)
        );
        assert_eq!(
            SqliteDialect::decimal(25_000, Currency::Ugx).unwrap(),
            dec!(25000)
        );
    }
}
