//! Faults: a database that is not there, and unique keys taken behind the store's back.

#![allow(clippy::unwrap_used)]

mod common;

use std::{
    net::TcpListener,
    time::{Duration, Instant},
};

use pochi_core::{ConflictReason, Error, OrderStatus, PaymentStatus, Store, StoreExt};
use pochi_store_postgres::{
    DEFAULT_ACQUIRE_TIMEOUT, PostgresStore,
    sqlx::{self, postgres::PgPoolOptions},
};
use pochi_testkit::fixtures::{
    admin_move, at, by_reference, checkout, new_order, order_number, place, product, product_id,
    started_attempt, stock_shelves, success,
};

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

#[tokio::test]
async fn a_database_that_is_down_is_unavailable_within_the_acquire_timeout() {
    // Given a store whose pool points at a closed port
    let url = format!(
        "postgres://pochi:secret-password@127.0.0.1:{}/shop",
        closed_port()
    );
    let timeout = Duration::from_millis(500);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(timeout)
        .connect_lazy(&url)
        .unwrap();
    let store = PostgresStore::from_pool(pool);

    // When it reads, then it is unavailable, quickly
    let started = Instant::now();
    assert_unavailable(store.product(product_id()).await);
    assert!(
        started.elapsed() < timeout + Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // When it places an order, then it is unavailable, quickly
    let item = product("Kikoi", "100", Some(5));
    let new = new_order(order_number(), &checkout(&[(&item, 1)]), &[item], at(0));
    let started = Instant::now();
    assert_unavailable(store.place_order(&new).await);
    assert!(
        started.elapsed() < timeout + Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // And nothing it shows gives the password away
    assert!(
        !format!("{store:?}").contains("secret-password"),
        "{store:?}"
    );
}

#[tokio::test]
async fn connecting_to_a_database_that_is_down_is_unavailable() {
    let url = format!(
        "postgres://pochi:secret-password@127.0.0.1:{}/shop",
        closed_port()
    );
    let started = Instant::now();
    let err = PostgresStore::connect(&url).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert!(started.elapsed() < DEFAULT_ACQUIRE_TIMEOUT + Duration::from_secs(2));
    assert!(!format!("{err:?}").contains("secret-password"), "{err:?}");
}

#[tokio::test]
async fn a_malformed_url_is_invalid_input() {
    let err = PostgresStore::connect("mysql://nope").await.unwrap_err();
    assert_eq!(err.field(), Some("database_url"), "{err:?}");
}

#[tokio::test]
async fn a_receipt_written_behind_the_stores_back_is_a_conflict() {
    let Some(db) = common::test_db().await else {
        return;
    };
    let store = &db.store;
    // Given two orders with a started attempt each
    let item = product("Kikoi", "1500", Some(10));
    stock_shelves(store, &[&item]).await;
    let first = place(
        store,
        &new_order(
            order_number(),
            &checkout(&[(&item, 1)]),
            std::slice::from_ref(&item),
            at(0),
        ),
    )
    .await;
    let second = place(
        store,
        &new_order(
            order_number(),
            &checkout(&[(&item, 1)]),
            std::slice::from_ref(&item),
            at(0),
        ),
    )
    .await;
    let a = started_attempt(store, &first, first.total, "ws_CO_A").await;
    let b = started_attempt(store, &second, second.total, "ws_CO_B").await;

    // And a receipt put on A directly in the database
    sqlx::query("UPDATE payments SET receipt = 'QKX7777777' WHERE id = $1")
        .bind(a.id.as_uuid())
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

#[tokio::test]
async fn a_receipt_taken_by_a_concurrent_transaction_is_caught_by_the_unique_key() {
    let Some(db) = common::test_db().await else {
        return;
    };
    let store = db.store.clone();
    let item = product("Kikoi", "1500", Some(10));
    stock_shelves(&store, &[&item]).await;
    let first = place(
        &store,
        &new_order(
            order_number(),
            &checkout(&[(&item, 1)]),
            std::slice::from_ref(&item),
            at(0),
        ),
    )
    .await;
    let second = place(
        &store,
        &new_order(
            order_number(),
            &checkout(&[(&item, 1)]),
            std::slice::from_ref(&item),
            at(0),
        ),
    )
    .await;
    let a = started_attempt(&store, &first, first.total, "ws_CO_A").await;
    let b = started_attempt(&store, &second, second.total, "ws_CO_B").await;

    // Given a transaction, not yet committed, that puts a receipt on A (the store's own check
    // cannot see it yet)
    let mut other = db.pool.begin().await.unwrap();
    sqlx::query("UPDATE payments SET receipt = 'QKX8888888' WHERE id = $1")
        .bind(a.id.as_uuid())
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
    tokio::time::sleep(Duration::from_millis(300)).await;
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

#[tokio::test]
async fn an_order_number_taken_by_a_concurrent_transaction_is_a_conflict_and_reserves_nothing() {
    let Some(db) = common::test_db().await else {
        return;
    };
    let store = db.store.clone();
    let item = product("Kikoi", "100", Some(10));
    stock_shelves(&store, &[&item]).await;
    let number = order_number();

    // Given a transaction, not yet committed, that inserts an order with that number
    let mut other = db.pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO orders (number, status, customer_name, phone, county, area, address, \
         currency, subtotal, delivery_fee, total, fingerprint, created_at, updated_at) \
         VALUES ($1, 'pending_payment', 'Other', '254700000000', 'Nairobi', 'CBD', 'Moi Ave', \
         'KES', 0, 0, 0, '', now(), now())",
    )
    .bind(number.as_str())
    .execute(&mut *other)
    .await
    .unwrap();

    // When the store places an order with the same number, it waits on the key
    let placing = {
        let store = store.clone();
        let new = new_order(
            number.clone(),
            &checkout(&[(&item, 3)]),
            std::slice::from_ref(&item),
            at(0),
        );
        tokio::spawn(async move { store.place_order(&new).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
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
    let lines: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM order_lines")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(lines, 0);
}

#[tokio::test]
async fn a_connection_killed_mid_request_is_unavailable_and_changes_nothing() {
    let Some(db) = common::test_db().await else {
        return;
    };
    let store = db.store.clone();
    let item = product("Kikoi", "100", Some(10));
    stock_shelves(&store, &[&item]).await;
    let order = place(
        &store,
        &new_order(
            order_number(),
            &checkout(&[(&item, 2)]),
            std::slice::from_ref(&item),
            at(0),
        ),
    )
    .await;

    // Given another transaction holding the order's row
    let mut other = db.pool.begin().await.unwrap();
    sqlx::query("SELECT number FROM orders WHERE number = $1 FOR UPDATE")
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
        tokio::time::sleep(Duration::from_millis(100)).await;
        let waiting: Vec<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        if let Some(pid) = waiting.first() {
            sqlx::query("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .execute(&db.pool)
                .await
                .unwrap();
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

#[tokio::test]
async fn a_connection_the_database_ended_while_idle_is_replaced_before_use() {
    let Some(db) = common::test_db().await else {
        return;
    };
    // Given a store from `connect`, whose connections carry a name of their own
    let name = format!("pochi-idle-{}", std::process::id());
    let url =
        std::env::var("POCHI_TEST_POSTGRES_URL").unwrap_or_else(|_| common::DEFAULT_URL.into());
    let joiner = if url.contains('?') { '&' } else { '?' };
    let store = PostgresStore::connect(&format!("{url}{joiner}application_name={name}"))
        .await
        .unwrap();
    store.ping().await.unwrap();

    // When the database ends them while they sit idle in the pool
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&name)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(!ended.is_empty() && ended.iter().all(|e| *e), "{ended:?}");
    tokio::time::sleep(pochi_store_postgres::PING_AFTER_IDLE + Duration::from_millis(200)).await;

    // Then the next call finds a live connection
    store.ping().await.unwrap();
}
