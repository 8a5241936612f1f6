//! Errors the HTTP front answers before any service has seen the request
//! (bodies over the memory budget, stalled bodies): in the protocol and
//! service the headers announce, so SDKs parse and retry them as AWS's own.

use http::request::Parts;

use eddy_wire::error::WireError;

use crate::kinesis::errors::KinesisWireError;
use crate::request::RequestCtx;
use crate::routes::Handler;
use crate::server::BoxedResponse;

/// Every request body in memory together reached `--max-body-memory-mb`.
/// 503 is what every SDK retries with back-off.
pub fn over_budget(parts: &Parts, ctx: &RequestCtx) -> BoxedResponse {
    render(
        parts,
        ctx,
        "ServiceUnavailable",
        503,
        "The request has failed due to a temporary failure of the server: too many request bodies in flight; retry.",
    )
}

/// No node can serve the request now: a cluster's leader is being replaced
/// or cannot be reached.
pub fn unavailable(parts: &Parts, ctx: &RequestCtx, why: &str) -> BoxedResponse {
    let message = format!("The request has failed due to a temporary failure of the server: {why}.");
    render(parts, ctx, "ServiceUnavailable", 503, &message)
}

/// A body longer than any operation accepts.
///
/// AWS answers an oversize request with HTTP 413 from its front end, before
/// the service: the body is not the protocol's error (the Java SDK v1 reports
/// "Status Code: 413; Error Code: 413 Request Entity Too Large; Request ID:
/// null" for SQS, boto3 "An error occurred (413) when calling the PutRecords
/// operation" for Kinesis). eddy keeps the 413 and gives it a body each SDK
/// parses: code `RequestEntityTooLarge` (AWS's reason phrase; no model
/// defines an error for it).
pub fn too_large(parts: &Parts, ctx: &RequestCtx, max: usize) -> BoxedResponse {
    let message = format!("Request body is larger than the maximum of {max} bytes.");
    render(parts, ctx, "RequestEntityTooLarge", 413, &message)
}

/// The client stopped sending its body mid-way for longer than the header timeout.
pub fn stalled(parts: &Parts, ctx: &RequestCtx) -> BoxedResponse {
    render(
        parts,
        ctx,
        "RequestTimeout",
        408,
        "Your socket connection to the server was not read from or written to within the timeout period.",
    )
}

fn render(parts: &Parts, ctx: &RequestCtx, code: &'static str, status: u16, message: &str) -> BoxedResponse {
    let wire = WireError::new(code, code, status, message);
    let response = match crate::routes::by_headers(parts) {
        Handler::Kinesis(format) => {
            let e = KinesisWireError { shape: code, status, message: message.to_string() };
            return crate::kinesis::error(ctx, format, &e);
        }
        Handler::Events => {
            let e = crate::events::errors::EventsWireError { shape: code, status, message: message.to_string() };
            return crate::server::boxed(crate::events::error(ctx, &e));
        }
        Handler::Scheduler(_) => {
            let e = eddy_wire::rest_json::RestJsonError::new(code, status, message);
            crate::scheduler::wire_error(ctx, e)
        }
        Handler::Pipes(_) => {
            let e = eddy_wire::rest_json::RestJsonError::new(code, status, message);
            crate::pipes::wire_error(ctx, e)
        }
        Handler::Schemas(_) => {
            let e = eddy_wire::rest_json::RestJsonError::new(code, status, message).with_message_key("Message");
            crate::respond::rest_json_error(ctx, &e)
        }
        Handler::SqsJson | Handler::UnknownTarget => crate::sqs::json_error(ctx, &wire),
        Handler::SnsQuery => crate::sns::xml_error(ctx, &wire),
        Handler::IamQuery => crate::iam::xml_error(ctx, eddy_wire::xml::IAM_NAMESPACE, &wire),
        Handler::StsQuery => crate::iam::xml_error(ctx, eddy_wire::xml::STS_NAMESPACE, &wire),
        // Headers alone only tell targets and the signature's service apart.
        Handler::SqsQuery
        | Handler::NotFound
        | Handler::Health { .. }
        | Handler::EddySns
        | Handler::EddyEvents
        | Handler::EddyScheduler
        | Handler::EddyPipes => crate::sqs::xml_error(ctx, &wire),
    };
    crate::server::boxed(response)
}
