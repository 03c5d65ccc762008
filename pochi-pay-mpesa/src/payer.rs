//! The payer's number as Daraja reports it: a full MSISDN, a masked one (`2547 ***** 126`) or,
//! since about 2024 on C2B, a SHA-256 hash. Never assumed dialable unless it is a full number.

use std::fmt;

use pochi_core::Msisdn;
use sha2::{Digest, Sha256};

/// An MSISDN as reported in a callback or C2B notification.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum Payer {
    /// A full, valid Kenyan mobile number.
    Phone(Msisdn),
    /// A number with hidden digits (`2547 ***** 126`, `25470****149`), as reported.
    Masked(String),
    /// A SHA-256 hex digest of the number (lower case).
    Hashed(String),
    /// Anything else, as reported.
    Unknown(String),
}

impl Payer {
    /// Classifies a reported MSISDN. `None` when it is empty.
    pub(crate) fn parse(reported: &str) -> Option<Self> {
        let text = reported.trim();
        if text.is_empty() {
            return None;
        }
        Some(
            if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                Payer::Hashed(text.to_ascii_lowercase())
            } else if text.contains('*') {
                Payer::Masked(text.to_owned())
            } else if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
                Msisdn::parse(text).map_or_else(|_| Payer::Unknown(text.to_owned()), Payer::Phone)
            } else {
                Payer::Unknown(text.to_owned())
            },
        )
    }

    /// The value as reported (the normalised number for [`Payer::Phone`]).
    pub(crate) fn as_reported(&self) -> &str {
        match self {
            Payer::Phone(phone) => phone.as_str(),
            Payer::Masked(text) | Payer::Hashed(text) | Payer::Unknown(text) => text,
        }
    }

    /// The number, when it is a full one.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "no caller since Payer became private")
    )]
    pub(crate) fn phone(&self) -> Option<&Msisdn> {
        match self {
            Payer::Phone(phone) => Some(phone),
            _ => None,
        }
    }

    /// Whether this payer may be `phone`: equal numbers, a hash of `2547XXXXXXXX` (the input
    /// format reported by integrators; unconfirmed by Safaricom), or a mask whose visible
    /// digits agree.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "no caller since Payer became private")
    )]
    pub(crate) fn hash_matches(&self, phone: &Msisdn) -> bool {
        match self {
            Payer::Phone(own) => own == phone,
            Payer::Hashed(hex) => {
                let digest = Sha256::digest(phone.as_str().as_bytes());
                let expected: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                *hex == expected
            }
            Payer::Masked(mask) => mask_matches(mask, phone.as_str()),
            Payer::Unknown(_) => false,
        }
    }
}

/// Whether the visible digits of `mask` fit `number`: the digits before the first `*` are its
/// start and the digits after the last `*` are its end.
fn mask_matches(mask: &str, number: &str) -> bool {
    let compact: String = mask.chars().filter(|c| !c.is_whitespace()).collect();
    let (Some(first), Some(last)) = (compact.find('*'), compact.rfind('*')) else {
        return false;
    };
    let head = &compact[..first];
    let tail = &compact[last + 1..];
    head.len() + tail.len() < number.len() && number.starts_with(head) && number.ends_with(tail)
}

impl fmt::Debug for Payer {
    /// A full number is masked, so logs never carry one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payer::Phone(phone) => write!(f, "Payer::Phone({})", phone.masked()),
            Payer::Masked(text) => write!(f, "Payer::Masked({text})"),
            Payer::Hashed(text) => write!(f, "Payer::Hashed({text})"),
            Payer::Unknown(_) => f.write_str("Payer::Unknown(..)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_numbers_are_classified_without_assuming_they_can_be_dialled() {
        let phone = Msisdn::parse("254708374149").unwrap();
        assert_eq!(
            Payer::parse("254708374149"),
            Some(Payer::Phone(phone.clone()))
        );
        assert_eq!(
            Payer::parse("2547 ***** 126"),
            Some(Payer::Masked("2547 ***** 126".into()))
        );
        let hash = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        assert_eq!(
            Payer::parse(hash),
            Some(Payer::Hashed(hash.to_ascii_lowercase()))
        );
        assert_eq!(Payer::parse("  "), None);
        assert_eq!(
            Payer::parse("NICHOLAS"),
            Some(Payer::Unknown("NICHOLAS".into()))
        );
        assert!(Payer::parse("2547 ***** 126").unwrap().phone().is_none());
    }

    #[test]
    fn a_hashed_or_masked_payer_can_be_linked_to_a_known_phone() {
        let phone = Msisdn::parse("0708374149").unwrap();
        let digest = Sha256::digest(b"254708374149");
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert!(Payer::parse(&hex).unwrap().hash_matches(&phone));
        assert!(
            !Payer::parse(&hex)
                .unwrap()
                .hash_matches(&Msisdn::parse("0708374148").unwrap())
        );
        assert!(Payer::parse("25470****149").unwrap().hash_matches(&phone));
        assert!(!Payer::parse("2547 ***** 126").unwrap().hash_matches(&phone));
    }

    #[test]
    fn debug_output_hides_full_numbers() {
        let payer = Payer::parse("254708374149").unwrap();
        assert_eq!(format!("{payer:?}"), "Payer::Phone(2547*****149)");
    }
}
