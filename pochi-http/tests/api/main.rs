//! The HTTP API, driven in process with `oneshot` and over real sockets.

#![allow(unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

mod cross_site;
mod errors;
mod layers;
mod lockout;
mod metrics_access;
mod openapi;
mod outage;
mod routes;
mod slow_clients;
mod socket;
mod support;
