//! The shop's messages in the reference server: the channels `POCHI_NOTIFY_*` configures, and
//! the callback routes Africa's Talking posts customers' replies (STOP) to.

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::post,
};
use pochi_core::{
    Msisdn, Shop,
    notify::{Channel, ChannelKind, Notifications, NotifySetup, OwnerContact},
};
use pochi_notify::{
    AfricasTalkingConfig, AfricasTalkingSms, SignedWebhook, SmtpConfig, SmtpEmail, SmtpSecurity,
    WebhookConfig, WhatsAppCloud, WhatsAppConfig,
    inbound::{IncomingSms, Keyword, SmsOptOut},
};

use crate::settings::{Settings, notify::SmtpTls};

/// Why the configured channels could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the {channel} channel could not be set up: {reason}")]
pub struct ChannelError {
    channel: ChannelKind,
    reason: String,
}

/// What the shop sends its messages with, from the server's settings. `base_url` is where the
/// server listens, for links when no public URL is configured.
pub(crate) fn notifications(
    settings: &Settings,
    base_url: &str,
) -> Result<Notifications, ChannelError> {
    let notify = &settings.notify;
    let setup = NotifySetup {
        public_base_url: settings
            .public_url
            .clone()
            .unwrap_or_else(|| base_url.to_owned()),
        customer_channels: notify.customer_channels.clone(),
        owner_contacts: notify
            .owner
            .iter()
            .map(|(channel, to)| OwnerContact {
                channel: *channel,
                to: match channel {
                    // Settings keep a phone as its international digits.
                    ChannelKind::Sms | ChannelKind::WhatsApp => format!("+{to}"),
                    _ => to.clone(),
                },
            })
            .collect(),
        webhook_url: notify.webhook.as_ref().map(|w| w.url.clone()),
        ..NotifySetup::default()
    };
    Ok(Notifications::new(setup, channels(settings)?))
}

/// The configured channels (the log channel needs none).
fn channels(settings: &Settings) -> Result<Vec<Arc<dyn Channel>>, ChannelError> {
    let notify = &settings.notify;
    let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
    let failed = |channel: ChannelKind| {
        move |e: &dyn std::fmt::Display| ChannelError {
            channel,
            reason: e.to_string(),
        }
    };
    if let Some(sms) = &notify.sms {
        let mut config = if sms.username == "sandbox" {
            AfricasTalkingConfig::sandbox(sms.api_key.0.clone())
        } else {
            AfricasTalkingConfig::live(sms.username.clone(), sms.api_key.0.clone())
        }
        .with_base_url(sms.base_url.clone());
        if let Some(sender) = &sms.sender_id {
            config = config.with_sender_id(sender.clone());
        }
        let channel = AfricasTalkingSms::new(config).map_err(|e| failed(ChannelKind::Sms)(&e))?;
        channels.push(Arc::new(channel));
    }
    if let Some(whatsapp) = &notify.whatsapp {
        let config =
            WhatsAppConfig::new(whatsapp.phone_number_id.clone(), whatsapp.token.0.clone())
                .with_base_url(whatsapp.base_url.clone());
        let channel = WhatsAppCloud::new(config).map_err(|e| failed(ChannelKind::WhatsApp)(&e))?;
        channels.push(Arc::new(channel));
    }
    if let Some(smtp) = &notify.smtp {
        let mut config = SmtpConfig::new(smtp.host.clone(), smtp.from.clone())
            .with_port(smtp.port)
            .with_security(match smtp.tls {
                SmtpTls::StartTls => SmtpSecurity::StartTls,
                SmtpTls::Tls => SmtpSecurity::Tls,
                SmtpTls::None => SmtpSecurity::Plain,
            });
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            config = config.with_credentials(user.clone(), password.0.clone());
        }
        let channel = SmtpEmail::new(config).map_err(|e| failed(ChannelKind::Email)(&e))?;
        channels.push(Arc::new(channel));
    }
    if let Some(webhook) = &notify.webhook {
        let config = WebhookConfig::new(webhook.secret.0.clone()).with_url(webhook.url.clone());
        let channel = SignedWebhook::new(config).map_err(|e| failed(ChannelKind::Webhook)(&e))?;
        channels.push(Arc::new(channel));
    }
    Ok(channels)
}

#[derive(Clone)]
struct Callbacks {
    shop: Shop,
    token: Arc<str>,
}

/// Africa's Talking's callbacks, when `POCHI_NOTIFY_SMS_CALLBACK_TOKEN` is set: a customer's
/// reply (`POST /api/notify/sms/{token}/incoming`: STOP or SITISHA opts them out of SMS,
/// START or ANZA back in) and the gateway's own opt-out notice (`…/opt-out`). The token in
/// the path is what tells Africa's Talking from anyone else; a wrong one is a 404.
pub(crate) fn callback_router(settings: &Settings, shop: Shop) -> Option<Router> {
    let token = settings.notify.sms.as_ref()?.callback_token.as_ref()?;
    let state = Callbacks {
        shop,
        token: Arc::from(token.0.as_str()),
    };
    Some(
        Router::new()
            .route("/api/notify/sms/{token}/incoming", post(incoming))
            .route("/api/notify/sms/{token}/opt-out", post(opt_out))
            .layer(axum::extract::DefaultBodyLimit::max(16 * 1024))
            .with_state(state),
    )
}

/// A JSON error as the API answers it.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not_found", "no such resource")
}

fn token_matches(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

async fn apply(shop: &Shop, phone: &str, opted_out: bool) -> Response {
    let Ok(phone) = Msisdn::parse(phone) else {
        // Not a Kenyan mobile number: nothing of ours to opt out; the gateway needs no retry.
        return StatusCode::OK.into_response();
    };
    match shop.set_sms_opt_out(&phone, opted_out).await {
        Ok(()) => {
            tracing::info!(opted_out, "a customer changed their SMS consent");
            StatusCode::OK.into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "recording an SMS opt-out failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "try again later",
            )
        }
    }
}

/// The phone and what to record for it (nothing for a reply that is no keyword), from one
/// callback's body; otherwise the name of the form it should have been.
type Consent = Result<(String, Option<bool>), &'static str>;

async fn callback(state: &Callbacks, token: &str, read: impl FnOnce() -> Consent) -> Response {
    if !token_matches(token, &state.token) {
        return not_found();
    }
    match read() {
        Ok((phone, Some(opted_out))) => apply(&state.shop, &phone, opted_out).await,
        Ok((_, None)) => StatusCode::OK.into_response(),
        Err(form) => not_the_form(form),
    }
}

fn not_the_form(what: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        &format!("expected Africa's Talking's {what} form"),
    )
}

async fn incoming(
    State(state): State<Callbacks>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    callback(&state, &token, || {
        let sms = IncomingSms::from_form(&body).map_err(|_| "incoming-message")?;
        let consent = match Keyword::of(&sms.text) {
            Some(Keyword::Stop) => Some(true),
            Some(Keyword::Start) => Some(false),
            None => None,
        };
        Ok((sms.from, consent))
    })
    .await
}

async fn opt_out(
    State(state): State<Callbacks>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    callback(&state, &token, || {
        let notice = SmsOptOut::from_form(&body).map_err(|_| "opt-out")?;
        Ok((notice.phone_number, Some(true)))
    })
    .await
}
