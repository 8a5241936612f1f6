//! `eddy bench events`: PutEvents in batches of 10 on a bus with 1, 10, 100
//! and 1,000 rules. One rule matches every event and sends it to an SQS
//! queue; the others watch sources the events never carry, so the rates
//! show what rules that cannot match cost. Then put → receivable in the
//! queue, one event at a time, on the 100-rule bus.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::{json, Value};

use super::http::{Conn, Endpoint};
use super::report::Report;
use super::stats::{count, Percentiles};
use super::{api, rate, server};

const RULE_COUNTS: [usize; 4] = [1, 10, 100, 1000];
/// Events per PutEvents call (AWS's maximum).
const BATCH: usize = 10;
const RATE_TARGET: f64 = 20_000.0;
const RATE_TARGET_RULES: usize = 100;
const LATENCY_P99_TARGET: Duration = Duration::from_millis(5);
/// How long deliveries may lag behind the last PutEvents before the bench
/// calls events missing.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(120);
/// Pause after a phase, for the server to finish deleting its queue's
/// messages (about 200,000; a purge of that size takes about a second) and
/// the store to compact after them.
const SETTLE: Duration = Duration::from_secs(5);
/// The server setting the 1,000-rule phase needs raised (`--events-rules-per-bus`).
const RULES_PER_BUS_VAR: &str = "EDDY_EVENTS_RULES_PER_BUS";
/// The source every benchmark event carries; the one rule that matches.
const HIT: &str = "bench.hit";

#[derive(Debug, Clone, Args)]
pub struct EventsBenchArgs {
    /// Endpoint URL; optional with --spawn.
    #[arg(long, required_unless_present = "spawn")]
    pub endpoint: Option<String>,
    /// Spawn this binary as `eddy serve` on a free port and a fresh data directory.
    #[arg(long)]
    pub spawn: bool,
    /// Concurrent PutEvents callers in the throughput phases.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub connections: u16,
    /// Length of each throughput phase.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub duration_secs: u64,
    /// Samples for the put → receivable figure.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(2..))]
    pub latency_samples: u64,
}

/// A custom bus whose rules all send to one queue.
struct Bus {
    name: String,
    queue_url: String,
}

pub async fn run(args: EventsBenchArgs) -> Result<()> {
    println!("eddy bench events: {} callers, {} s per throughput phase", args.connections, args.duration_secs);
    if args.spawn && std::env::var_os(RULES_PER_BUS_VAR).is_none() {
        // AWS's default quota is 300 rules per bus; the 1,000-rule phase
        // needs a raised one, as an account would have. Set before any
        // thread reads the environment.
        std::env::set_var(RULES_PER_BUS_VAR, "1000");
    }
    let (ep, server) = server::under_test(args.spawn, args.endpoint.as_deref()).await?;
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let mut report = Report::default();
    let mut per_event = Vec::new();
    for rules in RULE_COUNTS {
        println!("\n== PutEvents on a bus with {rules} rule(s)");
        match throughput_phase(&ep, &args, &format!("{run_id}-{rules}"), rules, &mut report).await {
            Ok(accepted_per_sec) => per_event.push((rules, accepted_per_sec)),
            Err(e) => report.skipped(&format!("PutEvents, {rules} rules"), format!("failed: {e:#}"), ""),
        }
    }
    matching_cost(&mut report, &per_event);
    println!("\n== PutEvents → receivable in the SQS target, one event at a time, {RATE_TARGET_RULES} rules");
    if let Err(e) = end_to_end(&ep, &args, &run_id, &mut report).await {
        report.skipped("PutEvents → receivable", format!("failed: {e:#}"), "≤ 5 ms p99");
    }
    report.print_table();
    drop(server);
    Ok(())
}

/// Events accepted and delivered per second with `rules` rules on the bus;
/// returns the accepted rate.
async fn throughput_phase(
    ep: &Endpoint,
    args: &EventsBenchArgs,
    name: &str,
    rules: usize,
    report: &mut Report,
) -> Result<f64> {
    let conn = Conn::new(ep);
    let bus = setup(&conn, name, rules).await?;
    let bus_name = Arc::new(bus.name.clone());
    let started = Instant::now();
    let rate = rate::timed(ep, args.connections.into(), Duration::from_secs(args.duration_secs), move |c| {
        let bus_name = bus_name.clone();
        async move { put_events(&c, &bus_name, BATCH).await }
    })
    .await?;
    // Each caller's untimed warm-up call is delivered too.
    let accepted = rate.units as usize + args.connections as usize * BATCH;
    let delivered = wait_delivered(&conn, &bus.queue_url, accepted).await?;
    let all = started.elapsed();
    report.info(
        &format!("PutEvents, {rules} rule(s)"),
        format!(
            "{} events/s accepted, {} events/s delivered to SQS",
            count(rate.per_sec()),
            count(accepted as f64 / all.as_secs_f64())
        ),
    );
    report.check(
        &format!("Deliveries, {rules} rule(s)"),
        format!("{delivered} of {accepted} ({} errors)", rate.errors),
        "all delivered",
        delivered == accepted,
    );
    if rules == RATE_TARGET_RULES {
        let delivered_rate = accepted as f64 / all.as_secs_f64();
        report.check(
            &format!("Accepted and delivered, {rules} rules"),
            format!("{} events/s", count(delivered_rate.min(rate.per_sec()))),
            "≥ 20,000 events/s",
            delivered_rate.min(rate.per_sec()) >= RATE_TARGET,
        );
    }
    teardown(&conn, &bus).await;
    Ok(rate.per_sec())
}

/// The rules that cannot match should cost (almost) nothing: the accepted
/// rate with 1,000 rules against the rate with one.
fn matching_cost(report: &mut Report, rates: &[(usize, f64)]) {
    let rate_of = |n: usize| rates.iter().find(|(r, _)| *r == n).map(|(_, rate)| *rate);
    let (Some(one), Some(many)) = (rate_of(1), rate_of(1000)) else { return };
    // Wall time per event at the callers' concurrency; the difference over
    // the 999 extra rules is what each one adds.
    let per_rule_ns = (1e9 / many - 1e9 / one) / 999.0;
    report.info("Matching cost per event per rule that cannot match", format!("{per_rule_ns:.1} ns"));
    let ratio = many / one;
    report.check(
        "Accepted rate, 1,000 rules vs 1 rule",
        format!("{} vs {} events/s ({ratio:.2}×)", count(many), count(one)),
        "≥ 0.8× (flat in rules that cannot match)",
        ratio >= 0.8,
    );
}

/// From the start of PutEvents to the event being received by a long poll
/// already waiting on the target queue.
async fn end_to_end(ep: &Endpoint, args: &EventsBenchArgs, run_id: &str, report: &mut Report) -> Result<()> {
    let conn = Conn::new(ep);
    let bus = setup(&conn, &format!("{run_id}-e2e"), RATE_TARGET_RULES).await?;
    let receiver = Conn::new(ep);
    let (mut puts, mut arrivals) = (Vec::new(), Vec::new());
    for _ in 0..args.latency_samples {
        let (receiver, url) = (receiver.clone(), bus.queue_url.clone());
        let wait = tokio::spawn(async move {
            let got = api::receive(&receiver, &url, 1, 5, None).await?;
            let at = Instant::now();
            let m = got.into_iter().next().context("nothing received within 5 s")?;
            api::delete_message(&receiver, &url, &m.receipt_handle).await?;
            anyhow::Ok(at)
        });
        // Let the long poll reach the server before putting.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let t0 = Instant::now();
        put_events(&conn, &bus.name, 1).await?;
        puts.push(t0.elapsed());
        arrivals.push(wait.await??.saturating_duration_since(t0));
    }
    let puts = Percentiles::of(puts).context("no samples")?;
    let arrivals = Percentiles::of(arrivals).context("no samples")?;
    report.info("PutEvents latency (1 event)", puts.to_string());
    report.check(
        "PutEvents → receivable in the SQS target",
        arrivals.to_string(),
        "≤ 5 ms p99",
        arrivals.p99 <= LATENCY_P99_TARGET,
    );
    teardown(&conn, &bus).await;
    Ok(())
}

/// A bus, a queue whose policy lets the bus's rules send to it, the rule
/// that matches every benchmark event and `rules - 1` that match none.
async fn setup(conn: &Conn, name: &str, rules: usize) -> Result<Bus> {
    let bus = format!("bench-{name}");
    let _: Value = conn.json("AWSEvents.CreateEventBus", &json!({"Name": bus})).await?;
    let queue_url = api::create_queue(conn, &format!("bench-events-{name}")).await?;
    let queue_arn = api::queue_attribute(conn, &queue_url, "QueueArn").await?;
    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": queue_arn, "Condition": {"ArnLike": {"aws:SourceArn": format!("arn:aws:events:*:*:rule/{bus}/*")}}
    }]});
    api::set_queue_attribute(conn, &queue_url, "Policy", &policy.to_string()).await?;
    put_rule(conn, &bus, "hit", &json!({"source": [HIT]}), &queue_arn).await?;
    for i in 1..rules {
        let pattern = json!({"source": [format!("bench.miss.{i}")], "detail-type": ["never"]});
        put_rule(conn, &bus, &format!("miss-{i:04}"), &pattern, &queue_arn).await?;
    }
    Ok(Bus { name: bus, queue_url })
}

async fn put_rule(conn: &Conn, bus: &str, name: &str, pattern: &Value, target_arn: &str) -> Result<()> {
    let rule = json!({"Name": name, "EventBusName": bus, "EventPattern": pattern.to_string()});
    let _: Value = conn.json("AWSEvents.PutRule", &rule).await?;
    let targets = json!({"Rule": name, "EventBusName": bus, "Targets": [{"Id": "queue", "Arn": target_arn}]});
    let resp: Value = conn.json("AWSEvents.PutTargets", &targets).await?;
    if resp["FailedEntryCount"].as_u64() != Some(0) {
        bail!("PutTargets failed: {resp}");
    }
    Ok(())
}

async fn teardown(conn: &Conn, bus: &Bus) {
    // DeleteEventBus takes the rules with it; the queue's messages are
    // deleted in the background, which the next phase should not pay for.
    let _: Result<Value> = conn.json("AWSEvents.DeleteEventBus", &json!({"Name": bus.name})).await;
    let _ = api::delete_queue(conn, &bus.queue_url).await;
    tokio::time::sleep(SETTLE).await;
}

/// PutEvents of `n` events on `bus`; how many were accepted.
async fn put_events(conn: &Conn, bus: &str, n: usize) -> Result<u64> {
    let entries: Vec<Value> = (0..n)
        .map(|i| json!({"Source": HIT, "DetailType": "bench", "Detail": format!("{{\"n\":{i}}}"), "EventBusName": bus}))
        .collect();
    let resp: Value = conn.json("AWSEvents.PutEvents", &json!({"Entries": entries})).await?;
    let failed = resp["FailedEntryCount"].as_u64().context("no FailedEntryCount")?;
    if failed > 0 {
        bail!("{failed} of {n} entries failed: {}", resp["Entries"]);
    }
    Ok(n as u64)
}

/// Waits until the queue holds `expected` messages; the number found.
async fn wait_delivered(conn: &Conn, url: &str, expected: usize) -> Result<usize> {
    let deadline = Instant::now() + DELIVERY_DEADLINE;
    loop {
        let found = api::queue_attribute(conn, url, "ApproximateNumberOfMessages").await?.parse::<usize>()?;
        if found >= expected || Instant::now() > deadline {
            return Ok(found);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
