//! Errors from Daraja, typed by code **and** message (`500.001.1001` alone covers several
//! unrelated situations), and their conversion into `pochi_core::Error` kinds.

use pochi_core::Error;
use serde::Deserialize;

/// The most characters of an unreadable body kept in an error.
const MAX_BODY_IN_ERROR: usize = 512;

/// What went wrong talking to Daraja.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The access token was refused (expired, replaced, or the app lacks the product).
    #[error("M-Pesa refused the access token ({code})")]
    InvalidToken {
        /// Daraja's `errorCode`.
        code: String,
    },
    /// The password does not match shortcode, passkey and timestamp.
    #[error("M-Pesa answered \"Wrong credentials\": check the shortcode and passkey")]
    WrongCredentials,
    /// The business shortcode is not one of this app's.
    #[error("M-Pesa answered \"Merchant does not exist\": check the business shortcode")]
    MerchantDoesNotExist,
    /// Another STK session is open on the customer's phone.
    #[error("a payment request is already open on this phone")]
    SubscriberLocked,
    /// The transaction is still being processed (STK query while pending).
    #[error("the transaction is being processed")]
    StillProcessing,
    /// A B2C request reused an `OriginatorConversationID`: Daraja refused it, so that payment
    /// was not made twice.
    #[error("M-Pesa refused a repeated OriginatorConversationID")]
    DuplicateRequest,
    /// Too many requests (spike arrest or quota).
    #[error("M-Pesa is limiting requests ({code})")]
    RateLimited {
        /// Daraja's `errorCode`.
        code: String,
    },
    /// A field of the request was refused (`Bad Request - Invalid <Field>`).
    #[error("M-Pesa refused the request: invalid {field}")]
    BadRequest {
        /// The field Daraja named (`PhoneNumber`, `Amount`, `CallBackURL`...), or `payload`.
        field: String,
        /// Daraja's `errorCode`.
        code: String,
    },
    /// Any other error envelope.
    #[error("M-Pesa error {code} (HTTP {status}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// Daraja's `errorCode`.
        code: String,
        /// Daraja's `errorMessage`.
        message: String,
    },
    /// A body that is neither the expected answer nor an error envelope.
    #[error("unreadable answer from M-Pesa (HTTP {status}): {body}")]
    Unparseable {
        /// The HTTP status.
        status: u16,
        /// The body's start, as text.
        body: String,
    },
    /// M-Pesa could not be reached; the request was not sent.
    #[error("could not connect to M-Pesa")]
    Connect,
    /// No answer in time; the request may have been processed.
    #[error("no answer from M-Pesa in time")]
    Timeout,
    /// The connection failed after the request was sent; it may have been processed.
    #[error("the connection to M-Pesa failed")]
    Transport,
}

/// Daraja's synchronous error shape.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Envelope {
    #[serde(default)]
    pub(crate) error_code: String,
    #[serde(default)]
    pub(crate) error_message: String,
}

impl GatewayError {
    /// Reads an error answer: an envelope split by code and message, or the status and text.
    pub(crate) fn from_response(status: u16, body: &str) -> Self {
        match serde_json::from_str::<Envelope>(body) {
            Ok(envelope) if !envelope.error_code.is_empty() => {
                Self::from_envelope(status, &envelope.error_code, &envelope.error_message)
            }
            _ => GatewayError::unparseable(status, body),
        }
    }

    /// Classifies an envelope.
    pub(crate) fn from_envelope(status: u16, code: &str, message: &str) -> Self {
        let lower = message.to_ascii_lowercase();
        let code = code.trim();
        if lower.contains("invalid access token")
            || matches!(code, "404.001.03" | "400.003.01" | "401.003.01")
        {
            return GatewayError::InvalidToken {
                code: code.to_owned(),
            };
        }
        if lower.contains("wrong credentials") {
            return GatewayError::WrongCredentials;
        }
        if lower.contains("merchant does not exist") {
            return GatewayError::MerchantDoesNotExist;
        }
        if lower.contains("unable to lock subscriber") {
            return GatewayError::SubscriberLocked;
        }
        if lower.contains("duplicate originatorconversationid") {
            return GatewayError::DuplicateRequest;
        }
        if lower.contains("being processed") || lower.contains("under processing") {
            return GatewayError::StillProcessing;
        }
        if code.starts_with("500.003.02")
            || code.starts_with("500.003.03")
            || lower.contains("spike arrest")
            || lower.contains("quota violation")
            || lower.contains("system is busy")
        {
            return GatewayError::RateLimited {
                code: code.to_owned(),
            };
        }
        if let Some(field) = message
            .split_once("Invalid ")
            .filter(|_| code.starts_with("400.002"))
            .map(|(_, field)| field.trim())
            .filter(|field| !field.is_empty() && !field.contains(' '))
        {
            return GatewayError::BadRequest {
                field: field.to_owned(),
                code: code.to_owned(),
            };
        }
        if code == "400.002.05" {
            return GatewayError::BadRequest {
                field: "payload".to_owned(),
                code: code.to_owned(),
            };
        }
        GatewayError::Rejected {
            status,
            code: code.to_owned(),
            message: message.chars().take(MAX_BODY_IN_ERROR).collect(),
        }
    }

    /// An unreadable answer, its text cut short.
    pub(crate) fn unparseable(status: u16, body: &str) -> Self {
        GatewayError::Unparseable {
            status,
            body: body.chars().take(MAX_BODY_IN_ERROR).collect(),
        }
    }

    /// Whether the request may have been processed even though it failed (so the outcome is
    /// unknown and must be reconciled rather than treated as refused).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            GatewayError::StillProcessing | GatewayError::Timeout | GatewayError::Transport => true,
            // A 2xx we could not read may be an accepted push; a 5xx gateway page may come
            // after processing. A 4xx is a refusal.
            GatewayError::Unparseable { status, .. } => !(400..500).contains(status),
            _ => false,
        }
    }
}

impl From<GatewayError> for Error {
    /// Maps to the kinds `Shop` acts on: what the customer can fix becomes `InvalidInput` or
    /// `PaymentDeclined`; the rest is `PaymentProvider`, retryable when the outcome is unknown
    /// (the shop then keeps the attempt pending and reconciles it).
    fn from(err: GatewayError) -> Self {
        match &err {
            GatewayError::BadRequest { field, .. }
                if matches!(field.as_str(), "PhoneNumber" | "PartyA") =>
            {
                Error::invalid("phone", "M-Pesa does not accept this phone number")
            }
            GatewayError::BadRequest { field, .. } if field == "Amount" => {
                Error::invalid("amount", "M-Pesa does not accept this amount")
            }
            GatewayError::SubscriberLocked => Error::PaymentDeclined {
                code: "500.001.1001".to_owned(),
                message: "A payment request is already open on this phone. Finish or cancel \
                          it, wait a minute, then try again."
                    .to_owned(),
            },
            // GatewayError's text names Daraja's code and message, never a URL or a secret.
            _ => Error::payment_provider(err.to_string(), err.outcome_unknown(), err),
        }
    }
}

/// What went wrong with an initiator request (Reversal, B2C, Transaction Status) or its
/// result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InitiatorError {
    /// No initiator is configured
    /// ([`MpesaConfigBuilder::with_initiator`](crate::MpesaConfigBuilder::with_initiator)).
    #[error("no M-Pesa initiator is configured: set its name, password and certificate")]
    NotConfigured,
    /// A value of the request breaks Daraja's rules; nothing was sent.
    #[error("{field}: {message}")]
    InvalidInput {
        /// The argument (`amount`, `remarks`, `originator_conversation_id`).
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The initiator password could not be encrypted under the certificate; nothing was sent.
    #[error("the initiator password cannot be encrypted under the configured certificate")]
    Credential,
    /// Daraja refused the request or could not be reached.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// A result was posted on a channel that carries no initiator result.
    #[error("{0:?} is not an initiator result channel")]
    UnknownChannel(String),
    /// A result body could not be read.
    #[error("unreadable initiator result: {0}")]
    UnreadableResult(String),
}

impl InitiatorError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        InitiatorError::InvalidInput {
            field,
            message: message.into(),
        }
    }

    /// The argument an [`InitiatorError::InvalidInput`] names.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            InitiatorError::InvalidInput { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Whether the request may have been processed even though it failed: the outcome is
    /// unknown, so it must be checked (Transaction Status, or waiting for the result) before
    /// it is sent again.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, InitiatorError::Gateway(err) if err.outcome_unknown())
    }
}

impl From<InitiatorError> for Error {
    /// Input the caller can fix becomes `InvalidInput`; an unreadable result `InvalidInput` on
    /// `body`; Daraja's errors as for payments; the rest a provider error, never retryable.
    fn from(err: InitiatorError) -> Self {
        match err {
            InitiatorError::InvalidInput { field, message } => Error::invalid(field, message),
            InitiatorError::UnreadableResult(message) => Error::invalid("body", message),
            InitiatorError::UnknownChannel(channel) => Error::invalid(
                "channel",
                format!("M-Pesa sends no initiator result on {channel:?}"),
            ),
            InitiatorError::Gateway(gateway) => {
                Error::payment_provider(gateway.to_string(), gateway.outcome_unknown(), gateway)
            }
            other => Error::payment_provider(other.to_string(), false, other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_error_keeps_the_gateway_error_as_its_source() {
        let err = Error::from(GatewayError::Timeout);
        let source = std::error::Error::source(&err).expect("a source");
        assert_eq!(
            source.downcast_ref::<GatewayError>(),
            Some(&GatewayError::Timeout)
        );
        assert!(err.is_retryable());
    }

    #[test]
    fn the_shared_code_500_001_1001_is_split_by_message() {
        let cases = [
            (
                "Merchant does not exist",
                GatewayError::MerchantDoesNotExist,
            ),
            ("Wrong credentials", GatewayError::WrongCredentials),
            (
                "Unable to lock subscriber, a transaction is already in process for the current subscriber",
                GatewayError::SubscriberLocked,
            ),
            (
                "The transaction is being processed",
                GatewayError::StillProcessing,
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(
                GatewayError::from_envelope(500, "500.001.1001", message),
                expected
            );
        }
    }

    #[test]
    fn envelopes_are_typed_by_code_and_message() {
        let body = include_str!("../tests/fixtures/error_invalid_shortcode.json");
        assert_eq!(
            GatewayError::from_response(400, body),
            GatewayError::BadRequest {
                field: "BusinessShortCode".into(),
                code: "400.002.02".into()
            }
        );
        let body = include_str!("../tests/fixtures/error_invalid_token.json");
        assert_eq!(
            GatewayError::from_response(404, body),
            GatewayError::InvalidToken {
                code: "404.001.03".into()
            }
        );
        assert_eq!(
            GatewayError::from_envelope(
                401,
                "401.003.01",
                "Error Occurred - Invalid Access Token - Invalid API call as no apiproduct match found"
            ),
            GatewayError::InvalidToken {
                code: "401.003.01".into()
            }
        );
        assert_eq!(
            GatewayError::from_envelope(
                500,
                "500.003.02",
                "Error Occurred: Spike Arrest Violation"
            ),
            GatewayError::RateLimited {
                code: "500.003.02".into()
            }
        );
        assert_eq!(
            GatewayError::from_envelope(400, "400.002.05", "Invalid Request Payload"),
            GatewayError::BadRequest {
                field: "payload".into(),
                code: "400.002.05".into()
            }
        );
        assert_eq!(
            GatewayError::from_envelope(500, "500.003.1001", "Urls are already registered"),
            GatewayError::Rejected {
                status: 500,
                code: "500.003.1001".into(),
                message: "Urls are already registered".into()
            }
        );
    }

    #[test]
    fn an_unreadable_body_keeps_its_status_and_text() {
        assert_eq!(
            GatewayError::from_response(502, "<html>Bad Gateway</html>"),
            GatewayError::Unparseable {
                status: 502,
                body: "<html>Bad Gateway</html>".into()
            }
        );
        let long = "x".repeat(2000);
        let GatewayError::Unparseable { body, .. } = GatewayError::from_response(500, &long) else {
            panic!("expected Unparseable");
        };
        assert_eq!(body.len(), MAX_BODY_IN_ERROR);
    }

    #[test]
    fn customer_fixable_errors_become_input_or_declined_and_unknown_outcomes_are_retryable() {
        let phone = Error::from(GatewayError::BadRequest {
            field: "PhoneNumber".into(),
            code: "400.002.02".into(),
        });
        assert_eq!(phone.field(), Some("phone"));
        let locked = Error::from(GatewayError::SubscriberLocked);
        assert_eq!(locked.code(), "payment_declined");
        for unknown in [
            GatewayError::Timeout,
            GatewayError::Transport,
            GatewayError::StillProcessing,
        ] {
            let err = Error::from(unknown);
            assert!(
                matches!(
                    err,
                    Error::PaymentProvider {
                        retryable: true,
                        ..
                    }
                ),
                "{err:?}"
            );
        }
        for refused in [
            GatewayError::Connect,
            GatewayError::WrongCredentials,
            GatewayError::InvalidToken {
                code: "404.001.03".into(),
            },
            GatewayError::RateLimited {
                code: "500.003.02".into(),
            },
            GatewayError::Unparseable {
                status: 400,
                body: String::new(),
            },
        ] {
            let err = Error::from(refused);
            assert!(
                matches!(
                    err,
                    Error::PaymentProvider {
                        retryable: false,
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }
}
