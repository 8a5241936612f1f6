//! A refused signature in each protocol's words. The query services (SQS
//! in both protocols, SNS, IAM, STS) share AWS's common query errors;
//! Kinesis answers with its JSON front's exceptions, all 400.

use eddy_wire::error::WireError;
use eddy_wire::sigv4::{SigError, MISMATCH_MESSAGE};

use crate::kinesis::errors::KinesisWireError;
use crate::request::RequestCtx;
use crate::routes::Handler;
use crate::server::BoxedResponse;

/// Why a request was not authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Signature(SigError),
    /// An access key nobody issued, an Inactive one, or a session token
    /// that does not belong to it.
    InvalidKey,
    /// Temporary credentials past their expiry.
    ExpiredToken,
}

const INVALID_KEY: &str = "The security token included in the request is invalid.";
const EXPIRED_TOKEN: &str = "The security token included in the request is expired";
const MISSING: &str = "Request is missing Authentication Token";

/// (query code, HTTP status, Kinesis exception, message).
fn words(refusal: &Refusal) -> (&'static str, u16, &'static str, String) {
    match refusal {
        Refusal::InvalidKey => ("InvalidClientTokenId", 403, "UnrecognizedClientException", INVALID_KEY.into()),
        Refusal::ExpiredToken => ("ExpiredToken", 403, "ExpiredTokenException", EXPIRED_TOKEN.into()),
        Refusal::Signature(e) => match e {
            SigError::Missing => {
                ("MissingAuthenticationToken", 403, "MissingAuthenticationTokenException", MISSING.into())
            }
            SigError::Incomplete(m) => ("IncompleteSignature", 400, "IncompleteSignatureException", m.clone()),
            // SQS and SNS answer a skewed clock as a mismatch, with the
            // "Signature expired: …" text (recorded in SDK issues); Kinesis
            // says InvalidSignatureException for both.
            SigError::Mismatch(m) | SigError::Skewed(m) => {
                ("SignatureDoesNotMatch", 403, "InvalidSignatureException", m.clone())
            }
            SigError::PresignExpired => {
                ("RequestExpired", 400, "InvalidSignatureException", "Request has expired.".into())
            }
            SigError::PayloadHashMismatch => (
                "SignatureDoesNotMatch",
                403,
                "InvalidSignatureException",
                format!(
                    "The provided 'x-amz-content-sha256' header does not match what was computed. {MISMATCH_MESSAGE}"
                ),
            ),
        },
    }
}

pub fn render(handler: Handler, ctx: &RequestCtx, refusal: &Refusal) -> BoxedResponse {
    let (code, status, kinesis_shape, message) = words(refusal);
    if let Handler::Kinesis(format) = handler {
        let e = KinesisWireError { shape: kinesis_shape, status: 400, message };
        return crate::kinesis::error(ctx, format, &e);
    }
    let wire = WireError::new(code, code, status, message);
    let response = match handler {
        Handler::Events => {
            let e = crate::events::errors::EventsWireError { shape: kinesis_shape, status: 400, message: wire.message };
            crate::events::error(ctx, &e)
        }
        Handler::Scheduler(_) => {
            let e = eddy_wire::rest_json::RestJsonError::new(kinesis_shape, status, wire.message);
            crate::scheduler::wire_error(ctx, e)
        }
        Handler::Pipes(_) => {
            let e = eddy_wire::rest_json::RestJsonError::new(kinesis_shape, status, wire.message);
            crate::pipes::wire_error(ctx, e)
        }
        Handler::Schemas(_) => {
            let e = eddy_wire::rest_json::RestJsonError::new(kinesis_shape, status, wire.message);
            crate::respond::rest_json_error(ctx, &e.with_message_key("Message"))
        }
        Handler::SqsJson | Handler::UnknownTarget => crate::sqs::json_error(ctx, &wire),
        Handler::SnsQuery => crate::sns::xml_error(ctx, &wire),
        Handler::IamQuery => crate::iam::xml_error(ctx, eddy_wire::xml::IAM_NAMESPACE, &wire),
        Handler::StsQuery => crate::iam::xml_error(ctx, eddy_wire::xml::STS_NAMESPACE, &wire),
        Handler::SqsQuery
        | Handler::NotFound
        | Handler::Health { .. }
        | Handler::EddySns
        | Handler::EddyEvents
        | Handler::EddyScheduler
        | Handler::EddyPipes
        | Handler::Kinesis(_) => crate::sqs::xml_error(ctx, &wire),
    };
    crate::server::boxed(response)
}
