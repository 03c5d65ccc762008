//! M-Pesa payments for Pochi through Safaricom's Daraja API: STK push ("M-Pesa Express"),
//! STK query for reconciliation, C2B validation and confirmation, callback parsing, and a
//! faithful fake Daraja server (feature `fake`) for tests and offline demos.
//!
//! [`MpesaProvider`] implements [`pochi_core::PaymentProvider`]: it parses, builds requests,
//! talks HTTP and maps results; [`pochi_core::Shop`] decides what they do to orders. Request
//! bodies come from pure transformer functions; a thin executor (reqwest with rustls, connect
//! and overall timeouts) sends them with a shared, single-flight OAuth token.
//!
//! Callbacks arrive at `{callback_base_url}/api/pay/callbacks/{channel}/{token}` with the
//! channels `stk`, `c2b-validation` and `c2b-confirmation`; the HTTP layer hands them to
//! [`Shop::receive_notification`](pochi_core::Shop::receive_notification).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use pochi_core::{CallbackToken, MemoryStore, Shop, ShopConfig};
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
//! let shop = Shop::builder(Arc::new(MemoryStore::new()))
//!     .provider(Arc::new(MpesaProvider::new(config)?))
//!     .config(ShopConfig::default().with_callback_token(token))
//!     .build()?;
//! # let _ = shop;
//! # Ok(())
//! # }
//! ```
//!
//! Choices where Safaricom's documentation is silent or contradicts itself (see `DARAJA.md`):
//! timestamps are written in East Africa Time (configurable), phone numbers are sent as JSON
//! numbers (configurable), the C2B register version defaults to `v2` (configurable), an STK
//! success callback without `Amount` or `MpesaReceiptNumber` is refused as unreadable, and
//! acknowledgements answer `{"ResultCode":0,"ResultDesc":"Accepted"}`.

pub mod business;
mod client;
pub mod codes;
pub mod config;
pub mod error;
#[cfg(feature = "fake")]
pub mod fake;
pub mod notify;
pub mod payer;
mod provider;
pub mod timestamp;
mod token;
pub mod transform;
#[cfg(test)]
mod vectors_tests;

pub use crate::{
    business::{Business, ShortCode, TransactionType},
    codes::{CodeInfo, ResultCode},
    config::{
        C2bResponseType, C2bVersion, CallbackChannel, ConfigError, Environment, MpesaConfig,
        MpesaConfigBuilder, PhoneFormat,
    },
    error::GatewayError,
    notify::{
        C2bNotice, ParseError, RegisterUrlAnswer, StkCallback, StkMetadata, StkPushAccepted,
        StkQueryAnswer,
    },
    payer::Payer,
    provider::MpesaProvider,
    timestamp::{EAST_AFRICA_TIME, Timestamp},
    token::AccessToken,
    transform::StkPush,
};
