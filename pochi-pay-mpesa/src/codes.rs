//! The catalogue of STK result codes: what each means for the payment, whether a new attempt
//! makes sense, and what to tell the customer in English and Swahili.
//!
//! Built from Safaricom's published table plus field reports from integrators. Codes the
//! catalogue does not know pass through verbatim as [`ResultCode::Other`].

use std::fmt;

use pochi_core::PaymentStatus;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A Daraja `ResultCode`. The namespace is mixed (numbers and strings such as `SFC_IC0003`),
/// and it arrives as a JSON number in callbacks and as a string in query answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ResultCode {
    /// `0`: paid.
    Success,
    /// `1`: the customer's balance is too low.
    InsufficientBalance,
    /// `2`: below the minimum amount.
    BelowMinimum,
    /// `3`: above the maximum amount per transaction.
    AboveMaximum,
    /// `4`: would exceed the customer's daily limit.
    DailyLimitExceeded,
    /// `8`: would exceed the merchant account's maximum balance.
    MerchantBalanceLimit,
    /// `17`: the same amount to the same customer within two minutes.
    RuleLimited,
    /// `26`: traffic blocking (reported by other clients; unconfirmed for STK).
    TrafficBlocking,
    /// `1001`: another transaction is open for the customer (community lists).
    SubscriberLocked,
    /// `1019`: the request expired before the customer answered.
    Expired,
    /// `1025`: the push could not be sent (often a prompt longer than 182 characters).
    PushFailed,
    /// `1032`: the customer dismissed the prompt.
    CancelledByUser,
    /// `1037`: the customer's phone could not be reached in time.
    Unreachable,
    /// `2001`: wrong PIN.
    WrongPin,
    /// `2028`: not permitted for the product (till vs paybill mix-up).
    NotPermitted,
    /// `4999`: still being processed (seen on STK query).
    StillProcessing,
    /// `8006`: the customer's PIN is locked.
    PinLocked,
    /// `SFC_IC0003`: the operator does not exist (till vs paybill mix-up).
    OperatorDoesNotExist,
    /// Any other code, verbatim.
    Other(String),
}

/// What the catalogue knows about a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodeInfo {
    /// The status a payment takes, or `None` when the code is not a final answer.
    pub(crate) status: Option<PaymentStatus>,
    /// Whether a new attempt (started by the customer) can succeed.
    pub(crate) retry_makes_sense: bool,
    /// A message for the customer, in English.
    pub(crate) message_en: &'static str,
    /// The same message in Swahili.
    pub(crate) message_sw: &'static str,
}

impl CodeInfo {
    const fn new(
        status: Option<PaymentStatus>,
        retry_makes_sense: bool,
        message_en: &'static str,
        message_sw: &'static str,
    ) -> Self {
        CodeInfo {
            status,
            retry_makes_sense,
            message_en,
            message_sw,
        }
    }
}

const PAID: Option<PaymentStatus> = Some(PaymentStatus::Succeeded);
const FAILED: Option<PaymentStatus> = Some(PaymentStatus::Failed);
const CANCELLED: Option<PaymentStatus> = Some(PaymentStatus::Cancelled);
const TIMED_OUT: Option<PaymentStatus> = Some(PaymentStatus::TimedOut);

const FIX_SETTINGS_EN: &str =
    "The shop's M-Pesa settings are wrong. Please tell the shop; you have not been charged.";
const FIX_SETTINGS_SW: &str =
    "Mipangilio ya M-Pesa ya duka si sahihi. Tafadhali wajulishe duka; hujatozwa pesa.";

/// Every known code: its wire text, its variant and what it means.
const CATALOGUE: &[(&str, ResultCode, CodeInfo)] = &[
    (
        "0",
        ResultCode::Success,
        CodeInfo::new(
            PAID,
            false,
            "Payment received. Thank you!",
            "Malipo yamepokelewa. Asante!",
        ),
    ),
    (
        "1",
        ResultCode::InsufficientBalance,
        CodeInfo::new(
            FAILED,
            true,
            "Your M-Pesa balance is not enough. Top up and try again.",
            "Salio lako la M-Pesa halitoshi. Ongeza salio kisha ujaribu tena.",
        ),
    ),
    (
        "2",
        ResultCode::BelowMinimum,
        CodeInfo::new(
            FAILED,
            false,
            "The amount is below the M-Pesa minimum.",
            "Kiasi ni chini ya kiwango cha chini cha M-Pesa.",
        ),
    ),
    (
        "3",
        ResultCode::AboveMaximum,
        CodeInfo::new(
            FAILED,
            false,
            "The amount is above the M-Pesa limit for one transaction.",
            "Kiasi kimezidi kikomo cha M-Pesa kwa muamala mmoja.",
        ),
    ),
    (
        "4",
        ResultCode::DailyLimitExceeded,
        CodeInfo::new(
            FAILED,
            false,
            "This payment would go over your daily M-Pesa limit.",
            "Malipo haya yangezidi kikomo chako cha siku cha M-Pesa.",
        ),
    ),
    (
        "8",
        ResultCode::MerchantBalanceLimit,
        CodeInfo::new(
            FAILED,
            false,
            "The shop cannot receive this payment right now. Please try again later.",
            "Duka haliwezi kupokea malipo haya sasa hivi. Tafadhali jaribu tena baadaye.",
        ),
    ),
    (
        "17",
        ResultCode::RuleLimited,
        CodeInfo::new(
            FAILED,
            true,
            "A request for the same amount was just sent. Wait two minutes, then try again.",
            "Ombi la kiasi hicho hicho limetumwa sasa hivi. Subiri dakika mbili, kisha ujaribu tena.",
        ),
    ),
    (
        "26",
        ResultCode::TrafficBlocking,
        CodeInfo::new(
            FAILED,
            true,
            "M-Pesa is busy. Please try again in a few minutes.",
            "M-Pesa ina shughuli nyingi. Tafadhali jaribu tena baada ya dakika chache.",
        ),
    ),
    (
        "1001",
        ResultCode::SubscriberLocked,
        CodeInfo::new(
            FAILED,
            true,
            "Another M-Pesa request is open on your phone. Finish it, wait a minute, then try again.",
            "Kuna ombi lingine la M-Pesa kwenye simu yako. Limalize, subiri dakika moja, kisha ujaribu tena.",
        ),
    ),
    (
        "1019",
        ResultCode::Expired,
        CodeInfo::new(
            TIMED_OUT,
            true,
            "The payment request expired. Please try again.",
            "Ombi la malipo limepitwa na muda. Tafadhali jaribu tena.",
        ),
    ),
    (
        "1025",
        ResultCode::PushFailed,
        CodeInfo::new(
            FAILED,
            true,
            "The payment request could not be sent to your phone. Please try again.",
            "Ombi la malipo halikuweza kutumwa kwenye simu yako. Tafadhali jaribu tena.",
        ),
    ),
    (
        "1032",
        ResultCode::CancelledByUser,
        CodeInfo::new(
            CANCELLED,
            true,
            "You cancelled the payment request.",
            "Umesitisha ombi la malipo.",
        ),
    ),
    (
        "1037",
        ResultCode::Unreachable,
        CodeInfo::new(
            TIMED_OUT,
            true,
            "We could not reach your phone. Make sure it is on and has signal, then try again.",
            "Hatukuweza kufikia simu yako. Hakikisha imewashwa na ina mtandao, kisha ujaribu tena.",
        ),
    ),
    (
        "2001",
        ResultCode::WrongPin,
        CodeInfo::new(
            FAILED,
            true,
            "The M-Pesa PIN was wrong. Please try again.",
            "PIN ya M-Pesa si sahihi. Tafadhali jaribu tena.",
        ),
    ),
    (
        "2028",
        ResultCode::NotPermitted,
        CodeInfo::new(FAILED, false, FIX_SETTINGS_EN, FIX_SETTINGS_SW),
    ),
    (
        "4999",
        ResultCode::StillProcessing,
        CodeInfo::new(
            None,
            false,
            "Your payment is still being processed.",
            "Malipo yako bado yanashughulikiwa.",
        ),
    ),
    (
        "8006",
        ResultCode::PinLocked,
        CodeInfo::new(
            FAILED,
            false,
            "Your M-Pesa PIN is locked. Contact Safaricom to unlock it.",
            "PIN yako ya M-Pesa imefungwa. Wasiliana na Safaricom ili kuifungua.",
        ),
    ),
    (
        "SFC_IC0003",
        ResultCode::OperatorDoesNotExist,
        CodeInfo::new(FAILED, false, FIX_SETTINGS_EN, FIX_SETTINGS_SW),
    ),
];

/// What the catalogue says about codes it does not know: a final failure (a result code
/// was given), with a neutral message.
const UNKNOWN: CodeInfo = CodeInfo::new(
    FAILED,
    true,
    "The payment did not go through. Please try again.",
    "Malipo hayakufanikiwa. Tafadhali jaribu tena.",
);

impl ResultCode {
    /// Reads a code as Daraja sends it (surrounding spaces ignored).
    pub(crate) fn parse(text: &str) -> Self {
        let text = text.trim();
        CATALOGUE
            .iter()
            .find(|(code, _, _)| *code == text)
            .map_or_else(
                || ResultCode::Other(text.to_owned()),
                |(_, known, _)| known.clone(),
            )
    }

    /// The code, verbatim.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            ResultCode::Other(code) => code,
            known => CATALOGUE
                .iter()
                .find(|(_, variant, _)| variant == known)
                .map_or("", |(code, _, _)| code),
        }
    }

    /// What the catalogue knows about the code.
    pub(crate) fn info(&self) -> CodeInfo {
        CATALOGUE
            .iter()
            .find(|(_, variant, _)| variant == self)
            .map_or(UNKNOWN, |(_, _, info)| *info)
    }

    /// The status a payment takes, or `None` while it is not final.
    pub(crate) fn payment_status(&self) -> Option<PaymentStatus> {
        self.info().status
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ResultCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResultCode {
    /// Accepts a JSON number (callbacks) or a string (query answers).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = ResultCode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a result code as a number or a string")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ResultCode, E> {
                Ok(ResultCode::parse(&v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ResultCode, E> {
                Ok(ResultCode::parse(&v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ResultCode, E> {
                Ok(ResultCode::parse(v))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_round_trip_and_unknown_ones_pass_through_verbatim() {
        for (code, variant, _) in CATALOGUE {
            assert_eq!(&ResultCode::parse(code), variant);
            assert_eq!(variant.as_str(), *code);
        }
        let other = ResultCode::parse(" 9999 ");
        assert_eq!(other, ResultCode::Other("9999".into()));
        assert_eq!(other.as_str(), "9999");
        assert_eq!(other.payment_status(), Some(PaymentStatus::Failed));
    }

    #[test]
    fn codes_map_to_payment_statuses() {
        assert_eq!(
            ResultCode::parse("0").payment_status(),
            Some(PaymentStatus::Succeeded)
        );
        assert_eq!(
            ResultCode::parse("1032").payment_status(),
            Some(PaymentStatus::Cancelled)
        );
        assert_eq!(
            ResultCode::parse("1037").payment_status(),
            Some(PaymentStatus::TimedOut)
        );
        assert_eq!(
            ResultCode::parse("1019").payment_status(),
            Some(PaymentStatus::TimedOut)
        );
        assert_eq!(
            ResultCode::parse("2001").payment_status(),
            Some(PaymentStatus::Failed)
        );
        assert_eq!(ResultCode::parse("4999").payment_status(), None);
    }

    #[test]
    fn every_code_has_a_message_in_english_and_swahili() {
        for (code, variant, info) in CATALOGUE {
            assert!(
                !info.message_en.is_empty() && !info.message_sw.is_empty(),
                "{code}"
            );
            assert_ne!(info.message_en, info.message_sw, "{code}");
            assert_eq!(variant.info(), *info);
        }
        assert!(!ResultCode::parse("2001").info().message_sw.is_empty());
    }

    #[test]
    fn result_codes_deserialise_from_numbers_and_strings() {
        let from_number: ResultCode = serde_json::from_str("1032").unwrap();
        let from_string: ResultCode = serde_json::from_str("\"1032\"").unwrap();
        assert_eq!(from_number, ResultCode::CancelledByUser);
        assert_eq!(from_string, ResultCode::CancelledByUser);
        let mixed: ResultCode = serde_json::from_str("\"SFC_IC0003\"").unwrap();
        assert_eq!(mixed, ResultCode::OperatorDoesNotExist);
        assert!(serde_json::from_str::<ResultCode>("null").is_err());
    }
}
