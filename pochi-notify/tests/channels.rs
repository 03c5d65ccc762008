//! Each channel against the fake of its service over a real socket: what the service
//! receives, and what each of its error answers becomes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::time::Duration;

use pochi_core::{
    Language, OrderNumber,
    notify::{
        Audience, Channel, DeliveryId, MessageContent, NoticeKind, OutgoingMessage, SendError,
    },
};
use pochi_notify::{
    AfricasTalkingConfig, AfricasTalkingSms, SignedWebhook, SmtpConfig, SmtpEmail, SmtpSecurity,
    WebhookConfig, WhatsAppCloud, WhatsAppConfig,
    fake::{Failure, FakeAfricasTalking, FakeSmtp, FakeWebhookReceiver, FakeWhatsApp},
};

const PHONE: &str = "+254712345678";
const TEXT: &str = "Duka: Asante! Oda POCHI-2222222222 ya KES 1500.00 imepokelewa.";

fn message(to: &str) -> OutgoingMessage {
    OutgoingMessage {
        id: DeliveryId::new(),
        kind: NoticeKind::OrderPlaced,
        order_number: OrderNumber::parse("POCHI-2222222222").unwrap(),
        audience: Audience::Customer,
        content: MessageContent {
            to: to.to_owned(),
            language: Language::Kiswahili,
            template: "order_placed".to_owned(),
            params: vec!["Duka".to_owned(), "POCHI-2222222222".to_owned()],
            subject: Some("Oda yako".to_owned()),
            body: TEXT.to_owned(),
        },
    }
}

/// The error's code and kind, after checking its text and debug form hold no personal data
/// or secret.
fn judged(error: &SendError, secret: &str) -> (&'static str, bool) {
    for shown in [error.to_string(), format!("{error:?}")] {
        for private in ["712345678", "Asante", "owner@duka", secret] {
            assert!(!shown.contains(private), "{private:?} in {shown:?}");
        }
    }
    (error.code(), error.is_transient())
}

fn sms(fake: &FakeAfricasTalking, key: &str) -> AfricasTalkingSms {
    AfricasTalkingSms::new(
        AfricasTalkingConfig::live("duka", key)
            .with_sender_id("DUKA")
            .with_base_url(fake.base_url())
            .with_timeout(Duration::from_millis(500)),
    )
    .unwrap()
}

#[tokio::test]
async fn africas_talking_receives_the_sms_as_its_api_reads_it() {
    let fake = FakeAfricasTalking::start().await.unwrap();
    let channel = sms(&fake, FakeAfricasTalking::API_KEY);
    let sent = channel.send(&message(PHONE)).await.unwrap();
    let got = fake.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].username, "duka");
    assert_eq!(got[0].to, PHONE);
    assert_eq!(got[0].message, TEXT);
    assert_eq!(got[0].from.as_deref(), Some("DUKA"));
    assert_eq!(
        sent.provider_ref.as_deref(),
        Some(got[0].message_id.as_str())
    );
    // The key never shows.
    assert!(!format!("{channel:?}").contains(FakeAfricasTalking::API_KEY));
}

#[tokio::test]
async fn africas_talking_errors_are_transient_or_permanent_as_they_should_be() {
    let fake = FakeAfricasTalking::start().await.unwrap();
    let channel = sms(&fake, FakeAfricasTalking::API_KEY);
    let key = FakeAfricasTalking::API_KEY;
    for (failure, expected) in [
        (Failure::InvalidNumber, ("invalid_recipient", false)),
        (Failure::Blacklisted, ("recipient_opted_out", false)),
        (Failure::InsufficientBalance, ("insufficient_balance", true)),
        (Failure::RateLimited, ("rate_limited", true)),
        (Failure::ServerError, ("unavailable", true)),
        (Failure::Unauthorized, ("unauthorized", false)),
        (Failure::Timeout, ("timeout", true)),
    ] {
        fake.fail_next(1, failure);
        let error = channel.send(&message(PHONE)).await.unwrap_err();
        assert_eq!(judged(&error, key), expected, "{failure:?}: {error}");
        if failure == Failure::RateLimited {
            assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
        }
    }
    // A number the service cannot send to, a wrong key, and a service that is not there.
    let error = channel.send(&message("+2541")).await.unwrap_err();
    assert_eq!(judged(&error, key), ("invalid_recipient", false));
    let error = sms(&fake, "atsk_wrong")
        .send(&message(PHONE))
        .await
        .unwrap_err();
    assert_eq!(judged(&error, "atsk_wrong"), ("unauthorized", false));
    assert!(fake.received().is_empty());
    let gone = fake.base_url();
    drop(fake);
    let channel =
        AfricasTalkingSms::new(AfricasTalkingConfig::sandbox(key).with_base_url(gone)).unwrap();
    let error = channel.send(&message(PHONE)).await.unwrap_err();
    assert_eq!(judged(&error, key), ("unavailable", true));
}

fn whatsapp(fake: &FakeWhatsApp, token: &str) -> WhatsAppCloud {
    WhatsAppCloud::new(
        WhatsAppConfig::new("106540352242922", token)
            .with_base_url(fake.base_url())
            .with_timeout(Duration::from_millis(500)),
    )
    .unwrap()
}

#[tokio::test]
async fn whatsapp_receives_the_template_in_the_customers_language() {
    let fake = FakeWhatsApp::start().await.unwrap();
    let channel = whatsapp(&fake, FakeWhatsApp::TOKEN);
    let sent = channel.send(&message(PHONE)).await.unwrap();
    let got = fake.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].phone_number_id, "106540352242922");
    assert_eq!(got[0].to, "254712345678");
    assert_eq!(got[0].template, "order_placed");
    assert_eq!(got[0].language, "sw");
    assert_eq!(got[0].params, ["Duka", "POCHI-2222222222"]);
    assert_eq!(
        sent.provider_ref.as_deref(),
        Some(got[0].message_id.as_str())
    );
    assert!(!format!("{channel:?}").contains(FakeWhatsApp::TOKEN));
}

#[tokio::test]
async fn whatsapp_errors_are_transient_or_permanent_as_they_should_be() {
    let fake = FakeWhatsApp::start().await.unwrap();
    let channel = whatsapp(&fake, FakeWhatsApp::TOKEN);
    let token = FakeWhatsApp::TOKEN;
    for (failure, expected) in [
        (Failure::InvalidNumber, ("invalid_recipient", false)),
        (Failure::Blacklisted, ("recipient_opted_out", false)),
        (Failure::InsufficientBalance, ("insufficient_balance", true)),
        (Failure::RateLimited, ("rate_limited", true)),
        (Failure::ServerError, ("unavailable", true)),
        (Failure::Unauthorized, ("unauthorized", false)),
        (Failure::Timeout, ("timeout", true)),
    ] {
        fake.fail_next(1, failure);
        let error = channel.send(&message(PHONE)).await.unwrap_err();
        assert_eq!(judged(&error, token), expected, "{failure:?}: {error}");
    }
    let error = whatsapp(&fake, "EAAGwrong")
        .send(&message(PHONE))
        .await
        .unwrap_err();
    assert_eq!(judged(&error, "EAAGwrong"), ("unauthorized", false));
    assert!(fake.received().is_empty());
}

fn email(fake: &FakeSmtp, login: Option<(&str, &str)>) -> SmtpEmail {
    let mut config = SmtpConfig::new("127.0.0.1", "Duka <duka@duka.example>")
        .with_port(fake.addr().port())
        .with_security(SmtpSecurity::Plain)
        .with_timeout(Duration::from_millis(800));
    if let Some((user, password)) = login {
        config = config.with_credentials(user, password);
    }
    SmtpEmail::new(config).unwrap()
}

#[tokio::test]
async fn smtp_delivers_the_mail_with_its_id_after_logging_in() {
    let fake = FakeSmtp::with_login("duka", "s3cret-pass").await.unwrap();
    let channel = email(&fake, Some(("duka", "s3cret-pass")));
    let outgoing = message("owner@duka.example");
    let sent = channel.send(&outgoing).await.unwrap();
    let got = fake.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, "duka@duka.example");
    assert_eq!(got[0].to, ["owner@duka.example"]);
    assert!(got[0].data.contains("Subject: Oda yako"), "{}", got[0].data);
    assert!(
        got[0]
            .data
            .contains(&format!("Message-ID: <{}@pochi.invalid>", outgoing.id))
    );
    assert!(got[0].data.contains("Asante"));
    assert_eq!(
        sent.provider_ref,
        Some(format!("<{}@pochi.invalid>", outgoing.id))
    );
    assert!(!format!("{channel:?}").contains("s3cret-pass"));

    let error = email(&fake, Some(("duka", "wrong")))
        .send(&outgoing)
        .await
        .unwrap_err();
    assert_eq!(judged(&error, "wrong"), ("unauthorized", false));
    let error = email(&fake, None).send(&outgoing).await.unwrap_err();
    assert_eq!(judged(&error, "s3cret-pass"), ("unauthorized", false));
}

#[tokio::test]
async fn smtp_errors_are_transient_or_permanent_as_they_should_be() {
    let fake = FakeSmtp::start().await.unwrap();
    let channel = email(&fake, None);
    for (failure, expected) in [
        (Failure::InvalidNumber, ("invalid_recipient", false)),
        (Failure::ServerError, ("unavailable", true)),
        (Failure::InsufficientBalance, ("unavailable", true)),
        (Failure::RateLimited, ("unavailable", true)),
        (Failure::Timeout, ("timeout", true)),
    ] {
        fake.fail_next(1, failure);
        let error = channel
            .send(&message("owner@duka.example"))
            .await
            .unwrap_err();
        assert_eq!(
            judged(&error, "(no secret)"),
            expected,
            "{failure:?}: {error}"
        );
    }
    let error = channel.send(&message("not an address")).await.unwrap_err();
    assert_eq!(judged(&error, "(no secret)"), ("invalid_recipient", false));
    assert!(fake.received().is_empty());
    channel.send(&message("owner@duka.example")).await.unwrap();
    assert_eq!(fake.received().len(), 1);
}

#[tokio::test]
async fn a_webhook_is_signed_and_carries_the_message_id() {
    let secret = "whsec_0123456789abcdef";
    let receiver = FakeWebhookReceiver::start(secret).await.unwrap();
    let channel =
        SignedWebhook::new(WebhookConfig::new(secret).with_timeout(Duration::from_millis(500)))
            .unwrap();
    let mut outgoing = message(&receiver.url());
    outgoing.content.body = r#"{"type":"order_placed","orderNumber":"POCHI-2222222222"}"#.into();
    channel.send(&outgoing).await.unwrap();
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, outgoing.content.body);
    assert_eq!(got[0].idempotency_key, Some(outgoing.id.to_string()));
    assert!(!format!("{channel:?}").contains(secret));

    for (failure, expected) in [
        (Failure::RateLimited, ("rate_limited", true)),
        (Failure::ServerError, ("unavailable", true)),
        (Failure::InvalidNumber, ("rejected", false)),
        (Failure::Timeout, ("timeout", true)),
    ] {
        receiver.fail_next(1, failure);
        let error = channel.send(&outgoing).await.unwrap_err();
        assert_eq!(judged(&error, secret), expected, "{failure:?}: {error}");
    }

    // Signed with another secret: the receiver refuses it, and the channel says so.
    let wrong =
        SignedWebhook::new(WebhookConfig::new("whsec_other").with_url(receiver.url())).unwrap();
    let error = wrong.send(&outgoing).await.unwrap_err();
    assert_eq!(judged(&error, "whsec_other"), ("unauthorized", false));
    assert_eq!(receiver.refused(), 1);
}
