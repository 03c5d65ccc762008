//! The storefront and admin pages (written on the `wip/web` branch; this is a placeholder).

/// The pages: `/`, `/checkout`, `/pay`, `/confirmation`, `/track`, `/admin` and `/assets/*`.
pub fn router() -> axum::Router {
    axum::Router::new()
}
