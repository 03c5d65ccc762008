//! Payment notices kept for an admin: recorded once, listed newest first.

use pochi_core::{
    ConflictReason, Entity, Error, PaymentReview, Result, ReviewId, ReviewResolution,
    page::ReviewKey, store::verdict,
};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};
use time::Date;

use crate::{
    SqlStore,
    catalogue::push_after,
    dialect::{Dialect, sql},
    error::{DbError, DbResult, from_sqlx, retrying},
    rows::{self, review_columns},
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
    pub(crate) async fn record_review(&self, review: &PaymentReview) -> Result<()> {
        let reason =
            serde_json::to_string(&review.reason).map_err(|e| Error::backend(D::CONTEXT, e))?;
        let statement = sql::<D>(&format!(
            "INSERT INTO payment_reviews (id, at, provider, reason, payment_id, order_number, \
             reference, receipt, currency, amount, account_reference, raw_payload) \
             VALUES (?, ?, ?, ?{}, ?, ?, ?, ?, ?, ?, ?, ?)",
            D::JSON_PARAMETER
        ))
        .into_owned();
        let inserted = sqlx::query(&statement)
            .bind(D::id(review.id.as_uuid()))
            .bind(D::time(review.at))
            .bind(&review.provider)
            .bind(reason)
            .bind(review.payment_id.map(|p| D::id(p.as_uuid())))
            .bind(review.order_number.as_ref().map(|n| n.as_str()))
            .bind(review.reference.as_deref())
            .bind(review.receipt.as_deref())
            .bind(review.amount.map(|a| a.currency().code()))
            .bind(review.amount.map(Self::stored))
            .bind(review.account_reference.as_deref())
            .bind(review.raw_payload.as_deref())
            .execute(&self.pool)
            .await
            .map_err(DbError::<D>::from);
        match inserted {
            Ok(_) => Ok(()),
            Err(err) if err.is_unique_violation() => Err(Error::conflict(
                ConflictReason::AlreadyExists,
                format!("review {} already exists", review.id.as_uuid()),
            )),
            Err(err) => Err(err.into()),
        }
    }

    pub(crate) async fn review(&self, id: ReviewId) -> Result<Option<PaymentReview>> {
        let statement = sql::<D>(&format!(
            "SELECT {} FROM payment_reviews WHERE id = ?",
            review_columns::<D>()
        ))
        .into_owned();
        let row = sqlx::query(&statement)
            .bind(D::id(id.as_uuid()))
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(row.as_ref().map(Self::review_row).transpose()?)
    }

    /// One conditional write: the decision lands only on a review without one.
    pub(crate) async fn resolve_review(
        &self,
        id: ReviewId,
        resolution: &ReviewResolution,
    ) -> Result<PaymentReview> {
        retrying(|| self.try_resolve_review(id, resolution)).await
    }

    /// Writes the decision once (conditional on none yet) and, in the same transaction, its
    /// entry on the timeline of the order the notice names.
    async fn try_resolve_review(
        &self,
        id: ReviewId,
        resolution: &ReviewResolution,
    ) -> DbResult<PaymentReview, D> {
        let json = serde_json::to_string(resolution).map_err(|e| Error::backend(D::CONTEXT, e))?;
        let Some(review) = self.review(id).await? else {
            return Err(Error::not_found(Entity::Review, id).into());
        };
        let mut tx = self.begin_write().await?;
        // The order first (the lock order of every transaction), then the notice.
        let order = match &review.order_number {
            Some(number) => Self::load_order(&mut tx, number.as_str(), true).await?,
            None => None,
        };
        let written = sqlx::query(&sql::<D>(
            "UPDATE payment_reviews SET resolution = ? WHERE id = ? AND resolution IS NULL",
        ))
        .bind(json)
        .bind(D::id(id.as_uuid()))
        .execute(&mut *tx)
        .await?;
        if D::rows_affected(&written) == 0 {
            return Err(verdict::review_resolved(id).into());
        }
        if let Some(order) = order {
            if let Some(entry) = resolution.timeline_entry(&review, order.status) {
                Self::insert_timeline_entry(
                    &mut tx,
                    order.number.as_str(),
                    order.timeline.len(),
                    &entry,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(PaymentReview {
            resolution: Some(resolution.clone()),
            ..review
        })
    }

    pub(crate) async fn list_reviews(
        &self,
        after: Option<ReviewKey>,
        limit: usize,
    ) -> Result<Vec<PaymentReview>> {
        let mut query = QueryBuilder::<D::Db>::new(format!(
            "SELECT {} FROM payment_reviews WHERE 1 = 1",
            review_columns::<D>()
        ));
        if let Some(after) = after {
            push_after::<D, _, _>(
                &mut query,
                ("at", "id"),
                "<",
                D::time(after.at),
                D::id(after.id.as_uuid()),
            );
        }
        query
            .push(" ORDER BY at DESC, id DESC LIMIT ")
            .push_bind(rows::limit(limit));
        let mut conn = self.pool.acquire().await.map_err(from_sqlx::<D>)?;
        let found = D::fetch_all(&mut query, &mut conn)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(found
            .iter()
            .map(Self::review_row)
            .collect::<DbResult<_, D>>()?)
    }
}
