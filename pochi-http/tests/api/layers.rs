//! The layers: admin auth and lockout, rate limits, client addresses, request ids, security
//! headers, CORS, compression and timeouts.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::http::{Method, StatusCode};
use pochi_core::{AdminUser, Authenticator};
use pochi_http::{LockoutPolicy, RateLimit, RateLimits, TrustedProxy};
use serde_json::json;

use crate::support::*;

/// Every admin route, with a body where it takes one.
fn admin_routes() -> Vec<Call> {
    let id = "00000000-0000-0000-0000-000000000001";
    vec![
        get("/api/admin/orders"),
        get("/api/admin/orders/export.csv"),
        get("/api/admin/orders/POCHI-2222222223"),
        get("/api/admin/stats"),
        get("/api/admin/customers"),
        get("/api/admin/settings"),
        post(
            "/api/admin/settings",
            json!({"storeName": "x", "defaultDeliveryFee": "0"}),
        ),
        put(
            "/api/orders/POCHI-2222222223/status",
            json!({"status": "cancelled"}),
        ),
        get("/api/admin/payments/POCHI-2222222223"),
        post(
            &format!("/api/admin/payments/{id}/verify"),
            json!({"approve": true}),
        ),
        get("/api/admin/reviews"),
        get("/api/admin/products"),
        post("/api/admin/products", json!({"name": "x", "price": "1"})),
        call(Method::DELETE, &format!("/api/admin/products/{id}")),
        call(Method::POST, &format!("/api/admin/products/{id}/image")),
    ]
}

#[tokio::test]
async fn every_admin_route_asks_for_credentials() {
    let app = app();
    for request in admin_routes() {
        let reply = request.send(&app.router).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.code(), "unauthorized");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Basic realm=\"Pochi admin\", charset=\"UTF-8\"")
        );
    }
    let reply = get("/api/admin/stats").send(&app.router).await;
    snapshot("error_unauthorized_admin", &reply.json());
}

#[tokio::test]
async fn wrong_credentials_are_refused_on_every_admin_route() {
    let app = app_with(|c| {
        c.rate_limits(RateLimits::disabled()).lockout(
            LockoutPolicy::default()
                .with_user_backoff(1000, Duration::from_secs(1), Duration::from_secs(1))
                .with_failures_per_client(None),
        )
    });
    for request in admin_routes() {
        let reply = request
            .basic(ADMIN_USER, "wrong password")
            .send(&app.router)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.code(), "unauthorized");
        assert!(reply.header("www-authenticate").is_some());
    }
    for bad in ["Bearer abc", "Basic !!!", "Basic"] {
        let reply = get("/api/admin/stats")
            .header("authorization", bad)
            .send(&app.router)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{bad}");
    }
    let nobody = get("/api/admin/stats")
        .basic("nobody", ADMIN_PASSWORD)
        .send(&app.router)
        .await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_login_failures_make_the_user_name_wait_and_the_refusal_says_how_long() {
    // given three free failures per user name, then waits from 10 s
    let app = app_with(|c| {
        c.rate_limits(RateLimits::disabled())
            .lockout(LockoutPolicy::default().with_user_backoff(
                3,
                Duration::from_secs(10),
                Duration::from_secs(600),
            ))
    });
    let attacker = SocketAddr::from(([203, 0, 113, 9], 5000));
    let owner = SocketAddr::from(([198, 51, 100, 1], 5000));
    // when one address fails three times with the owner's name
    for _ in 0..3 {
        let reply = get("/api/admin/stats")
            .basic(ADMIN_USER, "guess")
            .send_from(&app.router, attacker)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // then that name waits, even with the right password, and other names do not
    let right = get("/api/admin/stats")
        .admin()
        .send_from(&app.router, owner)
        .await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(right.code(), "too_many_login_failures_for_user");
    assert_eq!(right.header("retry-after"), Some("10"));
    let other = get("/api/admin/stats")
        .basic("clerk", "guess")
        .send_from(&app.router, attacker)
        .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    snapshot("error_login_backoff", &right.json());
}

#[tokio::test]
async fn orders_have_a_stricter_limit_than_browsing() {
    // given two orders a minute, and a generous general limit
    let app = app_with(|c| {
        c.rate_limits(RateLimits::new(
            Some(RateLimit::new(600, 100)),
            Some(RateLimit::new(2, 2)),
        ))
    });
    let kikoi = product(&app.shop, "Kikoi", "10", None).await;
    // when a third order is placed at once
    for _ in 0..2 {
        let reply = post("/api/orders", checkout(&kikoi, 1))
            .send(&app.router)
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let third = post("/api/orders", checkout(&kikoi, 1))
        .send(&app.router)
        .await;
    let payment = post("/api/payments", json!({"orderNumber": "POCHI-2222222223"}))
        .send(&app.router)
        .await;
    // then it is limited, payments share the limit, and browsing goes on
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.code(), "rate_limited");
    assert_eq!(third.header("retry-after"), Some("30"));
    snapshot("error_rate_limited", &third.json());
    assert_eq!(payment.status, StatusCode::TOO_MANY_REQUESTS);
    let browse = get("/api/products").send(&app.router).await;
    assert_eq!(browse.status, StatusCode::OK);
}

#[tokio::test]
async fn the_general_limit_counts_per_address_and_believes_only_a_configured_proxy() {
    let app = app_with(|c| {
        c.rate_limits(RateLimits::new(Some(RateLimit::new(60, 2)), None))
            .trusted_proxy(TrustedProxy::x_forwarded_for(1))
    });
    let proxy = SocketAddr::from(([10, 0, 0, 2], 443));
    for client in ["203.0.113.1", "203.0.113.2"] {
        for _ in 0..2 {
            let reply = get("/api/health")
                .header("x-forwarded-for", &format!("6.6.6.6, {client}"))
                .send_from(&app.router, proxy)
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{client}");
        }
    }
    let limited = get("/api/health")
        .header("x-forwarded-for", "9.9.9.9, 203.0.113.1")
        .send_from(&app.router, proxy)
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    // without a trusted proxy, the header is ignored: the socket peer is the client
    let direct = app_with(|c| c.rate_limits(RateLimits::new(Some(RateLimit::new(60, 1)), None)));
    let peer = SocketAddr::from(([198, 51, 100, 7], 1000));
    get("/api/health")
        .header("x-forwarded-for", "1.1.1.1")
        .send_from(&direct.router, peer)
        .await;
    let spoofed = get("/api/health")
        .header("x-forwarded-for", "2.2.2.2")
        .send_from(&direct.router, peer)
        .await;
    assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn request_ids_are_kept_when_plain_and_made_otherwise() {
    let app = app();
    let kept = get("/api/health")
        .header("x-request-id", "req-42.a")
        .send(&app.router)
        .await;
    assert_eq!(kept.header("x-request-id"), Some("req-42.a"));
    let made = get("/api/health").send(&app.router).await;
    let id = made.header("x-request-id").unwrap();
    assert_eq!(id.len(), 25);
    let next = get("/api/health").send(&app.router).await;
    assert_ne!(next.header("x-request-id"), Some(id));
    let replaced = get("/api/health")
        .header("x-request-id", "has spaces\tand tabs")
        .send(&app.router)
        .await;
    assert_ne!(
        replaced.header("x-request-id"),
        Some("has spaces\tand tabs")
    );
    let on_error = get("/api/nowhere").send(&app.router).await;
    assert!(on_error.header("x-request-id").is_some());
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = app();
    for request in [
        get("/api/products"),
        get("/api/nowhere"),
        post("/api/orders", json!({})),
    ] {
        let reply = request.send(&app.router).await;
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("x-frame-options"), Some("DENY"));
        assert_eq!(
            reply.header("strict-transport-security"),
            Some("max-age=31536000; includeSubDomains")
        );
        assert_eq!(
            reply.header("referrer-policy"),
            Some("strict-origin-when-cross-origin")
        );
        assert!(
            reply
                .header("content-security-policy")
                .unwrap()
                .contains("default-src 'none'")
        );
    }
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app = app_with(|c| {
        c.rate_limits(RateLimits::disabled())
            .cors_origins(["https://duka.example"])
    });
    let preflight = call(Method::OPTIONS, "/api/orders")
        .header("origin", "https://duka.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,idempotency-key",
        )
        .send(&app.router)
        .await;
    assert_eq!(preflight.status, StatusCode::OK);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://duka.example")
    );
    assert!(
        preflight
            .header("access-control-allow-headers")
            .unwrap()
            .contains("idempotency-key")
    );
    let foreign = get("/api/products")
        .header("origin", "https://evil.example")
        .send(&app.router)
        .await;
    assert_eq!(foreign.header("access-control-allow-origin"), None);
    let none = crate::support::app();
    let unconfigured = get("/api/products")
        .header("origin", "https://duka.example")
        .send(&none.router)
        .await;
    assert_eq!(unconfigured.header("access-control-allow-origin"), None);
    assert!(
        pochi_http::RouterConfig::builder(Arc::new(admins()))
            .cors_origins(["*"])
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = app();
    // The OpenAPI document: a large answer made per request, so compressed by the layer.
    for coding in ["gzip", "br"] {
        let compressed = get("/api/openapi.json")
            .header("accept-encoding", coding)
            .send(&app.router)
            .await;
        assert_eq!(compressed.header("content-encoding"), Some(coding));
        assert_eq!(compressed.header("vary"), Some("accept-encoding"));
    }
    let plain = get("/api/openapi.json").send(&app.router).await;
    assert_eq!(plain.header("content-encoding"), None);
}

#[tokio::test]
async fn small_answers_are_sent_plain_even_to_a_client_that_accepts_compression() {
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let number = order(&app.shop, &kikoi, 1).await;
    let tracked = get(&format!("/api/track/{number}"))
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .send(&app.router)
        .await;
    assert_eq!(tracked.status, StatusCode::OK);
    assert_eq!(tracked.header("content-encoding"), None);
    let length: usize = tracked
        .header("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX);
    assert!(length < 2048, "a tracking answer of {length} bytes");
}

/// An authenticator that takes its time, like a slow password hash.
#[derive(Debug)]
pub struct SlowAdmins(pub Duration, pub Arc<tokio::sync::Notify>);

impl SlowAdmins {
    /// Admins whose check takes `delay`.
    pub fn new(delay: Duration) -> Self {
        SlowAdmins(delay, Arc::new(tokio::sync::Notify::new()))
    }
}

impl Authenticator for SlowAdmins {
    fn authenticate(&self, username: &str, _password: &str) -> pochi_core::Result<AdminUser> {
        // Tell the test the request is being handled, then take our time.
        self.1.notify_one();
        std::thread::sleep(self.0);
        Ok(AdminUser {
            username: username.to_owned(),
        })
    }
}

#[tokio::test]
async fn a_request_that_takes_too_long_is_answered_503() {
    let app = app();
    let slow = pochi_http::router(
        app.shop.clone(),
        pochi_http::RouterConfig::builder(Arc::new(SlowAdmins::new(Duration::from_millis(500))))
            .request_timeout(Duration::from_millis(50))
            .build()
            .unwrap(),
    );
    let reply = get("/api/admin/stats").admin().send(&slow).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.code(), "temporarily_unavailable");
    snapshot("error_timeout", &reply.json());
}

#[tokio::test]
async fn the_config_debug_output_hides_the_authenticator() {
    let config = pochi_http::RouterConfig::builder(Arc::new(admins()))
        .build()
        .unwrap();
    let text = format!("{config:?}");
    assert!(text.contains("authenticator: \"<configured>\""));
    assert!(!text.contains("$2b$"));
}

/// A router whose admin check takes 300 ms, answering 503 after `timeout`.
fn slow_router(app: &TestApp, timeout: Duration) -> axum::Router {
    pochi_http::router(
        app.shop.clone(),
        pochi_http::RouterConfig::builder(Arc::new(SlowAdmins::new(Duration::from_millis(300))))
            .rate_limits(pochi_http::RateLimits::disabled())
            .request_timeout(timeout)
            .build()
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_times_out_still_runs_to_the_end() {
    // given an order, and a router that times out before its admin check is done
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let number = order(&app.shop, &kikoi, 1).await;
    let slow = slow_router(&app, Duration::from_millis(50));
    // when an admin cancels the order
    let reply = put(
        &format!("/api/orders/{number}/status"),
        json!({"status": "cancelled"}),
    )
    .admin()
    .send(&slow)
    .await;
    // then the answer is 503, and the cancellation is still made
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        app.shop.order(&number).await.unwrap().status,
        pochi_core::OrderStatus::Cancelled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_whose_client_hangs_up_still_runs_to_the_end() {
    // given an order and a server whose admin check takes 300 ms
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", Some(3)).await;
    let number = order(&app.shop, &kikoi, 1).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = slow_router(&app, Duration::from_secs(30));
    tokio::spawn(pochi_http::serve(listener, router, std::future::pending()));
    // when an admin cancels the order and hangs up after 50 ms
    let sent = reqwest::Client::new()
        .put(format!("{base}/api/orders/{number}/status"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&json!({"status": "cancelled"}))
        .timeout(Duration::from_millis(50))
        .send()
        .await;
    assert!(sent.is_err(), "the client should have given up");
    // then the cancellation is made all the same
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        app.shop.order(&number).await.unwrap().status,
        pochi_core::OrderStatus::Cancelled
    );
}

/// Admins (`admin` / the test password) that count their password checks.
#[derive(Debug, Default)]
struct CountingAdmins(std::sync::atomic::AtomicUsize);

impl Authenticator for CountingAdmins {
    fn authenticate(&self, username: &str, password: &str) -> pochi_core::Result<AdminUser> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        admins().authenticate(username, password)
    }
}

fn counting_router(app: &TestApp, ttl: Duration) -> (axum::Router, Arc<CountingAdmins>) {
    let admins = Arc::new(CountingAdmins::default());
    let router = pochi_http::router(
        app.shop.clone(),
        pochi_http::RouterConfig::builder(admins.clone())
            .rate_limits(pochi_http::RateLimits::disabled())
            .admin_login_ttl(ttl)
            .build()
            .unwrap(),
    );
    (router, admins)
}

#[tokio::test]
async fn a_verified_admin_login_is_not_checked_again_within_its_ttl() {
    // given a router that remembers logins for a minute
    let app = app();
    let (router, admins) = counting_router(&app, Duration::from_secs(60));
    // when an admin makes three requests, and someone tries a wrong password twice
    for _ in 0..3 {
        let reply = get("/api/admin/stats").admin().send(&router).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    for _ in 0..2 {
        let reply = get("/api/admin/stats")
            .basic(ADMIN_USER, "wrong")
            .send(&router)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // then the password was checked once for the admin, and every time for the wrong one
    assert_eq!(admins.0.load(std::sync::atomic::Ordering::SeqCst), 1 + 2);
}

#[tokio::test]
async fn with_a_zero_login_ttl_every_request_is_checked() {
    let app = app();
    let (router, admins) = counting_router(&app, Duration::ZERO);
    for _ in 0..3 {
        let reply = get("/api/admin/stats").admin().send(&router).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    assert_eq!(admins.0.load(std::sync::atomic::Ordering::SeqCst), 3);
}
