//! The fake's public values: its options, pushes and their outcomes, deliveries, C2B
//! payments and errors.

use std::{fmt, time::Duration};

use secrecy::SecretString;
use serde_json::Value;
use time::OffsetDateTime;

use super::server;
use crate::{
    business::{Business, TransactionType},
    config::C2bVersion,
};

/// The consumer key a fake accepts by default.
pub const FAKE_CONSUMER_KEY: &str = "fake-consumer-key";
/// The consumer secret a fake accepts by default.
pub const FAKE_CONSUMER_SECRET: &str = "fake-consumer-secret";

/// The initiator name a fake accepts by default.
pub const FAKE_INITIATOR_NAME: &str = "testapi";
/// The initiator password a fake accepts by default (the sandbox's public one).
pub const FAKE_INITIATOR_PASSWORD: &str = "Safaricom999!*!";
/// The certificate whose private key the fake holds (a test-only fixture): a configuration
/// for the fake encrypts the initiator password under it.
pub const FAKE_INITIATOR_CERTIFICATE_PEM: &str =
    include_str!("../../tests/fixtures/initiator/test_initiator_cert.pem");

/// How a fake behaves. Defaults: the public sandbox paybill and passkey, the fake consumer
/// key and secret, tokens valid 3599 s with `expires_in` as a number, subscriber locking on,
/// "being processed" envelopes while pending, C2B `v2`.
#[derive(Clone)]
#[non_exhaustive]
pub struct FakeOptions {
    /// The account it serves.
    pub business: Business,
    /// The passkey it checks passwords with.
    pub passkey: SecretString,
    /// The consumer key it accepts.
    pub consumer_key: String,
    /// The consumer secret it accepts.
    pub consumer_secret: SecretString,
    /// Token lifetime (`expires_in`), in seconds.
    pub token_lifetime_secs: u64,
    /// Send `expires_in` as a string (`"3599"`), as older Daraja did.
    pub expires_in_as_string: bool,
    /// Refuse a push to a phone that has one open ("Unable to lock subscriber").
    pub lock_subscriber: bool,
    /// While pending, answer queries with an empty `ResultCode` instead of the "being
    /// processed" envelope (both are reported in the field).
    pub pending_query_empty_result: bool,
    /// The C2B product version of the app.
    pub c2b_version: C2bVersion,
    /// The initiator name it accepts.
    pub initiator_name: String,
    /// The initiator password it accepts (decrypted from `SecurityCredential`).
    pub initiator_password: SecretString,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            business: server::default_business(),
            passkey: server::default_passkey(),
            consumer_key: FAKE_CONSUMER_KEY.to_owned(),
            consumer_secret: SecretString::from(FAKE_CONSUMER_SECRET),
            token_lifetime_secs: 3599,
            expires_in_as_string: false,
            lock_subscriber: true,
            pending_query_empty_result: false,
            c2b_version: C2bVersion::V2,
            initiator_name: FAKE_INITIATOR_NAME.to_owned(),
            initiator_password: SecretString::from(FAKE_INITIATOR_PASSWORD),
        }
    }
}

impl fmt::Debug for FakeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeOptions")
            .field("business", &self.business)
            .field("consumer_key", &self.consumer_key)
            .field("token_lifetime_secs", &self.token_lifetime_secs)
            .field("expires_in_as_string", &self.expires_in_as_string)
            .field("lock_subscriber", &self.lock_subscriber)
            .field(
                "pending_query_empty_result",
                &self.pending_query_empty_result,
            )
            .field("c2b_version", &self.c2b_version)
            .field("initiator_name", &self.initiator_name)
            .finish_non_exhaustive()
    }
}

/// What happens to a push.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushOutcome {
    /// The customer paid: `ResultCode` 0 with a generated receipt (2028 if the push was sent
    /// as the wrong transaction type).
    Paid,
    /// The customer dismissed the prompt: 1032.
    Cancelled,
    /// The phone could not be reached: 1037.
    Unreachable,
    /// Another result.
    Failed {
        /// `ResultCode`.
        code: String,
        /// `ResultDesc`.
        description: String,
    },
    /// The customer never answers: no callback, and queries keep saying "being processed".
    NoAnswer,
}

/// Where a callback goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackTarget {
    /// The push's `CallBackURL`.
    #[default]
    AsRequested,
    /// The push's `CallBackURL` with another secret token in its last segment (a forgery).
    WrongToken,
    /// Another URL.
    Url(String),
}

/// How a callback is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// How many copies (0: the callback is lost; queries still give the result).
    pub copies: u32,
    /// Send the copies at the same time instead of one after another.
    pub concurrent: bool,
    /// Where.
    pub target: CallbackTarget,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery::once()
    }
}

impl Delivery {
    /// Once, to the push's URL.
    pub fn once() -> Self {
        Delivery {
            copies: 1,
            concurrent: false,
            target: CallbackTarget::AsRequested,
        }
    }

    /// Never: the callback is lost (a late one can follow with
    /// [`FakeDaraja::redeliver`](super::FakeDaraja::redeliver)).
    pub fn lost() -> Self {
        Delivery {
            copies: 0,
            ..Delivery::once()
        }
    }

    /// Twice, one after the other.
    pub fn duplicate() -> Self {
        Delivery {
            copies: 2,
            ..Delivery::once()
        }
    }

    /// `copies` copies at the same time.
    pub fn concurrent(copies: u32) -> Self {
        Delivery {
            copies,
            concurrent: true,
            ..Delivery::once()
        }
    }

    /// Once, to `target`.
    pub fn to(target: CallbackTarget) -> Self {
        Delivery {
            target,
            ..Delivery::once()
        }
    }
}

/// Where a push stands at the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushState {
    /// Waiting for the controller.
    Pending,
    /// The customer is not answering ([`PushOutcome::NoAnswer`]).
    Unanswered,
    /// Finished.
    Resolved {
        /// `ResultCode`.
        result_code: String,
        /// `ResultDesc`.
        result_description: String,
        /// The receipt, when paid.
        receipt: Option<String>,
        /// When.
        resolved_at: OffsetDateTime,
    },
}

/// A push the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushRecord {
    /// `CheckoutRequestID`.
    pub checkout_request_id: String,
    /// `MerchantRequestID`.
    pub merchant_request_id: String,
    /// `BusinessShortCode`.
    pub business_short_code: String,
    /// `TransactionType`.
    pub transaction_type: TransactionType,
    /// `PartyA`.
    pub party_a: String,
    /// `PartyB`.
    pub party_b: String,
    /// `PhoneNumber`.
    pub phone: String,
    /// `Amount`.
    pub amount: u32,
    /// `CallBackURL` (contains the shop's secret token).
    pub callback_url: String,
    /// `AccountReference`.
    pub account_reference: String,
    /// `TransactionDesc`.
    pub description: String,
    /// Whether `TransactionType`/`PartyB` do not fit the account (the result will be 2028).
    pub misrouted: bool,
    /// When it arrived.
    pub received_at: OffsetDateTime,
    /// Where it stands.
    pub state: PushState,
}

/// What resolving a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resolution {
    /// The push afterwards.
    pub push: PushRecord,
    /// The callback JSON (none for [`PushOutcome::NoAnswer`]).
    pub callback: Option<Value>,
    /// The shop's answers, one per delivered copy.
    pub responses: Vec<CallbackResponse>,
}

/// The shop's HTTP answer to a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackResponse {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: String,
}

impl CallbackResponse {
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// URLs registered through the C2B register API.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegisteredUrls {
    /// The API version used.
    pub version: C2bVersion,
    /// `ResponseType`.
    pub response_type: String,
    /// `ConfirmationURL`.
    pub confirmation_url: String,
    /// `ValidationURL`.
    pub validation_url: String,
}

/// A customer paying the shop's paybill or till directly (C2B).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct C2bPayment {
    /// `TransAmount`, as Daraja writes it (`"1500.00"`).
    pub amount: String,
    /// `BillRefNumber`: what the customer typed as account number.
    pub bill_ref_number: String,
    /// `MSISDN` as reported (masked by default).
    pub msisdn: String,
    /// `FirstName`.
    pub first_name: String,
    /// `TransID`; generated when `None`.
    pub trans_id: Option<String>,
}

impl C2bPayment {
    /// `amount` whole shillings with account number `bill_ref_number`, from a masked number.
    pub fn new(amount: u32, bill_ref_number: &str) -> Self {
        C2bPayment {
            amount: format!("{amount}.00"),
            bill_ref_number: bill_ref_number.to_owned(),
            msisdn: "2547 ***** 126".to_owned(),
            first_name: "NICHOLAS".to_owned(),
            trans_id: None,
        }
    }

    /// With this `TransID`.
    pub fn with_trans_id(mut self, trans_id: &str) -> Self {
        self.trans_id = Some(trans_id.to_owned());
        self
    }

    /// With this `MSISDN` (masked, hashed or full).
    pub fn with_msisdn(mut self, msisdn: &str) -> Self {
        self.msisdn = msisdn.to_owned();
        self
    }
}

/// A C2B notification the fake sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct C2bDelivery {
    /// `TransID`.
    pub trans_id: String,
    /// The JSON sent.
    pub body: Value,
    /// The shop's answer.
    pub response: CallbackResponse,
}

/// Resolve every new push with `outcome` after `after` (for demos).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AutoResolve {
    /// What happens to each push.
    pub outcome: PushOutcome,
    /// How long the "customer" takes.
    pub after: Duration,
}

impl AutoResolve {
    /// Every push gets `outcome` after `after`.
    pub fn new(outcome: PushOutcome, after: Duration) -> Self {
        AutoResolve { outcome, after }
    }
}

/// A control that could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FakeError {
    /// No push has this `CheckoutRequestID`.
    #[error("no push {0}")]
    UnknownPush(String),
    /// The push already has a result.
    #[error("push {0} is already resolved")]
    AlreadyResolved(String),
    /// The push has no result to deliver yet.
    #[error("push {0} has no result yet")]
    NotResolved(String),
    /// No C2B URLs are registered.
    #[error("no C2B URLs are registered")]
    NotRegistered,
    /// The callback could not be delivered.
    #[error("callback not delivered: {0}")]
    Delivery(String),
}

/// An initiator API of the fake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InitiatorKind {
    /// `/mpesa/reversal/v1/request`.
    Reversal,
    /// `/mpesa/b2c/v3/paymentrequest` (and `v1`).
    B2c,
    /// `/mpesa/transactionstatus/v1/query`.
    TransactionStatus,
}

/// What the next initiator request (any kind) meets, set with
/// [`FakeDaraja::script_initiator`](super::FakeDaraja::script_initiator). Scripts are used
/// one per request, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InitiatorScript {
    /// Answer with this error envelope (after the token check).
    Envelope {
        /// HTTP status.
        status: u16,
        /// `errorCode`.
        code: String,
        /// `errorMessage`.
        message: String,
    },
    /// Never answer: the caller times out (the request is not processed).
    NoAnswer,
    /// Accept, then post to the `QueueTimeOutURL` instead of the result.
    QueueTimeout,
    /// Accept, then post a result with this failing `ResultCode`.
    FailResult {
        /// `ResultCode`.
        code: String,
        /// `ResultDesc`.
        description: String,
    },
}

/// An initiator request the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InitiatorRecord {
    /// Which API.
    pub kind: InitiatorKind,
    /// `OriginatorConversationID` of the acceptance.
    pub originator_conversation_id: String,
    /// `ConversationID` of the acceptance.
    pub conversation_id: String,
    /// The request body, with `SecurityCredential` replaced by `(checked)`.
    pub body: Value,
    /// The `ResultCode` of the result it will get (or got); empty for a queue timeout.
    pub result_code: String,
    /// The receipt of the transaction it made (a reversal's, a B2C payment's).
    pub new_receipt: Option<String>,
}

/// A result or queue-timeout notice the fake posted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InitiatorDelivery {
    /// Which API.
    pub kind: InitiatorKind,
    /// Whether it went to the `QueueTimeOutURL` (else the `ResultURL`).
    pub queue_timeout: bool,
    /// The JSON posted.
    pub body: Value,
    /// The shop's answer, or why there was none.
    pub response: Result<CallbackResponse, FakeError>,
}

/// A payment the fake knows by its receipt (paid STK pushes, C2B confirmations it sent, B2C
/// payments it made): Transaction Status and Reversal answer for these.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KnownPayment {
    /// The receipt.
    pub receipt: String,
    /// KES.
    pub amount: u32,
    /// The customer's number, as the fake had it (may be masked).
    pub phone: String,
    /// When it was made.
    pub at: OffsetDateTime,
    /// Whether it was reversed.
    pub reversed: bool,
}
