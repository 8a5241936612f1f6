//! What the soak's load has done so far: operations and errors per kind,
//! counted from every task without locks on the success path.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

/// The kinds of load the soak reports separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqs,
    Sns,
    Kinesis,
    /// SNS deliveries received by the bench's own HTTP endpoint.
    HttpIn,
    /// Idle connections opened (each one again after the server closed it).
    Idle,
    /// Slowloris connections opened.
    Slow,
}

pub const KINDS: [Kind; 6] = [Kind::Sqs, Kind::Sns, Kind::Kinesis, Kind::HttpIn, Kind::Idle, Kind::Slow];

/// Pause after a failed step: a refusing server (503 from its limits) is
/// retried, not hammered.
const ERROR_BACKOFF: Duration = Duration::from_millis(500);

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqs => "sqs",
            Kind::Sns => "sns",
            Kind::Kinesis => "kinesis",
            Kind::HttpIn => "http-in",
            Kind::Idle => "idle",
            Kind::Slow => "slowloris",
        }
    }
}

#[derive(Default)]
pub struct Tally {
    ops: [AtomicU64; KINDS.len()],
    errors: [AtomicU64; KINDS.len()],
    /// The latest error text per kind, so the progress lines can say what
    /// went wrong (one string per kind: bounded however many errors).
    last_error: Mutex<[Option<String>; KINDS.len()]>,
}

/// Counters at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    pub ops: [u64; KINDS.len()],
    pub errors: [u64; KINDS.len()],
}

impl Snapshot {
    /// Operations and errors of one kind.
    pub fn of(&self, kind: Kind) -> (u64, u64) {
        (self.ops[kind as usize], self.errors[kind as usize])
    }
}

impl Tally {
    pub fn ok(&self, kind: Kind) {
        self.ops[kind as usize].fetch_add(1, Relaxed);
    }

    pub fn error(&self, kind: Kind, e: impl std::fmt::Display) {
        self.errors[kind as usize].fetch_add(1, Relaxed);
        let text: String = e.to_string().chars().take(200).collect();
        self.last_error.lock().expect("not poisoned")[kind as usize] = Some(text);
    }

    /// Awaits one operation and counts its outcome; `None` on an error, so
    /// a step can stop with `?`.
    pub async fn track<T>(&self, kind: Kind, op: impl Future<Output = anyhow::Result<T>>) -> Option<T> {
        match op.await {
            Ok(v) => {
                self.ok(kind);
                Some(v)
            }
            Err(e) => {
                self.error(kind, format!("{e:#}"));
                None
            }
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut s = Snapshot::default();
        for k in KINDS {
            s.ops[k as usize] = self.ops[k as usize].load(Relaxed);
            s.errors[k as usize] = self.errors[k as usize].load(Relaxed);
        }
        s
    }

    pub fn last_error(&self, kind: Kind) -> Option<String> {
        self.last_error.lock().expect("not poisoned")[kind as usize].clone()
    }
}

/// A ticker that, when a step overruns, waits a full `pace` again rather
/// than catching up in a burst.
pub fn ticker(pace: Duration) -> tokio::time::Interval {
    let mut ticker = tokio::time::interval(pace);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker
}

pub async fn backoff() {
    tokio::time::sleep(ERROR_BACKOFF).await;
}

/// Runs `step` every `pace` until the task is aborted; backs off after a
/// failed step (`None`).
pub async fn every<F, Fut>(pace: Duration, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<()>>,
{
    let mut ticker = ticker(pace);
    loop {
        ticker.tick().await;
        if step().await.is_none() {
            backoff().await;
        }
    }
}
