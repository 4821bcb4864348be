//! A stage service binary run as a real process: started with its configuration in the environment,
//! stopped the way an orchestrator does (SIGTERM) or crashed for real (SIGKILL).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running stage process; SIGKILLed on drop if still running.
pub struct StageProcess {
    name: String,
    child: Child,
    log: PathBuf,
}

impl StageProcess {
    /// Starts `binary` with `env` on top of an environment without `LEADFLOW_*` variables; its
    /// output goes to `<log_dir>/<label>.log`.
    pub fn start(
        binary: &Path,
        env: &BTreeMap<String, String>,
        log_dir: &Path,
        label: &str,
    ) -> Self {
        assert!(
            binary.exists(),
            "{} is not built (cargo build --workspace)",
            binary.display()
        );
        let log = log_dir.join(format!("{label}.log"));
        let out = File::create(&log).expect("process log file");
        let err = out.try_clone().expect("process log file");
        let mut cmd = Command::new(binary);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("LEADFLOW_")) {
            cmd.env_remove(k);
        }
        let child = cmd
            .envs(env)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Self {
            name: label.to_owned(),
            child,
            log,
        }
    }

    /// The label the process was started with (its log file's name).
    pub fn label(&self) -> &str {
        &self.name
    }

    /// The operating system's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The process's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A crash: SIGKILL (no drain, no commit, no LeaveGroup), then reaps the process.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits up to `grace` for the exit status (panics, after a SIGKILL, when the
    /// process does not exit in time).
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

impl Drop for StageProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
