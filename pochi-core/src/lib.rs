//! The domain of a Pochi shop, with no I/O: products, orders and their line items, money,
//! the order lifecycle, payments, tracking, customers, settings, statistics and admin auth;
//! the [`Shop`] service that holds every rule; and the traits adapters implement
//! ([`Store`], [`PaymentProvider`], [`EventSink`], [`Authenticator`], [`Clock`],
//! [`IdGenerator`]).
//!
//! Values from outside are parsed once, at the edge, into types that carry their guarantee
//! ([`Money`], [`Msisdn`], [`County`], [`Quantity`], [`OrderNumber`]); every failure is an
//! [`Error`] of a kind with a stable machine code, naming the field that was wrong.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), pochi_core::Error> {
//! use std::sync::Arc;
//! use pochi_core::{CheckoutInput, CheckoutItemInput, ManualCodeProvider, MemoryStore,
//!     OrderStatus, ProductInput, Shop};
//!
//! let shop = Shop::builder(Arc::new(MemoryStore::new()))
//!     .provider(Arc::new(ManualCodeProvider::new()))
//!     .build()?;
//! let kikoi = shop
//!     .save_product(&ProductInput {
//!         name: "Kikoi".into(),
//!         price: "1500".into(),
//!         stock: Some(3),
//!         ..ProductInput::default()
//!     })
//!     .await?;
//! let order = shop
//!     .place_order(
//!         &CheckoutInput {
//!             name: "Wanjiru Kamau".into(),
//!             phone: "0712 345 678".into(),
//!             county: "nairobi".into(),
//!             area: "Westlands".into(),
//!             address: "Mpaka Road".into(),
//!             notes: None,
//!             items: vec![CheckoutItemInput { product_id: kikoi.id.to_string(), quantity: 2 }],
//!             language: None,
//!         },
//!         None,
//!     )
//!     .await?
//!     .into_order();
//! assert_eq!(order.status, OrderStatus::PendingPayment);
//! assert_eq!(order.total.to_string(), "KES 3000.00");
//! assert_eq!(order.customer.phone.as_str(), "254712345678");
//! # Ok(())
//! # }
//! ```

pub mod auth;
pub mod checkout;
pub mod client;
pub mod clock;
pub mod county;
pub mod error;
pub mod events;
pub mod ids;
pub mod language;
pub mod manual;
pub mod memory;
pub mod money;
pub mod mpesa_sms;
pub mod notify;
pub mod on_delivery;
pub mod order;
pub mod page;
pub mod payment;
pub mod phone;
pub mod pricing;
pub mod product;
pub mod provider;
pub mod refund;
pub mod search;
pub mod settings;
pub mod shop;
pub mod stats;
pub mod stock;
pub mod store;
pub mod text;
pub mod tracking;

#[cfg(test)]
pub(crate) mod fixtures;

pub use crate::{
    auth::{AdminUser, AdminUsers, Authenticator, PasswordHash},
    checkout::{Checkout, CheckoutInput, CheckoutItemInput},
    client::ClientNetwork,
    clock::{Clock, ManualClock, SystemClock},
    county::County,
    error::{ConflictReason, Entity, Error, InvalidValue, LimitKind, Result},
    events::{EventSink, NoEvents, ShopEvent},
    ids::{
        AdjustmentId, IdGenerator, OrderNumber, OrderPrefix, PaymentId, ProductId, RandomIds,
        ReviewId, SequentialIds,
    },
    language::Language,
    manual::ManualCodeProvider,
    memory::{MemorySnapshot, MemoryStore},
    money::{Currency, Money},
    notify::{Channel, ChannelKind},
    on_delivery::PayOnDelivery,
    order::{
        Actor, IdempotencyKey, Order, OrderFilter, OrderKey, OrderLine, OrderStatus, PaymentDue,
        Placement, StatusChange, TimelineEntry, Trigger,
    },
    page::{Limit, Page},
    payment::{
        Payment, PaymentKind, PaymentResult, PaymentReview, PaymentStatus, PaymentTarget,
        ProviderResult, Receipt, ReviewOutcome, ReviewReason, ReviewResolution, Settled,
    },
    phone::Msisdn,
    product::{ImageRef, Product, ProductInput, ProductRemoval},
    provider::{
        CALLBACK_ROUTE, DirectPayment, Notice, NoticeReply, Notification, PaymentProvider,
        PaymentRequest, ProviderReply, QueryAnswer, RefundRequest, RejectReason, StartedPayment,
        TransactionFacts, TransactionQuery, TransactionSubject, callback_path,
    },
    refund::{Refund, RefundId, RefundReason, RefundStatus},
    settings::{PublicSettings, SettingsInput, StoreSettings},
    shop::{
        CallbackToken, EXPORT_MAX_ORDERS, ExportedOrder, ManualVerdict, MessageTemplate,
        OrderListInput, PaymentInput, PaymentStart, ReconcileReport, RefundedInput, ReviewDecision,
        Shop, ShopBuilder, ShopConfig,
    },
    stats::{CustomerSummary, DailyFigures, Stats},
    stock::{StockAdjusted, StockAdjustment, StockAdjustmentInput},
    store::{Store, StoreExt},
    text::Quantity,
    tracking::TrackedOrder,
};

#[cfg(any(test, feature = "mocks"))]
pub use crate::{
    clock::MockClock, events::MockEventSink, notify::MockChannel, provider::MockPaymentProvider,
    store::MockStore,
};
