//! Rule N1 of `POLICY.md`: a nurtured lead that engages again within its sequence's window is handed
//! to a human. What counts as an engagement, how long a sequence listens, and the memory of which
//! leads are enrolled (built from the nurture stage's `ENROLLED` activities on `handoff.activity`).

use std::collections::HashMap;
use std::sync::Mutex;

use leadflow_events::{
    ActivityKind, LeadEventType, RepActivity, RepActivityKind, ScoredLead, Timestamp,
};
use serde::{Deserialize, Serialize};

const HOUR_MS: i64 = 3_600_000;

/// `[stage.nurture_reply]`: how long after the enrolment a reply still brings a human.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NurtureReplyRules {
    /// Window of a band whose action is an automated sequence (NURTURE_24H, MEL): 24 h.
    pub sequence_window_hours: u32,
    /// Window of a band whose action is marketing nurture (NURTURE, COLD): 168 h (one week).
    pub nurture_window_hours: u32,
}

impl Default for NurtureReplyRules {
    fn default() -> Self {
        Self {
            sequence_window_hours: 24,
            nurture_window_hours: 168,
        }
    }
}

impl NurtureReplyRules {
    /// The longest window: how far back the enrolments are replayed.
    pub fn longest_hours(&self) -> u32 {
        self.sequence_window_hours.max(self.nurture_window_hours)
    }
}

/// A lead enrolled in a nurture sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    /// The tier whose sequence it is (the `ENROLLED` activity's `reason`).
    pub tier: String,
    pub enrolled_at: Timestamp,
}

/// What the lead did that counts as engaging with the sequence, as a phrase for the reasons.
pub fn engagement(scored: &ScoredLead) -> Option<&'static str> {
    let lead = &scored.enriched.lead;
    match lead.event_type {
        LeadEventType::EmailReply => return Some("replied to the nurture email"),
        LeadEventType::FormSubmission if scored.enriched.is_update => {
            return Some("submitted a form again");
        }
        _ => {}
    }
    lead.activities
        .iter()
        .any(|a| a.kind == ActivityKind::EmailReply)
        .then_some("replied to the nurture email")
}

/// The enrolments of the last window, by lead id. Bounded: entries older than the longest window
/// behind the newest enrolment seen are evicted. Shared by every partition task.
#[derive(Debug, Default)]
pub struct EnrolmentMemory {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_lead: HashMap<String, Enrolment>,
    newest: i64,
    evicted_before: i64,
}

impl EnrolmentMemory {
    /// Applies one activity: an `ENROLLED` one remembers the enrolment (POLICY.md N1): the first
    /// enrolment in a sequence starts its window, and enrolling the lead in the same sequence again
    /// (a later decision that still nurtures it) does not restart it; an enrolment in another
    /// sequence, later than the remembered one, replaces it.
    pub fn apply(&self, activity: &RepActivity, rules: &NurtureReplyRules) {
        if activity.kind != RepActivityKind::Enrolled {
            return;
        }
        let Some(tier) = activity.reason.as_deref().filter(|t| !t.is_empty()) else {
            return;
        };
        let mut inner = self.lock();
        let at = activity.occurred_at;
        let entry = inner
            .by_lead
            .entry(activity.lead_id.clone())
            .or_insert_with(|| Enrolment {
                tier: tier.to_owned(),
                enrolled_at: at,
            });
        if entry.tier == tier {
            // the same sequence: its window runs from the first enrolment (one replayed late too)
            entry.enrolled_at = entry.enrolled_at.min(at);
        } else if at >= entry.enrolled_at {
            entry.tier = tier.to_owned();
            entry.enrolled_at = at;
        }
        inner.newest = inner.newest.max(at.0);
        inner.evict(i64::from(rules.longest_hours()) * HOUR_MS);
    }

    /// The lead's enrolment, if one is remembered.
    pub fn get(&self, lead_id: &str) -> Option<Enrolment> {
        self.lock().by_lead.get(lead_id).cloned()
    }

    /// The lead was handed to a human: later replies to the old sequence hand nothing over again.
    pub fn forget(&self, lead_id: &str) {
        self.lock().by_lead.remove(lead_id);
    }

    /// How many enrolments are remembered.
    pub fn len(&self) -> usize {
        self.lock().by_lead.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // each update is one insert or remove: a poisoned lock leaves nothing half-applied
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    /// Evicts at most once per hour of enrolment time.
    fn evict(&mut self, window_ms: i64) {
        let cutoff = self.newest.saturating_sub(window_ms);
        if cutoff < self.evicted_before + HOUR_MS {
            return;
        }
        self.by_lead.retain(|_, e| e.enrolled_at.0 >= cutoff);
        self.evicted_before = cutoff;
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    fn enrolled(lead: &str, tier: &str, at: i64) -> RepActivity {
        RepActivity {
            activity_id: format!("enrol-{lead}-{at}"),
            lead_id: lead.into(),
            packet_id: None,
            rep_id: "automation".into(),
            kind: RepActivityKind::Enrolled,
            reason: Some(tier.into()),
            reassigned_to: None,
            occurred_at: Timestamp(at),
        }
    }

    #[test]
    fn engagements_are_replies_and_form_resubmissions() {
        let mut s = samples::scored_lead();
        s.enriched.lead.event_type = LeadEventType::EmailReply;
        assert_eq!(engagement(&s), Some("replied to the nurture email"));
        s.enriched.lead.event_type = LeadEventType::FormSubmission;
        s.enriched.is_update = false;
        s.enriched.lead.activities.clear();
        assert_eq!(engagement(&s), None, "a first form is a new lead");
        s.enriched.is_update = true;
        assert_eq!(engagement(&s), Some("submitted a form again"));
        s.enriched.lead.event_type = LeadEventType::IntentSurge;
        assert_eq!(engagement(&s), None);
        s.enriched.lead.activities.push(leadflow_events::Activity {
            kind: ActivityKind::EmailReply,
            occurred_at: Timestamp(0),
            detail: None,
        });
        assert_eq!(engagement(&s), Some("replied to the nurture email"));
    }

    #[test]
    fn the_memory_keeps_the_latest_sequence_and_evicts_old_enrolments() {
        let rules = NurtureReplyRules::default();
        let m = EnrolmentMemory::default();
        m.apply(&enrolled("L1", "NURTURE", 10 * HOUR_MS), &rules);
        m.apply(&enrolled("L1", "NURTURE_24H", 20 * HOUR_MS), &rules);
        m.apply(&enrolled("L1", "NURTURE", 15 * HOUR_MS), &rules); // older, replayed late
        assert_eq!(
            m.get("L1"),
            Some(Enrolment {
                tier: "NURTURE_24H".into(),
                enrolled_at: Timestamp(20 * HOUR_MS)
            })
        );
        // a rep's activity is not an enrolment
        let mut contacted = enrolled("L2", "NURTURE", HOUR_MS);
        contacted.kind = RepActivityKind::Contacted;
        m.apply(&contacted, &rules);
        assert_eq!(m.get("L2"), None);
        // 168 h after L1's enrolment, L1 is evicted by a newer enrolment
        m.apply(&enrolled("L3", "NURTURE", (20 + 170) * HOUR_MS), &rules);
        assert_eq!(m.get("L1"), None);
        assert_eq!(m.len(), 1);
        m.forget("L3");
        assert!(m.is_empty());
    }

    #[test]
    fn enrolling_a_lead_in_the_same_sequence_again_does_not_restart_its_window() {
        let rules = NurtureReplyRules::default();
        let m = EnrolmentMemory::default();
        let first = |m: &EnrolmentMemory| m.get("L1").map(|e| (e.tier, e.enrolled_at.0));
        m.apply(&enrolled("L1", "NURTURE_24H", 10 * HOUR_MS), &rules);
        // a late reply kept the lead in nurture: the nurture stage enrols it again at 40 h
        m.apply(&enrolled("L1", "NURTURE_24H", 40 * HOUR_MS), &rules);
        assert_eq!(first(&m), Some(("NURTURE_24H".into(), 10 * HOUR_MS)));
        // replayed out of order, the first enrolment still wins
        m.apply(&enrolled("L2", "NURTURE", 40 * HOUR_MS), &rules);
        m.apply(&enrolled("L2", "NURTURE", 30 * HOUR_MS), &rules);
        assert_eq!(m.get("L2").map(|e| e.enrolled_at.0), Some(30 * HOUR_MS));
        // another sequence starts its own window
        m.apply(&enrolled("L1", "NURTURE", 50 * HOUR_MS), &rules);
        assert_eq!(first(&m), Some(("NURTURE".into(), 50 * HOUR_MS)));
    }
}
