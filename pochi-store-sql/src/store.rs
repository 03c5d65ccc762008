//! The `Store` implementation: each method is one of the transactions of the other modules.

use async_trait::async_trait;
use pochi_core::{
    OrderFilter, OrderKey, OrderNumber, Payment, PaymentId, PaymentResult, PaymentReview,
    PaymentStatus, PaymentTarget, Placement, Product, ProductId, ProductRemoval, Result, Settled,
    StatusChange, Store, TrackedOrder,
    notify::{
        ChannelKind, Delivery, DeliveryClaim, DeliveryFilter, DeliveryId, DeliveryKey,
        DeliveryOutcome, NewDelivery, OutboxEvent, OutboxId,
    },
    order::{NewOrder, Order},
    page::{RefundKey, ReviewKey},
    payment::PaymentCheck,
    phone::Msisdn,
    product::ProductKey,
    refund::{Refund, RefundChange, RefundStatus, RefundTarget},
    settings::StoreSettings,
    stats::{CustomerQuery, CustomerSummary, StatsFigures, StatsQuery},
    stock::{AdjustmentKey, NewStockAdjustment, StockAdjusted, StockAdjustment},
    store::{ExpiryCutoff, PaymentInsert, PushLimit},
};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Type};
use time::{Date, OffsetDateTime};

use crate::{SqlStore, dialect::Dialect, error::from_sqlx};

#[async_trait]
impl<D: Dialect> Store for SqlStore<D>
where
    for<'c> &'c mut <D::Db as Database>::Connection: Executor<'c, Database = D::Db>,
    for<'q> <D::Db as Database>::Arguments<'q>: IntoArguments<'q, D::Db>,
    for<'q> &'q str: Encode<'q, D::Db> + Type<D::Db>,
    String: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    i64: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    i32: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    i16: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    bool: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    Date: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    for<'q> Option<&'q str>: Encode<'q, D::Db>,
    Option<i64>: for<'q> Encode<'q, D::Db>,
    Option<D::Amount>: for<'q> Encode<'q, D::Db>,
    Option<D::Time>: for<'q> Encode<'q, D::Db>,
    Option<D::Id>: for<'q> Encode<'q, D::Db>,
{
    async fn insert_product(&self, product: &Product) -> Result<()> {
        SqlStore::insert_product(self, product).await
    }

    async fn update_product(
        &self,
        product: &Product,
        expected_version: Option<u64>,
    ) -> Result<Product> {
        SqlStore::update_product(self, product, expected_version).await
    }

    async fn adjust_stock(&self, adjustment: &NewStockAdjustment) -> Result<StockAdjusted> {
        SqlStore::adjust_stock(self, adjustment).await
    }

    async fn stock_adjustments(
        &self,
        product: ProductId,
        after: Option<AdjustmentKey>,
        limit: usize,
    ) -> Result<Vec<StockAdjustment>> {
        SqlStore::stock_adjustments(self, product, after, limit).await
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>> {
        SqlStore::product(self, id).await
    }

    async fn products_by_ids(&self, ids: &[ProductId]) -> Result<Vec<Product>> {
        SqlStore::products_by_ids(self, ids).await
    }

    async fn list_products(
        &self,
        active_only: bool,
        after: Option<ProductKey>,
        limit: usize,
    ) -> Result<Vec<Product>> {
        SqlStore::list_products(self, active_only, after, limit).await
    }

    async fn remove_product(&self, id: ProductId, at: OffsetDateTime) -> Result<ProductRemoval> {
        SqlStore::remove_product(self, id, at).await
    }

    async fn place_order(&self, order: &NewOrder) -> Result<Placement> {
        SqlStore::place_order(self, order).await
    }

    async fn order(&self, number: &OrderNumber) -> Result<Option<Order>> {
        SqlStore::order(self, number).await
    }

    async fn tracked_order(&self, number: &OrderNumber) -> Result<Option<TrackedOrder>> {
        SqlStore::tracked_order(self, number).await
    }

    async fn list_orders(
        &self,
        filter: &OrderFilter,
        after: Option<OrderKey>,
        limit: usize,
    ) -> Result<Vec<Order>> {
        SqlStore::list_orders(self, filter, after, limit).await
    }

    async fn move_order(&self, number: &OrderNumber, change: &StatusChange) -> Result<Order> {
        SqlStore::move_order(self, number, change).await
    }

    async fn expire_orders(&self, cutoff: &ExpiryCutoff, limit: usize) -> Result<Vec<Order>> {
        SqlStore::expire_orders(self, cutoff, limit).await
    }

    async fn insert_payment(
        &self,
        payment: &Payment,
        limit: Option<PushLimit>,
    ) -> Result<PaymentInsert> {
        SqlStore::insert_payment(self, payment, limit).await
    }

    async fn mark_payment_started(
        &self,
        id: PaymentId,
        reference: Option<String>,
        status: PaymentStatus,
        at: OffsetDateTime,
    ) -> Result<Payment> {
        SqlStore::mark_payment_started(self, id, reference, status, at).await
    }

    async fn settle_payment(
        &self,
        target: &PaymentTarget,
        result: &PaymentResult,
    ) -> Result<Settled> {
        SqlStore::settle_payment(self, target, result).await
    }

    async fn record_direct_payment(
        &self,
        payment: &Payment,
        result: &PaymentResult,
    ) -> Result<Settled> {
        SqlStore::record_direct_payment(self, payment, result).await
    }

    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>> {
        SqlStore::payment(self, id).await
    }

    async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>> {
        SqlStore::payment_by_reference(self, provider, reference).await
    }

    async fn payments_for_order(&self, number: &OrderNumber) -> Result<Vec<Payment>> {
        SqlStore::payments_for_order(self, number).await
    }

    async fn payments_for_orders(&self, numbers: &[OrderNumber]) -> Result<Vec<Payment>> {
        SqlStore::payments_for_orders(self, numbers).await
    }

    async fn payments_due_for_check(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Payment>> {
        SqlStore::payments_due_for_check(self, now, limit).await
    }

    async fn schedule_payment_check(&self, id: PaymentId, check: &PaymentCheck) -> Result<()> {
        SqlStore::schedule_payment_check(self, id, check).await
    }

    async fn record_review(&self, review: &PaymentReview) -> Result<()> {
        SqlStore::record_review(self, review).await
    }

    async fn list_reviews(
        &self,
        after: Option<ReviewKey>,
        limit: usize,
    ) -> Result<Vec<PaymentReview>> {
        SqlStore::list_reviews(self, after, limit).await
    }

    async fn review(&self, id: pochi_core::ReviewId) -> Result<Option<PaymentReview>> {
        SqlStore::review(self, id).await
    }

    async fn resolve_review(
        &self,
        id: pochi_core::ReviewId,
        resolution: &pochi_core::ReviewResolution,
    ) -> Result<PaymentReview> {
        SqlStore::resolve_review(self, id, resolution).await
    }

    async fn refund(&self, id: pochi_core::RefundId) -> Result<Option<Refund>> {
        SqlStore::refund(self, id).await
    }

    async fn refunds_for_order(&self, number: &OrderNumber) -> Result<Vec<Refund>> {
        SqlStore::refunds_for_order(self, number).await
    }

    async fn refunds_for_orders(&self, numbers: &[OrderNumber]) -> Result<Vec<Refund>> {
        SqlStore::refunds_for_orders(self, numbers).await
    }

    async fn list_refunds(
        &self,
        status: Option<RefundStatus>,
        after: Option<RefundKey>,
        limit: usize,
    ) -> Result<Vec<Refund>> {
        SqlStore::list_refunds(self, status, after, limit).await
    }

    async fn change_refund(&self, target: &RefundTarget, change: &RefundChange) -> Result<Refund> {
        SqlStore::change_refund(self, target, change).await
    }

    async fn refund_totals(&self) -> Result<Vec<(RefundStatus, pochi_core::Money)>> {
        SqlStore::refund_totals(self).await
    }

    async fn settings(&self) -> Result<Option<StoreSettings>> {
        SqlStore::settings(self).await
    }

    async fn save_settings(&self, settings: &StoreSettings) -> Result<()> {
        SqlStore::save_settings(self, settings).await
    }

    async fn stats(&self, query: &StatsQuery) -> Result<StatsFigures> {
        SqlStore::stats(self, query).await
    }

    async fn customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerSummary>> {
        SqlStore::customers(self, query).await
    }

    async fn pending_outbox_events(&self, limit: usize) -> Result<Vec<OutboxEvent>> {
        SqlStore::pending_outbox_events(self, limit).await
    }

    async fn expand_outbox_event(
        &self,
        id: OutboxId,
        deliveries: &[NewDelivery],
        at: OffsetDateTime,
    ) -> Result<bool> {
        SqlStore::expand_outbox_event(self, id, deliveries, at).await
    }

    async fn claim_deliveries(&self, claim: &DeliveryClaim) -> Result<Vec<Delivery>> {
        SqlStore::claim_deliveries(self, claim).await
    }

    async fn finish_delivery(
        &self,
        id: DeliveryId,
        worker: &str,
        outcome: &DeliveryOutcome,
    ) -> Result<bool> {
        SqlStore::finish_delivery(self, id, worker, outcome).await
    }

    async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        after: Option<DeliveryKey>,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        SqlStore::list_deliveries(self, filter, after, limit).await
    }

    async fn retry_delivery(&self, id: DeliveryId, at: OffsetDateTime) -> Result<Delivery> {
        SqlStore::retry_delivery(self, id, at).await
    }

    async fn set_opt_out(
        &self,
        phone: &Msisdn,
        channel: ChannelKind,
        opted_out: bool,
        at: OffsetDateTime,
    ) -> Result<()> {
        SqlStore::set_opt_out(self, phone, channel, opted_out, at).await
    }

    async fn opted_out(&self, phone: &Msisdn, channel: ChannelKind) -> Result<bool> {
        SqlStore::opted_out(self, phone, channel).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(())
    }
}
