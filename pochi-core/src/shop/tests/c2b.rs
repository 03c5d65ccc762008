//! C2B: validation of money paid to the shortcode, and confirmations matched to orders or kept as unmatched.

use super::*;

#[tokio::test]
async fn c2b_validation_accepts_only_the_amount_due_on_a_known_order() {
    let w_order_code = Arc::new(Mutex::new(String::new()));
    let code = w_order_code.clone();
    let mut provider = push_provider();
    let calls = Arc::new(Mutex::new(0));
    provider.expect_interpret().returning(move |_| {
        let mut n = calls.lock().unwrap();
        *n += 1;
        let code = code.lock().unwrap().clone();
        Ok(vec![Notice::Validation(match *n {
            1 => direct(&code.to_lowercase(), dec!(1500), "QKX0000001"),
            2 => direct(&code, dec!(1000), "QKX0000002"),
            _ => direct("nobody", dec!(1500), "QKX0000003"),
        })])
    });
    let w = world(provider, Arc::new(crate::NoEvents)).await;
    let order = w
        .shop
        .place_order(&input(&w.item, 1), None)
        .await
        .unwrap()
        .into_order();
    *w_order_code.lock().unwrap() = order.number.code().to_owned();

    let replies: Vec<String> = [
        w.shop
            .receive_notification(&notification("stk", TOKEN))
            .await
            .unwrap()
            .body,
        w.shop
            .receive_notification(&notification("stk", TOKEN))
            .await
            .unwrap()
            .body,
        w.shop
            .receive_notification(&notification("stk", TOKEN))
            .await
            .unwrap()
            .body,
    ]
    .into();
    assert_eq!(
        replies,
        vec![
            format!("{:?}", NoticeReply::Accept),
            format!("{:?}", NoticeReply::Reject(RejectReason::WrongAmount)),
            format!("{:?}", NoticeReply::Reject(RejectReason::UnknownAccount)),
        ]
    );
}

#[tokio::test]
async fn a_c2b_confirmation_typed_loosely_pays_the_order_and_unmatched_money_is_kept() {
    let typed = Arc::new(Mutex::new(String::new()));
    let account = typed.clone();
    let mut provider = push_provider();
    provider.expect_interpret().returning(move |_| {
        let account = account.lock().unwrap().clone();
        Ok(vec![
            Notice::DirectPayment(direct(&account, dec!(1500), "QKX1234567")),
            Notice::DirectPayment(direct("my shop order", dec!(200), "QKX7654321")),
        ])
    });
    let w = world(provider, Arc::new(crate::NoEvents)).await;
    let order = w
        .shop
        .place_order(&input(&w.item, 1), None)
        .await
        .unwrap()
        .into_order();
    // "pochi 7k3m 9qxa2b": lower case, with spaces
    let code = order.number.code().to_lowercase();
    *typed.lock().unwrap() = format!(" pochi {} {} ", &code[..4], &code[4..]);

    w.shop
        .receive_notification(&notification("stk", TOKEN))
        .await
        .unwrap();

    let order = w.shop.order(order.number.as_str()).await.unwrap();
    assert_eq!(order.status, OrderStatus::Paid);
    let payments = w.store.payments_for_order(&order.number).await.unwrap();
    assert_eq!(payments[0].kind, PaymentKind::C2b);
    assert_eq!(payments[0].receipt.as_ref().unwrap().as_str(), "QKX1234567");
    let reviews = w
        .shop
        .reviews(None, crate::Limit::default())
        .await
        .unwrap()
        .items;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].reason, ReviewReason::UnmatchedPayment);
    assert_eq!(
        reviews[0].account_reference.as_deref(),
        Some("my shop order")
    );
}

#[tokio::test]
async fn money_paid_to_another_shortcode_is_kept_for_review_and_pays_no_order() {
    // Given an order waiting for payment, and a confirmation naming it, of the right amount,
    // but paid to another business's shortcode
    let typed = Arc::new(Mutex::new(String::new()));
    let account = typed.clone();
    let mut provider = push_provider();
    provider.expect_interpret().returning(move |n| {
        let mut payment = direct(&account.lock().unwrap(), dec!(1500), "QKX5550001");
        payment.other_shortcode = Some("600999".into());
        Ok(vec![if n.body == b"validation" {
            Notice::Validation(payment)
        } else {
            Notice::DirectPayment(payment)
        }])
    });
    let w = world(provider, Arc::new(crate::NoEvents)).await;
    let order = w
        .shop
        .place_order(&input(&w.item, 1), None)
        .await
        .unwrap()
        .into_order();
    *typed.lock().unwrap() = order.number.code().to_owned();

    // When it is validated, then confirmed
    let validation = w
        .shop
        .receive_notification(&Notification {
            body: b"validation".to_vec(),
            ..notification("stk", TOKEN)
        })
        .await
        .unwrap();
    let confirmation = w
        .shop
        .receive_notification(&notification("stk", TOKEN))
        .await
        .unwrap();

    // Then the validation is rejected, the confirmation acknowledged and kept for review,
    // and the order is neither paid nor given a payment
    assert_eq!(
        validation.body,
        format!("{:?}", NoticeReply::Reject(RejectReason::OtherShortcode))
    );
    assert_eq!(confirmation.body, format!("{:?}", NoticeReply::Ack));
    let after = w.shop.order(order.number.as_str()).await.unwrap();
    assert_eq!(after.status, OrderStatus::PendingPayment);
    assert!(
        w.store
            .payments_for_order(&order.number)
            .await
            .unwrap()
            .is_empty()
    );
    let reviews = w
        .shop
        .reviews(None, crate::Limit::default())
        .await
        .unwrap()
        .items;
    assert_eq!(reviews.len(), 1);
    assert_eq!(
        reviews[0].reason,
        ReviewReason::OtherShortcode {
            shortcode: "600999".into()
        }
    );
    assert_eq!(reviews[0].receipt.as_deref(), Some("QKX5550001"));
}
