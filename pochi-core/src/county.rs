//! Kenya's 47 counties.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InvalidValue;

/// The canonical names, in the order of the official county codes (001 Mombasa … 047 Nairobi).
const NAMES: [&str; 47] = [
    "Mombasa",
    "Kwale",
    "Kilifi",
    "Tana River",
    "Lamu",
    "Taita-Taveta",
    "Garissa",
    "Wajir",
    "Mandera",
    "Marsabit",
    "Isiolo",
    "Meru",
    "Tharaka-Nithi",
    "Embu",
    "Kitui",
    "Machakos",
    "Makueni",
    "Nyandarua",
    "Nyeri",
    "Kirinyaga",
    "Murang'a",
    "Kiambu",
    "Turkana",
    "West Pokot",
    "Samburu",
    "Trans Nzoia",
    "Uasin Gishu",
    "Elgeyo-Marakwet",
    "Nandi",
    "Baringo",
    "Laikipia",
    "Nakuru",
    "Narok",
    "Kajiado",
    "Kericho",
    "Bomet",
    "Kakamega",
    "Vihiga",
    "Bungoma",
    "Busia",
    "Siaya",
    "Kisumu",
    "Homa Bay",
    "Migori",
    "Kisii",
    "Nyamira",
    "Nairobi",
];

/// One of Kenya's 47 counties, stored by its canonical spelling.
///
/// Parsing ignores case, spaces, hyphens, slashes and apostrophes (`"taita taveta"`,
/// `"MURANGA"`, `"Elgeyo/Marakwet"`) and accepts `"Nairobi City"`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct County(u8);

impl County {
    /// Parses a county name.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let text = if Self::key(text).eq(Self::key("Nairobi City")) {
            "Nairobi"
        } else {
            text
        };
        // Compared character by character: no string is built for the 47 names.
        NAMES
            .iter()
            .position(|name| Self::key(name).eq(Self::key(text)))
            .and_then(|index| u8::try_from(index).ok())
            .map(County)
            .ok_or(InvalidValue::new("must be one of Kenya's 47 counties"))
    }

    /// All 47 counties, in official code order.
    pub fn all() -> impl ExactSizeIterator<Item = County> {
        (0..47u8).map(County)
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        NAMES[usize::from(self.0)]
    }

    /// The official county code, 1 (Mombasa) to 47 (Nairobi).
    pub fn code(self) -> u8 {
        self.0 + 1
    }

    /// What names are compared by: letters and digits, lowercased.
    fn key(text: &str) -> impl Iterator<Item = char> + '_ {
        text.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
    }
}

impl fmt::Display for County {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for County {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "County({})", self.name())
    }
}

impl TryFrom<String> for County {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        County::parse(&value)
    }
}

impl From<County> for String {
    fn from(value: County) -> Self {
        value.name().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_47_distinct_counties() {
        let mut names: Vec<_> = County::all().map(County::name).collect();
        assert_eq!(names.len(), 47);
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 47);
    }

    #[test]
    fn every_canonical_name_parses_to_itself() {
        for county in County::all() {
            assert_eq!(County::parse(county.name()).unwrap(), county);
        }
    }

    #[test]
    fn matching_ignores_case_and_separators() {
        for (input, expected) in [
            ("nairobi", "Nairobi"),
            ("NAIROBI CITY", "Nairobi"),
            ("taita taveta", "Taita-Taveta"),
            ("Taita/Taveta", "Taita-Taveta"),
            ("muranga", "Murang'a"),
            ("  Elgeyo Marakwet ", "Elgeyo-Marakwet"),
            ("homabay", "Homa Bay"),
            ("tharaka nithi", "Tharaka-Nithi"),
        ] {
            assert_eq!(County::parse(input).unwrap().name(), expected, "{input}");
        }
    }

    #[test]
    fn unknown_names_are_rejected() {
        for input in ["", "Nairobi County X", "Kampala", "Mombasa!!x", "-"] {
            assert!(County::parse(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn codes_follow_the_official_order() {
        assert_eq!(County::parse("Mombasa").unwrap().code(), 1);
        assert_eq!(County::parse("Nairobi").unwrap().code(), 47);
        assert_eq!(County::parse("Nakuru").unwrap().code(), 32);
    }
}
