//! Builders for the scenarios: products, checkouts, orders and payment results with fixed times.

use std::{sync::Arc, time::Duration};

use pochi_core::store::{NewOrder, OpenOrderLimits};
use pochi_core::{
    Actor, CheckoutInput, CheckoutItemInput, Currency, IdGenerator, IdempotencyKey, ManualClock,
    ManualCodeProvider, Money, Order, OrderNumber, OrderPrefix, OrderStatus, Payment, PaymentId,
    PaymentKind, PaymentResult, PaymentStatus, PaymentTarget, Placement, Product, ProductId,
    ProviderResult, RandomIds, Receipt, Shop, ShopConfig, StatusChange, Store, TimelineEntry,
    Trigger, checkout::Checkout, pricing, settings::StoreSettings,
};
use time::{OffsetDateTime, macros::datetime};

/// The time every scenario starts at.
pub const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

/// `T0` plus `seconds`.
pub fn at(seconds: i64) -> OffsetDateTime {
    T0 + time::Duration::seconds(seconds)
}

/// An amount in KES from a decimal string.
pub fn kes(amount: &str) -> Money {
    Money::parse(amount, Currency::Kes).expect("fixture amounts are valid")
}

/// A fresh random id.
pub fn product_id() -> ProductId {
    ProductId::from_uuid(RandomIds.uuid())
}

/// A fresh random order number.
pub fn order_number() -> OrderNumber {
    OrderNumber::new(&OrderPrefix::default(), &RandomIds.order_code())
        .expect("generated codes are valid")
}

/// An active product created at `created_at`.
pub fn product_at(
    name: &str,
    price: &str,
    stock: Option<u32>,
    created_at: OffsetDateTime,
) -> Product {
    Product {
        id: product_id(),
        name: name.to_owned(),
        description: format!("About {name}"),
        price: kes(price),
        stock,
        max_per_order: None,
        image: None,
        active: true,
        created_at,
        updated_at: created_at,
        version: pochi_core::product::FIRST_VERSION,
    }
}

/// An active product created at [`T0`].
pub fn product(name: &str, price: &str, stock: Option<u32>) -> Product {
    product_at(name, price, stock, T0)
}

/// A checkout by a fixed customer in Nairobi, Westlands, buying `items`.
pub fn checkout(items: &[(&Product, i64)]) -> CheckoutInput {
    checkout_by("Wanjiru Kamau", "0712345678", items)
}

/// A checkout by `name` with `phone`, buying `items`.
pub fn checkout_by(name: &str, phone: &str, items: &[(&Product, i64)]) -> CheckoutInput {
    CheckoutInput {
        name: name.to_owned(),
        phone: phone.to_owned(),
        county: "Nairobi".to_owned(),
        area: "Westlands".to_owned(),
        address: "Mpaka Road, blue gate".to_owned(),
        notes: None,
        items: items
            .iter()
            .map(|(product, quantity)| CheckoutItemInput {
                product_id: product.id.to_string(),
                quantity: *quantity,
            })
            .collect(),
        language: None,
    }
}

/// A priced order for a store, built the way `Shop::place_order` builds it, placed at `at`.
pub fn new_order(
    number: OrderNumber,
    input: &CheckoutInput,
    catalogue: &[Product],
    at: OffsetDateTime,
) -> NewOrder {
    let checkout = Checkout::parse(input).expect("fixture checkouts are valid");
    let fees = StoreSettings::defaults(Currency::Kes).delivery;
    let priced = pricing::price(&checkout, catalogue, &fees, Currency::Kes)
        .expect("fixture checkouts price");
    NewOrder {
        order: Order {
            number,
            status: OrderStatus::PendingPayment,
            customer: checkout.customer.clone(),
            delivery: checkout.delivery.clone(),
            lines: priced.lines,
            subtotal: priced.subtotal,
            delivery_fee: priced.delivery_fee,
            total: priced.total,
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
        },
        idempotency_key: None,
        fingerprint: checkout.fingerprint(),
        placed_from: None,
        limits: OpenOrderLimits::default(),
    }
}

/// An idempotency key.
pub fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).expect("fixture keys are valid")
}

/// A shop over `store` with a manual clock at [`T0`], random ids and the manual-code provider.
pub fn shop(store: Arc<dyn Store>) -> (Shop, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let shop = Shop::builder(store)
        .clock(clock.clone())
        .provider(Arc::new(ManualCodeProvider::new()))
        .config(ShopConfig::default().with_unpaid_order_ttl(Duration::from_secs(30 * 60)))
        .build()
        .expect("a valid shop");
    (shop, clock)
}

/// Inserts products into `store`.
pub async fn stock_shelves(store: &dyn Store, products: &[&Product]) {
    for product in products {
        store.insert_product(product).await.expect("insert product");
    }
}

/// Places an order through the store directly and returns it.
pub async fn place(store: &dyn Store, new: &NewOrder) -> Order {
    match store.place_order(new).await.expect("place order") {
        Placement::Placed(order) => order,
        Placement::Replayed(order) => {
            panic!("expected a new order, got a replay of {}", order.number)
        }
    }
}

/// Places an order for `quantity` of `item` at [`T0`] and returns it.
pub async fn order_for(store: &dyn Store, item: &Product, quantity: i64) -> Order {
    place(
        store,
        &new_order(
            order_number(),
            &checkout(&[(item, quantity)]),
            &[item.clone()],
            T0,
        ),
    )
    .await
}

/// A pending push attempt for `order` with `provider_reference`, stored and started.
pub async fn started_attempt(
    store: &dyn Store,
    order: &Order,
    amount: Money,
    reference: &str,
) -> Payment {
    let payment = attempt(order, amount, PaymentKind::StkPush, "testpay", None);
    store
        .insert_payment(&payment, None)
        .await
        .expect("insert payment");
    store
        .mark_payment_started(
            payment.id,
            Some(reference.to_owned()),
            PaymentStatus::Pending,
            at(1),
        )
        .await
        .expect("mark started")
}

/// A new payment (not stored) for `order`.
pub fn attempt(
    order: &Order,
    amount: Money,
    kind: PaymentKind,
    provider: &str,
    reference: Option<&str>,
) -> Payment {
    Payment {
        id: PaymentId::from_uuid(RandomIds.uuid()),
        order_number: order.number.clone(),
        provider: provider.to_owned(),
        kind,
        amount,
        phone: Some(order.customer.phone.clone()),
        status: PaymentStatus::Pending,
        provider_reference: reference.map(str::to_owned),
        receipt: None,
        payer: None,
        result_code: None,
        result_description: None,
        raw_payload: None,
        idempotency_key: None,
        checks: 0,
        next_check_at: None,
        needs_review: false,
        created_at: at(1),
        updated_at: at(1),
    }
}

/// A success result for `amount` with `receipt`.
pub fn success(amount: Money, receipt: &str) -> PaymentResult {
    PaymentResult {
        result: ProviderResult {
            amount: Some(amount),
            receipt: Some(Receipt::parse(receipt).expect("fixture receipts are valid")),
            result_code: Some("0".to_owned()),
            result_description: Some("The service request is processed successfully.".to_owned()),
            raw_payload: Some(format!("{{\"receipt\":\"{receipt}\"}}")),
            ..ProviderResult::with_status(PaymentStatus::Succeeded)
        },
        actor: Actor::Provider("testpay".to_owned()),
        at: at(60),
    }
}

/// A final non-success result.
pub fn failure(status: PaymentStatus, code: &str) -> PaymentResult {
    PaymentResult {
        result: ProviderResult {
            result_code: Some(code.to_owned()),
            result_description: Some(format!("result {code}")),
            ..ProviderResult::with_status(status)
        },
        actor: Actor::Provider("testpay".to_owned()),
        at: at(60),
    }
}

/// The target of `payment` by its provider reference.
pub fn by_reference(payment: &Payment) -> PaymentTarget {
    PaymentTarget::Reference {
        provider: payment.provider.clone(),
        reference: payment
            .provider_reference
            .clone()
            .expect("the payment has a reference"),
    }
}

/// A status change by an admin.
pub fn admin_move(to: OrderStatus, at: OffsetDateTime) -> StatusChange {
    StatusChange {
        to,
        trigger: Trigger::Admin,
        actor: Actor::Admin("admin".to_owned()),
        note: None,
        note_for_customer: true,
        at,
    }
}

/// A status change with an explicit trigger.
pub fn move_by(to: OrderStatus, trigger: Trigger, at: OffsetDateTime) -> StatusChange {
    StatusChange {
        to,
        trigger,
        actor: match trigger {
            Trigger::Admin => Actor::Admin("admin".to_owned()),
            Trigger::Payment => Actor::Provider("testpay".to_owned()),
            Trigger::Expiry => Actor::System,
        },
        note: None,
        note_for_customer: true,
        at,
    }
}

/// Brings a freshly placed order to `status` through allowed moves.
pub async fn bring_to(store: &dyn Store, order: &Order, status: OrderStatus) -> Order {
    use OrderStatus::*;
    let path: &[(OrderStatus, Trigger)] = match status {
        PendingPayment => &[],
        Paid => &[(Paid, Trigger::Payment)],
        Processing => &[(Paid, Trigger::Payment), (Processing, Trigger::Admin)],
        Dispatched => &[
            (Paid, Trigger::Payment),
            (Processing, Trigger::Admin),
            (Dispatched, Trigger::Admin),
        ],
        Delivered => &[
            (Paid, Trigger::Payment),
            (Processing, Trigger::Admin),
            (Dispatched, Trigger::Admin),
            (Delivered, Trigger::Admin),
        ],
        Cancelled => &[(Cancelled, Trigger::Admin)],
    };
    let mut current = order.clone();
    for (i, (to, trigger)) in path.iter().enumerate() {
        let seconds = 100 + i64::try_from(i).unwrap_or(0);
        current = store
            .move_order(&order.number, &move_by(*to, *trigger, at(seconds)))
            .await
            .expect("allowed move");
    }
    current
}
