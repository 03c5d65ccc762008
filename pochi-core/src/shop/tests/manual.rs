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

#[tokio::test]
async fn a_pasted_sms_is_checked_against_the_shops_account_before_anything_is_stored() {
    // Given a manual-code shop paid on a till named DUKA LA MAMA WANJIKU, and an order of 1,500
    let store = Arc::new(MemoryStore::new());
    let item = product(1, dec!(1500), None);
    store.insert_product(&item).await.unwrap();
    let shop = Shop::builder(store.clone())
        .provider(Arc::new(crate::ManualCodeProvider::new()))
        .clock(Arc::new(ManualClock::new(T0)))
        .build()
        .unwrap();
    let mut settings = shop.settings().await.unwrap();
    settings.mpesa_account = Some(
        crate::mpesa_sms::MpesaAccount::parse("till", "123456", "Duka la Mama Wanjiku").unwrap(),
    );
    store.save_settings(&settings).await.unwrap();
    let order = shop
        .place_order(&input(&item, 1), None)
        .await
        .unwrap()
        .into_order();
    let sms = |amount: &str, to: &str| {
        format!(
            "TKT4FVBL1Z Confirmed. Ksh{amount} paid to {to}. on 2/3/26 at 12:05 PM.New M-PESA balance is Ksh3,240.50."
        )
    };
    let submit = |text: String| PaymentInput {
        order_number: order.number.to_string(),
        code: Some(text),
        ..PaymentInput::default()
    };

    // When the message names another till, another amount, or is not a confirmation at all
    let refusals = [
        (
            sms("1,500.00", "DUKA LA BABA"),
            Some(ConflictReason::PaymentToOtherRecipient),
        ),
        (
            sms("1,400.00", "DUKA LA MAMA WANJIKU"),
            Some(ConflictReason::PaymentAmountMismatch),
        ),
        // A message of a purchase months before the order: another payment.
        (
            sms("1,500.00", "DUKA LA MAMA WANJIKU").replace("2/3/26", "29/11/25"),
            Some(ConflictReason::PaymentBeforeOrder),
        ),
        ("I have paid, thank you".to_owned(), None),
        ("x".repeat(2_001), None),
    ];
    for (text, reason) in refusals {
        let err = shop.start_payment(&submit(text), None).await.unwrap_err();
        // Then each is refused for its reason, and no attempt is stored
        assert_eq!(err.conflict_reason(), reason, "{err}");
        if reason.is_none() {
            assert_eq!(err.field(), Some("code"), "{err}");
        }
    }
    assert!(
        shop.payments_of_order(order.number.as_str())
            .await
            .unwrap()
            .is_empty()
    );

    // When the right message is pasted, its code is what the shop verifies
    let claim = shop
        .start_payment(&submit(sms("1,500.00", "DUKA LA MAMA WANJIKU")), None)
        .await
        .unwrap()
        .into_payment();
    assert_eq!(claim.status, PaymentStatus::PendingVerification);
    assert_eq!(claim.provider_reference.as_deref(), Some("TKT4FVBL1Z"));

    // And the same message for another order is refused: the code counts once
    let second = shop
        .place_order(&input(&item, 1), None)
        .await
        .unwrap()
        .into_order();
    let err = shop
        .start_payment(
            &PaymentInput {
                order_number: second.number.to_string(),
                code: Some(sms("1,500.00", "DUKA LA MAMA WANJIKU")),
                ..PaymentInput::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::ReceiptAlreadyUsed)
    );

    // When the admin rejects the first code with a note of their own
    let admin = crate::AdminUser {
        username: "mama".into(),
    };
    shop.verify_manual_payment(
        &claim.id.to_string(),
        &ManualVerdict {
            approve: false,
            note: Some("Looks fake: phoned the customer".into()),
        },
        &admin,
    )
    .await
    .unwrap();
    // Then the customer's payment page reads a plain reason, never the admin's note
    for language in [crate::Language::English, crate::Language::Kiswahili] {
        let view = shop
            .payment_status_in(&claim.id.to_string(), language)
            .await
            .unwrap();
        assert_eq!(view.status, PaymentStatus::Failed);
        let message = view.message.unwrap();
        assert!(!message.contains("phoned"), "{message}");
        assert!(message.contains("M-Pesa"), "{message}");
    }
    let admin_view = shop.payments_of_order(order.number.as_str()).await.unwrap();
    assert_eq!(
        admin_view[0].result_description.as_deref(),
        Some("Looks fake: phoned the customer")
    );
}
