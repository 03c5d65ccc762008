//! Refunds for the dashboard: money owed back to customers, and marking it paid back.

use axum::{Extension, extract::State};
use pochi_core::{AdminUser, Page, Refund, RefundedInput};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{Json, Path, Query},
    routes::catalogue::{limit_schema, parse_limit},
    schema,
    state::AppState,
};

/// The refund list's query: a page, of one status or all; any other parameter is a 400.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct RefundQuery {
    /// `owed`, `sending`, `refunded` or `failed`; every status when absent.
    #[param(value_type = Option<schema::RefundStatus>)]
    status: Option<String>,
    /// The `nextCursor` of the previous page (only a cursor the server returned is accepted).
    #[param(max_length = 200)]
    cursor: Option<String>,
    /// Items per page, at least 1; 20 when absent, larger values than 100 are capped at 100.
    #[param(schema_with = limit_schema)]
    limit: Option<String>,
}

/// Refunds, newest first: money the shop owes back (a cancelled order's payments, an over
/// payment's excess, a payment after cancellation) and what it paid back.
#[utoipa::path(
    get, path = "/api/admin/refunds", tag = "admin",
    params(RefundQuery),
    security(("basic" = [])),
    responses(
        (status = 200, description = "A page of refunds", body = schema::RefundPage),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 422, description = "Bad `status`, `cursor` or `limit`", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn list_refunds(
    State(state): State<AppState>,
    Query(query): Query<RefundQuery>,
) -> ApiResult<axum::Json<Page<Refund>>> {
    let limit = parse_limit(query.limit.as_deref())?;
    let status = query.status.as_deref().filter(|s| !s.trim().is_empty());
    let cursor = query.cursor.as_deref().filter(|c| !c.trim().is_empty());
    Ok(axum::Json(state.shop.refunds(status, cursor, limit).await?))
}

/// Records that the shop sent a refund back by hand, with the M-Pesa code of that transfer. A
/// refund is paid once: one already refunded, or being sent by M-Pesa, is 409
/// (`refund_not_owed`); a code another refund has is 409 (`already_exists`).
#[utoipa::path(
    post, path = "/api/admin/refunds/{refundId}/refunded", tag = "admin",
    params(("refundId" = String, Path, format = Uuid, description = "The refund id")),
    request_body = schema::RefundedInput,
    security(("basic" = [])),
    responses(
        (status = 200, description = "The refund, paid back", body = schema::Refund),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 404, description = "No such refund", body = ErrorBody),
        (status = 409, description = "Not owed any more (`details.reason`: `refund_not_owed`), or the code is on another refund (`already_exists`)", body = ErrorBody),
        (status = 422, description = "Not a refund id, or `reference` is not an M-Pesa code (or is the customer's own payment's code), or `note` is too long", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn mark_refunded(
    State(state): State<AppState>,
    Extension(admin): Extension<AdminUser>,
    Path(id): Path<String>,
    Json(input): Json<RefundedInput>,
) -> ApiResult<axum::Json<Refund>> {
    Ok(axum::Json(
        state.shop.mark_refunded(&id, &input, &admin).await?,
    ))
}

/// Gives up waiting for M-Pesa's answer about a refund that has been `sending` for 15 minutes
/// (the request timed out, or its result was lost): the refund becomes `failed`, with a note
/// to check the shop's M-Pesa statement, and may be sent again (M-Pesa refuses a second
/// reversal of the same payment and a second B2C of the same refund) or marked refunded.
#[utoipa::path(
    post, path = "/api/admin/refunds/{refundId}/failed", tag = "admin",
    params(("refundId" = String, Path, format = Uuid, description = "The refund id")),
    security(("basic" = [])),
    responses(
        (status = 200, description = "The refund, failed", body = schema::Refund),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 404, description = "No such refund", body = ErrorBody),
        (status = 409, description = "Not sending, or not for 15 minutes yet (`details.reason`: `refund_not_stuck`)", body = ErrorBody),
        (status = 422, description = "Not a refund id", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn give_up_refund(
    State(state): State<AppState>,
    Extension(admin): Extension<AdminUser>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Refund>> {
    Ok(axum::Json(state.shop.give_up_refund(&id, &admin).await?))
}

/// Has the shop's payment method send a refund back itself (M-Pesa with initiator credentials:
/// a reversal of the whole payment, or B2C for part of one). The refund is `sending` until
/// M-Pesa's result arrives, then `refunded` or `failed` (a failed one may be sent again).
#[utoipa::path(
    post, path = "/api/admin/refunds/{refundId}/send", tag = "admin",
    params(("refundId" = String, Path, format = Uuid, description = "The refund id")),
    security(("basic" = [])),
    responses(
        (status = 200, description = "The refund, being sent (or already refunded)", body = schema::Refund),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 404, description = "No such refund", body = ErrorBody),
        (status = 409, description = "Not owed any more (`details.reason`: `refund_not_owed`), or the shop cannot send it itself (`refund_not_sendable`)", body = ErrorBody),
        (status = 422, description = "Not a refund id, or the provider cannot send this one (part of a payment without the payer's phone)", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 502, description = "M-Pesa refused the request: the refund is `failed` and may be sent again", body = ErrorBody),
        (status = 503, description = "M-Pesa could not be reached or did not answer: the refund stays `sending`", body = ErrorBody),
    )
)]
pub(crate) async fn send_refund(
    State(state): State<AppState>,
    Extension(admin): Extension<AdminUser>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Refund>> {
    Ok(axum::Json(state.shop.send_refund(&id, &admin).await?))
}
