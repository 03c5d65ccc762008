//! A fake Africa's Talking SMS API: `POST /version1/messaging`.

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde::Deserialize;
use serde_json::json;

use super::{Failure, HOLD, Server, Shared, serve};

/// An SMS the fake accepted, as Africa's Talking read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedSms {
    /// The app's user name.
    pub username: String,
    /// The recipient (`+254712345678`).
    pub to: String,
    /// The text.
    pub message: String,
    /// The sender id, if given.
    pub from: Option<String>,
    /// The id the fake gave it.
    pub message_id: String,
}

/// A fake Africa's Talking that accepts the API key it was started with.
#[derive(Debug)]
pub struct FakeAfricasTalking {
    base_url: String,
    api_key: String,
    shared: Arc<Shared<ReceivedSms>>,
    _server: Server,
}

#[derive(Clone)]
struct AtState {
    api_key: String,
    shared: Arc<Shared<ReceivedSms>>,
}

#[derive(Deserialize)]
struct Form {
    username: String,
    to: String,
    message: String,
    from: Option<String>,
}

impl FakeAfricasTalking {
    /// The API key the fake accepts by default.
    pub const API_KEY: &'static str = "atsk_0123456789abcdef";

    /// Starts the fake, accepting [`API_KEY`](Self::API_KEY).
    pub async fn start() -> std::io::Result<FakeAfricasTalking> {
        FakeAfricasTalking::with_api_key(Self::API_KEY).await
    }

    /// Starts the fake, accepting `api_key`.
    pub async fn with_api_key(api_key: &str) -> std::io::Result<FakeAfricasTalking> {
        let shared = Shared::new();
        let state = AtState {
            api_key: api_key.to_owned(),
            shared: shared.clone(),
        };
        let router = Router::new()
            .route("/version1/messaging", post(messaging))
            .with_state(state);
        let (base_url, server) = serve(router).await?;
        Ok(FakeAfricasTalking {
            base_url,
            api_key: api_key.to_owned(),
            shared,
            _server: server,
        })
    }

    /// Its base URL (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The API key it accepts.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The SMS it accepted, in order.
    pub fn received(&self) -> Vec<ReceivedSms> {
        self.shared.received()
    }

    /// Answers the next `count` requests with `failure` (an HTTP error, or a recipient
    /// status such as `403 InvalidPhoneNumber`); they are not recorded.
    pub fn fail_next(&self, count: usize, failure: Failure) {
        self.shared.fail_next(count, failure);
    }
}

fn recipient(code: u16, status: &str, to: &str, id: Option<&str>) -> Response {
    let cost = if code <= 102 { "KES 0.8000" } else { "0" };
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "SMSMessageData": {
                "Message": format!("Sent to {}/1 Total Cost: {cost}", u8::from(code <= 102)),
                "Recipients": [{
                    "statusCode": code,
                    "number": to,
                    "status": status,
                    "cost": cost,
                    "messageId": id.unwrap_or("None"),
                }],
            }
        })),
    )
        .into_response()
}

async fn messaging(State(state): State<AtState>, headers: HeaderMap, body: Bytes) -> Response {
    let key = headers.get("apiKey").and_then(|v| v.to_str().ok());
    if key != Some(state.api_key.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            "The supplied authentication is invalid",
        )
            .into_response();
    }
    let Ok(form) = serde_urlencoded::from_bytes::<Form>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            "Request is missing required form field 'to'",
        )
            .into_response();
    };
    if let Some(failure) = state.shared.next_failure() {
        return match failure {
            Failure::InvalidNumber => recipient(403, "InvalidPhoneNumber", &form.to, None),
            Failure::Blacklisted => recipient(406, "UserInBlacklist", &form.to, None),
            Failure::InsufficientBalance => recipient(405, "InsufficientBalance", &form.to, None),
            Failure::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                [("Retry-After", "7")],
                "Too many requests",
            )
                .into_response(),
            Failure::ServerError => {
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
            }
            Failure::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "The supplied authentication is invalid",
            )
                .into_response(),
            Failure::Timeout => {
                tokio::time::sleep(HOLD).await;
                (StatusCode::GATEWAY_TIMEOUT, "").into_response()
            }
        };
    }
    let number = form.to.trim();
    let valid = number.starts_with("+254")
        && number.len() == 13
        && number[1..].bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return recipient(403, "InvalidPhoneNumber", number, None);
    }
    let to = form.to.clone();
    let sms = state.shared.record(|n| ReceivedSms {
        username: form.username,
        to: form.to,
        message: form.message,
        from: form.from,
        message_id: format!("ATXid_{n:08}"),
    });
    recipient(101, "Success", &to, Some(&sms.message_id))
}
