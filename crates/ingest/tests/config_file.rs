//! deploy/config/ingest.toml documents every key of `[stage]` with its default.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use figment::Figment;
use figment::providers::{Format, Toml};
use leadflow_ingest::config::IngestSettings;

#[test]
fn the_deploy_file_equals_the_defaults() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/config/ingest.toml"
    );
    let from_file: IngestSettings = Figment::from(Toml::file(path))
        .extract_inner("stage")
        .unwrap();
    assert_eq!(from_file, IngestSettings::default());
}

/// K1: a raw `[kafka]` override that breaks S1 (202 means on every in-sync replica) stops the start.
#[tokio::test]
async fn acks_other_than_all_and_a_non_idempotent_producer_are_refused() {
    use std::sync::Arc;

    use leadflow_ingest::server::{Options, start};
    use leadflow_runtime::{ServiceConfig, StageRegistry, SystemClock};
    use tokio_util::sync::CancellationToken;

    for (key, value) in [
        ("acks", "0"),
        ("acks", "1"),
        ("enable.idempotence", "false"),
    ] {
        let mut cfg = ServiceConfig::<IngestSettings>::default();
        cfg.kafka.insert(key.into(), value.into());
        let err = start(
            &cfg,
            Options {
                clock: Arc::new(SystemClock),
                shutdown: CancellationToken::new(),
                metrics: StageRegistry::new("ingest"),
            },
        )
        .await
        .err()
        .unwrap_or_else(|| panic!("{key}={value} must be refused"));
        assert!(err.to_string().contains(&format!("{key}={value}")), "{err}");
    }
}
