//! Answers of eddy's own endpoints (`/_eddy/<service>/…`): JSON, plain
//! text, and a page of a service's outbox (`?after=<key>&limit=<n>`).

use bytes::Bytes;
use http::StatusCode;
use serde::Serialize;

use crate::server::HttpResponse;

pub fn json(v: &serde_json::Value) -> HttpResponse {
    respond(StatusCode::OK, "application/json", v.to_string())
}

pub fn text(status: StatusCode, text: String) -> HttpResponse {
    respond(status, "text/plain", text)
}

pub fn not_found() -> HttpResponse {
    text(StatusCode::NOT_FOUND, "no such eddy endpoint".into())
}

fn respond(status: StatusCode, content_type: &str, body: String) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(http_body_util::Full::new(Bytes::from(body)))
        .expect("valid response")
}

/// A query parameter of `uri`.
pub fn query_param(uri: &http::Uri, name: &str) -> Option<String> {
    let pairs = eddy_wire::query::parse_form(uri.query().unwrap_or_default().as_bytes());
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// `{"entries": […], "next": key}`: the page `read(after, limit)` gives,
/// limit 100 unless asked (1 to 1000).
pub fn outbox_page<T: Serialize, E: std::fmt::Display>(
    uri: &http::Uri,
    read: impl FnOnce(Option<u64>, usize) -> Result<(Vec<T>, Option<u64>), E>,
) -> HttpResponse {
    let after = query_param(uri, "after").and_then(|a| a.parse().ok());
    let limit = query_param(uri, "limit").and_then(|l| l.parse().ok()).unwrap_or(100usize).clamp(1, 1000);
    match read(after, limit) {
        Ok((entries, next)) => json(&serde_json::json!({"entries": entries, "next": next})),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
