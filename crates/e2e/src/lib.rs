//! Support for end-to-end tests: start the workspace's service binaries as real processes, with their
//! configuration in the environment, and stop them the way an orchestrator does (SIGTERM).
//!
//! The binaries are the ones `cargo build --workspace` (or `cargo test --workspace`) put next to the
//! test executable; a missing binary fails the test with the command that builds it.
#![allow(clippy::panic, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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

/// A running service process; killed on drop if still running.
pub struct Service {
    pub name: String,
    child: Child,
    log: PathBuf,
}

impl Service {
    /// Starts `binary` with `env` added to a clean `LEADFLOW_*`-free environment; output goes to a log
    /// file in `log_dir`.
    pub fn start(binary: &str, env: &BTreeMap<String, String>, log_dir: &Path) -> Self {
        let log = log_dir.join(format!("{binary}.log"));
        let out = File::create(&log).expect("service log file");
        let err = out.try_clone().expect("service log file");
        let mut cmd = Command::new(bin(binary));
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("LEADFLOW_")) {
            cmd.env_remove(k);
        }
        let child = cmd
            .envs(env)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        Self {
            name: binary.to_owned(),
            child,
            log,
        }
    }

    /// The service's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM and waits up to `grace` for the exit status.
    pub fn terminate(mut self, grace: Duration) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill -TERM {} failed", self.name);
        let deadline = Instant::now() + grace;
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "{} did not exit within {grace:?} of SIGTERM; log:\n{}",
                    self.name,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
