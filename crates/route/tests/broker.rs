#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::field_reassign_with_default
)]
//! Route on the real local broker: a status change on `reps` applies to the next lead; a restart
//! rebuilds load and account ownership from `handoff.packets`; a redelivered decision yields a
//! packet with the same idempotency key; an unroutable lead lands on the exceptions topic; a
//! tombstone removes a rep from a running route; two instances never split an account, and their
//! cap overshoot is measured against its bound.

mod common;

use std::time::Duration;

use common::*;
use leadflow_events::{
    Codec, Event, ExceptionRecord, HandoffPacket, RepState, RepStatus, SlaEscalation, SlaKind,
    TierDecision, Timestamp,
};
use leadflow_route::{ReassignStage, RouteSettings, RouteStage};
use leadflow_runtime::{RunOptions, RunSummary, ServiceConfig, StageRegistry, run_stage};
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw_all, unique_name};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

async fn config() -> ServiceConfig<RouteSettings> {
    let mut cfg = ServiceConfig::<RouteSettings>::default();
    cfg.bootstrap_servers = bootstrap();
    cfg.group_id = Some(unique_name("route"));
    cfg.topics.tiered = unique_name("tiered");
    cfg.topics.packets = unique_name("packets");
    cfg.topics.activity = unique_name("activity");
    cfg.topics.reps = unique_name("reps");
    cfg.topics.exceptions = unique_name("exc");
    cfg.topics.escalations = unique_name("esc");
    cfg.http.listen = "127.0.0.1:0".into();
    cfg.shutdown_grace_ms = 20_000;
    // the test's decisions are dated 2026-11-20: replay every packet, whatever today's date
    cfg.stage.state_window_days = 0;
    for (t, p) in [
        (&cfg.topics.tiered, 3),
        (&cfg.topics.packets, 3),
        (&cfg.topics.activity, 3),
        (&cfg.topics.reps, 1),
        (&cfg.topics.exceptions, 1),
        (&cfg.topics.escalations, 3),
    ] {
        create_topic(&cfg.bootstrap_servers, t, p).await;
    }
    cfg
}

fn start(cfg: &ServiceConfig<RouteSettings>) -> (CancellationToken, JoinHandle<RunSummary>) {
    let (stop, handle, _) = start_watched(cfg);
    (stop, handle)
}

/// [`start`], returning the stage's metrics registry too (to poll what the stage has applied).
fn start_watched(
    cfg: &ServiceConfig<RouteSettings>,
) -> (CancellationToken, JoinHandle<RunSummary>, StageRegistry) {
    let shutdown = CancellationToken::new();
    let registry = StageRegistry::new("route");
    let stage = RouteStage::new(&cfg.stage, &registry).unwrap();
    let options = RunOptions {
        shutdown: shutdown.clone(),
        metrics: Some(registry.clone()),
        ..RunOptions::default()
    };
    let cfg = cfg.clone();
    let handle =
        tokio::spawn(async move { run_stage(&cfg, stage, options).await.expect("route runs") });
    (shutdown, handle, registry)
}

/// Polls the registry until it renders `line`, for at most 60 s.
async fn wait_for_metric(registry: &StageRegistry, line: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !registry.render().lines().any(|l| l == line) {
        assert!(
            std::time::Instant::now() < deadline,
            "no `{line}` within 60 s:\n{}",
            registry.render()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Packets an instance made, from its metrics.
fn made(registry: &StageRegistry) -> u64 {
    registry
        .render()
        .lines()
        .filter(|l| l.starts_with("leadflow_route_packets_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Produces probe decisions (team `probe`, handled by its manager `pmgr`, away from the reps under
/// test), one round of three every 500 ms, until both instances have routed one: the group has then
/// given each of them partitions of `leads.tiered`. Returns how many probes were produced.
async fn until_both_route(
    cfg: &ServiceConfig<RouteSettings>,
    r1: &StageRegistry,
    r2: &StageRegistry,
) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut probes = 0;
    while made(r1) == 0 || made(r2) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the two instances did not both get partitions within 60 s"
        );
        let round: Vec<TierDecision> = (0..3)
            .map(|k| {
                let mut d = dated(
                    &format!("probe-{}", probes + k),
                    Some(&format!("probe{}.io", probes + k)),
                    0,
                );
                d.target_team = "probe".into();
                d
            })
            .collect();
        probes += round.len();
        publish(cfg, &cfg.topics.tiered, &round).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    probes
}

/// Produces a tombstone: the key, no value.
async fn tombstone(cfg: &ServiceConfig<RouteSettings>, topic: &str, key: &str) {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &cfg.bootstrap_servers)
        .set("acks", "all")
        .create()
        .unwrap();
    let record: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic).key(key);
    producer
        .send(record, Duration::from_secs(30))
        .await
        .map_err(|(e, _)| e)
        .expect("tombstone produced");
}

/// Every packet on the topic, once `n` exist (60 s at most), by lead.
async fn packets_by_lead(
    cfg: &ServiceConfig<RouteSettings>,
    n: usize,
) -> std::collections::BTreeMap<String, Vec<HandoffPacket>> {
    let codec = Codec::single_object().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let mut by_lead = std::collections::BTreeMap::<String, Vec<HandoffPacket>>::new();
    while by_lead.len() < n && std::time::Instant::now() < deadline {
        by_lead.clear();
        for r in consume_all(
            &cfg.bootstrap_servers,
            &cfg.topics.packets,
            2 * n,
            Duration::from_secs(5),
        )
        .await
        {
            let p: HandoffPacket = codec.decode(&r.payload).await.unwrap();
            by_lead.entry(p.lead_id().to_owned()).or_default().push(p);
        }
    }
    assert_eq!(by_lead.len(), n, "every decision routed");
    by_lead
}

async fn publish<E: Event>(cfg: &ServiceConfig<RouteSettings>, topic: &str, events: &[E]) {
    let codec = Codec::single_object().unwrap();
    let mut records = Vec::new();
    for e in events {
        records.push((
            Some(e.key().as_bytes().to_vec()),
            codec.encode(topic, e).await.unwrap(),
        ));
    }
    produce_raw_all(&cfg.bootstrap_servers, topic, records).await;
}

async fn decide(cfg: &ServiceConfig<RouteSettings>, d: &TierDecision) {
    publish(cfg, &cfg.topics.tiered, std::slice::from_ref(d)).await;
}

/// Waits until `n` packets exist and returns them in the order of their event time.
async fn packets(cfg: &ServiceConfig<RouteSettings>, n: usize) -> Vec<HandoffPacket> {
    let codec = Codec::single_object().unwrap();
    let records = consume_all(
        &cfg.bootstrap_servers,
        &cfg.topics.packets,
        n,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(records.len(), n, "expected {n} packets");
    let mut out = Vec::new();
    for r in records {
        out.push(codec.decode::<HandoffPacket>(&r.payload).await.unwrap());
    }
    out.sort_by_key(|p| (p.created_at, p.lead_id().to_owned()));
    out
}

fn owner(p: &HandoffPacket) -> &str {
    &p.assignee.as_ref().unwrap().rep_id
}

fn dated(lead: &str, account: Option<&str>, minutes: i64) -> TierDecision {
    at(
        decision(lead, account, "FR", 30),
        Timestamp(T0.0 + minutes * 60_000),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_change_on_reps_applies_to_the_next_lead() {
    let cfg = config().await;
    let a = rep("a", "ae");
    publish(&cfg, &cfg.topics.reps, &[a.clone(), manager("mgr", "ae")]).await;
    let (stop, handle, registry) = start_watched(&cfg);
    // the roster changes below reach the running stage as side-input events, counted per topic
    let applied = |n: u32| {
        format!(
            "leadflow_route_side_input_events_total{{topic=\"{}\"}} {n}",
            cfg.topics.reps
        )
    };

    decide(&cfg, &dated("l1", None, 0)).await;
    assert_eq!(owner(&packets(&cfg, 1).await[0]), "a");

    let mut away: RepState = a.clone();
    away.status = RepStatus::OutOfOffice;
    away.status_until = Some(Timestamp(T0.0 + 86_400_000));
    publish(&cfg, &cfg.topics.reps, &[away]).await;
    wait_for_metric(&registry, &applied(3)).await;
    decide(&cfg, &dated("l2", None, 1)).await;
    let p = packets(&cfg, 2).await;
    assert_eq!(
        owner(&p[1]),
        "mgr",
        "a is out of office: the manager, flagged"
    );
    let why = p[1].unassigned_reason.as_deref().unwrap();
    assert!(why.contains("out_of_office"), "{why}");

    publish(&cfg, &cfg.topics.reps, &[a]).await;
    wait_for_metric(&registry, &applied(4)).await;
    decide(&cfg, &dated("l3", None, 2)).await;
    let p = packets(&cfg, 3).await;
    assert_eq!(
        owner(&p[2]),
        "a",
        "back: a takes leads again without a restart"
    );

    // a pool with nobody and no manager: the exceptions topic, owner revops, never dropped
    let mut legal = dated("l4", None, 3);
    legal.target_team = "legal".into();
    decide(&cfg, &legal).await;
    let exc = consume_all(
        &cfg.bootstrap_servers,
        &cfg.topics.exceptions,
        1,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(exc.len(), 1);
    let e: ExceptionRecord = Codec::single_object()
        .unwrap()
        .decode(&exc[0].payload)
        .await
        .unwrap();
    assert_eq!(e.owner, "revops");
    assert_eq!(e.stage, "route");
    assert!(e.reason.contains("no manager"), "{}", e.reason);
    assert!(e.due_at > e.raised_at);

    stop.cancel();
    handle.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_rebuilds_load_and_ownership_and_redelivery_keeps_the_key() {
    let cfg = config().await;
    let mut a = rep("a", "ae");
    a.max_open_leads = 2;
    let mut b = rep("b", "ae");
    b.max_open_leads = 2;
    publish(&cfg, &cfg.topics.reps, &[a, b, manager("mgr", "ae")]).await;

    let (stop, handle) = start(&cfg);
    let l1 = dated("l1", Some("northwind.io"), 0);
    decide(&cfg, &l1).await;
    packets(&cfg, 1).await;
    decide(&cfg, &dated("l2", Some("contoso.com"), 1)).await;
    packets(&cfg, 2).await;
    decide(&cfg, &dated("l3", Some("northwind.io"), 2)).await;
    let before = packets(&cfg, 3).await;
    assert_eq!(
        before.iter().map(owner).collect::<Vec<_>>(),
        ["a", "b", "a"],
        "least loaded, then the account owner"
    );
    stop.cancel();
    handle.await.unwrap();

    // a new process: nothing in memory, everything from the topics
    let (stop, handle) = start(&cfg);
    decide(&cfg, &dated("l4", Some("contoso.com"), 3)).await;
    let p = packets(&cfg, 4).await;
    assert_eq!(owner(&p[3]), "b", "contoso.io still belongs to b");
    assert!(p[3].assignment_reason.starts_with("account owner"));
    decide(&cfg, &dated("l5", Some("fabrikam.com"), 4)).await;
    let p = packets(&cfg, 5).await;
    assert_eq!(owner(&p[4]), "mgr", "a and b are both at their cap of 2");
    assert!(
        p[4].unassigned_reason
            .as_deref()
            .unwrap()
            .contains("2 at_cap"),
        "{:?}",
        p[4].unassigned_reason
    );

    // the first decision redelivered (a replay of leads.tiered): same packet, same key, same owner
    decide(&cfg, &l1).await;
    let p = packets(&cfg, 6).await;
    let copies: Vec<_> = p.iter().filter(|x| x.lead_id() == "l1").collect();
    assert_eq!(copies.len(), 2);
    assert_eq!(copies[0].idempotency_key, copies[1].idempotency_key);
    assert_eq!(copies[0].packet_id, copies[1].packet_id);
    assert_eq!(owner(copies[1]), "a");
    stop.cancel();
    handle.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sla_breach_is_reassigned_by_the_reassign_service() {
    let cfg = config().await;
    publish(
        &cfg,
        &cfg.topics.reps,
        &[rep("a", "ae"), rep("b", "ae"), manager("mgr", "ae")],
    )
    .await;
    let (stop, handle) = start(&cfg);
    decide(&cfg, &dated("l1", None, 0)).await;
    let first = packets(&cfg, 1).await.remove(0);
    assert_eq!(owner(&first), "a");

    // the reassign service: its own group, the same state rebuilt from the topics
    let mut rcfg = cfg.clone();
    rcfg.group_id = Some(unique_name("reassign"));
    let registry = StageRegistry::new("route_reassign");
    let stage = ReassignStage::new(&rcfg.stage, &registry).unwrap();
    let rstop = CancellationToken::new();
    let options = RunOptions {
        shutdown: rstop.clone(),
        metrics: Some(registry),
        ..RunOptions::default()
    };
    let rhandle = tokio::spawn(async move {
        run_stage(&rcfg, stage, options)
            .await
            .expect("reassign runs")
    });

    let esc = SlaEscalation {
        escalation_id: "esc-1".into(),
        lead_id: "l1".into(),
        packet_id: first.packet_id.clone(),
        sla_kind: SlaKind::FirstContact,
        due_at: first.sla[0].due_at,
        escalated_at: Timestamp(first.sla[0].due_at.0 + 1000),
        level: 1,
        from_rep_id: Some("a".into()),
        to: "ae".into(),
        reason: "first contact SLA missed".into(),
        target_team: Some("ae".into()),
        tier: Some("HOT".into()),
        late_by_ms: Some(1_000),
    };
    publish(&cfg, &cfg.topics.escalations, std::slice::from_ref(&esc)).await;
    let p = packets(&cfg, 2).await;
    let second = &p[1];
    assert_eq!(owner(second), "b");
    assert_eq!(second.previous_assignee.as_ref().unwrap().rep_id, "a");
    assert_eq!(second.manager_cc.as_ref().unwrap().rep_id, "mgr");
    assert_eq!(second.escalation_level, 1);
    assert_ne!(second.idempotency_key, first.idempotency_key);

    rstop.cancel();
    rhandle.await.unwrap();
    stop.cancel();
    handle.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_partitions_and_converge_on_the_load() {
    let cfg = config().await;
    let reps: Vec<RepState> = ["a", "b", "c"]
        .iter()
        .map(|id| {
            let mut r = rep(id, "ae");
            r.max_open_leads = 20;
            r
        })
        .collect();
    publish(&cfg, &cfg.topics.reps, &reps).await;
    publish(&cfg, &cfg.topics.reps, &[manager("pmgr", "probe")]).await;
    let (stop1, h1, r1) = start_watched(&cfg);
    let (stop2, h2, r2) = start_watched(&cfg);
    // both hold partitions of leads.tiered before the leads under test arrive
    let probes = until_both_route(&cfg, &r1, &r2).await;
    let decisions: Vec<TierDecision> = (0..30)
        .map(|i| dated(&format!("l{i}"), None, i64::from(i)))
        .collect();
    publish(&cfg, &cfg.topics.tiered, &decisions).await;

    // every lead gets a packet; a redelivery after a rebalance repeats the same key
    let codec = Codec::single_object().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let mut by_lead = std::collections::BTreeMap::<String, Vec<HandoffPacket>>::new();
    while by_lead.len() < 30 && std::time::Instant::now() < deadline {
        by_lead.clear();
        for r in consume_all(
            &cfg.bootstrap_servers,
            &cfg.topics.packets,
            60 + probes,
            Duration::from_secs(5),
        )
        .await
        {
            let p: HandoffPacket = codec.decode(&r.payload).await.unwrap();
            if !p.lead_id().starts_with("probe-") {
                by_lead.entry(p.lead_id().to_owned()).or_default().push(p);
            }
        }
    }
    assert_eq!(by_lead.len(), 30, "every decision routed");
    let mut load = std::collections::BTreeMap::<String, u32>::new();
    for (lead, ps) in &by_lead {
        assert!(
            ps.iter()
                .all(|p| p.idempotency_key == ps[0].idempotency_key),
            "{lead}"
        );
        *load.entry(owner(&ps[0]).to_owned()).or_default() += 1;
    }
    // both instances read every packet: rotation spread the leads (no rep took them all)
    assert_eq!(load.values().sum::<u32>(), 30);
    assert!(load.values().all(|n| *n <= 20), "{load:?}");
    assert!(load.len() == 3, "all three reps got leads: {load:?}");
    stop1.cancel();
    stop2.cancel();
    h1.await.unwrap();
    h2.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tombstone_on_reps_removes_the_rep_from_a_running_route() {
    let cfg = config().await;
    publish(&cfg, &cfg.topics.reps, &[rep("a", "ae"), rep("b", "ae")]).await;
    let (stop, handle, registry) = start_watched(&cfg);
    decide(&cfg, &dated("l1", Some("acme.io"), 0)).await;
    assert_eq!(owner(&packets(&cfg, 1).await[0]), "a");

    // `leadflow reps remove a` ends with a tombstone; the running route applies it
    tombstone(&cfg, &cfg.topics.reps, "a").await;
    wait_for_metric(&registry, "leadflow_route_roster_reps 1").await;
    // l2 goes to b by load either way; l3 of acme.io would go to its owner a, who is gone
    decide(&cfg, &dated("l2", None, 1)).await;
    packets(&cfg, 2).await;
    decide(&cfg, &dated("l3", Some("acme.io"), 2)).await;
    let p = packets(&cfg, 3).await;
    assert_eq!(owner(&p[1]), "b");
    assert_eq!(owner(&p[2]), "b", "the removed account owner is forgotten");
    stop.cancel();
    handle.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_give_one_new_account_one_owner() {
    let cfg = config().await;
    let reps: Vec<RepState> = ["a", "b", "c"]
        .iter()
        .map(|id| {
            let mut r = rep(id, "ae");
            r.max_open_leads = 30;
            r
        })
        .collect();
    publish(&cfg, &cfg.topics.reps, &reps).await;
    publish(&cfg, &cfg.topics.reps, &[manager("pmgr", "probe")]).await;
    let (r1, stop1, h1) = {
        let (s, h, r) = start_watched(&cfg);
        (r, s, h)
    };
    let (r2, stop2, h2) = {
        let (s, h, r) = start_watched(&cfg);
        (r, s, h)
    };
    // both instances replayed the roster before either routes
    wait_for_metric(&r1, "leadflow_route_roster_reps 4").await;
    wait_for_metric(&r2, "leadflow_route_roster_reps 4").await;
    // and the group has given each of them partitions of leads.tiered
    let probes = until_both_route(&cfg, &r1, &r2).await;
    // 20 leads of one new account produced at once, as tier keys them (by account), plus 10 of
    // other accounts so both instances have work
    let mut decisions: Vec<TierDecision> = (0..20)
        .map(|i| dated(&format!("n{i}"), Some("newco.io"), 0))
        .collect();
    decisions.extend((0..10).map(|i| dated(&format!("o{i}"), Some(&format!("other{i}.io")), 0)));
    let codec = Codec::single_object().unwrap();
    let mut records = Vec::new();
    for d in &decisions {
        records.push((
            Some(d.key().as_bytes().to_vec()),
            codec.encode(&cfg.topics.tiered, d).await.unwrap(),
        ));
    }
    let placed =
        leadflow_testkit::produce_raw_burst(&cfg.bootstrap_servers, &cfg.topics.tiered, records)
            .await;
    let partitions: std::collections::BTreeSet<i32> =
        placed[..20].iter().map(|(p, _)| *p).collect();
    assert_eq!(
        partitions.len(),
        1,
        "one account, one partition: {placed:?}"
    );

    let by_lead = packets_by_lead(&cfg, 30 + probes).await;
    let owners: std::collections::BTreeSet<&str> = by_lead
        .iter()
        .filter(|(lead, _)| lead.starts_with('n'))
        .flat_map(|(_, ps)| ps.iter().map(owner))
        .collect();
    assert_eq!(owners.len(), 1, "one owner for newco.io: {owners:?}");
    stop1.cancel();
    stop2.cancel();
    h1.await.unwrap();
    h2.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cap_overshoot_with_two_instances_is_measured_and_bounded() {
    const CAP: u32 = 5;
    const INSTANCES: u32 = 2;
    let cfg = config().await;
    let mut reps: Vec<RepState> = ["a", "b", "c", "d"]
        .iter()
        .map(|id| {
            let mut r = rep(id, "ae");
            r.max_open_leads = CAP as i32;
            r
        })
        .collect();
    reps.push(manager("mgr", "ae"));
    reps.push(manager("pmgr", "probe"));
    publish(&cfg, &cfg.topics.reps, &reps).await;
    let (stop1, h1, r1) = start_watched(&cfg);
    let (stop2, h2, r2) = start_watched(&cfg);
    wait_for_metric(&r1, "leadflow_route_roster_reps 6").await;
    wait_for_metric(&r2, "leadflow_route_roster_reps 6").await;
    let probes = until_both_route(&cfg, &r1, &r2).await;
    let before = [made(&r1), made(&r2)];
    // 40 leads of 40 accounts at once: twice the reps' total capacity of 20
    let decisions: Vec<TierDecision> = (0..40)
        .map(|i| dated(&format!("l{i}"), Some(&format!("acct{i}.io")), 0))
        .collect();
    let codec = Codec::single_object().unwrap();
    let mut records = Vec::new();
    for d in &decisions {
        records.push((
            Some(d.key().as_bytes().to_vec()),
            codec.encode(&cfg.topics.tiered, d).await.unwrap(),
        ));
    }
    leadflow_testkit::produce_raw_burst(&cfg.bootstrap_servers, &cfg.topics.tiered, records).await;
    let by_lead = packets_by_lead(&cfg, 40 + probes).await;
    let mut load = std::collections::BTreeMap::<String, u32>::new();
    for (lead, ps) in &by_lead {
        if !lead.starts_with("probe-") {
            *load.entry(owner(&ps[0]).to_owned()).or_default() += 1;
        }
    }
    // how many of the 40 each instance routed (a measurement of two instances needs both working)
    let per_instance = [made(&r1) - before[0], made(&r2) - before[1]];
    let overshoot = ["a", "b", "c", "d"]
        .iter()
        .map(|r| load.get(*r).copied().unwrap_or(0).saturating_sub(CAP))
        .max()
        .unwrap_or(0);
    eprintln!(
        "measured: N={INSTANCES}, cap {CAP}: packets per instance {per_instance:?}, loads {load:?}, largest overshoot {overshoot} lead(s)"
    );
    assert!(
        per_instance.iter().all(|n| *n > 0),
        "both instances routed leads: {per_instance:?}"
    );
    assert!(
        overshoot <= (INSTANCES - 1) * CAP,
        "overshoot {overshoot} above the (N-1) x cap bound: {load:?}"
    );
    assert_eq!(load.values().sum::<u32>(), 40, "every lead held once");
    stop1.cancel();
    stop2.cancel();
    h1.await.unwrap();
    h2.await.unwrap();
}

/// Three people of one account produced at once: one owner, the second and third packets update
/// the first one's card, and the third lists all three in the engagement order (RULES.md §9). A
/// restarted route rebuilds the committee from the side inputs: a fourth person (nurture, then
/// handed off) sees the three others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_people_of_one_account_get_one_owner_and_one_card_listing_all_three() {
    use leadflow_events::Persona;
    let cfg = config().await;
    publish(
        &cfg,
        &cfg.topics.reps,
        &[
            rep("a", "ae"),
            rep("b", "ae"),
            rep("c", "ae"),
            manager("mgr", "ae"),
        ],
    )
    .await;
    let person = |lead: &str, persona: Persona, title: &str, minutes: i64| {
        let mut d = dated(lead, Some("initech.com"), minutes);
        d.scored.enriched.persona = persona;
        d.scored.enriched.lead.contact.title = Some(title.into());
        d
    };
    let (stop, handle) = start(&cfg);
    let three = [
        person("cfo", Persona::P1, "CFO", 0),
        person("eng", Persona::P3, "Engineer", 1),
        person("mgr-1", Persona::P2, "IT Manager", 2),
    ];
    publish(&cfg, &cfg.topics.tiered, &three).await;
    let p = packets(&cfg, 3).await;
    let owners: Vec<_> = p.iter().map(owner).collect();
    assert!(
        owners.iter().all(|o| *o == owners[0]),
        "one owner: {owners:?}"
    );
    let card = &p[0];
    assert_eq!(card.committee.as_ref().unwrap().updates_card, None);
    for later in &p[1..] {
        let c = later.committee.as_ref().unwrap();
        assert_eq!(c.updates_card.as_deref(), Some(card.packet_id.as_str()));
        assert_eq!(c.card_key.as_deref(), Some(card.idempotency_key.as_str()));
    }
    let c = p[2].committee.as_ref().unwrap();
    assert_eq!(c.total, 3);
    assert_eq!(c.engagement_order, ["mgr-1", "cfo", "eng"]);
    assert_eq!(c.owner.as_ref().map(|o| o.rep_id.as_str()), Some(owners[0]));
    stop.cancel();
    handle.await.unwrap();

    // a new process: the committee comes back from leads.tiered, handoff.packets and activity
    let (stop, handle) = start(&cfg);
    let mut fourth = person("ops", Persona::Unknown, "Ops", 3);
    fourth.handoff = leadflow_events::HandoffKind::Capture;
    decide(&cfg, &fourth).await;
    let p = packets(&cfg, 4).await;
    assert_eq!(owner(&p[3]), owners[0], "the account owner again");
    let c = p[3].committee.as_ref().unwrap();
    assert_eq!(c.total, 4);
    assert_eq!(c.engagement_order, ["mgr-1", "cfo", "eng", "ops"]);
    assert_eq!(c.updates_card.as_deref(), Some(card.packet_id.as_str()));
    stop.cancel();
    handle.await.unwrap();
}
