//! The stage processes under chaos: started, SIGKILLed at random, restarted after a delay
//! (sometimes as two instances), and stopped with SIGTERM at the end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use leadflow_testkit::StageProcess;
use rand::Rng;

/// How one stage is started.
#[derive(Clone, Debug)]
pub struct Spec {
    /// `enrich`, `route-reassign`, ... (the binary is `leadflow-<name>`).
    pub name: &'static str,
    pub env: BTreeMap<String, String>,
}

struct Instance {
    spec: usize,
    label: String,
    process: StageProcess,
}

/// What happened to the fleet during the run.
#[derive(Clone, Debug, Default)]
pub struct FleetLog {
    /// (stage, pid) of every SIGKILL sent.
    pub kills: Vec<(String, u32)>,
    /// Processes started after the first start (restarts and second instances).
    pub restarts: usize,
    pub second_instances: usize,
    /// Processes that exited without being killed (label, status).
    pub unexpected_exits: Vec<(String, String)>,
}

pub struct Fleet {
    bin_dir: PathBuf,
    log_dir: PathBuf,
    specs: Vec<Spec>,
    running: Vec<Instance>,
    /// Restarts owed per stage (index), started once `restart_delay` has passed since the stage's
    /// latest kill.
    owed: BTreeMap<usize, usize>,
    last_kill: BTreeMap<usize, Instant>,
    starts: BTreeMap<usize, usize>,
    pub log: FleetLog,
}

impl Fleet {
    pub fn new(bin_dir: &Path, log_dir: &Path, specs: Vec<Spec>) -> Self {
        Self {
            bin_dir: bin_dir.to_path_buf(),
            log_dir: log_dir.to_path_buf(),
            specs,
            running: Vec::new(),
            owed: BTreeMap::new(),
            last_kill: BTreeMap::new(),
            starts: BTreeMap::new(),
            log: FleetLog::default(),
        }
    }

    /// Starts one instance of every stage.
    pub fn start_all(&mut self) {
        for i in 0..self.specs.len() {
            self.start(i);
        }
    }

    fn start(&mut self, spec: usize) {
        let n = self.starts.entry(spec).or_default();
        *n += 1;
        let name = self.specs[spec].name;
        let label = format!("{name}-{n}");
        let binary = self.bin_dir.join(format!("leadflow-{name}"));
        let process = StageProcess::start(&binary, &self.specs[spec].env, &self.log_dir, &label);
        self.running.push(Instance {
            spec,
            label,
            process,
        });
    }

    /// Waits until every running instance logged a partition assignment (its group formed).
    pub fn wait_assigned(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let waiting: Vec<&str> = self
                .running
                .iter()
                .filter(|i| !i.process.log().contains("partitions assigned"))
                .map(|i| i.label.as_str())
                .collect();
            if waiting.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no partition assignment within {timeout:?}: {waiting:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGKILLs a random running instance and owes its stage a restart.
    pub fn kill_random(&mut self, rng: &mut impl Rng) -> Option<(String, u32)> {
        if self.running.is_empty() {
            return None;
        }
        let i = rng.random_range(0..self.running.len());
        let mut inst = self.running.swap_remove(i);
        let pid = inst.process.pid();
        inst.process.kill();
        *self.owed.entry(inst.spec).or_default() += 1;
        self.last_kill.insert(inst.spec, Instant::now());
        let what = (inst.label.clone(), pid);
        self.log.kills.push(what.clone());
        Some(what)
    }

    /// Starts the restarts that are due; with probability `second` a restart brings a stage that
    /// has one instance to two.
    pub fn restart_due(&mut self, delay: Duration, second: f64, rng: &mut impl Rng) -> Vec<String> {
        let mut started = Vec::new();
        let due: Vec<usize> = self
            .owed
            .iter()
            .filter(|(spec, n)| {
                **n > 0
                    && self
                        .last_kill
                        .get(spec)
                        .is_none_or(|t| t.elapsed() >= delay)
            })
            .map(|(spec, _)| *spec)
            .collect();
        for spec in due {
            let owed = self.owed.remove(&spec).unwrap_or(0);
            for _ in 0..owed {
                self.start(spec);
                self.log.restarts += 1;
                started.push(
                    self.running
                        .last()
                        .map(|i| i.label.clone())
                        .unwrap_or_default(),
                );
            }
            let now_running = self.running.iter().filter(|i| i.spec == spec).count();
            if now_running == 1 && rng.random_bool(second) {
                self.start(spec);
                self.log.restarts += 1;
                self.log.second_instances += 1;
                started.push(
                    self.running
                        .last()
                        .map(|i| i.label.clone())
                        .unwrap_or_default(),
                );
            }
        }
        started
    }

    /// Restarts still owed.
    pub fn owed(&self) -> usize {
        self.owed.values().sum()
    }

    /// Notes instances that exited on their own (a stage may exit non-zero, e.g. when its retry
    /// budget ran out while the broker was down) and owes their stage a restart, as a supervisor
    /// would.
    pub fn reap(&mut self) -> Vec<String> {
        let mut gone = Vec::new();
        let mut i = 0;
        while i < self.running.len() {
            if self.running[i].process.is_running() {
                i += 1;
                continue;
            }
            let inst = self.running.swap_remove(i);
            // the error chain of the exit (`Error: ...` and its first cause), not the backtrace
            let log = inst.process.log();
            let why: Vec<&str> = log
                .lines()
                .filter(|l| l.starts_with("Error:") || l.trim_start().starts_with("0: "))
                .collect();
            let tail = why.join(" | ");
            self.log
                .unexpected_exits
                .push((inst.label.clone(), tail.chars().take(300).collect()));
            *self.owed.entry(inst.spec).or_default() += 1;
            self.last_kill.insert(inst.spec, Instant::now());
            gone.push(inst.label);
        }
        gone
    }

    /// Instances per stage, e.g. `enrich×1 score×2`.
    pub fn shape(&self) -> String {
        self.specs
            .iter()
            .enumerate()
            .map(|(s, spec)| {
                let n = self.running.iter().filter(|i| i.spec == s).count();
                format!("{}×{n}", spec.name)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// SIGTERM to every instance; returns those that did not exit 0 within `grace`.
    pub fn stop_all(&mut self, grace: Duration) -> Vec<String> {
        let mut bad = Vec::new();
        for inst in self.running.drain(..) {
            let label = inst.label.clone();
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                inst.process.terminate(grace)
            }));
            match result {
                Ok(status) if status.success() => {}
                Ok(status) => bad.push(format!("{label}: {status}")),
                Err(_) => bad.push(format!("{label}: did not exit within {grace:?}")),
            }
        }
        bad
    }
}
