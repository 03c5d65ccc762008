//! The in-memory store: the reference implementation of [`Store`].
//!
//! One mutex guards all state, so every method is trivially atomic; each method reads like the
//! transaction a SQL store runs. Useful for tests, demos and as the model for new backends.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

mod outbox;
mod reports;
mod snapshot;
mod state;

pub use self::snapshot::MemorySnapshot;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    client::ClientNetwork,
    error::{ConflictReason, Entity, Error, Result},
    ids::{OrderNumber, PaymentId, ProductId},
    notify::{
        ChannelKind, Delivery, DeliveryClaim, DeliveryFilter, DeliveryId, DeliveryKey,
        DeliveryOutcome, NewDelivery, OutboxEvent, OutboxId,
    },
    order::{
        Actor, IdempotencyKey, NewOrder, Order, OrderFilter, OrderKey, OrderStatus, Placement,
        StatusChange, Trigger,
    },
    page::{RefundKey, ReviewKey},
    payment::{
        Payment, PaymentCheck, PaymentKind, PaymentResult, PaymentReview, PaymentStatus,
        PaymentTarget, Receipt, Settled,
    },
    phone::Msisdn,
    product::{Product, ProductKey, ProductRemoval},
    refund::{Refund, RefundChange, RefundId, RefundPlan, RefundStatus, RefundTarget},
    settings::StoreSettings,
    stats::{CustomerQuery, CustomerSummary, StatsFigures, StatsQuery},
    stock::{AdjustmentKey, NewStockAdjustment, StockAdjusted, StockAdjustment},
    store::{
        ExpiryCutoff, PaymentInsert, PushLimit, Store,
        verdict::{self, PaymentActivity, ProductStock},
    },
};

/// A [`Store`] that keeps everything in process memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl std::fmt::Debug for MemoryStore {
    // Counts only: the orders hold customers' names and addresses, which never go to a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("MemoryStore");
        match self.state.try_lock() {
            Ok(state) => out
                .field("products", &state.products.len())
                .field("orders", &state.orders.len())
                .field("payments", &state.payments.len())
                .field("reviews", &state.reviews.len())
                .finish(),
            Err(_) => out.finish_non_exhaustive(),
        }
    }
}

#[derive(Default)]
struct State {
    products: HashMap<ProductId, Product>,
    orders: HashMap<OrderNumber, Order>,
    /// Idempotency key → (order, request fingerprint).
    order_keys: HashMap<IdempotencyKey, (OrderNumber, String)>,
    payments: HashMap<PaymentId, Payment>,
    /// Order → its payments, so settling one does not scan every payment.
    order_payments: HashMap<OrderNumber, Vec<PaymentId>>,
    /// `(provider, provider_reference)` → payment.
    references: HashMap<(String, String), PaymentId>,
    receipts: HashMap<Receipt, PaymentId>,
    reviews: Vec<PaymentReview>,
    settings: Option<StoreSettings>,
    /// Unpaid order → the client network it came from (for the limit per network).
    placed_from: HashMap<OrderNumber, ClientNetwork>,
    /// Product → its stock adjustments, oldest first.
    adjustments: HashMap<ProductId, Vec<StockAdjustment>>,
    /// The outbox, in the order events were written.
    outbox: Vec<outbox::StoredEvent>,
    /// The messages made from the outbox, with their leases.
    deliveries: HashMap<DeliveryId, outbox::StoredDelivery>,
    /// `(phone, channel)` → whether the customer opted out of it.
    opt_outs: HashMap<(Msisdn, ChannelKind), bool>,
    /// Money owed back, by id.
    refunds: HashMap<RefundId, Refund>,
}

fn target_name(target: &RefundTarget) -> String {
    match target {
        RefundTarget::Id(id) => id.to_string(),
        RefundTarget::ProviderRequest(request) => request.clone(),
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave half a transaction behind: every method
        // checks everything before it writes anything.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn insert_product(&self, product: &Product) -> Result<()> {
        let mut state = self.state();
        if state.products.contains_key(&product.id) {
            return Err(Error::conflict(
                ConflictReason::AlreadyExists,
                format!("product {} already exists", product.id),
            ));
        }
        state.products.insert(product.id, product.clone());
        Ok(())
    }

    async fn update_product(
        &self,
        product: &Product,
        expected_version: Option<u64>,
    ) -> Result<Product> {
        let mut state = self.state();
        let stored = state
            .products
            .get_mut(&product.id)
            .ok_or_else(|| Error::not_found(Entity::Product, product.id))?;
        verdict::check_version(product.id, expected_version, stored.version)?;
        *stored = Product {
            stock: stored.stock,
            created_at: stored.created_at,
            version: stored.version + 1,
            ..product.clone()
        };
        Ok(stored.clone())
    }

    async fn adjust_stock(&self, adjustment: &NewStockAdjustment) -> Result<StockAdjusted> {
        let mut state = self.state();
        let history = state
            .adjustments
            .get(&adjustment.product_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if let Some(key) = &adjustment.idempotency_key {
            if let Some(earlier) = history
                .iter()
                .find(|a| a.idempotency_key.as_ref() == Some(key))
            {
                verdict::check_adjustment_replay(adjustment, earlier)?;
                return Ok(StockAdjusted::Replayed(earlier.clone()));
            }
        }
        let found = state.products.get(&adjustment.product_id).map(|p| p.stock);
        let after = verdict::adjusted_stock(adjustment, found)?;
        if let Some(product) = state.products.get_mut(&adjustment.product_id) {
            product.stock = Some(after);
            product.updated_at = adjustment.at;
        }
        let applied = adjustment.applied(after);
        state
            .adjustments
            .entry(adjustment.product_id)
            .or_default()
            .push(applied.clone());
        Ok(StockAdjusted::Applied(applied))
    }

    async fn stock_adjustments(
        &self,
        product: ProductId,
        after: Option<AdjustmentKey>,
        limit: usize,
    ) -> Result<Vec<StockAdjustment>> {
        let state = self.state();
        let mut adjustments: Vec<StockAdjustment> = state
            .adjustments
            .get(&product)
            .into_iter()
            .flatten()
            .filter(|a| after.is_none_or(|after| a.key() < after))
            .cloned()
            .collect();
        adjustments.sort_by_key(|a| std::cmp::Reverse(a.key()));
        adjustments.truncate(limit);
        Ok(adjustments)
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>> {
        Ok(self.state().products.get(&id).cloned())
    }

    async fn products_by_ids(&self, ids: &[ProductId]) -> Result<Vec<Product>> {
        let state = self.state();
        Ok(ids
            .iter()
            .filter_map(|id| state.products.get(id).cloned())
            .collect())
    }

    async fn list_products(
        &self,
        active_only: bool,
        after: Option<ProductKey>,
        limit: usize,
    ) -> Result<Vec<Product>> {
        let state = self.state();
        let mut products: Vec<Product> = state
            .products
            .values()
            .filter(|p| !active_only || p.active)
            .filter(|p| after.is_none_or(|after| p.key() > after))
            .cloned()
            .collect();
        products.sort_by_key(Product::key);
        products.truncate(limit);
        Ok(products)
    }

    async fn remove_product(&self, id: ProductId, at: OffsetDateTime) -> Result<ProductRemoval> {
        let mut state = self.state();
        if !state.products.contains_key(&id) {
            return Err(Error::not_found(Entity::Product, id));
        }
        let ordered = state
            .orders
            .values()
            .any(|o| o.lines.iter().any(|l| l.product_id == id));
        if ordered {
            if let Some(product) = state.products.get_mut(&id) {
                product.active = false;
                product.updated_at = at;
            }
            Ok(ProductRemoval::Archived)
        } else {
            state.products.remove(&id);
            state.adjustments.remove(&id);
            Ok(ProductRemoval::Deleted)
        }
    }

    async fn place_order(&self, new: &NewOrder) -> Result<Placement> {
        let mut state = self.state();
        if let Some(key) = &new.idempotency_key {
            if let Some((number, fingerprint)) = state.order_keys.get(key) {
                verdict::check_replay(new, fingerprint)?;
                let order = state
                    .orders
                    .get(number)
                    .cloned()
                    .ok_or_else(|| Error::not_found(Entity::Order, number))?;
                return Ok(Placement::Replayed(order));
            }
        }
        let order = &new.order;
        if state.orders.contains_key(&order.number) {
            return Err(verdict::order_number_taken());
        }
        let open = |of: &dyn Fn(&Order) -> bool| {
            state
                .orders
                .values()
                .filter(|o| o.status == OrderStatus::PendingPayment && of(o))
                .count() as u64
        };
        let for_phone = open(&|o| o.customer.phone == order.customer.phone);
        let from_client = match (&new.placed_from, new.limits.per_client) {
            (Some(network), Some(_)) => {
                Some(open(&|o| state.placed_from.get(&o.number) == Some(network)))
            }
            _ => None,
        };
        verdict::check_open_orders(&new.limits, for_phone, from_client)?;
        // Check every line before changing anything: all or nothing.
        let units = order.units_by_product();
        for wanted in &units {
            let found = state
                .products
                .get(&wanted.product_id)
                .map(|p| ProductStock {
                    active: p.active,
                    stock: p.stock,
                });
            verdict::check_stock(order, wanted, found)?;
        }
        for wanted in &units {
            if let Some(stock) = state
                .products
                .get_mut(&wanted.product_id)
                .and_then(|p| p.stock.as_mut())
            {
                *stock -= wanted.quantity;
            }
        }
        if let Some(key) = &new.idempotency_key {
            state
                .order_keys
                .insert(key.clone(), (order.number.clone(), new.fingerprint.clone()));
        }
        if let Some(network) = &new.placed_from {
            state
                .placed_from
                .insert(order.number.clone(), network.clone());
        }
        state.orders.insert(order.number.clone(), order.clone());
        state.write_event(Some(OutboxEvent::placed(order)));
        Ok(Placement::Placed(order.clone()))
    }

    async fn order(&self, number: &OrderNumber) -> Result<Option<Order>> {
        Ok(self.state().orders.get(number).cloned())
    }

    async fn list_orders(
        &self,
        filter: &OrderFilter,
        after: Option<OrderKey>,
        limit: usize,
    ) -> Result<Vec<Order>> {
        let state = self.state();
        let position = |o: &Order| (o.created_at, o.number.clone());
        let after = after.map(|k| (k.created_at, k.number));
        let mut orders: Vec<Order> = state
            .orders
            .values()
            .filter(|o| filter.matches(o))
            .filter(|o| after.as_ref().is_none_or(|after| position(o) < *after))
            .cloned()
            .collect();
        orders.sort_by_key(|o| std::cmp::Reverse(position(o)));
        orders.truncate(limit);
        Ok(orders)
    }

    async fn move_order(&self, number: &OrderNumber, change: &StatusChange) -> Result<Order> {
        let mut state = self.state();
        let order = state
            .orders
            .get(number)
            .ok_or_else(|| Error::not_found(Entity::Order, number))?;
        let cash_awaited = state
            .order_payments
            .get(number)
            .into_iter()
            .flatten()
            .filter_map(|id| state.payments.get(id))
            .any(crate::on_delivery::awaits_cash);
        let update = order.plan_move_paying(change, cash_awaited)?;
        let order = state.apply_order_update(number, &update)?;
        if update.to == OrderStatus::Cancelled {
            state.owe_refunds(&order, None, change.at);
        }
        state.write_event(OutboxEvent::moved(&order, &update));
        Ok(order)
    }

    async fn expire_orders(&self, cutoff: &ExpiryCutoff, limit: usize) -> Result<Vec<Order>> {
        let mut state = self.state();
        let mut due: Vec<(OffsetDateTime, OrderNumber)> = state
            .orders
            .values()
            .filter(|o| {
                let attempts: Vec<&Payment> = state
                    .order_payments
                    .get(&o.number)
                    .into_iter()
                    .flatten()
                    .filter_map(|id| state.payments.get(id))
                    .collect();
                verdict::expires(o, PaymentActivity::of(&attempts), cutoff)
            })
            .map(|o| (o.created_at, o.number.clone()))
            .collect();
        due.sort();
        due.truncate(limit);
        let change = StatusChange {
            to: OrderStatus::Cancelled,
            trigger: Trigger::Expiry,
            actor: Actor::System,
            note: None,
            note_for_customer: true,
            at: cutoff.at,
        };
        let mut expired = Vec::with_capacity(due.len());
        for (_, number) in due {
            let update = match state.orders.get(&number) {
                Some(order) => order.plan_move(&change)?,
                None => continue,
            };
            let order = state.apply_order_update(&number, &update)?;
            state.owe_refunds(&order, None, cutoff.at);
            state.write_event(OutboxEvent::moved(&order, &update));
            expired.push(order);
        }
        Ok(expired)
    }

    async fn insert_payment(
        &self,
        payment: &Payment,
        limit: Option<PushLimit>,
    ) -> Result<PaymentInsert> {
        let mut state = self.state();
        if !state.orders.contains_key(&payment.order_number) {
            return Err(Error::not_found(Entity::Order, &payment.order_number));
        }
        if let Some(key) = &payment.idempotency_key {
            let existing = state
                .payments_of(&payment.order_number)
                .into_iter()
                .find(|p| p.idempotency_key.as_ref() == Some(key));
            if let Some(existing) = existing {
                return Ok(PaymentInsert::Existing(existing));
            }
        }
        if state.payments.contains_key(&payment.id) {
            return Err(verdict::payment_exists(payment.id));
        }
        if let Some(reference) = &payment.provider_reference {
            if state
                .references
                .contains_key(&(payment.provider.clone(), reference.clone()))
            {
                return Err(verdict::reference_exists());
            }
        }
        state.check_receipt(payment)?;
        if let Some(order) = state.orders.get(&payment.order_number) {
            verdict::check_payable(&order.number, order.status)?;
        }
        if let (Some(limit), Some(phone), PaymentKind::StkPush) =
            (limit, &payment.phone, payment.kind)
        {
            let recent: Vec<OffsetDateTime> = state
                .payments
                .values()
                .filter(|p| {
                    p.kind == PaymentKind::StkPush
                        && p.phone.as_ref() == Some(phone)
                        && p.created_at > limit.since
                })
                .map(|p| p.created_at)
                .collect();
            verdict::check_payment_requests(
                &limit,
                recent.len() as u64,
                recent.iter().min().copied(),
            )?;
        }
        state.write_payment(payment.clone());
        Ok(PaymentInsert::Inserted(payment.clone()))
    }

    async fn mark_payment_started(
        &self,
        id: PaymentId,
        reference: Option<String>,
        status: PaymentStatus,
        at: OffsetDateTime,
    ) -> Result<Payment> {
        let mut state = self.state();
        let payment = state
            .payments
            .get(&id)
            .cloned()
            .ok_or_else(|| Error::not_found(Entity::Payment, id))?;
        let holder = reference
            .as_ref()
            .and_then(|r| state.references.get(&(payment.provider.clone(), r.clone())))
            .copied();
        let Some(started) =
            verdict::plan_started(&payment, reference.as_deref(), holder, status, at)?
        else {
            return Ok(payment);
        };
        state.write_payment(started.clone());
        Ok(started)
    }

    async fn settle_payment(
        &self,
        target: &PaymentTarget,
        result: &PaymentResult,
    ) -> Result<Settled> {
        let mut state = self.state();
        let id = match target {
            PaymentTarget::Id(id) => Some(*id),
            PaymentTarget::Reference {
                provider,
                reference,
            } => state
                .references
                .get(&(provider.clone(), reference.clone()))
                .copied(),
        };
        let payment = id
            .and_then(|id| state.payments.get(&id).cloned())
            .ok_or_else(|| Error::not_found(Entity::Payment, target))?;
        state.settle(&payment, result)
    }

    async fn record_direct_payment(
        &self,
        payment: &Payment,
        result: &PaymentResult,
    ) -> Result<Settled> {
        let mut state = self.state();
        if let Some(reference) = &payment.provider_reference {
            let key = (payment.provider.clone(), reference.clone());
            if let Some(existing) = state
                .references
                .get(&key)
                .and_then(|id| state.payments.get(id))
            {
                return Ok(Settled::Unchanged {
                    payment: Box::new(existing.clone()),
                    reason: crate::payment::Unchanged::Duplicate,
                });
            }
        }
        if state.payments.contains_key(&payment.id) {
            return Err(verdict::payment_exists(payment.id));
        }
        state.check_receipt(payment)?;
        // Settle first and write only if it applies: nothing is kept of a refused payment
        // (the caller records the notice for review).
        state.settle(payment, result)
    }

    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>> {
        Ok(self.state().payments.get(&id).cloned())
    }

    async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>> {
        let state = self.state();
        Ok(state
            .references
            .get(&(provider.to_owned(), reference.to_owned()))
            .and_then(|id| state.payments.get(id))
            .cloned())
    }

    async fn payments_for_order(&self, number: &OrderNumber) -> Result<Vec<Payment>> {
        Ok(self.state().payments_of(number))
    }

    async fn payments_due_for_check(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Payment>> {
        let state = self.state();
        let mut due: Vec<Payment> = state
            .payments
            .values()
            .filter(|p| p.status == PaymentStatus::Pending)
            .filter(|p| p.next_check_at.is_some_and(|t| t <= now))
            .cloned()
            .collect();
        due.sort_by_key(|p| (p.next_check_at, p.id));
        due.truncate(limit);
        Ok(due)
    }

    async fn schedule_payment_check(&self, id: PaymentId, check: &PaymentCheck) -> Result<()> {
        let mut state = self.state();
        let payment = state
            .payments
            .get_mut(&id)
            .ok_or_else(|| Error::not_found(Entity::Payment, id))?;
        if payment.status == PaymentStatus::Pending {
            payment.checks = check.checks;
            payment.next_check_at = check.next_check_at;
            payment.needs_review |= check.needs_review;
            payment.updated_at = check.at;
        }
        Ok(())
    }

    async fn record_review(&self, review: &PaymentReview) -> Result<()> {
        let mut state = self.state();
        if state.reviews.iter().any(|r| r.id == review.id) {
            return Err(Error::conflict(
                ConflictReason::AlreadyExists,
                format!("review {} already exists", review.id.as_uuid()),
            ));
        }
        state.reviews.push(review.clone());
        Ok(())
    }

    async fn list_reviews(
        &self,
        after: Option<ReviewKey>,
        limit: usize,
    ) -> Result<Vec<PaymentReview>> {
        let state = self.state();
        let position = |r: &PaymentReview| (r.at, r.id);
        let mut reviews: Vec<PaymentReview> = state
            .reviews
            .iter()
            .filter(|r| after.is_none_or(|k| position(r) < (k.at, k.id)))
            .cloned()
            .collect();
        reviews.sort_by_key(|r| std::cmp::Reverse(position(r)));
        reviews.truncate(limit);
        Ok(reviews)
    }

    async fn review(&self, id: crate::ids::ReviewId) -> Result<Option<PaymentReview>> {
        Ok(self.state().reviews.iter().find(|r| r.id == id).cloned())
    }

    async fn resolve_review(
        &self,
        id: crate::ids::ReviewId,
        resolution: &crate::payment::ReviewResolution,
    ) -> Result<PaymentReview> {
        let mut state = self.state();
        let review = state
            .reviews
            .iter_mut()
            .find(|r| r.id == id)
            .ok_or_else(|| Error::not_found(Entity::Review, id))?;
        if review.resolution.is_some() {
            return Err(verdict::review_resolved(id));
        }
        review.resolution = Some(resolution.clone());
        let review = review.clone();
        if let Some(order) = review
            .order_number
            .as_ref()
            .and_then(|number| state.orders.get_mut(number))
        {
            if let Some(entry) = resolution.timeline_entry(&review, order.status) {
                order.timeline.push(entry);
            }
        }
        Ok(review)
    }

    async fn refund(&self, id: RefundId) -> Result<Option<Refund>> {
        Ok(self.state().refunds.get(&id).cloned())
    }

    async fn refunds_for_order(&self, number: &OrderNumber) -> Result<Vec<Refund>> {
        Ok(self.state().refunds_of(number))
    }

    async fn list_refunds(
        &self,
        status: Option<RefundStatus>,
        after: Option<RefundKey>,
        limit: usize,
    ) -> Result<Vec<Refund>> {
        let state = self.state();
        let position = |r: &Refund| (r.created_at, r.id);
        let mut refunds: Vec<Refund> = state
            .refunds
            .values()
            .filter(|r| status.is_none_or(|s| r.status == s))
            .filter(|r| after.is_none_or(|k| position(r) < (k.created_at, k.id)))
            .cloned()
            .collect();
        refunds.sort_by_key(|r| std::cmp::Reverse(position(r)));
        refunds.truncate(limit);
        Ok(refunds)
    }

    async fn change_refund(&self, target: &RefundTarget, change: &RefundChange) -> Result<Refund> {
        let mut state = self.state();
        let refund = match target {
            RefundTarget::Id(id) => state.refunds.get(id),
            RefundTarget::ProviderRequest(request) => state
                .refunds
                .values()
                .find(|r| r.provider_request.as_deref() == Some(request.as_str())),
        }
        .cloned()
        .ok_or_else(|| Error::not_found(Entity::Refund, target_name(target)))?;
        let RefundPlan::Write(next) = refund.plan(change)? else {
            return Ok(refund);
        };
        let taken = |value: &Option<String>, of: fn(&Refund) -> &Option<String>| {
            value.is_some()
                && state
                    .refunds
                    .values()
                    .any(|other| other.id != next.id && of(other) == value)
        };
        if taken(&next.reference, |r| &r.reference)
            || taken(&next.provider_request, |r| &r.provider_request)
        {
            return Err(verdict::refund_reference_taken());
        }
        let mut sent = None;
        if let Some(order) = state.orders.get_mut(&next.order_number) {
            if let Some(entry) = refund.timeline_entry(&next, order.status) {
                order.timeline.push(entry);
            }
            sent = OutboxEvent::refund_sent(order, &refund, &next);
        }
        state.write_event(sent);
        state.refunds.insert(next.id, (*next).clone());
        Ok(*next)
    }

    async fn refund_totals(&self) -> Result<Vec<(RefundStatus, crate::money::Money)>> {
        let state = self.state();
        let mut totals: Vec<(RefundStatus, crate::money::Money)> = Vec::new();
        for refund in state.refunds.values() {
            // Amounts of two currencies are never added.
            match totals.iter_mut().find(|(status, total)| {
                *status == refund.status && total.currency() == refund.amount.currency()
            }) {
                Some((_, total)) => {
                    *total = total
                        .checked_add(refund.amount)
                        .map_err(|e| Error::backend("memory store", e))?;
                }
                None => totals.push((refund.status, refund.amount)),
            }
        }
        totals.sort_by_key(|(status, _)| *status);
        Ok(totals)
    }

    async fn settings(&self) -> Result<Option<StoreSettings>> {
        Ok(self.state().settings.clone())
    }

    async fn save_settings(&self, settings: &StoreSettings) -> Result<()> {
        self.state().settings = Some(settings.clone());
        Ok(())
    }

    async fn stats(&self, query: &StatsQuery) -> Result<StatsFigures> {
        reports::stats(&self.state(), query)
    }

    async fn customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerSummary>> {
        reports::customers(&self.state(), query)
    }

    async fn ping(&self) -> Result<()> {
        Ok(())
    }

    async fn pending_outbox_events(&self, limit: usize) -> Result<Vec<OutboxEvent>> {
        Ok(self.state().pending_outbox_events(limit))
    }

    async fn expand_outbox_event(
        &self,
        id: OutboxId,
        deliveries: &[NewDelivery],
        at: OffsetDateTime,
    ) -> Result<bool> {
        self.state().expand_outbox_event(id, deliveries, at)
    }

    async fn claim_deliveries(&self, claim: &DeliveryClaim) -> Result<Vec<Delivery>> {
        Ok(self.state().claim_deliveries(claim))
    }

    async fn finish_delivery(
        &self,
        id: DeliveryId,
        worker: &str,
        outcome: &DeliveryOutcome,
    ) -> Result<bool> {
        Ok(self.state().finish_delivery(id, worker, outcome))
    }

    async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        after: Option<DeliveryKey>,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        Ok(self.state().list_deliveries(filter, after, limit))
    }

    async fn retry_delivery(&self, id: DeliveryId, at: OffsetDateTime) -> Result<Delivery> {
        self.state().retry_delivery(id, at)
    }

    async fn set_opt_out(
        &self,
        phone: &Msisdn,
        channel: ChannelKind,
        opted_out: bool,
        _at: OffsetDateTime,
    ) -> Result<()> {
        self.state().set_opt_out(phone, channel, opted_out);
        Ok(())
    }

    async fn opted_out(&self, phone: &Msisdn, channel: ChannelKind) -> Result<bool> {
        Ok(self.state().opted_out(phone, channel))
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;
    use crate::{Currency, Money};

    #[tokio::test]
    async fn debug_shows_counts_never_contents() {
        let store = MemoryStore::new();
        store
            .insert_product(&Product {
                id: ProductId::from_uuid(Uuid::from_u128(1)),
                name: "Kikoi of Wanjiru Kamau".into(),
                description: String::new(),
                price: Money::new(dec!(1500), Currency::Kes).unwrap(),
                stock: None,
                max_per_order: None,
                image: None,
                active: true,
                created_at: datetime!(2026-01-01 00:00 UTC),
                updated_at: datetime!(2026-01-01 00:00 UTC),
                version: 1,
            })
            .await
            .unwrap();

        let shown = format!("{store:?}");

        assert_eq!(
            shown,
            "MemoryStore { products: 1, orders: 0, payments: 0, reviews: 0 }"
        );
    }
}
