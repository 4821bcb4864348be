//! Builders shared by the route tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use leadflow_events::{
    HandoffKind, HandoffTrigger, LeadLevel, RepRole, RepState, RepStatus, TierDecision, Timestamp,
    WorkingHours, samples,
};

/// Friday 2026-11-20 09:30 UTC (10:30 in Paris).
pub const T0: Timestamp = samples::T0;

pub fn rep(id: &str, team: &str) -> RepState {
    RepState {
        rep_id: id.into(),
        name: format!("Rep {id}"),
        email: format!("{id}@example.com"),
        slack_user_id: Some(format!("U-{id}")),
        crm_owner_id: None,
        role: RepRole::Ae,
        teams: vec![team.into()],
        territories: vec![],
        segments: vec![],
        max_open_leads: 10,
        working_hours: None,
        status: RepStatus::Available,
        status_until: None,
        manager_id: Some("mgr".into()),
        updated_at: T0,
    }
}

pub fn manager(id: &str, team: &str) -> RepState {
    RepState {
        role: RepRole::Manager,
        manager_id: None,
        ..rep(id, team)
    }
}

pub fn with_hours(mut r: RepState, tz: &str) -> RepState {
    r.working_hours = Some(WorkingHours::office(tz));
    r
}

/// A hot escalation to `team` for `lead` of `account` in `country` with `employees`.
pub fn decision(lead: &str, account: Option<&str>, country: &str, employees: i32) -> TierDecision {
    let mut d = samples::tier_decision();
    let e = &mut d.scored.enriched;
    e.lead.lead_id = lead.into();
    e.lead.event_id = format!("evt-{lead}");
    e.company_domain = account.map(str::to_owned);
    e.account_key = account.map_or_else(|| lead.to_owned(), str::to_owned);
    e.lead.company.country = Some(country.into());
    e.lead.contact.country = Some(country.into());
    e.lead.company.employee_count = Some(employees);
    e.firmographics = None;
    d.target_team = "ae".into();
    d
}

pub fn at(mut d: TierDecision, t: Timestamp) -> TierDecision {
    d.decided_at = t;
    d
}

pub fn capture(mut d: TierDecision) -> TierDecision {
    d.handoff = HandoffKind::Capture;
    d.trigger = HandoffTrigger::ScoreBand;
    d.lead_level = LeadLevel::Warm;
    d.commitment = Some("before 10:00 CET on Monday 23 November".into());
    d
}
