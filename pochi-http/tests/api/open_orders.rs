//! The checkout route tells the shop which client network an order comes from, so the limit
//! of open unpaid orders per network holds for anonymous clients (IPv6 counted by /64).

use std::net::SocketAddr;

use axum::http::StatusCode;
use serde_json::json;

use crate::support::*;

/// A checkout body for one unit of `product`, for the phone `0712 000 0nn`.
fn checkout_for(product: &pochi_core::Product, n: usize) -> serde_json::Value {
    let mut body = checkout(product, 1);
    body["phone"] = json!(format!("0712 000 {n:03}"));
    body
}

#[tokio::test]
async fn many_phones_from_one_network_stop_at_its_open_order_limit() {
    // Given the shop's default limit of 20 open unpaid orders per client network
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(500)).await;
    let network =
        |host: usize| -> SocketAddr { format!("[2001:db8:41:7::{host:x}]:5000").parse().unwrap() };

    // When 21 different phones order from addresses within one IPv6 /64
    let mut answers = Vec::new();
    for n in 0..21 {
        let reply = post("/api/orders", checkout_for(&kikoi, n))
            .send_from(&app.router, network(n + 1))
            .await;
        answers.push(reply);
    }

    // Then the first 20 are placed and the 21st is refused with the limit's code and a
    // Retry-After, reserving nothing
    for reply in &answers[..20] {
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json());
    }
    let refused = &answers[20];
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.code(), "too_many_open_orders_from_address");
    assert!(refused.header("retry-after").is_some());
    let stock = app.shop.product(&kikoi.id.to_string()).await.unwrap().stock;
    assert_eq!(stock, Some(480));

    // And a customer on another network is not affected
    let elsewhere: SocketAddr = "[2001:db8:99::1]:5000".parse().unwrap();
    let reply = post("/api/orders", checkout_for(&kikoi, 99))
        .send_from(&app.router, elsewhere)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json());
}
