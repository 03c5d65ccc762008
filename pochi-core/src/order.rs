//! Orders, their line snapshots, and the order lifecycle as one transition table.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    county::County,
    error::{ConflictReason, Error, Result},
    ids::{OrderNumber, ProductId},
    money::Money,
    phone::Msisdn,
};

/// Where an order is in its life.
///
/// `pending_payment → paid → processing → dispatched → delivered`; `cancelled` from
/// `pending_payment`, `paid` and `processing`. An order paid on delivery may also go
/// `pending_payment → processing` and `dispatched → cancelled` while unpaid (see
/// [`Order::plan_move_paying`]). [`OrderStatus::check_move`] and
/// [`OrderStatus::check_move_paying`] are the only places that decide which moves are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed, stock reserved, waiting for payment.
    PendingPayment,
    /// Paid in full.
    Paid,
    /// Being prepared.
    Processing,
    /// Handed to delivery.
    Dispatched,
    /// Received by the customer.
    Delivered,
    /// Cancelled (by an admin, or expired unpaid); its stock was released.
    Cancelled,
}

/// What causes a status move. Each allowed move names the one cause that may make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Succeeded payments covered the total.
    Payment,
    /// An admin moved it.
    Admin,
    /// It stayed unpaid past the shop's limit.
    Expiry,
}

/// The lifecycle, as `(from, to, who may make the move)`.
const TRANSITIONS: &[(OrderStatus, OrderStatus, &[Trigger])] = {
    use OrderStatus::*;
    &[
        (PendingPayment, Paid, &[Trigger::Payment]),
        (Paid, Processing, &[Trigger::Admin]),
        (Processing, Dispatched, &[Trigger::Admin]),
        (Dispatched, Delivered, &[Trigger::Admin]),
        (
            PendingPayment,
            Cancelled,
            &[Trigger::Admin, Trigger::Expiry],
        ),
        (Paid, Cancelled, &[Trigger::Admin]),
        (Processing, Cancelled, &[Trigger::Admin]),
    ]
};

/// The moves an *unpaid* order paid on delivery may make besides [`TRANSITIONS`]: the shop
/// prepares and dispatches it before the money is collected at the door, and takes it back
/// (cancels it, its stock going back on sale) when the customer refuses it there. Its other
/// moves (`processing → dispatched → delivered`, cancelling while processing) are the
/// ordinary ones; the cash recorded makes it paid without moving it (see
/// [`Order::plan_paid`]).
const UNPAID_ON_DELIVERY: &[(OrderStatus, OrderStatus, &[Trigger])] = {
    use OrderStatus::*;
    &[
        (PendingPayment, Processing, &[Trigger::Admin]),
        (Dispatched, Cancelled, &[Trigger::Admin]),
    ]
};

/// When an order's money is due, as far as its lifecycle cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentDue {
    /// Before the goods leave the shop (M-Pesa, a manual code): the order waits in
    /// `pending_payment` and expires unpaid.
    InAdvance,
    /// At the door (cash, or M-Pesa to the rider): the order is prepared, dispatched and
    /// delivered before it is paid, and does not expire while it waits (see
    /// [`crate::on_delivery`]).
    OnDelivery,
}

impl OrderStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        OrderStatus::Processing,
        OrderStatus::Dispatched,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
    ];

    /// Statuses whose orders count as revenue: paid and everything after it but cancellation.
    pub const REVENUE: [OrderStatus; 4] = [
        OrderStatus::Paid,
        OrderStatus::Processing,
        OrderStatus::Dispatched,
        OrderStatus::Delivered,
    ];

    /// The snake_case name used on the wire and in stores.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Processing => "processing",
            OrderStatus::Dispatched => "dispatched",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(text: &str) -> Result<Self, crate::error::InvalidValue> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text.trim())
            .ok_or(crate::error::InvalidValue::new(
                "must be one of pending_payment, paid, processing, dispatched, delivered, cancelled",
            ))
    }

    /// Whether `trigger` may move an order from `self` to `to`; a `Conflict` otherwise.
    pub fn check_move(self, to: OrderStatus, trigger: Trigger) -> Result<()> {
        let allowed = TRANSITIONS.iter().any(|(from, target, triggers)| {
            *from == self && *target == to && triggers.contains(&trigger)
        });
        if allowed {
            Ok(())
        } else {
            Err(Error::conflict(
                ConflictReason::InvalidTransition,
                format!("an order that is {self} cannot become {to}"),
            ))
        }
    }

    /// Whether `trigger` may move an unpaid order whose money is `due` from `self` to `to`:
    /// [`check_move`](Self::check_move), and for an order paid on delivery the moves it may
    /// make before it is paid too.
    pub fn check_move_paying(
        self,
        to: OrderStatus,
        trigger: Trigger,
        due: PaymentDue,
    ) -> Result<()> {
        let early = due == PaymentDue::OnDelivery
            && UNPAID_ON_DELIVERY.iter().any(|(from, target, triggers)| {
                *from == self && *target == to && triggers.contains(&trigger)
            });
        if early {
            Ok(())
        } else {
            self.check_move(to, trigger)
        }
    }

    /// The statuses an admin may move an order to from `self`.
    pub fn admin_moves(self) -> Vec<OrderStatus> {
        TRANSITIONS
            .iter()
            .filter(|(from, _, triggers)| *from == self && triggers.contains(&Trigger::Admin))
            .map(|(_, to, _)| *to)
            .collect()
    }

    /// Whether orders in this status count as revenue.
    pub fn counts_as_revenue(self) -> bool {
        OrderStatus::REVENUE.contains(&self)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who did something to an order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Actor {
    /// The customer (placing the order, starting a payment).
    Customer,
    /// An admin, by user name.
    Admin(String),
    /// A payment provider, by name.
    Provider(String),
    /// The shop itself (expiry, reconciliation).
    System,
}

/// One entry of an order's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The status the order had after this entry.
    pub status: OrderStatus,
    /// What happened, for people.
    pub note: String,
    /// Who did it.
    pub actor: Actor,
    /// Whether the customer's tracking page shows `note`. An admin's own note on a status move
    /// stays private unless the admin marks it for the customer; the page then shows the
    /// status's plain description ([`customer_note`]) instead.
    #[serde(default = "shown")]
    pub for_customer: bool,
}

fn shown() -> bool {
    true
}

/// What a customer reads for a status when the entry's own note is private.
pub fn customer_note(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::PendingPayment => "Order placed, waiting for payment",
        OrderStatus::Paid => "Payment received",
        OrderStatus::Processing => "Order is being prepared",
        OrderStatus::Dispatched => "Order dispatched",
        OrderStatus::Delivered => "Order delivered",
        OrderStatus::Cancelled => "Order cancelled",
    }
}

/// The customer who placed an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// Name as given.
    pub name: String,
    /// Normalised phone number.
    pub phone: Msisdn,
}

/// Where an order goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// County.
    pub county: County,
    /// Delivery area (town, estate).
    pub area: String,
    /// Street address and directions.
    pub address: String,
    /// Optional notes for the courier.
    pub notes: Option<String>,
}

/// One line of an order: a snapshot of the product as it was sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    /// The product sold.
    pub product_id: ProductId,
    /// Its name when sold.
    pub name: String,
    /// Its unit price when sold.
    pub unit_price: Money,
    /// Units sold.
    pub quantity: u32,
    /// `unit_price × quantity`.
    pub line_total: Money,
}

/// A payment problem on an order that an admin must look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentFlagKind {
    /// Succeeded payments add up to less than the total.
    ShortPayment,
    /// Succeeded payments add up to more than the total.
    OverPayment,
    /// Money arrived for an order that was already cancelled.
    PaidAfterCancellation,
}

/// A payment problem with the amounts involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFlag {
    /// What is wrong.
    pub kind: PaymentFlagKind,
    /// What the order needed.
    pub expected: Money,
    /// What succeeded payments add up to.
    pub received: Money,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// Its public number.
    pub number: OrderNumber,
    /// Its status.
    pub status: OrderStatus,
    /// Who ordered.
    pub customer: Customer,
    /// Where it goes.
    pub delivery: Delivery,
    /// What was bought.
    pub lines: Vec<OrderLine>,
    /// Sum of the line totals.
    pub subtotal: Money,
    /// Delivery fee from the shop's settings when it was placed.
    pub delivery_fee: Money,
    /// `subtotal + delivery_fee`.
    pub total: Money,
    /// A payment problem for an admin, if any.
    pub payment_flag: Option<PaymentFlag>,
    /// What happened to it, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// When it was placed.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When it became paid.
    #[serde(with = "time::serde::rfc3339::option")]
    pub paid_at: Option<OffsetDateTime>,
    /// The language the customer checked out in: the shop's messages to them use it.
    #[serde(default)]
    pub language: crate::language::Language,
}

impl Order {
    /// The key that orders order lists: newest first.
    pub fn key(&self) -> OrderKey {
        OrderKey {
            created_at: self.created_at,
            number: self.number.clone(),
        }
    }

    /// The status the order had before its last timeline entry (every entry records the
    /// status after it): after a move, the status it moved from.
    pub fn status_before_last_entry(&self) -> OrderStatus {
        match self.timeline.len() {
            0 | 1 => OrderStatus::PendingPayment,
            n => self.timeline[n - 2].status,
        }
    }

    /// Whether the order still waits for its money: `pending_payment`, or, paid on delivery,
    /// `processing`, `dispatched` or `delivered` without a payment time (an order that went
    /// through `paid` has one).
    pub fn awaits_payment(&self) -> bool {
        match self.status {
            OrderStatus::PendingPayment => true,
            OrderStatus::Processing | OrderStatus::Dispatched | OrderStatus::Delivered => {
                self.paid_at.is_none()
            }
            OrderStatus::Paid | OrderStatus::Cancelled => false,
        }
    }

    /// When this order's money is due, given whether it has a pay-on-delivery attempt waiting
    /// for its cash ([`crate::on_delivery::awaits_cash`], which the store found under the
    /// order's lock). An unpaid order already past `pending_payment` can only have got there
    /// paying on delivery, so it stays so whatever happened to the attempt since.
    pub fn payment_due(&self, cash_awaited: bool) -> PaymentDue {
        let on_its_way = self.status != OrderStatus::PendingPayment;
        if self.awaits_payment() && (cash_awaited || on_its_way) {
            PaymentDue::OnDelivery
        } else {
            PaymentDue::InAdvance
        }
    }

    /// Plans a status move: checks it against the lifecycle and says what a store must write.
    ///
    /// Stores call this inside their transaction, on the order as it is there (locked), and
    /// persist the returned [`OrderUpdate`] exactly. Stores that know whether the order has a
    /// pay-on-delivery attempt waiting call [`plan_move_paying`](Self::plan_move_paying)
    /// instead; this one assumes it has none.
    pub fn plan_move(&self, change: &StatusChange) -> Result<OrderUpdate> {
        self.plan_move_paying(change, false)
    }

    /// [`plan_move`](Self::plan_move) for an order that has a pay-on-delivery attempt waiting
    /// for its cash (`cash_awaited`, found under the order's lock) or not: such an order may
    /// be prepared, dispatched and delivered before it is paid ([`PaymentDue::OnDelivery`]).
    pub fn plan_move_paying(
        &self,
        change: &StatusChange,
        cash_awaited: bool,
    ) -> Result<OrderUpdate> {
        self.status
            .check_move_paying(change.to, change.trigger, self.payment_due(cash_awaited))?;
        let releases = if change.to == OrderStatus::Cancelled {
            self.units_by_product()
        } else {
            Vec::new()
        };
        let note = change
            .note
            .clone()
            .unwrap_or_else(|| default_note(change.to, change.trigger).to_owned());
        Ok(OrderUpdate {
            from: self.status,
            to: change.to,
            entry: TimelineEntry {
                at: change.at,
                status: change.to,
                note,
                actor: change.actor.clone(),
                for_customer: change.note.is_none() || change.note_for_customer,
            },
            releases,
            paid_at: (change.to == OrderStatus::Paid).then_some(change.at),
            payment_flag: self.payment_flag,
        })
    }

    /// Plans what money covering the order's total does to it: an order waiting in
    /// `pending_payment` moves to `paid`; one paid on delivery that is already on its way (or
    /// delivered) keeps its status and records when it was paid, so it never moves backwards
    /// and its stock, reserved when it was placed, stays taken once.
    pub fn plan_paid(&self, actor: Actor, note: String, at: OffsetDateTime) -> Result<OrderUpdate> {
        if self.status == OrderStatus::PendingPayment {
            let mut update = self.plan_move(&StatusChange {
                to: OrderStatus::Paid,
                trigger: Trigger::Payment,
                actor,
                note: Some(note),
                note_for_customer: true,
                at,
            })?;
            update.payment_flag = None;
            return Ok(update);
        }
        if !self.awaits_payment() {
            return Err(Error::conflict(
                ConflictReason::InvalidTransition,
                format!(
                    "an order that is {} is not waiting for payment",
                    self.status
                ),
            ));
        }
        Ok(OrderUpdate {
            from: self.status,
            to: self.status,
            entry: TimelineEntry {
                at,
                status: self.status,
                note,
                actor,
                for_customer: true,
            },
            releases: Vec::new(),
            paid_at: Some(at),
            payment_flag: None,
        })
    }

    /// The units this order holds, one entry per product (lines of the same product are added
    /// together): what placing it reserves and cancelling it releases.
    pub fn units_by_product(&self) -> Vec<StockUnits> {
        let mut releases: Vec<StockUnits> = Vec::new();
        for line in &self.lines {
            match releases
                .iter_mut()
                .find(|r| r.product_id == line.product_id)
            {
                Some(release) => release.quantity += line.quantity,
                None => releases.push(StockUnits {
                    product_id: line.product_id,
                    quantity: line.quantity,
                }),
            }
        }
        releases
    }

    /// Applies an update to this in-memory order (used by in-memory stores and by SQL stores to
    /// build the returned value).
    pub fn apply(&mut self, update: &OrderUpdate) {
        self.status = update.to;
        self.updated_at = update.entry.at;
        if update.paid_at.is_some() {
            self.paid_at = update.paid_at;
        }
        self.payment_flag = update.payment_flag;
        self.timeline.push(update.entry.clone());
    }
}

fn default_note(to: OrderStatus, trigger: Trigger) -> &'static str {
    match (to, trigger) {
        (OrderStatus::Cancelled, Trigger::Expiry) => "Cancelled: not paid in time",
        (to, _) => customer_note(to),
    }
}

/// The position of an order in a list, for keyset pagination (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderKey {
    /// When it was placed.
    pub created_at: OffsetDateTime,
    /// Its number (breaks ties).
    pub number: OrderNumber,
}

/// A request to move an order's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The status to move to.
    pub to: OrderStatus,
    /// What causes the move.
    pub trigger: Trigger,
    /// Who makes it.
    pub actor: Actor,
    /// A note for the timeline (a default one when absent).
    pub note: Option<String>,
    /// Whether the customer's tracking page shows `note` (a default note always shows).
    pub note_for_customer: bool,
    /// When.
    pub at: OffsetDateTime,
}

/// Units of one product that an order reserves (and gives back when cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StockUnits {
    /// The product.
    pub product_id: ProductId,
    /// Units (stock changes only where the product tracks stock).
    pub quantity: u32,
}

/// What a store writes for one status move, as planned by [`Order::plan_move`] or by the
/// payment settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdate {
    /// The status it had (stores may use it in a conditional update).
    pub from: OrderStatus,
    /// The new status.
    pub to: OrderStatus,
    /// The timeline entry to append; its time is the new `updated_at`.
    pub entry: TimelineEntry,
    /// Stock to give back to tracked products.
    pub releases: Vec<StockUnits>,
    /// The new `paid_at`, when the move is to paid.
    pub paid_at: Option<OffsetDateTime>,
    /// The order's payment flag after the update.
    pub payment_flag: Option<PaymentFlag>,
}

/// A fully priced order, ready for a store to place atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The order as it will be stored (status `pending_payment`, one timeline entry).
    pub order: Order,
    /// The client's idempotency key, if it sent one.
    pub idempotency_key: Option<IdempotencyKey>,
    /// A fingerprint of the request, to tell a retry from a different request with the same
    /// key.
    pub fingerprint: String,
    /// The client network the order came from, when known: kept with the unpaid order so
    /// the limit per network can count it.
    pub placed_from: Option<crate::client::ClientNetwork>,
    /// How many unpaid orders the customer may have open at once.
    pub limits: crate::store::OpenOrderLimits,
}

impl NewOrder {
    /// `order` with this fingerprint, no idempotency key, no client network and no limits.
    pub fn new(order: Order, fingerprint: impl Into<String>) -> Self {
        NewOrder {
            order,
            idempotency_key: None,
            fingerprint: fingerprint.into(),
            placed_from: None,
            limits: crate::store::OpenOrderLimits::default(),
        }
    }
}

/// What placing an order did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A new order was placed and its stock reserved.
    Placed(Order),
    /// The idempotency key was seen before with the same request: this is that order, and
    /// nothing new was reserved.
    Replayed(Order),
}

impl Placement {
    /// The order, new or replayed.
    pub fn order(&self) -> &Order {
        match self {
            Placement::Placed(order) | Placement::Replayed(order) => order,
        }
    }

    /// The order, new or replayed.
    pub fn into_order(self) -> Order {
        match self {
            Placement::Placed(order) | Placement::Replayed(order) => order,
        }
    }
}

/// A client-chosen key that makes a request safe to retry: 1 to 100 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a key.
    pub fn parse(text: &str) -> Result<Self, crate::error::InvalidValue> {
        let text = text.trim();
        if (1..=100).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(IdempotencyKey(text.to_owned()))
        } else {
            Err(crate::error::InvalidValue::new(
                "must be 1 to 100 visible ASCII characters",
            ))
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = crate::error::InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        IdempotencyKey::parse(&value)
    }
}

impl From<IdempotencyKey> for String {
    fn from(value: IdempotencyKey) -> Self {
        value.0
    }
}

/// Which orders an admin list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
    /// Only orders by this phone number.
    pub phone: Option<Msisdn>,
    /// Only orders placed at or after this time.
    pub placed_from: Option<OffsetDateTime>,
    /// Only orders placed before this time.
    pub placed_before: Option<OffsetDateTime>,
    /// Only orders whose number or customer name the search finds.
    pub search: Option<crate::search::OrderSearch>,
}

impl OrderFilter {
    /// Whether `order` passes the filter (for in-memory stores and tests).
    pub fn matches(&self, order: &Order) -> bool {
        self.status.is_none_or(|s| order.status == s)
            && self
                .phone
                .as_ref()
                .is_none_or(|p| &order.customer.phone == p)
            && self.placed_from.is_none_or(|t| order.created_at >= t)
            && self.placed_before.is_none_or(|t| order.created_at < t)
            && self.search.as_ref().is_none_or(|s| s.matches(order))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn the_lifecycle_allows_exactly_the_designed_moves() {
        let mut allowed = Vec::new();
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                for trigger in [Trigger::Payment, Trigger::Admin, Trigger::Expiry] {
                    if from.check_move(to, trigger).is_ok() {
                        allowed.push((from, to, trigger));
                    }
                }
            }
        }
        assert_eq!(
            allowed,
            vec![
                (PendingPayment, Paid, Trigger::Payment),
                (PendingPayment, Cancelled, Trigger::Admin),
                (PendingPayment, Cancelled, Trigger::Expiry),
                (Paid, Processing, Trigger::Admin),
                (Paid, Cancelled, Trigger::Admin),
                (Processing, Dispatched, Trigger::Admin),
                (Processing, Cancelled, Trigger::Admin),
                (Dispatched, Delivered, Trigger::Admin),
            ]
        );
    }

    #[test]
    fn a_forbidden_move_is_a_conflict() {
        let err = Delivered.check_move(Cancelled, Trigger::Admin).unwrap_err();
        assert_eq!(
            err.conflict_reason(),
            Some(ConflictReason::InvalidTransition)
        );
        assert_eq!(
            err.to_string(),
            "an order that is delivered cannot become cancelled"
        );
    }

    #[test]
    fn admins_cannot_mark_an_order_paid() {
        assert!(PendingPayment.check_move(Paid, Trigger::Admin).is_err());
        assert_eq!(PendingPayment.admin_moves(), vec![Cancelled]);
        assert_eq!(Paid.admin_moves(), vec![Processing, Cancelled]);
    }

    #[test]
    fn status_names_round_trip() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()).unwrap(), status);
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert!(OrderStatus::parse("shipped").is_err());
    }

    #[test]
    fn idempotency_keys_are_bounded_visible_ascii() {
        assert!(IdempotencyKey::parse("a1b2-c3").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(101)).is_err());
    }
}
