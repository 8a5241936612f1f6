//! Reading request bodies within a memory budget.
//!
//! Every body being read or handled holds a reservation against one budget
//! for all connections (`--max-body-memory-mb`): its length, plus as much
//! again for its decoded form (the decoders bound their output to the
//! input's size; see eddy-wire). A request that would overrun the budget is
//! refused with a 503 before its body is buffered, so many stalled or
//! concurrent large bodies (HTTP/1.1 connections or HTTP/2 streams) cannot
//! grow eddy past it. A body that stops arriving is abandoned after the idle
//! timeout instead of holding its reservation forever.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::request::Parts;
use http_body_util::BodyExt;
use hyper::body::Incoming;

/// A body in memory counts this many times its length: the bytes, and the
/// values decoded from them.
const DECODE_FACTOR: usize = 2;
/// Bodies up to this size may use the whole budget (ordinary requests).
const SMALL_BODY: usize = 1 << 20;

pub struct BodyBudget {
    used: AtomicUsize,
    limit: usize,
}

/// Bytes held against the budget; released when dropped.
pub struct Reservation {
    budget: Arc<BodyBudget>,
    bytes: usize,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

impl BodyBudget {
    pub fn new(limit: usize) -> Arc<BodyBudget> {
        Arc::new(BodyBudget { used: AtomicUsize::new(0), limit })
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    fn empty(self: &Arc<Self>) -> Reservation {
        Reservation { budget: self.clone(), bytes: 0 }
    }

    /// Grows `r` by `more` bytes, or refuses without changing it. Large
    /// bodies share three quarters of the budget; the last quarter is kept
    /// for small ones, so a few stalled large bodies cannot starve every
    /// ordinary request.
    fn grow(&self, r: &mut Reservation, more: usize) -> bool {
        let ceiling = if r.bytes + more > SMALL_BODY * DECODE_FACTOR { self.limit / 4 * 3 } else { self.limit };
        let mut used = self.used.load(Ordering::Acquire);
        loop {
            let Some(next) = used.checked_add(more).filter(|n| *n <= ceiling) else { return false };
            match self.used.compare_exchange_weak(used, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    r.bytes += more;
                    return true;
                }
                Err(actual) => used = actual,
            }
        }
    }
}

#[derive(Debug)]
pub enum BodyError {
    /// Longer than the largest body any operation accepts.
    TooLarge,
    /// Accepting it would overrun the budget of bodies in memory.
    OverBudget,
    /// No bytes arrived for the header timeout.
    Stalled,
    /// The connection failed mid-body.
    Read,
}

/// Reads a whole body of at most `max` bytes. One announced as longer is
/// drained (not buffered) before it is refused, so the client reads the
/// refusal.
pub async fn read(
    parts: &Parts,
    mut body: Incoming,
    max: usize,
    budget: &Arc<BodyBudget>,
    stall: Duration,
) -> Result<(Bytes, Reservation), BodyError> {
    let mut reservation = budget.empty();
    let declared = match http_body::Body::size_hint(&body).exact() {
        Some(n) if n > max as u64 => {
            discard(parts, body, n).await;
            return Err(BodyError::TooLarge);
        }
        Some(n) => n as usize,
        None => 0,
    };
    // Reserve what the client announced up front: a body over budget is
    // refused before a byte of it is buffered.
    if !budget.grow(&mut reservation, declared * DECODE_FACTOR) {
        return Err(BodyError::OverBudget);
    }
    let mut buf = BytesMut::with_capacity(declared);
    loop {
        let frame = match tokio::time::timeout(stall, body.frame()).await {
            Err(_) => return Err(BodyError::Stalled),
            Ok(None) => break,
            Ok(Some(Err(_))) => return Err(BodyError::Read),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else { continue };
        if buf.len() + data.len() > max {
            return Err(BodyError::TooLarge);
        }
        // A chunked body (or one longer than announced) reserves as it grows.
        let more = ((buf.len() + data.len()) * DECODE_FACTOR).saturating_sub(reservation.bytes);
        if more > 0 && !budget.grow(&mut reservation, more) {
            return Err(BodyError::OverBudget);
        }
        buf.extend_from_slice(&data);
    }
    Ok((buf.freeze(), reservation))
}

/// Most bytes of a refused body read and dropped before answering.
const DISCARD_MAX: u64 = 64 * 1024 * 1024;
/// How long that may take.
const DISCARD_TIME: Duration = Duration::from_secs(30);

/// Reads and drops an HTTP/1.1 body refused for its size, so the client gets
/// the answer: closing a connection with unread bytes makes the kernel send a
/// reset, and a client still writing sees a broken pipe instead of the 413.
/// Not for HTTP/2 (the stream alone is reset, after the response), a client
/// waiting on `Expect: 100-continue` (it sends no body), or a body past
/// [`DISCARD_MAX`] (not worth sinking; the client may see the reset).
async fn discard(parts: &Parts, mut body: Incoming, declared: u64) {
    let expects = parts.headers.contains_key(http::header::EXPECT);
    if parts.version >= http::Version::HTTP_2 || expects || declared > DISCARD_MAX {
        return;
    }
    let mut left = DISCARD_MAX;
    let sink = async {
        while let Some(Ok(frame)) = body.frame().await {
            let len = frame.data_ref().map_or(0, |d| d.len() as u64);
            left = left.saturating_sub(len);
            if left == 0 {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(DISCARD_TIME, sink).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_past_its_limit_and_frees_on_drop() {
        let budget = BodyBudget::new(100);
        let mut a = budget.empty();
        assert!(budget.grow(&mut a, 60));
        let mut b = budget.empty();
        assert!(!budget.grow(&mut b, 41), "60 + 41 > 100");
        assert_eq!(budget.used(), 60);
        assert!(budget.grow(&mut b, 40));
        drop(a);
        assert_eq!(budget.used(), 40);
        drop(b);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn large_bodies_leave_a_quarter_of_the_budget_to_small_ones() {
        let budget = BodyBudget::new(64 << 20);
        let mut large = budget.empty();
        assert!(budget.grow(&mut large, 32 << 20));
        let mut second = budget.empty();
        assert!(budget.grow(&mut second, 16 << 20));
        let mut third = budget.empty();
        assert!(!budget.grow(&mut third, 16 << 20), "large bodies stop at 48 of 64 MiB");
        let mut small = budget.empty();
        assert!(budget.grow(&mut small, 64 << 10), "a small body still fits");
    }
}
