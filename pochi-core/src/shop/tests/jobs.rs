//! The clock-driven jobs: payment reconciliation and unpaid-order expiry.

use super::*;

#[tokio::test]
async fn reconciliation_backs_off_then_marks_for_review() {
    // Given a push that never gets a callback and whose query stays "being processed"
    let mut provider = push_provider();
    accept_pushes(&mut provider);
    let queries = Arc::new(Mutex::new(0u32));
    let counter = queries.clone();
    provider.expect_query().returning(move |_| {
        *counter.lock().unwrap() += 1;
        Ok(QueryAnswer::Pending)
    });
    let w = world(provider, Arc::new(crate::NoEvents)).await;
    let order = w
        .shop
        .place_order(&input(&w.item, 1), None)
        .await
        .unwrap()
        .into_order();
    let attempt = w
        .shop
        .start_payment(&pay(&order), None)
        .await
        .unwrap()
        .into_payment();

    // Before the first delay nothing is asked
    w.clock.advance(Duration::from_secs(89));
    assert_eq!(w.shop.reconcile_payments().await.unwrap().checked, 0);

    // Then checks come at 90 s, then after 30 s, 60 s, 120 s … each one "still pending"
    let mut pauses = Vec::new();
    let mut last_check: Option<time::OffsetDateTime> = None;
    loop {
        w.clock.advance(Duration::from_secs(1));
        let report = w.shop.reconcile_payments().await.unwrap();
        if report.marked_for_review == 1 {
            break;
        }
        if report.still_pending == 1 {
            if let Some(previous) = last_check {
                pauses.push((w.shop.now() - previous).whole_seconds());
            }
            last_check = Some(w.shop.now());
        }
    }
    assert_eq!(pauses, vec![30, 60, 120, 240, 480, 600]);
    assert_eq!(
        *queries.lock().unwrap(),
        8,
        "max_payment_checks queries, then review"
    );
    let attempt = w.store.payment(attempt.id).await.unwrap().unwrap();
    assert!(attempt.needs_review);
    assert_eq!(attempt.status, PaymentStatus::Pending, "never guessed");
    let reviews = w
        .shop
        .reviews(None, crate::Limit::default())
        .await
        .unwrap()
        .items;
    assert_eq!(reviews[0].reason, ReviewReason::ReconcileLimitReached);
    assert_eq!(
        w.shop.reconcile_payments().await.unwrap().checked,
        0,
        "no more checks"
    );
}

#[tokio::test]
async fn reconciliation_applies_a_final_answer() {
    let mut provider = push_provider();
    accept_pushes(&mut provider);
    provider.expect_query().with(always()).returning(|_| {
        Ok(QueryAnswer::Final(ProviderResult::with_status(
            PaymentStatus::Succeeded,
        )))
    });
    let w = world(provider, Arc::new(crate::NoEvents)).await;
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
    w.clock.advance(Duration::from_secs(90));

    let report = w.shop.reconcile_payments().await.unwrap();

    assert_eq!((report.checked, report.settled), (1, 1));
    assert_eq!(
        w.shop.order(order.number.as_str()).await.unwrap().status,
        OrderStatus::Paid
    );
}

#[tokio::test]
async fn expiry_follows_the_clock() {
    // Given a clock the test controls through a mock
    let now = Arc::new(Mutex::new(T0));
    let reading = now.clone();
    let mut clock = MockClock::new();
    clock
        .expect_now()
        .returning(move || *reading.lock().unwrap());
    let store = Arc::new(MemoryStore::new());
    let item = product(1, dec!(1500), Some(10));
    store.insert_product(&item).await.unwrap();
    let shop = Shop::builder(store.clone())
        .clock(Arc::new(clock))
        .build()
        .unwrap();
    let order = shop
        .place_order(&input(&item, 4), None)
        .await
        .unwrap()
        .into_order();

    // 9 minutes later nothing expires
    *now.lock().unwrap() = T0 + Duration::from_secs(9 * 60);
    assert!(shop.expire_unpaid_orders().await.unwrap().is_empty());

    // 10 minutes and a second later (nobody started to pay: the short hold) it does, and its
    // 4 units are back
    *now.lock().unwrap() = T0 + Duration::from_secs(10 * 60 + 1);
    let expired = shop.expire_unpaid_orders().await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].number, order.number);
    assert_eq!(
        store.product(item.id).await.unwrap().unwrap().stock,
        Some(10)
    );
}

#[tokio::test]
async fn an_order_whose_customer_is_paying_outlives_its_expiry_until_the_hold_ends() {
    // Given an order whose push was sent at 7 minutes and is still pending
    let mut provider = push_provider();
    accept_pushes(&mut provider);
    let w = world(provider, Arc::new(crate::NoEvents)).await;
    let order = w
        .shop
        .place_order(&input(&w.item, 4), None)
        .await
        .unwrap()
        .into_order();
    w.clock.advance(Duration::from_secs(7 * 60));
    w.shop.start_payment(&pay(&order), None).await.unwrap();

    // When its 30 minutes pass, it is kept with its stock
    w.clock.advance(Duration::from_secs(24 * 60));
    assert!(w.shop.expire_unpaid_orders().await.unwrap().is_empty());
    assert_eq!(
        w.store.product(w.item.id).await.unwrap().unwrap().stock,
        Some(6)
    );

    // And when the hold (an hour more) has passed too, it expires
    w.clock.advance(Duration::from_secs(60 * 60));
    let expired = w.shop.expire_unpaid_orders().await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].number, order.number);
    assert_eq!(
        w.store.product(w.item.id).await.unwrap().unwrap().stock,
        Some(10)
    );
}

#[tokio::test]
async fn no_push_is_started_for_an_order_about_to_expire() {
    // Given an order 29 minutes old (it expires at 30)
    let mut provider = push_provider();
    accept_pushes(&mut provider);
    let w = world(provider, Arc::new(crate::NoEvents)).await;
    let order = w
        .shop
        .place_order(&input(&w.item, 1), None)
        .await
        .unwrap()
        .into_order();
    w.clock.advance(Duration::from_secs(29 * 60));

    // When the customer asks to pay, the push is refused and nothing is stored
    let err = w.shop.start_payment(&pay(&order), None).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                reason: ConflictReason::OrderExpiring,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        w.store
            .payments_for_order(&order.number)
            .await
            .unwrap()
            .is_empty()
    );
}
