//! The notification dispatcher over the in-memory store: messages made from the outbox, sent
//! once, retried with a growing pause, given up on and retried by an admin, skipped for a
//! customer who opted out, and shared by two dispatchers without a message sent twice.

use std::collections::VecDeque;

use async_trait::async_trait;

use super::*;
use crate::notify::{
    Audience, ChannelKind, DeliveryState, DispatchPolicy, Notifications, NotifySetup,
    OutgoingMessage, OwnerContact, SendError, SentMessage,
};

/// A channel that records what it is given and answers from a script (then: accepted).
#[derive(Debug, Default)]
struct Scripted {
    kind: Option<ChannelKind>,
    answers: Mutex<VecDeque<Result<SentMessage, SendError>>>,
    sent: Mutex<Vec<OutgoingMessage>>,
}

impl Scripted {
    fn sms(answers: Vec<Result<SentMessage, SendError>>) -> Arc<Self> {
        Arc::new(Scripted {
            kind: Some(ChannelKind::Sms),
            answers: Mutex::new(answers.into()),
            sent: Mutex::new(Vec::new()),
        })
    }

    fn sent(&self) -> Vec<OutgoingMessage> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait]
impl crate::notify::Channel for Scripted {
    fn kind(&self) -> ChannelKind {
        self.kind.unwrap_or(ChannelKind::Sms)
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SentMessage, SendError> {
        self.sent.lock().unwrap().push(message.clone());
        self.answers.lock().unwrap().pop_front().unwrap_or_else(|| {
            Ok(SentMessage {
                provider_ref: Some(format!("ref-{}", message.id)),
            })
        })
    }
}

fn transient() -> Result<SentMessage, SendError> {
    Err(SendError::Transient {
        code: "rate_limited",
        detail: "slow down".into(),
        retry_after: None,
    })
}

fn setup(owner: bool) -> NotifySetup {
    NotifySetup {
        public_base_url: "https://duka.example".into(),
        customer_channels: vec![ChannelKind::Sms],
        owner_contacts: if owner {
            vec![OwnerContact {
                channel: ChannelKind::Sms,
                to: "254700000001".into(),
            }]
        } else {
            Vec::new()
        },
        ..NotifySetup::default()
    }
}

/// A shop on `store` that sends through `channel` with this setup and policy.
fn dispatching_shop(
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    channel: Arc<Scripted>,
    setup: NotifySetup,
    policy: DispatchPolicy,
) -> Shop {
    let mut provider = push_provider();
    accept_pushes(&mut provider);
    Shop::builder(store)
        .provider(Arc::new(provider))
        .clock(clock)
        .ids(Arc::new(SequentialIds::new()))
        .config(ShopConfig::default().with_callback_token(CallbackToken::parse(TOKEN).unwrap()))
        .notifications(Notifications::new(setup, vec![channel]).with_policy(policy))
        .build()
        .unwrap()
}

async fn setup_world(
    channel: Arc<Scripted>,
    setup: NotifySetup,
    policy: DispatchPolicy,
) -> (Shop, Arc<MemoryStore>, Arc<ManualClock>, Product) {
    let store = Arc::new(MemoryStore::new());
    let item = product(1, dec!(1500), Some(10));
    store.insert_product(&item).await.unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let shop = dispatching_shop(store.clone(), clock.clone(), channel, setup, policy);
    (shop, store, clock, item)
}

async fn states(shop: &Shop) -> Vec<(String, DeliveryState, u32)> {
    let page = shop
        .messages(
            None,
            None,
            None,
            crate::page::Limit::new(Some(100)).unwrap(),
        )
        .await
        .unwrap();
    let mut states: Vec<_> = page
        .items
        .iter()
        .map(|d| (d.message.template.clone(), d.state, d.attempts))
        .collect();
    states.sort();
    states
}

#[tokio::test]
async fn a_placed_order_sends_its_message_once_and_a_second_run_sends_nothing() {
    let channel = Scripted::sms(Vec::new());
    let (shop, _store, _clock, item) =
        setup_world(channel.clone(), setup(false), DispatchPolicy::default()).await;
    let order = shop
        .place_order(&input(&item, 1), None)
        .await
        .unwrap()
        .into_order();

    let report = shop.dispatch_notifications().await.unwrap();
    assert_eq!((report.expanded, report.sent), (1, 1));
    let again = shop.dispatch_notifications().await.unwrap();
    assert_eq!(again, crate::notify::DispatchReport::default());

    let sent = channel.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].order_number, order.number);
    assert_eq!(sent[0].audience, Audience::Customer);
    assert_eq!(sent[0].content.to, "+254712345678");
    assert!(sent[0].content.body.contains(order.number.as_str()));
    assert_eq!(
        states(&shop).await,
        vec![("order_placed".into(), DeliveryState::Sent, 1)]
    );
}

#[tokio::test]
async fn a_full_batch_says_more_are_waiting_until_the_backlog_is_sent() {
    let channel = Scripted::sms(Vec::new());
    let policy = DispatchPolicy::default().with_batch(2);
    let (shop, _store, _clock, item) = setup_world(channel.clone(), setup(false), policy).await;
    for _ in 0..3 {
        shop.place_order(&input(&item, 1), None).await.unwrap();
    }

    // A run takes a batch of the three events and says more wait; the next takes the rest
    let first = shop.dispatch_notifications().await.unwrap();
    assert_eq!((first.expanded, first.sent, first.more), (2, 2, true));
    let second = shop.dispatch_notifications().await.unwrap();
    assert_eq!((second.expanded, second.sent, second.more), (1, 1, false));
    assert_eq!(channel.sent().len(), 3);
}

#[tokio::test]
async fn a_transient_failure_is_tried_again_after_the_pause_and_not_before() {
    let channel = Scripted::sms(vec![transient()]);
    let policy = DispatchPolicy::default().with_first_retry(Duration::from_secs(30));
    let (shop, _store, clock, item) = setup_world(channel.clone(), setup(false), policy).await;
    shop.place_order(&input(&item, 1), None).await.unwrap();

    assert_eq!(shop.dispatch_notifications().await.unwrap().retried, 1);
    clock.advance(Duration::from_secs(29));
    assert_eq!(shop.dispatch_notifications().await.unwrap().sent, 0);
    clock.advance(Duration::from_secs(1));
    assert_eq!(shop.dispatch_notifications().await.unwrap().sent, 1);
    assert_eq!(channel.sent().len(), 2);
    assert_eq!(
        states(&shop).await,
        vec![("order_placed".into(), DeliveryState::Sent, 2)]
    );
}

#[tokio::test]
async fn a_permanent_failure_is_dead_at_once_and_an_admin_retry_sends_it() {
    let channel = Scripted::sms(vec![Err(SendError::Permanent {
        code: "invalid_recipient",
        detail: "the number is not on the network".into(),
    })]);
    let (shop, _store, _clock, item) =
        setup_world(channel.clone(), setup(false), DispatchPolicy::default()).await;
    shop.place_order(&input(&item, 1), None).await.unwrap();

    assert_eq!(shop.dispatch_notifications().await.unwrap().dead, 1);
    let dead = shop
        .messages(
            Some("dead"),
            None,
            None,
            crate::page::Limit::new(None).unwrap(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("invalid_recipient")
    );
    // Dead stays dead until an admin says otherwise.
    assert_eq!(shop.dispatch_notifications().await.unwrap().sent, 0);

    let again = shop.retry_message(&dead[0].id.to_string()).await.unwrap();
    assert_eq!((again.state, again.attempts), (DeliveryState::Pending, 0));
    assert_eq!(shop.dispatch_notifications().await.unwrap().sent, 1);
    let err = shop
        .retry_message(&dead[0].id.to_string())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                reason: ConflictReason::MessageNotDead,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn transient_failures_end_in_the_dead_list_when_the_attempts_run_out() {
    let channel = Scripted::sms(vec![transient(), transient(), transient()]);
    let policy = DispatchPolicy::default()
        .with_max_attempts(3)
        .with_first_retry(Duration::from_secs(1));
    let (shop, _store, clock, item) = setup_world(channel.clone(), setup(false), policy).await;
    shop.place_order(&input(&item, 1), None).await.unwrap();
    for _ in 0..3 {
        shop.dispatch_notifications().await.unwrap();
        clock.advance(Duration::from_secs(3600));
    }
    assert_eq!(
        states(&shop).await,
        vec![("order_placed".into(), DeliveryState::Dead, 3)]
    );
    assert_eq!(channel.sent().len(), 3);
}

#[tokio::test]
async fn a_paid_order_tells_the_customer_the_receipt_and_alerts_the_owner() {
    let channel = Scripted::sms(Vec::new());
    let (shop, _store, _clock, item) =
        setup_world(channel.clone(), setup(true), DispatchPolicy::default()).await;
    let order = shop
        .place_order(&input(&item, 1), None)
        .await
        .unwrap()
        .into_order();
    let payment = shop.start_payment(&pay(&order), None).await.unwrap();
    shop.store()
        .settle_payment(
            &crate::payment::PaymentTarget::Id(payment.payment().id),
            &crate::payment::PaymentResult {
                result: ProviderResult {
                    status: Some(PaymentStatus::Succeeded),
                    amount: Some(kes(dec!(1500))),
                    receipt: Some(Receipt::parse("SJK4H7XQ2P").unwrap()),
                    ..ProviderResult::default()
                },
                actor: crate::order::Actor::Provider("testpay".into()),
                at: T0,
            },
        )
        .await
        .unwrap();
    shop.dispatch_notifications().await.unwrap();

    let sent = channel.sent();
    let templates: Vec<(&str, Audience)> = sent
        .iter()
        .map(|m| (m.content.template.as_str(), m.audience))
        .collect();
    assert_eq!(templates.len(), 3, "{templates:?}");
    assert!(templates.contains(&("order_placed", Audience::Customer)));
    assert!(templates.contains(&("payment_succeeded", Audience::Customer)));
    assert!(templates.contains(&("owner_payment_succeeded", Audience::Owner)));
    let paid = sent
        .iter()
        .find(|m| m.content.template == "payment_succeeded")
        .unwrap();
    assert!(
        paid.content.body.contains("SJK4H7XQ2P"),
        "{}",
        paid.content.body
    );
    let alert = sent.iter().find(|m| m.audience == Audience::Owner).unwrap();
    assert_eq!(alert.content.to, "254700000001");
}

#[tokio::test]
async fn a_customer_who_opted_out_gets_no_sms_and_the_owner_sees_it_skipped() {
    let channel = Scripted::sms(Vec::new());
    let (shop, _store, _clock, item) =
        setup_world(channel.clone(), setup(false), DispatchPolicy::default()).await;
    shop.set_sms_opt_out(&crate::phone::Msisdn::parse("0712345678").unwrap(), true)
        .await
        .unwrap();
    shop.place_order(&input(&item, 1), None).await.unwrap();
    shop.dispatch_notifications().await.unwrap();
    assert!(channel.sent().is_empty());
    assert_eq!(
        states(&shop).await,
        vec![("order_placed".into(), DeliveryState::Skipped, 0)]
    );
}

#[tokio::test]
async fn two_dispatchers_on_one_store_send_every_message_once() {
    let channel = Scripted::sms(Vec::new());
    let (first, store, clock, item) =
        setup_world(channel.clone(), setup(false), DispatchPolicy::default()).await;
    let second = dispatching_shop(
        store.clone(),
        clock.clone(),
        channel.clone(),
        setup(false),
        DispatchPolicy::default(),
    );
    for i in 0..10 {
        let mut order = input(&item, 1);
        order.phone = format!("07120000{i:02}");
        first.place_order(&order, None).await.unwrap();
    }
    let (a, b) = tokio::join!(
        first.dispatch_notifications(),
        second.dispatch_notifications()
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.expanded + b.expanded, 10);
    assert_eq!(a.sent + b.sent, 10);
    let mut ids: Vec<_> = channel.sent().iter().map(|m| m.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10);
    assert_eq!(channel.sent().len(), 10);
}
