//! The fake Daraja speaks Daraja's rules and envelopes: checked with raw HTTP, as any client
//! would see them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

mod common;

use std::{sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use pochi_core::{MemoryStore, OrderStatus, PaymentInput};
use pochi_pay_mpesa::fake::{
    AutoResolve, FAKE_CONSUMER_KEY, FAKE_CONSUMER_SECRET, FakeDaraja, PushOutcome, PushState,
};
use serde_json::{Value, json};

const PASSWORD_20210628092408: &str = "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGExZWQyYzkxOTIwMjEwNjI4MDkyNDA4";

async fn token(fake: &FakeDaraja) -> String {
    let basic = STANDARD.encode(format!("{FAKE_CONSUMER_KEY}:{FAKE_CONSUMER_SECRET}"));
    let answer: Value = reqwest::Client::new()
        .get(format!(
            "{}/oauth/v1/generate?grant_type=client_credentials",
            fake.base_url()
        ))
        .header("Authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["expires_in"], 3599);
    answer["access_token"].as_str().unwrap().to_owned()
}

fn push_body() -> Value {
    json!({
        "BusinessShortCode": 174379,
        "Password": PASSWORD_20210628092408,
        "Timestamp": "20210628092408",
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 1,
        "PartyA": 254708374149u64,
        "PartyB": 174379,
        "PhoneNumber": 254708374149u64,
        "CallBackURL": "https://duka.example.co.ke/api/pay/callbacks/stk/test-callback-token-01",
        "AccountReference": "7K3M9QXA2B",
        "TransactionDesc": "Order payment"
    })
}

async fn push(fake: &FakeDaraja, token: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/mpesa/stkpush/v1/processrequest",
            fake.base_url()
        ))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn refusal(fake: &FakeDaraja, token: &str, change: impl FnOnce(&mut Value)) -> (u16, String) {
    let mut body = push_body();
    change(&mut body);
    let (status, answer) = push(fake, token, &body).await;
    assert!(answer["requestId"].is_string(), "{answer}");
    (status, answer["errorMessage"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_valid_push_is_accepted_in_darajas_shape() {
    let fake = FakeDaraja::start().await.unwrap();
    let token = token(&fake).await;
    let (status, answer) = push(&fake, &token, &push_body()).await;
    assert_eq!(status, 200);
    assert_eq!(answer["ResponseCode"], "0");
    let id = answer["CheckoutRequestID"].as_str().unwrap();
    assert!(id.starts_with("ws_CO_"), "{id}");
    assert_eq!(fake.pending_pushes().len(), 1);
    assert_eq!(fake.pending_pushes()[0].checkout_request_id, id);
}

#[tokio::test]
async fn field_rules_answer_with_darajas_envelopes() {
    let fake = FakeDaraja::start().await.unwrap();
    let token = token(&fake).await;
    type Change = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(Change, u16, &str)> = vec![
        (
            Box::new(|b| b["Amount"] = json!("100.00")),
            400,
            "Bad Request - Invalid Amount",
        ),
        (
            Box::new(|b| b["Amount"] = json!(250_001)),
            400,
            "Bad Request - Invalid Amount",
        ),
        (
            Box::new(|b| b["Amount"] = json!(0)),
            400,
            "Bad Request - Invalid Amount",
        ),
        (
            Box::new(|b| b["PhoneNumber"] = json!(255712345678u64)),
            400,
            "Bad Request - Invalid PhoneNumber",
        ),
        (
            Box::new(|b| b["PartyA"] = json!("0712345678")),
            400,
            "Bad Request - Invalid PartyA",
        ),
        (
            Box::new(|b| b["CallBackURL"] = json!("https://duka.example.co.ke/mpesa/callback")),
            400,
            "Bad Request - Invalid CallBackURL",
        ),
        (
            Box::new(|b| b["AccountReference"] = json!("ABCDEFGHIJKLM")),
            400,
            "Bad Request - Invalid AccountReference",
        ),
        (
            Box::new(|b| b["TransactionDesc"] = Value::Null),
            400,
            "Bad Request - Invalid Remarks",
        ),
        (
            Box::new(|b| b["TransactionDesc"] = json!("Payment for order")),
            400,
            "Bad Request - Invalid Remarks",
        ),
        (
            Box::new(|b| b["TransactionType"] = json!("PayBill")),
            400,
            "Bad Request - Invalid TransactionType",
        ),
        (
            Box::new(|b| b["Timestamp"] = json!("2021-06-28")),
            400,
            "Bad Request - Invalid Timestamp",
        ),
        (
            Box::new(|b| b["BusinessShortCode"] = json!(600999)),
            500,
            "Merchant does not exist",
        ),
        // The body's timestamp differs from the one inside the password.
        (
            Box::new(|b| b["Timestamp"] = json!("20210628092409")),
            500,
            "Wrong credentials",
        ),
    ];
    for (change, status, message) in cases {
        assert_eq!(
            refusal(&fake, &token, change).await,
            (status, message.to_owned())
        );
    }
    assert!(fake.pushes().is_empty());
}

#[tokio::test]
async fn a_missing_content_type_reads_as_an_invalid_shortcode() {
    let fake = FakeDaraja::start().await.unwrap();
    let token = token(&fake).await;
    let response = reqwest::Client::new()
        .post(format!(
            "{}/mpesa/stkpush/v1/processrequest",
            fake.base_url()
        ))
        .bearer_auth(&token)
        .body(push_body().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["errorMessage"],
        "Bad Request - Invalid BusinessShortCode"
    );
}

#[tokio::test]
async fn a_new_token_invalidates_the_previous_one() {
    let fake = FakeDaraja::start().await.unwrap();
    let first = token(&fake).await;
    let second = token(&fake).await;
    let (status, answer) = push(&fake, &first, &push_body()).await;
    assert_eq!(
        (status, answer["errorCode"].as_str()),
        (404, Some("404.001.03"))
    );
    let (status, _) = push(&fake, &second, &push_body()).await;
    assert_eq!(status, 200);
    assert_eq!(fake.token_fetches(), 2);
}

#[tokio::test]
async fn a_get_on_a_post_api_is_method_not_allowed() {
    let fake = FakeDaraja::start().await.unwrap();
    let response = reqwest::get(format!(
        "{}/mpesa/stkpush/v1/processrequest",
        fake.base_url()
    ))
    .await
    .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["errorCode"], "405.001");
}

#[tokio::test]
async fn a_till_push_sent_as_a_paybill_fails_later_with_2028() {
    let fake = FakeDaraja::builder()
        .configure(|o| {
            o.business = pochi_pay_mpesa::Business::Till {
                store_number: pochi_pay_mpesa::ShortCode::parse("174379").unwrap(),
                till_number: pochi_pay_mpesa::ShortCode::parse("5123456").unwrap(),
            };
        })
        .start()
        .await
        .unwrap();
    let token = token(&fake).await;
    let (status, answer) = push(&fake, &token, &push_body()).await;
    assert_eq!(status, 200);
    let id = answer["CheckoutRequestID"].as_str().unwrap();
    assert!(fake.push(id).unwrap().misrouted);
    let resolution = fake
        .resolve_with(
            id,
            PushOutcome::Paid,
            pochi_pay_mpesa::fake::Delivery::lost(),
        )
        .await
        .unwrap();
    assert!(matches!(
        resolution.push.state,
        PushState::Resolved { ref result_code, receipt: None, .. } if result_code == "2028"
    ));
}

#[tokio::test]
async fn auto_mode_pays_every_push_and_signals_the_callback() {
    // Given a shop whose fake Daraja resolves every push as paid by itself
    let world = common::world(Arc::new(MemoryStore::new())).await;
    world.fake.set_auto(Some(AutoResolve::new(
        PushOutcome::Paid,
        Duration::from_millis(10),
    )));
    let order = world.order().await;

    // When a payment starts
    let payment = world
        .shop
        .start_payment(
            &PaymentInput {
                order_number: order.number.to_string(),
                ..PaymentInput::default()
            },
            None,
        )
        .await
        .unwrap()
        .into_payment();

    // Then the push is resolved and its callback delivered without any control call
    let id = payment.provider_reference.unwrap();
    let push = tokio::time::timeout(Duration::from_secs(10), world.fake.wait_until_resolved(&id))
        .await
        .unwrap();
    assert!(matches!(
        push.state,
        PushState::Resolved {
            receipt: Some(_),
            ..
        }
    ));
    tokio::time::timeout(Duration::from_secs(10), world.fake.wait_for_callbacks(1))
        .await
        .unwrap();
    assert_eq!(world.order_now(&order).await.status, OrderStatus::Paid);
}
