//! Which decided `sla.outcomes` records still have to be published: every instance decides the
//! outcomes of every lead (it holds the whole state), the owner of a lead's partition publishes
//! them in the order they were decided, and every instance reads them back (a side input), so a
//! record is published once and a new owner publishes only what its predecessor had not.

use std::collections::{HashSet, VecDeque};

use leadflow_events::SlaOutcome;

/// Outcomes decided and not yet seen on `sla.outcomes`.
#[derive(Debug, Default)]
pub struct Ledger {
    pending: VecDeque<SlaOutcome>,
    pending_ids: HashSet<String>,
    published: HashSet<String>,
}

impl Ledger {
    /// Outcomes the engine decided, in order; those already published or pending are dropped.
    pub fn decided(&mut self, outcomes: impl IntoIterator<Item = SlaOutcome>) {
        for o in outcomes {
            if self.published.contains(&o.outcome_id) || self.pending_ids.contains(&o.outcome_id) {
                continue;
            }
            self.pending_ids.insert(o.outcome_id.clone());
            self.pending.push_back(o);
        }
    }

    /// An outcome on `sla.outcomes` (read back, or acknowledged after this instance produced it).
    pub fn published(&mut self, outcome_id: &str) {
        self.pending_ids.remove(outcome_id);
        self.published.insert(outcome_id.to_owned());
    }

    /// The pending outcomes `owns` accepts, in the order they were decided (they stay pending
    /// until published).
    pub fn due(&mut self, owns: &dyn Fn(&str) -> bool) -> Vec<SlaOutcome> {
        let ids = &self.pending_ids;
        self.pending.retain(|o| ids.contains(&o.outcome_id));
        self.pending
            .iter()
            .filter(|o| owns(&o.lead_id))
            .cloned()
            .collect()
    }

    /// Outcomes waiting to be published.
    pub fn len(&self) -> usize {
        self.pending_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending_ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    fn outcome(lead: &str, id: &str) -> SlaOutcome {
        let mut o = samples::sla_outcome();
        o.lead_id = lead.into();
        o.outcome_id = id.into();
        o
    }

    #[test]
    fn publishes_each_outcome_once_in_order_for_owned_leads() {
        let mut l = Ledger::default();
        l.decided([outcome("a", "1"), outcome("b", "2"), outcome("a", "3")]);
        let only_a = |lead: &str| lead == "a";
        let ids = |v: Vec<SlaOutcome>| v.into_iter().map(|o| o.outcome_id).collect::<Vec<_>>();
        assert_eq!(ids(l.due(&only_a)), ["1", "3"]);
        // still pending until published
        assert_eq!(ids(l.due(&only_a)), ["1", "3"]);
        l.published("1");
        l.published("3");
        assert!(l.due(&only_a).is_empty());
        // another instance published b's; deciding it again (a replay) changes nothing
        l.published("2");
        l.decided([outcome("b", "2")]);
        assert!(l.is_empty());
        assert!(l.due(&|_: &str| true).is_empty());
    }
}
