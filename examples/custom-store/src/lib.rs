//! Test with `cargo test -p pochi-example-custom-store` (pochi-testkit's whole store suite, and
//! a restart); run the demo with `cargo run -p pochi-example-custom-store`.
//!
//! The shortest honest path to a new [`Store`]: a shop kept in one JSON file, for a stall
//! that wants its orders to survive a restart without running a database.
//!
//! # How a store is built
//!
//! A store persists; it decides nothing. Every verdict is a function of `pochi-core` the store
//! calls inside its transaction: [`pochi_core::store::verdict`] for placing (a replay or a
//! reused key, stock refusals), [`Order::plan_move`](pochi_core::Order::plan_move) for status
//! moves and expiry, [`settle`](pochi_core::payment::settle) for payment results. Then
//! `pochi_testkit::store_conformance_tests!` stamps one test per scenario of the contract
//! (overselling, replays, receipts counted once, concurrent moves, pagination, …) against
//! your store; `tests/conformance.rs` here is the whole of it.
//!
//! This store takes the shortest of the honest paths: [`MemoryStore`], the reference
//! implementation, does every transaction (it calls those functions under one lock), and this
//! store adds durability. A change runs on a copy of the shop; the copy is written to a
//! temporary file (readable by its owner only: it holds customers' names and phones), synced,
//! and renamed over the old one, and only then does it become the shop readers see. So a crash
//! leaves the old file or the new one, never half of one, and a change whose file could not be
//! written did not happen, in the file or in memory. Changes are written one at a time. It
//! suits a few thousand orders on one process (each change writes the whole shop); a backend
//! for more writes rows, not files (see `pochi-store-sql` for the SQL databases, and
//! docs/ARCHITECTURE.md).
//!
//! ```no_run
//! # async fn run() -> Result<(), pochi_core::Error> {
//! use std::sync::Arc;
//! use pochi_core::{ManualCodeProvider, Shop};
//! use pochi_example_custom_store::JsonFileStore;
//!
//! let store = JsonFileStore::open("shop.json").await?;
//! let shop = Shop::builder(Arc::new(store))
//!     .provider(Arc::new(ManualCodeProvider::new()))
//!     .build()?;
//! # let _ = shop;
//! # Ok(())
//! # }
//! ```

use std::{
    fmt, io,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use async_trait::async_trait;
use pochi_core::{
    Error, MemorySnapshot, MemoryStore, Msisdn, Order, OrderFilter, OrderKey, OrderNumber, Payment,
    PaymentId, PaymentResult, PaymentReview, PaymentStatus, PaymentTarget, Placement, Product,
    ProductId, ProductRemoval, Result, Settled, StatusChange, StockAdjusted, StockAdjustment,
    Store,
    notify::{
        ChannelKind, Delivery, DeliveryClaim, DeliveryFilter, DeliveryId, DeliveryKey,
        DeliveryOutcome, NewDelivery, OutboxEvent, OutboxId,
    },
    page::{RefundKey, ReviewKey},
    product::ProductKey,
    refund::{Refund, RefundChange, RefundStatus, RefundTarget},
    settings::StoreSettings,
    stats::CustomerSummary,
    stock::{AdjustmentKey, NewStockAdjustment},
    store::{CustomerQuery, NewOrder, PaymentCheck, PaymentInsert, StatsFigures, StatsQuery},
    store::{ExpiryCutoff, PushLimit},
};
use time::OffsetDateTime;
use tokio::sync::Mutex;

const CONTEXT: &str = "json file store";

/// A [`Store`] that keeps the whole shop in one JSON file.
pub struct JsonFileStore {
    path: PathBuf,
    /// The shop as last written to the file; replaced whole by each change.
    current: RwLock<Arc<MemoryStore>>,
    /// Held from a change until its file is written: changes reach the file in order.
    writing: Mutex<()>,
}

impl fmt::Debug for JsonFileStore {
    // The shop holds customers' personal data: show only where it is kept.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonFileStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl JsonFileStore {
    /// Opens the shop kept at `path`, or starts an empty one there (the file is written at
    /// the first change). An unreadable file is `Error::Backend`, never an empty shop.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let memory = match tokio::fs::read(&path).await {
            Ok(bytes) => {
                let snapshot: MemorySnapshot =
                    serde_json::from_slice(&bytes).map_err(|e| Error::backend(CONTEXT, e))?;
                MemoryStore::from_snapshot(snapshot)
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => MemoryStore::new(),
            Err(err) => return Err(Error::backend(CONTEXT, err)),
        };
        Ok(JsonFileStore {
            path,
            current: RwLock::new(Arc::new(memory)),
            writing: Mutex::new(()),
        })
    }

    /// The shop as readers see it.
    fn memory(&self) -> Arc<MemoryStore> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        Arc::clone(&current)
    }

    /// Runs one change on a copy of the shop, writes the copy to the file, and only then makes
    /// it the shop. A change that fails, or whose file cannot be written, leaves the shop as
    /// it was.
    async fn change<T>(&self, change: impl AsyncFnOnce(&MemoryStore) -> Result<T>) -> Result<T> {
        let _writing = self.writing.lock().await;
        let next = MemoryStore::from_snapshot(self.memory().snapshot());
        let done = change(&next).await?;
        let bytes = serde_json::to_vec(&next.snapshot()).map_err(|e| Error::backend(CONTEXT, e))?;
        self.write_file(&bytes)
            .await
            .map_err(|e| Error::unavailable("the shop file cannot be written", e))?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
        Ok(done)
    }

    /// Replaces the file with `bytes`: a synced temporary file renamed over it, then the
    /// directory synced so the rename itself survives a power cut.
    async fn write_file(&self, bytes: &[u8]) -> io::Result<()> {
        let temporary = self.path.with_extension("json.tmp");
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .await?;
        tokio::io::AsyncWriteExt::write_all(&mut file, bytes).await?;
        file.sync_all().await?;
        tokio::fs::rename(&temporary, &self.path).await?;
        let directory = match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        tokio::fs::File::open(directory).await?.sync_all().await
    }
}

#[async_trait]
impl Store for JsonFileStore {
    // ----- changes: through `change`, which saves the file -----

    async fn insert_product(&self, product: &Product) -> Result<()> {
        self.change(async |m| m.insert_product(product).await).await
    }
    async fn update_product(
        &self,
        product: &Product,
        expected_version: Option<u64>,
    ) -> Result<Product> {
        self.change(async |m| m.update_product(product, expected_version).await)
            .await
    }
    async fn adjust_stock(&self, adjustment: &NewStockAdjustment) -> Result<StockAdjusted> {
        self.change(async |m| m.adjust_stock(adjustment).await)
            .await
    }
    async fn remove_product(&self, id: ProductId, at: OffsetDateTime) -> Result<ProductRemoval> {
        self.change(async |m| m.remove_product(id, at).await).await
    }
    async fn place_order(&self, order: &NewOrder) -> Result<Placement> {
        self.change(async |m| m.place_order(order).await).await
    }
    async fn move_order(&self, number: &OrderNumber, change: &StatusChange) -> Result<Order> {
        self.change(async |m| m.move_order(number, change).await)
            .await
    }
    async fn expire_orders(&self, cutoff: &ExpiryCutoff, limit: usize) -> Result<Vec<Order>> {
        self.change(async |m| m.expire_orders(cutoff, limit).await)
            .await
    }
    async fn insert_payment(
        &self,
        payment: &Payment,
        limit: Option<PushLimit>,
    ) -> Result<PaymentInsert> {
        self.change(async |m| m.insert_payment(payment, limit).await)
            .await
    }
    async fn mark_payment_started(
        &self,
        id: PaymentId,
        reference: Option<String>,
        status: PaymentStatus,
        at: OffsetDateTime,
    ) -> Result<Payment> {
        self.change(async |m| m.mark_payment_started(id, reference, status, at).await)
            .await
    }
    async fn settle_payment(
        &self,
        target: &PaymentTarget,
        result: &PaymentResult,
    ) -> Result<Settled> {
        self.change(async |m| m.settle_payment(target, result).await)
            .await
    }
    async fn record_direct_payment(
        &self,
        payment: &Payment,
        result: &PaymentResult,
    ) -> Result<Settled> {
        self.change(async |m| m.record_direct_payment(payment, result).await)
            .await
    }
    async fn schedule_payment_check(&self, id: PaymentId, check: &PaymentCheck) -> Result<()> {
        self.change(async |m| m.schedule_payment_check(id, check).await)
            .await
    }
    async fn record_review(&self, review: &PaymentReview) -> Result<()> {
        self.change(async |m| m.record_review(review).await).await
    }
    async fn save_settings(&self, settings: &StoreSettings) -> Result<()> {
        self.change(async |m| m.save_settings(settings).await).await
    }
    async fn resolve_review(
        &self,
        id: pochi_core::ReviewId,
        resolution: &pochi_core::ReviewResolution,
    ) -> Result<PaymentReview> {
        self.change(async |m| m.resolve_review(id, resolution).await)
            .await
    }
    async fn change_refund(&self, target: &RefundTarget, change: &RefundChange) -> Result<Refund> {
        self.change(async |m| m.change_refund(target, change).await)
            .await
    }

    // ----- reads: straight from memory -----

    async fn product(&self, id: ProductId) -> Result<Option<Product>> {
        self.memory().product(id).await
    }
    async fn products_by_ids(&self, ids: &[ProductId]) -> Result<Vec<Product>> {
        self.memory().products_by_ids(ids).await
    }
    async fn stock_adjustments(
        &self,
        product: ProductId,
        after: Option<AdjustmentKey>,
        limit: usize,
    ) -> Result<Vec<StockAdjustment>> {
        self.memory().stock_adjustments(product, after, limit).await
    }
    async fn list_products(
        &self,
        active_only: bool,
        after: Option<ProductKey>,
        limit: usize,
    ) -> Result<Vec<Product>> {
        self.memory().list_products(active_only, after, limit).await
    }
    async fn order(&self, number: &OrderNumber) -> Result<Option<Order>> {
        self.memory().order(number).await
    }
    async fn list_orders(
        &self,
        filter: &OrderFilter,
        after: Option<OrderKey>,
        limit: usize,
    ) -> Result<Vec<Order>> {
        self.memory().list_orders(filter, after, limit).await
    }
    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>> {
        self.memory().payment(id).await
    }
    async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>> {
        self.memory()
            .payment_by_reference(provider, reference)
            .await
    }
    async fn payments_for_order(&self, number: &OrderNumber) -> Result<Vec<Payment>> {
        self.memory().payments_for_order(number).await
    }
    async fn payments_due_for_check(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Payment>> {
        self.memory().payments_due_for_check(now, limit).await
    }
    async fn list_reviews(
        &self,
        after: Option<ReviewKey>,
        limit: usize,
    ) -> Result<Vec<PaymentReview>> {
        self.memory().list_reviews(after, limit).await
    }
    async fn review(&self, id: pochi_core::ReviewId) -> Result<Option<PaymentReview>> {
        self.memory().review(id).await
    }
    async fn refund(&self, id: pochi_core::RefundId) -> Result<Option<Refund>> {
        self.memory().refund(id).await
    }
    async fn refunds_for_order(&self, number: &OrderNumber) -> Result<Vec<Refund>> {
        self.memory().refunds_for_order(number).await
    }
    async fn list_refunds(
        &self,
        status: Option<RefundStatus>,
        after: Option<RefundKey>,
        limit: usize,
    ) -> Result<Vec<Refund>> {
        self.memory().list_refunds(status, after, limit).await
    }
    async fn refund_totals(&self) -> Result<Vec<(RefundStatus, pochi_core::Money)>> {
        self.memory().refund_totals().await
    }
    async fn settings(&self) -> Result<Option<StoreSettings>> {
        self.memory().settings().await
    }
    async fn stats(&self, query: &StatsQuery) -> Result<StatsFigures> {
        self.memory().stats(query).await
    }
    async fn customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerSummary>> {
        self.memory().customers(query).await
    }
    async fn ping(&self) -> Result<()> {
        Ok(())
    }

    // ----- notifications: the outbox is written by the changes above, in the same file -----

    async fn pending_outbox_events(&self, limit: usize) -> Result<Vec<OutboxEvent>> {
        self.memory().pending_outbox_events(limit).await
    }
    async fn expand_outbox_event(
        &self,
        id: OutboxId,
        deliveries: &[NewDelivery],
        at: OffsetDateTime,
    ) -> Result<bool> {
        self.change(async |m| m.expand_outbox_event(id, deliveries, at).await)
            .await
    }
    async fn claim_deliveries(&self, claim: &DeliveryClaim) -> Result<Vec<Delivery>> {
        self.change(async |m| m.claim_deliveries(claim).await).await
    }
    async fn finish_delivery(
        &self,
        id: DeliveryId,
        worker: &str,
        outcome: &DeliveryOutcome,
    ) -> Result<bool> {
        self.change(async |m| m.finish_delivery(id, worker, outcome).await)
            .await
    }
    async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        after: Option<DeliveryKey>,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        self.memory().list_deliveries(filter, after, limit).await
    }
    async fn retry_delivery(&self, id: DeliveryId, at: OffsetDateTime) -> Result<Delivery> {
        self.change(async |m| m.retry_delivery(id, at).await).await
    }
    async fn set_opt_out(
        &self,
        phone: &Msisdn,
        channel: ChannelKind,
        opted_out: bool,
        at: OffsetDateTime,
    ) -> Result<()> {
        self.change(async |m| m.set_opt_out(phone, channel, opted_out, at).await)
            .await
    }
    async fn opted_out(&self, phone: &Msisdn, channel: ChannelKind) -> Result<bool> {
        self.memory().opted_out(phone, channel).await
    }
}
