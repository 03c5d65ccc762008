//! Admin routes: statistics, customers, settings and products (with image uploads).

use axum::{
    Extension,
    extract::{Multipart, State, multipart::MultipartRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use pochi_core::{
    AdminUser, CustomerSummary, Error, ImageRef, Page, Product, ProductInput, ProductRemoval,
    SettingsInput, Stats, StockAdjusted, StockAdjustment, StockAdjustmentInput, StoreSettings,
};
use rand::Rng;
use serde_json::json;

use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{IdempotencyKey, IfMatch, Json, Path, Query, etag},
    media::ImageKind,
    routes::{catalogue::PageQuery, orders::created_or_replayed},
    schema,
    state::AppState,
};

/// Revenue (all time, today, 7 and 30 days), orders by status, average order value, best
/// sellers.
#[utoipa::path(
    get, path = "/api/admin/stats", tag = "admin",
    security(("basic" = [])),
    responses(
        (status = 200, description = "The figures", body = schema::Stats),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn stats(State(state): State<AppState>) -> ApiResult<axum::Json<Stats>> {
    Ok(axum::Json(state.shop.stats().await?))
}

/// Customers, one per phone number, a page at a time.
#[utoipa::path(
    get, path = "/api/admin/customers", tag = "admin",
    params(PageQuery),
    security(("basic" = [])),
    responses(
        (status = 200, description = "A page of customers", body = schema::CustomerPage),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 422, description = "Bad `cursor` or `limit`", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn customers(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<CustomerSummary>>> {
    let limit = query.limit()?;
    Ok(axum::Json(
        state.shop.customers(query.cursor(), limit).await?,
    ))
}

/// The store settings.
#[utoipa::path(
    get, path = "/api/admin/settings", tag = "admin",
    security(("basic" = [])),
    responses(
        (status = 200, description = "The settings", body = schema::StoreSettings),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn settings(
    State(state): State<AppState>,
) -> ApiResult<axum::Json<StoreSettings>> {
    Ok(axum::Json(state.shop.settings().await?))
}

/// Replaces the store settings.
#[utoipa::path(
    post, path = "/api/admin/settings", tag = "admin",
    request_body = schema::SettingsInput,
    security(("basic" = [])),
    responses(
        (status = 200, description = "The saved settings", body = schema::StoreSettings),
        (status = 400, description = "The body is not settings", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 422, description = "A field is invalid (named in `field`)", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn update_settings(
    State(state): State<AppState>,
    Json(input): Json<SettingsInput>,
) -> ApiResult<axum::Json<StoreSettings>> {
    let settings = state.shop.update_settings(&input).await?;
    // Whole-unit pricing is a setting products are shown under.
    state.catalogue.clear();
    Ok(axum::Json(settings))
}

/// Every product, archived ones included.
#[utoipa::path(
    get, path = "/api/admin/products", tag = "admin",
    params(PageQuery),
    security(("basic" = [])),
    responses(
        (status = 200, description = "A page of products", body = schema::ProductPage),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 422, description = "Bad `cursor` or `limit`", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn all_products(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<Product>>> {
    let limit = query.limit()?;
    Ok(axum::Json(
        state.shop.all_products(query.cursor(), limit).await?,
    ))
}

/// Creates a product, or updates the one `id` names. An update never changes the stock (a
/// `stock` in it is refused: use a stock adjustment); sent with `If-Match` (the product's ETag
/// as read), it is refused with 412 `product_changed` when another edit came in between.
#[utoipa::path(
    post, path = "/api/admin/products", tag = "admin",
    params(("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|"[0-9]+")$"#, description = "On an update: the product's ETag (`\"3\"`, its `version`) as the edit was read; absent or `*`: whatever is stored")),
    request_body = schema::ProductInput,
    security(("basic" = [])),
    responses(
        (status = 201, description = "The new product", body = schema::Product,
            headers(("ETag" = String, description = "The product's version, for `If-Match`"))),
        (status = 200, description = "The updated product", body = schema::Product,
            headers(("ETag" = String, description = "The product's version, for `If-Match`"))),
        (status = 400, description = "The body is not a product, or `If-Match` is not a single strong ETag", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 404, description = "No product has this id", body = ErrorBody),
        (status = 412, description = "`product_changed`: the product was edited since the `If-Match` version was read (`details.version` is the current one); nothing written", body = ErrorBody),
        (status = 422, description = "A field is invalid (named in `field`), or an update sent `stock`", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn save_product(
    State(state): State<AppState>,
    IfMatch(version): IfMatch,
    Json(input): Json<ProductInput>,
) -> ApiResult<Response> {
    let product = state.shop.save_product_at(&input, version).await?;
    state.catalogue.clear();
    let status = if input.id.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(with_etag(status, product))
}

/// A product, archived or not, with its version as the ETag (send it back in `If-Match` to
/// edit it).
#[utoipa::path(
    get, path = "/api/admin/products/{productId}", tag = "admin",
    params(("productId" = String, Path, format = Uuid, description = "The product id")),
    security(("basic" = [])),
    responses(
        (status = 200, description = "The product", body = schema::Product,
            headers(("ETag" = String, description = "The product's version, for `If-Match`"))),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 422, description = "The id is not a product id", body = ErrorBody),
    )
)]
pub(crate) async fn get_product(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let product = state.shop.product_for_admin(&id).await?;
    Ok(with_etag(StatusCode::OK, product))
}

fn with_etag(status: StatusCode, product: Product) -> Response {
    (
        status,
        [(header::ETAG, etag(product.version))],
        axum::Json(product),
    )
        .into_response()
}

/// Adds units to a product's stock or takes them away, with a reason kept in its history.
/// The change applies to the stock as it is now, so sales meanwhile are never undone. Send an
/// `Idempotency-Key` so a retry cannot apply it twice.
#[utoipa::path(
    post, path = "/api/admin/products/{productId}/stock-adjustments", tag = "admin",
    params(
        ("productId" = String, Path, format = Uuid, description = "The product id"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,100}$", description = "1 to 100 visible ASCII characters; a retry with the same key returns the first adjustment"),
    ),
    request_body = schema::StockAdjustmentInput,
    security(("basic" = [])),
    responses(
        (status = 201, description = "The adjustment, with the stock after it", body = schema::StockAdjustment),
        (status = 200, description = "A replay of an earlier request with this key", body = schema::StockAdjustment,
            headers(("Idempotent-Replayed" = String, description = "`true`"))),
        (status = 400, description = "The body is not an adjustment", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 409, description = "`out_of_stock`: fewer units left than taken away (`details.available`), nothing changed; `conflict` with `details.reason` `stock_not_tracked` (the product does not count its stock) or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, description = "A field is invalid (named in `field`)", body = ErrorBody),
    )
)]
pub(crate) async fn adjust_stock(
    State(state): State<AppState>,
    Extension(admin): Extension<AdminUser>,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    Json(input): Json<StockAdjustmentInput>,
) -> ApiResult<Response> {
    let adjusted = state
        .shop
        .adjust_stock(&id, &input, &admin, key.as_deref())
        .await?;
    state.catalogue.clear();
    Ok(match adjusted {
        StockAdjusted::Applied(a) => created_or_replayed(false, axum::Json(a)),
        StockAdjusted::Replayed(a) => created_or_replayed(true, axum::Json(a)),
    })
}

/// A product's stock adjustments, newest first, a page at a time.
#[utoipa::path(
    get, path = "/api/admin/products/{productId}/stock-adjustments", tag = "admin",
    params(("productId" = String, Path, format = Uuid, description = "The product id"), PageQuery),
    security(("basic" = [])),
    responses(
        (status = 200, description = "A page of adjustments", body = schema::StockAdjustmentPage),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 422, description = "A bad id, cursor or limit (named in `field`)", body = ErrorBody),
    )
)]
pub(crate) async fn stock_history(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<StockAdjustment>>> {
    let limit = query.limit()?;
    Ok(axum::Json(
        state.shop.stock_history(&id, query.cursor(), limit).await?,
    ))
}

/// Removes a product: deleted when no order has it, archived otherwise.
#[utoipa::path(
    delete, path = "/api/admin/products/{productId}", tag = "admin",
    params(("productId" = String, Path, format = Uuid, description = "The product id")),
    security(("basic" = [])),
    responses(
        (status = 200, description = "What was done", body = schema::Removal),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 422, description = "Not a product id", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn remove_product(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let removal = state.shop.remove_product(&id).await?;
    state.catalogue.clear();
    let result = match removal {
        ProductRemoval::Deleted => "deleted",
        ProductRemoval::Archived => "archived",
    };
    Ok(axum::Json(json!({ "result": result })))
}

/// Uploads a product image: multipart field `image`, a JPEG, PNG, WebP or GIF (judged by its
/// content), within the image size limit.
#[utoipa::path(
    post, path = "/api/admin/products/{id}/image", tag = "admin",
    params(("id" = String, Path, format = Uuid, description = "The product id")),
    request_body(content = schema::ImageUpload, content_type = "multipart/form-data"),
    security(("basic" = [])),
    responses(
        (status = 200, description = "The product with its new image", body = schema::Product),
        (status = 400, description = "No `image` field", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "A browser sent it from another site's page", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 422, description = "Not a product id", body = ErrorBody),
        (status = 413, description = "The image is too large", body = ErrorBody),
        (status = 415, description = "Not multipart, or not a JPEG, PNG, WebP or GIF", body = ErrorBody),
        (status = 503, description = "No media store is configured", body = ErrorBody),
        (status = 429, description = "A login limit: too many failures for this user name (`too_many_login_failures_for_user`), from this network (`too_many_login_failures_from_address`) or overall (`too_many_login_failures`), or a login from this network already being checked (`login_in_progress_from_address`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn upload_image(
    State(state): State<AppState>,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<axum::Json<Product>> {
    let product_id = pochi_core::ProductId::parse(&id).map_err(|e| e.at("productId"))?;
    let Some(media) = state.config.media.clone() else {
        return Err(Error::Unavailable {
            message: "image uploads are not configured on this server".to_owned(),
            source: None,
        }
        .into());
    };
    let mut multipart = multipart.map_err(|_| {
        ApiError::unsupported_media_type(
            "send the image as multipart/form-data with a field named `image`",
        )
    })?;
    let limit = state.config.body_limits.image;
    let mut image = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e, limit))?
    {
        // The form has one field; anything else is refused, as unknown JSON fields are.
        if field.name() != Some("image") || image.is_some() {
            return Err(ApiError::bad_request(
                "the form must have one field, named `image`, and no other",
                Some("image".to_owned()),
            ));
        }
        image = Some(
            field
                .bytes()
                .await
                .map_err(|e| multipart_error(&e, limit))?,
        );
    }
    let image = image.ok_or_else(|| {
        ApiError::bad_request(
            "the form has no field named `image`",
            Some("image".to_owned()),
        )
    })?;
    let kind = ImageKind::sniff(&image).ok_or_else(|| {
        ApiError::unsupported_media_type("the file is not a JPEG, PNG, WebP or GIF image")
            .with_field("image")
    })?;
    let name: u64 = rand::thread_rng().r#gen();
    let key = ImageRef::parse(&format!(
        "products/{product_id}/{name:016x}.{}",
        kind.extension()
    ))
    .map_err(|e| Error::backend("media key", e))?;
    media.put(&key, image, kind.content_type()).await?;
    let product = state
        .shop
        .set_product_image(&product_id.to_string(), Some(key))
        .await?;
    state.catalogue.clear();
    Ok(axum::Json(product))
}

fn multipart_error(err: &axum::extract::multipart::MultipartError, limit: usize) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large(limit).with_field("image")
    } else {
        ApiError::bad_request(
            format!("the form could not be read: {}", err.body_text()),
            None,
        )
    }
}
