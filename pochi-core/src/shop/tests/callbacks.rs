//! Provider callbacks: a success pays the order and publishes its events; a wrong token or an unreadable body is refused and kept for review.

use super::*;

#[tokio::test]
async fn a_success_callback_pays_the_order_and_publishes_both_events() {
    // Given a started push
    let mut provider = push_provider();
    accept_pushes(&mut provider);
    provider.expect_interpret().returning(|_| {
        Ok(vec![Notice::AttemptResult {
            reference: "ws_CO_1".into(),
            result: ProviderResult {
                amount: Some(kes(dec!(1500))),
                receipt: Some(Receipt::parse("NLJ7RT61SV").unwrap()),
                ..ProviderResult::with_status(PaymentStatus::Succeeded)
            },
        }])
    });
    let published = Arc::new(Mutex::new(Vec::new()));
    let seen = published.clone();
    let mut events = MockEventSink::new();
    events.expect_publish().returning(move |e| {
        let name = match e {
            ShopEvent::OrderPlaced { .. } => "placed",
            ShopEvent::PaymentSucceeded { .. } => "succeeded",
            ShopEvent::OrderStatusChanged { from, to, .. } => {
                assert_eq!(
                    (*from, *to),
                    (OrderStatus::PendingPayment, OrderStatus::Paid)
                );
                "status"
            }
            _ => "other",
        };
        seen.lock().unwrap().push(name);
    });
    let w = world(provider, Arc::new(events)).await;
    let order = w
        .shop
        .place_order(&input(&w.item, 1), None)
        .await
        .unwrap()
        .into_order();
    w.shop
        .start_payment(&pay(&order), None)
        .await
        .unwrap()
        .into_payment();

    // When the callback arrives on the right URL
    let reply = w
        .shop
        .receive_notification(&notification("stk", TOKEN))
        .await
        .unwrap();

    // Then the order is paid, the provider's ack is returned, and the events went out
    assert_eq!(reply.body, "Ack");
    assert_eq!(
        w.shop.order(order.number.as_str()).await.unwrap().status,
        OrderStatus::Paid
    );
    assert_eq!(
        *published.lock().unwrap(),
        vec!["placed", "succeeded", "status"]
    );
}

#[tokio::test]
async fn callbacks_on_a_wrong_token_or_unreadable_are_refused_and_reviewed() {
    let mut provider = push_provider();
    provider
        .expect_interpret()
        .returning(|_| Err(Error::invalid("body", "not a callback")));
    let w = world(provider, Arc::new(crate::NoEvents)).await;

    let err = w
        .shop
        .receive_notification(&notification("stk", "wrong-token-123456"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unauthorized");
    let err = w
        .shop
        .receive_notification(&notification("stk", TOKEN))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    let err = w
        .shop
        .receive_notification(&notification("nope", TOKEN))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");

    let reviews = w
        .shop
        .reviews(None, crate::Limit::default())
        .await
        .unwrap()
        .items;
    let reasons: Vec<_> = reviews.iter().map(|r| r.reason.clone()).collect();
    assert_eq!(
        reasons,
        vec![
            ReviewReason::UnreadableNotification,
            ReviewReason::InvalidCallbackToken
        ]
    );
}

#[tokio::test]
async fn a_flood_of_wrong_token_callbacks_keeps_a_bounded_sample_and_counts_every_one() {
    // Given a shop that keeps 20 refused callbacks an hour, and a sink counting refusals
    let provider = push_provider();
    let refused = Arc::new(Mutex::new((0u32, 0u32)));
    let seen = refused.clone();
    let mut events = MockEventSink::new();
    events.expect_publish().returning(move |e| {
        if let ShopEvent::CallbackRefused { kept, .. } = e {
            let mut seen = seen.lock().unwrap();
            seen.0 += 1;
            seen.1 += u32::from(*kept);
        }
    });
    let w = world(provider, Arc::new(events)).await;

    // When 100 forged callbacks arrive
    for n in 0..100 {
        let err = w
            .shop
            .receive_notification(&notification("stk", &format!("forged-token-{n:06}")))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "unauthorized");
    }

    // Then every one is refused and counted, and only the sample is stored
    let reviews = w
        .shop
        .reviews(None, crate::Limit::new(Some(100)).unwrap())
        .await
        .unwrap()
        .items;
    assert_eq!(reviews.len(), 20);
    assert_eq!(*refused.lock().unwrap(), (100, 20));

    // And an hour later the next one is kept again
    w.clock.advance(Duration::from_secs(3600));
    let _ = w
        .shop
        .receive_notification(&notification("stk", "forged-token-later"))
        .await;
    assert_eq!(*refused.lock().unwrap(), (101, 21));
}

#[tokio::test]
async fn while_a_token_is_rotated_callbacks_on_the_previous_one_are_still_applied() {
    // Given a shop whose callback token was rotated: the old one is kept as the previous token
    let mut provider = push_provider();
    accept_pushes(&mut provider);
    provider.expect_interpret().returning(|_| {
        Ok(vec![Notice::AttemptResult {
            reference: "ws_CO_1".into(),
            result: ProviderResult {
                amount: Some(kes(dec!(1500))),
                receipt: Some(Receipt::parse("QKX0000777").unwrap()),
                ..ProviderResult::with_status(PaymentStatus::Succeeded)
            },
        }])
    });
    let store = Arc::new(MemoryStore::new());
    let item = product(1, dec!(1500), Some(10));
    store.insert_product(&item).await.unwrap();
    let shop = Shop::builder(store)
        .provider(Arc::new(provider))
        .clock(Arc::new(ManualClock::new(T0)))
        .ids(Arc::new(SequentialIds::new()))
        .config(
            ShopConfig::default()
                .with_callback_token(CallbackToken::parse("the-new-token-000001").unwrap())
                .with_previous_callback_token(CallbackToken::parse(TOKEN).unwrap()),
        )
        .build()
        .unwrap();
    let order = shop
        .place_order(&input(&item, 1), None)
        .await
        .unwrap()
        .into_order();
    shop.start_payment(&pay(&order), None).await.unwrap();

    // When a push started before the rotation reports back on the old URL
    shop.receive_notification(&notification("stk", TOKEN))
        .await
        .unwrap();

    // Then it is applied; a third token is still refused
    assert_eq!(
        shop.order(order.number.as_str()).await.unwrap().status,
        OrderStatus::Paid
    );
    let err = shop
        .receive_notification(&notification("stk", "some-other-token-0001"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unauthorized");
}
