//! Orders: events on placement, order-number retries, store faults, tracking and input errors.

use super::*;
use crate::{
    Currency, Money,
    settings::{SettingsInput, StoreSettings},
};

#[tokio::test]
async fn order_placed_is_published_once_not_on_replay() {
    let mut events = MockEventSink::new();
    events
        .expect_publish()
        .withf(|e| matches!(e, ShopEvent::OrderPlaced { order } if order.total == kes(dec!(3000))))
        .times(1)
        .return_const(());
    let w = world(push_provider(), Arc::new(events)).await;
    let first = w
        .shop
        .place_order(&input(&w.item, 2), Some("k"))
        .await
        .unwrap();
    let replay = w
        .shop
        .place_order(&input(&w.item, 2), Some("k"))
        .await
        .unwrap();
    assert!(matches!(first, Placement::Placed(_)));
    assert!(matches!(replay, Placement::Replayed(_)));
}

#[tokio::test]
async fn a_taken_order_number_is_retried_with_a_fresh_one() {
    // Given a store whose first placement collides
    let item = product(1, dec!(1500), None);
    let mut store = MockStore::new();
    let catalogue = vec![item.clone()];
    store
        .expect_products_by_ids()
        .returning(move |_| Ok(catalogue.clone()));
    store.expect_settings().returning(|| Ok(None));
    let numbers = Arc::new(Mutex::new(Vec::new()));
    let seen = numbers.clone();
    store.expect_place_order().times(2).returning(move |new| {
        let mut seen = seen.lock().unwrap();
        seen.push(new.order.number.clone());
        if seen.len() == 1 {
            Err(Error::conflict(ConflictReason::OrderNumberTaken, "taken"))
        } else {
            Ok(Placement::Placed(new.order.clone()))
        }
    });
    let shop = Shop::builder(Arc::new(store))
        .ids(Arc::new(SequentialIds::new()))
        .build()
        .unwrap();

    let order = shop
        .place_order(&input(&item, 1), None)
        .await
        .unwrap()
        .into_order();

    let numbers = numbers.lock().unwrap();
    assert_ne!(numbers[0], numbers[1]);
    assert_eq!(order.number, numbers[1]);
}

#[tokio::test]
async fn an_unreachable_store_is_reported_as_unavailable() {
    let mut store = MockStore::new();
    store.expect_products_by_ids().returning(|_| {
        Err(Error::Unavailable {
            message: "database unreachable".into(),
            source: None,
        })
    });
    let shop = Shop::builder(Arc::new(store)).build().unwrap();
    let err = shop
        .place_order(&input(&product(1, dec!(10), None), 1), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "temporarily_unavailable");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn tracking_shows_the_order_with_personal_data_masked() {
    let w = world(push_provider(), Arc::new(crate::NoEvents)).await;
    let order = w
        .shop
        .place_order(&input(&w.item, 2), None)
        .await
        .unwrap()
        .into_order();
    let tracked = w
        .shop
        .track(&order.number.as_str().to_lowercase())
        .await
        .unwrap();
    insta::assert_json_snapshot!(tracked, {
        ".number" => "[number]",
    });
}

#[tokio::test]
async fn a_date_filter_with_no_utc_instant_is_out_of_range_not_a_panic() {
    // The shop is at UTC+3: the first day the calendar holds starts before it, in UTC.
    let w = world(push_provider(), Arc::new(crate::NoEvents)).await;
    for (field, from, to) in [
        ("from", Some("-9999-01-01"), None),
        ("from", Some("9999-12-31T12:00:00-12:00"), None),
        ("to", None, Some("9999-12-31T23:59:59-23:59")),
        ("to", None, Some("9999-12-31")),
    ] {
        let err = w
            .shop
            .orders(&OrderListInput {
                from: from.map(Into::into),
                to: to.map(Into::into),
                ..OrderListInput::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some(field), "{from:?} {to:?}: {err}");
        assert_eq!(err.code(), "invalid_input");
    }
    // Dates and times near the edges that have a UTC instant still filter.
    w.shop
        .orders(&OrderListInput {
            from: Some("9999-12-30".into()),
            to: Some("9999-12-31T23:59:59Z".into()),
            ..OrderListInput::default()
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn an_export_past_its_limit_asks_for_a_shorter_period_and_one_within_it_has_every_order() {
    // Given three orders
    let w = world(push_provider(), Arc::new(crate::NoEvents)).await;
    for _ in 0..3 {
        w.shop.place_order(&input(&w.item, 1), None).await.unwrap();
    }
    let all = OrderListInput::default();

    // When the export may hold two, read one at a time, then it is refused, naming `from`
    let err = w.shop.export_orders_within(&all, 2, 1).await.unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert_eq!(err.field(), Some("from"));
    assert_eq!(
        err.to_string(),
        "from: more than 2 orders match; export a shorter period (from, to)"
    );

    // and with room for three, across pages of two, it holds each order once, newest first
    let exported = w.shop.export_orders_within(&all, 3, 2).await.unwrap();
    let listed = w.shop.orders(&all).await.unwrap().items;
    assert_eq!(
        exported.iter().map(|e| &e.order).collect::<Vec<_>>(),
        listed.iter().collect::<Vec<_>>()
    );
    assert_eq!(exported.len(), 3);
}

#[tokio::test]
async fn tracking_an_unknown_number_is_not_found() {
    let w = world(push_provider(), Arc::new(crate::NoEvents)).await;
    let err = w.shop.track("POCHI-23456789AB").await.unwrap_err();
    assert!(
        matches!(err, Error::NotFound { entity: Entity::Order, ref id } if id == "POCHI-23456789AB"),
        "{err:?}"
    );
}

#[tokio::test]
async fn invalid_input_names_the_field() {
    let w = world(push_provider(), Arc::new(crate::NoEvents)).await;
    let cases = [
        (w.shop.track("no such thing").await.unwrap_err(), "orderId"),
        (w.shop.product("42").await.unwrap_err(), "productId"),
        (
            w.shop
                .place_order(&input(&w.item, 1), Some("bad key"))
                .await
                .unwrap_err(),
            "Idempotency-Key",
        ),
        (
            w.shop
                .start_payment(
                    &PaymentInput {
                        order_number: "x".into(),
                        ..PaymentInput::default()
                    },
                    None,
                )
                .await
                .unwrap_err(),
            "orderNumber",
        ),
        (
            w.shop
                .orders(&OrderListInput {
                    status: Some("shipped".into()),
                    ..OrderListInput::default()
                })
                .await
                .unwrap_err(),
            "status",
        ),
        (
            w.shop
                .orders(&OrderListInput {
                    from: Some("yesterday".into()),
                    ..OrderListInput::default()
                })
                .await
                .unwrap_err(),
            "from",
        ),
        (
            w.shop
                .catalogue(Some("bogus"), crate::Limit::default())
                .await
                .unwrap_err(),
            "cursor",
        ),
    ];
    for (err, field) in cases {
        assert_eq!(err.field(), Some(field), "{err}");
    }
}

/// A shop over a store whose settings say delivery costs what `fee` holds, counting in `reads`
/// how often they are read; the store places every order it is given.
fn fee_shop(fee: Arc<Mutex<Money>>, reads: Arc<Mutex<usize>>, item: &Product) -> Shop {
    let mut store = MockStore::new();
    let catalogue = vec![item.clone()];
    store
        .expect_products_by_ids()
        .returning(move |_| Ok(catalogue.clone()));
    let saved = fee.clone();
    store.expect_settings().returning(move || {
        *reads.lock().unwrap() += 1;
        let mut settings = StoreSettings::defaults(Currency::Kes);
        settings.delivery.default_fee = *fee.lock().unwrap();
        settings.delivery.counties.clear();
        Ok(Some(settings))
    });
    store.expect_save_settings().returning(move |settings| {
        *saved.lock().unwrap() = settings.delivery.default_fee;
        Ok(())
    });
    store
        .expect_place_order()
        .returning(|new| Ok(Placement::Placed(new.order.clone())));
    Shop::builder(Arc::new(store)).build().unwrap()
}

/// The delivery fee of the next order for one `item`.
async fn next_fee(shop: &Shop, item: &Product) -> Money {
    shop.place_order(&input(item, 1), None)
        .await
        .unwrap()
        .into_order()
        .delivery_fee
}

#[tokio::test]
async fn placing_orders_reads_the_delivery_fees_once_a_second_not_per_order() {
    // Given a shop whose delivery costs 200, changed to 300 behind its back (another server)
    let item = product(1, dec!(1500), None);
    let (fee, reads) = (
        Arc::new(Mutex::new(kes(dec!(200)))),
        Arc::new(Mutex::new(0)),
    );
    let shop = fee_shop(fee.clone(), reads.clone(), &item);
    assert_eq!(next_fee(&shop, &item).await, kes(dec!(200)));
    *fee.lock().unwrap() = kes(dec!(300));

    // When more orders come within the second, they pay the fee read for the first, unread
    assert_eq!(next_fee(&shop, &item).await, kes(dec!(200)));
    assert_eq!(next_fee(&shop, &item).await, kes(dec!(200)));
    assert_eq!(*reads.lock().unwrap(), 1);

    // Then an order after it reads the settings again and pays the new fee
    tokio::time::sleep(crate::shop::FEES_TTL + Duration::from_millis(50)).await;
    assert_eq!(next_fee(&shop, &item).await, kes(dec!(300)));
    assert_eq!(*reads.lock().unwrap(), 2);
}

#[tokio::test]
async fn fees_saved_through_the_shop_apply_to_the_next_order_at_once() {
    // Given a shop that has just priced an order with delivery at 200
    let item = product(1, dec!(1500), None);
    let (fee, reads) = (
        Arc::new(Mutex::new(kes(dec!(200)))),
        Arc::new(Mutex::new(0)),
    );
    let shop = fee_shop(fee, reads, &item);
    assert_eq!(next_fee(&shop, &item).await, kes(dec!(200)));

    // When the admin saves 350 through the shop
    let settings: SettingsInput = serde_json::from_value(serde_json::json!({
        "storeName": "Duka", "defaultDeliveryFee": "350",
        "notificationTemplates": [], "mpesaAccount": null,
    }))
    .unwrap();
    shop.update_settings(&settings).await.unwrap();

    // Then the very next order pays it
    assert_eq!(next_fee(&shop, &item).await, kes(dec!(350)));
}
