//! `impl Store for SqliteStore`: each method is one transaction over the statements of
//! [`catalogue`], [`orders`], [`payments`] and [`reports`].

use async_trait::async_trait;
use pochi_core::store::NewOrder;
use pochi_core::{
    Order, OrderFilter, OrderKey, OrderNumber, Payment, PaymentId, PaymentResult, PaymentReview,
    PaymentStatus, PaymentTarget, Placement, Product, ProductId, ProductRemoval, Result, Settled,
    StatusChange, Store, StoreSettings,
    page::ReviewKey,
    payment::PaymentCheck,
    product::ProductKey,
    stats::{CustomerQuery, CustomerSummary, StatsFigures, StatsQuery},
    store::PaymentInsert,
};
use time::OffsetDateTime;

use crate::{SqliteStore, catalogue, orders, payments, reports};

#[async_trait]
impl Store for SqliteStore {
    async fn insert_product(&self, product: &Product) -> Result<()> {
        write_tx!(self, |conn| catalogue::insert(conn, product))
    }

    async fn update_product(&self, product: &Product) -> Result<()> {
        write_tx!(self, |conn| catalogue::update(conn, product))
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>> {
        read_tx!(self, |conn| catalogue::find(conn, id))
    }

    async fn products_by_ids(&self, ids: &[ProductId]) -> Result<Vec<Product>> {
        read_tx!(self, |conn| catalogue::find_many(conn, ids))
    }

    async fn list_products(
        &self,
        active_only: bool,
        after: Option<ProductKey>,
        limit: usize,
    ) -> Result<Vec<Product>> {
        read_tx!(self, |conn| catalogue::list(
            conn,
            active_only,
            after,
            limit
        ))
    }

    async fn remove_product(&self, id: ProductId, at: OffsetDateTime) -> Result<ProductRemoval> {
        write_tx!(self, |conn| catalogue::remove(conn, id, at))
    }

    async fn place_order(&self, order: &NewOrder) -> Result<Placement> {
        write_tx!(self, |conn| orders::place(conn, order))
    }

    async fn order(&self, number: &OrderNumber) -> Result<Option<Order>> {
        read_tx!(self, |conn| orders::find(conn, number))
    }

    async fn list_orders(
        &self,
        filter: &OrderFilter,
        after: Option<OrderKey>,
        limit: usize,
    ) -> Result<Vec<Order>> {
        read_tx!(self, |conn| orders::list(
            conn,
            filter,
            after.clone(),
            limit
        ))
    }

    async fn move_order(&self, number: &OrderNumber, change: &StatusChange) -> Result<Order> {
        write_tx!(self, |conn| orders::move_to(conn, number, change))
    }

    async fn expire_orders(
        &self,
        placed_before: OffsetDateTime,
        at: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Order>> {
        write_tx!(self, |conn| orders::expire(conn, placed_before, at, limit))
    }

    async fn insert_payment(&self, payment: &Payment) -> Result<PaymentInsert> {
        write_tx!(self, |conn| payments::insert(conn, payment))
    }

    async fn mark_payment_started(
        &self,
        id: PaymentId,
        reference: Option<String>,
        status: PaymentStatus,
        at: OffsetDateTime,
    ) -> Result<Payment> {
        write_tx!(self, |conn| payments::mark_started(
            conn,
            id,
            reference.clone(),
            status,
            at
        ))
    }

    async fn settle_payment(
        &self,
        target: &PaymentTarget,
        result: &PaymentResult,
    ) -> Result<Settled> {
        write_tx!(self, |conn| payments::settle_target(conn, target, result))
    }

    async fn record_direct_payment(
        &self,
        payment: &Payment,
        result: &PaymentResult,
    ) -> Result<Settled> {
        write_tx!(self, |conn| payments::record_direct(conn, payment, result))
    }

    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>> {
        read_tx!(self, |conn| payments::find(conn, id))
    }

    async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>> {
        read_tx!(self, |conn| payments::find_by_reference(
            conn, provider, reference
        ))
    }

    async fn payments_for_order(&self, number: &OrderNumber) -> Result<Vec<Payment>> {
        read_tx!(self, |conn| payments::of_order(conn, number))
    }

    async fn payments_due_for_check(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Payment>> {
        read_tx!(self, |conn| payments::due_for_check(conn, now, limit))
    }

    async fn schedule_payment_check(&self, id: PaymentId, check: &PaymentCheck) -> Result<()> {
        write_tx!(self, |conn| payments::schedule_check(conn, id, check))
    }

    async fn record_review(&self, review: &PaymentReview) -> Result<()> {
        write_tx!(self, |conn| payments::insert_review(conn, review))
    }

    async fn list_reviews(
        &self,
        after: Option<ReviewKey>,
        limit: usize,
    ) -> Result<Vec<PaymentReview>> {
        read_tx!(self, |conn| payments::list_reviews(conn, after, limit))
    }

    async fn settings(&self) -> Result<Option<StoreSettings>> {
        read_tx!(self, |conn| reports::settings(conn))
    }

    async fn save_settings(&self, settings: &StoreSettings) -> Result<()> {
        write_tx!(self, |conn| reports::save_settings(conn, settings))
    }

    async fn stats(&self, query: &StatsQuery) -> Result<StatsFigures> {
        read_tx!(self, |conn| reports::stats(conn, query))
    }

    async fn customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerSummary>> {
        read_tx!(self, |conn| reports::customers(conn, query))
    }

    async fn ping(&self) -> Result<()> {
        read_tx!(self, |conn| async {
            sqlx::query("SELECT 1").execute(conn).await?;
            Ok(())
        })
    }
}
