//! Bodies that are malformed, mistyped, incomplete, unknown or invalid.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Case, expect};
use crate::support::*;

#[tokio::test]
async fn bad_checkouts_are_refused_naming_the_field() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let good = checkout(&kikoi, 1);
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let item = |key: &str, value: Value| {
        let mut body = good.clone();
        body["items"][0][key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let cases: Vec<Case> = vec![
        (
            "wrong type",
            with("name", json!(42)),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("name"),
        ),
        (
            "missing field",
            without("phone"),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("phone"),
        ),
        (
            "unknown field",
            with("total", json!("1")),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("total"),
        ),
        (
            "quantity as text",
            item("quantity", json!("2")),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("items[0].quantity"),
        ),
        (
            "fractional quantity",
            item("quantity", json!(1.5)),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("items[0].quantity"),
        ),
        (
            "a price sent by the client",
            item("price", json!("1")),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("items[0].price"),
        ),
        (
            "empty name",
            with("name", json!("  ")),
            unprocessable,
            "invalid_input",
            Some("name"),
        ),
        (
            "empty area",
            with("area", json!("")),
            unprocessable,
            "invalid_input",
            Some("area"),
        ),
        (
            "invalid phone",
            with("phone", json!("12345")),
            unprocessable,
            "invalid_input",
            Some("phone"),
        ),
        (
            "foreign phone",
            with("phone", json!("+255712345678")),
            unprocessable,
            "invalid_input",
            Some("phone"),
        ),
        (
            "invalid county",
            with("county", json!("Gotham")),
            unprocessable,
            "invalid_input",
            Some("county"),
        ),
        (
            "no items",
            with("items", json!([])),
            unprocessable,
            "invalid_input",
            Some("items"),
        ),
        (
            "zero quantity",
            item("quantity", json!(0)),
            unprocessable,
            "invalid_input",
            Some("items[0].quantity"),
        ),
        (
            "negative quantity",
            item("quantity", json!(-3)),
            unprocessable,
            "invalid_input",
            Some("items[0].quantity"),
        ),
        (
            "huge quantity",
            item("quantity", json!(i64::MAX)),
            unprocessable,
            "invalid_input",
            Some("items[0].quantity"),
        ),
        (
            "not a product id",
            item("productId", json!("abc")),
            unprocessable,
            "invalid_input",
            Some("items[0].productId"),
        ),
        (
            "unknown product",
            item("productId", json!("00000000-0000-0000-0000-00000000ffff")),
            unprocessable,
            "invalid_input",
            Some("items[0].productId"),
        ),
        (
            "more than in stock",
            item("quantity", json!(4)),
            StatusCode::CONFLICT,
            "out_of_stock",
            None,
        ),
    ];
    for (name, body, status, code, field) in cases {
        expect(&app, name, post("/api/orders", body), status, code, field).await;
    }
}

#[tokio::test]
async fn out_of_stock_says_what_is_left() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let reply = post("/api/orders", checkout(&kikoi, 5))
        .send(&app.router)
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.json()["error"]["details"],
        json!({"productId": kikoi.id.to_string(), "requested": 5, "available": 3})
    );
    snapshot("error_out_of_stock", &reply.json());
}

#[tokio::test]
async fn unreadable_bodies_are_refused_on_every_json_route() {
    let app = app();
    let routes = [
        (Method::POST, "/api/orders"),
        (Method::POST, "/api/payments"),
        (Method::POST, "/api/admin/settings"),
        (Method::POST, "/api/admin/products"),
        (Method::PUT, "/api/orders/POCHI-2222222223/status"),
        (
            Method::POST,
            "/api/admin/payments/00000000-0000-0000-0000-000000000001/verify",
        ),
    ];
    for (method, path) in routes {
        let malformed = call(method.clone(), path)
            .raw("application/json", "{,")
            .admin();
        expect(
            &app,
            &format!("{path} malformed"),
            malformed,
            StatusCode::BAD_REQUEST,
            "bad_request",
            None,
        )
        .await;
        let not_json = call(method.clone(), path).raw("text/plain", "{}").admin();
        expect(
            &app,
            &format!("{path} text"),
            not_json,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        )
        .await;
        let form = call(method.clone(), path)
            .raw("application/x-www-form-urlencoded", "a=1")
            .admin();
        expect(
            &app,
            &format!("{path} form"),
            form,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        )
        .await;
        let huge = call(method.clone(), path)
            .raw(
                "application/json",
                format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024)),
            )
            .admin();
        expect(
            &app,
            &format!("{path} huge"),
            huge,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        )
        .await;
        let null = call(method.clone(), path)
            .raw("application/json", "null")
            .admin();
        expect(
            &app,
            &format!("{path} null"),
            null,
            StatusCode::BAD_REQUEST,
            "bad_request",
            None,
        )
        .await;
    }
    let reply = call(Method::POST, "/api/orders")
        .raw("application/json", r#"{"name": "Wanjiru",}"#)
        .send(&app.router)
        .await;
    snapshot("error_malformed_json", &reply.json());
}

#[tokio::test]
async fn bad_payment_requests_are_refused_naming_the_field() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let number = order(&app.shop, &kikoi, 1).await;
    let cases: Vec<Case> = vec![
        (
            "missing order",
            json!({"method": "manual"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("orderNumber"),
        ),
        (
            "unknown field",
            json!({"orderNumber": number, "amount": "1"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("amount"),
        ),
        (
            "not an order number",
            json!({"orderNumber": "12"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("orderNumber"),
        ),
        (
            "unknown method",
            json!({"orderNumber": number, "method": "cash"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("method"),
        ),
        (
            "invalid phone",
            json!({"orderNumber": number, "method": "push", "phone": "0700"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("phone"),
        ),
        (
            "no code",
            json!({"orderNumber": number, "method": "manual"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("code"),
        ),
        (
            "empty code",
            json!({"orderNumber": number, "method": "manual", "code": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("code"),
        ),
        (
            "unknown order",
            json!({"orderNumber": "POCHI-ZZZZZZZZZZ", "method": "manual", "code": "QJK1ABC2DE"}),
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        ),
    ];
    for (name, body, status, code, field) in cases {
        expect(&app, name, post("/api/payments", body), status, code, field).await;
    }
    let bad_key = post(
        "/api/payments",
        json!({"orderNumber": number, "method": "manual", "code": "QJK1ABC2DE"}),
    )
    .header("idempotency-key", &"k".repeat(101));
    expect(
        &app,
        "long key",
        bad_key,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("Idempotency-Key"),
    )
    .await;
}

#[tokio::test]
async fn a_second_push_while_one_is_waiting_is_a_conflict_with_its_reason() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let number = order(&app.shop, &kikoi, 1).await;
    let body = json!({"orderNumber": number, "method": "push"});
    post("/api/payments", body.clone()).send(&app.router).await;
    let again = post("/api/payments", body).send(&app.router).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again.json()["error"]["details"]["reason"],
        "payment_in_progress"
    );
    snapshot("error_conflict", &again.json());
}

#[tokio::test]
async fn invalid_status_moves_are_refused() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let number = order(&app.shop, &kikoi, 1).await;
    let path = format!("/api/orders/{number}/status");
    let conflict = put(&path, json!({"status": "delivered"}))
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(conflict.code(), "conflict");
    assert_eq!(
        conflict.json()["error"]["details"]["reason"],
        "invalid_transition"
    );
    let cases: Vec<Case> = vec![
        (
            "unknown status",
            json!({"status": "lost"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("status"),
        ),
        (
            "missing status",
            json!({"note": "x"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("status"),
        ),
        (
            "unknown field",
            json!({"status": "paid", "by": "me"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("by"),
        ),
        (
            "status as number",
            json!({"status": 3}),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("status"),
        ),
    ];
    for (name, body, status, code, field) in cases {
        expect(&app, name, put(&path, body).admin(), status, code, field).await;
    }
    let unknown = put(
        "/api/orders/POCHI-ZZZZZZZZZZ/status",
        json!({"status": "paid"}),
    )
    .admin();
    expect(
        &app,
        "unknown order",
        unknown,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    let garbage = put("/api/orders/nope/status", json!({"status": "paid"})).admin();
    expect(
        &app,
        "not an order number",
        garbage,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("orderId"),
    )
    .await;
}

#[tokio::test]
async fn bad_products_and_settings_are_refused_naming_the_field() {
    let app = app();
    let products: Vec<Case> = vec![
        (
            "zero price",
            json!({"name": "Kikoi", "price": "0"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("price"),
        ),
        (
            "price as number",
            json!({"name": "Kikoi", "price": 1500}),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("price"),
        ),
        (
            "negative stock",
            json!({"name": "Kikoi", "price": "10", "stock": -1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("stock"),
        ),
        (
            "empty name",
            json!({"name": "", "price": "10"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("name"),
        ),
        (
            "unknown id",
            json!({"id": "00000000-0000-0000-0000-00000000ffff", "name": "K", "price": "10"}),
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        ),
    ];
    for (name, body, status, code, field) in products {
        expect(
            &app,
            name,
            post("/api/admin/products", body).admin(),
            status,
            code,
            field,
        )
        .await;
    }
    let settings: Vec<Case> = vec![
        (
            "missing fee",
            json!({"storeName": "Duka"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("defaultDeliveryFee"),
        ),
        (
            "bad county",
            json!({"storeName": "Duka", "defaultDeliveryFee": "1", "countyFees": [{"county": "Atlantis", "fee": "1"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("countyFees[0].county"),
        ),
        (
            "bad email",
            json!({"storeName": "Duka", "defaultDeliveryFee": "1", "contactEmail": "nope"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("contactEmail"),
        ),
    ];
    for (name, body, status, code, field) in settings {
        expect(
            &app,
            name,
            post("/api/admin/settings", body).admin(),
            status,
            code,
            field,
        )
        .await;
    }
    let missing = call(
        Method::DELETE,
        "/api/admin/products/00000000-0000-0000-0000-00000000ffff",
    )
    .admin();
    expect(
        &app,
        "delete unknown",
        missing,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    let verify = post(
        "/api/admin/payments/00000000-0000-0000-0000-00000000ffff/verify",
        json!({"approve": true}),
    )
    .admin();
    expect(
        &app,
        "verify unknown",
        verify,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
}
