//! Runs a measured process to its end: wall time, CPU (utime + stime), peak resident memory, and the
//! private broker's CPU over the same span, all from `/proc`.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// What one process run cost.
#[derive(Clone, Debug)]
pub struct Run {
    pub seconds: f64,
    pub cpu_seconds: f64,
    pub peak_rss_mb: f64,
    /// The broker's CPU over the run (none without a broker pid).
    pub broker_cpu_seconds: Option<f64>,
    pub stdout: String,
}

/// How often the process's `/proc` entries are read while it runs.
const POLL: Duration = Duration::from_millis(10);

/// Runs `cmd` (stdout captured, stderr inherited) to its end; fails when it exits unsuccessfully.
pub fn run(mut cmd: Command, broker: Option<u32>) -> anyhow::Result<Run> {
    let broker_cpu = || broker.map(cpu_seconds).transpose();
    let broker0 = broker_cpu()?;
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    let pid = child.id();
    let mut out = child.stdout.take().context("the child's stdout")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    // until it is a zombie: its CPU is still readable then, and gone once it is reaped
    let mut peak_kb = 0u64;
    let (seconds, cpu) = loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        if state(&stat) == Some('Z') {
            break (started.elapsed().as_secs_f64(), stat_cpu_seconds(&stat)?);
        }
        peak_kb = peak_kb.max(rss_kb(pid).unwrap_or(0));
        std::thread::sleep(POLL);
    };
    let broker1 = broker_cpu()?;
    let status = child.wait()?;
    let stdout = reader.join().unwrap_or_default();
    anyhow::ensure!(status.success(), "{cmd:?} exited with {status}");
    Ok(Run {
        seconds,
        cpu_seconds: cpu,
        peak_rss_mb: peak_kb as f64 / 1024.0,
        broker_cpu_seconds: broker0.zip(broker1).map(|(a, b)| b - a),
        stdout,
    })
}

/// utime + stime of a running process, in seconds.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    stat_cpu_seconds(&std::fs::read_to_string(format!("/proc/{pid}/stat"))?)
}

/// The state letter of a `/proc/<pid>/stat` line.
fn state(stat: &str) -> Option<char> {
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next())
}

/// utime + stime of a `/proc/<pid>/stat` line (fields 14 and 15, clock ticks), in seconds.
fn stat_cpu_seconds(stat: &str) -> anyhow::Result<f64> {
    // the command name (field 2) may hold spaces: count fields after its closing parenthesis
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("unexpected /proc stat format")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state): utime is field 14 -> index 11, stime 15 -> index 12
    let utime: f64 = fields.get(11).context("utime")?.parse()?;
    let stime: f64 = fields.get(12).context("stime")?.parse()?;
    Ok((utime + stime) / 100.0) // USER_HZ on Linux
}

/// Resident memory (`VmRSS`) in kB.
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}
