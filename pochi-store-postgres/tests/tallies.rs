//! The pre-aggregated statistics: what the store keeps as orders are placed, paid, moved,
//! cancelled and expired is what a recount from the orders gives. (That concurrent changes
//! are each counted once is the conformance kit's
//! `concurrent_orders_and_payments_are_counted_once`.)

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use pochi_core::{OrderStatus, Store, Trigger};
use pochi_testkit::fixtures::{
    T0, by_reference, checkout_by, move_by, new_order, order_number, place, product, shop,
    started_attempt, stock_shelves, success,
};
use time::Duration;

#[tokio::test]
async fn the_statistics_kept_by_the_store_are_the_ones_a_recount_gives() {
    let Some(db) = common::test_db().await else {
        return;
    };
    // given orders in every state: paid through a payment attempt, paid then moved on by an
    // admin, cancelled after payment, expired unpaid, and one left pending; paid on different
    // days
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let a = product("Product A", "100", Some(50));
    let b = product("Product B", "250.50", None);
    stock_shelves(store.as_ref(), &[&a, &b]).await;
    let catalogue = [a.clone(), b.clone()];
    let mut orders = Vec::new();
    for i in 0..6 {
        let phone = format!("07110000{i:02}");
        let placed_at = T0 - Duration::days(40) + Duration::days(i * 7);
        let new = new_order(
            order_number(),
            &checkout_by("Wanjiru", &phone, &[(&a, i + 1), (&b, 1)]),
            &catalogue,
            placed_at,
        );
        orders.push(place(store.as_ref(), &new).await);
    }
    let payment = started_attempt(store.as_ref(), &orders[0], orders[0].total, "ws_CO_1").await;
    store
        .settle_payment(
            &by_reference(&payment),
            &success(orders[0].total, "SGR0000001"),
        )
        .await
        .unwrap();
    for (order, moves) in [
        (
            &orders[1],
            &[OrderStatus::Paid, OrderStatus::Processing][..],
        ),
        (&orders[2], &[OrderStatus::Paid, OrderStatus::Cancelled][..]),
        (
            &orders[3],
            &[
                OrderStatus::Paid,
                OrderStatus::Processing,
                OrderStatus::Dispatched,
                OrderStatus::Delivered,
            ][..],
        ),
    ] {
        for (i, to) in moves.iter().enumerate() {
            let at = order.created_at + Duration::hours(i64::try_from(i).unwrap() + 1);
            let trigger = if *to == OrderStatus::Paid {
                Trigger::Payment
            } else {
                Trigger::Admin
            };
            store
                .move_order(&order.number, &move_by(*to, trigger, at))
                .await
                .unwrap();
        }
    }
    let expired = store
        .expire_orders(
            &pochi_core::store::ExpiryCutoff::by_age(
                orders[4].created_at + Duration::minutes(1),
                T0,
            ),
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        expired.len(),
        1,
        "the older of the two pending orders expires"
    );
    let (shop, _) = shop(store.clone());
    let kept = shop.stats().await.unwrap();

    // when the tallies are recounted from the orders
    db.store.recount_statistics().await.unwrap();
    let recounted = shop.stats().await.unwrap();

    // then nothing changed, and the figures are the data set's
    assert_eq!(kept, recounted);
    assert_eq!(kept.total_orders, 6);
    assert_eq!(kept.paid_orders, 3);
    assert_eq!(
        kept.revenue.all_time,
        orders[0]
            .total
            .checked_add(orders[1].total)
            .and_then(|sum| sum.checked_add(orders[3].total))
            .unwrap()
    );
    let top: Vec<_> = kept
        .top_products
        .iter()
        .map(|t| (t.name.as_str(), t.quantity))
        .collect();
    assert_eq!(top, vec![("Product A", 1 + 2 + 4), ("Product B", 3)]);
}
