//! What the API logs, in a test binary of its own: which callsites a subscriber hears is
//! decided process-wide, so a test that installs its own subscriber while other tests' threads
//! reach the same callsites can miss its spans (seen once in CI as a missing `request_id`).

#![allow(unreachable_pub, dead_code, clippy::unwrap_used, clippy::expect_used)]

#[path = "api/support.rs"]
mod support;

#[path = "api/logs.rs"]
mod logs;
