//! Saving a memory store and loading it back.

use serde::{Deserialize, Serialize};

use time::OffsetDateTime;

use super::{
    MemoryStore, State,
    outbox::{StoredDelivery, StoredEvent},
};
use crate::{
    client::ClientNetwork,
    ids::OrderNumber,
    notify::{ChannelKind, Delivery, DeliveryId, OutboxEvent},
    order::{IdempotencyKey, Order},
    payment::{Payment, PaymentReview},
    phone::Msisdn,
    product::Product,
    settings::StoreSettings,
    stock::StockAdjustment,
};

/// Everything a [`MemoryStore`] holds, as plain data: to save a store and load it back
/// ([`MemoryStore::snapshot`], [`MemoryStore::from_snapshot`]). Lists are sorted (by time,
/// then id), so the same store gives the same snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemorySnapshot {
    /// The products.
    pub products: Vec<Product>,
    /// The orders, with their lines and timelines.
    pub orders: Vec<Order>,
    /// Orders placed with an idempotency key: the key, the order, the request fingerprint.
    pub order_keys: Vec<(IdempotencyKey, OrderNumber, String)>,
    /// The payment attempts and direct payments.
    pub payments: Vec<Payment>,
    /// The payments kept for review, oldest first.
    pub reviews: Vec<PaymentReview>,
    /// The shop's settings, once saved.
    pub settings: Option<StoreSettings>,
    /// Unpaid orders and the client network each came from, sorted by order.
    #[serde(default)]
    pub placed_from: Vec<(OrderNumber, ClientNetwork)>,
    /// Every product's stock adjustments, oldest first.
    #[serde(default)]
    pub stock_adjustments: Vec<StockAdjustment>,
    /// The outbox: each event and when it was expanded (`None`: pending), in the order
    /// written.
    #[serde(default, with = "saved::events")]
    pub outbox: Vec<(OutboxEvent, Option<OffsetDateTime>)>,
    /// The messages, oldest first.
    #[serde(default, with = "saved::deliveries")]
    pub deliveries: Vec<Delivery>,
    /// The leases on messages: the message, the dispatcher holding it, until when; sorted.
    #[serde(default, with = "saved::leases")]
    pub leases: Vec<(DeliveryId, String, OffsetDateTime)>,
    /// The channels customers opted out of (or back into), sorted.
    #[serde(default)]
    pub opt_outs: Vec<(Msisdn, ChannelKind, bool)>,
    /// The refunds, oldest first.
    #[serde(default)]
    pub refunds: Vec<crate::refund::Refund>,
}

impl MemoryStore {
    /// A copy of everything the store holds, taken in one moment.
    pub fn snapshot(&self) -> MemorySnapshot {
        let state = self.state();
        let mut products: Vec<Product> = state.products.values().cloned().collect();
        products.sort_by_key(Product::key);
        let mut orders: Vec<Order> = state.orders.values().cloned().collect();
        orders.sort_by(|a, b| (a.created_at, &a.number).cmp(&(b.created_at, &b.number)));
        let mut order_keys: Vec<_> = state
            .order_keys
            .iter()
            .map(|(key, (number, fingerprint))| (key.clone(), number.clone(), fingerprint.clone()))
            .collect();
        order_keys.sort();
        let mut payments: Vec<Payment> = state.payments.values().cloned().collect();
        payments.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        let mut placed_from: Vec<_> = state
            .placed_from
            .iter()
            .map(|(number, network)| (number.clone(), network.clone()))
            .collect();
        placed_from.sort_by(|a, b| a.0.cmp(&b.0));
        let mut stock_adjustments: Vec<StockAdjustment> =
            state.adjustments.values().flatten().cloned().collect();
        stock_adjustments.sort_by_key(StockAdjustment::key);
        let outbox = state
            .outbox
            .iter()
            .map(|e| (e.event.clone(), e.expanded_at))
            .collect();
        let mut deliveries: Vec<Delivery> = state
            .deliveries
            .values()
            .map(|d| d.delivery.clone())
            .collect();
        deliveries.sort_by_key(|d| (d.created_at, d.id));
        let mut leases: Vec<_> = state
            .deliveries
            .values()
            .filter_map(|d| {
                let (owner, until) = d.lease.clone()?;
                Some((d.delivery.id, owner, until))
            })
            .collect();
        leases.sort();
        let mut opt_outs: Vec<_> = state
            .opt_outs
            .iter()
            .map(|((phone, channel), out)| (phone.clone(), *channel, *out))
            .collect();
        opt_outs.sort();
        let mut refunds: Vec<_> = state.refunds.values().cloned().collect();
        refunds.sort_by_key(|r| (r.created_at, r.id));
        MemorySnapshot {
            products,
            orders,
            order_keys,
            payments,
            reviews: state.reviews.clone(),
            settings: state.settings.clone(),
            placed_from,
            stock_adjustments,
            outbox,
            deliveries,
            leases,
            opt_outs,
            refunds,
        }
    }

    /// A store holding what `snapshot` holds (its indexes rebuilt).
    pub fn from_snapshot(snapshot: MemorySnapshot) -> Self {
        let mut state = State {
            products: snapshot.products.into_iter().map(|p| (p.id, p)).collect(),
            orders: snapshot
                .orders
                .into_iter()
                .map(|o| (o.number.clone(), o))
                .collect(),
            order_keys: snapshot
                .order_keys
                .into_iter()
                .map(|(key, number, fingerprint)| (key, (number, fingerprint)))
                .collect(),
            reviews: snapshot.reviews,
            settings: snapshot.settings,
            placed_from: snapshot.placed_from.into_iter().collect(),
            outbox: snapshot
                .outbox
                .into_iter()
                .map(|(event, expanded_at)| StoredEvent { event, expanded_at })
                .collect(),
            deliveries: snapshot
                .deliveries
                .into_iter()
                .map(|delivery| {
                    let stored = StoredDelivery {
                        delivery,
                        lease: None,
                    };
                    (stored.delivery.id, stored)
                })
                .collect(),
            opt_outs: snapshot
                .opt_outs
                .into_iter()
                .map(|(phone, channel, out)| ((phone, channel), out))
                .collect(),
            refunds: snapshot.refunds.into_iter().map(|r| (r.id, r)).collect(),
            ..State::default()
        };
        for (id, owner, until) in snapshot.leases {
            if let Some(stored) = state.deliveries.get_mut(&id) {
                stored.lease = Some((owner, until));
            }
        }
        for adjustment in snapshot.stock_adjustments {
            state
                .adjustments
                .entry(adjustment.product_id)
                .or_default()
                .push(adjustment);
        }
        for payment in snapshot.payments {
            state.write_payment(payment);
        }
        MemoryStore {
            state: std::sync::Mutex::new(state),
        }
    }
}

/// How the outbox and the deliveries are written in a snapshot: the domain types carry no
/// serde derives of their own (their shape is not a file format), so plain mirrors do.
mod saved {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use time::OffsetDateTime;

    use crate::{
        ids::OrderNumber,
        notify::{
            Audience, ChannelKind, Delivery, DeliveryId, DeliveryState, EventDetails,
            MessageContent, NoticeKind, OutboxEvent, OutboxId,
        },
    };

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct SavedEvent {
        id: OutboxId,
        details: EventDetails,
        #[serde(with = "time::serde::rfc3339::option")]
        expanded_at: Option<OffsetDateTime>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct SavedDelivery {
        id: DeliveryId,
        event: OutboxId,
        order_number: OrderNumber,
        kind: NoticeKind,
        channel: ChannelKind,
        audience: Audience,
        message: MessageContent,
        state: DeliveryState,
        attempts: u32,
        #[serde(with = "time::serde::rfc3339")]
        next_attempt_at: OffsetDateTime,
        last_error: Option<String>,
        provider_ref: Option<String>,
        #[serde(with = "time::serde::rfc3339")]
        created_at: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339::option")]
        sent_at: Option<OffsetDateTime>,
    }

    pub(super) mod events {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            events: &[(OutboxEvent, Option<OffsetDateTime>)],
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            let saved: Vec<SavedEvent> = events
                .iter()
                .map(|(event, expanded_at)| SavedEvent {
                    id: event.id,
                    details: event.details.clone(),
                    expanded_at: *expanded_at,
                })
                .collect();
            saved.serialize(serializer)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Vec<(OutboxEvent, Option<OffsetDateTime>)>, D::Error> {
            let saved = Vec::<SavedEvent>::deserialize(deserializer)?;
            Ok(saved
                .into_iter()
                .map(|e| {
                    (
                        OutboxEvent {
                            id: e.id,
                            details: e.details,
                        },
                        e.expanded_at,
                    )
                })
                .collect())
        }
    }

    #[derive(Serialize, Deserialize)]
    struct SavedLease {
        id: DeliveryId,
        owner: String,
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    }

    pub(super) mod leases {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            leases: &[(DeliveryId, String, OffsetDateTime)],
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            let saved: Vec<SavedLease> = leases
                .iter()
                .map(|(id, owner, until)| SavedLease {
                    id: *id,
                    owner: owner.clone(),
                    until: *until,
                })
                .collect();
            saved.serialize(serializer)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Vec<(DeliveryId, String, OffsetDateTime)>, D::Error> {
            let saved = Vec::<SavedLease>::deserialize(deserializer)?;
            Ok(saved
                .into_iter()
                .map(|l| (l.id, l.owner, l.until))
                .collect())
        }
    }

    pub(super) mod deliveries {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            deliveries: &[Delivery],
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            let saved: Vec<SavedDelivery> = deliveries
                .iter()
                .map(|d| SavedDelivery {
                    id: d.id,
                    event: d.event,
                    order_number: d.order_number.clone(),
                    kind: d.kind,
                    channel: d.channel,
                    audience: d.audience,
                    message: d.message.clone(),
                    state: d.state,
                    attempts: d.attempts,
                    next_attempt_at: d.next_attempt_at,
                    last_error: d.last_error.clone(),
                    provider_ref: d.provider_ref.clone(),
                    created_at: d.created_at,
                    sent_at: d.sent_at,
                })
                .collect();
            saved.serialize(serializer)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Vec<Delivery>, D::Error> {
            let saved = Vec::<SavedDelivery>::deserialize(deserializer)?;
            Ok(saved
                .into_iter()
                .map(|d| Delivery {
                    id: d.id,
                    event: d.event,
                    order_number: d.order_number,
                    kind: d.kind,
                    channel: d.channel,
                    audience: d.audience,
                    message: d.message,
                    state: d.state,
                    attempts: d.attempts,
                    next_attempt_at: d.next_attempt_at,
                    last_error: d.last_error,
                    provider_ref: d.provider_ref,
                    created_at: d.created_at,
                    sent_at: d.sent_at,
                })
                .collect())
        }
    }
}
