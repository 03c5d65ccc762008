//! [`MpesaProvider`]: the `PaymentProvider` for M-Pesa Express (STK push), STK query and C2B.

use std::{fmt, sync::Arc};

use async_trait::async_trait;
use pochi_core::{
    CallbackToken, Clock, Error, Language, Notice, NoticeReply, Notification, Payment, PaymentKind,
    PaymentProvider, PaymentRequest, PaymentStatus, ProviderReply, ProviderResult, QueryAnswer,
    RefundRequest, RejectReason, Result, StartedPayment, SystemClock, TransactionQuery,
    TransactionSubject,
};

use crate::{
    client::{Daraja, STK_PUSH_PATH, STK_QUERY_PATH},
    codes::ResultCode,
    config::{CallbackChannel, InitiatorChannel, MpesaConfig},
    error::GatewayError,
    notify::{C2bNotice, RegisterUrlAnswer, StkCallback, StkPushAccepted, StkQueryAnswer},
    timestamp::Timestamp,
    transform::{self, StkPush, initiator::StatusSubject},
};

mod initiator;

/// What the customer is told when a push was accepted.
const CHECK_YOUR_PHONE: &str = "Check your phone and enter your M-Pesa PIN to pay.";

/// What Daraja answered when the shop's C2B URLs were registered
/// ([`MpesaProvider::register_c2b_urls`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct C2bRegistration {
    /// Daraja's reference for the request (its `OriginatorConversationID`), to quote to
    /// Safaricom support.
    pub conversation_id: String,
    /// What Daraja said (`Success`).
    pub message: String,
}

impl From<RegisterUrlAnswer> for C2bRegistration {
    fn from(answer: RegisterUrlAnswer) -> Self {
        C2bRegistration {
            conversation_id: answer.originator_conversation_id,
            message: answer.response_description,
        }
    }
}

/// M-Pesa through Safaricom's Daraja API. Cheap to clone (a handle); `Send + Sync`.
///
/// It parses, builds requests, talks HTTP and maps results; `Shop` decides what they do to
/// orders. Callback channels: `stk`; with C2B on ([`MpesaConfig::c2b`]) also `c2b-validation` and
/// `c2b-confirmation`.
#[derive(Clone)]
pub struct MpesaProvider {
    inner: Arc<Inner>,
}

struct Inner {
    config: MpesaConfig,
    daraja: Daraja,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for MpesaProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpesaProvider")
            .field("environment", &self.inner.config.environment)
            .field("business", &self.inner.config.business)
            .finish_non_exhaustive()
    }
}

impl MpesaProvider {
    /// The provider's name on payments.
    pub const NAME: &'static str = "mpesa";

    /// A provider using the system clock.
    pub fn new(config: MpesaConfig) -> Result<Self> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A provider reading the time (timestamps, token expiry) from `clock`.
    pub fn with_clock(config: MpesaConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        let daraja = Daraja::new(&config, clock.clone())
            .map_err(|e| Error::backend("mpesa http client", e))?;
        Ok(MpesaProvider {
            inner: Arc::new(Inner {
                config,
                daraja,
                clock,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MpesaConfig {
        &self.inner.config
    }

    fn timestamp(&self) -> Timestamp {
        Timestamp::at(self.inner.clock.now(), self.inner.config.timestamp_offset)
    }

    /// Sends an STK push. One timestamp serves both `Password` and `Timestamp`.
    async fn stk_push(&self, push: &StkPush) -> Result<StkPushAccepted, GatewayError> {
        let body = transform::stk_push_body(&self.inner.config, push, &self.timestamp());
        let (status, text) = self.inner.daraja.post_json(STK_PUSH_PATH, &body).await?;
        StkPushAccepted::parse(status, &text)
    }

    /// Asks where a push stands.
    async fn stk_query(&self, checkout_request_id: &str) -> Result<StkQueryAnswer, GatewayError> {
        let body =
            transform::stk_query_body(&self.inner.config, checkout_request_id, &self.timestamp());
        let (status, text) = self.inner.daraja.post_json(STK_QUERY_PATH, &body).await?;
        StkQueryAnswer::parse(status, &text)
    }

    /// The initiator result channels (refunds and Transaction Status), read only when the
    /// shop has initiator credentials.
    fn initiator_channel(&self, channel: &str) -> Option<crate::InitiatorChannel> {
        crate::InitiatorChannel::parse(channel).filter(|_| self.sends_refunds())
    }

    /// The channel `channel` names, if this provider reads it: the STK result always, the C2B
    /// channels only when C2B is on ([`MpesaConfig::c2b`]).
    fn reads(&self, channel: &str) -> Option<CallbackChannel> {
        CallbackChannel::parse(channel)
            .filter(|c| *c == CallbackChannel::Stk || self.inner.config.c2b)
    }

    /// Registers the shop's C2B confirmation and validation URLs
    /// ([`MpesaConfig::callback_url`]) for its shortcode, with the configured API version and
    /// `ResponseType`, so that customers who pay the paybill or till directly reach the shop.
    ///
    /// Turn C2B on first ([`MpesaConfigBuilder::with_c2b`](crate::MpesaConfigBuilder::with_c2b)):
    /// while it is off, the shop answers those URLs as unknown paths.
    ///
    /// In production this is one-time: afterwards Daraja refuses with
    /// [`GatewayError::Rejected`] (`Urls are already registered`).
    pub async fn register_c2b_urls(&self) -> Result<C2bRegistration, GatewayError> {
        let config = &self.inner.config;
        let path = format!("/mpesa/c2b/{}/registerurl", config.c2b_version.as_str());
        let body = transform::register_url_body(config);
        let (status, text) = self.inner.daraja.post_json(&path, &body).await?;
        RegisterUrlAnswer::parse(status, &text).map(C2bRegistration::from)
    }
}

#[async_trait]
impl PaymentProvider for MpesaProvider {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn callback_token(&self) -> Option<CallbackToken> {
        Some(self.inner.config.callback_token().clone())
    }

    fn customer_message(&self, result_code: &str, language: Language) -> Option<String> {
        let info = ResultCode::parse(result_code).info();
        Some(
            match language {
                Language::Kiswahili => info.message_sw,
                _ => info.message_en,
            }
            .to_owned(),
        )
    }

    fn kind(&self) -> PaymentKind {
        PaymentKind::StkPush
    }

    fn precision(&self) -> u32 {
        0
    }

    fn handles_channel(&self, channel: &str) -> bool {
        self.reads(channel).is_some() || self.initiator_channel(channel).is_some()
    }

    fn sends_refunds(&self) -> bool {
        self.inner.config.initiator_name().is_some()
    }

    /// A whole payment is reversed (Reversal API); part of one is sent to the payer's phone
    /// (B2C, keyed by the refund's id so a retry cannot pay twice).
    async fn send_refund(&self, request: &RefundRequest) -> Result<String> {
        let remarks = format!("Refund of order {}", request.order_number);
        let accepted = if request.whole_payment {
            self.request_reversal(&request.receipt, request.amount, &remarks)
                .await?
        } else {
            let phone = request.phone.as_ref().ok_or_else(|| {
                Error::invalid(
                    "refund",
                    "part of a payment goes back to the payer's phone, and M-Pesa did not give it: send it by hand",
                )
            })?;
            let key = request.refund_id.as_uuid().simple().to_string();
            self.request_b2c(phone, request.amount, &remarks, &key)
                .await?
        };
        Ok(accepted.conversation_id)
    }

    fn checks_transactions(&self) -> bool {
        self.sends_refunds()
    }

    /// Transaction Status, by receipt or (for an STK push) by its `CheckoutRequestID`; the
    /// payment's id travels as the request's `Occasion`, which the result echoes.
    async fn check_transaction(&self, query: &TransactionQuery) -> Result<String> {
        let subject = match &query.subject {
            TransactionSubject::Receipt(receipt) => StatusSubject::Receipt(receipt.clone()),
            TransactionSubject::Attempt(reference) => {
                StatusSubject::OriginatorConversationId(reference.clone())
            }
        };
        let accepted = self
            .request_transaction_status(&subject, Some(&query.payment_id.to_string()))
            .await?;
        Ok(accepted.conversation_id)
    }

    async fn start(&self, request: &PaymentRequest) -> Result<StartedPayment> {
        if !self.inner.config.stk_push {
            return Err(Error::invalid(
                "method",
                "this shop takes M-Pesa payments made from the M-Pesa menu, not payment prompts",
            ));
        }
        let phone = request
            .phone
            .clone()
            .ok_or_else(|| Error::invalid("phone", "enter the M-Pesa phone number to pay from"))?;
        let push = StkPush::new(
            phone,
            request.amount,
            &request.account_reference,
            &request.description,
        )?;
        let accepted = self.stk_push(&push).await?;
        Ok(StartedPayment {
            reference: Some(accepted.checkout_request_id),
            status: PaymentStatus::Pending,
            customer_message: Some(if accepted.customer_message.trim().is_empty() {
                CHECK_YOUR_PHONE.to_owned()
            } else {
                accepted.customer_message
            }),
        })
    }

    fn interpret(&self, notification: &Notification) -> Result<Vec<Notice>> {
        if let Some(channel) = self.initiator_channel(&notification.channel) {
            let result = crate::parse_initiator_result(channel.as_str(), &notification.body)?;
            if matches!(
                channel,
                InitiatorChannel::StatusResult | InitiatorChannel::StatusTimeout
            ) {
                return Ok(vec![transform::status_notice(
                    result,
                    &self.inner.config.business,
                )]);
            }
            let outcome = if result.is_timeout() {
                Err("M-Pesa did not process the request in time; send it again".to_owned())
            } else if result.is_success() {
                Ok(result
                    .transaction_id
                    .clone()
                    .or_else(|| {
                        result
                            .parameters
                            .receipt
                            .as_ref()
                            .map(|r| r.as_str().to_owned())
                    })
                    .unwrap_or_else(|| result.conversation_id.clone()))
            } else {
                Err(format!(
                    "{} ({})",
                    result.result_description, result.result_code
                ))
            };
            return Ok(vec![Notice::RefundResult {
                request: result.conversation_id,
                outcome,
            }]);
        }
        let zone = self.inner.config.timestamp_offset;
        let raw = || String::from_utf8_lossy(&notification.body).into_owned();
        let business = &self.inner.config.business;
        let notice = match self.reads(&notification.channel) {
            Some(CallbackChannel::Stk) => {
                transform::stk_notice(StkCallback::parse(&notification.body, zone)?, raw())?
            }
            Some(CallbackChannel::C2bValidation) => Notice::Validation(transform::direct_payment(
                C2bNotice::parse(&notification.body, zone)?,
                raw(),
                business,
            )?),
            Some(CallbackChannel::C2bConfirmation) => {
                Notice::DirectPayment(transform::direct_payment(
                    C2bNotice::parse(&notification.body, zone)?,
                    raw(),
                    business,
                )?)
            }
            None => {
                return Err(Error::invalid(
                    "channel",
                    format!(
                        "M-Pesa sends no notifications on {:?}",
                        notification.channel
                    ),
                ));
            }
        };
        Ok(vec![notice])
    }

    async fn query(&self, payment: &Payment) -> Result<QueryAnswer> {
        if payment.kind != PaymentKind::StkPush {
            return Ok(QueryAnswer::Unsupported);
        }
        let Some(reference) = payment.provider_reference.as_deref() else {
            return Ok(QueryAnswer::Pending);
        };
        Ok(match self.stk_query(reference).await? {
            StkQueryAnswer::Pending => QueryAnswer::Pending,
            StkQueryAnswer::Final {
                result_code,
                result_description,
            } => QueryAnswer::Final(ProviderResult {
                status: result_code.payment_status(),
                result_code: Some(result_code.as_str().to_owned()),
                result_description: Some(result_description),
                ..ProviderResult::default()
            }),
        })
    }

    fn reply(&self, channel: &str, reply: NoticeReply) -> ProviderReply {
        ProviderReply::json(match reply {
            // Confirmations are answered "Success", STK callbacks "Accepted" (as Daraja expects each).
            NoticeReply::Ack
                if CallbackChannel::parse(channel) == Some(CallbackChannel::C2bConfirmation) =>
            {
                r#"{"ResultCode":0,"ResultDesc":"Success"}"#
            }
            NoticeReply::Ack => r#"{"ResultCode":0,"ResultDesc":"Accepted"}"#,
            NoticeReply::Accept => r#"{"ResultCode":"0","ResultDesc":"Accepted"}"#,
            NoticeReply::Reject(RejectReason::UnknownAccount) => {
                r#"{"ResultCode":"C2B00012","ResultDesc":"Rejected"}"#
            }
            NoticeReply::Reject(RejectReason::WrongAmount) => {
                r#"{"ResultCode":"C2B00013","ResultDesc":"Rejected"}"#
            }
            NoticeReply::Reject(RejectReason::OtherShortcode) => {
                r#"{"ResultCode":"C2B00015","ResultDesc":"Rejected"}"#
            }
            NoticeReply::Reject(_) => r#"{"ResultCode":"C2B00016","ResultDesc":"Rejected"}"#,
            _ => r#"{"ResultCode":0,"ResultDesc":"Accepted"}"#,
        })
    }
}
