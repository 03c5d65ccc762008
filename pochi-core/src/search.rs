//! The admin's order search: one box that finds an order by its number or its customer's name.

use crate::{error::InvalidValue, order::Order, text::bounded_text};

/// What an admin typed to find orders: part of an order number (any case, such as
/// `pochi-7k3m` or `7K3M`) or part of a customer's name (any case).
///
/// Stores match it with [`OrderSearch::matches`], or in SQL with
/// `number LIKE number_pattern ESCAPE '!' OR LOWER(customer_name) LIKE name_pattern ESCAPE '!'`
/// (the patterns have `%`, `_` and `!` escaped with `!`, which every SQL dialect takes the same
/// way, unlike a backslash). SQLite's `LOWER` folds only ASCII, so there a name with capital
/// letters outside ASCII must be typed in its own case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSearch {
    text: String,
    number: String,
    name: String,
}

impl OrderSearch {
    /// The longest search, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Parses a search; empty (or only spaces) is `None`.
    pub fn parse(text: &str) -> Result<Option<Self>, InvalidValue> {
        // Any control character is refused, even one that trimming would remove.
        if text.chars().any(char::is_control) {
            return Err(InvalidValue::new("must not contain control characters"));
        }
        // The limit counts what was sent, spaces included, as the API document states it.
        if text.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue::owned(format!(
                "must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if text.trim().is_empty() {
            return Ok(None);
        }
        let text = bounded_text(text, Self::MAX_CHARS, false)?;
        Ok(Some(OrderSearch {
            number: text.to_uppercase(),
            name: text.to_lowercase(),
            text,
        }))
    }

    /// The search as typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `order` is found by this search.
    pub fn matches(&self, order: &Order) -> bool {
        order.number.as_str().contains(&self.number)
            || order.customer.name.to_lowercase().contains(&self.name)
    }

    /// A `LIKE` pattern (escape character `!`) for the upper-case order number.
    pub fn number_pattern(&self) -> String {
        like_contains(&self.number)
    }

    /// A `LIKE` pattern (escape character `!`) for the lower-cased customer name.
    pub fn name_pattern(&self) -> String {
        like_contains(&self.name)
    }
}

/// `%text%` with `LIKE`'s wildcards in `text` escaped by `!`.
fn like_contains(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            pattern.push('!');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_no_search() {
        assert_eq!(OrderSearch::parse("   ").unwrap(), None);
    }

    #[test]
    fn control_characters_and_long_text_are_refused() {
        assert!(OrderSearch::parse("wanjiru\n").is_err());
        assert!(OrderSearch::parse("a\u{7}b").is_err());
        assert!(OrderSearch::parse(&"a".repeat(101)).is_err());
        assert!(OrderSearch::parse(&"a".repeat(100)).is_ok());
        assert!(OrderSearch::parse(&format!(" {}", "a".repeat(100))).is_err());
    }

    #[test]
    fn like_wildcards_are_escaped() {
        let search = OrderSearch::parse(" 50%_off! ").unwrap().unwrap();
        assert_eq!(search.name_pattern(), "%50!%!_off!!%");
        assert_eq!(search.number_pattern(), "%50!%!_OFF!!%");
    }
}
