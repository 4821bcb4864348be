//! The `Stage` shell: leads.scored -> leads.tiered, one decision per scored lead, keyed by the
//! lead's account (POLICY.md "Output keying"). Its one piece of state, the nurture enrolments of
//! rule N1, is a side input: `handoff.activity` over the longest sequence window.

use std::sync::Arc;
use std::time::Duration;

use leadflow_events::{AnyEvent, ErrorKind, HandoffKind, ScoredLead, TopicRole};
use leadflow_runtime::{Context, Output, SideInput, SideStart, Stage, StageError, StageRegistry};

use crate::calendar::{Calendar, UnknownYearWarnings};
use crate::decide::{check_input, decide_with};
use crate::metrics::TierMetrics;
use crate::nurture_reply::EnrolmentMemory;
use crate::policy::TierPolicy;
use crate::settings::{SettingsError, TierSettings};

/// Why the tier stage could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TierInitError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot register the tier metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// The tier stage: applies the policy and the calendar to each scored lead. The policy and calendar
/// are read-only; the enrolments (rule N1) sit behind their own lock, shared by every partition task.
#[derive(Clone, Debug)]
pub struct TierStage {
    policy: TierPolicy,
    calendar: Calendar,
    metrics: TierMetrics,
    unknown_years: Arc<UnknownYearWarnings>,
    enrolments: Arc<EnrolmentMemory>,
}

impl TierStage {
    /// Builds the stage from validated settings, registering its metrics in `registry`.
    pub fn new(settings: &TierSettings, registry: &StageRegistry) -> Result<Self, TierInitError> {
        let (policy, calendar) = settings.build()?;
        let metrics = TierMetrics::register(registry)?;
        Ok(Self::from_parts(policy, calendar, metrics))
    }

    pub fn from_parts(policy: TierPolicy, calendar: Calendar, metrics: TierMetrics) -> Self {
        Self {
            policy,
            calendar,
            metrics,
            unknown_years: Arc::default(),
            enrolments: Arc::default(),
        }
    }

    /// The nurture enrolments the stage knows (rule N1).
    pub fn enrolments(&self) -> &EnrolmentMemory {
        &self.enrolments
    }

    /// The stage's metrics.
    pub fn metrics(&self) -> &TierMetrics {
        &self.metrics
    }

    pub fn policy(&self) -> &TierPolicy {
        &self.policy
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }
}

impl Stage for TierStage {
    type Input = ScoredLead;
    const NAME: &'static str = "tier";
    const INPUT: TopicRole = TopicRole::Scored;

    /// Pure and cheap, no state between inputs: several inputs of a partition may be decided at
    /// once (outputs and offsets still in partition order).
    fn partition_concurrency(&self) -> usize {
        4
    }

    async fn process(&self, input: ScoredLead, _ctx: &Context) -> Result<Vec<Output>, StageError> {
        check_input(&input)
            .map_err(|e| StageError::poison(ErrorKind::Validation, e.to_string()))?;
        let at = input.enriched.lead.occurred_at.to_datetime();
        self.unknown_years.check(&self.calendar, at);
        let lead_id = input.enriched.lead.lead_id.clone();
        let enrolment = self.enrolments.get(&lead_id);
        let decision = decide_with(input, &self.policy, &self.calendar, enrolment.as_ref());
        if enrolment.is_some() && decision.handoff != HandoffKind::None {
            // handed to a human: a second reply to the old sequence hands nothing over again
            self.enrolments.forget(&lead_id);
        }
        self.metrics.record(&decision);
        Ok(vec![Output::to(TopicRole::Tiered, decision)])
    }

    /// Rule N1's enrolments: the nurture stage's `ENROLLED` activities of the longest window (plus
    /// a day, so an enrolment at the window's edge is not missed after a restart).
    fn side_inputs(&self) -> Vec<SideInput> {
        let hours = u64::from(self.policy.nurture_reply.longest_hours()) + 24;
        vec![SideInput {
            role: TopicRole::Activity,
            start: SideStart::Since(Duration::from_secs(hours * 3600)),
        }]
    }

    fn on_side_input(&self, event: AnyEvent) -> Result<(), StageError> {
        if let AnyEvent::RepActivity(a) = event {
            self.enrolments.apply(&a, &self.policy.nurture_reply);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::AnyEvent;
    use leadflow_events::{HandoffKind, Timestamp, samples};

    use super::*;

    #[tokio::test]
    async fn a_decision_is_keyed_by_its_account_else_by_its_lead() {
        let stage = TierStage::new(&TierSettings::default(), &StageRegistry::new("tier")).unwrap();
        let ctx = Context::for_test(Timestamp(0));
        // two leads of one account: one key, so one partition and one route instance
        let mut other = samples::scored_lead();
        other.enriched.lead.lead_id = "lead-0002".into();
        for lead in [samples::scored_lead(), other] {
            let out = stage.process(lead, &ctx).await.unwrap();
            assert_eq!(out[0].record_key(), "northwind.io");
        }
        // a free-mail lead without a company domain is its own account
        let mut free = samples::scored_lead();
        free.enriched.company_domain = None;
        free.enriched.account_key = free.enriched.lead.lead_id.clone();
        let out = stage.process(free, &ctx).await.unwrap();
        assert_eq!(out[0].record_key(), "lead-0001");
    }

    #[tokio::test]
    async fn emits_one_decision_per_scored_lead() {
        let registry = StageRegistry::new(TierStage::NAME);
        let stage = TierStage::new(&TierSettings::default(), &registry).unwrap();
        // The wall clock in the context is ignored: event time decides.
        let ctx = Context::for_test(Timestamp(0));
        let out = stage.process(samples::scored_lead(), &ctx).await.unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].role, TopicRole::Tiered);
        let AnyEvent::TierDecision(d) = &out[0].event else {
            panic!("not a tier decision: {:?}", out[0].event);
        };
        assert_eq!(d.handoff, HandoffKind::Escalation);
        assert_eq!(d.decided_at, samples::T0);
        let trigger = format!("{:?}", d.trigger).to_ascii_lowercase();
        assert_eq!(
            stage
                .metrics()
                .decisions(d.tier.as_str(), "escalation", &trigger),
            1,
            "the decision is counted in the stage's registry"
        );
        assert!(
            registry
                .render()
                .contains("leadflow_tier_decisions_total{handoff=\"escalation\""),
            "{}",
            registry.render()
        );
        // a second registration in the same registry is an error, not a silently missing metric
        assert!(TierStage::new(&TierSettings::default(), &registry).is_err());
    }

    #[tokio::test]
    async fn out_of_range_score_is_poison() {
        let stage = TierStage::new(&TierSettings::default(), &StageRegistry::new("tier")).unwrap();
        let mut lead = samples::scored_lead();
        lead.score = 140;
        let err = stage
            .process(lead, &Context::for_test(samples::T0))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StageError::Poison { kind: ErrorKind::Validation, ref reason, .. } if reason.contains("140")),
            "{err:?}"
        );
    }
}
