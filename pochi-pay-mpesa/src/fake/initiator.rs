//! The fake's initiator APIs: Reversal, B2C and Transaction Status, with Daraja's field rules,
//! the `SecurityCredential` check, and the asynchronous result (or queue timeout) posted to the
//! URL the request named.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey, pkcs8::DecodePrivateKey};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{
    InitiatorDelivery, InitiatorKind, InitiatorRecord, InitiatorScript, KnownPayment, PushState,
    callbacks,
    server::{Refusal, admit, digits, envelope, invalid, is_kenyan_mobile, refuse, url_acceptable},
    state::{Shared, State as FakeState},
};
use crate::{
    timestamp::{EAST_AFRICA_TIME, Timestamp},
    transform::{
        MAX_AMOUNT,
        initiator::{MAX_REMARKS, MIN_REMARKS},
    },
};

/// The private key of the test certificate (a test-only fixture).
const TEST_KEY: &str = include_str!("../../tests/fixtures/initiator/test_initiator_key.pem");
/// The name the fake's shop has on M-Pesa statements.
const SHOP_NAME: &str = "Pochi Fake Shop";
/// The `TransactionID` of a result that moved no money.
const NO_TRANSACTION: &str = "FKE0000000";
/// The customer name on payments the fake made.
const CUSTOMER_NAME: &str = "NICHOLAS JOHN SONGOK";

/// Reads the fixture key once, when the fake starts.
pub(crate) fn private_key() -> std::io::Result<RsaPrivateKey> {
    RsaPrivateKey::from_pkcs8_pem(TEST_KEY).map_err(std::io::Error::other)
}

pub(crate) async fn reversal(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, &headers, &body, InitiatorKind::Reversal).await
}

pub(crate) async fn b2c(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, &headers, &body, InitiatorKind::B2c).await
}

pub(crate) async fn status(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, &headers, &body, InitiatorKind::TransactionStatus).await
}

/// A request that passed the field rules.
struct Checked {
    initiator: String,
    credential: Vec<u8>,
    result_url: String,
    timeout_url: String,
    /// B2C only: the caller's key.
    originator_conversation_id: Option<String>,
    /// Reversal: the receipt to reverse. Status: the receipt asked about.
    transaction_id: Option<String>,
    /// Status: the B2C request (or STK push, by its `CheckoutRequestID`) asked about.
    original_conversation_id: Option<String>,
    /// Status: the caller's `Occasion`, echoed in the result's `ReferenceData`.
    occasion: Option<String>,
    amount: u32,
    /// B2C: the phone paid.
    party_b: String,
}

/// What the fake posts once it answered.
struct Posting {
    url: String,
    queue_timeout: bool,
    body: Value,
}

async fn handle(
    shared: Arc<Shared>,
    headers: &HeaderMap,
    body: &[u8],
    kind: InitiatorKind,
) -> Response {
    let body = match admit(&shared, headers, body) {
        Ok(body) => body,
        Err(refusal) => return *refusal,
    };
    let script = shared.with(|s| s.initiator_scripts.pop_front());
    match &script {
        Some(InitiatorScript::Envelope {
            status,
            code,
            message,
        }) => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return envelope(status, code, message);
        }
        Some(InitiatorScript::NoAnswer) => {
            // Daraja holds the connection and never answers; the caller's timeout ends it.
            std::future::pending::<()>().await;
        }
        _ => {}
    }
    let checked = match check(kind, &body) {
        Ok(checked) => checked,
        Err(refusal) => return *refusal,
    };
    let credential_ok = credential_matches(&shared, &checked);
    let now = shared.now();
    let accepted = shared.with(|s| {
        accept(
            s,
            &shared,
            kind,
            &body,
            &checked,
            credential_ok,
            script,
            now,
        )
    });
    let (answer, posting) = match accepted {
        Ok(accepted) => accepted,
        Err(refusal) => return *refusal,
    };
    let http = shared.http.clone();
    let delivering = shared.clone();
    tokio::spawn(async move {
        let response = callbacks::post(&http, &posting.url, &posting.body).await;
        delivering.with(|s| {
            s.initiator_deliveries.push(InitiatorDelivery {
                kind,
                queue_timeout: posting.queue_timeout,
                body: posting.body,
                response,
            });
        });
    });
    Json(answer).into_response()
}

/// Daraja's field rules, in the order its errors name them.
fn check(kind: InitiatorKind, body: &Value) -> Result<Checked, Refusal> {
    let text = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    let originator_conversation_id = match kind {
        InitiatorKind::B2c => Some(
            text("OriginatorConversationID").ok_or_else(|| invalid("OriginatorConversationID"))?,
        ),
        _ => None,
    };
    let initiator_field = if kind == InitiatorKind::B2c {
        "InitiatorName"
    } else {
        "Initiator"
    };
    let initiator = text(initiator_field).ok_or_else(|| invalid(initiator_field))?;
    let credential = text("SecurityCredential")
        .and_then(|c| STANDARD.decode(c).ok())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| invalid("SecurityCredential"))?;
    let command = text("CommandID");
    let command_ok = match kind {
        InitiatorKind::Reversal => command.as_deref() == Some("TransactionReversal"),
        InitiatorKind::B2c => matches!(
            command.as_deref(),
            Some("BusinessPayment" | "SalaryPayment" | "PromotionPayment")
        ),
        InitiatorKind::TransactionStatus => command.as_deref() == Some("TransactionStatusQuery"),
    };
    if !command_ok {
        return Err(invalid("CommandID"));
    }
    let amount = || {
        digits(body.get("Amount"))
            .and_then(|a| a.parse::<u32>().ok())
            .filter(|a| (1..=MAX_AMOUNT).contains(a))
            .ok_or_else(|| invalid("Amount"))
    };
    let mut checked = Checked {
        initiator,
        credential,
        result_url: String::new(),
        timeout_url: String::new(),
        originator_conversation_id,
        transaction_id: None,
        original_conversation_id: None,
        occasion: None,
        amount: 0,
        party_b: String::new(),
    };
    match kind {
        InitiatorKind::Reversal => {
            checked.transaction_id = Some(
                text("TransactionID")
                    .filter(|t| t.chars().all(|c| c.is_ascii_alphanumeric()))
                    .ok_or_else(|| invalid("TransactionID"))?,
            );
            checked.amount = amount()?;
            digits(body.get("ReceiverParty")).ok_or_else(|| invalid("ReceiverParty"))?;
            if digits(body.get("RecieverIdentifierType")).as_deref() != Some("11") {
                return Err(invalid("RecieverIdentifierType"));
            }
        }
        InitiatorKind::B2c => {
            checked.amount = amount()?;
            digits(body.get("PartyA")).ok_or_else(|| invalid("PartyA"))?;
            checked.party_b = digits(body.get("PartyB"))
                .filter(|p| is_kenyan_mobile(p))
                .ok_or_else(|| invalid("PartyB"))?;
        }
        InitiatorKind::TransactionStatus => {
            checked.transaction_id = text("TransactionID");
            checked.original_conversation_id = text("OriginalConversationID");
            if checked.transaction_id.is_none() && checked.original_conversation_id.is_none() {
                return Err(invalid("TransactionID"));
            }
            checked.occasion = text("Occasion");
            if checked
                .occasion
                .as_ref()
                .is_some_and(|o| o.chars().count() > 100)
            {
                return Err(invalid("Occasion"));
            }
            digits(body.get("PartyA")).ok_or_else(|| invalid("PartyA"))?;
            if !matches!(
                digits(body.get("IdentifierType")).as_deref(),
                Some("1" | "2" | "4")
            ) {
                return Err(invalid("IdentifierType"));
            }
        }
    }
    let url = |name: &str| {
        text(name)
            .filter(|u| url_acceptable(u))
            .ok_or_else(|| invalid(name))
    };
    checked.result_url = url("ResultURL")?;
    checked.timeout_url = url("QueueTimeOutURL")?;
    let remarks = body
        .get("Remarks")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !(MIN_REMARKS..=MAX_REMARKS).contains(&remarks.trim().chars().count()) {
        return Err(invalid("Remarks"));
    }
    Ok(checked)
}

/// Whether `SecurityCredential` decrypts, with the fixture key, to the configured password,
/// and the initiator is the configured one.
fn credential_matches(shared: &Shared, checked: &Checked) -> bool {
    let options = &shared.options;
    let password = shared
        .initiator_key
        .decrypt(Pkcs1v15Encrypt, &checked.credential)
        .ok();
    checked.initiator == options.initiator_name
        && password.as_deref() == Some(options.initiator_password.expose_secret().as_bytes())
}

/// Records an accepted request and decides its result.
#[allow(clippy::too_many_arguments)]
fn accept(
    s: &mut FakeState,
    shared: &Shared,
    kind: InitiatorKind,
    body: &Value,
    checked: &Checked,
    credential_ok: bool,
    script: Option<InitiatorScript>,
    now: OffsetDateTime,
) -> Result<(Value, Posting), Refusal> {
    if let Some(key) = &checked.originator_conversation_id {
        if s.initiator_requests
            .iter()
            .any(|r| r.kind == InitiatorKind::B2c && &r.originator_conversation_id == key)
        {
            return Err(refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "500.002.1001",
                "Duplicate OriginatorConversationID.",
            ));
        }
    }
    let number = s.next();
    let originator_conversation_id = checked
        .originator_conversation_id
        .clone()
        .unwrap_or_else(|| format!("{number:04}-fake-{}-1", number * 7 + 3));
    let local = Timestamp::at(now, EAST_AFRICA_TIME);
    let day = &local.as_str()[..8];
    let conversation_id = format!("AG_{day}_fake{:012x}", rand::random::<u64>() >> 16);
    let ids = (originator_conversation_id.clone(), conversation_id.clone());
    // A status query's result echoes its `Occasion` (a key without value when none was sent).
    let reference = match (kind, &checked.occasion) {
        (InitiatorKind::TransactionStatus, Some(occasion)) => {
            json!({"Key": "Occasion", "Value": occasion})
        }
        (InitiatorKind::TransactionStatus, None) => json!({"Key": "Occasion"}),
        _ => {
            json!({"Key": "QueueTimeoutURL", "Value": "https://internalsandbox.example/results/v1/submit"})
        }
    };
    let (url, queue_timeout, result, new_receipt) = match script {
        Some(InitiatorScript::QueueTimeout) => (
            checked.timeout_url.clone(),
            true,
            json!({"Result": {
                "ResultType": 1,
                "ResultDesc": "The request timed out in the queue.",
                "OriginatorConversationID": ids.0,
                "ConversationID": ids.1,
                "ReferenceData": {"ReferenceItem": reference},
            }}),
            None,
        ),
        _ => {
            let outcome = if !credential_ok {
                Outcome::failed("2001", "The initiator information is invalid.")
            } else if let Some(InitiatorScript::FailResult { code, description }) = script {
                Outcome::failed(&code, &description)
            } else {
                outcome(
                    s,
                    kind,
                    checked,
                    now,
                    shared.options.business.party_b().as_str(),
                )
            };
            let receipt = outcome.receipt.clone();
            let result = result_json(&ids, &outcome, reference);
            (checked.result_url.clone(), false, result, receipt)
        }
    };
    let result_code = result["Result"]["ResultCode"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            result["Result"]["ResultCode"]
                .as_u64()
                .map(|n| n.to_string())
        })
        .unwrap_or_default();
    let mut shown = body.clone();
    shown["SecurityCredential"] = json!("(checked)");
    s.initiator_requests.push(InitiatorRecord {
        kind,
        originator_conversation_id: ids.0.clone(),
        conversation_id: ids.1.clone(),
        body: shown,
        result_code,
        new_receipt,
    });
    let answer = json!({
        "OriginatorConversationID": ids.0,
        "ConversationID": ids.1,
        "ResponseCode": "0",
        "ResponseDescription": "Accept the service request successfully.",
    });
    Ok((
        answer,
        Posting {
            url,
            queue_timeout,
            body: result,
        },
    ))
}

/// A result to post.
struct Outcome {
    code: String,
    description: String,
    /// The receipt of the transaction made, if one was.
    receipt: Option<String>,
    parameters: Vec<(&'static str, Value)>,
}

impl Outcome {
    fn failed(code: &str, description: &str) -> Self {
        Outcome {
            code: code.to_owned(),
            description: description.to_owned(),
            receipt: None,
            parameters: Vec::new(),
        }
    }

    fn done(receipt: Option<String>, parameters: Vec<(&'static str, Value)>) -> Self {
        Outcome {
            code: "0".to_owned(),
            description: "The service request is processed successfully.".to_owned(),
            receipt,
            parameters,
        }
    }
}

/// The R000002 answer: the receipt is not one M-Pesa knows.
fn unknown_receipt() -> Outcome {
    Outcome::failed("R000002", "The OriginalTransactionID is invalid.")
}

fn outcome(
    s: &mut FakeState,
    kind: InitiatorKind,
    checked: &Checked,
    now: OffsetDateTime,
    shortcode: &str,
) -> Outcome {
    let compact = |at: OffsetDateTime| -> u64 {
        Timestamp::at(at, EAST_AFRICA_TIME)
            .as_str()
            .parse()
            .unwrap_or_default()
    };
    match kind {
        InitiatorKind::Reversal => {
            let receipt = checked.transaction_id.clone().unwrap_or_default();
            let Some(original) = s.payments.get(&receipt).cloned() else {
                return unknown_receipt();
            };
            if original.reversed {
                return Outcome::failed("R000001", "The transaction has already been reversed");
            }
            let new_receipt = s.receipt();
            if let Some(payment) = s.payments.get_mut(&receipt) {
                payment.reversed = true;
            }
            Outcome::done(
                Some(new_receipt),
                vec![
                    (
                        "DebitAccountBalance",
                        json!("Utility Account|KES|1000.00|1000.00|0.00|0.00"),
                    ),
                    ("Amount", json!(checked.amount)),
                    ("TransCompletedTime", json!(compact(now))),
                    ("OriginalTransactionID", json!(receipt)),
                    ("Charge", json!(0)),
                    (
                        "CreditPartyPublicName",
                        json!(format!("{} - {CUSTOMER_NAME}", original.phone)),
                    ),
                    (
                        "DebitPartyPublicName",
                        json!(format!("{shortcode} - {SHOP_NAME}")),
                    ),
                ],
            )
        }
        InitiatorKind::B2c => {
            let receipt = s.receipt();
            s.remember_payment(&receipt, checked.amount, &checked.party_b, now);
            let local = Timestamp::at(now, EAST_AFRICA_TIME);
            let t = local.as_str();
            let completed = format!(
                "{}.{}.{} {}:{}:{}",
                &t[6..8],
                &t[4..6],
                &t[..4],
                &t[8..10],
                &t[10..12],
                &t[12..14]
            );
            Outcome::done(
                Some(receipt.clone()),
                vec![
                    ("TransactionAmount", json!(checked.amount)),
                    ("TransactionReceipt", json!(receipt)),
                    (
                        "ReceiverPartyPublicName",
                        json!(format!("{} - {CUSTOMER_NAME}", checked.party_b)),
                    ),
                    ("TransactionCompletedDateTime", json!(completed)),
                    ("B2CUtilityAccountAvailableFunds", json!(10_000)),
                    ("B2CWorkingAccountAvailableFunds", json!(10_000)),
                    ("B2CRecipientIsRegisteredCustomer", json!("Y")),
                    ("B2CChargesPaidAccountAvailableFunds", json!(0)),
                ],
            )
        }
        InitiatorKind::TransactionStatus => {
            // By receipt, or by the B2C request or the STK push that made one.
            let receipt = checked.transaction_id.clone().or_else(|| {
                let key = checked.original_conversation_id.as_deref()?;
                s.initiator_requests
                    .iter()
                    .find(|r| r.originator_conversation_id == key)
                    .and_then(|r| r.new_receipt.clone())
                    .or_else(|| match &s.push(key)?.state {
                        PushState::Resolved { receipt, .. } => receipt.clone(),
                        _ => None,
                    })
            });
            let Some(payment) = receipt.and_then(|r| s.payments.get(&r).cloned()) else {
                return unknown_receipt();
            };
            status_outcome(&payment, shortcode, compact(payment.at))
        }
    }
}

fn status_outcome(payment: &KnownPayment, shortcode: &str, at: u64) -> Outcome {
    Outcome::done(
        None,
        vec![
            (
                "DebitPartyName",
                json!(format!("{} - {CUSTOMER_NAME}", payment.phone)),
            ),
            (
                "CreditPartyName",
                json!(format!("{shortcode} - {SHOP_NAME}")),
            ),
            ("InitiatedTime", json!(at.to_string())),
            ("DebitAccountType", json!("MMF Account For Customer")),
            ("TransactionReason", Value::Null),
            ("ReasonType", json!("Pay Bill Online")),
            ("TransactionStatus", json!("Completed")),
            ("FinalisedTime", json!(at.to_string())),
            ("Amount", json!(payment.amount.to_string())),
            ("ReceiptNo", json!(payment.receipt)),
        ],
    )
}

/// The `Result` JSON Daraja posts: `ResultCode` a number when numeric, `ResultParameters`
/// only with parameters, `TransactionID` the new receipt or a placeholder.
fn result_json(ids: &(String, String), outcome: &Outcome, reference: Value) -> Value {
    let code = outcome
        .code
        .parse::<u64>()
        .map_or_else(|_| json!(outcome.code), |n| json!(n));
    let mut result = json!({
        "ResultType": 0,
        "ResultCode": code,
        "ResultDesc": outcome.description,
        "OriginatorConversationID": ids.0,
        "ConversationID": ids.1,
        "TransactionID": outcome.receipt.as_deref().unwrap_or(NO_TRANSACTION),
        "ReferenceData": {"ReferenceItem": reference},
    });
    if !outcome.parameters.is_empty() {
        let items: Vec<Value> = outcome
            .parameters
            .iter()
            .map(|(key, value)| match value {
                Value::Null => json!({"Key": key}),
                value => json!({"Key": key, "Value": value}),
            })
            .collect();
        result["ResultParameters"] = json!({"ResultParameter": items});
    }
    json!({"Result": result})
}
