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
//!
//! The check is checked too, with the same scanner (`leadflow_e2e::leaks`) and the same log
//! collection (`leadflow_e2e::read_logs_under`): canaries planted in log lines and a `/metrics` body
//! are each flagged and clean lines are not (no broker), and a stage made to log a canary through its
//! real logging path (its consumer group named after a lead's email) is caught in its log file.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use leadflow_e2e::{
    Service, StageEnv, TestTopics, free_port, leaks, read_logs_under, scrape, with_pii,
};
use leadflow_events::{Codec, Event, ExceptionRecord, HandoffPacket, Timestamp};
use leadflow_generate::{DEFAULT_START, LeadGenerator};
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

/// The configured secrets the test searches for.
fn secrets() -> Vec<String> {
    [
        SLACK_TOKEN,
        CRM_TOKEN,
        SASL_ENV_PASSWORD,
        SASL_FILE_PASSWORD,
        REGISTRY_PASSWORD,
    ]
    .map(str::to_owned)
    .to_vec()
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
        "dedup_keys",
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
    let roster = leadflow_generate::roster_file::parse("roster.csv", &text, start).unwrap();
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
    all_logs.push_str(&read_logs_under(logs.path()));

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
    for i in 0..2 {
        // each SASL-configured tier's own log (its directory) says why it could not connect
        let own = read_logs_under(&logs.path().join(format!("sasl-{i}")));
        assert!(
            own.to_ascii_lowercase().contains("sasl"),
            "the SASL-configured tier {i} ran and logged about SASL:\n{own}"
        );
    }
    assert!(
        metrics.keys().any(|k| k.starts_with("leadflow-notify")),
        "notify's /metrics was scraped: {:?}",
        metrics.keys()
    );

    let secrets = secrets();
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

// ---- checks of the check ------------------------------------------------------------------------

/// Log lines and a `/metrics` body as the stages write them, with the lead's ids, its email domain
/// and masked or partial forms of its contact data, but none of the canaries.
fn clean_output(lead_id: &str, domain: &str) -> String {
    format!(
        "2026-11-30T07:05:41.525422Z  INFO leadflow_runtime::pipeline: consuming stage=\"enrich\" \
         topic=leads.raw group=leadflow-enrich\n\
         2026-11-30T07:05:42.101200Z DEBUG leadflow_enrich::stage: enriched lead_id={lead_id} \
         email_domain={domain} email=\"z***@{domain}\" phone=\"+44 ** **** *007\" country=GB\n\
         2026-11-30T07:05:42.203311Z  WARN leadflow_runtime::input: input sent to the exceptions \
         topic error_kind=\"poison\" reason=\"contact.email: not an address (two @)\" \
         lead_id={lead_id}\n\
         2026-11-30T07:05:43.000001Z DEBUG leadflow_notify::slack: posted channel=C0SALES \
         authorization=\"Bearer <redacted>\" sasl.password=<redacted>\n\
         # TYPE leadflow_enrich_records_total counter\n\
         leadflow_enrich_records_total{{outcome=\"enriched\"}} 39\n\
         leadflow_enrich_exceptions_total{{kind=\"poison\",reason=\"invalid_email\"}} 14\n\
         leadflow_route_handoffs_total{{team=\"emea-mid-market\",tier=\"A\"}} 7\n"
    )
}

#[test]
fn the_scanner_flags_each_planted_canary_and_nothing_in_clean_output() {
    let start = Timestamp::parse_rfc3339(DEFAULT_START).unwrap();
    let mut generator = LeadGenerator::new(31, start);
    let (lead, pii) = with_pii(generator.next_lead().event, 7);
    let secrets = secrets();
    let email = lead.contact.email.clone().unwrap();
    let (local, domain) = email.split_once('@').unwrap();
    let (first, last) = (
        lead.contact.first_name.clone().unwrap(),
        lead.contact.last_name.clone().unwrap(),
    );
    let phone = lead.contact.phone.clone().unwrap();
    assert_eq!(
        pii,
        [
            first.clone(),
            last.clone(),
            local.to_owned(),
            email.to_ascii_lowercase(),
            phone.clone(),
            "+442079460007".to_owned(),
            "2079460007".to_owned(),
        ],
        "the canaries of lead 7 (the test below plants each form)"
    );
    let clean = clean_output(&lead.lead_id, domain);
    let everything: Vec<String> = pii.iter().chain(&secrets).cloned().collect();
    assert_eq!(
        leaks(&clean, &everything),
        Vec::<(String, &str)>::new(),
        "clean output is not flagged"
    );

    // (planted line, the canaries it must be flagged for)
    let ts = "2026-11-30T07:05:42.101200Z DEBUG";
    let planted: Vec<(String, Vec<&String>)> = vec![
        (
            format!("{ts} leadflow_enrich::stage: contact name=\"{first} {last}\""),
            vec![&pii[0], &pii[1]],
        ),
        (
            // upper case: the scanner ignores case, as an address's domain and a name may be
            // written either way
            format!(
                "{ts} leadflow_enrich::email: rejected email=\"{}\"",
                email.to_ascii_uppercase()
            ),
            vec![&pii[2], &pii[3]],
        ),
        (
            format!("{ts} leadflow_enrich::email: mailbox={local} role_account=false"),
            vec![&pii[2]],
        ),
        (
            format!("{ts} leadflow_enrich::phone: parsing phone=\"{phone}\""),
            vec![&pii[4]],
        ),
        (
            format!("{ts} leadflow_enrich::phone: normalised e164=+442079460007"),
            vec![&pii[5], &pii[6]],
        ),
        (
            format!("{ts} leadflow_notify::email: dial 02079460007"),
            vec![&pii[6]],
        ),
        (
            format!("leadflow_route_handoffs_total{{rep=\"{first}\",tier=\"A\"}} 1"),
            vec![&pii[0]],
        ),
        (
            format!("{ts} leadflow_notify::slack: request authorization=\"Bearer {SLACK_TOKEN}\""),
            vec![&secrets[0]],
        ),
        (
            format!("leadflow_notify_crm_requests_total{{token=\"{CRM_TOKEN}\"}} 3"),
            vec![&secrets[1]],
        ),
        (
            format!("{ts} librdkafka: config sasl.password={SASL_ENV_PASSWORD}"),
            vec![&secrets[2]],
        ),
        (
            format!("{ts} leadflow_runtime::config: read sasl_password_file: {SASL_FILE_PASSWORD}"),
            vec![&secrets[3]],
        ),
        (
            format!("{ts} reqwest: GET http://leadflow:{REGISTRY_PASSWORD}@registry:8081/subjects"),
            vec![&secrets[4]],
        ),
    ];
    let mut caught: Vec<&String> = Vec::new();
    for (line, expected) in &planted {
        // the planted line among clean output, as in a real log file or /metrics body
        let text = format!("{clean}{line}\n{clean}");
        let found = leaks(&text, &everything);
        let mut flagged: Vec<&String> = found.iter().map(|(c, _)| c).collect();
        let mut want = expected.clone();
        flagged.sort();
        want.sort();
        assert_eq!(flagged, want, "canaries flagged in {line:?}");
        for (canary, on) in &found {
            assert_eq!(on, line, "{canary} is reported with the line it is on");
        }
        caught.extend(expected.iter().copied());
    }
    // every canary form the real test searches for was planted and caught at least once
    for c in &everything {
        assert!(caught.contains(&c), "{c} was planted and caught");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_a_stage_logs_through_its_logger_is_caught_in_its_log_file() {
    let bs = bootstrap();
    let topics = TestTopics::create(
        &bs,
        "e2e-pii-check",
        &["scored", "tiered", "exceptions", "activity"],
        1,
    )
    .await;
    let start = Timestamp::parse_rfc3339(DEFAULT_START).unwrap();
    let mut generator = LeadGenerator::new(31, start);
    let (_, pii) = with_pii(generator.next_lead().event, 4);
    // a valid address (lead 4), made unique so a rerun on the same broker joins a new group
    let email = pii[3].clone();
    assert!(email.contains('@') && !email.contains("@@"));
    let group = format!("{}.{}", email, unique_name("g"));
    // the runtime logs its consumer group when it starts consuming: a group named after a lead's
    // email is personal data in a real log line, written by the real logger to the real log file
    let env = StageEnv::new(&bs, "leadflow-tier", &topics).set("GROUP_ID", &group);
    let logs = tempfile::tempdir().unwrap();
    let mut tier = Service::start("leadflow-tier", env.vars(), logs.path());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !tier.log().contains("consuming") && Instant::now() < deadline {
        assert!(tier.is_running(), "tier exited:\n{}", tier.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = tier.terminate(Duration::from_secs(15));
    let all_logs = read_logs_under(logs.path());
    assert!(
        all_logs.contains("consuming"),
        "tier started consuming ({status}):\n{all_logs}"
    );
    let found = leaks(&all_logs, &pii);
    let flagged: Vec<&str> = found.iter().map(|(c, _)| c.as_str()).collect();
    assert!(
        flagged.contains(&email.as_str()) && flagged.contains(&pii[2].as_str()),
        "the email and its local part are caught: {found:#?}"
    );
    let (_, line) = found.iter().find(|(c, _)| *c == email).unwrap();
    assert!(
        line.contains("consuming") && line.contains("group="),
        "on the line that logged the group: {line}"
    );
    // the secrets were not planted, and are not found
    assert!(leaks(&all_logs, &secrets()).is_empty());
}
