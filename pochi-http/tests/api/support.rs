//! A shop over the memory store with the manual-code provider and a small push provider, the
//! router over it, and helpers to call it in process (`oneshot`) or over a socket.

use std::{net::SocketAddr, sync::Arc};

use async_trait::async_trait;
use axum::{
    Router,
    body::Body,
    extract::connect_info::MockConnectInfo,
    http::{HeaderMap, Method, Request, StatusCode, header},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use pochi_core::{
    AdminUsers, CallbackToken, CheckoutInput, Currency, Error, ManualClock, ManualCodeProvider,
    MemoryStore, Money, NoEvents, Notice, NoticeReply, Notification, PasswordHash, Payment,
    PaymentKind, PaymentProvider, PaymentRequest, PaymentStatus, Product, ProductInput,
    ProviderReply, ProviderResult, QueryAnswer, Receipt, Result, SequentialIds, Shop, ShopConfig,
    StartedPayment,
};
use pochi_http::{FsMediaStore, Metrics, RateLimits, RouterConfig, RouterConfigBuilder};
use serde_json::{Value, json};
use tempfile::TempDir;
use time::macros::datetime;
use tower::ServiceExt;

pub const TOKEN: &str = "cb-token-0123456789abcdef";
pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// A push provider for callback tests: reads `{"reference", "resultCode", "receipt"?,
/// "amount"?}` on channel `stk` and acknowledges the way Daraja expects.
#[derive(Debug)]
pub struct TestPush;

#[async_trait]
impl PaymentProvider for TestPush {
    fn name(&self) -> &str {
        "push"
    }

    fn kind(&self) -> PaymentKind {
        PaymentKind::StkPush
    }

    fn precision(&self) -> u32 {
        0
    }

    fn handles_channel(&self, channel: &str) -> bool {
        channel == "stk"
    }

    async fn start(&self, request: &PaymentRequest) -> Result<StartedPayment> {
        Ok(StartedPayment {
            reference: Some(format!("ws_CO_{}", request.payment_id)),
            status: PaymentStatus::Pending,
            customer_message: Some("Check your phone".to_owned()),
        })
    }

    fn interpret(&self, notification: &Notification) -> Result<Vec<Notice>> {
        let body: Value = serde_json::from_slice(&notification.body)
            .map_err(|_| Error::invalid("body", "is not JSON"))?;
        let reference = body["reference"]
            .as_str()
            .ok_or_else(|| Error::invalid("reference", "is missing"))?;
        let ok = body["resultCode"].as_str() == Some("0");
        let result = ProviderResult {
            status: Some(if ok {
                PaymentStatus::Succeeded
            } else {
                PaymentStatus::Failed
            }),
            amount: body["amount"]
                .as_str()
                .map(|a| Money::parse(a, Currency::Kes).map_err(|e| e.at("amount")))
                .transpose()?,
            receipt: body["receipt"]
                .as_str()
                .map(|r| Receipt::parse(r).map_err(|e| e.at("receipt")))
                .transpose()?,
            result_code: body["resultCode"].as_str().map(str::to_owned),
            ..ProviderResult::default()
        };
        Ok(vec![Notice::AttemptResult {
            reference: reference.to_owned(),
            result,
        }])
    }

    async fn query(&self, _payment: &Payment) -> Result<QueryAnswer> {
        Ok(QueryAnswer::Pending)
    }

    fn reply(&self, _channel: &str, _reply: NoticeReply) -> ProviderReply {
        ProviderReply::json(r#"{"ResultCode":0,"ResultDesc":"Accepted"}"#)
    }
}

/// The shop and its router.
pub struct TestApp {
    pub shop: Shop,
    pub router: Router,
    pub clock: Arc<ManualClock>,
    pub media_dir: TempDir,
}

/// The admins: one user with a cheap bcrypt hash (cost 4) so tests stay quick.
pub fn admins() -> AdminUsers {
    let hash = bcrypt::hash(ADMIN_PASSWORD, 4).unwrap();
    AdminUsers::new()
        .with_user(ADMIN_USER, PasswordHash::parse(&hash).unwrap())
        .unwrap()
}

/// A shop with the router's default configuration, but no rate limits (so tests that send
/// many requests are not limited; the limit tests set their own).
pub fn app() -> TestApp {
    app_with(|config| config.rate_limits(RateLimits::disabled()))
}

/// A shop whose router configuration `configure` adjusts.
pub fn app_with(configure: impl FnOnce(RouterConfigBuilder) -> RouterConfigBuilder) -> TestApp {
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 09:00:00 UTC)));
    let metrics = Arc::new(Metrics::new());
    let shop = Shop::builder(Arc::new(MemoryStore::new()))
        .provider(Arc::new(ManualCodeProvider::new()))
        .provider(Arc::new(TestPush))
        .clock(clock.clone())
        .ids(Arc::new(SequentialIds::new()))
        .events(metrics.sink(Arc::new(NoEvents)))
        .config(ShopConfig::default().with_callback_token(CallbackToken::parse(TOKEN).unwrap()))
        .build()
        .unwrap();
    let media_dir = tempfile::tempdir().unwrap();
    let config = configure(
        RouterConfig::builder(Arc::new(admins()))
            .media_store(Arc::new(FsMediaStore::new(media_dir.path())))
            .metrics(metrics.clone()),
    )
    .build()
    .unwrap();
    let router = pochi_http::router(shop.clone(), config);
    TestApp {
        shop,
        router,
        clock,
        media_dir,
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {:?} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The error code of a JSON error body.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.json()))
            .to_owned()
    }

    /// The field of a JSON error body.
    pub fn field(&self) -> Option<String> {
        self.json()["error"]["field"].as_str().map(str::to_owned)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A request builder with the common cases.
pub struct Call {
    request: axum::http::request::Builder,
    body: Body,
}

pub fn call(method: Method, uri: &str) -> Call {
    Call {
        request: Request::builder().method(method).uri(uri),
        body: Body::empty(),
    }
}

pub fn get(uri: &str) -> Call {
    call(Method::GET, uri)
}

pub fn post(uri: &str, body: Value) -> Call {
    call(Method::POST, uri).json(body)
}

pub fn put(uri: &str, body: Value) -> Call {
    call(Method::PUT, uri).json(body)
}

impl Call {
    pub fn json(self, body: Value) -> Self {
        self.raw("application/json", body.to_string())
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Body>) -> Self {
        self.request = self.request.header(header::CONTENT_TYPE, content_type);
        self.body = body.into();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    pub fn basic(self, user: &str, password: &str) -> Self {
        let encoded = STANDARD.encode(format!("{user}:{password}"));
        self.header("authorization", &format!("Basic {encoded}"))
    }

    pub fn admin(self) -> Self {
        self.basic(ADMIN_USER, ADMIN_PASSWORD)
    }

    /// Sends it through `router` in process, from 127.0.0.1.
    pub async fn send(self, router: &Router) -> Reply {
        self.send_from(router, SocketAddr::from(([127, 0, 0, 1], 40000)))
            .await
    }

    /// Sends it as if from `peer`.
    pub async fn send_from(self, router: &Router, peer: SocketAddr) -> Reply {
        let request = self.request.body(self.body).unwrap();
        let response = router
            .clone()
            .layer(MockConnectInfo(peer))
            .oneshot(request)
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.to_vec(),
        }
    }
}

/// A product, added through the shop.
pub async fn product(shop: &Shop, name: &str, price: &str, stock: Option<i64>) -> Product {
    shop.save_product(&ProductInput {
        name: name.into(),
        price: price.into(),
        stock,
        description: Some(format!("{name}, hand made")),
        ..ProductInput::default()
    })
    .await
    .unwrap()
}

/// A checkout body for `quantity` of `product`.
pub fn checkout(product: &Product, quantity: i64) -> Value {
    json!({
        "name": "Wanjiru Kamau",
        "phone": "0712 345 678",
        "county": "nairobi",
        "area": "Westlands",
        "address": "Mpaka Road, blue gate",
        "items": [{ "productId": product.id.to_string(), "quantity": quantity }],
    })
}

/// An order placed through the shop; its number.
pub async fn order(shop: &Shop, product: &Product, quantity: i64) -> String {
    let input: CheckoutInput = serde_json::from_value(checkout(product, quantity)).unwrap();
    shop.place_order(&input, None)
        .await
        .unwrap()
        .into_order()
        .number
        .to_string()
}

/// Snapshots `value` as JSON with ids, order numbers, cursors and times redacted.
pub fn snapshot(name: &str, value: &Value) {
    let mut settings = insta::Settings::clone_current();
    settings.set_sort_maps(true);
    settings.set_prepend_module_to_snapshot(false);
    for key in [
        "id",
        "productId",
        "paymentId",
        "number",
        "orderNumber",
        "nextCursor",
        "providerReference",
    ] {
        settings.add_redaction(&format!(".**.{key}"), unless_null(format!("[{key}]")));
    }
    for key in [
        "createdAt",
        "updatedAt",
        "at",
        "placedAt",
        "paidAt",
        "generatedAt",
        "timestamp",
        "firstOrderAt",
        "lastOrderAt",
        "nextCheckAt",
        "uptime",
    ] {
        settings.add_redaction(&format!(".**.{key}"), unless_null("[time]".to_owned()));
    }
    settings.bind(|| insta::assert_json_snapshot!(name, value));
}

/// Redacts a value that is present, keeping `null` visible.
fn unless_null(replacement: String) -> insta::internals::Redaction {
    insta::dynamic_redaction(move |value, _path| {
        if value.is_nil() {
            value
        } else {
            replacement.as_str().into()
        }
    })
}
