//! The background jobs the library runs: a stalled payment provider holds up reconciliation
//! only, never expiry, shutdown stops both loops, and a backlog of messages drains in one
//! dispatcher tick.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use pochi_core::notify::{
    Channel, ChannelKind, DispatchPolicy, Notifications, NotifySetup, OutgoingMessage, SendError,
    SentMessage,
};
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
    let product = kikoi(&shop, 5).await;
    (shop, product)
}

/// Stocks `stock` kikois in `shop`; their product id.
async fn kikoi(shop: &Shop, stock: i64) -> String {
    shop.save_product(&ProductInput {
        name: "Kikoi".into(),
        price: "1500".into(),
        stock: Some(stock),
        ..ProductInput::default()
    })
    .await
    .unwrap()
    .id
    .to_string()
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

/// An SMS channel that accepts every message and counts them.
#[derive(Debug, Default)]
struct Counting {
    sent: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl Channel for Counting {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    async fn send(
        &self,
        _message: &OutgoingMessage,
    ) -> std::result::Result<SentMessage, SendError> {
        self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(SentMessage { provider_ref: None })
    }
}

#[tokio::test]
async fn a_backlog_of_messages_leaves_in_one_tick_not_a_batch_per_interval() {
    // Given a shop sending an SMS per order, two to a dispatcher run, and five orders waiting
    let channel = Arc::new(Counting::default());
    let setup = NotifySetup {
        public_base_url: "https://duka.example".into(),
        customer_channels: vec![ChannelKind::Sms],
        ..NotifySetup::default()
    };
    let shop = Shop::builder(Arc::new(MemoryStore::new()))
        .provider(Arc::new(Stalled::default()))
        .notifications(
            Notifications::new(setup, vec![channel.clone()])
                .with_policy(DispatchPolicy::default().with_batch(2)),
        )
        .build()
        .unwrap();
    let product = kikoi(&shop, 10).await;
    for i in 0..5 {
        let mut input = checkout(&product);
        input.phone = format!("07123456{i:02}");
        shop.place_order(&input, None).await.unwrap();
    }

    // When the dispatcher's first tick runs (the next is an hour away)
    let (stop, stopped) = oneshot::channel::<()>();
    let running = jobs(
        shop,
        JobIntervals::default()
            .with_reconcile(Duration::from_secs(3600))
            .with_expiry(Duration::from_secs(3600))
            .with_notify(Duration::from_secs(3600)),
        async move {
            let _ = stopped.await;
        },
    );
    let mut runs = running.runs();
    let after = tokio::time::timeout(Duration::from_secs(10), runs.wait_for(|r| r.notify >= 1))
        .await
        .expect("the dispatcher ran")
        .unwrap()
        .to_owned();

    // Then all five messages left in it, not the first batch of two
    assert_eq!(after.messages_sent, 5);
    assert_eq!(channel.sent.load(std::sync::atomic::Ordering::SeqCst), 5);
    assert_eq!(after.failures, 0);
    drop(stop);
}
