//! Latency at concurrency 1: single operations, and long-poll wake-up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use super::api;
use super::http::{Conn, Endpoint};
use super::ledger::Tracker;
use super::stats::Percentiles;

/// Per-operation latency of SendMessage, ReceiveMessage and DeleteMessage.
pub struct SingleOps {
    pub send: Percentiles,
    pub receive: Percentiles,
    pub delete: Percentiles,
}

/// Sends `samples` messages one at a time, then receives and deletes them
/// one at a time, timing each call.
pub async fn single_ops(ep: &Endpoint, queue_url: &str, samples: usize) -> Result<SingleOps> {
    let conn = Conn::new(ep);
    let tracker = Tracker::new("lat".into());
    let (_, bodies) = tracker.bodies(samples);
    // Untimed: opens the connection.
    api::send_message(&conn, queue_url, &bodies[0]).await?;
    let mut send = Vec::with_capacity(samples);
    for body in &bodies[1..] {
        let t0 = Instant::now();
        api::send_message(&conn, queue_url, body).await?;
        send.push(t0.elapsed());
    }
    let (receive, delete) = receive_delete_each(&conn, queue_url, samples).await?;
    Ok(SingleOps { send: percentiles(send)?, receive: percentiles(receive)?, delete: percentiles(delete)? })
}

/// Receives (MaxNumberOfMessages 1, no wait) and deletes `n` messages.
async fn receive_delete_each(conn: &Conn, queue_url: &str, n: usize) -> Result<(Vec<Duration>, Vec<Duration>)> {
    let (mut receive, mut delete) = (Vec::with_capacity(n), Vec::with_capacity(n));
    // Only non-empty receives count: an empty one measures something else.
    // The cap stops a server that never returns them from looping forever.
    for _ in 0..n * 2 {
        if receive.len() == n {
            break;
        }
        let t0 = Instant::now();
        let messages = api::receive(conn, queue_url, 1, 0, None).await?;
        let took = t0.elapsed();
        let Some(m) = messages.first() else { continue };
        receive.push(took);
        let t0 = Instant::now();
        api::delete_message(conn, queue_url, &m.receipt_handle).await?;
        delete.push(t0.elapsed());
    }
    Ok((receive, delete))
}

fn percentiles(samples: Vec<Duration>) -> Result<Percentiles> {
    match Percentiles::of(samples) {
        Some(p) => Ok(p),
        None => bail!("no samples"),
    }
}

/// Long-poll wake-up latency.
pub struct Wake {
    /// From just before SendMessage is issued to the parked receiver holding
    /// the message.
    pub wake: Percentiles,
    /// SendMessage's own round trip, measured in the same iterations, so the
    /// reader can tell server wake-up from send cost.
    pub send: Percentiles,
    /// Receives that returned empty before the message was sent.
    pub early_empty: usize,
}

/// How long the receiver gets to reach the server and park before the send;
/// the figure measures waking a parked poll, not a race with its arrival.
const PARK_DELAY: Duration = Duration::from_millis(10);
const LONG_POLL_SECS: u32 = 20;

/// `samples` rounds of a poll parked on `parked_on` woken by a send to `ep`.
pub async fn wake(ep: &Endpoint, parked_on: &Endpoint, queue_url: &str, samples: usize) -> Result<Wake> {
    let (sender, receiver) = (Conn::new(ep), Arc::new(Conn::new(parked_on)));
    let url: Arc<str> = queue_url.into();
    let tracker = Tracker::new("wake".into());
    let (mut wake, mut send, mut early_empty) = (vec![], vec![], 0);
    // One untimed round opens both connections.
    for round in 0..=samples {
        let parked = tokio::spawn(park(receiver.clone(), url.clone()));
        tokio::time::sleep(PARK_DELAY).await;
        let (_, body) = tracker.bodies(1);
        let t0 = Instant::now();
        api::send_message(&sender, &url, &body[0]).await?;
        let sent = t0.elapsed();
        let (got_at, messages) = parked.await??;
        let Some(m) = messages.first() else {
            // The poll returned early (or the send was lost); drain the send
            // so the next round starts on an empty queue.
            early_empty += 1;
            drain_one(&receiver, &url).await?;
            continue;
        };
        api::delete_message(&receiver, &url, &m.receipt_handle).await?;
        if round > 0 {
            wake.push(got_at - t0);
            send.push(sent);
        }
    }
    Ok(Wake { wake: percentiles(wake)?, send: percentiles(send)?, early_empty })
}

/// A long poll on the empty queue; returns when and what it received.
async fn park(conn: Arc<Conn>, url: Arc<str>) -> Result<(Instant, Vec<api::Message>)> {
    let messages = api::receive(&conn, &url, 1, LONG_POLL_SECS, None).await?;
    Ok((Instant::now(), messages))
}

async fn drain_one(conn: &Conn, url: &str) -> Result<()> {
    for m in api::receive(conn, url, 10, 1, None).await? {
        api::delete_message(conn, url, &m.receipt_handle).await?;
    }
    Ok(())
}
