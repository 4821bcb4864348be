//! The stage wrapper the check runs: injects retryable or fatal faults around the real stage and
//! records which inputs the real stage processed successfully, in completion order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use std::time::Duration;

use leadflow_events::{AnyEvent, Event, Timestamp, TopicRole};
use leadflow_runtime::{Context, Output, OwnedKeys, SideInput, Stage, StageError};

/// Faults the wrapper injects.
pub(crate) enum Fault {
    /// These calls of `process` (0-based, counted across inputs) fail with a retryable error.
    Retryable { calls: [usize; 2] },
    /// The first call fails with a fatal error.
    Fatal,
}

/// What the wrapper saw, shared with the check.
#[derive(Clone, Default)]
pub(crate) struct CallLog {
    inner: Arc<Mutex<Calls>>,
}

#[derive(Default)]
struct Calls {
    /// Keys of the inputs the real stage processed without an error, in completion order.
    succeeded: Vec<String>,
    /// Keys of the inputs whose call failed with an injected retryable error.
    failed: Vec<String>,
}

impl CallLog {
    pub(crate) fn succeeded(&self) -> Vec<String> {
        self.inner
            .lock()
            .map(|c| c.succeeded.clone())
            .unwrap_or_default()
    }

    pub(crate) fn failed(&self) -> Vec<String> {
        self.inner
            .lock()
            .map(|c| c.failed.clone())
            .unwrap_or_default()
    }

    fn push(&self, ok: bool, key: String) {
        if let Ok(mut c) = self.inner.lock() {
            if ok {
                c.succeeded.push(key);
            } else {
                c.failed.push(key);
            }
        }
    }
}

/// A stage that injects faults around the real one.
pub(crate) struct Injected<S> {
    inner: S,
    fault: Fault,
    calls: AtomicUsize,
    log: CallLog,
}

impl<S> Injected<S> {
    pub(crate) fn new(inner: S, fault: Fault) -> Self {
        Self {
            inner,
            fault,
            calls: AtomicUsize::new(0),
            log: CallLog::default(),
        }
    }

    pub(crate) fn log(&self) -> CallLog {
        self.log.clone()
    }
}

impl<S: Stage> Stage for Injected<S> {
    type Input = S::Input;
    const NAME: &'static str = S::NAME;
    const INPUT: TopicRole = S::INPUT;

    fn partition_concurrency(&self) -> usize {
        self.inner.partition_concurrency()
    }

    async fn process(&self, input: S::Input, ctx: &Context) -> Result<Vec<Output>, StageError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let key = input.key().to_owned();
        match &self.fault {
            Fault::Retryable { calls } if calls.contains(&call) => {
                self.log.push(false, key);
                return Err(StageError::retryable("injected retryable error"));
            }
            Fault::Fatal => return Err(StageError::fatal("injected fatal error")),
            _ => {}
        }
        let result = self.inner.process(input, ctx).await;
        if result.is_ok() {
            self.log.push(true, key);
        }
        result
    }

    fn side_inputs(&self) -> Vec<SideInput> {
        self.inner.side_inputs()
    }

    fn on_side_input(&self, event: AnyEvent) -> Result<(), StageError> {
        self.inner.on_side_input(event)
    }

    fn on_side_input_from(&self, role: TopicRole, event: AnyEvent) -> Result<(), StageError> {
        self.inner.on_side_input_from(role, event)
    }

    fn timer_interval(&self) -> Option<Duration> {
        self.inner.timer_interval()
    }

    async fn on_timer(&self, owned: &OwnedKeys, now: Timestamp) -> Result<Vec<Output>, StageError> {
        self.inner.on_timer(owned, now).await
    }

    fn on_timer_delivered(&self, output: &Output) {
        self.inner.on_timer_delivered(output);
    }
}
