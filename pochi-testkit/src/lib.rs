//! The conformance kit: one suite every Pochi storage adapter runs against its own backend, and
//! one every payment provider runs.
//!
//! Each scenario is a plain `async fn` taking the store under test, so a failure is easy to
//! debug; [`store_conformance_tests!`] stamps one named `#[tokio::test]` per scenario for a
//! backend. Nothing is skipped silently: a backend that cannot run a scenario fails it.
//!
//! ```
//! use std::sync::Arc;
//! use pochi_core::{MemoryStore, Store};
//!
//! async fn memory_store() -> Option<Arc<dyn Store>> {
//!     Some(Arc::new(MemoryStore::new()))
//! }
//!
//! // In a test file (`tests/conformance.rs`) of your adapter:
//! // pochi_testkit::store_conformance_tests!(memory_store);
//! # let _ = memory_store;
//! ```
//!
//! The factory returns `None` to skip the whole suite for that backend (for example when a
//! database server is not reachable on a developer's machine); adapters must make it fail
//! instead when the `CI` environment variable is set. Adapter crates need `tokio` (with the
//! `macros` and `rt-multi-thread` features) as a dev-dependency.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs
)]

pub mod fixtures;
pub mod provider;
pub mod scenarios;

pub use provider::ProviderUnderTest;

/// Stamps one `#[tokio::test]` per store scenario, for a backend made by `$factory`: a path to
/// an `async fn() -> Option<std::sync::Arc<dyn pochi_core::Store>>` that returns a fresh, empty,
/// migrated store each time it is called (or `None` to skip).
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:path) => {
        $crate::__store_tests!(
            $factory;
            // catalogue
            product_lifecycle,
            products_list_in_stable_order,
            pagination_is_stable_under_concurrent_inserts,
            // edits and stock adjustments
            an_edit_while_orders_sell_does_not_restore_stock,
            an_edit_against_a_stale_version_is_refused,
            concurrent_adjustments_add_up_exactly,
            an_adjustment_below_zero_is_refused_and_changes_nothing,
            adjustments_are_idempotent_and_listed_newest_first,
            // orders
            placing_an_order_prices_it_and_reserves_stock,
            placing_more_than_stock_fails_and_reserves_nothing,
            concurrent_buyers_never_oversell,
            idempotent_replay_returns_the_same_order,
            concurrent_replays_place_one_order,
            a_taken_order_number_is_a_conflict,
            archived_products_cannot_be_ordered,
            order_lists_filter_and_page_newest_first,
            order_search_finds_numbers_and_names,
            // lifecycle
            every_allowed_move_succeeds,
            every_forbidden_move_is_a_conflict,
            concurrent_moves_have_one_winner,
            cancelling_releases_stock_once,
            expiry_releases_stock_once,
            expiry_works_in_batches,
            an_order_with_a_payment_in_flight_expires_only_at_the_hard_bound,
            // limits
            an_order_nobody_started_to_pay_expires_after_the_short_hold,
            a_phone_at_its_open_order_limit_is_refused_and_nothing_is_reserved,
            a_client_network_at_its_open_order_limit_is_refused,
            racing_orders_of_one_phone_never_pass_the_limit,
            pushes_to_one_phone_are_limited_across_orders,
            racing_pushes_to_one_phone_never_pass_the_limit,
            an_attempt_is_refused_on_an_order_no_longer_waiting_for_payment,
            // payments
            the_same_result_twice_changes_nothing,
            concurrent_duplicate_results_apply_once,
            a_receipt_is_never_counted_twice,
            unknown_attempts_and_wrong_amounts_change_nothing,
            final_results_never_regress,
            short_and_over_payments_are_flagged,
            payment_attempts_are_idempotent,
            payments_of_several_orders_are_read_together,
            reconciliation_queue,
            reviews_list_newest_first,
            a_review_is_resolved_once,
            // refunds
            cancelling_a_paid_order_owes_its_payment_back_once,
            refunds_of_several_orders_are_read_together,
            over_and_late_payments_owe_the_excess_and_themselves,
            a_short_payment_is_owed_back_when_the_order_expires,
            a_refund_is_paid_once_even_when_marked_concurrently,
            refund_references_and_results_apply_once,
            racing_payments_and_a_cancel_owe_each_payment_back_once,
            // pay on delivery
            an_order_paid_on_delivery_goes_out_unpaid_and_is_paid_once,
            an_order_refused_at_the_door_gives_its_stock_back_once,
            // reports
            stats_are_exact,
            daily_revenue_counts_east_africa_days,
            customer_summaries_are_exact,
            concurrent_orders_and_payments_are_counted_once,
            settings_round_trip,
            // exactness
            any_unicode_text_round_trips,
            money_at_the_bounds_is_exact,
            // tracking
            tracking_shows_exactly_what_the_order_holds,
            // notifications
            placing_writes_one_outbox_event_and_a_replay_none,
            moves_expiries_and_payments_write_their_events,
            money_sent_back_writes_one_event_whichever_way,
            an_outbox_event_is_expanded_once,
            concurrent_claims_never_share_a_delivery,
            an_expired_lease_can_be_claimed_again,
            finished_deliveries_keep_their_outcome,
            only_dead_deliveries_can_be_retried,
            deliveries_list_filters_and_pages_newest_first,
            opt_outs_are_kept_per_phone_and_channel,
            an_order_keeps_its_language,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __store_tests {
    ($factory:path; $($name:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(store) = $factory().await else {
                    return;
                };
                $crate::scenarios::$name(store).await;
            }
        )*
    };
}
