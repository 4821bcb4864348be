#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The alert rules and the Grafana dashboard use only metrics the services export: every stage runs
//! as a real process on the local broker with traffic that touches each labelled metric (leads, a
//! poison record on every input topic, a rejected model update, a Slack outage of two requests,
//! deadlines the watchdog escalates, a rep accepting one lead and rejecting another, recalibrate's
//! calibration gauges),
//! each one's `/metrics` is scraped, and every `leadflow_*` name in `deploy/observability/alerts.yml`,
//! `deploy/k8s/base/prometheus-rule.yaml` and `deploy/observability/grafana/leadflow.json` must be
//! among the exported names.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use leadflow_e2e::{
    Service, StageEnv, TestTopics, free_port, publish_generated_leads, publish_sample_roster,
    scrape,
};
use leadflow_events::{Codec, Event, ModelParams, RepActivityKind, Timestamp, samples};
use leadflow_generate::DEFAULT_START;
use leadflow_sandbox::{FaultMode, FaultSpec, Sandbox, SandboxConfig, Service as Stub};
use leadflow_testkit::{bootstrap, produce_raw_all};

const LEADS: usize = 40;

/// The files whose metric names are checked, relative to the repository root.
const OBSERVABILITY_FILES: [&str; 3] = [
    "deploy/observability/alerts.yml",
    "deploy/k8s/base/prometheus-rule.yaml",
    "deploy/observability/grafana/leadflow.json",
];

/// Every `leadflow_<...>` identifier in `text` (metric names: lowercase letters, digits, `_`).
fn leadflow_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("leadflow_") {
        let preceded_by_ident = rest[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        if !preceded_by_ident {
            names.insert(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    names
}

/// The label names a text uses per metric: the keys of a selector right after the name
/// (`name{kind="fatal"}`) and the labels of an aggregation's `by (...)` applied to the next metric
/// (`sum by (channel) (rate(name[5m]))`); `le` (histogram buckets) is left out.
fn used_labels(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    // selectors
    let mut rest = text;
    while let Some(i) = rest.find("leadflow_") {
        let tail = &rest[i..];
        let end = tail.find(|c: char| !ident(c)).unwrap_or(tail.len());
        let name = &tail[..end];
        if let Some(sel) = tail[end..].strip_prefix('{') {
            let body = &sel[..sel.find('}').unwrap_or(0)];
            for m in body.split(',') {
                let key: String = m.trim().chars().take_while(|c| ident(*c)).collect();
                if !key.is_empty() {
                    used.entry(name.to_owned()).or_default().insert(key);
                }
            }
        }
        rest = &tail[end..];
    }
    // by (...) clauses
    let mut rest = text;
    while let Some(i) = rest.find("by (") {
        let tail = &rest[i + 4..];
        let close = tail.find(')').unwrap_or(0);
        let labels: Vec<String> = tail[..close]
            .split(',')
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty() && l != "le")
            .collect();
        if let Some(j) = tail.find("leadflow_") {
            let m = &tail[j..];
            let end = m.find(|c: char| !ident(c)).unwrap_or(m.len());
            used.entry(m[..end].to_owned()).or_default().extend(labels);
        }
        rest = &tail[close..];
    }
    used
}

/// Label names per metric name in a Prometheus text exposition.
fn exported_labels(exposition: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in exposition.lines().filter(|l| !l.starts_with('#')) {
        let Some((name, rest)) = line.split_once('{') else {
            continue;
        };
        let body = &rest[..rest.find('}').unwrap_or(0)];
        for pair in body.split("\",") {
            if let Some((k, _)) = pair.split_once('=') {
                out.entry(name.to_owned())
                    .or_default()
                    .insert(k.trim_start_matches(',').to_owned());
            }
        }
    }
    out
}

/// Metric names in a Prometheus text exposition (sample lines: the name before `{` or a space).
fn exported_names(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn label_scan_finds_selector_and_by_labels() {
    let used = used_labels(
        r#"sum by (channel, le) (rate(leadflow_notify_receipts_total{status="failed"}[5m]))"#,
    );
    assert_eq!(
        used["leadflow_notify_receipts_total"]
            .iter()
            .collect::<Vec<_>>(),
        ["channel", "status"]
    );
    let exported = exported_labels("leadflow_a_total{x=\"1\",y=\"a,b\"} 3\n");
    assert_eq!(
        exported["leadflow_a_total"].iter().collect::<Vec<_>>(),
        ["x", "y"]
    );
}

#[test]
fn name_scan_finds_metric_names_only() {
    let names = leadflow_names(
        r#"expr: sum(rate(leadflow_tier_decisions_total[5m])) / x{job="leadflow-tier"} # my_leadflow_x"#,
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["leadflow_tier_decisions_total"]
    );
    let exported =
        exported_names("# HELP a b\n# TYPE a counter\nleadflow_a_total{x=\"1\"} 3\nleadflow_b 1\n");
    assert_eq!(
        exported.into_iter().collect::<Vec<_>>(),
        ["leadflow_a_total", "leadflow_b"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observability_names_exist() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut used: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut labels_used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in OBSERVABILITY_FILES {
        let text = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        for (name, labels) in used_labels(&text.replace("\\\"", "\"")) {
            labels_used.entry(name).or_default().extend(labels);
        }
        for name in leadflow_names(&text) {
            used.entry(name).or_default().push(file);
        }
    }
    assert!(
        used.len() >= 20,
        "the rules and the dashboard name at least 20 metrics: {used:?}"
    );

    let bs = bootstrap();
    let names = TestTopics::create(
        &bs,
        "e2e-obs",
        &[
            "raw",
            "enriched",
            "dedup_keys",
            "scored",
            "tiered",
            "packets",
            "deliveries",
            "activity",
            "escalations",
            "sla_outcomes",
            "reps",
            "model_params",
            "model_history",
            "outcomes",
            "exceptions",
            // rescore's output and side input (its merged lead states)
            "lead_state",
        ],
        2,
    )
    .await;
    let codec = Codec::single_object().unwrap();
    let start = Timestamp::parse_rfc3339(DEFAULT_START).unwrap();

    // the roster (route), a model update score rejects, the leads, one poison record per input
    publish_sample_roster(&bs, &names["reps"], &codec, start).await;
    let mut invalid: ModelParams =
        serde_json::from_str(leadflow_score::DEFAULT_MODEL_JSON).unwrap();
    invalid.version = "broken-1".into();
    invalid.fit_max = -1.0;
    produce_raw_all(
        &bs,
        &names["model_params"],
        vec![(
            Some(invalid.key().as_bytes().to_vec()),
            codec
                .encode(&names["model_params"], &invalid)
                .await
                .unwrap(),
        )],
    )
    .await;
    publish_generated_leads(&bs, &names["raw"], &codec, 31, start, LEADS).await;
    for role in [
        "raw",
        "enriched",
        "scored",
        "tiered",
        "escalations",
        "packets",
        // route-rejections' input; the other stages read it as a side input, which skips it
        "activity",
    ] {
        produce_raw_all(
            &bs,
            &names[role],
            vec![(Some(b"poison".to_vec()), b"not an event".to_vec())],
        )
        .await;
    }

    // a rep accepts one lead and rejects another: the watchdog's answer and rejection counters
    let mut answers = Vec::new();
    for (id, kind, reason) in [
        ("obs-a1", RepActivityKind::Accepted, None),
        ("obs-a2", RepActivityKind::Rejected, Some("not_a_fit")),
    ] {
        let mut a = samples::rep_activity();
        a.activity_id = id.into();
        a.lead_id = format!("lead-{id}");
        a.kind = kind;
        a.reason = reason.map(str::to_owned);
        answers.push((
            Some(a.key().as_bytes().to_vec()),
            codec.encode(&names["activity"], &a).await.unwrap(),
        ));
    }
    produce_raw_all(&bs, &names["activity"], answers).await;

    // Slack fails its first two requests: notify counts failed attempts per channel
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let mut outage = FaultSpec::new(FaultMode::Error);
    outage.count = Some(2);
    sandbox.set_fault(Stub::Slack, outage);

    let logs = tempfile::tempdir().unwrap();
    let mut services: Vec<(Service, u16)> = Vec::new();
    for b in [
        "leadflow-enrich",
        "leadflow-score",
        "leadflow-tier",
        "leadflow-route",
        "leadflow-route-reassign",
        "leadflow-route-rejections",
        "leadflow-notify",
        "leadflow-nurture",
        "leadflow-rescore",
        "leadflow-sla-watchdog",
        "leadflow-recalibrate",
        "leadflow-locator",
    ] {
        let port = free_port();
        let mut env = StageEnv::new(&bs, b, &names)
            .set("HTTP__LISTEN", &format!("127.0.0.1:{port}"))
            .set("SHUTDOWN_GRACE_MS", "10000");
        if b == "leadflow-sla-watchdog" {
            // the generated leads' event times are in the past, so with a short lateness every
            // deadline nobody acts on settles as escalated within seconds (deploy/demo/sla-watchdog.toml)
            for (k, v) in [
                ("ALLOWED_LATENESS_MS", "2000"),
                ("STALE_AFTER_HOURS", "9600"),
                ("RETENTION_DAYS", "400"),
                ("TICK_MS", "200"),
            ] {
                env = env.stage(k, v);
            }
        }
        if b == "leadflow-recalibrate" {
            env = env.stage("TICK_MS", "200");
        }
        if b == "leadflow-notify" || b == "leadflow-nurture" {
            env = env.notify_on(&sandbox);
        }
        services.push((Service::start(b, env.vars(), logs.path()), port));
    }

    // Scrape until every used name is exported (labelled metrics appear with their first sample,
    // consumer lag with librdkafka's first statistics) or the deadline passes.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (exported, missing, labels) = loop {
        let mut exported = BTreeSet::new();
        let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (_, port) in &services {
            if let Some(text) = tokio::task::spawn_blocking({
                let port = *port;
                move || scrape(port)
            })
            .await
            .unwrap()
            {
                exported.extend(exported_names(&text));
                for (name, l) in exported_labels(&text) {
                    labels.entry(name).or_default().extend(l);
                }
            }
        }
        let missing: BTreeMap<&String, &Vec<&str>> = used
            .iter()
            .filter(|(name, _)| !exported.contains(*name))
            .collect();
        if missing.is_empty() || Instant::now() > deadline {
            break (exported, missing, labels);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let log_text: String = services
        .iter()
        .map(|(s, _)| format!("--- {}\n{}", s.name, s.log()))
        .collect();
    assert!(
        missing.is_empty(),
        "metrics used by the alerts or the dashboard that no service exports: {missing:#?}\n\
         exported: {exported:#?}\nlogs:\n{log_text}"
    );
    // every label a rule or panel selects or groups by is one the metric carries
    for (name, want) in &labels_used {
        let have = labels
            .get(name)
            .or_else(|| labels.get(&format!("{name}_bucket")))
            .cloned()
            .unwrap_or_default();
        let unknown: Vec<&String> = want.difference(&have).collect();
        assert!(
            unknown.is_empty(),
            "{name} has no label {unknown:?} (it has {have:?})"
        );
    }
    for (s, _) in services {
        let name = s.name.clone();
        let status = s.terminate(Duration::from_secs(30));
        assert!(status.success(), "{name} exited with {status}");
    }
}
