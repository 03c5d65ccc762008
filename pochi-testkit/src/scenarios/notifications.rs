//! Notifications: the outbox written with each change, expanded once, deliveries claimed by
//! one dispatcher at a time and finished by the one holding them, the dashboard's list, the
//! opt-outs, and the language an order keeps for its messages.

use std::{collections::HashSet, sync::Arc};

use pochi_core::{
    Actor, ConflictReason, Entity, Error, Language, Order, OrderNumber, OrderStatus, PaymentStatus,
    Store, StoreExt,
    notify::{
        Audience, ChannelKind, Delivery, DeliveryClaim, DeliveryFilter, DeliveryId,
        DeliveryOutcome, DeliveryState, MessageContent, NewDelivery, NoticeKind, OutboxEvent,
        OutboxId,
    },
    phone::Msisdn,
    refund::{RefundChange, RefundTarget},
    store::ExpiryCutoff,
};
use time::OffsetDateTime;

use crate::fixtures::{
    T0, admin_move, at, by_reference, checkout, failure, key, move_by, new_order, order_for,
    order_number, place, product, started_attempt, stock_shelves, success,
};

/// The events of `order` still waiting in the outbox, oldest first.
async fn events_of(store: &dyn Store, order: &OrderNumber) -> Vec<OutboxEvent> {
    store
        .pending_outbox_events(10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.details.order_number == *order)
        .collect()
}

/// The kinds of `order`'s pending events, oldest first.
async fn kinds_of(store: &dyn Store, order: &OrderNumber) -> Vec<NoticeKind> {
    events_of(store, order)
        .await
        .iter()
        .map(|e| e.details.kind)
        .collect()
}

/// A message to the customer of `event` by SMS, pending.
fn sms(event: &OutboxEvent, n: usize) -> NewDelivery {
    NewDelivery {
        id: DeliveryId::new(),
        channel: ChannelKind::Sms,
        audience: Audience::Customer,
        message: MessageContent {
            to: event.details.phone.as_str().to_owned(),
            language: event.details.language,
            template: "order_placed".to_owned(),
            params: vec![event.details.order_number.to_string(), n.to_string()],
            subject: None,
            body: format!("Asante! Order {} ({n}) 🎉", event.details.order_number),
        },
        state: DeliveryState::Pending,
        skipped_because: None,
    }
}

/// An order placed in `store` whose event is expanded into `count` pending SMS at `at`.
async fn order_with_deliveries(
    store: &dyn Store,
    count: usize,
    at: OffsetDateTime,
) -> (Order, Vec<NewDelivery>) {
    let item = product("Kikoi", "1500", None);
    stock_shelves(store, &[&item]).await;
    let order = order_for(store, &item, 1).await;
    let event = events_of(store, &order.number).await.remove(0);
    let deliveries: Vec<NewDelivery> = (0..count).map(|n| sms(&event, n)).collect();
    assert!(
        store
            .expand_outbox_event(event.id, &deliveries, at)
            .await
            .unwrap()
    );
    (order, deliveries)
}

fn claim(worker: &str, now: OffsetDateTime, lease_seconds: i64, limit: usize) -> DeliveryClaim {
    DeliveryClaim {
        worker: worker.to_owned(),
        now,
        lease_until: now + time::Duration::seconds(lease_seconds),
        limit,
    }
}

/// The stored delivery `id`.
async fn delivery(store: &dyn Store, id: DeliveryId) -> Delivery {
    store
        .list_deliveries(&DeliveryFilter::default(), None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.id == id)
        .expect("the delivery is listed")
}

fn ids(deliveries: &[Delivery]) -> Vec<DeliveryId> {
    deliveries.iter().map(|d| d.id).collect()
}

/// Placing an order writes one pending event that tells the order as placed; replaying the
/// request writes none.
pub async fn placing_writes_one_outbox_event_and_a_replay_none(store: Arc<dyn Store>) {
    // Given a product
    let item = product("Kikoi", "1500", Some(10));
    stock_shelves(store.as_ref(), &[&item]).await;
    let mut new = new_order(
        order_number(),
        &checkout(&[(&item, 2)]),
        &[item.clone()],
        T0,
    );
    new.idempotency_key = Some(key("checkout-outbox-1"));

    // When the order is placed
    let order = place(store.as_ref(), &new).await;

    // Then exactly one event waits, saying what was placed
    let events = events_of(store.as_ref(), &order.number).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].details, OutboxEvent::placed(&order).details);
    assert_eq!(events[0].details.kind, NoticeKind::OrderPlaced);
    assert_eq!(events[0].details.status, OrderStatus::PendingPayment);
    assert_eq!(events[0].details.total, order.total);

    // When the same request is replayed
    let replay = store.place_order(&new).await.unwrap();
    assert!(
        matches!(replay, pochi_core::Placement::Replayed(_)),
        "{replay:?}"
    );

    // Then no other event is written
    assert_eq!(
        ids_of(&events_of(store.as_ref(), &order.number).await),
        ids_of(&events)
    );
}

fn ids_of(events: &[OutboxEvent]) -> Vec<OutboxId> {
    events.iter().map(|e| e.id).collect()
}

/// Money sent back writes one `refund_sent` event with its reference and amount, whether an
/// admin marks it refunded by hand or the provider's result says it was sent; asking the
/// provider, a failure, and the same result again write none.
pub async fn money_sent_back_writes_one_event_whichever_way(store: Arc<dyn Store>) {
    let item = product("Kikoi", "1500", Some(100));
    stock_shelves(store.as_ref(), &[&item]).await;
    let provider = || Actor::Provider("mpesa".to_owned());
    let mut owed = Vec::new();
    for (i, reference) in ["ws_CO_refund_1", "ws_CO_refund_2", "ws_CO_refund_3"]
        .into_iter()
        .enumerate()
    {
        let order = order_for(store.as_ref(), &item, 1).await;
        let payment = started_attempt(store.as_ref(), &order, order.total, reference).await;
        store
            .settle_payment(
                &by_reference(&payment),
                &success(order.total, &format!("NLJ7RT6{i}SV")),
            )
            .await
            .unwrap();
        store
            .move_order(&order.number, &admin_move(OrderStatus::Cancelled, at(200)))
            .await
            .unwrap();
        let refund = store
            .refunds_for_order(&order.number)
            .await
            .unwrap()
            .remove(0);
        owed.push((order, refund));
    }
    let change = |id, change| {
        let store = Arc::clone(&store);
        async move { store.change_refund(&RefundTarget::Id(id), &change).await }
    };

    // By hand, straight from owed
    let (straight, refund) = &owed[2];
    let marked = RefundChange::MarkRefunded {
        reference: "SLK4H7Q2XW".to_owned(),
        note: None,
        actor: Actor::Admin("amina".to_owned()),
        at: at(250),
    };
    change(refund.id, marked).await.unwrap();
    let events = events_of(store.as_ref(), &straight.number).await;
    assert_eq!(
        events.iter().map(|e| e.details.kind).collect::<Vec<_>>(),
        [
            NoticeKind::OrderPlaced,
            NoticeKind::PaymentSucceeded,
            NoticeKind::StatusChanged,
            NoticeKind::RefundSent
        ]
    );
    assert_eq!(events[3].details.receipt.as_deref(), Some("SLK4H7Q2XW"));

    // By hand, after the provider could not send it
    let (by_hand, refund) = &owed[0];
    let sending = RefundChange::Sending {
        request: "AG_20261205_0001".to_owned(),
        actor: Actor::Admin("amina".to_owned()),
        at: at(300),
    };
    change(refund.id, sending).await.unwrap();
    let failed = RefundChange::Result {
        request: "AG_20261205_0001".to_owned(),
        outcome: Err("The transaction could not be reversed".to_owned()),
        actor: provider(),
        at: at(310),
    };
    store
        .change_refund(
            &RefundTarget::ProviderRequest("AG_20261205_0001".to_owned()),
            &failed,
        )
        .await
        .unwrap();
    assert_eq!(
        kinds_of(store.as_ref(), &by_hand.number).await,
        [
            NoticeKind::OrderPlaced,
            NoticeKind::PaymentSucceeded,
            NoticeKind::StatusChanged
        ],
        "asking the provider and its failure tell the customer nothing"
    );
    let marked = RefundChange::MarkRefunded {
        reference: "SLK4H7Q2XZ".to_owned(),
        note: None,
        actor: Actor::Admin("amina".to_owned()),
        at: at(400),
    };
    change(refund.id, marked.clone()).await.unwrap();
    assert!(change(refund.id, marked).await.is_err(), "paid twice");
    let events = events_of(store.as_ref(), &by_hand.number).await;
    let sent: Vec<_> = events
        .iter()
        .filter(|e| e.details.kind == NoticeKind::RefundSent)
        .collect();
    assert_eq!(sent.len(), 1, "{events:?}");
    assert_eq!(sent[0].details.receipt.as_deref(), Some("SLK4H7Q2XZ"));
    assert_eq!(sent[0].details.amount, Some(refund.amount));
    assert_eq!(sent[0].details.status, OrderStatus::Cancelled);
    assert_eq!(sent[0].details.at, at(400));

    // By the provider, whose result comes twice
    let (reversed, refund) = &owed[1];
    let sending = RefundChange::Sending {
        request: "AG_20261205_0002".to_owned(),
        actor: Actor::Admin("amina".to_owned()),
        at: at(300),
    };
    change(refund.id, sending).await.unwrap();
    let done = RefundChange::Result {
        request: "AG_20261205_0002".to_owned(),
        outcome: Ok("SLK4H7Q2XY".to_owned()),
        actor: provider(),
        at: at(320),
    };
    for _ in 0..2 {
        store
            .change_refund(
                &RefundTarget::ProviderRequest("AG_20261205_0002".to_owned()),
                &done,
            )
            .await
            .unwrap();
    }
    let events = events_of(store.as_ref(), &reversed.number).await;
    let sent: Vec<_> = events
        .iter()
        .filter(|e| e.details.kind == NoticeKind::RefundSent)
        .collect();
    assert_eq!(sent.len(), 1, "{events:?}");
    assert_eq!(sent[0].details.receipt.as_deref(), Some("SLK4H7Q2XY"));
    assert_eq!(sent[0].details.at, at(320));
}

/// A status move, an expiry, a successful and a failed payment each write their event; the
/// move to paid writes none (the payment's event tells it).
pub async fn moves_expiries_and_payments_write_their_events(store: Arc<dyn Store>) {
    let item = product("Kikoi", "1500", Some(100));
    stock_shelves(store.as_ref(), &[&item]).await;

    // A successful payment, then an admin's move
    let paid = order_for(store.as_ref(), &item, 1).await;
    let payment = started_attempt(store.as_ref(), &paid, paid.total, "ws_CO_outbox_1").await;
    store
        .settle_payment(&by_reference(&payment), &success(paid.total, "NLJ7RT61SV"))
        .await
        .unwrap();
    store
        .move_order(&paid.number, &admin_move(OrderStatus::Processing, at(200)))
        .await
        .unwrap();
    let events = events_of(store.as_ref(), &paid.number).await;
    assert_eq!(
        events.iter().map(|e| e.details.kind).collect::<Vec<_>>(),
        [
            NoticeKind::OrderPlaced,
            NoticeKind::PaymentSucceeded,
            NoticeKind::StatusChanged
        ]
    );
    let succeeded = &events[1].details;
    assert_eq!(succeeded.status, OrderStatus::Paid);
    assert_eq!(succeeded.receipt.as_deref(), Some("NLJ7RT61SV"));
    assert_eq!(succeeded.amount, Some(paid.total));
    let moved = &events[2].details;
    assert_eq!(moved.status, OrderStatus::Processing);
    assert_eq!(moved.previous_status, Some(OrderStatus::Paid));
    assert_eq!(moved.at, at(200));

    // A failed payment
    let unpaid = order_for(store.as_ref(), &item, 1).await;
    let payment = started_attempt(store.as_ref(), &unpaid, unpaid.total, "ws_CO_outbox_2").await;
    store
        .settle_payment(
            &by_reference(&payment),
            &failure(PaymentStatus::Failed, "1032"),
        )
        .await
        .unwrap();
    let events = events_of(store.as_ref(), &unpaid.number).await;
    assert_eq!(
        events.iter().map(|e| e.details.kind).collect::<Vec<_>>(),
        [NoticeKind::OrderPlaced, NoticeKind::PaymentFailed]
    );
    assert_eq!(events[1].details.status, OrderStatus::PendingPayment);

    // A move to paid (not by a payment result)
    let moved_to_paid = order_for(store.as_ref(), &item, 1).await;
    store
        .move_order(
            &moved_to_paid.number,
            &move_by(OrderStatus::Paid, pochi_core::Trigger::Payment, at(100)),
        )
        .await
        .unwrap();
    assert_eq!(
        kinds_of(store.as_ref(), &moved_to_paid.number).await,
        [NoticeKind::OrderPlaced]
    );

    // An expiry (the failed order and this one are both unpaid)
    let expired = store
        .expire_orders(&ExpiryCutoff::by_age(at(500), at(3_000)), 100)
        .await
        .unwrap();
    assert!(expired.iter().any(|o| o.number == unpaid.number));
    let events = events_of(store.as_ref(), &unpaid.number).await;
    assert_eq!(
        events.iter().map(|e| e.details.kind).collect::<Vec<_>>(),
        [
            NoticeKind::OrderPlaced,
            NoticeKind::PaymentFailed,
            NoticeKind::StatusChanged
        ]
    );
    assert_eq!(events[2].details.status, OrderStatus::Cancelled);
    assert_eq!(
        events[2].details.previous_status,
        Some(OrderStatus::PendingPayment)
    );
    assert_eq!(events[2].details.at, at(3_000));
}

/// An event is expanded once: a second expansion changes nothing; an unknown event is
/// `NotFound`.
pub async fn an_outbox_event_is_expanded_once(store: Arc<dyn Store>) {
    // Given an order's event expanded into two messages
    let (order, deliveries) = order_with_deliveries(store.as_ref(), 2, at(100)).await;
    let listed = store
        .list_deliveries(&DeliveryFilter::default(), None, 100)
        .await
        .unwrap();
    let mut expected: Vec<DeliveryId> = deliveries.iter().map(|d| d.id).collect();
    expected.sort();
    let mut got = ids(&listed);
    got.sort();
    assert_eq!(got, expected);
    let first = &listed[0];
    assert_eq!(first.order_number, order.number);
    assert_eq!(first.kind, NoticeKind::OrderPlaced);
    assert_eq!(first.state, DeliveryState::Pending);
    assert_eq!(first.attempts, 0);
    assert_eq!(first.next_attempt_at, at(100));
    assert_eq!(first.created_at, at(100));
    let original = deliveries.iter().find(|d| d.id == first.id).unwrap();
    assert_eq!(first.message, original.message);
    assert_eq!(first.channel, ChannelKind::Sms);
    assert_eq!(first.audience, Audience::Customer);

    // Then it is no longer pending
    assert!(events_of(store.as_ref(), &order.number).await.is_empty());

    // When a second dispatcher expands the same event
    let event = OutboxEvent::placed(&order);
    let event_id = listed[0].event;
    let again = store
        .expand_outbox_event(event_id, &[sms(&event, 9)], at(150))
        .await
        .unwrap();

    // Then it did nothing
    assert!(!again);
    assert_eq!(
        store
            .list_deliveries(&DeliveryFilter::default(), None, 100)
            .await
            .unwrap()
            .len(),
        2
    );

    // And an unknown event is not found
    let err = store
        .expand_outbox_event(OutboxId::new(), &[sms(&event, 10)], at(150))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                entity: Entity::Message,
                ..
            }
        ),
        "{err}"
    );
}

/// Dispatchers claiming at the same time never get the same delivery, and together they get
/// every due one.
pub async fn concurrent_claims_never_share_a_delivery(store: Arc<dyn Store>) {
    // Given 60 due deliveries
    let (_, deliveries) = order_with_deliveries(store.as_ref(), 60, at(100)).await;

    // When four dispatchers claim five at a time until nothing is left
    let tasks: Vec<_> = (0..4)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let worker = format!("worker-{n}");
                let mut got = Vec::new();
                // 60 deliveries take at most 12 claims of 5: more means leases do not hold.
                for _ in 0..13 {
                    let claimed = store
                        .claim_deliveries(&claim(&worker, at(200), 60, 5))
                        .await
                        .unwrap();
                    if claimed.is_empty() {
                        return got;
                    }
                    got.extend(ids(&claimed));
                    tokio::task::yield_now().await;
                }
                panic!("{worker} kept claiming: leased deliveries were claimed again");
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }

    // Then each delivery was claimed exactly once
    let unique: HashSet<DeliveryId> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "a delivery was claimed twice");
    let expected: HashSet<DeliveryId> = deliveries.iter().map(|d| d.id).collect();
    assert_eq!(unique, expected);
    // And each counts one attempt
    for delivery in store
        .list_deliveries(&DeliveryFilter::default(), None, 100)
        .await
        .unwrap()
    {
        assert_eq!(delivery.attempts, 1, "{:?}", delivery.id);
    }
    // And none is claimable while the leases hold
    assert!(
        store
            .claim_deliveries(&claim("late", at(230), 60, 100))
            .await
            .unwrap()
            .is_empty()
    );
}

/// A lease that ran out lets another dispatcher claim the delivery; the first one can then no
/// longer record an outcome.
pub async fn an_expired_lease_can_be_claimed_again(store: Arc<dyn Store>) {
    // Given a delivery claimed by A until 260
    let (_, deliveries) = order_with_deliveries(store.as_ref(), 1, at(100)).await;
    let id = deliveries[0].id;
    let first = store
        .claim_deliveries(&claim("a", at(200), 60, 10))
        .await
        .unwrap();
    assert_eq!(ids(&first), [id]);
    assert_eq!(first[0].attempts, 1);

    // When B claims while the lease holds, it gets nothing
    assert!(
        store
            .claim_deliveries(&claim("b", at(259), 60, 10))
            .await
            .unwrap()
            .is_empty()
    );

    // When B claims after the lease ran out, it gets it
    let second = store
        .claim_deliveries(&claim("b", at(260), 60, 10))
        .await
        .unwrap();
    assert_eq!(ids(&second), [id]);
    assert_eq!(second[0].attempts, 2);

    // Then A can no longer finish it, and B can
    let sent = DeliveryOutcome::Sent {
        at: at(270),
        provider_ref: Some("ATXid_1".to_owned()),
    };
    assert!(!store.finish_delivery(id, "a", &sent).await.unwrap());
    assert_eq!(
        delivery(store.as_ref(), id).await.state,
        DeliveryState::Pending
    );
    assert!(store.finish_delivery(id, "b", &sent).await.unwrap());
    assert_eq!(
        delivery(store.as_ref(), id).await.state,
        DeliveryState::Sent
    );
}

/// What came of a send is recorded: sent, retried later (not claimable before), or dead.
pub async fn finished_deliveries_keep_their_outcome(store: Arc<dyn Store>) {
    // Given three claimed deliveries
    let (_, deliveries) = order_with_deliveries(store.as_ref(), 3, at(100)).await;
    let claimed = store
        .claim_deliveries(&claim("w", at(200), 60, 10))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3);
    let (sent, retried, dead) = (deliveries[0].id, deliveries[1].id, deliveries[2].id);

    // When one is sent
    let outcome = DeliveryOutcome::Sent {
        at: at(210),
        provider_ref: Some("ATXid_42".to_owned()),
    };
    assert!(store.finish_delivery(sent, "w", &outcome).await.unwrap());
    // Then it is sent, and cannot be finished again
    let stored = delivery(store.as_ref(), sent).await;
    assert_eq!(stored.state, DeliveryState::Sent);
    assert_eq!(stored.sent_at, Some(at(210)));
    assert_eq!(stored.provider_ref.as_deref(), Some("ATXid_42"));
    assert!(!store.finish_delivery(sent, "w", &outcome).await.unwrap());

    // When one is to be retried at 500
    let retry = DeliveryOutcome::Retry {
        next_attempt_at: at(500),
        error: "rate_limited: too many requests".to_owned(),
    };
    assert!(store.finish_delivery(retried, "w", &retry).await.unwrap());
    let stored = delivery(store.as_ref(), retried).await;
    assert_eq!(stored.state, DeliveryState::Pending);
    assert_eq!(stored.next_attempt_at, at(500));
    assert_eq!(
        stored.last_error.as_deref(),
        Some("rate_limited: too many requests")
    );

    // When one failed for good
    let gone = DeliveryOutcome::Dead {
        error: "invalid_recipient: not a mobile number".to_owned(),
    };
    assert!(store.finish_delivery(dead, "w", &gone).await.unwrap());
    let stored = delivery(store.as_ref(), dead).await;
    assert_eq!(stored.state, DeliveryState::Dead);
    assert_eq!(
        stored.last_error.as_deref(),
        Some("invalid_recipient: not a mobile number")
    );

    // Then nothing is due before 500 (the lease was released, the retry waits)
    assert!(
        store
            .claim_deliveries(&claim("w2", at(499), 60, 10))
            .await
            .unwrap()
            .is_empty()
    );
    // And at 500 only the retried one is
    let due = store
        .claim_deliveries(&claim("w2", at(500), 60, 10))
        .await
        .unwrap();
    assert_eq!(ids(&due), [retried]);
    assert_eq!(due[0].attempts, 2);
}

/// An admin retries a dead delivery: pending again, due then, attempts from zero. A delivery
/// that is not dead is a conflict; an unknown one is not found.
pub async fn only_dead_deliveries_can_be_retried(store: Arc<dyn Store>) {
    // Given a dead delivery and a sent one
    let (_, deliveries) = order_with_deliveries(store.as_ref(), 2, at(100)).await;
    let (dead, sent) = (deliveries[0].id, deliveries[1].id);
    store
        .claim_deliveries(&claim("w", at(200), 60, 10))
        .await
        .unwrap();
    let gone = DeliveryOutcome::Dead {
        error: "rejected: template".to_owned(),
    };
    assert!(store.finish_delivery(dead, "w", &gone).await.unwrap());
    let ok = DeliveryOutcome::Sent {
        at: at(210),
        provider_ref: None,
    };
    assert!(store.finish_delivery(sent, "w", &ok).await.unwrap());

    // When the dead one is retried at 900
    let retried = store.retry_delivery(dead, at(900)).await.unwrap();

    // Then it is pending, due at 900, with no attempts counted
    assert_eq!(retried.state, DeliveryState::Pending);
    assert_eq!(retried.attempts, 0);
    assert_eq!(retried.next_attempt_at, at(900));
    assert_eq!(delivery(store.as_ref(), dead).await, retried);
    assert!(
        store
            .claim_deliveries(&claim("w", at(899), 60, 10))
            .await
            .unwrap()
            .is_empty()
    );
    let due = store
        .claim_deliveries(&claim("w", at(900), 60, 10))
        .await
        .unwrap();
    assert_eq!(ids(&due), [dead]);
    assert_eq!(due[0].attempts, 1);

    // And the sent one cannot be retried
    let err = store.retry_delivery(sent, at(900)).await.unwrap_err();
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::MessageNotDead),
        "{err}"
    );
    assert_eq!(
        delivery(store.as_ref(), sent).await.state,
        DeliveryState::Sent
    );
    // Nor can one that is pending
    let err = store.retry_delivery(dead, at(950)).await.unwrap_err();
    assert_eq!(err.conflict_reason(), Some(ConflictReason::MessageNotDead));
    // And an unknown one is not found
    let err = store
        .retry_delivery(DeliveryId::new(), at(900))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                entity: Entity::Message,
                ..
            }
        ),
        "{err}"
    );
}

/// The dashboard's list: newest first, by state or by order, page after page.
pub async fn deliveries_list_filters_and_pages_newest_first(store: Arc<dyn Store>) {
    // Given three messages of one order made at 100 and two of another made at 200, one of
    // them skipped
    let (first, _) = order_with_deliveries(store.as_ref(), 3, at(100)).await;
    let item = product("Sufuria", "800", None);
    stock_shelves(store.as_ref(), &[&item]).await;
    let second = order_for(store.as_ref(), &item, 1).await;
    let event = events_of(store.as_ref(), &second.number).await.remove(0);
    let mut skipped = sms(&event, 1);
    skipped.state = DeliveryState::Skipped;
    skipped.skipped_because = Some("opted_out".to_owned());
    let later = [sms(&event, 0), skipped.clone()];
    assert!(
        store
            .expand_outbox_event(event.id, &later, at(200))
            .await
            .unwrap()
    );

    // When the whole list is read two at a time
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_deliveries(&DeliveryFilter::default(), after, 2)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        after = page.last().map(Delivery::key);
        pages.extend(page);
    }

    // Then it holds all five once, newest first (then id descending)
    assert_eq!(pages.len(), 5);
    let mut expected = pages.clone();
    expected.sort_by_key(|d| std::cmp::Reverse((d.created_at, d.id)));
    assert_eq!(ids(&pages), ids(&expected));
    assert!(pages[..2].iter().all(|d| d.order_number == second.number));
    assert!(pages[2..].iter().all(|d| d.order_number == first.number));

    // And the filters pick by order and by state
    let of_first = store
        .list_deliveries(
            &DeliveryFilter {
                order: Some(first.number.clone()),
                ..DeliveryFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(ids(&of_first), ids(&pages[2..]));
    let skipped_only = store
        .list_deliveries(
            &DeliveryFilter {
                state: Some(DeliveryState::Skipped),
                ..DeliveryFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(ids(&skipped_only), [skipped.id]);
    assert_eq!(skipped_only[0].last_error.as_deref(), Some("opted_out"));
    let pending_of_second = store
        .list_deliveries(
            &DeliveryFilter {
                state: Some(DeliveryState::Pending),
                order: Some(second.number.clone()),
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(ids(&pending_of_second), [later[0].id]);
    // A skipped message is never claimed
    let claimed = store
        .claim_deliveries(&claim("w", at(300), 60, 10))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 4);
    assert!(!ids(&claimed).contains(&skipped.id));
}

/// A customer's opt-out is kept per phone and channel, and can be undone.
pub async fn opt_outs_are_kept_per_phone_and_channel(store: Arc<dyn Store>) {
    let phone = Msisdn::parse("0712345678").unwrap();
    let other = Msisdn::parse("0722000111").unwrap();

    // Nobody opted out of anything at first
    assert!(!store.opted_out(&phone, ChannelKind::Sms).await.unwrap());

    // When the customer opts out of SMS
    store
        .set_opt_out(&phone, ChannelKind::Sms, true, at(10))
        .await
        .unwrap();

    // Then only that phone and that channel are opted out
    assert!(store.opted_out(&phone, ChannelKind::Sms).await.unwrap());
    assert!(
        !store
            .opted_out(&phone, ChannelKind::WhatsApp)
            .await
            .unwrap()
    );
    assert!(!store.opted_out(&other, ChannelKind::Sms).await.unwrap());

    // When they opt back in
    store
        .set_opt_out(&phone, ChannelKind::Sms, false, at(20))
        .await
        .unwrap();
    assert!(!store.opted_out(&phone, ChannelKind::Sms).await.unwrap());
}

/// The language a customer checked out in is kept with the order and told in its events.
pub async fn an_order_keeps_its_language(store: Arc<dyn Store>) {
    // Given an order placed in Kiswahili
    let item = product("Kikoi", "1500", Some(10));
    stock_shelves(store.as_ref(), &[&item]).await;
    let mut new = new_order(
        order_number(),
        &checkout(&[(&item, 1)]),
        &[item.clone()],
        T0,
    );
    new.order.language = Language::Kiswahili;

    // When it is placed and read back
    let placed = place(store.as_ref(), &new).await;
    let stored = store.order_required(&placed.number).await.unwrap();

    // Then it is still in Kiswahili, as its event says
    assert_eq!(stored.language, Language::Kiswahili);
    assert_eq!(stored, new.order);
    let listed = store
        .list_orders(&Default::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(listed[0].language, Language::Kiswahili);
    let events = events_of(store.as_ref(), &placed.number).await;
    assert_eq!(events[0].details.language, Language::Kiswahili);

    // And an order placed without saying stays in English
    let english = order_for(store.as_ref(), &item, 1).await;
    assert_eq!(
        store
            .order_required(&english.number)
            .await
            .unwrap()
            .language,
        Language::English
    );
}
