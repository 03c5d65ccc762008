//! WhatsApp through Meta's WhatsApp Cloud API: template messages
//! (`POST /{version}/{phone-number-id}/messages`, a bearer token). A business may message a
//! customer first only with a template approved in WhatsApp Manager: each Pochi template is
//! sent as the WhatsApp template of the same name (`order_placed`, …) in the customer's
//! language (`en`, `sw`), its placeholders' values as the body's parameters in order. The API
//! takes no idempotency key: a message is sent at least once.

use std::{fmt, time::Duration};

use async_trait::async_trait;
use pochi_core::notify::{Channel, ChannelKind, OutgoingMessage, SendError, SentMessage};
use serde::Deserialize;
use serde_json::json;

use crate::http::{self, BuildError};

/// Meta's Graph API.
pub(crate) const GRAPH_BASE_URL: &str = "https://graph.facebook.com";
/// The Graph API version the requests name.
pub(crate) const GRAPH_VERSION: &str = "v21.0";

/// How to reach the WhatsApp Cloud API.
#[derive(Clone)]
pub struct WhatsAppConfig {
    phone_number_id: String,
    token: String,
    base_url: String,
    timeout: Duration,
}

impl fmt::Debug for WhatsAppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsAppConfig")
            .field("phone_number_id", &self.phone_number_id)
            .field("token", &"<secret>")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl WhatsAppConfig {
    /// The business phone number's id (as WhatsApp Manager shows it) and an access token.
    pub fn new(phone_number_id: impl Into<String>, token: impl Into<String>) -> Self {
        WhatsAppConfig {
            phone_number_id: phone_number_id.into(),
            token: token.into(),
            base_url: GRAPH_BASE_URL.to_owned(),
            timeout: http::DEFAULT_TIMEOUT,
        }
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

/// WhatsApp template messages through the Cloud API.
#[derive(Debug, Clone)]
pub struct WhatsAppCloud {
    config: WhatsAppConfig,
    client: reqwest::Client,
}

impl WhatsAppCloud {
    /// The channel for `config`.
    pub fn new(config: WhatsAppConfig) -> Result<Self, BuildError> {
        Ok(WhatsAppCloud {
            client: http::client(config.timeout)?,
            config,
        })
    }
}

#[derive(Deserialize)]
struct Sent {
    #[serde(default)]
    messages: Vec<SentId>,
}

#[derive(Deserialize)]
struct SentId {
    id: String,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    code: i64,
}

/// What a Graph API error code means for the message.
fn graph_error(code: i64, retry: Option<Duration>) -> SendError {
    let permanent = |stable: &'static str, what: &str| SendError::Permanent {
        code: stable,
        detail: format!("WhatsApp error {code}: {what}"),
    };
    let transient = |stable: &'static str, what: &str| SendError::Transient {
        code: stable,
        detail: format!("WhatsApp error {code}: {what}"),
        retry_after: retry,
    };
    match code {
        4 | 80007 | 130429 | 131048 | 131056 => transient("rate_limited", "rate limited"),
        190 | 10 | 200 => permanent("unauthorized", "the access token was refused"),
        131026 => permanent(
            "invalid_recipient",
            "the number cannot receive WhatsApp messages",
        ),
        131030 => permanent(
            "recipient_not_allowed",
            "the number is not on the test list",
        ),
        131047 => permanent(
            "re_engagement",
            "more than 24 hours since the customer wrote",
        ),
        131050 => permanent(
            "recipient_opted_out",
            "the customer stopped marketing messages",
        ),
        132000 | 132001 | 132005 | 132007 | 132012 => permanent(
            "template_rejected",
            "the template is missing or does not fit",
        ),
        131042 => transient(
            "insufficient_balance",
            "a payment problem on the business account",
        ),
        100 => permanent("invalid_parameter", "a parameter was refused"),
        1 | 2 | 131000 | 131016 => transient("unavailable", "the service is unavailable"),
        _ => permanent("rejected", "refused"),
    }
}

#[async_trait]
impl Channel for WhatsAppCloud {
    fn kind(&self) -> ChannelKind {
        ChannelKind::WhatsApp
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SentMessage, SendError> {
        let content = &message.content;
        let parameters: Vec<_> = content
            .params
            .iter()
            .map(|text| json!({ "type": "text", "text": text }))
            .collect();
        let body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": content.to.trim_start_matches('+'),
            "type": "template",
            "template": {
                "name": content.template,
                "language": { "code": content.language.as_str() },
                "components": [{ "type": "body", "parameters": parameters }],
            },
        });
        let response = self
            .client
            .post(format!(
                "{}/{GRAPH_VERSION}/{}/messages",
                self.config.base_url, self.config.phone_number_id
            ))
            .bearer_auth(&self.config.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| http::transport(&e))?;
        let status = response.status();
        let retry = http::retry_after(response.headers());
        let text = response.text().await.map_err(|e| http::transport(&e))?;
        if status.is_success() {
            let sent: Sent = serde_json::from_str(&text).map_err(|_| SendError::Transient {
                code: "unavailable",
                detail: "WhatsApp's answer could not be read".to_owned(),
                retry_after: None,
            })?;
            return Ok(SentMessage {
                provider_ref: sent.messages.into_iter().next().map(|m| m.id),
            });
        }
        match serde_json::from_str::<ErrorEnvelope>(&text) {
            Ok(envelope) if !status.is_server_error() => {
                Err(graph_error(envelope.error.code, retry))
            }
            _ => Err(http::by_status(status, retry, "WhatsApp")),
        }
    }
}
