//! [`CheckedManualCodes`]: manual M-Pesa codes, each checked with Daraja's Transaction Status.

use async_trait::async_trait;
use pochi_core::{
    CallbackToken, ManualCodeProvider, Notice, NoticeReply, Notification, Payment, PaymentKind,
    PaymentProvider, PaymentRequest, ProviderReply, QueryAnswer, Result, StartedPayment,
    TransactionQuery,
};

use crate::{InitiatorChannel, MpesaProvider};

/// Manual M-Pesa codes for a shop whose customers pay its till, paybill or phone from the
/// M-Pesa menu and type the confirmation code (or paste the SMS), checked with Daraja's
/// Transaction Status before the order is marked paid.
///
/// Payments are taken exactly as [`ManualCodeProvider`] takes them (same name, `manual`: the
/// attempt waits in `pending_verification`); the shop then asks `daraja` about the code, and a
/// completed transaction to the shop's account for the amount due pays the order without an
/// admin. An answer that cannot confirm it leaves the payment for an admin, with M-Pesa's
/// words. The provider needs `daraja` to have an initiator
/// ([`MpesaConfigBuilder::with_initiator`](crate::MpesaConfigBuilder::with_initiator));
/// without one it takes codes and never checks them. It reads the `status-result` and
/// `status-timeout` callbacks only.
///
/// ```no_run
/// # fn run(daraja: pochi_pay_mpesa::MpesaProvider, store: std::sync::Arc<dyn pochi_core::Store>) -> pochi_core::Result<()> {
/// use std::sync::Arc;
/// use pochi_pay_mpesa::CheckedManualCodes;
///
/// let shop = pochi_core::Shop::builder(store)
///     .provider(Arc::new(CheckedManualCodes::new(daraja)))
///     .build()?;
/// # let _ = shop;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CheckedManualCodes {
    codes: ManualCodeProvider,
    daraja: MpesaProvider,
}

impl CheckedManualCodes {
    /// Codes checked with `daraja`.
    pub fn new(daraja: MpesaProvider) -> Self {
        CheckedManualCodes {
            codes: ManualCodeProvider::new(),
            daraja,
        }
    }

    fn reads(channel: &str) -> bool {
        matches!(
            InitiatorChannel::parse(channel),
            Some(InitiatorChannel::StatusResult | InitiatorChannel::StatusTimeout)
        )
    }
}

#[async_trait]
impl PaymentProvider for CheckedManualCodes {
    fn name(&self) -> &str {
        self.codes.name()
    }

    fn kind(&self) -> PaymentKind {
        self.codes.kind()
    }

    fn precision(&self) -> u32 {
        self.codes.precision()
    }

    fn handles_channel(&self, channel: &str) -> bool {
        Self::reads(channel) && self.daraja.handles_channel(channel)
    }

    fn reads_mpesa_messages(&self) -> bool {
        self.codes.reads_mpesa_messages()
    }

    fn callback_token(&self) -> Option<CallbackToken> {
        self.daraja.callback_token()
    }

    async fn start(&self, request: &PaymentRequest) -> Result<StartedPayment> {
        self.codes.start(request).await
    }

    fn interpret(&self, notification: &Notification) -> Result<Vec<Notice>> {
        if !Self::reads(&notification.channel) {
            return self.codes.interpret(notification);
        }
        self.daraja.interpret(notification)
    }

    async fn query(&self, payment: &Payment) -> Result<QueryAnswer> {
        self.codes.query(payment).await
    }

    fn reply(&self, channel: &str, reply: NoticeReply) -> ProviderReply {
        self.daraja.reply(channel, reply)
    }

    fn checks_transactions(&self) -> bool {
        self.daraja.checks_transactions()
    }

    async fn check_transaction(&self, query: &TransactionQuery) -> Result<String> {
        self.daraja.check_transaction(query).await
    }
}
