//! Pure transformers: the shop's requests into Daraja request bodies, and Daraja's
//! notifications into `pochi-core` notices. No I/O; the executor in `client` does the HTTP.

use pochi_core::{
    Currency, DirectPayment, Error, Money, Msisdn, Notice, PaymentId, PaymentStatus,
    ProviderResult, Receipt, TransactionFacts,
};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, Serializer};

use crate::{
    business::Business,
    config::{CallbackChannel, MpesaConfig, PhoneFormat},
    initiator_result::InitiatorResult,
    notify::{C2bNotice, StkCallback},
    timestamp::{Timestamp, password},
};

/// The largest amount of one M-Pesa transaction, in KES.
pub(crate) const MAX_AMOUNT: u32 = 250_000;
/// The longest `AccountReference` Daraja accepts.
pub(crate) const MAX_ACCOUNT_REFERENCE: usize = 12;
/// The longest `TransactionDesc` Daraja accepts.
pub(crate) const MAX_DESCRIPTION: usize = 13;

/// An STK push, checked against Daraja's field rules before any network call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StkPush {
    phone: Msisdn,
    amount: u32,
    account_reference: String,
    description: String,
}

impl StkPush {
    /// Checks a push: a KES amount that is a whole number from 1 to 250,000; an account
    /// reference of 1 to 12 letters and digits; a description of 1 to 13 characters. Errors
    /// are `InvalidInput` naming `amount`, `account_reference` or `description`.
    pub(crate) fn new(
        phone: Msisdn,
        amount: Money,
        account_reference: &str,
        description: &str,
    ) -> Result<Self, Error> {
        let amount = whole_shillings(amount)?;
        let account_reference = account_reference.trim();
        if account_reference.is_empty()
            || account_reference.chars().count() > MAX_ACCOUNT_REFERENCE
            || !account_reference.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(Error::invalid(
                "account_reference",
                "must be 1 to 12 letters and digits",
            ));
        }
        let description = description.trim();
        if description.is_empty()
            || description.chars().count() > MAX_DESCRIPTION
            || description.chars().any(char::is_control)
        {
            return Err(Error::invalid("description", "must be 1 to 13 characters"));
        }
        Ok(StkPush {
            phone,
            amount,
            account_reference: account_reference.to_owned(),
            description: description.to_owned(),
        })
    }
}

/// A KES amount as a whole number from 1 to [`MAX_AMOUNT`].
pub(crate) fn whole_shillings(amount: Money) -> Result<u32, Error> {
    if amount.currency() != Currency::Kes {
        return Err(Error::invalid(
            "amount",
            "M-Pesa takes Kenyan shillings only",
        ));
    }
    let value = amount.amount();
    if !value.fract().is_zero() {
        return Err(Error::invalid(
            "amount",
            "M-Pesa takes whole shillings; this amount has cents",
        ));
    }
    match value.to_u32() {
        Some(whole) if (1..=MAX_AMOUNT).contains(&whole) => Ok(whole),
        _ => Err(Error::invalid(
            "amount",
            format!("must be between KES 1 and KES {MAX_AMOUNT} for one M-Pesa payment"),
        )),
    }
}

/// A received amount (`1.00`, `"5.00"`) as KES money, which must be whole and positive.
pub(crate) fn received_amount(amount: Decimal) -> Result<Money, Error> {
    if amount <= Decimal::ZERO || !amount.fract().is_zero() {
        return Err(Error::invalid(
            "body",
            format!("amount {amount} is not a whole, positive number of shillings"),
        ));
    }
    Money::new(amount, Currency::Kes).map_err(|e| Error::invalid("body", e.to_string()))
}

/// A phone or shortcode as Daraja takes it.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Numeric {
    Number(u64),
    Text(String),
}

pub(crate) fn phone_value(phone: &Msisdn, format: PhoneFormat) -> Numeric {
    match (format, phone.as_str().parse::<u64>()) {
        (PhoneFormat::Number, Ok(number)) => Numeric::Number(number),
        _ => Numeric::Text(phone.as_str().to_owned()),
    }
}

pub(crate) fn expose<S: Serializer>(
    secret: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// The body of `POST /mpesa/stkpush/v1/processrequest`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StkPushBody {
    business_short_code: u64,
    #[serde(serialize_with = "expose")]
    password: SecretString,
    timestamp: String,
    transaction_type: &'static str,
    amount: u32,
    party_a: Numeric,
    party_b: u64,
    phone_number: Numeric,
    #[serde(rename = "CallBackURL")]
    callback_url: String,
    account_reference: String,
    transaction_desc: String,
}

/// Builds an STK push body. `timestamp` is used for both `Password` and `Timestamp`.
pub(crate) fn stk_push_body(
    config: &MpesaConfig,
    push: &StkPush,
    timestamp: &Timestamp,
) -> StkPushBody {
    let business = &config.business;
    let shortcode = business.business_short_code();
    StkPushBody {
        business_short_code: shortcode.as_number(),
        password: password(shortcode.as_str(), &config.passkey, timestamp),
        timestamp: timestamp.as_str().to_owned(),
        transaction_type: business.transaction_type().as_str(),
        amount: push.amount,
        party_a: phone_value(&push.phone, config.phone_format),
        party_b: business.party_b().as_number(),
        phone_number: phone_value(&push.phone, config.phone_format),
        callback_url: config.callback_url(CallbackChannel::Stk),
        account_reference: push.account_reference.clone(),
        transaction_desc: push.description.clone(),
    }
}

/// The body of `POST /mpesa/stkpushquery/v1/query`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StkQueryBody {
    business_short_code: String,
    #[serde(serialize_with = "expose")]
    password: SecretString,
    timestamp: String,
    #[serde(rename = "CheckoutRequestID")]
    checkout_request_id: String,
}

/// Builds an STK query body. `timestamp` is used for both `Password` and `Timestamp`.
pub(crate) fn stk_query_body(
    config: &MpesaConfig,
    checkout_request_id: &str,
    timestamp: &Timestamp,
) -> StkQueryBody {
    let shortcode = config.business.business_short_code();
    StkQueryBody {
        business_short_code: shortcode.as_str().to_owned(),
        password: password(shortcode.as_str(), &config.passkey, timestamp),
        timestamp: timestamp.as_str().to_owned(),
        checkout_request_id: checkout_request_id.to_owned(),
    }
}

/// The body of `POST /mpesa/c2b/{v1,v2}/registerurl`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RegisterUrlBody {
    short_code: String,
    response_type: &'static str,
    #[serde(rename = "ConfirmationURL")]
    confirmation_url: String,
    #[serde(rename = "ValidationURL")]
    validation_url: String,
}

/// Builds a C2B register-URL body.
pub(crate) fn register_url_body(config: &MpesaConfig) -> RegisterUrlBody {
    RegisterUrlBody {
        short_code: config.business.business_short_code().as_str().to_owned(),
        response_type: config.c2b_response_type.as_str(),
        confirmation_url: config.callback_url(CallbackChannel::C2bConfirmation),
        validation_url: config.callback_url(CallbackChannel::C2bValidation),
    }
}

/// Turns an STK callback into the result of the attempt it names.
///
/// A success must carry `Amount` (whole) and `MpesaReceiptNumber`: a success without them
/// cannot be checked against the attempt, so it is refused as unreadable (the shop keeps it for
/// review) rather than trusted.
pub(crate) fn stk_notice(callback: StkCallback, raw: String) -> Result<Notice, Error> {
    let status = callback.result_code.payment_status().ok_or_else(|| {
        Error::invalid(
            "body",
            format!("result code {} is not a final result", callback.result_code),
        )
    })?;
    let mut result = ProviderResult {
        result_code: Some(callback.result_code.as_str().to_owned()),
        result_description: Some(callback.result_description.clone()),
        raw_payload: Some(raw),
        ..ProviderResult::with_status(status)
    };
    let metadata = callback.metadata.unwrap_or_default();
    result.payer = metadata.phone.as_ref().map(|p| p.as_reported().to_owned());
    if status == PaymentStatus::Succeeded {
        let (Some(amount), Some(receipt)) = (metadata.amount, metadata.receipt.as_deref()) else {
            return Err(Error::invalid(
                "body",
                "a success callback must carry Amount and MpesaReceiptNumber",
            ));
        };
        result.amount = Some(received_amount(amount)?);
        result.receipt = Some(Receipt::parse(receipt).map_err(|e| e.at("body"))?);
    }
    Ok(Notice::AttemptResult {
        reference: callback.checkout_request_id,
        result,
    })
}

/// Turns a C2B notification into a direct payment. A `BusinessShortCode` that is neither the
/// shop's paybill (or store number) nor its till is reported as
/// [`DirectPayment::other_shortcode`]: the shop keeps such money for review and applies none
/// of it.
pub(crate) fn direct_payment(
    notice: C2bNotice,
    raw: String,
    business: &Business,
) -> Result<DirectPayment, Error> {
    let shortcode = notice.business_short_code.trim();
    let ours = shortcode == business.business_short_code().as_str()
        || shortcode == business.party_b().as_str();
    Ok(DirectPayment {
        other_shortcode: (!ours).then(|| shortcode.to_owned()),
        receipt: Receipt::parse(&notice.trans_id).map_err(|e| e.at("body"))?,
        amount: received_amount(notice.amount)?,
        account_reference: notice.bill_ref_number,
        payer: notice.payer.as_ref().map(|p| p.as_reported().to_owned()),
        raw_payload: Some(raw),
    })
}

/// Turns a Transaction Status result (or its queue timeout) into the answer the shop asked
/// for. The payment it is about comes back in the result's `Occasion`. Only a completed
/// transaction paid to the shop's own account (`CreditPartyName` starting with its shortcode or
/// till number; any when M-Pesa names none) confirms anything; everything else is
/// the provider's words for an admin.
pub(crate) fn status_notice(result: InitiatorResult, business: &Business) -> Notice {
    let payment_id = result
        .occasion
        .as_deref()
        .and_then(|o| PaymentId::parse(o).ok());
    let p = &result.parameters;
    let outcome = if result.is_timeout() {
        Err("M-Pesa did not answer the check in time; check again".to_owned())
    } else if !result.is_success() {
        Err(format!(
            "M-Pesa could not confirm it: {} ({})",
            result.result_description, result.result_code
        ))
    } else {
        let credited = p
            .credit_party_name
            .as_deref()
            .and_then(|name| name.split(" - ").next())
            .map(str::trim)
            .filter(|number| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()));
        match (&p.receipt, p.transaction_status.as_deref(), credited) {
            (None, _, _) => Err("M-Pesa's answer names no transaction".to_owned()),
            (_, Some(status), _) if !status.eq_ignore_ascii_case("Completed") => {
                Err(format!("M-Pesa says the transaction is {status}"))
            }
            (_, _, Some(number))
                if number != business.business_short_code().as_str()
                    && number != business.party_b().as_str() =>
            {
                Err(format!(
                    "the money was paid to {number}, not to this shop's {}",
                    business.party_b()
                ))
            }
            (Some(receipt), _, _) => Ok(TransactionFacts {
                receipt: receipt.clone(),
                amount: p.amount,
                payer: None,
                completed_at: p.completed_at,
                raw_payload: Some(result.raw_payload.clone()),
            }),
        }
    };
    Notice::TransactionStatus {
        payment_id,
        request: result.conversation_id,
        outcome,
    }
}

pub(crate) mod initiator;
#[cfg(test)]
mod tests;
