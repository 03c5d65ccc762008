//! The choices a configuration makes: environment, C2B version and response type, phone
//! format, callback channels.

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Which Daraja to talk to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// `https://sandbox.safaricom.co.ke`.
    Sandbox,
    /// `https://api.safaricom.co.ke`: real money.
    Production,
    /// Another base URL (the fake Daraja server, a proxy). Checked like the sandbox unless it
    /// points at the production host.
    Custom(String),
}

impl Environment {
    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            Environment::Sandbox => "https://sandbox.safaricom.co.ke",
            Environment::Production => "https://api.safaricom.co.ke",
            Environment::Custom(url) => url.trim_end_matches('/'),
        }
    }

    /// Whether real money moves.
    pub fn is_production(&self) -> bool {
        match self {
            Environment::Production => true,
            Environment::Sandbox => false,
            Environment::Custom(url) => url.contains("api.safaricom.co.ke"),
        }
    }

    /// Parses `sandbox`, `production` or a base URL.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let text = text.trim();
        match text.to_ascii_lowercase().as_str() {
            "sandbox" => Ok(Environment::Sandbox),
            "production" => Ok(Environment::Production),
            lower if lower.starts_with("http://") || lower.starts_with("https://") => {
                Ok(Environment::Custom(text.to_owned()))
            }
            _ => Err(ConfigError::new(
                "environment",
                "must be sandbox, production or a base URL (http://127.0.0.1:PORT for the fake)",
            )),
        }
    }
}

/// The C2B register-URL API version. It must match the C2B product version of the Daraja app
/// (otherwise `401.003.01 no apiproduct match found`); Safaricom's pages disagree, so it is
/// configuration. Default: `v2`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum C2bVersion {
    /// `/mpesa/c2b/v1/registerurl`.
    V1,
    /// `/mpesa/c2b/v2/registerurl`.
    #[default]
    V2,
}

impl C2bVersion {
    /// `v1` or `v2`.
    pub fn as_str(self) -> &'static str {
        match self {
            C2bVersion::V1 => "v1",
            C2bVersion::V2 => "v2",
        }
    }
}

/// What M-Pesa does with a C2B payment when the validation URL cannot be reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum C2bResponseType {
    /// Complete the payment (default: the shop then matches it or keeps it for review).
    #[default]
    Completed,
    /// Cancel the payment.
    Cancelled,
}

impl C2bResponseType {
    /// The wire value (sentence case, exactly).
    pub fn as_str(self) -> &'static str {
        match self {
            C2bResponseType::Completed => "Completed",
            C2bResponseType::Cancelled => "Cancelled",
        }
    }
}

/// How phone numbers (`PartyA`, `PhoneNumber`) are sent. Safaricom types them "Numeric" but its
/// samples send strings; which one is safer is unconfirmed. Default: numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneFormat {
    /// `254712345678`.
    #[default]
    Number,
    /// `"254712345678"`.
    String,
}

/// The callback routes Daraja posts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackChannel {
    /// The STK result.
    Stk,
    /// C2B validation (only if External Validation is enabled for the shortcode).
    C2bValidation,
    /// C2B confirmation.
    C2bConfirmation,
}

impl CallbackChannel {
    /// Every channel.
    pub const ALL: [CallbackChannel; 3] = [
        CallbackChannel::Stk,
        CallbackChannel::C2bValidation,
        CallbackChannel::C2bConfirmation,
    ];

    /// The path segment: `stk`, `c2b-validation`, `c2b-confirmation`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackChannel::Stk => "stk",
            CallbackChannel::C2bValidation => "c2b-validation",
            CallbackChannel::C2bConfirmation => "c2b-confirmation",
        }
    }

    /// The channel a path segment names.
    pub fn parse(text: &str) -> Option<Self> {
        CallbackChannel::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
    }
}

/// The callback routes Daraja posts the asynchronous results of initiator requests to
/// (Reversal, B2C, Transaction Status): each request names a result URL and a queue-timeout
/// URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InitiatorChannel {
    /// The result of a reversal.
    ReversalResult,
    /// A reversal that timed out in Daraja's queue.
    ReversalTimeout,
    /// The result of a B2C payment.
    B2cResult,
    /// A B2C payment that timed out in Daraja's queue.
    B2cTimeout,
    /// The result of a transaction status query.
    StatusResult,
    /// A transaction status query that timed out in Daraja's queue.
    StatusTimeout,
}

impl InitiatorChannel {
    /// Every channel.
    pub const ALL: [InitiatorChannel; 6] = [
        InitiatorChannel::ReversalResult,
        InitiatorChannel::ReversalTimeout,
        InitiatorChannel::B2cResult,
        InitiatorChannel::B2cTimeout,
        InitiatorChannel::StatusResult,
        InitiatorChannel::StatusTimeout,
    ];

    /// The path segment: `reversal-result`, `reversal-timeout`, `b2c-result`, `b2c-timeout`,
    /// `status-result`, `status-timeout`.
    pub fn as_str(self) -> &'static str {
        match self {
            InitiatorChannel::ReversalResult => "reversal-result",
            InitiatorChannel::ReversalTimeout => "reversal-timeout",
            InitiatorChannel::B2cResult => "b2c-result",
            InitiatorChannel::B2cTimeout => "b2c-timeout",
            InitiatorChannel::StatusResult => "status-result",
            InitiatorChannel::StatusTimeout => "status-timeout",
        }
    }

    /// The channel a path segment names.
    pub fn parse(text: &str) -> Option<Self> {
        InitiatorChannel::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
    }

    /// Whether Daraja posts here when the request timed out in its queue (no result).
    pub fn is_timeout(self) -> bool {
        matches!(
            self,
            InitiatorChannel::ReversalTimeout
                | InitiatorChannel::B2cTimeout
                | InitiatorChannel::StatusTimeout
        )
    }
}
