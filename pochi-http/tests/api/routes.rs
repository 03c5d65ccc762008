//! Every route's success path, in process, with a snapshot of its JSON shape.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn products_are_listed_a_page_at_a_time() {
    // given three products
    let app = app();
    for (name, price) in [("Kikoi", "1500"), ("Kiondo", "2200"), ("Shuka", "800")] {
        product(&app.shop, name, price, Some(5)).await;
    }
    // when the first page of two is asked for, then the next
    let first = get("/api/products?limit=2").send(&app.router).await;
    let cursor = first.json()["nextCursor"].as_str().unwrap().to_owned();
    let second = get(&format!("/api/products?limit=2&cursor={cursor}"))
        .send(&app.router)
        .await;
    // then
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.json()["items"].as_array().unwrap().len(), 2);
    assert_eq!(second.json()["items"][0]["name"], "Shuka");
    assert_eq!(second.json()["nextCursor"], json!(null));
    snapshot("products_page", &first.json());
}

#[tokio::test]
async fn a_limit_above_100_is_capped() {
    let app = app();
    for i in 0..101 {
        product(&app.shop, &format!("Item {i}"), "100", None).await;
    }
    let reply = get("/api/products?limit=500").send(&app.router).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["items"].as_array().unwrap().len(), 100);
    assert!(reply.json()["nextCursor"].is_string());
}

#[tokio::test]
async fn a_limit_too_large_for_any_integer_type_is_capped_too() {
    let app = app();
    product(&app.shop, "Kikoi", "100", None).await;
    for limit in ["100000000000000000000000", "101"] {
        let reply = get(&format!("/api/products?limit={limit}"))
            .send(&app.router)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{limit}");
        assert_eq!(reply.json()["items"].as_array().unwrap().len(), 1);
    }
    for limit in [
        "0",
        "-100000000000000000000000",
        "1.5",
        "ten",
        "",
        "%205",
        "%2B5",
    ] {
        let reply = get(&format!("/api/products?limit={limit}"))
            .send(&app.router)
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{limit}");
        assert_eq!(reply.json()["error"]["field"], "limit");
    }
}

#[tokio::test]
async fn ordering_more_than_the_cap_of_a_product_the_shop_does_not_have_names_the_product() {
    // given a shop with the default cap of 10 units per product
    let app = app();
    let mut body = checkout(&product(&app.shop, "Kikoi", "100", None).await, 11);
    body["items"][0]["productId"] = json!("00000000-0000-0000-0000-00000000ffff");
    // when a checkout asks for 11 units of a product that does not exist
    let reply = post("/api/orders", body).send(&app.router).await;
    // then it is told the product does not exist, not that 11 is too many
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["error"]["field"], "items[0].productId");
    assert_eq!(reply.json()["error"]["message"], "no such product");
}

#[tokio::test]
async fn one_product_is_shown_by_id() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let reply = get(&format!("/api/products/{}", kikoi.id))
        .send(&app.router)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json()["price"],
        json!({"amount": "1500.00", "currency": "KES"})
    );
    snapshot("product", &reply.json());
}

#[tokio::test]
async fn placing_an_order_answers_201_and_a_replay_200_with_the_same_order() {
    // given
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    // when the same checkout is sent twice with one key
    let first = post("/api/orders", checkout(&kikoi, 2))
        .header("idempotency-key", "k-1")
        .send(&app.router)
        .await;
    let again = post("/api/orders", checkout(&kikoi, 2))
        .header("idempotency-key", "k-1")
        .send(&app.router)
        .await;
    // then one order was placed and stock reserved once
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.json()["number"], again.json()["number"]);
    assert_eq!(first.json()["total"]["amount"], "3000.00");
    let stock = get(&format!("/api/products/{}", kikoi.id))
        .send(&app.router)
        .await;
    assert_eq!(stock.json()["stock"], 1);
    snapshot("order_placed", &first.json());
}

#[tokio::test]
async fn the_catalogue_shows_stock_taken_by_an_order_within_its_ttl() {
    // given a catalogue cached for 200 ms
    let ttl = std::time::Duration::from_millis(200);
    let app = app_with(|config| {
        config
            .rate_limits(pochi_http::RateLimits::disabled())
            .catalogue_cache_ttl(ttl)
    });
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let before = get("/api/products").send(&app.router).await;
    assert_eq!(before.json()["items"][0]["stock"], 3);
    // when an order is placed through the router
    let placed = post("/api/orders", checkout(&kikoi, 2))
        .send(&app.router)
        .await;
    assert_eq!(placed.status, StatusCode::CREATED);
    // then a page read after the TTL shows the new stock
    tokio::time::sleep(ttl + std::time::Duration::from_millis(50)).await;
    let after = get("/api/products").send(&app.router).await;
    assert_eq!(after.json()["items"][0]["stock"], 1);
}

#[tokio::test]
async fn another_server_on_the_same_store_shows_a_change_within_the_catalogue_ttl() {
    // given two routers over one store (two server processes on one database), each with a
    // catalogue cache of 200 ms, and a page cached by the second
    let ttl = std::time::Duration::from_millis(200);
    let app = app_with(|config| {
        config
            .rate_limits(pochi_http::RateLimits::disabled())
            .catalogue_cache_ttl(ttl)
    });
    let other = pochi_http::router(
        app.shop.clone(),
        pochi_http::RouterConfig::builder(std::sync::Arc::new(admins()))
            .rate_limits(pochi_http::RateLimits::disabled())
            .catalogue_cache_ttl(ttl)
            .build()
            .unwrap(),
    );
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let before = get("/api/products").send(&other).await;
    assert_eq!(before.json()["items"][0]["stock"], 3);
    // when the first renames the product and takes an order for it
    let renamed = post(
        "/api/admin/products",
        json!({"id": kikoi.id.to_string(), "name": "Kikoi (red)", "price": "1500"}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(renamed.status, StatusCode::OK);
    let placed = post("/api/orders", checkout(&kikoi, 2))
        .send(&app.router)
        .await;
    assert_eq!(placed.status, StatusCode::CREATED);
    // then the second shows both once its page is older than the TTL
    tokio::time::sleep(ttl + std::time::Duration::from_millis(50)).await;
    let after = get("/api/products").send(&other).await;
    assert_eq!(after.json()["items"][0]["name"], "Kikoi (red)");
    assert_eq!(after.json()["items"][0]["stock"], 1);
}

#[tokio::test]
async fn the_catalogue_shows_product_changes_made_through_the_router_at_once() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    get("/api/products").send(&app.router).await;
    let saved = post(
        "/api/admin/products",
        json!({"id": kikoi.id.to_string(), "name": "Kikoi (red)", "price": "1600"}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(saved.status, StatusCode::OK);
    let adjusted = post(
        &format!("/api/admin/products/{}/stock-adjustments", kikoi.id),
        json!({"delta": 6, "reason": "delivery"}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(adjusted.status, StatusCode::CREATED);
    let after = get("/api/products").send(&app.router).await;
    assert_eq!(after.json()["items"][0]["name"], "Kikoi (red)");
    assert_eq!(after.json()["items"][0]["stock"], 9);
    let removed = call(Method::DELETE, &format!("/api/admin/products/{}", kikoi.id))
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(removed.json(), json!({"result": "deleted"}));
    let empty = get("/api/products").send(&app.router).await;
    assert_eq!(empty.json()["items"], json!([]));
}

#[tokio::test]
async fn a_manual_payment_is_started_then_replayed_and_polled() {
    // given an order
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let number = order(&app.shop, &kikoi, 1).await;
    let body = json!({"orderNumber": number, "method": "manual", "code": "QJK1ABC2DE"});
    // when
    let started = post("/api/payments", body.clone())
        .header("idempotency-key", "pay-1")
        .send(&app.router)
        .await;
    let replayed = post("/api/payments", body)
        .header("idempotency-key", "pay-1")
        .send(&app.router)
        .await;
    let id = started.json()["id"].as_str().unwrap().to_owned();
    let polled = get(&format!("/api/payments/{id}")).send(&app.router).await;
    // then
    assert_eq!(started.status, StatusCode::CREATED);
    assert_eq!(started.json()["status"], "pending_verification");
    assert_eq!(replayed.status, StatusCode::OK);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.json()["id"], id.as_str());
    assert_eq!(polled.status, StatusCode::OK);
    assert_eq!(polled.json()["amount"]["amount"], "1500.00");
    assert!(
        polled.json().get("phone").is_none(),
        "the public view hides the phone"
    );
    snapshot("payment_started", &started.json());
}

#[tokio::test]
async fn tracking_masks_personal_data() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let number = order(&app.shop, &kikoi, 1).await;
    let reply = get(&format!("/api/track/{}", number.to_lowercase()))
        .send(&app.router)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["customerName"], "Wanjiru K.");
    assert_eq!(reply.json()["customerPhone"], "2547*****678");
    assert!(!String::from_utf8_lossy(&reply.body).contains("Mpaka Road"));
    snapshot("tracked_order", &reply.json());
}

#[tokio::test]
async fn public_settings_list_counties_and_payment_methods() {
    let app = app();
    let reply = get("/api/settings").send(&app.router).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["counties"].as_array().unwrap().len(), 47);
    assert_eq!(reply.json()["paymentMethods"], json!(["manual", "push"]));
    snapshot("public_settings", &reply.json());
}

#[tokio::test]
async fn admins_list_filter_and_read_orders() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", None).await;
    let first = order(&app.shop, &kikoi, 1).await;
    app.clock.advance(std::time::Duration::from_secs(300));
    let second = order(&app.shop, &kikoi, 2).await;
    let page = get("/api/admin/orders?status=pending_payment&phone=0712345678&from=2026-03-02&to=2026-03-02&limit=1")
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.json()["items"][0]["number"], second.as_str());
    let cursor = page.json()["nextCursor"].as_str().unwrap().to_owned();
    let next = get(&format!("/api/admin/orders?limit=1&cursor={cursor}"))
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(next.json()["items"][0]["number"], first.as_str());
    let none = get("/api/admin/orders?status=delivered")
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(none.json()["items"], json!([]));
    let one = get(&format!("/api/admin/orders/{first}"))
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["customer"]["phone"], "254712345678");
    snapshot("admin_orders_page", &page.json());
    snapshot("admin_order", &one.json());
}

#[tokio::test]
async fn admins_move_orders_along_their_lifecycle() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(2)).await;
    let number = order(&app.shop, &kikoi, 2).await;
    let reply = put(
        &format!("/api/orders/{number}/status"),
        json!({"status": "cancelled", "note": "Customer called"}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["status"], "cancelled");
    assert_eq!(
        reply.json()["timeline"][1]["actor"],
        json!({"kind": "admin", "name": "admin"})
    );
    let stock = get("/api/products").send(&app.router).await;
    assert_eq!(
        stock.json()["items"][0]["stock"],
        2,
        "cancelling released the stock"
    );
    snapshot("order_moved", &reply.json());
    // The admin's note is private: tracking shows the status's plain description.
    let tracked = get(&format!("/api/track/{number}")).send(&app.router).await;
    assert_eq!(tracked.json()["timeline"][1]["note"], "Order cancelled");
    let text = String::from_utf8_lossy(&tracked.body).into_owned();
    assert!(!text.contains("Customer called"), "{text}");
}

#[tokio::test]
async fn a_note_marked_for_the_customer_shows_on_tracking() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(2)).await;
    let number = order(&app.shop, &kikoi, 1).await;
    let reply = put(
        &format!("/api/orders/{number}/status"),
        json!({"status": "cancelled", "note": "Out of stock, sorry", "noteForCustomer": true}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
    assert_eq!(reply.json()["timeline"][1]["forCustomer"], true);
    let tracked = get(&format!("/api/track/{number}")).send(&app.router).await;
    assert_eq!(tracked.json()["timeline"][1]["note"], "Out of stock, sorry");
    // `null` is "not marked", as the schema allows.
    let other = order(&app.shop, &kikoi, 1).await;
    let reply = put(
        &format!("/api/orders/{other}/status"),
        json!({"status": "cancelled", "note": "x", "noteForCustomer": null}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
    assert_eq!(reply.json()["timeline"][1]["forCustomer"], false);
}

#[tokio::test]
async fn a_push_callback_pays_the_order_and_gets_the_providers_reply() {
    // given a push payment waiting for its result
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let number = order(&app.shop, &kikoi, 1).await;
    let started = post(
        "/api/payments",
        json!({"orderId": number, "method": "push"}),
    )
    .send(&app.router)
    .await;
    assert_eq!(started.status, StatusCode::CREATED);
    let id = started.json()["id"].as_str().unwrap().to_owned();
    // when the provider calls back
    let body = json!({"reference": format!("ws_CO_{id}"), "resultCode": "0", "receipt": "NLJ7RT61SV", "amount": "1500"});
    let reply = post(&format!("/api/pay/callbacks/stk/{TOKEN}"), body)
        .send(&app.router)
        .await;
    // then it gets exactly the provider's reply, and the order is paid
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.body, br#"{"ResultCode":0,"ResultDesc":"Accepted"}"#);
    let tracked = get(&format!("/api/track/{number}")).send(&app.router).await;
    assert_eq!(tracked.json()["status"], "paid");
    let polled = get(&format!("/api/payments/{id}")).send(&app.router).await;
    assert_eq!(polled.json()["receipt"], "NLJ7RT61SV");
    let payments = get(&format!("/api/admin/payments/{number}"))
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(payments.status, StatusCode::OK);
    assert_eq!(payments.json()[0]["status"], "succeeded");
    snapshot("admin_payments", &payments.json());
    let metrics = get("/metrics").admin().send(&app.router).await;
    let text = String::from_utf8_lossy(&metrics.body).into_owned();
    assert!(
        text.contains("pochi_payments_total{outcome=\"succeeded\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("pochi_orders_placed_total 1\n"), "{text}");
}

/// Places an order for one Kikoi, pays it with manual code `QJK1ABC2DE` and has the admin
/// verify it with `verdict`; returns the order number and the verification's reply.
async fn order_paid_by_a_verified_code(app: &TestApp, verdict: Value) -> (String, Reply) {
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let number = order(&app.shop, &kikoi, 1).await;
    let started = post(
        "/api/payments",
        json!({"orderNumber": number, "method": "manual", "code": "QJK1ABC2DE"}),
    )
    .send(&app.router)
    .await;
    let id = started.json()["id"].as_str().unwrap().to_owned();
    let verified = post(&format!("/api/admin/payments/{id}/verify"), verdict)
        .admin()
        .send(&app.router)
        .await;
    (number, verified)
}

#[tokio::test]
async fn admins_verify_manual_codes() {
    let app = app();
    let (number, verified) = order_paid_by_a_verified_code(
        &app,
        json!({"approve": true, "note": "Seen on the till statement"}),
    )
    .await;
    assert_eq!(verified.status, StatusCode::OK);
    assert_eq!(verified.json()["status"], "succeeded");
    let tracked = get(&format!("/api/track/{number}")).send(&app.router).await;
    assert_eq!(tracked.json()["status"], "paid");
    snapshot("payment_verified", &verified.json());
}

#[tokio::test]
async fn asking_about_a_payment_its_method_cannot_look_up_is_a_conflict_not_an_error() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let number = order(&app.shop, &kikoi, 1).await;
    let started = post(
        "/api/payments",
        json!({"orderNumber": number, "method": "manual", "code": "QJK1ABC2DE"}),
    )
    .send(&app.router)
    .await;
    let id = started.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/admin/payments/{id}/check");

    let anonymous = post(&path, json!({})).send(&app.router).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // Manual codes without Daraja are checked by the admin, not by M-Pesa.
    let asked = post(&path, json!({})).admin().send(&app.router).await;
    assert_eq!(asked.status, StatusCode::CONFLICT);
    assert_eq!(
        asked.json()["error"]["details"]["reason"],
        "payment_not_checkable"
    );
    let unknown = post(
        "/api/admin/payments/0192c1d2-0000-7000-8000-000000000001/check",
        json!({}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = post("/api/admin/payments/not-an-id/check", json!({}))
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn cancelling_a_paid_order_owes_a_refund_an_admin_pays_back_once() {
    // Given an order paid by a verified manual code
    let app = app();
    let (number, verified) = order_paid_by_a_verified_code(&app, json!({"approve": true})).await;
    assert_eq!(verified.status, StatusCode::OK);

    // When the admin cancels it
    let cancelled = put(
        &format!("/api/orders/{number}/status"),
        json!({"status": "cancelled"}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(cancelled.status, StatusCode::OK);

    // Then its payment is owed back, in the list and on the tracking page
    let owed = get("/api/admin/refunds?status=owed")
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(owed.status, StatusCode::OK);
    let refund = owed.json()["items"][0].clone();
    assert_eq!(refund["orderNumber"], json!(number));
    assert_eq!(refund["reason"], "order_cancelled");
    assert_eq!(refund["amount"]["amount"], "1500.00");
    let refund_id = refund["id"].as_str().unwrap().to_owned();
    let tracked = get(&format!("/api/track/{number}")).send(&app.router).await;
    assert_eq!(tracked.json()["refunds"][0]["status"], "owed");
    let stats = get("/api/admin/stats").admin().send(&app.router).await;
    assert_eq!(stats.json()["refunds"]["owed"]["amount"], "1500.00");

    // And the customer's own payment code is not the money sent back
    let own = post(
        &format!("/api/admin/refunds/{refund_id}/refunded"),
        json!({"reference": "QJK1ABC2DE"}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(own.field().as_deref(), Some("reference"));

    // When the admin records the money sent back
    let paid_back = post(
        &format!("/api/admin/refunds/{refund_id}/refunded"),
        json!({"reference": " slk4h7q2xz ", "note": "Sent from the shop's phone"}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(paid_back.status, StatusCode::OK);
    assert_eq!(paid_back.json()["status"], "refunded");
    assert_eq!(paid_back.json()["reference"], "SLK4H7Q2XZ");
    assert_eq!(
        paid_back.json()["actor"],
        json!({"kind": "admin", "name": "admin"})
    );

    // Then it is paid once: again is a conflict, and tracking shows the code, not the note
    let again = post(
        &format!("/api/admin/refunds/{refund_id}/refunded"),
        json!({"reference": "SLK4H7Q2XY"}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again.json()["error"]["details"]["reason"],
        "refund_not_owed"
    );
    let tracked = get(&format!("/api/track/{number}"))
        .send(&app.router)
        .await
        .json();
    assert_eq!(tracked["refunds"][0]["status"], "refunded");
    assert_eq!(tracked["refunds"][0]["reference"], "SLK4H7Q2XZ");
    assert!(!tracked.to_string().contains("Sent from the shop"));

    // And bad input is refused precisely
    for (uri, body, field) in [
        (
            format!("/api/admin/refunds/{refund_id}/refunded"),
            json!({"reference": "no!"}),
            "reference",
        ),
        (
            "/api/admin/refunds/not-a-uuid/refunded".to_owned(),
            json!({"reference": "SLK4H7Q2XZ"}),
            "id",
        ),
    ] {
        let refused = post(&uri, body).admin().send(&app.router).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        assert_eq!(refused.field().as_deref(), Some(field), "{uri}");
    }
    let unknown = post(
        "/api/admin/refunds/00000000-0000-0000-0000-000000000001/refunded",
        json!({"reference": "SLK4H7Q2XZ"}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let bad_status = get("/api/admin/refunds?status=lost")
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(bad_status.field().as_deref(), Some("status"));
    let anonymous = get("/api/admin/refunds").send(&app.router).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_forged_callback_is_kept_for_review() {
    let app = app();
    let forged = post(
        "/api/pay/callbacks/stk/not-the-token-at-all",
        json!({"reference": "x"}),
    )
    .send(&app.router)
    .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(forged.code(), "unauthorized");
    assert_eq!(forged.header("www-authenticate"), None);
    let reviews = get("/api/admin/reviews").admin().send(&app.router).await;
    assert_eq!(reviews.status, StatusCode::OK);
    assert_eq!(
        reviews.json()["items"][0]["reason"],
        json!({"kind": "invalid_callback_token"})
    );
    snapshot("reviews_page", &reviews.json());
}

#[tokio::test]
async fn an_address_sending_forged_callbacks_is_turned_away_and_every_one_is_counted() {
    // Given the default budget of refused callbacks (bursts of 10), and no other limits
    let app = app_with(|config| {
        config.rate_limits(
            pochi_http::RateLimits::disabled()
                .with_refused_callbacks(Some(pochi_http::RateLimit::new(30, 10))),
        )
    });
    let attacker = std::net::SocketAddr::from(([198, 51, 100, 7], 5000));
    let provider = std::net::SocketAddr::from(([196, 201, 214, 200], 443));

    // When one address sends 40 forged callbacks
    let mut answers = Vec::new();
    for n in 0..40 {
        let reply = post(
            &format!("/api/pay/callbacks/stk/forged-token-{n:04}"),
            json!({"reference": "x"}),
        )
        .send_from(&app.router, attacker)
        .await;
        answers.push(reply.status.as_u16());
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(reply.code(), "rate_limited");
            assert!(reply.header("retry-after").is_some());
        }
    }

    // Then the first 10 are refused and the rest turned away before the shop reads them
    assert_eq!(answers[..10], [401; 10]);
    assert_eq!(answers[10..], [429; 30]);
    // and the review list holds only what reached the shop
    let reviews = get("/api/admin/reviews?limit=100")
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(reviews.json()["items"].as_array().unwrap().len(), 10);
    // and the metric counts every refusal the shop saw
    let metrics = get("/metrics").admin().send(&app.router).await;
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(text.contains("pochi_callbacks_refused_total 10"), "{text}");

    // And another address is not limited by it
    let other = post(
        &format!("/api/pay/callbacks/stk/{TOKEN}x"),
        json!({"reference": "x"}),
    )
    .send_from(&app.router, provider)
    .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn admins_read_stats_and_customers() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", None).await;
    order(&app.shop, &kikoi, 2).await;
    let stats = get("/api/admin/stats").admin().send(&app.router).await;
    assert_eq!(stats.status, StatusCode::OK);
    assert_eq!(stats.json()["totalOrders"], 1);
    let customers = get("/api/admin/customers?limit=10")
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(customers.status, StatusCode::OK);
    assert_eq!(customers.json()["items"][0]["phone"], "254712345678");
    assert_eq!(customers.json()["items"][0]["orders"], 1);
    snapshot("stats", &stats.json());
    snapshot("customers_page", &customers.json());
}

#[tokio::test]
async fn admins_read_and_replace_settings() {
    let app = app();
    let saved = post(
        "/api/admin/settings",
        json!({
            "storeName": "Duka la Mama",
            "defaultDeliveryFee": "300",
            "countyFees": [{"county": "nairobi", "fee": "150", "areas": [{"area": "Westlands", "fee": "100"}]}],
            "freeDeliveryOver": "5000",
            "paymentInstructions": "Till 123456"
        }),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(saved.status, StatusCode::OK);
    let read = get("/api/admin/settings").admin().send(&app.router).await;
    assert_eq!(read.json(), saved.json());
    let public = get("/api/settings").send(&app.router).await;
    assert_eq!(public.json()["storeName"], "Duka la Mama");
    snapshot("admin_settings", &read.json());
}

#[tokio::test]
async fn the_mpesa_account_is_kept_until_replaced_or_removed_and_shown_to_customers() {
    let app = app();
    let base = json!({"storeName": "Duka la Mama", "defaultDeliveryFee": "300"});
    let with = |account: Value| {
        let mut body = base.clone();
        body["mpesaAccount"] = account;
        body
    };
    let save = |body: Value| {
        let router = app.router.clone();
        async move {
            post("/api/admin/settings", body)
                .admin()
                .send(&router)
                .await
        }
    };
    let till = json!({"kind": "till", "number": " 123 456 ", "name": "Duka  la Mama\u{a0}Wanjiku"});
    let saved = save(with(till)).await;
    assert_eq!(saved.status, StatusCode::OK);
    let expected = json!({"kind": "till", "number": "123456", "name": "Duka la Mama Wanjiku"});
    assert_eq!(saved.json()["mpesaAccount"], expected);
    // Customers see it on the payment page.
    let public = get("/api/settings").send(&app.router).await;
    assert_eq!(public.json()["mpesaAccount"], expected);
    // Settings saved without the field keep it.
    let kept = save(base.clone()).await;
    assert_eq!(kept.json()["mpesaAccount"], expected);
    // A till number of a phone's length is refused, naming the field; nothing changes.
    let bad = save(with(
        json!({"kind": "till", "number": "0722000111", "name": "X"}),
    ))
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["field"], "mpesaAccount.number");
    let unknown = save(with(
        json!({"kind": "bank", "number": "123456", "name": "X"}),
    ))
    .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        get("/api/settings").send(&app.router).await.json()["mpesaAccount"],
        expected
    );
    // `null` removes it.
    let removed = save(with(Value::Null)).await;
    assert_eq!(removed.json()["mpesaAccount"], Value::Null);
    assert_eq!(
        get("/api/settings").send(&app.router).await.json()["mpesaAccount"],
        Value::Null
    );
}

#[tokio::test]
async fn admins_create_list_and_archive_products() {
    let app = app();
    let created = post(
        "/api/admin/products",
        json!({"name": "Kikoi", "description": "Cotton", "price": "1500", "stock": 4}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let kikoi = app.shop.product(&id).await.unwrap();
    order(&app.shop, &kikoi, 1).await;
    let removed = call(Method::DELETE, &format!("/api/admin/products/{id}"))
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(removed.status, StatusCode::OK);
    assert_eq!(removed.json(), json!({"result": "archived"}));
    let all = get("/api/admin/products").admin().send(&app.router).await;
    assert_eq!(all.json()["items"][0]["active"], false);
    let public = get(&format!("/api/products/{id}")).send(&app.router).await;
    assert_eq!(public.status, StatusCode::NOT_FOUND);
    snapshot("product_created", &created.json());
    snapshot("admin_products_page", &all.json());
}

/// A 1×1 PNG.
pub const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

pub fn multipart(field: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "pochi-boundary-7d3f";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn an_uploaded_image_is_stored_and_served_with_long_cache_headers() {
    // given a product
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    // when a PNG is uploaded
    let (content_type, body) = multipart("image", PNG);
    let uploaded = call(
        Method::POST,
        &format!("/api/admin/products/{}/image", kikoi.id),
    )
    .raw(&content_type, body)
    .admin()
    .send(&app.router)
    .await;
    // then the product names it and it is served as stored
    assert_eq!(uploaded.status, StatusCode::OK, "{:?}", uploaded.json());
    let key = uploaded.json()["image"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&format!("products/{}/", kikoi.id)) && key.ends_with(".png"));
    assert!(app.media_dir.path().join(&key).exists());
    let served = get(&format!("/api/media/{key}")).send(&app.router).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header("content-type"), Some("image/png"));
    assert_eq!(
        served.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(served.body, PNG);
    let listed = get("/api/products").send(&app.router).await;
    assert_eq!(listed.json()["items"][0]["image"], key.as_str());
}

#[tokio::test]
async fn health_reports_the_database_and_version() {
    let app = app();
    let reply = get("/api/health").send(&app.router).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["status"], "healthy");
    assert_eq!(reply.json()["database"], "connected");
    assert_eq!(reply.json()["version"], env!("CARGO_PKG_VERSION"));
    snapshot("health", &reply.json());
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    get(&format!("/api/products/{}", kikoi.id))
        .send(&app.router)
        .await;
    get("/api/products/00000000-0000-0000-0000-00000000ffff")
        .send(&app.router)
        .await;
    post(&format!("/api/pay/callbacks/stk/{TOKEN}"), json!({}))
        .send(&app.router)
        .await;
    let reply = get("/metrics").admin().send(&app.router).await;
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert!(
        text.contains(
            "http_requests_total{method=\"GET\",route=\"/api/products/{id}\",status=\"200\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "http_requests_total{method=\"GET\",route=\"/api/products/{id}\",status=\"404\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("route=\"/api/pay/callbacks/{channel}/{token}\""),
        "{text}"
    );
    assert!(
        !text.contains(TOKEN),
        "the callback token never reaches metrics"
    );
    assert!(text.contains("# TYPE http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn an_upload_with_a_field_besides_the_image_is_refused() {
    // given a product and a form with the image and one more field
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let (content_type, mut body) = multipart("image", PNG);
    let closing = b"--\r\n".len();
    body.truncate(body.len() - closing);
    body.extend_from_slice(
        b"\r\nContent-Disposition: form-data; name=\"colour\"\r\n\r\nred\r\n--pochi-boundary-7d3f--\r\n",
    );
    // when it is uploaded
    let reply = call(
        Method::POST,
        &format!("/api/admin/products/{}/image", kikoi.id),
    )
    .raw(&content_type, body)
    .admin()
    .send(&app.router)
    .await;
    // then it is refused, and the product keeps no image
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.json());
    assert_eq!(reply.json()["error"]["field"], "image");
    assert_eq!(
        get(&format!("/api/products/{}", kikoi.id))
            .send(&app.router)
            .await
            .json()["image"],
        json!(null)
    );
}

#[tokio::test]
async fn a_list_refuses_a_query_parameter_it_does_not_know() {
    let app = app();
    for path in [
        "/api/products?colour=red",
        "/api/admin/orders?sort=name",
        "/api/admin/refunds?sort=amount",
    ] {
        let reply = get(path).admin().send(&app.router).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(reply.json()["error"]["code"], "bad_request");
    }
}
