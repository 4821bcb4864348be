//! The shared runtime every leadflow stage runs on.
//!
//! A stage is a pure transform ([`Stage`]); this crate owns the rest: the consume → decode → transform
//! → encode → produce loop on rdkafka + tokio, offsets stored only after outputs are acknowledged,
//! the exceptions (dead-letter) path, retries with backoff, side inputs, graceful shutdown, the
//! `/metrics` `/healthz` `/readyz` endpoint, configuration and logging.

pub mod admin;
pub mod config;
pub mod kafka;
pub mod stage;

pub use config::{CommonArgs, NoSettings, ServiceConfig, StageSettings};
pub use stage::{Context, Output, SideInput, SideStart, Stage, StageError};
