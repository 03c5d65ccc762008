//! What every handler shares: the shop, the configuration and the per-process limits and cache.

use std::{
    ops::Deref,
    sync::{Arc, OnceLock},
    time::Instant,
};

use bytes::Bytes;
use pochi_core::Shop;

use crate::{
    cache::CatalogueCache,
    config::RouterConfig,
    limits::{Blinded, Blinder, RateLimiter},
    lockout::LoginGuard,
    logins::VerifiedLogins,
};

/// The router's state: cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<Inner>);

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) shop: Shop,
    pub(crate) config: RouterConfig,
    pub(crate) general_limit: Option<RateLimiter>,
    pub(crate) checkout_limit: Option<RateLimiter>,
    pub(crate) refused_callbacks: Option<RateLimiter>,
    /// Orders per phone number, keyed by a [`Blinded`] number.
    pub(crate) orders_per_phone: Option<RateLimiter<Blinded>>,
    /// Blinds phone numbers for `orders_per_phone`.
    pub(crate) phones: Blinder,
    pub(crate) lockout: LoginGuard,
    pub(crate) catalogue: CatalogueCache,
    pub(crate) logins: VerifiedLogins,
    pub(crate) started: Instant,
    /// The OpenAPI document, serialized once the routes are known.
    pub(crate) openapi: OnceLock<Bytes>,
}

impl AppState {
    pub(crate) fn new(shop: Shop, config: RouterConfig) -> Self {
        AppState(Arc::new(Inner {
            general_limit: config.rate_limits.general.map(RateLimiter::new),
            checkout_limit: config.rate_limits.checkout.map(RateLimiter::new),
            refused_callbacks: config.rate_limits.refused_callbacks.map(RateLimiter::new),
            orders_per_phone: config.rate_limits.orders_per_phone.map(RateLimiter::new),
            phones: Blinder::new(),
            lockout: LoginGuard::new(config.lockout),
            catalogue: CatalogueCache::new(config.catalogue_cache_ttl),
            logins: VerifiedLogins::new(config.admin_login_ttl),
            started: Instant::now(),
            openapi: OnceLock::new(),
            shop,
            config,
        }))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
