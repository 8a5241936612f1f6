//! EventBridge Scheduler over restJson1: the route names the operation, the
//! path and query carry names, the body the rest ([`eddy_wire::scheduler`]).
//! Errors are the model's shapes with their statuses, the message under
//! `Message`. Also eddy's own endpoints: `/_eddy/scheduler/stats` and
//! `/_eddy/scheduler/outbox` (invocations of targets eddy does not run).

mod ops;

use bytes::Bytes;
use http::{Method, StatusCode};

use eddy_core::scheduler::SchedulerError;
use eddy_wire::rest_json::RestJsonError;

use crate::request::RequestCtx;
use crate::routes::PathParams;
use crate::server::{AppState, HttpResponse};

/// The operations, one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    CreateSchedule,
    GetSchedule,
    UpdateSchedule,
    DeleteSchedule,
    ListSchedules,
    CreateScheduleGroup,
    GetScheduleGroup,
    DeleteScheduleGroup,
    ListScheduleGroups,
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
            return error(ctx, &SchedulerError::Validation(format!("The {name} in the path is not valid UTF-8.")))
        }
    };
    if let Err(e) = crate::authz::scheduler::authorize(state, ctx, op, &req) {
        return error(ctx, &e);
    }
    match ops::dispatch(state, ctx, op, &req).await {
        Ok(output) => crate::respond::rest_json(StatusCode::OK, ctx, output.as_ref()),
        Err(e) => error(ctx, &e),
    }
}

pub fn error(ctx: &RequestCtx, e: &SchedulerError) -> HttpResponse {
    wire_error(ctx, RestJsonError::new(e.code(), e.status(), e.message()))
}

/// A restJson1 error in Scheduler's words (the message member is `Message`).
pub fn wire_error(ctx: &RequestCtx, e: RestJsonError) -> HttpResponse {
    crate::respond::rest_json_error(ctx, &e.with_message_key("Message"))
}

/// `/_eddy/scheduler/…`: counters and the outbox.
pub async fn handle_eddy(state: &AppState, method: &Method, uri: &http::Uri) -> HttpResponse {
    let scheduler = &state.scheduler;
    match (method, uri.path().trim_start_matches("/_eddy/scheduler/")) {
        (&Method::GET, "stats") => {
            let mut stats = scheduler.stats.snapshot();
            stats["pending"] = scheduler.pending_invocations().into();
            crate::own::json(&stats)
        }
        (&Method::GET, "outbox") => crate::own::outbox_page(uri, |after, limit| scheduler.outbox(after, limit)),
        _ => crate::own::not_found(),
    }
}
