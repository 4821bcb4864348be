//! `leadflow-route-rejections` (`handoff.activity` → `handoff.packets`): a lead its rep rejected
//! goes back to the pool (RULES.md §6c). Every other activity is read and left alone.

use std::sync::Arc;

use leadflow_events::{AnyEvent, ErrorKind, RepActivity, RepActivityKind, TopicRole};
use leadflow_runtime::{Context, Output, SideInput, Stage, StageError, StageRegistry};

use crate::metrics::RouteMetrics;
use crate::router::Router;
use crate::settings::RouteSettings;
use crate::stage::{apply_side, reassignment_outputs, state_inputs, wait_for_unknown_lead};

/// `leadflow-route-rejections`: one packet per lead its owner rejected.
#[derive(Debug)]
pub struct RejectionStage {
    router: Arc<Router>,
    settings: RouteSettings,
    metrics: RouteMetrics,
}

impl RejectionStage {
    /// Builds the stage, registering its metrics in `registry`.
    pub fn new(
        settings: &RouteSettings,
        registry: &StageRegistry,
    ) -> Result<Self, prometheus::Error> {
        Ok(Self {
            router: Arc::new(Router::with_window(
                settings.router_config(),
                settings.state_window_days,
            )),
            settings: settings.clone(),
            metrics: RouteMetrics::register(registry)?,
        })
    }

    pub fn metrics(&self) -> &RouteMetrics {
        &self.metrics
    }

    pub fn router(&self) -> &Arc<Router> {
        &self.router
    }

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

    fn side_inputs(&self) -> Vec<SideInput> {
        state_inputs(self.settings.state_window_days)
    }

    fn on_side_input(&self, event: AnyEvent) -> Result<(), StageError> {
        apply_side(&self.router, &self.metrics, &event)
    }
}
