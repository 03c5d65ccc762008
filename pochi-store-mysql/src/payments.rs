//! Payment attempts: inserting and starting them, applying results (settlement), direct
//! payments, the reconciliation queue and the review list.

use pochi_core::store::Settlement;
use pochi_core::{
    ConflictReason, Entity, Error, Order, OrderNumber, Payment, PaymentId, PaymentResult,
    PaymentStatus, PaymentTarget, Result, Settled,
    payment::{PaymentCheck, Unchanged, settle},
    store::PaymentInsert,
};
use sqlx::{MySqlConnection, MySqlPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::{DbResult, from_sqlx, retrying},
    orders::{WRITE, load_order, write_move},
    rows::{self, PAYMENT_COLUMNS},
};

// ----- reading -----

async fn load_payment(
    conn: &mut MySqlConnection,
    id: Uuid,
    lock: bool,
) -> DbResult<Option<Payment>> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let row = sqlx::query(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = ?{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(rows::payment).transpose()
}

async fn payments_of(conn: &mut MySqlConnection, number: &str) -> DbResult<Vec<Payment>> {
    let found = sqlx::query(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_number = ? ORDER BY created_at, id"
    ))
    .bind(number)
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(rows::payment).collect()
}

async fn by_reference(
    conn: &mut MySqlConnection,
    provider: &str,
    reference: &str,
) -> DbResult<Option<Payment>> {
    let row = sqlx::query(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE provider = ? AND provider_reference = ?"
    ))
    .bind(provider)
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(rows::payment).transpose()
}

pub(crate) async fn payment(pool: &MySqlPool, id: PaymentId) -> Result<Option<Payment>> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    Ok(load_payment(&mut conn, id.as_uuid(), false).await?)
}

pub(crate) async fn payment_by_reference(
    pool: &MySqlPool,
    provider: &str,
    reference: &str,
) -> Result<Option<Payment>> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    Ok(by_reference(&mut conn, provider, reference).await?)
}

pub(crate) async fn payments_for_order(
    pool: &MySqlPool,
    number: &OrderNumber,
) -> Result<Vec<Payment>> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    Ok(payments_of(&mut conn, number.as_str()).await?)
}

pub(crate) async fn payments_due_for_check(
    pool: &MySqlPool,
    now: OffsetDateTime,
    limit: usize,
) -> Result<Vec<Payment>> {
    let found = sqlx::query(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE status = ? AND next_check_at <= ? \
         ORDER BY next_check_at, id LIMIT ?"
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
async fn check_receipt(conn: &mut MySqlConnection, payment: &Payment) -> DbResult<()> {
    let Some(receipt) = &payment.receipt else {
        return Ok(());
    };
    let other = sqlx::query("SELECT id FROM payments WHERE receipt = ? AND id <> ?")
        .bind(receipt.as_str())
        .bind(payment.id.as_uuid())
        .fetch_optional(&mut *conn)
        .await?;
    match other {
        Some(_) => Err(receipt_already_used().into()),
        None => Ok(()),
    }
}

async fn exists(conn: &mut MySqlConnection, id: PaymentId) -> DbResult<bool> {
    Ok(sqlx::query("SELECT 1 FROM payments WHERE id = ?")
        .bind(id.as_uuid())
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

async fn insert_row(conn: &mut MySqlConnection, p: &Payment) -> DbResult<()> {
    sqlx::query(&format!(
        "INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, \
         ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
async fn update_row(conn: &mut MySqlConnection, p: &Payment) -> DbResult<()> {
    sqlx::query(
        "UPDATE payments SET status = ?, provider_reference = ?, receipt = ?, payer = ?, \
         result_code = ?, result_description = ?, raw_payload = ?, checks = ?, \
         next_check_at = ?, needs_review = ?, updated_at = ? WHERE id = ?",
    )
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
    .bind(p.id.as_uuid())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_payment(pool: &MySqlPool, payment: &Payment) -> Result<PaymentInsert> {
    retrying(|| try_insert_payment(pool, payment)).await
}

async fn try_insert_payment(pool: &MySqlPool, payment: &Payment) -> DbResult<PaymentInsert> {
    let mut tx = pool.begin_with(WRITE).await?;
    let order_exists = sqlx::query("SELECT 1 FROM orders WHERE number = ?")
        .bind(payment.order_number.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    if !order_exists {
        return Err(Error::not_found(Entity::Order, &payment.order_number).into());
    }
    if let Some(key) = &payment.idempotency_key {
        let existing = sqlx::query(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_number = ? \
             AND idempotency_key = ?"
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
    pool: &MySqlPool,
    id: PaymentId,
    reference: Option<String>,
    status: PaymentStatus,
    at: OffsetDateTime,
) -> Result<Payment> {
    retrying(|| try_mark_payment_started(pool, id, reference.as_deref(), status, at)).await
}

async fn try_mark_payment_started(
    pool: &MySqlPool,
    id: PaymentId,
    reference: Option<&str>,
    status: PaymentStatus,
    at: OffsetDateTime,
) -> DbResult<Payment> {
    let mut tx = pool.begin_with(WRITE).await?;
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
    conn: &mut MySqlConnection,
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
    pool: &MySqlPool,
    target: &PaymentTarget,
    result: &PaymentResult,
) -> Result<Settled> {
    retrying(|| try_settle_payment(pool, target, result)).await
}

async fn try_settle_payment(
    pool: &MySqlPool,
    target: &PaymentTarget,
    result: &PaymentResult,
) -> DbResult<Settled> {
    let mut tx = pool.begin_with(WRITE).await?;
    let found = match target {
        PaymentTarget::Id(id) => {
            sqlx::query("SELECT id, order_number FROM payments WHERE id = ?")
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
                 WHERE provider = ? AND provider_reference = ?",
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
    let id: Uuid = rows::get(&found, "id")?;
    let number: String = rows::get(&found, "order_number")?;
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
    pool: &MySqlPool,
    payment: &Payment,
    result: &PaymentResult,
) -> Result<Settled> {
    retrying(|| try_record_direct_payment(pool, payment, result)).await
}

async fn try_record_direct_payment(
    pool: &MySqlPool,
    payment: &Payment,
    result: &PaymentResult,
) -> DbResult<Settled> {
    let mut tx = pool.begin_with(WRITE).await?;
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
    pool: &MySqlPool,
    id: PaymentId,
    check: &PaymentCheck,
) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE payments SET checks = ?, next_check_at = ?, \
         needs_review = needs_review OR ?, updated_at = ? WHERE id = ? AND status = ?",
    )
    .bind(i64::from(check.checks))
    .bind(check.next_check_at)
    .bind(check.needs_review)
    .bind(check.at)
    .bind(id.as_uuid())
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
