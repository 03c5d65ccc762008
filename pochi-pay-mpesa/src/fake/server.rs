//! The fake's HTTP side: Daraja's routes, validation rules and error envelopes.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{PushRecord, PushState, RegisteredUrls, callbacks, initiator, state::Shared};
use crate::{
    business::{Business, TransactionType},
    client::{B2C_PATH, REVERSAL_PATH, STATUS_PATH, STK_PUSH_PATH, STK_QUERY_PATH},
    config::{C2bVersion, FORBIDDEN_IN_URLS},
    timestamp::{Timestamp, password},
    transform::{MAX_ACCOUNT_REFERENCE, MAX_AMOUNT, MAX_DESCRIPTION},
};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/oauth/v1/generate", get(oauth))
        .route(STK_PUSH_PATH, post(process_request))
        .route(STK_QUERY_PATH, post(query))
        .route("/mpesa/c2b/{version}/registerurl", post(register_url))
        .route(REVERSAL_PATH, post(initiator::reversal))
        .route(B2C_PATH, post(initiator::b2c))
        .route("/mpesa/b2c/v1/paymentrequest", post(initiator::b2c))
        .route(STATUS_PATH, post(initiator::status))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(shared)
}

pub(super) type Refusal = Box<Response>;

/// Daraja's error shape.
pub(super) fn envelope(status: StatusCode, code: &str, message: &str) -> Response {
    let request_id = format!("{:x}-fake", rand::random::<u64>());
    (
        status,
        Json(json!({"requestId": request_id, "errorCode": code, "errorMessage": message})),
    )
        .into_response()
}

pub(super) fn refuse(status: StatusCode, code: &str, message: &str) -> Refusal {
    Box::new(envelope(status, code, message))
}

pub(super) fn invalid(field: &str) -> Refusal {
    refuse(
        StatusCode::BAD_REQUEST,
        "400.002.02",
        &format!("Bad Request - Invalid {field}"),
    )
}

async fn not_found() -> Response {
    envelope(StatusCode::NOT_FOUND, "404.001.01", "Resource not found")
}

async fn method_not_allowed() -> Response {
    envelope(
        StatusCode::METHOD_NOT_ALLOWED,
        "405.001",
        "Method Not Allowed",
    )
}

async fn oauth(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let options = &shared.options;
    let now = shared.now();
    let failing = shared.with(|s| {
        s.token_fetches += 1;
        if s.fail_token_fetches > 0 {
            s.fail_token_fetches -= 1;
            true
        } else {
            false
        }
    });
    if failing {
        return envelope(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500.003.1001",
            "Internal Server Error",
        );
    }
    if query.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return envelope(
            StatusCode::BAD_REQUEST,
            "400.008.02",
            "Invalid grant type passed",
        );
    }
    let expected = STANDARD.encode(format!(
        "{}:{}",
        options.consumer_key,
        options.consumer_secret.expose_secret()
    ));
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    if given != Some(expected.as_str()) {
        return envelope(
            StatusCode::BAD_REQUEST,
            "400.008.01",
            "Invalid Authentication passed",
        );
    }
    let token = shared.with(|s| s.issue_token(now, options.token_lifetime_secs));
    let expires_in = if options.expires_in_as_string {
        json!(options.token_lifetime_secs.to_string())
    } else {
        json!(options.token_lifetime_secs)
    };
    Json(json!({"access_token": token, "expires_in": expires_in})).into_response()
}

/// Checks the bearer token and the content type, and reads the JSON body.
pub(super) fn admit(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Value, Refusal> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            refuse(
                StatusCode::NOT_FOUND,
                "404.001.04",
                "Invalid Authenticator Header",
            )
        })?;
    let now = shared.now();
    if !shared.read(|s| s.token_valid(bearer, now)) {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            "404.001.03",
            "Invalid Access Token",
        ));
    }
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_body {
        // Daraja's own quirk: a missing content type reads as a bad shortcode.
        return Err(invalid("BusinessShortCode"));
    }
    serde_json::from_slice(body).map_err(|_| {
        refuse(
            StatusCode::BAD_REQUEST,
            "400.002.05",
            "Invalid Request Payload",
        )
    })
}

/// Digits given as a JSON number or a string of digits.
pub(super) fn digits(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(s.clone())
        }
        _ => None,
    }
}

pub(super) fn is_kenyan_mobile(number: &str) -> bool {
    number.len() == 12
        && (number.starts_with("2547") || number.starts_with("2541"))
        && number.bytes().all(|b| b.is_ascii_digit())
}

pub(super) fn url_acceptable(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        && !FORBIDDEN_IN_URLS.iter().any(|w| lower.contains(w))
}

/// Checks the shortcode, timestamp and password common to push and query.
fn check_credentials(shared: &Shared, body: &Value) -> Result<String, Refusal> {
    let shortcode =
        digits(body.get("BusinessShortCode")).ok_or_else(|| invalid("BusinessShortCode"))?;
    let timestamp = body
        .get("Timestamp")
        .and_then(Value::as_str)
        .and_then(|t| Timestamp::parse(t).ok())
        .ok_or_else(|| invalid("Timestamp"))?;
    if shortcode != shared.options.business.business_short_code().as_str() {
        return Err(refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500.001.1001",
            "Merchant does not exist",
        ));
    }
    let expected = password(&shortcode, &shared.options.passkey, &timestamp);
    if body.get("Password").and_then(Value::as_str) != Some(expected.expose_secret()) {
        return Err(refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500.001.1001",
            "Wrong credentials",
        ));
    }
    Ok(shortcode)
}

async fn process_request(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match accept_push(&shared, &headers, &body) {
        Ok(push) => {
            let answer = json!({
                "MerchantRequestID": push.merchant_request_id,
                "CheckoutRequestID": push.checkout_request_id,
                "ResponseCode": "0",
                "ResponseDescription": "Success. Request accepted for processing",
                "CustomerMessage": "Success. Request accepted for processing",
            });
            callbacks::after_push(&shared, &push);
            Json(answer).into_response()
        }
        Err(refusal) => *refusal,
    }
}

fn accept_push(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<PushRecord, Refusal> {
    let body = admit(shared, headers, body)?;
    digits(body.get("BusinessShortCode")).ok_or_else(|| invalid("BusinessShortCode"))?;
    let transaction_type = match body.get("TransactionType").and_then(Value::as_str) {
        Some("CustomerPayBillOnline") => TransactionType::CustomerPayBillOnline,
        Some("CustomerBuyGoodsOnline") => TransactionType::CustomerBuyGoodsOnline,
        _ => return Err(invalid("TransactionType")),
    };
    let amount = digits(body.get("Amount"))
        .and_then(|a| a.parse::<u32>().ok())
        .filter(|a| (1..=MAX_AMOUNT).contains(a))
        .ok_or_else(|| invalid("Amount"))?;
    let party_a = digits(body.get("PartyA"))
        .filter(|p| is_kenyan_mobile(p))
        .ok_or_else(|| invalid("PartyA"))?;
    let phone = digits(body.get("PhoneNumber"))
        .filter(|p| is_kenyan_mobile(p))
        .ok_or_else(|| invalid("PhoneNumber"))?;
    let party_b = digits(body.get("PartyB")).ok_or_else(|| invalid("PartyB"))?;
    let callback_url = body
        .get("CallBackURL")
        .and_then(Value::as_str)
        .filter(|u| url_acceptable(u))
        .ok_or_else(|| invalid("CallBackURL"))?;
    let account_reference = body
        .get("AccountReference")
        .and_then(Value::as_str)
        .filter(|r| (1..=MAX_ACCOUNT_REFERENCE).contains(&r.chars().count()))
        .ok_or_else(|| invalid("AccountReference"))?;
    let description = body
        .get("TransactionDesc")
        .and_then(Value::as_str)
        .filter(|d| (1..=MAX_DESCRIPTION).contains(&d.chars().count()))
        .ok_or_else(|| invalid("Remarks"))?;
    let shortcode = check_credentials(shared, &body)?;
    // A till push sent as a paybill one (or to the wrong PartyB) is accepted by Daraja and
    // fails later with 2028.
    let business = &shared.options.business;
    let misrouted =
        transaction_type != business.transaction_type() || party_b != business.party_b().as_str();
    let now = shared.now();
    shared.with(|s| {
        if shared.options.lock_subscriber && s.phone_busy(&phone) {
            return Err(refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "500.001.1001",
                "Unable to lock subscriber, a transaction is already in process for the current subscriber",
            ));
        }
        let number = s.next();
        let push = PushRecord {
            checkout_request_id: s.checkout_request_id(now),
            merchant_request_id: format!("{number}-fake-{}", number * 7 + 1),
            business_short_code: shortcode,
            transaction_type,
            party_a,
            party_b,
            phone,
            amount,
            callback_url: callback_url.to_owned(),
            account_reference: account_reference.to_owned(),
            description: description.to_owned(),
            misrouted,
            received_at: now,
            state: PushState::Pending,
        };
        s.pushes.push(push.clone());
        Ok(push)
    })
}

async fn query(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let body = match admit(&shared, &headers, &body) {
        Ok(body) => body,
        Err(refusal) => return *refusal,
    };
    if let Err(refusal) = check_credentials(&shared, &body) {
        return *refusal;
    }
    let id = body
        .get("CheckoutRequestID")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(push) = shared.read(|s| s.push(id).cloned()) else {
        return *invalid("CheckoutRequestID");
    };
    match push.state {
        PushState::Resolved {
            result_code,
            result_description,
            ..
        } => Json(json!({
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successfully",
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": push.checkout_request_id,
            "ResultCode": result_code,
            "ResultDesc": result_description,
        }))
        .into_response(),
        PushState::Pending | PushState::Unanswered if shared.options.pending_query_empty_result => {
            Json(json!({
                "ResponseCode": "0",
                "ResponseDescription": "The service request has been accepted successfully",
                "MerchantRequestID": push.merchant_request_id,
                "CheckoutRequestID": push.checkout_request_id,
                "ResultCode": "",
                "ResultDesc": "",
            }))
            .into_response()
        }
        PushState::Pending | PushState::Unanswered => envelope(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500.001.1001",
            "The transaction is being processed",
        ),
    }
}

async fn register_url(
    State(shared): State<Arc<Shared>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match admit(&shared, &headers, &body) {
        Ok(body) => body,
        Err(refusal) => return *refusal,
    };
    let version = match version.as_str() {
        "v1" => C2bVersion::V1,
        "v2" => C2bVersion::V2,
        _ => return not_found().await,
    };
    if version != shared.options.c2b_version {
        return envelope(
            StatusCode::UNAUTHORIZED,
            "401.003.01",
            "Error Occurred - Invalid Access Token - Invalid API call as no apiproduct match found",
        );
    }
    let shortcode = digits(body.get("ShortCode"));
    if shortcode.as_deref() != Some(shared.options.business.business_short_code().as_str()) {
        return *invalid("ShortCode");
    }
    let response_type = body.get("ResponseType").and_then(Value::as_str);
    if !matches!(response_type, Some("Completed" | "Cancelled")) {
        return *invalid("ResponseType");
    }
    let url = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .filter(|u| url_acceptable(u))
            .map(str::to_owned)
    };
    let Some(confirmation_url) = url("ConfirmationURL") else {
        return *invalid("ConfirmationURL");
    };
    let Some(validation_url) = url("ValidationURL") else {
        return *invalid("ValidationURL");
    };
    shared.with(|s| {
        s.registered = Some(RegisteredUrls {
            version,
            response_type: response_type.unwrap_or_default().to_owned(),
            confirmation_url,
            validation_url,
        });
    });
    Json(json!({
        "OriginatorCoversationID": format!("{:x}-fake", rand::random::<u64>()),
        "ResponseCode": "0",
        "ResponseDescription": "Success",
    }))
    .into_response()
}

/// The business a fake serves by default: the public sandbox paybill.
pub(crate) fn default_business() -> Business {
    Business::PayBill {
        shortcode: crate::business::ShortCode::sandbox(),
    }
}

pub(crate) fn default_passkey() -> SecretString {
    SecretString::from(crate::config::SANDBOX_PASSKEY)
}
