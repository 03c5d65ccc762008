//! The provider against the fake Daraja over loopback, through its public surface (the
//! `PaymentProvider` trait and `register_c2b_urls`): the token manager, Daraja's refusals and
//! how they map to `pochi_core::Error`, timeouts, and STK query answers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

mod common;

use std::{sync::Arc, time::Duration};

use common::{TOKEN, request, stk_payment};
use pochi_core::{
    CallbackToken, Error, ManualClock, PaymentKind, PaymentProvider, PaymentStatus, ProviderResult,
    QueryAnswer,
};
use pochi_pay_mpesa::{
    Business, C2bVersion, Environment, GatewayError, MpesaConfig, MpesaConfigBuilder,
    MpesaProvider, ShortCode,
    fake::{FakeDaraja, FakeOptions, PushOutcome},
};
use time::macros::datetime;
use tokio::net::TcpListener;

struct Setup {
    fake: FakeDaraja,
    provider: MpesaProvider,
    clock: Arc<ManualClock>,
}

async fn setup(options: impl FnOnce(&mut FakeOptions)) -> Setup {
    setup_with(options, |b| b).await
}

async fn setup_with(
    options: impl FnOnce(&mut FakeOptions),
    config: impl FnOnce(MpesaConfigBuilder) -> MpesaConfigBuilder,
) -> Setup {
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 07:00 UTC)));
    let fake = FakeDaraja::builder()
        .configure(options)
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let builder = fake
        .config_builder()
        .with_callback_base_url("http://127.0.0.1:9")
        .with_callback_token(&CallbackToken::parse(TOKEN).unwrap())
        .with_c2b(true);
    let provider =
        MpesaProvider::with_clock(config(builder).build().unwrap(), clock.clone()).unwrap();
    Setup {
        fake,
        provider,
        clock,
    }
}

/// The Daraja error a provider error carries as its source.
fn gateway_error(err: &Error) -> Option<&GatewayError> {
    std::error::Error::source(err)?.downcast_ref()
}

#[tokio::test]
async fn twenty_concurrent_callers_share_one_token_fetch() {
    // Given a provider that has no token yet
    let Setup { fake, provider, .. } = setup(|_| {}).await;

    // When 20 tasks call Daraja at once
    let calls = (0..20).map(|_| {
        let provider = provider.clone();
        tokio::spawn(async move { provider.register_c2b_urls().await })
    });
    let results = futures::future::join_all(calls).await;

    // Then all succeed with one token, fetched once
    assert!(results.into_iter().all(|r| r.unwrap().is_ok()));
    assert_eq!(fake.token_fetches(), 1);
}

#[tokio::test]
async fn the_token_is_replaced_shortly_before_it_expires() {
    // Given a token issued for 3599 s, replaced 60 s before expiry
    let Setup {
        fake,
        provider,
        clock,
    } = setup(|_| {}).await;
    provider.register_c2b_urls().await.unwrap();
    assert_eq!(fake.token_fetches(), 1);

    // When time passes to just before the refresh point, the token is reused
    clock.advance(Duration::from_secs(3538));
    provider.register_c2b_urls().await.unwrap();
    assert_eq!(fake.token_fetches(), 1);

    // And past it (while the old token would still be valid), a new one is fetched first
    clock.advance(Duration::from_secs(2));
    provider.register_c2b_urls().await.unwrap();
    assert_eq!(fake.token_fetches(), 2);
}

#[tokio::test]
async fn an_expired_token_is_never_sent() {
    let Setup {
        fake,
        provider,
        clock,
    } = setup(|o| o.token_lifetime_secs = 120).await;
    provider.register_c2b_urls().await.unwrap();
    clock.advance(Duration::from_secs(121));
    provider.register_c2b_urls().await.unwrap();
    assert_eq!(fake.token_fetches(), 2);
}

#[tokio::test]
async fn expires_in_as_a_string_is_understood() {
    let Setup {
        fake,
        provider,
        clock,
    } = setup(|o| o.expires_in_as_string = true).await;
    provider.register_c2b_urls().await.unwrap();
    clock.advance(Duration::from_secs(3000));
    provider.register_c2b_urls().await.unwrap();
    assert_eq!(fake.token_fetches(), 1);
}

#[tokio::test]
async fn a_refused_token_is_dropped_and_refetched_once() {
    // Given a cached token that Daraja stopped accepting (another instance fetched a new one)
    let Setup { fake, provider, .. } = setup(|_| {}).await;
    provider.register_c2b_urls().await.unwrap();
    fake.revoke_token();

    // When the provider calls again, it fetches a new token and retries once
    let answer = provider.register_c2b_urls().await;

    // Then the call succeeds with exactly one more fetch
    assert!(answer.is_ok(), "{answer:?}");
    assert_eq!(fake.token_fetches(), 2);
}

#[tokio::test]
async fn a_token_refused_twice_is_an_error_without_a_loop() {
    let Setup { fake, provider, .. } = setup(|_| {}).await;
    fake.refuse_all_tokens(true);
    let err = provider.register_c2b_urls().await.unwrap_err();
    assert_eq!(
        err,
        GatewayError::InvalidToken {
            code: "404.001.03".into()
        }
    );
    assert_eq!(fake.token_fetches(), 2);
}

#[tokio::test]
async fn a_failed_token_fetch_is_not_cached() {
    let Setup { fake, provider, .. } = setup(|_| {}).await;
    fake.fail_next_token_fetches(1);
    let err = provider.register_c2b_urls().await.unwrap_err();
    assert!(
        matches!(err, GatewayError::Rejected { status: 500, .. }),
        "{err:?}"
    );
    provider.register_c2b_urls().await.unwrap();
    assert_eq!(fake.token_fetches(), 2);
}

#[tokio::test]
async fn wrong_consumer_credentials_are_refused_by_oauth() {
    let Setup {
        provider,
        fake: _fake,
        ..
    } = setup_with(
        |_| {},
        |b| b.with_credentials("fake-consumer-key", "not-the-secret"),
    )
    .await;
    let err = provider.register_c2b_urls().await.unwrap_err();
    assert!(
        matches!(&err, GatewayError::Rejected { code, .. } if code == "400.008.01"),
        "{err:?}"
    );
    assert!(!err.to_string().contains("not-the-secret"));
}

#[tokio::test]
async fn a_wrong_passkey_is_wrong_credentials_and_fails_the_attempt() {
    let Setup {
        provider,
        fake: _fake,
        ..
    } = setup_with(|_| {}, |b| b.with_passkey("not-the-passkey")).await;
    let err = provider.start(&request("10")).await.unwrap_err();
    assert_eq!(gateway_error(&err), Some(&GatewayError::WrongCredentials));
    assert!(
        matches!(
            err,
            Error::PaymentProvider {
                retryable: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains("not-the-passkey"));
}

#[tokio::test]
async fn an_unknown_shortcode_is_merchant_does_not_exist() {
    let Setup {
        provider,
        fake: _fake,
        ..
    } = setup_with(
        |_| {},
        |b| b.with_paybill(ShortCode::parse("600999").unwrap()),
    )
    .await;
    let err = provider.start(&request("10")).await.unwrap_err();
    assert_eq!(
        gateway_error(&err),
        Some(&GatewayError::MerchantDoesNotExist)
    );
}

#[tokio::test]
async fn a_second_push_to_a_busy_phone_is_declined_for_the_customer() {
    // Given an open push to the phone
    let Setup { fake, provider, .. } = setup(|_| {}).await;
    let first = provider.start(&request("10")).await.unwrap();
    assert_eq!(first.status, PaymentStatus::Pending);

    // When another push goes to the same phone
    let err = provider.start(&request("10")).await.unwrap_err();

    // Then the customer is told to finish the open one; once it is answered, pushes go again
    assert!(
        matches!(&err, Error::PaymentDeclined { code, .. } if code == "500.001.1001"),
        "{err:?}"
    );
    fake.resolve(first.reference.as_deref().unwrap(), PushOutcome::Cancelled)
        .await
        .ok();
    assert!(provider.start(&request("10")).await.is_ok());
}

#[tokio::test]
async fn amounts_out_of_range_fail_before_any_network_call() {
    let Setup { fake, provider, .. } = setup(|_| {}).await;
    for amount in ["0", "250001", "10.50"] {
        let err = provider.start(&request(amount)).await.unwrap_err();
        assert_eq!(err.field(), Some("amount"), "{amount}");
    }
    let mut no_phone = request("10");
    no_phone.phone = None;
    assert_eq!(
        provider.start(&no_phone).await.unwrap_err().field(),
        Some("phone")
    );
    assert_eq!(fake.token_fetches(), 0);
    assert!(fake.pushes().is_empty());
}

#[tokio::test]
async fn a_push_records_what_daraja_needs() {
    let Setup { fake, provider, .. } = setup(|_| {}).await;
    let started = provider.start(&request("1500")).await.unwrap();
    let id = started.reference.unwrap();
    assert!(id.starts_with("ws_CO_"), "{id}");
    let push = fake.push(&id).unwrap();
    assert_eq!(push.amount, 1500);
    assert_eq!(
        (push.party_a.as_str(), push.phone.as_str()),
        ("254708374149", "254708374149")
    );
    assert_eq!(push.party_b, "174379");
    assert_eq!(push.account_reference, "7K3M9QXA2B");
    assert_eq!(push.description, "Order payment");
    assert_eq!(
        push.callback_url,
        format!("http://127.0.0.1:9/api/pay/callbacks/stk/{TOKEN}")
    );
    assert!(!push.misrouted);
}

#[tokio::test]
async fn a_till_push_goes_to_the_till_from_the_store_number() {
    let till = |o: &mut FakeOptions| {
        o.business = Business::Till {
            store_number: ShortCode::parse("300300").unwrap(),
            till_number: ShortCode::parse("5123456").unwrap(),
        };
    };
    let Setup { fake, provider, .. } = setup(till).await;
    let id = provider
        .start(&request("10"))
        .await
        .unwrap()
        .reference
        .unwrap();
    let push = fake.push(&id).unwrap();
    assert_eq!(push.business_short_code, "300300");
    assert_eq!(push.party_b, "5123456");
    assert!(!push.misrouted);
}

#[tokio::test]
async fn stk_query_answers_pending_then_the_result() {
    for empty_result_while_pending in [false, true] {
        let Setup { fake, provider, .. } =
            setup(|o| o.pending_query_empty_result = empty_result_while_pending).await;
        let id = provider
            .start(&request("10"))
            .await
            .unwrap()
            .reference
            .unwrap();
        let payment = stk_payment(&id);
        assert_eq!(
            provider.query(&payment).await.unwrap(),
            QueryAnswer::Pending
        );
        fake.resolve(&id, PushOutcome::Cancelled).await.ok();
        assert_eq!(
            provider.query(&payment).await.unwrap(),
            QueryAnswer::Final(ProviderResult {
                result_code: Some("1032".into()),
                result_description: Some("Request cancelled by user".into()),
                ..ProviderResult::with_status(PaymentStatus::Cancelled)
            })
        );
    }
}

#[tokio::test]
async fn query_maps_final_answers_to_results() {
    let Setup { fake, provider, .. } = setup(|_| {}).await;
    let started = provider.start(&request("10")).await.unwrap();
    let id = started.reference.clone().unwrap();
    let mut payment = stk_payment(&id);
    assert_eq!(
        provider.query(&payment).await.unwrap(),
        QueryAnswer::Pending
    );
    fake.resolve(&id, PushOutcome::Unreachable).await.ok();
    let QueryAnswer::Final(result) = provider.query(&payment).await.unwrap() else {
        panic!("expected a final answer");
    };
    assert_eq!(result.status, Some(PaymentStatus::TimedOut));
    assert_eq!(result.result_code.as_deref(), Some("1037"));
    payment.provider_reference = None;
    assert_eq!(
        provider.query(&payment).await.unwrap(),
        QueryAnswer::Pending
    );
    payment.kind = PaymentKind::C2b;
    assert_eq!(
        provider.query(&payment).await.unwrap(),
        QueryAnswer::Unsupported
    );
}

#[tokio::test]
async fn c2b_urls_register_with_the_configured_version_only() {
    let Setup { fake, provider, .. } = setup(|_| {}).await;
    let answer = provider.register_c2b_urls().await.unwrap();
    assert_eq!(answer.message, "Success");
    let urls = fake.registered_urls().unwrap();
    assert_eq!(urls.version, C2bVersion::V2);
    assert_eq!(urls.response_type, "Completed");
    assert!(
        urls.confirmation_url
            .ends_with(&format!("/c2b-confirmation/{TOKEN}"))
    );

    let Setup {
        provider,
        fake: _fake,
        ..
    } = setup_with(|_| {}, |b| b.with_c2b_version(C2bVersion::V1)).await;
    let err = provider.register_c2b_urls().await.unwrap_err();
    assert_eq!(
        err,
        GatewayError::InvalidToken {
            code: "401.003.01".into()
        }
    );
}

/// A server that accepts connections and never answers.
async fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    url
}

fn config_for(base_url: String) -> MpesaConfig {
    MpesaConfig::builder()
        .with_environment(Environment::Custom(base_url))
        .with_public_sandbox_paybill()
        .with_credentials("key", "secret")
        .with_callback_base_url("http://127.0.0.1:9")
        .with_callback_token(&CallbackToken::parse(TOKEN).unwrap())
        .with_timeouts(Duration::from_secs(1), Duration::from_secs(1))
        .build()
        .unwrap()
}

#[tokio::test]
async fn no_answer_in_time_is_a_retryable_error_with_unknown_outcome() {
    let provider = MpesaProvider::new(config_for(silent_server().await)).unwrap();
    let err = provider.start(&request("10")).await.unwrap_err();
    assert_eq!(gateway_error(&err), Some(&GatewayError::Timeout));
    assert!(
        matches!(
            err,
            Error::PaymentProvider {
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_sent_nothing_and_is_not_retryable() {
    // Bind then drop a listener so the port is closed.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let provider = MpesaProvider::new(config_for(format!("http://127.0.0.1:{port}"))).unwrap();
    let err = provider.start(&request("10")).await.unwrap_err();
    assert_eq!(gateway_error(&err), Some(&GatewayError::Connect));
    assert!(
        matches!(
            err,
            Error::PaymentProvider {
                retryable: false,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_provider_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>(_: &T) {}
    let Setup {
        provider,
        fake: _fake,
        ..
    } = setup(|_| {}).await;
    assert_send_sync(&provider);
    assert_eq!(provider.name(), "mpesa");
    assert_eq!(provider.precision(), 0);
    for channel in ["stk", "c2b-validation", "c2b-confirmation"] {
        assert!(provider.handles_channel(channel), "{channel}");
    }
    assert!(!provider.handles_channel("manual"));
    assert!(!format!("{provider:?}").contains("fake-consumer-secret"));
}

#[tokio::test]
async fn without_c2b_only_the_stk_channel_is_read() {
    let Setup {
        provider,
        fake: _fake,
        ..
    } = setup_with(|_| {}, |b| b.with_c2b(false)).await;
    assert!(!provider.config().c2b());
    assert!(provider.handles_channel("stk"));
    for channel in ["c2b-validation", "c2b-confirmation"] {
        assert!(!provider.handles_channel(channel), "{channel}");
    }
    // Off unless asked for
    let provider = MpesaProvider::new(config_for("http://127.0.0.1:9".into())).unwrap();
    assert!(!provider.handles_channel("c2b-confirmation"));
}

#[tokio::test]
async fn replies_follow_the_channel_daraja_expects() {
    let provider = MpesaProvider::new(config_for("http://127.0.0.1:9".into())).unwrap();
    let body = |channel, reply| provider.reply(channel, reply).body;
    assert_eq!(
        body("stk", pochi_core::NoticeReply::Ack),
        r#"{"ResultCode":0,"ResultDesc":"Accepted"}"#
    );
    assert_eq!(
        body("c2b-confirmation", pochi_core::NoticeReply::Ack),
        r#"{"ResultCode":0,"ResultDesc":"Success"}"#
    );
    assert_eq!(
        body("c2b-validation", pochi_core::NoticeReply::Accept),
        r#"{"ResultCode":"0","ResultDesc":"Accepted"}"#
    );
    assert_eq!(
        body(
            "c2b-validation",
            pochi_core::NoticeReply::Reject(pochi_core::RejectReason::UnknownAccount)
        ),
        r#"{"ResultCode":"C2B00012","ResultDesc":"Rejected"}"#
    );
    assert_eq!(
        body(
            "c2b-validation",
            pochi_core::NoticeReply::Reject(pochi_core::RejectReason::WrongAmount)
        ),
        r#"{"ResultCode":"C2B00013","ResultDesc":"Rejected"}"#
    );
}

/// A provider configured without STK pushes (a shop that only checks codes) refuses to start
/// one, asking Daraja nothing.
#[tokio::test]
async fn a_provider_without_stk_pushes_refuses_to_start_one() {
    use pochi_core::PaymentProvider;
    let fake = pochi_pay_mpesa::fake::FakeDaraja::start().await.unwrap();
    let config = fake
        .config_builder()
        .with_stk_push(false)
        .with_callback_base_url("https://duka.example.co.ke")
        .with_callback_token(&pochi_core::CallbackToken::parse("test-callback-token-01").unwrap())
        .build()
        .unwrap();
    let provider = pochi_pay_mpesa::MpesaProvider::new(config).unwrap();
    let request = pochi_core::PaymentRequest {
        payment_id: pochi_core::PaymentId::parse("2b0e4c1a-6a47-4d8e-9a53-0d9f4c3b1e7a").unwrap(),
        order_number: pochi_core::OrderNumber::parse("POCHI-7K3M9QXA2B").unwrap(),
        account_reference: "7K3M9QXA2B".into(),
        description: "Order payment".into(),
        amount: pochi_core::Money::parse("10", pochi_core::Currency::Kes).unwrap(),
        phone: Some(pochi_core::Msisdn::parse("0708374149").unwrap()),
        code: None,
    };
    let err = provider.start(&request).await.unwrap_err();
    assert_eq!(err.field(), Some("method"), "{err:?}");
    assert!(fake.pushes().is_empty());
}
