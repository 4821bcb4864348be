//! Delivers a few sample handoffs to a running sandbox, without Kafka, to look at the result:
//!   target/debug/leadflow-sandbox &   # page on http://127.0.0.1:8025/
//!   cargo run -p leadflow-notify --example deliver_samples -- http://127.0.0.1:8025 2525

use leadflow_events::{LeadLevel, Timestamp, samples};
use leadflow_notify::settings::SmtpTls;
use leadflow_notify::{Handoff, NotifySettings, NotifyStage};
use leadflow_runtime::{Secret, StageRegistry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8025".into());
    let smtp_port: u16 = args.next().map_or(Ok(2525), |p| p.parse())?;
    let mut s = NotifySettings::default();
    s.slack.api_url = format!("{base}/slack/api");
    s.slack.bot_token = Some(Secret::new("xoxb-sandbox-token"));
    s.slack.channels.insert("ae".into(), "#ae-hot-leads".into());
    s.hubspot.api_url = format!("{base}/hubspot");
    s.hubspot.token = Some(Secret::new("pat-sandbox-token"));
    s.hubspot.record_url = format!("{base}/#contact-{{contact_id}}");
    s.email.smtp_host = "127.0.0.1".into();
    s.email.smtp_port = smtp_port;
    s.email.tls = SmtpTls::None;
    s.fallback_after_ms = 1_000;
    s.give_up_after_ms = 5_000;
    let stage = NotifyStage::from_settings(&s, &StageRegistry::new("notify"))
        .map_err(anyhow::Error::msg)?;
    let people = [
        (
            "Ada",
            "Lovelace",
            "Analytical Engines",
            "VP Data",
            LeadLevel::Hot,
        ),
        ("Grace", "Hopper", "Cobol Systems", "CTO", LeadLevel::Hot),
        (
            "Alan",
            "Turing",
            "Bletchley Labs",
            "Head of Platform",
            LeadLevel::Warm,
        ),
    ];
    for (i, (first, last, company, title, level)) in people.into_iter().enumerate() {
        let mut p = samples::handoff_packet();
        p.packet_id = format!("pkt-demo-{i}-{}", chrono::Utc::now().timestamp_millis());
        p.idempotency_key = format!("{}|demo", p.packet_id);
        p.decision.scored.enriched.lead.lead_id = format!("lead-demo-{i}");
        p.visitor.name = Some(format!("{first} {last}"));
        p.visitor.title = Some(title.into());
        p.visitor.email = Some(format!(
            "{}@{}.example",
            first.to_lowercase(),
            last.to_lowercase()
        ));
        p.visitor.company = Some(company.into());
        p.decision.lead_level = level;
        if level == LeadLevel::Warm {
            p.decision.tier = "WARM".into();
            p.commitment = Some("We will get back to you before 10:00 tomorrow".into());
        }
        p.summary = format!(
            "{first} is rebuilding the data platform at {company} this quarter. Asked for pricing for 40 seats and a demo this week. Budget is approved; timing confirmed."
        );
        let now = Timestamp::from(chrono::Utc::now());
        p.created_at = now;
        p.sla = vec![leadflow_events::SlaDeadline {
            kind: leadflow_events::SlaKind::FirstContact,
            due_at: Timestamp(now.0 + 5 * 60_000),
        }];
        let report = stage.notifier().deliver(&Handoff::from_packet(&p)).await;
        for r in &report.receipts {
            println!(
                "{:?} {:?} attempt {} {}",
                r.channel,
                r.status,
                r.attempts,
                r.error.clone().unwrap_or_default()
            );
        }
    }
    Ok(())
}
