//! Eligibility: may this rep take this lead now? The rules route and the SLA watchdog share.
//!
//! A rep is eligible for a lead when, at the lead's event time, all of these hold (RULES.md §2):
//! 1. their role is not MANAGER (managers are the fallback, never in the rotation);
//! 2. their status is AVAILABLE (BUSY / OUT_OF_OFFICE until `status_until`, INACTIVE never);
//! 3. the instant is inside their working hours, in their own time zone;
//! 4. their territories cover the lead's country (empty = everywhere; unknown country = any rep);
//! 5. their segments cover the lead's employee band (empty = every band; unknown size = any rep);
//! 6. their open leads are below `max_open_leads`.

use std::fmt;

use leadflow_events::{RepRole, RepStatus, TierDecision, Timestamp};

use crate::roster::Rep;

/// What routing needs to know about a lead, extracted once per decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadFacts {
    /// ISO country: firmographics, then the company, then the contact.
    pub country: Option<String>,
    /// Employee band as enrich emits it, or derived from the head count.
    pub segment: Option<String>,
    /// The account for ownership, as enrich decided it (`EnrichedLead::account`: the company
    /// domain; none for free-mail leads without one). The same value keys `leads.tiered`.
    pub account: Option<String>,
    /// The pool: the decision's `target_team`.
    pub team: String,
    /// Event time the rules are evaluated at.
    pub at: Timestamp,
}

impl LeadFacts {
    /// The facts of a decision, evaluated at the decision's event time.
    pub fn of(decision: &TierDecision) -> Self {
        let enriched = &decision.scored.enriched;
        let lead = &enriched.lead;
        let firmo = enriched.firmographics.as_ref();
        let country = firmo
            .and_then(|f| f.country.clone())
            .or_else(|| lead.company.country.clone())
            .or_else(|| lead.contact.country.clone())
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty());
        let segment = firmo.and_then(|f| f.employee_band.clone()).or_else(|| {
            lead.company
                .employee_count
                .and_then(|n| u64::try_from(n).ok())
                .map(|n| employee_band(n).to_owned())
        });
        Self {
            country,
            segment,
            account: enriched.account().map(str::to_owned),
            team: decision.target_team.clone(),
            at: decision.decided_at,
        }
    }
}

/// The employee band of a head count, as enrich spells it.
pub use leadflow_events::bands::employee_band;

/// Why a rep cannot take a lead now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ineligible {
    Manager,
    Inactive,
    OutOfOffice,
    Busy,
    OffHours,
    Territory,
    Segment,
    AtCap,
}

impl Ineligible {
    pub const ALL: [Ineligible; 8] = [
        Ineligible::Manager,
        Ineligible::Inactive,
        Ineligible::OutOfOffice,
        Ineligible::Busy,
        Ineligible::OffHours,
        Ineligible::Territory,
        Ineligible::Segment,
        Ineligible::AtCap,
    ];

    /// Short label (metrics, reasons).
    pub fn label(self) -> &'static str {
        match self {
            Ineligible::Manager => "manager",
            Ineligible::Inactive => "inactive",
            Ineligible::OutOfOffice => "out_of_office",
            Ineligible::Busy => "busy",
            Ineligible::OffHours => "off_hours",
            Ineligible::Territory => "territory",
            Ineligible::Segment => "segment",
            Ineligible::AtCap => "at_cap",
        }
    }
}

impl fmt::Display for Ineligible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Checks the rules that do not depend on the clock's time of day (role, status, territory,
/// segment, cap). Cheap: selection runs it on the whole pool, then [`is_working`] on the best few.
pub fn check_static(rep: &Rep, facts: &LeadFacts, open_leads: u32) -> Result<(), Ineligible> {
    if rep.state.role == RepRole::Manager {
        return Err(Ineligible::Manager);
    }
    match rep.status_at(facts.at) {
        RepStatus::Available => {}
        RepStatus::Busy => return Err(Ineligible::Busy),
        RepStatus::OutOfOffice => return Err(Ineligible::OutOfOffice),
        RepStatus::Inactive => return Err(Ineligible::Inactive),
    }
    if !rep.covers_country(facts.country.as_deref()) {
        return Err(Ineligible::Territory);
    }
    if !covers_segment(&rep.state.segments, facts.segment.as_deref()) {
        return Err(Ineligible::Segment);
    }
    if !under_cap(rep, open_leads) {
        return Err(Ineligible::AtCap);
    }
    Ok(())
}

/// Every rule (static ones, then working hours).
pub fn check(rep: &Rep, facts: &LeadFacts, open_leads: u32) -> Result<(), Ineligible> {
    check_static(rep, facts, open_leads)?;
    if !is_working(rep, facts.at) {
        return Err(Ineligible::OffHours);
    }
    Ok(())
}

/// Rule 3: inside working hours in the rep's zone.
pub fn is_working(rep: &Rep, at: Timestamp) -> bool {
    rep.is_working(at)
}

/// Rule 6: one more lead keeps the rep at or under their cap.
pub fn under_cap(rep: &Rep, open_leads: u32) -> bool {
    i64::from(open_leads) < i64::from(rep.state.max_open_leads)
}

/// Rule 5.
pub fn covers_segment(segments: &[String], segment: Option<&str>) -> bool {
    match segment {
        None => true,
        Some(s) => segments.is_empty() || segments.iter().any(|x| x == s),
    }
}
