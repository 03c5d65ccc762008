//! End-to-end scenarios over any `Store`: order → STK push at the fake → callback over HTTP →
//! `Shop`. Each takes the store so every backend can run them (see `e2e_memory.rs`).

use std::{sync::Arc, time::Duration};

use pochi_core::{
    Limit, Money, Order, OrderStatus, Payment, PaymentInput, PaymentKind, PaymentReview,
    PaymentStatus, RefundStatus, ReviewReason, Store,
};
use pochi_pay_mpesa::fake::{
    C2bPayment, CallbackTarget, Delivery, InitiatorScript, PaidDetails, PushOutcome, PushState,
    stk_callback_json,
};
use rust_decimal::prelude::ToPrimitive;
use serde_json::json;

use super::{World, world, world_confirming_c2b};

async fn start(world: &World, order: &Order) -> Payment {
    world
        .shop
        .start_payment(
            &PaymentInput {
                order_number: order.number.to_string(),
                ..PaymentInput::default()
            },
            None,
        )
        .await
        .unwrap()
        .into_payment()
}

async fn payments(world: &World, order: &Order) -> Vec<Payment> {
    world
        .shop
        .payments_of_order(order.number.as_str())
        .await
        .unwrap()
}

async fn reviews(world: &World) -> Vec<PaymentReview> {
    world
        .shop
        .reviews(None, Limit::default())
        .await
        .unwrap()
        .items
}

fn shillings(money: Money) -> u32 {
    money.amount().to_u32().unwrap()
}

fn reference(payment: &Payment) -> &str {
    payment.provider_reference.as_deref().unwrap()
}

pub async fn a_paid_push_marks_the_order_paid(store: Arc<dyn Store>) {
    // Given an order and a push accepted by Daraja
    let world = world(store).await;
    let order = world.order().await;
    let payment = start(&world, &order).await;
    assert_eq!(payment.status, PaymentStatus::Pending);
    let push = world.fake.push(reference(&payment)).unwrap();
    assert_eq!(push.amount, shillings(order.total));
    assert_eq!(push.phone, "254708374149");
    assert_eq!(push.account_reference, order.number.code());

    // When the customer pays and the callback arrives
    let resolution = world
        .fake
        .resolve(reference(&payment), PushOutcome::Paid)
        .await
        .unwrap();

    // Then the shop acknowledged it and the order is paid with the receipt
    assert_eq!(resolution.responses.len(), 1);
    assert_eq!(resolution.responses[0].status, 200);
    assert_eq!(
        resolution.responses[0].json(),
        Some(json!({"ResultCode": 0, "ResultDesc": "Accepted"}))
    );
    let PushState::Resolved {
        receipt: Some(receipt),
        ..
    } = &resolution.push.state
    else {
        panic!("the push was not paid");
    };
    assert_eq!(world.order_now(&order).await.status, OrderStatus::Paid);
    let paid = &payments(&world, &order).await[0];
    assert_eq!(paid.status, PaymentStatus::Succeeded);
    assert_eq!(
        paid.receipt.as_ref().map(|r| r.as_str()),
        Some(receipt.as_str())
    );
    assert_eq!(paid.result_code.as_deref(), Some("0"));
    assert_eq!(paid.payer.as_deref(), Some("254708374149"));
}

pub async fn a_cancelled_push_cancels_the_attempt_and_a_new_one_can_start(store: Arc<dyn Store>) {
    // Given a push
    let world = world(store).await;
    let order = world.order().await;
    let first = start(&world, &order).await;

    // When the customer dismisses it
    let resolution = world
        .fake
        .resolve(reference(&first), PushOutcome::Cancelled)
        .await
        .unwrap();
    assert_eq!(resolution.responses[0].status, 200);

    // Then the attempt is cancelled, the order still waits, and a new push can be sent
    let attempts = payments(&world, &order).await;
    assert_eq!(attempts[0].status, PaymentStatus::Cancelled);
    assert_eq!(attempts[0].result_code.as_deref(), Some("1032"));
    assert_eq!(
        world.order_now(&order).await.status,
        OrderStatus::PendingPayment
    );
    let second = start(&world, &order).await;
    assert_eq!(second.status, PaymentStatus::Pending);
    assert_ne!(reference(&second), reference(&first));
    assert_eq!(world.fake.pending_pushes().len(), 1);
}

pub async fn an_unreachable_phone_times_the_attempt_out(store: Arc<dyn Store>) {
    let world = world(store).await;
    let order = world.order().await;
    let payment = start(&world, &order).await;
    world
        .fake
        .resolve(reference(&payment), PushOutcome::Unreachable)
        .await
        .unwrap();
    let attempt = &payments(&world, &order).await[0];
    assert_eq!(attempt.status, PaymentStatus::TimedOut);
    assert_eq!(attempt.result_code.as_deref(), Some("1037"));
    assert_eq!(
        world.order_now(&order).await.status,
        OrderStatus::PendingPayment
    );
}

pub async fn a_lost_callback_is_settled_by_reconciliation(store: Arc<dyn Store>) {
    // Given a push the customer paid, whose callback never arrives
    let world = world(store).await;
    let order = world.order().await;
    let payment = start(&world, &order).await;
    let resolution = world
        .fake
        .resolve_with(reference(&payment), PushOutcome::Paid, Delivery::lost())
        .await
        .unwrap();
    assert!(resolution.responses.is_empty());
    assert_eq!(
        world.order_now(&order).await.status,
        OrderStatus::PendingPayment
    );

    // When reconciliation runs before the check is due, nothing is asked
    let early = world.shop.reconcile_payments().await.unwrap();
    assert_eq!(early.checked, 0);

    // When it runs after the first check delay
    world.clock.advance(Duration::from_secs(91));
    let report = world.shop.reconcile_payments().await.unwrap();

    // Then the STK query's final answer pays the order (its receipt comes later, from
    // Transaction Status: see `a_receipt_missing_after_an_stk_query_is_filled_in`)
    assert_eq!((report.checked, report.settled), (1, 1));
    assert_eq!(world.order_now(&order).await.status, OrderStatus::Paid);
    let attempt = &payments(&world, &order).await[0];
    assert_eq!(attempt.status, PaymentStatus::Succeeded);
}

pub async fn an_unanswered_push_stays_pending_then_goes_to_review(store: Arc<dyn Store>) {
    // Given a push the customer never answers
    let world = world(store).await;
    let order = world.order().await;
    let payment = start(&world, &order).await;
    world
        .fake
        .resolve(reference(&payment), PushOutcome::NoAnswer)
        .await
        .unwrap();

    // When reconciliation asks ("being processed") until the limit of 4 checks
    let mut pending = 0;
    let mut reviewed = 0;
    for _ in 0..6 {
        world.clock.advance(Duration::from_secs(600));
        let report = world.shop.reconcile_payments().await.unwrap();
        assert_eq!(report.errors, 0);
        pending += report.still_pending;
        reviewed += report.marked_for_review;
    }

    // Then it stayed pending three times and was then marked for review, never failed
    assert_eq!((pending, reviewed), (3, 1));
    let attempt = &payments(&world, &order).await[0];
    assert_eq!(attempt.status, PaymentStatus::Pending);
    assert!(attempt.needs_review);
    assert!(
        reviews(&world)
            .await
            .iter()
            .any(|r| r.reason == ReviewReason::ReconcileLimitReached)
    );
}

pub async fn the_same_callback_twice_and_concurrently_counts_once(store: Arc<dyn Store>) {
    // Given a paid push whose callback arrives twice at the same time
    let world = world(store).await;
    let order = world.order().await;
    let payment = start(&world, &order).await;
    let resolution = world
        .fake
        .resolve_with(
            reference(&payment),
            PushOutcome::Paid,
            Delivery::concurrent(2),
        )
        .await
        .unwrap();
    assert!(resolution.responses.iter().all(|r| r.status == 200));

    // And twice more, one after the other, later
    let again = world
        .fake
        .redeliver(reference(&payment), Delivery::duplicate())
        .await
        .unwrap();
    assert!(again.iter().all(|r| r.status == 200));

    // Then there is one succeeded payment, the order is paid once, and nothing to review
    let attempts = payments(&world, &order).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].status, PaymentStatus::Succeeded);
    let order_now = world.order_now(&order).await;
    assert_eq!(order_now.status, OrderStatus::Paid);
    let paid_entries = order_now
        .timeline
        .iter()
        .filter(|e| e.status == OrderStatus::Paid)
        .count();
    assert_eq!(paid_entries, 1);
    assert!(reviews(&world).await.is_empty());
}

pub async fn a_callback_to_a_wrong_token_is_refused_and_reviewed(store: Arc<dyn Store>) {
    let world = world(store).await;
    let order = world.order().await;
    let payment = start(&world, &order).await;
    let resolution = world
        .fake
        .resolve_with(
            reference(&payment),
            PushOutcome::Paid,
            Delivery::to(CallbackTarget::WrongToken),
        )
        .await
        .unwrap();
    assert_eq!(resolution.responses[0].status, 401);
    assert_eq!(
        world.order_now(&order).await.status,
        OrderStatus::PendingPayment
    );
    assert_eq!(
        payments(&world, &order).await[0].status,
        PaymentStatus::Pending
    );
    let reviews = reviews(&world).await;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].reason, ReviewReason::InvalidCallbackToken);
}

fn forged_success(checkout_request_id: &str, amount: u32) -> serde_json::Value {
    stk_callback_json(
        "29115-34620561-1",
        checkout_request_id,
        "0",
        "The service request is processed successfully.",
        Some(&PaidDetails {
            amount,
            receipt: "NLJ7RT61SV".into(),
            phone: "254708374149".into(),
            at: time::macros::datetime!(2026-03-02 07:01 UTC),
        }),
    )
}

pub async fn a_forged_success_for_an_unknown_checkout_is_reviewed(store: Arc<dyn Store>) {
    let world = world(store).await;
    let order = world.order().await;
    let payment = start(&world, &order).await;
    let body = forged_success("ws_CO_02032026100000000001", shillings(order.total));
    let answer = world
        .fake
        .post_json(&world.stk_callback_url(), &body)
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(
        world.order_now(&order).await.status,
        OrderStatus::PendingPayment
    );
    assert_eq!(
        payments(&world, &order).await[0].status,
        PaymentStatus::Pending
    );
    let reviews = reviews(&world).await;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].reason, ReviewReason::UnknownAttempt);
    assert_eq!(
        reviews[0].reference.as_deref(),
        Some("ws_CO_02032026100000000001")
    );
    assert_ne!(
        reviews[0].reference.as_deref(),
        payment.provider_reference.as_deref()
    );
}

pub async fn a_forged_success_with_the_wrong_amount_is_reviewed(store: Arc<dyn Store>) {
    let world = world(store).await;
    let order = world.order().await;
    let payment = start(&world, &order).await;
    let body = forged_success(reference(&payment), 1);
    let answer = world
        .fake
        .post_json(&world.stk_callback_url(), &body)
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(
        world.order_now(&order).await.status,
        OrderStatus::PendingPayment
    );
    assert_eq!(
        payments(&world, &order).await[0].status,
        PaymentStatus::Pending
    );
    let reviews = reviews(&world).await;
    assert_eq!(reviews.len(), 1);
    assert!(
        matches!(&reviews[0].reason, ReviewReason::AmountMismatch { received, .. } if shillings(*received) == 1),
        "{:?}",
        reviews[0].reason
    );
}

pub async fn a_c2b_confirmation_typed_in_lower_case_with_spaces_pays_the_order(
    store: Arc<dyn Store>,
) {
    // Given registered C2B URLs and an order
    let world = world(store).await;
    let answer = world.provider.register_c2b_urls().await.unwrap();
    assert_eq!(answer.message, "Success");
    let order = world.order().await;
    let code = order.number.code().to_ascii_lowercase();
    let typed = format!(" pochi {} {} ", &code[..5], &code[5..]);

    // When the customer pays the paybill directly, typing the number loosely
    let sent = world
        .fake
        .send_c2b_confirmation(&C2bPayment::new(shillings(order.total), &typed))
        .await
        .unwrap();

    // Then the confirmation is acknowledged and the order is paid by a C2B payment
    assert_eq!(sent.response.status, 200);
    assert_eq!(world.order_now(&order).await.status, OrderStatus::Paid);
    let attempts = payments(&world, &order).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].kind, PaymentKind::C2b);
    assert_eq!(
        attempts[0].receipt.as_ref().map(|r| r.as_str()),
        Some(sent.trans_id.as_str())
    );
    assert_eq!(attempts[0].payer.as_deref(), Some("2547 ***** 126"));
}

pub async fn an_unmatched_c2b_confirmation_is_kept_for_the_admin(store: Arc<dyn Store>) {
    let world = world(store).await;
    world.provider.register_c2b_urls().await.unwrap();
    let sent = world
        .fake
        .send_c2b_confirmation(&C2bPayment::new(700, "Sample Transaction"))
        .await
        .unwrap();
    assert_eq!(sent.response.status, 200);
    let reviews = reviews(&world).await;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].reason, ReviewReason::UnmatchedPayment);
    assert_eq!(reviews[0].receipt.as_deref(), Some(sent.trans_id.as_str()));
    assert_eq!(
        reviews[0].account_reference.as_deref(),
        Some("Sample Transaction")
    );
}

/// The real confirmation vector (paid to shortcode 600966, not the shop's), naming a real order
/// and its amount: kept for review, acknowledged, and no payment is made of it.
pub async fn a_c2b_confirmation_to_another_shortcode_is_kept_and_pays_nothing(
    store: Arc<dyn Store>,
) {
    let world = world(store).await;
    let order = world.order().await;
    let mut body: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/c2b_confirmation.json")).unwrap();
    assert_eq!(body["BusinessShortCode"], "600966");
    body["BillRefNumber"] = json!(order.number.as_str());
    body["TransAmount"] = json!(format!("{}.00", shillings(order.total)));
    let url = world
        .provider
        .config()
        .callback_url(pochi_pay_mpesa::CallbackChannel::C2bConfirmation);
    let response = reqwest::Client::new()
        .post(&url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"ResultCode": 0, "ResultDesc": "Success"})
    );
    assert_eq!(
        world.order_now(&order).await.status,
        OrderStatus::PendingPayment
    );
    assert!(payments(&world, &order).await.is_empty());
    let reviews = reviews(&world).await;
    assert_eq!(reviews.len(), 1);
    assert_eq!(
        reviews[0].reason,
        ReviewReason::OtherShortcode {
            shortcode: "600966".into()
        }
    );
    assert_eq!(reviews[0].receipt.as_deref(), Some("RKL51ZDR4F"));
    assert_eq!(
        reviews[0].account_reference.as_deref(),
        Some(order.number.as_str())
    );
}

pub async fn c2b_validation_accepts_the_due_amount_and_rejects_the_rest(store: Arc<dyn Store>) {
    let world = world(store).await;
    world.provider.register_c2b_urls().await.unwrap();
    let order = world.order().await;
    let due = shillings(order.total);
    let reply = |amount: u32, account: &str| {
        let world = &world;
        let payment = C2bPayment::new(amount, account);
        async move {
            world
                .fake
                .send_c2b_validation(&payment)
                .await
                .unwrap()
                .response
                .json()
        }
    };
    assert_eq!(
        reply(due, order.number.as_str()).await,
        Some(json!({"ResultCode": "0", "ResultDesc": "Accepted"}))
    );
    assert_eq!(
        reply(due, "NOSUCHORDER1").await,
        Some(json!({"ResultCode": "C2B00012", "ResultDesc": "Rejected"}))
    );
    assert_eq!(
        reply(due - 1, order.number.code()).await,
        Some(json!({"ResultCode": "C2B00013", "ResultDesc": "Rejected"}))
    );
    // Validation never pays.
    assert_eq!(
        world.order_now(&order).await.status,
        OrderStatus::PendingPayment
    );
}

pub async fn a_late_success_after_a_timeout_pays_the_order(store: Arc<dyn Store>) {
    // Given a push reported unreachable (1037)
    let world = world(store).await;
    let order = world.order().await;
    let payment = start(&world, &order).await;
    world
        .fake
        .resolve(reference(&payment), PushOutcome::Unreachable)
        .await
        .unwrap();
    assert_eq!(
        payments(&world, &order).await[0].status,
        PaymentStatus::TimedOut
    );

    // When a success for the same checkout arrives late, with the right amount
    let body = forged_success(reference(&payment), shillings(order.total));
    let answer = world
        .fake
        .post_json(&world.stk_callback_url(), &body)
        .await
        .unwrap();

    // Then the late success is applied rather than dropped
    assert_eq!(answer.status, 200);
    assert_eq!(
        payments(&world, &order).await[0].status,
        PaymentStatus::Succeeded
    );
    assert_eq!(world.order_now(&order).await.status, OrderStatus::Paid);
}

/// Pays `order` by push through the fake and returns the M-Pesa receipt.
async fn pay(world: &World, order: &Order) -> String {
    let payment = start(world, order).await;
    let resolution = world
        .fake
        .resolve(reference(&payment), PushOutcome::Paid)
        .await
        .unwrap();
    let PushState::Resolved {
        receipt: Some(receipt),
        ..
    } = &resolution.push.state
    else {
        panic!("the push was not paid");
    };
    assert_eq!(world.order_now(order).await.status, OrderStatus::Paid);
    receipt.clone()
}

fn owner() -> pochi_core::AdminUser {
    pochi_core::AdminUser {
        username: "mama".to_owned(),
    }
}

/// Waits until the order's only refund leaves `sending`, and returns it.
async fn settled_refund(world: &World, order: &Order) -> pochi_core::Refund {
    for _ in 0..100 {
        let refunds = world
            .shop
            .order_refunds(order.number.as_str())
            .await
            .unwrap();
        assert_eq!(refunds.len(), 1, "{refunds:?}");
        if refunds[0].status != RefundStatus::Sending {
            return refunds[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the refund stayed sending");
}

/// An order paid by push (its receipt returned) and cancelled by the owner: it owes its payment
/// back as one refund, returned too.
async fn cancelled_paid_order(world: &World) -> (Order, String, pochi_core::Refund) {
    let order = world.order().await;
    let receipt = pay(world, &order).await;
    world
        .shop
        .move_order(order.number.as_str(), "cancelled", None, false, &owner())
        .await
        .unwrap();
    let mut owed = world
        .shop
        .order_refunds(order.number.as_str())
        .await
        .unwrap();
    assert_eq!(owed.len(), 1, "{owed:?}");
    assert_eq!(owed[0].status, RefundStatus::Owed);
    (order, receipt, owed.remove(0))
}

/// A paid order cancelled by the owner owes its payment back; the shop has M-Pesa reverse it,
/// the asynchronous result makes the refund refunded with the reversal's code, and it is never
/// sent twice.
pub async fn a_cancelled_paid_order_is_refunded_by_a_reversal_once(store: Arc<dyn Store>) {
    let world = world(store).await;
    let (order, receipt, owed) = cancelled_paid_order(&world).await;

    // When the owner has the shop send it
    let sent = world
        .shop
        .send_refund(&owed.id.to_string(), &owner())
        .await
        .unwrap();
    assert!(
        matches!(sent.status, RefundStatus::Sending | RefundStatus::Refunded),
        "{sent:?}"
    );

    // Then M-Pesa reversed the payment's transaction, for the whole amount, once
    let done = settled_refund(&world, &order).await;
    let requests = world.fake.initiator_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].body["TransactionID"], json!(receipt));
    assert_eq!(done.status, RefundStatus::Refunded, "{done:?}");
    assert_eq!(done.reference, requests[0].new_receipt);
    assert_eq!(
        done.actor,
        Some(pochi_core::Actor::Provider("mpesa".to_owned()))
    );
    let tracked = world.shop.track(order.number.as_str()).await.unwrap();
    assert_eq!(tracked.refunds[0].status, RefundStatus::Refunded);

    // And asking again sends nothing
    let again = world
        .shop
        .send_refund(&owed.id.to_string(), &owner())
        .await
        .unwrap_err();
    assert_eq!(
        again.conflict_reason(),
        Some(pochi_core::ConflictReason::RefundNotOwed)
    );
    assert_eq!(world.fake.initiator_requests().len(), 1);
    // No result was left unapplied: one that came before the request's id was written is
    // kept as a notice and decided when `send_refund` applies it.
    let kept = reviews(&world).await;
    assert!(kept.iter().all(|r| r.resolution.is_some()), "{kept:?}");
}

/// A reversal M-Pesa refuses (the initiator's credentials, a spent balance) leaves the refund
/// failed with M-Pesa's words, still owed; sent again, it goes through.
pub async fn a_refused_reversal_fails_and_can_be_sent_again(store: Arc<dyn Store>) {
    let world = world(store).await;
    let (order, _, refund) = cancelled_paid_order(&world).await;
    world.fake.script_initiator(InitiatorScript::FailResult {
        code: "2001".to_owned(),
        description: "The initiator information is invalid.".to_owned(),
    });
    world
        .shop
        .send_refund(&refund.id.to_string(), &owner())
        .await
        .unwrap();
    let failed = settled_refund(&world, &order).await;
    assert_eq!(failed.status, RefundStatus::Failed);
    assert!(
        failed
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("initiator information is invalid"),
        "{failed:?}"
    );
    let tracked = world.shop.track(order.number.as_str()).await.unwrap();
    assert_eq!(tracked.refunds[0].status, RefundStatus::Owed);

    world
        .shop
        .send_refund(&refund.id.to_string(), &owner())
        .await
        .unwrap();
    let done = settled_refund(&world, &order).await;
    assert_eq!(done.status, RefundStatus::Refunded, "{done:?}");
    assert_eq!(world.fake.initiator_requests().len(), 2);
}

/// Money paid with a mistyped account is kept as a notice; the owner assigns it to the order
/// it pays, which becomes paid with the M-Pesa code; assigning it again (two admins, a retry)
/// applies nothing more, and another decision is refused.
pub async fn an_unmatched_c2b_payment_is_assigned_to_its_order_once(store: Arc<dyn Store>) {
    let world = world(store).await;
    world.provider.register_c2b_urls().await.unwrap();
    let order = world.order().await;
    let sent = world
        .fake
        .send_c2b_confirmation(&C2bPayment::new(shillings(order.total), "mistyped"))
        .await
        .unwrap();
    assert_eq!(sent.response.status, 200);
    let notice = reviews(&world).await.remove(0);
    assert_eq!(notice.reason, ReviewReason::UnmatchedPayment);
    let assign = pochi_core::ReviewDecision {
        action: "assign".to_owned(),
        order_number: Some(order.number.to_string()),
        reference: None,
        note: Some("The customer typed the wrong account".to_owned()),
    };
    let id = notice.id.to_string();
    let admin = owner();
    let (first, second) = tokio::join!(
        world.shop.resolve_review(&id, &assign, &admin),
        world.shop.resolve_review(&id, &assign, &admin),
    );
    let decided = first.unwrap();
    second.unwrap();
    let resolution = decided.resolution.unwrap();
    assert_eq!(resolution.outcome, pochi_core::ReviewOutcome::Assigned);
    assert_eq!(resolution.order_number.as_ref(), Some(&order.number));

    let paid = world.order_now(&order).await;
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(
        paid.timeline.last().unwrap().actor,
        pochi_core::Actor::Admin("mama".to_owned())
    );
    let counted = payments(&world, &order).await;
    assert_eq!(counted.len(), 1, "{counted:?}");
    assert_eq!(
        counted[0].receipt.as_ref().map(|r| r.as_str()),
        Some(sent.trans_id.as_str())
    );
    let other = pochi_core::ReviewDecision {
        action: "ignored".to_owned(),
        note: Some("changed my mind".to_owned()),
        ..pochi_core::ReviewDecision::default()
    };
    let err = world
        .shop
        .resolve_review(&id, &other, &admin)
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict_reason(),
        Some(pochi_core::ConflictReason::ReviewResolved)
    );
    assert_eq!(payments(&world, &order).await.len(), 1);
}

/// Waits (up to 10 s) until the payment `id` satisfies `done`; returns it.
async fn payment_when(
    world: &World,
    id: pochi_core::PaymentId,
    done: impl Fn(&Payment) -> bool,
) -> Payment {
    for _ in 0..200 {
        let payment = world.shop.store().payment(id).await.unwrap().unwrap();
        if done(&payment) {
            return payment;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "payment {id} never got there (notices: {:?})",
        reviews(world).await
    );
}

/// Waits (up to 10 s) for `count` notices.
async fn reviews_when(world: &World, count: usize) -> Vec<PaymentReview> {
    for _ in 0..200 {
        let kept = reviews(world).await;
        if kept.len() >= count {
            return kept;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} notices were kept");
}

async fn submit_code(world: &World, order: &Order, code: &str) -> Payment {
    world
        .shop
        .start_payment(
            &PaymentInput {
                order_number: order.number.to_string(),
                method: Some("manual".to_owned()),
                code: Some(code.to_owned()),
                ..PaymentInput::default()
            },
            None,
        )
        .await
        .unwrap()
        .into_payment()
}

/// A customer paid the till by hand and typed the code: the shop asks M-Pesa (Transaction
/// Status, the payment's id as the `Occasion`) and the answer pays the order, once, without an
/// admin. A code M-Pesa does not know waits for the admin with M-Pesa's words.
pub async fn a_manual_code_is_paid_once_transaction_status_confirms_it(store: Arc<dyn Store>) {
    let world = world(store).await;
    let order = world.order().await;
    let code = world
        .fake
        .pay_by_hand(shillings(order.total), "254708374149");

    let claim = submit_code(&world, &order, &code.to_lowercase()).await;
    assert_eq!(claim.status, PaymentStatus::PendingVerification);

    let paid = payment_when(&world, claim.id, |p| p.status == PaymentStatus::Succeeded).await;
    assert_eq!(
        paid.receipt.as_ref().map(|r| r.as_str()),
        Some(code.as_str())
    );
    assert_eq!(world.order_now(&order).await.status, OrderStatus::Paid);
    let asked = world.fake.initiator_requests();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].body["CommandID"], json!("TransactionStatusQuery"));
    assert_eq!(asked[0].body["TransactionID"], json!(code));
    assert_eq!(asked[0].body["Occasion"], json!(claim.id.to_string()));
    // The same answer again (M-Pesa retries) changes nothing: no second "payment received",
    // no timeline entry, no notice.
    let events = world
        .shop
        .store()
        .pending_outbox_events(100)
        .await
        .unwrap()
        .len();
    let timeline = world.order_now(&order).await.timeline.len();
    let delivered = world.fake.wait_for_initiator_deliveries(1).await;
    let again = world
        .fake
        .post_json(
            &format!(
                "{}/api/pay/callbacks/status-result/{}",
                world.host_url,
                super::TOKEN
            ),
            &delivered[0].body,
        )
        .await
        .unwrap();
    assert_eq!(again.status, 200);
    assert_eq!(payments(&world, &order).await.len(), 1);
    assert_eq!(world.order_now(&order).await.status, OrderStatus::Paid);
    assert_eq!(
        world
            .shop
            .store()
            .pending_outbox_events(100)
            .await
            .unwrap()
            .len(),
        events
    );
    assert_eq!(world.order_now(&order).await.timeline.len(), timeline);
    assert!(reviews(&world).await.is_empty());

    // A code M-Pesa has never seen leaves the second order waiting, with a notice.
    let second = world.order().await;
    let unknown = submit_code(&world, &second, "UAB1CD2EF3").await;
    let kept = reviews_when(&world, 1).await;
    assert_eq!(kept[0].reason, ReviewReason::NotConfirmed, "{kept:?}");
    assert_eq!(kept[0].payment_id, Some(unknown.id));
    // Daraja delivers that answer twice: one notice, not two.
    let answers = world.fake.wait_for_initiator_deliveries(2).await;
    world
        .fake
        .post_json(
            &format!(
                "{}/api/pay/callbacks/status-result/{}",
                world.host_url,
                super::TOKEN
            ),
            &answers[1].body,
        )
        .await
        .unwrap();
    assert_eq!(reviews(&world).await.len(), 1);
    let waiting = world
        .shop
        .store()
        .payment(unknown.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(waiting.status, PaymentStatus::PendingVerification);
    assert_eq!(
        world.order_now(&second).await.status,
        OrderStatus::PendingPayment
    );
}

/// Daraja gives up on the check (queue timeout): the code waits with a notice saying so; the
/// admin asks again and M-Pesa's answer pays the order.
pub async fn a_timed_out_check_is_asked_again_by_the_admin(store: Arc<dyn Store>) {
    let world = world(store).await;
    let order = world.order().await;
    let code = world
        .fake
        .pay_by_hand(shillings(order.total), "254708374149");
    world.fake.script_initiator(InitiatorScript::QueueTimeout);

    let claim = submit_code(&world, &order, &code).await;
    let kept = reviews_when(&world, 1).await;
    assert_eq!(kept[0].reason, ReviewReason::NotConfirmed);
    assert!(
        kept[0]
            .raw_payload
            .as_deref()
            .unwrap_or_default()
            .contains("in time"),
        "{kept:?}"
    );
    assert_eq!(
        world
            .shop
            .store()
            .payment(claim.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        PaymentStatus::PendingVerification
    );

    world
        .shop
        .check_payment(&claim.id.to_string())
        .await
        .unwrap();

    payment_when(&world, claim.id, |p| p.status == PaymentStatus::Succeeded).await;
    assert_eq!(world.order_now(&order).await.status, OrderStatus::Paid);
    assert_eq!(world.fake.initiator_requests().len(), 2);
}

/// A push settled by an STK query has no receipt (queries carry none): the shop asks
/// Transaction Status by the push's `CheckoutRequestID` and records the receipt, without
/// announcing the payment a second time.
pub async fn a_receipt_missing_after_an_stk_query_is_filled_in(store: Arc<dyn Store>) {
    let world = world(store).await;
    let order = world.order().await;
    let payment = start(&world, &order).await;
    world
        .fake
        .resolve_with(reference(&payment), PushOutcome::Paid, Delivery::lost())
        .await
        .unwrap();
    world.clock.advance(Duration::from_secs(91));
    let report = world.shop.reconcile_payments().await.unwrap();
    assert_eq!(report.settled, 1);

    let filled = payment_when(&world, payment.id, |p| p.receipt.is_some()).await;
    let push = world.fake.push(reference(&payment)).unwrap();
    let PushState::Resolved { receipt, .. } = push.state else {
        panic!("{push:?}");
    };
    assert_eq!(filled.receipt.map(|r| r.as_str().to_owned()), receipt);
    assert_eq!(filled.status, PaymentStatus::Succeeded);
    let asked = world.fake.initiator_requests();
    assert_eq!(
        asked[0].body["OriginalConversationID"],
        json!(reference(&payment))
    );
    // One "payment received" message, not two.
    let events = world.shop.store().pending_outbox_events(100).await.unwrap();
    let received = events
        .iter()
        .filter(|e| e.details.kind == pochi_core::notify::NoticeKind::PaymentSucceeded)
        .count();
    assert_eq!(received, 1, "{events:?}");
}

/// With C2B payments confirmed first, money paid from the M-Pesa menu waits as
/// `pending_verification` until Transaction Status confirms it; then the order is paid, once.
pub async fn a_c2b_payment_waits_for_transaction_status_when_the_shop_asks(store: Arc<dyn Store>) {
    let world = world_confirming_c2b(store).await;
    world.provider.register_c2b_urls().await.unwrap();
    let order = world.order().await;

    let sent = world
        .fake
        .send_c2b_confirmation(&C2bPayment::new(
            shillings(order.total),
            order.number.code(),
        ))
        .await
        .unwrap();
    assert_eq!(sent.response.status, 200);

    let held = payments(&world, &order).await.remove(0);
    assert_eq!(held.kind, PaymentKind::C2b);
    let paid = payment_when(&world, held.id, |p| p.status == PaymentStatus::Succeeded).await;
    assert_eq!(
        paid.receipt.map(|r| r.as_str().to_owned()),
        Some(sent.trans_id.clone())
    );
    assert_eq!(world.order_now(&order).await.status, OrderStatus::Paid);
    let asked = world.fake.initiator_requests();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].body["TransactionID"], json!(sent.trans_id));

    // Daraja sends the confirmation again: nothing more is recorded or asked.
    world
        .fake
        .send_c2b_confirmation(
            &C2bPayment::new(shillings(order.total), order.number.code())
                .with_trans_id(&sent.trans_id),
        )
        .await
        .unwrap();
    assert_eq!(payments(&world, &order).await.len(), 1);
    assert_eq!(world.fake.initiator_requests().len(), 1);
}

/// Daraja never answers the reversal (the request times out): the refund stays `sending`, and
/// after 15 minutes without a result the owner gives up on it; it is then failed, sent again,
/// and refunded once.
pub async fn a_refund_without_an_answer_is_given_up_on_and_sent_again(store: Arc<dyn Store>) {
    let world = world(store).await;
    let (order, _, refund) = cancelled_paid_order(&world).await;
    let id = refund.id.to_string();
    world.fake.script_initiator(InitiatorScript::NoAnswer);

    let timed_out = world.shop.send_refund(&id, &owner()).await.unwrap_err();
    assert!(timed_out.is_retryable(), "{timed_out:?}");
    let stuck = world
        .shop
        .order_refunds(order.number.as_str())
        .await
        .unwrap()[0]
        .clone();
    assert_eq!(stuck.status, RefundStatus::Sending);
    // Too early to give up, and it cannot be sent twice meanwhile.
    let early = world.shop.give_up_refund(&id, &owner()).await.unwrap_err();
    assert_eq!(
        early.conflict_reason(),
        Some(pochi_core::ConflictReason::RefundNotStuck)
    );
    let twice = world.shop.send_refund(&id, &owner()).await.unwrap_err();
    assert_eq!(
        twice.conflict_reason(),
        Some(pochi_core::ConflictReason::RefundNotOwed)
    );

    world.clock.advance(Duration::from_secs(15 * 60));
    let failed = world.shop.give_up_refund(&id, &owner()).await.unwrap();
    assert_eq!(failed.status, RefundStatus::Failed);
    world.shop.send_refund(&id, &owner()).await.unwrap();
    let done = settled_refund(&world, &order).await;
    assert_eq!(done.status, RefundStatus::Refunded, "{done:?}");
    assert_eq!(
        world.fake.initiator_requests().len(),
        1,
        "the unanswered one was not processed"
    );
}
