//! Operational routes: health, the OpenAPI document, metrics, and uploaded media.

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use pochi_core::{Entity, Error, ImageRef};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use crate::{
    error::{ApiResult, ErrorBody},
    extract::Path,
    schema,
    state::AppState,
};

/// Whether the service and its database are up.
#[utoipa::path(
    get, path = "/api/health", tag = "system",
    responses(
        (status = 200, description = "Up", body = schema::Health),
        (status = 503, description = "The database is unreachable", body = schema::Health),
    )
)]
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    let database = state.shop.health().await;
    if let Err(err) = &database {
        tracing::warn!(error = %err, "health check: database unreachable");
    }
    let up = database.is_ok();
    let body = json!({
        "status": if up { "healthy" } else { "unhealthy" },
        "timestamp": state.shop.now().format(&Rfc3339).unwrap_or_default(),
        "uptime": state.started.elapsed().as_secs(),
        "database": if up { "connected" } else { "disconnected" },
        "version": env!("CARGO_PKG_VERSION"),
    });
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(body),
    )
        .into_response()
}

/// This document.
#[utoipa::path(
    get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub(crate) async fn openapi(State(state): State<AppState>) -> Response {
    let body = state.openapi.get().cloned().unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Request counts and latencies by route, orders placed and payments by outcome, in the
/// Prometheus text format. For admins, or a scraper with the metrics token.
#[utoipa::path(
    get, path = "/metrics", tag = "system",
    security(("metricsToken" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain"),
        (status = 401, description = "Neither the metrics token nor admin credentials", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.config.metrics.render(),
    )
        .into_response()
}

/// An uploaded image. Keys are never reused, so responses may be cached for a year.
#[utoipa::path(
    get, path = "/api/media/{*key}", tag = "system",
    params(("key" = String, Path, description = "The media key of a product's `image` (may contain `/`)")),
    responses(
        (status = 200, description = "The image", content_type = "image/*"),
        (status = 404, description = "No such file", body = ErrorBody),
    )
)]
pub(crate) async fn media(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<Response> {
    let not_found = || Error::not_found(Entity::Product, "image");
    let key = ImageRef::parse(&key).map_err(|_| not_found())?;
    let media = state.config.media.as_ref().ok_or_else(not_found)?;
    let object = media.get(&key).await?.ok_or_else(not_found)?;
    let content_type = HeaderValue::from_str(&object.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        object.bytes,
    )
        .into_response())
}
