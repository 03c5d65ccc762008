//! Refunds: owed in the transaction of the change that owes them, listed, and moved one way
//! (owed → sending → refunded or failed; owed or failed → refunded) under the refund's lock.

use pochi_core::{
    Entity, Error, Money, Order, OrderNumber, PaymentId, Result,
    notify::OutboxEvent,
    page::RefundKey,
    refund::{
        Refund, RefundChange, RefundId, RefundPlan, RefundReason, RefundStatus, RefundTarget,
        refunds_due,
    },
    store::verdict,
};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};
use time::{Date, OffsetDateTime};

use crate::{
    SqlStore,
    catalogue::push_after,
    dialect::{Conn, Dialect, Row, for_update, sql},
    error::{DbResult, corrupt, from_sqlx, retrying},
    rows::{self, actor_parts},
};

/// The refund columns, in the order [`SqlStore::refund_row`] reads them.
pub(crate) const REFUND_COLUMNS: &str = "id, order_number, payment_id, reason, currency, amount, \
     status, reference, provider_request, note, actor_kind, actor_name, created_at, updated_at";

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
    pub(crate) fn refund_row(row: &Row<D>) -> DbResult<Refund, D> {
        let currency = Self::currency(&Self::get::<String>(row, "currency")?)?;
        let text = |column: &str| Self::get::<String>(row, column);
        let actor = match Self::get::<Option<String>>(row, "actor_kind")? {
            Some(kind) => Some(Self::actor(&kind, Self::get(row, "actor_name")?)?),
            None => None,
        };
        Ok(Refund {
            id: RefundId::from_uuid(Self::uuid_at(row, "id")?),
            order_number: OrderNumber::parse(&text("order_number")?)
                .map_err(|e| corrupt("order number", e))?,
            payment_id: PaymentId::from_uuid(Self::uuid_at(row, "payment_id")?),
            reason: RefundReason::parse(&text("reason")?).map_err(|e| corrupt("reason", e))?,
            amount: Self::money_at(row, "amount", currency)?,
            status: RefundStatus::parse(&text("status")?)
                .map_err(|e| corrupt("refund status", e))?,
            reference: Self::get(row, "reference")?,
            provider_request: Self::get(row, "provider_request")?,
            note: Self::get(row, "note")?,
            actor,
            created_at: Self::time_at(row, "created_at")?,
            updated_at: Self::time_at(row, "updated_at")?,
        })
    }

    async fn refunds_of(conn: &mut Conn<D>, number: &str) -> DbResult<Vec<Refund>, D> {
        let statement = sql::<D>(&format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE order_number = ? ORDER BY created_at, id"
        ))
        .into_owned();
        let found = sqlx::query(&statement)
            .bind(number)
            .fetch_all(&mut *conn)
            .await?;
        found.iter().map(Self::refund_row).collect()
    }

    /// Writes the refunds `order` (locked, as it is after the change being written) owes now
    /// ([`refunds_due`]); `settled` is the payment whose settlement is the change, if it is one.
    pub(crate) async fn owe_refunds(
        conn: &mut Conn<D>,
        order: &Order,
        settled: Option<PaymentId>,
        at: OffsetDateTime,
    ) -> DbResult<(), D> {
        let payments = Self::payments_of(conn, order.number.as_str()).await?;
        let refunds = Self::refunds_of(conn, order.number.as_str()).await?;
        for refund in refunds_due(order, &payments, &refunds, settled, at) {
            sqlx::query(&sql::<D>(&format!(
                "INSERT INTO refunds ({REFUND_COLUMNS}) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL, ?, ?)"
            )))
            .bind(D::id(refund.id.as_uuid()))
            .bind(refund.order_number.as_str())
            .bind(D::id(refund.payment_id.as_uuid()))
            .bind(refund.reason.as_str())
            .bind(refund.amount.currency().code())
            .bind(Self::stored(refund.amount))
            .bind(refund.status.as_str())
            .bind(D::time(refund.created_at))
            .bind(D::time(refund.updated_at))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn refund(&self, id: RefundId) -> Result<Option<Refund>> {
        let statement = sql::<D>(&format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE id = ?"
        ))
        .into_owned();
        let row = sqlx::query(&statement)
            .bind(D::id(id.as_uuid()))
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(row.as_ref().map(Self::refund_row).transpose()?)
    }

    pub(crate) async fn refunds_for_order(&self, number: &OrderNumber) -> Result<Vec<Refund>> {
        let mut conn = self.pool.acquire().await.map_err(from_sqlx::<D>)?;
        Ok(Self::refunds_of(&mut conn, number.as_str()).await?)
    }

    /// The refunds of a page of orders in one statement (the export reads 500 at a time).
    pub(crate) async fn refunds_for_orders(&self, numbers: &[OrderNumber]) -> Result<Vec<Refund>> {
        self.rows_of_orders(
            &format!("SELECT {REFUND_COLUMNS} FROM refunds"),
            numbers,
            Self::refund_row,
        )
        .await
    }

    pub(crate) async fn list_refunds(
        &self,
        status: Option<RefundStatus>,
        after: Option<RefundKey>,
        limit: usize,
    ) -> Result<Vec<Refund>> {
        let mut query =
            QueryBuilder::<D::Db>::new(format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE 1 = 1"));
        if let Some(status) = status {
            query.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(after) = after {
            push_after::<D, _, _>(
                &mut query,
                ("created_at", "id"),
                "<",
                D::time(after.created_at),
                D::id(after.id.as_uuid()),
            );
        }
        query
            .push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(rows::limit(limit));
        let mut conn = self.pool.acquire().await.map_err(from_sqlx::<D>)?;
        let found = D::fetch_all(&mut query, &mut conn)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(found
            .iter()
            .map(Self::refund_row)
            .collect::<DbResult<_, D>>()?)
    }

    pub(crate) async fn change_refund(
        &self,
        target: &RefundTarget,
        change: &RefundChange,
    ) -> Result<Refund> {
        retrying(|| self.try_change_refund(target, change)).await
    }

    async fn try_change_refund(
        &self,
        target: &RefundTarget,
        change: &RefundChange,
    ) -> DbResult<Refund, D> {
        let mut tx = self.begin_write().await?;
        let key = match target {
            RefundTarget::Id(id) => id.to_string(),
            RefundTarget::ProviderRequest(request) => request.clone(),
        };
        // Locks in the order every transaction takes them: the refund's order first (its
        // timeline gets the entry), then the refund.
        let order_number = match Self::find_refund(&mut tx, target, false).await? {
            Some(refund) => refund.order_number,
            None => return Err(Error::not_found(Entity::Refund, key).into()),
        };
        let order = Self::load_order(&mut tx, order_number.as_str(), true).await?;
        let refund = Self::find_refund(&mut tx, target, true)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Refund, key))?;
        let RefundPlan::Write(next) = refund.plan(change)? else {
            tx.commit().await?;
            return Ok(refund);
        };
        for (column, value) in [
            ("reference", next.reference.as_deref()),
            ("provider_request", next.provider_request.as_deref()),
        ] {
            let Some(value) = value else { continue };
            let holder = sqlx::query(&sql::<D>(&format!(
                "SELECT 1 FROM refunds WHERE {column} = ? AND id <> ?"
            )))
            .bind(value)
            .bind(D::id(next.id.as_uuid()))
            .fetch_optional(&mut *tx)
            .await?;
            if holder.is_some() {
                return Err(verdict::refund_reference_taken().into());
            }
        }
        let (actor_kind, actor_name) = match &next.actor {
            Some(actor) => {
                let (kind, name) = actor_parts(actor);
                (Some(kind), name)
            }
            None => (None, None),
        };
        sqlx::query(&sql::<D>(
            "UPDATE refunds SET status = ?, reference = ?, provider_request = ?, note = ?, \
             actor_kind = ?, actor_name = ?, updated_at = ? WHERE id = ?",
        ))
        .bind(next.status.as_str())
        .bind(next.reference.as_deref())
        .bind(next.provider_request.as_deref())
        .bind(next.note.as_deref())
        .bind(actor_kind)
        .bind(actor_name)
        .bind(D::time(next.updated_at))
        .bind(D::id(next.id.as_uuid()))
        .execute(&mut *tx)
        .await?;
        if let Some(order) = order {
            if let Some(entry) = refund.timeline_entry(&next, order.status) {
                Self::insert_timeline_entry(
                    &mut tx,
                    order.number.as_str(),
                    order.timeline.len(),
                    &entry,
                )
                .await?;
            }
            if let Some(event) = OutboxEvent::refund_sent(&order, &refund, &next) {
                Self::write_events(&mut tx, &[event]).await?;
            }
        }
        tx.commit().await?;
        Ok(*next)
    }

    /// The refund `target` names, locked until the end of the transaction when `lock`.
    async fn find_refund(
        conn: &mut Conn<D>,
        target: &RefundTarget,
        lock: bool,
    ) -> DbResult<Option<Refund>, D> {
        let column = match target {
            RefundTarget::Id(_) => "id",
            RefundTarget::ProviderRequest(_) => "provider_request",
        };
        let lock = if lock { for_update::<D>() } else { "" };
        let statement = sql::<D>(&format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE {column} = ?{lock}"
        ))
        .into_owned();
        let query = sqlx::query(&statement);
        let query = match target {
            RefundTarget::Id(id) => query.bind(D::id(id.as_uuid())),
            RefundTarget::ProviderRequest(request) => query.bind(request.as_str()),
        };
        let row = query.fetch_optional(&mut *conn).await?;
        row.as_ref().map(Self::refund_row).transpose()
    }

    pub(crate) async fn refund_totals(&self) -> Result<Vec<(RefundStatus, Money)>> {
        let mut conn = self.pool.acquire().await.map_err(from_sqlx::<D>)?;
        let found = sqlx::query(
            "SELECT status, currency, SUM(amount) AS amount FROM refunds \
             GROUP BY status, currency ORDER BY status, currency",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(from_sqlx::<D>)?;
        let mut totals: Vec<(RefundStatus, Money)> = Vec::new();
        for row in &found {
            let status = RefundStatus::parse(&Self::get::<String>(row, "status")?)
                .map_err(|e| corrupt::<D>("refund status", e))?;
            let currency = Self::currency(&Self::get::<String>(row, "currency")?)?;
            let amount = Self::money_at(row, "amount", currency)?;
            // One row per status and currency: amounts of two currencies are never added.
            totals.push((status, amount));
        }
        totals.sort_by_key(|(status, _)| *status);
        Ok(totals)
    }
}
