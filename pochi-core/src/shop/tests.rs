//! Unit tests of `Shop` for what the store kit cannot reach: provider errors and answers,
//! event sink calls, clock-driven jobs, store faults. Collaborators are `mockall` mocks;
//! the store is the in-memory reference store unless the test is about the store.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use mockall::predicate::always;
use rust_decimal_macros::dec;

use super::*;
use crate::{
    ManualClock, MemoryStore,
    checkout::{CheckoutInput, CheckoutItemInput},
    clock::MockClock,
    error::ConflictReason,
    events::MockEventSink,
    fixtures::{T0, kes, product},
    ids::SequentialIds,
    order::{OrderStatus, Placement},
    payment::{PaymentKind, PaymentStatus, ProviderResult, Receipt, ReviewReason},
    product::Product,
    provider::{
        DirectPayment, MockPaymentProvider, Notice, NoticeReply, Notification, ProviderReply,
        QueryAnswer, RejectReason, StartedPayment,
    },
    shop::config::CallbackToken,
    store::{MockStore, Store},
};

const TOKEN: &str = "k3J9_x-Q2mP7vL0aZ";

fn input(item: &Product, quantity: i64) -> CheckoutInput {
    CheckoutInput {
        name: "Wanjiru Njeri Kamau".into(),
        phone: "0712 345 678".into(),
        county: "Nairobi".into(),
        area: "Westlands".into(),
        address: "Mpaka Road, blue gate".into(),
        notes: None,
        items: vec![CheckoutItemInput {
            product_id: item.id.to_string(),
            quantity,
        }],
    }
}

/// A push provider named `testpay` that reads channel `stk`; tests add expectations.
fn push_provider() -> MockPaymentProvider {
    let mut provider = MockPaymentProvider::new();
    provider.expect_name().return_const("testpay".to_owned());
    provider.expect_kind().return_const(PaymentKind::StkPush);
    provider.expect_precision().return_const(0u32);
    provider
        .expect_handles_channel()
        .returning(|channel| channel == "stk");
    provider
        .expect_reply()
        .returning(|_, reply| ProviderReply::json(format!("{reply:?}")));
    provider
}

/// Makes `provider` accept every push with reference `ws_CO_1`.
fn accept_pushes(provider: &mut MockPaymentProvider) {
    provider.expect_start().returning(|_| {
        Ok(StartedPayment {
            reference: Some("ws_CO_1".into()),
            status: PaymentStatus::Pending,
            customer_message: None,
        })
    });
}

struct World {
    shop: Shop,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    item: Product,
}

async fn world(provider: MockPaymentProvider, events: Arc<dyn crate::events::EventSink>) -> World {
    let store = Arc::new(MemoryStore::new());
    let item = product(1, dec!(1500), Some(10));
    store.insert_product(&item).await.unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let shop = Shop::builder(store.clone())
        .provider(Arc::new(provider))
        .events(events)
        .clock(clock.clone())
        .ids(Arc::new(SequentialIds::new()))
        .config(ShopConfig::default().with_callback_token(CallbackToken::parse(TOKEN).unwrap()))
        .build()
        .unwrap();
    World {
        shop,
        store,
        clock,
        item,
    }
}

fn pay(order: &crate::order::Order) -> PaymentInput {
    PaymentInput {
        order_number: order.number.to_string(),
        ..PaymentInput::default()
    }
}

fn notification(channel: &str, token: &str) -> Notification {
    Notification {
        channel: channel.into(),
        token: token.into(),
        body: b"{}".to_vec(),
        received_at: T0,
    }
}

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
        Err(Error::PaymentProvider {
            message: "timed out".into(),
            retryable: true,
        })
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

fn direct(account: &str, amount: rust_decimal::Decimal, receipt: &str) -> DirectPayment {
    DirectPayment {
        receipt: Receipt::parse(receipt).unwrap(),
        amount: kes(amount),
        account_reference: account.into(),
        payer: Some("2547 ***** 678".into()),
        raw_payload: Some("{}".into()),
    }
}

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

    // 29 minutes later nothing expires
    *now.lock().unwrap() = T0 + Duration::from_secs(29 * 60);
    assert!(shop.expire_unpaid_orders().await.unwrap().is_empty());

    // 30 minutes and a second later it does, and its 4 units are back
    *now.lock().unwrap() = T0 + Duration::from_secs(30 * 60 + 1);
    let expired = shop.expire_unpaid_orders().await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].number, order.number);
    assert_eq!(
        store.product(item.id).await.unwrap().unwrap().stock,
        Some(10)
    );
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
