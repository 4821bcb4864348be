#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The sandbox plays Slack for the reps' buttons, in a real browser: route routes a decision,
//! notify posts it to the sandbox's Slack with Accept / Contacted / Reject, headless Chromium
//! clicks Accept on the sandbox page (scripts/browser/sandbox_check.py), the sandbox posts the
//! signed click to leadflow-ingest as Slack would, the message is updated in place, and the
//! lead's assignment clock is stopped: `leadflow sla report` counts it met for its owner.
//! Needs python3 and Debian's `chromium` (scripts/test.sh installs it); fails without them.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use leadflow_e2e::{Service, StageEnv, TestTopics, free_port, team_rep};
use leadflow_events::{Codec, SlaDeadline, SlaKind, Timestamp, samples};
use leadflow_sandbox::{Interactivity, Sandbox, SandboxConfig};
use leadflow_testkit::{bootstrap, produce_raw};

const SECRET: &str = "e2e-sandbox-signing-secret";

fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `leadflow sla report --json` rows for the rep `rep`: (met, open).
fn report_for(env: &BTreeMap<String, String>, rep: &str) -> Option<(u64, u64)> {
    let out = Command::new(leadflow_e2e::bin("leadflow"))
        .args(["sla", "report", "--since", "1d", "--json"])
        .envs(env)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|row| row["by"] == "rep" && row["name"] == rep)
        .map(|row| (row["met"].as_u64().unwrap(), row["open"].as_u64().unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_clicked_in_a_browser_on_the_sandbox_stops_the_assignment_clock() {
    let bs = bootstrap();
    let names = TestTopics::create(
        &bs,
        "e2e-buttons",
        &[
            "raw",
            "tiered",
            "packets",
            "activity",
            "deliveries",
            "escalations",
            "sla_outcomes",
            "reps",
            "exceptions",
        ],
        1,
    )
    .await;
    let codec = Codec::single_object().unwrap();
    let r = team_rep("a", "ae");
    let payload = codec.encode(&names["reps"], &r).await.unwrap();
    produce_raw(&bs, &names["reps"], Some(b"a"), &payload).await;

    let port = free_port();
    let ingest_url = format!("http://127.0.0.1:{port}");
    let sandbox = Sandbox::start(SandboxConfig {
        interactivity: Interactivity {
            slack_interactions_url: Some(format!("{ingest_url}/v1/slack/interactions")),
            slack_signing_secret: SECRET.into(),
            ..Interactivity::default()
        },
        ..SandboxConfig::default()
    })
    .await
    .unwrap();

    let logs = tempfile::tempdir().unwrap();
    let ingest_env = StageEnv::new(&bs, "leadflow-ingest", &names)
        .stage("API_LISTEN", &format!("127.0.0.1:{port}"))
        .stage("SLACK_SIGNING_SECRET", SECRET)
        .vars()
        .clone();
    let notify_env = StageEnv::new(&bs, "leadflow-notify", &names)
        .notify_on(&sandbox)
        .vars()
        .clone();
    let watchdog_env = StageEnv::new(&bs, "leadflow-sla-watchdog", &names)
        .stage("TICK_MS", "100")
        .vars()
        .clone();
    let services = [
        Service::start("leadflow-ingest", &ingest_env, logs.path()),
        Service::start(
            "leadflow-route",
            StageEnv::new(&bs, "leadflow-route", &names).vars(),
            logs.path(),
        ),
        Service::start("leadflow-notify", &notify_env, logs.path()),
        Service::start("leadflow-sla-watchdog", &watchdog_env, logs.path()),
    ];
    let all_logs = || -> String {
        services
            .iter()
            .map(|s| format!("--- {}\n{}", s.name, s.log()))
            .collect()
    };

    // a hot lead: assignment due in 10 minutes, first contact in 30
    let now = Timestamp(chrono::Utc::now().timestamp_millis());
    let mut decision = samples::tier_decision();
    decision.target_team = "ae".into();
    decision.decided_at = now;
    decision.sla = vec![
        SlaDeadline {
            kind: SlaKind::Assignment,
            due_at: Timestamp(now.0 + 600_000),
        },
        SlaDeadline {
            kind: SlaKind::FirstContact,
            due_at: Timestamp(now.0 + 1_800_000),
        },
    ];
    let lead = decision.scored.enriched.lead.lead_id.clone();
    let payload = codec.encode(&names["tiered"], &decision).await.unwrap();
    produce_raw(&bs, &names["tiered"], Some(lead.as_bytes()), &payload).await;

    // notify posted the message with the controls; the watchdog holds two open deadlines for a
    let deadline = Instant::now() + Duration::from_secs(90);
    let cli_env: BTreeMap<String, String> = StageEnv::new(&bs, "leadflow", &names).vars().clone();
    loop {
        let posted = sandbox
            .state
            .slack_messages()
            .iter()
            .any(|m| m.blocks.to_string().contains("leadflow_accept"));
        if posted && report_for(&cli_env, "a") == Some((0, 2)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no message with controls and two open deadlines (report {:?}); logs:\n{}",
            report_for(&cli_env, "a"),
            all_logs()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // ingest listens (its view read the topics)
    while reqwest::get(format!("{ingest_url}/openapi.json"))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "ingest never listened; logs:\n{}",
            all_logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let check = Command::new("python3")
        .arg(repo_root().join("scripts/browser/sandbox_check.py"))
        .arg(sandbox.base_url())
        .output()
        .expect("python3 runs (scripts/test.sh installs chromium)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        check.status.success(),
        "the browser check failed:\n{said}\nlogs:\n{}",
        all_logs()
    );

    // the click reached the watchdog: the assignment deadline is met, first contact still open
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let report = report_for(&cli_env, "a");
        if report == Some((1, 1)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the report never showed the assignment met: {report:?}; logs:\n{}",
            all_logs()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for s in services {
        s.terminate(Duration::from_secs(15));
    }
}
