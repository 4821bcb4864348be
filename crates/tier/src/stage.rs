//! The `Stage` shell: leads.scored -> leads.tiered, one decision per scored lead.

use std::sync::Arc;

use leadflow_events::{ErrorKind, ScoredLead, TopicRole};
use leadflow_runtime::{Context, Output, Stage, StageError};

use crate::calendar::{Calendar, UnknownYearWarnings};
use crate::decide::{check_input, decide_owned};
use crate::policy::TierPolicy;
use crate::settings::{SettingsError, TierSettings};

/// The tier stage: applies the policy and the calendar to each scored lead.
#[derive(Clone, Debug)]
pub struct TierStage {
    policy: TierPolicy,
    calendar: Calendar,
    unknown_years: Arc<UnknownYearWarnings>,
}

impl TierStage {
    /// Builds the stage from validated settings.
    pub fn new(settings: &TierSettings) -> Result<Self, SettingsError> {
        let (policy, calendar) = settings.build()?;
        Ok(Self::from_parts(policy, calendar))
    }

    pub fn from_parts(policy: TierPolicy, calendar: Calendar) -> Self {
        Self {
            policy,
            calendar,
            unknown_years: Arc::default(),
        }
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

    async fn process(
        &mut self,
        input: ScoredLead,
        _ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        check_input(&input)
            .map_err(|e| StageError::poison(ErrorKind::Validation, e.to_string()))?;
        let at = input.enriched.lead.occurred_at.to_datetime();
        self.unknown_years.check(&self.calendar, at);
        let decision = decide_owned(input, &self.policy, &self.calendar);
        crate::metrics::record(&decision);
        Ok(vec![Output::to(TopicRole::Tiered, decision)])
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::json::AnyEvent;
    use leadflow_events::{HandoffKind, Timestamp, samples};

    use super::*;

    #[tokio::test]
    async fn emits_one_decision_keyed_by_lead() {
        let mut stage = TierStage::new(&TierSettings::default()).unwrap();
        // The wall clock in the context is ignored: event time decides.
        let ctx = Context::for_test(Timestamp(0));
        let out = stage.process(samples::scored_lead(), &ctx).await.unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].role, TopicRole::Tiered);
        assert_eq!(out[0].record_key(), "lead-0001");
        let AnyEvent::TierDecision(d) = &out[0].event else {
            panic!("not a tier decision: {:?}", out[0].event);
        };
        assert_eq!(d.handoff, HandoffKind::Escalation);
        assert_eq!(d.decided_at, samples::T0);
    }

    #[tokio::test]
    async fn out_of_range_score_is_poison() {
        let mut stage = TierStage::new(&TierSettings::default()).unwrap();
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
