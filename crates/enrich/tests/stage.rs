//! The enrich stage end to end, without a broker: raw events in, outputs / poison errors out.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use leadflow_enrich::provider::{
    Firmographics, FirmographicsProvider, LocalProvider, ProviderError,
};
use leadflow_enrich::{EnrichSettings, EnrichStage, warnings};
use leadflow_events::AnyEvent;
use leadflow_events::{
    Codec, DedupKey, DedupKeyBatch, EnrichedLead, EnrichmentStatus, ErrorKind, LeadEvent, Persona,
    Timestamp, TopicRole, samples,
};
use leadflow_runtime::{Context, SideInput, SideStart, Stage, StageError};

const DAY: i64 = 86_400_000;

fn stage() -> EnrichStage<LocalProvider> {
    EnrichStage::with_provider(&EnrichSettings::demo(), LocalProvider::demo())
}

fn ctx() -> Context {
    Context::for_test(samples::T0)
}

/// A context whose input offset is new on every call: each event is its own input record (a
/// redelivery of one record is [`ctx_at`]).
fn next_ctx() -> Context {
    static OFFSET: AtomicI64 = AtomicI64::new(1_000);
    ctx_at(0, OFFSET.fetch_add(1, Ordering::Relaxed))
}

fn ctx_at(partition: i32, offset: i64) -> Context {
    Context {
        partition,
        offset,
        ..ctx()
    }
}

/// A raw lead: the sample with another identity.
fn lead(event_id: &str, lead_id: &str, email: Option<&str>, at: i64) -> LeadEvent {
    let mut e = samples::lead_event();
    e.event_id = event_id.into();
    e.lead_id = lead_id.into();
    e.contact.email = email.map(Into::into);
    e.occurred_at = Timestamp(samples::T0.0 + at);
    e
}

async fn enrich_one<P: FirmographicsProvider>(
    stage: &mut EnrichStage<P>,
    event: LeadEvent,
) -> Option<EnrichedLead> {
    enrich_with_key(stage, event, &next_ctx())
        .await
        .map(|(e, _)| e)
}

/// The outputs of one input: nothing (a repeated event), or the enriched lead and its changelog
/// record, keyed alike.
async fn enrich_with_key<P: FirmographicsProvider>(
    stage: &mut EnrichStage<P>,
    event: LeadEvent,
    ctx: &Context,
) -> Option<(EnrichedLead, DedupKey)> {
    let out = stage.process(event, ctx).await.expect("valid event");
    if out.is_empty() {
        return None;
    }
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0].role, TopicRole::Enriched);
    assert_eq!(out[1].role, TopicRole::DedupKeys);
    assert_eq!(
        out[1].record_key(),
        out[0].record_key(),
        "the changelog record is keyed like the lead (its lead id)"
    );
    let record_key = out[0].record_key().to_owned();
    let mut out = out.into_iter();
    let enriched = match out.next().map(|o| o.event) {
        Some(AnyEvent::EnrichedLead(e)) => e,
        other => panic!("unexpected output {other:?}"),
    };
    let changelog = out.next().expect("two outputs");
    let key = match changelog.event {
        AnyEvent::DedupKeyBatch(mut b) if b.keys.len() == 1 => b.keys.remove(0),
        other => panic!("unexpected output {other:?}"),
    };
    assert_eq!(key.event_id, enriched.lead.event_id);
    assert_eq!(key.occurred_at, enriched.lead.occurred_at);
    assert_eq!(record_key, enriched.lead.lead_id);
    Some((enriched, key))
}

#[tokio::test]
async fn the_sample_lead_becomes_the_sample_enriched_lead() {
    let mut stage = stage();
    let got = enrich_one(&mut stage, samples::lead_event()).await.unwrap();
    let mut want = samples::enriched_lead();
    want.persona_reason = got.persona_reason.clone();
    // The sample's "+33 1 23 45 67 89" in E.164 (RULES.md §5).
    want.lead.contact.phone = Some("+33123456789".into());
    assert_eq!(got, want);
    assert_eq!(got.persona, Persona::P1);
    assert!(got.persona_reason.contains("vp"), "{}", got.persona_reason);
    assert_eq!(got.enriched_at, got.lead.occurred_at);

    // The output satisfies the Avro contract.
    let codec = Codec::single_object().unwrap();
    let bytes = codec.encode("leads.enriched", &got).await.unwrap();
    let back: EnrichedLead = codec.decode(&bytes).await.unwrap();
    assert_eq!(back, got);
}

#[tokio::test]
async fn invalid_events_are_poison_owned_by_marketing_ops() {
    type Edit = fn(&mut LeadEvent);
    let cases: &[(&str, Edit, ErrorKind, &str)] = &[
        (
            "bad email",
            |e| e.contact.email = Some("ada.lovelace(at)northwind.io".into()),
            ErrorKind::Validation,
            "contact.email",
        ),
        (
            "no event id",
            |e| e.event_id = String::new(),
            ErrorKind::MissingField,
            "event_id",
        ),
        (
            "no source system",
            |e| e.source_system = " ".into(),
            ErrorKind::MissingField,
            "source_system",
        ),
        (
            "no source record id",
            |e| e.source_record_id = String::new(),
            ErrorKind::MissingField,
            "source_record_id",
        ),
        (
            "no email nor domain",
            |e| {
                e.contact.email = None;
                e.company.domain = None;
                e.account_domain = None;
            },
            ErrorKind::MissingField,
            "contact.email",
        ),
    ];
    for (name, edit, kind, field) in cases {
        let mut event = samples::lead_event();
        edit(&mut event);
        let err = stage().process(event, &ctx()).await.unwrap_err();
        match err {
            StageError::Poison {
                kind: k,
                reason,
                owner,
            } => {
                assert_eq!(k, *kind, "{name}");
                assert!(reason.contains(field), "{name}: {reason}");
                assert!(!reason.contains("lovelace"), "{name}: {reason}");
                assert_eq!(owner.as_deref(), Some("marketing-ops"), "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }

    let settings = EnrichSettings {
        invalid_owner: "data-quality".into(),
        ..EnrichSettings::demo()
    };
    let s = EnrichStage::with_provider(&settings, LocalProvider::demo());
    let mut event = samples::lead_event();
    event.lead_id = String::new();
    match s.process(event, &ctx()).await {
        Err(StageError::Poison { owner, .. }) => assert_eq!(owner.as_deref(), Some("data-quality")),
        other => panic!("{other:?}"),
    }
}

/// The duplicate counter as a stage registry exports it.
fn duplicate_metric() -> f64 {
    let registry = leadflow_runtime::StageRegistry::new("enrich");
    leadflow_enrich::metrics::register(&registry).unwrap();
    registry
        .registry()
        .gather()
        .iter()
        .find(|f| f.name() == "leadflow_enrich_duplicate_events_total")
        .and_then(|f| f.get_metric().first().map(|m| m.get_counter().get_value()))
        .unwrap_or(0.0)
}

#[tokio::test]
async fn an_event_id_repeat_produces_nothing_and_is_counted() {
    let mut stage = stage();
    let first = lead("e1", "l1", Some("ada@northwind.io"), 0);
    assert!(enrich_one(&mut stage, first.clone()).await.is_some());
    let before = duplicate_metric();
    assert!(enrich_one(&mut stage, first.clone()).await.is_none());
    // Even with other content (a re-sent event whose payload changed), the id decides.
    let mut changed = first;
    changed.contact.title = Some("CEO".into());
    assert!(enrich_one(&mut stage, changed).await.is_none());
    assert!(duplicate_metric() >= before + 2.0);
}

#[tokio::test]
async fn lead_repeats_are_updates_within_the_window() {
    // (description, earlier events, the event, expected previous_event_id)
    type Ev = (&'static str, &'static str, Option<&'static str>, i64);
    let cases: &[(&str, &[Ev], Ev, Option<&str>)] = &[
        (
            "first sighting",
            &[],
            ("e1", "l1", Some("ada@northwind.io"), 0),
            None,
        ),
        (
            "same email, other lead id",
            &[("e1", "l1", Some("ada@northwind.io"), 0)],
            ("e2", "l2", Some("ada@northwind.io"), DAY),
            Some("e1"),
        ),
        (
            "same email in another case",
            &[("e1", "l1", Some("ada@northwind.io"), 0)],
            ("e2", "l2", Some(" ADA@Northwind.IO "), DAY),
            Some("e1"),
        ),
        (
            "same lead id, other email",
            &[("e1", "l1", Some("ada@northwind.io"), 0)],
            ("e2", "l1", Some("ada.l@northwind.io"), DAY),
            Some("e1"),
        ),
        (
            "exactly 30 days later",
            &[("e1", "l1", Some("ada@northwind.io"), 0)],
            ("e2", "l2", Some("ada@northwind.io"), 30 * DAY),
            Some("e1"),
        ),
        (
            "30 days and 1 ms later",
            &[("e1", "l1", Some("ada@northwind.io"), 0)],
            ("e2", "l2", Some("ada@northwind.io"), 30 * DAY + 1),
            None,
        ),
        (
            "the latest sighting is referenced",
            &[
                ("e1", "l1", Some("ada@northwind.io"), 0),
                ("e2", "l1", Some("ada@northwind.io"), 10 * DAY),
            ],
            ("e3", "l1", Some("ada@northwind.io"), 11 * DAY),
            Some("e2"),
        ),
        (
            "a colleague is not a repeat",
            &[("e1", "l1", Some("ada@northwind.io"), 0)],
            ("e2", "l2", Some("grace@northwind.io"), DAY),
            None,
        ),
    ];
    for (name, earlier, (id, lead_id, email, at), want) in cases {
        let mut stage = stage();
        for (eid, lid, em, t) in *earlier {
            enrich_one(&mut stage, lead(eid, lid, *em, *t))
                .await
                .unwrap();
        }
        let got = enrich_one(&mut stage, lead(id, lead_id, *email, *at))
            .await
            .unwrap();
        assert_eq!(got.previous_event_id.as_deref(), *want, "{name}");
        assert_eq!(got.is_update, want.is_some(), "{name}");
    }
}

#[tokio::test]
async fn the_dedup_memory_is_rebuilt_from_the_changelog_side_input() {
    let mut before = stage();
    let (e1, k1) = enrich_with_key(
        &mut before,
        lead("e1", "l1", Some("ada@northwind.io"), 0),
        &next_ctx(),
    )
    .await
    .unwrap();
    // the changelog record carries hashes, never the email
    assert!(!format!("{k1:?}").contains("ada"));

    // A new instance (restart, rebalance) replays the changelog of the last window first.
    let mut after = stage();
    assert_eq!(
        after.side_inputs(),
        vec![SideInput {
            role: TopicRole::DedupKeys,
            start: SideStart::Since(Duration::from_secs(30 * 86_400)),
        }]
    );
    after
        .on_side_input(AnyEvent::DedupKeyBatch(DedupKeyBatch::of(k1.clone())))
        .unwrap();
    // Replaying the same entry twice (here as a record of a version before batching), or other
    // event kinds, is harmless.
    after.on_side_input(AnyEvent::DedupKey(k1.clone())).unwrap();
    after
        .on_side_input(AnyEvent::ScoredLead(samples::scored_lead()))
        .unwrap();

    // The raw event re-sent upstream (a new input record) is not produced twice ...
    assert!(enrich_one(&mut after, e1.lead.clone()).await.is_none());
    // ... and the same person again, under a new lead id, is an update.
    let (again, k2) = enrich_with_key(
        &mut after,
        lead("e2", "l9", Some("ada@northwind.io"), DAY),
        &next_ctx(),
    )
    .await
    .unwrap();
    assert!(again.is_update);
    assert_eq!(again.previous_event_id.as_deref(), Some("e1"));

    // Its own changelog records come back through the side input live: idempotent.
    after
        .on_side_input(AnyEvent::DedupKeyBatch(DedupKeyBatch::of(k2)))
        .unwrap();
    let third = enrich_one(&mut after, lead("e3", "l9", None, 2 * DAY))
        .await
        .unwrap();
    assert_eq!(third.previous_event_id.as_deref(), Some("e2"));

    let window = EnrichSettings {
        dedup_window_hours: 48,
        ..EnrichSettings::demo()
    };
    let s = EnrichStage::with_provider(&window, LocalProvider::demo());
    assert_eq!(
        s.side_inputs()[0].start,
        SideStart::Since(Duration::from_secs(48 * 3600))
    );
}

#[tokio::test]
async fn the_upgrade_bootstrap_also_replays_leads_enriched() {
    let settings = EnrichSettings {
        dedup_bootstrap_from_enriched: true,
        ..EnrichSettings::demo()
    };
    let since = SideStart::Since(Duration::from_secs(30 * 86_400));
    let mut upgraded = EnrichStage::with_provider(&settings, LocalProvider::demo());
    assert_eq!(
        upgraded.side_inputs(),
        vec![
            SideInput {
                role: TopicRole::DedupKeys,
                start: since,
            },
            SideInput {
                role: TopicRole::Enriched,
                start: since,
            },
        ]
    );
    // history written before the changelog existed: only on leads.enriched
    let old = enrich_one(&mut stage(), lead("e1", "l1", Some("ada@northwind.io"), 0))
        .await
        .unwrap();
    upgraded
        .on_side_input(AnyEvent::EnrichedLead(old.clone()))
        .unwrap();
    assert!(enrich_one(&mut upgraded, old.lead.clone()).await.is_none());
    let again = enrich_one(
        &mut upgraded,
        lead("e2", "l2", Some("ada@northwind.io"), DAY),
    )
    .await
    .unwrap();
    assert_eq!(again.previous_event_id.as_deref(), Some("e1"));
}

/// The same events replayed into one instance as enriched leads and into another as changelog
/// records: every later event gets the same verdict, and so the same output.
#[tokio::test]
async fn the_changelog_gives_the_verdicts_leads_enriched_gave() {
    type Ev = (&'static str, &'static str, Option<&'static str>, i64);
    let history: &[Ev] = &[
        ("h1", "l1", Some("ada@northwind.io"), 0),
        ("h2", "l2", Some("grace@northwind.io"), DAY),
        ("h3", "l1", Some("ada.l@northwind.io"), 5 * DAY),
        ("h4", "l4", None, 6 * DAY),
        ("h5", "l5", Some("Linus@Example.ORG"), 7 * DAY),
        ("h6", "l6", Some("old@northwind.io"), -40 * DAY),
    ];
    let probes: &[Ev] = &[
        ("h1", "l1", Some("ada@northwind.io"), 0),
        ("p1", "l7", Some("ADA@northwind.io"), 8 * DAY),
        ("p2", "l1", None, 8 * DAY),
        ("p3", "l8", Some("ada.l@northwind.io"), 9 * DAY),
        ("p4", "l4", Some("new@northwind.io"), 9 * DAY),
        ("p5", "l9", Some("linus@example.org"), 9 * DAY),
        ("p6", "l10", Some("grace@northwind.io"), 32 * DAY),
        ("p7", "l11", Some("grace@northwind.io"), 31 * DAY + 1),
        ("p8", "l6", Some("old@northwind.io"), 9 * DAY),
        ("p9", "l12", Some("nobody@northwind.io"), 9 * DAY),
    ];
    let mut source = stage();
    let (mut from_enriched, mut from_keys) = (stage(), stage());
    let mut keys = Vec::new();
    for (id, l, email, at) in history {
        let (enriched, key) = enrich_with_key(&mut source, lead(id, l, *email, *at), &next_ctx())
            .await
            .unwrap();
        from_enriched
            .on_side_input(AnyEvent::EnrichedLead(enriched))
            .unwrap();
        keys.push(key);
    }
    // the changelog as the send gate joins it: batches of several entries, in order
    for chunk in keys.chunks(3) {
        from_keys
            .on_side_input(AnyEvent::DedupKeyBatch(DedupKeyBatch {
                keys: chunk.to_vec(),
            }))
            .unwrap();
    }
    let mut updates = 0;
    for (id, l, email, at) in probes {
        let a = enrich_one(&mut from_enriched, lead(id, l, *email, *at)).await;
        let b = enrich_one(&mut from_keys, lead(id, l, *email, *at)).await;
        assert_eq!(a, b, "{id}");
        updates += usize::from(b.is_some_and(|e| e.is_update));
    }
    // the table exercises both verdicts (and the duplicate: h1)
    assert_eq!(updates, 6);
}

#[tokio::test]
async fn a_redelivered_input_record_is_produced_again_a_resent_event_is_not() {
    // first life: a lead, then an update of it; both records of the update are sent, then the
    // process dies before the input's offset is stored
    let mut first = stage();
    let (_, k0) = enrich_with_key(
        &mut first,
        lead("e0", "l0", Some("ada@northwind.io"), 0),
        &ctx_at(2, 40),
    )
    .await
    .unwrap();
    let event = lead("e1", "l1", Some("ada@northwind.io"), DAY);
    let (produced, k1) = enrich_with_key(&mut first, event.clone(), &ctx_at(2, 41))
        .await
        .unwrap();
    assert_eq!(produced.previous_event_id.as_deref(), Some("e0"));
    assert_eq!((k1.input_partition, k1.input_offset), (2, 41));
    assert_eq!(k1.previous_event_id.as_deref(), Some("e0"));

    // the changelog record was acknowledged, the enriched lead perhaps not: the same input record
    // redelivered is produced again, identical (its first verdict comes with the changelog) ...
    let mut second = stage();
    second
        .on_side_input(AnyEvent::DedupKeyBatch(DedupKeyBatch {
            keys: vec![k0, k1],
        }))
        .unwrap();
    let (again, _) = enrich_with_key(&mut second, event.clone(), &ctx_at(2, 41))
        .await
        .expect("the redelivered record is produced again");
    assert_eq!(again, produced);
    // ... in the same process too (a retried input) ...
    let (retried, _) = enrich_with_key(&mut first, event.clone(), &ctx_at(2, 41))
        .await
        .expect("the retried record is produced again");
    assert_eq!(retried, produced);
    // ... while the same event id in another record (an upstream re-send) produces nothing
    assert!(
        enrich_with_key(&mut second, event.clone(), &ctx_at(2, 42))
            .await
            .is_none()
    );
    assert!(
        enrich_with_key(&mut second, event, &ctx_at(0, 41))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn the_email_hash_ignores_case_and_blanks() {
    let mut s = stage();
    let (_, a) = enrich_with_key(
        &mut s,
        lead("e1", "l1", Some("ada@northwind.io"), 0),
        &next_ctx(),
    )
    .await
    .unwrap();
    let (_, b) = enrich_with_key(
        &mut s,
        lead("e2", "l2", Some(" ADA@Northwind.IO "), DAY),
        &next_ctx(),
    )
    .await
    .unwrap();
    assert_eq!(a.email_hash, b.email_hash);
    assert!(a.email_hash.is_some());
    assert_ne!(a.lead_hash, b.lead_hash);
    assert_eq!(
        a.lead_hash,
        leadflow_enrich::dedup_key::hash128("l1"),
        "the lead id is hashed as given"
    );
    let (_, c) = enrich_with_key(&mut s, lead("e3", "l3", None, DAY), &next_ctx())
        .await
        .unwrap();
    assert_eq!(c.email_hash, None);
}

/// Expected enrichment of a lead built from the sample by an edit.
struct Want {
    account_key: &'static str,
    company_domain: Option<&'static str>,
    free_mail: bool,
    enrichment: EnrichmentStatus,
    persona: Persona,
    warnings: &'static [&'static str],
}

#[tokio::test]
async fn enrichment_persona_account_and_warnings() {
    type Edit = fn(&mut LeadEvent);
    let cases: &[(&str, Edit, Want)] = &[
        (
            "free-mail with no company: account is the lead, nothing to look up",
            |e| {
                e.contact.email = Some("ada.lovelace@gmail.com".into());
                e.company.domain = None;
                e.account_domain = None;
            },
            Want {
                account_key: "lead-0001",
                company_domain: None,
                free_mail: true,
                enrichment: EnrichmentStatus::Skipped,
                persona: Persona::P1,
                warnings: &[warnings::FREE_MAIL, warnings::MISSING_COMPANY],
            },
        ),
        (
            "derived domain from a business email is enriched",
            |e| {
                e.contact.email = Some("bob@acme-robotics.com".into());
                e.company.domain = None;
                e.account_domain = None;
            },
            Want {
                account_key: "acme-robotics.com",
                company_domain: Some("acme-robotics.com"),
                free_mail: false,
                enrichment: EnrichmentStatus::Enriched,
                persona: Persona::P1,
                warnings: &[warnings::COMPANY_DOMAIN_DERIVED],
            },
        ),
        (
            "unknown company",
            |e| {
                e.contact.email = Some("bob@unknown-startup.example".into());
                e.company.domain = None;
                e.account_domain = None;
            },
            Want {
                account_key: "unknown-startup.example",
                company_domain: Some("unknown-startup.example"),
                free_mail: false,
                enrichment: EnrichmentStatus::NotFound,
                persona: Persona::P1,
                warnings: &[
                    warnings::COMPANY_DOMAIN_DERIVED,
                    warnings::ENRICHMENT_NOT_FOUND,
                ],
            },
        ),
        (
            "competitor who is also a VP",
            |e| {
                e.contact.email = Some("vp@hotleads.ai".into());
                e.company.domain = Some("hotleads.ai".into());
                e.account_domain = None;
            },
            Want {
                account_key: "hotleads.ai",
                company_domain: Some("hotleads.ai"),
                free_mail: false,
                enrichment: EnrichmentStatus::Enriched,
                persona: Persona::N1,
                warnings: &[],
            },
        ),
        (
            "student with a university address",
            |e| {
                e.contact.email = Some("ada@student.uni-heidelberg.de".into());
                e.contact.title = Some("Student".into());
                e.company.domain = None;
                e.account_domain = None;
            },
            Want {
                account_key: "uni-heidelberg.de",
                company_domain: Some("uni-heidelberg.de"),
                free_mail: false,
                enrichment: EnrichmentStatus::NotFound,
                persona: Persona::N2,
                warnings: &[
                    warnings::COMPANY_DOMAIN_DERIVED,
                    warnings::ENRICHMENT_NOT_FOUND,
                ],
            },
        ),
        (
            "no title, no country anywhere",
            |e| {
                e.contact.title = None;
                e.contact.country = None;
                e.company.country = None;
                e.contact.email = Some("x@unknown-startup.example".into());
                e.company.domain = None;
                e.account_domain = None;
            },
            Want {
                account_key: "unknown-startup.example",
                company_domain: Some("unknown-startup.example"),
                free_mail: false,
                enrichment: EnrichmentStatus::NotFound,
                persona: Persona::Unknown,
                warnings: &[
                    warnings::COMPANY_DOMAIN_DERIVED,
                    warnings::MISSING_TITLE,
                    warnings::ENRICHMENT_NOT_FOUND,
                    warnings::MISSING_COUNTRY,
                ],
            },
        ),
        (
            "country from the provider is enough",
            |e| {
                e.contact.country = Some("Atlantis".into());
                e.company.country = None;
            },
            Want {
                account_key: "northwind.io",
                company_domain: Some("northwind.io"),
                free_mail: false,
                enrichment: EnrichmentStatus::Enriched,
                persona: Persona::P1,
                warnings: &[warnings::UNKNOWN_COUNTRY],
            },
        ),
        (
            "manager",
            |e| e.contact.title = Some("engineering manager".into()),
            Want {
                account_key: "northwind.io",
                company_domain: Some("northwind.io"),
                free_mail: false,
                enrichment: EnrichmentStatus::Enriched,
                persona: Persona::P2,
                warnings: &[],
            },
        ),
        (
            "practitioner",
            |e| e.contact.title = Some("Data Engineer".into()),
            Want {
                account_key: "northwind.io",
                company_domain: Some("northwind.io"),
                free_mail: false,
                enrichment: EnrichmentStatus::Enriched,
                persona: Persona::P3,
                warnings: &[],
            },
        ),
    ];
    for (name, edit, want) in cases {
        let mut event = samples::lead_event();
        edit(&mut event);
        let got = enrich_one(&mut stage(), event).await.unwrap();
        assert_eq!(got.account_key, want.account_key, "{name}");
        assert_eq!(got.company_domain.as_deref(), want.company_domain, "{name}");
        assert_eq!(got.free_mail, want.free_mail, "{name}");
        assert_eq!(got.enrichment, want.enrichment, "{name}");
        assert_eq!(
            got.firmographics.is_some(),
            want.enrichment == EnrichmentStatus::Enriched,
            "{name}"
        );
        assert_eq!(got.persona, want.persona, "{name}: {}", got.persona_reason);
        assert_eq!(got.quality_warnings, want.warnings, "{name}");
        assert!(!got.is_update, "{name}");
    }
}

#[tokio::test]
async fn a_buying_committee_shares_the_account_key() {
    let mut stage = stage();
    let mut keys = Vec::new();
    for (i, (email, domain)) in [
        ("ada@northwind.io", Some("northwind.io")),
        ("grace@northwind.io", None),
        ("alan@mail.northwind.io", None),
        ("linus@gmail.com", Some("https://www.northwind.io")),
    ]
    .into_iter()
    .enumerate()
    {
        let mut e = lead(&format!("e{i}"), &format!("l{i}"), Some(email), i as i64);
        e.company.domain = domain.map(Into::into);
        e.account_domain = None;
        keys.push(enrich_one(&mut stage, e).await.unwrap().account_key);
    }
    assert_eq!(keys, ["northwind.io"; 4]);
}

/// A provider that always fails, counting calls.
#[derive(Default)]
struct DownProvider {
    calls: AtomicUsize,
}

impl FirmographicsProvider for DownProvider {
    async fn lookup(&self, _domain: &str) -> Result<Option<Firmographics>, ProviderError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Err(ProviderError::CircuitOpen)
    }
}

#[tokio::test]
async fn a_provider_outage_degrades_but_the_lead_flows() {
    let mut stage = EnrichStage::with_provider(&EnrichSettings::demo(), DownProvider::default());
    let got = enrich_one(&mut stage, samples::lead_event()).await.unwrap();
    assert_eq!(got.enrichment, EnrichmentStatus::ProviderUnavailable);
    assert_eq!(got.firmographics, None);
    assert_eq!(got.quality_warnings, [warnings::PROVIDER_UNAVAILABLE]);
    assert_eq!(got.persona, Persona::P1);
    assert_eq!(stage.enricher().await.index().len(), 3);
}

#[tokio::test]
async fn replay_reproduces_the_same_output() {
    let inputs: Vec<LeadEvent> = (0..20)
        .map(|i| {
            lead(
                &format!("e{i}"),
                &format!("l{}", i % 7),
                Some(&format!("p{}@northwind.io", i % 5)),
                i * DAY / 2,
            )
        })
        .collect();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let mut stage = stage();
        let mut out = Vec::new();
        for e in &inputs {
            out.push(enrich_one(&mut stage, e.clone()).await.unwrap());
        }
        runs.push(out);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].iter().all(|e| e.enriched_at == e.lead.occurred_at));
}
