//! The middleware around every route: request ids, logs and metrics, rate limits, timeouts,
//! security headers, and the net that turns any non-JSON error into a JSON one.

use std::{
    future::Future,
    panic::{self, AssertUnwindSafe},
    pin::Pin,
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderName, HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tracing::Instrument;

use crate::{error::ApiError, limits::ClientIp, state::AppState};

/// The request id header, read from the client when well formed and always sent back.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route template a response was produced by, for logs and metrics.
#[derive(Debug, Clone)]
pub(crate) struct RouteTemplate(pub(crate) MatchedPath);

/// Marks a response whose status, type and body are a payment provider's and must go out
/// exactly as they are (callback replies).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verbatim;

/// Outermost: gives the request an id and a client address, then logs and counts the response
/// by route template (never the raw path: callback paths carry a secret token), makes any
/// error JSON and adds the security headers.
pub(crate) async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let (mut parts, body) = req.into_parts();
    let request_id = parts
        .headers
        .get(&REQUEST_ID)
        .filter(|v| is_plain_id(v.as_bytes()))
        .cloned()
        .unwrap_or_else(new_request_id);
    parts.headers.insert(REQUEST_ID, request_id.clone());
    let client = ClientIp::of(&parts, state.config.trusted_proxy.as_ref());
    parts.extensions.insert(client);
    let method = parts.method.clone();
    let span = tracing::info_span!(
        "request",
        request_id = %String::from_utf8_lossy(request_id.as_bytes()),
        method = %method,
    );
    let response = next
        .run(Request::from_parts(parts, body))
        .instrument(span.clone())
        .await;
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map_or("unmatched", |RouteTemplate(path)| path.as_str());
    let status = response.status();
    let took = started.elapsed();
    state
        .config
        .metrics
        .record(&method, route, status.as_u16(), took);
    span.in_scope(|| {
        let latency_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        if status.is_server_error() {
            tracing::warn!(route, status = status.as_u16(), latency_us, "answered");
        } else {
            tracing::info!(route, status = status.as_u16(), latency_us, "answered");
        }
    });
    let mut response = json_errors(response);
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    headers.insert(REQUEST_ID, request_id);
    response
}

fn is_plain_id(bytes: &[u8]) -> bool {
    (1..=128).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A random per-process prefix and a counter: unique, and cheaper than a random UUID per
/// request (no system call on the hot path).
fn new_request_id() -> HeaderValue {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_owned());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    HeaderValue::try_from(format!("{prefix}-{n:012x}"))
        .unwrap_or(HeaderValue::from_static("unknown"))
}

/// Inside routing: notes which route template answered.
pub(crate) async fn tag_route(req: Request, next: Next) -> Response {
    let template = req.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(req).await;
    if let Some(template) = template {
        response.extensions_mut().insert(RouteTemplate(template));
    }
    response
}

/// Every request counts against its client network's general limit.
pub(crate) async fn general_limit(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    limit(state.general_limit.as_ref(), req, next).await
}

/// Placing orders and starting payments count against a stricter limit too.
pub(crate) async fn checkout_limit(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    limit(state.checkout_limit.as_ref(), req, next).await
}

async fn limit(limiter: Option<&crate::limits::RateLimiter>, req: Request, next: Next) -> Response {
    if let (Some(limiter), Some(client)) = (limiter, req.extensions().get::<ClientIp>()) {
        if let Err(retry_after) = limiter.check(&client.network(), Instant::now()) {
            tracing::info!("rate limited");
            return ApiError::rate_limited(retry_after).into_response();
        }
    }
    next.run(req).await
}

/// Runs the rest of the request and answers 503 when it takes longer than the configured time.
/// 503 rather than 408: the client sent its request in time; it is the server that was slow,
/// and a retry may work.
///
/// The request runs to the end whether the client hangs up or the time runs out (only the wait
/// for it stops): a store call dropped halfway could leave a pooled database connection inside
/// a transaction (sqlx 0.8's `begin` is not cancel-safe, launchbadge/sqlx#2054), and a shop
/// operation either completes or fails on its own terms. It is polled in the connection's own
/// task, and moves to a task of its own only when given up on ([`RunToEnd`]): a spawn per
/// request cost a cached catalogue page a sixth of its server CPU. A handler that panics is
/// answered 500 `internal_error`.
pub(crate) async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let handler = RunToEnd::new(Box::pin(next.run(req)));
    match tokio::time::timeout(state.config.request_timeout, handler).await {
        Ok(Ok(response)) => response,
        Ok(Err(Panicked)) => {
            tracing::error!("a request's handler panicked");
            ApiError::for_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR).into_response()
        }
        Err(_) => {
            tracing::warn!("request timed out; its handler runs on to the end");
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the request took too long; try again",
            )
            .into_response()
        }
    }
}

type Handler = Pin<Box<dyn Future<Output = Response> + Send>>;

/// A handler that panicked (its panic has been reported by the panic hook).
#[derive(Debug)]
struct Panicked;

/// A handler's future that, dropped before it finished (a timeout, a client that hung up),
/// hands what is left of it to a task of its own, which runs it to the end.
struct RunToEnd {
    handler: Option<Handler>,
}

impl RunToEnd {
    fn new(handler: Handler) -> Self {
        RunToEnd {
            handler: Some(handler),
        }
    }
}

impl Future for RunToEnd {
    type Output = Result<Response, Panicked>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Polled again after it finished (no caller here does): answer as for a panic.
        let Some(handler) = self.handler.as_mut() else {
            return Poll::Ready(Err(Panicked));
        };
        // A panicking handler is dropped here, never polled again nor handed on.
        match panic::catch_unwind(AssertUnwindSafe(|| handler.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(response)) => {
                self.handler = None;
                Poll::Ready(Ok(response))
            }
            Err(_) => {
                self.handler = None;
                Poll::Ready(Err(Panicked))
            }
        }
    }
}

impl Drop for RunToEnd {
    fn drop(&mut self) {
        let Some(handler) = self.handler.take() else {
            return;
        };
        // Outside a runtime (it is shutting down) there is nowhere left to run it.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                drop(handler.await);
            });
        }
    }
}

/// Replaces an error response that is not JSON (axum's 405, anything a layer answered in
/// plain text) by the JSON error for its status, keeping its headers (`Allow`, `Retry-After`).
fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<Verbatim>().is_some()
        || is_json(&response)
    {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let (replacement, body) = ApiError::for_status(status).into_response().into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_ENCODING);
    for (name, value) in &replacement.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

/// Security headers for API responses, added where a handler set none. The CSP forbids
/// everything: the API serves JSON and images, never pages.
const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=31536000; includeSubDomains",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'; sandbox",
    ),
];
