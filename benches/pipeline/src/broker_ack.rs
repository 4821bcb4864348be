//! Broker acknowledgement latency with several concurrent producers and no leadflow code at all:
//! each producer sends ~1 KB records at a fixed rate to its own topic with the stages' producer
//! settings, and the harness prints the send → ack latency distribution per producer. Tells whether
//! a latency tail comes from the broker's write path.
//!
//! ```text
//! target/release/broker-ack-latency --producers 3 --rate 150 --seconds 10
//! ```
#![allow(clippy::expect_used)]

mod broker;

use broker::BenchBroker;
use std::time::{Duration, Instant};

use clap::Parser;
use leadflow_testkit::{create_topic, unique_name};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

#[derive(Parser, Debug)]
#[command(about = "Send -> ack latency of concurrent producers on a broker")]
struct Args {
    #[arg(long, default_value_t = 3)]
    producers: usize,
    /// Records per second per producer.
    #[arg(long, default_value_t = 150)]
    rate: u32,
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// An existing broker; a private tansu is started when absent.
    #[arg(long)]
    bootstrap_servers: Option<String>,
    /// Extra producer settings, e.g. `--set retry.backoff.ms=10`.
    #[arg(long = "set", value_parser = parse_setting)]
    settings: Vec<(String, String)>,
}

fn parse_setting(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{s:?} is not key=value"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let broker = BenchBroker::given_or_private(args.bootstrap_servers.as_deref()).await?;
    let bs = broker.bootstrap.clone();
    let mut tasks = Vec::new();
    for p in 0..args.producers {
        let topic = unique_name(&format!("ack-{p}"));
        create_topic(&bs, &topic, 3).await;
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &bs)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5");
        for (k, v) in &args.settings {
            config.set(k, v);
        }
        let producer: FutureProducer = config.create()?;
        let count = args.rate * args.seconds;
        let gap = Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1)));
        tasks.push(tokio::spawn(async move {
            let payload = vec![b'x'; 1024];
            let start = Instant::now();
            let mut waits = Vec::new();
            for i in 0..count {
                tokio::time::sleep_until((start + gap * i).into()).await;
                let key = format!("k{}", i % 50);
                let sent = Instant::now();
                let delivery = producer
                    .send_result(FutureRecord::to(&topic).key(&key).payload(&payload))
                    .map_err(|(e, _)| e)
                    .expect("enqueue");
                waits.push(tokio::spawn(async move {
                    let _ = delivery.await;
                    sent.elapsed()
                }));
            }
            let mut ms = Vec::new();
            for w in waits {
                ms.push(w.await.expect("ack task").as_secs_f64() * 1000.0);
            }
            ms.sort_by(f64::total_cmp);
            ms
        }));
    }
    println!(
        "broker-ack-latency: {} producers x {}/s for {} s, 1 KB records, acks=all, idempotent, {}",
        args.producers,
        args.rate,
        args.seconds,
        broker.label()
    );
    for (p, t) in tasks.into_iter().enumerate() {
        let ms = t.await?;
        let pct = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "  producer {p}: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} acks)",
            pct(0.5),
            pct(0.95),
            pct(0.99),
            ms.last().copied().unwrap_or(0.0),
            ms.len()
        );
    }
    drop(broker);
    Ok(())
}
