//! Tracking: the view a store reads for the tracking page is the view of its order.

use std::sync::Arc;

use pochi_core::{
    Actor, Order, OrderNumber, OrderStatus, PaymentKind, PaymentStatus, Settled, Store,
    TrackedOrder, Trigger,
};
use time::{Duration, OffsetDateTime};

use crate::fixtures::{
    admin_move, at, attempt, by_reference, checkout_by, failure, kes, move_by, new_order,
    order_number, place, product, stock_shelves, success,
};

/// `at(seconds)` plus some microseconds, so times are checked to the microsecond.
fn at_micros(seconds: i64, micros: i64) -> OffsetDateTime {
    at(seconds) + Duration::microseconds(micros)
}

/// What the old path shows: the view of the order as [`Store::order`] reads it.
async fn tracked_from_order(store: &dyn Store, number: &OrderNumber) -> Option<TrackedOrder> {
    let order = store.order(number).await.expect("read order")?;
    let payments = store
        .payments_for_order(number)
        .await
        .expect("read payments");
    let refunds = store.refunds_for_order(number).await.expect("read refunds");
    Some(TrackedOrder::of(&order, &payments, &refunds))
}

/// Settles a succeeded push for `amount` on `order` (receipt `receipt`).
async fn pay(store: &dyn Store, order: &Order, amount: &str, receipt: &str) {
    let payment = attempt(
        order,
        kes(amount),
        PaymentKind::StkPush,
        "testpay",
        Some(&format!("ws_CO_{receipt}")),
    );
    store
        .insert_payment(&payment, None)
        .await
        .expect("insert payment");
    let settled = store
        .settle_payment(&by_reference(&payment), &success(kes(amount), receipt))
        .await
        .expect("settle payment");
    assert!(matches!(settled, Settled::Applied { .. }), "{settled:?}");
}

/// Orders with several lines, payments (full, short and failed), status moves with notes and a
/// cancellation read back through [`Store::tracked_order`] exactly as
/// `TrackedOrder::from(&order)`: items and timeline in order, money to the cent, times to the
/// microsecond, personal data masked; an unknown number is `None`.
pub async fn tracking_shows_exactly_what_the_order_holds(store: Arc<dyn Store>) {
    // Given products with cents in their prices and Unicode in their names
    let kikoi = product("Kikoi ya Pwani 🌊", "1250.50", Some(50));
    let chai = product("Chai ya Kericho", "99.99", None);
    let sabuni = product("Sabuni — e\u{301}", "0.01", Some(1000));
    stock_shelves(store.as_ref(), &[&kikoi, &chai, &sabuni]).await;
    let catalogue = [kikoi.clone(), chai.clone(), sabuni.clone()];

    // And an order of three lines, paid by push, then moved along to delivered with notes, the
    // last one marked for the customer and the others the admin's own
    let delivered = place(
        store.as_ref(),
        &new_order(
            order_number(),
            &checkout_by(
                "Wanjiru Njeri Kamau",
                "0712345678",
                &[(&kikoi, 2), (&chai, 3), (&sabuni, 7)],
            ),
            &catalogue,
            at_micros(0, 123_456),
        ),
    )
    .await;
    pay(
        store.as_ref(),
        &delivered,
        &delivered.total.amount().to_string(),
        "QKT1000001",
    )
    .await;
    for (i, to) in [
        OrderStatus::Processing,
        OrderStatus::Dispatched,
        OrderStatus::Delivered,
    ]
    .into_iter()
    .enumerate()
    {
        let seconds = 200 + i64::try_from(i).unwrap_or(0);
        let mut change = admin_move(to, at_micros(seconds, 999_999));
        change.note = Some(format!("Hatua {i}: sawa 👍"));
        change.note_for_customer = i == 2;
        store
            .move_order(&delivered.number, &change)
            .await
            .expect("allowed move");
    }

    // And an order of two lines paid short (flagged), then cancelled by an admin
    let cancelled = place(
        store.as_ref(),
        &new_order(
            order_number(),
            &checkout_by("Otieno", "+254 110 123 456", &[(&chai, 1), (&kikoi, 1)]),
            &catalogue,
            at_micros(1, 1),
        ),
    )
    .await;
    pay(store.as_ref(), &cancelled, "100", "QKT1000002").await;
    let mut cancel = move_by(OrderStatus::Cancelled, Trigger::Admin, at_micros(300, 7));
    cancel.note = Some("Mteja ameghairi".into());
    cancel.actor = Actor::Admin("mama".into());
    store
        .move_order(&cancelled.number, &cancel)
        .await
        .expect("cancel");

    // And an order whose only payment failed, still waiting
    let waiting = place(
        store.as_ref(),
        &new_order(
            order_number(),
            &checkout_by("Ñjeri Ōtieno Wa Kĩambu", "0798765432", &[(&sabuni, 1)]),
            &catalogue,
            at_micros(2, 500_000),
        ),
    )
    .await;
    let failed = attempt(
        &waiting,
        waiting.total,
        PaymentKind::StkPush,
        "testpay",
        Some("ws_CO_failed"),
    );
    store
        .insert_payment(&failed, None)
        .await
        .expect("insert payment");
    store
        .settle_payment(
            &by_reference(&failed),
            &failure(PaymentStatus::Cancelled, "1032"),
        )
        .await
        .expect("settle failure");

    // And a manual code for it, waiting for the shop to check it
    let code = attempt(&waiting, waiting.total, PaymentKind::Manual, "manual", None);
    store
        .insert_payment(&code, None)
        .await
        .expect("insert payment");
    store
        .mark_payment_started(
            code.id,
            Some("QKT1000009".into()),
            PaymentStatus::PendingVerification,
            at_micros(3, 0),
        )
        .await
        .expect("code submitted");

    // When each is tracked
    // Then the view equals the old path's, for every order
    for (order, status, items, entries) in [
        (&delivered, OrderStatus::Delivered, 3, 5),
        (&cancelled, OrderStatus::Cancelled, 2, 3),
        (&waiting, OrderStatus::PendingPayment, 1, 1),
    ] {
        let tracked = store
            .tracked_order(&order.number)
            .await
            .expect("tracked order")
            .expect("the order is there");
        assert_eq!(
            Some(&tracked),
            tracked_from_order(store.as_ref(), &order.number)
                .await
                .as_ref(),
            "tracking {} differs from its order",
            order.number
        );
        assert_eq!(tracked.status, status);
        assert_eq!(tracked.items.len(), items);
        assert_eq!(tracked.timeline.len(), entries);
    }

    // And the cancelled order's part payment shows as owed back, to the microsecond
    let tracked = store
        .tracked_order(&cancelled.number)
        .await
        .expect("tracked order")
        .expect("the order is there");
    assert_eq!(tracked.refunds.len(), 1, "{:?}", tracked.refunds);
    assert_eq!(tracked.refunds[0].amount, kes("100"));
    assert_eq!(tracked.refunds[0].created_at, at_micros(300, 7));

    // And what it shows is exact and masked
    let tracked = store
        .tracked_order(&delivered.number)
        .await
        .expect("tracked order")
        .expect("the order is there");
    assert_eq!(tracked.customer_name, "Wanjiru N. K.");
    // The receipt of the payment that went through shows; failed attempts show none.
    assert_eq!(
        tracked
            .receipts
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>(),
        ["QKT1000001"]
    );
    assert_eq!(tracked.customer_phone, "2547*****678");
    let names: Vec<_> = tracked.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, [kikoi.name.as_str(), &chai.name, &sabuni.name]);
    assert_eq!(tracked.items[0].line_total, kes("2501.00"));
    assert_eq!(tracked.items[1].line_total, kes("299.97"));
    assert_eq!(tracked.items[2].line_total, kes("0.07"));
    assert_eq!(tracked.subtotal, kes("2801.04"));
    assert_eq!(tracked.placed_at, at_micros(0, 123_456));
    let statuses: Vec<_> = tracked.timeline.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [
            OrderStatus::PendingPayment,
            OrderStatus::Paid,
            OrderStatus::Processing,
            OrderStatus::Dispatched,
            OrderStatus::Delivered,
        ]
    );
    assert_eq!(tracked.timeline[4].at, at_micros(202, 999_999));
    // The note marked for the customer shows; the admin's own ones give way to the status's
    // plain description, though the admin still reads them on the order.
    assert_eq!(tracked.timeline[4].note, "Hatua 2: sawa 👍");
    assert_eq!(tracked.timeline[2].note, "Order is being prepared");
    assert_eq!(tracked.timeline[3].note, "Order dispatched");
    let kept = store
        .order(&delivered.number)
        .await
        .expect("order")
        .expect("the order is there");
    assert_eq!(kept.timeline[3].note, "Hatua 1: sawa 👍");
    assert!(!kept.timeline[3].for_customer);
    assert!(kept.timeline[4].for_customer);
    let tracked = store
        .tracked_order(&waiting.number)
        .await
        .expect("tracked order")
        .expect("the order is there");
    assert_eq!(tracked.customer_name, "Ñjeri Ō. W. K.");
    assert!(tracked.receipts.is_empty());
    assert!(tracked.awaiting_verification, "the submitted code waits");
    let delivered_view = store
        .tracked_order(&delivered.number)
        .await
        .expect("tracked order")
        .expect("the order is there");
    assert!(!delivered_view.awaiting_verification);

    // And an unknown number is none
    assert_eq!(
        store
            .tracked_order(&order_number())
            .await
            .expect("tracked order"),
        None
    );
}
