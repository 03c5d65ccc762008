//! The verdicts a store reaches inside its transactions, written once.
//!
//! A store finds the facts (the earlier order's fingerprint, a product's row as it is under
//! lock) and asks these functions what they mean; it never words a refusal itself, so every
//! store refuses the same way, field for field.

use crate::{
    error::{ConflictReason, Entity, Error, LimitKind, Result},
    ids::{PaymentId, ProductId},
    order::{NewOrder, Order, OrderStatus, StockUnits},
    payment::{Payment, PaymentStatus},
    product::MAX_STOCK,
    stock::{NewStockAdjustment, StockAdjustment},
};
use time::OffsetDateTime;

/// Where an unpaid order's payment stands, for expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentActivity {
    /// No attempt was ever made: the order is held only briefly.
    NoAttempt,
    /// Attempts were made and all of them ended (failed, cancelled); the last of them changed
    /// at `last_change`.
    Ended {
        /// When the order's most recently changed attempt last changed (when it ended).
        last_change: OffsetDateTime,
    },
    /// An attempt is still in flight (`pending` or `pending_verification`).
    InFlight,
    /// A pay-on-delivery attempt waits for its cash
    /// ([`awaits_cash`](crate::on_delivery::awaits_cash)): the goods may be on their way.
    OnDelivery,
}

impl PaymentActivity {
    /// Where the payment of an order with `attempts` stands (for stores that read them all).
    pub fn of(attempts: &[&Payment]) -> PaymentActivity {
        if attempts.iter().any(|p| crate::on_delivery::awaits_cash(p)) {
            PaymentActivity::OnDelivery
        } else if attempts.is_empty() {
            PaymentActivity::NoAttempt
        } else if attempts.iter().any(|p| !p.status.is_final()) {
            PaymentActivity::InFlight
        } else {
            PaymentActivity::Ended {
                last_change: attempts
                    .iter()
                    .map(|p| p.updated_at)
                    .max()
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            }
        }
    }
}

/// Whether an unpaid order expires under `cutoff`, given where its payment stands. An order
/// nobody started to pay is held for the short hold only, so anonymous orders cannot keep
/// stock off sale. A payment attempt extends the hold while it is pending: a customer who is
/// entering their PIN must not pay for an order cancelled a second earlier, so an order with
/// an attempt in flight is kept until the hard bound. Once every attempt has ended (a wrong
/// PIN, a cancelled prompt), the short hold counts again from the last attempt's end, so the
/// customer can try again but a failed push does not buy a long hold; an order is never held
/// past the full expiry for it. An order paid on delivery never expires while its attempt
/// waits: the goods may be on their way, and an admin cancels it if they come back. Stores
/// that filter in SQL write exactly this condition.
pub fn expires(order: &Order, payment: PaymentActivity, cutoff: &super::ExpiryCutoff) -> bool {
    if order.status != crate::order::OrderStatus::PendingPayment {
        return false;
    }
    match payment {
        PaymentActivity::OnDelivery => false,
        PaymentActivity::NoAttempt => order.created_at < cutoff.unstarted_placed_before,
        PaymentActivity::Ended { last_change } => {
            order.created_at < cutoff.placed_before || last_change < cutoff.unstarted_placed_before
        }
        PaymentActivity::InFlight => order.created_at < cutoff.in_flight_placed_before,
    }
}

/// Whether a new payment attempt may be stored for an order in `status` (the store read it
/// under the order's lock): only while it waits for payment, so an attempt never lands on an
/// order the expiry sweep has just cancelled.
pub fn check_payable(number: &crate::ids::OrderNumber, status: OrderStatus) -> Result<()> {
    if status == OrderStatus::PendingPayment {
        return Ok(());
    }
    Err(Error::conflict(
        ConflictReason::OrderNotPayable,
        format!("order {number} is {status}, not waiting for payment"),
    ))
}

/// Whether a customer may open one more unpaid order, given the `pending_payment` orders the
/// store counted under its locks: those of the new order's phone, and those of its client
/// network (`None` when the order names none or there is no such limit).
pub fn check_open_orders(
    limits: &super::OpenOrderLimits,
    open_for_phone: u64,
    open_from_client: Option<u64>,
) -> Result<()> {
    let refuse = |limit: LimitKind, message: &str| {
        Err(Error::LimitReached {
            limit,
            message: message.to_owned(),
            retry_after_secs: limits.retry_after_secs.max(1),
        })
    };
    if limits
        .per_phone
        .is_some_and(|max| open_for_phone >= u64::from(max))
    {
        return refuse(
            LimitKind::OpenOrdersPerPhone,
            "this phone number already has unpaid orders waiting: pay or wait for them to expire",
        );
    }
    if let (Some(max), Some(open)) = (limits.per_client, open_from_client) {
        if open >= u64::from(max) {
            return refuse(
                LimitKind::OpenOrdersPerClient,
                "too many unpaid orders were placed from your network; try again later",
            );
        }
    }
    Ok(())
}

/// Whether one more push may go to a phone, given the push attempts to it the store counted
/// under its lock: `recent` attempts created after `limit.since`, the oldest at `oldest`.
pub fn check_payment_requests(
    limit: &super::PushLimit,
    recent: u64,
    oldest: Option<OffsetDateTime>,
) -> Result<()> {
    if recent < u64::from(limit.max) {
        return Ok(());
    }
    let window = time::Duration::try_from(limit.window).unwrap_or(time::Duration::MAX);
    let wait = oldest
        .and_then(|oldest| oldest.checked_add(window))
        .map_or(window, |free| free - limit.now);
    // Whole seconds, rounded up: a client that waits that long is not refused again.
    let secs =
        u64::try_from(wait.whole_seconds()).unwrap_or(0) + u64::from(wait.subsec_nanoseconds() > 0);
    Err(Error::LimitReached {
        limit: LimitKind::PaymentRequestsPerPhone,
        message: "too many payment requests were sent to this phone; try again later".to_owned(),
        retry_after_secs: secs.max(1),
    })
}

/// A product as a store found it when a reservation of its units was refused: whether it is
/// still sold, and its tracked stock (`None`: not tracked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductStock {
    /// Whether the product is sold (active).
    pub active: bool,
    /// Units left, when the product tracks stock.
    pub stock: Option<u32>,
}

/// Whether `order` may take `unit`, given its product as the store found it (`None`: the
/// product does not exist).
///
/// `Ok(())` means the units can be taken (they came back between a refused conditional update
/// and the store's look at the row: take them now). Otherwise the refusal, as the API words
/// it: a product that is gone or no longer sold is invalid input at `items[i].productId` (the
/// first line of the order naming it), one without enough units is `OutOfStock`.
pub fn check_stock(order: &Order, unit: &StockUnits, found: Option<ProductStock>) -> Result<()> {
    match found {
        Some(ProductStock {
            active: true,
            stock,
        }) => match stock {
            Some(available) if available < unit.quantity => Err(Error::OutOfStock {
                product: unit.product_id,
                requested: unit.quantity,
                available,
            }),
            _ => Ok(()),
        },
        _ => {
            let index = order
                .lines
                .iter()
                .position(|l| l.product_id == unit.product_id)
                .unwrap_or(0);
            Err(product_not_sold(index))
        }
    }
}

/// The stock after `adjustment`, given the product's stock as the store found it under lock
/// (`None`: no such product; `Some(None)`: its stock is not tracked).
///
/// A stock that would go below zero is `OutOfStock` (`requested` is the units taken away,
/// `available` what was left), one above [`MAX_STOCK`] is invalid
/// input at `delta`, an untracked one a `Conflict` with [`ConflictReason::StockNotTracked`].
/// Stores that apply the delta with one conditional update ask this why it matched no row.
pub fn adjusted_stock(adjustment: &NewStockAdjustment, found: Option<Option<u32>>) -> Result<u32> {
    let product = adjustment.product_id;
    let stock = match found {
        None => return Err(Error::not_found(Entity::Product, product)),
        Some(None) => {
            return Err(Error::conflict(
                ConflictReason::StockNotTracked,
                format!("product {product} does not count its stock"),
            ));
        }
        Some(Some(stock)) => stock,
    };
    let after = i64::from(stock).saturating_add(adjustment.delta);
    if after < 0 {
        return Err(Error::OutOfStock {
            product,
            requested: u32::try_from(adjustment.delta.unsigned_abs()).unwrap_or(u32::MAX),
            available: stock,
        });
    }
    match u32::try_from(after) {
        Ok(after) if after <= MAX_STOCK => Ok(after),
        _ => Err(Error::invalid(
            "delta",
            format!("the stock would be more than {MAX_STOCK}"),
        )),
    }
}

/// What an adjustment whose idempotency key is already in the product's history means, given
/// that earlier adjustment: `Ok(())` is a replay (answer with it, change nothing); a different
/// delta or reason is a `Conflict` with [`ConflictReason::IdempotencyKeyReused`].
pub fn check_adjustment_replay(new: &NewStockAdjustment, earlier: &StockAdjustment) -> Result<()> {
    if new.delta == earlier.delta && new.reason == earlier.reason {
        Ok(())
    } else {
        Err(Error::conflict(
            ConflictReason::IdempotencyKeyReused,
            "this idempotency key was used for a different stock adjustment",
        ))
    }
}

/// The refusal of an edit made against `expected` when the product is at `current` (or
/// `Ok(())` when they are the same).
pub fn check_version(product: ProductId, expected: Option<u64>, current: u64) -> Result<()> {
    match expected {
        Some(expected) if expected != current => Err(Error::ProductChanged {
            product,
            version: current,
        }),
        _ => Ok(()),
    }
}

/// The refusal of checkout line `index` whose product is no longer sold (pricing says it
/// before the store is asked; the store says it when the product was archived in between).
pub fn product_not_sold(index: usize) -> Error {
    Error::invalid(
        format!("items[{index}].productId"),
        "this product is no longer sold",
    )
}

/// The first refusal in the order's own order, when a store reserved its products in another
/// order (by id, so concurrent orders never deadlock) and collected every refusal with the
/// index of its product in [`Order::units_by_product`].
pub fn first_refusal(refusals: impl IntoIterator<Item = (usize, Error)>) -> Option<Error> {
    refusals
        .into_iter()
        .min_by_key(|(index, _)| *index)
        .map(|(_, refusal)| refusal)
}

/// What a placement whose idempotency key is already on an order means, given that order's
/// fingerprint: `Ok(())` is a replay (answer with the earlier order, reserve nothing); a
/// different fingerprint is a `Conflict` with [`ConflictReason::IdempotencyKeyReused`].
pub fn check_replay(new: &NewOrder, earlier_fingerprint: &str) -> Result<()> {
    if new.fingerprint == earlier_fingerprint {
        Ok(())
    } else {
        Err(Error::conflict(
            ConflictReason::IdempotencyKeyReused,
            "this idempotency key was used for a different order",
        ))
    }
}

/// What marking `payment` started (the provider took the request) writes, given the payment
/// that holds `reference` for the same provider now (`None`: none does).
///
/// `Ok(None)`: the attempt is no longer pending (a result arrived first); nothing changes and
/// the store answers the payment as it is. `Ok(Some(started))`: write it. A reference held by
/// another payment is a `Conflict` (`AlreadyExists`), nothing written.
pub fn plan_started(
    payment: &Payment,
    reference: Option<&str>,
    reference_holder: Option<PaymentId>,
    status: PaymentStatus,
    at: OffsetDateTime,
) -> Result<Option<Payment>> {
    if payment.status != PaymentStatus::Pending {
        return Ok(None);
    }
    if reference_holder.is_some_and(|holder| holder != payment.id) {
        return Err(Error::conflict(
            ConflictReason::AlreadyExists,
            "another payment has this provider reference",
        ));
    }
    let mut started = payment.clone();
    if let Some(reference) = reference {
        started.provider_reference = Some(reference.to_owned());
    }
    started.status = status;
    started.updated_at = at;
    if status != PaymentStatus::Pending {
        started.next_check_at = None;
    }
    Ok(Some(started))
}

/// The refusal of a new payment whose id another payment has.
pub fn payment_exists(id: PaymentId) -> Error {
    Error::conflict(
        ConflictReason::AlreadyExists,
        format!("payment {id} already exists"),
    )
}

/// The refusal of a new payment whose `(provider, reference)` another payment has.
pub fn reference_exists() -> Error {
    Error::conflict(
        ConflictReason::AlreadyExists,
        "a payment with this provider reference exists",
    )
}

/// The refusal of a refund's reference (the code of the money sent back) or provider request
/// that another refund holds.
pub fn refund_reference_taken() -> Error {
    Error::conflict(
        ConflictReason::AlreadyExists,
        "another refund has this reference",
    )
}

/// The refusal of a decision on payment notice `id`, which an admin already decided on.
pub fn review_resolved(id: crate::ids::ReviewId) -> Error {
    Error::conflict(
        ConflictReason::ReviewResolved,
        format!("payment notice {id} is already decided"),
    )
}

/// The refusal of an order whose number another order holds.
pub fn order_number_taken() -> Error {
    Error::conflict(ConflictReason::OrderNumberTaken, "order number taken")
}

/// Whether `payment` may carry its receipt, given the payment that holds that receipt now
/// (`None`: no payment does). A receipt (an M-Pesa transaction code) counts once: on another
/// payment it is a `Conflict` with [`ConflictReason::ReceiptAlreadyUsed`], and the store
/// writes nothing.
pub fn check_receipt(payment: &Payment, holder: Option<PaymentId>) -> Result<()> {
    match holder {
        Some(other) if payment.receipt.is_some() && other != payment.id => Err(Error::conflict(
            ConflictReason::ReceiptAlreadyUsed,
            "this transaction code is already recorded on another payment",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use uuid::Uuid;

    use super::*;
    use crate::{fixtures, ids::ProductId};

    fn id(n: u128) -> ProductId {
        ProductId::from_uuid(Uuid::from_u128(n))
    }

    fn order_of(products: &[ProductId]) -> Order {
        let mut order = fixtures::order("AAAAAAAAAA", dec!(100));
        let template = order.lines[0].clone();
        order.lines = products
            .iter()
            .map(|id| {
                let mut line = template.clone();
                line.product_id = *id;
                line
            })
            .collect();
        order
    }

    #[test]
    fn a_product_no_longer_sold_is_invalid_input_at_its_first_line() {
        let (a, b) = (id(1), id(2));
        let order = order_of(&[a, b, b]);
        let unit = StockUnits {
            product_id: b,
            quantity: 2,
        };
        for found in [
            None,
            Some(ProductStock {
                active: false,
                stock: Some(10),
            }),
        ] {
            let err = check_stock(&order, &unit, found).unwrap_err();
            assert_eq!(err.field(), Some("items[1].productId"));
        }
    }

    #[test]
    fn a_sold_product_without_enough_units_is_out_of_stock_with_the_numbers() {
        let a = id(1);
        let order = order_of(&[a]);
        let unit = StockUnits {
            product_id: a,
            quantity: 3,
        };
        let err = check_stock(
            &order,
            &unit,
            Some(ProductStock {
                active: true,
                stock: Some(2),
            }),
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::OutOfStock { product, requested: 3, available: 2 } if product == a),
            "{err:?}"
        );
    }

    #[test]
    fn units_that_came_back_or_are_untracked_can_be_taken() {
        let a = id(1);
        let order = order_of(&[a]);
        let unit = StockUnits {
            product_id: a,
            quantity: 3,
        };
        for stock in [Some(3), None] {
            let found = Some(ProductStock {
                active: true,
                stock,
            });
            assert!(check_stock(&order, &unit, found).is_ok(), "{stock:?}");
        }
    }

    #[test]
    fn the_first_refusal_is_the_one_of_the_earliest_product_in_the_order() {
        let refusals = vec![(2, order_number_taken()), (0, Error::invalid("x", "first"))];
        let first = first_refusal(refusals).unwrap();
        assert_eq!(first.field(), Some("x"));
        assert!(first_refusal(Vec::new()).is_none());
    }

    #[test]
    fn a_receipt_held_by_another_payment_is_refused_and_its_own_is_not() {
        use crate::payment::{PaymentStatus, Receipt};
        let order = fixtures::order("AAAAAAAAAA", dec!(100));
        let mut payment = fixtures::payment(1, &order, dec!(100), PaymentStatus::Succeeded);
        payment.receipt = Some(Receipt::parse("QK81ABCDEF").unwrap());
        let other = fixtures::payment(2, &order, dec!(100), PaymentStatus::Succeeded).id;
        let err = check_receipt(&payment, Some(other)).unwrap_err();
        assert_eq!(
            err.conflict_reason(),
            Some(ConflictReason::ReceiptAlreadyUsed)
        );
        assert!(check_receipt(&payment, Some(payment.id)).is_ok());
        assert!(check_receipt(&payment, None).is_ok());
    }

    #[test]
    fn starting_writes_the_reference_and_status_only_while_pending() {
        let order = fixtures::order("AAAAAAAAAA", dec!(100));
        let mut pending = fixtures::payment(1, &order, dec!(100), PaymentStatus::Pending);
        pending.next_check_at = Some(fixtures::T0);
        let at = fixtures::T0 + time::Duration::seconds(3);

        let started = plan_started(&pending, Some("ws_CO_1"), None, PaymentStatus::Pending, at)
            .unwrap()
            .unwrap();
        assert_eq!(started.provider_reference.as_deref(), Some("ws_CO_1"));
        assert_eq!(
            (started.updated_at, started.next_check_at),
            (at, Some(fixtures::T0))
        );

        let failed = plan_started(&pending, None, None, PaymentStatus::Failed, at)
            .unwrap()
            .unwrap();
        assert_eq!(
            (failed.status, failed.next_check_at),
            (PaymentStatus::Failed, None)
        );

        let settled = fixtures::payment(1, &order, dec!(100), PaymentStatus::Succeeded);
        assert!(
            plan_started(&settled, Some("ws_CO_1"), None, PaymentStatus::Pending, at)
                .unwrap()
                .is_none()
        );

        let other = fixtures::payment(2, &order, dec!(100), PaymentStatus::Pending).id;
        let err = plan_started(
            &pending,
            Some("ws_CO_1"),
            Some(other),
            PaymentStatus::Pending,
            at,
        )
        .unwrap_err();
        assert_eq!(err.conflict_reason(), Some(ConflictReason::AlreadyExists));
        assert!(
            plan_started(
                &pending,
                Some("ws_CO_1"),
                Some(pending.id),
                PaymentStatus::Pending,
                at
            )
            .is_ok()
        );
    }

    #[test]
    fn the_same_fingerprint_is_a_replay_and_another_a_reused_key() {
        let new = NewOrder::new(fixtures::order("AAAAAAAAAA", dec!(100)), "abc");
        assert!(check_replay(&new, "abc").is_ok());
        let err = check_replay(&new, "abd").unwrap_err();
        assert_eq!(
            err.conflict_reason(),
            Some(ConflictReason::IdempotencyKeyReused)
        );
    }
}
