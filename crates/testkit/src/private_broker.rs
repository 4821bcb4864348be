//! A tansu broker owned by one test: its own free port and fresh storage in a temp dir (a SQLite
//! file, or a private PostgreSQL cluster run by `scripts/broker.sh pg-start`), so the test can stop,
//! kill and restart it without disturbing the shared broker.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::broker::kafka_answers;
use crate::ports::free_port;

const INSTALL: &str = "scripts/broker.sh install (cargo install tansu@0.6.0 --locked \
                       --features dynostore,libsql,postgres, and tansu's PostgreSQL schema)";

/// tansu's storage engine. Both survive a broker restart with their data; they differ in what a
/// restart under idempotent producers does (docs/BROKER.md 3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BrokerEngine {
    /// A SQLite file in the broker's directory.
    #[default]
    Sqlite,
    /// A private PostgreSQL (16 or later, docs/BROKER.md 6) cluster in the broker's directory,
    /// on a free 127.0.0.1 port; it keeps running across `stop`/`restart`/`kill` of tansu and is
    /// stopped when the broker is dropped.
    Postgres,
}

impl fmt::Display for BrokerEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BrokerEngine::Sqlite => "sqlite",
            BrokerEngine::Postgres => "postgres",
        })
    }
}

impl FromStr for BrokerEngine {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sqlite" => Ok(BrokerEngine::Sqlite),
            "postgres" | "postgresql" => Ok(BrokerEngine::Postgres),
            other => Err(format!(
                "unknown broker engine {other:?} (sqlite or postgres)"
            )),
        }
    }
}

fn broker_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/broker.sh")
}
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_GRACE: Duration = Duration::from_secs(10);

/// The tansu executable: `LEADFLOW_TANSU`, then `PATH`, then `~/.cargo/bin`.
pub fn find_tansu() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LEADFLOW_TANSU").map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("tansu"));
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin").join("tansu"));
    on_path.chain(cargo_home).find(|p| p.is_file())
}

/// A running (or stopped) private tansu; dropping it kills the process and deletes its data.
pub struct PrivateBroker {
    tansu: PathBuf,
    dir: TempDir,
    port: u16,
    engine: BrokerEngine,
    storage: String,
    child: Option<Child>,
}

impl PrivateBroker {
    /// Starts tansu on a free port with a fresh SQLite file; waits until it answers Kafka requests.
    pub fn start() -> Self {
        Self::start_with(BrokerEngine::Sqlite)
    }

    /// Starts tansu on a free port with fresh storage on `engine`; waits until it answers Kafka
    /// requests. Panics when tansu (or, for PostgreSQL, the database or tansu's schema) is missing.
    pub fn start_with(engine: BrokerEngine) -> Self {
        let tansu = find_tansu().unwrap_or_else(|| {
            panic!(
                "tansu is not installed (looked in LEADFLOW_TANSU, PATH and ~/.cargo/bin); install it: {INSTALL}"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("leadflow-private-broker-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir for a private broker: {e}"));
        let storage = match engine {
            BrokerEngine::Sqlite => "sqlite://broker.db".to_owned(),
            BrokerEngine::Postgres => start_postgres(dir.path()),
        };
        let mut broker = Self {
            tansu,
            dir,
            port: free_port(),
            engine,
            storage,
            child: None,
        };
        let mut last_error = String::new();
        // a port found free may be taken before tansu binds it; try a few
        for _ in 0..3 {
            match broker.spawn() {
                Ok(()) => return broker,
                Err(e) => {
                    last_error = e;
                    broker.port = free_port();
                }
            }
        }
        panic!("private tansu broker did not start: {last_error}");
    }

    /// `127.0.0.1:<port>`, stable across restarts.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The storage engine it runs on.
    pub fn engine(&self) -> BrokerEngine {
        self.engine
    }

    /// The SQLite file holding the broker's data (with `BrokerEngine::Sqlite`).
    pub fn data_file(&self) -> PathBuf {
        self.dir.path().join("broker.db")
    }

    /// The broker's combined stdout/stderr (appended to across restarts).
    pub fn log_file(&self) -> PathBuf {
        self.dir.path().join("tansu.log")
    }

    /// The broker process's id while it runs (to read its CPU time).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(Child::try_wait), Some(Ok(None)))
    }

    /// Graceful stop: SIGTERM, then SIGKILL if it is still running after 10 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Crash: SIGKILL at once, no chance to flush anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the broker (gracefully) and starts it again on the same port with the same data file.
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match self.spawn() {
                Ok(()) => return,
                // the old socket may linger for a moment
                Err(e) if Instant::now() < deadline => {
                    eprintln!("testkit: private broker restart: {e}; retrying");
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => panic!("private tansu broker did not restart: {e}"),
            }
        }
    }

    /// Starts the process if it is not running (after `stop` or `kill`) and waits until it answers.
    pub fn ensure_started(&mut self) {
        if !self.is_running() {
            self.restart();
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_file())
            .map_err(|e| format!("cannot open {}: {e}", self.log_file().display()))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cannot open the log twice: {e}"))?;
        let url = format!("tcp://127.0.0.1:{}", self.port);
        // tansu resolves sqlite:// paths against its working directory
        let child = Command::new(&self.tansu)
            .current_dir(self.dir.path())
            .args([
                "broker",
                "--cluster-id",
                "leadflow-test",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                &self.storage,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.tansu.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if kafka_answers(&self.bootstrap(), Duration::from_secs(1)).is_ok() {
                return Ok(());
            }
            if !self.is_running() {
                self.child = None;
                return Err(format!(
                    "tansu exited during start-up; log:\n{}",
                    log_tail(&self.log_file())
                ));
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(format!(
                    "tansu did not answer on {} within {READY_TIMEOUT:?}; log:\n{}",
                    self.bootstrap(),
                    log_tail(&self.log_file())
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        self.kill();
        if self.engine == BrokerEngine::Postgres {
            let _ = Command::new(broker_script())
                .args(["pg-stop", "--state-dir"])
                .arg(self.dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .status();
        }
    }
}

/// Runs `scripts/broker.sh pg-start` on `dir` (initdb, a free port, tansu's schema) and returns
/// tansu's storage URL.
fn start_postgres(dir: &Path) -> String {
    // as root the cluster runs as the postgres user, which must reach the directory
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    }
    let out = Command::new(broker_script())
        .args(["pg-start", "--state-dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", broker_script().display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let url = stdout.lines().last().unwrap_or("").trim().to_owned();
    if !out.status.success() || !url.starts_with("postgres://") {
        panic!(
            "PostgreSQL for a private broker did not start ({}): {}{}\ninstall what is missing: \
             apt-get install postgresql, then {INSTALL}",
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    url
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
