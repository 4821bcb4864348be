//! The recalibrate state machine: the join, the live model, the previous attempt, and when the next
//! attempt is due (RULES.md R5). Pure: events and time in, decisions out.

use leadflow_events::{ModelParams, ModelStatus, Timestamp};
use leadflow_score::{Model, ModelError};

use crate::candidate::{Attempt, AttemptError, attempt};
use crate::features::{FeatureSpace, Features};
use crate::join::Join;
use crate::settings::RecalibrateSettings;

/// Why an attempt is (not) due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Due {
    Yes { new_labels: usize },
    TooSoon { next_at: Timestamp },
    NotEnoughNewLabels { new_labels: usize, needed: usize },
}

/// What an attempt decided, ready to publish.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Publish on `model.params` (live) and `model.history`.
    Promote(ModelParams),
    /// Publish on `model.history` only, with the gate's reasons.
    Reject(ModelParams),
}

impl Verdict {
    pub fn params(&self) -> &ModelParams {
        match self {
            Verdict::Promote(p) | Verdict::Reject(p) => p,
        }
    }
}

#[derive(Debug)]
pub struct Engine {
    settings: RecalibrateSettings,
    join: Join,
    live: ModelParams,
    /// (created_at, labels_total) of the latest attempt this model had.
    last_attempt: Option<(Timestamp, usize)>,
}

impl Engine {
    /// Starts from the embedded default model as the live one (what score starts from too).
    pub fn new(settings: RecalibrateSettings) -> Result<Self, ModelError> {
        let live = Model::embedded(&settings.model_name)?.params().clone();
        let space = FeatureSpace::of(&live)?;
        let join = Join::new(space, settings.retention_ms());
        Ok(Self {
            settings,
            join,
            live,
            last_attempt: None,
        })
    }

    pub fn settings(&self) -> &RecalibrateSettings {
        &self.settings
    }

    pub fn join(&self) -> &Join {
        &self.join
    }

    pub fn join_mut(&mut self) -> &mut Join {
        &mut self.join
    }

    pub fn live(&self) -> &ModelParams {
        &self.live
    }

    /// A version on `model.params`: ours and valid → the live model.
    pub fn apply_live(&mut self, params: &ModelParams) -> Result<bool, ModelError> {
        if params.model != self.settings.model_name {
            return Ok(false);
        }
        Model::from_params(params.clone(), &self.settings.model_name)?;
        self.live = params.clone();
        Ok(true)
    }

    /// A version on `model.history`: remembers the latest attempt (schedule and new-label count).
    pub fn apply_history(&mut self, params: &ModelParams) {
        if params.model != self.settings.model_name {
            return;
        }
        let fitted = matches!(
            params.status.as_str(),
            ModelStatus::PROMOTED | ModelStatus::REJECTED | ModelStatus::CANDIDATE
        );
        let Some(labels) = params.metrics.get("labels_total") else {
            return;
        };
        if !fitted {
            return;
        }
        let labels = labels.max(0.0) as usize;
        if self
            .last_attempt
            .is_none_or(|(at, _)| params.created_at >= at)
        {
            self.last_attempt = Some((params.created_at, labels));
        }
    }

    /// Whether an attempt is due at `now`.
    pub fn due(&self, now: Timestamp) -> Due {
        let labelled = self.join.labelled();
        let (new_labels, next_at) = match self.last_attempt {
            None => (labelled, None),
            Some((at, labels)) => (
                labelled.saturating_sub(labels),
                Some(Timestamp(
                    at.0.saturating_add(self.settings.fit_interval_ms()),
                )),
            ),
        };
        if let Some(next_at) = next_at.filter(|t| now < *t) {
            return Due::TooSoon { next_at };
        }
        if new_labels < self.settings.min_new_labels {
            return Due::NotEnoughNewLabels {
                new_labels,
                needed: self.settings.min_new_labels,
            };
        }
        Due::Yes { new_labels }
    }

    /// Fits and judges a candidate now, and records the attempt (so it is not repeated before the
    /// interval and enough new labels).
    pub fn run(&mut self, now: Timestamp) -> Result<Verdict, AttemptError> {
        let samples = self.join.samples();
        let labels_total = samples.len();
        let population: Vec<&Features> = self.join.all_features().collect();
        let result = attempt(
            &self.live,
            self.join.space(),
            &samples,
            &population,
            &self.settings.fit,
            &self.settings.gate,
            now,
        );
        // a failed attempt also waits for the interval and new labels
        self.last_attempt = Some((now, labels_total));
        let Attempt {
            mut candidate,
            report,
        } = result?;
        if report.passed() {
            candidate.status = ModelStatus::PROMOTED.to_owned();
            self.live = candidate.clone();
            Ok(Verdict::Promote(candidate))
        } else {
            candidate.status = ModelStatus::REJECTED.to_owned();
            Ok(Verdict::Reject(candidate))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn history(at: i64, labels: f64, status: &str) -> ModelParams {
        let mut p = Model::embedded("lead-priority").unwrap().params().clone();
        p.version = format!("v{at}");
        p.created_at = Timestamp(at);
        p.status = status.into();
        p.metrics = BTreeMap::from([("labels_total".to_owned(), labels)]);
        p
    }

    #[test]
    fn due_needs_the_interval_and_enough_new_labels() {
        let settings = RecalibrateSettings {
            fit_interval_minutes: 60,
            min_new_labels: 1,
            ..Default::default()
        };
        let mut e = Engine::new(settings).unwrap();
        assert_eq!(
            e.due(Timestamp(0)),
            Due::NotEnoughNewLabels {
                new_labels: 0,
                needed: 1
            }
        );
        e.apply_history(&history(1_000, 0.0, ModelStatus::REJECTED));
        assert_eq!(
            e.due(Timestamp(2_000)),
            Due::TooSoon {
                next_at: Timestamp(1_000 + 3_600_000)
            }
        );
        // an older record does not move the schedule back; a ROLLBACK is not an attempt
        e.apply_history(&history(500, 0.0, ModelStatus::PROMOTED));
        e.apply_history(&history(9_000_000, 0.0, ModelStatus::ROLLBACK));
        assert!(matches!(
            e.due(Timestamp(3_601_000)),
            Due::NotEnoughNewLabels { .. }
        ));
    }

    #[test]
    fn live_follows_valid_versions_of_our_model_only() {
        let mut e = Engine::new(RecalibrateSettings::default()).unwrap();
        let mut other = e.live().clone();
        other.model = "churn".into();
        assert!(!e.apply_live(&other).unwrap());
        let mut bad = e.live().clone();
        bad.version = "x".into();
        bad.weights.insert("negative.competitor".into(), -1.0);
        assert!(e.apply_live(&bad).is_err());
        assert_eq!(e.live().version, "default-1");
        let mut next = e.live().clone();
        next.version = "v2".into();
        assert!(e.apply_live(&next).unwrap());
        assert_eq!(e.live().version, "v2");
    }
}
