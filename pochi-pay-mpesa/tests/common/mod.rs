//! Shared test set-up: a fake Daraja, a shop with the M-Pesa provider over a given store, and a
//! small host that serves the shop's callback route over a real socket, the way pochi-http
//! will mount it.

#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod scenarios;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use pochi_core::{
    CallbackToken, CheckoutInput, CheckoutItemInput, Currency, Error, ManualClock, Money, Msisdn,
    Notification, Order, OrderNumber, Payment, PaymentId, PaymentKind, PaymentRequest,
    PaymentStatus, ProductInput, Shop, ShopConfig, Store,
};
use pochi_pay_mpesa::{
    CheckedManualCodes, MpesaProvider,
    fake::{FakeDaraja, FakeOptions},
};
use time::macros::datetime;
use tokio::net::TcpListener;

pub const TOKEN: &str = "test-callback-token-01";

/// Everything a scenario needs.
pub struct World {
    pub shop: Shop,
    pub fake: FakeDaraja,
    pub provider: MpesaProvider,
    pub clock: Arc<ManualClock>,
    /// `http://127.0.0.1:PORT` of the callback host.
    pub host_url: String,
}

/// A shop selling one product at KES 1500, paid by M-Pesa through a fake Daraja, over `store`.
pub async fn world(store: Arc<dyn Store>) -> World {
    world_with(store, |_| {}).await
}

pub async fn world_with(store: Arc<dyn Store>, options: impl FnOnce(&mut FakeOptions)) -> World {
    build_world(store, options, false).await
}

/// The same shop, holding C2B payments until Transaction Status confirms them.
pub async fn world_confirming_c2b(store: Arc<dyn Store>) -> World {
    build_world(store, |_| {}, true).await
}

async fn build_world(
    store: Arc<dyn Store>,
    options: impl FnOnce(&mut FakeOptions),
    confirm_c2b: bool,
) -> World {
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 07:00 UTC)));
    let fake = FakeDaraja::builder()
        .configure(options)
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host_url = format!("http://{}", listener.local_addr().unwrap());
    let token = CallbackToken::parse(TOKEN).unwrap();
    let config = fake
        .config_builder()
        .with_callback_base_url(&host_url)
        .with_callback_token(&token)
        .with_c2b(true)
        .with_timeouts(Duration::from_secs(2), Duration::from_secs(5))
        .build()
        .unwrap();
    let provider = MpesaProvider::with_clock(config, clock.clone()).unwrap();
    // M-Pesa first (the default method), and manual codes checked with Transaction Status
    // (method `manual`).
    let shop = Shop::builder(store)
        .provider(Arc::new(provider.clone()))
        .provider(Arc::new(CheckedManualCodes::new(provider.clone())))
        .clock(clock.clone())
        .config(
            ShopConfig::default()
                .with_callback_token(token)
                .with_payment_checks(Duration::from_secs(90), Duration::from_secs(30), 4)
                .with_direct_payments_confirmed(confirm_c2b),
        )
        .build()
        .unwrap();
    let app = Router::new()
        .route("/api/pay/callbacks/{channel}/{token}", post(callback))
        .with_state(shop.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    World {
        shop,
        fake,
        provider,
        clock,
        host_url,
    }
}

/// The callback route as pochi-http mounts it: the shop decides, this only transports.
async fn callback(
    State(shop): State<Shop>,
    Path((channel, token)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let notification = Notification {
        channel,
        token,
        body: body.to_vec(),
        received_at: shop.now(),
    };
    match shop.receive_notification(&notification).await {
        Ok(reply) => (
            StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK),
            [(header::CONTENT_TYPE, reply.content_type)],
            reply.body,
        )
            .into_response(),
        Err(Error::Unauthorized(_)) => StatusCode::UNAUTHORIZED.into_response(),
        Err(Error::InvalidInput { .. }) => StatusCode::BAD_REQUEST.into_response(),
        Err(Error::NotFound { .. }) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

impl World {
    /// Places an order for one unit of a KES 1500 product.
    pub async fn order(&self) -> Order {
        let product = self
            .shop
            .save_product(&ProductInput {
                name: "Kikoi".into(),
                price: "1500".into(),
                stock: Some(10),
                ..ProductInput::default()
            })
            .await
            .unwrap();
        self.shop
            .place_order(
                &CheckoutInput {
                    name: "Wanjiru Kamau".into(),
                    phone: "0708 374 149".into(),
                    county: "nairobi".into(),
                    area: "Westlands".into(),
                    address: "Mpaka Road".into(),
                    notes: None,
                    items: vec![CheckoutItemInput {
                        product_id: product.id.to_string(),
                        quantity: 1,
                    }],
                    language: None,
                },
                None,
            )
            .await
            .unwrap()
            .into_order()
    }

    /// The URL the shop's STK callbacks go to, with the right token.
    pub fn stk_callback_url(&self) -> String {
        format!("{}/api/pay/callbacks/stk/{TOKEN}", self.host_url)
    }

    pub async fn order_now(&self, order: &Order) -> Order {
        self.shop.order(order.number.as_str()).await.unwrap()
    }
}

/// A request for `amount` KES from 0708374149 for order POCHI-7K3M9QXA2B.
pub fn request(amount: &str) -> PaymentRequest {
    PaymentRequest {
        payment_id: PaymentId::parse("2b0e4c1a-6a47-4d8e-9a53-0d9f4c3b1e7a").unwrap(),
        order_number: OrderNumber::parse("POCHI-7K3M9QXA2B").unwrap(),
        account_reference: "7K3M9QXA2B".into(),
        description: "Order payment".into(),
        amount: Money::parse(amount, Currency::Kes).unwrap(),
        phone: Some(Msisdn::parse("0708374149").unwrap()),
        code: None,
    }
}

/// The pending STK attempt the shop would query with `reference`.
pub fn stk_payment(reference: &str) -> Payment {
    Payment {
        id: PaymentId::parse("2b0e4c1a-6a47-4d8e-9a53-0d9f4c3b1e7a").unwrap(),
        order_number: OrderNumber::parse("POCHI-7K3M9QXA2B").unwrap(),
        provider: "mpesa".into(),
        kind: PaymentKind::StkPush,
        amount: Money::parse("10", Currency::Kes).unwrap(),
        phone: None,
        status: PaymentStatus::Pending,
        provider_reference: Some(reference.to_owned()),
        receipt: None,
        payer: None,
        result_code: None,
        result_description: None,
        raw_payload: None,
        idempotency_key: None,
        checks: 0,
        next_check_at: None,
        needs_review: false,
        created_at: datetime!(2026-03-02 07:00 UTC),
        updated_at: datetime!(2026-03-02 07:00 UTC),
    }
}

/// Stamps one test per scenario for a store made by `$store`, an
/// `async fn(test_name: &str) -> Arc<dyn Store>`.
#[allow(unused_macros)]
macro_rules! e2e_tests {
    ($store:path => $($scenario:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $scenario() {
                $crate::common::scenarios::$scenario($store(stringify!($scenario)).await).await;
            }
        )*
    };
}
