//! Notifications: the outbox events written inside the transactions of the changes that cause
//! them, their expansion into deliveries, the claim of due deliveries by dispatchers, the
//! outcomes, the dashboard's list, and the customers' opt-outs.
//!
//! A claim takes due rows with `FOR UPDATE SKIP LOCKED` (PostgreSQL, MySQL 8, MariaDB 10.6+),
//! so dispatchers in several processes share the queue instead of queueing on it, and leases
//! them in the same transaction; on SQLite the same statements run under its one write lock.

use pochi_core::{
    ConflictReason, Entity, Error, OrderNumber, Result,
    notify::{
        ChannelKind, Delivery, DeliveryClaim, DeliveryFilter, DeliveryId, DeliveryKey,
        DeliveryOutcome, DeliveryState, EventDetails, NewDelivery, NoticeKind, OutboxEvent,
        OutboxId,
    },
    phone::Msisdn,
};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};
use time::{Date, OffsetDateTime};

use crate::{
    SqlStore,
    catalogue::push_after,
    dialect::{Dialect, Row, Set, for_update, for_update_skip_locked, sql},
    error::{DbError, DbResult, corrupt, from_sqlx, retrying},
    orders::Conn,
    rows,
    tallies::Inserts,
};

const DELIVERY_COLUMNS: &str = "id, event_id, order_number, kind, channel, audience, message, \
     state, attempts, next_attempt_at, last_error, provider_ref, created_at, sent_at";

impl<'args, D: Dialect> Inserts<'args, D>
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
    /// Appends the insert of `events` into the outbox (nothing for none).
    pub(crate) fn push_events(&mut self, events: &[OutboxEvent]) -> DbResult<(), D> {
        let rows = events
            .iter()
            .map(|event| Ok((event, json::<D>(serde_json::to_string(&event.details))?)))
            .collect::<DbResult<Vec<_>, D>>()?;
        self.push(
            "INSERT INTO outbox_events (id, order_number, kind, details, created_at) ",
            rows.into_iter(),
            |mut row, (event, details)| {
                row.push_bind(D::id(event.id.as_uuid()))
                    .push_bind(event.details.order_number.to_string())
                    .push_bind(event.details.kind.as_str())
                    .push_bind(details)
                    .push_bind(D::time(event.details.at));
            },
            "",
        );
        Ok(())
    }
}

/// A value written as JSON text (which cannot fail for the notification types).
fn json<D: Dialect>(written: serde_json::Result<String>) -> DbResult<String, D> {
    written.map_err(|e| DbError::Core(Error::backend(D::CONTEXT, e)))
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
    /// Writes `events` into the outbox, inside the caller's transaction. An outbox row is new:
    /// its insert takes no lock another transaction waits for, so it may come after the tallies.
    pub(crate) async fn write_events(
        conn: &mut Conn<D>,
        events: &[OutboxEvent],
    ) -> DbResult<(), D> {
        let mut inserts = Inserts::<D>::new();
        inserts.push_events(events)?;
        inserts.run(conn).await
    }

    // ----- events -----

    /// Pending events of the kinds this build knows. An event of another kind (written by a
    /// newer build, before a rollback to this one) stays pending for a build that knows it,
    /// instead of failing every batch and so stopping every message.
    pub(crate) async fn pending_outbox_events(&self, limit: usize) -> Result<Vec<OutboxEvent>> {
        let mut query = QueryBuilder::<D::Db>::new(
            "SELECT id, details FROM outbox_events WHERE expanded_at IS NULL AND ",
        );
        D::push_one_of_texts(
            &mut query,
            "kind",
            NoticeKind::ALL
                .iter()
                .map(|k| k.as_str().to_owned())
                .collect(),
        );
        query
            .push(" ORDER BY created_at, id LIMIT ")
            .push_bind(rows::limit(limit));
        let mut conn = self.pool.acquire().await.map_err(from_sqlx::<D>)?;
        let found = D::fetch_all(&mut query, &mut conn)
            .await
            .map_err(from_sqlx::<D>)?;
        let events = found
            .iter()
            .map(|row| {
                let details: String = Self::get(row, "details")?;
                Ok(OutboxEvent {
                    id: OutboxId::from_uuid(Self::uuid_at(row, "id")?),
                    details: serde_json::from_str::<EventDetails>(&details)
                        .map_err(|e| corrupt("event details", e))?,
                })
            })
            .collect::<DbResult<Vec<_>, D>>()?;
        Ok(events)
    }

    pub(crate) async fn expand_outbox_event(
        &self,
        id: OutboxId,
        deliveries: &[NewDelivery],
        at: OffsetDateTime,
    ) -> Result<bool> {
        retrying(|| self.try_expand_outbox_event(id, deliveries, at)).await
    }

    async fn try_expand_outbox_event(
        &self,
        id: OutboxId,
        deliveries: &[NewDelivery],
        at: OffsetDateTime,
    ) -> DbResult<bool, D> {
        let mut tx = self.begin_write().await?;
        // The conditional update is the claim: of dispatchers racing on one event, one
        // changes the row; the others wait for its commit and then change nothing.
        let marked = sqlx::query(&sql::<D>(
            "UPDATE outbox_events SET expanded_at = ? WHERE id = ? AND expanded_at IS NULL",
        ))
        .bind(D::time(at))
        .bind(D::id(id.as_uuid()))
        .execute(&mut *tx)
        .await?;
        let event = sqlx::query(&sql::<D>(
            "SELECT order_number, kind FROM outbox_events WHERE id = ?",
        ))
        .bind(D::id(id.as_uuid()))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::not_found(Entity::Message, id))?;
        if D::rows_affected(&marked) == 0 {
            // Ended now, not when the dropped transaction's rollback gets its turn: until
            // then MySQL may hold the row it looked at.
            tx.commit().await?;
            return Ok(false);
        }
        let order_number: String = Self::get(&event, "order_number")?;
        let kind: String = Self::get(&event, "kind")?;
        let rows = deliveries
            .iter()
            .map(|delivery| {
                Ok((
                    delivery,
                    json::<D>(serde_json::to_string(&delivery.message))?,
                ))
            })
            .collect::<DbResult<Vec<_>, D>>()?;
        let mut inserts = Inserts::<D>::new();
        inserts.push(
            "INSERT INTO deliveries (id, event_id, order_number, kind, channel, audience, \
             message, state, attempts, next_attempt_at, last_error, created_at) ",
            rows.into_iter(),
            |mut row, (delivery, message)| {
                row.push_bind(D::id(delivery.id.as_uuid()))
                    .push_bind(D::id(id.as_uuid()))
                    .push_bind(order_number.clone())
                    .push_bind(kind.clone())
                    .push_bind(delivery.channel.as_str())
                    .push_bind(delivery.audience.as_str())
                    .push_bind(message)
                    .push_bind(delivery.state.as_str())
                    .push_bind(0i64)
                    .push_bind(D::time(at))
                    .push_bind(delivery.skipped_because.as_deref())
                    .push_bind(D::time(at));
            },
            "",
        );
        inserts.run(&mut tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    // ----- deliveries -----

    pub(crate) async fn claim_deliveries(&self, claim: &DeliveryClaim) -> Result<Vec<Delivery>> {
        retrying(|| self.try_claim_deliveries(claim)).await
    }

    async fn try_claim_deliveries(&self, claim: &DeliveryClaim) -> DbResult<Vec<Delivery>, D> {
        let mut tx = self.begin_write().await?;
        let statement = sql::<D>(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE state = ? AND next_attempt_at <= ? \
             AND (lease_until IS NULL OR lease_until <= ?) \
             ORDER BY next_attempt_at, id LIMIT ?{}",
            for_update_skip_locked::<D>()
        ))
        .into_owned();
        let due = sqlx::query(&statement)
            .bind(DeliveryState::Pending.as_str())
            .bind(D::time(claim.now))
            .bind(D::time(claim.now))
            .bind(rows::limit(claim.limit))
            .fetch_all(&mut *tx)
            .await?;
        let mut claimed = due
            .iter()
            .map(Self::delivery_row)
            .collect::<DbResult<Vec<_>, D>>()?;
        if claimed.is_empty() {
            // Committed rather than dropped: a dropped transaction is rolled back only when
            // its connection is next used, and until then MySQL may hold locks on the rows
            // it scanned, which the next claim would skip.
            tx.commit().await?;
            return Ok(claimed);
        }
        let mut lease = QueryBuilder::<D::Db>::new("UPDATE deliveries SET lease_owner = ");
        lease
            .push_bind(claim.worker.clone())
            .push(", lease_until = ")
            .push_bind(D::time(claim.lease_until))
            .push(", attempts = attempts + 1 WHERE ");
        D::push_one_of_ids(
            &mut lease,
            "id",
            claimed.iter().map(|d| d.id.as_uuid()).collect(),
        );
        D::execute(&mut lease, &mut tx).await?;
        tx.commit().await?;
        for delivery in &mut claimed {
            delivery.attempts = delivery.attempts.saturating_add(1);
        }
        Ok(claimed)
    }

    pub(crate) async fn finish_delivery(
        &self,
        id: DeliveryId,
        worker: &str,
        outcome: &DeliveryOutcome,
    ) -> Result<bool> {
        // One statement: only the holder of the lease, only while pending.
        const HELD: &str = ", lease_owner = NULL, lease_until = NULL \
             WHERE id = ? AND lease_owner = ? AND state = ?";
        let statement;
        let query = match outcome {
            DeliveryOutcome::Sent { at, provider_ref } => {
                statement = sql::<D>(&format!(
                    "UPDATE deliveries SET state = ?, sent_at = ?, provider_ref = ?{HELD}"
                ))
                .into_owned();
                sqlx::query(&statement)
                    .bind(DeliveryState::Sent.as_str())
                    .bind(D::time(*at))
                    .bind(provider_ref.as_deref())
            }
            DeliveryOutcome::Retry {
                next_attempt_at,
                error,
            } => {
                statement = sql::<D>(&format!(
                    "UPDATE deliveries SET next_attempt_at = ?, last_error = ?{HELD}"
                ))
                .into_owned();
                sqlx::query(&statement)
                    .bind(D::time(*next_attempt_at))
                    .bind(error.as_str())
            }
            DeliveryOutcome::Dead { error } => {
                statement = sql::<D>(&format!(
                    "UPDATE deliveries SET state = ?, last_error = ?{HELD}"
                ))
                .into_owned();
                sqlx::query(&statement)
                    .bind(DeliveryState::Dead.as_str())
                    .bind(error.as_str())
            }
        };
        let updated = query
            .bind(D::id(id.as_uuid()))
            .bind(worker)
            .bind(DeliveryState::Pending.as_str())
            .execute(&self.pool)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(D::rows_affected(&updated) == 1)
    }

    pub(crate) async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        after: Option<DeliveryKey>,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        let mut query = QueryBuilder::<D::Db>::new(format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE 1 = 1"
        ));
        if let Some(state) = filter.state {
            query.push(" AND state = ").push_bind(state.as_str());
        }
        if let Some(order) = &filter.order {
            query
                .push(" AND order_number = ")
                .push_bind(order.to_string());
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
            .map(Self::delivery_row)
            .collect::<DbResult<_, D>>()?)
    }

    pub(crate) async fn retry_delivery(
        &self,
        id: DeliveryId,
        at: OffsetDateTime,
    ) -> Result<Delivery> {
        retrying(|| self.try_retry_delivery(id, at)).await
    }

    async fn try_retry_delivery(
        &self,
        id: DeliveryId,
        at: OffsetDateTime,
    ) -> DbResult<Delivery, D> {
        let mut tx = self.begin_write().await?;
        let statement = sql::<D>(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?{}",
            for_update::<D>()
        ))
        .into_owned();
        let row = sqlx::query(&statement)
            .bind(D::id(id.as_uuid()))
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Message, id))?;
        let mut delivery = Self::delivery_row(&row)?;
        if delivery.state != DeliveryState::Dead {
            return Err(Error::conflict(
                ConflictReason::MessageNotDead,
                format!("message {id} is {}, not dead", delivery.state),
            )
            .into());
        }
        sqlx::query(&sql::<D>(
            "UPDATE deliveries SET state = ?, attempts = 0, next_attempt_at = ?, \
             lease_owner = NULL, lease_until = NULL WHERE id = ?",
        ))
        .bind(DeliveryState::Pending.as_str())
        .bind(D::time(at))
        .bind(D::id(id.as_uuid()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        delivery.state = DeliveryState::Pending;
        delivery.attempts = 0;
        delivery.next_attempt_at = at;
        Ok(delivery)
    }

    fn delivery_row(row: &Row<D>) -> DbResult<Delivery, D> {
        let message: String = Self::get(row, "message")?;
        let text = |column: &str| Self::get::<String>(row, column);
        Ok(Delivery {
            id: DeliveryId::from_uuid(Self::uuid_at(row, "id")?),
            event: OutboxId::from_uuid(Self::uuid_at(row, "event_id")?),
            order_number: OrderNumber::parse(&text("order_number")?)
                .map_err(|e| corrupt("order number", e))?,
            kind: text("kind")?
                .parse()
                .map_err(|e| corrupt("event kind", e))?,
            channel: text("channel")?
                .parse()
                .map_err(|e| corrupt("channel", e))?,
            audience: text("audience")?
                .parse()
                .map_err(|e| corrupt("audience", e))?,
            message: serde_json::from_str(&message).map_err(|e| corrupt("message", e))?,
            state: text("state")?
                .parse()
                .map_err(|e| corrupt("message state", e))?,
            attempts: Self::count(Self::get(row, "attempts")?)?,
            next_attempt_at: Self::time_at(row, "next_attempt_at")?,
            last_error: Self::get(row, "last_error")?,
            provider_ref: Self::get(row, "provider_ref")?,
            created_at: Self::time_at(row, "created_at")?,
            sent_at: Self::opt_time_at(row, "sent_at")?,
        })
    }

    // ----- opt-outs -----

    pub(crate) async fn set_opt_out(
        &self,
        phone: &Msisdn,
        channel: ChannelKind,
        opted_out: bool,
        at: OffsetDateTime,
    ) -> Result<()> {
        let statement = sql::<D>(&format!(
            "INSERT INTO notification_opt_outs (phone, channel, opted_out, updated_at) \
             VALUES (?, ?, ?, ?){}",
            D::upsert(
                "notification_opt_outs",
                &["phone", "channel"],
                &[Set::Replace("opted_out"), Set::Replace("updated_at")],
            )
        ))
        .into_owned();
        sqlx::query(&statement)
            .bind(phone.as_str())
            .bind(channel.as_str())
            .bind(opted_out)
            .bind(D::time(at))
            .execute(&self.pool)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(())
    }

    pub(crate) async fn opted_out(&self, phone: &Msisdn, channel: ChannelKind) -> Result<bool> {
        let row = sqlx::query(&sql::<D>(
            "SELECT opted_out FROM notification_opt_outs WHERE phone = ? AND channel = ?",
        ))
        .bind(phone.as_str())
        .bind(channel.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx::<D>)?;
        match row {
            Some(row) => Ok(Self::get::<bool>(&row, "opted_out")?),
            None => Ok(false),
        }
    }
}
