//! Statistics, customer summaries and settings, exact on a known data set.

use std::sync::Arc;

use pochi_core::{
    County, Currency, Limit, OrderStatus, Store, Trigger,
    settings::{AreaFee, CountyFee, DeliveryFees, StoreSettings},
    stats::StatusCount,
};
use time::{
    Duration,
    macros::{date, datetime},
};

use crate::fixtures::{
    T0, by_reference, checkout_by, kes, move_by, new_order, order_number, place, product, shop,
    started_attempt, stock_shelves, success,
};

/// Five orders by three customers over 40 days, in every kind of state (see the comments).
async fn known_data_set(store: &dyn Store) -> (pochi_core::Product, pochi_core::Product) {
    let a = product("Product A", "100", None);
    let b = product("Product B", "250.50", None);
    stock_shelves(store, &[&a, &b]).await;
    let day = Duration::days(1);
    let hour = Duration::hours(1);
    let place_at = |name: &str, phone: &str, items: &[(&pochi_core::Product, i64)], at| {
        new_order(
            order_number(),
            &checkout_by(name, phone, items),
            &[a.clone(), b.clone()],
            at,
        )
    };
    let pay_and_move = |number: pochi_core::OrderNumber, paid_at, then: &'static [OrderStatus]| async move {
        store
            .move_order(
                &number,
                &move_by(OrderStatus::Paid, Trigger::Payment, paid_at),
            )
            .await
            .unwrap();
        for (i, status) in then.iter().enumerate() {
            let later = paid_at + Duration::minutes(i64::try_from(i).unwrap() + 1);
            store
                .move_order(&number, &move_by(*status, Trigger::Admin, later))
                .await
                .unwrap();
        }
    };
    // o1: 0711… "Wanjiru", 2 × A = 200.00, paid 40 days ago, delivered
    let o1 = place(
        store,
        &place_at("Wanjiru", "0711000000", &[(&a, 2)], T0 - 40 * day),
    )
    .await;
    pay_and_move(
        o1.number,
        T0 - 40 * day + hour,
        &[
            OrderStatus::Processing,
            OrderStatus::Dispatched,
            OrderStatus::Delivered,
        ],
    )
    .await;
    // o2: 0722… "Otieno", 1 × B = 250.50, paid 10 days ago
    let o2 = place(
        store,
        &place_at("Otieno", "0722000000", &[(&b, 1)], T0 - 10 * day),
    )
    .await;
    pay_and_move(o2.number, T0 - 10 * day + hour, &[]).await;
    // o3: 0711… "Wanjiru Kamau", 3 × A + 1 × B = 550.50, placed 2 h ago, paid 1 h ago, processing
    let o3 = place(
        store,
        &place_at(
            "Wanjiru Kamau",
            "0711000000",
            &[(&a, 3), (&b, 1)],
            T0 - 2 * hour,
        ),
    )
    .await;
    pay_and_move(o3.number, T0 - hour, &[OrderStatus::Processing]).await;
    // o4: 0733… "Achieng", 1 × A = 100.00, unpaid, placed 30 min ago
    place(
        store,
        &place_at(
            "Achieng",
            "0733000000",
            &[(&a, 1)],
            T0 - Duration::minutes(30),
        ),
    )
    .await;
    // o5: 0722… "Otieno", 2 × B = 501.00, paid then cancelled 5 days ago: not revenue
    let o5 = place(
        store,
        &place_at("Otieno", "0722000000", &[(&b, 2)], T0 - 5 * day),
    )
    .await;
    pay_and_move(o5.number, T0 - 5 * day + hour, &[OrderStatus::Cancelled]).await;
    (a, b)
}

/// Revenue by period, orders by status, average order value and best sellers are exact.
pub async fn stats_are_exact(store: Arc<dyn Store>) {
    let (a, b) = known_data_set(store.as_ref()).await;
    let (shop, _) = shop(store.clone());

    let stats = shop.stats().await.unwrap();

    // Revenue: o1 + o2 + o3 = 1001.00; today (since 00:00 EAT = 21:00 UTC yesterday): o3;
    // last 7 days: o3; last 30 days: o2 + o3
    assert_eq!(stats.revenue.all_time, kes("1001.00"));
    assert_eq!(stats.revenue.today, kes("550.50"));
    assert_eq!(stats.revenue.last_7_days, kes("550.50"));
    assert_eq!(stats.revenue.last_30_days, kes("801.00"));
    assert_eq!(stats.paid_orders, 3);
    assert_eq!(stats.total_orders, 5);
    assert_eq!(stats.average_order_value, kes("333.67"));
    let count = |status| StatusCount { status, count: 1 };
    assert_eq!(
        stats.orders_by_status,
        vec![
            count(OrderStatus::PendingPayment),
            count(OrderStatus::Paid),
            count(OrderStatus::Processing),
            StatusCount {
                status: OrderStatus::Dispatched,
                count: 0
            },
            count(OrderStatus::Delivered),
            count(OrderStatus::Cancelled),
        ]
    );
    // Best sellers among revenue orders: A 5 units (500.00), B 2 units (501.00)
    let top: Vec<_> = stats
        .top_products
        .iter()
        .map(|t| (t.product_id, t.name.as_str(), t.quantity, t.revenue))
        .collect();
    assert_eq!(
        top,
        vec![
            (a.id, "Product A", 5, kes("500.00")),
            (b.id, "Product B", 2, kes("501.00")),
        ]
    );
}

/// Revenue and paid orders per day for the last 30 days: days run midnight to midnight in
/// East Africa Time (UTC+3), only revenue orders count, by when they were paid, and a day
/// without sales is zeros.
pub async fn daily_revenue_counts_east_africa_days(store: Arc<dyn Store>) {
    // Given orders paid around the day boundaries (T0 is 2026-03-02 12:00 EAT)
    let a = product("Product A", "100", None);
    stock_shelves(store.as_ref(), &[&a]).await;
    let pay = |units: i64, paid_at: time::OffsetDateTime, then: Option<OrderStatus>| {
        let a = a.clone();
        let store = store.clone();
        async move {
            let order = place(
                store.as_ref(),
                &new_order(
                    order_number(),
                    &checkout_by("Wanjiru", "0711000000", &[(&a, units)]),
                    &[a.clone()],
                    paid_at - Duration::minutes(1),
                ),
            )
            .await;
            store
                .move_order(
                    &order.number,
                    &move_by(OrderStatus::Paid, Trigger::Payment, paid_at),
                )
                .await
                .unwrap();
            if let Some(status) = then {
                store
                    .move_order(
                        &order.number,
                        &move_by(status, Trigger::Admin, paid_at + Duration::minutes(1)),
                    )
                    .await
                    .unwrap();
            }
        }
    };
    // 23:59:59 EAT on 1 March, and 00:00 EAT on 2 March
    pay(1, datetime!(2026-03-01 20:59:59 UTC), None).await;
    pay(2, datetime!(2026-03-01 21:00 UTC), None).await;
    // later on 2 March, now processing (still revenue)
    pay(1, T0 - Duration::hours(1), Some(OrderStatus::Processing)).await;
    // the first of the 30 days starts at 00:00 EAT on 1 February; a second earlier is out
    pay(1, datetime!(2026-01-31 21:00 UTC), None).await;
    pay(1, datetime!(2026-01-31 20:59:59 UTC), None).await;
    // paid then cancelled: not revenue
    pay(
        5,
        datetime!(2026-02-15 10:00 UTC),
        Some(OrderStatus::Cancelled),
    )
    .await;
    let (shop, _) = shop(store.clone());

    // When the owner reads the statistics
    let daily = shop.stats().await.unwrap().daily;

    // Then there are 30 days, 1 February to today, and the sales fall on their EAT days
    assert_eq!(daily.len(), 30);
    assert_eq!(daily[0].date, date!(2026 - 02 - 01));
    assert_eq!(daily[29].date, date!(2026 - 03 - 02));
    let sales: Vec<_> = daily
        .iter()
        .filter(|d| d.orders > 0 || !d.revenue.is_zero())
        .map(|d| (d.date, d.revenue, d.orders))
        .collect();
    assert_eq!(
        sales,
        vec![
            (date!(2026 - 02 - 01), kes("100.00"), 1),
            (date!(2026 - 03 - 01), kes("100.00"), 1),
            (date!(2026 - 03 - 02), kes("300.00"), 2),
        ]
    );
    assert!(daily.iter().all(|d| d.revenue.currency() == Currency::Kes));
    assert!(
        daily
            .windows(2)
            .all(|w| w[1].date == w[0].date.next_day().unwrap())
    );
}

/// One summary per phone: the latest name, all orders counted, only revenue orders spent.
pub async fn customer_summaries_are_exact(store: Arc<dyn Store>) {
    known_data_set(store.as_ref()).await;
    let (shop, _) = shop(store.clone());
    let day = Duration::days(1);

    let first = shop
        .customers(None, Limit::new(Some(2)).unwrap())
        .await
        .unwrap();
    let cursor = first.next_cursor.clone().expect("a second page");
    let second = shop
        .customers(Some(&cursor), Limit::new(Some(2)).unwrap())
        .await
        .unwrap();
    assert_eq!(second.next_cursor, None);
    let rows: Vec<_> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|c| {
            (
                c.phone.as_str(),
                c.name.as_str(),
                c.orders,
                c.total_spent,
                c.first_order_at,
                c.last_order_at,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "254711000000",
                "Wanjiru Kamau",
                2,
                kes("750.50"),
                T0 - 40 * day,
                T0 - Duration::hours(2)
            ),
            (
                "254722000000",
                "Otieno",
                2,
                kes("250.50"),
                T0 - 10 * day,
                T0 - 5 * day
            ),
            (
                "254733000000",
                "Achieng",
                1,
                kes("0"),
                T0 - Duration::minutes(30),
                T0 - Duration::minutes(30)
            ),
        ]
    );
}

/// 32 customers ordering, paying and cancelling at once: the statistics count each order
/// and payment once (for stores that keep pre-aggregated figures, no concurrent change to
/// them is lost or deadlocks).
pub async fn concurrent_orders_and_payments_are_counted_once(store: Arc<dyn Store>) {
    // given two products and 32 customers, each ordering and paying; every fourth then
    // cancels
    let a = product("Product A", "1500", Some(1_000));
    let b = product("Product B", "250.50", None);
    stock_shelves(store.as_ref(), &[&a, &b]).await;
    let mut tasks = Vec::new();
    for i in 0..32i64 {
        let (store, a, b) = (store.clone(), a.clone(), b.clone());
        tasks.push(tokio::spawn(async move {
            let new = new_order(
                order_number(),
                &checkout_by(
                    "Otieno",
                    &format!("07220000{i:02}"),
                    &[(&a, 1 + i % 3), (&b, 1)],
                ),
                &[a.clone(), b.clone()],
                T0,
            );
            let order = place(store.as_ref(), &new).await;
            let payment =
                started_attempt(store.as_ref(), &order, order.total, &format!("ws_CO_{i}")).await;
            store
                .settle_payment(
                    &by_reference(&payment),
                    &success(order.total, &format!("SGR00000{i:02}")),
                )
                .await
                .unwrap();
            if i % 4 == 0 {
                store
                    .move_order(
                        &order.number,
                        &move_by(
                            OrderStatus::Cancelled,
                            Trigger::Admin,
                            T0 + Duration::hours(1),
                        ),
                    )
                    .await
                    .unwrap();
            }
            (i, order)
        }));
    }
    let mut kept = Vec::new();
    for task in tasks {
        let (i, order) = task.await.unwrap();
        if i % 4 != 0 {
            kept.push(order);
        }
    }

    // when the shop adds them up
    let (shop, _) = shop(store.clone());
    let stats = shop.stats().await.unwrap();

    // then every order is counted once, and only the 24 kept ones as revenue
    assert_eq!(stats.total_orders, 32);
    assert_eq!(stats.paid_orders, 24);
    let revenue =
        pochi_core::Money::sum(pochi_core::Currency::Kes, kept.iter().map(|o| o.total)).unwrap();
    assert_eq!(stats.revenue.all_time, revenue);
    let units_of_a: i64 = (0..32).filter(|i| i % 4 != 0).map(|i| 1 + i % 3).sum();
    let top: Vec<_> = stats
        .top_products
        .iter()
        .map(|t| (t.product_id, t.quantity))
        .collect();
    assert_eq!(
        top,
        vec![(a.id, u64::try_from(units_of_a).unwrap()), (b.id, 24)]
    );
    let cancelled = stats
        .orders_by_status
        .iter()
        .find(|c| c.status == OrderStatus::Cancelled)
        .map(|c| c.count);
    assert_eq!(cancelled, Some(8));
}

/// Settings read back exactly as saved; a later save replaces them.
pub async fn settings_round_trip(store: Arc<dyn Store>) {
    assert_eq!(store.settings().await.unwrap(), None);
    let mut settings = StoreSettings::defaults(pochi_core::Currency::Kes);
    settings.store_name = "Duka la Mama 🛍️".into();
    settings.contact_phone = Some("+254 712 345 678".into());
    settings.contact_email = Some("mama@duka.co.ke".into());
    settings.payment_instructions = Some("Lipa na M-Pesa:\nTill 123456".into());
    settings.delivery = DeliveryFees {
        default_fee: kes("350"),
        counties: vec![CountyFee {
            county: County::parse("Nairobi").unwrap(),
            fee: kes("150"),
            areas: vec![AreaFee {
                area: "Westlands".into(),
                fee: kes("100"),
            }],
        }],
        free_delivery_over: Some(kes("5000")),
    };
    store.save_settings(&settings).await.unwrap();
    assert_eq!(store.settings().await.unwrap(), Some(settings.clone()));

    settings.whole_units_only = false;
    settings.delivery.counties.clear();
    store.save_settings(&settings).await.unwrap();
    assert_eq!(store.settings().await.unwrap(), Some(settings));
}
