//! What Daraja answers and posts for initiator requests (Reversal, B2C, Transaction Status):
//! the synchronous acceptance, and the asynchronous `Result` posted to the result URL (or the
//! queue-timeout URL).
//!
//! The result is read leniently, as real traffic varies: `ResultCode` is a number (`0`, `2001`)
//! or a string (`"R000002"`, `"SFC_IC0003"`); `ResultParameter` is a list, or a single object
//! when there is one; a parameter can come without `Value`; the same key can come twice
//! (Transaction Status sends `DebitPartyName` for both sides). Parameters are found by key,
//! never by position. The queue-timeout body is not documented by Safaricom; public
//! integrations read it as the same `Result` shape, so that is what is read here, with
//! `ResultCode` optional.

use pochi_core::{Currency, Money, Receipt};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::{
    config::InitiatorChannel,
    error::{GatewayError, InitiatorError},
    notify::{lenient_text, parse_decimal, text},
    timestamp::{EAST_AFRICA_TIME, Timestamp},
};

/// Daraja's synchronous answer to an initiator request it accepted: accepted for processing,
/// not done. The result follows on the result URL, keyed by these ids.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InitiatorAccepted {
    /// `OriginatorConversationID`: for B2C the caller's own; otherwise Daraja's.
    pub originator_conversation_id: String,
    /// `ConversationID`: M-Pesa's id of the request (`AG_20240706_…`).
    pub conversation_id: String,
    /// `ResponseDescription` (`Accept the service request successfully.`).
    pub description: String,
}

#[derive(Deserialize)]
struct RawAccepted {
    #[serde(
        rename = "OriginatorConversationID",
        alias = "OriginatorCoversationID",
        default,
        deserialize_with = "lenient_text"
    )]
    originator_conversation_id: String,
    #[serde(rename = "ConversationID", default, deserialize_with = "lenient_text")]
    conversation_id: String,
    #[serde(rename = "ResponseCode", default, deserialize_with = "lenient_text")]
    response_code: String,
    #[serde(
        rename = "ResponseDescription",
        default,
        deserialize_with = "lenient_text"
    )]
    response_description: String,
}

impl InitiatorAccepted {
    /// Reads an answer of HTTP status `status`: the acceptance, or the error it carries.
    pub(crate) fn parse(status: u16, body: &str) -> Result<Self, GatewayError> {
        if !(200..300).contains(&status) {
            return Err(GatewayError::from_response(status, body));
        }
        let raw: RawAccepted =
            serde_json::from_str(body).map_err(|_| GatewayError::unparseable(status, body))?;
        if raw.response_code.trim() != "0" {
            return Err(GatewayError::Rejected {
                status,
                code: raw.response_code,
                message: raw.response_description,
            });
        }
        if raw.conversation_id.is_empty() && raw.originator_conversation_id.is_empty() {
            return Err(GatewayError::unparseable(status, body));
        }
        Ok(InitiatorAccepted {
            originator_conversation_id: raw.originator_conversation_id,
            conversation_id: raw.conversation_id,
            description: raw.response_description,
        })
    }
}

/// The asynchronous result of an initiator request, as Daraja posted it (see
/// [`parse_initiator_result`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InitiatorResult {
    /// The channel it arrived on: which request kind, and whether it is a queue timeout.
    pub channel: InitiatorChannel,
    /// `OriginatorConversationID`, as in the acceptance.
    pub originator_conversation_id: String,
    /// `ConversationID`, as in the acceptance.
    pub conversation_id: String,
    /// `ResultCode` as text (`0`, `2001`, `R000001`...); empty in a queue timeout without one.
    pub result_code: String,
    /// `ResultDesc`, verbatim.
    pub result_description: String,
    /// `TransactionID`: the receipt of the new transaction (a reversal's, a B2C payment's);
    /// M-Pesa sends a placeholder such as `MBN0000000` when nothing moved.
    pub transaction_id: Option<String>,
    /// The `ResultParameters` the shop uses.
    pub parameters: ResultParameters,
    /// The `Occasion` the request carried, as Daraja echoes it in `ReferenceData`
    /// (`ReferenceItem` with `Key` `Occasion`); `None` when absent or empty.
    pub occasion: Option<String>,
    /// The body as received, for the audit trail.
    pub raw_payload: String,
}

impl InitiatorResult {
    /// Whether the request was carried out: a result (not a queue timeout) with `ResultCode` 0.
    pub fn is_success(&self) -> bool {
        !self.is_timeout() && self.result_code == "0"
    }

    /// Whether this is the queue-timeout notice: Daraja gave up before M-Pesa processed the
    /// request, so nothing moved and it may be sent again.
    pub fn is_timeout(&self) -> bool {
        self.channel.is_timeout()
    }
}

/// The `ResultParameters` of a result, found by key. Every pair is kept in
/// [`all`](Self::all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResultParameters {
    /// The receipt of the transaction the result is about: `ReceiptNo` (Transaction Status),
    /// `TransactionReceipt` (B2C).
    pub receipt: Option<Receipt>,
    /// `Amount` (Transaction Status, Reversal) or `TransactionAmount` (B2C), in KES.
    pub amount: Option<Money>,
    /// `TransactionStatus` (`Completed`, `Reversed`...), from Transaction Status.
    pub transaction_status: Option<String>,
    /// Who paid: the last `DebitPartyName` (Transaction Status), or `DebitPartyPublicName`
    /// (Reversal), as M-Pesa writes it (`254708374149 - John Doe`).
    pub debit_party_name: Option<String>,
    /// Who received: `CreditPartyName`, `CreditPartyPublicName` (Reversal) or
    /// `ReceiverPartyPublicName` (B2C).
    pub credit_party_name: Option<String>,
    /// `OriginalTransactionID` (Reversal): the receipt that was reversed.
    pub original_transaction_id: Option<String>,
    /// When it was finished: `FinalisedTime` (Transaction Status), `TransCompletedTime`
    /// (Reversal) or `TransactionCompletedDateTime` (B2C), read in East Africa Time.
    pub completed_at: Option<OffsetDateTime>,
    /// Every `Key`/`Value` pair, in order; a value-less key has an empty value.
    pub all: Vec<(String, String)>,
}

impl ResultParameters {
    /// The last value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.all
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn read(all: Vec<(String, String)>) -> Result<Self, InitiatorError> {
        let last = |key: &str| {
            all.iter()
                .rev()
                .find(|(k, v)| k == key && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        let first = |keys: &[&str]| keys.iter().find_map(|k| last(k));
        let receipt = first(&["ReceiptNo", "TransactionReceipt"])
            .map(|r| {
                Receipt::parse(&r).map_err(|_| unreadable(format!("receipt {r:?} is not one")))
            })
            .transpose()?;
        let amount = first(&["Amount", "TransactionAmount"])
            .map(|a| {
                parse_decimal(&a)
                    .and_then(|d| Money::new(d, Currency::Kes).ok())
                    .ok_or_else(|| unreadable(format!("amount {a:?} is not a KES amount")))
            })
            .transpose()?;
        Ok(ResultParameters {
            receipt,
            amount,
            transaction_status: first(&["TransactionStatus"]),
            debit_party_name: first(&["DebitPartyName", "DebitPartyPublicName"]),
            credit_party_name: first(&[
                "CreditPartyName",
                "CreditPartyPublicName",
                "ReceiverPartyPublicName",
            ]),
            original_transaction_id: first(&["OriginalTransactionID"]),
            completed_at: first(&[
                "FinalisedTime",
                "TransCompletedTime",
                "TransactionCompletedDateTime",
            ])
            .and_then(|t| completion_time(&t)),
            all,
        })
    }
}

fn unreadable(message: impl Into<String>) -> InitiatorError {
    InitiatorError::UnreadableResult(message.into())
}

/// `20180223054112` or `06.07.2024 22:48:52` (B2C), in East Africa Time.
fn completion_time(text: &str) -> Option<OffsetDateTime> {
    let compact = match text.split_once(' ') {
        Some((date, time)) => {
            let mut parts = date.split('.');
            let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
            format!("{year}{month}{day}{}", time.replace(':', ""))
        }
        None => text.to_owned(),
    };
    Timestamp::parse(&compact)
        .ok()?
        .to_instant(EAST_AFRICA_TIME)
}

/// Reads the body Daraja posted on an initiator channel (`reversal-result`,
/// `reversal-timeout`, `b2c-result`, `b2c-timeout`, `status-result`, `status-timeout`).
///
/// Refuses, with [`InitiatorError::UnknownChannel`], another channel; with
/// [`InitiatorError::UnreadableResult`], a body that is not a `Result` naming the request
/// (`OriginatorConversationID` or `ConversationID`) and, outside queue timeouts, its
/// `ResultCode`, or whose receipt or amount is malformed.
pub fn parse_initiator_result(
    channel: &str,
    body: &[u8],
) -> Result<InitiatorResult, InitiatorError> {
    let channel = InitiatorChannel::parse(channel)
        .ok_or_else(|| InitiatorError::UnknownChannel(channel.to_owned()))?;
    let value: Value =
        serde_json::from_slice(body).map_err(|e| unreadable(format!("not JSON: {e}")))?;
    let result = value
        .get("Result")
        .filter(|r| r.is_object())
        .ok_or_else(|| unreadable("no Result object"))?;
    let field = |name: &str| result.get(name).and_then(text).unwrap_or_default();
    let originator_conversation_id = match field("OriginatorConversationID") {
        id if id.is_empty() => field("OriginatorCoversationID"),
        id => id,
    };
    let conversation_id = field("ConversationID");
    if originator_conversation_id.is_empty() && conversation_id.is_empty() {
        return Err(unreadable(
            "neither OriginatorConversationID nor ConversationID",
        ));
    }
    let result_code = field("ResultCode");
    if result_code.is_empty() && !channel.is_timeout() {
        return Err(unreadable("no ResultCode"));
    }
    let all = match result.pointer("/ResultParameters/ResultParameter") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter_map(pair).collect(),
        Some(item @ Value::Object(_)) => pair(item).into_iter().collect(),
        Some(_) => return Err(unreadable("ResultParameter is neither a list nor an item")),
    };
    let transaction_id = Some(field("TransactionID")).filter(|t| !t.is_empty());
    let occasion = match result.pointer("/ReferenceData/ReferenceItem") {
        Some(Value::Array(items)) => items.iter().filter_map(pair).collect(),
        Some(item @ Value::Object(_)) => pair(item).into_iter().collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .find(|(key, value)| key == "Occasion" && !value.is_empty())
    .map(|(_, value)| value);
    Ok(InitiatorResult {
        channel,
        originator_conversation_id,
        conversation_id,
        result_code,
        result_description: field("ResultDesc"),
        transaction_id,
        parameters: ResultParameters::read(all)?,
        occasion,
        raw_payload: String::from_utf8_lossy(body).into_owned(),
    })
}

/// A `{Key, Value}` item; a missing value reads as empty.
fn pair(item: &Value) -> Option<(String, String)> {
    let key = item.get("Key").and_then(text)?;
    let value = item.get("Value").and_then(text).unwrap_or_default();
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const STATUS_RESULT: &str = r#"{"Result":{"ConversationID":"AG_20180223_0000493344ae97d86f75","OriginatorConversationID":"3213-416199-2","ReferenceData":{"ReferenceItem":{"Key":"Occasion"}},"ResultCode":0,"ResultDesc":"The service request is processed successfully.","ResultParameters":{"ResultParameter":[{"Key":"DebitPartyName","Value":"600310 - Safaricom333"},{"Key":"DebitPartyName","Value":"254708374149 - John Doe"},{"Key":"OriginatorConversationID","Value":"3211-416020-3"},{"Key":"InitiatedTime","Value":"20180223054112"},{"Key":"DebitAccountType","Value":"Utility Account"},{"Key":"DebitPartyCharges","Value":"Fee For B2C Payment|KES|22.40"},{"Key":"TransactionReason"},{"Key":"ReasonType","Value":"Business Payment to Customer via API"},{"Key":"TransactionStatus","Value":"Completed"},{"Key":"FinalisedTime","Value":"20180223054112"},{"Key":"Amount","Value":"300"},{"Key":"ConversationID","Value":"AG_20180223_000041b09c22e613d6c9"},{"Key":"ReceiptNo","Value":"MBN31H462N"}]},"ResultType":0,"TransactionID":"MBN0000000"}}"#;

    #[test]
    fn a_transaction_status_result_gives_receipt_amount_status_and_payer() {
        let result = parse_initiator_result("status-result", STATUS_RESULT.as_bytes()).unwrap();
        assert!(result.is_success());
        assert_eq!(result.channel, InitiatorChannel::StatusResult);
        assert_eq!(result.originator_conversation_id, "3213-416199-2");
        let p = &result.parameters;
        assert_eq!(p.receipt.as_ref().map(Receipt::as_str), Some("MBN31H462N"));
        assert_eq!(p.amount, Some(Money::parse("300", Currency::Kes).unwrap()));
        assert_eq!(p.transaction_status.as_deref(), Some("Completed"));
        assert_eq!(
            p.debit_party_name.as_deref(),
            Some("254708374149 - John Doe")
        );
        assert_eq!(p.completed_at, Some(datetime!(2018-02-23 02:41:12 UTC)));
        assert_eq!(p.get("TransactionReason"), Some(""));
    }

    #[test]
    fn a_failed_reversal_has_a_text_code_and_no_parameters() {
        let body = r#"{"Result":{"ResultType":0,"ResultCode":"R000002","ResultDesc":"The OriginalTransactionID is invalid.","OriginatorConversationID":"3124-481d-b706-10bdd6fbc8e21792398","ConversationID":"AG_20211114_2010573069aefb6b625a","TransactionID":"SKE0000000","ReferenceData":{"ReferenceItem":{"Key":"QueueTimeoutURL","Value":"https://internalsandbox.safaricom.co.ke/mpesa/reversalresults/v1/submit"}}}}"#;
        let result = parse_initiator_result("reversal-result", body.as_bytes()).unwrap();
        assert!(!result.is_success());
        assert_eq!(result.result_code, "R000002");
        assert_eq!(result.parameters, ResultParameters::default());
    }

    #[test]
    fn a_b2c_result_reads_its_own_keys_and_a_single_parameter_object() {
        let body = r#"{"Result":{"ResultType":0,"ResultCode":0,"ResultDesc":"ok","OriginatorConversationID":"refund-1","ConversationID":"AG_1","TransactionID":"SG632NMUAB","ResultParameters":{"ResultParameter":[{"Key":"TransactionAmount","Value":10},{"Key":"TransactionReceipt","Value":"SG632NMUAB"},{"Key":"ReceiverPartyPublicName","Value":"254705912645 - NICHOLAS JOHN SONGOK"},{"Key":"TransactionCompletedDateTime","Value":"06.07.2024 22:48:52"}]}}}"#;
        let result = parse_initiator_result("b2c-result", body.as_bytes()).unwrap();
        let p = &result.parameters;
        assert_eq!(p.amount, Some(Money::parse("10", Currency::Kes).unwrap()));
        assert_eq!(p.receipt.as_ref().map(Receipt::as_str), Some("SG632NMUAB"));
        assert_eq!(p.completed_at, Some(datetime!(2024-07-06 19:48:52 UTC)));
        let single = r#"{"Result":{"ResultCode":2001,"ResultDesc":"The initiator information is invalid.","ConversationID":"AG_2","ResultParameters":{"ResultParameter":{"Key":"BOCompletedTime","Value":20200625232427}}}}"#;
        let result = parse_initiator_result("b2c-result", single.as_bytes()).unwrap();
        assert_eq!(result.result_code, "2001");
        assert_eq!(
            result.parameters.get("BOCompletedTime"),
            Some("20200625232427")
        );
    }

    #[test]
    fn a_queue_timeout_needs_no_result_code_but_names_the_request() {
        let body = r#"{"Result":{"OriginatorConversationID":"refund-1","ConversationID":"AG_3"}}"#;
        let result = parse_initiator_result("b2c-timeout", body.as_bytes()).unwrap();
        assert!(result.is_timeout());
        assert!(!result.is_success());
        assert_eq!(result.originator_conversation_id, "refund-1");
    }

    #[test]
    fn unreadable_bodies_and_other_channels_are_typed_errors() {
        for body in [
            "",
            "{}",
            r#"{"Result":"x"}"#,
            r#"{"Result":{"ResultCode":0}}"#,
            r#"{"Result":{"ConversationID":"AG_1"}}"#,
            r#"{"Result":{"ConversationID":"AG_1","ResultCode":0,"ResultParameters":{"ResultParameter":[{"Key":"Amount","Value":"lots"}]}}}"#,
        ] {
            let err = parse_initiator_result("status-result", body.as_bytes()).unwrap_err();
            assert!(
                matches!(err, InitiatorError::UnreadableResult(_)),
                "{body}: {err:?}"
            );
        }
        assert_eq!(
            parse_initiator_result("stk", STATUS_RESULT.as_bytes()).unwrap_err(),
            InitiatorError::UnknownChannel("stk".to_owned())
        );
    }

    #[test]
    fn an_acceptance_needs_response_code_zero() {
        let ok = r#"{"OriginatorConversationID":"f1e2-4b95","ConversationID":"AG_20210706_20106e9209f64bebd05b","ResponseCode":"0","ResponseDescription":"Accept the service request successfully."}"#;
        let accepted = InitiatorAccepted::parse(200, ok).unwrap();
        assert_eq!(accepted.conversation_id, "AG_20210706_20106e9209f64bebd05b");
        let envelope = r#"{"requestId":"1","errorCode":"400.002.02","errorMessage":"Bad Request - Invalid Remarks"}"#;
        assert_eq!(
            InitiatorAccepted::parse(400, envelope).unwrap_err(),
            GatewayError::BadRequest {
                field: "Remarks".into(),
                code: "400.002.02".into()
            }
        );
    }
}
