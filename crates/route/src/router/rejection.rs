//! Reassignment after a rep rejects a lead (RULES.md §6c): the next eligible rep of the pool other
//! than everyone who rejected the lead, else the pool's manager, with the reason in the packet and
//! the deadlines re-based to the rejection.

use leadflow_events::{RepActivity, RepActivityKind};

use super::{Move, Reassigned, Router};
use crate::assign;
use crate::eligibility::LeadFacts;
use crate::packet;

/// How a packet that moves a rejected lead starts its `assignment_reason`.
pub const REJECTED_PREFIX: &str = "reassigned after ";

/// The reason words for a rejection without one.
const NO_REASON: &str = "no reason given";

impl Router {
    /// Reassigns a lead its owner rejected (RULES.md §6c). Only a REJECTED by the rep who holds
    /// the lead's current packet moves it; anything else — another rep's rejection, a lead already
    /// moved on or closed, a repeated rejection — is `NotOpen`.
    pub fn reassign_rejected(&self, rejection: &RepActivity) -> Reassigned {
        if rejection.kind != RepActivityKind::Rejected {
            return Reassigned::NotOpen;
        }
        let mut inner = self.lock();
        // idempotent: records the rejecter and keeps the rejected packet, if the activity side
        // input has not already done so
        inner.state.apply_activity(rejection);
        let Some(rec) = inner.state.lead(&rejection.lead_id).cloned() else {
            return Reassigned::UnknownLead(format!(
                "rejection of lead {} which route never assigned",
                rejection.lead_id
            ));
        };
        let Some(current) = rec.rejected.clone() else {
            return Reassigned::NotOpen;
        };
        // Like every release (§7), a rejection belongs to the rep who holds the lead, whichever
        // packet it names: the activity side input has released the lead already, so refusing
        // it here would leave the lead with nobody. (Ingest refuses a click on a stale message.)
        if rec.assignee() != Some(rejection.rep_id.as_str()) {
            return Reassigned::NotOpen;
        }
        let at = rejection.occurred_at;
        let level = current.escalation_level.saturating_add(1);
        let decision = &current.decision;
        let mut facts = LeadFacts::of(decision);
        facts.at = at;
        let rejecters: Vec<String> = inner.state.rejected_by(&rejection.lead_id).to_vec();
        let exclude: Vec<&str> = rejecters.iter().map(String::as_str).collect();
        let reason = rejection
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or(NO_REASON);
        let why = format!("{} rejected it ({reason})", rejection.rep_id);
        let manager = inner
            .roster
            .manager_of(&facts.team, at)
            .filter(|m| !exclude.contains(&m.id()))
            .map(|m| packet::assignee(m, &facts.team));
        let choice = assign::choose(&inner.roster, &inner.state, &facts, &exclude, None);
        let moved = Move {
            team: &facts.team,
            manager_cc: manager,
            previous: current.assignee.clone(),
            level,
        };
        let mut addressing = match moved.addressing(
            choice,
            |reason| format!("{REJECTED_PREFIX}{why}; {reason}"),
            format!("{REJECTED_PREFIX}{why}; to the manager: nobody else eligible"),
        ) {
            Ok(a) => a,
            Err(reason) => {
                return Reassigned::Unroutable(format!(
                    "lead {} rejected by {}: {reason}",
                    rejection.lead_id,
                    rejecters.join(", ")
                ));
            }
        };
        if let Some(why) = addressing.unassigned_reason.as_mut() {
            why.push_str(&format!("; rejected by {}", rejecters.join(", ")));
        }
        let p = self.emit_moved(&mut inner, &current, addressing, at);
        Reassigned::Packet(p)
    }
}
