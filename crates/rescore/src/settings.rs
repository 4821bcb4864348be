//! `[stage]` settings of the rescore service (`RULES.md` explains each).
//!
//! ```toml
//! [stage]
//! interval_hours = 168             # S1: a nurtured lead is re-scored a week after its last scoring
//! tick_ms = 1000                   # how often the schedule is looked at
//! max_per_round = 500              # S3: re-scores per tick at most
//! tiers = ["NURTURE_24H", "NURTURE", "MEL", "COLD"]
//! human_min_score = 70             # H1: the lowest score of a band that queues for a human
//! min_confidence = 0.80            # H1: tier's confidence gate G2
//! max_activities = 200             # M2: activities kept per lead, newest first
//! model_name = "lead-priority"
//! # model_path = "/etc/leadflow/model.json"   # else the embedded default; model.params wins
//! ```

use std::path::PathBuf;

use leadflow_runtime::StageSettings;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RescoreSettings {
    /// S1: hours after a lead's last scoring before the schedule re-scores it (168 = weekly).
    pub interval_hours: u64,
    /// How often the harness runs a scheduling round.
    pub tick_ms: u64,
    /// S3: scheduled re-scores per round at most.
    pub max_per_round: usize,
    /// S2: the tiers the schedule re-scores (no-handoff bands of both presets).
    pub tiers: Vec<String>,
    /// H1: the lowest score of a band that hands the lead to a human (four-band WARM = 70; set 60
    /// for hql-mql's MQL).
    pub human_min_score: i32,
    /// H1: the score confidence a human band needs (tier's G2 threshold).
    pub min_confidence: f64,
    /// M2: activities kept per lead (the newest).
    pub max_activities: usize,
    /// The scoring model's name (as the score stage's `model_name`).
    pub model_name: String,
    /// A model file instead of the embedded default, until `model.params` has a version.
    pub model_path: Option<PathBuf>,
}

impl Default for RescoreSettings {
    fn default() -> Self {
        Self {
            interval_hours: 168,
            tick_ms: 1_000,
            max_per_round: 500,
            tiers: ["NURTURE_24H", "NURTURE", "MEL", "COLD"]
                .map(String::from)
                .to_vec(),
            human_min_score: 70,
            min_confidence: 0.80,
            max_activities: 200,
            model_name: "lead-priority".into(),
            model_path: None,
        }
    }
}

impl RescoreSettings {
    /// S1's interval in milliseconds.
    pub fn interval_ms(&self) -> i64 {
        i64::try_from(self.interval_hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX)
    }
}

impl StageSettings for RescoreSettings {
    fn validate(&self) -> Result<(), String> {
        if self.interval_hours == 0 {
            return Err("interval_hours must be at least 1".into());
        }
        if self.tick_ms == 0 {
            return Err("tick_ms must be at least 1".into());
        }
        if self.max_per_round == 0 {
            return Err("max_per_round must be at least 1".into());
        }
        if self.tiers.iter().any(|t| t.trim().is_empty()) {
            return Err("tiers: a tier name must not be empty".into());
        }
        if !(1..=100).contains(&self.human_min_score) {
            return Err(format!(
                "human_min_score {} must be in 1..=100",
                self.human_min_score
            ));
        }
        if !(0.0..=1.0).contains(&self.min_confidence) {
            return Err(format!(
                "min_confidence {} must be in 0..=1",
                self.min_confidence
            ));
        }
        if self.max_activities == 0 {
            return Err("max_activities must be at least 1".into());
        }
        if self.model_name.trim().is_empty() {
            return Err("model_name must name the model, e.g. \"lead-priority\"".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_each_bad_value_is_named() {
        assert_eq!(RescoreSettings::default().validate(), Ok(()));
        assert_eq!(RescoreSettings::default().interval_ms(), 168 * 3_600_000);
        type Breaks = fn(&mut RescoreSettings);
        let cases: [(Breaks, &str); 7] = [
            (|s| s.interval_hours = 0, "interval_hours"),
            (|s| s.tick_ms = 0, "tick_ms"),
            (|s| s.max_per_round = 0, "max_per_round"),
            (|s| s.tiers.push(" ".into()), "tiers"),
            (|s| s.human_min_score = 0, "human_min_score"),
            (|s| s.min_confidence = 1.5, "min_confidence"),
            (|s| s.model_name = String::new(), "model_name"),
        ];
        for (break_it, expected) in cases {
            let mut s = RescoreSettings::default();
            break_it(&mut s);
            let err = s.validate().unwrap_err();
            assert!(err.contains(expected), "{err} should name {expected}");
        }
    }

    #[test]
    fn deploy_config_equals_the_defaults() {
        use figment::Figment;
        use figment::providers::{Format, Toml};
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/config/rescore.toml"
        );
        let stage: RescoreSettings = Figment::from(Toml::file(path))
            .extract_inner("stage")
            .unwrap();
        assert_eq!(stage, RescoreSettings::default());
    }
}
