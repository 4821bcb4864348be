#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! Re-scoring as real processes on the local broker: enrich → score → tier → route → rescore. A
//! nurtured lead (no handoff) gets an update whose activities alone keep it in nurture, but whose
//! merge with what the lead did before lifts it into WARM: rescore sends the merged lead back onto
//! leads.enriched, and route hands it to a rep with the decision's first reason "re-scored (intent)".
//! The update is chosen against the real default model and tier policy first (the same pure code
//! the services run), so the test says which lead and which activities it uses.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use leadflow_e2e::{Service, StageEnv, TestTopics, publish_generated_leads, publish_sample_roster};
use leadflow_events::{
    Activity, ActivityKind, Codec, Event, HandoffKind, HandoffPacket, LeadEvent, LeadEventType,
    ScoredLead, TierDecision, Timestamp,
};
use leadflow_rescore::{Book, RescoreSettings};
use leadflow_score::{Model, score};
use leadflow_testkit::{bootstrap, consume_all, produce_raw_all};
use leadflow_tier::{TierSettings, decide};

const LEADS: usize = 40;

async fn decode_all<T: Event>(bs: &str, topic: &str, codec: &Codec) -> Vec<T> {
    let mut out = Vec::new();
    for r in consume_all(bs, topic, LEADS * 10, Duration::from_secs(3)).await {
        out.push(codec.decode::<T>(&r.payload).await.unwrap());
    }
    out
}

/// The update of `lead` at `now` with `k` activities.
fn update(lead: &LeadEvent, now: Timestamp, k: usize) -> LeadEvent {
    let kinds = [
        ActivityKind::PricingPageView,
        ActivityKind::ContentDownload,
        ActivityKind::WebinarAttended,
        ActivityKind::EmailClick,
    ];
    let mut u = lead.clone();
    u.event_id = format!("intent-{}", lead.event_id);
    u.event_type = LeadEventType::ContentDownload;
    u.occurred_at = now;
    u.chat = None;
    u.activities = (0..k)
        .map(|i| Activity {
            kind: kinds[i % kinds.len()],
            occurred_at: Timestamp(now.0 - 60_000 * (i as i64 + 1)),
            detail: Some(format!("intent {i}")),
        })
        .collect();
    u
}

/// A nurtured lead and an update of it that alone stays in nurture but merged reaches a human band,
/// as the services' own pure code decides it.
fn pick(decisions: &[TierDecision], leads: &[LeadEvent], now: Timestamp) -> Option<LeadEvent> {
    let model = Model::embedded("lead-priority").unwrap();
    let (policy, calendar) = TierSettings::default().build().unwrap();
    let settings = RescoreSettings::default();
    for d in decisions.iter().filter(|d| d.handoff == HandoffKind::None) {
        let Some(lead) = leads
            .iter()
            .find(|l| l.lead_id == d.scored.enriched.lead.lead_id)
        else {
            continue;
        };
        for k in 1..=12 {
            let u = update(lead, now, k);
            let mut alone = d.scored.enriched.clone();
            alone.lead = u.clone();
            alone.is_update = true;
            alone.previous_event_id = Some(lead.event_id.clone());
            let alone = decide(&score(&alone, &model), &policy, &calendar);
            if alone.handoff != HandoffKind::None {
                break;
            }
            let mut book = Book::default();
            book.decision(d, &model, &settings);
            let Some(r) = book.decision(&alone, &model, &settings).reentry else {
                continue;
            };
            let again = decide(&score(&r.lead, &model), &policy, &calendar);
            if again.handoff != HandoffKind::None && again.tier == "WARM" {
                return Some(u);
            }
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nurtured_lead_with_new_intent_is_rescored_and_handed_off() {
    let bs = bootstrap();
    let names = TestTopics::create(
        &bs,
        "e2e-rescore",
        &[
            "raw",
            "enriched",
            "dedup_keys",
            "scored",
            "tiered",
            "packets",
            "activity",
            "reps",
            "model_params",
            "exceptions",
            "lead_state",
        ],
        3,
    )
    .await;
    let codec = Codec::single_object().unwrap();
    let start = Timestamp(chrono::Utc::now().timestamp_millis() - 60_000);
    publish_sample_roster(&bs, &names["reps"], &codec, start).await;
    let leads = publish_generated_leads(&bs, &names["raw"], &codec, 47, start, LEADS).await;

    let logs = tempfile::tempdir().unwrap();
    let services: Vec<Service> = [
        "leadflow-enrich",
        "leadflow-score",
        "leadflow-tier",
        "leadflow-route",
        "leadflow-rescore",
    ]
    .into_iter()
    .map(|b| Service::start(b, StageEnv::new(&bs, b, &names).vars(), logs.path()))
    .collect();
    let logs_text = |services: &[Service]| -> String {
        services
            .iter()
            .map(|s| format!("--- {}\n{}", s.name, s.log()))
            .collect()
    };

    // 1. every lead is decided and its state is on leads.state
    let deadline = Instant::now() + Duration::from_secs(180);
    let decisions = loop {
        let decisions: Vec<TierDecision> = decode_all(&bs, &names["tiered"], &codec).await;
        let states: Vec<ScoredLead> = decode_all(&bs, &names["lead_state"], &codec).await;
        if decisions.len() >= LEADS && states.len() >= LEADS {
            break decisions;
        }
        assert!(
            Instant::now() < deadline,
            "{} decisions, {} states of {LEADS}; logs:\n{}",
            decisions.len(),
            states.len(),
            logs_text(&services)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let states: BTreeMap<String, ScoredLead> =
        decode_all::<ScoredLead>(&bs, &names["lead_state"], &codec)
            .await
            .into_iter()
            .map(|s| (s.enriched.lead.lead_id.clone(), s))
            .collect();
    for d in &decisions {
        let s = &states[&d.scored.enriched.lead.lead_id];
        assert_eq!(s.score, d.scored.score);
        assert!(
            s.enriched
                .lead
                .attributes
                .contains_key("leadflow.state.version")
        );
    }

    // 2. a nurtured lead gets intent that alone keeps it in nurture, merged lifts it to WARM
    let now = Timestamp(chrono::Utc::now().timestamp_millis());
    let u = pick(&decisions, &leads, now).expect("a nurtured lead the update lifts to WARM");
    let lead_id = u.lead_id.clone();
    produce_raw_all(
        &bs,
        &names["raw"],
        vec![(
            Some(u.key().as_bytes().to_vec()),
            codec.encode(&names["raw"], &u).await.unwrap(),
        )],
    )
    .await;

    // 3. the re-entry is decided and handed to a rep, saying why
    let deadline = Instant::now() + Duration::from_secs(120);
    let packet = loop {
        let packets: Vec<HandoffPacket> = decode_all(&bs, &names["packets"], &codec).await;
        if let Some(p) = packets
            .into_iter()
            .find(|p| p.decision.scored.enriched.lead.lead_id == lead_id)
        {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "no packet for the re-scored {lead_id}; logs:\n{}",
            logs_text(&services)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let d = &packet.decision;
    assert_ne!(d.handoff, HandoffKind::None);
    assert_eq!(d.tier, "WARM", "the nurtured lead warmed up into WARM");
    assert!(
        d.reasons[0].starts_with("re-scored (intent): score "),
        "{:#?}",
        d.reasons
    );
    assert_eq!(
        d.scored.enriched.lead.event_id,
        format!("{}~rescore-intent", u.event_id)
    );
    assert!(packet.assignee.is_some(), "a rep holds it: {packet:?}");
    // the event alone was decided without a handoff, and nothing loops: one re-entry
    let decisions: Vec<TierDecision> = decode_all(&bs, &names["tiered"], &codec).await;
    let of_lead: Vec<&TierDecision> = decisions
        .iter()
        .filter(|d| d.scored.enriched.lead.lead_id == lead_id)
        .collect();
    assert_eq!(
        of_lead
            .iter()
            .filter(|d| d.scored.enriched.lead.event_id.contains("~rescore-"))
            .count(),
        1,
        "one re-entry"
    );
    assert!(
        of_lead.iter().any(
            |d| d.scored.enriched.lead.event_id == u.event_id && d.handoff == HandoffKind::None
        )
    );
    for s in services {
        s.terminate(Duration::from_secs(15));
    }
}
