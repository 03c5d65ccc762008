//! The limits that keep anonymous clients from hoarding stock or prompting strangers' phones:
//! the short hold of an order nobody started to pay, open unpaid orders per phone and per
//! client network, pushes per phone across orders. Every refusal reserves and writes nothing,
//! and racing requests cannot pass a limit together.

use std::{net::IpAddr, sync::Arc, time::Duration};

use futures::future::join_all;
use pochi_core::{
    ClientNetwork, Error, LimitKind, OrderStatus, PaymentKind, PaymentStatus, Store, StoreExt,
    store::{ExpiryCutoff, NewOrder, OpenOrderLimits, PushLimit},
};

use crate::fixtures::{
    at, attempt, by_reference, checkout, checkout_by, failure, new_order, order_number, place,
    product, started_attempt, stock_shelves,
};

fn network(ip: &str) -> ClientNetwork {
    ClientNetwork::of(ip.parse::<IpAddr>().unwrap())
}

fn limited(mut new: NewOrder, per_phone: Option<u32>, per_client: Option<u32>) -> NewOrder {
    new.limits = OpenOrderLimits {
        per_phone,
        per_client,
        retry_after_secs: 600,
    };
    new
}

fn assert_limit(err: &Error, expected: LimitKind) {
    match err {
        Error::LimitReached {
            limit,
            retry_after_secs,
            ..
        } => {
            assert_eq!(*limit, expected, "{err}");
            assert!(*retry_after_secs >= 1);
        }
        other => panic!("expected {expected:?}, got {other:?}"),
    }
}

/// An unpaid order for which no payment was ever started expires at the short hold's cutoff;
/// an order whose attempts all ended is held for the short hold from the last attempt's end
/// (so the customer can try again, but a failed push buys no long hold); an order with an
/// attempt in flight is kept until the hard bound.
pub async fn an_order_nobody_started_to_pay_expires_after_the_short_hold(store: Arc<dyn Store>) {
    // Given three orders placed at the same time: one never paid, one whose push failed (at
    // 60 s), one with a push in flight
    let kikoi = product("Kikoi", "1500", Some(10));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let order = |quantity| {
        new_order(
            order_number(),
            &checkout(&[(&kikoi, quantity)]),
            &[kikoi.clone()],
            at(0),
        )
    };
    let unstarted = place(store.as_ref(), &order(1)).await;
    let failed = place(store.as_ref(), &order(2)).await;
    let in_flight = place(store.as_ref(), &order(3)).await;
    let push = started_attempt(store.as_ref(), &failed, failed.total, "ws_CO_SHORT_1").await;
    store
        .settle_payment(
            &by_reference(&push),
            &failure(PaymentStatus::Failed, "1032"),
        )
        .await
        .unwrap();
    started_attempt(store.as_ref(), &in_flight, in_flight.total, "ws_CO_SHORT_2").await;
    let short_hold_until = |seconds| ExpiryCutoff {
        unstarted_placed_before: at(seconds),
        placed_before: at(0),
        in_flight_placed_before: at(0),
        at: at(seconds),
    };

    // When the short hold has passed since the orders were placed, but not since the push
    // failed
    let expired = store
        .expire_orders(&short_hold_until(50), 100)
        .await
        .unwrap();

    // Then only the order nobody started to pay expires, and its unit comes back
    let numbers: Vec<_> = expired.iter().map(|o| o.number.clone()).collect();
    assert_eq!(numbers, vec![unstarted.number.clone()]);
    assert_eq!(expired[0].status, OrderStatus::Cancelled);
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(5)
    );
    for kept in [&failed, &in_flight] {
        let status = store.order_required(&kept.number).await.unwrap().status;
        assert_eq!(status, OrderStatus::PendingPayment);
    }

    // And when the short hold has passed since the push failed too
    let expired = store
        .expire_orders(&short_hold_until(100), 100)
        .await
        .unwrap();

    // Then the order whose push failed expires and its units come back; the one with a push
    // in flight is still held
    let numbers: Vec<_> = expired.iter().map(|o| o.number.clone()).collect();
    assert_eq!(numbers, vec![failed.number.clone()]);
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(7)
    );
    let status = store
        .order_required(&in_flight.number)
        .await
        .unwrap()
        .status;
    assert_eq!(status, OrderStatus::PendingPayment);
}

/// A phone with as many unpaid orders as the limit allows cannot open another: the refusal
/// reserves nothing; once one of its orders is no longer unpaid, it can.
pub async fn a_phone_at_its_open_order_limit_is_refused_and_nothing_is_reserved(
    store: Arc<dyn Store>,
) {
    // Given a phone with two unpaid orders and a limit of two
    let kikoi = product("Kikoi", "1500", Some(50));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let order = |phone: &str| {
        limited(
            new_order(
                order_number(),
                &checkout_by("Wanjiru Kamau", phone, &[(&kikoi, 5)]),
                &[kikoi.clone()],
                at(0),
            ),
            Some(2),
            None,
        )
    };
    let first = place(store.as_ref(), &order("0712345678")).await;
    place(store.as_ref(), &order("+254712345678")).await;

    // When it places a third
    let third = order("0712345678");
    let err = store.place_order(&third).await.unwrap_err();

    // Then it is refused, with nothing reserved or written
    assert_limit(&err, LimitKind::OpenOrdersPerPhone);
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(40)
    );
    assert!(store.order(&third.order.number).await.unwrap().is_none());

    // And another phone is not held back
    place(store.as_ref(), &order("0722000111")).await;

    // And once one of its orders is cancelled, the phone can order again
    store
        .move_order(
            &first.number,
            &crate::fixtures::admin_move(OrderStatus::Cancelled, at(5)),
        )
        .await
        .unwrap();
    place(store.as_ref(), &order("0712345678")).await;
}

/// Unpaid orders placed from one client network are limited whatever their phones; an
/// address in another network, and an order placed without an address, are not counted.
pub async fn a_client_network_at_its_open_order_limit_is_refused(store: Arc<dyn Store>) {
    // Given two unpaid orders from one IPv6 /64, with different phones, and a limit of two
    let kikoi = product("Kikoi", "1500", Some(50));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let order = |phone: &str, from: Option<&str>| {
        let mut new = limited(
            new_order(
                order_number(),
                &checkout_by("Mteja", phone, &[(&kikoi, 1)]),
                &[kikoi.clone()],
                at(0),
            ),
            None,
            Some(2),
        );
        new.placed_from = from.map(network);
        new
    };
    place(
        store.as_ref(),
        &order("0711000001", Some("2001:db8:1:2::a")),
    )
    .await;
    place(
        store.as_ref(),
        &order("0711000002", Some("2001:db8:1:2::b")),
    )
    .await;
    // (an order placed without an address is not counted)
    place(store.as_ref(), &order("0711000003", None)).await;

    // When a third phone orders from another address of the same /64
    let third = order("0711000004", Some("2001:db8:1:2:ffff::1"));
    let err = store.place_order(&third).await.unwrap_err();

    // Then it is refused, nothing reserved
    assert_limit(&err, LimitKind::OpenOrdersPerClient);
    assert!(store.order(&third.order.number).await.unwrap().is_none());
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(47)
    );

    // And another network is not held back
    place(
        store.as_ref(),
        &order("0711000005", Some("2001:db8:1:3::1")),
    )
    .await;
    place(store.as_ref(), &order("0711000006", Some("203.0.113.7"))).await;
}

/// Many orders of one phone racing for the last places: exactly the limit are placed.
pub async fn racing_orders_of_one_phone_never_pass_the_limit(store: Arc<dyn Store>) {
    let kikoi = product("Kikoi", "1500", Some(100));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let tasks = (0..12).map(|_| {
        let store = store.clone();
        let new = limited(
            new_order(
                order_number(),
                &checkout(&[(&kikoi, 1)]),
                &[kikoi.clone()],
                at(0),
            ),
            Some(3),
            None,
        );
        tokio::spawn(async move { store.place_order(&new).await })
    });
    let results = join_all(tasks).await;
    let mut placed = 0;
    for result in results {
        match result.unwrap() {
            Ok(_) => placed += 1,
            Err(err) => assert_limit(&err, LimitKind::OpenOrdersPerPhone),
        }
    }
    assert_eq!(placed, 3);
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(97)
    );
}

fn push_limit(max: u32) -> PushLimit {
    PushLimit {
        max,
        since: at(0),
        window: Duration::from_secs(3_600),
        now: at(10),
    }
}

/// Pushes to one phone are counted across orders within the window: beyond the limit a push
/// attempt is refused and not stored; pushes before the window, other phones and other kinds
/// are not counted.
pub async fn pushes_to_one_phone_are_limited_across_orders(store: Arc<dyn Store>) {
    // Given three orders of one phone
    let kikoi = product("Kikoi", "1500", Some(50));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let mut orders = Vec::new();
    for _ in 0..3 {
        let new = new_order(
            order_number(),
            &checkout(&[(&kikoi, 1)]),
            &[kikoi.clone()],
            at(0),
        );
        orders.push(place(store.as_ref(), &new).await);
    }
    // A push before the window does not count
    let mut old = attempt(
        &orders[0],
        orders[0].total,
        PaymentKind::StkPush,
        "testpay",
        None,
    );
    old.created_at = at(-10);
    old.updated_at = at(-10);
    store
        .insert_payment(&old, Some(push_limit(2)))
        .await
        .unwrap();
    // A manual code does not count
    let manual = attempt(
        &orders[0],
        orders[0].total,
        PaymentKind::Manual,
        "manual",
        None,
    );
    store
        .insert_payment(&manual, Some(push_limit(2)))
        .await
        .unwrap();
    // Two pushes within the window, to two orders
    for order in &orders[..2] {
        let push = attempt(order, order.total, PaymentKind::StkPush, "testpay", None);
        store
            .insert_payment(&push, Some(push_limit(2)))
            .await
            .unwrap();
    }

    // When a third push goes to the same phone for the third order
    let third = attempt(
        &orders[2],
        orders[2].total,
        PaymentKind::StkPush,
        "testpay",
        None,
    );
    let err = store
        .insert_payment(&third, Some(push_limit(2)))
        .await
        .unwrap_err();

    // Then it is refused, not stored, and the wait ends when the oldest counted push leaves
    // the window (pushes counted were made at `at(1)`, now is `at(10)`)
    assert_limit(&err, LimitKind::PaymentRequestsPerPhone);
    if let Error::LimitReached {
        retry_after_secs, ..
    } = err
    {
        assert_eq!(retry_after_secs, 3_600 - 9);
    }
    assert!(store.payment(third.id).await.unwrap().is_none());

    // And without a limit, or to another phone, the push is stored
    let mut other = attempt(
        &orders[2],
        orders[2].total,
        PaymentKind::StkPush,
        "testpay",
        None,
    );
    other.phone = Some(pochi_core::Msisdn::parse("0722000111").unwrap());
    store
        .insert_payment(&other, Some(push_limit(2)))
        .await
        .unwrap();
    store.insert_payment(&third, None).await.unwrap();
}

/// Push attempts to one phone racing for the last places: exactly the limit are stored.
pub async fn racing_pushes_to_one_phone_never_pass_the_limit(store: Arc<dyn Store>) {
    let kikoi = product("Kikoi", "1500", Some(50));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let mut attempts = Vec::new();
    for _ in 0..10 {
        let new = new_order(
            order_number(),
            &checkout(&[(&kikoi, 1)]),
            &[kikoi.clone()],
            at(0),
        );
        let order = place(store.as_ref(), &new).await;
        attempts.push(attempt(
            &order,
            order.total,
            PaymentKind::StkPush,
            "testpay",
            None,
        ));
    }
    let tasks = attempts.into_iter().map(|push| {
        let store = store.clone();
        tokio::spawn(async move { store.insert_payment(&push, Some(push_limit(3))).await })
    });
    let mut stored = 0;
    for result in join_all(tasks).await {
        match result.unwrap() {
            Ok(_) => stored += 1,
            Err(err) => assert_limit(&err, LimitKind::PaymentRequestsPerPhone),
        }
    }
    assert_eq!(stored, 3);
}

/// An attempt is stored only for an order that waits for payment: one the expiry sweep (or an
/// admin) has just cancelled gets none, so no customer is prompted to pay for it.
pub async fn an_attempt_is_refused_on_an_order_no_longer_waiting_for_payment(
    store: Arc<dyn Store>,
) {
    // Given an order nobody paid, expired
    let kikoi = product("Kikoi", "1500", Some(5));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let new = new_order(
        order_number(),
        &checkout(&[(&kikoi, 1)]),
        &[kikoi.clone()],
        at(0),
    );
    let order = place(store.as_ref(), &new).await;
    let expired = store
        .expire_orders(&ExpiryCutoff::by_age(at(100), at(100)), 10)
        .await
        .unwrap();
    assert_eq!(expired.len(), 1);

    // When a push attempt is inserted for it
    let push = attempt(&order, order.total, PaymentKind::StkPush, "testpay", None);
    let err = store.insert_payment(&push, None).await.unwrap_err();

    // Then it is refused and not stored
    assert_eq!(
        err.conflict_reason(),
        Some(pochi_core::ConflictReason::OrderNotPayable)
    );
    assert!(store.payment(push.id).await.unwrap().is_none());
}
