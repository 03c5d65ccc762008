//! The HTTP API of a Pochi shop: [`router`] turns a [`pochi_core::Shop`] into an
//! [`axum::Router`] that a host serves as it is or nests under a prefix, and [`jobs()`] runs the
//! shop's background work (unpaid-order expiry, payment reconciliation) beside it.
//!
//! The layer parses, authenticates and maps errors; every decision is the shop's. Around the
//! routes sit request ids, structured logs without personal data, per-address rate limits,
//! an admin login lockout, security headers, CORS for configured origins, compression, body
//! limits and request timeouts. Every error is JSON:
//! `{"error": {"code", "message", "field"?, "details"?}}`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use pochi_core::{AdminUsers, ManualCodeProvider, MemoryStore, NoEvents, PasswordHash, Shop};
//! use pochi_http::{FsMediaStore, Metrics, RouterConfig};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let metrics = Arc::new(Metrics::new());
//! let shop = Shop::builder(Arc::new(MemoryStore::new()))
//!     .provider(Arc::new(ManualCodeProvider::new()))
//!     .events(metrics.sink(Arc::new(NoEvents)))
//!     .build()?;
//! let admins = AdminUsers::new().with_user("admin", PasswordHash::create("a long password")?)?;
//! let config = RouterConfig::builder(Arc::new(admins))
//!     .media_store(Arc::new(FsMediaStore::new("media")))
//!     .metrics(metrics)
//!     .build()?;
//! let app = axum::Router::new().nest("/shop", pochi_http::router(shop.clone(), config));
//! let (stop, stopping) = tokio::sync::watch::channel(false);
//! let jobs = pochi_http::jobs(shop, pochi_http::JobIntervals::default(), {
//!     let mut stopping = stopping.clone();
//!     async move { let _ = stopping.wait_for(|stop| *stop).await; }
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! pochi_http::serve(listener, app, async move {
//!     let _ = tokio::signal::ctrl_c().await;
//!     let _ = stop.send(true);
//! })
//! .await?;
//! jobs.stopped().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Choices
//!
//! - **Timeouts** answer 503 `temporarily_unavailable` (not 408): the client sent its request;
//!   the server was slow, and a retry may succeed.
//! - **A full disk** (the database's or the media directory's) answers 503 `storage_full`
//!   with `Retry-After`, logged as an error: nothing was written, and the same request
//!   succeeds once the owner frees space.
//! - **Slow clients**: [`serve`] and [`serve_with`] give a client 10 s to send a request head,
//!   close a kept-alive connection idle for 60 s, serve at most 1,024 connections at once and
//!   wait at most 30 s for requests in flight at shutdown ([`ServeOptions`] sets each).
//! - **Client addresses** are the socket peer ([`serve`] provides it), or the configured
//!   [`TrustedProxy`] header's entry for the hops you trust. Served without connect info,
//!   every client shares one rate-limit bucket.
//! - **Rate limits and lockouts** live in this process's memory: behind a load balancer each
//!   process counts on its own (a limit per process is enough to stop one client flooding it).
//!   They count per client network, an IPv4 address or an IPv6 /64 (a client rotating
//!   addresses within its /64 is one client), and are generous per address: a mobile
//!   carrier's NAT puts many customers behind one. Orders are also limited per phone number.
//!   Admin logins are guarded by a backoff per user name, failure budgets per network and
//!   overall, and one password check in flight per network ([`LockoutPolicy`]); a right
//!   password from an address where others failed is accepted. Every refusal is 429 with a
//!   stable code and `Retry-After`.
//! - **The catalogue cache** keeps serialized `GET /api/products` pages, read single-flight
//!   (a page missing under load costs one store read, whatever the number of waiting
//!   requests). Product and settings changes made through this router clear it at once;
//!   stock taken or released by orders, and changes made elsewhere (another process on the
//!   same database, the order-expiry job), show within [`RouterConfig::catalogue_cache_ttl`],
//!   1 s by default. (Orders do not clear it: under load nearly every page would be a store
//!   read, and an order checks stock in the store anyway.) Servers stay stateless: no process
//!   needs to tell another anything. Each page is kept with its brotli and gzip variants,
//!   made by the read (see [`encoding`]), so a browser's request is not compressed again.
//! - **Metrics**: requests are counted by route template here; shop events (orders placed,
//!   payment outcomes) through [`Metrics::sink`], which chains to your own sink.
//! - **Admin changes from other sites** (a form on another page riding on the admin's browser
//!   login) are refused with 403 `cross_site_request`, judged by `Sec-Fetch-Site` or `Origin`;
//!   clients without a browser send neither and are not affected.
//! - **`/metrics`** answers admins and a scraper holding [`RouterConfig::metrics_token`];
//!   anyone else gets 401.
//! - **Payment callbacks** (`/api/pay/callbacks/{channel}/{token}`): a channel no provider
//!   reads (M-Pesa's C2B channels while C2B is off) is answered exactly as an unknown path;
//!   with [`RouterConfig::callback_networks`] set, a callback from another address is refused
//!   with 403 `callback_source_refused` and counted (`pochi_callbacks_blocked_total`); an
//!   address that keeps sending refused callbacks gets 429. None of these changes a payment.
//! - **Unknown query parameters** are ignored (cache busters); unknown body fields are refused.

mod auth;
mod cache;
mod config;
mod cross_site;
pub mod encoding;
mod error;
mod extract;
pub mod jobs;
mod layers;
mod limits;
mod lockout;
mod logins;
mod media;
mod metrics;
mod networks;
mod routes;
mod schema;
mod serve;
mod state;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, Method, header},
    middleware::from_fn_with_state,
};
use bytes::Bytes;
use pochi_core::Shop;
use tower_http::{
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
};

pub use crate::{
    config::{
        BodyLimits, LockoutPolicy, MetricsToken, RateLimit, RateLimits, RouterConfig,
        RouterConfigBuilder, TrustedProxy,
    },
    error::{ApiError, ErrorBody, ErrorDetail},
    extract::{Json, Path, Query},
    jobs::{JobIntervals, JobRuns, Jobs, MIN_INTERVAL, jobs},
    media::{FsMediaStore, ImageKind, MediaObject, MediaStore},
    metrics::Metrics,
    networks::CallbackNetworks,
    serve::{ServeOptions, serve, serve_with},
};
use crate::{layers::REQUEST_ID, state::AppState};

/// The shop's API under `/api` (and Prometheus metrics at `/metrics`), with every layer.
pub fn router(shop: Shop, config: RouterConfig) -> Router {
    let state = AppState::new(shop, config);
    let (routes, mut openapi) = routes::api(&state).split_for_parts();
    // axum spells a catch-all `{*key}`; OpenAPI spells the parameter `{key}`.
    openapi.paths.paths = std::mem::take(&mut openapi.paths.paths)
        .into_iter()
        .map(|(path, item)| (path.replace("{*", "{"), item))
        .collect();
    schema::add_layer_statuses(&mut openapi);
    let document = openapi.to_json().unwrap_or_else(|err| {
        tracing::error!(error = %err, "the OpenAPI document could not be serialized");
        String::from("{}")
    });
    let _ = state.openapi.set(Bytes::from(document));

    let config = &state.config;
    let mut router = routes
        .fallback(|| async { error::ApiError::no_route() })
        .layer(DefaultBodyLimit::max(config.body_limits.json))
        .layer(from_fn_with_state(state.clone(), layers::timeout));
    if config.rate_limits.general.is_some() {
        router = router.layer(from_fn_with_state(state.clone(), layers::general_limit));
    }
    // Catalogue pages come precompressed (`encoding`); everything else worth it is compressed
    // here.
    router = router.layer(CompressionLayer::new().compress_when(encoding::compress_when()));
    if !config.cors_origins.is_empty() {
        router = router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(config.cors_origins.clone()))
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
                .allow_headers([
                    header::CONTENT_TYPE,
                    header::AUTHORIZATION,
                    HeaderName::from_static(extract::IDEMPOTENCY_KEY),
                    REQUEST_ID,
                ])
                .expose_headers([
                    REQUEST_ID,
                    routes::orders::IDEMPOTENT_REPLAYED,
                    header::RETRY_AFTER,
                ])
                .max_age(std::time::Duration::from_secs(600)),
        );
    }
    router
        .layer(from_fn_with_state(state.clone(), layers::observe))
        .with_state(state)
}
