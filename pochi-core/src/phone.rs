//! Kenyan mobile numbers (MSISDNs), normalised to `2547XXXXXXXX` / `2541XXXXXXXX`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InvalidValue;

/// A Kenyan mobile number in international form without `+`: `2547XXXXXXXX` or `2541XXXXXXXX`.
///
/// Parsing accepts what people type: `0712 345 678`, `0112-345-678`, `+254 712 345678`,
/// `254712345678`, `712345678`, with spaces, dashes, dots or parentheses.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Msisdn(String);

impl Msisdn {
    /// Parses and normalises a phone number.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        const HINT: &str = "must be a Kenyan mobile number such as 0712345678 or +254712345678";
        let trimmed = text.trim();
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let mut digits = String::with_capacity(12);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(InvalidValue::new(HINT)),
            }
            if digits.len() > 12 {
                return Err(InvalidValue::new(HINT));
            }
        }
        let national = match (plus, digits.len()) {
            (_, 12) if digits.starts_with("254") => &digits[3..],
            (false, 10) if digits.starts_with('0') => &digits[1..],
            (false, 9) => &digits[..],
            _ => return Err(InvalidValue::new(HINT)),
        };
        if !(national.starts_with('7') || national.starts_with('1')) {
            return Err(InvalidValue::new(
                "must be a Kenyan mobile number (starting 07 or 01)",
            ));
        }
        Ok(Msisdn(format!("254{national}")))
    }

    /// The normalised number, `2547XXXXXXXX`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with its middle hidden, for pages anyone can see: `2547*****678`.
    pub fn masked(&self) -> String {
        format!("{}*****{}", &self.0[..4], &self.0[9..])
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Msisdn {
    /// Debug output is masked so a stray `{:?}` in a log line leaks no phone number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Msisdn({})", self.masked())
    }
}

impl TryFrom<String> for Msisdn {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Msisdn::parse(&value)
    }
}

impl From<Msisdn> for String {
    fn from(value: Msisdn) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_form_normalises_to_international() {
        for (input, expected) in [
            ("0712345678", "254712345678"),
            ("0712 345 678", "254712345678"),
            ("0712-345-678", "254712345678"),
            ("+254712345678", "254712345678"),
            ("+254 712 345 678", "254712345678"),
            ("254712345678", "254712345678"),
            ("712345678", "254712345678"),
            ("0112345678", "254112345678"),
            ("+254 (112) 345678", "254112345678"),
            ("  0799.000.111 ", "254799000111"),
        ] {
            assert_eq!(Msisdn::parse(input).unwrap().as_str(), expected, "{input}");
        }
    }

    #[test]
    fn anything_else_is_rejected() {
        for input in [
            "",
            "0812345678",
            "071234567",
            "07123456789",
            "+0712345678",
            "255712345678",
            "2547123456789",
            "0712a45678",
            "0712٣45678",
            "+",
            "7123456789",
            "612345678",
            // `(0)` after the country code is a common habit, but it adds a digit.
            "+254 (0)712 345678",
        ] {
            assert!(Msisdn::parse(input).is_err(), "{input:?} was accepted");
        }
    }

    #[test]
    fn masking_hides_the_middle_digits() {
        let phone = Msisdn::parse("0712345678").unwrap();
        assert_eq!(phone.masked(), "2547*****678");
        assert_eq!(format!("{phone:?}"), "Msisdn(2547*****678)");
    }

    #[test]
    fn deserialising_normalises_or_fails() {
        let phone: Msisdn = serde_json::from_str("\"0712 345 678\"").unwrap();
        assert_eq!(phone.as_str(), "254712345678");
        assert!(serde_json::from_str::<Msisdn>("\"12\"").is_err());
    }
}
