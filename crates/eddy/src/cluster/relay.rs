//! A standby node relays each request to the leader and its answer back,
//! streamed both ways (a SubscribeToShard answer is a stream). The request
//! keeps its `Host`, so queue URLs and signatures are those the client
//! addressed; hop-by-hop headers are dropped, as a proxy must.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Request, Uri, Version};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

use crate::request::RequestCtx;
use crate::server::BoxedResponse;

/// Headers that describe one connection, not the request (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
];

/// Marks a request a standby relayed, with the leader's relay token (see
/// [`Relay::forward`] and [`trust_relayed_client`]).
const RELAYED: &str = "x-eddy-relayed";

/// Where a standby puts the address of the client it relays for.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// Pooled HTTP/1.1 connections to the leader.
pub struct Relay {
    client: Client<HttpConnector, Incoming>,
    /// For the leader's health check, which has no client request to relay.
    probe: Client<HttpConnector, Empty<Bytes>>,
}

/// Longest a health check of the leader may take.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

impl Relay {
    pub fn new() -> Relay {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(std::time::Duration::from_secs(2)));
        Relay {
            client: Client::builder(TokioExecutor::new()).build(connector.clone()),
            probe: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// Whether the leader answers its health check at `leader` from this
    /// node: it does not when its `--advertise-url` is one the other nodes
    /// cannot reach, and every relayed request would then fail.
    pub async fn leader_answers(&self, leader: &str) -> bool {
        let Ok(uri) = upstream_uri(leader, &Uri::from_static("/_eddy/health")) else { return false };
        let Ok(request) = Request::get(uri).body(Empty::new()) else { return false };
        let answered = tokio::time::timeout(PROBE_TIMEOUT, self.probe.request(request)).await;
        match answered {
            Ok(Ok(response)) => response.status().is_success(),
            Ok(Err(e)) => {
                tracing::warn!(leader, error = %e, "the leader's advertised URL does not answer from this node \
                    (check its --advertise-url); requests relayed to it fail with 503");
                false
            }
            Err(_) => {
                tracing::warn!(leader, "the leader's health check timed out from this node");
                false
            }
        }
    }

    /// Sends `req` to `leader` and returns its answer; a leader that cannot
    /// be reached gets the protocol's retryable 503.
    pub async fn forward(
        &self,
        leader: &eddy_store::Leader,
        req: Request<Incoming>,
        ctx: impl FnOnce(&http::request::Parts) -> RequestCtx,
    ) -> BoxedResponse {
        let (mut parts, body) = req.into_parts();
        // A standby's view of the leader lags by up to a watch period: while
        // leadership moves, a node may name a leader that has itself just
        // stood down (even itself). A request is relayed once at most, so
        // such a moment answers 503 instead of bouncing between nodes.
        if parts.headers.contains_key(RELAYED) {
            let why = "the node this request was relayed to no longer leads (leadership is moving)";
            return unavailable(&parts, ctx, why);
        }
        let (token, leader) = (&leader.relay_token, leader.url.as_str());
        let uri = match upstream_uri(leader, &parts.uri) {
            Ok(uri) => uri,
            Err(e) => {
                return unavailable(&parts, ctx, &format!("the leader's advertised URL {leader} is not usable: {e}"))
            }
        };
        // HTTP/2 carries the authority in the URI, not in a Host header.
        if !parts.headers.contains_key(http::header::HOST) {
            if let Some(authority) = parts.uri.authority().and_then(|a| HeaderValue::from_str(a.as_str()).ok()) {
                parts.headers.insert(http::header::HOST, authority);
            }
        }
        let original = head_copy(&parts);
        for name in HOP_BY_HOP {
            parts.headers.remove(name);
        }
        if let Some(peer) = parts.extensions.get::<crate::request::PeerAddr>() {
            if let Ok(value) = HeaderValue::from_str(&peer.0.ip().to_string()) {
                parts.headers.append(FORWARDED_FOR, value);
            }
        }
        parts.headers.insert(RELAYED, HeaderValue::from_str(token).unwrap_or(HeaderValue::from_static("-")));
        parts.uri = uri;
        parts.version = Version::HTTP_11;
        match self.client.request(Request::from_parts(parts, body)).await {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                for name in HOP_BY_HOP {
                    parts.headers.remove(name);
                }
                http::Response::from_parts(parts, Relayed(body).boxed_unsync())
            }
            Err(e) => {
                tracing::warn!(leader, error = %e, "relaying to the leader failed; answering 503 (clients retry)");
                unavailable(
                    &original,
                    ctx,
                    &format!("the eddy node leading this store could not be reached ({leader}); retry"),
                )
            }
        }
    }
}

/// On the leader: a request one of its standbys relayed (it carries the
/// leader's relay token, which only the nodes can read in PostgreSQL) was
/// sent by the client whose address the standby added last to
/// `X-Forwarded-For`; that address becomes the request's peer, so
/// `aws:SourceIp` is the client's, not the standby's. Anyone else's
/// `X-Forwarded-For` is ignored, so a client cannot claim an address.
pub fn trust_relayed_client(parts: &mut http::request::Parts, token: &str) {
    if parts.headers.get(RELAYED).is_none_or(|t| t.as_bytes() != token.as_bytes()) {
        return;
    }
    let client = parts
        .headers
        .get_all(FORWARDED_FOR)
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next().and_then(|last| last.trim().parse::<std::net::IpAddr>().ok()));
    if let Some(ip) = client {
        parts.extensions.insert(crate::request::PeerAddr(std::net::SocketAddr::new(ip, 0)));
    }
}

/// The 503 of a standby that has no leader to relay to.
pub fn unavailable(
    parts: &http::request::Parts,
    ctx: impl FnOnce(&http::request::Parts) -> RequestCtx,
    why: &str,
) -> BoxedResponse {
    let ctx = ctx(parts);
    crate::front_error::unavailable(parts, &ctx, why)
}

fn upstream_uri(leader: &str, original: &Uri) -> Result<Uri, http::Error> {
    let path = original.path_and_query().map_or("/", |p| p.as_str());
    Ok(format!("{}{path}", leader.trim_end_matches('/')).parse::<Uri>()?)
}

/// A copy of a request's head (the original goes with the request), for
/// answering in the protocol it announced should relaying fail.
fn head_copy(parts: &http::request::Parts) -> http::request::Parts {
    let mut request = Request::builder().method(parts.method.clone()).uri(parts.uri.clone()).version(parts.version);
    if let Some(headers) = request.headers_mut() {
        *headers = parts.headers.clone();
    }
    request.body(()).expect("parts of a valid request").into_parts().0
}

/// The leader's answer as the front sends bodies: an error mid-stream
/// (the leader died) ends it, which the client sees as a truncated answer.
struct Relayed(Incoming);

impl Body for Relayed {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match Pin::new(&mut self.0).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(Some(Err(e))) => {
                tracing::warn!(error = %e, "the leader's answer broke off while relayed");
                Poll::Ready(None)
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0.size_hint()
    }
}
