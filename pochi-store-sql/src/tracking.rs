//! The tracking read: an order with its lines, timeline and payment receipts in one statement.
//!
//! The statement is a `UNION ALL` of typed rows, ordered: the order row (`part` 0), then its
//! lines (`part` 1) and its timeline entries (`part` 2), each by position, then its payments
//! that went through or wait for the shop (`part` 3: the payment's status in the `status`
//! column, its receipt in `note`, its creation time in `at`), then its refunds (`part` 4: the
//! refund's status, currency and amount in the order's `status`, `currency` and `total`
//! columns, its reference in `note`, when it became owed in `at`). Every row has every column (what
//! is not its own is `NULL`), so each is decoded by the same row functions as
//! [`Store::order`](pochi_core::Store::order) uses, and the view is
//! [`TrackedOrder::of`] that order and its payments: money, times and masking are exactly the
//! old path's, with no JSON in between (whose numbers and times each database writes its own
//! way). Each part reads an index that leads with the order number (the primary keys of the
//! order, line and timeline tables; `payments_by_order`).

use pochi_core::{
    OrderNumber, PayOnDelivery, Receipt, RefundStatus, Result, TrackedOrder,
    tracking::TrackedRefund,
};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Type};
use time::Date;

use crate::{
    SqlStore,
    dialect::{Dialect, Row, sql},
    error::{DbResult, corrupt, from_sqlx},
    rows::ORDER_COLUMNS,
};

/// How many times the [`tracking_statement`] binds the order number: once per part.
pub const TRACKING_STATEMENT_BINDS: usize = 5;

/// The single statement the tracking read ([`Store::tracked_order`](pochi_core::Store::tracked_order))
/// issues, as dialect `D` writes it; for benchmarks, which issue it directly for the raw
/// ceiling of `GET /api/track/:id`.
///
/// Bind the order number as text [`TRACKING_STATEMENT_BINDS`] times (each placeholder, in
/// order, is the same number). It returns no row for an unknown number; otherwise the order
/// row first, then the lines and timeline entries in position order.
pub fn tracking_statement<D: Dialect>() -> String {
    let order_columns = ORDER_COLUMNS
        .split(',')
        .map(|column| format!("o.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    // The order columns that lines and timeline entries do not have (a line has its currency,
    // an entry its status).
    let order_nulls = |own: &str| {
        ORDER_COLUMNS
            .split(',')
            .map(|column| {
                let column = column.trim();
                if column == own { column } else { "NULL" }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    // The first part gives every column its type: PostgreSQL types a UNION's columns pair by
    // pair, and a column that is NULL in the first two parts would become text. The line and
    // timeline columns of the order row come from joins that match nothing (positions start
    // at 0) at the cost of an empty index range.
    let statement = format!(
        "SELECT CAST(0 AS {bigint}) AS part, o.number AS order_number, 0 AS position, \
         {order_columns}, \
         l.product_id, l.name, l.unit_price, l.quantity, l.line_total, \
         t.at, t.note, t.actor_kind, t.actor_name, t.for_customer \
         FROM orders o \
         LEFT JOIN order_lines l ON l.order_number = o.number AND l.position < 0 \
         LEFT JOIN order_timeline t ON t.order_number = o.number AND t.position < 0 \
         WHERE o.number = ? \
         UNION ALL \
         SELECT 1, order_number, position, {line_order}, \
         product_id, name, unit_price, quantity, line_total, NULL, NULL, NULL, NULL, NULL \
         FROM order_lines WHERE order_number = ? \
         UNION ALL \
         SELECT 2, order_number, position, {entry_order}, \
         NULL, NULL, NULL, NULL, NULL, at, note, actor_kind, actor_name, for_customer \
         FROM order_timeline WHERE order_number = ? \
         UNION ALL \
         SELECT 3, order_number, 0, {payment_order}, \
         NULL, NULL, NULL, NULL, NULL, created_at, receipt, NULL, provider, NULL \
         FROM payments WHERE order_number = ? AND ((status = 'succeeded' \
         AND receipt IS NOT NULL) OR status = 'pending_verification') \
         UNION ALL \
         SELECT 4, order_number, 0, {refund_order}, \
         NULL, NULL, NULL, NULL, NULL, created_at, reference, NULL, NULL, NULL \
         FROM refunds WHERE order_number = ? \
         ORDER BY part, position",
        bigint = D::BIGINT,
        line_order = order_nulls("currency"),
        entry_order = order_nulls("status"),
        payment_order = order_nulls("status"),
        refund_order = ORDER_COLUMNS
            .split(',')
            .map(|column| match column.trim() {
                own @ ("status" | "currency") => own,
                "total" => "amount",
                _ => "NULL",
            })
            .collect::<Vec<_>>()
            .join(", "),
    );
    sql::<D>(&statement).into_owned()
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
    pub(crate) async fn tracked_order(&self, number: &OrderNumber) -> Result<Option<TrackedOrder>> {
        let number = number.as_str();
        let mut query = sqlx::query(&self.tracking);
        for _ in 0..TRACKING_STATEMENT_BINDS {
            query = query.bind(number);
        }
        // One statement sees one snapshot of the order, its lines and its timeline: no
        // transaction is needed around it (unlike `order`, which reads them in three).
        let rows = query.fetch_all(&self.pool).await.map_err(from_sqlx::<D>)?;
        Ok(Self::tracked_rows(&rows)?)
    }

    /// The view from the statement's rows: the order row first, then its lines and entries.
    fn tracked_rows(rows: &[Row<D>]) -> DbResult<Option<TrackedOrder>, D> {
        let mut order = None;
        let mut receipts = Vec::new();
        let mut awaiting_verification = false;
        let mut paying_on_delivery = false;
        let mut refunds = Vec::new();
        for row in rows {
            match (Self::get::<i64>(row, "part")?, &mut order) {
                (0, None) => order = Some(Self::order_row(row)?),
                (1, Some(order)) => order.lines.push(Self::line_row(row)?.1),
                (2, Some(order)) => order.timeline.push(Self::timeline_row(row)?.1),
                // A payment that went through (its receipt), or one waiting for the shop.
                (3, Some(_)) => match Self::get::<Option<String>>(row, "note")? {
                    Some(receipt) if Self::get::<String>(row, "status")? == "succeeded" => {
                        let receipt =
                            Receipt::parse(&receipt).map_err(|e| corrupt("payment receipt", e))?;
                        receipts.push((Self::time_at(row, "at")?, receipt));
                    }
                    // Waiting: cash on delivery (by its provider, in `actor_name`), or a code.
                    _ if Self::get::<Option<String>>(row, "actor_name")?.as_deref()
                        == Some(PayOnDelivery::NAME) =>
                    {
                        paying_on_delivery = true;
                    }
                    _ => awaiting_verification = true,
                },
                // A refund: its status, currency and amount in the order's columns, its
                // reference in `note`, when it became owed in `at`.
                (4, Some(_)) => {
                    let currency = Self::currency(&Self::get::<String>(row, "currency")?)?;
                    refunds.push(TrackedRefund {
                        amount: Self::money_at(row, "total", currency)?,
                        status: RefundStatus::parse(&Self::get::<String>(row, "status")?)
                            .map_err(|e| corrupt("refund status", e))?
                            .as_customer_sees(),
                        reference: Self::get(row, "note")?,
                        created_at: Self::time_at(row, "at")?,
                    });
                }
                (part, _) => return Err(corrupt("tracking row", part)),
            }
        }
        // Oldest first, as `TrackedOrder::of` orders them.
        receipts.sort();
        refunds.sort_by(TrackedRefund::order);
        Ok(order.as_ref().map(|order| TrackedOrder {
            receipts: receipts.into_iter().map(|(_, receipt)| receipt).collect(),
            awaiting_verification,
            paying_on_delivery,
            refunds,
            ..TrackedOrder::from(order)
        }))
    }
}
