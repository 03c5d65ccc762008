//! Login and checkout limits that fit Kenyan networks, over real sockets: many customers behind
//! one carrier NAT address, one client with a whole IPv6 /64. Client addresses come from
//! `X-Forwarded-For`, believed from one trusted proxy (the test client on 127.0.0.1).

use std::{sync::Arc, time::Duration};

use pochi_http::{LockoutPolicy, RateLimit, RateLimits, RouterConfigBuilder, TrustedProxy};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::{layers::SlowAdmins, socket::start, support::*};

/// A server behind one trusted proxy, its base URL and its app.
async fn served(
    configure: impl FnOnce(RouterConfigBuilder) -> RouterConfigBuilder,
) -> (String, TestApp, tokio::sync::oneshot::Sender<()>) {
    let app = app_with(|c| configure(c.trusted_proxy(TrustedProxy::x_forwarded_for(1))));
    let (base, stop, _server) = start(app.router.clone()).await;
    (base, app, stop)
}

/// `GET /api/admin/stats` as `user`/`password` from the client address `from`.
async fn login(base: &str, from: &str, user: &str, password: &str) -> Response {
    reqwest::Client::new()
        .get(format!("{base}/api/admin/stats"))
        .header("x-forwarded-for", from)
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
}

/// The error code and `Retry-After` of a refusal.
async fn refusal(reply: Response) -> (StatusCode, String, Option<String>) {
    let status = reply.status();
    let retry_after = reply
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = reply.json().await.unwrap();
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (status, code, retry_after)
}

/// The default policy, without the backoff per user name (for tests of the other defences).
fn no_user_backoff() -> LockoutPolicy {
    LockoutPolicy::default().with_user_backoff(1000, Duration::from_secs(1), Duration::from_secs(1))
}

#[tokio::test]
async fn a_right_password_from_a_carrier_address_where_others_failed_is_accepted() {
    // given the default login guard, and neighbours behind the owner's carrier NAT address
    // who fail ten logins under other names
    let (base, _app, _stop) = served(|c| c).await;
    let nat = "41.90.64.12";
    for name in ["root", "owner", "duka", "test", "shop"] {
        for password in ["123456", "password"] {
            let reply = login(&base, nat, name, password).await;
            assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "{name}");
        }
    }
    // when the owner logs in from the same address
    let owner = login(&base, nat, ADMIN_USER, ADMIN_PASSWORD).await;
    // then the owner is in
    assert_eq!(owner.status(), StatusCode::OK);
}

#[tokio::test]
async fn guesses_at_the_owners_name_delay_the_owner_by_the_backoff_only() {
    // given two free failures per name, then a wait of 1 s
    let policy = LockoutPolicy::default().with_user_backoff(
        2,
        Duration::from_secs(1),
        Duration::from_secs(4),
    );
    let (base, _app, _stop) = served(|c| c.lockout(policy)).await;
    let nat = "41.90.64.12";
    // when a neighbour guesses the owner's password twice
    for guess in ["123456", "password"] {
        let reply = login(&base, nat, ADMIN_USER, guess).await;
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    }
    // then the owner's name waits a second (without a password check), from any address
    let (status, code, retry_after) =
        refusal(login(&base, "196.201.214.1", ADMIN_USER, ADMIN_PASSWORD).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code, "too_many_login_failures_for_user");
    assert_eq!(retry_after.as_deref(), Some("1"));
    // and after it the owner is in, from the neighbours' own address
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let owner = login(&base, nat, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(owner.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_attacker_rotating_addresses_within_one_ipv6_64_is_limited_as_one_client() {
    // given five failures per client network
    let policy = no_user_backoff().with_failures_per_client(Some(RateLimit::new(1, 5)));
    let (base, _app, _stop) = served(|c| c.lockout(policy)).await;
    // when an attacker fails five times, each time from a new address of its /64
    for i in 1..=5 {
        let from = format!("2001:db8:42:7::{i:x}");
        let reply = login(&base, &from, &format!("user{i}"), "guess").await;
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "{from}");
    }
    // then a sixth address of the /64 is refused before any check
    let (status, code, retry_after) =
        refusal(login(&base, "2001:db8:42:7:dead:beef:0:1", "user6", "guess").await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code, "too_many_login_failures_from_address");
    assert_eq!(retry_after.as_deref(), Some("60"));
    // and the next /64 is another client
    let owner = login(&base, "2001:db8:42:8::1", ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(owner.status(), StatusCode::OK);
}

#[tokio::test]
async fn guessing_spread_over_many_networks_is_slowed_while_logged_in_admins_go_on() {
    // given four failures across all clients, and an admin already logged in
    let policy = no_user_backoff()
        .with_failures_per_client(None)
        .with_failures_overall(Some(RateLimit::new(60, 4)));
    let (base, _app, _stop) = served(|c| c.lockout(policy)).await;
    let office = "196.201.214.1";
    let before = login(&base, office, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(before.status(), StatusCode::OK);
    // when four networks fail once each
    for i in 1..=4 {
        let reply = login(&base, &format!("198.51.100.{i}"), "admin", "guess").await;
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    }
    // then a fifth network waits, briefly
    let (status, code, retry_after) =
        refusal(login(&base, "203.0.113.99", "admin", "guess").await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code, "too_many_login_failures");
    assert_eq!(retry_after.as_deref(), Some("1"));
    // and the admin who logged in before goes on working
    let after = login(&base, office, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(after.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_password_check_from_one_network_is_refused_at_once_not_queued() {
    // given password checks that take 400 ms
    let slow = SlowAdmins::new(Duration::from_millis(400));
    let started = slow.1.clone();
    let app = app();
    let router = pochi_http::router(
        app.shop.clone(),
        pochi_http::RouterConfig::builder(Arc::new(slow))
            .rate_limits(RateLimits::disabled())
            .trusted_proxy(TrustedProxy::x_forwarded_for(1))
            .build()
            .unwrap(),
    );
    let (base, _stop, _server) = start(router).await;
    // when a login from a /64 is being checked, and another address of it logs in
    let first = tokio::spawn({
        let base = base.clone();
        async move { login(&base, "2001:db8:42:7::1", "admin", "first password").await }
    });
    started.notified().await;
    let sent = std::time::Instant::now();
    let second = login(&base, "2001:db8:42:7::2", "admin", "second password").await;
    let waited = sent.elapsed();
    // then the second is refused at once, while another network is checked as usual
    let (status, code, retry_after) = refusal(second).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code, "login_in_progress_from_address");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert!(waited < Duration::from_millis(300), "waited {waited:?}");
    let elsewhere = login(&base, "196.201.214.1", "admin", "third password").await;
    assert_eq!(elsewhere.status(), StatusCode::OK);
    assert_eq!(first.await.unwrap().status(), StatusCode::OK);
}

/// Places an order for `phone` from the client address `from`.
async fn place(base: &str, from: &str, product: &pochi_core::Product, phone: &str) -> Response {
    let mut body = checkout(product, 1);
    body["phone"] = json!(phone);
    reqwest::Client::new()
        .post(format!("{base}/api/orders"))
        .header("x-forwarded-for", from)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn customers_behind_one_carrier_address_do_not_block_each_other_at_checkout() {
    // given the default limits
    let (base, app, _stop) = served(|c| c.rate_limits(RateLimits::default())).await;
    let kikoi = product(&app.shop, "Kikoi", "1500", None).await;
    // when fifteen customers behind one carrier address order at once
    for i in 0..15 {
        let reply = place(&base, "41.90.64.12", &kikoi, &format!("07123450{i:02}")).await;
        // then each order is placed
        assert_eq!(reply.status(), StatusCode::CREATED, "customer {i}");
    }
}

#[tokio::test]
async fn orders_are_limited_per_phone_number_wherever_they_come_from() {
    // given two orders per phone at once
    let limits = RateLimits::default().with_orders_per_phone(Some(RateLimit::new(1, 2)));
    let (base, app, _stop) = served(|c| c.rate_limits(limits)).await;
    let kikoi = product(&app.shop, "Kikoi", "1500", None).await;
    // when one phone, written two ways, orders from two networks
    let first = place(&base, "41.90.64.12", &kikoi, "0712 345 678").await;
    let second = place(&base, "2001:db8:42:7::1", &kikoi, "+254712345678").await;
    let third = place(&base, "196.201.214.1", &kikoi, "254-712-345-678").await;
    // then the third is refused with its own code, and another phone orders as usual
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(second.status(), StatusCode::CREATED);
    let (status, code, retry_after) = refusal(third).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code, "too_many_orders_for_phone");
    assert_eq!(retry_after.as_deref(), Some("60"));
    let other = place(&base, "196.201.214.1", &kikoi, "0722 000 111").await;
    assert_eq!(other.status(), StatusCode::CREATED);
    // and a phone the shop cannot read is the shop's 422, not a limit
    let bad = place(&base, "196.201.214.1", &kikoi, "12345").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
