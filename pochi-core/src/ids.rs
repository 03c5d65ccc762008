//! Identifiers: product, payment, review and stock adjustment ids, order numbers, and the generator
//! that makes them.
//!
//! Ids are made by an injected [`IdGenerator`] so tests and snapshots can be deterministic.

use std::{
    fmt,
    str::FromStr,
    sync::atomic::{AtomicU64, Ordering},
};

use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::InvalidValue;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                $name(uuid)
            }

            /// The UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// Parses the hyphenated UUID form.
            pub fn parse(text: &str) -> Result<Self, InvalidValue> {
                Uuid::try_parse(text.trim())
                    .map($name)
                    .map_err(|_| InvalidValue::new(concat!("must be a ", $what, " id (a UUID)")))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }
    };
}

uuid_id!(
    /// Identifies a product.
    ProductId,
    "product"
);
uuid_id!(
    /// Identifies a payment attempt.
    PaymentId,
    "payment"
);
uuid_id!(
    /// Identifies a payment notice kept for review.
    ReviewId,
    "review"
);
uuid_id!(
    /// Identifies a refund (see [`RefundId::of_payment`]).
    RefundId,
    "refund"
);
uuid_id!(
    /// Identifies a stock adjustment in a product's history.
    AdjustmentId,
    "stock adjustment"
);

/// The letters order codes use: no `0`/`O`, `1`/`I`, so a code can be read out over the phone.
pub const ORDER_CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Characters in an order code: 10 × 5 bits = 50 bits of randomness.
pub const ORDER_CODE_LEN: usize = 10;

/// The shop's order-number prefix: 1 to 8 ASCII letters, upper case (`POCHI`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderPrefix(String);

impl OrderPrefix {
    /// Parses a prefix; lower case is upper-cased.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let text = text.trim();
        if (1..=8).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(OrderPrefix(text.to_ascii_uppercase()))
        } else {
            Err(InvalidValue::new("must be 1 to 8 letters A-Z"))
        }
    }

    /// The prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for OrderPrefix {
    fn default() -> Self {
        OrderPrefix("POCHI".to_owned())
    }
}

impl TryFrom<String> for OrderPrefix {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        OrderPrefix::parse(&value)
    }
}

impl From<OrderPrefix> for String {
    fn from(value: OrderPrefix) -> Self {
        value.0
    }
}

/// A public order number: the shop's prefix, a dash and an unguessable code,
/// `POCHI-7K3M9QXA2B`.
///
/// Not sequential, because the tracking page is public. Parsing forgives what people type:
/// case, spaces, dashes and `#` are ignored (`pochi 7k3m 9qxa2b`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderNumber(String);

impl OrderNumber {
    /// Builds a number from a prefix and a code of [`ORDER_CODE_LEN`] alphabet characters.
    pub fn new(prefix: &OrderPrefix, code: &str) -> Result<Self, InvalidValue> {
        Self::check_code(code)?;
        Ok(OrderNumber(format!("{}-{}", prefix.as_str(), code)))
    }

    /// Parses an order number as typed by a person.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        const HINT: &str = "must be an order number such as POCHI-7K3M9QXA2B";
        let compact: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '#' | '\t'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if !compact.is_ascii() || compact.len() <= ORDER_CODE_LEN {
            return Err(InvalidValue::new(HINT));
        }
        let (prefix, code) = compact.split_at(compact.len() - ORDER_CODE_LEN);
        let prefix = OrderPrefix::parse(prefix).map_err(|_| InvalidValue::new(HINT))?;
        Self::new(&prefix, code).map_err(|_| InvalidValue::new(HINT))
    }

    /// Finds an order number in an account reference typed into M-Pesa (C2B `BillRefNumber`):
    /// the full number, or only its code, in any case, with spaces, dashes or `#`.
    pub fn from_account_reference(text: &str, prefix: &OrderPrefix) -> Option<Self> {
        let compact: String = text
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if compact.len() == ORDER_CODE_LEN {
            return Self::new(prefix, &compact).ok();
        }
        Self::parse(&compact).ok()
    }

    /// The prefix part.
    pub fn prefix(&self) -> &str {
        self.0.split_once('-').map_or("", |(prefix, _)| prefix)
    }

    /// The code part, also used as the M-Pesa account reference (at most 12 characters).
    pub fn code(&self) -> &str {
        self.0.split_once('-').map_or("", |(_, code)| code)
    }

    /// The number, `POCHI-7K3M9QXA2B`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn check_code(code: &str) -> Result<(), InvalidValue> {
        if code.len() == ORDER_CODE_LEN && code.bytes().all(|b| ORDER_CODE_ALPHABET.contains(&b)) {
            Ok(())
        } else {
            Err(InvalidValue::new(
                "order code must be 10 characters of 2-9 and A-Z without I and O",
            ))
        }
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrderNumber({})", self.0)
    }
}

impl TryFrom<String> for OrderNumber {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        OrderNumber::parse(&value)
    }
}

impl From<OrderNumber> for String {
    fn from(value: OrderNumber) -> Self {
        value.0
    }
}

impl FromStr for OrderNumber {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderNumber::parse(s)
    }
}

/// Makes new identifiers. Injected into `Shop` so tests can make them deterministic.
pub trait IdGenerator: fmt::Debug + Send + Sync + 'static {
    /// A fresh UUID for a product, payment or review.
    fn uuid(&self) -> Uuid;

    /// A fresh order code of [`ORDER_CODE_LEN`] characters from [`ORDER_CODE_ALPHABET`].
    fn order_code(&self) -> String;
}

/// Random ids from the operating system's generator: UUID v4 and 50-bit order codes.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn uuid(&self) -> Uuid {
        Uuid::new_v4()
    }

    fn order_code(&self) -> String {
        let mut rng = rand::thread_rng();
        (0..ORDER_CODE_LEN)
            .map(|_| char::from(ORDER_CODE_ALPHABET[rng.gen_range(0..ORDER_CODE_ALPHABET.len())]))
            .collect()
    }
}

/// Predictable ids for tests: UUIDs `00000000-0000-0000-0000-000000000001`, `…2`, … and order
/// codes `2222222223`, `2222222224`, … (one counter for both).
#[derive(Debug, Default)]
pub struct SequentialIds {
    next: AtomicU64,
}

impl SequentialIds {
    /// A generator starting at 1.
    pub fn new() -> Self {
        SequentialIds {
            next: AtomicU64::new(1),
        }
    }

    fn bump(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
}

impl IdGenerator for SequentialIds {
    fn uuid(&self) -> Uuid {
        Uuid::from_u128(u128::from(self.bump()))
    }

    fn order_code(&self) -> String {
        let mut n = self.bump();
        let mut code = [ORDER_CODE_ALPHABET[0]; ORDER_CODE_LEN];
        for slot in code.iter_mut().rev() {
            // `n % 32` is below 32, so the index cannot truncate.
            let digit = usize::try_from(n % 32).unwrap_or(0);
            *slot = ORDER_CODE_ALPHABET[digit];
            n /= 32;
        }
        String::from_utf8_lossy(&code).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pochi() -> OrderPrefix {
        OrderPrefix::default()
    }

    #[test]
    fn order_numbers_parse_forgivingly() {
        let number = OrderNumber::new(&pochi(), "7K3M9QXA2B").unwrap();
        assert_eq!(number.as_str(), "POCHI-7K3M9QXA2B");
        for typed in [
            "POCHI-7K3M9QXA2B",
            "pochi-7k3m9qxa2b",
            " pochi 7k3m 9qxa2b ",
            "#POCHI7K3M9QXA2B",
        ] {
            assert_eq!(OrderNumber::parse(typed).unwrap(), number, "{typed}");
        }
        assert_eq!(number.prefix(), "POCHI");
        assert_eq!(number.code(), "7K3M9QXA2B");
    }

    #[test]
    fn malformed_order_numbers_are_rejected() {
        for typed in [
            "",
            "POCHI",
            "7K3M9QXA2B",
            "POCHI-7K3M9QXA2",
            "POCHI-7K3M9QXA2BB2",
            "POCHI-0K3M9QXA2B",
            "POCHI-IK3M9QXA2B",
            "P0CHI-7K3M9QXA2B",
            "ÄPOCHI-7K3M9QXA2B",
            "TOOLONGPREFIX-7K3M9QXA2B",
        ] {
            assert!(OrderNumber::parse(typed).is_err(), "{typed:?} was accepted");
        }
    }

    #[test]
    fn account_references_match_with_or_without_prefix() {
        let number = OrderNumber::new(&pochi(), "7K3M9QXA2B").unwrap();
        for typed in [
            "7k3m 9qxa2b",
            "pochi 7k3m9qxa2b",
            " POCHI-7K3M9QXA2B ",
            "#7K3M9QXA2B",
        ] {
            assert_eq!(
                OrderNumber::from_account_reference(typed, &pochi()),
                Some(number.clone()),
                "{typed}"
            );
        }
        assert_eq!(OrderNumber::from_account_reference("hello", &pochi()), None);
        assert_eq!(OrderNumber::from_account_reference("", &pochi()), None);
    }

    #[test]
    fn random_codes_use_the_alphabet_and_differ() {
        let ids = RandomIds;
        let codes: Vec<String> = (0..100).map(|_| ids.order_code()).collect();
        for code in &codes {
            assert!(OrderNumber::new(&pochi(), code).is_ok(), "{code}");
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
    }

    #[test]
    fn sequential_ids_are_predictable() {
        let ids = SequentialIds::new();
        assert_eq!(ids.uuid(), Uuid::from_u128(1));
        assert_eq!(ids.order_code(), "2222222224");
        assert_eq!(ids.uuid(), Uuid::from_u128(3));
    }

    #[test]
    fn uuid_ids_parse_and_reject_garbage() {
        let id = ProductId::parse("00000000-0000-0000-0000-000000000001").unwrap();
        assert_eq!(id.as_uuid(), Uuid::from_u128(1));
        assert!(ProductId::parse("42").is_err());
        assert!(PaymentId::parse("").is_err());
    }
}
