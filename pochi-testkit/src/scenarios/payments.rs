//! Payments: results applied once, receipts counted once, flags, direct payments, attempts.

use std::sync::Arc;

use futures::future::join_all;
use pochi_core::{
    Actor, ConflictReason, Entity, Error, IdGenerator, Order, OrderStatus, PaymentKind,
    PaymentStatus, PaymentTarget, Product, RandomIds, ReviewId, ReviewOutcome, ReviewReason,
    ReviewResolution, Settled, Store, StoreExt,
    order::PaymentFlagKind,
    payment::{PaymentCheck, PaymentReview, Unchanged},
    store::PaymentInsert,
};

use crate::fixtures::{
    at, attempt, by_reference, failure, kes, key, order_for, order_number, product,
    started_attempt, stock_shelves, success,
};

async fn setup(store: &dyn Store) -> (Product, Order) {
    let item = product("Kikoi", "1500", Some(100));
    stock_shelves(store, &[&item]).await;
    let order = order_for(store, &item, 2).await;
    (item, order)
}

/// A success pays the order; the same result delivered again changes nothing.
pub async fn the_same_result_twice_changes_nothing(store: Arc<dyn Store>) {
    // Given a started push for an order of 3000
    let (_, order) = setup(store.as_ref()).await;
    let payment = started_attempt(store.as_ref(), &order, order.total, "ws_CO_1").await;

    // When its success arrives
    let first = store
        .settle_payment(&by_reference(&payment), &success(order.total, "NLJ7RT61SV"))
        .await
        .unwrap();

    // Then the payment succeeded with its receipt and the order is paid
    let Settled::Applied {
        payment: paid,
        order: paid_order,
    } = first
    else {
        panic!("expected the result to apply, got {first:?}");
    };
    assert_eq!(paid.status, PaymentStatus::Succeeded);
    assert_eq!(
        paid.receipt.as_ref().map(|r| r.as_str()),
        Some("NLJ7RT61SV")
    );
    assert_eq!(
        paid.raw_payload.as_deref(),
        Some("{\"receipt\":\"NLJ7RT61SV\"}")
    );
    assert_eq!(paid_order.status, OrderStatus::Paid);
    assert_eq!(paid_order.paid_at, Some(at(60)));
    assert_eq!(
        store.payment(payment.id).await.unwrap().as_ref(),
        Some(paid.as_ref())
    );

    // When the same callback arrives again
    let second = store
        .settle_payment(&by_reference(&payment), &success(order.total, "NLJ7RT61SV"))
        .await
        .unwrap();

    // Then nothing changes
    assert!(
        matches!(
            second,
            Settled::Unchanged {
                reason: Unchanged::Duplicate,
                ..
            }
        ),
        "{second:?}"
    );
    assert_eq!(
        store.order_required(&order.number).await.unwrap(),
        *paid_order
    );
    assert_eq!(
        store.payment(payment.id).await.unwrap().as_ref(),
        Some(paid.as_ref())
    );
}

/// 16 copies of one success delivered at once: it applies once.
pub async fn concurrent_duplicate_results_apply_once(store: Arc<dyn Store>) {
    let (_, order) = setup(store.as_ref()).await;
    let payment = started_attempt(store.as_ref(), &order, order.total, "ws_CO_2").await;
    let racers = (0..16).map(|_| {
        let store = store.clone();
        let target = by_reference(&payment);
        let result = success(order.total, "NLJ7RT61SW");
        tokio::spawn(async move { store.settle_payment(&target, &result).await })
    });
    let results: Vec<Settled> = join_all(racers)
        .await
        .into_iter()
        .map(|j| j.unwrap().unwrap())
        .collect();
    let applied = results
        .iter()
        .filter(|r| matches!(r, Settled::Applied { .. }))
        .count();
    assert_eq!(applied, 1);
    let order = store.order_required(&order.number).await.unwrap();
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(
        order.timeline.len(),
        2,
        "one entry for placing, one for payment"
    );
}

/// A receipt recorded on one payment is refused on any other, also when two race.
pub async fn a_receipt_is_never_counted_twice(store: Arc<dyn Store>) {
    // Given two orders with a started attempt each
    let (item, first) = setup(store.as_ref()).await;
    let second = order_for(store.as_ref(), &item, 2).await;
    let a = started_attempt(store.as_ref(), &first, first.total, "ws_CO_A").await;
    let b = started_attempt(store.as_ref(), &second, second.total, "ws_CO_B").await;

    // When A succeeds with a receipt and B claims the same receipt
    store
        .settle_payment(&by_reference(&a), &success(first.total, "QKX1234567"))
        .await
        .unwrap();
    let err = store
        .settle_payment(&by_reference(&b), &success(second.total, "QKX1234567"))
        .await
        .unwrap_err();

    // Then B is refused and stays pending, its order unpaid
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::ReceiptAlreadyUsed),
        "{err}"
    );
    assert_eq!(
        store.payment(b.id).await.unwrap().unwrap().status,
        PaymentStatus::Pending
    );
    assert_eq!(
        store.order_required(&second.number).await.unwrap().status,
        OrderStatus::PendingPayment
    );

    // And a direct payment with that receipt is refused too
    let direct = attempt(
        &second,
        second.total,
        PaymentKind::C2b,
        "testpay",
        Some("C2B-REF-1"),
    );
    let err = store
        .record_direct_payment(&direct, &success(second.total, "QKX1234567"))
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::ReceiptAlreadyUsed),
        "{err}"
    );
    assert_eq!(store.payment(direct.id).await.unwrap(), None);

    // When two attempts race to claim one new receipt, exactly one gets it
    let third = order_for(store.as_ref(), &item, 1).await;
    let fourth = order_for(store.as_ref(), &item, 1).await;
    let c = started_attempt(store.as_ref(), &third, third.total, "ws_CO_C").await;
    let d = started_attempt(store.as_ref(), &fourth, fourth.total, "ws_CO_D").await;
    let race = |p: &pochi_core::Payment, total| {
        let store = store.clone();
        let target = by_reference(p);
        tokio::spawn(async move {
            store
                .settle_payment(&target, &success(total, "RACE000001"))
                .await
        })
    };
    let (rc, rd) = (race(&c, third.total), race(&d, fourth.total));
    let (rc, rd) = (rc.await.unwrap(), rd.await.unwrap());
    let wins = [&rc, &rd]
        .iter()
        .filter(|r| matches!(r, Ok(Settled::Applied { .. })))
        .count();
    assert_eq!(wins, 1, "{rc:?} {rd:?}");
}

/// A result for an attempt the shop never started is not found and changes nothing; a success
/// whose amount differs from the attempt's is quarantined.
pub async fn unknown_attempts_and_wrong_amounts_change_nothing(store: Arc<dyn Store>) {
    let (_, order) = setup(store.as_ref()).await;
    let payment = started_attempt(store.as_ref(), &order, order.total, "ws_CO_3").await;

    // Unknown reference
    let unknown = PaymentTarget::Reference {
        provider: "testpay".into(),
        reference: "ws_CO_FORGED".into(),
    };
    let err = store
        .settle_payment(&unknown, &success(order.total, "FORGED0001"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                entity: Entity::Payment,
                ..
            }
        ),
        "{err}"
    );

    // Wrong amount
    let settled = store
        .settle_payment(&by_reference(&payment), &success(kes("1"), "FORGED0002"))
        .await
        .unwrap();
    match settled {
        Settled::Quarantined { reason, .. } => assert_eq!(
            reason,
            ReviewReason::AmountMismatch {
                expected: order.total,
                received: kes("1")
            }
        ),
        other => panic!("expected quarantine, got {other:?}"),
    }
    assert_eq!(
        store.payment(payment.id).await.unwrap().unwrap().status,
        PaymentStatus::Pending
    );
    assert_eq!(store.order_required(&order.number).await.unwrap(), order);
}

/// Failures are recorded; a failure never overwrites a success; a late success after a
/// timeout is applied.
pub async fn final_results_never_regress(store: Arc<dyn Store>) {
    let (item, order) = setup(store.as_ref()).await;
    let payment = started_attempt(store.as_ref(), &order, order.total, "ws_CO_4").await;

    // Timed out, then a late success arrives
    let timed_out = store
        .settle_payment(
            &by_reference(&payment),
            &failure(PaymentStatus::TimedOut, "1037"),
        )
        .await
        .unwrap();
    assert!(
        matches!(&timed_out, Settled::Applied { payment, .. } if payment.status == PaymentStatus::TimedOut)
    );
    assert_eq!(
        store
            .payment(payment.id)
            .await
            .unwrap()
            .unwrap()
            .result_code
            .as_deref(),
        Some("1037")
    );
    let late = store
        .settle_payment(&by_reference(&payment), &success(order.total, "LATE000001"))
        .await
        .unwrap();
    assert!(
        matches!(&late, Settled::Applied { order, .. } if order.status == OrderStatus::Paid),
        "{late:?}"
    );

    // A cancellation after the success is stale
    let stale = store
        .settle_payment(
            &by_reference(&payment),
            &failure(PaymentStatus::Cancelled, "1032"),
        )
        .await
        .unwrap();
    assert!(
        matches!(
            stale,
            Settled::Unchanged {
                reason: Unchanged::Stale,
                ..
            }
        ),
        "{stale:?}"
    );
    assert_eq!(
        store.payment(payment.id).await.unwrap().unwrap().status,
        PaymentStatus::Succeeded
    );

    // A cancelled attempt on another order stays cancelled and its order unpaid
    let other = order_for(store.as_ref(), &item, 1).await;
    let cancelled = started_attempt(store.as_ref(), &other, other.total, "ws_CO_5").await;
    store
        .settle_payment(
            &PaymentTarget::Id(cancelled.id),
            &failure(PaymentStatus::Cancelled, "1032"),
        )
        .await
        .unwrap();
    assert_eq!(
        store.payment(cancelled.id).await.unwrap().unwrap().status,
        PaymentStatus::Cancelled
    );
    assert_eq!(
        store.order_required(&other.number).await.unwrap().status,
        OrderStatus::PendingPayment
    );
}

/// Direct payments that add up to less or more than the total leave the order unpaid and
/// flagged; one that completes a part payment pays it. A repeated direct payment is a no-op.
pub async fn short_and_over_payments_are_flagged(store: Arc<dyn Store>) {
    let (item, order) = setup(store.as_ref()).await;
    assert_eq!(order.total, kes("3000"));
    let direct = |o: &Order, amount: &str, reference: &str| {
        attempt(o, kes(amount), PaymentKind::C2b, "testpay", Some(reference))
    };

    // Short: 1000 of 3000
    let part = direct(&order, "1000", "C2B0000001");
    let settled = store
        .record_direct_payment(&part, &success(kes("1000"), "C2B0000001"))
        .await
        .unwrap();
    let Settled::Applied { order: after, .. } = settled else {
        panic!("{settled:?}")
    };
    assert_eq!(after.status, OrderStatus::PendingPayment);
    let flag = after.payment_flag.unwrap();
    assert_eq!(
        (flag.kind, flag.expected, flag.received),
        (PaymentFlagKind::ShortPayment, kes("3000"), kes("1000"))
    );

    // The same confirmation again is a duplicate
    let again = store
        .record_direct_payment(
            &direct(&order, "1000", "C2B0000001"),
            &success(kes("1000"), "C2B0000001"),
        )
        .await
        .unwrap();
    assert!(
        matches!(
            again,
            Settled::Unchanged {
                reason: Unchanged::Duplicate,
                ..
            }
        ),
        "{again:?}"
    );
    assert_eq!(
        store.payments_for_order(&order.number).await.unwrap().len(),
        1
    );

    // The rest: 2000 completes it and clears the flag
    let rest = direct(&order, "2000", "C2B0000002");
    let settled = store
        .record_direct_payment(&rest, &success(kes("2000"), "C2B0000002"))
        .await
        .unwrap();
    let Settled::Applied { order: after, .. } = settled else {
        panic!("{settled:?}")
    };
    assert_eq!(after.status, OrderStatus::Paid);
    assert_eq!(after.payment_flag, None);

    // Over: 5000 for 1500
    let small = order_for(store.as_ref(), &item, 1).await;
    let over = direct(&small, "5000", "C2B0000003");
    let settled = store
        .record_direct_payment(&over, &success(kes("5000"), "C2B0000003"))
        .await
        .unwrap();
    let Settled::Applied { order: after, .. } = settled else {
        panic!("{settled:?}")
    };
    assert_eq!(after.status, OrderStatus::PendingPayment);
    let flag = after.payment_flag.unwrap();
    assert_eq!(
        (flag.kind, flag.received),
        (PaymentFlagKind::OverPayment, kes("5000"))
    );
    assert_eq!(store.order_required(&small.number).await.unwrap(), *after);
}

/// Attempts: an idempotency key returns the existing attempt (also when racing); a provider
/// reference belongs to one attempt; an attempt needs an existing order.
pub async fn payment_attempts_are_idempotent(store: Arc<dyn Store>) {
    let (_, order) = setup(store.as_ref()).await;

    // Racing inserts with one key: one attempt
    let racers = (0..8).map(|_| {
        let store = store.clone();
        let mut p = attempt(&order, order.total, PaymentKind::StkPush, "testpay", None);
        p.idempotency_key = Some(key("pay-key"));
        tokio::spawn(async move { store.insert_payment(&p, None).await })
    });
    let results: Vec<PaymentInsert> = join_all(racers)
        .await
        .into_iter()
        .map(|j| j.unwrap().unwrap())
        .collect();
    let inserted: Vec<_> = results
        .iter()
        .filter_map(|r| match r {
            PaymentInsert::Inserted(p) => Some(p.id),
            PaymentInsert::Existing(_) => None,
        })
        .collect();
    assert_eq!(inserted.len(), 1);
    for r in &results {
        if let PaymentInsert::Existing(p) = r {
            assert_eq!(p.id, inserted[0]);
        }
    }
    assert_eq!(
        store.payments_for_order(&order.number).await.unwrap().len(),
        1
    );

    // A reference another attempt holds is refused
    let first = started_attempt(store.as_ref(), &order, order.total, "ws_CO_SAME").await;
    let second = attempt(&order, order.total, PaymentKind::StkPush, "testpay", None);
    store.insert_payment(&second, None).await.unwrap();
    let err = store
        .mark_payment_started(
            second.id,
            Some("ws_CO_SAME".into()),
            PaymentStatus::Pending,
            at(2),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::AlreadyExists),
        "{err}"
    );
    assert_eq!(
        store
            .payment_by_reference("testpay", "ws_CO_SAME")
            .await
            .unwrap()
            .unwrap()
            .id,
        first.id
    );
    assert_eq!(
        store
            .payment(second.id)
            .await
            .unwrap()
            .unwrap()
            .provider_reference,
        None
    );

    // A manual code waits for verification
    let manual = attempt(&order, order.total, PaymentKind::Manual, "manual", None);
    store.insert_payment(&manual, None).await.unwrap();
    let started = store
        .mark_payment_started(
            manual.id,
            Some("QKX0000009".into()),
            PaymentStatus::PendingVerification,
            at(3),
        )
        .await
        .unwrap();
    assert_eq!(started.status, PaymentStatus::PendingVerification);
    assert_eq!(started.updated_at, at(3));

    // An attempt for a missing order is refused
    let mut orphan = attempt(&order, order.total, PaymentKind::StkPush, "testpay", None);
    orphan.order_number = order_number();
    let err = store.insert_payment(&orphan, None).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                entity: Entity::Order,
                ..
            }
        ),
        "{err}"
    );
}

/// The reconciliation queue holds pending attempts whose check is due, earliest first, and
/// forgets them once they are settled.
pub async fn reconciliation_queue(store: Arc<dyn Store>) {
    let (item, order) = setup(store.as_ref()).await;
    let other = order_for(store.as_ref(), &item, 1).await;
    let mut due_late = attempt(
        &order,
        order.total,
        PaymentKind::StkPush,
        "testpay",
        Some("ws_CO_Q1"),
    );
    due_late.next_check_at = Some(at(200));
    let mut due_early = attempt(
        &other,
        other.total,
        PaymentKind::StkPush,
        "testpay",
        Some("ws_CO_Q2"),
    );
    due_early.next_check_at = Some(at(100));
    let mut not_yet = attempt(
        &order,
        order.total,
        PaymentKind::StkPush,
        "testpay",
        Some("ws_CO_Q3"),
    );
    not_yet.next_check_at = Some(at(900));
    for p in [&due_late, &due_early, &not_yet] {
        store.insert_payment(p, None).await.unwrap();
    }

    let due = store.payments_due_for_check(at(300), 10).await.unwrap();
    let due: Vec<_> = due.into_iter().map(|p| p.id).collect();
    assert_eq!(due, vec![due_early.id, due_late.id]);

    // Rescheduling moves it and counts the check
    store
        .schedule_payment_check(
            due_early.id,
            &PaymentCheck {
                checks: 1,
                next_check_at: Some(at(1_000)),
                needs_review: false,
                at: at(300),
            },
        )
        .await
        .unwrap();
    let rescheduled = store.payment(due_early.id).await.unwrap().unwrap();
    assert_eq!(
        (rescheduled.checks, rescheduled.next_check_at),
        (1, Some(at(1_000)))
    );
    let due = store.payments_due_for_check(at(300), 10).await.unwrap();
    assert_eq!(
        due.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![due_late.id]
    );

    // Giving up marks it for review
    store
        .schedule_payment_check(
            due_late.id,
            &PaymentCheck {
                checks: 8,
                next_check_at: None,
                needs_review: true,
                at: at(300),
            },
        )
        .await
        .unwrap();
    let given_up = store.payment(due_late.id).await.unwrap().unwrap();
    assert!(given_up.needs_review);
    assert_eq!(given_up.next_check_at, None);

    // Settled attempts leave the queue, and checks no longer touch them
    store
        .settle_payment(
            &PaymentTarget::Id(not_yet.id),
            &failure(PaymentStatus::Failed, "1"),
        )
        .await
        .unwrap();
    assert!(
        store
            .payments_due_for_check(at(5_000), 10)
            .await
            .unwrap()
            .iter()
            .all(|p| p.id != not_yet.id)
    );
    store
        .schedule_payment_check(
            not_yet.id,
            &PaymentCheck {
                checks: 3,
                next_check_at: Some(at(6_000)),
                needs_review: true,
                at: at(300),
            },
        )
        .await
        .unwrap();
    let settled = store.payment(not_yet.id).await.unwrap().unwrap();
    assert_eq!((settled.checks, settled.needs_review), (0, false));
}

/// Reviews read back exactly (every kind of reason: unmatched money, an amount mismatch, money
/// for another shortcode), newest first, page by page.
pub async fn reviews_list_newest_first(store: Arc<dyn Store>) {
    let (_, order) = setup(store.as_ref()).await;
    let mut reviews = Vec::new();
    for i in 0..5i64 {
        let review = PaymentReview {
            id: ReviewId::from_uuid(uuid::Uuid::new_v4()),
            at: at(i * 10),
            provider: "testpay".into(),
            reason: if i == 4 {
                ReviewReason::OtherShortcode {
                    shortcode: "600966".into(),
                }
            } else if i % 2 == 0 {
                ReviewReason::UnmatchedPayment
            } else {
                ReviewReason::AmountMismatch {
                    expected: order.total,
                    received: kes("1.50"),
                }
            },
            payment_id: None,
            order_number: (i % 2 == 1).then(|| order.number.clone()),
            reference: Some(format!("REF{i}")),
            receipt: Some(format!("RCPT{i}")),
            amount: Some(kes("10")),
            account_reference: Some("pochi 7k3m".into()),
            raw_payload: Some("{\"Body\":{}}".into()),
            resolution: None,
        };
        store.record_review(&review).await.unwrap();
        reviews.push(review);
    }
    let first = store.list_reviews(None, 3).await.unwrap();
    let next = pochi_core::page::ReviewKey::of(first.last().unwrap());
    let second = store.list_reviews(Some(next), 3).await.unwrap();
    let all: Vec<_> = first.into_iter().chain(second).collect();
    let expected: Vec<_> = reviews.into_iter().rev().collect();
    assert_eq!(all, expected);
}

/// The attempts of several orders, read together, are each order's attempts, oldest first.
pub async fn payments_of_several_orders_are_read_together(store: Arc<dyn Store>) {
    // Given two attempts on one order, one on another, none on a third
    let (item, first) = setup(store.as_ref()).await;
    let second = order_for(store.as_ref(), &item, 1).await;
    let none = order_for(store.as_ref(), &item, 1).await;
    started_attempt(store.as_ref(), &first, first.total, "ws_CO_A1").await;
    started_attempt(store.as_ref(), &second, second.total, "ws_CO_B1").await;
    started_attempt(store.as_ref(), &first, first.total, "ws_CO_A2").await;

    // When they are read together, then each order's attempts come in their order
    let together = store
        .payments_for_orders(&[
            none.number.clone(),
            second.number.clone(),
            first.number.clone(),
        ])
        .await
        .unwrap();
    let of = |order: &Order| -> Vec<_> {
        together
            .iter()
            .filter(|p| p.order_number == order.number)
            .cloned()
            .collect()
    };
    assert_eq!(together.len(), 3);
    assert_eq!(
        of(&first),
        store.payments_for_order(&first.number).await.unwrap()
    );
    assert_eq!(
        of(&second),
        store.payments_for_order(&second.number).await.unwrap()
    );
    assert_eq!(store.payments_for_orders(&[]).await.unwrap(), vec![]);
    assert_eq!(
        store
            .payments_for_orders(std::slice::from_ref(&none.number))
            .await
            .unwrap(),
        vec![]
    );
}

/// An admin's decision on a payment notice is kept with it, once: racing decisions have one
/// winner, the others are told it is decided; an unknown notice is not found.
pub async fn a_review_is_resolved_once(store: Arc<dyn Store>) {
    let (_, order) = setup(store.as_ref()).await;
    let review = PaymentReview {
        id: ReviewId::from_uuid(RandomIds.uuid()),
        at: at(5),
        provider: "testpay".to_owned(),
        reason: ReviewReason::UnmatchedPayment,
        payment_id: None,
        order_number: Some(order.number.clone()),
        reference: Some("RVW0000001".to_owned()),
        receipt: Some("RVW0000001".to_owned()),
        amount: Some(kes("750")),
        account_reference: Some("wrong-account".to_owned()),
        raw_payload: None,
        resolution: None,
    };
    store.record_review(&review).await.unwrap();
    assert_eq!(store.review(review.id).await.unwrap(), Some(review.clone()));

    let decision = |n: usize| ReviewResolution {
        outcome: ReviewOutcome::Ignored,
        order_number: None,
        reference: None,
        note: Some(format!("Duplicate of an earlier payment ({n})")),
        actor: Actor::Admin(format!("admin{n}")),
        at: at(60),
    };
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let store = Arc::clone(&store);
            let decision = decision(n);
            tokio::spawn(async move { store.resolve_review(review.id, &decision).await })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(decided) => winners.push(decided),
            Err(err) => assert_eq!(
                err.conflict_reason(),
                Some(ConflictReason::ReviewResolved),
                "{err:?}"
            ),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let kept = store.review(review.id).await.unwrap().unwrap();
    assert_eq!(kept.resolution, winners[0].resolution);
    assert!(kept.resolution.is_some());
    let listed = store.list_reviews(None, 10).await.unwrap();
    assert_eq!(listed[0].resolution, kept.resolution);
    // The order the notice names records the one decision: who, what, and their note.
    let timeline = store.order(&order.number).await.unwrap().unwrap().timeline;
    assert_eq!(timeline.len(), order.timeline.len() + 1, "{timeline:?}");
    let entry = timeline.last().unwrap();
    let decided = kept.resolution.unwrap();
    assert_eq!(entry.actor, decided.actor);
    assert_eq!(entry.status, order.status);
    assert!(!entry.for_customer);
    assert!(
        entry.note.contains("RVW0000001")
            && entry.note.contains("ignored")
            && entry.note.contains(decided.note.as_deref().unwrap()),
        "{entry:?}"
    );

    let unknown = ReviewId::from_uuid(RandomIds.uuid());
    let err = store
        .resolve_review(unknown, &decision(9))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                entity: Entity::Review,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.review(unknown).await.unwrap(), None);
}
