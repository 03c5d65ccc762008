//! Products: create, update, archive, list.

use std::{collections::HashSet, sync::Arc};

use pochi_core::{
    ConflictReason, Entity, Error, ImageRef, Limit, ProductRemoval, Store, page::CursorKey,
    product::ProductKey,
};

use crate::fixtures::{
    T0, at, checkout, kes, new_order, order_number, place, product, product_at, shop, stock_shelves,
};

/// A product is created, read back exactly, updated (its creation time kept), and removed:
/// deleted when no order has it, archived when one does.
pub async fn product_lifecycle(store: Arc<dyn Store>) {
    // Given a product
    let mut kikoi = product("Kikoi", "1500", Some(12));
    store.insert_product(&kikoi).await.unwrap();
    assert_eq!(store.product(kikoi.id).await.unwrap(), Some(kikoi.clone()));

    // When it is inserted again, then it is a conflict
    let again = store.insert_product(&kikoi).await.unwrap_err();
    assert_eq!(
        again.conflict_reason(),
        Some(ConflictReason::AlreadyExists),
        "{again}"
    );

    // When every field an admin edits changes, then all of it is stored, the version goes
    // up by one, and the stock is left as it was
    kikoi.name = "Kikoi (striped)".into();
    kikoi.description = "Cotton, 1.8 m".into();
    kikoi.price = kes("1450.50");
    kikoi.max_per_order = Some(4);
    kikoi.image = Some(ImageRef::parse("products/kikoi/1.webp").unwrap());
    kikoi.active = false;
    kikoi.updated_at = at(60);
    let sent = pochi_core::Product {
        stock: Some(999),
        version: 77,
        ..kikoi.clone()
    };
    let stored = store.update_product(&sent, None).await.unwrap();
    kikoi.version += 1;
    assert_eq!(stored, kikoi);
    assert_eq!(store.product(kikoi.id).await.unwrap(), Some(kikoi.clone()));

    // An update may not move the creation time
    let mut moved = kikoi.clone();
    moved.created_at = at(999);
    let stored = store
        .update_product(&moved, Some(kikoi.version))
        .await
        .unwrap();
    kikoi.version += 1;
    assert_eq!((stored.created_at, stored.version), (T0, kikoi.version));
    assert_eq!(
        store.product(kikoi.id).await.unwrap().unwrap().created_at,
        T0
    );

    // A product nobody ordered is deleted
    assert_eq!(
        store.remove_product(kikoi.id, at(70)).await.unwrap(),
        ProductRemoval::Deleted
    );
    assert_eq!(store.product(kikoi.id).await.unwrap(), None);

    // Updating or removing a missing product is not found
    let missing = store.update_product(&kikoi, None).await.unwrap_err();
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
    let missing = store.remove_product(kikoi.id, at(80)).await.unwrap_err();
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

    // A product that was ordered is archived, and its orders keep their snapshot
    let sold = product("Sold item", "200", Some(5));
    stock_shelves(store.as_ref(), &[&sold]).await;
    let order = place(
        store.as_ref(),
        &new_order(
            order_number(),
            &checkout(&[(&sold, 1)]),
            &[sold.clone()],
            at(90),
        ),
    )
    .await;
    assert_eq!(
        store.remove_product(sold.id, at(100)).await.unwrap(),
        ProductRemoval::Archived
    );
    let archived = store.product(sold.id).await.unwrap().unwrap();
    assert!(!archived.active);
    assert_eq!(archived.updated_at, at(100));
    let order = store.order(&order.number).await.unwrap().unwrap();
    assert_eq!(order.lines[0].name, "Sold item");
    assert_eq!(order.lines[0].unit_price, kes("200"));

    // products_by_ids returns the ones that exist
    let found = store.products_by_ids(&[sold.id, kikoi.id]).await.unwrap();
    assert_eq!(found, vec![archived]);
}

/// Lists are ordered by creation time then id, page after page, and `active_only` hides
/// archived products.
pub async fn products_list_in_stable_order(store: Arc<dyn Store>) {
    // Given products created at various times, several at the same instant
    let mut products = Vec::new();
    for i in 0..9 {
        let mut p = product_at(&format!("P{i}"), "10", None, at(i64::from(i % 3) * 10));
        p.active = i != 4;
        products.push(p);
    }
    for p in &products {
        store.insert_product(p).await.unwrap();
    }
    let mut expected: Vec<_> = products.iter().map(|p| p.key()).collect();
    expected.sort();

    // When the whole list is read three at a time
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_products(false, after, 3).await.unwrap();
        assert!(page.len() <= 3);
        if page.is_empty() {
            break;
        }
        after = page.last().map(|p| p.key());
        seen.extend(page.iter().map(|p| p.key()));
    }
    // Then every product appears once, in key order
    assert_eq!(seen, expected);

    // And the active list skips the archived one
    let active = store.list_products(true, None, 100).await.unwrap();
    let active_keys: Vec<ProductKey> = active.iter().map(|p| p.key()).collect();
    let expected_active: Vec<ProductKey> = expected
        .iter()
        .copied()
        .filter(|k| k.id != products[4].id)
        .collect();
    assert_eq!(active_keys, expected_active);
}

/// Paging through the catalogue while other products are being added returns every product
/// that existed when paging started, exactly once, in order.
pub async fn pagination_is_stable_under_concurrent_inserts(store: Arc<dyn Store>) {
    // Given 40 products
    let mut originals = HashSet::new();
    for i in 0..40 {
        let p = product_at(&format!("Original {i}"), "10", None, at(i));
        store.insert_product(&p).await.unwrap();
        originals.insert(p.id);
    }

    // When one task pages through 7 at a time while another inserts 40 more
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                let p = product_at(&format!("New {i}"), "10", None, at(1_000 + i));
                store.insert_product(&p).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    let (shop, _) = shop(store.clone());
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = shop
            .catalogue(cursor.as_deref(), Limit::new(Some(7)).unwrap())
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|p| (p.key(), p.id)));
        match page.next_cursor {
            Some(next) => {
                assert!(ProductKey::decode(&next).is_ok());
                cursor = Some(next);
            }
            None => break,
        }
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();

    // Then no product appears twice, the order is strict, and every original is there
    let ids: Vec<_> = seen.iter().map(|(_, id)| *id).collect();
    let unique: HashSet<_> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a product appeared twice");
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "pages out of order"
    );
    assert!(
        originals.is_subset(&unique),
        "an existing product was skipped"
    );
}
