//! The `Stage` shell: leads.tiered → leads.state (every decision's merged state) and, when a re-score
//! reaches a human band, the merged lead back onto leads.enriched; the book is rebuilt from
//! leads.state at start and follows it; the live model comes from model.params; the schedule runs on
//! the runtime's timers for the accounts of the partitions this instance owns.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use leadflow_events::{AnyEvent, ModelParams, TierDecision, Timestamp, TopicRole};
use leadflow_runtime::{
    Context, Output, OwnedKeys, SideInput, SideStart, Stage, StageError, StageRegistry,
};
use leadflow_score::{Model, ModelError};

use crate::metrics::RescoreMetrics;
use crate::settings::RescoreSettings;
use crate::state::{Book, RESCORE_ATTRIBUTE, Why, scheduled};

/// Why the stage could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RescoreInitError {
    #[error("stage.model_path: {0}")]
    Model(#[from] ModelError),
    #[error("cannot register the rescore metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// The rescore stage.
pub struct RescoreStage {
    book: Mutex<Book>,
    model: RwLock<Arc<Model>>,
    settings: RescoreSettings,
    metrics: RescoreMetrics,
}

impl RescoreStage {
    pub fn new(
        settings: &RescoreSettings,
        registry: &StageRegistry,
    ) -> Result<Self, RescoreInitError> {
        let model = match &settings.model_path {
            Some(path) => Model::from_file(path, &settings.model_name)?,
            None => Model::embedded(&settings.model_name)?,
        };
        Ok(Self::with_model(
            settings,
            model,
            RescoreMetrics::register(registry)?,
        ))
    }

    pub fn with_model(settings: &RescoreSettings, model: Model, metrics: RescoreMetrics) -> Self {
        Self {
            book: Mutex::new(Book::default()),
            model: RwLock::new(Arc::new(model)),
            settings: settings.clone(),
            metrics,
        }
    }

    /// The live model.
    pub fn model(&self) -> Arc<Model> {
        self.model
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn metrics(&self) -> &RescoreMetrics {
        &self.metrics
    }

    fn with_book<T>(&self, f: impl FnOnce(&mut Book) -> T) -> T {
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let out = f(&mut book);
        self.metrics.set_nurtured(book.nurtured());
        out
    }

    /// A newer version of the configured model from model.params replaces the live one.
    fn apply_model(&self, params: ModelParams) -> Result<(), ModelError> {
        if params.model != self.settings.model_name || &params == self.model().params() {
            return Ok(());
        }
        let next = Arc::new(Model::from_params(params, &self.settings.model_name)?);
        tracing::info!(
            version = next.version(),
            "re-scoring with a new model version"
        );
        *self.model.write().unwrap_or_else(PoisonError::into_inner) = next;
        Ok(())
    }
}

impl Stage for RescoreStage {
    type Input = TierDecision;
    const NAME: &'static str = crate::SERVICE_NAME;
    const INPUT: TopicRole = TopicRole::Tiered;

    async fn process(
        &self,
        input: TierDecision,
        _ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        let model = self.model();
        let applied = self.with_book(|b| b.decision(&input, &model, &self.settings));
        self.metrics.decision(applied.outcome);
        let mut out = vec![Output::to(TopicRole::LeadState, applied.state)];
        if let Some(r) = applied.reentry {
            tracing::info!(
                lead_id = %r.lead.lead.lead_id, score = r.score, was = r.previous_score,
                "new intent lifts a nurtured lead into a human band: re-entered"
            );
            out.push(Output::to(TopicRole::Enriched, r.lead));
        }
        Ok(out)
    }

    fn side_inputs(&self) -> Vec<SideInput> {
        vec![
            SideInput {
                role: TopicRole::ModelParams,
                start: SideStart::Beginning,
            },
            SideInput {
                role: TopicRole::LeadState,
                start: SideStart::Beginning,
            },
        ]
    }

    fn on_side_input(&self, event: AnyEvent) -> Result<(), StageError> {
        match event {
            AnyEvent::ScoredLead(record) => {
                self.with_book(|b| b.side(&record));
                Ok(())
            }
            AnyEvent::ModelParams(params) => self.apply_model(params).map_err(|e| {
                StageError::poison(leadflow_events::ErrorKind::Validation, e.to_string())
            }),
            AnyEvent::Tombstone(t) if t.kind == leadflow_events::EventKind::ScoredLead => {
                self.with_book(|b| b.forget(&t.key));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn timer_interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(self.settings.tick_ms))
    }

    /// S1–S4: the due nurtured leads of the owned accounts, re-scored with the live model; those in
    /// a human band re-enter (marked when delivered), the others are not due for another interval.
    async fn on_timer(&self, owned: &OwnedKeys, now: Timestamp) -> Result<Vec<Output>, StageError> {
        let due = self.with_book(|b| b.due(now, &self.settings, |k| owned.owns(k)));
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let model = self.model();
        let mut out = Vec::new();
        let mut stays = Vec::new();
        for stored in &due {
            match scheduled(stored, now, &model, &self.settings) {
                Some(r) => {
                    tracing::info!(
                        lead_id = %r.lead.lead.lead_id, score = r.score, was = r.previous_score,
                        "scheduled re-score lifts a nurtured lead into a human band: re-entered"
                    );
                    out.push(Output::to(TopicRole::Enriched, r.lead));
                }
                None => stays.push(stored.lead.lead.lead_id.clone()),
            }
        }
        self.metrics.scheduled("stays", stays.len() as u64);
        self.with_book(|b| {
            for lead in &stays {
                b.checked(lead, now);
            }
        });
        Ok(out)
    }

    fn on_timer_delivered(&self, output: &Output) {
        let AnyEvent::EnrichedLead(lead) = &output.event else {
            return;
        };
        if lead
            .lead
            .attributes
            .get(RESCORE_ATTRIBUTE)
            .map(String::as_str)
            == Some(Why::Scheduled.label())
        {
            self.metrics.scheduled("reentered", 1);
            self.with_book(|b| b.checked(&lead.lead.lead_id, lead.lead.occurred_at));
        }
    }
}
