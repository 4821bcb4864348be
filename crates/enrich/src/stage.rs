//! The `Stage` shell: leads.raw -> leads.enriched + the dedup changelog (enrich.dedup-keys), with the
//! changelog replayed as a side input to rebuild the dedup memory after a restart or rebalance.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use leadflow_events::AnyEvent;
use leadflow_events::{DedupKeyBatch, LeadEvent, TopicRole};
use leadflow_runtime::{Context, Output, SideInput, SideStart, Stage, StageError, StageRegistry};

use crate::dedup::{DedupIndex, DedupVerdict};
use crate::dedup_key::InputPosition;
use crate::provider::{AnyProvider, FirmographicsProvider};
use crate::settings::EnrichSettings;
use crate::transform::{EnrichOutcome, EnrichRules, conclude, look_up, observe, observe_key};

/// The enrich stage.
///
/// Inputs of different partitions are enriched at once: normalisation and the persona rules need no
/// lock, the provider lookup is awaited without one, and the dedup index is locked (a
/// `std::sync::Mutex`, never held across an `.await`) only to check an event and to record it. The
/// final check and the record happen under one lock, so two partitions never both take a lead for new.
#[derive(Debug)]
pub struct EnrichStage<P = AnyProvider> {
    rules: EnrichRules,
    index: Mutex<DedupIndex>,
    provider: P,
    invalid_owner: String,
    window: Duration,
    bootstrap_from_enriched: bool,
}

/// A view of the stage's dedup index (locked while it lives).
pub struct EnricherView<'a>(MutexGuard<'a, DedupIndex>);

impl EnricherView<'_> {
    /// The dedup index.
    pub fn index(&self) -> &DedupIndex {
        &self.0
    }
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
            rules: EnrichRules::new(settings),
            index: Mutex::new(DedupIndex::new(settings.dedup_window())),
            provider,
            invalid_owner: settings.invalid_owner.clone(),
            window: settings.dedup_window(),
            bootstrap_from_enriched: settings.dedup_bootstrap_from_enriched,
        }
    }

    /// The dedup state (locked while the view lives).
    pub async fn enricher(&self) -> EnricherView<'_> {
        EnricherView(self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, DedupIndex> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<P: FirmographicsProvider> Stage for EnrichStage<P> {
    type Input = LeadEvent;
    const NAME: &'static str = "enrich";
    const INPUT: TopicRole = TopicRole::Raw;

    async fn process(&self, input: LeadEvent, ctx: &Context) -> Result<Vec<Output>, StageError> {
        let prepared = self
            .rules
            .prepare(input)
            .map_err(|invalid| StageError::Poison {
                kind: invalid.kind,
                reason: invalid.reason,
                owner: Some(self.invalid_owner.clone()),
            })?
            .read_at(InputPosition {
                partition: ctx.partition,
                offset: ctx.offset,
            });
        // a repeated event is not looked up
        let repeated = self.lock().check(&prepared.keys()) == DedupVerdict::DuplicateEvent;
        let lookup = if repeated {
            None
        } else {
            look_up(&self.provider, &prepared).await
        };
        let changelog = prepared.changelog();
        let outcome = conclude(&mut self.lock(), prepared, lookup);
        match outcome {
            // the lead, then its changelog entry keyed like it, which the runtime may join with the
            // entries waiting for the same partition; it stores the input's offset only once both
            // records are acknowledged (RULES.md §12)
            EnrichOutcome::Lead(enriched) => {
                let lead_id = enriched.lead.lead_id.clone();
                let key = DedupKeyBatch::of(changelog.record(&enriched));
                Ok(vec![
                    Output::to(TopicRole::Enriched, *enriched),
                    Output::to(TopicRole::DedupKeys, key).with_key(lead_id),
                ])
            }
            EnrichOutcome::DuplicateEvent => Ok(Vec::new()),
        }
    }

    /// The dedup changelog for the last window; with `dedup_bootstrap_from_enriched`, also
    /// `leads.enriched` for the last window (the first window after an upgrade).
    fn side_inputs(&self) -> Vec<SideInput> {
        let since = SideStart::Since(self.window);
        let mut inputs = vec![SideInput {
            role: TopicRole::DedupKeys,
            start: since,
        }];
        if self.bootstrap_from_enriched {
            inputs.push(SideInput {
                role: TopicRole::Enriched,
                start: since,
            });
        }
        inputs
    }

    fn on_side_input(&self, event: AnyEvent) -> Result<(), StageError> {
        match event {
            AnyEvent::DedupKeyBatch(batch) => {
                let mut index = self.lock();
                for key in &batch.keys {
                    observe_key(&mut index, key);
                }
            }
            // written by versions before the changelog was batched
            AnyEvent::DedupKey(key) => observe_key(&mut self.lock(), &key),
            AnyEvent::EnrichedLead(enriched) => observe(&mut self.lock(), &enriched),
            _ => {}
        }
        Ok(())
    }
}
