//! The storage trait every backend implements.
//!
//! # Contract
//!
//! A `Store` persists; it decides nothing. Every rule of the shop is a pure function of
//! `pochi-core` that the store calls at the right moment, on the data as it is inside its
//! transaction:
//!
//! | method | inside one atomic unit, the store … |
//! |---|---|
//! | [`Store::place_order`] | returns the earlier order if the idempotency key is known and [`verdict::check_replay`] says it is a replay (its refusal otherwise); refuses a taken order number with [`verdict::order_number_taken`]; refuses with [`verdict::check_open_orders`] when the customer's phone, or the client network the order came from, already has as many `pending_payment` orders as [`OpenOrderLimits`] allow (counted under a lock per phone and per network, so racing orders cannot both take the last place); otherwise decrements the stock of every tracked product **only if enough is left**, asking [`verdict::check_stock`] why not when it is not (nothing written), and inserts the order, its lines and its timeline. |
//! | [`Store::update_product`] | with an expected version, writes the edited fields only if the stored version is that one ([`verdict::check_version`] words the refusal); never writes stock; adds one to the version. |
//! | [`Store::adjust_stock`] | returns the earlier adjustment with the same idempotency key ([`verdict::check_adjustment_replay`]); otherwise adds the delta to the stock **only if** it stays within 0 and the maximum ([`verdict::adjusted_stock`] says why not), and appends the adjustment to the product's history. |
//! | [`Store::move_order`] | locks the order, calls [`Order::plan_move_paying`] with whether the order has a pay-on-delivery attempt waiting ([`awaits_cash`](crate::on_delivery::awaits_cash): such an order may be prepared and dispatched unpaid), writes the [`OrderUpdate`] (status, timeline entry, stock releases). |
//! | [`Store::expire_orders`] | does the same, with [`Trigger::Expiry`](crate::Trigger), for each `pending_payment` order that [`verdict::expires`] under the [`ExpiryCutoff`]: with no payment attempt at all, placed before the short hold's cutoff; with attempts, placed before the cutoff, and, when one of them is still in flight (`pending`, `pending_verification`), placed before the hard bound too; never while a pay-on-delivery attempt waits for its cash ([`PaymentActivity::OnDelivery`](verdict::PaymentActivity)). |
//! | [`Store::insert_payment`] | returns the order's attempt with the same idempotency key; with a [`PushLimit`], refuses a push with [`verdict::check_payment_requests`] when the phone has had as many pushes in the window (counted under a lock per phone); otherwise inserts. |
//! | [`Store::settle_payment`] | locks the attempt and its order, calls [`settle`](crate::payment::settle), writes the [`Settlement`] (an `AddReceipt` writes the attempt's receipt alone and answers `Settled::Unchanged` with `ReceiptAdded`: commit whenever [`Settled::wrote`](crate::Settled::wrote)). A receipt already on another payment is a `Conflict` with `ReceiptAlreadyUsed`, nothing written. |
//! | [`Store::record_direct_payment`] | inserts the payment and settles it as above; a known `(provider, reference)` is `Settled::Unchanged` (a duplicate). |
//! | [`Store::change_refund`] | locks the refund's order, then the refund, calls [`Refund::plan`](crate::refund::Refund::plan), writes the refund it returns and, when [`Refund::timeline_entry`](crate::refund::Refund::timeline_entry) gives one (the refund was paid back), appends it to the order's timeline in the same transaction; when the refund becomes `refunded` it writes [`OutboxEvent::refund_sent`] there too. A reference or provider request that another refund has is a `Conflict` (`AlreadyExists`), nothing written. |
//! | [`Store::resolve_review`] | locks the order the notice names (if any), writes the decision only if none is recorded, and appends [`ReviewResolution::timeline_entry`](crate::payment::ReviewResolution::timeline_entry) (if any) to that order's timeline, in one transaction. |
//!
//! Refunds are owed in the same transaction as the change that owes them: after
//! `move_order` and `expire_orders` move an order, and after `settle_payment` and
//! `record_direct_payment` apply a result, the store asks [`refunds_due`](crate::refund::refunds_due)
//! with the order, its payments and its refunds as they are then, and inserts what it returns.
//!
//! Uniqueness (order number; idempotency key per order list and per order's payments;
//! `(provider, provider_reference)`; receipt) is enforced by the backend (unique constraints),
//! so it holds across processes. Concurrency must never oversell, double count a receipt or
//! apply one result twice; [`pochi-testkit`](https://docs.rs/pochi-testkit) checks all of it.
//!
//! Times are stored with microsecond precision in UTC; money exactly (decimals or minor
//! units). Text, including any Unicode, round-trips byte for byte.
//!
//! Errors: a backend that cannot be reached, or gives up on a deadlock after retries, returns
//! [`Error::Unavailable`](crate::Error); anything unexpected is [`Error::Backend`](crate::Error).
//! A constraint violation is never reported as success.
//!
//! # Implementing
//!
//! Start from [`MemoryStore`](crate::MemoryStore): it is the reference implementation, and
//! every line of its transactions maps to a statement of a SQL store. Then run
//! `pochi_testkit::store_conformance_tests!` against your backend.
//!
//! A few methods are provided (such as [`Store::tracked_order`]): a default built on the
//! required methods keeps every store working when one is added, and a backend that can do
//! the same in one read overrides it. So a store that wraps another (a cache, a fault
//! injector, a metrics wrapper) must forward the provided methods too, not only the required
//! ones: otherwise it silently runs the default and loses the inner store's fast path.

mod forward;
pub mod verdict;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    error::{Entity, Error, Result},
    ids::{OrderNumber, PaymentId, ProductId},
    notify::{
        ChannelKind, Delivery, DeliveryClaim, DeliveryFilter, DeliveryId, DeliveryKey,
        DeliveryOutcome, NewDelivery, OutboxEvent, OutboxId,
    },
    order::{Order, OrderFilter, OrderKey, Placement, StatusChange},
    page::{RefundKey, ReviewKey},
    payment::{Payment, PaymentResult, PaymentReview, PaymentStatus, PaymentTarget, Settled},
    phone::Msisdn,
    product::{Product, ProductKey, ProductRemoval},
    refund::{Refund, RefundChange, RefundStatus, RefundTarget},
    settings::StoreSettings,
    stats::CustomerSummary,
    stock::{AdjustmentKey, NewStockAdjustment, StockAdjusted, StockAdjustment},
    tracking::TrackedOrder,
};
/// The types a store reads and writes that an application using the shop never meets: what to
/// place, what a move or a settlement writes, the figures behind the statistics.
pub use crate::{
    order::{NewOrder, OrderUpdate, StockUnits},
    payment::{PaymentCheck, Settlement},
    stats::{CustomerQuery, StatsFigures, StatsQuery, TopProduct},
};

/// Which unpaid orders expire now (see [`verdict::expires`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryCutoff {
    /// Orders with no payment attempt at all expire when placed before this (the short hold
    /// of an order nobody started to pay: no earlier than `placed_before`); orders whose
    /// attempts all ended expire when the last of them ended before this.
    pub unstarted_placed_before: OffsetDateTime,
    /// Orders placed before this expire, unless a payment attempt of theirs is in flight.
    pub placed_before: OffsetDateTime,
    /// Orders with an attempt in flight expire only when placed before this (the hard bound:
    /// no earlier than `placed_before`).
    pub in_flight_placed_before: OffsetDateTime,
    /// When they expire (the time of the timeline entry).
    pub at: OffsetDateTime,
}

impl ExpiryCutoff {
    /// Orders placed before `placed_before` expire whatever their attempts.
    pub fn by_age(placed_before: OffsetDateTime, at: OffsetDateTime) -> Self {
        ExpiryCutoff {
            unstarted_placed_before: placed_before,
            placed_before,
            in_flight_placed_before: placed_before,
            at,
        }
    }
}

/// How many unpaid orders may be open at once for one customer, which a store checks when it
/// places an order (see [`verdict::check_open_orders`]). Counted are `pending_payment` orders
/// of the new order's phone and, when the order says where it came from
/// ([`NewOrder::placed_from`]), of its client network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenOrderLimits {
    /// At most this many open orders per phone number (`None`: no limit).
    pub per_phone: Option<u32>,
    /// At most this many open orders per client network (`None`: no limit).
    pub per_client: Option<u32>,
    /// What a refused customer is told to wait, in seconds: about the time an open order
    /// takes to be paid or to expire.
    pub retry_after_secs: u64,
}

/// How many payment requests (pushes) may go to one phone number within a window, across all
/// orders, which a store checks when it inserts a push attempt (see
/// [`verdict::check_payment_requests`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushLimit {
    /// At most this many push attempts to the phone …
    pub max: u32,
    /// … created after this time (now minus the window).
    pub since: OffsetDateTime,
    /// The length of the window: a refused request may be retried when the oldest counted
    /// attempt is this old.
    pub window: std::time::Duration,
    /// Now, to say how long to wait.
    pub now: OffsetDateTime,
}

/// What inserting a payment attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentInsert {
    /// It was new and is now stored.
    Inserted(Payment),
    /// An attempt with the same idempotency key exists for the order: this one.
    Existing(Payment),
}

/// Where the shop keeps its data. See the [module docs](self) for the contract.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Store: std::fmt::Debug + Send + Sync + 'static {
    // ----- catalogue -----

    /// Inserts a new product. A product with the same id is a `Conflict` (`AlreadyExists`).
    async fn insert_product(&self, product: &Product) -> Result<()>;

    /// Writes what an admin edits of a product (name, description, price, `max_per_order`,
    /// image, active, `updated_at`), never its stock, `id` or `created_at`, and adds one to
    /// its version (the `version` of the argument is ignored); returns the product as stored
    /// afterwards (its stock as it is now).
    ///
    /// With `expected_version`, atomically and only if the stored version is that one:
    /// otherwise [`Error::ProductChanged`](crate::Error) with the current version (asked of
    /// [`verdict::check_version`]), nothing written. `NotFound` if it does not exist.
    async fn update_product(
        &self,
        product: &Product,
        expected_version: Option<u64>,
    ) -> Result<Product>;

    /// A product by id.
    async fn product(&self, id: ProductId) -> Result<Option<Product>>;

    /// The products with these ids that exist, in any order.
    async fn products_by_ids(&self, ids: &[ProductId]) -> Result<Vec<Product>>;

    /// Up to `limit` products after `after` in `(created_at, id)` ascending order, only active
    /// ones when `active_only`.
    async fn list_products(
        &self,
        active_only: bool,
        after: Option<ProductKey>,
        limit: usize,
    ) -> Result<Vec<Product>>;

    /// Deletes a product no order refers to, or archives (deactivates, `updated_at = at`) one
    /// that orders refer to, atomically. `NotFound` if it does not exist.
    async fn remove_product(&self, id: ProductId, at: OffsetDateTime) -> Result<ProductRemoval>;

    /// Applies a stock adjustment atomically: returns the product's adjustment with the same
    /// idempotency key if there is one ([`StockAdjusted::Replayed`] when
    /// [`verdict::check_adjustment_replay`] says it is a replay, its refusal otherwise);
    /// otherwise adds `delta` to the stock as it is now **only if** the result stays within
    /// 0 and [`MAX_STOCK`](crate::product::MAX_STOCK), asking [`verdict::adjusted_stock`] why
    /// not when it does not (nothing written), sets `updated_at`, and appends the adjustment
    /// to the product's history with the stock after it. Adjustments racing each other and
    /// orders all count: none is lost. The product's version does not change.
    async fn adjust_stock(&self, adjustment: &NewStockAdjustment) -> Result<StockAdjusted>;

    /// Up to `limit` adjustments of a product's stock after `after`, newest first (`at`
    /// descending, then id descending).
    async fn stock_adjustments(
        &self,
        product: ProductId,
        after: Option<AdjustmentKey>,
        limit: usize,
    ) -> Result<Vec<StockAdjustment>>;

    // ----- orders -----

    /// Places an order atomically with its stock reservation (see the contract).
    async fn place_order(&self, order: &NewOrder) -> Result<Placement>;

    /// An order by number, with its lines and timeline.
    async fn order(&self, number: &OrderNumber) -> Result<Option<Order>>;

    /// The public tracking view of an order by number ([`TrackedOrder::of`] its
    /// [`Store::order`], [`Store::payments_for_order`] and [`Store::refunds_for_order`]), or
    /// `None` for an unknown number.
    ///
    /// The default reads both. A backend overrides it when it can read what the tracking page
    /// shows more cheaply (the SQL stores read it in one statement); the result must equal the
    /// default's, masking included: build it with [`TrackedOrder::from`], never by masking
    /// again.
    async fn tracked_order(&self, number: &OrderNumber) -> Result<Option<TrackedOrder>> {
        let Some(order) = self.order(number).await? else {
            return Ok(None);
        };
        let payments = self.payments_for_order(number).await?;
        let refunds = self.refunds_for_order(number).await?;
        Ok(Some(TrackedOrder::of(&order, &payments, &refunds)))
    }

    /// Up to `limit` orders passing `filter`, after `after`, newest first (`created_at`
    /// descending, then number descending).
    async fn list_orders(
        &self,
        filter: &OrderFilter,
        after: Option<OrderKey>,
        limit: usize,
    ) -> Result<Vec<Order>>;

    /// Moves an order's status atomically (see the contract) and returns it afterwards.
    async fn move_order(&self, number: &OrderNumber, change: &StatusChange) -> Result<Order>;

    /// Cancels up to `limit` `pending_payment` orders that expire under `cutoff` (oldest
    /// first), releasing their stock, each atomically (see the contract); returns them
    /// afterwards.
    async fn expire_orders(&self, cutoff: &ExpiryCutoff, limit: usize) -> Result<Vec<Order>>;

    // ----- payments -----

    /// Inserts a new attempt, or returns the order's attempt with the same idempotency key.
    /// `NotFound` if the order does not exist.
    ///
    /// With a `limit`, a new push attempt (kind `stk_push`, with a phone) is inserted only if
    /// [`verdict::check_payment_requests`] allows it, given the push attempts to the same
    /// phone created after `limit.since` (of any order); the count and the insert are atomic
    /// across processes (two requests racing for the last place cannot both have it).
    async fn insert_payment(
        &self,
        payment: &Payment,
        limit: Option<PushLimit>,
    ) -> Result<PaymentInsert>;

    /// Records that the provider accepted the attempt: its reference and status (`pending` or
    /// `pending_verification`), only while it is still `pending`. A reference that another
    /// attempt of the same provider has is a `Conflict` (`AlreadyExists`), nothing written.
    async fn mark_payment_started(
        &self,
        id: PaymentId,
        reference: Option<String>,
        status: PaymentStatus,
        at: OffsetDateTime,
    ) -> Result<Payment>;

    /// Applies a result to an attempt atomically (see the contract). `NotFound` if no attempt
    /// matches `target`.
    async fn settle_payment(
        &self,
        target: &PaymentTarget,
        result: &PaymentResult,
    ) -> Result<Settled>;

    /// Inserts a payment that arrived without an attempt (C2B) and settles it, atomically.
    async fn record_direct_payment(
        &self,
        payment: &Payment,
        result: &PaymentResult,
    ) -> Result<Settled>;

    /// An attempt by id.
    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>>;

    /// An attempt by its provider reference.
    async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>>;

    /// The attempts of an order, oldest first.
    async fn payments_for_order(&self, number: &OrderNumber) -> Result<Vec<Payment>>;

    /// The attempts of each of `numbers` (a page of an order list), each order's oldest first;
    /// the orders may come in any order.
    ///
    /// The default calls [`Store::payments_for_order`] once per order; a backend overrides it
    /// when it can read them in one go (the SQL stores do, for the order export).
    async fn payments_for_orders(&self, numbers: &[OrderNumber]) -> Result<Vec<Payment>> {
        let mut payments = Vec::new();
        for number in numbers {
            payments.extend(self.payments_for_order(number).await?);
        }
        Ok(payments)
    }

    /// Up to `limit` `pending` attempts whose `next_check_at` is at or before `now`, earliest
    /// first.
    async fn payments_due_for_check(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Payment>>;

    /// Records a reconciliation check on a `pending` attempt (no change if it is no longer
    /// pending).
    async fn schedule_payment_check(&self, id: PaymentId, check: &PaymentCheck) -> Result<()>;

    /// Keeps a payment notice for review.
    async fn record_review(&self, review: &PaymentReview) -> Result<()>;

    /// Up to `limit` reviews after `after`, newest first (`at` descending, then id descending).
    async fn list_reviews(
        &self,
        after: Option<ReviewKey>,
        limit: usize,
    ) -> Result<Vec<PaymentReview>>;

    /// A review by id.
    async fn review(&self, id: crate::ids::ReviewId) -> Result<Option<PaymentReview>>;

    /// Records an admin's decision on review `id`, atomically and only if none is recorded
    /// (a conditional write), with its entry on the timeline of the order the notice names (see
    /// the contract): a review already decided is a `Conflict` with
    /// [`ConflictReason::ReviewResolved`](crate::ConflictReason), asked of
    /// [`verdict::review_resolved`], nothing written; `NotFound` (`Review`) for an unknown id.
    /// Returns the review afterwards.
    async fn resolve_review(
        &self,
        id: crate::ids::ReviewId,
        resolution: &crate::payment::ReviewResolution,
    ) -> Result<PaymentReview>;

    // ----- refunds (see [`refund`](crate::refund)) -----

    /// A refund by id.
    async fn refund(&self, id: crate::refund::RefundId) -> Result<Option<Refund>>;

    /// The refunds of an order, oldest first (`created_at`, then id).
    async fn refunds_for_order(&self, number: &OrderNumber) -> Result<Vec<Refund>>;

    /// The refunds of each of `numbers` (a page of an order list), each order's oldest first;
    /// the orders may come in any order.
    ///
    /// The default calls [`Store::refunds_for_order`] once per order; a backend overrides it
    /// when it can read them in one go (the SQL stores do, for the order export).
    async fn refunds_for_orders(&self, numbers: &[OrderNumber]) -> Result<Vec<Refund>> {
        let mut refunds = Vec::new();
        for number in numbers {
            refunds.extend(self.refunds_for_order(number).await?);
        }
        Ok(refunds)
    }

    /// Up to `limit` refunds with `status` (every status when `None`), after `after`, newest
    /// first (`created_at` descending, then id descending).
    async fn list_refunds(
        &self,
        status: Option<RefundStatus>,
        after: Option<RefundKey>,
        limit: usize,
    ) -> Result<Vec<Refund>>;

    /// Applies `change` to the refund `target` names, atomically (see the contract), and
    /// returns it afterwards (as it is, when the plan changed nothing). `NotFound` (`Refund`)
    /// when no refund matches.
    async fn change_refund(&self, target: &RefundTarget, change: &RefundChange) -> Result<Refund>;

    /// What all refunds add up to, per status and currency (those without a refund left out).
    async fn refund_totals(&self) -> Result<Vec<(RefundStatus, crate::money::Money)>>;

    // ----- settings, stats, customers -----

    /// The saved settings, if any were saved.
    async fn settings(&self) -> Result<Option<StoreSettings>>;

    /// Saves the settings, replacing earlier ones.
    async fn save_settings(&self, settings: &StoreSettings) -> Result<()>;

    /// Adds up the figures the shop's statistics are made of.
    async fn stats(&self, query: &StatsQuery) -> Result<StatsFigures>;

    /// Customers (one per phone number), ascending by phone.
    async fn customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerSummary>>;

    /// Checks the backend is reachable.
    async fn ping(&self) -> Result<()>;

    // ----- notifications (see [`notify`](crate::notify)) -----
    //
    // Writing the outbox is part of the writes above: `place_order` (a new order, not a
    // replay) writes [`OutboxEvent::placed`]; `move_order` and `expire_orders` write
    // [`OutboxEvent::moved`] for each move; `settle_payment` and `record_direct_payment`,
    // when they apply a result, write [`OutboxEvent::settled`] of the payment and the order
    // afterwards; `change_refund`, when the refund becomes `refunded`, writes
    // [`OutboxEvent::refund_sent`]. Each in the same transaction as its change, never after it.

    /// Up to `limit` events not yet expanded into messages, oldest first. A store that keeps
    /// events as text leaves those of a kind this build does not know
    /// ([`NoticeKind::ALL`](crate::notify::NoticeKind::ALL); a newer build wrote them before a
    /// rollback) pending and out of the answer, so they neither fail the batch nor get lost.
    async fn pending_outbox_events(&self, limit: usize) -> Result<Vec<OutboxEvent>>;

    /// Marks event `id` expanded and inserts its messages, atomically, only if it is still
    /// pending: returns whether this call did it (`false`: another dispatcher expanded it
    /// first, nothing written). `NotFound` (`Message`) if there is no such event.
    async fn expand_outbox_event(
        &self,
        id: OutboxId,
        deliveries: &[NewDelivery],
        at: OffsetDateTime,
    ) -> Result<bool>;

    /// Claims up to `claim.limit` due deliveries (state `pending`, `next_attempt_at <=
    /// claim.now`, no lease or an expired one), earliest due first, for `claim.worker` until
    /// `claim.lease_until`, and counts one attempt on each; atomically across processes: two
    /// claims never both get a delivery while its lease holds (the SQL stores skip rows
    /// another claim has locked, `FOR UPDATE SKIP LOCKED`, or claim under SQLite's one write
    /// lock).
    async fn claim_deliveries(&self, claim: &DeliveryClaim) -> Result<Vec<Delivery>>;

    /// Records what came of sending a delivery `worker` claimed, and releases the lease;
    /// only while `worker` still holds it and it is pending (returns `false`, nothing
    /// written, otherwise). A retry sets `next_attempt_at`; `Dead` keeps it for an admin.
    async fn finish_delivery(
        &self,
        id: DeliveryId,
        worker: &str,
        outcome: &DeliveryOutcome,
    ) -> Result<bool>;

    /// Up to `limit` deliveries passing `filter`, after `after`, newest first (`created_at`
    /// descending, then id descending).
    async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        after: Option<DeliveryKey>,
        limit: usize,
    ) -> Result<Vec<Delivery>>;

    /// Puts a dead delivery back to `pending`, due at `at`, with its attempts counted from
    /// zero, and returns it. `NotFound` (`Message`); a delivery that is not dead is a
    /// `Conflict` (`MessageNotDead`), nothing written.
    async fn retry_delivery(&self, id: DeliveryId, at: OffsetDateTime) -> Result<Delivery>;

    /// Records that the customer with this phone opted out of (or back into) a channel.
    async fn set_opt_out(
        &self,
        phone: &Msisdn,
        channel: ChannelKind,
        opted_out: bool,
        at: OffsetDateTime,
    ) -> Result<()>;

    /// Whether the customer with this phone opted out of a channel.
    async fn opted_out(&self, phone: &Msisdn, channel: ChannelKind) -> Result<bool>;
}

/// Conveniences over [`Store`], for every store.
#[async_trait]
pub trait StoreExt: Store {
    /// An order by number, or `NotFound`.
    async fn order_required(&self, number: &OrderNumber) -> Result<Order> {
        self.order(number)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Order, number))
    }

    /// A product by id, or `NotFound`.
    async fn product_required(&self, id: ProductId) -> Result<Product> {
        self.product(id)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Product, id))
    }

    /// A payment by id, or `NotFound`.
    async fn payment_required(&self, id: PaymentId) -> Result<Payment> {
        self.payment(id)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Payment, id))
    }
}

impl<S: Store + ?Sized> StoreExt for S {}
