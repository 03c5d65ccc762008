//! Rows to domain values and back: the column lists, and the names stored for enums.
//!
//! Everything read is parsed back through the domain's own constructors (`Money::new`,
//! `Msisdn::parse`, …), so a value the domain would refuse never leaves the store.

use std::str::FromStr;

use pochi_core::{
    Actor, County, Currency, IdempotencyKey, ImageRef, Money, Msisdn, Order, OrderLine,
    OrderNumber, OrderStatus, Payment, PaymentId, PaymentKind, PaymentReview, PaymentStatus,
    Product, ProductId, Receipt, ReviewId, TimelineEntry,
    order::{Customer, Delivery, PaymentFlag, PaymentFlagKind},
};
use rust_decimal::Decimal;
use sqlx::{Row, postgres::PgRow};
use uuid::Uuid;

use crate::error::{DbError, DbResult, corrupt};

pub(crate) const PRODUCT_COLUMNS: &str =
    "id, name, description, currency, price, stock, image, active, created_at, updated_at";

pub(crate) const ORDER_COLUMNS: &str = "number, status, customer_name, phone, county, area, \
     address, notes, currency, subtotal, delivery_fee, total, flag_kind, flag_expected, \
     flag_received, created_at, updated_at, paid_at";

pub(crate) const LINE_COLUMNS: &str =
    "order_number, position, product_id, name, currency, unit_price, quantity, line_total";

pub(crate) const TIMELINE_COLUMNS: &str =
    "order_number, position, at, status, note, actor_kind, actor_name";

pub(crate) const PAYMENT_COLUMNS: &str = "id, order_number, provider, kind, currency, amount, \
     phone, status, provider_reference, receipt, payer, result_code, result_description, \
     raw_payload, idempotency_key, checks, next_check_at, needs_review, created_at, updated_at";

pub(crate) const REVIEW_COLUMNS: &str = "id, at, provider, reason::text AS reason, payment_id, \
     order_number, reference, receipt, currency, amount, account_reference, raw_payload";

fn get<'r, T>(row: &'r PgRow, column: &str) -> DbResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(column).map_err(DbError::from)
}

pub(crate) fn currency(code: &str) -> DbResult<Currency> {
    Currency::from_str(code.trim()).map_err(|e| corrupt("currency", e))
}

pub(crate) fn money(amount: Decimal, currency: Currency) -> DbResult<Money> {
    Money::new(amount, currency).map_err(|e| corrupt("amount", e))
}

/// A count stored as BIGINT (stock, quantities, checks) back to the domain's `u32`.
pub(crate) fn count(value: i64) -> DbResult<u32> {
    u32::try_from(value).map_err(|e| corrupt("count", e))
}

/// A limit for SQL.
pub(crate) fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

pub(crate) fn product(row: &PgRow) -> DbResult<Product> {
    let currency = currency(&get::<String>(row, "currency")?)?;
    Ok(Product {
        id: ProductId::from_uuid(get(row, "id")?),
        name: get(row, "name")?,
        description: get(row, "description")?,
        price: money(get(row, "price")?, currency)?,
        stock: get::<Option<i64>>(row, "stock")?.map(count).transpose()?,
        image: get::<Option<String>>(row, "image")?
            .map(|image| ImageRef::parse(&image).map_err(|e| corrupt("image", e)))
            .transpose()?,
        active: get(row, "active")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(crate) fn order_number(text: &str) -> DbResult<OrderNumber> {
    OrderNumber::parse(text).map_err(|e| corrupt("order number", e))
}

fn order_status(text: &str) -> DbResult<OrderStatus> {
    OrderStatus::parse(text).map_err(|e| corrupt("order status", e))
}

pub(crate) fn flag_kind_name(kind: PaymentFlagKind) -> &'static str {
    match kind {
        PaymentFlagKind::ShortPayment => "short_payment",
        PaymentFlagKind::OverPayment => "over_payment",
        PaymentFlagKind::PaidAfterCancellation => "paid_after_cancellation",
    }
}

fn flag_kind(text: &str) -> DbResult<PaymentFlagKind> {
    match text {
        "short_payment" => Ok(PaymentFlagKind::ShortPayment),
        "over_payment" => Ok(PaymentFlagKind::OverPayment),
        "paid_after_cancellation" => Ok(PaymentFlagKind::PaidAfterCancellation),
        other => Err(corrupt("payment flag", other)),
    }
}

/// An order row without its lines and timeline (see [`line`] and [`timeline_entry`]).
pub(crate) fn order(row: &PgRow) -> DbResult<Order> {
    let currency = currency(&get::<String>(row, "currency")?)?;
    let flag = match get::<Option<String>>(row, "flag_kind")? {
        None => None,
        Some(kind) => Some(PaymentFlag {
            kind: flag_kind(&kind)?,
            expected: money(get(row, "flag_expected")?, currency)?,
            received: money(get(row, "flag_received")?, currency)?,
        }),
    };
    Ok(Order {
        number: order_number(&get::<String>(row, "number")?)?,
        status: order_status(&get::<String>(row, "status")?)?,
        customer: Customer {
            name: get(row, "customer_name")?,
            phone: Msisdn::parse(&get::<String>(row, "phone")?).map_err(|e| corrupt("phone", e))?,
        },
        delivery: Delivery {
            county: County::parse(&get::<String>(row, "county")?)
                .map_err(|e| corrupt("county", e))?,
            area: get(row, "area")?,
            address: get(row, "address")?,
            notes: get(row, "notes")?,
        },
        lines: Vec::new(),
        subtotal: money(get(row, "subtotal")?, currency)?,
        delivery_fee: money(get(row, "delivery_fee")?, currency)?,
        total: money(get(row, "total")?, currency)?,
        payment_flag: flag,
        timeline: Vec::new(),
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        paid_at: get(row, "paid_at")?,
    })
}

/// A line row: the order it belongs to and the line.
pub(crate) fn line(row: &PgRow) -> DbResult<(String, OrderLine)> {
    let currency = currency(&get::<String>(row, "currency")?)?;
    Ok((
        get(row, "order_number")?,
        OrderLine {
            product_id: ProductId::from_uuid(get(row, "product_id")?),
            name: get(row, "name")?,
            unit_price: money(get(row, "unit_price")?, currency)?,
            quantity: count(get(row, "quantity")?)?,
            line_total: money(get(row, "line_total")?, currency)?,
        },
    ))
}

pub(crate) fn actor_parts(actor: &Actor) -> (&'static str, Option<&str>) {
    match actor {
        Actor::Customer => ("customer", None),
        Actor::Admin(name) => ("admin", Some(name)),
        Actor::Provider(name) => ("provider", Some(name)),
        Actor::System => ("system", None),
    }
}

fn actor(kind: &str, name: Option<String>) -> DbResult<Actor> {
    match (kind, name) {
        ("customer", _) => Ok(Actor::Customer),
        ("system", _) => Ok(Actor::System),
        ("admin", Some(name)) => Ok(Actor::Admin(name)),
        ("provider", Some(name)) => Ok(Actor::Provider(name)),
        (other, _) => Err(corrupt("actor", other)),
    }
}

/// A timeline row: the order it belongs to and the entry.
pub(crate) fn timeline_entry(row: &PgRow) -> DbResult<(String, TimelineEntry)> {
    Ok((
        get(row, "order_number")?,
        TimelineEntry {
            at: get(row, "at")?,
            status: order_status(&get::<String>(row, "status")?)?,
            note: get(row, "note")?,
            actor: actor(&get::<String>(row, "actor_kind")?, get(row, "actor_name")?)?,
        },
    ))
}

pub(crate) fn payment(row: &PgRow) -> DbResult<Payment> {
    let currency = currency(&get::<String>(row, "currency")?)?;
    Ok(Payment {
        id: PaymentId::from_uuid(get(row, "id")?),
        order_number: order_number(&get::<String>(row, "order_number")?)?,
        provider: get(row, "provider")?,
        kind: PaymentKind::parse(&get::<String>(row, "kind")?)
            .map_err(|e| corrupt("payment kind", e))?,
        amount: money(get(row, "amount")?, currency)?,
        phone: get::<Option<String>>(row, "phone")?
            .map(|p| Msisdn::parse(&p).map_err(|e| corrupt("phone", e)))
            .transpose()?,
        status: PaymentStatus::parse(&get::<String>(row, "status")?)
            .map_err(|e| corrupt("payment status", e))?,
        provider_reference: get(row, "provider_reference")?,
        receipt: get::<Option<String>>(row, "receipt")?
            .map(|r| Receipt::parse(&r).map_err(|e| corrupt("receipt", e)))
            .transpose()?,
        payer: get(row, "payer")?,
        result_code: get(row, "result_code")?,
        result_description: get(row, "result_description")?,
        raw_payload: get(row, "raw_payload")?,
        idempotency_key: get::<Option<String>>(row, "idempotency_key")?
            .map(|k| IdempotencyKey::parse(&k).map_err(|e| corrupt("idempotency key", e)))
            .transpose()?,
        checks: count(get(row, "checks")?)?,
        next_check_at: get(row, "next_check_at")?,
        needs_review: get(row, "needs_review")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(crate) fn review(row: &PgRow) -> DbResult<PaymentReview> {
    let amount = match get::<Option<String>>(row, "currency")? {
        Some(code) => Some(money(get(row, "amount")?, currency(&code)?)?),
        None => None,
    };
    let reason: String = get(row, "reason")?;
    Ok(PaymentReview {
        id: ReviewId::from_uuid(get(row, "id")?),
        at: get(row, "at")?,
        provider: get(row, "provider")?,
        reason: serde_json::from_str(&reason).map_err(|e| corrupt("review reason", e))?,
        payment_id: get::<Option<Uuid>>(row, "payment_id")?.map(PaymentId::from_uuid),
        order_number: get::<Option<String>>(row, "order_number")?
            .map(|n| order_number(&n))
            .transpose()?,
        reference: get(row, "reference")?,
        receipt: get(row, "receipt")?,
        amount,
        account_reference: get(row, "account_reference")?,
        raw_payload: get(row, "raw_payload")?,
    })
}

/// Fails unless every amount is in `currency`: a row keeps one currency for all its amounts.
pub(crate) fn same_currency(currency: Currency, amounts: &[Money]) -> DbResult<()> {
    match amounts.iter().find(|m| m.currency() != currency) {
        None => Ok(()),
        Some(other) => Err(DbError::Core(pochi_core::Error::invalid(
            "currency",
            format!(
                "mixes {} and {}: a record keeps all its amounts in one currency",
                currency,
                other.currency()
            ),
        ))),
    }
}
