//! A signed webhook: each message's body (JSON) is POSTed to the shop's URL with
//! `Pochi-Signature: t=UNIX_TIME,v1=HEX`, where HEX is the HMAC-SHA256, keyed with the shared
//! secret, of `UNIX_TIME.BODY`; and `Idempotency-Key: <message id>`, the same on every attempt
//! of one message. A receiver checks the signature with [`verify_signature`] and refuses old
//! times, so a captured request cannot be replayed later.

use std::{fmt, time::Duration};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use pochi_core::notify::{Channel, ChannelKind, OutgoingMessage, SendError, SentMessage};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::http::{self, BuildError};

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "Pochi-Signature";
/// The header that carries the message's id.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// How far a signature's time may be from the receiver's clock by default.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Where and how to sign.
#[derive(Clone)]
pub struct WebhookConfig {
    secret: String,
    url: Option<String>,
    timeout: Duration,
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("secret", &"<secret>")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl WebhookConfig {
    /// Signing with `secret`; each message goes to its own `to`.
    pub fn new(secret: impl Into<String>) -> Self {
        WebhookConfig {
            secret: secret.into(),
            url: None,
            timeout: http::DEFAULT_TIMEOUT,
        }
    }

    /// Every message to `url`, whatever its `to` says.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Another bound on one request (15 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// The signed webhook channel.
#[derive(Debug, Clone)]
pub struct SignedWebhook {
    config: WebhookConfig,
    client: reqwest::Client,
}

impl SignedWebhook {
    /// The channel for `config`.
    pub fn new(config: WebhookConfig) -> Result<Self, BuildError> {
        Ok(SignedWebhook {
            client: http::client(config.timeout)?,
            config,
        })
    }
}

/// The hex HMAC-SHA256 of `timestamp.body` under `secret`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `Pochi-Signature` header value for `body` at `timestamp`.
pub fn signature_header(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// Why a webhook's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is missing or not `t=…,v1=…`.
    #[error("the signature header is missing or malformed")]
    Malformed,
    /// The time is further from now than the tolerance: a replay, or a wrong clock.
    #[error("the signature's time is too far from now")]
    Stale,
    /// The signature does not match the body.
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks a `Pochi-Signature` header against `body` and `secret`, at `now` (UNIX seconds),
/// refusing a time more than `tolerance` away. The comparison takes constant time.
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let (Some(timestamp), false) = (timestamp, signatures.is_empty()) else {
        return Err(SignatureError::Malformed);
    };
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if now.abs_diff(timestamp) > tolerance.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let expected = sign(secret, timestamp, body);
    let matches = signatures
        .iter()
        .any(|given| bool::from(given.as_bytes().ct_eq(expected.as_bytes())));
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[async_trait]
impl Channel for SignedWebhook {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Webhook
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SentMessage, SendError> {
        let url = self
            .config
            .url
            .as_deref()
            .unwrap_or(message.content.to.as_str());
        let body = message.content.body.as_bytes().to_vec();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                SIGNATURE_HEADER,
                signature_header(self.config.secret.as_bytes(), now, &body),
            )
            .header(IDEMPOTENCY_HEADER, message.id.to_string())
            .header("Pochi-Event", message.kind.as_str())
            .body(body)
            .send()
            .await
            .map_err(|e| http::transport(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(SentMessage::default());
        }
        let retry = http::retry_after(response.headers());
        Err(http::by_status(status, retry, "the webhook"))
    }
}
