//! The fold on a small hand-made fixture; every figure is worked out by hand in the comments
//! (rule numbers: `RULES.md` beside this file).

use leadflow_events::{
    HandoffPacket, LeadOutcome, OutcomeStage, RepActivity, RepActivityKind, ScoredLead, SlaKind,
    Timestamp, samples,
};
use leadflow_sla_watchdog::{Deadline, DeadlineState, DeadlineView};

use super::fold::{Inputs, fold};
use super::{render, svg};

/// The window's start in the fixture (the broker and browser tests shift every `*_at` by now − T).
pub const T: i64 = 1_796_000_000_000;
const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn packet(
    id: &str,
    lead: &str,
    tier: &str,
    source: &str,
    rep: Option<&str>,
    at: i64,
) -> HandoffPacket {
    let mut p = samples::handoff_packet();
    p.packet_id = id.into();
    p.decision.scored.enriched.lead.lead_id = lead.into();
    p.decision.tier = tier.into();
    p.decision.scored.enriched.lead.source_system = source.into();
    match rep {
        Some(r) => {
            if let Some(a) = p.assignee.as_mut() {
                a.rep_id = r.into();
            }
        }
        None => p.assignee = None,
    }
    p.withdraws = None;
    p.created_at = Timestamp(at);
    p
}

fn act(
    id: &str,
    lead: &str,
    packet: Option<&str>,
    kind: RepActivityKind,
    reason: Option<&str>,
    at: i64,
) -> RepActivity {
    let mut a = samples::rep_activity();
    a.activity_id = id.into();
    a.lead_id = lead.into();
    a.packet_id = packet.map(str::to_owned);
    a.kind = kind;
    a.reason = reason.map(str::to_owned);
    a.occurred_at = Timestamp(at);
    a
}

fn outcome(
    id: &str,
    lead: &str,
    stage: OutcomeStage,
    reason: Option<&str>,
    at: i64,
) -> LeadOutcome {
    let mut o = samples::lead_outcome();
    o.outcome_id = id.into();
    o.lead_id = lead.into();
    o.stage = stage;
    o.reason = reason.map(str::to_owned);
    o.occurred_at = Timestamp(at);
    o
}

fn scored(lead: &str, score: i32, at: i64) -> ScoredLead {
    let mut s = samples::scored_lead();
    s.enriched.lead.lead_id = lead.into();
    s.score = score;
    s.scored_at = Timestamp(at);
    s
}

fn deadline(tier: &str, state: DeadlineState) -> DeadlineView {
    DeadlineView {
        lead_id: "l".into(),
        tier: tier.into(),
        owner: Some("r1".into()),
        escalatable: true,
        deadline: Deadline {
            kind: SlaKind::FirstContact,
            due_at: Timestamp(T + MIN),
            state,
        },
        escalation_level: None,
    }
}

struct Fixture {
    packets: Vec<HandoffPacket>,
    activity: Vec<RepActivity>,
    outcomes: Vec<LeadOutcome>,
    scored: Vec<ScoredLead>,
    deadlines: Vec<DeadlineView>,
}

fn fixture() -> Fixture {
    use OutcomeStage as S;
    use RepActivityKind as K;
    let mut withdrawal = packet("p8", "L7", "HOT", "web", Some("r1"), T);
    withdrawal.withdraws = Some("p7".into());
    let packets = vec![
        packet("p1", "L1", "HOT", "web", Some("r1"), T),
        packet("p1", "L1", "HOT", "web", Some("r1"), T), // read twice: once (Q1)
        packet("p2", "L2", "HOT", "web", Some("r1"), T),
        packet("p3", "L3", "WARM", "chat", Some("r2"), T),
        packet("p4", "L4", "WARM", "chat", Some("r2"), T),
        packet("p5", "L4", "WARM", "chat", Some("r3"), T + 120 * MIN), // L4 reassigned after rejection
        packet("p6", "L5", "WARM", "web", Some("r3"), T),
        packet("p10", "L9", "HOT", "web", Some("r1"), T),
        packet("p7", "L6", "NURTURE_24H", "web", None, T), // no assignee: not a handoff (Q1)
        withdrawal, // a withdrawal notice: not a handoff (Q1)
        packet("p9", "L8", "HOT", "web", Some("r1"), T - DAY), // before the window (Q1)
    ];
    let activity = vec![
        act("a1", "L1", Some("p1"), K::Accepted, None, T + 2 * MIN),
        act("a1", "L1", Some("p1"), K::Accepted, None, T + 2 * MIN), // read twice
        act("a2", "L1", None, K::Contacted, None, T + 4 * MIN), // holds p1: contact after 4 min
        act(
            "a3",
            "L2",
            Some("p2"),
            K::Rejected,
            Some("bad data"),
            T + 10 * MIN,
        ),
        act("a4", "L3", None, K::Contacted, None, T + 90 * MIN), // answers p3 (accepted) and contacts it
        act(
            "a5",
            "L4",
            Some("p4"),
            K::Rejected,
            Some("Not a fit"),
            T + 30 * MIN,
        ),
        act("a6", "L4", Some("p5"), K::Contacted, None, T + 150 * MIN), // p5: 30 min after its creation
        act("a7", "L5", None, K::Reassigned, None, T + 5 * MIN),        // answers nothing (Q2)
        act("a8", "L4", None, K::Qualified, None, T + DAY),             // L4 reaches SQL (Q5)
        // names a packet that is no handoff of the window: answers nothing, also not L9's p10 (Q2)
        act(
            "a9",
            "L9",
            Some("p-old"),
            K::Rejected,
            Some("duplicate"),
            T + 10 * MIN,
        ),
    ];
    let mut outcomes = vec![
        outcome("o1", "L3", S::Sql, None, T + 2 * DAY),
        outcome("o2", "L3", S::Opportunity, None, T + 5 * DAY),
        outcome("o3", "L1", S::ClosedWon, None, T + 8 * DAY),
        // later than p2's REJECTED activity: the first answer stays bad_data (Q2)
        outcome("o4", "L2", S::Rejected, Some("duplicate"), T + DAY),
        outcome("o5", "L5", S::Accepted, None, T + DAY), // the outcome feed answers p6 (Q2)
    ];
    // Q8/Q9: decile 8, ten leads scored 80, 3 converted (SQL), 7 rejected;
    // decile 3, ten leads scored 35, 4 converted, 6 rejected; one lead with ACCEPTED only
    let mut scored_leads = Vec::new();
    for i in 0..10 {
        let (hi, lo) = (format!("acc-hi-{i}"), format!("acc-lo-{i}"));
        scored_leads.push(scored(&hi, 80, T + MIN));
        scored_leads.push(scored(&lo, 35, T + MIN));
        let stage = |converted: bool| if converted { S::Sql } else { S::Rejected };
        outcomes.push(outcome(&format!("oh{i}"), &hi, stage(i < 3), None, T + DAY));
        outcomes.push(outcome(&format!("ol{i}"), &lo, stage(i < 4), None, T + DAY));
    }
    scored_leads.push(scored("acc-lo-0", 95, T + 2 * MIN)); // rescored later: the first score counts
    scored_leads.push(scored("acc-open", 62, T + MIN));
    outcomes.push(outcome("oa", "acc-open", S::Accepted, None, T + DAY)); // no label (Q8)
    scored_leads.push(scored("acc-old", 50, T - DAY)); // before the window
    let deadlines = vec![
        deadline("HOT", DeadlineState::Met { at: Timestamp(T) }),
        deadline("HOT", DeadlineState::Missed),
        deadline("WARM", DeadlineState::Met { at: Timestamp(T) }),
    ];
    Fixture {
        packets,
        activity,
        outcomes,
        scored: scored_leads,
        deadlines,
    }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn the_fixture_figures_checked_by_hand() {
    let f = fixture();
    let r = fold(&Inputs {
        packets: &f.packets,
        activity: &f.activity,
        outcomes: &f.outcomes,
        scored: &f.scored,
        deadlines: &f.deadlines,
        since: Timestamp(T),
        now: Timestamp(T + 10 * DAY),
    });

    // Q1–Q3. Handoffs: p1 p2 p3 p4 p5 p6 p10 = 7. Accepted: p1 (ACCEPTED), p3 (CONTACTED),
    // p5 (CONTACTED), p6 (the outcome feed's ACCEPTED) = 4. Rejected: p2, p4 = 2. Unanswered:
    // p10 = 1. Rate 4 / (4 + 2) = 0.6667, below 80 %.
    let a = &r.acceptance;
    assert_eq!(
        (a.handoffs, a.accepted, a.rejected, a.unanswered),
        (7, 4, 2, 1)
    );
    assert!(close(a.rate, 4.0 / 6.0) && a.below_target);
    // per tier: HOT p1 acc, p2 rej, p10 none: 1 / 2 = 0.5; WARM p3 p5 p6 acc, p4 rej: 3 / 4 = 0.75
    let hot = &r.acceptance_by_tier["HOT"];
    assert_eq!((hot.accepted, hot.rejected, hot.unanswered), (1, 1, 1));
    assert!(close(hot.rate, 0.5));
    let warm = &r.acceptance_by_tier["WARM"];
    assert_eq!((warm.accepted, warm.rejected, warm.unanswered), (3, 1, 0));
    assert!(close(warm.rate, 0.75));
    assert_eq!(
        r.acceptance_by_tier.len(),
        2,
        "no nurture, withdrawal or earlier packet"
    );
    // per source: web p1 p6 acc, p2 rej, p10 none: 2 / 3; chat p3 p5 acc, p4 rej: 2 / 3
    assert!(close(r.acceptance_by_source["web"].rate, 2.0 / 3.0));
    assert_eq!(r.acceptance_by_source["web"].unanswered, 1);
    assert!(close(r.acceptance_by_source["chat"].rate, 2.0 / 3.0));
    // per rep (Q3, rejected then reassigned): r1 p1 acc, p2 rej: 0.5; r2 p3 acc, p4 rej: 0.5;
    // r3 p5 (the reassignment) acc, p6 acc: 1.0, not below target
    assert!(close(r.acceptance_by_rep["r1"].rate, 0.5));
    assert!(close(r.acceptance_by_rep["r2"].rate, 0.5));
    assert!(close(r.acceptance_by_rep["r3"].rate, 1.0));
    assert!(!r.acceptance_by_rep["r3"].below_target);

    // Q4: bad_data 1 (p2's activity; o4's "duplicate" came later), not_a_fit 1 (p4): a tie, by
    // name; each 1 / 2 rejected = 0.5
    let reasons: Vec<(&str, u64)> = r
        .rejection_reasons
        .iter()
        .map(|c| (c.reason, c.count))
        .collect();
    assert_eq!(reasons, [("bad_data", 1), ("not_a_fit", 1)]);
    assert!(close(Some(r.rejection_reasons[0].share), 0.5));

    // Q5: MQLs L1 L2 L3 L4 L5 L9 = 6; SQL: L1 (won), L3 (SQL), L4 (QUALIFIED) = 3;
    // opportunity: L1, L3 = 2; won: L1 = 1. MQL → SQL 3 / 6 = 0.5, SQL → opportunity 2 / 3
    let fu = &r.funnel;
    assert_eq!((fu.mqls, fu.sqls, fu.opportunities, fu.won), (6, 3, 2, 1));
    assert!(close(fu.mql_to_sql, 0.5));
    assert!(close(fu.sql_to_opportunity, 2.0 / 3.0));

    // Q6: HOT p1 contacted after 4 min (≤ 5 min), p2 and p10 never: [1,0,0,0,0,2], median and p90
    // of [4] = 4. WARM p3 after 90 min (≤ 4 h), p5 after 30 min (≤ 1 h), p4 and p6 never:
    // [0,1,1,0,0,2]; sorted [30, 90]: median rank ceil(0.5·2) = 1 → 30, p90 rank ceil(0.9·2) = 2 → 90
    let hc = &r.contact_by_tier["HOT"];
    assert_eq!(hc.buckets, [1, 0, 0, 0, 0, 2]);
    assert_eq!((hc.median_minutes, hc.p90_minutes), (Some(4), Some(4)));
    let wc = &r.contact_by_tier["WARM"];
    assert_eq!(wc.buckets, [0, 1, 1, 0, 0, 2]);
    assert_eq!((wc.median_minutes, wc.p90_minutes), (Some(30), Some(90)));
    // Q7: HOT met 1, missed 1: 1 / 2 = 0.5; WARM met 1: 1.0
    assert_eq!((hc.sla_met, hc.sla_breached), (1, 1));
    assert!(close(hc.sla_met_rate, 0.5));
    assert!(close(wc.sla_met_rate, 1.0));

    // Q8/Q9: scored in the window: 10 hi + 10 lo + acc-open = 21 leads (acc-old is before it);
    // labelled 20 (acc-open has ACCEPTED only). Decile 8: predicted 80 / 100 = 0.80, observed
    // 3 / 10 = 0.30, gap 0.50 > 0.15: off. Decile 3 (acc-lo-0 keeps its first score, 35): predicted
    // 0.35, observed 4 / 10 = 0.40, gap 0.05: within. Largest gap 0.50: not within 15 %.
    let acc = &r.accuracy;
    assert_eq!((acc.scored_leads, acc.labelled), (21, 20));
    let d8 = &acc.deciles[8];
    assert_eq!((d8.labelled, d8.converted), (10, 3));
    assert!(close(d8.predicted, 0.80) && close(d8.observed, 0.30) && close(d8.gap, 0.50));
    assert_eq!(d8.within, Some(false));
    let d3 = &acc.deciles[3];
    assert_eq!((d3.labelled, d3.converted), (10, 4));
    assert!(close(d3.gap, 0.05));
    assert_eq!(d3.within, Some(true));
    assert_eq!(
        acc.deciles[9].labelled, 0,
        "the rescoring at 95 does not count"
    );
    assert!(close(acc.max_gap, 0.50));
    assert_eq!(acc.within, Some(false));

    // the text shows the same figures
    let text = render::text(&r);
    for want in [
        "66.7 !",
        "bad_data",
        "50.0",
        "66.7",
        "OFF by more than 15 %",
        "80.0",
        "30.0",
    ] {
        assert!(text.contains(want), "{want:?} missing in\n{text}");
    }
    // and the JSON
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["acceptance"]["accepted"], 4);
    assert_eq!(json["funnel"]["sqls"], 3);
    assert_eq!(json["accuracy"]["deciles"][8]["within"], false);
    // the charts carry the figures and escape what they print
    let chart = svg::acceptance(
        "acceptance-tier",
        "Acceptance per tier",
        &r.acceptance_by_tier,
    );
    assert!(
        chart.contains(r#"data-label="WARM" data-value="75.0 % of 4""#),
        "{chart}"
    );
    assert!(svg::calibration(&r).contains(r#"data-decile="8" data-labelled="10""#));
}

#[test]
fn an_empty_window_has_no_rates() {
    let r = fold(&Inputs {
        packets: &[],
        activity: &[],
        outcomes: &[],
        scored: &[],
        deadlines: &[],
        since: Timestamp(T),
        now: Timestamp(T + DAY),
    });
    assert_eq!(r.acceptance.rate, None);
    assert!(!r.acceptance.below_target);
    assert_eq!(r.funnel.mql_to_sql, None);
    assert_eq!(r.accuracy.within, None);
    assert!(render::text(&r).contains("not enough data"));
}

#[test]
fn chart_text_is_escaped() {
    let mut rows = std::collections::BTreeMap::new();
    rows.insert(
        "<script>x</script>".to_owned(),
        super::fold::Acceptance::default(),
    );
    let chart = svg::acceptance("acceptance-rep", "t", &rows);
    assert!(!chart.contains("<script>"), "{chart}");
}

/// The fixture as JSON lines per topic (`crates/cli/tests/fixtures/quality/`), for the broker test
/// of the command (`crates/cli/tests/quality.rs`) and the browser test of the console page
/// (`scripts/quality-browser-test.sh`): the same hand-checked figures, on real topics. Set
/// `LEADFLOW_WRITE_QUALITY_FIXTURE=1` to rewrite the files after changing the fixture.
#[test]
fn the_fixture_files_hold_this_fixture() {
    fn lines<T: serde::Serialize>(items: &[T]) -> String {
        items
            .iter()
            .map(|i| serde_json::to_string(i).unwrap() + "\n")
            .collect()
    }
    let f = fixture();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/quality");
    let files = [
        ("packets.jsonl", lines(&f.packets)),
        ("activity.jsonl", lines(&f.activity)),
        ("outcomes.jsonl", lines(&f.outcomes)),
        ("scored.jsonl", lines(&f.scored)),
    ];
    for (name, want) in files {
        let path = dir.join(name);
        if std::env::var_os("LEADFLOW_WRITE_QUALITY_FIXTURE").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &want).unwrap();
        }
        let got = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(got == want, "{} differs from the fixture", path.display());
    }
}
