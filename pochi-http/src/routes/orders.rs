//! Order routes: checkout, public tracking, and the admin's list, detail and status moves.

use std::time::Instant;

use axum::{
    Extension,
    extract::State,
    http::{HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use pochi_core::{
    AdminUser, CheckoutInput, Error, LimitKind, Msisdn, Order, OrderListInput, Page, Placement,
    tracking::TrackedOrder,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{IdempotencyKey, Json, Path, Query},
    limits::ClientIp,
    routes::catalogue::{limit_schema, parse_limit},
    schema,
    state::AppState,
};

/// Sent with 200 when a request with a seen idempotency key is answered from its first result.
pub(crate) const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// 201 for something new, 200 with `Idempotent-Replayed: true` for a replay.
pub(crate) fn created_or_replayed(replayed: bool, body: impl IntoResponse) -> Response {
    if replayed {
        (
            StatusCode::OK,
            [(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"))],
            body,
        )
            .into_response()
    } else {
        (StatusCode::CREATED, body).into_response()
    }
}

/// Places an order. Send an `Idempotency-Key` so a retry cannot order twice.
#[utoipa::path(
    post, path = "/api/orders", tag = "orders",
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,100}$", description = "1 to 100 visible ASCII characters; a retry with the same key returns the first order")),
    request_body = schema::CheckoutInput,
    responses(
        (status = 201, description = "The new order", body = schema::Order),
        (status = 200, description = "A replay of an earlier request with this key", body = schema::Order,
            headers(("Idempotent-Replayed" = String, description = "`true`"))),
        (status = 400, description = "The body is not a checkout", body = ErrorBody),
        (status = 409, description = "Out of stock, or the key was used for another checkout", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A field is invalid (named in `field`)", body = ErrorBody),
        (status = 429, description = "Too many requests from this network (`rate_limited`), too many orders placed for this phone in a short time (`too_many_orders_for_phone`), or too many unpaid orders open for this phone (`too_many_open_orders_for_phone`) or from this network (`too_many_open_orders_from_address`); `Retry-After` says when to try again", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn place_order(
    State(state): State<AppState>,
    client: Option<Extension<ClientIp>>,
    IdempotencyKey(key): IdempotencyKey,
    Json(input): Json<CheckoutInput>,
) -> ApiResult<Response> {
    limit_orders_per_phone(&state, &input)?;
    // Unpaid orders are limited per client network too; a server without the peer's address
    // (no connect info) counts none rather than every client as one.
    let from = client
        .map(|Extension(client)| client)
        .filter(|ClientIp(ip)| !ip.is_unspecified())
        .map(ClientIp::network);
    // The stock it takes shows in the cached catalogue within its TTL (see `cache`).
    let placement = state
        .shop
        .place_order_from(&input, key.as_deref(), from)
        .await?;
    Ok(match placement {
        Placement::Placed(order) => created_or_replayed(false, axum::Json(order)),
        Placement::Replayed(order) => created_or_replayed(true, axum::Json(order)),
    })
}

/// Counts an order against its phone number's rate limit, by the number as the shop reads it
/// (`0712 345 678` and `+254712345678` are one phone). A number the shop cannot read counts
/// nothing: the shop refuses it with its own error.
fn limit_orders_per_phone(state: &AppState, input: &CheckoutInput) -> Result<(), ApiError> {
    let Some(limiter) = &state.orders_per_phone else {
        return Ok(());
    };
    let Ok(phone) = Msisdn::parse(&input.phone) else {
        return Ok(());
    };
    let key = state.phones.blind(phone.as_str());
    limiter.check(&key, Instant::now()).map_err(|secs| {
        tracing::info!("orders per phone limited");
        ApiError::from(Error::LimitReached {
            limit: LimitKind::OrdersPerPhone,
            message: format!("too many orders for this phone number; try again in {secs} s"),
            retry_after_secs: secs,
        })
    })
}

/// The public tracking view of an order: personal data masked.
#[utoipa::path(
    get, path = "/api/track/{orderId}", tag = "orders",
    params(("orderId" = String, Path, pattern = "^[A-Z]{1,8}-[2-9A-HJ-NP-Z]{10}$", description = "The order number, `POCHI-7K3M9QXA2B` (the server also forgives case, spaces, dashes and `#`)")),
    responses(
        (status = 200, description = "The order as the tracking page shows it", body = schema::TrackedOrder),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 422, description = "Not an order number", body = ErrorBody),
    )
)]
pub(crate) async fn track_order(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> ApiResult<axum::Json<TrackedOrder>> {
    Ok(axum::Json(state.shop.track(&number).await?))
}

/// Filters of the admin order list; any other parameter is a 400.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct OrderQuery {
    /// A status; empty for any.
    #[param(schema_with = status_filter_schema)]
    status: Option<String>,
    /// A Kenyan mobile number (`0712345678`, `254712345678`, `+254712345678`; the server also
    /// forgives spaces, dashes, dots and brackets); empty for any.
    #[param(pattern = "^((\\+?254|0)?[17][0-9]{8})?$")]
    phone: Option<String>,
    /// Placed on or after: a date (shop time) or an RFC 3339 time; empty for any.
    #[param(schema_with = time_filter_schema)]
    from: Option<String>,
    /// Placed on or before: a date (the whole day) or an RFC 3339 time (exclusive); empty for
    /// any.
    #[param(schema_with = time_filter_schema)]
    to: Option<String>,
    /// Part of an order number (`pochi-7k3m`, `7K3M`) or of a customer's name, in any case;
    /// at most 100 characters, no control characters; empty for any.
    #[param(max_length = 100, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    q: Option<String>,
    /// The `nextCursor` of the previous page (only a cursor the server returned is accepted).
    #[param(max_length = 200)]
    cursor: Option<String>,
    /// Items per page, at least 1; 20 when absent, larger values than 100 are capped at 100.
    #[param(schema_with = limit_schema)]
    limit: Option<String>,
}

/// A status filter: a status, or empty for any.
pub(crate) fn status_filter_schema() -> utoipa::openapi::schema::Object {
    let mut statuses: Vec<&str> = pochi_core::OrderStatus::ALL
        .iter()
        .map(|status| status.as_str())
        .collect();
    statuses.push("");
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(statuses))
        .build()
}

/// A time filter: a date, an RFC 3339 time, or empty for none.
pub(crate) fn time_filter_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::{
        ObjectBuilder, OneOfBuilder,
        schema::{KnownFormat, SchemaFormat, Type},
    };
    let string = |format| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    OneOfBuilder::new()
        .item(string(KnownFormat::Date))
        .item(string(KnownFormat::DateTime))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(0)),
        )
        .build()
        .into()
}

/// Every order, newest first, filtered, a page at a time.
#[utoipa::path(
    get, path = "/api/admin/orders", tag = "admin",
    params(OrderQuery),
    security(("basic" = [])),
    responses(
        (status = 200, description = "A page of orders", body = schema::OrderPage),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 422, description = "A filter is invalid (named in `field`)", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn list_orders(
    State(state): State<AppState>,
    Query(query): Query<OrderQuery>,
) -> ApiResult<axum::Json<Page<Order>>> {
    let limit = parse_limit(query.limit.as_deref())?;
    let input = OrderListInput {
        status: query.status,
        phone: query.phone,
        from: query.from,
        to: query.to,
        q: query.q,
        cursor: query.cursor.filter(|c| !c.trim().is_empty()),
        limit: i64::try_from(limit.get()).ok(),
    };
    Ok(axum::Json(state.shop.orders(&input).await?))
}

/// One order with everything.
#[utoipa::path(
    get, path = "/api/admin/orders/{orderId}", tag = "admin",
    params(("orderId" = String, Path, pattern = "^[A-Z]{1,8}-[2-9A-HJ-NP-Z]{10}$", description = "The order number")),
    security(("basic" = [])),
    responses(
        (status = 200, description = "The order", body = schema::Order),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 422, description = "Not an order number", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn get_order(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> ApiResult<axum::Json<Order>> {
    Ok(axum::Json(state.shop.order(&number).await?))
}

/// An admin's status move.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct StatusMove {
    status: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    note_for_customer: Option<bool>,
}

/// Moves an order along its lifecycle (`paid → processing → dispatched → delivered`, or
/// `cancelled`).
#[utoipa::path(
    put, path = "/api/orders/{orderId}/status", tag = "admin",
    params(("orderId" = String, Path, pattern = "^[A-Z]{1,8}-[2-9A-HJ-NP-Z]{10}$", description = "The order number")),
    request_body = schema::StatusMove,
    security(("basic" = [])),
    responses(
        (status = 200, description = "The order after the move", body = schema::Order),
        (status = 400, description = "The body is not a status move", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The lifecycle does not allow this move (`details.reason`: `invalid_transition`)", body = ErrorBody),
        (status = 422, description = "Not an order number, or an unknown status", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn move_order(
    State(state): State<AppState>,
    Extension(admin): Extension<AdminUser>,
    Path(number): Path<String>,
    Json(input): Json<StatusMove>,
) -> ApiResult<axum::Json<Order>> {
    let order = state
        .shop
        .move_order(
            &number,
            &input.status,
            input.note.as_deref(),
            input.note_for_customer.unwrap_or(false),
            &admin,
        )
        .await?;
    // Stock a cancellation releases shows in the cached catalogue within its TTL.
    Ok(axum::Json(order))
}
