//! A fake webhook receiver that checks the signature as a shop's endpoint should.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use time::OffsetDateTime;

use super::{Failure, HOLD, Server, Shared, serve};
use crate::webhook::{IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify_signature};

/// A request the receiver accepted (its signature checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedHook {
    /// The body.
    pub body: String,
    /// The `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
}

/// A webhook endpoint at `/hook` that accepts requests signed with its secret (401 otherwise).
#[derive(Debug)]
pub struct FakeWebhookReceiver {
    url: String,
    shared: Arc<Shared<ReceivedHook>>,
    refused: Arc<std::sync::atomic::AtomicUsize>,
    _server: Server,
}

#[derive(Clone)]
struct HookState {
    secret: String,
    shared: Arc<Shared<ReceivedHook>>,
    refused: Arc<std::sync::atomic::AtomicUsize>,
}

impl FakeWebhookReceiver {
    /// Starts a receiver checking signatures with `secret`.
    pub async fn start(secret: &str) -> std::io::Result<FakeWebhookReceiver> {
        let shared = Shared::new();
        let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let state = HookState {
            secret: secret.to_owned(),
            shared: shared.clone(),
            refused: refused.clone(),
        };
        let router = Router::new().route("/hook", post(hook)).with_state(state);
        let (base_url, server) = serve(router).await?;
        Ok(FakeWebhookReceiver {
            url: format!("{base_url}/hook"),
            shared,
            refused,
            _server: server,
        })
    }

    /// The URL to post to.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The requests it accepted.
    pub fn received(&self) -> Vec<ReceivedHook> {
        self.shared.received()
    }

    /// How many requests it refused for a bad or missing signature.
    pub fn refused(&self) -> usize {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Answers the next `count` requests with `failure` (429, 500, 401 or a held request).
    pub fn fail_next(&self, count: usize, failure: Failure) {
        self.shared.fail_next(count, failure);
    }
}

async fn hook(State(state): State<HookState>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let signature = header(SIGNATURE_HEADER).unwrap_or_default();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if verify_signature(
        state.secret.as_bytes(),
        &signature,
        &body,
        now,
        Duration::from_secs(300),
    )
    .is_err()
    {
        state
            .refused
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Some(failure) = state.shared.next_failure() {
        return match failure {
            Failure::RateLimited => {
                (StatusCode::TOO_MANY_REQUESTS, [("Retry-After", "7")]).into_response()
            }
            Failure::Unauthorized => StatusCode::UNAUTHORIZED.into_response(),
            Failure::Timeout => {
                tokio::time::sleep(HOLD).await;
                StatusCode::GATEWAY_TIMEOUT.into_response()
            }
            Failure::InvalidNumber | Failure::Blacklisted => StatusCode::GONE.into_response(),
            Failure::InsufficientBalance | Failure::ServerError => {
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        };
    }
    state.shared.record(|_| ReceivedHook {
        body: String::from_utf8_lossy(&body).into_owned(),
        idempotency_key: header(IDEMPOTENCY_HEADER),
    });
    StatusCode::NO_CONTENT.into_response()
}
