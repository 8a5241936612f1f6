//! `eddy bench disk`: what one fdatasync costs on the disk under a data
//! directory, in time and in CPU, and so the least fsync CPU an
//! acknowledged write can carry. A group commit makes many writes durable
//! with one fdatasync, but no more of them than there are requests in
//! flight: with C connections each fsync'd SendMessage carries at least
//! (CPU of one fdatasync) / C. That floor is part of the server CPU per
//! SendMessage that `eddy bench sqs` reports under `--durability fsync`.
//!
//! Two passes of small writes, each followed by an fdatasync, the way a
//! journal is written: appending to a growing file (the file's size and
//! blocks change with every sync, so the inode is written too), then
//! overwriting a file written out in advance (data and cache flush only).
//! The CPU is the measuring thread's own user + system time: an fdatasync's
//! work on the calling thread (submitting the writes, waiting, waking).

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;

use super::report::Report;
use super::stats::Percentiles;

#[derive(Debug, Clone, Args)]
pub struct DiskBenchArgs {
    /// Directory on the disk to measure (a scratch file is created and
    /// removed in it); by default the current directory.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// fdatasyncs per pass.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub writes: u64,
    /// Bytes written before each fdatasync (a small journal entry).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub write_bytes: u64,
    /// Requests in flight (the connections of `eddy bench sqs`): the most a
    /// group commit can cover with one fdatasync.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub connections: u16,
}

/// One pass: latency of write + fdatasync, and the thread's resources per call.
struct Pass {
    latency: Percentiles,
    cpu_per_sync: Duration,
    waits_per_sync: f64,
}

pub async fn run(args: DiskBenchArgs) -> Result<()> {
    // Blocking file I/O on a thread of its own: its CPU is then all ours.
    tokio::task::spawn_blocking(move || measure(&args)).await.context("disk bench thread")?
}

fn measure(args: &DiskBenchArgs) -> Result<()> {
    let mut report = Report::default();
    println!(
        "== fdatasync on {} ({} B per write, {} writes per pass)",
        args.dir.display(),
        args.write_bytes,
        args.writes
    );
    let scratch = args.dir.join(format!(".eddy-bench-disk-{}", std::process::id()));
    let result = passes(args, &scratch, &mut report);
    let _ = std::fs::remove_file(&scratch);
    result?;
    println!();
    report.print_table();
    Ok(())
}

fn passes(args: &DiskBenchArgs, scratch: &Path, report: &mut Report) -> Result<()> {
    let mut append = None;
    for (name, prewritten) in [("appending", false), ("overwriting a pre-written file", true)] {
        let pass = pass(scratch, args, prewritten)?;
        report.info(&format!("fdatasync latency, {name}"), pass.latency.to_string());
        report.info(
            &format!("  CPU per fdatasync, {name}"),
            format!("{:.1} µs, {:.2} waits", pass.cpu_per_sync.as_secs_f64() * 1e6, pass.waits_per_sync),
        );
        append.get_or_insert(pass);
    }
    if let Some(append) = append {
        let floor = append.cpu_per_sync.as_secs_f64() * 1e6 / f64::from(args.connections);
        report.info(
            &format!("fsync CPU floor per acknowledged write, {} in flight", args.connections),
            format!("{floor:.1} µs (one appending fdatasync shared by all {})", args.connections),
        );
    }
    Ok(())
}

fn pass(path: &Path, args: &DiskBenchArgs, prewritten: bool) -> Result<Pass> {
    let _ = std::fs::remove_file(path);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    let entry = vec![0x5a_u8; args.write_bytes as usize];
    if prewritten {
        prewrite(&mut file, args.writes * args.write_bytes)?;
    }
    let (cpu_before, waits_before) = (thread_cpu()?, thread_waits()?);
    let mut samples = Vec::with_capacity(args.writes as usize);
    for _ in 0..args.writes {
        let started = Instant::now();
        file.write_all(&entry).context("writing")?;
        file.sync_data().context("fdatasync")?;
        samples.push(started.elapsed());
    }
    let (cpu, waits) = (thread_cpu()?.saturating_sub(cpu_before), thread_waits()? - waits_before);
    Ok(Pass {
        latency: Percentiles::of(samples).context("no samples")?,
        cpu_per_sync: cpu / args.writes as u32,
        waits_per_sync: waits as f64 / args.writes as f64,
    })
}

/// Zeros over the whole region the pass will write, made durable, then
/// back to the start: later writes allocate nothing and change no size.
fn prewrite(file: &mut File, bytes: u64) -> Result<()> {
    let chunk = vec![0_u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n]).context("pre-writing")?;
        left -= n as u64;
    }
    file.sync_all().context("fsync of the pre-written file")?;
    file.seek(SeekFrom::Start(0)).context("seeking")?;
    Ok(())
}

/// This thread's user + system time (`/proc/thread-self/stat`, 10 ms ticks:
/// a pass takes seconds of wall time and tens of milliseconds of CPU or more).
fn thread_cpu() -> Result<Duration> {
    super::server::cpu_time("/proc/thread-self/stat")
}

/// How often this thread has slept waiting (voluntary context switches).
fn thread_waits() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/thread-self/status").context("reading /proc/thread-self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .context("no voluntary_ctxt_switches in /proc/thread-self/status")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_times_every_write_and_leaves_the_written_bytes() {
        let dir = std::env::temp_dir().join(format!("eddy-bench-disk-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let args = DiskBenchArgs { dir: dir.clone(), writes: 10, write_bytes: 100, connections: 4 };
        for prewritten in [false, true] {
            let path = dir.join("scratch");
            let pass = pass(&path, &args, prewritten).unwrap();
            assert_eq!(pass.latency.samples, 10);
            assert!(pass.latency.p50 > Duration::ZERO);
            // Appending grows the file by each write; overwriting stays within the pre-written zeros.
            assert_eq!(std::fs::metadata(&path).unwrap().len(), 1_000);
            let written = std::fs::read(&path).unwrap();
            assert!(written.iter().all(|&b| b == 0x5a));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
