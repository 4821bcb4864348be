//! The known people of each account (RULES.md §9): who they are, their persona, latest score and
//! tier, status and who holds them — rebuilt from the `leads.tiered`, `handoff.packets` and
//! `handoff.activity` side inputs like the rest of the routing state (§7), bounded per account.
//!
//! Every update is idempotent and order-tolerant: a person's facts move forward by event time only,
//! so a replay or a side input read before another changes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use leadflow_events::{
    CommitteeMember, HandoffKind, HandoffPacket, RepActivity, RepActivityKind, TierDecision,
    Timestamp,
};

/// People described per account; more are only counted (§9.4).
pub const MAX_TRACKED: usize = 200;
/// People counted per account beyond [`MAX_TRACKED`]; more are not counted.
pub const MAX_UNTRACKED: usize = 10_000;

/// Who holds a person: their latest packet.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Held {
    rep: String,
    team: String,
    created_at: Timestamp,
    /// A manager fallback never holds an account's card.
    fallback: bool,
    /// (packet id, idempotency key) of the card this packet belongs to: its own, or the card it
    /// updated.
    card: (String, String),
}

#[derive(Clone, Debug)]
struct Person {
    member: CommitteeMember,
    scored_at: Timestamp,
    /// (event time, precedence: decision 0 < packet 1 < activity 2) of the status.
    status_at: (Timestamp, u8),
    /// The rep whose activity set the status, if one did.
    status_rep: Option<String>,
    held: Option<Held>,
    seen_at: Timestamp,
}

#[derive(Clone, Debug, Default)]
struct Account {
    people: BTreeMap<String, Person>,
    untracked: BTreeSet<String>,
}

/// Per account: the known people.
#[derive(Clone, Debug, Default)]
pub struct AccountBook {
    accounts: HashMap<String, Account>,
    /// lead → account, for activities (which name the lead only).
    lead_account: HashMap<String, String>,
}

fn status_of(kind: RepActivityKind) -> Option<&'static str> {
    match kind {
        RepActivityKind::Accepted => Some("ACCEPTED"),
        RepActivityKind::Contacted => Some("CONTACTED"),
        RepActivityKind::Qualified => Some("QUALIFIED"),
        RepActivityKind::Disqualified => Some("DISQUALIFIED"),
        RepActivityKind::Rejected => Some("REJECTED"),
        // a reassignment is followed by the new owner's packet; automation's enrolment keeps the
        // decision's NURTURE
        RepActivityKind::Reassigned | RepActivityKind::Enrolled | RepActivityKind::Other => None,
    }
}

impl AccountBook {
    /// The person of `decision` in their account, created if new (`None`: no account, or the
    /// account is full and the person only counted).
    fn person(&mut self, decision: &TierDecision, at: Timestamp) -> Option<&mut Person> {
        let e = &decision.scored.enriched;
        let account = e.account()?.to_owned();
        let lead_id = e.lead.lead_id.clone();
        self.lead_account.insert(lead_id.clone(), account.clone());
        let acc = self.accounts.entry(account).or_default();
        if !acc.people.contains_key(&lead_id) {
            if acc.people.len() >= MAX_TRACKED {
                if acc.untracked.len() < MAX_UNTRACKED {
                    acc.untracked.insert(lead_id);
                }
                return None;
            }
            let c = &e.lead.contact;
            let name: Vec<&str> = [c.first_name.as_deref(), c.last_name.as_deref()]
                .into_iter()
                .flatten()
                .filter(|s| !s.trim().is_empty())
                .collect();
            let member = CommitteeMember {
                lead_id: lead_id.clone(),
                name: (!name.is_empty()).then(|| name.join(" ")),
                title: c.title.clone(),
                persona: e.persona.symbol().to_owned(),
                role: String::new(),
                score: decision.scored.score,
                tier: decision.tier.clone(),
                status: "DECIDED".into(),
                owner_rep_id: None,
            };
            let person = Person {
                member,
                scored_at: Timestamp(i64::MIN),
                status_at: (Timestamp(i64::MIN), 0),
                status_rep: None,
                held: None,
                seen_at: at,
            };
            acc.people.insert(lead_id.clone(), person);
        }
        let p = acc.people.get_mut(&lead_id)?;
        p.seen_at = p.seen_at.max(at);
        Some(p)
    }

    /// A tier decision (route's input, or the `leads.tiered` side input): the person's facts as
    /// of the decision; `NURTURE` when it hands nothing to a human, else `DECIDED` until its packet.
    pub fn apply_decision(&mut self, d: &TierDecision) {
        let at = d.decided_at;
        let Some(p) = self.person(d, at) else {
            return;
        };
        if at >= p.scored_at {
            let e = &d.scored.enriched;
            p.scored_at = at;
            p.member.score = d.scored.score;
            p.member.tier = d.tier.clone();
            p.member.persona = e.persona.symbol().to_owned();
            p.member.title = e.lead.contact.title.clone().or(p.member.title.take());
        }
        if (at, 0) > p.status_at {
            p.status_at = (at, 0);
            p.status_rep = None;
            p.member.status = if d.handoff == HandoffKind::None {
                "NURTURE".into()
            } else {
                "DECIDED".into()
            };
        }
    }

    /// A packet that became the lead's current one: its assignee holds the person (`HANDED_OFF`).
    pub fn apply_packet(&mut self, packet: &HandoffPacket) {
        self.apply_decision(&packet.decision);
        let Some(a) = &packet.assignee else {
            return;
        };
        let at = packet.created_at;
        let Some(p) = self.person(&packet.decision, at) else {
            return;
        };
        let own = (packet.packet_id.clone(), packet.idempotency_key.clone());
        let card = packet
            .committee
            .as_ref()
            .and_then(|c| c.updates_card.clone().zip(c.card_key.clone()))
            .unwrap_or(own);
        let newer = p.held.as_ref().is_none_or(|h| at >= h.created_at);
        if !newer {
            return;
        }
        p.held = Some(Held {
            rep: a.rep_id.clone(),
            team: packet.decision.target_team.clone(),
            created_at: at,
            fallback: packet.unassigned_reason.is_some() || a.role == "manager",
            card,
        });
        p.member.owner_rep_id = Some(a.rep_id.clone());
        let other_rep = p.status_rep.as_deref() != Some(a.rep_id.as_str());
        if (at, 1) > p.status_at || (at == p.status_at.0 && other_rep) {
            p.status_at = (at, 1);
            p.status_rep = None;
            p.member.status = "HANDED_OFF".into();
        }
    }

    /// A rep's activity on a lead they hold (or before their packet was read): the person's status.
    pub fn apply_activity(&mut self, a: &RepActivity) {
        let Some(status) = status_of(a.kind) else {
            return;
        };
        let Some(account) = self.lead_account.get(&a.lead_id) else {
            return;
        };
        let Some(p) = self
            .accounts
            .get_mut(account)
            .and_then(|acc| acc.people.get_mut(&a.lead_id))
        else {
            return;
        };
        if p.held.as_ref().is_some_and(|h| h.rep != a.rep_id) {
            return;
        }
        if (a.occurred_at, 2) > p.status_at {
            p.status_at = (a.occurred_at, 2);
            p.status_rep = Some(a.rep_id.clone());
            p.member.status = status.into();
            p.seen_at = p.seen_at.max(a.occurred_at);
        }
    }

    /// Every known person of `account` and how many more are only counted.
    pub fn members(&self, account: &str) -> (Vec<CommitteeMember>, u32) {
        self.accounts.get(account).map_or((Vec::new(), 0), |acc| {
            let people = acc.people.values().map(|p| p.member.clone()).collect();
            (
                people,
                u32::try_from(acc.untracked.len()).unwrap_or(u32::MAX),
            )
        })
    }

    /// The card a new packet of `lead_id` for `rep` in `team` updates (§9.3): the card of the
    /// earliest other person of the account `rep` holds in that team (not as a manager fallback,
    /// not rejected by them).
    pub fn card(
        &self,
        account: &str,
        team: &str,
        rep: &str,
        lead_id: &str,
    ) -> Option<(String, String)> {
        let acc = self.accounts.get(account)?;
        acc.people
            .values()
            .filter(|p| p.member.lead_id != lead_id && p.member.status != "REJECTED")
            .filter_map(|p| p.held.as_ref().map(|h| (h, &p.member.lead_id)))
            .filter(|(h, _)| h.rep == rep && h.team == team && !h.fallback)
            .min_by(|(a, la), (b, lb)| (a.created_at, la).cmp(&(b.created_at, lb)))
            .map(|(h, _)| h.card.clone())
    }

    /// Forgets people last seen before `horizon` (event time), unless a rep still holds them
    /// (handed off or accepted), and accounts left empty.
    pub fn prune(&mut self, horizon: Timestamp) {
        for acc in self.accounts.values_mut() {
            acc.people.retain(|_, p| {
                p.seen_at >= horizon
                    || matches!(p.member.status.as_str(), "HANDED_OFF" | "ACCEPTED")
            });
            if acc.people.len() < MAX_TRACKED {
                acc.untracked.clear();
            }
        }
        self.accounts
            .retain(|_, acc| !acc.people.is_empty() || !acc.untracked.is_empty());
        let accounts = &self.accounts;
        self.lead_account.retain(|lead, account| {
            accounts
                .get(account)
                .is_some_and(|acc| acc.people.contains_key(lead) || acc.untracked.contains(lead))
        });
    }

    /// A book with `account` alone (to preview a packet's effect without applying it).
    pub fn clone_account(&self, account: &str) -> AccountBook {
        let mut book = AccountBook::default();
        if let Some(acc) = self.accounts.get(account) {
            for lead in acc.people.keys().chain(acc.untracked.iter()) {
                book.lead_account.insert(lead.clone(), account.to_owned());
            }
            book.accounts.insert(account.to_owned(), acc.clone());
        }
        book
    }

    /// Accounts remembered (tests, metrics).
    pub fn accounts(&self) -> usize {
        self.accounts.len()
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::{Persona, samples};

    use super::*;

    fn decision(lead: &str, account: &str, at: i64) -> TierDecision {
        let mut d = samples::tier_decision();
        d.scored.enriched.lead.lead_id = lead.into();
        d.scored.enriched.account_key = account.into();
        d.scored.enriched.company_domain = Some(account.into());
        d.decided_at = Timestamp(at);
        d
    }

    fn packet(lead: &str, rep: &str, at: i64) -> HandoffPacket {
        let mut p = samples::handoff_packet();
        p.decision = decision(lead, "acme.com", at);
        p.packet_id = format!("pkt-{lead}-{rep}");
        p.idempotency_key = format!("{lead}|{rep}");
        p.created_at = Timestamp(at);
        if let Some(a) = p.assignee.as_mut() {
            a.rep_id = rep.into();
        }
        p
    }

    fn activity(lead: &str, rep: &str, kind: RepActivityKind, at: i64) -> RepActivity {
        RepActivity {
            activity_id: format!("{lead}-{at}"),
            lead_id: lead.into(),
            packet_id: None,
            rep_id: rep.into(),
            kind,
            reason: None,
            reassigned_to: None,
            occurred_at: Timestamp(at),
        }
    }

    fn status(b: &AccountBook, lead: &str) -> String {
        let (people, _) = b.members("acme.com");
        people
            .into_iter()
            .find(|m| m.lead_id == lead)
            .map(|m| m.status)
            .unwrap_or_default()
    }

    /// (steps in arrival order, expected status): any order of the side inputs gives the same.
    #[test]
    fn statuses_move_forward_by_event_time_whatever_the_arrival_order() {
        type Step = fn(&mut AccountBook);
        let decided: Step = |b| b.apply_decision(&decision("l1", "acme.com", 10));
        let mut nurture_d = decision("l1", "acme.com", 10);
        nurture_d.handoff = HandoffKind::None;
        let handed: Step = |b| b.apply_packet(&packet("l1", "ana", 10));
        let contacted: Step =
            |b| b.apply_activity(&activity("l1", "ana", RepActivityKind::Contacted, 20));
        let rejected: Step =
            |b| b.apply_activity(&activity("l1", "ana", RepActivityKind::Rejected, 20));
        let moved: Step = |b| b.apply_packet(&packet("l1", "bo", 20));
        let cases: [(&[Step], &str); 6] = [
            (&[decided], "DECIDED"),
            (&[decided, handed], "HANDED_OFF"),
            (&[handed, decided], "HANDED_OFF"),
            (&[decided, handed, contacted], "CONTACTED"),
            (&[handed, contacted, decided], "CONTACTED"),
            // rejected by ana, then the new owner's packet at the rejection's instant
            (&[decided, handed, rejected, moved], "HANDED_OFF"),
        ];
        for (i, (steps, expected)) in cases.iter().enumerate() {
            let mut b = AccountBook::default();
            for step in *steps {
                step(&mut b);
            }
            assert_eq!(status(&b, "l1"), *expected, "case {i}");
        }
        let mut b = AccountBook::default();
        b.apply_decision(&nurture_d);
        assert_eq!(status(&b, "l1"), "NURTURE");
        // another rep's activity never moves the holder's person
        b.apply_packet(&packet("l1", "ana", 10));
        b.apply_activity(&activity("l1", "zed", RepActivityKind::Disqualified, 30));
        assert_eq!(status(&b, "l1"), "HANDED_OFF");
    }

    #[test]
    fn the_latest_decision_sets_score_tier_and_persona() {
        let mut b = AccountBook::default();
        let mut late = decision("l1", "acme.com", 20);
        late.scored.score = 90;
        late.scored.enriched.persona = Persona::P2;
        let mut early = decision("l1", "acme.com", 10);
        early.scored.score = 40;
        b.apply_decision(&late);
        b.apply_decision(&early);
        let (people, _) = b.members("acme.com");
        assert_eq!((people[0].score, people[0].persona.as_str()), (90, "P2"));
    }

    #[test]
    fn an_account_describes_200_people_and_counts_the_rest() {
        let mut b = AccountBook::default();
        for i in 0..(MAX_TRACKED + 25) {
            b.apply_decision(&decision(&format!("l{i}"), "big.com", 1));
        }
        // a replay counts nobody twice
        b.apply_decision(&decision("l210", "big.com", 1));
        let (people, untracked) = b.members("big.com");
        assert_eq!((people.len(), untracked), (MAX_TRACKED, 25));
    }

    #[test]
    fn prune_forgets_people_past_the_window_unless_a_rep_holds_them() {
        let mut b = AccountBook::default();
        b.apply_decision(&decision("old", "acme.com", 0));
        b.apply_packet(&packet("held", "ana", 0));
        b.apply_decision(&decision("new", "acme.com", 100));
        b.apply_decision(&decision("gone", "other.com", 0));
        b.prune(Timestamp(50));
        let (people, _) = b.members("acme.com");
        let ids: Vec<&str> = people.iter().map(|m| m.lead_id.as_str()).collect();
        assert_eq!(ids, ["held", "new"]);
        assert_eq!(b.accounts(), 1, "other.com is forgotten");
    }

    #[test]
    fn the_card_is_the_earliest_person_the_rep_holds_in_the_team() {
        let mut b = AccountBook::default();
        b.apply_packet(&packet("first", "ana", 10));
        let mut update = packet("second", "ana", 20);
        update.committee = Some(leadflow_events::Committee {
            updates_card: Some("pkt-first-ana".into()),
            card_key: Some("first|ana".into()),
            ..Default::default()
        });
        b.apply_packet(&update);
        let card = Some(("pkt-first-ana".to_owned(), "first|ana".to_owned()));
        assert_eq!(b.card("acme.com", "ae", "ana", "third"), card);
        assert_eq!(
            b.card("acme.com", "ae", "ana", "first"),
            Some(("pkt-first-ana".into(), "first|ana".into())),
            "the second passes the card on"
        );
        assert_eq!(
            b.card("acme.com", "ae", "bo", "third"),
            None,
            "bo holds nobody"
        );
        assert_eq!(
            b.card("acme.com", "sdr", "ana", "third"),
            None,
            "another team"
        );
    }
}
