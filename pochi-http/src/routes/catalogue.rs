//! Public catalogue routes: the product list (cached), one product, the public settings.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use pochi_core::{Error, Limit, Product, PublicSettings, page::CursorKey, product::ProductKey};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    cache::page_key,
    error::{ApiError, ApiResult, ErrorBody},
    extract::{Path, Query},
    schema,
    state::AppState,
};

/// A page request: `?cursor=&limit=`; any other parameter is a 400.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// The `nextCursor` of the previous page (only a cursor the server returned is accepted).
    #[param(max_length = 200)]
    pub(crate) cursor: Option<String>,
    /// Items per page, at least 1; 20 when absent, larger values than 100 are capped at 100.
    #[param(schema_with = limit_schema)]
    pub(crate) limit: Option<String>,
}

impl PageQuery {
    /// The cursor, empty treated as absent.
    pub(crate) fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref().filter(|c| !c.trim().is_empty())
    }

    /// The page size, capped at 100; not a number or below 1 is an `invalid_input` on `limit`.
    pub(crate) fn limit(&self) -> Result<Limit, ApiError> {
        parse_limit(self.limit.as_deref())
    }
}

/// The `limit` parameter: any whole number from 1, however large (it is capped, not refused),
/// so no integer format.
pub(crate) fn limit_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .minimum(Some(1))
        .build()
}

/// Reads a `limit` parameter.
pub(crate) fn parse_limit(text: Option<&str>) -> Result<Limit, ApiError> {
    let Some(text) = text else {
        return Ok(Limit::default());
    };
    // Exactly an integer, as the document says: no sign, spaces or empty value. One too large
    // for an i64 is capped like any other large limit.
    let requested = if text.starts_with('-') {
        text.parse::<i64>().ok()
    } else if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        Some(text.parse::<i64>().unwrap_or(i64::MAX))
    } else {
        None
    }
    .ok_or_else(|| Error::invalid("limit", "must be a whole number from 1 to 100"))?;
    Ok(Limit::new(Some(requested)).map_err(|e| e.at("limit"))?)
}

/// Active products, oldest first, a page at a time.
#[utoipa::path(
    get, path = "/api/products", tag = "catalogue",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of active products", body = schema::ProductPage),
        (status = 422, description = "Bad `cursor` or `limit`", body = ErrorBody),
    )
)]
pub(crate) async fn list_products(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
    request: HeaderMap,
) -> ApiResult<Response> {
    let limit = query.limit()?;
    // A cursor that does not decode is refused here, before it can become a cache key; one
    // that does is keyed in its canonical form, so variants of it share a page.
    let cursor = query
        .cursor()
        .map(ProductKey::decode)
        .transpose()
        .map_err(|e| e.at("cursor"))?
        .map(|key| key.encode());
    let key = page_key(cursor.as_deref(), limit.get());
    let page = state
        .catalogue
        .get_or_load(key, || async {
            let page = state.shop.catalogue(cursor.as_deref(), limit).await?;
            serde_json::to_vec(&page)
                .map(Bytes::from)
                .map_err(|e| Error::backend("catalogue page", e))
        })
        .await?;
    // The page's variants were made when it was read; this only picks one.
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        page.choose(&request),
    )
        .into_response())
}

/// One active product.
#[utoipa::path(
    get, path = "/api/products/{id}", tag = "catalogue",
    params(("id" = String, Path, format = Uuid, description = "The product id")),
    responses(
        (status = 200, description = "The product", body = schema::Product),
        (status = 404, description = "No such active product", body = ErrorBody),
        (status = 422, description = "Not a product id", body = ErrorBody),
    )
)]
pub(crate) async fn get_product(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Product>> {
    Ok(Json(state.shop.product(&id).await?))
}

/// What a checkout page needs: store name, delivery fees, counties, payment methods.
#[utoipa::path(
    get, path = "/api/settings", tag = "catalogue",
    responses((status = 200, description = "The public settings", body = schema::PublicSettings))
)]
pub(crate) async fn public_settings(
    State(state): State<AppState>,
) -> ApiResult<Json<PublicSettings>> {
    Ok(Json(state.shop.public_settings().await?))
}
