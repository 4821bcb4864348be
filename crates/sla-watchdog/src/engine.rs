//! The pure timer engine: every open SLA deadline, the activity that closes it, the escalations that
//! already fired. No clock and no broker: callers pass `now` (the injected wall clock) and apply the
//! events they read; rules and numbers are in `RULES.md`.

use std::collections::{BTreeSet, HashMap, HashSet};

use leadflow_events::{
    HandoffKind, HandoffPacket, RepActivity, RepActivityKind, SlaDeadline, SlaEscalation, SlaKind,
    SlaOutcome, SlaOutcomeKind, TierDecision, Timestamp,
};
use leadflow_tier::Calendar;

use crate::business_time::business_seconds;
use crate::deadline::{ActivityTimes, Deadline, DeadlineState, kind_index, kind_label};

/// Timing rules of the engine (RULES.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineRules {
    /// How long after a deadline an activity with an earlier event time may still arrive and prevent
    /// the escalation: the timer fires at `due_at + allowed_lateness_ms`.
    pub allowed_lateness_ms: i64,
    /// A deadline overdue by more than this when it would fire is not escalated (replay of old topics,
    /// an outage longer than this): it is counted as expired.
    pub stale_after_ms: i64,
    /// Settled leads are forgotten this long after their last deadline.
    pub retention_ms: i64,
}

impl Default for EngineRules {
    fn default() -> Self {
        Self {
            allowed_lateness_ms: 30_000,
            stale_after_ms: 24 * 3_600_000,
            retention_ms: 14 * 24 * 3_600_000,
        }
    }
}

/// Something the KPIs count, produced as deadlines settle.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A deadline started running.
    Opened { tier: String, kind: SlaKind },
    /// Closed in time (event time at or before the deadline).
    Met { tier: String, kind: SlaKind },
    /// Closed after the deadline without an escalation (contact late but before the timer fired).
    ClosedLate { tier: String, kind: SlaKind },
    /// Escalated (one `SlaEscalation` on the topic).
    Escalated {
        tier: String,
        kind: SlaKind,
        level: i32,
    },
    /// Missed on a lead that is never escalated (automated sequence).
    Missed { tier: String, kind: SlaKind },
    /// Too old to escalate when first due (replay, long outage).
    Expired { tier: String, kind: SlaKind },
    /// Replaced by a newer packet (reassignment).
    Superseded { tier: String, kind: SlaKind },
    /// An activity with an event time at or before the deadline arrived after the escalation fired:
    /// the escalation stands (it is on the topic), the deadline counts as met, nothing more escalates
    /// for it.
    ContestedEscalation { tier: String, kind: SlaKind },
    /// First human (or automated) contact, with the business seconds since the lead's decision.
    FirstContact { tier: String, business_seconds: f64 },
}

/// One deadline as the SLA report sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadlineView {
    pub lead_id: String,
    pub tier: String,
    /// The rep who held the lead when the clock ran (none for the automated sequence).
    pub owner: Option<String>,
    pub escalatable: bool,
    pub deadline: Deadline,
    /// The level of the escalation raised for it, if one was (also when a contact stamped in
    /// time reconciled it afterwards: the escalation is on `sla.escalations` all the same).
    pub escalation_level: Option<i32>,
}

/// The packet whose clocks run for a lead (the newest one).
#[derive(Clone, Debug)]
struct Timers {
    packet_id: String,
    created_at: Timestamp,
    decided_at: Timestamp,
    tier: String,
    team: String,
    owner: Option<String>,
    /// False for no-handoff decisions (NURTURE_24H's automated sequence): tracked, never escalated.
    escalatable: bool,
    /// The packet's escalation level (0 first assignment, 1 reassigned after a breach, 2 manager).
    level: i32,
    deadlines: Vec<Deadline>,
}

/// An escalation on `sla.escalations` (emitted here or read back at start).
#[derive(Clone, Debug)]
struct Fired {
    escalation_id: String,
    packet_id: String,
    kind: SlaKind,
    escalated_at: Timestamp,
    level: i32,
}

#[derive(Clone, Debug, Default)]
struct Lead {
    timers: Option<Timers>,
    /// Earlier packets of the lead (before a reassignment), kept for the report.
    history: Vec<Timers>,
    packets_seen: HashSet<String>,
    activity: ActivityTimes,
    activities_seen: HashSet<String>,
    fired: Vec<Fired>,
    first_contact_counted: bool,
}

impl Lead {
    /// The first breach of a lead goes to the pool (1), every later one to the manager (2): a lead
    /// with an escalation already, or whose packet is itself a reassignment (escalation level >= 1).
    fn next_level(&self) -> i32 {
        let packet_level = self.timers.as_ref().map_or(0, |t| t.level);
        if self.fired.is_empty() && packet_level == 0 {
            1
        } else {
            2
        }
    }

    /// Whether an escalation already covers this deadline: one fired for the same packet and kind, or
    /// one fired for the same packet at or after the deadline's firing time (a breach of several
    /// clocks at once raises one escalation).
    fn covering(&self, packet_id: &str, d: &Deadline, fire_at: Timestamp) -> Option<&Fired> {
        self.fired
            .iter()
            .find(|f| f.packet_id == packet_id && (f.kind == d.kind || f.escalated_at >= fire_at))
    }
}

/// Index entry: (firing time, lead id, kind).
type QueueKey = (i64, String, u8);

/// All deadlines the watchdog owns.
#[derive(Debug)]
pub struct Engine {
    rules: EngineRules,
    calendar: Calendar,
    leads: HashMap<String, Lead>,
    queue: BTreeSet<QueueKey>,
    open: HashMap<(String, SlaKind), i64>,
    /// Every outcome decided, in order, as `sla.outcomes` records (taken by [`Engine::take_journal`]).
    journal: Vec<SlaOutcome>,
}

impl Engine {
    pub fn new(rules: EngineRules, calendar: Calendar) -> Self {
        Self {
            rules,
            calendar,
            leads: HashMap::new(),
            queue: BTreeSet::new(),
            open: HashMap::new(),
            journal: Vec::new(),
        }
    }

    /// The `sla.outcomes` records decided since the last call, in the order they were decided.
    pub fn take_journal(&mut self) -> Vec<SlaOutcome> {
        std::mem::take(&mut self.journal)
    }

    pub fn rules(&self) -> &EngineRules {
        &self.rules
    }

    /// Open deadlines by (tier, kind), for the gauge.
    pub fn open_counts(&self) -> &HashMap<(String, SlaKind), i64> {
        &self.open
    }

    /// Leads held in memory.
    pub fn lead_count(&self) -> usize {
        self.leads.len()
    }

    /// The earliest firing time of an open deadline, if any.
    pub fn next_fire_at(&self) -> Option<Timestamp> {
        self.queue.iter().next().map(|(t, _, _)| Timestamp(*t))
    }

    /// A packet opens its deadlines (a newer packet of the same lead supersedes the older one's).
    pub fn apply_packet(&mut self, packet: &HandoffPacket) -> Vec<Outcome> {
        let d = &packet.decision;
        let escalatable = d.handoff != HandoffKind::None;
        self.open_timers(
            lead_id_of(d),
            Timers {
                packet_id: packet.packet_id.clone(),
                created_at: packet.created_at,
                decided_at: d.decided_at,
                tier: d.tier.clone(),
                team: d.target_team.clone(),
                owner: packet.assignee.as_ref().map(|a| a.rep_id.clone()),
                escalatable,
                // a reassigned packet carries re-based deadlines; a first packet may leave them to
                // the decision
                deadlines: if packet.sla.is_empty() {
                    deadlines_of(&d.sla)
                } else {
                    deadlines_of(&packet.sla)
                },
                level: packet.escalation_level,
            },
        )
    }

    /// A tier decision with no human handoff but SLA deadlines (NURTURE_24H's automated sequence) is
    /// tracked like a packet that is never escalated; decisions with a handoff are tracked through
    /// their packets instead.
    pub fn apply_decision(&mut self, decision: &TierDecision) -> Vec<Outcome> {
        if decision.handoff != HandoffKind::None || decision.sla.is_empty() {
            return Vec::new();
        }
        let lead = lead_id_of(decision);
        self.open_timers(
            lead,
            Timers {
                packet_id: format!("sequence:{lead}:{}", decision.decided_at.0),
                created_at: decision.decided_at,
                decided_at: decision.decided_at,
                tier: decision.tier.clone(),
                team: decision.target_team.clone(),
                owner: None,
                escalatable: false,
                deadlines: deadlines_of(&decision.sla),
                level: 0,
            },
        )
    }

    fn open_timers(&mut self, lead_id: &str, mut timers: Timers) -> Vec<Outcome> {
        let mut out = Vec::new();
        let lead = self.leads.entry(lead_id.to_owned()).or_default();
        if !lead.packets_seen.insert(timers.packet_id.clone()) {
            return out; // redelivery or replay of a packet already applied
        }
        if let Some(current) = &lead.timers {
            if timers.created_at < current.created_at {
                return out; // an older packet arriving late changes nothing
            }
        }
        // the newer packet supersedes the open clocks of the previous one
        if let Some(mut old) = lead.timers.take() {
            let info = PacketInfo::of(&old);
            for d in old.deadlines.iter_mut().filter(|d| d.state.is_open()) {
                self.queue.remove(&(
                    d.due_at.0.saturating_add(self.rules.allowed_lateness_ms),
                    lead_id.to_owned(),
                    kind_index(d.kind),
                ));
                dec(&mut self.open, &old.tier, d.kind);
                out.push(Outcome::Superseded {
                    tier: old.tier.clone(),
                    kind: d.kind,
                });
                d.state = DeadlineState::Superseded;
                self.journal.push(record(
                    lead_id,
                    &info,
                    d,
                    Decided::new(SlaOutcomeKind::Superseded, timers.created_at),
                ));
            }
            lead.history.push(old);
        }
        let lateness = self.rules.allowed_lateness_ms;
        let info = PacketInfo::of(&timers);
        for i in 0..timers.deadlines.len() {
            let d = &timers.deadlines[i];
            out.push(Outcome::Opened {
                tier: timers.tier.clone(),
                kind: d.kind,
            });
            self.journal.push(record(
                lead_id,
                &info,
                d,
                Decided::new(SlaOutcomeKind::Opened, timers.created_at),
            ));
            let fire_at = Timestamp(d.due_at.0.saturating_add(lateness));
            if let Some(f) = lead.covering(&timers.packet_id, d, fire_at) {
                let (level, escalated_at, id) = (f.level, f.escalated_at, f.escalation_id.clone());
                timers.deadlines[i].state = DeadlineState::Escalated { level };
                let d = &timers.deadlines[i];
                out.push(Outcome::Escalated {
                    tier: timers.tier.clone(),
                    kind: d.kind,
                    level,
                });
                self.journal.push(record(
                    lead_id,
                    &info,
                    d,
                    Decided::escalated(level, escalated_at, id),
                ));
            } else if let Some(at) = lead.activity.closed_at(d.kind, !timers.escalatable) {
                timers.deadlines[i].state = settle_closed(d.due_at, at);
                let d = &timers.deadlines[i];
                out.push(closed_outcome(&timers.tier, d));
                self.journal
                    .push(record(lead_id, &info, d, Decided::closed(d.state, at)));
            } else {
                let d = &timers.deadlines[i];
                self.queue
                    .insert((fire_at.0, lead_id.to_owned(), kind_index(d.kind)));
                *self.open.entry((timers.tier.clone(), d.kind)).or_default() += 1;
            }
        }
        lead.timers = Some(timers);
        count_first_contact(lead, &self.calendar, &mut out);
        out
    }

    /// The tier of the packet running for `lead_id` (the newest one), if the lead is known, and
    /// whether `activity_id` is new to the lead (the quality counters, `crates/cli/src/quality/RULES.md`
    /// Q10, count each activity once per instance).
    pub fn activity_context(&self, lead_id: &str, activity_id: &str) -> (Option<String>, bool) {
        match self.leads.get(lead_id) {
            Some(lead) => (
                lead.timers.as_ref().map(|t| t.tier.clone()),
                !lead.activities_seen.contains(activity_id),
            ),
            None => (None, true),
        }
    }

    /// An activity closes the clocks it stops (event time decides met or late).
    pub fn apply_activity(&mut self, activity: &RepActivity) -> Vec<Outcome> {
        let mut out = Vec::new();
        let lead = self.leads.entry(activity.lead_id.clone()).or_default();
        if !lead.activities_seen.insert(activity.activity_id.clone()) {
            return out;
        }
        if !lead.activity.record(activity.kind, activity.occurred_at) {
            return out;
        }
        let lateness = self.rules.allowed_lateness_ms;
        let mut pending: Vec<(Deadline, Decided)> = Vec::new();
        if let Some(timers) = &mut lead.timers {
            if activity.kind == RepActivityKind::Reassigned {
                if let Some(to) = &activity.reassigned_to {
                    timers.owner = Some(to.clone());
                }
            }
            for d in &mut timers.deadlines {
                let Some(at) = lead.activity.closed_at(d.kind, !timers.escalatable) else {
                    continue;
                };
                match d.state {
                    DeadlineState::Open => {
                        self.queue.remove(&(
                            d.due_at.0.saturating_add(lateness),
                            activity.lead_id.clone(),
                            kind_index(d.kind),
                        ));
                        dec(&mut self.open, &timers.tier, d.kind);
                        d.state = settle_closed(d.due_at, at);
                        out.push(closed_outcome(&timers.tier, d));
                        pending.push((d.clone(), Decided::closed(d.state, at)));
                    }
                    DeadlineState::Escalated { level } if at <= d.due_at => {
                        // event time wins: it was met after all; nothing more escalates for it
                        out.push(Outcome::ContestedEscalation {
                            tier: timers.tier.clone(),
                            kind: d.kind,
                        });
                        d.state = DeadlineState::Met { at };
                        let id = escalation_of(&lead.fired, &timers.packet_id, d.kind);
                        pending.push((d.clone(), Decided::reconciled(level, at, id)));
                    }
                    DeadlineState::Missed if at <= d.due_at => {
                        out.push(Outcome::ContestedEscalation {
                            tier: timers.tier.clone(),
                            kind: d.kind,
                        });
                        d.state = DeadlineState::Met { at };
                        pending.push((d.clone(), Decided::closed(d.state, at)));
                    }
                    _ => {}
                }
            }
            let info = PacketInfo::of(timers);
            for (d, decided) in pending {
                self.journal
                    .push(record(&activity.lead_id, &info, &d, decided));
            }
        }
        // a deadline escalated on an earlier packet (the lead was reassigned since) whose contact
        // happened in time after all: reconciled too (RULES.md, "Late truth")
        for old in &mut lead.history {
            let info = PacketInfo::of(old);
            for d in &mut old.deadlines {
                let (DeadlineState::Escalated { level }, Some(at)) =
                    (d.state, lead.activity.closed_at(d.kind, !old.escalatable))
                else {
                    continue;
                };
                if at > d.due_at {
                    continue;
                }
                out.push(Outcome::ContestedEscalation {
                    tier: old.tier.clone(),
                    kind: d.kind,
                });
                d.state = DeadlineState::Met { at };
                let id = escalation_of(&lead.fired, &old.packet_id, d.kind);
                let decided = Decided::reconciled(level, at, id);
                self.journal
                    .push(record(&activity.lead_id, &info, d, decided));
            }
        }
        count_first_contact(lead, &self.calendar, &mut out);
        out
    }

    /// An escalation read back from `sla.escalations` (or acknowledged after this engine raised it):
    /// the deadlines it covers never fire again.
    pub fn apply_escalation(&mut self, e: &SlaEscalation) -> Vec<Outcome> {
        let mut out = Vec::new();
        let lead = self.leads.entry(e.lead_id.clone()).or_default();
        if lead
            .fired
            .iter()
            .any(|f| f.packet_id == e.packet_id && f.kind == e.sla_kind)
        {
            return out;
        }
        lead.fired.push(Fired {
            escalation_id: e.escalation_id.clone(),
            packet_id: e.packet_id.clone(),
            kind: e.sla_kind,
            escalated_at: e.escalated_at,
            level: e.level,
        });
        let lateness = self.rules.allowed_lateness_ms;
        if let Some(timers) = &mut lead.timers {
            if timers.packet_id == e.packet_id {
                let info = PacketInfo::of(timers);
                for d in &mut timers.deadlines {
                    let fire_at = Timestamp(d.due_at.0.saturating_add(lateness));
                    let covered = d.kind == e.sla_kind || e.escalated_at >= fire_at;
                    if covered && d.state.is_open() {
                        self.queue
                            .remove(&(fire_at.0, e.lead_id.clone(), kind_index(d.kind)));
                        dec(&mut self.open, &timers.tier, d.kind);
                        d.state = DeadlineState::Escalated { level: e.level };
                        out.push(Outcome::Escalated {
                            tier: timers.tier.clone(),
                            kind: d.kind,
                            level: e.level,
                        });
                        let decided =
                            Decided::escalated(e.level, e.escalated_at, e.escalation_id.clone());
                        self.journal.push(record(&e.lead_id, &info, d, decided));
                    }
                }
            }
        }
        out
    }

    /// The escalations due at `now` for the leads `owns` accepts (this instance's shards), at most one
    /// per lead. Nothing is marked fired here: the caller produces them and applies each one with
    /// [`Engine::apply_escalation`] once the broker acknowledged it, so a failed send fires again on
    /// the next tick. Deadlines that are never escalated (automated sequence) or too old (stale) are
    /// settled here and reported as outcomes.
    pub fn due(
        &mut self,
        now: Timestamp,
        owns: &dyn Fn(&str) -> bool,
    ) -> (Vec<SlaEscalation>, Vec<Outcome>) {
        let mut escalations = Vec::new();
        let mut outcomes = Vec::new();
        let due: Vec<QueueKey> = self
            .queue
            .iter()
            .take_while(|(t, _, _)| *t <= now.0)
            .filter(|(_, lead, _)| owns(lead))
            .cloned()
            .collect();
        let mut escalated_leads: HashSet<String> = HashSet::new();
        for key in due {
            let (lead_id, kind) = (&key.1, key.2);
            let Some(lead) = self.leads.get_mut(lead_id) else {
                self.queue.remove(&key);
                continue;
            };
            let level = lead.next_level();
            let Some(timers) = &mut lead.timers else {
                self.queue.remove(&key);
                continue;
            };
            let Some(i) = timers
                .deadlines
                .iter()
                .position(|d| kind_index(d.kind) == kind && d.state.is_open())
            else {
                self.queue.remove(&key);
                continue;
            };
            let overdue = now.0.saturating_sub(timers.deadlines[i].due_at.0);
            if !timers.escalatable || overdue > self.rules.stale_after_ms {
                self.queue.remove(&key);
                let d_kind = timers.deadlines[i].kind;
                dec(&mut self.open, &timers.tier, d_kind);
                let tier = timers.tier.clone();
                let (state, outcome) = if timers.escalatable {
                    (
                        DeadlineState::Expired,
                        Outcome::Expired { tier, kind: d_kind },
                    )
                } else {
                    (
                        DeadlineState::Missed,
                        Outcome::Missed { tier, kind: d_kind },
                    )
                };
                timers.deadlines[i].state = state;
                outcomes.push(outcome);
                let kind = if timers.escalatable {
                    SlaOutcomeKind::Expired
                } else {
                    SlaOutcomeKind::Missed
                };
                let info = PacketInfo::of(timers);
                self.journal.push(record(
                    lead_id,
                    &info,
                    &timers.deadlines[i],
                    Decided::new(kind, now),
                ));
                continue;
            }
            if !escalated_leads.insert(lead_id.clone()) {
                continue; // one escalation per lead per tick; the rest is covered by it
            }
            escalations.push(build_escalation(
                timers,
                &timers.deadlines[i],
                lead_id,
                level,
                now,
            ));
        }
        (escalations, outcomes)
    }

    /// Forgets leads with no open deadline whose last deadline is older than the retention.
    pub fn evict(&mut self, now: Timestamp) -> usize {
        let horizon = now.0.saturating_sub(self.rules.retention_ms);
        let before = self.leads.len();
        self.leads.retain(|_, lead| match &lead.timers {
            Some(t) => {
                t.deadlines.iter().any(|d| d.state.is_open())
                    || t.deadlines.iter().any(|d| d.due_at.0 >= horizon)
                    || t.created_at.0 >= horizon
            }
            None => {
                lead.fired.iter().any(|f| f.escalated_at.0 >= horizon)
                    || [
                        lead.activity.accepted,
                        lead.activity.contacted,
                        lead.activity.qualified,
                        lead.activity.closed,
                        lead.activity.reassigned,
                    ]
                    .iter()
                    .flatten()
                    .any(|t| t.0 >= horizon)
            }
        });
        before - self.leads.len()
    }

    /// Every deadline held, with its lead, tier and owner (the SLA report).
    pub fn snapshot(&self) -> Vec<DeadlineView> {
        let mut out = Vec::new();
        for (lead_id, lead) in &self.leads {
            for t in lead.history.iter().chain(lead.timers.iter()) {
                for d in &t.deadlines {
                    out.push(DeadlineView {
                        lead_id: lead_id.clone(),
                        tier: t.tier.clone(),
                        owner: t.owner.clone(),
                        escalatable: t.escalatable,
                        deadline: d.clone(),
                        escalation_level: match d.state {
                            DeadlineState::Escalated { level } => Some(level),
                            _ => None,
                        },
                    });
                }
            }
        }
        out
    }

    /// Where a lead's deadlines stand (tests, diagnostics).
    pub fn deadlines(&self, lead_id: &str) -> Vec<Deadline> {
        self.leads
            .get(lead_id)
            .and_then(|l| l.timers.as_ref())
            .map(|t| t.deadlines.clone())
            .unwrap_or_default()
    }
}

/// What was decided about a deadline, besides the deadline and its packet.
struct Decided {
    kind: SlaOutcomeKind,
    at: Timestamp,
    event_at: Option<Timestamp>,
    level: Option<i32>,
    escalation_id: Option<String>,
}

impl Decided {
    fn new(kind: SlaOutcomeKind, at: Timestamp) -> Self {
        Self {
            kind,
            at,
            event_at: None,
            level: None,
            escalation_id: None,
        }
    }

    /// Closed by an activity at `at` (event time): met or closed late.
    fn closed(state: DeadlineState, at: Timestamp) -> Self {
        let kind = match state {
            DeadlineState::Met { .. } => SlaOutcomeKind::Met,
            _ => SlaOutcomeKind::ClosedLate,
        };
        Self {
            event_at: Some(at),
            ..Self::new(kind, at)
        }
    }

    fn escalated(level: i32, at: Timestamp, escalation_id: String) -> Self {
        Self {
            level: Some(level),
            escalation_id: Some(escalation_id),
            ..Self::new(SlaOutcomeKind::Escalated, at)
        }
    }

    /// Escalated, then a contact stamped in time arrived: met after all.
    fn reconciled(level: i32, at: Timestamp, escalation_id: Option<String>) -> Self {
        Self {
            event_at: Some(at),
            level: Some(level),
            escalation_id,
            ..Self::new(SlaOutcomeKind::Reconciled, at)
        }
    }
}

/// The escalation that covered a packet's deadline of `kind` (its own, or the one raised for the
/// packet's earlier clock at the same time).
fn escalation_of(fired: &[Fired], packet_id: &str, kind: SlaKind) -> Option<String> {
    fired
        .iter()
        .find(|f| f.packet_id == packet_id && f.kind == kind)
        .or_else(|| fired.iter().find(|f| f.packet_id == packet_id))
        .map(|f| f.escalation_id.clone())
}

/// What an outcome record says about the packet (a copy, taken before its deadlines are borrowed).
struct PacketInfo {
    packet_id: String,
    owner: Option<String>,
    tier: String,
    team: String,
    level: i32,
}

impl PacketInfo {
    fn of(t: &Timers) -> Self {
        Self {
            packet_id: t.packet_id.clone(),
            owner: t.owner.clone(),
            tier: t.tier.clone(),
            team: t.team.clone(),
            level: t.level,
        }
    }
}

/// The `sla.outcomes` record of one decision.
fn record(lead_id: &str, t: &PacketInfo, d: &Deadline, decided: Decided) -> SlaOutcome {
    SlaOutcome {
        outcome_id: format!(
            "{}:{}:{}",
            t.packet_id,
            kind_label(d.kind),
            decided.kind.symbol()
        ),
        lead_id: lead_id.to_owned(),
        packet_id: t.packet_id.clone(),
        sla_kind: d.kind,
        outcome: decided.kind,
        breach: decided.kind.is_breach(),
        owner: t.owner.clone(),
        tier: t.tier.clone(),
        target_team: Some(t.team.clone()).filter(|s| !s.is_empty()),
        level: decided.level.unwrap_or(t.level),
        due_at: d.due_at,
        decided_at: decided.at,
        event_at: decided.event_at,
        escalation_id: decided.escalation_id,
    }
}

fn lead_id_of(d: &TierDecision) -> &str {
    &d.scored.enriched.lead.lead_id
}

fn deadlines_of(sla: &[SlaDeadline]) -> Vec<Deadline> {
    let mut v: Vec<Deadline> = Vec::new();
    for s in sla {
        // one clock per kind: a duplicate kind keeps the earlier deadline
        if let Some(existing) = v.iter_mut().find(|x| x.kind == s.kind) {
            existing.due_at = existing.due_at.min(s.due_at);
        } else {
            v.push(Deadline {
                kind: s.kind,
                due_at: s.due_at,
                state: DeadlineState::Open,
            });
        }
    }
    v
}

fn settle_closed(due: Timestamp, at: Timestamp) -> DeadlineState {
    if at <= due {
        DeadlineState::Met { at }
    } else {
        DeadlineState::ClosedLate { at }
    }
}

fn closed_outcome(tier: &str, d: &Deadline) -> Outcome {
    match d.state {
        DeadlineState::Met { .. } => Outcome::Met {
            tier: tier.to_owned(),
            kind: d.kind,
        },
        _ => Outcome::ClosedLate {
            tier: tier.to_owned(),
            kind: d.kind,
        },
    }
}

fn dec(open: &mut HashMap<(String, SlaKind), i64>, tier: &str, kind: SlaKind) {
    if let Some(n) = open.get_mut(&(tier.to_owned(), kind)) {
        *n = (*n - 1).max(0);
    }
}

/// Time to first contact, once per lead, in business seconds since the decision.
fn count_first_contact(lead: &mut Lead, calendar: &Calendar, out: &mut Vec<Outcome>) {
    if lead.first_contact_counted {
        return;
    }
    let (Some(timers), Some(at)) = (&lead.timers, lead.activity.contacted) else {
        return;
    };
    lead.first_contact_counted = true;
    out.push(Outcome::FirstContact {
        tier: timers.tier.clone(),
        business_seconds: business_seconds(calendar, timers.decided_at, at),
    });
}

fn build_escalation(
    timers: &Timers,
    d: &Deadline,
    lead_id: &str,
    level: i32,
    now: Timestamp,
) -> SlaEscalation {
    let late_by = now.0.saturating_sub(d.due_at.0);
    let to = if level >= 2 {
        format!("manager:{}", timers.team)
    } else {
        format!("pool:{}", timers.team)
    };
    let owner = timers.owner.as_deref().unwrap_or("nobody");
    let next = if level >= 2 {
        format!(
            "escalated to the {} team's manager (second breach)",
            timers.team
        )
    } else {
        format!(
            "reassign to the next eligible rep of the {} team (not {owner}); nobody eligible: the manager, flagged",
            timers.team
        )
    };
    SlaEscalation {
        escalation_id: format!("{}:{}:L{level}", timers.packet_id, kind_label(d.kind)),
        lead_id: lead_id.to_owned(),
        packet_id: timers.packet_id.clone(),
        sla_kind: d.kind,
        due_at: d.due_at,
        escalated_at: now,
        level,
        from_rep_id: timers.owner.clone(),
        to,
        reason: format!(
            "{} SLA of this {} lead missed by {}s (due {}), owner {owner}: {next}",
            kind_label(d.kind).replace('_', " "),
            timers.tier,
            late_by / 1000,
            d.due_at
        ),
        target_team: Some(timers.team.clone()),
        tier: Some(timers.tier.clone()),
        late_by_ms: Some(late_by),
    }
}
