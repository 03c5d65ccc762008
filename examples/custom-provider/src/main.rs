//! Run with `cargo run -p pochi-example-custom-provider` (and `cargo test -p
//! pochi-example-custom-provider` for pochi-testkit's provider suite).
//!
//! A custom payment provider: cash on delivery. Starting a payment asks nobody for money; the
//! attempt waits in `pending_verification` until the courier has collected the cash and an
//! admin verifies it (`POST /api/admin/payments/{paymentId}/verify`), exactly like a manual
//! M-Pesa code. It receives no callbacks and cannot be queried.
//!
//! pochi-core ships this provider as [`pochi_core::PayOnDelivery`] (`pay_on_delivery`): only
//! attempts of that name make the order's lifecycle wait for the cash at the door (no expiry,
//! dispatch before payment; see `pochi_core::on_delivery`). This one, under another name,
//! shows how to write a provider; its orders expire like any unpaid order.

use std::sync::Arc;

use async_trait::async_trait;
use pochi_core::{
    CheckoutInput, CheckoutItemInput, Error, MemoryStore, Notice, NoticeReply, Notification,
    Payment, PaymentInput, PaymentKind, PaymentProvider, PaymentRequest, PaymentStatus,
    ProductInput, ProviderReply, QueryAnswer, Result, Shop, StartedPayment,
};

/// Cash paid to the courier on delivery.
#[derive(Debug, Clone, Default)]
pub struct CashOnDelivery;

impl CashOnDelivery {
    /// The provider's name on payments (`method` when starting one).
    pub const NAME: &'static str = "cash_on_delivery";
}

#[async_trait]
impl PaymentProvider for CashOnDelivery {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn kind(&self) -> PaymentKind {
        // Confirmed by a person, like a manual M-Pesa code.
        PaymentKind::Manual
    }

    fn precision(&self) -> u32 {
        // Couriers carry no cents.
        0
    }

    fn handles_channel(&self, _channel: &str) -> bool {
        false
    }

    async fn start(&self, request: &PaymentRequest) -> Result<StartedPayment> {
        Ok(StartedPayment {
            // Unique per attempt: the shop keeps references unique per provider.
            reference: Some(format!("COD-{}", request.payment_id)),
            status: PaymentStatus::PendingVerification,
            customer_message: Some(format!(
                "Please have {} ready for the courier.",
                request.amount
            )),
        })
    }

    fn interpret(&self, notification: &Notification) -> Result<Vec<Notice>> {
        Err(Error::invalid(
            "channel",
            format!(
                "cash on delivery receives no notifications ({})",
                notification.channel
            ),
        ))
    }

    async fn query(&self, _payment: &Payment) -> Result<QueryAnswer> {
        // Only the courier knows; an admin verifies.
        Ok(QueryAnswer::Unsupported)
    }

    fn reply(&self, _channel: &str, _reply: NoticeReply) -> ProviderReply {
        ProviderReply::json("{}")
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let shop = Shop::builder(Arc::new(MemoryStore::new()))
        .provider(Arc::new(CashOnDelivery))
        .build()?;
    let kikoi = shop
        .save_product(&ProductInput {
            name: "Kikoi".into(),
            price: "1500".into(),
            stock: Some(3),
            ..ProductInput::default()
        })
        .await?;
    let order = shop
        .place_order(
            &CheckoutInput {
                name: "Wanjiru Kamau".into(),
                phone: "0712 345 678".into(),
                county: "Nairobi".into(),
                area: "Westlands".into(),
                address: "Mpaka Road".into(),
                notes: None,
                items: vec![CheckoutItemInput {
                    product_id: kikoi.id.to_string(),
                    quantity: 1,
                }],
                language: None,
            },
            None,
        )
        .await?
        .into_order();
    let payment = shop
        .start_payment(
            &PaymentInput {
                order_number: order.number.to_string(),
                method: Some(CashOnDelivery::NAME.to_owned()),
                phone: None,
                code: None,
            },
            None,
        )
        .await?
        .into_payment();
    println!(
        "order {} for {}: payment {} is {}; an admin verifies it once the courier has the cash",
        order.number, order.total, payment.id, payment.status,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use pochi_testkit::ProviderUnderTest;

    use super::*;

    async fn cash_on_delivery() -> ProviderUnderTest {
        ProviderUnderTest {
            provider: Arc::new(CashOnDelivery),
            phone: None,
            code: None,
            channels: Vec::new(),
            guard: None,
        }
    }

    pochi_testkit::provider_conformance_tests!(cash_on_delivery);
}
