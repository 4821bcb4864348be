//! The shared runtime every leadflow stage runs on.
//!
//! A stage is a pure transform ([`Stage`]); this crate owns the rest: the consume → decode → transform
//! → encode → produce loop on rdkafka + tokio, offsets stored only after outputs are acknowledged,
//! the exceptions (dead-letter) path, retries with backoff, side inputs, graceful shutdown, the
//! `/metrics` `/healthz` `/readyz` endpoint, configuration and logging.

pub mod admin;
pub mod allocator;
mod broker_probe;
pub mod clock;
pub mod config;
mod consumer_context;
mod delivery;
pub mod error;
pub mod exceptions;
mod group_watch;
pub mod http;
mod input;
pub mod journal;
pub mod kafka;
pub mod kafka_errors;
pub mod kafka_security;
pub mod metrics;
mod orphans;
mod partition_task;
pub mod partitioner;
pub mod pipeline;
mod preflight;
pub mod registry;
pub mod resilience;
mod secret;
mod send_gate;
mod service;
pub mod side_input;
pub mod stage;
pub mod summary;
mod task_registry;
pub mod timer;
mod timer_task;
pub mod topic_metadata;
pub mod topic_range;

pub use clock::{Clock, SystemClock};
pub use config::{CommonArgs, NoSettings, ServiceConfig, StageSettings};
pub use error::RuntimeError;
pub use journal::{Journal, JournalError};
pub use kafka_security::{SaslMechanism, SecurityConfig, SecurityProtocol};
pub use pipeline::{FlowLimits, RunOptions, run_stage};
pub use registry::StageRegistry;
pub use secret::Secret;
pub use service::{init_tracing, log_unread_env, service_main, shutdown_signal, start_service};
pub use stage::{Context, Output, SideInput, SideStart, Stage, StageError};
pub use summary::RunSummary;
pub use timer::OwnedKeys;
