//! Batched round trip: every worker loops SendMessageBatch (10 bodies),
//! ReceiveMessage (up to 10), DeleteMessageBatch, and a drain afterwards
//! collects what is still queued so the exactly-once check can be made.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::task::JoinSet;

use super::api;
use super::http::{Conn, Endpoint};
use super::ledger::{Ledger, Tracker};
use super::rate::{self, Rate};

pub const BATCH: usize = 10;
/// Long enough that a receive on a momentarily empty queue parks instead of
/// spinning, short enough that the run ends promptly after the deadline.
const WAIT_SECS: u32 = 1;
/// Consecutive empty long polls after which a drain worker decides the queue
/// is empty.
const EMPTY_POLLS_TO_STOP: u32 = 2;

/// Where a round trip sends and what it sends.
#[derive(Clone)]
pub struct Pump {
    pub queue_url: Arc<str>,
    pub ledger: Arc<Ledger>,
    /// Tracker for the bodies this pump sends.
    pub tracker: Arc<Tracker>,
}

/// Runs the send/receive/delete loop for `duration`; units are messages
/// received and deleted.
pub async fn run(ep: &Endpoint, conns: usize, duration: Duration, pump: &Pump) -> Result<Rate> {
    let pump = pump.clone();
    rate::timed(ep, conns, duration, move |conn| {
        let pump = pump.clone();
        async move { cycle(&conn, &pump).await }
    })
    .await
}

async fn cycle(conn: &Conn, pump: &Pump) -> Result<u64> {
    send_batch(conn, &pump.queue_url, &pump.tracker, BATCH).await?;
    receive_and_delete(conn, &pump.queue_url, &pump.ledger).await
}

/// Sends `n` (≤ 10) fresh bodies in one batch, telling the tracker which
/// didn't make it.
pub async fn send_batch(conn: &Conn, queue_url: &str, tracker: &Tracker, n: usize) -> Result<()> {
    let (ids, bodies) = tracker.bodies(n);
    match api::send_batch(conn, queue_url, &bodies).await {
        Ok(failed) => {
            tracker.send_failed(failed.iter().map(|&i| ids[i]));
            Ok(())
        }
        Err(e) => {
            // The request may or may not have enqueued them: expect nothing.
            tracker.send_failed(ids);
            Err(e)
        }
    }
}

/// One ReceiveMessage + DeleteMessageBatch; returns messages deleted.
async fn receive_and_delete(conn: &Conn, queue_url: &str, ledger: &Ledger) -> Result<u64> {
    let messages = api::receive(conn, queue_url, BATCH as u32, WAIT_SECS, None).await?;
    ledger.record(&messages);
    Ok(api::delete_batch(conn, queue_url, &messages).await? as u64)
}

/// Receives and deletes until every tracker in the ledger has seen all its
/// bodies, the queue looks empty, or `limit` passes. Units are messages.
pub async fn drain(ep: &Endpoint, conns: usize, pump: &Pump, limit: Duration) -> Result<Rate> {
    let start = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..conns {
        let (conn, pump) = (Conn::new(ep), pump.clone());
        workers.spawn(async move { Ok(drain_worker(&conn, &pump, start + limit).await) });
    }
    let mut total = Rate::join(workers).await?;
    total.elapsed = start.elapsed();
    Ok(total)
}

async fn drain_worker(conn: &Conn, pump: &Pump, deadline: Instant) -> Rate {
    let mut rate = Rate::default();
    let mut empty_polls = 0;
    while empty_polls < EMPTY_POLLS_TO_STOP && Instant::now() < deadline && !pump.ledger.all_complete() {
        match receive_and_delete(conn, &pump.queue_url, &pump.ledger).await {
            Ok(0) => empty_polls += 1,
            Ok(n) => {
                empty_polls = 0;
                rate.units += n;
            }
            Err(e) => {
                rate.error(e);
                // Don't spin on a persistent error.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    rate
}
