//! The manual-code provider, for shops with no API access (a personal till).
//!
//! The customer pays by hand and submits the M-Pesa confirmation code; the attempt waits in
//! `pending_verification` until an admin verifies it or a C2B confirmation with the same code
//! arrives.

use async_trait::async_trait;

use crate::{
    error::{Error, Result},
    payment::{Payment, PaymentKind, PaymentStatus, Receipt},
    provider::{
        Notice, NoticeReply, Notification, PaymentProvider, PaymentRequest, ProviderReply,
        QueryAnswer, StartedPayment,
    },
};

/// Payments confirmed by a code the customer types.
#[derive(Debug, Clone)]
pub struct ManualCodeProvider {
    precision: u32,
}

impl ManualCodeProvider {
    /// The provider's name on payments.
    pub const NAME: &'static str = "manual";

    /// A provider for amounts in whole units (M-Pesa tills take whole shillings).
    pub fn new() -> Self {
        ManualCodeProvider { precision: 0 }
    }

    /// A provider that accepts amounts with up to `places` decimal places.
    pub fn with_precision(places: u32) -> Self {
        ManualCodeProvider { precision: places }
    }
}

impl Default for ManualCodeProvider {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl PaymentProvider for ManualCodeProvider {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn kind(&self) -> PaymentKind {
        PaymentKind::Manual
    }

    fn precision(&self) -> u32 {
        self.precision
    }

    fn handles_channel(&self, _channel: &str) -> bool {
        false
    }

    fn reads_mpesa_messages(&self) -> bool {
        true
    }

    async fn start(&self, request: &PaymentRequest) -> Result<StartedPayment> {
        let code = request
            .code
            .as_deref()
            .ok_or_else(|| Error::invalid("code", "enter the M-Pesa confirmation code"))?;
        let receipt = Receipt::parse(code).map_err(|e| e.at("code"))?;
        Ok(StartedPayment {
            reference: Some(receipt.as_str().to_owned()),
            status: PaymentStatus::PendingVerification,
            customer_message: Some("Thank you. We will confirm your payment shortly.".to_owned()),
        })
    }

    fn interpret(&self, notification: &Notification) -> Result<Vec<Notice>> {
        Err(Error::invalid(
            "channel",
            format!(
                "manual payments receive no notifications ({})",
                notification.channel
            ),
        ))
    }

    async fn query(&self, _payment: &Payment) -> Result<QueryAnswer> {
        Ok(QueryAnswer::Unsupported)
    }

    fn reply(&self, _channel: &str, _reply: NoticeReply) -> ProviderReply {
        ProviderReply::json("{}")
    }
}
