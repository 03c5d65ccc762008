//! Payment attempts and reviews: inserting them, settling results through
//! `pochi_core::payment::settle`, and the reconciliation queue.

use pochi_core::store::Settlement;
use pochi_core::{
    ConflictReason, Entity, Error, Msisdn, OrderNumber, Payment, PaymentId, PaymentKind,
    PaymentResult, PaymentReview, PaymentStatus, PaymentTarget, Receipt, ReviewId, Settled,
    order::IdempotencyKey,
    page::ReviewKey,
    payment::{PaymentCheck, Unchanged, settle},
    store::{PaymentInsert, verdict},
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, sqlite::SqliteRow};
use time::OffsetDateTime;

use crate::{
    codec::{Columns, count, json, micros},
    error::Failure,
    orders,
};

macro_rules! payment_columns {
    () => {
        "id, order_number, provider, kind, currency, amount_minor, phone, status, \
         provider_reference, receipt, payer, result_code, result_description, raw_payload, \
         idempotency_key, checks, next_check_at, needs_review, created_at, updated_at"
    };
}

fn payment_from_row(row: &SqliteRow) -> Result<Payment, Failure> {
    let c = Columns(row);
    let currency = c.currency("currency")?;
    Ok(Payment {
        id: PaymentId::from_uuid(c.uuid("id")?),
        order_number: c.parsed("order_number", OrderNumber::parse)?,
        provider: c.text("provider")?,
        kind: c.parsed("kind", PaymentKind::parse)?,
        amount: c.money("amount_minor", currency)?,
        phone: c.opt_parsed("phone", Msisdn::parse)?,
        status: c.parsed("status", PaymentStatus::parse)?,
        provider_reference: c.opt_text("provider_reference")?,
        receipt: c.opt_parsed("receipt", Receipt::parse)?,
        payer: c.opt_text("payer")?,
        result_code: c.opt_text("result_code")?,
        result_description: c.opt_text("result_description")?,
        raw_payload: c.opt_text("raw_payload")?,
        idempotency_key: c.opt_parsed("idempotency_key", IdempotencyKey::parse)?,
        checks: c.u32("checks")?,
        next_check_at: c.opt_time("next_check_at")?,
        needs_review: c.flag("needs_review")?,
        created_at: c.time("created_at")?,
        updated_at: c.time("updated_at")?,
    })
}

/// Inserts `payment`, or replaces the stored attempt with the same id.
async fn write(conn: &mut SqliteConnection, payment: &Payment) -> Result<(), Failure> {
    sqlx::query(concat!(
        "INSERT INTO payments (",
        payment_columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET order_number = excluded.order_number, \
         provider = excluded.provider, kind = excluded.kind, currency = excluded.currency, \
         amount_minor = excluded.amount_minor, phone = excluded.phone, \
         status = excluded.status, provider_reference = excluded.provider_reference, \
         receipt = excluded.receipt, payer = excluded.payer, \
         result_code = excluded.result_code, result_description = excluded.result_description, \
         raw_payload = excluded.raw_payload, idempotency_key = excluded.idempotency_key, \
         checks = excluded.checks, next_check_at = excluded.next_check_at, \
         needs_review = excluded.needs_review, created_at = excluded.created_at, \
         updated_at = excluded.updated_at"
    ))
    .bind(payment.id.to_string())
    .bind(payment.order_number.as_str())
    .bind(&payment.provider)
    .bind(payment.kind.as_str())
    .bind(payment.amount.currency().code())
    .bind(payment.amount.to_minor())
    .bind(payment.phone.as_ref().map(Msisdn::as_str))
    .bind(payment.status.as_str())
    .bind(payment.provider_reference.as_deref())
    .bind(payment.receipt.as_ref().map(Receipt::as_str))
    .bind(payment.payer.as_deref())
    .bind(payment.result_code.as_deref())
    .bind(payment.result_description.as_deref())
    .bind(payment.raw_payload.as_deref())
    .bind(payment.idempotency_key.as_ref().map(IdempotencyKey::as_str))
    .bind(i64::from(payment.checks))
    .bind(payment.next_check_at.map(micros))
    .bind(payment.needs_review)
    .bind(micros(payment.created_at))
    .bind(micros(payment.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn find(
    conn: &mut SqliteConnection,
    id: PaymentId,
) -> Result<Option<Payment>, Failure> {
    let row = sqlx::query(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE id = ?"
    ))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(payment_from_row).transpose()
}

pub(crate) async fn find_by_reference(
    conn: &mut SqliteConnection,
    provider: &str,
    reference: &str,
) -> Result<Option<Payment>, Failure> {
    let row = sqlx::query(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE provider = ? AND provider_reference = ?"
    ))
    .bind(provider)
    .bind(reference)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(payment_from_row).transpose()
}

/// An order's attempts, oldest first.
pub(crate) async fn of_order(
    conn: &mut SqliteConnection,
    number: &OrderNumber,
) -> Result<Vec<Payment>, Failure> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE order_number = ? ORDER BY created_at, id"
    ))
    .bind(number.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter().map(payment_from_row).collect()
}

async fn exists(conn: &mut SqliteConnection, id: PaymentId) -> Result<bool, Failure> {
    let found: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM payments WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

fn already_exists(id: PaymentId) -> Failure {
    verdict::payment_exists(id).into()
}

/// Checks that `payment`'s receipt, if any, is on no other payment.
async fn check_receipt(conn: &mut SqliteConnection, payment: &Payment) -> Result<(), Failure> {
    let Some(receipt) = &payment.receipt else {
        return Ok(());
    };
    let holder: Option<(String,)> = sqlx::query_as("SELECT id FROM payments WHERE receipt = ?")
        .bind(receipt.as_str())
        .fetch_optional(conn)
        .await?;
    let holder = holder
        .map(|(id,)| PaymentId::parse(&id).map_err(|e| Failure::corrupt("id", e)))
        .transpose()?;
    verdict::check_receipt(payment, holder)?;
    Ok(())
}

pub(crate) async fn insert(
    conn: &mut SqliteConnection,
    payment: &Payment,
) -> Result<PaymentInsert, Failure> {
    let order: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM orders WHERE number = ?")
        .bind(payment.order_number.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    if order.is_none() {
        return Err(Error::not_found(Entity::Order, &payment.order_number).into());
    }
    if let Some(key) = &payment.idempotency_key {
        let row = sqlx::query(concat!(
            "SELECT ",
            payment_columns!(),
            " FROM payments WHERE order_number = ? AND idempotency_key = ?"
        ))
        .bind(payment.order_number.as_str())
        .bind(key.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return Ok(PaymentInsert::Existing(payment_from_row(&row)?));
        }
    }
    if exists(conn, payment.id).await? {
        return Err(already_exists(payment.id));
    }
    if let Some(reference) = &payment.provider_reference {
        if find_by_reference(conn, &payment.provider, reference)
            .await?
            .is_some()
        {
            return Err(verdict::reference_exists().into());
        }
    }
    check_receipt(conn, payment).await?;
    write(conn, payment).await?;
    Ok(PaymentInsert::Inserted(payment.clone()))
}

pub(crate) async fn mark_started(
    conn: &mut SqliteConnection,
    id: PaymentId,
    reference: Option<String>,
    status: PaymentStatus,
    at: OffsetDateTime,
) -> Result<Payment, Failure> {
    let payment = find(conn, id)
        .await?
        .ok_or_else(|| Error::not_found(Entity::Payment, id))?;
    let holder = match &reference {
        Some(reference) if payment.status == PaymentStatus::Pending => {
            find_by_reference(conn, &payment.provider, reference)
                .await?
                .map(|holder| holder.id)
        }
        _ => None,
    };
    let Some(started) = verdict::plan_started(&payment, reference.as_deref(), holder, status, at)?
    else {
        return Ok(payment);
    };
    write(conn, &started).await?;
    Ok(started)
}

pub(crate) async fn settle_target(
    conn: &mut SqliteConnection,
    target: &PaymentTarget,
    result: &PaymentResult,
) -> Result<Settled, Failure> {
    let payment = match target {
        PaymentTarget::Id(id) => find(conn, *id).await?,
        PaymentTarget::Reference {
            provider,
            reference,
        } => find_by_reference(conn, provider, reference).await?,
    }
    .ok_or_else(|| Error::not_found(Entity::Payment, target))?;
    apply_result(conn, &payment, result).await
}

pub(crate) async fn record_direct(
    conn: &mut SqliteConnection,
    payment: &Payment,
    result: &PaymentResult,
) -> Result<Settled, Failure> {
    if let Some(reference) = &payment.provider_reference {
        if let Some(existing) = find_by_reference(conn, &payment.provider, reference).await? {
            return Ok(Settled::Unchanged {
                payment: Box::new(existing),
                reason: Unchanged::Duplicate,
            });
        }
    }
    if exists(conn, payment.id).await? {
        return Err(already_exists(payment.id));
    }
    check_receipt(conn, payment).await?;
    // Nothing is kept of a refused payment: it is written only if the settlement applies
    // (the caller records the notice for review).
    apply_result(conn, payment, result).await
}

/// Settles `payment` (stored or not yet) against its order as read in this transaction, and
/// writes what [`settle`] decides.
async fn apply_result(
    conn: &mut SqliteConnection,
    payment: &Payment,
    result: &PaymentResult,
) -> Result<Settled, Failure> {
    let mut order = orders::find_required(conn, &payment.order_number).await?;
    let mut payments = of_order(conn, &payment.order_number).await?;
    payments.retain(|p| p.id != payment.id);
    payments.push(payment.clone());
    match settle(&order, &payments, payment, result)? {
        Settlement::Unchanged(reason) => Ok(Settled::Unchanged {
            payment: Box::new(payment.clone()),
            reason,
        }),
        Settlement::Quarantine(reason) => Ok(Settled::Quarantined {
            payment: Box::new(payment.clone()),
            reason,
        }),
        Settlement::Apply {
            payment,
            order: update,
        } => {
            check_receipt(conn, &payment).await?;
            write(conn, &payment).await?;
            if let Some(update) = update {
                orders::apply_update(conn, &mut order, &update).await?;
            }
            Ok(Settled::Applied {
                payment,
                order: Box::new(order),
            })
        }
    }
}

pub(crate) async fn due_for_check(
    conn: &mut SqliteConnection,
    now: OffsetDateTime,
    limit: usize,
) -> Result<Vec<Payment>, Failure> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE status = ? AND next_check_at <= ? \
         ORDER BY next_check_at, id LIMIT ?"
    ))
    .bind(PaymentStatus::Pending.as_str())
    .bind(micros(now))
    .bind(count(limit))
    .fetch_all(conn)
    .await?;
    rows.iter().map(payment_from_row).collect()
}

pub(crate) async fn schedule_check(
    conn: &mut SqliteConnection,
    id: PaymentId,
    check: &PaymentCheck,
) -> Result<(), Failure> {
    if !exists(conn, id).await? {
        return Err(Error::not_found(Entity::Payment, id).into());
    }
    sqlx::query(
        "UPDATE payments SET checks = ?, next_check_at = ?, \
         needs_review = (needs_review OR ?), updated_at = ? WHERE id = ? AND status = ?",
    )
    .bind(i64::from(check.checks))
    .bind(check.next_check_at.map(micros))
    .bind(check.needs_review)
    .bind(micros(check.at))
    .bind(id.to_string())
    .bind(PaymentStatus::Pending.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

fn review_from_row(row: &SqliteRow) -> Result<PaymentReview, Failure> {
    let c = Columns(row);
    let amount = match c.opt_int("amount_minor")? {
        Some(_) => Some(c.money("amount_minor", c.currency("currency")?)?),
        None => None,
    };
    Ok(PaymentReview {
        id: ReviewId::from_uuid(c.uuid("id")?),
        at: c.time("at")?,
        provider: c.text("provider")?,
        reason: c.json("reason")?,
        payment_id: c.opt_uuid("payment_id")?.map(PaymentId::from_uuid),
        order_number: c.opt_parsed("order_number", OrderNumber::parse)?,
        reference: c.opt_text("reference")?,
        receipt: c.opt_text("receipt")?,
        amount,
        account_reference: c.opt_text("account_reference")?,
        raw_payload: c.opt_text("raw_payload")?,
    })
}

macro_rules! review_columns {
    () => {
        "id, at, provider, reason, payment_id, order_number, reference, receipt, currency, \
         amount_minor, account_reference, raw_payload"
    };
}

pub(crate) async fn insert_review(
    conn: &mut SqliteConnection,
    review: &PaymentReview,
) -> Result<(), Failure> {
    let id = review.id.as_uuid().to_string();
    let found: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM payment_reviews WHERE id = ?")
        .bind(&id)
        .fetch_optional(&mut *conn)
        .await?;
    if found.is_some() {
        return Err(Error::conflict(
            ConflictReason::AlreadyExists,
            format!("review {id} already exists"),
        )
        .into());
    }
    sqlx::query(concat!(
        "INSERT INTO payment_reviews (",
        review_columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(&id)
    .bind(micros(review.at))
    .bind(&review.provider)
    .bind(json(&review.reason)?)
    .bind(review.payment_id.map(|p| p.to_string()))
    .bind(review.order_number.as_ref().map(OrderNumber::as_str))
    .bind(review.reference.as_deref())
    .bind(review.receipt.as_deref())
    .bind(review.amount.map(|a| a.currency().code()))
    .bind(review.amount.map(|a| a.to_minor()))
    .bind(review.account_reference.as_deref())
    .bind(review.raw_payload.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn list_reviews(
    conn: &mut SqliteConnection,
    after: Option<ReviewKey>,
    limit: usize,
) -> Result<Vec<PaymentReview>, Failure> {
    let mut query = QueryBuilder::<Sqlite>::new(concat!(
        "SELECT ",
        review_columns!(),
        " FROM payment_reviews"
    ));
    if let Some(after) = after {
        query
            .push(" WHERE (at, id) < (")
            .push_bind(micros(after.at))
            .push(", ")
            .push_bind(after.id.as_uuid().to_string())
            .push(")");
    }
    query
        .push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(count(limit));
    let rows = query.build().fetch_all(conn).await?;
    rows.iter().map(review_from_row).collect()
}
