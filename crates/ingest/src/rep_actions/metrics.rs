//! `leadflow_ingest_rep_actions_total{source, result}` and
//! `leadflow_ingest_rep_action_answers_total{result}`: bounded labels (two sources, a fixed set of
//! results), never a rep, a lead or a Slack user.

use leadflow_runtime::StageRegistry;
use prometheus::IntCounterVec;

#[derive(Clone, Debug)]
pub struct RepActionMetrics {
    actions: IntCounterVec,
    answers: IntCounterVec,
}

impl RepActionMetrics {
    pub fn register(registry: &StageRegistry) -> Result<Self, prometheus::Error> {
        Ok(Self {
            actions: registry.counter_vec(
                "rep_actions_total",
                "Slack clicks and HubSpot webhook events, by source (slack, hubspot) and result (recorded, unauthenticated, replayed, bad_payload, unknown_user, unknown_lead, reassigned, not_owner, twice, closed, ignored, not_ours, old_packet, already_recorded, unavailable)",
                &["source", "result"],
            )?,
            answers: registry.counter_vec(
                "rep_action_answers_total",
                "Answers posted to Slack's response_url, by result (sent, failed)",
                &["result"],
            )?,
        })
    }

    pub fn action(&self, source: &str, result: &str) {
        self.actions.with_label_values(&[source, result]).inc();
    }

    /// Count of a (source, result) (tests).
    pub fn actions(&self, source: &str, result: &str) -> u64 {
        self.actions.with_label_values(&[source, result]).get()
    }

    pub fn answer(&self, result: &str) {
        self.answers.with_label_values(&[result]).inc();
    }
}
