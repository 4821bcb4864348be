//! The pure judgement of a rep's click (RULES.md RA4) and of a CRM signal (RA5): record one
//! `RepActivity`, or refuse with the words the rep sees. Deterministic activity ids make every
//! retry of the same action the same record (RA6).

use leadflow_events::{RepActivity, RepActivityKind, Timestamp};
use uuid::Uuid;

use super::view::{Recorded, RepActionView};

/// What a rep clicked, as read from Slack's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Click {
    pub slack_user_id: String,
    pub lead_id: String,
    pub packet_id: String,
    pub kind: RepActivityKind,
    pub reason: Option<String>,
    pub at: Timestamp,
}

/// Why a click changes nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The Slack user is no rep of the roster (an operator must link them: exception).
    UnknownUser,
    /// No packet of this lead is known (expired beyond the window, or not leadflow's: exception).
    UnknownLead,
    /// The message is about an older packet: the lead moved on to `owner`.
    Reassigned { owner: Option<String> },
    /// Someone else holds the lead.
    NotOwner { owner: Option<String> },
    /// The same action was already recorded on this packet.
    Twice(Recorded),
    /// The packet was already closed by another action.
    Closed(Recorded),
}

impl Refusal {
    /// Whether an operator must act (an exception record is written, RA7).
    pub fn needs_operator(&self) -> bool {
        matches!(self, Refusal::UnknownUser | Refusal::UnknownLead)
    }

    /// Metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::UnknownUser => "unknown_user",
            Refusal::UnknownLead => "unknown_lead",
            Refusal::Reassigned { .. } => "reassigned",
            Refusal::NotOwner { .. } => "not_owner",
            Refusal::Twice(_) => "twice",
            Refusal::Closed(_) => "closed",
        }
    }
}

/// The activity id of `kind` on `packet_id` from `source` (`slack`, `crm`): one per packet and
/// kind, whoever sends it and however often (RA6).
pub fn activity_id(source: &str, packet_id: &str, kind: RepActivityKind) -> String {
    let name = format!("{source}|{packet_id}|{}", kind_word(kind));
    format!(
        "act-{}",
        Uuid::new_v5(&Uuid::NAMESPACE_OID, name.as_bytes())
    )
}

pub fn kind_word(kind: RepActivityKind) -> &'static str {
    match kind {
        RepActivityKind::Accepted => "accepted",
        RepActivityKind::Contacted => "contacted",
        RepActivityKind::Rejected => "rejected",
        RepActivityKind::Reassigned => "reassigned",
        RepActivityKind::Qualified => "qualified",
        RepActivityKind::Disqualified => "disqualified",
        RepActivityKind::Other => "other",
        RepActivityKind::Enrolled => "enrolled",
    }
}

/// Judges a click (RA4): the clicking user must be a rep, the message's packet the lead's current
/// one, the rep its owner, the action not yet recorded on it and the packet not closed.
pub fn judge_click(view: &RepActionView, click: &Click) -> Result<RepActivity, Refusal> {
    let rep = view
        .rep_of_slack_user(&click.slack_user_id)
        .ok_or(Refusal::UnknownUser)?;
    let lead = view.lead(&click.lead_id).ok_or(Refusal::UnknownLead)?;
    let current = lead.current().ok_or(Refusal::UnknownLead)?;
    if current.packet_id != click.packet_id {
        if !lead.packets.iter().any(|p| p.packet_id == click.packet_id)
            && !lead.withdrawn.contains(&click.packet_id)
        {
            return Err(Refusal::UnknownLead);
        }
        return Err(Refusal::Reassigned {
            owner: current.rep_id.clone(),
        });
    }
    if current.rep_id.as_deref() != Some(rep.rep_id.as_str()) {
        return Err(Refusal::NotOwner {
            owner: current.rep_id.clone(),
        });
    }
    if let Some(r) = lead.recorded(&current.packet_id, click.kind) {
        return Err(Refusal::Twice(r.clone()));
    }
    if let Some(r) = lead.closed(&current.packet_id) {
        return Err(Refusal::Closed(r.clone()));
    }
    Ok(RepActivity {
        activity_id: activity_id("slack", &current.packet_id, click.kind),
        lead_id: click.lead_id.clone(),
        packet_id: Some(current.packet_id.clone()),
        rep_id: rep.rep_id.clone(),
        kind: click.kind,
        reason: click.reason.clone(),
        reassigned_to: None,
        occurred_at: click.at,
    })
}

/// What a CRM webhook event names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrmObject {
    /// A task notify created (its id is on the packet's CRM receipt).
    Task(String),
    /// A contact notify upserted (its record link is on the lead's CRM receipt).
    Contact(String),
}

/// One CRM webhook event, mapped (RA5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrmSignal {
    pub object: CrmObject,
    pub kind: RepActivityKind,
    pub at: Timestamp,
}

/// Why a CRM event changes nothing (all silent: most CRM events are not leadflow's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrmSkip {
    /// Not a task or contact leadflow created.
    NotOurs,
    /// A task of an older packet (notify closing a reassigned lead's task, for one).
    OldPacket,
    /// Already recorded, or the packet already closed.
    AlreadyRecorded,
}

impl CrmSkip {
    pub fn label(&self) -> &'static str {
        match self {
            CrmSkip::NotOurs => "not_ours",
            CrmSkip::OldPacket => "old_packet",
            CrmSkip::AlreadyRecorded => "already_recorded",
        }
    }
}

/// Judges a CRM signal (RA5): it answers the lead's current packet, on behalf of its owner.
pub fn judge_crm(view: &RepActionView, signal: &CrmSignal) -> Result<RepActivity, CrmSkip> {
    let (lead_id, task_packet) = match &signal.object {
        CrmObject::Task(task) => {
            let packet = view.packet_of_crm_task(task).ok_or(CrmSkip::NotOurs)?;
            let lead = view.lead_of_packet(packet).ok_or(CrmSkip::NotOurs)?;
            (lead.to_owned(), Some(packet.to_owned()))
        }
        CrmObject::Contact(contact) => (
            view.lead_of_crm_contact(contact)
                .ok_or(CrmSkip::NotOurs)?
                .to_owned(),
            None,
        ),
    };
    let lead = view.lead(&lead_id).ok_or(CrmSkip::NotOurs)?;
    let mut current = lead.current().ok_or(CrmSkip::NotOurs)?;
    if let Some(task_packet) = task_packet.filter(|p| *p != current.packet_id) {
        // The task of an older packet: notify completes it when the lead moves on (ignored), but a
        // rep who logs a call late, stamped while they still held the lead, contacted it in time
        // on that packet (the SLA watchdog reconciles the deadline; RA5).
        let old = lead
            .packets
            .iter()
            .find(|p| p.packet_id == task_packet)
            .ok_or(CrmSkip::OldPacket)?;
        let next = lead
            .packets
            .iter()
            .filter(|p| (p.created_at, p.level) > (old.created_at, old.level))
            .map(|p| p.created_at)
            .min();
        let held_then = signal.at >= old.created_at && next.is_some_and(|n| signal.at < n);
        if !held_then {
            return Err(CrmSkip::OldPacket);
        }
        current = old;
    }
    let Some(owner) = current.rep_id.clone() else {
        return Err(CrmSkip::NotOurs);
    };
    if lead.recorded(&current.packet_id, signal.kind).is_some() {
        return Err(CrmSkip::AlreadyRecorded);
    }
    // a contact after the packet was closed adds nothing; qualification still does
    if signal.kind == RepActivityKind::Contacted && lead.closed(&current.packet_id).is_some() {
        return Err(CrmSkip::AlreadyRecorded);
    }
    // on behalf of the owner, whoever clicked in the CRM: the contact happened (RA5)
    let rep_id = owner;
    Ok(RepActivity {
        activity_id: activity_id("crm", &current.packet_id, signal.kind),
        lead_id,
        packet_id: Some(current.packet_id.clone()),
        rep_id,
        kind: signal.kind,
        reason: None,
        reassigned_to: None,
        occurred_at: signal.at,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use leadflow_events::{AnyEvent, HandoffPacket, RepState, samples};
    use proptest::prelude::*;

    use super::*;

    fn rep(id: &str) -> RepState {
        let mut r = samples::rep_state();
        r.rep_id = id.into();
        r.slack_user_id = Some(format!("U{}", id.to_uppercase()));
        r
    }

    fn packet(lead: &str, id: &str, rep: &str, minute: i64, level: i32) -> HandoffPacket {
        let mut p = samples::handoff_packet();
        p.packet_id = id.into();
        p.idempotency_key = format!("{lead}|{id}");
        p.decision.scored.enriched.lead.lead_id = lead.into();
        p.assignee.as_mut().unwrap().rep_id = rep.into();
        p.created_at = Timestamp(samples::T0.0 + minute * 60_000);
        p.escalation_level = level;
        p.withdraws = None;
        p
    }

    fn view() -> RepActionView {
        let mut v = RepActionView::default();
        for r in ["a", "b"] {
            v.apply(&AnyEvent::RepState(rep(r)));
        }
        v.apply(&AnyEvent::HandoffPacket(packet("l1", "p1", "a", 0, 0)));
        v
    }

    fn click(user: &str, packet: &str, kind: RepActivityKind) -> Click {
        Click {
            slack_user_id: user.into(),
            lead_id: "l1".into(),
            packet_id: packet.into(),
            kind,
            reason: None,
            at: Timestamp(samples::T0.0 + 60_000),
        }
    }

    #[test]
    fn the_owner_records_each_action_once_and_others_change_nothing() {
        let mut v = view();
        let a = judge_click(&v, &click("UA", "p1", RepActivityKind::Accepted)).unwrap();
        assert_eq!(
            (a.rep_id.as_str(), a.packet_id.as_deref()),
            ("a", Some("p1"))
        );
        v.apply_activity(&a);
        assert!(matches!(
            judge_click(&v, &click("UA", "p1", RepActivityKind::Accepted)),
            Err(Refusal::Twice(_))
        ));
        assert_eq!(
            judge_click(&v, &click("UB", "p1", RepActivityKind::Contacted)),
            Err(Refusal::NotOwner {
                owner: Some("a".into())
            })
        );
        assert_eq!(
            judge_click(&v, &click("UZ", "p1", RepActivityKind::Contacted)),
            Err(Refusal::UnknownUser)
        );
        let c = judge_click(&v, &click("UA", "p1", RepActivityKind::Contacted)).unwrap();
        v.apply_activity(&c);
        // contacted closes the packet: a rejection after it changes nothing
        assert!(matches!(
            judge_click(&v, &click("UA", "p1", RepActivityKind::Rejected)),
            Err(Refusal::Closed(_))
        ));
        // reassigned to b: a's old message is out of date, b's new one works
        v.apply(&AnyEvent::HandoffPacket(packet("l1", "p2", "b", 5, 1)));
        assert_eq!(
            judge_click(&v, &click("UA", "p1", RepActivityKind::Accepted)),
            Err(Refusal::Reassigned {
                owner: Some("b".into())
            })
        );
        assert!(judge_click(&v, &click("UB", "p2", RepActivityKind::Accepted)).is_ok());
        assert_eq!(
            judge_click(&v, &click("UA", "p9", RepActivityKind::Accepted)),
            Err(Refusal::UnknownLead)
        );
    }

    #[test]
    fn a_withdrawal_gives_the_lead_back_to_the_previous_owners_message() {
        let mut v = view();
        v.apply(&AnyEvent::HandoffPacket(packet("l1", "p2", "b", 5, 1)));
        let mut notice = packet("l1", "n2", "b", 6, 1);
        notice.withdraws = Some("p2".into());
        v.apply(&AnyEvent::HandoffPacket(notice));
        assert!(judge_click(&v, &click("UA", "p1", RepActivityKind::Contacted)).is_ok());
        assert!(matches!(
            judge_click(&v, &click("UB", "p2", RepActivityKind::Contacted)),
            Err(Refusal::Reassigned { .. })
        ));
    }

    #[test]
    fn a_call_logged_late_on_an_older_task_counts_when_stamped_while_the_rep_held_the_lead() {
        let mut v = view();
        v.apply(&AnyEvent::DeliveryReceipt(receipt("p1", "t1")));
        v.apply(&AnyEvent::HandoffPacket(packet("l1", "p2", "b", 5, 1)));
        v.apply(&AnyEvent::DeliveryReceipt(receipt("p2", "t2")));
        let at = |minute: i64| Timestamp(samples::T0.0 + minute * 60_000);
        let signal = |task: &str, minute| CrmSignal {
            object: CrmObject::Task(task.into()),
            kind: RepActivityKind::Contacted,
            at: at(minute),
        };
        // a's call at minute 3, logged after the reassignment at minute 5: a's, on p1
        let a = judge_crm(&v, &signal("t1", 3)).unwrap();
        assert_eq!(
            (a.rep_id.as_str(), a.packet_id.as_deref()),
            ("a", Some("p1"))
        );
        // notify completing a's task when the lead moved on (minute 6): ignored
        assert_eq!(judge_crm(&v, &signal("t1", 6)), Err(CrmSkip::OldPacket));
        // b's own task: b's contact on p2
        let b = judge_crm(&v, &signal("t2", 7)).unwrap();
        assert_eq!(
            (b.rep_id.as_str(), b.packet_id.as_deref()),
            ("b", Some("p2"))
        );
        assert_eq!(judge_crm(&v, &signal("t9", 7)), Err(CrmSkip::NotOurs));
    }

    fn receipt(packet: &str, task: &str) -> leadflow_events::DeliveryReceipt {
        leadflow_events::DeliveryReceipt {
            receipt_id: format!("r-{packet}"),
            packet_id: packet.into(),
            lead_id: "l1".into(),
            channel: leadflow_events::DeliveryChannel::Crm,
            status: leadflow_events::DeliveryStatus::Delivered,
            attempts: 1,
            external_id: Some(task.into()),
            error: None,
            delivered_at: samples::T0,
            idempotency_key: None,
            fallback_for: vec![],
            remote_url: None,
            latency_ms: None,
        }
    }

    #[test]
    fn leads_older_than_the_window_are_forgotten() {
        let mut v = RepActionView::with_window_days(1);
        v.apply(&AnyEvent::RepState(rep("a")));
        v.apply(&AnyEvent::HandoffPacket(packet("l1", "p1", "a", 0, 0)));
        v.apply(&AnyEvent::DeliveryReceipt(receipt("p1", "t1")));
        let mut newer = packet("l2", "p2", "a", 0, 0);
        newer.created_at = Timestamp(samples::T0.0 + 2 * 86_400_000);
        v.apply(&AnyEvent::HandoffPacket(newer));
        v.prune();
        assert!(v.lead("l1").is_none() && v.lead("l2").is_some());
        assert_eq!(v.packet_of_crm_task("t1"), None);
        assert_eq!(
            judge_click(&v, &click("UA", "p1", RepActivityKind::Accepted)),
            Err(Refusal::UnknownLead)
        );
    }

    fn kind_of(i: u8) -> RepActivityKind {
        [
            RepActivityKind::Accepted,
            RepActivityKind::Contacted,
            RepActivityKind::Rejected,
        ][usize::from(i % 3)]
    }

    proptest! {
        /// Any sequence of clicks (retries, double clicks, other users, stale messages) records
        /// at most one activity per packet and kind, and every recorded id is distinct.
        #[test]
        fn no_interaction_produces_two_activities(
            clicks in proptest::collection::vec((0u8..3, 0u8..3, 0u8..2), 1..40)
        ) {
            let mut v = view();
            v.apply(&AnyEvent::HandoffPacket(packet("l1", "p2", "b", 5, 1)));
            let mut recorded: Vec<RepActivity> = Vec::new();
            for (user, kind, pkt) in clicks {
                let user = ["UA", "UB", "UZ"][usize::from(user)];
                let pkt = ["p1", "p2"][usize::from(pkt)];
                if let Ok(a) = judge_click(&v, &click(user, pkt, kind_of(kind))) {
                    v.apply_activity(&a);
                    recorded.push(a);
                }
            }
            let mut ids: Vec<&str> = recorded.iter().map(|a| a.activity_id.as_str()).collect();
            ids.sort_unstable();
            let n = ids.len();
            ids.dedup();
            prop_assert_eq!(ids.len(), n);
            let mut keys: Vec<(Option<String>, &'static str)> = recorded
                .iter()
                .map(|a| (a.packet_id.clone(), kind_word(a.kind)))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            prop_assert_eq!(keys.len(), n);
            // only the current owner (b, on p2) ever records
            prop_assert!(recorded.iter().all(|a| a.rep_id == "b" && a.packet_id.as_deref() == Some("p2")));
            // and at most one closing action
            prop_assert!(recorded.iter().filter(|a| a.kind != RepActivityKind::Accepted).count() <= 1);
        }
    }
}
