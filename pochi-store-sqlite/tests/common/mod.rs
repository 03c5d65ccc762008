//! Fixtures for the SQLite store's tests: stores on real files and in memory, and domain values
//! built by hand so each test says exactly what it stores.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};

use pochi_core::store::NewOrder;
use pochi_core::{
    Actor, County, Currency, IdGenerator, IdempotencyKey, Money, Msisdn, Order, OrderLine,
    OrderNumber, OrderPrefix, OrderStatus, Payment, PaymentId, PaymentKind, PaymentResult,
    PaymentStatus, Product, ProductId, ProviderResult, Receipt, SequentialIds, Store,
    TimelineEntry,
    order::{Customer, Delivery},
};
use pochi_store_sqlite::{
    SqliteStore,
    sqlx::{Connection, SqliteConnection},
};
use tempfile::TempDir;
use time::{Duration, OffsetDateTime, macros::datetime};
use uuid::Uuid;

/// A migrated store on a fresh file; keep the directory alive as long as the store.
pub async fn file_store() -> (SqliteStore, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("shop.db")).await.unwrap();
    store.migrate().await.unwrap();
    (store, dir)
}

/// A migrated store in memory.
pub async fn memory_store() -> SqliteStore {
    let store = SqliteStore::in_memory().await.unwrap();
    store.migrate().await.unwrap();
    store
}

pub const T0: OffsetDateTime = datetime!(2026-03-01 09:00:00.123456 UTC);

pub fn kes(shillings: i64) -> Money {
    Money::from_minor(shillings * 100, Currency::Kes).unwrap()
}

static NEXT: AtomicU64 = AtomicU64::new(1);

fn next_uuid() -> Uuid {
    Uuid::from_u128(u128::from(NEXT.fetch_add(1, Ordering::Relaxed)) << 64)
}

pub fn product(name: &str, price: i64, stock: Option<u32>) -> Product {
    Product {
        id: ProductId::from_uuid(next_uuid()),
        name: name.to_owned(),
        description: String::new(),
        price: kes(price),
        stock,
        max_per_order: None,
        image: None,
        active: true,
        created_at: T0,
        updated_at: T0,
        version: 1,
    }
}

pub fn order_number() -> OrderNumber {
    static IDS: std::sync::OnceLock<SequentialIds> = std::sync::OnceLock::new();
    let code = IDS.get_or_init(SequentialIds::new).order_code();
    OrderNumber::new(&OrderPrefix::default(), &code).unwrap()
}

pub fn phone(text: &str) -> Msisdn {
    Msisdn::parse(text).unwrap()
}

/// An order for `items` (product, quantity) placed at `at`, priced from the products.
pub fn order_at(
    items: &[(&Product, u32)],
    customer: &str,
    phone_text: &str,
    at: OffsetDateTime,
) -> Order {
    let lines: Vec<OrderLine> = items
        .iter()
        .map(|(p, quantity)| OrderLine {
            product_id: p.id,
            name: p.name.clone(),
            unit_price: p.price,
            quantity: *quantity,
            line_total: p.price.checked_mul(*quantity).unwrap(),
        })
        .collect();
    let subtotal = Money::sum(Currency::Kes, lines.iter().map(|l| l.line_total)).unwrap();
    let delivery_fee = kes(200);
    Order {
        number: order_number(),
        status: OrderStatus::PendingPayment,
        customer: Customer {
            name: customer.to_owned(),
            phone: phone(phone_text),
        },
        delivery: Delivery {
            county: County::parse("Nairobi").unwrap(),
            area: "Westlands".to_owned(),
            address: "Mpaka Road".to_owned(),
            notes: None,
        },
        lines,
        subtotal,
        delivery_fee,
        total: subtotal.checked_add(delivery_fee).unwrap(),
        payment_flag: None,
        timeline: vec![TimelineEntry {
            at,
            status: OrderStatus::PendingPayment,
            note: "Order placed, waiting for payment".to_owned(),
            actor: Actor::Customer,
            for_customer: true,
        }],
        created_at: at,
        updated_at: at,
        paid_at: None,
        language: Default::default(),
    }
}

pub fn order(items: &[(&Product, u32)]) -> Order {
    order_at(items, "Wanjiru Kamau", "0712345678", T0)
}

pub fn new_order(order: Order) -> NewOrder {
    NewOrder::new(order, "fp")
}

pub fn keyed(order: Order, key: &str, fingerprint: &str) -> NewOrder {
    NewOrder {
        idempotency_key: Some(IdempotencyKey::parse(key).unwrap()),
        ..NewOrder::new(order, fingerprint)
    }
}

/// A pending STK push for the whole of `order`.
pub fn payment_for(order: &Order) -> Payment {
    Payment {
        id: PaymentId::from_uuid(next_uuid()),
        order_number: order.number.clone(),
        provider: "mpesa".to_owned(),
        kind: PaymentKind::StkPush,
        amount: order.total,
        phone: Some(order.customer.phone.clone()),
        status: PaymentStatus::Pending,
        provider_reference: None,
        receipt: None,
        payer: None,
        result_code: None,
        result_description: None,
        raw_payload: None,
        idempotency_key: None,
        checks: 0,
        next_check_at: None,
        needs_review: false,
        created_at: T0 + Duration::minutes(1),
        updated_at: T0 + Duration::minutes(1),
    }
}

/// A success with `receipt` for the attempt's amount.
pub fn success(payment: &Payment, receipt: &str, at: OffsetDateTime) -> PaymentResult {
    PaymentResult {
        result: ProviderResult {
            status: Some(PaymentStatus::Succeeded),
            amount: Some(payment.amount),
            receipt: Some(Receipt::parse(receipt).unwrap()),
            payer: Some("2547****678".to_owned()),
            result_code: Some("0".to_owned()),
            result_description: Some("The service request is processed successfully.".to_owned()),
            raw_payload: Some("{\"Body\":{}}".to_owned()),
        },
        actor: Actor::Provider("mpesa".to_owned()),
        at,
    }
}

/// A file store holding one placed order, and a connection of its own to the same file (to
/// write rows behind the store's back); the directory lives as long as the last value.
pub async fn placed_order_in_a_file() -> (SqliteStore, Order, SqliteConnection, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();
    let kikoi = product("Kikoi", 1500, None);
    store.insert_product(&kikoi).await.unwrap();
    let placed = order(&[(&kikoi, 1)]);
    store.place_order(&new_order(placed.clone())).await.unwrap();
    let raw = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    (store, placed, raw, dir)
}
