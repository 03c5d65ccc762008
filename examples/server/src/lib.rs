//! The reference Pochi shop: a complete M-Pesa shop (API, storefront, admin dashboard,
//! background jobs) configured from `POCHI_*` variables, and what a developer reads to see
//! how the crates fit together.
//!
//! With no configuration, [`start`] runs a shop that needs nothing else: a SQLite file in the
//! data directory (created and migrated), a simulated M-Pesa (the fake Daraja in process,
//! reached over real HTTP both ways, with the outcome chosen on the payment page), a few demo
//! products on first start, and an admin login generated once.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = pochi_server::Settings::from_vars([
//!     ("POCHI_DATA_DIR", "/tmp/shop"),
//!     ("POCHI_LISTEN", "127.0.0.1:0"),
//! ])?;
//! let running = pochi_server::start(settings).await?;
//! println!("shop at {}", running.base_url());
//! if let Some((user, password)) = running.generated_admin() {
//!     println!("admin login: {user} / {password}");
//! }
//! running.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # What runs
//!
//! - one port serving the pages ([`assets`]), the simulator routes (simulated mode only) and
//!   everything else through `pochi_http::router` (the API, callbacks, media, metrics);
//! - the shop's background jobs ([`pochi_http::jobs()`]: payment reconciliation and unpaid-order
//!   expiry, each at its interval);
//! - [`Running::shutdown`]: stop accepting, finish the requests in flight and the job run in
//!   progress, stop the simulator, then close the SQLite pool (its WAL is checkpointed into
//!   the database file) or drop the server store's pool.
//!
//! # Choices
//!
//! - The generated admin's password is never stored: only its argon2 hash, in
//!   `DATA_DIR/admin.htpasswd`. Lost it? Delete that file and restart, or configure admins.
//! - The callback token is read from `POCHI_MPESA_CALLBACK_TOKEN` or generated once into
//!   `DATA_DIR/callback-token`, so callbacks for pushes sent before a restart still arrive.
//! - Each request runs in a task of its own, so a client that hangs up does not cancel it
//!   halfway through a database transaction (sqlx's `begin` is not cancel-safe): the API's
//!   requests by `pochi_http::router` itself, the simulator's by `detach.rs`.
//! - Demo products are added once, on the first start of a shop whose catalogue is empty
//!   (`DATA_DIR/demo-products-added` marks it), never again after the owner removes them.

mod activation;
pub mod assets;
pub mod backup;
mod database;
mod datadir;
mod demo;
mod detach;
mod mpesa_setup;
mod notify;
mod payments;
mod settings;
mod simulator;
pub mod texts;

use std::{fmt, io, net::SocketAddr, path::PathBuf, sync::Arc};

use pochi_core::{Authenticator, NoEvents, PayOnDelivery, Shop};
use pochi_http::{FsMediaStore, JobIntervals, Metrics};
use pochi_pay_mpesa::fake::FakeDaraja;
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use crate::settings::Admins;
pub use crate::{
    activation::take_passed_listener,
    mpesa_setup::{C2bRegistered, register_c2b},
    settings::{ConfigError, LogFormat, MpesaMode, Settings, VARIABLES},
};
pub use pochi_http::JobRuns;

/// Why the server could not start (or stop cleanly). Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A setting was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error("the {backend} database could not be opened or migrated: {source}")]
    Database {
        /// `sqlite`, `postgres` or `mysql`.
        backend: &'static str,
        /// What the store said.
        #[source]
        source: pochi_core::Error,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr} (POCHI_LISTEN): {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A file in the data directory could not be read or written.
    #[error("{}: {message}", path.display())]
    DataFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The listening socket the server was handed cannot be served.
    #[error("{} cannot be used: {source}", activation::PASSED)]
    PassedListener {
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The M-Pesa provider could not be set up.
    #[error("M-Pesa could not be set up: {0}")]
    Mpesa(String),
    /// A notification channel (`POCHI_NOTIFY_*`) could not be set up.
    #[error(transparent)]
    Notify(#[from] notify::ChannelError),
    /// The shop refused its configuration or could not prepare its data.
    #[error("the shop could not start: {0}")]
    Shop(#[source] pochi_core::Error),
    /// Another I/O failure.
    #[error("{context}: {source}")]
    Io {
        /// What the server was doing.
        context: &'static str,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
}

/// A running server. Stop it with [`Running::shutdown`]; dropping it stops nothing.
pub struct Running {
    local_addr: SocketAddr,
    base_url: String,
    generated_admin: Option<(String, String)>,
    data_dir: PathBuf,
    stop: watch::Sender<bool>,
    server: JoinHandle<io::Result<()>>,
    jobs: pochi_http::Jobs,
    shop: Shop,
    simulator: Option<FakeDaraja>,
    database: database::OpenStore,
    /// The shared lock on the data directory (see `datadir::lock`), held while running.
    _lock: std::fs::File,
}

impl fmt::Debug for Running {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The generated password is shown once, by the caller, never by Debug.
        f.debug_struct("Running")
            .field("local_addr", &self.local_addr)
            .field(
                "generated_admin",
                &self.generated_admin.as_ref().map(|_| "(redacted)"),
            )
            .field("simulated_mpesa", &self.simulator.is_some())
            .finish_non_exhaustive()
    }
}

impl Running {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://127.0.0.1:PORT` (the loopback address when listening on all interfaces).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The generated admin login on first start (None when admins were configured).
    pub fn generated_admin(&self) -> Option<(String, String)> {
        self.generated_admin.clone()
    }

    /// Writes the generated admin login (if one was generated on this start) to
    /// `DATA_DIR/admin-password`, readable by the service user only, for a server whose output
    /// goes to a journal or log file rather than a person. Returns the file's path.
    pub fn save_generated_admin(&self) -> Result<Option<PathBuf>, StartError> {
        match &self.generated_admin {
            Some((user, password)) => {
                datadir::save_admin_password(&self.data_dir, user, password).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Whether M-Pesa is simulated (the `/api/simulator` routes are mounted).
    pub fn simulated_mpesa(&self) -> bool {
        self.simulator.is_some()
    }

    /// The shop the server runs.
    pub fn shop(&self) -> &Shop {
        &self.shop
    }

    /// Counts of background job runs; `wait_for` on it to await a run.
    pub fn job_runs(&self) -> watch::Receiver<JobRuns> {
        self.jobs.runs()
    }

    /// Stops accepting connections, finishes the requests in flight (for at most
    /// `POCHI_SHUTDOWN_GRACE`) and the job run in progress, stops the simulated M-Pesa and releases the store.
    pub async fn shutdown(self) -> Result<(), StartError> {
        let _ = self.stop.send(true);
        let served = self.server.await;
        self.jobs.stopped().await;
        if let Some(fake) = &self.simulator {
            fake.shutdown();
        }
        drop(self.shop);
        self.database.close().await;
        match served {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(StartError::Io {
                context: "serving",
                source,
            }),
            Err(join) => Err(StartError::Io {
                context: "serving",
                source: io::Error::other(join),
            }),
        }
    }
}

/// Starts the shop: opens and migrates the database, prepares the admin login and callback
/// token, starts the payment provider (and the simulator), adds demo products on first start,
/// binds the listen address and serves until [`Running::shutdown`].
pub async fn start(settings: Settings) -> Result<Running, StartError> {
    start_listening(settings, None).await
}

/// Starts the shop as [`start`] does, serving on `listener` (a socket systemd passed, see
/// [`take_passed_listener`]) instead of binding `POCHI_LISTEN`. Its address is checked as
/// `POCHI_LISTEN` would be (simulated M-Pesa refuses one other machines can reach). The server
/// closes only its own descriptor on shutdown: connections waiting in the socket's backlog
/// stay there for the next process.
pub async fn start_on(
    settings: Settings,
    listener: std::net::TcpListener,
) -> Result<Running, StartError> {
    let passed = |source| StartError::PassedListener { source };
    let addr = listener.local_addr().map_err(passed)?;
    settings.check_passed_listener(addr)?;
    // tokio drives the socket with epoll: accepting must not block. systemd shares the
    // socket's open file description and does not mind.
    listener.set_nonblocking(true).map_err(passed)?;
    start_listening(settings, Some(listener)).await
}

async fn start_listening(
    settings: Settings,
    passed: Option<std::net::TcpListener>,
) -> Result<Running, StartError> {
    datadir::create_dirs(&settings.data_dir, &settings.media_dir)?;
    let lock = datadir::lock(&settings.data_dir, false)
        .map_err(|source| StartError::Io {
            context: "locking the data directory",
            source,
        })?
        .ok_or_else(|| StartError::DataFile {
            path: settings.data_dir.join(datadir::LOCK_FILE),
            message:
                "a restore is running on this data directory; start the server when it has finished"
                    .to_owned(),
        })?;
    let database = database::open(&settings.database, &settings.data_dir).await?;
    let (authenticator, generated_admin): (Arc<dyn Authenticator>, _) = match &settings.admins {
        Admins::Configured(users) => (Arc::new(users.clone()), None),
        Admins::Generated => {
            let (users, generated) = datadir::generated_admin(&settings.data_dir).await?;
            (Arc::new(users), generated)
        }
    };
    let token = match &settings.callback_token {
        Some(token) => token.clone(),
        None => datadir::callback_token(&settings.data_dir)?,
    };

    let (listener, listener_from) = match passed {
        Some(passed) => (
            TcpListener::from_std(passed)
                .map_err(|source| StartError::PassedListener { source })?,
            activation::PASSED,
        ),
        None => (
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: settings.listen,
                    source,
                })?,
            "POCHI_LISTEN",
        ),
    };
    let local_addr = listener.local_addr().map_err(|source| StartError::Io {
        context: "reading the listening address",
        source,
    })?;
    let base_url = format!("http://{}", loopback(local_addr));
    let (provider, simulator) = payments::provider(&settings, &base_url, &token).await?;

    let metrics = Arc::new(Metrics::new());
    let mut shop = Shop::builder(database.store.clone()).provider(provider);
    if settings.pay_on_delivery {
        // After M-Pesa, which stays the default method.
        shop = shop.provider(Arc::new(PayOnDelivery));
    }
    let shop = shop
        .events(metrics.sink(Arc::new(NoEvents)))
        // The callback token was given to the M-Pesa provider; the shop adopts it from there.
        .config(settings.shop_config())
        .notifications(notify::notifications(&settings, &base_url)?)
        .build()
        .map_err(StartError::Shop)?;
    if settings.demo_products {
        let added = demo::add_on_first_start(&shop, &settings.data_dir).await?;
        if added > 0 {
            tracing::info!(count = added, "demo products added");
        }
    }

    let config = settings
        .router_config(authenticator)
        .map_err(StartError::Shop)?;
    let mut config = config;
    config.media = Some(Arc::new(FsMediaStore::new(&settings.media_dir)));
    config.metrics = metrics;
    let api = pochi_http::router(shop.clone(), config);
    if settings.texts.overridden() > 0 {
        tracing::info!(
            count = settings.texts.overridden(),
            "storefront texts overridden"
        );
    }
    let mut app = assets::router(&settings.texts);
    if let Some(fake) = &simulator {
        // The simulator's requests run to completion even if their client hangs up (see
        // `detach`); the API's do so inside `pochi_http::router`.
        app = app.merge(
            simulator::router(shop.clone(), fake.clone(), settings.simulated_in_public)
                .layer(axum::middleware::from_fn(detach::run_to_completion)),
        );
    }
    if let Some(callbacks) = notify::callback_router(&settings, shop.clone()) {
        app = app.merge(callbacks);
    }
    // Everything the pages and the simulator do not serve is the API's (JSON 404 included).
    let app = app.fallback_service(api);

    let (stop, stopped) = watch::channel(false);
    let server = {
        let mut stopped = stopped.clone();
        tokio::spawn(pochi_http::serve_with(
            listener,
            app,
            settings.serve.clone(),
            async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            },
        ))
    };
    let jobs = pochi_http::jobs(
        shop.clone(),
        JobIntervals::default()
            .with_reconcile(settings.reconcile_interval)
            .with_expiry(settings.expiry_interval)
            .with_notify(settings.notify.interval),
        async move {
            let mut stopped = stopped;
            let _ = stopped.wait_for(|stop| *stop).await;
        },
    );
    tracing::info!(%local_addr, listener = listener_from, mpesa = ?settings.mpesa_mode, database = settings.database.kind(), "listening");
    Ok(Running {
        local_addr,
        base_url,
        generated_admin,
        data_dir: settings.data_dir.clone(),
        stop,
        server,
        jobs,
        shop,
        simulator,
        database,
        _lock: lock,
    })
}

/// The address to reach a listener on from this machine.
fn loopback(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(v4) if v4.ip().is_unspecified() => {
            SocketAddr::from(([127, 0, 0, 1], v4.port()))
        }
        SocketAddr::V6(v6) if v6.ip().is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, v6.port()))
        }
        other => other,
    }
}
