//! Reversal, B2C and Transaction Status against the fake Daraja over real sockets: the request,
//! Daraja's synchronous answer, and the asynchronous result received by a local HTTP listener
//! (as the shop's callback route will receive it) and parsed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    routing::post,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use pochi_core::{CallbackToken, Currency, ManualClock, Money, Msisdn, Receipt};
use pochi_pay_mpesa::{
    GatewayError, InitiatorChannel, InitiatorError, InitiatorResult, MpesaConfigBuilder,
    MpesaProvider, StatusSubject,
    fake::{
        C2bPayment, FAKE_CONSUMER_KEY, FAKE_CONSUMER_SECRET, FAKE_INITIATOR_NAME, FakeDaraja,
        InitiatorScript,
    },
    parse_initiator_result,
};
use serde_json::{Value, json};
use time::macros::datetime;
use tokio::{
    net::TcpListener,
    sync::{Mutex, mpsc},
};

const TOKEN: &str = "test-callback-token-01";

/// What the shop's callback route received: the channel and the body.
type Received = (String, Bytes);

struct World {
    fake: FakeDaraja,
    provider: MpesaProvider,
    host_url: String,
    received: Mutex<mpsc::UnboundedReceiver<Received>>,
}

async fn world() -> World {
    world_with(|b| b).await
}

async fn world_with(config: impl FnOnce(MpesaConfigBuilder) -> MpesaConfigBuilder) -> World {
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 07:00 UTC)));
    let fake = FakeDaraja::builder()
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let (sender, received) = mpsc::unbounded_channel();
    let app = Router::new()
        .route(
            "/api/pay/callbacks/{channel}/{token}",
            post(
                |State(sender): State<mpsc::UnboundedSender<Received>>,
                 Path((channel, _token)): Path<(String, String)>,
                 body: Bytes| async move {
                    let _ = sender.send((channel, body));
                    r#"{"ResultCode":0,"ResultDesc":"Accepted"}"#
                },
            ),
        )
        .with_state(sender);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let builder = fake
        .config_builder()
        .with_callback_base_url(&host_url)
        .with_callback_token(&CallbackToken::parse(TOKEN).unwrap())
        .with_timeouts(Duration::from_secs(1), Duration::from_secs(2));
    let provider =
        MpesaProvider::with_clock(config(builder).build().unwrap(), clock.clone()).unwrap();
    World {
        fake,
        provider,
        host_url,
        received: Mutex::new(received),
    }
}

impl World {
    /// A customer pays the shop KES `amount` directly (C2B); the fake now knows the receipt.
    async fn paid_receipt(&self, amount: u32) -> Receipt {
        let url = format!(
            "{}/api/pay/callbacks/c2b-confirmation/{TOKEN}",
            self.host_url
        );
        let delivery = self
            .fake
            .send_c2b_confirmation_to(&url, &C2bPayment::new(amount, "7K3M9QXA2B"))
            .await
            .unwrap();
        assert_eq!(self.next_callback().await.0, "c2b-confirmation");
        Receipt::parse(&delivery.trans_id).unwrap()
    }

    /// The next callback the shop received.
    async fn next_callback(&self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.received.lock().await.recv())
            .await
            .expect("no callback in 10 s")
            .expect("the listener stopped")
    }

    /// The next callback, which must be on `channel`, parsed.
    async fn result_on(&self, channel: InitiatorChannel) -> InitiatorResult {
        let (on, body) = self.next_callback().await;
        assert_eq!(on, channel.as_str());
        parse_initiator_result(&on, &body).unwrap()
    }
}

fn kes(amount: &str) -> Money {
    Money::parse(amount, Currency::Kes).unwrap()
}

fn phone() -> Msisdn {
    Msisdn::parse("0708374149").unwrap()
}

#[tokio::test]
async fn a_reversal_of_a_paid_receipt_is_accepted_and_its_result_arrives_on_the_result_url() {
    // Given a payment of KES 1500 the shop received
    let world = world().await;
    let receipt = world.paid_receipt(1500).await;

    // When the shop asks for its reversal
    let accepted = world
        .provider
        .request_reversal(&receipt, kes("1500"), "Order 7K3M cancelled")
        .await
        .unwrap();

    // Then Daraja accepted it, and the result names the request, a new transaction and the
    // reversed receipt
    assert!(accepted.conversation_id.starts_with("AG_"), "{accepted:?}");
    let result = world.result_on(InitiatorChannel::ReversalResult).await;
    assert!(result.is_success(), "{result:?}");
    assert_eq!(result.conversation_id, accepted.conversation_id);
    assert_eq!(
        result.originator_conversation_id,
        accepted.originator_conversation_id
    );
    let new = result.transaction_id.clone().unwrap();
    assert_ne!(new, receipt.as_str());
    assert_eq!(
        result.parameters.original_transaction_id.as_deref(),
        Some(receipt.as_str())
    );
    assert_eq!(result.parameters.amount, Some(kes("1500")));
    // And the request Daraja saw was a reversal to the shop's shortcode
    let request = &world.fake.initiator_requests()[0];
    assert_eq!(request.body["RecieverIdentifierType"], "11");
    assert_eq!(request.body["ReceiverParty"], "174379");
    assert!(world.fake.known_payment(receipt.as_str()).unwrap().reversed);
}

#[tokio::test]
async fn a_receipt_reverses_once_and_a_second_reversal_fails_with_r000001() {
    let world = world().await;
    let receipt = world.paid_receipt(800).await;
    world
        .provider
        .request_reversal(&receipt, kes("800"), "Refund")
        .await
        .unwrap();
    assert!(
        world
            .result_on(InitiatorChannel::ReversalResult)
            .await
            .is_success()
    );

    // When the same receipt is reversed again
    world
        .provider
        .request_reversal(&receipt, kes("800"), "Refund")
        .await
        .unwrap();

    // Then the second result refuses it
    let second = world.result_on(InitiatorChannel::ReversalResult).await;
    assert_eq!(second.result_code, "R000001");
    assert!(!second.is_success());
}

#[tokio::test]
async fn a_reversal_of_an_unknown_receipt_fails_with_r000002() {
    let world = world().await;
    world
        .provider
        .request_reversal(&Receipt::parse("UNKNOWN123").unwrap(), kes("10"), "Refund")
        .await
        .unwrap();
    let result = world.result_on(InitiatorChannel::ReversalResult).await;
    assert_eq!(
        (
            result.result_code.as_str(),
            result.result_description.as_str()
        ),
        ("R000002", "The OriginalTransactionID is invalid.")
    );
}

#[tokio::test]
async fn a_wrong_initiator_password_is_accepted_then_fails_with_2001() {
    // Given a shop whose initiator password is not the one M-Pesa holds
    let world = world_with(|b| b.with_initiator(FAKE_INITIATOR_NAME, "not-the-password")).await;
    let receipt = world.paid_receipt(500).await;

    // When it asks for a reversal
    world
        .provider
        .request_reversal(&receipt, kes("500"), "Refund")
        .await
        .unwrap();

    // Then the result says the initiator information is invalid, and nothing was reversed
    let result = world.result_on(InitiatorChannel::ReversalResult).await;
    assert_eq!(result.result_code, "2001");
    assert_eq!(
        result.result_description,
        "The initiator information is invalid."
    );
    assert!(!world.fake.known_payment(receipt.as_str()).unwrap().reversed);
}

#[tokio::test]
async fn a_b2c_payment_reports_its_receipt_and_amount_and_its_key_cannot_pay_twice() {
    let world = world().await;

    // When the shop sends KES 250 to the customer
    let accepted = world
        .provider
        .request_b2c(&phone(), kes("250"), "Refund of overpayment", "refund-0192")
        .await
        .unwrap();

    // Then the acceptance echoes its key, and the result names the payment
    assert_eq!(accepted.originator_conversation_id, "refund-0192");
    let result = world.result_on(InitiatorChannel::B2cResult).await;
    assert!(result.is_success(), "{result:?}");
    assert_eq!(result.parameters.amount, Some(kes("250")));
    let receipt = result.parameters.receipt.clone().unwrap();
    assert_eq!(result.transaction_id.as_deref(), Some(receipt.as_str()));
    assert!(result.parameters.completed_at.is_some());

    // And the same key again is refused before any money moves
    let err = world
        .provider
        .request_b2c(&phone(), kes("250"), "Refund of overpayment", "refund-0192")
        .await
        .unwrap_err();
    assert_eq!(err, InitiatorError::Gateway(GatewayError::DuplicateRequest));
    assert_eq!(world.fake.initiator_requests().len(), 1);
}

#[tokio::test]
async fn transaction_status_of_a_paid_receipt_reports_receipt_amount_completed_and_payer() {
    let world = world().await;
    let receipt = world.paid_receipt(1500).await;

    world
        .provider
        .request_transaction_status(&StatusSubject::Receipt(receipt.clone()), Some("pay-42"))
        .await
        .unwrap();

    let result = world.result_on(InitiatorChannel::StatusResult).await;
    assert!(result.is_success(), "{result:?}");
    assert_eq!(result.occasion.as_deref(), Some("pay-42"));
    let p = &result.parameters;
    assert_eq!(p.receipt.as_ref(), Some(&receipt));
    assert_eq!(p.amount, Some(kes("1500")));
    assert_eq!(p.transaction_status.as_deref(), Some("Completed"));
    assert!(
        p.debit_party_name
            .as_deref()
            .unwrap()
            .ends_with("NICHOLAS JOHN SONGOK"),
        "{p:?}"
    );
    assert!(p.completed_at.is_some());
}

#[tokio::test]
async fn transaction_status_finds_a_b2c_payment_by_its_key_and_refuses_an_unknown_receipt() {
    let world = world().await;
    world
        .provider
        .request_b2c(&phone(), kes("90"), "Refund", "refund-7")
        .await
        .unwrap();
    let paid = world.result_on(InitiatorChannel::B2cResult).await;

    world
        .provider
        .request_transaction_status(
            &StatusSubject::OriginatorConversationId("refund-7".to_owned()),
            None,
        )
        .await
        .unwrap();
    let status = world.result_on(InitiatorChannel::StatusResult).await;
    assert_eq!(status.parameters.receipt, paid.parameters.receipt);
    assert_eq!(status.parameters.amount, Some(kes("90")));

    world
        .provider
        .request_transaction_status(
            &StatusSubject::Receipt(Receipt::parse("UNKNOWN123").unwrap()),
            None,
        )
        .await
        .unwrap();
    let unknown = world.result_on(InitiatorChannel::StatusResult).await;
    assert_eq!(unknown.result_code, "R000002");
}

#[tokio::test]
async fn an_error_envelope_is_a_typed_gateway_error() {
    let world = world().await;
    world.fake.script_initiator(InitiatorScript::Envelope {
        status: 500,
        code: "500.003.02".to_owned(),
        message: "Error Occurred: Spike Arrest Violation".to_owned(),
    });
    let err = world
        .provider
        .request_b2c(&phone(), kes("10"), "Refund", "refund-1")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        InitiatorError::Gateway(GatewayError::RateLimited {
            code: "500.003.02".to_owned()
        })
    );
    assert!(!err.outcome_unknown());
    assert!(world.fake.initiator_requests().is_empty());
}

#[tokio::test]
async fn no_answer_in_time_is_a_timeout_whose_outcome_is_unknown() {
    let world = world().await;
    world.fake.script_initiator(InitiatorScript::NoAnswer);
    let err = world
        .provider
        .request_transaction_status(
            &StatusSubject::Receipt(Receipt::parse("UAB1CD2EF3").unwrap()),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err, InitiatorError::Gateway(GatewayError::Timeout));
    assert!(err.outcome_unknown());
    assert!(pochi_core::Error::from(err).is_retryable());
}

#[tokio::test]
async fn a_queue_timeout_is_posted_to_the_timeout_url() {
    let world = world().await;
    let receipt = world.paid_receipt(300).await;
    world.fake.script_initiator(InitiatorScript::QueueTimeout);

    let accepted = world
        .provider
        .request_reversal(&receipt, kes("300"), "Refund")
        .await
        .unwrap();

    let notice = world.result_on(InitiatorChannel::ReversalTimeout).await;
    assert!(notice.is_timeout());
    assert!(!notice.is_success());
    assert_eq!(notice.conversation_id, accepted.conversation_id);
    assert!(!world.fake.known_payment(receipt.as_str()).unwrap().reversed);
    let deliveries = world.fake.wait_for_initiator_deliveries(1).await;
    assert!(deliveries[0].queue_timeout);
}

#[tokio::test]
async fn a_scripted_failing_result_code_reaches_the_result_url() {
    let world = world().await;
    world.fake.script_initiator(InitiatorScript::FailResult {
        code: "1".to_owned(),
        description: "The balance is insufficient for the transaction.".to_owned(),
    });
    world
        .provider
        .request_b2c(&phone(), kes("10"), "Refund", "refund-2")
        .await
        .unwrap();
    let result = world.result_on(InitiatorChannel::B2cResult).await;
    assert_eq!(result.result_code, "1");
    assert_eq!(result.parameters.receipt, None);
}

#[tokio::test]
async fn a_refused_token_is_replaced_and_the_request_sent_once_more() {
    let world = world().await;
    let receipt = world.paid_receipt(100).await;
    world
        .provider
        .request_transaction_status(&StatusSubject::Receipt(receipt.clone()), None)
        .await
        .unwrap();
    world.fake.revoke_token();

    let again = world
        .provider
        .request_transaction_status(&StatusSubject::Receipt(receipt), None)
        .await;

    assert!(again.is_ok(), "{again:?}");
    assert_eq!(world.fake.token_fetches(), 2);
    assert_eq!(world.fake.initiator_requests().len(), 2);
}

#[tokio::test]
async fn bad_input_is_refused_before_any_request() {
    let world = world().await;
    let receipt = Receipt::parse("UAB1CD2EF3").unwrap();
    let fractional = world
        .provider
        .request_reversal(&receipt, kes("10.50"), "Refund")
        .await
        .unwrap_err();
    assert_eq!(fractional.field(), Some("amount"));
    let short = world
        .provider
        .request_reversal(&receipt, kes("10"), "x")
        .await
        .unwrap_err();
    assert_eq!(short.field(), Some("remarks"));
    assert_eq!(world.fake.token_fetches(), 0);

    let without = MpesaProvider::new(
        world
            .fake
            .config_builder()
            .with_callback_base_url(&world.host_url)
            .with_callback_token(&CallbackToken::parse(TOKEN).unwrap())
            .with_initiator("", "")
            .with_initiator_certificate_pem("")
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        without
            .request_reversal(&receipt, kes("10"), "Refund")
            .await
            .unwrap_err(),
        InitiatorError::NotConfigured
    );
}

/// A raw request, as any client would send it.
async fn raw(fake: &FakeDaraja, path: &str, body: &Value) -> (u16, Value) {
    let basic = STANDARD.encode(format!("{FAKE_CONSUMER_KEY}:{FAKE_CONSUMER_SECRET}"));
    let http = reqwest::Client::new();
    let token: Value = http
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
    let response = http
        .post(format!("{}{path}", fake.base_url()))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_fake_refuses_bad_fields_with_darajas_envelope() {
    let fake = FakeDaraja::start().await.unwrap();
    let reversal = json!({
        "Initiator": "testapi",
        "SecurityCredential": STANDARD.encode([7u8; 256]),
        "CommandID": "TransactionReversal",
        "TransactionID": "UAB1CD2EF3",
        "Amount": 100,
        "ReceiverParty": "174379",
        "RecieverIdentifierType": "11",
        "ResultURL": "https://duka.example.co.ke/api/pay/callbacks/reversal-result/t",
        "QueueTimeOutURL": "https://duka.example.co.ke/api/pay/callbacks/reversal-timeout/t",
        "Remarks": "Refund"
    });
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|b| b["RecieverIdentifierType"] = json!("4")),
            "Bad Request - Invalid RecieverIdentifierType",
        ),
        (
            Box::new(|b| b["Remarks"] = json!("x")),
            "Bad Request - Invalid Remarks",
        ),
        (
            Box::new(|b| b["SecurityCredential"] = json!("not base64!")),
            "Bad Request - Invalid SecurityCredential",
        ),
        (
            Box::new(|b| b["Amount"] = json!("10.50")),
            "Bad Request - Invalid Amount",
        ),
        (
            Box::new(|b| b["ResultURL"] = json!("https://duka.example.co.ke/mpesa/result")),
            "Bad Request - Invalid ResultURL",
        ),
        (
            Box::new(|b| b["CommandID"] = json!("Reversal")),
            "Bad Request - Invalid CommandID",
        ),
    ];
    for (change, message) in cases {
        let mut body = reversal.clone();
        change(&mut body);
        let (status, answer) = raw(&fake, "/mpesa/reversal/v1/request", &body).await;
        assert_eq!(
            (status, answer["errorMessage"].as_str()),
            (400, Some(message))
        );
        assert_eq!(answer["errorCode"], "400.002.02");
    }
    assert!(fake.initiator_requests().is_empty());
}
