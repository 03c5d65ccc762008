//! Order use cases: placing, tracking, and an admin's list and status moves.

use std::collections::HashMap;

use time::{
    Date, OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description,
};

use super::Shop;
use crate::{
    auth::AdminUser,
    checkout::{Checkout, CheckoutInput},
    client::ClientNetwork,
    error::{ConflictReason, Entity, Error, Result},
    events::ShopEvent,
    ids::OrderNumber,
    money::Money,
    order::{
        Actor, IdempotencyKey, NewOrder, Order, OrderFilter, OrderKey, OrderStatus, Placement,
        StatusChange, TimelineEntry, Trigger,
    },
    page::{CursorKey, Limit, Page},
    payment::{PaymentStatus, Receipt},
    phone::Msisdn,
    pricing,
    refund::{Refund, RefundStatus},
    search::OrderSearch,
    store::{OpenOrderLimits, StoreExt},
    tracking::TrackedOrder,
};

/// How many fresh order numbers to try when one is taken (50-bit codes: practically never).
const ORDER_NUMBER_ATTEMPTS: usize = 5;

/// The most orders one export holds (see [`Shop::export_orders`]).
pub const EXPORT_MAX_ORDERS: usize = 50_000;

/// How many orders an export reads from the store at a time.
const EXPORT_PAGE: usize = 500;

/// An order with the receipts of its succeeded payments, as [`Shop::export_orders`] gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedOrder {
    /// The order.
    pub order: Order,
    /// The provider receipts (M-Pesa transaction codes) of its succeeded payments, oldest
    /// first.
    pub receipts: Vec<Receipt>,
    /// Its refunds (money owed back, or sent back), oldest first.
    pub refunds: Vec<Refund>,
}

impl ExportedOrder {
    /// The money its refunds sent back, in the order's currency.
    pub fn refunded(&self) -> Result<Money> {
        self.refund_sum(|status| status == RefundStatus::Refunded)
    }

    /// The money still owed back: refunds owed, being sent, or whose sending failed.
    pub fn owed_back(&self) -> Result<Money> {
        self.refund_sum(|status| status != RefundStatus::Refunded)
    }

    /// The M-Pesa references of the money sent back, oldest refund first.
    pub fn refund_references(&self) -> Vec<&str> {
        self.refunds
            .iter()
            .filter(|r| r.status == RefundStatus::Refunded)
            .filter_map(|r| r.reference.as_deref())
            .collect()
    }

    fn refund_sum(&self, counts: impl Fn(RefundStatus) -> bool) -> Result<Money> {
        let amounts = self
            .refunds
            .iter()
            .filter(|r| counts(r.status))
            .map(|r| r.amount);
        Money::sum(self.order.total.currency(), amounts)
            .map_err(|e| Error::backend("order export", e))
    }
}

/// Filters of the admin order list, as the client sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderListInput {
    /// A status name.
    pub status: Option<String>,
    /// A phone number in any common form.
    pub phone: Option<String>,
    /// Placed on or after: a date (`2026-03-01`, in the shop's time zone) or an RFC 3339 time.
    pub from: Option<String>,
    /// Placed on or before: a date (the whole day counts) or an RFC 3339 time (exclusive).
    pub to: Option<String>,
    /// Part of an order number or of a customer's name (see [`OrderSearch`]).
    pub q: Option<String>,
    /// The cursor of the page to read.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
}

impl Shop {
    /// Places an order from a checkout: validates it, prices it from the catalogue and the
    /// delivery fees, and has the store reserve the stock and insert the order atomically.
    ///
    /// With an idempotency key, a retry returns the first order ([`Placement::Replayed`]) and
    /// reserves nothing again; reusing the key for a different checkout is a `Conflict`.
    ///
    /// A phone number with [`ShopConfig::open_orders_per_phone`](super::ShopConfig) unpaid
    /// orders open is refused with [`Error::LimitReached`], nothing reserved.
    pub async fn place_order(
        &self,
        input: &CheckoutInput,
        idempotency_key: Option<&str>,
    ) -> Result<Placement> {
        self.place_order_from(input, idempotency_key, None).await
    }

    /// [`Shop::place_order`] for a client at a known network (an HTTP request's address):
    /// the order is refused, too, when that network has
    /// [`ShopConfig::open_orders_per_client`](super::ShopConfig) unpaid orders open.
    pub async fn place_order_from(
        &self,
        input: &CheckoutInput,
        idempotency_key: Option<&str>,
        from: Option<ClientNetwork>,
    ) -> Result<Placement> {
        let key = idempotency_key
            .map(IdempotencyKey::parse)
            .transpose()
            .map_err(|e| e.at("Idempotency-Key"))?;
        let checkout = Checkout::parse(input)?;
        let ids: Vec<_> = checkout.items.iter().map(|i| i.product_id).collect();
        let catalogue = self.inner.store.products_by_ids(&ids).await?;
        // A product the shop does not have has no cap: pricing then names it as unknown, which
        // tells the client more than a cap would.
        checkout.check_units_per_product(input, |id| {
            catalogue
                .iter()
                .find(|p| p.id == id)
                .and_then(|p| p.max_per_order.or(self.inner.config.max_units_per_product))
        })?;
        let fees = self.delivery_fees().await?;
        let priced = pricing::price(&checkout, &catalogue, &fees, self.inner.config.currency)?;
        let now = self.now();
        let fingerprint = checkout.fingerprint();
        let config = &self.inner.config;
        let limits = OpenOrderLimits {
            per_phone: config.open_orders_per_phone,
            per_client: config.open_orders_per_client,
            // A place frees when an open order is paid or expires; the short hold is the
            // longest wait for one nobody pays.
            retry_after_secs: config.unstarted_order_ttl.as_secs(),
        };
        for _ in 0..ORDER_NUMBER_ATTEMPTS {
            let number = OrderNumber::new(
                &self.inner.config.order_prefix,
                &self.inner.ids.order_code(),
            )
            .map_err(|e| Error::backend("order number generator", e.to_string()))?;
            let order = Order {
                number,
                status: OrderStatus::PendingPayment,
                customer: checkout.customer.clone(),
                delivery: checkout.delivery.clone(),
                lines: priced.lines.clone(),
                subtotal: priced.subtotal,
                delivery_fee: priced.delivery_fee,
                total: priced.total,
                payment_flag: None,
                timeline: vec![TimelineEntry {
                    at: now,
                    status: OrderStatus::PendingPayment,
                    note: "Order placed, waiting for payment".to_owned(),
                    actor: Actor::Customer,
                    for_customer: true,
                }],
                created_at: now,
                updated_at: now,
                paid_at: None,
                language: checkout.language,
            };
            let new_order = NewOrder {
                order,
                idempotency_key: key.clone(),
                fingerprint: fingerprint.clone(),
                // An address is kept only where its limit needs it.
                placed_from: from.clone().filter(|_| limits.per_client.is_some()),
                limits,
            };
            match self.inner.store.place_order(&new_order).await {
                Ok(Placement::Placed(order)) => {
                    self.publish(ShopEvent::OrderPlaced {
                        order: Box::new(order.clone()),
                    })
                    .await;
                    return Ok(Placement::Placed(order));
                }
                Ok(replayed) => return Ok(replayed),
                Err(err) if err.conflict_reason() == Some(ConflictReason::OrderNumberTaken) => {}
                Err(err) => return Err(err),
            }
        }
        Err(Error::Unavailable {
            message: "could not allocate an order number; try again".to_owned(),
            source: None,
        })
    }

    /// The public tracking view of an order (personal data masked).
    pub async fn track(&self, number: &str) -> Result<TrackedOrder> {
        let number = OrderNumber::parse(number).map_err(|e| e.at("orderId"))?;
        self.inner
            .store
            .tracked_order(&number)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Order, &number))
    }

    /// An order with everything, for the admin.
    pub async fn order(&self, number: &str) -> Result<Order> {
        let number = OrderNumber::parse(number).map_err(|e| e.at("orderId"))?;
        self.inner.store.order_required(&number).await
    }

    /// The admin's order list: newest first, filtered, a page at a time.
    pub async fn orders(&self, input: &OrderListInput) -> Result<Page<Order>> {
        let filter = self.order_filter(input)?;
        let limit = Limit::new(input.limit).map_err(|e| e.at("limit"))?;
        let after = input
            .cursor
            .as_deref()
            .map(OrderKey::decode)
            .transpose()
            .map_err(|e| e.at("cursor"))?;
        let items = self
            .inner
            .store
            .list_orders(&filter, after, limit.get() + 1)
            .await?;
        Ok(Page::from_overfetch(items, limit, Order::key))
    }

    /// Every order the list's filters pass (its cursor and limit are ignored), newest first,
    /// each with the M-Pesa receipts of its succeeded payments and its refunds: what an export of
    /// the shop's accounts holds. More than [`EXPORT_MAX_ORDERS`] is an invalid-input error naming
    /// `from`, asking for a shorter period.
    pub async fn export_orders(&self, input: &OrderListInput) -> Result<Vec<ExportedOrder>> {
        self.export_orders_within(input, EXPORT_MAX_ORDERS, EXPORT_PAGE)
            .await
    }

    /// [`Shop::export_orders`] with its limit and page size given (tests use small ones).
    pub(crate) async fn export_orders_within(
        &self,
        input: &OrderListInput,
        max: usize,
        page_size: usize,
    ) -> Result<Vec<ExportedOrder>> {
        let filter = self.order_filter(input)?;
        let mut exported: Vec<ExportedOrder> = Vec::new();
        let mut after: Option<OrderKey> = None;
        loop {
            let page = self
                .inner
                .store
                .list_orders(&filter, after.take(), page_size)
                .await?;
            let full = page.len() == page_size;
            after = page.last().map(Order::key);
            if exported.len() + page.len() > max {
                return Err(Error::invalid(
                    "from",
                    format!("more than {max} orders match; export a shorter period (from, to)"),
                ));
            }
            let numbers: Vec<OrderNumber> = page.iter().map(|o| o.number.clone()).collect();
            let mut receipts: HashMap<OrderNumber, Vec<Receipt>> = HashMap::new();
            for payment in self.inner.store.payments_for_orders(&numbers).await? {
                if let (PaymentStatus::Succeeded, Some(receipt)) = (payment.status, payment.receipt)
                {
                    receipts
                        .entry(payment.order_number)
                        .or_default()
                        .push(receipt);
                }
            }
            let mut refunds: HashMap<OrderNumber, Vec<Refund>> = HashMap::new();
            for refund in self.inner.store.refunds_for_orders(&numbers).await? {
                refunds
                    .entry(refund.order_number.clone())
                    .or_default()
                    .push(refund);
            }
            exported.extend(page.into_iter().map(|order| ExportedOrder {
                receipts: receipts.remove(&order.number).unwrap_or_default(),
                refunds: refunds.remove(&order.number).unwrap_or_default(),
                order,
            }));
            if !full {
                return Ok(exported);
            }
        }
    }

    /// The store filter for the list's filters.
    fn order_filter(&self, input: &OrderListInput) -> Result<OrderFilter> {
        Ok(OrderFilter {
            status: input
                .status
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(OrderStatus::parse)
                .transpose()
                .map_err(|e| e.at("status"))?,
            phone: input
                .phone
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(Msisdn::parse)
                .transpose()
                .map_err(|e| e.at("phone"))?,
            placed_from: self.parse_bound(input.from.as_deref(), "from", false)?,
            placed_before: self.parse_bound(input.to.as_deref(), "to", true)?,
            search: input
                .q
                .as_deref()
                .map(OrderSearch::parse)
                .transpose()
                .map_err(|e| e.at("q"))?
                .flatten(),
        })
    }

    /// Moves an order along its lifecycle on an admin's request.
    pub async fn move_order(
        &self,
        number: &str,
        to: &str,
        note: Option<&str>,
        note_for_customer: bool,
        admin: &AdminUser,
    ) -> Result<Order> {
        let number = OrderNumber::parse(number).map_err(|e| e.at("orderId"))?;
        let to = OrderStatus::parse(to).map_err(|e| e.at("status"))?;
        let note = crate::text::optional_text(note, 500, true).map_err(|e| e.at("note"))?;
        let change = StatusChange {
            to,
            trigger: Trigger::Admin,
            actor: Actor::Admin(admin.username.clone()),
            note,
            note_for_customer,
            at: self.now(),
        };
        let order = self.inner.store.move_order(&number, &change).await?;
        self.publish(ShopEvent::OrderStatusChanged {
            number: order.number.clone(),
            from: order.status_before_last_entry(),
            to: order.status,
            at: change.at,
        })
        .await;
        Ok(order)
    }

    fn parse_bound(
        &self,
        text: Option<&str>,
        field: &str,
        end_of_day: bool,
    ) -> Result<Option<OffsetDateTime>> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        // Bounds are kept in UTC; a date or time at the edge of the calendar may have no UTC
        // instant (`-9999-01-01` in a shop east of Greenwich), which is out of range, not a panic.
        let in_utc = |at: OffsetDateTime| {
            at.checked_to_offset(time::UtcOffset::UTC)
                .ok_or_else(|| Error::invalid(field, "is out of range"))
        };
        if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
            return in_utc(at).map(Some);
        }
        let date =
            Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|_| {
                Error::invalid(field, "must be a date (YYYY-MM-DD) or an RFC 3339 time")
            })?;
        let date = if end_of_day {
            date.next_day()
                .ok_or_else(|| Error::invalid(field, "is out of range"))?
        } else {
            date
        };
        in_utc(date.midnight().assume_offset(self.inner.config.utc_offset)).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::{
        fixtures,
        payment::PaymentStatus,
        refund::{RefundId, refunds_due},
    };

    #[test]
    fn an_export_row_counts_sent_back_money_apart_from_money_still_owed_back() {
        // Given an order whose refunds stand in every status: one of each, 100 to 400
        let mut order = fixtures::order("AAAAAAAAAA", dec!(1000));
        order.status = OrderStatus::Cancelled;
        let payment = fixtures::payment(1, &order, dec!(1000), PaymentStatus::Succeeded);
        let owed = refunds_due(&order, &[payment], &[], None, order.created_at).remove(0);
        let refunds = [
            (RefundStatus::Owed, dec!(100), None),
            (RefundStatus::Sending, dec!(200), None),
            (RefundStatus::Refunded, dec!(300), Some("SLK4H7Q2XZ")),
            (RefundStatus::Failed, dec!(400), None),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (status, amount, reference))| Refund {
            id: RefundId::of_payment(owed.payment_id, i),
            status,
            amount: fixtures::kes(amount),
            reference: reference.map(str::to_owned),
            ..owed.clone()
        })
        .collect();
        let exported = ExportedOrder {
            order,
            receipts: Vec::new(),
            refunds,
        };

        // Then only the refunded one is sent back; owed, sending and failed are still owed
        assert_eq!(exported.refunded().unwrap(), fixtures::kes(dec!(300)));
        assert_eq!(exported.owed_back().unwrap(), fixtures::kes(dec!(700)));
        assert_eq!(exported.refund_references(), ["SLK4H7Q2XZ"]);
    }
}
