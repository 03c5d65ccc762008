//! The shop's limits as a customer meets them: units of one product per order, unpaid orders
//! per phone and per network, pushes per phone, the short hold of an order nobody pays.

use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::{ClientNetwork, error::LimitKind, product::ProductInput};

fn limit_of(err: &Error) -> Option<LimitKind> {
    match err {
        Error::LimitReached { limit, .. } => Some(*limit),
        _ => None,
    }
}

/// Accepts every push with a reference of its own.
fn accept_distinct_pushes(provider: &mut MockPaymentProvider) {
    let next = AtomicU32::new(0);
    provider.expect_start().returning(move |_| {
        let n = next.fetch_add(1, Ordering::SeqCst);
        Ok(StartedPayment {
            reference: Some(format!("ws_CO_{n}")),
            status: PaymentStatus::Pending,
            customer_message: None,
        })
    });
}

fn by(phone: &str, item: &Product, quantity: i64) -> CheckoutInput {
    CheckoutInput {
        phone: phone.into(),
        ..input(item, quantity)
    }
}

#[tokio::test]
async fn more_units_of_one_product_than_the_cap_are_refused_naming_the_item() {
    let w = world(push_provider(), Arc::new(crate::NoEvents)).await;
    let mut kikoi = product(2, dec!(1500), Some(500));
    kikoi.max_per_order = Some(3);
    w.store.insert_product(&kikoi).await.unwrap();

    // The shop's default cap (10) holds for a product without its own
    let err = w
        .shop
        .place_order(&input(&w.item, 11), None)
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("items[0].quantity"));
    assert!(w.shop.place_order(&input(&w.item, 10), None).await.is_ok());

    // A product's own cap wins, and repeated items count together: the item that passes the
    // cap is named
    let mut split = input(&kikoi, 2);
    split.phone = "0722000111".into();
    split.items.push(CheckoutItemInput {
        product_id: kikoi.id.to_string(),
        quantity: 2,
    });
    let err = w.shop.place_order(&split, None).await.unwrap_err();
    assert_eq!(err.field(), Some("items[1].quantity"));
    assert_eq!(
        w.store.product(kikoi.id).await.unwrap().unwrap().stock,
        Some(500)
    );
    assert!(
        w.shop
            .place_order(&by("0722000111", &kikoi, 3), None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_product_cap_is_saved_and_validated() {
    let store = Arc::new(MemoryStore::new());
    let shop = Shop::builder(store.clone()).build().unwrap();
    let saved = shop
        .save_product(&ProductInput {
            name: "Kikoi".into(),
            price: "1500".into(),
            max_per_order: Some(2),
            ..ProductInput::default()
        })
        .await
        .unwrap();
    assert_eq!(saved.max_per_order, Some(2));
    assert_eq!(
        store
            .product(saved.id)
            .await
            .unwrap()
            .unwrap()
            .max_per_order,
        Some(2)
    );
    for bad in [0, -1, 1_000] {
        let err = shop
            .save_product(&ProductInput {
                name: "Kikoi".into(),
                price: "1500".into(),
                max_per_order: Some(bad),
                ..ProductInput::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("maxPerOrder"), "{bad}");
    }
}

#[tokio::test]
async fn a_phone_with_three_unpaid_orders_cannot_open_a_fourth() {
    let w = world(push_provider(), Arc::new(crate::NoEvents)).await;
    for _ in 0..3 {
        w.shop.place_order(&input(&w.item, 1), None).await.unwrap();
    }
    let err = w
        .shop
        .place_order(&input(&w.item, 1), None)
        .await
        .unwrap_err();
    assert_eq!(limit_of(&err), Some(LimitKind::OpenOrdersPerPhone));
    assert!(err.is_retryable());
    // Nothing reserved: 3 of 10 units are held
    assert_eq!(
        w.store.product(w.item.id).await.unwrap().unwrap().stock,
        Some(7)
    );
}

#[tokio::test]
async fn one_network_with_twenty_unpaid_orders_cannot_open_another() {
    let w = world(push_provider(), Arc::new(crate::NoEvents)).await;
    let mut basket = product(2, dec!(100), None);
    basket.max_per_order = None;
    w.store.insert_product(&basket).await.unwrap();
    let from = || Some(ClientNetwork::of("198.51.100.23".parse().unwrap()));
    for i in 0..20 {
        let phone = format!("07220001{i:02}");
        w.shop
            .place_order_from(&by(&phone, &basket, 1), None, from())
            .await
            .unwrap();
    }
    let err = w
        .shop
        .place_order_from(&by("0733000000", &basket, 1), None, from())
        .await
        .unwrap_err();
    assert_eq!(limit_of(&err), Some(LimitKind::OpenOrdersPerClient));
    // Another network is not held back
    let other = Some(ClientNetwork::of("198.51.100.24".parse().unwrap()));
    assert!(
        w.shop
            .place_order_from(&by("0733000000", &basket, 1), None, other)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_phone_gets_at_most_five_pushes_an_hour_across_orders() {
    // Given five orders of one customer, each paid by push, and a sixth
    let mut provider = push_provider();
    accept_distinct_pushes(&mut provider);
    let w = world(provider, Arc::new(crate::NoEvents)).await;
    let mut basket = product(2, dec!(100), None);
    basket.max_per_order = None;
    w.store.insert_product(&basket).await.unwrap();
    let mut orders = Vec::new();
    for i in 0..6 {
        // Each from its own phone, paid by the same one.
        let placed = w
            .shop
            .place_order(&by(&format!("07220002{i:02}"), &basket, 1), None)
            .await
            .unwrap()
            .into_order();
        orders.push(placed);
    }
    let to_victim = |order: &crate::order::Order| PaymentInput {
        phone: Some("0799 123 456".into()),
        ..pay(order)
    };
    for order in &orders[..5] {
        w.shop.start_payment(&to_victim(order), None).await.unwrap();
    }

    // When a sixth push is asked for the same phone
    let err = w
        .shop
        .start_payment(&to_victim(&orders[5]), None)
        .await
        .unwrap_err();

    // Then it is refused, and no attempt is stored
    assert_eq!(limit_of(&err), Some(LimitKind::PaymentRequestsPerPhone));
    assert!(
        w.store
            .payments_for_order(&orders[5].number)
            .await
            .unwrap()
            .is_empty()
    );

    // And an hour after the first push, the phone can be asked again
    w.clock.advance(Duration::from_secs(60 * 60 + 1));
    // (the order was on its short hold: a new one)
    let again = w
        .shop
        .place_order(&by("0722000300", &basket, 1), None)
        .await
        .unwrap()
        .into_order();
    assert!(w.shop.start_payment(&to_victim(&again), None).await.is_ok());
}

#[tokio::test]
async fn a_push_just_before_the_short_hold_ends_holds_the_order_past_it() {
    let mut provider = push_provider();
    accept_distinct_pushes(&mut provider);
    let w = world(provider, Arc::new(crate::NoEvents)).await;
    let order = w
        .shop
        .place_order(&input(&w.item, 1), None)
        .await
        .unwrap()
        .into_order();
    // Nobody started to pay for 9 minutes and 50 seconds of its 10-minute hold
    w.clock.advance(Duration::from_secs(9 * 60 + 50));
    w.shop.start_payment(&pay(&order), None).await.unwrap();
    // The push holds it past the short hold (and its attempt past the full expiry)
    w.clock.advance(Duration::from_secs(5 * 60));
    assert!(w.shop.expire_unpaid_orders().await.unwrap().is_empty());
}
