//! A live test against Safaricom's Daraja sandbox. It runs only when sandbox credentials are
//! set, and otherwise prints why it was skipped:
//!
//! - `POCHI_MPESA_SANDBOX_CONSUMER_KEY`, `POCHI_MPESA_SANDBOX_CONSUMER_SECRET`: a Daraja
//!   sandbox app with M-Pesa Express (required);
//! - `POCHI_MPESA_SANDBOX_PHONE`: the phone to push to (default the sandbox test MSISDN
//!   254708374149);
//! - `POCHI_MPESA_SANDBOX_CALLBACK_BASE_URL`: where the sandbox posts the result (default
//!   `https://example.com`; the test only queries).
//!
//! It uses the public sandbox paybill 174379 and its passkey. Sandbox debits are reversed by
//! Safaricom the next day.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::time::Duration;

use pochi_core::{CallbackToken, Currency, Money, Msisdn};
use pochi_pay_mpesa::{Environment, MpesaConfig, MpesaProvider, StkPush, StkQueryAnswer};

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[tokio::test]
async fn a_sandbox_push_is_accepted_and_can_be_queried() {
    let (Some(key), Some(secret)) = (
        var("POCHI_MPESA_SANDBOX_CONSUMER_KEY"),
        var("POCHI_MPESA_SANDBOX_CONSUMER_SECRET"),
    ) else {
        println!(
            "skipped: set POCHI_MPESA_SANDBOX_CONSUMER_KEY and POCHI_MPESA_SANDBOX_CONSUMER_SECRET \
             to run the live Daraja sandbox test"
        );
        return;
    };
    let phone = var("POCHI_MPESA_SANDBOX_PHONE").unwrap_or_else(|| "254708374149".into());
    let base = var("POCHI_MPESA_SANDBOX_CALLBACK_BASE_URL")
        .unwrap_or_else(|| "https://example.com".into());
    let config = MpesaConfig::builder()
        .with_environment(Environment::Sandbox)
        .with_public_sandbox_paybill()
        .with_credentials(key, secret)
        .with_callback_base_url(base)
        .with_callback_token(&CallbackToken::parse("sandbox-test-token-01").unwrap())
        .build()
        .unwrap();
    let provider = MpesaProvider::new(config).unwrap();

    let push = StkPush::new(
        Msisdn::parse(&phone).unwrap(),
        Money::parse("1", Currency::Kes).unwrap(),
        "POCHITEST",
        "Order payment",
    )
    .unwrap();
    let accepted = provider.stk_push(&push).await.unwrap();
    assert!(accepted.checkout_request_id.starts_with("ws_CO_"));

    tokio::time::sleep(Duration::from_secs(5)).await;
    match provider
        .stk_query(&accepted.checkout_request_id)
        .await
        .unwrap()
    {
        StkQueryAnswer::Pending => println!("sandbox push still being processed"),
        StkQueryAnswer::Final { result_code, .. } => println!("sandbox push result {result_code}"),
        other => panic!("unexpected answer {other:?}"),
    }
}
