//! Pure builders of the initiator requests: Reversal, B2C and Transaction Status bodies, with
//! Daraja's field rules checked before any network call.

use pochi_core::{Money, Msisdn, Receipt};
use secrecy::SecretString;
use serde::Serialize;

use super::{Numeric, expose, phone_value, whole_shillings};
use crate::{
    config::{InitiatorChannel, MpesaConfig},
    error::InitiatorError,
};

/// The fewest characters Daraja takes in `Remarks`.
pub(crate) const MIN_REMARKS: usize = 2;
/// The most characters Daraja takes in `Remarks` (and `Occasion`).
pub(crate) const MAX_REMARKS: usize = 100;
/// What a transaction status query says about itself.
const STATUS_REMARKS: &str = "Payment check";

/// `Remarks`: 2 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Remarks(String);

impl Remarks {
    pub(crate) fn parse(text: &str) -> Result<Self, InitiatorError> {
        let text = text.trim();
        let count = text.chars().count();
        if !(MIN_REMARKS..=MAX_REMARKS).contains(&count) || text.chars().any(char::is_control) {
            return Err(InitiatorError::invalid(
                "remarks",
                format!("must be {MIN_REMARKS} to {MAX_REMARKS} characters"),
            ));
        }
        Ok(Remarks(text.to_owned()))
    }
}

/// A KES amount M-Pesa can move: whole shillings from 1 to 250,000.
pub(crate) fn initiator_amount(amount: Money) -> Result<u32, InitiatorError> {
    whole_shillings(amount).map_err(|err| {
        InitiatorError::invalid(
            "amount",
            match err {
                pochi_core::Error::InvalidInput { message, .. } => message,
                other => other.to_string(),
            },
        )
    })
}

/// What a transaction status query asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusSubject {
    /// A transaction by its M-Pesa receipt (`TransactionID`).
    Receipt(Receipt),
    /// A request by the `OriginatorConversationID` it was accepted with (a B2C payment whose
    /// result never came).
    OriginatorConversationId(String),
}

/// The body of `POST /mpesa/reversal/v1/request`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReversalBody {
    initiator: String,
    #[serde(serialize_with = "expose")]
    security_credential: SecretString,
    #[serde(rename = "CommandID")]
    command_id: &'static str,
    #[serde(rename = "TransactionID")]
    transaction_id: String,
    amount: u32,
    receiver_party: String,
    /// Daraja's spelling.
    reciever_identifier_type: &'static str,
    #[serde(rename = "ResultURL")]
    result_url: String,
    #[serde(rename = "QueueTimeOutURL")]
    queue_timeout_url: String,
    remarks: String,
}

/// Builds a reversal of `receipt` (money the shop received) for `amount`. The receiver party
/// is the account that received the money (the paybill, or the till), as an organisation
/// shortcode (`RecieverIdentifierType` 11).
pub(crate) fn reversal_body(
    config: &MpesaConfig,
    initiator: &str,
    credential: SecretString,
    receipt: &Receipt,
    amount: u32,
    remarks: &Remarks,
) -> ReversalBody {
    ReversalBody {
        initiator: initiator.to_owned(),
        security_credential: credential,
        command_id: "TransactionReversal",
        transaction_id: receipt.as_str().to_owned(),
        amount,
        receiver_party: config.business.party_b().as_str().to_owned(),
        reciever_identifier_type: "11",
        result_url: config.result_url(InitiatorChannel::ReversalResult),
        queue_timeout_url: config.result_url(InitiatorChannel::ReversalTimeout),
        remarks: remarks.0.clone(),
    }
}

/// The body of `POST /mpesa/b2c/v3/paymentrequest`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct B2cBody {
    #[serde(rename = "OriginatorConversationID")]
    originator_conversation_id: String,
    initiator_name: String,
    #[serde(serialize_with = "expose")]
    security_credential: SecretString,
    #[serde(rename = "CommandID")]
    command_id: &'static str,
    amount: u32,
    party_a: u64,
    party_b: Numeric,
    remarks: String,
    #[serde(rename = "QueueTimeOutURL")]
    queue_timeout_url: String,
    #[serde(rename = "ResultURL")]
    result_url: String,
}

/// Builds a B2C `BusinessPayment` of `amount` to `phone` from the shop's shortcode.
/// `originator_conversation_id` is the caller's key for the payment: Daraja refuses a second
/// request with the same one, so a retry can never pay twice.
pub(crate) fn b2c_body(
    config: &MpesaConfig,
    initiator: &str,
    credential: SecretString,
    phone: &Msisdn,
    amount: u32,
    remarks: &Remarks,
    originator_conversation_id: &str,
) -> B2cBody {
    B2cBody {
        originator_conversation_id: originator_conversation_id.to_owned(),
        initiator_name: initiator.to_owned(),
        security_credential: credential,
        command_id: "BusinessPayment",
        amount,
        party_a: config.business.business_short_code().as_number(),
        party_b: phone_value(phone, config.phone_format),
        remarks: remarks.0.clone(),
        queue_timeout_url: config.result_url(InitiatorChannel::B2cTimeout),
        result_url: config.result_url(InitiatorChannel::B2cResult),
    }
}

/// Checks a caller's `OriginatorConversationID`: 1 to 100 characters, letters, digits, `-`
/// and `_`.
pub(crate) fn originator_conversation_id(text: &str) -> Result<String, InitiatorError> {
    let text = text.trim();
    if text.is_empty()
        || text.len() > MAX_REMARKS
        || !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(InitiatorError::invalid(
            "originator_conversation_id",
            "must be 1 to 100 letters, digits, '-' or '_'",
        ));
    }
    Ok(text.to_owned())
}

/// The body of `POST /mpesa/transactionstatus/v1/query`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StatusBody {
    initiator: String,
    #[serde(serialize_with = "expose")]
    security_credential: SecretString,
    #[serde(rename = "CommandID")]
    command_id: &'static str,
    #[serde(rename = "TransactionID", skip_serializing_if = "Option::is_none")]
    transaction_id: Option<String>,
    #[serde(
        rename = "OriginalConversationID",
        skip_serializing_if = "Option::is_none"
    )]
    original_conversation_id: Option<String>,
    party_a: String,
    identifier_type: &'static str,
    #[serde(rename = "ResultURL")]
    result_url: String,
    #[serde(rename = "QueueTimeOutURL")]
    queue_timeout_url: String,
    remarks: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    occasion: Option<String>,
}

/// Builds a transaction status query about `subject`, asked as the account that received the
/// money (`PartyA`, an organisation shortcode: `IdentifierType` 4).
pub(crate) fn status_body(
    config: &MpesaConfig,
    initiator: &str,
    credential: SecretString,
    subject: &StatusSubject,
    occasion: Option<&Occasion>,
) -> StatusBody {
    let (transaction_id, original_conversation_id) = match subject {
        StatusSubject::Receipt(receipt) => (Some(receipt.as_str().to_owned()), None),
        StatusSubject::OriginatorConversationId(id) => (None, Some(id.clone())),
    };
    StatusBody {
        initiator: initiator.to_owned(),
        security_credential: credential,
        command_id: "TransactionStatusQuery",
        transaction_id,
        original_conversation_id,
        party_a: config.business.party_b().as_str().to_owned(),
        identifier_type: "4",
        result_url: config.result_url(InitiatorChannel::StatusResult),
        queue_timeout_url: config.result_url(InitiatorChannel::StatusTimeout),
        remarks: STATUS_REMARKS,
        occasion: occasion.map(|o| o.0.clone()),
    }
}

/// A request's `Occasion`: up to 100 printable ASCII characters, echoed back in the result's
/// `ReferenceData`, so a result can name what it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Occasion(String);

impl Occasion {
    /// Checks `text`: 1 to 100 printable ASCII characters.
    pub(crate) fn parse(text: &str) -> Result<Self, InitiatorError> {
        if text.is_empty() || text.len() > 100 || !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InitiatorError::invalid(
                "occasion",
                "must be 1 to 100 printable ASCII characters without spaces",
            ));
        }
        Ok(Occasion(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use pochi_core::{CallbackToken, Currency};

    use super::*;
    use crate::config::Environment;

    const TOKEN: &str = "test-callback-token-01";

    fn config() -> MpesaConfig {
        MpesaConfig::builder()
            .with_environment(Environment::Sandbox)
            .with_public_sandbox_paybill()
            .with_credentials("key", "secret")
            .with_callback_base_url("https://duka.example.co.ke")
            .with_callback_token(&CallbackToken::parse(TOKEN).unwrap())
            .build()
            .unwrap()
    }

    fn json(body: &impl Serialize) -> serde_json::Value {
        serde_json::to_value(body).unwrap()
    }

    fn credential() -> SecretString {
        SecretString::from("ENCRYPTED==")
    }

    fn kes(text: &str) -> Money {
        Money::parse(text, Currency::Kes).unwrap()
    }

    #[test]
    fn reversal_body_names_the_receipt_the_shortcode_and_both_urls() {
        let body = reversal_body(
            &config(),
            "testapi",
            credential(),
            &Receipt::parse("UAB1CD2EF3").unwrap(),
            initiator_amount(kes("1500")).unwrap(),
            &Remarks::parse("Order 7K3M cancelled").unwrap(),
        );
        insta::assert_json_snapshot!(json(&body));
    }

    #[test]
    fn b2c_body_sends_a_business_payment_to_the_phone() {
        let body = b2c_body(
            &config(),
            "testapi",
            credential(),
            &Msisdn::parse("0708374149").unwrap(),
            initiator_amount(kes("250")).unwrap(),
            &Remarks::parse("Refund of overpayment").unwrap(),
            "refund-0192",
        );
        insta::assert_json_snapshot!(json(&body));
    }

    #[test]
    fn status_body_asks_by_receipt_or_by_conversation() {
        let by_receipt = json(&status_body(
            &config(),
            "testapi",
            credential(),
            &StatusSubject::Receipt(Receipt::parse("UAB1CD2EF3").unwrap()),
            None,
        ));
        insta::assert_json_snapshot!(by_receipt);
        let by_conversation = json(&status_body(
            &config(),
            "testapi",
            credential(),
            &StatusSubject::OriginatorConversationId("refund-0192".to_owned()),
            Some(&Occasion::parse("pay-1").unwrap()),
        ));
        assert_eq!(by_conversation["OriginalConversationID"], "refund-0192");
        assert!(by_conversation.get("TransactionID").is_none());
        assert_eq!(by_conversation["Occasion"], "pay-1");
        assert!(by_receipt.get("Occasion").is_none());
    }

    #[test]
    fn remarks_must_be_two_to_a_hundred_characters() {
        assert!(Remarks::parse("ok").is_ok());
        assert!(Remarks::parse(&"x".repeat(100)).is_ok());
        for bad in ["", " x ", &"x".repeat(101), "line\nbreak"] {
            let err = Remarks::parse(bad).unwrap_err();
            assert_eq!(err.field(), Some("remarks"), "{bad:?}");
        }
    }

    #[test]
    fn a_fractional_or_out_of_range_amount_is_refused() {
        for bad in ["10.50", "0", "250001"] {
            let err = initiator_amount(kes(bad)).unwrap_err();
            assert_eq!(err.field(), Some("amount"), "{bad}");
        }
        assert_eq!(initiator_amount(kes("10.00")).unwrap(), 10);
    }

    #[test]
    fn an_originator_conversation_id_is_a_plain_key() {
        assert_eq!(
            originator_conversation_id(" refund-0192 ").unwrap(),
            "refund-0192"
        );
        for bad in ["", "a b", "x/y", &"x".repeat(101)] {
            assert!(originator_conversation_id(bad).is_err(), "{bad:?}");
        }
    }
}
