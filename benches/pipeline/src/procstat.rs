//! What a process costs, from `/proc`: CPU seconds (utime + stime) and resident memory. Each
//! harness binary uses part of it.
#![allow(dead_code)]

use anyhow::Context as _;

/// utime + stime of a process, in seconds (`/proc/<pid>/stat`, fields 14 and 15, in clock ticks).
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    stat_cpu_seconds(&std::fs::read_to_string(format!("/proc/{pid}/stat"))?)
}

/// The state letter of a `/proc/<pid>/stat` line (`Z` for a zombie).
pub fn state(stat: &str) -> Option<char> {
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next())
}

/// utime + stime of a `/proc/<pid>/stat` line, in seconds.
pub fn stat_cpu_seconds(stat: &str) -> anyhow::Result<f64> {
    // the command name (field 2) may hold spaces: count fields after its closing parenthesis
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("unexpected /proc stat format")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state): utime is field 14 -> index 11, stime 15 -> index 12
    let utime: f64 = fields.get(11).context("utime")?.parse()?;
    let stime: f64 = fields.get(12).context("stime")?.parse()?;
    let ticks = 100.0; // USER_HZ on Linux
    Ok((utime + stime) / ticks)
}

/// Resident memory of a process in bytes (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}
