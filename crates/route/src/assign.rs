//! Choosing the owner of a lead (RULES.md §3): account owner first, then the least-loaded eligible
//! rep (ties: longest since their last assignment, then rep id), then the pool's manager flagged,
//! then — nobody at all — an exception for RevOps.

use std::collections::BTreeMap;
use std::sync::Arc;

use leadflow_events::{RepStatus, Timestamp};

use crate::eligibility::{self, Ineligible, LeadFacts};
use crate::roster::{Rep, Roster};
use crate::state::RoutingState;

/// Who gets the lead.
#[derive(Clone, Debug)]
pub enum Choice {
    /// An eligible rep (or the account owner).
    Rep {
        rep: Arc<Rep>,
        /// Plain-words reason for the packet (`assignment_reason`).
        reason: String,
    },
    /// Nobody was eligible: the pool's manager, flagged.
    Manager {
        rep: Arc<Rep>,
        /// Why nobody in the pool was eligible (`unassigned_reason`).
        unassigned_reason: String,
    },
    /// No rep and no manager: the lead goes to the exceptions topic with this reason.
    Unroutable { reason: String },
}

impl Choice {
    /// Metric label: `rep`, `account_owner`, `manager`, `unroutable`.
    pub fn outcome_label(&self) -> &'static str {
        match self {
            Choice::Rep { reason, .. } if reason.starts_with("account owner") => "account_owner",
            Choice::Rep { .. } => "rep",
            Choice::Manager { .. } => "manager",
            Choice::Unroutable { .. } => "unroutable",
        }
    }
}

/// Picks the owner of a lead. `exclude` lists reps who must not get it (the one who breached the
/// SLA, the reps who rejected the lead); `preferred` is a rep to try first when eligible (the
/// watchdog's suggestion).
pub fn choose(
    roster: &Roster,
    state: &RoutingState,
    facts: &LeadFacts,
    exclude: &[&str],
    preferred: Option<&str>,
) -> Choice {
    let team = facts.team.as_str();
    let mut owner_note = String::new();

    // 1. Account ownership: a buying committee gets one rep.
    if let Some(account) = facts.account.as_deref() {
        if let Some(owner_id) = state.owner(account, team).filter(|o| !exclude.contains(o)) {
            match roster.get(owner_id) {
                Some(owner) if owner.state.teams.iter().any(|t| t == team) => {
                    let status = owner.status_at(facts.at);
                    let load = state.load(owner_id);
                    match status {
                        RepStatus::OutOfOffice | RepStatus::Inactive => {
                            owner_note = format!(
                                "account owner {} is {}{}; ",
                                owner_id,
                                status_words(status),
                                until_words(owner, status)
                            );
                        }
                        _ if !eligibility::under_cap(owner, load) => {
                            owner_note = format!(
                                "account owner {owner_id} is at their cap ({load}/{}); ",
                                owner.state.max_open_leads
                            );
                        }
                        _ => {
                            return Choice::Rep {
                                rep: owner.clone(),
                                reason: format!("account owner of {account} ({load} open leads)"),
                            };
                        }
                    }
                }
                _ => {
                    owner_note = format!("account owner {owner_id} is no longer in {team}; ");
                }
            }
        }
    }

    // 2. The watchdog's suggestion, when eligible.
    if let Some(p) = preferred.filter(|p| !exclude.contains(p)) {
        if let Some(rep) = roster.get(p) {
            let load = state.load(p);
            if rep.state.teams.iter().any(|t| t == team)
                && eligibility::check(rep, facts, load).is_ok()
            {
                return Choice::Rep {
                    rep: rep.clone(),
                    reason: format!("{owner_note}next eligible rep in {team} ({load} open leads)"),
                };
            }
        }
    }

    // 3. Least loaded eligible rep; ties: longest since last assignment, then id.
    let pool = roster.pool(team);
    let mut why: BTreeMap<Ineligible, u32> = BTreeMap::new();
    let mut candidates: Vec<(u32, Option<Timestamp>, &Arc<Rep>)> = Vec::with_capacity(pool.len());
    let mut considered = 0u32;
    for rep in pool {
        if exclude.contains(&rep.id()) {
            continue;
        }
        considered += 1;
        let load = state.load(rep.id());
        match eligibility::check_static(rep, facts, load) {
            Ok(()) => candidates.push((load, state.last_assigned(rep.id()), rep)),
            Err(e) => *why.entry(e).or_default() += 1,
        }
    }
    // `None` (never assigned) sorts before any time: new reps join the rotation first.
    candidates.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.cmp(&b.1))
            .then_with(|| a.2.id().cmp(b.2.id()))
    });
    for (load, _, rep) in &candidates {
        if eligibility::is_working(rep, facts.at) {
            return Choice::Rep {
                rep: (*rep).clone(),
                reason: format!(
                    "{owner_note}least loaded eligible rep in {team} ({load} open leads)"
                ),
            };
        }
        *why.entry(Ineligible::OffHours).or_default() += 1;
    }

    // 4. Nobody eligible: the pool's manager, flagged.
    let managers = why.remove(&Ineligible::Manager).unwrap_or(0);
    let reps = considered - managers;
    let detail = if why.is_empty() {
        String::new()
    } else {
        format!(
            ": {}",
            why.iter()
                .map(|(k, n)| format!("{n} {}", k.label()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let nobody = if reps == 0 {
        format!("{owner_note}no rep in team {team}")
    } else {
        format!("{owner_note}none of the {reps} reps in team {team} is eligible{detail}")
    };
    match roster.manager_of(team, facts.at) {
        Some(m) if !exclude.contains(&m.id()) => Choice::Manager {
            rep: m.clone(),
            unassigned_reason: nobody,
        },
        _ => Choice::Unroutable {
            reason: format!("{nobody}, and team {team} has no manager"),
        },
    }
}

fn status_words(s: RepStatus) -> &'static str {
    match s {
        RepStatus::Available => "available",
        RepStatus::Busy => "busy",
        RepStatus::OutOfOffice => "out of office",
        RepStatus::Inactive => "inactive",
    }
}

fn until_words(rep: &Rep, s: RepStatus) -> String {
    match (s, rep.state.status_until) {
        (RepStatus::OutOfOffice | RepStatus::Busy, Some(t)) => format!(" until {}", t.to_rfc3339()),
        _ => String::new(),
    }
}
