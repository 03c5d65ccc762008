//! Payment notices kept for an admin: recorded once, listed newest first.

use pochi_core::{ConflictReason, Error, PaymentReview, Result, page::ReviewKey};
use sqlx::MySqlPool;

use crate::{
    error::{DbError, DbResult, from_sqlx},
    rows::{self, REVIEW_COLUMNS},
};

pub(crate) async fn record_review(pool: &MySqlPool, review: &PaymentReview) -> Result<()> {
    let reason = serde_json::to_string(&review.reason)
        .map_err(|e| Error::backend(crate::error::CONTEXT, e))?;
    let inserted = sqlx::query(
        "INSERT INTO payment_reviews (id, at, provider, reason, payment_id, order_number, \
         reference, receipt, currency, amount, account_reference, raw_payload) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(review.id.as_uuid())
    .bind(review.at)
    .bind(&review.provider)
    .bind(reason)
    .bind(review.payment_id.map(|p| p.as_uuid()))
    .bind(review.order_number.as_ref().map(|n| n.as_str()))
    .bind(review.reference.as_deref())
    .bind(review.receipt.as_deref())
    .bind(review.amount.map(|a| a.currency().code()))
    .bind(review.amount.map(|a| a.amount()))
    .bind(review.account_reference.as_deref())
    .bind(review.raw_payload.as_deref())
    .execute(pool)
    .await
    .map_err(DbError::from);
    match inserted {
        Ok(_) => Ok(()),
        Err(err) if err.is_unique_violation() => Err(Error::conflict(
            ConflictReason::AlreadyExists,
            format!("review {} already exists", review.id.as_uuid()),
        )),
        Err(err) => Err(err.into()),
    }
}

pub(crate) async fn list_reviews(
    pool: &MySqlPool,
    after: Option<ReviewKey>,
    limit: usize,
) -> Result<Vec<PaymentReview>> {
    let found =
        match after {
            Some(after) => sqlx::query(&format!(
                "SELECT {REVIEW_COLUMNS} FROM payment_reviews WHERE at < ? OR (at = ? AND id < ?) \
                 ORDER BY at DESC, id DESC LIMIT ?"
            ))
            .bind(after.at)
            .bind(after.at)
            .bind(after.id.as_uuid())
            .bind(rows::limit(limit))
            .fetch_all(pool)
            .await,
            None => {
                sqlx::query(&format!(
                    "SELECT {REVIEW_COLUMNS} FROM payment_reviews ORDER BY at DESC, id DESC LIMIT ?"
                ))
                .bind(rows::limit(limit))
                .fetch_all(pool)
                .await
            }
        }
        .map_err(from_sqlx)?;
    Ok(found.iter().map(rows::review).collect::<DbResult<_>>()?)
}
