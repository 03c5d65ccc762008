//! Which messages an outbox event makes: to the customer by each of the shop's customer
//! channels, in the language of their checkout; to the owner for a paid order; and to the
//! shop's webhook for every event.

use serde_json::json;

use super::{
    Audience, ChannelKind, DeliveryId, DeliveryState, MessageContent, NewDelivery, NoticeKind,
    OutboxEvent,
    templates::{TemplateName, TemplateVars, Templates},
};
use crate::{language::Language, money::Money};

/// Why a customer's SMS was not sent: they opted out.
pub const OPTED_OUT: &str = "opted_out: the customer asked for no more text messages (STOP)";

/// Who hears of what, and how (see [`Notifications`](super::Notifications)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifySetup {
    /// The shop's name, for `{shop}` (the dispatcher fills it from the settings).
    pub shop_name: String,
    /// Where the shop's pages are, for links (`https://duka.example`, no trailing slash).
    pub public_base_url: String,
    /// The channels customers get their messages by (each makes one message).
    pub customer_channels: Vec<ChannelKind>,
    /// Where the owner's alerts go.
    pub owner_contacts: Vec<OwnerContact>,
    /// The texts (the dispatcher fills them from the settings).
    pub templates: Templates,
    /// The shop's webhook, which hears of every event.
    pub webhook_url: Option<String>,
}

/// One place the owner's alerts go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerContact {
    /// By which channel.
    pub channel: ChannelKind,
    /// To whom: a phone in international form (`+254712345678`), an e-mail address, or a
    /// name for the log channel.
    pub to: String,
}

/// The link a message carries: the payment page while the order waits for money, the
/// tracking page otherwise.
pub fn order_link(base: &str, kind: NoticeKind, order: &str) -> String {
    let base = base.trim_end_matches('/');
    match kind {
        NoticeKind::OrderPlaced | NoticeKind::PaymentFailed => format!("{base}/pay?order={order}"),
        _ => format!("{base}/track?order={order}"),
    }
}

/// The owner's link: the dashboard's orders.
pub(crate) fn admin_link(base: &str) -> String {
    format!("{}/admin#orders", base.trim_end_matches('/'))
}

/// The messages `event` makes under `setup`. `opted_out_of_sms`: the customer sent STOP, so a
/// customer SMS is made `Skipped` (kept, to show the owner it was not sent).
pub fn plan_deliveries(
    event: &OutboxEvent,
    setup: &NotifySetup,
    opted_out_of_sms: bool,
) -> Vec<NewDelivery> {
    let details = &event.details;
    let order = details.order_number.to_string();
    let link = order_link(&setup.public_base_url, details.kind, &order);
    let vars = TemplateVars::of(details, &setup.shop_name, &link);
    let mut deliveries = Vec::new();

    if let Some(name) = TemplateName::for_customer(details) {
        let language = details.language;
        let (body, params) = setup.templates.render_with_params(name, language, &vars);
        for &channel in &setup.customer_channels {
            let to = match channel {
                ChannelKind::Sms | ChannelKind::WhatsApp => format!("+{}", details.phone.as_str()),
                ChannelKind::Log => details.phone.as_str().to_owned(),
                // The shop keeps no customer e-mail address; webhooks are below.
                ChannelKind::Email | ChannelKind::Webhook => continue,
            };
            let skipped = channel == ChannelKind::Sms && opted_out_of_sms;
            deliveries.push(NewDelivery {
                id: DeliveryId::new(),
                channel,
                audience: Audience::Customer,
                message: MessageContent {
                    to,
                    language,
                    template: name.as_str().to_owned(),
                    params: params.clone(),
                    subject: None,
                    body: body.clone(),
                },
                state: if skipped {
                    DeliveryState::Skipped
                } else {
                    DeliveryState::Pending
                },
                skipped_because: skipped.then(|| OPTED_OUT.to_owned()),
            });
        }
    }

    if details.kind == NoticeKind::PaymentSucceeded {
        let name = TemplateName::OwnerPaymentSucceeded;
        // The owner reads the dashboard's language: English.
        let language = Language::English;
        // The owner's link is the dashboard (the tracking page masks the customer's details).
        let vars = TemplateVars {
            link: admin_link(&setup.public_base_url),
            ..vars.clone()
        };
        let (body, params) = setup.templates.render_with_params(name, language, &vars);
        for contact in &setup.owner_contacts {
            deliveries.push(NewDelivery {
                id: DeliveryId::new(),
                channel: contact.channel,
                audience: Audience::Owner,
                message: MessageContent {
                    to: contact.to.clone(),
                    language,
                    template: name.as_str().to_owned(),
                    params: params.clone(),
                    subject: (contact.channel == ChannelKind::Email)
                        .then(|| format!("Paid: order {order}, {}", vars.amount)),
                    body: body.clone(),
                },
                state: DeliveryState::Pending,
                skipped_because: None,
            });
        }
    }

    if let Some(url) = &setup.webhook_url {
        deliveries.push(NewDelivery {
            id: DeliveryId::new(),
            channel: ChannelKind::Webhook,
            audience: Audience::Owner,
            message: MessageContent {
                to: url.clone(),
                language: Language::English,
                template: details.kind.as_str().to_owned(),
                params: Vec::new(),
                subject: None,
                body: webhook_body(event),
            },
            state: DeliveryState::Pending,
            skipped_because: None,
        });
    }
    deliveries
}

/// The JSON a webhook receives for an event: what happened to which order, never the
/// customer's name or phone.
pub fn webhook_body(event: &OutboxEvent) -> String {
    let d = &event.details;
    let money = |m: &Money| json!({ "amount": m.amount().to_string(), "currency": m.currency() });
    json!({
        "id": event.id.to_string(),
        "type": d.kind.as_str(),
        "orderNumber": d.order_number.to_string(),
        "status": d.status.as_str(),
        "previousStatus": d.previous_status.map(|s| s.as_str()),
        "total": money(&d.total),
        "amount": d.amount.as_ref().map(money),
        "receipt": d.receipt,
        "at": d.at.format(&time::format_description::well_known::Rfc3339).ok(),
    })
    .to_string()
}

/// One message of every template in both languages, for a sample order of the shop under
/// `setup`: what the demo and the docs show.
pub fn sample_messages(setup: &NotifySetup) -> Vec<(TemplateName, Language, String)> {
    let vars = sample_vars(setup);
    let mut out = Vec::new();
    for &name in TemplateName::ALL {
        for language in Language::ALL {
            let kind = match name {
                TemplateName::OrderPlaced => NoticeKind::OrderPlaced,
                TemplateName::PaymentFailed => NoticeKind::PaymentFailed,
                TemplateName::RefundSent => NoticeKind::RefundSent,
                _ => NoticeKind::StatusChanged,
            };
            let link = if name == TemplateName::OwnerPaymentSucceeded {
                admin_link(&setup.public_base_url)
            } else {
                order_link(&setup.public_base_url, kind, &vars.order)
            };
            let vars = TemplateVars {
                link,
                ..vars.clone()
            };
            out.push((
                name,
                language,
                setup.templates.render(name, language, &vars),
            ));
        }
    }
    out
}

/// The values of the sample order of [`sample_messages`], with the longer (tracking) link.
pub fn sample_vars(setup: &NotifySetup) -> TemplateVars {
    let order = "POCHI-7K3M9QXA2B";
    TemplateVars {
        shop: setup.shop_name.clone(),
        name: "Wanjiru Kamau".to_owned(),
        order: order.to_owned(),
        total: "KES 2450.00".to_owned(),
        amount: "KES 2450.00".to_owned(),
        receipt: "SLK4H7Q2XZ".to_owned(),
        status: "dispatched".to_owned(),
        link: order_link(&setup.public_base_url, NoticeKind::StatusChanged, order),
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::{
        fixtures,
        order::OrderStatus,
        payment::{PaymentStatus, Receipt},
    };

    fn setup() -> NotifySetup {
        NotifySetup {
            shop_name: "Duka".into(),
            public_base_url: "https://duka.example/".into(),
            customer_channels: vec![ChannelKind::Sms, ChannelKind::WhatsApp],
            owner_contacts: vec![OwnerContact {
                channel: ChannelKind::Email,
                to: "owner@duka.example".into(),
            }],
            templates: Templates::defaults(),
            webhook_url: None,
        }
    }

    fn paid_event(language: Language) -> OutboxEvent {
        let mut order = fixtures::order("2222222222", Decimal::from(1500));
        order.language = language;
        order.status = OrderStatus::Paid;
        let mut payment =
            fixtures::payment(1, &order, Decimal::from(1500), PaymentStatus::Succeeded);
        payment.receipt = Some(Receipt::parse("SLK4H7Q2XZ").unwrap());
        OutboxEvent::settled(&order, &payment).unwrap()
    }

    #[test]
    fn a_placed_order_makes_one_message_a_channel_in_the_customers_language() {
        let mut order = fixtures::order("2222222222", Decimal::from(1500));
        order.language = Language::Kiswahili;
        let planned = plan_deliveries(&OutboxEvent::placed(&order), &setup(), false);
        assert_eq!(planned.len(), 2);
        assert_eq!(planned[0].channel, ChannelKind::Sms);
        assert_eq!(planned[1].channel, ChannelKind::WhatsApp);
        for d in &planned {
            assert_eq!(d.audience, Audience::Customer);
            assert_eq!(d.state, DeliveryState::Pending);
            assert_eq!(d.message.to, "+254712345678");
            assert_eq!(d.message.language, Language::Kiswahili);
            assert_eq!(d.message.template, "order_placed");
            assert!(
                d.message.body.starts_with("Duka: Asante!"),
                "{}",
                d.message.body
            );
            assert!(
                d.message
                    .body
                    .ends_with(&format!("https://duka.example/pay?order={}", order.number)),
                "{}",
                d.message.body
            );
        }
        assert_ne!(planned[0].id, planned[1].id);
        assert_eq!(planned[1].message.params[0], "Duka");
    }

    #[test]
    fn a_payment_tells_the_customer_the_receipt_and_alerts_the_owner() {
        let planned = plan_deliveries(&paid_event(Language::English), &setup(), false);
        let owner: Vec<_> = planned
            .iter()
            .filter(|d| d.audience == Audience::Owner)
            .collect();
        assert_eq!(owner.len(), 1);
        assert_eq!(owner[0].channel, ChannelKind::Email);
        assert_eq!(owner[0].message.to, "owner@duka.example");
        assert_eq!(owner[0].message.template, "owner_payment_succeeded");
        assert!(owner[0].message.subject.is_some());
        assert!(owner[0].message.body.contains("SLK4H7Q2XZ"));
        assert!(owner[0].message.body.contains("Wanjiru Njeri Kamau"));
        assert!(
            owner[0]
                .message
                .body
                .ends_with("https://duka.example/admin#orders"),
            "{}",
            owner[0].message.body
        );
        let sms = planned
            .iter()
            .find(|d| d.channel == ChannelKind::Sms)
            .unwrap();
        assert!(
            sms.message.body.contains("Receipt SLK4H7Q2XZ"),
            "{}",
            sms.message.body
        );
        assert!(
            sms.message.body.contains("/track?order="),
            "{}",
            sms.message.body
        );
    }

    #[test]
    fn an_opted_out_customer_gets_a_skipped_sms_and_whatsapp_still() {
        let planned = plan_deliveries(&paid_event(Language::English), &setup(), true);
        let sms = planned
            .iter()
            .find(|d| d.channel == ChannelKind::Sms)
            .unwrap();
        assert_eq!(sms.state, DeliveryState::Skipped);
        assert_eq!(sms.skipped_because.as_deref(), Some(OPTED_OUT));
        let whatsapp = planned
            .iter()
            .find(|d| d.channel == ChannelKind::WhatsApp)
            .unwrap();
        assert_eq!(whatsapp.state, DeliveryState::Pending);
    }

    #[test]
    fn a_move_to_processing_tells_the_customer_nothing_but_the_webhook_hears_it() {
        let mut order = fixtures::order("2222222222", Decimal::from(1500));
        order.status = OrderStatus::Processing;
        let mut event = OutboxEvent::placed(&order);
        event.details.kind = NoticeKind::StatusChanged;
        event.details.previous_status = Some(OrderStatus::Paid);
        let mut setup = setup();
        assert!(plan_deliveries(&event, &setup, false).is_empty());
        setup.webhook_url = Some("https://hooks.example/pochi".into());
        let planned = plan_deliveries(&event, &setup, false);
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].channel, ChannelKind::Webhook);
        assert_eq!(planned[0].message.to, "https://hooks.example/pochi");
        let body: serde_json::Value = serde_json::from_str(&planned[0].message.body).unwrap();
        assert_eq!(body["type"], "status_changed");
        assert_eq!(body["status"], "processing");
        assert_eq!(body["previousStatus"], "paid");
        assert_eq!(body["orderNumber"], order.number.to_string());
        // Privacy: the webhook never gets the customer's name or phone.
        let text = &planned[0].message.body;
        assert!(
            !text.contains("712345678") && !text.contains("Wanjiru"),
            "{text}"
        );
    }

    #[test]
    fn samples_cover_every_template_in_both_languages() {
        let samples = sample_messages(&setup());
        assert_eq!(samples.len(), TemplateName::ALL.len() * 2);
        assert!(samples.iter().all(|(_, _, text)| !text.contains('{')));
    }
}
