//! E-mail over SMTP with lettre: STARTTLS (port 587), TLS from the first byte (465), or plain
//! for a relay on the same machine; optional login. Each message's `Message-ID` is made from
//! its delivery id, so a mail system that sees one twice can tell.

use std::{fmt, time::Duration};

use async_trait::async_trait;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::authentication::Credentials,
};
use pochi_core::notify::{Channel, ChannelKind, OutgoingMessage, SendError, SentMessage};

use crate::http::BuildError;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmtpSecurity {
    /// A plain connection upgraded with STARTTLS, which is required.
    StartTls,
    /// TLS from the first byte.
    Tls,
    /// No TLS: only for a relay on this machine.
    Plain,
}

/// How to reach the SMTP server.
#[derive(Clone)]
pub struct SmtpConfig {
    host: String,
    port: Option<u16>,
    security: SmtpSecurity,
    credentials: Option<(String, String)>,
    from: String,
    timeout: Duration,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpConfig {
    /// The server `host`, sending as `from` (`Duka <duka@example.com>`), with STARTTLS on the
    /// submission port (587) by default.
    pub fn new(host: impl Into<String>, from: impl Into<String>) -> Self {
        SmtpConfig {
            host: host.into(),
            port: None,
            security: SmtpSecurity::StartTls,
            credentials: None,
            from: from.into(),
            timeout: Duration::from_secs(20),
        }
    }

    /// Another port (the default follows the security: 587, 465 or 25).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Another way of securing the connection.
    pub fn with_security(mut self, security: SmtpSecurity) -> Self {
        self.security = security;
        self
    }

    /// Logs in with this user and password.
    pub fn with_credentials(
        mut self,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// Another bound on one conversation with the server (20 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// E-mail over SMTP.
#[derive(Clone)]
pub struct SmtpEmail {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    timeout: Duration,
}

impl fmt::Debug for SmtpEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpEmail")
            .field("host", &self.host)
            .field("from", &self.from.email.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpEmail {
    /// The channel for `config`; refuses a `from` that is not an address, or a host that TLS
    /// cannot name.
    pub fn new(config: SmtpConfig) -> Result<Self, BuildError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|_| BuildError::new("the From address is not an e-mail address"))?;
        let builder = match config.security {
            SmtpSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                    .map_err(|e| BuildError::new(format!("SMTP host: {e}")))?
                    .port(config.port.unwrap_or(587))
            }
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)
                .map_err(|e| BuildError::new(format!("SMTP host: {e}")))?
                .port(config.port.unwrap_or(465)),
            SmtpSecurity::Plain => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
                    .port(config.port.unwrap_or(25))
            }
        };
        let builder = builder.timeout(Some(config.timeout));
        let builder = match &config.credentials {
            Some((user, password)) => {
                builder.credentials(Credentials::new(user.clone(), password.clone()))
            }
            None => builder,
        };
        Ok(SmtpEmail {
            transport: builder.build(),
            from,
            host: config.host,
            timeout: config.timeout,
        })
    }
}

#[async_trait]
impl Channel for SmtpEmail {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SentMessage, SendError> {
        let content = &message.content;
        let to: Mailbox = content.to.parse().map_err(|_| SendError::Permanent {
            code: "invalid_recipient",
            detail: "the recipient is not an e-mail address".to_owned(),
        })?;
        let message_id = format!("<{}@pochi.invalid>", message.id);
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(
                content
                    .subject
                    .clone()
                    .unwrap_or_else(|| format!("Order {}", message.order_number)),
            )
            .message_id(Some(message_id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(content.body.clone())
            .map_err(|_| SendError::Permanent {
                code: "rejected",
                detail: "the e-mail could not be built".to_owned(),
            })?;
        // lettre bounds connecting; the whole conversation is bounded here.
        match tokio::time::timeout(self.timeout, self.transport.send(email)).await {
            Ok(Ok(_)) => Ok(SentMessage {
                provider_ref: Some(message_id),
            }),
            Ok(Err(e)) => Err(smtp_error(&e)),
            Err(_) => Err(SendError::Transient {
                code: "timeout",
                detail: "the SMTP server did not answer in time".to_owned(),
                retry_after: None,
            }),
        }
    }
}

/// What an SMTP failure means; the server's reply text may quote the address, so only its
/// code is kept.
fn smtp_error(error: &lettre::transport::smtp::Error) -> SendError {
    let code = error
        .status()
        .map(|c| c.to_string())
        .unwrap_or_else(|| "no reply".to_owned());
    if error.is_permanent() {
        let stable = if code.starts_with("55") {
            "invalid_recipient"
        } else if code == "535" || code == "530" {
            "unauthorized"
        } else {
            "rejected"
        };
        SendError::Permanent {
            code: stable,
            detail: format!("the SMTP server refused it ({code})"),
        }
    } else if error.is_timeout() {
        SendError::Transient {
            code: "timeout",
            detail: "the SMTP server did not answer in time".to_owned(),
            retry_after: None,
        }
    } else if error.is_transient() {
        SendError::Transient {
            code: "unavailable",
            detail: format!("the SMTP server asked to try later ({code})"),
            retry_after: None,
        }
    } else {
        SendError::Transient {
            code: "unavailable",
            detail: "the SMTP server could not be reached".to_owned(),
            retry_after: None,
        }
    }
}
