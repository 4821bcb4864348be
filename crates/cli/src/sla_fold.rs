//! Where each SLA deadline stands, from the watchdog's own record of what it decided
//! (`sla.outcomes`, `crates/sla-watchdog/RULES.md`): the SLA report and the console read this, and
//! neither re-simulates the watchdog's engine.

use std::collections::{HashMap, HashSet};

use leadflow_events::{SlaOutcome, SlaOutcomeKind};
use leadflow_sla_watchdog::{Deadline, DeadlineState, DeadlineView};

/// Folds outcome records (in the order read: a lead's records are on one partition, in the
/// order decided) into one view per deadline (packet, kind), in order of first appearance.
/// Records seen twice (same `outcome_id`) count once. A breach stays charged to the owner of the
/// record that decided it, also when the lead was reassigned afterwards (the reassigned packet is
/// another deadline).
pub fn fold(records: &[SlaOutcome]) -> Vec<DeadlineView> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut index: HashMap<(&str, leadflow_events::SlaKind), usize> = HashMap::new();
    let mut views: Vec<DeadlineView> = Vec::new();
    for r in records {
        if !seen.insert(&r.outcome_id) {
            continue;
        }
        let i = *index.entry((&r.packet_id, r.sla_kind)).or_insert_with(|| {
            views.push(DeadlineView {
                lead_id: r.lead_id.clone(),
                tier: r.tier.clone(),
                owner: r.owner.clone(),
                escalatable: !r.packet_id.starts_with("sequence:"),
                deadline: Deadline {
                    kind: r.sla_kind,
                    due_at: r.due_at,
                    state: DeadlineState::Open,
                },
                escalation_level: None,
            });
            views.len() - 1
        });
        let v = &mut views[i];
        let at = r.event_at.unwrap_or(r.decided_at);
        let state = &mut v.deadline.state;
        match r.outcome {
            SlaOutcomeKind::Opened | SlaOutcomeKind::Other => continue,
            SlaOutcomeKind::Met => *state = DeadlineState::Met { at },
            SlaOutcomeKind::ClosedLate => *state = DeadlineState::ClosedLate { at },
            SlaOutcomeKind::Escalated => {
                *state = DeadlineState::Escalated { level: r.level };
                v.escalation_level = Some(r.level);
            }
            SlaOutcomeKind::Missed => *state = DeadlineState::Missed,
            SlaOutcomeKind::Expired => *state = DeadlineState::Expired,
            // only a running clock is superseded
            SlaOutcomeKind::Superseded if state.is_open() => *state = DeadlineState::Superseded,
            SlaOutcomeKind::Superseded => continue,
            SlaOutcomeKind::Reconciled => {
                *state = DeadlineState::Met { at };
                v.escalation_level = v.escalation_level.or(Some(r.level));
            }
        }
        // the owner who held the lead when it was decided
        v.owner = r.owner.clone();
    }
    views
}

#[cfg(test)]
mod tests {
    use leadflow_events::{SlaKind, Timestamp, samples};

    use super::*;

    fn rec(packet: &str, owner: &str, outcome: SlaOutcomeKind, level: i32) -> SlaOutcome {
        let mut o = samples::sla_outcome();
        o.packet_id = packet.into();
        o.owner = Some(owner.into());
        o.outcome = outcome;
        o.breach = outcome.is_breach();
        o.level = level;
        o.sla_kind = SlaKind::FirstContact;
        o.outcome_id = format!("{packet}:first_contact:{}", outcome.symbol());
        o.event_at = Some(Timestamp(5));
        o
    }

    #[test]
    fn escalated_then_reassigned_then_met_by_the_new_owner() {
        use SlaOutcomeKind::*;
        let records = [
            rec("p1", "rep-a", Opened, 0),
            rec("p1", "rep-a", Escalated, 1),
            rec("p1", "rep-a", Escalated, 1), // read twice
            rec("p2", "rep-b", Opened, 1),
            rec("p2", "rep-b", Met, 1),
        ];
        let v = fold(&records);
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[0].owner.as_deref(),
            Some("rep-a"),
            "the breach stays rep-a's"
        );
        assert_eq!(v[0].deadline.state, DeadlineState::Escalated { level: 1 });
        assert_eq!(v[0].escalation_level, Some(1));
        assert_eq!(v[1].owner.as_deref(), Some("rep-b"));
        assert!(matches!(v[1].deadline.state, DeadlineState::Met { .. }));
    }

    #[test]
    fn a_reconciled_deadline_is_met_and_still_shows_its_escalation() {
        use SlaOutcomeKind::*;
        let v = fold(&[
            rec("p1", "rep-a", Opened, 0),
            rec("p1", "rep-a", Escalated, 1),
            rec("p1", "rep-a", Reconciled, 1),
        ]);
        assert_eq!(v[0].deadline.state, DeadlineState::Met { at: Timestamp(5) });
        assert_eq!(v[0].escalation_level, Some(1));
        // a settled deadline is not superseded by a later packet
        let v = fold(&[
            rec("p1", "rep-a", Escalated, 1),
            rec("p1", "rep-a", Superseded, 0),
        ]);
        assert_eq!(v[0].deadline.state, DeadlineState::Escalated { level: 1 });
    }
}
