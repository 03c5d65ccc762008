//! Extractors whose rejections are JSON errors naming the field at fault, instead of axum's
//! plain-text ones.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The header that makes placing an order or starting a payment safe to retry.
pub(crate) const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// A JSON body: `application/json` only; serde's complaints become 400 `bad_request` naming
/// the field (`items[0].quantity`), the body limit a 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::unsupported_media_type(
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(Json)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || (mime.len() > 5 && mime[mime.len() - 5..].eq_ignore_ascii_case("+json"))
        })
}

/// A failure to read the body: too large (413) or broken off (400).
pub(crate) fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is larger than this route accepts",
        )
    } else {
        ApiError::bad_request("the request body could not be read", None)
    }
}

/// Reads JSON, naming the field serde stopped at. A number written with a fraction of zero
/// (`2.0`) is read as the whole number it is, as JSON Schema's `integer` says.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match parse_json_exactly(bytes) {
        Err(err) if err.code() == "bad_request" && err.field().is_some() => {
            // Only a body that is JSON but does not fit can be saved by reading `2.0` as `2`;
            // when that does not save it either, the first error stands.
            serde_json::from_slice::<serde_json::Value>(bytes)
                .ok()
                .map(whole_numbers)
                .and_then(|value| serde_json::from_value(value).ok())
                .ok_or(err)
        }
        read => read,
    }
}

/// `value` with every number that is whole but written with a fraction (`2.0`) as an integer.
fn whole_numbers(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    // Beyond 2^53 a float no longer holds every whole number exactly.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            #[allow(clippy::cast_possible_truncation)] // whole and within ±2^53: exact
            Some(f) if f.fract() == 0.0 && f.abs() <= EXACT => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(whole_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, item)| (key, whole_numbers(item)))
                .collect(),
        ),
        other => other,
    }
}

fn parse_json_exactly<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // Only a body that is JSON but does not fit has a field at fault; for broken JSON the
        // message says where reading stopped.
        let (what, field) = match inner.classify() {
            serde_json::error::Category::Data => (
                "the request body does not fit",
                field_of(&path, &inner.to_string()),
            ),
            serde_json::error::Category::Eof => ("the request body ends too soon", None),
            _ => ("the request body is not valid JSON", None),
        };
        ApiError::bad_request(format!("{what}: {inner}"), field)
    })?;
    de.end().map_err(|e| {
        ApiError::bad_request(format!("the request body is not valid JSON: {e}"), None)
    })?;
    Ok(value)
}

/// The field a serde error is about: the path where it stopped, plus the name in
/// "missing field `x`" / "unknown field `x`" messages.
fn field_of(path: &str, message: &str) -> Option<String> {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.split_once(prefix))
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name.to_owned());
    let path = (path != "." && path != "?").then(|| path.to_owned());
    match (path, named) {
        (Some(path), Some(name)) if message.starts_with("missing") => {
            Some(format!("{path}.{name}"))
        }
        (Some(path), Some(_)) => Some(path),
        (None, Some(name)) => Some(name),
        (path, None) => path,
    }
}

/// Query parameters: values read as text (the shop parses them and names the field); an
/// unreadable query string is a 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|err| {
                let field = Some(err.path().to_string()).filter(|p| p != "." && p != "?");
                ApiError::bad_request(
                    format!("the query string could not be read: {}", err.inner()),
                    field,
                )
            })
    }
}

/// Path parameters; a path that does not fit is a 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| {
                ApiError::bad_request(format!("the path could not be read: {rejection}"), None)
            })
    }
}

/// The `Idempotency-Key` header, if sent (the shop validates it).
#[derive(Debug, Clone, Default)]
pub(crate) struct IdempotencyKey(pub(crate) Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get(IDEMPOTENCY_KEY) {
            None => Ok(IdempotencyKey(None)),
            Some(value) => value
                .to_str()
                .map(|key| IdempotencyKey(Some(key.to_owned())))
                .map_err(|_| {
                    ApiError::from(pochi_core::Error::invalid(
                        "Idempotency-Key",
                        "must be visible ASCII characters",
                    ))
                }),
        }
    }
}

/// The version an edit is made against, from `If-Match`: the product's ETag (`"3"`) as a read
/// returned it. Absent, or `*`, means no version: the edit applies to whatever is stored.
/// A weak tag, a list or anything else is refused with 400 naming the header: only a single
/// strong tag can say which version was read.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct IfMatch(pub(crate) Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = value.to_str().unwrap_or_default().trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        text.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse().ok())
            .map(|version| IfMatch(Some(version)))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "If-Match must be the product's ETag as a read returned it (such as \"3\"), \
                     or *",
                    Some("If-Match".to_owned()),
                )
            })
    }
}

/// The ETag of a product at `version`: a strong tag, so `If-Match` can compare it.
pub(crate) fn etag(version: u64) -> axum::http::HeaderValue {
    // Digits between quotes are always a valid header value.
    axum::http::HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| axum::http::HeaderValue::from_static("\"0\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        quantity: i64,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<Item>,
    }

    fn field(json: &str) -> Option<String> {
        let err = parse_json::<Body>(json.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "bad_request", "{json}");
        err.field().map(str::to_owned)
    }

    #[test]
    fn whole_numbers_written_with_a_fraction_are_read_as_integers() {
        let body: Body =
            parse_json(br#"{"name":"a","items":[{"quantity":2.0},{"quantity":-3e0}]}"#).unwrap();
        assert_eq!(body.items[0].quantity, 2);
        assert_eq!(body.items[1].quantity, -3);
        // a fraction that is not zero still does not fit, and names its field
        assert_eq!(
            field(r#"{"name":"a","items":[{"quantity":2.5}]}"#).as_deref(),
            Some("items[0].quantity")
        );
    }

    #[test]
    fn serde_errors_name_the_field() {
        assert_eq!(field(r#"{"items":[]}"#).as_deref(), Some("name"));
        assert_eq!(
            field(r#"{"name":"a","items":[],"x":1}"#).as_deref(),
            Some("x")
        );
        assert_eq!(field(r#"{"name":1,"items":[]}"#).as_deref(), Some("name"));
        assert_eq!(
            field(r#"{"name":"a","items":[{"quantity":"2"}]}"#).as_deref(),
            Some("items[0].quantity")
        );
        assert_eq!(
            field(r#"{"name":"a","items":[{}]}"#).as_deref(),
            Some("items[0].quantity")
        );
        assert_eq!(field(r#"{"name":"a""#), None);
        assert_eq!(field(r#"{"name":"a","items":[]} x"#), None);
    }
}
