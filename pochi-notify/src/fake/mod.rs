//! Fakes of the services the channels talk to, each on a real socket on `127.0.0.1` speaking
//! the service's wire format: they check credentials as the service does, record what they
//! receive, and give the service's error answers on request ([`Failure`]). For tests and
//! offline demos; each stops when dropped.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, PoisonError},
};

mod africastalking;
mod smtp;
mod webhook;
mod whatsapp;

pub use self::{
    africastalking::{FakeAfricasTalking, ReceivedSms},
    smtp::{FakeSmtp, ReceivedMail},
    webhook::{FakeWebhookReceiver, ReceivedHook},
    whatsapp::{FakeWhatsApp, ReceivedWhatsApp},
};

/// An error answer a fake gives, as its service would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The number is not one the service can send to (Africa's Talking `403
    /// InvalidPhoneNumber`, WhatsApp `131026`; the SMTP server's `550`).
    InvalidNumber,
    /// The recipient blocked the sender or asked for no messages (`406 UserInBlacklist`,
    /// WhatsApp `131050`).
    Blacklisted,
    /// The account's balance is too low (`405 InsufficientBalance`, WhatsApp `131042`).
    InsufficientBalance,
    /// Too many requests: HTTP 429 with `Retry-After: 7` (WhatsApp `130429`; SMTP `421`).
    RateLimited,
    /// The service failed: HTTP 500 (SMTP `451`).
    ServerError,
    /// The credentials are refused: HTTP 401 (WhatsApp `190`; SMTP `535`).
    Unauthorized,
    /// No answer in time: the fake holds the request for 60 s.
    Timeout,
}

/// What a fake keeps: the failures to give next and what it received.
#[derive(Debug)]
pub(crate) struct Shared<T> {
    failures: Mutex<VecDeque<Failure>>,
    received: Mutex<Vec<T>>,
}

impl<T: Clone> Shared<T> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Shared {
            failures: Mutex::new(VecDeque::new()),
            received: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn fail_next(&self, count: usize, failure: Failure) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        failures.extend(std::iter::repeat_n(failure, count));
    }

    pub(crate) fn next_failure(&self) -> Option<Failure> {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }

    /// Records what `make` builds from the item's number (1, 2, …), and returns it.
    pub(crate) fn record(&self, make: impl FnOnce(usize) -> T) -> T {
        let mut received = self.received.lock().unwrap_or_else(PoisonError::into_inner);
        let item = make(received.len() + 1);
        received.push(item.clone());
        item
    }

    pub(crate) fn received(&self) -> Vec<T> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A served router on a fresh loopback port; the task ends when the handle is dropped.
pub(crate) async fn serve(router: axum::Router) -> std::io::Result<(String, Server)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((format!("http://{addr}"), Server(task)))
}

/// A fake's server task, aborted on drop.
#[derive(Debug)]
pub(crate) struct Server(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How long a [`Failure::Timeout`] holds a request.
pub(crate) const HOLD: std::time::Duration = std::time::Duration::from_secs(60);
