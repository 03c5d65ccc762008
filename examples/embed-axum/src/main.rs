//! Run with `cargo run -p pochi-example-embed-axum`, then open http://127.0.0.1:3000/ and
//! http://127.0.0.1:3000/shop/api/products.
//!
//! An existing axum application (its own `/` and `/about` routes and its own state) that adds
//! a Pochi shop under `/shop`: `pochi_http::router` is an ordinary `axum::Router`, so it
//! nests like any other, and `pochi_http::jobs` runs the shop's background work (unpaid orders
//! expire, payments are reconciled) until the host shuts down. The shop here keeps its data in
//! memory and takes manual M-Pesa codes;
//! swap in `pochi_store_sqlite::SqliteStore` and `pochi_pay_mpesa::MpesaProvider` for a real
//! one (see `examples/server`).

use std::sync::Arc;

use axum::{Router, extract::State, routing::get};
use pochi_core::{AdminUsers, ManualCodeProvider, MemoryStore, PasswordHash, ProductInput, Shop};
use pochi_http::{JobIntervals, RouterConfig};

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
    run(listener, shop, admins, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|err| err as Box<dyn std::error::Error>)
}

/// Serves the host with its shop on `listener` and runs the shop's background jobs (unpaid
/// orders expire, payments are reconciled), until `shutdown` completes; then finishes the
/// requests and the job runs in flight.
async fn run(
    listener: tokio::net::TcpListener,
    shop: Shop,
    admins: AdminUsers,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // One shutdown signal for the server and the jobs.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let jobs = pochi_http::jobs(shop.clone(), JobIntervals::default(), async move {
        let mut stopping = stopping;
        let _ = stopping.wait_for(|stop| *stop).await;
    });
    let served = pochi_http::serve(listener, app(shop, admins)?, async move {
        shutdown.await;
        let _ = stop.send(true);
    })
    .await;
    jobs.stopped().await;
    Ok(served?)
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request};
    use pochi_core::{CheckoutInput, ManualClock, OrderStatus};
    use time::macros::datetime;
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

    #[tokio::test]
    async fn the_host_expires_unpaid_orders_through_the_library_jobs() {
        let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 09:00:00 UTC)));
        let shop = Shop::builder(Arc::new(MemoryStore::new()))
            .provider(Arc::new(ManualCodeProvider::new()))
            .clock(clock.clone())
            .build()
            .unwrap();
        let product = shop
            .save_product(&ProductInput {
                name: "Sukuma wiki, 1 bunch".into(),
                price: "30".into(),
                stock: Some(1),
                ..ProductInput::default()
            })
            .await
            .unwrap();
        let checkout: CheckoutInput = serde_json::from_value(serde_json::json!({
            "name": "Wanjiru Kamau", "phone": "0712345678", "county": "nairobi",
            "area": "Westlands", "address": "Mpaka Road",
            "items": [{ "productId": product.id.to_string(), "quantity": 1 }],
        }))
        .unwrap();
        let number = shop
            .place_order(&checkout, None)
            .await
            .unwrap()
            .order()
            .number
            .to_string();
        clock.advance(shop.config().unpaid_order_ttl + std::time::Duration::from_secs(1));

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let host = tokio::spawn(run(listener, shop.clone(), AdminUsers::new(), async move {
            let _ = stopped.await;
        }));
        // The expiry job runs as the host starts; wait for it (a guard, not a sleep).
        let cancelled = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while shop.order(&number).await.unwrap().status != OrderStatus::Cancelled {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(cancelled.is_ok(), "the unpaid order was not expired");
        assert_eq!(
            shop.product(&product.id.to_string()).await.unwrap().stock,
            Some(1)
        );

        stop.send(()).unwrap();
        host.await.unwrap().unwrap();
    }
}
