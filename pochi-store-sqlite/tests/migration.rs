//! A shop file written by the first schema (before the SQLite store joined the SQL core) opens
//! with everything in it: `migrate` renames the money columns, splits payment flags and actors
//! out of their JSON, and fills the statistics' tallies from the orders already there.

#![allow(clippy::unwrap_used)]

mod common;

use std::{borrow::Cow, path::Path};

use common::*;
use pochi_core::{
    Actor, Currency, Money, OrderStatus, PaymentReview, PaymentStatus, ReviewId, ReviewReason,
    Store, TimelineEntry,
    order::{PaymentFlag, PaymentFlagKind},
    stats::StatsQuery,
};
use pochi_store_sqlite::{
    SqliteStore,
    sqlx::{
        self, SqlitePool,
        migrate::Migrator,
        sqlite::{SqliteConnectOptions, SqlitePoolOptions},
    },
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap()
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

/// A database file with only the first migration applied.
async fn first_schema(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .connect_with(options)
        .await
        .unwrap();
    let mut migrator = Migrator::new(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations"
    )))
    .await
    .unwrap();
    let first = migrator.migrations[0].clone();
    assert_eq!(first.version, 1);
    migrator.migrations = Cow::Owned(vec![first]);
    migrator.run(&pool).await.unwrap();
    pool
}

#[tokio::test]
async fn a_file_of_the_first_schema_reads_back_whole_after_migrating() {
    // given: a product, a paid order with a short-payment flag and an admin's timeline entry,
    // a pending order, a payment and a review, written as the first schema's store wrote them
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let kikoi = product("Kikoi", 1500, Some(7));
    let mut paid = order(&[(&kikoi, 2)]);
    let paid_at = T0 + Duration::minutes(5);
    paid.status = OrderStatus::Paid;
    paid.paid_at = Some(paid_at);
    paid.updated_at = paid_at;
    paid.payment_flag = Some(PaymentFlag {
        kind: PaymentFlagKind::ShortPayment,
        expected: paid.total,
        received: Money::parse("2999.50", Currency::Kes).unwrap(),
    });
    paid.timeline.push(TimelineEntry {
        at: paid_at,
        status: OrderStatus::Paid,
        note: "paid at the till".to_owned(),
        actor: Actor::Admin("wanjiru".to_owned()),
        // Migration 0006 makes the notes admins wrote private (tracking shows the status).
        for_customer: false,
    });
    // But what the shop wrote for an admin's action (a verified code) stays public.
    paid.timeline.push(TimelineEntry {
        at: paid_at,
        status: OrderStatus::Paid,
        note: "Payment received (QK1ZZZZZ98)".to_owned(),
        actor: Actor::Admin("wanjiru".to_owned()),
        for_customer: true,
    });
    let pending = order_at(
        &[(&kikoi, 1)],
        "Otieno",
        "0722000000",
        T0 + Duration::hours(1),
    );
    let mut payment = payment_for(&paid);
    payment.status = PaymentStatus::Succeeded;
    payment.receipt = Some(pochi_core::Receipt::parse("QK1ABCDE12").unwrap());
    let review = PaymentReview {
        id: ReviewId::from_uuid(Uuid::from_u128(7)),
        at: paid_at,
        provider: "mpesa".to_owned(),
        reason: ReviewReason::UnmatchedPayment,
        payment_id: None,
        order_number: None,
        reference: Some("ws_CO_1".to_owned()),
        receipt: Some("QK1ZZZZZ99".to_owned()),
        amount: Some(Money::parse("250.75", Currency::Kes).unwrap()),
        account_reference: Some("acc".to_owned()),
        raw_payload: None,
        resolution: None,
    };

    let pool = first_schema(&path).await;
    sqlx::query(
        "INSERT INTO products (id, name, description, currency, price_minor, stock, image, \
         active, created_at, updated_at) VALUES (?, ?, ?, 'KES', ?, ?, NULL, 1, ?, ?)",
    )
    .bind(kikoi.id.to_string())
    .bind(&kikoi.name)
    .bind(&kikoi.description)
    .bind(kikoi.price.to_minor())
    .bind(4_i64)
    .bind(micros(kikoi.created_at))
    .bind(micros(kikoi.updated_at))
    .execute(&pool)
    .await
    .unwrap();
    for order in [&paid, &pending] {
        sqlx::query(
            "INSERT INTO orders (number, status, customer_name, phone, county, area, address, \
             delivery_notes, currency, subtotal_minor, delivery_fee_minor, total_minor, \
             payment_flag, created_at, updated_at, paid_at, idempotency_key, fingerprint) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'KES', ?, ?, ?, ?, ?, ?, ?, NULL, 'fp')",
        )
        .bind(order.number.as_str())
        .bind(order.status.as_str())
        .bind(&order.customer.name)
        .bind(order.customer.phone.as_str())
        .bind(order.delivery.county.name())
        .bind(&order.delivery.area)
        .bind(&order.delivery.address)
        .bind(order.delivery.notes.as_deref())
        .bind(order.subtotal.to_minor())
        .bind(order.delivery_fee.to_minor())
        .bind(order.total.to_minor())
        .bind(order.payment_flag.as_ref().map(json))
        .bind(micros(order.created_at))
        .bind(micros(order.updated_at))
        .bind(order.paid_at.map(micros))
        .execute(&pool)
        .await
        .unwrap();
        for (position, line) in order.lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO order_lines (order_number, position, product_id, name, currency, \
                 unit_price_minor, quantity, line_total_minor) VALUES (?, ?, ?, ?, 'KES', ?, ?, ?)",
            )
            .bind(order.number.as_str())
            .bind(i64::try_from(position).unwrap())
            .bind(line.product_id.to_string())
            .bind(&line.name)
            .bind(line.unit_price.to_minor())
            .bind(i64::from(line.quantity))
            .bind(line.line_total.to_minor())
            .execute(&pool)
            .await
            .unwrap();
        }
        for (position, entry) in order.timeline.iter().enumerate() {
            sqlx::query(
                "INSERT INTO order_timeline (order_number, position, at, status, note, actor) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(order.number.as_str())
            .bind(i64::try_from(position).unwrap())
            .bind(micros(entry.at))
            .bind(entry.status.as_str())
            .bind(&entry.note)
            .bind(json(&entry.actor))
            .execute(&pool)
            .await
            .unwrap();
        }
    }
    sqlx::query(
        "INSERT INTO payments (id, order_number, provider, kind, currency, amount_minor, phone, \
         status, provider_reference, receipt, payer, result_code, result_description, \
         raw_payload, idempotency_key, checks, next_check_at, needs_review, created_at, \
         updated_at) VALUES (?, ?, 'mpesa', 'stk_push', 'KES', ?, ?, 'succeeded', NULL, ?, \
         NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, ?, ?)",
    )
    .bind(payment.id.to_string())
    .bind(payment.order_number.as_str())
    .bind(payment.amount.to_minor())
    .bind(payment.phone.as_ref().map(|p| p.as_str().to_owned()))
    .bind(payment.receipt.as_ref().map(|r| r.as_str().to_owned()))
    .bind(micros(payment.created_at))
    .bind(micros(payment.updated_at))
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO payment_reviews (id, at, provider, reason, payment_id, order_number, \
         reference, receipt, currency, amount_minor, account_reference, raw_payload) \
         VALUES (?, ?, 'mpesa', ?, NULL, NULL, 'ws_CO_1', 'QK1ZZZZZ99', 'KES', 25075, 'acc', \
         NULL)",
    )
    .bind(review.id.to_string())
    .bind(micros(review.at))
    .bind(json(&review.reason))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    // when
    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();

    // then: every record reads back as it was written
    assert_eq!(store.order(&paid.number).await.unwrap(), Some(paid.clone()));
    assert_eq!(
        store.order(&pending.number).await.unwrap(),
        Some(pending.clone())
    );
    let mut stocked = kikoi.clone();
    stocked.stock = Some(4);
    assert_eq!(store.product(kikoi.id).await.unwrap(), Some(stocked));
    assert_eq!(
        store.payments_for_order(&paid.number).await.unwrap(),
        vec![payment]
    );
    assert_eq!(store.list_reviews(None, 10).await.unwrap(), vec![review]);

    // and the statistics count the orders that were already there
    let figures = store
        .stats(&StatsQuery {
            currency: Currency::Kes,
            revenue_statuses: vec![OrderStatus::Paid],
            windows: vec![T0, paid_at + Duration::minutes(1)],
            top_products: 5,
            days: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(
        figures.orders_by_status,
        vec![(OrderStatus::PendingPayment, 1), (OrderStatus::Paid, 1)]
    );
    assert_eq!(figures.revenue, paid.total);
    assert_eq!(figures.revenue_orders, 1);
    assert_eq!(
        figures.revenue_since,
        vec![paid.total, Money::zero(Currency::Kes)]
    );
    assert_eq!(figures.top_products.len(), 1);
    assert_eq!(figures.top_products[0].quantity, 2);
    assert_eq!(figures.top_products[0].revenue, paid.lines[0].line_total);

    // and the store goes on from there: the pending order moves, the figures follow
    let moved = store
        .move_order(
            &pending.number,
            &pochi_core::StatusChange {
                to: OrderStatus::Cancelled,
                trigger: pochi_core::Trigger::Admin,
                actor: Actor::Admin("wanjiru".to_owned()),
                note: None,
                note_for_customer: true,
                at: T0 + Duration::hours(2),
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.status, OrderStatus::Cancelled);
    assert_eq!(
        store.product(kikoi.id).await.unwrap().unwrap().stock,
        Some(5)
    );
}
