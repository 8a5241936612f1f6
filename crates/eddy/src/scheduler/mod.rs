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

/// What a handler reads from the request besides the body.
pub struct Request<'a> {
    pub params: &'a PathParams,
    pub query: Vec<(String, String)>,
    pub body: &'a Bytes,
}

impl Request<'_> {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn query_all(&self, name: &str) -> Vec<String> {
        self.query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

pub async fn handle(
    state: &AppState,
    ctx: &RequestCtx,
    op: Op,
    uri: &http::Uri,
    params: &PathParams,
    body: &Bytes,
) -> HttpResponse {
    if let Some(name) = params.malformed() {
        return error(ctx, &SchedulerError::Validation(format!("The {name} in the path is not valid UTF-8.")));
    }
    let query = eddy_wire::query::parse_form(uri.query().unwrap_or_default().as_bytes());
    let req = Request { params, query, body };
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
    let json_ok = |v: &serde_json::Value| {
        http::Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(Bytes::from(v.to_string())))
            .expect("valid response")
    };
    let pairs = eddy_wire::query::parse_form(uri.query().unwrap_or_default().as_bytes());
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    match (method, uri.path().trim_start_matches("/_eddy/scheduler/")) {
        (&Method::GET, "stats") => {
            let mut stats = scheduler.stats.snapshot();
            stats["pending"] = scheduler.pending_invocations().into();
            json_ok(&stats)
        }
        (&Method::GET, "outbox") => {
            let after = param("after").and_then(|a| a.parse().ok());
            let limit = param("limit").and_then(|l| l.parse().ok()).unwrap_or(100usize).clamp(1, 1000);
            match scheduler.outbox(after, limit) {
                Ok((entries, next)) => json_ok(&serde_json::json!({"entries": entries, "next": next})),
                Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            }
        }
        _ => plain(StatusCode::NOT_FOUND, "no such eddy endpoint".into()),
    }
}

fn plain(status: StatusCode, text: String) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(http_body_util::Full::new(Bytes::from(text)))
        .expect("valid response")
}
