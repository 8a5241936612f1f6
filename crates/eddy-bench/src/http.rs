//! HTTP plumbing: an endpoint, and a connection that speaks awsJson (1_0 for
//! SQS, 1_1 for Kinesis and EventBridge) and awsQuery.
//!
//! Every worker owns its own [`Conn`] (its own hyper pool, capped at one idle
//! connection) and issues one request at a time, so N workers hold exactly N
//! keep-alive connections, which is what "--connections N" promises.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde::{de::DeserializeOwned, Serialize};

/// SigV4-shaped but unsigned: eddy (like most emulators) reads the credential
/// scope and ignores the signature, and computing a real one would make the
/// client, not the server, the bottleneck.
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=test/20240101/us-east-1/sqs/aws4_request, \
    SignedHeaders=host;x-amz-date, Signature=0000";
const SNS_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=test/20240101/us-east-1/sns/aws4_request, \
    SignedHeaders=host;x-amz-date, Signature=0000";
const KINESIS_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=test/20240101/us-east-1/kinesis/aws4_request, \
    SignedHeaders=host;x-amz-date, Signature=0000";
const EVENTS_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=test/20240101/us-east-1/events/aws4_request, \
    SignedHeaders=host;x-amz-date, Signature=0000";
const AMZ_DATE: &str = "20240101T000000Z";
const AMZ_JSON: &str = "application/x-amz-json-1.0";
/// Kinesis speaks awsJson1_1.
const AMZ_JSON_1_1: &str = "application/x-amz-json-1.1";
const KINESIS_PREFIX: &str = "Kinesis_20131202.";
const EVENTS_PREFIX: &str = "AWSEvents.";
pub const HEALTH_PATH: &str = "/_eddy/health";
/// No request may take longer: well above the 20 s long poll, and it keeps a
/// hung server from hanging the bench.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Base URL of the server under test (`http://host:port`).
#[derive(Debug, Clone)]
pub struct Endpoint {
    root: Uri,
    health: Uri,
    authority: String,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Self> {
        let uri: Uri = url.parse().with_context(|| format!("bad endpoint URL {url:?}"))?;
        if uri.scheme_str() != Some("http") {
            bail!("endpoint {url:?}: only http:// is supported (the bench has no TLS client)");
        }
        let authority = uri.authority().ok_or_else(|| anyhow!("endpoint {url:?} has no host"))?.to_string();
        Ok(Self {
            root: format!("http://{authority}/").parse()?,
            health: format!("http://{authority}{HEALTH_PATH}").parse()?,
            authority,
        })
    }

    /// `host:port`, for raw-socket probes.
    pub fn authority(&self) -> &str {
        &self.authority
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}", self.authority)
    }
}

/// One keep-alive HTTP/1.1 connection to the endpoint.
#[derive(Clone)]
pub struct Conn {
    client: Client<HttpConnector, Full<Bytes>>,
    ep: Endpoint,
}

impl Conn {
    pub fn new(ep: &Endpoint) -> Self {
        let mut connector = HttpConnector::new();
        // Requests are small and latency-bound: never let Nagle hold them back.
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(1).build(connector);
        Self { client, ep: ep.clone() }
    }

    /// `GET /_eddy/health`; any 2xx is healthy.
    pub async fn health(&self) -> Result<()> {
        let req = Request::get(self.ep.health.clone()).body(Full::new(Bytes::new()))?;
        let (status, _) = self.send(req).await.context("GET /_eddy/health")?;
        if !status.is_success() {
            bail!("GET {HEALTH_PATH}: HTTP {status}");
        }
        Ok(())
    }

    /// `GET` of a full URL on any server (SNS's SubscribeURL); the body of a 2xx.
    pub async fn get(&self, url: &str) -> Result<Bytes> {
        let req = Request::get(url).body(Full::new(Bytes::new()))?;
        let (status, bytes) = self.send(req).await.with_context(|| format!("GET {url}"))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
            bail!("GET {url}: HTTP {status}: {text}");
        }
        Ok(bytes)
    }

    /// Sends a request and reads the whole response (so the connection can
    /// be reused), within [`REQUEST_TIMEOUT`].
    async fn send(&self, req: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes)> {
        let exchange = async {
            // hyper's Display hides the cause ("client error (Connect)").
            let resp = self.client.request(req).await.map_err(|e| anyhow!("{}", error_chain(&e)))?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            Ok((status, body))
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(result) => result,
            Err(_) => bail!("no response within {REQUEST_TIMEOUT:?}"),
        }
    }

    /// One awsJson call; `target` is the full `X-Amz-Target` value
    /// (`Kinesis_20131202.*` targets go out as awsJson1_1, others as 1_0).
    pub async fn call(&self, target: &'static str, body: Vec<u8>) -> Result<Bytes> {
        let (status, bytes) = self.send(self.json_request(target, body)?).await.context(op_name(target))?;
        if status != StatusCode::OK {
            bail!("{}", describe_error(target, status, &bytes));
        }
        Ok(bytes)
    }

    /// An awsJson call whose response body is read as it arrives (Kinesis
    /// SubscribeToShard's event stream). Only the response head is awaited,
    /// within [`REQUEST_TIMEOUT`]; an error status is read whole and reported.
    pub async fn call_streaming(&self, target: &'static str, body: Vec<u8>) -> Result<Response<Incoming>> {
        let req = self.json_request(target, body)?;
        let head = async { self.client.request(req).await.map_err(|e| anyhow!("{}", error_chain(&e))) };
        let resp = match tokio::time::timeout(REQUEST_TIMEOUT, head).await {
            Ok(resp) => resp.context(op_name(target))?,
            Err(_) => bail!("{}: no response within {REQUEST_TIMEOUT:?}", op_name(target)),
        };
        if resp.status() != StatusCode::OK {
            let status = resp.status();
            let bytes = resp.into_body().collect().await?.to_bytes();
            bail!("{}", describe_error(target, status, &bytes));
        }
        Ok(resp)
    }

    fn json_request(&self, target: &'static str, body: Vec<u8>) -> Result<Request<Full<Bytes>>> {
        let (content_type, authorization, service) = if target.starts_with(KINESIS_PREFIX) {
            (AMZ_JSON_1_1, KINESIS_AUTHORIZATION, "kinesis")
        } else if target.starts_with(EVENTS_PREFIX) {
            (AMZ_JSON_1_1, EVENTS_AUTHORIZATION, "events")
        } else {
            (AMZ_JSON, AUTHORIZATION, "sqs")
        };
        let builder = Request::builder()
            .method(Method::POST)
            .uri(self.ep.root.clone())
            .header("x-amz-target", HeaderValue::from_static(target))
            .header(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        let builder = match crate::sign::key() {
            Some(key) => crate::sign::json(builder, key, &self.ep.authority, service, target, content_type, &body)?,
            None => builder
                .header("x-amz-date", HeaderValue::from_static(AMZ_DATE))
                .header(header::AUTHORIZATION, HeaderValue::from_static(authorization)),
        };
        Ok(builder.body(Full::new(Bytes::from(body)))?)
    }

    /// One awsQuery call (SNS): form-encoded `params`, the XML response body.
    pub async fn query(&self, params: &[(&str, &str)]) -> Result<Bytes> {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        let action = params.iter().find(|(k, _)| *k == "Action").map(|(_, v)| v.to_string()).unwrap_or_default();
        let req = Request::builder()
            .method(Method::POST)
            .uri(self.ep.root.clone())
            .header(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"))
            .header("x-amz-date", HeaderValue::from_static(AMZ_DATE))
            .header(header::AUTHORIZATION, HeaderValue::from_static(SNS_AUTHORIZATION))
            .body(Full::new(Bytes::from(body)))?;
        let (status, bytes) = self.send(req).await.with_context(|| action.clone())?;
        if status != StatusCode::OK {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
            bail!("{action}: HTTP {status}: {text}");
        }
        Ok(bytes)
    }

    /// A call with a serde request and response.
    pub async fn json<Req, Resp>(&self, target: &'static str, req: &Req) -> Result<Resp>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let bytes = self.call(target, serde_json::to_vec(req)?).await?;
        serde_json::from_slice(&bytes).with_context(|| format!("{}: unexpected response body", op_name(target)))
    }
}

/// `outer: cause: root cause`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}

fn op_name(target: &str) -> &str {
    ["AmazonSQS.", KINESIS_PREFIX, EVENTS_PREFIX].iter().find_map(|p| target.strip_prefix(p)).unwrap_or(target)
}

/// `SendMessage: HTTP 400 QueueDoesNotExist: The specified queue does not exist.`
fn describe_error(target: &str, status: StatusCode, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct AwsError {
        #[serde(rename = "__type", default)]
        kind: String,
        #[serde(default, alias = "Message")]
        message: String,
    }
    let op = op_name(target);
    match serde_json::from_slice::<AwsError>(body) {
        Ok(e) => {
            // __type may be namespaced ("com.amazonaws.sqs#QueueDoesNotExist").
            let kind = e.kind.rsplit('#').next().unwrap_or_default();
            format!("{op}: HTTP {status} {kind}: {}", e.message)
        }
        Err(_) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            format!("{op}: HTTP {status}: {text}")
        }
    }
}
