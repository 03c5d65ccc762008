//! Saving a memory store and loading it back.

use serde::{Deserialize, Serialize};

use super::{MemoryStore, State};
use crate::{
    client::ClientNetwork,
    ids::OrderNumber,
    order::{IdempotencyKey, Order},
    payment::{Payment, PaymentReview},
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
        MemorySnapshot {
            products,
            orders,
            order_keys,
            payments,
            reviews: state.reviews.clone(),
            settings: state.settings.clone(),
            placed_from,
            stock_adjustments,
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
            ..State::default()
        };
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
