//! The join of outcomes with the features each lead was scored on (RULES.md R1, R3, R4).
//!
//! State, rebuilt from `leads.scored` and `leads.outcomes` (both read from `now − retention`):
//! the features of every scored lead, the label each lead's outcomes give it, and the outcomes whose
//! lead is not (yet) known. Pure: time comes in as arguments.

use std::collections::{BTreeMap, HashMap, HashSet};

use leadflow_events::{LeadOutcome, OutcomeStage, ScoredLead, Timestamp};

use crate::features::{FeatureSpace, Features};

/// What one outcome says about conversion (R1).
pub fn label_of(stage: OutcomeStage) -> Option<bool> {
    match stage {
        OutcomeStage::Sql
        | OutcomeStage::Opportunity
        | OutcomeStage::ClosedWon
        | OutcomeStage::ClosedLost => Some(true),
        OutcomeStage::Rejected => Some(false),
        OutcomeStage::Accepted => None,
    }
}

/// A scored lead as the join keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct LeadFeatures {
    /// Event time of the lead (what the holdout split and retention use).
    pub at: Timestamp,
    pub features: Features,
    /// The score and model version it was given.
    pub score: i32,
    pub model_version: String,
}

/// One labelled, joined lead: a training or holdout row.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub lead_id: String,
    pub at: Timestamp,
    pub features: Features,
    pub converted: bool,
}

/// An outcome whose lead the join does not know.
#[derive(Clone, Debug, PartialEq)]
pub struct Unknown {
    pub outcome: LeadOutcome,
    /// Wall-clock time the join first saw it (the grace period runs from here).
    pub first_seen: Timestamp,
}

/// The join state.
#[derive(Debug)]
pub struct Join {
    space: FeatureSpace,
    retention_ms: i64,
    leads: HashMap<String, LeadFeatures>,
    /// Lead → (converted, event time of the deciding outcome).
    labels: HashMap<String, (bool, Timestamp)>,
    seen_outcomes: HashSet<String>,
    unknown: BTreeMap<String, Unknown>,
    reported: HashSet<String>,
}

impl Join {
    pub fn new(space: FeatureSpace, retention_ms: i64) -> Self {
        Self {
            space,
            retention_ms,
            leads: HashMap::new(),
            labels: HashMap::new(),
            seen_outcomes: HashSet::new(),
            unknown: BTreeMap::new(),
            reported: HashSet::new(),
        }
    }

    pub fn space(&self) -> &FeatureSpace {
        &self.space
    }

    /// Records a scored lead's features (the latest scoring of a lead wins).
    pub fn apply_scored(&mut self, scored: &ScoredLead) {
        let lead_id = scored.enriched.lead.lead_id.clone();
        let features = self.space.extract(&scored.enriched);
        self.leads.insert(
            lead_id.clone(),
            LeadFeatures {
                at: scored.enriched.lead.occurred_at,
                features,
                score: scored.score,
                model_version: scored.model_version.clone(),
            },
        );
        // an outcome that was waiting for this lead joins now
        self.unknown.retain(|_, u| u.outcome.lead_id != lead_id);
    }

    /// Records an outcome; `now` is the wall clock (grace period). Replays are idempotent
    /// (`outcome_id`). Returns whether the lead is known.
    pub fn apply_outcome(&mut self, outcome: &LeadOutcome, now: Timestamp) -> bool {
        let known = self.leads.contains_key(&outcome.lead_id);
        if !self.seen_outcomes.insert(outcome.outcome_id.clone()) {
            return known;
        }
        if let Some(converted) = label_of(outcome.stage) {
            let entry = self
                .labels
                .entry(outcome.lead_id.clone())
                .or_insert((converted, outcome.occurred_at));
            // a conversion wins over a rejection whatever the order (R1)
            if converted && !entry.0 {
                *entry = (true, outcome.occurred_at);
            }
        }
        if !known && !self.reported.contains(&outcome.outcome_id) {
            self.unknown
                .entry(outcome.outcome_id.clone())
                .or_insert_with(|| Unknown {
                    outcome: outcome.clone(),
                    first_seen: now,
                });
        }
        known
    }

    /// Outcomes whose lead is still unknown `grace_ms` after they were first seen: each returned
    /// once (R4).
    pub fn overdue_unknown(&mut self, now: Timestamp, grace_ms: i64) -> Vec<LeadOutcome> {
        let due: Vec<String> = self
            .unknown
            .iter()
            .filter(|(_, u)| now.0 - u.first_seen.0 >= grace_ms)
            .map(|(id, _)| id.clone())
            .collect();
        due.into_iter()
            .filter_map(|id| {
                let u = self.unknown.remove(&id)?;
                self.reported.insert(id);
                Some(u.outcome)
            })
            .collect()
    }

    /// Forgets leads (and their labels) older than the retention window (R3).
    pub fn evict(&mut self, now: Timestamp) -> usize {
        let horizon = now.0 - self.retention_ms;
        let before = self.leads.len();
        self.leads.retain(|_, l| l.at.0 >= horizon);
        let leads = &self.leads;
        self.labels
            .retain(|id, (_, at)| leads.contains_key(id) || at.0 >= horizon);
        before - self.leads.len()
    }

    /// Every labelled lead with known features, oldest first (by lead event time, then id).
    pub fn samples(&self) -> Vec<Sample> {
        let mut out: Vec<Sample> = self
            .labels
            .iter()
            .filter_map(|(id, (converted, _))| {
                let l = self.leads.get(id)?;
                Some(Sample {
                    lead_id: id.clone(),
                    at: l.at,
                    features: l.features.clone(),
                    converted: *converted,
                })
            })
            .collect();
        out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.lead_id.cmp(&b.lead_id)));
        out
    }

    /// (score, converted) of every labelled lead with known features: the scoring-accuracy
    /// gauges' input (`crate::accuracy`).
    pub fn scored_labels(&self) -> Vec<(i32, bool)> {
        self.labels
            .iter()
            .filter_map(|(id, (converted, _))| Some((self.leads.get(id)?.score, *converted)))
            .collect()
    }

    /// Labelled leads with known features.
    pub fn labelled(&self) -> usize {
        self.labels
            .keys()
            .filter(|id| self.leads.contains_key(*id))
            .count()
    }

    pub fn leads(&self) -> usize {
        self.leads.len()
    }

    pub fn unknown_pending(&self) -> usize {
        self.unknown.len()
    }

    /// The features of every retained scored lead (labelled or not).
    pub fn all_features(&self) -> impl Iterator<Item = &Features> {
        self.leads.values().map(|l| &l.features)
    }

    pub fn lead(&self, id: &str) -> Option<&LeadFeatures> {
        self.leads.get(id)
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    const DAY: i64 = 86_400_000;

    fn join() -> Join {
        Join::new(
            FeatureSpace::default_space("lead-priority").unwrap(),
            30 * DAY,
        )
    }

    fn scored(id: &str, at: i64) -> ScoredLead {
        let mut s = samples::scored_lead();
        s.enriched.lead.lead_id = id.into();
        s.enriched.lead.occurred_at = Timestamp(at);
        s
    }

    fn outcome(id: &str, lead: &str, stage: OutcomeStage, at: i64) -> LeadOutcome {
        let mut o = samples::lead_outcome();
        o.outcome_id = id.into();
        o.lead_id = lead.into();
        o.stage = stage;
        o.occurred_at = Timestamp(at);
        o
    }

    #[test]
    fn outcomes_join_the_features_of_their_lead() {
        let mut j = join();
        j.apply_scored(&scored("a", 10 * DAY));
        j.apply_scored(&scored("b", 11 * DAY));
        j.apply_scored(&scored("c", 12 * DAY));
        assert!(j.apply_outcome(
            &outcome("o1", "a", OutcomeStage::Sql, 13 * DAY),
            Timestamp(0)
        ));
        assert!(j.apply_outcome(
            &outcome("o2", "b", OutcomeStage::Rejected, 13 * DAY),
            Timestamp(0)
        ));
        // accepted alone is not a label
        assert!(j.apply_outcome(
            &outcome("o3", "c", OutcomeStage::Accepted, 13 * DAY),
            Timestamp(0)
        ));
        let s = j.samples();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].lead_id.as_str(), s[0].converted), ("a", true));
        assert_eq!((s[1].lead_id.as_str(), s[1].converted), ("b", false));
        assert_eq!(s[0].features, j.lead("a").unwrap().features);
        assert!(!s[0].features.is_empty());
    }

    #[test]
    fn conversion_wins_over_rejection_in_any_order_and_replays_are_idempotent() {
        let mut j = join();
        j.apply_scored(&scored("a", DAY));
        j.apply_outcome(
            &outcome("o1", "a", OutcomeStage::ClosedWon, 3 * DAY),
            Timestamp(0),
        );
        j.apply_outcome(
            &outcome("o2", "a", OutcomeStage::Rejected, 4 * DAY),
            Timestamp(0),
        );
        j.apply_outcome(
            &outcome("o1", "a", OutcomeStage::ClosedWon, 3 * DAY),
            Timestamp(0),
        );
        assert_eq!(j.samples().len(), 1);
        assert!(j.samples()[0].converted);
        let mut k = join();
        k.apply_scored(&scored("a", DAY));
        k.apply_outcome(
            &outcome("o2", "a", OutcomeStage::Rejected, 2 * DAY),
            Timestamp(0),
        );
        k.apply_outcome(
            &outcome("o1", "a", OutcomeStage::Sql, 3 * DAY),
            Timestamp(0),
        );
        assert!(k.samples()[0].converted);
    }

    #[test]
    fn unknown_leads_wait_for_the_grace_period_then_are_reported_once() {
        let mut j = join();
        let grace = 60_000;
        assert!(!j.apply_outcome(
            &outcome("o1", "ghost", OutcomeStage::Sql, DAY),
            Timestamp(1_000)
        ));
        assert!(!j.apply_outcome(
            &outcome("o2", "late", OutcomeStage::Sql, DAY),
            Timestamp(1_000)
        ));
        assert!(j.overdue_unknown(Timestamp(30_000), grace).is_empty());
        // the late lead arrives within the grace period: it joins, nothing is reported for it
        j.apply_scored(&scored("late", DAY / 2));
        let due = j.overdue_unknown(Timestamp(61_000), grace);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].lead_id, "ghost");
        assert!(j.overdue_unknown(Timestamp(999_000), grace).is_empty());
        // a replay of the same outcome is not reported again
        j.apply_outcome(
            &outcome("o1", "ghost", OutcomeStage::Sql, DAY),
            Timestamp(999_000),
        );
        assert!(j.overdue_unknown(Timestamp(9_999_000), grace).is_empty());
        assert_eq!(j.samples().len(), 1, "the late lead is labelled");
    }

    #[test]
    fn retention_forgets_old_leads_and_their_labels() {
        let mut j = join();
        j.apply_scored(&scored("old", DAY));
        j.apply_scored(&scored("new", 40 * DAY));
        j.apply_outcome(
            &outcome("o1", "old", OutcomeStage::Sql, 2 * DAY),
            Timestamp(0),
        );
        j.apply_outcome(
            &outcome("o2", "new", OutcomeStage::Sql, 41 * DAY),
            Timestamp(0),
        );
        assert_eq!(j.labelled(), 2);
        assert_eq!(j.evict(Timestamp(45 * DAY)), 1);
        assert_eq!(j.labelled(), 1);
        assert_eq!(j.samples()[0].lead_id, "new");
    }
}
