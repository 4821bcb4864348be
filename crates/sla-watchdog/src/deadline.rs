//! One SLA clock of a lead and the activity that stops it.

use leadflow_events::{RepActivityKind, SlaKind, Timestamp};

/// Where a deadline stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadlineState {
    /// Running: no closing activity yet, not escalated.
    Open,
    /// Closed by an activity whose event time is at or before the deadline.
    Met { at: Timestamp },
    /// Closed by an activity whose event time is after the deadline, before the watchdog escalated it:
    /// a breach for the KPIs, but the lead has its contact, so nothing escalates.
    ClosedLate { at: Timestamp },
    /// Fired: an escalation is on `sla.escalations` (emitted here or read back).
    Escalated { level: i32 },
    /// Missed on a lead that is never escalated (no human handoff: NURTURE_24H's automated sequence).
    Missed,
    /// Already overdue by more than `stale_after` when the watchdog first saw it (replay of old data,
    /// a long outage): counted as breached, not escalated.
    Expired,
    /// A newer packet for the lead (a reassignment) replaced it.
    Superseded,
}

impl DeadlineState {
    pub fn is_open(self) -> bool {
        matches!(self, DeadlineState::Open)
    }
}

/// One clock of a packet.
#[derive(Clone, Debug, PartialEq)]
pub struct Deadline {
    pub kind: SlaKind,
    pub due_at: Timestamp,
    pub state: DeadlineState,
}

/// Small stable number of an SLA kind (index ordering, escalation ids).
pub fn kind_index(kind: SlaKind) -> u8 {
    match kind {
        SlaKind::Assignment => 0,
        SlaKind::FirstContact => 1,
        SlaKind::Qualification => 2,
    }
}

/// Lower-case name of an SLA kind (ids, metric labels, reasons).
pub fn kind_label(kind: SlaKind) -> &'static str {
    match kind {
        SlaKind::Assignment => "assignment",
        SlaKind::FirstContact => "first_contact",
        SlaKind::Qualification => "qualification",
    }
}

/// The earliest event time of each kind of closing activity seen for a lead.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivityTimes {
    pub accepted: Option<Timestamp>,
    pub contacted: Option<Timestamp>,
    pub qualified: Option<Timestamp>,
    /// Disqualified or rejected: the lead is closed.
    pub closed: Option<Timestamp>,
    pub reassigned: Option<Timestamp>,
    /// Enrolled in a nurture sequence by automation: closes only the clocks of a no-handoff decision
    /// (a human's clocks on a later packet keep running).
    pub enrolled: Option<Timestamp>,
}

fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

impl ActivityTimes {
    /// Records one activity (keeps the earliest time per kind). Returns false for kinds that close
    /// nothing (`OTHER`).
    pub fn record(&mut self, kind: RepActivityKind, at: Timestamp) -> bool {
        let slot = match kind {
            RepActivityKind::Accepted => &mut self.accepted,
            RepActivityKind::Contacted => &mut self.contacted,
            RepActivityKind::Qualified => &mut self.qualified,
            RepActivityKind::Rejected | RepActivityKind::Disqualified => &mut self.closed,
            RepActivityKind::Reassigned => &mut self.reassigned,
            RepActivityKind::Enrolled => &mut self.enrolled,
            RepActivityKind::Other => return false,
        };
        *slot = earliest(*slot, Some(at));
        true
    }

    /// When the clock of `kind` was stopped, if it was (RULES.md, "What closes a deadline"):
    /// - assignment: accepted, reassigned, contacted, qualified, disqualified/rejected;
    /// - first contact: contacted, qualified, disqualified/rejected;
    /// - qualification: qualified, disqualified/rejected;
    /// - and, for the clocks of a no-handoff decision only (`automated`), the enrolment in a nurture
    ///   sequence closes assignment and first contact (the automated first touch).
    pub fn closed_at(&self, kind: SlaKind, automated: bool) -> Option<Timestamp> {
        let decided = earliest(self.qualified, self.closed);
        let enrolled = self.enrolled.filter(|_| automated);
        match kind {
            SlaKind::Qualification => decided,
            SlaKind::FirstContact => earliest(earliest(self.contacted, enrolled), decided),
            SlaKind::Assignment => earliest(
                earliest(self.accepted, self.reassigned),
                earliest(earliest(self.contacted, enrolled), decided),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_rules_per_kind() {
        let mut a = ActivityTimes::default();
        assert!(a.record(RepActivityKind::Accepted, Timestamp(10)));
        assert_eq!(a.closed_at(SlaKind::Assignment, false), Some(Timestamp(10)));
        assert_eq!(a.closed_at(SlaKind::FirstContact, false), None);
        a.record(RepActivityKind::Contacted, Timestamp(30));
        a.record(RepActivityKind::Contacted, Timestamp(20));
        assert_eq!(
            a.closed_at(SlaKind::FirstContact, false),
            Some(Timestamp(20))
        );
        assert_eq!(a.closed_at(SlaKind::Qualification, false), None);
        a.record(RepActivityKind::Disqualified, Timestamp(40));
        assert_eq!(
            a.closed_at(SlaKind::Qualification, false),
            Some(Timestamp(40))
        );
        assert!(!a.record(RepActivityKind::Other, Timestamp(1)));
        assert_eq!(a.closed_at(SlaKind::Assignment, false), Some(Timestamp(10)));
    }

    #[test]
    fn an_enrolment_closes_only_the_clocks_of_a_no_handoff_decision() {
        let mut a = ActivityTimes::default();
        assert!(a.record(RepActivityKind::Enrolled, Timestamp(5)));
        // the automated first touch of NURTURE_24H
        assert_eq!(a.closed_at(SlaKind::FirstContact, true), Some(Timestamp(5)));
        assert_eq!(a.closed_at(SlaKind::Assignment, true), Some(Timestamp(5)));
        assert_eq!(a.closed_at(SlaKind::Qualification, true), None);
        // a human's packet after the lead replied: its clocks are not closed by the enrolment
        assert_eq!(a.closed_at(SlaKind::FirstContact, false), None);
        assert_eq!(a.closed_at(SlaKind::Assignment, false), None);
    }
}
