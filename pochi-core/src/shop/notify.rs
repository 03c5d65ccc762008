//! The shop's messages: dispatching the outbox, and what an admin sees of it.

use serde::Serialize;

use crate::{
    error::Result,
    language::Language,
    notify::{
        Audience, ChannelKind, Delivery, DeliveryClaim, DeliveryFilter, DeliveryId, DeliveryKey,
        DeliveryOutcome, DeliveryState, DispatchReport, NotifySetup, OutboxEvent, SentMessage,
        SmsLength, TemplateName, Templates, sample_messages, sample_vars,
    },
    page::{CursorKey, Limit, Page},
    phone::Msisdn,
    settings::StoreSettings,
};

use super::Shop;

/// One message template as the owner edits it (see [`Shop::message_templates`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageTemplate {
    /// Which message.
    pub name: TemplateName,
    /// In which language.
    pub language: Language,
    /// Who gets it.
    pub audience: Audience,
    /// The text the shop uses.
    pub text: String,
    /// The default text.
    pub default_text: String,
    /// Whether the owner changed it.
    pub overridden: bool,
    /// A message made from it for a sample order (a 16-character order number, a five-figure
    /// total, this shop's name and links).
    pub sample: String,
    /// How long the sample is as SMS.
    pub sms: SmsLength,
}

impl Shop {
    /// One run of the notification dispatcher: turns pending outbox events into messages
    /// (templates, the customer's language, SMS opt-outs), then claims due messages and sends
    /// each through its channel, recording what came of it: sent, tried again later with a
    /// growing pause, or dead after [`DispatchPolicy::max_attempts`] (or at once for an error
    /// the service will repeat). Safe to run in several processes at once: an event is
    /// expanded once, and a message is claimed by one dispatcher at a time.
    ///
    /// [`DispatchPolicy::max_attempts`]: crate::notify::DispatchPolicy::max_attempts
    pub async fn dispatch_notifications(&self) -> Result<DispatchReport> {
        let mut report = DispatchReport::default();
        let store = &self.inner.store;
        let notifications = &self.inner.notifications;
        let policy = notifications.policy;

        let events = store.pending_outbox_events(policy.batch).await?;
        report.more = events.len() >= policy.batch;
        if !events.is_empty() {
            let setup = self.notify_setup(&self.settings().await?);
            for event in events {
                let deliveries = self.plan(&event, &setup).await?;
                if store
                    .expand_outbox_event(event.id, &deliveries, self.now())
                    .await?
                {
                    report.expanded += 1;
                }
            }
        }

        let now = self.now();
        let claim = DeliveryClaim {
            worker: notifications.worker.clone(),
            now,
            lease_until: now + policy.lease,
            limit: policy.batch,
        };
        let claimed = store.claim_deliveries(&claim).await?;
        report.more |= claimed.len() >= policy.batch;
        for delivery in claimed {
            let outcome = self.send(&delivery).await;
            match &outcome {
                DeliveryOutcome::Sent { .. } => report.sent += 1,
                DeliveryOutcome::Retry { .. } => report.retried += 1,
                DeliveryOutcome::Dead { .. } => report.dead += 1,
            }
            if !store
                .finish_delivery(delivery.id, &notifications.worker, &outcome)
                .await?
            {
                report.lost_leases += 1;
            }
        }
        Ok(report)
    }

    async fn plan(
        &self,
        event: &OutboxEvent,
        setup: &NotifySetup,
    ) -> Result<Vec<crate::notify::NewDelivery>> {
        let opted_out = if setup.customer_channels.contains(&ChannelKind::Sms) {
            self.inner
                .store
                .opted_out(&event.details.phone, ChannelKind::Sms)
                .await?
        } else {
            false
        };
        Ok(crate::notify::plan_deliveries(event, setup, opted_out))
    }

    async fn send(&self, delivery: &Delivery) -> DeliveryOutcome {
        let notifications = &self.inner.notifications;
        let policy = notifications.policy;
        let sent = match notifications.channel(delivery.channel) {
            Some(channel) => channel.send(&delivery.outgoing()).await,
            // A log message is kept in the shop only: recording it as sent is its delivery.
            None if delivery.channel == ChannelKind::Log => Ok(SentMessage::default()),
            None => {
                return DeliveryOutcome::Dead {
                    error: format!(
                        "channel_not_configured: no {} channel is configured",
                        delivery.channel
                    ),
                };
            }
        };
        match sent {
            Ok(sent) => DeliveryOutcome::Sent {
                at: self.now(),
                provider_ref: sent.provider_ref,
            },
            Err(error) if policy.gives_up(delivery.attempts, &error) => DeliveryOutcome::Dead {
                error: if error.is_transient() {
                    format!("{error} (gave up after {} attempts)", delivery.attempts)
                } else {
                    error.to_string()
                },
            },
            Err(error) => {
                let retry_after = error.retry_after();
                DeliveryOutcome::Retry {
                    next_attempt_at: self.now() + policy.backoff(delivery.attempts, retry_after),
                    error: error.to_string(),
                }
            }
        }
    }

    /// The dispatcher's setup with the shop's name and message templates as saved.
    fn notify_setup(&self, settings: &StoreSettings) -> NotifySetup {
        let mut setup = self.inner.notifications.setup.clone();
        setup.shop_name.clone_from(&settings.store_name);
        setup.templates = Templates::with_overrides(&settings.notification_templates);
        setup
    }

    /// Every message template in every language, as the shop uses it now (the owner's text or
    /// the default), with its default and the SMS length of a sample message made from it:
    /// what the template editor shows.
    pub async fn message_templates(&self) -> Result<Vec<MessageTemplate>> {
        let settings = self.settings().await?;
        let setup = self.notify_setup(&settings);
        let mut out = Vec::with_capacity(TemplateName::ALL.len() * Language::ALL.len());
        for (name, language, sample) in sample_messages(&setup) {
            out.push(MessageTemplate {
                name,
                language,
                audience: name.audience(),
                text: setup.templates.source(name, language).to_owned(),
                default_text: name.default_text(language).to_owned(),
                overridden: setup.templates.is_overridden(name, language),
                sms: SmsLength::of(&sample),
                sample,
            });
        }
        Ok(out)
    }

    /// How long a template's text is as SMS once filled in for the sample order of
    /// [`message_templates`](Self::message_templates): what the editor shows as the owner
    /// types.
    pub async fn measure_template(&self, text: &str) -> Result<SmsLength> {
        let settings = self.settings().await?;
        let setup = self.notify_setup(&settings);
        Ok(SmsLength::of(&sample_vars(&setup).fill(text)))
    }

    /// The shop's messages, newest first: all of them, those in one state (`pending`,
    /// `sent`, `dead`, `skipped`), or those about one order.
    pub async fn messages(
        &self,
        state: Option<&str>,
        order: Option<&str>,
        cursor: Option<&str>,
        limit: Limit,
    ) -> Result<Page<Delivery>> {
        let filter = DeliveryFilter {
            state: state
                .map(|s| s.parse::<DeliveryState>())
                .transpose()
                .map_err(|e| e.at("state"))?,
            order: order
                .map(crate::ids::OrderNumber::parse)
                .transpose()
                .map_err(|e| e.at("order"))?,
        };
        let after = cursor
            .map(DeliveryKey::decode)
            .transpose()
            .map_err(|e| e.at("cursor"))?;
        let items = self
            .inner
            .store
            .list_deliveries(&filter, after, limit.get() + 1)
            .await?;
        Ok(Page::from_overfetch(items, limit, Delivery::key))
    }

    /// An admin sends a dead message again: it is due at once, with its attempts counted
    /// afresh. A message that is not dead is a `Conflict` (`message_not_dead`).
    pub async fn retry_message(&self, id: &str) -> Result<Delivery> {
        let id = DeliveryId::parse(id).map_err(|e| e.at("messageId"))?;
        self.inner.store.retry_delivery(id, self.now()).await
    }

    /// Records that a customer asked to stop (or to start again) receiving text messages:
    /// from then on their SMS are skipped, and shown to the owner as skipped.
    pub async fn set_sms_opt_out(&self, phone: &Msisdn, opted_out: bool) -> Result<()> {
        self.inner
            .store
            .set_opt_out(phone, ChannelKind::Sms, opted_out, self.now())
            .await
    }
}
