#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The whole re-score against the real default model, the default rescore settings and the real
//! default tier policy (four-band): a NURTURE_24H lead whose update alone stays in nurture but whose
//! merged lead crosses into WARM is re-entered, and tier hands the re-entry to the sdr queue with
//! "re-scored (intent): score N, was M" first (tier POLICY.md RS1).

use leadflow_events::{
    Activity, ActivityKind, EnrichedLead, HandoffKind, LeadEventType, Timestamp, samples,
};
use leadflow_rescore::{Book, RescoreSettings};
use leadflow_score::{Model, score};
use leadflow_tier::{TierSettings, decide};

const T: i64 = 1_765_000_000_000;
const KINDS: [ActivityKind; 4] = [
    ActivityKind::PricingPageView,
    ActivityKind::ContentDownload,
    ActivityKind::WebinarAttended,
    ActivityKind::EmailClick,
];

fn lead(event_id: &str, at: i64, activities: std::ops::Range<usize>) -> EnrichedLead {
    let mut e = samples::enriched_lead();
    e.lead.event_id = event_id.into();
    e.lead.chat = None;
    e.lead.session = None;
    e.lead.event_type = LeadEventType::ContentDownload;
    e.lead.occurred_at = Timestamp(at);
    e.lead.activities = activities
        .map(|i| Activity {
            kind: KINDS[i % 4],
            occurred_at: Timestamp(at - 60_000 * (i as i64 + 1)),
            detail: Some(format!("a{i}")),
        })
        .collect();
    e
}

#[test]
fn new_intent_lifts_a_nurtured_lead_into_warm_with_the_default_model() {
    let model = Model::embedded("lead-priority").unwrap();
    let (policy, calendar) = TierSettings::default().build().unwrap();
    let settings = RescoreSettings::default();
    let pipeline = |e: &EnrichedLead| decide(&score(e, &model), &policy, &calendar);

    // (activities of the first event, of the update, the update alone's tier, re-entered?)
    let rows = [
        (0..2, 2..5, "NURTURE_24H", true), // 57 -> alone 65, merged 74: WARM
        (0..1, 1..3, "NURTURE_24H", false), // merged 3 activities: 65, still nurture
        (0..0, 0..1, "NURTURE_24H", false), // too little either way
    ];
    for (before, after, alone_tier, want) in rows {
        let name = format!("{before:?} then {after:?}");
        let first = pipeline(&lead("evt-1", T, before));
        assert_eq!(
            first.handoff,
            HandoffKind::None,
            "{name}: {:?}",
            first.reasons
        );
        let mut update = lead("evt-2", T + 3_600_000, after.clone());
        update.is_update = true;
        // the update's own activities are newer than the first event
        let alone = pipeline(&update);
        assert_eq!(
            alone.handoff,
            HandoffKind::None,
            "{name}: {:?}",
            alone.reasons
        );
        assert_eq!(
            alone.tier, alone_tier,
            "{name}: score {}",
            alone.scored.score
        );
        let mut book = Book::default();
        book.decision(&first, &model, &settings);
        let applied = book.decision(&alone, &model, &settings);
        assert_eq!(applied.reentry.is_some(), want, "{name}");
        let Some(r) = applied.reentry else { continue };
        let again = pipeline(&r.lead);
        assert_eq!(again.tier, "WARM", "{name}: {:?}", again.reasons);
        assert_eq!(again.handoff, HandoffKind::Capture);
        assert_eq!(again.target_team, "sdr");
        assert_eq!(
            again.reasons[0],
            format!(
                "re-scored (intent): score {}, was {}",
                again.scored.score, alone.scored.score
            )
        );
        // the re-entry's own decision is stored, never re-entered again (I3)
        let stored = book.decision(&again, &model, &settings);
        assert!(stored.reentry.is_none());
        assert_eq!(stored.outcome, "handed_off");
    }
}
