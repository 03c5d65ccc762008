//! Unit tests of `Shop` for what the store kit cannot reach: provider errors and answers,
//! event sink calls, clock-driven jobs, store faults. Collaborators are `mockall` mocks;
//! the store is the in-memory reference store unless the test is about the store.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use mockall::predicate::always;
use rust_decimal_macros::dec;

use super::*;
use crate::{
    ManualClock, MemoryStore,
    checkout::{CheckoutInput, CheckoutItemInput},
    clock::MockClock,
    error::ConflictReason,
    events::MockEventSink,
    fixtures::{T0, kes, product},
    ids::SequentialIds,
    order::{OrderStatus, Placement},
    payment::{PaymentKind, PaymentStatus, ProviderResult, Receipt, ReviewReason},
    product::Product,
    provider::{
        DirectPayment, MockPaymentProvider, Notice, NoticeReply, Notification, ProviderReply,
        QueryAnswer, RejectReason, StartedPayment,
    },
    shop::config::CallbackToken,
    store::{MockStore, Store},
};

const TOKEN: &str = "k3J9_x-Q2mP7vL0aZ";

fn input(item: &Product, quantity: i64) -> CheckoutInput {
    CheckoutInput {
        name: "Wanjiru Njeri Kamau".into(),
        phone: "0712 345 678".into(),
        county: "Nairobi".into(),
        area: "Westlands".into(),
        address: "Mpaka Road, blue gate".into(),
        notes: None,
        items: vec![CheckoutItemInput {
            product_id: item.id.to_string(),
            quantity,
        }],
        language: None,
    }
}

/// A push provider named `testpay` that reads channel `stk`; tests add expectations.
fn push_provider() -> MockPaymentProvider {
    let mut provider = MockPaymentProvider::new();
    provider.expect_name().return_const("testpay".to_owned());
    provider.expect_kind().return_const(PaymentKind::StkPush);
    provider.expect_precision().return_const(0u32);
    provider.expect_callback_token().return_const(None);
    provider.expect_reads_mpesa_messages().return_const(false);
    provider.expect_checks_transactions().return_const(false);
    provider
        .expect_handles_channel()
        .returning(|channel| channel == "stk");
    provider
        .expect_reply()
        .returning(|_, reply| ProviderReply::json(format!("{reply:?}")));
    provider
}

/// Makes `provider` accept every push with reference `ws_CO_1`.
fn accept_pushes(provider: &mut MockPaymentProvider) {
    provider.expect_start().returning(|_| {
        Ok(StartedPayment {
            reference: Some("ws_CO_1".into()),
            status: PaymentStatus::Pending,
            customer_message: None,
        })
    });
}

struct World {
    shop: Shop,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    item: Product,
}

async fn world(provider: MockPaymentProvider, events: Arc<dyn crate::events::EventSink>) -> World {
    let store = Arc::new(MemoryStore::new());
    let item = product(1, dec!(1500), Some(10));
    store.insert_product(&item).await.unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let shop = Shop::builder(store.clone())
        .provider(Arc::new(provider))
        .events(events)
        .clock(clock.clone())
        .ids(Arc::new(SequentialIds::new()))
        .config(ShopConfig::default().with_callback_token(CallbackToken::parse(TOKEN).unwrap()))
        .build()
        .unwrap();
    World {
        shop,
        store,
        clock,
        item,
    }
}

fn pay(order: &crate::order::Order) -> PaymentInput {
    PaymentInput {
        order_number: order.number.to_string(),
        ..PaymentInput::default()
    }
}

fn notification(channel: &str, token: &str) -> Notification {
    Notification {
        channel: channel.into(),
        token: token.into(),
        body: b"{}".to_vec(),
        received_at: T0,
    }
}

fn direct(account: &str, amount: rust_decimal::Decimal, receipt: &str) -> DirectPayment {
    DirectPayment {
        receipt: Receipt::parse(receipt).unwrap(),
        amount: kes(amount),
        account_reference: account.into(),
        payer: Some("2547 ***** 678".into()),
        raw_payload: Some("{}".into()),
        other_shortcode: None,
    }
}

mod builder;
mod c2b;
mod callbacks;
mod checks;
mod jobs;
mod limits;
mod manual;
mod notify;
mod orders;
mod payments;
