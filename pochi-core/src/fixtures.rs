//! Test builders shared by the unit tests of this crate.

use rust_decimal::Decimal;
use time::{OffsetDateTime, macros::datetime};
use uuid::Uuid;

use crate::{
    county::County,
    ids::{OrderNumber, OrderPrefix, PaymentId, ProductId},
    money::{Currency, Money},
    order::{Actor, Customer, Delivery, Order, OrderLine, OrderStatus, TimelineEntry},
    payment::{Payment, PaymentKind, PaymentResult, PaymentStatus, ProviderResult, Receipt},
    phone::Msisdn,
    product::Product,
};

pub(crate) const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

pub(crate) fn kes(amount: Decimal) -> Money {
    Money::new(amount, Currency::Kes).unwrap()
}

pub(crate) fn product(n: u128, price: Decimal, stock: Option<u32>) -> Product {
    Product {
        id: ProductId::from_uuid(Uuid::from_u128(n)),
        name: format!("Product {n}"),
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

/// An unpaid order with one line of `total` (no delivery fee).
pub(crate) fn order(code: &str, total: Decimal) -> Order {
    let total = kes(total);
    Order {
        number: OrderNumber::new(&OrderPrefix::default(), code).unwrap(),
        status: OrderStatus::PendingPayment,
        customer: Customer {
            name: "Wanjiru Njeri Kamau".into(),
            phone: Msisdn::parse("0712345678").unwrap(),
        },
        delivery: Delivery {
            county: County::parse("Nairobi").unwrap(),
            area: "Westlands".into(),
            address: "Mpaka Road, blue gate".into(),
            notes: None,
        },
        lines: vec![OrderLine {
            product_id: ProductId::from_uuid(Uuid::from_u128(1)),
            name: "Kikoi".into(),
            unit_price: total,
            quantity: 1,
            line_total: total,
        }],
        subtotal: total,
        delivery_fee: Money::zero(Currency::Kes),
        total,
        payment_flag: None,
        timeline: vec![TimelineEntry {
            at: T0,
            status: OrderStatus::PendingPayment,
            note: "Order placed, waiting for payment".into(),
            actor: Actor::Customer,
            for_customer: true,
        }],
        created_at: T0,
        updated_at: T0,
        paid_at: None,
        language: Default::default(),
    }
}

pub(crate) fn payment(n: u128, order: &Order, amount: Decimal, status: PaymentStatus) -> Payment {
    Payment {
        id: PaymentId::from_uuid(Uuid::from_u128(n)),
        order_number: order.number.clone(),
        provider: "testpay".into(),
        kind: PaymentKind::StkPush,
        amount: kes(amount),
        phone: Some(order.customer.phone.clone()),
        status,
        provider_reference: Some(format!("ws_CO_{n}")),
        receipt: None,
        payer: None,
        result_code: None,
        result_description: None,
        raw_payload: None,
        idempotency_key: None,
        checks: 0,
        next_check_at: None,
        needs_review: false,
        created_at: T0,
        updated_at: T0,
    }
}

pub(crate) fn result(
    status: PaymentStatus,
    amount: Option<Decimal>,
    receipt: Option<&str>,
) -> PaymentResult {
    PaymentResult {
        result: ProviderResult {
            amount: amount.map(kes),
            receipt: receipt.map(|r| Receipt::parse(r).unwrap()),
            ..ProviderResult::with_status(status)
        },
        actor: Actor::Provider("testpay".into()),
        at: T0 + time::Duration::minutes(1),
    }
}
