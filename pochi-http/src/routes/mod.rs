//! The routes, each registered with its OpenAPI description so the document lists exactly what
//! the router serves.

mod admin;
pub(crate) mod catalogue;
mod export;
mod messages;
pub(crate) mod orders;
mod payments;
mod refunds;
mod system;

use axum::{
    extract::DefaultBodyLimit,
    middleware::{from_fn, from_fn_with_state},
};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouter},
    routes,
};

use crate::{
    auth::{require_admin, require_metrics_reader},
    cross_site::refuse_cross_site,
    layers,
    state::AppState,
};

/// The document's fixed parts; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pochi shop API",
        description = "A small Kenyan online shop paid by M-Pesa. JSON in camelCase; every error is `{\"error\": {\"code\", \"message\", \"field\"?, \"details\"?}}`.",
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "catalogue", description = "Products and public settings"),
        (name = "orders", description = "Checkout and tracking"),
        (name = "payments", description = "Paying for orders, and provider callbacks"),
        (name = "admin", description = "The shop owner's side (HTTP Basic)"),
        (name = "system", description = "Health, metrics, media and this document"),
    )
)]
struct ApiDoc;

/// Admins log in with HTTP Basic; a metrics scraper may send the metrics bearer token.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "metricsToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The metrics token configured on the server (`/metrics` only)",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every route, with its description; admin routes behind [`require_admin`] (changes also
/// behind [`refuse_cross_site`]), `/metrics` behind [`require_metrics_reader`], checkout
/// routes behind the stricter rate limit.
pub(crate) fn api(state: &AppState) -> OpenApiRouter<AppState> {
    let public = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(catalogue::list_products))
        .routes(routes!(catalogue::get_product))
        .routes(routes!(catalogue::public_settings))
        .routes(routes!(orders::track_order))
        .routes(routes!(payments::payment_status))
        .routes(routes!(payments::callback))
        .routes(routes!(system::health))
        .routes(routes!(system::openapi))
        .routes(routes!(system::media));
    let metrics = OpenApiRouter::new()
        .routes(routes!(system::metrics))
        .route_layer(from_fn_with_state(state.clone(), require_metrics_reader));
    let mut checkout = OpenApiRouter::new()
        .routes(routes!(orders::place_order))
        .routes(routes!(payments::start_payment));
    if state.checkout_limit.is_some() {
        checkout = checkout.route_layer(from_fn_with_state(state.clone(), layers::checkout_limit));
    }
    let admin = OpenApiRouter::new()
        .routes(routes!(orders::list_orders))
        .routes(routes!(export::export_orders))
        .routes(routes!(orders::get_order))
        .routes(routes!(orders::move_order))
        .routes(routes!(admin::stats))
        .routes(routes!(admin::customers))
        .routes(routes!(admin::settings, admin::update_settings))
        .routes(routes!(admin::all_products, admin::save_product))
        .routes(routes!(admin::get_product, admin::remove_product))
        .routes(routes!(admin::adjust_stock, admin::stock_history))
        .routes(with_body_limit(
            routes!(admin::upload_image),
            state.config.body_limits.image,
        ))
        .routes(routes!(payments::payments_of_order))
        .routes(routes!(payments::verify_payment))
        .routes(routes!(payments::check_payment))
        .routes(routes!(payments::reviews))
        .routes(routes!(payments::resolve_review))
        .routes(routes!(refunds::list_refunds))
        .routes(routes!(refunds::mark_refunded))
        .routes(routes!(refunds::send_refund))
        .routes(routes!(refunds::give_up_refund))
        .routes(routes!(messages::list_messages))
        .routes(routes!(messages::retry_message))
        .routes(routes!(messages::sms_length))
        .routes(routes!(messages::message_templates))
        .route_layer(from_fn_with_state(state.clone(), require_admin))
        // Outside the login check: a forged change is refused before any password work.
        .route_layer(from_fn_with_state(state.clone(), refuse_cross_site));
    public
        .merge(metrics)
        .merge(checkout)
        .merge(admin)
        .route_layer(from_fn(layers::tag_route))
}

/// A route that accepts bodies up to `limit` bytes instead of the JSON limit.
fn with_body_limit(
    (schemas, paths, method_router): UtoipaMethodRouter<AppState>,
    limit: usize,
) -> UtoipaMethodRouter<AppState> {
    (
        schemas,
        paths,
        method_router.layer(DefaultBodyLimit::max(limit)),
    )
}
