//! Every error leaves as JSON: `{"error": {"code", "message", "field"?, "details"?}}`.
//!
//! Each [`pochi_core::Error`] kind maps to exactly one status and code; the errors the HTTP layer
//! raises itself (bad JSON, wrong content type, body too large, unknown route) have their own.
//! `Backend` errors are logged with their source and answered with a generic message, so no SQL,
//! file path or stack trace ever reaches a client.

use axum::{
    Json,
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use pochi_core::Error;
use serde::Serialize;
use serde_json::{Value, json};

/// The realm admin clients are asked to log in to.
pub(crate) const ADMIN_REALM: &str = "Basic realm=\"Pochi admin\", charset=\"UTF-8\"";

/// The challenges of `/metrics`: a scraper's bearer token, or an admin's login.
const METRICS_REALMS: &str =
    "Bearer realm=\"Pochi metrics\", Basic realm=\"Pochi admin\", charset=\"UTF-8\"";

/// An error response: status, stable machine code, a message for people, the field at fault
/// and machine-readable details.
#[derive(Debug, Clone)]
pub struct ApiError(Box<Parts>);

#[derive(Debug, Clone)]
struct Parts {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
    details: Option<Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable machine code (`not_found`, `invalid_input`, `out_of_stock`, ...).
    #[schema(example = "invalid_input")]
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
    /// The request field at fault (`phone`, `items[0].quantity`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Machine-readable details (`reason` of a conflict; `productId`, `requested`, `available`
    /// of an out-of-stock error; `productId`, `version` of a `product_changed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

impl ApiError {
    /// An error with a status, a code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError(Box::new(Parts {
            status,
            code,
            message: message.into(),
            field: None,
            details: None,
            headers: Vec::new(),
        }))
    }

    /// 400 `bad_request`: the request could not be read (malformed JSON, wrong types, missing
    /// or unknown fields).
    pub fn bad_request(message: impl Into<String>, field: Option<String>) -> Self {
        let mut err = ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message);
        err.0.field = field;
        err
    }

    /// 404 `not_found` for a path no route serves.
    pub fn no_route() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such resource: check the path",
        )
    }

    /// 413 `payload_too_large`.
    pub fn payload_too_large(limit: usize) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than the {limit} bytes this route accepts"),
        )
    }

    /// 415 `unsupported_media_type`.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    /// 401 for admin routes, with the `WWW-Authenticate` challenge.
    pub fn admin_unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(ADMIN_REALM),
        )
    }

    /// 401 for `/metrics`, with the bearer and the admin challenges.
    pub(crate) fn metrics_unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(METRICS_REALMS),
        )
    }

    /// 403 `cross_site_request`: an admin change a browser sent from another site's page.
    pub(crate) fn cross_site_request() -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "admin changes are accepted only from the shop's own pages (or without a browser)",
        )
    }

    /// 403 `callback_source_refused`: a payment callback from outside the configured networks.
    pub(crate) fn callback_source_refused() -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "callback_source_refused",
            "payment callbacks are accepted only from the payment provider's networks",
        )
    }

    /// 429 `rate_limited` with `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        ApiError::from(Error::RateLimited { retry_after_secs })
    }

    /// Sets the field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.0.field = Some(field.into());
        self
    }

    fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.push((name, value));
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The machine code.
    pub fn code(&self) -> &'static str {
        self.0.code
    }

    /// The field at fault, if any.
    pub fn field(&self) -> Option<&str> {
        self.0.field.as_deref()
    }

    /// The error that fits a bare status some inner layer answered with (a 405 from the
    /// router, a 413 from a body limit), keeping its message generic.
    pub(crate) fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "this method is not allowed on this path (see the Allow header)",
            ),
            StatusCode::NOT_FOUND => return ApiError::no_route(),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "the request body has the wrong content type",
            ),
            StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => (
                "temporarily_unavailable",
                "the service is temporarily unavailable; try again",
            ),
            s if s.is_client_error() => ("bad_request", "the request could not be read"),
            _ => ("internal_error", "something went wrong on our side"),
        };
        ApiError::new(status, code, message)
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let status = match &err {
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::Conflict { .. } | Error::OutOfStock { .. } => StatusCode::CONFLICT,
            Error::ProductChanged { .. } => StatusCode::PRECONDITION_FAILED,
            Error::InvalidInput { .. } | Error::PaymentDeclined { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::RateLimited { .. } | Error::LimitReached { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::PaymentProvider { .. } => StatusCode::BAD_GATEWAY,
            Error::Unavailable { .. } | Error::StorageFull { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut api = ApiError::new(status, err.code(), err.to_string());
        match &err {
            Error::InvalidInput { field, message } => {
                api.0.field = Some(field.clone());
                api.0.message = message.clone();
            }
            Error::Conflict { reason, .. } => {
                api.0.details = Some(json!({ "reason": reason.code() }));
            }
            Error::OutOfStock {
                product,
                requested,
                available,
            } => {
                api.0.details = Some(json!({
                    "productId": product.to_string(),
                    "requested": requested,
                    "available": available,
                }));
            }
            Error::ProductChanged { product, version } => {
                api.0.details = Some(json!({
                    "productId": product.to_string(),
                    "version": version,
                }));
                api = api.with_header(header::ETAG, crate::extract::etag(*version));
            }
            Error::PaymentDeclined { code, message } => {
                api.0.message = message.clone();
                api.0.details = Some(json!({ "providerCode": code }));
            }
            Error::RateLimited { retry_after_secs }
            | Error::LimitReached {
                retry_after_secs, ..
            } => {
                api = api.with_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            Error::Unavailable { source, .. } => {
                if let Some(source) = source {
                    tracing::warn!(error = %err, source = %source, "backend unavailable");
                }
                api = api.with_header(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            Error::StorageFull { source, .. } => {
                // The owner must free space: an error in the logs, not a warning.
                if let Some(source) = source {
                    tracing::error!(error = %err, source = %source, "storage full");
                }
                api = api.with_header(header::RETRY_AFTER, HeaderValue::from_static("30"));
            }
            Error::Backend { context, source } => {
                tracing::error!(context, error = %source, "internal error");
                api.0.message = "something went wrong on our side; it has been logged".to_owned();
            }
            _ => {}
        }
        api
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let parts = *self.0;
        let body = ErrorBody {
            error: ErrorDetail {
                code: parts.code,
                message: parts.message,
                field: parts.field,
                details: parts.details,
            },
        };
        let mut response = (parts.status, Json(body)).into_response();
        for (name, value) in parts.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// `Result` of a handler.
pub(crate) type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use pochi_core::{ConflictReason, Entity, ProductId};

    use super::*;

    async fn body(err: ApiError) -> (StatusCode, axum::http::HeaderMap, Value) {
        let response = err.into_response();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn each_core_error_kind_has_one_status_and_code() {
        let cases = [
            (Error::not_found(Entity::Order, "POCHI-X"), 404, "not_found"),
            (
                Error::conflict(ConflictReason::InvalidTransition, "no"),
                409,
                "conflict",
            ),
            (Error::invalid("phone", "bad"), 422, "invalid_input"),
            (
                Error::OutOfStock {
                    product: ProductId::from_uuid(uuid::Uuid::nil()),
                    requested: 2,
                    available: 1,
                },
                409,
                "out_of_stock",
            ),
            (
                Error::PaymentDeclined {
                    code: "1".into(),
                    message: "Insufficient funds".into(),
                },
                422,
                "payment_declined",
            ),
            (
                Error::ProductChanged {
                    product: ProductId::from_uuid(uuid::Uuid::nil()),
                    version: 4,
                },
                412,
                "product_changed",
            ),
            (Error::Unauthorized("x".into()), 401, "unauthorized"),
            (
                Error::RateLimited {
                    retry_after_secs: 7,
                },
                429,
                "rate_limited",
            ),
            (
                Error::LimitReached {
                    limit: pochi_core::LimitKind::OpenOrdersPerPhone,
                    message: "too many unpaid orders".into(),
                    retry_after_secs: 60,
                },
                429,
                "too_many_open_orders_for_phone",
            ),
            (
                Error::payment_provider("timeout", true, std::io::Error::other("timeout")),
                502,
                "payment_provider_error",
            ),
            (
                Error::Unavailable {
                    message: "db down".into(),
                    source: None,
                },
                503,
                "temporarily_unavailable",
            ),
            (
                Error::storage_full(
                    "the SQLite database's disk is full",
                    std::io::Error::other("x"),
                ),
                503,
                "storage_full",
            ),
            (
                Error::backend("store", std::io::Error::other("x")),
                500,
                "internal_error",
            ),
        ];
        for (err, status, code) in cases {
            let (got, _, json) = body(ApiError::from(err)).await;
            assert_eq!(got.as_u16(), status, "{code}");
            assert_eq!(json["error"]["code"], code);
        }
    }

    #[tokio::test]
    async fn details_and_headers_carry_what_a_client_acts_on() {
        let (_, headers, _) = body(ApiError::from(Error::RateLimited {
            retry_after_secs: 7,
        }))
        .await;
        assert_eq!(headers[header::RETRY_AFTER], "7");
        let (_, _, json) = body(ApiError::from(Error::conflict(
            ConflictReason::ReceiptAlreadyUsed,
            "used",
        )))
        .await;
        assert_eq!(json["error"]["details"]["reason"], "receipt_already_used");
        let (_, _, json) = body(ApiError::from(Error::invalid(
            "items[0].quantity",
            "too many",
        )))
        .await;
        assert_eq!(json["error"]["field"], "items[0].quantity");
        assert_eq!(json["error"]["message"], "too many");
        let (_, _, json) = body(ApiError::from(Error::PaymentDeclined {
            code: "1".into(),
            message: "Insufficient funds".into(),
        }))
        .await;
        assert_eq!(json["error"]["message"], "Insufficient funds");
        assert_eq!(json["error"]["details"]["providerCode"], "1");
    }

    #[tokio::test]
    async fn backend_errors_never_reach_the_client() {
        let source = std::io::Error::other("SELECT * FROM orders WHERE password = 'hunter2'");
        let (_, _, json) = body(ApiError::from(Error::backend("sqlite store", source))).await;
        let text = json.to_string();
        assert!(!text.contains("SELECT") && !text.contains("hunter2") && !text.contains("sqlite"));
        assert_eq!(
            json["error"]["message"],
            "something went wrong on our side; it has been logged"
        );
    }
}
