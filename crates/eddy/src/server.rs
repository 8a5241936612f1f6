//! The HTTP front: HTTP/1.1 and cleartext HTTP/2 (prior knowledge, as the
//! Java SDK sends it) on one port. Each request is read whole, classified by
//! protocol and handed to its service.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

use crate::cli::ServeArgs;
use crate::request::{self, Classified, RequestCtx};

/// Largest request body accepted. SQS messages are ≤ 1 MiB, but awsQuery
/// percent-encoding can triple a batch's size on the wire; a Kinesis
/// PutRecords may carry 10 MiB of data, 13.4 MiB once base64-encoded.
const MAX_BODY: usize = 16 * 1024 * 1024;

pub struct AppState {
    pub sqs: Arc<eddy_core::sqs::Sqs>,
    pub sns: Arc<eddy_core::sns::Sns>,
    pub kinesis: Arc<eddy_core::kinesis::Kinesis>,
    pub config: ServeArgs,
}

pub type HttpResponse = Response<Full<Bytes>>;
/// What the front sends: whole bodies, or a stream (SubscribeToShard).
pub type BoxedResponse = Response<UnsyncBoxBody<Bytes, Infallible>>;

pub async fn run(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
            if let Err(e) =
                auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await
            {
                tracing::debug!(error = %e, "connection closed with error");
            }
        });
    }
}

async fn handle(state: Arc<AppState>, req: Request<Incoming>) -> Result<BoxedResponse, Infallible> {
    let started = std::time::Instant::now();
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            let too_big = e.downcast_ref::<http_body_util::LengthLimitError>().is_some();
            let status = if too_big { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::BAD_REQUEST };
            return Ok(boxed(plain(
                status,
                if too_big { "request body too large" } else { "could not read request body" },
            )));
        }
    };
    let ctx = RequestCtx::new(&parts, &state.config);
    let classified = request::classify(&parts, &body);
    let (label, response) = match classified {
        Classified::Kinesis { operation, format } => {
            ("kinesis", crate::kinesis::handle(&state, &ctx, &operation, format, &body).await)
        }
        Classified::Health { localstack } => ("health", boxed(crate::health::respond(&state, localstack))),
        Classified::SqsJson { operation } => {
            ("sqs", boxed(crate::sqs::handle_json(&state, &ctx, &operation, &body).await))
        }
        Classified::SqsQuery { pairs } => ("sqs", boxed(crate::sqs::handle_query(&state, &ctx, &pairs).await)),
        Classified::SnsQuery { pairs } => ("sns", boxed(crate::sns::handle_query(&state, &ctx, &pairs).await)),
        Classified::EddySns => ("eddy", boxed(crate::sns::handle_eddy(&state, &parts.method, &parts.uri).await)),
        Classified::UnknownTarget { target } => ("unknown", boxed(crate::sqs::unknown_target(&ctx, &target))),
        Classified::NotFound => {
            ("unknown", boxed(plain(StatusCode::NOT_FOUND, "eddy: no service handles this request")))
        }
    };
    tracing::debug!(service = label, method = %parts.method, path = %parts.uri.path(), status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64, request_id = %ctx.request_id, "request");
    Ok(response)
}

fn boxed(response: HttpResponse) -> BoxedResponse {
    response.map(|body| body.map_err(|never| match never {}).boxed_unsync())
}

pub fn plain(status: StatusCode, text: &str) -> HttpResponse {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(text.to_string())))
        .expect("valid response")
}
