//! The memory store's steps shared by several of its transactions: an order's payments, a
//! planned order update, a settlement, and the payment indexes.

use super::State;
use crate::product::MAX_STOCK;
use crate::{
    error::{Entity, Error, Result},
    ids::OrderNumber,
    notify::OutboxEvent,
    order::{Order, OrderStatus, OrderUpdate},
    payment::{Payment, PaymentResult, Settled, Settlement, Unchanged, settle},
    refund::{Refund, refunds_due},
    store::verdict,
};

impl State {
    pub(super) fn payments_of(&self, number: &OrderNumber) -> Vec<Payment> {
        let mut payments: Vec<Payment> = self
            .order_payments
            .get(number)
            .into_iter()
            .flatten()
            .filter_map(|id| self.payments.get(id))
            .cloned()
            .collect();
        payments.sort_by_key(|p| (p.created_at, p.id));
        payments
    }

    pub(super) fn refunds_of(&self, number: &OrderNumber) -> Vec<Refund> {
        let mut refunds: Vec<Refund> = self
            .refunds
            .values()
            .filter(|r| &r.order_number == number)
            .cloned()
            .collect();
        refunds.sort_by_key(|r| (r.created_at, r.id));
        refunds
    }

    /// Writes the refunds `order` owes after a change (see [`refunds_due`]).
    pub(super) fn owe_refunds(
        &mut self,
        order: &Order,
        settled: Option<crate::ids::PaymentId>,
        at: time::OffsetDateTime,
    ) {
        let payments = self.payments_of(&order.number);
        let refunds = self.refunds_of(&order.number);
        for refund in refunds_due(order, &payments, &refunds, settled, at) {
            self.refunds.insert(refund.id, refund);
        }
    }

    /// Writes an order update: status, flag, timeline, released stock.
    pub(super) fn apply_order_update(
        &mut self,
        number: &OrderNumber,
        update: &OrderUpdate,
    ) -> Result<Order> {
        for release in &update.releases {
            if let Some(product) = self.products.get_mut(&release.product_id) {
                if let Some(stock) = product.stock.as_mut() {
                    *stock = stock.saturating_add(release.quantity).min(MAX_STOCK);
                }
            }
        }
        let order = self
            .orders
            .get_mut(number)
            .ok_or_else(|| Error::not_found(Entity::Order, number))?;
        order.apply(update);
        if order.status != OrderStatus::PendingPayment {
            // Kept only to count unpaid orders per network.
            self.placed_from.remove(number);
        }
        Ok(order.clone())
    }

    /// Checks a settled payment's receipt is on no other payment.
    pub(super) fn check_receipt(&self, payment: &Payment) -> Result<()> {
        let holder = payment.receipt.as_ref().and_then(|r| self.receipts.get(r));
        verdict::check_receipt(payment, holder.copied())
    }

    pub(super) fn write_payment(&mut self, payment: Payment) {
        if let Some(receipt) = &payment.receipt {
            self.receipts.insert(receipt.clone(), payment.id);
        }
        if let Some(reference) = &payment.provider_reference {
            self.references
                .insert((payment.provider.clone(), reference.clone()), payment.id);
        }
        if !self.payments.contains_key(&payment.id) {
            self.order_payments
                .entry(payment.order_number.clone())
                .or_default()
                .push(payment.id);
        }
        self.payments.insert(payment.id, payment);
    }

    /// Runs the settlement of `payment` (not necessarily stored yet) and writes its outcome.
    pub(super) fn settle(&mut self, payment: &Payment, result: &PaymentResult) -> Result<Settled> {
        let order = self
            .orders
            .get(&payment.order_number)
            .ok_or_else(|| Error::not_found(Entity::Order, &payment.order_number))?;
        let mut payments = self.payments_of(&payment.order_number);
        payments.retain(|p| p.id != payment.id);
        payments.push(payment.clone());
        match settle(order, &payments, payment, result)? {
            Settlement::Unchanged(reason) => Ok(Settled::Unchanged {
                payment: Box::new(payment.clone()),
                reason,
            }),
            Settlement::Quarantine(reason) => Ok(Settled::Quarantined {
                payment: Box::new(payment.clone()),
                reason,
            }),
            Settlement::AddReceipt(payment) => {
                self.check_receipt(&payment)?;
                self.write_payment((*payment).clone());
                Ok(Settled::Unchanged {
                    payment,
                    reason: Unchanged::ReceiptAdded,
                })
            }
            Settlement::Apply { payment, order } => {
                self.check_receipt(&payment)?;
                let number = payment.order_number.clone();
                self.write_payment((*payment).clone());
                let order = match order {
                    Some(update) => self.apply_order_update(&number, &update)?,
                    None => self
                        .orders
                        .get(&number)
                        .cloned()
                        .ok_or_else(|| Error::not_found(Entity::Order, &number))?,
                };
                self.owe_refunds(&order, Some(payment.id), result.at);
                self.write_event(OutboxEvent::settled(&order, &payment));
                Ok(Settled::Applied {
                    payment,
                    order: Box::new(order),
                })
            }
        }
    }
}
