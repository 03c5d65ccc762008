//! Pay on delivery: the customer pays at the door (cash, or M-Pesa to the rider), and an admin
//! records the money once the rider has it.
//!
//! Starting such a payment asks nobody for money: the attempt waits in `pending_verification`
//! ([`awaits_cash`]) until an admin verifies it, exactly like a manual M-Pesa code. While it
//! waits, its order is [`PaymentDue::OnDelivery`](crate::order::PaymentDue::OnDelivery):
//!
//! - it does not expire ([`PaymentActivity::OnDelivery`](crate::store::verdict::PaymentActivity));
//! - an admin may prepare, dispatch and deliver it before it is paid
//!   ([`Order::plan_move_paying`](crate::Order::plan_move_paying)), and cancel it while it is
//!   on its way (refused at the door: its stock goes back on sale like any cancellation);
//! - verifying the attempt records the money without moving the order backwards
//!   ([`Order::plan_paid`](crate::Order::plan_paid)): a delivered order stays delivered, now
//!   paid. A second verify is refused (the attempt is no longer waiting), so the money counts
//!   once.
//!
//! The stock it holds was reserved when it was placed and stays taken. In the statistics it
//! counts as revenue from the moment the shop prepares it (the statuses decide revenue, as for
//! every order), and on the day the cash was recorded in the daily figures and windows, which
//! go by the payment's time.
//!
//! The shop offers it only when [`PayOnDelivery`] is one of its providers; otherwise starting
//! one is refused with [`ConflictReason::PaymentMethodOff`](crate::ConflictReason).

use async_trait::async_trait;

use crate::{
    error::{Error, Result},
    payment::{Payment, PaymentKind, PaymentStatus},
    provider::{
        Notice, NoticeReply, Notification, PaymentProvider, PaymentRequest, ProviderReply,
        QueryAnswer, StartedPayment,
    },
};

/// Whether `payment` is a pay-on-delivery attempt waiting for its cash: the one fact that
/// makes its order [`PaymentDue::OnDelivery`](crate::order::PaymentDue::OnDelivery). SQL
/// stores test the same columns (`provider` = [`PayOnDelivery::NAME`], `status` =
/// `pending_verification`).
pub fn awaits_cash(payment: &Payment) -> bool {
    payment.provider == PayOnDelivery::NAME && payment.status == PaymentStatus::PendingVerification
}

/// The pay-on-delivery attempt among `payments` that waits for its cash, if one does.
pub fn waiting_attempt(payments: &[Payment]) -> Option<&Payment> {
    payments.iter().find(|payment| awaits_cash(payment))
}

/// Money collected at the door, recorded by an admin.
#[derive(Debug, Clone, Copy, Default)]
pub struct PayOnDelivery;

impl PayOnDelivery {
    /// The provider's name on payments (`method` when starting one).
    pub const NAME: &'static str = "pay_on_delivery";
}

#[async_trait]
impl PaymentProvider for PayOnDelivery {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn kind(&self) -> PaymentKind {
        // Confirmed by a person, like a manual M-Pesa code.
        PaymentKind::Manual
    }

    fn precision(&self) -> u32 {
        // Riders carry no cents, and M-Pesa takes whole shillings.
        0
    }

    fn handles_channel(&self, _channel: &str) -> bool {
        false
    }

    async fn start(&self, request: &PaymentRequest) -> Result<StartedPayment> {
        Ok(StartedPayment {
            // Unique per attempt (the shop keeps references unique per provider), and never
            // read as an M-Pesa receipt when the cash is recorded (it has a hyphen).
            reference: Some(format!("POD-{}", request.payment_id)),
            status: PaymentStatus::PendingVerification,
            customer_message: Some(format!(
                "Please have {} ready when your order arrives.",
                request.amount
            )),
        })
    }

    fn interpret(&self, notification: &Notification) -> Result<Vec<Notice>> {
        Err(Error::invalid(
            "channel",
            format!(
                "pay on delivery receives no notifications ({})",
                notification.channel
            ),
        ))
    }

    async fn query(&self, _payment: &Payment) -> Result<QueryAnswer> {
        // Only the rider knows; an admin records it.
        Ok(QueryAnswer::Unsupported)
    }

    fn reply(&self, _channel: &str, _reply: NoticeReply) -> ProviderReply {
        ProviderReply::json("{}")
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use time::Duration;

    use super::*;
    use crate::{
        error::ConflictReason,
        fixtures::{self, T0},
        order::{Actor, Order, OrderStatus, PaymentDue, StatusChange, Trigger},
        payment::{Settlement, Unchanged, settle},
        store::{
            ExpiryCutoff,
            verdict::{PaymentActivity, expires},
        },
    };

    fn by_admin(to: OrderStatus, minutes: i64) -> StatusChange {
        StatusChange {
            to,
            trigger: Trigger::Admin,
            actor: Actor::Admin("wanjiru".into()),
            note: None,
            note_for_customer: false,
            at: T0 + Duration::minutes(minutes),
        }
    }

    /// An unpaid order of 100 and its pay-on-delivery attempt, waiting for the cash.
    fn order_paying_on_delivery() -> (Order, Payment) {
        let order = fixtures::order("AAAAAAAAAA", dec!(100));
        let mut attempt =
            fixtures::payment(1, &order, dec!(100), PaymentStatus::PendingVerification);
        attempt.provider = PayOnDelivery::NAME.to_owned();
        (order, attempt)
    }

    /// Moves `order` along `to` by an admin, as a store that found the cash awaited does.
    fn moved(mut order: Order, to: &[OrderStatus]) -> Order {
        for (minute, status) in (1..).zip(to) {
            let update = order
                .plan_move_paying(&by_admin(*status, minute), true)
                .unwrap();
            order.apply(&update);
        }
        order
    }

    #[test]
    fn an_order_paying_on_delivery_never_expires_while_its_cash_is_awaited() {
        // given an order placed long ago with a pay-on-delivery attempt waiting
        let (order, attempt) = order_paying_on_delivery();
        let cutoff = ExpiryCutoff::by_age(T0 + Duration::days(30), T0 + Duration::days(30));
        // then it does not expire, while the same order with a manual code in flight does
        assert_eq!(
            PaymentActivity::of(&[&attempt]),
            PaymentActivity::OnDelivery
        );
        assert!(!expires(&order, PaymentActivity::of(&[&attempt]), &cutoff));
        let mut manual = attempt.clone();
        manual.provider = "manual".into();
        assert_eq!(PaymentActivity::of(&[&manual]), PaymentActivity::InFlight);
        assert!(expires(&order, PaymentActivity::of(&[&manual]), &cutoff));
        // and once the attempt is rejected the order is an ordinary unpaid one again
        let mut rejected = attempt;
        rejected.status = PaymentStatus::Failed;
        assert!(expires(&order, PaymentActivity::of(&[&rejected]), &cutoff));
    }

    #[test]
    fn an_order_paying_on_delivery_is_prepared_dispatched_and_delivered_before_it_is_paid() {
        let (order, _) = order_paying_on_delivery();
        assert_eq!(order.payment_due(true), PaymentDue::OnDelivery);
        // without the awaited cash an unpaid order cannot be prepared
        let err = order
            .plan_move_paying(&by_admin(OrderStatus::Processing, 1), false)
            .unwrap_err();
        assert_eq!(
            err.conflict_reason(),
            Some(ConflictReason::InvalidTransition)
        );
        // with it, it goes all the way, unpaid, and keeps its stock
        let order = moved(
            order,
            &[
                OrderStatus::Processing,
                OrderStatus::Dispatched,
                OrderStatus::Delivered,
            ],
        );
        assert_eq!(
            (order.status, order.paid_at, order.awaits_payment()),
            (OrderStatus::Delivered, None, true)
        );
        // and an admin cannot mark it paid by a move
        assert!(
            order
                .plan_move_paying(&by_admin(OrderStatus::Paid, 9), true)
                .is_err()
        );
    }

    #[test]
    fn an_unpaid_order_refused_at_the_door_is_cancelled_and_gives_its_stock_back() {
        let (order, _) = order_paying_on_delivery();
        let dispatched = moved(order, &[OrderStatus::Processing, OrderStatus::Dispatched]);
        // the attempt was rejected since: the order on its way still pays on delivery
        let update = dispatched
            .plan_move_paying(&by_admin(OrderStatus::Cancelled, 5), false)
            .unwrap();
        assert_eq!(update.to, OrderStatus::Cancelled);
        assert_eq!(update.releases, dispatched.units_by_product());
        // a paid dispatched order cannot be cancelled
        let mut paid = dispatched;
        paid.paid_at = Some(T0);
        assert_eq!(paid.payment_due(true), PaymentDue::InAdvance);
        assert!(
            paid.plan_move_paying(&by_admin(OrderStatus::Cancelled, 5), true)
                .is_err()
        );
    }

    #[test]
    fn the_cash_recorded_for_a_delivered_order_makes_it_paid_once_without_moving_it() {
        // given a delivered, unpaid order and its attempt
        let (order, attempt) = order_paying_on_delivery();
        let mut order = moved(
            order,
            &[
                OrderStatus::Processing,
                OrderStatus::Dispatched,
                OrderStatus::Delivered,
            ],
        );
        // when an admin records the cash
        let verified = fixtures::result(PaymentStatus::Succeeded, None, None);
        let Settlement::Apply {
            payment,
            order: Some(update),
        } = settle(&order, std::slice::from_ref(&attempt), &attempt, &verified).unwrap()
        else {
            panic!("the cash must be applied");
        };
        // then the order stays delivered, now paid, with nothing released or flagged
        assert_eq!(payment.status, PaymentStatus::Succeeded);
        assert_eq!(
            (update.from, update.to, update.paid_at, update.payment_flag),
            (
                OrderStatus::Delivered,
                OrderStatus::Delivered,
                Some(verified.at),
                None
            )
        );
        assert!(update.releases.is_empty());
        order.apply(&update);
        assert!(!order.awaits_payment());
        // and the same result again changes nothing
        assert_eq!(
            settle(&order, std::slice::from_ref(&payment), &payment, &verified).unwrap(),
            Settlement::Unchanged(Unchanged::Duplicate)
        );
    }

    #[test]
    fn the_cash_recorded_before_the_order_is_prepared_makes_it_paid() {
        let (order, attempt) = order_paying_on_delivery();
        let verified = fixtures::result(PaymentStatus::Succeeded, None, None);
        let Settlement::Apply {
            order: Some(update),
            ..
        } = settle(&order, std::slice::from_ref(&attempt), &attempt, &verified).unwrap()
        else {
            panic!("the cash must be applied");
        };
        assert_eq!(
            (update.from, update.to),
            (OrderStatus::PendingPayment, OrderStatus::Paid)
        );
    }

    #[test]
    fn only_a_pay_on_delivery_attempt_waiting_for_verification_awaits_cash() {
        let order = fixtures::order("AAAAAAAAAA", dec!(100));
        let mut attempt =
            fixtures::payment(1, &order, dec!(100), PaymentStatus::PendingVerification);
        attempt.provider = PayOnDelivery::NAME.to_owned();
        assert!(awaits_cash(&attempt));

        let mut manual = attempt.clone();
        manual.provider = "manual".to_owned();
        let mut collected = attempt.clone();
        collected.status = PaymentStatus::Succeeded;
        let mut rejected = attempt.clone();
        rejected.status = PaymentStatus::Failed;
        for other in [&manual, &collected, &rejected] {
            assert!(!awaits_cash(other), "{other:?}");
        }
        assert_eq!(
            waiting_attempt(&[manual.clone(), attempt.clone()]).map(|p| p.id),
            Some(attempt.id)
        );
        assert!(waiting_attempt(&[manual, collected]).is_none());
    }
}
