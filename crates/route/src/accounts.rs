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
        // a reassignment is followed by the new owner's packet
        RepActivityKind::Reassigned | RepActivityKind::Other => None,
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
