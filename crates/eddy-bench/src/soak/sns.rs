//! SNS load: a standard topic fanned out to two raw-delivery SQS queues and
//! to the bench's own HTTP endpoint, a FIFO topic (deduplication ids) into a
//! FIFO queue, and drainers that keep every subscribed queue near empty.

use std::time::Duration;

use anyhow::{Context, Result};
use tokio::task::JoinSet;

use super::tally::{every, Kind};
use super::{hook, sqs, Ctx, Leftovers};
use crate::api;
use crate::http::Conn;
use crate::sns::{publish, subscribe_queue, xml_text};

const PUBLISH_PACE: Duration = Duration::from_millis(20);
const FIFO_PUBLISH_PACE: Duration = Duration::from_millis(50);
const DRAIN_PACE: Duration = Duration::from_millis(50);
const DRAIN_WAIT_SECS: u32 = 5;
/// How long the HTTP subscription may take to be confirmed.
const CONFIRM_LIMIT: Duration = Duration::from_secs(30);

pub async fn start(ctx: &Ctx, set: &mut JoinSet<()>, left: &mut Leftovers) -> Result<()> {
    let conn = Conn::new(&ctx.ep);
    let topic = create_topic(&conn, &format!("soak-topic-{}", ctx.run_id), false).await?;
    left.topics.push(topic.clone());
    for i in 0..2 {
        let url = api::create_queue(&conn, &format!("soak-sns-{}-{i}", ctx.run_id)).await?;
        left.queues.push(url.clone());
        subscribe_queue(&conn, &topic, &url).await?;
        set.spawn(drain(ctx.clone(), url));
    }
    subscribe_http(ctx, set, &conn, &topic).await?;
    let fifo_topic = create_topic(&conn, &format!("soak-topic-{}.fifo", ctx.run_id), true).await?;
    left.topics.push(fifo_topic.clone());
    let fifo_queue = sqs::create_fifo_queue(&conn, &format!("soak-sns-{}.fifo", ctx.run_id)).await?;
    left.queues.push(fifo_queue.clone());
    subscribe_queue(&conn, &fifo_topic, &fifo_queue).await?;
    set.spawn(drain(ctx.clone(), fifo_queue));
    set.spawn(publisher(ctx.clone(), topic));
    set.spawn(fifo_publisher(ctx.clone(), fifo_topic));
    Ok(())
}

async fn create_topic(conn: &Conn, name: &str, fifo: bool) -> Result<String> {
    let mut params = vec![("Action", "CreateTopic"), ("Name", name)];
    if fifo {
        params.extend([("Attributes.entry.1.key", "FifoTopic"), ("Attributes.entry.1.value", "true")]);
    }
    xml_text(&conn.query(&params).await?, "TopicArn")
}

/// Subscribes the bench's HTTP endpoint and waits until it has confirmed
/// the subscription by fetching the SubscribeURL.
async fn subscribe_http(ctx: &Ctx, set: &mut JoinSet<()>, conn: &Conn, topic: &str) -> Result<()> {
    let (endpoint, confirmed) = hook::start(ctx, set).await?;
    let params = [("Action", "Subscribe"), ("TopicArn", topic), ("Protocol", "http"), ("Endpoint", &endpoint)];
    conn.query(&params).await?;
    tokio::time::timeout(CONFIRM_LIMIT, confirmed.notified())
        .await
        .with_context(|| format!("HTTP subscription {endpoint} not confirmed within {CONFIRM_LIMIT:?}"))
}

async fn publisher(ctx: Ctx, topic: String) {
    let conn = Conn::new(&ctx.ep);
    let mut n = 0u64;
    every(PUBLISH_PACE, || {
        n += 1;
        let body = format!("soak {n}");
        let (ctx, conn, topic) = (&ctx, &conn, &topic);
        async move { ctx.tally.track(Kind::Sns, publish(conn, topic, &body)).await }
    })
    .await
}

/// Publishes into two message groups with explicit deduplication ids (the
/// server keeps each for 5 minutes: a bounded window a leak would outgrow).
async fn fifo_publisher(ctx: Ctx, topic: String) {
    let conn = Conn::new(&ctx.ep);
    let mut n = 0u64;
    every(FIFO_PUBLISH_PACE, || {
        n += 1;
        let (group, dedup, body) = (format!("g{}", n % 2), format!("d{n}"), format!("soak fifo {n}"));
        let (ctx, conn, topic) = (&ctx, &conn, &topic);
        async move {
            let params = [
                ("Action", "Publish"),
                ("TopicArn", topic.as_str()),
                ("Message", &body),
                ("MessageGroupId", &group),
                ("MessageDeduplicationId", &dedup),
            ];
            ctx.tally.track(Kind::Sns, conn.query(&params)).await.map(drop)
        }
    })
    .await
}

/// Receives and deletes whatever the topic delivered into `url`.
async fn drain(ctx: Ctx, url: String) {
    let conn = Conn::new(&ctx.ep);
    every(DRAIN_PACE, || async {
        let t = &ctx.tally;
        let got = t.track(Kind::Sqs, api::receive(&conn, &url, 10, DRAIN_WAIT_SECS, None)).await?;
        t.track(Kind::Sqs, api::delete_batch(&conn, &url, &got)).await.map(drop)
    })
    .await
}
