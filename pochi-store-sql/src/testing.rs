//! Fault scenarios every SQL backend runs against its own server (feature `testing`): a
//! database that is not there, unique keys taken behind the store's back, connections the
//! database ends. A backend describes how to reach and hurt its server with a [`Harness`] and
//! stamps the scenarios as tests with [`fault_tests!`](crate::fault_tests):
//!
//! ```text
//! struct Postgres;
//! #[async_trait::async_trait]
//! impl pochi_store_sql::testing::Harness for Postgres { /* … */ }
//! pochi_store_sql::fault_tests!(Postgres);
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    future::Future,
    net::TcpListener,
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration as StdDuration, Instant, SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;
use pochi_core::{ConflictReason, Error, OrderStatus, PaymentStatus, Store, StoreExt};
use pochi_testkit::fixtures::{
    admin_move, at, by_reference, checkout, new_order, order_number, place, product, product_id,
    started_attempt, stock_shelves, success,
};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Pool, Type, pool::PoolOptions};
use time::{Date, OffsetDateTime};

use crate::{DEFAULT_ACQUIRE_TIMEOUT, PING_AFTER_IDLE, SqlStore, dialect::Dialect, dialect::sql};

/// A migrated store on a database of its own, and a pool on the same database for raw SQL.
#[derive(Debug)]
pub struct TestDb<D: Dialect> {
    /// The store under test.
    pub store: SqlStore<D>,
    /// Raw SQL on the store's database, behind its back.
    pub pool: Pool<D::Db>,
}

/// How the names of test schemas and databases begin: `pochi_t_<unix seconds>_<pid>_<n>`.
pub const PREFIX: &str = "pochi_t_";

static NEXT: AtomicU32 = AtomicU32::new(0);

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// A name for a fresh test schema or database, unique in this run and dated.
pub fn fresh_name() -> String {
    format!(
        "{PREFIX}{}_{}_{}",
        unix_seconds(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Whether `name` is a test schema or database of a run that ended more than an hour ago.
pub fn is_stale(name: &str) -> bool {
    let cutoff = unix_seconds().saturating_sub(3600);
    name.strip_prefix(PREFIX)
        .and_then(|rest| rest.split('_').next())
        .and_then(|secs| secs.parse::<u64>().ok())
        .is_some_and(|secs| secs < cutoff)
}

/// What `open` gives (a fresh test database), or `None` after saying why when `database`'s
/// server is not reachable on a developer's machine: `open` fails with `Err` only when it
/// cannot reach the server (any later failure panics), and `unreachable` remembers the reason
/// so that the other tests skip at once. Panics when `CI` is set and there is no server.
pub async fn reachable_or_skip<T>(
    database: &str,
    unreachable: &OnceLock<String>,
    open: impl Future<Output = Result<T, String>>,
) -> Option<T> {
    let opened = match unreachable.get() {
        Some(reason) => Err(reason.clone()),
        None => open.await.inspect_err(|reason| {
            let _ = unreachable.set(reason.clone());
        }),
    };
    match opened {
        Ok(db) => Some(db),
        Err(reason) if in_ci() => panic!("{database} is required in CI: {reason}"),
        Err(reason) => {
            eprintln!(
                "skipping: no {database} for the tests ({reason}); run scripts/ensure-databases"
            );
            None
        }
    }
}

/// How the fault scenarios reach and hurt one backend's server.
#[async_trait]
pub trait Harness: Send + Sync + 'static {
    /// The backend's dialect.
    type Dialect: Dialect;

    /// A URL of another database, which this backend refuses as malformed.
    const FOREIGN_URL: &'static str;

    /// A fresh test database, or `None` (after saying why) when the server is not reachable
    /// on a developer's machine.
    async fn test_db() -> Option<TestDb<Self::Dialect>>;

    /// Ends one connection of the test database that waits for a row lock; `false` when none
    /// waits (yet).
    async fn kill_lock_waiter(pool: &Pool<<Self::Dialect as Dialect>::Db>) -> bool;

    /// A store from `connect` on the server under test, whose connections
    /// [`end_connections`](Harness::end_connections) can find.
    async fn connect_own(db: &TestDb<Self::Dialect>)
    -> pochi_core::Result<SqlStore<Self::Dialect>>;

    /// Ends the connections of [`connect_own`](Harness::connect_own)'s store while they sit
    /// idle in its pool.
    async fn end_connections(db: &TestDb<Self::Dialect>);
}

/// A port on 127.0.0.1 that nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, Error>) {
    match result {
        Err(Error::Unavailable { .. }) => {}
        other => panic!("expected unavailable, got {other:?}"),
    }
}

/// A URL of the backend's database on a closed port, with a password to look for.
fn url_of_nothing<D: Dialect>() -> String {
    format!(
        "{}pochi:secret-password@127.0.0.1:{}/shop",
        D::URL_SCHEMES[0],
        closed_port()
    )
}

/// The scenarios, one function each; [`fault_tests!`](crate::fault_tests) stamps a test per
/// function.
#[derive(Debug)]
pub struct Faults<H>(std::marker::PhantomData<H>);

impl<D: Dialect, H: Harness<Dialect = D>> Faults<H>
where
    for<'c> &'c mut <D::Db as Database>::Connection: Executor<'c, Database = D::Db>,
    for<'q> <D::Db as Database>::Arguments<'q>: IntoArguments<'q, D::Db>,
    for<'q> &'q str: Encode<'q, D::Db> + Type<D::Db>,
    String: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    i64: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    i32: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    i16: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    bool: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    Date: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    for<'q> Option<&'q str>: Encode<'q, D::Db>,
    Option<i64>: for<'q> Encode<'q, D::Db>,
    Option<D::Amount>: for<'q> Encode<'q, D::Db>,
    Option<D::Time>: for<'q> Encode<'q, D::Db>,
    Option<D::Id>: for<'q> Encode<'q, D::Db>,
{
    /// A store whose database is down answers `Unavailable` within the acquire timeout, and
    /// shows no password.
    pub async fn a_database_that_is_down_is_unavailable_within_the_acquire_timeout() {
        // Given a store whose pool points at a closed port
        let timeout = StdDuration::from_millis(500);
        let pool = PoolOptions::<D::Db>::new()
            .max_connections(2)
            .acquire_timeout(timeout)
            .connect_lazy(&url_of_nothing::<D>())
            .unwrap();
        let store = SqlStore::<D>::from_pool(pool);

        // When it reads, then it is unavailable, quickly
        let started = Instant::now();
        assert_unavailable(store.product(product_id()).await);
        assert!(
            started.elapsed() < timeout + StdDuration::from_secs(2),
            "{:?}",
            started.elapsed()
        );

        // When it places an order, then it is unavailable, quickly
        let item = product("Kikoi", "100", Some(5));
        let new = new_order(order_number(), &checkout(&[(&item, 1)]), &[item], at(0));
        let started = Instant::now();
        assert_unavailable(store.place_order(&new).await);
        assert!(
            started.elapsed() < timeout + StdDuration::from_secs(2),
            "{:?}",
            started.elapsed()
        );

        // And nothing it shows gives the password away
        assert!(
            !format!("{store:?}").contains("secret-password"),
            "{store:?}"
        );
    }

    /// `connect` to a database that is down is `Unavailable`, without the password.
    pub async fn connecting_to_a_database_that_is_down_is_unavailable() {
        let started = Instant::now();
        let err = SqlStore::<D>::connect(&url_of_nothing::<D>())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
        assert!(started.elapsed() < DEFAULT_ACQUIRE_TIMEOUT + StdDuration::from_secs(2));
        assert!(!format!("{err:?}").contains("secret-password"), "{err:?}");
    }

    /// Another database's URL is invalid input in `database_url`.
    pub async fn a_malformed_url_is_invalid_input() {
        let err = SqlStore::<D>::connect(H::FOREIGN_URL).await.unwrap_err();
        assert_eq!(err.field(), Some("database_url"), "{err:?}");
    }

    /// A receipt written on another payment directly in the database refuses a settlement
    /// that claims it.
    pub async fn a_receipt_written_behind_the_stores_back_is_a_conflict() {
        let Some(db) = H::test_db().await else {
            return;
        };
        let store = &db.store;
        // Given two orders with a started attempt each
        let item = product("Kikoi", "1500", Some(10));
        stock_shelves(store, &[&item]).await;
        let first = place(store, &one_of(&item, 1)).await;
        let second = place(store, &one_of(&item, 1)).await;
        let a = started_attempt(store, &first, first.total, "ws_CO_A").await;
        let b = started_attempt(store, &second, second.total, "ws_CO_B").await;

        // And a receipt put on A directly in the database
        sqlx::query(&sql::<D>(
            "UPDATE payments SET receipt = 'QKX7777777' WHERE id = ?",
        ))
        .bind(D::id(a.id.as_uuid()))
        .execute(&db.pool)
        .await
        .unwrap();

        // When B's success claims that receipt, then it is refused and nothing changes
        let err = store
            .settle_payment(&by_reference(&b), &success(second.total, "QKX7777777"))
            .await
            .unwrap_err();
        assert_eq!(
            err.conflict_reason(),
            Some(ConflictReason::ReceiptAlreadyUsed),
            "{err}"
        );
        assert_eq!(
            store.payment(b.id).await.unwrap().unwrap().status,
            PaymentStatus::Pending
        );
        assert_eq!(store.order_required(&second.number).await.unwrap(), second);
    }

    /// A receipt a concurrent transaction takes is caught by the unique key: the settlement
    /// waits, then is refused and writes nothing.
    pub async fn a_receipt_taken_by_a_concurrent_transaction_is_caught_by_the_unique_key() {
        let Some(db) = H::test_db().await else {
            return;
        };
        let store = db.store.clone();
        let item = product("Kikoi", "1500", Some(10));
        stock_shelves(&store, &[&item]).await;
        let first = place(&store, &one_of(&item, 1)).await;
        let second = place(&store, &one_of(&item, 1)).await;
        let a = started_attempt(&store, &first, first.total, "ws_CO_A").await;
        let b = started_attempt(&store, &second, second.total, "ws_CO_B").await;

        // Given a transaction, not yet committed, that puts a receipt on A (the store's own
        // check cannot see it yet)
        let mut other = db.pool.begin().await.unwrap();
        sqlx::query(&sql::<D>(
            "UPDATE payments SET receipt = 'QKX8888888' WHERE id = ?",
        ))
        .bind(D::id(a.id.as_uuid()))
        .execute(&mut *other)
        .await
        .unwrap();

        // When B's success claims the same receipt, it waits on the unique key
        let settling = {
            let store = store.clone();
            let target = by_reference(&b);
            let result = success(second.total, "QKX8888888");
            tokio::spawn(async move { store.settle_payment(&target, &result).await })
        };
        tokio::time::sleep(StdDuration::from_millis(300)).await;
        assert!(
            !settling.is_finished(),
            "the settlement did not wait for the unique key"
        );

        // Then, once the other transaction commits, B is refused and nothing of it was written
        other.commit().await.unwrap();
        let err = settling.await.unwrap().unwrap_err();
        assert_eq!(
            err.conflict_reason(),
            Some(ConflictReason::ReceiptAlreadyUsed),
            "{err}"
        );
        assert_eq!(
            store.payment(b.id).await.unwrap().unwrap().status,
            PaymentStatus::Pending
        );
        let second = store.order_required(&second.number).await.unwrap();
        assert_eq!(second.status, OrderStatus::PendingPayment);
        assert_eq!(second.timeline.len(), 1);
    }

    /// An order number a concurrent transaction takes: the order waits, then is refused
    /// with `OrderNumberTaken` and reserves nothing.
    pub async fn an_order_number_taken_by_a_concurrent_transaction_is_a_conflict_and_reserves_nothing()
     {
        let Some(db) = H::test_db().await else {
            return;
        };
        let store = db.store.clone();
        let item = product("Kikoi", "100", Some(10));
        stock_shelves(&store, &[&item]).await;
        let number = order_number();

        // Given a transaction, not yet committed, that inserts an order with that number
        let mut other = db.pool.begin().await.unwrap();
        let now = OffsetDateTime::now_utc();
        sqlx::query(&sql::<D>(
            "INSERT INTO orders (number, status, customer_name, phone, county, area, address, \
             currency, subtotal, delivery_fee, total, fingerprint, created_at, updated_at) \
             VALUES (?, 'pending_payment', 'Other', '254700000000', 'Nairobi', 'CBD', \
             'Moi Ave', 'KES', 0, 0, 0, '', ?, ?)",
        ))
        .bind(number.as_str())
        .bind(D::time(now))
        .bind(D::time(now))
        .execute(&mut *other)
        .await
        .unwrap();

        // When the store places an order with the same number, it waits on the key
        let placing = {
            let store = store.clone();
            let mut new = one_of(&item, 3);
            new.order.number = number.clone();
            tokio::spawn(async move { store.place_order(&new).await })
        };
        tokio::time::sleep(StdDuration::from_millis(300)).await;
        assert!(!placing.is_finished(), "the order did not wait for the key");

        // Then, once the other commits, it is refused and its units stay in stock
        other.commit().await.unwrap();
        let err = placing.await.unwrap().unwrap_err();
        assert_eq!(
            err.conflict_reason(),
            Some(ConflictReason::OrderNumberTaken),
            "{err}"
        );
        assert_eq!(
            store.product_required(item.id).await.unwrap().stock,
            Some(10)
        );
        let row = sqlx::query("SELECT COUNT(*) AS n FROM order_lines")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        let lines: i64 = D::get(&row, "n").unwrap();
        assert_eq!(lines, 0);
    }

    /// A connection the database ends while the store waits on a lock: `Unavailable`, and
    /// nothing changed.
    pub async fn a_connection_killed_mid_request_is_unavailable_and_changes_nothing() {
        let Some(db) = H::test_db().await else {
            return;
        };
        let store = db.store.clone();
        let item = product("Kikoi", "100", Some(10));
        stock_shelves(&store, &[&item]).await;
        let order = place(&store, &one_of(&item, 2)).await;

        // Given another transaction holding the order's row
        let mut other = db.pool.begin().await.unwrap();
        sqlx::query(&sql::<D>(
            "SELECT number FROM orders WHERE number = ? FOR UPDATE",
        ))
        .bind(order.number.as_str())
        .execute(&mut *other)
        .await
        .unwrap();

        // When a cancellation waits for it and the database ends that connection
        let cancelling = {
            let store = store.clone();
            let number = order.number.clone();
            tokio::spawn(async move {
                store
                    .move_order(&number, &admin_move(OrderStatus::Cancelled, at(10)))
                    .await
            })
        };
        let mut killed = false;
        for _ in 0..50 {
            tokio::time::sleep(StdDuration::from_millis(100)).await;
            if H::kill_lock_waiter(&db.pool).await {
                killed = true;
                break;
            }
        }
        assert!(killed, "the cancellation never waited for the lock");

        // Then it is unavailable, and the order and its stock are as they were
        assert_unavailable(cancelling.await.unwrap());
        other.rollback().await.unwrap();
        assert_eq!(store.order_required(&order.number).await.unwrap(), order);
        assert_eq!(
            store.product_required(item.id).await.unwrap().stock,
            Some(8)
        );
    }

    /// A pooled connection the database ended while idle is replaced before use.
    pub async fn a_connection_the_database_ended_while_idle_is_replaced_before_use() {
        let Some(db) = H::test_db().await else {
            return;
        };
        // Given a store from `connect`, whose connections the harness can find
        let store = H::connect_own(&db).await.unwrap();
        store.ping().await.unwrap();

        // When the database ends them while they sit idle in the pool
        H::end_connections(&db).await;
        tokio::time::sleep(PING_AFTER_IDLE + StdDuration::from_millis(200)).await;

        // Then the next call finds a live connection
        store.ping().await.unwrap();
    }
}

/// A new order for `quantity` units of `item`, placed at `at(0)`.
fn one_of(item: &pochi_core::Product, quantity: i64) -> pochi_core::store::NewOrder {
    new_order(
        order_number(),
        &checkout(&[(item, quantity)]),
        std::slice::from_ref(item),
        at(0),
    )
}

/// Stamps one `#[tokio::test]` per fault scenario of [`Faults`] for `$harness`.
#[macro_export]
macro_rules! fault_tests {
    ($harness:ty) => {
        $crate::fault_tests!(@tests $harness;
            a_database_that_is_down_is_unavailable_within_the_acquire_timeout,
            connecting_to_a_database_that_is_down_is_unavailable,
            a_malformed_url_is_invalid_input,
            a_receipt_written_behind_the_stores_back_is_a_conflict,
            a_receipt_taken_by_a_concurrent_transaction_is_caught_by_the_unique_key,
            an_order_number_taken_by_a_concurrent_transaction_is_a_conflict_and_reserves_nothing,
            a_connection_killed_mid_request_is_unavailable_and_changes_nothing,
            a_connection_the_database_ended_while_idle_is_replaced_before_use,
        );
    };
    (@tests $harness:ty; $($name:ident,)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                $crate::testing::Faults::<$harness>::$name().await;
            }
        )*
    };
}
