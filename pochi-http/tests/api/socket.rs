//! Over real sockets on 127.0.0.1: the router nested in a host app, served by
//! `pochi_http::serve`, called with reqwest; and graceful shutdown.

use std::{sync::Arc, time::Duration};

use axum::{Router, routing::get as get_route};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::oneshot};

use crate::{
    layers::SlowAdmins,
    routes::{PNG, multipart},
    support::*,
};

/// Serves `app` on a fresh port until the returned sender is dropped or fired.
pub async fn start(app: Router) -> (String, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        pochi_http::serve(listener, app, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (base, stop, server)
}

#[tokio::test]
async fn a_host_nests_the_shop_and_a_customer_buys_over_http() {
    // given a host app with its own page and the shop under /shop
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let host = Router::new()
        .route("/", get_route(|| async { "the host's home page" }))
        .nest("/shop", app.router.clone());
    let (base, stop, server) = start(host).await;
    let http = reqwest::Client::new();
    let admin = |r: reqwest::RequestBuilder| r.basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD));

    // the host keeps its routes
    let home = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(home.text().await.unwrap(), "the host's home page");

    // browse
    let products: Value = http
        .get(format!("{base}/shop/api/products"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(products["items"][0]["name"], "Kikoi");
    let one = http
        .get(format!("{base}/shop/api/products/{}", kikoi.id))
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), StatusCode::OK);
    let settings = http
        .get(format!("{base}/shop/api/settings"))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), StatusCode::OK);

    // order, twice with one key
    let placed = http
        .post(format!("{base}/shop/api/orders"))
        .header("idempotency-key", "socket-1")
        .json(&checkout(&kikoi, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);
    assert!(placed.headers().get("x-request-id").is_some());
    let placed_order: Value = placed.json().await.unwrap();
    let number = placed_order["number"].as_str().unwrap().to_owned();
    let replay = http
        .post(format!("{base}/shop/api/orders"))
        .header("idempotency-key", "socket-1")
        .json(&checkout(&kikoi, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");

    // pay by push, and the provider calls back
    let started = http
        .post(format!("{base}/shop/api/payments"))
        .json(&json!({"orderNumber": number, "method": "push"}))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::CREATED);
    let payment: Value = started.json().await.unwrap();
    let id = payment["id"].as_str().unwrap();
    let callback = http
        .post(format!("{base}/shop/api/pay/callbacks/stk/{TOKEN}"))
        .json(&json!({"reference": format!("ws_CO_{id}"), "resultCode": "0", "receipt": "NLJ7RT61SV", "amount": "1500"}))
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status(), StatusCode::OK);
    assert_eq!(
        callback.text().await.unwrap(),
        r#"{"ResultCode":0,"ResultDesc":"Accepted"}"#
    );
    let polled: Value = http
        .get(format!("{base}/shop/api/payments/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(polled["status"], "succeeded");
    let tracked: Value = http
        .get(format!("{base}/shop/api/track/{number}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tracked["status"], "paid");

    // the admin side
    for path in [
        "admin/orders".to_owned(),
        format!("admin/orders/{number}"),
        "admin/stats".to_owned(),
        "admin/customers".to_owned(),
        "admin/settings".to_owned(),
        format!("admin/payments/{number}"),
        "admin/reviews".to_owned(),
        "admin/products".to_owned(),
    ] {
        let reply = admin(http.get(format!("{base}/shop/api/{path}")))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK, "{path}");
    }
    let unauthorized = http
        .get(format!("{base}/shop/api/admin/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
    let moved = admin(http.put(format!("{base}/shop/api/orders/{number}/status")))
        .json(&json!({"status": "processing"}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    let saved = admin(http.post(format!("{base}/shop/api/admin/settings")))
        .json(&json!({"storeName": "Duka", "defaultDeliveryFee": "200"}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    let created = admin(http.post(format!("{base}/shop/api/admin/products")))
        .json(&json!({"name": "Kiondo", "price": "900"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let kiondo: Value = created.json().await.unwrap();
    let kiondo_id = kiondo["id"].as_str().unwrap();
    let (content_type, body) = multipart("image", PNG);
    let uploaded = admin(http.post(format!("{base}/shop/api/admin/products/{kiondo_id}/image")))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::OK);
    let image = uploaded.json::<Value>().await.unwrap()["image"]
        .as_str()
        .unwrap()
        .to_owned();
    let served = http
        .get(format!("{base}/shop/api/media/{image}"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);
    let removed = admin(http.delete(format!("{base}/shop/api/admin/products/{kiondo_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        removed.json::<Value>().await.unwrap(),
        json!({"result": "deleted"})
    );

    // a manual code, verified by the admin
    let second = order(&app.shop, &kikoi, 1).await;
    let manual: Value = http
        .post(format!("{base}/shop/api/payments"))
        .json(&json!({"orderNumber": second, "method": "manual", "code": "QJK1ABC2DE"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let verified = admin(http.post(format!(
        "{base}/shop/api/admin/payments/{}/verify",
        manual["id"].as_str().unwrap()
    )))
    .json(&json!({"approve": true}))
    .send()
    .await
    .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);

    // operations
    let health: Value = http
        .get(format!("{base}/shop/api/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "healthy");
    let doc: Value = http
        .get(format!("{base}/shop/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/products"].is_object());
    let metrics = admin(http.get(format!("{base}/shop/metrics")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("route=\"/shop/api/orders\""), "{metrics}");
    let missing = http
        .get(format!("{base}/shop/api/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );

    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn a_delivery_fee_saved_by_the_admin_applies_to_the_very_next_order() {
    // Given a shop over a socket that has just priced an order (so it holds the fees it read)
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(10)).await;
    let (base, stop, server) = start(app.router.clone()).await;
    let http = reqwest::Client::new();
    let order_fee = || async {
        let placed = http
            .post(format!("{base}/api/orders"))
            .json(&checkout(&kikoi, 1))
            .send()
            .await
            .unwrap();
        assert_eq!(placed.status(), StatusCode::CREATED);
        placed.json::<Value>().await.unwrap()["deliveryFee"]["amount"].clone()
    };
    order_fee().await;

    for fee in ["350", "420"] {
        // When the admin saves a new fee
        let saved = http
            .post(format!("{base}/api/admin/settings"))
            .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
            .json(&json!({"storeName": "Duka", "defaultDeliveryFee": fee}))
            .send()
            .await
            .unwrap();
        assert_eq!(saved.status(), StatusCode::OK);

        // Then the next order, placed at once, pays it
        assert_eq!(
            order_fee().await,
            json!(format!("{fee}.00")),
            "after saving {fee}"
        );
    }
    let _ = stop.send(());
    server.await.unwrap();
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish() {
    // given a server whose admin check takes 400 ms
    let app = app();
    let admins = SlowAdmins::new(Duration::from_millis(400));
    let handling = admins.1.clone();
    let slow = pochi_http::router(
        app.shop.clone(),
        pochi_http::RouterConfig::builder(Arc::new(admins))
            .build()
            .unwrap(),
    );
    let (base, stop, server) = start(slow).await;
    // when shutdown starts while a request is in flight
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .get(format!("{base}/api/admin/stats"))
            .basic_auth("admin", Some("x"))
            .send()
            .await
    });
    handling.notified().await;
    stop.send(()).unwrap();
    // then the request completes, and the server stops after it
    let reply = in_flight.await.unwrap().unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(reply.json::<Value>().await.unwrap()["totalOrders"].is_number());
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap();
}
