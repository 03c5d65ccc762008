//! The one error type of Pochi: a small set of kinds, each with a stable machine code.
//!
//! Adapters keep their own private error enums and convert into [`Error`]; callers branch on the
//! kind (and [`Error::code`]) rather than on message text. The transport decides the status for a
//! kind (pochi-http maps each kind to exactly one HTTP status).

use std::{borrow::Cow, fmt};

use crate::ids::ProductId;

/// A boxed error from an adapter (a database driver, an HTTP client).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with Pochi's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, as a kind the caller can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing asked for does not exist (or is not visible to the caller).
    #[error("{entity} {id} was not found")]
    NotFound {
        /// What was looked up.
        entity: Entity,
        /// The identifier that was asked for.
        id: String,
    },

    /// The request is well formed but clashes with the current state (an order that cannot move
    /// to the requested status, a receipt already counted, an idempotency key reused).
    #[error("{message}")]
    Conflict {
        /// Why, as a machine-readable reason.
        reason: ConflictReason,
        /// A sentence for people.
        message: String,
    },

    /// A field of the input is invalid.
    #[error("{field}: {message}")]
    InvalidInput {
        /// The field, as a path into the request (`phone`, `items[2].quantity`).
        field: String,
        /// What is wrong with it.
        message: String,
    },

    /// Not enough units of a product are left.
    #[error("only {available} left of product {product}, {requested} requested")]
    OutOfStock {
        /// The product that ran out.
        product: ProductId,
        /// Units asked for.
        requested: u32,
        /// Units left when the order was placed.
        available: u32,
    },

    /// The product changed since the caller read it: an edit made against an older version
    /// (an HTTP `If-Match` that no longer matches) is refused, nothing written. Read it again
    /// and reapply the change.
    #[error("product {product} changed since it was read (now at version {version})")]
    ProductChanged {
        /// The product.
        product: ProductId,
        /// Its version now.
        version: u64,
    },

    /// The payment provider refused the payment (for a reason the customer can act on).
    #[error("payment declined: {message}")]
    PaymentDeclined {
        /// The provider's code, verbatim.
        code: String,
        /// A message for the customer.
        message: String,
    },

    /// Credentials are missing or wrong.
    #[error("unauthorized: {0}")]
    Unauthorized(String),

    /// Too many requests; try again later.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },

    /// A limit of the shop that protects it from hoarding and abuse was reached: too many
    /// unpaid orders for one phone or one client network, too many payment requests to one
    /// phone, orders placed too fast for one phone, admin logins refused while a user name,
    /// a client network or the whole shop has failed too often. Nothing was reserved, sent
    /// or checked.
    #[error("{message}")]
    LimitReached {
        /// Which limit.
        limit: LimitKind,
        /// A sentence for people.
        message: String,
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },

    /// The payment provider could not be reached or answered with an error that is not the
    /// customer's.
    #[error("payment provider error: {message}")]
    PaymentProvider {
        /// What failed, without secrets.
        message: String,
        /// Whether trying again later can succeed.
        retryable: bool,
        /// The provider's own error (for M-Pesa a `pochi_pay_mpesa::GatewayError`), for logs
        /// and for callers that downcast it.
        #[source]
        source: Option<BoxError>,
    },

    /// A backend (database, provider) is temporarily unreachable; the operation did not happen
    /// and may be retried.
    #[error("temporarily unavailable: {message}")]
    Unavailable {
        /// What is unavailable, without secrets.
        message: String,
        /// The underlying error, for logs.
        #[source]
        source: Option<BoxError>,
    },

    /// The disk that holds the shop's data (the database, its media) is full: the operation
    /// did not happen, and may succeed once space is freed.
    #[error("storage full: {message}")]
    StorageFull {
        /// What is full, without paths or secrets.
        message: String,
        /// The underlying error, for logs.
        #[source]
        source: Option<BoxError>,
    },

    /// An unexpected failure inside a backend. Its details are for logs, never for clients.
    #[error("internal error in {context}")]
    Backend {
        /// Where it happened (`"sqlite store"`), without secrets.
        context: &'static str,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// The stable machine code of this kind, as it appears in API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "not_found",
            Error::Conflict { .. } => "conflict",
            Error::InvalidInput { .. } => "invalid_input",
            Error::OutOfStock { .. } => "out_of_stock",
            Error::ProductChanged { .. } => "product_changed",
            Error::PaymentDeclined { .. } => "payment_declined",
            Error::Unauthorized(_) => "unauthorized",
            Error::RateLimited { .. } => "rate_limited",
            Error::LimitReached { limit, .. } => limit.code(),
            Error::PaymentProvider { .. } => "payment_provider_error",
            Error::Unavailable { .. } => "temporarily_unavailable",
            Error::StorageFull { .. } => "storage_full",
            Error::Backend { .. } => "internal_error",
        }
    }

    /// The field an [`Error::InvalidInput`] names.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidInput { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Whether the same request may succeed later without any change.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Unavailable { .. }
            | Error::StorageFull { .. }
            | Error::RateLimited { .. }
            | Error::LimitReached { .. } => true,
            Error::PaymentProvider { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// `NotFound` for `entity` with `id`.
    pub fn not_found(entity: Entity, id: impl fmt::Display) -> Self {
        Error::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// `Conflict` with a reason and a message.
    pub fn conflict(reason: ConflictReason, message: impl Into<String>) -> Self {
        Error::Conflict {
            reason,
            message: message.into(),
        }
    }

    /// `InvalidInput` naming `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// `Unavailable` with a source error.
    pub fn unavailable(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Unavailable {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// `StorageFull` with a source error.
    pub fn storage_full(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::StorageFull {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// `PaymentProvider` with a message (it reaches API clients: no secrets, no URLs) and the
    /// provider's own error as the source (for logs, and for callers that downcast it).
    pub fn payment_provider(
        message: impl Into<String>,
        retryable: bool,
        source: impl Into<BoxError>,
    ) -> Self {
        Error::PaymentProvider {
            message: message.into(),
            retryable,
            source: Some(source.into()),
        }
    }

    /// `Backend` with a context and a source error.
    pub fn backend(context: &'static str, source: impl Into<BoxError>) -> Self {
        Error::Backend {
            context,
            source: source.into(),
        }
    }

    /// The reason of a `Conflict`.
    pub fn conflict_reason(&self) -> Option<ConflictReason> {
        match self {
            Error::Conflict { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    /// Prefixes the field of an `InvalidInput` with `parent` (`quantity` becomes
    /// `items[2].quantity`); other kinds pass through.
    pub fn within(self, parent: &str) -> Self {
        match self {
            Error::InvalidInput { field, message } => Error::InvalidInput {
                field: if field.starts_with('[') {
                    format!("{parent}{field}")
                } else {
                    format!("{parent}.{field}")
                },
                message,
            },
            other => other,
        }
    }
}

/// The limits behind [`Error::LimitReached`], each with its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitKind {
    /// Unpaid orders open at once for one phone number.
    OpenOrdersPerPhone,
    /// Unpaid orders open at once from one client network (an IPv4 address, an IPv6 /64).
    OpenOrdersPerClient,
    /// Payment requests (pushes) to one phone number within a window, across orders.
    PaymentRequestsPerPhone,
    /// Orders placed for one phone number in a short time (a request rate, whether or not
    /// the orders are still open).
    OrdersPerPhone,
    /// Admin logins for one user name wait after repeated failures (an exponential backoff).
    LoginFailuresForUser,
    /// Failed admin logins from one client network (an IPv4 address, an IPv6 /64).
    LoginFailuresFromClient,
    /// Failed admin logins across all clients (guessing spread over many networks).
    LoginFailures,
    /// A password check for the same client network is already running.
    LoginInProgress,
}

impl LimitKind {
    /// The stable machine code of the limit, as API error bodies carry it.
    pub fn code(self) -> &'static str {
        match self {
            LimitKind::OpenOrdersPerPhone => "too_many_open_orders_for_phone",
            LimitKind::OpenOrdersPerClient => "too_many_open_orders_from_address",
            LimitKind::PaymentRequestsPerPhone => "too_many_payment_requests_for_phone",
            LimitKind::OrdersPerPhone => "too_many_orders_for_phone",
            LimitKind::LoginFailuresForUser => "too_many_login_failures_for_user",
            LimitKind::LoginFailuresFromClient => "too_many_login_failures_from_address",
            LimitKind::LoginFailures => "too_many_login_failures",
            LimitKind::LoginInProgress => "login_in_progress_from_address",
        }
    }
}

/// The kinds of things Pochi looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entity {
    /// A product.
    Product,
    /// An order.
    Order,
    /// A payment attempt.
    Payment,
    /// A payment provider.
    PaymentProvider,
    /// An admin user.
    AdminUser,
    /// A notification message.
    Message,
    /// A refund.
    Refund,
    /// A payment notice kept for review.
    Review,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::Product => "product",
            Entity::Order => "order",
            Entity::Payment => "payment",
            Entity::PaymentProvider => "payment provider",
            Entity::AdminUser => "admin user",
            Entity::Message => "message",
            Entity::Refund => "refund",
            Entity::Review => "payment notice",
        })
    }
}

/// Why a request conflicts with the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConflictReason {
    /// The order cannot move from its status to the one asked for.
    InvalidTransition,
    /// A generated order number is already taken (the shop retries with a new one).
    OrderNumberTaken,
    /// An idempotency key was reused for a different request.
    IdempotencyKeyReused,
    /// A receipt (M-Pesa transaction code) is already recorded on another payment.
    ReceiptAlreadyUsed,
    /// A record with the same identity exists.
    AlreadyExists,
    /// The order is not waiting for payment.
    OrderNotPayable,
    /// A payment request for this order is still waiting for the customer.
    PaymentInProgress,
    /// The amount cannot be charged exactly by the chosen provider.
    AmountNotChargeable,
    /// The payment is not waiting for verification.
    PaymentNotVerifiable,
    /// The order expires too soon for a payment started now to finish.
    OrderExpiring,
    /// The product's stock is not counted, so it cannot be adjusted.
    StockNotTracked,
    /// The message is not dead, so there is nothing to retry.
    MessageNotDead,
    /// A pasted M-Pesa message shows a payment to someone other than the shop.
    PaymentToOtherRecipient,
    /// A pasted M-Pesa message shows an amount other than what the order needs.
    PaymentAmountMismatch,
    /// A pasted M-Pesa message was paid for another paybill account than the order's.
    PaymentAccountMismatch,
    /// A pasted M-Pesa message is from well before the order was placed (another purchase).
    PaymentBeforeOrder,
    /// The refund is not owed any more: it was paid back, or is being sent.
    RefundNotOwed,
    /// An admin already decided what happens to this payment notice.
    ReviewResolved,
    /// The shop cannot send this refund itself (its payment method cannot, or the payment
    /// has no transaction code): send it by hand and record its code.
    RefundNotSendable,
    /// There is nothing to ask the provider about the payment, or its provider cannot look
    /// transactions up.
    PaymentNotCheckable,
    /// The refund is not stuck: it is not `sending`, or has not waited long enough for its
    /// result.
    RefundNotStuck,
    /// The shop has turned this payment method off (pay on delivery).
    PaymentMethodOff,
}

impl ConflictReason {
    /// A stable machine code for the reason.
    pub fn code(self) -> &'static str {
        match self {
            ConflictReason::InvalidTransition => "invalid_transition",
            ConflictReason::OrderNumberTaken => "order_number_taken",
            ConflictReason::IdempotencyKeyReused => "idempotency_key_reused",
            ConflictReason::ReceiptAlreadyUsed => "receipt_already_used",
            ConflictReason::AlreadyExists => "already_exists",
            ConflictReason::OrderNotPayable => "order_not_payable",
            ConflictReason::PaymentInProgress => "payment_in_progress",
            ConflictReason::AmountNotChargeable => "amount_not_chargeable",
            ConflictReason::PaymentNotVerifiable => "payment_not_verifiable",
            ConflictReason::OrderExpiring => "order_expiring",
            ConflictReason::StockNotTracked => "stock_not_tracked",
            ConflictReason::MessageNotDead => "message_not_dead",
            ConflictReason::PaymentToOtherRecipient => "payment_to_other_recipient",
            ConflictReason::PaymentAmountMismatch => "payment_amount_mismatch",
            ConflictReason::PaymentAccountMismatch => "payment_account_mismatch",
            ConflictReason::PaymentBeforeOrder => "payment_before_order",
            ConflictReason::RefundNotOwed => "refund_not_owed",
            ConflictReason::ReviewResolved => "review_resolved",
            ConflictReason::RefundNotSendable => "refund_not_sendable",
            ConflictReason::PaymentNotCheckable => "payment_not_checkable",
            ConflictReason::RefundNotStuck => "refund_not_stuck",
            ConflictReason::PaymentMethodOff => "payment_method_off",
        }
    }
}

/// Why a single value could not be parsed; becomes an [`Error::InvalidInput`] once the caller
/// names the field with [`InvalidValue::at`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub(crate) Cow<'static, str>);

impl InvalidValue {
    /// A reason with a fixed message.
    pub const fn new(message: &'static str) -> Self {
        InvalidValue(Cow::Borrowed(message))
    }

    /// A reason with a composed message.
    pub fn owned(message: String) -> Self {
        InvalidValue(Cow::Owned(message))
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }

    /// Turns the reason into an [`Error::InvalidInput`] for `field`.
    pub fn at(self, field: impl Into<String>) -> Error {
        Error::InvalidInput {
            field: field.into(),
            message: self.0.into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_builds_a_path_to_the_field() {
        let err = Error::invalid("quantity", "must be at least 1").within("items[2]");
        assert_eq!(err.field(), Some("items[2].quantity"));
        let err = Error::invalid("[0]", "bad").within("items");
        assert_eq!(err.field(), Some("items[0]"));
    }

    #[test]
    fn every_kind_has_a_distinct_code() {
        let errors = [
            Error::not_found(Entity::Order, "x"),
            Error::conflict(ConflictReason::InvalidTransition, "x"),
            Error::invalid("f", "x"),
            Error::OutOfStock {
                product: ProductId::from_uuid(uuid::Uuid::nil()),
                requested: 2,
                available: 1,
            },
            Error::PaymentDeclined {
                code: "1".into(),
                message: "x".into(),
            },
            Error::ProductChanged {
                product: ProductId::from_uuid(uuid::Uuid::nil()),
                version: 2,
            },
            Error::Unauthorized("x".into()),
            Error::RateLimited {
                retry_after_secs: 1,
            },
            Error::payment_provider("x", true, std::io::Error::other("x")),
            Error::Unavailable {
                message: "x".into(),
                source: None,
            },
            Error::storage_full("x", std::io::Error::other("x")),
            Error::backend("test", std::io::Error::other("x")),
        ];
        let mut codes: Vec<_> = errors.iter().map(Error::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
    }
}
