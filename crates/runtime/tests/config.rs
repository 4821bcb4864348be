#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::result_large_err
)]
//! Configuration layering (defaults → file → LEADFLOW_ environment → flags) and validation messages.

use std::path::PathBuf;

use figment::Jail;
use figment::providers::Format;
use leadflow_runtime::{CommonArgs, NoSettings, ServiceConfig, StageSettings};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    threshold: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self { threshold: 0.8 }
    }
}

impl StageSettings for Settings {
    fn validate(&self) -> Result<(), String> {
        if (0.0..=1.0).contains(&self.threshold) {
            Ok(())
        } else {
            Err(format!(
                "threshold must be within 0..1, got {}",
                self.threshold
            ))
        }
    }
}

fn args(config: Option<&str>, bootstrap: Option<&str>) -> CommonArgs {
    CommonArgs {
        bootstrap_servers: bootstrap.map(str::to_owned),
        config: config.map(PathBuf::from),
    }
}

#[test]
fn defaults_need_nothing() {
    Jail::expect_with(|_| {
        let cfg =
            ServiceConfig::<NoSettings>::load("svc", &args(None, None)).expect("defaults load");
        assert_eq!(cfg.bootstrap_servers, "127.0.0.1:9092");
        assert_eq!(cfg.topics.raw, "leads.raw");
        assert_eq!(cfg.group_for("enrich"), "leadflow-enrich");
        Ok(())
    });
}

#[test]
fn file_then_environment_then_flags() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "svc.toml",
            r#"
            bootstrap_servers = "file:9092"
            group_id = "from-file"
            [topics]
            raw = "raw.from.file"
            enriched = "enriched.from.file"
            [kafka]
            "security.protocol" = "SASL_SSL"
            [stage]
            threshold = 0.5
            "#,
        )?;
        jail.set_env("LEADFLOW_TOPICS__RAW", "raw.from.env");
        jail.set_env("LEADFLOW_STAGE__THRESHOLD", "0.9");
        jail.set_env(
            "LEADFLOW_KAFKA_OVERRIDES",
            "sasl.mechanism=SCRAM-SHA-512, linger.ms=20",
        );
        jail.set_env("LEADFLOW_UNRELATED_TOOL_SETTING", "ignored");
        // SASL_SSL needs credentials: the password comes from the environment (a secret)
        jail.set_env("LEADFLOW_SECURITY__SASL_USERNAME", "leadflow-svc");
        jail.set_env("LEADFLOW_SECURITY__SASL_PASSWORD", "pw-from-env-7731");
        let cfg =
            ServiceConfig::<Settings>::load("svc", &args(Some("svc.toml"), Some("flag:9092")))
                .expect("layers load");
        assert_eq!(cfg.bootstrap_servers, "flag:9092", "flag wins");
        assert_eq!(cfg.group_id.as_deref(), Some("from-file"));
        assert_eq!(cfg.topics.raw, "raw.from.env", "environment beats file");
        assert_eq!(cfg.topics.enriched, "enriched.from.file");
        assert_eq!(cfg.stage.threshold, 0.9);
        let client = cfg.client_settings();
        assert_eq!(client["security.protocol"], "SASL_SSL");
        assert_eq!(client["sasl.mechanism"], "SCRAM-SHA-512");
        assert_eq!(client["linger.ms"], "20");
        assert_eq!(client["bootstrap.servers"], "flag:9092");
        assert_eq!(client["sasl.username"], "leadflow-svc");
        assert_eq!(client["sasl.password"], "pw-from-env-7731");
        assert!(
            !format!("{cfg:?}").contains("pw-from-env-7731"),
            "the config's Debug never shows the password"
        );
        Ok(())
    });
}

#[test]
fn invalid_values_are_rejected_with_the_key_named() {
    let cases: [(&str, &str); 9] = [
        ("unknown_key = 1", "unknown_key"),
        ("bootstrap_servers = \"no-port\"", "host:port"),
        ("[topics]\nraw = \"bad topic!\"", "may only contain"),
        ("[topics]\nraw = \"leads.enriched\"", "more than one role"),
        ("[stage]\nthreshold = 3.0", "stage.threshold"),
        ("[log]\nformat = \"xml\"", "log.format"),
        (
            "[security]\nprotocol = \"SASL_SSL\"",
            "security.protocol SASL_SSL needs security.sasl_mechanism",
        ),
        (
            "[security]\nsasl_username = \"u\"\nsasl_password = \"p\"",
            "security.protocol is PLAINTEXT",
        ),
        (
            "[kafka]\n\"sasl.password\" = \"p\"",
            "kafka.\"sasl.password\"",
        ),
    ];
    for (file, expected) in cases {
        Jail::expect_with(|jail| {
            jail.create_file("svc.toml", file)?;
            let err = ServiceConfig::<Settings>::load("svc", &args(Some("svc.toml"), None))
                .expect_err(file)
                .to_string();
            assert!(err.contains(expected), "{file:?}: {err}");
            Ok(())
        });
    }
}

#[test]
fn a_missing_config_file_is_an_error() {
    Jail::expect_with(|_| {
        let err = ServiceConfig::<NoSettings>::load("svc", &args(Some("nope.toml"), None))
            .expect_err("missing");
        assert!(err.to_string().contains("nope.toml"));
        Ok(())
    });
}

#[test]
fn unknown_leadflow_variables_are_reported() {
    Jail::expect_with(|jail| {
        jail.set_env("LEADFLOW_TOPICZ", "typo");
        jail.set_env("LEADFLOW_TOPICS__RAW", "fine");
        jail.set_env("LEADFLOW_KAFKA_OVERRIDES", "linger.ms=1");
        jail.set_env("LEADFLOW_SVC__THRESHOLD", "0.5");
        jail.set_env("LEADFLOW_STAGE__THRESHOLD", "0.5");
        jail.set_env("LEADFLOW_STAGE__PROVIDER__KIND", "demo");
        jail.set_env("LEADFLOW_ENRICH__PROVIDER__KIND", "demo");
        let unread = leadflow_runtime::config::unread_env_vars::<Settings>("svc");
        // the test's own environment (LEADFLOW_TEST_BOOTSTRAP) is left out of the comparison
        let set_here = |names: &[String]| -> Vec<String> {
            names
                .iter()
                .filter(|n| !n.starts_with("LEADFLOW_TEST_"))
                .cloned()
                .collect()
        };
        assert_eq!(set_here(&unread.unknown), ["LEADFLOW_TOPICZ"]);
        assert_eq!(
            set_here(&unread.other_binaries),
            [
                "LEADFLOW_ENRICH__PROVIDER__KIND",
                "LEADFLOW_STAGE__PROVIDER__KIND"
            ]
        );
        Ok(())
    });
}

/// Settings of a second binary, for the shared-environment tests.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct OtherSettings {
    provider: Provider,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Provider {
    kind: String,
}

impl StageSettings for OtherSettings {}

/// One environment (a shared ConfigMap or Secret) with every binary's keys starts every binary:
/// each takes its own `LEADFLOW_<SERVICE>__` keys and the `LEADFLOW_STAGE__` keys it knows.
#[test]
fn a_shared_environment_serves_every_binary() {
    Jail::expect_with(|jail| {
        jail.set_env("LEADFLOW_STAGE__PROVIDER__KIND", "demo");
        jail.set_env("LEADFLOW_STAGE__THRESHOLD", "0.6");
        jail.set_env("LEADFLOW_SCORER__THRESHOLD", "0.7");
        jail.set_env("LEADFLOW_ENRICH__PROVIDER__KIND", "http");
        jail.set_env("LEADFLOW_TOPICS__RAW", "raw.shared");
        let scorer =
            ServiceConfig::<Settings>::load("scorer", &args(None, None)).expect("scorer starts");
        assert_eq!(
            scorer.stage.threshold, 0.7,
            "its own prefix beats the shared one"
        );
        assert_eq!(scorer.topics.raw, "raw.shared");
        let enrich = ServiceConfig::<OtherSettings>::load("enrich", &args(None, None))
            .expect("enrich starts");
        assert_eq!(enrich.stage.provider.kind, "http");
        let other = ServiceConfig::<OtherSettings>::load("other", &args(None, None))
            .expect("a third binary starts");
        assert_eq!(other.stage.provider.kind, "demo", "the shared key it knows");
        let cli = ServiceConfig::<NoSettings>::load("cli", &args(None, None))
            .expect("a binary without stage settings starts");
        assert_eq!(cli.topics.raw, "raw.shared");
        Ok(())
    });
}

/// A binary's own prefix is as strict as its file: a misspelt key stops it, with the key named. A
/// shared key it knows with a bad value stops it too.
#[test]
fn own_stage_keys_are_checked_strictly() {
    Jail::expect_with(|jail| {
        jail.set_env("LEADFLOW_SCORER__THRESHOLDD", "0.7");
        let err = ServiceConfig::<Settings>::load("scorer", &args(None, None))
            .expect_err("a typo under its own prefix")
            .to_string();
        assert!(err.contains("thresholdd"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("LEADFLOW_STAGE__THRESHOLD", "high");
        let err = ServiceConfig::<Settings>::load("scorer", &args(None, None))
            .expect_err("a bad shared value")
            .to_string();
        assert!(err.to_lowercase().contains("stage.threshold"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("LEADFLOW_SLA_WATCHDOG__THRESHOLD", "2.0");
        let err = ServiceConfig::<Settings>::load("sla-watchdog", &args(None, None))
            .expect_err("validated like the file")
            .to_string();
        assert!(err.contains("stage.threshold"), "{err}");
        Ok(())
    });
}

/// `deploy/config/leadflow.toml` (the CLI's production example) says "the values shown are the
/// defaults unless the comment says otherwise": the tables without such a comment must equal the
/// defaults, and the deviations its comments name must be the only ones.
#[test]
fn shipped_leadflow_toml_documents_the_defaults() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/config/leadflow.toml"
    );
    Jail::expect_with(|_| {
        let cfg = ServiceConfig::<NoSettings>::load("svc", &args(Some(path), None))
            .expect("the shipped leadflow.toml loads");
        // The deviations the file's comments announce: a production bootstrap list, a registry and
        // JSON logs.
        assert_ne!(
            cfg.bootstrap_servers,
            ServiceConfig::<NoSettings>::default().bootstrap_servers
        );
        assert!(cfg.registry.is_some(), "the example configures a registry");
        assert_eq!(cfg.log.format, "json");
        let expected = ServiceConfig::<NoSettings> {
            bootstrap_servers: cfg.bootstrap_servers.clone(),
            registry: cfg.registry.clone(),
            log: cfg.log.clone(),
            ..ServiceConfig::default()
        };
        assert_eq!(cfg, expected, "every other key equals its default");
        Ok(())
    });
}

/// Any `[stage]` table: lets the test read every shipped service file's common keys.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct AnyStage(serde_json::Value);

impl StageSettings for AnyStage {}

/// Every service file in `deploy/config/` documents the common keys with their defaults: only the
/// production deviations (bootstrap servers, group id, registry, log format, the metrics endpoint
/// listening on every interface inside a container) may differ. A new
/// service's file is checked as soon as it is added.
#[test]
fn shipped_service_files_keep_the_common_defaults() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/config");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("deploy/config exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "found {files:?}");
    for file in files {
        let name = file.display().to_string();
        let cfg: ServiceConfig<AnyStage> =
            figment::Figment::from(figment::providers::Serialized::defaults(ServiceConfig::<
                AnyStage,
            >::default(
            )))
            .merge(figment::providers::Toml::file(&file))
            .extract()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = ServiceConfig::<AnyStage> {
            bootstrap_servers: cfg.bootstrap_servers.clone(),
            group_id: cfg.group_id.clone(),
            registry: cfg.registry.clone(),
            log: cfg.log.clone(),
            stage: cfg.stage.clone(),
            http: cfg.http.clone(),
            ..ServiceConfig::default()
        };
        assert_eq!(
            cfg, expected,
            "{name}: a common key differs from its default"
        );
    }
}
