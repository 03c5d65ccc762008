//! Pagination: a `limit` capped at 100 and opaque cursors over stable keys (keyset pagination).

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::InvalidValue,
    ids::{AdjustmentId, OrderNumber, ProductId, ReviewId},
    order::OrderKey,
    payment::PaymentReview,
    phone::Msisdn,
    product::ProductKey,
    stock::AdjustmentKey,
};

/// How many items a page holds: 1 to [`Limit::MAX`], [`Limit::DEFAULT`] when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Limit(usize);

impl Limit {
    /// The largest page.
    pub const MAX: usize = 100;
    /// The page size when the client does not ask for one.
    pub const DEFAULT: usize = 20;

    /// A limit from a client's number; above [`Limit::MAX`] is capped, below 1 is an error.
    pub fn new(requested: Option<i64>) -> Result<Self, InvalidValue> {
        match requested {
            None => Ok(Limit(Self::DEFAULT)),
            Some(n) if n < 1 => Err(InvalidValue::new("must be at least 1")),
            Some(n) => Ok(Limit(
                usize::try_from(n).unwrap_or(Self::MAX).min(Self::MAX),
            )),
        }
    }

    /// The number of items.
    pub fn get(self) -> usize {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Limit(Self::DEFAULT)
    }
}

/// One page of a list, with the cursor of the next page when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items, in the list's stable order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched items: the extra item, if present, only
    /// proves there is a next page.
    pub fn from_overfetch<K: CursorKey>(
        mut items: Vec<T>,
        limit: Limit,
        key: impl Fn(&T) -> K,
    ) -> Self {
        let has_more = items.len() > limit.get();
        items.truncate(limit.get());
        let next_cursor = if has_more {
            items.last().map(|last| key(last).encode())
        } else {
            None
        };
        Page { items, next_cursor }
    }

    /// Maps the items, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// A list key that can be written into an opaque cursor and read back.
pub trait CursorKey: Sized {
    /// The cursor text (URL-safe).
    fn encode(&self) -> String;
    /// Reads a cursor made by [`CursorKey::encode`].
    fn decode(cursor: &str) -> Result<Self, InvalidValue>;
}

const BAD_CURSOR: InvalidValue = InvalidValue::new("is not a cursor this list returned");

fn pack(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(parts.join("|"))
}

fn unpack(cursor: &str, count: usize) -> Result<Vec<String>, InvalidValue> {
    if cursor.len() > 200 {
        return Err(BAD_CURSOR);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| BAD_CURSOR)?;
    let text = String::from_utf8(bytes).map_err(|_| BAD_CURSOR)?;
    let parts: Vec<String> = text.split('|').map(str::to_owned).collect();
    if parts.len() == count {
        Ok(parts)
    } else {
        Err(BAD_CURSOR)
    }
}

fn time_part(at: OffsetDateTime) -> String {
    at.unix_timestamp_nanos().to_string()
}

fn parse_time(text: &str) -> Result<OffsetDateTime, InvalidValue> {
    let nanos: i128 = text.parse().map_err(|_| BAD_CURSOR)?;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| BAD_CURSOR)
}

impl CursorKey for ProductKey {
    fn encode(&self) -> String {
        pack(&["p", &time_part(self.created_at), &self.id.to_string()])
    }

    fn decode(cursor: &str) -> Result<Self, InvalidValue> {
        let parts = unpack(cursor, 3)?;
        if parts[0] != "p" {
            return Err(BAD_CURSOR);
        }
        Ok(ProductKey {
            created_at: parse_time(&parts[1])?,
            id: ProductId::parse(&parts[2]).map_err(|_| BAD_CURSOR)?,
        })
    }
}

impl CursorKey for OrderKey {
    fn encode(&self) -> String {
        pack(&["o", &time_part(self.created_at), self.number.as_str()])
    }

    fn decode(cursor: &str) -> Result<Self, InvalidValue> {
        let parts = unpack(cursor, 3)?;
        if parts[0] != "o" {
            return Err(BAD_CURSOR);
        }
        Ok(OrderKey {
            created_at: parse_time(&parts[1])?,
            number: OrderNumber::parse(&parts[2]).map_err(|_| BAD_CURSOR)?,
        })
    }
}

impl CursorKey for Msisdn {
    fn encode(&self) -> String {
        pack(&["c", self.as_str()])
    }

    fn decode(cursor: &str) -> Result<Self, InvalidValue> {
        let parts = unpack(cursor, 2)?;
        if parts[0] != "c" {
            return Err(BAD_CURSOR);
        }
        Msisdn::parse(&parts[1]).map_err(|_| BAD_CURSOR)
    }
}

/// The position of a review in the review list (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReviewKey {
    /// When it was recorded.
    pub at: OffsetDateTime,
    /// Its id.
    pub id: ReviewId,
}

impl ReviewKey {
    /// The key of `review`.
    pub fn of(review: &PaymentReview) -> Self {
        ReviewKey {
            at: review.at,
            id: review.id,
        }
    }
}

impl CursorKey for ReviewKey {
    fn encode(&self) -> String {
        pack(&["r", &time_part(self.at), &self.id.to_string()])
    }

    fn decode(cursor: &str) -> Result<Self, InvalidValue> {
        let parts = unpack(cursor, 3)?;
        if parts[0] != "r" {
            return Err(BAD_CURSOR);
        }
        Ok(ReviewKey {
            at: parse_time(&parts[1])?,
            id: ReviewId::from_uuid(Uuid::try_parse(&parts[2]).map_err(|_| BAD_CURSOR)?),
        })
    }
}

/// The position of a refund in the refund list (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefundKey {
    /// When it became owed.
    pub created_at: OffsetDateTime,
    /// Its id.
    pub id: crate::refund::RefundId,
}

impl RefundKey {
    /// The key of `refund`.
    pub fn of(refund: &crate::refund::Refund) -> Self {
        RefundKey {
            created_at: refund.created_at,
            id: refund.id,
        }
    }
}

impl CursorKey for RefundKey {
    fn encode(&self) -> String {
        pack(&["f", &time_part(self.created_at), &self.id.to_string()])
    }

    fn decode(cursor: &str) -> Result<Self, InvalidValue> {
        let parts = unpack(cursor, 3)?;
        if parts[0] != "f" {
            return Err(BAD_CURSOR);
        }
        Ok(RefundKey {
            created_at: parse_time(&parts[1])?,
            id: crate::refund::RefundId::from_uuid(
                Uuid::try_parse(&parts[2]).map_err(|_| BAD_CURSOR)?,
            ),
        })
    }
}

impl CursorKey for AdjustmentKey {
    fn encode(&self) -> String {
        pack(&["a", &time_part(self.at), &self.id.to_string()])
    }

    fn decode(cursor: &str) -> Result<Self, InvalidValue> {
        let parts = unpack(cursor, 3)?;
        if parts[0] != "a" {
            return Err(BAD_CURSOR);
        }
        Ok(AdjustmentKey {
            at: parse_time(&parts[1])?,
            id: AdjustmentId::from_uuid(Uuid::try_parse(&parts[2]).map_err(|_| BAD_CURSOR)?),
        })
    }
}

impl CursorKey for crate::notify::DeliveryKey {
    fn encode(&self) -> String {
        pack(&["m", &time_part(self.created_at), &self.id.to_string()])
    }

    fn decode(cursor: &str) -> Result<Self, InvalidValue> {
        let parts = unpack(cursor, 3)?;
        if parts[0] != "m" {
            return Err(BAD_CURSOR);
        }
        Ok(crate::notify::DeliveryKey {
            created_at: parse_time(&parts[1])?,
            id: crate::notify::DeliveryId::from_uuid(
                Uuid::try_parse(&parts[2]).map_err(|_| BAD_CURSOR)?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::ids::OrderPrefix;

    #[test]
    fn limits_are_capped_and_defaulted() {
        assert_eq!(Limit::new(None).unwrap().get(), 20);
        assert_eq!(Limit::new(Some(5)).unwrap().get(), 5);
        assert_eq!(Limit::new(Some(1_000_000)).unwrap().get(), 100);
        assert!(Limit::new(Some(0)).is_err());
        assert!(Limit::new(Some(-1)).is_err());
    }

    #[test]
    fn cursors_round_trip() {
        let key = OrderKey {
            created_at: datetime!(2026-03-01 10:00:00.123456 UTC),
            number: OrderNumber::new(&OrderPrefix::default(), "7K3M9QXA2B").unwrap(),
        };
        assert_eq!(OrderKey::decode(&key.encode()).unwrap(), key);
        let key = ProductKey {
            created_at: datetime!(2026-03-01 10:00 UTC),
            id: ProductId::from_uuid(Uuid::from_u128(7)),
        };
        assert_eq!(ProductKey::decode(&key.encode()).unwrap(), key);
        let phone = Msisdn::parse("0712345678").unwrap();
        assert_eq!(Msisdn::decode(&phone.encode()).unwrap(), phone);
    }

    #[test]
    fn foreign_or_forged_cursors_are_rejected() {
        let product = ProductKey {
            created_at: datetime!(2026-03-01 10:00 UTC),
            id: ProductId::from_uuid(Uuid::from_u128(7)),
        }
        .encode();
        assert!(OrderKey::decode(&product).is_err());
        for bad in ["", "!!!", "bm90IGEgY3Vyc29y", &"A".repeat(500)] {
            assert!(ProductKey::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overfetched_items_become_a_next_cursor() {
        let limit = Limit::new(Some(2)).unwrap();
        let phones: Vec<Msisdn> = ["0711111111", "0722222222", "0733333333"]
            .iter()
            .map(|p| Msisdn::parse(p).unwrap())
            .collect();
        let page = Page::from_overfetch(phones.clone(), limit, Clone::clone);
        assert_eq!(page.items.len(), 2);
        assert_eq!(
            Msisdn::decode(page.next_cursor.as_deref().unwrap()).unwrap(),
            phones[1]
        );
        let last = Page::from_overfetch(phones[2..].to_vec(), limit, Clone::clone);
        assert_eq!(last.next_cursor, None);
    }
}
