//! Payment routes: starting and polling a payment, provider callbacks, and the admin's view,
//! verification of manual codes and the review queue.

use axum::{
    Extension,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use pochi_core::{
    AdminUser, Language, ManualVerdict, Notification, Page, Payment, PaymentInput, PaymentReview,
    PaymentStart, ReviewDecision, payment::PaymentView,
};

use std::time::Instant;

use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{IdempotencyKey, Json, Path, Query, body_rejection},
    layers::Verbatim,
    limits::ClientIp,
    routes::{catalogue::PageQuery, orders::created_or_replayed},
    schema,
    state::AppState,
};

/// Starts a payment for an order: a prompt on the customer's phone, or a manual code to verify.
#[utoipa::path(
    post, path = "/api/payments", tag = "payments",
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,100}$", description = "A retry with the same key returns the first attempt and asks for no money again")),
    request_body = schema::PaymentInput,
    responses(
        (status = 201, description = "The new attempt", body = schema::PaymentView),
        (status = 200, description = "A replay of an earlier request with this key", body = schema::PaymentView,
            headers(("Idempotent-Replayed" = String, description = "`true`"))),
        (status = 400, description = "The body is not a payment request", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order is not payable, a prompt is in progress, the code was used, a pasted M-Pesa message does not fit the order or the shop, or the shop has turned the method off (`payment_method_off`) (`details.reason`)", body = ErrorBody),
        (status = 422, description = "A field is invalid, or the provider declined", body = ErrorBody),
        (status = 429, description = "Too many requests (`rate_limited`), or too many payment requests sent to this phone (`too_many_payment_requests_for_phone`); `Retry-After` says when to try again", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 502, description = "The payment provider failed", body = ErrorBody),
    )
)]
pub(crate) async fn start_payment(
    State(state): State<AppState>,
    IdempotencyKey(key): IdempotencyKey,
    Json(input): Json<PaymentInput>,
) -> ApiResult<Response> {
    Ok(
        match state.shop.start_payment(&input, key.as_deref()).await? {
            PaymentStart::Started(payment) => {
                created_or_replayed(false, axum::Json(PaymentView::from(&payment)))
            }
            PaymentStart::Replayed(payment) => {
                created_or_replayed(true, axum::Json(PaymentView::from(&payment)))
            }
        },
    )
}

/// The language of a payment's message.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct MessageLanguage {
    /// The language of `message` for an attempt that did not go through; without it, the
    /// first language of `Accept-Language` the shop speaks, else English.
    #[param(value_type = Option<schema::Language>)]
    language: Option<String>,
}

/// Where a payment stands, for the payment page to poll. An attempt that did not go through
/// carries a `message` for the customer (wrong PIN, cancelled, insufficient funds, phone
/// unreachable, expired) in their language.
#[utoipa::path(
    get, path = "/api/payments/{paymentId}", tag = "payments",
    params(("paymentId" = String, Path, format = Uuid, description = "The payment id"), MessageLanguage),
    responses(
        (status = 200, description = "The attempt", body = schema::PaymentView),
        (status = 400, description = "An unknown query parameter", body = ErrorBody),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 422, description = "Not a payment id, or a language other than `en` or `sw`", body = ErrorBody),
    )
)]
pub(crate) async fn payment_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<MessageLanguage>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<PaymentView>> {
    let language = match query.language.as_deref() {
        Some("en") => Language::English,
        Some("sw") => Language::Kiswahili,
        Some(_) => {
            return Err(pochi_core::Error::invalid("language", "must be en or sw").into());
        }
        None => headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Language::English, Language::from_accept_language),
    };
    Ok(axum::Json(
        state.shop.payment_status_in(&id, language).await?,
    ))
}

/// A payment provider's notification (M-Pesa STK result, C2B validation or confirmation). The
/// path carries the shop's secret callback token (the current one or, while it is rotated out,
/// the previous one); the reply is exactly what the provider expects. Money reported paid to
/// another shortcode is acknowledged and kept for review, never applied.
#[utoipa::path(
    post, path = pochi_core::CALLBACK_ROUTE, tag = "payments",
    params(
        ("channel" = String, Path, description = "`stk`, `c2b-validation` or `c2b-confirmation`"),
        ("token" = String, Path, description = "The shop's secret callback token"),
    ),
    request_body(content = String, description = "The provider's payload, as it sends it", content_type = "application/json"),
    responses(
        (status = 200, description = "The provider's expected reply"),
        (status = 401, description = "Wrong token (the notice is kept for review)", body = ErrorBody),
        (status = 403, description = "The request came from outside the networks callbacks are accepted from (`callback_source_refused`); nothing is read or kept", body = ErrorBody),
        (status = 404, description = "No provider reads this channel (M-Pesa's C2B channels while C2B is off): the answer to any unknown path", body = ErrorBody),
        (status = 422, description = "The payload could not be read (kept for review)", body = ErrorBody),
        (status = 429, description = "Too many refused callbacks from this address", body = ErrorBody),
    )
)]
pub(crate) async fn callback(
    State(state): State<AppState>,
    client: Option<Extension<ClientIp>>,
    Path((channel, token)): Path<(String, String)>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Response> {
    // A channel no provider reads (C2B while it is off) is no route at all: the same answer
    // as any unknown path, whatever the token.
    if !state.shop.handles_channel(&channel) {
        return Err(ApiError::no_route());
    }
    let client = client.map(|Extension(ClientIp(ip))| ip);
    if let Some(networks) = &state.config.callback_networks {
        // Served without connect info there is no address to check: refused.
        if !client.is_some_and(|ip| networks.contains(ip)) {
            state.config.metrics.count_blocked_callback();
            tracing::warn!("payment callback refused: it came from outside the allowed networks");
            return Err(ApiError::callback_source_refused());
        }
    }
    // An address that keeps sending refused callbacks is turned away before the shop reads
    // (or keeps) another one of them.
    let budget = state
        .refused_callbacks
        .as_ref()
        .zip(client.map(|ip| ClientIp(ip).network()));
    if let Some((limiter, network)) = &budget {
        limiter
            .peek(network, Instant::now())
            .map_err(ApiError::rate_limited)?;
    }
    let body = body.map_err(body_rejection)?;
    let notification = Notification {
        channel,
        token,
        body: body.to_vec(),
        received_at: state.shop.now(),
    };
    let reply = match state.shop.receive_notification(&notification).await {
        Ok(reply) => reply,
        Err(err) => {
            if let (Some((limiter, network)), "unauthorized" | "invalid_input") =
                (&budget, err.code())
            {
                let _ = limiter.check(network, Instant::now());
            }
            return Err(err.into());
        }
    };
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(reply.content_type),
        )],
        reply.body,
    )
        .into_response();
    response.extensions_mut().insert(Verbatim);
    Ok(response)
}

/// The payment attempts of an order, with everything.
#[utoipa::path(
    get, path = "/api/admin/payments/{orderId}", tag = "admin",
    params(("orderId" = String, Path, pattern = "^[A-Z]{1,8}-[2-9A-HJ-NP-Z]{10}$", description = "The order number")),
    security(("basic" = [])),
    responses(
        (status = 200, description = "The attempts, oldest first", body = Vec<schema::Payment>),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 422, description = "Not an order number", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn payments_of_order(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> ApiResult<axum::Json<Vec<Payment>>> {
    Ok(axum::Json(state.shop.payments_of_order(&number).await?))
}

/// Verifies (or rejects) a manual confirmation code.
#[utoipa::path(
    post, path = "/api/admin/payments/{paymentId}/verify", tag = "admin",
    params(("paymentId" = String, Path, format = Uuid, description = "The payment id")),
    request_body = schema::ManualVerdict,
    security(("basic" = [])),
    responses(
        (status = 200, description = "The payment after the decision", body = schema::Payment),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 422, description = "Not a payment id", body = ErrorBody),
        (status = 409, description = "Not waiting for verification (`details.reason`: `payment_not_verifiable`)", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn verify_payment(
    State(state): State<AppState>,
    Extension(admin): Extension<AdminUser>,
    Path(id): Path<String>,
    Json(verdict): Json<ManualVerdict>,
) -> ApiResult<axum::Json<Payment>> {
    Ok(axum::Json(
        state
            .shop
            .verify_manual_payment(&id, &verdict, &admin)
            .await?,
    ))
}

/// Asks the payment's provider about it (M-Pesa: Transaction Status): a code waiting for
/// verification is confirmed (or not), a payment settled without a receipt gets its receipt.
/// The answer arrives later: a confirmation pays the order, anything else is kept as a
/// `not_confirmed` notice in the review list. Answers the payment as it is now.
#[utoipa::path(
    post, path = "/api/admin/payments/{paymentId}/check", tag = "admin",
    params(("paymentId" = String, Path, format = Uuid, description = "The payment id")),
    security(("basic" = [])),
    responses(
        (status = 202, description = "Asked; the payment as it is now", body = schema::Payment),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 409, description = "Nothing to ask, or its payment method cannot look transactions up (`details.reason`: `payment_not_checkable`)", body = ErrorBody),
        (status = 422, description = "Not a payment id", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 502, description = "M-Pesa refused the question", body = ErrorBody),
        (status = 503, description = "M-Pesa could not be reached or did not answer; ask again", body = ErrorBody),
    )
)]
pub(crate) async fn check_payment(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<Payment>)> {
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(state.shop.check_payment(&id).await?),
    ))
}

/// Payment notices kept for review (forged, unmatched, inconsistent), newest first.
#[utoipa::path(
    get, path = "/api/admin/reviews", tag = "admin",
    params(PageQuery),
    security(("basic" = [])),
    responses(
        (status = 200, description = "A page of reviews", body = schema::ReviewPage),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 422, description = "Bad `cursor` or `limit`", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn reviews(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<PaymentReview>>> {
    let limit = query.limit()?;
    Ok(axum::Json(state.shop.reviews(query.cursor(), limit).await?))
}

/// Decides what happens to a payment notice, once: `assign` applies the money it carries (an
/// M-Pesa code and amount) to an order as a payment of that order (it may pay the order, or owe
/// a refund, as any payment would; the order's timeline names the admin); `refunded` records
/// the M-Pesa code of the money sent back; `ignored` records why nothing is done (a note is
/// required).
#[utoipa::path(
    post, path = "/api/admin/reviews/{reviewId}/resolve", tag = "admin",
    params(("reviewId" = String, Path, format = Uuid, description = "The payment notice's id")),
    request_body = schema::ReviewDecision,
    security(("basic" = [])),
    responses(
        (status = 200, description = "The notice with the decision", body = schema::PaymentReview),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 404, description = "No such notice, or (assign) no such order", body = ErrorBody),
        (status = 409, description = "Already decided (`details.reason`: `review_resolved`), or (assign) the M-Pesa code is already on another payment (`receipt_already_used`, `already_exists`)", body = ErrorBody),
        (status = 422, description = "Not a notice id; an unknown `action`; (assign) no `orderNumber`, or a notice without a payment to assign; (refunded) `reference` not an M-Pesa code; (ignored) no `note`", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn resolve_review(
    State(state): State<AppState>,
    Extension(admin): Extension<AdminUser>,
    Path(id): Path<String>,
    Json(decision): Json<ReviewDecision>,
) -> ApiResult<axum::Json<PaymentReview>> {
    Ok(axum::Json(
        state.shop.resolve_review(&id, &decision, &admin).await?,
    ))
}
