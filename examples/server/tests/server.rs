//! The reference server over real sockets: first and second start, configuration errors, a
//! customer paying with the simulated M-Pesa, the simulator's errors, the background jobs and
//! shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::{path::Path, time::Duration};

use pochi_server::{ConfigError, Running, Settings, StartError};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

mod common;

use common::admin::as_admin;

/// A server on a free loopback port keeping its data in `dir`, with `extra` variables.
async fn start_in(dir: &Path, extra: &[(&str, &str)]) -> Running {
    let mut vars = vec![
        ("POCHI_DATA_DIR".to_owned(), dir.display().to_string()),
        ("POCHI_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
    ];
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    pochi_server::start(Settings::from_vars(vars).unwrap())
        .await
        .unwrap()
}

fn config_error(vars: &[(&str, &str)]) -> ConfigError {
    Settings::from_vars(vars.iter().copied()).unwrap_err()
}

async fn get(url: String) -> (StatusCode, Value) {
    let response = Client::new().get(url).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn post(url: String, body: Value) -> (StatusCode, Value) {
    let response = Client::new().post(url).json(&body).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn products(base: &str) -> Vec<Value> {
    let (status, page) = get(format!("{base}/api/products")).await;
    assert_eq!(status, StatusCode::OK);
    page["items"].as_array().unwrap().clone()
}

/// Places an order for one unit of the first product; returns its number.
async fn place_order(base: &str) -> String {
    let product = products(base).await.remove(0);
    let (status, order) = post(
        format!("{base}/api/orders"),
        json!({
            "name": "Wanjiru Kamau",
            "phone": "0712 345 678",
            "county": "Nairobi",
            "area": "Westlands",
            "address": "Mpaka Road, House 4",
            "items": [{"productId": product["id"], "quantity": 1}],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    order["number"].as_str().unwrap().to_owned()
}

/// Starts an STK push for the order; returns the payment id.
async fn start_payment(base: &str, order: &str) -> String {
    let (status, payment) = post(
        format!("{base}/api/payments"),
        json!({ "orderNumber": order }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{payment}");
    assert_eq!(payment["status"], "pending");
    payment["id"].as_str().unwrap().to_owned()
}

async fn simulate(base: &str, payment: &str, outcome: &str) -> (StatusCode, Value) {
    post(
        format!("{base}/api/simulator/payments/{payment}"),
        json!({ "outcome": outcome }),
    )
    .await
}

async fn admin_status(base: &str, user: &str, password: &str) -> StatusCode {
    Client::new()
        .get(format!("{base}/api/admin/stats"))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn first_start_creates_the_database_demo_products_and_an_admin_who_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]).await;
    let base = server.base_url();

    assert!(dir.path().join("pochi.db").exists());
    let products = products(&base).await;
    assert_eq!(products.len(), 4);
    assert!(products.iter().all(|p| p["stock"].as_i64() > Some(0)));

    let (user, password) = server.generated_admin().expect("a generated admin");
    assert_eq!(user, "admin");
    assert_eq!(admin_status(&base, &user, &password).await, StatusCode::OK);
    assert_eq!(
        admin_status(&base, &user, "not-the-password").await,
        StatusCode::UNAUTHORIZED
    );
    // Only the hash is kept.
    let stored = std::fs::read_to_string(dir.path().join("admin.htpasswd")).unwrap();
    assert!(stored.starts_with("admin:$argon2id$"));
    assert!(!stored.contains(&password));
    assert!(!format!("{server:?}").contains(&password));

    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_second_start_reuses_the_database_and_the_admin_login() {
    let dir = tempfile::tempdir().unwrap();
    let first = start_in(dir.path(), &[]).await;
    let (user, password) = first.generated_admin().unwrap();
    let order = place_order(&first.base_url()).await;
    first.shutdown().await.unwrap();

    let second = start_in(dir.path(), &[]).await;
    let base = second.base_url();
    assert_eq!(second.generated_admin(), None);
    assert_eq!(admin_status(&base, &user, &password).await, StatusCode::OK);
    assert_eq!(
        products(&base).await.len(),
        4,
        "no second set of demo products"
    );
    let (status, tracked) = get(format!("{base}/api/track/{order}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tracked["status"], "pending_payment");
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn configured_admins_get_no_generated_login() {
    let dir = tempfile::tempdir().unwrap();
    let hash = pochi_core::PasswordHash::create("a long admin password").unwrap();
    let users = format!("owner:{}", hash.as_str());
    let server = start_in(dir.path(), &[("POCHI_ADMIN_USERS", &users)]).await;
    assert_eq!(server.generated_admin(), None);
    assert!(!dir.path().join("admin.htpasswd").exists());
    assert_eq!(
        admin_status(&server.base_url(), "owner", "a long admin password").await,
        StatusCode::OK
    );
    server.shutdown().await.unwrap();
}

#[test]
fn a_bad_listen_address_is_refused_naming_pochi_listen() {
    let err = config_error(&[("POCHI_LISTEN", "localhost:eighty")]);
    assert_eq!(err.variable, "POCHI_LISTEN");
    assert!(err.to_string().starts_with("POCHI_LISTEN: "));
}

#[test]
fn an_unknown_database_scheme_is_refused_naming_pochi_database_url() {
    let err = config_error(&[("POCHI_DATABASE_URL", "mongodb://shop:s3cret-pw@db/shop")]);
    assert_eq!(err.variable, "POCHI_DATABASE_URL");
    assert!(err.message.contains("mongodb"));
    assert!(!err.to_string().contains("s3cret-pw"));
}

#[test]
fn production_mpesa_without_credentials_is_refused_naming_the_variable() {
    let err = config_error(&[
        ("POCHI_MPESA_MODE", "production"),
        ("POCHI_PUBLIC_URL", "https://duka.example.co.ke"),
    ]);
    assert_eq!(err.variable, "POCHI_MPESA_SHORTCODE");

    let err = config_error(&[
        ("POCHI_MPESA_MODE", "production"),
        ("POCHI_PUBLIC_URL", "https://duka.example.co.ke"),
        ("POCHI_MPESA_SHORTCODE", "600100"),
        ("POCHI_MPESA_PASSKEY", "the-production-passkey"),
    ]);
    assert_eq!(err.variable, "POCHI_MPESA_CONSUMER_KEY");
    assert!(!err.to_string().contains("the-production-passkey"));
}

#[tokio::test]
async fn a_taken_listen_address_is_reported_naming_pochi_listen() {
    let dir = tempfile::tempdir().unwrap();
    let first = start_in(dir.path(), &[]).await;
    let taken = first.local_addr().to_string();
    let settings = Settings::from_vars([
        ("POCHI_DATA_DIR", dir.path().display().to_string()),
        ("POCHI_LISTEN", taken),
    ])
    .unwrap();
    let err = pochi_server::start(settings).await.unwrap_err();
    assert!(matches!(err, StartError::Bind { .. }));
    assert!(err.to_string().contains("POCHI_LISTEN"));
    first.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_customer_pays_with_simulated_mpesa_and_the_order_is_paid() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]).await;
    let base = server.base_url();
    assert_eq!(
        get(format!("{base}/api/simulator")).await,
        (StatusCode::OK, json!({"enabled": true}))
    );

    let order = place_order(&base).await;
    let payment = start_payment(&base, &order).await;
    let (status, body) = simulate(&base, &payment, "paid").await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"paymentId": payment, "outcome": "paid"}));
    let (_, polled) = get(format!("{base}/api/payments/{payment}")).await;
    assert_eq!(polled["status"], "succeeded");
    assert!(polled["receipt"].is_string());
    let (_, tracked) = get(format!("{base}/api/track/{order}")).await;
    assert_eq!(tracked["status"], "paid");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_cancelled_payment_leaves_the_order_unpaid_and_a_retry_pays_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]).await;
    let base = server.base_url();
    let order = place_order(&base).await;

    let first = start_payment(&base, &order).await;
    let (status, _) = simulate(&base, &first, "cancelled").await;
    assert_eq!(status, StatusCode::OK);
    let (_, polled) = get(format!("{base}/api/payments/{first}")).await;
    assert_eq!(polled["status"], "cancelled");
    let (_, tracked) = get(format!("{base}/api/track/{order}")).await;
    assert_eq!(tracked["status"], "pending_payment");

    let retry = start_payment(&base, &order).await;
    assert_ne!(retry, first);
    let (status, _) = simulate(&base, &retry, "paid").await;
    assert_eq!(status, StatusCode::OK);
    let (_, tracked) = get(format!("{base}/api/track/{order}")).await;
    assert_eq!(tracked["status"], "paid");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_failed_payment_tells_the_customer_why_in_their_language() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]).await;
    let base = server.base_url();
    let order = place_order(&base).await;
    let payment = start_payment(&base, &order).await;
    let (status, _) = simulate(&base, &payment, "cancelled").await;
    assert_eq!(status, StatusCode::OK);
    let message = |query: &'static str, accept: Option<&'static str>| {
        let url = format!("{base}/api/payments/{payment}{query}");
        async move {
            let mut request = Client::new().get(url);
            if let Some(accept) = accept {
                request = request.header("Accept-Language", accept);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (status, body)
        }
    };
    // M-Pesa's catalogue text for its result code, not Daraja's raw description.
    let (_, body) = message("", None).await;
    assert_eq!(body["status"], "cancelled");
    assert_eq!(body["message"], "You cancelled the payment request.");
    let (_, body) = message("?language=sw", None).await;
    assert_eq!(body["message"], "Umesitisha ombi la malipo.");
    let (_, body) = message("", Some("sw-KE,sw;q=0.9,en;q=0.8")).await;
    assert_eq!(body["message"], "Umesitisha ombi la malipo.");
    let (_, body) = message("?language=en", Some("sw")).await;
    assert_eq!(body["message"], "You cancelled the payment request.");
    let (status, body) = message("?language=fr", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "language");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unanswered_push_stays_pending_and_can_still_be_answered() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]).await;
    let base = server.base_url();
    let order = place_order(&base).await;
    let payment = start_payment(&base, &order).await;

    let (status, body) = simulate(&base, &payment, "noAnswer").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["outcome"], "noAnswer");
    let (_, polled) = get(format!("{base}/api/payments/{payment}")).await;
    assert_eq!(polled["status"], "pending");

    let (status, _) = simulate(&base, &payment, "paid").await;
    assert_eq!(status, StatusCode::OK);
    let (_, tracked) = get(format!("{base}/api/track/{order}")).await;
    assert_eq!(tracked["status"], "paid");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_simulator_answers_404_409_and_422_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]).await;
    let base = server.base_url();

    let unknown = "0b6f2c1e-8d1a-4c55-9d0e-7d9c2a4b1f10";
    let (status, body) = simulate(&base, unknown, "paid").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");

    let order = place_order(&base).await;
    let payment = start_payment(&base, &order).await;
    let (status, body) = simulate(&base, &payment, "maybe").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "invalid_input");
    assert_eq!(body["error"]["field"], "outcome");

    let (status, _) = simulate(&base, &payment, "paid").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = simulate(&base, &payment, "paid").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "conflict");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_simulator_is_not_mounted_outside_simulated_mode() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(
        dir.path(),
        &[
            ("POCHI_MPESA_MODE", "sandbox"),
            ("POCHI_MPESA_CONSUMER_KEY", "sandbox-key"),
            ("POCHI_MPESA_CONSUMER_SECRET", "sandbox-secret"),
            ("POCHI_PUBLIC_URL", "https://duka.example.co.ke"),
        ],
    )
    .await;
    let base = server.base_url();
    assert!(!server.simulated_mpesa());
    let (status, body) = get(format!("{base}/api/simulator")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _) = simulate(&base, "0b6f2c1e-8d1a-4c55-9d0e-7d9c2a4b1f10", "paid").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn pochi_mpesa_base_url_sends_daraja_requests_to_another_host() {
    // A Daraja double on its own port, as a proxy or a test double would be.
    let daraja = pochi_pay_mpesa::fake::FakeDaraja::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(
        dir.path(),
        &[
            ("POCHI_MPESA_MODE", "sandbox"),
            ("POCHI_MPESA_BASE_URL", daraja.base_url()),
            (
                "POCHI_MPESA_CONSUMER_KEY",
                pochi_pay_mpesa::fake::FAKE_CONSUMER_KEY,
            ),
            (
                "POCHI_MPESA_CONSUMER_SECRET",
                pochi_pay_mpesa::fake::FAKE_CONSUMER_SECRET,
            ),
            ("POCHI_DEMO_PRODUCTS", "on"),
            ("POCHI_PUBLIC_URL", "https://duka.example.co.ke"),
        ],
    )
    .await;
    let base = server.base_url();
    let order = place_order(&base).await;
    start_payment(&base, &order).await;
    assert!(daraja.token_fetches() >= 1);
    let pushes = daraja.pushes();
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    server.shutdown().await.unwrap();

    // A base URL that is not one is refused, naming the variable.
    let err = config_error(&[
        ("POCHI_MPESA_MODE", "sandbox"),
        ("POCHI_MPESA_BASE_URL", "proxy.internal:8443"),
        ("POCHI_MPESA_CONSUMER_KEY", "k"),
        ("POCHI_MPESA_CONSUMER_SECRET", "s"),
        ("POCHI_PUBLIC_URL", "https://duka.example.co.ke"),
    ]);
    assert!(err.to_string().contains("POCHI_MPESA_BASE_URL"), "{err}");
}

#[tokio::test]
async fn a_manual_shop_refuses_a_pasted_sms_that_does_not_fit_saying_which() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(
        dir.path(),
        &[
            ("POCHI_MPESA_MODE", "manual"),
            ("POCHI_DEMO_PRODUCTS", "on"),
        ],
    )
    .await;
    let base = server.base_url();
    let (user, password) = server.generated_admin().unwrap();
    let (status, settings) = {
        let response = Client::new()
            .post(format!("{base}/api/admin/settings"))
            .basic_auth(&user, Some(&password))
            .json(&json!({
                "storeName": "Pochi Shop",
                "defaultDeliveryFee": "0",
                "mpesaAccount": {"kind": "paybill", "number": "400200", "name": "POCHI SHOP"},
            }))
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, StatusCode::OK, "{settings}");
    let (_, public) = get(format!("{base}/api/settings")).await;
    assert_eq!(public["paymentMethods"], json!(["manual"]));
    let order = place_order(&base).await;
    let (_, tracked) = get(format!("{base}/api/track/{order}")).await;
    let total = tracked["total"]["amount"].as_str().unwrap().to_owned();
    let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+3));
    let today = format!("{}/{}/{}", now.day(), u8::from(now.month()), now.year());
    let sms = |to: &str, account: &str, amount: &str| {
        format!(
            "TKS9FVBG9G Confirmed. Ksh{amount} sent to {to} for account {account} on {today} \
             at 3:06 PM New M-PESA balance is Ksh840.00. Transaction cost, Ksh0.00."
        )
    };
    let pay = |code: String| {
        let base = base.clone();
        let order = order.clone();
        async move {
            post(
                format!("{base}/api/payments"),
                json!({"orderNumber": order, "method": "manual", "code": code}),
            )
            .await
        }
    };
    for (text, reason) in [
        (
            sms("OTHER SHOP", &order, &total),
            "payment_to_other_recipient",
        ),
        (
            sms("POCHI SHOP", "POCHI-2222222222", &total),
            "payment_account_mismatch",
        ),
        (sms("POCHI SHOP", &order, "1.00"), "payment_amount_mismatch"),
    ] {
        let (status, body) = pay(text).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["details"]["reason"], reason, "{body}");
    }
    let (status, body) = pay("paid you yesterday".to_owned()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "code");
    let (status, body) = pay(sms("Pochi Shop", &order, &total)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "pending_verification");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_expiry_job_cancels_unpaid_orders_and_reconciliation_runs() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(
        dir.path(),
        &[
            ("POCHI_ORDER_EXPIRY", "1s"),
            ("POCHI_EXPIRY_INTERVAL", "1s"),
            ("POCHI_RECONCILE_INTERVAL", "1s"),
        ],
    )
    .await;
    let base = server.base_url();
    let order = place_order(&base).await;

    let mut runs = server.job_runs();
    // A guard, not a synchronisation: the watch wakes the test at the run that expires it.
    let expired = tokio::time::timeout(
        Duration::from_secs(60),
        runs.wait_for(|r| r.orders_expired >= 1 && r.reconcile >= 2),
    )
    .await
    .expect("the jobs ran")
    .unwrap()
    .orders_expired;
    assert_eq!(expired, 1);
    assert_eq!(runs.borrow().failures, 0);
    let (_, tracked) = get(format!("{base}/api/track/{order}")).await;
    assert_eq!(tracked["status"], "cancelled");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_stops_listening_and_releases_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]).await;
    let addr = server.local_addr();
    let order = place_order(&server.base_url()).await;
    let runs = server.job_runs();

    server.shutdown().await.unwrap();

    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    assert!(runs.has_changed().is_err(), "the jobs have stopped");
    // Shutdown checkpointed the write-ahead log into the database file: the log is gone, or
    // empty when a connection's close raced the last one.
    assert!(dir.path().join("pochi.db").exists());
    let wal = std::fs::metadata(dir.path().join("pochi.db-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the write-ahead log still holds pages");
    // The database is whole and free: a new server reads the order.
    let again = start_in(dir.path(), &[]).await;
    let (status, _) = get(format!("{}/api/track/{order}", again.base_url())).await;
    assert_eq!(status, StatusCode::OK);
    again.shutdown().await.unwrap();
}

#[test]
fn env_example_documents_every_variable_and_its_values_are_accepted() {
    let text = include_str!("../.env.example");
    for variable in pochi_server::VARIABLES {
        assert!(
            text.contains(&format!("{variable}=")),
            "{variable} is not in .env.example"
        );
    }
    let set: Vec<(&str, &str)> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .collect();
    let settings = Settings::from_vars(set).unwrap();
    assert!(settings.unknown_variables().is_empty());
}

#[tokio::test]
async fn shutdown_finishes_a_request_in_flight() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]).await;
    let base = server.base_url();
    let product = products(&base).await.remove(0);
    let body = json!({
        "name": "Wanjiru Kamau",
        "phone": "0712 345 678",
        "county": "Nairobi",
        "area": "Westlands",
        "address": "Mpaka Road, House 4",
        "items": [{"productId": product["id"], "quantity": 1}],
    })
    .to_string();

    // Given an order whose headers were read and whose handler waits for the body (hyper
    // answers `100 Continue` when the handler starts reading it)...
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let head = format!(
        "POST /api/orders HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("HTTP/1.1 100"), "{line}");
    reader.read_line(&mut line).await.unwrap();

    // ...when the server is asked to stop, and only then the body arrives...
    let stopping = tokio::spawn(server.shutdown());
    reader.get_mut().write_all(body.as_bytes()).await.unwrap();

    // ...then the order is still answered, and the server stops.
    let mut response = String::new();
    reader.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    stopping.await.unwrap().unwrap();
}

const C2B_CONFIRMATION: &str =
    include_str!("../../../pochi-pay-mpesa/tests/fixtures/c2b_confirmation.json");
const STK_SUCCESS: &str =
    include_str!("../../../pochi-pay-mpesa/tests/fixtures/stk_callback_success.json");
const CURRENT_TOKEN: &str = "current-callback-token-01";
const PREVIOUS_TOKEN: &str = "previous-callback-token-1";

async fn post_raw(url: String, body: &str) -> (StatusCode, Value) {
    let response = Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn reviews(server: &Running) -> Vec<Value> {
    let (user, password) = server.generated_admin().unwrap();
    let response = Client::new()
        .get(format!("{}/api/admin/reviews", server.base_url()))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn c2b_routes_answer_as_unknown_paths_unless_c2b_is_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[("POCHI_MPESA_CALLBACK_TOKEN", CURRENT_TOKEN)]).await;
    let base = server.base_url();
    let unknown = post_raw(format!("{base}/api/no/such/path"), "{}").await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND);
    for channel in ["c2b-confirmation", "c2b-validation"] {
        let answer = post_raw(
            format!("{base}/api/pay/callbacks/{channel}/{CURRENT_TOKEN}"),
            C2B_CONFIRMATION,
        )
        .await;
        assert_eq!(answer, unknown, "{channel}");
    }
    assert!(reviews(&server).await.is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn with_c2b_on_money_paid_to_another_shortcode_is_acknowledged_and_only_kept_for_review() {
    // The simulated paybill is not 600966, the shortcode of Daraja's sample confirmation
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(
        dir.path(),
        &[
            ("POCHI_MPESA_C2B", "on"),
            ("POCHI_MPESA_CALLBACK_TOKEN", CURRENT_TOKEN),
        ],
    )
    .await;
    let base = server.base_url();
    let order = place_order(&base).await;
    let mut body: Value = serde_json::from_str(C2B_CONFIRMATION).unwrap();
    body["BillRefNumber"] = json!(order);

    let (status, reply) = post(
        format!("{base}/api/pay/callbacks/c2b-confirmation/{CURRENT_TOKEN}"),
        body,
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply, json!({"ResultCode": 0, "ResultDesc": "Success"}));
    let (_, tracked) = get(format!("{base}/api/track/{order}")).await;
    assert_eq!(tracked["status"], "pending_payment");
    let reviews = reviews(&server).await;
    assert_eq!(reviews.len(), 1);
    assert_eq!(
        reviews[0]["reason"],
        json!({"kind": "other_shortcode", "shortcode": "600966"})
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn while_the_token_is_rotated_both_tokens_are_accepted_and_a_third_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(
        dir.path(),
        &[
            ("POCHI_MPESA_CALLBACK_TOKEN", CURRENT_TOKEN),
            ("POCHI_MPESA_CALLBACK_TOKEN_PREVIOUS", PREVIOUS_TOKEN),
        ],
    )
    .await;
    let base = server.base_url();
    // Daraja's sample result names a push this shop never sent: accepted (and kept for review)
    // on either token, refused on another
    for token in [CURRENT_TOKEN, PREVIOUS_TOKEN] {
        let (status, reply) =
            post_raw(format!("{base}/api/pay/callbacks/stk/{token}"), STK_SUCCESS).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
    }
    let (status, reply) = post_raw(
        format!("{base}/api/pay/callbacks/stk/some-other-token-0001"),
        STK_SUCCESS,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply["error"]["code"], "unauthorized");
    let kinds: Vec<Value> = reviews(&server)
        .await
        .iter()
        .map(|r| r["reason"]["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            json!("invalid_callback_token"),
            json!("unknown_attempt"),
            json!("unknown_attempt")
        ]
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn callbacks_from_outside_the_allowed_networks_get_403_and_pay_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(
        dir.path(),
        &[
            ("POCHI_MPESA_CALLBACK_TOKEN", CURRENT_TOKEN),
            ("POCHI_CALLBACK_ALLOWED_NETWORKS", "196.201.214.0/24"),
        ],
    )
    .await;
    let base = server.base_url();
    let order = place_order(&base).await;
    let payment = start_payment(&base, &order).await;
    // The simulated M-Pesa calls back from 127.0.0.1, outside the list
    simulate(&base, &payment, "paid").await;
    let (status, reply) = post_raw(
        format!("{base}/api/pay/callbacks/stk/{CURRENT_TOKEN}"),
        STK_SUCCESS,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(reply["error"]["code"], "callback_source_refused");
    let (_, polled) = get(format!("{base}/api/payments/{payment}")).await;
    assert_eq!(polled["status"], "pending");
    let (_, tracked) = get(format!("{base}/api/track/{order}")).await;
    assert_eq!(tracked["status"], "pending_payment");
    assert!(reviews(&server).await.is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn demo_products_false_opens_a_shop_with_an_empty_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[("POCHI_DEMO_PRODUCTS", "false")]).await;
    assert!(products(&server.base_url()).await.is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_payment_made_through_the_simulator_is_stored_as_simulated() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]).await;
    let base = server.base_url();
    let order = place_order(&base).await;
    let payment = start_payment(&base, &order).await;
    let (status, body) = simulate(&base, &payment, "paid").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (user, password) = server.generated_admin().unwrap();
    let payments: Value = Client::new()
        .get(format!("{base}/api/admin/payments/{order}"))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(payments[0]["status"], "succeeded", "{payments}");
    assert_eq!(payments[0]["provider"], "mpesa_simulated");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_simulator_resolves_nothing_for_a_request_from_another_machine() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]).await;
    let base = server.base_url();
    let order = place_order(&base).await;
    let payment = start_payment(&base, &order).await;

    // Through a reverse proxy the server was not told about, or naming a public host
    for (name, value) in [
        ("X-Forwarded-For", "198.51.100.7"),
        ("Forwarded", "for=198.51.100.7"),
        ("X-Real-IP", "198.51.100.7"),
        ("Host", "duka.example.co.ke"),
    ] {
        let response = Client::new()
            .post(format!("{base}/api/simulator/payments/{payment}"))
            .header(name, value)
            .json(&json!({ "outcome": "paid" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "simulator_local_only");
    }

    // nothing was paid; on the shop's own machine the simulator still answers
    let (_, polled) = get(format!("{base}/api/payments/{payment}")).await;
    assert_eq!(polled["status"], "pending");
    let (status, body) = simulate(&base, &payment, "paid").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.shutdown().await.unwrap();
}

/// Starts paying `order` on delivery.
async fn pay_on_delivery(base: &str, order: &str) -> (StatusCode, Value) {
    post(
        format!("{base}/api/payments"),
        json!({"orderNumber": order, "method": "pay_on_delivery"}),
    )
    .await
}

#[tokio::test]
async fn with_pay_on_delivery_on_an_order_goes_out_unpaid_and_the_admin_records_the_cash_once() {
    // Given a shop that takes payment on delivery
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[("POCHI_PAY_ON_DELIVERY", "true")]).await;
    let base = server.base_url();
    let (_, public) = get(format!("{base}/api/settings")).await;
    assert_eq!(
        public["paymentMethods"],
        json!(["mpesa_simulated", "pay_on_delivery"])
    );

    // When a customer orders and chooses to pay on delivery
    let order = place_order(&base).await;
    let (status, payment) = pay_on_delivery(&base, &order).await;
    assert_eq!(status, StatusCode::CREATED, "{payment}");
    assert_eq!(
        (&payment["status"], &payment["provider"]),
        (&json!("pending_verification"), &json!("pay_on_delivery"))
    );
    let id = payment["id"].as_str().unwrap().to_owned();

    // Then the admin dispatches and delivers it unpaid
    for to in ["processing", "dispatched", "delivered"] {
        let (status, moved) = as_admin(
            &server,
            reqwest::Method::PUT,
            &format!("/api/orders/{order}/status"),
            json!({"status": to}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(
            (&moved["status"], &moved["paidAt"]),
            (&json!(to), &Value::Null)
        );
    }

    // And records the cash collected: the order is paid and stays delivered
    let verify_path = format!("/api/admin/payments/{id}/verify");
    let verify = || {
        as_admin(
            &server,
            reqwest::Method::POST,
            &verify_path,
            json!({"approve": true, "note": "Cash from the rider"}),
        )
    };
    let (status, verified) = verify().await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["status"], "succeeded");
    let (_, tracked) = get(format!("{base}/api/track/{order}")).await;
    assert_eq!(tracked["status"], "delivered", "{tracked}");
    let (_, stats) = as_admin(&server, reqwest::Method::GET, "/api/admin/stats", json!({})).await;
    assert_eq!(stats["paidOrders"], 1, "{stats}");
    assert_eq!(stats["revenue"]["today"], tracked["total"], "{stats}");

    // And a second record is refused and counts nothing
    let (status, again) = verify().await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(
        again["error"]["details"]["reason"],
        "payment_not_verifiable"
    );
    let (_, stats) = as_admin(&server, reqwest::Method::GET, "/api/admin/stats", json!({})).await;
    assert_eq!(stats["paidOrders"], 1, "{stats}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn with_pay_on_delivery_off_starting_it_is_refused_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]).await;
    let base = server.base_url();
    let (_, public) = get(format!("{base}/api/settings")).await;
    assert_eq!(public["paymentMethods"], json!(["mpesa_simulated"]));
    let order = place_order(&base).await;
    let (status, body) = pay_on_delivery(&base, &order).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "conflict", "{body}");
    assert_eq!(body["error"]["details"]["reason"], "payment_method_off");
    let (_, tracked) = get(format!("{base}/api/track/{order}")).await;
    assert_eq!(tracked["status"], "pending_payment");
    server.shutdown().await.unwrap();
}
