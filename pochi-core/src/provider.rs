//! The payment-provider trait: how the shop asks for money and hears back.
//!
//! A provider turns the shop's requests into its own API calls and its notifications into
//! [`Notice`]s. It decides nothing about orders: `Shop` applies what it reports.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    error::Result,
    ids::{OrderNumber, PaymentId},
    language::Language,
    money::Money,
    payment::{Payment, PaymentKind, PaymentStatus, ProviderResult, Receipt},
    phone::Msisdn,
    shop::CallbackToken,
};

/// The route payment providers post their notifications to, as axum and OpenAPI spell it:
/// `{channel}` is the provider's channel (`stk`, `c2b-confirmation`), `{token}` the shop's
/// [`CallbackToken`]. The one definition of that path: the HTTP layer serves it, providers
/// build their callback URLs with [`callback_path`].
pub const CALLBACK_ROUTE: &str = "/api/pay/callbacks/{channel}/{token}";

/// The path of the callback URL for `channel`, with the token in it (a secret: never log it).
pub fn callback_path(channel: &str, token: &CallbackToken) -> String {
    CALLBACK_ROUTE
        .replace("{channel}", channel)
        .replace("{token}", token.expose())
}

/// What the shop asks a provider to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    /// The attempt's id.
    pub payment_id: PaymentId,
    /// The order.
    pub order_number: OrderNumber,
    /// A short reference the customer sees (the order code, at most 12 characters).
    pub account_reference: String,
    /// A short description (at most 13 characters).
    pub description: String,
    /// How much; the shop has checked it fits [`PaymentProvider::precision`].
    pub amount: Money,
    /// The phone to ask, for push payments.
    pub phone: Option<Msisdn>,
    /// The confirmation code the customer typed, for manual payments.
    pub code: Option<String>,
}

/// A provider's answer to a start request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedPayment {
    /// The provider's reference for the attempt (`CheckoutRequestID`, the manual code).
    pub reference: Option<String>,
    /// `Pending` (waiting for the provider) or `PendingVerification` (waiting for an admin).
    pub status: PaymentStatus,
    /// What to tell the customer now.
    pub customer_message: Option<String>,
}

/// A notification a provider sent to one of the shop's callback URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Which callback (`stk`, `c2b-validation`, `c2b-confirmation`); the provider that
    /// [handles](PaymentProvider::handles_channel) it reads it.
    pub channel: String,
    /// The secret path token the URL carried.
    pub token: String,
    /// The body, as received.
    pub body: Vec<u8>,
    /// When it arrived.
    pub received_at: OffsetDateTime,
}

/// Money that arrived without the shop asking (C2B), or a request to accept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectPayment {
    /// The provider's transaction code.
    pub receipt: Receipt,
    /// The amount paid.
    pub amount: Money,
    /// What the payer typed as account number (may be empty).
    pub account_reference: String,
    /// The payer as reported (masked or hashed; not dialable).
    pub payer: Option<String>,
    /// The payload, for audit.
    pub raw_payload: Option<String>,
    /// The business account (M-Pesa: the `BusinessShortCode`) the payment was made to, when the
    /// provider reports one that is not the shop's own; `None` when it is the shop's. The shop
    /// never applies such a payment: a confirmation is kept for review
    /// ([`ReviewReason::OtherShortcode`](crate::ReviewReason::OtherShortcode)), a validation
    /// is rejected ([`RejectReason::OtherShortcode`]).
    pub other_shortcode: Option<String>,
}

/// What a notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The result of an attempt the shop started.
    AttemptResult {
        /// The provider's reference of the attempt.
        reference: String,
        /// What happened.
        result: ProviderResult,
    },
    /// Money arrived (C2B confirmation).
    DirectPayment(DirectPayment),
    /// The provider asks whether to accept a payment (C2B validation); answer with
    /// [`NoticeReply::Accept`] or [`NoticeReply::Reject`].
    Validation(DirectPayment),
    /// The result of a refund the shop asked the provider to send
    /// ([`PaymentProvider::send_refund`]).
    RefundResult {
        /// The provider's id of the request, as `send_refund` returned it.
        request: String,
        /// `Ok(code)`: sent, with the provider's transaction code; `Err(words)`: not sent, in
        /// the provider's words.
        outcome: std::result::Result<String, String>,
    },
    /// The answer to a [`PaymentProvider::check_transaction`].
    TransactionStatus {
        /// The payment it is about, as the query named it (`None` when the provider's answer
        /// did not carry it back).
        payment_id: Option<PaymentId>,
        /// The provider's id of the request, as `check_transaction` returned it.
        request: String,
        /// `Ok(facts)`: the transaction exists, is complete and was paid to the shop;
        /// `Err(words)`: the provider could not confirm it, in its words.
        outcome: std::result::Result<TransactionFacts, String>,
    },
}

/// What the shop asks a provider to look up (see [`PaymentProvider::check_transaction`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionQuery {
    /// The payment the answer is about; the provider hands it back with the answer
    /// ([`Notice::TransactionStatus`]).
    pub payment_id: PaymentId,
    /// What to look up.
    pub subject: TransactionSubject,
}

/// The transaction a [`TransactionQuery`] asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionSubject {
    /// A transaction by its code (a manual code, a direct payment's receipt).
    Receipt(Receipt),
    /// The transaction an attempt the shop started made, by the provider's reference of that
    /// attempt (M-Pesa: the STK push's `CheckoutRequestID`), to learn its receipt.
    Attempt(String),
}

/// What a provider found about a transaction ([`Notice::TransactionStatus`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionFacts {
    /// The transaction's code.
    pub receipt: Receipt,
    /// The amount, when reported.
    pub amount: Option<Money>,
    /// The payer as reported (masked or hashed; not dialable).
    pub payer: Option<String>,
    /// When the transaction was completed, when reported.
    pub completed_at: Option<OffsetDateTime>,
    /// The payload, for audit.
    pub raw_payload: Option<String>,
}

/// What the shop asks a provider to send back (see [`PaymentProvider::send_refund`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// The refund.
    pub refund_id: crate::refund::RefundId,
    /// Its order.
    pub order_number: OrderNumber,
    /// How much.
    pub amount: Money,
    /// The provider's transaction code of the payment it pays back.
    pub receipt: Receipt,
    /// Whether it pays back the whole payment (M-Pesa can then reverse the transaction);
    /// otherwise part of it is sent to `phone`.
    pub whole_payment: bool,
    /// The phone the payment came from, when known and dialable.
    pub phone: Option<Msisdn>,
}

/// Why the shop refuses a payment at validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// The account reference names no order waiting for payment.
    UnknownAccount,
    /// The amount is not what the order needs.
    WrongAmount,
    /// The payment is for a business account that is not the shop's.
    OtherShortcode,
}

/// How the shop answers a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoticeReply {
    /// Received (for results and confirmations).
    Ack,
    /// Accept the payment (validation).
    Accept,
    /// Refuse the payment (validation).
    Reject(RejectReason),
}

/// The HTTP answer a provider expects for a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderReply {
    /// HTTP status.
    pub status: u16,
    /// Content type of `body`.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

impl ProviderReply {
    /// A JSON reply with status 200.
    pub fn json(body: impl Into<String>) -> Self {
        ProviderReply {
            status: 200,
            content_type: "application/json",
            body: body.into(),
        }
    }
}

/// What asking the provider about a pending attempt told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryAnswer {
    /// Still waiting for the customer.
    Pending,
    /// A final result.
    Final(ProviderResult),
    /// The provider cannot be asked about this attempt.
    Unsupported,
}

/// A way of collecting money: M-Pesa, a manual code, cash on delivery.
///
/// # Contract
///
/// - `start` returns an error that is *not* retryable only when the provider certainly did not
///   ask for money (the request was refused or never sent): the shop then fails the attempt
///   and the customer may try again at once. A *retryable* error means the outcome is unknown
///   (a timeout after sending): the shop keeps the attempt pending and reconciles it.
/// - `interpret` is pure: the same body gives the same notices. It returns
///   `InvalidInput` for a body it cannot read.
/// - `query` never guesses: `Pending` unless the provider gave a final answer.
/// - A provider that wraps another (a renamed or instrumented one) forwards the provided
///   methods too (`callback_token`, `reads_mpesa_messages`, `customer_message`,
///   `sends_refunds`, `send_refund`, `checks_transactions`, `check_transaction`), not only
///   the required ones: otherwise it silently runs the
///   defaults.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentProvider: std::fmt::Debug + Send + Sync + 'static {
    /// The provider's name, as stored on payments (`mpesa`, `manual`): lower case.
    fn name(&self) -> &str;

    /// What kind of attempts it makes.
    fn kind(&self) -> PaymentKind;

    /// Decimal places of the amounts it can charge exactly (M-Pesa: 0).
    fn precision(&self) -> u32;

    /// Whether it reads notifications on callback channel `channel`.
    fn handles_channel(&self, channel: &str) -> bool;

    /// Asks for the money.
    async fn start(&self, request: &PaymentRequest) -> Result<StartedPayment>;

    /// Reads a notification.
    fn interpret(&self, notification: &Notification) -> Result<Vec<Notice>>;

    /// Asks about a pending attempt.
    async fn query(&self, payment: &Payment) -> Result<QueryAnswer>;

    /// The reply to send for a notification that arrived on `channel`.
    fn reply(&self, channel: &str, reply: NoticeReply) -> ProviderReply;

    /// The callback token this provider puts in the callback URLs it hands out, if it hands
    /// out any. The shop adopts it when it was given none, and refuses to build with another
    /// (a callback that could never be accepted).
    fn callback_token(&self) -> Option<CallbackToken> {
        None
    }

    /// Whether the customer's `code` is an M-Pesa confirmation code, typed alone or inside the
    /// pasted confirmation SMS: the shop then reads the message and checks it against its
    /// M-Pesa account and the order before the attempt is stored, and hands the provider the
    /// code alone. `false` (the default) passes `code` through untouched.
    fn reads_mpesa_messages(&self) -> bool {
        false
    }

    /// What to tell the customer, in `language`, about an attempt that ended with the
    /// provider's `result_code` (wrong PIN, cancelled, insufficient funds, ...), instead of the
    /// provider's own text. `None` (the default) shows the provider's text as it came.
    fn customer_message(&self, result_code: &str, language: Language) -> Option<String> {
        let _ = (result_code, language);
        None
    }

    /// Whether the provider can send a refund back itself ([`send_refund`](Self::send_refund));
    /// `false` (the default): an admin sends it by hand and records the code.
    fn sends_refunds(&self) -> bool {
        false
    }

    /// Asks the provider to send a refund back (M-Pesa: a reversal of the whole payment, or a
    /// transfer of part of it to the payer's phone). Returns the provider's id of the request;
    /// the outcome arrives later as a [`Notice::RefundResult`] with that id. An error that is
    /// not retryable means nothing was sent; a retryable one means the outcome is unknown.
    async fn send_refund(&self, request: &RefundRequest) -> Result<String> {
        let _ = request;
        Err(crate::error::Error::invalid(
            "refund",
            "this payment method cannot send refunds: send it by hand and record its code",
        ))
    }

    /// Whether the provider can look a transaction up
    /// ([`check_transaction`](Self::check_transaction)); `false` by default.
    fn checks_transactions(&self) -> bool {
        false
    }

    /// Asks the provider about a transaction (M-Pesa: Transaction Status). Returns the
    /// provider's id of the request; the answer arrives later as a
    /// [`Notice::TransactionStatus`] naming `query.payment_id`.
    async fn check_transaction(&self, query: &TransactionQuery) -> Result<String> {
        let _ = query;
        Err(crate::error::Error::invalid(
            "payment",
            "this payment method cannot look transactions up: an admin checks them",
        ))
    }
}
