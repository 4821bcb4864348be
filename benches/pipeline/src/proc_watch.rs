//! Runs a measured process to its end: wall time, CPU (utime + stime), peak resident memory, and the
//! private broker's CPU over the same span, all from `/proc`.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::procstat;

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
    let broker_cpu = || broker.map(procstat::cpu_seconds).transpose();
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
        if procstat::state(&stat) == Some('Z') {
            break (
                started.elapsed().as_secs_f64(),
                procstat::stat_cpu_seconds(&stat)?,
            );
        }
        peak_kb = peak_kb.max(procstat::rss_bytes(pid).unwrap_or(0) / 1024);
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
