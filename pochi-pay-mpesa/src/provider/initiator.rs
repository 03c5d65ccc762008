//! The initiator requests of [`MpesaProvider`]: Reversal, B2C and Transaction Status. Each is
//! built by a pure transformer, sent by the executor (one retry with a fresh token when
//! Daraja refuses the token) and answered synchronously with an acceptance; the result comes
//! later on the result URL (see [`parse_initiator_result`](crate::parse_initiator_result)).

use pochi_core::{Money, Msisdn, Receipt};
use serde::Serialize;

use super::MpesaProvider;
use crate::{
    client::{B2C_PATH, REVERSAL_PATH, STATUS_PATH},
    error::InitiatorError,
    initiator::Initiator,
    initiator_result::InitiatorAccepted,
    transform::initiator::{
        self as build, Occasion, Remarks, StatusSubject, initiator_amount,
        originator_conversation_id,
    },
};

impl MpesaProvider {
    /// Asks Daraja to reverse `receipt`, a payment the shop received, for `amount` (whole KES).
    /// `remarks` (2 to 100 characters) is recorded with the reversal.
    ///
    /// The acceptance is not the reversal: the result arrives on `reversal-result` (or
    /// `reversal-timeout`). A receipt already reversed fails there with `R000001`, an unknown
    /// one with `R000002`.
    pub async fn request_reversal(
        &self,
        receipt: &Receipt,
        amount: Money,
        remarks: &str,
    ) -> Result<InitiatorAccepted, InitiatorError> {
        let initiator = self.initiator()?;
        let amount = initiator_amount(amount)?;
        let remarks = Remarks::parse(remarks)?;
        let body = build::reversal_body(
            &self.inner.config,
            &initiator.name,
            credential(initiator)?,
            receipt,
            amount,
            &remarks,
        );
        self.send(REVERSAL_PATH, &body).await
    }

    /// Asks Daraja to pay `amount` (whole KES) to `phone` from the shop's shortcode (B2C
    /// `BusinessPayment`), as a refund sent rather than reversed.
    ///
    /// `originator_conversation_id` is the caller's unique key for this payment (a refund's
    /// id): Daraja refuses a second request with the same key
    /// ([`GatewayError::DuplicateRequest`](crate::GatewayError::DuplicateRequest)), so a
    /// retry cannot pay twice, and a lost result can be asked for by it
    /// ([`StatusSubject::OriginatorConversationId`]). The result arrives on `b2c-result` (or
    /// `b2c-timeout`).
    pub async fn request_b2c(
        &self,
        phone: &Msisdn,
        amount: Money,
        remarks: &str,
        originator_conversation_id: &str,
    ) -> Result<InitiatorAccepted, InitiatorError> {
        let initiator = self.initiator()?;
        let amount = initiator_amount(amount)?;
        let remarks = Remarks::parse(remarks)?;
        let key = build::originator_conversation_id(originator_conversation_id)?;
        let body = build::b2c_body(
            &self.inner.config,
            &initiator.name,
            credential(initiator)?,
            phone,
            amount,
            &remarks,
            &key,
        );
        self.send(B2C_PATH, &body).await
    }

    /// Asks Daraja where a transaction stands: a payment by its receipt, or a request (a B2C
    /// payment, an STK push) by its `OriginatorConversationID` (for a push: its
    /// `CheckoutRequestID`). The answer arrives on `status-result` (or `status-timeout`) with
    /// the receipt, amount, status (`Completed`) and payer. `occasion` (up to 100 printable
    /// ASCII characters) is sent as the request's `Occasion`, which Daraja echoes back in the
    /// result's `ReferenceData` ([`InitiatorResult::occasion`](crate::InitiatorResult)).
    pub async fn request_transaction_status(
        &self,
        subject: &StatusSubject,
        occasion: Option<&str>,
    ) -> Result<InitiatorAccepted, InitiatorError> {
        let initiator = self.initiator()?;
        if let StatusSubject::OriginatorConversationId(id) = subject {
            originator_conversation_id(id)?;
        }
        let occasion = occasion.map(Occasion::parse).transpose()?;
        let body = build::status_body(
            &self.inner.config,
            &initiator.name,
            credential(initiator)?,
            subject,
            occasion.as_ref(),
        );
        self.send(STATUS_PATH, &body).await
    }

    fn initiator(&self) -> Result<&Initiator, InitiatorError> {
        self.inner
            .config
            .initiator
            .as_ref()
            .ok_or(InitiatorError::NotConfigured)
    }

    async fn send(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<InitiatorAccepted, InitiatorError> {
        let (status, text) = self.inner.daraja.post_json(path, body).await?;
        Ok(InitiatorAccepted::parse(status, &text)?)
    }
}

fn credential(initiator: &Initiator) -> Result<secrecy::SecretString, InitiatorError> {
    initiator
        .security_credential()
        .map_err(|_| InitiatorError::Credential)
}
