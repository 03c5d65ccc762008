//! The servers the load benchmark (`load.sh`) measures: the shop's router over the memory store
//! with 50 products, or a minimal "hello" JSON server on the same stack (axum over hyper) as the
//! ceiling.
//!
//! `cargo bench -p pochi-http --bench load_server -- pochi 127.0.0.1:18080`
//! `cargo bench -p pochi-http --bench load_server -- hello 127.0.0.1:18081`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::{Router, routing::get};
use pochi_core::{AdminUsers, ManualCodeProvider, MemoryStore, ProductInput, Shop};
use pochi_http::{RateLimits, RouterConfig};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (mode, addr) = match args.as_slice() {
        [mode, addr] => (mode.clone(), addr.clone()),
        _ => {
            eprintln!("usage: load_server pochi|hello ADDR");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let app = match mode.as_str() {
            "hello" => Router::new().route(
                "/hello",
                get(|| async { axum::Json(serde_json::json!({"hello": "world"})) }),
            ),
            "pochi" => pochi().await,
            other => panic!("unknown mode {other}"),
        };
        let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
        eprintln!("{mode} listening on {addr}");
        pochi_http::serve(listener, app, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .unwrap();
    });
}

/// The router with rate limits off (one client address sends everything) and 50 products with
/// untracked stock (so orders never run out).
async fn pochi() -> Router {
    let shop = Shop::builder(Arc::new(MemoryStore::new()))
        .provider(Arc::new(ManualCodeProvider::new()))
        .build()
        .unwrap();
    let mut first = None;
    for i in 0..50 {
        let product = shop
            .save_product(&ProductInput {
                name: format!("Product {i}"),
                description: Some("A fine thing, hand made in Kenya".to_owned()),
                price: format!("{}", 100 + i * 10),
                ..ProductInput::default()
            })
            .await
            .unwrap();
        first.get_or_insert(product.id);
    }
    if let Some(id) = first {
        eprintln!("first product: {id}");
        std::fs::write("/tmp/pochi-bench-product", id.to_string()).unwrap();
    }
    let config = RouterConfig::builder(Arc::new(AdminUsers::new()))
        .rate_limits(RateLimits::disabled())
        .build()
        .unwrap();
    pochi_http::router(shop, config)
}
