//! `--spawn`: run this very binary as the server under test, to time its
//! start-up and restart and read its memory from /proc.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::http::{Endpoint, HEALTH_PATH};

/// Longest wait for a spawned server to answer before giving up.
const START_LIMIT: Duration = Duration::from_secs(30);
/// Pause between readiness probes: short next to the 10 ms start-up target,
/// long enough not to steal the CPU the starting server needs.
const PROBE_GAP: Duration = Duration::from_micros(200);

/// A child `eddy serve` with its own port and temporary data directory.
pub struct Spawned {
    child: Child,
    port: u16,
    dir: PathBuf,
    pub endpoint: Endpoint,
}

/// Resident memory of the server, from /proc/<pid>/status.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// VmRSS: resident now.
    pub rss: u64,
    /// VmHWM: the peak resident size since start.
    pub peak: u64,
}

/// The endpoint under test: `endpoint` if given, else a server spawned for
/// the run (kept alive by the returned [`Spawned`]). A spawned server that
/// is not the endpoint has no role left and is not started.
pub async fn under_test(spawn: bool, endpoint: Option<&str>) -> Result<(Endpoint, Option<Spawned>)> {
    let (ep, server) = match (endpoint, spawn) {
        (Some(url), _) => (Endpoint::parse(url)?, None),
        (None, true) => {
            let server = Spawned::start().await?.0;
            (server.endpoint.clone(), Some(server))
        }
        (None, false) => bail!("no endpoint: give --endpoint or --spawn"),
    };
    println!("endpoint under test: {ep}");
    Ok((ep, server))
}

impl Spawned {
    /// Starts the server; returns it with the time from spawn to its first
    /// successful `GET /_eddy/health`.
    pub async fn start() -> Result<(Self, Duration)> {
        let dir = std::env::temp_dir().join(format!("eddy-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("data"))?;
        let port = free_port()?;
        let endpoint = Endpoint::parse(&format!("http://127.0.0.1:{port}"))?;
        let t0 = Instant::now();
        let child = spawn(port, &dir)?;
        let (child, ready) = wait_healthy(child, endpoint.authority().to_string(), t0).await?;
        let server = Self { child, port, dir, endpoint };
        match ready {
            Ok(took) => Ok((server, took)),
            Err(why) => bail!("{why}; server log: {}", server.log_tail()),
        }
    }

    /// Kills the server and starts it again on the same (now existing) data
    /// directory; returns the time from spawn to its first healthy answer.
    pub async fn restart_timed(&mut self) -> Result<Duration> {
        self.child.kill()?;
        self.child.wait()?;
        let t0 = Instant::now();
        let child = spawn(self.port, &self.dir)?;
        let (child, ready) = wait_healthy(child, self.endpoint.authority().to_string(), t0).await?;
        self.child = child;
        ready.map_err(|why| anyhow::anyhow!("{why}; server log: {}", self.log_tail()))
    }

    /// The exit status, if the server has died.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server with SIGKILL (no chance to flush or clean up) and
    /// starts it again on the same port and data. Returns when the new
    /// process has been spawned; the caller decides what "serving" means.
    pub fn kill_and_respawn(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        self.child = spawn(self.port, &self.dir)?;
        Ok(())
    }

    pub fn memory(&self) -> Result<Memory> {
        memory_of(self.pid())
    }

    /// CPU time (user + system) the server has used so far.
    pub fn cpu_time(&self) -> Result<Duration> {
        cpu_time(&format!("/proc/{}/stat", self.pid()))
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Resident memory of any process (`--endpoint` runs name the server's pid).
pub fn memory_of(pid: u32) -> Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let field = |name: &str| -> Result<u64> {
        let line = status.lines().find(|l| l.starts_with(name));
        let kib = line.and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok());
        kib.map(|k| k * 1024).with_context(|| format!("no {name} in {path}"))
    };
    Ok(Memory { rss: field("VmRSS:")?, peak: field("VmHWM:")? })
}

/// CPU time (user + system) this bench process has used so far.
pub fn own_cpu_time() -> Result<Duration> {
    cpu_time("/proc/self/stat")
}

/// utime + stime from a /proc/<pid>/stat, in USER_HZ (100 Hz) ticks.
pub fn cpu_time(path: &str) -> Result<Duration> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    // The command name may contain spaces; the fields after it may not.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).with_context(|| format!("no ')' in {path}"))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 (from 0) after the name.
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).with_context(|| format!("bad {path}"));
    Ok(Duration::from_millis((tick(11)? + tick(12)?) * 10))
}

/// Asks the OS for a free port. Another process could take it before the
/// server binds, but on a quiet machine that race is theoretical.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn spawn(port: u16, dir: &std::path::Path) -> Result<Child> {
    let exe = std::env::current_exe().context("locating the eddy binary")?;
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("server.log"))?;
    Command::new(exe)
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("spawning eddy serve")
}

/// Probes health until it answers, on a blocking thread because tokio's
/// timer is millisecond grained, too coarse for a 10 ms budget. Returns the
/// child (it had to move to that thread, to notice if it exits) and the time
/// from `t0` to the first healthy answer, or why there was none.
async fn wait_healthy(mut child: Child, authority: String, t0: Instant) -> Result<(Child, Result<Duration, String>)> {
    let probe = move || loop {
        if health_probe(&authority) {
            return (child, Ok(t0.elapsed()));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return (child, Err(format!("server exited with {status}")));
        }
        if t0.elapsed() > START_LIMIT {
            return (child, Err(format!("no healthy answer within {START_LIMIT:?}")));
        }
        std::thread::sleep(PROBE_GAP);
    };
    Ok(tokio::task::spawn_blocking(probe).await?)
}

/// One `GET /_eddy/health` on a fresh connection; true on a 2xx status line.
fn health_probe(authority: &str) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect(authority)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let request = format!("GET {HEALTH_PATH} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes())?;
        // "HTTP/1.1 200" is all that matters.
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.") && head[9] == b'2')
    };
    attempt().unwrap_or(false)
}
