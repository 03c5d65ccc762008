//! Placing an order on PostgreSQL: without an idempotency key (or open-order limits) the order
//! is one statement, its own transaction, so it holds its products' locks only while
//! PostgreSQL runs it, never across a round trip to the server.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use pochi_core::{Error, Placement, Store, StoreExt};
use pochi_store_postgres::sqlx;
use pochi_testkit::fixtures::{at, checkout, new_order, order_number, product, stock_shelves};

#[tokio::test]
async fn an_order_waiting_for_a_product_lock_waits_in_the_one_statement_of_its_transaction() {
    let Some(db) = common::test_db().await else {
        return;
    };
    let store = db.store.clone();
    let kikoi = product("Kikoi", "100", Some(10));
    let kanga = product("Kanga", "350", Some(5));
    stock_shelves(&store, &[&kikoi, &kanga]).await;
    let catalogue = [kikoi.clone(), kanga.clone()];

    // Given another transaction holding both products' rows
    let mut other = db.pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM products FOR UPDATE")
        .execute(&mut *other)
        .await
        .unwrap();

    // When an order for both is placed, it waits for the rows
    let new = new_order(
        order_number(),
        &checkout(&[(&kikoi, 2), (&kanga, 1)]),
        &catalogue,
        at(0),
    );
    let placing = {
        let store = store.clone();
        let new = new.clone();
        tokio::spawn(async move { store.place_order(&new).await })
    };
    let mut waiting = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waiting = sqlx::query_scalar::<_, String>(
            "SELECT query FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock' \
             AND pid <> pg_backend_pid()",
        )
        .fetch_optional(&db.pool)
        .await
        .unwrap();
        if waiting.is_some() {
            break;
        }
    }

    // Then it waits in the statement that places it whole (PostgreSQL shows its first KiB:
    // the locks, the stock taken, the order row, then its lines and the rest): nothing is left
    // to send once the locks are taken
    let statement = waiting.expect("the order never waited for the rows");
    for part in [
        "WITH want",
        "FOR UPDATE",
        "UPDATE products",
        "INSERT INTO orders",
    ] {
        assert!(
            statement.contains(part),
            "the order waited in a statement without {part}: {statement}"
        );
    }

    // And once the rows are free it is placed, taking its units once
    other.commit().await.unwrap();
    let placed = placing.await.unwrap().unwrap();
    assert!(matches!(placed, Placement::Placed(ref order) if order.number == new.order.number));
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(8)
    );
    assert_eq!(
        store.product_required(kanga.id).await.unwrap().stock,
        Some(4)
    );
    let stored = store.order_required(&new.order.number).await.unwrap();
    assert_eq!(stored, new.order);
}

#[tokio::test]
async fn an_order_the_one_statement_refuses_changes_nothing_and_says_why() {
    let Some(db) = common::test_db().await else {
        return;
    };
    let store = db.store.clone();
    let kikoi = product("Kikoi", "100", Some(10));
    let kanga = product("Kanga", "350", Some(1));
    stock_shelves(&store, &[&kikoi, &kanga]).await;
    let catalogue = [kikoi.clone(), kanga.clone()];

    // When an order asks for more of one product than is left
    let new = new_order(
        order_number(),
        &checkout(&[(&kikoi, 2), (&kanga, 3)]),
        &catalogue,
        at(0),
    );
    let err = store.place_order(&new).await.unwrap_err();

    // Then it is refused for that product, and the other keeps its units
    assert!(
        matches!(
            err,
            Error::OutOfStock { product, requested: 3, available: 1 } if product == kanga.id
        ),
        "{err}"
    );
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(10)
    );
    assert_eq!(
        store.product_required(kanga.id).await.unwrap().stock,
        Some(1)
    );
    assert!(store.order(&new.order.number).await.unwrap().is_none());
}
