//! The payment-provider suite: what every [`PaymentProvider`] must do, whatever its backend.

use std::{any::Any, sync::Arc};

use pochi_core::{
    CheckoutInput, CheckoutItemInput, Error, MemoryStore, NoticeReply, Notification, PaymentInput,
    PaymentProvider, PaymentStatus, Product, RejectReason, Shop, Store, StoreExt,
};

use crate::fixtures::{T0, product};

/// A provider under test, with what a valid payment needs and anything that must stay alive
/// while it runs (a fake server).
pub struct ProviderUnderTest {
    /// The provider.
    pub provider: Arc<dyn PaymentProvider>,
    /// The phone to pay from (push providers).
    pub phone: Option<String>,
    /// The confirmation code to submit (manual providers).
    pub code: Option<String>,
    /// The callback channels the provider reads.
    pub channels: Vec<String>,
    /// Kept alive for the duration of the test.
    pub guard: Option<Box<dyn Any + Send>>,
}

impl std::fmt::Debug for ProviderUnderTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderUnderTest")
            .field("provider", &self.provider)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

async fn shop_with(under_test: &ProviderUnderTest) -> (Shop, Arc<dyn Store>, Product) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let item = product("Kikoi", "1500", Some(10));
    store.insert_product(&item).await.unwrap();
    let shop = Shop::builder(store.clone())
        .provider(under_test.provider.clone())
        .build()
        .unwrap();
    (shop, store, item)
}

fn checkout_for(item: &Product) -> CheckoutInput {
    CheckoutInput {
        name: "Wanjiru Kamau".into(),
        phone: "0708374149".into(),
        county: "Nairobi".into(),
        area: "Westlands".into(),
        address: "Mpaka Road".into(),
        notes: None,
        items: vec![CheckoutItemInput {
            product_id: item.id.to_string(),
            quantity: 2,
        }],
        language: None,
    }
}

/// The provider's name is a lower-case identifier, its precision sensible, and it reads no
/// channel it did not declare.
pub async fn provider_describes_itself(under_test: ProviderUnderTest) {
    let provider = &under_test.provider;
    let name = provider.name();
    assert!(
        !name.is_empty()
            && name.len() <= 32
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'),
        "provider name {name:?} must be a lower-case identifier"
    );
    assert!(
        provider.precision() <= 4,
        "precision {} is not sensible",
        provider.precision()
    );
    assert!(!provider.handles_channel(""));
    assert!(!provider.handles_channel("no-such-channel"));
    for channel in &under_test.channels {
        assert!(
            provider.handles_channel(channel),
            "{channel} is declared but not handled"
        );
    }
}

/// Through the shop, a payment starts: the attempt is stored with the provider's reference,
/// waiting for the provider or for verification, for the order's total.
pub async fn provider_starts_a_payment(under_test: ProviderUnderTest) {
    let (shop, store, item) = shop_with(&under_test).await;
    let order = shop
        .place_order(&checkout_for(&item), None)
        .await
        .unwrap()
        .into_order();
    let payment = shop
        .start_payment(
            &PaymentInput {
                order_number: order.number.to_string(),
                method: Some(under_test.provider.name().to_owned()),
                phone: under_test.phone.clone(),
                code: under_test.code.clone(),
            },
            None,
        )
        .await
        .unwrap()
        .into_payment();
    assert!(
        matches!(
            payment.status,
            PaymentStatus::Pending | PaymentStatus::PendingVerification
        ),
        "a started payment is pending, not {}",
        payment.status
    );
    assert!(
        payment.provider_reference.is_some(),
        "the provider gives a reference"
    );
    assert_eq!(payment.amount, order.total);
    assert_eq!(store.payment_required(payment.id).await.unwrap(), payment);
    // Asking about it right away never fails and never invents a success
    let answer = under_test.provider.query(&payment).await.unwrap();
    if let pochi_core::QueryAnswer::Final(result) = answer {
        assert_ne!(
            result.status,
            Some(PaymentStatus::Succeeded),
            "nobody paid yet"
        );
    }
}

/// Bodies that are not notifications are refused as invalid input, never with a panic.
pub async fn provider_refuses_unreadable_notifications(under_test: ProviderUnderTest) {
    let garbage: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"{\"Body\":42}".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x80],
        vec![b'a'; 1 << 20],
    ];
    for channel in &under_test.channels {
        for body in &garbage {
            let notification = Notification {
                channel: channel.clone(),
                token: "irrelevant".into(),
                body: body.clone(),
                received_at: T0,
            };
            match under_test.provider.interpret(&notification) {
                Err(Error::InvalidInput { .. }) => {}
                other => panic!(
                    "{channel}: a body of {} bytes must be invalid input, got {other:?}",
                    body.len()
                ),
            }
        }
    }
}

/// Every kind of reply is a success status with a content type.
pub async fn provider_replies_to_every_notice(under_test: ProviderUnderTest) {
    for reply in [
        NoticeReply::Ack,
        NoticeReply::Accept,
        NoticeReply::Reject(RejectReason::UnknownAccount),
        NoticeReply::Reject(RejectReason::WrongAmount),
    ] {
        let answer = under_test.provider.reply("stk", reply);
        assert!(
            (200..300).contains(&answer.status),
            "{reply:?} answered {}",
            answer.status
        );
        assert!(!answer.content_type.is_empty());
    }
}

/// Stamps one `#[tokio::test]` per provider scenario for a provider made by `$factory`, a path
/// to an `async fn() -> pochi_testkit::ProviderUnderTest`.
#[macro_export]
macro_rules! provider_conformance_tests {
    ($factory:path) => {
        $crate::__provider_tests!(
            $factory;
            provider_describes_itself,
            provider_starts_a_payment,
            provider_refuses_unreadable_notifications,
            provider_replies_to_every_notice,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __provider_tests {
    ($factory:path; $($name:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::provider::$name($factory().await).await;
            }
        )*
    };
}
