//! The `Store` implementation: each method is one of the transactions of the other modules.

use async_trait::async_trait;
use pochi_core::{
    OrderFilter, OrderKey, OrderNumber, Payment, PaymentId, PaymentResult, PaymentReview,
    PaymentStatus, PaymentTarget, Placement, Product, ProductId, ProductRemoval, Result, Settled,
    StatusChange, Store,
    order::{NewOrder, Order},
    page::ReviewKey,
    payment::PaymentCheck,
    product::ProductKey,
    settings::StoreSettings,
    stats::{CustomerQuery, CustomerSummary, StatsFigures, StatsQuery},
    store::PaymentInsert,
};
use time::OffsetDateTime;

use crate::{
    PostgresStore, catalogue, error::from_sqlx, orders, payments, placing, reports, reviews,
};

#[async_trait]
impl Store for PostgresStore {
    async fn insert_product(&self, product: &Product) -> Result<()> {
        catalogue::insert_product(&self.pool, product).await
    }

    async fn update_product(&self, product: &Product) -> Result<()> {
        catalogue::update_product(&self.pool, product).await
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>> {
        catalogue::product(&self.pool, id).await
    }

    async fn products_by_ids(&self, ids: &[ProductId]) -> Result<Vec<Product>> {
        catalogue::products_by_ids(&self.pool, ids).await
    }

    async fn list_products(
        &self,
        active_only: bool,
        after: Option<ProductKey>,
        limit: usize,
    ) -> Result<Vec<Product>> {
        catalogue::list_products(&self.pool, active_only, after, limit).await
    }

    async fn remove_product(&self, id: ProductId, at: OffsetDateTime) -> Result<ProductRemoval> {
        catalogue::remove_product(&self.pool, id, at).await
    }

    async fn place_order(&self, order: &NewOrder) -> Result<Placement> {
        placing::place_order(&self.pool, order).await
    }

    async fn order(&self, number: &OrderNumber) -> Result<Option<Order>> {
        orders::order(&self.pool, number).await
    }

    async fn list_orders(
        &self,
        filter: &OrderFilter,
        after: Option<OrderKey>,
        limit: usize,
    ) -> Result<Vec<Order>> {
        orders::list_orders(&self.pool, filter, after, limit).await
    }

    async fn move_order(&self, number: &OrderNumber, change: &StatusChange) -> Result<Order> {
        orders::move_order(&self.pool, number, change).await
    }

    async fn expire_orders(
        &self,
        placed_before: OffsetDateTime,
        at: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Order>> {
        orders::expire_orders(&self.pool, placed_before, at, limit).await
    }

    async fn insert_payment(&self, payment: &Payment) -> Result<PaymentInsert> {
        payments::insert_payment(&self.pool, payment).await
    }

    async fn mark_payment_started(
        &self,
        id: PaymentId,
        reference: Option<String>,
        status: PaymentStatus,
        at: OffsetDateTime,
    ) -> Result<Payment> {
        payments::mark_payment_started(&self.pool, id, reference, status, at).await
    }

    async fn settle_payment(
        &self,
        target: &PaymentTarget,
        result: &PaymentResult,
    ) -> Result<Settled> {
        payments::settle_payment(&self.pool, target, result).await
    }

    async fn record_direct_payment(
        &self,
        payment: &Payment,
        result: &PaymentResult,
    ) -> Result<Settled> {
        payments::record_direct_payment(&self.pool, payment, result).await
    }

    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>> {
        payments::payment(&self.pool, id).await
    }

    async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>> {
        payments::payment_by_reference(&self.pool, provider, reference).await
    }

    async fn payments_for_order(&self, number: &OrderNumber) -> Result<Vec<Payment>> {
        payments::payments_for_order(&self.pool, number).await
    }

    async fn payments_due_for_check(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Payment>> {
        payments::payments_due_for_check(&self.pool, now, limit).await
    }

    async fn schedule_payment_check(&self, id: PaymentId, check: &PaymentCheck) -> Result<()> {
        payments::schedule_payment_check(&self.pool, id, check).await
    }

    async fn record_review(&self, review: &PaymentReview) -> Result<()> {
        reviews::record_review(&self.pool, review).await
    }

    async fn list_reviews(
        &self,
        after: Option<ReviewKey>,
        limit: usize,
    ) -> Result<Vec<PaymentReview>> {
        reviews::list_reviews(&self.pool, after, limit).await
    }

    async fn settings(&self) -> Result<Option<StoreSettings>> {
        reports::settings(&self.pool).await
    }

    async fn save_settings(&self, settings: &StoreSettings) -> Result<()> {
        reports::save_settings(&self.pool, settings).await
    }

    async fn stats(&self, query: &StatsQuery) -> Result<StatsFigures> {
        reports::stats(&self.pool, query).await
    }

    async fn customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerSummary>> {
        reports::customers(&self.pool, query).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }
}
