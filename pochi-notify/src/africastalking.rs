//! SMS through Africa's Talking's messaging API: `POST /version1/messaging` with the app's
//! user name, the recipient, the text and the sender id as a form, the API key in the `apiKey`
//! header; the answer lists each recipient's status (`101 Success`, `403 InvalidPhoneNumber`,
//! `405 InsufficientBalance`, …). The API takes no idempotency key: a message is sent at least
//! once (see [`pochi_core::notify`]).

use std::{fmt, time::Duration};

use async_trait::async_trait;
use pochi_core::notify::{Channel, ChannelKind, OutgoingMessage, SendError, SentMessage};
use serde::Deserialize;

use crate::http::{self, BuildError};

/// The live API.
pub const LIVE_BASE_URL: &str = "https://api.africastalking.com";
/// The sandbox API (user name `sandbox`).
pub const SANDBOX_BASE_URL: &str = "https://api.sandbox.africastalking.com";

/// How to reach Africa's Talking.
#[derive(Clone)]
pub struct AfricasTalkingConfig {
    username: String,
    api_key: String,
    sender_id: Option<String>,
    base_url: String,
    timeout: Duration,
}

impl fmt::Debug for AfricasTalkingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AfricasTalkingConfig")
            .field("username", &self.username)
            .field("api_key", &"<secret>")
            .field("sender_id", &self.sender_id)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl AfricasTalkingConfig {
    /// The live API, for the app `username` with its API key.
    pub fn live(username: impl Into<String>, api_key: impl Into<String>) -> Self {
        AfricasTalkingConfig {
            username: username.into(),
            api_key: api_key.into(),
            sender_id: None,
            base_url: LIVE_BASE_URL.to_owned(),
            timeout: http::DEFAULT_TIMEOUT,
        }
    }

    /// The sandbox (user name `sandbox`), with the sandbox app's API key.
    pub fn sandbox(api_key: impl Into<String>) -> Self {
        AfricasTalkingConfig {
            base_url: SANDBOX_BASE_URL.to_owned(),
            ..AfricasTalkingConfig::live("sandbox", api_key)
        }
    }

    /// Sends as this sender id (a short code or an approved alphanumeric name).
    pub fn with_sender_id(mut self, sender_id: impl Into<String>) -> Self {
        self.sender_id = Some(sender_id.into());
        self
    }

    /// Another API address (a proxy, or a fake).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Another bound on one request (15 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// SMS through Africa's Talking.
#[derive(Debug, Clone)]
pub struct AfricasTalkingSms {
    config: AfricasTalkingConfig,
    client: reqwest::Client,
}

impl AfricasTalkingSms {
    /// The channel for `config`.
    pub fn new(config: AfricasTalkingConfig) -> Result<Self, BuildError> {
        Ok(AfricasTalkingSms {
            client: http::client(config.timeout)?,
            config,
        })
    }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "SMSMessageData")]
    data: MessageData,
}

#[derive(Deserialize)]
struct MessageData {
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "Recipients", default)]
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Recipient {
    #[serde(rename = "statusCode")]
    status_code: u16,
    #[serde(default)]
    status: String,
    #[serde(rename = "messageId", default)]
    message_id: Option<String>,
}

/// What a recipient's status code means.
fn recipient_error(code: u16, status: &str) -> Option<SendError> {
    let permanent = |code: &'static str| SendError::Permanent {
        code,
        detail: format!("Africa's Talking answered {status}"),
    };
    let transient = |code: &'static str| SendError::Transient {
        code,
        detail: format!("Africa's Talking answered {status}"),
        retry_after: None,
    };
    Some(match code {
        100..=102 => return None,
        401 => transient("risk_hold"),
        402 => permanent("invalid_sender_id"),
        403 | 404 => permanent("invalid_recipient"),
        405 => transient("insufficient_balance"),
        406 | 409 => permanent("recipient_opted_out"),
        407 => permanent("could_not_route"),
        _ => transient("unavailable"),
    })
}

#[async_trait]
impl Channel for AfricasTalkingSms {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SentMessage, SendError> {
        let mut form = vec![
            ("username", self.config.username.as_str()),
            ("to", message.content.to.as_str()),
            ("message", message.content.body.as_str()),
        ];
        if let Some(from) = &self.config.sender_id {
            form.push(("from", from.as_str()));
        }
        let body = serde_urlencoded::to_string(&form).map_err(|_| SendError::Permanent {
            code: "rejected",
            detail: "the message could not be encoded".to_owned(),
        })?;
        let response = self
            .client
            .post(format!("{}/version1/messaging", self.config.base_url))
            .header("apiKey", &self.config.api_key)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| http::transport(&e))?;
        let status = response.status();
        let retry = http::retry_after(response.headers());
        let text = response.text().await.map_err(|e| http::transport(&e))?;
        if !status.is_success() {
            return Err(http::by_status(status, retry, "Africa's Talking"));
        }
        let answer: Answer = serde_json::from_str(&text).map_err(|_| SendError::Transient {
            code: "unavailable",
            detail: "Africa's Talking's answer could not be read".to_owned(),
            retry_after: None,
        })?;
        let Some(recipient) = answer.data.recipients.first() else {
            // No recipient at all: the whole request was refused (`InvalidSenderId`, …).
            let said: String = answer
                .data
                .message
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
                .take(60)
                .collect();
            return Err(if said.contains("InvalidSenderId") {
                SendError::Permanent {
                    code: "invalid_sender_id",
                    detail: "Africa's Talking refused the sender id".to_owned(),
                }
            } else {
                SendError::Permanent {
                    code: "rejected",
                    detail: format!("Africa's Talking sent to no one: {said}"),
                }
            });
        };
        // The status word is Africa's Talking's own (`InvalidPhoneNumber`): no personal data.
        let word: String = recipient
            .status
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(40)
            .collect();
        match recipient_error(recipient.status_code, &word) {
            Some(error) => Err(error),
            None => Ok(SentMessage {
                provider_ref: recipient.message_id.clone(),
            }),
        }
    }
}
