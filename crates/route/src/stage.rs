//! The `Stage` shells: `leads.tiered` → `handoff.packets` ([`RouteStage`]) and `sla.escalations` →
//! `handoff.packets` ([`ReassignStage`]). Both rebuild the same routing state from the `reps`,
//! `handoff.packets` and `handoff.activity` side inputs before their first input.

use std::sync::Arc;
use std::time::Duration;

use leadflow_events::json::AnyEvent;
use leadflow_events::{ErrorKind, HandoffKind, SlaEscalation, TierDecision, TopicRole};
use leadflow_runtime::{Context, Output, SideInput, SideStart, Stage, StageError};

use crate::metrics;
use crate::router::{Reassigned, Routed, Router};
use crate::settings::RouteSettings;

/// The side inputs both stages replay: the roster in full, packets and activity over the window.
fn state_inputs(window_days: u32) -> Vec<SideInput> {
    let window = if window_days == 0 {
        SideStart::Beginning
    } else {
        SideStart::Since(Duration::from_secs(u64::from(window_days) * 86_400))
    };
    vec![
        SideInput {
            role: TopicRole::Reps,
            start: SideStart::Beginning,
        },
        SideInput {
            role: TopicRole::Packets,
            start: window,
        },
        SideInput {
            role: TopicRole::Activity,
            start: window,
        },
    ]
}

fn apply_side(router: &Router, event: &AnyEvent) -> Result<(), StageError> {
    let result = router.apply(event);
    if matches!(event, AnyEvent::RepState(_)) {
        metrics::roster_size(router.roster_len());
    }
    result.map_err(|reason| {
        metrics::roster_rejected();
        StageError::poison(ErrorKind::Validation, reason)
    })
}

/// `leadflow-route`: one packet per tier decision that hands off to a human.
#[derive(Debug)]
pub struct RouteStage {
    router: Arc<Router>,
    settings: RouteSettings,
}

impl RouteStage {
    pub fn new(settings: &RouteSettings) -> Self {
        Self::with_router(
            settings,
            Arc::new(Router::with_window(
                settings.router_config(),
                settings.state_window_days,
            )),
        )
    }

    pub fn with_router(settings: &RouteSettings, router: Arc<Router>) -> Self {
        Self {
            router,
            settings: settings.clone(),
        }
    }

    pub fn router(&self) -> &Arc<Router> {
        &self.router
    }

    /// The pure transform: one decision → zero or one packet, or an error for the exceptions topic.
    pub fn route(&self, input: &TierDecision) -> Result<Vec<Output>, StageError> {
        if input.handoff != HandoffKind::None && input.target_team.trim().is_empty() {
            return Err(StageError::poison(
                ErrorKind::Validation,
                "decision hands off to a human but names no target_team",
            ));
        }
        match self.router.route(input) {
            Routed::NoHandoff => {
                metrics::no_handoff(&input.tier);
                Ok(Vec::new())
            }
            Routed::Packet(p) => {
                let outcome = if p.unassigned_reason.is_some() {
                    "manager"
                } else if p.assignment_reason.starts_with("account owner") {
                    "account_owner"
                } else {
                    "rep"
                };
                metrics::packet(outcome);
                Ok(vec![Output::to(TopicRole::Packets, (*p).clone())])
            }
            Routed::Redelivered(p) => {
                metrics::packet("redelivered");
                Ok(vec![Output::to(TopicRole::Packets, (*p).clone())])
            }
            Routed::AlreadyHandled => {
                metrics::packet("already_handled");
                Ok(Vec::new())
            }
            Routed::Unroutable(reason) => {
                metrics::unroutable("decision");
                Err(StageError::Poison {
                    kind: ErrorKind::Processing,
                    reason: format!("unroutable lead: {reason}"),
                    owner: Some(self.settings.unroutable_owner.clone()),
                })
            }
        }
    }
}

impl Stage for RouteStage {
    type Input = TierDecision;
    const NAME: &'static str = "route";
    const INPUT: TopicRole = TopicRole::Tiered;

    async fn process(
        &mut self,
        input: TierDecision,
        _ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        self.route(&input)
    }

    fn side_inputs(&self) -> Vec<SideInput> {
        state_inputs(self.settings.state_window_days)
    }

    fn on_side_input(&mut self, event: AnyEvent) -> Result<(), StageError> {
        apply_side(&self.router, &event)
    }
}

/// `leadflow-route-reassign`: one reassigned packet per SLA breach.
#[derive(Debug)]
pub struct ReassignStage {
    router: Arc<Router>,
    settings: RouteSettings,
}

impl ReassignStage {
    pub fn new(settings: &RouteSettings) -> Self {
        Self {
            router: Arc::new(Router::with_window(
                settings.router_config(),
                settings.state_window_days,
            )),
            settings: settings.clone(),
        }
    }

    pub fn router(&self) -> &Arc<Router> {
        &self.router
    }

    /// The pure transform: one escalation → zero or one reassigned packet.
    pub fn reassign(&self, esc: &SlaEscalation) -> Result<Vec<Output>, StageError> {
        match self.router.reassign(esc) {
            Reassigned::Packet(p) => {
                metrics::escalation("reassigned");
                metrics::packet("reassigned");
                Ok(vec![Output::to(TopicRole::Packets, (*p).clone())])
            }
            Reassigned::Redelivered(p) => {
                metrics::escalation("redelivered");
                Ok(vec![Output::to(TopicRole::Packets, (*p).clone())])
            }
            Reassigned::NotOpen => {
                metrics::escalation("not_open");
                Ok(Vec::new())
            }
            Reassigned::UnknownLead(reason) => {
                metrics::escalation("unknown_lead");
                Err(StageError::Poison {
                    kind: ErrorKind::Processing,
                    reason,
                    owner: Some(self.settings.unroutable_owner.clone()),
                })
            }
            Reassigned::Unroutable(reason) => {
                metrics::escalation("unroutable");
                metrics::unroutable("escalation");
                Err(StageError::Poison {
                    kind: ErrorKind::Processing,
                    reason: format!("unroutable reassignment: {reason}"),
                    owner: Some(self.settings.unroutable_owner.clone()),
                })
            }
        }
    }
}

impl Stage for ReassignStage {
    type Input = SlaEscalation;
    const NAME: &'static str = "route_reassign";
    const INPUT: TopicRole = TopicRole::Escalations;

    async fn process(
        &mut self,
        input: SlaEscalation,
        _ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        self.reassign(&input)
    }

    fn side_inputs(&self) -> Vec<SideInput> {
        state_inputs(self.settings.state_window_days)
    }

    fn on_side_input(&mut self, event: AnyEvent) -> Result<(), StageError> {
        apply_side(&self.router, &event)
    }
}
