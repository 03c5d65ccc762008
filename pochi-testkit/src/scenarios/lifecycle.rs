//! The order lifecycle: every allowed and forbidden move, races, cancellation and expiry.

use std::sync::Arc;

use futures::future::join_all;
use pochi_core::{
    Actor, ConflictReason, Error, Order, OrderStatus, PaymentStatus, Store, StoreExt, Trigger,
    store::ExpiryCutoff,
};

use crate::fixtures::{
    admin_move, at, bring_to, by_reference, checkout, failure, move_by, new_order, order_for,
    order_number, place, product, started_attempt, stock_shelves,
};

const TRIGGERS: [Trigger; 3] = [Trigger::Payment, Trigger::Admin, Trigger::Expiry];

/// Every move the lifecycle allows succeeds, sets the status, and appends one timeline entry
/// with the time, the status and who made it.
pub async fn every_allowed_move_succeeds(store: Arc<dyn Store>) {
    let item = product("Item", "100", None);
    stock_shelves(store.as_ref(), &[&item]).await;
    for from in OrderStatus::ALL {
        for to in OrderStatus::ALL {
            for trigger in TRIGGERS {
                if from.check_move(to, trigger).is_err() {
                    continue;
                }
                // Given an order in `from`
                let order = bring_to(
                    store.as_ref(),
                    &order_for(store.as_ref(), &item, 1).await,
                    from,
                )
                .await;
                // When `trigger` moves it to `to`
                let moved = store
                    .move_order(&order.number, &move_by(to, trigger, at(500)))
                    .await
                    .unwrap_or_else(|e| panic!("{from} -> {to} by {trigger:?}: {e}"));
                // Then the move is stored with one new timeline entry
                assert_eq!(moved.status, to);
                assert_eq!(moved.timeline.len(), order.timeline.len() + 1);
                let entry = moved.timeline.last().unwrap();
                assert_eq!((entry.status, entry.at), (to, at(500)));
                assert_eq!(entry.actor, move_by(to, trigger, at(500)).actor);
                assert_eq!(moved.updated_at, at(500));
                if to == OrderStatus::Paid {
                    assert_eq!(moved.paid_at, Some(at(500)));
                }
                assert_eq!(store.order_required(&order.number).await.unwrap(), moved);
            }
        }
    }
}

/// Every move the lifecycle does not allow is a conflict and changes nothing.
pub async fn every_forbidden_move_is_a_conflict(store: Arc<dyn Store>) {
    let item = product("Item", "100", Some(1_000));
    stock_shelves(store.as_ref(), &[&item]).await;
    for from in OrderStatus::ALL {
        // Given an order in `from`
        let order = bring_to(
            store.as_ref(),
            &order_for(store.as_ref(), &item, 1).await,
            from,
        )
        .await;
        for to in OrderStatus::ALL {
            for trigger in TRIGGERS {
                if from.check_move(to, trigger).is_ok() {
                    continue;
                }
                // When a forbidden move is asked for
                let err = store
                    .move_order(&order.number, &move_by(to, trigger, at(500)))
                    .await
                    .unwrap_err();
                // Then it is refused as an invalid transition
                assert_eq!(
                    err.conflict_reason(),
                    Some(ConflictReason::InvalidTransition),
                    "{from} -> {to} by {trigger:?}: {err}"
                );
            }
        }
        // And the order is exactly as it was
        assert_eq!(store.order_required(&order.number).await.unwrap(), order);
    }
    // And moving a missing order is not found
    let err = store
        .move_order(&order_number(), &admin_move(OrderStatus::Cancelled, at(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

/// Two admins moving the same order at the same time: exactly one wins, the others are
/// conflicts, and the timeline has one entry for the move.
pub async fn concurrent_moves_have_one_winner(store: Arc<dyn Store>) {
    let item = product("Item", "100", Some(100));
    stock_shelves(store.as_ref(), &[&item]).await;

    // Given a paid order, when 8 admins all move it to processing
    let order = bring_to(
        store.as_ref(),
        &order_for(store.as_ref(), &item, 1).await,
        OrderStatus::Paid,
    )
    .await;
    let racers = (0..8).map(|i| {
        let store = store.clone();
        let number = order.number.clone();
        tokio::spawn(async move {
            store
                .move_order(&number, &admin_move(OrderStatus::Processing, at(200 + i)))
                .await
        })
    });
    let results: Vec<_> = join_all(racers)
        .await
        .into_iter()
        .map(|j| j.unwrap())
        .collect();
    // Then one succeeds and 7 conflict
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    for err in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(
            err.conflict_reason(),
            Some(ConflictReason::InvalidTransition),
            "{err}"
        );
    }
    let stored = store.order_required(&order.number).await.unwrap();
    assert_eq!(stored.timeline.len(), order.timeline.len() + 1);

    // Given a processing order, when one admin dispatches while another cancels
    let order = bring_to(
        store.as_ref(),
        &order_for(store.as_ref(), &item, 3).await,
        OrderStatus::Processing,
    )
    .await;
    let dispatch = {
        let store = store.clone();
        let number = order.number.clone();
        tokio::spawn(async move {
            store
                .move_order(&number, &admin_move(OrderStatus::Dispatched, at(300)))
                .await
        })
    };
    let cancel = {
        let store = store.clone();
        let number = order.number.clone();
        tokio::spawn(async move {
            store
                .move_order(&number, &admin_move(OrderStatus::Cancelled, at(300)))
                .await
        })
    };
    let (dispatch, cancel) = (dispatch.await.unwrap(), cancel.await.unwrap());
    // Then exactly one of them happened
    assert!(
        dispatch.is_ok() != cancel.is_ok(),
        "dispatch {dispatch:?} cancel {cancel:?}"
    );
    let stored = store.order_required(&order.number).await.unwrap();
    let stock = store.product_required(item.id).await.unwrap().stock;
    if cancel.is_ok() {
        assert_eq!(stored.status, OrderStatus::Cancelled);
        assert_eq!(
            stock,
            Some(100 - 1),
            "the cancelled order's 3 units come back"
        );
    } else {
        assert_eq!(stored.status, OrderStatus::Dispatched);
        assert_eq!(stock, Some(100 - 1 - 3));
    }
}

/// Cancelling gives the reserved units back exactly once.
pub async fn cancelling_releases_stock_once(store: Arc<dyn Store>) {
    // Given 10 units, 3 reserved by an order (and one untracked item in it)
    let kikoi = product("Kikoi", "100", Some(10));
    let basket = product("Basket", "100", None);
    stock_shelves(store.as_ref(), &[&kikoi, &basket]).await;
    let order = place(
        store.as_ref(),
        &new_order(
            order_number(),
            &checkout(&[(&kikoi, 3), (&basket, 2)]),
            &[kikoi.clone(), basket.clone()],
            at(0),
        ),
    )
    .await;
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(7)
    );

    // When it is cancelled, then the 3 units are back
    store
        .move_order(&order.number, &admin_move(OrderStatus::Cancelled, at(10)))
        .await
        .unwrap();
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(10)
    );
    assert_eq!(store.product_required(basket.id).await.unwrap().stock, None);

    // When it is cancelled again, then it conflicts and releases nothing more
    let err = store
        .move_order(&order.number, &admin_move(OrderStatus::Cancelled, at(20)))
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict_reason(),
        Some(ConflictReason::InvalidTransition)
    );
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(10)
    );

    // And cancelling a paid order gives its units back too
    let paid = bring_to(
        store.as_ref(),
        &order_for(store.as_ref(), &kikoi, 4).await,
        OrderStatus::Paid,
    )
    .await;
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(6)
    );
    store
        .move_order(&paid.number, &admin_move(OrderStatus::Cancelled, at(30)))
        .await
        .unwrap();
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(10)
    );
}

/// Expiry cancels only unpaid orders placed before the cutoff, releases their stock once, and
/// running it again (or concurrently) changes nothing more.
pub async fn expiry_releases_stock_once(store: Arc<dyn Store>) {
    // Given 20 units; an old unpaid order (2), a new unpaid order (3), an old paid order (4)
    let kikoi = product("Kikoi", "100", Some(20));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let old = place(
        store.as_ref(),
        &new_order(
            order_number(),
            &checkout(&[(&kikoi, 2)]),
            &[kikoi.clone()],
            at(0),
        ),
    )
    .await;
    let new = place(
        store.as_ref(),
        &new_order(
            order_number(),
            &checkout(&[(&kikoi, 3)]),
            &[kikoi.clone()],
            at(1_000),
        ),
    )
    .await;
    let paid = place(
        store.as_ref(),
        &new_order(
            order_number(),
            &checkout(&[(&kikoi, 4)]),
            &[kikoi.clone()],
            at(0),
        ),
    )
    .await;
    let paid = bring_to(store.as_ref(), &paid, OrderStatus::Paid).await;
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(11)
    );

    // When orders placed before at(500) expire, four sweepers at once
    let sweepers = (0..4).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .expire_orders(&ExpiryCutoff::by_age(at(500), at(2_000)), 100)
                .await
        })
    });
    let expired: Vec<Order> = join_all(sweepers)
        .await
        .into_iter()
        .flat_map(|j| j.unwrap().unwrap())
        .collect();

    // Then only the old unpaid order was cancelled, once, by the system
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].number, old.number);
    let old = store.order_required(&old.number).await.unwrap();
    assert_eq!(old.status, OrderStatus::Cancelled);
    let entry = old.timeline.last().unwrap();
    assert_eq!((entry.actor.clone(), entry.at), (Actor::System, at(2_000)));
    assert_eq!(
        store.order_required(&new.number).await.unwrap().status,
        OrderStatus::PendingPayment
    );
    assert_eq!(
        store.order_required(&paid.number).await.unwrap().status,
        OrderStatus::Paid
    );
    // And its 2 units came back exactly once
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(13)
    );
    assert!(
        store
            .expire_orders(&ExpiryCutoff::by_age(at(500), at(3_000)), 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(13)
    );
}

/// Expiry handles many orders in batches of `limit`, oldest first.
pub async fn expiry_works_in_batches(store: Arc<dyn Store>) {
    let item = product("Item", "100", Some(100));
    stock_shelves(store.as_ref(), &[&item]).await;
    let mut numbers = Vec::new();
    for i in 0..5 {
        let o = place(
            store.as_ref(),
            &new_order(
                order_number(),
                &checkout(&[(&item, 1)]),
                &[item.clone()],
                at(i),
            ),
        )
        .await;
        numbers.push(o.number);
    }
    let first = store
        .expire_orders(&ExpiryCutoff::by_age(at(100), at(200)), 2)
        .await
        .unwrap();
    let first: Vec<_> = first.into_iter().map(|o| o.number).collect();
    assert_eq!(first, numbers[..2].to_vec());
    let rest = store
        .expire_orders(&ExpiryCutoff::by_age(at(100), at(200)), 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 3);
    assert_eq!(
        store.product_required(item.id).await.unwrap().stock,
        Some(100)
    );
}

/// An unpaid order whose payment attempt is still in flight (the customer may be entering their
/// PIN) is not expired at its cutoff, only at the hard bound; an order whose attempt failed
/// expires at its cutoff. Stock comes back once.
pub async fn an_order_with_a_payment_in_flight_expires_only_at_the_hard_bound(
    store: Arc<dyn Store>,
) {
    // Given three unpaid orders placed at the same time: one with a pending push, one whose
    // push failed, one never paid
    let kikoi = product("Kikoi", "1500", Some(10));
    stock_shelves(store.as_ref(), &[&kikoi]).await;
    let order = |quantity| {
        new_order(
            order_number(),
            &checkout(&[(&kikoi, quantity)]),
            &[kikoi.clone()],
            at(0),
        )
    };
    let in_flight = place(store.as_ref(), &order(1)).await;
    let failed = place(store.as_ref(), &order(2)).await;
    let unpaid = place(store.as_ref(), &order(3)).await;
    started_attempt(store.as_ref(), &in_flight, in_flight.total, "ws_CO_FLIGHT").await;
    let attempt = started_attempt(store.as_ref(), &failed, failed.total, "ws_CO_FAILED").await;
    store
        .settle_payment(
            &by_reference(&attempt),
            &failure(PaymentStatus::Failed, "1032"),
        )
        .await
        .unwrap();
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(4)
    );

    // When their cutoff passes, with the hard bound still ahead
    let cutoff = ExpiryCutoff {
        unstarted_placed_before: at(100),
        placed_before: at(100),
        in_flight_placed_before: at(0),
        at: at(100),
    };
    let expired = store.expire_orders(&cutoff, 100).await.unwrap();

    // Then the order whose customer may still be paying is kept, the others expire
    let mut numbers: Vec<_> = expired.iter().map(|o| o.number.clone()).collect();
    numbers.sort();
    let mut expected = vec![failed.number.clone(), unpaid.number.clone()];
    expected.sort();
    assert_eq!(numbers, expected);
    assert_eq!(
        store
            .order_required(&in_flight.number)
            .await
            .unwrap()
            .status,
        OrderStatus::PendingPayment
    );
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(9)
    );

    // And once the hard bound passes it expires too, and nothing expires twice
    let bound = ExpiryCutoff {
        unstarted_placed_before: at(200),
        placed_before: at(200),
        in_flight_placed_before: at(200),
        at: at(200),
    };
    let expired = store.expire_orders(&bound, 100).await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].number, in_flight.number);
    assert!(store.expire_orders(&bound, 100).await.unwrap().is_empty());
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(10)
    );
}
