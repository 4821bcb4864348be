//! `schemas/model_params.avsc`: versioned scoring-model parameters on the compacted `model.params`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventKind};
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

impl Event for ModelParams {
    const KIND: EventKind = EventKind::ModelParams;
    fn key(&self) -> &str {
        &self.model
    }
    fn lead_id(&self) -> Option<&str> {
        None
    }
}
