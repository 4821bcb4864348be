//! The enrich transform: raw lead event -> enriched lead (or nothing, for a repeated event).
//!
//! normalise + validate -> persona -> dedup check -> firmographics lookup -> assemble -> remember.
//! Everything but the provider lookup is pure; the lookup degrades to `PROVIDER_UNAVAILABLE` on any
//! provider error, so a provider outage never holds a lead back.

use leadflow_events::{EnrichedLead, EnrichmentStatus, LeadEvent, Persona};

use crate::dedup::{DedupIndex, DedupVerdict, EventKeys};
use crate::free_mail::FreeMailList;
use crate::normalise::normalise;
use crate::persona::{PersonaInput, classify};
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
    free_mail: FreeMailList,
    competitors: Vec<String>,
    index: DedupIndex,
    provider: P,
}

impl<P: FirmographicsProvider> Enricher<P> {
    /// A transform with an empty dedup index.
    pub fn new(settings: &EnrichSettings, provider: P) -> Self {
        Self {
            free_mail: FreeMailList::new(&settings.extra_free_mail_domains),
            competitors: settings.competitors(),
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
        let n = normalise(event, &self.free_mail)?;
        let keys = EventKeys {
            event_id: &n.lead.event_id,
            lead_id: &n.lead.lead_id,
            email: n.lead.contact.email.as_deref(),
            at: n.lead.occurred_at,
        };
        let previous_event_id = match self.index.check(&keys) {
            DedupVerdict::DuplicateEvent => {
                metrics::duplicate_event();
                tracing::info!(event_id = %n.lead.event_id, "duplicate event skipped");
                return Ok(EnrichOutcome::DuplicateEvent);
            }
            DedupVerdict::RepeatLead { previous_event_id } => Some(previous_event_id),
            DedupVerdict::NewLead => None,
        };

        let verdict = classify(
            PersonaInput {
                title: n.lead.contact.title.as_deref(),
                email_domain: n.email_domain.as_deref(),
                company_domain: n.company_domain.as_deref(),
            },
            &self.competitors,
        );

        let mut quality_warnings = n.warnings;
        let (enrichment, firmographics) = match n.company_domain.as_deref() {
            None => (EnrichmentStatus::Skipped, None),
            Some(domain) => match self.provider.lookup(domain).await {
                Ok(Some(f)) => (EnrichmentStatus::Enriched, Some(f)),
                Ok(None) => {
                    quality_warnings.push(warnings::ENRICHMENT_NOT_FOUND.into());
                    (EnrichmentStatus::NotFound, None)
                }
                Err(error) => {
                    if matches!(error, ProviderError::CircuitOpen) {
                        tracing::debug!(event_id = %n.lead.event_id, "enrichment skipped: provider circuit breaker open");
                    } else {
                        tracing::warn!(event_id = %n.lead.event_id, %error, "enrichment provider unavailable; lead continues without firmographics");
                    }
                    quality_warnings.push(warnings::PROVIDER_UNAVAILABLE.into());
                    (EnrichmentStatus::ProviderUnavailable, None)
                }
            },
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
        self.observe(&enriched);
        if enriched.is_update {
            metrics::lead_update();
        }
        metrics::enriched(
            status_label(enriched.enrichment),
            persona_label(enriched.persona),
        );
        Ok(EnrichOutcome::Lead(Box::new(enriched)))
    }

    /// Remembers an enriched lead: one just produced, or one replayed from `leads.enriched` after a
    /// restart or rebalance. Idempotent.
    pub fn observe(&mut self, enriched: &EnrichedLead) {
        let lead = &enriched.lead;
        self.index.record(&EventKeys {
            event_id: &lead.event_id,
            lead_id: &lead.lead_id,
            email: lead.contact.email.as_deref(),
            at: lead.occurred_at,
        });
        metrics::set_dedup_entries(self.index.len());
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

fn persona_label(p: Persona) -> &'static str {
    match p {
        Persona::P1 => "P1",
        Persona::P2 => "P2",
        Persona::P3 => "P3",
        Persona::N1 => "N1",
        Persona::N2 => "N2",
        Persona::Unknown => "UNKNOWN",
    }
}
