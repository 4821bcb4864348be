//! The enrich stage end to end, without a broker: raw events in, outputs / poison errors out.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use leadflow_enrich::provider::{
    Firmographics, FirmographicsProvider, LocalProvider, ProviderError,
};
use leadflow_enrich::{EnrichSettings, EnrichStage, warnings};
use leadflow_events::AnyEvent;
use leadflow_events::{
    Codec, EnrichedLead, EnrichmentStatus, ErrorKind, LeadEvent, Persona, Timestamp, TopicRole,
    samples,
};
use leadflow_runtime::{Context, SideInput, SideStart, Stage, StageError};

const DAY: i64 = 86_400_000;

fn stage() -> EnrichStage<LocalProvider> {
    EnrichStage::with_provider(&EnrichSettings::demo(), LocalProvider::demo())
}

fn ctx() -> Context {
    Context::for_test(samples::T0)
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
    let out = stage.process(event, &ctx()).await.expect("valid event");
    assert!(out.len() <= 1);
    out.into_iter().next().map(|o| {
        assert_eq!(o.role, TopicRole::Enriched);
        match o.event {
            AnyEvent::EnrichedLead(e) => e,
            other => panic!("unexpected output {other:?}"),
        }
    })
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
async fn the_dedup_memory_is_rebuilt_from_the_enriched_side_input() {
    let mut before = stage();
    let e1 = enrich_one(&mut before, lead("e1", "l1", Some("ada@northwind.io"), 0))
        .await
        .unwrap();

    // A new instance (restart, rebalance) replays its own recent output first.
    let mut after = stage();
    assert_eq!(
        after.side_inputs(),
        vec![SideInput {
            role: TopicRole::Enriched,
            start: SideStart::Since(Duration::from_secs(30 * 86_400)),
        }]
    );
    after
        .on_side_input(AnyEvent::EnrichedLead(e1.clone()))
        .unwrap();
    // Replaying the same record twice (or other event kinds) is harmless.
    after
        .on_side_input(AnyEvent::EnrichedLead(e1.clone()))
        .unwrap();
    after
        .on_side_input(AnyEvent::ScoredLead(samples::scored_lead()))
        .unwrap();

    // The raw event re-delivered after the restart is not produced twice ...
    assert!(enrich_one(&mut after, e1.lead.clone()).await.is_none());
    // ... and the same person again is an update.
    let again = enrich_one(&mut after, lead("e2", "l9", Some("ada@northwind.io"), DAY))
        .await
        .unwrap();
    assert!(again.is_update);
    assert_eq!(again.previous_event_id.as_deref(), Some("e1"));

    // Its own outputs come back through the side input live: idempotent.
    after
        .on_side_input(AnyEvent::EnrichedLead(again.clone()))
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
