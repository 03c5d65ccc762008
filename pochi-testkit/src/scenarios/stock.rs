//! Product edits and stock adjustments: an edit never writes stock, adjustments add up under
//! any concurrency, and an edit against an old version is refused.

use std::sync::Arc;

use futures::future::join_all;
use pochi_core::{
    AdjustmentId, ConflictReason, Entity, Error, ProductInput, StockAdjusted, Store, StoreExt,
    auth::AdminUser, stock::NewStockAdjustment,
};

use crate::fixtures::{at, kes, key, order_for, product, shop, stock_shelves};

/// An adjustment of `delta` units of `product` at `at(seconds)`.
fn adjustment(
    product: &pochi_core::Product,
    delta: i64,
    reason: &str,
    seconds: i64,
) -> NewStockAdjustment {
    NewStockAdjustment {
        id: AdjustmentId::from_uuid(uuid::Uuid::new_v4()),
        product_id: product.id,
        delta,
        reason: reason.to_owned(),
        by: "admin".to_owned(),
        at: at(seconds),
        idempotency_key: None,
    }
}

/// The admin of the scenarios.
fn admin() -> AdminUser {
    AdminUser {
        username: "admin".to_owned(),
    }
}

/// The dashboard's defect: the admin opens a product's edit form (reading 10 in stock), customers
/// buy 3 meanwhile, the admin saves a new price. The units sold stay sold: the edit writes the
/// price, not the 10 it read, whether it is sent with the version it read or without one, to
/// the store or through the shop.
pub async fn an_edit_while_orders_sell_does_not_restore_stock(store: Arc<dyn Store>) {
    // Given 10 units, and the product as the admin's edit form read it
    let kikoi = product("Kikoi", "1500", Some(10));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let read = store.product_required(kikoi.id).await.unwrap();

    // When customers buy 3, then the admin saves a new price against what the form read
    order_for(store.as_ref(), &kikoi, 3).await;
    let edited = pochi_core::Product {
        price: kes("1400"),
        updated_at: at(60),
        ..read.clone()
    };
    let stored = store
        .update_product(&edited, Some(read.version))
        .await
        .unwrap();

    // Then the price changed and the 3 units sold stay sold
    assert_eq!(stored.price, kes("1400"));
    assert_eq!(stored.stock, Some(7));
    assert_eq!(stored.version, read.version + 1);
    let now = store.product_required(kikoi.id).await.unwrap();
    assert_eq!(now.stock, Some(7));

    // And through the shop, without a version (a client that sends none), the same
    order_for(store.as_ref(), &kikoi, 2).await;
    let (shop, _) = shop(store.clone());
    let saved = shop
        .save_product(&ProductInput {
            id: Some(kikoi.id.to_string()),
            name: "Kikoi".into(),
            price: "1350".into(),
            ..ProductInput::default()
        })
        .await
        .unwrap();
    assert_eq!(saved.stock, Some(5));
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(5)
    );

    // And an edit that carries a stock count is refused, nothing written
    let refused = shop
        .save_product(&ProductInput {
            id: Some(kikoi.id.to_string()),
            name: "Kikoi".into(),
            price: "1300".into(),
            stock: Some(10),
            ..ProductInput::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.field(), Some("stock"), "{refused}");
    let now = store.product_required(kikoi.id).await.unwrap();
    assert_eq!((now.stock, now.price), (Some(5), kes("1350")));
}

/// An edit made against a version that another edit has replaced is refused with the current
/// version, and writes nothing; against the current version it succeeds.
pub async fn an_edit_against_a_stale_version_is_refused(store: Arc<dyn Store>) {
    // Given a product two admins opened at version 1
    let kikoi = product("Kikoi", "1500", Some(10));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let read = store.product_required(kikoi.id).await.unwrap();

    // When the first saves a new name
    let first = store
        .update_product(
            &pochi_core::Product {
                name: "Kikoi (blue)".into(),
                ..read.clone()
            },
            Some(read.version),
        )
        .await
        .unwrap();

    // Then the second, saving a new price against the version both read, is refused
    let stale = store
        .update_product(
            &pochi_core::Product {
                price: kes("900"),
                ..read.clone()
            },
            Some(read.version),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(stale, Error::ProductChanged { product, version }
            if product == kikoi.id && version == first.version),
        "{stale}"
    );
    // And nothing of it was written
    let now = store.product_required(kikoi.id).await.unwrap();
    assert_eq!(now, first);

    // And sales do not make an edit stale: the version is that of the edits only
    order_for(store.as_ref(), &kikoi, 1).await;
    let second = store
        .update_product(
            &pochi_core::Product {
                price: kes("900"),
                ..first.clone()
            },
            Some(first.version),
        )
        .await
        .unwrap();
    assert_eq!(
        (second.name.as_str(), second.price, second.stock),
        ("Kikoi (blue)", kes("900"), Some(9))
    );

    // And a missing product is not found, version or not
    let gone = product("Gone", "10", Some(1));
    let missing = store.update_product(&gone, Some(1)).await;
    assert!(
        matches!(
            missing,
            Err(Error::NotFound {
                entity: Entity::Product,
                ..
            })
        ),
        "{missing:?}"
    );
}

/// Adjustments racing each other and customers' orders all count: the stock ends exactly at
/// the start plus every delta minus every unit sold, and the history holds every adjustment.
pub async fn concurrent_adjustments_add_up_exactly(store: Arc<dyn Store>) {
    // Given 100 units
    let kikoi = product("Kikoi", "1500", Some(100));
    stock_shelves(store.as_ref(), &[&kikoi]).await;

    // When 16 adjustments of +5 and 16 of -3 race 8 orders of one unit each
    let adjustments = (0..32).map(|i| {
        let store = store.clone();
        let change = if i % 2 == 0 {
            adjustment(&kikoi, 5, "delivery", i)
        } else {
            adjustment(&kikoi, -3, "damaged", i)
        };
        tokio::spawn(async move { store.adjust_stock(&change).await })
    });
    let orders = (0..8).map(|_| {
        let store = store.clone();
        let kikoi = kikoi.clone();
        tokio::spawn(async move { order_for(store.as_ref(), &kikoi, 1).await })
    });
    let (adjusted, _) = futures::join!(join_all(adjustments), join_all(orders));

    // Then every adjustment applied, and the stock is exactly 100 + 80 - 48 - 8
    for result in adjusted {
        assert!(matches!(result.unwrap(), Ok(StockAdjusted::Applied(_))));
    }
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(124)
    );
    // And the history holds all 32, their deltas adding up to +32
    let history = store.stock_adjustments(kikoi.id, None, 100).await.unwrap();
    assert_eq!(history.len(), 32);
    assert_eq!(history.iter().map(|a| a.delta).sum::<i64>(), 32);
}

/// Taking away more units than are left is refused as out of stock and changes nothing;
/// adjusting a product that does not count its stock is a conflict, a missing one not found.
pub async fn an_adjustment_below_zero_is_refused_and_changes_nothing(store: Arc<dyn Store>) {
    // Given 2 units of a counted product and an uncounted one
    let kikoi = product("Kikoi", "1500", Some(2));
    let service = product("Gift wrapping", "100", None);
    stock_shelves(store.as_ref(), &[&kikoi, &service]).await;

    // When 3 are taken away, then it is out of stock: 3 requested, 2 available
    let refused = store
        .adjust_stock(&adjustment(&kikoi, -3, "stocktake", 10))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::OutOfStock { product, requested: 3, available: 2 }
            if product == kikoi.id),
        "{refused}"
    );
    // And nothing changed: stock, time, history
    let now = store.product_required(kikoi.id).await.unwrap();
    assert_eq!(now, kikoi);
    assert!(
        store
            .stock_adjustments(kikoi.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // And taking away exactly what is left brings it to zero
    let zero = store
        .adjust_stock(&adjustment(&kikoi, -2, "stocktake", 20))
        .await
        .unwrap();
    assert_eq!(zero.adjustment().stock_after, 0);

    // And an uncounted product cannot be adjusted
    let untracked = store
        .adjust_stock(&adjustment(&service, 5, "delivery", 30))
        .await
        .unwrap_err();
    assert_eq!(
        untracked.conflict_reason(),
        Some(ConflictReason::StockNotTracked),
        "{untracked}"
    );
    assert_eq!(store.product_required(service.id).await.unwrap(), service);

    // And a missing product is not found
    let gone = product("Gone", "10", Some(1));
    let missing = store
        .adjust_stock(&adjustment(&gone, 1, "delivery", 40))
        .await
        .unwrap_err();
    assert!(
        matches!(
            missing,
            Error::NotFound {
                entity: Entity::Product,
                ..
            }
        ),
        "{missing}"
    );
}

/// An adjustment sent again with the same idempotency key (a retry after a lost answer)
/// applies once, even when the retries race; the same key with another change is a conflict.
/// The history lists adjustments newest first, a page at a time.
pub async fn adjustments_are_idempotent_and_listed_newest_first(store: Arc<dyn Store>) {
    // Given 10 units
    let kikoi = product("Kikoi", "1500", Some(10));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let (shop, clock) = shop(store.clone());

    // When the same +4 is sent 8 times at once with one key
    let input = pochi_core::StockAdjustmentInput {
        delta: 4,
        reason: "delivery".into(),
    };
    let tries = (0..8).map(|_| {
        let shop = shop.clone();
        let input = input.clone();
        let id = kikoi.id.to_string();
        tokio::spawn(async move { shop.adjust_stock(&id, &input, &admin(), Some("k-1")).await })
    });
    let results: Vec<_> = join_all(tries)
        .await
        .into_iter()
        .map(|joined| joined.unwrap().unwrap())
        .collect();

    // Then it applied once, and every answer is that one adjustment
    let applied: Vec<_> = results
        .iter()
        .filter(|r| matches!(r, StockAdjusted::Applied(_)))
        .collect();
    assert_eq!(applied.len(), 1);
    let first = applied[0].adjustment().clone();
    assert!(results.iter().all(|r| r.adjustment() == &first));
    assert_eq!((first.stock_after, first.by.as_str()), (14, "admin"));
    assert_eq!(first.idempotency_key, Some(key("k-1")));
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(14)
    );

    // And the same key with another change is refused, nothing changed
    let reused = shop
        .adjust_stock(
            &kikoi.id.to_string(),
            &pochi_core::StockAdjustmentInput {
                delta: -4,
                reason: "delivery".into(),
            },
            &admin(),
            Some("k-1"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        reused.conflict_reason(),
        Some(ConflictReason::IdempotencyKeyReused),
        "{reused}"
    );
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(14)
    );

    // When two more are made later
    for (seconds, delta) in [(10, -1), (20, 2)] {
        clock.advance(std::time::Duration::from_secs(seconds));
        shop.adjust_stock(
            &kikoi.id.to_string(),
            &pochi_core::StockAdjustmentInput {
                delta,
                reason: "stocktake".into(),
            },
            &admin(),
            None,
        )
        .await
        .unwrap();
    }

    // Then the history pages newest first: +2, -1, then +4
    let limit = pochi_core::Limit::new(Some(2)).unwrap();
    let page = shop
        .stock_history(&kikoi.id.to_string(), None, limit)
        .await
        .unwrap();
    let deltas: Vec<_> = page
        .items
        .iter()
        .map(|a| (a.delta, a.stock_after))
        .collect();
    assert_eq!(deltas, [(2, 15), (-1, 13)]);
    let rest = shop
        .stock_history(&kikoi.id.to_string(), page.next_cursor.as_deref(), limit)
        .await
        .unwrap();
    assert_eq!(rest.items, [first]);
    assert_eq!(rest.next_cursor, None);
}
