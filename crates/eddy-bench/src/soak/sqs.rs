//! SQS load: send → long-poll receive → delete rounds on a standard and a
//! FIFO queue, a short-lived queue created and deleted every few seconds
//! (name churn), and a PurgeQueue now and then.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use super::tally::{every, Kind};
use super::{Ctx, Leftovers};
use crate::api;
use crate::http::Conn;

/// Workers per queue, and the gap between each one's rounds: up to 480
/// requests/s per queue; with SNS and Kinesis, about half a core of eddy.
const WORKERS_PER_QUEUE: usize = 4;
const ROUND_PACE: Duration = Duration::from_millis(25);
const BATCH: usize = 10;
/// Long poll of the receive: messages are normally there already.
const WAIT_SECS: u32 = 2;
const CHURN_PACE: Duration = Duration::from_secs(10);
/// AWS allows one purge per queue per 60 s; a little more keeps clear of it.
const PURGE_PACE: Duration = Duration::from_secs(75);

/// Creates the queues and starts the workers; what to delete afterwards goes
/// into `left`.
pub async fn start(ctx: &Ctx, set: &mut JoinSet<()>, left: &mut Leftovers) -> Result<()> {
    let conn = Conn::new(&ctx.ep);
    let standard = api::create_queue(&conn, &format!("soak-std-{}", ctx.run_id)).await?;
    left.queues.push(standard.clone());
    let fifo = create_fifo_queue(&conn, &format!("soak-fifo-{}.fifo", ctx.run_id)).await?;
    left.queues.push(fifo.clone());
    for w in 0..WORKERS_PER_QUEUE {
        let worker = Worker { ctx: ctx.clone(), conn: Conn::new(&ctx.ep), url: standard.clone(), fifo: false, id: w };
        set.spawn(worker.run());
        let worker = Worker { ctx: ctx.clone(), conn: Conn::new(&ctx.ep), url: fifo.clone(), fifo: true, id: w };
        set.spawn(worker.run());
    }
    set.spawn(churn(ctx.clone()));
    set.spawn(purge(ctx.clone(), standard));
    Ok(())
}

struct Worker {
    ctx: Ctx,
    conn: Conn,
    url: String,
    fifo: bool,
    id: usize,
}

impl Worker {
    async fn run(self) {
        let mut seq = 0u64;
        every(ROUND_PACE, || {
            seq += 1;
            self.round(seq)
        })
        .await
    }

    async fn round(&self, seq: u64) -> Option<()> {
        let t = &self.ctx.tally;
        if self.fifo {
            let group = format!("g{}", self.id);
            t.track(Kind::Sqs, send_fifo_batch(&self.conn, &self.url, &group, seq)).await?;
        } else {
            let bodies: Vec<String> = (0..BATCH).map(|i| format!("soak {} {seq}-{i}", self.id)).collect();
            let failed = t.track(Kind::Sqs, api::send_batch(&self.conn, &self.url, &bodies)).await?;
            if !failed.is_empty() {
                t.error(Kind::Sqs, format!("SendMessageBatch: {} entries failed", failed.len()));
            }
        }
        let got = t.track(Kind::Sqs, api::receive(&self.conn, &self.url, BATCH as u32, WAIT_SECS, None)).await?;
        t.track(Kind::Sqs, api::delete_batch(&self.conn, &self.url, &got)).await?;
        Some(())
    }
}

/// A queue that lives for one step: its name, record and tombstone are the
/// churn a leak would hide in.
async fn churn(ctx: Ctx) {
    let conn = Conn::new(&ctx.ep);
    let mut n = 0u64;
    every(CHURN_PACE, || {
        n += 1;
        let (conn, ctx) = (&conn, &ctx);
        async move {
            let t = &ctx.tally;
            let url = t.track(Kind::Sqs, api::create_queue(conn, &format!("soak-churn-{}-{n}", ctx.run_id))).await?;
            let sent = t.track(Kind::Sqs, api::send_message(conn, &url, "churn")).await;
            t.track(Kind::Sqs, api::delete_queue(conn, &url)).await?;
            sent
        }
    })
    .await
}

async fn purge(ctx: Ctx, url: String) {
    let conn = Conn::new(&ctx.ep);
    // The first tick of `every` is immediate: skip it, the queue is new.
    tokio::time::sleep(PURGE_PACE).await;
    every(PURGE_PACE, || ctx.tally.track(Kind::Sqs, purge_queue(&conn, &url))).await
}

async fn purge_queue(conn: &Conn, queue_url: &str) -> Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        queue_url: &'a str,
    }
    conn.call("AmazonSQS.PurgeQueue", serde_json::to_vec(&Req { queue_url })?).await?;
    Ok(())
}

pub async fn create_fifo_queue(conn: &Conn, name: &str) -> Result<String> {
    // A short visibility timeout: a message whose delete failed blocks its
    // group only briefly.
    api::create_queue_with(conn, name, HashMap::from([("FifoQueue", "true"), ("VisibilityTimeout", "30")])).await
}

/// SendMessageBatch to a FIFO queue: one group, explicit deduplication ids.
async fn send_fifo_batch(conn: &Conn, queue_url: &str, group: &str, seq: u64) -> Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Entry<'a> {
        id: String,
        message_body: String,
        message_group_id: &'a str,
        message_deduplication_id: String,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        queue_url: &'a str,
        entries: Vec<Entry<'a>>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Resp {
        #[serde(default)]
        failed: Vec<serde::de::IgnoredAny>,
    }
    let entries = (0..BATCH)
        .map(|i| Entry {
            id: i.to_string(),
            message_body: format!("soak {group} {seq}-{i}"),
            message_group_id: group,
            message_deduplication_id: format!("{group}-{seq}-{i}"),
        })
        .collect();
    let resp: Resp = conn.json("AmazonSQS.SendMessageBatch", &Req { queue_url, entries }).await?;
    if !resp.failed.is_empty() {
        bail!("SendMessageBatch (FIFO): {} entries failed", resp.failed.len());
    }
    Ok(())
}
