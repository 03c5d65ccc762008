//! Payment attempts: inserting and starting them, applying results (settlement), direct
//! payments and the reconciliation queue.

use pochi_core::{
    Entity, Error, Order, OrderNumber, Payment, PaymentId, PaymentResult, PaymentStatus,
    PaymentTarget, Result, Settled,
    notify::OutboxEvent,
    payment::{PaymentCheck, Unchanged, settle},
    store::{PaymentInsert, PushLimit, Settlement, verdict},
};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    SqlStore,
    dialect::{Dialect, Row, for_update, sql},
    error::{DbResult, from_sqlx, retrying},
    orders::Conn,
    rows::{self, PAYMENT_COLUMNS},
};

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
    // ----- reading -----

    async fn load_payment(
        conn: &mut Conn<D>,
        id: Uuid,
        lock: bool,
    ) -> DbResult<Option<Payment>, D> {
        let lock = if lock { for_update::<D>() } else { "" };
        let statement = sql::<D>(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = ?{lock}"
        ))
        .into_owned();
        let row = sqlx::query(&statement)
            .bind(D::id(id))
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(Self::payment_row).transpose()
    }

    pub(crate) async fn payments_of(conn: &mut Conn<D>, number: &str) -> DbResult<Vec<Payment>, D> {
        let statement = sql::<D>(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_number = ? \
             ORDER BY created_at, id"
        ))
        .into_owned();
        let found = sqlx::query(&statement)
            .bind(number)
            .fetch_all(&mut *conn)
            .await?;
        found.iter().map(Self::payment_row).collect()
    }

    async fn by_reference(
        conn: &mut Conn<D>,
        provider: &str,
        reference: &str,
    ) -> DbResult<Option<Payment>, D> {
        let statement = sql::<D>(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE provider = ? AND provider_reference = ?"
        ))
        .into_owned();
        let row = sqlx::query(&statement)
            .bind(provider)
            .bind(reference)
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(Self::payment_row).transpose()
    }

    pub(crate) async fn payment(&self, id: PaymentId) -> Result<Option<Payment>> {
        let mut conn = self.pool.acquire().await.map_err(from_sqlx::<D>)?;
        Ok(Self::load_payment(&mut conn, id.as_uuid(), false).await?)
    }

    pub(crate) async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>> {
        let mut conn = self.pool.acquire().await.map_err(from_sqlx::<D>)?;
        Ok(Self::by_reference(&mut conn, provider, reference).await?)
    }

    pub(crate) async fn payments_for_order(&self, number: &OrderNumber) -> Result<Vec<Payment>> {
        let mut conn = self.pool.acquire().await.map_err(from_sqlx::<D>)?;
        Ok(Self::payments_of(&mut conn, number.as_str()).await?)
    }

    /// The attempts of a page of orders in one statement (the export reads 500 at a time).
    pub(crate) async fn payments_for_orders(
        &self,
        numbers: &[OrderNumber],
    ) -> Result<Vec<Payment>> {
        self.rows_of_orders(
            &format!("SELECT {PAYMENT_COLUMNS} FROM payments"),
            numbers,
            Self::payment_row,
        )
        .await
    }

    /// The rows `select` (a `SELECT … FROM table` of a table with an `order_number` column and
    /// no `WHERE`) finds for a page of orders, each order's oldest first, read by `row`.
    pub(crate) async fn rows_of_orders<T>(
        &self,
        select: &str,
        numbers: &[OrderNumber],
        row: fn(&Row<D>) -> DbResult<T, D>,
    ) -> Result<Vec<T>> {
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<D::Db>::new(format!("{select} WHERE "));
        D::push_one_of_texts(
            &mut query,
            "order_number",
            numbers.iter().map(|n| n.as_str().to_owned()).collect(),
        );
        query.push(" ORDER BY order_number, created_at, id");
        let mut conn = self.pool.acquire().await.map_err(from_sqlx::<D>)?;
        let found = D::fetch_all(&mut query, &mut *conn)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(found.iter().map(row).collect::<DbResult<_, D>>()?)
    }

    pub(crate) async fn payments_due_for_check(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Payment>> {
        let statement = sql::<D>(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE status = ? AND next_check_at <= ? \
             ORDER BY next_check_at, id LIMIT ?"
        ))
        .into_owned();
        let found = sqlx::query(&statement)
            .bind(PaymentStatus::Pending.as_str())
            .bind(D::time(now))
            .bind(rows::limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(found
            .iter()
            .map(Self::payment_row)
            .collect::<DbResult<_, D>>()?)
    }

    // ----- writing -----

    /// Refuses a payment whose receipt is recorded on another payment.
    async fn check_receipt(conn: &mut Conn<D>, payment: &Payment) -> DbResult<(), D> {
        let Some(receipt) = &payment.receipt else {
            return Ok(());
        };
        let other = sqlx::query(&sql::<D>(
            "SELECT id FROM payments WHERE receipt = ? AND id <> ?",
        ))
        .bind(receipt.as_str())
        .bind(D::id(payment.id.as_uuid()))
        .fetch_optional(&mut *conn)
        .await?;
        let holder = other
            .map(|row| Self::uuid_at(&row, "id"))
            .transpose()?
            .map(PaymentId::from_uuid);
        verdict::check_receipt(payment, holder)?;
        Ok(())
    }

    async fn exists(conn: &mut Conn<D>, id: PaymentId) -> DbResult<bool, D> {
        Ok(
            sqlx::query(&sql::<D>("SELECT 1 FROM payments WHERE id = ?"))
                .bind(D::id(id.as_uuid()))
                .fetch_optional(&mut *conn)
                .await?
                .is_some(),
        )
    }

    async fn insert_row(conn: &mut Conn<D>, p: &Payment) -> DbResult<(), D> {
        let statement = sql::<D>(&format!(
            "INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
             ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .into_owned();
        sqlx::query(&statement)
            .bind(D::id(p.id.as_uuid()))
            .bind(p.order_number.as_str())
            .bind(&p.provider)
            .bind(p.kind.as_str())
            .bind(p.amount.currency().code())
            .bind(Self::stored(p.amount))
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
            .bind(p.next_check_at.map(D::time))
            .bind(p.needs_review)
            .bind(D::time(p.created_at))
            .bind(D::time(p.updated_at))
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Writes every field a payment can change after it was inserted.
    async fn update_row(conn: &mut Conn<D>, p: &Payment) -> DbResult<(), D> {
        sqlx::query(&sql::<D>(
            "UPDATE payments SET status = ?, provider_reference = ?, receipt = ?, payer = ?, \
             result_code = ?, result_description = ?, raw_payload = ?, checks = ?, \
             next_check_at = ?, needs_review = ?, updated_at = ? WHERE id = ?",
        ))
        .bind(p.status.as_str())
        .bind(p.provider_reference.as_deref())
        .bind(p.receipt.as_ref().map(|r| r.as_str()))
        .bind(p.payer.as_deref())
        .bind(p.result_code.as_deref())
        .bind(p.result_description.as_deref())
        .bind(p.raw_payload.as_deref())
        .bind(i64::from(p.checks))
        .bind(p.next_check_at.map(D::time))
        .bind(p.needs_review)
        .bind(D::time(p.updated_at))
        .bind(D::id(p.id.as_uuid()))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub(crate) async fn insert_payment(
        &self,
        payment: &Payment,
        limit: Option<PushLimit>,
    ) -> Result<PaymentInsert> {
        retrying(|| self.try_insert_payment(payment, limit)).await
    }

    async fn try_insert_payment(
        &self,
        payment: &Payment,
        limit: Option<PushLimit>,
    ) -> DbResult<PaymentInsert, D> {
        let mut tx = self.begin_write().await?;
        // The order's lock: the expiry sweep skips an order held here, and this waits for a
        // sweep that holds it, then sees it cancelled.
        let statement = sql::<D>(&format!(
            "SELECT status FROM orders WHERE number = ?{}",
            for_update::<D>()
        ))
        .into_owned();
        let status: String = match sqlx::query(&statement)
            .bind(payment.order_number.as_str())
            .fetch_optional(&mut *tx)
            .await?
        {
            Some(row) => Self::get(&row, "status")?,
            None => return Err(Error::not_found(Entity::Order, &payment.order_number).into()),
        };
        if let Some(key) = &payment.idempotency_key {
            let statement = sql::<D>(&format!(
                "SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_number = ? \
                 AND idempotency_key = ?"
            ))
            .into_owned();
            let existing = sqlx::query(&statement)
                .bind(payment.order_number.as_str())
                .bind(key.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(existing) = existing {
                return Ok(PaymentInsert::Existing(Self::payment_row(&existing)?));
            }
        }
        if Self::exists(&mut tx, payment.id).await? {
            return Err(verdict::payment_exists(payment.id).into());
        }
        if let Some(reference) = &payment.provider_reference {
            if Self::by_reference(&mut tx, &payment.provider, reference)
                .await?
                .is_some()
            {
                return Err(verdict::reference_exists().into());
            }
        }
        Self::check_receipt(&mut tx, payment).await?;
        verdict::check_payable(&payment.order_number, Self::order_status(&status)?)?;
        Self::insert_row(&mut tx, payment).await?;
        Self::check_pushes(&mut tx, payment, limit).await?;
        tx.commit().await?;
        Ok(PaymentInsert::Inserted(payment.clone()))
    }

    pub(crate) async fn mark_payment_started(
        &self,
        id: PaymentId,
        reference: Option<String>,
        status: PaymentStatus,
        at: OffsetDateTime,
    ) -> Result<Payment> {
        retrying(|| self.try_mark_payment_started(id, reference.as_deref(), status, at)).await
    }

    async fn try_mark_payment_started(
        &self,
        id: PaymentId,
        reference: Option<&str>,
        status: PaymentStatus,
        at: OffsetDateTime,
    ) -> DbResult<Payment, D> {
        let mut tx = self.begin_write().await?;
        let payment = Self::load_payment(&mut tx, id.as_uuid(), true)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Payment, id))?;
        let holder = match reference {
            Some(reference) if payment.status == PaymentStatus::Pending => {
                Self::by_reference(&mut tx, &payment.provider, reference)
                    .await?
                    .map(|holder| holder.id)
            }
            _ => None,
        };
        let Some(started) = verdict::plan_started(&payment, reference, holder, status, at)? else {
            return Ok(payment);
        };
        Self::update_row(&mut tx, &started).await?;
        tx.commit().await?;
        Ok(started)
    }

    /// Runs [`settle`] on `payment` of the locked `order` and writes its outcome. `stored`
    /// says whether the payment is already a row (an attempt) or new (a direct payment).
    async fn settle_locked(
        conn: &mut Conn<D>,
        mut order: Order,
        payment: Payment,
        result: &PaymentResult,
        stored: bool,
    ) -> DbResult<Settled, D> {
        let mut payments = Self::payments_of(conn, order.number.as_str()).await?;
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
            Settlement::AddReceipt(updated) => {
                Self::check_receipt(conn, &updated).await?;
                Self::update_row(conn, &updated).await?;
                Ok(Settled::Unchanged {
                    payment: updated,
                    reason: Unchanged::ReceiptAdded,
                })
            }
            Settlement::Apply {
                payment: updated,
                order: update,
            } => {
                Self::check_receipt(conn, &updated).await?;
                if stored {
                    Self::update_row(conn, &updated).await?;
                } else {
                    Self::insert_row(conn, &updated).await?;
                }
                if let Some(update) = update {
                    Self::write_move(conn, &mut order, &update).await?;
                }
                if updated.status == PaymentStatus::Succeeded {
                    Self::owe_refunds(conn, &order, Some(updated.id), result.at).await?;
                }
                if let Some(event) = OutboxEvent::settled(&order, &updated) {
                    Self::write_events(conn, &[event]).await?;
                }
                Ok(Settled::Applied {
                    payment: updated,
                    order: Box::new(order),
                })
            }
        }
    }

    pub(crate) async fn settle_payment(
        &self,
        target: &PaymentTarget,
        result: &PaymentResult,
    ) -> Result<Settled> {
        retrying(|| self.try_settle_payment(target, result)).await
    }

    async fn try_settle_payment(
        &self,
        target: &PaymentTarget,
        result: &PaymentResult,
    ) -> DbResult<Settled, D> {
        let mut tx = self.begin_write().await?;
        let found = match target {
            PaymentTarget::Id(id) => {
                sqlx::query(&sql::<D>(
                    "SELECT id, order_number FROM payments WHERE id = ?",
                ))
                .bind(D::id(id.as_uuid()))
                .fetch_optional(&mut *tx)
                .await?
            }
            PaymentTarget::Reference {
                provider,
                reference,
            } => {
                sqlx::query(&sql::<D>(
                    "SELECT id, order_number FROM payments \
                     WHERE provider = ? AND provider_reference = ?",
                ))
                .bind(provider)
                .bind(reference)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        let Some(found) = found else {
            return Err(Error::not_found(Entity::Payment, target).into());
        };
        let id = Self::uuid_at(&found, "id")?;
        let number: String = Self::get(&found, "order_number")?;
        // Lock order: the order, then its payment (as every settlement does).
        let order = Self::load_order(&mut tx, &number, true)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Order, &number))?;
        let payment = Self::load_payment(&mut tx, id, true)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Payment, target))?;
        let settled = Self::settle_locked(&mut tx, order, payment, result, true).await?;
        if settled.wrote() {
            tx.commit().await?;
        }
        Ok(settled)
    }

    pub(crate) async fn record_direct_payment(
        &self,
        payment: &Payment,
        result: &PaymentResult,
    ) -> Result<Settled> {
        retrying(|| self.try_record_direct_payment(payment, result)).await
    }

    async fn try_record_direct_payment(
        &self,
        payment: &Payment,
        result: &PaymentResult,
    ) -> DbResult<Settled, D> {
        let mut tx = self.begin_write().await?;
        if let Some(reference) = &payment.provider_reference {
            if let Some(existing) =
                Self::by_reference(&mut tx, &payment.provider, reference).await?
            {
                return Ok(Settled::Unchanged {
                    payment: Box::new(existing),
                    reason: Unchanged::Duplicate,
                });
            }
        }
        if Self::exists(&mut tx, payment.id).await? {
            return Err(verdict::payment_exists(payment.id).into());
        }
        Self::check_receipt(&mut tx, payment).await?;
        let order = Self::load_order(&mut tx, payment.order_number.as_str(), true)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Order, &payment.order_number))?;
        // Nothing is kept of a refused payment (the caller records the notice for review).
        let settled = Self::settle_locked(&mut tx, order, payment.clone(), result, false).await?;
        if settled.wrote() {
            tx.commit().await?;
        }
        Ok(settled)
    }

    pub(crate) async fn schedule_payment_check(
        &self,
        id: PaymentId,
        check: &PaymentCheck,
    ) -> Result<()> {
        let updated = sqlx::query(&sql::<D>(
            "UPDATE payments SET checks = ?, next_check_at = ?, \
             needs_review = needs_review OR ?, updated_at = ? WHERE id = ? AND status = ?",
        ))
        .bind(i64::from(check.checks))
        .bind(check.next_check_at.map(D::time))
        .bind(check.needs_review)
        .bind(D::time(check.at))
        .bind(D::id(id.as_uuid()))
        .bind(PaymentStatus::Pending.as_str())
        .execute(&self.pool)
        .await
        .map_err(from_sqlx::<D>)?;
        if D::rows_affected(&updated) == 0 {
            let mut conn = self.pool.acquire().await.map_err(from_sqlx::<D>)?;
            if !Self::exists(&mut conn, id).await? {
                return Err(Error::not_found(Entity::Payment, id));
            }
        }
        Ok(())
    }
}
