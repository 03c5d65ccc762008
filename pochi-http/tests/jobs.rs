//! The background jobs the library runs: a stalled payment provider holds up reconciliation
//! only, never expiry, and shutdown stops both loops.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use pochi_core::{
    CheckoutInput, ManualClock, MemoryStore, Notice, NoticeReply, Notification, Payment,
    PaymentInput, PaymentKind, PaymentProvider, PaymentRequest, PaymentStatus, ProductInput,
    ProviderReply, QueryAnswer, Result, Shop, ShopConfig, StartedPayment,
};
use pochi_http::{JobIntervals, jobs};
use time::macros::datetime;
use tokio::sync::{Notify, oneshot};

/// A push provider whose status query never answers (a payment provider that hangs).
#[derive(Debug, Default)]
struct Stalled {
    queried: Notify,
}

#[async_trait]
impl PaymentProvider for Stalled {
    fn name(&self) -> &str {
        "stalled"
    }
    fn kind(&self) -> PaymentKind {
        PaymentKind::StkPush
    }
    fn precision(&self) -> u32 {
        0
    }
    fn handles_channel(&self, _channel: &str) -> bool {
        false
    }
    async fn start(&self, request: &PaymentRequest) -> Result<StartedPayment> {
        Ok(StartedPayment {
            reference: Some(format!("ref-{}", request.payment_id)),
            status: PaymentStatus::Pending,
            customer_message: None,
        })
    }
    fn interpret(&self, _notification: &Notification) -> Result<Vec<Notice>> {
        Ok(Vec::new())
    }
    async fn query(&self, _payment: &Payment) -> Result<QueryAnswer> {
        self.queried.notify_one();
        std::future::pending().await
    }
    fn reply(&self, _channel: &str, _reply: NoticeReply) -> ProviderReply {
        ProviderReply::json("{}")
    }
}

fn checkout(product: &str) -> CheckoutInput {
    serde_json::from_value(serde_json::json!({
        "name": "Wanjiru Kamau",
        "phone": "0712 345 678",
        "county": "nairobi",
        "area": "Westlands",
        "address": "Mpaka Road, blue gate",
        "items": [{ "productId": product, "quantity": 1 }],
    }))
    .unwrap()
}

async fn shop_with(provider: Arc<Stalled>, clock: Arc<ManualClock>) -> (Shop, String) {
    let shop = Shop::builder(Arc::new(MemoryStore::new()))
        .provider(provider)
        .clock(clock)
        .config(ShopConfig::default().with_unpaid_order_ttl(Duration::from_secs(30 * 60)))
        .build()
        .unwrap();
    let product = shop
        .save_product(&ProductInput {
            name: "Kikoi".into(),
            price: "1500".into(),
            stock: Some(5),
            ..ProductInput::default()
        })
        .await
        .unwrap();
    (shop, product.id.to_string())
}

#[tokio::test]
async fn a_stalled_payment_provider_does_not_hold_up_expiry() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 09:00:00 UTC)));
    let provider = Arc::new(Stalled::default());
    let (shop, product) = shop_with(provider.clone(), clock.clone()).await;
    // An order with a payment attempt that reconciliation will ask the provider about.
    let paying = shop.place_order(&checkout(&product), None).await.unwrap();
    let input = PaymentInput {
        order_number: paying.order().number.to_string(),
        method: None,
        phone: None,
        code: None,
    };
    shop.start_payment(&input, None).await.unwrap();
    let unpaid = shop.place_order(&checkout(&product), None).await.unwrap();
    clock.advance(Duration::from_secs(5 * 60));

    let (stop, stopped) = oneshot::channel::<()>();
    let running = jobs(
        shop.clone(),
        JobIntervals::default()
            .with_reconcile(Duration::from_millis(20))
            .with_expiry(Duration::from_millis(20)),
        async move {
            let _ = stopped.await;
        },
    );
    // Reconciliation is now stuck in the provider's query, for good.
    tokio::time::timeout(Duration::from_secs(10), provider.queried.notified())
        .await
        .expect("reconciliation asked the provider");
    // Only now is the unpaid order due: an expiry run after this point must cancel it.
    clock.advance(Duration::from_secs(30 * 60));

    let mut runs = running.runs();
    let after = tokio::time::timeout(
        Duration::from_secs(10),
        runs.wait_for(|r| r.orders_expired >= 1),
    )
    .await
    .expect("expiry ran while reconciliation was stuck")
    .unwrap()
    .to_owned();
    assert_eq!(
        after.reconcile, 0,
        "the stuck reconciliation never finished"
    );
    let order = shop
        .order(&unpaid.order().number.to_string())
        .await
        .unwrap();
    assert_eq!(order.status.as_str(), "cancelled");
    drop(stop);
}

#[tokio::test]
async fn shutdown_stops_both_jobs_after_their_runs() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 09:00:00 UTC)));
    let (shop, _) = shop_with(Arc::new(Stalled::default()), clock).await;
    let (stop, stopped) = oneshot::channel::<()>();
    let running = jobs(
        shop,
        JobIntervals::default()
            .with_reconcile(Duration::from_millis(10))
            .with_expiry(Duration::from_millis(10)),
        async move {
            let _ = stopped.await;
        },
    );
    let mut runs = running.runs();
    tokio::time::timeout(
        Duration::from_secs(10),
        runs.wait_for(|r| r.reconcile >= 2 && r.expiry >= 2),
    )
    .await
    .expect("both jobs ran repeatedly")
    .unwrap();

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running.stopped())
        .await
        .expect("the jobs stopped");
    assert!(
        runs.has_changed().is_err(),
        "no job can report a run any more"
    );
    assert_eq!(runs.borrow().failures, 0);
}

#[tokio::test]
async fn shutdown_drops_a_stalled_run_after_its_grace_period() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 09:00:00 UTC)));
    let provider = Arc::new(Stalled::default());
    let (shop, product) = shop_with(provider.clone(), clock.clone()).await;
    let paying = shop.place_order(&checkout(&product), None).await.unwrap();
    let input = PaymentInput {
        order_number: paying.order().number.to_string(),
        method: None,
        phone: None,
        code: None,
    };
    shop.start_payment(&input, None).await.unwrap();
    clock.advance(Duration::from_secs(5 * 60));
    let (stop, stopped) = oneshot::channel::<()>();
    let running = jobs(
        shop,
        JobIntervals::default()
            .with_reconcile(Duration::ZERO)
            .with_expiry(Duration::ZERO)
            .with_shutdown_grace(Duration::from_millis(50)),
        async move {
            let _ = stopped.await;
        },
    );
    tokio::time::timeout(Duration::from_secs(10), provider.queried.notified())
        .await
        .expect("reconciliation asked the provider");

    stop.send(()).unwrap();
    let mut runs = running.runs();
    tokio::time::timeout(Duration::from_secs(10), running.stopped())
        .await
        .expect("shutdown did not wait for the stalled provider for good");
    assert!(runs.has_changed().is_err(), "both jobs have stopped");
    assert!(
        runs.borrow_and_update().expiry >= 1,
        "a zero interval still runs the job"
    );
}
