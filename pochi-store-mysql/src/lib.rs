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
//! Every [`Store`](pochi_core::Store) method is one InnoDB transaction at READ COMMITTED (set
//! for each transaction, whatever the server's default) that calls the same decision functions
//! of `pochi-core` as the in-memory reference store, on rows it has locked:
//! - placing an order inserts the order row (its number and idempotency key are unique keys),
//!   then reserves stock with one conditional `UPDATE … WHERE stock >= n` per product, in
//!   product-id order so concurrent orders never deadlock on products, then inserts lines and
//!   timeline;
//! - status moves and payment results lock the order row (`SELECT … FOR UPDATE`), then the
//!   payment row, call [`Order::plan_move`](pochi_core::Order::plan_move) or
//!   [`settle`](pochi_core::payment::settle) and write what they decided;
//! - expiry takes due orders with `FOR UPDATE SKIP LOCKED` (MySQL 8.0.1+, MariaDB 10.6+), so
//!   parallel sweepers share the work;
//! - uniqueness (order number, idempotency keys, `(provider, provider_reference)`, receipt) is
//!   a unique key. MySQL does not reliably say which key a duplicate hit, so each method checks
//!   its keys inside the transaction first, and a duplicate-key error (another transaction won
//!   the race in between) runs the transaction again, which then sees the winner. Deadlocks
//!   (1213) and lock wait timeouts (1205) are retried the same way, a bounded number of times,
//!   and then reported as [`Error::Unavailable`](pochi_core::Error).
//!
//! Reads that need several statements (an order with its lines and timeline, a page of orders)
//! run in one `REPEATABLE READ` read-only transaction with a consistent snapshot. Lists use
//! keyset pagination (`a > x OR (a = x AND b > y)`, which uses the indexes on every version);
//! a page of orders loads its lines and timelines in one query each.
//!
//! # Statistics
//!
//! [`Store::stats`](pochi_core::Store::stats) reads pre-aggregated tallies, not the orders
//! (the rows are `pochi_core::tally`'s): orders and totals per status (`order_tallies`, 16
//! slots per status so concurrent orders seldom wait on one row), units and revenue per
//! product and status (`product_tallies`) and paid orders per UTC day and status
//! (`paid_tallies`), changed by `INSERT … ON DUPLICATE KEY UPDATE` in the same transaction
//! that places or moves an order, last and in key order. A revenue window adds its whole days
//! from `paid_tallies` and reads only the orders paid in its first, partial day. Migration
//! 0002 computes them for the orders already there; orders edited by hand in SQL put them
//! off (the PostgreSQL store has a recount; this one does not yet).
//!
//! Money is `DECIMAL(20,2)` with the currency code beside it; times are `DATETIME(6)` in UTC
//! (the session's `time_zone` is `+00:00`); text is `utf8mb4` with the binary collation, so
//! any Unicode round-trips and identifiers compare byte for byte. (`utf8mb4_bin` pads: `'A'`
//! equals `'A '`. No identifier Pochi stores ends with a space.)
//!
//! Distributed MySQL-compatible engines (TiDB, Vitess) are not tested here. Where they differ
//! from MySQL 8 (CHECK constraints, `SKIP LOCKED`, foreign keys across shards), the store
//! still relies only on unique keys, row locks and the transaction for correctness.
//!
//! # Connections
//!
//! [`MySqlStore::connect`] opens a pool of [`DEFAULT_POOL_SIZE`] connections that waits at most
//! [`DEFAULT_ACQUIRE_TIMEOUT`] for a connection: a database that is down gives
//! `Error::Unavailable` after that long, never a hang, and pings a connection before use only
//! when it has been idle for [`PING_AFTER_IDLE`]. [`MySqlStore::from_pool`] takes a pool
//! you configured; keep sqlx's defaults of `time_zone = '+00:00'` and the `utf8mb4` charset.

mod catalogue;
mod error;
mod orders;
mod payments;
mod placing;
mod reports;
mod reviews;
mod rows;
mod store;
mod tallies;

use std::{fmt, str::FromStr, time::Duration};

use pochi_core::{Error, Result};
pub use sqlx;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};

/// Connections in the pool [`MySqlStore::connect`] opens.
pub const DEFAULT_POOL_SIZE: u32 = 10;

/// How long a method waits for a free connection (or for the database to answer a new
/// connection) before it gives up with `Error::Unavailable`.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A pooled connection idle for at least this long is pinged before use, and replaced if the
/// database ended it meanwhile (a restart, an idle timeout). One used more recently is
/// trusted: under load no store call pays a round trip for the check (sqlx's default pings on
/// every acquire), and a connection that breaks in that window fails its call with
/// `Error::Unavailable` and is not reused.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// A [`Store`](pochi_core::Store) on MySQL 8 or MariaDB 10.11 or later. Cloning shares the pool.
#[derive(Clone)]
pub struct MySqlStore {
    pool: MySqlPool,
}

impl MySqlStore {
    /// Connects to the database at `url` (`mysql://user:password@host:port/database`) with
    /// a pool of [`DEFAULT_POOL_SIZE`] connections. Fails with `Error::Unavailable` if the
    /// database cannot be reached, or `Error::InvalidInput` if the URL is not a MySQL URL.
    pub async fn connect(url: &str) -> Result<Self> {
        let invalid = || Error::invalid("database_url", "is not a valid MySQL URL");
        if !(url.starts_with("mysql://") || url.starts_with("mariadb://")) {
            return Err(invalid());
        }
        let options = MySqlConnectOptions::from_str(url)
            .map_err(|_| invalid())?
            // UTC in and out, and every character Unicode has (sqlx's defaults, made explicit).
            .timezone(Some(String::from("+00:00")))
            .charset("utf8mb4");
        let pool = MySqlPoolOptions::new()
            .max_connections(DEFAULT_POOL_SIZE)
            .acquire_timeout(DEFAULT_ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_AFTER_IDLE {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(error::from_sqlx)?;
        Ok(MySqlStore { pool })
    }

    /// A store over a pool you configured.
    pub fn from_pool(pool: MySqlPool) -> Self {
        MySqlStore { pool }
    }

    /// Brings the schema up to date (the migrations embedded in this crate). Safe to run from
    /// several processes at once: sqlx takes a named lock (`GET_LOCK`).
    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|err| match err {
                sqlx::migrate::MigrateError::Execute(err) => error::from_sqlx(err),
                other => Error::backend(error::CONTEXT, other),
            })
    }
}

impl fmt::Debug for MySqlStore {
    // The connect options hold the password: show only where the store points.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let options = self.pool.connect_options();
        f.debug_struct("MySqlStore")
            .field("host", &options.get_host())
            .field("port", &options.get_port())
            .field("database", &options.get_database())
            .field("user", &options.get_username())
            .field("connections", &self.pool.size())
            .finish()
    }
}
