//! `Shop`: the application service. Every use case of the HTTP API and every background job is
//! a method here; the HTTP layer parses and authenticates, the stores persist, and all decisions
//! are made here or in the pure functions this module calls.

mod admin;
mod catalogue;
mod checks;
mod config;
mod jobs;
mod notify;
mod orders;
mod payments;
mod refunds;
mod reviews;

use std::{fmt, sync::Arc};

use time::OffsetDateTime;

pub use self::{
    config::{CallbackToken, ShopConfig},
    jobs::ReconcileReport,
    notify::MessageTemplate,
    orders::{EXPORT_MAX_ORDERS, ExportedOrder, OrderListInput},
    payments::{ManualVerdict, PaymentInput, PaymentStart},
    refunds::RefundedInput,
    reviews::ReviewDecision,
};
use crate::{
    clock::{Clock, SystemClock, to_micros},
    error::{ConflictReason, Entity, Error, Result},
    events::{EventSink, NoEvents, ShopEvent},
    ids::{IdGenerator, RandomIds},
    notify::Notifications,
    provider::PaymentProvider,
    settings::StoreSettings,
    store::Store,
};

/// The shop: catalogue, checkout, payments, tracking, admin and background jobs over a
/// [`Store`] and any number of [`PaymentProvider`]s.
///
/// Cheap to clone (it is a handle); share one per process.
///
/// ```
/// use std::sync::Arc;
/// use pochi_core::{ManualCodeProvider, MemoryStore, Shop};
///
/// let shop = Shop::builder(Arc::new(MemoryStore::new()))
///     .provider(Arc::new(ManualCodeProvider::new()))
///     .build()
///     .expect("a valid configuration");
/// assert_eq!(shop.config().order_prefix.as_str(), "POCHI");
/// ```
#[derive(Clone)]
pub struct Shop {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    providers: Vec<Arc<dyn PaymentProvider>>,
    events: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    config: ShopConfig,
    notifications: Notifications,
    /// Refused callbacks kept for review in the current hour: (the hour's start, how many).
    refused_sample: std::sync::Mutex<(OffsetDateTime, u32)>,
    /// The delivery fees placing an order last read (see [`FEES_TTL`]).
    fees: std::sync::Mutex<FeesCache>,
}

/// How long placing orders reuses the delivery fees it read instead of reading the settings
/// for every order (a round trip and the settings' whole document, on the hottest write path).
/// Fees saved through this shop apply to the next order at once; saved by another server on
/// the same database, within this long. A checkout page showing the fees is older than that.
pub(crate) const FEES_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// The delivery fees last read, when, and a generation that every save of the settings through
/// this shop moves on, so a read that began before a save never caches what it read.
#[derive(Default)]
struct FeesCache {
    generation: u64,
    fees: Option<(std::time::Instant, crate::settings::DeliveryFees)>,
}

impl fmt::Debug for Shop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shop")
            .field("store", &self.inner.store)
            .field(
                "providers",
                &self
                    .inner
                    .providers
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>(),
            )
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Shop`].
#[derive(Debug)]
pub struct ShopBuilder {
    store: Arc<dyn Store>,
    providers: Vec<Arc<dyn PaymentProvider>>,
    events: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    config: ShopConfig,
    notifications: Notifications,
}

impl Shop {
    /// Starts building a shop over `store`, with the system clock, random ids, no event sink,
    /// no payment provider and the default configuration.
    pub fn builder(store: Arc<dyn Store>) -> ShopBuilder {
        ShopBuilder {
            store,
            providers: Vec::new(),
            events: Arc::new(NoEvents),
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds),
            config: ShopConfig::default(),
            notifications: Notifications::none(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ShopConfig {
        &self.inner.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The payment providers, the default one first.
    pub fn providers(&self) -> &[Arc<dyn PaymentProvider>] {
        &self.inner.providers
    }

    /// Checks the store is reachable (for health checks).
    pub async fn health(&self) -> Result<()> {
        self.inner.store.ping().await
    }

    /// The current time, at the precision stores keep.
    pub fn now(&self) -> OffsetDateTime {
        to_micros(self.inner.clock.now())
    }

    /// The saved settings, or the defaults of a new shop.
    pub async fn settings(&self) -> Result<StoreSettings> {
        Ok(self
            .inner
            .store
            .settings()
            .await?
            .unwrap_or_else(|| StoreSettings::defaults(self.inner.config.currency)))
    }

    /// The delivery fees for pricing an order: the settings' as read at most [`FEES_TTL`] ago,
    /// or read now.
    async fn delivery_fees(&self) -> Result<crate::settings::DeliveryFees> {
        let lock = || {
            self.inner
                .fees
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let generation = {
            let cache = lock();
            if let Some((read_at, fees)) = &cache.fees {
                if read_at.elapsed() < FEES_TTL {
                    return Ok(fees.clone());
                }
            }
            cache.generation
        };
        let read_at = std::time::Instant::now();
        let fees = self.settings().await?.delivery;
        let mut cache = lock();
        if cache.generation == generation {
            cache.fees = Some((read_at, fees.clone()));
        }
        Ok(fees)
    }

    /// Forgets the cached delivery fees: the settings were just saved.
    fn forget_fees(&self) {
        let mut cache = self
            .inner
            .fees
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.generation = cache.generation.wrapping_add(1);
        cache.fees = None;
    }

    fn provider(&self, name: Option<&str>) -> Result<&Arc<dyn PaymentProvider>> {
        match name.map(str::trim) {
            None | Some("") => self.inner.providers.first().ok_or_else(|| {
                Error::invalid("method", "this shop has no payment method configured")
            }),
            Some(name) => self
                .inner
                .providers
                .iter()
                .find(|p| p.name() == name)
                .ok_or_else(|| {
                    if name == crate::on_delivery::PayOnDelivery::NAME {
                        return Error::conflict(
                            ConflictReason::PaymentMethodOff,
                            "this shop does not take payment on delivery",
                        );
                    }
                    let names: Vec<&str> = self.inner.providers.iter().map(|p| p.name()).collect();
                    Error::invalid("method", format!("must be one of: {}", names.join(", ")))
                }),
        }
    }

    fn provider_named(&self, name: &str) -> Result<&Arc<dyn PaymentProvider>> {
        self.inner
            .providers
            .iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| Error::not_found(Entity::PaymentProvider, name))
    }

    async fn publish(&self, event: ShopEvent) {
        self.inner.events.publish(&event).await;
    }
}

impl ShopBuilder {
    /// Adds a payment provider. The first one added is the default.
    pub fn provider(mut self, provider: Arc<dyn PaymentProvider>) -> Self {
        self.providers.push(provider);
        self
    }

    /// Sets the event sink.
    pub fn events(mut self, events: Arc<dyn EventSink>) -> Self {
        self.events = events;
        self
    }

    /// Sets the clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the id generator.
    pub fn ids(mut self, ids: Arc<dyn IdGenerator>) -> Self {
        self.ids = ids;
        self
    }

    /// Sets the configuration.
    pub fn config(mut self, config: ShopConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets what the shop sends its messages with, and to whom (the default sends none:
    /// events are marked done by [`Shop::dispatch_notifications`] as they come).
    pub fn notifications(mut self, notifications: Notifications) -> Self {
        self.notifications = notifications;
        self
    }

    /// Builds the shop. Fails if two providers share a name, or if a provider hands out
    /// callback URLs with another token than the shop's. A shop given no callback token
    /// adopts its providers' (so it is configured once, on the provider).
    pub fn build(mut self) -> Result<Shop> {
        for (i, provider) in self.providers.iter().enumerate() {
            if self.providers[..i]
                .iter()
                .any(|p| p.name() == provider.name())
            {
                return Err(Error::invalid(
                    "providers",
                    format!("two payment providers are named {}", provider.name()),
                ));
            }
        }
        for provider in &self.providers {
            let Some(token) = provider.callback_token() else {
                continue;
            };
            match &self.config.callback_token {
                None => self.config.callback_token = Some(token),
                Some(shop) if shop.matches(token.expose()) => {}
                Some(_) => {
                    return Err(Error::invalid(
                        "callback_token",
                        format!(
                            "payment provider {} builds its callback URLs with another token \
                             than the shop's: its callbacks would all be refused",
                            provider.name()
                        ),
                    ));
                }
            }
        }
        Ok(Shop {
            inner: Arc::new(Inner {
                store: self.store,
                providers: self.providers,
                events: self.events,
                clock: self.clock,
                ids: self.ids,
                config: self.config,
                notifications: self.notifications,
                refused_sample: std::sync::Mutex::new((OffsetDateTime::UNIX_EPOCH, 0)),
                fees: std::sync::Mutex::new(FeesCache::default()),
            }),
        })
    }
}

#[cfg(test)]
mod tests;
