//! Property-based fuzzing of the HTTP parsers of outside input, through the router in process:
//! checkout and payment JSON bodies, list cursors, limits and filters in query strings, order
//! numbers and ids in paths, Basic credentials, callback bodies and multipart image uploads.
//!
//! Every answer must be a success or a 4xx with the JSON error shape, never a 5xx (nor a
//! panic). Cases are bounded (`PROPTEST_CASES` raises them); a failure is saved beside this file
//! in `fuzz.regressions` and replayed first.

use std::{cell::Cell, net::SocketAddr};

use axum::http::{Method, StatusCode};
use pochi_core::Product;
use pochi_http::ImageKind;
use proptest::{
    prelude::*,
    test_runner::{FileFailurePersistence, TestRunner},
};
use serde_json::{Value, json};

use crate::support::{Call, TOKEN, TestApp, app, call, checkout, get, product};

/// `cases` per property unless `PROPTEST_CASES` says otherwise; failures saved beside this file.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        source_file: Some(file!()),
        ..ProptestConfig::default()
    }
}

/// The app the properties talk to: one shop with one product, and a runtime to send with.
struct Ctx {
    runtime: tokio::runtime::Runtime,
    app: TestApp,
    product: Product,
    sent: Cell<u32>,
}

/// Runs `property` on `cases` values of `strategy` against one app.
fn fuzz<S: Strategy>(
    cases: u32,
    strategy: S,
    property: impl Fn(&Ctx, S::Value) -> Result<(), TestCaseError>,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let app = app();
    let product = runtime.block_on(product(&app.shop, "Kiondo", "1500", Some(1_000_000)));
    let ctx = Ctx {
        runtime,
        app,
        product,
        sent: Cell::new(0),
    };
    if let Err(err) = TestRunner::new(config(cases)).run(&strategy, |value| property(&ctx, value)) {
        panic!("{err}");
    }
}

/// Sends `request` and checks the answer: a 2xx, or a 4xx whose body is a JSON error with a
/// code and a message. Returns the status.
fn answer(ctx: &Ctx, request: Call) -> Result<StatusCode, TestCaseError> {
    // Each request from its own loopback address, so the per-address login lockout does not
    // turn most cases into 429s before they reach the parser.
    let n = ctx.sent.get().wrapping_add(1);
    ctx.sent.set(n);
    let [_, _, high, low] = n.to_be_bytes();
    let peer = SocketAddr::from(([127, 1, high, low], 40000));
    let reply = ctx
        .runtime
        .block_on(request.send_from(&ctx.app.router, peer));
    prop_assert!(
        !reply.status.is_server_error(),
        "{}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    if reply.status.is_client_error() {
        let body: Value = serde_json::from_slice(&reply.body)
            .map_err(|e| TestCaseError::fail(format!("{}: not JSON: {e}", reply.status)))?;
        prop_assert!(body["error"]["code"].is_string(), "{body}");
        prop_assert!(body["error"]["message"].is_string(), "{body}");
    } else {
        prop_assert!(reply.status.is_success(), "{}", reply.status);
    }
    Ok(reply.status)
}

/// Any text: arbitrary Unicode, or mostly the characters the parsers care about.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,40}",
        "[0-9+ -]{0,16}",
        "[+-]?[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}",
        "[+-]?[0-9]{4,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})",
    ]
}

/// Any JSON value, nested a little, with huge and fractional numbers.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
        "[1-9][0-9]{19,39}".prop_map(|n| serde_json::from_str(&n).unwrap()),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[A-Za-z]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A query-string value: any bytes, percent-encoded (so invalid UTF-8 reaches the parser too).
fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![
        text().prop_map(|t| t.into_bytes()),
        prop::collection::vec(any::<u8>(), 0..40),
    ]
    .prop_map(|bytes| bytes.iter().map(|b| format!("%{b:02X}")).collect())
}

/// A path segment: any text, percent-encoded.
fn path_segment() -> impl Strategy<Value = String> {
    prop_oneof![text(), "POCHI-[2-9A-Z]{10}", "[0-9a-f-]{36}"]
        .prop_map(|t| t.bytes().map(|b| format!("%{b:02X}")).collect())
}

/// A body: arbitrary bytes, or a valid body with the value at a JSON pointer replaced.
#[derive(Debug, Clone)]
enum Body {
    Bytes(Vec<u8>),
    Near(&'static str, Value),
}

fn body(pointers: Vec<&'static str>) -> impl Strategy<Value = Body> {
    // Values of the types the fields have (strings, counts) get past serde to the parsers.
    let typed = prop_oneof![
        text().prop_map(Value::String),
        prop_oneof![-2..1_200i64, any::<i64>()].prop_map(Value::from),
    ];
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(Body::Bytes),
        1 => json_value().prop_map(|v| Body::Bytes(v.to_string().into_bytes())),
        3 => (prop::sample::select(pointers.clone()), json_value())
            .prop_map(|(pointer, value)| Body::Near(pointer, value)),
        3 => (prop::sample::select(pointers), typed)
            .prop_map(|(pointer, value)| Body::Near(pointer, value)),
    ]
}

impl Body {
    /// The bytes, with `valid` as the body a `Near` starts from (a pointer that names no value
    /// adds it as a field).
    fn bytes(self, mut valid: Value) -> Vec<u8> {
        match self {
            Body::Bytes(bytes) => bytes,
            Body::Near("", value) => value.to_string().into_bytes(),
            Body::Near(pointer, value) => {
                match valid.pointer_mut(pointer) {
                    Some(slot) => *slot = value,
                    None => valid[&pointer[1..]] = value,
                }
                valid.to_string().into_bytes()
            }
        }
    }
}

#[test]
fn any_checkout_body_places_an_order_or_is_a_json_client_error() {
    let pointers = vec![
        "",
        "/name",
        "/phone",
        "/county",
        "/area",
        "/address",
        "/notes",
        "/items",
        "/items/0",
        "/items/0/productId",
        "/items/0/quantity",
        "/extra",
    ];
    fuzz(
        300,
        (
            body(pointers),
            any::<bool>(),
            prop::option::of("[ -~]{0,120}"),
        ),
        |ctx, (body, json_type, key)| {
            let bytes = body.bytes(checkout(&ctx.product, 1));
            let content_type = if json_type {
                "application/json"
            } else {
                "text/plain"
            };
            let mut request = call(Method::POST, "/api/orders").raw(content_type, bytes);
            if let Some(key) = key {
                request = request.header("idempotency-key", &key);
            }
            let status = answer(ctx, request)?;
            prop_assert!(
                json_type || status == StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{status}"
            );
            Ok(())
        },
    );
}

#[test]
fn any_payment_body_starts_a_payment_or_is_a_json_client_error() {
    let pointers = vec!["", "/orderNumber", "/method", "/phone", "/code", "/extra"];
    fuzz(200, body(pointers), |ctx, body| {
        let valid =
            json!({"orderNumber": "POCHI-2222222223", "method": "manual", "code": "NLJ7RT61SV"});
        answer(
            ctx,
            call(Method::POST, "/api/payments").raw("application/json", body.bytes(valid)),
        )?;
        Ok(())
    });
}

#[test]
fn any_list_query_is_a_page_or_a_json_client_error() {
    let lists = prop::sample::select(vec![
        ("/api/products", false),
        ("/api/admin/products", true),
        ("/api/admin/orders", true),
        ("/api/admin/orders/export.csv", true),
        ("/api/admin/customers", true),
        ("/api/admin/reviews", true),
    ]);
    let params = prop::collection::vec(
        (
            prop::sample::select(vec![
                "cursor", "limit", "status", "phone", "from", "to", "q", "x",
            ]),
            prop_oneof![query_value(), cursor()],
        ),
        0..4,
    );
    fuzz(300, (lists, params), |ctx, ((path, admin), params)| {
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut request = get(&format!("{path}?{}", query.join("&")));
        if admin {
            request = request.admin();
        }
        answer(ctx, request)?;
        Ok(())
    });
}

#[test]
fn any_date_filter_of_the_order_list_is_a_page_or_a_json_client_error() {
    let date = prop_oneof![
        "[+-]?[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])",
        "[+-]?[0-9]{4,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})",
        Just("9999-12-31".to_owned()),
        Just("-9999-01-01".to_owned()),
        Just("0000-01-01".to_owned()),
        Just("9999-12-31T23:59:59-23:59".to_owned()),
        Just("0000-01-01T00:00:00+23:59".to_owned()),
        text(),
    ];
    let field = prop::sample::select(vec!["from", "to"]);
    fuzz(200, (field, date), |ctx, (field, date)| {
        let value: String = date.bytes().map(|b| format!("%{b:02X}")).collect();
        answer(
            ctx,
            get(&format!("/api/admin/orders?{field}={value}")).admin(),
        )?;
        Ok(())
    });
}

/// A cursor-shaped value: base64 of `|`-joined parts, some of them valid.
fn cursor() -> impl Strategy<Value = String> {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    let part = prop_oneof![
        prop::sample::select(vec!["p", "o", "c", "r", ""]).prop_map(str::to_owned),
        any::<i128>().prop_map(|n| n.to_string()),
        "POCHI-[2-9A-Z]{10}",
        "[0-9a-f-]{36}",
        text(),
    ];
    prop::collection::vec(part, 0..5).prop_map(|parts| URL_SAFE_NO_PAD.encode(parts.join("|")))
}

#[test]
fn any_path_parameter_is_found_or_a_json_client_error() {
    let routes = prop::sample::select(vec![
        (Method::GET, "/api/track/", false),
        (Method::GET, "/api/products/", false),
        (Method::GET, "/api/payments/", false),
        (Method::GET, "/api/admin/orders/", true),
        (Method::GET, "/api/admin/payments/", true),
        (Method::DELETE, "/api/admin/products/", true),
    ]);
    fuzz(
        300,
        (routes, path_segment()),
        |ctx, ((method, prefix, admin), segment)| {
            let mut request = call(method, &format!("{prefix}{segment}"));
            if admin {
                request = request.admin();
            }
            answer(ctx, request)?;
            Ok(())
        },
    );
}

#[test]
fn any_callback_body_is_acknowledged_or_a_json_client_error() {
    let channel = prop_oneof![Just("stk".to_owned()), "[a-z_]{0,12}"];
    let valid = json!({"reference": "ws_CO_1", "resultCode": "0", "receipt": "NLJ7RT61SV", "amount": "1500"});
    let pointers = vec!["", "/reference", "/resultCode", "/receipt", "/amount"];
    fuzz(200, (channel, body(pointers)), |ctx, (channel, body)| {
        let uri = format!("/api/pay/callbacks/{channel}/{TOKEN}");
        answer(
            ctx,
            call(Method::POST, &uri).raw("application/json", body.bytes(valid.clone())),
        )?;
        Ok(())
    });
}

#[test]
fn any_authorization_header_is_let_in_or_a_json_client_error() {
    use base64::{Engine as _, engine::general_purpose::STANDARD};
    let header = prop_oneof![
        "[ -~]{0,80}",
        (
            prop::sample::select(vec!["Basic ", "basic  ", "Bearer ", "Basic"]),
            prop::collection::vec(any::<u8>(), 0..60)
        )
            .prop_map(|(scheme, bytes)| format!("{scheme}{}", STANDARD.encode(bytes))),
        ("[ -~]{0,20}", "[ -~]{0,20}").prop_map(|(user, password)| format!(
            "Basic {}",
            STANDARD.encode(format!("{user}:{password}"))
        )),
    ];
    fuzz(150, header, |ctx, header| {
        let status = answer(
            ctx,
            get("/api/admin/stats").header("authorization", &header),
        )?;
        prop_assert!(
            matches!(
                status,
                StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
            ),
            "{status}"
        );
        Ok(())
    });
}

#[test]
fn any_uploaded_file_is_stored_only_when_its_bytes_are_an_image() {
    let magic = prop::sample::select(vec![
        &b""[..],
        b"\xFF\xD8\xFF",
        b"\x89PNG\r\n\x1a\n",
        b"RIFF\x10\0\0\0WEBP",
        b"GIF89a",
        b"GIF87a",
        b"<svg xmlns=",
        b"RIFF\x10\0\0\0WAVE",
    ]);
    let file = (magic, prop::collection::vec(any::<u8>(), 0..64)).prop_map(|(magic, tail)| {
        let mut bytes = magic.to_vec();
        bytes.extend(tail);
        bytes
    });
    let field = prop_oneof![4 => Just("image".to_owned()), 1 => "[a-z]{0,8}"];
    let boundary_break = any::<bool>();
    fuzz(
        150,
        (file, field, boundary_break),
        |ctx, (file, field, broken)| {
            let boundary = "fuzzboundary";
            let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"x\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .into_bytes();
            body.extend(&file);
            if !broken {
                body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
            }
            let uri = format!("/api/admin/products/{}/image", ctx.product.id);
            let status = answer(
                ctx,
                call(Method::POST, &uri)
                    .raw(&format!("multipart/form-data; boundary={boundary}"), body)
                    .admin(),
            )?;
            let stored = status.is_success();
            // Sniffing is by content alone; the declared type (always PNG here) is ignored.
            prop_assert_eq!(
                stored,
                !broken && field == "image" && ImageKind::sniff(&file).is_some(),
                "{}",
                status
            );
            Ok(())
        },
    );
}
