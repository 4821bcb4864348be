//! The recalibrate stage: sales outcomes (`leads.outcomes`) joined with the features each lead was
//! scored on (`leads.scored`) recalibrate the scoring model; a candidate is promoted on
//! `model.params` only when it beats the live model on a time-based holdout (`RULES.md`).
//!
//! - [`join`]: outcomes × scored-lead features, labels, retention, unknown leads (R1, R3, R4);
//! - [`features`]: the score's own factor amounts (R2);
//! - [`fit`]: L2-regularised logistic regression (linfa-logistic) and Platt scaling (R5);
//! - [`candidate`]: one attempt: split, fit, map back to points, judge (R5, R6);
//! - [`gate`], [`evaluate`]: the promotion gate and its figures (R6);
//! - [`engine`]: the state and the schedule; [`stage`]: the service, on the runtime's timers.

pub mod accuracy;
pub mod candidate;
pub mod engine;
pub mod evaluate;
pub mod features;
pub mod fit;
pub mod gate;
pub mod join;
pub mod metrics;
pub mod settings;
pub mod stage;

pub use candidate::{Attempt, AttemptError, FitSettings, attempt};
pub use engine::{Due, Engine, Verdict};
pub use features::{FeatureSpace, Features};
pub use gate::{GateReport, GateSettings};
pub use join::{Join, Sample};
pub use metrics::RecalibrateMetrics;
pub use settings::RecalibrateSettings;
pub use stage::RecalibrateStage;

/// The service's name: its metrics prefix and default consumer group (`leadflow-recalibrate`).
pub const SERVICE_NAME: &str = "recalibrate";
