//! EventBridge over awsJson 1.1 (`X-Amz-Target: AWSEvents.<Operation>`):
//! the body decodes to a JSON object, [`ops`] decodes the operation's typed
//! input and runs it; errors are `{"__type", "message"}`. Also eddy's own
//! endpoints: `/_eddy/events/stats` (delivery counters) and
//! `/_eddy/events/outbox` (invocations of targets eddy does not run).

pub(crate) mod errors;
pub mod invoker;
mod ops;

use bytes::Bytes;
use http::{Method, StatusCode};

use eddy_wire::events::CONTENT_TYPE;
use eddy_wire::json;

use self::errors::EventsWireError;
use crate::request::RequestCtx;
use crate::server::{AppState, HttpResponse};

pub async fn handle(state: &AppState, ctx: &RequestCtx, operation: &str, body: &Bytes) -> HttpResponse {
    let input = match json::decode_object(body, &json::EVENTS) {
        Ok(v) => v,
        Err(e) => return error(ctx, &errors::serialization(e.to_string())),
    };
    if let Err(e) = crate::authz::events::authorize(state, ctx, operation, &input) {
        return error(ctx, &e);
    }
    match ops::dispatch(state, ctx, operation, input).await {
        Ok(output) => respond(StatusCode::OK, ctx, serde_json::to_vec(&output).expect("serialisable")),
        Err(e) => error(ctx, &e),
    }
}

fn respond(status: StatusCode, ctx: &RequestCtx, body: Vec<u8>) -> HttpResponse {
    crate::respond::full(status, CONTENT_TYPE, ctx, body)
}

pub(crate) fn error(ctx: &RequestCtx, e: &EventsWireError) -> HttpResponse {
    let body = serde_json::json!({"__type": e.shape, "message": e.message}).to_string().into_bytes();
    let mut r = respond(StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST), ctx, body);
    r.headers_mut().insert("x-amzn-errortype", e.shape.parse().expect("ascii header"));
    r
}

/// `/_eddy/events/…`: delivery counters and the outbox.
pub async fn handle_eddy(state: &AppState, method: &Method, uri: &http::Uri) -> HttpResponse {
    let events = &state.events;
    let json_ok = |v: &serde_json::Value| {
        http::Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(Bytes::from(v.to_string())))
            .expect("valid response")
    };
    match (method, uri.path().trim_start_matches("/_eddy/events/")) {
        (&Method::GET, "stats") => {
            let mut stats = events.stats.snapshot();
            stats["pending"] = events.pending_deliveries().into();
            json_ok(&stats)
        }
        (&Method::GET, "outbox") => {
            let after = query_param(uri, "after").and_then(|a| a.parse().ok());
            let limit = query_param(uri, "limit").and_then(|l| l.parse().ok()).unwrap_or(100usize).clamp(1, 1000);
            match events.outbox(after, limit) {
                Ok((entries, next)) => json_ok(&serde_json::json!({"entries": entries, "next": next})),
                Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            }
        }
        _ => plain(StatusCode::NOT_FOUND, "no such eddy endpoint".into()),
    }
}

fn query_param(uri: &http::Uri, name: &str) -> Option<String> {
    let pairs = eddy_wire::query::parse_form(uri.query().unwrap_or_default().as_bytes());
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn plain(status: StatusCode, text: String) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(http_body_util::Full::new(Bytes::from(text)))
        .expect("valid response")
}
