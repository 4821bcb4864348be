//! Routing state: who holds which open lead, each rep's load and last assignment, and account
//! owners — rebuilt at start from `handoff.packets` (route's own output) and `handoff.activity`,
//! never kept only in memory.
//!
//! Every update is idempotent and order-tolerant, because the same packet reaches the state twice
//! (applied when route emits it, then read back from the topic) and the topics are replayed
//! independently at start (an activity may be read before the packet it answers).

use std::collections::HashMap;
use std::sync::Arc;

use leadflow_events::{HandoffPacket, RepActivity, RepActivityKind, TierDecision, Timestamp};

use crate::accounts::AccountBook;

/// The current packet of a lead. The full packet is kept only while the lead is open (a
/// reassignment needs it); a closed lead keeps its identity, so a late replay stays a no-op.
#[derive(Clone, Debug)]
pub struct LeadRecord {
    pub idempotency_key: String,
    pub created_at: Timestamp,
    pub escalation_level: i32,
    pub assignee: Option<String>,
    /// `Some` while the lead counts towards its assignee's load.
    pub packet: Option<Arc<HandoffPacket>>,
    /// The packet its assignee rejected (REJECTED released it): kept until the rejection is
    /// reassigned (RULES.md §6c), whichever of the stage's input and its activity side input
    /// reads the rejection first.
    pub rejected: Option<Arc<HandoffPacket>>,
}

impl LeadRecord {
    pub fn assignee(&self) -> Option<&str> {
        self.assignee.as_deref()
    }

    /// Whether the lead still counts towards its assignee's load.
    pub fn is_open(&self) -> bool {
        self.packet.is_some()
    }
}

/// Closed leads and releases older than the window (event time) are forgotten every this many
/// applied packets.
const PRUNE_EVERY: u32 = 4096;

/// Load, rotation and ownership state.
#[derive(Clone, Debug, Default)]
pub struct RoutingState {
    leads: HashMap<String, LeadRecord>,
    load: HashMap<String, u32>,
    last_assigned: HashMap<String, Timestamp>,
    /// (account, team) → rep id of the latest packet assigned to a rep (not a manager fallback).
    owners: HashMap<(String, String), String>,
    /// (lead, rep) → latest time the rep released the lead (contacted, rejected, reassigned).
    released: HashMap<(String, String), Timestamp>,
    /// lead → the reps who rejected it, in the order they did (RULES.md §6c: never offered again).
    rejected_by: HashMap<String, Vec<String>>,
    /// The known people of each account (RULES.md §9).
    accounts: AccountBook,
    /// Closed leads older than this (event time, behind the newest packet) are forgotten.
    window_ms: Option<i64>,
    newest: Timestamp,
    since_prune: u32,
}

/// What applying a packet did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The lead now has this packet.
    New,
    /// The same packet (idempotency key) was already applied.
    Duplicate,
    /// An older packet than the lead's current one (late replay): ignored.
    Stale,
    /// A withdrawal notice (sla-watchdog): the reassignment it names no longer counts in its
    /// assignee's load, and the account goes back to the previous owner (RULES.md §6a).
    Withdrawn,
}

impl RoutingState {
    /// A state that forgets closed leads older than `window_ms` (event time); `None` keeps all.
    pub fn with_window(window_ms: Option<i64>) -> Self {
        Self {
            window_ms,
            ..Self::default()
        }
    }

    /// Leads remembered (open and closed), for tests and metrics.
    pub fn remembered(&self) -> usize {
        self.leads.len()
    }

    /// Open leads of a rep.
    pub fn load(&self, rep_id: &str) -> u32 {
        self.load.get(rep_id).copied().unwrap_or(0)
    }

    /// Event time of the rep's latest assignment; `None` = never (first in the rotation).
    pub fn last_assigned(&self, rep_id: &str) -> Option<Timestamp> {
        self.last_assigned.get(rep_id).copied()
    }

    /// The rep who owns `account` in `team`.
    pub fn owner(&self, account: &str, team: &str) -> Option<&str> {
        self.owners
            .get(&(account.to_owned(), team.to_owned()))
            .map(String::as_str)
    }

    /// The lead's current packet.
    pub fn lead(&self, lead_id: &str) -> Option<&LeadRecord> {
        self.leads.get(lead_id)
    }

    /// Number of leads currently counted as open.
    pub fn open_leads(&self) -> usize {
        self.load.values().map(|n| *n as usize).sum()
    }

    /// Applies a packet (emitted now or read back from `handoff.packets`).
    pub fn apply_packet(&mut self, packet: Arc<HandoffPacket>) -> Applied {
        if let Some(withdrawn) = packet.withdraws.as_deref() {
            self.withdraw(&packet, withdrawn);
            return Applied::Withdrawn;
        }
        let lead_id = packet.lead_id().to_owned();
        if let Some(current) = self.leads.get(&lead_id) {
            if current.idempotency_key == packet.idempotency_key {
                return Applied::Duplicate;
            }
            let newer = (packet.created_at, packet.escalation_level)
                >= (current.created_at, current.escalation_level);
            if !newer {
                return Applied::Stale;
            }
        }
        if let Some(old) = self.leads.remove(&lead_id) {
            if old.is_open() {
                if let Some(rep) = old.assignee() {
                    self.dec(rep);
                }
            }
        }
        let mut open = false;
        let mut rejected = false;
        if let Some(a) = &packet.assignee {
            let released = self
                .released
                .get(&(lead_id.clone(), a.rep_id.clone()))
                .is_some_and(|t| *t >= packet.created_at);
            open = !released;
            // an activity replayed before its packet: a rejection still needs the packet (§6c)
            rejected = released && self.rejected_by(&lead_id).contains(&a.rep_id);
            if open {
                *self.load.entry(a.rep_id.clone()).or_default() += 1;
            }
            let last = self
                .last_assigned
                .entry(a.rep_id.clone())
                .or_insert(packet.created_at);
            *last = (*last).max(packet.created_at);
            if packet.unassigned_reason.is_none() && a.role != "manager" {
                if let Some(account) = packet.decision.scored.enriched.account() {
                    self.owners.insert(
                        (account.to_owned(), packet.decision.target_team.clone()),
                        a.rep_id.clone(),
                    );
                }
            }
        }
        self.newest = self.newest.max(packet.created_at);
        self.accounts.apply_packet(&packet);
        let record = LeadRecord {
            idempotency_key: packet.idempotency_key.clone(),
            created_at: packet.created_at,
            escalation_level: packet.escalation_level,
            assignee: packet.assignee.as_ref().map(|a| a.rep_id.clone()),
            rejected: rejected.then(|| packet.clone()),
            packet: open.then_some(packet),
        };
        self.leads.insert(lead_id, record);
        self.since_prune += 1;
        if self.since_prune >= PRUNE_EVERY {
            self.prune();
        }
        Applied::New
    }

    /// Forgets closed leads and releases older than the window.
    pub fn prune(&mut self) {
        self.since_prune = 0;
        let Some(window) = self.window_ms else {
            return;
        };
        let horizon = Timestamp(self.newest.0.saturating_sub(window));
        self.leads
            .retain(|_, r| r.is_open() || r.created_at >= horizon);
        self.released.retain(|_, t| *t >= horizon);
        let leads = &self.leads;
        self.rejected_by.retain(|lead, _| leads.contains_key(lead));
        self.accounts.prune(horizon);
    }

    /// A tier decision (route's input or the `leads.tiered` side input): the person joins their
    /// account's committee (RULES.md §9).
    pub fn apply_decision(&mut self, decision: &TierDecision) {
        self.newest = self.newest.max(decision.decided_at);
        self.accounts.apply_decision(decision);
        self.since_prune += 1;
        if self.since_prune >= PRUNE_EVERY {
            self.prune();
        }
    }

    /// The known people of each account.
    pub fn accounts(&self) -> &AccountBook {
        &self.accounts
    }

    /// Applies a rep's activity: CONTACTED, QUALIFIED, DISQUALIFIED, REJECTED and REASSIGNED
    /// release the lead from the rep's load; ACCEPTED, ENROLLED (automation) and unknown kinds keep it. Returns whether
    /// a load was released.
    pub fn apply_activity(&mut self, activity: &RepActivity) -> bool {
        self.accounts.apply_activity(activity);
        if matches!(
            activity.kind,
            RepActivityKind::Accepted | RepActivityKind::Enrolled | RepActivityKind::Other
        ) {
            return false;
        }
        let key = (activity.lead_id.clone(), activity.rep_id.clone());
        let t = self.released.entry(key).or_insert(activity.occurred_at);
        *t = (*t).max(activity.occurred_at);
        let rejection = activity.kind == RepActivityKind::Rejected;
        if rejection {
            let reps = self
                .rejected_by
                .entry(activity.lead_id.clone())
                .or_default();
            if !reps.contains(&activity.rep_id) {
                reps.push(activity.rep_id.clone());
            }
        }
        let Some(record) = self.leads.get_mut(&activity.lead_id) else {
            return false;
        };
        let holds = record.assignee() == Some(activity.rep_id.as_str());
        if record.is_open() && holds && activity.occurred_at >= record.created_at {
            let packet = record.packet.take();
            if rejection {
                record.rejected = packet;
            }
            let rep = activity.rep_id.clone();
            self.dec(&rep);
            return true;
        }
        false
    }

    /// The reps who rejected `lead_id`, in the order they did.
    pub fn rejected_by(&self, lead_id: &str) -> &[String] {
        self.rejected_by.get(lead_id).map_or(&[], Vec::as_slice)
    }

    /// The packets of the leads `rep_id` holds open (unordered).
    pub fn open_leads_of(&self, rep_id: &str) -> Vec<Arc<HandoffPacket>> {
        self.leads
            .values()
            .filter(|r| r.assignee() == Some(rep_id))
            .filter_map(|r| r.packet.clone())
            .collect()
    }

    /// Forgets a rep's ownerships (the rep left the roster).
    pub fn forget_rep(&mut self, rep_id: &str) {
        self.owners.retain(|_, r| r != rep_id);
    }

    /// A withdrawal notice for the reassignment `withdrawn`: when it is the lead's open packet,
    /// its assignee's load is released; the account's owner, when it is still that assignee, is
    /// the previous owner again (who contacted the lead in time).
    fn withdraw(&mut self, notice: &HandoffPacket, withdrawn: &str) {
        let Some(record) = self.leads.get_mut(notice.lead_id()) else {
            return;
        };
        let holds = record
            .packet
            .as_ref()
            .is_some_and(|p| p.packet_id == withdrawn);
        let Some(rep) = record.assignee.clone().filter(|_| holds) else {
            return;
        };
        record.packet = None;
        self.dec(&rep);
        let (Some(prev), Some(account)) = (
            notice.previous_assignee.as_ref(),
            notice.decision.scored.enriched.account(),
        ) else {
            return;
        };
        let key = (account.to_owned(), notice.decision.target_team.clone());
        if prev.role != "manager" && self.owners.get(&key) == Some(&rep) {
            self.owners.insert(key, prev.rep_id.clone());
        }
    }

    fn dec(&mut self, rep: &str) {
        if let Some(n) = self.load.get_mut(rep) {
            *n = n.saturating_sub(1);
        }
    }

    /// Every rep with a load, sorted by id (for `leadflow reps list`).
    pub fn loads(&self) -> Vec<(String, u32)> {
        let mut v: Vec<_> = self.load.iter().map(|(k, v)| (k.clone(), *v)).collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    fn packet(lead: &str, rep: &str, at: i64) -> Arc<HandoffPacket> {
        let mut p = samples::handoff_packet();
        p.decision.scored.enriched.lead.lead_id = lead.into();
        p.idempotency_key = format!("{lead}|0");
        p.created_at = Timestamp(at);
        if let Some(a) = p.assignee.as_mut() {
            a.rep_id = rep.into();
        }
        Arc::new(p)
    }

    fn contacted(lead: &str, rep: &str, at: i64) -> RepActivity {
        RepActivity {
            activity_id: format!("{lead}-c"),
            lead_id: lead.into(),
            packet_id: None,
            rep_id: rep.into(),
            kind: RepActivityKind::Contacted,
            reason: None,
            reassigned_to: None,
            occurred_at: Timestamp(at),
        }
    }

    #[test]
    fn a_withdrawal_notice_releases_the_new_owner_and_gives_the_account_back() {
        let mut s = RoutingState::with_window(None);
        let first = packet("l1", "ana", 0);
        s.apply_packet(first.clone());
        let account = first
            .decision
            .scored
            .enriched
            .account()
            .expect("the sample has an account")
            .to_owned();
        let team = first.decision.target_team.clone();
        // the SLA escalation reassigns the lead from ana to bo
        let mut reassigned = (*packet("l1", "bo", 10)).clone();
        reassigned.packet_id = "pkt-l1-L1".into();
        reassigned.idempotency_key = "l1|1".into();
        reassigned.escalation_level = 1;
        reassigned.previous_assignee = first.assignee.clone();
        s.apply_packet(Arc::new(reassigned.clone()));
        assert_eq!((s.load("ana"), s.load("bo")), (0, 1));
        assert_eq!(s.owner(&account, &team), Some("bo"));
        // ana's in-time contact was recorded late: the watchdog withdraws the reassignment
        let mut notice = reassigned.clone();
        notice.packet_id = "pkt-l1-L1:withdrawn".into();
        notice.idempotency_key = "l1|1:withdrawn".into();
        notice.withdraws = Some("pkt-l1-L1".into());
        notice.sla.clear();
        assert_eq!(s.apply_packet(Arc::new(notice.clone())), Applied::Withdrawn);
        assert_eq!(
            (s.load("ana"), s.load("bo")),
            (0, 0),
            "bo's load is released"
        );
        assert_eq!(
            s.owner(&account, &team),
            Some("ana"),
            "the account is ana's again"
        );
        assert!(s.lead("l1").is_some_and(|r| !r.is_open()));
        // applied again (a replay): nothing moves
        assert_eq!(s.apply_packet(Arc::new(notice)), Applied::Withdrawn);
        assert_eq!((s.load("ana"), s.load("bo")), (0, 0));
    }

    #[test]
    fn closed_leads_past_the_window_are_forgotten_open_ones_kept() {
        let day = 86_400_000;
        let mut s = RoutingState::with_window(Some(30 * day));
        s.apply_packet(packet("old-open", "a", 0));
        s.apply_packet(packet("old-closed", "a", 0));
        s.apply_activity(&contacted("old-closed", "a", 1));
        s.apply_packet(packet("new", "b", 40 * day));
        assert_eq!(s.remembered(), 3);
        s.prune();
        assert_eq!(
            s.remembered(),
            2,
            "the closed lead older than 30 days is gone"
        );
        assert!(s.lead("old-open").is_some_and(LeadRecord::is_open));
        assert_eq!((s.load("a"), s.load("b")), (1, 1));
        // an activity by someone else never releases the holder's load
        assert!(!s.apply_activity(&contacted("new", "a", 41 * day)));
        assert_eq!(s.load("b"), 1);
        // a stale packet replayed late does not move the lead back
        let mut late = (*packet("new", "a", 39 * day)).clone();
        late.idempotency_key = "new|older".into();
        assert_eq!(s.apply_packet(Arc::new(late)), Applied::Stale);
        assert_eq!((s.load("a"), s.load("b")), (1, 1));
    }
}
