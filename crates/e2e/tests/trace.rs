#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! `leadflow trace` over a full pipeline run: raw leads → enrich → score → tier → route → notify →
//! the sandbox, as real processes on the local broker; then the trace of a handed-off lead shows
//! every hop in order with its decision, reasons, model and policy versions and hop latencies.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use leadflow_e2e::{
    Service, StageEnv, TestTopics, bin, publish_generated_leads, publish_sample_roster,
};
use leadflow_events::{Codec, DeliveryReceipt, DeliveryStatus, Timestamp};
use leadflow_generate::DEFAULT_START;
use leadflow_sandbox::{Sandbox, SandboxConfig};
use leadflow_testkit::{bootstrap, consume_all};
use serde_json::Value;

const LEADS: usize = 40;
const ROLES: [&str; 13] = [
    "raw",
    "enriched",
    "dedup_keys",
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
    let names = TestTopics::create(&bs, "e2e-trace", &ROLES, 3).await;
    let codec = Codec::single_object().unwrap();
    let start = Timestamp::parse_rfc3339(DEFAULT_START).unwrap();
    publish_sample_roster(&bs, &names["reps"], &codec, start).await;
    publish_generated_leads(&bs, &names["raw"], &codec, 31, start, LEADS).await;

    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let logs = tempfile::tempdir().unwrap();
    // the CLI reads the same topics
    let topic_env: BTreeMap<String, String> = names
        .iter()
        .map(|(role, topic)| {
            (
                format!("LEADFLOW_TOPICS__{}", role.to_ascii_uppercase()),
                topic.to_owned(),
            )
        })
        .collect();
    let services: Vec<Service> = [
        "leadflow-enrich",
        "leadflow-score",
        "leadflow-tier",
        "leadflow-route",
        "leadflow-notify",
    ]
    .into_iter()
    .map(|b| {
        let mut env = StageEnv::new(&bs, b, &names);
        if b == "leadflow-notify" {
            env = env.notify_on(&sandbox);
        }
        Service::start(b, env.vars(), logs.path())
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

    // with the lead locator as a process of its own: the same timeline, read at the offsets it gives
    let port = leadflow_testkit::free_port();
    let locator_env = StageEnv::new(&bs, "leadflow-locator", &names)
        .set("HTTP__LISTEN", &format!("127.0.0.1:{port}"));
    let locator = Service::start("leadflow-locator", locator_env.vars(), logs.path());
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !reqwest::get(format!("{url}/readyz"))
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            Instant::now() < deadline,
            "the locator never caught up: {}",
            locator.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut located_cmd = Command::new(bin("leadflow"));
    for (key, _) in std::env::vars() {
        if key.starts_with("LEADFLOW_") {
            located_cmd.env_remove(key);
        }
    }
    let out = located_cmd
        .env("LEADFLOW_BOOTSTRAP_SERVERS", &bs)
        .envs(&topic_env)
        .env("LEADFLOW_LOCATOR_URL", &url)
        .args(["trace", &lead, "--json", "--no-index"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "trace with the locator failed: {stderr}"
    );
    let located: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        located["located_records"].as_u64().is_some_and(|n| n >= 6),
        "the locator pointed at the lead's records: {located} {stderr}"
    );
    let located_hops: Vec<&str> = located["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["hop"].as_str().unwrap())
        .collect();
    assert_eq!(located_hops, hops, "the same timeline as the scan");
    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("leadflow_locator_lookups_total{result=\"found\"}"),
        "{metrics}"
    );
    locator.terminate(Duration::from_secs(15));

    for s in services {
        s.terminate(Duration::from_secs(15));
    }
}
