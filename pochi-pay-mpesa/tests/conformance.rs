//! The payment-provider suite of pochi-testkit, run on the M-Pesa provider against the fake
//! Daraja.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::sync::Arc;

use pochi_core::CallbackToken;
use pochi_pay_mpesa::{MpesaProvider, fake::FakeDaraja};
use pochi_testkit::{ProviderUnderTest, provider_conformance_tests};

async fn mpesa() -> ProviderUnderTest {
    let fake = FakeDaraja::start().await.unwrap();
    let config = fake
        .config_builder()
        .with_callback_base_url("http://127.0.0.1:9")
        .with_callback_token(&CallbackToken::parse("test-callback-token-01").unwrap())
        .with_c2b(true)
        .build()
        .unwrap();
    ProviderUnderTest {
        provider: Arc::new(MpesaProvider::new(config).unwrap()),
        phone: Some("0708374149".into()),
        code: None,
        channels: vec![
            "stk".into(),
            "c2b-validation".into(),
            "c2b-confirmation".into(),
        ],
        guard: Some(Box::new(fake)),
    }
}

provider_conformance_tests!(mpesa);
