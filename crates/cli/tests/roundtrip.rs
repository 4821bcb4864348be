#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The real `leadflow` binary against the local broker (`LEADFLOW_TEST_BOOTSTRAP`):
//! `generate | produce` then `tail` shows the same lines; a bad line stops `produce` with exit code 2
//! after delivering exactly the lines before it; `topics create` is idempotent.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use leadflow_testkit::{bootstrap, create_topic, unique_name};

const BIN: &str = env!("CARGO_BIN_EXE_leadflow");

/// The binary with a clean configuration: only the given topic overrides and the test broker.
fn leadflow(bootstrap: &str, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("LEADFLOW_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LEADFLOW_BOOTSTRAP_SERVERS", bootstrap);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args);
    cmd
}

fn run(mut cmd: Command, stdin: &str) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("leadflow starts");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("stdin accepts");
    drop(input);
    child.wait_with_output().expect("leadflow finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn lines(out: &Output) -> Vec<String> {
    text(&out.stdout).lines().map(str::to_owned).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn generate(count: usize, seed: u64) -> Vec<String> {
    let out = run(
        leadflow(
            "127.0.0.1:1",
            &[],
            &[
                "generate",
                "--count",
                &count.to_string(),
                "--seed",
                &seed.to_string(),
            ],
        ),
        "",
    );
    assert!(
        out.status.success(),
        "generate failed: {}",
        text(&out.stderr)
    );
    let generated = lines(&out);
    assert_eq!(generated.len(), count);
    generated
}

#[tokio::test]
async fn generated_lines_come_back_from_tail_unchanged() {
    let bs = bootstrap();
    let topic = unique_name("cli-roundtrip");
    create_topic(&bs, &topic, 3).await;
    // the topic is the configured raw topic, so produce and tail know it carries LeadEvents
    let env = [("LEADFLOW_TOPICS__RAW", topic.as_str())];

    let generated = generate(200, 7);
    let produced = run(
        leadflow(&bs, &env, &["produce", &topic]),
        &(generated.join("\n") + "\n"),
    );
    assert!(
        produced.status.success(),
        "produce failed: {}",
        text(&produced.stderr)
    );
    assert!(
        text(&produced.stderr).contains(&format!("produced 200 events to {topic}")),
        "{}",
        text(&produced.stderr)
    );

    let tailed = run(
        leadflow(
            &bs,
            &env,
            &[
                "tail",
                &topic,
                "--from-beginning",
                "--max",
                "200",
                "--idle-timeout",
                "20",
            ],
        ),
        "",
    );
    assert!(
        tailed.status.success(),
        "tail failed: {}",
        text(&tailed.stderr)
    );
    // partitions reorder records of different keys: compare as sorted lists
    assert_eq!(sorted(lines(&tailed)), sorted(generated));

    // nothing more arrives; the idle timeout ends the tail
    let again = run(
        leadflow(
            &bs,
            &env,
            &[
                "tail",
                &topic,
                "--from-beginning",
                "--max",
                "201",
                "--idle-timeout",
                "3",
            ],
        ),
        "",
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(lines(&again).len(), 200);
}

#[tokio::test]
async fn a_bad_line_stops_produce_after_delivering_the_lines_before_it() {
    let bs = bootstrap();
    let topic = unique_name("cli-badline");
    create_topic(&bs, &topic, 3).await;

    let generated = generate(20, 8);
    let mut broken: serde_json::Value = serde_json::from_str(&generated[10]).unwrap();
    broken.as_object_mut().unwrap().remove("lead_id");
    // ten good lines, a blank line (skipped, but counted), the bad line 12, then more good lines
    let mut input: Vec<String> = generated[..10].to_vec();
    input.push(String::new());
    input.push(broken.to_string());
    input.extend(generated[11..].iter().cloned());

    // not a configured topic: --kind says what it carries
    let produced = run(
        leadflow(&bs, &[], &["produce", &topic, "--kind", "LeadEvent"]),
        &input.join("\n"),
    );
    let stderr = text(&produced.stderr);
    assert_eq!(produced.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 12: column "), "{stderr}");
    assert!(stderr.contains("missing field `lead_id`"), "{stderr}");
    assert!(
        stderr.contains(&format!("produced 10 events to {topic}")),
        "{stderr}"
    );

    let tailed = run(
        leadflow(
            &bs,
            &[],
            &[
                "tail",
                &topic,
                "--kind",
                "LeadEvent",
                "--from-beginning",
                "--max",
                "11",
                "--idle-timeout",
                "5",
            ],
        ),
        "",
    );
    assert!(tailed.status.success(), "{}", text(&tailed.stderr));
    assert_eq!(sorted(lines(&tailed)), sorted(generated[..10].to_vec()));
}

#[tokio::test]
async fn unknown_and_missing_topics_are_explained() {
    let bs = bootstrap();
    let missing = unique_name("cli-missing");

    let no_kind = run(leadflow(&bs, &[], &["produce", &missing]), "{}\n");
    assert_eq!(no_kind.status.code(), Some(2));
    assert!(
        text(&no_kind.stderr).contains("--kind"),
        "{}",
        text(&no_kind.stderr)
    );

    let absent = run(
        leadflow(&bs, &[], &["produce", &missing, "--kind", "LeadEvent"]),
        "",
    );
    assert_eq!(absent.status.code(), Some(1));
    assert!(
        text(&absent.stderr).contains("does not exist"),
        "{}",
        text(&absent.stderr)
    );

    let tail = run(leadflow(&bs, &[], &["tail", &missing, "--max", "1"]), "");
    assert_eq!(tail.status.code(), Some(1));
    assert!(
        text(&tail.stderr).contains("does not exist"),
        "{}",
        text(&tail.stderr)
    );
}

#[test]
fn topics_create_is_idempotent() {
    let bs = bootstrap();
    // every role the pipeline knows, so a topic role added later is covered at once
    let roles: Vec<String> = leadflow_events::TopicRole::ALL
        .iter()
        .map(|r| r.config_key().to_ascii_uppercase())
        .collect();
    let names: Vec<(String, String)> = roles
        .iter()
        .map(|r| {
            (
                format!("LEADFLOW_TOPICS__{r}"),
                unique_name(&format!("cli-topics-{}", r.to_lowercase())),
            )
        })
        .collect();
    let env: Vec<(&str, &str)> = names
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();

    let first = run(
        leadflow(&bs, &env, &["topics", "create", "--partitions", "2"]),
        "",
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    let created = lines(&first);
    assert_eq!(created.len(), roles.len(), "{created:?}");
    for (_, name) in &names {
        assert!(
            created.contains(&format!("{name}: created (2 partitions)")),
            "{name} in {created:?}"
        );
    }

    let second = run(leadflow(&bs, &env, &["topics", "create"]), "");
    assert!(second.status.success(), "{}", text(&second.stderr));
    let existing = lines(&second);
    assert_eq!(existing.len(), roles.len());
    assert!(
        existing.iter().all(|l| l.ends_with(": already exists")),
        "{existing:?}"
    );

    // list needs no broker
    let list = run(leadflow("127.0.0.1:1", &env, &["topics", "list"]), "");
    assert!(list.status.success());
    assert!(text(&list.stdout).contains(&names[0].1));
}
