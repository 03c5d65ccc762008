//! The HTTP API, driven in process with `oneshot` and over real sockets.

#![allow(unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

mod callback_defences;
mod cross_site;
mod dashboard;
mod errors;
mod fuzz;
mod layers;
mod lockout;
mod metrics_access;
mod open_orders;
mod openapi;
mod outage;
mod precompressed;
mod product_edits;
mod routes;
mod slow_clients;
mod socket;
mod support;
