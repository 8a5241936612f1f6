//! `eddy bench sns`: Publish throughput to a topic fanned out to 1, 10 and
//! 100 SQS queues (counting every delivery), Publish latency per fan-out
//! width, and the time from Publish to the message being receivable in
//! every queue of a 10-queue fan-out, at light load.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use tokio::task::JoinSet;

use super::http::{Conn, Endpoint};
use super::report::Report;
use super::stats::{count, Percentiles};
use super::{api, rate, server};

const FAN_OUTS: [usize; 3] = [1, 10, 100];
const LATENCY_P99_TARGET: Duration = Duration::from_millis(1);
/// How long deliveries may lag behind the last Publish before the bench
/// calls messages missing.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(120);
/// Pause after a fan-out completes before the next latency sample.
const SETTLE: Duration = Duration::from_millis(5);

#[derive(Debug, Clone, Args)]
pub struct SnsBenchArgs {
    /// Endpoint URL; optional with --spawn.
    #[arg(long, required_unless_present = "spawn")]
    pub endpoint: Option<String>,
    /// Spawn this binary as `eddy serve` on a free port and a fresh data directory.
    #[arg(long)]
    pub spawn: bool,
    /// Concurrent publishers in the throughput phases.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..))]
    pub connections: u16,
    /// Length of each throughput phase.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub duration_secs: u64,
    /// Samples for the latency figures.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(2..))]
    pub latency_samples: u64,
}

/// A topic with `n` raw-delivery queue subscriptions whose policies allow it.
struct FanOut {
    topic_arn: String,
    queue_urls: Vec<String>,
}

pub async fn run(args: SnsBenchArgs) -> Result<()> {
    println!("eddy bench sns: {} publishers, {} s per throughput phase", args.connections, args.duration_secs);
    let (ep, server) = server::under_test(args.spawn, args.endpoint.as_deref()).await?;
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let mut report = Report::default();
    let mut per_delivery = Vec::new();
    for n in FAN_OUTS {
        println!("\n== Fan-out to {n} queue(s)");
        match fan_out_phase(&ep, &args, &run_id, n, &mut report).await {
            Ok(cost) => per_delivery.push((n, cost)),
            Err(e) => report.skipped(&format!("Publish → {n} queues"), format!("failed: {e:#}"), ""),
        }
    }
    linearity(&mut report, &per_delivery);
    println!("\n== Publish → receivable in all of 10 queues, one publish at a time");
    if let Err(e) = end_to_end(&ep, &args, &run_id, &mut report).await {
        report.skipped("Publish → receivable in 10 queues", format!("failed: {e:#}"), "≤ 1 ms p99");
    }
    report.print_table();
    drop(server);
    Ok(())
}

/// Throughput and Publish latency at one fan-out width; returns the server's
/// time per delivery (µs), to check the cost grows linearly.
async fn fan_out_phase(ep: &Endpoint, args: &SnsBenchArgs, run_id: &str, n: usize, report: &mut Report) -> Result<f64> {
    let conn = Conn::new(ep);
    let fan = setup(&conn, &format!("{run_id}-{n}"), n).await?;
    let latency = publish_latency(&conn, &fan, args.latency_samples as usize).await?;
    report.info(&format!("Publish latency, {n} subscription(s)"), latency.to_string());
    let sent_before = args.latency_samples as usize;
    let topic = Arc::new(fan.topic_arn.clone());
    // A wide fan-out multiplies the deliveries; one second of publishing keeps
    // the 100-queue phase (and its memory) bounded.
    let duration = Duration::from_secs(if n >= 100 { 1 } else { args.duration_secs });
    let started = Instant::now();
    let rate = rate::timed(ep, args.connections.into(), duration, move |c| {
        let topic = topic.clone();
        async move { publish(&c, &topic, "bench").await.map(|_| 1) }
    })
    .await?;
    // Each worker's untimed warm-up publish also fans out.
    let published = rate.units as usize + args.connections as usize + sent_before;
    let delivered = wait_delivered(&conn, &fan.queue_urls, published).await?;
    let all = started.elapsed();
    let deliveries = published * n;
    report.info(
        &format!("Publish rate, {n} subscription(s)"),
        format!("{} publishes/s, {} deliveries/s", count(rate.per_sec()), count(deliveries as f64 / all.as_secs_f64())),
    );
    let ok = delivered == deliveries;
    report.check(
        &format!("Deliveries, {n} subscription(s)"),
        format!("{delivered} of {deliveries} ({} errors)", rate.errors),
        "all delivered",
        ok,
    );
    teardown(&conn, &fan).await;
    Ok(all.as_secs_f64() * 1e6 / deliveries.max(1) as f64)
}

/// Fan-out cost per delivery should stay flat as subscriptions grow.
fn linearity(report: &mut Report, costs: &[(usize, f64)]) {
    let Some(&(_, base)) = costs.iter().find(|(n, _)| *n == 10) else { return };
    for &(n, cost) in costs.iter().filter(|(n, _)| *n == 100) {
        let ratio = cost / base;
        report.check(
            &format!("Time per delivery at {n} vs 10 subscriptions"),
            format!("{cost:.1} µs vs {base:.1} µs ({ratio:.2}×)"),
            "≤ 1.5× (linear)",
            ratio <= 1.5,
        );
    }
}

/// Publish returns → the message can be received from every one of 10
/// queues (long polls waiting in each).
async fn end_to_end(ep: &Endpoint, args: &SnsBenchArgs, run_id: &str, report: &mut Report) -> Result<()> {
    let conn = Conn::new(ep);
    let fan = setup(&conn, &format!("{run_id}-e2e"), 10).await?;
    let (mut first, mut all) = (Vec::new(), Vec::new());
    let receivers: Vec<Conn> = fan.queue_urls.iter().map(|_| Conn::new(ep)).collect();
    for i in 0..args.latency_samples {
        let body = format!("e2e-{i}");
        let mut waits = JoinSet::new();
        for (conn, url) in receivers.iter().zip(&fan.queue_urls) {
            let (conn, url) = (conn.clone(), url.clone());
            waits.spawn(async move {
                let got = api::receive(&conn, &url, 1, 5, None).await?;
                let at = Instant::now();
                let m = got.into_iter().next().context("nothing received within 5 s")?;
                api::delete_message(&conn, &url, &m.receipt_handle).await?;
                anyhow::Ok(at)
            });
        }
        // Let the long polls reach the server before publishing.
        tokio::time::sleep(Duration::from_millis(2)).await;
        publish(&conn, &fan.topic_arn, &body).await?;
        let returned = Instant::now();
        let mut arrivals = Vec::new();
        while let Some(r) = waits.join_next().await {
            arrivals.push(r??);
        }
        let since = |t: &Instant| t.saturating_duration_since(returned);
        first.push(arrivals.iter().map(since).min().unwrap_or_default());
        all.push(arrivals.iter().map(since).max().unwrap_or_default());
    }
    let (first, all) = (Percentiles::of(first).context("no samples")?, Percentiles::of(all).context("no samples")?);
    report.info("Publish → receivable in the first of 10 queues", first.to_string());
    report.check("Publish → receivable in all 10 queues", all.to_string(), "≤ 1 ms p99", all.p99 <= LATENCY_P99_TARGET);
    teardown(&conn, &fan).await;
    Ok(())
}

/// Publish latency at light load: after each Publish the bench waits for
/// its fan-out to be done, so the figure is Publish's own cost and not the
/// CPU the previous message's deliveries take on the same cores.
async fn publish_latency(conn: &Conn, fan: &FanOut, samples: usize) -> Result<Percentiles> {
    let mut took = Vec::with_capacity(samples);
    for i in 0..samples {
        let t0 = Instant::now();
        publish(conn, &fan.topic_arn, "latency").await?;
        took.push(t0.elapsed());
        wait_delivered(conn, &fan.queue_urls, i + 1).await?;
        // The fan-out's own fsyncs and job cleanup finish just after.
        tokio::time::sleep(SETTLE).await;
    }
    Percentiles::of(took).context("no samples")
}

async fn setup(conn: &Conn, name: &str, n: usize) -> Result<FanOut> {
    let topic_arn =
        xml_text(&conn.query(&[("Action", "CreateTopic"), ("Name", &format!("bench-{name}"))]).await?, "TopicArn")?;
    let mut queue_urls = Vec::with_capacity(n);
    for i in 0..n {
        let url = api::create_queue(conn, &format!("bench-{name}-{i}")).await?;
        subscribe_queue(conn, &topic_arn, &url).await?;
        queue_urls.push(url);
    }
    Ok(FanOut { topic_arn, queue_urls })
}

/// Lets the topic send into the queue (the policy AWS documents: the
/// sns.amazonaws.com principal, conditioned on aws:SourceArn) and subscribes
/// it with raw delivery.
pub(super) async fn subscribe_queue(conn: &Conn, topic_arn: &str, url: &str) -> Result<()> {
    let arn = api::queue_attribute(conn, url, "QueueArn").await?;
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}
    }]});
    api::set_queue_attribute(conn, url, "Policy", &policy.to_string()).await?;
    conn.query(&[
        ("Action", "Subscribe"),
        ("TopicArn", topic_arn),
        ("Protocol", "sqs"),
        ("Endpoint", &arn),
        ("Attributes.entry.1.key", "RawMessageDelivery"),
        ("Attributes.entry.1.value", "true"),
    ])
    .await?;
    Ok(())
}

async fn teardown(conn: &Conn, fan: &FanOut) {
    let _ = conn.query(&[("Action", "DeleteTopic"), ("TopicArn", &fan.topic_arn)]).await;
    for url in &fan.queue_urls {
        let _ = api::delete_queue(conn, url).await;
    }
}

pub(super) async fn publish(conn: &Conn, topic: &str, message: &str) -> Result<()> {
    conn.query(&[("Action", "Publish"), ("TopicArn", topic), ("Message", message)]).await.map(|_| ())
}

/// Waits until the queues hold `per_queue` messages each; the total found.
async fn wait_delivered(conn: &Conn, urls: &[String], per_queue: usize) -> Result<usize> {
    let deadline = Instant::now() + DELIVERY_DEADLINE;
    loop {
        let mut total = 0;
        for url in urls {
            total += api::queue_attribute(conn, url, "ApproximateNumberOfMessages").await?.parse::<usize>()?;
        }
        if total >= per_queue * urls.len() || Instant::now() > deadline {
            return Ok(total);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The text of the first `<tag>` element (the bench needs only TopicArn).
pub(super) fn xml_text(body: &[u8], tag: &str) -> Result<String> {
    let text = String::from_utf8_lossy(body);
    let open = format!("<{tag}>");
    let start = text.find(&open).map(|i| i + open.len()).context("no element in the response")?;
    let end = text[start..].find('<').map(|i| start + i).context("unterminated element")?;
    Ok(text[start..end].to_string())
}
