//! Rows to domain values and back: the column lists, and the names stored for enums.
//!
//! Everything read is parsed back through the domain's own constructors (`Money::new`,
//! `Msisdn::parse`, …), so a value the domain would refuse never leaves the store.

use std::str::FromStr;

use pochi_core::{
    Actor, County, Currency, IdempotencyKey, ImageRef, Money, Msisdn, Order, OrderLine,
    OrderNumber, OrderStatus, Payment, PaymentId, PaymentKind, PaymentReview, PaymentStatus,
    Product, ProductId, Receipt, ReviewId, StockAdjustment, TimelineEntry,
    ids::AdjustmentId,
    order::{Customer, Delivery, PaymentFlag, PaymentFlagKind},
};
use rust_decimal::Decimal;
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Type};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    SqlStore,
    dialect::{Dialect, Row},
    error::{DbError, DbResult, corrupt},
};

pub(crate) const PRODUCT_COLUMNS: &str = "id, name, description, currency, price, stock, max_per_order, image, active, created_at, \
     updated_at, version";

pub(crate) const ADJUSTMENT_COLUMNS: &str =
    "id, product_id, delta, reason, stock_after, admin_name, at, idempotency_key";

pub(crate) const ORDER_COLUMNS: &str = "number, status, customer_name, phone, county, area, \
     address, notes, currency, subtotal, delivery_fee, total, flag_kind, flag_expected, \
     flag_received, created_at, updated_at, paid_at, language";

pub(crate) const LINE_COLUMNS: &str =
    "order_number, position, product_id, name, currency, unit_price, quantity, line_total";

pub(crate) const TIMELINE_COLUMNS: &str =
    "order_number, position, at, status, note, actor_kind, actor_name, for_customer";

pub(crate) const PAYMENT_COLUMNS: &str = "id, order_number, provider, kind, currency, amount, \
     phone, status, provider_reference, receipt, payer, result_code, result_description, \
     raw_payload, idempotency_key, checks, next_check_at, needs_review, created_at, updated_at";

/// The review columns; `reason` is JSON, read as text.
pub(crate) fn review_columns<D: Dialect>() -> String {
    format!(
        "id, at, provider, reason{} AS reason, payment_id, order_number, reference, receipt, \
         currency, amount, account_reference, raw_payload, resolution",
        D::JSON_AS_TEXT
    )
}

pub(crate) fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

pub(crate) fn flag_kind_name(kind: PaymentFlagKind) -> &'static str {
    match kind {
        PaymentFlagKind::ShortPayment => "short_payment",
        PaymentFlagKind::OverPayment => "over_payment",
        PaymentFlagKind::PaidAfterCancellation => "paid_after_cancellation",
    }
}

pub(crate) fn actor_parts(actor: &Actor) -> (&'static str, Option<&str>) {
    match actor {
        Actor::Customer => ("customer", None),
        Actor::Admin(name) => ("admin", Some(name)),
        Actor::Provider(name) => ("provider", Some(name)),
        Actor::System => ("system", None),
    }
}

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut <D::Db as Database>::Connection: Executor<'c, Database = D::Db>,
    for<'q> <D::Db as Database>::Arguments<'q>: IntoArguments<'q, D::Db>,
    for<'q> &'q str: Encode<'q, D::Db> + Type<D::Db>,
    String: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    i64: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    i32: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    i16: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    bool: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    Date: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    for<'q> Option<&'q str>: Encode<'q, D::Db>,
    Option<i64>: for<'q> Encode<'q, D::Db>,
    Option<D::Amount>: for<'q> Encode<'q, D::Db>,
    Option<D::Time>: for<'q> Encode<'q, D::Db>,
    Option<D::Id>: for<'q> Encode<'q, D::Db>,
{
    /// A column's value, decoded as the dialect decodes.
    pub(crate) fn get<'r, T>(row: &'r Row<D>, column: &str) -> DbResult<T, D>
    where
        T: Decode<'r, D::Db> + Type<D::Db>,
    {
        D::get(row, column).map_err(DbError::from)
    }

    pub(crate) fn currency(code: &str) -> DbResult<Currency, D> {
        Currency::from_str(code.trim()).map_err(|e| corrupt("currency", e))
    }

    pub(crate) fn money(amount: Decimal, currency: Currency) -> DbResult<Money, D> {
        Money::new(amount, currency).map_err(|e| corrupt("amount", e))
    }

    /// `money` as the dialect keeps it.
    pub(crate) fn stored(money: Money) -> D::Amount {
        D::amount(money.amount(), money.currency())
    }

    /// An amount of `currency` as a decimal, from the dialect's column.
    pub(crate) fn decimal_at(
        row: &Row<D>,
        column: &str,
        currency: Currency,
    ) -> DbResult<Decimal, D> {
        D::decimal(Self::get(row, column)?, currency).map_err(|e| corrupt("amount", e))
    }

    /// An amount of `currency`, from the dialect's column.
    pub(crate) fn money_at(row: &Row<D>, column: &str, currency: Currency) -> DbResult<Money, D> {
        Self::money(Self::decimal_at(row, column, currency)?, currency)
    }

    /// A time, from the dialect's column.
    pub(crate) fn time_at(row: &Row<D>, column: &str) -> DbResult<OffsetDateTime, D> {
        D::offset_date_time(Self::get(row, column)?).map_err(|e| corrupt("time", e))
    }

    /// A time or none, from the dialect's column.
    pub(crate) fn opt_time_at(row: &Row<D>, column: &str) -> DbResult<Option<OffsetDateTime>, D> {
        Self::get::<Option<D::Time>>(row, column)?
            .map(|t| D::offset_date_time(t).map_err(|e| corrupt("time", e)))
            .transpose()
    }

    /// An id, from the dialect's column.
    pub(crate) fn uuid_at(row: &Row<D>, column: &str) -> DbResult<Uuid, D> {
        D::uuid(Self::get(row, column)?).map_err(|e| corrupt("id", e))
    }

    /// An id or none, from the dialect's column.
    pub(crate) fn opt_uuid_at(row: &Row<D>, column: &str) -> DbResult<Option<Uuid>, D> {
        Self::get::<Option<D::Id>>(row, column)?
            .map(|id| D::uuid(id).map_err(|e| corrupt("id", e)))
            .transpose()
    }

    /// A count stored as BIGINT (stock, quantities, checks) back to the domain's `u32`.
    pub(crate) fn count(value: i64) -> DbResult<u32, D> {
        u32::try_from(value).map_err(|e| corrupt("count", e))
    }

    fn order_number(text: &str) -> DbResult<OrderNumber, D> {
        OrderNumber::parse(text).map_err(|e| corrupt("order number", e))
    }

    pub(crate) fn order_status(text: &str) -> DbResult<OrderStatus, D> {
        OrderStatus::parse(text).map_err(|e| corrupt("order status", e))
    }

    fn flag_kind(text: &str) -> DbResult<PaymentFlagKind, D> {
        match text {
            "short_payment" => Ok(PaymentFlagKind::ShortPayment),
            "over_payment" => Ok(PaymentFlagKind::OverPayment),
            "paid_after_cancellation" => Ok(PaymentFlagKind::PaidAfterCancellation),
            other => Err(corrupt("payment flag", other)),
        }
    }

    pub(crate) fn actor(kind: &str, name: Option<String>) -> DbResult<Actor, D> {
        match (kind, name) {
            ("customer", _) => Ok(Actor::Customer),
            ("system", _) => Ok(Actor::System),
            ("admin", Some(name)) => Ok(Actor::Admin(name)),
            ("provider", Some(name)) => Ok(Actor::Provider(name)),
            (other, _) => Err(corrupt("actor", other)),
        }
    }

    /// Fails unless every amount is in `currency`: a row keeps one currency for all its
    /// amounts.
    pub(crate) fn same_currency(currency: Currency, amounts: &[Money]) -> DbResult<(), D> {
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

    pub(crate) fn product_row(row: &Row<D>) -> DbResult<Product, D> {
        let currency = Self::currency(&Self::get::<String>(row, "currency")?)?;
        Ok(Product {
            id: ProductId::from_uuid(Self::uuid_at(row, "id")?),
            name: Self::get(row, "name")?,
            description: Self::get(row, "description")?,
            price: Self::money_at(row, "price", currency)?,
            stock: Self::get::<Option<i64>>(row, "stock")?
                .map(Self::count)
                .transpose()?,
            max_per_order: Self::get::<Option<i64>>(row, "max_per_order")?
                .map(Self::count)
                .transpose()?,
            image: Self::get::<Option<String>>(row, "image")?
                .map(|image| ImageRef::parse(&image).map_err(|e| corrupt("image", e)))
                .transpose()?,
            active: Self::get(row, "active")?,
            created_at: Self::time_at(row, "created_at")?,
            updated_at: Self::time_at(row, "updated_at")?,
            version: Self::version_at(row)?,
        })
    }

    /// The `version` column of a product row.
    pub(crate) fn version_at(row: &Row<D>) -> DbResult<u64, D> {
        let version: i64 = Self::get(row, "version")?;
        u64::try_from(version).map_err(|e| corrupt("version", e))
    }

    /// A stock adjustment row.
    pub(crate) fn adjustment_row(row: &Row<D>) -> DbResult<StockAdjustment, D> {
        Ok(StockAdjustment {
            id: AdjustmentId::from_uuid(Self::uuid_at(row, "id")?),
            product_id: ProductId::from_uuid(Self::uuid_at(row, "product_id")?),
            delta: Self::get(row, "delta")?,
            reason: Self::get(row, "reason")?,
            stock_after: Self::count(Self::get(row, "stock_after")?)?,
            by: Self::get(row, "admin_name")?,
            at: Self::time_at(row, "at")?,
            idempotency_key: Self::get::<Option<String>>(row, "idempotency_key")?
                .map(|key| IdempotencyKey::parse(&key).map_err(|e| corrupt("idempotency key", e)))
                .transpose()?,
        })
    }

    /// An order row without its lines and timeline (see [`Self::line_row`] and [`Self::timeline_row`]).
    pub(crate) fn order_row(row: &Row<D>) -> DbResult<Order, D> {
        let currency = Self::currency(&Self::get::<String>(row, "currency")?)?;
        let flag = match Self::get::<Option<String>>(row, "flag_kind")? {
            None => None,
            Some(kind) => Some(PaymentFlag {
                kind: Self::flag_kind(&kind)?,
                expected: Self::money_at(row, "flag_expected", currency)?,
                received: Self::money_at(row, "flag_received", currency)?,
            }),
        };
        Ok(Order {
            number: Self::order_number(&Self::get::<String>(row, "number")?)?,
            status: Self::order_status(&Self::get::<String>(row, "status")?)?,
            customer: Customer {
                name: Self::get(row, "customer_name")?,
                phone: Msisdn::parse(&Self::get::<String>(row, "phone")?)
                    .map_err(|e| corrupt("phone", e))?,
            },
            delivery: Delivery {
                county: County::parse(&Self::get::<String>(row, "county")?)
                    .map_err(|e| corrupt("county", e))?,
                area: Self::get(row, "area")?,
                address: Self::get(row, "address")?,
                notes: Self::get(row, "notes")?,
            },
            lines: Vec::new(),
            subtotal: Self::money_at(row, "subtotal", currency)?,
            delivery_fee: Self::money_at(row, "delivery_fee", currency)?,
            total: Self::money_at(row, "total", currency)?,
            payment_flag: flag,
            timeline: Vec::new(),
            created_at: Self::time_at(row, "created_at")?,
            updated_at: Self::time_at(row, "updated_at")?,
            paid_at: Self::opt_time_at(row, "paid_at")?,
            language: Self::get::<String>(row, "language")?
                .parse()
                .map_err(|e| corrupt("language", e))?,
        })
    }

    /// A line row: the order it belongs to and the line.
    pub(crate) fn line_row(row: &Row<D>) -> DbResult<(String, OrderLine), D> {
        let currency = Self::currency(&Self::get::<String>(row, "currency")?)?;
        Ok((
            Self::get(row, "order_number")?,
            OrderLine {
                product_id: ProductId::from_uuid(Self::uuid_at(row, "product_id")?),
                name: Self::get(row, "name")?,
                unit_price: Self::money_at(row, "unit_price", currency)?,
                quantity: Self::count(Self::get(row, "quantity")?)?,
                line_total: Self::money_at(row, "line_total", currency)?,
            },
        ))
    }

    /// A timeline row: the order it belongs to and the entry.
    pub(crate) fn timeline_row(row: &Row<D>) -> DbResult<(String, TimelineEntry), D> {
        Ok((
            Self::get(row, "order_number")?,
            TimelineEntry {
                at: Self::time_at(row, "at")?,
                status: Self::order_status(&Self::get::<String>(row, "status")?)?,
                note: Self::get(row, "note")?,
                actor: Self::actor(
                    &Self::get::<String>(row, "actor_kind")?,
                    Self::get(row, "actor_name")?,
                )?,
                for_customer: Self::get(row, "for_customer")?,
            },
        ))
    }

    pub(crate) fn payment_row(row: &Row<D>) -> DbResult<Payment, D> {
        let currency = Self::currency(&Self::get::<String>(row, "currency")?)?;
        Ok(Payment {
            id: PaymentId::from_uuid(Self::uuid_at(row, "id")?),
            order_number: Self::order_number(&Self::get::<String>(row, "order_number")?)?,
            provider: Self::get(row, "provider")?,
            kind: PaymentKind::parse(&Self::get::<String>(row, "kind")?)
                .map_err(|e| corrupt("payment kind", e))?,
            amount: Self::money_at(row, "amount", currency)?,
            phone: Self::get::<Option<String>>(row, "phone")?
                .map(|p| Msisdn::parse(&p).map_err(|e| corrupt("phone", e)))
                .transpose()?,
            status: PaymentStatus::parse(&Self::get::<String>(row, "status")?)
                .map_err(|e| corrupt("payment status", e))?,
            provider_reference: Self::get(row, "provider_reference")?,
            receipt: Self::get::<Option<String>>(row, "receipt")?
                .map(|r| Receipt::parse(&r).map_err(|e| corrupt("receipt", e)))
                .transpose()?,
            payer: Self::get(row, "payer")?,
            result_code: Self::get(row, "result_code")?,
            result_description: Self::get(row, "result_description")?,
            raw_payload: Self::get(row, "raw_payload")?,
            idempotency_key: Self::get::<Option<String>>(row, "idempotency_key")?
                .map(|k| IdempotencyKey::parse(&k).map_err(|e| corrupt("idempotency key", e)))
                .transpose()?,
            checks: Self::count(Self::get(row, "checks")?)?,
            next_check_at: Self::opt_time_at(row, "next_check_at")?,
            needs_review: Self::get(row, "needs_review")?,
            created_at: Self::time_at(row, "created_at")?,
            updated_at: Self::time_at(row, "updated_at")?,
        })
    }

    pub(crate) fn review_row(row: &Row<D>) -> DbResult<PaymentReview, D> {
        let amount = match Self::get::<Option<String>>(row, "currency")? {
            Some(code) => Some(Self::money_at(row, "amount", Self::currency(&code)?)?),
            None => None,
        };
        let reason: String = Self::get(row, "reason")?;
        Ok(PaymentReview {
            id: ReviewId::from_uuid(Self::uuid_at(row, "id")?),
            at: Self::time_at(row, "at")?,
            provider: Self::get(row, "provider")?,
            reason: serde_json::from_str(&reason).map_err(|e| corrupt("review reason", e))?,
            payment_id: Self::opt_uuid_at(row, "payment_id")?.map(PaymentId::from_uuid),
            order_number: Self::get::<Option<String>>(row, "order_number")?
                .map(|n| Self::order_number(&n))
                .transpose()?,
            reference: Self::get(row, "reference")?,
            receipt: Self::get(row, "receipt")?,
            amount,
            account_reference: Self::get(row, "account_reference")?,
            raw_payload: Self::get(row, "raw_payload")?,
            resolution: Self::get::<Option<String>>(row, "resolution")?
                .map(|json| {
                    serde_json::from_str(&json).map_err(|e| corrupt("review resolution", e))
                })
                .transpose()?,
        })
    }
}
