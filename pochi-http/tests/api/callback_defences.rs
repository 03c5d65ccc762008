//! The defences of the payment callback routes, over real sockets: a channel no provider reads
//! is an unknown path, and a callback from outside the allowed networks is refused, counted
//! and changes nothing.

use pochi_http::{CallbackNetworks, RateLimits, TrustedProxy};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::{socket::start, support::*};

/// A push payment waiting for its result; returns the callback body that pays it and the order.
async fn waiting_payment(app: &TestApp) -> (Value, String) {
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let number = order(&app.shop, &kikoi, 1).await;
    let started = post(
        "/api/payments",
        json!({"orderId": number, "method": "push"}),
    )
    .send(&app.router)
    .await;
    assert_eq!(started.status, StatusCode::CREATED);
    let id = started.json()["id"].as_str().unwrap().to_owned();
    let body = json!({"reference": format!("ws_CO_{id}"), "resultCode": "0", "receipt": "NLJ7RT61SV", "amount": "1500"});
    (body, number)
}

async fn send(
    base: &str,
    path: &str,
    body: &Value,
    forwarded: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = Client::new().post(format!("{base}{path}")).json(body);
    if let Some(address) = forwarded {
        request = request.header("x-forwarded-for", address);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_channel_no_provider_reads_is_answered_exactly_as_an_unknown_path() {
    // Given a shop whose providers read `stk` only (no C2B)
    let app = app();
    let (base, _stop, _server) = start(app.router.clone()).await;
    let unknown = send(&base, "/api/no/such/path", &json!({}), None).await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND);
    // When C2B confirmations and validations arrive, with the right token or another
    for path in [
        format!("/api/pay/callbacks/c2b-confirmation/{TOKEN}"),
        format!("/api/pay/callbacks/c2b-validation/{TOKEN}"),
        "/api/pay/callbacks/c2b-confirmation/not-the-token-at-all".to_owned(),
    ] {
        let answer = send(&base, &path, &json!({"TransID": "RKL51ZDR4F"}), None).await;
        // Then each gets the unknown path's answer, and nothing is kept
        assert_eq!(answer, unknown, "{path}");
    }
    let reviews = get("/api/admin/reviews").admin().send(&app.router).await;
    assert_eq!(reviews.json()["items"], json!([]));
}

#[tokio::test]
async fn callbacks_from_outside_the_allowed_networks_are_refused_counted_and_change_nothing() {
    // Given callbacks allowed only from Safaricom-like networks, and a payment waiting
    let networks = CallbackNetworks::parse("196.201.214.0/24, 196.201.213.44").unwrap();
    let app = app_with(|config| {
        config
            .rate_limits(RateLimits::disabled())
            .callback_networks(networks)
    });
    let (body, number) = waiting_payment(&app).await;
    let (base, _stop, _server) = start(app.router.clone()).await;
    let path = format!("/api/pay/callbacks/stk/{TOKEN}");

    // When the right callback comes from 127.0.0.1 (a forwarded header is not believed: no
    // proxy is trusted)
    let refused = send(&base, &path, &body, None).await;
    let spoofed = send(&base, &path, &body, Some("196.201.214.200")).await;

    // Then both are refused with a typed 403, counted, and the order is not paid
    for (status, json) in [&refused, &spoofed] {
        assert_eq!(*status, StatusCode::FORBIDDEN);
        assert_eq!(json["error"]["code"], "callback_source_refused");
    }
    let tracked = get(&format!("/api/track/{number}")).send(&app.router).await;
    assert_eq!(tracked.json()["status"], "pending_payment");
    let metrics = get("/metrics").admin().send(&app.router).await;
    let text = String::from_utf8_lossy(&metrics.body).into_owned();
    assert!(text.contains("pochi_callbacks_blocked_total 2\n"), "{text}");
    assert!(text.contains("pochi_callbacks_refused_total 0\n"), "{text}");
    let reviews = get("/api/admin/reviews").admin().send(&app.router).await;
    assert_eq!(reviews.json()["items"], json!([]));
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_one_checked() {
    // Given a trusted proxy, and callbacks allowed from one network
    let networks = CallbackNetworks::parse("196.201.214.0/24").unwrap();
    let app = app_with(|config| {
        config
            .rate_limits(RateLimits::disabled())
            .trusted_proxy(TrustedProxy::x_forwarded_for(1))
            .callback_networks(networks)
    });
    let (body, number) = waiting_payment(&app).await;
    let (base, _stop, _server) = start(app.router.clone()).await;
    let path = format!("/api/pay/callbacks/stk/{TOKEN}");

    // When a client outside it sends the callback, then Safaricom's address does
    let outside = send(&base, &path, &body, Some("203.0.113.7")).await;
    let inside = send(&base, &path, &body, Some("196.201.214.200")).await;

    // Then the first is refused and the second pays the order
    assert_eq!(outside.0, StatusCode::FORBIDDEN);
    assert_eq!(outside.1["error"]["code"], "callback_source_refused");
    assert_eq!(inside.0, StatusCode::OK, "{}", inside.1);
    let tracked = get(&format!("/api/track/{number}")).send(&app.router).await;
    assert_eq!(tracked.json()["status"], "paid");
}
