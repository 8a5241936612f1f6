//! Kinesis load: a 2-shard stream, one PutRecords writer, and a GetRecords
//! reader per shard following the tip.

use std::time::Duration;

use anyhow::{Context, Result};
use tokio::task::JoinSet;

use super::tally::{self, every, Kind};
use super::{Ctx, Leftovers};
use crate::http::Conn;
use crate::kinesis::api::{self, PutRecordsBody};

const SHARDS: u32 = 2;
/// 40 records of 100 bytes 10 times a second: 40 KB/s, about 150 MB an
/// hour on disk (retention is 24 h), while memory should stay flat.
const RECORDS: usize = 40;
const RECORD_BYTES: usize = 100;
const PUT_PACE: Duration = Duration::from_millis(100);
/// AWS allows 5 GetRecords per shard per second.
const READ_PACE: Duration = Duration::from_millis(250);
const READ_LIMIT: u32 = 1000;

pub async fn start(ctx: &Ctx, set: &mut JoinSet<()>, left: &mut Leftovers) -> Result<()> {
    let conn = Conn::new(&ctx.ep);
    let stream = format!("soak-{}", ctx.run_id);
    api::create_stream(&conn, &stream, SHARDS).await?;
    left.stream = Some(stream.clone());
    api::wait_stream_active(&conn, &stream).await?;
    for shard in api::list_shards(&conn, &stream).await? {
        set.spawn(reader(ctx.clone(), stream.clone(), shard.shard_id));
    }
    set.spawn(writer(ctx.clone(), stream));
    Ok(())
}

async fn writer(ctx: Ctx, stream: String) {
    let conn = Conn::new(&ctx.ep);
    let mut n = 0u64;
    every(PUT_PACE, || {
        n += 1;
        let body = put_body(&stream, n);
        let (ctx, conn) = (&ctx, &conn);
        async move {
            let answer = ctx.tally.track(Kind::Kinesis, conn.call(api::PUT_RECORDS, body)).await?;
            // The call itself succeeded; records it refused are errors too.
            match api::parse_put_records(&answer).map(|r| r.failed_record_count) {
                Ok(0) => {}
                Ok(f) => ctx.tally.error(Kind::Kinesis, format!("PutRecords: {f} records failed")),
                Err(e) => ctx.tally.error(Kind::Kinesis, format!("{e:#}")),
            }
            Some(())
        }
    })
    .await
}

/// Records keyed over many partition keys, so both shards get some.
fn put_body(stream: &str, n: u64) -> Vec<u8> {
    let mut body = PutRecordsBody::new(stream, RECORDS * (RECORD_BYTES * 4 / 3 + 64) + 128);
    let mut data = [b'x'; RECORD_BYTES];
    for i in 0..RECORDS {
        let stamp = format!("{n}-{i}");
        data[..stamp.len()].copy_from_slice(stamp.as_bytes());
        body.push(&data, &format!("k{i}"));
    }
    body.finish()
}

/// Follows the shard's tip; a failed call starts again from LATEST.
async fn reader(ctx: Ctx, stream: String, shard: String) {
    let conn = Conn::new(&ctx.ep);
    let mut ticker = tally::ticker(READ_PACE);
    let mut iterator = None;
    loop {
        ticker.tick().await;
        iterator = read(&ctx, &conn, &stream, &shard, iterator.take()).await;
        if iterator.is_none() {
            tally::backoff().await;
        }
    }
}

/// One GetRecords from `iterator` (a fresh LATEST one if none); the next
/// iterator, or `None` after an error.
async fn read(ctx: &Ctx, conn: &Conn, stream: &str, shard: &str, iterator: Option<String>) -> Option<String> {
    let t = &ctx.tally;
    let it = match iterator {
        Some(it) => it,
        None => t.track(Kind::Kinesis, api::shard_iterator(conn, stream, shard, "LATEST")).await?,
    };
    let answer = t.track(Kind::Kinesis, api::get_records(conn, &it, READ_LIMIT)).await?;
    let next = api::parse_get_records(&answer).map(|r| r.next_shard_iterator);
    match next.and_then(|n| n.context("GetRecords: no NextShardIterator (shard closed?)")) {
        Ok(next) => Some(next),
        Err(e) => {
            t.error(Kind::Kinesis, format!("{e:#}"));
            None
        }
    }
}
