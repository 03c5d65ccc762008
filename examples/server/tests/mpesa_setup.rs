//! `pochi-server mpesa register-c2b`, run as a shop owner runs it: the real binary, configured
//! by `POCHI_*` variables, against the fake Daraja (reached through `POCHI_MPESA_BASE_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::process::{Command, Output};

use pochi_pay_mpesa::fake::{FAKE_CONSUMER_KEY, FAKE_CONSUMER_SECRET, FakeDaraja};

const TOKEN: &str = "c2b-registration-token-0123";

/// Runs the real `pochi-server` with exactly `vars` as its `POCHI_*` configuration.
async fn pochi_server(args: &[&str], vars: Vec<(String, String)>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pochi-server"));
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("POCHI_") {
            command.env_remove(name);
        }
    }
    command.envs(vars);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn vars(daraja: &FakeDaraja, data: &std::path::Path, c2b: &str) -> Vec<(String, String)> {
    [
        ("POCHI_DATA_DIR", data.to_str().unwrap()),
        ("POCHI_MPESA_MODE", "sandbox"),
        ("POCHI_MPESA_BASE_URL", daraja.base_url()),
        ("POCHI_MPESA_CONSUMER_KEY", FAKE_CONSUMER_KEY),
        ("POCHI_MPESA_CONSUMER_SECRET", FAKE_CONSUMER_SECRET),
        ("POCHI_PUBLIC_URL", "https://duka.example.co.ke"),
        ("POCHI_MPESA_CALLBACK_TOKEN", TOKEN),
        ("POCHI_MPESA_C2B", c2b),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[tokio::test]
async fn register_c2b_tells_daraja_the_shops_urls_without_printing_the_token() {
    let daraja = FakeDaraja::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let output = pochi_server(&["mpesa", "register-c2b"], vars(&daraja, data.path(), "on")).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stdout}\n{stderr}");

    // Daraja holds the shop's two URLs, each with the secret token the server checks.
    let registered = daraja.registered_urls().expect("the URLs were registered");
    assert_eq!(
        registered.validation_url,
        format!("https://duka.example.co.ke/api/pay/callbacks/c2b-validation/{TOKEN}")
    );
    assert_eq!(
        registered.confirmation_url,
        format!("https://duka.example.co.ke/api/pay/callbacks/c2b-confirmation/{TOKEN}")
    );
    // The owner sees what was registered, but never the token.
    assert!(
        stdout.contains("/api/pay/callbacks/c2b-confirmation/…"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "{stdout}\n{stderr}"
    );
}

#[tokio::test]
async fn register_c2b_is_refused_while_the_shop_does_not_take_c2b() {
    let daraja = FakeDaraja::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();

    // C2B off: the URLs would answer 404, so nothing is registered.
    let output = pochi_server(
        &["mpesa", "register-c2b"],
        vars(&daraja, data.path(), "off"),
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success());
    assert!(stderr.contains("POCHI_MPESA_C2B"), "{stderr}");
    assert!(daraja.registered_urls().is_none());

    // Simulated M-Pesa has no Daraja to register with.
    let simulated = vec![(
        "POCHI_DATA_DIR".to_owned(),
        data.path().to_str().unwrap().to_owned(),
    )];
    let output = pochi_server(&["mpesa", "register-c2b"], simulated).await;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success());
    assert!(stderr.contains("POCHI_MPESA_MODE"), "{stderr}");
}

/// A shop taking C2B, registered with the fake Daraja, serving on loopback, with one unpaid
/// order of a demo product.
struct C2bShop {
    server: pochi_server::Running,
    daraja: FakeDaraja,
    _data: tempfile::TempDir,
    base: String,
    client: reqwest::Client,
    number: String,
    total: u32,
}

async fn c2b_shop_with_an_order() -> C2bShop {
    c2b_shop_with(Vec::new()).await
}

/// The same shop with `extra` settings besides.
async fn c2b_shop_with(extra: Vec<(String, String)>) -> C2bShop {
    daraja_shop(|vars| vars.extend(extra), true).await
}

/// A shop against the fake Daraja on a known loopback port, its settings those of `vars` as
/// `adjust` leaves them, its C2B URLs registered when `register`; with one unpaid order of a
/// demo product.
async fn daraja_shop(adjust: impl FnOnce(&mut Vec<(String, String)>), register: bool) -> C2bShop {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let daraja = FakeDaraja::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut vars = vars(&daraja, data.path(), "on");
    vars.retain(|(k, _)| k != "POCHI_PUBLIC_URL");
    vars.extend(
        [
            ("POCHI_PUBLIC_URL", base.as_str()),
            ("POCHI_LISTEN", &format!("127.0.0.1:{port}")),
            ("POCHI_DEMO_PRODUCTS", "on"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    adjust(&mut vars);
    if register {
        let output = pochi_server(&["mpesa", "register-c2b"], vars.clone()).await;
        assert!(output.status.success(), "{output:?}");
    }
    let server = pochi_server::start(pochi_server::Settings::from_vars(vars).unwrap())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let (number, total) = place_order(&client, &base).await;
    C2bShop {
        server,
        daraja,
        _data: data,
        base,
        client,
        number,
        total,
    }
}

/// Places an order for one unit of the first demo product; its number and total (whole KES).
async fn place_order(client: &reqwest::Client, base: &str) -> (String, u32) {
    use serde_json::{Value, json};

    let products: Value = client
        .get(format!("{base}/api/products"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order: Value = client
        .post(format!("{base}/api/orders"))
        .json(&json!({
            "name": "Wanjiru Kamau", "phone": "0712 345 678", "county": "Nairobi",
            "area": "Westlands", "address": "Mpaka Road",
            "items": [{"productId": products["items"][0]["id"], "quantity": 1}],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = order["number"].as_str().unwrap().to_owned();
    let total: u32 = order["total"]["amount"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (number, total)
}

#[tokio::test]
async fn after_registering_daraja_validates_and_confirms_direct_payments_against_orders() {
    use pochi_pay_mpesa::fake::C2bPayment;
    use serde_json::{Value, json};

    let C2bShop {
        server,
        daraja,
        _data,
        base,
        client,
        number,
        total,
    } = c2b_shop_with_an_order().await;
    let code = number.split_once('-').unwrap().1.to_owned();
    let answer = |delivery: pochi_pay_mpesa::fake::C2bDelivery| {
        delivery.response.json().unwrap()["ResultCode"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // Validation: a wrong amount and an unknown account are refused, the right one accepted.
    let wrong_amount = daraja
        .send_c2b_validation(&C2bPayment::new(total - 1, &code))
        .await
        .unwrap();
    assert_eq!(answer(wrong_amount), "C2B00013");
    let unknown = daraja
        .send_c2b_validation(&C2bPayment::new(total, "NOSUCHORDER"))
        .await
        .unwrap();
    assert_eq!(answer(unknown), "C2B00012");
    let right = C2bPayment::new(total, &code).with_trans_id("TKC2B00001");
    assert_eq!(
        answer(daraja.send_c2b_validation(&right).await.unwrap()),
        "0"
    );

    // Confirmation: the order is paid, with the M-Pesa receipt on its tracking page.
    let confirmed = daraja.send_c2b_confirmation(&right).await.unwrap();
    assert_eq!(confirmed.response.status, 200);
    let tracked: Value = client
        .get(format!("{base}/api/track/{number}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tracked["status"], "paid", "{tracked}");
    assert_eq!(tracked["receipts"], json!(["TKC2B00001"]));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn money_paid_to_an_unknown_account_is_kept_and_the_owner_assigns_it_to_its_order_once() {
    use pochi_pay_mpesa::fake::C2bPayment;
    use serde_json::{Value, json};

    // A shop taking C2B, registered with the fake Daraja, with one unpaid order.
    let C2bShop {
        server,
        daraja,
        _data,
        base,
        client,
        number,
        total,
    } = c2b_shop_with_an_order().await;
    let (user, password) = server.generated_admin().unwrap();
    // The customer mistypes the account: the money arrives and matches no order.
    let mistyped = C2bPayment::new(total, "7K3M9QXA2").with_trans_id("TKC2BMIS01");
    let confirmed = daraja.send_c2b_confirmation(&mistyped).await.unwrap();
    assert_eq!(confirmed.response.status, 200);
    let admin_get = |path: &str| {
        client
            .get(format!("{base}{path}"))
            .basic_auth(&user, Some(&password))
            .send()
    };
    let reviews: Value = admin_get("/api/admin/reviews")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let review = reviews["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["receipt"] == "TKC2BMIS01")
        .unwrap_or_else(|| panic!("no review for the payment: {reviews}"))
        .clone();
    assert_eq!(review["reason"]["kind"], "unmatched_payment");
    let tracked: Value = admin_get(&format!("/api/track/{number}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tracked["status"], "pending_payment");

    // The owner assigns it to the order it pays: the order is paid, its timeline names them.
    let resolve = |body: Value| {
        client
            .post(format!(
                "{base}/api/admin/reviews/{}/resolve",
                review["id"].as_str().unwrap()
            ))
            .basic_auth(&user, Some(&password))
            .json(&body)
            .send()
    };
    let assigned = resolve(json!({"action": "assign", "orderNumber": number, "note": "Typed the code without the last letter"}))
        .await
        .unwrap();
    assert_eq!(assigned.status(), 200);
    let assigned: Value = assigned.json().await.unwrap();
    assert_eq!(assigned["resolution"]["outcome"], "assigned");
    assert_eq!(assigned["resolution"]["orderNumber"], json!(number));
    assert_eq!(assigned["resolution"]["actor"]["name"], json!(user));
    let tracked: Value = admin_get(&format!("/api/track/{number}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tracked["status"], "paid", "{tracked}");
    assert_eq!(tracked["receipts"], json!(["TKC2BMIS01"]));
    let full: Value = admin_get(&format!("/api/admin/orders/{number}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = full["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["status"], "paid");
    assert_eq!(last["actor"], json!({"kind": "admin", "name": user}));

    // Once: the same assignment asked again (a retry) applies nothing more; another decision
    // is a conflict; the money is counted once.
    let retried = resolve(json!({"action": "assign", "orderNumber": number}))
        .await
        .unwrap();
    assert_eq!(retried.status(), 200);
    let again = resolve(json!({"action": "ignored", "note": "changed my mind"}))
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["error"]["details"]["reason"], "review_resolved");
    let payments: Value = admin_get(&format!("/api/admin/payments/{number}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(payments.as_array().unwrap().len(), 1, "{payments}");
    server.shutdown().await.unwrap();
}

/// With the Daraja initiator and `POCHI_MPESA_CONFIRM_C2B=on`, money paid from the M-Pesa menu
/// waits until M-Pesa's Transaction Status confirms it (asked by the server with the initiator
/// from its settings), then pays the order, once.
#[tokio::test]
async fn with_the_initiator_a_c2b_payment_waits_for_transaction_status_then_pays_its_order() {
    use pochi_pay_mpesa::fake::{
        C2bPayment, FAKE_INITIATOR_CERTIFICATE_PEM, FAKE_INITIATOR_NAME, FAKE_INITIATOR_PASSWORD,
    };
    use serde_json::Value;

    let certificate = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(certificate.path(), FAKE_INITIATOR_CERTIFICATE_PEM).unwrap();
    let extra = [
        ("POCHI_MPESA_INITIATOR_NAME", FAKE_INITIATOR_NAME),
        ("POCHI_MPESA_INITIATOR_PASSWORD", FAKE_INITIATOR_PASSWORD),
        (
            "POCHI_MPESA_INITIATOR_CERTIFICATE",
            certificate.path().to_str().unwrap(),
        ),
        ("POCHI_MPESA_CONFIRM_C2B", "on"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    let C2bShop {
        server,
        daraja,
        _data,
        base,
        client,
        number,
        total,
    } = c2b_shop_with(extra).await;
    let code = number.split_once('-').unwrap().1.to_owned();

    let paid = C2bPayment::new(total, &code).with_trans_id("TKC2BCHK01");
    let confirmed = daraja.send_c2b_confirmation(&paid).await.unwrap();
    assert_eq!(confirmed.response.status, 200);

    // The server asked M-Pesa about that very transaction, with the initiator it was given.
    let asked = daraja.initiator_requests();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].body["CommandID"], "TransactionStatusQuery");
    assert_eq!(asked[0].body["TransactionID"], "TKC2BCHK01");
    assert_eq!(asked[0].body["Initiator"], FAKE_INITIATOR_NAME);
    assert_eq!(asked[0].result_code, "0", "the credential was refused");

    // M-Pesa's answer pays the order (it arrives on its own, a moment later).
    let mut tracked = Value::Null;
    for _ in 0..100 {
        tracked = client
            .get(format!("{base}/api/track/{number}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if tracked["status"] == "paid" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(tracked["status"], "paid", "{tracked}");
    assert_eq!(tracked["receipts"], serde_json::json!(["TKC2BCHK01"]));

    // Daraja confirms the same payment again: nothing more is asked or counted.
    daraja.send_c2b_confirmation(&paid).await.unwrap();
    assert_eq!(daraja.initiator_requests().len(), 1);
    server.shutdown().await.unwrap();
}

/// A till shop in manual mode with `POCHI_MPESA_CHECK_CODES`: the customer pays from the M-Pesa
/// menu and types the code; the server asks Daraja's Transaction Status about it and M-Pesa's
/// answer pays the order without the admin. A code M-Pesa does not know waits for the admin.
#[tokio::test]
async fn a_manual_shop_checking_codes_with_mpesa_is_paid_once_mpesa_confirms_the_code() {
    use pochi_pay_mpesa::fake::{
        FAKE_INITIATOR_CERTIFICATE_PEM, FAKE_INITIATOR_NAME, FAKE_INITIATOR_PASSWORD,
    };
    use serde_json::{Value, json};

    let certificate = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(certificate.path(), FAKE_INITIATOR_CERTIFICATE_PEM).unwrap();
    let path = certificate.path().to_str().unwrap().to_owned();
    let C2bShop {
        server,
        daraja,
        _data,
        base,
        client,
        number,
        total,
    } = daraja_shop(
        |vars| {
            vars.retain(|(k, _)| k != "POCHI_MPESA_MODE" && k != "POCHI_MPESA_C2B");
            vars.extend(
                [
                    ("POCHI_MPESA_MODE", "manual"),
                    ("POCHI_MPESA_CHECK_CODES", "sandbox"),
                    ("POCHI_MPESA_INITIATOR_NAME", FAKE_INITIATOR_NAME),
                    ("POCHI_MPESA_INITIATOR_PASSWORD", FAKE_INITIATOR_PASSWORD),
                    ("POCHI_MPESA_INITIATOR_CERTIFICATE", path.as_str()),
                ]
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
            );
        },
        false,
    )
    .await;
    let track = |number: String| {
        let client = client.clone();
        let base = base.clone();
        async move {
            client
                .get(format!("{base}/api/track/{number}"))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };

    // The customer pays the till from the M-Pesa menu and types the code from the SMS.
    let code = daraja.pay_by_hand(total, "254712345678");
    let submitted = client
        .post(format!("{base}/api/payments"))
        .json(&json!({"orderNumber": number, "method": "manual", "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 201, "{:?}", submitted.text().await);

    // M-Pesa confirms it; the order is paid without the admin, with its receipt.
    let mut tracked = Value::Null;
    for _ in 0..100 {
        tracked = track(number.clone()).await;
        if tracked["status"] == "paid" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(tracked["status"], "paid", "{tracked}");
    assert_eq!(tracked["receipts"], json!([code]));
    let asked = daraja.initiator_requests();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].body["TransactionID"], json!(code));

    // A code M-Pesa has never seen: the order waits for the admin's decision.
    let (second_number, _) = place_order(&client, &base).await;
    let unknown = client
        .post(format!("{base}/api/payments"))
        .json(&json!({"orderNumber": second_number, "method": "manual", "code": "UAB1CD2EF3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 201);
    // The admin sees why under Reviews (M-Pesa's answer arrives a moment later).
    let (user, password) = server.generated_admin().unwrap();
    let mut kept = Value::Null;
    for _ in 0..100 {
        kept = client
            .get(format!("{base}/api/admin/reviews"))
            .basic_auth(&user, Some(&password))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if kept["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty())
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        kept["items"][0]["reason"]["kind"], "not_confirmed",
        "{kept}"
    );
    assert_eq!(
        kept["items"][0]["orderNumber"],
        json!(second_number),
        "{kept}"
    );
    let waiting = track(second_number).await;
    assert_eq!(waiting["status"], "pending_payment", "{waiting}");
    assert_eq!(waiting["awaitingVerification"], true, "{waiting}");
    server.shutdown().await.unwrap();
}
