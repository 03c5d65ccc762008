//! Bad paths, queries, methods, callbacks and uploads, and the shapes of the errors.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::expect;
use crate::{
    routes::{PNG, multipart},
    support::*,
};

#[tokio::test]
async fn bad_lookups_and_queries_are_refused() {
    let app = app();
    let cases = [
        (
            "/api/products/abc",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("productId"),
        ),
        (
            "/api/products/00000000-0000-0000-0000-00000000ffff",
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        ),
        (
            "/api/products?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("limit"),
        ),
        (
            "/api/products?limit=ten",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("limit"),
        ),
        (
            "/api/products?cursor=forged",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("cursor"),
        ),
        (
            "/api/track/POCHI-ZZZZZZZZZZ",
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        ),
        (
            "/api/track/x",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("orderId"),
        ),
        (
            "/api/payments/x",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("paymentId"),
        ),
        (
            "/api/payments/00000000-0000-0000-0000-00000000ffff",
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        ),
        (
            "/api/media/products/none.png",
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        ),
        (
            "/api/media/../secret.png",
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        ),
        (
            "/api/nothing-here",
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        ),
    ];
    for (path, status, code, field) in cases {
        expect(&app, path, get(path), status, code, field).await;
    }
    let admin_cases = [
        ("/api/admin/orders?status=lost", Some("status")),
        ("/api/admin/orders?phone=123", Some("phone")),
        ("/api/admin/orders?from=yesterday", Some("from")),
        ("/api/admin/orders?limit=-1", Some("limit")),
        ("/api/admin/customers?cursor=zz", Some("cursor")),
        ("/api/admin/reviews?limit=x", Some("limit")),
        ("/api/admin/products?limit=0", Some("limit")),
        ("/api/admin/payments/nope", Some("orderId")),
    ];
    for (path, field) in admin_cases {
        expect(
            &app,
            path,
            get(path).admin(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            field,
        )
        .await;
    }
    let reply = get("/api/nothing-here").send(&app.router).await;
    snapshot("error_no_route", &reply.json());
    let reply = get("/api/products/abc").send(&app.router).await;
    snapshot("error_invalid_input", &reply.json());
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405() {
    let app = app();
    let reply = call(Method::PATCH, "/api/products").send(&app.router).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.code(), "method_not_allowed");
    assert!(reply.header("allow").unwrap().contains("GET"));
    snapshot("error_method_not_allowed", &reply.json());
}

#[tokio::test]
async fn callbacks_with_a_wrong_token_or_channel_are_refused() {
    let app = app();
    let forged = post(
        "/api/pay/callbacks/stk/wrong-token-000000000",
        json!({"reference": "x"}),
    );
    expect(
        &app,
        "forged",
        forged,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        None,
    )
    .await;
    let channel = post(&format!("/api/pay/callbacks/fax/{TOKEN}"), json!({}));
    expect(
        &app,
        "unknown channel",
        channel,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    let unreadable = call(Method::POST, &format!("/api/pay/callbacks/stk/{TOKEN}"))
        .raw("application/json", "<xml/>");
    expect(
        &app,
        "unreadable",
        unreadable,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("body"),
    )
    .await;
    let huge = call(Method::POST, &format!("/api/pay/callbacks/stk/{TOKEN}"))
        .raw("application/json", "x".repeat(70 * 1024));
    expect(
        &app,
        "huge",
        huge,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    )
    .await;
    let reply = post("/api/pay/callbacks/stk/wrong-token-000000000", json!({}))
        .send(&app.router)
        .await;
    assert!(!String::from_utf8_lossy(&reply.body).contains("wrong-token"));
    snapshot("error_unauthorized_callback", &reply.json());
}

#[tokio::test]
async fn bad_image_uploads_are_refused_with_a_clear_reason() {
    let app = app_with(|c| {
        c.rate_limits(pochi_http::RateLimits::disabled())
            .body_limits(pochi_http::BodyLimits::new(64 * 1024, 1024))
    });
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let path = format!("/api/admin/products/{}/image", kikoi.id);
    let (ct, body) = multipart("image", b"<svg xmlns='http://www.w3.org/2000/svg'/>");
    let svg = call(Method::POST, &path).raw(&ct, body).admin();
    expect(
        &app,
        "svg",
        svg,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        Some("image"),
    )
    .await;
    let (ct, body) = multipart("image", &[PNG, &[0u8; 2048][..]].concat());
    let big = call(Method::POST, &path).raw(&ct, body).admin();
    expect(
        &app,
        "too large",
        big,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        Some("image"),
    )
    .await;
    let (ct, body) = multipart("photo", PNG);
    let wrong_field = call(Method::POST, &path).raw(&ct, body).admin();
    expect(
        &app,
        "wrong field",
        wrong_field,
        StatusCode::BAD_REQUEST,
        "bad_request",
        Some("image"),
    )
    .await;
    let json_body = call(Method::POST, &path)
        .raw("application/json", "{}")
        .admin();
    expect(
        &app,
        "not multipart",
        json_body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    )
    .await;
    let (ct, body) = multipart("image", PNG);
    let unknown = call(
        Method::POST,
        "/api/admin/products/00000000-0000-0000-0000-00000000ffff/image",
    )
    .raw(&ct, body)
    .admin();
    expect(
        &app,
        "unknown product",
        unknown,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    let (ct, body) = multipart("image", PNG);
    let bad_id = call(Method::POST, "/api/admin/products/abc/image")
        .raw(&ct, body)
        .admin();
    expect(
        &app,
        "bad id",
        bad_id,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("productId"),
    )
    .await;
}

#[tokio::test]
async fn error_shapes_are_stable() {
    let app = app();
    let mut shapes = serde_json::Map::new();
    let cases = [
        (
            "bad_request_with_field",
            post("/api/orders", json!({"name": 1})),
        ),
        (
            "unsupported_media_type",
            call(Method::POST, "/api/orders").raw("text/plain", "hi"),
        ),
        (
            "payload_too_large",
            call(Method::POST, "/api/orders").raw("application/json", "x".repeat(70 * 1024)),
        ),
        ("not_found_entity", get("/api/track/POCHI-ZZZZZZZZZZ")),
    ];
    for (name, request) in cases {
        shapes.insert(name.to_owned(), request.send(&app.router).await.json());
    }
    snapshot("error_shapes", &Value::Object(shapes));
}
