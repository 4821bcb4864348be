//! The `Stage` shell: leads.raw -> leads.enriched, with leads.enriched replayed as a side input to
//! rebuild the dedup memory after a restart or rebalance.

use std::time::Duration;

use leadflow_events::json::AnyEvent;
use leadflow_events::{LeadEvent, TopicRole};
use leadflow_runtime::{Context, Output, SideInput, SideStart, Stage, StageError};

use crate::provider::{AnyProvider, FirmographicsProvider};
use crate::settings::EnrichSettings;
use crate::transform::{EnrichOutcome, Enricher};

/// The enrich stage.
#[derive(Debug)]
pub struct EnrichStage<P = AnyProvider> {
    enricher: Enricher<P>,
    invalid_owner: String,
    window: Duration,
}

impl EnrichStage<AnyProvider> {
    /// The stage with the provider the settings name.
    pub fn new(settings: &EnrichSettings) -> anyhow::Result<Self> {
        crate::reference_data::publish();
        let provider = AnyProvider::from_settings(&settings.provider)?;
        Ok(Self::with_provider(settings, provider))
    }
}

impl<P: FirmographicsProvider> EnrichStage<P> {
    /// The stage with an explicit provider (tests, benches).
    pub fn with_provider(settings: &EnrichSettings, provider: P) -> Self {
        Self {
            enricher: Enricher::new(settings, provider),
            invalid_owner: settings.invalid_owner.clone(),
            window: settings.dedup_window(),
        }
    }

    /// The transform inside.
    pub fn enricher(&self) -> &Enricher<P> {
        &self.enricher
    }
}

impl<P: FirmographicsProvider> Stage for EnrichStage<P> {
    type Input = LeadEvent;
    const NAME: &'static str = "enrich";
    const INPUT: TopicRole = TopicRole::Raw;

    async fn process(
        &mut self,
        input: LeadEvent,
        _ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        match self.enricher.enrich(input).await {
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

    fn on_side_input(&mut self, event: AnyEvent) -> Result<(), StageError> {
        if let AnyEvent::EnrichedLead(enriched) = event {
            self.enricher.observe(&enriched);
        }
        Ok(())
    }
}
