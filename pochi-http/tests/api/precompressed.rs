//! The catalogue compressed once (issue #18): over real sockets, each page's brotli and gzip
//! variants decode to exactly its plain bytes, the client's `Accept-Encoding` chooses among
//! them, every variant says `Vary: Accept-Encoding`, and a saved product shows in new
//! compressed bytes.

use std::io::Read;

use reqwest::{Client, StatusCode, header::HeaderMap};
use serde_json::json;

use crate::{socket::start, support::*};

const BROWSER: &str = "gzip, deflate, br, zstd";

/// Status, headers and raw body (reqwest here decodes nothing) of `GET {base}/api/products`.
async fn catalogue(base: &str, accept_encoding: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Client::new().get(format!("{base}/api/products"));
    if let Some(accept) = accept_encoding {
        request = request.header("accept-encoding", accept);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn encoding(headers: &HeaderMap) -> Option<&str> {
    headers.get("content-encoding").map(|v| v.to_str().unwrap())
}

fn unbrotli(body: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    brotli::Decompressor::new(body, 4096)
        .read_to_end(&mut plain)
        .unwrap();
    plain
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut plain)
        .unwrap();
    plain
}

#[tokio::test]
async fn every_variant_of_a_page_decodes_to_its_plain_bytes_and_varies_by_accept_encoding() {
    // given a catalogue page worth compressing
    let app = app();
    for i in 0..20 {
        product(&app.shop, &format!("Kikoi {i}"), "1500", Some(3)).await;
    }
    let (base, _stop, _server) = start(app.router.clone()).await;

    // when a client without Accept-Encoding, a browser, and a gzip-only client ask
    let (status, plain_headers, plain) = catalogue(&base, None).await;
    let (_, br_headers, br) = catalogue(&base, Some(BROWSER)).await;
    let (_, gzip_headers, gzip) = catalogue(&base, Some("br;q=0, gzip")).await;
    let (_, identity_headers, identity) = catalogue(&base, Some("identity")).await;

    // then each gets its coding, and every variant is the same page
    assert_eq!(status, StatusCode::OK);
    assert_eq!(encoding(&plain_headers), None);
    assert_eq!(encoding(&br_headers), Some("br"));
    assert_eq!(encoding(&gzip_headers), Some("gzip"));
    assert_eq!(encoding(&identity_headers), None);
    assert!(plain.starts_with(b"{\"items\":["));
    assert_eq!(unbrotli(&br), plain);
    assert_eq!(gunzip(&gzip), plain);
    assert_eq!(identity, plain);
    assert!(br.len() < gzip.len() && gzip.len() < plain.len());
    // made once, not per request: the layer's per-request compression streams its output
    // without a length, a stored variant has one
    for (headers, body) in [(&br_headers, &br), (&gzip_headers, &gzip)] {
        assert_eq!(headers["content-length"], body.len().to_string());
    }
    for headers in [
        &plain_headers,
        &br_headers,
        &gzip_headers,
        &identity_headers,
    ] {
        assert_eq!(headers["vary"], "accept-encoding");
        assert_eq!(headers["content-type"], "application/json");
    }
}

#[tokio::test]
async fn a_client_preferring_the_plain_page_gets_it_uncompressed() {
    // given a page, and a client that takes gzip at half weight but anything else (the plain
    // bytes included) at full weight, and refuses brotli
    let app = app();
    for i in 0..20 {
        product(&app.shop, &format!("Kikoi {i}"), "1500", Some(3)).await;
    }
    let (base, _stop, _server) = start(app.router.clone()).await;
    let (_, plain_headers, plain) = catalogue(&base, None).await;
    // when it asks
    let (_, headers, body) = catalogue(&base, Some("br;q=0, gzip;q=0.5, *")).await;
    // then it gets the plain bytes: the router's compression layer does not overrule the
    // choice
    assert_eq!(encoding(&headers), None);
    assert_eq!(body, plain);
    assert_eq!(headers["vary"], "accept-encoding");
    assert_eq!(encoding(&plain_headers), None);
}

#[tokio::test]
async fn a_saved_product_shows_in_new_compressed_bytes() {
    // given a compressed page already served
    let app = app();
    for i in 0..10 {
        product(&app.shop, &format!("Kikoi {i}"), "1500", Some(3)).await;
    }
    let (base, _stop, _server) = start(app.router.clone()).await;
    let (_, _, before_br) = catalogue(&base, Some("br")).await;
    let (_, _, before_gzip) = catalogue(&base, Some("gzip")).await;
    // when the admin saves a product
    let saved = Client::new()
        .post(format!("{base}/api/admin/products"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&json!({"name": "Kiondo basket", "price": "900"}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::CREATED);
    // then every variant shows it at once
    let (_, _, plain) = catalogue(&base, None).await;
    let (_, _, br) = catalogue(&base, Some("br")).await;
    let (_, _, gzip) = catalogue(&base, Some("gzip")).await;
    assert_ne!(br, before_br);
    assert_ne!(gzip, before_gzip);
    assert_eq!(unbrotli(&br), plain);
    assert_eq!(gunzip(&gzip), plain);
    assert!(String::from_utf8(plain).unwrap().contains("Kiondo basket"));
}
