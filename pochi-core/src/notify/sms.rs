//! How long a text is as SMS: GSM-7 (the GSM 03.38 alphabet, seven bits a character, the
//! extension table's characters taking two) or UCS-2 (UTF-16 code units) when any character
//! is outside it, and how many messages (segments) it takes. A message in one segment holds
//! 160 GSM-7 characters or 70 UCS-2 units; one in several segments gives 7 septets (or 3
//! units) of each to the header that joins them: 153 and 67. A two-unit character is never
//! split across two segments.

use serde::Serialize;

/// GSM 03.38's basic table (one septet each), apart from the escape.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// GSM 03.38's extension table (an escape and the character: two septets each).
const GSM_EXTENSION: &str = "\u{0c}^{}\\[~]|€";

/// How a text is encoded as SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SmsEncoding {
    /// The GSM 7-bit default alphabet.
    #[serde(rename = "gsm7")]
    Gsm7,
    /// UCS-2 (UTF-16), for text with a character outside the GSM alphabet (an emoji, a
    /// curly quote).
    #[serde(rename = "ucs2")]
    Ucs2,
}

/// The SMS length of a text (segments counted as [`split_segments`](crate::notify::split_segments) counts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsLength {
    /// GSM-7, or UCS-2 when a character needs it.
    pub encoding: SmsEncoding,
    /// The length in the encoding's units: GSM septets (an extension character counts 2) or
    /// UTF-16 code units.
    pub units: u32,
    /// How many SMS it takes (0 for an empty text).
    pub segments: u32,
    /// The units one segment holds at this length: 160 or 153 (GSM-7), 70 or 67 (UCS-2).
    pub per_segment_limit: u32,
    /// Units left in the last segment before it takes another.
    pub remaining: u32,
}

/// The septets a character takes in GSM-7, or `None` if it is not in the alphabet.
fn gsm_septets(c: char) -> Option<u32> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

impl SmsLength {
    /// Measures `text`.
    pub fn of(text: &str) -> SmsLength {
        let gsm: Option<Vec<u32>> = text.chars().map(gsm_septets).collect();
        let (encoding, weights, single, multi) = match gsm {
            Some(weights) => (SmsEncoding::Gsm7, weights, 160, 153),
            None => (
                SmsEncoding::Ucs2,
                text.chars()
                    .map(|c| u32::try_from(c.len_utf16()).unwrap_or(2))
                    .collect(),
                70,
                67,
            ),
        };
        let units: u32 = weights.iter().sum();
        if units <= single {
            return SmsLength {
                encoding,
                units,
                segments: u32::from(units > 0),
                per_segment_limit: single,
                remaining: single - units,
            };
        }
        let (segments, used) = pack(&weights, multi);
        SmsLength {
            encoding,
            units,
            segments,
            per_segment_limit: multi,
            remaining: multi - used,
        }
    }
}

/// Packs characters of `weights` into segments of `capacity` units, never splitting one:
/// the number of segments and the units used in the last.
fn pack(weights: &[u32], capacity: u32) -> (u32, u32) {
    let (mut segments, mut used) = (1, 0);
    for &weight in weights {
        if used + weight > capacity {
            segments += 1;
            used = 0;
        }
        used += weight;
    }
    (segments, used)
}

/// Splits `text` into the pieces it goes as, when it takes more than one SMS (one piece
/// otherwise), never splitting a character.
pub fn split_segments(text: &str) -> Vec<String> {
    let length = SmsLength::of(text);
    if length.segments <= 1 {
        return vec![text.to_owned()];
    }
    let weight = |c: char| match length.encoding {
        SmsEncoding::Gsm7 => gsm_septets(c).unwrap_or(1),
        SmsEncoding::Ucs2 => u32::try_from(c.len_utf16()).unwrap_or(2),
    };
    let mut pieces = vec![String::new()];
    let mut used = 0;
    for c in text.chars() {
        let w = weight(c);
        if used + w > length.per_segment_limit {
            pieces.push(String::new());
            used = 0;
        }
        used += w;
        if let Some(last) = pieces.last_mut() {
            last.push(c);
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(text: &str) -> (SmsEncoding, u32, u32, u32) {
        let l = SmsLength::of(text);
        (l.encoding, l.units, l.segments, l.remaining)
    }

    #[test]
    fn plain_text_fits_160_then_takes_153_a_segment() {
        assert_eq!(len(""), (SmsEncoding::Gsm7, 0, 0, 160));
        assert_eq!(len(&"a".repeat(160)), (SmsEncoding::Gsm7, 160, 1, 0));
        assert_eq!(len(&"a".repeat(161)), (SmsEncoding::Gsm7, 161, 2, 145));
        assert_eq!(len(&"a".repeat(306)), (SmsEncoding::Gsm7, 306, 2, 0));
        assert_eq!(len(&"a".repeat(307)), (SmsEncoding::Gsm7, 307, 3, 152));
    }

    #[test]
    fn extension_characters_count_two_and_are_never_split() {
        assert_eq!(len("€5"), (SmsEncoding::Gsm7, 3, 1, 157));
        assert_eq!(len(&"[".repeat(80)), (SmsEncoding::Gsm7, 160, 1, 0));
        // 152 plain septets then an extension character: it does not fit in the first
        // segment's last septet, so it opens the second.
        let text = format!("{}{}", "a".repeat(152), "{".repeat(5));
        let l = SmsLength::of(&text);
        assert_eq!((l.units, l.segments, l.remaining), (162, 2, 153 - 10));
        let pieces = split_segments(&text);
        assert_eq!(pieces[0], "a".repeat(152));
        assert_eq!(pieces[1], "{".repeat(5));
    }

    #[test]
    fn a_character_outside_gsm_makes_it_ucs2() {
        assert_eq!(len("Asante 🙏"), (SmsEncoding::Ucs2, 9, 1, 61));
        assert_eq!(len(&"ś".repeat(70)), (SmsEncoding::Ucs2, 70, 1, 0));
        assert_eq!(len(&"ś".repeat(71)), (SmsEncoding::Ucs2, 71, 2, 63));
        // A curly quote is enough.
        assert_eq!(SmsLength::of("it’s").encoding, SmsEncoding::Ucs2);
        // An emoji (two units) is never split between segments.
        let text = format!("{}🙏", "ś".repeat(66));
        let l = SmsLength::of(&text);
        assert_eq!((l.units, l.segments, l.remaining), (68, 1, 2));
        let text = format!("{}🙏", "ś".repeat(70));
        let pieces = split_segments(&text);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].chars().count(), 67);
        assert!(pieces[1].ends_with('🙏'));
    }

    #[test]
    fn kiswahili_stays_gsm7() {
        let text = "Asante! Oda yako imepokelewa. Lipa au fuatilia: https://duka.example/pay";
        assert_eq!(SmsLength::of(text).encoding, SmsEncoding::Gsm7);
    }

    #[test]
    fn it_serialises_as_the_api_shows_it() {
        let json = serde_json::to_value(SmsLength::of("Habari")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"encoding": "gsm7", "units": 6, "segments": 1,
                "perSegmentLimit": 160, "remaining": 154})
        );
    }
}
