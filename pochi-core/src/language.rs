//! The languages the shop speaks to its customers: English and Kiswahili.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::error::InvalidValue;

/// A language a customer reads the shop's pages and messages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Language {
    /// English (`en`), the default.
    #[default]
    #[serde(rename = "en")]
    English,
    /// Kiswahili (`sw`).
    #[serde(rename = "sw")]
    Kiswahili,
}

impl Language {
    /// Every language, the default first.
    pub const ALL: [Language; 2] = [Language::English, Language::Kiswahili];

    /// Its BCP 47 tag (`en`, `sw`), as stored and sent.
    pub const fn as_str(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Kiswahili => "sw",
        }
    }

    /// The best language for an `Accept-Language` header value: the first of the client's
    /// ranges, by weight, that the shop speaks (`sw`, `sw-KE`, `en-GB` …); English when none is.
    pub fn from_accept_language(header: &str) -> Language {
        let mut best: Option<(u16, usize, Language)> = None;
        for (position, range) in header.split(',').enumerate().take(32) {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(1000, parse_weight);
            if weight == 0 {
                continue;
            }
            let primary = tag.split('-').next().unwrap_or("");
            let Ok(language) = primary.parse::<Language>() else {
                continue;
            };
            let better = best.is_none_or(|(w, p, _)| weight > w || (weight == w && position < p));
            if better {
                best = Some((weight, position, language));
            }
        }
        best.map_or(Language::English, |(_, _, language)| language)
    }
}

/// A q-value in thousandths (`0.8` → 800); anything unreadable counts as 0.
fn parse_weight(text: &str) -> u16 {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let whole: u16 = match whole {
        "0" => 0,
        "1" => 1,
        _ => return 0,
    };
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let mut thousandths = 0u16;
    for (i, digit) in fraction.bytes().enumerate() {
        thousandths += u16::from(digit - b'0') * [100, 10, 1][i];
    }
    (whole * 1000 + thousandths).min(1000)
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Language {
    type Err = InvalidValue;

    /// `en` or `sw` (any case; `swa` and `eng` too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "eng" => Ok(Language::English),
            "sw" | "swa" => Ok(Language::Kiswahili),
            _ => Err(InvalidValue::new(
                "must be a language the shop speaks: en or sw",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_heaviest_range_the_shop_speaks() {
        assert_eq!(
            Language::from_accept_language("sw-KE,sw;q=0.9,en;q=0.8"),
            Language::Kiswahili
        );
        assert_eq!(
            Language::from_accept_language("en-GB,en;q=0.9,sw;q=0.8"),
            Language::English
        );
        assert_eq!(
            Language::from_accept_language("fr-FR,sw;q=0.5,en;q=0.4"),
            Language::Kiswahili
        );
        assert_eq!(
            Language::from_accept_language("en;q=0.2, sw;q=0.7"),
            Language::Kiswahili
        );
        assert_eq!(
            Language::from_accept_language("sw;q=0, en;q=0.1"),
            Language::English
        );
        assert_eq!(Language::from_accept_language("fr, de"), Language::English);
        assert_eq!(Language::from_accept_language(""), Language::English);
        assert_eq!(
            Language::from_accept_language("sw;q=abc"),
            Language::English
        );
    }

    #[test]
    fn tags_round_trip() {
        for language in Language::ALL {
            assert_eq!(language.as_str().parse::<Language>().ok(), Some(language));
            let json = serde_json::to_string(&language).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", language.as_str()));
        }
        assert!("fr".parse::<Language>().is_err());
    }
}
