//! When the database is down or broken: health answers 503, routes answer 503 or a generic
//! 500, and nothing of the backend's error text reaches the client.

use std::sync::{
    Arc,
    atomic::{AtomicU8, Ordering},
};

use async_trait::async_trait;
use axum::http::StatusCode;
use pochi_core::store::{ExpiryCutoff, NewOrder, PaymentInsert, PushLimit};
use pochi_core::{
    CustomerSummary, Error, MemoryStore, Msisdn, Order, OrderFilter, OrderKey, OrderNumber,
    Payment, PaymentId, PaymentResult, PaymentReview, PaymentStatus, PaymentTarget, Placement,
    Product, ProductId, ProductRemoval, Result, Settled, Shop, StatusChange, StockAdjusted,
    StockAdjustment, Store, StoreSettings, TrackedOrder,
    notify::{
        ChannelKind, Delivery, DeliveryClaim, DeliveryFilter, DeliveryId, DeliveryKey,
        DeliveryOutcome, NewDelivery, OutboxEvent, OutboxId,
    },
    page::{RefundKey, ReviewKey},
    payment::PaymentCheck,
    product::ProductKey,
    refund::{Refund, RefundChange, RefundStatus, RefundTarget},
    stats::{CustomerQuery, StatsFigures, StatsQuery},
    stock::{AdjustmentKey, NewStockAdjustment},
};
use time::OffsetDateTime;

use crate::support::*;

const UP: u8 = 0;
const UNREACHABLE: u8 = 1;
const BROKEN: u8 = 2;
const PANICKING: u8 = 3;

/// The memory store behind a switch: up, unreachable (`Unavailable`), broken (`Backend` with
/// the kind of text a driver puts in its errors) or panicking (a bug in an adapter).
#[derive(Debug, Default)]
struct Outage {
    inner: MemoryStore,
    state: AtomicU8,
}

impl Outage {
    fn check(&self) -> Result<()> {
        match self.state.load(Ordering::SeqCst) {
            UNREACHABLE => Err(Error::unavailable(
                "database unreachable",
                std::io::Error::other("connect to postgres://shop:s3cret@db:5432 refused"),
            )),
            BROKEN => Err(Error::backend(
                "postgres store",
                std::io::Error::other("syntax error at or near \"SELCT\" in SELCT * FROM orders"),
            )),
            PANICKING => panic!("a bug in the store adapter"),
            _ => Ok(()),
        }
    }
}

/// Implements `Store` for `Outage`: each method checks the switch, then asks the memory store.
macro_rules! guarded {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {
        #[async_trait]
        impl Store for Outage {
            $(async fn $name(&self, $($arg: $ty),*) -> Result<$out> {
                self.check()?;
                self.inner.$name($($arg),*).await
            })*
        }
    };
}

guarded! {
        insert_product(product: &Product) -> ();
        update_product(product: &Product, expected_version: Option<u64>) -> Product;
        adjust_stock(adjustment: &NewStockAdjustment) -> StockAdjusted;
        stock_adjustments(product: ProductId, after: Option<AdjustmentKey>, limit: usize) -> Vec<StockAdjustment>;
        product(id: ProductId) -> Option<Product>;
        products_by_ids(ids: &[ProductId]) -> Vec<Product>;
        list_products(active_only: bool, after: Option<ProductKey>, limit: usize) -> Vec<Product>;
        remove_product(id: ProductId, at: OffsetDateTime) -> ProductRemoval;
        place_order(order: &NewOrder) -> Placement;
        order(number: &OrderNumber) -> Option<Order>;
        tracked_order(number: &OrderNumber) -> Option<TrackedOrder>;
        list_orders(filter: &OrderFilter, after: Option<OrderKey>, limit: usize) -> Vec<Order>;
        move_order(number: &OrderNumber, change: &StatusChange) -> Order;
        expire_orders(cutoff: &ExpiryCutoff, limit: usize) -> Vec<Order>;
        insert_payment(payment: &Payment, limit: Option<PushLimit>) -> PaymentInsert;
        mark_payment_started(id: PaymentId, reference: Option<String>, status: PaymentStatus, at: OffsetDateTime) -> Payment;
        settle_payment(target: &PaymentTarget, result: &PaymentResult) -> Settled;
        record_direct_payment(payment: &Payment, result: &PaymentResult) -> Settled;
        payment(id: PaymentId) -> Option<Payment>;
        payment_by_reference(provider: &str, reference: &str) -> Option<Payment>;
        payments_for_order(number: &OrderNumber) -> Vec<Payment>;
        payments_due_for_check(now: OffsetDateTime, limit: usize) -> Vec<Payment>;
        schedule_payment_check(id: PaymentId, check: &PaymentCheck) -> ();
        record_review(review: &PaymentReview) -> ();
        list_reviews(after: Option<ReviewKey>, limit: usize) -> Vec<PaymentReview>;
        review(id: pochi_core::ReviewId) -> Option<PaymentReview>;
        resolve_review(id: pochi_core::ReviewId, resolution: &pochi_core::ReviewResolution) -> PaymentReview;
        refund(id: pochi_core::RefundId) -> Option<Refund>;
        refunds_for_order(number: &OrderNumber) -> Vec<Refund>;
        list_refunds(status: Option<RefundStatus>, after: Option<RefundKey>, limit: usize) -> Vec<Refund>;
        change_refund(target: &RefundTarget, change: &RefundChange) -> Refund;
        refund_totals() -> Vec<(RefundStatus, pochi_core::Money)>;
        settings() -> Option<StoreSettings>;
        save_settings(settings: &StoreSettings) -> ();
        stats(query: &StatsQuery) -> StatsFigures;
        customers(query: &CustomerQuery) -> Vec<CustomerSummary>;
        ping() -> ();
        pending_outbox_events(limit: usize) -> Vec<OutboxEvent>;
        expand_outbox_event(id: OutboxId, deliveries: &[NewDelivery], at: OffsetDateTime) -> bool;
        claim_deliveries(claim: &DeliveryClaim) -> Vec<Delivery>;
        finish_delivery(id: DeliveryId, worker: &str, outcome: &DeliveryOutcome) -> bool;
        list_deliveries(filter: &DeliveryFilter, after: Option<DeliveryKey>, limit: usize) -> Vec<Delivery>;
        retry_delivery(id: DeliveryId, at: OffsetDateTime) -> Delivery;
        set_opt_out(phone: &Msisdn, channel: ChannelKind, opted_out: bool, at: OffsetDateTime) -> ();
        opted_out(phone: &Msisdn, channel: ChannelKind) -> bool;
}

fn router_over(store: Arc<Outage>) -> axum::Router {
    let shop = Shop::builder(store).build().unwrap();
    let config = pochi_http::RouterConfig::builder(Arc::new(admins()))
        .build()
        .unwrap();
    pochi_http::router(shop, config)
}

#[tokio::test]
async fn health_answers_503_while_the_database_is_unreachable() {
    let store = Arc::new(Outage::default());
    let router = router_over(store.clone());
    assert_eq!(
        get("/api/health").send(&router).await.status,
        StatusCode::OK
    );
    store.state.store(UNREACHABLE, Ordering::SeqCst);
    let reply = get("/api/health").send(&router).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.json()["status"], "unhealthy");
    assert_eq!(reply.json()["database"], "disconnected");
    assert!(!String::from_utf8_lossy(&reply.body).contains("s3cret"));
    store.state.store(UP, Ordering::SeqCst);
    assert_eq!(
        get("/api/health").send(&router).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_unreachable_database_is_a_503_with_retry_after() {
    let store = Arc::new(Outage::default());
    let router = router_over(store.clone());
    store.state.store(UNREACHABLE, Ordering::SeqCst);
    let reply = get("/api/products").send(&router).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.code(), "temporarily_unavailable");
    assert_eq!(reply.header("retry-after"), Some("5"));
    assert!(!String::from_utf8_lossy(&reply.body).contains("s3cret"));
}

#[tokio::test]
async fn a_broken_backend_is_a_generic_500() {
    let store = Arc::new(Outage::default());
    let router = router_over(store.clone());
    store.state.store(BROKEN, Ordering::SeqCst);
    let reply = get("/api/track/POCHI-ZZZZZZZZZZ").send(&router).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.code(), "internal_error");
    let text = String::from_utf8_lossy(&reply.body);
    assert!(
        !text.contains("SELCT") && !text.contains("postgres"),
        "{text}"
    );
    snapshot("error_internal", &reply.json());
}

#[tokio::test]
async fn a_handler_that_panics_is_a_generic_500_and_the_router_serves_on() {
    let store = Arc::new(Outage::default());
    let router = router_over(store.clone());
    store.state.store(PANICKING, Ordering::SeqCst);
    let reply = get("/api/track/POCHI-ZZZZZZZZZZ").send(&router).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.code(), "internal_error");
    assert!(!String::from_utf8_lossy(&reply.body).contains("a bug"));
    store.state.store(UP, Ordering::SeqCst);
    let reply = get("/api/track/POCHI-ZZZZZZZZZZ").send(&router).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
