//! Lenient, typed parsers for what Daraja sends and answers: the STK callback, C2B validation
//! and confirmation, the STK query answer, the STK push answer and the register-URL answer.
//!
//! Real traffic varies more than the documentation: `ResultCode` is a number in callbacks and a
//! string in query answers, `Balance` often has no value, amounts come as `1.00` or `"5.00"`,
//! the C2B `MSISDN` is masked or hashed, and the register answer spells
//! `OriginatorCoversationID`. Metadata items are looked up by name, never by position.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use time::{OffsetDateTime, UtcOffset};

use crate::{codes::ResultCode, error::GatewayError, payer::Payer, timestamp::Timestamp};

/// A body that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable {what}: {message}")]
pub(crate) struct ParseError {
    /// What was being read (`STK callback`, `C2B notification`).
    pub(crate) what: &'static str,
    /// Why it could not be.
    pub(crate) message: String,
}

impl From<ParseError> for pochi_core::Error {
    fn from(err: ParseError) -> Self {
        pochi_core::Error::invalid("body", err.to_string())
    }
}

/// The STK result Daraja posts to the `CallBackURL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StkCallback {
    /// `MerchantRequestID`.
    pub(crate) merchant_request_id: String,
    /// `CheckoutRequestID`: the key of the attempt.
    pub(crate) checkout_request_id: String,
    /// `ResultCode`.
    pub(crate) result_code: ResultCode,
    /// `ResultDesc`, verbatim.
    pub(crate) result_description: String,
    /// `CallbackMetadata`, on success only.
    pub(crate) metadata: Option<StkMetadata>,
}

/// The items of a successful STK callback, found by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StkMetadata {
    /// `Amount` (may be `1.00`).
    pub(crate) amount: Option<Decimal>,
    /// `MpesaReceiptNumber`.
    pub(crate) receipt: Option<String>,
    /// `TransactionDate`, read in the configured zone.
    pub(crate) transaction_date: Option<OffsetDateTime>,
    /// `PhoneNumber`, as reported.
    pub(crate) phone: Option<Payer>,
    /// `Balance`, usually sent without a value.
    pub(crate) balance: Option<Decimal>,
}

#[derive(Deserialize)]
struct RawCallback {
    #[serde(rename = "Body")]
    body: RawCallbackBody,
}

#[derive(Deserialize)]
struct RawCallbackBody {
    #[serde(rename = "stkCallback")]
    stk_callback: RawStk,
}

#[derive(Deserialize)]
struct RawStk {
    #[serde(
        rename = "MerchantRequestID",
        default,
        deserialize_with = "lenient_text"
    )]
    merchant_request_id: String,
    #[serde(rename = "CheckoutRequestID")]
    checkout_request_id: String,
    #[serde(rename = "ResultCode")]
    result_code: ResultCode,
    #[serde(rename = "ResultDesc", default, deserialize_with = "lenient_text")]
    result_desc: String,
    #[serde(rename = "CallbackMetadata", default)]
    callback_metadata: Option<RawMetadata>,
}

#[derive(Deserialize)]
struct RawMetadata {
    #[serde(rename = "Item", default)]
    item: Vec<RawItem>,
}

#[derive(Deserialize)]
struct RawItem {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Value", default)]
    value: Option<Value>,
}

impl StkCallback {
    /// Reads a callback body; `zone` is the zone of `TransactionDate` (East Africa Time).
    pub(crate) fn parse(body: &[u8], zone: UtcOffset) -> Result<Self, ParseError> {
        let raw: RawCallback = serde_json::from_slice(body).map_err(|e| ParseError {
            what: "STK callback",
            message: e.to_string(),
        })?;
        let stk = raw.body.stk_callback;
        if stk.checkout_request_id.trim().is_empty() {
            return Err(ParseError {
                what: "STK callback",
                message: "CheckoutRequestID is empty".to_owned(),
            });
        }
        let metadata = stk.callback_metadata.map(|meta| {
            let find = |name: &str| {
                meta.item
                    .iter()
                    .find(|item| item.name.trim().eq_ignore_ascii_case(name))
                    .and_then(|item| item.value.as_ref())
            };
            StkMetadata {
                amount: find("Amount").and_then(decimal),
                receipt: find("MpesaReceiptNumber").and_then(text),
                transaction_date: find("TransactionDate")
                    .and_then(text)
                    .and_then(|t| Timestamp::parse(&t).ok())
                    .and_then(|t| t.to_instant(zone)),
                phone: find("PhoneNumber")
                    .and_then(text)
                    .and_then(|t| Payer::parse(&t)),
                balance: find("Balance").and_then(decimal),
            }
        });
        Ok(StkCallback {
            merchant_request_id: stk.merchant_request_id,
            checkout_request_id: stk.checkout_request_id.trim().to_owned(),
            result_code: stk.result_code,
            result_description: stk.result_desc,
            metadata,
        })
    }
}

/// A C2B validation or confirmation (the two share one shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct C2bNotice {
    /// `TransactionType` (`Pay Bill`, `Buy Goods`, ...).
    pub(crate) transaction_type: String,
    /// `TransID`: the M-Pesa receipt.
    pub(crate) trans_id: String,
    /// `TransTime`, read in the configured zone.
    pub(crate) trans_time: Option<OffsetDateTime>,
    /// `TransAmount` (a decimal string such as `"5.00"`).
    pub(crate) amount: Decimal,
    /// `BusinessShortCode`.
    pub(crate) business_short_code: String,
    /// `BillRefNumber`: what the customer typed as account number (free text).
    pub(crate) bill_ref_number: String,
    /// `InvoiceNumber`.
    pub(crate) invoice_number: String,
    /// `OrgAccountBalance` (blank on validation).
    pub(crate) org_account_balance: Option<Decimal>,
    /// `ThirdPartyTransID`.
    pub(crate) third_party_trans_id: String,
    /// `MSISDN`, masked or hashed; never assumed dialable.
    pub(crate) payer: Option<Payer>,
    /// `FirstName`.
    pub(crate) first_name: String,
    /// `MiddleName`.
    pub(crate) middle_name: String,
    /// `LastName`.
    pub(crate) last_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawC2b {
    #[serde(default, deserialize_with = "lenient_text")]
    transaction_type: String,
    #[serde(rename = "TransID", default, deserialize_with = "lenient_text")]
    trans_id: String,
    #[serde(default, deserialize_with = "lenient_text")]
    trans_time: String,
    #[serde(default, deserialize_with = "lenient_text")]
    trans_amount: String,
    #[serde(default, deserialize_with = "lenient_text")]
    business_short_code: String,
    #[serde(default, deserialize_with = "lenient_text")]
    bill_ref_number: String,
    #[serde(default, deserialize_with = "lenient_text")]
    invoice_number: String,
    #[serde(default, deserialize_with = "lenient_text")]
    org_account_balance: String,
    #[serde(
        rename = "ThirdPartyTransID",
        default,
        deserialize_with = "lenient_text"
    )]
    third_party_trans_id: String,
    #[serde(rename = "MSISDN", default, deserialize_with = "lenient_text")]
    msisdn: String,
    #[serde(default, deserialize_with = "lenient_text")]
    first_name: String,
    #[serde(default, deserialize_with = "lenient_text")]
    middle_name: String,
    #[serde(default, deserialize_with = "lenient_text")]
    last_name: String,
}

impl C2bNotice {
    /// Reads a validation or confirmation body; `zone` is the zone of `TransTime`.
    pub(crate) fn parse(body: &[u8], zone: UtcOffset) -> Result<Self, ParseError> {
        let fail = |message: String| ParseError {
            what: "C2B notification",
            message,
        };
        let raw: RawC2b = serde_json::from_slice(body).map_err(|e| fail(e.to_string()))?;
        if raw.trans_id.trim().is_empty() {
            return Err(fail("TransID is missing".to_owned()));
        }
        let amount = parse_decimal(&raw.trans_amount).ok_or_else(|| {
            fail(format!(
                "TransAmount {:?} is not a number",
                raw.trans_amount
            ))
        })?;
        Ok(C2bNotice {
            transaction_type: raw.transaction_type,
            trans_id: raw.trans_id.trim().to_owned(),
            trans_time: Timestamp::parse(&raw.trans_time)
                .ok()
                .and_then(|t| t.to_instant(zone)),
            amount,
            business_short_code: raw.business_short_code,
            bill_ref_number: raw.bill_ref_number,
            invoice_number: raw.invoice_number,
            org_account_balance: parse_decimal(&raw.org_account_balance),
            third_party_trans_id: raw.third_party_trans_id,
            payer: Payer::parse(&raw.msisdn),
            first_name: raw.first_name,
            middle_name: raw.middle_name,
            last_name: raw.last_name,
        })
    }
}

/// What an STK query said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StkQueryAnswer {
    /// Still waiting for the customer ("The transaction is being processed", an empty
    /// `ResultCode`, or a code that is not final).
    Pending,
    /// A final result. A query never carries the receipt, the amount or the phone.
    Final {
        /// `ResultCode`.
        result_code: ResultCode,
        /// `ResultDesc`, verbatim.
        result_description: String,
    },
}

#[derive(Deserialize)]
struct RawQuery {
    #[serde(rename = "ResultCode", default, deserialize_with = "lenient_text")]
    result_code: String,
    #[serde(rename = "ResultDesc", default, deserialize_with = "lenient_text")]
    result_desc: String,
}

impl StkQueryAnswer {
    /// Reads an STK query answer of HTTP status `status`.
    pub(crate) fn parse(status: u16, body: &str) -> Result<Self, GatewayError> {
        if !(200..300).contains(&status) {
            return match GatewayError::from_response(status, body) {
                GatewayError::StillProcessing => Ok(StkQueryAnswer::Pending),
                other => Err(other),
            };
        }
        let raw: RawQuery =
            serde_json::from_str(body).map_err(|_| GatewayError::unparseable(status, body))?;
        if raw.result_code.trim().is_empty() {
            return Ok(StkQueryAnswer::Pending);
        }
        let result_code = ResultCode::parse(&raw.result_code);
        if result_code.payment_status().is_none() {
            return Ok(StkQueryAnswer::Pending);
        }
        Ok(StkQueryAnswer::Final {
            result_code,
            result_description: raw.result_desc,
        })
    }
}

/// Daraja's answer to an STK push it accepted (accepted for processing, not paid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StkPushAccepted {
    /// `MerchantRequestID`.
    pub(crate) merchant_request_id: String,
    /// `CheckoutRequestID`: the key for the callback and the query.
    pub(crate) checkout_request_id: String,
    /// `CustomerMessage`.
    pub(crate) customer_message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPushAnswer {
    #[serde(
        rename = "MerchantRequestID",
        default,
        deserialize_with = "lenient_text"
    )]
    merchant_request_id: String,
    #[serde(
        rename = "CheckoutRequestID",
        default,
        deserialize_with = "lenient_text"
    )]
    checkout_request_id: String,
    #[serde(default, deserialize_with = "lenient_text")]
    response_code: String,
    #[serde(default, deserialize_with = "lenient_text")]
    response_description: String,
    #[serde(default, deserialize_with = "lenient_text")]
    customer_message: String,
}

impl StkPushAccepted {
    /// Reads an STK push answer of HTTP status `status`.
    pub(crate) fn parse(status: u16, body: &str) -> Result<Self, GatewayError> {
        if !(200..300).contains(&status) {
            return Err(GatewayError::from_response(status, body));
        }
        let raw: RawPushAnswer =
            serde_json::from_str(body).map_err(|_| GatewayError::unparseable(status, body))?;
        if raw.response_code.trim() != "0" {
            return Err(GatewayError::Rejected {
                status,
                code: raw.response_code,
                message: raw.response_description,
            });
        }
        if raw.checkout_request_id.trim().is_empty() {
            return Err(GatewayError::unparseable(status, body));
        }
        Ok(StkPushAccepted {
            merchant_request_id: raw.merchant_request_id,
            checkout_request_id: raw.checkout_request_id.trim().to_owned(),
            customer_message: raw.customer_message,
        })
    }
}

/// Daraja's answer to a C2B register-URL request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct RegisterUrlAnswer {
    /// `OriginatorCoversationID` (Daraja's spelling; the correct one is accepted too).
    #[serde(
        rename = "OriginatorCoversationID",
        alias = "OriginatorConversationID",
        default,
        deserialize_with = "lenient_text"
    )]
    pub(crate) originator_conversation_id: String,
    /// `ResponseCode` (`"0"` on success).
    #[serde(rename = "ResponseCode", default, deserialize_with = "lenient_text")]
    pub(crate) response_code: String,
    /// `ResponseDescription`.
    #[serde(
        rename = "ResponseDescription",
        default,
        deserialize_with = "lenient_text"
    )]
    pub(crate) response_description: String,
}

impl RegisterUrlAnswer {
    /// Reads a register-URL answer of HTTP status `status`.
    pub(crate) fn parse(status: u16, body: &str) -> Result<Self, GatewayError> {
        if !(200..300).contains(&status) {
            return Err(GatewayError::from_response(status, body));
        }
        let answer: RegisterUrlAnswer =
            serde_json::from_str(body).map_err(|_| GatewayError::unparseable(status, body))?;
        if answer.response_code.trim() != "0" {
            return Err(GatewayError::Rejected {
                status,
                code: answer.response_code,
                message: answer.response_description,
            });
        }
        Ok(answer)
    }
}

/// A JSON value as text: strings as they are, numbers in decimal, `null` as empty.
pub(crate) fn lenient_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<Value>::deserialize(deserializer)?
        .as_ref()
        .and_then(text)
        .unwrap_or_default())
}

pub(crate) fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn decimal(value: &Value) -> Option<Decimal> {
    text(value).as_deref().and_then(parse_decimal)
}

pub(crate) fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str_exact(text)
        .or_else(|_| Decimal::from_str(text))
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}
