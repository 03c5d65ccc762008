//! The settlement rules, one by one.

use rust_decimal_macros::dec;

use super::*;
use crate::fixtures::{kes, order, payment, result};

#[test]
fn a_success_covering_the_total_pays_the_order() {
    let order = order("2222222222", dec!(1500));
    let attempt = payment(1, &order, dec!(1500), PaymentStatus::Pending);
    let outcome = settle(
        &order,
        std::slice::from_ref(&attempt),
        &attempt,
        &result(
            PaymentStatus::Succeeded,
            Some(dec!(1500)),
            Some("NLJ7RT61SV"),
        ),
    )
    .unwrap();
    let Settlement::Apply {
        payment,
        order: Some(update),
    } = outcome
    else {
        panic!("expected the order to move, got {outcome:?}");
    };
    assert_eq!(payment.status, PaymentStatus::Succeeded);
    assert_eq!(payment.receipt.unwrap().as_str(), "NLJ7RT61SV");
    assert_eq!(
        (update.from, update.to),
        (OrderStatus::PendingPayment, OrderStatus::Paid)
    );
    assert_eq!(update.entry.note, "Payment received (NLJ7RT61SV)");
    assert_eq!(update.paid_at, Some(update.entry.at));
    assert_eq!(update.payment_flag, None);
}

#[test]
fn a_success_without_an_amount_counts_the_amount_asked_for() {
    // STK query answers carry no amount or receipt
    let order = order("2222222222", dec!(1500));
    let attempt = payment(1, &order, dec!(1500), PaymentStatus::Pending);
    let outcome = settle(
        &order,
        std::slice::from_ref(&attempt),
        &attempt,
        &result(PaymentStatus::Succeeded, None, None),
    )
    .unwrap();
    assert!(
        matches!(outcome, Settlement::Apply { order: Some(ref u), .. } if u.to == OrderStatus::Paid)
    );
}

#[test]
fn duplicates_stale_results_and_conflicting_receipts() {
    let order = order("2222222222", dec!(1500));
    let mut paid = payment(1, &order, dec!(1500), PaymentStatus::Succeeded);
    paid.receipt = Some(Receipt::parse("NLJ7RT61SV").unwrap());
    let same = result(
        PaymentStatus::Succeeded,
        Some(dec!(1500)),
        Some("NLJ7RT61SV"),
    );
    let other = result(
        PaymentStatus::Succeeded,
        Some(dec!(1500)),
        Some("OTHER00001"),
    );
    let failed = result(PaymentStatus::Failed, None, None);
    let payments = [paid.clone()];
    assert_eq!(
        settle(&order, &payments, &paid, &same).unwrap(),
        Settlement::Unchanged(Unchanged::Duplicate)
    );
    assert_eq!(
        settle(&order, &payments, &paid, &other).unwrap(),
        Settlement::Quarantine(ReviewReason::ConflictingResult)
    );
    assert_eq!(
        settle(&order, &payments, &paid, &failed).unwrap(),
        Settlement::Unchanged(Unchanged::Stale)
    );

    let cancelled = payment(2, &order, dec!(1500), PaymentStatus::Cancelled);
    let timeout = result(PaymentStatus::TimedOut, None, None);
    let cancel_again = result(PaymentStatus::Cancelled, None, None);
    assert_eq!(
        settle(
            &order,
            std::slice::from_ref(&cancelled),
            &cancelled,
            &timeout
        )
        .unwrap(),
        Settlement::Unchanged(Unchanged::Stale)
    );
    assert_eq!(
        settle(
            &order,
            std::slice::from_ref(&cancelled),
            &cancelled,
            &cancel_again
        )
        .unwrap(),
        Settlement::Unchanged(Unchanged::Duplicate)
    );
}

#[test]
fn a_receipt_is_added_to_a_success_that_had_none_and_nothing_else_changes() {
    let order = order("2222222222", dec!(1500));
    let queried = payment(1, &order, dec!(1500), PaymentStatus::Succeeded);
    let payments = [queried.clone()];
    let with_receipt = result(
        PaymentStatus::Succeeded,
        Some(dec!(1500)),
        Some("NLJ7RT61SV"),
    );

    let Settlement::AddReceipt(updated) =
        settle(&order, &payments, &queried, &with_receipt).unwrap()
    else {
        panic!("the receipt should be added");
    };
    assert_eq!(updated.receipt.as_ref().unwrap().as_str(), "NLJ7RT61SV");
    assert_eq!(
        *updated,
        Payment {
            receipt: updated.receipt.clone(),
            updated_at: updated.updated_at,
            ..queried.clone()
        }
    );

    // Another amount is not this payment's receipt.
    let other_amount = result(
        PaymentStatus::Succeeded,
        Some(dec!(1000)),
        Some("NLJ7RT61SV"),
    );
    assert!(matches!(
        settle(&order, &payments, &queried, &other_amount).unwrap(),
        Settlement::Quarantine(ReviewReason::AmountMismatch { .. })
    ));
    // Without a receipt there is nothing to add.
    let bare = result(PaymentStatus::Succeeded, Some(dec!(1500)), None);
    assert_eq!(
        settle(&order, &payments, &queried, &bare).unwrap(),
        Settlement::Unchanged(Unchanged::Duplicate)
    );
}

#[test]
fn a_pending_status_is_not_a_result() {
    let order = order("2222222222", dec!(1500));
    let attempt = payment(1, &order, dec!(1500), PaymentStatus::Pending);
    let err = settle(
        &order,
        std::slice::from_ref(&attempt),
        &attempt,
        &result(PaymentStatus::Pending, None, None),
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("status"));
}

#[test]
fn a_reported_amount_that_differs_is_quarantined() {
    let order = order("2222222222", dec!(1500));
    let attempt = payment(1, &order, dec!(1500), PaymentStatus::Pending);
    let outcome = settle(
        &order,
        std::slice::from_ref(&attempt),
        &attempt,
        &result(PaymentStatus::Succeeded, Some(dec!(1)), Some("FORGED0001")),
    )
    .unwrap();
    assert_eq!(
        outcome,
        Settlement::Quarantine(ReviewReason::AmountMismatch {
            expected: kes(dec!(1500)),
            received: kes(dec!(1)),
        })
    );
}

#[test]
fn money_for_a_cancelled_order_is_flagged_and_the_order_stays_cancelled() {
    let mut order = order("2222222222", dec!(1500));
    order.status = OrderStatus::Cancelled;
    let attempt = payment(1, &order, dec!(1500), PaymentStatus::TimedOut);
    let outcome = settle(
        &order,
        std::slice::from_ref(&attempt),
        &attempt,
        &result(
            PaymentStatus::Succeeded,
            Some(dec!(1500)),
            Some("LATE000001"),
        ),
    )
    .unwrap();
    let Settlement::Apply {
        order: Some(update),
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(update.to, OrderStatus::Cancelled);
    let flag = update.payment_flag.unwrap();
    assert_eq!(
        flag.kind,
        crate::order::PaymentFlagKind::PaidAfterCancellation
    );
    assert_eq!(
        update.entry.note,
        "Payment of KES 1500.00 received after cancellation"
    );
}

#[test]
fn a_second_payment_on_a_paid_order_is_an_overpayment() {
    let mut order = order("2222222222", dec!(1500));
    order.status = OrderStatus::Processing;
    let first = payment(1, &order, dec!(1500), PaymentStatus::Succeeded);
    let second = payment(2, &order, dec!(1500), PaymentStatus::Pending);
    let outcome = settle(
        &order,
        &[first, second.clone()],
        &second,
        &result(
            PaymentStatus::Succeeded,
            Some(dec!(1500)),
            Some("TWICE00001"),
        ),
    )
    .unwrap();
    let Settlement::Apply {
        order: Some(update),
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(update.to, OrderStatus::Processing);
    let flag = update.payment_flag.unwrap();
    assert_eq!(
        (flag.kind, flag.expected, flag.received),
        (
            crate::order::PaymentFlagKind::OverPayment,
            kes(dec!(1500)),
            kes(dec!(3000))
        )
    );
}

#[test]
fn failures_touch_only_the_payment() {
    let order = order("2222222222", dec!(1500));
    let attempt = payment(1, &order, dec!(1500), PaymentStatus::Pending);
    let mut failed = result(PaymentStatus::Cancelled, None, None);
    failed.result.result_code = Some("1032".into());
    failed.result.raw_payload = Some("x".repeat(MAX_RAW_PAYLOAD + 10));
    let outcome = settle(&order, std::slice::from_ref(&attempt), &attempt, &failed).unwrap();
    let Settlement::Apply {
        payment,
        order: None,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(payment.status, PaymentStatus::Cancelled);
    assert_eq!(payment.result_code.as_deref(), Some("1032"));
    assert_eq!(
        payment.raw_payload.unwrap().len(),
        MAX_RAW_PAYLOAD,
        "payloads are capped"
    );
    assert_eq!(payment.next_check_at, None);
}

#[test]
fn payloads_are_cut_on_character_boundaries() {
    let text = "é".repeat(MAX_RAW_PAYLOAD);
    let cut = truncate_payload(&text);
    assert!(cut.len() <= MAX_RAW_PAYLOAD);
    assert!(cut.chars().all(|c| c == 'é'));
}
