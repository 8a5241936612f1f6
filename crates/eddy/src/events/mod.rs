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
    match (method, uri.path().trim_start_matches("/_eddy/events/")) {
        (&Method::GET, "stats") => {
            let mut stats = events.stats.snapshot();
            stats["pending"] = events.pending_deliveries().into();
            crate::own::json(&stats)
        }
        (&Method::GET, "outbox") => crate::own::outbox_page(uri, |after, limit| events.outbox(after, limit)),
        _ => crate::own::not_found(),
    }
}
