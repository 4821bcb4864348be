//! The failure path of an enrolment (RULES.md E3, E5) through `NurtureStage::process`, with the
//! sandbox as HubSpot (no broker): what is retried and how many calls HubSpot sees, which
//! exception (kind, reason, owner) the runtime would write, and that a lead without an email calls
//! nobody. Backoff is shortened to 20–80 ms; a `Retry-After` is the sandbox's, in whole seconds.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use leadflow_events::{
    AnyEvent, ErrorKind, ExceptionRecord, HandoffKind, RepActivityKind, TierDecision, Timestamp,
    samples,
};
use leadflow_nurture::{NurtureSettings, NurtureStage};
use leadflow_runtime::config::ExceptionsConfig;
use leadflow_runtime::exceptions::{Source, exception_record};
use leadflow_runtime::{Context, Output, Secret, Stage, StageError, StageRegistry};
use leadflow_sandbox::{FaultMode, FaultSpec, Recorded, Sandbox, SandboxConfig, Service};

const UPSERT: &str = "/crm/v3/objects/contacts/batch/upsert";
const LIST_ADD: &str = "/crm/v3/lists/101/memberships/add";

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig::default()).await.unwrap()
}

/// The stage against the sandbox, 5 attempts (the default) 20, 40, 80, 80 ms apart.
fn stage(sb: &Sandbox) -> NurtureStage {
    let mut s = NurtureSettings::default();
    s.hubspot.api_url = sb.hubspot_api_url();
    s.hubspot.token = Some(Secret::new("pat-sandbox-token"));
    s.hubspot.record_url = format!("{}/crm/record/{{contact_id}}", sb.base_url());
    s.initial_backoff_ms = 20;
    s.max_backoff_ms = 80;
    s.attempt_timeout_ms = 2_000;
    assert_eq!(s.retry_attempts, 5);
    NurtureStage::new(&s, &StageRegistry::new("nurture")).unwrap()
}

/// A NURTURE_24H decision (list 101) of a lead with this email.
fn decision(email: Option<&str>) -> TierDecision {
    let mut d = samples::tier_decision();
    d.tier = "NURTURE_24H".into();
    d.handoff = HandoffKind::None;
    d.scored.enriched.lead.contact.email = email.map(str::to_owned);
    d
}

async fn process(stage: &NurtureStage, d: TierDecision) -> Result<Vec<Output>, StageError> {
    let ctx = Context::for_test(Timestamp(d.decided_at.0 + 1_000));
    stage.process(d, &ctx).await
}

/// The exceptions-topic record the runtime makes of the stage's error (its configured default
/// owner is `revops`: the stage must name marketing-ops itself).
fn exception(result: Result<Vec<Output>, StageError>) -> ExceptionRecord {
    let Err(StageError::Poison {
        kind,
        reason,
        owner,
    }) = result
    else {
        panic!("expected an exception, got {result:?}");
    };
    let source = Source {
        stage: "nurture",
        topic: "leads.tiered",
        partition: 0,
        offset: 0,
        key: None,
        payload: b"",
    };
    let cfg = ExceptionsConfig::default();
    assert_eq!(cfg.owner, "revops");
    exception_record(&source, kind, reason, owner, None, &cfg, samples::T0)
}

fn hubspot_calls(sb: &Sandbox) -> Vec<Recorded> {
    let calls = sb.state.requests();
    assert!(
        calls.iter().all(|r| r.service == Service::Hubspot),
        "{calls:#?}"
    );
    calls
}

/// (path, status) of each call, in order.
fn calls(sb: &Sandbox) -> Vec<(String, u16)> {
    hubspot_calls(sb)
        .into_iter()
        .map(|r| (r.path, r.status))
        .collect()
}

fn call(path: &str, status: u16) -> (String, u16) {
    (path.to_owned(), status)
}

#[tokio::test]
async fn an_ok_after_three_5xx_enrols_exactly_once() {
    let sb = sandbox().await;
    sb.set_fault(Service::Hubspot, FaultSpec::new(FaultMode::Error).count(3));
    let stage = stage(&sb);
    let out = process(&stage, decision(Some("dana@northwind.example")))
        .await
        .unwrap();

    assert_eq!(
        calls(&sb),
        vec![
            call(UPSERT, 500),
            call(UPSERT, 500),
            call(UPSERT, 500),
            call(UPSERT, 200),
            call(LIST_ADD, 200),
        ],
        "retried until HubSpot answers, then one list add"
    );
    let contact = sb.state.crm_objects("contacts");
    assert_eq!(contact.len(), 1);
    assert_eq!(sb.state.list_members("101"), vec![contact[0].id.clone()]);

    let [receipt, activity] = &out[..] else {
        panic!("a receipt and an activity: {out:#?}");
    };
    let AnyEvent::DeliveryReceipt(r) = &receipt.event else {
        panic!("{receipt:?}")
    };
    assert_eq!(
        r.attempts, 4,
        "three failed calls and the one that enrolled"
    );
    let want_external = format!("list:101/contact:{}", contact[0].id);
    assert_eq!(r.external_id.as_deref(), Some(want_external.as_str()));
    let AnyEvent::RepActivity(a) = &activity.event else {
        panic!("{activity:?}")
    };
    assert_eq!(a.kind, RepActivityKind::Enrolled);
    assert_eq!(stage.metrics().retries(), 3);
    assert_eq!(stage.metrics().decisions("NURTURE_24H", "enrolled"), 1);
    assert_eq!(stage.metrics().decisions("NURTURE_24H", "failed"), 0);
}

#[tokio::test]
async fn five_unavailable_answers_give_a_delivery_exception_for_marketing_ops() {
    let sb = sandbox().await;
    sb.set_fault(Service::Hubspot, FaultSpec::new(FaultMode::Error));
    let stage = stage(&sb);
    let started = Instant::now();
    let ex = exception(process(&stage, decision(Some("dana@northwind.example"))).await);
    let took = started.elapsed();

    assert_eq!(
        calls(&sb),
        vec![call(UPSERT, 500); 5],
        "5 attempts, no more"
    );
    assert!(sb.state.lists().is_empty());
    assert!(
        took >= Duration::from_millis(20 + 40 + 80 + 80),
        "backed off between attempts: {took:?}"
    );
    assert_eq!(ex.error_kind, ErrorKind::Delivery);
    assert_eq!(ex.owner, "marketing-ops");
    assert!(
        ex.reason.starts_with(
            "the NURTURE_24H sequence enrolment failed: HubSpot unavailable after 5 attempts"
        ),
        "{}",
        ex.reason
    );
    assert!(ex.reason.contains("500"), "the last error: {}", ex.reason);
    assert_eq!(stage.metrics().retries(), 4);
    assert_eq!(stage.metrics().decisions("NURTURE_24H", "failed"), 1);
}

#[tokio::test]
async fn a_4xx_refusal_is_not_retried_and_is_a_validation_exception() {
    let sb = sandbox().await;
    let stage = stage(&sb);
    // not blank, so the stage tries it; the sandbox (like HubSpot) answers 400 INVALID_EMAIL
    let ex = exception(process(&stage, decision(Some("dana-at-northwind"))).await);

    assert_eq!(calls(&sb), vec![call(UPSERT, 400)], "one call, no retry");
    assert_eq!(ex.error_kind, ErrorKind::Validation);
    assert_eq!(ex.owner, "marketing-ops");
    assert!(
        ex.reason.starts_with(
            "the NURTURE_24H sequence enrolment failed: HubSpot refused the enrolment"
        ),
        "{}",
        ex.reason
    );
    assert!(ex.reason.contains("400"), "{}", ex.reason);
    assert!(
        !ex.reason.contains("dana-at-northwind"),
        "no personal data in the reason (E6): {}",
        ex.reason
    );
    assert_eq!(stage.metrics().retries(), 0);
    assert_eq!(stage.metrics().decisions("NURTURE_24H", "failed"), 1);
}

#[tokio::test]
async fn a_429_waits_its_retry_after_before_the_next_attempt() {
    let sb = sandbox().await;
    sb.set_fault(
        Service::Hubspot,
        FaultSpec::new(FaultMode::RateLimit).count(1).retry_after(1),
    );
    let stage = stage(&sb);
    let out = process(&stage, decision(Some("dana@northwind.example")))
        .await
        .unwrap();

    let recorded = hubspot_calls(&sb);
    assert_eq!(
        calls(&sb),
        vec![call(UPSERT, 429), call(UPSERT, 200), call(LIST_ADD, 200)]
    );
    let at = |r: &Recorded| Timestamp::parse_rfc3339(&r.at).unwrap().0;
    let gap = at(&recorded[1]) - at(&recorded[0]);
    // the backoff alone would wait 20 ms
    assert!(
        gap >= 1_000,
        "next attempt only after Retry-After: {gap} ms"
    );
    assert!(gap < 2_500, "and not much later: {gap} ms");
    assert_eq!(out.len(), 2);
    assert_eq!(stage.metrics().retries(), 1);
    assert_eq!(sb.state.list_members("101").len(), 1);
}

#[tokio::test]
async fn a_lead_without_an_email_is_missing_field_for_marketing_ops_and_calls_nobody() {
    let sb = sandbox().await;
    let stage = stage(&sb);
    for email in [None, Some(""), Some("  ")] {
        let ex = exception(process(&stage, decision(email)).await);
        assert_eq!(ex.error_kind, ErrorKind::MissingField, "{email:?}");
        assert_eq!(ex.owner, "marketing-ops");
        assert_eq!(
            ex.reason,
            "the NURTURE_24H sequence needs the lead's email, and the lead has none"
        );
    }
    assert!(sb.state.requests().is_empty(), "no HubSpot call");
    assert_eq!(stage.metrics().decisions("NURTURE_24H", "no_email"), 3);
    assert_eq!(stage.metrics().retries(), 0);
}
