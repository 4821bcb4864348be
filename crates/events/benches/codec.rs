//! Encode/decode cost of the codec on the smallest and the largest event of the contract.
#![allow(clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leadflow_events::{Codec, LeadEvent, TierDecision, samples};

fn codec(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let codec = Codec::single_object().expect("codec");
    let lead = samples::lead_event();
    let decision = samples::tier_decision();
    let lead_bytes = rt.block_on(codec.encode("t", &lead)).expect("encodes");
    let decision_bytes = rt.block_on(codec.encode("t", &decision)).expect("encodes");

    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode lead event", |b| {
        b.iter(|| rt.block_on(codec.encode("t", &lead)))
    });
    g.bench_function("decode lead event", |b| {
        b.iter(|| rt.block_on(codec.decode::<LeadEvent>(&lead_bytes)))
    });
    g.bench_function("encode tier decision", |b| {
        b.iter(|| rt.block_on(codec.encode("t", &decision)))
    });
    g.bench_function("decode tier decision", |b| {
        b.iter(|| rt.block_on(codec.decode::<TierDecision>(&decision_bytes)))
    });
    g.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
