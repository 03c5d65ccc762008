//! A fake Daraja server, in process on `127.0.0.1`, speaking Daraja's JSON (feature `fake`).
//!
//! It implements what a shop uses, with Daraja's rules and error envelopes:
//! - OAuth (`GET /oauth/v1/generate`): Basic credentials, tokens that expire, and each new
//!   token invalidates the previous one (as Safaricom documents);
//! - STK push (`processrequest`): bearer token, content type, every field rule (`Invalid
//!   Amount`, `Invalid PhoneNumber`, `Invalid CallBackURL` with the forbidden words,
//!   `Invalid Remarks`...), `Merchant does not exist`, `Wrong credentials` (password and
//!   timestamp must agree), `Unable to lock subscriber` while a push to the phone is open;
//!   a till push sent as a paybill one is accepted and later fails with 2028;
//! - STK query: "The transaction is being processed" while pending, then the result;
//! - C2B register URL (the configured version only; the other answers `401.003.01`);
//! - Reversal, B2C (`v3`, and `v1`) and Transaction Status: bearer token, field rules
//!   (`Bad Request - Invalid <Field>`), the `SecurityCredential` decrypted with the test key
//!   and checked against the initiator name and password (a wrong one is accepted, then fails
//!   with 2001 "The initiator information is invalid.", as Daraja does), a repeated B2C
//!   `OriginatorConversationID` refused; then the result is posted to the `ResultURL` (or the
//!   `QueueTimeOutURL`) in the background. Reversal and Transaction Status know the receipts
//!   of the payments the fake made (paid pushes, C2B confirmations, B2C payments); a receipt
//!   reverses once (`R000001` after), an unknown one fails with `R000002`.
//!   [`FakeDaraja::script_initiator`] scripts the next request: an error envelope, no answer,
//!   a queue timeout, or a failing result code.
//!
//! A test or a demo drives it: list pending pushes, [resolve](FakeDaraja::resolve) one with an
//! outcome (the real callback JSON is POSTed to the push's `CallBackURL` before the call
//! returns), deliver it twice, concurrently, late ([`FakeDaraja::redeliver`]) or to a wrong
//! token; send C2B validations and confirmations; or turn on [auto mode](FakeDaraja::set_auto).
//! Nothing sleeps to synchronise: every control returns after its HTTP exchange completed, and
//! [`FakeDaraja::wait_for_pushes`] / [`FakeDaraja::wait_until_resolved`] wait for events.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use pochi_core::CallbackToken;
//! use pochi_pay_mpesa::{MpesaProvider, fake::{FakeDaraja, PushOutcome}};
//!
//! let fake = FakeDaraja::start().await?;
//! let token = CallbackToken::parse("k3J9x-Q2mP7vL0aZ4tYw")?;
//! let config = fake
//!     .config_builder()
//!     .with_callback_base_url("http://127.0.0.1:8080")
//!     .with_callback_token(&token)
//!     .build()?;
//! let provider = MpesaProvider::new(config)?;
//! // ... start a payment through the shop, then:
//! let push = fake.wait_for_pushes(1).await.remove(0);
//! let resolution = fake.resolve(&push.checkout_request_id, PushOutcome::Paid).await?;
//! assert_eq!(resolution.responses[0].status, 200);
//! # let _ = provider;
//! # Ok(())
//! # }
//! ```

mod callbacks;
mod initiator;
mod server;
mod state;
mod types;

use std::{fmt, sync::Arc, time::Duration};

use pochi_core::{Clock, SystemClock};
use serde_json::Value;
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use self::state::Shared;
pub use self::{
    callbacks::{PaidDetails, stk_callback_json},
    types::{
        AutoResolve, C2bDelivery, C2bPayment, CallbackResponse, CallbackTarget, Delivery,
        FAKE_CONSUMER_KEY, FAKE_CONSUMER_SECRET, FAKE_INITIATOR_CERTIFICATE_PEM,
        FAKE_INITIATOR_NAME, FAKE_INITIATOR_PASSWORD, FakeError, FakeOptions, InitiatorDelivery,
        InitiatorKind, InitiatorRecord, InitiatorScript, KnownPayment, PushOutcome, PushRecord,
        PushState, RegisteredUrls, Resolution,
    },
};
use crate::config::{Environment, MpesaConfigBuilder};

/// Builds a [`FakeDaraja`].
#[derive(Debug, Default)]
pub struct FakeDarajaBuilder {
    options: FakeOptions,
    clock: Option<Arc<dyn Clock>>,
}

impl FakeDarajaBuilder {
    /// Sets the options.
    pub fn options(mut self, options: FakeOptions) -> Self {
        self.options = options;
        self
    }

    /// Changes the options.
    pub fn configure(mut self, change: impl FnOnce(&mut FakeOptions)) -> Self {
        change(&mut self.options);
        self
    }

    /// Reads time (token expiry, timestamps) from `clock`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Binds `127.0.0.1:0` and serves in the background until the last handle is dropped.
    pub async fn start(self) -> std::io::Result<FakeDaraja> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared::new(
            self.options,
            self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            http,
            initiator::private_key()?,
        ));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let app = server::router(shared.clone());
        let task = tokio::spawn(async move {
            let shutdown = async move {
                // Ends when `stop` is set or dropped.
                while stopped.changed().await.is_ok() && !*stopped.borrow() {}
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await;
        });
        Ok(FakeDaraja {
            shared,
            base_url: format!("http://{addr}"),
            server: Arc::new(Server { stop, task }),
        })
    }
}

struct Server {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.task.abort();
    }
}

/// A running fake Daraja server and its controls. Cheap to clone; the server stops when the
/// last clone is dropped.
#[derive(Clone)]
pub struct FakeDaraja {
    shared: Arc<Shared>,
    base_url: String,
    server: Arc<Server>,
}

impl fmt::Debug for FakeDaraja {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeDaraja")
            .field("base_url", &self.base_url)
            .field("options", &self.shared.options)
            .finish_non_exhaustive()
    }
}

impl FakeDaraja {
    /// A fake with the default options and the system clock.
    pub async fn start() -> std::io::Result<FakeDaraja> {
        FakeDaraja::builder().start().await
    }

    /// Starts building a fake.
    pub fn builder() -> FakeDarajaBuilder {
        FakeDarajaBuilder::default()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The options it runs with.
    pub fn options(&self) -> &FakeOptions {
        &self.shared.options
    }

    /// A configuration builder for this fake: environment, account, passkey, credentials and
    /// initiator (name, password, and the test certificate whose key the fake holds) set; add
    /// the callback base URL and token.
    pub fn config_builder(&self) -> MpesaConfigBuilder {
        let options = &self.shared.options;
        let mut builder = MpesaConfigBuilder::default()
            .with_environment(Environment::Custom(self.base_url.clone()))
            .with_business(options.business.clone());
        builder.passkey = Some(options.passkey.clone());
        builder.consumer_key = Some(options.consumer_key.clone());
        builder.consumer_secret = Some(options.consumer_secret.clone());
        builder.initiator_name = Some(options.initiator_name.clone());
        builder.initiator_password = Some(options.initiator_password.clone());
        builder.with_initiator_certificate_pem(FAKE_INITIATOR_CERTIFICATE_PEM)
    }

    /// How many OAuth requests arrived (failed ones included).
    pub fn token_fetches(&self) -> u64 {
        self.shared.read(|s| s.token_fetches)
    }

    /// Invalidates the current token (as when another instance fetched a new one).
    pub fn revoke_token(&self) {
        self.shared.with(|s| s.token = None);
    }

    /// Refuses every token until called with `false`.
    pub fn refuse_all_tokens(&self, refuse: bool) {
        self.shared.with(|s| s.refuse_all_tokens = refuse);
    }

    /// Fails the next `count` OAuth requests with a 500 envelope.
    pub fn fail_next_token_fetches(&self, count: u32) {
        self.shared.with(|s| s.fail_token_fetches = count);
    }

    /// Every push received, oldest first.
    pub fn pushes(&self) -> Vec<PushRecord> {
        self.shared.read(|s| s.pushes.clone())
    }

    /// Pushes waiting for an outcome.
    pub fn pending_pushes(&self) -> Vec<PushRecord> {
        self.shared.read(|s| {
            s.pushes
                .iter()
                .filter(|p| p.state == PushState::Pending)
                .cloned()
                .collect()
        })
    }

    /// A push by `CheckoutRequestID`.
    pub fn push(&self, checkout_request_id: &str) -> Option<PushRecord> {
        self.shared.read(|s| s.push(checkout_request_id).cloned())
    }

    /// Waits until at least `count` pushes arrived, and returns all of them.
    pub async fn wait_for_pushes(&self, count: usize) -> Vec<PushRecord> {
        self.shared
            .wait_for(|s| (s.pushes.len() >= count).then(|| s.pushes.clone()))
            .await
    }

    /// Waits until the push has a result (for auto mode), and returns it.
    pub async fn wait_until_resolved(&self, checkout_request_id: &str) -> PushRecord {
        self.shared
            .wait_for(|s| {
                s.push(checkout_request_id)
                    .filter(|p| matches!(p.state, PushState::Resolved { .. }))
                    .cloned()
            })
            .await
    }

    /// Waits until `count` STK callbacks in all were delivered (answered or not) since the
    /// start; for auto mode.
    pub async fn wait_for_callbacks(&self, count: u64) {
        self.shared
            .wait_for(|s| (s.callbacks_delivered >= count).then_some(()))
            .await;
    }

    /// Gives a push its outcome and delivers the callback once; returns after the shop
    /// answered.
    pub async fn resolve(
        &self,
        checkout_request_id: &str,
        outcome: PushOutcome,
    ) -> Result<Resolution, FakeError> {
        self.resolve_with(checkout_request_id, outcome, Delivery::once())
            .await
    }

    /// Gives a push its outcome and delivers the callback as `delivery` says.
    pub async fn resolve_with(
        &self,
        checkout_request_id: &str,
        outcome: PushOutcome,
        delivery: Delivery,
    ) -> Result<Resolution, FakeError> {
        callbacks::resolve(&self.shared, checkout_request_id, outcome, &delivery).await
    }

    /// Delivers a resolved push's callback again (a late or duplicate callback).
    pub async fn redeliver(
        &self,
        checkout_request_id: &str,
        delivery: Delivery,
    ) -> Result<Vec<CallbackResponse>, FakeError> {
        let push = self
            .push(checkout_request_id)
            .ok_or_else(|| FakeError::UnknownPush(checkout_request_id.to_owned()))?;
        let callback = callbacks::callback_of(&push)
            .ok_or_else(|| FakeError::NotResolved(checkout_request_id.to_owned()))?;
        callbacks::deliver(&self.shared, &push.callback_url, &callback, &delivery).await
    }

    /// POSTs any JSON to `url` (to forge a callback) and returns the answer.
    pub async fn post_json(&self, url: &str, body: &Value) -> Result<CallbackResponse, FakeError> {
        callbacks::post(&self.shared.http, url, body).await
    }

    /// Resolves every later push with `auto.outcome` after `auto.after`; `None` stops it.
    pub fn set_auto(&self, auto: Option<AutoResolve>) {
        self.shared.with(|s| s.auto = auto);
    }

    /// The URLs registered through the C2B register API.
    pub fn registered_urls(&self) -> Option<RegisteredUrls> {
        self.shared.read(|s| s.registered.clone())
    }

    /// Sends a C2B validation to the registered validation URL.
    pub async fn send_c2b_validation(
        &self,
        payment: &C2bPayment,
    ) -> Result<C2bDelivery, FakeError> {
        let url = self
            .registered_urls()
            .ok_or(FakeError::NotRegistered)?
            .validation_url;
        self.send_c2b_validation_to(&url, payment).await
    }

    /// Sends a C2B confirmation to the registered confirmation URL.
    pub async fn send_c2b_confirmation(
        &self,
        payment: &C2bPayment,
    ) -> Result<C2bDelivery, FakeError> {
        let url = self
            .registered_urls()
            .ok_or(FakeError::NotRegistered)?
            .confirmation_url;
        self.send_c2b_confirmation_to(&url, payment).await
    }

    /// Sends a C2B validation to `url`.
    pub async fn send_c2b_validation_to(
        &self,
        url: &str,
        payment: &C2bPayment,
    ) -> Result<C2bDelivery, FakeError> {
        callbacks::send_c2b(&self.shared, url, payment, false).await
    }

    /// Sends a C2B confirmation to `url`.
    pub async fn send_c2b_confirmation_to(
        &self,
        url: &str,
        payment: &C2bPayment,
    ) -> Result<C2bDelivery, FakeError> {
        callbacks::send_c2b(&self.shared, url, payment, true).await
    }

    /// Sets what the next initiator request (Reversal, B2C, Transaction Status) meets; each
    /// call queues one script, used by one request, in order.
    pub fn script_initiator(&self, script: InitiatorScript) {
        self.shared.with(|s| s.initiator_scripts.push_back(script));
    }

    /// Every initiator request accepted, oldest first.
    pub fn initiator_requests(&self) -> Vec<InitiatorRecord> {
        self.shared.read(|s| s.initiator_requests.clone())
    }

    /// Waits until at least `count` initiator results (or queue timeouts) were posted, and
    /// returns all of them, oldest first.
    pub async fn wait_for_initiator_deliveries(&self, count: usize) -> Vec<InitiatorDelivery> {
        self.shared
            .wait_for(|s| {
                (s.initiator_deliveries.len() >= count).then(|| s.initiator_deliveries.clone())
            })
            .await
    }

    /// A customer pays the shop from the M-Pesa menu (its till or paybill): M-Pesa records the
    /// transaction (Transaction Status finds it) and the shop hears nothing. Returns the
    /// transaction's code, as the customer's confirmation SMS shows it.
    pub fn pay_by_hand(&self, amount: u32, phone: &str) -> String {
        let now = self.shared.now();
        self.shared.with(|s| {
            let receipt = s.receipt();
            s.remember_payment(&receipt, amount, phone, now);
            receipt
        })
    }

    /// A payment the fake knows by its receipt.
    pub fn known_payment(&self, receipt: &str) -> Option<KnownPayment> {
        self.shared.read(|s| s.payments.get(receipt).cloned())
    }

    /// Stops serving (also done when the last handle is dropped).
    pub fn shutdown(&self) {
        let _ = self.server.stop.send(true);
    }
}
