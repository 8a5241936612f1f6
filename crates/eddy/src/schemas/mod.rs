//! EventBridge Schemas over restJson1: the route names the operation, the
//! path and query carry names, the body the rest ([`eddy_wire::schemas`]).
//! Errors are the model's shapes with their statuses, with `Code` and
//! `Message` members. Successes carry the model's status: 201 for the
//! creations, 204 for deletions and tagging.

mod ops;

use bytes::Bytes;
use http::StatusCode;

use eddy_core::schemas::SchemasError;
use eddy_wire::rest_json::RestJsonError;

use crate::request::RequestCtx;
use crate::routes::PathParams;
use crate::server::{AppState, HttpResponse};

/// The operations, one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    CreateRegistry,
    DescribeRegistry,
    UpdateRegistry,
    DeleteRegistry,
    ListRegistries,
    CreateSchema,
    DescribeSchema,
    UpdateSchema,
    DeleteSchema,
    DeleteSchemaVersion,
    ListSchemas,
    ListSchemaVersions,
    SearchSchemas,
    ExportSchema,
    PutCodeBinding,
    DescribeCodeBinding,
    GetCodeBindingSource,
    PutResourcePolicy,
    GetResourcePolicy,
    DeleteResourcePolicy,
    CreateDiscoverer,
    DescribeDiscoverer,
    UpdateDiscoverer,
    DeleteDiscoverer,
    ListDiscoverers,
    StartDiscoverer,
    StopDiscoverer,
    GetDiscoveredSchema,
    TagResource,
    UntagResource,
    ListTagsForResource,
}

impl Op {
    /// The status of a success, as the model's `http.responseCode` gives it.
    fn status(self) -> StatusCode {
        match self {
            Op::CreateRegistry | Op::CreateSchema | Op::CreateDiscoverer => StatusCode::CREATED,
            Op::PutCodeBinding => StatusCode::ACCEPTED,
            Op::DeleteRegistry
            | Op::DeleteSchema
            | Op::DeleteSchemaVersion
            | Op::DeleteResourcePolicy
            | Op::DeleteDiscoverer
            | Op::TagResource
            | Op::UntagResource => StatusCode::NO_CONTENT,
            _ => StatusCode::OK,
        }
    }
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
            return error(ctx, &SchemasError::BadRequest(format!("The {name} in the path is not valid UTF-8.")))
        }
    };
    if let Err(e) = crate::authz::schemas::authorize(state, ctx, op, &req) {
        return error(ctx, &e);
    }
    match ops::dispatch(state, ctx, op, &req).await {
        Ok(_) if op.status() == StatusCode::NO_CONTENT => crate::respond::rest_json(StatusCode::NO_CONTENT, ctx, None)
            .map(|_| http_body_util::Full::new(Bytes::new())),
        Ok(output) => crate::respond::rest_json(op.status(), ctx, output.as_ref()),
        Err(e) => error(ctx, &e),
    }
}

pub fn error(ctx: &RequestCtx, e: &SchemasError) -> HttpResponse {
    let wire = RestJsonError::new(e.code(), e.status(), e.message())
        .with_message_key("Message")
        .with_member("Code", serde_json::Value::String(e.code().to_string()));
    crate::respond::rest_json_error(ctx, &wire)
}
