//! Placing orders against a real SQLite file: reservation, idempotency, concurrency, expiry.

mod common;

use std::sync::Arc;

use common::*;
use pochi_core::{
    Actor, ConflictReason, Error, OrderStatus, Placement, StatusChange, Store, StoreExt, Trigger,
};
use time::Duration;

#[tokio::test]
async fn a_placed_order_reads_back_exactly_and_reserves_its_stock() {
    // given
    let (store, _dir) = file_store().await;
    let kikoi = product("Kikoi", 1500, Some(5));
    store.insert_product(&kikoi).await.unwrap();
    let order = order(&[(&kikoi, 2)]);

    // when
    let placed = store.place_order(&new_order(order.clone())).await.unwrap();

    // then
    assert_eq!(placed, Placement::Placed(order.clone()));
    assert_eq!(store.order(&order.number).await.unwrap(), Some(order));
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(3)
    );
}

#[tokio::test]
async fn a_retry_with_the_same_key_returns_the_first_order_and_reserves_nothing() {
    // given
    let (store, _dir) = file_store().await;
    let kikoi = product("Kikoi", 1500, Some(5));
    store.insert_product(&kikoi).await.unwrap();
    let first = order(&[(&kikoi, 2)]);
    store
        .place_order(&keyed(first.clone(), "retry-1", "fp-a"))
        .await
        .unwrap();

    // when: the retry carries a fresh order number, as Shop makes one per attempt
    let retry = store
        .place_order(&keyed(order(&[(&kikoi, 2)]), "retry-1", "fp-a"))
        .await
        .unwrap();

    // then
    assert_eq!(retry, Placement::Replayed(first));
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(3)
    );
}

#[tokio::test]
async fn reusing_a_key_for_a_different_order_is_a_conflict() {
    let (store, _dir) = file_store().await;
    let kikoi = product("Kikoi", 1500, None);
    store.insert_product(&kikoi).await.unwrap();
    store
        .place_order(&keyed(order(&[(&kikoi, 1)]), "k", "fp-a"))
        .await
        .unwrap();

    let err = store
        .place_order(&keyed(order(&[(&kikoi, 3)]), "k", "fp-b"))
        .await
        .unwrap_err();

    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::IdempotencyKeyReused)
    );
}

#[tokio::test]
async fn a_taken_order_number_is_a_conflict() {
    let (store, _dir) = file_store().await;
    let kikoi = product("Kikoi", 1500, Some(5));
    store.insert_product(&kikoi).await.unwrap();
    let first = order(&[(&kikoi, 1)]);
    store.place_order(&new_order(first.clone())).await.unwrap();

    let err = store.place_order(&new_order(first)).await.unwrap_err();

    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::OrderNumberTaken)
    );
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(4)
    );
}

#[tokio::test]
async fn out_of_stock_names_the_product_and_keeps_nothing() {
    // given: enough kikois, too few sufurias
    let (store, _dir) = file_store().await;
    let kikoi = product("Kikoi", 1500, Some(5));
    let sufuria = product("Sufuria", 800, Some(1));
    store.insert_product(&kikoi).await.unwrap();
    store.insert_product(&sufuria).await.unwrap();
    let order = order(&[(&kikoi, 2), (&sufuria, 2)]);

    // when
    let err = store
        .place_order(&new_order(order.clone()))
        .await
        .unwrap_err();

    // then: the error names the sufuria; the kikoi reservation was rolled back
    match err {
        Error::OutOfStock {
            product,
            requested,
            available,
        } => assert_eq!((product, requested, available), (sufuria.id, 2, 1)),
        other => panic!("expected OutOfStock, got {other:?}"),
    }
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(5)
    );
    assert_eq!(
        store.product_required(sufuria.id).await.unwrap().stock,
        Some(1)
    );
    assert_eq!(store.order(&order.number).await.unwrap(), None);
}

#[tokio::test]
async fn lines_of_one_product_are_reserved_together() {
    let (store, _dir) = file_store().await;
    let kikoi = product("Kikoi", 1500, Some(3));
    store.insert_product(&kikoi).await.unwrap();

    let err = store
        .place_order(&new_order(order(&[(&kikoi, 2), (&kikoi, 2)])))
        .await
        .unwrap_err();

    assert!(matches!(
        err,
        Error::OutOfStock {
            requested: 4,
            available: 3,
            ..
        }
    ));
}

#[tokio::test]
async fn an_inactive_product_is_no_longer_sold() {
    let (store, _dir) = file_store().await;
    let kikoi = product("Kikoi", 1500, None);
    let archived = pochi_core::Product {
        active: false,
        ..product("Old kikoi", 900, Some(10))
    };
    store.insert_product(&kikoi).await.unwrap();
    store.insert_product(&archived).await.unwrap();

    let err = store
        .place_order(&new_order(order(&[(&kikoi, 1), (&archived, 1)])))
        .await
        .unwrap_err();

    assert_eq!(err.field(), Some("items[1].productId"));
    assert_eq!(
        store.product_required(archived.id).await.unwrap().stock,
        Some(10)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_buyers_never_oversell() {
    // given: 10 in stock and 32 buyers of one each
    let (store, _dir) = file_store().await;
    let store = Arc::new(store);
    let kikoi = product("Kikoi", 1500, Some(10));
    store.insert_product(&kikoi).await.unwrap();

    // when
    let buyers: Vec<_> = (0..32)
        .map(|_| {
            let store = Arc::clone(&store);
            let new = new_order(order(&[(&kikoi, 1)]));
            tokio::spawn(async move { store.place_order(&new).await })
        })
        .collect();
    let mut placed = 0;
    let mut sold_out = 0;
    for buyer in buyers {
        match buyer.await.unwrap() {
            Ok(Placement::Placed(_)) => placed += 1,
            Err(Error::OutOfStock { available: 0, .. }) => sold_out += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }

    // then
    assert_eq!((placed, sold_out), (10, 22));
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(0)
    );
    let orders = store
        .list_orders(&Default::default(), None, 100)
        .await
        .unwrap();
    assert_eq!(orders.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_retries_of_one_key_place_one_order() {
    let (store, _dir) = file_store().await;
    let store = Arc::new(store);
    let kikoi = product("Kikoi", 1500, Some(100));
    store.insert_product(&kikoi).await.unwrap();

    let retries: Vec<_> = (0..32)
        .map(|_| {
            let store = Arc::clone(&store);
            let new = keyed(order(&[(&kikoi, 3)]), "one-checkout", "fp");
            tokio::spawn(async move { store.place_order(&new).await.unwrap() })
        })
        .collect();
    let mut numbers = Vec::new();
    let mut placed = 0;
    for retry in retries {
        let placement = retry.await.unwrap();
        placed += usize::from(matches!(placement, Placement::Placed(_)));
        numbers.push(placement.into_order().number);
    }

    assert_eq!(placed, 1);
    numbers.dedup();
    assert_eq!(numbers.len(), 1);
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(97)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_in_memory_store_is_one_database_for_every_caller() {
    let store = Arc::new(memory_store().await);
    let kikoi = product("Kikoi", 1500, Some(10));
    store.insert_product(&kikoi).await.unwrap();

    let buyers: Vec<_> = (0..32)
        .map(|_| {
            let store = Arc::clone(&store);
            let new = new_order(order(&[(&kikoi, 1)]));
            tokio::spawn(async move { store.place_order(&new).await.is_ok() })
        })
        .collect();
    let mut placed = 0;
    for buyer in buyers {
        placed += usize::from(buyer.await.unwrap());
    }

    assert_eq!(placed, 10);
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(0)
    );
}

#[tokio::test]
async fn expiry_cancels_old_unpaid_orders_and_releases_their_stock() {
    // given: one order placed an hour ago, one just now
    let (store, _dir) = file_store().await;
    let kikoi = product("Kikoi", 1500, Some(10));
    store.insert_product(&kikoi).await.unwrap();
    let old = order_at(&[(&kikoi, 3)], "Achieng", "0722000111", T0);
    let fresh = order_at(
        &[(&kikoi, 2)],
        "Achieng",
        "0722000111",
        T0 + Duration::hours(1),
    );
    store.place_order(&new_order(old.clone())).await.unwrap();
    store.place_order(&new_order(fresh.clone())).await.unwrap();
    let now = T0 + Duration::minutes(61);

    // when
    let expired = store
        .expire_orders(
            &pochi_core::store::ExpiryCutoff::by_age(now - Duration::minutes(30), now),
            10,
        )
        .await
        .unwrap();

    // then
    assert_eq!(expired.len(), 1);
    let cancelled = &expired[0];
    assert_eq!(cancelled.number, old.number);
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.timeline.len(), 2);
    assert_eq!(cancelled.timeline[1].actor, Actor::System);
    assert_eq!(
        store.order(&old.number).await.unwrap().as_ref(),
        Some(cancelled)
    );
    assert_eq!(
        store.order(&fresh.number).await.unwrap().unwrap().status,
        OrderStatus::PendingPayment
    );
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(8)
    );
}

#[tokio::test]
async fn a_forbidden_move_is_a_conflict_and_changes_nothing() {
    let (store, _dir) = file_store().await;
    let kikoi = product("Kikoi", 1500, Some(10));
    store.insert_product(&kikoi).await.unwrap();
    let placed = order(&[(&kikoi, 1)]);
    store.place_order(&new_order(placed.clone())).await.unwrap();

    let err = store
        .move_order(
            &placed.number,
            &StatusChange {
                to: OrderStatus::Dispatched,
                trigger: Trigger::Admin,
                actor: Actor::Admin("mama".into()),
                note: None,
                note_for_customer: true,
                at: T0 + Duration::minutes(5),
            },
        )
        .await
        .unwrap_err();

    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::InvalidTransition)
    );
    assert_eq!(store.order(&placed.number).await.unwrap(), Some(placed));
}
