//! The servers `benches/run.sh` loads with `wrk` on loopback:
//!
//! - `pochi-bench-server shop DB_FILE [ADDR]`: `pochi_http::router` served by hyper (through
//!   `pochi_http::serve`) over the SQLite file store at `DB_FILE` (created fresh), with 50
//!   active products whose stock (`MAX_STOCK` each) no run can exhaust, and rate limits off
//!   (one client address sends everything);
//! - `pochi-bench-server hello [ADDR]`: the ceiling, a plain hyper HTTP/1.1 server answering
//!   every request with the same small JSON body (or, with `POCHI_BENCH_HELLO_BODY=FILE`, with
//!   that file's bytes: the ceiling for a response as large as the catalogue's). With
//!   `POCHI_BENCH_HELLO_ENCODED=CODING=FILE,...` (say `br=page.br,gzip=page.gz`) it also holds
//!   those encoded variants of the body, the bytes the shop sent for each coding, and answers
//!   a request with the first of them, in that order, that its `Accept-Encoding` accepts (with
//!   `Content-Encoding` and `Vary: accept-encoding`), else with the plain body: the ceiling for
//!   the catalogue exactly as the shop sends it to a browser.
//!
//! `ADDR` defaults to `127.0.0.1:0` (a free port). When ready, the server prints one line,
//! `ready <address> <first product id or ->`, and serves until interrupted.

use std::{convert::Infallible, io::Write as _, path::Path, process::ExitCode, sync::Arc};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{
    Request, Response,
    header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue, VARY},
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
            let variants = match std::env::var("POCHI_BENCH_HELLO_ENCODED") {
                Ok(spec) => encoded_variants(&spec)?,
                Err(_) => Vec::new(),
            };
            let listener = bind(rest.first()).await?;
            ready(&listener, "-")?;
            let bodies = Arc::new(Bodies {
                plain: body,
                variants,
            });
            tokio::select! {
                served = hello(listener, bodies) => served,
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

/// What the ceiling answers: the plain body, and encoded variants in order of preference.
#[derive(Debug)]
struct Bodies {
    plain: Bytes,
    variants: Vec<(HeaderValue, Bytes)>,
}

impl Bodies {
    /// The body for a request with this `Accept-Encoding`, and its coding (none: plain).
    fn pick(&self, accept: Option<&HeaderValue>) -> (&Bytes, Option<&HeaderValue>) {
        let accepted = |coding: &HeaderValue| {
            accept
                .and_then(|a| a.to_str().ok())
                .is_some_and(|a| accepts(a, coding.to_str().unwrap_or_default()))
        };
        match self.variants.iter().find(|(coding, _)| accepted(coding)) {
            Some((coding, body)) => (body, Some(coding)),
            None => (&self.plain, None),
        }
    }
}

/// Whether an `Accept-Encoding` value accepts `coding`: named without `q=0`, or, when not
/// named at all, `*` without `q=0` (RFC 9110 §12.5.3: `*` matches only codings not listed).
fn accepts(accept: &str, coding: &str) -> bool {
    let mut named = None;
    let mut wildcard = None;
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        if name.eq_ignore_ascii_case(coding) {
            // A coding named twice is refused if either says so.
            named = Some(named.unwrap_or(true) && !refused);
        } else if name == "*" {
            wildcard = Some(wildcard.unwrap_or(true) && !refused);
        }
    }
    named.or(wildcard).unwrap_or(false)
}

/// `CODING=FILE,...`: each coding and its file's bytes, in that order.
fn encoded_variants(spec: &str) -> Result<Vec<(HeaderValue, Bytes)>, BenchError> {
    spec.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            let (coding, file) = item
                .split_once('=')
                .ok_or_else(|| format!("not CODING=FILE: {item:?}"))?;
            let body =
                std::fs::read(file.trim()).map_err(|e| format!("cannot read {file}: {e}"))?;
            Ok((HeaderValue::from_str(coding.trim())?, Bytes::from(body)))
        })
        .collect()
}

/// The ceiling: accepts connections and answers every request on them from `bodies`.
async fn hello(listener: TcpListener, bodies: Arc<Bodies>) -> Result<(), BenchError> {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: the load generator sees the refusal.
            Err(err) => {
                eprintln!("accept: {err}");
                continue;
            }
        };
        let bodies = Arc::clone(&bodies);
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let (body, coding) = bodies.pick(request.headers().get(ACCEPT_ENCODING));
                let mut response = Response::new(Full::new(body.clone()));
                let headers = response.headers_mut();
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                if let Some(coding) = coding {
                    headers.insert(CONTENT_ENCODING, coding.clone());
                }
                if !bodies.variants.is_empty() {
                    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
                }
                async move { Ok::<_, Infallible>(response) }
            });
            // A client that goes away mid-request is no error of the server's.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies() -> Bodies {
        Bodies {
            plain: Bytes::from_static(b"plain"),
            variants: vec![
                (
                    HeaderValue::from_static("br"),
                    Bytes::from_static(b"brotli"),
                ),
                (
                    HeaderValue::from_static("gzip"),
                    Bytes::from_static(b"gzipped"),
                ),
            ],
        }
    }

    fn pick(accept: Option<&'static str>) -> (String, Option<String>) {
        let bodies = bodies();
        let accept = accept.map(HeaderValue::from_static);
        let (body, coding) = bodies.pick(accept.as_ref());
        (
            String::from_utf8_lossy(body).into_owned(),
            coding.map(|c| c.to_str().unwrap_or_default().to_owned()),
        )
    }

    #[test]
    fn the_first_variant_the_request_accepts_is_served_with_its_coding() {
        assert_eq!(
            pick(Some("gzip, deflate, br, zstd")),
            ("brotli".to_owned(), Some("br".to_owned()))
        );
        assert_eq!(
            pick(Some("gzip;q=1.0, br;q=0")),
            ("gzipped".to_owned(), Some("gzip".to_owned()))
        );
        assert_eq!(
            pick(Some("*")),
            ("brotli".to_owned(), Some("br".to_owned()))
        );
    }

    #[test]
    fn a_coding_refused_by_name_is_not_served_for_a_star() {
        assert_eq!(
            pick(Some("br;q=0, *")),
            ("gzipped".to_owned(), Some("gzip".to_owned()))
        );
        assert_eq!(
            pick(Some("*, gzip;q=0, br;q=0")),
            ("plain".to_owned(), None)
        );
        assert_eq!(
            pick(Some("*;q=0, br")),
            ("brotli".to_owned(), Some("br".to_owned()))
        );
        assert_eq!(pick(Some("*;q=0")), ("plain".to_owned(), None));
    }

    #[test]
    fn without_an_accepted_coding_the_plain_body_is_served() {
        assert_eq!(pick(None), ("plain".to_owned(), None));
        assert_eq!(pick(Some("identity")), ("plain".to_owned(), None));
        assert_eq!(pick(Some("deflate, zstd")), ("plain".to_owned(), None));
    }
}
