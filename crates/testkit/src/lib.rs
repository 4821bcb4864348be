//! Test support for leadflow integration tests.
//!
//! - [`bootstrap`]: the shared local broker (`LEADFLOW_TEST_BOOTSTRAP`, started by `scripts/test.sh`);
//!   a test that needs it and cannot reach it fails, it never skips.
//! - [`unique_name`]: topic and group names that let tests run in parallel on one broker.
//! - [`create_topic`], [`produce_raw`], [`consume_all`]: raw Kafka access without the runtime.
//! - [`PrivateBroker`]: a tansu of the test's own, for tests that stop or restart the broker.
//! - [`HttpRecorder`]: a local HTTP server that records requests (Slack, CRM and email-API fakes).
//! - [`FakeSchemaRegistry`]: a Confluent-compatible schema registry on loopback.
//! - [`StageCompliance`]: the compliance check every stage runs (poison, retries in order, fatal,
//!   SIGKILL and rebalance lose nothing, SIGTERM drains and exits 0) — one call, see its module;
//!   [`DeferredCompliance`] the same for stages whose outputs come from timers (sla-watchdog,
//!   recalibrate), driven by a [`ManualClock`].
//! - [`StageProcess`]: a stage binary as a real process (SIGTERM, SIGKILL).
//!
//! This crate exists to make tests fail loudly: its helpers panic with a message saying what went
//! wrong instead of returning errors, hence the lint allowances below.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

mod broker;
mod clock;
mod compliance;
mod http_recorder;
mod kafka;
mod names;
mod offsets;
mod ports;
mod private_broker;
mod process;
mod schema_registry;

pub use broker::{BOOTSTRAP_ENV, bootstrap, kafka_answers};
pub use clock::ManualClock;
pub use compliance::{DeferredCompliance, StageCompliance, TimedInputs, Trigger, Wiring};
pub use http_recorder::{HttpRecorder, RecordedRequest};
pub use kafka::{
    Record, TopicReader, consume_all, create_topic, produce_raw, produce_raw_all,
    produce_raw_burst, read_to_end,
};
pub use names::unique_name;
pub use offsets::committed_total;
pub use ports::free_port;
pub use private_broker::{BrokerEngine, PrivateBroker, find_tansu};
pub use process::StageProcess;
pub use schema_registry::FakeSchemaRegistry;
