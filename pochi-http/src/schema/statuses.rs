//! The statuses every route of a kind can answer, added to the document in one place.
//!
//! Layers answer for routes before their handlers run: the general rate limit (429) and the
//! request timeout (503) for every route, the JSON extractor for every JSON body (400, 413,
//! 415), the query extractor for every query (400), the admin login for every admin route (401,
//! and 429 for an address locked out after failed logins), the cross-site check for every admin
//! change (403). Writing these on each route by hand would let one be forgotten; the contract
//! test (`scripts/api-contract`) catches a status the document does not list.

use utoipa::openapi::{
    ContentBuilder, HttpMethod, OpenApi, Ref, RefOr, ResponseBuilder,
    header::{Header, HeaderBuilder},
    path::{Operation, ParameterIn},
    schema::{ObjectBuilder, Type},
};

/// Adds the statuses layers answer to every operation that can get them.
pub(crate) fn add_layer_statuses(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            (HttpMethod::Get, item.get.as_mut()),
            (HttpMethod::Post, item.post.as_mut()),
            (HttpMethod::Put, item.put.as_mut()),
            (HttpMethod::Delete, item.delete.as_mut()),
            (HttpMethod::Patch, item.patch.as_mut()),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                add_to(method, operation);
            }
        }
    }
}

fn add_to(method: HttpMethod, operation: &mut Operation) {
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    let any_body = operation.request_body.is_some();
    let query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let admin = operation
        .security
        .iter()
        .flatten()
        .any(|requirement| requirement_names(requirement).iter().any(|n| n == "basic"));
    let mut add = |status: &str, description: &str, retry_after: bool| {
        let responses = &mut operation.responses.responses;
        if !responses.contains_key(status) {
            responses.insert(status.to_owned(), error_response(description, retry_after));
        }
    };
    if json_body {
        add(
            "400",
            "The body is not valid JSON or does not fit the schema (`bad_request`, `field` names where)",
            false,
        );
        add(
            "415",
            "The body is not `application/json` (`unsupported_media_type`)",
            false,
        );
    }
    if any_body {
        add(
            "413",
            "The body is larger than the route accepts (`payload_too_large`)",
            false,
        );
    }
    if query {
        add(
            "400",
            "The query string could not be read (`bad_request`)",
            false,
        );
    }
    if admin {
        add(
            "401",
            "Missing or wrong admin credentials (`unauthorized`, with a `WWW-Authenticate` challenge)",
            false,
        );
        if method != HttpMethod::Get {
            add(
                "403",
                "A browser sent it from another site's page (`cross_site_request`)",
                false,
            );
        }
    }
    add(
        "429",
        "Too many requests from this address (`rate_limited`), or too many failed admin logins; `Retry-After` says when to try again",
        true,
    );
    add(
        "503",
        "The request took too long, or the database is unreachable (`temporarily_unavailable`), or the disk holding the shop's data is full (`storage_full`); try again",
        false,
    );
    // A route that declares its own 429 (the callbacks') answers it with `Retry-After` too.
    if let Some(RefOr::T(response)) = operation.responses.responses.get_mut("429") {
        response
            .headers
            .entry("Retry-After".to_owned())
            .or_insert_with(retry_after_header);
    }
}

fn requirement_names(requirement: &utoipa::openapi::security::SecurityRequirement) -> Vec<String> {
    serde_json::to_value(requirement)
        .ok()
        .and_then(|value| value.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default()
}

fn error_response(
    description: &str,
    retry_after: bool,
) -> RefOr<utoipa::openapi::response::Response> {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build(),
    );
    if retry_after {
        response = response.header("Retry-After", retry_after_header());
    }
    RefOr::T(response.build())
}

fn retry_after_header() -> Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        )
        .description(Some("Seconds to wait"))
        .build()
}
