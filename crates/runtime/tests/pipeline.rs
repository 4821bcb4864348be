#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::field_reassign_with_default
)]
//! The harness against the real local broker: poison input lands on the exceptions topic while good
//! input flows on; a stopped or crashed stage resumes from its committed offsets without losing an
//! acknowledged event; side inputs are replayed before the first input.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use leadflow_events::AnyEvent;
use leadflow_events::{
    Codec, ErrorKind, ExceptionRecord, LeadEvent, ModelParams, TopicRole, samples,
};
use leadflow_runtime::{
    Context, FlowLimits, NoSettings, Output, RunOptions, RunSummary, ServiceConfig, SideInput,
    SideStart, Stage, StageError, StageRegistry, run_stage,
};
use leadflow_testkit::{
    FakeSchemaRegistry, PrivateBroker, StageProcess, bootstrap, committed_total, consume_all,
    create_topic, produce_raw_all, read_to_end, unique_name,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Echoes each lead to the "enriched" topic; leads whose id starts with `bad-` are invalid.
struct Echo {
    side_events: AtomicUsize,
}

impl Echo {
    fn new() -> Self {
        Echo {
            side_events: AtomicUsize::new(0),
        }
    }
}

impl Stage for Echo {
    type Input = LeadEvent;
    const NAME: &'static str = "echo";
    const INPUT: TopicRole = TopicRole::Raw;

    async fn process(
        &self,
        mut input: LeadEvent,
        _ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        if input.lead_id.starts_with("bad-") {
            return Err(StageError::Poison {
                kind: ErrorKind::Validation,
                reason: "lead id marked bad by the test".into(),
                owner: Some("marketing-ops".into()),
            });
        }
        input.attributes.insert(
            "side_events_seen".into(),
            self.side_events.load(Ordering::SeqCst).to_string(),
        );
        Ok(vec![Output::to(TopicRole::Enriched, input)])
    }
}

/// Echo with the model topic as a side input.
struct EchoWithState(Echo);

impl Stage for EchoWithState {
    type Input = LeadEvent;
    const NAME: &'static str = "echo-state";
    const INPUT: TopicRole = TopicRole::Raw;

    async fn process(&self, input: LeadEvent, ctx: &Context) -> Result<Vec<Output>, StageError> {
        self.0.process(input, ctx).await
    }

    fn side_inputs(&self) -> Vec<SideInput> {
        vec![SideInput {
            role: TopicRole::ModelParams,
            start: SideStart::Beginning,
        }]
    }

    fn on_side_input(&self, event: AnyEvent) -> Result<(), StageError> {
        if matches!(event, AnyEvent::ModelParams(_)) {
            self.0.side_events.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

struct Topics {
    cfg: ServiceConfig<NoSettings>,
    input: String,
    output: String,
    exceptions: String,
}

async fn topics(partitions: i32) -> Topics {
    topics_on(bootstrap(), partitions).await
}

async fn topics_on(bootstrap: String, partitions: i32) -> Topics {
    let mut cfg = ServiceConfig::<NoSettings>::default();
    cfg.bootstrap_servers = bootstrap.clone();
    cfg.group_id = Some(unique_name("group"));
    cfg.topics.raw = unique_name("in");
    cfg.topics.enriched = unique_name("out");
    cfg.topics.exceptions = unique_name("exc");
    cfg.topics.model_params = unique_name("model");
    cfg.http.listen = "127.0.0.1:0".into();
    cfg.shutdown_grace_ms = 20_000;
    cfg.kafka
        .insert("statistics.interval.ms".into(), "500".into());
    for t in [
        &cfg.topics.raw,
        &cfg.topics.enriched,
        &cfg.topics.exceptions,
        &cfg.topics.model_params,
    ] {
        create_topic(&bootstrap, t, partitions).await;
    }
    Topics {
        input: cfg.topics.raw.clone(),
        output: cfg.topics.enriched.clone(),
        exceptions: cfg.topics.exceptions.clone(),
        cfg,
    }
}

fn lead(i: usize) -> LeadEvent {
    let mut l = samples::lead_event();
    l.event_id = format!("evt-{i}");
    l.lead_id = format!("lead-{i}");
    l
}

async fn encoded(leads: impl IntoIterator<Item = LeadEvent>) -> Vec<(Option<Vec<u8>>, Vec<u8>)> {
    let codec = Codec::single_object().unwrap();
    let mut out = Vec::new();
    for l in leads {
        let bytes = codec.encode("t", &l).await.unwrap();
        out.push((Some(l.lead_id.clone().into_bytes()), bytes));
    }
    out
}

fn spawn<S: Stage>(
    cfg: &ServiceConfig<NoSettings>,
    stage: S,
) -> (CancellationToken, JoinHandle<RunSummary>) {
    let shutdown = CancellationToken::new();
    let options = RunOptions {
        shutdown: shutdown.clone(),
        ..RunOptions::default()
    };
    let cfg = cfg.clone();
    let handle =
        tokio::spawn(async move { run_stage(&cfg, stage, options).await.expect("stage runs") });
    (shutdown, handle)
}

async fn event_ids(
    bootstrap: &str,
    topic: &str,
    expected: usize,
    timeout: Duration,
) -> Vec<String> {
    let codec = Codec::single_object().unwrap();
    let mut ids = Vec::new();
    for r in consume_all(bootstrap, topic, expected, timeout).await {
        let l: LeadEvent = codec.decode(&r.payload).await.unwrap();
        ids.push(l.event_id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_goes_to_exceptions_while_good_input_flows_on() {
    let t = topics(3).await;
    let bs = t.cfg.bootstrap_servers.clone();
    let mut records = encoded((0..5).map(lead)).await;
    let good = records[0].1.clone();
    records.push((
        Some(b"lead-trunc".to_vec()),
        good[..good.len() / 2].to_vec(),
    ));
    records.push((Some(b"lead-junk".to_vec()), b"{\"not\":\"avro\"}".to_vec()));
    let mut bad = lead(99);
    bad.lead_id = "bad-99".into();
    records.extend(encoded([bad]).await);
    records.extend(encoded((5..8).map(lead)).await);
    produce_raw_all(&bs, &t.input, records).await;

    let stop = CancellationToken::new();
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let options = RunOptions {
        shutdown: stop.clone(),
        http_addr: Some(addr_tx),
        ..RunOptions::default()
    };
    let cfg = t.cfg.clone();
    let handle = tokio::spawn(async move {
        run_stage(&cfg, Echo::new(), options)
            .await
            .expect("stage runs")
    });
    let addr = addr_rx.await.expect("http endpoint bound");
    let out = event_ids(&bs, &t.output, 8, Duration::from_secs(60)).await;
    let exc = consume_all(&bs, &t.exceptions, 3, Duration::from_secs(60)).await;
    // the outputs are on their topics; the counters follow the acknowledgements
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !http_get(addr, "/metrics")
        .await
        .1
        .contains("leadflow_echo_handler_duration_seconds_count 11")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "11 inputs not handled within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, _) = http_get(addr, "/readyz").await;
    assert_eq!(status, 200, "ready while consuming");
    let (status, _) = http_get(addr, "/healthz").await;
    assert_eq!(status, 200);
    let (_, metrics) = http_get(addr, "/metrics").await;
    for needle in [
        "leadflow_echo_consumed_total 11",
        "leadflow_echo_failed_total{kind=\"decode\",owner=\"revops\"} 2",
        "leadflow_echo_failed_total{kind=\"validation\",owner=\"marketing-ops\"} 1",
        "leadflow_echo_handler_duration_seconds_count 11",
        "leadflow_echo_consumer_lag_messages{partition=\"0\"",
    ] {
        assert!(
            metrics.contains(needle),
            "{needle} missing from:\n{metrics}"
        );
    }
    stop.cancel();
    let summary = handle.await.unwrap();

    let expected: BTreeSet<String> = (0..8).map(|i| format!("evt-{i}")).collect();
    assert_eq!(
        out.iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "every good event flowed on"
    );
    assert_eq!(exc.len(), 3, "three poison inputs");
    let codec = Codec::single_object().unwrap();
    let mut by_key: HashMap<String, ExceptionRecord> = HashMap::new();
    for r in &exc {
        let e: ExceptionRecord = codec.decode(&r.payload).await.unwrap();
        assert_eq!(e.stage, "echo");
        assert_eq!(e.source_topic, t.input);
        assert!(e.due_at > e.raised_at, "due time after raise time");
        by_key.insert(e.source_key.clone().unwrap(), e);
    }
    let trunc = &by_key["lead-trunc"];
    assert_eq!(trunc.error_kind, ErrorKind::Decode);
    assert!(
        trunc.reason.contains("malformed or truncated"),
        "{}",
        trunc.reason
    );
    assert_eq!(
        trunc.original,
        good[..good.len() / 2].to_vec(),
        "original bytes kept for replay"
    );
    assert_eq!(trunc.owner, "revops");
    assert_eq!(by_key["lead-junk"].error_kind, ErrorKind::Decode);
    assert!(by_key["lead-junk"].reason.contains("unknown framing"));
    let invalid = &by_key["bad-99"];
    assert_eq!(invalid.error_kind, ErrorKind::Validation);
    assert_eq!(invalid.owner, "marketing-ops");
    assert_eq!(invalid.lead_id.as_deref(), Some("bad-99"));
    assert_eq!(
        summary,
        RunSummary {
            consumed: 11,
            produced: 8,
            exceptions: 3
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_restart_resumes_exactly_at_committed_offsets() {
    let t = topics(2).await;
    let bs = t.cfg.bootstrap_servers.clone();
    produce_raw_all(&bs, &t.input, encoded((0..60).map(lead)).await).await;

    let (stop, handle) = spawn(&t.cfg, Echo::new());
    let _ = consume_all(&bs, &t.output, 20, Duration::from_secs(60)).await;
    stop.cancel();
    let first = handle.await.unwrap();
    assert!(first.consumed >= 20);

    produce_raw_all(&bs, &t.input, encoded((60..100).map(lead)).await).await;
    let (stop, handle) = spawn(&t.cfg, Echo::new());
    let _ = event_ids(&bs, &t.output, 100, Duration::from_secs(60)).await;
    stop.cancel();
    let second = handle.await.unwrap();
    // the stage stopped: the topic holds everything it will ever write, read to its end (a
    // duplicate would be a 101st record)
    let codec = Codec::single_object().unwrap();
    let mut out = Vec::new();
    for r in read_to_end(&bs, &t.output).await {
        let l: LeadEvent = codec.decode(&r.payload).await.unwrap();
        out.push(l.event_id);
    }

    let distinct: BTreeSet<_> = out.iter().cloned().collect();
    assert_eq!(distinct.len(), 100, "no event lost");
    assert_eq!(
        out.len(),
        100,
        "a clean stop commits everything it acknowledged: no duplicates"
    );
    assert_eq!(
        first.consumed + second.consumed,
        100,
        "the second run resumed at the committed offsets"
    );
}

/// `examples/echo_stage.rs`, built next to this test by `cargo test`/`cargo nextest` (examples are
/// test targets' siblings in `target/<profile>/examples`).
fn echo_stage_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    profile_dir.join("examples").join("echo_stage")
}

/// The restart delay after a SIGKILL on the local broker: tansu 0.6.0 assigns no partitions to a
/// replacement that joins before the dead member's 10 s session expired (docs/BROKER.md, 1).
const TANSU_SESSION_EXPIRY: Duration = Duration::from_secs(12);

/// A crash is a SIGKILL of a real stage process: no drain, no final commit, no LeaveGroup. Inputs
/// whose offsets were committed before the crash are not processed again; inputs in flight at the
/// crash are processed by the replacement (at least once); nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_stage_process_loses_no_acknowledged_event() {
    let t = topics(2).await;
    let bs = t.cfg.bootstrap_servers.clone();
    let logs = tempfile::tempdir().unwrap();
    let env: std::collections::BTreeMap<String, String> = [
        ("LEADFLOW_BOOTSTRAP_SERVERS", bs.clone()),
        ("LEADFLOW_GROUP_ID", t.cfg.group_id.clone().unwrap()),
        ("LEADFLOW_TOPICS__RAW", t.input.clone()),
        ("LEADFLOW_TOPICS__ENRICHED", t.output.clone()),
        ("LEADFLOW_TOPICS__EXCEPTIONS", t.exceptions.clone()),
        (
            "LEADFLOW_TOPICS__MODEL_PARAMS",
            t.cfg.topics.model_params.clone(),
        ),
        ("LEADFLOW_HTTP__LISTEN", "127.0.0.1:0".to_owned()),
        // slow enough that the SIGKILL lands while records of the second batch are in flight
        ("ECHO_DELAY_MS", "100".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();

    // batch 1: processed, acknowledged and committed (auto-commit, group.commit_interval_ms) before the crash
    produce_raw_all(&bs, &t.input, encoded((0..50).map(lead)).await).await;
    let mut first = StageProcess::start(&echo_stage_binary(), &env, logs.path(), "echo-1");
    let batch1 = event_ids(&bs, &t.output, 50, Duration::from_secs(60)).await;
    assert_eq!(batch1.len(), 50, "batch 1 processed; log:\n{}", first.log());
    let group = t.cfg.group_id.clone().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while committed_total(&bs, &group, &t.input, 2).await < 50 {
        assert!(
            std::time::Instant::now() < deadline,
            "batch 1's offsets were not committed within 30 s; log:\n{}",
            first.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // batch 2: the process is SIGKILLed as soon as its first outputs appear
    produce_raw_all(&bs, &t.input, encoded((50..250).map(lead)).await).await;
    let _ = event_ids(&bs, &t.output, 60, Duration::from_secs(60)).await;
    assert!(first.is_running(), "echo-1 still running before the kill");
    first.kill();
    assert!(!first.is_running(), "echo-1 is gone after SIGKILL");
    let before: BTreeSet<String> = event_ids(&bs, &t.output, 251, Duration::from_secs(3))
        .await
        .into_iter()
        .collect();
    assert!(
        before.len() < 250,
        "the crash happened mid-stream: {} of 250 inputs had an output",
        before.len()
    );

    tokio::time::sleep(TANSU_SESSION_EXPIRY).await;
    let second = StageProcess::start(&echo_stage_binary(), &env, logs.path(), "echo-2");
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let mut out = Vec::new();
    while std::time::Instant::now() < deadline {
        out = event_ids(&bs, &t.output, 10_000, Duration::from_secs(3)).await;
        if out.iter().collect::<BTreeSet<_>>().len() == 250 {
            break;
        }
    }
    let log = second.log();
    assert!(
        second.terminate(Duration::from_secs(30)).success(),
        "echo-2 exits 0 on SIGTERM; log:\n{log}"
    );

    let distinct: BTreeSet<&String> = out.iter().collect();
    assert_eq!(
        distinct.len(),
        250,
        "every input reached the output after the crash; echo-2 log:\n{log}"
    );
    let mut copies: std::collections::HashMap<&String, usize> = std::collections::HashMap::new();
    for id in &out {
        *copies.entry(id).or_default() += 1;
    }
    let batch1_repeated: Vec<&String> = batch1.iter().filter(|id| copies[id] > 1).collect();
    assert!(
        batch1_repeated.is_empty(),
        "inputs committed before the crash are not processed again: {batch1_repeated:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn side_inputs_are_replayed_before_the_first_input() {
    let t = topics(1).await;
    let bs = t.cfg.bootstrap_servers.clone();
    let codec = Codec::single_object().unwrap();
    let mut models = Vec::new();
    for v in 0..3 {
        let mut m: ModelParams = samples::model_params();
        m.version = format!("v{v}");
        models.push((
            Some(b"lead-priority".to_vec()),
            codec.encode("m", &m).await.unwrap(),
        ));
    }
    produce_raw_all(&bs, &t.cfg.topics.model_params, models).await;
    produce_raw_all(&bs, &t.input, encoded([lead(1)]).await).await;

    let (stop, handle) = spawn(&t.cfg, EchoWithState(Echo::new()));
    let out = consume_all(&bs, &t.output, 1, Duration::from_secs(60)).await;
    stop.cancel();
    handle.await.unwrap();
    let echoed: LeadEvent = codec.decode(&out[0].payload).await.unwrap();
    assert_eq!(echoed.attributes["side_events_seen"], "3");
}

/// Echo with the model topic as a side input kept for one day.
struct EchoWithRecentState(Echo);

impl Stage for EchoWithRecentState {
    type Input = LeadEvent;
    const NAME: &'static str = "echo-recent";
    const INPUT: TopicRole = TopicRole::Raw;

    async fn process(&self, input: LeadEvent, ctx: &Context) -> Result<Vec<Output>, StageError> {
        self.0.process(input, ctx).await
    }

    fn side_inputs(&self) -> Vec<SideInput> {
        vec![SideInput {
            role: TopicRole::ModelParams,
            start: SideStart::Since(Duration::from_secs(24 * 3600)),
        }]
    }

    fn on_side_input(&self, event: AnyEvent) -> Result<(), StageError> {
        if matches!(event, AnyEvent::ModelParams(_)) {
            self.0.side_events.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// Side-input records of these ages (ms) are on the model topic before a stage with a one-day
/// window starts: how many did it replay before its first input?
async fn side_records_replayed_with_ages(ages_ms: &[i64]) -> String {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let t = topics(1).await;
    let bs = t.cfg.bootstrap_servers.clone();
    let codec = Codec::single_object().unwrap();
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bs)
        .create()
        .unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    for (v, age_ms) in ages_ms.iter().enumerate() {
        let mut m: ModelParams = samples::model_params();
        m.version = format!("v{v}");
        let payload = codec.encode("m", &m).await.unwrap();
        producer
            .send(
                FutureRecord::to(&t.cfg.topics.model_params)
                    .key("lead-priority")
                    .payload(&payload)
                    .timestamp(now - age_ms),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }
    produce_raw_all(&bs, &t.input, encoded([lead(1)]).await).await;

    let (stop, handle) = spawn(&t.cfg, EchoWithRecentState(Echo::new()));
    let out = consume_all(&bs, &t.output, 1, Duration::from_secs(60)).await;
    stop.cancel();
    handle.await.unwrap();
    let echoed: LeadEvent = codec.decode(&out[0].payload).await.unwrap();
    echoed.attributes["side_events_seen"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_side_input_window_replays_only_records_inside_it() {
    const DAY: i64 = 86_400_000;
    // two records three days old, then one an hour old: the one-day window keeps only the last
    assert_eq!(
        side_records_replayed_with_ages(&[3 * DAY, 3 * DAY, 3_600_000]).await,
        "1"
    );
    // every record older than the window: nothing is replayed (a broker answering that time with
    // offset 0 rather than the end, as tansu 0.6 does, must not replay the whole topic)
    assert_eq!(
        side_records_replayed_with_ages(&[3 * DAY, 2 * DAY]).await,
        "0"
    );
}

/// A minimal HTTP/1.1 GET on loopback: (status, body).
async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The broker itself restarts mid-stream (SQLite storage survives it): the stage reconnects, and every
/// event produced before and after the restart reaches the output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_loses_no_acknowledged_event() {
    let mut broker = PrivateBroker::start();
    let t = topics_on(broker.bootstrap(), 2).await;
    let bs = t.cfg.bootstrap_servers.clone();
    produce_raw_all(&bs, &t.input, encoded((0..40).map(lead)).await).await;
    let (stop, handle) = spawn(&t.cfg, Echo::new());
    let _ = consume_all(&bs, &t.output, 40, Duration::from_secs(60)).await;

    let broker = tokio::task::spawn_blocking(move || {
        broker.restart();
        broker
    })
    .await
    .expect("broker restarts");

    produce_raw_all(&bs, &t.input, encoded((40..80).map(lead)).await).await;
    let out = event_ids(&bs, &t.output, 80, Duration::from_secs(90)).await;
    stop.cancel();
    let summary = handle.await.unwrap();
    let distinct: BTreeSet<_> = out.iter().cloned().collect();
    assert_eq!(
        distinct.len(),
        80,
        "no event lost across the broker restart"
    );
    assert!(summary.consumed >= 80);
    drop(broker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_topic_stops_the_stage_at_start_with_its_name() {
    let t = topics(1).await;
    let mut cfg = t.cfg.clone();
    cfg.topics.raw = unique_name("never-created");
    let err = run_stage(&cfg, Echo::new(), RunOptions::default())
        .await
        .expect_err("a missing input topic is fatal");
    let message = err.to_string();
    assert!(message.contains(&cfg.topics.raw), "{message}");
    assert!(message.contains("topics.raw"), "{message}");
    assert!(message.contains("leadflow topics create"), "{message}");
}

/// Fails with a retryable error `failures` times per input before it succeeds.
struct Flaky {
    failures: u32,
    seen: AtomicU32,
}

impl Flaky {
    fn new(failures: u32) -> Self {
        Flaky {
            failures,
            seen: AtomicU32::new(0),
        }
    }
}

impl Stage for Flaky {
    type Input = LeadEvent;
    const NAME: &'static str = "flaky";
    const INPUT: TopicRole = TopicRole::Raw;

    async fn process(&self, input: LeadEvent, _ctx: &Context) -> Result<Vec<Output>, StageError> {
        if self.seen.load(Ordering::SeqCst) < self.failures {
            self.seen.fetch_add(1, Ordering::SeqCst);
            return Err(StageError::retryable("provider down"));
        }
        self.seen.store(0, Ordering::SeqCst);
        Ok(vec![Output::to(TopicRole::Enriched, input)])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_errors_are_retried_then_succeed_or_stop_the_stage() {
    let t = topics(1).await;
    let bs = t.cfg.bootstrap_servers.clone();
    produce_raw_all(&bs, &t.input, encoded((0..3).map(lead)).await).await;
    let mut cfg = t.cfg.clone();
    cfg.retry.initial_backoff_ms = 10;
    cfg.retry.max_backoff_ms = 50;
    cfg.retry.max_attempts = 5;

    // two failures per input, five attempts allowed: everything flows, in order
    let stop = CancellationToken::new();
    let registry = StageRegistry::new(Flaky::NAME);
    let options = RunOptions {
        shutdown: stop.clone(),
        metrics: Some(registry.clone()),
        ..RunOptions::default()
    };
    let run_cfg = cfg.clone();
    let handle = tokio::spawn(async move { run_stage(&run_cfg, Flaky::new(2), options).await });
    let out = event_ids(&bs, &t.output, 3, Duration::from_secs(60)).await;
    stop.cancel();
    handle.await.unwrap().expect("clean stop");
    assert_eq!(
        out,
        vec!["evt-0", "evt-1", "evt-2"],
        "retried inputs keep their order"
    );
    let metrics = registry.render();
    assert!(
        metrics.contains("leadflow_flaky_retries_total 6"),
        "two retries per input are counted:\n{metrics}"
    );

    // more failures than attempts: the stage stops with an error (the process exits non-zero)
    cfg.group_id = Some(unique_name("group"));
    let err = run_stage(&cfg, Flaky::new(10), RunOptions::default())
        .await
        .expect_err("retries exhausted");
    assert!(
        err.to_string().contains("gave up after 5 attempts"),
        "{err}"
    );
}

/// With a schema registry configured, outputs and exception records are written in Confluent
/// framing (registered under `<topic>-value`), while single-object inputs are still read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_registry_outputs_use_confluent_framing() {
    let registry = FakeSchemaRegistry::start().await;
    let t = topics(1).await;
    let bs = t.cfg.bootstrap_servers.clone();
    let mut cfg = t.cfg.clone();
    cfg.registry = Some(leadflow_events::RegistryConfig {
        url: registry.url().to_owned(),
        username: None,
        password: None,
        timeout_ms: 2_000,
    });
    let mut records = encoded([lead(1)]).await;
    records.push((Some(b"lead-junk".to_vec()), b"junk".to_vec()));
    produce_raw_all(&bs, &t.input, records).await;

    let stop = CancellationToken::new();
    let options = RunOptions {
        shutdown: stop.clone(),
        ..RunOptions::default()
    };
    let run_cfg = cfg.clone();
    let handle = tokio::spawn(async move { run_stage(&run_cfg, Echo::new(), options).await });
    let out = consume_all(&bs, &t.output, 1, Duration::from_secs(60)).await;
    let exc = consume_all(&bs, &t.exceptions, 1, Duration::from_secs(60)).await;
    stop.cancel();
    handle.await.unwrap().expect("clean stop");

    assert_eq!(out[0].payload[0], 0, "Confluent magic byte");
    assert_eq!(exc[0].payload[0], 0, "exception records too");
    let subjects = registry.subjects();
    assert!(
        subjects.contains_key(&format!("{}-value", t.output)),
        "{subjects:?}"
    );
    assert!(
        subjects.contains_key(&format!("{}-value", t.exceptions)),
        "{subjects:?}"
    );
    let reader = Codec::from_config(cfg.registry.as_ref()).unwrap();
    let echoed: LeadEvent = reader.decode(&out[0].payload).await.unwrap();
    assert_eq!(echoed.event_id, "evt-1");
    let e: ExceptionRecord = reader.decode(&exc[0].payload).await.unwrap();
    assert_eq!(e.error_kind, ErrorKind::Decode);
}

/// Two instances of a stage in one consumer group share the partitions; one joins mid-stream and the
/// other leaves mid-stream (two rebalances): every input still reaches the output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_join_and_leave_the_group_without_losing_input() {
    let t = topics(4).await;
    let bs = t.cfg.bootstrap_servers.clone();
    produce_raw_all(&bs, &t.input, encoded((0..150).map(lead)).await).await;

    let (stop_a, a) = spawn(&t.cfg, Echo::new());
    let _ = consume_all(&bs, &t.output, 30, Duration::from_secs(60)).await;
    let (stop_b, b) = spawn(&t.cfg, Echo::new());
    produce_raw_all(&bs, &t.input, encoded((150..300).map(lead)).await).await;
    let _ = consume_all(&bs, &t.output, 150, Duration::from_secs(60)).await;
    stop_a.cancel();
    let first = a.await.unwrap();
    produce_raw_all(&bs, &t.input, encoded((300..400).map(lead)).await).await;
    // rebalances may redeliver (at-least-once): wait for 400 distinct inputs, not 400 records
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let out = loop {
        let out = event_ids(&bs, &t.output, 10_000, Duration::from_secs(3)).await;
        let distinct = out.iter().collect::<BTreeSet<_>>().len();
        if distinct >= 400 || std::time::Instant::now() > deadline {
            break out;
        }
    };
    stop_b.cancel();
    let second = b.await.unwrap();

    let distinct: BTreeSet<_> = out.iter().cloned().collect();
    assert_eq!(distinct.len(), 400, "every input reached the output");
    eprintln!(
        "{} outputs for 400 inputs (duplicates are allowed: at-least-once)",
        out.len()
    );
    assert!(
        second.consumed > 0,
        "the second instance took over partitions"
    );
    assert!(first.consumed + second.consumed >= 400);
}

/// Echo that holds the lead `lead-stall` until `release` is notified (a partition whose task is
/// stuck, as when it retries a dependency), and optionally burns CPU per record (a stage slower
/// than the fetches).
struct StallOnMarker {
    release: std::sync::Arc<tokio::sync::Notify>,
    busy: Duration,
}

impl Stage for StallOnMarker {
    type Input = LeadEvent;
    const NAME: &'static str = "flow";
    const INPUT: TopicRole = TopicRole::Raw;

    async fn process(&self, input: LeadEvent, _ctx: &Context) -> Result<Vec<Output>, StageError> {
        if input.lead_id == "lead-stall" {
            let _ = tokio::time::timeout(Duration::from_secs(120), self.release.notified()).await;
        }
        let started = std::time::Instant::now();
        while started.elapsed() < self.busy {
            std::hint::spin_loop();
        }
        Ok(vec![Output::to(TopicRole::Enriched, input)])
    }
}

fn spawn_with_http<S: Stage>(
    cfg: &ServiceConfig<NoSettings>,
    stage: S,
) -> (
    CancellationToken,
    tokio::sync::oneshot::Receiver<std::net::SocketAddr>,
    JoinHandle<RunSummary>,
) {
    let stop = CancellationToken::new();
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let options = RunOptions {
        shutdown: stop.clone(),
        http_addr: Some(addr_tx),
        // small limits, so that a few hundred records reach them
        flow: FlowLimits {
            queue_per_partition: 64,
            stash_limit: 64,
            stall: Duration::from_millis(300),
        },
        ..RunOptions::default()
    };
    let cfg = cfg.clone();
    let handle =
        tokio::spawn(async move { run_stage(&cfg, stage, options).await.expect("stage runs") });
    (stop, addr_rx, handle)
}

fn metric(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from:\n{metrics}"))
}

/// A partition whose task is stuck (its first input never completes) while thousands of its inputs
/// wait: once the stashes are full the consume loop would stop polling, so the stuck partition must
/// be paused for the other one to flow on. It does, in order, and the stuck one completes later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_partition_is_paused_and_the_others_flow_on() {
    let t = topics(2).await;
    let bs = t.cfg.bootstrap_servers.clone();
    let mut marker = lead(0);
    marker.lead_id = "lead-stall".into();
    let mut leads = vec![marker];
    leads.extend((1..1_500).map(lead));
    let placed = produce_raw_all(&bs, &t.input, encoded(leads).await).await;
    let stuck = placed[0].0;
    let others = placed.iter().filter(|(p, _)| *p != stuck).count();
    let behind_marker = placed.len() - others - 1;
    assert!(
        behind_marker > 128 && others > 128,
        "both partitions hold more than a queue and a stash: {behind_marker} / {others}"
    );

    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let stage = StallOnMarker {
        release: release.clone(),
        busy: Duration::ZERO,
    };
    let lead_number = |id: &str| id.trim_start_matches("evt-").parse::<usize>().unwrap();
    let stuck_inputs: Vec<usize> = placed
        .iter()
        .enumerate()
        .filter(|(_, (p, _))| *p == stuck)
        .map(|(i, _)| i)
        .collect();
    let (stop, addr, handle) = spawn_with_http(&t.cfg, stage);
    let addr = addr.await.expect("http endpoint bound");
    // every input of the other partition is done while the stuck one still holds its first
    let flowed = event_ids(&bs, &t.output, others, Duration::from_secs(90)).await;
    assert_eq!(flowed.len(), others, "the other partition flowed on");
    assert!(
        flowed
            .iter()
            .all(|id| stuck_inputs.binary_search(&lead_number(id)).is_err()),
        "nothing of the stuck partition was produced yet"
    );
    let (_, metrics) = http_get(addr, "/metrics").await;
    assert!(
        metric(&metrics, "leadflow_flow_partition_pauses_total") >= 1.0,
        "the stuck partition was paused"
    );

    release.notify_one();
    let all = consume_all(&bs, &t.output, placed.len(), Duration::from_secs(90)).await;
    stop.cancel();
    handle.await.unwrap();
    let codec = Codec::single_object().unwrap();
    let mut outputs = Vec::new();
    for r in &all {
        let l: LeadEvent = codec.decode(&r.payload).await.unwrap();
        outputs.push((r.partition, lead_number(&l.event_id)));
    }
    assert_eq!(
        outputs
            .iter()
            .map(|(_, n)| *n)
            .collect::<BTreeSet<_>>()
            .len(),
        placed.len(),
        "every input reached the output once the stuck one completed"
    );
    // within each output partition the stuck partition's inputs came out in input order
    for out_partition in [0, 1] {
        let seen: Vec<usize> = outputs
            .iter()
            .filter(|(p, n)| *p == out_partition && stuck_inputs.binary_search(n).is_ok())
            .map(|(_, n)| *n)
            .collect();
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "order within the stuck partition kept on output partition {out_partition}"
        );
    }
}

/// A backlog the stage works through more slowly than it is fetched is paced by polling less, never
/// by pausing partitions (a pause makes librdkafka throw away what it prefetched and fetch it again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_alone_never_pauses_a_partition() {
    let t = topics(3).await;
    let bs = t.cfg.bootstrap_servers.clone();
    let count = 3_000;
    produce_raw_all(&bs, &t.input, encoded((0..count).map(lead)).await).await;
    let stage = StallOnMarker {
        release: std::sync::Arc::new(tokio::sync::Notify::new()),
        busy: Duration::from_micros(40),
    };
    let (stop, addr, handle) = spawn_with_http(&t.cfg, stage);
    let addr = addr.await.expect("http endpoint bound");
    let out = consume_all(&bs, &t.output, count, Duration::from_secs(120)).await;
    let (_, metrics) = http_get(addr, "/metrics").await;
    stop.cancel();
    let summary = handle.await.unwrap();
    assert_eq!(out.len(), count, "the whole backlog went through");
    assert_eq!(summary.consumed, count as u64);
    assert_eq!(
        metric(&metrics, "leadflow_flow_partition_pauses_total"),
        0.0,
        "no partition was paused for a backlog"
    );
}
