//! The HTTP front: HTTP/1.1 and cleartext HTTP/2 (prior knowledge, as the
//! Java SDK sends it) on one port. Each request is read whole, routed by the
//! table in [`crate::routes`] and handed to its handler.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;

use crate::body::{BodyBudget, BodyError};
use crate::cli::ServeArgs;
use crate::cluster::{Front, Role};
use crate::connections::{Connections, InFlight, RateLimitedLog, Slot, Tracked};
use crate::front_error;
use crate::request::RequestCtx;
use crate::routes::{self, Handler, Service};

/// Largest request body accepted. SQS messages are ≤ 1 MiB, but awsQuery
/// percent-encoding can triple a batch's size on the wire; a Kinesis
/// PutRecords may carry 10 MiB of data, 13.4 MiB once base64-encoded.
const MAX_BODY: usize = 16 * 1024 * 1024;

pub struct AppState {
    pub sqs: Arc<eddy_core::sqs::Sqs>,
    pub sns: Arc<eddy_core::sns::Sns>,
    pub kinesis: Arc<eddy_core::kinesis::Kinesis>,
    pub events: Arc<eddy_core::events::Events>,
    pub scheduler: Arc<eddy_core::scheduler::Scheduler>,
    pub pipes: Arc<eddy_core::pipes::Pipes>,
    pub schemas: Arc<eddy_core::schemas::Schemas>,
    pub iam: Arc<eddy_core::iam::Iam>,
    pub store: eddy_store::Store,
    pub connections: Arc<Connections>,
    pub bodies: Arc<BodyBudget>,
    pub auth: crate::auth::Auth,
    pub config: ServeArgs,
    /// Set when a cluster node stops leading: streams served from this
    /// state (SubscribeToShard) end, so their clients subscribe again, to
    /// the new leader.
    pub retired: tokio::sync::watch::Sender<bool>,
}

pub type HttpResponse = Response<Full<Bytes>>;
/// What the front sends: whole bodies, or a stream (SubscribeToShard).
pub type BoxedResponse = Response<UnsyncBoxBody<Bytes, Infallible>>;

/// Concurrent HTTP/2 streams per connection (the Java SDK opens one per
/// shard subscription; its default pool allows 50).
const MAX_H2_STREAMS: u32 = 100;

pub async fn run(
    listener: tokio::net::TcpListener,
    state: Arc<Front>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::pin!(shutdown);
    let mut accept_errors = RateLimitedLog::new(Duration::from_secs(10));
    let mut backoff = Duration::from_millis(5);
    let mut refused = RateLimitedLog::new(Duration::from_secs(10));
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of fds (EMFILE) or kernel memory: retrying at once
                    // fails again. Back off (up to 1 s) and log once per 10 s.
                    if let Some(suppressed) = accept_errors.should_log() {
                        tracing::warn!(error = %e, suppressed, open = state.connections.open(),
                            "accept failed; backing off");
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        backoff = Duration::from_millis(5);
        let Some(slot) = state.connections.admit() else {
            if let Some(suppressed) = refused.should_log() {
                tracing::warn!(
                    max = state.connections.max(),
                    suppressed,
                    "connection limit reached: refusing new connections with 503 (--max-connections)"
                );
            }
            refuse(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(state.clone(), stream, slot));
    }
}

/// A connection past the cap gets a bare 503 (every SDK retries it) and is closed.
fn refuse(stream: tokio::net::TcpStream) {
    const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    let _ = stream.try_write(BUSY);
}

async fn serve_connection(state: Arc<Front>, stream: tokio::net::TcpStream, slot: Slot) {
    let activity = state.connections.activity();
    let peer = stream.peer_addr().ok().map(crate::request::PeerAddr);
    let io = TokioIo::new(Tracked::new(stream, activity.clone()));
    let service = {
        let (state, activity) = (state.clone(), activity.clone());
        hyper::service::service_fn(move |mut req: Request<Incoming>| {
            if let Some(peer) = peer {
                req.extensions_mut().insert(peer);
            }
            dispatch(state.clone(), activity.begin(), req)
        })
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's header-read timeout also runs while a keep-alive connection
    // waits for its next request, so it would close idle connections at the
    // header timeout; the watchdog tells the two apart instead.
    builder.http1().timer(TokioTimer::new()).header_read_timeout(None);
    builder.http2().timer(TokioTimer::new()).max_concurrent_streams(MAX_H2_STREAMS);
    let connection = builder.serve_connection(io, service);
    tokio::select! {
        result = connection => if let Err(e) = result {
            tracing::debug!(error = %e, "connection closed with error");
        },
        _ = state.connections.idle(&activity) => tracing::debug!("closing idle connection"),
    }
    drop(slot);
}

/// Serves the request if this node serves, else relays it to the leader.
async fn dispatch(front: Arc<Front>, in_flight: InFlight, req: Request<Incoming>) -> Result<BoxedResponse, Infallible> {
    match front.role() {
        Some(Role::Active(state)) => handle(state, in_flight, req).await,
        Some(Role::Standby(watch)) => {
            let leader = watch.leader();
            let response = match routes::health_path(req.uri().path()) {
                Some(localstack) => {
                    let url = leader.as_ref().map(|l| l.url.as_str());
                    let answers = match url {
                        Some(url) => front.leader_answers(url).await,
                        None => false,
                    };
                    boxed(crate::health::standby(&front, url, answers, localstack))
                }
                None => relay(&front, leader.as_ref(), req).await,
            };
            Ok(with_guard(response, in_flight))
        }
        None => {
            let (parts, _) = req.into_parts();
            let why = "this eddy node is starting";
            Ok(with_guard(
                crate::cluster::relay::unavailable(&parts, |p| RequestCtx::unauthenticated(p, &front.config), why),
                in_flight,
            ))
        }
    }
}

async fn relay(front: &Front, leader: Option<&eddy_store::Leader>, req: Request<Incoming>) -> BoxedResponse {
    let ctx = |parts: &http::request::Parts| RequestCtx::unauthenticated(parts, &front.config);
    match leader {
        Some(leader) => front.relay.forward(leader, req, ctx).await,
        None => {
            let (parts, _) = req.into_parts();
            let why = "no eddy node leads this store yet (its leader is starting or being replaced)";
            crate::cluster::relay::unavailable(&parts, ctx, why)
        }
    }
}

async fn handle(
    state: Arc<AppState>,
    in_flight: InFlight,
    req: Request<Incoming>,
) -> Result<BoxedResponse, Infallible> {
    let started = std::time::Instant::now();
    let (mut parts, body) = req.into_parts();
    if let Some(token) = state.store.relay_token() {
        crate::cluster::relay::trust_relayed_client(&mut parts, token);
    }
    let mut ctx = RequestCtx::new(&parts, &state.config, &state.iam);
    let stall = Duration::from_secs(state.config.header_timeout_secs.max(1));
    let (body, reservation) = match crate::body::read(&parts, body, MAX_BODY, &state.bodies, stall).await {
        Ok(b) => b,
        Err(e) => return Ok(with_guard(body_error(&parts, &ctx, e), in_flight)),
    };
    let routed = routes::route(&parts, &body);
    if let Some(refused) = state.auth.check(&state.iam, &parts, &routed, &body, &mut ctx) {
        return Ok(with_guard(refused, in_flight));
    }
    if matches!(
        routed.service,
        Service::Sqs
            | Service::Sns
            | Service::Kinesis
            | Service::Events
            | Service::Scheduler
            | Service::Pipes
            | Service::Schemas
            | Service::Iam
            | Service::Sts
    ) {
        // An IAM user's key signing this request: GetAccessKeyLastUsed's answer.
        state.iam.note_key_use(&ctx.caller.access_key, routed.service.name(), &ctx.caller.region);
    }
    let response = match routed.handler {
        Handler::Kinesis(format) => crate::kinesis::handle(&state, &ctx, &routed.operation, format, &body).await,
        Handler::Health { localstack } => boxed(crate::health::respond(&state, localstack)),
        Handler::SqsJson => boxed(crate::sqs::handle_json(&state, &ctx, &routed.operation, &body).await),
        Handler::SqsQuery => boxed(crate::sqs::handle_query(&state, &ctx, &routed.pairs).await),
        Handler::SnsQuery => boxed(crate::sns::handle_query(&state, &ctx, &routed.pairs).await),
        Handler::IamQuery => boxed(crate::iam::handle_query(&state, &ctx, &routed.pairs).await),
        Handler::StsQuery => boxed(crate::sts::handle_query(&state, &ctx, &routed.pairs).await),
        Handler::EddySns => boxed(crate::sns::handle_eddy(&state, &ctx, &parts.method, &parts.uri).await),
        Handler::Events => boxed(crate::events::handle(&state, &ctx, &routed.operation, &body).await),
        Handler::EddyEvents => boxed(crate::events::handle_eddy(&state, &parts.method, &parts.uri).await),
        Handler::Scheduler(op) => {
            boxed(crate::scheduler::handle(&state, &ctx, op, &parts.uri, &routed.params, &body).await)
        }
        Handler::Schemas(op) => {
            boxed(crate::schemas::handle(&state, &ctx, op, &parts.uri, &routed.params, &body).await)
        }
        Handler::EddyScheduler => boxed(crate::scheduler::handle_eddy(&state, &parts.method, &parts.uri).await),
        Handler::Pipes(op) => boxed(crate::pipes::handle(&state, &ctx, op, &parts.uri, &routed.params, &body).await),
        Handler::EddyPipes => boxed(crate::pipes::handle_eddy(&state, &parts.method, &parts.uri).await),
        Handler::UnknownTarget => boxed(crate::sqs::unknown_target(&ctx, &routed.operation)),
        Handler::NotFound => boxed(crate::sqs::unknown_operation(&ctx)),
    };
    drop(reservation);
    tracing::debug!(service = routed.service.name(), protocol = routed.protocol.name(), method = %parts.method,
        path = %parts.uri.path(), status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64, request_id = %ctx.request_id, "request");
    Ok(with_guard(response, in_flight))
}

fn body_error(parts: &http::request::Parts, ctx: &RequestCtx, e: BodyError) -> BoxedResponse {
    let mut response = match e {
        BodyError::TooLarge => front_error::too_large(parts, ctx, MAX_BODY),
        BodyError::OverBudget => {
            tracing::warn!(request_id = %ctx.request_id,
                "request bodies in memory reached --max-body-memory-mb: answering 503 (clients retry)");
            front_error::over_budget(parts, ctx)
        }
        BodyError::Stalled => {
            tracing::info!(request_id = %ctx.request_id, "request body stalled past the header timeout: closing");
            front_error::stalled(parts, ctx)
        }
        BodyError::Read => boxed(plain(StatusCode::BAD_REQUEST, "could not read request body")),
    };
    // The unread rest of the body is abandoned: the connection cannot be reused.
    response.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
    response
}

/// Keeps the request counted in flight until its response body is sent, so
/// the idle watchdog never closes a streaming response (SubscribeToShard).
fn with_guard(response: BoxedResponse, in_flight: InFlight) -> BoxedResponse {
    response.map(|body| GuardedBody { body, _in_flight: in_flight }.boxed_unsync())
}

struct GuardedBody {
    body: UnsyncBoxBody<Bytes, Infallible>,
    _in_flight: InFlight,
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

pub fn boxed(response: HttpResponse) -> BoxedResponse {
    response.map(|body| body.map_err(|never| match never {}).boxed_unsync())
}

pub fn plain(status: StatusCode, text: &str) -> HttpResponse {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(text.to_string())))
        .expect("valid response")
}
