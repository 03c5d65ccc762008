//! End-to-end scenarios with the in-memory store (the same scenarios run on SQLite in
//! `e2e_sqlite.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

#[macro_use]
mod common;

use std::sync::Arc;

use pochi_core::{MemoryStore, Store};

async fn memory(_test: &str) -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

e2e_tests!(memory =>
    a_paid_push_marks_the_order_paid,
    a_cancelled_push_cancels_the_attempt_and_a_new_one_can_start,
    an_unreachable_phone_times_the_attempt_out,
    a_lost_callback_is_settled_by_reconciliation,
    an_unanswered_push_stays_pending_then_goes_to_review,
    the_same_callback_twice_and_concurrently_counts_once,
    a_callback_to_a_wrong_token_is_refused_and_reviewed,
    a_forged_success_for_an_unknown_checkout_is_reviewed,
    a_forged_success_with_the_wrong_amount_is_reviewed,
    a_c2b_confirmation_typed_in_lower_case_with_spaces_pays_the_order,
    an_unmatched_c2b_confirmation_is_kept_for_the_admin,
    a_c2b_confirmation_to_another_shortcode_is_kept_and_pays_nothing,
    c2b_validation_accepts_the_due_amount_and_rejects_the_rest,
    a_late_success_after_a_timeout_pays_the_order,
    a_cancelled_paid_order_is_refunded_by_a_reversal_once,
    a_refused_reversal_fails_and_can_be_sent_again,
    an_unmatched_c2b_payment_is_assigned_to_its_order_once,
    a_manual_code_is_paid_once_transaction_status_confirms_it,
    a_timed_out_check_is_asked_again_by_the_admin,
    a_receipt_missing_after_an_stk_query_is_filled_in,
    a_c2b_payment_waits_for_transaction_status_when_the_shop_asks,
    a_refund_without_an_answer_is_given_up_on_and_sent_again,
);
