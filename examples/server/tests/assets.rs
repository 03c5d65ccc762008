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

/// Every page and file by URL path, with the bytes embedded from its file.
const EMBEDDED: [(&str, &[u8]); 20] = [
    ("/", include_bytes!("../assets/index.html")),
    ("/checkout", include_bytes!("../assets/checkout.html")),
    ("/pay", include_bytes!("../assets/pay.html")),
    (
        "/confirmation",
        include_bytes!("../assets/confirmation.html"),
    ),
    ("/track", include_bytes!("../assets/track.html")),
    ("/admin", include_bytes!("../assets/admin.html")),
    ("/logged-out", include_bytes!("../assets/logged-out.html")),
    ("/receipt", include_bytes!("../assets/receipt.html")),
    ("/assets/style.css", include_bytes!("../assets/style.css")),
    ("/assets/common.js", include_bytes!("../assets/common.js")),
    (
        "/assets/order-view.js",
        include_bytes!("../assets/order-view.js"),
    ),
    ("/assets/shop.js", include_bytes!("../assets/shop.js")),
    (
        "/assets/checkout.js",
        include_bytes!("../assets/checkout.js"),
    ),
    ("/assets/pay.js", include_bytes!("../assets/pay.js")),
    (
        "/assets/confirmation.js",
        include_bytes!("../assets/confirmation.js"),
    ),
    ("/assets/track.js", include_bytes!("../assets/track.js")),
    ("/assets/admin.js", include_bytes!("../assets/admin.js")),
    (
        "/assets/logged-out.js",
        include_bytes!("../assets/logged-out.js"),
    ),
    ("/assets/receipt.js", include_bytes!("../assets/receipt.js")),
    (
        "/assets/favicon.svg",
        include_bytes!("../assets/favicon.svg"),
    ),
];

const BROWSER: &str = "gzip, deflate, br, zstd";

/// Waits for the startup thread to have compressed the files (until then they go out plain).
async fn compressed(base: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    for (path, _) in EMBEDDED {
        let url = format!("{base}{path}");
        loop {
            let (_, headers, _) = get(&url, &[("accept-encoding", BROWSER)]).await;
            if header(&headers, "content-encoding").is_some() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{path} never compressed"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn pages_and_files_are_sent_precompressed_as_the_browser_asks() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let base = server.base_url();
    compressed(&base).await;
    let mut plain_tags = Vec::new();
    for (path, embedded) in EMBEDDED {
        let url = format!("{base}{path}");
        let (status, plain_headers, plain) = get(&url, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(header(&plain_headers, "content-encoding"), None, "{path}");
        assert!(plain == embedded, "{path}: not its file's bytes");
        let mut tags = vec![header(&plain_headers, "etag").unwrap().to_owned()];
        plain_tags.push(tags[0].clone());
        for (accept, coding) in [(BROWSER, "br"), ("br;q=0, gzip", "gzip")] {
            let (status, headers, body) = get(&url, &[("accept-encoding", accept)]).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(header(&headers, "content-encoding"), Some(coding), "{path}");
            assert!(body.len() < plain.len(), "{path} {coding}");
            assert!(
                decode(Some(coding), &body) == embedded,
                "{path} {coding}: not its file's bytes"
            );
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
    // ...and between files.
    plain_tags.sort();
    plain_tags.dedup();
    assert_eq!(plain_tags.len(), EMBEDDED.len(), "{plain_tags:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_browser_revalidating_its_copy_gets_304_for_the_same_variant_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    compressed(&server.base_url()).await;
    let url = format!("{}/assets/common.js", server.base_url());
    let browser = ("accept-encoding", BROWSER);
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

/// The texts a shop put in its `POCHI_TEXTS_DIR`.
fn texts_dir(file: &str, json: &str) -> tempfile::TempDir {
    let texts = tempfile::tempdir().unwrap();
    std::fs::write(texts.path().join(file), json).unwrap();
    texts
}

#[tokio::test]
async fn the_shops_own_texts_replace_the_catalogues_and_are_sent_compressed() {
    // Given a shop that words its cart its own way in Kiswahili...
    let texts = texts_dir("sw.json", r#"{"nav.cart": "Kapu la Mama"}"#);
    let dir = tempfile::tempdir().unwrap();
    let vars = [
        ("POCHI_DATA_DIR", dir.path().to_str().unwrap()),
        ("POCHI_LISTEN", "127.0.0.1:0"),
        ("POCHI_TEXTS_DIR", texts.path().to_str().unwrap()),
    ];
    let server = pochi_server::start(Settings::from_vars(vars).unwrap())
        .await
        .unwrap();
    let url = format!("{}/assets/i18n/sw.json", server.base_url());

    // ...the Kiswahili catalogue has its text and keeps the others; English is untouched.
    let (status, headers, body) = get(&url, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&headers, "content-type"),
        Some("application/json; charset=utf-8")
    );
    let sw: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(sw["nav.cart"], "Kapu la Mama");
    assert_eq!(sw["nav.track"], "Fuatilia oda");
    let (_, _, body) = get(&format!("{}/assets/i18n/en.json", server.base_url()), &[]).await;
    let en: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(en["nav.cart"], "Cart");

    // Compressed like the other files, once ready, and revalidated by its tag.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let (headers, body) = loop {
        let (_, headers, body) = get(&url, &[("accept-encoding", BROWSER)]).await;
        if header(&headers, "content-encoding").is_some() {
            break (headers, body);
        }
        assert!(std::time::Instant::now() < deadline, "never compressed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let decoded: serde_json::Value =
        serde_json::from_slice(&decode(header(&headers, "content-encoding"), &body)).unwrap();
    assert_eq!(decoded, sw);
    let tag = header(&headers, "etag").unwrap().to_owned();
    let (status, _, _) = get(
        &url,
        &[("accept-encoding", BROWSER), ("if-none-match", &tag)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    server.shutdown().await.unwrap();
}

#[test]
fn a_text_the_catalogue_does_not_have_stops_the_start_naming_the_file_and_key() {
    let texts = texts_dir("sw.json", r#"{"nav.kart": "Kapu"}"#);
    let vars = [("POCHI_TEXTS_DIR", texts.path().to_str().unwrap())];

    let err = Settings::from_vars(vars).unwrap_err();

    assert_eq!(err.variable, "POCHI_TEXTS_DIR");
    let file = texts.path().join("sw.json");
    assert!(
        err.message.starts_with(&format!("{}: ", file.display())),
        "{err}"
    );
    assert!(err.message.contains("unknown key \"nav.kart\""), "{err}");
}
