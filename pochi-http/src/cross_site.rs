//! Refuses admin changes that a browser sends on another site's behalf (cross-site request
//! forgery). A browser that has logged in to the dashboard sends the admin's HTTP Basic
//! credentials with any request to the shop, a form posted from another site's page included,
//! so credentials alone do not show that the owner meant the change.
//!
//! The rule, for `POST`, `PUT`, `PATCH` and `DELETE` on admin routes:
//!
//! - `Sec-Fetch-Site` (sent by every current browser) must be `same-origin` or `none` (typed in
//!   the address bar), unless `Origin` is one of [`RouterConfig::cors_origins`];
//! - without it (older browsers), `Origin`, when present, must name the host the request was
//!   sent to (`Host`), or be one of the CORS origins;
//! - a request with neither header is not from a browser form (curl, an SDK, another server)
//!   and passes: it cannot carry a browser's credentials without its sender knowing them.
//!
//! A refused request gets 403 `cross_site_request` before its credentials are checked or its
//! body read.
//!
//! [`RouterConfig::cors_origins`]: crate::RouterConfig::cors_origins

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{error::ApiError, state::AppState};

/// Lets an admin request through unless it is a change sent cross-site (see the module docs).
pub(crate) async fn refuse_cross_site(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let changes = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if changes && is_cross_site(&req, &state.config.cors_origins) {
        tracing::warn!("cross-site admin change refused");
        return ApiError::cross_site_request().into_response();
    }
    next.run(req).await
}

fn is_cross_site(req: &Request, cors_origins: &[HeaderValue]) -> bool {
    let headers = req.headers();
    let origin = headers.get(header::ORIGIN);
    let allowed_origin = origin.is_some_and(|origin| {
        cors_origins
            .iter()
            .any(|allowed| allowed.as_bytes().eq_ignore_ascii_case(origin.as_bytes()))
    });
    if let Some(site) = headers.get("sec-fetch-site") {
        return !(matches!(site.as_bytes(), b"same-origin" | b"none") || allowed_origin);
    }
    match origin {
        None => false,
        Some(origin) => !(allowed_origin || is_same_host(origin, req, headers)),
    }
}

/// Whether `Origin` (`https://duka.example:8443`) names the host the request was sent to
/// (`Host: duka.example:8443`), default ports aside.
fn is_same_host(origin: &HeaderValue, req: &Request, headers: &HeaderMap) -> bool {
    let Some((scheme, authority)) = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
    else {
        // `null` (a sandboxed page, a redirect across sites) or unreadable.
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    let Some(host) = host else {
        return false;
    };
    let default_port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return false,
    };
    let bare = |authority: &str| {
        authority
            .strip_suffix(default_port)
            .unwrap_or(authority)
            .to_ascii_lowercase()
    };
    bare(authority) == bare(host)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri("/api/admin/products");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    fn cross_site(headers: &[(&str, &str)]) -> bool {
        let cors = [HeaderValue::from_static("https://www.duka.example")];
        is_cross_site(&request(headers), &cors)
    }

    #[test]
    fn fetch_metadata_decides_when_the_browser_sends_it() {
        assert!(!cross_site(&[("sec-fetch-site", "same-origin")]));
        assert!(!cross_site(&[("sec-fetch-site", "none")]));
        assert!(cross_site(&[("sec-fetch-site", "cross-site")]));
        assert!(cross_site(&[("sec-fetch-site", "same-site")]));
        assert!(!cross_site(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://WWW.duka.example"),
        ]));
    }

    #[test]
    fn without_fetch_metadata_the_origin_must_match_the_host() {
        assert!(!cross_site(&[
            ("origin", "https://duka.example"),
            ("host", "duka.example")
        ]));
        assert!(!cross_site(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080")
        ]));
        assert!(!cross_site(&[
            ("origin", "https://duka.example"),
            ("host", "duka.example:443")
        ]));
        assert!(cross_site(&[
            ("origin", "https://evil.example"),
            ("host", "duka.example")
        ]));
        assert!(cross_site(&[
            ("origin", "http://127.0.0.1:9090"),
            ("host", "127.0.0.1:8080")
        ]));
        assert!(cross_site(&[("origin", "null"), ("host", "duka.example")]));
        assert!(!cross_site(&[
            ("origin", "https://www.duka.example"),
            ("host", "api.duka.example")
        ]));
    }

    #[test]
    fn a_request_with_neither_header_is_not_a_browser_form() {
        assert!(!cross_site(&[]));
        assert!(!cross_site(&[("host", "duka.example")]));
    }
}
