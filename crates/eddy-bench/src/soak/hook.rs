//! The HTTP endpoint an SNS subscription delivers to: answers 200 to every
//! POST, confirms the subscription by fetching the SubscribeURL of the
//! SubscriptionConfirmation, and counts notifications.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::tally::Kind;
use super::Ctx;
use crate::http::Conn;

/// Pause after a failed accept (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Starts the endpoint; its URL, and a notification fired once a
/// subscription has been confirmed.
pub async fn start(ctx: &Ctx, set: &mut JoinSet<()>) -> Result<(String, Arc<Notify>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the HTTP endpoint")?;
    let url = format!("http://{}/soak", listener.local_addr()?);
    let confirmed = Arc::new(Notify::new());
    set.spawn(serve(listener, ctx.clone(), confirmed.clone()));
    Ok((url, confirmed))
}

async fn serve(listener: TcpListener, ctx: Ctx, confirmed: Arc<Notify>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(ACCEPT_BACKOFF).await;
            continue;
        };
        let (ctx, confirmed) = (ctx.clone(), confirmed.clone());
        // Connections end when the server closes them; a task each, as
        // hyper's own servers do.
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(req, ctx.clone(), confirmed.clone()));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}

async fn handle(req: Request<Incoming>, ctx: Ctx, confirmed: Arc<Notify>) -> Result<Response<Full<Bytes>>, Infallible> {
    let kind = req.headers().get("x-amz-sns-message-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let t = &ctx.tally;
    match (kind.as_str(), req.into_body().collect().await) {
        (_, Err(e)) => t.error(Kind::HttpIn, format!("reading a delivery: {e}")),
        ("Notification", Ok(_)) => t.ok(Kind::HttpIn),
        ("SubscriptionConfirmation", Ok(body)) => {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                if ctx.tally.track(Kind::Sns, confirm(&ctx, &body.to_bytes())).await.is_some() {
                    confirmed.notify_one();
                }
            });
        }
        (other, Ok(_)) => t.error(Kind::HttpIn, format!("unexpected x-amz-sns-message-type {other:?}")),
    }
    Ok(Response::new(Full::new(Bytes::new())))
}

/// Fetches the SubscribeURL, as a subscriber confirming by hand would.
async fn confirm(ctx: &Ctx, body: &[u8]) -> Result<()> {
    #[derive(serde::Deserialize)]
    struct Confirmation {
        #[serde(rename = "SubscribeURL")]
        subscribe_url: String,
    }
    let c: Confirmation = serde_json::from_slice(body).context("SubscriptionConfirmation body")?;
    Conn::new(&ctx.ep).get(&c.subscribe_url).await?;
    Ok(())
}
