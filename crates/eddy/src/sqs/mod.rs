//! SQS over both of its protocols. awsJson 1.0 bodies and awsQuery forms
//! decode to the same JSON input; [`ops::dispatch`] runs the operation; the
//! output is encoded back in the protocol of the request.

mod convert;
mod errors;
mod ops;

pub use convert::queue_name_from_url;

use bytes::Bytes;
use http::StatusCode;
use serde_json::Value;

use eddy_wire::error::WireError;
use eddy_wire::{query, sqs as shapes, xml};

use crate::request::RequestCtx;
use crate::server::{AppState, HttpResponse};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Json,
    Query,
}

pub async fn handle_json(state: &AppState, ctx: &RequestCtx, operation: &str, body: &Bytes) -> HttpResponse {
    // Bounded: a body may not expand past what SQS's largest request carries.
    let input = match eddy_wire::json::decode_object(body, &eddy_wire::json::SQS) {
        Ok(v) => v,
        Err(e) => return json_error(ctx, &errors::serialization(e.to_string())),
    };
    match ops::dispatch(state, ctx, Protocol::Json, operation, input).await {
        Ok(output) => {
            let body = output.map(|v| v.to_string()).unwrap_or_else(|| "{}".into());
            respond(StatusCode::OK, "application/x-amz-json-1.0", ctx, body)
        }
        Err(e) => json_error(ctx, &e),
    }
}

pub async fn handle_query(state: &AppState, ctx: &RequestCtx, pairs: &[(String, String)]) -> HttpResponse {
    let request = match query::decode_sqs(pairs) {
        Ok(r) => r,
        Err(query::QueryError::MissingAction) => return xml_error(ctx, &errors::missing_action()),
        // "Parameter … is malformed." or too many parameters.
        Err(e) => return xml_error(ctx, &errors::invalid_parameter(e.to_string())),
    };
    let mut input = request.input;
    let to_queue_path = ctx.path.trim_matches('/').contains('/');
    // Recorded from AWS: a queue's URL does not serve the service-wide actions.
    if to_queue_path && matches!(request.action.as_str(), "CreateQueue" | "ListQueues") {
        return xml_error(ctx, &errors::invalid_action(&request.action));
    }
    // Old clients may post to the queue's own path instead of naming QueueUrl.
    if input.get("QueueUrl").is_none() && to_queue_path {
        input["QueueUrl"] = Value::String(format!("{}{}", ctx.base_url, ctx.path));
    }
    match ops::dispatch(state, ctx, Protocol::Query, &request.action, input).await {
        Ok(output) => {
            let body = xml::sqs_response(&request.action, output.as_ref(), &ctx.request_id);
            respond(StatusCode::OK, "text/xml", ctx, body)
        }
        Err(e) => xml_error(ctx, &query_wording(e)),
    }
}

pub fn unknown_target(ctx: &RequestCtx, target: &str) -> HttpResponse {
    json_error(ctx, &errors::unknown_operation(target))
}

fn respond(status: StatusCode, content_type: &str, ctx: &RequestCtx, body: String) -> HttpResponse {
    crate::respond::full(status, content_type, ctx, body)
}

pub(crate) fn json_error(ctx: &RequestCtx, e: &WireError) -> HttpResponse {
    // AWS's SQS sends no x-amzn-ErrorType: the namespaced `__type` in the body
    // names the shape and x-amzn-query-error carries the awsQuery code.
    // Access denials come from AWS's common layer, in its namespace.
    let namespace =
        if e.shape == "AccessDeniedException" { "com.amazon.coral.service" } else { shapes::JSON_NAMESPACE };
    let mut r = respond(status_of(e), "application/x-amz-json-1.0", ctx, e.json_body(namespace));
    r.headers_mut().insert("x-amzn-query-error", e.query_error_header().parse().expect("ascii header"));
    r
}

pub(crate) fn xml_error(ctx: &RequestCtx, e: &WireError) -> HttpResponse {
    respond(status_of(e), "text/xml", ctx, e.xml_body(xml::SQS_NAMESPACE, &ctx.request_id))
}

/// awsQuery words a missing queue the old way (recorded from AWS; awsJson
/// says "The specified queue does not exist.").
fn query_wording(e: WireError) -> WireError {
    match e.code {
        "AWS.SimpleQueueService.NonExistentQueue" => {
            WireError { message: "The specified queue does not exist for this wsdl version.".into(), ..e }
        }
        _ => e,
    }
}

/// What SQS answers a request that names no operation at all (a bare GET of
/// a queue URL, say): 404 with an empty `<UnknownOperationException/>`.
pub fn unknown_operation(ctx: &RequestCtx) -> HttpResponse {
    respond(StatusCode::NOT_FOUND, "text/xml", ctx, "<UnknownOperationException/>".into())
}

fn status_of(e: &WireError) -> StatusCode {
    StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST)
}
