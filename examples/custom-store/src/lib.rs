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
//! store adds durability. After each change it writes the whole shop to a temporary file,
//! syncs it, and renames it over the old one, so a crash leaves the old file or the new one,
//! never half of one. Changes are written one at a time, in the order they happened. It suits
//! a few thousand orders on one process; a backend for more writes rows, not files (see
//! `pochi-store-sql` for the SQL databases, and docs/ARCHITECTURE.md).
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
    io,
    path::{Path, PathBuf},
};

use async_trait::async_trait;
use pochi_core::{
    Error, MemorySnapshot, MemoryStore, Order, OrderFilter, OrderKey, OrderNumber, Payment,
    PaymentId, PaymentResult, PaymentReview, PaymentStatus, PaymentTarget, Placement, Product,
    ProductId, ProductRemoval, Result, Settled, StatusChange, Store,
    page::ReviewKey,
    product::ProductKey,
    settings::StoreSettings,
    stats::CustomerSummary,
    store::{CustomerQuery, NewOrder, PaymentCheck, PaymentInsert, StatsFigures, StatsQuery},
};
use time::OffsetDateTime;
use tokio::sync::Mutex;

const CONTEXT: &str = "json file store";

/// A [`Store`] that keeps the whole shop in one JSON file.
#[derive(Debug)]
pub struct JsonFileStore {
    path: PathBuf,
    memory: MemoryStore,
    /// Held from a change until its file is written: changes reach the file in order.
    writing: Mutex<()>,
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
            memory,
            writing: Mutex::new(()),
        })
    }

    /// Runs one change on the memory store and writes the shop to the file before anyone else
    /// changes it. A change that fails wrote nothing, so there is nothing to save.
    async fn change<T, F>(&self, change: F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        let _writing = self.writing.lock().await;
        let done = change.await?;
        self.save().await?;
        Ok(done)
    }

    async fn save(&self) -> Result<()> {
        let bytes =
            serde_json::to_vec(&self.memory.snapshot()).map_err(|e| Error::backend(CONTEXT, e))?;
        let temporary = self.path.with_extension("json.tmp");
        let unavailable = |e: io::Error| Error::unavailable("the shop file cannot be written", e);
        let mut file = tokio::fs::File::create(&temporary)
            .await
            .map_err(unavailable)?;
        tokio::io::AsyncWriteExt::write_all(&mut file, &bytes)
            .await
            .map_err(unavailable)?;
        file.sync_all().await.map_err(unavailable)?;
        tokio::fs::rename(&temporary, &self.path)
            .await
            .map_err(unavailable)
    }
}

#[async_trait]
impl Store for JsonFileStore {
    // ----- changes: through `change`, which saves the file -----

    async fn insert_product(&self, product: &Product) -> Result<()> {
        self.change(self.memory.insert_product(product)).await
    }
    async fn update_product(&self, product: &Product) -> Result<()> {
        self.change(self.memory.update_product(product)).await
    }
    async fn remove_product(&self, id: ProductId, at: OffsetDateTime) -> Result<ProductRemoval> {
        self.change(self.memory.remove_product(id, at)).await
    }
    async fn place_order(&self, order: &NewOrder) -> Result<Placement> {
        self.change(self.memory.place_order(order)).await
    }
    async fn move_order(&self, number: &OrderNumber, change: &StatusChange) -> Result<Order> {
        self.change(self.memory.move_order(number, change)).await
    }
    async fn expire_orders(
        &self,
        placed_before: OffsetDateTime,
        at: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Order>> {
        self.change(self.memory.expire_orders(placed_before, at, limit))
            .await
    }
    async fn insert_payment(&self, payment: &Payment) -> Result<PaymentInsert> {
        self.change(self.memory.insert_payment(payment)).await
    }
    async fn mark_payment_started(
        &self,
        id: PaymentId,
        reference: Option<String>,
        status: PaymentStatus,
        at: OffsetDateTime,
    ) -> Result<Payment> {
        self.change(self.memory.mark_payment_started(id, reference, status, at))
            .await
    }
    async fn settle_payment(
        &self,
        target: &PaymentTarget,
        result: &PaymentResult,
    ) -> Result<Settled> {
        self.change(self.memory.settle_payment(target, result))
            .await
    }
    async fn record_direct_payment(
        &self,
        payment: &Payment,
        result: &PaymentResult,
    ) -> Result<Settled> {
        self.change(self.memory.record_direct_payment(payment, result))
            .await
    }
    async fn schedule_payment_check(&self, id: PaymentId, check: &PaymentCheck) -> Result<()> {
        self.change(self.memory.schedule_payment_check(id, check))
            .await
    }
    async fn record_review(&self, review: &PaymentReview) -> Result<()> {
        self.change(self.memory.record_review(review)).await
    }
    async fn save_settings(&self, settings: &StoreSettings) -> Result<()> {
        self.change(self.memory.save_settings(settings)).await
    }

    // ----- reads: straight from memory -----

    async fn product(&self, id: ProductId) -> Result<Option<Product>> {
        self.memory.product(id).await
    }
    async fn products_by_ids(&self, ids: &[ProductId]) -> Result<Vec<Product>> {
        self.memory.products_by_ids(ids).await
    }
    async fn list_products(
        &self,
        active_only: bool,
        after: Option<ProductKey>,
        limit: usize,
    ) -> Result<Vec<Product>> {
        self.memory.list_products(active_only, after, limit).await
    }
    async fn order(&self, number: &OrderNumber) -> Result<Option<Order>> {
        self.memory.order(number).await
    }
    async fn list_orders(
        &self,
        filter: &OrderFilter,
        after: Option<OrderKey>,
        limit: usize,
    ) -> Result<Vec<Order>> {
        self.memory.list_orders(filter, after, limit).await
    }
    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>> {
        self.memory.payment(id).await
    }
    async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>> {
        self.memory.payment_by_reference(provider, reference).await
    }
    async fn payments_for_order(&self, number: &OrderNumber) -> Result<Vec<Payment>> {
        self.memory.payments_for_order(number).await
    }
    async fn payments_due_for_check(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Payment>> {
        self.memory.payments_due_for_check(now, limit).await
    }
    async fn list_reviews(
        &self,
        after: Option<ReviewKey>,
        limit: usize,
    ) -> Result<Vec<PaymentReview>> {
        self.memory.list_reviews(after, limit).await
    }
    async fn settings(&self) -> Result<Option<StoreSettings>> {
        self.memory.settings().await
    }
    async fn stats(&self, query: &StatsQuery) -> Result<StatsFigures> {
        self.memory.stats(query).await
    }
    async fn customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerSummary>> {
        self.memory.customers(query).await
    }
    async fn ping(&self) -> Result<()> {
        Ok(())
    }
}
