//! The pure part: what the stage keeps per lead, how a new decision merges into it (rules M1–M4),
//! which decisions re-enter a lead at once (I1–I5), which leads the schedule re-scores (S1–S4), and
//! what a re-entry looks like (E1–E3). `RULES.md` has the rules in words.

use std::collections::HashMap;

use leadflow_events::{
    Activity, EnrichedLead, HandoffKind, LeadEventType, ScoredLead, TierDecision, Timestamp,
};
use leadflow_score::{Assessment, Model, assess};
pub use leadflow_tier::{RESCORE_ATTRIBUTE, RESCORE_PREVIOUS_SCORE_ATTRIBUTE};

use crate::settings::RescoreSettings;

/// State attribute (on `leads.state` only): the tier of the lead's latest decision.
pub const STATE_TIER: &str = "leadflow.state.tier";
/// State attribute: the handoff of the lead's latest decision (`NONE`, `CAPTURE`, ...).
pub const STATE_HANDOFF: &str = "leadflow.state.handoff";
/// State attribute: the state's version, one more per decision (M4: the newest wins).
pub const STATE_VERSION: &str = "leadflow.state.version";
/// What a re-entry's event id carries after the original event id.
const REENTRY_MARK: &str = "~rescore-";

/// Why a lead was re-scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// New intent of a known lead (I1–I5).
    Intent,
    /// The weekly schedule (S1–S4).
    Scheduled,
}

impl Why {
    /// The `leadflow.rescore` attribute's value.
    pub fn label(self) -> &'static str {
        match self {
            Why::Intent => "intent",
            Why::Scheduled => "scheduled",
        }
    }
}

/// A lead held for re-scoring: its latest decision hands it to nobody (M3).
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    /// The merged lead (M1, M2), without the state and re-score attributes.
    pub lead: EnrichedLead,
    /// The score of the latest decision.
    pub score: i32,
    /// The tier of the latest decision.
    pub tier: String,
    pub model_version: String,
    pub version: u64,
    /// Event time of the lead's last scoring: its latest decision or scheduled re-score (S1).
    pub checked_at: Timestamp,
}

/// What the stage remembers of one lead.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    Nurtured(Box<Stored>),
    /// The latest decision hands the lead to a human: only its version is kept (M3, M4).
    Human {
        version: u64,
    },
}

impl Entry {
    pub fn version(&self) -> u64 {
        match self {
            Entry::Nurtured(s) => s.version,
            Entry::Human { version } => *version,
        }
    }
}

/// A lead sent back onto `leads.enriched`.
#[derive(Clone, Debug, PartialEq)]
pub struct Reentry {
    pub why: Why,
    pub lead: EnrichedLead,
    /// The re-score's own score with the live model (the score stage computes it again).
    pub score: i32,
    pub previous_score: i32,
}

/// What one decision did.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    /// The lead's new state, for `leads.state`.
    pub state: ScoredLead,
    pub reentry: Option<Reentry>,
    /// `stored`, `handed_off` or `reentered` (the metric's label).
    pub outcome: &'static str,
}

/// Every lead the stage knows, by lead id.
#[derive(Debug, Default)]
pub struct Book {
    leads: HashMap<String, Entry>,
    nurtured: usize,
}

impl Book {
    pub fn get(&self, lead_id: &str) -> Option<&Entry> {
        self.leads.get(lead_id)
    }

    /// Leads held for re-scoring.
    pub fn nurtured(&self) -> usize {
        self.nurtured
    }

    /// Every lead known (nurtured and with a human).
    pub fn len(&self) -> usize {
        self.leads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.leads.is_empty()
    }

    fn put(&mut self, lead_id: String, entry: Entry) {
        let was = matches!(self.leads.get(&lead_id), Some(Entry::Nurtured(_)));
        let is = matches!(entry, Entry::Nurtured(_));
        self.leads.insert(lead_id, entry);
        self.nurtured = self.nurtured + usize::from(is) - usize::from(was);
    }

    /// Applies one decision from `leads.tiered`: the merged state to write and, when I1–I5 hold, the
    /// re-entry of the merged lead.
    pub fn decision(
        &mut self,
        d: &TierDecision,
        model: &Model,
        settings: &RescoreSettings,
    ) -> Applied {
        let event = &d.scored.enriched;
        let lead_id = event.lead.lead_id.clone();
        let prev = match self.leads.get(&lead_id) {
            Some(Entry::Nurtured(s)) => Some(s.as_ref()),
            _ => None,
        };
        let version = self.leads.get(&lead_id).map_or(0, Entry::version) + 1;
        let merged = match prev {
            Some(p) => merge(&p.lead, event, settings.max_activities),
            None => {
                let mut lead = event.clone();
                clean(&mut lead);
                bound_activities(&mut lead.lead.activities, settings.max_activities);
                lead
            }
        };
        let reentry = prev.and_then(|_| intent_reentry(d, &merged, model, settings));
        let state = state_record(d, &merged, version);
        let (entry, outcome) = if d.handoff == HandoffKind::None {
            let stored = Stored {
                lead: merged,
                score: d.scored.score,
                tier: d.tier.clone(),
                model_version: d.scored.model_version.clone(),
                version,
                checked_at: d.decided_at,
            };
            let outcome = if reentry.is_some() {
                "reentered"
            } else {
                "stored"
            };
            (Entry::Nurtured(Box::new(stored)), outcome)
        } else {
            (Entry::Human { version }, "handed_off")
        };
        self.put(lead_id, entry);
        Applied {
            state,
            reentry,
            outcome,
        }
    }

    /// Applies one record of `leads.state` (the replay at start, other instances' writes, this
    /// one's own echo): only a newer version than the one held (M4). True when applied.
    pub fn side(&mut self, record: &ScoredLead) -> bool {
        let attributes = &record.enriched.lead.attributes;
        let Some(version) = attributes
            .get(STATE_VERSION)
            .and_then(|v| v.parse::<u64>().ok())
        else {
            return false;
        };
        let lead_id = &record.enriched.lead.lead_id;
        if self
            .leads
            .get(lead_id)
            .is_some_and(|e| e.version() >= version)
        {
            return false;
        }
        let entry = if attributes.get(STATE_HANDOFF).map(String::as_str) == Some("NONE") {
            let tier = attributes.get(STATE_TIER).cloned().unwrap_or_default();
            let mut lead = record.enriched.clone();
            clean(&mut lead);
            Entry::Nurtured(Box::new(Stored {
                checked_at: lead.lead.occurred_at,
                lead,
                score: record.score,
                tier,
                model_version: record.model_version.clone(),
                version,
            }))
        } else {
            Entry::Human { version }
        };
        self.put(lead_id.clone(), entry);
        true
    }

    /// Forgets a lead (a tombstone on `leads.state`).
    pub fn forget(&mut self, lead_id: &str) {
        if let Some(Entry::Nurtured(_)) = self.leads.remove(lead_id) {
            self.nurtured -= 1;
        }
    }

    /// S1–S3: the nurtured leads the schedule re-scores at `now`, oldest scoring first, at most
    /// `max_per_round`, of the accounts `owns` says this instance fires.
    pub fn due(
        &self,
        now: Timestamp,
        settings: &RescoreSettings,
        owns: impl Fn(&str) -> bool,
    ) -> Vec<Stored> {
        let interval = settings.interval_ms();
        let mut due: Vec<&Stored> = self
            .leads
            .values()
            .filter_map(|e| match e {
                Entry::Nurtured(s) => Some(s.as_ref()),
                Entry::Human { .. } => None,
            })
            .filter(|s| now.0.saturating_sub(s.checked_at.0) >= interval)
            .filter(|s| settings.tiers.contains(&s.tier))
            .filter(|s| owns(s.lead.account_or_lead()))
            .collect();
        due.sort_by(|a, b| {
            (a.checked_at.0, &a.lead.lead.lead_id).cmp(&(b.checked_at.0, &b.lead.lead.lead_id))
        });
        due.into_iter()
            .take(settings.max_per_round)
            .cloned()
            .collect()
    }

    /// S4: the lead was scored at `at` (a scheduled re-score that stays, or a delivered re-entry):
    /// not due again before `at` + the interval.
    pub fn checked(&mut self, lead_id: &str, at: Timestamp) {
        if let Some(Entry::Nurtured(s)) = self.leads.get_mut(lead_id) {
            s.checked_at = Timestamp(s.checked_at.0.max(at.0));
        }
    }
}

/// H1: a score that a human band takes (score and confidence).
pub fn reaches_human(a: &Assessment, settings: &RescoreSettings) -> bool {
    a.score >= settings.human_min_score && a.confidence >= settings.min_confidence
}

/// I4: the event brings intent: activities, or an event type that is itself a signal.
pub fn carries_intent(event: &EnrichedLead) -> bool {
    !event.lead.activities.is_empty()
        || matches!(
            event.lead.event_type,
            LeadEventType::FormSubmission
                | LeadEventType::ChatConversation
                | LeadEventType::ContentDownload
                | LeadEventType::Webinar
                | LeadEventType::IntentSurge
                | LeadEventType::ProductSignup
                | LeadEventType::EmailReply
        )
}

/// I1–I5 for a lead already held (I1): the re-entry of the merged lead, if any.
fn intent_reentry(
    d: &TierDecision,
    merged: &EnrichedLead,
    model: &Model,
    settings: &RescoreSettings,
) -> Option<Reentry> {
    let event = &d.scored.enriched;
    // I2: the event alone hands the lead to nobody; I3: not itself a re-entry (no loop)
    if d.handoff != HandoffKind::None
        || event.lead.attributes.contains_key(RESCORE_ATTRIBUTE)
        || !carries_intent(event)
    {
        return None;
    }
    let lead = reentry_lead(merged, Why::Intent, d.decided_at, d.scored.score);
    let a = assess(&lead, model, 0);
    // I5: the merged lead reaches a human band the event alone did not
    (reaches_human(&a, settings) && a.score > d.scored.score).then_some(Reentry {
        why: Why::Intent,
        lead,
        score: a.score,
        previous_score: d.scored.score,
    })
}

/// S1–S3 for one due lead: the re-entry when the live model at `now` puts it in a human band (H1).
pub fn scheduled(
    stored: &Stored,
    now: Timestamp,
    model: &Model,
    settings: &RescoreSettings,
) -> Option<Reentry> {
    let lead = reentry_lead(&stored.lead, Why::Scheduled, now, stored.score);
    let a = assess(&lead, model, 0);
    reaches_human(&a, settings).then_some(Reentry {
        why: Why::Scheduled,
        lead,
        score: a.score,
        previous_score: stored.score,
    })
}

/// E1–E3: the merged lead as a new event of `at`: a deterministic event id
/// (`<event_id>~rescore-intent`, `<event_id>~rescore-scheduled-<at ms>`), an update of the lead's
/// latest event, and the two re-score attributes.
pub fn reentry_lead(merged: &EnrichedLead, why: Why, at: Timestamp, previous: i32) -> EnrichedLead {
    let mut lead = merged.clone();
    let base = original_event_id(&merged.lead.event_id).to_owned();
    lead.lead.event_id = match why {
        Why::Intent => format!("{base}{REENTRY_MARK}intent"),
        Why::Scheduled => format!("{base}{REENTRY_MARK}scheduled-{}", at.0),
    };
    lead.previous_event_id = Some(merged.lead.event_id.clone());
    lead.is_update = true;
    lead.lead.occurred_at = at;
    lead.enriched_at = at;
    let attributes = &mut lead.lead.attributes;
    attributes.insert(RESCORE_ATTRIBUTE.into(), why.label().into());
    attributes.insert(
        RESCORE_PREVIOUS_SCORE_ATTRIBUTE.into(),
        previous.to_string(),
    );
    lead
}

/// The event id a chain of re-entries started from.
fn original_event_id(id: &str) -> &str {
    id.find(REENTRY_MARK).map_or(id, |i| &id[..i])
}

/// The state record: the merged lead with the decision's score and the state attributes.
fn state_record(d: &TierDecision, merged: &EnrichedLead, version: u64) -> ScoredLead {
    let mut enriched = merged.clone();
    let attributes = &mut enriched.lead.attributes;
    attributes.insert(STATE_TIER.into(), d.tier.clone());
    attributes.insert(STATE_HANDOFF.into(), handoff_symbol(d.handoff).into());
    attributes.insert(STATE_VERSION.into(), version.to_string());
    ScoredLead {
        enriched,
        score: d.scored.score,
        fit: d.scored.fit,
        intent: d.scored.intent,
        qualification: d.scored.qualification,
        negative: d.scored.negative,
        confidence: d.scored.confidence,
        factors: d.scored.factors.clone(),
        model_version: d.scored.model_version.clone(),
        scored_at: d.scored.scored_at,
    }
}

fn handoff_symbol(h: HandoffKind) -> &'static str {
    match h {
        HandoffKind::Escalation => "ESCALATION",
        HandoffKind::Capture => "CAPTURE",
        HandoffKind::None => "NONE",
        HandoffKind::SoftEscalation => "SOFT_ESCALATION",
    }
}

/// Drops the state and re-score attributes (M1: they describe a record, not the lead).
fn clean(lead: &mut EnrichedLead) {
    lead.lead
        .attributes
        .retain(|k, _| !k.starts_with("leadflow.state.") && !k.starts_with(RESCORE_ATTRIBUTE));
}

fn pick(next: &Option<String>, prev: &Option<String>) -> Option<String> {
    match next {
        Some(v) if !v.trim().is_empty() => Some(v.clone()),
        _ => prev.clone(),
    }
}

/// M1, M2: the lead after `next`: the newest event's own fields (id, type, time, persona,
/// enrichment), each contact and company field the newest non-empty one, the chat and session the
/// newest there is, attributes unioned (the newer wins), activities unioned without duplicates
/// (kind + time + detail), the newest `max_activities` kept.
pub fn merge(prev: &EnrichedLead, next: &EnrichedLead, max_activities: usize) -> EnrichedLead {
    let mut m = next.clone();
    clean(&mut m);
    let (p, n) = (&prev.lead, &next.lead);
    let c = &mut m.lead.contact;
    c.email = pick(&n.contact.email, &p.contact.email);
    c.first_name = pick(&n.contact.first_name, &p.contact.first_name);
    c.last_name = pick(&n.contact.last_name, &p.contact.last_name);
    c.phone = pick(&n.contact.phone, &p.contact.phone);
    c.title = pick(&n.contact.title, &p.contact.title);
    c.department = pick(&n.contact.department, &p.contact.department);
    c.country = pick(&n.contact.country, &p.contact.country);
    let co = &mut m.lead.company;
    co.name = pick(&n.company.name, &p.company.name);
    co.domain = pick(&n.company.domain, &p.company.domain);
    co.industry = pick(&n.company.industry, &p.company.industry);
    co.country = pick(&n.company.country, &p.company.country);
    co.employee_count = n.company.employee_count.or(p.company.employee_count);
    co.annual_revenue_usd = n
        .company
        .annual_revenue_usd
        .or(p.company.annual_revenue_usd);
    m.lead.account_domain = pick(&n.account_domain, &p.account_domain);
    if m.lead.chat.is_none() {
        m.lead.chat = p.chat.clone();
    }
    if m.lead.session.is_none() {
        m.lead.session = p.session.clone();
    }
    let mut attributes = p.attributes.clone();
    attributes.extend(m.lead.attributes.clone());
    m.lead.attributes = attributes;
    clean(&mut m);
    if m.account_key.trim().is_empty() {
        m.account_key = prev.account_key.clone();
    }
    m.email_domain = pick(&next.email_domain, &prev.email_domain);
    m.company_domain = pick(&next.company_domain, &prev.company_domain);
    if m.firmographics.is_none() {
        m.firmographics = prev.firmographics.clone();
        if m.firmographics.is_some() {
            m.enrichment = prev.enrichment;
        }
    }
    let mut activities: Vec<Activity> = p.activities.clone();
    activities.extend(n.activities.iter().cloned());
    bound_activities(&mut activities, max_activities);
    m.lead.activities = activities;
    m
}

/// M2: sorted by time, duplicates (kind + time + detail) dropped, the newest `max` kept.
fn bound_activities(activities: &mut Vec<Activity>, max: usize) {
    activities.sort_by(|a, b| {
        (a.occurred_at.0, a.kind, &a.detail).cmp(&(b.occurred_at.0, b.kind, &b.detail))
    });
    activities.dedup_by(|a, b| {
        a.occurred_at == b.occurred_at && a.kind == b.kind && a.detail == b.detail
    });
    if activities.len() > max {
        activities.drain(..activities.len() - max);
    }
}
