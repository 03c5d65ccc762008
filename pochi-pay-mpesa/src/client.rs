//! The thin HTTP executor: JSON over reqwest (rustls) with connect and overall timeouts, a
//! bearer token, and one retry with a fresh token when Daraja refuses the token.

use std::{fmt, sync::Arc};

use pochi_core::Clock;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::{config::MpesaConfig, error::GatewayError, token::TokenManager};

/// STK push path.
pub(crate) const STK_PUSH_PATH: &str = "/mpesa/stkpush/v1/processrequest";
/// STK query path.
pub(crate) const STK_QUERY_PATH: &str = "/mpesa/stkpushquery/v1/query";
/// Reversal path.
pub(crate) const REVERSAL_PATH: &str = "/mpesa/reversal/v1/request";
/// B2C path (version 3 of the API).
pub(crate) const B2C_PATH: &str = "/mpesa/b2c/v3/paymentrequest";
/// Transaction Status path.
pub(crate) const STATUS_PATH: &str = "/mpesa/transactionstatus/v1/query";

/// Talks to one Daraja environment with one set of credentials.
pub(crate) struct Daraja {
    http: reqwest::Client,
    base_url: String,
    tokens: TokenManager,
}

impl fmt::Debug for Daraja {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Daraja")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Daraja {
    pub(crate) fn new(config: &MpesaConfig, clock: Arc<dyn Clock>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("pochi-pay-mpesa/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let base_url = config.base_url().to_owned();
        let tokens = TokenManager::new(
            &base_url,
            &config.consumer_key,
            &config.consumer_secret,
            config.token_refresh_margin,
            clock,
        );
        Ok(Daraja {
            http,
            base_url,
            tokens,
        })
    }

    /// POSTs `body` as JSON to `path` and returns the status and the text of the answer.
    ///
    /// If Daraja refuses the token, the token is dropped, a new one fetched, and the request
    /// sent once more: safe, because the gateway refused it before M-Pesa saw it.
    pub(crate) async fn post_json(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<(u16, String), GatewayError> {
        let bearer = self.tokens.bearer(&self.http).await?;
        let (status, text) = self.send(path, body, &bearer.value).await?;
        if !token_refused(status, &text) {
            return Ok((status, text));
        }
        self.tokens.discard(bearer.generation).await;
        let bearer = self.tokens.bearer(&self.http).await?;
        self.send(path, body, &bearer.value).await
    }

    async fn send(
        &self,
        path: &str,
        body: &impl Serialize,
        token: &secrecy::SecretString,
    ) -> Result<(u16, String), GatewayError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(token.expose_secret())
            .json(body)
            .send()
            .await
            .map_err(send_error)?;
        let status = response.status().as_u16();
        // The request was answered; a body that breaks off leaves the outcome unknown.
        let text = response.text().await.map_err(|_| GatewayError::Transport)?;
        Ok((status, text))
    }
}

/// Whether an answer says the access token was refused.
fn token_refused(status: u16, body: &str) -> bool {
    if (200..300).contains(&status) {
        return false;
    }
    match GatewayError::from_response(status, body) {
        GatewayError::InvalidToken { .. } => true,
        GatewayError::Unparseable { status, .. } => status == 401,
        _ => false,
    }
}

/// Classifies a failed send: a connection that was never made sent nothing; a timeout or a
/// broken connection may come after Daraja processed the request.
pub(crate) fn send_error(err: reqwest::Error) -> GatewayError {
    if err.is_connect() {
        GatewayError::Connect
    } else if err.is_timeout() {
        GatewayError::Timeout
    } else {
        GatewayError::Transport
    }
}
