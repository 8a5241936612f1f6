//! Client connections: a cap on how many are open, and a watchdog per
//! connection that closes it when idle or too slow with its headers.
//!
//! Idle and slowloris sockets cost a file descriptor and a task each; left
//! alone, enough of them exhaust the fd limit and the store's next file open
//! fails. So: at most `--max-connections` are open (a connection past the cap
//! gets a bare 503 and is closed); one idle longer than the idle timeout, with
//! no request in flight, is closed; one that started sending a request's
//! headers and has not finished them within the header timeout is closed
//! (slowloris); and when fewer than a tenth of the slots are free, idle
//! connections are closed after a second, so a crowd of idle sockets cannot
//! keep a working client out.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// Idle limit while connections run short.
const IDLE_UNDER_PRESSURE: Duration = Duration::from_secs(1);

pub struct Connections {
    slots: Arc<Semaphore>,
    max: usize,
    idle_timeout: Duration,
    header_timeout: Duration,
    pressure: watch::Sender<bool>,
    started: Instant,
}

/// An admitted connection's slot; freed when dropped.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    connections: Arc<Connections>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        // The permit is released after this body runs: count it as free.
        self.connections.update_pressure(1);
    }
}

impl Connections {
    pub fn new(max: usize, idle_timeout: Duration, header_timeout: Duration) -> Arc<Connections> {
        Arc::new(Connections {
            slots: Arc::new(Semaphore::new(max)),
            max,
            idle_timeout,
            header_timeout,
            pressure: watch::channel(false).0,
            started: Instant::now(),
        })
    }

    pub fn max(&self) -> usize {
        self.max
    }

    pub fn open(&self) -> usize {
        self.max - self.slots.available_permits()
    }

    /// A slot for a new connection, or None at the cap.
    pub fn admit(self: &Arc<Self>) -> Option<Slot> {
        let permit = self.slots.clone().try_acquire_owned().ok()?;
        self.update_pressure(0);
        Some(Slot { _permit: permit, connections: self.clone() })
    }

    fn update_pressure(&self, freeing: usize) {
        let free = self.slots.available_permits() + freeing;
        let short = free * 10 < self.max;
        self.pressure.send_if_modified(|p| std::mem::replace(p, short) != short);
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub fn activity(self: &Arc<Self>) -> Arc<Activity> {
        Arc::new(Activity {
            last_ms: AtomicU64::new(self.now_ms()),
            head_since_ms: AtomicU64::new(NO_HEAD),
            in_flight: AtomicUsize::new(0),
            connections: self.clone(),
        })
    }

    /// Resolves when the connection should be closed: idle too long (no
    /// request in flight, no bytes either way), or a request's headers begun
    /// and not finished within the header timeout.
    pub async fn idle(&self, activity: &Activity) {
        let mut pressure = self.pressure.subscribe();
        loop {
            let short = *pressure.borrow_and_update();
            let Some(wait) = self.wait_before_closing(activity, short) else { return };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = pressure.changed() => {}
            }
        }
    }

    /// None when the connection should be closed now; else how long to wait
    /// before looking again.
    fn wait_before_closing(&self, activity: &Activity, short: bool) -> Option<Duration> {
        if activity.in_flight.load(Ordering::Acquire) > 0 {
            return Some(self.idle_timeout);
        }
        let now = self.now_ms();
        let head_since = activity.head_since_ms.load(Ordering::Acquire);
        if head_since != NO_HEAD {
            let taken = Duration::from_millis(now.saturating_sub(head_since));
            return self.header_timeout.checked_sub(taken).filter(|w| !w.is_zero());
        }
        let limit = if short { IDLE_UNDER_PRESSURE } else { self.idle_timeout };
        let idle_for = Duration::from_millis(now.saturating_sub(activity.last_ms.load(Ordering::Acquire)));
        limit.checked_sub(idle_for).filter(|w| !w.is_zero())
    }
}

/// `head_since_ms` when no request's headers are being received.
const NO_HEAD: u64 = u64::MAX;

/// What one connection is doing: when bytes last moved, how many requests
/// (or streamed responses) are in flight.
pub struct Activity {
    last_ms: AtomicU64,
    /// When bytes of a request not yet handed to the service (its headers)
    /// began to arrive; NO_HEAD when none are pending.
    head_since_ms: AtomicU64,
    in_flight: AtomicUsize,
    connections: Arc<Connections>,
}

impl Activity {
    fn touch(&self) {
        self.last_ms.store(self.connections.now_ms(), Ordering::Release);
    }

    /// Bytes arrived: with no request in flight they start a request's headers.
    fn received(&self) {
        let now = self.connections.now_ms();
        self.last_ms.store(now, Ordering::Release);
        if self.in_flight.load(Ordering::Acquire) == 0 {
            let _ = self.head_since_ms.compare_exchange(NO_HEAD, now, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    /// Marks a request in flight until the returned guard is dropped (the
    /// front keeps it in the response body, so streams count too).
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_since_ms.store(NO_HEAD, Ordering::Release);
        InFlight(self.clone())
    }
}

pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket that notes when bytes move, for the idle watchdog.
pub struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Tracked<S> {
    pub fn new(inner: S, activity: Arc<Activity>) -> Tracked<S> {
        Tracked { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.received();
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Logs a repeated failure at most once per interval, with how many were
/// suppressed, instead of one line per occurrence.
pub struct RateLimitedLog {
    every: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimitedLog {
    pub fn new(every: Duration) -> RateLimitedLog {
        RateLimitedLog { every, last: None, suppressed: 0 }
    }

    /// Some(suppressed count) when this occurrence should be logged.
    pub fn should_log(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < self.every) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}
