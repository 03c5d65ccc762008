//! The server's configuration: `POCHI_*` variables, parsed and checked before anything starts.
//!
//! Every variable is optional; an empty value counts as unset. A refused value is a
//! [`ConfigError`] naming the variable and saying what would be accepted, never repeating a
//! secret. `.env.example` beside this crate lists them all.

use std::{collections::BTreeMap, fmt, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use pochi_core::{AdminUsers, CallbackToken, Error, ShopConfig};
use pochi_http::{
    CallbackNetworks, LockoutPolicy, MetricsToken, RateLimits, RouterConfig, ServeOptions,
    TrustedProxy,
};
use pochi_pay_mpesa::{Environment, MpesaConfigBuilder};

use crate::texts::Texts;

use self::values::{
    boolean, count_or_off, count_per_window, database, duration, public_url, rate_limit,
    trusted_proxy,
};

pub(crate) mod notify;
pub(crate) mod values;

/// Every variable the server reads.
pub const VARIABLES: &[&str] = &[
    "POCHI_DATA_DIR",
    "POCHI_DATABASE_URL",
    "POCHI_LISTEN",
    "POCHI_PUBLIC_URL",
    "POCHI_MPESA_MODE",
    "POCHI_MPESA_SHORTCODE",
    "POCHI_MPESA_TILL_NUMBER",
    "POCHI_MPESA_PASSKEY",
    "POCHI_MPESA_CONSUMER_KEY",
    "POCHI_MPESA_CONSUMER_SECRET",
    "POCHI_MPESA_CALLBACK_BASE_URL",
    "POCHI_MPESA_CALLBACK_TOKEN",
    "POCHI_MPESA_CALLBACK_TOKEN_PREVIOUS",
    "POCHI_MPESA_C2B",
    "POCHI_MPESA_TIMESTAMP_UTC_OFFSET",
    "POCHI_MPESA_C2B_VERSION",
    "POCHI_MPESA_C2B_RESPONSE_TYPE",
    "POCHI_MPESA_PHONE_FORMAT",
    "POCHI_MPESA_BASE_URL",
    "POCHI_MPESA_INITIATOR_NAME",
    "POCHI_MPESA_INITIATOR_PASSWORD",
    "POCHI_MPESA_INITIATOR_CERTIFICATE",
    "POCHI_MPESA_CONFIRM_C2B",
    "POCHI_MPESA_CHECK_CODES",
    "POCHI_ADMIN_USERS",
    "POCHI_ADMIN_HTPASSWD",
    "POCHI_CORS_ORIGINS",
    "POCHI_TRUSTED_PROXY",
    "POCHI_CALLBACK_ALLOWED_NETWORKS",
    "POCHI_MEDIA_DIR",
    "POCHI_TEXTS_DIR",
    "POCHI_RATE_LIMIT",
    "POCHI_CHECKOUT_RATE_LIMIT",
    "POCHI_PHONE_ORDER_RATE_LIMIT",
    "POCHI_LOGIN_FREE_FAILURES",
    "POCHI_LOGIN_MAX_BACKOFF",
    "POCHI_LOGIN_FAILURES_PER_ADDRESS",
    "POCHI_LOGIN_FAILURES_OVERALL",
    "POCHI_REQUEST_TIMEOUT",
    "POCHI_HEADER_READ_TIMEOUT",
    "POCHI_IDLE_TIMEOUT",
    "POCHI_MAX_CONNECTIONS",
    "POCHI_SHUTDOWN_GRACE",
    "POCHI_METRICS_TOKEN",
    "POCHI_ORDER_EXPIRY",
    "POCHI_UNSTARTED_ORDER_EXPIRY",
    "POCHI_MAX_UNITS_PER_PRODUCT",
    "POCHI_OPEN_ORDERS_PER_PHONE",
    "POCHI_OPEN_ORDERS_PER_ADDRESS",
    "POCHI_PAYMENT_REQUESTS_PER_PHONE",
    "POCHI_RECONCILE_INTERVAL",
    "POCHI_EXPIRY_INTERVAL",
    "POCHI_DEMO_PRODUCTS",
    "POCHI_PAY_ON_DELIVERY",
    "POCHI_LOG",
    "POCHI_LOG_FORMAT",
    "POCHI_BACKUP_DIR",
    "POCHI_BACKUP_KEEP_DAYS",
    SIMULATED_IN_PUBLIC,
];

/// How the server writes its log lines (`POCHI_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// JSON under systemd (its journal is the log's reader), text otherwise: the default.
    Auto,
    /// Human-readable lines, for a terminal.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    /// The format to write: `Auto` resolved by whether the process runs under systemd, which
    /// sets `JOURNAL_STREAM` for a service whose output goes to the journal.
    pub fn resolve(self, journal_stream: Option<&str>) -> LogFormat {
        match self {
            LogFormat::Auto if journal_stream.is_some_and(|v| !v.is_empty()) => LogFormat::Json,
            LogFormat::Auto => LogFormat::Text,
            chosen => chosen,
        }
    }
}

/// The override that lets simulated M-Pesa run where the public can reach it (a demo meant
/// to be shown): named so that nobody sets it by accident.
pub(crate) const SIMULATED_IN_PUBLIC: &str = "POCHI_DANGER_SIMULATED_PAYMENTS_IN_PUBLIC";

/// A variable whose value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The variable (`POCHI_LISTEN`).
    pub variable: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(variable: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            variable: variable.into(),
            message: message.into(),
        }
    }
}

/// How the shop takes M-Pesa payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MpesaMode {
    /// The fake Daraja in process: pushes are answered from the payment page (the default).
    Simulated,
    /// Safaricom's sandbox.
    Sandbox,
    /// Safaricom's production API: real money.
    Production,
    /// No Daraja API: customers pay the shop's till, paybill or phone by hand and type the
    /// M-Pesa code or paste the confirmation SMS; an admin verifies each payment. Real money.
    Manual,
}

/// Which store the database URL picks.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Database {
    /// The SQLite file `pochi.db` in the data directory.
    DefaultSqlite,
    /// `sqlite://…` or `sqlite::memory:`.
    Sqlite(String),
    /// `postgres://…` (may hold a password).
    Postgres(String),
    /// `mysql://…` or `mariadb://…` (may hold a password).
    MySql(String),
}

impl Database {
    /// The adapter's name, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Database::DefaultSqlite | Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
            Database::MySql(_) => "mysql",
        }
    }
}

impl fmt::Debug for Database {
    // URLs of server databases carry passwords: only the adapter is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::DefaultSqlite => f.write_str("DefaultSqlite"),
            Database::Sqlite(url) => write!(f, "Sqlite({url:?})"),
            Database::Postgres(_) => f.write_str("Postgres(redacted)"),
            Database::MySql(_) => f.write_str("MySql(redacted)"),
        }
    }
}

/// Who may administer the shop.
#[derive(Debug, Clone)]
pub(crate) enum Admins {
    /// `POCHI_ADMIN_USERS` or `POCHI_ADMIN_HTPASSWD`.
    Configured(AdminUsers),
    /// None configured: one is generated on first start and kept in the data directory.
    Generated,
}

/// The shop's defences against hoarding and push bombing, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShopLimits {
    pub(crate) unstarted_order_expiry: Duration,
    pub(crate) max_units_per_product: Option<u32>,
    pub(crate) open_orders_per_phone: Option<u32>,
    pub(crate) open_orders_per_address: Option<u32>,
    pub(crate) payment_requests_per_phone: Option<(u32, Duration)>,
}

impl Settings {
    /// The shop's configuration these settings ask for.
    pub(crate) fn shop_config(&self) -> ShopConfig {
        let limits = &self.shop_limits;
        let (pushes, window) = match limits.payment_requests_per_phone {
            Some((max, window)) => (Some(max), window),
            None => (None, ShopConfig::default().payment_request_window),
        };
        let config = ShopConfig::default()
            .with_unpaid_order_ttl(self.order_expiry)
            .with_unstarted_order_ttl(limits.unstarted_order_expiry)
            .with_max_units_per_product(limits.max_units_per_product)
            .with_open_order_limits(limits.open_orders_per_phone, limits.open_orders_per_address)
            .with_payment_requests_per_phone(pushes, window)
            .with_direct_payments_confirmed(self.confirm_c2b);
        match &self.previous_callback_token {
            Some(previous) => config.with_previous_callback_token(previous.clone()),
            None => config,
        }
    }
}

/// The validated configuration of a server. Build it with [`Settings::from_env`] or
/// [`Settings::from_vars`].
#[derive(Clone)]
pub struct Settings {
    pub(crate) data_dir: PathBuf,
    pub(crate) database: Database,
    pub(crate) listen: SocketAddr,
    pub(crate) public_url: Option<String>,
    pub(crate) mpesa_mode: MpesaMode,
    /// Sandbox and production: everything but the callback token, checked.
    pub(crate) mpesa: Option<MpesaConfigBuilder>,
    pub(crate) callback_token: Option<CallbackToken>,
    /// The token callback URLs carried before the current one, accepted while it is rotated
    /// out (`POCHI_MPESA_CALLBACK_TOKEN_PREVIOUS`).
    pub(crate) previous_callback_token: Option<CallbackToken>,
    /// Whether C2B payments are taken (`POCHI_MPESA_C2B`): without it the C2B callback routes
    /// answer 404.
    pub(crate) c2b: bool,
    /// C2B payments wait for Transaction Status (`POCHI_MPESA_CONFIRM_C2B`).
    pub(crate) confirm_c2b: bool,
    /// Where payment callbacks may come from (`POCHI_CALLBACK_ALLOWED_NETWORKS`).
    pub(crate) callback_networks: Option<CallbackNetworks>,
    pub(crate) admins: Admins,
    pub(crate) cors_origins: Vec<String>,
    pub(crate) trusted_proxy: Option<TrustedProxy>,
    pub(crate) media_dir: PathBuf,
    /// The shop's own storefront texts (`POCHI_TEXTS_DIR`), if any.
    pub(crate) texts_dir: Option<PathBuf>,
    /// The storefront's catalogues, with the shop's texts merged in.
    pub(crate) texts: Texts,
    pub(crate) rate_limits: RateLimits,
    /// How admin logins are guarded against guessing.
    pub(crate) lockout: LockoutPolicy,
    pub(crate) request_timeout: Duration,
    /// Header-read and idle timeouts, connection cap, shutdown grace.
    pub(crate) serve: ServeOptions,
    pub(crate) metrics_token: Option<MetricsToken>,
    pub(crate) order_expiry: Duration,
    pub(crate) shop_limits: ShopLimits,
    pub(crate) reconcile_interval: Duration,
    pub(crate) expiry_interval: Duration,
    pub(crate) demo_products: bool,
    /// `POCHI_PAY_ON_DELIVERY`: customers may choose to pay at the door.
    pub(crate) pay_on_delivery: bool,
    /// `POCHI_DANGER_SIMULATED_PAYMENTS_IN_PUBLIC`: simulated M-Pesa may be reached by others.
    pub(crate) simulated_in_public: bool,
    pub(crate) log: String,
    pub(crate) log_format: LogFormat,
    /// Where `pochi-server backup` writes its sets (`POCHI_BACKUP_DIR`).
    pub(crate) backup_dir: PathBuf,
    /// How many days of backups are kept (`POCHI_BACKUP_KEEP_DAYS`).
    pub(crate) backup_keep_days: u32,
    /// Which channels messages go by, and to whom (`POCHI_NOTIFY_*`).
    pub(crate) notify: notify::NotifySettings,
    pub(crate) unknown: Vec<String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("data_dir", &self.data_dir)
            .field("database", &self.database)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("mpesa_mode", &self.mpesa_mode)
            .field("mpesa", &self.mpesa)
            .field("callback_token", &self.callback_token)
            .field("previous_callback_token", &self.previous_callback_token)
            .field("c2b", &self.c2b)
            .field("callback_networks", &self.callback_networks)
            .field(
                "admins",
                &match &self.admins {
                    Admins::Configured(users) => format!("{} configured", users.len()),
                    Admins::Generated => "generated".to_owned(),
                },
            )
            .field("cors_origins", &self.cors_origins)
            .field("trusted_proxy", &self.trusted_proxy)
            .field("media_dir", &self.media_dir)
            .field("texts_dir", &self.texts_dir)
            .field("texts", &self.texts)
            .field("rate_limits", &self.rate_limits)
            .field("lockout", &self.lockout)
            .field("request_timeout", &self.request_timeout)
            .field("serve", &self.serve)
            .field("metrics_token", &self.metrics_token)
            .field("order_expiry", &self.order_expiry)
            .field("shop_limits", &self.shop_limits)
            .field("reconcile_interval", &self.reconcile_interval)
            .field("expiry_interval", &self.expiry_interval)
            .field("demo_products", &self.demo_products)
            .field("pay_on_delivery", &self.pay_on_delivery)
            .field("simulated_in_public", &self.simulated_in_public)
            .field("backup_dir", &self.backup_dir)
            .field("backup_keep_days", &self.backup_keep_days)
            .field("notify", &self.notify)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Reads the `POCHI_*` variables of this process.
    pub fn from_env() -> Result<Settings, ConfigError> {
        // Variables that are not Unicode cannot be ours to read; `vars_os` keeps them from
        // panicking the process.
        Settings::from_vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// Reads the given variables with the same rules as [`Settings::from_env`] (for tests and
    /// hosts that keep configuration elsewhere). Names without the `POCHI_` prefix are ignored.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Settings, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let vars: BTreeMap<String, String> = vars
            .into_iter()
            .filter(|(k, _)| k.as_ref().starts_with("POCHI_"))
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().trim().to_owned()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        Vars(vars).settings()
    }

    /// The data directory (SQLite file, generated admin login, callback token, media).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// Checks the address of a listening socket the server was handed (systemd socket
    /// activation) as `POCHI_LISTEN` is checked: simulated M-Pesa refuses an address other
    /// machines can reach unless the override is set.
    pub(crate) fn check_passed_listener(&self, addr: SocketAddr) -> Result<(), ConfigError> {
        if self.mpesa_mode == MpesaMode::Simulated && !self.simulated_in_public {
            Vars::simulated_stays_private(
                addr,
                crate::activation::PASSED,
                self.public_url.as_deref(),
                self.trusted_proxy.is_some(),
            )?;
        }
        Ok(())
    }

    /// The address to listen on.
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// The shop's public base URL, when configured.
    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }

    /// How M-Pesa payments are taken.
    pub fn mpesa_mode(&self) -> MpesaMode {
        self.mpesa_mode
    }

    /// How log lines are written (`POCHI_LOG_FORMAT`).
    pub fn log_format(&self) -> LogFormat {
        self.log_format
    }

    /// The log level (`POCHI_LOG`: `error`, `warn`, `info`, `debug` or `trace`).
    pub fn log_level(&self) -> &str {
        &self.log
    }

    /// `POCHI_*` variables that were set but are not read (probably misspelt).
    pub fn unknown_variables(&self) -> &[String] {
        &self.unknown
    }
}

struct Vars(BTreeMap<String, String>);

impl Vars {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn parsed<T>(
        &self,
        name: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(text) => parse(text).map_err(|message| ConfigError::new(name, message)),
        }
    }

    fn settings(&self) -> Result<Settings, ConfigError> {
        let data_dir = PathBuf::from(self.get("POCHI_DATA_DIR").unwrap_or("./pochi-data"));
        let database = self.parsed("POCHI_DATABASE_URL", Database::DefaultSqlite, database)?;
        let listen = self.parsed(
            "POCHI_LISTEN",
            SocketAddr::from(([127, 0, 0, 1], 8080)),
            |text| {
                text.parse().map_err(|_| {
                    "must be an address and port such as 127.0.0.1:8080 or [::]:8080".to_owned()
                })
            },
        )?;
        let public_url =
            self.parsed("POCHI_PUBLIC_URL", None, |text| public_url(text).map(Some))?;
        let mpesa_mode =
            self.parsed("POCHI_MPESA_MODE", MpesaMode::Simulated, |text| match text
                .to_ascii_lowercase()
                .as_str()
            {
                "simulated" => Ok(MpesaMode::Simulated),
                "sandbox" => Ok(MpesaMode::Sandbox),
                "production" => Ok(MpesaMode::Production),
                "manual" => Ok(MpesaMode::Manual),
                _ => Err("must be simulated, sandbox, production or manual".to_owned()),
            })?;
        let callback_token = self.parsed("POCHI_MPESA_CALLBACK_TOKEN", None, |text| {
            CallbackToken::parse(text)
                .map(Some)
                .map_err(|e| e.message().to_owned())
        })?;
        let previous_callback_token =
            self.parsed("POCHI_MPESA_CALLBACK_TOKEN_PREVIOUS", None, |text| {
                CallbackToken::parse(text)
                    .map(Some)
                    .map_err(|e| e.message().to_owned())
            })?;
        if previous_callback_token.is_some() && callback_token.is_none() {
            return Err(ConfigError::new(
                "POCHI_MPESA_CALLBACK_TOKEN_PREVIOUS",
                "needs POCHI_MPESA_CALLBACK_TOKEN set to the new token",
            ));
        }
        let c2b = self.parsed("POCHI_MPESA_C2B", false, boolean)?;
        let confirm_c2b = self.parsed("POCHI_MPESA_CONFIRM_C2B", false, boolean)?;
        if c2b && mpesa_mode == MpesaMode::Manual {
            return Err(ConfigError::new(
                "POCHI_MPESA_C2B",
                "C2B payments come through Daraja, which manual mode does not use: set \
                 POCHI_MPESA_MODE=sandbox or production with Daraja keys, or turn C2B off",
            ));
        }
        if confirm_c2b && !c2b {
            return Err(ConfigError::new(
                "POCHI_MPESA_CONFIRM_C2B",
                "confirms C2B payments: set POCHI_MPESA_C2B=on too, or turn it off",
            ));
        }
        if confirm_c2b
            && mpesa_mode != MpesaMode::Simulated
            && self.get("POCHI_MPESA_INITIATOR_NAME").is_none()
        {
            return Err(ConfigError::new(
                "POCHI_MPESA_CONFIRM_C2B",
                "asks Daraja's Transaction Status, which needs the initiator: set \
                 POCHI_MPESA_INITIATOR_NAME, POCHI_MPESA_INITIATOR_PASSWORD and \
                 POCHI_MPESA_INITIATOR_CERTIFICATE, or turn it off",
            ));
        }
        let callback_networks = self.parsed("POCHI_CALLBACK_ALLOWED_NETWORKS", None, |text| {
            CallbackNetworks::parse(text)
                .map(Some)
                .map_err(|e| match e {
                    Error::InvalidInput { message, .. } => message,
                    other => other.to_string(),
                })
        })?;
        // Manual mode may still check codes with Daraja's Transaction Status (no STK pushes).
        let check_codes = self.parsed("POCHI_MPESA_CHECK_CODES", None, |text| {
            match text.to_ascii_lowercase().as_str() {
                "off" => Ok(None),
                "sandbox" => Ok(Some(MpesaMode::Sandbox)),
                "production" => Ok(Some(MpesaMode::Production)),
                _ => Err("must be off, sandbox or production".to_owned()),
            }
        })?;
        if check_codes.is_some() && mpesa_mode != MpesaMode::Manual {
            return Err(ConfigError::new(
                "POCHI_MPESA_CHECK_CODES",
                "checks the codes of manual mode: set POCHI_MPESA_MODE=manual, or turn it off",
            ));
        }
        if check_codes.is_some() && self.get("POCHI_MPESA_INITIATOR_NAME").is_none() {
            return Err(ConfigError::new(
                "POCHI_MPESA_CHECK_CODES",
                "asks Daraja's Transaction Status, which needs the initiator: set \
                 POCHI_MPESA_INITIATOR_NAME, POCHI_MPESA_INITIATOR_PASSWORD and \
                 POCHI_MPESA_INITIATOR_CERTIFICATE, or turn it off",
            ));
        }
        let mpesa = match (mpesa_mode, check_codes) {
            (MpesaMode::Manual, Some(environment)) => {
                Some(self.mpesa(environment, public_url.as_deref(), false)?)
            }
            (MpesaMode::Simulated | MpesaMode::Manual, _) => None,
            (live, _) => Some(self.mpesa(live, public_url.as_deref(), true)?),
        };
        let admins = self.admins()?;
        let media_dir = self
            .get("POCHI_MEDIA_DIR")
            .map_or_else(|| data_dir.join("media"), PathBuf::from);
        let texts_dir = self.get("POCHI_TEXTS_DIR").map(PathBuf::from);
        let texts = Texts::load(texts_dir.as_deref())
            .map_err(|e| ConfigError::new("POCHI_TEXTS_DIR", e.to_string()))?;
        let cors_origins: Vec<String> = self
            .get("POCHI_CORS_ORIGINS")
            .map(|text| {
                text.split([',', ' '])
                    .filter(|o| !o.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let trusted_proxy = self.parsed("POCHI_TRUSTED_PROXY", None, trusted_proxy)?;
        let defaults = RateLimits::default();
        let rate_limits = RateLimits::new(
            self.parsed("POCHI_RATE_LIMIT", defaults.general, rate_limit)?,
            self.parsed("POCHI_CHECKOUT_RATE_LIMIT", defaults.checkout, rate_limit)?,
        )
        .with_orders_per_phone(self.parsed(
            "POCHI_PHONE_ORDER_RATE_LIMIT",
            defaults.orders_per_phone,
            rate_limit,
        )?);
        let lockout = self.lockout()?;
        let request_timeout =
            self.parsed("POCHI_REQUEST_TIMEOUT", Duration::from_secs(30), duration)?;
        let serve = self.serve_options()?;
        let metrics_token = self.parsed("POCHI_METRICS_TOKEN", None, |text| {
            MetricsToken::parse(text).map(Some).map_err(|e| match e {
                Error::InvalidInput { message, .. } => message,
                other => other.to_string(),
            })
        })?;
        let order_expiry =
            self.parsed("POCHI_ORDER_EXPIRY", Duration::from_secs(30 * 60), duration)?;
        let defaults = ShopConfig::default();
        let shop_limits = ShopLimits {
            unstarted_order_expiry: self.parsed(
                "POCHI_UNSTARTED_ORDER_EXPIRY",
                defaults.unstarted_order_ttl,
                duration,
            )?,
            max_units_per_product: self.parsed(
                "POCHI_MAX_UNITS_PER_PRODUCT",
                defaults.max_units_per_product,
                count_or_off,
            )?,
            open_orders_per_phone: self.parsed(
                "POCHI_OPEN_ORDERS_PER_PHONE",
                defaults.open_orders_per_phone,
                count_or_off,
            )?,
            open_orders_per_address: self.parsed(
                "POCHI_OPEN_ORDERS_PER_ADDRESS",
                defaults.open_orders_per_client,
                count_or_off,
            )?,
            payment_requests_per_phone: self.parsed(
                "POCHI_PAYMENT_REQUESTS_PER_PHONE",
                defaults
                    .payment_requests_per_phone
                    .map(|max| (max, defaults.payment_request_window)),
                count_per_window,
            )?,
        };
        let reconcile_interval = self.parsed(
            "POCHI_RECONCILE_INTERVAL",
            Duration::from_secs(30),
            duration,
        )?;
        let expiry_interval =
            self.parsed("POCHI_EXPIRY_INTERVAL", Duration::from_secs(60), duration)?;
        // A real shop does not open with a kikoi and a basket it does not sell: the demo
        // catalogue comes by default only with simulated payments.
        let demo_products = self.parsed(
            "POCHI_DEMO_PRODUCTS",
            mpesa_mode == MpesaMode::Simulated,
            boolean,
        )?;
        let pay_on_delivery = self.parsed("POCHI_PAY_ON_DELIVERY", false, boolean)?;
        let simulated_in_public = self.parsed(SIMULATED_IN_PUBLIC, false, boolean)?;
        if mpesa_mode == MpesaMode::Simulated && !simulated_in_public {
            Vars::simulated_stays_private(
                listen,
                "POCHI_LISTEN",
                public_url.as_deref(),
                trusted_proxy.is_some(),
            )?;
        }
        let log = self.parsed("POCHI_LOG", "info".to_owned(), |text| {
            let level = text.to_ascii_lowercase();
            match level.as_str() {
                "error" | "warn" | "info" | "debug" | "trace" => Ok(level),
                _ => Err("must be error, warn, info, debug or trace".to_owned()),
            }
        })?;
        let log_format = self.parsed("POCHI_LOG_FORMAT", LogFormat::Auto, |text| {
            match text.to_ascii_lowercase().as_str() {
                "auto" => Ok(LogFormat::Auto),
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                _ => Err("must be auto, text or json".to_owned()),
            }
        })?;
        let backup_dir = PathBuf::from(self.get("POCHI_BACKUP_DIR").unwrap_or("./pochi-backups"));
        let backup_keep_days = self.parsed("POCHI_BACKUP_KEEP_DAYS", 14, |text| {
            match text.parse::<u32>() {
                Ok(days) if days > 0 => Ok(days),
                _ => Err("must be a whole number of days, at least 1".to_owned()),
            }
        })?;
        let notify = self.notify(mpesa_mode)?;
        let unknown = self
            .0
            .keys()
            .filter(|k| {
                !VARIABLES.contains(&k.as_str())
                    && !notify::VARIABLES.contains(&k.as_str())
                    && !k.starts_with("POCHI_TEST_")
            })
            .cloned()
            .collect();

        let settings = Settings {
            data_dir,
            database,
            listen,
            public_url,
            mpesa_mode,
            mpesa,
            callback_token,
            previous_callback_token,
            c2b,
            confirm_c2b,
            callback_networks,
            admins,
            cors_origins,
            trusted_proxy,
            media_dir,
            texts_dir,
            texts,
            rate_limits,
            lockout,
            request_timeout,
            serve,
            metrics_token,
            order_expiry,
            shop_limits,
            reconcile_interval,
            expiry_interval,
            demo_products,
            pay_on_delivery,
            simulated_in_public,
            log,
            log_format,
            backup_dir,
            backup_keep_days,
            notify,
            unknown,
        };
        // The router checks its part (origins, limits, proxy); its fields become variables.
        settings
            .router_config(Arc::new(AdminUsers::new()))
            .map_err(router_error)?;
        Ok(settings)
    }

    /// Simulated M-Pesa lets anyone mark their own order paid (the simulator's routes answer
    /// for every visitor), so it runs only where nobody else can reach it: a loopback listen
    /// address, no public URL other than a loopback one, and no proxy in front.
    /// `listen_from` names where the address comes from (`POCHI_LISTEN` or a passed socket).
    fn simulated_stays_private(
        listen: SocketAddr,
        listen_from: &'static str,
        public_url: Option<&str>,
        behind_proxy: bool,
    ) -> Result<(), ConfigError> {
        let exposed = if !listen.ip().is_loopback() {
            Some((
                listen_from,
                "listens on an address other machines can reach",
            ))
        } else if public_url.is_some_and(|url| !values::is_loopback_url(url)) {
            Some(("POCHI_PUBLIC_URL", "has a public URL"))
        } else if behind_proxy {
            Some(("POCHI_TRUSTED_PROXY", "runs behind a proxy"))
        } else {
            None
        };
        match exposed {
            None => Ok(()),
            Some((variable, how)) => Err(ConfigError::new(
                "POCHI_MPESA_MODE",
                format!(
                    "simulated M-Pesa (the default) lets any visitor mark their own order paid, \
                     and this shop {how} ({variable}): set POCHI_MPESA_MODE=sandbox or \
                     production, or, for a demo you mean to expose, \
                     {SIMULATED_IN_PUBLIC}=true"
                ),
            )),
        }
    }

    /// How admin logins are guarded: `POCHI_LOGIN_FREE_FAILURES`, `POCHI_LOGIN_MAX_BACKOFF`,
    /// `POCHI_LOGIN_FAILURES_PER_ADDRESS`, `POCHI_LOGIN_FAILURES_OVERALL`.
    fn lockout(&self) -> Result<LockoutPolicy, ConfigError> {
        let defaults = LockoutPolicy::default();
        // `off` lets a user name fail without ever waiting.
        let free_failures = self
            .parsed(
                "POCHI_LOGIN_FREE_FAILURES",
                Some(defaults.free_failures),
                count_or_off,
            )?
            .unwrap_or(u32::MAX);
        let max_backoff = self.parsed("POCHI_LOGIN_MAX_BACKOFF", defaults.max_backoff, duration)?;
        let first_backoff = defaults.first_backoff.min(max_backoff);
        Ok(defaults
            .with_user_backoff(free_failures, first_backoff, max_backoff)
            .with_failures_per_client(self.parsed(
                "POCHI_LOGIN_FAILURES_PER_ADDRESS",
                defaults.failures_per_client,
                rate_limit,
            )?)
            .with_failures_overall(self.parsed(
                "POCHI_LOGIN_FAILURES_OVERALL",
                defaults.failures_overall,
                rate_limit,
            )?))
    }

    /// How connections are served: `POCHI_HEADER_READ_TIMEOUT`, `POCHI_IDLE_TIMEOUT`,
    /// `POCHI_MAX_CONNECTIONS`, `POCHI_SHUTDOWN_GRACE`.
    fn serve_options(&self) -> Result<ServeOptions, ConfigError> {
        let defaults = ServeOptions::default();
        Ok(defaults
            .clone()
            .with_header_read_timeout(self.parsed(
                "POCHI_HEADER_READ_TIMEOUT",
                defaults.header_read_timeout,
                duration,
            )?)
            .with_idle_timeout(self.parsed(
                "POCHI_IDLE_TIMEOUT",
                defaults.idle_timeout,
                duration,
            )?)
            .with_max_connections(self.parsed(
                "POCHI_MAX_CONNECTIONS",
                defaults.max_connections,
                |text| match text.parse::<usize>() {
                    Ok(max) if max > 0 => Ok(max),
                    _ => Err("must be a whole number of connections, at least 1".to_owned()),
                },
            )?)
            .with_shutdown_grace(self.parsed(
                "POCHI_SHUTDOWN_GRACE",
                defaults.shutdown_grace,
                duration,
            )?))
    }

    /// The sandbox or production configuration, checked with a stand-in callback token (the
    /// real one may only be known at start, from the data directory).
    /// The Daraja settings for `mode` (sandbox or production); `stk_push` off for a shop that
    /// only checks transactions (no passkey then).
    fn mpesa(
        &self,
        mode: MpesaMode,
        public_url: Option<&str>,
        stk_push: bool,
    ) -> Result<MpesaConfigBuilder, ConfigError> {
        let lookup = |name: &str| -> Option<String> {
            // The environment comes from POCHI_MPESA_MODE, the callback base from the public
            // URL when not given on its own.
            match name {
                "MPESA_ENVIRONMENT" => None,
                "MPESA_CALLBACK_BASE_URL" => self
                    .get("POCHI_MPESA_CALLBACK_BASE_URL")
                    .or(public_url)
                    .map(str::to_owned),
                _ => self.get(&format!("POCHI_{name}")).map(str::to_owned),
            }
        };
        let mut builder = MpesaConfigBuilder::from_lookup(lookup)
            .map_err(|e| self.mpesa_error(e))?
            .with_stk_push(stk_push);
        builder = match mode {
            MpesaMode::Production => builder.with_environment(Environment::Production),
            _ => {
                let builder = builder.with_environment(Environment::Sandbox);
                if self.get("POCHI_MPESA_SHORTCODE").is_none()
                    && self.get("POCHI_MPESA_PASSKEY").is_none()
                {
                    builder.with_public_sandbox_paybill()
                } else {
                    builder
                }
            }
        };
        let stand_in = CallbackToken::parse("stand-in-token-0000000")
            .map_err(|e| ConfigError::new("POCHI_MPESA_CALLBACK_TOKEN", e.message()))?;
        builder
            .clone()
            .with_callback_token(&stand_in)
            .build()
            .map_err(|e| self.mpesa_error(e))?;
        Ok(builder)
    }

    /// Names the variable behind an M-Pesa setting.
    fn mpesa_error(&self, err: pochi_pay_mpesa::ConfigError) -> ConfigError {
        let variable = match err.field {
            "environment" => "POCHI_MPESA_MODE".to_owned(),
            "business" => "POCHI_MPESA_SHORTCODE".to_owned(),
            "callback_base_url" if self.get("POCHI_MPESA_CALLBACK_BASE_URL").is_none() => {
                "POCHI_PUBLIC_URL".to_owned()
            }
            field => format!("POCHI_MPESA_{}", field.to_ascii_uppercase()),
        };
        // The adapter's messages name its own (unprefixed) variables, or its fields.
        let message = err
            .message
            .replace("MPESA_", "POCHI_MPESA_")
            .replace("POCHI_POCHI_", "POCHI_")
            .replace("initiator_name", "POCHI_MPESA_INITIATOR_NAME")
            .replace("initiator_password", "POCHI_MPESA_INITIATOR_PASSWORD")
            .replace("initiator_certificate", "POCHI_MPESA_INITIATOR_CERTIFICATE");
        ConfigError::new(variable, message)
    }

    fn admins(&self) -> Result<Admins, ConfigError> {
        const USERS: &str = "POCHI_ADMIN_USERS";
        const FILE: &str = "POCHI_ADMIN_HTPASSWD";
        match (self.get(USERS), self.get(FILE)) {
            (Some(_), Some(_)) => Err(ConfigError::new(
                USERS,
                format!("set either {USERS} or {FILE}, not both"),
            )),
            (Some(list), None) => {
                // Argon2 hashes contain commas: entries are separated by spaces or `;`.
                let lines: Vec<&str> = list
                    .split(|c: char| c == ';' || c.is_whitespace())
                    .filter(|e| !e.is_empty())
                    .collect();
                AdminUsers::from_htpasswd(&lines.join("\n"))
                    .map(Admins::Configured)
                    .map_err(|e| admin_error(USERS, "entry", e))
            }
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError::new(FILE, format!("cannot read the file {path}: {e}"))
                })?;
                let users =
                    AdminUsers::from_htpasswd(&text).map_err(|e| admin_error(FILE, "line", e))?;
                if users.is_empty() {
                    return Err(ConfigError::new(
                        FILE,
                        format!("the file {path} lists no users"),
                    ));
                }
                Ok(Admins::Configured(users))
            }
            (None, None) => Ok(Admins::Generated),
        }
    }
}

impl Settings {
    /// The router's configuration with these settings.
    pub(crate) fn router_config(
        &self,
        authenticator: Arc<dyn pochi_core::Authenticator>,
    ) -> Result<RouterConfig, Error> {
        let mut builder = RouterConfig::builder(authenticator)
            .cors_origins(self.cors_origins.iter().cloned())
            .rate_limits(self.rate_limits)
            .lockout(self.lockout)
            .request_timeout(self.request_timeout);
        if let Some(proxy) = &self.trusted_proxy {
            builder = builder.trusted_proxy(proxy.clone());
        }
        if let Some(networks) = &self.callback_networks {
            builder = builder.callback_networks(networks.clone());
        }
        if let Some(token) = &self.metrics_token {
            builder = builder.metrics_token(token.clone());
        }
        builder.build()
    }
}

fn router_error(err: Error) -> ConfigError {
    let field = err.field().unwrap_or_default();
    let variable = if field.starts_with("corsOrigins") {
        "POCHI_CORS_ORIGINS"
    } else if field == "rateLimits.general" {
        "POCHI_RATE_LIMIT"
    } else if field == "rateLimits.checkout" {
        "POCHI_CHECKOUT_RATE_LIMIT"
    } else if field == "rateLimits.ordersPerPhone" {
        "POCHI_PHONE_ORDER_RATE_LIMIT"
    } else if field == "lockout.failuresPerClient" {
        "POCHI_LOGIN_FAILURES_PER_ADDRESS"
    } else if field == "lockout.failuresOverall" {
        "POCHI_LOGIN_FAILURES_OVERALL"
    } else if field == "lockout.maxBackoff" {
        "POCHI_LOGIN_MAX_BACKOFF"
    } else if field.starts_with("trustedProxy") {
        "POCHI_TRUSTED_PROXY"
    } else if field == "requestTimeout" {
        "POCHI_REQUEST_TIMEOUT"
    } else {
        "POCHI_*"
    };
    let message = match &err {
        Error::InvalidInput { message, .. } => message.clone(),
        other => other.to_string(),
    };
    ConfigError::new(variable, message)
}

/// Names the entry of an admin list, never its hash.
fn admin_error(variable: &str, entry: &str, err: Error) -> ConfigError {
    let message = match &err {
        Error::InvalidInput { field, message } => {
            format!("{}: {message}", field.replace("line", entry))
        }
        other => other.to_string(),
    };
    ConfigError::new(variable, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_vars(vars.iter().copied())
    }

    #[test]
    fn no_variables_give_the_local_demo_shop() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("./pochi-data"));
        assert_eq!(s.media_dir, PathBuf::from("./pochi-data/media"));
        assert_eq!(s.database, Database::DefaultSqlite);
        assert_eq!(s.mpesa_mode, MpesaMode::Simulated);
        assert!(matches!(s.admins, Admins::Generated));
        assert_eq!(s.order_expiry, Duration::from_secs(1800));
    }

    #[test]
    fn simulated_mpesa_refuses_to_run_where_others_can_reach_it() {
        for (variable, value) in [
            ("POCHI_LISTEN", "0.0.0.0:8080"),
            ("POCHI_LISTEN", "[::]:8080"),
            ("POCHI_LISTEN", "192.0.2.10:8080"),
            ("POCHI_PUBLIC_URL", "https://duka.example.co.ke"),
            ("POCHI_TRUSTED_PROXY", "X-Forwarded-For"),
        ] {
            // Simulated by default and when named.
            for mode in [None, Some("simulated")] {
                let mut vars = vec![(variable, value)];
                vars.extend(mode.map(|m| ("POCHI_MPESA_MODE", m)));
                let err = settings(&vars).unwrap_err();
                assert_eq!(err.variable, "POCHI_MPESA_MODE", "{variable}={value}");
                assert!(err.message.contains(variable), "{err}");
                assert!(err.message.contains(SIMULATED_IN_PUBLIC), "{err}");
            }
            // The loud override lets a demo run in public.
            let s = settings(&[(variable, value), (SIMULATED_IN_PUBLIC, "true")]).unwrap();
            assert_eq!(s.mpesa_mode, MpesaMode::Simulated);
            assert!(s.simulated_in_public);
        }
        // This machine only: loopback addresses and URLs are fine.
        for (variable, value) in [
            ("POCHI_LISTEN", "127.0.0.1:9000"),
            ("POCHI_LISTEN", "[::1]:9000"),
            ("POCHI_PUBLIC_URL", "http://localhost:8080"),
            ("POCHI_PUBLIC_URL", "http://127.0.0.1:8080/"),
            ("POCHI_PUBLIC_URL", "http://[::1]:8080"),
        ] {
            let s = settings(&[(variable, value)]).unwrap();
            assert!(!s.simulated_in_public, "{variable}={value}");
        }
        let err = settings(&[(SIMULATED_IN_PUBLIC, "perhaps")]).unwrap_err();
        assert_eq!(err.variable, SIMULATED_IN_PUBLIC);
    }

    #[test]
    fn demo_products_come_by_default_only_with_simulated_mpesa() {
        assert!(settings(&[]).unwrap().demo_products);
        assert!(
            !settings(&[("POCHI_DEMO_PRODUCTS", "false")])
                .unwrap()
                .demo_products
        );
        let sandbox = [
            ("POCHI_MPESA_MODE", "sandbox"),
            ("POCHI_MPESA_CONSUMER_KEY", "key"),
            ("POCHI_MPESA_CONSUMER_SECRET", "very-secret-value"),
            ("POCHI_PUBLIC_URL", "https://duka.example.co.ke"),
        ];
        assert!(!settings(&sandbox).unwrap().demo_products);
        let mut asked = sandbox.to_vec();
        asked.push(("POCHI_DEMO_PRODUCTS", "yes"));
        assert!(settings(&asked).unwrap().demo_products);
    }

    #[test]
    fn errors_name_the_variable_and_never_repeat_a_password() {
        let err = settings(&[("POCHI_DATABASE_URL", "oracle://u:hunter22@db/shop")]).unwrap_err();
        assert_eq!(err.variable, "POCHI_DATABASE_URL");
        assert!(!err.to_string().contains("hunter22"));
        let err = settings(&[("POCHI_RATE_LIMIT", "0/0")]).unwrap_err();
        assert_eq!(err.variable, "POCHI_RATE_LIMIT");
        let err = settings(&[("POCHI_PHONE_ORDER_RATE_LIMIT", "0/0")]).unwrap_err();
        assert_eq!(err.variable, "POCHI_PHONE_ORDER_RATE_LIMIT");
        let err = settings(&[("POCHI_LOGIN_FAILURES_PER_ADDRESS", "0/5")]).unwrap_err();
        assert_eq!(err.variable, "POCHI_LOGIN_FAILURES_PER_ADDRESS");
        let err = settings(&[("POCHI_CORS_ORIGINS", "duka.example")]).unwrap_err();
        assert_eq!(err.variable, "POCHI_CORS_ORIGINS");
        let err = settings(&[("POCHI_ADMIN_USERS", "admin:plaintext-secret")]).unwrap_err();
        assert_eq!(err.variable, "POCHI_ADMIN_USERS");
        assert!(!err.to_string().contains("plaintext-secret"));
    }

    #[test]
    fn the_login_guard_and_orders_per_phone_come_from_their_variables() {
        let defaults = settings(&[]).unwrap();
        assert_eq!(defaults.lockout, LockoutPolicy::default());
        assert_eq!(defaults.rate_limits, RateLimits::default());
        let s = settings(&[
            ("POCHI_LOGIN_FREE_FAILURES", "3"),
            ("POCHI_LOGIN_MAX_BACKOFF", "2m"),
            ("POCHI_LOGIN_FAILURES_PER_ADDRESS", "off"),
            ("POCHI_LOGIN_FAILURES_OVERALL", "30/40"),
            ("POCHI_PHONE_ORDER_RATE_LIMIT", "4/8"),
        ])
        .unwrap();
        assert_eq!(s.lockout.free_failures, 3);
        assert_eq!(s.lockout.max_backoff, Duration::from_secs(120));
        assert_eq!(s.lockout.failures_per_client, None);
        assert_eq!(
            s.lockout.failures_overall,
            Some(pochi_http::RateLimit::new(30, 40))
        );
        assert_eq!(
            s.rate_limits.orders_per_phone,
            Some(pochi_http::RateLimit::new(4, 8))
        );
        let off = settings(&[("POCHI_LOGIN_FREE_FAILURES", "off")]).unwrap();
        assert_eq!(off.lockout.free_failures, u32::MAX);
    }

    #[test]
    fn sandbox_defaults_to_the_public_paybill_and_needs_credentials_and_a_public_url() {
        let err = settings(&[("POCHI_MPESA_MODE", "sandbox")]).unwrap_err();
        assert_eq!(err.variable, "POCHI_MPESA_CONSUMER_KEY");
        let s = settings(&[
            ("POCHI_MPESA_MODE", "sandbox"),
            ("POCHI_MPESA_CONSUMER_KEY", "key"),
            ("POCHI_MPESA_CONSUMER_SECRET", "very-secret-value"),
            ("POCHI_PUBLIC_URL", "https://duka.example.co.ke"),
        ])
        .unwrap();
        assert_eq!(s.mpesa_mode, MpesaMode::Sandbox);
        assert!(!format!("{s:?}").contains("very-secret-value"));
    }

    #[test]
    fn admins_come_from_an_htpasswd_file_naming_the_bad_line_but_not_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admins.htpasswd");
        let hash = pochi_core::PasswordHash::create("a long password").unwrap();
        std::fs::write(&path, format!("# owners\nwanjiru:{}\n", hash.as_str())).unwrap();
        let file = path.display().to_string();
        let s = settings(&[("POCHI_ADMIN_HTPASSWD", &file)]).unwrap();
        assert!(matches!(&s.admins, Admins::Configured(users) if users.len() == 1));

        std::fs::write(&path, "wanjiru:$apr1$weak$hashvalue\n").unwrap();
        let err = settings(&[("POCHI_ADMIN_HTPASSWD", &file)]).unwrap_err();
        assert_eq!(err.variable, "POCHI_ADMIN_HTPASSWD");
        assert!(err.message.starts_with("line 1: "), "{err}");
        assert!(!err.message.contains("hashvalue"));

        let err = settings(&[("POCHI_ADMIN_HTPASSWD", "/no/such/file")]).unwrap_err();
        assert_eq!(err.variable, "POCHI_ADMIN_HTPASSWD");
    }

    #[test]
    fn connection_limits_and_the_metrics_token_are_read_and_the_token_never_shown() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.serve, ServeOptions::default());
        assert!(s.metrics_token.is_none());
        let s = settings(&[
            ("POCHI_HEADER_READ_TIMEOUT", "5s"),
            ("POCHI_IDLE_TIMEOUT", "2m"),
            ("POCHI_MAX_CONNECTIONS", "256"),
            ("POCHI_SHUTDOWN_GRACE", "10s"),
            ("POCHI_METRICS_TOKEN", "prometheus-scrape-secret-1"),
        ])
        .unwrap();
        assert_eq!(s.serve.header_read_timeout, Duration::from_secs(5));
        assert_eq!(s.serve.idle_timeout, Duration::from_secs(120));
        assert_eq!(s.serve.max_connections, 256);
        assert_eq!(s.serve.shutdown_grace, Duration::from_secs(10));
        assert!(s.metrics_token.is_some());
        assert!(!format!("{s:?}").contains("prometheus-scrape-secret-1"));
        let err = settings(&[("POCHI_MAX_CONNECTIONS", "0")]).unwrap_err();
        assert_eq!(err.variable, "POCHI_MAX_CONNECTIONS");
        let err = settings(&[("POCHI_METRICS_TOKEN", "short-secret")]).unwrap_err();
        assert_eq!(err.variable, "POCHI_METRICS_TOKEN");
        assert!(!err.to_string().contains("short-secret"));
    }

    #[test]
    fn c2b_the_previous_token_and_callback_networks_are_read_and_tokens_never_shown() {
        let s = settings(&[]).unwrap();
        assert!(!s.c2b);
        assert!(s.previous_callback_token.is_none() && s.callback_networks.is_none());
        let s = settings(&[
            ("POCHI_MPESA_C2B", "on"),
            ("POCHI_MPESA_CALLBACK_TOKEN", "the-new-token-000001"),
            (
                "POCHI_MPESA_CALLBACK_TOKEN_PREVIOUS",
                "the-old-token-000001",
            ),
            (
                "POCHI_CALLBACK_ALLOWED_NETWORKS",
                "196.201.214.0/24, 196.201.213.44",
            ),
        ])
        .unwrap();
        assert!(s.c2b);
        assert!(
            s.shop_config()
                .accepts_callback_token("the-old-token-000001")
        );
        let networks = s.callback_networks.as_ref().unwrap();
        assert!(networks.contains("196.201.214.200".parse().unwrap()));
        assert!(!format!("{s:?}").contains("-token-000001"));
        let err = settings(&[(
            "POCHI_MPESA_CALLBACK_TOKEN_PREVIOUS",
            "the-old-token-000001",
        )])
        .unwrap_err();
        assert_eq!(err.variable, "POCHI_MPESA_CALLBACK_TOKEN_PREVIOUS");
        assert!(!err.to_string().contains("the-old-token"));
        let err = settings(&[("POCHI_CALLBACK_ALLOWED_NETWORKS", "196.201.214/24")]).unwrap_err();
        assert_eq!(err.variable, "POCHI_CALLBACK_ALLOWED_NETWORKS");
        let err = settings(&[("POCHI_MPESA_C2B", "maybe")]).unwrap_err();
        assert_eq!(err.variable, "POCHI_MPESA_C2B");
    }

    #[test]
    fn unknown_pochi_variables_are_reported() {
        let s = settings(&[("POCHI_LISTN", "1.2.3.4:1"), ("HOME", "/root")]).unwrap();
        assert_eq!(s.unknown_variables(), ["POCHI_LISTN".to_owned()]);
    }
}

/// Every setting `.env.example` documents changes what it says it changes: for each, the part
/// of the server's configuration it drives, read with and without it (a setting that is
/// required where it applies refuses the configuration without it).
#[cfg(test)]
mod env_example {
    use pochi_core::CallbackToken;
    use pochi_pay_mpesa::{CallbackChannel, MpesaConfig};

    use super::*;

    /// The M-Pesa configuration the server would build (sandbox and production).
    fn mpesa(s: &Settings) -> MpesaConfig {
        let token = CallbackToken::parse("a-test-callback-token-000").unwrap();
        s.mpesa
            .clone()
            .expect("an M-Pesa mode with Daraja")
            .with_callback_token(&token)
            .build()
            .unwrap()
    }

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_vars(vars.iter().copied())
    }

    fn router(s: &Settings) -> RouterConfig {
        s.router_config(Arc::new(AdminUsers::new())).unwrap()
    }

    type Effect = fn(&Settings) -> String;
    type Case = (
        &'static str,
        String,
        Vec<(&'static str, &'static str)>,
        Effect,
    );

    fn case(
        variable: &'static str,
        value: impl Into<String>,
        needs: Vec<(&'static str, &'static str)>,
        effect: Effect,
    ) -> Case {
        (variable, value.into(), needs, effect)
    }

    /// The test initiator certificate of pochi-pay-mpesa's fake Daraja.
    const INITIATOR_CERT: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../pochi-pay-mpesa/tests/fixtures/initiator/test_initiator_cert.pem"
    );

    const SANDBOX: &[(&str, &str)] = &[
        ("POCHI_MPESA_MODE", "sandbox"),
        ("POCHI_MPESA_CONSUMER_KEY", "key"),
        ("POCHI_MPESA_CONSUMER_SECRET", "secret"),
        ("POCHI_PUBLIC_URL", "https://duka.example.co.ke"),
    ];

    /// Africa's Talking, configured.
    const SMS: &[(&str, &str)] = &[
        ("POCHI_NOTIFY_SMS_USERNAME", "sandbox"),
        ("POCHI_NOTIFY_SMS_API_KEY", "key"),
    ];

    /// SMTP, configured.
    const SMTP: &[(&str, &str)] = &[
        ("POCHI_NOTIFY_SMTP_HOST", "smtp.example.com"),
        ("POCHI_NOTIFY_EMAIL_FROM", "duka@example.com"),
    ];

    /// (variable, value, the other variables it needs, what it changes).
    fn cases() -> Vec<Case> {
        let hash = pochi_core::PasswordHash::create("a long password")
            .unwrap()
            .as_str()
            .to_owned();
        let htpasswd =
            std::env::temp_dir().join(format!("pochi-env-example-{}.htpasswd", std::process::id()));
        std::fs::write(&htpasswd, format!("wanjiru:{hash}\n")).unwrap();
        let sandbox = |extra: &[(&'static str, &'static str)]| {
            let mut vars = SANDBOX.to_vec();
            vars.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
            vars.extend(extra.iter().copied().filter(|(_, v)| !v.is_empty()));
            vars
        };
        let admins: Effect = |s| match &s.admins {
            Admins::Configured(users) => format!("{} configured", users.len()),
            Admins::Generated => "generated".to_owned(),
        };
        // A directory of the shop's own texts: English "Cart" called "Basket".
        let texts = std::env::temp_dir().join(format!("pochi-texts-case-{}", std::process::id()));
        std::fs::create_dir_all(&texts).unwrap();
        std::fs::write(texts.join("en.json"), r#"{"nav.cart": "Basket"}"#).unwrap();
        vec![
            case("POCHI_DATA_DIR", "/srv/duka", vec![], |s| {
                format!("{:?} {:?}", s.data_dir, s.media_dir)
            }),
            case(
                "POCHI_TEXTS_DIR",
                texts.display().to_string(),
                vec![],
                |s| {
                    format!(
                        "{} {:?}",
                        s.texts.overridden(),
                        s.texts
                            .catalogue("en")
                            .map(|c| String::from_utf8_lossy(c).contains("\"Basket\""))
                    )
                },
            ),
            case(
                "POCHI_DATABASE_URL",
                "postgres://pochi:pw@db/duka",
                vec![],
                |s| s.database.kind().to_owned(),
            ),
            case("POCHI_MEDIA_DIR", "/srv/media", vec![], |s| {
                format!("{:?}", s.media_dir)
            }),
            case("POCHI_LISTEN", "127.0.0.1:9090", vec![], |s| {
                s.listen.to_string()
            }),
            case("POCHI_PUBLIC_URL", "http://localhost:9090", vec![], |s| {
                format!("{:?}", s.public_url)
            }),
            case(
                "POCHI_CORS_ORIGINS",
                "https://www.duka.example.co.ke",
                vec![],
                |s| format!("{:?}", router(s).cors_origins),
            ),
            case(
                "POCHI_TRUSTED_PROXY",
                "X-Real-IP",
                vec![(SIMULATED_IN_PUBLIC, "true")],
                |s| format!("{:?}", router(s).trusted_proxy),
            ),
            case("POCHI_RATE_LIMIT", "60/10", vec![], |s| {
                format!("{:?}", router(s).rate_limits.general)
            }),
            case("POCHI_CHECKOUT_RATE_LIMIT", "5/2", vec![], |s| {
                format!("{:?}", router(s).rate_limits.checkout)
            }),
            case("POCHI_REQUEST_TIMEOUT", "5s", vec![], |s| {
                format!("{:?}", router(s).request_timeout)
            }),
            case("POCHI_HEADER_READ_TIMEOUT", "3s", vec![], |s| {
                format!("{:?}", s.serve.header_read_timeout)
            }),
            case("POCHI_IDLE_TIMEOUT", "2m", vec![], |s| {
                format!("{:?}", s.serve.idle_timeout)
            }),
            case("POCHI_MAX_CONNECTIONS", "64", vec![], |s| {
                s.serve.max_connections.to_string()
            }),
            case("POCHI_SHUTDOWN_GRACE", "5s", vec![], |s| {
                format!("{:?}", s.serve.shutdown_grace)
            }),
            case(
                "POCHI_METRICS_TOKEN",
                "scrape-token-0123456789",
                vec![],
                |s| router(s).metrics_token.is_some().to_string(),
            ),
            case("POCHI_ADMIN_USERS", format!("owner:{hash}"), vec![], admins),
            case(
                "POCHI_ADMIN_HTPASSWD",
                htpasswd.display().to_string(),
                vec![],
                admins,
            ),
            case(
                "POCHI_MPESA_MODE",
                "sandbox",
                sandbox(&[("POCHI_MPESA_MODE", "")]),
                |s| format!("{:?} {:?}", s.mpesa_mode, mpesa(s).environment()),
            ),
            case(
                "POCHI_MPESA_SHORTCODE",
                "600100",
                sandbox(&[("POCHI_MPESA_PASSKEY", "passkey")]),
                |s| format!("{:?}", mpesa(s).business()),
            ),
            case(
                "POCHI_MPESA_TILL_NUMBER",
                "832100",
                sandbox(&[
                    ("POCHI_MPESA_SHORTCODE", "600100"),
                    ("POCHI_MPESA_PASSKEY", "passkey"),
                ]),
                |s| format!("{:?}", mpesa(s).business()),
            ),
            // Secrets: required where they apply, so the configuration is refused without
            // them (their values are never shown).
            case(
                "POCHI_MPESA_PASSKEY",
                "passkey",
                sandbox(&[("POCHI_MPESA_SHORTCODE", "600100")]),
                |s| format!("{:?}", mpesa(s).business()),
            ),
            case(
                "POCHI_MPESA_CONSUMER_KEY",
                "key",
                sandbox(&[("POCHI_MPESA_CONSUMER_KEY", "")]),
                |s| mpesa(s).consumer_key().to_owned(),
            ),
            case(
                "POCHI_MPESA_CONSUMER_SECRET",
                "secret",
                sandbox(&[("POCHI_MPESA_CONSUMER_SECRET", "")]),
                |s| format!("{:?}", mpesa(s).environment()),
            ),
            case(
                "POCHI_MPESA_CALLBACK_BASE_URL",
                "https://callbacks.duka.example.co.ke",
                sandbox(&[]),
                |s| mpesa(s).callback_url(CallbackChannel::Stk),
            ),
            case(
                "POCHI_MPESA_CALLBACK_TOKEN",
                "a-shared-callback-token-01",
                vec![],
                |s| s.callback_token.is_some().to_string(),
            ),
            case(
                "POCHI_MPESA_TIMESTAMP_UTC_OFFSET",
                "+00:00",
                sandbox(&[]),
                |s| mpesa(s).timestamp_offset().to_string(),
            ),
            case("POCHI_MPESA_C2B_VERSION", "v1", sandbox(&[]), |s| {
                format!("{:?}", mpesa(s).c2b_version())
            }),
            case(
                "POCHI_MPESA_C2B_RESPONSE_TYPE",
                "Cancelled",
                sandbox(&[]),
                |s| format!("{:?}", mpesa(s).c2b_response_type()),
            ),
            case("POCHI_MPESA_PHONE_FORMAT", "string", sandbox(&[]), |s| {
                format!("{:?}", mpesa(s).phone_format())
            }),
            case(
                "POCHI_MPESA_BASE_URL",
                "https://daraja-proxy.example",
                sandbox(&[]),
                |s| mpesa(s).base_url().to_owned(),
            ),
            case(
                "POCHI_MPESA_INITIATOR_NAME",
                "pochiapi",
                sandbox(&[
                    ("POCHI_MPESA_INITIATOR_PASSWORD", "Initiator-pass-1"),
                    ("POCHI_MPESA_INITIATOR_CERTIFICATE", INITIATOR_CERT),
                ]),
                |s| format!("{:?}", mpesa(s).initiator_name()),
            ),
            case(
                "POCHI_MPESA_INITIATOR_PASSWORD",
                "Initiator-pass-1",
                sandbox(&[
                    ("POCHI_MPESA_INITIATOR_NAME", "pochiapi"),
                    ("POCHI_MPESA_INITIATOR_CERTIFICATE", INITIATOR_CERT),
                ]),
                |s| format!("{:?}", mpesa(s).initiator_name()),
            ),
            case(
                "POCHI_MPESA_INITIATOR_CERTIFICATE",
                INITIATOR_CERT,
                sandbox(&[
                    ("POCHI_MPESA_INITIATOR_NAME", "pochiapi"),
                    ("POCHI_MPESA_INITIATOR_PASSWORD", "Initiator-pass-1"),
                ]),
                |s| format!("{:?}", mpesa(s).initiator_name()),
            ),
            case(
                "POCHI_MPESA_CHECK_CODES",
                "sandbox",
                vec![
                    ("POCHI_MPESA_MODE", "manual"),
                    ("POCHI_MPESA_CONSUMER_KEY", "key"),
                    ("POCHI_MPESA_CONSUMER_SECRET", "very-secret-value"),
                    ("POCHI_PUBLIC_URL", "https://duka.example.co.ke"),
                    ("POCHI_MPESA_INITIATOR_NAME", "pochiapi"),
                    ("POCHI_MPESA_INITIATOR_PASSWORD", "Initiator-pass-1"),
                    ("POCHI_MPESA_INITIATOR_CERTIFICATE", INITIATOR_CERT),
                ],
                |s| format!("{:?}", s.mpesa.as_ref().map(|_| "checks codes")),
            ),
            case(
                "POCHI_MPESA_CONFIRM_C2B",
                "on",
                vec![("POCHI_MPESA_C2B", "on")],
                |s| s.shop_config().confirm_direct_payments.to_string(),
            ),
            case(
                "POCHI_MPESA_CALLBACK_TOKEN_PREVIOUS",
                "the-previous-callback-token",
                vec![("POCHI_MPESA_CALLBACK_TOKEN", "a-shared-callback-token-01")],
                |s| {
                    s.shop_config()
                        .accepts_callback_token("the-previous-callback-token")
                        .to_string()
                },
            ),
            case("POCHI_MPESA_C2B", "on", vec![], |s| s.c2b.to_string()),
            case(
                "POCHI_CALLBACK_ALLOWED_NETWORKS",
                "196.201.214.0/24",
                vec![],
                |s| format!("{:?}", router(s).callback_networks),
            ),
            case("POCHI_LOGIN_FREE_FAILURES", "off", vec![], |s| {
                format!("{:?}", router(s).lockout.free_failures)
            }),
            case("POCHI_LOGIN_MAX_BACKOFF", "2m", vec![], |s| {
                format!("{:?}", router(s).lockout.max_backoff)
            }),
            case("POCHI_LOGIN_FAILURES_PER_ADDRESS", "off", vec![], |s| {
                format!("{:?}", router(s).lockout.failures_per_client)
            }),
            case("POCHI_LOGIN_FAILURES_OVERALL", "30/40", vec![], |s| {
                format!("{:?}", router(s).lockout.failures_overall)
            }),
            case("POCHI_PHONE_ORDER_RATE_LIMIT", "4/8", vec![], |s| {
                format!("{:?}", router(s).rate_limits.orders_per_phone)
            }),
            case("POCHI_ORDER_EXPIRY", "45m", vec![], |s| {
                format!("{:?}", s.shop_config().unpaid_order_ttl)
            }),
            case("POCHI_UNSTARTED_ORDER_EXPIRY", "5m", vec![], |s| {
                format!("{:?}", s.shop_config().unstarted_order_ttl)
            }),
            case("POCHI_MAX_UNITS_PER_PRODUCT", "off", vec![], |s| {
                format!("{:?}", s.shop_config().max_units_per_product)
            }),
            case("POCHI_OPEN_ORDERS_PER_PHONE", "5", vec![], |s| {
                format!("{:?}", s.shop_config().open_orders_per_phone)
            }),
            case("POCHI_OPEN_ORDERS_PER_ADDRESS", "off", vec![], |s| {
                format!("{:?}", s.shop_config().open_orders_per_client)
            }),
            case("POCHI_PAYMENT_REQUESTS_PER_PHONE", "2/30m", vec![], |s| {
                let config = s.shop_config();
                format!(
                    "{:?} {:?}",
                    config.payment_requests_per_phone, config.payment_request_window
                )
            }),
            case("POCHI_RECONCILE_INTERVAL", "10s", vec![], |s| {
                format!("{:?}", s.reconcile_interval)
            }),
            case("POCHI_EXPIRY_INTERVAL", "10s", vec![], |s| {
                format!("{:?}", s.expiry_interval)
            }),
            case("POCHI_DEMO_PRODUCTS", "false", vec![], |s| {
                s.demo_products.to_string()
            }),
            case("POCHI_PAY_ON_DELIVERY", "true", vec![], |s| {
                s.pay_on_delivery.to_string()
            }),
            case("POCHI_LOG", "debug", vec![], |s| s.log.clone()),
            case("POCHI_LOG_FORMAT", "json", vec![], |s| {
                format!("{:?}", s.log_format)
            }),
            case("POCHI_BACKUP_DIR", "/srv/backups", vec![], |s| {
                format!("{:?}", s.backup_dir)
            }),
            case("POCHI_BACKUP_KEEP_DAYS", "30", vec![], |s| {
                s.backup_keep_days.to_string()
            }),
            case("POCHI_NOTIFY_CUSTOMERS", "off", vec![], |s| {
                format!("{:?}", s.notify.customer_channels)
            }),
            case("POCHI_NOTIFY_OWNER", "log:shopkeeper", vec![], |s| {
                format!("{:?}", s.notify.owner)
            }),
            case("POCHI_NOTIFY_INTERVAL", "5s", vec![], |s| {
                format!("{:?}", s.notify.interval)
            }),
            case(
                "POCHI_NOTIFY_SMS_USERNAME",
                "sandbox",
                vec![("POCHI_NOTIFY_SMS_API_KEY", "key")],
                |s| format!("{:?}", s.notify.sms),
            ),
            case(
                "POCHI_NOTIFY_SMS_API_KEY",
                "key",
                vec![("POCHI_NOTIFY_SMS_USERNAME", "sandbox")],
                |s| format!("{:?}", s.notify.sms.is_some()),
            ),
            case("POCHI_NOTIFY_SMS_SENDER_ID", "DUKA", SMS.to_vec(), |s| {
                format!("{:?}", s.notify.sms.as_ref().map(|s| &s.sender_id))
            }),
            case(
                "POCHI_NOTIFY_SMS_BASE_URL",
                "http://127.0.0.1:9000",
                SMS.to_vec(),
                |s| format!("{:?}", s.notify.sms.as_ref().map(|s| &s.base_url)),
            ),
            case(
                "POCHI_NOTIFY_SMS_CALLBACK_TOKEN",
                "0123456789abcdefXYZ",
                SMS.to_vec(),
                |s| {
                    format!(
                        "{:?}",
                        s.notify.sms.as_ref().map(|s| s.callback_token.is_some())
                    )
                },
            ),
            case(
                "POCHI_NOTIFY_WHATSAPP_TOKEN",
                "token",
                vec![("POCHI_NOTIFY_WHATSAPP_PHONE_NUMBER_ID", "1234")],
                |s| format!("{:?}", s.notify.whatsapp.is_some()),
            ),
            case(
                "POCHI_NOTIFY_WHATSAPP_PHONE_NUMBER_ID",
                "1234",
                vec![("POCHI_NOTIFY_WHATSAPP_TOKEN", "token")],
                |s| {
                    format!(
                        "{:?}",
                        s.notify.whatsapp.as_ref().map(|w| &w.phone_number_id)
                    )
                },
            ),
            case(
                "POCHI_NOTIFY_WHATSAPP_BASE_URL",
                "http://127.0.0.1:9001",
                vec![
                    ("POCHI_NOTIFY_WHATSAPP_TOKEN", "token"),
                    ("POCHI_NOTIFY_WHATSAPP_PHONE_NUMBER_ID", "1234"),
                ],
                |s| format!("{:?}", s.notify.whatsapp.as_ref().map(|w| &w.base_url)),
            ),
            case(
                "POCHI_NOTIFY_SMTP_HOST",
                "smtp.example.com",
                vec![("POCHI_NOTIFY_EMAIL_FROM", "duka@example.com")],
                |s| format!("{:?}", s.notify.smtp.as_ref().map(|m| &m.host)),
            ),
            case(
                "POCHI_NOTIFY_EMAIL_FROM",
                "duka@example.com",
                vec![("POCHI_NOTIFY_SMTP_HOST", "smtp.example.com")],
                |s| format!("{:?}", s.notify.smtp.as_ref().map(|m| &m.from)),
            ),
            case("POCHI_NOTIFY_SMTP_TLS", "tls", SMTP.to_vec(), |s| {
                format!("{:?}", s.notify.smtp.as_ref().map(|m| (m.tls, m.port)))
            }),
            case("POCHI_NOTIFY_SMTP_PORT", "2525", SMTP.to_vec(), |s| {
                format!("{:?}", s.notify.smtp.as_ref().map(|m| m.port))
            }),
            case(
                "POCHI_NOTIFY_SMTP_USERNAME",
                "duka",
                [SMTP, &[("POCHI_NOTIFY_SMTP_PASSWORD", "pw")]].concat(),
                |s| format!("{:?}", s.notify.smtp.as_ref().map(|m| &m.username)),
            ),
            case(
                "POCHI_NOTIFY_SMTP_PASSWORD",
                "pw",
                [SMTP, &[("POCHI_NOTIFY_SMTP_USERNAME", "duka")]].concat(),
                |s| format!("{:?}", s.notify.smtp.as_ref().map(|m| m.password.is_some())),
            ),
            case(
                "POCHI_NOTIFY_WEBHOOK_URL",
                "https://hooks.example.com/pochi",
                vec![("POCHI_NOTIFY_WEBHOOK_SECRET", "0123456789abcdef")],
                |s| format!("{:?}", s.notify.webhook.as_ref().map(|w| &w.url)),
            ),
            case(
                "POCHI_NOTIFY_WEBHOOK_SECRET",
                "0123456789abcdef",
                vec![(
                    "POCHI_NOTIFY_WEBHOOK_URL",
                    "https://hooks.example.com/pochi",
                )],
                |s| format!("{:?}", s.notify.webhook.is_some()),
            ),
            case(
                SIMULATED_IN_PUBLIC,
                "true",
                vec![("POCHI_LISTEN", "0.0.0.0:8080")],
                |s| s.simulated_in_public.to_string(),
            ),
        ]
    }

    #[test]
    fn every_setting_in_env_example_changes_what_it_says() {
        let text = include_str!("../.env.example");
        let documented: std::collections::BTreeSet<&str> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|word| word.starts_with("POCHI_") && word.len() > "POCHI_".len())
            .collect();
        let cases = cases();
        for variable in &documented {
            assert!(
                cases.iter().any(|(v, ..)| v == variable),
                "{variable} is documented in .env.example but no case shows what it changes"
            );
        }
        for (variable, value, needs, effect) in cases {
            assert!(
                documented.contains(variable),
                "{variable} is not in .env.example"
            );
            let without = settings(&needs);
            let mut vars = needs.clone();
            vars.push((variable, value.as_str()));
            let with = settings(&vars).unwrap_or_else(|e| panic!("{variable}={value}: {e}"));
            let changed = effect(&with);
            match without {
                Ok(before) => assert_ne!(
                    effect(&before),
                    changed,
                    "{variable}={value} changes nothing it drives"
                ),
                // Required where it applies: refused without it, naming it.
                Err(err) => assert!(
                    err.variable == variable || err.message.contains(variable),
                    "{variable}: refused for something else without it: {err}"
                ),
            }
        }
    }
}
