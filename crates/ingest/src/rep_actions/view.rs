//! What ingest knows to judge a rep's click or a CRM webhook (RULES.md RA3–RA5): who is who in the
//! roster, each lead's current packet and owner, what was already recorded per packet, and the CRM
//! ids notify created. Rebuilt from `reps`, `handoff.packets`, `handoff.activity` and
//! `handoff.deliveries` (side inputs, the last `state_window_days`), then followed live. Pure: no
//! broker types; every update is idempotent and order-tolerant.

use std::collections::HashMap;

use leadflow_events::{
    AnyEvent, DeliveryChannel, DeliveryReceipt, DeliveryStatus, EventKind, HandoffPacket,
    RepActivity, RepActivityKind, RepState, Timestamp,
};

/// A lead's current packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Current {
    pub packet_id: String,
    pub rep_id: Option<String>,
    pub created_at: Timestamp,
    pub level: i32,
}

/// What was recorded on one packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub packet_id: String,
    pub kind: RepActivityKind,
    pub rep_id: String,
    pub at: Timestamp,
}

#[derive(Clone, Debug, Default)]
pub struct LeadView {
    /// Every packet of the lead (a handful: the first, reassignments), withdrawn ones removed.
    pub packets: Vec<Current>,
    /// Packets a withdrawal notice took back (a late copy of them stays out).
    pub withdrawn: Vec<String>,
    /// Activity recorded on this lead's packets (a handful per lead).
    pub recorded: Vec<Recorded>,
}

impl LeadView {
    /// The lead's current packet: the newest by (`created_at`, level).
    pub fn current(&self) -> Option<&Current> {
        self.packets.iter().max_by_key(|c| (c.created_at, c.level))
    }

    /// What `kind` already recorded on `packet_id`, if anything.
    pub fn recorded(&self, packet_id: &str, kind: RepActivityKind) -> Option<&Recorded> {
        self.recorded
            .iter()
            .find(|r| r.packet_id == packet_id && r.kind == kind)
    }

    /// The activity that closed `packet_id` (contacted, rejected, qualified, disqualified,
    /// reassigned), if any.
    pub fn closed(&self, packet_id: &str) -> Option<&Recorded> {
        self.recorded.iter().find(|r| {
            r.packet_id == packet_id
                && !matches!(
                    r.kind,
                    RepActivityKind::Accepted | RepActivityKind::Enrolled | RepActivityKind::Other
                )
        })
    }
}

/// A rep as the answers name them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepName {
    pub rep_id: String,
    pub name: String,
    pub slack_user_id: Option<String>,
}

/// Leads whose newest packet is older than the window (behind the newest packet seen, event time)
/// are forgotten every this many applied packets.
const PRUNE_EVERY: u32 = 4096;

/// The view (one per ingest process, behind a lock).
#[derive(Clone, Debug, Default)]
pub struct RepActionView {
    /// Leads older than this (ms of event time behind the newest packet) are forgotten; `None`
    /// keeps every lead (tests).
    window_ms: Option<i64>,
    newest: Timestamp,
    since_prune: u32,
    reps: HashMap<String, RepName>,
    by_slack: HashMap<String, String>,
    leads: HashMap<String, LeadView>,
    packet_lead: HashMap<String, String>,
    crm_task_packet: HashMap<String, String>,
    crm_contact_lead: HashMap<String, String>,
}

impl RepActionView {
    /// A view that forgets leads whose newest packet is `window_days` older than the newest one
    /// (RA3: a click on an older message is refused as unknown).
    pub fn with_window_days(window_days: u32) -> Self {
        Self {
            window_ms: Some(i64::from(window_days.max(1)) * 86_400_000),
            ..Self::default()
        }
    }

    /// Forgets leads, packets and CRM ids older than the window.
    pub fn prune(&mut self) {
        self.since_prune = 0;
        let Some(window) = self.window_ms else {
            return;
        };
        let horizon = Timestamp(self.newest.0.saturating_sub(window));
        self.leads.retain(|_, l| {
            l.packets.iter().any(|p| p.created_at >= horizon)
                || (l.packets.is_empty()
                    && !l.recorded.is_empty()
                    && l.recorded.iter().any(|r| r.at >= horizon))
        });
        let leads = &self.leads;
        self.packet_lead.retain(|_, lead| leads.contains_key(lead));
        let packets = &self.packet_lead;
        self.crm_task_packet.retain(|_, p| packets.contains_key(p));
        self.crm_contact_lead
            .retain(|_, lead| leads.contains_key(lead));
    }

    /// Applies a side-input event; anything else is ignored.
    pub fn apply(&mut self, event: &AnyEvent) {
        match event {
            AnyEvent::RepState(r) => self.apply_rep(r),
            AnyEvent::Tombstone(t) if t.kind == EventKind::RepState => self.remove_rep(&t.key),
            AnyEvent::HandoffPacket(p) => self.apply_packet(p),
            AnyEvent::RepActivity(a) => self.apply_activity(a),
            AnyEvent::DeliveryReceipt(r) => self.apply_receipt(r),
            _ => {}
        }
    }

    pub fn apply_rep(&mut self, rep: &RepState) {
        self.remove_rep(&rep.rep_id);
        if let Some(u) = rep.slack_user_id.as_deref().filter(|u| !u.is_empty()) {
            self.by_slack.insert(u.to_owned(), rep.rep_id.clone());
        }
        self.reps.insert(
            rep.rep_id.clone(),
            RepName {
                rep_id: rep.rep_id.clone(),
                name: rep.name.clone(),
                slack_user_id: rep.slack_user_id.clone(),
            },
        );
    }

    pub fn remove_rep(&mut self, rep_id: &str) {
        self.reps.remove(rep_id);
        self.by_slack.retain(|_, r| r != rep_id);
    }

    /// A packet: the newest by (`created_at`, level) is the lead's current one. A withdrawal
    /// notice removes the packet it withdraws, so the lead is the previous owner's again.
    pub fn apply_packet(&mut self, p: &HandoffPacket) {
        let lead_id = p.lead_id().to_owned();
        let lead = self.leads.entry(lead_id.clone()).or_default();
        if let Some(withdrawn) = p.withdraws.as_deref() {
            lead.packets.retain(|c| c.packet_id != withdrawn);
            if !lead.withdrawn.iter().any(|w| w == withdrawn) {
                lead.withdrawn.push(withdrawn.to_owned());
            }
            return;
        }
        self.packet_lead.insert(p.packet_id.clone(), lead_id);
        if lead.withdrawn.contains(&p.packet_id)
            || lead.packets.iter().any(|c| c.packet_id == p.packet_id)
        {
            return;
        }
        lead.packets.push(Current {
            packet_id: p.packet_id.clone(),
            rep_id: p.assignee.as_ref().map(|a| a.rep_id.clone()),
            created_at: p.created_at,
            level: p.escalation_level,
        });
        self.newest = self.newest.max(p.created_at);
        self.since_prune += 1;
        if self.since_prune >= PRUNE_EVERY {
            self.prune();
        }
    }

    pub fn apply_activity(&mut self, a: &RepActivity) {
        let lead = self.leads.entry(a.lead_id.clone()).or_default();
        let packet_id = a
            .packet_id
            .clone()
            .or_else(|| lead.current().map(|c| c.packet_id.clone()))
            .unwrap_or_default();
        if lead.recorded(&packet_id, a.kind).is_none() {
            lead.recorded.push(Recorded {
                packet_id,
                kind: a.kind,
                rep_id: a.rep_id.clone(),
                at: a.occurred_at,
            });
        }
    }

    /// Takes back a claim whose record never reached the broker.
    pub fn unclaim(&mut self, a: &RepActivity) {
        if let Some(lead) = self.leads.get_mut(&a.lead_id) {
            lead.recorded.retain(|r| {
                !(Some(&r.packet_id) == a.packet_id.as_ref()
                    && r.kind == a.kind
                    && r.rep_id == a.rep_id
                    && r.at == a.occurred_at)
            });
        }
    }

    /// A CRM delivery: its task id answers for the packet, its contact record for the lead.
    pub fn apply_receipt(&mut self, r: &DeliveryReceipt) {
        if r.channel != DeliveryChannel::Crm || r.status != DeliveryStatus::Delivered {
            return;
        }
        if let Some(task) = r.external_id.as_deref().filter(|t| !t.is_empty()) {
            self.crm_task_packet
                .insert(task.to_owned(), r.packet_id.clone());
        }
        if let Some(contact) = r.remote_url.as_deref().and_then(contact_id_of) {
            self.crm_contact_lead
                .insert(contact.to_owned(), r.lead_id.clone());
        }
    }

    pub fn rep_of_slack_user(&self, user: &str) -> Option<&RepName> {
        self.by_slack.get(user).and_then(|id| self.reps.get(id))
    }

    pub fn rep(&self, rep_id: &str) -> Option<&RepName> {
        self.reps.get(rep_id)
    }

    pub fn lead(&self, lead_id: &str) -> Option<&LeadView> {
        self.leads.get(lead_id)
    }

    pub fn lead_of_packet(&self, packet_id: &str) -> Option<&str> {
        self.packet_lead.get(packet_id).map(String::as_str)
    }

    pub fn packet_of_crm_task(&self, task_id: &str) -> Option<&str> {
        self.crm_task_packet.get(task_id).map(String::as_str)
    }

    pub fn lead_of_crm_contact(&self, contact_id: &str) -> Option<&str> {
        self.crm_contact_lead.get(contact_id).map(String::as_str)
    }

    /// Leads the view holds (metrics, tests).
    pub fn leads(&self) -> usize {
        self.leads.len()
    }
}

/// The contact id at the end of a CRM record link (`.../record/0-1/{contact_id}`).
fn contact_id_of(url: &str) -> Option<&str> {
    let last = url.trim_end_matches('/').rsplit('/').next()?;
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())).then_some(last)
}
