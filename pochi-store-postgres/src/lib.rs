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
//! Every [`Store`](pochi_core::Store) method is one transaction (READ COMMITTED) that calls the
//! same decision functions of `pochi-core` as the in-memory reference store, on rows it has
//! locked:
//! - placing an order inserts the order row (its number and idempotency key are unique keys),
//!   then reserves stock with one conditional `UPDATE … WHERE stock >= n` per product, in
//!   product-id order so concurrent orders never deadlock, then inserts lines and timeline;
//! - status moves and payment results lock the order row (`SELECT … FOR UPDATE`), then the
//!   payment row, call [`Order::plan_move`](pochi_core::Order::plan_move) or
//!   [`settle`](pochi_core::payment::settle) and write what they decided;
//! - expiry takes due orders with `FOR UPDATE SKIP LOCKED`, so parallel sweepers share the
//!   work instead of queueing on it;
//! - uniqueness (order number, idempotency keys, `(provider, provider_reference)`, receipt) is
//!   a unique constraint; each method checks its keys first, and a unique violation (another
//!   transaction won the race in between) runs the transaction again, which then sees the
//!   winner. Deadlocks and serialization failures are retried the same way, a bounded number of
//!   times, and then reported as [`Error::Unavailable`](pochi_core::Error).
//!
//! Reads that need several statements (an order with its lines and timeline, a page of orders)
//! run in one `REPEATABLE READ READ ONLY` transaction, so they see one consistent moment. Lists
//! use keyset pagination on the order the trait documents; a page of orders loads its lines and
//! timelines in one query each.
//!
//! # Statistics
//!
//! [`Store::stats`](pochi_core::Store::stats) reads pre-aggregated tallies, not the orders:
//! orders and totals per status (`order_tallies`), units and revenue per product and status
//! (`product_tallies`) and paid orders per UTC day and status (`paid_tallies`), changed by the
//! same transaction that places or moves an order. A revenue window adds its whole days from
//! `paid_tallies` and reads only the orders paid in its first, partial day, so the statistics
//! cost the same at a thousand orders and at a million. Order tallies are spread over 16 rows
//! per status so concurrent orders seldom wait on one; tally rows are locked last, in key
//! order, so they add no deadlocks. Orders edited by hand in SQL put the tallies off until
//! [`PostgresStore::recount_statistics`] runs.
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
//! [`PostgresStore::connect`] opens a pool of [`DEFAULT_POOL_SIZE`] connections that waits at
//! most [`DEFAULT_ACQUIRE_TIMEOUT`] for a connection: a database that is down gives
//! `Error::Unavailable` after that long, never a hang, and pings a connection before use only
//! when it has been idle for [`PING_AFTER_IDLE`]. Use [`PostgresStore::from_pool`] to choose
//! other pool settings (or TLS options) yourself.

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
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// Connections in the pool [`PostgresStore::connect`] opens.
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

/// A [`Store`](pochi_core::Store) on PostgreSQL 15 or later. Cloning shares the pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) with
    /// a pool of [`DEFAULT_POOL_SIZE`] connections. Fails with `Error::Unavailable` if the
    /// database cannot be reached, or `Error::InvalidInput` if the URL is not a PostgreSQL URL.
    pub async fn connect(url: &str) -> Result<Self> {
        let invalid = || Error::invalid("database_url", "is not a valid PostgreSQL URL");
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(invalid());
        }
        let options = PgConnectOptions::from_str(url).map_err(|_| invalid())?;
        let pool = PgPoolOptions::new()
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
        Ok(PostgresStore { pool })
    }

    /// A store over a pool you configured.
    pub fn from_pool(pool: PgPool) -> Self {
        PostgresStore { pool }
    }

    /// Brings the schema up to date (the migrations embedded in this crate). Safe to run from
    /// several processes at once: sqlx takes an advisory lock.
    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|err| match err {
                sqlx::migrate::MigrateError::Execute(err) => error::from_sqlx(err),
                other => Error::backend(error::CONTEXT, other),
            })
    }

    /// Recomputes the pre-aggregated figures the statistics read (see "Statistics" above)
    /// from the orders, holding off order writes while it runs. Placing and moving orders
    /// through the store keeps them exact; this is for a database whose orders were written
    /// or edited by hand in SQL.
    pub async fn recount_statistics(&self) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(error::from_sqlx)?;
        tallies::recount(&mut tx).await.map_err(|e| e.into_core())?;
        tx.commit().await.map_err(error::from_sqlx)
    }
}

impl fmt::Debug for PostgresStore {
    // The connect options hold the password: show only where the store points.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let options = self.pool.connect_options();
        f.debug_struct("PostgresStore")
            .field("host", &options.get_host())
            .field("port", &options.get_port())
            .field("database", &options.get_database())
            .field("user", &options.get_username())
            .field("connections", &self.pool.size())
            .finish()
    }
}
