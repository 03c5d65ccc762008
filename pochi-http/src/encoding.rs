//! Bodies compressed once and served many times: a [`Precompressed`] holds a body's plain
//! bytes and its brotli and gzip variants, and [`Precompressed::choose`] picks the one a
//! request's `Accept-Encoding` prefers.
//!
//! The router keeps catalogue pages this way (their variants are made when the page is read
//! from the store, once per cache generation), so a browser's request costs a lookup, not a
//! compression; the reference server keeps its embedded pages, scripts and styles the same way.
//!
//! Choices:
//! - **Negotiation** follows RFC 9110 §12.5.3: q-values (`q=0` refuses a coding), `identity`
//!   and `*` are honoured, `x-gzip` is gzip; with no `Accept-Encoding` the plain bytes go out.
//!   Between codings of equal weight brotli wins (smallest), then gzip; a coding is chosen over
//!   the plain bytes unless the client weighs `identity` higher. An element whose `q` does not
//!   parse is ignored. Written here because tower-http's negotiation is private to its
//!   compression layer, and its `ServeDir` precompressed support serves files on disk.
//! - **No zstd variant**: every browser that sends `zstd` also sends `br` at the same weight,
//!   so brotli (smaller at these sizes) would always be chosen and a zstd copy would only cost
//!   memory and a C library in the build.
//! - **Levels**: pages made at run time use brotli quality 5 and gzip's default (6): for a
//!   15 KB catalogue page brotli 5 is within a few percent of quality 11 at a small fraction
//!   of its time. [`Precompressed::smallest`] (quality 11, gzip 9) is for bytes compressed once
//!   per process, such as embedded files.
//! - A variant that is not smaller than the plain bytes is not kept (a tiny page).
//! - Every answer says `Vary: Accept-Encoding`, the plain one too, so a shared cache never
//!   gives one client's variant to another. The router's compression layer leaves these
//!   answers alone (they are marked), even the plain one sent to a client that weighs
//!   `identity` highest.

use std::io::Write;

use axum::{
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use flate2::{Compression, write::GzEncoder};

/// A content coding a [`Precompressed`] body can be sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentCoding {
    /// Brotli (`br`).
    Brotli,
    /// Gzip (`gzip`).
    Gzip,
    /// The plain bytes (`identity`): no `Content-Encoding` header.
    Identity,
}

impl ContentCoding {
    /// The coding's name in `Content-Encoding` and `Accept-Encoding`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentCoding::Brotli => "br",
            ContentCoding::Gzip => "gzip",
            ContentCoding::Identity => "identity",
        }
    }
}

/// How hard to compress.
#[derive(Debug, Clone, Copy)]
struct Levels {
    brotli: i32,
    gzip: u32,
}

/// For bytes made at run time, once per cache generation: fast, and nearly as small.
const FAST: Levels = Levels { brotli: 5, gzip: 6 };

/// For bytes made once per process.
const SMALLEST: Levels = Levels {
    brotli: 11,
    gzip: 9,
};

/// A body with its compressed variants, made once.
#[derive(Debug, Clone)]
pub struct Precompressed {
    plain: Bytes,
    brotli: Option<Bytes>,
    gzip: Option<Bytes>,
}

impl Precompressed {
    /// `plain` and its brotli (quality 5) and gzip (level 6) variants: fast enough to make
    /// whenever a page is read from the store.
    pub fn new(plain: Bytes) -> Self {
        Self::with_levels(plain, FAST)
    }

    /// `plain` and its smallest brotli (quality 11) and gzip (level 9) variants: for bytes
    /// compressed once per process.
    pub fn smallest(plain: Bytes) -> Self {
        Self::with_levels(plain, SMALLEST)
    }

    /// Only the plain bytes: answers are sent plain, and left for the router's compression
    /// layer to compress per request.
    pub fn uncompressed(plain: Bytes) -> Self {
        Precompressed {
            plain,
            brotli: None,
            gzip: None,
        }
    }

    fn with_levels(plain: Bytes, levels: Levels) -> Self {
        let smaller =
            |variant: Option<Vec<u8>>| variant.filter(|v| v.len() < plain.len()).map(Bytes::from);
        Precompressed {
            brotli: smaller(brotli(&plain, levels.brotli)),
            gzip: smaller(gzip(&plain, levels.gzip)),
            plain,
        }
    }

    /// The plain bytes.
    pub fn plain(&self) -> &Bytes {
        &self.plain
    }

    /// The bytes in `coding`, if that variant was made.
    pub fn variant(&self, coding: ContentCoding) -> Option<&Bytes> {
        match coding {
            ContentCoding::Brotli => self.brotli.as_ref(),
            ContentCoding::Gzip => self.gzip.as_ref(),
            ContentCoding::Identity => Some(&self.plain),
        }
    }

    /// Whether any compressed variant was made.
    pub fn is_compressed(&self) -> bool {
        self.brotli.is_some() || self.gzip.is_some()
    }

    /// How many bytes the body and its variants hold.
    pub fn size(&self) -> usize {
        self.plain.len()
            + self.brotli.as_ref().map_or(0, Bytes::len)
            + self.gzip.as_ref().map_or(0, Bytes::len)
    }

    /// The variant a request with these headers should get.
    pub fn choose(&self, request: &HeaderMap) -> Variant {
        let offered: Vec<ContentCoding> = [ContentCoding::Brotli, ContentCoding::Gzip]
            .into_iter()
            .filter(|c| self.variant(*c).is_some())
            .collect();
        let coding = negotiate(request, &offered);
        Variant {
            coding,
            body: self.variant(coding).unwrap_or(&self.plain).clone(),
            precompressed: self.is_compressed(),
        }
    }
}

/// One variant of a [`Precompressed`] body, ready to send: as a response it carries the body,
/// `Content-Encoding` (unless plain) and `Vary: Accept-Encoding`; add the `Content-Type`.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The coding of `body`.
    pub coding: ContentCoding,
    /// The bytes to send.
    pub body: Bytes,
    /// Whether the body had compressed variants to choose from (if not, the router's
    /// compression layer may still compress it per request).
    precompressed: bool,
}

impl Variant {
    /// Adds `Content-Encoding` (unless plain) and `Vary: Accept-Encoding` to `headers`, and,
    /// on `response`'s extensions, the mark that keeps the compression layer off.
    fn mark(&self, response: &mut Response) {
        let headers = response.headers_mut();
        if self.coding != ContentCoding::Identity {
            headers.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(self.coding.as_str()),
            );
        }
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if self.precompressed {
            response.extensions_mut().insert(Negotiated);
        }
    }

    /// An empty response (a `304 Not Modified`) with this variant's headers.
    pub fn headers_only(&self, status: axum::http::StatusCode) -> Response {
        let mut response = status.into_response();
        self.mark(&mut response);
        response
    }
}

impl IntoResponse for Variant {
    fn into_response(self) -> Response {
        let mut response = self.body.clone().into_response();
        // `Bytes` answers as application/octet-stream; the caller sets the real type.
        response.headers_mut().remove(header::CONTENT_TYPE);
        self.mark(&mut response);
        response
    }
}

/// The mark on a response whose coding was already chosen from precompressed variants.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Negotiated;

/// The smallest body the compression layer compresses. A smaller answer goes out in TCP's
/// first flight (ten segments) compressed or not, so compressing it saves the client no time
/// and at most a kilobyte or so of data, while it costs the server an encoder per request
/// (brotli zeroes large tables for each): under load, about a tenth of the server's time on
/// `GET /api/track/:id` (680 bytes) and a twentieth on `POST /api/orders` (1 KB). Larger
/// answers (the admin's lists, the OpenAPI document) are still compressed.
pub(crate) const MIN_COMPRESSED_BYTES: u16 = 2048;

/// The compression layer's rule: tower-http's default rule (not gRPC, images or server-sent
/// events) from [`MIN_COMPRESSED_BYTES`] up, unless the coding was already chosen here.
pub(crate) fn compress_when() -> impl tower_http::compression::Predicate {
    use tower_http::compression::{
        Predicate,
        predicate::{NotForContentType, SizeAbove},
    };
    SizeAbove::new(MIN_COMPRESSED_BYTES)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
        .and(NotNegotiated)
}

/// The mark's rule: the coding was not already chosen from precompressed variants.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NotNegotiated;

impl tower_http::compression::Predicate for NotNegotiated {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        response.extensions().get::<Negotiated>().is_none()
    }
}

/// The coding a request's `Accept-Encoding` prefers among `offered` (besides the plain bytes,
/// always available), by RFC 9110 §12.5.3; with no header, the plain bytes.
pub fn negotiate(request: &HeaderMap, offered: &[ContentCoding]) -> ContentCoding {
    let mut values = request.get_all(header::ACCEPT_ENCODING).iter().peekable();
    if values.peek().is_none() {
        return ContentCoding::Identity;
    }
    // Weights in thousandths, as q-values are written (at most three decimals).
    let (mut brotli, mut gzip, mut identity, mut any) = (None, None, None, None);
    for element in values
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = element.split(';');
        let name = parts.next().unwrap_or_default().trim();
        if name.is_empty() {
            continue;
        }
        let Some(weight) = weight(parts) else {
            continue;
        };
        let slot = if name.eq_ignore_ascii_case("br") {
            &mut brotli
        } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            &mut gzip
        } else if name.eq_ignore_ascii_case("identity") {
            &mut identity
        } else if name == "*" {
            &mut any
        } else {
            continue;
        };
        // The first mention counts.
        slot.get_or_insert(weight);
    }
    let weight_of = |coding: ContentCoding| match coding {
        ContentCoding::Brotli => brotli.or(any).unwrap_or(0),
        ContentCoding::Gzip => gzip.or(any).unwrap_or(0),
        // Acceptable unless refused, but any coding the client accepts comes first.
        ContentCoding::Identity => identity.or(any).unwrap_or(1),
    };
    // In order of preference; `max_by_key` would keep the last of equals, so compare by hand.
    let mut best = None;
    for coding in [ContentCoding::Brotli, ContentCoding::Gzip] {
        if !offered.contains(&coding) {
            continue;
        }
        let w = weight_of(coding);
        if w > 0 && best.is_none_or(|(_, b)| w > b) {
            best = Some((coding, w));
        }
    }
    match best {
        Some((coding, w)) if w >= weight_of(ContentCoding::Identity) => coding,
        _ => ContentCoding::Identity,
    }
}

/// The weight in thousandths from an element's parameters (`q=0.5` is 500); 1000 without `q`;
/// `None` if `q` does not parse.
fn weight<'a>(parameters: impl Iterator<Item = &'a str>) -> Option<u16> {
    for parameter in parameters {
        let Some((name, value)) = parameter.split_once('=') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("q") {
            continue;
        }
        return parse_q(value.trim());
    }
    Some(1000)
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
fn parse_q(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0_u16, |n, b| n * 10 + u16::from(b - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

fn brotli(plain: &[u8], quality: i32) -> Option<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        size_hint: plain.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(plain.len() / 4);
    brotli::BrotliCompress(&mut &plain[..], &mut out, &params).ok()?;
    Some(out)
}

fn gzip(plain: &[u8], level: u32) -> Option<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(plain.len() / 3), Compression::new(level));
    encoder.write_all(plain).ok()?;
    encoder.finish().ok()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    const BOTH: &[ContentCoding] = &[ContentCoding::Brotli, ContentCoding::Gzip];

    fn asking(accept: &str) -> ContentCoding {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(accept).unwrap(),
        );
        negotiate(&headers, BOTH)
    }

    #[test]
    fn a_browser_gets_brotli_and_no_header_gets_the_plain_bytes() {
        assert_eq!(asking("gzip, deflate, br, zstd"), ContentCoding::Brotli);
        assert_eq!(negotiate(&HeaderMap::new(), BOTH), ContentCoding::Identity);
        assert_eq!(asking(""), ContentCoding::Identity);
        assert_eq!(asking("identity"), ContentCoding::Identity);
        assert_eq!(asking("deflate, zstd"), ContentCoding::Identity);
    }

    #[test]
    fn weights_decide_and_zero_refuses() {
        assert_eq!(asking("br;q=0, gzip"), ContentCoding::Gzip);
        assert_eq!(asking("br;q=0.5, gzip;q=0.8"), ContentCoding::Gzip);
        assert_eq!(asking("br;q=0.8, gzip;q=0.8"), ContentCoding::Brotli);
        assert_eq!(asking("gzip;q=0, br;q=0"), ContentCoding::Identity);
        assert_eq!(asking("BR ; Q=1.000"), ContentCoding::Brotli);
        assert_eq!(asking("x-gzip"), ContentCoding::Gzip);
        assert_eq!(asking("gzip;q=0.5, identity"), ContentCoding::Identity);
        assert_eq!(asking("gzip, identity"), ContentCoding::Gzip);
        assert_eq!(asking("gzip;q=0.5"), ContentCoding::Gzip);
        // A weight that does not parse drops its element.
        assert_eq!(asking("br;q=2, gzip"), ContentCoding::Gzip);
        assert_eq!(asking("br;q=0.0001, gzip;q=0.1"), ContentCoding::Gzip);
    }

    #[test]
    fn a_star_covers_codings_not_named() {
        assert_eq!(asking("*"), ContentCoding::Brotli);
        assert_eq!(asking("br;q=0, *"), ContentCoding::Gzip);
        assert_eq!(asking("*;q=0"), ContentCoding::Identity);
        assert_eq!(asking("*;q=0.5, identity;q=0.9"), ContentCoding::Identity);
        assert_eq!(asking("gzip;q=0.3, *;q=0.6"), ContentCoding::Brotli);
    }

    #[test]
    fn only_offered_variants_are_chosen() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("br"));
        assert_eq!(
            negotiate(&headers, &[ContentCoding::Gzip]),
            ContentCoding::Identity
        );
    }

    #[test]
    fn variants_decode_to_the_plain_bytes_and_tiny_bodies_stay_plain() {
        let plain = Bytes::from("{\"name\":\"Kikoi\"},".repeat(200));
        for page in [
            Precompressed::new(plain.clone()),
            Precompressed::smallest(plain.clone()),
        ] {
            let mut decoded = Vec::new();
            brotli::Decompressor::new(&page.brotli.clone().unwrap()[..], 4096)
                .read_to_end(&mut decoded)
                .unwrap();
            assert_eq!(decoded, plain);
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(&page.gzip.clone().unwrap()[..])
                .read_to_end(&mut decoded)
                .unwrap();
            assert_eq!(decoded, plain);
        }
        let tiny = Precompressed::new(Bytes::from_static(b"{}"));
        assert!(!tiny.is_compressed());
    }
}
