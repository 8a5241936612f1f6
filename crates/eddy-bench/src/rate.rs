//! Closed-loop throughput: N workers, one connection each, one request in
//! flight each, repeating an operation until the clock runs out.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use super::http::{Conn, Endpoint};

/// Outcome of a timed run.
#[derive(Debug, Default)]
pub struct Rate {
    /// Units completed (requests, or messages when an op moves several).
    pub units: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub first_error: Option<String>,
}

impl Rate {
    pub fn per_sec(&self) -> f64 {
        self.units as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// One line describing the errors, if there were any.
    pub fn error_note(&self) -> Option<String> {
        let first = self.first_error.as_deref()?;
        Some(format!("{} errors, first: {first}", self.errors))
    }

    /// Adds up the per-worker results of `workers`; the first worker error
    /// ends the run (dropping the set aborts the other workers).
    pub async fn join(mut workers: JoinSet<Result<Rate>>) -> Result<Rate> {
        let mut total = Rate::default();
        while let Some(done) = workers.join_next().await {
            let rate = done??;
            total.units += rate.units;
            total.errors += rate.errors;
            total.first_error = total.first_error.or(rate.first_error);
        }
        Ok(total)
    }

    /// Counts a failed request, keeping the first error's text.
    pub fn error(&mut self, e: anyhow::Error) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| format!("{e:#}"));
    }
}

/// Runs `op` on `conns` connections for `duration`. `op` returns how many
/// units it completed. Each worker first runs `op` once untimed, so
/// connection setup is not measured; if that first call fails the whole run
/// fails with its error, since the endpoint evidently can't do `op`.
pub async fn timed<F, Fut>(ep: &Endpoint, conns: usize, duration: Duration, op: F) -> Result<Rate>
where
    F: Fn(Arc<Conn>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<u64>> + Send,
{
    let op = Arc::new(op);
    // Workers plus this task, which starts the clock when all are warm.
    let start_line = Arc::new(Barrier::new(conns + 1));
    let mut workers = JoinSet::new();
    for _ in 0..conns {
        let (op, start_line) = (op.clone(), start_line.clone());
        let conn = Arc::new(Conn::new(ep));
        workers.spawn(async move {
            let warm = op(conn.clone()).await;
            start_line.wait().await;
            warm.context("warm-up request")?;
            Ok(until(Instant::now() + duration, conn, &*op).await)
        });
    }
    start_line.wait().await;
    let start = Instant::now();
    let mut total = Rate::join(workers).await?;
    total.elapsed = start.elapsed();
    Ok(total)
}

async fn until<F, Fut>(deadline: Instant, conn: Arc<Conn>, op: &F) -> Rate
where
    F: Fn(Arc<Conn>) -> Fut,
    Fut: Future<Output = Result<u64>>,
{
    let mut rate = Rate::default();
    while Instant::now() < deadline {
        match op(conn.clone()).await {
            Ok(n) => rate.units += n,
            Err(e) => rate.error(e),
        }
    }
    rate
}
