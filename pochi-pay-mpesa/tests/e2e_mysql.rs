//! The refund and review scenarios of the end-to-end suite (`Shop`, the fake Daraja on
//! loopback, callbacks over HTTP) on a real MariaDB server, one fresh database per test (see
//! `pochi-store-mysql/tests/common`: skipped without a server on a developer's machine, failed
//! under `CI`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

#[macro_use]
mod common;
#[path = "../../pochi-store-mysql/tests/common/mod.rs"]
mod db;

use std::sync::Arc;

macro_rules! on_server {
    ($($scenario:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $scenario() {
                let Some(db) = db::test_db().await else {
                    return;
                };
                common::scenarios::$scenario(Arc::new(db.store)).await;
            }
        )*
    };
}

on_server!(
    a_paid_push_marks_the_order_paid,
    the_same_callback_twice_and_concurrently_counts_once,
    an_unmatched_c2b_confirmation_is_kept_for_the_admin,
    a_cancelled_paid_order_is_refunded_by_a_reversal_once,
    a_refused_reversal_fails_and_can_be_sent_again,
    an_unmatched_c2b_payment_is_assigned_to_its_order_once,
    a_manual_code_is_paid_once_transaction_status_confirms_it,
    a_timed_out_check_is_asked_again_by_the_admin,
    a_receipt_missing_after_an_stk_query_is_filled_in,
    a_c2b_payment_waits_for_transaction_status_when_the_shop_asks,
    a_refund_without_an_answer_is_given_up_on_and_sent_again,
);
