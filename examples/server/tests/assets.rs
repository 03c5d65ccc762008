//! The storefront's pages and files over real sockets (issue #18): sent precompressed as the
//! browser asks, each variant decoding to the embedded bytes, with `Vary`, its own `ETag`
//! and `304 Not Modified` on revalidation; the security headers stay.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::io::Read;

use pochi_server::{Running, Settings};
use reqwest::{Client, StatusCode, header::HeaderMap};

async fn start(dir: &std::path::Path) -> Running {
    let vars = [
        ("POCHI_DATA_DIR".to_owned(), dir.display().to_string()),
        ("POCHI_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
    ];
    pochi_server::start(Settings::from_vars(vars).unwrap())
        .await
        .unwrap()
}

/// Status, headers and raw body (reqwest here decodes nothing) of `GET {url}`.
async fn get(url: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Client::new().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn decode(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    match encoding {
        Some("br") => brotli::Decompressor::new(body, 4096)
            .read_to_end(&mut plain)
            .unwrap(),
        Some("gzip") => flate2::read::GzDecoder::new(body)
            .read_to_end(&mut plain)
            .unwrap(),
        None => return body.to_vec(),
        Some(other) => panic!("unexpected coding {other}"),
    };
    plain
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn pages_and_files_are_sent_precompressed_as_the_browser_asks() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let base = server.base_url();
    for path in ["/", "/admin", "/assets/admin.js", "/assets/style.css"] {
        let url = format!("{base}{path}");
        let (status, plain_headers, plain) = get(&url, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(header(&plain_headers, "content-encoding"), None, "{path}");
        let mut tags = vec![header(&plain_headers, "etag").unwrap().to_owned()];
        for (accept, coding) in [("gzip, deflate, br, zstd", "br"), ("br;q=0, gzip", "gzip")] {
            let (status, headers, body) = get(&url, &[("accept-encoding", accept)]).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(header(&headers, "content-encoding"), Some(coding), "{path}");
            assert!(body.len() < plain.len(), "{path} {coding}");
            assert_eq!(decode(Some(coding), &body), plain, "{path} {coding}");
            assert_eq!(
                header(&headers, "content-type"),
                header(&plain_headers, "content-type")
            );
            tags.push(header(&headers, "etag").unwrap().to_owned());
            assert_eq!(header(&headers, "vary"), Some("accept-encoding"), "{path}");
            assert_eq!(
                header(&headers, "cache-control"),
                Some("no-cache"),
                "{path}"
            );
            assert!(
                header(&headers, "content-security-policy")
                    .is_some_and(|p| p.contains("script-src 'self'")),
                "{path}"
            );
            assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
        }
        assert_eq!(
            header(&plain_headers, "vary"),
            Some("accept-encoding"),
            "{path}"
        );
        // A strong tag differs between the codings of one file.
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), 3, "{path}");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_browser_revalidating_its_copy_gets_304_for_the_same_variant_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let url = format!("{}/assets/common.js", server.base_url());
    let browser = ("accept-encoding", "gzip, deflate, br, zstd");
    let (_, headers, _) = get(&url, &[browser]).await;
    let etag = header(&headers, "etag").unwrap().to_owned();

    // the browser's copy is still good
    let (status, again, body) = get(&url, &[browser, ("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, "etag"), Some(etag.as_str()));
    assert_eq!(header(&again, "vary"), Some("accept-encoding"));
    assert!(body.is_empty());
    // ...also as a weak comparison, as If-None-Match is read
    let weak = format!("W/{etag}");
    let (status, _, _) = get(&url, &[browser, ("if-none-match", &weak)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);

    // a client holding the brotli copy but now asking for gzip gets the gzip bytes
    let (status, other, body) = get(
        &url,
        &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&other, "content-encoding"), Some("gzip"));
    assert!(!body.is_empty());
    server.shutdown().await.unwrap();
}
