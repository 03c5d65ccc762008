use rust_decimal_macros::dec;
use time::Duration;

use super::*;
use crate::fixtures::{self, T0, kes};

fn paid(n: u128, order: &Order, amount: rust_decimal::Decimal, minutes: i64) -> Payment {
    let mut payment = fixtures::payment(n, order, amount, PaymentStatus::Succeeded);
    payment.created_at = T0 + Duration::minutes(minutes);
    payment
}

fn cancelled(mut order: Order) -> Order {
    order.status = OrderStatus::Cancelled;
    order
}

#[test]
fn cancelling_owes_back_each_payment_that_went_through_and_nothing_else() {
    let order = fixtures::order("AAAAAAAAAA", dec!(1000));
    let first = paid(1, &order, dec!(600), 1);
    let second = paid(2, &order, dec!(400), 2);
    let failed = fixtures::payment(3, &order, dec!(1000), PaymentStatus::Failed);
    let due = refunds_due(
        &cancelled(order),
        &[first.clone(), second.clone(), failed],
        &[],
        None,
        T0,
    );
    let owed: Vec<_> = due
        .iter()
        .map(|r| (r.payment_id, r.amount, r.reason))
        .collect();
    assert_eq!(
        owed,
        vec![
            (first.id, kes(dec!(600)), RefundReason::OrderCancelled),
            (second.id, kes(dec!(400)), RefundReason::OrderCancelled),
        ]
    );
    assert!(due.iter().all(|r| r.status == RefundStatus::Owed));
}

#[test]
fn an_unpaid_or_live_order_owes_nothing() {
    let order = fixtures::order("AAAAAAAAAA", dec!(1000));
    assert!(refunds_due(&cancelled(order.clone()), &[], &[], None, T0).is_empty());
    let exact = paid(1, &order, dec!(1000), 1);
    assert!(
        refunds_due(
            &order,
            &[exact],
            &[],
            Some(PaymentId::from_uuid(Uuid::from_u128(1))),
            T0
        )
        .is_empty()
    );
    // A short payment waits for the rest.
    let short = paid(1, &order, dec!(300), 1);
    assert!(refunds_due(&order, &[short], &[], None, T0).is_empty());
}

#[test]
fn a_payment_beyond_a_paid_orders_total_is_owed_back_and_an_unpaid_order_keeps_it() {
    let mut order = fixtures::order("AAAAAAAAAA", dec!(1000));
    let first = paid(1, &order, dec!(1000), 1);
    let second = paid(2, &order, dec!(300), 2);
    // Unpaid and over paid: flagged, nothing owed until it is cancelled.
    assert!(
        refunds_due(
            &order,
            &[first.clone(), second.clone()],
            &[],
            Some(second.id),
            T0
        )
        .is_empty()
    );
    order.status = OrderStatus::Paid;
    let due = refunds_due(
        &order,
        &[first.clone(), second.clone()],
        &[],
        Some(second.id),
        T0,
    );
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].payment_id, due[0].amount, due[0].reason),
        (second.id, kes(dec!(300)), RefundReason::OverPayment)
    );
    // The settled payment pays the excess back first, even when an earlier one came later.
    let mut late_first = first.clone();
    late_first.created_at = T0 + Duration::minutes(9);
    let due = refunds_due(
        &order,
        &[late_first, second.clone()],
        &[],
        Some(second.id),
        T0,
    );
    assert_eq!(due[0].payment_id, second.id);
    // Planned again with that refund written: nothing more.
    assert!(refunds_due(&order, &[first, second], &due, None, T0).is_empty());
}

#[test]
fn a_payment_after_cancellation_owes_itself_back_and_earlier_refunds_count() {
    let order = cancelled(fixtures::order("AAAAAAAAAA", dec!(1000)));
    let first = paid(1, &order, dec!(1000), 1);
    let earlier = refunds_due(&order, std::slice::from_ref(&first), &[], None, T0);
    assert_eq!(earlier.len(), 1);
    let late = paid(2, &order, dec!(1000), 5);
    let due = refunds_due(&order, &[first, late.clone()], &earlier, Some(late.id), T0);
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].payment_id, due[0].amount, due[0].reason),
        (
            late.id,
            kes(dec!(1000)),
            RefundReason::PaidAfterCancellation
        )
    );
}

#[test]
fn cancelling_after_an_excess_refund_owes_only_the_rest_under_a_new_id() {
    let mut order = fixtures::order("AAAAAAAAAA", dec!(1000));
    order.status = OrderStatus::Paid;
    let over = paid(1, &order, dec!(1200), 1);
    let excess = refunds_due(&order, std::slice::from_ref(&over), &[], Some(over.id), T0);
    assert_eq!(excess[0].amount, kes(dec!(200)));
    let rest = refunds_due(&cancelled(order), &[over], &excess, None, T0);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].amount, kes(dec!(1000)));
    assert_ne!(rest[0].id, excess[0].id);
}

fn owed() -> Refund {
    let order = cancelled(fixtures::order("AAAAAAAAAA", dec!(1000)));
    refunds_due(&order, &[paid(1, &order, dec!(1000), 1)], &[], None, T0).remove(0)
}

fn admin() -> Actor {
    Actor::Admin("amina".into())
}

#[test]
fn a_refund_is_marked_refunded_once() {
    let refund = owed();
    let mark = RefundChange::MarkRefunded {
        reference: "SLK4H7Q2XZ".into(),
        note: None,
        actor: admin(),
        at: T0,
    };
    let RefundPlan::Write(done) = refund.plan(&mark).unwrap() else {
        panic!("not written");
    };
    assert_eq!(done.status, RefundStatus::Refunded);
    assert_eq!(done.reference.as_deref(), Some("SLK4H7Q2XZ"));
    let err = done.plan(&mark).unwrap_err();
    assert_eq!(err.conflict_reason(), Some(ConflictReason::RefundNotOwed));
}

#[test]
fn a_reversal_result_applies_once_and_only_to_its_own_request() {
    let refund = owed();
    let RefundPlan::Write(sending) = refund
        .plan(&RefundChange::Sending {
            request: "AG_1".into(),
            actor: admin(),
            at: T0,
        })
        .unwrap()
    else {
        panic!("not written");
    };
    assert_eq!(sending.status, RefundStatus::Sending);
    // Neither sent again nor marked by hand while the provider holds it.
    assert!(
        sending
            .plan(&RefundChange::MarkRefunded {
                reference: "SLK4H7Q2XZ".into(),
                note: None,
                actor: admin(),
                at: T0,
            })
            .is_err()
    );
    let result = |request: &str, outcome| RefundChange::Result {
        request: request.into(),
        outcome,
        actor: Actor::Provider("mpesa".into()),
        at: T0,
    };
    assert_eq!(
        sending.plan(&result("AG_2", Ok("RVS1".into()))).unwrap(),
        RefundPlan::Unchanged
    );
    let RefundPlan::Write(failed) = sending
        .plan(&result(
            "AG_1",
            Err("The initiator information is invalid.".into()),
        ))
        .unwrap()
    else {
        panic!("not written");
    };
    assert_eq!(failed.status, RefundStatus::Failed);
    // A duplicate of the same result changes nothing; a failed refund may be sent again.
    assert_eq!(
        failed.plan(&result("AG_1", Ok("RVS1".into()))).unwrap(),
        RefundPlan::Unchanged
    );
    assert!(
        failed
            .plan(&RefundChange::Sending {
                request: "AG_3".into(),
                actor: admin(),
                at: T0,
            })
            .is_ok()
    );
}

#[test]
fn a_refund_left_sending_without_an_answer_can_be_given_up_on_after_the_patience() {
    let RefundPlan::Write(sending) = owed()
        .plan(&RefundChange::Sending {
            request: "pochi-1".into(),
            actor: admin(),
            at: T0,
        })
        .unwrap()
    else {
        panic!("not written");
    };
    let give_up = |at| RefundChange::GiveUp { actor: admin(), at };
    let mark = |at| RefundChange::MarkRefunded {
        reference: "SLK4H7Q2XZ".into(),
        note: None,
        actor: admin(),
        at,
    };
    let early = T0 + SENDING_PATIENCE - Duration::seconds(1);
    let err = sending.plan(&give_up(early)).unwrap_err();
    assert_eq!(err.conflict_reason(), Some(ConflictReason::RefundNotStuck));
    assert!(sending.plan(&mark(early)).is_err());

    let late = T0 + SENDING_PATIENCE;
    let RefundPlan::Write(failed) = sending.plan(&give_up(late)).unwrap() else {
        panic!("not written");
    };
    assert_eq!(failed.status, RefundStatus::Failed);
    // A late failure for the abandoned request changes nothing; a late success pays it back.
    let late_result = |outcome| RefundChange::Result {
        request: "pochi-1".into(),
        outcome,
        actor: Actor::Provider("mpesa".into()),
        at: late,
    };
    assert_eq!(
        failed.plan(&late_result(Err("timed out".into()))).unwrap(),
        RefundPlan::Unchanged
    );
    let RefundPlan::Write(paid) = failed.plan(&late_result(Ok("RVS1".into()))).unwrap() else {
        panic!("a late success should apply");
    };
    assert_eq!(paid.status, RefundStatus::Refunded);
    assert_eq!(paid.reference.as_deref(), Some("RVS1"));
    // Only a sending refund is given up on; one stuck may also be marked refunded by hand.
    assert!(failed.plan(&give_up(late)).is_err());
    let RefundPlan::Write(by_hand) = sending.plan(&mark(late)).unwrap() else {
        panic!("not written");
    };
    assert_eq!(by_hand.status, RefundStatus::Refunded);
    assert_eq!(by_hand.provider_request, None);
}

#[test]
fn a_typed_reference_is_an_m_pesa_code() {
    assert_eq!(
        refund_reference(" slk4h7q2xz ", Some("  ")).unwrap(),
        ("SLK4H7Q2XZ".to_owned(), None)
    );
    for bad in ["", "AB", "SLK4 H7Q2", "SLK4-H7Q2"] {
        assert_eq!(
            refund_reference(bad, None).unwrap_err().field(),
            Some("reference")
        );
    }
    let long = "x".repeat(MAX_REFUND_TEXT + 1);
    assert_eq!(
        refund_reference("SLK4H7Q2XZ", Some(&long))
            .unwrap_err()
            .field(),
        Some("note")
    );
}
