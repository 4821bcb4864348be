#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! enrich → score → tier as three real processes on the local broker, over a generated stream:
//! every generated event ends as a decision on leads.tiered or as an exception with a reason; the
//! decisions obey the rules of crates/tier/POLICY.md; the services' decisions equal the pure transforms' (replay
//! reproduces them); SIGTERM stops each service with exit code 0.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use leadflow_e2e::Service;
use leadflow_events::{
    Codec, ErrorKind, Event, ExceptionRecord, HandoffKind, LeadEvent, Persona, TierDecision,
    Timestamp,
};
use leadflow_generate::{DEFAULT_START, LeadGenerator, SyntheticPersona};
use leadflow_runtime::{Context, Stage};
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw_all, unique_name};

const LEADS: usize = 300;

struct Topics {
    raw: String,
    enriched: String,
    dedup_keys: String,
    scored: String,
    tiered: String,
    model: String,
    exceptions: String,
    /// tier's side input (the nurture enrolments of rule N1)
    activity: String,
}

fn env_for(stage: &str, bs: &str, t: &Topics) -> BTreeMap<String, String> {
    let mut env = BTreeMap::from([
        ("LEADFLOW_BOOTSTRAP_SERVERS".into(), bs.into()),
        (
            "LEADFLOW_GROUP_ID".into(),
            unique_name(&format!("e2e-{stage}")),
        ),
        ("LEADFLOW_TOPICS__RAW".into(), t.raw.clone()),
        ("LEADFLOW_TOPICS__ENRICHED".into(), t.enriched.clone()),
        ("LEADFLOW_TOPICS__DEDUP_KEYS".into(), t.dedup_keys.clone()),
        ("LEADFLOW_TOPICS__SCORED".into(), t.scored.clone()),
        ("LEADFLOW_TOPICS__TIERED".into(), t.tiered.clone()),
        ("LEADFLOW_TOPICS__MODEL_PARAMS".into(), t.model.clone()),
        ("LEADFLOW_TOPICS__EXCEPTIONS".into(), t.exceptions.clone()),
        ("LEADFLOW_TOPICS__ACTIVITY".into(), t.activity.clone()),
        ("LEADFLOW_HTTP__LISTEN".into(), "127.0.0.1:0".into()),
        ("LEADFLOW_SHUTDOWN_GRACE_MS".into(), "15000".into()),
    ]);
    if stage == "enrich" {
        // The bundled demo dataset, explicitly (production names its own file).
        env.insert("LEADFLOW_STAGE__PROVIDER__KIND".into(), "demo".into());
    }
    env
}

fn generated() -> Vec<(LeadEvent, SyntheticPersona)> {
    let start = Timestamp::parse_rfc3339(DEFAULT_START).unwrap();
    let mut generator = LeadGenerator::new(11, start);
    (0..LEADS)
        .map(|_| {
            let g = generator.next_lead();
            (g.event, g.persona)
        })
        .collect()
}

/// The same inputs through the pure stages in one process, in generation order.
async fn expected_decisions(leads: &[LeadEvent]) -> HashMap<String, TierDecision> {
    use leadflow_runtime::StageRegistry;
    let enrich = leadflow_enrich::EnrichStage::new(
        &leadflow_enrich::EnrichSettings::demo(),
        &StageRegistry::new("enrich"),
    )
    .unwrap();
    let score =
        leadflow_score::ScoreStage::new(&Default::default(), &StageRegistry::new("score")).unwrap();
    let tier =
        leadflow_tier::TierStage::new(&Default::default(), &StageRegistry::new("tier")).unwrap();
    let ctx = Context::for_test(Timestamp::parse_rfc3339(DEFAULT_START).unwrap());
    let mut out = HashMap::new();
    for lead in leads {
        let Ok(enriched) = enrich.process(lead.clone(), &ctx).await else {
            continue;
        };
        for e in enriched {
            let leadflow_events::AnyEvent::EnrichedLead(e) = e.event else {
                continue;
            };
            for s in score.process(e, &ctx).await.unwrap() {
                let leadflow_events::AnyEvent::ScoredLead(s) = s.event else {
                    continue;
                };
                for d in tier.process(s, &ctx).await.unwrap() {
                    if let leadflow_events::AnyEvent::TierDecision(d) = d.event {
                        out.insert(d.scored.enriched.lead.event_id.clone(), d);
                    }
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qualification_stages_decide_a_generated_stream() {
    let bs = bootstrap();
    let t = Topics {
        raw: unique_name("e2e-raw"),
        enriched: unique_name("e2e-enriched"),
        dedup_keys: unique_name("e2e-dedup-keys"),
        scored: unique_name("e2e-scored"),
        tiered: unique_name("e2e-tiered"),
        model: unique_name("e2e-model"),
        exceptions: unique_name("e2e-exceptions"),
        activity: unique_name("e2e-activity"),
    };
    for topic in [
        &t.raw,
        &t.enriched,
        &t.dedup_keys,
        &t.scored,
        &t.tiered,
        &t.exceptions,
        &t.activity,
    ] {
        create_topic(&bs, topic, 3).await;
    }
    create_topic(&bs, &t.model, 1).await;

    // the generated stream, a truncated payload and an invalid lead
    let codec = Codec::single_object().unwrap();
    let leads = generated();
    let mut records = Vec::new();
    for (lead, _) in &leads {
        records.push((
            Some(lead.key().as_bytes().to_vec()),
            codec.encode(&t.raw, lead).await.unwrap(),
        ));
    }
    let truncated = records[0].1[..records[0].1.len() - 7].to_vec();
    records.push((Some(b"lead-truncated".to_vec()), truncated));
    let mut invalid = leadflow_events::samples::lead_event();
    invalid.event_id = "evt-invalid".into();
    invalid.lead_id = "lead-invalid".into();
    invalid.contact.email = Some("not-an-email".into());
    invalid.company.domain = None;
    invalid.account_domain = None;
    records.push((
        Some(b"lead-invalid".to_vec()),
        codec.encode(&t.raw, &invalid).await.unwrap(),
    ));
    produce_raw_all(&bs, &t.raw, records).await;

    let logs = tempfile::tempdir().unwrap();
    let services: Vec<Service> = ["leadflow-enrich", "leadflow-score", "leadflow-tier"]
        .into_iter()
        .map(|b| {
            Service::start(
                b,
                &env_for(b.trim_start_matches("leadflow-"), &bs, &t),
                logs.path(),
            )
        })
        .collect();

    // every distinct event ends as a decision or an exception
    let distinct: BTreeSet<&str> = leads.iter().map(|(l, _)| l.event_id.as_str()).collect();
    let deadline = Instant::now() + Duration::from_secs(180);
    let (decisions, exceptions) = loop {
        let tiered = consume_all(&bs, &t.tiered, LEADS + 10, Duration::from_secs(5)).await;
        let exc = consume_all(&bs, &t.exceptions, LEADS, Duration::from_secs(5)).await;
        // + the truncated payload and the invalid lead
        let expected = distinct.len() + 2;
        if tiered.len() + exc.len() >= expected || Instant::now() > deadline {
            break (tiered, exc);
        }
    };
    let mut by_event: HashMap<String, TierDecision> = HashMap::new();
    for r in &decisions {
        let d: TierDecision = codec.decode(&r.payload).await.unwrap();
        by_event.insert(d.scored.enriched.lead.event_id.clone(), d);
    }
    let mut exception_records = Vec::new();
    for r in &exceptions {
        exception_records.push(codec.decode::<ExceptionRecord>(&r.payload).await.unwrap());
    }
    let logs_text: String = services
        .iter()
        .map(|s| format!("--- {}\n{}", s.name, s.log()))
        .collect();
    assert_eq!(
        by_event.len() + exception_records.len(),
        distinct.len() + 2,
        "every input accounted for ({} decisions, {} exceptions); service logs:\n{logs_text}",
        by_event.len(),
        exception_records.len()
    );

    // the exceptions carry reasons
    let trunc = exception_records
        .iter()
        .find(|e| e.source_key.as_deref() == Some("lead-truncated"))
        .expect("truncated payload on the exceptions topic");
    assert_eq!(trunc.error_kind, ErrorKind::Decode);
    assert_eq!(trunc.stage, "enrich");
    assert!(!trunc.reason.is_empty());
    let bad = exception_records
        .iter()
        .find(|e| e.lead_id.as_deref() == Some("lead-invalid"))
        .expect("invalid lead on the exceptions topic");
    assert!(
        matches!(
            bad.error_kind,
            ErrorKind::Validation | ErrorKind::MissingField
        ),
        "{bad:?}"
    );
    assert!(bad.reason.contains("email"), "{}", bad.reason);
    assert!(
        !bad.reason.contains("not-an-email"),
        "no personal data in reasons"
    );

    // the decisions obey the rules
    let personas: HashMap<&str, SyntheticPersona> = leads
        .iter()
        .map(|(l, p)| (l.event_id.as_str(), *p))
        .collect();
    let mut kinds = BTreeSet::new();
    for (event_id, d) in &by_event {
        let lead = &d.scored.enriched.lead;
        assert_eq!(d.decided_at, lead.occurred_at, "decisions use event time");
        assert!(!d.reasons.is_empty(), "{event_id}: no reasons");
        assert!(!d.model_version.is_empty() && !d.policy_version.is_empty());
        let asked = lead.chat.as_ref().is_some_and(|c| c.human_requested);
        if d.scored.enriched.persona.is_negative() && !asked {
            assert_ne!(
                d.handoff,
                HandoffKind::Escalation,
                "{event_id}: negative persona escalated: {:?}",
                d.reasons
            );
        }
        if personas.get(event_id.as_str()) == Some(&SyntheticPersona::Competitor) {
            assert_eq!(
                d.scored.enriched.persona,
                Persona::N1,
                "{event_id}: competitor not N1"
            );
        }
        kinds.insert(format!("{:?}", d.handoff));
    }
    for kind in ["Escalation", "Capture", "None"] {
        assert!(
            kinds.contains(kind),
            "the stream exercises escalation, capture and none (soft escalations may come too): {kinds:?}"
        );
    }

    // the services decided exactly what the pure transforms decide
    let inputs: Vec<LeadEvent> = leads.iter().map(|(l, _)| l.clone()).collect();
    let expected = expected_decisions(&inputs).await;
    assert_eq!(
        expected.len(),
        by_event.len(),
        "same number of decisions as the pure pipeline"
    );
    // Enrich recognises the same person across lead ids by email. Leads are keyed by lead id, so two
    // lead ids sharing an email (the generator's junk "test@test.com" addresses) can sit in different
    // partitions, whose relative order the broker does not define: which of them is "the update"
    // depends on arrival order. For those, is_update / previous_event_id are not compared.
    let mut ids_by_email: HashMap<String, BTreeSet<String>> = HashMap::new();
    for l in &inputs {
        if let Some(email) = &l.contact.email {
            ids_by_email
                .entry(email.trim().to_ascii_lowercase())
                .or_default()
                .insert(l.lead_id.clone());
        }
    }
    let order_dependent = |d: &TierDecision| {
        let lead = &d.scored.enriched.lead;
        lead.contact.email.as_ref().is_some_and(|e| {
            ids_by_email
                .get(&e.trim().to_ascii_lowercase())
                .is_some_and(|ids| ids.len() > 1)
        })
    };
    let comparable = |d: &TierDecision| {
        let mut d = d.clone();
        if order_dependent(&d) {
            d.scored.enriched.is_update = false;
            d.scored.enriched.previous_event_id = None;
        }
        d
    };
    for (event_id, d) in &by_event {
        assert_eq!(
            Some(comparable(d)),
            expected.get(event_id).map(comparable),
            "{event_id}: service and pure decision differ"
        );
    }

    // SIGTERM: drain, commit, exit 0
    for s in services {
        let name = s.name.clone();
        let status = s.terminate(Duration::from_secs(30));
        assert!(status.success(), "{name} exited with {status}");
    }
}
