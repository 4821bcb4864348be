//! The pure fold from packets, activity, outcomes, scored leads and the SLA deadlines to a
//! [`QualityReport`] (rules Q1–Q9 of `RULES.md` beside this file). No broker types.

use std::collections::{BTreeMap, HashMap, HashSet};

use leadflow_events::{
    HandoffPacket, LeadOutcome, OutcomeStage, RepActivity, RepActivityKind, ScoredLead, Timestamp,
    rejection_reason,
};
use leadflow_recalibrate::accuracy::{self, DecileAccuracy};
use leadflow_sla_watchdog::DeadlineView;
use serde::Serialize;

use crate::sla_report::tally;

/// Q3: acceptance target (at least 80 %).
pub const ACCEPTANCE_TARGET: f64 = 0.80;
/// Q5: MQL → SQL target (above 40 %).
pub const MQL_TO_SQL_TARGET: f64 = 0.40;
/// Q5: SQL → opportunity target (above 60 %).
pub const SQL_TO_OPPORTUNITY_TARGET: f64 = 0.60;
/// Q7: SLA met target (above 90 %).
pub const SLA_TARGET: f64 = 0.90;
/// Q6: upper bounds of the time-to-first-contact buckets, in minutes (then "over 24 h").
pub const CONTACT_BUCKETS_MIN: [i64; 4] = [5, 60, 240, 1_440];
/// Q6: the bucket labels, the last one for handoffs never contacted.
pub const CONTACT_BUCKET_LABELS: [&str; 6] = [
    "≤ 5 min",
    "≤ 1 h",
    "≤ 4 h",
    "≤ 24 h",
    "> 24 h",
    "not contacted",
];

/// What the fold reads.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    pub packets: &'a [HandoffPacket],
    pub activity: &'a [RepActivity],
    pub outcomes: &'a [LeadOutcome],
    pub scored: &'a [ScoredLead],
    /// Deadlines due in the window (the SLA report's fold of `sla.outcomes`).
    pub deadlines: &'a [DeadlineView],
    pub since: Timestamp,
    pub now: Timestamp,
}

/// Answers of a group of handoffs (Q3).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Acceptance {
    pub handoffs: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub unanswered: u64,
    /// accepted / (accepted + rejected).
    pub rate: Option<f64>,
    /// Rate below the 80 % target.
    pub below_target: bool,
}

/// One rejection reason (Q4).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReasonCount {
    pub reason: &'static str,
    pub count: u64,
    pub share: f64,
}

/// The funnel (Q5).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Funnel {
    pub mqls: u64,
    pub sqls: u64,
    pub opportunities: u64,
    pub won: u64,
    pub mql_to_sql: Option<f64>,
    pub sql_to_opportunity: Option<f64>,
}

/// Time to first contact and SLA adherence of one tier (Q6, Q7).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Contact {
    pub handoffs: u64,
    /// Counts per [`CONTACT_BUCKET_LABELS`].
    pub buckets: [u64; 6],
    pub median_minutes: Option<i64>,
    pub p90_minutes: Option<i64>,
    pub sla_met: u64,
    pub sla_breached: u64,
    pub sla_met_rate: Option<f64>,
}

/// Scoring accuracy (Q8, Q9).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Accuracy {
    pub scored_leads: u64,
    pub labelled: u64,
    pub deciles: Vec<DecileAccuracy>,
    pub max_gap: Option<f64>,
    /// Every judged decile within 15 %; `None`: no decile judged.
    pub within: Option<bool>,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QualityReport {
    pub since: String,
    pub now: String,
    pub acceptance: Acceptance,
    pub acceptance_by_tier: BTreeMap<String, Acceptance>,
    pub acceptance_by_source: BTreeMap<String, Acceptance>,
    pub acceptance_by_rep: BTreeMap<String, Acceptance>,
    pub rejection_reasons: Vec<ReasonCount>,
    pub funnel: Funnel,
    pub contact_by_tier: BTreeMap<String, Contact>,
    pub accuracy: Accuracy,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Answer {
    Accepted,
    Rejected(&'static str),
}

/// One handoff as the fold tracks it.
struct Handoff<'a> {
    packet: &'a HandoffPacket,
    /// (event time, answer) of the earliest answer so far (Q2).
    answer: Option<(Timestamp, Answer)>,
    /// Earliest contact (Q6).
    contacted: Option<Timestamp>,
}

fn is_handoff(p: &HandoffPacket, since: Timestamp, now: Timestamp) -> bool {
    p.assignee.is_some() && p.withdraws.is_none() && p.created_at >= since && p.created_at <= now
}

/// Q2: the handoff of `lead` holding it at `at` (latest created at or before it).
fn holding(
    by_lead: &HashMap<&str, Vec<usize>>,
    hs: &[Handoff],
    lead: &str,
    at: Timestamp,
) -> Option<usize> {
    by_lead
        .get(lead)?
        .iter()
        .copied()
        .filter(|i| hs[*i].packet.created_at <= at)
        .max_by_key(|i| (hs[*i].packet.created_at, *i))
}

fn answer_of_activity(a: &RepActivity) -> Option<Answer> {
    match a.kind {
        RepActivityKind::Accepted
        | RepActivityKind::Contacted
        | RepActivityKind::Qualified
        | RepActivityKind::Disqualified => Some(Answer::Accepted),
        RepActivityKind::Rejected => Some(Answer::Rejected(rejection_reason(a.reason.as_deref()))),
        RepActivityKind::Reassigned | RepActivityKind::Enrolled | RepActivityKind::Other => None,
    }
}

fn answer(h: &mut Handoff, at: Timestamp, a: Answer) {
    if at >= h.packet.created_at && h.answer.is_none_or(|(t, _)| at < t) {
        h.answer = Some((at, a));
    }
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Nearest-rank percentile of sorted values (Q6).
fn nearest_rank(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

impl Acceptance {
    fn add(&mut self, a: Option<Answer>) {
        self.handoffs += 1;
        match a {
            Some(Answer::Accepted) => self.accepted += 1,
            Some(Answer::Rejected(_)) => self.rejected += 1,
            None => self.unanswered += 1,
        }
        self.rate = ratio(self.accepted, self.accepted + self.rejected);
        self.below_target = self.rate.is_some_and(|r| r < ACCEPTANCE_TARGET);
    }
}

/// Folds the inputs into the report.
pub fn fold(inp: &Inputs) -> QualityReport {
    let mut hs = Handoffs::of(inp);
    hs.answer_by_activity(inp.activity);
    // Q2: the outcome feed's ACCEPTED / REJECTED answer the holding handoff
    let mut seen_outcomes = HashSet::new();
    let outcomes: Vec<&LeadOutcome> = inp
        .outcomes
        .iter()
        .filter(|o| seen_outcomes.insert(o.outcome_id.as_str()))
        .collect();
    hs.answer_by_outcomes(&outcomes);
    let answers = acceptance_of(&hs.list);
    QualityReport {
        since: inp.since.to_string(),
        now: inp.now.to_string(),
        acceptance: answers.overall,
        acceptance_by_tier: answers.tiers,
        acceptance_by_source: answers.sources,
        acceptance_by_rep: answers.reps,
        rejection_reasons: answers.reasons,
        funnel: funnel_of(&hs.list, &outcomes, inp.activity),
        contact_by_tier: contact_by_tier(&hs.list, inp),
        accuracy: accuracy_of(inp, &outcomes),
    }
}

/// The handoffs of the window (Q1) with the indexes the answers are matched by (Q2).
struct Handoffs<'a> {
    list: Vec<Handoff<'a>>,
    by_lead: HashMap<&'a str, Vec<usize>>,
    by_packet: HashMap<&'a str, usize>,
}

impl<'a> Handoffs<'a> {
    /// Q1: the handoffs, once per packet id.
    fn of(inp: &Inputs<'a>) -> Self {
        let mut hs = Self {
            list: Vec::new(),
            by_lead: HashMap::new(),
            by_packet: HashMap::new(),
        };
        let mut seen = HashSet::new();
        for p in inp
            .packets
            .iter()
            .filter(|p| is_handoff(p, inp.since, inp.now))
        {
            if !seen.insert(p.packet_id.as_str()) {
                continue;
            }
            hs.by_lead
                .entry(p.lead_id())
                .or_default()
                .push(hs.list.len());
            hs.by_packet.insert(&p.packet_id, hs.list.len());
            hs.list.push(Handoff {
                packet: p,
                answer: None,
                contacted: None,
            });
        }
        hs
    }

    /// Q2 and Q6: activities answer the packet they name, else the one holding the lead.
    fn answer_by_activity(&mut self, activity: &[RepActivity]) {
        let mut seen_ids = HashSet::new();
        for a in activity {
            if !seen_ids.insert(a.activity_id.as_str()) {
                continue;
            }
            // Q2: a named packet that is no handoff of the window (an earlier one, a withdrawal
            // notice, an unknown id) takes the activity with it
            let i = match a.packet_id.as_deref() {
                Some(p) => self.by_packet.get(p).copied(),
                None => holding(&self.by_lead, &self.list, &a.lead_id, a.occurred_at),
            };
            let Some(i) = i else {
                continue;
            };
            let h = &mut self.list[i];
            if let Some(ans) = answer_of_activity(a) {
                answer(h, a.occurred_at, ans);
            }
            let contact = matches!(
                a.kind,
                RepActivityKind::Contacted
                    | RepActivityKind::Qualified
                    | RepActivityKind::Disqualified
            );
            if contact
                && a.occurred_at >= h.packet.created_at
                && h.contacted.is_none_or(|t| a.occurred_at < t)
            {
                h.contacted = Some(a.occurred_at);
            }
        }
    }

    /// Q2: an ACCEPTED or REJECTED outcome answers the handoff holding the lead.
    fn answer_by_outcomes(&mut self, outcomes: &[&LeadOutcome]) {
        for o in outcomes {
            let ans = match o.stage {
                OutcomeStage::Accepted => Answer::Accepted,
                OutcomeStage::Rejected => Answer::Rejected(rejection_reason(o.reason.as_deref())),
                _ => continue,
            };
            if let Some(i) = holding(&self.by_lead, &self.list, &o.lead_id, o.occurred_at) {
                answer(&mut self.list[i], o.occurred_at, ans);
            }
        }
    }
}

/// Q3 and Q4: acceptance overall, per tier, source and rep, and the rejection reasons ranked.
struct Answers {
    overall: Acceptance,
    tiers: BTreeMap<String, Acceptance>,
    sources: BTreeMap<String, Acceptance>,
    reps: BTreeMap<String, Acceptance>,
    reasons: Vec<ReasonCount>,
}

fn acceptance_of(hs: &[Handoff]) -> Answers {
    let mut overall = Acceptance::default();
    let (mut tiers, mut sources, mut reps) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut reasons: BTreeMap<&'static str, u64> = BTreeMap::new();
    for h in hs {
        let a = h.answer.map(|(_, a)| a);
        let p = h.packet;
        overall.add(a);
        tiers
            .entry(p.tier().to_owned())
            .or_insert_with(Acceptance::default)
            .add(a);
        sources
            .entry(p.decision.scored.enriched.lead.source_system.clone())
            .or_insert_with(Acceptance::default)
            .add(a);
        let rep = p.assignee.as_ref().map_or("-", |r| r.rep_id.as_str());
        reps.entry(rep.to_owned())
            .or_insert_with(Acceptance::default)
            .add(a);
        if let Some(Answer::Rejected(reason)) = a {
            *reasons.entry(reason).or_default() += 1;
        }
    }
    let mut ranked: Vec<ReasonCount> = reasons
        .into_iter()
        .map(|(reason, count)| ReasonCount {
            reason,
            count,
            share: count as f64 / overall.rejected.max(1) as f64,
        })
        .collect();
    ranked.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(b.reason)));
    Answers {
        overall,
        tiers,
        sources,
        reps,
        reasons: ranked,
    }
}

/// Q5: per lead, from its first handoff.
fn funnel_of(hs: &[Handoff], outcomes: &[&LeadOutcome], activity: &[RepActivity]) -> Funnel {
    let mut first_handoff: HashMap<&str, Timestamp> = HashMap::new();
    for h in hs {
        let t = first_handoff
            .entry(h.packet.lead_id())
            .or_insert(h.packet.created_at);
        *t = (*t).min(h.packet.created_at);
    }
    let mut sql: HashSet<&str> = HashSet::new();
    let mut opp: HashSet<&str> = HashSet::new();
    let mut won: HashSet<&str> = HashSet::new();
    for o in outcomes {
        let Some(first) = first_handoff.get(o.lead_id.as_str()) else {
            continue;
        };
        if o.occurred_at < *first {
            continue;
        }
        let id = o.lead_id.as_str();
        match o.stage {
            OutcomeStage::Sql => {
                sql.insert(id);
            }
            OutcomeStage::Opportunity | OutcomeStage::ClosedLost => {
                sql.insert(id);
                opp.insert(id);
            }
            OutcomeStage::ClosedWon => {
                sql.insert(id);
                opp.insert(id);
                won.insert(id);
            }
            OutcomeStage::Accepted | OutcomeStage::Rejected => {}
        }
    }
    for a in activity
        .iter()
        .filter(|a| a.kind == RepActivityKind::Qualified)
    {
        if first_handoff
            .get(a.lead_id.as_str())
            .is_some_and(|f| a.occurred_at >= *f)
        {
            sql.insert(a.lead_id.as_str());
        }
    }
    let mut funnel = Funnel {
        mqls: first_handoff.len() as u64,
        sqls: sql.len() as u64,
        opportunities: opp.len() as u64,
        won: won.len() as u64,
        ..Funnel::default()
    };
    funnel.mql_to_sql = ratio(funnel.sqls, funnel.mqls);
    funnel.sql_to_opportunity = ratio(funnel.opportunities, funnel.sqls);
    funnel
}

/// Q6 and Q7: time to first contact and SLA adherence per tier.
fn contact_by_tier(hs: &[Handoff], inp: &Inputs) -> BTreeMap<String, Contact> {
    let mut contact: BTreeMap<String, (Contact, Vec<i64>)> = BTreeMap::new();
    for h in hs {
        let (c, minutes) = contact.entry(h.packet.tier().to_owned()).or_default();
        c.handoffs += 1;
        match h.contacted {
            Some(t) => {
                let m = (t.0 - h.packet.created_at.0) / 60_000;
                let b = CONTACT_BUCKETS_MIN
                    .iter()
                    .position(|u| m <= *u)
                    .unwrap_or(4);
                c.buckets[b] += 1;
                minutes.push(m);
            }
            None => c.buckets[5] += 1,
        }
    }
    let (sla_tiers, _) = tally(inp.deadlines, inp.now);
    for (tier, a) in &sla_tiers {
        let (c, _) = contact.entry(tier.clone()).or_default();
        c.sla_met = a.met;
        c.sla_breached = a.breached;
        c.sla_met_rate = a.ratio();
    }
    contact
        .into_iter()
        .map(|(tier, (mut c, mut minutes))| {
            minutes.sort_unstable();
            c.median_minutes = nearest_rank(&minutes, 0.5);
            c.p90_minutes = nearest_rank(&minutes, 0.9);
            (tier, c)
        })
        .collect()
}

/// Q8, Q9: the first score of each lead scored in the window, labelled by its outcomes.
fn accuracy_of(inp: &Inputs, outcomes: &[&LeadOutcome]) -> Accuracy {
    let mut scores: HashMap<&str, (Timestamp, i32)> = HashMap::new();
    for s in inp
        .scored
        .iter()
        .filter(|s| s.scored_at >= inp.since && s.scored_at <= inp.now)
    {
        let e = scores
            .entry(s.enriched.lead.lead_id.as_str())
            .or_insert((s.scored_at, s.score));
        if s.scored_at < e.0 {
            *e = (s.scored_at, s.score);
        }
    }
    let mut labels: HashMap<&str, bool> = HashMap::new();
    for o in outcomes {
        if let Some(y) = leadflow_recalibrate::join::label_of(o.stage) {
            let l = labels.entry(o.lead_id.as_str()).or_insert(y);
            *l |= y; // a converting outcome wins over a rejection
        }
    }
    let mut rows: Vec<(i32, bool)> = scores
        .iter()
        .filter_map(|(lead, (_, score))| labels.get(lead).map(|y| (*score, *y)))
        .collect();
    rows.sort_unstable();
    let deciles = accuracy::by_decile(&rows);
    Accuracy {
        scored_leads: scores.len() as u64,
        labelled: rows.len() as u64,
        max_gap: accuracy::max_gap(&deciles),
        within: accuracy::within(&deciles),
        deciles,
    }
}
