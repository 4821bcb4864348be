//! The scoring model: [`ModelParams`] (data published on `model.params`) validated and compiled into
//! lookup tables. The default model ships in `models/default.json` and is embedded in the binary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use leadflow_events::{ActivityKind, ModelParams};

use crate::codes::{self, Negative};

/// The default model, `crates/score/models/default.json`.
pub const DEFAULT_MODEL_JSON: &str = include_str!("../models/default.json");

/// Largest absolute value a weight or cap may have: the score is 0–100, anything larger is a typo.
pub const MAX_ABS_POINTS: f64 = 1000.0;

/// One weight: the code as written in the model (what factors report) and its points.
#[derive(Clone, Debug, PartialEq)]
pub struct Weight {
    pub code: String,
    pub points: f64,
}

/// A validated, compiled model.
#[derive(Clone, Debug)]
pub struct Model {
    params: ModelParams,
    /// Normalised code (`family.normalized_value`) → weight.
    lookup: HashMap<String, Weight>,
    /// Weight per activity kind, indexed by [`codes::activity_index`].
    activity: [Option<Weight>; codes::ACTIVITY_KINDS.len()],
    /// Per open family (in [`codes::OPEN_FAMILIES`] order): normalised value → weight, so a lookup
    /// needs no `family.value` key built per call.
    open: [HashMap<String, Weight>; codes::OPEN_FAMILIES.len()],
    /// Per open family: its `<family>.other` weight, the fallback.
    open_other: [Option<Weight>; codes::OPEN_FAMILIES.len()],
}

/// Why a model could not be loaded or was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("model from {origin} is not ModelParams JSON: {source}")]
    Parse {
        origin: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("model {found:?} is not the configured model {expected:?}")]
    WrongModel { expected: String, found: String },
    #[error("model {model:?} version {version:?} is invalid: {reason}")]
    Invalid {
        model: String,
        version: String,
        reason: String,
    },
}

impl ModelError {
    /// A bounded label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            ModelError::Read { .. } => "read",
            ModelError::Parse { .. } => "parse",
            ModelError::WrongModel { .. } => "wrong_model",
            ModelError::Invalid { .. } => "invalid",
        }
    }
}

impl Model {
    /// Validates `params` (named `expected_name`) and compiles it.
    pub fn from_params(params: ModelParams, expected_name: &str) -> Result<Self, ModelError> {
        if params.model != expected_name {
            return Err(ModelError::WrongModel {
                expected: expected_name.to_owned(),
                found: params.model,
            });
        }
        let invalid = |reason: String| ModelError::Invalid {
            model: params.model.clone(),
            version: params.version.clone(),
            reason,
        };
        if params.version.trim().is_empty() {
            return Err(invalid("version must not be empty".into()));
        }
        check_positive("intent_half_life_days", params.intent_half_life_days).map_err(invalid)?;
        check_positive("fit_max", params.fit_max).map_err(invalid)?;
        check_positive("intent_max", params.intent_max).map_err(invalid)?;
        check_positive("qualification_max", params.qualification_max).map_err(invalid)?;
        if params.weights.is_empty() {
            return Err(invalid("weights must not be empty".into()));
        }
        let mut lookup = HashMap::with_capacity(params.weights.len());
        for (code, &points) in &params.weights {
            let key = weight_key(code, points).map_err(invalid)?;
            let weight = Weight {
                code: code.clone(),
                points,
            };
            if let Some(prev) = lookup.insert(key, weight) {
                return Err(invalid(format!(
                    "weights {:?} and {code:?} name the same factor",
                    prev.code
                )));
            }
        }
        let activity = codes::ACTIVITY_KINDS.map(|kind| {
            lookup
                .get(&codes::key(codes::ACTIVITY, kind.symbol()))
                .cloned()
        });
        let mut open: [HashMap<String, Weight>; codes::OPEN_FAMILIES.len()] = Default::default();
        for (key, weight) in &lookup {
            if let Some((family, value)) = key.split_once('.') {
                if let Some(i) = codes::open_family_index(family) {
                    open[i].insert(value.to_owned(), weight.clone());
                }
            }
        }
        let open_other = codes::OPEN_FAMILIES
            .map(|family| lookup.get(&codes::key(family, codes::OTHER)).cloned());
        Ok(Self {
            params,
            lookup,
            activity,
            open,
            open_other,
        })
    }

    /// Parses ModelParams JSON (what `leadflow produce model.params` accepts) and compiles it.
    pub fn from_json(text: &str, origin: &str, expected_name: &str) -> Result<Self, ModelError> {
        let params: ModelParams =
            serde_json::from_str(text).map_err(|source| ModelError::Parse {
                origin: origin.to_owned(),
                source,
            })?;
        Self::from_params(params, expected_name)
    }

    /// Reads and compiles a model file.
    pub fn from_file(path: &Path, expected_name: &str) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&text, &path.display().to_string(), expected_name)
    }

    /// The embedded default model (`models/default.json`), checked against `expected_name`.
    pub fn embedded(expected_name: &str) -> Result<Self, ModelError> {
        Self::from_json(DEFAULT_MODEL_JSON, "models/default.json", expected_name)
    }

    /// The parameters this model was compiled from.
    pub fn params(&self) -> &ModelParams {
        &self.params
    }

    pub fn name(&self) -> &str {
        &self.params.model
    }

    pub fn version(&self) -> &str {
        &self.params.version
    }

    pub fn half_life_days(&self) -> f64 {
        self.params.intent_half_life_days
    }

    pub fn fit_max(&self) -> f64 {
        self.params.fit_max
    }

    pub fn intent_max(&self) -> f64 {
        self.params.intent_max
    }

    pub fn qualification_max(&self) -> f64 {
        self.params.qualification_max
    }

    /// The weight of an open-family value, falling back to `<family>.other`.
    pub fn open_weight(&self, family: &str, value: &str) -> Option<&Weight> {
        let Some(i) = codes::open_family_index(family) else {
            return self
                .lookup
                .get(&codes::key(family, value))
                .or_else(|| self.lookup.get(&codes::key(family, codes::OTHER)));
        };
        codes::with_normalized(value, |v| self.open[i].get(v)).or(self.open_other[i].as_ref())
    }

    /// The weight of an already normalised key such as `qualification.problem`.
    pub fn weight(&self, key: &str) -> Option<&Weight> {
        self.lookup.get(key)
    }

    /// The weight of an activity kind.
    pub fn activity_weight(&self, kind: ActivityKind) -> Option<&Weight> {
        self.activity[codes::activity_index(kind)].as_ref()
    }

    /// The weight of a disqualifier.
    pub fn negative_weight(&self, negative: Negative) -> Option<&Weight> {
        self.lookup.get(negative.key())
    }
}

fn check_positive(name: &str, value: f64) -> Result<(), String> {
    if value.is_finite() && value > 0.0 && value <= MAX_ABS_POINTS {
        Ok(())
    } else {
        Err(format!(
            "{name} must be a positive number up to {MAX_ABS_POINTS}, got {value}"
        ))
    }
}

/// Checks one weight and returns its normalised lookup key.
fn weight_key(code: &str, points: f64) -> Result<String, String> {
    if !points.is_finite() || points.abs() > MAX_ABS_POINTS {
        return Err(format!(
            "weight {code:?} must be a finite number between -{MAX_ABS_POINTS} and {MAX_ABS_POINTS}, got {points}"
        ));
    }
    let Some((family, value)) = code.split_once('.') else {
        return Err(format!(
            "weight {code:?} must look like family.value, e.g. industry.software"
        ));
    };
    let family = family.trim().to_ascii_lowercase();
    let value = codes::normalize(value);
    if value.is_empty() {
        return Err(format!(
            "weight {code:?} has an empty value after the family"
        ));
    }
    let known = match family.as_str() {
        f if codes::OPEN_FAMILIES.contains(&f) => true,
        codes::ACTIVITY => codes::ACTIVITY_KINDS
            .iter()
            .any(|k| codes::normalize(k.symbol()) == value),
        codes::QUALIFICATION => codes::QUALIFICATION_CODES.contains(&value.as_str()),
        codes::NEGATIVE => {
            if points < 0.0 {
                return Err(format!(
                    "weight {code:?} is points subtracted and must be >= 0, got {points}"
                ));
            }
            Negative::ALL.iter().any(|n| n.name() == value)
        }
        _ => {
            return Err(format!(
                "weight {code:?} has unknown family {family:?}; families are industry, employee_band, revenue_band, country, seniority, department, activity, qualification, negative"
            ));
        }
    };
    if !known {
        return Err(format!("weight {code:?} is not a known {family} code"));
    }
    Ok(format!("{family}.{value}"))
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    const NAME: &str = "lead-priority";

    fn with(f: impl FnOnce(&mut ModelParams)) -> Result<Model, ModelError> {
        let mut p = samples::model_params();
        f(&mut p);
        Model::from_params(p, NAME)
    }

    #[test]
    fn embedded_default_is_valid() {
        let m = Model::embedded(NAME).expect("default model");
        assert_eq!(m.version(), "default-1");
        assert_eq!(m.name(), NAME);
        assert!(m.activity_weight(ActivityKind::DemoRequest).is_some());
        assert_eq!(
            m.open_weight("industry", "Software")
                .map(|w| w.code.as_str()),
            Some("industry.software")
        );
        assert_eq!(
            m.open_weight("industry", "mining").map(|w| w.code.as_str()),
            Some("industry.other")
        );
        assert_eq!(
            m.open_weight("revenue_band", "50m-250m")
                .map(|w| w.code.as_str()),
            Some("revenue_band.50M-250M")
        );
    }

    #[test]
    fn default_model_json_is_what_produce_accepts() {
        // `leadflow produce model.params` parses the JSON view through AnyEvent::from_json.
        let any = leadflow_events::AnyEvent::from_json(
            leadflow_events::EventKind::ModelParams,
            DEFAULT_MODEL_JSON,
        );
        assert!(any.is_ok(), "{any:?}");
    }

    #[test]
    fn validation_table() {
        type Edit = fn(&mut ModelParams);
        let cases: [(&str, Edit, &str); 14] = [
            ("empty version", |p| p.version = " ".into(), "version"),
            (
                "zero half-life",
                |p| p.intent_half_life_days = 0.0,
                "intent_half_life_days",
            ),
            (
                "negative half-life",
                |p| p.intent_half_life_days = -1.0,
                "intent_half_life_days",
            ),
            (
                "NaN half-life",
                |p| p.intent_half_life_days = f64::NAN,
                "intent_half_life_days",
            ),
            ("zero fit cap", |p| p.fit_max = 0.0, "fit_max"),
            (
                "infinite intent cap",
                |p| p.intent_max = f64::INFINITY,
                "intent_max",
            ),
            (
                "negative qualification cap",
                |p| p.qualification_max = -5.0,
                "qualification_max",
            ),
            (
                "NaN weight",
                |p| {
                    p.weights.insert("industry.software".into(), f64::NAN);
                },
                "industry.software",
            ),
            (
                "infinite weight",
                |p| {
                    p.weights.insert("seniority.vp".into(), f64::INFINITY);
                },
                "seniority.vp",
            ),
            (
                "huge weight",
                |p| {
                    p.weights.insert("seniority.vp".into(), 1e9);
                },
                "seniority.vp",
            ),
            (
                "unknown family",
                |p| {
                    p.weights.insert("actvity.DEMO_REQUEST".into(), 5.0);
                },
                "unknown family",
            ),
            (
                "unknown activity",
                |p| {
                    p.weights.insert("activity.DEMO_REQUESTED".into(), 5.0);
                },
                "not a known activity",
            ),
            (
                "negative disqualifier",
                |p| {
                    p.weights.insert("negative.competitor".into(), -5.0);
                },
                ">= 0",
            ),
            (
                "duplicate after normalising",
                |p| {
                    p.weights.insert("industry.Software".into(), 1.0);
                    p.weights.insert("industry.software".into(), 2.0);
                },
                "same factor",
            ),
        ];
        for (name, edit, needle) in cases {
            match with(edit) {
                Err(e @ ModelError::Invalid { .. }) => {
                    let msg = e.to_string();
                    assert!(msg.contains(needle), "{name}: {msg}");
                }
                other => panic!("{name}: expected Invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn empty_weights_and_missing_dot_are_invalid() {
        let e = with(|p| p.weights.clear()).unwrap_err();
        assert!(e.to_string().contains("weights must not be empty"), "{e}");
        let e = with(|p| {
            p.weights.insert("software".into(), 1.0);
        })
        .unwrap_err();
        assert!(e.to_string().contains("family.value"), "{e}");
    }

    #[test]
    fn other_model_name_is_wrong_model() {
        let e = with(|p| p.model = "churn-risk".into()).unwrap_err();
        assert!(matches!(e, ModelError::WrongModel { .. }), "{e:?}");
        assert_eq!(e.label(), "wrong_model");
    }

    #[test]
    fn bad_json_and_missing_file_are_typed_errors() {
        let e = Model::from_json("{", "test", NAME).unwrap_err();
        assert_eq!(e.label(), "parse");
        let e = Model::from_file(Path::new("/nonexistent/model.json"), NAME).unwrap_err();
        assert_eq!(e.label(), "read");
        assert!(e.to_string().contains("/nonexistent/model.json"));
    }

    #[test]
    fn loads_from_file() {
        let dir = std::env::temp_dir().join(format!("leadflow-score-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.json");
        std::fs::write(&path, DEFAULT_MODEL_JSON.replace("default-1", "file-7")).unwrap();
        let m = Model::from_file(&path, NAME).unwrap();
        assert_eq!(m.version(), "file-7");
        std::fs::remove_dir_all(&dir).ok();
    }
}
