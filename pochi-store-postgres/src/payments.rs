//! Payment attempts: inserting and starting them, applying results (settlement), direct
//! payments, the reconciliation queue and the review list.

use pochi_core::store::Settlement;
use pochi_core::{
    ConflictReason, Entity, Error, Order, OrderNumber, Payment, PaymentId, PaymentResult,
    PaymentStatus, PaymentTarget, Result, Settled,
    payment::{PaymentCheck, Unchanged, settle},
    store::PaymentInsert,
};
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::{DbResult, from_sqlx, retrying},
    orders::{load_order, write_move},
    rows::{self, PAYMENT_COLUMNS},
};

// ----- reading -----

async fn load_payment(conn: &mut PgConnection, id: Uuid, lock: bool) -> DbResult<Option<Payment>> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let row = sqlx::query(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(rows::payment).transpose()
}

async fn payments_of(conn: &mut PgConnection, number: &str) -> DbResult<Vec<Payment>> {
    let found = sqlx::query(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_number = $1 ORDER BY created_at, id"
    ))
    .bind(number)
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(rows::payment).collect()
}

async fn by_reference(
    conn: &mut PgConnection,
    provider: &str,
    reference: &str,
) -> DbResult<Option<Payment>> {
    let row = sqlx::query(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE provider = $1 AND provider_reference = $2"
    ))
    .bind(provider)
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(rows::payment).transpose()
}

pub(crate) async fn payment(pool: &PgPool, id: PaymentId) -> Result<Option<Payment>> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    Ok(load_payment(&mut conn, id.as_uuid(), false).await?)
}

pub(crate) async fn payment_by_reference(
    pool: &PgPool,
    provider: &str,
    reference: &str,
) -> Result<Option<Payment>> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    Ok(by_reference(&mut conn, provider, reference).await?)
}

pub(crate) async fn payments_for_order(
    pool: &PgPool,
    number: &OrderNumber,
) -> Result<Vec<Payment>> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    Ok(payments_of(&mut conn, number.as_str()).await?)
}

pub(crate) async fn payments_due_for_check(
    pool: &PgPool,
    now: OffsetDateTime,
    limit: usize,
) -> Result<Vec<Payment>> {
    let found = sqlx::query(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE status = $1 AND next_check_at <= $2 \
         ORDER BY next_check_at, id LIMIT $3"
    ))
    .bind(PaymentStatus::Pending.as_str())
    .bind(now)
    .bind(rows::limit(limit))
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    Ok(found.iter().map(rows::payment).collect::<DbResult<_>>()?)
}

// ----- writing -----

fn receipt_already_used() -> Error {
    Error::conflict(
        ConflictReason::ReceiptAlreadyUsed,
        "this transaction code is already recorded on another payment",
    )
}

fn reference_taken() -> Error {
    Error::conflict(
        ConflictReason::AlreadyExists,
        "another payment has this provider reference",
    )
}

/// Refuses a payment whose receipt is recorded on another payment.
async fn check_receipt(conn: &mut PgConnection, payment: &Payment) -> DbResult<()> {
    let Some(receipt) = &payment.receipt else {
        return Ok(());
    };
    let other: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM payments WHERE receipt = $1 AND id <> $2")
            .bind(receipt.as_str())
            .bind(payment.id.as_uuid())
            .fetch_optional(&mut *conn)
            .await?;
    match other {
        Some(_) => Err(receipt_already_used().into()),
        None => Ok(()),
    }
}

async fn exists(conn: &mut PgConnection, id: PaymentId) -> DbResult<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM payments WHERE id = $1)")
            .bind(id.as_uuid())
            .fetch_one(&mut *conn)
            .await?,
    )
}

async fn insert_row(conn: &mut PgConnection, p: &Payment) -> DbResult<()> {
    sqlx::query(&format!(
        "INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
    ))
    .bind(p.id.as_uuid())
    .bind(p.order_number.as_str())
    .bind(&p.provider)
    .bind(p.kind.as_str())
    .bind(p.amount.currency().code())
    .bind(p.amount.amount())
    .bind(p.phone.as_ref().map(|m| m.as_str()))
    .bind(p.status.as_str())
    .bind(p.provider_reference.as_deref())
    .bind(p.receipt.as_ref().map(|r| r.as_str()))
    .bind(p.payer.as_deref())
    .bind(p.result_code.as_deref())
    .bind(p.result_description.as_deref())
    .bind(p.raw_payload.as_deref())
    .bind(p.idempotency_key.as_ref().map(|k| k.as_str()))
    .bind(i64::from(p.checks))
    .bind(p.next_check_at)
    .bind(p.needs_review)
    .bind(p.created_at)
    .bind(p.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes every field a payment can change after it was inserted.
async fn update_row(conn: &mut PgConnection, p: &Payment) -> DbResult<()> {
    sqlx::query(
        "UPDATE payments SET status = $2, provider_reference = $3, receipt = $4, payer = $5, \
         result_code = $6, result_description = $7, raw_payload = $8, checks = $9, \
         next_check_at = $10, needs_review = $11, updated_at = $12 WHERE id = $1",
    )
    .bind(p.id.as_uuid())
    .bind(p.status.as_str())
    .bind(p.provider_reference.as_deref())
    .bind(p.receipt.as_ref().map(|r| r.as_str()))
    .bind(p.payer.as_deref())
    .bind(p.result_code.as_deref())
    .bind(p.result_description.as_deref())
    .bind(p.raw_payload.as_deref())
    .bind(i64::from(p.checks))
    .bind(p.next_check_at)
    .bind(p.needs_review)
    .bind(p.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_payment(pool: &PgPool, payment: &Payment) -> Result<PaymentInsert> {
    retrying(|| try_insert_payment(pool, payment)).await
}

async fn try_insert_payment(pool: &PgPool, payment: &Payment) -> DbResult<PaymentInsert> {
    let mut tx = pool.begin().await?;
    let order_exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM orders WHERE number = $1)")
            .bind(payment.order_number.as_str())
            .fetch_one(&mut *tx)
            .await?;
    if !order_exists {
        return Err(Error::not_found(Entity::Order, &payment.order_number).into());
    }
    if let Some(key) = &payment.idempotency_key {
        let existing = sqlx::query(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_number = $1 \
             AND idempotency_key = $2"
        ))
        .bind(payment.order_number.as_str())
        .bind(key.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(existing) = existing {
            return Ok(PaymentInsert::Existing(rows::payment(&existing)?));
        }
    }
    if exists(&mut tx, payment.id).await? {
        return Err(Error::conflict(
            ConflictReason::AlreadyExists,
            format!("payment {} already exists", payment.id),
        )
        .into());
    }
    if let Some(reference) = &payment.provider_reference {
        if by_reference(&mut tx, &payment.provider, reference)
            .await?
            .is_some()
        {
            return Err(Error::conflict(
                ConflictReason::AlreadyExists,
                "a payment with this provider reference exists",
            )
            .into());
        }
    }
    check_receipt(&mut tx, payment).await?;
    insert_row(&mut tx, payment).await?;
    tx.commit().await?;
    Ok(PaymentInsert::Inserted(payment.clone()))
}

pub(crate) async fn mark_payment_started(
    pool: &PgPool,
    id: PaymentId,
    reference: Option<String>,
    status: PaymentStatus,
    at: OffsetDateTime,
) -> Result<Payment> {
    retrying(|| try_mark_payment_started(pool, id, reference.as_deref(), status, at)).await
}

async fn try_mark_payment_started(
    pool: &PgPool,
    id: PaymentId,
    reference: Option<&str>,
    status: PaymentStatus,
    at: OffsetDateTime,
) -> DbResult<Payment> {
    let mut tx = pool.begin().await?;
    let payment = load_payment(&mut tx, id.as_uuid(), true)
        .await?
        .ok_or_else(|| Error::not_found(Entity::Payment, id))?;
    if payment.status != PaymentStatus::Pending {
        return Ok(payment);
    }
    if let Some(reference) = reference {
        let holder = by_reference(&mut tx, &payment.provider, reference).await?;
        if holder.is_some_and(|other| other.id != id) {
            return Err(reference_taken().into());
        }
    }
    let mut started = payment;
    if let Some(reference) = reference {
        started.provider_reference = Some(reference.to_owned());
    }
    started.status = status;
    started.updated_at = at;
    if status != PaymentStatus::Pending {
        started.next_check_at = None;
    }
    update_row(&mut tx, &started).await?;
    tx.commit().await?;
    Ok(started)
}

/// Runs [`settle`] on `payment` of the locked `order` and writes its outcome. `stored` says
/// whether the payment is already a row (an attempt) or new (a direct payment).
async fn settle_locked(
    conn: &mut PgConnection,
    mut order: Order,
    payment: Payment,
    result: &PaymentResult,
    stored: bool,
) -> DbResult<Settled> {
    let mut payments = payments_of(conn, order.number.as_str()).await?;
    payments.retain(|p| p.id != payment.id);
    payments.push(payment.clone());
    match settle(&order, &payments, &payment, result)? {
        Settlement::Unchanged(reason) => Ok(Settled::Unchanged {
            payment: Box::new(payment),
            reason,
        }),
        Settlement::Quarantine(reason) => Ok(Settled::Quarantined {
            payment: Box::new(payment),
            reason,
        }),
        Settlement::Apply {
            payment: updated,
            order: update,
        } => {
            check_receipt(conn, &updated).await?;
            if stored {
                update_row(conn, &updated).await?;
            } else {
                insert_row(conn, &updated).await?;
            }
            if let Some(update) = update {
                write_move(conn, &mut order, &update).await?;
            }
            Ok(Settled::Applied {
                payment: updated,
                order: Box::new(order),
            })
        }
    }
}

pub(crate) async fn settle_payment(
    pool: &PgPool,
    target: &PaymentTarget,
    result: &PaymentResult,
) -> Result<Settled> {
    retrying(|| try_settle_payment(pool, target, result)).await
}

async fn try_settle_payment(
    pool: &PgPool,
    target: &PaymentTarget,
    result: &PaymentResult,
) -> DbResult<Settled> {
    let mut tx = pool.begin().await?;
    let found = match target {
        PaymentTarget::Id(id) => {
            sqlx::query("SELECT id, order_number FROM payments WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(&mut *tx)
                .await?
        }
        PaymentTarget::Reference {
            provider,
            reference,
        } => {
            sqlx::query(
                "SELECT id, order_number FROM payments \
                 WHERE provider = $1 AND provider_reference = $2",
            )
            .bind(provider)
            .bind(reference)
            .fetch_optional(&mut *tx)
            .await?
        }
    };
    let Some(found) = found else {
        return Err(Error::not_found(Entity::Payment, target).into());
    };
    let id: Uuid = found.try_get("id")?;
    let number: String = found.try_get("order_number")?;
    // Lock order: the order, then its payment (as every settlement does).
    let order = load_order(&mut tx, &number, true)
        .await?
        .ok_or_else(|| Error::not_found(Entity::Order, &number))?;
    let payment = load_payment(&mut tx, id, true)
        .await?
        .ok_or_else(|| Error::not_found(Entity::Payment, target))?;
    let settled = settle_locked(&mut tx, order, payment, result, true).await?;
    if matches!(settled, Settled::Applied { .. }) {
        tx.commit().await?;
    }
    Ok(settled)
}

pub(crate) async fn record_direct_payment(
    pool: &PgPool,
    payment: &Payment,
    result: &PaymentResult,
) -> Result<Settled> {
    retrying(|| try_record_direct_payment(pool, payment, result)).await
}

async fn try_record_direct_payment(
    pool: &PgPool,
    payment: &Payment,
    result: &PaymentResult,
) -> DbResult<Settled> {
    let mut tx = pool.begin().await?;
    if let Some(reference) = &payment.provider_reference {
        if let Some(existing) = by_reference(&mut tx, &payment.provider, reference).await? {
            return Ok(Settled::Unchanged {
                payment: Box::new(existing),
                reason: Unchanged::Duplicate,
            });
        }
    }
    if exists(&mut tx, payment.id).await? {
        return Err(Error::conflict(
            ConflictReason::AlreadyExists,
            format!("payment {} already exists", payment.id),
        )
        .into());
    }
    check_receipt(&mut tx, payment).await?;
    let order = load_order(&mut tx, payment.order_number.as_str(), true)
        .await?
        .ok_or_else(|| Error::not_found(Entity::Order, &payment.order_number))?;
    // Nothing is kept of a refused payment (the caller records the notice for review).
    let settled = settle_locked(&mut tx, order, payment.clone(), result, false).await?;
    if matches!(settled, Settled::Applied { .. }) {
        tx.commit().await?;
    }
    Ok(settled)
}

pub(crate) async fn schedule_payment_check(
    pool: &PgPool,
    id: PaymentId,
    check: &PaymentCheck,
) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE payments SET checks = $2, next_check_at = $3, \
         needs_review = needs_review OR $4, updated_at = $5 WHERE id = $1 AND status = $6",
    )
    .bind(id.as_uuid())
    .bind(i64::from(check.checks))
    .bind(check.next_check_at)
    .bind(check.needs_review)
    .bind(check.at)
    .bind(PaymentStatus::Pending.as_str())
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    if updated.rows_affected() == 0 {
        let mut conn = pool.acquire().await.map_err(from_sqlx)?;
        if !exists(&mut conn, id).await? {
            return Err(Error::not_found(Entity::Payment, id));
        }
    }
    Ok(())
}
