//! The M-Pesa provider for the configured mode: the real Daraja (sandbox or production), the
//! fake Daraja started in process and reached over loopback HTTP like the real one, or manual
//! codes (no API: the customer pays by hand and an admin verifies).

use std::sync::Arc;

use async_trait::async_trait;
use pochi_core::{
    CallbackToken, Language, ManualCodeProvider, Notice, NoticeReply, Notification, Payment,
    PaymentKind, PaymentProvider, PaymentRequest, ProviderReply, QueryAnswer, Result,
    StartedPayment,
};
use pochi_pay_mpesa::{CheckedManualCodes, MpesaProvider, fake::FakeDaraja};

use crate::{
    StartError,
    settings::{MpesaMode, Settings},
};

/// The provider name simulated M-Pesa payments carry, so the dashboard marks them as simulated
/// for as long as they are kept (even after the shop moves to real M-Pesa).
pub(crate) const SIMULATED_PROVIDER: &str = "mpesa_simulated";

/// The provider, and the fake it talks to in simulated mode. `own_url` is where this server
/// listens: the fake's callbacks go there.
pub(crate) async fn provider(
    settings: &Settings,
    own_url: &str,
    token: &CallbackToken,
) -> std::result::Result<(Arc<dyn PaymentProvider>, Option<FakeDaraja>), StartError> {
    if settings.mpesa_mode == MpesaMode::Manual {
        // Codes checked with Daraja's Transaction Status when the shop has the initiator
        // (`POCHI_MPESA_CHECK_CODES`), else verified by an admin alone.
        let provider: Arc<dyn PaymentProvider> = match &settings.mpesa {
            Some(builder) => {
                let config = builder
                    .clone()
                    .with_callback_token(token)
                    .build()
                    .map_err(|e| StartError::Mpesa(e.to_string()))?;
                let daraja =
                    MpesaProvider::new(config).map_err(|e| StartError::Mpesa(e.to_string()))?;
                Arc::new(CheckedManualCodes::new(daraja))
            }
            None => Arc::new(ManualCodeProvider::new()),
        };
        return Ok((provider, None));
    }
    let (config, fake) = match &settings.mpesa {
        Some(builder) => (
            builder
                .clone()
                .with_callback_token(token)
                .with_c2b(settings.c2b)
                .build(),
            None,
        ),
        None => {
            let fake = FakeDaraja::start().await.map_err(|source| StartError::Io {
                context: "starting the simulated M-Pesa",
                source,
            })?;
            let config = fake
                .config_builder()
                .with_callback_base_url(own_url)
                .with_callback_token(token)
                .with_c2b(settings.c2b)
                .build();
            (config, Some(fake))
        }
    };
    let config = config.map_err(|e| StartError::Mpesa(e.to_string()))?;
    let provider = MpesaProvider::new(config).map_err(|e| StartError::Mpesa(e.to_string()))?;
    let provider: Arc<dyn PaymentProvider> = match fake {
        Some(_) => Arc::new(Simulated(provider)),
        None => Arc::new(provider),
    };
    Ok((provider, fake))
}

/// M-Pesa against the fake Daraja: the real provider under another name, so that every
/// payment it records says it was simulated.
#[derive(Debug)]
struct Simulated(MpesaProvider);

#[async_trait]
impl PaymentProvider for Simulated {
    fn name(&self) -> &str {
        SIMULATED_PROVIDER
    }

    fn kind(&self) -> PaymentKind {
        self.0.kind()
    }

    fn precision(&self) -> u32 {
        self.0.precision()
    }

    fn handles_channel(&self, channel: &str) -> bool {
        self.0.handles_channel(channel)
    }

    async fn start(&self, request: &PaymentRequest) -> Result<StartedPayment> {
        self.0.start(request).await
    }

    fn interpret(&self, notification: &Notification) -> Result<Vec<Notice>> {
        self.0.interpret(notification)
    }

    async fn query(&self, payment: &Payment) -> Result<QueryAnswer> {
        self.0.query(payment).await
    }

    fn reply(&self, channel: &str, reply: NoticeReply) -> ProviderReply {
        self.0.reply(channel, reply)
    }

    fn callback_token(&self) -> Option<CallbackToken> {
        self.0.callback_token()
    }

    fn customer_message(&self, result_code: &str, language: Language) -> Option<String> {
        self.0.customer_message(result_code, language)
    }

    fn reads_mpesa_messages(&self) -> bool {
        self.0.reads_mpesa_messages()
    }

    fn sends_refunds(&self) -> bool {
        self.0.sends_refunds()
    }

    async fn send_refund(&self, request: &pochi_core::RefundRequest) -> Result<String> {
        self.0.send_refund(request).await
    }

    fn checks_transactions(&self) -> bool {
        self.0.checks_transactions()
    }

    async fn check_transaction(&self, query: &pochi_core::TransactionQuery) -> Result<String> {
        self.0.check_transaction(query).await
    }
}
