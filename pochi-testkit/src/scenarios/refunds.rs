//! Refunds: owed in the transaction of the change that owes them, exactly once, and paid back
//! once.

use std::sync::Arc;

use pochi_core::{
    Actor, ConflictReason, Entity, Error, Order, OrderStatus, PaymentKind, Settled, Store,
    refund::{Refund, RefundChange, RefundReason, RefundStatus, RefundTarget},
    store::ExpiryCutoff,
};

use crate::fixtures::{
    admin_move, at, attempt, by_reference, kes, order_for, product, stock_shelves, success,
};

/// Pays `amount` on `order` as a direct (C2B) payment with `receipt`.
async fn pay(store: &dyn Store, order: &Order, amount: &str, receipt: &str) -> Order {
    let payment = attempt(
        order,
        kes(amount),
        PaymentKind::C2b,
        "testpay",
        Some(receipt),
    );
    match store
        .record_direct_payment(&payment, &success(kes(amount), receipt))
        .await
        .expect("record payment")
    {
        Settled::Applied { order, .. } => *order,
        other => panic!("payment not applied: {other:?}"),
    }
}

fn owed(refunds: &[Refund]) -> Vec<(String, RefundReason, RefundStatus)> {
    refunds
        .iter()
        .map(|r| (r.amount.to_string(), r.reason, r.status))
        .collect()
}

async fn setup(store: &dyn Store) -> Order {
    let kikoi = product("Kikoi", "1000", Some(10));
    stock_shelves(store, &[&kikoi]).await;
    order_for(store, &kikoi, 1).await
}

fn mark(reference: &str) -> RefundChange {
    RefundChange::MarkRefunded {
        reference: reference.to_owned(),
        note: Some("sent from the till phone".to_owned()),
        actor: Actor::Admin("amina".to_owned()),
        at: at(60),
    }
}

/// Cancelling a paid order owes back what was paid, once, in the cancelling transaction; the
/// tracking view shows it; an unpaid cancelled order owes nothing.
pub async fn cancelling_a_paid_order_owes_its_payment_back_once(store: Arc<dyn Store>) {
    let order = setup(store.as_ref()).await;
    let paid = pay(store.as_ref(), &order, "1000", "RFA0000001").await;
    assert_eq!(paid.status, OrderStatus::Paid);
    assert!(
        store
            .refunds_for_order(&order.number)
            .await
            .unwrap()
            .is_empty()
    );

    store
        .move_order(&order.number, &admin_move(OrderStatus::Cancelled, at(30)))
        .await
        .expect("cancel");
    let refunds = store.refunds_for_order(&order.number).await.unwrap();
    assert_eq!(
        owed(&refunds),
        vec![(
            kes("1000").to_string(),
            RefundReason::OrderCancelled,
            RefundStatus::Owed
        )]
    );
    assert_eq!(refunds[0].created_at, at(30));
    let tracked = store.tracked_order(&order.number).await.unwrap().unwrap();
    assert_eq!(tracked.refunds.len(), 1);
    assert_eq!(
        (tracked.refunds[0].amount, tracked.refunds[0].status),
        (kes("1000"), RefundStatus::Owed)
    );

    // An order nobody paid owes nothing when cancelled.
    let kanga = product("Kanga", "500", None);
    stock_shelves(store.as_ref(), &[&kanga]).await;
    let unpaid = order_for(store.as_ref(), &kanga, 1).await;
    store
        .move_order(&unpaid.number, &admin_move(OrderStatus::Cancelled, at(30)))
        .await
        .unwrap();
    assert!(
        store
            .refunds_for_order(&unpaid.number)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The refunds of several orders, read together (the order export), are each order's refunds,
/// oldest first; an order without refunds has none.
pub async fn refunds_of_several_orders_are_read_together(store: Arc<dyn Store>) {
    // Given an order owing two refunds, one owing one, and one owing none
    let first = setup(store.as_ref()).await;
    let kanga = product("Kanga", "500", Some(10));
    stock_shelves(store.as_ref(), &[&kanga]).await;
    let second = order_for(store.as_ref(), &kanga, 1).await;
    let none = order_for(store.as_ref(), &kanga, 1).await;
    pay(store.as_ref(), &first, "1000", "RFS0000001").await;
    pay(store.as_ref(), &second, "500", "RFS0000002").await;
    for order in [&first, &second] {
        store
            .move_order(&order.number, &admin_move(OrderStatus::Cancelled, at(30)))
            .await
            .expect("cancel");
    }
    pay(store.as_ref(), &first, "200", "RFS0000003").await;

    // When they are read together, then each order's refunds come in their order
    let together = store
        .refunds_for_orders(&[
            none.number.clone(),
            second.number.clone(),
            first.number.clone(),
        ])
        .await
        .unwrap();
    let of = |order: &Order| -> Vec<Refund> {
        together
            .iter()
            .filter(|r| r.order_number == order.number)
            .cloned()
            .collect()
    };
    assert_eq!(together.len(), 3);
    let first_alone = store.refunds_for_order(&first.number).await.unwrap();
    assert_eq!(
        owed(&first_alone),
        vec![
            (
                kes("1000").to_string(),
                RefundReason::OrderCancelled,
                RefundStatus::Owed
            ),
            (
                kes("200").to_string(),
                RefundReason::PaidAfterCancellation,
                RefundStatus::Owed
            ),
        ]
    );
    assert_eq!(of(&first), first_alone);
    assert_eq!(
        of(&second),
        store.refunds_for_order(&second.number).await.unwrap()
    );
    assert_eq!(store.refunds_for_orders(&[]).await.unwrap(), vec![]);
    assert_eq!(
        store
            .refunds_for_orders(std::slice::from_ref(&none.number))
            .await
            .unwrap(),
        vec![]
    );
}

/// An unpaid order paid too much stays unpaid and owes nothing until it is cancelled, then
/// owes the whole payment back; a payment after the cancellation owes itself; a payment beyond
/// a paid order's total owes the excess; nothing twice.
pub async fn over_and_late_payments_owe_the_excess_and_themselves(store: Arc<dyn Store>) {
    let order = setup(store.as_ref()).await;
    let after = pay(store.as_ref(), &order, "1200", "RFB0000001").await;
    assert_eq!(after.status, OrderStatus::PendingPayment);
    assert!(
        store
            .refunds_for_order(&order.number)
            .await
            .unwrap()
            .is_empty()
    );

    store
        .move_order(&order.number, &admin_move(OrderStatus::Cancelled, at(30)))
        .await
        .unwrap();
    pay(store.as_ref(), &order, "500", "RFB0000002").await;
    let mut found = owed(&store.refunds_for_order(&order.number).await.unwrap());
    found.sort();
    let mut expected = vec![
        (
            kes("1200").to_string(),
            RefundReason::OrderCancelled,
            RefundStatus::Owed,
        ),
        (
            kes("500").to_string(),
            RefundReason::PaidAfterCancellation,
            RefundStatus::Owed,
        ),
    ];
    expected.sort();
    assert_eq!(found, expected);
    // The same confirmation again owes nothing more.
    let again = attempt(
        &order,
        kes("500"),
        PaymentKind::C2b,
        "testpay",
        Some("RFB0000002"),
    );
    store
        .record_direct_payment(&again, &success(kes("500"), "RFB0000002"))
        .await
        .unwrap();
    assert_eq!(
        store.refunds_for_order(&order.number).await.unwrap().len(),
        2
    );

    // A paid order paid again owes that payment back as an excess.
    let paid_order = setup(store.as_ref()).await;
    assert_eq!(
        pay(store.as_ref(), &paid_order, "1000", "RFB0000003")
            .await
            .status,
        OrderStatus::Paid
    );
    pay(store.as_ref(), &paid_order, "300", "RFB0000004").await;
    assert_eq!(
        owed(&store.refunds_for_order(&paid_order.number).await.unwrap()),
        vec![(
            kes("300").to_string(),
            RefundReason::OverPayment,
            RefundStatus::Owed
        )]
    );
    assert_eq!(
        store.refund_totals().await.unwrap(),
        vec![(RefundStatus::Owed, kes("2000"))]
    );
}

/// A short payment is owed back when its order expires unpaid, in the expiry's transaction.
pub async fn a_short_payment_is_owed_back_when_the_order_expires(store: Arc<dyn Store>) {
    let order = setup(store.as_ref()).await;
    let part = attempt(
        &order,
        kes("300"),
        PaymentKind::StkPush,
        "testpay",
        Some("ws_CO_RF1"),
    );
    store.insert_payment(&part, None).await.unwrap();
    store
        .settle_payment(&by_reference(&part), &success(kes("300"), "RFC0000001"))
        .await
        .unwrap();
    assert!(
        store
            .refunds_for_order(&order.number)
            .await
            .unwrap()
            .is_empty()
    );

    let expired = store
        .expire_orders(&ExpiryCutoff::by_age(at(3600), at(3600)), 10)
        .await
        .unwrap();
    assert_eq!(expired.len(), 1);
    let refunds = store.refunds_for_order(&order.number).await.unwrap();
    assert_eq!(
        owed(&refunds),
        vec![(
            kes("300").to_string(),
            RefundReason::OrderCancelled,
            RefundStatus::Owed
        )]
    );
    assert_eq!(refunds[0].payment_id, part.id);
}

/// Admins racing to mark one refund paid: exactly one wins, the others are told it is not owed
/// any more, and the stored reference is the winner's.
pub async fn a_refund_is_paid_once_even_when_marked_concurrently(store: Arc<dyn Store>) {
    let order = setup(store.as_ref()).await;
    pay(store.as_ref(), &order, "1000", "RFD0000001").await;
    store
        .move_order(&order.number, &admin_move(OrderStatus::Cancelled, at(30)))
        .await
        .unwrap();
    let refund = store
        .refunds_for_order(&order.number)
        .await
        .unwrap()
        .remove(0);

    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .change_refund(
                        &RefundTarget::Id(refund.id),
                        &mark(&format!("RFDBACK00{i}")),
                    )
                    .await
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(done) => winners.push(done),
            Err(err) => assert_eq!(
                err.conflict_reason(),
                Some(ConflictReason::RefundNotOwed),
                "{err:?}"
            ),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = store.refund(refund.id).await.unwrap().unwrap();
    assert_eq!(stored.status, RefundStatus::Refunded);
    assert_eq!(stored.reference, winners[0].reference);
    assert_eq!(stored.actor, Some(Actor::Admin("amina".to_owned())));
    assert_eq!(stored.note.as_deref(), Some("sent from the till phone"));
    let tracked = store.tracked_order(&order.number).await.unwrap().unwrap();
    assert_eq!(tracked.refunds[0].status, RefundStatus::Refunded);
    assert_eq!(tracked.refunds[0].reference, winners[0].reference);
    // The order's timeline says who paid it back, once, in the shop's eyes only.
    let timeline = store.order(&order.number).await.unwrap().unwrap().timeline;
    let entries: Vec<_> = timeline
        .iter()
        .filter(|e| e.note.starts_with("Refund of"))
        .collect();
    assert_eq!(entries.len(), 1, "{timeline:?}");
    assert_eq!(entries[0].actor, Actor::Admin("amina".to_owned()));
    assert_eq!(entries[0].status, OrderStatus::Cancelled);
    assert!(!entries[0].for_customer);
    let code = winners[0].reference.as_deref().unwrap();
    assert!(entries[0].note.contains(code), "{:?}", entries[0]);
}

/// A reference counts once across refunds; a provider's result applies to the refund sent
/// under its request, once; lists filter by status and page newest first; an unknown refund is
/// not found.
pub async fn refund_references_and_results_apply_once(store: Arc<dyn Store>) {
    let first = setup(store.as_ref()).await;
    let second = setup(store.as_ref()).await;
    for (order, receipt) in [(&first, "RFE0000001"), (&second, "RFE0000002")] {
        pay(store.as_ref(), order, "1000", receipt).await;
        store
            .move_order(&order.number, &admin_move(OrderStatus::Cancelled, at(30)))
            .await
            .unwrap();
    }
    let one = store
        .refunds_for_order(&first.number)
        .await
        .unwrap()
        .remove(0);
    let two = store
        .refunds_for_order(&second.number)
        .await
        .unwrap()
        .remove(0);

    store
        .change_refund(&RefundTarget::Id(one.id), &mark("RFEBACK001"))
        .await
        .unwrap();
    let err = store
        .change_refund(&RefundTarget::Id(two.id), &mark("RFEBACK001"))
        .await
        .unwrap_err();
    assert_eq!(err.conflict_reason(), Some(ConflictReason::AlreadyExists));
    assert_eq!(
        store.refund(two.id).await.unwrap().unwrap().status,
        RefundStatus::Owed
    );

    // Sent through the provider: its result finds the refund by the request.
    let sending = store
        .change_refund(
            &RefundTarget::Id(two.id),
            &RefundChange::Sending {
                request: "AG_20261204_0001".to_owned(),
                actor: Actor::Admin("amina".to_owned()),
                at: at(70),
            },
        )
        .await
        .unwrap();
    assert_eq!(sending.status, RefundStatus::Sending);
    let result = RefundChange::Result {
        request: "AG_20261204_0001".to_owned(),
        outcome: Ok("RFEREV0001".to_owned()),
        actor: Actor::Provider("testpay".to_owned()),
        at: at(80),
    };
    let target = RefundTarget::ProviderRequest("AG_20261204_0001".to_owned());
    let done = store.change_refund(&target, &result).await.unwrap();
    assert_eq!(
        (done.status, done.reference.as_deref()),
        (RefundStatus::Refunded, Some("RFEREV0001"))
    );
    let again = store.change_refund(&target, &result).await.unwrap();
    assert_eq!(again, done);

    let refunded = store
        .list_refunds(Some(RefundStatus::Refunded), None, 10)
        .await
        .unwrap();
    assert_eq!(refunded.len(), 2);
    assert!(
        store
            .list_refunds(Some(RefundStatus::Owed), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let all = store.list_refunds(None, None, 1).await.unwrap();
    assert_eq!(all.len(), 1);
    let rest = store
        .list_refunds(None, Some(pochi_core::page::RefundKey::of(&all[0])), 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_ne!(rest[0].id, all[0].id);
    assert!((rest[0].created_at, rest[0].id) < (all[0].created_at, all[0].id));
    assert_eq!(
        store.refund_totals().await.unwrap(),
        vec![(RefundStatus::Refunded, kes("2000"))]
    );

    let unknown = RefundTarget::ProviderRequest("AG_unknown".to_owned());
    let err = store.change_refund(&unknown, &result).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                entity: Entity::Refund,
                ..
            }
        ),
        "{err:?}"
    );
}

/// Payments racing a cancellation of their order: whichever commits first, every payment that
/// went through is owed back exactly once, in full, and nothing more.
pub async fn racing_payments_and_a_cancel_owe_each_payment_back_once(store: Arc<dyn Store>) {
    let order = setup(store.as_ref()).await;
    let payments: Vec<_> = (0..4)
        .map(|i| {
            attempt(
                &order,
                kes("400"),
                PaymentKind::C2b,
                "testpay",
                Some(&format!("RFR000000{i}")),
            )
        })
        .collect();
    let mut tasks = Vec::new();
    for (i, payment) in payments.iter().cloned().enumerate() {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store
                .record_direct_payment(&payment, &success(kes("400"), &format!("RFR000000{i}")))
                .await
                .map(|_| ())
        }));
    }
    let cancelling = {
        let store = Arc::clone(&store);
        let number = order.number.clone();
        tokio::spawn(async move {
            store
                .move_order(&number, &admin_move(OrderStatus::Cancelled, at(30)))
                .await
                .map(|_| ())
        })
    };
    tasks.push(cancelling);
    for task in tasks {
        task.await
            .expect("task")
            .expect("every change goes through");
    }

    let refunds = store.refunds_for_order(&order.number).await.unwrap();
    for payment in &payments {
        let back: Vec<_> = refunds
            .iter()
            .filter(|r| r.payment_id == payment.id)
            .map(|r| r.amount)
            .collect();
        assert_eq!(back, vec![kes("400")], "{refunds:?}");
    }
    assert_eq!(refunds.len(), 4, "{refunds:?}");
}
