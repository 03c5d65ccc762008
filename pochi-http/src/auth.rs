//! Admin authentication: HTTP Basic credentials checked by the configured
//! [`pochi_core::Authenticator`] off the async executor (two checks at a time; a login verified
//! less than [`RouterConfig::admin_login_ttl`](crate::RouterConfig) ago is not checked again,
//! see `logins`), behind the login guard (`lockout`: a backoff per user name, failure budgets
//! per client network and overall, one check in flight per network). `/metrics` also answers
//! to the configured [`MetricsToken`](crate::MetricsToken).

use std::{
    net::{IpAddr, Ipv4Addr},
    time::Instant,
};

use axum::{
    extract::{Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use pochi_core::Error;

use crate::{error::ApiError, limits::ClientIp, state::AppState};

/// Lets the request through with the [`pochi_core::AdminUser`] in its extensions, or answers
/// 401 (with the Basic challenge) or 429 (a login limit, with `Retry-After`).
pub(crate) async fn require_admin(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let network = req
        .extensions()
        .get::<ClientIp>()
        .copied()
        .unwrap_or(ClientIp(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
        .network();
    let Some((username, password)) = basic_credentials(req.headers()) else {
        return ApiError::admin_unauthorized("admin credentials are required (HTTP Basic)")
            .into_response();
    };
    // A login verified moments ago passes: an admin at work is never slowed by the guard.
    if let Some(admin) = state.logins.get(&username, &password, Instant::now()) {
        req.extensions_mut().insert(admin);
        return next.run(req).await;
    }
    let slot = match state.lockout.admit(&network, &username, Instant::now()) {
        Ok(slot) => slot,
        Err(refusal) => {
            // Neither the user name nor the address is logged: both can be personal data, and
            // a user name field sometimes holds a mistyped password.
            tracing::warn!(code = refusal.code(), "admin login refused");
            return ApiError::from(refusal).into_response();
        }
    };
    let checked = check(&state, username.clone(), password.clone()).await;
    drop(slot);
    match checked {
        Ok(Ok(admin)) => {
            state.lockout.succeed(&username);
            state
                .logins
                .put(&username, &password, &admin, Instant::now());
            req.extensions_mut().insert(admin);
            next.run(req).await
        }
        Ok(Err(Error::Unauthorized(_))) => {
            tracing::warn!("admin login failed");
            state.lockout.fail(&network, &username, Instant::now());
            ApiError::admin_unauthorized("wrong user name or password").into_response()
        }
        Ok(Err(other)) => ApiError::from(other).into_response(),
        Err(join_error) => {
            ApiError::from(Error::backend("admin authentication", join_error)).into_response()
        }
    }
}

/// Lets a metrics scraper through with the configured bearer token, or an admin as
/// [`require_admin`] does; anyone else gets 401. Order and payment volumes are the shop's
/// business, not the public's.
pub(crate) async fn require_metrics_reader(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    match authorization(req.headers()) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token_ok = state
                .config
                .metrics_token
                .as_ref()
                .is_some_and(|expected| expected.matches(token.trim()));
            if token_ok {
                next.run(req).await
            } else {
                tracing::warn!("metrics refused: wrong bearer token");
                ApiError::metrics_unauthorized("wrong metrics token").into_response()
            }
        }
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("basic") => {
            require_admin(State(state), req, next).await
        }
        _ => ApiError::metrics_unauthorized(
            "metrics need the metrics bearer token or admin credentials (HTTP Basic)",
        )
        .into_response(),
    }
}

/// Runs the authenticator off the async executor, at most `CONCURRENT_CHECKS` at a time.
async fn check(
    state: &AppState,
    username: String,
    password: String,
) -> Result<pochi_core::Result<pochi_core::AdminUser>, tokio::task::JoinError> {
    // The semaphore is never closed, so acquiring only waits.
    let _permit = state.logins.checks.acquire().await.ok();
    let authenticator = state.config.authenticator.clone();
    tokio::task::spawn_blocking(move || authenticator.authenticate(&username, &password)).await
}

/// `Authorization: <scheme> <credentials>`.
fn authorization(headers: &HeaderMap) -> Option<(&str, &str)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.trim().split_once(' ')
}

/// `Authorization: Basic base64(user:password)`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let (scheme, encoded) = authorization(headers)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn basic_credentials_are_decoded_and_other_schemes_ignored() {
        let encoded = STANDARD.encode("admin:pa:ss");
        assert_eq!(
            basic_credentials(&headers(&format!("Basic {encoded}"))),
            Some(("admin".to_owned(), "pa:ss".to_owned()))
        );
        assert_eq!(
            basic_credentials(&headers(&format!("Bearer {encoded}"))),
            None
        );
        assert_eq!(basic_credentials(&headers("Basic !!!")), None);
        assert_eq!(
            basic_credentials(&headers(&format!("Basic {}", STANDARD.encode("nocolon")))),
            None
        );
        assert_eq!(basic_credentials(&HeaderMap::new()), None);
    }
}
