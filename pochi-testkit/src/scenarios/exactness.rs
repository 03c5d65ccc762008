//! Exactness: any Unicode text and money at the bounds round-trip unchanged.

use std::sync::Arc;

use pochi_core::{Actor, OrderStatus, Store, StoreExt, Trigger, product::MAX_UNIT_PRICE};

use crate::fixtures::{
    at, checkout_by, kes, move_by, new_order, order_number, place, product, stock_shelves,
};

/// Text from every corner of Unicode (emoji, combining marks left unnormalised, right-to-left
/// scripts, CJK, Swahili with diacritics) reads back byte for byte.
pub async fn any_unicode_text_round_trips(store: Arc<dyn Store>) {
    // Given a product and an order full of non-ASCII text
    let mut item = product(
        "Kikoi ya Pwani 🌊 — ñ, 中文, עברית, e\u{301}",
        "100",
        Some(5),
    );
    item.description = "Pamba safi 💯\nRangi: nyekundu/samawati\n\u{200d}👩‍👩‍👧".into();
    stock_shelves(store.as_ref(), &[&item]).await;
    let mut input = checkout_by("Ñjeri Ōtieno 🌽 e\u{301}", "0712345678", &[(&item, 1)]);
    input.area = "Kĩambu — Thika Rd".into();
    input.address = "Nyumba 4, ghorofa ya 2\nKaribu na duka la Mama 🏠".into();
    input.notes = Some("Piga simu 📞 kabla — شكرا".into());
    let order = place(
        store.as_ref(),
        &new_order(order_number(), &input, &[item.clone()], at(0)),
    )
    .await;

    // When it moves with a note in Swahili and emoji
    let mut change = move_by(OrderStatus::Cancelled, Trigger::Admin, at(10));
    change.note = Some("Imeghairiwa na mteja 🙏 — «ok»".into());
    change.actor = Actor::Admin("mama-😀".into());
    store.move_order(&order.number, &change).await.unwrap();

    // Then everything reads back exactly
    let stored = store.product_required(item.id).await.unwrap();
    assert_eq!(stored.name, item.name);
    assert_eq!(stored.description, item.description);
    let stored = store.order_required(&order.number).await.unwrap();
    assert_eq!(stored.customer.name, "Ñjeri Ōtieno 🌽 e\u{301}");
    assert_eq!(stored.delivery.area, "Kĩambu — Thika Rd");
    assert_eq!(stored.delivery.address, input.address);
    assert_eq!(stored.delivery.notes, input.notes);
    assert_eq!(stored.lines[0].name, item.name);
    let entry = stored.timeline.last().unwrap();
    assert_eq!(entry.note, "Imeghairiwa na mteja 🙏 — «ok»");
    assert_eq!(entry.actor, Actor::Admin("mama-😀".into()));
}

/// The largest order the shop accepts (50 lines of 999 units at the highest price) is stored
/// and added up exactly.
pub async fn money_at_the_bounds_is_exact(store: Arc<dyn Store>) {
    // Given 50 products at the highest price
    let top_price = format!("{}.99", MAX_UNIT_PRICE - 1);
    let products: Vec<_> = (0..50)
        .map(|i| product(&format!("P{i}"), &top_price, None))
        .collect();
    let refs: Vec<_> = products.iter().collect();
    stock_shelves(store.as_ref(), &refs).await;

    // When two orders of 999 of each are placed and paid
    let items: Vec<_> = products.iter().map(|p| (p, 999i64)).collect();
    let input = checkout_by("Big Spender", "0712345678", &items);
    let mut totals = Vec::new();
    for i in 0..2 {
        let order = place(
            store.as_ref(),
            &new_order(order_number(), &input, &products, at(i)),
        )
        .await;
        store
            .move_order(
                &order.number,
                &move_by(OrderStatus::Paid, Trigger::Payment, at(100 + i)),
            )
            .await
            .unwrap();
        let stored = store.order_required(&order.number).await.unwrap();
        // Then each reads back to the cent
        assert_eq!(stored.lines[0].unit_price, kes(&top_price));
        assert_eq!(stored.lines[0].line_total, kes("9989999990.01"));
        assert_eq!(stored.subtotal, kes("499499999500.50"));
        assert_eq!(stored.total, kes("499499999500.50"));
        totals.push(stored.total);
    }

    // And the revenue adds up exactly
    let (shop, _) = crate::fixtures::shop(store.clone());
    let stats = shop.stats().await.unwrap();
    assert_eq!(stats.revenue.all_time, kes("998999999001.00"));
    assert_eq!(stats.average_order_value, kes("499499999500.50"));
    assert_eq!(stats.top_products[0].quantity, 1998);
    assert_eq!(stats.top_products[0].revenue, kes("19979999980.02"));
}
