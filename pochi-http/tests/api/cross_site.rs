//! Admin changes a browser sends from another site's page are refused, over a real socket;
//! the dashboard's own requests pass.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    routes::{PNG, multipart},
    socket::start,
    support::*,
};

fn admin(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request.basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
}

/// 403 with the typed error.
async fn assert_refused(reply: reqwest::Response) {
    assert_eq!(reply.status(), StatusCode::FORBIDDEN);
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["error"]["code"], "cross_site_request");
}

async fn product_names(base: &str) -> Vec<String> {
    let page: Value = admin(reqwest::Client::new().get(format!("{base}/api/admin/products")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_cross_site_admin_post_is_refused_and_changes_nothing() {
    // given a shop, and an admin's browser on another site's page
    let app = app();
    let (base, _stop, _server) = start(app.router.clone()).await;
    // when that page posts a new product with the admin's credentials
    let reply = admin(reqwest::Client::new().post(format!("{base}/api/admin/products")))
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .json(&json!({"name": "Forged", "price": "1"}))
        .send()
        .await
        .unwrap();
    // then it is refused with a typed error, and no product was created
    assert_refused(reply).await;
    assert!(product_names(&base).await.is_empty());
}

#[tokio::test]
async fn a_multipart_upload_from_another_origin_is_refused() {
    // given a product
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let (base, _stop, _server) = start(app.router.clone()).await;
    // when a browser without fetch metadata uploads an image from another origin
    let (content_type, body) = multipart("image", PNG);
    let reply =
        admin(reqwest::Client::new().post(format!("{base}/api/admin/products/{}/image", kikoi.id)))
            .header("origin", "https://evil.example")
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
    // then it is refused, and the product has no image
    assert_refused(reply).await;
    let product = app.shop.product(&kikoi.id.to_string()).await.unwrap();
    assert_eq!(product.image, None);
}

#[tokio::test]
async fn same_origin_changes_succeed() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let (base, _stop, _server) = start(app.router.clone()).await;
    let http = reqwest::Client::new();
    let origin = base.clone();
    // the dashboard's own fetch: same-origin metadata and its origin
    let created = admin(http.post(format!("{base}/api/admin/products")))
        .header("sec-fetch-site", "same-origin")
        .header("origin", &origin)
        .json(&json!({"name": "Kiondo", "price": "900"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    // an older browser: its origin is the host it posts to
    let (content_type, body) = multipart("image", PNG);
    let uploaded = admin(http.post(format!("{base}/api/admin/products/{}/image", kikoi.id)))
        .header("origin", &origin)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::OK);
    // (curl and SDKs send neither header: the socket tests' admin calls pass as before)
    // and reading stays open to a cross-site request (CORS decides what its page may see)
    let listed = admin(http.get(format!("{base}/api/admin/products")))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let mut names = product_names(&base).await;
    names.sort();
    assert_eq!(names, ["Kikoi", "Kiondo"]);
}
