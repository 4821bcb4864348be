//! The `[stage]` settings of the recalibrate service (`LEADFLOW_STAGE__MIN_NEW_LABELS`, ...). The
//! rules they feed are in `RULES.md`.

use leadflow_runtime::StageSettings;
use serde::{Deserialize, Serialize};

use crate::candidate::FitSettings;
use crate::gate::GateSettings;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecalibrateSettings {
    /// The model recalibrated: `ModelParams.model`, the key on `model.params`.
    pub model_name: String,
    /// Scored leads and outcomes older than this (event time) are forgotten (R3).
    pub retention_days: u64,
    /// An outcome whose lead is still unknown this long after it arrived goes to the exceptions
    /// topic (R4).
    pub unknown_lead_grace_minutes: u64,
    /// At most one recalibration per this interval (R5); 0 = whenever enough new labels arrived.
    pub fit_interval_minutes: u64,
    /// Labelled leads that must have arrived since the previous attempt (R5).
    pub min_new_labels: usize,
    /// How often the schedule, the grace period and retention are checked, in milliseconds.
    pub tick_ms: u64,
    pub fit: FitSettings,
    pub gate: GateSettings,
}

impl Default for RecalibrateSettings {
    fn default() -> Self {
        Self {
            model_name: "lead-priority".into(),
            retention_days: 180,
            unknown_lead_grace_minutes: 60,
            fit_interval_minutes: 1440,
            min_new_labels: 200,
            tick_ms: 10_000,
            fit: FitSettings::default(),
            gate: GateSettings::default(),
        }
    }
}

impl RecalibrateSettings {
    pub fn retention_ms(&self) -> i64 {
        i64::try_from(self.retention_days.saturating_mul(86_400_000)).unwrap_or(i64::MAX)
    }

    pub fn grace_ms(&self) -> i64 {
        i64::try_from(self.unknown_lead_grace_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX)
    }

    pub fn fit_interval_ms(&self) -> i64 {
        i64::try_from(self.fit_interval_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX)
    }
}

impl StageSettings for RecalibrateSettings {
    fn validate(&self) -> Result<(), String> {
        if self.model_name.trim().is_empty() {
            return Err("model_name must name the model, e.g. \"lead-priority\"".into());
        }
        if !(1..=3650).contains(&self.retention_days) {
            return Err(format!(
                "retention_days must be between 1 and 3650, got {}",
                self.retention_days
            ));
        }
        if self.min_new_labels == 0 {
            return Err("min_new_labels must be at least 1".into());
        }
        if !(100..=3_600_000).contains(&self.tick_ms) {
            return Err(format!(
                "tick_ms must be between 100 and 3600000, got {}",
                self.tick_ms
            ));
        }
        self.fit.validate()?;
        self.gate.validate()
    }
}

#[cfg(test)]
mod tests {
    use figment::Figment;
    use figment::providers::{Format, Serialized, Toml};

    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(RecalibrateSettings::default().validate(), Ok(()));
    }

    #[test]
    fn validation_names_the_key() {
        type Edit = fn(&mut RecalibrateSettings);
        let cases: [(Edit, &str); 8] = [
            (|s| s.model_name = " ".into(), "model_name"),
            (|s| s.retention_days = 0, "retention_days"),
            (|s| s.min_new_labels = 0, "min_new_labels"),
            (|s| s.tick_ms = 5, "tick_ms"),
            (|s| s.fit.holdout_share = 1.0, "fit.holdout_share"),
            (
                |s| s.fit.tier_boundaries = vec![50, 70],
                "fit.tier_boundaries",
            ),
            (|s| s.gate.max_tier_shift = 2.0, "gate.max_tier_shift"),
            (|s| s.gate.min_holdout_labels = 1, "gate.min_holdout_labels"),
        ];
        for (edit, key) in cases {
            let mut s = RecalibrateSettings::default();
            edit(&mut s);
            let e = s.validate().unwrap_err();
            assert!(e.starts_with(key), "{key}: {e}");
        }
    }

    /// `deploy/config/recalibrate.toml` documents every key with its default value.
    #[test]
    fn deploy_config_equals_the_defaults() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/config/recalibrate.toml"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let table: toml_stage::Stage = Figment::new().merge(Toml::string(&text)).extract().unwrap();
        assert_eq!(table.stage, RecalibrateSettings::default());
        // and every key is written out (not just defaulted)
        let written: figment::value::Dict = Figment::new()
            .merge(Toml::string(&text))
            .extract_inner("stage")
            .unwrap();
        let defaults: figment::value::Dict =
            Figment::from(Serialized::defaults(RecalibrateSettings::default()))
                .extract()
                .unwrap();
        for key in defaults.keys() {
            assert!(written.contains_key(key), "[stage] {key} is not documented");
        }
    }

    /// `deploy/demo/recalibrate.toml` (scripts/demo.sh) layers over the defaults, validates, and asks
    /// for an attempt the demo's ~130 labelled leads can reach.
    #[test]
    fn the_demo_file_is_valid_and_reachable_with_the_demo_volume() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/demo/recalibrate.toml"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let demo: RecalibrateSettings =
            Figment::from(Serialized::default("stage", RecalibrateSettings::default()))
                .merge(Toml::string(&text))
                .extract_inner("stage")
                .unwrap();
        assert_eq!(demo.validate(), Ok(()));
        assert_eq!(demo.fit_interval_minutes, 0);
        assert!(demo.min_new_labels <= 100, "{}", demo.min_new_labels);
        // training (3/4) and holdout (1/4) of ~130 labels clear both minimums
        assert!(demo.fit.min_train_labels <= 90);
        assert!(demo.gate.min_holdout_labels <= 32);
    }

    mod toml_stage {
        #[derive(serde::Deserialize)]
        pub struct Stage {
            pub stage: super::RecalibrateSettings,
        }
    }
}
