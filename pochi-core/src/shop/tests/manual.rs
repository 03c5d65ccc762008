//! Manual M-Pesa codes: verified by an admin or by a matching C2B confirmation.

use super::*;

#[tokio::test]
async fn manual_codes_are_verified_by_an_admin_or_by_a_matching_confirmation() {
    // Given a shop with the manual-code provider first and a C2B-capable provider
    let store = Arc::new(MemoryStore::new());
    let item = product(1, dec!(1500), None);
    store.insert_product(&item).await.unwrap();
    let mut c2b = push_provider();
    c2b.expect_interpret().returning(|_| {
        Ok(vec![Notice::DirectPayment(direct(
            "",
            dec!(1500),
            "QKX0000002",
        ))])
    });
    let shop = Shop::builder(store.clone())
        .provider(Arc::new(crate::ManualCodeProvider::new()))
        .provider(Arc::new(c2b))
        .clock(Arc::new(ManualClock::new(T0)))
        .config(ShopConfig::default().with_callback_token(CallbackToken::parse(TOKEN).unwrap()))
        .build()
        .unwrap();
    let admin = crate::AdminUser {
        username: "mama".into(),
    };
    let submit = |order: &crate::order::Order, code: &str| PaymentInput {
        order_number: order.number.to_string(),
        code: Some(code.into()),
        ..PaymentInput::default()
    };

    // An admin approves one code
    let first = shop
        .place_order(&input(&item, 1), None)
        .await
        .unwrap()
        .into_order();
    let claim = shop
        .start_payment(&submit(&first, "qkx0000001"), None)
        .await
        .unwrap()
        .into_payment();
    assert_eq!(claim.status, PaymentStatus::PendingVerification);
    assert_eq!(claim.provider_reference.as_deref(), Some("QKX0000001"));
    let verified = shop
        .verify_manual_payment(
            &claim.id.to_string(),
            &ManualVerdict {
                approve: true,
                note: None,
            },
            &admin,
        )
        .await
        .unwrap();
    assert_eq!(verified.status, PaymentStatus::Succeeded);
    assert_eq!(verified.receipt.unwrap().as_str(), "QKX0000001");
    assert_eq!(
        shop.order(first.number.as_str()).await.unwrap().status,
        OrderStatus::Paid
    );
    let again = shop
        .verify_manual_payment(
            &claim.id.to_string(),
            &ManualVerdict {
                approve: true,
                note: None,
            },
            &admin,
        )
        .await
        .unwrap_err();
    assert_eq!(
        again.conflict_reason(),
        Some(ConflictReason::PaymentNotVerifiable)
    );

    // The same code cannot be claimed for another order
    let second = shop
        .place_order(&input(&item, 1), None)
        .await
        .unwrap()
        .into_order();
    let err = shop
        .start_payment(&submit(&second, "QKX0000001"), None)
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::ReceiptAlreadyUsed),
        "{err}"
    );

    // A C2B confirmation with the claimed code pays the second order without an admin
    shop.start_payment(&submit(&second, "QKX0000002"), None)
        .await
        .unwrap()
        .into_payment();
    shop.receive_notification(&notification("stk", TOKEN))
        .await
        .unwrap();
    assert_eq!(
        shop.order(second.number.as_str()).await.unwrap().status,
        OrderStatus::Paid
    );
}
