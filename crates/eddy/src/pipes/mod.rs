//! EventBridge Pipes over restJson1: the route names the operation, the
//! path and query carry names, the body the rest ([`eddy_wire::pipes`]).
//! Errors are the model's shapes with their statuses, the message under
//! `message`, a ValidationException's `fieldList` and a
//! ConflictException's `resourceId`/`resourceType`. Also eddy's own
//! endpoints: `/_eddy/pipes/stats` and `/_eddy/pipes/outbox`
//! (invocations of targets and enrichments eddy does not run).

mod ops;

use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::json;

use eddy_core::pipes::PipesError;
use eddy_wire::rest_json::RestJsonError;

use crate::request::RequestCtx;
use crate::routes::PathParams;
use crate::server::{AppState, HttpResponse};

/// The operations, one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    CreatePipe,
    DescribePipe,
    UpdatePipe,
    DeletePipe,
    ListPipes,
    StartPipe,
    StopPipe,
    TagResource,
    UntagResource,
    ListTagsForResource,
}

pub use crate::request::RestRequest as Request;

pub async fn handle(
    state: &AppState,
    ctx: &RequestCtx,
    op: Op,
    uri: &http::Uri,
    params: &PathParams,
    body: &Bytes,
) -> HttpResponse {
    let req = match Request::read(uri, params, body) {
        Ok(req) => req,
        Err(name) => {
            return error(
                ctx,
                &eddy_core::pipes::validation_error(format!("The {name} in the path is not valid UTF-8.")),
            )
        }
    };
    if let Err(e) = crate::authz::pipes::authorize(state, ctx, op, &req) {
        return error(ctx, &e);
    }
    match ops::dispatch(state, ctx, op, &req).await {
        Ok(output) => crate::respond::rest_json(StatusCode::OK, ctx, output.as_ref()),
        Err(e) => error(ctx, &e),
    }
}

pub fn error(ctx: &RequestCtx, e: &PipesError) -> HttpResponse {
    let mut wire = RestJsonError::new(e.code(), e.status(), e.message());
    match e {
        PipesError::Validation { fields, .. } if !fields.is_empty() => {
            let list: Vec<_> = fields.iter().map(|(name, message)| json!({"name": name, "message": message})).collect();
            wire = wire.with_member("fieldList", json!(list));
        }
        PipesError::Conflict { resource_id, resource_type, .. } => {
            wire = wire.with_member("resourceId", json!(resource_id)).with_member("resourceType", json!(resource_type));
        }
        _ => {}
    }
    wire_error(ctx, wire)
}

/// A restJson1 error in Pipes' words (the message member is `message`).
pub fn wire_error(ctx: &RequestCtx, e: RestJsonError) -> HttpResponse {
    crate::respond::rest_json_error(ctx, &e)
}

/// `/_eddy/pipes/…`: counters and the outbox.
pub async fn handle_eddy(state: &AppState, method: &Method, uri: &http::Uri) -> HttpResponse {
    let pipes = &state.pipes;
    match (method, uri.path().trim_start_matches("/_eddy/pipes/")) {
        (&Method::GET, "stats") => crate::own::json(&pipes.stats.snapshot()),
        (&Method::GET, "outbox") => crate::own::outbox_page(uri, |after, limit| pipes.outbox(after, limit)),
        _ => crate::own::not_found(),
    }
}
