//! Clients that cost the server without asking it anything: idle TCP
//! connections, opened again each time the server closes them (after its
//! idle timeout), and slowloris connections trickling header bytes.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::tally::{self, Kind};
use super::Ctx;

pub const IDLE: usize = 200;
pub const SLOW: usize = 20;
/// Spreads the first connects over the server's 30 s idle timeout, so the
/// reconnects don't all come at once every 30 s.
const IDLE_STAGGER: Duration = Duration::from_millis(150);
const SLOW_STAGGER: Duration = Duration::from_millis(1500);
/// One header byte this often: slower than any real client.
const TRICKLE: Duration = Duration::from_secs(2);
/// Pause before reopening a closed connection.
const REOPEN: Duration = Duration::from_millis(100);

pub fn start(ctx: &Ctx, set: &mut JoinSet<()>) {
    for i in 0..IDLE {
        set.spawn(idle(ctx.clone(), IDLE_STAGGER * i as u32));
    }
    for i in 0..SLOW {
        set.spawn(slowloris(ctx.clone(), SLOW_STAGGER * i as u32));
    }
}

/// Connects and sends nothing; reads until the server closes.
async fn idle(ctx: Ctx, stagger: Duration) {
    tokio::time::sleep(stagger).await;
    let mut buf = [0u8; 512];
    loop {
        match TcpStream::connect(ctx.ep.authority()).await {
            Ok(mut stream) => {
                ctx.tally.ok(Kind::Idle);
                // Whatever the server says before closing (a 408, say) is read and dropped.
                while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
                tokio::time::sleep(REOPEN).await;
            }
            Err(e) => {
                ctx.tally.error(Kind::Idle, format!("connect: {e}"));
                tally::backoff().await;
            }
        }
    }
}

/// Starts a request and sends one byte of a header every [`TRICKLE`]; the
/// server should close it at its header-read timeout.
async fn slowloris(ctx: Ctx, stagger: Duration) {
    tokio::time::sleep(stagger).await;
    loop {
        match TcpStream::connect(ctx.ep.authority()).await {
            Ok(stream) => {
                ctx.tally.ok(Kind::Slow);
                trickle(stream).await;
                tokio::time::sleep(REOPEN).await;
            }
            Err(e) => {
                ctx.tally.error(Kind::Slow, format!("connect: {e}"));
                tally::backoff().await;
            }
        }
    }
}

/// Returns once the server has closed the connection.
async fn trickle(mut stream: TcpStream) {
    let mut buf = [0u8; 512];
    if stream.write_all(b"POST / HTTP/1.1\r\nHost: soak\r\nX-Slow: ").await.is_err() {
        return;
    }
    let mut ticker = tally::ticker(TRICKLE);
    loop {
        tokio::select! {
            read = stream.read(&mut buf) => {
                if !matches!(read, Ok(n) if n > 0) {
                    return;
                }
            }
            _ = ticker.tick() => {
                if stream.write_all(b"a").await.is_err() {
                    return;
                }
            }
        }
    }
}
