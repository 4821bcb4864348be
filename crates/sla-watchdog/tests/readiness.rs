#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! On the broker: the watchdog answers `/readyz` 200 only once its state replay is done. With
//! 300 packets already on `handoff.packets`, the first 200 it gives is given by a stage that holds
//! every one of their leads (the state came through the runtime's side inputs, replayed before the
//! run reports ready; its own second loop used to report ready before its replay ended).

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadflow_events::{Codec, HandoffPacket, SlaDeadline, SlaKind, Timestamp, samples};
use leadflow_runtime::{Clock, RunOptions, ServiceConfig, StageRegistry, SystemClock, run_stage};
use leadflow_sla_watchdog::{WatchdogSettings, WatchdogStage};
use leadflow_testkit::{bootstrap, create_topic, produce_raw_all, unique_name};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

const PACKETS: usize = 300;

fn packet(i: usize, due_at: Timestamp) -> HandoffPacket {
    let mut p = samples::handoff_packet();
    p.packet_id = format!("pkt-r{i}");
    p.decision.scored.enriched.lead.lead_id = format!("lead-r{i}");
    p.decision.decided_at = Timestamp(due_at.0 - 3_600_000);
    p.created_at = p.decision.decided_at;
    let sla = vec![SlaDeadline {
        kind: SlaKind::FirstContact,
        due_at,
    }];
    p.decision.sla = sla.clone();
    p.sla = sla;
    p
}

async fn status(addr: std::net::SocketAddr, path: &str) -> Option<u16> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.ok()?;
    String::from_utf8_lossy(&buf)
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_only_after_the_state_replay() {
    let bs = bootstrap();
    let mut cfg = ServiceConfig::<WatchdogSettings> {
        bootstrap_servers: bs.clone(),
        group_id: Some(unique_name("readiness-watchdog")),
        ..ServiceConfig::default()
    };
    cfg.http.listen = "127.0.0.1:0".into();
    for role in leadflow_events::TopicRole::ALL {
        let name = unique_name(&format!("readiness-{}", role.config_key()));
        let mut names = serde_json::to_value(&cfg.topics).unwrap();
        names[role.config_key()] = serde_json::Value::String(name.clone());
        cfg.topics = serde_json::from_value(names).unwrap();
        create_topic(&bs, &name, 2).await;
    }
    // deadlines a day ahead: nothing fires, the state only holds them
    let due = Timestamp(SystemClock.now().0 + 86_400_000);
    let codec = Codec::single_object().unwrap();
    let mut records = Vec::new();
    for i in 0..PACKETS {
        let p = packet(i, due);
        let bytes = codec.encode(&cfg.topics.packets, &p).await.unwrap();
        records.push((
            Some(p.decision.scored.enriched.lead.lead_id.into_bytes()),
            bytes,
        ));
    }
    produce_raw_all(&bs, &cfg.topics.packets, records).await;

    let registry = StageRegistry::new("sla-watchdog");
    let stage = WatchdogStage::start(&cfg, &registry, Arc::new(SystemClock)).unwrap();
    let engine = stage.engine().clone();
    let stop = CancellationToken::new();
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let options = RunOptions {
        shutdown: stop.clone(),
        http_addr: Some(addr_tx),
        metrics: Some(registry),
        ..RunOptions::default()
    };
    let run_cfg = cfg.clone();
    let run = tokio::spawn(async move { run_stage(&run_cfg, stage, options).await });
    let addr = addr_rx.await.expect("http endpoint bound");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if status(addr, "/readyz").await == Some(200) {
            let leads = engine.lock().unwrap().lead_count();
            assert_eq!(
                leads, PACKETS,
                "ready with {leads} of {PACKETS} leads replayed"
            );
            break;
        }
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.cancel();
    run.await.unwrap().expect("clean stop");
}
