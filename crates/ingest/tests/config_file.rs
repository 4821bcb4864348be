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
