//! What Pochi's SQLite, PostgreSQL and MySQL stores share: [`pochi_core::Store`] written once
//! over sqlx, as [`SqlStore`], for any database with a [`Dialect`].
//!
//! `pochi-store-sqlite`, `pochi-store-postgres` and `pochi-store-mysql` are thin faces over this
//! crate: each holds its dialect, its connection options and its migrations, and names its
//! store `SqlStore<ItsDialect>`. Statements are written once, with `?` placeholders (rendered as `$n`
//! where the database wants that) or sqlx's [`QueryBuilder`](sqlx::QueryBuilder); rows are
//! decoded once; every transaction (placing, moving and expiring orders, payments and their
//! settlement, reviews, the catalogue, settings, statistics, customers, the notification outbox), the retries of lost
//! races and the mapping of errors exist once. The dialect carries only what differs: how
//! money, times and ids are kept (natively, or as SQLite's minor units, microseconds and text),
//! how placeholders, upserts, keyset conditions and lists of values are written, whether several
//! inserts can run as one statement of data-modifying CTEs, how a write transaction begins,
//! whether the database has one writer, how a column is decoded, which error codes mean a lost
//! race or a server going away.
//!
//! ```
//! use std::sync::Arc;
//!
//! use pochi_core::Store;
//! use pochi_store_sql::{Dialect, SqlStore};
//!
//! /// A shop's store on whichever SQL database its dialect `D` speaks to.
//! async fn open<D: Dialect>(url: &str) -> pochi_core::Result<Arc<dyn Store>>
//! where
//!     SqlStore<D>: Store,
//! {
//!     let store = SqlStore::<D>::connect(url).await?;
//!     store.migrate().await?;
//!     Ok(Arc::new(store))
//! }
//! ```
//!
//! # How it keeps the contract
//!
//! Every [`Store`](pochi_core::Store) method that writes is one transaction at READ COMMITTED
//! (or, where the database has one writer, under its write lock; a read of one statement runs
//! on the pool directly) that calls
//! the same decision functions of `pochi-core` as the in-memory reference store, on rows it has
//! locked:
//! - placing an order inserts the order row (its number and idempotency key are unique keys),
//!   then reserves stock with one conditional `UPDATE … WHERE stock >= n` per product, in
//!   product-id order so concurrent orders never deadlock on products, then writes lines,
//!   timeline and tallies (one statement where the dialect has data-modifying CTEs);
//! - status moves and payment results lock the order row (`SELECT … FOR UPDATE`, or the
//!   database's one write lock), then the payment row, call [`Order::plan_move_paying`](pochi_core::Order::plan_move_paying) or
//!   [`settle`](pochi_core::payment::settle) and write what they decided;
//! - expiry takes due orders with `FOR UPDATE SKIP LOCKED`, so parallel sweepers share the
//!   work instead of queueing on it;
//! - uniqueness (order number, idempotency keys, `(provider, provider_reference)`, receipt) is
//!   a unique key; each method checks its keys inside the transaction first, and a unique
//!   violation (another transaction won the race in between) runs the transaction again, which
//!   then sees the winner. Lost races (deadlocks, serialization failures, lock wait timeouts,
//!   as the dialect says) are retried the same way, a bounded number of times, and then
//!   reported as [`Error::Unavailable`](pochi_core::Error).
//!
//! Reads that need several statements (an order with its lines and timeline, a page of orders,
//! the statistics) run in one read-only transaction on one snapshot. The public tracking read
//! ([`Store::tracked_order`](pochi_core::Store::tracked_order)), the busiest read of a shop, is
//! one statement instead (see [`tracking_statement`]): the order row, its lines, its timeline
//! and its payments' receipts as one ordered `UNION ALL`, each part on an index that leads with
//! the order number, so it needs no transaction and no index of its own. Lists use keyset
//! pagination on the order the trait documents; a page of orders loads its lines and
//! timelines in one query each.
//!
//! # Statistics
//!
//! [`Store::stats`](pochi_core::Store::stats) reads pre-aggregated tallies (see [`tally`]),
//! not the orders, changed by the same transaction that places or moves an order, last and in
//! key order. A revenue window adds its whole days from `paid_tallies` and reads only the
//! orders paid in its first, partial day, so the statistics cost the same at a thousand orders
//! and at a million.

mod adjustments;
mod catalogue;
mod dialect;
mod error;
mod limits;
mod orders;
mod outbox;
mod payments;
mod placing;
mod refunds;
mod reports;
mod reviews;
mod rows;
mod store;
mod tallies;
pub mod tally;
#[cfg(feature = "testing")]
pub mod testing;
mod tracking;

use std::{
    fmt,
    ops::{Deref, DerefMut},
    path::Path,
    sync::Arc,
    time::Duration,
};

pub use dialect::{
    BoxFuture, Column, Conn, ConnectOptions, Dialect, Failure, Placeholders, QueryResult, Row, Set,
    on_conflict_update, push_in,
};

/// What [`native_columns!`] names; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use pochi_core::Currency;
    pub use rust_decimal::Decimal;
    pub use time::OffsetDateTime;
    pub use uuid::Uuid;
}
use pochi_core::{Error, Result};
use sqlx::{Database, Pool, Transaction, pool::PoolOptions};
pub use tallies::Recount;
use tokio::sync::{Mutex, OwnedMutexGuard};
pub use tracking::{TRACKING_STATEMENT_BINDS, tracking_statement};

/// Connections in the pool [`SqlStore::connect`] opens.
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

/// A [`Store`](pochi_core::Store) on the database of dialect `D`. Cloning shares the pool.
///
/// The code generic over `D` sits in one `impl` block per module, each under the same `where`
/// clause: the sqlx traits the statements need for `D::Db` (an executor on its connections,
/// encoding and decoding of the column types). Rust does not carry such bounds from the trait
/// to its users, so the clause is written out on each block rather than on each function.
pub struct SqlStore<D: Dialect> {
    pool: Pool<D::Db>,
    /// Where the dialect has one writer: writers of this process take turns here before they
    /// begin (see [`Dialect::ONE_WRITER`]).
    writers: Arc<Mutex<()>>,
    /// The [`tracking_statement`], written once (the busiest read should not format it).
    tracking: Arc<str>,
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
            writers: Arc::clone(&self.writers),
            tracking: Arc::clone(&self.tracking),
        }
    }
}

/// A database kept in a file of the application's own (SQLite): opened by path, or in memory.
pub trait Embedded: Dialect {
    /// The connect options of the database file at `path`, created if missing.
    fn file(path: &Path) -> ConnectOptions<Self>;

    /// The connect options of a new, private database in memory.
    fn memory() -> ConnectOptions<Self>;
}

impl<D: Embedded> SqlStore<D> {
    /// Opens (creating it if missing) the database file at `path`. Does not migrate: call
    /// [`SqlStore::migrate`].
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::connect_with(D::file(path.as_ref())).await
    }

    /// A new, empty database in memory, gone when the last clone of the store is dropped.
    pub async fn in_memory() -> Result<Self> {
        Self::connect_with(D::memory()).await
    }
}

/// A write transaction, holding this process's writer turn where the dialect has one writer.
/// It derefs to the connection, as sqlx's `Transaction` does; dropped uncommitted, it rolls
/// back and then gives up the turn.
pub(crate) struct WriteTx<D: Dialect> {
    // Dropped first: the rollback is under way before the next writer's turn.
    tx: Transaction<'static, D::Db>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl<D: Dialect> WriteTx<D> {
    pub(crate) async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        let WriteTx { tx, _turn } = self;
        tx.commit().await
    }
}

impl<D: Dialect> Deref for WriteTx<D> {
    type Target = <D::Db as Database>::Connection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<D: Dialect> DerefMut for WriteTx<D> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Connects to the database at `url` with a pool of [`DEFAULT_POOL_SIZE`] connections that
    /// waits at most [`DEFAULT_ACQUIRE_TIMEOUT`] for a connection and pings one before use only
    /// when it has been idle for [`PING_AFTER_IDLE`]. Fails with `Error::Unavailable` if the
    /// database cannot be reached, or `Error::InvalidInput` if the URL is not one of this
    /// database's.
    pub async fn connect(url: &str) -> Result<Self> {
        let invalid = || {
            Error::invalid(
                "database_url",
                format!("is not a valid {} URL", D::DATABASE),
            )
        };
        if !D::URL_SCHEMES.iter().any(|scheme| url.starts_with(scheme)) {
            return Err(invalid());
        }
        let options = D::connect_options(url).ok_or_else(invalid)?;
        Self::connect_with(options).await
    }

    /// Connects with `options`, in a pool as [`SqlStore::connect`] describes (and as the
    /// dialect adjusts it: see [`Dialect::pool_options`]).
    pub async fn connect_with(options: ConnectOptions<D>) -> Result<Self> {
        let pool = PoolOptions::<D::Db>::new()
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
            .after_release(|conn, _| {
                Box::pin(async move {
                    if open_transactions::<D>(conn) > 0 {
                        // SQLite's driver rolls a dropped transaction back on its own thread:
                        // a ping, queued behind it, waits for that. A connection that cannot
                        // even answer a ping is not returned to the pool.
                        if sqlx::Connection::ping(conn).await.is_err() {
                            return Ok(false);
                        }
                    }
                    Ok(open_transactions::<D>(conn) == 0)
                })
            });
        let pool = D::pool_options(&options, pool)
            .connect_with(options)
            .await
            .map_err(D::connect_error)?;
        Ok(Self::from_pool(pool))
    }

    /// The store's pool: for a host that closes it at shutdown, or runs SQL of its own.
    pub fn pool(&self) -> &Pool<D::Db> {
        &self.pool
    }

    /// A store over a pool you configured.
    pub fn from_pool(pool: Pool<D::Db>) -> Self {
        SqlStore {
            pool,
            writers: Arc::new(Mutex::new(())),
            tracking: tracking_statement::<D>().into(),
        }
    }

    /// Begins a write transaction (READ COMMITTED), after this process's other writers where
    /// the dialect has one writer.
    async fn begin_write(&self) -> std::result::Result<WriteTx<D>, sqlx::Error> {
        let turn = if D::ONE_WRITER {
            Some(Arc::clone(&self.writers).lock_owned().await)
        } else {
            None
        };
        let tx = match D::BEGIN_WRITE {
            Some(statement) => self.pool.begin_with(statement).await?,
            None => self.pool.begin().await?,
        };
        Ok(WriteTx { tx, _turn: turn })
    }

    /// Begins a multi-statement read on one snapshot.
    async fn begin_read(&self) -> Result<Transaction<'static, D::Db>> {
        self.pool
            .begin_with(D::BEGIN_READ_SNAPSHOT)
            .await
            .map_err(error::from_sqlx::<D>)
    }

    /// Brings the schema up to date (the migrations embedded in the backend crate). Safe to
    /// run from several processes at once: sqlx takes a lock in the database first.
    pub async fn migrate(&self) -> Result<()> {
        D::migrate(&self.pool).await.map_err(|err| match err {
            sqlx::migrate::MigrateError::Execute(err) => error::from_sqlx::<D>(err),
            other => Error::backend(D::CONTEXT, other),
        })
    }
}

/// The transactions sqlx counts open on `conn`. A connection is put back in the pool only with
/// none: when a COMMIT fails because the disk is full, SQLite has already rolled the
/// transaction back, sqlx's ROLLBACK then fails too, and sqlx goes on counting the transaction
/// open, so every later BEGIN on that connection would fail ("non-zero transaction depth") and
/// the store would answer errors until restarted. Such a connection is closed instead.
fn open_transactions<D: Dialect>(conn: &<D::Db as Database>::Connection) -> usize {
    <<D::Db as Database>::TransactionManager as sqlx::TransactionManager>::get_transaction_depth(
        conn,
    )
}

impl<D: Dialect> fmt::Debug for SqlStore<D>
where
    <D::Db as Database>::Connection: sqlx::Connection,
{
    // The connect options hold the password: show only where the store points.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct(D::STORE);
        D::describe(&self.pool.connect_options(), &mut out);
        out.field("connections", &self.pool.size()).finish()
    }
}
