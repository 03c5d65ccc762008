//! The memory store's notifications: the outbox, the deliveries with their leases, and the
//! opt-outs. Each function is the transaction a SQL store runs, under the store's one lock.

use time::OffsetDateTime;

use super::State;
use crate::{
    error::{ConflictReason, Entity, Error, Result},
    notify::{
        ChannelKind, Delivery, DeliveryClaim, DeliveryFilter, DeliveryId, DeliveryKey,
        DeliveryOutcome, DeliveryState, NewDelivery, OutboxEvent, OutboxId,
    },
    phone::Msisdn,
};

/// An event in the outbox and when it was expanded (`None`: still pending).
#[derive(Debug, Clone)]
pub(super) struct StoredEvent {
    pub(super) event: OutboxEvent,
    pub(super) expanded_at: Option<OffsetDateTime>,
}

/// A delivery and the lease on it: who holds it, until when.
#[derive(Debug, Clone)]
pub(super) struct StoredDelivery {
    pub(super) delivery: Delivery,
    pub(super) lease: Option<(String, OffsetDateTime)>,
}

impl State {
    /// Writes `event` into the outbox (part of the caller's transaction).
    pub(super) fn write_event(&mut self, event: Option<OutboxEvent>) {
        if let Some(event) = event {
            self.outbox.push(StoredEvent {
                event,
                expanded_at: None,
            });
        }
    }

    pub(super) fn pending_outbox_events(&self, limit: usize) -> Vec<OutboxEvent> {
        let mut pending: Vec<&OutboxEvent> = self
            .outbox
            .iter()
            .filter(|e| e.expanded_at.is_none())
            .map(|e| &e.event)
            .collect();
        pending.sort_by_key(|e| (e.details.at, e.id));
        pending.into_iter().take(limit).cloned().collect()
    }

    pub(super) fn expand_outbox_event(
        &mut self,
        id: OutboxId,
        deliveries: &[NewDelivery],
        at: OffsetDateTime,
    ) -> Result<bool> {
        let stored = self
            .outbox
            .iter_mut()
            .find(|e| e.event.id == id)
            .ok_or_else(|| Error::not_found(Entity::Message, id))?;
        if stored.expanded_at.is_some() {
            return Ok(false);
        }
        if let Some(taken) = deliveries
            .iter()
            .find(|d| self.deliveries.contains_key(&d.id))
        {
            return Err(Error::conflict(
                ConflictReason::AlreadyExists,
                format!("message {} already exists", taken.id),
            ));
        }
        stored.expanded_at = Some(at);
        let event = stored.event.clone();
        for new in deliveries {
            let delivery = Delivery {
                id: new.id,
                event: event.id,
                order_number: event.details.order_number.clone(),
                kind: event.details.kind,
                channel: new.channel,
                audience: new.audience,
                message: new.message.clone(),
                state: new.state,
                attempts: 0,
                next_attempt_at: at,
                last_error: new.skipped_because.clone(),
                provider_ref: None,
                created_at: at,
                sent_at: None,
            };
            self.deliveries.insert(
                new.id,
                StoredDelivery {
                    delivery,
                    lease: None,
                },
            );
        }
        Ok(true)
    }

    pub(super) fn claim_deliveries(&mut self, claim: &DeliveryClaim) -> Vec<Delivery> {
        let mut due: Vec<(OffsetDateTime, DeliveryId)> = self
            .deliveries
            .values()
            .filter(|d| {
                d.delivery.state == DeliveryState::Pending
                    && d.delivery.next_attempt_at <= claim.now
                    && d.lease
                        .as_ref()
                        .is_none_or(|(_, until)| *until <= claim.now)
            })
            .map(|d| (d.delivery.next_attempt_at, d.delivery.id))
            .collect();
        due.sort();
        due.truncate(claim.limit);
        let mut claimed = Vec::with_capacity(due.len());
        for (_, id) in due {
            if let Some(stored) = self.deliveries.get_mut(&id) {
                stored.lease = Some((claim.worker.clone(), claim.lease_until));
                stored.delivery.attempts = stored.delivery.attempts.saturating_add(1);
                claimed.push(stored.delivery.clone());
            }
        }
        claimed
    }

    pub(super) fn finish_delivery(
        &mut self,
        id: DeliveryId,
        worker: &str,
        outcome: &DeliveryOutcome,
    ) -> bool {
        let Some(stored) = self.deliveries.get_mut(&id) else {
            return false;
        };
        let held = stored
            .lease
            .as_ref()
            .is_some_and(|(owner, _)| owner == worker);
        if !held || stored.delivery.state != DeliveryState::Pending {
            return false;
        }
        stored.lease = None;
        let delivery = &mut stored.delivery;
        match outcome {
            DeliveryOutcome::Sent { at, provider_ref } => {
                delivery.state = DeliveryState::Sent;
                delivery.sent_at = Some(*at);
                delivery.provider_ref.clone_from(provider_ref);
            }
            DeliveryOutcome::Retry {
                next_attempt_at,
                error,
            } => {
                delivery.next_attempt_at = *next_attempt_at;
                delivery.last_error = Some(error.clone());
            }
            DeliveryOutcome::Dead { error } => {
                delivery.state = DeliveryState::Dead;
                delivery.last_error = Some(error.clone());
            }
        }
        true
    }

    pub(super) fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        after: Option<DeliveryKey>,
        limit: usize,
    ) -> Vec<Delivery> {
        let position = |d: &Delivery| (d.created_at, d.id);
        let mut found: Vec<Delivery> = self
            .deliveries
            .values()
            .map(|d| &d.delivery)
            .filter(|d| filter.state.is_none_or(|state| d.state == state))
            .filter(|d| filter.order.as_ref().is_none_or(|o| d.order_number == *o))
            .filter(|d| after.is_none_or(|k| position(d) < (k.created_at, k.id)))
            .cloned()
            .collect();
        found.sort_by_key(|d| std::cmp::Reverse(position(d)));
        found.truncate(limit);
        found
    }

    pub(super) fn retry_delivery(
        &mut self,
        id: DeliveryId,
        at: OffsetDateTime,
    ) -> Result<Delivery> {
        let stored = self
            .deliveries
            .get_mut(&id)
            .ok_or_else(|| Error::not_found(Entity::Message, id))?;
        if stored.delivery.state != DeliveryState::Dead {
            return Err(Error::conflict(
                ConflictReason::MessageNotDead,
                format!("message {id} is {}, not dead", stored.delivery.state),
            ));
        }
        stored.lease = None;
        stored.delivery.state = DeliveryState::Pending;
        stored.delivery.attempts = 0;
        stored.delivery.next_attempt_at = at;
        Ok(stored.delivery.clone())
    }

    pub(super) fn set_opt_out(&mut self, phone: &Msisdn, channel: ChannelKind, opted_out: bool) {
        self.opt_outs.insert((phone.clone(), channel), opted_out);
    }

    pub(super) fn opted_out(&self, phone: &Msisdn, channel: ChannelKind) -> bool {
        self.opt_outs
            .get(&(phone.clone(), channel))
            .copied()
            .unwrap_or(false)
    }
}
