//! The shop's messages as the admin sees them: what was sent to whom, what failed, and a
//! retry for a message given up on; the SMS length counter of the template editor.

use axum::extract::State;
use pochi_core::{Page, notify::Delivery};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{Json, Path, Query},
    routes::catalogue::parse_limit,
    schema,
    state::AppState,
};

/// Which messages: `?state=&order=&cursor=&limit=`; any other parameter is a 400.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct MessageQuery {
    /// Only messages in this state.
    #[param(value_type = Option<schema::MessageState>)]
    state: Option<String>,
    /// Only messages about this order.
    #[param(max_length = 40)]
    order: Option<String>,
    /// The `nextCursor` of the previous page (only a cursor the server returned is accepted).
    #[param(max_length = 200)]
    cursor: Option<String>,
    /// Items per page, at least 1; 20 when absent, larger values than 100 are capped at 100.
    #[param(schema_with = crate::routes::catalogue::limit_schema)]
    limit: Option<String>,
}

/// The shop's messages to customers and to its owner, newest first: sent, waiting, dead
/// (given up on) or skipped (the customer opted out).
#[utoipa::path(
    get, path = "/api/admin/messages", tag = "admin",
    params(MessageQuery),
    security(("basic" = [])),
    responses(
        (status = 200, description = "A page of messages", body = schema::MessagePage),
        (status = 400, description = "An unknown parameter", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 422, description = "Bad `state`, `order`, `cursor` or `limit`", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn list_messages(
    State(state): State<AppState>,
    Query(query): Query<MessageQuery>,
) -> ApiResult<axum::Json<Page<Delivery>>> {
    let limit = parse_limit(query.limit.as_deref())?;
    let cursor = query.cursor.as_deref().filter(|c| !c.trim().is_empty());
    let order = query.order.as_deref().filter(|o| !o.trim().is_empty());
    Ok(axum::Json(
        state
            .shop
            .messages(query.state.as_deref(), order, cursor, limit)
            .await?,
    ))
}

/// Sends a dead message again, at once, with its attempts counted afresh.
#[utoipa::path(
    post, path = "/api/admin/messages/{messageId}/retry", tag = "admin",
    params(("messageId" = String, Path, format = Uuid, description = "The message's id")),
    security(("basic" = [])),
    responses(
        (status = 200, description = "The message, waiting to be sent", body = schema::Message),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 404, description = "No such message", body = ErrorBody),
        (status = 409, description = "The message is not dead (`conflict`, reason `message_not_dead`)", body = ErrorBody),
        (status = 422, description = "Not a message id", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn retry_message(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Delivery>> {
    Ok(axum::Json(state.shop.retry_message(&id).await?))
}

/// Every message template in English and Kiswahili as the shop uses it, with its default, a
/// sample message made from it and that sample's SMS length. The owner changes them with the
/// settings (`notificationTemplates`).
#[utoipa::path(
    get, path = "/api/admin/messages/templates", tag = "admin",
    security(("basic" = [])),
    responses(
        (status = 200, description = "The templates", body = Vec<schema::MessageTemplate>),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn message_templates(
    State(state): State<AppState>,
) -> ApiResult<axum::Json<Vec<pochi_core::MessageTemplate>>> {
    Ok(axum::Json(state.shop.message_templates().await?))
}

/// How a text goes as SMS: its encoding (GSM-7, or UCS-2 when a character needs it), its
/// length in the encoding's units, and how many messages (segments) it takes.
#[utoipa::path(
    post, path = "/api/admin/messages/sms-length", tag = "admin",
    request_body = schema::SmsText,
    security(("basic" = [])),
    responses(
        (status = 200, description = "The text's SMS length", body = schema::SmsLength),
        (status = 422, description = "The text is longer than 2,000 characters", body = ErrorBody),
        (status = 400, description = "The body is not `{\"text\": ...}`", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn sms_length(
    State(state): State<AppState>,
    Json(body): Json<SmsText>,
) -> ApiResult<axum::Json<pochi_core::notify::SmsLength>> {
    if body.text.chars().count() > MAX_TEXT {
        return Err(pochi_core::Error::invalid(
            "text",
            format!("must be at most {MAX_TEXT} characters"),
        )
        .into());
    }
    if body.template == Some(true) {
        return Ok(axum::Json(state.shop.measure_template(&body.text).await?));
    }
    Ok(axum::Json(pochi_core::notify::SmsLength::of(&body.text)))
}

/// The longest text measured.
const MAX_TEXT: usize = 2000;

/// A text to measure.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SmsText {
    text: String,
    #[serde(default)]
    template: Option<bool>,
}
