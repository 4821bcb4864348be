//! Support for end-to-end tests: start the workspace's service binaries as real processes, with their
//! configuration in the environment, and stop them the way an orchestrator does (SIGTERM).
//!
//! The binaries are the ones `cargo build --workspace` (or `cargo test --workspace`) put next to the
//! test executable; a missing binary fails the test with the command that builds it.
#![allow(clippy::panic, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use leadflow_testkit::StageProcess;

mod leak_scan;
mod pipeline_env;
pub use leak_scan::{leaks, read_logs_under, with_pii};
pub use pipeline_env::{
    StageEnv, TestTopics, notify_sandbox_vars, publish_generated_leads, publish_sample_roster,
};

/// The `/metrics` text a service serves on `127.0.0.1:port`, or `None` while it does not answer 200.
pub fn scrape(port: u16) -> Option<String> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(
        s,
        "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    let (head, body) = body.split_once("\r\n\r\n")?;
    let status = head.lines().next()?;
    status.contains(" 200").then(|| body.to_owned())
}

/// The sum of a metric's samples (every label set) in a `/metrics` text; 0 when absent.
pub fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A free loopback port for a service a test starts (outside the kernel's ephemeral range).
pub use leadflow_testkit::free_port;

/// A rep of `team` who can take any lead now: available, no working hours, every territory and
/// segment, Slack user `U<ID>`.
pub fn team_rep(id: &str, team: &str) -> leadflow_events::RepState {
    let mut r = leadflow_events::samples::rep_state();
    r.rep_id = id.into();
    r.name = format!("Rep {id}");
    r.slack_user_id = Some(format!("U{}", id.to_uppercase()));
    r.teams = vec![team.into()];
    r.territories = vec![];
    r.segments = vec![];
    r.working_hours = None;
    r.status = leadflow_events::RepStatus::Available;
    r.status_until = None;
    r
}

/// The directory holding the workspace binaries (`target/<profile>`): the current executable's
/// directory, or its parent when it is a test in `target/<profile>/deps`.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current executable path");
    let dir = exe.parent().expect("executable has a directory");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().unwrap_or(dir).to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// The path of a workspace binary, failing with how to build it when it is missing.
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    if !path.exists() {
        panic!(
            "{} is not built; run `cargo build --workspace` (scripts/test.sh does) before the end-to-end tests",
            path.display()
        );
    }
    path
}

/// A running service process (testkit's [`StageProcess`], named after its binary); SIGKILLed on
/// drop if still running.
pub struct Service {
    pub name: String,
    process: StageProcess,
}

impl Service {
    /// Starts `binary` with `env` added to a clean `LEADFLOW_*`-free environment; output goes to a log
    /// file in `log_dir`.
    pub fn start(binary: &str, env: &BTreeMap<String, String>, log_dir: &Path) -> Self {
        Self {
            name: binary.to_owned(),
            process: StageProcess::start(&bin(binary), env, log_dir, binary),
        }
    }

    /// The service's log so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// Sends SIGTERM and waits up to `grace` for the exit status.
    pub fn terminate(self, grace: Duration) -> ExitStatus {
        self.process.terminate(grace)
    }
}
