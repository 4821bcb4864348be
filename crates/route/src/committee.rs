//! The buying committee of an account as a packet shows it (RULES.md §9): each known person's
//! committee role from their persona, the recommended engagement order, the one-line strategy, and
//! the bound on what one packet lists. Pure: the people come from [`crate::accounts`].

use std::collections::BTreeMap;

use leadflow_events::{Assignee, Committee, CommitteeCount, CommitteeMember};

/// At most this many people are listed in one packet; the rest are counted (§9.4).
pub const MAX_LISTED: usize = 50;

/// A committee role, derived from enrich's persona (§9.1). The order of the variants is the
/// engagement order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// P2: managers and team/tech leads — own the problem and sell internally.
    Champion,
    /// P1: executives and decision makers — own the budget.
    EconomicBuyer,
    /// P3: practitioners — evaluate the product hands-on.
    TechnicalEvaluator,
    /// UNKNOWN: no title or an unrecognised one.
    Unclassified,
    /// N1: never engaged.
    Competitor,
    /// N2: never engaged.
    Researcher,
}

impl Role {
    /// The role of a persona symbol (`P1`, `P2`, `P3`, `N1`, `N2`, anything else unclassified).
    pub fn of(persona: &str) -> Role {
        match persona {
            "P2" => Role::Champion,
            "P1" => Role::EconomicBuyer,
            "P3" => Role::TechnicalEvaluator,
            "N1" => Role::Competitor,
            "N2" => Role::Researcher,
            _ => Role::Unclassified,
        }
    }

    /// The schema's value (`champion`, `economic_buyer`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Champion => "champion",
            Role::EconomicBuyer => "economic_buyer",
            Role::TechnicalEvaluator => "technical_evaluator",
            Role::Unclassified => "unclassified",
            Role::Competitor => "competitor",
            Role::Researcher => "researcher",
        }
    }

    /// In words, for the strategy line.
    pub fn words(self) -> &'static str {
        match self {
            Role::Champion => "the champion",
            Role::EconomicBuyer => "the economic buyer",
            Role::TechnicalEvaluator => "the technical evaluator",
            Role::Unclassified => "the contact with no known role",
            Role::Competitor => "the competitor",
            Role::Researcher => "the researcher",
        }
    }

    fn engaged(self) -> bool {
        !matches!(self, Role::Competitor | Role::Researcher)
    }
}

/// Statuses of people who are not engaged any more (§9.2).
const CLOSED: [&str; 2] = ["DISQUALIFIED", "REJECTED"];

/// Whether `m` belongs in the engagement order: an engaged role and not closed.
pub fn engageable(m: &CommitteeMember) -> bool {
    Role::of(&m.persona).engaged() && !CLOSED.contains(&m.status.as_str())
}

/// Engagement order (§9.2): engageable people first, by role (champion, economic buyer, technical
/// evaluator, unclassified), then highest score, then lead id; then everyone else by the same keys.
fn order_key(m: &CommitteeMember) -> (bool, Role, i32, &str) {
    (!engageable(m), Role::of(&m.persona), -m.score, &m.lead_id)
}

/// Everything the committee of a packet is built from.
#[derive(Clone, Debug, Default)]
pub struct Known {
    pub account_key: String,
    /// Every person route remembers for the account, the packet's lead included.
    pub members: Vec<CommitteeMember>,
    /// People beyond what route remembers per account (counted, not described).
    pub untracked: u32,
    /// The lead the packet is about (always listed).
    pub lead_id: String,
    pub owner: Option<Assignee>,
    /// (packet id, idempotency key) of the card this packet updates (§9.3).
    pub card: Option<(String, String)>,
}

/// The packet's committee section (§9).
pub fn build(known: Known) -> Committee {
    let mut members = known.members;
    for m in &mut members {
        m.role = Role::of(&m.persona).as_str().to_owned();
    }
    members.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
    let total = members.len() + known.untracked as usize;
    let summary = if total > MAX_LISTED {
        summarise(&members, known.untracked)
    } else {
        Vec::new()
    };
    let engagement_order: Vec<String> = members
        .iter()
        .filter(|m| engageable(m))
        .take(MAX_LISTED)
        .map(|m| m.lead_id.clone())
        .collect();
    let strategy = strategy(&members);
    let listed = bounded(members, &known.lead_id);
    let (updates_card, card_key) = known.card.unzip();
    Committee {
        account_key: known.account_key,
        owner: known.owner,
        total: i32::try_from(total).unwrap_or(i32::MAX),
        members: listed,
        summary,
        engagement_order,
        strategy,
        updates_card,
        card_key,
    }
}

/// The first [`MAX_LISTED`] people in order; the packet's own lead replaces the last one when it
/// is further down (§9.4).
fn bounded(mut members: Vec<CommitteeMember>, lead_id: &str) -> Vec<CommitteeMember> {
    if members.len() <= MAX_LISTED {
        return members;
    }
    let own = members
        .iter()
        .position(|m| m.lead_id == lead_id)
        .filter(|i| *i >= MAX_LISTED)
        .map(|i| members.swap_remove(i));
    members.truncate(MAX_LISTED);
    if let Some(own) = own {
        members.pop();
        members.push(own);
    }
    members
}

/// Counts per persona and per status over every known person; the untracked as status
/// `UNTRACKED` (§9.4).
fn summarise(members: &[CommitteeMember], untracked: u32) -> Vec<CommitteeCount> {
    let mut personas: BTreeMap<&str, i32> = BTreeMap::new();
    let mut statuses: BTreeMap<&str, i32> = BTreeMap::new();
    for m in members {
        *personas.entry(m.persona.as_str()).or_default() += 1;
        *statuses.entry(m.status.as_str()).or_default() += 1;
    }
    if untracked > 0 {
        statuses.insert("UNTRACKED", i32::try_from(untracked).unwrap_or(i32::MAX));
    }
    let count = |dimension: &str, (value, count): (&&str, &i32)| CommitteeCount {
        dimension: dimension.to_owned(),
        value: (*value).to_owned(),
        count: *count,
    };
    personas
        .iter()
        .map(|e| count("persona", e))
        .chain(statuses.iter().map(|e| count("status", e)))
        .collect()
}

/// How a person is named in the strategy line: name, else title, else lead id.
pub fn display(m: &CommitteeMember) -> String {
    match (&m.name, &m.title) {
        (Some(n), Some(t)) => format!("{n} ({t})"),
        (Some(n), None) => n.clone(),
        (None, Some(t)) => format!("their {t}"),
        (None, None) => format!("lead {}", m.lead_id),
    }
}

/// The one-line strategy (§9.2): the first engageable person of each role present, in order.
/// `members` are already in engagement order.
pub fn strategy(members: &[CommitteeMember]) -> String {
    let mut firsts: Vec<(Role, &CommitteeMember)> = Vec::new();
    for m in members.iter().filter(|m| engageable(m)) {
        let role = Role::of(&m.persona);
        if !firsts.iter().any(|(r, _)| *r == role) {
            firsts.push((role, m));
        }
    }
    let Some(((first_role, first), rest)) = firsts.split_first() else {
        return "Nobody to engage: every known person is a competitor, a researcher or closed."
            .into();
    };
    let mut line = format!("Start with {}, {}", first_role.words(), display(first));
    for (i, (role, m)) in rest.iter().enumerate() {
        let then = if i == 0 { "then involve" } else { "then" };
        line.push_str(&format!(", {then} {}, {}", role.words(), display(m)));
    }
    line.push('.');
    if *first_role != Role::Champion {
        line.push_str(" No champion known yet: look for a manager who owns the problem.");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, persona: &str, score: i32, status: &str) -> CommitteeMember {
        CommitteeMember {
            lead_id: id.into(),
            name: Some(format!("Name {id}")),
            title: None,
            persona: persona.into(),
            role: String::new(),
            score,
            tier: "WARM".into(),
            status: status.into(),
            owner_rep_id: None,
        }
    }

    /// People as (lead id, persona, score, status).
    type People = &'static [(&'static str, &'static str, i32, &'static str)];

    fn known(members: Vec<CommitteeMember>) -> Known {
        Known {
            account_key: "acme.com".into(),
            lead_id: members
                .first()
                .map(|m| m.lead_id.clone())
                .unwrap_or_default(),
            members,
            ..Known::default()
        }
    }

    #[test]
    fn personas_map_to_roles() {
        let cases = [
            ("P2", Role::Champion, "champion"),
            ("P1", Role::EconomicBuyer, "economic_buyer"),
            ("P3", Role::TechnicalEvaluator, "technical_evaluator"),
            ("UNKNOWN", Role::Unclassified, "unclassified"),
            ("", Role::Unclassified, "unclassified"),
            ("N1", Role::Competitor, "competitor"),
            ("N2", Role::Researcher, "researcher"),
        ];
        for (persona, role, name) in cases {
            assert_eq!(Role::of(persona), role, "{persona}");
            assert_eq!(role.as_str(), name);
        }
    }

    /// (people as id:persona:score:status, expected engagement order, expected listing order)
    #[test]
    fn engagement_order_table() {
        let cases: [(People, &[&str], &[&str]); 7] = [
            // champion → economic buyer → technical evaluator, whatever the arrival order
            (
                &[
                    ("e", "P3", 90, "HANDED_OFF"),
                    ("b", "P1", 50, "NURTURE"),
                    ("c", "P2", 10, "DECIDED"),
                ],
                &["c", "b", "e"],
                &["c", "b", "e"],
            ),
            // same role: higher score first, then lead id
            (
                &[
                    ("x", "P2", 40, "NURTURE"),
                    ("a", "P2", 40, "NURTURE"),
                    ("y", "P2", 80, "NURTURE"),
                ],
                &["y", "a", "x"],
                &["y", "a", "x"],
            ),
            // unclassified after the three roles
            (
                &[
                    ("u", "UNKNOWN", 99, "HANDED_OFF"),
                    ("t", "P3", 1, "NURTURE"),
                ],
                &["t", "u"],
                &["t", "u"],
            ),
            // competitors and researchers are listed last, never engaged
            (
                &[
                    ("n1", "N1", 95, "HANDED_OFF"),
                    ("n2", "N2", 90, "NURTURE"),
                    ("p", "P1", 20, "NURTURE"),
                ],
                &["p"],
                &["p", "n1", "n2"],
            ),
            // closed people (disqualified, rejected) are listed after the engageable ones
            (
                &[
                    ("d", "P2", 99, "DISQUALIFIED"),
                    ("r", "P1", 90, "REJECTED"),
                    ("q", "P3", 5, "CONTACTED"),
                ],
                &["q"],
                &["q", "d", "r"],
            ),
            // nobody to engage
            (&[("n", "N1", 50, "HANDED_OFF")], &[], &["n"]),
            // one person
            (&[("s", "P1", 70, "HANDED_OFF")], &["s"], &["s"]),
        ];
        for (people, order, listing) in cases {
            let members = people
                .iter()
                .map(|(id, p, s, st)| m(id, p, *s, st))
                .collect();
            let c = build(known(members));
            assert_eq!(c.engagement_order, *order, "{people:?}");
            let listed: Vec<&str> = c.members.iter().map(|m| m.lead_id.as_str()).collect();
            assert_eq!(listed, *listing, "{people:?}");
            assert_eq!(c.total as usize, people.len());
            assert!(c.summary.is_empty(), "no summary up to 50 people");
        }
    }

    #[test]
    fn strategy_table() {
        let cases: [(People, &str); 5] = [
            (
                &[
                    ("c", "P2", 10, "NURTURE"),
                    ("b", "P1", 50, "NURTURE"),
                    ("e", "P3", 90, "NURTURE"),
                ],
                "Start with the champion, Name c, then involve the economic buyer, Name b, then the technical evaluator, Name e.",
            ),
            (
                &[
                    ("b", "P1", 50, "NURTURE"),
                    ("c2", "P2", 60, "NURTURE"),
                    ("c1", "P2", 70, "NURTURE"),
                ],
                "Start with the champion, Name c1, then involve the economic buyer, Name b.",
            ),
            (
                &[("b", "P1", 50, "NURTURE"), ("e", "P3", 90, "NURTURE")],
                "Start with the economic buyer, Name b, then involve the technical evaluator, Name e. No champion known yet: look for a manager who owns the problem.",
            ),
            (
                &[("d", "P2", 50, "DISQUALIFIED"), ("e", "P3", 90, "NURTURE")],
                "Start with the technical evaluator, Name e. No champion known yet: look for a manager who owns the problem.",
            ),
            (
                &[("n", "N2", 50, "NURTURE")],
                "Nobody to engage: every known person is a competitor, a researcher or closed.",
            ),
        ];
        for (people, line) in cases {
            let members = people
                .iter()
                .map(|(id, p, s, st)| m(id, p, *s, st))
                .collect();
            assert_eq!(build(known(members)).strategy, line, "{people:?}");
        }
    }

    #[test]
    fn display_falls_back_to_title_then_id() {
        let mut p = m("l9", "P1", 1, "NURTURE");
        p.title = Some("CFO".into());
        assert_eq!(display(&p), "Name l9 (CFO)");
        p.name = None;
        assert_eq!(display(&p), "their CFO");
        p.title = None;
        assert_eq!(display(&p), "lead l9");
    }

    /// A committee of 120 known people (+ 30 route no longer describes) lists 50, keeps the packet's
    /// own lead listed even when it comes last in the order, and counts everyone per persona and
    /// per status.
    #[test]
    fn a_large_committee_is_summarised_and_bounded() {
        let personas = ["P1", "P2", "P3", "UNKNOWN"];
        let mut members: Vec<_> = (0..119)
            .map(|i| m(&format!("l{i:03}"), personas[i % 4], 50, "NURTURE"))
            .collect();
        members.push(m("own", "N2", 1, "HANDED_OFF"));
        let c = build(Known {
            account_key: "big.com".into(),
            members,
            untracked: 30,
            lead_id: "own".into(),
            ..Known::default()
        });
        assert_eq!(c.total, 150);
        assert_eq!(c.members.len(), MAX_LISTED);
        assert_eq!(c.engagement_order.len(), MAX_LISTED);
        assert_eq!(c.members.last().map(|m| m.lead_id.as_str()), Some("own"));
        assert!(
            c.members[..49]
                .iter()
                .all(|m| m.role == "champion" || m.role == "economic_buyer")
        );
        let count = |d: &str, v: &str| {
            c.summary
                .iter()
                .find(|x| x.dimension == d && x.value == v)
                .map(|x| x.count)
        };
        assert_eq!(count("persona", "P1"), Some(30));
        assert_eq!(count("persona", "P2"), Some(30));
        assert_eq!(count("persona", "UNKNOWN"), Some(29));
        assert_eq!(count("persona", "N2"), Some(1));
        assert_eq!(count("status", "NURTURE"), Some(119));
        assert_eq!(count("status", "HANDED_OFF"), Some(1));
        assert_eq!(count("status", "UNTRACKED"), Some(30));
    }

    #[test]
    fn the_card_and_owner_pass_through() {
        let mut k = known(vec![m("a", "P2", 1, "HANDED_OFF")]);
        k.card = Some(("pkt-1".into(), "a|e|WARM|SCORE_BAND|0".into()));
        let c = build(k);
        assert_eq!(c.updates_card.as_deref(), Some("pkt-1"));
        assert_eq!(c.card_key.as_deref(), Some("a|e|WARM|SCORE_BAND|0"));
        assert_eq!(c.account_key, "acme.com");
    }
}
