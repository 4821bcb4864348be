#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! enrich → score → tier → route as four real processes on the local broker, with the sample roster
//! (deploy/roster.csv) on the reps topic: every decision that hands off to a human ends as exactly
//! one packet addressed to an eligible rep or a flagged manager (or as an exception with a reason);
//! no-handoff decisions make no packet; no rep exceeds their cap; SIGTERM stops route with exit 0.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use leadflow_e2e::{Service, StageEnv, TestTopics, publish_generated_leads, publish_sample_roster};
use leadflow_events::{
    Codec, ExceptionRecord, HandoffKind, HandoffPacket, RepRole, TierDecision, Timestamp,
};
use leadflow_generate::DEFAULT_START;
use leadflow_testkit::{bootstrap, consume_all};

const LEADS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_leads_end_as_packets_for_eligible_reps() {
    let bs = bootstrap();
    let names = TestTopics::create(
        &bs,
        "e2e-route",
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
        ],
        3,
    )
    .await;
    let codec = Codec::single_object().unwrap();

    // the sample roster, as `leadflow reps import deploy/roster.csv` publishes it
    let start = Timestamp::parse_rfc3339(DEFAULT_START).unwrap();
    let roster = publish_sample_roster(&bs, &names["reps"], &codec, start).await;

    // a generated stream
    publish_generated_leads(&bs, &names["raw"], &codec, 23, start, LEADS).await;

    let logs = tempfile::tempdir().unwrap();
    let services: Vec<Service> = [
        "leadflow-enrich",
        "leadflow-score",
        "leadflow-tier",
        "leadflow-route",
    ]
    .into_iter()
    .map(|b| Service::start(b, StageEnv::new(&bs, b, &names).vars(), logs.path()))
    .collect();

    // wait until every decision is routed: handoff decisions = packets + route exceptions
    let deadline = Instant::now() + Duration::from_secs(180);
    let (decisions, packets, exceptions) = loop {
        let mut decisions = Vec::new();
        for r in consume_all(&bs, &names["tiered"], LEADS * 2, Duration::from_secs(5)).await {
            decisions.push(codec.decode::<TierDecision>(&r.payload).await.unwrap());
        }
        let mut packets = Vec::new();
        for r in consume_all(&bs, &names["packets"], LEADS * 2, Duration::from_secs(3)).await {
            packets.push(codec.decode::<HandoffPacket>(&r.payload).await.unwrap());
        }
        let mut exceptions = Vec::new();
        for r in consume_all(&bs, &names["exceptions"], LEADS, Duration::from_secs(2)).await {
            let e: ExceptionRecord = codec.decode(&r.payload).await.unwrap();
            if e.stage == "route" {
                exceptions.push(e);
            }
        }
        let handoffs = decisions
            .iter()
            .filter(|d| d.handoff != HandoffKind::None)
            .count();
        if (handoffs > 0 && packets.len() + exceptions.len() >= handoffs)
            || Instant::now() > deadline
        {
            break (decisions, packets, exceptions);
        }
    };
    let log_text: String = services
        .iter()
        .map(|s| format!("--- {}\n{}", s.name, s.log()))
        .collect();

    let handoff: HashSet<String> = decisions
        .iter()
        .filter(|d| d.handoff != HandoffKind::None)
        .map(|d| d.scored.enriched.lead.event_id.clone())
        .collect();
    assert!(
        handoff.len() >= 10,
        "the stream hands off: {}",
        handoff.len()
    );
    let packeted: Vec<&str> = packets
        .iter()
        .map(|p| p.decision.scored.enriched.lead.event_id.as_str())
        .collect();
    let unique: HashSet<&str> = packeted.iter().copied().collect();
    assert_eq!(unique.len(), packeted.len(), "one packet per decision");
    for p in &packets {
        assert_ne!(
            p.decision.handoff,
            HandoffKind::None,
            "no packet without a handoff"
        );
    }
    assert_eq!(
        packets.len() + exceptions.len(),
        handoff.len(),
        "every handoff decision is a packet or an exception; logs:\n{log_text}"
    );
    for e in &exceptions {
        assert_eq!(e.owner, "revops");
        assert!(e.reason.contains("unroutable"), "{}", e.reason);
    }

    // addressed to reps of the roster, in the decision's team, caps respected
    let reps: HashMap<&str, &leadflow_events::RepState> =
        roster.iter().map(|r| (r.rep_id.as_str(), r)).collect();
    let mut load: HashMap<&str, i32> = HashMap::new();
    let mut flagged = 0;
    for p in &packets {
        let a = p.assignee.as_ref().expect("every packet has an owner");
        let rep = reps[a.rep_id.as_str()];
        assert!(
            rep.teams.contains(&p.decision.target_team),
            "{} not in {}",
            a.rep_id,
            p.decision.target_team
        );
        assert!(!p.summary.is_empty() && !p.next_step.is_empty());
        assert_eq!(p.qualification.len(), 4);
        if p.unassigned_reason.is_some() {
            flagged += 1;
            assert_eq!(rep.role, RepRole::Manager);
        } else {
            assert_ne!(rep.role, RepRole::Manager);
            *load.entry(a.rep_id.as_str()).or_default() += 1;
        }
        let hot_escalation = p.decision.handoff == HandoffKind::Escalation
            && p.decision.lead_level == leadflow_events::LeadLevel::Hot;
        assert_eq!(
            p.booking_link.is_some(),
            hot_escalation,
            "booking link only on hot escalations"
        );
    }
    for (rep, n) in &load {
        assert!(
            *n <= reps[rep].max_open_leads,
            "{rep} holds {n} > cap {}",
            reps[rep].max_open_leads
        );
    }
    assert!(
        flagged < packets.len(),
        "not everything fell back to managers"
    );

    for s in services {
        let name = s.name.clone();
        let status = s.terminate(Duration::from_secs(30));
        assert!(status.success(), "{name} exited with {status}");
    }
}
