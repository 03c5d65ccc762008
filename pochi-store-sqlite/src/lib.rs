//! Pochi's embedded default store: [`pochi_core::Store`] over SQLite, through sqlx.
//!
//! One file (or memory) holds the whole shop; nothing to install or run beside the program.
//! The schema comes with the crate and is applied by [`SqliteStore::migrate`].
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
//! Every method of the [`Store`](pochi_core::Store) contract is one SQLite transaction that
//! calls the same `pochi-core` decisions as the reference
//! [`MemoryStore`](pochi_core::MemoryStore) (`Order::plan_move`, `payment::settle`,
//! `Order::units_by_product`) on the rows it reads inside that transaction.
//!
//! - Writes begin with `BEGIN IMMEDIATE`, which takes SQLite's single write lock up front: a
//!   deferred transaction that reads and then writes can find the lock taken and fail with
//!   `SQLITE_BUSY` instead of waiting. Because writers are serialized, a uniqueness check
//!   inside a write transaction is free of races; unique constraints stay as a backstop and
//!   are reported as `Conflict`.
//! - Within one process, writers queue on an async lock before they begin, so they wait their
//!   turn in order rather than in SQLite's sleeping busy handler. Writers in other processes
//!   are waited for by `busy_timeout` (5 s); a transaction still locked out after that is run
//!   again, three tries in all, then reported as `Error::Unavailable`.
//! - Stock is reserved by a conditional decrement
//!   (`UPDATE … SET stock = stock - ? WHERE … AND (stock IS NULL OR stock >= ?)`), so no
//!   interleaving of buyers can sell more than there is.
//! - Reads run in a (deferred) read transaction, so an order and its lines come from one
//!   snapshot; in WAL mode they never wait for writers.
//!
//! # Modes
//!
//! - A file ([`SqliteStore::open`], or [`SqliteStore::connect`] with `sqlite://path`): WAL
//!   journal, `synchronous = NORMAL` (durable across process crashes; a power cut may lose the
//!   last transactions, never corrupt the file), foreign keys on, a pool of
//!   8 connections.
//! - Memory ([`SqliteStore::in_memory`], or `sqlite::memory:`): one private database held by a
//!   pool of exactly one connection that never expires, so every caller sees the same data
//!   and it lives as long as the store.
//! - [`SqliteStore::from_pool`]: a pool the host configured itself; it should have foreign
//!   keys on and a busy timeout (sqlx's defaults do), and, for memory databases, one
//!   connection.
//!
//! # Storage
//!
//! Money is kept as INTEGER minor units beside its currency code, times as INTEGER
//! microseconds since the Unix epoch (UTC), ids as TEXT, statuses by their snake_case names,
//! actors, payment flags and review reasons as JSON. Text is stored as given, so any Unicode
//! round-trips exactly.
//!
//! # Limits
//!
//! SQLite serializes writers: one machine, one write at a time (on a 2-core machine about
//! 1,500 orders a second, see `benches/stores.rs`). Several processes may share one file on a
//! local disk (they wait for each other through `busy_timeout`), but WAL mode does not work
//! on network file systems. A shop that runs several servers uses the PostgreSQL or MySQL
//! store.

#[macro_use]
mod tx;

mod catalogue;
mod codec;
mod error;
mod orders;
mod payments;
mod reports;
mod store;

use std::{fmt, path::Path, str::FromStr, sync::Arc, time::Duration};

use pochi_core::{Error, Result};
pub use sqlx;
use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use tokio::sync::Mutex;

use crate::error::{Failure, migrate_error};

/// Connections in the pool of a file database.
const FILE_POOL_SIZE: u32 = 8;
/// How long SQLite waits for another connection's lock before it reports the database busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`Store`](pochi_core::Store) kept in a SQLite database. Cheap to clone: clones share the
/// pool.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Writers of this process take turns here before `BEGIN IMMEDIATE`.
    writers: Arc<Mutex<()>>,
    /// What `Debug` shows: a file name or `memory`, nothing more of the path.
    name: Arc<str>,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database file at `path`. Does not migrate: call
    /// [`SqliteStore::migrate`].
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let options = SqliteConnectOptions::new().filename(path);
        Self::open_file(options, file_name(path)).await
    }

    /// A new, empty database in memory, gone when the last clone of the store is dropped.
    pub async fn in_memory() -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(":memory:")
            .foreign_keys(true);
        // One connection that never closes: with more (or a fresh one), callers would see
        // different, empty databases.
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        Ok(Self::with_pool(pool, "memory"))
    }

    /// Connects by URL: `sqlite://path/to/shop.db` (the file is created if missing),
    /// `sqlite::memory:` (as [`SqliteStore::in_memory`]). Does not migrate.
    pub async fn connect(url: &str) -> Result<Self> {
        if is_memory_url(url) {
            return Self::in_memory().await;
        }
        let not_sqlite = || {
            Error::invalid(
                "database_url",
                "must be a SQLite URL such as sqlite://shop.db or sqlite::memory:",
            )
        };
        // sqlx would take anything else for a file name.
        if !url.starts_with("sqlite:") {
            return Err(not_sqlite());
        }
        let options = SqliteConnectOptions::from_str(url).map_err(|_| not_sqlite())?;
        let name = file_name(options.get_filename());
        Self::open_file(options, name).await
    }

    /// Uses a pool the caller built (see the crate docs for what it should be). Does not
    /// migrate.
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self::with_pool(pool, "pool")
    }

    /// Brings the schema up to date with the migrations embedded in this crate. Safe to run
    /// on every start: applied migrations are skipped.
    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(migrate_error)
    }

    async fn open_file(options: SqliteConnectOptions, name: String) -> Result<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(FILE_POOL_SIZE)
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        Ok(Self::with_pool(pool, &name))
    }

    fn with_pool(pool: SqlitePool, name: &str) -> Self {
        SqliteStore {
            pool,
            writers: Arc::new(Mutex::new(())),
            name: Arc::from(name),
        }
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("database", &self.name)
            .finish_non_exhaustive()
    }
}

fn is_memory_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|p| p == "mode=memory")
}

/// The last part of a path: enough to tell databases apart in logs without showing where they
/// live.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || "database".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn connect_error(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::Configuration(_) => {
            Error::invalid("database_url", "is not a usable SQLite database location")
        }
        other => Error::from(Failure::Database(other)),
    }
}

#[cfg(test)]
mod tests {
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
}
