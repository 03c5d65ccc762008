//! Payments checked with the provider (Transaction Status): codes confirmed before paid,
//! receipts filled in, answers that cannot confirm kept for an admin.

use super::*;
use crate::provider::{TransactionFacts, TransactionSubject};

/// A manual-code provider (code `PendingVerification` until checked) that looks transactions
/// up and reads, on channel `status`, whatever notice the test put in `next`.
fn checking_provider(
    asked: Arc<Mutex<Vec<TransactionSubject>>>,
    next: Arc<Mutex<Vec<Notice>>>,
) -> MockPaymentProvider {
    let mut provider = MockPaymentProvider::new();
    provider.expect_name().return_const("manual".to_owned());
    provider.expect_kind().return_const(PaymentKind::Manual);
    provider.expect_precision().return_const(0u32);
    provider.expect_callback_token().return_const(None);
    provider.expect_reads_mpesa_messages().return_const(false);
    provider.expect_checks_transactions().return_const(true);
    provider
        .expect_handles_channel()
        .returning(|channel| channel == "status");
    provider
        .expect_reply()
        .returning(|_, reply| ProviderReply::json(format!("{reply:?}")));
    provider.expect_start().returning(|request| {
        Ok(StartedPayment {
            reference: request.code.as_ref().map(|c| c.to_uppercase()),
            status: PaymentStatus::PendingVerification,
            customer_message: None,
        })
    });
    provider.expect_check_transaction().returning(move |query| {
        asked.lock().unwrap().push(query.subject.clone());
        Ok("AG_1".to_owned())
    });
    provider
        .expect_interpret()
        .returning(move |_| Ok(next.lock().unwrap().drain(..).collect()));
    provider
}

fn facts(receipt: &str, amount: rust_decimal::Decimal) -> TransactionFacts {
    TransactionFacts {
        receipt: Receipt::parse(receipt).unwrap(),
        amount: Some(kes(amount)),
        payer: Some("2547 ***** 678".into()),
        completed_at: None,
        raw_payload: Some("{}".into()),
    }
}

/// The provider's answer about `payment` arrives on its callback URL.
async fn answer(
    w: &World,
    next: &Mutex<Vec<Notice>>,
    payment: crate::ids::PaymentId,
    outcome: std::result::Result<TransactionFacts, String>,
) {
    next.lock().unwrap().push(Notice::TransactionStatus {
        payment_id: Some(payment),
        request: "AG_1".into(),
        outcome,
    });
    w.shop
        .receive_notification(&notification("status", TOKEN))
        .await
        .unwrap();
}

/// Places an order and submits `code` for it; the order and the waiting payment.
async fn claim(w: &World, code: &str) -> (crate::order::Order, crate::payment::Payment) {
    let order = w
        .shop
        .place_order(&input(&w.item, 1), None)
        .await
        .unwrap()
        .into_order();
    let claim = w
        .shop
        .start_payment(
            &PaymentInput {
                code: Some(code.into()),
                ..pay(&order)
            },
            None,
        )
        .await
        .unwrap()
        .into_payment();
    (order, claim)
}

#[tokio::test]
async fn a_code_is_paid_only_once_the_provider_confirms_it() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(Mutex::new(Vec::new()));
    let w = world(
        checking_provider(asked.clone(), next.clone()),
        Arc::new(crate::events::NoEvents),
    )
    .await;
    // The code is submitted: it waits, and the provider is asked about that code.
    let (order, claim) = claim(&w, "qkx0000001").await;
    assert_eq!(claim.status, PaymentStatus::PendingVerification);
    assert_eq!(
        *asked.lock().unwrap(),
        vec![TransactionSubject::Receipt(
            Receipt::parse("QKX0000001").unwrap()
        )]
    );

    // An answer that cannot confirm it leaves it waiting, with a notice saying why.
    answer(
        &w,
        &next,
        claim.id,
        Err("No such transaction (2001)".into()),
    )
    .await;
    let waiting = w.store.payment(claim.id).await.unwrap().unwrap();
    assert_eq!(waiting.status, PaymentStatus::PendingVerification);
    let reviews = w.store.list_reviews(None, 10).await.unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].reason, ReviewReason::NotConfirmed);
    assert_eq!(reviews[0].payment_id, Some(claim.id));

    // Facts about another transaction confirm nothing.
    answer(&w, &next, claim.id, Ok(facts("QKX0000009", dec!(1500)))).await;
    assert_eq!(
        w.store.payment(claim.id).await.unwrap().unwrap().status,
        PaymentStatus::PendingVerification
    );

    // The confirmation pays the order; the same answer again changes nothing.
    for _ in 0..2 {
        answer(&w, &next, claim.id, Ok(facts("QKX0000001", dec!(1500)))).await;
    }
    let paid = w.store.payment(claim.id).await.unwrap().unwrap();
    assert_eq!(paid.status, PaymentStatus::Succeeded);
    assert_eq!(paid.receipt.unwrap().as_str(), "QKX0000001");
    assert_eq!(
        w.shop.order(order.number.as_str()).await.unwrap().status,
        OrderStatus::Paid
    );
    assert_eq!(w.store.list_reviews(None, 10).await.unwrap().len(), 2);

    // Once paid there is nothing left to ask.
    let err = w
        .shop
        .check_payment(&claim.id.to_string())
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::PaymentNotCheckable)
    );
}

#[tokio::test]
async fn a_confirmation_of_another_amount_is_kept_for_review_not_paid() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(Mutex::new(Vec::new()));
    let w = world(
        checking_provider(asked, next.clone()),
        Arc::new(crate::events::NoEvents),
    )
    .await;
    let (_, claim) = claim(&w, "QKX0000001").await;

    answer(&w, &next, claim.id, Ok(facts("QKX0000001", dec!(15)))).await;

    assert_eq!(
        w.store.payment(claim.id).await.unwrap().unwrap().status,
        PaymentStatus::PendingVerification
    );
    let reviews = w.store.list_reviews(None, 10).await.unwrap();
    assert!(
        matches!(reviews[0].reason, ReviewReason::AmountMismatch { .. }),
        "{reviews:?}"
    );
}

#[tokio::test]
async fn a_code_paid_long_before_the_order_is_not_confirmed() {
    let next = Arc::new(Mutex::new(Vec::new()));
    let w = world(
        checking_provider(Arc::new(Mutex::new(Vec::new())), next.clone()),
        Arc::new(crate::events::NoEvents),
    )
    .await;
    let (order, claim) = claim(&w, "QKX0000001").await;

    // The code of an earlier purchase at the same till, for the same amount.
    answer(
        &w,
        &next,
        claim.id,
        Ok(TransactionFacts {
            completed_at: Some(order.created_at - time::Duration::days(3)),
            ..facts("QKX0000001", dec!(1500))
        }),
    )
    .await;

    assert_eq!(
        w.store.payment(claim.id).await.unwrap().unwrap().status,
        PaymentStatus::PendingVerification
    );
    let reviews = w.store.list_reviews(None, 10).await.unwrap();
    assert_eq!(reviews[0].reason, ReviewReason::NotConfirmed);
    assert!(
        reviews[0]
            .raw_payload
            .as_deref()
            .unwrap()
            .contains("before the order"),
        "{reviews:?}"
    );
}

#[tokio::test]
async fn money_m_pesa_confirms_after_the_admin_rejected_the_code_is_kept_for_them() {
    let next = Arc::new(Mutex::new(Vec::new()));
    let w = world(
        checking_provider(Arc::new(Mutex::new(Vec::new())), next.clone()),
        Arc::new(crate::events::NoEvents),
    )
    .await;
    let (order, claim) = claim(&w, "QKX0000001").await;
    w.shop
        .verify_manual_payment(
            &claim.id.to_string(),
            &ManualVerdict {
                approve: false,
                note: None,
            },
            &crate::AdminUser {
                username: "mama".into(),
            },
        )
        .await
        .unwrap();

    answer(&w, &next, claim.id, Ok(facts("QKX0000001", dec!(1500)))).await;

    // The admin's decision stands, and the money M-Pesa saw is in front of them.
    assert_eq!(
        w.store.payment(claim.id).await.unwrap().unwrap().status,
        PaymentStatus::Failed
    );
    assert_eq!(
        w.shop.order(order.number.as_str()).await.unwrap().status,
        OrderStatus::PendingPayment
    );
    let reviews = w.store.list_reviews(None, 10).await.unwrap();
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    assert_eq!(reviews[0].reason, ReviewReason::ConflictingResult);
    assert_eq!(reviews[0].receipt.as_deref(), Some("QKX0000001"));
}
