//! `Store` for `Arc<T>` and `Box<T>`: a shared or boxed store is a store, so an application
//! can hand the same `Arc<PostgresStore>` to the shop and to its own code.

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{ExpiryCutoff, PaymentInsert, PushLimit, Store};
use crate::{
    error::Result,
    ids::{OrderNumber, PaymentId, ProductId},
    notify::{
        ChannelKind, Delivery, DeliveryClaim, DeliveryFilter, DeliveryId, DeliveryKey,
        DeliveryOutcome, NewDelivery, OutboxEvent, OutboxId,
    },
    order::{NewOrder, Order, OrderFilter, OrderKey, Placement, StatusChange},
    page::{RefundKey, ReviewKey},
    payment::{
        Payment, PaymentCheck, PaymentResult, PaymentReview, PaymentStatus, PaymentTarget, Settled,
    },
    phone::Msisdn,
    product::{Product, ProductKey, ProductRemoval},
    refund::{Refund, RefundChange, RefundStatus, RefundTarget},
    settings::StoreSettings,
    stats::{CustomerQuery, CustomerSummary, StatsFigures, StatsQuery},
    stock::{AdjustmentKey, NewStockAdjustment, StockAdjusted, StockAdjustment},
    tracking::TrackedOrder,
};

macro_rules! forward_store {
    ($wrapper:ident) => {
        #[async_trait]
        impl<T: Store + ?Sized> Store for $wrapper<T> {
            async fn insert_product(&self, product: &Product) -> Result<()> {
                (**self).insert_product(product).await
            }
            async fn update_product(
                &self,
                product: &Product,
                expected_version: Option<u64>,
            ) -> Result<Product> {
                (**self).update_product(product, expected_version).await
            }
            async fn adjust_stock(&self, adjustment: &NewStockAdjustment) -> Result<StockAdjusted> {
                (**self).adjust_stock(adjustment).await
            }
            async fn stock_adjustments(
                &self,
                product: ProductId,
                after: Option<AdjustmentKey>,
                limit: usize,
            ) -> Result<Vec<StockAdjustment>> {
                (**self).stock_adjustments(product, after, limit).await
            }
            async fn product(&self, id: ProductId) -> Result<Option<Product>> {
                (**self).product(id).await
            }
            async fn products_by_ids(&self, ids: &[ProductId]) -> Result<Vec<Product>> {
                (**self).products_by_ids(ids).await
            }
            async fn list_products(
                &self,
                active_only: bool,
                after: Option<ProductKey>,
                limit: usize,
            ) -> Result<Vec<Product>> {
                (**self).list_products(active_only, after, limit).await
            }
            async fn remove_product(
                &self,
                id: ProductId,
                at: OffsetDateTime,
            ) -> Result<ProductRemoval> {
                (**self).remove_product(id, at).await
            }
            async fn place_order(&self, order: &NewOrder) -> Result<Placement> {
                (**self).place_order(order).await
            }
            async fn order(&self, number: &OrderNumber) -> Result<Option<Order>> {
                (**self).order(number).await
            }
            async fn tracked_order(&self, number: &OrderNumber) -> Result<Option<TrackedOrder>> {
                (**self).tracked_order(number).await
            }
            async fn list_orders(
                &self,
                filter: &OrderFilter,
                after: Option<OrderKey>,
                limit: usize,
            ) -> Result<Vec<Order>> {
                (**self).list_orders(filter, after, limit).await
            }
            async fn move_order(
                &self,
                number: &OrderNumber,
                change: &StatusChange,
            ) -> Result<Order> {
                (**self).move_order(number, change).await
            }
            async fn expire_orders(
                &self,
                cutoff: &ExpiryCutoff,
                limit: usize,
            ) -> Result<Vec<Order>> {
                (**self).expire_orders(cutoff, limit).await
            }
            async fn insert_payment(
                &self,
                payment: &Payment,
                limit: Option<PushLimit>,
            ) -> Result<PaymentInsert> {
                (**self).insert_payment(payment, limit).await
            }
            async fn mark_payment_started(
                &self,
                id: PaymentId,
                reference: Option<String>,
                status: PaymentStatus,
                at: OffsetDateTime,
            ) -> Result<Payment> {
                (**self)
                    .mark_payment_started(id, reference, status, at)
                    .await
            }
            async fn settle_payment(
                &self,
                target: &PaymentTarget,
                result: &PaymentResult,
            ) -> Result<Settled> {
                (**self).settle_payment(target, result).await
            }
            async fn record_direct_payment(
                &self,
                payment: &Payment,
                result: &PaymentResult,
            ) -> Result<Settled> {
                (**self).record_direct_payment(payment, result).await
            }
            async fn payment(&self, id: PaymentId) -> Result<Option<Payment>> {
                (**self).payment(id).await
            }
            async fn payment_by_reference(
                &self,
                provider: &str,
                reference: &str,
            ) -> Result<Option<Payment>> {
                (**self).payment_by_reference(provider, reference).await
            }
            async fn payments_for_order(&self, number: &OrderNumber) -> Result<Vec<Payment>> {
                (**self).payments_for_order(number).await
            }
            async fn payments_for_orders(&self, numbers: &[OrderNumber]) -> Result<Vec<Payment>> {
                (**self).payments_for_orders(numbers).await
            }
            async fn payments_due_for_check(
                &self,
                now: OffsetDateTime,
                limit: usize,
            ) -> Result<Vec<Payment>> {
                (**self).payments_due_for_check(now, limit).await
            }
            async fn schedule_payment_check(
                &self,
                id: PaymentId,
                check: &PaymentCheck,
            ) -> Result<()> {
                (**self).schedule_payment_check(id, check).await
            }
            async fn record_review(&self, review: &PaymentReview) -> Result<()> {
                (**self).record_review(review).await
            }
            async fn list_reviews(
                &self,
                after: Option<ReviewKey>,
                limit: usize,
            ) -> Result<Vec<PaymentReview>> {
                (**self).list_reviews(after, limit).await
            }
            async fn review(&self, id: crate::ids::ReviewId) -> Result<Option<PaymentReview>> {
                (**self).review(id).await
            }
            async fn resolve_review(
                &self,
                id: crate::ids::ReviewId,
                resolution: &crate::payment::ReviewResolution,
            ) -> Result<PaymentReview> {
                (**self).resolve_review(id, resolution).await
            }
            async fn refund(&self, id: crate::refund::RefundId) -> Result<Option<Refund>> {
                (**self).refund(id).await
            }
            async fn refunds_for_order(&self, number: &OrderNumber) -> Result<Vec<Refund>> {
                (**self).refunds_for_order(number).await
            }
            async fn refunds_for_orders(&self, numbers: &[OrderNumber]) -> Result<Vec<Refund>> {
                (**self).refunds_for_orders(numbers).await
            }
            async fn list_refunds(
                &self,
                status: Option<RefundStatus>,
                after: Option<RefundKey>,
                limit: usize,
            ) -> Result<Vec<Refund>> {
                (**self).list_refunds(status, after, limit).await
            }
            async fn change_refund(
                &self,
                target: &RefundTarget,
                change: &RefundChange,
            ) -> Result<Refund> {
                (**self).change_refund(target, change).await
            }
            async fn refund_totals(&self) -> Result<Vec<(RefundStatus, crate::money::Money)>> {
                (**self).refund_totals().await
            }
            async fn settings(&self) -> Result<Option<StoreSettings>> {
                (**self).settings().await
            }
            async fn save_settings(&self, settings: &StoreSettings) -> Result<()> {
                (**self).save_settings(settings).await
            }
            async fn stats(&self, query: &StatsQuery) -> Result<StatsFigures> {
                (**self).stats(query).await
            }
            async fn customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerSummary>> {
                (**self).customers(query).await
            }
            async fn ping(&self) -> Result<()> {
                (**self).ping().await
            }
            async fn pending_outbox_events(&self, limit: usize) -> Result<Vec<OutboxEvent>> {
                (**self).pending_outbox_events(limit).await
            }
            async fn expand_outbox_event(
                &self,
                id: OutboxId,
                deliveries: &[NewDelivery],
                at: OffsetDateTime,
            ) -> Result<bool> {
                (**self).expand_outbox_event(id, deliveries, at).await
            }
            async fn claim_deliveries(&self, claim: &DeliveryClaim) -> Result<Vec<Delivery>> {
                (**self).claim_deliveries(claim).await
            }
            async fn finish_delivery(
                &self,
                id: DeliveryId,
                worker: &str,
                outcome: &DeliveryOutcome,
            ) -> Result<bool> {
                (**self).finish_delivery(id, worker, outcome).await
            }
            async fn list_deliveries(
                &self,
                filter: &DeliveryFilter,
                after: Option<DeliveryKey>,
                limit: usize,
            ) -> Result<Vec<Delivery>> {
                (**self).list_deliveries(filter, after, limit).await
            }
            async fn retry_delivery(&self, id: DeliveryId, at: OffsetDateTime) -> Result<Delivery> {
                (**self).retry_delivery(id, at).await
            }
            async fn set_opt_out(
                &self,
                phone: &Msisdn,
                channel: ChannelKind,
                opted_out: bool,
                at: OffsetDateTime,
            ) -> Result<()> {
                (**self).set_opt_out(phone, channel, opted_out, at).await
            }
            async fn opted_out(&self, phone: &Msisdn, channel: ChannelKind) -> Result<bool> {
                (**self).opted_out(phone, channel).await
            }
        }
    };
}

forward_store!(Arc);
forward_store!(Box);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{MemoryStore, fixtures, store::StoreExt};

    #[tokio::test]
    async fn a_shared_or_boxed_store_reaches_the_same_data() {
        let store = Arc::new(MemoryStore::new());
        let product = fixtures::product(1, rust_decimal_macros::dec!(100), Some(3));
        store.insert_product(&product).await.unwrap();
        let shared: Arc<dyn Store> = store.clone();
        let boxed: Box<Arc<MemoryStore>> = Box::new(store);
        assert_eq!(
            Store::product(&shared, product.id).await.unwrap(),
            Some(product.clone())
        );
        assert_eq!(boxed.product_required(product.id).await.unwrap(), product);
    }
}
