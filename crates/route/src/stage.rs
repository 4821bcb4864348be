//! The `Stage` shells: `leads.tiered` → `handoff.packets` ([`RouteStage`]) and `sla.escalations` →
//! `handoff.packets` ([`ReassignStage`]). Both rebuild the same routing state from the `reps`,
//! `handoff.packets`, `handoff.activity` and `leads.tiered` (committees) side inputs before their
//! first input.

use std::time::Duration;

use leadflow_events::AnyEvent;
use leadflow_events::{
    ErrorKind, HandoffKind, HandoffPacket, SlaEscalation, TierDecision, TopicRole,
};
use leadflow_runtime::{Context, Output, SideInput, SideStart, Stage, StageError};

use crate::metrics::RouteMetrics;
use crate::router::{Reassigned, Routed, Router};

/// How long (ms, by the escalation's record time) an escalation for a lead not yet seen routed is
/// retried before it becomes an exception (RULES.md §6).
pub const UNKNOWN_LEAD_WAIT_MS: i64 = 30_000;
pub(crate) const NEVER_ASSIGNED: &str = "which route never assigned";

/// The side inputs every route stage replays: the roster in full; packets, activity and decisions
/// (the accounts' committees, RULES.md §9) over the window.
pub(crate) fn state_inputs(window_days: u32) -> Vec<SideInput> {
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
        // every decision, for the accounts' committees (RULES.md §9)
        SideInput {
            role: TopicRole::Tiered,
            start: window,
        },
    ]
}

/// A reassignment for a lead this instance has not seen routed is retried while its input is
/// younger than [`UNKNOWN_LEAD_WAIT_MS`] by its record time (the packet may still be on its way
/// through the `handoff.packets` side input); older, it stays an exception.
pub(crate) fn wait_for_unknown_lead(
    result: Result<Vec<Output>, StageError>,
    ctx: &Context,
) -> Result<Vec<Output>, StageError> {
    if let Err(StageError::Poison { reason, .. }) = &result {
        let age_ms = ctx
            .record_time
            .map_or(i64::MAX, |t| ctx.now.0.saturating_sub(t.0));
        if reason.contains(NEVER_ASSIGNED) && age_ms < UNKNOWN_LEAD_WAIT_MS {
            return Err(StageError::retryable(format!(
                "{reason}; waiting for its packet on the packets side input"
            )));
        }
    }
    result
}

/// A lead nobody can take (or route never saw): the exceptions topic, owned by `owner`
/// (`unroutable_owner`, RULES.md §3 step 4).
pub(crate) fn owned_by(owner: &str, reason: String) -> StageError {
    StageError::Poison {
        kind: ErrorKind::Processing,
        reason,
        owner: Some(owner.to_owned()),
    }
}

/// The outputs of a reassignment of an open lead (after an SLA breach, after a rejection): the
/// packet (`on_packet` counts it, told whether it is a redelivery), nothing for a lead no longer
/// open, or an exception owned by `unroutable_owner` for a lead route never saw or nobody can take.
/// `count` counts those three results on the input's own counter; `(input, action)` name the input
/// in the unroutable counter and the action in the exception's reason (`("escalation",
/// "reassignment")`).
pub(crate) fn reassignment_outputs(
    reassigned: Reassigned,
    metrics: &RouteMetrics,
    unroutable_owner: &str,
    (input, action): (&str, &str),
    count: impl Fn(&str),
    on_packet: impl FnOnce(&HandoffPacket, bool),
) -> Result<Vec<Output>, StageError> {
    match reassigned {
        Reassigned::Packet(p) => {
            on_packet(&p, false);
            Ok(vec![Output::to(TopicRole::Packets, (*p).clone())])
        }
        Reassigned::Redelivered(p) => {
            on_packet(&p, true);
            Ok(vec![Output::to(TopicRole::Packets, (*p).clone())])
        }
        Reassigned::NotOpen => {
            count("not_open");
            Ok(Vec::new())
        }
        Reassigned::UnknownLead(reason) => {
            count("unknown_lead");
            Err(owned_by(unroutable_owner, reason))
        }
        Reassigned::Unroutable(reason) => {
            count("unroutable");
            metrics.unroutable(input);
            Err(owned_by(
                unroutable_owner,
                format!("unroutable {action}: {reason}"),
            ))
        }
    }
}

pub(crate) fn apply_side(
    router: &Router,
    metrics: &RouteMetrics,
    event: &AnyEvent,
) -> Result<(), StageError> {
    let result = router.apply(event);
    if matches!(event, AnyEvent::RepState(_) | AnyEvent::Tombstone(_)) {
        metrics.roster_size(router.roster_len());
    }
    result.map_err(|reason| {
        metrics.roster_rejected();
        StageError::poison(ErrorKind::Validation, reason)
    })
}

/// Declares a route stage: its routing state (rebuilt from the side inputs before the first
/// input, [`state_inputs`]), settings and metrics, with `new`, `with_router`, `metrics` and
/// `router`.
macro_rules! route_stage {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name {
            router: std::sync::Arc<$crate::router::Router>,
            settings: $crate::settings::RouteSettings,
            metrics: $crate::metrics::RouteMetrics,
        }

        impl $name {
            /// Builds the stage, registering its metrics in `registry`.
            pub fn new(
                settings: &$crate::settings::RouteSettings,
                registry: &leadflow_runtime::StageRegistry,
            ) -> Result<Self, prometheus::Error> {
                let router = std::sync::Arc::new($crate::router::Router::with_window(
                    settings.router_config(),
                    settings.state_window_days,
                ));
                Self::with_router(settings, router, registry)
            }

            /// Builds the stage on `router`, registering its metrics in `registry`.
            pub fn with_router(
                settings: &$crate::settings::RouteSettings,
                router: std::sync::Arc<$crate::router::Router>,
                registry: &leadflow_runtime::StageRegistry,
            ) -> Result<Self, prometheus::Error> {
                Ok(Self {
                    router,
                    settings: settings.clone(),
                    metrics: $crate::metrics::RouteMetrics::register(registry)?,
                })
            }

            pub fn metrics(&self) -> &$crate::metrics::RouteMetrics {
                &self.metrics
            }

            pub fn router(&self) -> &std::sync::Arc<$crate::router::Router> {
                &self.router
            }
        }
    };
}
pub(crate) use route_stage;

/// The side-input half of a route stage's `Stage` impl (inside the impl block): the routing
/// state's side inputs ([`state_inputs`]), applied by [`apply_side`].
macro_rules! route_side_inputs {
    () => {
        fn side_inputs(&self) -> Vec<leadflow_runtime::SideInput> {
            $crate::stage::state_inputs(self.settings.state_window_days)
        }

        fn on_side_input(
            &self,
            event: leadflow_events::AnyEvent,
        ) -> Result<(), leadflow_runtime::StageError> {
            $crate::stage::apply_side(&self.router, &self.metrics, &event)
        }
    };
}
pub(crate) use route_side_inputs;

route_stage!(
    /// `leadflow-route`: one packet per tier decision that hands off to a human.
    RouteStage
);

impl RouteStage {
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
                self.metrics.no_handoff(&input.tier);
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
                self.metrics.packet(outcome);
                Ok(vec![Output::to(TopicRole::Packets, (*p).clone())])
            }
            Routed::Redelivered(p) => {
                self.metrics.packet("redelivered");
                Ok(vec![Output::to(TopicRole::Packets, (*p).clone())])
            }
            Routed::AlreadyHandled => {
                self.metrics.packet("already_handled");
                Ok(Vec::new())
            }
            Routed::Unroutable(reason) => {
                self.metrics.unroutable("decision");
                Err(owned_by(
                    &self.settings.unroutable_owner,
                    format!("unroutable lead: {reason}"),
                ))
            }
        }
    }
}

impl Stage for RouteStage {
    type Input = TierDecision;
    const NAME: &'static str = "route";
    const INPUT: TopicRole = TopicRole::Tiered;

    async fn process(
        &self,
        input: TierDecision,
        _ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        self.route(&input)
    }

    route_side_inputs!();
}

route_stage!(
    /// `leadflow-route-reassign`: one reassigned packet per SLA breach.
    ReassignStage
);

impl ReassignStage {
    /// The stage's step: an escalation for a lead this instance has not seen routed is retried while
    /// the escalation is younger than [`UNKNOWN_LEAD_WAIT_MS`] (RULES.md §6: the packet is on its way
    /// through the `handoff.packets` side input, which can lag the watchdog's escalation by a fetch
    /// or a broker stall); older, it is an exception.
    pub fn reassign_at(
        &self,
        esc: &SlaEscalation,
        ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        wait_for_unknown_lead(self.reassign(esc), ctx)
    }

    /// The pure transform: one escalation → zero or one reassigned packet.
    pub fn reassign(&self, esc: &SlaEscalation) -> Result<Vec<Output>, StageError> {
        reassignment_outputs(
            self.router.reassign(esc),
            &self.metrics,
            &self.settings.unroutable_owner,
            ("escalation", "reassignment"),
            |result| self.metrics.escalation(result),
            |_, redelivered| {
                if redelivered {
                    self.metrics.escalation("redelivered");
                } else {
                    self.metrics.escalation("reassigned");
                    self.metrics.packet("reassigned");
                }
            },
        )
    }
}

impl Stage for ReassignStage {
    type Input = SlaEscalation;
    const NAME: &'static str = "route_reassign";
    const INPUT: TopicRole = TopicRole::Escalations;

    async fn process(
        &self,
        input: SlaEscalation,
        ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        self.reassign_at(&input, ctx)
    }

    route_side_inputs!();
}

#[cfg(test)]
mod tests {
    use leadflow_events::AnyEvent;
    use leadflow_events::{RepRole, RepStatus, samples};
    use leadflow_runtime::StageRegistry;

    use super::*;
    use crate::settings::RouteSettings;

    fn stage() -> RouteStage {
        RouteStage::new(&RouteSettings::default(), &StageRegistry::new("route")).unwrap()
    }

    fn ae(id: &str) -> leadflow_events::RepState {
        let mut r = samples::rep_state();
        r.rep_id = id.into();
        r.status = RepStatus::Available;
        r.status_until = None;
        r.working_hours = None;
        r.territories = vec![];
        r.segments = vec![];
        r.manager_id = None;
        r
    }

    #[tokio::test]
    async fn emits_one_packet_keyed_by_lead_and_counts_no_handoffs() {
        let s = stage();
        s.on_side_input(AnyEvent::RepState(ae("rep-a"))).unwrap();
        let ctx = Context::for_test(samples::T0);
        let out = s.process(samples::tier_decision(), &ctx).await.unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].role, TopicRole::Packets);
        assert_eq!(out[0].record_key(), "lead-0001");
        assert_eq!(s.metrics().packets("rep"), 1);

        let mut nurture = samples::tier_decision();
        nurture.handoff = HandoffKind::None;
        nurture.tier = "NURTURE".into();
        assert!(s.process(nurture, &ctx).await.unwrap().is_empty());
        assert_eq!(s.metrics().no_handoffs("NURTURE"), 1);
    }

    #[tokio::test]
    async fn unroutable_is_poison_owned_by_revops_and_bad_roster_records_are_rejected() {
        let s = stage();
        let ctx = Context::for_test(samples::T0);
        let err = s.process(samples::tier_decision(), &ctx).await.unwrap_err();
        assert!(
            matches!(&err, StageError::Poison { owner: Some(o), reason, .. } if o == "revops" && reason.contains("no manager")),
            "{err:?}"
        );
        let mut bad = ae("rep-b");
        bad.role = RepRole::Ae;
        bad.segments = vec!["huge".into()];
        let err = s.on_side_input(AnyEvent::RepState(bad)).unwrap_err();
        assert!(err.to_string().contains("segment"), "{err}");
        let mut no_team = samples::tier_decision();
        no_team.target_team = " ".into();
        assert!(matches!(
            s.process(no_team, &ctx).await,
            Err(StageError::Poison { .. })
        ));
    }

    #[tokio::test]
    async fn an_escalation_for_a_lead_not_yet_seen_is_retried_for_30_s_then_an_exception() {
        let s = ReassignStage::new(
            &RouteSettings::default(),
            &StageRegistry::new("route_reassign"),
        )
        .unwrap();
        let esc = samples::sla_escalation();
        // just produced: the packet may still be on its way through the side input
        let fresh = Context::for_test(samples::T0);
        let err = s.process(esc.clone(), &fresh).await.unwrap_err();
        assert!(matches!(err, StageError::Retryable(_)), "{err:?}");
        // produced 30 s ago and still unknown: an exception owned by revops
        let mut old = Context::for_test(samples::T0);
        old.now = leadflow_events::Timestamp(samples::T0.0 + UNKNOWN_LEAD_WAIT_MS);
        let err = s.process(esc, &old).await.unwrap_err();
        assert!(
            matches!(&err, StageError::Poison { owner: Some(o), reason, .. } if o == "revops" && reason.contains("never assigned")),
            "{err:?}"
        );
    }
}
