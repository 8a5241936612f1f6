//! The one place AWS responses are built. Whatever the protocol (awsJson,
//! awsQuery XML, CBOR, event streams), a response carries the request's
//! `x-amzn-RequestId` and a `Date` header, from which SDKs correct clock skew.

use bytes::Bytes;
use http::{response::Builder, Response, StatusCode};
use http_body_util::Full;

use crate::request::RequestCtx;
use crate::server::HttpResponse;

/// A response builder already stamped with the status, content type,
/// request id and date; the caller adds the body.
pub fn builder(status: StatusCode, content_type: &str, ctx: &RequestCtx) -> Builder {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-amzn-requestid", &ctx.request_id)
        .header("date", httpdate::fmt_http_date(std::time::SystemTime::now()))
}

/// A whole-body response.
pub fn full(status: StatusCode, content_type: &str, ctx: &RequestCtx, body: impl Into<Bytes>) -> HttpResponse {
    builder(status, content_type, ctx).body(Full::new(body.into())).expect("valid response")
}
