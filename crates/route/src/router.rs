//! The router: roster + routing state behind one lock, and the two operations the stages call —
//! route a tier decision, reassign after an SLA breach or a rejection. Pure: no broker types, time from events.

use std::sync::{Arc, Mutex, MutexGuard};

use leadflow_events::AnyEvent;
use leadflow_events::{
    Assignee, HandoffKind, HandoffPacket, RepActivity, RepState, SlaDeadline, SlaEscalation,
    TierDecision, Timestamp,
};

use crate::assign::{self, Choice};
use crate::eligibility::LeadFacts;
use crate::packet::{self, Addressing};
use crate::roster::Roster;
use crate::state::{Applied, RoutingState};

mod card;
mod rejection;

pub use rejection::REJECTED_PREFIX;

/// How a packet that moves a removed rep's lead starts its `assignment_reason`.
pub const REMOVED_PREFIX: &str = "reassigned because ";

/// What routing a decision produced.
#[derive(Clone, Debug)]
pub enum Routed {
    /// A new packet (already applied to the state).
    Packet(Arc<HandoffPacket>),
    /// The decision was routed before (redelivery / replay): the same packet again.
    Redelivered(Arc<HandoffPacket>),
    /// The decision was routed before and the lead was since contacted or released: nothing to do.
    AlreadyHandled,
    /// The decision hands nothing to a human (NURTURE, NURTURE_24H's automated sequence).
    NoHandoff,
    /// Nobody, not even a manager: goes to the exceptions topic.
    Unroutable(String),
}

/// What an SLA escalation produced.
#[derive(Clone, Debug)]
pub enum Reassigned {
    Packet(Arc<HandoffPacket>),
    Redelivered(Arc<HandoffPacket>),
    /// The lead was already contacted or released, or a newer packet superseded the breached one.
    NotOpen,
    /// Route never routed this lead (or its packets expired): goes to the exceptions topic.
    UnknownLead(String),
    Unroutable(String),
}

/// Static settings of the router.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouterConfig {
    /// Booking link for hot escalations; `{rep_id}` is replaced by the assignee's id. Empty: none.
    pub booking_url: String,
}

#[derive(Debug, Default)]
struct Inner {
    roster: Roster,
    state: RoutingState,
}

/// Roster and routing state, shared by every partition the harness processes.
#[derive(Debug, Default)]
pub struct Router {
    config: RouterConfig,
    inner: Mutex<Inner>,
}

impl Router {
    /// A router that remembers every lead it sees (tests, tools).
    pub fn new(config: RouterConfig) -> Self {
        Self {
            config,
            inner: Mutex::default(),
        }
    }

    /// A router that forgets closed leads older than `window_days` (0 = never) of event time.
    pub fn with_window(config: RouterConfig, window_days: u32) -> Self {
        let window = (window_days > 0).then(|| i64::from(window_days) * 86_400_000);
        Self {
            config,
            inner: Mutex::new(Inner {
                roster: Roster::default(),
                state: RoutingState::with_window(window),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way later calls
        // cannot live with (each update is one insert/remove), so a poisoned lock is recovered.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Routes one tier decision (RULES.md §1–§4).
    pub fn route(&self, decision: &TierDecision) -> Routed {
        if decision.handoff == HandoffKind::None {
            // the person still joins their account's committee (§9)
            self.lock().state.apply_decision(decision);
            return Routed::NoHandoff;
        }
        let key = packet::idempotency_key(decision, 0);
        let mut inner = self.lock();
        inner.state.apply_decision(decision);
        if let Some(rec) = inner.state.lead(decision.lead_id_str()) {
            if rec.idempotency_key == key {
                return match &rec.packet {
                    Some(p) => Routed::Redelivered(p.clone()),
                    None => Routed::AlreadyHandled,
                };
            }
            // The same decision already reassigned (a higher level), or an older decision replayed
            // after a newer one: the lead's current packet stands.
            let base = key.trim_end_matches("|0");
            let same_decision_later_level = rec
                .idempotency_key
                .strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('|'));
            if same_decision_later_level || decision.decided_at < rec.created_at {
                return Routed::AlreadyHandled;
            }
        }
        let facts = LeadFacts::of(decision);
        let choice = assign::choose(&inner.roster, &inner.state, &facts, &[], None);
        let addressing = match choice {
            Choice::Unroutable { reason } => return Routed::Unroutable(reason),
            Choice::Rep { rep, reason } => Addressing {
                assignee: Some(packet::assignee(&rep, &facts.team)),
                assignment_reason: reason,
                ..Addressing::default()
            },
            Choice::Manager {
                rep,
                unassigned_reason,
            } => {
                let a = packet::assignee(&rep, &facts.team);
                Addressing {
                    assignee: Some(a.clone()),
                    manager_cc: Some(a),
                    assignment_reason: "manager fallback: nobody eligible in the pool".into(),
                    unassigned_reason: Some(unassigned_reason),
                    ..Addressing::default()
                }
            }
        };
        let mut p = packet::build(
            decision,
            addressing,
            &self.config.booking_url,
            decision.decided_at,
            decision.sla.clone(),
        );
        p.committee = card::committee_of(&inner, &p);
        let p = Arc::new(p);
        inner.state.apply_packet(p.clone());
        Routed::Packet(p)
    }

    /// Reassigns a lead after an SLA breach (RULES.md §6): level 1 → the next eligible rep other
    /// than the one who breached (the watchdog's `to` first when eligible), the manager copied;
    /// level 2 and above → the pool's manager.
    pub fn reassign(&self, esc: &SlaEscalation) -> Reassigned {
        let mut inner = self.lock();
        let Some(rec) = inner.state.lead(&esc.lead_id).cloned() else {
            return Reassigned::UnknownLead(format!(
                "SLA escalation for lead {} which route never assigned",
                esc.lead_id
            ));
        };
        let level = esc.level.max(1);
        let Some(current) = rec.packet.clone() else {
            return Reassigned::NotOpen;
        };
        let decision = &current.decision;
        let key = packet::idempotency_key(decision, level);
        if rec.idempotency_key == key {
            return Reassigned::Redelivered(current.clone());
        }
        let breached_current =
            current.packet_id == esc.packet_id || esc.from_rep_id.as_deref() == rec.assignee();
        if !breached_current || rec.escalation_level >= level {
            return Reassigned::NotOpen;
        }
        let mut facts = LeadFacts::of(decision);
        facts.at = esc.escalated_at;
        let previous = current.assignee.clone();
        let exclude = previous.as_ref().map(|a| a.rep_id.clone());
        let manager = inner
            .roster
            .manager_of(&facts.team, facts.at)
            .filter(|m| Some(m.id()) != exclude.as_deref())
            .map(|m| packet::assignee(m, &facts.team));
        let addressing = if level >= 2 {
            let Some(m) = manager else {
                return Reassigned::Unroutable(format!(
                    "second SLA breach on lead {} and team {} has no manager",
                    esc.lead_id, facts.team
                ));
            };
            Addressing {
                assignee: Some(m.clone()),
                manager_cc: Some(m),
                previous_assignee: previous,
                assignment_reason: format!(
                    "escalated to the manager after SLA breach #{level} ({:?} due {})",
                    esc.sla_kind,
                    esc.due_at.to_rfc3339()
                ),
                unassigned_reason: None,
                escalation_level: level,
            }
        } else {
            let preferred = Some(esc.to.as_str());
            let choice = assign::choose(
                &inner.roster,
                &inner.state,
                &facts,
                exclude.as_deref().as_slice(),
                preferred,
            );
            let moved = Move {
                team: &facts.team,
                manager_cc: manager,
                previous,
                level,
            };
            match moved.addressing(
                choice,
                |reason| format!("reassigned after SLA breach: {reason}"),
                "reassigned after SLA breach to the manager: nobody else eligible".into(),
            ) {
                Ok(a) => a,
                Err(reason) => return Reassigned::Unroutable(reason),
            }
        };
        Reassigned::Packet(self.emit_moved(&mut inner, &current, addressing, esc.escalated_at))
    }

    /// Reassigns every open lead of a rep who left the roster (RULES.md §6b), at `at`: for each
    /// lead the rep holds, the next owner by §3 with the rep excluded, one escalation level up (a
    /// new idempotency key), deadlines re-based to `at`, `previous_assignee` = the rep. Each packet
    /// is applied to the state as it is made, so the loads spread like a stream of new leads.
    /// Running it again after its packets were applied finds nothing left to move.
    pub fn reassign_removed(&self, rep_id: &str, at: Timestamp) -> Vec<Reassigned> {
        let mut inner = self.lock();
        let mut held = inner.state.open_leads_of(rep_id);
        held.sort_by(|a, b| a.lead_id().cmp(b.lead_id()));
        let mut out = Vec::with_capacity(held.len());
        for current in held {
            let decision = &current.decision;
            let level = current.escalation_level.saturating_add(1);
            let mut facts = LeadFacts::of(decision);
            facts.at = at;
            let manager = inner
                .roster
                .manager_of(&facts.team, at)
                .filter(|m| m.id() != rep_id)
                .map(|m| packet::assignee(m, &facts.team));
            let why = format!("{rep_id} was removed from the roster");
            let choice = assign::choose(&inner.roster, &inner.state, &facts, &[rep_id], None);
            let moved = Move {
                team: &facts.team,
                manager_cc: manager,
                previous: current.assignee.clone(),
                level,
            };
            let addressing = match moved.addressing(
                choice,
                |reason| format!("{REMOVED_PREFIX}{why}; {reason}"),
                format!("{REMOVED_PREFIX}{why}; to the manager: nobody else eligible"),
            ) {
                Ok(a) => a,
                Err(reason) => {
                    out.push(Reassigned::Unroutable(format!(
                        "lead {} of removed rep {rep_id}: {reason}",
                        current.lead_id()
                    )));
                    continue;
                }
            };
            let p = self.emit_moved(&mut inner, &current, addressing, at);
            out.push(Reassigned::Packet(p));
        }
        out
    }

    /// Applies a side-input event: a roster change, a packet (own output), a rep activity.
    /// Returns `Err` with a reason for a roster entry that fails validation (the previous state of
    /// that rep stays).
    pub fn apply(&self, event: &AnyEvent) -> Result<(), String> {
        match event {
            AnyEvent::RepState(rep) => self.apply_rep(rep.clone()),
            AnyEvent::HandoffPacket(p) => {
                self.apply_packet(Arc::new(p.clone()));
                Ok(())
            }
            AnyEvent::RepActivity(a) => {
                self.apply_activity(a);
                Ok(())
            }
            // every decision, handed off or not: its person in the account's committee (§9)
            AnyEvent::TierDecision(d) => {
                self.lock().state.apply_decision(d);
                Ok(())
            }
            // `leadflow reps remove`: the rep leaves the roster at once (RULES.md §7)
            AnyEvent::Tombstone(t) if t.kind == leadflow_events::EventKind::RepState => {
                self.remove_rep(&t.key);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Adds or replaces a rep; an INACTIVE rep stays listed (and never eligible) until removed.
    pub fn apply_rep(&self, rep: RepState) -> Result<(), String> {
        let id = rep.rep_id.clone();
        self.lock()
            .roster
            .upsert(rep)
            .map_err(|e| format!("rep {id}: {e}"))
    }

    /// Removes a rep (tombstone) and forgets their account ownerships.
    pub fn remove_rep(&self, rep_id: &str) {
        let mut inner = self.lock();
        inner.roster.remove(rep_id);
        inner.state.forget_rep(rep_id);
    }

    pub fn apply_packet(&self, p: Arc<HandoffPacket>) -> Applied {
        self.lock().state.apply_packet(p)
    }

    pub fn apply_activity(&self, a: &RepActivity) -> bool {
        self.lock().state.apply_activity(a)
    }

    /// A rep's open leads.
    pub fn load(&self, rep_id: &str) -> u32 {
        self.lock().state.load(rep_id)
    }

    /// The owner of an account in a team.
    pub fn owner(&self, account: &str, team: &str) -> Option<String> {
        self.lock().state.owner(account, team).map(str::to_owned)
    }

    /// Reps in the roster.
    pub fn roster_len(&self) -> usize {
        self.lock().roster.len()
    }

    /// Every rep's state with their open load, sorted by id.
    pub fn reps_with_load(&self) -> Vec<(RepState, u32)> {
        let inner = self.lock();
        inner
            .roster
            .all()
            .into_iter()
            .map(|r| (r.state.clone(), inner.state.load(r.id())))
            .collect()
    }
}

/// A lead moving away from its owner (§6 level 1, §6b, §6c): the team, the pool's manager to copy,
/// the owner it leaves and its new escalation level.
struct Move<'a> {
    team: &'a str,
    manager_cc: Option<Assignee>,
    previous: Option<Assignee>,
    level: i32,
}

impl Move<'_> {
    /// Who takes it: the chosen rep (`rep_reason` of the choice's reason), or the manager flagged
    /// (`manager_reason`, with the choice's `unassigned_reason`); `Err` with the reason when nobody
    /// can.
    fn addressing(
        self,
        choice: Choice,
        rep_reason: impl FnOnce(&str) -> String,
        manager_reason: String,
    ) -> Result<Addressing, String> {
        match choice {
            Choice::Rep { rep, reason } => Ok(Addressing {
                assignee: Some(packet::assignee(&rep, self.team)),
                manager_cc: self.manager_cc,
                previous_assignee: self.previous,
                assignment_reason: rep_reason(&reason),
                unassigned_reason: None,
                escalation_level: self.level,
            }),
            Choice::Manager {
                rep,
                unassigned_reason,
            } => {
                let a = packet::assignee(&rep, self.team);
                Ok(Addressing {
                    assignee: Some(a.clone()),
                    manager_cc: Some(a),
                    previous_assignee: self.previous,
                    assignment_reason: manager_reason,
                    unassigned_reason: Some(unassigned_reason),
                    escalation_level: self.level,
                })
            }
            Choice::Unroutable { reason } => Err(reason),
        }
    }
}

impl Router {
    /// The packet that moves `current` to `addressing` at `at` (deadlines re-based, the
    /// recommended resource kept), applied to the state.
    fn emit_moved(
        &self,
        inner: &mut Inner,
        current: &HandoffPacket,
        addressing: Addressing,
        at: Timestamp,
    ) -> Arc<HandoffPacket> {
        let sla = rebase(&current.sla, current.created_at, at);
        let mut p = packet::build(
            &current.decision,
            addressing,
            &self.config.booking_url,
            at,
            sla,
        );
        p.recommended_resource = current.recommended_resource.clone();
        p.committee = card::committee_of(inner, &p);
        let p = Arc::new(p);
        inner.state.apply_packet(p.clone());
        p
    }
}

/// Moves every deadline by the time between the original packet and the escalation, so the new
/// owner gets the same durations the first one had.
fn rebase(sla: &[SlaDeadline], from: Timestamp, to: Timestamp) -> Vec<SlaDeadline> {
    let shift = (to.0 - from.0).max(0);
    sla.iter()
        .map(|d| SlaDeadline {
            kind: d.kind,
            due_at: Timestamp(d.due_at.0 + shift),
        })
        .collect()
}

/// `decision.lead_id_str()`: the lead id without going through the `Event` trait's `Option`.
trait LeadIdStr {
    fn lead_id_str(&self) -> &str;
}

impl LeadIdStr for TierDecision {
    fn lead_id_str(&self) -> &str {
        &self.scored.enriched.lead.lead_id
    }
}
