//! The OpenAPI document: it lists every route the router serves, and only those.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// Every route of the brief, as `METHOD path`.
const ROUTES: &[&str] = &[
    "GET /api/products",
    "GET /api/products/{id}",
    "POST /api/orders",
    "POST /api/payments",
    "GET /api/payments/{paymentId}",
    "GET /api/track/{orderId}",
    "GET /api/settings",
    "GET /api/admin/orders",
    "GET /api/admin/orders/export.csv",
    "GET /api/admin/orders/{orderId}",
    "GET /api/admin/stats",
    "GET /api/admin/customers",
    "GET /api/admin/settings",
    "POST /api/admin/settings",
    "PUT /api/orders/{orderId}/status",
    "GET /api/admin/payments/{orderId}",
    "POST /api/admin/payments/{paymentId}/verify",
    "POST /api/admin/payments/{paymentId}/check",
    "GET /api/admin/reviews",
    "GET /api/admin/refunds",
    "POST /api/admin/reviews/{reviewId}/resolve",
    "POST /api/admin/refunds/{refundId}/send",
    "POST /api/admin/refunds/{refundId}/failed",
    "POST /api/admin/refunds/{refundId}/refunded",
    "GET /api/admin/products",
    "POST /api/admin/products",
    "GET /api/admin/products/{productId}",
    "DELETE /api/admin/products/{productId}",
    "POST /api/admin/products/{productId}/stock-adjustments",
    "GET /api/admin/products/{productId}/stock-adjustments",
    "POST /api/admin/products/{id}/image",
    "GET /api/admin/messages",
    "POST /api/admin/messages/{messageId}/retry",
    "POST /api/admin/messages/sms-length",
    "GET /api/admin/messages/templates",
    "GET /api/media/{key}",
    "POST /api/pay/callbacks/{channel}/{token}",
    "GET /api/health",
    "GET /api/openapi.json",
    "GET /metrics",
];

fn documented(doc: &Value) -> Vec<String> {
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                routes.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    routes.sort();
    routes
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_of_the_api() {
    let app = app();
    let doc = get("/api/openapi.json").send(&app.router).await.json();
    let mut expected: Vec<String> = ROUTES.iter().map(|r| (*r).to_owned()).collect();
    expected.sort();
    assert_eq!(documented(&doc), expected);
}

#[tokio::test]
async fn every_documented_route_is_served() {
    // A route the router does not serve answers the fallback's 404 or a 405; a served one
    // answers anything else (its own 404 names the missing thing, not the path).
    let app = app();
    let doc = get("/api/openapi.json").send(&app.router).await.json();
    for route in documented(&doc) {
        let (method, path) = route.split_once(' ').unwrap();
        let path = path
            .replace("{key}", "products/x/y.png")
            .replace("{channel}", "stk")
            .replace(['{', '}'], "");
        let reply = call(Method::from_bytes(method.as_bytes()).unwrap(), &path)
            .admin()
            .send(&app.router)
            .await;
        assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{route}");
        if reply.status == StatusCode::NOT_FOUND {
            assert_ne!(
                reply.json()["error"]["message"],
                "no such resource: check the path",
                "{route} is documented but not served"
            );
        }
    }
}

#[tokio::test]
async fn admin_routes_are_documented_with_basic_auth() {
    let app = app();
    let doc = get("/api/openapi.json").send(&app.router).await.json();
    assert_eq!(
        doc["components"]["securitySchemes"]["basic"]["scheme"],
        "basic"
    );
    for route in ROUTES
        .iter()
        .filter(|r| r.contains("/admin/") || r.ends_with("/status"))
    {
        let (method, path) = route.split_once(' ').unwrap();
        let operation = &doc["paths"][path][method.to_lowercase()];
        assert_eq!(operation["security"][0]["basic"], json!([]), "{route}");
    }
}

#[tokio::test]
async fn the_document_is_stable() {
    let app = app();
    let doc = get("/api/openapi.json").send(&app.router).await.json();
    // No redactions: the document has no ids or times, and its `id` properties must stay.
    insta::with_settings!({prepend_module_to_snapshot => false}, {
        insta::assert_json_snapshot!("openapi", doc);
    });
}

/// Problems of `value` against `schema` (following `$ref`s into the document): undocumented
/// or missing properties, wrong types, values outside an enum.
fn mismatches(doc: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return mismatches(doc, &doc["components"]["schemas"][name], value, at, found);
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let fits = options.iter().any(|option| {
            let mut problems = Vec::new();
            mismatches(doc, option, value, at, &mut problems);
            problems.is_empty()
        });
        if !fits {
            found.push(format!("{at}: fits none of oneOf"));
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return, // any value
    };
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let fits = types.contains(&kind) || (kind == "integer" && types.contains(&"number"));
    if !fits {
        found.push(format!("{at}: {kind} where the document says {types:?}"));
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(properties) = schema["properties"].as_object() {
                for (key, item) in map {
                    match properties.get(key) {
                        Some(property) => {
                            mismatches(doc, property, item, &format!("{at}.{key}"), found)
                        }
                        None => found.push(format!("{at}.{key}: not documented")),
                    }
                }
            }
            for required in schema["required"].as_array().into_iter().flatten() {
                let required = required.as_str().unwrap();
                if !map.contains_key(required) {
                    found.push(format!("{at}.{required}: documented as required, missing"));
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                mismatches(doc, &schema["items"], item, &format!("{at}[{i}]"), found);
            }
        }
        Value::String(text) => {
            if let Some(allowed) = schema["enum"].as_array() {
                if !allowed.iter().any(|a| a == text) {
                    found.push(format!("{at}: {text:?} is not in the documented enum"));
                }
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn responses_have_the_documented_shapes() {
    // given a shop with an order that was paid by push and a review
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let placed = post("/api/orders", checkout(&kikoi, 1))
        .send(&app.router)
        .await;
    let number = placed.json()["number"].as_str().unwrap().to_owned();
    let started = post(
        "/api/payments",
        json!({"orderNumber": number, "method": "push"}),
    )
    .send(&app.router)
    .await;
    let id = started.json()["id"].as_str().unwrap().to_owned();
    post(
        &format!("/api/pay/callbacks/stk/{TOKEN}"),
        json!({"reference": format!("ws_CO_{id}"), "resultCode": "0", "receipt": "NLJ7RT61SV", "amount": "1500"}),
    )
    .send(&app.router)
    .await;
    post("/api/pay/callbacks/stk/wrong-token-0000000", json!({}))
        .send(&app.router)
        .await;
    let doc = get("/api/openapi.json").send(&app.router).await.json();
    // when each route is called, then its body fits the schema its operation documents
    let calls = [
        ("/api/products", "get", get("/api/products"), "200"),
        (
            "/api/products/{id}",
            "get",
            get(&format!("/api/products/{}", kikoi.id)),
            "200",
        ),
        (
            "/api/payments/{paymentId}",
            "get",
            get(&format!("/api/payments/{id}")),
            "200",
        ),
        (
            "/api/track/{orderId}",
            "get",
            get(&format!("/api/track/{number}")),
            "200",
        ),
        ("/api/settings", "get", get("/api/settings"), "200"),
        (
            "/api/admin/orders",
            "get",
            get("/api/admin/orders").admin(),
            "200",
        ),
        (
            "/api/admin/orders/{orderId}",
            "get",
            get(&format!("/api/admin/orders/{number}")).admin(),
            "200",
        ),
        (
            "/api/admin/stats",
            "get",
            get("/api/admin/stats").admin(),
            "200",
        ),
        (
            "/api/admin/customers",
            "get",
            get("/api/admin/customers").admin(),
            "200",
        ),
        (
            "/api/admin/settings",
            "get",
            get("/api/admin/settings").admin(),
            "200",
        ),
        (
            "/api/admin/payments/{orderId}",
            "get",
            get(&format!("/api/admin/payments/{number}")).admin(),
            "200",
        ),
        (
            "/api/admin/reviews",
            "get",
            get("/api/admin/reviews").admin(),
            "200",
        ),
        (
            "/api/admin/products",
            "get",
            get("/api/admin/products").admin(),
            "200",
        ),
        (
            "/api/admin/products/{productId}",
            "get",
            get(&format!("/api/admin/products/{}", kikoi.id)).admin(),
            "200",
        ),
        (
            "/api/admin/products/{productId}/stock-adjustments",
            "post",
            post(
                &format!("/api/admin/products/{}/stock-adjustments", kikoi.id),
                json!({"delta": 2, "reason": "delivery"}),
            )
            .header("idempotency-key", "adjust-1")
            .admin(),
            "201",
        ),
        (
            "/api/admin/products/{productId}/stock-adjustments",
            "get",
            get(&format!(
                "/api/admin/products/{}/stock-adjustments",
                kikoi.id
            ))
            .admin(),
            "200",
        ),
        (
            "/api/admin/products",
            "post",
            post(
                "/api/admin/products",
                json!({"id": kikoi.id.to_string(), "name": "Kikoi", "price": "1500"}),
            )
            .header("if-match", "\"1\"")
            .admin(),
            "200",
        ),
        (
            "/api/admin/products",
            "post",
            post(
                "/api/admin/products",
                json!({"id": kikoi.id.to_string(), "name": "Kikoi", "price": "1500"}),
            )
            .header("if-match", "\"1\"")
            .admin(),
            "412",
        ),
        (
            "/api/admin/messages/templates",
            "get",
            get("/api/admin/messages/templates").admin(),
            "200",
        ),
        ("/api/health", "get", get("/api/health"), "200"),
        (
            "/api/orders",
            "post",
            post("/api/orders", checkout(&kikoi, 1)),
            "201",
        ),
        (
            "/api/orders",
            "post",
            post("/api/orders", checkout(&kikoi, 9)),
            "409",
        ),
        ("/api/orders", "post", post("/api/orders", json!({})), "400"),
        (
            "/api/admin/products/{productId}",
            "delete",
            call(
                Method::DELETE,
                "/api/admin/products/00000000-0000-0000-0000-00000000ffff",
            )
            .admin(),
            "404",
        ),
    ];
    let mut found = Vec::new();
    for (path, method, request, status) in calls {
        let reply = request.send(&app.router).await;
        assert_eq!(reply.status.as_str(), status, "{method} {path}");
        let schema = &doc["paths"][path][method]["responses"][status]["content"]["application/json"]
            ["schema"];
        assert!(
            schema.is_object(),
            "{method} {path} {status} has no documented body"
        );
        mismatches(
            &doc,
            schema,
            &reply.json(),
            &format!("{method} {path} {status}"),
            &mut found,
        );
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[tokio::test]
async fn the_shape_check_notices_extra_missing_and_mistyped_fields() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let doc = get("/api/openapi.json").send(&app.router).await.json();
    let schema = json!({"$ref": "#/components/schemas/Product"});
    let mut product_json = get(&format!("/api/products/{}", kikoi.id))
        .send(&app.router)
        .await
        .json();
    let mut found = Vec::new();
    mismatches(&doc, &schema, &product_json, "product", &mut found);
    assert_eq!(found, Vec::<String>::new());
    product_json["colour"] = json!("red");
    product_json["stock"] = json!("3");
    product_json.as_object_mut().unwrap().remove("name");
    mismatches(&doc, &schema, &product_json, "product", &mut found);
    found.sort();
    assert_eq!(
        found,
        [
            "product.colour: not documented",
            "product.name: documented as required, missing",
            "product.stock: string where the document says [\"integer\", \"null\"]",
        ]
    );
}

/// `(METHOD path, operation)` for every operation of the document.
fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            found.push((format!("{} {path}", method.to_uppercase()), operation));
        }
    }
    found
}

#[tokio::test]
async fn every_operation_declares_the_statuses_its_layers_answer() {
    let app = app();
    let doc = get("/api/openapi.json").send(&app.router).await.json();
    let mut missing = Vec::new();
    for (route, operation) in operations(&doc) {
        let responses = &operation["responses"];
        let mut expect = vec!["429", "503"];
        if operation["requestBody"]["content"]["application/json"].is_object() {
            expect.extend(["400", "413", "415"]);
        }
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if parameters.iter().any(|p| p["in"] == "query") {
            expect.push("400");
        }
        if operation["security"][0]["basic"].is_array() {
            expect.push("401");
            if !route.starts_with("GET ") {
                expect.push("403");
            }
        }
        for status in expect {
            if !responses[status].is_object() {
                missing.push(format!("{route} {status}"));
            } else if responses[status]["content"]["application/json"]["schema"]["$ref"]
                != "#/components/schemas/ErrorBody"
                // the health check tells what is down in its own body
                && route != "GET /api/health"
            {
                missing.push(format!("{route} {status}: not the error body"));
            }
        }
        if !responses["429"]["headers"]["Retry-After"].is_object() {
            missing.push(format!("{route} 429: no Retry-After"));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

#[tokio::test]
async fn ids_and_order_numbers_in_paths_are_declared_with_their_format() {
    let app = app();
    let doc = get("/api/openapi.json").send(&app.router).await.json();
    let mut wrong = Vec::new();
    for (route, operation) in operations(&doc) {
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let name = parameter["name"].as_str().unwrap();
            let schema = &parameter["schema"];
            let fits = match name {
                "id" | "productId" | "paymentId" => schema["format"] == "uuid",
                "orderId" => schema["pattern"] == "^[A-Z]{1,8}-[2-9A-HJ-NP-Z]{10}$",
                "limit" => schema["type"] == "integer" && schema["minimum"] == 1,
                "cursor" => schema["maxLength"] == 200,
                _ => true,
            };
            if !fits {
                wrong.push(format!("{route} {name}: {schema}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test]
async fn the_order_number_pattern_accepts_every_number_the_shop_makes() {
    // given orders placed by the shop
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(30)).await;
    // `^[A-Z]{1,8}-[2-9A-HJ-NP-Z]{10}$`, the documented pattern, spelled out
    let fits = |number: &str| {
        number.split_once('-').is_some_and(|(prefix, code)| {
            (1..=8).contains(&prefix.len())
                && prefix.bytes().all(|b| b.is_ascii_uppercase())
                && code.len() == 10
                && code
                    .bytes()
                    .all(|b| matches!(b, b'2'..=b'9' | b'A'..=b'H' | b'J'..=b'N' | b'P'..=b'Z'))
        })
    };
    for _ in 0..3 {
        let placed = post("/api/orders", checkout(&kikoi, 1))
            .send(&app.router)
            .await;
        // then their numbers fit the documented pattern
        let number = placed.json()["number"].as_str().unwrap().to_owned();
        assert!(fits(&number), "{number}");
    }
}

#[tokio::test]
async fn request_bodies_refuse_unknown_properties_as_the_server_does() {
    let app = app();
    let doc = get("/api/openapi.json").send(&app.router).await.json();
    for name in [
        "CheckoutInput",
        "CheckoutItemInput",
        "PaymentInput",
        "NewProductInput",
        "ProductUpdateInput",
        "SettingsInput",
        "CountyFeeInput",
        "AreaFeeInput",
        "StatusMove",
        "ManualVerdict",
    ] {
        assert_eq!(
            doc["components"]["schemas"][name]["additionalProperties"],
            json!(false),
            "{name}"
        );
    }
    // and the server does refuse them
    let reply = post(
        "/api/payments",
        json!({"orderNumber": "POCHI-7K3M9QXA2B", "x": 1}),
    )
    .send(&app.router)
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}
