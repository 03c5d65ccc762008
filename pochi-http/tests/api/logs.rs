//! Logs name the route template, status and request id, and never personal data or secrets.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use serde_json::json;

use crate::support::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_hold_no_personal_data_or_secrets() {
    // given every log line captured
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Callsites first reached before this subscriber existed are asked again.
    tracing::callsite::rebuild_interest_cache();
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    // when a customer orders and pays, a provider calls back, a forger tries, an admin fails
    let placed = post("/api/orders", checkout(&kikoi, 1))
        .header("x-request-id", "trace-me-1")
        .send(&app.router)
        .await;
    let number = placed.json()["number"].as_str().unwrap().to_owned();
    post(
        "/api/payments",
        json!({"orderNumber": number, "method": "push", "phone": "0799 888 777"}),
    )
    .send(&app.router)
    .await;
    post(
        &format!("/api/pay/callbacks/stk/{TOKEN}"),
        json!({"reference": "nope", "resultCode": "0"}),
    )
    .send(&app.router)
    .await;
    post("/api/pay/callbacks/stk/forged-token-1234567", json!({}))
        .send(&app.router)
        .await;
    get("/api/admin/stats")
        .basic(ADMIN_USER, "hunter2-password")
        .send(&app.router)
        .await;
    get(&format!("/api/track/{number}")).send(&app.router).await;
    // then the logs say what happened, by route template
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("request_id=trace-me-1"), "{logs}");
    assert!(
        logs.contains("route=\"/api/orders\"") || logs.contains("route=/api/orders"),
        "{logs}"
    );
    assert!(
        logs.contains("/api/pay/callbacks/{channel}/{token}"),
        "{logs}"
    );
    assert!(logs.contains("admin login failed"), "{logs}");
    // and nothing personal or secret (whole values: short digit runs occur by chance in ids)
    for secret in [
        "0712 345 678",
        "0712345678",
        "254712345678",
        "712345678",
        "0799 888 777",
        "799888777",
        "Wanjiru",
        "Kamau",
        "Mpaka",
        "Westlands",
        TOKEN,
        "forged-token",
        "hunter2",
        "Basic ",
        &number,
    ] {
        assert!(
            !logs.contains(secret),
            "the logs contain {secret:?}:\n{logs}"
        );
    }
}
