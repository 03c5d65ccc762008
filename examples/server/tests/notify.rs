//! The shop's messages through the reference server: what a simulated shop shows in its
//! dashboard, SMS through a fake Africa's Talking over real sockets, a customer's STOP, a
//! message that kept failing and its retry, a server killed between an order's commit and the
//! send, and two servers sharing one database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use pochi_notify::fake::{Failure, FakeAfricasTalking, FakeSmtp};
use pochi_server::{Running, Settings};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

mod common;

use common::{admin::as_admin, child::ChildServer, db::Db};

/// A server on a free loopback port keeping its data in `dir`, with `extra` variables.
async fn start_in(dir: &Path, extra: &[(&str, &str)]) -> Running {
    let mut vars = vec![
        ("POCHI_DATA_DIR".to_owned(), dir.display().to_string()),
        ("POCHI_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("POCHI_NOTIFY_INTERVAL".to_owned(), "1s".to_owned()),
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

async fn post(url: String, body: Value) -> (StatusCode, Value) {
    let response = Client::new().post(url).json(&body).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// Places an order for one unit of the first product, in `language`; returns its number.
async fn place_order(base: &str, phone: &str, language: &str) -> String {
    place_order_of(base, phone, language, 0).await
}

/// Places an order for one unit of the `index`th product of the catalogue's first page.
async fn place_order_of(base: &str, phone: &str, language: &str, index: usize) -> String {
    let page: Value = Client::new()
        .get(format!("{base}/api/products"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let product = &page["items"][index];
    let (status, order) = post(
        format!("{base}/api/orders"),
        json!({
            "name": "Wanjiru Kamau",
            "phone": phone,
            "county": "Nairobi",
            "area": "Westlands",
            "address": "Mpaka Road, House 4",
            "language": language,
            "items": [{"productId": product["id"], "quantity": 1}],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    order["number"].as_str().unwrap().to_owned()
}

/// Pays an order with the simulated M-Pesa; returns the M-Pesa receipt.
async fn pay(base: &str, order: &str) -> String {
    let (status, payment) = post(
        format!("{base}/api/payments"),
        json!({ "orderNumber": order }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{payment}");
    let id = payment["id"].as_str().unwrap();
    let (status, body) = post(
        format!("{base}/api/simulator/payments/{id}"),
        json!({ "outcome": "paid" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let polled: Value = Client::new()
        .get(format!("{base}/api/payments/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    polled["receipt"].as_str().unwrap().to_owned()
}

/// The shop's messages as the dashboard lists them (newest first), with `query`.
async fn messages(server: &Running, query: &str) -> Vec<Value> {
    let (user, password) = server.generated_admin().unwrap();
    let response = Client::new()
        .get(format!("{}/api/admin/messages?{query}", server.base_url()))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

/// Waits until `done` holds for the messages of `order`, or fails after 20 s.
async fn messages_until(
    server: &Running,
    order: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let items = messages(server, &format!("order={order}")).await;
        if done(&items) {
            return items;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "messages of {order} never got there: {items:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn template(message: &Value) -> &str {
    message["message"]["template"].as_str().unwrap()
}

#[tokio::test]
async fn a_simulated_shop_shows_what_it_would_send_in_the_customers_language() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]).await;
    let base = server.base_url();

    let order = place_order(&base, "0712 345 678", "sw").await;
    let receipt = pay(&base, &order).await;
    let sent = messages_until(&server, &order, |items| {
        items.len() == 3 && items.iter().all(|m| m["state"] == "sent")
    })
    .await;
    // The owner's alert, shown beside the customer's messages.
    let alert = sent.iter().find(|m| m["audience"] == "owner").unwrap();
    assert_eq!(template(alert), "owner_payment_succeeded");
    assert!(
        alert["message"]["body"]
            .as_str()
            .unwrap()
            .contains(&receipt)
    );
    let sent: Vec<Value> = sent
        .into_iter()
        .filter(|m| m["audience"] == "customer")
        .collect();

    let placed = sent.iter().find(|m| template(m) == "order_placed").unwrap();
    let paid = sent
        .iter()
        .find(|m| template(m) == "payment_succeeded")
        .unwrap();
    for message in [placed, paid] {
        assert_eq!(message["channel"], "log");
        assert_eq!(message["audience"], "customer");
        assert_eq!(message["message"]["language"], "sw");
        assert_eq!(message["message"]["to"], "254712345678");
        let body = message["message"]["body"].as_str().unwrap();
        assert!(body.contains(&order), "{body}");
    }
    let placed_body = placed["message"]["body"].as_str().unwrap();
    assert!(
        placed_body.contains("Asante"),
        "not Kiswahili: {placed_body}"
    );
    assert!(
        placed_body.contains(&format!("/pay?order={order}")),
        "no link to pay: {placed_body}"
    );
    let paid_body = paid["message"]["body"].as_str().unwrap();
    assert!(paid_body.contains(&receipt), "no receipt: {paid_body}");

    // An order in English gets English.
    let english = place_order(&base, "0722 000 111", "en").await;
    let sent = messages_until(&server, &english, |items| {
        items.len() == 1 && items[0]["state"] == "sent"
    })
    .await;
    assert_eq!(sent[0]["message"]["language"], "en");
    server.shutdown().await.unwrap();
}

/// The variables that send SMS through `fake` (and the owner's alert by e-mail through
/// `smtp`, when given).
fn sms_vars(fake: &FakeAfricasTalking, smtp: Option<&FakeSmtp>) -> Vec<(String, String)> {
    let mut vars = vec![
        ("POCHI_NOTIFY_SMS_USERNAME", "kibanda".to_owned()),
        ("POCHI_NOTIFY_SMS_API_KEY", API_KEY.to_owned()),
        ("POCHI_NOTIFY_SMS_SENDER_ID", "KIBANDA".to_owned()),
        ("POCHI_NOTIFY_SMS_BASE_URL", fake.base_url()),
        ("POCHI_NOTIFY_SMS_CALLBACK_TOKEN", CALLBACK_TOKEN.to_owned()),
    ];
    if let Some(smtp) = smtp {
        vars.extend([
            ("POCHI_NOTIFY_SMTP_HOST", "127.0.0.1".to_owned()),
            ("POCHI_NOTIFY_SMTP_PORT", smtp.addr().port().to_string()),
            ("POCHI_NOTIFY_SMTP_TLS", "none".to_owned()),
            ("POCHI_NOTIFY_EMAIL_FROM", "shop@kibanda.example".to_owned()),
            (
                "POCHI_NOTIFY_OWNER",
                "email:owner@kibanda.example".to_owned(),
            ),
        ]);
    }
    vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

const API_KEY: &str = FakeAfricasTalking::API_KEY;
const CALLBACK_TOKEN: &str = "cb0123456789abcdef";

fn refs(vars: &[(String, String)]) -> Vec<(&str, &str)> {
    vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Waits until `fake` has received `count` SMS, or fails after 20 s; then waits `settle` more
/// and returns what it holds (a second copy would show then).
async fn sms_after(fake: &FakeAfricasTalking, count: usize, settle: Duration) -> Vec<String> {
    let start = Instant::now();
    while fake.received().len() < count {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "only {} of {count} SMS arrived: {:#?}",
            fake.received().len(),
            fake.received()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(settle).await;
    fake.received().into_iter().map(|m| m.message).collect()
}

#[tokio::test]
async fn placing_and_paying_sends_the_customer_sms_through_africas_talking_and_alerts_the_owner() {
    let fake = FakeAfricasTalking::start().await.unwrap();
    let smtp = FakeSmtp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &refs(&sms_vars(&fake, Some(&smtp)))).await;
    let base = server.base_url();

    let order = place_order(&base, "0712 345 678", "en").await;
    let receipt = pay(&base, &order).await;
    messages_until(&server, &order, |items| {
        items.len() == 3 && items.iter().all(|m| m["state"] == "sent")
    })
    .await;

    let sms = fake.received();
    assert_eq!(sms.len(), 2, "{sms:#?}");
    for message in &sms {
        assert_eq!(message.username, "kibanda");
        assert_eq!(message.to, "+254712345678");
        assert_eq!(message.from.as_deref(), Some("KIBANDA"));
        assert!(message.message.contains(&order), "{}", message.message);
    }
    assert!(
        sms[0].message.contains(&format!("/pay?order={order}")),
        "{}",
        sms[0].message
    );
    assert!(
        sms[1].message.contains(&receipt),
        "no receipt: {}",
        sms[1].message
    );

    let mail = smtp.received();
    assert_eq!(mail.len(), 1, "one alert for the owner: {mail:#?}");
    assert_eq!(mail[0].to, vec!["owner@kibanda.example".to_owned()]);
    assert!(mail[0].data.contains(&order) && mail[0].data.contains(&receipt));

    // The dashboard shows them sent, with the gateway's message id.
    let listed = messages(&server, &format!("order={order}&state=sent")).await;
    assert_eq!(listed.len(), 3);
    let by_sms: Vec<&Value> = listed.iter().filter(|m| m["channel"] == "sms").collect();
    assert!(
        by_sms.iter().all(|m| m["providerRef"].is_string()),
        "{by_sms:#?}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_customer_who_replies_stop_gets_no_more_sms() {
    let fake = FakeAfricasTalking::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &refs(&sms_vars(&fake, None))).await;
    let base = server.base_url();

    let order = place_order(&base, "0712 345 678", "sw").await;
    sms_after(&fake, 1, Duration::ZERO).await;

    let reply = |token: &str, text: &str| {
        Client::new()
            .post(format!("{base}/api/notify/sms/{token}/incoming"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs([
                        ("from", "+254712345678"),
                        ("to", "12345"),
                        ("text", text),
                        ("date", "2026-12-04 10:00:00"),
                        ("id", "ab12"),
                    ])
                    .finish(),
            )
            .send()
    };
    // Someone who does not know the callback token cannot opt anyone out.
    let wrong = reply("not-the-token-at-all", "STOP").await.unwrap();
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    let stop = reply(CALLBACK_TOKEN, " sitisha ").await.unwrap();
    assert_eq!(stop.status(), StatusCode::OK);

    pay(&base, &order).await;
    let items = messages_until(&server, &order, |items| items.len() == 2).await;
    let paid = items
        .iter()
        .find(|m| template(m) == "payment_succeeded")
        .unwrap();
    assert_eq!(paid["state"], "skipped", "{paid:#}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fake.received().len(), 1, "an SMS after STOP");

    // START opts back in.
    let start = reply(CALLBACK_TOKEN, "START").await.unwrap();
    assert_eq!(start.status(), StatusCode::OK);
    place_order(&base, "0712 345 678", "sw").await;
    sms_after(&fake, 2, Duration::ZERO).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_message_the_gateway_refuses_is_dead_and_the_dashboard_sends_it_again() {
    let fake = FakeAfricasTalking::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &refs(&sms_vars(&fake, None))).await;
    let base = server.base_url();

    fake.fail_next(1, Failure::InvalidNumber);
    let order = place_order(&base, "0712 345 678", "en").await;
    let items = messages_until(&server, &order, |items| {
        items.len() == 1 && items[0]["state"] == "dead"
    })
    .await;
    let id = items[0]["id"].as_str().unwrap();
    let error = items[0]["lastError"].as_str().unwrap();
    assert!(error.starts_with("invalid_recipient"), "{error}");
    assert!(
        !error.contains("712345678"),
        "the phone is in the error: {error}"
    );
    assert_eq!(messages(&server, "state=dead").await.len(), 1);

    let (user, password) = server.generated_admin().unwrap();
    let retry = |id: String| {
        Client::new()
            .post(format!("{base}/api/admin/messages/{id}/retry"))
            .basic_auth(user.clone(), Some(password.clone()))
            .send()
    };
    let response = retry(id.to_owned()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    messages_until(&server, &order, |items| items[0]["state"] == "sent").await;
    assert_eq!(fake.received().len(), 1);
    // A message that is not dead is not sent again.
    let again = retry(id.to_owned()).await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(body["error"]["details"]["reason"], "message_not_dead");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_server_killed_after_the_commit_and_before_the_send_delivers_once_after_restart() {
    let fake = FakeAfricasTalking::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut vars = sms_vars(&fake, None);
    // The dispatcher ran at start and not again for an hour: the order commits, its message
    // waits in the outbox, and the process dies before sending it.
    vars.push(("POCHI_NOTIFY_INTERVAL".to_owned(), "1h".to_owned()));
    let server = ChildServer::start(dir.path(), &refs(&vars));
    let order = place_order(&server.base_url, "0712 345 678", "en").await;
    server.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(fake.received().is_empty(), "sent before the kill");

    vars.retain(|(k, _)| k != "POCHI_NOTIFY_INTERVAL");
    vars.push(("POCHI_NOTIFY_INTERVAL".to_owned(), "200ms".to_owned()));
    let restarted = ChildServer::start(dir.path(), &refs(&vars));
    let sent = sms_after(&fake, 1, Duration::from_secs(2)).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(sent[0].contains(&order));
    drop(restarted);
}

/// Two server processes on one database, dispatching every 50 and every 70 ms (so neither's
/// ticks keep coming just before the other's), while orders arrive at both in waves: both
/// dispatch, and every message goes out exactly once.
async fn two_servers_never_send_twice(kind: &str) {
    let Some(db) = Db::fresh(kind).await else {
        return;
    };
    let fake = FakeAfricasTalking::start().await.unwrap();
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut vars = sms_vars(&fake, None);
    vars.push(("POCHI_DATABASE_URL".to_owned(), db.url().unwrap()));
    vars.push(("POCHI_NOTIFY_INTERVAL".to_owned(), "50ms".to_owned()));
    vars.push(("POCHI_OPEN_ORDERS_PER_ADDRESS".to_owned(), "off".to_owned()));
    let first = ChildServer::start(one.path(), &refs(&vars));
    vars.push(("POCHI_DEMO_PRODUCTS".to_owned(), "false".to_owned()));
    vars.push(("POCHI_NOTIFY_INTERVAL".to_owned(), "70ms".to_owned()));
    let second = ChildServer::start(two.path(), &refs(&vars));

    // The demo's four products hold at least six each. Six waves of four concurrent orders,
    // 120 ms apart: one server's dispatcher drains a whole backlog in one tick, so a single
    // burst could all go to whichever ticks first.
    const ORDERS: usize = 24;
    let mut orders = Vec::new();
    for wave in 0..ORDERS / 4 {
        let mut placing = tokio::task::JoinSet::new();
        for i in wave * 4..wave * 4 + 4 {
            let base = if i % 2 == 0 { &first } else { &second }.base_url.clone();
            placing.spawn(async move {
                place_order_of(&base, &format!("07{:08}", 10_000_000 + i), "en", i % 4).await
            });
        }
        while let Some(order) = placing.join_next().await {
            orders.push(order.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    let sent = sms_after(&fake, ORDERS, Duration::from_secs(2)).await;
    assert_eq!(sent.len(), ORDERS, "a message sent twice, or lost");
    for order in &orders {
        let copies = sent.iter().filter(|m| m.contains(order.as_str())).count();
        assert_eq!(copies, 1, "{order} sent {copies} times");
    }
    // Both dispatched, and neither wrote a phone number or a message's text to its logs.
    for server in [&first, &second] {
        let logs = server.logs().join("\n");
        assert!(logs.contains("notifications dispatched"), "{logs}");
        assert!(
            !logs.contains("2547100"),
            "a phone number in the logs:\n{logs}"
        );
        assert!(
            !logs.contains(&sent[0]),
            "a message's text in the logs:\n{logs}"
        );
    }
    drop((first, second));
    db.drop_database().await;
}

#[tokio::test]
async fn two_servers_sharing_one_postgres_database_never_send_a_message_twice() {
    two_servers_never_send_twice("postgres").await;
}

#[tokio::test]
async fn two_servers_sharing_one_mariadb_database_never_send_a_message_twice() {
    two_servers_never_send_twice("mysql").await;
}

#[tokio::test]
async fn the_owners_own_text_is_what_the_next_customer_gets() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]).await;
    let base = server.base_url();
    let (user, password) = server.generated_admin().unwrap();
    let save = |templates: Value| {
        Client::new()
            .post(format!("{base}/api/admin/settings"))
            .basic_auth(user.clone(), Some(password.clone()))
            .json(&json!({
                "storeName": "Duka la Mama",
                "defaultDeliveryFee": "0",
                "notificationTemplates": templates,
            }))
            .send()
    };

    let refused = save(json!([{ "name": "order_placed", "language": "en", "text": "Hi {pone}" }]))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["field"], "notificationTemplates[0].text");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("{pone}")
    );

    let saved = save(json!([{
        "name": "order_placed", "language": "en", "text": "{shop} got {order}. Pay at {link}",
    }]))
    .await
    .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);

    let order = place_order(&base, "0712 345 678", "en").await;
    let sent = messages_until(&server, &order, |items| items.len() == 1).await;
    assert_eq!(
        sent[0]["message"]["body"],
        format!("Duka la Mama got {order}. Pay at {base}/pay?order={order}")
    );

    // The editor sees it as changed, with the default beside it and its SMS length.
    let templates: Value = Client::new()
        .get(format!("{base}/api/admin/messages/templates"))
        .basic_auth(user.clone(), Some(password.clone()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let placed_en = templates
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "order_placed" && t["language"] == "en")
        .unwrap();
    assert_eq!(placed_en["overridden"], true);
    assert_eq!(placed_en["sms"]["segments"], 1);
    assert!(
        placed_en["defaultText"]
            .as_str()
            .unwrap()
            .contains("Thank you")
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn money_sent_back_reaches_the_customer_by_sms_once_in_their_language() {
    // Given a Kiswahili customer's paid order, cancelled by the shop
    let fake = FakeAfricasTalking::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &refs(&sms_vars(&fake, None))).await;
    let base = server.base_url();
    let order = place_order(&base, "0712 345 678", "sw").await;
    pay(&base, &order).await;
    let (status, body) = as_admin(
        &server,
        reqwest::Method::PUT,
        &format!("/api/orders/{order}/status"),
        json!({"status": "cancelled"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sms_after(&fake, 3, Duration::ZERO).await;
    let (_, owed) = as_admin(
        &server,
        reqwest::Method::GET,
        "/api/admin/refunds?status=owed",
        Value::Null,
    )
    .await;
    let refund = owed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["orderNumber"] == json!(order))
        .expect("the cancelled order's payment is owed back");
    let (id, amount) = (
        refund["id"].as_str().unwrap().to_owned(),
        refund["amount"]["amount"].as_str().unwrap().to_owned(),
    );

    // When the owner records the money sent back, and records it again by mistake
    let path = format!("/api/admin/refunds/{id}/refunded");
    let (status, body) = as_admin(
        &server,
        reqwest::Method::POST,
        &path,
        json!({"reference": "SLK4H7Q2XZ"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (again, _) = as_admin(
        &server,
        reqwest::Method::POST,
        &path,
        json!({"reference": "SLK4H7Q2XZ"}),
    )
    .await;
    assert_eq!(again, StatusCode::CONFLICT);

    // Then the customer gets one SMS, in Kiswahili, with the amount and M-Pesa's reference
    let sms = sms_after(&fake, 4, Duration::from_secs(3)).await;
    assert_eq!(sms.len(), 4, "{sms:#?}");
    let refunded = &sms[3];
    assert!(refunded.contains("Tumekurudishia"), "{refunded}");
    assert!(refunded.contains("SLK4H7Q2XZ"), "{refunded}");
    assert!(refunded.contains(&format!("KES {amount}")), "{refunded}");
    assert!(
        refunded.contains(&format!("/track?order={order}")),
        "{refunded}"
    );
    let listed = messages_until(&server, &order, |items| {
        items
            .iter()
            .any(|m| template(m) == "refund_sent" && m["state"] == "sent")
    })
    .await;
    assert_eq!(
        listed
            .iter()
            .filter(|m| template(m) == "refund_sent")
            .count(),
        1
    );
    server.shutdown().await.unwrap();
}
