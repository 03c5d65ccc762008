//! The OAuth access token, shared by every task of a provider.
//!
//! Safaricom documents that issuing a token invalidates the previous one, so fetches must be
//! rare: one token per provider, replaced shortly before it expires, by a single fetch that
//! every waiting task shares (the lock is held across the fetch). A failed fetch is not
//! cached. A token Daraja refuses is dropped (only if it is still the current one) so the next
//! caller fetches a new one.

use std::{fmt, sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use pochi_core::Clock;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::error::GatewayError;

/// An access token as Daraja issued it.
#[derive(Clone)]
pub(crate) struct AccessToken {
    /// The token.
    pub(crate) value: SecretString,
    /// Its lifetime (`expires_in`).
    pub(crate) expires_in: Duration,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"(redacted)")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

#[derive(Deserialize)]
struct RawToken {
    access_token: String,
    #[serde(deserialize_with = "seconds")]
    expires_in: u64,
}

/// `expires_in` as a number (`3599`) or a string (`"3599"`).
fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| serde::de::Error::custom("expires_in is not a whole number")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom("expires_in is not a whole number")),
        _ => Err(serde::de::Error::custom("expires_in is missing")),
    }
}

impl AccessToken {
    /// Reads an OAuth answer of HTTP status `status`.
    pub(crate) fn parse(status: u16, body: &str) -> Result<Self, GatewayError> {
        if !(200..300).contains(&status) {
            return Err(GatewayError::from_response(status, body));
        }
        let raw: RawToken = serde_json::from_str(body)
            .map_err(|_| GatewayError::unparseable(status, "(OAuth answer without a token)"))?;
        if raw.access_token.trim().is_empty() {
            return Err(GatewayError::unparseable(
                status,
                "(OAuth answer with an empty token)",
            ));
        }
        Ok(AccessToken {
            value: SecretString::from(raw.access_token.trim()),
            // Daraja says 3599; anything above a day is a mistake not worth trusting.
            expires_in: Duration::from_secs(raw.expires_in.clamp(1, 86_400)),
        })
    }
}

/// A token handed to a request, with the generation it belongs to.
pub(crate) struct Bearer {
    pub(crate) value: SecretString,
    pub(crate) generation: u64,
}

struct Cached {
    value: SecretString,
    refresh_at: OffsetDateTime,
    generation: u64,
}

#[derive(Default)]
struct State {
    current: Option<Cached>,
    generation: u64,
}

/// Fetches, caches and replaces the access token.
pub(crate) struct TokenManager {
    url: String,
    basic: SecretString,
    margin: Duration,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    pub(crate) fn new(
        base_url: &str,
        consumer_key: &str,
        consumer_secret: &SecretString,
        margin: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let basic = STANDARD.encode(format!(
            "{consumer_key}:{}",
            consumer_secret.expose_secret()
        ));
        TokenManager {
            url: format!("{base_url}/oauth/v1/generate?grant_type=client_credentials"),
            basic: SecretString::from(basic),
            margin,
            clock,
            state: Mutex::new(State::default()),
        }
    }

    /// The current token, fetched first if there is none or it is about to expire.
    pub(crate) async fn bearer(&self, http: &reqwest::Client) -> Result<Bearer, GatewayError> {
        let mut state = self.state.lock().await;
        let now = self.clock.now();
        if let Some(cached) = state.current.as_ref().filter(|c| now < c.refresh_at) {
            return Ok(Bearer {
                value: cached.value.clone(),
                generation: cached.generation,
            });
        }
        state.current = None;
        let token = self.fetch(http).await?;
        // Replace ahead of expiry, but never so early that a short-lived token is refetched
        // on every call.
        let margin = self.margin.min(token.expires_in / 2);
        let lifetime =
            time::Duration::try_from(token.expires_in - margin).unwrap_or(time::Duration::ZERO);
        let now = self.clock.now();
        state.generation += 1;
        let generation = state.generation;
        state.current = Some(Cached {
            value: token.value.clone(),
            refresh_at: now.checked_add(lifetime).unwrap_or(now),
            generation,
        });
        Ok(Bearer {
            value: token.value,
            generation,
        })
    }

    /// Drops the token of `generation` if it is still the current one.
    pub(crate) async fn discard(&self, generation: u64) {
        let mut state = self.state.lock().await;
        if state.current.as_ref().map(|c| c.generation) == Some(generation) {
            state.current = None;
        }
    }

    async fn fetch(&self, http: &reqwest::Client) -> Result<AccessToken, GatewayError> {
        let response = http
            .get(&self.url)
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Basic {}", self.basic.expose_secret()),
            )
            .send()
            .await
            .map_err(crate::client::send_error)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|_| GatewayError::Transport)?;
        AccessToken::parse(status, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_in_is_read_as_a_number_or_a_string() {
        let body = include_str!("../tests/fixtures/oauth_response.json");
        let token = AccessToken::parse(200, body).unwrap();
        assert_eq!(token.value.expose_secret(), "c9SQxWWhmdVRlyh0zh8gZDTkubVF");
        assert_eq!(token.expires_in, Duration::from_secs(3599));
        let token =
            AccessToken::parse(200, r#"{"access_token":"abc","expires_in":"3599"}"#).unwrap();
        assert_eq!(token.expires_in, Duration::from_secs(3599));
    }

    #[test]
    fn an_answer_without_a_token_is_an_error_that_shows_no_body() {
        let err = AccessToken::parse(200, r#"{"expires_in":"3599"}"#).unwrap_err();
        assert!(matches!(err, GatewayError::Unparseable { status: 200, .. }));
        let err = AccessToken::parse(400, "").unwrap_err();
        assert_eq!(
            err,
            GatewayError::Unparseable {
                status: 400,
                body: String::new()
            }
        );
    }

    #[test]
    fn debug_output_hides_the_token() {
        let token = AccessToken::parse(200, r#"{"access_token":"s3cr3t","expires_in":1}"#).unwrap();
        assert!(!format!("{token:?}").contains("s3cr3t"));
    }
}
