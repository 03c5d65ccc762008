//! M-Pesa payments for Pochi through Safaricom's Daraja API: STK push ("M-Pesa Express"),
//! STK query for reconciliation, C2B validation and confirmation, callback parsing, the
//! initiator APIs a shop needs for refunds and checks (Reversal, B2C, Transaction Status), and
//! a faithful fake Daraja server (feature `fake`) for tests and offline demos.
//!
//! [`MpesaProvider`] implements [`pochi_core::PaymentProvider`]: it parses, builds requests,
//! talks HTTP and maps results; [`pochi_core::Shop`] decides what they do to orders. Request
//! bodies come from pure transformer functions; a thin executor (reqwest with rustls, connect
//! and overall timeouts) sends them with a shared, single-flight OAuth token.
//!
//! # What the crate exports
//!
//! - [`MpesaProvider`]: the provider ([`MpesaProvider::new`], [`MpesaProvider::with_clock`]),
//!   used through the [`PaymentProvider`](pochi_core::PaymentProvider) trait, plus
//!   [`MpesaProvider::register_c2b_urls`], the one-time set-up of direct (C2B) payments, which
//!   answers a [`C2bRegistration`].
//! - [`MpesaConfig`], built by [`MpesaConfigBuilder`] (in code, from `MPESA_*` variables with
//!   [`MpesaConfigBuilder::from_env`], or with serde), which refuses a bad setting with a
//!   [`ConfigError`]; the choices it takes: [`Environment`], [`Business`] with its
//!   [`ShortCode`]s (and the [`TransactionType`] that follows from it), [`C2bVersion`],
//!   [`C2bResponseType`], [`PhoneFormat`], and the [`CallbackChannel`]s Daraja posts to.
//! - With an initiator configured ([`MpesaConfigBuilder::with_initiator`] and
//!   [`MpesaConfigBuilder::with_initiator_certificate`], or `MPESA_INITIATOR_NAME`,
//!   `MPESA_INITIATOR_PASSWORD`, `MPESA_INITIATOR_CERTIFICATE`):
//!   [`MpesaProvider::request_reversal`], [`MpesaProvider::request_b2c`] and
//!   [`MpesaProvider::request_transaction_status`] (about a [`StatusSubject`]), each answering
//!   an [`InitiatorAccepted`] or an [`InitiatorError`]. Their results arrive later on the
//!   [`InitiatorChannel`]s and are read by [`parse_initiator_result`] into an
//!   [`InitiatorResult`] with its [`ResultParameters`]. The `SecurityCredential` (the initiator
//!   password RSA-encrypted, PKCS#1 v1.5, under Safaricom's certificate) is made afresh for
//!   each request and never leaves the crate.
//! - [`GatewayError`]: what went wrong talking to Daraja. The shop sees it as the source of a
//!   [`pochi_core::Error::PaymentProvider`].
//! - `fake` (feature `fake`): the fake Daraja server and its controls.
//!
//! Daraja's own shapes (request bodies, answers, callbacks, timestamps and passwords, the
//! access token, the result-code catalogue) stay inside the crate: a shop only ever sees
//! `pochi-core`'s types.
//!
//! Callbacks arrive at `{callback_base_url}/api/pay/callbacks/{channel}/{token}` with the
//! channels `stk`, `c2b-validation` and `c2b-confirmation`; the HTTP layer hands them to
//! [`Shop::receive_notification`](pochi_core::Shop::receive_notification). Initiator results
//! use the same route with the channels `reversal-result`, `reversal-timeout`, `b2c-result`,
//! `b2c-timeout`, `status-result` and `status-timeout`. With an initiator the provider sends
//! refunds itself ([`PaymentProvider::send_refund`](pochi_core::PaymentProvider::send_refund):
//! a reversal of a whole payment, B2C for part of one) and reads the reversal and B2C results
//! into [`Notice::RefundResult`](pochi_core::Notice::RefundResult)s. It also checks
//! transactions ([`PaymentProvider::check_transaction`](pochi_core::PaymentProvider::check_transaction):
//! Transaction Status, with the payment's id as the request's `Occasion`) and reads their
//! results into [`Notice::TransactionStatus`](pochi_core::Notice::TransactionStatus)es: the
//! shop fills in the receipt of a push settled by an STK query, and, with
//! [`CheckedManualCodes`], confirms the codes customers type after paying by hand.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use pochi_core::{CallbackToken, MemoryStore, Shop};
//! use pochi_pay_mpesa::{Environment, MpesaConfig, MpesaProvider};
//!
//! let token = CallbackToken::parse("k3J9x-Q2mP7vL0aZ4tYw")?;
//! let config = MpesaConfig::builder()
//!     .with_environment(Environment::Sandbox)
//!     .with_public_sandbox_paybill()
//!     .with_credentials("consumer-key", "consumer-secret")
//!     .with_callback_base_url("https://duka.example.co.ke")
//!     .with_callback_token(&token)
//!     .build()?;
//! let provider = MpesaProvider::new(config)?;
//! let shop = Shop::builder(Arc::new(MemoryStore::new()))
//!     .provider(Arc::new(provider.clone()))
//!     .build()?; // the shop adopts the provider's callback token
//!
//! // Once per shortcode: have Daraja send payments made to the paybill directly to the shop.
//! let registration = provider.register_c2b_urls().await?;
//! println!("C2B URLs registered ({})", registration.conversation_id);
//! # let _ = shop;
//! # Ok(())
//! # }
//! ```
//!
//! Choices where Safaricom's documentation is silent or contradicts itself:
//! timestamps are written in East Africa Time (configurable), phone numbers are sent as JSON
//! numbers (configurable), the C2B register version defaults to `v2` (configurable), an STK
//! success callback without `Amount` or `MpesaReceiptNumber` is refused as unreadable, and
//! acknowledgements answer `{"ResultCode":0,"ResultDesc":"Accepted"}`. For initiator requests:
//! a reversal's `ReceiverParty` and a status query's `PartyA` are the account that received the
//! money (the paybill, or the till number), B2C pays from the business shortcode with
//! `BusinessPayment`, and the queue-timeout body (undocumented) is read as the `Result` shape
//! public integrations report, with `ResultCode` optional.

mod business;
mod client;
mod codes;
mod config;
mod error;
#[cfg(feature = "fake")]
pub mod fake;
#[cfg(test)]
mod fuzz_tests;
mod initiator;
mod initiator_result;
mod manual;
mod notify;
mod payer;
mod provider;
mod timestamp;
mod token;
mod transform;
#[cfg(test)]
mod vectors_tests;

pub use crate::{
    business::{Business, ShortCode, TransactionType},
    config::{
        C2bResponseType, C2bVersion, CallbackChannel, ConfigError, Environment, InitiatorChannel,
        MpesaConfig, MpesaConfigBuilder, PhoneFormat,
    },
    error::{GatewayError, InitiatorError},
    initiator_result::{
        InitiatorAccepted, InitiatorResult, ResultParameters, parse_initiator_result,
    },
    manual::CheckedManualCodes,
    provider::{C2bRegistration, MpesaProvider},
    transform::initiator::StatusSubject,
};
