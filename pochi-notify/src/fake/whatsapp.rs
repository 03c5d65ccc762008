//! A fake WhatsApp Cloud API: `POST /{version}/{phone-number-id}/messages`.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

use super::{Failure, HOLD, Server, Shared, serve};

/// A template message the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedWhatsApp {
    /// The business phone number's id in the path.
    pub phone_number_id: String,
    /// The recipient's number, digits only.
    pub to: String,
    /// The template's name.
    pub template: String,
    /// Its language code.
    pub language: String,
    /// The body's parameters, in order.
    pub params: Vec<String>,
    /// The id the fake gave it (`wamid.…`).
    pub message_id: String,
}

/// A fake WhatsApp Cloud API that accepts the token it was started with.
#[derive(Debug)]
pub struct FakeWhatsApp {
    base_url: String,
    shared: Arc<Shared<ReceivedWhatsApp>>,
    _server: Server,
}

#[derive(Clone)]
struct WaState {
    token: String,
    shared: Arc<Shared<ReceivedWhatsApp>>,
}

fn graph_error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        Json(json!({
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "error_subcode": 2494010,
                "fbtrace_id": "AbCdEfGhIjK",
            }
        })),
    )
        .into_response()
}

impl FakeWhatsApp {
    /// The token the fake accepts by default.
    pub const TOKEN: &'static str = "EAAGfaketoken0123456789";

    /// Starts the fake, accepting [`TOKEN`](Self::TOKEN).
    pub async fn start() -> std::io::Result<FakeWhatsApp> {
        let shared = Shared::new();
        let state = WaState {
            token: Self::TOKEN.to_owned(),
            shared: shared.clone(),
        };
        let router = Router::new()
            .route("/{version}/{phone}/messages", post(messages))
            .with_state(state);
        let (base_url, server) = serve(router).await?;
        Ok(FakeWhatsApp {
            base_url,
            shared,
            _server: server,
        })
    }

    /// Its base URL.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The messages it accepted, in order.
    pub fn received(&self) -> Vec<ReceivedWhatsApp> {
        self.shared.received()
    }

    /// Answers the next `count` requests with `failure` (Graph API error envelopes).
    pub fn fail_next(&self, count: usize, failure: Failure) {
        self.shared.fail_next(count, failure);
    }
}

async fn messages(
    State(state): State<WaState>,
    Path((_version, phone)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(state.token.as_str()) {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            190,
            "Error validating access token: The session has been invalidated.",
        );
    }
    if let Some(failure) = state.shared.next_failure() {
        return match failure {
            Failure::InvalidNumber => {
                graph_error(StatusCode::BAD_REQUEST, 131026, "Message undeliverable")
            }
            Failure::Blacklisted => graph_error(
                StatusCode::BAD_REQUEST,
                131050,
                "User has stopped marketing messages",
            ),
            Failure::InsufficientBalance => graph_error(
                StatusCode::BAD_REQUEST,
                131042,
                "Business eligibility payment issue",
            ),
            Failure::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                [("Retry-After", "7")],
                Json(
                    json!({"error": {"message": "Rate limit hit", "type": "OAuthException",
                    "code": 130429, "fbtrace_id": "AbCdEfGhIjK"}}),
                ),
            )
                .into_response(),
            Failure::ServerError => graph_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                1,
                "An unknown error occurred",
            ),
            Failure::Unauthorized => graph_error(
                StatusCode::UNAUTHORIZED,
                190,
                "Error validating access token",
            ),
            Failure::Timeout => {
                tokio::time::sleep(HOLD).await;
                StatusCode::GATEWAY_TIMEOUT.into_response()
            }
        };
    }
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    if body["messaging_product"] != "whatsapp" || body["type"] != "template" {
        return graph_error(StatusCode::BAD_REQUEST, 100, "(#100) Invalid parameter");
    }
    let to = text(&body["to"]);
    if to.len() < 10 || !to.bytes().all(|b| b.is_ascii_digit()) {
        return graph_error(StatusCode::BAD_REQUEST, 131026, "Message undeliverable");
    }
    let params = body["template"]["components"][0]["parameters"]
        .as_array()
        .map(|ps| ps.iter().map(|p| text(&p["text"])).collect())
        .unwrap_or_default();
    let message = state.shared.record(|n| ReceivedWhatsApp {
        phone_number_id: phone,
        to: to.clone(),
        template: text(&body["template"]["name"]),
        language: text(&body["template"]["language"]["code"]),
        params,
        message_id: format!("wamid.HBgM{n:012}"),
    });
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": to }],
        "messages": [{ "id": message.message_id }],
    }))
    .into_response()
}
