//! The texts of the shop's messages: one template per message and language, with defaults in
//! English and Kiswahili that each fit one SMS, and the owner's own versions from the shop's
//! settings ([`StoreSettings::notification_templates`](crate::StoreSettings)).
//!
//! A template is plain text with placeholders: `{shop}` (the shop's name), `{name}` (the
//! customer's), `{order}` (the order number), `{total}`, `{amount}` (a payment's),
//! `{receipt}` (the M-Pesa receipt, or a refund's M-Pesa reference), `{status}` and `{link}`
//! (the page to pay or track the order). A placeholder without a value in a message (no
//! receipt yet) becomes empty text.

use std::{collections::HashMap, fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use super::{Audience, EventDetails, NoticeKind};
use crate::{
    error::{Error, InvalidValue, Result},
    language::Language,
    order::OrderStatus,
};

string_enum!(
    /// Which message a template is for.
    TemplateName, "template name" {
        /// To the customer: the order was placed (with a link to pay or track it).
        OrderPlaced = "order_placed",
        /// To the customer: the payment came in (with the M-Pesa receipt).
        PaymentSucceeded = "payment_succeeded",
        /// To the customer: the payment failed, was cancelled or timed out.
        PaymentFailed = "payment_failed",
        /// To the customer: the order is on its way.
        OrderDispatched = "order_dispatched",
        /// To the customer: the order was delivered.
        OrderDelivered = "order_delivered",
        /// To the customer: the order was cancelled (by the shop, or unpaid in time).
        OrderCancelled = "order_cancelled",
        /// To the customer: money owed back was sent back (with its M-Pesa reference).
        RefundSent = "refund_sent",
        /// To the owner: an order was paid.
        OwnerPaymentSucceeded = "owner_payment_succeeded",
    }
);

impl TemplateName {
    /// Who the message goes to.
    pub const fn audience(self) -> Audience {
        match self {
            TemplateName::OwnerPaymentSucceeded => Audience::Owner,
            _ => Audience::Customer,
        }
    }

    /// The customer's template for an event, if the customer hears of it: a move to a status
    /// with no template of its own (`processing`) makes no message.
    pub fn for_customer(details: &EventDetails) -> Option<TemplateName> {
        match details.kind {
            NoticeKind::OrderPlaced => Some(TemplateName::OrderPlaced),
            NoticeKind::PaymentSucceeded => Some(TemplateName::PaymentSucceeded),
            NoticeKind::PaymentFailed => Some(TemplateName::PaymentFailed),
            NoticeKind::RefundSent => Some(TemplateName::RefundSent),
            NoticeKind::StatusChanged => match details.status {
                OrderStatus::Dispatched => Some(TemplateName::OrderDispatched),
                OrderStatus::Delivered => Some(TemplateName::OrderDelivered),
                OrderStatus::Cancelled => Some(TemplateName::OrderCancelled),
                _ => None,
            },
        }
    }

    /// The template's default text.
    pub const fn default_text(self, language: Language) -> &'static str {
        use Language::{English as En, Kiswahili as Sw};
        use TemplateName as T;
        match (self, language) {
            (T::OrderPlaced, En) => {
                "{shop}: Thank you! Order {order} of {total} is received. Pay or track it: {link}"
            }
            (T::OrderPlaced, Sw) => {
                "{shop}: Asante! Oda {order} ya {total} imepokelewa. Lipa au fuatilia: {link}"
            }
            (T::PaymentSucceeded, En) => {
                "{shop}: We received {amount} for order {order}. Receipt {receipt}. Track: {link}"
            }
            (T::PaymentSucceeded, Sw) => {
                "{shop}: Tumepokea {amount} kwa oda {order}. Risiti {receipt}. Fuatilia: {link}"
            }
            (T::PaymentFailed, En) => {
                "{shop}: The payment for order {order} did not go through. Try again: {link}"
            }
            (T::PaymentFailed, Sw) => {
                "{shop}: Malipo ya oda {order} hayakufaulu. Jaribu tena: {link}"
            }
            (T::OrderDispatched, En) => "{shop}: Order {order} is on its way. Track it: {link}",
            (T::OrderDispatched, Sw) => "{shop}: Oda {order} iko njiani. Fuatilia: {link}",
            (T::OrderDelivered, En) => {
                "{shop}: Order {order} was delivered. Thank you for shopping with us!"
            }
            (T::OrderDelivered, Sw) => "{shop}: Oda {order} imefikishwa. Asante kwa kununua kwetu!",
            (T::OrderCancelled, En) => "{shop}: Order {order} was cancelled. Details: {link}",
            (T::OrderCancelled, Sw) => "{shop}: Oda {order} imeghairiwa. Maelezo: {link}",
            (T::RefundSent, En) => {
                "{shop}: We sent back {amount} for order {order}. M-Pesa {receipt}. {link}"
            }
            (T::RefundSent, Sw) => {
                "{shop}: Tumekurudishia {amount} kwa oda {order}. M-Pesa {receipt}. {link}"
            }
            (T::OwnerPaymentSucceeded, En) => {
                "Paid: order {order}, {amount} from {name}. M-Pesa receipt {receipt}. {link}"
            }
            (T::OwnerPaymentSucceeded, Sw) => {
                "Imelipwa: oda {order}, {amount} kutoka kwa {name}. Risiti {receipt}. {link}"
            }
        }
    }
}

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "shop", "name", "order", "total", "amount", "receipt", "status", "link",
];

/// The longest template text, in characters.
pub const MAX_TEMPLATE_CHARS: usize = 1_000;

/// The owner's own text for one template in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateOverride {
    /// Which template.
    pub name: TemplateName,
    /// In which language.
    pub language: Language,
    /// The text, with placeholders.
    pub text: String,
}

/// Checks a template's text: not empty, at most [`MAX_TEMPLATE_CHARS`], every `{…}` a known
/// placeholder. The error names what is wrong (`{pone}` is not a placeholder).
pub fn check_template(text: &str) -> std::result::Result<(), String> {
    if text.trim().is_empty() {
        return Err("must not be empty".to_owned());
    }
    if text.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(format!("must be at most {MAX_TEMPLATE_CHARS} characters"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err("must not hold control characters other than line breaks".to_owned());
    }
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err("has a `{` with no closing `}`".to_owned());
        };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "{{{name}}} is not a placeholder; use {}",
                PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// Validates the owner's templates as submitted in the settings: each text checked, no
/// template given twice for one language. Errors point at `notificationTemplates[i].text`.
pub fn parse_overrides(overrides: &[TemplateOverride]) -> Result<Vec<TemplateOverride>> {
    if overrides.len() > TemplateName::ALL.len() * Language::ALL.len() {
        return Err(Error::invalid(
            "notificationTemplates",
            "holds more templates than there are",
        ));
    }
    let mut parsed: Vec<TemplateOverride> = Vec::with_capacity(overrides.len());
    for (i, o) in overrides.iter().enumerate() {
        check_template(&o.text)
            .map_err(|m| Error::invalid(format!("notificationTemplates[{i}].text"), m))?;
        if parsed
            .iter()
            .any(|p| p.name == o.name && p.language == o.language)
        {
            return Err(Error::invalid(
                format!("notificationTemplates[{i}]"),
                format!("{} in {} is given twice", o.name, o.language.as_str()),
            ));
        }
        parsed.push(o.clone());
    }
    Ok(parsed)
}

/// The values a message's placeholders take.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateVars {
    /// `{shop}`.
    pub shop: String,
    /// `{name}`.
    pub name: String,
    /// `{order}`.
    pub order: String,
    /// `{total}`.
    pub total: String,
    /// `{amount}`: the payment's, or the total when the event has no payment.
    pub amount: String,
    /// `{receipt}`.
    pub receipt: String,
    /// `{status}`.
    pub status: String,
    /// `{link}`.
    pub link: String,
}

impl TemplateVars {
    /// The values for an event of the shop named `shop`, with `link`.
    pub fn of(details: &EventDetails, shop: &str, link: &str) -> TemplateVars {
        TemplateVars {
            shop: shop.to_owned(),
            name: details.customer_name.clone(),
            order: details.order_number.to_string(),
            total: details.total.to_string(),
            amount: details.amount.unwrap_or(details.total).to_string(),
            receipt: details.receipt.clone().unwrap_or_default(),
            status: details.status.as_str().to_owned(),
            link: link.to_owned(),
        }
    }

    /// `text` with its placeholders filled in with these values (unknown ones stay).
    pub fn fill(&self, text: &str) -> String {
        fill(text, self).0
    }

    /// The value of one placeholder (`order`), if it is one.
    pub fn get(&self, placeholder: &str) -> Option<&str> {
        Some(match placeholder {
            "shop" => &self.shop,
            "name" => &self.name,
            "order" => &self.order,
            "total" => &self.total,
            "amount" => &self.amount,
            "receipt" => &self.receipt,
            "status" => &self.status,
            "link" => &self.link,
            _ => return None,
        })
    }
}

/// The shop's templates: the defaults, with the owner's own texts where given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Templates {
    overrides: HashMap<(TemplateName, Language), String>,
}

impl Templates {
    /// The defaults only.
    pub fn defaults() -> Templates {
        Templates::default()
    }

    /// The defaults, with `overrides` in their place (a later one for the same template and
    /// language wins).
    pub fn with_overrides(overrides: &[TemplateOverride]) -> Templates {
        Templates {
            overrides: overrides
                .iter()
                .map(|o| ((o.name, o.language), o.text.clone()))
                .collect(),
        }
    }

    /// The text of a template in a language, as the shop uses it.
    pub fn source(&self, name: TemplateName, language: Language) -> &str {
        self.overrides
            .get(&(name, language))
            .map_or_else(|| name.default_text(language), String::as_str)
    }

    /// Whether the owner changed this template.
    pub fn is_overridden(&self, name: TemplateName, language: Language) -> bool {
        self.overrides.contains_key(&(name, language))
    }

    /// The message: the template with its placeholders filled in.
    pub fn render(&self, name: TemplateName, language: Language, vars: &TemplateVars) -> String {
        fill(self.source(name, language), vars).0
    }

    /// The message and the values of its placeholders in order of appearance (a WhatsApp
    /// template's body parameters).
    pub fn render_with_params(
        &self,
        name: TemplateName,
        language: Language,
        vars: &TemplateVars,
    ) -> (String, Vec<String>) {
        fill(self.source(name, language), vars)
    }
}

/// Fills `{placeholder}`s; anything else, unknown names included, stays as written.
fn fill(template: &str, vars: &TemplateVars) -> (String, Vec<String>) {
    let mut out = String::with_capacity(template.len() + 64);
    let mut params = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| vars.get(&after[..close]).map(|v| (close, v)))
        {
            Some((close, value)) => {
                out.push_str(value);
                params.push(value.to_owned());
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::SmsLength;

    fn vars() -> TemplateVars {
        // Realistic worst lengths: a 20-character shop and name, a 16-character order number,
        // a five-figure total, a 10-character receipt and a 53-character link.
        TemplateVars {
            shop: "Mama Njeri Boutique!".into(),
            name: "Wanjiru Kamau Njoroge".into(),
            order: "POCHI-7K3M9QXA2B".into(),
            total: "KES 12345.00".into(),
            amount: "KES 12345.00".into(),
            receipt: "SLK4H7Q2XZ".into(),
            status: "dispatched".into(),
            link: "https://duka.example.co.ke/track?order=POCHI-7K3M9QXA2B".into(),
        }
    }

    #[test]
    fn every_default_is_valid_and_fits_one_gsm_sms() {
        let templates = Templates::defaults();
        for &name in TemplateName::ALL {
            for language in Language::ALL {
                let text = name.default_text(language);
                assert_eq!(check_template(text), Ok(()), "{name} {language:?}");
                let message = templates.render(name, language, &vars());
                let length = SmsLength::of(&message);
                assert_eq!(
                    (length.encoding, length.segments),
                    (crate::notify::SmsEncoding::Gsm7, 1),
                    "{name} in {language:?} takes {length:?}: {message}"
                );
            }
        }
    }

    #[test]
    fn render_fills_placeholders_in_either_language() {
        let t = Templates::defaults();
        let en = t.render(TemplateName::PaymentSucceeded, Language::English, &vars());
        assert_eq!(
            en,
            "Mama Njeri Boutique!: We received KES 12345.00 for order POCHI-7K3M9QXA2B. \
             Receipt SLK4H7Q2XZ. Track: https://duka.example.co.ke/track?order=POCHI-7K3M9QXA2B"
        );
        let sw = t.render(TemplateName::OrderPlaced, Language::Kiswahili, &vars());
        assert!(sw.starts_with("Mama Njeri Boutique!: Asante! Oda POCHI-7K3M9QXA2B ya KES"));
        let (_, params) =
            t.render_with_params(TemplateName::OrderDispatched, Language::English, &vars());
        assert_eq!(
            params,
            ["Mama Njeri Boutique!", "POCHI-7K3M9QXA2B", &vars().link]
        );
    }

    #[test]
    fn the_owners_text_wins_for_its_language_only() {
        let t = Templates::with_overrides(&[TemplateOverride {
            name: TemplateName::OrderPlaced,
            language: Language::Kiswahili,
            text: "Karibu {name}! {order} {unknown".into(),
        }]);
        let sw = t.render(TemplateName::OrderPlaced, Language::Kiswahili, &vars());
        assert_eq!(
            sw,
            "Karibu Wanjiru Kamau Njoroge! POCHI-7K3M9QXA2B {unknown"
        );
        assert!(t.is_overridden(TemplateName::OrderPlaced, Language::Kiswahili));
        assert_eq!(
            t.source(TemplateName::OrderPlaced, Language::English),
            TemplateName::OrderPlaced.default_text(Language::English)
        );
    }

    #[test]
    fn a_bad_template_is_refused_with_the_field_and_the_reason() {
        let bad = |text: &str| TemplateOverride {
            name: TemplateName::OrderDelivered,
            language: Language::English,
            text: text.into(),
        };
        let err = parse_overrides(&[bad("ok {order}"), bad("Hi {pone}")]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("notificationTemplates[1].text"), "{text}");
        assert!(text.contains("{pone} is not a placeholder"), "{text}");
        assert!(parse_overrides(&[bad("   ")]).is_err());
        assert!(parse_overrides(&[bad("open {order")]).is_err());
        assert!(parse_overrides(&[bad(&"x".repeat(MAX_TEMPLATE_CHARS + 1))]).is_err());
        let twice = parse_overrides(&[bad("a"), bad("b")])
            .unwrap_err()
            .to_string();
        assert!(twice.contains("given twice"), "{twice}");
        assert_eq!(parse_overrides(&[bad("Asante {name}")]).unwrap().len(), 1);
    }

    #[test]
    fn each_event_has_the_customer_template_it_should() {
        use crate::{fixtures, notify::OutboxEvent};
        let order = fixtures::order("2222222222", rust_decimal::Decimal::from(1500));
        let placed = OutboxEvent::placed(&order);
        assert_eq!(
            TemplateName::for_customer(&placed.details),
            Some(TemplateName::OrderPlaced)
        );
        let mut details = placed.details.clone();
        details.kind = NoticeKind::StatusChanged;
        for (status, template) in [
            (OrderStatus::Dispatched, Some(TemplateName::OrderDispatched)),
            (OrderStatus::Delivered, Some(TemplateName::OrderDelivered)),
            (OrderStatus::Cancelled, Some(TemplateName::OrderCancelled)),
            (OrderStatus::Processing, None),
        ] {
            details.status = status;
            assert_eq!(TemplateName::for_customer(&details), template, "{status:?}");
        }
        details.kind = NoticeKind::RefundSent;
        assert_eq!(
            TemplateName::for_customer(&details),
            Some(TemplateName::RefundSent)
        );
    }
}
