//! The `[stage]` settings of the score service (`LEADFLOW_STAGE__MODEL_NAME`, ...).

use std::path::PathBuf;

use leadflow_runtime::StageSettings;
use serde::{Deserialize, Serialize};

use crate::score::DEFAULT_MAX_FACTORS;

/// Largest accepted `max_factors`.
pub const MAX_FACTORS_LIMIT: usize = 50;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreSettings {
    /// The model to score with: `ModelParams.model`, the key on the compacted `model.params` topic.
    /// Parameters published under other names are ignored.
    pub model_name: String,
    /// A ModelParams JSON file to start with instead of the embedded `models/default.json`. Newer
    /// versions on `model.params` still replace it.
    pub model_path: Option<PathBuf>,
    /// How many factor contributions each scored lead carries (largest first).
    pub max_factors: usize,
}

impl Default for ScoreSettings {
    fn default() -> Self {
        Self {
            model_name: "lead-priority".into(),
            model_path: None,
            max_factors: DEFAULT_MAX_FACTORS,
        }
    }
}

impl StageSettings for ScoreSettings {
    fn validate(&self) -> Result<(), String> {
        if self.model_name.trim().is_empty() {
            return Err("model_name must name the model, e.g. \"lead-priority\"".into());
        }
        if self
            .model_path
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            return Err("model_path is empty; remove it to use the embedded default model".into());
        }
        if !(1..=MAX_FACTORS_LIMIT).contains(&self.max_factors) {
            return Err(format!(
                "max_factors must be between 1 and {MAX_FACTORS_LIMIT}, got {}",
                self.max_factors
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// deploy/config/score.toml documents every key with its default: its `[stage]` table must equal
    /// `ScoreSettings::default()`.
    #[test]
    fn deploy_config_equals_the_defaults() {
        let stage: ScoreSettings = leadflow_runtime::config::deploy_config_stage("score").unwrap();
        assert_eq!(stage, ScoreSettings::default());
    }

    #[test]
    fn defaults_are_valid() {
        let s = ScoreSettings::default();
        assert_eq!(s.model_name, "lead-priority");
        assert_eq!(s.max_factors, 6);
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn validation_table() {
        let cases: [(ScoreSettings, Option<&str>); 5] = [
            (
                ScoreSettings {
                    model_name: " ".into(),
                    ..Default::default()
                },
                Some("model_name"),
            ),
            (
                ScoreSettings {
                    max_factors: 0,
                    ..Default::default()
                },
                Some("max_factors"),
            ),
            (
                ScoreSettings {
                    max_factors: 51,
                    ..Default::default()
                },
                Some("max_factors"),
            ),
            (
                ScoreSettings {
                    model_path: Some(PathBuf::new()),
                    ..Default::default()
                },
                Some("model_path"),
            ),
            (
                ScoreSettings {
                    max_factors: 50,
                    model_path: Some("models/x.json".into()),
                    ..Default::default()
                },
                None,
            ),
        ];
        for (settings, err_key) in cases {
            match (settings.validate(), err_key) {
                (Ok(()), None) => {}
                (Err(m), Some(key)) => assert!(m.starts_with(key), "{m}"),
                (got, want) => panic!("{settings:?}: got {got:?}, wanted error on {want:?}"),
            }
        }
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let r: Result<ScoreSettings, _> = serde_json::from_str(r#"{"model_nmae": "x"}"#);
        assert!(r.is_err());
        let s: ScoreSettings = serde_json::from_str(r#"{"max_factors": 3}"#).unwrap();
        assert_eq!(s.max_factors, 3);
        assert_eq!(s.model_name, "lead-priority");
    }
}
