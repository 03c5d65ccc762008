//! The servers `benches/run.sh` loads with `wrk` on loopback:
//!
//! - `pochi-bench-server shop DB_FILE [ADDR]`: `pochi_http::router` served by hyper (through
//!   `pochi_http::serve`) over the SQLite file store at `DB_FILE` (created fresh), with 50
//!   active products whose stock (`MAX_STOCK` each) no run can exhaust, and rate limits off
//!   (one client address sends everything);
//! - `pochi-bench-server hello [ADDR]`: the ceiling, a plain hyper HTTP/1.1 server answering
//!   every request with the same small JSON body (or, with `POCHI_BENCH_HELLO_BODY=FILE`, with
//!   that file's bytes: the ceiling for a response as large as the catalogue's).
//!
//! `ADDR` defaults to `127.0.0.1:0` (a free port). When ready, the server prints one line,
//! `ready <address> <first product id or ->`, and serves until interrupted.

use std::{convert::Infallible, io::Write as _, path::Path, process::ExitCode, sync::Arc};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{
    Request, Response,
    header::{CONTENT_TYPE, HeaderValue},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use pochi_benches::BenchError;
use pochi_core::{AdminUsers, ManualCodeProvider, ProductInput, Shop, product::MAX_STOCK};
use pochi_http::{RateLimits, RouterConfig};
use pochi_store_sqlite::SqliteStore;
use tokio::net::TcpListener;

/// Products in the catalogue the shop serves.
const PRODUCTS: usize = 50;
/// What the ceiling answers.
const HELLO: &[u8] = br#"{"hello":"world"}"#;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(BenchError::from)
        .and_then(|runtime| runtime.block_on(run(&args)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("pochi-bench-server: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<(), BenchError> {
    let usage = "usage: pochi-bench-server shop DB_FILE [ADDR] | hello [ADDR]";
    match args {
        [mode, db, rest @ ..] if mode == "shop" && rest.len() <= 1 => {
            let (router, product) = shop(Path::new(db)).await?;
            let listener = bind(rest.first()).await?;
            ready(&listener, &product)?;
            pochi_http::serve(listener, router, interrupted()).await?;
            Ok(())
        }
        [mode, rest @ ..] if mode == "hello" && rest.len() <= 1 => {
            let body = match std::env::var_os("POCHI_BENCH_HELLO_BODY") {
                Some(file) => Bytes::from(std::fs::read(file)?),
                None => Bytes::from_static(HELLO),
            };
            let listener = bind(rest.first()).await?;
            ready(&listener, "-")?;
            tokio::select! {
                served = hello(listener, body) => served,
                () = interrupted() => Ok(()),
            }
        }
        _ => Err(usage.into()),
    }
}

async fn bind(addr: Option<&String>) -> Result<TcpListener, BenchError> {
    Ok(TcpListener::bind(addr.map_or("127.0.0.1:0", String::as_str)).await?)
}

fn ready(listener: &TcpListener, product: &str) -> Result<(), BenchError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {} {product}", listener.local_addr()?)?;
    out.flush()?;
    Ok(())
}

async fn interrupted() {
    // Without a signal handler (it failed to install), serve until killed.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The shop's router over a fresh SQLite file with the catalogue, and its first product's id.
async fn shop(db: &Path) -> Result<(axum::Router, String), BenchError> {
    if db.exists() {
        std::fs::remove_file(db)?;
    }
    let store = SqliteStore::open(db).await?;
    store.migrate().await?;
    let shop = Shop::builder(Arc::new(store))
        .provider(Arc::new(ManualCodeProvider::new()))
        .build()?;
    let mut first = None;
    for i in 0..PRODUCTS {
        let product = shop
            .save_product(&ProductInput {
                name: format!("Kikoi {i}"),
                description: Some(String::from(
                    "Hand-woven cotton from the coast, 100 × 170 cm",
                )),
                price: format!("{}", 500 + i * 50),
                stock: Some(i64::from(MAX_STOCK)),
                ..ProductInput::default()
            })
            .await?;
        first.get_or_insert(product.id);
    }
    let config = RouterConfig::builder(Arc::new(AdminUsers::new()))
        .rate_limits(RateLimits::disabled())
        .build()?;
    let product = first.map(|id| id.to_string()).unwrap_or_default();
    Ok((pochi_http::router(shop, config), product))
}

/// The ceiling: accepts connections and answers every request on them with `body`.
async fn hello(listener: TcpListener, body: Bytes) -> Result<(), BenchError> {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: the load generator sees the refusal.
            Err(err) => {
                eprintln!("accept: {err}");
                continue;
            }
        };
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_: Request<hyper::body::Incoming>| {
                let body = body.clone();
                async move {
                    let mut response = Response::new(Full::new(body));
                    response
                        .headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    Ok::<_, Infallible>(response)
                }
            });
            // A client that goes away mid-request is no error of the server's.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
