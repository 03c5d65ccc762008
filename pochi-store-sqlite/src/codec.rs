//! How values are kept in SQLite columns, and reading them back without trusting them.
//!
//! Money is minor units beside a currency code, times are Unix microseconds, ids are TEXT.
//! Every read value is parsed again into its domain type: a row that does not parse is a
//! [`Failure::Corrupt`], never a panic.

use std::str::FromStr;

use pochi_core::{Currency, Money};
use serde::{Serialize, de::DeserializeOwned};
use sqlx::{Row, sqlite::SqliteRow};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Failure;

/// A time as stored: microseconds since the Unix epoch (UTC). Anything below a microsecond is
/// dropped, as `pochi_core::clock::to_micros` does.
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    // `time` covers ±9999 years, about ±3.2e17 µs: always within i64.
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000)).unwrap_or(i64::MAX)
}

/// A count or limit as SQLite takes it.
pub(crate) fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A value as JSON text.
pub(crate) fn json<T: Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| Failure::corrupt("json", e))
}

/// Reads the columns of one row, each into its domain type.
pub(crate) struct Columns<'r>(pub(crate) &'r SqliteRow);

impl Columns<'_> {
    pub(crate) fn text(&self, column: &'static str) -> Result<String, Failure> {
        Ok(self.0.try_get(column)?)
    }

    pub(crate) fn opt_text(&self, column: &'static str) -> Result<Option<String>, Failure> {
        Ok(self.0.try_get(column)?)
    }

    pub(crate) fn int(&self, column: &'static str) -> Result<i64, Failure> {
        Ok(self.0.try_get(column)?)
    }

    pub(crate) fn opt_int(&self, column: &'static str) -> Result<Option<i64>, Failure> {
        Ok(self.0.try_get(column)?)
    }

    pub(crate) fn flag(&self, column: &'static str) -> Result<bool, Failure> {
        match self.int(column)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Failure::corrupt(column, "not 0 or 1")),
        }
    }

    pub(crate) fn u32(&self, column: &'static str) -> Result<u32, Failure> {
        u32::try_from(self.int(column)?).map_err(|e| Failure::corrupt(column, e))
    }

    pub(crate) fn opt_u32(&self, column: &'static str) -> Result<Option<u32>, Failure> {
        self.opt_int(column)?
            .map(|n| u32::try_from(n).map_err(|e| Failure::corrupt(column, e)))
            .transpose()
    }

    pub(crate) fn u64(&self, column: &'static str) -> Result<u64, Failure> {
        u64::try_from(self.int(column)?).map_err(|e| Failure::corrupt(column, e))
    }

    pub(crate) fn uuid(&self, column: &'static str) -> Result<Uuid, Failure> {
        Uuid::try_parse(&self.text(column)?).map_err(|e| Failure::corrupt(column, e))
    }

    pub(crate) fn opt_uuid(&self, column: &'static str) -> Result<Option<Uuid>, Failure> {
        self.opt_text(column)?
            .map(|text| Uuid::try_parse(&text).map_err(|e| Failure::corrupt(column, e)))
            .transpose()
    }

    pub(crate) fn time(&self, column: &'static str) -> Result<OffsetDateTime, Failure> {
        from_micros(column, self.int(column)?)
    }

    pub(crate) fn opt_time(&self, column: &'static str) -> Result<Option<OffsetDateTime>, Failure> {
        self.opt_int(column)?
            .map(|m| from_micros(column, m))
            .transpose()
    }

    pub(crate) fn currency(&self, column: &'static str) -> Result<Currency, Failure> {
        Currency::from_str(&self.text(column)?).map_err(|e| Failure::corrupt(column, e))
    }

    /// An amount in minor units, in the currency of `currency_column`.
    pub(crate) fn money(&self, column: &'static str, currency: Currency) -> Result<Money, Failure> {
        Money::from_minor(self.int(column)?, currency).map_err(|e| Failure::corrupt(column, e))
    }

    /// A text column parsed by `parse` (a domain type's own parser).
    pub(crate) fn parsed<T, E: ToString>(
        &self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, Failure> {
        parse(&self.text(column)?).map_err(|e| Failure::corrupt(column, e))
    }

    /// A nullable text column parsed by `parse`.
    pub(crate) fn opt_parsed<T, E: ToString>(
        &self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, Failure> {
        self.opt_text(column)?
            .map(|text| parse(&text).map_err(|e| Failure::corrupt(column, e)))
            .transpose()
    }

    /// A JSON text column.
    pub(crate) fn json<T: DeserializeOwned>(&self, column: &'static str) -> Result<T, Failure> {
        self.parsed(column, |text| serde_json::from_str::<T>(text))
    }

    /// A nullable JSON text column.
    pub(crate) fn opt_json<T: DeserializeOwned>(
        &self,
        column: &'static str,
    ) -> Result<Option<T>, Failure> {
        self.opt_parsed(column, |text| serde_json::from_str::<T>(text))
    }
}

fn from_micros(column: &'static str, micros: i64) -> Result<OffsetDateTime, Failure> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map_err(|e| Failure::corrupt(column, e))
}

/// Checks that amounts kept under one currency column really share that currency.
pub(crate) fn one_currency(amounts: &[Money]) -> Result<Currency, Failure> {
    let mut currencies = amounts.iter().map(|m| m.currency());
    let first = currencies
        .next()
        .ok_or_else(|| Failure::corrupt("currency", "no amount"))?;
    if currencies.all(|c| c == first) {
        Ok(first)
    } else {
        Err(Failure::corrupt(
            "currency",
            "amounts of one record are in different currencies",
        ))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn times_are_kept_as_unix_microseconds() {
        let at = datetime!(2026-03-01 10:00:00.123456 UTC);
        assert_eq!(micros(at), 1_772_359_200_123_456);
        assert_eq!(from_micros("t", micros(at)).unwrap(), at);
        let before_epoch = datetime!(1969-12-31 23:59:59.999999 UTC);
        assert_eq!(micros(before_epoch), -1);
        assert_eq!(from_micros("t", -1).unwrap(), before_epoch);
    }
}
