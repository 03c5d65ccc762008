//! What the HTTP channels share: the client, and how transport failures and HTTP statuses map
//! to [`SendError`]s.

use std::time::Duration;

use pochi_core::notify::SendError;
use reqwest::{StatusCode, header::HeaderMap};

/// How long one request may take, connecting included, unless a channel is told otherwise.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a channel could not be built.
#[derive(Debug, thiserror::Error)]
#[error("the HTTP client could not be built: {0}")]
pub struct BuildError(String);

impl BuildError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        BuildError(message.into())
    }
}

pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, BuildError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .build()
        .map_err(|e| BuildError(e.to_string()))
}

/// A request that got no answer: a timeout, a refused connection, a reset.
pub(crate) fn transport(error: &reqwest::Error) -> SendError {
    // reqwest's own text names the URL; that is configuration, not personal data, but the
    // kind of failure is all a retry needs.
    let (code, detail) = if error.is_timeout() {
        ("timeout", "the service did not answer in time")
    } else if error.is_connect() {
        ("unavailable", "the service could not be reached")
    } else {
        ("unavailable", "the request failed on its way")
    };
    SendError::Transient {
        code,
        detail: detail.to_owned(),
        retry_after: None,
    }
}

/// The pause a `Retry-After` header asks for, in seconds (the date form is not used by these
/// services).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|secs| Duration::from_secs(secs.min(24 * 3600)))
}

/// What an HTTP status alone says, for a service whose body did not say more.
pub(crate) fn by_status(status: StatusCode, retry: Option<Duration>, service: &str) -> SendError {
    match status {
        StatusCode::TOO_MANY_REQUESTS => SendError::Transient {
            code: "rate_limited",
            detail: format!("{service} asked to slow down (429)"),
            retry_after: retry,
        },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => SendError::Permanent {
            code: "unauthorized",
            detail: format!("{service} refused the credentials ({})", status.as_u16()),
        },
        s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => SendError::Transient {
            code: "unavailable",
            detail: format!("{service} answered {}", status.as_u16()),
            retry_after: retry,
        },
        s => SendError::Permanent {
            code: "rejected",
            detail: format!("{service} answered {}", s.as_u16()),
        },
    }
}
