#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! `leadflow trace` over a full pipeline run: raw leads → enrich → score → tier → route → notify →
//! the sandbox, as real processes on the local broker; then the trace of a handed-off lead shows
//! every hop in order with its decision, reasons, model and policy versions and hop latencies.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use leadflow_cli::generate::{DEFAULT_START, LeadGenerator};
use leadflow_e2e::{Service, bin};
use leadflow_events::{Codec, DeliveryReceipt, DeliveryStatus, Event, Timestamp};
use leadflow_sandbox::{Sandbox, SandboxConfig};
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw_all, unique_name};
use serde_json::Value;

const LEADS: usize = 40;
const ROLES: [&str; 12] = [
    "raw",
    "enriched",
    "scored",
    "tiered",
    "packets",
    "deliveries",
    "activity",
    "escalations",
    "outcomes",
    "reps",
    "model_params",
    "exceptions",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handed_off_lead_is_traced_through_every_hop() {
    let bs = bootstrap();
    let names: BTreeMap<&str, String> = ROLES
        .into_iter()
        .map(|role| (role, unique_name(&format!("e2e-trace-{role}"))))
        .collect();
    for (role, topic) in &names {
        let partitions = if matches!(*role, "reps" | "model_params") {
            1
        } else {
            3
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
    for _ in 0..LEADS {
        let lead = generator.next_lead().event;
        records.push((
            Some(lead.key().as_bytes().to_vec()),
            codec.encode(&names["raw"], &lead).await.unwrap(),
        ));
    }
    produce_raw_all(&bs, &names["raw"], records).await;

    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let logs = tempfile::tempdir().unwrap();
    let mut topic_env = BTreeMap::new();
    for (role, topic) in &names {
        topic_env.insert(
            format!("LEADFLOW_TOPICS__{}", role.to_ascii_uppercase()),
            topic.clone(),
        );
    }
    let services: Vec<Service> = [
        "leadflow-enrich",
        "leadflow-score",
        "leadflow-tier",
        "leadflow-route",
        "leadflow-notify",
    ]
    .into_iter()
    .map(|b| {
        let mut env = BTreeMap::from([
            ("LEADFLOW_BOOTSTRAP_SERVERS".to_owned(), bs.clone()),
            (
                "LEADFLOW_GROUP_ID".to_owned(),
                unique_name(&format!("e2e-{b}")),
            ),
            ("LEADFLOW_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("LEADFLOW_SHUTDOWN_GRACE_MS".to_owned(), "15000".to_owned()),
        ]);
        env.extend(topic_env.clone());
        if b == "leadflow-enrich" {
            env.insert(
                "LEADFLOW_STAGE__PROVIDER__KIND".to_owned(),
                "demo".to_owned(),
            );
        }
        if b == "leadflow-notify" {
            for (k, v) in [
                ("SLACK__API_URL", sandbox.slack_api_url()),
                ("SLACK__BOT_TOKEN", "xoxb-sandbox-token".to_owned()),
                ("HUBSPOT__API_URL", sandbox.hubspot_api_url()),
                ("HUBSPOT__TOKEN", "pat-sandbox-token".to_owned()),
                ("EMAIL__SMTP_HOST", "127.0.0.1".to_owned()),
                ("EMAIL__SMTP_PORT", sandbox.smtp_addr.port().to_string()),
                ("EMAIL__TLS", "none".to_owned()),
            ] {
                env.insert(format!("LEADFLOW_STAGE__{k}"), v);
            }
        }
        Service::start(b, &env, logs.path())
    })
    .collect();

    // a lead whose packet was delivered to Slack: it went through every stage
    let deadline = Instant::now() + Duration::from_secs(150);
    let lead = loop {
        let mut delivered = None;
        for r in consume_all(
            &bs,
            &names["deliveries"],
            LEADS * 20,
            Duration::from_secs(3),
        )
        .await
        {
            let receipt: DeliveryReceipt = codec.decode(&r.payload).await.unwrap();
            if receipt.status == DeliveryStatus::Delivered {
                delivered = Some(receipt.lead_id);
                break;
            }
        }
        if let Some(lead) = delivered {
            break lead;
        }
        assert!(
            Instant::now() < deadline,
            "no packet was delivered; logs:\n{}",
            services
                .iter()
                .map(|s| format!("--- {}\n{}", s.name, s.log()))
                .collect::<String>()
        );
    };

    let mut cmd = Command::new(bin("leadflow"));
    for (key, _) in std::env::vars() {
        if key.starts_with("LEADFLOW_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LEADFLOW_BOOTSTRAP_SERVERS", &bs).envs(&topic_env);
    let index = tempfile::tempdir().unwrap();
    let out = cmd
        .args(["trace", &lead, "--json", "--index-dir"])
        .arg(index.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "trace failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace: Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = trace["steps"].as_array().unwrap();
    let hops: Vec<&str> = steps.iter().map(|s| s["hop"].as_str().unwrap()).collect();
    let first = |hop: &str| hops.iter().position(|h| *h == hop);
    let order: Vec<Option<usize>> = ["raw", "enriched", "scored", "tiered", "packet", "delivery"]
        .into_iter()
        .map(first)
        .collect();
    assert!(
        order.iter().all(Option::is_some),
        "every hop is there: {hops:?}"
    );
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "hops in pipeline order: {hops:?}"
    );
    let step = |hop: &str| &steps[first(hop).unwrap()];
    assert!(step("scored")["versions"]["model"].is_string(), "{trace}");
    assert!(
        !step("scored")["reasons"].as_array().unwrap().is_empty(),
        "score factors: {trace}"
    );
    assert!(step("tiered")["versions"]["policy"].is_string(), "{trace}");
    assert!(step("tiered")["decision"].as_str().unwrap().contains("via"));
    for s in &steps[1..] {
        assert!(
            s["since_previous_ms"].as_i64().is_some_and(|ms| ms >= 0),
            "every hop has its latency: {s}"
        );
    }
    // only the lead's partition was read on each topic
    assert!(trace["scanned_records"].as_u64().unwrap() < (LEADS as u64) * 6);

    // the text form
    let mut text_cmd = Command::new(bin("leadflow"));
    for (key, _) in std::env::vars() {
        if key.starts_with("LEADFLOW_") {
            text_cmd.env_remove(key);
        }
    }
    text_cmd
        .env("LEADFLOW_BOOTSTRAP_SERVERS", &bs)
        .envs(&topic_env);
    // without the index: the lead's raw partition is scanned from its beginning, same timeline
    let text = text_cmd
        .args(["trace", &lead, "--no-index"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("lead {lead}:")), "{text}");
    assert!(text.contains("versions: model"), "{text}");

    for s in services {
        s.terminate(Duration::from_secs(15));
    }
}
