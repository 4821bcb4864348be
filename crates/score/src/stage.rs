//! The score stage: a thin shell over [`crate::score`] holding the current model, hot-swapped from the
//! compacted `model.params` topic.

use leadflow_events::AnyEvent;
use leadflow_events::{EnrichedLead, ErrorKind, ModelParams, TopicRole};
use std::sync::{Arc, PoisonError, RwLock};

use leadflow_runtime::{Context, Output, SideInput, SideStart, Stage, StageError, StageRegistry};

use crate::metrics::ScoreMetrics;
use crate::model::{Model, ModelError};
use crate::score::score_with;
use crate::settings::ScoreSettings;

/// Why the stage could not start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("stage.model_path: {0}")]
    Model(#[from] ModelError),
    #[error("cannot register the score metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// What a model update on the side input did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelUpdate {
    /// The new version is in use.
    Applied { from: String, to: String },
    /// The same parameters are already in use (a replay of the compacted topic).
    Unchanged,
    /// Parameters of another model, not ours.
    Ignored { model: String },
}

/// The score stage. The model in use sits behind a lock held only to clone or swap the `Arc`, so
/// every partition task scores with the same model and a hot swap never waits for a lead.
pub struct ScoreStage {
    model: RwLock<Arc<Model>>,
    model_name: String,
    max_factors: usize,
    metrics: ScoreMetrics,
}

impl ScoreStage {
    /// Loads the start-up model (the `model_path` file, else the embedded default) and registers the
    /// metrics in `registry`.
    pub fn new(settings: &ScoreSettings, registry: &StageRegistry) -> Result<Self, InitError> {
        let model = match &settings.model_path {
            Some(path) => Model::from_file(path, &settings.model_name)?,
            None => Model::embedded(&settings.model_name)?,
        };
        let metrics = ScoreMetrics::register(registry)?;
        tracing::info!(
            model = model.name(),
            version = model.version(),
            source = if settings.model_path.is_some() {
                "file"
            } else {
                "embedded"
            },
            "scoring model loaded"
        );
        Ok(Self::with_model(settings, model, metrics))
    }

    /// A stage with a given model and metrics (tests, benches).
    pub fn with_model(settings: &ScoreSettings, model: Model, metrics: ScoreMetrics) -> Self {
        Self {
            model: RwLock::new(Arc::new(model)),
            model_name: settings.model_name.clone(),
            max_factors: settings.max_factors,
            metrics,
        }
    }

    /// The model in use.
    pub fn model(&self) -> Arc<Model> {
        self.model
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The stage's metrics.
    pub fn metrics(&self) -> &ScoreMetrics {
        &self.metrics
    }

    /// Validates `params` and, when it is ours and valid, swaps it in. On error the current model
    /// stays.
    pub fn apply_model(&self, params: ModelParams) -> Result<ModelUpdate, ModelError> {
        if params.model != self.model_name {
            return Ok(ModelUpdate::Ignored {
                model: params.model,
            });
        }
        if &params == self.model().params() {
            return Ok(ModelUpdate::Unchanged);
        }
        // validated outside the lock; the lock is held only for the swap
        let next = Arc::new(Model::from_params(params, &self.model_name)?);
        let to = next.version().to_owned();
        let previous = std::mem::replace(
            &mut *self.model.write().unwrap_or_else(PoisonError::into_inner),
            next,
        );
        Ok(ModelUpdate::Applied {
            from: previous.version().to_owned(),
            to,
        })
    }

    fn count(&self, result: &str) {
        self.metrics
            .model_updates
            .with_label_values(&[result])
            .inc();
    }
}

impl Stage for ScoreStage {
    type Input = EnrichedLead;
    const NAME: &'static str = "score";
    const INPUT: TopicRole = TopicRole::Enriched;

    /// Pure and cheap (the model is read-only between swaps): several inputs of a partition may be
    /// scored at once (outputs and offsets still in partition order).
    fn partition_concurrency(&self) -> usize {
        4
    }

    async fn process(
        &self,
        input: EnrichedLead,
        _ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        let model = self.model();
        let scored = score_with(input, &model, self.max_factors);
        self.metrics.scores.observe(f64::from(scored.score));
        Ok(vec![Output::to(TopicRole::Scored, scored)])
    }

    fn side_inputs(&self) -> Vec<SideInput> {
        vec![SideInput {
            role: TopicRole::ModelParams,
            start: SideStart::Beginning,
        }]
    }

    fn on_side_input(&self, event: AnyEvent) -> Result<(), StageError> {
        let AnyEvent::ModelParams(params) = event else {
            tracing::debug!(kind = ?event.kind(), "ignoring a non-model event on the model topic");
            return Ok(());
        };
        let version = params.version.clone();
        match self.apply_model(params) {
            Ok(ModelUpdate::Applied { from, to }) => {
                self.count("applied");
                tracing::info!(model = %self.model_name, from = %from, to = %to, "scoring model swapped");
                Ok(())
            }
            Ok(ModelUpdate::Unchanged) => {
                self.count("unchanged");
                tracing::debug!(model = %self.model_name, version = %version, "scoring model unchanged");
                Ok(())
            }
            Ok(ModelUpdate::Ignored { model }) => {
                self.count("ignored");
                tracing::debug!(model = %model, ours = %self.model_name, "ignoring parameters of another model");
                Ok(())
            }
            Err(e) => {
                self.count("rejected");
                tracing::warn!(
                    model = %self.model_name,
                    version = %version,
                    kept = %self.model().version(),
                    error = %e,
                    "rejected invalid scoring model; keeping the current one"
                );
                Err(StageError::poison(ErrorKind::Validation, e.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::{Timestamp, samples};

    use super::*;

    fn stage() -> ScoreStage {
        let settings = ScoreSettings::default();
        let model = Model::embedded(&settings.model_name).unwrap();
        ScoreStage::with_model(&settings, model, metrics())
    }

    fn metrics() -> ScoreMetrics {
        ScoreMetrics::register(&StageRegistry::new(ScoreStage::NAME)).unwrap()
    }

    fn params(version: &str) -> ModelParams {
        let mut p = stage().model().params().clone();
        p.version = version.into();
        p
    }

    #[test]
    fn new_loads_the_embedded_default_or_a_file() {
        let registry = StageRegistry::new(ScoreStage::NAME);
        let s = ScoreStage::new(&ScoreSettings::default(), &registry).unwrap();
        assert_eq!(s.model().version(), "default-1");
        let missing = ScoreSettings {
            model_path: Some("/nonexistent/model.json".into()),
            ..Default::default()
        };
        let e = ScoreStage::new(&missing, &StageRegistry::new("score"))
            .err()
            .unwrap();
        assert!(e.to_string().contains("/nonexistent/model.json"), "{e}");
        let other_name = ScoreSettings {
            model_name: "churn".into(),
            ..Default::default()
        };
        assert!(ScoreStage::new(&other_name, &StageRegistry::new("score")).is_err());
    }

    #[test]
    fn declares_the_model_topic_from_the_beginning() {
        assert_eq!(
            stage().side_inputs(),
            vec![SideInput {
                role: TopicRole::ModelParams,
                start: SideStart::Beginning
            }]
        );
        assert_eq!(ScoreStage::NAME, "score");
        assert_eq!(ScoreStage::INPUT, TopicRole::Enriched);
    }

    #[tokio::test]
    async fn process_emits_one_scored_lead_at_event_time() {
        let s = stage();
        let lead = samples::enriched_lead();
        let ctx = Context::for_test(Timestamp(lead.lead.occurred_at.0 + 86_400_000 * 30));
        let out = s.process(lead.clone(), &ctx).await.unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].role, TopicRole::Scored);
        let AnyEvent::ScoredLead(scored) = &out[0].event else {
            panic!("not a scored lead: {:?}", out[0].event);
        };
        assert_eq!(scored.scored_at, lead.lead.occurred_at);
        assert_eq!(scored.model_version, "default-1");
        assert_eq!(out[0].record_key(), "lead-0001");
        assert!(scored.factors.len() <= 6);
        // the wall clock in the context does not matter
        let later = Context::for_test(Timestamp(0));
        assert_eq!(s.process(lead, &later).await.unwrap(), out);
    }

    #[tokio::test]
    async fn max_factors_setting_limits_factors() {
        let settings = ScoreSettings {
            max_factors: 2,
            ..Default::default()
        };
        let model = Model::embedded(&settings.model_name).unwrap();
        let s = ScoreStage::with_model(&settings, model, metrics());
        let out = s
            .process(samples::enriched_lead(), &Context::for_test(Timestamp(0)))
            .await
            .unwrap();
        let AnyEvent::ScoredLead(scored) = &out[0].event else {
            panic!("not a scored lead");
        };
        assert_eq!(scored.factors.len(), 2);
    }

    #[test]
    fn hot_swap_table() {
        type Edit = fn(&mut ModelParams);
        // (name, edit of a copy of the default with version "v2", expected result, version after)
        let cases: [(&str, Edit, &str, &str); 8] = [
            ("new version applied", |_| {}, "applied", "v2"),
            (
                "same parameters unchanged",
                |p| p.version = "default-1".into(),
                "unchanged",
                "default-1",
            ),
            (
                "another model ignored",
                |p| p.model = "churn-risk".into(),
                "ignored",
                "default-1",
            ),
            (
                "empty version rejected",
                |p| p.version = String::new(),
                "rejected",
                "default-1",
            ),
            (
                "zero half-life rejected",
                |p| p.intent_half_life_days = 0.0,
                "rejected",
                "default-1",
            ),
            (
                "negative cap rejected",
                |p| p.fit_max = -1.0,
                "rejected",
                "default-1",
            ),
            (
                "NaN weight rejected",
                |p| {
                    p.weights.insert("seniority.vp".into(), f64::NAN);
                },
                "rejected",
                "default-1",
            ),
            (
                "unknown code rejected",
                |p| {
                    p.weights.insert("activity.BOGUS".into(), 1.0);
                },
                "rejected",
                "default-1",
            ),
        ];
        for (name, edit, result, version_after) in cases {
            let s = stage();
            let mut p = params("v2");
            edit(&mut p);
            let r = s.on_side_input(AnyEvent::ModelParams(p));
            assert_eq!(r.is_err(), result == "rejected", "{name}: {r:?}");
            assert_eq!(s.metrics.model_updates(result), 1, "{name}");
            assert_eq!(s.model().version(), version_after, "{name}");
        }
    }

    #[tokio::test]
    async fn swapped_model_scores_and_stamps_its_version() {
        let s = stage();
        let mut p = params("2026-12-01.1");
        p.weights.insert("negative.competitor".into(), 100.0);
        p.weights.insert("activity.DEMO_REQUEST".into(), 0.0);
        assert_eq!(
            s.apply_model(p).unwrap(),
            ModelUpdate::Applied {
                from: "default-1".into(),
                to: "2026-12-01.1".into()
            }
        );
        let out = s
            .process(samples::enriched_lead(), &Context::for_test(Timestamp(0)))
            .await
            .unwrap();
        let AnyEvent::ScoredLead(scored) = &out[0].event else {
            panic!("not a scored lead");
        };
        assert_eq!(scored.model_version, "2026-12-01.1");
        assert!(
            !scored
                .factors
                .iter()
                .any(|f| f.code == "activity.DEMO_REQUEST")
        );
    }

    #[test]
    fn other_events_on_the_side_topic_are_ignored() {
        let s = stage();
        assert!(s.on_side_input(samples::lead_event().into()).is_ok());
        assert_eq!(s.model().version(), "default-1");
    }
}
