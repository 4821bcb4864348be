//! `leadflow-route-rejections` (`handoff.activity` → `handoff.packets`): a lead its rep rejected
//! goes back to the pool (RULES.md §6c). Every other activity is read and left alone.

use leadflow_events::{ErrorKind, RepActivity, RepActivityKind, TopicRole};
use leadflow_runtime::{Context, Output, Stage, StageError};

use crate::stage::{reassignment_outputs, route_side_inputs, route_stage, wait_for_unknown_lead};

route_stage!(
    /// `leadflow-route-rejections`: one packet per lead its owner rejected.
    RejectionStage
);

impl RejectionStage {
    /// The pure transform: a REJECTED activity → zero or one reassigned packet; other kinds → none.
    pub fn reject(&self, activity: &RepActivity) -> Result<Vec<Output>, StageError> {
        if activity.kind != RepActivityKind::Rejected {
            return Ok(Vec::new());
        }
        if activity.lead_id.trim().is_empty() || activity.rep_id.trim().is_empty() {
            return Err(StageError::poison(
                ErrorKind::Validation,
                "REJECTED activity without a lead_id or rep_id",
            ));
        }
        reassignment_outputs(
            self.router.reassign_rejected(activity),
            &self.metrics,
            &self.settings.unroutable_owner,
            ("rejection", "rejection"),
            |result| self.metrics.rejection(result),
            |p, redelivered| {
                // a redelivery counts nothing on the rejection counters
                if !redelivered {
                    let result = if p.unassigned_reason.is_some() {
                        "manager"
                    } else {
                        "reassigned"
                    };
                    self.metrics.rejection(result);
                    self.metrics.packet("rejected");
                }
            },
        )
    }
}

impl Stage for RejectionStage {
    type Input = RepActivity;
    const NAME: &'static str = "route_rejections";
    const INPUT: TopicRole = TopicRole::Activity;

    async fn process(&self, input: RepActivity, ctx: &Context) -> Result<Vec<Output>, StageError> {
        wait_for_unknown_lead(self.reject(&input), ctx)
    }

    route_side_inputs!();
}
