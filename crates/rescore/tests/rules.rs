#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! Table tests of RULES.md: the merge (M1, M2), versions (M4), which decisions re-enter at once
//! (I1–I5, H1), the schedule (S1–S4) and the re-entry (E1–E3). Scores come from the real default
//! model; thresholds are set between the scores the model gives, so each row tests one rule.

use leadflow_events::{
    Activity, ActivityKind, EnrichedLead, HandoffKind, LeadEventType, TierDecision, Timestamp,
    samples,
};
use leadflow_rescore::state::{
    RESCORE_ATTRIBUTE, RESCORE_PREVIOUS_SCORE_ATTRIBUTE, STATE_HANDOFF, STATE_TIER, STATE_VERSION,
    merge, scheduled,
};
use leadflow_rescore::{Book, Entry, RescoreSettings, Why};
use leadflow_score::{Model, assess, score};

const T: i64 = 1_765_000_000_000;
const HOUR: i64 = 3_600_000;

fn model() -> Model {
    Model::embedded("lead-priority").unwrap()
}

fn act(kind: ActivityKind, at: i64, detail: &str) -> Activity {
    Activity {
        kind,
        occurred_at: Timestamp(at),
        detail: Some(detail.into()),
    }
}

/// A form lead with a good profile, no chat, the given activities, at `at`.
fn lead(event_id: &str, at: i64, activities: Vec<Activity>) -> EnrichedLead {
    let mut e = samples::enriched_lead();
    e.lead.event_id = event_id.into();
    e.lead.chat = None;
    e.lead.session = None;
    e.lead.event_type = LeadEventType::FormSubmission;
    e.lead.occurred_at = Timestamp(at);
    e.lead.activities = activities;
    e
}

fn decision(e: EnrichedLead, handoff: HandoffKind, tier: &str, model: &Model) -> TierDecision {
    let mut d = samples::tier_decision();
    d.decided_at = e.lead.occurred_at;
    d.scored = score(&e, model);
    d.handoff = handoff;
    d.tier = tier.into();
    d
}

fn first() -> EnrichedLead {
    lead(
        "evt-1",
        T,
        vec![
            act(ActivityKind::PricingPageView, T - HOUR, "/pricing"),
            act(ActivityKind::ContentDownload, T - 2 * HOUR, "guide"),
        ],
    )
}

fn update(kind: LeadEventType, activities: Vec<Activity>) -> EnrichedLead {
    let mut e = lead("evt-2", T + HOUR, activities);
    e.lead.event_type = kind;
    e.is_update = true;
    e
}

fn intent_update() -> EnrichedLead {
    update(
        LeadEventType::ContentDownload,
        vec![act(
            ActivityKind::WebinarAttended,
            T + HOUR - 60_000,
            "webinar",
        )],
    )
}

#[test]
fn merge_keeps_the_newest_non_empty_fields_and_unions_activities() {
    let mut prev = first();
    prev.lead
        .attributes
        .insert("utm_source".into(), "ads".into());
    prev.lead
        .attributes
        .insert(STATE_VERSION.into(), "3".into());
    let mut next = update(
        LeadEventType::ContentDownload,
        vec![
            // a duplicate of the first event's (same kind, time, detail)
            act(ActivityKind::PricingPageView, T - HOUR, "/pricing"),
            act(ActivityKind::EmailClick, T + 10, "mail"),
        ],
    );
    next.lead.contact.phone = None;
    next.lead.contact.title = Some("  ".into());
    next.lead.contact.first_name = Some("Augusta".into());
    next.lead.company.employee_count = None;
    next.lead
        .attributes
        .insert("utm_source".into(), "newsletter".into());
    next.lead
        .attributes
        .insert(RESCORE_ATTRIBUTE.into(), "intent".into());
    next.firmographics = None;
    let m = merge(&prev, &next, 200);
    assert_eq!(
        m.lead.event_id, "evt-2",
        "M1: the newest event's own fields"
    );
    assert_eq!(m.lead.contact.first_name.as_deref(), Some("Augusta"));
    assert_eq!(
        m.lead.contact.phone, prev.lead.contact.phone,
        "M1: empty keeps the older"
    );
    assert_eq!(
        m.lead.contact.title, prev.lead.contact.title,
        "M1: blank keeps the older"
    );
    assert_eq!(m.lead.company.employee_count, Some(420));
    assert_eq!(m.firmographics, prev.firmographics);
    assert_eq!(
        m.lead.attributes.get("utm_source").map(String::as_str),
        Some("newsletter")
    );
    assert!(
        !m.lead.attributes.contains_key(STATE_VERSION),
        "state attributes removed"
    );
    assert!(
        !m.lead.attributes.contains_key(RESCORE_ATTRIBUTE),
        "re-score attributes removed"
    );
    let kinds: Vec<ActivityKind> = m.lead.activities.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [
            ActivityKind::ContentDownload,
            ActivityKind::PricingPageView,
            ActivityKind::EmailClick
        ],
        "M2: unioned once each, by time"
    );
    // M2: the newest 200
    let many: Vec<Activity> = (0..250)
        .map(|i| act(ActivityKind::PageView, T + i, "p"))
        .collect();
    let m = merge(&prev, &update(LeadEventType::Other, many), 200);
    assert_eq!(m.lead.activities.len(), 200);
    assert_eq!(m.lead.activities[0].occurred_at, Timestamp(T + 50));
    assert_eq!(m.lead.activities[199].occurred_at, Timestamp(T + 249));
}

/// The scores the real model gives the update alone and the merged lead, at the update's time.
fn scores(model: &Model) -> (i32, i32, f64) {
    let alone = score(&intent_update(), model);
    let merged = merge(&first(), &intent_update(), 200);
    let a = assess(&merged, model, 0);
    (alone.score, a.score, a.confidence)
}

#[test]
fn which_decisions_re_enter_at_once() {
    let model = model();
    let (alone, merged, _) = scores(&model);
    assert!(
        merged > alone,
        "the merged lead has more intent: {merged} vs {alone}"
    );
    let between = RescoreSettings {
        human_min_score: merged,
        min_confidence: 0.0,
        ..RescoreSettings::default()
    };
    let above = RescoreSettings {
        human_min_score: merged + 1,
        ..between.clone()
    };
    let confident = RescoreSettings {
        min_confidence: 1.0,
        ..between.clone()
    };
    let nurture = |e: EnrichedLead| decision(e, HandoffKind::None, "NURTURE", &model);
    let reentered = {
        let mut e = intent_update();
        e.lead
            .attributes
            .insert(RESCORE_ATTRIBUTE.into(), "intent".into());
        e
    };
    type Row = (
        &'static str,
        Option<HandoffKind>, // the first decision's handoff, None: unknown lead
        TierDecision,
        RescoreSettings,
        &'static str,
    );
    let rows: Vec<Row> = vec![
        (
            "I1-I5 all hold",
            Some(HandoffKind::None),
            nurture(intent_update()),
            between.clone(),
            "reentered",
        ),
        (
            "H1 merged below the band",
            Some(HandoffKind::None),
            nurture(intent_update()),
            above.clone(),
            "stored",
        ),
        (
            "H1 confidence below the gate",
            Some(HandoffKind::None),
            nurture(intent_update()),
            confident.clone(),
            "stored",
        ),
        (
            "I1 unknown lead",
            None,
            nurture(intent_update()),
            between.clone(),
            "stored",
        ),
        (
            "I1 lead already with a human",
            Some(HandoffKind::Capture),
            nurture(intent_update()),
            between.clone(),
            "stored",
        ),
        (
            "I2 the event alone is handed off",
            Some(HandoffKind::None),
            decision(intent_update(), HandoffKind::Capture, "WARM", &model),
            between.clone(),
            "handed_off",
        ),
        (
            "I3 a re-entry is never re-entered",
            Some(HandoffKind::None),
            nurture(reentered),
            between.clone(),
            "stored",
        ),
        (
            "I4 no intent (CRM update, no activity)",
            Some(HandoffKind::None),
            nurture(update(LeadEventType::CrmUpdate, vec![])),
            RescoreSettings {
                human_min_score: 1,
                ..between.clone()
            },
            "stored",
        ),
    ];
    for (name, first_handoff, d, settings, want) in rows {
        let mut book = Book::default();
        if let Some(h) = first_handoff {
            book.decision(&decision(first(), h, "NURTURE", &model), &model, &settings);
        }
        let applied = book.decision(&d, &model, &settings);
        assert_eq!(applied.outcome, want, "{name}");
        assert_eq!(applied.reentry.is_some(), want == "reentered", "{name}");
        // every decision writes its state
        let attributes = &applied.state.enriched.lead.attributes;
        assert_eq!(attributes.get(STATE_TIER), Some(&d.tier), "{name}");
        let version = if first_handoff.is_some() { "2" } else { "1" };
        assert_eq!(
            attributes.get(STATE_VERSION).map(String::as_str),
            Some(version),
            "{name}"
        );
        let held = matches!(book.get("lead-0001"), Some(Entry::Nurtured(_)));
        assert_eq!(held, d.handoff == HandoffKind::None, "{name}: M3");
    }
}

#[test]
fn the_intent_re_entry_carries_the_merged_lead_and_why() {
    let model = model();
    let (alone, merged, _) = scores(&model);
    let settings = RescoreSettings {
        human_min_score: merged,
        min_confidence: 0.0,
        ..RescoreSettings::default()
    };
    let mut book = Book::default();
    book.decision(
        &decision(first(), HandoffKind::None, "NURTURE", &model),
        &model,
        &settings,
    );
    let d = decision(intent_update(), HandoffKind::None, "NURTURE", &model);
    let r = book.decision(&d, &model, &settings).reentry.unwrap();
    assert_eq!(r.why, Why::Intent);
    assert_eq!((r.score, r.previous_score), (merged, alone));
    let e = &r.lead;
    assert_eq!(e.lead.event_id, "evt-2~rescore-intent", "E2");
    assert_eq!(e.previous_event_id.as_deref(), Some("evt-2"));
    assert!(e.is_update);
    assert_eq!(
        e.lead.occurred_at,
        Timestamp(T + HOUR),
        "E1: the new event's time"
    );
    assert_eq!(e.lead.activities.len(), 3, "the merged activities");
    let attributes = &e.lead.attributes;
    assert_eq!(
        attributes.get(RESCORE_ATTRIBUTE).map(String::as_str),
        Some("intent")
    );
    assert_eq!(
        attributes.get(RESCORE_PREVIOUS_SCORE_ATTRIBUTE),
        Some(&alone.to_string()),
        "E3"
    );
    assert!(!attributes.contains_key(STATE_VERSION));
    // the score stage gives the re-entry the score the stage predicted
    assert_eq!(score(e, &model).score, merged);
}

#[test]
fn the_schedule_re_scores_due_nurtured_leads_of_owned_accounts() {
    let model = model();
    let week = RescoreSettings::default().interval_ms();
    let held = |book: &mut Book, id: &str, account: &str, tier: &str, at: i64| {
        let mut e = first();
        e.lead.lead_id = id.into();
        e.account_key = account.into();
        e.lead.occurred_at = Timestamp(at);
        let s = RescoreSettings::default();
        book.decision(&decision(e, HandoffKind::None, tier, &model), &model, &s);
    };
    let mut book = Book::default();
    held(&mut book, "old", "a.io", "NURTURE", T);
    held(&mut book, "older", "a.io", "COLD", T - HOUR);
    held(&mut book, "fresh", "a.io", "NURTURE", T + 2 * HOUR);
    held(&mut book, "warm-tier", "a.io", "WARM", T);
    held(&mut book, "other-account", "b.io", "NURTURE", T);
    let mut human = first();
    human.lead.lead_id = "human".into();
    book.decision(
        &decision(human, HandoffKind::Capture, "WARM", &model),
        &model,
        &RescoreSettings::default(),
    );
    let now = Timestamp(T + week);
    let owns = |k: &str| k == "a.io";
    let ids = |v: Vec<leadflow_rescore::Stored>| -> Vec<String> {
        v.into_iter().map(|s| s.lead.lead.lead_id).collect()
    };
    // S1 a week old, S2 listed tier and owned account, no human; oldest first
    assert_eq!(
        ids(book.due(now, &RescoreSettings::default(), owns)),
        ["older", "old"]
    );
    // S3 at most max_per_round
    let one = RescoreSettings {
        max_per_round: 1,
        ..RescoreSettings::default()
    };
    assert_eq!(ids(book.due(now, &one, owns)), ["older"]);
    // configurable interval
    let daily = RescoreSettings {
        interval_hours: 24,
        ..RescoreSettings::default()
    };
    assert_eq!(
        ids(book.due(Timestamp(T + 24 * HOUR), &daily, owns)),
        ["older", "old"]
    );
    assert_eq!(
        ids(book.due(Timestamp(T + 23 * HOUR), &daily, owns)),
        ["older"],
        "S1: 23 h is not a day"
    );
    // S4 checked: not due for another interval
    book.checked("older", now);
    assert_eq!(
        ids(book.due(now, &RescoreSettings::default(), owns)),
        ["old"]
    );
    assert!(
        book.due(
            Timestamp(now.0 + week - 1),
            &RescoreSettings::default(),
            |k| k == "a.io"
        )
        .iter()
        .all(|s| s.lead.lead.lead_id != "older")
    );

    // H1 decides: the live model at `now` (a week of decay) against the band
    let stored = book.due(now, &RescoreSettings::default(), owns).remove(0);
    let mut probe = stored.lead.clone();
    probe.lead.occurred_at = now;
    let at_now = assess(&probe, &model, 0).score;
    let reach = RescoreSettings {
        human_min_score: at_now,
        min_confidence: 0.0,
        ..RescoreSettings::default()
    };
    let miss = RescoreSettings {
        human_min_score: at_now + 1,
        ..reach.clone()
    };
    let r = scheduled(&stored, now, &model, &reach).unwrap();
    assert_eq!(r.why, Why::Scheduled);
    assert_eq!(
        r.lead.lead.event_id,
        format!("evt-1~rescore-scheduled-{}", now.0)
    );
    assert_eq!(
        r.lead.lead.occurred_at, now,
        "E1: decay up to the round's time"
    );
    assert_eq!(
        r.lead
            .lead
            .attributes
            .get(RESCORE_ATTRIBUTE)
            .map(String::as_str),
        Some("scheduled")
    );
    assert!(scheduled(&stored, now, &model, &miss).is_none());
}

#[test]
fn state_records_apply_only_when_newer() {
    let model = model();
    let settings = RescoreSettings::default();
    let mut writer = Book::default();
    let s1 = writer
        .decision(
            &decision(first(), HandoffKind::None, "NURTURE", &model),
            &model,
            &settings,
        )
        .state;
    let s2 = writer
        .decision(
            &decision(intent_update(), HandoffKind::Capture, "WARM", &model),
            &model,
            &settings,
        )
        .state;
    assert_eq!(
        s2.enriched
            .lead
            .attributes
            .get(STATE_HANDOFF)
            .map(String::as_str),
        Some("CAPTURE")
    );
    let mut reader = Book::default();
    assert!(reader.side(&s1), "the replay builds the state");
    assert_eq!(reader.nurtured(), 1);
    assert!(!reader.side(&s1), "its own echo changes nothing");
    assert!(reader.side(&s2), "a newer version wins");
    assert_eq!(reader.get("lead-0001"), Some(&Entry::Human { version: 2 }));
    assert_eq!(reader.nurtured(), 0, "M3: a lead with a human is not held");
    assert!(
        !reader.side(&s1),
        "an older version never undoes a newer state"
    );
    // the writer's own echo of its latest state changes nothing either
    assert!(!writer.side(&s2));
    // a state without a version (not written by the stage) is ignored
    let mut bare = s1.clone();
    bare.enriched.lead.attributes.remove(STATE_VERSION);
    assert!(!Book::default().side(&bare));
    reader.forget("lead-0001");
    assert!(reader.is_empty());
}
