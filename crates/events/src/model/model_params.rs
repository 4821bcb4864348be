//! `schemas/model_params.avsc`: versioned scoring-model parameters on the compacted `model.params`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelParams {
    #[serde(default = "default_model_name")]
    pub model: String,
    pub version: String,
    #[serde(default)]
    pub parent_version: Option<String>,
    pub created_at: Timestamp,
    #[serde(default)]
    pub description: String,
    pub weights: BTreeMap<String, f64>,
    #[serde(default = "default_half_life")]
    pub intent_half_life_days: f64,
    #[serde(default = "default_cap")]
    pub fit_max: f64,
    #[serde(default = "default_cap")]
    pub intent_max: f64,
    #[serde(default = "default_qualification_cap")]
    pub qualification_max: f64,
    /// Lifecycle of this version ([`ModelStatus`] symbols); empty for hand-set versions.
    #[serde(default)]
    pub status: String,
    /// Event time of the earliest labelled lead the version was fitted on.
    #[serde(default)]
    pub training_from: Option<Timestamp>,
    /// Event time of the latest labelled lead the version was fitted on.
    #[serde(default)]
    pub training_to: Option<Timestamp>,
    /// Figures of the promotion gate (holdout AUC, Brier, ECE, tier shift, label counts).
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
}

/// Values of [`ModelParams::status`].
pub struct ModelStatus;

impl ModelStatus {
    /// Live on `model.params`, promoted by the gate or by `leadflow model promote`.
    pub const PROMOTED: &'static str = "PROMOTED";
    /// Fitted, not (yet) promoted.
    pub const CANDIDATE: &'static str = "CANDIDATE";
    /// Refused by the promotion gate; `description` and `metrics` say why.
    pub const REJECTED: &'static str = "REJECTED";
    /// An earlier version re-published by `leadflow model rollback`.
    pub const ROLLBACK: &'static str = "ROLLBACK";
}

impl ModelParams {
    /// The record key on the model history topic: `model@version`.
    pub fn history_key(&self) -> String {
        format!("{}@{}", self.model, self.version)
    }
}

fn default_model_name() -> String {
    "lead-priority".to_owned()
}
fn default_half_life() -> f64 {
    14.0
}
fn default_cap() -> f64 {
    40.0
}
fn default_qualification_cap() -> f64 {
    30.0
}

impl_event!(ModelParams, key = model);
