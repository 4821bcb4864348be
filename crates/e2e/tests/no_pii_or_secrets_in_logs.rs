#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! Personal data and credentials never reach a log line or `/metrics`.
//!
//! - PII: leads with recognisable emails, phones and names (valid and invalid ones, so the
//!   exception path runs too) go through enrich → score → tier → route → notify as real processes
//!   at debug log level; every line each process wrote, and each one's `/metrics`, is searched for
//!   every canary (raw and normalised forms).
//! - Secrets: notify runs with canary Slack/CRM tokens; a stage runs with a schema registry that
//!   needs basic auth (canary password); two stages are configured for SASL/SCRAM with a canary
//!   password, one from the environment and one from a `sasl_password_file` (the local broker speaks
//!   no SASL, so they fail to connect and log why: what matters here is what they log). No canary may
//!   appear in any log line or `/metrics`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use leadflow_cli::generate::{DEFAULT_START, LeadGenerator};
use leadflow_e2e::Service;
use leadflow_events::{Codec, Event, ExceptionRecord, HandoffPacket, LeadEvent, Timestamp};
use leadflow_sandbox::{Sandbox, SandboxConfig};
use leadflow_testkit::{
    FakeSchemaRegistry, bootstrap, consume_all, create_topic, produce_raw_all, unique_name,
};

const LEADS: usize = 40;
const SLACK_TOKEN: &str = "xoxb-canary-slack-5f1e9a";
const CRM_TOKEN: &str = "pat-canary-crm-77c2d4";
const SASL_ENV_PASSWORD: &str = "sasl-canary-env-4b8e21";
const SASL_FILE_PASSWORD: &str = "sasl-canary-file-9d03ac";
const REGISTRY_PASSWORD: &str = "registry-canary-31f6b7";

const STAGES: [&str; 5] = [
    "leadflow-enrich",
    "leadflow-score",
    "leadflow-tier",
    "leadflow-route",
    "leadflow-notify",
];
const DEBUG_LOGS: &str = "info,leadflow_runtime=debug,leadflow_enrich=debug,leadflow_score=debug,\
                          leadflow_tier=debug,leadflow_route=debug,leadflow_notify=debug";

/// Recognisable personal data of lead `i`, and the strings that must never be logged for it.
fn with_pii(mut lead: LeadEvent, i: usize) -> (LeadEvent, Vec<String>) {
    let first = format!("Zebulonpii{i}");
    let last = format!("Quixcanary{i}");
    let local = format!("zq.canary{i}");
    // a third of the leads get an invalid address (the exception path); the rest keep the
    // generated lead's domain so they enrich and hand off as usual
    let domain = lead
        .contact
        .email
        .as_deref()
        .and_then(|e| e.split_once('@').map(|(_, d)| d.to_owned()))
        .unwrap_or_else(|| "example.com".into());
    let email = if i % 3 == 0 {
        format!("{local}@@{domain}")
    } else {
        format!("{local}@{domain}")
    };
    // UK drama numbers (+44 20 7946 0xxx), never assigned
    let national = format!("2079460{i:03}");
    let phone = format!("+44 20 7946 0{i:03}");
    lead.contact.first_name = Some(first.clone());
    lead.contact.last_name = Some(last.clone());
    lead.contact.email = Some(email.clone());
    lead.contact.phone = Some(phone.clone());
    let canaries = vec![
        first,
        last,
        local.clone(),
        email.to_ascii_lowercase(),
        phone,
        format!("+44{national}"),
        national,
    ];
    (lead, canaries)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn scrape(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(
        s,
        "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    let (head, body) = body.split_once("\r\n\r\n")?;
    head.contains(" 200").then(|| body.to_owned())
}

/// Every canary found in `text`, with the line it is on.
fn leaks<'a>(text: &'a str, canaries: &[String]) -> Vec<(String, &'a str)> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    for c in canaries {
        let c_lower = c.to_ascii_lowercase();
        if let Some(at) = lower.find(&c_lower) {
            let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
            let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
            found.push((c.clone(), &text[start..end]));
        }
    }
    found
}

fn base_env(
    bs: &str,
    b: &str,
    port: u16,
    names: &BTreeMap<&str, String>,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::from([
        ("LEADFLOW_BOOTSTRAP_SERVERS".to_owned(), bs.to_owned()),
        (
            "LEADFLOW_GROUP_ID".to_owned(),
            unique_name(&format!("e2e-pii-{b}")),
        ),
        (
            "LEADFLOW_HTTP__LISTEN".to_owned(),
            format!("127.0.0.1:{port}"),
        ),
        ("LEADFLOW_SHUTDOWN_GRACE_MS".to_owned(), "10000".to_owned()),
        ("LEADFLOW_LOG__LEVEL".to_owned(), DEBUG_LOGS.to_owned()),
    ]);
    for (role, topic) in names {
        env.insert(
            format!("LEADFLOW_TOPICS__{}", role.to_ascii_uppercase()),
            topic.clone(),
        );
    }
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_pii_or_secret_reaches_a_log_line_or_metrics() {
    let bs = bootstrap();
    let names: BTreeMap<&str, String> = [
        "raw",
        "enriched",
        "scored",
        "tiered",
        "packets",
        "deliveries",
        "activity",
        "reps",
        "model_params",
        "exceptions",
    ]
    .into_iter()
    .map(|role| (role, unique_name(&format!("e2e-pii-{role}"))))
    .collect();
    for (role, topic) in &names {
        let partitions = if matches!(*role, "reps" | "model_params") {
            1
        } else {
            2
        };
        create_topic(&bs, topic, partitions).await;
    }
    let codec = Codec::single_object().unwrap();
    let start = Timestamp::parse_rfc3339(DEFAULT_START).unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/roster.csv"
    ))
    .unwrap();
    let roster = leadflow_cli::reps::roster_file::parse("roster.csv", &text, start).unwrap();
    let mut records = Vec::new();
    for r in &roster {
        records.push((
            Some(r.rep_id.as_bytes().to_vec()),
            codec.encode(&names["reps"], r).await.unwrap(),
        ));
    }
    produce_raw_all(&bs, &names["reps"], records).await;

    let mut generator = LeadGenerator::new(31, start);
    let mut records = Vec::new();
    let mut pii = Vec::new();
    let mut lead_ids = Vec::new();
    for i in 0..LEADS {
        let (lead, canaries) = with_pii(generator.next_lead().event, i);
        pii.extend(canaries);
        lead_ids.push(lead.lead_id.clone());
        records.push((
            Some(lead.key().as_bytes().to_vec()),
            codec.encode(&names["raw"], &lead).await.unwrap(),
        ));
    }
    produce_raw_all(&bs, &names["raw"], records).await;

    let sandbox = Sandbox::start(SandboxConfig {
        slack_bot_token: SLACK_TOKEN.into(),
        hubspot_token: CRM_TOKEN.into(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let logs = tempfile::tempdir().unwrap();
    let mut services = Vec::new();
    for b in STAGES {
        let port = free_port();
        let mut env = base_env(&bs, b, port, &names);
        if b == "leadflow-enrich" {
            env.insert("LEADFLOW_STAGE__PROVIDER__KIND".into(), "demo".into());
        }
        if b == "leadflow-notify" {
            for (k, v) in [
                ("SLACK__API_URL", sandbox.slack_api_url()),
                ("SLACK__BOT_TOKEN", SLACK_TOKEN.to_owned()),
                ("HUBSPOT__API_URL", sandbox.hubspot_api_url()),
                ("HUBSPOT__TOKEN", CRM_TOKEN.to_owned()),
                ("EMAIL__SMTP_HOST", "127.0.0.1".to_owned()),
                ("EMAIL__SMTP_PORT", sandbox.smtp_addr.port().to_string()),
                ("EMAIL__TLS", "none".to_owned()),
            ] {
                env.insert(format!("LEADFLOW_STAGE__{k}"), v);
            }
        }
        services.push((Service::start(b, &env, logs.path()), port));
    }

    // Secrets only: a scorer behind a registry with basic auth, and two tiers configured for SASL.
    let registry = FakeSchemaRegistry::start().await;
    let secret_dir = tempfile::tempdir().unwrap();
    let password_file = secret_dir.path().join("kafka-password");
    std::fs::write(&password_file, format!("{SASL_FILE_PASSWORD}\n")).unwrap();
    let mut secret_names = names.clone();
    secret_names.insert("scored", unique_name("e2e-pii-scored-registry"));
    create_topic(&bs, &secret_names["scored"], 1).await;
    let mut others = Vec::new();
    {
        let port = free_port();
        let mut env = base_env(&bs, "leadflow-score", port, &secret_names);
        env.insert("LEADFLOW_REGISTRY__URL".into(), registry.url().to_owned());
        env.insert("LEADFLOW_REGISTRY__USERNAME".into(), "leadflow".into());
        env.insert(
            "LEADFLOW_REGISTRY__PASSWORD".into(),
            REGISTRY_PASSWORD.into(),
        );
        let dir = logs.path().join("registry");
        std::fs::create_dir_all(&dir).unwrap();
        others.push((Service::start("leadflow-score", &env, &dir), port));
    }
    for (i, from_file) in [false, true].into_iter().enumerate() {
        let port = free_port();
        let mut env = base_env(&bs, "leadflow-tier", port, &names);
        env.insert(
            "LEADFLOW_GROUP_ID".into(),
            unique_name(&format!("e2e-sasl-{i}")),
        );
        env.insert(
            "LEADFLOW_SECURITY__PROTOCOL".into(),
            "SASL_PLAINTEXT".into(),
        );
        env.insert(
            "LEADFLOW_SECURITY__SASL_MECHANISM".into(),
            "SCRAM-SHA-512".into(),
        );
        env.insert(
            "LEADFLOW_SECURITY__SASL_USERNAME".into(),
            "leadflow-tier".into(),
        );
        if from_file {
            env.insert(
                "LEADFLOW_SECURITY__SASL_PASSWORD_FILE".into(),
                password_file.to_str().unwrap().into(),
            );
        } else {
            env.insert(
                "LEADFLOW_SECURITY__SASL_PASSWORD".into(),
                SASL_ENV_PASSWORD.into(),
            );
        }
        // the SASL tiers' log files are named after the binary; a second directory keeps them apart
        let dir = logs.path().join(format!("sasl-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        others.push((Service::start("leadflow-tier", &env, &dir), port));
    }

    // Run until every lead reached a packet or an exception (or the deadline), scraping /metrics.
    let mut metrics: BTreeMap<String, String> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let (packets, exceptions) = loop {
        let packets: Vec<HandoffPacket> = {
            let mut v = Vec::new();
            for r in consume_all(&bs, &names["packets"], LEADS, Duration::from_secs(2)).await {
                v.push(codec.decode(&r.payload).await.unwrap());
            }
            v
        };
        let mut exceptions: Vec<ExceptionRecord> = Vec::new();
        for r in consume_all(&bs, &names["exceptions"], LEADS * 4, Duration::from_secs(2)).await {
            exceptions.push(codec.decode(&r.payload).await.unwrap());
        }
        for (s, port) in services.iter().chain(others.iter()) {
            let port = *port;
            if let Some(text) = tokio::task::spawn_blocking(move || scrape(port))
                .await
                .unwrap()
            {
                metrics.insert(format!("{} :{port}", s.name), text);
            }
        }
        let invalid_seen = exceptions.iter().filter(|e| e.stage == "enrich").count();
        let slack_posts = sandbox.state.slack_messages().len();
        if (invalid_seen >= LEADS / 3 && !packets.is_empty() && slack_posts > 0)
            || Instant::now() > deadline
        {
            break (packets, exceptions);
        }
    };
    let mut all_logs = String::new();
    for (s, _) in services.into_iter().chain(others) {
        let log = s.log();
        all_logs.push_str(&format!("--- {}\n{log}\n", s.name));
        let _ = s.terminate(Duration::from_secs(15));
    }
    // after shutdown too: the logs of a stopping process count
    for entry in walk(logs.path()) {
        all_logs.push_str(&std::fs::read_to_string(entry).unwrap_or_default());
    }

    // the run did what the test needs: the invalid leads became exceptions, others handed off
    let invalid = exceptions.iter().filter(|e| e.stage == "enrich").count();
    assert!(
        invalid >= LEADS / 3,
        "the invalid emails became enrich exceptions ({invalid}); logs:\n{all_logs}"
    );
    assert!(!packets.is_empty(), "leads handed off; logs:\n{all_logs}");
    assert!(
        all_logs.lines().count() > 50,
        "the processes logged (at debug level)"
    );
    assert!(
        all_logs.contains("SASL") || all_logs.to_ascii_lowercase().contains("sasl"),
        "the SASL-configured tiers ran and logged about SASL:\n{all_logs}"
    );
    assert!(
        metrics.keys().any(|k| k.starts_with("leadflow-notify")),
        "notify's /metrics was scraped: {:?}",
        metrics.keys()
    );

    let secrets: Vec<String> = [
        SLACK_TOKEN,
        CRM_TOKEN,
        SASL_ENV_PASSWORD,
        SASL_FILE_PASSWORD,
        REGISTRY_PASSWORD,
    ]
    .map(str::to_owned)
    .to_vec();
    let leaked_secrets = leaks(&all_logs, &secrets);
    assert!(
        leaked_secrets.is_empty(),
        "secrets in logs: {leaked_secrets:#?}"
    );
    let leaked_pii = leaks(&all_logs, &pii);
    assert!(
        leaked_pii.is_empty(),
        "personal data in logs: {leaked_pii:#?}"
    );
    for (process, text) in &metrics {
        let found = leaks(text, &secrets);
        assert!(
            found.is_empty(),
            "secrets in {process} /metrics: {found:#?}"
        );
        let found = leaks(text, &pii);
        assert!(
            found.is_empty(),
            "personal data in {process} /metrics: {found:#?}"
        );
    }
    // the canaries were really there to be found: in the records (a check of the check)
    assert!(!leaks(&format!("{packets:?}"), &pii).is_empty());
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
