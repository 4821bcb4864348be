//! Shared by the sandbox tests: a sandbox on loopback and notify settings pointing at it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use leadflow_events::AnyEvent;
use leadflow_events::{
    DeliveryChannel, DeliveryReceipt, DeliveryStatus, ExceptionRecord, HandoffPacket, Timestamp,
    samples,
};
use leadflow_notify::settings::SmtpTls;
use leadflow_notify::{NotifySettings, NotifyStage};
use leadflow_runtime::{Context, Output, Secret, Stage, StageRegistry};
use leadflow_sandbox::{Sandbox, SandboxConfig};

/// A notify stage with its own metrics registry.
pub fn new_stage(s: &NotifySettings) -> NotifyStage {
    NotifyStage::from_settings(s, &StageRegistry::new("notify")).unwrap()
}

pub async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig::default()).await.unwrap()
}

/// Settings for the sandbox with short, test-sized rules.
pub fn settings(sb: &Sandbox) -> NotifySettings {
    let mut s = NotifySettings::default();
    s.slack.api_url = sb.slack_api_url();
    s.slack.bot_token = Some(Secret::new("xoxb-sandbox-token"));
    s.slack.channels.insert("ae".into(), "#ae-hot-leads".into());
    s.hubspot.api_url = sb.hubspot_api_url();
    s.hubspot.token = Some(Secret::new("pat-sandbox-token"));
    s.hubspot.record_url = format!("{}/crm/record/{{contact_id}}", sb.base_url());
    s.email.smtp_host = "127.0.0.1".into();
    s.email.smtp_port = sb.smtp_addr.port();
    s.email.tls = SmtpTls::None;
    s.email
        .team_inboxes
        .insert("ae".into(), "ae-team@example.com".into());
    s.fallback_after_ms = 1_000;
    s.give_up_after_ms = 60_000;
    s.attempt_timeout_ms = 2_000;
    s.initial_backoff_ms = 100;
    s.max_backoff_ms = 1_000;
    s.breaker_failures = 3;
    s.breaker_open_ms = 500;
    s.crm_link_wait_ms = 500;
    s
}

pub fn packet(n: u32) -> HandoffPacket {
    let mut p = samples::handoff_packet();
    p.packet_id = format!("pkt-{n:04}");
    p.idempotency_key = format!("lead-{n:04}|evt-{n:04}|HOT|HOT_LEAD|0");
    p.decision.scored.enriched.lead.lead_id = format!("lead-{n:04}");
    p.visitor.email = Some(format!("visitor{n}@acme.example"));
    p.visitor.name = Some(format!("Ada Visitor{n}"));
    p.visitor.company = Some("Acme Data".into());
    p.summary = "Rebuilding their data platform this quarter. Asked for pricing for 40 seats. Wants a demo this week. Budget approved.".into();
    p.created_at = Timestamp::from(chrono::Utc::now());
    p
}

pub fn ctx() -> Context {
    let mut c = Context::for_test(Timestamp::from(chrono::Utc::now()));
    c.topic = "handoff.packets".into();
    c
}

pub async fn run(stage: &NotifyStage, p: HandoffPacket) -> Vec<Output> {
    stage.process(p, &ctx()).await.unwrap()
}

pub fn receipts(out: &[Output]) -> Vec<DeliveryReceipt> {
    out.iter()
        .filter_map(|o| match &o.event {
            AnyEvent::DeliveryReceipt(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

pub fn exceptions(out: &[Output]) -> Vec<ExceptionRecord> {
    out.iter()
        .filter_map(|o| match &o.event {
            AnyEvent::ExceptionRecord(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

pub fn with(rs: &[DeliveryReceipt], c: DeliveryChannel, s: DeliveryStatus) -> Vec<DeliveryReceipt> {
    rs.iter()
        .filter(|r| r.channel == c && r.status == s)
        .cloned()
        .collect()
}
