//! The `Stage` shell: leads.raw -> leads.enriched, with leads.enriched replayed as a side input to
//! rebuild the dedup memory after a restart or rebalance.

use std::sync::PoisonError;
use std::time::Duration;

use leadflow_events::AnyEvent;
use leadflow_events::{EnrichedLead, LeadEvent, TopicRole};
use leadflow_runtime::{Context, Output, SideInput, SideStart, Stage, StageError, StageRegistry};
use tokio::sync::{Mutex, MutexGuard};

use crate::provider::{AnyProvider, FirmographicsProvider};
use crate::settings::EnrichSettings;
use crate::transform::{EnrichOutcome, Enricher};

/// The enrich stage.
///
/// The transform keeps the dedup index and awaits the provider while enriching, so it sits behind an
/// async mutex: inputs are enriched one at a time per process, whichever partition they come from
/// (the harness still consumes, produces and acknowledges every partition concurrently). Splitting
/// the index from the provider lookup would let lookups of different partitions overlap.
#[derive(Debug)]
pub struct EnrichStage<P = AnyProvider> {
    enricher: Mutex<Enricher<P>>,
    /// Side-input observations that arrived while the transform was busy.
    pending: std::sync::Mutex<Vec<EnrichedLead>>,
    invalid_owner: String,
    window: Duration,
}

impl EnrichStage<AnyProvider> {
    /// The stage with the provider the settings name; its metrics are registered in `registry`.
    pub fn new(settings: &EnrichSettings, registry: &StageRegistry) -> anyhow::Result<Self> {
        crate::metrics::register(registry)?;
        crate::reference_data::publish();
        let provider = AnyProvider::from_settings(&settings.provider)?;
        Ok(Self::with_provider(settings, provider))
    }
}

impl<P: FirmographicsProvider> EnrichStage<P> {
    /// The stage with an explicit provider (tests, benches).
    pub fn with_provider(settings: &EnrichSettings, provider: P) -> Self {
        Self {
            enricher: Mutex::new(Enricher::new(settings, provider)),
            pending: std::sync::Mutex::new(Vec::new()),
            invalid_owner: settings.invalid_owner.clone(),
            window: settings.dedup_window(),
        }
    }

    /// The transform inside (locked while the guard lives).
    pub async fn enricher(&self) -> MutexGuard<'_, Enricher<P>> {
        let mut enricher = self.enricher.lock().await;
        self.apply_pending(&mut enricher);
        enricher
    }

    fn apply_pending(&self, enricher: &mut Enricher<P>) {
        let pending =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        for enriched in &pending {
            enricher.observe(enriched);
        }
    }
}

impl<P: FirmographicsProvider> Stage for EnrichStage<P> {
    type Input = LeadEvent;
    const NAME: &'static str = "enrich";
    const INPUT: TopicRole = TopicRole::Raw;

    async fn process(&self, input: LeadEvent, _ctx: &Context) -> Result<Vec<Output>, StageError> {
        let mut enricher = self.enricher.lock().await;
        self.apply_pending(&mut enricher);
        let enriched = enricher.enrich(input).await;
        drop(enricher);
        match enriched {
            Ok(EnrichOutcome::Lead(enriched)) => {
                Ok(vec![Output::to(TopicRole::Enriched, *enriched)])
            }
            Ok(EnrichOutcome::DuplicateEvent) => Ok(Vec::new()),
            Err(invalid) => Err(StageError::Poison {
                kind: invalid.kind,
                reason: invalid.reason,
                owner: Some(self.invalid_owner.clone()),
            }),
        }
    }

    fn side_inputs(&self) -> Vec<SideInput> {
        vec![SideInput {
            role: TopicRole::Enriched,
            start: SideStart::Since(self.window),
        }]
    }

    fn on_side_input(&self, event: AnyEvent) -> Result<(), StageError> {
        if let AnyEvent::EnrichedLead(enriched) = event {
            // on_side_input is synchronous and must not wait for an enrich awaiting the provider:
            // when the transform is busy the observation is parked and applied before the next
            // input is enriched
            match self.enricher.try_lock() {
                Ok(mut enricher) => {
                    self.apply_pending(&mut enricher);
                    enricher.observe(&enriched);
                }
                Err(_) => self
                    .pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(enriched),
            }
        }
        Ok(())
    }
}
