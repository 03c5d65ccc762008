//! What Africa's Talking posts to the shop: a customer's reply (the incoming-messages
//! callback: `from`, `to`, `text`, `date`, `id`, `linkId` as a form) and the bulk SMS opt-out
//! notice (`senderId`, `phoneNumber`), and the keywords that opt a customer out of SMS or back
//! in.

use serde::Deserialize;

/// Why a callback body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not the form Africa's Talking sends: {0}")]
pub struct InboundError(&'static str);

/// A customer's text message to the shop's short code or number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncomingSms {
    /// The customer's number (`+254712345678`).
    pub from: String,
    /// The shop's short code or number.
    #[serde(default)]
    pub to: String,
    /// What they wrote.
    #[serde(default)]
    pub text: String,
    /// When, as Africa's Talking writes it.
    #[serde(default)]
    pub date: String,
    /// Africa's Talking's id of the message.
    #[serde(default)]
    pub id: String,
    /// For premium services: the id to reply on.
    #[serde(default)]
    pub link_id: Option<String>,
}

impl IncomingSms {
    /// Reads the form body of the incoming-messages callback.
    pub fn from_form(body: &[u8]) -> Result<Self, InboundError> {
        let sms: IncomingSms =
            serde_urlencoded::from_bytes(body).map_err(|_| InboundError("no `from` field"))?;
        if sms.from.trim().is_empty() {
            return Err(InboundError("an empty `from`"));
        }
        Ok(sms)
    }
}

/// A customer's opt-out from the shop's bulk SMS, as Africa's Talking reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsOptOut {
    /// The sender id they opted out of.
    #[serde(default)]
    pub sender_id: String,
    /// Their number.
    pub phone_number: String,
}

impl SmsOptOut {
    /// Reads the form body of the opt-out callback.
    pub fn from_form(body: &[u8]) -> Result<Self, InboundError> {
        let notice: SmsOptOut = serde_urlencoded::from_bytes(body)
            .map_err(|_| InboundError("no `phoneNumber` field"))?;
        if notice.phone_number.trim().is_empty() {
            return Err(InboundError("an empty `phoneNumber`"));
        }
        Ok(notice)
    }
}

/// What a reply asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// No more SMS: `STOP`, `SITISHA` (Kiswahili), `UNSUBSCRIBE`, `STOPALL`, `CANCEL`, `END`,
    /// `QUIT`.
    Stop,
    /// SMS again: `START`, `ANZA` (Kiswahili), `UNSTOP`, `YES`.
    Start,
}

impl Keyword {
    /// The keyword a reply is, if it is one: the whole text, ignoring case, spaces and
    /// punctuation around it ("Stop.", " sitisha ").
    pub fn of(text: &str) -> Option<Keyword> {
        let word = text
            .trim_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
            .to_uppercase();
        match word.as_str() {
            "STOP" | "SITISHA" | "UNSUBSCRIBE" | "STOPALL" | "CANCEL" | "END" | "QUIT" => {
                Some(Keyword::Stop)
            }
            "START" | "ANZA" | "UNSTOP" | "YES" => Some(Keyword::Start),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_in_either_language_ignore_case_and_spaces() {
        for stop in ["STOP", "stop", " Sitisha ", "Stop.", "unsubscribe"] {
            assert_eq!(Keyword::of(stop), Some(Keyword::Stop), "{stop:?}");
        }
        for start in ["START", "anza", "Start!"] {
            assert_eq!(Keyword::of(start), Some(Keyword::Start), "{start:?}");
        }
        for other in ["", "stop sending me adverts please", "asante", "STOPPED"] {
            assert_eq!(Keyword::of(other), None, "{other:?}");
        }
    }

    #[test]
    fn callbacks_are_read_from_their_forms() {
        let sms = IncomingSms::from_form(
            b"linkId=SampleLinkId123&text=STOP&to=28901&id=abc&date=2026-12-04+10%3A00%3A00&from=%2B254712345678",
        )
        .unwrap();
        assert_eq!(sms.from, "+254712345678");
        assert_eq!(sms.text, "STOP");
        assert_eq!(sms.link_id.as_deref(), Some("SampleLinkId123"));
        assert!(IncomingSms::from_form(b"text=STOP").is_err());
        assert!(IncomingSms::from_form(b"from=&text=STOP").is_err());

        let out = SmsOptOut::from_form(b"senderId=DUKA&phoneNumber=%2B254712345678").unwrap();
        assert_eq!(out.phone_number, "+254712345678");
        assert!(SmsOptOut::from_form(b"senderId=DUKA").is_err());
    }
}
