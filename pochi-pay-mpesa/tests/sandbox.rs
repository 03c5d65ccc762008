//! A live test against Safaricom's Daraja sandbox. It is marked ignored, with its reason, so a
//! plain `cargo test` reports it as not run instead of passing it silently; run it with
//! `cargo test -p pochi-pay-mpesa --test sandbox -- --ignored` and these variables (it fails,
//! saying which, when the credentials are missing):
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

mod common;

use std::time::Duration;

use common::{request, stk_payment};
use pochi_core::{CallbackToken, Msisdn, PaymentProvider, QueryAnswer};
use pochi_pay_mpesa::{Environment, MpesaConfig, MpesaProvider};

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[tokio::test]
#[ignore = "live Daraja sandbox: set POCHI_MPESA_SANDBOX_CONSUMER_KEY and \
            POCHI_MPESA_SANDBOX_CONSUMER_SECRET, then run with --ignored"]
async fn a_sandbox_push_is_accepted_and_can_be_queried() {
    let (Some(key), Some(secret)) = (
        var("POCHI_MPESA_SANDBOX_CONSUMER_KEY"),
        var("POCHI_MPESA_SANDBOX_CONSUMER_SECRET"),
    ) else {
        panic!(
            "the live Daraja sandbox test needs POCHI_MPESA_SANDBOX_CONSUMER_KEY and \
             POCHI_MPESA_SANDBOX_CONSUMER_SECRET (a Daraja sandbox app with M-Pesa Express)"
        );
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

    let mut push = request("1");
    push.phone = Some(Msisdn::parse(&phone).unwrap());
    push.account_reference = "POCHITEST".into();
    let started = provider.start(&push).await.unwrap();
    let reference = started.reference.unwrap();
    assert!(reference.starts_with("ws_CO_"));

    tokio::time::sleep(Duration::from_secs(5)).await;
    match provider.query(&stk_payment(&reference)).await.unwrap() {
        QueryAnswer::Pending => println!("sandbox push still being processed"),
        QueryAnswer::Final(result) => println!(
            "sandbox push result {}",
            result.result_code.unwrap_or_default()
        ),
        other => panic!("unexpected answer {other:?}"),
    }
}
