//! Run with `cargo run -p pochi-example-embed-axum`, then open http://127.0.0.1:3000/ and
//! http://127.0.0.1:3000/shop/api/products.
//!
//! An existing axum application (its own `/` and `/about` routes and its own state) that adds
//! a Pochi shop under `/shop`: `pochi_http::router` is an ordinary `axum::Router`, so it
//! nests like any other. The shop here keeps its data in memory and takes manual M-Pesa codes;
//! swap in `pochi_store_sqlite::SqliteStore` and `pochi_pay_mpesa::MpesaProvider` for a real
//! one (see `examples/server`).

use std::sync::Arc;

use axum::{Router, extract::State, routing::get};
use pochi_core::{AdminUsers, ManualCodeProvider, MemoryStore, PasswordHash, ProductInput, Shop};
use pochi_http::RouterConfig;

/// The host application's own state.
#[derive(Debug, Clone)]
struct Site {
    name: &'static str,
}

/// The host's routes, with the shop's API nested under `/shop`.
fn app(shop: Shop, admins: AdminUsers) -> Result<Router, pochi_core::Error> {
    let shop_api = pochi_http::router(shop, RouterConfig::builder(Arc::new(admins)).build()?);
    Ok(Router::new()
        .route("/", get(home))
        .route("/about", get(about))
        .with_state(Site {
            name: "Mama Mboga Ltd",
        })
        .nest("/shop", shop_api))
}

async fn home(State(site): State<Site>) -> String {
    format!(
        "Welcome to {}. Our shop's API is at /shop/api/products.\n",
        site.name
    )
}

async fn about() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "about": "a host application with a shop inside" }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let shop = Shop::builder(Arc::new(MemoryStore::new()))
        .provider(Arc::new(ManualCodeProvider::new()))
        .build()?;
    shop.save_product(&ProductInput {
        name: "Sukuma wiki, 1 bunch".into(),
        price: "30".into(),
        stock: Some(100),
        ..ProductInput::default()
    })
    .await?;
    // An example password: configure real admins from a file or the environment.
    let admins = AdminUsers::new().with_user("admin", PasswordHash::create("change-me-please")?)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!(
        "listening on http://{}/ (the shop under /shop)",
        listener.local_addr()?
    );
    pochi_http::serve(listener, app(shop, admins)?, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request};
    use tower::ServiceExt;

    use super::*;

    async fn status(app: &Router, path: &str) -> u16 {
        let request = Request::get(path).body(Body::empty()).unwrap();
        app.clone()
            .oneshot(request)
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    #[tokio::test]
    async fn the_host_keeps_its_routes_and_serves_the_shop_under_shop() {
        let shop = Shop::builder(Arc::new(MemoryStore::new()))
            .provider(Arc::new(ManualCodeProvider::new()))
            .build()
            .unwrap();
        let app = app(shop, AdminUsers::new()).unwrap();

        assert_eq!(status(&app, "/").await, 200);
        assert_eq!(status(&app, "/about").await, 200);
        assert_eq!(status(&app, "/shop/api/products").await, 200);
        assert_eq!(status(&app, "/shop/api/admin/stats").await, 401);
        assert_eq!(status(&app, "/api/products").await, 404);
    }
}
