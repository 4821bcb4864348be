//! The enrich stage's own metrics. The transform and the provider count through the free functions
//! below (process-wide collectors, so the pure code needs no handle); [`register`] puts those
//! collectors in the stage's [`StageRegistry`], which the runtime serves on `/metrics`. Registration
//! errors are returned to the caller (the stage fails to build), never dropped. Labels are bounded:
//! outcomes, statuses, personas.

use std::sync::{LazyLock, OnceLock};

use leadflow_runtime::StageRegistry;
use prometheus::{IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts};

/// The stage's metrics.
pub struct EnrichMetrics {
    pub duplicate_events: IntCounter,
    pub lead_updates: IntCounter,
    pub enrichment: IntCounterVec,
    pub personas: IntCounterVec,
    pub provider_requests: IntCounterVec,
    pub breaker_open: IntGauge,
    pub dedup_entries: IntGauge,
    pub reference_data: IntGaugeVec,
}

impl EnrichMetrics {
    fn create() -> Result<Self, prometheus::Error> {
        let m = Self {
            duplicate_events: IntCounter::with_opts(Opts::new(
                "leadflow_enrich_duplicate_events_total",
                "Input events dropped because their event_id was already processed",
            ))?,
            lead_updates: IntCounter::with_opts(Opts::new(
                "leadflow_enrich_lead_updates_total",
                "Leads seen again within the dedup window, emitted as updates",
            ))?,
            enrichment: IntCounterVec::new(
                Opts::new(
                    "leadflow_enrich_enrichment_total",
                    "Enriched leads by firmographic enrichment status",
                ),
                &["status"],
            )?,
            personas: IntCounterVec::new(
                Opts::new(
                    "leadflow_enrich_personas_total",
                    "Enriched leads by persona",
                ),
                &["persona"],
            )?,
            provider_requests: IntCounterVec::new(
                Opts::new(
                    "leadflow_enrich_provider_requests_total",
                    "HTTP provider requests by result (found, not_found, timeout, status, transport, decode, circuit_open)",
                ),
                &["result"],
            )?,
            breaker_open: IntGauge::with_opts(Opts::new(
                "leadflow_enrich_provider_breaker_open",
                "1 while the HTTP provider's circuit breaker is open or half-open",
            ))?,
            dedup_entries: IntGauge::with_opts(Opts::new(
                "leadflow_enrich_dedup_index_entries",
                "Event ids, emails and lead ids held by the deduplication index",
            ))?,
            reference_data: IntGaugeVec::new(
                Opts::new(
                    "leadflow_enrich_reference_data_info",
                    "1 per reference data set compiled in (public suffix list, phone metadata, ISO 3166, disposable domains), labelled with its version",
                ),
                &["dataset", "version"],
            )?,
        };
        Ok(m)
    }
}

static METRICS: LazyLock<Result<EnrichMetrics, prometheus::Error>> =
    LazyLock::new(EnrichMetrics::create);

/// Registers the enrich metrics in the stage's registry (the one `/metrics` serves).
pub fn register(registry: &StageRegistry) -> Result<(), prometheus::Error> {
    let m = match METRICS.as_ref() {
        Ok(m) => m,
        Err(e) => return Err(prometheus::Error::Msg(format!("enrich metrics: {e}"))),
    };
    registry.register(Box::new(m.duplicate_events.clone()))?;
    registry.register(Box::new(m.lead_updates.clone()))?;
    registry.register(Box::new(m.enrichment.clone()))?;
    registry.register(Box::new(m.personas.clone()))?;
    registry.register(Box::new(m.provider_requests.clone()))?;
    registry.register(Box::new(m.breaker_open.clone()))?;
    registry.register(Box::new(m.dedup_entries.clone()))?;
    registry.register(Box::new(m.reference_data.clone()))?;
    Ok(())
}

/// The metrics; `None` only if their definitions are invalid ([`register`] reports that).
pub fn get() -> Option<&'static EnrichMetrics> {
    METRICS.as_ref().ok()
}

pub(crate) fn duplicate_event() {
    if let Some(m) = get() {
        m.duplicate_events.inc();
    }
}

pub(crate) fn lead_update() {
    if let Some(m) = get() {
        m.lead_updates.inc();
    }
}

/// Counter handles per label value, resolved on first use (so `/metrics` shows a series only once it
/// counted something, as with `with_label_values` per call) and then kept: no label lookup per lead.
static STATUS_HANDLES: [OnceLock<Option<IntCounter>>; 4] = [const { OnceLock::new() }; 4];
static PERSONA_HANDLES: [OnceLock<Option<IntCounter>>; 6] = [const { OnceLock::new() }; 6];

/// Counts an enriched lead by status and persona; `*_index` are dense indexes of the label values
/// (a status or persona always passes the same label with the same index).
pub(crate) fn enriched(status_index: usize, status: &str, persona_index: usize, persona: &str) {
    let Some(m) = get() else { return };
    let handle = |handles: &'static [OnceLock<Option<IntCounter>>],
                  i: usize,
                  vec: &IntCounterVec,
                  label: &str| {
        handles.get(i).and_then(|h| {
            h.get_or_init(|| vec.get_metric_with_label_values(&[label]).ok())
                .as_ref()
        })
    };
    if let Some(c) = handle(&STATUS_HANDLES, status_index, &m.enrichment, status) {
        c.inc();
    }
    if let Some(c) = handle(&PERSONA_HANDLES, persona_index, &m.personas, persona) {
        c.inc();
    }
}

pub(crate) fn provider_request(result: &str) {
    if let Some(m) = get() {
        m.provider_requests.with_label_values(&[result]).inc();
    }
}

pub(crate) fn set_breaker_open(open: bool) {
    if let Some(m) = get() {
        m.breaker_open.set(i64::from(open));
    }
}

pub(crate) fn set_dedup_entries(n: usize) {
    if let Some(m) = get() {
        m.dedup_entries.set(i64::try_from(n).unwrap_or(i64::MAX));
    }
}

pub(crate) fn set_reference_data(dataset: &str, version: &str) {
    if let Some(m) = get() {
        m.reference_data
            .with_label_values(&[dataset, version])
            .set(1);
    }
}
