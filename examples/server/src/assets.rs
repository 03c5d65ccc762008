//! The storefront and the admin dashboard: plain HTML, CSS and JavaScript embedded in the
//! binary (no build step, nothing fetched from elsewhere), served by [`router`].
//!
//! The pages are `/` (shop), `/checkout`, `/pay?order=NUMBER[&payment=ID]`,
//! `/confirmation?order=NUMBER`, `/track[?order=NUMBER]`, `/receipt?order=NUMBER`,
//! `/logged-out` and `/admin`; their scripts, styles and icon are under `/assets/`, and the
//! storefront's texts, one catalogue per language with the shop's own wording merged in
//! ([`crate::texts`]), at `/assets/i18n/en.json` and `/assets/i18n/sw.json`. The pages call the
//! API with relative URLs (`api/...`), so the shop also works mounted under a prefix that ends
//! in `/`.
//!
//! The storefront's pages speak English and Kiswahili: `common.js` picks the language (the
//! customer's choice on the page's switch, kept in `localStorage`, else the first of the
//! browser's languages the shop speaks, else English), sets `<html lang>`, loads the
//! catalogue and fills the elements marked `data-i18n`. The admin dashboard stays English.
//!
//! Choices:
//! - **A strict CSP**: scripts, styles, images and API calls from this origin only, and no
//!   inline script or style anywhere (the pages carry none), so an injected `<script>` or
//!   `style=` attribute does nothing. Uploaded product images come through `/api/media/`.
//! - **Revalidated caching**: every file has an `ETag` (a hash of its bytes, computed once) and
//!   `Cache-Control: no-cache`, so a browser keeps a copy but an upgraded server is seen at once;
//!   a matching `If-None-Match` gets `304 Not Modified`. (Not versioned names with `immutable`:
//!   the pages name their files plainly, and are themselves entry points that must revalidate;
//!   a 304 costs a round trip but no bytes.)
//! - **Precompressed**: each file is sent as brotli or gzip when the browser accepts it
//!   ([`pochi_http::encoding`]), compressed once per process at the highest levels (brotli 11,
//!   gzip 9), not per request. [`router`] starts making them all on a background thread at
//!   startup; until a file's variants are ready it is sent plain (with the plain `ETag`), so
//!   no request waits for brotli 11 on an async worker. (Not in a build
//!   script: that would build the compressor a second time for the build host, and the ~100 KB
//!   of files take a fraction of a second once per process.) Each variant has its own strong
//!   `ETag` (the file's tag with `.br` or `.gz`), and every answer says
//!   `Vary: Accept-Encoding`.
//! - **`Referrer-Policy: same-origin`**: page URLs carry order numbers and payment ids, which
//!   must not leak to other sites.

use std::sync::{Arc, Once, OnceLock};

use axum::{
    Router,
    body::Bytes,
    extract::Path,
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use pochi_http::encoding::{ContentCoding, Precompressed};

use crate::texts::{LANGUAGES, Texts};

/// An embedded file: its name under `/assets/` (pages: their route), type and bytes, and what
/// is computed from them once per process. Kept in `static`s, so each file has one address and
/// its state lives with it: no lookup, nothing to fall back on.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: Bytes,
    /// The compressed variants, made by the warm-up thread.
    variants: OnceLock<Precompressed>,
    /// The `ETag` of the plain bytes.
    tag: OnceLock<HeaderValue>,
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";
const JSON: &str = "application/json; charset=utf-8";

macro_rules! asset {
    ($name:literal, $file:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: Bytes::from_static(include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/assets/",
                $file
            ))),
            variants: OnceLock::new(),
            tag: OnceLock::new(),
        }
    };
}

/// The pages, by route.
static PAGES: [Asset; 8] = [
    asset!("/", "index.html", HTML),
    asset!("/checkout", "checkout.html", HTML),
    asset!("/pay", "pay.html", HTML),
    asset!("/confirmation", "confirmation.html", HTML),
    asset!("/track", "track.html", HTML),
    asset!("/admin", "admin.html", HTML),
    asset!("/logged-out", "logged-out.html", HTML),
    asset!("/receipt", "receipt.html", HTML),
];

/// The files under `/assets/`.
static FILES: [Asset; 12] = [
    asset!("style.css", "style.css", CSS),
    asset!("common.js", "common.js", JS),
    asset!("order-view.js", "order-view.js", JS),
    asset!("shop.js", "shop.js", JS),
    asset!("checkout.js", "checkout.js", JS),
    asset!("pay.js", "pay.js", JS),
    asset!("confirmation.js", "confirmation.js", JS),
    asset!("track.js", "track.js", JS),
    asset!("admin.js", "admin.js", JS),
    asset!("logged-out.js", "logged-out.js", JS),
    asset!("receipt.js", "receipt.js", JS),
    asset!("favicon.svg", "favicon.svg", SVG),
];

/// The pages' policy: everything from this origin, nothing inline, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The storefront's and the admin dashboard's pages and files, with the storefront's `texts`,
/// to merge with the API's router.
pub fn router(texts: &Texts) -> Router {
    static WARM: Once = Once::new();
    WARM.call_once(|| {
        // If the thread cannot start, the files are sent plain.
        let _ = std::thread::Builder::new()
            .name("compress-assets".into())
            .spawn(|| {
                for asset in PAGES.iter().chain(&FILES) {
                    asset.compress();
                }
            });
    });
    // The catalogues are this router's own (the shop's texts are merged in), so they are
    // compressed here, on a thread of their own, as the files are.
    let catalogues: Arc<[Asset]> = LANGUAGES
        .iter()
        .filter_map(|language| {
            let body = texts.catalogue(language)?.clone();
            Some(Asset {
                name: language,
                content_type: JSON,
                body,
                variants: OnceLock::new(),
                tag: OnceLock::new(),
            })
        })
        .collect();
    {
        let catalogues = catalogues.clone();
        let _ = std::thread::Builder::new()
            .name("compress-texts".into())
            .spawn(move || {
                for catalogue in catalogues.iter() {
                    catalogue.compress();
                }
            });
    }
    let mut router = Router::new();
    for page in &PAGES {
        router = router.route(
            page.name,
            get(move |headers: HeaderMap| async move { serve(page, &headers) }),
        );
    }
    router.route(
        "/assets/{*name}",
        get(
            move |Path(name): Path<String>, headers: HeaderMap| async move {
                file(&catalogues, &name, &headers)
            },
        ),
    )
}

fn file(catalogues: &[Asset], name: &str, headers: &HeaderMap) -> Response {
    let asset = match name.strip_prefix("i18n/") {
        Some(catalogue) => catalogues
            .iter()
            .find(|asset| catalogue.strip_suffix(".json") == Some(asset.name)),
        None => FILES.iter().find(|asset| asset.name == name),
    };
    match asset {
        Some(asset) => serve(asset, headers),
        None => (
            StatusCode::NOT_FOUND,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            "not found",
        )
            .into_response(),
    }
}

fn serve(asset: &Asset, request: &HeaderMap) -> Response {
    let variant = match asset.variants.get() {
        Some(variants) => variants.choose(request),
        None => Precompressed::uncompressed(asset.body.clone()).choose(request),
    };
    let etag = variant_tag(asset.tag(), variant.coding);
    // Weak comparison, as If-None-Match asks (RFC 9110 §13.1.2).
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|tags| tags.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag.to_str().unwrap_or(""));
    let mut response = if fresh {
        variant.headers_only(StatusCode::NOT_MODIFIED)
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            variant,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
];

impl Asset {
    /// Makes the compressed variants, once (the warm-up thread's work: brotli 11 takes a while).
    fn compress(&self) -> &Precompressed {
        self.variants
            .get_or_init(|| Precompressed::smallest(self.body.clone()))
    }

    /// A strong validator from the bytes (FNV-1a, 64 bits: enough to tell versions apart).
    fn tag(&self) -> &HeaderValue {
        self.tag.get_or_init(|| {
            let hash = self.body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
            });
            HeaderValue::try_from(format!("\"{hash:016x}\""))
                .unwrap_or(HeaderValue::from_static("\"0\""))
        })
    }
}

/// The validator of `coding`'s variant: a strong tag differs between codings of one file.
fn variant_tag(plain: &HeaderValue, coding: ContentCoding) -> HeaderValue {
    let suffix = match coding {
        ContentCoding::Brotli => ".br",
        ContentCoding::Gzip => ".gz",
        _ => return plain.clone(),
    };
    let tag = plain.to_str().unwrap_or("\"0\"").trim_end_matches('"');
    HeaderValue::try_from(format!("{tag}{suffix}\"")).unwrap_or_else(|_| plain.clone())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use axum::{body::Body, http::Request};
    use tower::ServiceExt;

    use super::*;

    fn texts() -> Texts {
        Texts::built_in().unwrap()
    }

    async fn get(path: &str) -> Response {
        router(&texts())
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    async fn body_text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn every_page_is_html_with_the_strict_policy() {
        for path in [
            "/",
            "/checkout",
            "/pay",
            "/confirmation",
            "/track",
            "/admin",
            "/logged-out",
            "/receipt",
        ] {
            let response = get(path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(response.headers()[header::CONTENT_TYPE], HTML, "{path}");
            assert_eq!(
                response.headers()[header::CONTENT_SECURITY_POLICY],
                CONTENT_SECURITY_POLICY,
                "{path}"
            );
            assert_eq!(
                response.headers()[header::X_CONTENT_TYPE_OPTIONS],
                "nosniff"
            );
            let html = body_text(response).await;
            assert!(html.starts_with("<!doctype html>"), "{path}");
        }
    }

    #[tokio::test]
    async fn every_file_is_served_with_its_content_type() {
        for (name, content_type) in [
            ("style.css", CSS),
            ("common.js", JS),
            ("order-view.js", JS),
            ("shop.js", JS),
            ("checkout.js", JS),
            ("pay.js", JS),
            ("confirmation.js", JS),
            ("track.js", JS),
            ("admin.js", JS),
            ("favicon.svg", SVG),
        ] {
            let response = get(&format!("/assets/{name}")).await;
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                content_type,
                "{name}"
            );
            assert!(!body_text(response).await.is_empty(), "{name}");
        }
    }

    #[tokio::test]
    async fn an_unknown_asset_is_not_found() {
        for path in ["/assets/nope.js", "/assets/../Cargo.toml", "/assets/"] {
            let response = get(path).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        }
    }

    #[tokio::test]
    async fn a_matching_etag_answers_not_modified() {
        let first = get("/assets/common.js").await;
        let etag = first.headers()[header::ETAG].clone();
        let again = router(&texts())
            .oneshot(
                Request::get("/assets/common.js")
                    .header(header::IF_NONE_MATCH, etag.clone())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::ETAG], etag);
        assert!(body_text(again).await.is_empty());
    }

    /// A file of the tests' own, so its variants are made only when a test says so.
    static LATE: Asset = asset!("late.js", "admin.js", JS);

    #[tokio::test]
    async fn a_file_is_sent_plain_until_its_variants_are_made() {
        let browser = HeaderMap::from_iter([(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br, zstd"),
        )]);
        // given a file whose variants are not made yet, when a browser asks, then it gets the
        // plain bytes with the plain tag (nothing is compressed on the request's worker)
        let early = serve(&LATE, &browser);
        assert_eq!(early.headers().get(header::CONTENT_ENCODING), None);
        assert_eq!(&early.headers()[header::ETAG], LATE.tag());
        assert_eq!(early.headers()[header::VARY], "accept-encoding");
        assert!(LATE.variants.get().is_none());
        let body = axum::body::to_bytes(early.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(body, &LATE.body);

        // once they are made, the same request gets brotli, with its own tag
        LATE.compress();
        let late = serve(&LATE, &browser);
        assert_eq!(late.headers()[header::CONTENT_ENCODING], "br");
        let plain_tag = LATE.tag().to_str().unwrap().trim_end_matches('"');
        assert_eq!(late.headers()[header::ETAG], format!("{plain_tag}.br\""));
        let body = axum::body::to_bytes(late.into_body(), usize::MAX)
            .await
            .unwrap();
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut brotli::Decompressor::new(&body[..], 4096), &mut plain)
            .unwrap();
        assert_eq!(plain, LATE.body);
    }

    #[tokio::test]
    async fn each_catalogue_is_served_as_json_with_the_shops_texts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sw.json"), r#"{"nav.cart": "Kapu"}"#).unwrap();
        let texts = Texts::load(Some(dir.path())).unwrap();
        for (language, cart) in [("en", "Cart"), ("sw", "Kapu")] {
            let response = router(&texts)
                .oneshot(
                    Request::get(format!("/assets/i18n/{language}.json"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{language}");
            assert_eq!(response.headers()[header::CONTENT_TYPE], JSON);
            assert!(response.headers().contains_key(header::ETAG));
            let catalogue: serde_json::Value =
                serde_json::from_str(&body_text(response).await).unwrap();
            assert_eq!(catalogue["nav.cart"], cart, "{language}");
        }
        for path in ["/assets/i18n/fr.json", "/assets/i18n/sw", "/assets/i18n/"] {
            assert_eq!(get(path).await.status(), StatusCode::NOT_FOUND, "{path}");
        }
    }

    /// The storefront's pages and scripts (the dashboard, `admin.*`, stays English).
    fn storefront() -> impl Iterator<Item = (&'static str, &'static str)> {
        PAGES
            .iter()
            .chain(&FILES)
            .filter(|asset| {
                !asset.name.contains("admin")
                    && (asset.content_type == HTML || asset.content_type == JS)
            })
            .map(|asset| (asset.name, std::str::from_utf8(&asset.body).unwrap()))
    }

    /// The catalogue keys `text` names: `data-i18n*="key"` attributes and `"namespace.key"`
    /// literals (what `t(..)` and the pages' helpers take), for the catalogue's namespaces.
    fn keys_named<'t>(text: &'t str, namespaces: &BTreeSet<&str>) -> BTreeSet<&'t str> {
        // Every stretch between two quotes: code between literals never looks like a key.
        text.split('"')
            .filter(|literal| {
                literal.split_once('.').is_some_and(|(namespace, rest)| {
                    namespaces.contains(namespace)
                        && !rest.is_empty()
                        && rest.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                })
            })
            .collect()
    }

    #[test]
    fn every_text_the_storefront_names_is_in_both_catalogues() {
        let texts = texts();
        let catalogues: Vec<(&str, serde_json::Map<String, serde_json::Value>)> = LANGUAGES
            .iter()
            .map(|l| {
                (
                    *l,
                    serde_json::from_slice(texts.catalogue(l).unwrap()).unwrap(),
                )
            })
            .collect();
        let namespaces: BTreeSet<&str> = catalogues[0]
            .1
            .keys()
            .filter_map(|key| key.split_once('.').map(|(namespace, _)| namespace))
            .collect();
        let mut named = BTreeSet::new();
        for (name, text) in storefront() {
            let keys = keys_named(text, &namespaces);
            if text.starts_with("<!doctype html>") {
                // Every storefront page has the switch and names its texts.
                assert!(
                    text.contains("data-language-switch"),
                    "{name} has no switch"
                );
                assert!(text.contains("<title data-i18n="), "{name}'s title");
                assert!(!keys.is_empty(), "{name} names no text");
            }
            named.extend(keys);
        }
        // The keys the scripts build: a status, a missing field, an account kind.
        let built: Vec<String> = [
            "pending_payment",
            "paid",
            "processing",
            "dispatched",
            "delivered",
            "cancelled",
        ]
        .iter()
        .map(|status| format!("status.{status}"))
        .chain(
            ["name", "phone", "county", "area", "address"]
                .iter()
                .map(|field| format!("checkout.missing_{field}")),
        )
        .chain(
            ["till", "paybill", "phone"]
                .iter()
                .map(|kind| format!("pay.account_{kind}")),
        )
        .collect();
        named.extend(built.iter().map(String::as_str));
        assert!(named.len() > 150, "only {} keys found", named.len());
        for (language, catalogue) in &catalogues {
            for key in &named {
                assert!(
                    catalogue
                        .get(*key)
                        .is_some_and(serde_json::Value::is_string),
                    "{key} is not in {language}.json"
                );
            }
        }
        assert!(
            keys_named("t(\"nav.cart\") \"pochi.cart.v1\" \"nav\"", &namespaces)
                .into_iter()
                .eq(["nav.cart"])
        );
    }

    /// Whether `html` has an inline event handler attribute (` onclick=`, ` onload=`...).
    fn has_inline_handler(html: &str) -> bool {
        html.match_indices(" on").any(|(at, _)| {
            let rest = &html[at + 3..];
            let name_len = rest.chars().take_while(char::is_ascii_lowercase).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        })
    }

    #[test]
    fn pages_load_only_embedded_files_and_nothing_inline() {
        for page in &PAGES {
            let html = std::str::from_utf8(&page.body).unwrap();
            for attribute in ["src=\"", "href=\""] {
                for reference in html.split(attribute).skip(1) {
                    let target = reference.split('"').next().unwrap();
                    if let Some(name) = target.strip_prefix("assets/") {
                        assert!(
                            FILES.iter().any(|f| f.name == name),
                            "{} refers to a missing file {target}",
                            page.name
                        );
                    } else {
                        assert!(
                            !target.contains("//"),
                            "{} loads {target} from elsewhere",
                            page.name
                        );
                    }
                }
            }
            // The CSP forbids inline code: every <script> has a src, no element has a style.
            assert!(
                !html.contains("<script>"),
                "{} has an inline script",
                page.name
            );
            assert!(
                !html.contains("style=\""),
                "{} has an inline style",
                page.name
            );
            assert!(
                !html.contains("<style"),
                "{} has a style element",
                page.name
            );
            assert!(
                !has_inline_handler(html),
                "{} has an inline handler",
                page.name
            );
        }
        assert!(has_inline_handler("<button onclick=\"x()\">"));
        assert!(!has_inline_handler("<p>the prompt on their phone</p>"));
    }
}
