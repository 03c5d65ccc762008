//! Pay on delivery: an order whose cash is collected at the door waits for it without
//! expiring, goes out unpaid, and is paid once when an admin records the cash.

use std::{sync::Arc, time::Duration as StdDuration};

use pochi_core::{
    ConflictReason, ManualClock, ManualCodeProvider, ManualVerdict, Order, OrderStatus,
    PayOnDelivery, PaymentInput, PaymentStatus, Shop, ShopConfig, Store, StoreExt, auth::AdminUser,
};
use time::Duration;

use crate::fixtures::{T0, checkout, checkout_by, product, stock_shelves};

fn admin() -> AdminUser {
    AdminUser {
        username: "amina".to_owned(),
    }
}

/// A shop taking M-Pesa codes and pay on delivery, whose unpaid orders expire after 30
/// minutes.
fn shop_paid_on_delivery(store: Arc<dyn Store>) -> (Shop, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let shop = Shop::builder(store)
        .clock(clock.clone())
        .provider(Arc::new(ManualCodeProvider::new()))
        .provider(Arc::new(PayOnDelivery))
        .config(ShopConfig::default().with_unpaid_order_ttl(StdDuration::from_secs(30 * 60)))
        .build()
        .expect("a valid shop");
    (shop, clock)
}

fn pay_with(order: &Order, method: &str, code: Option<&str>) -> PaymentInput {
    PaymentInput {
        order_number: order.number.to_string(),
        method: Some(method.to_owned()),
        phone: None,
        code: code.map(str::to_owned),
    }
}

async fn move_to(shop: &Shop, order: &Order, to: OrderStatus) -> Order {
    shop.move_order(order.number.as_str(), to.as_str(), None, false, &admin())
        .await
        .unwrap_or_else(|e| panic!("move to {to}: {e}"))
}

/// An order paid on delivery does not expire while its cash is awaited, is prepared,
/// dispatched and delivered unpaid, then an admin records the cash once (a second verify is
/// refused and changes nothing), and the stats count it once.
pub async fn an_order_paid_on_delivery_goes_out_unpaid_and_is_paid_once(store: Arc<dyn Store>) {
    // Given a shop with 3 kikois, an order paying on delivery and one paying by M-Pesa code
    let (shop, clock) = shop_paid_on_delivery(store.clone());
    let kikoi = product("Kikoi", "1500", Some(3));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let order = shop
        .place_order(&checkout(&[(&kikoi, 1)]), None)
        .await
        .unwrap()
        .into_order();
    let other = shop
        .place_order(&checkout_by("Otieno", "0722000000", &[(&kikoi, 1)]), None)
        .await
        .unwrap()
        .into_order();
    let cash = shop
        .start_payment(&pay_with(&order, PayOnDelivery::NAME, None), None)
        .await
        .unwrap()
        .into_payment();
    assert_eq!(
        (cash.status, cash.amount, cash.receipt.clone()),
        (PaymentStatus::PendingVerification, order.total, None)
    );
    // asking again answers the same attempt
    let again = shop
        .start_payment(&pay_with(&order, PayOnDelivery::NAME, None), None)
        .await
        .unwrap()
        .into_payment();
    assert_eq!(again.id, cash.id);
    shop.start_payment(&pay_with(&other, "manual", Some("QJK1ABC2DE")), None)
        .await
        .unwrap();

    // When three days pass and the expiry sweep runs
    clock.advance(StdDuration::from_secs(3 * 24 * 3600));
    let expired = shop.expire_unpaid_orders().await.unwrap();

    // Then only the order paying by code expired; the one paying on delivery keeps its stock
    let expired: Vec<_> = expired.iter().map(|o| o.number.clone()).collect();
    assert_eq!(expired, vec![other.number.clone()]);
    assert_eq!(
        shop.order(order.number.as_str()).await.unwrap().status,
        OrderStatus::PendingPayment
    );
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(2)
    );
    // The tracking page says the customer pays on delivery, not that a code is being checked
    let tracked = store.tracked_order(&order.number).await.unwrap().unwrap();
    assert!(tracked.paying_on_delivery && !tracked.awaiting_verification);

    // When the admin prepares, dispatches and delivers it before the cash is in
    for to in [
        OrderStatus::Processing,
        OrderStatus::Dispatched,
        OrderStatus::Delivered,
    ] {
        move_to(&shop, &order, to).await;
    }
    let delivered = shop.order(order.number.as_str()).await.unwrap();
    assert_eq!(
        (delivered.status, delivered.paid_at),
        (OrderStatus::Delivered, None)
    );
    let before = shop.stats().await.unwrap();

    // And records the cash collected
    clock.advance(StdDuration::from_secs(3600));
    let collected = shop
        .verify_manual_payment(
            &cash.id.to_string(),
            &ManualVerdict {
                approve: true,
                note: Some("Cash from the rider".to_owned()),
            },
            &admin(),
        )
        .await
        .unwrap();

    // Then the payment succeeded and the order is paid, still delivered
    assert_eq!(collected.status, PaymentStatus::Succeeded);
    let paid = shop.order(order.number.as_str()).await.unwrap();
    assert_eq!(
        (paid.status, paid.paid_at, paid.payment_flag),
        (OrderStatus::Delivered, Some(shop.now()), None)
    );
    assert_eq!(paid.timeline.len(), delivered.timeline.len() + 1);
    let tracked = store.tracked_order(&order.number).await.unwrap().unwrap();
    assert!(!tracked.paying_on_delivery && !tracked.awaiting_verification);

    // And a second verify is refused and changes nothing
    let err = shop
        .verify_manual_payment(
            &cash.id.to_string(),
            &ManualVerdict {
                approve: true,
                note: None,
            },
            &admin(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::PaymentNotVerifiable)
    );
    assert_eq!(shop.order(order.number.as_str()).await.unwrap(), paid);
    assert!(
        store
            .refunds_for_order(&order.number)
            .await
            .unwrap()
            .is_empty()
    );

    // And the stats count it once: as revenue since it was prepared, and in today's money
    // once the cash is in; its stock stayed sold once
    let after = shop.stats().await.unwrap();
    assert_eq!(
        (before.paid_orders, before.revenue.all_time),
        (1, order.total)
    );
    assert!(before.revenue.today.is_zero());
    assert_eq!(
        (
            after.paid_orders,
            after.revenue.all_time,
            after.revenue.today
        ),
        (1, order.total, order.total)
    );
    let today = after.daily.last().expect("today's figures");
    assert_eq!((today.orders, today.revenue), (1, order.total));
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(2)
    );
}

/// An order paid on delivery and refused at the door is cancelled by an admin while
/// dispatched, gives its stock back once and owes nothing; without a pay-on-delivery attempt
/// an unpaid order cannot be prepared.
pub async fn an_order_refused_at_the_door_gives_its_stock_back_once(store: Arc<dyn Store>) {
    // Given two orders of 2 kikois out of 5, one paying on delivery, one not paying yet
    let (shop, clock) = shop_paid_on_delivery(store.clone());
    let kikoi = product("Kikoi", "1500", Some(5));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let order = shop
        .place_order(&checkout(&[(&kikoi, 2)]), None)
        .await
        .unwrap()
        .into_order();
    let unpaid = shop
        .place_order(&checkout_by("Otieno", "0722000000", &[(&kikoi, 2)]), None)
        .await
        .unwrap()
        .into_order();
    shop.start_payment(&pay_with(&order, PayOnDelivery::NAME, None), None)
        .await
        .unwrap();

    // Then the order not paying on delivery cannot be prepared before it is paid
    let err = shop
        .move_order(unpaid.number.as_str(), "processing", None, false, &admin())
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::InvalidTransition)
    );

    // When the one paying on delivery is dispatched and refused at the door
    move_to(&shop, &order, OrderStatus::Processing).await;
    move_to(&shop, &order, OrderStatus::Dispatched).await;
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(1)
    );
    clock.advance(StdDuration::from_secs(2 * 3600));
    let cancelled = move_to(&shop, &order, OrderStatus::Cancelled).await;

    // Then it is cancelled, its 2 units are back once, and nothing is owed
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(
        cancelled.timeline.last().map(|e| e.at),
        Some(T0 + Duration::hours(2))
    );
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(3)
    );
    let err = shop
        .move_order(order.number.as_str(), "cancelled", None, false, &admin())
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::InvalidTransition)
    );
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(3)
    );
    assert!(
        store
            .refunds_for_order(&order.number)
            .await
            .unwrap()
            .is_empty()
    );
}
