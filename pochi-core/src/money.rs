//! Money: an exact decimal amount in a currency, normalised to the currency's minor units.

use std::{fmt, str::FromStr};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::error::InvalidValue;

/// A currency the shop can price in.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[non_exhaustive]
pub enum Currency {
    /// Kenyan shilling.
    #[default]
    #[serde(rename = "KES")]
    Kes,
    /// Ugandan shilling (no minor unit).
    #[serde(rename = "UGX")]
    Ugx,
    /// Tanzanian shilling.
    #[serde(rename = "TZS")]
    Tzs,
    /// US dollar.
    #[serde(rename = "USD")]
    Usd,
}

impl Currency {
    /// The ISO 4217 code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Kes => "KES",
            Currency::Ugx => "UGX",
            Currency::Tzs => "TZS",
            Currency::Usd => "USD",
        }
    }

    /// Decimal places of the currency's minor unit (ISO 4217).
    pub fn minor_units(self) -> u32 {
        match self {
            Currency::Ugx => 0,
            Currency::Kes | Currency::Tzs | Currency::Usd => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "KES" => Ok(Currency::Kes),
            "UGX" => Ok(Currency::Ugx),
            "TZS" => Ok(Currency::Tzs),
            "USD" => Ok(Currency::Usd),
            _ => Err(InvalidValue::new(
                "must be a supported currency code (KES, UGX, TZS, USD)",
            )),
        }
    }
}

/// An amount of money: never negative, at most [`Money::MAX`], with no more decimal places than
/// its currency has, and always carried at exactly that scale (`1500` KES is `1500.00`).
///
/// All arithmetic is checked; there is no `f64` anywhere near it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

/// Why an amount is not valid money or an operation on it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The amount is below zero.
    #[error("must not be negative")]
    Negative,
    /// The amount has more decimal places than the currency.
    #[error("has more decimal places than {0} allows")]
    TooPrecise(Currency),
    /// The amount exceeds [`Money::MAX`].
    #[error("is too large")]
    TooLarge,
    /// Two amounts in different currencies were combined.
    #[error("mixes {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
}

impl From<MoneyError> for InvalidValue {
    fn from(err: MoneyError) -> Self {
        InvalidValue::owned(err.to_string())
    }
}

impl Money {
    /// The largest amount Pochi represents (999,999,999,999,999.99 in any currency): large
    /// enough for any shop's lifetime revenue, small enough for `DECIMAL(20,2)` and for
    /// minor units in an `i64`.
    pub const MAX: Decimal = Decimal::from_parts(0x5D89_FFFF, 0x0163_4578, 0, false, 2);

    /// `amount` in `currency`. Fails if it is negative, too large, or more precise than the
    /// currency.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative);
        }
        let normalized = amount.normalize();
        if normalized.scale() > currency.minor_units() {
            return Err(MoneyError::TooPrecise(currency));
        }
        if normalized > Self::MAX {
            return Err(MoneyError::TooLarge);
        }
        let mut amount = normalized;
        amount.rescale(currency.minor_units());
        // `-0` normalises to `0`, but keep the sign bit clean for equality.
        amount.set_sign_positive(true);
        Ok(Money { amount, currency })
    }

    /// Parses a decimal string (`"1500"`, `"1500.50"`) in `currency`.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, InvalidValue> {
        let text = text.trim();
        let amount = Decimal::from_str_exact(text)
            .map_err(|_| InvalidValue::new("must be a decimal amount such as 1500 or 1500.50"))?;
        Ok(Money::new(amount, currency)?)
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        let mut amount = Decimal::ZERO;
        amount.rescale(currency.minor_units());
        Money { amount, currency }
    }

    /// An amount given in minor units (cents), as stores that keep integers use.
    pub fn from_minor(minor: i64, currency: Currency) -> Result<Self, MoneyError> {
        Money::new(Decimal::new(minor, currency.minor_units()), currency)
    }

    /// The amount in minor units (cents). Exact: the amount never has more places than that.
    pub fn to_minor(self) -> i64 {
        // `amount` is at scale `minor_units`; its mantissa is the minor-unit count, which fits
        // an i64 because `amount <= MAX`.
        i64::try_from(self.amount.mantissa()).unwrap_or(i64::MAX)
    }

    /// The decimal amount, at the currency's scale.
    pub fn amount(self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(self) -> Currency {
        self.currency
    }

    /// Whether the amount is zero.
    pub fn is_zero(self) -> bool {
        self.amount.is_zero()
    }

    /// Whether the amount has no more than `places` decimal places that are not zero (M-Pesa
    /// charges whole shillings: `places == 0`).
    pub fn fits_precision(self, places: u32) -> bool {
        self.amount.normalize().scale() <= places
    }

    /// `self + other`. Fails on mixed currencies or above [`Money::MAX`].
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let sum = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::TooLarge)?;
        Money::new(sum, self.currency)
    }

    /// `self - other`. Fails on mixed currencies or when the result would be negative.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let difference = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::TooLarge)?;
        Money::new(difference, self.currency)
    }

    /// `self × quantity`. Fails above [`Money::MAX`].
    pub fn checked_mul(self, quantity: u32) -> Result<Money, MoneyError> {
        let product = self
            .amount
            .checked_mul(Decimal::from(quantity))
            .ok_or(MoneyError::TooLarge)?;
        Money::new(product, self.currency)
    }

    /// The sum of `amounts`, all in `currency`.
    pub fn sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    /// `self / count`, rounded half-up to the currency's scale (for averages). `None` when
    /// `count` is zero.
    pub fn divided_by(self, count: u64) -> Option<Money> {
        if count == 0 {
            return None;
        }
        let quotient = self.amount.checked_div(Decimal::from(count))?;
        let rounded = quotient.round_dp_with_strategy(
            self.currency.minor_units(),
            RoundingStrategy::MidpointAwayFromZero,
        );
        Money::new(rounded, self.currency).ok()
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

impl PartialOrd for Money {
    /// Amounts compare only within one currency.
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        (self.currency == other.currency).then(|| self.amount.cmp(&other.amount))
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.amount)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.amount)
    }
}

/// Wire form: `{"amount": "1500.00", "currency": "KES"}` (the amount as a string, so no JSON
/// reader turns it into a float).
#[derive(Serialize, Deserialize)]
struct MoneyWire {
    amount: Decimal,
    currency: Currency,
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        MoneyWire {
            amount: self.amount,
            currency: self.currency,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = MoneyWire::deserialize(deserializer)?;
        Money::new(wire.amount, wire.currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn kes(amount: Decimal) -> Money {
        Money::new(amount, Currency::Kes).unwrap()
    }

    #[test]
    fn amounts_are_carried_at_the_currency_scale() {
        assert_eq!(kes(dec!(1500)).amount().to_string(), "1500.00");
        assert_eq!(kes(dec!(1500.5)).amount().to_string(), "1500.50");
        assert_eq!(kes(dec!(1500.500)).amount().to_string(), "1500.50");
        assert_eq!(
            Money::new(dec!(1500), Currency::Ugx)
                .unwrap()
                .amount()
                .to_string(),
            "1500"
        );
    }

    #[test]
    fn more_places_than_the_currency_is_rejected() {
        assert_eq!(
            Money::new(dec!(1.005), Currency::Kes),
            Err(MoneyError::TooPrecise(Currency::Kes))
        );
        assert_eq!(
            Money::new(dec!(1.5), Currency::Ugx),
            Err(MoneyError::TooPrecise(Currency::Ugx))
        );
    }

    #[test]
    fn negative_and_too_large_amounts_are_rejected() {
        assert_eq!(
            Money::new(dec!(-0.01), Currency::Kes),
            Err(MoneyError::Negative)
        );
        assert_eq!(
            Money::new(Money::MAX, Currency::Kes).unwrap().amount(),
            Money::MAX
        );
        assert_eq!(
            Money::new(Money::MAX + dec!(0.01), Currency::Kes),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(Money::MAX, dec!(999999999999999.99));
    }

    #[test]
    fn negative_zero_is_zero() {
        assert_eq!(kes(dec!(-0)), Money::zero(Currency::Kes));
    }

    #[test]
    fn parse_accepts_plain_decimals_only() {
        assert_eq!(
            Money::parse(" 99.9 ", Currency::Kes).unwrap(),
            kes(dec!(99.90))
        );
        assert!(Money::parse("1e3", Currency::Kes).is_err());
        assert!(Money::parse("abc", Currency::Kes).is_err());
        assert!(Money::parse("", Currency::Kes).is_err());
        assert!(Money::parse("NaN", Currency::Kes).is_err());
    }

    #[test]
    fn arithmetic_is_checked() {
        let max = kes(Money::MAX);
        assert_eq!(max.checked_add(kes(dec!(0.01))), Err(MoneyError::TooLarge));
        assert_eq!(
            kes(dec!(1)).checked_sub(kes(dec!(2))),
            Err(MoneyError::Negative)
        );
        assert_eq!(max.checked_mul(2), Err(MoneyError::TooLarge));
        let usd = Money::new(dec!(1), Currency::Usd).unwrap();
        assert_eq!(
            kes(dec!(1)).checked_add(usd),
            Err(MoneyError::CurrencyMismatch(Currency::Kes, Currency::Usd))
        );
        assert_eq!(kes(dec!(19.99)).checked_mul(3).unwrap(), kes(dec!(59.97)));
    }

    #[test]
    fn minor_units_round_trip_exactly() {
        let amount = kes(dec!(123456789012.34));
        assert_eq!(amount.to_minor(), 12_345_678_901_234);
        assert_eq!(
            Money::from_minor(amount.to_minor(), Currency::Kes).unwrap(),
            amount
        );
        assert_eq!(kes(Money::MAX).to_minor(), 99_999_999_999_999_999);
    }

    #[test]
    fn whole_units_are_detected() {
        assert!(kes(dec!(100.00)).fits_precision(0));
        assert!(!kes(dec!(100.50)).fits_precision(0));
        assert!(kes(dec!(100.50)).fits_precision(2));
    }

    #[test]
    fn averages_round_half_up() {
        assert_eq!(kes(dec!(10)).divided_by(3).unwrap(), kes(dec!(3.33)));
        assert_eq!(kes(dec!(0.05)).divided_by(2).unwrap(), kes(dec!(0.03)));
        assert_eq!(kes(dec!(1)).divided_by(0), None);
    }

    #[test]
    fn wire_form_is_a_string_amount_and_a_code() {
        let json = serde_json::to_string(&kes(dec!(1500))).unwrap();
        assert_eq!(json, r#"{"amount":"1500.00","currency":"KES"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, kes(dec!(1500)));
        let too_precise = serde_json::from_str::<Money>(r#"{"amount":"1.001","currency":"KES"}"#);
        assert!(too_precise.is_err());
    }
}
