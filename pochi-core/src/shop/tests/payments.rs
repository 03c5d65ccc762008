//! Starting payments: declined, unanswered and retried starts, amounts a provider cannot charge, the resend interval.

use super::*;

#[tokio::test]
async fn a_declined_start_fails_the_attempt_and_returns_the_reason() {
    // Given a provider that declines the push
    let mut provider = push_provider();
    provider.expect_start().times(1).returning(|_| {
        Err(Error::PaymentDeclined {
            code: "SubscriberLocked".into(),
            message: "Another payment is in progress on this phone".into(),
        })
    });
    let w = world(provider, Arc::new(crate::NoEvents)).await;
    let order = w
        .shop
        .place_order(&input(&w.item, 1), None)
        .await
        .unwrap()
        .into_order();

    // When the customer pays
    let err = w.shop.start_payment(&pay(&order), None).await.unwrap_err();

    // Then the reason comes back and the attempt is recorded as failed
    assert_eq!(err.code(), "payment_declined");
    let attempts = w.store.payments_for_order(&order.number).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].status, PaymentStatus::Failed);
    assert_eq!(
        attempts[0].result_description.as_deref(),
        Some("payment declined: Another payment is in progress on this phone")
    );
}

#[tokio::test]
async fn an_unanswered_start_stays_pending_for_reconciliation() {
    // Given a provider that times out (the push may or may not have gone out)
    let mut provider = push_provider();
    provider.expect_start().returning(|_| {
        Err(Error::payment_provider(
            "timed out",
            true,
            std::io::Error::from(std::io::ErrorKind::TimedOut),
        ))
    });
    let w = world(provider, Arc::new(crate::NoEvents)).await;
    let order = w
        .shop
        .place_order(&input(&w.item, 1), None)
        .await
        .unwrap()
        .into_order();

    let err = w.shop.start_payment(&pay(&order), None).await.unwrap_err();

    // Then the attempt stays pending and is due for a check after the first delay
    assert_eq!(err.code(), "payment_provider_error");
    let attempt = &w.store.payments_for_order(&order.number).await.unwrap()[0];
    assert_eq!(attempt.status, PaymentStatus::Pending);
    assert_eq!(attempt.next_check_at, Some(T0 + Duration::from_secs(90)));
}

#[tokio::test]
async fn amounts_the_provider_cannot_charge_exactly_are_refused_before_asking() {
    // Given a whole-shillings provider that must never be called
    let mut provider = push_provider();
    provider.expect_start().times(0);
    let w = world(provider, Arc::new(crate::NoEvents)).await;
    let cents = product(2, dec!(99.50), None);
    w.store.insert_product(&cents).await.unwrap();
    let order = w
        .shop
        .place_order(&input(&cents, 1), None)
        .await
        .unwrap()
        .into_order();

    let err = w.shop.start_payment(&pay(&order), None).await.unwrap_err();

    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::AmountNotChargeable),
        "{err}"
    );
    assert!(
        w.store
            .payments_for_order(&order.number)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_second_push_waits_for_the_resend_interval() {
    // Given a push that was accepted
    let mut provider = push_provider();
    let calls = Arc::new(Mutex::new(0u32));
    let counter = calls.clone();
    provider.expect_start().returning(move |_| {
        let mut n = counter.lock().unwrap();
        *n += 1;
        Ok(StartedPayment {
            reference: Some(format!("ws_CO_{n}")),
            status: PaymentStatus::Pending,
            customer_message: None,
        })
    });
    let w = world(provider, Arc::new(crate::NoEvents)).await;
    let order = w
        .shop
        .place_order(&input(&w.item, 1), None)
        .await
        .unwrap()
        .into_order();
    let first = w
        .shop
        .start_payment(&pay(&order), None)
        .await
        .unwrap()
        .into_payment();
    assert_eq!(first.provider_reference.as_deref(), Some("ws_CO_1"));

    // When the customer asks again a minute later, then it is refused (Safaricom would too)
    w.clock.advance(Duration::from_secs(60));
    let err = w.shop.start_payment(&pay(&order), None).await.unwrap_err();
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::PaymentInProgress),
        "{err}"
    );

    // When two more minutes pass, then a new attempt is made
    w.clock.advance(Duration::from_secs(120));
    let second = w
        .shop
        .start_payment(&pay(&order), None)
        .await
        .unwrap()
        .into_payment();
    assert_ne!(second.id, first.id);
    assert_eq!(*calls.lock().unwrap(), 2);
}

#[tokio::test]
async fn a_retried_start_with_the_same_key_asks_for_money_once() {
    let mut provider = push_provider();
    provider.expect_start().times(1).returning(|_| {
        Ok(StartedPayment {
            reference: Some("ws_CO_1".into()),
            status: PaymentStatus::Pending,
            customer_message: None,
        })
    });
    let w = world(provider, Arc::new(crate::NoEvents)).await;
    let order = w
        .shop
        .place_order(&input(&w.item, 1), None)
        .await
        .unwrap()
        .into_order();
    let first = w
        .shop
        .start_payment(&pay(&order), Some("pay-1"))
        .await
        .unwrap();
    let again = w
        .shop
        .start_payment(&pay(&order), Some("pay-1"))
        .await
        .unwrap();
    assert!(matches!(first, PaymentStart::Started(_)), "{first:?}");
    assert!(matches!(again, PaymentStart::Replayed(_)), "{again:?}");
    assert_eq!(first.payment(), again.payment());
}
