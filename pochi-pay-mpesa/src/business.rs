//! The shop's M-Pesa account: a paybill, or a till with its store number.

use std::fmt;

use pochi_core::error::InvalidValue;
use serde::{Deserialize, Serialize};

/// A business shortcode, store (head-office) number or till number: 5 to 8 digits, not
/// starting with 0.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShortCode(String);

impl ShortCode {
    /// Parses a shortcode.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let text = text.trim();
        if (5..=8).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_digit())
            && !text.starts_with('0')
        {
            Ok(ShortCode(text.to_owned()))
        } else {
            Err(InvalidValue::new(
                "must be 5 to 8 digits, not starting with 0",
            ))
        }
    }

    /// Safaricom's public sandbox paybill, 174379.
    pub fn sandbox() -> Self {
        ShortCode(crate::config::SANDBOX_SHORTCODE.to_owned())
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number, as Daraja's numeric fields take it.
    pub fn as_number(&self) -> u64 {
        // At most 8 digits: always fits.
        self.0.parse().unwrap_or_default()
    }
}

impl fmt::Display for ShortCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ShortCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShortCode({})", self.0)
    }
}

impl TryFrom<String> for ShortCode {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        ShortCode::parse(&value)
    }
}

impl From<ShortCode> for String {
    fn from(value: ShortCode) -> Self {
        value.0
    }
}

/// How the shop receives M-Pesa money. The STK `TransactionType`, `BusinessShortCode` and
/// `PartyB` all follow from it, so a till push cannot be sent as a paybill one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Business {
    /// A paybill: `CustomerPayBillOnline`, `PartyB` = the shortcode.
    PayBill {
        /// The paybill number.
        shortcode: ShortCode,
    },
    /// A till (Buy Goods): `CustomerBuyGoodsOnline`, `BusinessShortCode` = the store
    /// (head-office) number used at Go Live, `PartyB` = the till number.
    Till {
        /// The store / head-office number.
        store_number: ShortCode,
        /// The till number.
        till_number: ShortCode,
    },
}

/// The STK `TransactionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionType {
    /// Paybill.
    CustomerPayBillOnline,
    /// Till (Buy Goods).
    CustomerBuyGoodsOnline,
}

impl TransactionType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionType::CustomerPayBillOnline => "CustomerPayBillOnline",
            TransactionType::CustomerBuyGoodsOnline => "CustomerBuyGoodsOnline",
        }
    }
}

impl Business {
    /// The `BusinessShortCode` of STK requests (and the `ShortCode` C2B URLs are registered
    /// for): the paybill, or the till's store number.
    pub fn business_short_code(&self) -> &ShortCode {
        match self {
            Business::PayBill { shortcode } => shortcode,
            Business::Till { store_number, .. } => store_number,
        }
    }

    /// The `PartyB` of STK pushes: the paybill, or the till number.
    pub fn party_b(&self) -> &ShortCode {
        match self {
            Business::PayBill { shortcode } => shortcode,
            Business::Till { till_number, .. } => till_number,
        }
    }

    /// The `TransactionType` of STK pushes.
    pub fn transaction_type(&self) -> TransactionType {
        match self {
            Business::PayBill { .. } => TransactionType::CustomerPayBillOnline,
            Business::Till { .. } => TransactionType::CustomerBuyGoodsOnline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_till_pushes_buy_goods_from_its_store_number_to_its_till() {
        let till = Business::Till {
            store_number: ShortCode::parse("300300").unwrap(),
            till_number: ShortCode::parse("5123456").unwrap(),
        };
        assert_eq!(
            till.transaction_type(),
            TransactionType::CustomerBuyGoodsOnline
        );
        assert_eq!(till.business_short_code().as_str(), "300300");
        assert_eq!(till.party_b().as_str(), "5123456");
        let paybill = Business::PayBill {
            shortcode: ShortCode::parse("174379").unwrap(),
        };
        assert_eq!(
            paybill.transaction_type(),
            TransactionType::CustomerPayBillOnline
        );
        assert_eq!(paybill.party_b(), paybill.business_short_code());
    }

    #[test]
    fn shortcodes_are_five_to_eight_digits() {
        assert_eq!(ShortCode::parse(" 174379 ").unwrap().as_number(), 174_379);
        for bad in ["1743", "123456789", "17437a", "012345", ""] {
            assert!(ShortCode::parse(bad).is_err(), "{bad}");
        }
    }
}
