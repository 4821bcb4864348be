//! Withdrawal notices (RULES.md "Late truth"): a contact stamped in time but recorded after the
//! escalation fired is `RECONCILED`, and the reassignment that escalation caused is withdrawn. The
//! watchdog publishes one notice on `handoff.packets` for it: a copy of the reassigned packet with
//! `withdraws` = its `packet_id`, no deadlines, addressed to the rep it had been reassigned to
//! (notify tells them no action is needed and closes their CRM task; route releases their load and
//! gives the account back to the previous owner).
//!
//! The notice needs the reassigned packet, which may reach the watchdog before or after the
//! contact: a reconciled outcome waits here until it is known. The notice's ids are deterministic
//! (`<packet_id>:withdrawn`), and a notice read back from `handoff.packets` (or acknowledged) marks
//! the reassignment withdrawn, so a replay or a new owner of the partition never sends a second one.

use std::collections::{HashMap, HashSet};

use leadflow_events::{HandoffPacket, SlaOutcome, SlaOutcomeKind, Timestamp};

/// Suffix of a notice's `packet_id` and `idempotency_key` (after the reassigned packet's).
pub const WITHDRAWN_SUFFIX: &str = ":withdrawn";

/// Reconciled escalations waiting for their notice, and the reassigned packets they may need.
#[derive(Debug, Default)]
pub struct Withdrawals {
    /// Reassigned packets (escalation level ≥ 1) by lead id.
    reassigned: HashMap<String, Vec<HandoffPacket>>,
    /// `RECONCILED` outcomes without a notice yet, by outcome id.
    pending: HashMap<String, SlaOutcome>,
    /// Packet ids of reassignments already withdrawn (their notice is on the topic).
    withdrawn: HashSet<String>,
}

impl Withdrawals {
    /// A packet read from `handoff.packets`: a reassignment is remembered, a notice marks its
    /// reassignment withdrawn. Returns whether the packet was a notice (the engine skips those).
    pub fn packet(&mut self, p: &HandoffPacket) -> bool {
        if let Some(id) = &p.withdraws {
            self.withdrawn.insert(id.clone());
            return true;
        }
        if p.escalation_level >= 1 && p.previous_assignee.is_some() {
            let held = self.reassigned.entry(p.lead_id().to_owned()).or_default();
            if !held.iter().any(|h| h.packet_id == p.packet_id) {
                held.push(p.clone());
            }
        }
        false
    }

    /// Outcomes the engine decided: each `RECONCILED` one waits for its notice.
    pub fn decided<'a>(&mut self, outcomes: impl IntoIterator<Item = &'a SlaOutcome>) {
        for o in outcomes {
            if o.outcome == SlaOutcomeKind::Reconciled {
                self.pending
                    .entry(o.outcome_id.clone())
                    .or_insert_with(|| o.clone());
            }
        }
    }

    /// The notices due for the leads `owns` accepts: one per reconciled escalation whose
    /// reassigned packet is known and not withdrawn yet, in lead order. A reconciliation whose
    /// escalation reassigned nothing (route has not emitted the packet yet) stays pending.
    pub fn due(&mut self, owns: &dyn Fn(&str) -> bool) -> Vec<HandoffPacket> {
        let mut out: Vec<HandoffPacket> = Vec::new();
        let mut done = Vec::new();
        for (id, o) in &self.pending {
            if !owns(&o.lead_id) {
                continue;
            }
            let Some(packet) = self.withdrawn_by(o) else {
                continue;
            };
            if self.withdrawn.contains(&packet.packet_id) {
                done.push(id.clone());
                continue;
            }
            if !out
                .iter()
                .any(|n| n.withdraws.as_ref() == Some(&packet.packet_id))
            {
                out.push(notice(packet, o));
            }
        }
        for id in done {
            self.pending.remove(&id);
        }
        out.sort_by(|a, b| a.packet_id.cmp(&b.packet_id));
        out
    }

    /// A notice the broker acknowledged.
    pub fn delivered(&mut self, notice: &HandoffPacket) {
        self.packet(notice);
        let withdrawn = &self.withdrawn;
        let reassigned = &self.reassigned;
        self.pending.retain(|_, o| {
            reassigned
                .get(&o.lead_id)
                .and_then(|ps| find(ps, o))
                .is_none_or(|p| !withdrawn.contains(&p.packet_id))
        });
    }

    /// Forgets everything older than `horizon` (the watchdog's retention).
    pub fn evict(&mut self, horizon: Timestamp) {
        self.reassigned.retain(|_, ps| {
            ps.retain(|p| p.created_at >= horizon);
            !ps.is_empty()
        });
        self.pending.retain(|_, o| o.decided_at >= horizon);
        let live: HashSet<&str> = self
            .reassigned
            .values()
            .flatten()
            .map(|p| p.packet_id.as_str())
            .collect();
        self.withdrawn.retain(|id| live.contains(id.as_str()));
    }

    /// Reconciliations still waiting for their notice.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn withdrawn_by(&self, o: &SlaOutcome) -> Option<&HandoffPacket> {
        find(self.reassigned.get(&o.lead_id)?, o)
    }
}

/// The reassignment the reconciled escalation caused: the lead's packet at the escalation's level
/// taken from the rep who held the deadline.
fn find<'a>(packets: &'a [HandoffPacket], o: &SlaOutcome) -> Option<&'a HandoffPacket> {
    let owner = o.owner.as_deref()?;
    packets
        .iter()
        .filter(|p| {
            p.escalation_level == o.level
                && p.previous_assignee
                    .as_ref()
                    .is_some_and(|a| a.rep_id == owner)
        })
        .max_by_key(|p| p.created_at)
}

/// The notice for `reassigned`, withdrawn by the reconciled outcome `o`.
pub fn notice(reassigned: &HandoffPacket, o: &SlaOutcome) -> HandoffPacket {
    let mut n = reassigned.clone();
    n.packet_id = format!("{}{WITHDRAWN_SUFFIX}", reassigned.packet_id);
    n.idempotency_key = format!("{}{WITHDRAWN_SUFFIX}", reassigned.idempotency_key);
    n.withdraws = Some(reassigned.packet_id.clone());
    n.sla = Vec::new();
    n.booking_link = None;
    n.manager_cc = None;
    n.unassigned_reason = None;
    n.created_at = o.decided_at;
    let by = reassigned
        .previous_assignee
        .as_ref()
        .map_or("The previous owner", |a| a.name.as_str());
    let when = o
        .event_at
        .map(|t| t.to_rfc3339())
        .unwrap_or_else(|| "before the deadline".into());
    n.assignment_reason = format!(
        "No action needed: {by} contacted this lead at {when}, within its {kind} deadline; the \
contact was recorded after the escalation. The reassignment is withdrawn and the lead stays with \
{by}.",
        kind = crate::deadline::kind_label(o.sla_kind).replace('_', " "),
    );
    n
}

#[cfg(test)]
mod tests {
    use leadflow_events::{Assignee, SlaKind, samples};

    use super::*;

    fn rep(id: &str) -> Assignee {
        Assignee {
            rep_id: id.into(),
            name: format!("Rep {id}"),
            ..samples::handoff_packet()
                .assignee
                .expect("sample has an assignee")
        }
    }

    fn reassigned(level: i32, from: &str, to: &str) -> HandoffPacket {
        let mut p = samples::handoff_packet();
        p.packet_id = format!("pkt-L{level}");
        p.idempotency_key = format!("key|{level}");
        p.escalation_level = level;
        p.previous_assignee = Some(rep(from));
        p.assignee = Some(rep(to));
        p
    }

    fn reconciled(owner: &str, level: i32) -> SlaOutcome {
        let mut o = samples::sla_outcome();
        o.lead_id = samples::handoff_packet().lead_id().to_owned();
        o.outcome = SlaOutcomeKind::Reconciled;
        o.outcome_id = format!("pkt-L{}:FIRST_CONTACT:RECONCILED", level - 1);
        o.owner = Some(owner.into());
        o.level = level;
        o.sla_kind = SlaKind::FirstContact;
        o.event_at = Some(Timestamp(1_000));
        o.decided_at = Timestamp(5_000);
        o
    }

    #[test]
    fn a_reconciled_escalation_withdraws_its_reassignment_once() {
        let mut w = Withdrawals::default();
        let all = |_: &str| true;
        // the contact arrives first: nothing to withdraw yet
        w.decided([&reconciled("ana", 1)]);
        assert!(w.due(&all).is_empty());
        assert_eq!(w.pending(), 1);
        // the reassignment from ana to bo arrives: one notice, to bo, with no deadlines
        assert!(!w.packet(&reassigned(1, "ana", "bo")));
        let due = w.due(&all);
        assert_eq!(due.len(), 1);
        let n = &due[0];
        assert_eq!(n.withdraws.as_deref(), Some("pkt-L1"));
        assert_eq!(n.packet_id, "pkt-L1:withdrawn");
        assert_eq!(n.idempotency_key, "key|1:withdrawn");
        assert_eq!(n.assignee.as_ref().map(|a| a.rep_id.as_str()), Some("bo"));
        assert!(n.sla.is_empty());
        assert!(
            n.assignment_reason
                .starts_with("No action needed: Rep ana contacted")
        );
        // not a second time once acknowledged, nor after a replay decides it again
        w.delivered(n);
        assert_eq!(w.pending(), 0);
        w.decided([&reconciled("ana", 1)]);
        assert!(w.due(&all).is_empty());
        assert_eq!(w.pending(), 0);
    }

    #[test]
    fn a_notice_read_back_is_never_sent_again_and_only_owners_send() {
        let mut w = Withdrawals::default();
        w.packet(&reassigned(1, "ana", "bo"));
        w.decided([&reconciled("ana", 1)]);
        assert!(
            w.due(&|_: &str| false).is_empty(),
            "another instance owns the lead"
        );
        let n = notice(&reassigned(1, "ana", "bo"), &reconciled("ana", 1));
        assert!(w.packet(&n), "a notice is not a packet to watch");
        assert!(w.due(&|_: &str| true).is_empty());
    }

    #[test]
    fn only_the_reassignment_of_the_reconciled_owner_and_level_is_withdrawn() {
        let mut w = Withdrawals::default();
        w.packet(&reassigned(1, "ana", "bo"));
        w.packet(&reassigned(2, "bo", "manager"));
        // bo's late-recorded contact reconciles the level-2 escalation: the manager's packet
        w.decided([&reconciled("bo", 2)]);
        let due = w.due(&|_: &str| true);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].withdraws.as_deref(), Some("pkt-L2"));
        // a reconciliation for someone who was never reassigned away waits, then is evicted
        let mut w = Withdrawals::default();
        w.decided([&reconciled("cy", 1)]);
        w.packet(&reassigned(1, "ana", "bo"));
        assert!(w.due(&|_: &str| true).is_empty());
        w.evict(Timestamp(10_000));
        assert_eq!(w.pending(), 0);
    }
}
