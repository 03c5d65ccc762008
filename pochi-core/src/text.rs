//! Bounded free text (names, areas, addresses, descriptions) and quantities.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InvalidValue;

/// Trims `text` and checks it is non-empty and at most `max_chars` characters, with no control
/// characters (tabs and newlines are allowed only where `multiline`). Any other Unicode is kept
/// exactly as given.
pub fn bounded_text(text: &str, max_chars: usize, multiline: bool) -> Result<String, InvalidValue> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(InvalidValue::new("must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(InvalidValue::owned(format!(
            "must be at most {max_chars} characters"
        )));
    }
    let allowed_control = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if trimmed
        .chars()
        .any(|c| c.is_control() && !allowed_control(c))
    {
        return Err(InvalidValue::new("must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// Like [`bounded_text`], but empty (or absent) text is `None`.
pub fn optional_text(
    text: Option<&str>,
    max_chars: usize,
    multiline: bool,
) -> Result<Option<String>, InvalidValue> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => bounded_text(text, max_chars, multiline).map(Some),
    }
}

/// How many units of a product a line holds: 1 to [`Quantity::MAX`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    /// The most units one order line can hold.
    pub const MAX: u32 = 999;

    /// A quantity from a count.
    pub fn new(count: u32) -> Result<Self, InvalidValue> {
        match count {
            0 => Err(InvalidValue::new("must be at least 1")),
            n if n > Self::MAX => Err(InvalidValue::owned(format!(
                "must be at most {}",
                Self::MAX
            ))),
            n => Ok(Quantity(n)),
        }
    }

    /// A quantity from a signed count as JSON clients send it (negative counts are rejected).
    pub fn from_i64(count: i64) -> Result<Self, InvalidValue> {
        if count < 1 {
            return Err(InvalidValue::new("must be at least 1"));
        }
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        Self::new(count)
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Quantity({})", self.0)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl TryFrom<u32> for Quantity {
    type Error = InvalidValue;

    fn try_from(value: u32) -> Result<Self, Self::Error> {
        Quantity::new(value)
    }
}

impl From<Quantity> for u32 {
    fn from(value: Quantity) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_unicode_is_kept() {
        assert_eq!(
            bounded_text("  Wanjiru Kamau  ", 100, false).unwrap(),
            "Wanjiru Kamau"
        );
        assert_eq!(
            bounded_text(" Ñandú 🌽 Kĩmĩrĩ ", 50, false).unwrap(),
            "Ñandú 🌽 Kĩmĩrĩ"
        );
    }

    #[test]
    fn empty_long_and_control_text_is_rejected() {
        assert!(bounded_text("   ", 10, false).is_err());
        assert!(bounded_text("abcdefghijk", 10, false).is_err());
        assert!(
            bounded_text("🌽🌽🌽", 3, false).is_ok(),
            "limits count characters, not bytes"
        );
        assert!(bounded_text("a\u{0}b", 10, false).is_err());
        assert!(bounded_text("line one\nline two", 50, false).is_err());
        assert!(bounded_text("line one\nline two", 50, true).is_ok());
    }

    #[test]
    fn optional_text_treats_blank_as_absent() {
        assert_eq!(optional_text(None, 10, false).unwrap(), None);
        assert_eq!(optional_text(Some("  "), 10, false).unwrap(), None);
        assert_eq!(
            optional_text(Some(" x "), 10, false).unwrap(),
            Some("x".into())
        );
    }

    #[test]
    fn quantities_are_bounded() {
        assert!(Quantity::new(0).is_err());
        assert_eq!(Quantity::new(1).unwrap().get(), 1);
        assert_eq!(Quantity::new(999).unwrap().get(), 999);
        assert!(Quantity::new(1000).is_err());
        assert!(Quantity::from_i64(-3).is_err());
        assert!(Quantity::from_i64(i64::MAX).is_err());
    }
}
