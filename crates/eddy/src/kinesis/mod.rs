//! Kinesis over awsJson 1.1 and CBOR (`application/x-amz-cbor-1.1`, the
//! Java SDKs' default). Both decode to the same JSON value, from which
//! [`ops`] decodes the operation's typed input and runs the operation; the
//! output is encoded back in the request's format.
//! SubscribeToShard answers with an event stream ([`subscribe`]).

pub(crate) mod errors;
mod ops;
mod subscribe;

use bytes::Bytes;
use http::StatusCode;
use serde_json::Value;

use eddy_wire::{cbor, json};

use self::errors::KinesisWireError;
use crate::request::RequestCtx;
use crate::server::{AppState, BoxedResponse};

pub const TARGET_PREFIX: &str = "Kinesis_20131202.";
pub const JSON: &str = "application/x-amz-json-1.1";
pub const CBOR: &str = "application/x-amz-cbor-1.1";

/// The encoding of a request, used for its response too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Cbor,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => JSON,
            Format::Cbor => CBOR,
        }
    }

    fn encode(self, value: &Value) -> Vec<u8> {
        match self {
            Format::Json => serde_json::to_vec(value).expect("serialisable"),
            Format::Cbor => cbor::encode_response(value, &cbor::KINESIS),
        }
    }
}

pub async fn handle(
    state: &AppState,
    ctx: &RequestCtx,
    operation: &str,
    format: Format,
    body: &Bytes,
) -> BoxedResponse {
    if operation != "SubscribeToShard" && is_heavy(operation, body) && on_multi_thread_runtime() {
        // The worker hands its other tasks to another thread first.
        return tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(run(state, ctx, operation, format, body))
        });
    }
    run(state, ctx, operation, format, body).await
}

async fn run(state: &AppState, ctx: &RequestCtx, operation: &str, format: Format, body: &Bytes) -> BoxedResponse {
    let input = match decode(format, body) {
        Ok(v) => v,
        Err(e) => return error(ctx, format, &e),
    };
    if let Err(e) = crate::authz::kinesis::authorize(state, ctx, operation, &input) {
        return error(ctx, format, &e);
    }
    if operation == "SubscribeToShard" {
        return match subscribe::open(state, ctx, format, input) {
            Ok(response) => response,
            Err(e) => error(ctx, format, &e),
        };
    }
    match ops::dispatch(&state.kinesis, &ctx.caller, operation, input).await {
        Ok(output) => respond(StatusCode::OK, format.content_type(), ctx, format.encode(&output)),
        Err(e) => error(ctx, format, &e),
    }
}

/// Requests whose handling is long synchronous work, which must not hold
/// up an async worker (other clients' requests wait behind it): a
/// GetRecords reads and encodes up to 10 MB (tens of milliseconds), a big
/// PutRecords decodes and copies up to 5 MB.
fn is_heavy(operation: &str, body: &Bytes) -> bool {
    const BIG_BODY: usize = 256 * 1024;
    operation == "GetRecords" || body.len() > BIG_BODY
}

/// `block_in_place` needs a multi-threaded runtime (the server's); tests
/// on a single-threaded one run everything inline.
fn on_multi_thread_runtime() -> bool {
    use tokio::runtime::{Handle, RuntimeFlavor};
    Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread)
}

/// Both decoders bound what a body may expand to (`eddy_wire::json::KINESIS`);
/// a body past those bounds is refused like a malformed one.
fn decode(format: Format, body: &Bytes) -> Result<Value, KinesisWireError> {
    match format {
        Format::Cbor => cbor::decode_request(body, &cbor::KINESIS).map_err(|e| errors::serialization(e.to_string())),
        Format::Json => json::decode_object(body, &json::KINESIS).map_err(|e| errors::serialization(e.to_string())),
    }
}

fn respond(status: StatusCode, content_type: &str, ctx: &RequestCtx, body: Vec<u8>) -> BoxedResponse {
    crate::server::boxed(crate::respond::full(status, content_type, ctx, body))
}

pub(crate) fn error(ctx: &RequestCtx, format: Format, e: &KinesisWireError) -> BoxedResponse {
    let body = match format {
        Format::Json => serde_json::json!({"__type": e.shape, "message": e.message}).to_string().into_bytes(),
        Format::Cbor => cbor::encode_error(e.shape, &e.message),
    };
    let mut r =
        respond(StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST), format.content_type(), ctx, body);
    r.headers_mut().insert("x-amzn-errortype", e.shape.parse().expect("ascii header"));
    r
}
