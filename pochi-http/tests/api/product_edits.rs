//! Product edits and stock adjustments over real sockets (issue #14, defect 9): an edit never
//! writes stock, so the dashboard's form opened before a sale cannot put the sold units back;
//! stock changes by adjustments; an edit against an old version is refused with 412.

use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::{socket::start, support::*};

fn admin(request: RequestBuilder) -> RequestBuilder {
    request.basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
}

async fn body(response: reqwest::Response) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, headers, value)
}

/// What the dashboard's edit form sends for `product` as it read it, with a new price.
fn dashboard_edit(read: &Value, price: &str) -> Value {
    json!({
        "id": read["id"],
        "name": read["name"],
        "description": read["description"],
        "price": price,
        "active": read["active"],
    })
}

#[tokio::test]
async fn an_edit_saved_after_a_sale_keeps_the_units_sold() {
    // Given 10 units, and the dashboard's product list read before any sale
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(10)).await;
    let (base, _stop, _server) = start(app.router.clone()).await;
    let http = Client::new();
    let (_, _, list) = body(
        admin(http.get(format!("{base}/api/admin/products")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let read = list["items"][0].clone();
    assert_eq!(
        (read["stock"].as_u64(), read["version"].as_u64()),
        (Some(10), Some(1))
    );

    // When a customer buys 3 while the edit form is open
    let (placed, _, _) = body(
        http.post(format!("{base}/api/orders"))
            .json(&checkout(&kikoi, 3))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(placed, StatusCode::CREATED);

    // And the admin saves a new price, as the dashboard sends it (with the version it read)
    let (saved, headers, product) = body(
        admin(http.post(format!("{base}/api/admin/products")))
            .header("If-Match", "\"1\"")
            .json(&dashboard_edit(&read, "1400"))
            .send()
            .await
            .unwrap(),
    )
    .await;

    // Then the price changed, the 3 units stay sold, and the version moved on
    assert_eq!(saved, StatusCode::OK, "{product}");
    assert_eq!(product["price"]["amount"], "1400.00");
    assert_eq!(product["stock"], 7);
    assert_eq!(product["version"], 2);
    assert_eq!(headers["etag"], "\"2\"");
    let (_, _, shown) = body(
        http.get(format!("{base}/api/products/{}", kikoi.id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(shown["stock"], 7);

    // And an older client that sends the count it read is refused, nothing written
    let mut stale = dashboard_edit(&read, "1300");
    stale["stock"] = json!(10);
    let (refused, _, error) = body(
        admin(http.post(format!("{base}/api/admin/products")))
            .json(&stale)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["code"], "invalid_input");
    assert_eq!(error["error"]["field"], "stock");
    let now = app.shop.product(&kikoi.id.to_string()).await.unwrap();
    assert_eq!(
        (now.stock, now.price.amount().to_string()),
        (Some(7), "1400.00".to_owned())
    );
}

#[tokio::test]
async fn an_edit_against_an_old_version_is_refused_with_412() {
    // Given a product read by the admin with its ETag
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(10)).await;
    let (base, _stop, _server) = start(app.router.clone()).await;
    let http = Client::new();
    let url = format!("{base}/api/admin/products/{}", kikoi.id);
    let (status, headers, read) = body(admin(http.get(&url)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"], "\"1\"");
    assert_eq!(read["version"], 1);

    // When another admin saves first
    let edit = |price: &str, tag: &str| {
        admin(http.post(format!("{base}/api/admin/products")))
            .header("If-Match", tag.to_owned())
            .json(&dashboard_edit(&read, price))
    };
    let (first, _, _) = body(edit("1400", "\"1\"").send().await.unwrap()).await;
    assert_eq!(first, StatusCode::OK);

    // Then a save against the version read before is refused: 412, the current version
    let (status, headers, error) = body(edit("1300", "\"1\"").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(error["error"]["code"], "product_changed");
    assert_eq!(error["error"]["details"]["version"], 2);
    assert_eq!(headers["etag"], "\"2\"");
    snapshot("error_product_changed", &error);
    let now = app.shop.product(&kikoi.id.to_string()).await.unwrap();
    assert_eq!(now.price.amount().to_string(), "1400.00");

    // And an If-Match that is not one strong ETag is a 400 naming the header
    for bad in ["W/\"2\"", "2", "\"2\", \"3\"", "\"x\""] {
        let (status, _, error) = body(edit("1300", bad).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error["error"]["field"], "If-Match", "{bad}");
    }
    // And * or the current version is accepted
    let (status, _, _) = body(edit("1300", "*").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, _) = body(edit("1250", "\"3\"").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"], "\"4\"");

    // And an unknown product is 404 on read
    let (status, _, error) = body(
        admin(http.get(format!(
            "{base}/api/admin/products/00000000-0000-0000-0000-000000000009"
        )))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn stock_is_adjusted_up_and_down_with_a_reason_and_a_history() {
    // Given 10 units and a product that does not count its stock
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(10)).await;
    let wrap = product(&app.shop, "Gift wrapping", "100", None).await;
    let (base, _stop, _server) = start(app.router.clone()).await;
    let http = Client::new();
    let adjustments = format!("{base}/api/admin/products/{}/stock-adjustments", kikoi.id);
    let adjust = |delta: i64, key: &str| {
        admin(http.post(&adjustments))
            .header("Idempotency-Key", key.to_owned())
            .json(&json!({"delta": delta, "reason": "delivery from the supplier"}))
    };

    // When 5 are added
    let (status, _, added) = body(adjust(5, "a-1").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(
        (added["delta"].as_i64(), added["stockAfter"].as_u64()),
        (Some(5), Some(15))
    );
    assert_eq!(added["by"], ADMIN_USER);
    snapshot("stock_adjusted", &added);

    // Then a retry with the same key replays it, adding nothing
    let (status, headers, replayed) = body(adjust(5, "a-1").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(replayed, added);

    // And taking away more than is left is refused: out of stock, nothing changed
    let (status, _, error) = body(adjust(-16, "a-2").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["error"]["code"], "out_of_stock");
    assert_eq!(error["error"]["details"]["available"], 15);
    assert_eq!(error["error"]["details"]["requested"], 16);

    // And 20 adjustments racing (+1 and -1 alternately) add up exactly
    let racing = (0..20).map(|i| {
        let request = adjust(if i % 2 == 0 { 1 } else { -1 }, &format!("r-{i}"));
        tokio::spawn(async move { request.send().await.unwrap().status() })
    });
    for done in racing.collect::<Vec<_>>() {
        assert_eq!(done.await.unwrap(), StatusCode::CREATED);
    }
    let now = app.shop.product(&kikoi.id.to_string()).await.unwrap();
    assert_eq!(now.stock, Some(15));

    // And bad input, uncounted and unknown products are typed errors
    let cases = [
        (
            adjustments.clone(),
            json!({"delta": 0, "reason": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            adjustments.clone(),
            json!({"delta": 1, "reason": " "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            adjustments.clone(),
            json!({"delta": 1}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            adjustments.clone(),
            json!({"delta": 1.5, "reason": "x"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{base}/api/admin/products/{}/stock-adjustments", wrap.id),
            json!({"delta": 1, "reason": "x"}),
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            format!(
                "{base}/api/admin/products/00000000-0000-0000-0000-000000000009/stock-adjustments"
            ),
            json!({"delta": 1, "reason": "x"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (url, input, status, code) in cases {
        let (got, _, error) = body(admin(http.post(&url)).json(&input).send().await.unwrap()).await;
        assert_eq!(
            (got, error["error"]["code"].as_str()),
            (status, Some(code)),
            "{input}"
        );
    }
    let (got, _, _) = body(
        http.post(&adjustments)
            .json(&json!({"delta": 1, "reason": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got, StatusCode::UNAUTHORIZED);

    // And the history lists the 21 adjustments newest first, a page at a time
    let (status, _, page) = body(
        admin(http.get(format!("{adjustments}?limit=15")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"].as_array().unwrap().len(), 15);
    let cursor = page["nextCursor"].as_str().unwrap();
    let (_, _, rest) = body(
        admin(http.get(format!("{adjustments}?limit=15&cursor={cursor}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let rest = rest["items"].as_array().unwrap();
    assert_eq!(rest.len(), 6);
    assert_eq!(rest.last().unwrap()["id"], added["id"]);
}
