//! Placing orders: pricing, stock reservation, idempotency, concurrency, lists.

use std::{collections::HashSet, sync::Arc};

use futures::future::join_all;
use pochi_core::{
    ConflictReason, Error, OrderFilter, OrderStatus, Placement, Store, StoreExt, phone::Msisdn,
    search::OrderSearch,
};

use crate::fixtures::{
    at, bring_to, checkout, checkout_by, kes, key, new_order, order_number, place, product, shop,
    stock_shelves,
};

/// Placing an order computes the totals from catalogue prices and reserves tracked stock; the
/// stored order reads back exactly as returned.
pub async fn placing_an_order_prices_it_and_reserves_stock(store: Arc<dyn Store>) {
    // Given a tracked and an untracked product
    let kikoi = product("Kikoi", "199.99", Some(10));
    let basket = product("Kiondo basket", "1500", None);
    stock_shelves(store.as_ref(), &[&kikoi, &basket]).await;
    let (shop, _) = shop(store.clone());

    // When a customer buys 3 kikois and a basket
    let order = shop
        .place_order(&checkout(&[(&kikoi, 3), (&basket, 1)]), None)
        .await
        .unwrap()
        .into_order();

    // Then the totals come from the catalogue
    assert_eq!(order.status, OrderStatus::PendingPayment);
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[0].line_total, kes("599.97"));
    assert_eq!(order.subtotal, kes("2099.97"));
    assert_eq!(order.total, kes("2099.97"));
    assert_eq!(order.customer.phone.as_str(), "254712345678");
    assert_eq!(order.timeline.len(), 1);
    // And the tracked stock is reserved, the untracked stays untracked
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(7)
    );
    assert_eq!(store.product_required(basket.id).await.unwrap().stock, None);
    // And the stored order is exactly the returned one
    assert_eq!(store.order_required(&order.number).await.unwrap(), order);
}

/// An order for more than is left fails with `OutOfStock` naming the product, and reserves
/// nothing of any line.
pub async fn placing_more_than_stock_fails_and_reserves_nothing(store: Arc<dyn Store>) {
    // Given 5 kikois and 10 baskets
    let kikoi = product("Kikoi", "100", Some(5));
    let basket = product("Basket", "100", Some(10));
    stock_shelves(store.as_ref(), &[&kikoi, &basket]).await;

    // When someone orders 3 kikois and 11 baskets
    let new = new_order(
        order_number(),
        &checkout(&[(&kikoi, 3), (&basket, 11)]),
        &[kikoi.clone(), basket.clone()],
        at(10),
    );
    let err = store.place_order(&new).await.unwrap_err();

    // Then the baskets are out of stock, and nothing was reserved or stored
    match err {
        Error::OutOfStock {
            product,
            requested,
            available,
        } => {
            assert_eq!((product, requested, available), (basket.id, 11, 10));
        }
        other => panic!("expected out of stock, got {other}"),
    }
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(5)
    );
    assert_eq!(
        store.product_required(basket.id).await.unwrap().stock,
        Some(10)
    );
    assert_eq!(store.order(&new.order.number).await.unwrap(), None);
    let orders = store
        .list_orders(&OrderFilter::default(), None, 10)
        .await
        .unwrap();
    assert!(orders.is_empty());
}

/// 64 buyers racing for 10 units: exactly 10 orders succeed, the other 54 are `OutOfStock`,
/// and the stock ends at zero.
pub async fn concurrent_buyers_never_oversell(store: Arc<dyn Store>) {
    // Given 10 units
    let kikoi = product("Kikoi", "1500", Some(10));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let (shop, _) = shop(store.clone());

    // When 64 customers each try to buy one at the same time
    let attempts = (0..64).map(|i| {
        let shop = shop.clone();
        let phone = format!("07120000{i:02}");
        let input = checkout_by(&format!("Buyer {i}"), &phone, &[(&kikoi, 1)]);
        tokio::spawn(async move { shop.place_order(&input, None).await })
    });
    let results: Vec<_> = join_all(attempts)
        .await
        .into_iter()
        .map(|joined| joined.unwrap())
        .collect();

    // Then exactly 10 succeed and every failure is out of stock
    let placed: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(placed.len(), 10);
    for result in &results {
        if let Err(err) = result {
            assert!(
                matches!(err, Error::OutOfStock { .. }),
                "unexpected error: {err}"
            );
        }
    }
    // And the stock is gone, with exactly 10 orders stored
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(0)
    );
    let orders = store
        .list_orders(&OrderFilter::default(), None, 100)
        .await
        .unwrap();
    assert_eq!(orders.len(), 10);
    let units: u32 = orders
        .iter()
        .flat_map(|o| &o.lines)
        .map(|l| l.quantity)
        .sum();
    assert_eq!(units, 10);
}

/// A retry with the same idempotency key returns the same order and reserves nothing again;
/// the same key with a different request is a conflict.
pub async fn idempotent_replay_returns_the_same_order(store: Arc<dyn Store>) {
    // Given a product with 10 units
    let kikoi = product("Kikoi", "1500", Some(10));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let (shop, _) = shop(store.clone());
    let input = checkout(&[(&kikoi, 2)]);

    // When the same checkout is sent twice with one key
    let first = shop.place_order(&input, Some("key-1")).await.unwrap();
    let second = shop.place_order(&input, Some("key-1")).await.unwrap();

    // Then the first places and the second replays the same order
    assert!(matches!(first, Placement::Placed(_)));
    assert!(matches!(second, Placement::Replayed(_)));
    assert_eq!(first.order(), second.order());
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(8)
    );

    // When the key is reused for another basket, then it is refused and nothing is reserved
    let err = shop
        .place_order(&checkout(&[(&kikoi, 3)]), Some("key-1"))
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::IdempotencyKeyReused),
        "{err}"
    );
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(8)
    );
}

/// 16 racing retries with one key place exactly one order and reserve once.
pub async fn concurrent_replays_place_one_order(store: Arc<dyn Store>) {
    // Given a product with 10 units
    let kikoi = product("Kikoi", "1500", Some(10));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let base = new_order(
        order_number(),
        &checkout(&[(&kikoi, 2)]),
        &[kikoi.clone()],
        at(5),
    );

    // When 16 copies of the request, each with its own order number, race with one key
    let racers = (0..16).map(|_| {
        let store = store.clone();
        let mut new = base.clone();
        new.order.number = order_number();
        new.idempotency_key = Some(key("race-key"));
        tokio::spawn(async move { store.place_order(&new).await })
    });
    let results: Vec<Placement> = join_all(racers)
        .await
        .into_iter()
        .map(|joined| joined.unwrap().unwrap())
        .collect();

    // Then exactly one placed, all saw the same order, and 2 units were reserved once
    let placed = results
        .iter()
        .filter(|r| matches!(r, Placement::Placed(_)))
        .count();
    assert_eq!(placed, 1);
    let numbers: HashSet<_> = results.iter().map(|r| r.order().number.clone()).collect();
    assert_eq!(numbers.len(), 1);
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(8)
    );
    let orders = store
        .list_orders(&OrderFilter::default(), None, 100)
        .await
        .unwrap();
    assert_eq!(orders.len(), 1);
}

/// A second order with a taken number is a conflict (the shop then draws a new number) and
/// reserves nothing.
pub async fn a_taken_order_number_is_a_conflict(store: Arc<dyn Store>) {
    // Given an order
    let kikoi = product("Kikoi", "100", Some(10));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let number = order_number();
    let first = new_order(
        number.clone(),
        &checkout(&[(&kikoi, 1)]),
        &[kikoi.clone()],
        at(1),
    );
    place(store.as_ref(), &first).await;

    // When another order arrives with the same number
    let second = new_order(
        number.clone(),
        &checkout(&[(&kikoi, 4)]),
        &[kikoi.clone()],
        at(2),
    );
    let err = store.place_order(&second).await.unwrap_err();

    // Then it is refused and its units stay in stock
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::OrderNumberTaken),
        "{err}"
    );
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(9)
    );
    assert_eq!(
        store.order_required(&number).await.unwrap().lines[0].quantity,
        1
    );
}

/// Ordering an archived product is refused with the item named, and nothing is reserved.
pub async fn archived_products_cannot_be_ordered(store: Arc<dyn Store>) {
    // Given an archived product (ordered once, then removed) and an active one
    let old = product("Old", "100", Some(10));
    let fresh = product("Fresh", "100", Some(10));
    stock_shelves(store.as_ref(), &[&old, &fresh]).await;
    place(
        store.as_ref(),
        &new_order(
            order_number(),
            &checkout(&[(&old, 1)]),
            &[old.clone()],
            at(1),
        ),
    )
    .await;
    store.remove_product(old.id, at(2)).await.unwrap();

    // When an order priced before the archiving arrives for both
    let late = new_order(
        order_number(),
        &checkout(&[(&fresh, 1), (&old, 1)]),
        &[fresh.clone(), old.clone()],
        at(3),
    );
    let err = store.place_order(&late).await.unwrap_err();

    // Then it names the archived item and reserves nothing
    assert_eq!(err.field(), Some("items[1].productId"), "{err}");
    assert_eq!(
        store.product_required(fresh.id).await.unwrap().stock,
        Some(10)
    );
}

/// The admin search finds orders by part of their number or of the customer's name in any
/// case, takes `%` and `_` literally, and combines with the filters and paging.
pub async fn order_search_finds_numbers_and_names(store: Arc<dyn Store>) {
    // Given five orders, the third one paid
    let kikoi = product("Kikoi", "100", None);
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let mut orders = Vec::new();
    for (i, name) in (0..).zip([
        "Wanjiru Kamau",
        "Otieno",
        "wanjiru",
        "Asha 50%_off!",
        "Asha 50 off",
    ]) {
        let input = checkout_by(name, "0711000000", &[(&kikoi, 1)]);
        let order = place(
            store.as_ref(),
            &new_order(order_number(), &input, &[kikoi.clone()], at(i * 60)),
        )
        .await;
        orders.push(order);
    }
    bring_to(store.as_ref(), &orders[2], OrderStatus::Paid).await;
    let filter = |q: &str, status: Option<OrderStatus>| OrderFilter {
        status,
        search: OrderSearch::parse(q).unwrap(),
        ..OrderFilter::default()
    };
    let store = store.as_ref();
    let find = |q: &'static str| async move {
        let found = store.list_orders(&filter(q, None), None, 10).await.unwrap();
        found.into_iter().map(|o| o.number).collect::<Vec<_>>()
    };
    let numbers =
        |picked: &[usize]| -> Vec<_> { picked.iter().map(|i| orders[*i].number.clone()).collect() };

    // By name, in any case, newest first
    assert_eq!(find("WANJIRU").await, numbers(&[2, 0]));
    assert_eq!(find("kamau").await, numbers(&[0]));
    // By part of the number, in any case, and by the whole number
    let code = orders[1].number.as_str().split_once('-').unwrap().1;
    let part: &'static str = code[2..8].to_lowercase().leak();
    assert_eq!(find(part).await, numbers(&[1]));
    let whole: &'static str = orders[3].number.as_str().to_lowercase().leak();
    assert_eq!(find(whole).await, numbers(&[3]));
    // LIKE's wildcards and the escape character are plain characters
    assert_eq!(find("50%_off!").await, numbers(&[3]));
    assert_eq!(find("%").await, numbers(&[3]));
    assert_eq!(find("_").await, numbers(&[3]));
    assert_eq!(find("!").await, numbers(&[3]));
    assert_eq!(find("nobody").await, numbers(&[]));

    // With a status filter
    let paid = store
        .list_orders(&filter("wanjiru", Some(OrderStatus::Paid)), None, 10)
        .await
        .unwrap();
    assert_eq!(
        paid.into_iter().map(|o| o.number).collect::<Vec<_>>(),
        numbers(&[2])
    );

    // Paging one at a time
    let first = store
        .list_orders(&filter("wanjiru", None), None, 1)
        .await
        .unwrap();
    let second = store
        .list_orders(&filter("wanjiru", None), first.last().map(|o| o.key()), 1)
        .await
        .unwrap();
    let third = store
        .list_orders(&filter("wanjiru", None), second.last().map(|o| o.key()), 1)
        .await
        .unwrap();
    let paged: Vec<_> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|o| o.number.clone())
        .collect();
    assert_eq!(paged, numbers(&[2, 0]));
}

/// The admin list is newest first, filters by status, phone and time, and pages without
/// repeats.
pub async fn order_lists_filter_and_page_newest_first(store: Arc<dyn Store>) {
    // Given 7 orders by two customers at increasing times, two of them paid
    let kikoi = product("Kikoi", "100", None);
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let mut orders = Vec::new();
    for i in 0..7i64 {
        let phone = if i % 2 == 0 {
            "0711000000"
        } else {
            "0722000000"
        };
        let input = checkout_by("Customer", phone, &[(&kikoi, 1)]);
        let order = place(
            store.as_ref(),
            &new_order(order_number(), &input, &[kikoi.clone()], at(i * 60)),
        )
        .await;
        orders.push(order);
    }
    bring_to(store.as_ref(), &orders[1], OrderStatus::Paid).await;
    bring_to(store.as_ref(), &orders[4], OrderStatus::Paid).await;

    // Paging two at a time gives every order once, newest first
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_orders(&OrderFilter::default(), after, 2)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|o| o.key());
        seen.extend(page.into_iter().map(|o| o.number));
    }
    let expected: Vec<_> = orders.iter().rev().map(|o| o.number.clone()).collect();
    assert_eq!(seen, expected);

    // By status
    let paid = store
        .list_orders(
            &OrderFilter {
                status: Some(OrderStatus::Paid),
                ..OrderFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    let paid: Vec<_> = paid.into_iter().map(|o| o.number).collect();
    assert_eq!(
        paid,
        vec![orders[4].number.clone(), orders[1].number.clone()]
    );

    // By phone and time window [at(60), at(300))
    let filtered = store
        .list_orders(
            &OrderFilter {
                phone: Some(Msisdn::parse("0722000000").unwrap()),
                placed_from: Some(at(60)),
                placed_before: Some(at(300)),
                ..OrderFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    let filtered: Vec<_> = filtered.into_iter().map(|o| o.number).collect();
    assert_eq!(
        filtered,
        vec![orders[3].number.clone(), orders[1].number.clone()]
    );
}
