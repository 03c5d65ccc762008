//! `/metrics` tells order and payment volumes: only admins and a scraper holding the metrics
//! token may read it.

use axum::http::StatusCode;
use pochi_http::MetricsToken;

use crate::support::*;

const METRICS_TOKEN: &str = "scrape-0123456789abcdef";

fn app_with_token() -> TestApp {
    app_with(|config| {
        config
            .rate_limits(pochi_http::RateLimits::disabled())
            .metrics_token(MetricsToken::parse(METRICS_TOKEN).unwrap())
    })
}

#[tokio::test]
async fn an_anonymous_client_cannot_read_metrics() {
    let app = app_with_token();
    let reply = get("/metrics").send(&app.router).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "unauthorized");
    assert!(
        reply
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer realm=\"Pochi metrics\"")
    );
    assert!(!String::from_utf8_lossy(&reply.body).contains("http_requests_total"));
}

#[tokio::test]
async fn a_wrong_token_cannot_read_metrics() {
    let app = app_with_token();
    for token in ["scrape-0123456789abcdeX", "short", ""] {
        let reply = get("/metrics")
            .header("authorization", &format!("Bearer {token}"))
            .send(&app.router)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(reply.code(), "unauthorized");
    }
    // nor any token, when none is configured
    let reply = get("/metrics")
        .header("authorization", &format!("Bearer {METRICS_TOKEN}"))
        .send(&crate::support::app().router)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_metrics_token_reads_prometheus_text() {
    let app = app_with_token();
    get("/api/health").send(&app.router).await;
    let reply = get("/metrics")
        .header("authorization", &format!("Bearer {METRICS_TOKEN}"))
        .send(&app.router)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = String::from_utf8(reply.body).unwrap();
    assert!(
        text.contains("# TYPE http_requests_total counter"),
        "{text}"
    );
}

#[tokio::test]
async fn an_admin_reads_metrics_and_a_wrong_password_does_not() {
    let app = app_with_token();
    let reply = get("/metrics").admin().send(&app.router).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        String::from_utf8(reply.body)
            .unwrap()
            .contains("http_requests_total")
    );
    let reply = get("/metrics")
        .basic(ADMIN_USER, "wrong password")
        .send(&app.router)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "unauthorized");
}

#[test]
fn the_metrics_token_is_checked_and_never_shown() {
    let token = MetricsToken::parse(METRICS_TOKEN).unwrap();
    assert!(!format!("{token:?}").contains(METRICS_TOKEN));
    let err = MetricsToken::parse("too-short").unwrap_err();
    assert_eq!(err.field(), Some("metricsToken"));
    assert!(MetricsToken::parse("has spaces in it, sixteen+").is_err());
    let config = pochi_http::RouterConfig::builder(std::sync::Arc::new(admins()))
        .metrics_token(token)
        .build()
        .unwrap();
    assert!(!format!("{config:?}").contains(METRICS_TOKEN));
}
