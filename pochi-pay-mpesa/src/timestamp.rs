//! Daraja timestamps (`YYYYMMDDHHmmss`) and the password derived from them.

use std::fmt;

use base64::{Engine, engine::general_purpose::STANDARD};
use pochi_core::error::InvalidValue;
use secrecy::{ExposeSecret, SecretString};
use time::{
    OffsetDateTime, PrimitiveDateTime, UtcOffset, format_description::BorrowedFormatItem,
    macros::format_description, macros::offset,
};

/// East Africa Time (UTC+3, no daylight saving): the zone Daraja's timestamps are read in.
pub(crate) const EAST_AFRICA_TIME: UtcOffset = offset!(+3);

const FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day][hour][minute][second]");

/// A Daraja timestamp, `YYYYMMDDHHmmss` in a fixed zone.
///
/// Generated once per request and used for both the `Password` and the `Timestamp` field:
/// Daraja answers "Wrong credentials" when the two differ.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Timestamp(String);

impl Timestamp {
    /// The timestamp of `instant` read in the zone `offset` (computed from UTC, never from the
    /// host's zone).
    pub(crate) fn at(instant: OffsetDateTime, offset: UtcOffset) -> Self {
        let local = instant.to_offset(offset);
        // Formatting a valid date with digits-only items cannot fail; keep a fallback anyway.
        let text = local.format(FORMAT).unwrap_or_else(|_| {
            format!(
                "{:04}{:02}{:02}{:02}{:02}{:02}",
                local.year(),
                u8::from(local.month()),
                local.day(),
                local.hour(),
                local.minute(),
                local.second()
            )
        });
        Timestamp(text)
    }

    /// Parses a timestamp as Daraja sends it: 14 digits forming a real date and time.
    pub(crate) fn parse(text: &str) -> Result<Self, InvalidValue> {
        let text = text.trim();
        if text.len() == 14
            && text.bytes().all(|b| b.is_ascii_digit())
            && PrimitiveDateTime::parse(text, FORMAT).is_ok()
        {
            Ok(Timestamp(text.to_owned()))
        } else {
            Err(InvalidValue::new("must be a timestamp YYYYMMDDHHmmss"))
        }
    }

    /// The instant it names when read in the zone `offset`.
    pub(crate) fn to_instant(&self, offset: UtcOffset) -> Option<OffsetDateTime> {
        PrimitiveDateTime::parse(&self.0, FORMAT)
            .ok()
            .map(|local| local.assume_offset(offset))
    }

    /// The 14 digits.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The STK `Password`: `base64(shortcode + passkey + timestamp)`, plain concatenation.
///
/// It reveals the passkey to anyone who decodes it, so it is a secret too.
pub(crate) fn password(
    shortcode: &str,
    passkey: &SecretString,
    timestamp: &Timestamp,
) -> SecretString {
    let mut plain = String::with_capacity(shortcode.len() + 64 + 14);
    plain.push_str(shortcode);
    plain.push_str(passkey.expose_secret());
    plain.push_str(timestamp.as_str());
    SecretString::from(STANDARD.encode(plain.as_bytes()))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const SANDBOX_PASSKEY: &str =
        "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919";

    #[test]
    fn timestamps_are_read_in_east_africa_time_from_utc() {
        let ts = Timestamp::at(datetime!(2023-12-10 10:34:16 UTC), EAST_AFRICA_TIME);
        assert_eq!(ts.as_str(), "20231210133416");
        let ts = Timestamp::at(datetime!(2023-12-31 22:00:05 UTC), EAST_AFRICA_TIME);
        assert_eq!(ts.as_str(), "20240101010005");
        let ts = Timestamp::at(datetime!(2023-12-31 22:00:05 UTC), UtcOffset::UTC);
        assert_eq!(ts.as_str(), "20231231220005");
    }

    #[test]
    fn parsing_accepts_only_real_fourteen_digit_times() {
        let ts = Timestamp::parse("20191219102115").unwrap();
        assert_eq!(
            ts.to_instant(EAST_AFRICA_TIME),
            Some(datetime!(2019-12-19 07:21:15 UTC))
        );
        for bad in [
            "2019121910211",
            "20191319102115",
            "2019-12-19 10:21",
            "201912191021150",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_matches_the_golden_values_of_the_sandbox() {
        let passkey = SecretString::from(SANDBOX_PASSKEY);
        let query = password(
            "174379",
            &passkey,
            &Timestamp::parse("20160216165627").unwrap(),
        );
        assert_eq!(
            query.expose_secret(),
            "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGExZWQyYzkxOTIwMTYwMjE2MTY1NjI3"
        );
        let push = password(
            "174379",
            &passkey,
            &Timestamp::parse("20210628092408").unwrap(),
        );
        assert_eq!(
            push.expose_secret(),
            "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGExZWQyYzkxOTIwMjEwNjI4MDkyNDA4"
        );
    }
}
