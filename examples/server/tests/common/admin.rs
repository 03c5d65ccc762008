//! Requests as the reference server's generated admin.

use pochi_server::Running;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

/// `method` on `path` of `server` with the generated admin's login and `body` as JSON; the
/// status and the JSON answer (every answer of the API is JSON).
pub(crate) async fn as_admin(
    server: &Running,
    method: Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let (user, password) = server.generated_admin().unwrap();
    let response = Client::new()
        .request(method, format!("{}{path}", server.base_url()))
        .basic_auth(user, Some(password))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}
