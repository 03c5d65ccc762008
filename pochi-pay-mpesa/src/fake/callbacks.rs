//! What the fake sends: STK callbacks (on resolution, duplicated, late, to a wrong token) and
//! C2B validations and confirmations, as Daraja's JSON over real HTTP.

use std::sync::Arc;

use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::task::JoinSet;

use super::{
    C2bDelivery, C2bPayment, CallbackResponse, CallbackTarget, Delivery, FakeError, PushOutcome,
    PushRecord, PushState, Resolution, state::Shared,
};
use crate::{
    business::Business,
    timestamp::{EAST_AFRICA_TIME, Timestamp},
};

/// The token put in place of the real one for [`CallbackTarget::WrongToken`].
pub(crate) const WRONG_TOKEN: &str = "wrongToken-0000000000";

/// What a paid push reports in its callback metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidDetails {
    /// `Amount`.
    pub amount: u32,
    /// `MpesaReceiptNumber`.
    pub receipt: String,
    /// `PhoneNumber`.
    pub phone: String,
    /// `TransactionDate` (written in East Africa Time).
    pub at: OffsetDateTime,
}

/// The STK callback JSON Daraja posts for a result: `ResultCode` as a JSON number when it is
/// numeric, `CallbackMetadata` only when `paid` is given (with a valueless `Balance` item, as
/// real callbacks have). Useful to forge callbacks in tests.
pub fn stk_callback_json(
    merchant_request_id: &str,
    checkout_request_id: &str,
    result_code: &str,
    result_description: &str,
    paid: Option<&PaidDetails>,
) -> Value {
    let code = result_code
        .parse::<u64>()
        .map_or_else(|_| json!(result_code), |n| json!(n));
    let mut callback = json!({
        "MerchantRequestID": merchant_request_id,
        "CheckoutRequestID": checkout_request_id,
        "ResultCode": code,
        "ResultDesc": result_description,
    });
    if let Some(paid) = paid {
        let date: u64 = Timestamp::at(paid.at, EAST_AFRICA_TIME)
            .as_str()
            .parse()
            .unwrap_or_default();
        let phone = paid
            .phone
            .parse::<u64>()
            .map_or_else(|_| json!(paid.phone), |n| json!(n));
        callback["CallbackMetadata"] = json!({"Item": [
            {"Name": "Amount", "Value": paid.amount},
            {"Name": "MpesaReceiptNumber", "Value": paid.receipt},
            {"Name": "Balance"},
            {"Name": "TransactionDate", "Value": date},
            {"Name": "PhoneNumber", "Value": phone},
        ]});
    }
    json!({"Body": {"stkCallback": callback}})
}

/// The callback JSON of a resolved push.
pub(crate) fn callback_of(push: &PushRecord) -> Option<Value> {
    let PushState::Resolved {
        result_code,
        result_description,
        receipt,
        resolved_at,
    } = &push.state
    else {
        return None;
    };
    let paid = receipt.as_ref().map(|receipt| PaidDetails {
        amount: push.amount,
        receipt: receipt.clone(),
        phone: push.phone.clone(),
        at: *resolved_at,
    });
    Some(stk_callback_json(
        &push.merchant_request_id,
        &push.checkout_request_id,
        result_code,
        result_description,
        paid.as_ref(),
    ))
}

/// Starts the automatic resolution of a new push, if auto mode is on.
pub(crate) fn after_push(shared: &Arc<Shared>, push: &PushRecord) {
    let Some(auto) = shared.read(|s| s.auto.clone()) else {
        return;
    };
    let shared = shared.clone();
    let id = push.checkout_request_id.clone();
    tokio::spawn(async move {
        tokio::time::sleep(auto.after).await;
        // A failed delivery is the shop's problem to reconcile, as with the real Daraja.
        let _ = resolve(&shared, &id, auto.outcome, &Delivery::once()).await;
    });
}

/// Records the outcome of a push and delivers its callback as `delivery` says.
pub(crate) async fn resolve(
    shared: &Arc<Shared>,
    id: &str,
    outcome: PushOutcome,
    delivery: &Delivery,
) -> Result<Resolution, FakeError> {
    let now = shared.now();
    let push = shared.with(|s| {
        let misrouted = match s.push(id) {
            None => return Err(FakeError::UnknownPush(id.to_owned())),
            Some(p) if matches!(p.state, PushState::Resolved { .. }) => {
                return Err(FakeError::AlreadyResolved(id.to_owned()));
            }
            Some(p) => p.misrouted,
        };
        let resolved =
            |code: &str, description: &str, receipt: Option<String>| PushState::Resolved {
                result_code: code.to_owned(),
                result_description: description.to_owned(),
                receipt,
                resolved_at: now,
            };
        let state = match outcome {
            PushOutcome::NoAnswer => PushState::Unanswered,
            PushOutcome::Paid if misrouted => resolved(
                "2028",
                "The request is not permitted according to product assignment.",
                None,
            ),
            PushOutcome::Paid => {
                let receipt = s.receipt();
                if let Some(push) = s.push(id).cloned() {
                    s.remember_payment(&receipt, push.amount, &push.phone, now);
                }
                resolved(
                    "0",
                    "The service request is processed successfully.",
                    Some(receipt),
                )
            }
            PushOutcome::Cancelled => resolved("1032", "Request cancelled by user", None),
            PushOutcome::Unreachable => resolved("1037", "DS timeout user cannot be reached", None),
            PushOutcome::Failed {
                ref code,
                ref description,
            } => resolved(code, description, None),
        };
        let push = s
            .push_mut(id)
            .ok_or_else(|| FakeError::UnknownPush(id.to_owned()))?;
        push.state = state;
        Ok(push.clone())
    })?;
    let Some(callback) = callback_of(&push) else {
        return Ok(Resolution {
            push,
            callback: None,
            responses: Vec::new(),
        });
    };
    let responses = deliver(shared, &push.callback_url, &callback, delivery).await?;
    Ok(Resolution {
        push,
        callback: Some(callback),
        responses,
    })
}

/// Posts `body` to the push's URL (or the target's) as many times as `delivery` says.
pub(crate) async fn deliver(
    shared: &Arc<Shared>,
    callback_url: &str,
    body: &Value,
    delivery: &Delivery,
) -> Result<Vec<CallbackResponse>, FakeError> {
    let url = target_url(callback_url, &delivery.target);
    let responses = post_copies(shared, &url, body, delivery).await;
    // Counted whether or not the shop answered, so waiters never hang on a failed delivery.
    shared.with(|s| s.callbacks_delivered += u64::from(delivery.copies));
    responses
}

async fn post_copies(
    shared: &Arc<Shared>,
    url: &str,
    body: &Value,
    delivery: &Delivery,
) -> Result<Vec<CallbackResponse>, FakeError> {
    if !delivery.concurrent {
        let mut responses = Vec::new();
        for _ in 0..delivery.copies {
            responses.push(post(&shared.http, url, body).await?);
        }
        return Ok(responses);
    }
    let mut tasks = JoinSet::new();
    for _ in 0..delivery.copies {
        let (http, url, body) = (shared.http.clone(), url.to_owned(), body.clone());
        tasks.spawn(async move { post(&http, &url, &body).await });
    }
    let mut responses = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        responses.push(joined.map_err(|e| FakeError::Delivery(e.to_string()))??);
    }
    Ok(responses)
}

fn target_url(callback_url: &str, target: &CallbackTarget) -> String {
    match target {
        CallbackTarget::AsRequested => callback_url.to_owned(),
        CallbackTarget::WrongToken => match callback_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{WRONG_TOKEN}"),
            None => callback_url.to_owned(),
        },
        CallbackTarget::Url(url) => url.clone(),
    }
}

/// POSTs JSON and returns the answer. The error names no URL: callback URLs carry a secret.
pub(crate) async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
) -> Result<CallbackResponse, FakeError> {
    let response = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| FakeError::Delivery(delivery_failure(&e)))?;
    let status = response.status().as_u16();
    let body = response
        .text()
        .await
        .map_err(|e| FakeError::Delivery(delivery_failure(&e)))?;
    Ok(CallbackResponse { status, body })
}

fn delivery_failure(err: &reqwest::Error) -> String {
    if err.is_connect() {
        "could not connect to the callback URL".to_owned()
    } else if err.is_timeout() {
        "the callback URL did not answer in time".to_owned()
    } else {
        "the callback request failed".to_owned()
    }
}

/// The C2B body Daraja posts to validation and confirmation URLs.
pub(crate) fn c2b_json(
    business: &Business,
    payment: &C2bPayment,
    trans_id: &str,
    at: OffsetDateTime,
    confirmation: bool,
) -> Value {
    let transaction_type = match business {
        Business::PayBill { .. } => "Pay Bill",
        Business::Till { .. } => "Buy Goods",
    };
    json!({
        "TransactionType": transaction_type,
        "TransID": trans_id,
        "TransTime": Timestamp::at(at, EAST_AFRICA_TIME).as_str(),
        "TransAmount": payment.amount,
        "BusinessShortCode": business.party_b().as_str(),
        "BillRefNumber": payment.bill_ref_number,
        "InvoiceNumber": "",
        "OrgAccountBalance": if confirmation { "25.00" } else { "" },
        "ThirdPartyTransID": "",
        "MSISDN": payment.msisdn,
        "FirstName": payment.first_name,
        "MiddleName": "",
        "LastName": "",
    })
}

/// Sends a C2B validation or confirmation to `url`.
pub(crate) async fn send_c2b(
    shared: &Arc<Shared>,
    url: &str,
    payment: &C2bPayment,
    confirmation: bool,
) -> Result<C2bDelivery, FakeError> {
    let now = shared.now();
    let trans_id = match &payment.trans_id {
        Some(id) => id.clone(),
        None => shared.with(|s| s.receipt()),
    };
    let body = c2b_json(
        &shared.options.business,
        payment,
        &trans_id,
        now,
        confirmation,
    );
    if confirmation {
        // Whole shillings ("1500.00"): the fake only ever sends whole amounts.
        let whole = payment.amount.split('.').next().unwrap_or_default();
        if let Ok(amount) = whole.trim().parse::<u32>() {
            shared.with(|s| s.remember_payment(&trans_id, amount, &payment.msisdn, now));
        }
    }
    let response = post(&shared.http, url, &body).await?;
    Ok(C2bDelivery {
        trans_id,
        body,
        response,
    })
}
