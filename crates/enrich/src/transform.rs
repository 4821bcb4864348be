//! The enrich transform: raw lead event -> enriched lead (or nothing, for a repeated event).
//!
//! normalise + validate -> persona -> dedup check -> firmographics lookup -> assemble -> remember.
//! Everything but the provider lookup is pure; the lookup degrades to `PROVIDER_UNAVAILABLE` on any
//! provider error, so a provider outage never holds a lead back.

use leadflow_events::{
    DedupKey, EnrichedLead, EnrichmentStatus, Firmographics, LeadEvent, Persona,
};

use crate::dedup::{DedupIndex, DedupVerdict, EventKeys};
use crate::dedup_key::{InputPosition, LeadHashes, dedup_key};
use crate::free_mail::FreeMailList;
use crate::normalise::{Normalised, normalise};
use crate::persona::{PersonaInput, PersonaVerdict, classify};
use crate::provider::{FirmographicsProvider, ProviderError};
use crate::settings::EnrichSettings;
use crate::validate::Invalid;
use crate::{metrics, warnings};

/// What became of one input.
#[derive(Clone, Debug, PartialEq)]
pub enum EnrichOutcome {
    /// The event id was processed before: nothing to produce.
    DuplicateEvent,
    /// A new lead or an update of a known one.
    Lead(Box<EnrichedLead>),
}

/// The enrich transform and its state (the dedup index).
#[derive(Debug)]
pub struct Enricher<P> {
    rules: EnrichRules,
    index: DedupIndex,
    provider: P,
}

/// The stateless part of the transform: normalisation, validation and persona rules. Shared by every
/// partition task without a lock (the stage locks only the dedup index, never across the provider
/// lookup).
#[derive(Debug)]
pub struct EnrichRules {
    free_mail: FreeMailList,
    competitors: Vec<String>,
}

/// A valid, normalised event with its persona, awaiting the dedup verdict and the lookup.
#[derive(Debug)]
pub struct Prepared {
    n: Normalised,
    verdict: PersonaVerdict,
    /// Hash128 of the lead id and normalised email, computed once.
    hashes: LeadHashes,
    /// Where the input record was read, when known (the stage sets it; RULES.md §12).
    input: Option<InputPosition>,
}

impl Prepared {
    /// The event's identity for the dedup index.
    pub fn keys(&self) -> EventKeys<'_> {
        EventKeys {
            event_id: &self.n.lead.event_id,
            hashes: self.hashes,
            at: self.n.lead.occurred_at,
            input: self.input,
            previous_event_id: None,
        }
    }

    /// The same event, read at `input` of the input topic: a redelivery of that very record is
    /// decided again rather than dropped as a repeated event id (RULES.md §12).
    pub fn read_at(mut self, input: InputPosition) -> Self {
        self.input = Some(input);
        self
    }

    /// What the changelog record of this event needs besides its enriched lead.
    pub fn changelog(&self) -> Changelog {
        Changelog {
            hashes: self.hashes,
            input: self.input,
        }
    }

    /// The domain to look firmographics up for, if any.
    pub fn company_domain(&self) -> Option<&str> {
        self.n.company_domain.as_deref()
    }
}

/// The hashes and input position of a prepared event, for its changelog record once decided.
#[derive(Clone, Copy, Debug)]
pub struct Changelog {
    hashes: LeadHashes,
    input: Option<InputPosition>,
}

impl Changelog {
    /// The changelog record (`DedupKey` on `enrich.dedup-keys`) of the event's enriched lead.
    pub fn record(&self, enriched: &EnrichedLead) -> DedupKey {
        dedup_key(
            &enriched.lead.event_id,
            self.hashes,
            enriched.lead.occurred_at,
            enriched.previous_event_id.as_deref(),
            self.input,
        )
    }
}

/// The provider's answer for a prepared event (`None`: no company domain, nothing looked up).
pub type Lookup = Option<Result<Option<Firmographics>, ProviderError>>;

impl EnrichRules {
    pub fn new(settings: &EnrichSettings) -> Self {
        Self {
            free_mail: FreeMailList::new(&settings.extra_free_mail_domains),
            competitors: settings.competitors(),
        }
    }

    /// Normalises and validates `event` and classifies its persona. `Err` when the event is invalid
    /// (it belongs in the exceptions queue).
    pub fn prepare(&self, event: LeadEvent) -> Result<Prepared, Invalid> {
        let n = normalise(event, &self.free_mail)?;
        let verdict = classify(
            PersonaInput {
                title: n.lead.contact.title.as_deref(),
                email_domain: n.email_domain.as_deref(),
                company_domain: n.company_domain.as_deref(),
            },
            &self.competitors,
        );
        let hashes = LeadHashes::of(&n.lead.lead_id, n.lead.contact.email.as_deref());
        Ok(Prepared {
            n,
            verdict,
            hashes,
            input: None,
        })
    }
}

/// Looks a prepared event's company up (nothing to look up without a company domain).
pub async fn look_up<P: FirmographicsProvider>(provider: &P, prepared: &Prepared) -> Lookup {
    match prepared.company_domain() {
        None => None,
        Some(domain) => Some(provider.lookup(domain).await),
    }
}

/// Decides a prepared event against the dedup index and, unless it is a repeated event, assembles
/// its enriched lead and records it in the index. The check and the record happen under the same
/// borrow, so two partitions never both take one lead for new.
pub fn conclude(index: &mut DedupIndex, prepared: Prepared, lookup: Lookup) -> EnrichOutcome {
    let previous_event_id = match index.check(&prepared.keys()) {
        DedupVerdict::DuplicateEvent => {
            metrics::duplicate_event();
            tracing::info!(event_id = %prepared.n.lead.event_id, "duplicate event skipped");
            return EnrichOutcome::DuplicateEvent;
        }
        DedupVerdict::RepeatLead { previous_event_id } => Some(previous_event_id),
        DedupVerdict::NewLead => None,
    };
    let Prepared {
        n,
        verdict,
        hashes,
        input,
    } = prepared;
    let mut quality_warnings = n.warnings;
    let (enrichment, firmographics) = match lookup {
        None => (EnrichmentStatus::Skipped, None),
        Some(Ok(Some(f))) => (EnrichmentStatus::Enriched, Some(f)),
        Some(Ok(None)) => {
            quality_warnings.push(warnings::ENRICHMENT_NOT_FOUND.into());
            (EnrichmentStatus::NotFound, None)
        }
        Some(Err(error)) => {
            if matches!(error, ProviderError::CircuitOpen) {
                tracing::debug!(event_id = %n.lead.event_id, "enrichment skipped: provider circuit breaker open");
            } else {
                tracing::warn!(event_id = %n.lead.event_id, %error, "enrichment provider unavailable; lead continues without firmographics");
            }
            quality_warnings.push(warnings::PROVIDER_UNAVAILABLE.into());
            (EnrichmentStatus::ProviderUnavailable, None)
        }
    };
    let has_country = n.lead.contact.country.is_some()
        || n.lead.company.country.is_some()
        || firmographics.as_ref().is_some_and(|f| f.country.is_some());
    if !has_country {
        quality_warnings.push(warnings::MISSING_COUNTRY.into());
    }

    let lead = n.lead;
    let enriched = EnrichedLead {
        enriched_at: lead.occurred_at,
        account_key: n
            .company_domain
            .clone()
            .unwrap_or_else(|| lead.lead_id.clone()),
        email_domain: n.email_domain,
        free_mail: n.free_mail,
        company_domain: n.company_domain,
        enrichment,
        firmographics,
        persona: verdict.persona,
        persona_reason: verdict.reason,
        is_update: previous_event_id.is_some(),
        previous_event_id,
        quality_warnings,
        lead,
    };
    index.record(&EventKeys {
        event_id: &enriched.lead.event_id,
        hashes,
        at: enriched.lead.occurred_at,
        input,
        previous_event_id: enriched.previous_event_id.as_deref(),
    });
    metrics::set_dedup_entries(index.len());
    if enriched.is_update {
        metrics::lead_update();
    }
    metrics::enriched(
        status_index(enriched.enrichment),
        status_label(enriched.enrichment),
        persona_index(enriched.persona),
        enriched.persona.symbol(),
    );
    EnrichOutcome::Lead(Box::new(enriched))
}

/// Remembers an enriched lead in `index`: one replayed from `leads.enriched` (the upgrade bootstrap,
/// `dedup_bootstrap_from_enriched`, RULES.md §12). Idempotent.
pub fn observe(index: &mut DedupIndex, enriched: &EnrichedLead) {
    let lead = &enriched.lead;
    index.record(
        &EventKeys::new(
            &lead.event_id,
            &lead.lead_id,
            lead.contact.email.as_deref(),
            lead.occurred_at,
        )
        .decided(enriched.previous_event_id.as_deref()),
    );
    metrics::set_dedup_entries(index.len());
}

/// Remembers a lead sighting from the dedup changelog (`enrich.dedup-keys`): replayed after a
/// restart or rebalance, or another instance's (or this one's) output followed live. Idempotent.
pub fn observe_key(index: &mut DedupIndex, key: &DedupKey) {
    index.record(&EventKeys::of_dedup_key(key));
    metrics::set_dedup_entries(index.len());
}

impl<P: FirmographicsProvider> Enricher<P> {
    /// A transform with an empty dedup index.
    pub fn new(settings: &EnrichSettings, provider: P) -> Self {
        Self {
            rules: EnrichRules::new(settings),
            index: DedupIndex::new(settings.dedup_window()),
            provider,
        }
    }

    /// The dedup index (for inspection).
    pub fn index(&self) -> &DedupIndex {
        &self.index
    }

    /// Enriches one raw event. `Err` when the event is invalid (it belongs in the exceptions queue).
    pub async fn enrich(&mut self, event: LeadEvent) -> Result<EnrichOutcome, Invalid> {
        let prepared = self.rules.prepare(event)?;
        // a repeated event is not looked up
        if self.index.check(&prepared.keys()) == DedupVerdict::DuplicateEvent {
            return Ok(conclude(&mut self.index, prepared, None));
        }
        let lookup = look_up(&self.provider, &prepared).await;
        Ok(conclude(&mut self.index, prepared, lookup))
    }

    /// Remembers an enriched lead replayed from `leads.enriched`. Idempotent.
    pub fn observe(&mut self, enriched: &EnrichedLead) {
        observe(&mut self.index, enriched);
    }

    /// Remembers a sighting from the dedup changelog. Idempotent.
    pub fn observe_key(&mut self, key: &DedupKey) {
        observe_key(&mut self.index, key);
    }
}

fn status_label(s: EnrichmentStatus) -> &'static str {
    match s {
        EnrichmentStatus::Enriched => "enriched",
        EnrichmentStatus::NotFound => "not_found",
        EnrichmentStatus::ProviderUnavailable => "provider_unavailable",
        EnrichmentStatus::Skipped => "skipped",
    }
}

/// A dense index per status (for the metric handles kept per label).
fn status_index(s: EnrichmentStatus) -> usize {
    match s {
        EnrichmentStatus::Enriched => 0,
        EnrichmentStatus::NotFound => 1,
        EnrichmentStatus::ProviderUnavailable => 2,
        EnrichmentStatus::Skipped => 3,
    }
}

/// A dense index per persona (for the metric handles kept per label).
fn persona_index(p: Persona) -> usize {
    match p {
        Persona::P1 => 0,
        Persona::P2 => 1,
        Persona::P3 => 2,
        Persona::N1 => 3,
        Persona::N2 => 4,
        Persona::Unknown => 5,
    }
}
