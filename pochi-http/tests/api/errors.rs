//! The bad-input matrix: every route that takes input, every way of getting it wrong, with the
//! status, the error code and the field.

mod bodies;
mod requests;

use axum::http::StatusCode;
use serde_json::Value;

use crate::support::*;

/// `(what is wrong, body, status, code, field)`.
pub(crate) type Case = (
    &'static str,
    Value,
    StatusCode,
    &'static str,
    Option<&'static str>,
);

pub(crate) async fn expect(
    app: &TestApp,
    name: &str,
    request: Call,
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    let reply = request.send(&app.router).await;
    assert_eq!(
        reply.status,
        status,
        "{name}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.code(), code, "{name}");
    assert_eq!(reply.field().as_deref(), field, "{name}");
}
