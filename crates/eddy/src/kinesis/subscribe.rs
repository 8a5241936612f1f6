//! SubscribeToShard: an `application/vnd.amazon.eventstream` response that
//! starts with an `initial-response` event and then carries each
//! SubscribeToShardEvent as the core's subscription produces it, for at
//! most 5 minutes, ending early when the client goes away.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;

use http_body::{Body, Frame};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use eddy_core::kinesis::{ShardEvent, Subscription, SUBSCRIPTION_LIFETIME};
use eddy_wire::eventstream;
use eddy_wire::kinesis::SubscribeToShardInput;

use super::errors::{self, KinesisWireError};
use super::ops::{child_shards_json, iterator_type, records_json};
use super::Format;
use crate::request::RequestCtx;
use crate::server::{AppState, BoxedResponse};

pub fn open(
    state: &AppState,
    ctx: &RequestCtx,
    format: Format,
    input: Value,
) -> Result<BoxedResponse, KinesisWireError> {
    let i: SubscribeToShardInput = eddy_wire::kinesis::decode(input)?;
    let (consumer, shard, position) = (&i.consumer_arn, &i.shard_id, &i.starting_position);
    let kind = iterator_type(&position.r#type)?;
    let seq = position.sequence_number.as_deref();
    let subscription = state
        .kinesis
        .subscribe_to_shard(&ctx.caller, consumer, shard, kind, seq, position.timestamp.map(|t| t.0))
        .map_err(|e| errors::wire(&e))?;
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    tracing::debug!(consumer, shard, "kinesis: subscription opened");
    tokio::spawn(pump(subscription, format, tx, state.retired.subscribe()));
    Ok(crate::respond::builder(http::StatusCode::OK, "application/vnd.amazon.eventstream", ctx)
        .body(ChannelBody(rx).boxed_unsync())
        .expect("valid response"))
}

/// Sends the initial response, then every event, until the subscription
/// ends, its lifetime passes, the client stops reading, or this node stops
/// leading its cluster (`retired`).
async fn pump(
    mut subscription: Subscription,
    format: Format,
    tx: mpsc::Sender<Bytes>,
    mut retired: tokio::sync::watch::Receiver<bool>,
) {
    let content_type = match format {
        Format::Json => "application/json",
        Format::Cbor => super::CBOR,
    };
    let initial = eventstream::event("initial-response", content_type, &format.encode(&json!({})));
    if tx.send(Bytes::from(initial)).await.is_err() {
        return;
    }
    let deadline = tokio::time::Instant::now() + SUBSCRIPTION_LIFETIME;
    loop {
        let next = tokio::select! {
            next = subscription.next() => next,
            _ = tokio::time::sleep_until(deadline) => break,
            _ = tx.closed() => break,
            _ = retired.wait_for(|retired| *retired) => {
                tracing::info!("kinesis: subscription ended: this node no longer leads (the client subscribes again)");
                break;
            }
        };
        let frame = match next {
            Ok(Some(event)) => match encode_event(event, format, content_type).await {
                Some(frame) => frame,
                None => break,
            },
            Ok(None) => break,
            Err(e) => {
                let e = errors::wire(&e);
                let payload = format.encode(&json!({"message": e.message}));
                let _ = tx.send(Bytes::from(eventstream::exception(e.shape, content_type, &payload))).await;
                break;
            }
        };
        if tx.send(Bytes::from(frame)).await.is_err() {
            break;
        }
    }
    tracing::debug!("kinesis: subscription ended");
}

/// One SubscribeToShardEvent frame. With records, encoding (base64, then
/// JSON or CBOR, of up to 4 MiB) runs on a blocking thread: it would hold up
/// an async worker, and every request queued on it, for milliseconds.
async fn encode_event(event: ShardEvent, format: Format, content_type: &'static str) -> Option<Vec<u8>> {
    let heartbeat = event.records.is_empty();
    let encode = move || eventstream::event("SubscribeToShardEvent", content_type, &format.encode(&event_json(&event)));
    if heartbeat {
        return Some(encode());
    }
    tokio::task::spawn_blocking(encode).await.ok()
}

fn event_json(e: &ShardEvent) -> Value {
    let mut v = json!({"Records": records_json(&e.records), "ContinuationSequenceNumber": e.continuation.to_string(),
        "MillisBehindLatest": e.millis_behind});
    if let Some(children) = &e.child_shards {
        v["ChildShards"] = child_shards_json(children);
    }
    v
}

/// A response body fed by a channel: each message is one data frame.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}
