//! `POCHI_NOTIFY_*`: which channels the shop sends its messages by, and to whom.

use std::{fmt, time::Duration};

use pochi_core::{Msisdn, notify::ChannelKind};

use super::{ConfigError, MpesaMode, Vars, values::duration};

/// The variables read here.
pub(crate) const VARIABLES: &[&str] = &[
    "POCHI_NOTIFY_CUSTOMERS",
    "POCHI_NOTIFY_OWNER",
    "POCHI_NOTIFY_INTERVAL",
    "POCHI_NOTIFY_SMS_USERNAME",
    "POCHI_NOTIFY_SMS_API_KEY",
    "POCHI_NOTIFY_SMS_SENDER_ID",
    "POCHI_NOTIFY_SMS_BASE_URL",
    "POCHI_NOTIFY_SMS_CALLBACK_TOKEN",
    "POCHI_NOTIFY_WHATSAPP_TOKEN",
    "POCHI_NOTIFY_WHATSAPP_PHONE_NUMBER_ID",
    "POCHI_NOTIFY_WHATSAPP_BASE_URL",
    "POCHI_NOTIFY_SMTP_HOST",
    "POCHI_NOTIFY_SMTP_PORT",
    "POCHI_NOTIFY_SMTP_TLS",
    "POCHI_NOTIFY_SMTP_USERNAME",
    "POCHI_NOTIFY_SMTP_PASSWORD",
    "POCHI_NOTIFY_EMAIL_FROM",
    "POCHI_NOTIFY_WEBHOOK_URL",
    "POCHI_NOTIFY_WEBHOOK_SECRET",
];

/// A secret: kept, never printed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// Africa's Talking SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SmsSettings {
    pub(crate) username: String,
    pub(crate) api_key: Secret,
    pub(crate) sender_id: Option<String>,
    /// The API's base URL (the sandbox's for user name `sandbox`, the live one otherwise).
    pub(crate) base_url: String,
    /// The token in the callback URLs Africa's Talking posts incoming messages and opt-outs
    /// to; without it those routes answer 404.
    pub(crate) callback_token: Option<Secret>,
}

/// Meta's WhatsApp Cloud API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WhatsAppSettings {
    pub(crate) token: Secret,
    pub(crate) phone_number_id: String,
    pub(crate) base_url: String,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SmtpTls {
    /// STARTTLS on a plain connection (port 587), required.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// None: only for a relay on this machine.
    None,
}

/// E-mail over SMTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SmtpSettings {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: SmtpTls,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Secret>,
    pub(crate) from: String,
}

/// A signed webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WebhookSettings {
    pub(crate) url: String,
    pub(crate) secret: Secret,
}

/// Where messages go, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotifySettings {
    pub(crate) sms: Option<SmsSettings>,
    pub(crate) whatsapp: Option<WhatsAppSettings>,
    pub(crate) smtp: Option<SmtpSettings>,
    pub(crate) webhook: Option<WebhookSettings>,
    /// The channels customers get their messages by, in order.
    pub(crate) customer_channels: Vec<ChannelKind>,
    /// The owner's alerts: (channel, address).
    pub(crate) owner: Vec<(ChannelKind, String)>,
    /// Between two dispatcher runs.
    pub(crate) interval: Duration,
}

impl Vars {
    /// Reads `POCHI_NOTIFY_*`. With nothing set, simulated shops keep their messages for the
    /// dashboard (the `log` channel) and other shops send none.
    pub(crate) fn notify(&self, mpesa_mode: MpesaMode) -> Result<NotifySettings, ConfigError> {
        let sms = self.sms()?;
        let whatsapp = self.whatsapp()?;
        let smtp = self.smtp()?;
        let webhook = self.webhook()?;
        let configured = |kind: ChannelKind| match kind {
            ChannelKind::Sms => sms.is_some(),
            ChannelKind::WhatsApp => whatsapp.is_some(),
            ChannelKind::Email => smtp.is_some(),
            ChannelKind::Webhook => webhook.is_some(),
            ChannelKind::Log => true,
        };
        let customer_channels = match self.get("POCHI_NOTIFY_CUSTOMERS") {
            Some(text) if text.eq_ignore_ascii_case("off") => Vec::new(),
            Some(text) => {
                let mut channels = Vec::new();
                for part in text.split(',').map(str::trim) {
                    let kind = match part.to_ascii_lowercase().as_str() {
                        "sms" => ChannelKind::Sms,
                        "whatsapp" => ChannelKind::WhatsApp,
                        "log" => ChannelKind::Log,
                        _ => {
                            return Err(ConfigError::new(
                                "POCHI_NOTIFY_CUSTOMERS",
                                "must be off, or a comma-separated list of sms, whatsapp and log",
                            ));
                        }
                    };
                    if !configured(kind) {
                        return Err(ConfigError::new(
                            "POCHI_NOTIFY_CUSTOMERS",
                            format!("names {kind}, but that channel is not configured"),
                        ));
                    }
                    if !channels.contains(&kind) {
                        channels.push(kind);
                    }
                }
                channels
            }
            None if sms.is_some() => vec![ChannelKind::Sms],
            None if whatsapp.is_some() => vec![ChannelKind::WhatsApp],
            None if mpesa_mode == MpesaMode::Simulated => vec![ChannelKind::Log],
            None => Vec::new(),
        };
        let mut owner = Vec::new();
        if let Some(text) = self.get("POCHI_NOTIFY_OWNER") {
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let err = |message: &str| ConfigError::new("POCHI_NOTIFY_OWNER", message);
                let (kind, address) = part.split_once(':').ok_or_else(|| {
                    err("must be a comma-separated list of sms:PHONE, whatsapp:PHONE, email:ADDRESS or log:NAME")
                })?;
                let kind = match kind.trim().to_ascii_lowercase().as_str() {
                    "sms" => ChannelKind::Sms,
                    "whatsapp" => ChannelKind::WhatsApp,
                    "email" => ChannelKind::Email,
                    "log" => ChannelKind::Log,
                    _ => {
                        return Err(err(
                            "each entry starts with sms:, whatsapp:, email: or log:",
                        ));
                    }
                };
                if !configured(kind) {
                    return Err(err(&format!(
                        "names {kind}, but that channel is not configured"
                    )));
                }
                let address = address.trim();
                let address = match kind {
                    ChannelKind::Sms | ChannelKind::WhatsApp => Msisdn::parse(address)
                        .map_err(|_| err("a phone there is not a Kenyan mobile number"))?
                        .as_str()
                        .to_owned(),
                    ChannelKind::Email if !plausible_email(address) => {
                        return Err(err("an e-mail address there is not one"));
                    }
                    _ => address.to_owned(),
                };
                owner.push((kind, address));
            }
        }
        if self.get("POCHI_NOTIFY_OWNER").is_none()
            && mpesa_mode == MpesaMode::Simulated
            && customer_channels == [ChannelKind::Log]
        {
            // A demo shows the owner's alert beside the customer's messages.
            owner.push((ChannelKind::Log, "owner".to_owned()));
        }
        let interval = self.parsed("POCHI_NOTIFY_INTERVAL", Duration::from_secs(2), duration)?;
        Ok(NotifySettings {
            sms,
            whatsapp,
            smtp,
            webhook,
            customer_channels,
            owner,
            interval,
        })
    }

    /// The variables of a group: all of `required` or none of them.
    fn group(&self, required: &[&str]) -> Result<bool, ConfigError> {
        let set: Vec<&&str> = required.iter().filter(|v| self.get(v).is_some()).collect();
        if set.is_empty() {
            return Ok(false);
        }
        if let Some(missing) = required.iter().find(|v| self.get(v).is_none()) {
            return Err(ConfigError::new(
                *missing,
                format!("must be set too, since {} is", set[0]),
            ));
        }
        Ok(true)
    }

    fn sms(&self) -> Result<Option<SmsSettings>, ConfigError> {
        if !self.group(&["POCHI_NOTIFY_SMS_USERNAME", "POCHI_NOTIFY_SMS_API_KEY"])? {
            return Ok(None);
        }
        let username = self.get("POCHI_NOTIFY_SMS_USERNAME").unwrap_or_default();
        let default_base = if username == "sandbox" {
            "https://api.sandbox.africastalking.com"
        } else {
            "https://api.africastalking.com"
        };
        Ok(Some(SmsSettings {
            username: username.to_owned(),
            api_key: Secret(
                self.get("POCHI_NOTIFY_SMS_API_KEY")
                    .unwrap_or_default()
                    .to_owned(),
            ),
            sender_id: self.get("POCHI_NOTIFY_SMS_SENDER_ID").map(str::to_owned),
            base_url: self.base_url("POCHI_NOTIFY_SMS_BASE_URL", default_base)?,
            callback_token: self.parsed("POCHI_NOTIFY_SMS_CALLBACK_TOKEN", None, |text| {
                if text.len() < 16 || !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    Err("must be at least 16 letters and digits".to_owned())
                } else {
                    Ok(Some(Secret(text.to_owned())))
                }
            })?,
        }))
    }

    fn whatsapp(&self) -> Result<Option<WhatsAppSettings>, ConfigError> {
        if !self.group(&[
            "POCHI_NOTIFY_WHATSAPP_TOKEN",
            "POCHI_NOTIFY_WHATSAPP_PHONE_NUMBER_ID",
        ])? {
            return Ok(None);
        }
        let phone_number_id = self
            .get("POCHI_NOTIFY_WHATSAPP_PHONE_NUMBER_ID")
            .unwrap_or_default();
        if !phone_number_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::new(
                "POCHI_NOTIFY_WHATSAPP_PHONE_NUMBER_ID",
                "must be the phone number id Meta shows (digits)",
            ));
        }
        Ok(Some(WhatsAppSettings {
            token: Secret(
                self.get("POCHI_NOTIFY_WHATSAPP_TOKEN")
                    .unwrap_or_default()
                    .to_owned(),
            ),
            phone_number_id: phone_number_id.to_owned(),
            base_url: self.base_url(
                "POCHI_NOTIFY_WHATSAPP_BASE_URL",
                "https://graph.facebook.com",
            )?,
        }))
    }

    fn smtp(&self) -> Result<Option<SmtpSettings>, ConfigError> {
        if !self.group(&["POCHI_NOTIFY_SMTP_HOST", "POCHI_NOTIFY_EMAIL_FROM"])? {
            return Ok(None);
        }
        let tls = self.parsed(
            "POCHI_NOTIFY_SMTP_TLS",
            SmtpTls::StartTls,
            |text| match text.to_ascii_lowercase().as_str() {
                "starttls" => Ok(SmtpTls::StartTls),
                "tls" => Ok(SmtpTls::Tls),
                "none" => Ok(SmtpTls::None),
                _ => Err("must be starttls, tls or none".to_owned()),
            },
        )?;
        let default_port = match tls {
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        };
        let port = self.parsed("POCHI_NOTIFY_SMTP_PORT", default_port, |text| {
            text.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| "must be a port number".to_owned())
        })?;
        let from = self.get("POCHI_NOTIFY_EMAIL_FROM").unwrap_or_default();
        if !plausible_email(from) {
            return Err(ConfigError::new(
                "POCHI_NOTIFY_EMAIL_FROM",
                "must be an e-mail address",
            ));
        }
        let username = self.get("POCHI_NOTIFY_SMTP_USERNAME").map(str::to_owned);
        let password = self
            .get("POCHI_NOTIFY_SMTP_PASSWORD")
            .map(|p| Secret(p.to_owned()));
        if username.is_some() != password.is_some() {
            return Err(ConfigError::new(
                "POCHI_NOTIFY_SMTP_PASSWORD",
                "POCHI_NOTIFY_SMTP_USERNAME and POCHI_NOTIFY_SMTP_PASSWORD go together",
            ));
        }
        Ok(Some(SmtpSettings {
            host: self
                .get("POCHI_NOTIFY_SMTP_HOST")
                .unwrap_or_default()
                .to_owned(),
            port,
            tls,
            username,
            password,
            from: from.to_owned(),
        }))
    }

    fn webhook(&self) -> Result<Option<WebhookSettings>, ConfigError> {
        if !self.group(&["POCHI_NOTIFY_WEBHOOK_URL", "POCHI_NOTIFY_WEBHOOK_SECRET"])? {
            return Ok(None);
        }
        let secret = self.get("POCHI_NOTIFY_WEBHOOK_SECRET").unwrap_or_default();
        if secret.len() < 16 {
            return Err(ConfigError::new(
                "POCHI_NOTIFY_WEBHOOK_SECRET",
                "must be at least 16 characters",
            ));
        }
        Ok(Some(WebhookSettings {
            url: self.base_url("POCHI_NOTIFY_WEBHOOK_URL", "")?,
            secret: Secret(secret.to_owned()),
        }))
    }

    /// An http(s) URL, or `default` when unset. The URL is never echoed in an error: it may
    /// hold credentials.
    fn base_url(&self, name: &str, default: &str) -> Result<String, ConfigError> {
        let Some(text) = self.get(name) else {
            return Ok(default.to_owned());
        };
        match url::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Ok(text.trim_end_matches('/').to_owned())
            }
            _ => Err(ConfigError::new(name, "must be an http:// or https:// URL")),
        }
    }
}

/// Whether `text` looks like an e-mail address (one `@`, something on both sides, a dot in the
/// domain); the mail server is the judge of the rest.
fn plausible_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.contains('@')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && text.len() <= 254
}
