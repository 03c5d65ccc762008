//! Notification channels for Pochi: the ways a shop's messages reach its customers and its
//! owner, each a [`pochi_core::notify::Channel`].
//!
//! - [`AfricasTalkingSms`]: SMS through Africa's Talking, the SMS gateway most Kenyan
//!   businesses use.
//! - [`WhatsAppCloud`]: WhatsApp template messages through Meta's WhatsApp Cloud API.
//! - [`SmtpEmail`]: e-mail over SMTP (lettre, rustls).
//! - [`SignedWebhook`]: a JSON POST signed with HMAC-SHA256 ([`webhook::verify_signature`]
//!   checks one), for anything else.
//!
//! [`inbound`] reads Africa's Talking's callbacks (a customer's STOP). With the `fake`
//! feature, `fake` holds a fake of each service speaking its wire format over a real
//! socket, with its error answers, for tests and offline demos.
//!
//! Every channel maps the service's answers to [`SendError`](pochi_core::notify::SendError):
//! transient (a timeout, rate limits, an empty balance) or permanent (an invalid number,
//! refused credentials), with a stable code and a text free of phone numbers, addresses and
//! message texts. None logs them; `Debug` never shows a key, token or password.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use pochi_core::notify::{ChannelKind, Notifications, NotifySetup, OwnerContact};
//! use pochi_notify::{AfricasTalkingConfig, AfricasTalkingSms};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sms = AfricasTalkingSms::new(
//!     AfricasTalkingConfig::live("my-app", "atsk_...").with_sender_id("DUKA"),
//! )?;
//! let setup = NotifySetup {
//!     public_base_url: "https://duka.example".into(),
//!     customer_channels: vec![ChannelKind::Sms],
//!     owner_contacts: vec![OwnerContact { channel: ChannelKind::Sms, to: "+254712345678".into() }],
//!     ..NotifySetup::default()
//! };
//! let notifications = Notifications::new(setup, vec![Arc::new(sms)]);
//! // Shop::builder(store).notifications(notifications) ...
//! # let _ = notifications;
//! # Ok(())
//! # }
//! ```

mod africastalking;
mod http;
pub mod inbound;
mod smtp;
pub mod webhook;
mod whatsapp;

#[cfg(feature = "fake")]
pub mod fake;

pub use self::{
    africastalking::{
        AfricasTalkingConfig, AfricasTalkingSms, LIVE_BASE_URL as AFRICAS_TALKING_LIVE,
        SANDBOX_BASE_URL as AFRICAS_TALKING_SANDBOX,
    },
    http::BuildError,
    smtp::{SmtpConfig, SmtpEmail, SmtpSecurity},
    webhook::{SignedWebhook, WebhookConfig},
    whatsapp::{WhatsAppCloud, WhatsAppConfig},
};
