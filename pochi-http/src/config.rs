//! How the router runs: who may administer, where images go, which origins and proxies to
//! trust, and the limits.

use std::{fmt, sync::Arc, time::Duration};

use axum::http::{HeaderName, HeaderValue};
use pochi_core::{Authenticator, Error};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::{media::MediaStore, metrics::Metrics, networks::CallbackNetworks};

/// The router's configuration. Build it with [`RouterConfig::builder`].
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use pochi_core::AdminUsers;
/// use pochi_http::{RateLimits, RouterConfig, TrustedProxy};
///
/// let config = RouterConfig::builder(Arc::new(AdminUsers::new()))
///     .cors_origins(["https://duka.example"])
///     .trusted_proxy(TrustedProxy::x_forwarded_for(1))
///     .request_timeout(Duration::from_secs(10))
///     .build()
///     .expect("a valid configuration");
/// assert_eq!(config.rate_limits, RateLimits::default());
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct RouterConfig {
    /// Checks admin credentials (HTTP Basic).
    pub authenticator: Arc<dyn Authenticator>,
    /// Where uploaded product images are kept; without one, uploads answer 503.
    pub media: Option<Arc<dyn MediaStore>>,
    /// Origins allowed to call the API from a browser (CORS); none means same-origin only.
    pub cors_origins: Vec<HeaderValue>,
    /// The reverse proxy whose client-address header to believe; none means the socket peer.
    pub trusted_proxy: Option<TrustedProxy>,
    /// The networks payment callbacks are accepted from; none means any address (the secret
    /// path token still guards them). A callback from elsewhere is refused with 403
    /// `callback_source_refused`, counted, and changes nothing.
    pub callback_networks: Option<CallbackNetworks>,
    /// Requests per client network, and orders per phone number.
    pub rate_limits: RateLimits,
    /// Largest request bodies.
    pub body_limits: BodyLimits,
    /// How long a request may take before it is answered 503.
    pub request_timeout: Duration,
    /// How admin logins are guarded against password guessing.
    pub lockout: LockoutPolicy,
    /// Where request and shop figures are counted (served at `/metrics`).
    pub metrics: Arc<Metrics>,
    /// The bearer token that lets a scraper read `/metrics` without admin credentials; none
    /// means only admins may read it.
    pub metrics_token: Option<MetricsToken>,
    /// How long a cached catalogue page may be served before it is read again (1 s by
    /// default). Changes made through this router clear the cache at once; the time bounds how
    /// stale a page can be after changes made elsewhere (another server process on the same
    /// database, the order-expiry job). It costs one store read per page and period.
    pub catalogue_cache_ttl: Duration,
    /// How long a successful admin login is remembered, so the password hash (argon2: tens of
    /// milliseconds and 19 MiB a check) is not recomputed on every request (60 s by default;
    /// zero checks every request). Failed logins are never remembered.
    pub admin_login_ttl: Duration,
}

impl fmt::Debug for RouterConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The authenticator holds password hashes: name it, never print it.
        f.debug_struct("RouterConfig")
            .field("authenticator", &"<configured>")
            .field("media", &self.media)
            .field("cors_origins", &self.cors_origins)
            .field("trusted_proxy", &self.trusted_proxy)
            .field("callback_networks", &self.callback_networks)
            .field("rate_limits", &self.rate_limits)
            .field("body_limits", &self.body_limits)
            .field("request_timeout", &self.request_timeout)
            .field("lockout", &self.lockout)
            .field("metrics_token", &self.metrics_token)
            .field("catalogue_cache_ttl", &self.catalogue_cache_ttl)
            .field("admin_login_ttl", &self.admin_login_ttl)
            .finish_non_exhaustive()
    }
}

impl RouterConfig {
    /// Starts a configuration with the defaults: no media store, no CORS, no trusted proxy,
    /// [`RateLimits::default`], [`BodyLimits::default`], a 30 s timeout,
    /// [`LockoutPolicy::default`], a 1 s catalogue cache.
    pub fn builder(authenticator: Arc<dyn Authenticator>) -> RouterConfigBuilder {
        RouterConfigBuilder {
            config: RouterConfig {
                authenticator,
                media: None,
                cors_origins: Vec::new(),
                trusted_proxy: None,
                callback_networks: None,
                rate_limits: RateLimits::default(),
                body_limits: BodyLimits::default(),
                request_timeout: Duration::from_secs(30),
                lockout: LockoutPolicy::default(),
                metrics: Arc::new(Metrics::new()),
                metrics_token: None,
                catalogue_cache_ttl: Duration::from_secs(1),
                admin_login_ttl: Duration::from_secs(60),
            },
            origins: Vec::new(),
        }
    }
}

/// Builds a [`RouterConfig`]; [`RouterConfigBuilder::build`] says what is wrong.
#[derive(Debug)]
pub struct RouterConfigBuilder {
    config: RouterConfig,
    origins: Vec<String>,
}

impl RouterConfigBuilder {
    /// Sets the media store for product images.
    pub fn media_store(mut self, media: Arc<dyn MediaStore>) -> Self {
        self.config.media = Some(media);
        self
    }

    /// Allows browsers on these origins (`https://duka.example`) to call the API.
    pub fn cors_origins<I, O>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = O>,
        O: Into<String>,
    {
        self.origins.extend(origins.into_iter().map(Into::into));
        self
    }

    /// Believes `proxy`'s header for the client address.
    pub fn trusted_proxy(mut self, proxy: TrustedProxy) -> Self {
        self.config.trusted_proxy = Some(proxy);
        self
    }

    /// Accepts payment callbacks only from `networks` (the client address as
    /// [`trusted_proxy`](Self::trusted_proxy) decides it).
    pub fn callback_networks(mut self, networks: CallbackNetworks) -> Self {
        self.config.callback_networks = Some(networks);
        self
    }

    /// Sets the rate limits.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.config.rate_limits = limits;
        self
    }

    /// Sets the body limits.
    pub fn body_limits(mut self, limits: BodyLimits) -> Self {
        self.config.body_limits = limits;
        self
    }

    /// Sets the request timeout.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// Sets how admin logins are guarded.
    pub fn lockout(mut self, lockout: LockoutPolicy) -> Self {
        self.config.lockout = lockout;
        self
    }

    /// Counts into `metrics` (share it with [`Metrics::sink`] to count shop events too).
    pub fn metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.config.metrics = metrics;
        self
    }

    /// Lets a scraper that sends `Authorization: Bearer <token>` read `/metrics` (admins
    /// always may).
    pub fn metrics_token(mut self, token: MetricsToken) -> Self {
        self.config.metrics_token = Some(token);
        self
    }

    /// Sets how long a catalogue page may be cached (zero turns the cache off).
    pub fn catalogue_cache_ttl(mut self, ttl: Duration) -> Self {
        self.config.catalogue_cache_ttl = ttl;
        self
    }

    /// Sets how long a successful admin login is remembered (zero checks every request).
    pub fn admin_login_ttl(mut self, ttl: Duration) -> Self {
        self.config.admin_login_ttl = ttl;
        self
    }

    /// Checks the configuration.
    pub fn build(mut self) -> Result<RouterConfig, Error> {
        for (i, origin) in self.origins.iter().enumerate() {
            let field = format!("corsOrigins[{i}]");
            let origin = origin.trim().trim_end_matches('/');
            let well_formed = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.contains(['*', ' ', ','])
                && origin.matches('/').count() == 2;
            if !well_formed {
                return Err(Error::invalid(
                    field,
                    "must be an origin like https://duka.example (scheme, host, optional port)",
                ));
            }
            let value = HeaderValue::from_str(origin)
                .map_err(|_| Error::invalid(field, "must be visible ASCII"))?;
            self.config.cors_origins.push(value);
        }
        let limits = &self.config.body_limits;
        if limits.json == 0 || limits.image == 0 {
            return Err(Error::invalid("bodyLimits", "must be more than zero"));
        }
        if self.config.request_timeout.is_zero() {
            return Err(Error::invalid("requestTimeout", "must be more than zero"));
        }
        for (field, limit) in [
            ("rateLimits.general", self.config.rate_limits.general),
            ("rateLimits.checkout", self.config.rate_limits.checkout),
            (
                "rateLimits.ordersPerPhone",
                self.config.rate_limits.orders_per_phone,
            ),
            (
                "rateLimits.refusedCallbacks",
                self.config.rate_limits.refused_callbacks,
            ),
            (
                "lockout.failuresPerClient",
                self.config.lockout.failures_per_client,
            ),
            (
                "lockout.failuresOverall",
                self.config.lockout.failures_overall,
            ),
        ] {
            if limit.is_some_and(|l| l.per_minute == 0 || l.burst == 0) {
                return Err(Error::invalid(field, "must allow at least one request"));
            }
        }
        if let Some(proxy) = &self.config.trusted_proxy {
            if proxy.hops == 0 {
                return Err(Error::invalid("trustedProxy.hops", "must be at least 1"));
            }
        }
        let lockout = &self.config.lockout;
        if lockout.first_backoff.is_zero() || lockout.max_backoff < lockout.first_backoff {
            return Err(Error::invalid(
                "lockout.maxBackoff",
                "the backoff must start above zero and end no shorter than it starts",
            ));
        }
        if lockout.forget_after.is_zero() {
            return Err(Error::invalid(
                "lockout.forgetAfter",
                "must be more than zero",
            ));
        }
        Ok(self.config)
    }
}

/// The secret a metrics scraper (Prometheus) sends as `Authorization: Bearer <token>` to read
/// `/metrics`. Compared in constant time; never shown by `Debug`.
#[derive(Clone)]
pub struct MetricsToken(String);

impl MetricsToken {
    /// Parses a token: 16 to 256 characters of letters, digits and `-._~+/=` (what a bearer
    /// token may hold).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let well_formed = (16..=256).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b));
        if !well_formed {
            return Err(Error::invalid(
                "metricsToken",
                "must be 16 to 256 characters of letters, digits and -._~+/=",
            ));
        }
        Ok(MetricsToken(text.to_owned()))
    }

    /// Whether `candidate` is this token. Both are hashed first, so the time taken tells
    /// nothing about the token, its length included.
    pub(crate) fn matches(&self, candidate: &str) -> bool {
        let digest = |text: &str| Sha256::digest(text.as_bytes());
        digest(&self.0)
            .as_slice()
            .ct_eq(digest(candidate).as_slice())
            .into()
    }
}

impl fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsToken(redacted)")
    }
}

/// A reverse proxy in front of the server whose client-address header can be believed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrustedProxy {
    /// The header it sets (`X-Forwarded-For`).
    pub header: HeaderName,
    /// How many proxies of yours append to it: the client address is the `hops`-th entry
    /// from the right (1 for a single proxy). Entries further left are the client's word and
    /// are ignored.
    pub hops: usize,
}

impl TrustedProxy {
    /// `X-Forwarded-For` written by `hops` proxies of yours.
    pub fn x_forwarded_for(hops: usize) -> Self {
        TrustedProxy {
            header: HeaderName::from_static("x-forwarded-for"),
            hops,
        }
    }

    /// Another header (`X-Real-IP`, `CF-Connecting-IP`) holding a comma-separated list.
    pub fn header(header: HeaderName, hops: usize) -> Self {
        TrustedProxy { header, hops }
    }
}

/// A token bucket: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Sustained requests per minute.
    pub per_minute: u32,
    /// Requests allowed in a burst.
    pub burst: u32,
}

impl RateLimit {
    /// A limit of `per_minute` with bursts of `burst`.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        RateLimit { per_minute, burst }
    }
}

/// Requests per client network (an IPv4 address, an IPv6 /64: a client rotating addresses
/// within its /64 is one client), and orders per phone number; `None` turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Every request (default 600 a minute, bursts of 120).
    pub general: Option<RateLimit>,
    /// Placing orders and starting payments (default 120 a minute, bursts of 60). Generous:
    /// a mobile carrier's NAT puts many customers behind one public address, and during a busy
    /// sale they must not block each other; [`RateLimits::orders_per_phone`] limits one
    /// customer.
    pub checkout: Option<RateLimit>,
    /// Orders placed for one phone number, wherever they come from (default 6 a minute, bursts
    /// of 6), answered 429 `too_many_orders_for_phone`. Counted when the checkout's phone
    /// number is valid, before the order is placed (a replay of an idempotent request counts
    /// too). Unpaid orders open at once per phone are limited by the shop itself
    /// (`ShopConfig::open_orders_per_phone`).
    pub orders_per_phone: Option<RateLimit>,
    /// Provider callbacks refused (a wrong token, an unreadable body), per address (default
    /// 30 a minute, bursts of 10). An address past it gets 429 on the callback routes before
    /// the shop reads its request; callbacks that are accepted spend nothing, so a provider's
    /// own traffic is never limited by it.
    pub refused_callbacks: Option<RateLimit>,
}

/// The default of [`RateLimits::refused_callbacks`].
const REFUSED_CALLBACKS: RateLimit = RateLimit {
    per_minute: 30,
    burst: 10,
};

/// The default of [`RateLimits::orders_per_phone`].
const ORDERS_PER_PHONE: RateLimit = RateLimit {
    per_minute: 6,
    burst: 6,
};

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            general: Some(RateLimit::new(600, 120)),
            checkout: Some(RateLimit::new(120, 60)),
            orders_per_phone: Some(ORDERS_PER_PHONE),
            refused_callbacks: Some(REFUSED_CALLBACKS),
        }
    }
}

impl RateLimits {
    /// No rate limits (benchmarks, or a proxy that limits already).
    pub fn disabled() -> Self {
        RateLimits {
            general: None,
            checkout: None,
            orders_per_phone: None,
            refused_callbacks: None,
        }
    }

    /// Sets the general and checkout limits; orders per phone and refused callbacks keep
    /// their defaults.
    pub fn new(general: Option<RateLimit>, checkout: Option<RateLimit>) -> Self {
        RateLimits {
            general,
            checkout,
            orders_per_phone: Some(ORDERS_PER_PHONE),
            refused_callbacks: Some(REFUSED_CALLBACKS),
        }
    }

    /// Sets the limit of orders per phone number.
    pub fn with_orders_per_phone(mut self, limit: Option<RateLimit>) -> Self {
        self.orders_per_phone = limit;
        self
    }

    /// Sets the limit of refused callbacks per address.
    pub fn with_refused_callbacks(mut self, limit: Option<RateLimit>) -> Self {
        self.refused_callbacks = limit;
        self
    }
}

/// Largest request bodies, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BodyLimits {
    /// JSON and callback bodies (default 64 KiB).
    pub json: usize,
    /// Image uploads (default 5 MiB).
    pub image: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            json: 64 * 1024,
            image: 5 * 1024 * 1024,
        }
    }
}

impl BodyLimits {
    /// Both limits.
    pub fn new(json: usize, image: usize) -> Self {
        BodyLimits { json, image }
    }
}

/// How admin logins are guarded against password guessing, made for networks where many
/// people share one address (a mobile carrier's NAT) and one person may have many (an IPv6
/// /64). A login verified less than [`RouterConfig::admin_login_ttl`] ago passes without
/// these checks; every other one, before its password is checked:
///
/// - **per user name**: after `free_failures` failures in a row, each further attempt for that
///   name waits `first_backoff`, doubling with each failure up to `max_backoff` (answered 429
///   `too_many_login_failures_for_user` meanwhile, without a check). A success, or
///   `forget_after` without a failure, starts it over. Names that exist and names that do
///   not are treated alike. Someone behind the owner's address who does not aim at the
///   owner's name cannot delay the owner; someone who does delays the owner's login by the
///   backoff, never locks it out for long.
/// - **per client network** (an IPv4 address, an IPv6 /64): failures spend a token of
///   `failures_per_client`; with none left, attempts from it wait seconds (429
///   `too_many_login_failures_from_address`). Generous, because a carrier NAT puts many
///   people behind one address: it bounds how much one network can guess, not who may log in
///   from it, and a right password from an address where others failed is accepted while a
///   token is left.
/// - **overall**: failures from all clients spend a token of `failures_overall`; with none
///   left, every password check waits seconds (429 `too_many_login_failures`): guessing spread
///   over many networks is bounded too, while admins already logged in go on working.
/// - **one check in flight per client network**: a second login from a network whose
///   password is being checked is answered 429 `login_in_progress_from_address` at once, not
///   queued.
///
/// Every refusal carries `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockoutPolicy {
    /// Failures in a row a user name may have before its attempts wait (default 5).
    pub free_failures: u32,
    /// The first wait; each further failure doubles it (default 1 s).
    pub first_backoff: Duration,
    /// The longest wait (default 5 minutes).
    pub max_backoff: Duration,
    /// How long a user name's failures are remembered after its last one (default 1 hour).
    pub forget_after: Duration,
    /// Failed logins per client network (default 10 a minute, bursts of 20); `None` turns it
    /// off.
    pub failures_per_client: Option<RateLimit>,
    /// Failed logins across all clients (default 60 a minute, bursts of 60); `None` turns it
    /// off.
    pub failures_overall: Option<RateLimit>,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            free_failures: 5,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5 * 60),
            forget_after: Duration::from_secs(60 * 60),
            failures_per_client: Some(RateLimit::new(10, 20)),
            failures_overall: Some(RateLimit::new(60, 60)),
        }
    }
}

impl LockoutPolicy {
    /// Sets the per-user-name backoff: `free_failures` in a row, then waits from
    /// `first_backoff`, doubling, up to `max_backoff`.
    pub fn with_user_backoff(
        mut self,
        free_failures: u32,
        first_backoff: Duration,
        max_backoff: Duration,
    ) -> Self {
        self.free_failures = free_failures;
        self.first_backoff = first_backoff;
        self.max_backoff = max_backoff;
        self
    }

    /// Sets how long a user name's failures are remembered after its last one.
    pub fn with_forget_after(mut self, forget_after: Duration) -> Self {
        self.forget_after = forget_after;
        self
    }

    /// Sets the failed logins allowed per client network (`None`: no limit).
    pub fn with_failures_per_client(mut self, limit: Option<RateLimit>) -> Self {
        self.failures_per_client = limit;
        self
    }

    /// Sets the failed logins allowed across all clients (`None`: no limit).
    pub fn with_failures_overall(mut self, limit: Option<RateLimit>) -> Self {
        self.failures_overall = limit;
        self
    }
}
