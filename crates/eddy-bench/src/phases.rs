//! The phases of a run, each measuring and reporting its figures. A failing
//! phase reports itself as skipped with the error and the run goes on, so one
//! missing operation doesn't hide every other figure.

use std::sync::Arc;
use std::time::Duration;

use super::http::Conn;
use super::latency;
use super::ledger::{Ledger, Tracker};
use super::rate::{self, Rate};
use super::report::Report;
use super::roundtrip::{self, Pump};
use super::server::Spawned;
use super::stats::{count, duration, mib};
use super::{api, Bench};

const SEND_TARGET: f64 = 0.40;
/// Server CPU a SendMessage may cost beyond a no-op request (the HTTP
/// ceiling's health check): what the SQS path itself costs.
const SEND_CPU_TARGET_US: f64 = 15.0;
const ROUND_TRIP_TARGET: f64 = 50_000.0;
const WAKE_P99_TARGET: Duration = Duration::from_millis(2);
/// Issue 12: a send on one node wakes a poll parked on another.
const WAKE_ACROSS_NODES_P99_TARGET: Duration = Duration::from_millis(20);
const START_TARGET: Duration = Duration::from_millis(10);
const IDLE_RSS_TARGET: u64 = 10 * 1024 * 1024;
/// How long a fresh server gets to finish background start-up work before
/// its idle memory is read.
const SETTLE: Duration = Duration::from_secs(1);
/// Upper bound on collecting leftovers after a round trip.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

/// Spawns the server and reports start-up time and idle memory.
pub async fn spawn(report: &mut Report) -> Option<Spawned> {
    println!("\n== Spawned server: this binary as `eddy serve` on a free port, fresh data directory");
    let figure = "Start-up, new data dir (spawn → first health 2xx)";
    let (mut server, took) = match Spawned::start().await {
        Ok(started) => started,
        Err(e) => {
            report.skipped(figure, format!("failed: {e:#}"), "≤ 10 ms");
            return None;
        }
    };
    report.check(figure, duration(took), "≤ 10 ms", took <= START_TARGET);
    // A first start also creates the store's files; every later start (the
    // common case) only opens them.
    let figure = "Start-up, existing data dir";
    match server.restart_timed().await {
        Ok(took) => report.check(figure, duration(took), "≤ 10 ms", took <= START_TARGET),
        Err(e) => {
            report.skipped(figure, format!("failed: {e:#}"), "≤ 10 ms");
            return None;
        }
    }
    tokio::time::sleep(SETTLE).await;
    match server.memory() {
        Ok(m) => report.check("Idle RSS", mib(m.rss), "≤ 10 MiB", m.rss <= IDLE_RSS_TARGET),
        Err(e) => report.skipped("Idle RSS", format!("{e:#}"), "≤ 10 MiB"),
    }
    Some(server)
}

/// `value` plus an error count when some requests failed.
pub(super) fn with_errors(value: String, rate: &Rate) -> String {
    match rate.error_note() {
        Some(note) => {
            eprintln!("  {note}");
            format!("{value} ({} errors)", rate.errors)
        }
        None => value,
    }
}

impl Bench {
    pub(super) async fn http_ceiling(&mut self) {
        self.heading("HTTP ceiling: GET /_eddy/health with the same client and concurrency");
        let figure = format!("HTTP ceiling (GET /_eddy/health, {} conns)", self.conns());
        if let Err(e) = Conn::new(&self.ep).health().await {
            let why = format!("endpoint does not answer the health check ({e:#})");
            self.report.skipped(&figure, why, "");
            return;
        }
        let cpu = self.server_cpu();
        let measured =
            rate::timed(&self.ep, self.conns(), self.duration(), |conn| async move { conn.health().await.map(|()| 1) })
                .await;
        match measured {
            Ok(r) => {
                self.ceiling = Some(r.per_sec());
                let value = with_errors(format!("{} req/s", count(r.per_sec())), &r);
                self.report.info(&figure, value);
                self.ceiling_cpu_us = self.cpu_per_unit_us(cpu, &r);
                if let Some(us) = self.ceiling_cpu_us {
                    self.report.info("  server CPU per health check", format!("{us:.1} µs"));
                }
            }
            Err(e) => self.report.skipped(&figure, format!("failed: {e:#}"), ""),
        }
    }

    pub(super) async fn send_rate(&mut self) {
        self.heading("SendMessage rate: 256-byte bodies, one SendMessage per request");
        let figure = format!("SendMessage rate (256 B, {} conns)", self.conns());
        let target = "≥ 40% of HTTP ceiling";
        let (ep, conns, dur) = (self.ep.clone(), self.conns(), self.duration());
        let cpu = self.server_cpu();
        let measured = self
            .with_queue("send", |url| async move {
                let url: Arc<str> = url.into();
                let tracker = Tracker::new("send".into());
                rate::timed(&ep, conns, dur, move |conn| {
                    let (url, (_, body)) = (url.clone(), tracker.bodies(1));
                    async move { api::send_message(&conn, &url, &body[0]).await.map(|()| 1) }
                })
                .await
            })
            .await;
        let r = match measured {
            Ok(r) => r,
            Err(e) => return self.report.skipped(&figure, format!("failed: {e:#}"), target),
        };
        let rate = r.per_sec();
        let value = format!("{} msg/s", count(rate));
        match self.ceiling {
            Some(ceiling) => {
                let value = format!("{value} = {:.0}% of ceiling", 100.0 * rate / ceiling);
                let ok = rate >= SEND_TARGET * ceiling;
                self.report.check(&figure, with_errors(value, &r), target, ok);
            }
            None => self.report.info(&figure, with_errors(value, &r)),
        }
        self.send_cpu(cpu, &r);
    }

    /// Server CPU per SendMessage, and beyond a no-op request when the
    /// ceiling phase ran. The queue's creation and deletion around the
    /// phase are counted too: two requests against thousands.
    fn send_cpu(&mut self, before: Option<Duration>, r: &Rate) {
        let Some(us) = self.cpu_per_unit_us(before, r) else { return };
        self.report.info("  server CPU per SendMessage", format!("{us:.1} µs"));
        if let Some(noop) = self.ceiling_cpu_us {
            let figure = "  server CPU per SendMessage beyond a no-op request";
            let ok = us - noop <= SEND_CPU_TARGET_US;
            self.report.check(figure, format!("{:.1} µs", us - noop), "≤ 15 µs", ok);
        }
    }

    /// CPU time the spawned server has used so far (None for an endpoint
    /// that is not our child).
    fn server_cpu(&self) -> Option<Duration> {
        self.server.as_ref().and_then(|s| s.cpu_time().ok())
    }

    fn cpu_per_unit_us(&self, before: Option<Duration>, r: &Rate) -> Option<f64> {
        let used = self.server_cpu()?.checked_sub(before?)?;
        (r.units > 0).then(|| used.as_secs_f64() * 1e6 / r.units as f64)
    }

    pub(super) async fn round_trip(&mut self) {
        self.heading(
            "Batched round trip: SendMessageBatch (10 × 256 B), ReceiveMessage (10, wait 1 s), DeleteMessageBatch",
        );
        let figure = "Batched round trip (batches of 10 × 256 B)";
        let (ep, conns, dur) = (self.ep.clone(), self.conns(), self.duration());
        let tag = format!("rt-{}", self.run_id);
        let measured = self
            .with_queue("roundtrip", |url| async move {
                let tracker = Tracker::new(tag);
                let ledger = Arc::new(Ledger::new(vec![tracker.clone()]));
                let pump = Pump { queue_url: url.into(), ledger, tracker };
                let rate = roundtrip::run(&ep, conns, dur, &pump).await?;
                roundtrip::drain(&ep, conns, &pump, DRAIN_LIMIT).await?;
                Ok((rate, pump))
            })
            .await;
        let (r, pump) = match measured {
            Ok(done) => done,
            Err(e) => return self.report.skipped(figure, format!("failed: {e:#}"), "≥ 50,000 msg/s"),
        };
        self.empty_round_trip = Some(r.per_sec());
        let value = with_errors(format!("{} msg/s", count(r.per_sec())), &r);
        let ok = r.per_sec() >= ROUND_TRIP_TARGET;
        self.report.check(figure, value, "≥ 50,000 msg/s", ok);
        self.exactly_once("Round trip delivery", &pump.tracker, &pump.ledger);
    }

    /// Reports a tracker's verdict, plus anything unattributable or corrupt.
    pub(super) fn exactly_once(&mut self, figure: &str, tracker: &Tracker, ledger: &Ledger) {
        use std::sync::atomic::Ordering::Relaxed;
        let verdict = tracker.verdict();
        let corrupt = ledger.corrupt.load(Relaxed);
        let unknown = ledger.unknown.load(Relaxed);
        let mut value = verdict.to_string();
        if corrupt + unknown > 0 {
            value += &format!(", {corrupt} MD5 mismatches, {unknown} unrecognised bodies");
        }
        let ok = verdict.exactly_once() && corrupt + unknown == 0 && verdict.sent > 0;
        self.report.check(figure, value, "each message exactly once", ok);
    }

    pub(super) async fn single_op_latency(&mut self) {
        self.heading("Single-operation latency (concurrency 1)");
        let (ep, samples) = (self.ep.clone(), self.args.latency_samples as usize);
        let measured =
            self.with_queue("latency", |url| async move { latency::single_ops(&ep, &url, samples).await }).await;
        let names = ["SendMessage", "ReceiveMessage", "DeleteMessage"].map(|op| format!("{op} latency"));
        match measured {
            Ok(ops) => {
                for (name, p) in names.iter().zip([ops.send, ops.receive, ops.delete]) {
                    self.report.info(name, format!("{p} ({} samples)", p.samples));
                }
            }
            Err(e) => {
                for name in &names {
                    self.report.skipped(name, format!("failed: {e:#}"), "");
                }
            }
        }
    }

    pub(super) async fn wake_latency(&mut self) {
        self.heading("Long-poll wake-up: ReceiveMessage (wait 20 s) parked on an empty queue, then a SendMessage");
        // Across nodes the send and the poll meet at the cluster's leader,
        // one relay hop each way from a standby.
        let (figure, target, limit) = match &self.args.wake_endpoint {
            None => ("Long-poll wake-up (send issued → receiver has it)", "p99 ≤ 2 ms", WAKE_P99_TARGET),
            Some(_) => (
                "Long-poll wake-up across nodes (poll on --wake-endpoint)",
                "p99 ≤ 20 ms",
                WAKE_ACROSS_NODES_P99_TARGET,
            ),
        };
        let parked_on = match self.args.wake_endpoint.as_deref().map(crate::Endpoint::parse).transpose() {
            Ok(parked_on) => parked_on.unwrap_or_else(|| self.ep.clone()),
            Err(e) => return self.report.skipped(figure, format!("{e:#}"), target),
        };
        let (ep, samples) = (self.ep.clone(), self.args.wake_samples as usize);
        let measured =
            self.with_queue("wake", |url| async move { latency::wake(&ep, &parked_on, &url, samples).await }).await;
        let w = match measured {
            Ok(w) => w,
            Err(e) => return self.report.skipped(figure, format!("failed: {e:#}"), target),
        };
        let value = format!("{} ({} samples)", w.wake, w.wake.samples);
        let ok = w.wake.p99 <= limit;
        self.report.check(figure, value, target, ok);
        let send_figure = "  SendMessage latency in the same rounds";
        self.report.info(send_figure, w.send.to_string());
        if w.early_empty > 0 {
            let value = format!("{} long polls returned empty before the send", w.early_empty);
            self.report.info("  early returns", value);
        }
    }
}
