//! Stock adjustments: an admin's signed change to a product's stock, with a reason, kept in the
//! product's history.
//!
//! An edit of a product never writes its stock: orders move it all day, so a count the admin
//! saw when the edit form opened is stale by the time it is saved, and writing it back would
//! restore units sold meanwhile (an oversell). The admin changes stock by a delta instead
//! ("+12, delivery from the supplier", "−2, damaged"), which the store applies to the count as
//! it is at that moment ([`Store::adjust_stock`](crate::Store::adjust_stock)): deltas add up
//! whatever else happens, and one that would take the stock below zero is refused.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    error::{Error, Result},
    ids::{AdjustmentId, ProductId},
    order::IdempotencyKey,
    product::MAX_STOCK,
    text::bounded_text,
};

/// The longest reason of an adjustment, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// One adjustment of a product's stock, as its history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockAdjustment {
    /// Its id.
    pub id: AdjustmentId,
    /// The product whose stock changed.
    pub product_id: ProductId,
    /// Units added (positive) or taken away (negative).
    pub delta: i64,
    /// Why, as the admin wrote it.
    pub reason: String,
    /// The stock right after this adjustment.
    pub stock_after: u32,
    /// The admin who made it.
    pub by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The idempotency key it was sent with, if any (a retry with the same key replays it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<IdempotencyKey>,
}

impl StockAdjustment {
    /// The key that orders a product's history: newest first, ties broken by id.
    pub fn key(&self) -> AdjustmentKey {
        AdjustmentKey {
            at: self.at,
            id: self.id,
        }
    }
}

/// The position of an adjustment in a product's history, for keyset pagination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AdjustmentKey {
    /// When it was made.
    pub at: OffsetDateTime,
    /// Its id.
    pub id: AdjustmentId,
}

/// An adjustment as an admin submits it, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StockAdjustmentInput {
    /// Units to add (positive) or take away (negative); not zero.
    pub delta: i64,
    /// Why (1 to 200 characters): "delivery from the supplier", "2 damaged in transit".
    pub reason: String,
}

/// An adjustment the shop asks a store to apply (see
/// [`Store::adjust_stock`](crate::Store::adjust_stock)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStockAdjustment {
    /// The id it gets.
    pub id: AdjustmentId,
    /// The product.
    pub product_id: ProductId,
    /// Units to add or take away (not zero; at most [`MAX_STOCK`] either way).
    pub delta: i64,
    /// Why.
    pub reason: String,
    /// The admin making it.
    pub by: String,
    /// Now.
    pub at: OffsetDateTime,
    /// A retry with the same key (for the same product) returns the first adjustment.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl NewStockAdjustment {
    /// Validates a submission: a non-zero delta within [`MAX_STOCK`] either way, a reason of 1
    /// to [`MAX_REASON_CHARS`] characters (trimmed).
    pub fn parse(
        input: &StockAdjustmentInput,
        id: AdjustmentId,
        product_id: ProductId,
        by: &str,
        at: OffsetDateTime,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Result<Self> {
        if input.delta == 0 {
            return Err(Error::invalid(
                "delta",
                "must add or take away at least one unit",
            ));
        }
        if input.delta.unsigned_abs() > u64::from(MAX_STOCK) {
            return Err(Error::invalid(
                "delta",
                format!("must be at most {MAX_STOCK} either way"),
            ));
        }
        let reason =
            bounded_text(&input.reason, MAX_REASON_CHARS, false).map_err(|e| e.at("reason"))?;
        Ok(NewStockAdjustment {
            id,
            product_id,
            delta: input.delta,
            reason,
            by: by.to_owned(),
            at,
            idempotency_key,
        })
    }

    /// The adjustment as the history keeps it, once applied.
    pub fn applied(&self, stock_after: u32) -> StockAdjustment {
        StockAdjustment {
            id: self.id,
            product_id: self.product_id,
            delta: self.delta,
            reason: self.reason.clone(),
            stock_after,
            by: self.by.clone(),
            at: self.at,
            idempotency_key: self.idempotency_key.clone(),
        }
    }
}

/// What [`Store::adjust_stock`](crate::Store::adjust_stock) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockAdjusted {
    /// The stock changed; this is the new history entry.
    Applied(StockAdjustment),
    /// The idempotency key was already used for this product with the same change: the
    /// first adjustment, nothing changed now.
    Replayed(StockAdjustment),
}

impl StockAdjusted {
    /// The adjustment, new or replayed.
    pub fn adjustment(&self) -> &StockAdjustment {
        match self {
            StockAdjusted::Applied(a) | StockAdjusted::Replayed(a) => a,
        }
    }

    /// The adjustment, new or replayed.
    pub fn into_adjustment(self) -> StockAdjustment {
        match self {
            StockAdjusted::Applied(a) | StockAdjusted::Replayed(a) => a,
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    fn parse(delta: i64, reason: &str) -> Result<NewStockAdjustment> {
        NewStockAdjustment::parse(
            &StockAdjustmentInput {
                delta,
                reason: reason.into(),
            },
            AdjustmentId::from_uuid(Uuid::nil()),
            ProductId::from_uuid(Uuid::nil()),
            "admin",
            datetime!(2026-03-01 10:00 UTC),
            None,
        )
    }

    #[test]
    fn a_valid_adjustment_keeps_its_sign_and_a_trimmed_reason() {
        let new = parse(-3, "  damaged in transit ").unwrap();
        assert_eq!(new.delta, -3);
        assert_eq!(new.reason, "damaged in transit");
    }

    #[test]
    fn each_bad_field_is_named() {
        for (delta, reason, field) in [
            (0, "x", "delta"),
            (i64::from(MAX_STOCK) + 1, "x", "delta"),
            (-i64::from(MAX_STOCK) - 1, "x", "delta"),
            (i64::MIN, "x", "delta"),
            (1, " ", "reason"),
            (1, &"x".repeat(MAX_REASON_CHARS + 1), "reason"),
        ] {
            let err = parse(delta, reason).unwrap_err();
            assert_eq!(err.field(), Some(field), "{delta} {reason}");
        }
    }
}
