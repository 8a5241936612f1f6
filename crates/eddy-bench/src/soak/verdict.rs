//! The end of a soak: does memory stay flat? The mean RSS of an early
//! window (after warm-up) against that of the last one.

use super::tally::{Snapshot, KINDS};
use super::{Run, SoakBenchArgs};
use crate::report::Report;
use crate::stats::{count, mib};

/// Runs at least this long compare minutes 10–20 with the last 10 minutes;
/// shorter ones the second sixth with the last sixth.
const FULL_WINDOWS_MINUTES: f64 = 30.0;
/// How far the late mean may stray from the early one.
const TOLERANCE: f64 = 0.10;

#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub minute: f64,
    pub rss: u64,
}

/// Two stretches of the run, in minutes, with their names.
struct Windows {
    early: (f64, f64),
    late: (f64, f64),
    early_name: String,
    late_name: String,
}

impl Windows {
    fn for_run(minutes: f64) -> Self {
        if minutes >= FULL_WINDOWS_MINUTES {
            return Self {
                early: (10.0, 20.0),
                late: (minutes - 10.0, minutes),
                early_name: "minutes 10–20".into(),
                late_name: "last 10 min".into(),
            };
        }
        let sixth = minutes / 6.0;
        Self {
            early: (sixth, 2.0 * sixth),
            late: (5.0 * sixth, minutes),
            early_name: format!("minutes {:.1}–{:.1} (2nd sixth)", sixth, 2.0 * sixth),
            late_name: format!("minutes {:.1}–{:.1} (last sixth)", 5.0 * sixth, minutes),
        }
    }
}

/// Mean RSS of the samples within `[from, to]` minutes.
fn mean(samples: &[Sample], (from, to): (f64, f64)) -> Option<f64> {
    // Sample times drift by milliseconds past their nominal minute.
    const SLACK: f64 = 0.01;
    let inside: Vec<f64> =
        samples.iter().filter(|s| s.minute >= from - SLACK && s.minute <= to + SLACK).map(|s| s.rss as f64).collect();
    (!inside.is_empty()).then(|| inside.iter().sum::<f64>() / inside.len() as f64)
}

pub fn report(args: &SoakBenchArgs, run: &Run, tally: &Snapshot, peak: Option<u64>) {
    let mut report = Report::default();
    println!("\n== Soak result");
    if let Some(why) = &run.cut_short {
        let last = run.samples.last().map_or(0.0, |s| s.minute);
        println!("  the run stopped after {last:.1} of {} minutes: {why}", args.minutes);
    }
    let w = Windows::for_run(args.minutes as f64);
    if (args.minutes as f64) < FULL_WINDOWS_MINUTES {
        println!("  a run under 30 minutes: comparing the second sixth with the last sixth of the run");
    }
    memory_rows(&mut report, run, &w);
    if let Some(peak) = peak {
        report.info("Peak server RSS (VmHWM)", mib(peak));
    }
    report.info("Server CPU, mean over the run", format!("{:.0}% of a core", run.server_cores * 100.0));
    if let Some((first, last)) = run.bench_rss {
        report.info("Bench's own RSS, first → last sample", format!("{} → {}", mib(first), mib(last)));
    }
    total_rows(&mut report, tally);
    report.print_table();
}

fn memory_rows(report: &mut Report, run: &Run, w: &Windows) {
    let target = format!("{} within 10% of {}", w.late_name, w.early_name);
    let (early, late) = (mean(&run.samples, w.early), mean(&run.samples, w.late));
    match early {
        Some(e) => report.info(&format!("RSS mean, {}", w.early_name), mib(e as u64)),
        None => report.skipped(&format!("RSS mean, {}", w.early_name), "no samples".into(), ""),
    }
    match late {
        Some(l) => report.info(&format!("RSS mean, {}", w.late_name), mib(l as u64)),
        None => report.skipped(&format!("RSS mean, {}", w.late_name), "no samples".into(), ""),
    }
    let figure = "RSS ratio, late / early";
    match (early, late) {
        (Some(e), Some(l)) => {
            let ratio = l / e;
            let ok = (ratio - 1.0).abs() <= TOLERANCE;
            report.check(figure, format!("{ratio:.3} {}", if ok { "✓" } else { "✗" }), &target, ok);
        }
        _ => report.skipped(figure, "the run did not reach both windows".into(), &target),
    }
}

fn total_rows(report: &mut Report, tally: &Snapshot) {
    let (mut ops, mut errors) = (0, 0);
    for kind in KINDS {
        let (o, e) = tally.of(kind);
        report.info(
            &format!("{} operations / errors", kind.name()),
            format!("{} / {}", count(o as f64), count(e as f64)),
        );
        ops += o;
        errors += e;
    }
    report.info("All operations / errors", format!("{} / {}", count(ops as f64), count(errors as f64)));
}
