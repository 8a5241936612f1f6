//! The one place AWS responses are built. Whatever the protocol (awsJson,
//! awsQuery XML, CBOR, event streams, restJson1, restXml), a response carries
//! the request's `x-amzn-RequestId` and a `Date` header, from which SDKs
//! correct clock skew.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http::{response::Builder, Method, Response, StatusCode};
use http_body_util::Full;

use eddy_wire::rest_json::{self, RestJsonError};
use eddy_wire::rest_xml::{self, RestXmlError};

use crate::request::RequestCtx;
use crate::routes::Protocol;
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

/// [`builder`] plus the headers `protocol` adds. S3 (restXml) names the
/// request `x-amz-request-id` and the serving host `x-amz-id-2`: S3 clients
/// read those (botocore reports them as RequestId and HostId).
pub fn builder_for(protocol: Protocol, status: StatusCode, content_type: &str, ctx: &RequestCtx) -> Builder {
    let builder = builder(status, content_type, ctx);
    match protocol {
        Protocol::RestXml => builder.header("x-amz-request-id", &ctx.request_id).header("x-amz-id-2", host_id(ctx)),
        Protocol::AwsJson1_0
        | Protocol::AwsJson1_1
        | Protocol::Cbor1_1
        | Protocol::AwsQuery
        | Protocol::RestJson1
        | Protocol::Eddy => builder,
    }
}

fn full_for(
    protocol: Protocol,
    status: StatusCode,
    content_type: &str,
    ctx: &RequestCtx,
    body: Vec<u8>,
) -> HttpResponse {
    builder_for(protocol, status, content_type, ctx).body(Full::new(Bytes::from(body))).expect("valid response")
}

/// A restJson1 success; `output` holds the members bound to the body.
pub fn rest_json(status: StatusCode, ctx: &RequestCtx, output: Option<&serde_json::Value>) -> HttpResponse {
    full_for(Protocol::RestJson1, status, rest_json::CONTENT_TYPE, ctx, rest_json::body(output))
}

pub fn rest_json_error(ctx: &RequestCtx, e: &RestJsonError) -> HttpResponse {
    let mut r = full_for(Protocol::RestJson1, status_of(e.status), rest_json::CONTENT_TYPE, ctx, e.body());
    r.headers_mut().insert("x-amzn-errortype", e.error_type().parse().expect("ascii header"));
    r
}

/// A restXml success; `body` is the whole document (see `rest_xml::document`)
/// or empty.
#[allow(dead_code)]
pub fn rest_xml(status: StatusCode, ctx: &RequestCtx, body: String) -> HttpResponse {
    full_for(Protocol::RestXml, status, rest_xml::CONTENT_TYPE, ctx, body.into_bytes())
}

/// A restXml error in S3's form. An error to a HEAD has no body, as S3's
/// (hyper would drop it on HTTP/1.1, but not on HTTP/2).
#[allow(dead_code)]
pub fn rest_xml_error(ctx: &RequestCtx, method: &Method, e: &RestXmlError) -> HttpResponse {
    let body = if method == Method::HEAD { String::new() } else { e.s3_body(&ctx.request_id, &host_id(ctx)) };
    full_for(Protocol::RestXml, status_of(e.status), rest_xml::CONTENT_TYPE, ctx, body.into_bytes())
}

/// S3's `x-amz-id-2`, an opaque token naming the host that served the
/// request. One host here: the request id, encoded like AWS's.
fn host_id(ctx: &RequestCtx) -> String {
    STANDARD.encode(&ctx.request_id)
}

fn status_of(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use eddy_core::sqs::Caller;
    use http_body_util::BodyExt;

    fn ctx() -> RequestCtx {
        RequestCtx {
            request_id: "rid-1".into(),
            base_url: "http://localhost:4566".into(),
            caller: Caller { account: "000000000000".into(), region: "us-east-1".into(), access_key: String::new() },
            identity: eddy_core::identity::Identity::root("000000000000"),
            path: "/".into(),
            trace_header: None,
            source_ip: None,
        }
    }

    fn header<'a>(r: &'a HttpResponse, name: &str) -> Option<&'a str> {
        r.headers().get(name).map(|v| v.to_str().unwrap())
    }

    async fn body(r: HttpResponse) -> String {
        String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }

    fn stamped(r: &HttpResponse) {
        assert_eq!(header(r, "x-amzn-requestid"), Some("rid-1"));
        assert!(header(r, "date").is_some_and(|d| httpdate::parse_http_date(d).is_ok()));
    }

    #[tokio::test]
    async fn rest_json_responses() {
        let ok = rest_json(StatusCode::OK, &ctx(), Some(&serde_json::json!({"brokerId": "b"})));
        stamped(&ok);
        assert_eq!(header(&ok, "content-type"), Some("application/json"));
        assert_eq!(header(&ok, "x-amz-request-id"), None);
        assert_eq!(body(ok).await, r#"{"brokerId":"b"}"#);

        let e = rest_json_error(&ctx(), &RestJsonError::new("NotFoundException", 404, "no broker"));
        stamped(&e);
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert_eq!(header(&e, "x-amzn-errortype"), Some("NotFoundException"));
        assert_eq!(body(e).await, r#"{"message":"no broker"}"#);
    }

    #[tokio::test]
    async fn rest_xml_responses_carry_s3_ids() {
        let ok = rest_xml(StatusCode::OK, &ctx(), String::new());
        stamped(&ok);
        assert_eq!(header(&ok, "content-type"), Some("application/xml"));
        assert_eq!(header(&ok, "x-amz-request-id"), Some("rid-1"));
        assert_eq!(header(&ok, "x-amz-id-2"), Some("cmlkLTE="));

        let no_bucket = RestXmlError::new("NoSuchBucket", 404, "gone").with_detail("BucketName", "b");
        let e = rest_xml_error(&ctx(), &Method::GET, &no_bucket);
        stamped(&e);
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert_eq!(header(&e, "x-amz-request-id"), Some("rid-1"));
        let xml = body(e).await;
        assert!(xml.ends_with(
            "<Error><Code>NoSuchBucket</Code><Message>gone</Message><BucketName>b</BucketName>\
             <RequestId>rid-1</RequestId><HostId>cmlkLTE=</HostId></Error>"
        ));
        let head = rest_xml_error(&ctx(), &Method::HEAD, &no_bucket);
        assert_eq!(head.status(), StatusCode::NOT_FOUND);
        assert_eq!(body(head).await, "");
    }

    #[test]
    fn only_rest_xml_adds_headers() {
        let r = builder_for(Protocol::AwsJson1_0, StatusCode::OK, "x", &ctx()).body(()).unwrap();
        assert_eq!(r.headers().len(), 3);
    }
}
